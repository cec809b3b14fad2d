"""AdminClient against a small fake cluster (the Cluster requests it uses), plus argument checks
compared with confluent-kafka's own AdminClient."""
import concurrent.futures
import logging
import types

import pytest

import eventsim.admin as admin
from eventsim import config as _config
from eventsim.admin import (
    AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, ConsumerGroupState,
    ConsumerGroupTopicPartitions, NewPartitions, NewTopic,
)
from eventsim.errors import KafkaError, KafkaException
from eventsim.message import TopicPartition


# --- a fake cluster with exactly the requests the admin client sends -------------------------------------

class FakeBroker:
    def __init__(self, broker_id):
        self.id, self.host, self.port, self.alive = broker_id, "sim", 9091 + broker_id, True


class FakeGroups:
    def __init__(self):
        self.groups = {
            "billing": {"group_id": "billing", "state": "Stable", "protocol": "range", "generation": 2,
                        "members": [{"member_id": "m-1", "client_id": "c-1",
                                     "assignment": [["orders", 0], ["orders", 1]]}],
                        "offsets": [{"topic": "orders", "partition": 0, "committed": 5},
                                    {"topic": "orders", "partition": 1, "committed": 7}]},
            "audit": {"group_id": "audit", "state": "Empty", "protocol": "", "generation": 0,
                      "members": [], "offsets": [{"topic": "orders", "partition": 0, "committed": 3}]},
        }

    def list_groups(self):
        return [(gid, g["state"]) for gid, g in sorted(self.groups.items())]

    def describe(self, group_id):
        return self.groups.get(group_id) or {"group_id": group_id, "state": "Dead", "protocol": "",
                                             "generation": 0, "members": [], "offsets": []}

    def committed(self, group_id, partitions):
        stored = {(o["topic"], o["partition"]): o["committed"] for o in self.describe(group_id)["offsets"]}
        return {tp: stored.get(tp, -1001) for tp in partitions}

    def delete(self, group_id):
        group = self.groups.get(group_id)
        if group is None:
            return KafkaError(KafkaError.GROUP_ID_NOT_FOUND)
        if group["members"]:
            return KafkaError(KafkaError.NON_EMPTY_GROUP)
        del self.groups[group_id]
        return None


