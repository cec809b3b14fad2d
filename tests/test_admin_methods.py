"""The admin methods of ``admin_cluster.py``, ``admin_offsets.py`` and ``admin_security.py`` on a simulated
cluster: behaviour, result types and the argument checks confluent-kafka 2.16 makes (compared with the real
client where it fails at the call, before any broker is needed)."""
import warnings

import confluent_kafka
import pytest
from confluent_kafka import (ConsumerGroupTopicPartitions, ElectionType, IsolationLevel, TopicCollection,
                             TopicPartition)
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType, DeletedRecords,
                                   DescribeClusterResult, GroupMetadata, ListOffsetsResultInfo, OffsetSpec,
                                   ResourcePatternType, ResourceType, ScramCredentialInfo, ScramMechanism,
                                   TopicDescription, UserScramCredentialDeletion, UserScramCredentialsDescription,
                                   UserScramCredentialUpsertion)

import eventsim
from eventsim.admin import AdminClient, NewTopic
from eventsim.errors import KafkaError, KafkaException


@pytest.fixture
def cluster():
    return eventsim.Cluster(brokers=3, seed=3)


@pytest.fixture
def client(cluster):
    return AdminClient({"bootstrap.servers": cluster.bootstrap_servers})


@pytest.fixture
def real_client():
    """A real AdminClient pointed at a port nobody listens on: its call-time checks need no broker."""
    return confluent_kafka.admin.AdminClient({"bootstrap.servers": "127.0.0.1:1", "log_level": 0,
                                              "socket.timeout.ms": 1000})


def make_topic(client, cluster, name="orders", partitions=3, records=(), config=None):
    client.create_topics([NewTopic(name, partitions, 3, config=config or {})])[name].result()
    if records:
        producer = eventsim.Producer({"bootstrap.servers": cluster.bootstrap_servers, "linger.ms": 0})
        for partition, timestamp in records:
            producer.produce(name, value=b"v", partition=partition, timestamp=timestamp)
        assert producer.flush(10) == 0
    return name


def error_of(future):
    with pytest.raises(KafkaException) as info:
        future.result()
    return info.value.args[0].name()


