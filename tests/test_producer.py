"""The producer behaves as librdkafka's: defaults, linger and batching on the virtual clock, delivery reports,
partitioning, errors, retries, delivery timeouts, and what idempotence changes about duplicates and order."""
import random

import pytest

from eventsim import (TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, Cluster, KafkaError, KafkaException,
                      Producer)
from eventsim.partitioner import partition_for


@pytest.fixture
def cluster():
    c = Cluster(brokers=3, seed=11)
    assert c.create_topic("t", 3, 3) is None
    return c


def make_producer(cluster, **conf):
    return Producer({"bootstrap.servers": cluster.bootstrap_servers, **conf})


class Reports:
    """A delivery callback that keeps ``(err, msg, virtual ms since the cluster started)`` for each report."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.items = []

    def __call__(self, err, msg):
        self.items.append((err, msg, self.cluster.elapsed_ms))

    def __getitem__(self, i):
        return self.items[i]

    def __iter__(self):
        return iter(self.items)

    def errors(self):
        return [e.code() if e is not None else None for e, _, _ in self.items]


def log_values(cluster, topic="t", partition=0):
    part = cluster.topics[topic].partitions[partition]
    rep = part.leader_replica
    return [r.value.decode() for r in rep.log.read(rep.log.log_start_offset) if r.control is None]


def spy_produce_requests(cluster):
    """Record the size of every Produce request the cluster receives."""
    sizes = []
    original = cluster.produce

    def produce(topic, partition, records, **kw):
        sizes.append((partition, len(records)))
        return original(topic, partition, records, **kw)
    cluster.produce = produce
    return sizes


# -- defaults, linger, batching -------------------------------------------------------------------------
def test_librdkafka_defaults(cluster):
    p = make_producer(cluster)
    assert p._acks == -1                 # acks=all
    assert p._linger == 5                # linger.ms=5 (librdkafka's queue.buffering.max.ms)
    assert p._idempotent is False        # enable.idempotence=false in librdkafka
    assert p._delivery_timeout == 300000


def test_records_wait_linger_ms_on_the_clock(cluster):
    p = make_producer(cluster, acks=1)
    reports = Reports(cluster)
    p.produce("t", value="v", partition=0, on_delivery=reports)
    part = cluster.topics["t"].partitions[0]
    assert len(p) == 1
    cluster.advance(4)
    assert part.leader_replica.log_end_offset == 0        # still lingering
    cluster.advance(2)                                      # linger (5 ms) + one network hop
    assert part.leader_replica.log_end_offset == 1
    cluster.advance(5)
    assert p.poll(0) == 1 and reports[0][0] is None and len(p) == 0


def test_records_within_linger_travel_in_one_batch(cluster):
    sizes = spy_produce_requests(cluster)
    p = make_producer(cluster, **{"linger.ms": 50})
    for i in range(7):
        p.produce("t", value=str(i), partition=1)
        cluster.advance(5)
    assert sizes == []
    cluster.advance(20)
    assert sizes == [(1, 7)]
    assert p.flush() == 0


def test_batch_num_messages_caps_a_batch(cluster):
    sizes = spy_produce_requests(cluster)
    p = make_producer(cluster, **{"linger.ms": 1000, "batch.num.messages": 4})
    for i in range(10):
        p.produce("t", value=str(i), partition=2)
    assert p.flush() == 0
    assert [n for _, n in sizes] == [4, 4, 2]
    assert log_values(cluster, partition=2) == [str(i) for i in range(10)]


def test_flush_sends_at_once_and_returns_zero(cluster):
    p = make_producer(cluster, **{"linger.ms": 60000})
    reports = Reports(cluster)
    for i in range(5):
        p.produce("t", value=str(i), partition=0, on_delivery=reports)
    assert len(p) == 5
    assert p.flush() == 0 and len(p) == 0
    assert cluster.elapsed_ms < 1000      # flush did not wait for linger.ms
    assert [m.offset() for _, m, _ in reports] == [0, 1, 2, 3, 4]


def test_len_counts_until_the_report_is_served(cluster):
    p = make_producer(cluster)
    for i in range(3):
        p.produce("t", value=str(i))
    assert len(p) == 3
    cluster.advance(1000)          # delivered, but reports are only served by poll()/flush()
    assert len(p) == 3
    assert p.poll(0) == 3 and len(p) == 0


# -- delivery reports ------------------------------------------------------------------------------------
def test_delivery_reports_carry_offsets_and_create_time(cluster):
    p = make_producer(cluster)
    reports = Reports(cluster)
    produced_at = cluster.now_ms
    for i in range(4):
        p.produce("t", value=f"v{i}", key="k", partition=0, timestamp=1234 + i, on_delivery=reports)
    p.produce("t", value="now", partition=0, on_delivery=reports)
    cluster.advance(77)
    p.flush()
    assert reports.errors() == [None] * 5
    assert [m.offset() for _, m, _ in reports] == [0, 1, 2, 3, 4]
    assert [m.timestamp() for _, m, _ in reports[:4]] == [(TIMESTAMP_CREATE_TIME, 1234 + i) for i in range(4)]
    assert reports[4][1].timestamp() == (TIMESTAMP_CREATE_TIME, produced_at)     # the clock at produce()
    assert [(m.topic(), m.partition(), m.key(), m.value()) for _, m, _ in reports[:1]] == [("t", 0, b"k", b"v0")]
    stored = cluster.fetch("t", 0, 0).records
    assert [r.timestamp for r in stored] == [1234, 1235, 1236, 1237, produced_at]


def test_log_append_time_topic_reports_the_broker_time(cluster):
    assert cluster.create_topic("lat", 1, 3, {"message.timestamp.type": "LogAppendTime"}) is None
    cluster.advance(5000)
    produced_at = cluster.now_ms
    p = make_producer(cluster)
    reports = Reports(cluster)
    p.produce("lat", value="x", timestamp=42, on_delivery=reports)
    p.flush()
    ts_type, ts = reports[0][1].timestamp()
    assert ts_type == TIMESTAMP_LOG_APPEND_TIME
    assert produced_at < ts <= cluster.now_ms      # the broker's clock at append, not the 42 we gave
    assert cluster.fetch("lat", 0, 0).records[0].timestamp == ts


def test_default_delivery_callback_from_config(cluster):
    reports = Reports(cluster)
    p = make_producer(cluster, on_delivery=reports)
    p.produce("t", value="x")
    p.flush()
    assert reports.errors() == [None]


def test_keys_go_to_the_partition_eventsim_partitioner_computes(cluster):
    p = make_producer(cluster)
    reports = Reports(cluster)
    keys = [f"customer-{i}" for i in range(60)] + ["", "\u00e9t\u00e9"]
    for k in keys:
        p.produce("t", value="v", key=k, on_delivery=reports)
    p.flush()
    got = {m.key(): m.partition() for _, m, _ in reports}
    for k in keys:
        if k == "":
            continue                    # consistent_random: an empty key is treated like no key
        kb = k.encode()
        assert got[kb] == partition_for("consistent_random", kb, 3, random.Random(0))
    assert len(set(got.values())) == 3
    # Same key, same partition, in order.
    assert [m.partition() for _, m, _ in reports if m.key() == b"customer-7"] == [got[b"customer-7"]]


def test_murmur2_partitioner_option(cluster):
    p = make_producer(cluster, partitioner="murmur2_random")
    reports = Reports(cluster)
    for i in range(30):
        p.produce("t", value="v", key=str(i), on_delivery=reports)
    p.flush()
    for _, m, _ in reports:
        assert m.partition() == partition_for("murmur2_random", m.key(), 3, random.Random(0))


def test_headers_round_trip(cluster):
    p = make_producer(cluster)
    reports = Reports(cluster)
    p.produce("t", value="a", partition=0, headers=[("trace", b"\x00\x01"), ("trace", "two"), ("none", None)],
              on_delivery=reports)
    p.produce("t", value="b", partition=0, headers={"h": "v"}, on_delivery=reports)
    p.flush()
    assert reports[0][1].headers() is None          # confluent-kafka 2.16: delivery reports carry no headers
    stored = cluster.fetch("t", 0, 0).records
    assert stored[0].headers == [("trace", b"\x00\x01"), ("trace", b"two"), ("none", None)]
    assert stored[1].headers == [("h", b"v")]


# -- bad input -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{"value": 5}, {"value": {"a": 1}}, {"key": 3.5}, {"value": ["x"]},
                                    {"headers": [("h", 1)]}, {"headers": "h"}, {"partition": "0"},
                                    {"partition": 1.0}, {"timestamp": 1.5},
                                    {"value": bytearray(b"x")}, {"value": memoryview(b"x")}, {"key": bytearray(b"k")},
                                    {"headers": [["h", b"v"]]}, {"headers": (("h", b"v"),)}])
def test_bad_types_raise_type_error_and_queue_nothing(cluster, kwargs):
    """Each is a TypeError from confluent-kafka 2.16's produce() too (checked with the real client)."""
    p = make_producer(cluster)
    with pytest.raises(TypeError):
        p.produce("t", **kwargs)
    assert len(p) == 0
    assert p.flush() == 0


