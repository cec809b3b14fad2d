"""The simulator's configs as Kafka 4.4 and confluent-kafka 2.16 report them (fixes found by the differential
campaign, ``tests/campaign/configs.py``): sources and synonyms, broker defaults, alter semantics and errors."""
from __future__ import annotations

import pytest

import eventsim
from eventsim.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, NewTopic
from eventsim.cluster import BROKER_CONFIGS, COURSE_BROKER_SETTINGS


@pytest.fixture
def admin():
    cluster = eventsim.Cluster(brokers=3)
    client = eventsim.AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    client.create_topics([NewTopic("t", 1, 3)])["t"].result()
    client.cluster = cluster
    return client


def describe(admin, kind="topic", name="t"):
    resource = ConfigResource(kind, name)
    return admin.describe_configs([resource])[resource].result()


def change(admin, *ops, name="t", kind="topic", validate_only=False):
    """``incremental_alter_configs`` of one resource; the future's error (a KafkaError) or None."""
    resource = ConfigResource(kind, name, incremental_configs=[
        ConfigEntry(n, v, incremental_operation=AlterConfigOpType[op]) for n, v, op in ops])
    exc = admin.incremental_alter_configs([resource], validate_only=validate_only)[resource].exception()
    return None if exc is None else exc.args[0]


def test_sources_are_ints_and_follow_the_brokers_layers(admin):
    """confluent-kafka hands out ``source`` as an int; the course's server.properties is STATIC_BROKER_CONFIG
    and the controller's cluster-wide min.insync.replicas DYNAMIC_DEFAULT_BROKER_CONFIG."""
    entries = describe(admin)
    assert type(entries["cleanup.policy"].source) is int
    assert ConfigSource(entries["cleanup.policy"].source) == ConfigSource.DEFAULT_CONFIG
    assert ConfigSource(entries["unclean.leader.election.enable"].source) == ConfigSource.STATIC_BROKER_CONFIG
    mis = entries["min.insync.replicas"]
    assert ConfigSource(mis.source) == ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG and not mis.is_default


def test_topic_synonyms_list_the_override_then_the_broker_layers(admin):
    change(admin, ("cleanup.policy", "compact", "SET"))
    synonyms = describe(admin)["cleanup.policy"].synonyms
    assert [(n, s.value, ConfigSource(s.source).name, s.is_synonym) for n, s in synonyms.items()] == [
        ("cleanup.policy", "compact", "DYNAMIC_TOPIC_CONFIG", True),
        ("log.cleanup.policy", "delete", "DEFAULT_CONFIG", True)]
    # a dict by name: the last of min.insync.replicas' three broker layers (dynamic default, static, default)
    assert ConfigSource(describe(admin)["min.insync.replicas"].synonyms["min.insync.replicas"].source).name == \
        "DEFAULT_CONFIG"


def test_synonyms_before_the_first_broker_synonym_are_dropped(admin):
    """retention.ms: log.retention.ms has no default, so log.retention.hours=168 is not listed."""
    assert describe(admin)["retention.ms"].synonyms == {}
    assert describe(admin)["max.message.bytes"].synonyms["message.max.bytes"].value == "1048588"


def test_kafka_4_4_topic_configs_are_described():
    entries = describe_new_cluster()
    assert entries["max.decompressed.message.bytes"].value == "2147483639"
    assert entries["remote.copy.lag.ms"].synonyms["log.remote.copy.lag.ms"].value == "0"
    assert entries["errors.deadletterqueue.group.enable"].value == "false"


def describe_new_cluster():
    cluster = eventsim.Cluster(brokers=1)
    client = eventsim.AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    client.create_topics([NewTopic("t", 1, 1)])["t"].result()
    return describe(client)


def test_broker_configs_kafka_defaults_static_settings_and_read_only_flags(admin):
    entries = describe(admin, "broker", "1")
    auto = entries["auto.create.topics.enable"]
    assert (auto.value, ConfigSource(auto.source).name, auto.is_read_only) == ("false", "STATIC_BROKER_CONFIG", True)
    assert auto.synonyms["auto.create.topics.enable"].value == "true"          # Kafka's default
    retention = entries["log.retention.ms"]
    assert retention.value is None and retention.is_default and not retention.is_read_only
    assert ConfigSource(entries["min.insync.replicas"].source).name == "DYNAMIC_DEFAULT_BROKER_CONFIG"


