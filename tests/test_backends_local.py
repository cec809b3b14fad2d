"""The local backend: real Apache Kafka brokers as JVM processes (tests marked ``kafka``), and its error
messages when Java or the jars are missing (plain tests, no JVM needed)."""
from __future__ import annotations

import gc
import json
import os
import stat

import pytest
from confluent_kafka import TopicPartition

import eventsim.backends as backends
from eventsim.backends import BackendError, BackendUnavailable
from eventsim.backends import local as local_mod
from eventsim.errors import KafkaError, KafkaException
from eventsim.snapshot import SNAPSHOT_KEYS, SNAPSHOT_TOPIC_CONFIGS, validate_snapshot

from conftest import wait_for_topic


# -- without a JVM: what the learner reads when something is missing --------------------------------
def test_missing_java_explains_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))          # no java anywhere on PATH
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(BackendUnavailable) as info:
        backends.connect("local")
    text = str(info.value)
    assert "no Java runtime was found" in text
    assert "make kafka-jars" in text and "openjdk-17" in text
    assert 'eventsim.connect("sim")' in text and "EVENTSIM_BACKEND=sim" in text
    assert "\n" not in text                             # one paragraph


def test_java_home_without_java_is_reported_too(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    with pytest.raises(BackendUnavailable, match=r"JAVA_HOME"):
        local_mod.find_java()


def _fake_java(directory, version_line):
    java = directory / "java"
    java.write_text("#!/bin/sh\necho '%s' >&2\n" % version_line)
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return java


def test_too_old_java_is_rejected_with_its_version(monkeypatch, tmp_path):
    _fake_java(tmp_path, 'openjdk version "11.0.2" 2019-01-15')
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(BackendUnavailable, match=r"needs Java 17 or newer.*is Java 11"):
        local_mod.find_java()


def test_java_version_parsing(tmp_path):
    assert local_mod.java_version(str(_fake_java(tmp_path, 'java version "1.8.0_292"'))) == 8
    assert local_mod.java_version(str(_fake_java(tmp_path, 'openjdk version "21.0.1" 2023-10-17'))) == 21
    assert local_mod.java_version(str(tmp_path / "missing")) is None


def test_missing_jars_name_the_directory_and_make_target(monkeypatch, tmp_path):
    (tmp_path / "libs").mkdir()
    monkeypatch.setenv("KAFKA_HOME", str(tmp_path))
    with pytest.raises(BackendUnavailable) as info:
        local_mod.find_kafka_libs()
    assert str(tmp_path / "libs") in str(info.value)
    assert "make kafka-jars" in str(info.value)


def test_kafka_home_jars_and_version_are_found(monkeypatch, tmp_path):
    (tmp_path / "libs").mkdir()
    for jar in ("kafka_2.13-4.4.0.jar", "kafka_2.13-4.4.0-test.jar", "kafka-clients-4.4.0.jar"):
        (tmp_path / "libs" / jar).write_bytes(b"")
    monkeypatch.setenv("KAFKA_HOME", str(tmp_path))
    assert local_mod.find_kafka_libs() == (tmp_path / "libs", "4.4.0")


@pytest.mark.parametrize("shape", [{"brokers": 0}, {"brokers": 2}, {"brokers": 4}, {"controllers": 2},
                                   {"controllers": 0}, {"brokers": True}])
def test_only_one_or_three_brokers_and_controllers(shape):
    with pytest.raises(BackendError, match="1 or 3 (brokers|controllers)"):
        backends.connect("local", **shape)


def test_node_configs_are_the_course_shape_with_the_simulator_defaults():
    brokers, controllers = local_mod.node_ids(3, 3)
    assert (brokers, controllers) == ((1, 2, 3), (101, 102, 103))
    ports = {1: 9001, 2: 9002, 3: 9003, 101: 9101, 102: 9102, 103: 9103}
    conf = local_mod.node_config(2, ports, controllers, "/data", 3)
    assert (conf["node.id"], conf["process.roles"]) == (2, "broker")
    assert conf["controller.quorum.voters"] == "101@127.0.0.1:9101,102@127.0.0.1:9102,103@127.0.0.1:9103"
    assert conf["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9002"
    assert conf["auto.create.topics.enable"] == "false"
    assert conf["group.initial.rebalance.delay.ms"] == "0"
    assert conf["unclean.leader.election.enable"] == "false"
    assert (conf["offsets.topic.replication.factor"], conf["transaction.state.log.min.isr"]) == (3, 2)
    assert conf["log.retention.check.interval.ms"] == 1000
    ctl = local_mod.node_config(102, ports, controllers, "/data", 3)
    assert (ctl["process.roles"], ctl["listeners"]) == ("controller", "CONTROLLER://127.0.0.1:9102")
    assert "advertised.listeners" not in ctl
    one = local_mod.node_config(1, {1: 9001, 101: 9101}, (101,), "/data", 1)
    assert (one["offsets.topic.replication.factor"], one["transaction.state.log.replication.factor"],
            one["transaction.state.log.min.isr"]) == (1, 1, 1)


def test_shared_broker_settings_are_the_simulators_own_values():
    from eventsim.cluster import BROKER_DEFAULTS
    conf = local_mod.simulator_like_config(3)
    assert all(conf[k] == BROKER_DEFAULTS[k] for k in local_mod.SHARED_BROKER_SETTINGS)


def test_free_ports_are_distinct():
    ports = local_mod.free_ports(6)
    assert len(set(ports)) == 6 and all(1024 < p < 65536 for p in ports)


# -- with real brokers --------------------------------------------------------------------------------
def _broker_pids(kafka):
    return [p.pid for p in kafka._procs.procs.values()]


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.kafka
def test_three_brokers_are_up_and_the_handle_says_where(local_kafka):
    snap = local_kafka.snapshot()
    assert [(b["id"], b["alive"]) for b in snap["brokers"]] == [(1, True), (2, True), (3, True)]
    assert local_kafka.backend == "local"
    assert len(local_kafka.bootstrap_servers.split(",")) == 3
    assert snap["controller"] in (101, 102, 103)
    assert [(c["id"], c["alive"], c["active"]) for c in snap["controllers"]] == [
        (i, True, i == snap["controller"]) for i in (101, 102, 103)]
    text = repr(local_kafka)
    assert "local" in text and local_kafka.bootstrap_servers in text and "EVENTSIM_BACKEND" in text
    assert "EVENTSIM_BACKEND" in local_kafka._repr_html_()


@pytest.mark.kafka
def test_produce_consume_round_trip(local_kafka, make_topic, unique_name):
    topic = make_topic(partitions=3)
    delivered = []
    producer = local_kafka.Producer({"acks": "all"})     # bootstrap.servers filled in
    for i in range(30):
        producer.produce(topic, key=b"k%d" % (i % 5), value=b"v%d" % i,
                         on_delivery=lambda err, msg: delivered.append((err, msg.partition())))
    assert producer.flush(30) == 0
    assert [e for e, _ in delivered] == [None] * 30

    consumer = local_kafka.Consumer({"group.id": unique_name("g"), "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    seen = []
    try:
        while len(seen) < 30:
            msg = consumer.poll(30)
            assert msg is not None, "timed out after %d records" % len(seen)
            assert msg.error() is None
            seen.append((msg.key(), msg.value(), msg.partition()))
    finally:
        consumer.close()
    assert sorted(v for _, v, _ in seen) == sorted(b"v%d" % i for i in range(30))
    partitions_of_key = {}
    for key, _, part in seen:
        partitions_of_key.setdefault(key, set()).add(part)
    assert all(len(parts) == 1 for parts in partitions_of_key.values())   # one key, one partition


@pytest.mark.kafka
def test_explicit_bootstrap_servers_are_kept(local_kafka):
    first = local_kafka.bootstrap_servers.split(",")[0]
    assert local_kafka.client_conf({"bootstrap.servers": first})["bootstrap.servers"] == first
    admin = local_kafka.admin({"bootstrap.servers": first})
    assert len(admin.list_topics(timeout=10).brokers) == 3


@pytest.mark.kafka
def test_snapshot_has_the_simulator_schema_and_real_numbers(local_kafka, make_topic, unique_name):
    topic = make_topic(partitions=2, config={"min.insync.replicas": "2", "retention.ms": "3600000"})
    producer = local_kafka.Producer({"partitioner": "murmur2"})
    for i in range(7):
        producer.produce(topic, value=b"v%d" % i, partition=0)
    producer.produce(topic, value=b"\xff\x00", partition=1)
    assert producer.flush(30) == 0
    group = unique_name("g")
    consumer = local_kafka.Consumer({"group.id": group, "enable.auto.commit": False})
    consumer.commit(offsets=[TopicPartition(topic, 0, 4)], asynchronous=False)
    consumer.close()

    snap = validate_snapshot(local_kafka.snapshot(records=True, max_records=3))
    json.dumps(snap)
    assert set(snap) == set(SNAPSHOT_KEYS["snapshot"]) and snap["backend"] == "local"
    assert snap["time_ms"] is None
    (t,) = [t for t in snap["topics"] if t["name"] == topic]
    assert set(t["config"]) == set(SNAPSHOT_TOPIC_CONFIGS)
    assert t["config"]["min.insync.replicas"] == "2" and t["config"]["retention.ms"] == "3600000"
    p0, p1 = t["partitions"]
    assert (p0["partition"], p0["log_start_offset"], p0["high_watermark"], p0["last_stable_offset"]) == (0, 0, 7, 7)
    assert sorted(p0["isr"]) == sorted(p0["replicas"]) and len(p0["replicas"]) == 3
    assert p0["leader"] in p0["replicas"] and p0["leader_epoch"] is not None
    assert p0["log_end_offset"] is None and p0["replica_log_end_offsets"] == [None, None, None]
    assert [r["offset"] for r in p0["records"]] == [4, 5, 6]
    assert [r["value"] for r in p0["records"]] == ["v4", "v5", "v6"]
    assert p1["records"][0]["value"] == "0xff00"
    (g,) = [g for g in snap["groups"] if g["group_id"] == group]
    assert g["offsets"] == [{"topic": topic, "partition": 0, "committed": 4, "high_watermark": 7, "lag": 3}]
    assert g["total_lag"] == 3 and g["state"] == "Empty" and g["members"] == []


@pytest.mark.kafka
def test_internal_topics_are_hidden_unless_asked(local_kafka, unique_name, make_topic):
    topic = make_topic()
    consumer = local_kafka.Consumer({"group.id": unique_name("g")})     # makes __consumer_offsets exist
    consumer.commit(offsets=[TopicPartition(topic, 0, 0)], asynchronous=False)
    consumer.close()
    names = [t["name"] for t in local_kafka.snapshot()["topics"]]
    assert "__consumer_offsets" not in names and topic in names
    every = {t["name"]: t for t in local_kafka.snapshot(include_internal=True)["topics"]}
    assert every["__consumer_offsets"]["internal"] is True and every[topic]["internal"] is False


@pytest.mark.kafka
def test_stop_leader_fails_over_and_start_rejoins_the_isr(local_kafka, make_topic):
    topic = make_topic(partitions=1)

    def partition():
        (t,) = [t for t in local_kafka.snapshot()["topics"] if t["name"] == topic]
        return t["partitions"][0]

    producer = local_kafka.Producer({"acks": "all"})
    producer.produce(topic, value=b"before failover")     # the leader epoch is reported once there is data
    assert producer.flush(30) == 0
    before = partition()
    leader = before["leader"]
    try:
        local_kafka.stop_broker(leader)                       # a crash: SIGKILL
        after = partition()
        assert after["leader"] not in (leader, -1)
        assert leader not in after["isr"] and after["offline_replicas"] == [leader]
        assert after["leader_epoch"] > before["leader_epoch"]
        brokers = {b["id"]: b["alive"] for b in local_kafka.snapshot()["brokers"]}
        assert brokers[leader] is False and sum(brokers.values()) == 2
        producer.produce(topic, value=b"after failover")
        assert producer.flush(30) == 0
        with pytest.raises(KafkaException) as info:
            local_kafka.stop_broker(leader)
        assert info.value.args[0].code() == KafkaError._STATE
    finally:
        if leader not in local_kafka.alive_brokers():
            local_kafka.start_broker(leader)
    back = partition()
    assert leader in back["isr"] and back["offline_replicas"] == []
    assert back["high_watermark"] == before["high_watermark"] + 1


@pytest.mark.kafka
def test_bad_broker_ids_get_the_simulators_errors(local_kafka):
    with pytest.raises(KafkaException) as info:
        local_kafka.stop_broker(99)
    assert info.value.args[0].code() == KafkaError._INVALID_ARG and "99" in str(info.value)
    with pytest.raises(KafkaException) as info:
        local_kafka.start_broker(1)
    assert info.value.args[0].code() == KafkaError._STATE


@pytest.mark.kafka
def test_close_leaves_no_java_process_and_no_data(tmp_path):
    with backends.connect("local", brokers=1, controllers=1, quiet=True) as kafka:
        pids = _broker_pids(kafka)
        data = kafka.data_dir
        assert pids and not any(_gone(p) for p in pids) and data.is_dir()
    assert all(_gone(p) for p in pids)
    assert not data.exists()
    assert "closed" in repr(kafka)
    kafka.close()                                             # twice is fine


@pytest.mark.kafka
def test_a_forgotten_handle_still_stops_its_brokers():
    kafka = backends.connect("local", brokers=1, controllers=1, quiet=True)
    pids = _broker_pids(kafka)
    del kafka
    gc.collect()
    assert pids and all(_gone(p) for p in pids)


@pytest.mark.kafka
def test_a_broker_that_cannot_start_is_reported_with_its_log():
    with pytest.raises(BackendError) as info:
        backends.connect("local", brokers=1, controllers=1, quiet=True, startup_timeout=60,
                         broker_config={"num.io.threads": "not-a-number"})
    assert "num.io.threads" in str(info.value)


@pytest.mark.kafka
def test_external_backend_namespaces_topics_and_groups(local_kafka, unique_name):
    """The external backend against the local cluster: a learner sees only their own names."""
    from confluent_kafka.admin import NewTopic
    alice = backends.connect("external", bootstrap_servers=local_kafka.bootstrap_servers,
                             namespace=unique_name("alice"))
    prefix = alice.namespace.prefix
    admin = alice.admin()
    admin.create_topics([NewTopic("orders", 1, 1)])["orders"].result(timeout=60)
    try:
        wait_for_topic(local_kafka, prefix + "orders", 1)
        assert prefix + "orders" in local_kafka.admin_client().list_topics(timeout=10).topics
        assert "orders" in admin.list_topics(timeout=10).topics
        delivered = []
        producer = alice.Producer({})
        producer.produce("orders", b"one", on_delivery=lambda err, msg: delivered.append(msg.topic()))
        assert producer.flush(30) == 0 and delivered == ["orders"]
        consumer = alice.Consumer({"group.id": "billing", "auto.offset.reset": "earliest",
                                   "enable.auto.commit": False})
        consumer.subscribe(["orders"])
        msg = consumer.poll(30)
        assert msg is not None and msg.error() is None
        assert (msg.topic(), msg.value()) == ("orders", b"one")
        consumer.commit(message=msg, asynchronous=False)
        assert [(tp.topic, tp.offset) for tp in consumer.committed([TopicPartition("orders", 0)], timeout=10)] \
            == [("orders", 1)]
        consumer.close()
        groups = local_kafka.admin_client().list_consumer_groups().result(timeout=10).valid
        assert prefix + "billing" in {g.group_id for g in groups}
        snap = validate_snapshot(alice.snapshot())
        assert [t["name"] for t in snap["topics"]] == ["orders"]
        assert [g["group_id"] for g in snap["groups"]] == ["billing"]
        assert snap["groups"][0]["offsets"][0]["topic"] == "orders"
    finally:
        admin.delete_topics(["orders"])["orders"].result(timeout=60)
        deleted = admin.delete_consumer_groups(["billing"])["billing"]
        if deleted.exception(timeout=30) is not None:
            print("group not deleted:", deleted.exception())



def test_cluster_ids_never_start_with_a_dash(monkeypatch):
    """An id like "-Xb..." would be parsed as an option by kafka-storage; such draws are repeated."""
    from eventsim.backends import kraft
    draws = iter([b"\xfb" + bytes(15), b"\x01" * 16])       # base64url of 0xfb... starts with "-"
    monkeypatch.setattr(kraft.uuid, "uuid4", lambda: type("U", (), {"bytes": next(draws)})())
    cluster_id = kraft.new_cluster_id()
    assert not cluster_id.startswith("-") and len(cluster_id) == 22
