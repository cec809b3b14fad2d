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

import base64
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path

from ..cluster import COURSE_BROKER_SETTINGS
from ..errors import KafkaError, KafkaException
from .base import BackendError, BackendUnavailable, RealKafkaBackend, _check_id

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
def free_ports(count):
    """``count`` distinct free TCP ports on 127.0.0.1 (held open together so none is handed out twice)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def new_cluster_id():
    """A KRaft cluster id: 16 random bytes, base64url without padding (what ``kafka-storage random-uuid`` prints).

    Like Kafka's ``Uuid.randomUuid()``, an id starting with ``-`` is drawn again: on a command line it would
    be read as an option (``kafka-storage format -t -abc...`` fails)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


#: The broker settings the simulator and the real clusters share (one copy:
#: ``eventsim.cluster.COURSE_BROKER_SETTINGS``).
SHARED_BROKER_SETTINGS = tuple(COURSE_BROKER_SETTINGS)

#: How often real brokers apply retention and look for logs to compact. Kafka's defaults (5 min, 15 s)
#: would make ``run_retention_now()`` wait minutes; the simulator runs them on demand instead.
#: ``log.initial.task.delay.ms`` (an internal broker setting, 30 s by default) holds back the first
#: retention check after a broker starts; without lowering it a fresh cluster deletes nothing for 30 s.
HOUSEKEEPING = {"log.retention.check.interval.ms": 1000, "log.cleaner.backoff.ms": 500,
                "log.initial.task.delay.ms": 1000}


def simulator_like_config(n):
    """Node settings shared by the local and testcontainers backends for a cluster of ``n`` brokers.

    The first group makes real Kafka behave like the simulator's defaults (docs/architecture.md); the
    second makes failover faster and the brokers lighter on a small machine without risking data.
    """
    config = dict(COURSE_BROKER_SETTINGS)
    config.update({
        "offsets.topic.replication.factor": min(3, n),
        "transaction.state.log.replication.factor": min(3, n),
        "transaction.state.log.min.isr": min(2, n),
        "share.coordinator.state.topic.replication.factor": min(3, n),
        "share.coordinator.state.topic.min.isr": min(2, n),
        # Faster failover, fewer threads and less memory (10 partitions for the internal topics, not 50).
        "broker.heartbeat.interval.ms": 1000,
        "controller.quorum.election.timeout.ms": 1000,
        "controller.quorum.fetch.timeout.ms": 2000,
        "offsets.topic.num.partitions": 10,
        "transaction.state.log.num.partitions": 10,
        "num.network.threads": 2,
        "num.io.threads": 2,
        "background.threads": 2,
        "num.recovery.threads.per.data.dir": 1,
        "log.cleaner.threads": 1,
        "log.cleaner.dedupe.buffer.size": 16 * 1024 * 1024,
    })
    config.update(HOUSEKEEPING)
    return config


#: Node ids of the course shape: brokers 1..N, controllers 101..100+M (as in the simulator's quorum.py).
FIRST_CONTROLLER_ID = 101


