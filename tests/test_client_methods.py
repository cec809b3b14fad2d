"""Simulator-only tests of the client methods from confluent-kafka 2.16 (``cluster_id``,
``set_sasl_credentials``, ``produce_batch``, the newer ``Message`` methods) and of the client behaviours
the differential campaign (``tests/campaign/clients.py``) found the simulator getting wrong."""
from __future__ import annotations

import base64

import pytest

from eventsim.admin import AdminClient, NewTopic
from eventsim.client_identity import cluster_id_for_seed
from eventsim.cluster import Cluster
from eventsim.consumer import Consumer
from eventsim.errors import KafkaError, KafkaException
from eventsim.message import (OFFSET_BEGINNING, OFFSET_INVALID, TIMESTAMP_NOT_AVAILABLE, Message,
                              TopicPartition)
from eventsim.producer import Producer


@pytest.fixture
def cluster():
    c = Cluster(brokers=3, seed=5)
    AdminClient({"bootstrap.servers": c.bootstrap_servers}).create_topics(
        [NewTopic("t", 2, 3), NewTopic("one", 1, 3)])["t"].result(10)
    return c


def producer(cluster, **conf):
    return Producer(dict({"bootstrap.servers": cluster.bootstrap_servers}, **conf))


def consumer(cluster, **conf):
    return Consumer(dict({"bootstrap.servers": cluster.bootstrap_servers, "group.id": "g",
                          "auto.offset.reset": "earliest"}, **conf))


def reports_into(out):
    return lambda err, msg: out.append((err, msg))


def raised(call):
    try:
        call()
    except KafkaException as exc:
        return exc.args[0].code()
    except Exception as exc:  # noqa: BLE001
        return (type(exc).__name__, str(exc))
    return None


# -- cluster_id -------------------------------------------------------------------------------------------------
def test_cluster_id_is_kafkas_format_deterministic_and_in_the_metadata(cluster):
    cid = cluster.cluster_id
    assert len(cid) == 22 and not cid.startswith("-")
    assert len(base64.urlsafe_b64decode(cid + "==")) == 16
    assert cid == cluster_id_for_seed(5) == Cluster(brokers=1, seed=5).cluster_id != cluster_id_for_seed(6)
    p, c = producer(cluster), consumer(cluster)
    assert p.cluster_id() == c.cluster_id(10) == p.list_topics().cluster_id == cid


def test_cluster_id_argument_checks_and_closed_handle(cluster):
    p = producer(cluster)
    assert raised(lambda: p.cluster_id(None)) == ("TypeError", "must be real number, not NoneType")
    assert raised(lambda: p.cluster_id("1"))[0] == "TypeError"
    p.close()
    assert raised(lambda: p.cluster_id(None))[0] == "TypeError"        # the argument is parsed first
    assert raised(lambda: p.cluster_id(1)) == ("RuntimeError", "Handle has been closed")


def test_cluster_id_times_out_when_no_broker_answers(cluster):
    c = consumer(cluster)
    for b in list(cluster.brokers):
        cluster.stop_broker(b)
    before = cluster.clock.now_ms
    assert raised(lambda: c.cluster_id(0.5)) == KafkaError._TIMED_OUT
    assert cluster.clock.now_ms - before == 500


# -- set_sasl_credentials ---------------------------------------------------------------------------------------
def test_set_sasl_credentials_checks_types_and_returns_none(cluster):
    for client in (producer(cluster), consumer(cluster)):
        assert client.set_sasl_credentials("u", "p") is None
        assert client.set_sasl_credentials(username="", password="") is None
        assert raised(lambda: client.set_sasl_credentials(1, "p")) == ("TypeError", "argument 1 must be str, not int")
        assert raised(lambda: client.set_sasl_credentials("u", None)) == ("TypeError",
                                                                          "argument 2 must be str, not None")
        client.close()
        assert raised(lambda: client.set_sasl_credentials("u", "p")) == ("RuntimeError", "Handle has been closed")


