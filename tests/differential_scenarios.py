"""Scenarios for the differential suite (``tests/test_differential.py``).

Each scenario is written once, against the confluent-kafka client API, as a function
``scenario(run) -> observation``: ``run`` (a :class:`Run`) wraps one backend handle from
``eventsim.connect()`` (the simulator, or the session's local real-Kafka cluster) and the scenario returns
only what a client can observe (delivery reports, offsets, values, error codes, assignment sizes). The
test runs it on both backends and compares the two observations.

Scenarios never sleep and never read the wall clock: they wait by calling ``poll()`` / ``flush()`` a
bounded number of times. On the simulator those calls run the virtual clock, on real Kafka they wait for
real, so the same code waits correctly on both.
"""
from __future__ import annotations

import collections

#: How many ``poll(POLL_S)`` rounds a wait may take before it gives up (60 s on real Kafka).
POLL_S = 0.1
MAX_POLLS = 600


# -- the backend-neutral harness --------------------------------------------------------------------------
class Api:
    """The client library a backend's clients belong to: eventsim's on the simulator, confluent-kafka's on
    real Kafka (confluent-kafka's C types refuse eventsim's objects, so code names the library once)."""

    def __init__(self, backend):
        if backend == "sim":
            from eventsim import KafkaError, KafkaException, NewPartitions, NewTopic, TopicPartition
            from eventsim.message import OFFSET_BEGINNING, OFFSET_END
        else:
            from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, KafkaError, KafkaException, TopicPartition
            from confluent_kafka.admin import NewPartitions, NewTopic
        self.KafkaError, self.KafkaException = KafkaError, KafkaException
        self.NewTopic, self.NewPartitions, self.TopicPartition = NewTopic, NewPartitions, TopicPartition
        self.OFFSET_BEGINNING, self.OFFSET_END = OFFSET_BEGINNING, OFFSET_END


class Run:
    """One scenario on one backend: the handle, its client library, unique names, topics to delete."""

    def __init__(self, kafka, unique_name):
        self.kafka = kafka
        self.backend = kafka.backend
        self.api = Api(kafka.backend)
        self.unique_name = unique_name
        self.created = []

    def admin(self):
        """A new AdminClient: after a broker stop a fresh one starts from current metadata (see
        ``eventsim.backends.realsnapshot.fresh_admin`` for the librdkafka abort an old one can hit)."""
        return self.kafka.admin({"log_level": 0} if self.backend != "sim" else {})

    def topic(self, partitions=1, replication_factor=3, config=None, prefix="topic"):
        """Create a topic (deleted by :meth:`cleanup`) and wait until every broker knows its leaders."""
        name = self.unique_name(prefix)
        new = self.api.NewTopic(name, partitions, replication_factor, config=dict(config or {}))
        admin = self.admin()                # kept alive until the result is in (a destroyed client fails it)
        admin.create_topics([new], operation_timeout=30)[name].result(timeout=60)
        self.created.append(name)
        if self.backend != "sim":
            from conftest import wait_for_topic
            wait_for_topic(self.kafka, name, partitions)
        return name

    def tp(self, topic, partition, offset=None):
        cls = self.api.TopicPartition
        return cls(topic, partition) if offset is None else cls(topic, partition, offset)

    def clock_ms(self):
        """The backend's own clock as a client sees it: the CreateTime the producer stamps on a probe record
        (ms since 1970 on both backends; the simulator's virtual clock starts at ``eventsim.clock.EPOCH_MS``)."""
        probe = self.topic(partitions=1, prefix="probe")
        stamps = []
        producer = self.kafka.Producer({})
        producer.produce(probe, b"probe", on_delivery=lambda err, msg: stamps.append(msg.timestamp()[1]))
        assert producer.flush(30) == 0 and len(stamps) == 1
        return stamps[0]

    def partition_info(self, topic, partition=0):
        """``(leader, sorted isr)`` of one partition, from a fresh client's metadata."""
        meta = self.admin().list_topics(topic, timeout=10).topics[topic].partitions[partition]
        return meta.leader, sorted(meta.isrs)

    def restart_stopped(self, brokers):
        """Start those of ``brokers`` that are down (for ``finally`` blocks: the session's real cluster is
        shared by every test and must be left whole, even when a stop failed half-way)."""
        for b in brokers:
            down = (not self.kafka.cluster.broker_alive(b) if self.backend == "sim"
                    else b not in self.kafka.alive_brokers())
            if down:
                self.kafka.start_broker(b)

    def cleanup(self):
        """Delete the topics this run created (a broker may be down in a failing test: best effort)."""
        if not self.created:
            return
        admin = self.admin()
        for future in admin.delete_topics(list(self.created), operation_timeout=30).values():
            try:
                future.result(timeout=60)
            except Exception:  # noqa: BLE001 - the session's cluster is torn down at the end anyway
                pass
        self.created.clear()


def error_code(err):
    return None if err is None else err.code()


def produce(producer, topic, rows, flush_timeout=60):
    """Produce ``rows`` (``(key, value)`` or ``(key, value, partition)``), flush, and return the delivery
    reports in the order they were served: ``[(error code | None, partition, offset, key, value)]``."""
    reports = []

    def on_delivery(err, msg):
        reports.append((error_code(err), msg.partition(), msg.offset() if err is None else None,
                        _text(msg.key()), _text(msg.value())))
    for row in rows:
        key, value = row[0], row[1]
        extra = {"partition": row[2]} if len(row) > 2 else {}
        producer.produce(topic, key=key, value=value, on_delivery=on_delivery, **extra)
        producer.poll(0)
    left = producer.flush(flush_timeout)
    assert left == 0, "%d message(s) still undelivered after flush(%s)" % (left, flush_timeout)
    return reports