def test_the_simulated_and_the_local_brokers_set_the_same_settings():
    from eventsim.backends.local import simulator_like_config
    written = simulator_like_config(3)          # nothing later in it overrides a course setting
    assert {k: str(written[k]) for k in COURSE_BROKER_SETTINGS} == COURSE_BROKER_SETTINGS
    assert all(len(spec) == 4 for spec in BROKER_CONFIGS.values())


def test_a_cluster_config_is_static():
    cluster = eventsim.Cluster(brokers=1, config={"log.retention.ms": 1000})
    client = eventsim.AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    entry = describe(client, "broker", "1")["log.retention.ms"]
    assert (entry.value, ConfigSource(entry.source).name) == ("1000", "STATIC_BROKER_CONFIG")


def test_bad_broker_names():
    cluster = eventsim.Cluster(brokers=1)
    client = eventsim.AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    x = ConfigResource("broker", "x")
    assert client.describe_configs([x])[x].exception().args[0].str() == (
        "Expected an int32 broker_id for ConfigResource(type=BROKER, name=x)")
    with pytest.raises(ValueError, match=r"Invalid ConfigResource\(4,\)"):
        client.describe_configs([ConfigResource("broker", "")])


def test_delete_of_an_unknown_config_succeeds(admin):
    assert change(admin, ("no.such.config", "", "DELETE")) is None


def test_append_on_a_scalar_names_the_operation(admin):
    err = change(admin, ("retention.ms", "1", "SUBTRACT"))
    assert err.str() == "Can't SUBTRACT to key retention.ms because its type is not LIST."
    err = change(admin, ("log.retention.ms", "1", "APPEND"), kind="broker", name="1", validate_only=True)
    assert err.str() == "Config value append is not allowed for config key: log.retention.ms"


def test_a_duplicate_entry_fails_every_future(admin):
    twice = ConfigResource("topic", "t", incremental_configs=[
        ConfigEntry("retention.ms", "1", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("retention.ms", "2", incremental_operation=AlterConfigOpType.SET)])
    other = ConfigResource("topic", "t2", incremental_configs=[
        ConfigEntry("retention.ms", "1", incremental_operation=AlterConfigOpType.SET)])
    futures = admin.incremental_alter_configs([twice, other])
    assert {f.exception().args[0].str() for f in futures.values()} == {"Duplicate ConfigEntry found"}


def test_missing_topic_messages(admin):
    missing = ConfigResource("topic", "nope")
    assert admin.describe_configs([missing])[missing].exception().args[0].str() == "Broker: Unknown topic or partition"
    assert change(admin, ("retention.ms", "1", "SET"), name="nope").str() == "The topic 'nope' does not exist."


def test_broker_changes_are_validated(admin):
    err = change(admin, ("num.partitions", "3", "SET"), kind="broker", name="1", validate_only=True)
    assert (err.name(), err.str()) == ("INVALID_REQUEST", "Cannot update these configs dynamically: [num.partitions]")
    err = change(admin, ("log.retention.ms", "abc", "SET"), kind="broker", name="1", validate_only=True)
    assert (err.name(), err.str()) == (
        "INVALID_REQUEST", "Invalid value abc for configuration log.retention.ms: Not a number of type LONG")
    assert change(admin, ("log.retention.ms", "86400000", "SET"), kind="broker", name="1", validate_only=True) is None
    assert change(admin, ("no.such.config", "1", "SET"), kind="broker", name="1", validate_only=True) is None


def test_min_insync_replicas_is_capped_at_the_replication_factor():
    """Kafka 4.x's effectiveMinIsr: one replica and min.insync.replicas=2 still take acks=all writes."""
    cluster = eventsim.Cluster(brokers=3)
    cluster.create_topic("one", 1, 1, config={"min.insync.replicas": "2"})
    producer = eventsim.Producer({"bootstrap.servers": cluster.bootstrap_servers, "acks": "all"})
    reports = []
    producer.produce("one", b"x", on_delivery=lambda err, msg: reports.append(err))
    producer.flush(10)
    assert reports == [None]


def test_a_broker_id_nobody_has_times_out_after_the_request_timeout():
    """librdkafka waits for broker 9 to appear; the virtual clock moves by request_timeout."""
    cluster = eventsim.Cluster(brokers=3)
    client = eventsim.AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    nine, negative = ConfigResource("broker", "9"), ConfigResource("broker", "-1")
    before = cluster.now_ms
    err = client.describe_configs([nine], request_timeout=3)[nine].exception().args[0]
    assert (err.name(), err.str()) == ("_TIMED_OUT", "Failed while waiting for broker: Local: Timed out")
    assert cluster.now_ms - before == 3000
    assert client.describe_configs([negative])[negative].exception().args[0].name() == "_INVALID_ARG"
