"""eventsim.history: the Jepsen-style checker on hand-made histories, and the recorder on the simulator."""
import json

import pytest

import eventsim
from eventsim.history import HistoryError, Recorder, check
from eventsim.history_recorder import text


# -- hand-made histories ------------------------------------------------------------------------------------
def send(value, offset, key=None, process="p1", partition=0, status="ok", txn=None, topic="t"):
    return {"process": process, "type": "send", "topic": topic, "key": key, "value": value, "status": status,
            "partition": partition if status == "ok" else None, "offset": offset if status == "ok" else None,
            "txn": txn}


def poll(value, offset, key=None, process="c1", partition=0, topic="t"):
    return {"process": process, "type": "poll", "topic": topic, "partition": partition, "offset": offset,
            "key": key, "value": value}


def move(kind, offset, process="c1", partition=0, topic="t"):
    return {"process": process, "type": kind, "topic": topic, "partition": partition, "offset": offset}


def txn(id_, status, process="p1"):
    return {"process": process, "type": "txn", "id": id_, "status": status}


def clean_history():
    return ([send("a", 0, key="k"), send("b", 1, key="k"), send("c", 0, key="j", partition=1)]
            + [poll("a", 0, key="k"), poll("b", 1, key="k"), poll("c", 0, key="j", partition=1)])


def only(result, name):
    assert set(result["anomalies"]) == {name}, result["anomalies"]
    return result["anomalies"][name]


def test_clean_history_has_no_anomaly():
    result = check(clean_history())
    assert result["valid"] is True and result["anomalies"] == {}
    assert result["counts"]["sends"] == 3 and result["counts"]["ok"] == 3 and result["counts"]["values_read"] == 3
    json.dumps(result)


def test_result_and_ops_are_json():
    ops = clean_history()
    assert json.loads(json.dumps(ops)) == ops
    assert json.loads(json.dumps(check(ops))) == check(ops)


def test_lost_acknowledged_below_a_read_offset():
    # c2 starts reading at offset 2 (a consumer reading on from 0 would also be a poll-skip)
    ops = [send("a", 0), send("b", 1), send("c", 2), poll("a", 0), poll("c", 2, process="c2")]
    [example] = only(check(ops), "lost")
    assert example["value"] == "b" and example["send"] == 1 and example["read_up_to"] == 2 and example["read_by"] == 4
    assert check(ops)["valid"] is False


def test_unseen_is_informational():
    ops = [send("a", 0), send("b", 1), poll("a", 0)]
    result = check(ops)
    [example] = only(result, "unseen")
    assert example["value"] == "b" and example["send"] == 1
    assert result["valid"] is True


def test_failed_and_unknown_sends_are_neither_lost_nor_unseen():
    ops = [send("a", 0), send("x", None, status="fail"), send("y", None, status="info"), send("b", 1),
           poll("a", 0), poll("b", 1)]
    assert check(ops)["anomalies"] == {}


def test_duplicate_one_value_at_two_offsets():
    ops = [send("a", 0), send("b", 2), poll("a", 0), poll("a", 1), poll("b", 2)]
    [example] = only(check(ops), "duplicate")
    assert example["value"] == "a" and example["ops"] == [0, 3] and example["at"] == [["t", 0, 0], ["t", 0, 1]]


def test_inconsistent_offsets_one_offset_two_values():
    ops = [send("a", 0), poll("a", 0), poll("z", 1), poll("a", 0, process="c2"), poll("y", 1, process="c2")]
    [example] = only(check(ops), "inconsistent-offsets")
    assert example["offset"] == 1 and example["values"] == ["z", "y"] and example["ops"] == [2, 4]


def test_reorder_one_producers_key_stored_out_of_order():
    ops = [send("a", 1, key="k"), send("b", 0, key="k"), poll("b", 0, key="k"), poll("a", 1, key="k")]
    [example] = only(check(ops), "reorder")
    assert example["sends"] == [0, 1] and example["offsets"] == [1, 0] and example["key"] == "k"


def test_no_reorder_across_keys_or_producers():
    ops = [send("a", 1, key="k"), send("b", 0, key="j"), send("c", 2, key="k", process="p2"),
           send("d", 3, key="k", process="p2"), poll("b", 0, key="j"), poll("a", 1, key="k"),
           poll("c", 2, key="k"), poll("d", 3, key="k")]
    assert check(ops)["anomalies"] == {}


