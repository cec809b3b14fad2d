"""The ``local`` backend: real Apache Kafka brokers and controllers as Java processes on this machine.

``eventsim.connect("local")`` starts the course's cluster shape: **3 brokers** (``process.roles=broker``,
node ids 1, 2, 3, like the simulator's brokers) and a **KRaft controller quorum of 3** dedicated controllers
(``process.roles=controller``, node ids 101, 102, 103, small heaps). ``brokers=1, controllers=1`` is the
light start. Every node listens on a free port of 127.0.0.1 and keeps its data in a temporary directory.
The processes are the real thing (``kafka.Kafka`` from the jars ``make kafka-jars`` fetches from Maven
Central into ``kafka/lib/``, or from an installation named by ``KAFKA_HOME``), configured to behave like
the simulator's defaults:

* ``auto.create.topics.enable=false``: producing to a missing topic fails, it does not create one;
* ``group.initial.rebalance.delay.ms=0``: the first consumer of a group gets its partitions at once;
* ``offsets.topic.replication.factor`` / ``transaction.state.log.replication.factor`` = min(3, N) and
  ``transaction.state.log.min.isr`` = min(2, N), so a 1-broker cluster works at all;
* ``min.insync.replicas=1``, ``unclean.leader.election.enable=false`` (Kafka's defaults, stated here);
* ``log.retention.check.interval.ms``, ``log.cleaner.backoff.ms`` and the delay before the first check
  short (see :data:`HOUSEKEEPING`), so ``run_retention_now()`` / ``run_log_cleaner_now()`` only have to
  wait a moment for the broker to act.

The control surface (``eventsim.backends.base.CONTROL_METHODS``) with real mechanisms:
``stop_broker(id)`` kills the broker's JVM (SIGKILL, a crash) or, with ``clean=True``, sends SIGTERM for a
controlled shutdown; both return once the controller has moved leadership off that broker.
``pause_broker(id)`` / ``resume_broker(id)`` send SIGSTOP / SIGCONT (a frozen process, as in a long GC
pause). ``stop_controller(id)`` / ``start_controller(id)`` kill and restart a controller. The network
faults (``isolate_broker``, ``slow_broker``, ``drop_responses``) need the simulator.

No process outlives its handle: ``close()`` kills the process groups and deletes the data; the same happens
when the handle is garbage-collected and at interpreter (kernel) exit, and on Linux each node also gets
SIGKILL if the Python process that started it dies (``setpriv --pdeathsig``).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

from .base import BackendError, BackendUnavailable
from .kraft import (HOUSEKEEPING, SHARED_BROKER_SETTINGS, KRaftCluster, free_ports, new_cluster_id,  # noqa: F401
                    node_ids, simulator_like_config)

#: ``kafka/`` of the source tree: pom.xml, log4j2.properties and (after ``make kafka-jars``) lib/.
KAFKA_DIR = Path(__file__).resolve().parents[2] / "kafka"
LOG4J_CONFIG = KAFKA_DIR / "log4j2.properties"

#: JVM options: a small heap, the serial collector and the C1 compiler only, which start a broker fastest
#: on a 2-core machine. Override with EVENTSIM_KAFKA_JVM_OPTS or ``jvm_opts=``. A controller only keeps
#: the metadata log: it gets a smaller heap (the first option replaced by :data:`CONTROLLER_HEAP`).
DEFAULT_JVM_OPTS = ("-Xmx384m", "-Xms128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
                    "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true")
CONTROLLER_HEAP = ("-Xmx192m", "-Xms64m")

MIN_JAVA = 17

_HOW_TO_INSTALL = (
    "Install a Java runtime ({java}+, e.g. `apt-get install openjdk-17-jre-headless`) and Maven, then run "
    "`make kafka-jars` in the project directory to fetch the Kafka broker jars from Maven Central into "
    "kafka/lib/ (or set KAFKA_HOME to an Apache Kafka 4.x installation). Everything in the course also runs "
    "on the simulator: eventsim.connect(\"sim\"), or EVENTSIM_BACKEND=sim.")


# -- finding Java and the broker jars ----------------------------------------------------------------
def find_java(env=None):
    """Path of a ``java`` of version >= 17: ``$JAVA_HOME/bin/java`` if set, else the first on ``PATH``."""
    env = os.environ if env is None else env
    home = env.get("JAVA_HOME")
    candidates = [os.path.join(home, "bin", "java")] if home else []
    on_path = shutil.which("java", path=env.get("PATH", ""))
    candidates += [on_path] if on_path else []
    java = next((c for c in candidates if os.path.isfile(c) and os.access(c, os.X_OK)), None)
    if java is None:
        raise BackendUnavailable(
            "The 'local' backend runs real Apache Kafka brokers as Java processes, but no Java runtime was "
            "found (looked in $JAVA_HOME/bin and on PATH). " + _HOW_TO_INSTALL.format(java=MIN_JAVA))
    version = java_version(java)
    if version is not None and version < MIN_JAVA:
        raise BackendUnavailable(
            "The 'local' backend needs Java %d or newer for Kafka 4.x brokers, but %s is Java %d. "
            % (MIN_JAVA, java, version) + _HOW_TO_INSTALL.format(java=MIN_JAVA))
    return java


def java_version(java):
    """The major version ``java -version`` reports (17 for "17.0.15"), or None if it cannot be read."""
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def find_kafka_libs(env=None):
    """``(directory of jars, Kafka version)``: ``$KAFKA_HOME/libs`` if set, else ``kafka/lib``."""
    env = os.environ if env is None else env
    home = env.get("KAFKA_HOME")
    libdir = Path(home) / "libs" if home else KAFKA_DIR / "lib"
    jars = sorted(libdir.glob("kafka_2.13-*.jar")) if libdir.is_dir() else []
    jars = [j for j in jars if not re.search(r"-(test|sources|javadoc)\.jar$", j.name)]
    if not jars:
        where = "$KAFKA_HOME/libs (%s)" % libdir if home else str(libdir)
        raise BackendUnavailable(
            "The 'local' backend needs the Apache Kafka broker jars, but %s has no kafka_2.13-*.jar. "
            % where + _HOW_TO_INSTALL.format(java=MIN_JAVA))
    version = re.match(r"kafka_2\.13-(.+)\.jar$", jars[-1].name).group(1)
    return libdir, version


# -- one KRaft node ----------------------------------------------------------------------------------
def node_config(node_id, ports, controller_ids, data_dir, n_brokers):
    """``server.properties`` of one node: a broker (``process.roles=broker``) or, if ``node_id`` is in
    ``controller_ids``, a dedicated KRaft controller (``process.roles=controller``).

    ``ports`` maps node id -> its one port (the client port of a broker, the Raft port of a controller).
    The controller quorum is static (``controller.quorum.voters``), so ``StorageTool format`` needs no
    ``--standalone`` flag.
    """
    voters = ",".join("%d@127.0.0.1:%d" % (i, ports[i]) for i in sorted(controller_ids))
    config = {"node.id": node_id, "controller.quorum.voters": voters, "controller.listener.names": "CONTROLLER",
              "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
              "log.dirs": str(data_dir)}
    if node_id in controller_ids:
        config.update({"process.roles": "controller", "listeners": "CONTROLLER://127.0.0.1:%d" % ports[node_id]})
    else:
        config.update({"process.roles": "broker", "listeners": "PLAINTEXT://127.0.0.1:%d" % ports[node_id],
                       "advertised.listeners": "PLAINTEXT://127.0.0.1:%d" % ports[node_id],
                       "inter.broker.listener.name": "PLAINTEXT"})
    config.update(simulator_like_config(n_brokers))
    return config


def copy_formatted_storage(formatted, target, node_id, controller):
    """Give node ``node_id`` the storage ``StorageTool format`` wrote for another node of the cluster:
    the same ``meta.properties`` with this node's ``node.id`` and a ``directory.id`` of its own, and, for a
    controller, the same bootstrap checkpoint of the metadata log (the cluster's feature levels, identical
    on every node formatted with the same cluster id and release)."""
    target.mkdir(parents=True, exist_ok=True)
    meta = {}
    for line in (formatted / "meta.properties").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            meta[key] = value
    meta.update({"node.id": str(node_id), "directory.id": new_cluster_id()})
    write_properties(target / "meta.properties", meta)
    if controller:
        (target / "__cluster_metadata-0").mkdir(exist_ok=True)
        for checkpoint in (formatted / "__cluster_metadata-0").glob("*.checkpoint"):
            shutil.copy2(checkpoint, target / "__cluster_metadata-0" / checkpoint.name)


def write_properties(path, config):
    path.write_text("".join("%s=%s\n" % (k, v) for k, v in config.items()))


_CAUSE_MARKERS = ("ConfigException", "Invalid value", "Exception in thread", "ERROR", "Error:")


def explain_output(text, lines=25):
    """The lines of a broker's output that say what went wrong (config errors, exceptions), then its tail.

    A JVM stack trace can push the one line that matters (e.g. ``Invalid value x for configuration y``)
    out of a plain tail, so those lines are quoted first."""
    all_lines = text.splitlines()
    causes = [line for line in all_lines if any(m in line for m in _CAUSE_MARKERS)][:5]
    tail = all_lines[-lines:]
    head = ["What went wrong:"] + causes + ["", "Last lines:"] if causes else []
    return "\n".join(head + tail)


def log_tail(path, lines=25):
    try:
        return explain_output(Path(path).read_text(errors="replace"), lines)
    except OSError:
        return "(no log)"


class _Processes:
    """The broker processes of one cluster and its data directory.

    Kept apart from the handle so the finalizer (``weakref.finalize``, which also runs at interpreter
    exit) can kill them without keeping the handle alive.
    """

    def __init__(self, data_dir, remove_data):
        self.data_dir = data_dir
        self.remove_data = remove_data
        self.procs = {}

    def kill(self, node_id, sig=signal.SIGKILL, wait=30.0):
        """Signal a node's whole process group and reap it; True if it exited within ``wait`` seconds."""
        proc = self.procs.get(node_id)
        if proc is None:
            return True
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return False
        self.procs.pop(node_id, None)
        return True

    def signal(self, node_id, sig):
        """Send ``sig`` (SIGSTOP, SIGCONT) to a node's process group."""
        try:
            os.killpg(self.procs[node_id].pid, sig)
        except (KeyError, ProcessLookupError):
            pass

    def kill_all(self):
        for node_id in list(self.procs):
            if not self.kill(node_id, signal.SIGKILL, wait=10):
                self.procs.pop(node_id, None)
        if self.remove_data and self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None


