"""``Producer``: the client that writes records, mirroring ``confluent_kafka.Producer``.

What happens to one ``produce()`` call, as in librdkafka:

1. The key picks a partition (``partitioner``, default ``consistent_random``; see ``partitioner.py``).
   Records without a key stick to one random partition for ``sticky.partitioning.linger.ms``, so they
   fill one batch instead of many small ones.
2. The record waits in the partition's queue (the *accumulator*) for up to ``linger.ms`` so that it can
   travel in a batch with others (at most ``batch.num.messages``).
3. The batch goes to the partition leader. ``acks=0``: don't wait; ``acks=1``: the leader has it;
   ``acks=all`` (-1, the default): every in-sync replica has it (and the ISR is at least
   ``min.insync.replicas``).
4. Retriable errors (leader moved, broker unreachable, ``NOT_ENOUGH_REPLICAS``, timeouts) are retried
   after ``retry.backoff.ms`` until ``delivery.timeout.ms`` (alias ``message.timeout.ms``) runs out; then
   the delivery report carries ``_MSG_TIMED_OUT``.
5. The delivery report (``on_delivery(err, msg)``) is served from ``poll()`` or ``flush()``.

Retries without idempotence can **duplicate** records (the first attempt was written but its response was
lost) and, with ``max.in.flight.requests.per.connection`` > 1, **reorder** them (a later batch succeeds
while an earlier one waits for its retry). ``enable.idempotence=true`` gives the producer an id and
numbers every batch per partition, so the leader drops duplicates and refuses gaps; on an error the
producer resends the outstanding batches in order.

Transactions (``transactional.id``): ``init_transactions``, ``begin_transaction``,
``send_offsets_to_transaction``, ``commit_transaction``, ``abort_transaction`` (see ``transactions.py``).

Virtual time: nothing here waits for real. ``poll(timeout)`` and ``flush(timeout)`` run the cluster's
clock forward (timeouts are virtual seconds) until there is something to report. Simplifications: one
request per batch per partition; ``max.in.flight`` is counted per partition, not per broker connection.
Timeouts are taken as confluent-kafka takes them (:mod:`eventsim.timeouts`): ``None`` is a ``TypeError``, a
wait forever is bounded, and an empty ``poll(0)`` or ``flush(0)`` lets 1 ms of virtual time pass.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass

from . import partitioner as _partitioner
from . import timeouts as _timeouts
from .client_identity import ClientIdentity
from .cluster import Cluster
from .compression import BATCH_OVERHEAD, varint_size
from .config import client_config, require_conf_dict, validate_topic_name
from .errors import KafkaError, KafkaException
from .log import Record
from .message import OFFSET_INVALID, TIMESTAMP_CREATE_TIME, TIMESTAMP_NOT_AVAILABLE, Message
from .produce_batch import ProduceBatch


@dataclass(eq=False)
class _Pending:
    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    headers: list | None
    timestamp: int
    on_delivery: object
    enqueued_ms: int


@dataclass(eq=False)
class _Batch:
    partition: tuple
    msgs: list
    base_sequence: int = -1
    attempts: int = 0
    generation: int = 0
    timer: object = None
    done: bool = False
    sent_order: int = 0
    held: tuple | None = None      # a response read out of order, waiting for earlier ones


def _to_bytes(value, what, argument=None):
    """A key, value or header value as bytes. confluent-kafka takes ``str`` (encoded as UTF-8), read-only
    bytes-like objects (``bytes``) and ``None``; a ``bytearray`` or ``memoryview`` is a ``TypeError``."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytearray, memoryview)) and argument is not None:
        raise TypeError(f"argument {argument} must be read-only bytes-like object, not {type(value).__name__}")
    raise TypeError(f"{what} must be bytes or str (or None), not {type(value).__name__}: "
                    f"serialize it first, e.g. json.dumps(obj).encode()")


def _c_int(value, bits, name):
    """An argument confluent-kafka converts to a C integer (``int32_t`` partition, ``int64_t`` timestamp)."""
    if not isinstance(value, int):
        raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer ({name})")
    if not -2**(bits - 1) <= value < 2**(bits - 1):
        raise OverflowError(f"{name} {value} does not fit a signed {bits}-bit integer")
    return int(value)