# -- produce_batch ----------------------------------------------------------------------------------------------
def test_produce_batch_queues_all_and_reports_each_to_its_callback(cluster):
    p = producer(cluster)
    batch, own = [], []
    messages = [{"value": "a"}, {"value": b"b", "key": "k"}, {"value": b"c", "callback": reports_into(own)},
                {"value": b"d", "headers": [("h", b"1")]}]
    assert p.produce_batch("t", messages, on_delivery=reports_into(batch)) == 4 and len(p) == 4
    assert p.flush(10) == 0
    assert sorted(m.value() for _, m in batch) == [b"a", b"b", b"d"] and [m.value() for _, m in own] == [b"c"]
    records = [r for part in (0, 1) for r in cluster.fetch("t", part, 0).records]
    assert sorted(r.value for r in records) == [b"a", b"b", b"c", b"d"]
    assert all(not r.headers for r in records)                         # headers are dropped


def test_produce_batch_partition_argument_overrides_each_messages_partition(cluster):
    p = producer(cluster)
    got = []
    assert p.produce_batch("t", [{"value": b"x", "partition": 0}, {"value": b"y"}], 1, reports_into(got)) == 2
    p.flush(10)
    assert [m.partition() for _, m in got] == [1, 1]


@pytest.mark.parametrize("messages, expected", [
    (({"value": b"x"},), ("TypeError", "messages must be a list")),
    ([{"value": b"x"}, "x"], ("TypeError", "Message at index 1 must be a dict")),
    ([{"value": 1}], ("TypeError", "Message value at index 0 must be bytes or str")),
    ([{"key": bytearray(b"k")}], ("TypeError", "Message key at index 0 must be bytes or str")),
    ([{"partition": "1"}], ("TypeError", "Message partition at index 0 must be int")),
    ([{"value": b"x"}, {"timestamp": 5}], ("NotImplementedError",
                                           "Message timestamps are not currently supported in batch mode")),
    ([{"headers": "h"}], ("ValueError", "Invalid headers at index 0")),
    ([{"headers": [("h", 1)]}], ("ValueError", "Invalid headers at index 0")),
])
def test_produce_batch_bad_entries_raise_and_queue_nothing(cluster, messages, expected):
    p = producer(cluster)
    assert raised(lambda: p.produce_batch("t", messages)) == expected
    assert len(p) == 0


def test_produce_batch_argument_types_and_closed_producer(cluster):
    p = producer(cluster)
    assert raised(lambda: p.produce_batch(1, [])) == ("TypeError", "argument 1 must be str, not int")
    assert raised(lambda: p.produce_batch("t", [], partition=None))[0] == "TypeError"
    assert p.produce_batch("t", []) == 0
    p.close()
    assert p.produce_batch("t", []) == 0                               # checked before the handle
    assert raised(lambda: p.produce_batch("t", ())) == ("TypeError", "messages must be a list")
    assert raised(lambda: p.produce_batch("t", [{}])) == ("RuntimeError", "Producer has been closed")


def test_produce_batch_marks_refused_messages_with_error(cluster):
    p = producer(cluster, **{"message.max.bytes": 1000})
    p.produce("t", b"warm-up", partition=0)
    p.flush(10)
    messages = [{"value": b"a"}, {"value": b"b"}]
    assert p.produce_batch("t", messages, partition=7) == 0
    assert [(m["_error"].code(), m["_error"].str()) for m in messages] == [
        (KafkaError._UNKNOWN_PARTITION, "Message failed: Local: Unknown partition")] * 2
    got = []
    messages = [{"value": b"a"}, {"value": b"x" * 2000}, {"value": b"c"}]
    assert p.produce_batch("t", messages, on_delivery=reports_into(got)) == 2
    assert ["_error" in m for m in messages] == [False, True, False]
    assert messages[1]["_error"].code() == KafkaError.MSG_SIZE_TOO_LARGE
    p.flush(10)
    assert sorted(m.value() for _, m in got) == [b"a", b"c"]