def test_poll_skip_jumps_over_a_known_record():
    ops = [send("a", 0), send("b", 1), send("c", 2), poll("a", 0), poll("c", 2), poll("b", 1, process="c2")]
    [example] = only(check(ops), "poll-skip")
    assert example["ops"] == [3, 4] and example["skipped"] == 1 and example["process"] == "c1"


def test_gap_without_a_known_record_is_no_skip():
    # offset 1 is, e.g., a transaction marker: nothing is known to live there
    ops = [send("a", 0), send("c", 2), poll("a", 0), poll("c", 2)]
    assert check(ops)["anomalies"] == {}


def test_skipping_an_aborted_record_is_no_skip():
    ops = [send("x", 0), send("a", 1, txn="p1-t1"), txn("p1-t1", "abort"), send("b", 3), poll("x", 0), poll("b", 3)]
    assert check(ops)["anomalies"] == {}


def test_nonmonotonic_poll_goes_back_without_a_seek():
    ops = [send("a", 0), send("b", 1), poll("a", 0), poll("b", 1), poll("a", 0)]
    [example] = only(check(ops), "nonmonotonic-poll")
    assert example["ops"] == [3, 4] and example["offsets"] == [1, 0]


def test_the_same_offset_twice_is_nonmonotonic():
    ops = [send("a", 0), poll("a", 0), poll("a", 0)]
    assert only(check(ops), "nonmonotonic-poll")[0]["offsets"] == [0, 0]


@pytest.mark.parametrize("kind", ["seek", "assign", "rebalance"])
def test_going_back_after_a_move_is_fine(kind):
    ops = [send("a", 0), send("b", 1), poll("a", 0), poll("b", 1), move(kind, 0), poll("a", 0), poll("b", 1)]
    assert check(ops)["anomalies"] == {}


def test_a_move_of_another_consumer_or_partition_does_not_count():
    ops = [send("a", 0), send("b", 1), poll("a", 0), poll("b", 1), move("seek", 0, process="c2"),
           move("seek", 0, partition=1), poll("a", 0)]
    assert only(check(ops), "nonmonotonic-poll")[0]["ops"] == [3, 6]


def test_aborted_read():
    ops = [send("a", 0, txn="p1-t1"), txn("p1-t1", "abort"), send("b", 2, txn="p1-t2"), txn("p1-t2", "commit"),
           poll("a", 0), poll("b", 2)]
    [example] = only(check(ops), "aborted-read")
    assert example["value"] == "a" and example["send"] == 0 and example["poll"] == 4 and example["txn"] == "p1-t1"


def test_aborted_sends_are_not_lost():
    ops = [send("a", 0, txn="p1-t1"), txn("p1-t1", "abort"), send("b", 2), poll("b", 2)]
    assert check(ops)["anomalies"] == {}


# -- bad input ----------------------------------------------------------------------------------------------
def test_empty_history_is_nothing_to_check():
    with pytest.raises(HistoryError, match="nothing to check"):
        check([])


@pytest.mark.parametrize("bad, field", [
    ({"type": "sned"}, "type"),
    ({**send("a", 0), "status": "done"}, "status"),
    ({**send("a", 0), "offset": None}, "offset"),
    ({**send("a", 0), "offset": -1}, "offset"),
    ({**send("a", 0), "value": b"a"}, "value"),
    ({k: v for k, v in send("a", 0).items() if k != "topic"}, "topic"),
    ({**poll("a", 0), "partition": "0"}, "partition"),
    ({**poll("a", 0), "offset": True}, "offset"),
    ({**move("seek", 0), "offset": "0"}, "offset"),
    ({**txn("t1", "commit"), "status": "ok"}, "status"),
    ({**txn("t1", "commit"), "id": None}, "id"),
    (send("x", 9), "value"),       # x was already sent by op 0
])
def test_malformed_ops_name_their_index_and_field(bad, field):
    ops = [send("x", 0), poll("x", 0), bad]
    with pytest.raises(HistoryError, match=r"^op 2: field %r" % field) as info:
        check(ops)
    assert info.value.index == 2 and info.value.field == field


