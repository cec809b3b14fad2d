"""What a real KRaft cluster we started ourselves can do, whatever runs its nodes.

The ``local`` backend runs each node as a Java process, the ``testcontainers`` backend as a Docker
container; both start the course's shape (brokers 1..N, dedicated controllers 101..) and offer the same
control surface. This class holds everything that only needs the cluster's metadata, as a client sees it,
and a few primitives a subclass provides for its kind of node:

* ``_running(id)``: the node's process runs (a paused one too);
* ``_kill_node(id, clean, timeout)``: SIGKILL (a crash) or, with ``clean``, SIGTERM (controlled shutdown);
* ``_start_node(id)``: start a stopped node again on its data;
* ``_freeze(id)`` / ``_thaw(id)``: pause / resume the node's process (a long GC pause);
* ``_quorum_state(id)``: the controller's ``__cluster_metadata-0/quorum-state`` file as a dict, or None;
* ``_raise_if_exited(what)`` and ``_node_logs()`` for errors that show what the nodes said;
* ``known_brokers()``: ``[(id, host, port)]`` clients reach the brokers at.

Waiting is on what a client can see: ``stop_broker`` returns once no partition names the stopped broker as
leader (after a crash that takes about ``broker.session.timeout.ms``), ``start_broker`` once the broker is
back in the ISR of its partitions, ``stop_controller`` once the quorum has an active controller again.
"""
from __future__ import annotations

import base64
import socket
import time
import uuid

from ..cluster import COURSE_BROKER_SETTINGS
from ..errors import KafkaError, KafkaException
from .base import RealKafkaBackend, _check_id

# -- the course's cluster shape and settings ----------------------------------------------------------
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