def _text(b):
    """Bytes as text where they are UTF-8 (keys and values of the scenarios), else as hex (e.g. longs)."""
    if b is None:
        return None
    try:
        return b.decode()
    except UnicodeDecodeError:
        return b.hex()


def read_partitions(run, topic, partitions, isolation="read_committed"):
    """Every record the consumer sees from the beginning of each partition up to its end (partition EOF):
    ``{partition: [(offset, key, value)]}``."""
    consumer = run.kafka.Consumer({"group.id": run.unique_name("reader"), "enable.auto.commit": False,
                                   "enable.partition.eof": True, "isolation.level": isolation})
    consumer.assign([run.tp(topic, p, run.api.OFFSET_BEGINNING) for p in range(partitions)])
    out = {p: [] for p in range(partitions)}
    at_end = set()
    try:
        for _ in range(MAX_POLLS):
            msg = consumer.poll(POLL_S)
            if msg is None:
                continue
            if msg.error():
                assert msg.error().code() == run.api.KafkaError._PARTITION_EOF, msg.error()
                at_end.add(msg.partition())
                if len(at_end) == partitions:
                    break
                continue
            at_end.discard(msg.partition())
            out[msg.partition()].append((msg.offset(), _text(msg.key()), _text(msg.value())))
        else:
            raise AssertionError("%s: not every partition reached its end (EOF on %s)" % (topic, sorted(at_end)))
    finally:
        consumer.close()
    return out


def consume(consumer, n, what):
    """Poll one consumer until it has returned ``n`` records (events such as EOF are skipped)."""
    got = []
    for _ in range(MAX_POLLS):
        msg = consumer.poll(POLL_S)
        if msg is not None and not msg.error():
            got.append(msg)
            if len(got) >= n:
                return got
    raise AssertionError("gave up waiting for %s (%d of %d records)" % (what, len(got), n))


def poll_group(consumers, done, what):
    """Poll every consumer in turn until ``done()``; messages are returned per consumer."""
    got = [[] for _ in consumers]
    for _ in range(MAX_POLLS):
        for i, c in enumerate(consumers):
            msg = c.poll(POLL_S / len(consumers))
            if msg is not None and not msg.error():
                got[i].append(msg)
        if done():
            return got
    raise AssertionError("gave up waiting for " + what)


# -- the scenarios ------------------------------------------------------------------------------------------
def key_to_partition(run):
    """Key -> partition for librdkafka's default partitioner (``consistent_random``) and for
    ``murmur2_random`` (the Java client's), for 300 keys over 7 partitions, as the delivery reports say."""
    topic = run.topic(partitions=7, replication_factor=1)
    keys = ["key-%d" % i for i in range(250)] + ["user-%04d" % (i * 37) for i in range(50)]
    out = {}
    for name in ("consistent_random", "murmur2_random"):
        producer = run.kafka.Producer({"partitioner": name, "linger.ms": 5})
        reports = produce(producer, topic, [(k.encode(), b"x") for k in keys])
        assert all(err is None for err, *_ in reports)
        out[name] = {key: partition for _, partition, _, key, _ in reports}
    return out


def offsets_order_and_watermarks(run):
    """Offsets in the delivery reports, the per-partition order a consumer reads back, and the low/high
    watermarks (``get_watermark_offsets``) before and after producing."""
    topic = run.topic(partitions=3)
    probe = run.kafka.Consumer({"group.id": run.unique_name("probe")})
    before = [probe.get_watermark_offsets(run.tp(topic, p), timeout=10) for p in range(3)]
    producer = run.kafka.Producer({"acks": "all", "linger.ms": 5})
    rows = [(("k%d" % (i % 7)).encode(), ("v%d" % i).encode()) for i in range(60)]
    rows += [(None, ("explicit-%d" % i).encode(), 2) for i in range(5)]      # an explicit partition
    reports = produce(producer, topic, rows)
    after = [probe.get_watermark_offsets(run.tp(topic, p), timeout=10) for p in range(3)]
    probe.close()
    by_partition = collections.defaultdict(list)
    for err, partition, offset, key, value in reports:
        assert err is None
        by_partition[partition].append((offset, key, value))
    return {"reports": {p: sorted(v) for p, v in sorted(by_partition.items())},
            "read": read_partitions(run, topic, 3),
            "watermarks_before": [tuple(w) for w in before], "watermarks_after": [tuple(w) for w in after]}


def committed_offsets_and_resume(run):
    """A consumer commits chosen offsets and closes; a new consumer of the same group reads ``committed()``
    and resumes exactly there."""
    topic = run.topic(partitions=2)
    producer = run.kafka.Producer({})
    produce(producer, topic, [(None, ("p%d-%d" % (p, i)).encode(), p) for p in range(2) for i in range(10)])
    group = run.unique_name("group")
    conf = {"group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest"}
    first = run.kafka.Consumer(conf)
    first.subscribe([topic])
    seen = consume(first, 20, "the first consumer to read 20 records")
    committed_now = first.commit(offsets=[run.tp(topic, 0, 4), run.tp(topic, 1, 7)], asynchronous=False)
    first.close()
    second = run.kafka.Consumer(conf)
    committed = second.committed([run.tp(topic, 0), run.tp(topic, 1)], timeout=10)
    second.subscribe([topic])
    resumed = consume(second, 9, "the resumed consumer")
    extra = [m for m in (second.poll(POLL_S) for _ in range(10)) if m is not None and not m.error()]
    second.close()
    return {"first_read": len(seen),
            "commit_result": sorted((tp.partition, tp.offset) for tp in committed_now),
            "committed": sorted((tp.partition, tp.offset) for tp in committed),
            "resumed": sorted((m.partition(), m.offset(), _text(m.value())) for m in resumed + extra)}