def raised(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return type(exc), str(exc)
    return None


def test_the_same_public_methods_as_confluent_kafka():
    ours = {m for m in dir(AdminClient) if not m.startswith("_")}
    theirs = {m for m in dir(confluent_kafka.admin.AdminClient) if not m.startswith("_")}
    assert theirs <= ours
    assert not hasattr(confluent_kafka.admin.AdminClient, "close") and not hasattr(AdminClient, "close")


# -- describe_cluster / cluster_id / describe_topics ---------------------------------------------------------

def test_describe_cluster(client, cluster):
    result = client.describe_cluster().result()
    assert isinstance(result, DescribeClusterResult)
    assert [n.id for n in result.nodes] == [1, 2, 3] and result.controller.id == cluster.controller_id
    assert result.cluster_id == cluster.cluster_id == client.cluster_id() == client.cluster_id(timeout=5)
    assert result.authorized_operations is None
    ops = client.describe_cluster(include_authorized_operations=True).result().authorized_operations
    assert AclOperation.DESCRIBE in ops and all(isinstance(op, AclOperation) for op in ops)


def test_describe_cluster_lists_only_live_brokers(client, cluster):
    cluster.stop_broker(2)
    assert [n.id for n in client.describe_cluster().result().nodes] == [1, 3]


def test_without_live_brokers_the_calls_time_out(client, cluster):
    for b in (1, 2, 3):
        cluster.stop_broker(b, wait=False)
    assert error_of(client.describe_cluster()) == "_TIMED_OUT"
    with pytest.raises(KafkaException):
        client.cluster_id(timeout=1)
    assert error_of(client.elect_leaders(ElectionType.PREFERRED)) == "_TIMED_OUT"


def test_describe_topics(client, cluster):
    make_topic(client, cluster)
    desc = client.describe_topics(TopicCollection(["orders"]))["orders"].result()
    assert isinstance(desc, TopicDescription) and desc.name == "orders" and desc.is_internal is False
    assert type(desc.topic_id).__name__ == "Uuid" and str(desc.topic_id)
    meta = client.list_topics("orders").topics["orders"]
    for info in desc.partitions:
        assert info.leader.id == meta.partitions[info.id].leader
        assert [n.id for n in info.replicas] == meta.partitions[info.id].replicas
        assert [n.id for n in info.isr] == meta.partitions[info.id].isrs
    ops = client.describe_topics(TopicCollection(["orders"]), include_authorized_operations=True)["orders"]
    assert AclOperation.READ in ops.result().authorized_operations


def test_describe_topics_errors(client, cluster):
    make_topic(client, cluster)
    assert error_of(client.describe_topics(TopicCollection(["missing"]))["missing"]) == "UNKNOWN_TOPIC_OR_PART"
    assert error_of(client.describe_topics(TopicCollection(["bad name"]))["bad name"]) == "TOPIC_EXCEPTION"
    assert error_of(client.describe_topics(TopicCollection(["orders", "orders"]))["orders"]) == "_INVALID_ARG"
    assert client.describe_topics(TopicCollection([])) == {}


BAD_CALLS = {
    "describe_topics(list)": lambda a: a.describe_topics(["t"]),
    "describe_topics(None names)": lambda a: a.describe_topics(TopicCollection(None)),
    "describe_topics(int)": lambda a: a.describe_topics(TopicCollection([1])),
    "describe_topics(None)": lambda a: a.describe_topics(TopicCollection([None])),
    "describe_topics('')": lambda a: a.describe_topics(TopicCollection([""])),
    "describe_topics(operation_timeout)": lambda a: a.describe_topics(TopicCollection(["t"]), operation_timeout=1),
    "describe_topics(flag)": lambda a: a.describe_topics(TopicCollection(["t"]), include_authorized_operations=1),
    "describe_cluster(foo)": lambda a: a.describe_cluster(foo=1),
    "describe_cluster(request_timeout=-1)": lambda a: a.describe_cluster(request_timeout=-1),
    "describe_cluster(request_timeout='x')": lambda a: a.describe_cluster(request_timeout="x"),
    "describe_cluster(flag None)": lambda a: a.describe_cluster(include_authorized_operations=None),
    "cluster_id(None)": lambda a: a.cluster_id(timeout=None),
    "cluster_id(foo)": lambda a: a.cluster_id(foo=1),
    "list_groups(1)": lambda a: a.list_groups(1),
    "list_groups(group=1)": lambda a: a.list_groups(group=1),
    "list_groups(timeout=None)": lambda a: a.list_groups(timeout=None),
    "list_groups(foo)": lambda a: a.list_groups(foo=1),
    "elect_leaders(str)": lambda a: a.elect_leaders("PREFERRED"),
    "elect_leaders(tuple)": lambda a: a.elect_leaders(ElectionType.PREFERRED, (TopicPartition("t", 0),)),
    "elect_leaders(str partition)": lambda a: a.elect_leaders(ElectionType.PREFERRED, ["t"]),
    "elect_leaders(-1)": lambda a: a.elect_leaders(ElectionType.PREFERRED, [TopicPartition("t", -1)]),
    "elect_leaders(request_timeout)": lambda a: a.elect_leaders(ElectionType.PREFERRED, None, request_timeout=1),
    "list_offsets(list)": lambda a: a.list_offsets([]),
    "list_offsets(None spec)": lambda a: a.list_offsets({TopicPartition("t", 0): None}),
    "list_offsets(int spec)": lambda a: a.list_offsets({TopicPartition("t", 0): 5}),
    "list_offsets(-1)": lambda a: a.list_offsets({TopicPartition("t", -1): OffsetSpec.earliest()}),
    "list_offsets('')": lambda a: a.list_offsets({TopicPartition("", 0): OffsetSpec.earliest()}),
    "list_offsets(isolation str)": lambda a: a.list_offsets({TopicPartition("t", 0): OffsetSpec.latest()},
                                                            isolation_level="x"),
    "list_offsets(foo)": lambda a: a.list_offsets({TopicPartition("t", 0): OffsetSpec.latest()}, foo=1),
    "list_offsets(operation_timeout)": lambda a: a.list_offsets({TopicPartition("t", 0): OffsetSpec.latest()},
                                                                operation_timeout=1),
    "delete_records(TP)": lambda a: a.delete_records(TopicPartition("t", 0, 1)),
    "delete_records(str)": lambda a: a.delete_records(["t"]),
    "delete_records(-1)": lambda a: a.delete_records([TopicPartition("t", -1, 1)]),
    "delete_records(foo)": lambda a: a.delete_records([TopicPartition("t", 0, 1)], foo=1),
    "delete_records(operation_timeout=-2)": lambda a: a.delete_records([TopicPartition("t", 0, 1)],
                                                                       operation_timeout=-2),
    "alter_cgo(None)": lambda a: a.alter_consumer_group_offsets(None),
    "alter_cgo([])": lambda a: a.alter_consumer_group_offsets([]),
    "alter_cgo(no partitions)": lambda a: a.alter_consumer_group_offsets([ConsumerGroupTopicPartitions("g")]),
    "alter_cgo(empty)": lambda a: a.alter_consumer_group_offsets([ConsumerGroupTopicPartitions("g", [])]),
    "alter_cgo(no offset)": lambda a: a.alter_consumer_group_offsets(
        [ConsumerGroupTopicPartitions("g", [TopicPartition("t", 0)])]),
    "alter_cgo(group '')": lambda a: a.alter_consumer_group_offsets(
        [ConsumerGroupTopicPartitions("", [TopicPartition("t", 0, 1)])]),
    "alter_cgo(require_stable)": lambda a: a.alter_consumer_group_offsets(
        [ConsumerGroupTopicPartitions("g", [TopicPartition("t", 0, 1)])], require_stable=True),
    "create_acls([])": lambda a: a.create_acls([]),
    "create_acls(binding)": lambda a: a.create_acls(_binding()),
    "create_acls(dup)": lambda a: a.create_acls([_binding(), _binding()]),
    "create_acls(str)": lambda a: a.create_acls(["x"]),
    "create_acls(UNKNOWN)": lambda a: a.create_acls([_binding(restype=ResourceType.UNKNOWN)]),
    "create_acls(foo)": lambda a: a.create_acls([_binding()], foo=1),
    "describe_acls(binding)": lambda a: a.describe_acls(_binding()),
    "describe_acls(None)": lambda a: a.describe_acls(None),
    "describe_acls(foo)": lambda a: a.describe_acls(_filter(), foo=1),
    "delete_acls([])": lambda a: a.delete_acls([]),
    "delete_acls(filter)": lambda a: a.delete_acls(_filter()),
    "delete_acls([binding])": lambda a: a.delete_acls([_binding()]),
    "delete_acls(dup)": lambda a: a.delete_acls([_filter(), _filter()]),
    "set_sasl_credentials(None)": lambda a: a.set_sasl_credentials(None, "p"),
    "set_sasl_credentials(int)": lambda a: a.set_sasl_credentials("u", 1),
    "set_sasl_credentials(bytes)": lambda a: a.set_sasl_credentials(b"u", b"p"),
    "describe_scram(str)": lambda a: a.describe_user_scram_credentials("u"),
    "describe_scram('')": lambda a: a.describe_user_scram_credentials([""]),
    "describe_scram(None)": lambda a: a.describe_user_scram_credentials([None]),
    "describe_scram(1)": lambda a: a.describe_user_scram_credentials([1]),
    "describe_scram(foo)": lambda a: a.describe_user_scram_credentials(["u"], foo=1),
    "alter_scram([])": lambda a: a.alter_user_scram_credentials([]),
    "alter_scram(password str)": lambda a: a.alter_user_scram_credentials(
        [UserScramCredentialUpsertion("u", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), "pw")]),
    "alter_scram(iterations 0)": lambda a: a.alter_user_scram_credentials(
        [UserScramCredentialUpsertion("u", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 0), b"pw")]),
    "alter_scram(foo)": lambda a: a.alter_user_scram_credentials(
        [UserScramCredentialDeletion("u", ScramMechanism.SCRAM_SHA_256)], foo=1),
}