def node_ids(brokers, controllers):
    """``(broker ids, controller ids)`` of a cluster shape."""
    return (tuple(range(1, brokers + 1)),
            tuple(range(FIRST_CONTROLLER_ID, FIRST_CONTROLLER_ID + controllers)))


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
class LocalKafka(RealKafkaBackend):
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
        self._admin = None
        self.paused = set()
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
    def _say(self, text, end=""):
        if not self.quiet:
            print(text, end=end, flush=True)

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

    def _timed_out(self, timeout, what):
        tails = "\n".join("--- node %d (%s):\n%s" % (i, self.log_path(i), log_tail(self.log_path(i)))
                          for i in self._procs.procs)
        return BackendError("Timed out after %.0f s waiting for %s on the local Kafka cluster. The nodes' "
                            "logs end with:\n%s" % (timeout, what, tails))

    def _wait_until(self, condition, timeout, what, progress=False):
        """Poll cluster metadata until ``condition(metadata)`` holds; raise with the log tails if not."""
        deadline = time.monotonic() + timeout
        shown = -1
        while True:
            self._raise_if_exited(what)
            try:
                md = self.admin_client().list_topics(timeout=2)
            except Exception:  # noqa: BLE001 - not reachable yet
                md = None
            if md is not None:
                if progress and len(md.brokers) != shown:
                    shown = len(md.brokers)
                    self._say(" %d/%d" % (shown, self.n))
                if condition(md):
                    return md
            if time.monotonic() > deadline:
                raise self._timed_out(timeout, what)
            time.sleep(0.25)

    # -- clients -----------------------------------------------------------------------------------
    def admin_client(self):
        """The handle's own AdminClient (for snapshots and waiting on metadata)."""
        if self._admin is None:
            # log_level 0: the "connection refused" lines while brokers start or are stopped are expected.
            self._admin = self.admin({"socket.connection.setup.timeout.ms": 2000,
                                      "reconnect.backoff.max.ms": 500, "log_level": 0})
        return self._admin

    # -- state -------------------------------------------------------------------------------------
    def _running(self, node_id):
        proc = self._procs.procs.get(node_id)
        return proc is not None and proc.poll() is None

    def alive_brokers(self):
        """Broker ids whose process runs (paused ones included: a frozen process is still running)."""
        return [i for i in self.broker_ids if self._running(i)]

    def alive_controllers(self):
        return [i for i in self.controller_ids if self._running(i)]

    def has_quorum(self):
        """A majority of the controllers runs (and none of them is paused: controllers are never paused)."""
        return len(self.alive_controllers()) * 2 > len(self.controller_ids)

    def active_controller(self):
        """The KRaft quorum leader, read from the running controllers' ``__cluster_metadata-0/quorum-state``
        (the file each voter rewrites when it learns of a new leader); ``None`` without a majority."""
        if not self.has_quorum():
            return None
        best = (-1, None)
        for i in self.alive_controllers():
            try:
                state = json.loads((self.node_dir(i) / "data" / "__cluster_metadata-0" / "quorum-state")
                                   .read_text())
            except (OSError, ValueError):
                continue
            leader, epoch = state.get("leaderId", -1), state.get("leaderEpoch", -1)
            if epoch > best[0]:
                best = (epoch, leader)
        return best[1] if best[1] in self.alive_controllers() else None

    def controllers_snapshot(self):
        active = self.active_controller()
        return [{"id": i, "alive": self._running(i), "active": i == active} for i in self.controller_ids]

    def snapshot(self, records=False, max_records=20, include_internal=False):
        """The snapshot dict (docs/architecture.md), built with the AdminClient; see ``realsnapshot``."""
        from . import realsnapshot
        known = [(i, "127.0.0.1", self.ports[i]) for i in self.broker_ids]
        controllers = self.controllers_snapshot()
        active = next((c["id"] for c in controllers if c["active"]), None)
        return realsnapshot.snapshot(realsnapshot.fresh_admin(self.client_conf()), backend=self.backend,
                                     client_conf=self.client_conf(), known_brokers=known, controller=active,
                                     controllers=controllers, paused=sorted(self.paused), records=records,
                                     max_records=max_records, include_internal=include_internal)

    # -- housekeeping --------------------------------------------------------------------------------
    def run_retention_now(self, timeout=10.0):
        """Wait until the brokers have run their retention check (every
        ``log.retention.check.interval.ms`` = 1 s here) and return ``{"topic-partition": (old, new)}`` of
        the log start offsets that moved meanwhile."""
        from . import housekeeping
        return housekeeping.wait_for_retention(self.admin_client(), HOUSEKEEPING["log.retention.check.interval.ms"],
                                               timeout)

    def run_log_cleaner_now(self, timeout=15.0):
        """Wait until the log cleaner has compacted what it can (it looks every ``log.cleaner.backoff.ms``
        = 0.5 s here); return ``{"topic-partition": records removed}``."""
        from . import housekeeping
        return housekeeping.wait_for_compaction(self.admin_client(), self.client_conf(), timeout)

    # -- faults ------------------------------------------------------------------------------------
    def _check_node(self, kind, node_id, running):
        """The simulator's errors for a bad id (``_INVALID_ARG``) or state (``_STATE``)."""
        _check_id(kind, node_id, self.broker_ids if kind == "broker" else self.controller_ids)
        if self._running(node_id) != running:
            raise KafkaException(KafkaError(KafkaError._STATE, reason="%s %d is already %s"
                                            % (kind, node_id, "stopped" if running else "running")))

    def stop_broker(self, broker_id, clean=False, wait=True, timeout=60.0):
        """Stop a broker: SIGKILL (a crash, ``clean=False``) or SIGTERM (controlled shutdown, ``clean=True``).

        With ``wait=True`` this returns when the controller has fenced the broker and no partition names it
        as leader any more (after a crash that takes about ``broker.session.timeout.ms`` = 9 s), so what a
        notebook shows next is the state after failover. ``wait=False`` returns as soon as the process is
        gone, in the window where clients still try the old leader. Without a controller majority no
        failover can happen, so nothing is waited for. A paused broker is killed (clean or not).
        """
        self._check_node("broker", broker_id, running=True)
        wait = wait and self.has_quorum()
        groups = self._group_ids(self.admin_client()) if wait else set()
        was_paused = broker_id in self.paused
        self.paused.discard(broker_id)
        if not self._procs.kill(broker_id, signal.SIGTERM if clean and not was_paused else signal.SIGKILL,
                                wait=timeout):
            self._procs.kill(broker_id, signal.SIGKILL)
        if not wait or not self.alive_brokers():
            return
        self._wait_until(lambda md: self._moved_off(md, broker_id), timeout,
                         "leadership to move off broker %d" % broker_id)
        self._wait_for_groups(groups, timeout)

    @staticmethod
    def _moved_off(md, broker_id):
        return broker_id not in md.brokers and not any(
            pm.leader == broker_id for tm in md.topics.values() for pm in tm.partitions.values())

    @staticmethod
    def _group_ids(admin):
        try:
            listing = admin.list_consumer_groups(request_timeout=10).result(timeout=10)
        except Exception:  # noqa: BLE001 - only used to know when the coordinators have settled
            return set()
        return {g.group_id for g in listing.valid}

    def _wait_for_groups(self, groups, timeout):
        """After a failover the new group coordinators load their groups from ``__consumer_offsets``; until
        then ``ListGroups`` leaves them out. Wait (bounded) until every group known before is listed again."""
        from .realsnapshot import fresh_admin
        admin = fresh_admin(self.client_conf()) if groups else None   # current metadata, see fresh_admin
        deadline = time.monotonic() + timeout
        while groups and not groups <= self._group_ids(admin) and time.monotonic() < deadline:
            time.sleep(0.2)

    def start_broker(self, broker_id, wait=True, timeout=90.0):
        """Restart a stopped broker on its data; with ``wait=True`` return once it is registered again and
        back in the ISR of every partition it replicates (those with a leader to catch up from). Without a
        controller majority it cannot register, so nothing is waited for."""
        self._check_node("broker", broker_id, running=False)
        self._spawn(broker_id)
        if wait and self.has_quorum():
            self._wait_rejoined(broker_id, timeout)

    def _wait_rejoined(self, broker_id, timeout):
        def rejoined(md):
            return broker_id in md.brokers and all(
                broker_id in pm.isrs for tm in md.topics.values() for pm in tm.partitions.values()
                if broker_id in pm.replicas and pm.leader >= 0)
        self._wait_until(rejoined, timeout, "broker %d to rejoin the ISR of its partitions" % broker_id)

    def pause_broker(self, broker_id):
        """Freeze a broker's JVM with SIGSTOP (a long GC pause): it answers nothing and sends no heartbeat;
        after ``broker.session.timeout.ms`` the controller fences it and moves its leaderships."""
        self._check_node("broker", broker_id, running=True)
        if broker_id in self.paused:
            raise KafkaException(KafkaError(KafkaError._STATE, reason="broker %d is already paused" % broker_id))
        self._procs.signal(broker_id, signal.SIGSTOP)
        self.paused.add(broker_id)

    def resume_broker(self, broker_id, wait=True, timeout=90.0):
        """SIGCONT: the broker runs again, heartbeats, and (if it was fenced) registers and catches up; with
        ``wait=True`` return once it is back in the ISR of its partitions."""
        _check_id("broker", broker_id, self.broker_ids)
        if broker_id not in self.paused:
            raise KafkaException(KafkaError(KafkaError._STATE, reason="broker %d is not paused (it is %s)"
                                            % (broker_id, "running" if self._running(broker_id) else "stopped")))
        self._procs.signal(broker_id, signal.SIGCONT)
        self.paused.discard(broker_id)
        if wait and self.has_quorum():
            self._wait_rejoined(broker_id, timeout)

    def stop_controller(self, controller_id, wait=True, timeout=60.0):
        """Kill a controller (SIGKILL). If it was the active one and a majority is left, with ``wait=True``
        return once the others have elected a new active controller."""
        self._check_node("controller", controller_id, running=True)
        self._procs.kill(controller_id, signal.SIGKILL)
        if wait and self.has_quorum():
            self._wait_for_active(timeout)

    def start_controller(self, controller_id, wait=True, timeout=60.0):
        """Restart a controller on its metadata log; with ``wait=True`` and a majority now running, return
        once the quorum has an active controller."""
        self._check_node("controller", controller_id, running=False)
        self._spawn(controller_id)
        if wait and self.has_quorum():
            self._wait_for_active(timeout)

    def _wait_for_active(self, timeout):
        deadline = time.monotonic() + timeout
        while self.active_controller() is None:
            self._raise_if_exited("an active controller")
            if time.monotonic() > deadline:
                raise self._timed_out(timeout, "an active controller")
            time.sleep(0.2)

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