class FakeCluster:
    """Topics as {name: {"replicas": [[...], ...], "overrides": {...}}}; every request is recorded."""

    def __init__(self, brokers=3):
        self.brokers = {i: FakeBroker(i) for i in range(1, brokers + 1)}
        self.cluster_id = "fake-cluster"
        self.config = {"num.partitions": "1", "default.replication.factor": "1", "min.insync.replicas": "1"}
        self.static_config, self.dynamic_default_config = dict(self.config), {}   # describe_configs' layers
        self.topics = {}
        self.groups = FakeGroups()
        self.calls = []
        self.controller = types.SimpleNamespace(available=True)   # the KRaft quorum has an active controller

    @property
    def controller_id(self):
        live = [b for b in sorted(self.brokers) if self.brokers[b].alive]
        return live[0] if live else -1

    def advance(self, ms):
        """Waits (a request to an unknown broker times out) take no time here."""

    def create_topic(self, name, num_partitions, replication_factor, config, replica_assignment=None,
                     validate_only=False):
        self.calls.append(("create_topic", name))
        if name in self.topics:
            return KafkaError(KafkaError.TOPIC_ALREADY_EXISTS, reason=f"Topic '{name}' already exists.")
        if replica_assignment:
            replicas = replica_assignment
        else:
            num_partitions = 1 if num_partitions == -1 else num_partitions
            replication_factor = 1 if replication_factor == -1 else replication_factor
            if num_partitions < 1:
                return KafkaError(KafkaError.INVALID_PARTITIONS, reason="Number of partitions must be larger than 0.")
            if not 1 <= replication_factor <= len(self.brokers):
                return KafkaError(KafkaError.INVALID_REPLICATION_FACTOR, reason="Replication factor too large.")
            ids = sorted(self.brokers)
            replicas = [[ids[(p + r) % len(ids)] for r in range(replication_factor)] for p in range(num_partitions)]
        if not validate_only:
            self.topics[name] = {"replicas": [list(r) for r in replicas], "overrides": dict(config)}
        return None

    def delete_topic(self, name):
        self.calls.append(("delete_topic", name))
        if self.topics.pop(name, None) is None:
            return KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, reason=f"Topic '{name}' does not exist.")
        return None

    def create_partitions(self, name, new_total, replica_assignment=None, validate_only=False):
        self.calls.append(("create_partitions", name))
        topic = self.topics.get(name)
        if topic is None:
            return KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)
        if new_total <= len(topic["replicas"]):
            return KafkaError(KafkaError.INVALID_PARTITIONS, reason="not an increase")
        if not validate_only:
            rf = len(topic["replicas"][0])
            topic["replicas"] += [list(sorted(self.brokers))[:rf]] * (new_total - len(topic["replicas"]))
        return None

    def describe_topic_config(self, name):
        topic = self.topics.get(name)
        if topic is None:
            return KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART), {}
        return None, {k: (_config.topic_config_value(topic["overrides"], self.config, k),
                          "DEFAULT_CONFIG" if k not in topic["overrides"] else "DYNAMIC_TOPIC_CONFIG", [])
                      for k in _config.TOPIC_DEFAULTS}

    def alter_topic_config(self, name, changes, incremental):
        self.calls.append(("alter_topic_config", name, dict(changes), incremental))
        topic = self.topics[name]
        new = dict(topic["overrides"]) if incremental else {}
        for k, v in changes.items():
            if v is None:
                new.pop(k, None)
            else:
                new[k] = v
        topic["overrides"] = new
        return None

    def metadata(self, include_internal=False):
        return {name: [types.SimpleNamespace(partition=p, leader=r[0], replicas=list(r), isr=list(r),
                                             leader_epoch=0) for p, r in enumerate(t["replicas"])]
                for name, t in sorted(self.topics.items())}


@pytest.fixture
def cluster(monkeypatch):
    fake = FakeCluster()
    from eventsim import cluster as cluster_module
    monkeypatch.setattr(cluster_module.Cluster, "lookup", classmethod(lambda cls, servers: fake))
    return fake


@pytest.fixture
def client(cluster):
    return AdminClient({"bootstrap.servers": "sim://fake"})


def error_of(future):
    exc = future.exception()
    assert isinstance(exc, KafkaException)
    return exc.args[0]


# --- topics -------------------------------------------------------------------------------------------------

def test_create_topics_returns_done_futures_and_creates_the_topic(client, cluster):
    futures = client.create_topics([NewTopic("orders", 3, 2), NewTopic("audit")])
    assert set(futures) == {"orders", "audit"}
    assert all(isinstance(f, concurrent.futures.Future) and f.done() for f in futures.values())
    assert [f.result() for f in futures.values()] == [None, None]
    md = client.list_topics()
    assert sorted(md.topics) == ["audit", "orders"]
    parts = md.topics["orders"].partitions
    assert sorted(parts) == [0, 1, 2]
    assert parts[1].replicas == cluster.topics["orders"]["replicas"][1] and parts[1].leader == parts[1].replicas[0]
    assert parts[1].isrs == parts[1].replicas and parts[1].error is None
    assert len(md.topics["audit"].partitions) == 1           # -1: the broker's num.partitions


def test_create_existing_topic_fails_with_topic_already_exists(client):
    client.create_topics([NewTopic("orders", 1, 1)])["orders"].result()
    error = error_of(client.create_topics([NewTopic("orders", 1, 1)])["orders"])
    assert error.code() == KafkaError.TOPIC_ALREADY_EXISTS == 36
    with pytest.raises(KafkaException):
        client.create_topics([NewTopic("orders", 1, 1)])["orders"].result()


