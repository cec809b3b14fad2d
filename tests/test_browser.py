"""The widgets in a real browser: JupyterLab + Chromium run the widgets tour and click a Stop button.

Needs Python Playwright and a Chromium binary (Debian: ``apt-get install chromium``; no browser download).
Without them the test is skipped, unless ``EVENTSIM_REQUIRE_BROWSER=1`` (as in CI), where it fails.
JupyterLab runs from this venv on a free port, token disabled, with HOME and every Jupyter directory in a
temporary folder, on a copy of the notebook (so the committed outputs are never overwritten), and is
always shut down at the end.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "extras" / "widgets_tour.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("EVENTSIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
JUPYTER = Path(sys.executable).parent / "jupyter"
START_TIMEOUT_S = 90
RUN_TIMEOUT_MS = 180_000


def _missing():
    """Why the browser test cannot run here, or ``None``."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python Playwright is not installed (pip install playwright)"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if not JUPYTER.exists():
        return f"no jupyter next to {sys.executable}"
    return None


def _need_browser():
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("EVENTSIM_REQUIRE_BROWSER") == "1":
        pytest.fail(f"EVENTSIM_REQUIRE_BROWSER=1 but the browser test cannot run: {reason}")
    pytest.skip(reason)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url, proc, timeout_s, log_path):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = "".join(Path(log_path).read_text().splitlines(True)[-15:])
            raise RuntimeError(f"JupyterLab exited early with code {proc.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url + "api/status", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {timeout_s} s")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of the widgets tour; yields its base URL; stopped afterwards."""
    _need_browser()
    home = tmp_path_factory.mktemp("lab-home")
    work = tmp_path_factory.mktemp("lab-root")
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    config = home / "jupyter-config"
    (config / "labconfig").mkdir(parents=True)
    # the "news" toast of a first start would cover the page
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    env = dict(os.environ, HOME=str(home), JUPYTER_CONFIG_DIR=str(config),
               JUPYTER_DATA_DIR=str(home / "jupyter-data"), JUPYTER_RUNTIME_DIR=str(home / "jupyter-runtime"),
               IPYTHONDIR=str(home / "ipython"), MPLBACKEND="module://matplotlib_inline.backend_inline",
               PATH=f"{JUPYTER.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    port = _free_port()
    log = open(home / "jupyterlab.log", "w")
    proc = subprocess.Popen(
        [str(JUPYTER), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1", f"--ServerApp.root_dir={work}",
         "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
         "--LabApp.expose_app_in_browser=True", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False", "--allow-root"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_server(url, proc, START_TIMEOUT_S, home / "jupyterlab.log")
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


@pytest.fixture
def page(lab):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            context.set_default_timeout(60_000)
            yield context.new_page()
        finally:
            browser.close()


def _run_all_cells(page, url):
    page.goto(f"{url}lab/tree/{NOTEBOOK.name}")
    page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')")
    # wait for the kernel, clear the committed outputs, then run every cell with JupyterLab's own commands
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
                   const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
                   return k && k.status === 'idle'; }""", timeout=RUN_TIMEOUT_MS)
    page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].every(p => !/\\d/.test(p.textContent))")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => {
             const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
             return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
           }""", timeout=RUN_TIMEOUT_MS)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert errors.count() == 0, errors.first.inner_text()


def test_clusterview_stop_button_elects_a_new_leader(lab, page):
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        _stop_the_leader(page, lab)
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / "browser-failure.png"), full_page=True)
        raise


def _stop_the_leader(page, lab):
    _run_all_cells(page, lab)
    view = page.locator(".widget-vbox", has=page.locator(".es-cluster")).first
    view.scroll_into_view_if_needed()
    column = view.locator("[data-broker]:has([data-tp='orders-0'][data-role='lead'])")
    old = int(column.get_attribute("data-broker"))
    view.get_by_role("button", name=f"Stop broker {old}").click()
    # the kernel handles the click: the view redraws with another broker leading orders-0
    new_leader = view.locator(f"[data-broker]:not([data-broker='{old}']) [data-tp='orders-0'][data-role='lead']")
    new_leader.wait_for(timeout=30_000)
    assert "new leader" in new_leader.inner_text()
    assert view.get_by_role("button", name=f"Start broker {old}").is_visible()
    assert f"orders-0: leader {old} \u2192" in view.locator(".es-log").inner_text()
    view.screenshot(path=str(ARTIFACTS / "clusterview-failover.png"))