def group_rebalances(run):
    """Assignment sizes of a group as a second and a third consumer join and then one leaves. Member ids and
    which member gets which partitions are not compared: ids are random on real Kafka, and the range
    assignor hands partitions out in member-id order."""
    topic = run.topic(partitions=6)
    group = run.unique_name("group")
    conf = {"group.id": group, "heartbeat.interval.ms": 500, "session.timeout.ms": 6000,
            "auto.offset.reset": "earliest"}
    members, steps = [], []

    def settled(n):
        def check():
            parts = [[(tp.topic, tp.partition) for tp in c.assignment()] for c in members]
            flat = [p for ps in parts for p in ps]
            return (len(members) == n and all(parts) and len(flat) == 6 and len(set(flat)) == 6)
        return check

    def add_member():
        c = run.kafka.Consumer(conf)
        c.subscribe([topic])
        members.append(c)

    try:
        for n in (1, 2, 3):
            add_member()
            poll_group(members, settled(n), "%d consumers to share 6 partitions" % n)
            steps.append(sorted(len(c.assignment()) for c in members))
        leaving = members.pop(1)
        leaving.close()
        poll_group(members, settled(2), "2 consumers to share 6 partitions after one left")
        steps.append(sorted(len(c.assignment()) for c in members))
    finally:
        for c in members:
            c.close()
    return steps


def auto_offset_reset(run):
    """Where a new group starts with ``auto.offset.reset`` earliest / latest, and the error with ``error``."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({})
    produce(producer, topic, [(None, ("old-%d" % i).encode()) for i in range(5)])
    out = {}

    def consumer(reset):
        c = run.kafka.Consumer({"group.id": run.unique_name("g-" + reset), "auto.offset.reset": reset,
                                "enable.partition.eof": True, "enable.auto.commit": False})
        c.subscribe([topic])
        return c

    def first_event(c):
        for _ in range(MAX_POLLS):
            msg = c.poll(POLL_S)
            if msg is not None:
                return msg
        raise AssertionError("no message or event")

    c = consumer("earliest")
    msg = first_event(c)
    out["earliest"] = (msg.offset(), _text(msg.value()))
    c.close()

    c = consumer("latest")
    eof = first_event(c)                   # positioned at the end: EOF before anything new arrives
    out["latest_eof"] = (error_code(eof.error()), eof.offset())
    produce(producer, topic, [(None, b"new-0"), (None, b"new-1")])
    msg = first_event(c)
    out["latest"] = (msg.offset(), _text(msg.value()))
    c.close()

    c = consumer("error")
    event = first_event(c)
    out["error"] = error_code(event.error())
    c.close()
    return out


def not_enough_replicas(run):
    """``min.insync.replicas=2`` and two of the three brokers down: an ``acks=all`` produce is refused with
    ``NOT_ENOUGH_REPLICAS`` (19) in the delivery report; ``acks=1`` still works. The two followers are
    stopped with a controlled shutdown (``clean=True``), which takes them out of the ISR at once; a crash
    would first cost ``broker.session.timeout.ms``. Both are restarted, and producing works again."""
    topic = run.topic(partitions=1, config={"min.insync.replicas": "2"})
    leader, isr = run.partition_info(topic)
    followers = [b for b in isr if b != leader]
    out = {"isr_before": len(isr)}
    try:
        for b in followers:
            run.kafka.stop_broker(b, clean=True)
        new_leader, isr_down = run.partition_info(topic)
        out["leader_kept"] = new_leader == leader
        out["isr_down"] = isr_down == [leader]
        strict = run.kafka.Producer({"acks": "all", "retries": 0})
        out["acks_all_no_retries"] = [r[0] for r in produce(strict, topic, [(None, b"refused")])]
        patient = run.kafka.Producer({"acks": "all", "message.timeout.ms": 3000})
        out["acks_all_timeout"] = [r[0] for r in produce(patient, topic, [(None, b"timed-out")])]
        leader_only = run.kafka.Producer({"acks": 1})
        out["acks_1"] = [r[0] for r in produce(leader_only, topic, [(None, b"leader-only")])]
    finally:
        run.restart_stopped(followers)
    after = run.kafka.Producer({"acks": "all"})
    out["after_restart"] = [r[0] for r in produce(after, topic, [(None, b"accepted")])]
    out["isr_after"] = len(run.partition_info(topic)[1])
    out["log"] = [v for _, _, v in read_partitions(run, topic, 1)[0]]
    return out


def read_committed_vs_uncommitted(run):
    """An aborted and a committed transaction: read_committed hides the aborted records, read_uncommitted
    shows them; both skip the transaction markers (they take offsets too). While a transaction is open, the
    high watermark a read_committed consumer sees is the last stable offset."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({"transactional.id": run.unique_name("txn")})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(3):
        producer.produce(topic, value=("aborted-%d" % i).encode())
    producer.flush(30)
    producer.abort_transaction(30)
    producer.begin_transaction()
    for i in range(2):
        producer.produce(topic, value=("committed-%d" % i).encode())
    producer.commit_transaction(30)
    producer.begin_transaction()
    producer.produce(topic, value=b"open-0")
    producer.flush(30)
    marks = {}
    for level in ("read_committed", "read_uncommitted"):
        c = run.kafka.Consumer({"group.id": run.unique_name("wm"), "isolation.level": level})
        marks[level] = tuple(c.get_watermark_offsets(run.tp(topic, 0), timeout=10))
        c.close()
    producer.commit_transaction(30)
    return {"watermarks_open_txn": marks,
            "read_committed": read_partitions(run, topic, 1, "read_committed")[0],
            "read_uncommitted": read_partitions(run, topic, 1, "read_uncommitted")[0]}