@pytest.mark.parametrize("topic", [b"t", None, 5])
def test_a_topic_that_is_not_a_str_is_a_type_error(cluster, topic):
    with pytest.raises(TypeError, match="argument 1 must be str"):
        make_producer(cluster).produce(topic, value=b"v")


@pytest.mark.parametrize("kwargs", [{"partition": 2**31}, {"partition": -2**31 - 1}, {"timestamp": 2**63}])
def test_numbers_that_do_not_fit_the_c_types_overflow(cluster, kwargs):
    p = make_producer(cluster)
    with pytest.raises(OverflowError):
        p.produce("t", value=b"v", **kwargs)
    assert len(p) == 0


def test_a_partition_the_topic_does_not_have_fails_in_the_report_first_then_at_the_call(cluster):
    """Measured on Kafka 4.4 with confluent-kafka 2.16: before the producer has the topic's metadata a
    record for partition -2 or 3 (of 3) is queued and its delivery report says ``_UNKNOWN_PARTITION``; once
    the metadata is known, ``produce()`` raises it at once. (Simplified: the simulated producer has the
    metadata as soon as its first record for the topic is routed.)"""
    p = make_producer(cluster)
    reports = []
    p.produce("t", value=b"v", partition=3, on_delivery=lambda e, m: reports.append(e.code()))
    p.flush()
    assert reports == [KafkaError._UNKNOWN_PARTITION]
    for partition in (-2, 3, 2**31 - 1):
        with pytest.raises(KafkaException) as info:
            p.produce("t", value=b"v", partition=partition)
        assert info.value.args[0].code() == KafkaError._UNKNOWN_PARTITION
    assert len(p) == 0


