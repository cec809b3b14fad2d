"""Admin requests with bad elements, checked against the real client and against Kafka's controller.

* Manual replica assignments (``replica_assignment=``): confluent-kafka 2.16 refuses malformed lists at
  the call with ``ValueError``; Kafka 4.x's controller (``ReplicationControlManager``) answers
  ``INVALID_REPLICA_ASSIGNMENT`` with one message per case, leads with the first active replica, keeps
  only active replicas in the ISR, and a failed CreatePartitions changes nothing.
* Element types of other admin calls (``ConfigEntry`` fields, ``ConsumerGroupTopicPartitions``,
  ``states=`` / ``types=``, group ids), compared call by call with the real ``AdminClient``.

The real client is pointed at 127.0.0.1:1 where nothing listens: these checks happen before a request
is sent, so no broker is needed.
"""
from __future__ import annotations

import logging

import pytest

import confluent_kafka
import confluent_kafka.admin as real_admin
from eventsim import admin as sim_admin
from eventsim.cluster import Cluster
from eventsim.errors import KafkaError, KafkaException

NewTopic, NewPartitions = real_admin.NewTopic, real_admin.NewPartitions

_QUIET = logging.getLogger("eventsim-tests-admin-validation")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


@pytest.fixture(scope="module")
def real_client():
    return real_admin.AdminClient({"bootstrap.servers": "127.0.0.1:1", "logger": _QUIET})


@pytest.fixture
def cluster():
    c = Cluster(brokers=3, controllers=1)
    c.create_topic("orders", 2, 2)
    return c


@pytest.fixture
def sim_client(cluster):
    return sim_admin.AdminClient({"bootstrap.servers": cluster.bootstrap_servers})


def outcome(call, client):
    """What a call raises at once (type and message), or "OK" (the request went out)."""
    try:
        call(client)
    except Exception as exc:       # noqa: BLE001 - comparing whatever each client raises
        return type(exc).__name__, str(exc)
    return "OK", ""


def error_of(future):
    with pytest.raises(KafkaException) as excinfo:
        future.result()
    return excinfo.value.args[0]


def state(cluster):
    return {name: [(p.replicas, p.leader, list(p.isr)) for p in t.partitions] for name, t in cluster.topics.items()}


# --- replica_assignment: the client's checks at the call ---------------------------------------------

def _ct(count, assignment):
    return lambda a: a.create_topics([NewTopic("t", count, replica_assignment=assignment)], request_timeout=1)


def _cp(total, assignment):
    return lambda a: a.create_partitions([NewPartitions("orders", total, replica_assignment=assignment)],
                                         request_timeout=1)


MALFORMED = {
    # Before the fix the simulator let [[]] through to the cluster, which raised IndexError after part of
    # create_partitions was applied; create_partitions checked no assignment at all at the call.
    "topic, empty replica list": _ct(1, [[]]),
    "topic, second list empty": _ct(2, [[1], []]),
    "topic, too short (10 asked, 2 given)": _ct(10, [[1], [2]]),
    "topic, too long": _ct(1, [[1], [2]]),
    "topic, empty outer list": _ct(1, []),
    "topic, tuple outer": _ct(1, ([1],)),
    "topic, tuple inner": _ct(1, [(1, 2)]),
    "topic, str broker": _ct(1, [["1"]]),
    "topic, float broker": _ct(1, [[1.0]]),
    "topic, None inner": _ct(1, [None]),
    "topic, str assignment": _ct(2, "ab"),
    "topic, too many replicas": _ct(1, [[1] * 10001]),
    "partitions, empty replica list": _cp(5, [[]]),
    "partitions, empty outer list": _cp(5, []),
    "partitions, more lists than the new total": _cp(2, [[1], [2], [3]]),
    "partitions, str broker": _cp(3, [["a"]]),
    "partitions, tuple inner": _cp(3, [(1, 2)]),
    "partitions, None inner": _cp(3, [None]),
    "partitions, too many replicas": _cp(3, [[1] * 10001]),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_assignment_is_refused_at_the_call_like_confluent_kafka(name, real_client, sim_client, cluster):
    before = state(cluster)
    theirs = outcome(MALFORMED[name], real_client)
    mine = outcome(MALFORMED[name], sim_client)
    assert theirs[0] == "ValueError"
    assert mine == theirs
    assert state(cluster) == before


ACCEPTED_AT_THE_CALL = {
    # The client cannot know these are wrong: the controller answers them.
    "topic, unknown broker": _ct(1, [[99]]),
    "topic, duplicate broker": _ct(1, [[1, 1]]),
    "topic, mixed replication factors": _ct(2, [[1, 2], [1]]),
    "topic, bool broker (an int to the client)": _ct(1, [[True]]),
    "topic, negative broker": _ct(1, [[-1]]),
    "partitions, fewer lists than partitions added": _cp(10, [[1], [2]]),
    "partitions, unknown broker": _cp(3, [[99, 1]]),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED_AT_THE_CALL))