def test_an_op_that_is_not_a_dict():
    with pytest.raises(HistoryError, match="^op 1: an op is a dict") as info:
        check([send("x", 0), ["poll"]])
    assert info.value.index == 1 and info.value.field is None


def test_a_history_that_is_not_a_list():
    with pytest.raises(HistoryError, match="list of ops"):
        check({"type": "send"})


def test_text_of_keys_and_values():
    assert text(b"caf\xc3\xa9") == "café" and text(b"\xff\x00") == "0xff00" and text(None) is None
    assert text("s") == "s"


# -- the recorder on the simulator --------------------------------------------------------------------------
@pytest.fixture
def kafka():
    k = eventsim.connect("sim", seed=3)
    yield k
    k.close()


def make_topic(kafka, name, partitions=1, config=None):
    kafka.admin().create_topics([eventsim.NewTopic(name, partitions, 3, config=config or {})])[name].result()
    return name


def drain(consumer, polls=60, timeout=0.1):
    for _ in range(polls):
        consumer.poll(timeout)


def test_recorded_clean_run_has_no_anomaly(kafka):
    topic = make_topic(kafka, "clean", partitions=3)
    rec = Recorder()
    delivered = []
    p = rec.producer(kafka.Producer({"acks": "all", "enable.idempotence": True}))
    for i in range(60):
        p.produce(topic, key="k%d" % (i % 7), value="v%d" % i, on_delivery=lambda e, m: delivered.append(e))
        p.poll(0)
    assert p.flush(10) == 0
    assert delivered == [None] * 60                 # the caller's own callback still runs
    consumers = [rec.consumer(kafka.Consumer({"group.id": "g", "auto.offset.reset": "earliest"}))
                 for _ in range(2)]
    for c in consumers:
        c.subscribe([topic])
    for _ in range(400):
        for c in consumers:
            c.poll(0.05)
        if len({op["value"] for op in rec.ops if op["type"] == "poll"}) == 60:
            break
    sends = [op for op in rec.ops if op["type"] == "send"]
    assert len(sends) == 60 and all(op["status"] == "ok" and op["process"] == "p1" for op in sends)
    assert {op["process"] for op in rec.ops if op["type"] == "poll"} <= {"c1", "c2"}
    assert any(op["type"] == "rebalance" for op in rec.ops)
    result = check(json.loads(json.dumps(rec.ops)))
    assert result["anomalies"] == {} and result["counts"]["values_read"] == 60


def test_seeking_back_is_not_nonmonotonic(kafka):
    topic = make_topic(kafka, "seek")
    rec = Recorder()
    p = rec.producer(kafka.Producer({}))
    for i in range(5):
        p.produce(topic, value=b"v%d" % i)
    p.flush(10)
    c = rec.consumer(kafka.Consumer({"group.id": "g"}))
    c.assign([eventsim.TopicPartition(topic, 0, 0)])
    drain(c, 20)
    c.seek(eventsim.TopicPartition(topic, 0, 1))
    got = c.consume(10, 1.0)
    assert [m.offset() for m in got][:1] == [1]
    kinds = [op["type"] for op in rec.ops]
    assert kinds.count("assign") == 1 and kinds.count("seek") == 1 and kinds.count("poll") == 9
    assert check(rec.ops)["anomalies"] == {}
    # the same reads without the recorded seek would be a nonmonotonic poll: the seek op is what makes it fine
    without = [op for op in rec.ops if op["type"] != "seek"]
    assert set(check(without)["anomalies"]) == {"nonmonotonic-poll"}


def transactions_then_read(kafka, isolation):
    topic = make_topic(kafka, "txn")
    rec = Recorder()
    p = rec.producer(kafka.Producer({"transactional.id": "tx"}), process="tx")
    p.init_transactions(10)
    p.begin_transaction()
    for i in range(3):
        p.produce(topic, value="aborted-%d" % i)
    p.flush(10)
    p.abort_transaction(10)
    p.begin_transaction()
    for i in range(2):
        p.produce(topic, value="committed-%d" % i)
    p.commit_transaction(10)
    c = rec.consumer(kafka.Consumer({"group.id": "r", "auto.offset.reset": "earliest",
                                     "isolation.level": isolation}))
    c.subscribe([topic])
    drain(c)
    return rec.ops