def _binding(**changes):
    fields = dict(restype=ResourceType.TOPIC, name="t", resource_pattern_type=ResourcePatternType.LITERAL,
                  principal="User:a", host="*", operation=AclOperation.READ, permission_type=AclPermissionType.ALLOW)
    fields.update(changes)
    return AclBinding(**fields)


def _filter():
    return AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                            AclPermissionType.ANY)


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_bad_calls_fail_at_the_call_like_confluent_kafka(name, client, real_client):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ours, theirs = raised(lambda: BAD_CALLS[name](client)), raised(lambda: BAD_CALLS[name](real_client))
    assert theirs is not None, "the real client accepted it"
    assert ours == theirs


# -- list_groups -------------------------------------------------------------------------------------------------

def _member_of_billing(cluster):
    """A consumer of "orders" that has joined group "billing" and holds its assignment."""
    consumer = eventsim.Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": "billing"})
    consumer.subscribe(["orders"])
    for _ in range(50):
        consumer.poll(0.1)
        if consumer.assignment():
            break
    return consumer


def test_list_groups(client, cluster):
    make_topic(client, cluster)
    consumer = _member_of_billing(cluster)
    with pytest.warns(DeprecationWarning):
        groups = client.list_groups(timeout=5)
    (group,) = groups
    assert isinstance(group, GroupMetadata) and group.id == "billing" and group.error is None
    assert (group.state, group.protocol_type, group.protocol) == ("Stable", "consumer", "range")
    (member,) = group.members
    assert member.metadata.startswith(b"\x00\x03\x00\x00\x00\x01\x00\x06orders")
    assert member.assignment == (b"\x00\x00\x00\x00\x00\x01\x00\x06orders\x00\x00\x00\x03"
                                 b"\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x00")
    assert group.broker.id == client.describe_consumer_groups(["billing"])["billing"].result().coordinator.id
    with pytest.warns(DeprecationWarning):
        assert client.list_groups("missing") == [] and [g.id for g in client.list_groups("billing")] == ["billing"]
    consumer.close()
    with pytest.warns(DeprecationWarning):
        (group,) = client.list_groups("billing")
    assert (group.state, group.protocol_type, group.protocol, group.members) == ("Empty", "consumer", "", [])