def test_negative_timestamps_are_stored_as_given(cluster):
    """librdkafka passes a negative timestamp through (only 0 means "now"); Kafka 4.4 stores -5 and -1."""
    p = make_producer(cluster)
    reports = []
    for ts in (-5, -1):
        p.produce("t", value=b"v", partition=0, timestamp=ts, on_delivery=lambda e, m: reports.append(m.timestamp()))
    p.flush()
    assert [ts for _, ts in reports] == [-5, -1]


def test_a_record_over_message_max_bytes_is_refused_at_the_call(cluster):
    """librdkafka adds its largest per-record overhead (36 bytes) and headers before comparing with
    ``message.max.bytes``: with the default 1 000 000, a 999 964-byte value passes and one more byte fails."""
    p = make_producer(cluster)
    p.produce("t", value=b"x" * 999_964, partition=0)
    with pytest.raises(KafkaException) as info:
        p.produce("t", value=b"x" * 999_965, partition=0)
    assert info.value.args[0].code() == KafkaError.MSG_SIZE_TOO_LARGE
    with pytest.raises(KafkaException):
        p.produce("t", value=b"x" * 999_954, headers=[("abcde", b"12345")], partition=0)
    assert len(p) == 1


def test_an_invalid_topic_name_fails_in_the_delivery_report(cluster):
    """``produce("")`` is accepted by the call; Kafka answers ``INVALID_TOPIC_EXCEPTION`` (17)."""
    p = make_producer(cluster)
    reports = []
    p.produce("", value=b"v", on_delivery=lambda e, m: reports.append(e and e.code()))
    p.flush()
    assert reports == [KafkaError.TOPIC_EXCEPTION]