class KRaftCluster(RealKafkaBackend):
    """A KRaft cluster of brokers ``broker_ids`` and controllers ``controller_ids`` (module docstring)."""

    broker_ids = ()
    controller_ids = ()
    n = 0

    def _init_state(self):
        self._admin = None
        self.paused = set()

    # -- primitives (subclasses) ---------------------------------------------------------------------
    def _running(self, node_id):
        raise NotImplementedError

    def _kill_node(self, node_id, clean, timeout):
        raise NotImplementedError

    def _start_node(self, node_id):
        raise NotImplementedError

    def _freeze(self, node_id):
        raise NotImplementedError

    def _thaw(self, node_id):
        raise NotImplementedError

    def _quorum_state(self, node_id):
        raise NotImplementedError

    def _raise_if_exited(self, what):
        raise NotImplementedError

    def _node_logs(self):
        """``"--- node 1 (where):\\n<its last lines>"`` for every node, for a timeout's message."""
        raise NotImplementedError

    def known_brokers(self):
        raise NotImplementedError

    # -- waiting on the cluster ----------------------------------------------------------------------
    def _say(self, text, end=""):
        if not self.quiet:
            print(text, end=end, flush=True)

    def _timed_out(self, timeout, what):
        from .base import BackendError
        return BackendError("Timed out after %.0f s waiting for %s on the %s Kafka cluster. The nodes' logs "
                            "end with:\n%s" % (timeout, what, self.backend, self._node_logs()))

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

    def admin_client(self):
        """The handle's own AdminClient (for snapshots and waiting on metadata)."""
        if self._admin is None:
            # log_level 0: the "connection refused" lines while brokers start or are stopped are expected.
            self._admin = self.admin({"socket.connection.setup.timeout.ms": 2000,
                                      "reconnect.backoff.max.ms": 500, "log_level": 0})
        return self._admin

    # -- state -------------------------------------------------------------------------------------
    def alive_brokers(self):
        """Broker ids whose process runs (paused ones included: a frozen process is still running)."""
        return [i for i in self.broker_ids if self._running(i)]

    def alive_controllers(self):
        return [i for i in self.controller_ids if self._running(i)]

    def has_quorum(self):
        """A majority of the controllers runs (controllers are never paused)."""
        return len(self.alive_controllers()) * 2 > len(self.controller_ids)

    def active_controller(self):
        """The KRaft quorum leader, read from the running controllers' ``quorum-state`` (the file each
        voter rewrites when it learns of a new leader); ``None`` without a majority."""
        if not self.has_quorum():
            return None
        alive = self.alive_controllers()
        best = (-1, None)
        for i in alive:
            state = self._quorum_state(i) or {}
            leader, epoch = state.get("leaderId", -1), state.get("leaderEpoch", -1)
            if epoch > best[0]:
                best = (epoch, leader)
        return best[1] if best[1] in alive else None

    def controllers_snapshot(self):
        active = self.active_controller()
        return [{"id": i, "alive": self._running(i), "active": i == active} for i in self.controller_ids]

    def snapshot(self, records=False, max_records=20, include_internal=False):
        """The snapshot dict (docs/architecture.md), built with the AdminClient; see ``realsnapshot``."""
        from . import realsnapshot
        controllers = self.controllers_snapshot()
        active = next((c["id"] for c in controllers if c["active"]), None)
        return realsnapshot.snapshot(realsnapshot.fresh_admin(self.client_conf()), backend=self.backend,
                                     client_conf=self.client_conf(), known_brokers=self.known_brokers(),
                                     controller=active, controllers=controllers, paused=sorted(self.paused),
                                     records=records, max_records=max_records, include_internal=include_internal)

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
        self._kill_node(broker_id, clean and not was_paused, timeout)
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
        self._start_node(broker_id)
        if wait and self.has_quorum():
            self._wait_rejoined(broker_id, timeout)

    def _wait_rejoined(self, broker_id, timeout):
        def rejoined(md):
            return broker_id in md.brokers and all(
                broker_id in pm.isrs for tm in md.topics.values() for pm in tm.partitions.values()
                if broker_id in pm.replicas and pm.leader >= 0)
        self._wait_until(rejoined, timeout, "broker %d to rejoin the ISR of its partitions" % broker_id)

    def pause_broker(self, broker_id):
        """Freeze a broker's process (a long GC pause): it answers nothing and sends no heartbeat; after
        ``broker.session.timeout.ms`` the controller fences it and moves its leaderships."""
        self._check_node("broker", broker_id, running=True)
        if broker_id in self.paused:
            raise KafkaException(KafkaError(KafkaError._STATE, reason="broker %d is already paused" % broker_id))
        self._freeze(broker_id)
        self.paused.add(broker_id)

    def resume_broker(self, broker_id, wait=True, timeout=90.0):
        """The broker runs again, heartbeats, and (if it was fenced) registers and catches up; with
        ``wait=True`` return once it is back in the ISR of its partitions."""
        _check_id("broker", broker_id, self.broker_ids)
        if broker_id not in self.paused:
            raise KafkaException(KafkaError(KafkaError._STATE, reason="broker %d is not paused (it is %s)"
                                            % (broker_id, "running" if self._running(broker_id) else "stopped")))
        self._thaw(broker_id)
        self.paused.discard(broker_id)
        if wait and self.has_quorum():
            self._wait_rejoined(broker_id, timeout)

    def stop_controller(self, controller_id, wait=True, timeout=60.0):
        """Kill a controller (SIGKILL). If it was the active one and a majority is left, with ``wait=True``
        return once the others have elected a new active controller."""
        self._check_node("controller", controller_id, running=True)
        self._kill_node(controller_id, False, timeout)
        if wait and self.has_quorum():
            self._wait_for_active(timeout)

    def start_controller(self, controller_id, wait=True, timeout=60.0):
        """Restart a controller on its metadata log; with ``wait=True`` and a majority now running, return
        once the quorum has an active controller."""
        self._check_node("controller", controller_id, running=False)
        self._start_node(controller_id)
        if wait and self.has_quorum():
            self._wait_for_active(timeout)

    def _wait_for_active(self, timeout):
        deadline = time.monotonic() + timeout
        while self.active_controller() is None:
            self._raise_if_exited("an active controller")
            if time.monotonic() > deadline:
                raise self._timed_out(timeout, "an active controller")
            time.sleep(0.2)