# -- elect_leaders ------------------------------------------------------------------------------------------------

def test_preferred_election_after_a_restart(client, cluster):
    make_topic(client, cluster, partitions=3)
    led = [p for p in range(3) if cluster.leader_for("orders", p) == 1]
    cluster.stop_broker(1)
    cluster.start_broker(1)
    assert all(cluster.leader_for("orders", p) != 1 for p in led)
    result = client.elect_leaders(ElectionType.PREFERRED).result()
    assert {(tp.topic, tp.partition): err for tp, err in result.items()} == {("orders", p): None for p in led}
    assert all(cluster.leader_for("orders", p) == 1 for p in led)
    again = client.elect_leaders(ElectionType.PREFERRED, [TopicPartition("orders", led[0])]).result()
    (error,) = again.values()
    assert error.code() == KafkaError.ELECTION_NOT_NEEDED
    assert again[TopicPartition("orders", led[0])] is error      # found by confluent-kafka's TopicPartition
    assert client.elect_leaders(ElectionType.PREFERRED).result() == {}


def test_preferred_replica_down_and_unclean_election(client, cluster):
    make_topic(client, cluster, partitions=1, config={"unclean.leader.election.enable": "false"})
    preferred = cluster.topics["orders"].partitions[0].replicas[0]
    cluster.stop_broker(preferred)
    tp = TopicPartition("orders", 0)
    (error,) = client.elect_leaders(ElectionType.PREFERRED, [tp]).result().values()
    assert error.code() == KafkaError.PREFERRED_LEADER_NOT_AVAILABLE
    (error,) = client.elect_leaders(ElectionType.UNCLEAN, [tp]).result().values()
    assert error.code() == KafkaError.ELECTION_NOT_NEEDED