def _fenced():
    """What librdkafka raises once its producer is fenced (PRODUCER_FENCED or INVALID_PRODUCER_EPOCH from a
    broker): the fatal ``_FENCED``, from the failing call and every transactional call after it."""
    return KafkaError(KafkaError._FENCED, fatal=True,
                      reason="This producer has been fenced by a newer instance with the same transactional.id")


def _first_set(*callbacks):
    """The first callback that is given (``is not None``: a callable object may well be falsy)."""
    return next((cb for cb in callbacks if cb is not None), None)


def _normalize_headers(headers):
    """Headers as confluent-kafka takes them: a dict, or a list of ``(key, value)`` tuples; keys ``str`` (or
    bytes, decoded), values ``bytes``, ``str`` or ``None``."""
    if headers is None:
        return None
    if isinstance(headers, dict):
        items = list(headers.items())
    elif isinstance(headers, list):
        items = headers
        if not all(isinstance(item, tuple) and len(item) == 2 for item in items):
            raise TypeError("Headers are expected to be a list of (key, value) tuples")
    else:
        raise TypeError(f"expected headers to be dict or list of (key, value) tuples, not {type(headers).__name__}")
    out = []
    for key, value in items:
        if isinstance(key, bytes):
            key = key.decode("utf-8", errors="replace")
        if not isinstance(key, str):
            raise TypeError(f"expected header key to be unicode string, not {type(key).__name__}")
        if value is not None and not isinstance(value, (bytes, str)):
            raise TypeError(f"expected header value to be None, binary, or unicode string, not {type(value).__name__}")
        out.append((key, _to_bytes(value, "header value")))
    return out


#: librdkafka's RD_KAFKAP_MESSAGE_V2_MAX_OVERHEAD: the most a v2 record adds to its key and value (length,
#: attributes, timestamp and offset deltas, key and value lengths, header count, as varints).
RECORD_MAX_OVERHEAD = 36


def _record_size(key, value, headers):
    """The size librdkafka compares with ``message.max.bytes`` before it queues a record (measured with
    confluent-kafka 2.16: a 999 964-byte value passes, 999 965 bytes are ``MSG_SIZE_TOO_LARGE``). Each header
    adds its name and value and their lengths as zig-zag varints (a 100-byte value's length takes 2 bytes)."""
    size = RECORD_MAX_OVERHEAD + len(key or b"") + len(value or b"")
    for k, v in headers or []:
        k = k.encode()
        size += varint_size(len(k)) + len(k) + varint_size(len(v or b"")) + len(v or b"")
    return size


def take_batch(queue, max_count, max_bytes):
    """The next batch from a partition's queue: at most ``batch.num.messages`` (``max_count``) records and,
    past the first, at most ``batch.size`` (``max_bytes``) bytes, each record counted as librdkafka does
    (key + value + headers + 36 bytes of overhead) plus the 61-byte batch header."""
    msgs, size = [queue.popleft()], BATCH_OVERHEAD
    size += _record_size(msgs[0].key, msgs[0].value, msgs[0].headers)
    while queue and len(msgs) < max_count:
        more = _record_size(queue[0].key, queue[0].value, queue[0].headers)
        if size + more > max_bytes:
            break
        msgs.append(queue.popleft())
        size += more
    return msgs