def test_illegal_topic_name_never_reaches_the_cluster(client, cluster):
    error = error_of(client.create_topics([NewTopic("bad name", 1, 1)])["bad name"])
    assert error.code() == KafkaError.TOPIC_EXCEPTION == 17
    assert "'bad name' contains one or more characters" in error.str()
    assert cluster.calls == []


def test_bad_topic_config_is_invalid_config(client, cluster):
    futures = client.create_topics([NewTopic("a", 1, 1, config={"retention.msx": "1"}),
                                    NewTopic("b", 1, 1, config={"retention.ms": "abc"})])
    assert error_of(futures["a"]).code() == KafkaError.INVALID_CONFIG == 40
    assert error_of(futures["a"]).str() == "Unknown topic config name: retention.msx"
    assert error_of(futures["b"]).str() == "Invalid value abc for configuration retention.ms: Not a number of type LONG"
    assert cluster.topics == {}


def test_config_values_reach_the_cluster_normalised(client, cluster):
    client.create_topics([NewTopic("t", 1, 1, config={"retention.ms": 60000, "min.insync.replicas": " 2"})])
    assert cluster.topics["t"]["overrides"] == {"retention.ms": "60000", "min.insync.replicas": "2"}


def test_broker_side_count_errors_come_back_on_the_future(client):
    futures = client.create_topics([NewTopic("zero", 0, 1), NewTopic("wide", 1, 4)])
    assert error_of(futures["zero"]).code() == KafkaError.INVALID_PARTITIONS == 37
    assert error_of(futures["wide"]).code() == KafkaError.INVALID_REPLICATION_FACTOR == 38


def test_validate_only_creates_nothing(client, cluster):
    assert client.create_topics([NewTopic("t", 2, 1)], validate_only=True)["t"].result() is None
    assert cluster.topics == {}


def test_duplicate_topics_in_one_request_fail(client, cluster):
    futures = client.create_topics([NewTopic("t", 1, 1), NewTopic("t", 2, 1)])
    assert list(futures) == ["t"]
    assert error_of(futures["t"]).code() == KafkaError.INVALID_REQUEST
    assert cluster.topics == {}


def test_replica_assignment_is_passed_on(client, cluster):
    client.create_topics([NewTopic("t", 2, replica_assignment=[[1, 2], [2, 3]])])["t"].result()
    assert cluster.topics["t"]["replicas"] == [[1, 2], [2, 3]]


def test_delete_topics(client, cluster):
    client.create_topics([NewTopic("t", 1, 1)])
    futures = client.delete_topics(["t", "missing"], operation_timeout=5)
    assert futures["t"].result() is None
    assert error_of(futures["missing"]).code() == KafkaError.UNKNOWN_TOPIC_OR_PART == 3
    assert cluster.topics == {}


def test_create_partitions(client, cluster):
    client.create_topics([NewTopic("t", 2, 1)])
    futures = client.create_partitions([NewPartitions("t", 4), NewPartitions("missing", 2)])
    assert futures["t"].result() is None
    assert len(client.list_topics("t").topics["t"].partitions) == 4
    assert error_of(futures["missing"]).code() == 3
    assert error_of(client.create_partitions([NewPartitions("t", 3)])["t"]).code() == KafkaError.INVALID_PARTITIONS


def test_list_topics_of_a_missing_topic_carries_unknown_topic(client, cluster):
    md = client.list_topics(topic="missing", timeout=1.0)
    assert md.topics["missing"].error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    assert md.topics["missing"].partitions == {}
    assert md.cluster_id == "fake-cluster" and md.controller_id == 1
    assert sorted(md.brokers) == [1, 2, 3] and md.brokers[2].port == 9093
    assert md.orig_broker_id == 1 and md.orig_broker_name == "sim:9092/1"


def test_without_live_brokers_metadata_fails_and_requests_time_out(client, cluster):
    cluster.brokers[2].alive = False
    assert sorted(client.list_topics().brokers) == [1, 3]
    for broker in cluster.brokers.values():
        broker.alive = False
    with pytest.raises(KafkaException) as excinfo:
        client.list_topics()
    assert excinfo.value.args[0].code() == KafkaError._TRANSPORT
    assert error_of(client.create_topics([NewTopic("t", 1, 1)])["t"]).code() == KafkaError._TIMED_OUT
    assert cluster.calls == []


