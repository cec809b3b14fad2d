"""Consumer behaviour on the simulated cluster: groups, rebalances, offsets, commits, errors."""
import itertools

import pytest

from eventsim.cluster import Cluster
from eventsim.consumer import Consumer
from eventsim.errors import KafkaError, KafkaException
from eventsim.message import OFFSET_BEGINNING, OFFSET_INVALID, TopicPartition
from eventsim.producer import Producer

_names = itertools.count()


@pytest.fixture
def cluster():
    cl = Cluster(brokers=3, seed=7, name=f"consumer-test-{next(_names)}")
    return cl


def make_topic(cl, name="orders", partitions=6, rf=3, config=None):
    assert cl.create_topic(name, partitions, rf, config=config) is None


def produce(cl, topic, n, partition=None, start=0):
    p = Producer({"bootstrap.servers": cl.bootstrap_servers, "linger.ms": 0})
    for i in range(start, start + n):
        kwargs = {"partition": partition} if partition is not None else {}
        p.produce(topic, key=b"k%d" % i, value=b"v%d" % i, **kwargs)
    assert p.flush(10) == 0


def consumer(cl, group="billing", **conf):
    base = {"bootstrap.servers": cl.bootstrap_servers, "group.id": group, "auto.offset.reset": "earliest"}
    base.update(conf)
    return Consumer(base)


def poll_all(consumers, seconds, timeout=0.1):
    """Poll each consumer in turn until ``seconds`` of virtual time have passed; return the data
    messages each one got."""
    clock = consumers[0]._cluster.clock
    end = clock.now_ms + int(seconds * 1000)
    got = {id(c): [] for c in consumers}
    while clock.now_ms < end:
        for c in consumers:
            m = c.poll(timeout)
            if m is not None and m.error() is None:
                got[id(c)].append(m)
    return [got[id(c)] for c in consumers]


def drain(c, timeout=0.2, max_empty=3):
    out, empty = [], 0
    while empty < max_empty:
        m = c.poll(timeout)
        if m is None:
            empty += 1
        elif m.error() is None:
            out.append(m)
    return out


# -- groups and rebalances ------------------------------------------------------------------------------
def test_three_consumers_share_six_partitions_then_one_closes(cluster):
    make_topic(cluster)
    produce(cluster, "orders", 60)
    cs = [consumer(cluster) for _ in range(3)]
    for c in cs:
        c.subscribe(["orders"])
    got = poll_all(cs, 10)
    assert [len(c.assignment()) for c in cs] == [2, 2, 2]
    owned = [{(tp.topic, tp.partition) for tp in c.assignment()} for c in cs]
    assert set.union(*owned) == {("orders", p) for p in range(6)}
    for msgs, parts in zip(got, owned):
        assert {(m.topic(), m.partition()) for m in msgs} <= parts
    assert cluster.groups.describe("billing")["state"] == "Stable"

    cs[0].close()
    poll_all(cs[1:], 20)
    assert sorted(len(c.assignment()) for c in cs[1:]) == [3, 3]
    desc = cluster.groups.describe("billing")
    assert len(desc["members"]) == 2 and desc["generation"] >= 2


