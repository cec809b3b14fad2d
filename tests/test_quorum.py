"""The simulator's KRaft controller quorum (eventsim/quorum.py) and what a lost majority freezes."""
from __future__ import annotations

import pytest

import eventsim
from eventsim import KafkaException
from eventsim.admin import NewTopic
from eventsim.errors import KafkaError
from eventsim.quorum import QUORUM_ELECTION_TIMEOUT_MS, QUORUM_FETCH_TIMEOUT_MS


@pytest.fixture
def kafka():
    k = eventsim.connect("sim", seed=1)
    k.admin().create_topics([NewTopic("t", 3, 3, config={"min.insync.replicas": "2"})])["t"].result()
    return k


def controllers(k):
    return [(c["id"], c["alive"], c["active"]) for c in k.snapshot()["controllers"]]


def test_the_course_shape_is_three_brokers_and_three_controllers(kafka):
    snap = kafka.snapshot()
    assert [b["id"] for b in snap["brokers"]] == [1, 2, 3]
    assert controllers(kafka) == [(101, True, True), (102, True, False), (103, True, False)]
    assert snap["controller"] == 101
    assert kafka.broker_ids == (1, 2, 3) and kafka.controller_ids == (101, 102, 103)


def test_a_light_cluster_has_one_of_each():
    k = eventsim.connect("sim", brokers=1, controllers=1)
    assert controllers(k) == [(101, True, True)] and k.broker_ids == (1,)


@pytest.mark.parametrize("bad", [0, 10, True, 1.0, "3", None])
def test_a_bad_controller_count_is_refused(bad):
    with pytest.raises(KafkaException) as info:
        eventsim.connect("sim", controllers=bad)
    assert info.value.args[0].code() == KafkaError._INVALID_ARG and "controllers" in str(info.value)


def test_losing_the_active_controller_elects_another_after_the_fetch_timeout(kafka):
    began = kafka.now_ms
    kafka.stop_controller(101, wait=False)
    assert kafka.snapshot()["controller"] is None
    kafka.wait(QUORUM_FETCH_TIMEOUT_MS + QUORUM_ELECTION_TIMEOUT_MS - 1)
    assert kafka.snapshot()["controller"] is None
    kafka.wait(1)
    assert kafka.snapshot()["controller"] in (102, 103)
    assert kafka.now_ms - began == QUORUM_FETCH_TIMEOUT_MS + QUORUM_ELECTION_TIMEOUT_MS


def test_stop_controller_waits_for_the_new_active_one_by_default(kafka):
    kafka.stop_controller(101)
    assert kafka.snapshot()["controller"] in (102, 103)
    kafka.stop_controller(103 if kafka.snapshot()["controller"] == 102 else 102)   # the non-active one
    assert kafka.snapshot()["controller"] is None      # 1 of 3: the last one resigns


def test_losing_a_follower_controller_changes_nothing(kafka):
    kafka.stop_controller(102)
    assert kafka.snapshot()["controller"] == 101
    kafka.admin().create_topics([NewTopic("u", 1, 3)])["u"].result()


def test_without_a_majority_metadata_writes_time_out_after_the_request_timeout(kafka):
    kafka.stop_controller(101)
    kafka.stop_controller(kafka.snapshot()["controller"])
    admin = kafka.admin()
    began = kafka.now_ms
    with pytest.raises(KafkaException) as info:
        admin.create_topics([NewTopic("u", 1, 3)], request_timeout=7)["u"].result()
    assert info.value.args[0].code() == KafkaError._TIMED_OUT and kafka.now_ms - began == 7000
    began = kafka.now_ms
    for futures in (admin.delete_topics(["t"]), admin.create_partitions([eventsim.NewPartitions("t", 6)])):
        with pytest.raises(KafkaException) as info:
            futures["t"].result()
        assert info.value.args[0].code() == KafkaError._TIMED_OUT
    assert kafka.now_ms - began == 2 * 60_000          # librdkafka's default request timeout each
    assert [t["name"] for t in kafka.snapshot()["topics"]] == ["t"]
    assert len(kafka.snapshot()["topics"][0]["partitions"]) == 3


def test_a_client_that_waits_longer_than_the_broker_hears_the_brokers_timeout(kafka):
    kafka.stop_controller(101)
    kafka.stop_controller(kafka.snapshot()["controller"])
    began = kafka.now_ms
    with pytest.raises(KafkaException) as info:
        kafka.admin().create_topics([NewTopic("u", 1, 3)], request_timeout=75)["u"].result()
    assert info.value.args[0].code() == KafkaError.REQUEST_TIMED_OUT and kafka.now_ms - began == 60_000


def test_without_a_majority_a_crashed_broker_is_neither_fenced_nor_replaced(kafka):
    kafka.stop_controller(101)
    kafka.stop_controller(kafka.snapshot()["controller"])
    leader = kafka.snapshot()["topics"][0]["partitions"][0]["leader"]
    kafka.stop_broker(leader)                          # returns at once: nobody can react
    kafka.wait(60_000)
    p0 = kafka.snapshot()["topics"][0]["partitions"][0]
    assert p0["leader"] == leader and leader in p0["isr"] and len(p0["isr"]) == 3
    # acks=all to a partition led by a live broker waits for the dead follower: the ISR cannot shrink
    other = next(p for p in kafka.snapshot()["topics"][0]["partitions"] if p["leader"] != leader)
    errors = []
    producer = kafka.Producer({"acks": "all", "message.timeout.ms": 15000})
    producer.produce("t", value=b"x", partition=other["partition"], on_delivery=lambda e, m: errors.append(e))
    producer.flush(30)
    assert errors[0].code() == KafkaError._MSG_TIMED_OUT
    # a majority again: the new active controller fences the dead broker a session timeout later
    kafka.start_controller(101)
    active_at = kafka.elapsed_ms                    # the event log counts from the cluster's start
    assert kafka.snapshot()["controller"] is not None
    kafka.wait(9_000)
    assert kafka.snapshot()["topics"][0]["partitions"][0]["leader"] not in (leader, -1)
    fenced = [t for t, e in kafka.cluster.events if f"fenced broker {leader}" in e]
    assert fenced and fenced[0] - active_at == 9_000


def test_a_broker_started_without_a_majority_registers_once_one_is_back(kafka):
    kafka.stop_broker(3)
    kafka.stop_controller(101)
    kafka.stop_controller(kafka.snapshot()["controller"])
    kafka.start_broker(3)                              # cannot register: stays out of every ISR
    kafka.wait(40_000)
    assert all(3 not in p["isr"] for p in kafka.snapshot()["topics"][0]["partitions"])
    kafka.start_controller(101)
    kafka.wait(35_000)
    assert all(3 in p["isr"] for p in kafka.snapshot()["topics"][0]["partitions"])


def test_controller_control_errors_name_what_exists(kafka):
    with pytest.raises(KafkaException) as info:
        kafka.stop_controller(1)
    assert info.value.args[0].code() == KafkaError._INVALID_ARG and "101, 102, 103" in str(info.value)
    with pytest.raises(KafkaException) as info:
        kafka.start_controller(102)
    assert info.value.args[0].code() == KafkaError._STATE
    kafka.stop_controller(102)
    with pytest.raises(KafkaException) as info:
        kafka.stop_controller(102)
    assert info.value.args[0].code() == KafkaError._STATE


def test_the_same_seed_gives_the_same_elections():
    def run(seed):
        k = eventsim.connect("sim", seed=seed)
        k.stop_controller(101)
        k.stop_controller(k.snapshot()["controller"])
        k.start_controller(101)
        return k.cluster.events
    assert run(5) == run(5)