# --- configs ------------------------------------------------------------------------------------------------

def test_describe_configs_marks_overrides_and_defaults(client):
    client.create_topics([NewTopic("t", 1, 1, config={"retention.ms": "1000"})])
    resource = ConfigResource(ConfigResource.Type.TOPIC, "t")
    entries = client.describe_configs([resource])[resource].result()
    assert entries["retention.ms"].value == "1000"
    # confluent-kafka hands out sources as ints (ConfigSource values)
    assert ConfigSource(entries["retention.ms"].source) == ConfigSource.DYNAMIC_TOPIC_CONFIG
    assert not entries["retention.ms"].is_default
    assert entries["cleanup.policy"].value == "delete" and entries["cleanup.policy"].is_default
    assert entries["cleanup.policy"].source == ConfigSource.DEFAULT_CONFIG.value
    missing = ConfigResource("topic", "missing")
    assert error_of(client.describe_configs([missing])[missing]).code() == 3


def test_describe_broker_and_unsupported_resources(client, cluster):
    broker, nobody, group = ConfigResource("broker", "1"), ConfigResource("BROKER", "9"), ConfigResource("group", "g")
    futures = client.describe_configs([broker, nobody, group])
    assert futures[broker].result()["min.insync.replicas"].value == "1"
    assert error_of(futures[nobody]).code() == KafkaError._TIMED_OUT      # librdkafka waits for broker 9
    assert error_of(futures[group]).code() == KafkaError.INVALID_REQUEST


def test_alter_configs_replaces_the_whole_config(client, cluster):
    client.create_topics([NewTopic("t", 1, 1, config={"retention.ms": "1000"})])
    resource = ConfigResource("topic", "t", set_config={"cleanup.policy": "compact"})
    with pytest.warns(DeprecationWarning):
        futures = client.alter_configs([resource])
    assert futures[resource].result() is None
    assert cluster.topics["t"]["overrides"] == {"cleanup.policy": "compact"}


def test_incremental_alter_configs(client, cluster):
    client.create_topics([NewTopic("t", 1, 1, config={"retention.ms": "1000", "segment.ms": "5000"})])
    resource = ConfigResource("topic", "t", incremental_configs=[
        ConfigEntry("min.insync.replicas", "2", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE),
        ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND)])
    assert client.incremental_alter_configs([resource])[resource].result() is None
    assert cluster.topics["t"]["overrides"] == {"segment.ms": "5000", "min.insync.replicas": "2",
                                                "cleanup.policy": "delete,compact"}
    remove = ConfigResource("topic", "t", incremental_configs=[
        ConfigEntry("cleanup.policy", "delete", incremental_operation=AlterConfigOpType.SUBTRACT)])
    client.incremental_alter_configs([remove])[remove].result()
    assert cluster.topics["t"]["overrides"]["cleanup.policy"] == "compact"


def test_incremental_alter_configs_errors(client, cluster):
    client.create_topics([NewTopic("t", 1, 1)])
    bad = ConfigResource("topic", "t", incremental_configs=[
        ConfigEntry("min.insync.replicas", "zero", incremental_operation=AlterConfigOpType.SET)])
    append = ConfigResource("topic", "t", incremental_configs=[
        ConfigEntry("retention.ms", "5", incremental_operation=AlterConfigOpType.APPEND)])
    missing = ConfigResource("topic", "missing", incremental_configs=[
        ConfigEntry("retention.ms", "5", incremental_operation=AlterConfigOpType.SET)])
    futures = client.incremental_alter_configs([bad, append, missing])
    assert error_of(futures[bad]).code() == KafkaError.INVALID_CONFIG
    assert error_of(futures[append]).code() == KafkaError.INVALID_CONFIG
    assert error_of(futures[missing]).code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    assert cluster.topics["t"]["overrides"] == {}
    validate = ConfigResource("topic", "t", incremental_configs=[
        ConfigEntry("retention.ms", "5", incremental_operation=AlterConfigOpType.SET)])
    client.incremental_alter_configs([validate], validate_only=True)[validate].result()
    assert cluster.topics["t"]["overrides"] == {}