def test_crashed_consumer_is_removed_after_session_timeout(cluster):
    make_topic(cluster)
    cs = [consumer(cluster, **{"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}) for _ in range(3)]
    for c in cs:
        c.subscribe(["orders"])
    poll_all(cs, 5)
    assert [len(c.assignment()) for c in cs] == [2, 2, 2]
    crashed_at = cluster.clock.now_ms
    cs[2]._crash()
    with pytest.raises(RuntimeError, match="Consumer closed"):
        cs[2].poll(0)
    # within the session timeout nothing changes for the survivors
    poll_all(cs[:2], 2, timeout=1.0)
    assert cluster.clock.now_ms - crashed_at < 6000
    assert len(cluster.groups.describe("billing")["members"]) == 3
    # after it, the coordinator drops the member and the survivors take over its partitions
    poll_all(cs[:2], 12, timeout=1.0)
    assert sorted(len(c.assignment()) for c in cs[:2]) == [3, 3]
    assert len(cluster.groups.describe("billing")["members"]) == 2


def test_rebalance_callbacks_run_inside_poll(cluster):
    make_topic(cluster, partitions=2)
    calls = []
    c1 = consumer(cluster)
    c1.subscribe(["orders"], on_assign=lambda c, ps: calls.append(("assign", sorted(p.partition for p in ps))),
                 on_revoke=lambda c, ps: calls.append(("revoke", sorted(p.partition for p in ps))))
    cluster.advance(100)
    assert calls == []            # the group is formed, but callbacks wait for the application's poll()
    c1.poll(0.5)
    assert calls == [("assign", [0, 1])]
    c2 = consumer(cluster)
    c2.subscribe(["orders"])
    poll_all([c1, c2], 10, timeout=1.0)
    assert calls[1] == ("revoke", [0, 1])       # eager protocol: everything revoked first
    assert calls[2][0] == "assign" and len(calls[2][1]) == 1


def test_cooperative_sticky_revokes_only_moved_partitions(cluster):
    make_topic(cluster, partitions=4)
    events = {1: [], 2: []}
    conf = {"partition.assignment.strategy": "cooperative-sticky"}

    def cbs(n):
        return dict(on_assign=lambda c, ps: events[n].append(("assign", sorted(p.partition for p in ps))),
                    on_revoke=lambda c, ps: events[n].append(("revoke", sorted(p.partition for p in ps))))
    c1 = consumer(cluster, **conf)
    c1.subscribe(["orders"], **cbs(1))
    c1.poll(0.5)
    assert events[1] == [("assign", [0, 1, 2, 3])]
    c2 = consumer(cluster, **conf)
    c2.subscribe(["orders"], **cbs(2))
    poll_all([c1, c2], 15, timeout=1.0)
    revoked = [e for e in events[1] if e[0] == "revoke"]
    assert len(revoked) == 1 and len(revoked[0][1]) == 2        # only the two partitions that moved
    kept = {p.partition for p in c1.assignment()}
    assert len(kept) == 2 and kept | {p.partition for p in c2.assignment()} == {0, 1, 2, 3}
    assert ("assign", sorted({0, 1, 2, 3} - kept)) in events[2]


def test_max_poll_interval_exceeded_is_reported_and_member_rejoins(cluster):
    make_topic(cluster, partitions=2)
    lost = []
    slow = consumer(cluster, **{"max.poll.interval.ms": 10000, "session.timeout.ms": 6000,
                                  "heartbeat.interval.ms": 1000})
    slow.subscribe(["orders"], on_lost=lambda c, ps: lost.append(len(ps)))
    slow.poll(0.5)
    assert len(slow.assignment()) == 2
    first_member = slow.memberid()
    cluster.advance(11000)                     # the application does not poll for 11 s
    msg = slow.poll(0)
    assert msg is not None and msg.error().code() == KafkaError._MAX_POLL_EXCEEDED
    slow.poll(0.5)
    assert lost == [2]
    assert len(slow.assignment()) == 2 and slow.memberid() != first_member


def test_new_partitions_trigger_rebalance_at_metadata_refresh(cluster):
    make_topic(cluster, partitions=2)
    c = consumer(cluster, **{"topic.metadata.refresh.interval.ms": 1000})
    c.subscribe(["orders"])
    c.poll(0.5)
    assert len(c.assignment()) == 2
    assert cluster.create_partitions("orders", 4) is None
    for _ in range(5):
        c.poll(0.5)
    assert len(c.assignment()) == 4


def test_subscribe_to_missing_topic_reports_error_then_picks_it_up(cluster):
    c = consumer(cluster, **{"topic.metadata.refresh.interval.ms": 1000})
    c.subscribe(["later"])
    msg = c.poll(0.5)
    assert msg.error().code() == KafkaError.UNKNOWN_TOPIC_OR_PART and msg.topic() == "later"
    assert c.poll(0.5) is None                 # reported once, not on every poll
    make_topic(cluster, "later", partitions=1)
    produce(cluster, "later", 3)
    got = drain(c, timeout=1.0)
    assert [m.value() for m in got] == [b"v0", b"v1", b"v2"]


# -- offsets -------------------------------------------------------------------------------------------
def test_commit_then_new_consumer_resumes_at_committed_offset(cluster):
    make_topic(cluster, partitions=1)
    produce(cluster, "orders", 10)
    c1 = consumer(cluster, **{"enable.auto.commit": False})
    c1.subscribe(["orders"])
    msgs = [c1.poll(1.0) for _ in range(4)]
    assert [m.offset() for m in msgs] == [0, 1, 2, 3]
    committed = c1.commit(message=msgs[-1], asynchronous=False)
    assert committed[0].offset == 4                               # next offset to read = last + 1
    assert c1.committed([TopicPartition("orders", 0)])[0].offset == 4
    assert c1.position([TopicPartition("orders", 0)])[0].offset == 4
    c1.close()
    c2 = consumer(cluster, **{"enable.auto.commit": False})
    c2.subscribe(["orders"])
    assert [m.offset() for m in drain(c2)] == list(range(4, 10))


def test_lag_in_group_snapshot(cluster):
    make_topic(cluster, partitions=2)
    produce(cluster, "orders", 5, partition=0)
    produce(cluster, "orders", 7, partition=1)
    c = consumer(cluster, **{"enable.auto.commit": False})
    c.assign([TopicPartition("orders", 0), TopicPartition("orders", 1)])
    c.commit(offsets=[TopicPartition("orders", 0, 2), TopicPartition("orders", 1, 7)], asynchronous=False)
    (group,) = cluster.groups.snapshot()
    assert [(o["partition"], o["committed"], o["high_watermark"], o["lag"]) for o in group["offsets"]] == \
        [(0, 2, 5, 3), (1, 7, 7, 0)]
    assert group["total_lag"] == 3 and group["state"] == "Empty"


def test_auto_commit_happens_every_interval(cluster):
    make_topic(cluster, partitions=1)
    produce(cluster, "orders", 3)
    c = consumer(cluster, **{"auto.commit.interval.ms": 5000})
    c.subscribe(["orders"])
    start = cluster.clock.now_ms
    got = [c.poll(1.0) for _ in range(3)]
    assert [m.offset() for m in got] == [0, 1, 2]
    tp = [TopicPartition("orders", 0)]
    assert c.committed(tp)[0].offset == OFFSET_INVALID            # not yet: the timer has not fired
    cluster.advance(max(0, start + 5000 - cluster.clock.now_ms - 1))
    assert c.committed(tp)[0].offset == OFFSET_INVALID
    cluster.advance(2)
    assert c.committed(tp)[0].offset == 3


def test_partition_eof_once_per_reaching_the_end(cluster):
    make_topic(cluster, partitions=2)
    produce(cluster, "orders", 2, partition=0)
    c = consumer(cluster, **{"enable.partition.eof": True})
    c.assign([TopicPartition("orders", 0, OFFSET_BEGINNING), TopicPartition("orders", 1, OFFSET_BEGINNING)])
    msgs = [c.poll(0.5) for _ in range(4)]
    eofs = sorted((m.partition(), m.offset()) for m in msgs if m.error() is not None)
    data = [m.offset() for m in msgs if m.error() is None]
    assert data == [0, 1] and eofs == [(0, 2), (1, 0)]
    assert all(m.error().code() == KafkaError._PARTITION_EOF for m in msgs if m.error() is not None)
    assert c.poll(0.5) is None                                   # no repeat while nothing new arrives
    produce(cluster, "orders", 1, partition=1)
    m = c.poll(1.0)
    assert (m.partition(), m.offset(), m.error()) == (1, 0, None)
    m = c.poll(1.0)
    assert m.error().code() == KafkaError._PARTITION_EOF and (m.partition(), m.offset()) == (1, 1)


def test_auto_offset_reset_latest_earliest_error(cluster):
    make_topic(cluster, partitions=1)
    produce(cluster, "orders", 3)
    latest = consumer(cluster, "g-latest", **{"auto.offset.reset": "latest"})
    latest.subscribe(["orders"])
    assert latest.poll(0.5) is None
    produce(cluster, "orders", 1, start=3)
    assert latest.poll(1.0).value() == b"v3"
    earliest = consumer(cluster, "g-earliest")
    earliest.subscribe(["orders"])
    assert earliest.poll(1.0).offset() == 0
    err = consumer(cluster, "g-error", **{"auto.offset.reset": "error"})
    err.subscribe(["orders"])
    msg = err.poll(1.0)
    assert msg.error().code() == KafkaError._AUTO_OFFSET_RESET


def test_seek_past_the_end_resets_via_auto_offset_reset(cluster):
    make_topic(cluster, partitions=1)
    produce(cluster, "orders", 5)
    c = consumer(cluster, **{"auto.offset.reset": "error"})
    c.assign([TopicPartition("orders", 0, 0)])
    assert c.poll(1.0).offset() == 0
    c.seek(TopicPartition("orders", 0, 100))
    msg = c.poll(1.0)
    assert msg.error().code() == KafkaError._AUTO_OFFSET_RESET and "100" in msg.error().str()
    with pytest.raises(KafkaException) as exc:         # librdkafka: the partition stopped (FETCH_NONE)
        c.seek(TopicPartition("orders", 0, 2))
    assert exc.value.args[0].code() == KafkaError._STATE
    c.assign([TopicPartition("orders", 0, 2)])
    assert c.poll(1.0).offset() == 2
    c2 = consumer(cluster, "other")                          # earliest: back to the start
    c2.assign([TopicPartition("orders", 0, 3)])
    assert c2.poll(1.0).offset() == 3
    c2.seek(TopicPartition("orders", 0, 100))
    assert c2.poll(1.0).offset() == 0


def test_watermarks_and_offsets_for_times(cluster):
    make_topic(cluster, partitions=1)
    produce(cluster, "orders", 4)
    c = consumer(cluster)
    tp = TopicPartition("orders", 0)
    assert c.get_watermark_offsets(tp) == (0, 4)
    assert c.get_watermark_offsets(tp, cached=True) == (OFFSET_INVALID, OFFSET_INVALID)
    (res,) = c.offsets_for_times([TopicPartition("orders", 0, 0)])
    assert res.offset == 0 and res.error is None
    (res,) = c.offsets_for_times([TopicPartition("orders", 0, cluster.now_ms + 1)])   # after every record
    assert res.offset == -1
    with pytest.raises(KafkaException) as ei:
        c.get_watermark_offsets(TopicPartition("nope", 0))
    assert ei.value.args[0].code() == KafkaError._UNKNOWN_PARTITION     # librdkafka 2.16: no leader to ask


def test_fetch_survives_leader_failure(cluster):
    make_topic(cluster, partitions=1)
    produce(cluster, "orders", 3)
    c = consumer(cluster)
    c.assign([TopicPartition("orders", 0, 0)])
    assert c.poll(1.0).offset() == 0
    cluster.stop_broker(cluster.leader_for("orders", 0))
    got = []
    for _ in range(20):
        m = c.poll(1.0)
        if m is not None:
            assert m.error() is None, m.error()          # leader errors are never shown to the app
            got.append(m.offset())
        if len(got) == 2:
            break
    assert got == [1, 2]


def test_pause_and_resume(cluster):
    make_topic(cluster, partitions=1)
    produce(cluster, "orders", 3)
    c = consumer(cluster)
    tp = TopicPartition("orders", 0, 0)
    c.assign([tp])
    assert c.poll(1.0).offset() == 0
    c.pause([tp])
    assert c.poll(0.5) is None
    c.resume([tp])
    assert c.poll(1.0).offset() == 1


def test_store_offsets_then_commit(cluster):
    make_topic(cluster, partitions=1)
    produce(cluster, "orders", 3)
    c = consumer(cluster, **{"enable.auto.offset.store": False, "enable.auto.commit": False})
    c.assign([TopicPartition("orders", 0)])
    msgs = [c.poll(1.0) for _ in range(3)]
    with pytest.raises(KafkaException) as ei:
        c.commit(asynchronous=False)
    assert ei.value.args[0].code() == KafkaError._NO_OFFSET
    c.store_offsets(message=msgs[1])
    assert c.commit(asynchronous=False)[0].offset == 2
    with pytest.raises(KafkaException) as ei:
        c.store_offsets(offsets=[TopicPartition("orders", 5, 1)])
    assert ei.value.args[0].code() == KafkaError._STATE


def test_consume_batches_and_on_commit_callback(cluster):
    make_topic(cluster, partitions=1)
    produce(cluster, "orders", 5)
    results = []
    c = consumer(cluster, on_commit=lambda err, parts: results.append((err, [(p.partition, p.offset) for p in parts])))
    c.assign([TopicPartition("orders", 0)])
    batch = c.consume(num_messages=3, timeout=1.0)
    assert [m.offset() for m in batch] == [0, 1, 2]
    assert [m.offset() for m in c.consume(10, timeout=0.5)] == [3, 4]
    c.commit()
    c.poll(0)
    assert results == [(None, [(0, 5)])]


def test_determinism_same_seed_same_sequence():
    def run(seed):
        cl = Cluster(brokers=3, seed=seed, name=f"det-{seed}-{next(_names)}")
        make_topic(cl)
        produce(cl, "orders", 40)
        cs = [consumer(cl) for _ in range(3)]
        for c in cs:
            c.subscribe(["orders"])
        got = poll_all(cs, 12)
        cs[1].close()
        got += poll_all([cs[0], cs[2]], 6)
        return ([[(m.partition(), m.offset(), m.value()) for m in msgs] for msgs in got],
                [c.memberid() for c in (cs[0], cs[2])], cl.clock.now_ms)
    assert run(3) == run(3)
    assert run(3)[1] != run(4)[1]          # member ids come from the seeded rng


# -- errors -------------------------------------------------------------------------------------------
def test_errors_and_bad_arguments(cluster):
    make_topic(cluster, partitions=1)
    with pytest.raises(ValueError, match="group.id must be set"):
        Consumer({"bootstrap.servers": cluster.bootstrap_servers})
    with pytest.raises(KafkaException):
        consumer(cluster, **{"no.such.property": 1})
    c = consumer(cluster)
    with pytest.raises(TypeError):
        c.subscribe("orders")
    with pytest.raises(TypeError, match="on_assign"):
        c.subscribe(["orders"], on_assign=5)
    with pytest.raises(KafkaException) as ei:
        c.subscribe([])
    assert ei.value.args[0].code() == KafkaError._INVALID_ARG
    with pytest.raises(TypeError):
        c.poll("soon")
    with pytest.raises(ValueError):
        c.consume(-1)
    with pytest.raises(ValueError, match="mutually exclusive"):
        c.commit(message=object(), offsets=[])
    with pytest.raises(TypeError):
        c.assign("orders")
    with pytest.raises(KafkaException) as ei:
        c.seek(TopicPartition("orders", 0, 1))
    assert ei.value.args[0].code() == KafkaError._UNKNOWN_PARTITION
    with pytest.raises(KafkaException) as ei:
        c.commit(offsets=[TopicPartition("orders", 9, 1)], asynchronous=False)
    assert ei.value.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    with pytest.raises(KafkaException) as ei:
        c.commit(offsets=[TopicPartition("missing", 0, 1)], asynchronous=False)
    assert ei.value.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    c.assign([TopicPartition("orders", 0)])
    with pytest.raises(KafkaException) as ei:
        c.incremental_assign([TopicPartition("orders", 0)])
    assert ei.value.args[0].code() == KafkaError._CONFLICT
    with pytest.raises(KafkaException) as ei:
        c.incremental_unassign([TopicPartition("orders", 3)])
    assert ei.value.args[0].code() == KafkaError._INVALID_ARG
    c.close()
    c.close()                                   # harmless twice
    for call in (lambda: c.poll(0), c.assignment, c.memberid, lambda: c.subscribe(["orders"]),
                 lambda: c.commit(asynchronous=False), lambda: c.position([]), c.unassign):
        with pytest.raises(RuntimeError, match="Consumer closed"):
            call()


def test_commit_from_a_stale_generation_is_rejected(cluster):
    make_topic(cluster, partitions=2)
    c1 = consumer(cluster, **{"enable.auto.commit": False})
    c1.subscribe(["orders"])
    c1.poll(0.5)
    gen = cluster.groups.describe("billing")["generation"]
    res = cluster.groups.commit_offsets("billing", {("orders", 0): 1}, member_id=c1.memberid(), generation=gen - 1)
    assert res[("orders", 0)].code() == KafkaError.ILLEGAL_GENERATION
    res = cluster.groups.commit_offsets("billing", {("orders", 0): 1}, member_id="", generation=-1)
    assert res[("orders", 0)].code() == KafkaError.UNKNOWN_MEMBER_ID
    res = cluster.groups.commit_offsets("billing", {("orders", 0): 1}, member_id=c1.memberid(), generation=gen)
    assert res[("orders", 0)] is None


# -- robustness: poll(0), close() in a callback, the wrong assignment call, timeouts ----------------------
def test_a_poll_0_loop_joins_the_group_and_reads(cluster):
    """The non-blocking loop of real applications: each empty poll(0) lets 1 ms of virtual time pass."""
    make_topic(cluster, partitions=2)
    produce(cluster, "orders", 4)
    c = consumer(cluster)
    c.subscribe(["orders"])
    got = []
    for _ in range(20_000):
        msg = c.poll(0)
        if msg is not None and msg.error() is None:
            got.append(msg.value())
        if len(got) == 4:
            break
    assert sorted(got) == [b"v0", b"v1", b"v2", b"v3"]
    assert c.consume(num_messages=5, timeout=0) == []


def test_close_inside_on_revoke_leaves_the_group_once(cluster):
    make_topic(cluster, partitions=4)
    calls = []

    def on_revoke(c, parts):
        calls.append(len(parts))
        c.close()
    c1 = consumer(cluster)
    c1.subscribe(["orders"], on_revoke=on_revoke)
    c1.poll(1)
    assert len(c1.assignment()) == 4
    c2 = consumer(cluster)
    c2.subscribe(["orders"])
    for _ in range(20):
        c2.poll(0.5)
        try:
            c1.poll(0.1)
        except RuntimeError:
            break
    assert calls == [4]
    with pytest.raises(RuntimeError):
        c1.poll(0)
    assert len(c2.assignment()) == 4


@pytest.mark.parametrize("strategy, wrong", [("cooperative-sticky", "assign"), ("range", "incremental_assign")])
def test_the_other_protocols_assignment_call_in_a_rebalance_callback_is_a_state_error(cluster, strategy, wrong):
    """librdkafka: _STATE "Changes to the current assignment must be made using ..." (the callback's
    exception surfaces from poll(); the default assignment still happens)."""
    make_topic(cluster, partitions=2)
    errors = []

    def on_assign(c, parts):
        try:
            getattr(c, wrong)(parts)
        except KafkaException as exc:
            errors.append(exc.args[0])
    c = consumer(cluster, **{"partition.assignment.strategy": strategy})
    c.subscribe(["orders"], on_assign=on_assign)
    c.poll(1)
    assert [e.code() for e in errors] == [KafkaError._STATE]
    assert "Changes to the current assignment must be made using" in errors[0].str()
    assert len(c.assignment()) == 2


@pytest.mark.parametrize("timeout", [None, "1"])
def test_timeouts_that_are_not_numbers_are_type_errors_as_in_confluent_kafka(cluster, timeout):
    make_topic(cluster)
    c = consumer(cluster)
    tp = TopicPartition("orders", 0)
    for call in (c.poll, lambda t: c.consume(timeout=t), lambda t: c.committed([tp], timeout=t),
                 lambda t: c.get_watermark_offsets(tp, timeout=t), lambda t: c.list_topics(timeout=t)):
        with pytest.raises(TypeError, match="must be real number"):
            call(timeout)


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), -float("inf"), 1e300, 10**20, -5])
def test_forever_timeouts_are_bounded_like_an_infinite_poll(cluster, timeout):
    make_topic(cluster)
    c = consumer(cluster)
    c.assign([TopicPartition("orders", 0)])
    start = cluster.clock.now_ms
    assert c.poll(timeout) is None
    assert cluster.clock.now_ms - start == 60_000