def transactional_offsets(run):
    """Consume-transform-produce: offsets sent with ``send_offsets_to_transaction`` become the group's
    committed offsets when the transaction commits, and are dropped when it aborts."""
    source = run.topic(partitions=1, prefix="in")
    sink = run.topic(partitions=1, prefix="out")
    produce(run.kafka.Producer({}), source, [(None, ("in-%d" % i).encode()) for i in range(6)])
    group = run.unique_name("group")
    consumer = run.kafka.Consumer({"group.id": group, "enable.auto.commit": False,
                                   "auto.offset.reset": "earliest", "isolation.level": "read_committed"})
    consumer.subscribe([source])
    producer = run.kafka.Producer({"transactional.id": run.unique_name("txn")})
    producer.init_transactions(30)
    msgs = consume(consumer, 6, "6 input records")
    out = {}
    for label, batch, commit in (("committed", msgs[:4], True), ("aborted", msgs[4:], False)):
        producer.begin_transaction()
        for m in batch:
            producer.produce(sink, value=m.value().upper())
        producer.send_offsets_to_transaction([run.tp(source, 0, batch[-1].offset() + 1)],
                                             consumer.consumer_group_metadata(), 30)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
        out[label] = [(tp.partition, tp.offset) for tp in consumer.committed([run.tp(source, 0)], timeout=10)]
    consumer.close()
    out["output"] = [v for _, _, v in read_partitions(run, sink, 1)[0]]
    return out


def leader_crash_keeps_acknowledged_records(run):
    """Crash the partition leader while an idempotent ``acks=all`` producer is writing (RF 3,
    ``min.insync.replicas=2``). Leadership moves to a member of the ISR, every acknowledged record is in the
    log once and in order, and the crashed broker rejoins the ISR after its restart. Which ISR member
    becomes leader is not compared: Kafka's controller and the simulator's may choose differently."""
    topic = run.topic(partitions=1, config={"min.insync.replicas": "2"})
    producer = run.kafka.Producer({"acks": "all", "enable.idempotence": True, "linger.ms": 5})
    reports = produce(producer, topic, [(None, ("before-%d" % i).encode()) for i in range(50)])
    leader, isr = run.partition_info(topic)
    out = {}
    try:
        run.kafka.stop_broker(leader, wait=False)          # SIGKILL; the producer finds out by itself
        reports += produce(producer, topic, [(None, ("after-%d" % i).encode()) for i in range(50)], 90)
        new_leader, isr_down = run.partition_info(topic)
        for _ in range(MAX_POLLS):                          # metadata may lag the failover for a moment
            if new_leader not in (-1, leader):
                break
            producer.poll(POLL_S)
            new_leader, isr_down = run.partition_info(topic)
        out["new_leader_from_old_isr"] = new_leader in isr and new_leader != leader
        out["isr_without_crashed"] = sorted(isr_down) == sorted(b for b in isr if b != leader)
    finally:
        run.restart_stopped([leader])
    out["delivery_errors"] = [r[0] for r in reports if r[0] is not None]
    acked = [r[4] for r in reports if r[0] is None]
    log = [v for _, _, v in read_partitions(run, topic, 1)[0]]
    out["acked"] = len(acked)
    out["log_equals_acked"] = log == acked
    out["isr_after_restart"] = run.partition_info(topic)[1] == sorted(isr)
    return out


def bad_input_errors(run):
    """Error codes for input both Kafkas refuse: an existing topic, a partition count that is no increase,
    a replication factor above the broker count, deleting a missing topic, and producing to a missing topic
    (the delivery report after ``topic.metadata.propagation.max.ms``)."""
    api = run.api
    topic = run.topic(partitions=2)
    admin = run.admin()

    def create_error(new_topic):
        try:
            admin.create_topics([new_topic], operation_timeout=30)[new_topic.topic].result(timeout=60)
        except api.KafkaException as exc:
            return exc.args[0].code()
        run.created.append(new_topic.topic)
        return None

    def future_error(futures):
        (future,) = futures.values()
        try:
            future.result(timeout=60)
        except api.KafkaException as exc:
            return exc.args[0].code()
        return None

    out = {"topic_exists": create_error(api.NewTopic(topic, 1, 1)),
           "replication_factor_above_brokers": create_error(api.NewTopic(run.unique_name("rf"), 1, 4)),
           "fewer_partitions": future_error(admin.create_partitions([api.NewPartitions(topic, 1)])),
           "same_partitions": future_error(admin.create_partitions([api.NewPartitions(topic, 2)])),
           "delete_missing": future_error(admin.delete_topics([run.unique_name("missing")]))}
    out["zero_partitions"] = create_error(api.NewTopic(run.unique_name("zero"), 0, 1))
    out["zero_replication_factor"] = create_error(api.NewTopic(run.unique_name("rf0"), 1, 0))
    try:                                    # below -1: refused by the client library before any request
        admin.create_topics([api.NewTopic(run.unique_name("neg"), -5, 1)])
        out["negative_partitions"] = "accepted"
    except (ValueError, api.KafkaException) as exc:
        out["negative_partitions"] = type(exc).__name__
    producer = run.kafka.Producer({"topic.metadata.propagation.max.ms": 2000, "message.timeout.ms": 10000})
    missing = run.unique_name("missing")
    out["produce_unknown_topic"] = [r[0] for r in produce(producer, missing, [(None, b"x")])]
    try:                                    # now the client knows the topic is missing: refused at the call
        producer.produce(missing, b"y")
        out["produce_known_missing_topic"] = "accepted"
    except api.KafkaException as exc:
        out["produce_known_missing_topic"] = exc.args[0].code()
    producer.flush(10)
    return out