def test_well_formed_assignments_go_to_the_broker_like_confluent_kafka(name, real_client, sim_client):
    assert outcome(ACCEPTED_AT_THE_CALL[name], real_client) == ("OK", "")
    assert outcome(ACCEPTED_AT_THE_CALL[name], sim_client) == ("OK", "")


# --- replica_assignment: the controller's answers (Kafka 4.x ReplicationControlManager) ------------------

@pytest.mark.parametrize("assignment, message", [
    ([[1, 99]], "The manual partition assignment includes broker 99, but no such broker is registered."),
    ([[2, 2]], "The manual partition assignment includes the broker 2 more than once."),
    ([[3, 1, 3]], "The manual partition assignment includes the broker 3 more than once."),
    ([[1, 2], [3]], "The manual partition assignment includes a partition with 1 replica(s), but this is not "
                    "consistent with previous partitions, which have 2 replica(s)."),
    ([[]], "The manual partition assignment includes an empty replica list."),
])
def test_create_topic_invalid_assignment_messages(cluster, assignment, message):
    # Before: one generic "Invalid replica assignment [...]" for unknown / duplicate brokers only; mixed
    # replication factors were accepted and [[]] raised IndexError.
    before = state(cluster)
    err = cluster.create_topic("t", replica_assignment=assignment)
    assert err.code() == KafkaError.INVALID_REPLICA_ASSIGNMENT
    assert err.str() == message
    assert state(cluster) == before


def test_admin_client_reports_the_controllers_message(sim_client, cluster):
    err = error_of(sim_client.create_topics([NewTopic("t", 1, replica_assignment=[[1, 99]])])["t"])
    assert err.code() == KafkaError.INVALID_REPLICA_ASSIGNMENT
    assert "broker 99, but no such broker is registered" in err.str()
    assert "t" not in cluster.topics


def _fence(cluster, broker_id):
    cluster.stop_broker(broker_id)
    cluster.run_until(lambda: broker_id in cluster.fenced, 60_000)
    assert broker_id in cluster.fenced


def test_dead_first_replica_does_not_lead_and_is_outside_the_isr(cluster):
    # Before: broker 1 (dead) was made leader although it was not in the ISR [2, 3].
    _fence(cluster, 1)
    assert cluster.create_topic("t", replica_assignment=[[1, 2, 3], [3, 1, 2]]) is None
    parts = cluster.topics["t"].partitions
    assert [(p.replicas, p.leader, p.isr) for p in parts] == [([1, 2, 3], 2, [2, 3]), ([3, 1, 2], 3, [3, 2])]


def test_assignment_of_only_fenced_brokers_is_refused(cluster):
    _fence(cluster, 1)
    err = cluster.create_topic("t", replica_assignment=[[2], [1]])
    assert err.code() == KafkaError.INVALID_REPLICA_ASSIGNMENT
    assert err.str() == ("All brokers specified in the manual partition assignment for partition 1 are fenced "
                         "or in controlled shutdown.")
    assert "t" not in cluster.topics