# -- arguments as confluent-kafka 2.16 takes them (each compared with the real client) ---------------------
@pytest.mark.parametrize("call", [
    lambda c: c.subscribe(("orders",)),
    lambda c: c.assign((TopicPartition("orders", 0),)),
    lambda c: c.incremental_assign((TopicPartition("orders", 0),)),
    lambda c: c.pause((TopicPartition("orders", 0),)),
    lambda c: c.position((TopicPartition("orders", 0),)),
    lambda c: c.committed((TopicPartition("orders", 0),), timeout=1),
])
def test_tuples_where_lists_are_expected_are_type_errors(cluster, call):
    make_topic(cluster)
    with pytest.raises(TypeError):
        call(consumer(cluster))


def test_a_topic_twice_in_a_subscription_is_invalid(cluster):
    make_topic(cluster)
    c = consumer(cluster)
    with pytest.raises(KafkaException) as info:
        c.subscribe(["orders", "orders"])
    assert info.value.args[0].code() == KafkaError._INVALID_ARG
    assert c.assignment() == []


@pytest.mark.parametrize("offset", [-3, -5, -999, -1002, -1999])
def test_assign_refuses_negative_offsets_that_are_not_logical(cluster, offset):
    make_topic(cluster)
    c = consumer(cluster)
    with pytest.raises(KafkaException) as info:
        c.assign([TopicPartition("orders", 0, offset)])
    assert info.value.args[0].code() == KafkaError._INVALID_ARG
    assert c.assignment() == []


