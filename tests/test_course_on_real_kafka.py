"""The whole course on real Kafka: every notebook and every lab solution, top to bottom, in a fresh kernel
with ``EVENTSIM_BACKEND=local``, so each one starts its own cluster of the course shape (3 brokers, 3
controllers) as Java processes; the seven notebooks again with ``EVENTSIM_BACKEND=testcontainers``, in
Docker containers. A cell that writes an error output, or a kernel that dies, fails the test.

The stored outputs stay the simulator's (nbval compares those); on real Kafka timings and member ids differ,
so only the absence of errors is checked here, plus that the notebook really ran on the real backend.
Also: a kernel killed with SIGKILL leaves no Kafka JVM behind.
"""
from __future__ import annotations

import os
import pathlib
import signal
import time

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb")) + sorted((ROOT / "solutions").glob("lab*.ipynb"))


def _errors(nb):
    return [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def _execute(path, backend, env=None):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=420, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    env = dict(env or {}, EVENTSIM_BACKEND=backend)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        client.execute()
    except DeadKernelError as exc:
        pytest.fail("the kernel died running %s on %s: %s" % (path.name, backend, exc), pytrace=False)
    except CellExecutionError as exc:
        pytest.fail("%s on the %r backend: a cell failed:\n%s" % (path.name, backend, str(exc)[-3000:]),
                    pytrace=False)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def _text(nb):
    out = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            out.append("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")))
    return "\n".join(out)


@pytest.mark.kafka
@pytest.mark.timeout(600)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_runs_clean_on_the_local_backend(path):
    nb = _execute(path, "local")
    assert _errors(nb) == []
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    if "eventsim.connect()" in source:      # the local backend says so when it starts the cluster
        assert "Starting Apache Kafka" in _text(nb), "%s did not run on the local backend" % path.name


COURSE_NOTEBOOKS = [p for p in NOTEBOOKS if p.parent.name == "notebooks"]


@pytest.mark.docker
@pytest.mark.timeout(600)
@pytest.mark.parametrize("path", COURSE_NOTEBOOKS, ids=[p.name for p in COURSE_NOTEBOOKS])
def test_runs_clean_on_the_testcontainers_backend(path):
    """The same notebooks with ``EVENTSIM_BACKEND=testcontainers``: each starts the course's cluster in
    Docker containers (the image CI builds with ``make kafka-image``)."""
    nb = _execute(path, "testcontainers")
    assert _errors(nb) == []
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    if "eventsim.connect()" in source:
        assert "Starting Apache Kafka in Docker" in _text(nb), "%s did not run in Docker" % path.name


@pytest.mark.kafka
@pytest.mark.timeout(600)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_runs_clean_on_a_shared_external_cluster(path, local_kafka, unique_name):
    """The workshop route: a cluster run by someone else (here the session's local one) reached with
    ``EVENTSIM_BACKEND=external``. Every name is namespaced per learner, so notebooks that reuse topic
    names do not collide; every fault cell prints one line saying it skipped."""
    namespace = unique_name("learner")
    nb = _execute(path, "external", {"KAFKA_BOOTSTRAP_SERVERS": local_kafka.bootstrap_servers,
                                     "EVENTSIM_NAMESPACE": namespace})
    assert _errors(nb) == []
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    if "kafka.supports(" in source:
        assert "Skipped on the 'external' backend" in _text(nb)
    if "eventsim.connect()" in source:
        topics = local_kafka.admin_client().list_topics(timeout=10).topics
        assert any(t.startswith(namespace) for t in topics), "no topic of %s was namespaced" % path.name


@pytest.mark.kafka
@pytest.mark.timeout(300)
def test_a_killed_kernel_leaves_no_kafka_process():
    """Kill the kernel that started a cluster with SIGKILL: no finalizer runs, yet every JVM goes
    (each node is started with a parent-death signal)."""
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        reply = kc.execute_interactive(
            "import eventsim\n"
            "k = eventsim.connect('local', brokers=1, controllers=1, quiet=True)\n"
            "print('PIDS', *[p.pid for p in k._procs.procs.values()])", timeout=240,
            output_hook=lambda msg: _collect(msg))
        assert reply["content"]["status"] == "ok", reply["content"]
        pids = [int(x) for x in _COLLECTED[-1].split()[1:]]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        os.kill(km.provisioner.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(p) for p in pids), "Kafka JVMs outlived their killed kernel"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


_COLLECTED = []


def _collect(msg):
    if msg["msg_type"] == "stream" and "PIDS" in msg["content"]["text"]:
        _COLLECTED.append(msg["content"]["text"].strip().splitlines()[-1])


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:     # a zombie (exited, not yet reaped by its dead parent's reaper) counts as gone
        return pathlib.Path("/proc/%d/stat" % pid).read_text().split()[2] != "Z"
    except OSError:
        return False