def test_a_closed_producer_refuses_everything_but_close_and_len(cluster):
    """As confluent-kafka 2.16: close() returns True (again too), other calls raise RuntimeError."""
    p = make_producer(cluster)
    p.produce("t", value=b"v")
    assert p.close() is True
    assert len(p) == 0
    assert p.close() is True
    for call in (lambda: p.produce("t", value=b"v"), lambda: p.poll(0), lambda: p.flush(0), lambda: p.purge(),
                 lambda: p.list_topics(timeout=1)):
        with pytest.raises(RuntimeError):
            call()
    assert cluster.fetch("t", 0, 0).records or cluster.fetch("t", 1, 0).records or cluster.fetch("t", 2, 0).records


@pytest.mark.parametrize("timeout", [None, "1", [1]])
def test_timeouts_that_are_not_numbers_are_type_errors(cluster, timeout):
    """confluent-kafka 2.16 parses every timeout as a C double: ``None`` too is 'must be real number'."""
    p = make_producer(cluster)
    for call in (p.poll, p.flush, lambda t: p.list_topics(timeout=t)):
        with pytest.raises(TypeError, match="must be real number"):
            call(timeout)


def test_a_poll_0_loop_delivers(cluster):
    """A real application's non-blocking loop: produce, then poll(0) until the report arrives."""
    p = make_producer(cluster, **{"linger.ms": 5})
    reports = []
    p.produce("t", value=b"v", on_delivery=lambda e, m: reports.append(e))
    for _ in range(1000):
        if reports:
            break
        p.poll(0)
    assert reports == [None]


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), -float("inf"), 1e300, -5])
def test_forever_timeouts_are_bounded(cluster, timeout):
    p = make_producer(cluster)
    start = cluster.clock.now_ms
    assert p.flush(timeout) == 0
    assert p.poll(timeout) == 0
    assert cluster.clock.now_ms - start < 10 * 60_000


def test_buffer_error_when_the_queue_is_full(cluster):
    p = make_producer(cluster, **{"queue.buffering.max.messages": 3})
    for i in range(3):
        p.produce("t", value=str(i))
    with pytest.raises(BufferError):
        p.produce("t", value="one too many")
    assert len(p) == 3
    p.flush()
    p.produce("t", value="room again")           # the queue drains as reports are served
    assert p.flush() == 0


def test_unknown_topic_fails_after_metadata_propagation_wait(cluster):
    p = make_producer(cluster)
    reports = Reports(cluster)
    p.produce("no-such-topic", value="x", on_delivery=reports)
    cluster.advance(29000)
    p.poll(0)
    assert len(reports.items) == 0                       # librdkafka waits topic.metadata.propagation.max.ms
    p.flush()
    # librdkafka 1.x reported the local _UNKNOWN_TOPIC here; 2.x passes on the broker's UNKNOWN_TOPIC_OR_PART.
    assert reports.errors()[0] in (KafkaError._UNKNOWN_TOPIC, KafkaError.UNKNOWN_TOPIC_OR_PART)
    assert reports[0][2] >= 30000
    assert "no-such-topic" in reports[0][0].str()