class Producer(ClientIdentity, ProduceBatch):
    """A simulated Kafka producer. ``Producer({"bootstrap.servers": cluster.bootstrap_servers})``.
    ``cluster_id``/``set_sasl_credentials`` come from :mod:`eventsim.client_identity`, ``produce_batch`` from
    :mod:`eventsim.produce_batch`."""

    def __init__(self, conf=None, **kwargs):
        require_conf_dict(conf, kwargs)
        conf = dict(conf or {}, **kwargs)
        self._conf = client_config(conf, "producer")
        self._cluster = Cluster.lookup(self._conf["bootstrap.servers"])
        self._clock = self._cluster.clock
        c = self._conf
        self._acks = int(c["acks"])
        self._linger = int(c["linger.ms"])
        self._max_message_bytes = int(c["message.max.bytes"])
        self._batch_max = int(c["batch.num.messages"])
        self._batch_bytes = int(c["batch.size"])
        self._compression = c["compression.type"]
        self._retries = int(c["retries"])
        self._backoff = int(c["retry.backoff.ms"])
        self._backoff_max = int(c.get("retry.backoff.max.ms", 1000))
        self._delivery_timeout = int(c["delivery.timeout.ms"])
        self._propagation_ms = int(c["topic.metadata.propagation.max.ms"])
        self._request_timeout = int(c["request.timeout.ms"])
        self._max_inflight = int(c["max.in.flight.requests.per.connection"])
        self._queue_max = int(c.get("queue.buffering.max.messages", 100000))
        self._transactional_id = c.get("transactional.id") or None
        self._idempotent = bool(c["enable.idempotence"]) or self._transactional_id is not None
        self._partitioner = _partitioner.Partitioner(c["partitioner"], int(c["sticky.partitioning.linger.ms"]))
        self._default_cb = _first_set(conf.get("on_delivery"), conf.get("delivery_report"), conf.get("dr_cb"))
        self._queues = collections.defaultdict(collections.deque)   # (topic, p) -> deque[_Pending]
        self._inflight = collections.defaultdict(list)              # (topic, p) -> [_Batch]
        self._linger_timers = {}
        self._reports = collections.deque()
        self._outstanding = 0
        self._leaders = {}
        self._generation = collections.defaultdict(int)
        self._retry_pending = {}                                      # (topic, p) -> batches a scheduled retry resends
        self._sent_counter = 0
        self._pid, self._epoch = -1, -1
        self._next_seq = collections.defaultdict(int)
        self._txn_state = "Init" if self._transactional_id else None
        self._txn_partitions = set()
        self._txn_error = None
        self._txn_failed_deliveries = 0    # delivery reports with an error in the open transaction
        self._closed = False
        self._missing_topics = set()       # topics this producer has reported as not existing
        self._metadata_ms = int(c.get("topic.metadata.refresh.interval.ms", 300000))
        self._partition_counts = {}        # topic -> (partition count, when learned): the metadata cache
        if self._idempotent and not self._transactional_id:
            self._cluster.transactions.init_producer_id(None, 0, self._set_pid)

    def _set_pid(self, err, pid, epoch):
        if err is None:
            self._pid, self._epoch = pid, epoch

    def __repr__(self):
        return f"<eventsim.Producer to {self._cluster.bootstrap_servers}, {len(self)} message(s) outstanding>"

    def __len__(self):
        """Messages produced whose delivery report has not been served yet (as librdkafka's len())."""
        return self._outstanding

    # -- produce -------------------------------------------------------------------------------------
    def produce(self, topic, value=None, key=None, partition=-1, on_delivery=None, callback=None,
                timestamp=0, headers=None):
        """Queue one record. Raises ``BufferError`` when the queue is full, ``TypeError`` for bad types."""
        self._check_open()
        if not isinstance(topic, str):
            raise TypeError(f"argument 1 must be str, not {type(topic).__name__}")
        partition = _c_int(partition, 32, "partition")
        timestamp = _c_int(timestamp, 64, "timestamp")
        value, key = _to_bytes(value, "value", 2), _to_bytes(key, "key", 3)
        headers = _normalize_headers(headers)
        if _record_size(key, value, headers) > self._max_message_bytes:
            raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, reason=(
                "Unable to produce message: Broker: Message size too large (key, value and headers are over "
                f"message.max.bytes={self._max_message_bytes})")))
        self._check_partition_known(topic, partition)
        cb = _first_set(on_delivery, callback, self._default_cb)
        if self._txn_state is not None and self._txn_state != "InTransaction":
            raise KafkaException(KafkaError(KafkaError._STATE,
                                            reason=f"Operation not valid in state {self._txn_state}: a transactional "
                                                   f"producer must call begin_transaction() before produce()"))
        self._check_known_missing(topic)
        if self._outstanding >= self._queue_max:
            raise BufferError("Local: Queue full")
        self._enqueue(topic, partition, key, value, headers, timestamp, cb)

    def _enqueue(self, topic, partition, key, value, headers, timestamp, cb):
        """Count the record as outstanding and route it (``timestamp`` 0: now, as librdkafka takes it)."""
        msg = _Pending(topic, partition, key, value, headers, timestamp if timestamp != 0 else self._clock.now_ms,
                       cb, self._clock.now_ms)
        self._outstanding += 1
        self._route(msg)

    def _check_known_missing(self, topic):
        """Once a topic has been reported missing, librdkafka refuses further records for it at the call:
        ``produce()`` raises ``_UNKNOWN_TOPIC`` ("Local: Unknown topic"). Simplified: librdkafka keeps that
        verdict until its next metadata refresh shows the topic; the simulator forgets it as soon as the
        topic exists."""
        if topic not in self._missing_topics:
            return
        if self._cluster.partition_count(topic) is not None:
            self._missing_topics.discard(topic)
            return
        raise KafkaException(KafkaError(
            KafkaError._UNKNOWN_TOPIC, reason=f"Unable to produce message: Local: Unknown topic: topic '{topic}' "
                                              f"does not exist (auto.create.topics.enable=false)"))

    def _check_partition_known(self, topic, partition):
        """With the topic's metadata at hand, librdkafka refuses a partition the topic does not have at the
        call (``_UNKNOWN_PARTITION``); before it has metadata, the record is queued and fails in its delivery
        report instead (see :meth:`_route`)."""
        cached = self._partition_counts.get(topic)
        if cached is not None and not -1 <= partition < cached[0]:
            raise KafkaException(KafkaError(KafkaError._UNKNOWN_PARTITION,
                                            reason="Unable to produce message: Local: Unknown partition"))

    def _partition_count(self, topic):
        """The topic's partition count from this producer's metadata cache. librdkafka learns a topic's
        partitions when it first uses the topic and again at each periodic metadata refresh
        (``topic.metadata.refresh.interval.ms``, 5 minutes by default), so partitions added in between are
        not used until then (checked on Kafka 4.4: keys keep their old partitions right after
        ``create_partitions``). Simplified: the simulator refreshes only on that period, not also after
        errors."""
        cached = self._partition_counts.get(topic)
        if cached is not None and (self._metadata_ms < 0 or self._clock.now_ms - cached[1] < self._metadata_ms):
            return cached[0]
        count = self._cluster.partition_count(topic)
        if count is not None:
            self._partition_counts[topic] = (count, self._clock.now_ms)
        return count

    def _route(self, msg):
        """Pick the partition. A topic the metadata does not know may still be propagating after its creation:
        librdkafka waits ``topic.metadata.propagation.max.ms`` for it, then fails the record with the broker's
        ``UNKNOWN_TOPIC_OR_PART`` in the delivery report (as librdkafka 2.x does against Kafka 4.x)."""
        if validate_topic_name(msg.topic) is not None:      # the broker's Metadata answer for such a name
            return self._report(msg, KafkaError(KafkaError.TOPIC_EXCEPTION, reason="Broker: Invalid topic"))
        count = self._partition_count(msg.topic)
        if count is None:
            waited = self._clock.now_ms - msg.enqueued_ms
            if waited >= self._propagation_ms:
                self._missing_topics.add(msg.topic)
                return self._report(msg, KafkaError(
                    KafkaError.UNKNOWN_TOPIC_OR_PART,
                    reason=f"Broker: Unknown topic or partition: topic '{msg.topic}' does not exist and the "
                           f"cluster does not create topics automatically (auto.create.topics.enable=false); "
                           f"create it with AdminClient.create_topics()"))
            self._clock.schedule(min(1000, self._propagation_ms - waited), lambda: self._route(msg),
                                 "wait for topic metadata")
            return
        if msg.partition == -1:
            msg.partition = self._partitioner.partition(msg.topic, msg.key, count, self._cluster.rng, self._clock.now_ms)
        elif not 0 <= msg.partition < count:
            return self._report(msg, KafkaError(
                KafkaError._UNKNOWN_PARTITION,
                reason=f"Local: Unknown partition: {msg.topic} has {count} partition(s), not {msg.partition + 1}+"))
        tp = (msg.topic, msg.partition)
        if self._txn_state == "InTransaction" and tp not in self._txn_partitions:
            err = self._cluster.transactions.add_partitions(self._transactional_id, self._pid, self._epoch, [tp])
            if err is not None:
                self._txn_fail(err)
                return self._report(msg, err)
            self._txn_partitions.add(tp)
        self._queues[tp].append(msg)
        if len(self._queues[tp]) >= self._batch_max:
            self._send_ready(tp)
        elif tp not in self._linger_timers:
            self._linger_timers[tp] = self._clock.schedule(self._linger, lambda: self._linger_expired(tp), "linger")

    def _linger_expired(self, tp):
        self._linger_timers.pop(tp, None)
        self._send_ready(tp)

    # -- sending -------------------------------------------------------------------------------------
    def _send_ready(self, tp):
        """Send batches from the partition's queue while in-flight requests allow it."""
        queue = self._queues[tp]
        while queue and len(self._inflight[tp]) < self._max_inflight:
            if self._idempotent and self._pid < 0:
                self._clock.schedule(self._backoff, lambda: self._send_ready(tp), "wait for producer id")
                return
            msgs = take_batch(queue, self._batch_max, self._batch_bytes)
            batch = _Batch(tp, msgs)
            if self._idempotent:
                batch.base_sequence = self._next_seq[tp]
                self._next_seq[tp] += len(msgs)
            self._send(batch)
        if queue and tp not in self._linger_timers and not self._inflight[tp]:
            self._linger_timers[tp] = self._clock.schedule(self._linger, lambda: self._linger_expired(tp), "linger")

    def _send(self, batch):
        tp = batch.partition
        batch.attempts += 1
        batch.generation = self._generation[tp]
        batch.held = None
        self._sent_counter += 1
        batch.sent_order = self._sent_counter
        self._inflight[tp].append(batch)
        leader = self._leaders.get(tp)
        if leader is None or leader < 0:
            leader = self._leaders[tp] = self._cluster.leader_for(*tp)
        records = [Record(key=m.key, value=m.value, headers=m.headers, timestamp=m.timestamp,
                          timestamp_type=TIMESTAMP_CREATE_TIME) for m in batch.msgs]
        if self._acks == 0:
            self._cluster.produce(tp[0], tp[1], records, acks=0, on_done=lambda err, base: None,
                                  leader_hint=leader if leader >= 0 else None, compression=self._compression)
            self._clock.schedule(0, lambda: self._on_response(batch, batch.generation, None, OFFSET_INVALID, None))
            return
        batch.timer = self._clock.schedule(self._request_timeout, lambda: self._on_response(
            batch, batch.generation, KafkaError(KafkaError._TIMED_OUT, reason="Local: Timed out (request.timeout.ms)"),
            -1, None), "produce request timeout")
        self._cluster.produce(tp[0], tp[1], records, acks=self._acks, leader_hint=leader if leader >= 0 else None,
                              on_done=lambda err, base, g=batch.generation, r=records:
                              self._on_response(batch, g, err, base, r),
                              producer_id=self._pid, producer_epoch=self._epoch,
                              base_sequence=batch.base_sequence, transactional=self._transactional_id is not None,
                              compression=self._compression)

    def _awaiting(self, tp):
        """In-flight batches still waiting for their response, in the order they were sent."""
        return sorted((b for b in self._inflight[tp] if b.generation >= 0 and not b.done), key=lambda b: b.sent_order)

    def _on_response(self, batch, generation, err, base_offset, records):
        """A response (or a request timeout) for one batch.

        Responses on one connection are read in the order the requests were sent, so a response that
        overtakes an earlier, still unanswered request waits for it. A request timeout tears the connection
        down, as librdkafka does: every request still in flight on it fails and is retried."""
        if batch.done or generation != batch.generation or batch not in self._inflight[batch.partition]:
            return
        tp = batch.partition
        timed_out = err is not None and err.code() == KafkaError._TIMED_OUT
        if timed_out:
            for other in self._awaiting(tp):
                if other is not batch:
                    if other.timer is not None:
                        other.timer.cancel()
                    self._handle_response(other, err, -1, None)
            return self._handle_response(batch, err, -1, None)
        earlier = [b for b in self._awaiting(tp) if b.sent_order < batch.sent_order]
        if earlier:
            batch.held = (err, base_offset, records)
            return
        self._handle_response(batch, err, base_offset, records)
        for b in self._awaiting(tp):
            if b.held is None:
                break
            held, b.held = b.held, None
            self._handle_response(b, *held)

    def _handle_response(self, batch, err, base_offset, records):
        tp = batch.partition
        if batch.done or batch not in self._inflight[tp] or batch.generation < 0:
            return
        if batch.timer is not None:
            batch.timer.cancel()
        self._inflight[tp].remove(batch)
        if err is None:
            batch.done = True
            for i, m in enumerate(batch.msgs):
                offset = base_offset + i if base_offset >= 0 else OFFSET_INVALID
                ts = records[i].timestamp if records else m.timestamp
                self._report(m, None, offset, ts, records[i].timestamp_type if records else TIMESTAMP_CREATE_TIME)
            return self._send_ready(tp)
        self._leaders.pop(tp, None)     # refresh metadata on any error
        if self._should_retry(batch, err):
            return self._retry(batch)
        batch.done = True
        if self._transactional_id and err.code() in (KafkaError.INVALID_PRODUCER_EPOCH, KafkaError.PRODUCER_FENCED):
            err = KafkaError(KafkaError.PRODUCER_FENCED, fatal=True,
                             reason="Broker: Producer fenced: a newer producer with the same transactional.id "
                                    "has called init_transactions(); this instance must be closed")
            self._txn_state = "Fenced"
        elif err.code() in (KafkaError._TIMED_OUT,) or self._expired(batch):
            err = KafkaError(KafkaError._MSG_TIMED_OUT, reason=f"Local: Message timed out ({err.str()})")
        for m in batch.msgs:
            self._report(m, err)
        if self._transactional_id:
            self._txn_error = err
        self._send_ready(tp)

    def _expired(self, batch):
        return self._clock.now_ms - batch.msgs[0].enqueued_ms >= self._delivery_timeout

    def _should_retry(self, batch, err):
        retriable = err.retriable() or err.code() in (KafkaError._TIMED_OUT, KafkaError._TRANSPORT,
                                                      KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER,
                                                      KafkaError.UNKNOWN_PRODUCER_ID)
        return retriable and batch.attempts <= self._retries and not self._expired(batch)

    def _retry(self, batch):
        """Put the batch back at the head of its queue after ``retry.backoff.ms`` (exponential, capped).

        Idempotent producer: every other in-flight batch of the partition is resent too, in sequence order,
        so the leader sees the sequence without gaps (duplicates are answered from its batch cache)."""
        tp = batch.partition
        delay = min(self._backoff * (2 ** (batch.attempts - 1)), max(self._backoff, self._backoff_max))
        to_resend = [batch]
        if self._idempotent:
            self._generation[tp] += 1
            to_resend += [b for b in self._inflight[tp] if b is not batch]
            for b in self._inflight[tp]:
                if b.timer is not None:
                    b.timer.cancel()
            pending = self._retry_pending.get(tp)
            if pending is not None:
                # A retry of this partition is already scheduled: these batches join it, so every batch is
                # resent exactly once, all of them in sequence order, when that retry runs.
                pending.extend(b for b in to_resend if b not in pending)
                pending.sort(key=lambda b: b.base_sequence)
                to_resend = pending
            else:
                to_resend.sort(key=lambda b: b.base_sequence)
        for b in to_resend:
            b.generation = -1
        # A batch waiting for its retry keeps its in-flight slot: with max.in.flight=1 nothing overtakes it.
        self._inflight[tp] = [b for b in self._inflight[tp] if b not in to_resend] + to_resend
        if self._idempotent:
            if tp in self._retry_pending:
                return
            self._retry_pending[tp] = to_resend
        self._clock.schedule(delay, lambda: self._resend(tp, to_resend), "retry.backoff.ms")

    def _resend(self, tp, batches):
        if self._retry_pending.get(tp) is batches:
            del self._retry_pending[tp]
        for b in batches:
            if b in self._inflight[tp]:
                self._inflight[tp].remove(b)
            if b.done:
                continue
            if self._expired(b):
                b.done = True
                for m in b.msgs:
                    self._report(m, KafkaError(KafkaError._MSG_TIMED_OUT))
                continue
            self._send(b)
        self._send_ready(tp)

    # -- delivery reports ----------------------------------------------------------------------------
    def _report(self, msg, err, offset=OFFSET_INVALID, ts=None, ts_type=TIMESTAMP_CREATE_TIME):
        """Queue the delivery report. As confluent-kafka builds it: no headers, ``latency()`` the seconds since
        ``produce()`` (also for a failure), and a failure has no timestamp (``(TIMESTAMP_NOT_AVAILABLE, -1)``)."""
        timestamp = (ts_type, ts if ts is not None else msg.timestamp) if err is None else (TIMESTAMP_NOT_AVAILABLE, -1)
        report = Message(msg.topic, msg.partition if msg.partition >= 0 else -1, offset, msg.key, msg.value,
                         None, timestamp, err, latency=(self._clock.now_ms - msg.enqueued_ms) / 1000.0)
        self._reports.append((msg.on_delivery, err, report))
        if err is not None and self._txn_state == "InTransaction":
            self._txn_failed_deliveries += 1

    def _serve(self, max_reports=None):
        served = 0
        while self._reports and (max_reports is None or served < max_reports):
            cb, err, report = self._reports.popleft()
            self._outstanding -= 1
            served += 1
            if cb is not None:
                cb(err, report)
        return served

    def _pending_work(self):
        return self._outstanding > len(self._reports)

    def poll(self, timeout=-1):
        """Serve delivery reports; if there are none, let up to ``timeout`` virtual seconds pass (at least
        :data:`~eventsim.timeouts.MIN_WAIT_MS`: a ``poll(0)`` loop lets time pass, as a real one does)."""
        self._check_open()
        timeout_ms = self._timeout_ms(timeout, _timeouts.MIN_WAIT_MS)
        if not self._reports and self._pending_work():
            self._cluster.run_until(lambda: bool(self._reports), timeout_ms)
        elif not self._reports:
            self._cluster.run_until(lambda: False, _timeouts.MIN_WAIT_MS)
        return self._serve()

    def flush(self, timeout=-1):
        """Send everything and wait (virtually) for every delivery report; returns what is still outstanding."""
        self._check_open()
        for tp in list(self._queues):
            timer = self._linger_timers.pop(tp, None)
            if timer is not None:
                timer.cancel()
            self._send_ready(tp)
        deadline = self._timeout_ms(timeout, _timeouts.MIN_WAIT_MS)
        start = self._clock.now_ms
        while True:
            self._serve()
            if not self._pending_work():
                break
            left = deadline - (self._clock.now_ms - start)
            if left <= 0 or not self._cluster.run_until(lambda: bool(self._reports), left):
                break
        self._serve()
        return len(self)

    def _timeout_ms(self, timeout, minimum_ms=0):
        """Seconds as confluent-kafka takes them -> virtual ms; "forever" is bounded by the longest a record
        can take to be delivered or fail (see :mod:`eventsim.timeouts`)."""
        return _timeouts.timeout_ms(timeout, self._delivery_timeout + self._request_timeout + 60000, minimum_ms)

    def purge(self, in_queue=True, in_flight=True, blocking=True):
        """Drop queued messages (their reports carry ``_PURGE_QUEUE``)."""
        self._check_open()
        if in_queue:
            for tp, queue in self._queues.items():
                while queue:
                    self._report(queue.popleft(), KafkaError(KafkaError._PURGE_QUEUE))
        if in_flight:
            for tp, batches in self._inflight.items():
                for b in batches:
                    b.done = True
                    if b.timer is not None:
                        b.timer.cancel()
                    for m in b.msgs:
                        self._report(m, KafkaError(KafkaError._PURGE_INFLIGHT))
                batches.clear()

    def list_topics(self, topic=None, timeout=-1):
        if self._closed:
            raise RuntimeError("Handle has been closed")
        _timeouts.timeout_ms(timeout, 0)
        from .admin import cluster_metadata
        return cluster_metadata(self._cluster, topic)

    def _check_open(self):
        if self._closed:
            raise RuntimeError("Producer has been closed")

    # -- transactions --------------------------------------------------------------------------------
    def _require_txn(self, *states):
        self._check_open()
        if self._transactional_id is None:
            raise KafkaException(KafkaError(KafkaError._NOT_CONFIGURED,
                                            reason="The Transactional API requires transactional.id to be configured"))
        if self._txn_state == "Fenced":
            raise KafkaException(_fenced())
        if self._txn_state == "Fatal":      # librdkafka raises its fatal error again from every call
            raise KafkaException(self._txn_error)
        if states and self._txn_state not in states:
            raise KafkaException(KafkaError(KafkaError._STATE,
                                            reason=f"Operation not valid in state {self._txn_state}"))

    def _txn_fail(self, err):
        if err.code() == KafkaError.PRODUCER_FENCED:
            self._txn_state = "Fenced"
        self._txn_error = err

    def _wait(self, done, timeout):
        self._cluster.run_until(lambda: done["v"] is not None, self._timeout_ms(timeout))
        if done["v"] is None:
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT, retriable=True))
        return done["v"]

    def init_transactions(self, timeout=-1):
        """InitProducerId: get the producer id and a new epoch, fencing older producers with this id."""
        self._require_txn("Init")
        done = {"v": None}

        def on_done(err, pid, epoch):
            done["v"] = (err, pid, epoch)
        self._cluster.transactions.init_producer_id(self._transactional_id,
                                                    int(self._conf["transaction.timeout.ms"]), on_done)
        err, pid, epoch = self._wait(done, timeout)
        if err is not None:
            if err.fatal():
                self._txn_state, self._txn_error = "Fatal", err
            raise KafkaException(err)
        self._pid, self._epoch = pid, epoch
        self._next_seq.clear()
        self._txn_state = "Ready"

    def begin_transaction(self):
        self._require_txn("Ready")
        self._txn_state = "InTransaction"
        self._txn_partitions = set()
        self._txn_error = None
        self._txn_failed_deliveries = 0

    def send_offsets_to_transaction(self, positions, group_metadata, timeout=-1):
        """Commit the consumer's offsets as part of this transaction (consume-transform-produce)."""
        self._require_txn("InTransaction")
        group_id = getattr(group_metadata, "group_id", None)
        if not group_id:
            raise KafkaException(KafkaError(KafkaError._INVALID_ARG,
                                            reason="group_metadata must come from consumer.consumer_group_metadata()"))
        offsets = {}
        for tp in positions:
            if tp.offset < 0:
                raise KafkaException(KafkaError(KafkaError._INVALID_ARG,
                                                reason=f"invalid offset {tp.offset} for {tp.topic}[{tp.partition}]"))
            offsets[(tp.topic, tp.partition)] = tp.offset
        err = self._cluster.transactions.add_offsets(self._transactional_id, self._pid, self._epoch, group_id, offsets)
        if err is not None:
            self._txn_fail(err)
            raise KafkaException(err)

    def _end(self, commit, timeout):
        done = {"v": None}
        self._cluster.transactions.end_txn(self._transactional_id, self._pid, self._epoch, commit,
                                           lambda err: done.__setitem__("v", (err,)))
        (err,) = self._wait(done, timeout)
        if err is not None:
            self._txn_fail(err)
            raise KafkaException(_fenced() if self._txn_state == "Fenced" else err)
        self._txn_state = "Ready"

    def commit_transaction(self, timeout=-1):
        """Flush, then write COMMIT markers; the transaction's records become visible to read_committed."""
        self._require_txn("InTransaction")
        self.flush(timeout)
        if self._txn_state == "Fenced":
            raise KafkaException(_fenced())
        if self._txn_error is not None:
            err = self._txn_error
            raise KafkaException(KafkaError(err.code(), reason=f"{err.str()}: the transaction must be aborted",
                                            txn_requires_abort=True))
        if self._txn_failed_deliveries:     # e.g. a record for a topic that does not exist
            raise KafkaException(KafkaError(KafkaError._INCONSISTENT, txn_requires_abort=True, reason=(
                f"{self._txn_failed_deliveries} message(s) failed delivery (see individual delivery reports): "
                f"the transaction must be aborted")))
        self._end(True, timeout)

    def abort_transaction(self, timeout=-1):
        """Drop what is queued, then write ABORT markers: read_committed consumers will skip these records."""
        self._require_txn("InTransaction")     # librdkafka: _STATE when no transaction is open
        self.purge(in_queue=True, in_flight=False)
        self.flush(timeout)
        self._txn_error = None
        self._txn_failed_deliveries = 0
        self._end(False, timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        """confluent-kafka 2.16: leaving a ``with Producer(...)`` block flushes and closes the producer."""
        self.close()
        return False

    def close(self):
        """Flush, then release the producer (confluent-kafka 2.16's ``Producer.close()``). Returns ``True``, also
        when called again; every other call on a closed producer raises ``RuntimeError``."""
        if not self._closed:
            self.flush()
            self._closed = True
        return True