def test_create_partitions_with_fewer_assignments_than_partitions_changes_nothing(cluster):
    # Before: NewPartitions("orders", 10, [[1], [2]]) made 2 partitions, not 10, and returned success.
    before = state(cluster)
    err = cluster.create_partitions("orders", 10, replica_assignment=[[1, 2], [2, 3]])
    assert err.code() == KafkaError.INVALID_REPLICA_ASSIGNMENT
    assert err.str() == "Attempted to add 8 additional partition(s), but only 2 assignment(s) were specified."
    assert state(cluster) == before


@pytest.mark.parametrize("assignment, message", [
    ([[1, 2], [2, 99]], "The manual partition assignment includes broker 99, but no such broker is registered."),
    ([[1, 2], [3, 3]], "The manual partition assignment includes the broker 3 more than once."),
    ([[1, 2], [3]], "The manual partition assignment includes a partition with 1 replica(s), but this is not "
                    "consistent with previous partitions, which have 2 replica(s)."),
    ([[1, 2], []], "The manual partition assignment includes an empty replica list."),
])
def test_create_partitions_is_all_or_nothing(cluster, assignment, message):
    # Before: the first partitions were added, then [] raised IndexError; the others were accepted.
    before = state(cluster)
    err = cluster.create_partitions("orders", 4, replica_assignment=assignment)
    assert (err.code(), err.str()) == (KafkaError.INVALID_REPLICA_ASSIGNMENT, message)
    assert state(cluster) == before


def test_create_partitions_must_keep_the_topics_replication_factor(cluster):
    err = cluster.create_partitions("orders", 3, replica_assignment=[[1, 2, 3]])
    assert err.str() == ("The manual partition assignment includes a partition with 3 replica(s), but this is "
                         "not consistent with previous partitions, which have 2 replica(s).")


def test_create_partitions_leader_is_the_first_active_replica(cluster):
    _fence(cluster, 1)
    err = cluster.create_partitions("orders", 4, replica_assignment=[[1, 3], [1, 1]])
    assert err.str() == "The manual partition assignment includes the broker 1 more than once."
    err = cluster.create_partitions("orders", 3, replica_assignment=[[1, 1]])
    assert err.code() == KafkaError.INVALID_REPLICA_ASSIGNMENT
    assert cluster.create_partitions("orders", 3, replica_assignment=[[1, 3]]) is None
    new = cluster.topics["orders"].partitions[2]
    assert (new.leader, new.isr) == (3, [3])


def test_create_partitions_all_fenced_names_the_new_partition_number(cluster):
    _fence(cluster, 1)
    _fence(cluster, 2)
    before = state(cluster)
    err = cluster.create_partitions("orders", 4, replica_assignment=[[3, 1], [2, 1]])
    assert err.str() == ("All brokers specified in the manual partition assignment for partition 3 are fenced "
                         "or in controlled shutdown.")
    assert state(cluster) == before


def test_validate_only_checks_the_assignment_too(sim_client, cluster):
    # Before: validate_only=True returned success without looking at the assignment.
    before = state(cluster)
    futures = sim_client.create_partitions([NewPartitions("orders", 3, replica_assignment=[[1, 99]])],
                                           validate_only=True)
    assert error_of(futures["orders"]).code() == KafkaError.INVALID_REPLICA_ASSIGNMENT
    sim_client.create_partitions([NewPartitions("orders", 3, replica_assignment=[[1, 3]])],
                                 validate_only=True)["orders"].result()
    assert state(cluster) == before


def test_bool_broker_id_is_broker_one_as_the_client_sends_it(sim_client, cluster):
    sim_client.create_topics([NewTopic("t", 1, replica_assignment=[[True]])])["t"].result()
    assert cluster.topics["t"].partitions[0].replicas == [1]