@pytest.mark.parametrize("offset", [0, 7, -1, -2, -1000, -1001, -2000, -2001])
def test_assign_takes_absolute_and_logical_offsets(cluster, offset):
    make_topic(cluster)
    c = consumer(cluster)
    c.assign([TopicPartition("orders", 0, offset)])
    assert len(c.assignment()) == 1


@pytest.mark.parametrize("conf", ["x", None, 5, []])
def test_a_configuration_that_is_not_a_dict_is_a_type_error(conf):
    for cls in (Consumer, Producer):
        with pytest.raises(TypeError, match="expected configuration dict"):
            cls(conf)


@pytest.mark.parametrize("offset", [-1000, -3, -5, -1500])
def test_seek_refuses_offset_stored_and_offsets_that_are_not_logical(cluster, offset):
    """librdkafka refuses OFFSET_STORED at the call (measured on Kafka 4.4); the others are refused by the
    simulator where librdkafka would ask the broker (see ``Consumer.seek``)."""
    make_topic(cluster)
    produce(cluster, "orders", 3, partition=0)
    c = consumer(cluster)
    c.assign([TopicPartition("orders", 0, 1)])
    with pytest.raises(KafkaException) as info:
        c.seek(TopicPartition("orders", 0, offset))
    assert info.value.args[0].code() == KafkaError._INVALID_ARG
    msg = c.poll(1)
    assert msg.offset() == 1