def test_topic_created_during_the_wait_gets_the_record(cluster):
    p = make_producer(cluster)
    reports = Reports(cluster)
    p.produce("late", value="x", on_delivery=reports)
    cluster.advance(3000)
    assert cluster.create_topic("late", 1, 1) is None
    p.flush()
    assert reports.errors() == [None]
    assert log_values(cluster, "late") == ["x"]


def test_explicit_partition_out_of_range(cluster):
    p = make_producer(cluster)
    reports = Reports(cluster)
    p.produce("t", value="x", partition=3, on_delivery=reports)
    p.flush()
    assert reports.errors() == [KafkaError._UNKNOWN_PARTITION]
    assert all(part.log_end_offset == 0 for part in cluster.topics["t"].partitions)


# -- retries, timeouts --------------------------------------------------------------------------------------
def test_retries_carry_records_across_a_leader_failover(cluster):
    p = make_producer(cluster)
    reports = Reports(cluster)
    leader = cluster.leader_for("t", 0)
    cluster.stop_broker(leader, wait=False)
    for i in range(5):
        p.produce("t", value=str(i), partition=0, on_delivery=reports)
    assert p.flush() == 0
    assert reports.errors() == [None] * 5
    new_leader = cluster.leader_for("t", 0)
    assert new_leader not in (leader, -1)
    assert min(t for _, _, t in reports) >= 9000          # not before the controller noticed the crash
    assert log_values(cluster) == [str(i) for i in range(5)]


def test_delivery_timeout_gives_msg_timed_out(cluster):
    for b in (1, 2, 3):
        cluster.stop_broker(b, wait=False)
    p = make_producer(cluster, **{"delivery.timeout.ms": 10000})
    reports = Reports(cluster)
    p.produce("t", value="x", partition=0, on_delivery=reports)
    assert p.flush() == 0
    assert reports.errors() == [KafkaError._MSG_TIMED_OUT]
    assert reports[0][2] >= 10000


def test_message_timeout_ms_is_the_same_setting(cluster):
    for b in (1, 2, 3):
        cluster.stop_broker(b, wait=False)
    p = make_producer(cluster, **{"message.timeout.ms": 2000})
    reports = Reports(cluster)
    p.produce("t", value="x", partition=0, on_delivery=reports)
    p.flush()
    assert reports.errors() == [KafkaError._MSG_TIMED_OUT]
    assert 2000 <= reports[0][2] < 10000


# -- duplicates and reordering ------------------------------------------------------------------------------
def lost_responses(cluster, idempotence):
    p = make_producer(cluster, **{"enable.idempotence": idempotence, "request.timeout.ms": 2000})
    reports = Reports(cluster)
    cluster.network.drop_produce_responses("t", 0, 2)
    for i in range(3):
        p.produce("t", value=str(i), partition=0, on_delivery=reports)
        p.flush()
    return p, reports


def test_lost_produce_responses_duplicate_records_without_idempotence(cluster):
    _, reports = lost_responses(cluster, idempotence=False)
    assert reports.errors() == [None, None, None]
    values = log_values(cluster)
    assert values == ["0", "0", "0", "1", "2"]           # written three times: twice with the answer lost
    assert reports[0][1].offset() == 2                    # the report names the copy that was answered


def test_idempotence_removes_the_duplicates(cluster):
    _, reports = lost_responses(cluster, idempotence=True)
    assert reports.errors() == [None, None, None]
    assert log_values(cluster) == ["0", "1", "2"]
    assert [m.offset() for _, m, _ in reports] == [0, 1, 2]   # the duplicate is answered with the original offset