def test_a_good_manual_assignment_through_the_admin_client(sim_client, cluster):
    sim_client.create_topics([NewTopic("t", 2, replica_assignment=[[3, 1], [2, 3]])])["t"].result()
    assert [(p.replicas, p.leader, p.isr) for p in cluster.topics["t"].partitions] == [
        ([3, 1], 3, [3, 1]), ([2, 3], 2, [2, 3])]
    sim_client.create_partitions([NewPartitions("t", 3, replica_assignment=[[1, 2]])])["t"].result()
    assert cluster.topics["t"].partitions[2].replicas == [1, 2]


# --- element types of the other admin calls -------------------------------------------------------------

SET = real_admin.AlterConfigOpType.SET


def _op(value):
    return type("Op", (), {"value": value})()


def _iac(entry_factory):
    def call(ns, a):
        return a.incremental_alter_configs(
            [ns.ConfigResource("topic", "orders", incremental_configs=[entry_factory(ns)])], request_timeout=1)
    return call


def _offsets(group):
    return lambda ns, a: a.list_consumer_group_offsets([group(ns)], request_timeout=1)


def _groups(**kwargs):
    return lambda ns, a: a.list_consumer_groups(request_timeout=1, **kwargs)


ELEMENT_CALLS = {
    # ConfigEntry fields (before: int / None / bytes values and non-str names were taken, a tuple gave
    # AttributeError, an int or str operation was read as APPEND / SUBTRACT).
    "entry value int": _iac(lambda ns: ns.ConfigEntry("retention.ms", 1000, incremental_operation=SET)),
    "entry value float": _iac(lambda ns: ns.ConfigEntry("retention.ms", 1.5, incremental_operation=SET)),
    "entry value None with SET": _iac(lambda ns: ns.ConfigEntry("retention.ms", None, incremental_operation=SET)),
    "entry value bytes": _iac(lambda ns: ns.ConfigEntry("retention.ms", b"1000", incremental_operation=SET)),
    "entry name int": _iac(lambda ns: ns.ConfigEntry(5, "1000", incremental_operation=SET)),
    "entry name None": _iac(lambda ns: ns.ConfigEntry(None, "1000", incremental_operation=SET)),
    "entry name empty": _iac(lambda ns: ns.ConfigEntry("", "1000", incremental_operation=SET)),
    "entry operation int": _iac(lambda ns: ns.ConfigEntry("retention.ms", "1", incremental_operation=0)),
    "entry operation str": _iac(lambda ns: ns.ConfigEntry("retention.ms", "1", incremental_operation="SET")),
    "entry operation None": _iac(lambda ns: ns.ConfigEntry("retention.ms", "1")),
    "entry operation value bool": _iac(lambda ns: ns.ConfigEntry("retention.ms", "1",
                                                                 incremental_operation=_op(True))),
    "entry operation out of range": _iac(lambda ns: ns.ConfigEntry("retention.ms", "1",
                                                                   incremental_operation=_op(9))),
    "entry not a ConfigEntry": _iac(lambda ns: ("retention.ms", "1000")),
    # ConsumerGroupTopicPartitions (before: AttributeError for non-TopicPartition elements).
    "offsets element tuple": _offsets(lambda ns: ns.ConsumerGroupTopicPartitions("g", [("orders", 0)])),
    "offsets element str": _offsets(lambda ns: ns.ConsumerGroupTopicPartitions("g", ["orders"])),
    "offsets group None": _offsets(lambda ns: ns.ConsumerGroupTopicPartitions(None)),
    "offsets group int": _offsets(lambda ns: ns.ConsumerGroupTopicPartitions(5)),
    "offsets request not a group": lambda ns, a: a.list_consumer_group_offsets(["g"]),
    # states= / types= (before: strings were accepted as states and types, UNKNOWN as a type).
    "states of str": _groups(states={"STABLE"}),
    "states of int": _groups(states={3}),
    "states of types": _groups(states={confluent_kafka.ConsumerGroupType.CLASSIC}),
    "types of str": _groups(types={"CLASSIC"}),
    "types UNKNOWN": _groups(types={confluent_kafka.ConsumerGroupType.UNKNOWN}),
    "types of states": _groups(types={confluent_kafka.ConsumerGroupState.STABLE}),
    "states frozenset": _groups(states=frozenset({confluent_kafka.ConsumerGroupState.STABLE})),
    # group ids (before: TypeError for both).
    "delete group int": lambda ns, a: a.delete_consumer_groups([5], request_timeout=1),
    "describe group None": lambda ns, a: a.describe_consumer_groups([None], request_timeout=1),
}

