"""``Consumer``: reads records from partitions, alone (``assign``) or in a consumer group (``subscribe``).

The API is confluent-kafka's ``Consumer`` (librdkafka underneath), so the same code runs on real Kafka::

    c = eventsim.Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": "billing",
                           "auto.offset.reset": "earliest"})
    c.subscribe(["orders"])
    msg = c.poll(1.0)

How it models librdkafka:

* **Virtual time.** ``poll(timeout)`` returns at once if a record or event is ready; otherwise it runs
  the cluster's clock forward until one is, or until ``timeout`` *virtual* seconds have passed. Nothing
  sleeps. An infinite timeout (left out, or negative) waits at most ``INFINITE_WAIT_MS`` of virtual time, so
  a notebook cell never hangs; an empty ``poll(0)`` lets 1 ms pass (:mod:`eventsim.timeouts`).
* **Background work** that librdkafka does in its own threads is a set of timers on the cluster clock, so
  it also runs while another client's ``poll()`` (or ``cluster.advance()``) moves time: heartbeats
  (``heartbeat.interval.ms``), auto-commit (``enable.auto.commit``, every ``auto.commit.interval.ms``),
  metadata refresh (``topic.metadata.refresh.interval.ms``: new topics, new partitions) and the
  ``max.poll.interval.ms`` check.
* **Rebalance callbacks** (``on_assign``, ``on_revoke``, ``on_lost``) run inside the application's
  ``poll()``/``consume()``, as librdkafka serves them. With the eager assignors (``range``,
  ``roundrobin``) a member revokes everything and only then rejoins, so a consumer that does not poll holds
  up the rebalance until ``max.poll.interval.ms``. With ``cooperative-sticky`` only moved partitions are
  revoked.
* **Offsets.** The *position* is the next offset to read; a committed offset is the next offset to read
  too (``commit(message=m)`` commits ``m.offset() + 1``). With ``enable.auto.offset.store`` (default) the
  offset of every message ``poll()`` hands out is *stored*, and auto-commit or ``commit()`` without
  arguments commits the stored offsets. A partition without a committed offset starts where
  ``auto.offset.reset`` says (``latest`` by default); so does a position that has fallen out of the log
  (retention moved the log start, or ``seek()`` went past the end), exactly as librdkafka's next fetch
  does: with ``auto.offset.reset=error`` the application gets an ``_AUTO_OFFSET_RESET`` error instead.
* **Leader changes.** A fetch answered with ``NOT_LEADER_OR_FOLLOWER``, ``LEADER_NOT_AVAILABLE`` or a
  connection failure makes the consumer refresh its metadata and retry after ``retry.backoff.ms``;
  librdkafka never shows these errors to the application and neither does this class.

Simplification: librdkafka prefetches records in the background; here a partition is fetched when the
application polls (and has nothing buffered for it). The records, offsets and errors the application sees
are the same. Kafka's broker holds an empty fetch until data arrives (long poll); here ``poll()`` notices new
data the moment the partition's high watermark moves.
"""
from __future__ import annotations

import collections
import numbers
import re

from . import config as _config
from . import timeouts
from .assignors import COOPERATIVE, PROTOCOLS
from .cluster import Cluster
from .errors import KafkaError, KafkaException
from .client_identity import ClientIdentity
from .static import fatal_consumer_error, instance_id as static_instance_id
from .message import (OFFSET_BEGINNING, OFFSET_END, OFFSET_INVALID, OFFSET_STORED, Message, TopicPartition,
                      event_message)

# How long an infinite poll()/consume() timeout waits, in virtual milliseconds.
INFINITE_WAIT_MS = 60_000

# Fetch errors librdkafka handles by refreshing metadata and retrying, never shown to the application.
_RETRY_FETCH = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError._TRANSPORT,
                KafkaError.FENCED_LEADER_EPOCH, KafkaError.UNKNOWN_LEADER_EPOCH, KafkaError.REPLICA_NOT_AVAILABLE,
                KafkaError.KAFKA_STORAGE_ERROR, KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError.NOT_ENOUGH_REPLICAS,
                KafkaError.OFFSET_NOT_AVAILABLE, KafkaError.REQUEST_TIMED_OUT}

_PY_CALLBACKS = ("on_commit", "error_cb", "throttle_cb", "stats_cb", "logger", "oauth_cb")


class ConsumerGroupMetadata:
    """What ``consumer_group_metadata()`` returns, for ``Producer.send_offsets_to_transaction``."""

    def __init__(self, group_id, member_id, generation_id, group_instance_id=None):
        self.group_id = group_id
        self.member_id = member_id
        self.generation_id = generation_id
        self.group_instance_id = group_instance_id

    def __repr__(self):
        return f"ConsumerGroupMetadata({self.group_id!r}, member={self.member_id!r}, generation={self.generation_id})"


class _Partition:
    """The consumer's state for one assigned partition (librdkafka's ``rd_kafka_toppar_t``)."""

    def __init__(self, topic, partition, offset):
        self.topic, self.partition = topic, partition
        self.fetch_offset = offset           # next offset to fetch, or a logical offset still to resolve
        self.buffer = collections.deque()    # fetched records not handed to the application yet
        self.app_position = OFFSET_INVALID   # offset of the last message handed out + 1
        self.app_epoch = None                # leader epoch of that message (position()'s leader_epoch)
        self.stored = None                   # offset stored for the next commit
        self.committed = None                # last offset this consumer committed / read as committed
        self.paused = False
        self.stopped = False                 # after an _AUTO_OFFSET_RESET error, until seek()/assign()
        self.reset_failed = False            # librdkafka's FETCH_NONE after that error: seek() is _STATE
        self.eof_reported = False
        self.retry_at = None                 # virtual ms when a backed-off fetch may be retried
        self.leader = None
        self.seen_hwm = None                 # high watermark when this partition was last fetched
        self.low, self.high = OFFSET_INVALID, OFFSET_INVALID
        self.control_end = None              # offset after a transaction marker the last fetch ended with

    @property
    def key(self):
        return (self.topic, self.partition)

    def tp(self, offset=OFFSET_INVALID):
        return TopicPartition(self.topic, self.partition, offset)


def _check_tp_list(partitions, what="requires list of TopicPartition"):
    """confluent-kafka takes a ``list`` of ``TopicPartition`` (a tuple is a ``TypeError`` too)."""
    if not isinstance(partitions, list) or not all(isinstance(p, TopicPartition) for p in partitions):
        raise TypeError(what)
    return list(partitions)