def reference_topology(run):
    """``eventsim.streams.examples.run_reference_topology`` end to end; its topics are deleted afterwards."""
    from eventsim.streams.examples import run_reference_topology
    prefix = run.unique_name("diff") + "-"
    admin = run.admin()
    try:
        result = run_reference_topology(run.kafka.Producer, run.kafka.Consumer, admin, prefix)
        # Read each output topic once more, by partition (assign, to the end), as an independent count
        # of what the topology wrote.
        topics = admin.list_topics(timeout=10).topics
        result["records_written"] = {
            name: sum(len(rows) for rows in read_partitions(
                run, prefix + name, len(topics[prefix + name].partitions), "read_committed").values())
            for name in sorted(result["outputs"])}
        return result
    finally:
        run.created.extend(t for t in run.admin().list_topics(timeout=10).topics if t.startswith(prefix))


# -- the controller quorum and the control surface -------------------------------------------------------
def _create_error(run, prefix):
    """Create a topic; its error code or None. The admin client stays referenced until the answer is in
    (a confluent-kafka client that is garbage-collected fails its futures with ``_DESTROY``)."""
    admin = run.admin()
    name = run.unique_name(prefix)
    exc = admin.create_topics([run.api.NewTopic(name, 1, 3)], request_timeout=30)[name].exception(60)
    if exc is None:
        run.created.append(name)
    return None if exc is None else exc.args[0].code()


def _active_controller(run):
    return run.kafka.snapshot()["controller"]


def _wait_for(run, condition, seconds=40):
    """Let time pass (``kafka.wait``: virtual on the simulator) until ``condition()``; True if it held."""
    for _ in range(seconds * 2):
        if condition():
            return True
        run.kafka.wait(500)
    return condition()


def _restart_stopped_controllers(run):
    for c in run.kafka.snapshot()["controllers"]:
        if not c["alive"]:
            run.kafka.start_controller(c["id"])


def one_controller_down(run):
    """Stop the active KRaft controller: the other two elect a new active one and metadata writes
    (creating a topic) work as before; so do produce and consume."""
    topic = run.topic(partitions=1)
    first = _active_controller(run)
    out = {}
    try:
        run.kafka.stop_controller(first)
        second = _active_controller(run)
        out["new_active_elected"] = second is not None and second != first
        out["running"] = sum(c["alive"] for c in run.kafka.snapshot()["controllers"])
        out["create_after"] = _create_error(run, "after")
        reports = produce(run.kafka.Producer({"acks": "all"}), topic, [(None, b"v%d" % i) for i in range(5)])
        out["delivered"] = [r[0] for r in reports]
        out["read"] = [v for _, _, v in read_partitions(run, topic, 1)[0]]
    finally:
        _restart_stopped_controllers(run)
    out["active_after_restart"] = _active_controller(run) is not None
    return out


def quorum_majority_lost(run):
    """Stop two of three controllers. Metadata writes time out (``_TIMED_OUT`` after the request timeout);
    produce (``acks=all``, every broker alive) and a new consumer group work on existing partitions. After
    the controllers return, metadata writes work again."""
    topic = run.topic(partitions=1, config={"min.insync.replicas": "2"})
    first = _active_controller(run)
    out = {}
    try:
        run.kafka.stop_controller(first)
        run.kafka.stop_controller(_active_controller(run))
        out["active_while_lost"] = _active_controller(run)
        admin = run.admin()
        frozen = run.unique_name("frozen")
        future = admin.create_topics([run.api.NewTopic(frozen, 1, 3)], request_timeout=5)[frozen]
        try:
            future.result(90)
            out["create_while_lost"] = None
        except run.api.KafkaException as exc:
            out["create_while_lost"] = exc.args[0].name()
        except TimeoutError:
            # seen on Kafka 4.4 with librdkafka 2.16, now and then: the forwarded request is never answered
            # and the client does not give up either
            out["create_while_lost"] = "no answer"
        out["frozen_topic_exists"] = frozen in run.admin().list_topics(timeout=10).topics
        reports = produce(run.kafka.Producer({"acks": "all"}), topic, [(None, b"v%d" % i) for i in range(5)])
        out["delivered_while_lost"] = [r[0] for r in reports]
        group = run.kafka.Consumer({"group.id": run.unique_name("g"), "auto.offset.reset": "earliest"})
        group.subscribe([topic])
        out["group_reads_while_lost"] = [_text(m.value()) for m in consume(group, 5, "the group's records")]
        group.close()
    finally:
        _restart_stopped_controllers(run)
    out["active_after_restart"] = _active_controller(run) is not None
    out["create_after"] = _create_error(run, "thawed")
    return out


def _ten_acknowledged(run):
    """A 1-partition topic (RF 3, ``min.insync.replicas=2``) holding "before-0".."before-9" from an idempotent
    ``acks=all`` producer: ``(topic, producer, delivery reports, (leader, sorted isr))``."""
    topic = run.topic(partitions=1, config={"min.insync.replicas": "2"})
    producer = run.kafka.Producer({"acks": "all", "enable.idempotence": True})
    reports = produce(producer, topic, [(None, b"before-%d" % i) for i in range(10)])
    return topic, producer, reports, run.partition_info(topic)