def test_elect_leaders_errors(client, cluster):
    make_topic(client, cluster, partitions=1)
    result = client.elect_leaders(ElectionType.PREFERRED, [TopicPartition("nope", 0), TopicPartition("orders", 4)])
    assert sorted(e.name() for e in result.result().values()) == ["UNKNOWN_TOPIC_OR_PART"] * 2
    dup = client.elect_leaders(ElectionType.PREFERRED, [TopicPartition("orders", 0), TopicPartition("orders", 0)])
    assert error_of(dup) == "_INVALID_ARG"
    assert client.elect_leaders(ElectionType.PREFERRED, []).result() == {}


# -- list_offsets / delete_records ----------------------------------------------------------------------------------

def test_list_offsets(client, cluster):
    make_topic(client, cluster, records=[(0, 1000), (0, 1010), (0, 1005), (1, 2000)], config={"retention.ms": "-1"})
    tps = [TopicPartition("orders", p) for p in range(3)]

    def answer(spec, **kwargs):
        futures = client.list_offsets({tp: spec for tp in tps}, **kwargs)
        infos = [futures[tp].result() for tp in tps]
        assert all(isinstance(i, ListOffsetsResultInfo) for i in infos)
        return [(i.offset, i.timestamp, i.leader_epoch) for i in infos]
    assert answer(OffsetSpec.earliest()) == [(0, -1, 0), (0, -1, 0), (0, -1, 0)]
    assert answer(OffsetSpec.latest(), isolation_level=IsolationLevel.READ_COMMITTED) == [(3, -1, 0), (1, -1, 0),
                                                                                         (0, -1, 0)]
    assert answer(OffsetSpec.max_timestamp()) == [(1, 1010, 0), (0, 2000, 0), (-1, -1, None)]
    assert answer(OffsetSpec.for_timestamp(1006)) == [(1, 1010, 0), (0, 2000, 0), (-1, -1, None)]
    assert answer(OffsetSpec.for_timestamp(5000)) == [(-1, -1, None)] * 3


def test_list_offsets_errors(client, cluster):
    make_topic(client, cluster, partitions=1)
    futures = client.list_offsets({TopicPartition("orders", 5): OffsetSpec.earliest()})
    assert [error_of(f) for f in futures.values()] == ["_NOENT"]
    futures = client.list_offsets({TopicPartition("orders", 0): OffsetSpec.earliest(),
                                   TopicPartition("nope", 0): OffsetSpec.earliest()})
    assert error_of(futures[TopicPartition("nope", 0)]) == "UNKNOWN_TOPIC_OR_PART"
    assert futures[TopicPartition("orders", 0)].result().offset == 0
    futures = client.list_offsets({TopicPartition("orders", 0): OffsetSpec.for_timestamp(-7)})
    assert [error_of(f) for f in futures.values()] == ["_INVALID_ARG"]
    assert client.list_offsets({}) == {}


def test_delete_records(client, cluster):
    make_topic(client, cluster, partitions=2, records=[(0, 1000 + i) for i in range(6)] + [(1, 1000)],
               config={"retention.ms": "-1"})
    request = [TopicPartition("orders", 0, 4), TopicPartition("orders", 1, -1)]
    futures = client.delete_records(request, operation_timeout=5, request_timeout=5)
    assert list(futures) == request
    results = [f.result() for f in futures.values()]
    assert all(isinstance(r, DeletedRecords) for r in results) and [r.low_watermark for r in results] == [4, 1]
    assert cluster.partition("orders", 0).log_start_offset == 4
    cluster.advance(1000)                    # the followers learn the new log start at their next fetch
    part = cluster.partition("orders", 0)
    assert all(part.replica[b].log.log_start_offset == 4 for b in part.replicas)
    again = client.delete_records([TopicPartition("orders", 0, 2)])
    assert [f.result().low_watermark for f in again.values()] == [4]
    for offset in (7, -2, -1001):
        (future,) = client.delete_records([TopicPartition("orders", 0, offset)]).values()
        assert error_of(future) == "OFFSET_OUT_OF_RANGE"
    dup = client.delete_records([TopicPartition("orders", 0, 5), TopicPartition("orders", 0, 5)])
    assert [error_of(f) for f in dup.values()] == ["_INVALID_ARG"]
    assert [error_of(f) for f in client.delete_records([TopicPartition("nope", 0, 1)]).values()] == ["_NOENT"]
    assert client.delete_records([]) == {}