def _valid_start_offset(offset):
    """An offset ``assign()`` takes: absolute (>= 0), ``OFFSET_END`` (-1), ``OFFSET_BEGINNING`` (-2),
    ``OFFSET_STORED`` (-1000), ``OFFSET_INVALID`` (-1001, "the default") or ``OFFSET_TAIL(n)`` (-2000 - n);
    librdkafka refuses every other negative number with ``_INVALID_ARG``."""
    return offset >= 0 or offset in (OFFSET_END, OFFSET_BEGINNING, OFFSET_STORED, OFFSET_INVALID) or offset <= -2000


def _timeout_ms(timeout, minimum_ms=0):
    """Seconds as confluent-kafka takes them -> virtual milliseconds (see :mod:`eventsim.timeouts`)."""
    return timeouts.timeout_ms(timeout, INFINITE_WAIT_MS, minimum_ms)


class Consumer(ClientIdentity):
    """A simulated Kafka consumer (confluent-kafka's ``Consumer`` API; ``cluster_id`` and
    ``set_sasl_credentials`` come from :mod:`eventsim.client_identity`)."""

    def __init__(self, conf=None, **kwargs):
        _config.require_conf_dict(conf, kwargs)
        conf = dict(conf or {}, **kwargs)
        _config.require_group_id(conf)
        self._conf = _config.client_config(conf, "consumer")
        c = self._conf
        self._on_commit = c.get("on_commit")
        self._error_cb = c.get("error_cb")
        self._cluster = Cluster.lookup(c["bootstrap.servers"])
        self._clock = self._cluster.clock
        self._coordinator = self._cluster.groups
        self._group_id = c["group.id"]
        self._client_id = c.get("client.id") or "rdkafka"
        self._instance_id = static_instance_id(conf.get("group.instance.id"), c["group.instance.id"])  # KIP-345
        self._reset = c["auto.offset.reset"]
        self._auto_commit = bool(c["enable.auto.commit"])
        self._auto_commit_ms = int(c["auto.commit.interval.ms"])
        self._auto_store = bool(c["enable.auto.offset.store"])
        self._partition_eof = bool(c["enable.partition.eof"])
        self._isolation = c["isolation.level"]
        self._session_timeout = int(c["session.timeout.ms"])
        self._heartbeat_ms = int(c["heartbeat.interval.ms"])
        self._max_poll_ms = int(c["max.poll.interval.ms"])
        self._backoff_ms = int(c.get("retry.backoff.ms", 100))
        self._metadata_ms = int(c.get("topic.metadata.refresh.interval.ms", 300000))
        self._strategies = _config.assignment_strategies(c)
        unknown = [s for s in self._strategies if s not in PROTOCOLS]
        if unknown:
            raise KafkaException(KafkaError(KafkaError._INVALID_ARG,
                                            reason=f"Unsupported partition.assignment.strategy {unknown[0]!r}"))
        self._cooperative = PROTOCOLS[self._strategies[0]] == COOPERATIVE

        self._closed = False
        self._closing = False                     # close() is running (a callback may call it again)
        self._assignment: dict[tuple, _Partition] = {}
        self._events = collections.deque()        # errors / EOF events for the application, in order
        self._callbacks = collections.deque()     # rebalance and commit callbacks to serve in poll()
        self._serving = None                      # which rebalance callback is running right now
        self._cb_assigned = False
        self._serve_index = 0
        # group membership
        self._subscription = None                 # list of topics / ^patterns, or None
        self._on_assign = self._on_revoke = self._on_lost = None
        self._member_id = ""
        self._generation = -1
        self._joining = False
        self._awaiting_revoke = False
        self._rejoin_epoch = 0
        self._joined_topics = {}                  # topic -> partition count the last join was based on
        self._missing_reported = set()
        # timers
        self._timers = {}
        self._last_poll_ms = self._clock.now_ms
        self._in_poll = False
        if self._auto_commit:
            self._every("auto-commit", self._auto_commit_ms, self._auto_commit_tick, quiet=self._auto_commit_quiet)

    def __repr__(self):
        state = "closed" if self._closed else f"{len(self._assignment)} partition(s) assigned"
        return f"<eventsim.Consumer group={self._group_id!r} member={self._member_id or None!r} {state}>"

    # == timers ===========================================================================================
    def _every(self, name, period_ms, task, quiet=None):
        """A periodic background task. With ``quiet`` (a run now would change nothing) it is housekeeping a
        long idle ``advance()`` may skip over (``idle.py``)."""
        period = period_ms if quiet is not None else None

        def tick():
            if self._closed:
                return
            task()
            if not self._closed and self._timers.get(name) is timer_box[0]:
                timer_box[0] = self._timers[name] = self._clock.schedule(
                    period_ms, tick, f"{self._client_id} {name}", period_ms=period, quiet=quiet)
        timer_box = [None]
        self._cancel(name)
        timer_box[0] = self._timers[name] = self._clock.schedule(period_ms, tick, f"{self._client_id} {name}",
                                                                 period_ms=period, quiet=quiet)

    def _once(self, name, delay_ms, task, quiet=None):
        """A one-off background task; with ``quiet`` it is a retry that re-arms itself every ``delay_ms``
        while ``quiet()`` holds (it would change nothing), which a long idle ``advance()`` may skip over."""
        def fire():
            self._timers.pop(name, None)
            if not self._closed:
                task()
        self._cancel(name)
        self._timers[name] = self._clock.schedule(delay_ms, fire, f"{self._client_id} {name}",
                                                  period_ms=delay_ms if quiet is not None else None, quiet=quiet)

    def _cancel(self, name):
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    def _check_open(self):
        if self._closed:
            raise RuntimeError("Consumer closed")

    # == subscribe / group membership ===================================================================
    def subscribe(self, topics, on_assign=None, on_revoke=None, on_lost=None, **kwargs):
        """Join the consumer group (``group.id``) and consume the partitions it assigns to this member.

        ``topics`` replaces any previous subscription; names starting with ``^`` are regular expressions.
        Callbacks ``on_assign(consumer, partitions)`` / ``on_revoke`` / ``on_lost`` run inside ``poll()``.
        A topic that does not exist yet gives one ``UNKNOWN_TOPIC_OR_PART`` error event from ``poll()``; the
        consumer picks it up at a metadata refresh after it is created.
        """
        self._check_open()
        if not isinstance(topics, list):
            raise TypeError("expected list of topic unicode strings")
        topics = [t if isinstance(t, str) else str(t) for t in topics]   # as confluent-kafka: str() of each
        for name, cb in (("on_assign", on_assign), ("on_revoke", on_revoke), ("on_lost", on_lost)):
            if cb is not None and not callable(cb):
                raise TypeError(f"{name} expects a callable")
        if kwargs:
            raise TypeError(f"subscribe() got unexpected keyword argument(s) {sorted(kwargs)}")
        if not topics or any(not t for t in topics) or len(set(topics)) != len(topics):
            raise KafkaException(KafkaError(KafkaError._INVALID_ARG,
                                            reason=f"Failed to set subscription: Local: Invalid argument or "
                                                   f"configuration (topics={list(topics)!r})"))
        for t in topics:
            if t.startswith("^"):
                try:
                    re.compile(t)
                except re.error as exc:
                    raise KafkaException(KafkaError(KafkaError._INVALID_ARG,
                                                    reason=f"Invalid regex subscription {t!r}: {exc}")) from None
        self._subscription = list(topics)
        self._on_assign, self._on_revoke, self._on_lost = on_assign, on_revoke, on_lost
        self._missing_reported.clear()
        self._check_missing_topics()
        self._every("metadata refresh", self._metadata_ms, self._metadata_refresh, quiet=self._metadata_quiet)
        if self._member_id or self._joining:
            self._request_rejoin("subscription changed")
        else:
            self._once("join", 0, self._send_join)

    def unsubscribe(self):
        """Leave the group: the current partitions are revoked (``on_revoke`` runs in the next poll)."""
        self._check_open()
        self._subscription = None
        self._cancel("metadata refresh")
        self._cancel("join")
        if self._assignment:
            self._callbacks.append(("revoke", self._rejoin_epoch, sorted(self._assignment), "leave"))
        else:
            self._leave_group()

    def _resolved_topics(self):
        """The subscription with regular expressions matched against the cluster's (non-internal) topics."""
        if not self._subscription:
            return []
        existing = sorted(self._cluster.metadata())
        out = []
        for t in self._subscription:
            if t.startswith("^"):
                out.extend(name for name in existing if re.search(t, name))
            else:
                out.append(t)
        return sorted(set(out))

    def _topic_counts(self):
        return {t: self._cluster.partition_count(t) for t in self._resolved_topics()}

    def _check_missing_topics(self):
        """librdkafka reports a subscribed topic missing from metadata once, as an error event."""
        counts = self._topic_counts()
        for topic, count in sorted(counts.items()):
            if count is None and topic not in self._missing_reported:
                self._missing_reported.add(topic)
                self._events.append(event_message(KafkaError(   # librdkafka leaves its partition at 0
                    KafkaError.UNKNOWN_TOPIC_OR_PART,
                    reason=f"Subscribed topic not available: {topic}: Broker: Unknown topic or partition"),
                    topic=topic, partition=0))
            elif count is not None:
                self._missing_reported.discard(topic)
        return counts

    def _send_join(self):
        """JoinGroup (background): with the cooperative protocol the member keeps and reports what it owns."""
        if self._closed or self._subscription is None:
            return
        if not self._coordinator.coordinator_available(self._group_id):
            self._once("join", self._backoff_ms, self._send_join,
                       quiet=lambda: not self._coordinator.coordinator_available(self._group_id))
            return
        self._joining = True
        self._awaiting_revoke = False
        self._rejoin_epoch += 1
        epoch = self._rejoin_epoch
        self._joined_topics = self._topic_counts()
        owned = sorted(self._assignment) if self._cooperative else []
        member_id = self._coordinator.join_group(
            self._group_id, self._member_id, client_id=self._client_id,
            session_timeout_ms=self._session_timeout, rebalance_timeout_ms=self._max_poll_ms,
            protocols=list(self._strategies), subscription=sorted(self._joined_topics), owned=owned,
            on_joined=lambda *args: self._on_joined(epoch, *args), group_instance_id=self._instance_id)
        if self._joining and member_id:
            self._member_id = member_id

    def _on_joined(self, epoch, err, member_id, generation, protocol, assignment):
        """JoinGroup + SyncGroup response: queue the rebalance callbacks for the application's poll()."""
        if self._closed or epoch != self._rejoin_epoch:
            return
        self._joining = False
        if err is not None:
            code = err.code()
            if code == KafkaError.UNKNOWN_MEMBER_ID:
                self._member_id, self._generation = "", -1
                self._once("join", 0, self._send_join)
            elif code == KafkaError.COORDINATOR_NOT_AVAILABLE:
                self._once("join", self._backoff_ms, self._send_join)
            elif code == KafkaError.FENCED_INSTANCE_ID:
                self._fenced(err)
            else:
                self._events.append(event_message(err))
            return
        self._member_id, self._generation = member_id, generation
        new = sorted(tuple(tp) for tp in assignment)
        if self._cooperative:
            revoked = sorted(set(self._assignment) - set(new))
            added = sorted(set(new) - set(self._assignment))
            # revoke what moved away, take what is new, then (if anything was revoked) rejoin so that the
            # partitions given up can be handed to their new owner in the next round
            if revoked:
                self._callbacks.append(("revoke", epoch, revoked, None))
            self._callbacks.append(("assign", epoch, added, "rejoin" if revoked else None))
        else:
            self._callbacks.append(("assign", epoch, new, None))
        self._every("heartbeat", self._heartbeat_ms, self._heartbeat)
        if not self._in_poll:
            wait = max(0, self._last_poll_ms + self._max_poll_ms - self._clock.now_ms)
            self._once("max.poll", wait, self._max_poll_check)

    def _heartbeat(self):
        """Heartbeat (background). The coordinator's answer tells the member to rejoin or that it is gone."""
        if not self._member_id or self._joining:
            return
        err = self._coordinator.heartbeat(self._group_id, self._member_id, self._generation, self._instance_id)
        if err is None or err.code() == KafkaError.COORDINATOR_NOT_AVAILABLE:
            return
        code = err.code()
        if code == KafkaError.FENCED_INSTANCE_ID:
            self._fenced(err)
        elif code == KafkaError.REBALANCE_IN_PROGRESS:
            self._request_rejoin("the group is rebalancing")
        elif code in (KafkaError.UNKNOWN_MEMBER_ID, KafkaError.ILLEGAL_GENERATION):
            if code == KafkaError.UNKNOWN_MEMBER_ID:
                self._member_id = ""
            self._generation = -1
            self._cancel("heartbeat")        # out of the group: nothing to heartbeat until the rejoin
            self._assignment_lost()

    def _request_rejoin(self, reason):
        """Rejoin the group. Eager protocol: revoke everything first (in the app's poll), then rejoin."""
        if self._joining or self._awaiting_revoke:
            return
        if self._cooperative or not self._assignment:
            self._drop_stale_assigns()
            self._once("join", 0, self._send_join)
        else:
            self._awaiting_revoke = True
            self._drop_stale_assigns()
            self._callbacks.append(("revoke", self._rejoin_epoch, sorted(self._assignment), "rejoin"))

    def _drop_stale_assigns(self):
        self._callbacks = collections.deque(cb for cb in self._callbacks if cb[0] not in ("assign",))

    def _assignment_lost(self):
        """The member was expelled: its partitions may already belong to someone else (``on_lost``)."""
        self._drop_stale_assigns()
        self._awaiting_revoke = True
        self._callbacks.append(("lost", self._rejoin_epoch, sorted(self._assignment), "rejoin"))

    def _fenced(self, err):
        """A newer consumer with our ``group.instance.id`` replaced us (KIP-345): librdkafka raises a fatal
        error (one ``_FATAL`` event), drops the assignment without a rebalance callback and stops taking
        part in the group."""
        self._events.append(event_message(fatal_consumer_error(err)))
        self._subscription = None
        for name in ("metadata refresh", "join", "heartbeat", "max.poll"):
            self._cancel(name)
        self._callbacks = collections.deque(cb for cb in self._callbacks if cb[0] == "commit")
        self._remove_partitions(list(self._assignment), lost=True)
        self._member_id, self._generation, self._joining, self._awaiting_revoke = "", -1, False, False
        self._rejoin_epoch += 1

    def _leave_group(self, send=True):
        if self._member_id and send:
            self._coordinator.leave_group(self._group_id, self._member_id, self._instance_id)
        self._member_id, self._generation = "", -1
        self._joining = False
        self._rejoin_epoch += 1
        self._cancel("heartbeat")

    def _metadata_refresh(self):
        """Periodic metadata refresh: a subscribed topic appeared or got more partitions -> rejoin."""
        counts = self._check_missing_topics()
        if (self._subscription is not None and counts != self._joined_topics and not self._joining
                and "join" not in self._timers):          # a join already on its way covers the change
            self._request_rejoin("subscribed topics changed")

    def _metadata_quiet(self):
        """A metadata refresh now would report nothing new and ask for no rejoin."""
        counts = self._topic_counts()
        if any((count is None) != (topic in self._missing_reported) for topic, count in counts.items()):
            return False
        return (self._subscription is None or self._joining or self._awaiting_revoke   # a rejoin is on its way
                or "join" in self._timers or counts == self._joined_topics)

    def _max_poll_check(self):
        """``max.poll.interval.ms``: a member whose application stopped calling poll() leaves the group."""
        if self._in_poll or not self._member_id or self._subscription is None:
            return
        idle = self._clock.now_ms - self._last_poll_ms
        if idle < self._max_poll_ms:
            self._once("max.poll", self._max_poll_ms - idle, self._max_poll_check)
            return
        self._events.append(event_message(KafkaError(
            KafkaError._MAX_POLL_EXCEEDED,
            reason=f"Application maximum poll interval ({self._max_poll_ms}ms) exceeded by "
                   f"{idle - self._max_poll_ms}ms")))
        self._coordinator.leave_group(self._group_id, self._member_id)
        self._member_id, self._generation = "", -1
        self._cancel("heartbeat")
        self._assignment_lost()

    # == rebalance callbacks (served in poll) ==========================================================
    def _serve_callbacks(self):
        while self._callbacks and not self._closed:
            kind, epoch, partitions, then = self._callbacks.popleft()
            if kind == "commit":
                self._on_commit(epoch, partitions)     # on_commit(err, partitions)
                continue
            if kind == "assign" and epoch != self._rejoin_epoch:
                continue   # a newer rebalance started before the application polled: stale
            try:
                self._run_rebalance_cb(kind, partitions)
            finally:
                if then == "rejoin" and not self._closed and self._subscription is not None:
                    self._awaiting_revoke = False
                    self._once("join", 0, self._send_join)
                elif then == "leave" and not self._closed:
                    self._leave_group()

    def _run_rebalance_cb(self, kind, partitions):
        tps = [TopicPartition(t, p) for t, p in partitions]
        callback = {"assign": self._on_assign, "revoke": self._on_revoke,
                    "lost": self._on_lost or self._on_revoke}[kind]
        self._serving, self._cb_assigned = kind, False
        failure = None
        try:
            if callback is not None:
                callback(self, tps)
        except Exception as exc:   # confluent-kafka re-raises it from poll() after finishing the rebalance
            failure = exc
        finally:
            self._serving = None
        if not self._cb_assigned and not self._closed:
            self._default_rebalance(kind, tps, partitions)
        if failure is not None:
            raise failure

    def _default_rebalance(self, kind, tps, partitions):
        """What happens when the callback did not call (incremental_)assign/unassign itself."""
        if kind == "assign":
            if self._cooperative:
                self._add_partitions(tps)
            else:
                self._set_assignment(tps)
        elif self._cooperative:
            self._remove_partitions(partitions, lost=kind == "lost")
        else:
            self._remove_partitions(list(self._assignment), lost=kind == "lost")

    # == assignment ======================================================================================
    def _set_assignment(self, tps):
        self._remove_partitions([k for k in self._assignment if k not in {(t.topic, t.partition) for t in tps}])
        self._assignment = {}
        self._add_partitions(tps)

    def _add_partitions(self, tps):
        for tp in tps:
            offset = OFFSET_STORED if tp.offset == OFFSET_INVALID else tp.offset
            self._assignment[(tp.topic, tp.partition)] = _Partition(tp.topic, tp.partition, offset)

    def _remove_partitions(self, keys, lost=False):
        """Stop consuming ``keys``; librdkafka commits their stored offsets first (auto-commit, not lost)."""
        keys = [k for k in keys if k in self._assignment]
        if self._auto_commit and not lost:
            offsets = self._pending_offsets(keys)
            if offsets:
                self._send_commit(offsets)
        for k in keys:
            del self._assignment[k]

    def _validate_assign_list(self, partitions):
        tps = _check_tp_list(partitions, "requires list of TopicPartition")
        keys = [(t.topic, t.partition) for t in tps]
        if len(set(keys)) != len(keys):
            raise KafkaException(KafkaError(KafkaError._INVALID_ARG,
                                            reason="Failed to set assignment: duplicate partitions in the list"))
        bad = [tp for tp in tps if not _valid_start_offset(tp.offset)]
        if bad:
            raise KafkaException(KafkaError(KafkaError._INVALID_ARG, reason=(
                f"Failed to set assignment: Local: Invalid argument or configuration ({bad[0].topic} "
                f"[{bad[0].partition}] offset {bad[0].offset} is neither >= 0 nor a logical offset)")))
        return tps

    def assign(self, partitions):
        """Consume exactly ``partitions`` (no group rebalancing). ``TopicPartition.offset`` is where to start:
        an absolute offset, ``OFFSET_BEGINNING``/``OFFSET_END``, or the default (committed offset, else
        ``auto.offset.reset``)."""
        self._check_open()
        tps = self._validate_assign_list(partitions)
        self._check_rebalance_protocol(incremental=False)
        self._cb_assigned = True
        self._set_assignment(tps)

    def unassign(self):
        """Stop consuming every partition."""
        self._check_open()
        self._check_rebalance_protocol(incremental=False)
        self._cb_assigned = True
        self._remove_partitions(list(self._assignment))

    def incremental_assign(self, partitions):
        """Add ``partitions`` to the assignment (cooperative rebalancing, or by hand)."""
        self._check_open()
        tps = self._validate_assign_list(partitions)
        self._check_rebalance_protocol(incremental=True)
        for tp in tps:
            if (tp.topic, tp.partition) in self._assignment:
                raise KafkaException(KafkaError(KafkaError._CONFLICT, reason=f"{tp.topic} [{tp.partition}] is "
                                                "already part of the current assignment"))
        self._cb_assigned = True
        self._add_partitions(tps)

    def incremental_unassign(self, partitions):
        """Remove ``partitions`` from the assignment."""
        self._check_open()
        tps = self._validate_assign_list(partitions)
        self._check_rebalance_protocol(incremental=True)
        for tp in tps:
            if (tp.topic, tp.partition) not in self._assignment:
                raise KafkaException(KafkaError(KafkaError._INVALID_ARG, reason=f"{tp.topic} [{tp.partition}] "
                                                "can't be unassigned since it is not in the current assignment"))
        self._cb_assigned = True
        self._remove_partitions([(t.topic, t.partition) for t in tps], lost=self._serving == "lost")

    def _check_rebalance_protocol(self, incremental):
        """librdkafka refuses the assignment call of the other protocol while the group has one (``_STATE``):
        a cooperative group changes its assignment only incrementally, an eager one only as a whole."""
        if self._subscription is None or not self._member_id or incremental == self._cooperative:
            return
        if self._cooperative:
            reason = ("Changes to the current assignment must be made using incremental_assign() or "
                      "incremental_unassign() when rebalance protocol type is COOPERATIVE")
        else:
            reason = "Changes to the current assignment must be made using assign() when rebalance protocol type is EAGER"
        raise KafkaException(KafkaError(KafkaError._STATE, reason=reason))

    def assignment(self):
        """The partitions this consumer is consuming now."""
        self._check_open()
        return [TopicPartition(t, p) for t, p in self._assignment]

    def memberid(self):
        """The member id the group coordinator gave this consumer, or ``None`` outside a group."""
        self._check_open()
        return self._member_id or None

    def consumer_group_metadata(self):
        self._check_open()
        return ConsumerGroupMetadata(self._group_id, self._member_id, self._generation, self._instance_id)

    # == poll / consume ==================================================================================
    def poll(self, timeout=-1):
        """Return the next record, an event (``msg.error()`` set), or ``None`` after ``timeout`` virtual seconds
        (at least :data:`~eventsim.timeouts.MIN_WAIT_MS`, so a ``poll(0)`` loop lets time pass)."""
        self._check_open()
        deadline = self._clock.now_ms + _timeout_ms(timeout, timeouts.MIN_WAIT_MS)
        self._enter_poll()
        try:
            return self._poll_one(deadline)
        finally:
            self._leave_poll()

    def consume(self, num_messages=1, timeout=-1):
        """Up to ``num_messages`` messages; waits until that many are ready or ``timeout`` has passed."""
        self._check_open()
        if isinstance(num_messages, bool) or not isinstance(num_messages, int):
            raise TypeError(f"'{type(num_messages).__name__}' object cannot be interpreted as an integer")
        if not 0 <= num_messages <= 1_000_000:
            raise ValueError("num_messages must be between 0 and 1000000 (1M)")
        deadline = self._clock.now_ms + _timeout_ms(timeout, timeouts.MIN_WAIT_MS)
        out = []
        self._enter_poll()
        try:
            while len(out) < num_messages and not self._closed:
                msg = self._poll_one(deadline)
                if msg is None:
                    break
                out.append((msg, self._assignment.get((msg.topic(), msg.partition()))))
        finally:
            self._leave_poll()
        return self._still_owned(out)

    def _still_owned(self, batch):
        """librdkafka drops the messages of a batch whose partition was revoked (or reassigned) by a
        rebalance that ran during the same ``consume()`` call (librdkafka PR #3269); events stay."""
        return [msg for msg, part in batch
                if msg.error() is not None or self._assignment.get((msg.topic(), msg.partition())) is part]

    def _enter_poll(self):
        self._in_poll = True
        self._last_poll_ms = self._clock.now_ms

    def _leave_poll(self):
        self._in_poll = False
        self._last_poll_ms = self._clock.now_ms
        if not self._closed and self._member_id:
            self._once("max.poll", self._max_poll_ms, self._max_poll_check)

    def _poll_one(self, deadline):
        spins = 0
        while True:
            self._serve_callbacks()
            if self._closed:
                return None
            msg = self._next_ready()
            if msg is not None:
                return msg
            self._fill()
            msg = self._next_ready()
            if msg is not None:
                return msg
            if self._callbacks:
                continue
            remaining = deadline - self._clock.now_ms
            if remaining <= 0:
                return None
            before = self._clock.now_ms
            if self._cluster.run_until(self._wake, remaining) and self._clock.now_ms == before:
                spins += 1
                if spins > 3:   # woken repeatedly with nothing to do: let one millisecond pass
                    self._cluster.run_until(lambda: False, 1)
                    spins = 0

    def _wake(self):
        """Stop the clock: a callback or event is queued, or a partition may have new data."""
        if self._callbacks or self._events:
            return True
        now = self._clock.now_ms
        for part in self._assignment.values():
            if part.paused or part.stopped:
                continue
            if part.retry_at is not None:
                if part.retry_at <= now:
                    return True
                continue
            if self._cluster.partition_high_watermark(part.topic, part.partition) != part.seen_hwm:
                return True
        return False

    def _pass_markers(self):
        """librdkafka's control messages: once every record fetched before a transaction marker has been
        handed out, the next poll moves the position (and the stored offset) past the marker."""
        for part in self._assignment.values():
            if part.control_end is not None and not part.buffer:
                if part.control_end > part.app_position:
                    part.app_position = part.control_end
                    if self._auto_store:
                        part.stored = part.control_end
                part.control_end = None

    def _next_ready(self):
        self._pass_markers()
        if self._events:
            return self._events.popleft()
        parts = [p for p in self._assignment.values() if p.buffer and not p.paused]
        if not parts:
            return None
        # serve one partition's fetched batch before the next one's, cycling through the assignment
        part = parts[self._serve_index % len(parts)]
        record = part.buffer.popleft()
        if not part.buffer:
            self._serve_index += 1
        part.app_position = record.offset + 1
        epoch = record.leader_epoch
        part.app_epoch = epoch if epoch is not None and epoch >= 0 else None
        if self._auto_store:
            part.stored = record.offset + 1
        return Message(topic=part.topic, partition=part.partition, offset=record.offset, key=record.key,
                       value=record.value, headers=list(record.headers) if record.headers else None,
                       timestamp=(record.timestamp_type, record.timestamp), leader_epoch=record.leader_epoch
                       if record.leader_epoch is not None and record.leader_epoch >= 0 else None)

    # == fetching ========================================================================================
    def _fill(self):
        """Fetch every partition that has nothing buffered and may be fetched now."""
        now = self._clock.now_ms
        for part in list(self._assignment.values()):
            if part.buffer or part.paused or part.stopped:
                continue
            if part.retry_at is not None and part.retry_at > now:
                continue
            part.retry_at = None
            if part.fetch_offset < 0 and not self._resolve_start(part):
                continue
            for _ in range(100):   # skip past control records / aborted data in one go
                before = part.fetch_offset
                self._fetch(part)
                if part.buffer or part.fetch_offset == before or part.retry_at is not None or part.stopped:
                    break

    def _backoff(self, part):
        part.leader = None
        part.retry_at = self._clock.now_ms + self._backoff_ms
        self._clock.schedule(self._backoff_ms, lambda: None, f"{self._client_id} fetch backoff")

    def _resolve_start(self, part):
        """Turn a logical start offset into a real one: committed offset, or ``auto.offset.reset``."""
        spec = part.fetch_offset
        if spec in (OFFSET_STORED, OFFSET_INVALID):
            committed = self._coordinator.committed(self._group_id, [part.key])[part.key]
            if committed >= 0:
                part.committed = committed
                part.fetch_offset = committed
                return True
            return self._apply_reset(part, f"no committed offset for {part.topic} [{part.partition}]")
        if spec in (OFFSET_BEGINNING, OFFSET_END):
            return self._list_offset(part, spec)
        if spec < 0:   # OFFSET_TAIL(n) and friends are not modelled
            return self._apply_reset(part, f"unsupported logical offset {spec}")
        return True

    def _list_offset(self, part, spec):
        err, offset = self._cluster.list_offsets(part.topic, part.partition, spec, isolation_level=self._isolation)
        if err is not None:
            self._backoff(part)
            return False
        part.fetch_offset = offset
        return True

    def _apply_reset(self, part, why):
        """``auto.offset.reset``: earliest / latest, or (``error``) an ``_AUTO_OFFSET_RESET`` event."""
        if self._reset == "earliest":
            return self._list_offset(part, OFFSET_BEGINNING)
        if self._reset == "latest":
            return self._list_offset(part, OFFSET_END)
        part.stopped = part.reset_failed = True
        self._events.append(event_message(KafkaError(KafkaError._AUTO_OFFSET_RESET,
                                                     reason=f"{why}: auto.offset.reset=error"),
                                          topic=part.topic, partition=part.partition, offset=part.fetch_offset))
        return False

    def _fetch(self, part):
        if part.leader is None:
            part.leader = self._cluster.leader_for(part.topic, part.partition)
        hint = part.leader if part.leader is not None and part.leader >= 0 else None
        result = self._cluster.fetch(part.topic, part.partition, part.fetch_offset,
                                     isolation_level=self._isolation, leader_hint=hint)
        if result.error is not None:
            code = result.error.code()
            if code == KafkaError.OFFSET_OUT_OF_RANGE:
                offset = part.fetch_offset
                if self._apply_reset(part, f"Fetch position {offset} is out of range for {part.topic} "
                                           f"[{part.partition}] (log {result.log_start_offset}.."
                                           f"{result.high_watermark})"):
                    part.eof_reported = False
            elif code in _RETRY_FETCH:
                self._backoff(part)
            else:
                part.stopped = True
                self._events.append(event_message(result.error, topic=part.topic, partition=part.partition))
            return
        part.seen_hwm = result.high_watermark
        part.low, part.high = result.log_start_offset, result.high_watermark
        end = result.last_stable_offset if self._isolation == "read_committed" else result.high_watermark
        part.fetch_offset = result.next_offset
        if result.control_end >= 0:
            part.control_end = result.control_end
        if result.records:
            part.buffer.extend(result.records)
            part.eof_reported = False
        elif self._partition_eof and not part.eof_reported and part.fetch_offset >= end:
            part.eof_reported = True
            self._events.append(event_message(
                KafkaError(KafkaError._PARTITION_EOF, reason=f"Fetch from broker {part.leader} reached end of "
                                                             f"partition at offset {part.fetch_offset} (HighwaterMark "
                                                             f"{result.high_watermark})"),
                topic=part.topic, partition=part.partition, offset=part.fetch_offset,
                leader_epoch=result.leader_epoch if result.leader_epoch >= 0 else None))

    # == positions, seek, pause ==========================================================================
    def position(self, partitions):
        """The next offset the application will get (last message handed out + 1), per partition, with that
        message's leader epoch; ``OFFSET_INVALID`` before any message was handed out (and after a seek)."""
        self._check_open()
        out = []
        for tp in _check_tp_list(partitions):
            part = self._assignment.get((tp.topic, tp.partition))
            known = part is not None and part.app_position >= 0
            out.append(TopicPartition(tp.topic, tp.partition, part.app_position if known else OFFSET_INVALID,
                                      leader_epoch=part.app_epoch if known else None))
        return out

    def seek(self, partition):
        """Move an assigned partition's position: the next poll() fetches from ``partition.offset``.

        As in librdkafka, seeking past the end is not an error here: the next fetch is answered
        ``OFFSET_OUT_OF_RANGE`` and ``auto.offset.reset`` decides (``error`` -> an ``_AUTO_OFFSET_RESET``
        event from poll()); after that event the partition is stopped (librdkafka's ``FETCH_NONE``) and
        ``seek()`` is ``_STATE`` until the partition is assigned again. ``OFFSET_STORED`` is ``_INVALID_ARG``,
        as in librdkafka. The position is ``OFFSET_INVALID`` until the next message. Simplified: librdkafka
        passes other negative numbers on to the broker as ListOffsets timestamps (-3 is "max timestamp",
        -4 and -5 are tiered-storage lookups, answered ``UNSUPPORTED_VERSION`` by Kafka 4.4); the simulator
        refuses every negative offset that is not ``OFFSET_BEGINNING``/``END``/``INVALID``/``TAIL(n)`` at
        the call with ``_INVALID_ARG``.
        """
        self._check_open()
        if not isinstance(partition, TopicPartition):
            raise TypeError("expected TopicPartition")
        if partition.offset == OFFSET_STORED or not _valid_start_offset(partition.offset):
            raise KafkaException(KafkaError(KafkaError._INVALID_ARG, reason=(
                f"Failed to seek to offset {partition.offset}: Local: Invalid argument or configuration")))
        part = self._assignment.get((partition.topic, partition.partition))
        if part is None:
            raise KafkaException(self._seek_unassigned_error(partition))
        if part.reset_failed:
            raise KafkaException(KafkaError(KafkaError._STATE, reason=(
                f"Failed to seek to offset {partition.offset}: Local: Erroneous state ({partition.topic} "
                f"[{partition.partition}] stopped at an _AUTO_OFFSET_RESET error: assign() it again)")))
        part.buffer.clear()
        part.control_end = None
        part.fetch_offset = partition.offset
        part.stopped, part.eof_reported, part.retry_at = False, False, None
        part.app_position, part.app_epoch = OFFSET_INVALID, None    # librdkafka: known again at the next message

    def _seek_unassigned_error(self, partition):
        """librdkafka knows a partition of a topic it consumes other partitions of, and refuses to seek it
        with ``_STATE``; a partition it knows nothing about is ``_UNKNOWN_PARTITION``. Simplified: "knows"
        is taken as "has a partition of the same topic assigned"."""
        known = any(topic == partition.topic for topic, _ in self._assignment)
        code, text = ((KafkaError._STATE, "Local: Erroneous state") if known
                      else (KafkaError._UNKNOWN_PARTITION, "Local: Unknown partition"))
        return KafkaError(code, reason=f"Failed to seek to offset {partition.offset}: {text} ({partition.topic} "
                                       f"[{partition.partition}] is not assigned)")

    def pause(self, partitions):
        """Stop fetching ``partitions`` (they stay assigned: no rebalance)."""
        self._check_open()
        for tp in _check_tp_list(partitions):
            part = self._assignment.get((tp.topic, tp.partition))
            if part is not None:
                if part.buffer:
                    part.fetch_offset = part.buffer[0].offset
                    part.buffer.clear()
                part.paused = True

    def resume(self, partitions):
        """Fetch paused ``partitions`` again, from where the application left off."""
        self._check_open()
        for tp in _check_tp_list(partitions):
            part = self._assignment.get((tp.topic, tp.partition))
            if part is not None:
                part.paused = False

    # == commits ==========================================================================================
    def _pending_offsets(self, keys=None):
        keys = list(self._assignment) if keys is None else keys
        out = {}
        for k in keys:
            part = self._assignment.get(k)
            if part is not None and part.stored is not None and part.stored != part.committed:
                out[k] = part.stored
        return out

    def _send_commit(self, offsets):
        """OffsetCommit with this member's id and generation (``""``/-1 outside a group)."""
        result = self._coordinator.commit_offsets(self._group_id, dict(offsets),
                                                  member_id=self._member_id, generation=self._generation)
        for key, err in result.items():
            part = self._assignment.get(key)
            if err is None and part is not None:
                part.committed = offsets[key]
        return result

    def _auto_commit_quiet(self):
        """An auto-commit now would change nothing: nothing to commit, or no coordinator to commit to and no
        ``on_commit`` callback to tell of the failure."""
        return not self._pending_offsets() or (
            self._on_commit is None and not self._coordinator.coordinator_available(self._group_id))

    def _auto_commit_tick(self):
        if self._joining:
            return
        offsets = self._pending_offsets()
        if offsets:
            result = self._send_commit(offsets)
            self._queue_commit_cb(offsets, result)

    def _queue_commit_cb(self, offsets, result):
        if self._on_commit is None:
            return
        tps = []
        first_err = None
        for (t, p), off in sorted(offsets.items()):
            tp = TopicPartition(t, p, off)
            tp.error = result.get((t, p)) if result else None
            first_err = first_err or tp.error
            tps.append(tp)
        self._callbacks.append(("commit", first_err, tps, None))

    def commit(self, message=None, offsets=None, asynchronous=True):
        """Commit ``message.offset() + 1``, or ``offsets`` (TopicPartitions with the *next* offset to read),
        or, with neither, the stored offsets of the current assignment.

        ``asynchronous=False`` waits and returns the committed TopicPartitions, raising ``KafkaException``
        if the commit failed; otherwise the result goes to the ``on_commit`` callback during ``poll()``.
        """
        self._check_open()
        if message is not None and offsets is not None:
            raise ValueError("message and offsets are mutually exclusive")
        if message is not None:
            if not isinstance(message, Message):
                raise TypeError("expected eventsim.Message")
            if message.error() is not None or message.offset() is None or message.offset() < 0:
                raise KafkaException(KafkaError(KafkaError._INVALID_ARG,
                                                reason="Commit failed: cannot commit an error event or a message "
                                                       "without an offset"))
            to_commit = {(message.topic(), message.partition()): message.offset() + 1}
        elif offsets is not None:
            tps = _check_tp_list(offsets, "expected list of TopicPartition")
            to_commit = {(tp.topic, tp.partition): tp.offset for tp in tps}
        else:
            to_commit = self._pending_offsets()
            if not to_commit:
                err = KafkaError(KafkaError._NO_OFFSET, reason="Commit failed: Local: No offset stored")
                if asynchronous:
                    if self._on_commit is not None:
                        self._callbacks.append(("commit", err, [], None))
                    return None
                raise KafkaException(err)
        result = self._send_commit(to_commit)
        if asynchronous:
            self._queue_commit_cb(to_commit, result)
            return None
        errors = [err for _, err in sorted(result.items(), key=lambda kv: kv[0]) if err is not None]
        if errors:
            raise KafkaException(KafkaError(errors[0].code(), reason=f"Commit failed: {errors[0].str()}"))
        return [TopicPartition(t, p, off) for (t, p), off in sorted(to_commit.items())]

    def store_offsets(self, message=None, offsets=None):
        """Store ``message.offset() + 1`` (or ``offsets``) for the next commit; needs
        ``enable.auto.offset.store=false``."""
        self._check_open()
        if message is not None and offsets is not None:
            raise ValueError("message and offsets are mutually exclusive")
        if message is None and offsets is None:
            raise ValueError("expected either message or offsets")
        if self._auto_store:
            raise KafkaException(KafkaError(KafkaError._INVALID_ARG, reason="StoreOffsets failed: "
                                            "enable.auto.offset.store must be set to false to store offsets by hand"))
        if message is not None:
            if not isinstance(message, Message):
                raise TypeError("expected eventsim.Message")
            if message.error() is not None or message.offset() is None:     # an event: no record to store past
                raise KafkaException(KafkaError(KafkaError._INVALID_ARG, reason=(
                    "StoreOffsets failed: Local: Invalid argument or configuration (an error event has no "
                    "record offset to store)")))
            items = [(message.topic(), message.partition(), message.offset() + 1)]
        else:
            items = [(tp.topic, tp.partition, tp.offset) for tp in _check_tp_list(offsets, "expected list of TopicPartition")]
        for topic, partition, _ in items:
            if (topic, partition) not in self._assignment:
                raise KafkaException(KafkaError(KafkaError._STATE, reason=f"StoreOffsets failed: {topic} "
                                                f"[{partition}] is not assigned to this consumer"))
        for topic, partition, offset in items:
            self._assignment[(topic, partition)].stored = offset

    def committed(self, partitions, timeout=-1):
        """The group's committed offsets (``OFFSET_INVALID`` where none)."""
        self._check_open()
        tps = _check_tp_list(partitions)
        _timeout_ms(timeout)
        found = self._coordinator.committed(self._group_id, [(tp.topic, tp.partition) for tp in tps])
        return [TopicPartition(tp.topic, tp.partition, found[(tp.topic, tp.partition)]) for tp in tps]

    # == offsets lookups and metadata ===================================================================
    def _list_offsets_waiting(self, topic, partition, spec, timeout):
        """ListOffsets, retried on the clock (``retry.backoff.ms``) while the leader is unavailable."""
        deadline = self._clock.now_ms + _timeout_ms(timeout)
        while True:
            err, offset = self._cluster.list_offsets(topic, partition, spec, isolation_level=self._isolation)
            if err is None or err.code() not in _RETRY_FETCH - {KafkaError.UNKNOWN_TOPIC_OR_PART}:
                return err, offset
            if self._clock.now_ms >= deadline:
                return KafkaError(KafkaError._TIMED_OUT, reason=f"Timed out looking up offsets of {topic} "
                                                                f"[{partition}]: {err.str()}"), -1
            self._cluster.run_until(lambda: False, min(self._backoff_ms, deadline - self._clock.now_ms))

    def _partition_known(self, topic, partition):
        count = self._cluster.partition_count(topic)
        return count is not None and 0 <= partition < count

    def _require_known_partitions(self, tps):
        """librdkafka looks up the partitions' leaders before it sends ListOffsets: when it finds none (the
        topic does not exist, has no such partition, or the partition has no leader: an offline partition),
        the whole call fails with ``_UNKNOWN_PARTITION``."""
        if not any(self._partition_known(tp.topic, tp.partition)
                   and self._cluster.leader_for(tp.topic, tp.partition) >= 0 for tp in tps):
            tp = tps[0]
            raise KafkaException(KafkaError(KafkaError._UNKNOWN_PARTITION, reason=(
                f"Local: Unknown partition: {tp.topic} [{tp.partition}] is not in the cluster's metadata")))

    def get_watermark_offsets(self, partition, timeout=-1, cached=False):
        """``(low, high)``: log start offset and high watermark (last stable offset for read_committed)."""
        self._check_open()
        if not isinstance(partition, TopicPartition):
            raise TypeError("expected TopicPartition")
        if cached:
            part = self._assignment.get((partition.topic, partition.partition))
            return (part.low, part.high) if part else (OFFSET_INVALID, OFFSET_INVALID)
        self._require_known_partitions([partition])
        err, low = self._list_offsets_waiting(partition.topic, partition.partition, OFFSET_BEGINNING, timeout)
        if err is None:
            err, high = self._list_offsets_waiting(partition.topic, partition.partition, OFFSET_END, timeout)
        if err is not None:
            raise KafkaException(err)
        return low, high

    def offsets_for_times(self, partitions, timeout=-1):
        """For each partition, the first offset whose timestamp is >= ``tp.offset`` (ms), or -1. librdkafka
        sends one ListOffsets entry per partition: a partition listed twice is answered for the timestamp it
        was listed with last, in every place it appears."""
        self._check_open()
        tps = _check_tp_list(partitions)
        if not tps:
            return []
        self._require_known_partitions(tps)
        asked = {(tp.topic, tp.partition): tp.offset for tp in tps}   # one request entry per partition
        answers = {key: self._offset_for_time(key, spec, timeout) for key, spec in asked.items()}
        out = []
        for tp in tps:
            err, offset = answers[(tp.topic, tp.partition)]
            res = TopicPartition(tp.topic, tp.partition, offset)
            res.error = err
            out.append(res)
        return out

    def _offset_for_time(self, key, spec, timeout):
        """One partition's answer: ``(None, offset)``, or an error with ``OFFSET_INVALID``; a partition
        without a leader in the metadata keeps the timestamp asked as its offset, with ``_UNKNOWN_PARTITION``."""
        if not self._partition_known(*key):
            return KafkaError(KafkaError._UNKNOWN_PARTITION), spec
        err, offset = self._list_offsets_waiting(key[0], key[1], spec, timeout)
        return err, offset if err is None else OFFSET_INVALID

    def list_topics(self, topic=None, timeout=-1):
        """Metadata of the cluster (``ClusterMetadata``), as the producer and admin client return it."""
        if self._closed:
            raise RuntimeError("Handle has been closed")
        _timeout_ms(timeout)
        from .admin import cluster_metadata
        return cluster_metadata(self._cluster, topic)

    # == close ============================================================================================
    def close(self):
        """Leave the group cleanly: revoke (``on_revoke`` runs here), commit stored offsets if
        ``enable.auto.commit``, send LeaveGroup. Calling it twice is harmless; called from inside a rebalance
        callback, it does not run the callbacks again and leaves the group at once."""
        if self._closed or self._closing:
            return
        self._closing = True
        if self._subscription is not None and self._assignment and self._serving is None:
            self._callbacks.clear()
            self._run_rebalance_cb("revoke", sorted(self._assignment))
        if self._assignment:
            self._remove_partitions(list(self._assignment))
        self._leave_group(send=self._instance_id is None)   # KIP-345: a static member sends no LeaveGroup
        self._shutdown()

    def _crash(self):
        """Simulator only: the consumer's process dies. No LeaveGroup, no commit, no more heartbeats; the
        group coordinator notices after ``session.timeout.ms`` of virtual time. The object is closed."""
        if not self._closed:
            self._shutdown()

    def _shutdown(self):
        self._closed = True
        for name in list(self._timers):
            self._cancel(name)
        self._callbacks.clear()
        self._events.clear()
        self._assignment = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