def _death_signal_prefix():
    """``setpriv --pdeathsig KILL --``: the kernel kills the broker if the Python process dies.

    Only from the main thread (the parent-death signal fires when the *thread* that started the process
    exits) and only where util-linux's ``setpriv`` exists.
    """
    if threading.current_thread() is not threading.main_thread() or not sys.platform.startswith("linux"):
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


# -- the handle --------------------------------------------------------------------------------------
class LocalKafka(KRaftCluster):
    """A KRaft cluster of real Kafka brokers and controllers on 127.0.0.1 (see the module docstring).

    ``brokers``: 1 or 3 broker nodes; ``controllers``: 1 or 3 dedicated KRaft controllers. ``broker_config``:
    extra/overriding ``server.properties`` entries for every node. ``jvm_opts``: replaces
    :data:`DEFAULT_JVM_OPTS`. ``startup_timeout``: seconds before startup fails with the nodes' log tails.
    ``data_dir``: keep the data there instead of a deleted temporary directory.
    """

    backend = "local"

    def __init__(self, brokers=3, controllers=3, *, broker_config=None, jvm_opts=None, startup_timeout=120.0,
                 data_dir=None, quiet=False):
        for what, n in (("brokers", brokers), ("controllers", controllers)):
            if isinstance(n, bool) or n not in (1, 3):
                raise BackendError("The 'local' backend starts 1 or 3 %s (the course cluster is 3 brokers and a "
                                   "quorum of 3 controllers; a KRaft quorum needs an odd number of "
                                   "controllers); got %s=%r." % (what, what, n))
        self.java = find_java()
        self.libdir, self.kafka_version = find_kafka_libs()
        self.n = brokers
        self.broker_ids, self.controller_ids = node_ids(brokers, controllers)
        self.quiet = quiet
        self.jvm_opts = list(jvm_opts if jvm_opts is not None
                             else shlex.split(os.environ.get("EVENTSIM_KAFKA_JVM_OPTS", ""))
                             or DEFAULT_JVM_OPTS)
        remove = data_dir is None
        root = Path(tempfile.mkdtemp(prefix="eventsim-kafka-") if remove else data_dir)
        root.mkdir(parents=True, exist_ok=True)
        self._procs = _Processes(root, remove)
        self._finalizer = weakref.finalize(self, self._procs.kill_all)
        self.data_dir = root
        self.cluster_id = new_cluster_id()
        nodes = self.broker_ids + self.controller_ids
        self.ports = dict(zip(nodes, free_ports(len(nodes))))
        self.bootstrap_servers = ",".join("127.0.0.1:%d" % self.ports[i] for i in self.broker_ids)
        self._extra = dict(broker_config or {})
        self._init_state()
        self.startup_seconds = None
        try:
            self._start_cluster(startup_timeout)
        except BaseException:
            self.close()
            raise

    # -- files of a node ---------------------------------------------------------------------------
    def node_dir(self, node_id):
        return self.data_dir / ("node-%d" % node_id)

    def log_path(self, node_id):
        """The node's stdout/stderr (log4j2 writes WARN and above, plus the startup lines, there)."""
        return self.node_dir(node_id) / "broker.log"

    def _properties(self, node_id):
        return self.node_dir(node_id) / "server.properties"

    def _java(self, main, *args, controller=False):
        opts = list(CONTROLLER_HEAP) + self.jvm_opts[2:] if controller and self.jvm_opts[:2] == list(
            DEFAULT_JVM_OPTS[:2]) else self.jvm_opts
        cmd = [self.java, *opts, "-cp", str(self.libdir / "*")]
        if LOG4J_CONFIG.is_file():
            cmd.append("-Dlog4j2.configurationFile=%s" % LOG4J_CONFIG)
        return cmd + [main, *args]

    # -- startup -----------------------------------------------------------------------------------
    def _start_cluster(self, timeout):
        began = time.monotonic()
        self._say("Starting Apache Kafka %s (KRaft: %d broker%s, %d controller%s) on 127.0.0.1, data in %s: "
                  % (self.kafka_version, self.n, "s" if self.n > 1 else "", len(self.controller_ids),
                     "s" if len(self.controller_ids) > 1 else "", self.data_dir))
        for i in self.ports:
            self.node_dir(i).mkdir(parents=True, exist_ok=True)
            config = node_config(i, self.ports, self.controller_ids, self.node_dir(i) / "data", self.n)
            config.update(self._extra)
            write_properties(self._properties(i), config)
        self._format_storage()
        self._say("storage formatted, nodes starting")
        for i in self.controller_ids + self.broker_ids:
            self._spawn(i)
        self._wait_until(lambda md: len(md.brokers) == self.n, timeout, "all %d brokers up" % self.n,
                         progress=True)
        self.startup_seconds = time.monotonic() - began
        self._say(" ready in %.1f s\n" % self.startup_seconds)

    def _format_storage(self):
        """``kafka.tools.StorageTool format -t <cluster id> -c server.properties`` for the first controller;
        every other node gets the same files, written here (see :func:`copy_formatted_storage`), which saves
        five JVM starts on a small machine."""
        first = self.controller_ids[0]
        run = subprocess.run(self._java("kafka.tools.StorageTool", "format", "-t", self.cluster_id,
                                        "-c", str(self._properties(first)), controller=True),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        if run.returncode != 0:
            raise BackendError("Formatting the storage of Kafka node %d failed (exit %d):\n%s"
                               % (first, run.returncode, explain_output(run.stdout)))
        for i in self.ports:
            if i != first:
                copy_formatted_storage(self.node_dir(first) / "data", self.node_dir(i) / "data", i,
                                       controller=i in self.controller_ids)

    def _spawn(self, node_id):
        log = open(self.log_path(node_id), "ab")
        try:
            self._procs.procs[node_id] = subprocess.Popen(
                _death_signal_prefix() + self._java("kafka.Kafka", str(self._properties(node_id)),
                                                    controller=node_id in self.controller_ids),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=str(self.node_dir(node_id)), start_new_session=True)
        finally:
            log.close()

    def _raise_if_exited(self, what):
        for i, proc in list(self._procs.procs.items()):
            if proc.poll() is not None:
                raise BackendError("Kafka node %d exited with code %s while waiting for %s. Its log (%s) ends "
                                   "with:\n%s" % (i, proc.returncode, what, self.log_path(i),
                                                  log_tail(self.log_path(i))))

    def _node_logs(self):
        return "\n".join("--- node %d (%s):\n%s" % (i, self.log_path(i), log_tail(self.log_path(i)))
                         for i in self._procs.procs)

    # -- the nodes as processes (the primitives of KRaftCluster) -----------------------------------------
    def _running(self, node_id):
        proc = self._procs.procs.get(node_id)
        return proc is not None and proc.poll() is None

    def _kill_node(self, node_id, clean, timeout):
        """SIGTERM (a controlled shutdown) or SIGKILL; a node that ignores SIGTERM for ``timeout`` s is killed."""
        if not self._procs.kill(node_id, signal.SIGTERM if clean else signal.SIGKILL, wait=timeout):
            self._procs.kill(node_id, signal.SIGKILL)

    def _start_node(self, node_id):
        self._spawn(node_id)

    def _freeze(self, node_id):
        """SIGSTOP: the JVM stops where it is, as in a long GC pause."""
        self._procs.signal(node_id, signal.SIGSTOP)

    def _thaw(self, node_id):
        self._procs.signal(node_id, signal.SIGCONT)

    def _quorum_state(self, node_id):
        try:
            return json.loads((self.node_dir(node_id) / "data" / "__cluster_metadata-0" / "quorum-state").read_text())
        except (OSError, ValueError):
            return None

    def known_brokers(self):
        return [(i, "127.0.0.1", self.ports[i]) for i in self.broker_ids]

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self):
        """Kill every node's process group, wait for them, delete the data. Safe to call twice."""
        self._admin = None
        self._finalizer()

    @property
    def closed(self):
        return not self._finalizer.alive

    def where(self):
        if self.closed:
            return "closed (its brokers were stopped)"
        return ("%d real Apache Kafka %s broker%s and %d KRaft controller%s (JVM processes) at %s"
                % (self.n, self.kafka_version, "s" if self.n > 1 else "", len(self.controller_ids),
                   "s" if len(self.controller_ids) > 1 else "", self.bootstrap_servers))