def paused_leader_is_fenced_and_rejoins(run):
    """Freeze the partition leader (SIGSTOP on real Kafka): after ``broker.session.timeout.ms`` without
    heartbeats the controller fences it and a follower from the ISR leads; after ``resume_broker`` it is back
    in the ISR, and no acknowledged record was lost."""
    topic, producer, reports, (leader, isr) = _ten_acknowledged(run)
    out = {}
    try:
        run.kafka.pause_broker(leader)
        out["moved"] = _wait_for(run, lambda: run.partition_info(topic)[0] not in (-1, leader))
        new_leader, isr_paused = run.partition_info(topic)
        out["new_leader_from_old_isr"] = new_leader in isr and new_leader != leader
        out["paused_left_isr"] = leader not in isr_paused
        out["paused_in_snapshot"] = [b["id"] for b in run.kafka.snapshot()["brokers"] if b["paused"]] == [leader]
        reports += produce(producer, topic, [(None, b"after-%d" % i) for i in range(10)], 90)
    finally:
        if leader in [b["id"] for b in run.kafka.snapshot()["brokers"] if b["paused"]]:
            run.kafka.resume_broker(leader)
    out["rejoined"] = _wait_for(run, lambda: sorted(run.partition_info(topic)[1]) == sorted(isr))
    out["delivery_errors"] = [r[0] for r in reports if r[0] is not None]
    out["log"] = [v for _, _, v in read_partitions(run, topic, 1)[0]]
    return out


def control_surface_bad_input(run):
    """The control methods refuse what does not exist or cannot be, with the same error codes on every
    backend, and change nothing: an unknown broker or controller, resuming a running broker, pausing a
    paused one, starting a running controller."""
    def code(fn, *args):
        try:
            fn(*args)
        except run.api.KafkaException as exc:
            return exc.args[0].code()
        except ValueError:
            return "ValueError"
        return None
    k = run.kafka
    before = sorted((b["id"], b["alive"], b["paused"]) for b in k.snapshot()["brokers"])
    out = {"stop_broker_99": code(k.stop_broker, 99), "pause_broker_0": code(k.pause_broker, 0),
           "resume_running": code(k.resume_broker, 1), "start_running": code(k.start_broker, 1),
           "stop_controller_1": code(k.stop_controller, 1), "start_running_controller": code(k.start_controller, 101),
           "stop_controller_str": code(k.stop_controller, "101"), "wait_negative": code(k.wait, -1)}
    k.pause_broker(2)
    try:
        out["pause_twice"] = code(k.pause_broker, 2)
    finally:
        k.resume_broker(2)
    out["unchanged"] = sorted((b["id"], b["alive"], b["paused"]) for b in k.snapshot()["brokers"]) == before
    return out


def new_partitions_reach_producers_at_their_next_metadata_refresh(run):
    """After ``create_partitions`` a running producer keeps hashing keys over the partitions it knew
    (librdkafka refreshes metadata every ``topic.metadata.refresh.interval.ms``, 5 min by default); a
    producer created afterwards spreads them over all of them."""
    topic = run.topic(partitions=2)
    keys = [("user-%d" % i).encode() for i in range(12)]
    running = run.kafka.Producer({})

    def partitions(producer):
        return {k: p for _, p, _, k, _ in produce(producer, topic, [(k, b"click") for k in keys])}
    before = partitions(running)
    admin = run.admin()
    admin.create_partitions([run.api.NewPartitions(topic, 6)])[topic].result(60)
    _wait_for(run, lambda: len(run.admin().list_topics(topic, timeout=10).topics[topic].partitions) == 6)
    return {"before": before, "running_after": partitions(running) == before,
            "new_producer": partitions(run.kafka.Producer({}))}


def retention_deletes_old_segments_unread(run):
    """``retention.ms`` deletes whole old segments whether anyone read them or not; ``run_retention_now()``
    makes sure the broker's check has run. The log start moves forward, offsets of what is left stay, and a
    consumer from the beginning starts at the new log start. ``retention.ms`` is long next to the time the
    check and the read take, so on a loaded machine the fresh record cannot expire before it is read."""
    retention_ms = 8_000
    topic = run.topic(partitions=1, config={"retention.ms": str(retention_ms), "segment.ms": "500"})
    producer = run.kafka.Producer({})
    for i in range(6):
        produce(producer, topic, [(None, b"click-%d" % i)])
        run.kafka.wait(500)
    run.kafka.wait(retention_ms + 500)
    produce(producer, topic, [(None, b"fresh")])               # rolls the old segments, stays itself
    run.kafka.run_retention_now()
    left = read_partitions(run, topic, 1)[0]
    return {"old_ones_gone": all(not v.startswith("click") for _, _, v in left),
            "fresh_kept": [(o, v) for o, _, v in left] == [(6, "fresh")]}


def compaction_keeps_the_latest_value_per_key(run):
    """With ``cleanup.policy=compact`` the log cleaner removes superseded records from closed segments;
    ``run_log_cleaner_now()`` makes sure it has looked. The latest value of every key survives; a real
    cleaner may leave some superseded ones for later (``min.cleanable.dirty.ratio``), so only that is
    compared."""
    topic = run.topic(partitions=1, config={"cleanup.policy": "compact", "segment.ms": "300"})
    producer = run.kafka.Producer({})
    latest = {}
    for i in range(12):
        key = b"k%d" % (i % 3)
        produce(producer, topic, [(key, b"v%d" % i)])
        latest[key.decode()] = "v%d" % i
        run.kafka.wait(100)
    run.kafka.wait(500)
    produce(producer, topic, [(b"roll", b"x")])               # a new active segment
    run.kafka.run_log_cleaner_now()
    left = read_partitions(run, topic, 1)[0]
    newest = {}
    for _, k, v in left:
        newest[k] = v
    return {"latest_kept": all(newest.get(k) == v for k, v in latest.items()),
            "something_removed": len(left) < 13, "offsets_ascending": [o for o, _, _ in left] == sorted(o for o, _, _ in left)}


