"""`make lab` starts JupyterLab on the course notebooks with the simulator backend."""
import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    with urllib.request.urlopen(url, timeout=2) as resp:
        return json.loads(resp.read())


def test_make_lab_serves_the_notebooks_directory(tmp_path):
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"))
    args = f"--no-browser --port={port} --ServerApp.token= --ServerApp.password= --ServerApp.ip=127.0.0.1"
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        listing = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                listing = _get(f"http://127.0.0.1:{port}/api/contents/")
                break
            except OSError:
                time.sleep(0.5)
        assert listing is not None, f"JupyterLab did not answer; make lab exited with {proc.poll()}"
        names = {item["name"] for item in listing["content"]}
        assert "01_events_and_streams.ipynb" in names and "07_failures_replication_scaling.ipynb" in names
        lab_page = urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=5).read().decode()
        assert "JupyterLab" in lab_page
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