# --- consumer groups ----------------------------------------------------------------------------------------

def test_list_consumer_groups(client):
    result = client.list_consumer_groups().result()
    assert [(g.group_id, g.state, g.is_simple_consumer_group) for g in result.valid] == [
        ("audit", ConsumerGroupState.EMPTY, True), ("billing", ConsumerGroupState.STABLE, False)]
    assert result.errors == []
    stable = client.list_consumer_groups(states={ConsumerGroupState.STABLE}).result()
    assert [g.group_id for g in stable.valid] == ["billing"]


def test_describe_consumer_groups(client):
    futures = client.describe_consumer_groups(["billing", "nobody"])
    billing = futures["billing"].result()
    assert billing.state == ConsumerGroupState.STABLE and billing.partition_assignor == "range"
    assert [m.member_id for m in billing.members] == ["m-1"]
    assert billing.members[0].assignment.topic_partitions == [TopicPartition("orders", 0), TopicPartition("orders", 1)]
    assert billing.coordinator.id == 1
    assert futures["nobody"].result().state == ConsumerGroupState.DEAD


def test_list_consumer_group_offsets(client):
    asked = client.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions("billing", [TopicPartition("orders", 1), TopicPartition("orders", 9)])])
    result = asked["billing"].result()
    assert result.group_id == "billing"
    assert [(tp.partition, tp.offset) for tp in result.topic_partitions] == [(1, 7), (9, -1001)]
    everything = client.list_consumer_group_offsets([ConsumerGroupTopicPartitions("billing")])["billing"].result()
    assert [(tp.topic, tp.partition, tp.offset) for tp in everything.topic_partitions] == [
        ("orders", 0, 5), ("orders", 1, 7)]


def test_delete_consumer_groups(client, cluster):
    futures = client.delete_consumer_groups(["audit", "billing", "nobody"])
    assert futures["audit"].result() is None
    assert error_of(futures["billing"]).code() == KafkaError.NON_EMPTY_GROUP
    assert error_of(futures["nobody"]).code() == KafkaError.GROUP_ID_NOT_FOUND
    assert "audit" not in cluster.groups.groups


def test_bad_client_configuration_is_refused(cluster):
    with pytest.raises(KafkaException) as excinfo:
        AdminClient({"bootstrap.servers": "sim://fake", "lingr.ms": 1})
    assert excinfo.value.args[0].code() == KafkaError._INVALID_ARG


# --- argument checks, compared with confluent-kafka's AdminClient -------------------------------------------

