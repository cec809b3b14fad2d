"""The watchdog of a ``testcontainers`` handle: ``python -m eventsim.backends.docker_reaper PID HANDLE_ID``.

Started by the handle in a session of its own, it checks once a second whether process ``PID`` (the Python
process that started the containers, e.g. a Jupyter kernel) is still alive. When it is gone, killed or
crashed without running its finalizers, the watchdog removes every container and network labelled
``org.eventsim.handle=HANDLE_ID`` and exits. ``close()`` on the handle removes them itself and ends the
watchdog. It does the job testcontainers' Ryuk container does, without an image from a registry.
"""
from __future__ import annotations

import os
import sys
import time

LABEL = "org.eventsim.handle"


def alive(pid):
    """True while ``pid`` runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def remove_labelled(client, handle_id):
    """Remove the containers (with their volumes) and then the networks labelled with ``handle_id``."""
    selector = {"label": "%s=%s" % (LABEL, handle_id)}
    for container in client.containers.list(all=True, filters=selector):
        try:
            container.remove(force=True, v=True)
        except Exception:  # noqa: BLE001 - already gone
            pass
    for network in client.networks.list(filters=selector):
        try:
            network.remove()
        except Exception:  # noqa: BLE001
            pass


def main(argv):
    pid, handle_id = int(argv[0]), argv[1]
    while alive(pid):
        time.sleep(1.0)
    import docker
    client = docker.from_env(timeout=60)
    remove_labelled(client, handle_id)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