# -- alter_consumer_group_offsets --------------------------------------------------------------------------------

def test_alter_consumer_group_offsets(client, cluster):
    make_topic(client, cluster, partitions=2)
    request = [ConsumerGroupTopicPartitions("billing", [TopicPartition("orders", 1, 7), TopicPartition("orders", 0, 3),
                                                        TopicPartition("nope", 0, 1)])]
    result = client.alter_consumer_group_offsets(request, request_timeout=5)["billing"].result()
    assert isinstance(result, ConsumerGroupTopicPartitions) and result.group_id == "billing"
    assert [(tp.topic, tp.partition, tp.offset, tp.error and tp.error.name()) for tp in result.topic_partitions] == [
        ("nope", 0, 1, "UNKNOWN_TOPIC_OR_PART"), ("orders", 0, 3, None), ("orders", 1, 7, None)]
    listed = client.list_consumer_group_offsets([ConsumerGroupTopicPartitions("billing")])["billing"].result()
    assert sorted((tp.partition, tp.offset) for tp in listed.topic_partitions) == [(0, 3), (1, 7)]
    desc = client.describe_consumer_groups(["billing"])["billing"].result()
    assert desc.is_simple_consumer_group and desc.state.name == "EMPTY"
    dup = [ConsumerGroupTopicPartitions("billing", [TopicPartition("orders", 0, 1), TopicPartition("orders", 0, 2)])]
    assert error_of(client.alter_consumer_group_offsets(dup)["billing"]) == "_INVALID_ARG"


def test_alter_offsets_of_a_group_with_members_is_refused(client, cluster):
    make_topic(client, cluster, partitions=1)
    consumer = _member_of_billing(cluster)
    request = [ConsumerGroupTopicPartitions("billing", [TopicPartition("orders", 0, 1)])]
    (tp,) = client.alter_consumer_group_offsets(request)["billing"].result().topic_partitions
    assert tp.error.name() == "UNKNOWN_MEMBER_ID"
    consumer.close()
    (tp,) = client.alter_consumer_group_offsets(request)["billing"].result().topic_partitions
    assert tp.error is None


def test_alter_offsets_accepts_the_simulators_request_class(client, cluster):
    from eventsim.admin import ConsumerGroupTopicPartitions as SimRequest
    make_topic(client, cluster, partitions=1)
    request = [SimRequest("billing", [TopicPartition("orders", 0, 2)])]
    assert client.alter_consumer_group_offsets(request)["billing"].result().topic_partitions[0].offset == 2


# -- ACLs, SCRAM, SASL ---------------------------------------------------------------------------------------------

def test_acls_without_an_authorizer(client):
    bindings = [_binding(), _binding(name="u")]
    futures = client.create_acls(bindings, request_timeout=5)
    assert list(futures) == bindings and [error_of(f) for f in futures.values()] == ["SECURITY_DISABLED"] * 2
    assert client.describe_acls(_filter()).result() == []
    assert [error_of(f) for f in client.delete_acls([_filter()]).values()] == ["SECURITY_DISABLED"]