def test_recorded_transactions(kafka):
    ops = transactions_then_read(kafka, "read_committed")
    assert [op for op in ops if op["type"] == "txn"] == [
        {"process": "tx", "type": "txn", "id": "tx-t1", "status": "abort"},
        {"process": "tx", "type": "txn", "id": "tx-t2", "status": "commit"}]
    assert [op["txn"] for op in ops if op["type"] == "send"] == ["tx-t1"] * 3 + ["tx-t2"] * 2
    assert [op["value"] for op in ops if op["type"] == "poll"] == ["committed-0", "committed-1"]
    assert check(ops)["anomalies"] == {}


def test_read_uncommitted_reads_aborted_records(kafka):
    ops = transactions_then_read(kafka, "read_uncommitted")
    examples = only(check(ops), "aborted-read")
    assert sorted(e["value"] for e in examples) == ["aborted-0", "aborted-1", "aborted-2"]


def test_rebalance_callbacks_are_chained(kafka):
    topic = make_topic(kafka, "cb", partitions=2)
    rec = Recorder()
    seen = []
    c = rec.consumer(kafka.Consumer({"group.id": "g"}), process="me")
    c.subscribe([topic], on_assign=lambda consumer, parts: seen.append(("assign", consumer, len(parts))))
    drain(c, 20)
    assert seen == [("assign", c, 2)]
    assert [(op["type"], op["process"], op["partition"]) for op in rec.ops] == [
        ("rebalance", "me", 0), ("rebalance", "me", 1)]


def test_a_produce_that_raises_is_a_failed_send(kafka):
    rec = Recorder()
    p = rec.producer(kafka.Producer({}))
    with pytest.raises(TypeError):
        p.produce(7, value="v")
    assert [op["status"] for op in rec.ops] == ["fail"]


def test_unclean_leader_election_with_acks_1_loses_acknowledged_records(kafka):
    """The faulty run: acks=1, followers lagging, the leader crashes, an out-of-sync follower takes over
    (unclean.leader.election.enable=true) and the records only the old leader had are gone."""
    topic = make_topic(kafka, "unclean", config={"unclean.leader.election.enable": "true"})
    leader = kafka.admin().list_topics(topic).topics[topic].partitions[0].leader
    for b in kafka.broker_ids:
        if b != leader:
            kafka.slow_broker(b, 300)
    rec = Recorder()
    p = rec.producer(kafka.Producer({"acks": 1, "message.timeout.ms": 20000}))
    for i in range(30):
        p.produce(topic, value="before-%d" % i)
        p.poll(0)
        kafka.wait(20)
    p.flush(0.05)
    kafka.stop_broker(leader)
    kafka.heal()
    for i in range(30):
        p.produce(topic, value="after-%d" % i)
        p.poll(0)
    p.flush(60)
    c = rec.consumer(kafka.Consumer({"group.id": "g"}))
    c.assign([eventsim.TopicPartition(topic, 0, 0)])
    drain(c, 100)
    result = check(rec.ops)
    assert result["valid"] is False
    lost = result["anomalies"]["lost"]
    assert lost and all(e["value"].startswith("before-") for e in lost)
    acked = {op["value"] for op in rec.ops if op["type"] == "send" and op["status"] == "ok"}
    read = {op["value"] for op in rec.ops if op["type"] == "poll"}
    assert {e["value"] for e in lost} <= acked - read


@pytest.mark.parametrize("idempotent", [False, True])
def test_lost_produce_responses_duplicate_only_without_idempotence(kafka, idempotent):
    """A produce response lost on the way back: the producer retries; without idempotence the broker writes
    the batch twice (``duplicate``, and a later send of the key stored before the retried one: ``reorder``)."""
    topic = make_topic(kafka, "dup")
    rec = Recorder()
    p = rec.producer(kafka.Producer({"enable.idempotence": idempotent, "acks": "all", "linger.ms": 0,
                                     "request.timeout.ms": 2000}))
    assert len(p) == 0
    kafka.drop_responses(topic, 0, 1)
    for i in range(10):
        p.produce(topic, key="k", value="v%d" % i)
        p.poll(0)
    assert p.flush(30) == 0
    with rec.consumer(kafka.Consumer({"group.id": "g", "auto.offset.reset": "earliest"})) as c:
        c.subscribe([topic])
        drain(c)
    result = check(rec.ops)
    assert result["counts"]["ok"] == 10 and result["counts"]["values_read"] == 10
    if idempotent:
        assert result["anomalies"] == {}
    else:
        assert set(result["anomalies"]) == {"duplicate", "reorder"}
        for e in result["anomalies"]["duplicate"]:       # the acknowledged copy and the one read elsewhere
            assert rec.ops[e["ops"][0]]["type"] == "send" and rec.ops[e["ops"][1]]["type"] == "poll"