def test_produce_batch_queue_full_fails_the_rest(cluster):
    p = producer(cluster, **{"queue.buffering.max.messages": 2})
    messages = [{"value": b"%d" % i} for i in range(4)]
    assert p.produce_batch("t", messages) == 2
    assert [m.get("_error") and m["_error"].code() for m in messages] == [None, None, KafkaError._QUEUE_FULL,
                                                                          KafkaError._QUEUE_FULL]


def test_produce_batch_missing_topic_and_transactional_state(cluster):
    p = producer(cluster, **{"topic.metadata.propagation.max.ms": 1000})
    got = []
    assert p.produce_batch("nope", [{"value": b"a"}], on_delivery=reports_into(got)) == 1
    p.flush(10)
    assert got[0][0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    messages = [{"value": b"a"}]
    assert p.produce_batch("nope", messages) == 0 and messages[0]["_error"].code() == KafkaError._UNKNOWN_TOPIC
    txn = producer(cluster, **{"transactional.id": "tx"})
    txn.init_transactions(10)
    messages = [{"value": b"a"}]
    assert txn.produce_batch("t", messages) == 0 and messages[0]["_error"].code() == KafkaError._STATE
    txn.begin_transaction()
    assert txn.produce_batch("t", [{"value": b"a"}]) == 1
    txn.commit_transaction(10)


# -- Message ----------------------------------------------------------------------------------------------------
def test_message_new_methods():
    m = Message(topic="t", partition=0, offset=3, key=b"k", value=b"v")
    assert m.delivery_count() is None
    assert m.deserialized_key() is m.key() and m.deserialized_value() is m.value()
    assert m.set_topic(7) is None and m.topic() == 7
    assert m.set_error("anything") is None and m.error() == "anything"
    with pytest.raises(TypeError):
        m.set_topic(value="x")
    with pytest.raises(TypeError):
        m.set_error()


def test_negative_offset_and_unassigned_partition_read_as_none():
    m = Message(topic="t", partition=-1, offset=OFFSET_INVALID)
    assert m.partition() is None and m.offset() is None
    assert Message().timestamp() == (TIMESTAMP_NOT_AVAILABLE, 0)


# -- fixes the campaign found -----------------------------------------------------------------------------------
def test_delivery_reports_have_latency_no_headers_and_failures_no_timestamp(cluster):
    p = producer(cluster, **{"topic.metadata.propagation.max.ms": 1000})
    got = []
    p.produce("t", b"ok", headers=[("h", b"1")], on_delivery=reports_into(got))
    p.produce("nope", b"lost", on_delivery=reports_into(got))
    p.flush(10)
    (_, ok), (err, lost) = sorted(got, key=lambda r: r[0] is not None)
    assert ok.headers() is None and isinstance(ok.latency(), float) and ok.latency() >= 0
    assert err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART and isinstance(lost.latency(), float)
    assert lost.latency() >= 1.0 and lost.timestamp() == (TIMESTAMP_NOT_AVAILABLE, -1)
    assert lost.offset() is None and lost.partition() is None


def test_events_carry_their_error_string_and_no_timestamp(cluster):
    c = consumer(cluster, **{"enable.partition.eof": True})
    c.assign([TopicPartition("one", 0, OFFSET_BEGINNING)])
    eof = c.poll(1.0)
    assert eof.error().code() == KafkaError._PARTITION_EOF
    assert eof.value() == eof.error().str().encode() and len(eof) == len(eof.value())
    assert eof.timestamp() == (TIMESTAMP_NOT_AVAILABLE, -1) and eof.leader_epoch() == 0
    s = consumer(cluster, **{"group.id": "g2"})
    s.subscribe(["missing"])
    event = s.poll(1.0)
    assert event.error().code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    assert event.partition() == 0 and event.offset() is None and event.value().startswith(b"Subscribed topic")


def test_seek_forgets_the_position_and_unassigned_seeks_fail_by_what_the_client_knows(cluster):
    p = producer(cluster)
    for i in range(5):
        p.produce("t", b"%d" % i, partition=0)
    p.flush(10)
    c = consumer(cluster)
    c.assign([TopicPartition("t", 0, 0)])
    assert c.poll(1.0).offset() == 0
    position = c.position([TopicPartition("t", 0)])[0]
    assert position.offset == 1 and position.leader_epoch == 0
    c.seek(TopicPartition("t", 0, 3))
    position = c.position([TopicPartition("t", 0)])[0]
    assert position.offset == OFFSET_INVALID and position.leader_epoch is None
    assert c.poll(1.0).offset() == 3
    assert raised(lambda: c.seek(TopicPartition("t", 1, 0))) == KafkaError._STATE
    assert raised(lambda: c.seek(TopicPartition("one", 0, 0))) == KafkaError._UNKNOWN_PARTITION


def test_seek_after_an_auto_offset_reset_error_is_state(cluster):
    c = consumer(cluster, **{"auto.offset.reset": "error"})
    c.assign([TopicPartition("one", 0)])
    assert c.poll(1.0).error().code() == KafkaError._AUTO_OFFSET_RESET
    assert raised(lambda: c.seek(TopicPartition("one", 0, 0))) == KafkaError._STATE
    c.assign([TopicPartition("one", 0, 0)])                            # a new assign starts it again
    assert raised(lambda: c.seek(TopicPartition("one", 0, 0))) is None


def test_offsets_for_times_answers_a_repeated_partition_with_its_last_timestamp(cluster):
    p = producer(cluster)
    for ts in (1000, 2000, 3000):
        p.produce("one", b"x", timestamp=ts)
    p.flush(10)
    c = consumer(cluster)
    asked = [TopicPartition("one", 0, 2000), TopicPartition("one", 0, -1)]
    assert [tp.offset for tp in c.offsets_for_times(asked)] == [3, 3]
    assert [tp.offset for tp in c.offsets_for_times(list(reversed(asked)))] == [1, 1]


def test_producer_is_a_context_manager(cluster):
    with producer(cluster) as p:
        p.produce("t", b"x", partition=0)
    assert len(p) == 0 and raised(lambda: p.produce("t", b"y")) == ("RuntimeError", "Producer has been closed")
    assert cluster.fetch("t", 0, 0).records[0].value == b"x"


def test_store_offsets_of_an_event_is_invalid_arg(cluster):
    c = consumer(cluster, **{"enable.partition.eof": True, "enable.auto.offset.store": False})
    c.assign([TopicPartition("one", 0, OFFSET_BEGINNING)])
    eof = c.poll(1.0)
    assert eof.error().code() == KafkaError._PARTITION_EOF
    assert raised(lambda: c.store_offsets(message=eof)) == KafkaError._INVALID_ARG
    assert raised(lambda: c.commit(message=eof, asynchronous=False)) == KafkaError._INVALID_ARG


def test_offset_lookups_of_unknown_partitions(cluster):
    c = consumer(cluster)
    assert raised(lambda: c.get_watermark_offsets(TopicPartition("nope", 0))) == KafkaError._UNKNOWN_PARTITION
    assert raised(lambda: c.get_watermark_offsets(TopicPartition("one", 3))) == KafkaError._UNKNOWN_PARTITION
    assert raised(lambda: c.offsets_for_times([TopicPartition("nope", 0, 5)])) == KafkaError._UNKNOWN_PARTITION
    mixed = c.offsets_for_times([TopicPartition("one", 0, 0), TopicPartition("one", 3, 7)])
    assert [(tp.offset, tp.error and tp.error.code()) for tp in mixed] == [(-1, None),
                                                                         (7, KafkaError._UNKNOWN_PARTITION)]