def produce_arguments_at_the_call_and_in_reports(run):
    """What ``produce()`` refuses at the call and what it leaves to the delivery report, once the producer
    knows the topic: a partition the topic does not have (``_UNKNOWN_PARTITION`` at the call), a record over
    ``message.max.bytes`` (``MSG_SIZE_TOO_LARGE`` at the call, librdkafka counting 36 bytes of overhead),
    negative timestamps (stored as given), the empty topic name (``TOPIC_EXCEPTION`` in the report), and
    a closed producer (``close()`` is True twice, ``produce()`` a RuntimeError)."""
    api = run.api
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({})
    produce(producer, topic, [(None, b"first")])

    def at_call(**kwargs):
        try:
            producer.produce(topic, **kwargs)
        except api.KafkaException as exc:
            return exc.args[0].code()
        return None
    out = {"partition_5": at_call(value=b"x", partition=5), "partition_-2": at_call(value=b"x", partition=-2),
           "value_999965": at_call(value=b"x" * 999_965), "value_999964": at_call(value=b"x" * 999_964)}
    timestamps = produce(producer, topic, [(None, b"ts")])   # flushes the 999 964-byte record too
    reports = []
    for ts in (-5, -1):
        producer.produce(topic, value=b"t%d" % ts, timestamp=ts, on_delivery=lambda e, m: reports.append(
            (error_code(e), m.timestamp()[1])))
    producer.produce("", value=b"x", on_delivery=lambda e, m: reports.append((error_code(e), None)))
    producer.flush(30)
    out["reports"] = sorted(reports, key=str)
    out["first_reports_ok"] = [r[0] for r in timestamps] == [None]
    out["close"] = [producer.close(), producer.close()]
    try:
        producer.produce(topic, value=b"late")
        out["produce_after_close"] = "accepted"
    except RuntimeError:
        out["produce_after_close"] = "RuntimeError"
    return out


def isolated_leader_is_fenced_and_rejoins_after_heal(run):
    """Cut the partition leader off from the other brokers and the controllers (``isolate_broker``: a
    network partition on the simulator, the broker disconnected from the cluster's Docker network): without
    heartbeats the controller fences it and a follower from the ISR leads; after ``heal()`` it is back in the
    ISR, and no acknowledged record was lost.

    Seen through the brokers still in touch with the controller. The cut-off broker itself still believes
    it leads (nothing told it otherwise) and may say so to a client that asks it; the simulator's clients
    always see the controller's metadata (docs/fidelity.md), so no record is produced while it is cut off."""
    topic, producer, reports, (leader, isr) = _ten_acknowledged(run)
    out = {}
    try:
        run.kafka.isolate_broker(leader)
        out["moved"] = _wait_for(run, lambda: _seen_without(run, leader, topic)[0] not in (-1, leader))
        new_leader, isr_cut = _seen_without(run, leader, topic)
        out["new_leader_from_old_isr"] = new_leader in isr and new_leader != leader
        out["isolated_left_isr"] = leader not in isr_cut
        out["isolate_twice"] = _code(run, run.kafka.isolate_broker, leader)
    finally:
        run.kafka.heal()
    out["rejoined"] = _wait_for(run, lambda: sorted(run.partition_info(topic)[1]) == sorted(isr), 90)
    reports += produce(producer, topic, [(None, b"after-%d" % i) for i in range(10)], 90)
    out["delivery_errors"] = [r[0] for r in reports if r[0] is not None]
    out["log"] = [v for _, _, v in read_partitions(run, topic, 1)[0]]
    return out


def _seen_without(run, broker_id, topic, partition=0):
    """``(leader, sorted isr)`` as the brokers other than ``broker_id`` report it (on a real cluster an
    AdminClient bootstrapped from them only; the simulator's metadata is the controller's)."""
    if run.backend == "sim":
        return run.partition_info(topic, partition)
    others = ",".join("%s:%d" % (host, port) for i, host, port in run.kafka.known_brokers() if i != broker_id)
    admin = run.kafka.admin({"bootstrap.servers": others, "log_level": 0})
    meta = admin.list_topics(topic, timeout=10).topics[topic].partitions[partition]
    return meta.leader, sorted(meta.isrs)


def _code(run, fn, *args):
    """The error code a control method raises, or None."""
    try:
        fn(*args)
    except run.api.KafkaException as exc:
        return exc.args[0].code()
    return None


# -- static membership (KIP-345) ------------------------------------------------------------------------------
def _static_conf(run, group, instance):
    return {"group.id": group, "group.instance.id": instance, "heartbeat.interval.ms": 500,
            "session.timeout.ms": 6000, "auto.offset.reset": "earliest"}


def _static_member(run, topic, group, instance, log):
    """A static consumer subscribed to ``topic``; its rebalance callbacks append to ``log``."""
    c = run.kafka.Consumer(_static_conf(run, group, instance))
    c.subscribe([topic], on_assign=lambda _c, ps: log.append((instance, "assign", sorted(p.partition for p in ps))),
                on_revoke=lambda _c, ps: log.append((instance, "revoke", sorted(p.partition for p in ps))))
    return c