def test_scram_credentials(client):
    sha256, sha512 = ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512
    assert client.describe_user_scram_credentials().result() == {}
    assert error_of(client.describe_user_scram_credentials(["alice"])["alice"]) == "RESOURCE_NOT_FOUND"
    futures = client.alter_user_scram_credentials([
        UserScramCredentialUpsertion("alice", ScramCredentialInfo(sha512, 8192), b"pw"),
        UserScramCredentialUpsertion("bob", ScramCredentialInfo(sha256, 4096), b"pw", b"salt")])
    assert sorted(futures) == ["alice", "bob"] and [f.result() for f in futures.values()] == [None, None]
    client.alter_user_scram_credentials([UserScramCredentialUpsertion(
        "alice", ScramCredentialInfo(sha256, 5000), b"pw")])["alice"].result()
    desc = client.describe_user_scram_credentials(["alice"])["alice"].result()
    assert isinstance(desc, UserScramCredentialsDescription) and desc.user == "alice"
    assert [(i.mechanism, i.iterations) for i in desc.scram_credential_infos] == [(sha256, 5000), (sha512, 8192)]
    assert sorted(client.describe_user_scram_credentials().result()) == ["alice", "bob"]
    client.alter_user_scram_credentials([UserScramCredentialDeletion("bob", sha256)])["bob"].result()
    assert error_of(client.describe_user_scram_credentials(["bob"])["bob"]) == "RESOURCE_NOT_FOUND"


def test_scram_errors(client):
    sha256, sha512 = ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512

    def alter(*alterations):
        (future,) = client.alter_user_scram_credentials(list(alterations)).values()
        return error_of(future)
    upsert = UserScramCredentialUpsertion
    assert alter(upsert("u", ScramCredentialInfo(sha256, 4095), b"pw")) == "UNACCEPTABLE_CREDENTIAL"
    assert alter(upsert("u", ScramCredentialInfo(sha256, 16385), b"pw")) == "UNACCEPTABLE_CREDENTIAL"
    assert alter(UserScramCredentialDeletion("u", sha512)) == "RESOURCE_NOT_FOUND"
    assert alter(upsert("u", ScramCredentialInfo(sha256, 4096), b"pw"),
                 UserScramCredentialDeletion("u", sha512)) == "RESOURCE_NOT_FOUND"     # as Kafka 4.4 answers
    client.alter_user_scram_credentials([upsert("u", ScramCredentialInfo(sha512, 4096), b"pw")])["u"].result()
    assert alter(upsert("u", ScramCredentialInfo(sha256, 4096), b"pw"),
                 UserScramCredentialDeletion("u", sha512)) == "DUPLICATE_RESOURCE"
    assert alter(UserScramCredentialDeletion("u", ScramMechanism.UNKNOWN)) == "_INVALID_ARG"
    dup = client.describe_user_scram_credentials(["u", "u"])
    assert [error_of(f) for f in dup.values()] == ["_INVALID_ARG"]
    assert client.describe_user_scram_credentials([]) == {}


def test_set_sasl_credentials(client):
    assert client.set_sasl_credentials("alice", "secret") is None
    assert client.set_sasl_credentials(username="", password="") is None


def test_the_classes_are_confluent_kafkas():
    import eventsim.admin as admin
    for name in ("OffsetSpec", "AclBinding", "TopicDescription", "DescribeClusterResult", "ListOffsetsResultInfo",
                 "DeletedRecords", "ScramMechanism", "UserScramCredentialUpsertion", "TopicCollection",
                 "ElectionType", "IsolationLevel"):
        assert getattr(admin, name) is (getattr(confluent_kafka.admin, name, None) or getattr(confluent_kafka, name))


def test_results_are_deterministic():
    def observe():
        cluster = eventsim.Cluster(brokers=3, seed=11)
        client = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
        make_topic(client, cluster, records=[(0, 5), (1, 6)])
        desc = client.describe_topics(TopicCollection(["orders"]))["orders"].result()
        offsets = client.list_offsets({TopicPartition("orders", p): OffsetSpec.max_timestamp() for p in range(3)})
        return (str(desc.topic_id), [p.leader.id for p in desc.partitions],
                [f.result().offset for f in offsets.values()], cluster.now_ms)
    assert observe() == observe()