BAD_CALLS = {
    "empty create_topics": lambda ns, a: a.create_topics([]),
    "create_topics not a list": lambda ns, a: a.create_topics(ns.NewTopic("t", 1)),
    "negative partitions": lambda ns, a: a.create_topics([ns.NewTopic("t", -2)]),
    "too many partitions": lambda ns, a: a.create_topics([ns.NewTopic("t", 100001)]),
    "negative replication": lambda ns, a: a.create_topics([ns.NewTopic("t", 1, -5)]),
    "assignment and factor": lambda ns, a: a.create_topics([ns.NewTopic("t", 2, 2, replica_assignment=[[1], [2]])]),
    "assignment, default count": lambda ns, a: a.create_topics([ns.NewTopic("t", replica_assignment=[[1], [2]])]),
    "validate_only not bool": lambda ns, a: a.create_topics([ns.NewTopic("t", 1)], validate_only="x"),
    "operation_timeout too big": lambda ns, a: a.create_topics([ns.NewTopic("t", 1)], operation_timeout=4000),
    "negative request_timeout": lambda ns, a: a.create_topics([ns.NewTopic("t", 1)], request_timeout=-1),
    "unknown option": lambda ns, a: a.create_topics([ns.NewTopic("t", 1)], bogus=1),
    "delete_topics str": lambda ns, a: a.delete_topics("t"),
    "delete_topics empty": lambda ns, a: a.delete_topics([]),
    "delete_topics validate_only": lambda ns, a: a.delete_topics(["t"], validate_only=True),
    "create_partitions empty": lambda ns, a: a.create_partitions([]),
    "create_partitions zero": lambda ns, a: a.create_partitions([ns.NewPartitions("t", 0)]),
    "create_partitions wrong type": lambda ns, a: a.create_partitions([ns.NewTopic("t", 1)]),
    "describe_configs empty": lambda ns, a: a.describe_configs([]),
    "incremental without entries": lambda ns, a: a.incremental_alter_configs([ns.ConfigResource("topic", "t")]),
    "bad resource type": lambda ns, a: ns.ConfigResource("bogus", "t"),
    "resource without name": lambda ns, a: ns.ConfigResource("topic", None),
    "NewTopic name not str": lambda ns, a: ns.NewTopic(None, 1),
    "NewTopic count not int": lambda ns, a: ns.NewTopic("t", "3"),
    "NewTopic config not dict": lambda ns, a: ns.NewTopic("t", 3, config=[1]),
    "describe groups empty": lambda ns, a: a.describe_consumer_groups([]),
    "describe groups str": lambda ns, a: a.describe_consumer_groups("g"),
    "delete groups empty": lambda ns, a: a.delete_consumer_groups([]),
    "offsets for two groups": lambda ns, a: a.list_consumer_group_offsets(
        [ns.ConsumerGroupTopicPartitions("g"), ns.ConsumerGroupTopicPartitions("h")]),
    "offsets empty partitions": lambda ns, a: a.list_consumer_group_offsets([ns.ConsumerGroupTopicPartitions("g", [])]),
    "offsets with an offset": lambda ns, a: a.list_consumer_group_offsets(
        [ns.ConsumerGroupTopicPartitions("g", [ns.TopicPartition("t", 0, 5)])]),
    "offsets empty group": lambda ns, a: a.list_consumer_group_offsets([ns.ConsumerGroupTopicPartitions("")]),
    "states not a set": lambda ns, a: a.list_consumer_groups(states=["x"]),
    "list_topics topic int": lambda ns, a: a.list_topics(topic=5),
}


def _outcome(call, ns, client):
    try:
        call(ns, client)
    except Exception as exc:       # noqa: BLE001 - comparing whatever each client raises
        return type(exc).__name__, str(exc.args[0]) if exc.args else ""
    return ("OK", "")


@pytest.fixture(scope="module")
def real_admin():
    confluent_admin = pytest.importorskip("confluent_kafka.admin")
    import confluent_kafka
    quiet = logging.getLogger("eventsim-tests-admin")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    ns = types.SimpleNamespace(NewTopic=confluent_admin.NewTopic, NewPartitions=confluent_admin.NewPartitions,
                               ConfigResource=confluent_admin.ConfigResource,
                               ConsumerGroupTopicPartitions=confluent_kafka.ConsumerGroupTopicPartitions,
                               TopicPartition=confluent_kafka.TopicPartition)
    # Nothing listens on port 1: argument checks happen before any request is sent.
    return ns, confluent_admin.AdminClient({"bootstrap.servers": "127.0.0.1:1", "logger": quiet})


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_argument_checks_match_confluent_kafka(name, real_admin, client):
    ours = types.SimpleNamespace(NewTopic=NewTopic, NewPartitions=NewPartitions, ConfigResource=ConfigResource,
                                 ConsumerGroupTopicPartitions=ConsumerGroupTopicPartitions,
                                 TopicPartition=TopicPartition)
    real_ns, real_client = real_admin
    mine = _outcome(BAD_CALLS[name], ours, client)
    theirs = _outcome(BAD_CALLS[name], real_ns, real_client)
    assert mine[0] == theirs[0] != "OK"
    if name not in ("create_topics not a list", "create_partitions wrong type", "bad resource type"):
        assert mine[1] == theirs[1]