def _owned(consumers):
    return {name: sorted(tp.partition for tp in c.assignment()) for name, c in consumers.items()}


def _shares(consumers, n):
    def check():
        parts = [p for ps in _owned(consumers).values() for p in ps]
        return all(_owned(consumers).values()) and sorted(parts) == list(range(n))
    return check


def _two_static_members(run):
    """A 6-partition topic and static members "a" and "b" of a new group subscribed to it:
    ``(topic, group, rebalance log, {name: consumer})``."""
    topic = run.topic(partitions=6)
    group = run.unique_name("group")
    log = []
    return topic, group, log, {name: _static_member(run, topic, group, name, log) for name in ("a", "b")}


def static_member_restart(run):
    """Two static members share 6 partitions; one closes (a static member sends no LeaveGroup) and a new
    consumer with its ``group.instance.id`` joins within ``session.timeout.ms``: it gets the same partitions
    and the other member sees no revocation (no rebalance)."""
    topic, group, log, members = _two_static_members(run)
    try:
        poll_group(list(members.values()), _shares(members, 6), "two static members to share 6 partitions")
        before = _owned(members)
        members.pop("a").close()
        closed_at = len(log)
        members["a"] = _static_member(run, topic, group, "a", log)
        poll_group(list(members.values()), _shares(members, 6), "the restarted member to get its partitions")
        for _ in range(20):                  # 2 more seconds: a rebalance, if any, would show here
            for c in members.values():
                c.poll(POLL_S / 2)
        after = _owned(members)
        events = [(who, kind, len(ps)) for who, kind, ps in log[closed_at:]]
    finally:
        for c in members.values():
            c.close()
    return {"before": before,            # the range assignor orders static members by instance id
            "restarted_got_the_same": after["a"] == before["a"], "b_kept": after["b"] == before["b"],
            "events_after_restart": events}


def static_member_session_expiry(run):
    """A static member closes and nobody takes its ``group.instance.id``: the group keeps its partitions
    for it (the other member still has 3 after 2 s) until ``session.timeout.ms`` (6 s) passes, then the
    other member gets all 6."""
    topic, group, log, members = _two_static_members(run)
    try:
        poll_group(list(members.values()), _shares(members, 6), "two static members to share 6 partitions")
        closed_at = len(log)       # how the two got there depends on who joined first: not compared
        members.pop("a").close()
        for _ in range(20):
            members["b"].poll(POLL_S)
        within_session = len(members["b"].assignment())
        poll_group([members["b"]], _shares(members, 6), "the other member to get all 6 partitions")
        after_session = len(members["b"].assignment())
        b_events = [(kind, len(ps)) for who, kind, ps in log[closed_at:] if who == "b"]
    finally:
        for c in members.values():
            c.close()
    return {"b_within_session": within_session, "b_after_session": after_session, "b_events": b_events}


def static_member_fenced(run):
    """A second live consumer with the same ``group.instance.id`` fences the first: what the first one's
    ``poll()`` returns (error code, ``fatal()``, text, anything after it), its assignment afterwards, the
    rebalance callbacks of both, and what the newcomer gets."""
    topic = run.topic(partitions=2)
    group = run.unique_name("group")
    log = []
    old = _static_member(run, topic, group, "x", log)
    new = None
    try:
        poll_group([old], _shares({"x": old}, 2), "the first member to get 2 partitions")
        new = _static_member(run, topic, group, "x", log)
        errors = []
        for _ in range(100):
            for c in (old, new):
                msg = c.poll(POLL_S / 2)
                if c is old and msg is not None and msg.error():
                    errors.append((msg.error().code(), msg.error().fatal(), msg.error().str()))
            if errors and new.assignment():
                break
        for _ in range(20):                 # does the fenced consumer report anything more?
            msg = old.poll(POLL_S)
            if msg is not None:
                errors.append((msg.error().code(), msg.error().fatal(), msg.error().str()) if msg.error()
                              else ("message", msg.partition()))
        return {"old_errors": errors[:4], "new_partitions": len(new.assignment()),
                "old_partitions": len(old.assignment()), "events": [(kind, len(ps)) for who, kind, ps in log]}
    finally:
        for c in (old, new):
            if c is not None:
                c.close()


def static_member_odd_instance_ids(run):
    """``group.instance.id`` values that are not a plain non-empty string (empty, an int, ``None``, a blank):
    the constructor takes them all. A second consumer with the same value joins the group of a first one
    (on a 2-partition topic): if the value makes them static, the second fences the first."""
    topic = run.topic(partitions=2)
    out = {}
    for label, value in (("empty", ""), ("int", 5), ("none", None), ("blank", " ")):
        group = run.unique_name("group")
        conf = {"group.id": group, "group.instance.id": value, "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 500}
        members, errors = [run.kafka.Consumer(conf)], []
        try:
            members[0].subscribe([topic])
            poll_group(members, lambda: len(members[0].assignment()) == 2, "the first consumer's partitions")
            members.append(run.kafka.Consumer(conf))
            members[1].subscribe([topic])
            for _ in range(MAX_POLLS // 2):
                for i, c in enumerate(members):
                    msg = c.poll(POLL_S / 2)
                    if msg is not None and msg.error():
                        errors.append((i, msg.error().code()))
                sizes = [len(c.assignment()) for c in members]
                if sizes == [1, 1] or (errors and sizes == [0, 2]):
                    break
            out[label] = {"errors": errors[:2], "sizes": sizes}
        finally:
            for c in members:
                c.close()
    return out