ACCEPTED_ELEMENTS = {
    "entry value None with DELETE": _iac(lambda ns: ns.ConfigEntry(
        "retention.ms", None, incremental_operation=real_admin.AlterConfigOpType.DELETE)),
    "states of ConsumerGroupState": _groups(states={confluent_kafka.ConsumerGroupState.STABLE}),
    "states UNKNOWN": _groups(states={confluent_kafka.ConsumerGroupState.UNKNOWN}),
    "types of ConsumerGroupType": _groups(types={confluent_kafka.ConsumerGroupType.CLASSIC}),
    "describe group int": lambda ns, a: a.describe_consumer_groups([5], request_timeout=1),
}


class _Namespace:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


REAL_NS = _Namespace(ConfigResource=real_admin.ConfigResource, ConfigEntry=real_admin.ConfigEntry,
                     ConsumerGroupTopicPartitions=confluent_kafka.ConsumerGroupTopicPartitions)


@pytest.mark.parametrize("ns_name", ["confluent_kafka classes", "eventsim classes"])
@pytest.mark.parametrize("name", sorted(ELEMENT_CALLS))
def test_bad_elements_are_refused_like_confluent_kafka(name, ns_name, real_client, sim_client):
    ours = REAL_NS if ns_name == "confluent_kafka classes" else _Namespace(
        ConfigResource=sim_admin.ConfigResource, ConfigEntry=sim_admin.ConfigEntry,
        ConsumerGroupTopicPartitions=sim_admin.ConsumerGroupTopicPartitions)
    theirs = outcome(lambda a: ELEMENT_CALLS[name](REAL_NS, a), real_client)
    mine = outcome(lambda a: ELEMENT_CALLS[name](ours, a), sim_client)
    assert theirs[0] != "OK"
    assert mine == theirs


@pytest.mark.parametrize("name", sorted(ACCEPTED_ELEMENTS))
def test_good_elements_are_accepted_like_confluent_kafka(name, real_client, sim_client):
    assert outcome(lambda a: ACCEPTED_ELEMENTS[name](REAL_NS, a), real_client) == ("OK", "")
    assert outcome(lambda a: ACCEPTED_ELEMENTS[name](REAL_NS, a), sim_client) == ("OK", "")


def test_incremental_operation_is_read_by_its_value(sim_client, cluster):
    entry = real_admin.ConfigEntry("retention.ms", "1234", incremental_operation=real_admin.AlterConfigOpType.SET)
    change = real_admin.ConfigResource("topic", "orders", incremental_configs=[entry])
    sim_client.incremental_alter_configs([change])[change].result()
    assert cluster.topics["orders"].config_value("retention.ms") == "1234"
    delete = real_admin.ConfigEntry("retention.ms", None, incremental_operation=sim_admin.AlterConfigOpType.DELETE)
    change = real_admin.ConfigResource("topic", "orders", incremental_configs=[delete])
    sim_client.incremental_alter_configs([change])[change].result()
    assert cluster.topics["orders"].config_value("retention.ms") != "1234"


def test_describe_takes_a_group_id_as_its_str(sim_client):
    futures = sim_client.describe_consumer_groups([5])
    assert list(futures) == [5]
    assert futures[5].result().group_id == "5"