def test_subscribe_takes_the_str_of_what_is_not_a_str_as_confluent_kafka_does(cluster):
    """confluent-kafka 2.16 accepts ``subscribe([5])`` (topic "5") and ``subscribe([b"t"])`` (topic "b't'"):
    the mistake shows as an unknown-topic event, as on real Kafka."""
    make_topic(cluster)
    c = consumer(cluster)
    c.subscribe([b"orders"])
    msg = c.poll(1)
    assert msg is not None and msg.error().code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    assert "b'orders'" in msg.error().str()


def test_consume_drops_records_of_partitions_revoked_during_the_call(cluster):
    """Found by the stateful fuzz test: a rebalance inside consume() revoked partitions whose records were
    already in the batch. librdkafka (since PR #3269) removes them; so does the simulator."""
    make_topic(cluster, name="t0", partitions=3)
    p = Producer({"bootstrap.servers": cluster.bootstrap_servers})
    for i in range(3):
        p.produce("t0", value=f"v{i}", partition=i)
    p.flush(5)
    a = consumer(cluster, group="g1")
    a.subscribe(["t0"])
    while not a.assignment():
        a.poll(0.1)
    b = consumer(cluster, group="g1")
    b.subscribe(["t0"])
    b.poll(0.1)
    msgs = a.consume(100, timeout=5)
    owned = {(tp.topic, tp.partition) for tp in a.assignment()}
    assert all((m.topic(), m.partition()) in owned for m in msgs if m.error() is None)


def test_a_finite_timeout_longer_than_a_quarter_hour_returns_after_fifteen_minutes(cluster):
    """Found by the fuzz test: poll(2e6) in a group (23 virtual days of heartbeats) took 15 s of wall time,
    and an hour with two brokers down (fetch retries) 3 s. A finite wait is honoured up to
    timeouts.MAX_WAIT_MS (fifteen minutes)."""
    make_topic(cluster)
    c = consumer(cluster)
    c.subscribe(["orders"])
    c.poll(1)
    start = cluster.clock.now_ms
    assert c.poll(2e6) is None
    assert cluster.clock.now_ms - start == 900_000
    start = cluster.clock.now_ms
    assert c.poll(600) is None
    assert cluster.clock.now_ms - start == 600_000