def retry_while_isr_grows(cluster, **conf):
    """Records are produced every 10 ms while the ISR is below min.insync.replicas and then grows again:
    the first ones get NOT_ENOUGH_REPLICAS and are retried; later ones may be accepted first."""
    assert cluster.create_topic("o", replica_assignment=[[1, 2, 3]], config={"min.insync.replicas": "2"}) is None
    p = make_producer(cluster, **{"linger.ms": 0, **conf})
    p.produce("o", value="warm-up")
    p.flush()
    cluster.stop_broker(2)
    cluster.stop_broker(3)
    cluster.slow_broker(2, 30)
    cluster.start_broker(2, wait=False)
    reports = Reports(cluster)
    for i in range(30):
        p.produce("o", value=str(i), on_delivery=reports)
        p.poll(0)
        cluster.advance(10)
    assert p.flush() == 0
    assert reports.errors() == [None] * 30
    return [int(v) for v in log_values(cluster, "o")[1:]]


def test_retries_with_several_requests_in_flight_reorder_records(cluster):
    order = retry_while_isr_grows(cluster, **{"max.in.flight.requests.per.connection": 5})
    assert sorted(order) == list(range(30))
    assert order != sorted(order)


def test_idempotence_keeps_the_order(cluster):
    order = retry_while_isr_grows(cluster, **{"max.in.flight.requests.per.connection": 5,
                                              "enable.idempotence": True})
    assert order == list(range(30))


def test_one_request_in_flight_keeps_the_order(cluster):
    order = retry_while_isr_grows(cluster, **{"max.in.flight.requests.per.connection": 1})
    assert order == list(range(30))


def test_acks_0_reports_success_without_an_offset(cluster):
    p = make_producer(cluster, acks=0)
    reports = Reports(cluster)
    p.produce("t", value="x", partition=0, on_delivery=reports)
    p.flush()
    assert reports.errors() == [None] and reports[0][1].offset() is None    # OFFSET_INVALID reads as None
    cluster.advance(10)
    assert log_values(cluster) == ["x"]


def test_closed_producer_refuses_poll(cluster):
    p = make_producer(cluster)
    p.close()
    with pytest.raises(RuntimeError):
        p.poll(0)
    with pytest.raises(KafkaException):
        make_producer(cluster, acks="sometimes")


def test_partitions_added_later_are_used_after_the_next_metadata_refresh():
    """librdkafka caches a topic's partition count until topic.metadata.refresh.interval.ms has passed."""
    cluster = Cluster(brokers=3, seed=4)
    cluster.create_topic("clicks", 2, 1)
    producer = Producer({"bootstrap.servers": cluster.bootstrap_servers,
                         "topic.metadata.refresh.interval.ms": 10_000})
    where = []

    def send():
        where.clear()
        for i in range(20):
            producer.produce("clicks", key=b"user-%d" % i, value=b"x",
                             on_delivery=lambda err, msg: where.append(msg.partition()))
        producer.flush()
        return set(where)
    assert send() == {0, 1}
    assert cluster.create_partitions("clicks", 6) is None
    assert send() == {0, 1}                       # the cached count: still two partitions
    cluster.advance(10_000)
    assert send() > {0, 1}                        # refreshed: the new partitions get keys too


def test_idempotent_reports_stay_in_log_order_through_a_leader_crash():
    """Several batches in flight when the leader dies fail one after another; each failure must not schedule
    its own resend (that sent batches twice and out of order): one retry per partition resends them all in
    sequence order, so the delivery reports come in log order."""
    cl = Cluster(brokers=3, seed=0)
    assert cl.create_topic("t", 1, 3, {"min.insync.replicas": "2"}) is None
    p = make_producer(cl, **{"acks": "all", "enable.idempotence": True, "linger.ms": 5})
    reports = []
    for i in range(100):
        if i == 50:
            assert p.flush(10) == 0
            cl.stop_broker(cl.topics["t"].partitions[0].leader, wait=False)
        p.produce("t", value=b"v%d" % i, on_delivery=lambda e, m: reports.append((e, m.offset(), m.value())))
        p.poll(0)
    assert p.flush(90) == 0
    assert [e for e, _, _ in reports] == [None] * 100
    assert [v for _, _, v in reports] == [b"v%d" % i for i in range(100)]
    assert [o for _, o, _ in reports] == list(range(100))