def test_confluent_kafkas_request_objects_are_accepted(client, cluster):
    confluent_admin = pytest.importorskip("confluent_kafka.admin")
    import confluent_kafka
    client.create_topics([confluent_admin.NewTopic("t", 2, 1, config={"retention.ms": "5000"})])["t"].result()
    resource = confluent_admin.ConfigResource(confluent_admin.ResourceType.TOPIC, "t")
    assert client.describe_configs([resource])[resource].result()["retention.ms"].value == "5000"
    change = confluent_admin.ConfigResource("topic", "t", incremental_configs=[confluent_admin.ConfigEntry(
        "retention.ms", "6000", incremental_operation=confluent_admin.AlterConfigOpType.SET)])
    client.incremental_alter_configs([change])[change].result()
    assert cluster.topics["t"]["overrides"]["retention.ms"] == "6000"
    offsets = client.list_consumer_group_offsets([confluent_kafka.ConsumerGroupTopicPartitions(
        "billing", [confluent_kafka.TopicPartition("orders", 0)])])["billing"].result()
    assert offsets.topic_partitions[0].offset == 5
    client.create_partitions([confluent_admin.NewPartitions("t", 3)])["t"].result()
    assert len(cluster.topics["t"]["replicas"]) == 3


def test_class_shapes_match_confluent_kafka():
    confluent_admin = pytest.importorskip("confluent_kafka.admin")
    assert repr(NewTopic("t", 3)) == repr(confluent_admin.NewTopic("t", 3))
    assert repr(NewPartitions("t", 5)) == repr(confluent_admin.NewPartitions("t", 5))
    assert repr(ConfigResource("topic", "t")) == repr(confluent_admin.ConfigResource("topic", "t"))
    assert repr(ConfigEntry("a", "1")) == repr(confluent_admin.ConfigEntry("a", "1"))
    for ours, theirs in [(admin.ResourceType, confluent_admin.ResourceType),
                         (admin.ConfigSource, confluent_admin.ConfigSource),
                         (admin.AlterConfigOpType, confluent_admin.AlterConfigOpType)]:
        assert {m.name: m.value for m in ours} == {m.name: m.value for m in theirs}
    for attr in ("topic", "num_partitions", "replication_factor", "replica_assignment", "config"):
        assert getattr(NewTopic("t", 3), attr) == getattr(confluent_admin.NewTopic("t", 3), attr)


# --- with the simulated cluster itself ---------------------------------------------------------------------

def test_against_the_simulated_cluster():
    cluster_module = pytest.importorskip("eventsim.cluster")
    cluster = cluster_module.Cluster(brokers=3, seed=7)
    client = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    futures = client.create_topics([NewTopic("orders", 3, 3, config={"min.insync.replicas": "2"}),
                                    NewTopic("orders.eu", 1, 1)])
    futures["orders"].result()
    futures["orders.eu"].result()
    assert error_of(client.create_topics([NewTopic("orders_eu", 1, 1)])["orders_eu"]).code() == 17
    md = client.list_topics("orders")
    assert sorted(md.topics["orders"].partitions) == [0, 1, 2]
    assert all(sorted(p.replicas) == [1, 2, 3] for p in md.topics["orders"].partitions.values())
    resource = ConfigResource("topic", "orders")
    assert client.describe_configs([resource])[resource].result()["min.insync.replicas"].value == "2"
    assert client.delete_topics(["orders"])["orders"].result() is None
    assert "orders" not in client.list_topics().topics


@pytest.mark.parametrize("timeout", [None, "1"])
def test_admin_poll_checks_its_timeout_as_confluent_kafka_does(timeout):
    from eventsim import Cluster
    cl = Cluster(brokers=1, seed=0)
    client = AdminClient({"bootstrap.servers": cl.bootstrap_servers})
    assert client.poll(0) == 0 and client.poll(float("nan")) == 0
    with pytest.raises(TypeError, match="must be real number"):
        client.poll(timeout)