# -- the same workload on the simulator and on real Kafka ----------------------------------------------------
def recorded_history_verdicts(run):
    """A differential scenario: an idempotent producer, an aborted and a committed transaction, a consumer
    group reading read_committed and an assigned read_uncommitted consumer that seeks back once, all
    recorded; the observation is the checker's verdict (anomaly names) per isolation level."""
    from differential_scenarios import MAX_POLLS, POLL_S
    topic = run.topic(partitions=3)
    rec = Recorder()
    p = rec.producer(run.kafka.Producer({"acks": "all", "enable.idempotence": True}), process="plain")
    for i in range(30):
        p.produce(topic, key="k%d" % (i % 5), value="plain-%d" % i)
    assert p.flush(30) == 0
    t = rec.producer(run.kafka.Producer({"transactional.id": run.unique_name("txn")}), process="tx")
    t.init_transactions(30)
    for outcome in ("abort", "commit"):
        t.begin_transaction()
        for i in range(3):
            t.produce(topic, key="t", value="%s-%d" % (outcome, i))
        t.flush(30)
        (t.abort_transaction if outcome == "abort" else t.commit_transaction)(30)
    out = {}
    for level, want in (("read_committed", 33), ("read_uncommitted", 36)):
        before = len(rec.ops)
        c = rec.consumer(run.kafka.Consumer({"group.id": run.unique_name("h"), "auto.offset.reset": "earliest",
                                             "isolation.level": level, "enable.auto.commit": False}), process=level)
        if level == "read_committed":
            c.subscribe([topic])
        else:
            c.assign([run.tp(topic, part, run.api.OFFSET_BEGINNING) for part in range(3)])
        seeked = False
        for _ in range(MAX_POLLS):
            msg = c.poll(POLL_S)
            if msg is not None and not msg.error() and not seeked and msg.offset() >= 2:
                c.seek(run.tp(topic, msg.partition(), 0))         # read the partition again from 0
                seeked = True
            read = {op["value"] for op in rec.ops[before:] if op["type"] == "poll"}
            if len(read) == want and seeked:
                break
        c.close()
        history = [op for op in rec.ops[:before] if op["type"] != "poll"] + rec.ops[before:]
        out[level] = sorted(check(json.loads(json.dumps(history)))["anomalies"])
    return out


@pytest.mark.kafka
def test_recorded_verdicts_on_simulator_and_real_kafka(on_both):
    sim, real = on_both(recorded_history_verdicts)
    assert sim == real
    assert real == {"read_committed": [], "read_uncommitted": ["aborted-read"]}


def test_recorded_verdicts_on_the_simulator(unique_name):
    from conftest import observe
    sim = observe(recorded_history_verdicts, eventsim.connect("sim", brokers=3, seed=0), unique_name)
    assert sim == {"read_committed": [], "read_uncommitted": ["aborted-read"]}


def test_on_delivery_by_keyword_by_position_or_as_callback_still_runs(kafka):
    topic = make_topic(kafka, "cbs")
    rec = Recorder()
    p = rec.producer(kafka.Producer({}))
    got = []
    p.produce(topic, "a", None, 0, lambda e, m: got.append(("position", m.value())))
    p.produce(topic, "b", on_delivery=lambda e, m: got.append(("keyword", m.value())))
    p.produce(topic, "c", callback=lambda e, m: got.append(("callback", m.value())))
    p.produce(topic, "d")
    assert p.flush(10) == 0
    assert got == [("position", b"a"), ("keyword", b"b"), ("callback", b"c")]
    assert [(op["value"], op["status"], op["offset"]) for op in rec.ops] == [
        ("a", "ok", 0), ("b", "ok", 1), ("c", "ok", 2), ("d", "ok", 3)]
