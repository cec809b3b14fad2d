"""The simulated cluster refuses bad input as Kafka does: the right error code, a message naming the bad
value, and a cluster left exactly as it was."""
import pytest
from hypothesis import given, settings, strategies as st

from eventsim import Cluster, KafkaError, KafkaException, Producer
from eventsim.snapshot import to_json, validate_snapshot

LEGAL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"


@pytest.fixture
def cluster():
    c = Cluster(brokers=3, seed=7)
    assert c.create_topic("orders", 3, 3) is None
    return c


def state(cluster):
    return to_json(cluster.snapshot(records=True))


def code_of(exc_info):
    return exc_info.value.args[0].code()


# -- topic names (Kafka's Topic.validate) -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["", ".", "..", "a" * 250, "has space", "slash/topic", "caf\u00e9", "tab\t",
                                  "star*", "colon:x"])
def test_invalid_topic_names_are_refused_with_invalid_topic(cluster, name):
    before = state(cluster)
    err = cluster.create_topic(name, 1, 1)
    assert err is not None and err.code() == KafkaError.TOPIC_EXCEPTION == 17
    assert "invalid" in err.str().lower()
    assert state(cluster) == before


def test_longest_legal_topic_name_and_all_legal_characters_are_accepted(cluster):
    assert cluster.create_topic("a" * 249, 1, 1) is None
    assert cluster.create_topic(LEGAL_CHARS, 1, 1) is None
    assert {"a" * 249, LEGAL_CHARS} <= set(cluster.metadata())


def test_non_string_topic_name_is_refused(cluster):
    before = state(cluster)
    assert cluster.create_topic(42, 1, 1).code() == KafkaError.TOPIC_EXCEPTION
    assert state(cluster) == before


def test_names_differing_only_by_dot_and_underscore_collide(cluster):
    assert cluster.create_topic("orders.eu", 1, 1) is None
    before = state(cluster)
    err = cluster.create_topic("orders_eu", 1, 1)
    assert err.code() == KafkaError.TOPIC_EXCEPTION
    assert "orders.eu" in err.str()
    assert state(cluster) == before


@settings(max_examples=60, deadline=None)
@given(name=st.one_of(
    st.text(min_size=1, max_size=20).filter(lambda s: any(ch not in LEGAL_CHARS for ch in s)),
    st.text(alphabet=LEGAL_CHARS, min_size=250, max_size=300),
    st.sampled_from(["", ".", ".."])))
def test_random_bad_topic_names_never_change_the_cluster(name):
    cluster = Cluster(brokers=3, seed=1)
    assert cluster.create_topic("orders", 2, 2) is None
    before = state(cluster)
    err = cluster.create_topic(name, 1, 1)
    assert err is not None and err.code() == KafkaError.TOPIC_EXCEPTION
    assert state(cluster) == before


@settings(max_examples=60, deadline=None)
@given(partitions=st.one_of(st.integers(max_value=0).filter(lambda n: n != -1), st.booleans(),
                            st.floats(allow_nan=True), st.text(max_size=3)),
       rf=st.integers(min_value=1, max_value=3))
def test_random_bad_partition_counts_never_change_the_cluster(partitions, rf):
    cluster = Cluster(brokers=3, seed=2)
    before = state(cluster)
    err = cluster.create_topic("t", partitions, rf)
    assert err is not None and err.code() == KafkaError.INVALID_PARTITIONS == 37
    assert state(cluster) == before
    assert cluster.partition_count("t") is None


# -- partitions, replication factor, duplicates, configs -------------------------------------------------
@pytest.mark.parametrize("partitions", [0, -3])
def test_zero_or_negative_partitions(cluster, partitions):
    before = state(cluster)
    err = cluster.create_topic("t", partitions, 1)
    assert err.code() == KafkaError.INVALID_PARTITIONS
    assert str(partitions) in err.str()
    assert state(cluster) == before


@pytest.mark.parametrize("rf", [0, -2])
def test_zero_or_negative_replication_factor(cluster, rf):
    before = state(cluster)
    assert cluster.create_topic("t", 1, rf).code() == KafkaError.INVALID_REPLICATION_FACTOR == 38
    assert state(cluster) == before


def test_replication_factor_above_broker_count(cluster):
    before = state(cluster)
    err = cluster.create_topic("t", 1, 4)
    assert err.code() == KafkaError.INVALID_REPLICATION_FACTOR
    assert "4" in err.str() and "3" in err.str()
    assert state(cluster) == before


def test_replication_factor_counts_only_registered_brokers(cluster):
    """Kafka places replicas on unfenced brokers only: with one broker down, RF 3 cannot be created."""
    cluster.stop_broker(3)
    before = state(cluster)
    assert cluster.create_topic("t", 1, 3).code() == KafkaError.INVALID_REPLICATION_FACTOR
    assert state(cluster) == before
    assert cluster.create_topic("t", 1, 2) is None
    assert all(3 not in p.replicas for p in cluster.metadata()["t"])


def test_defaults_come_from_broker_config():
    c = Cluster(brokers=3, seed=0, config={"num.partitions": 4, "default.replication.factor": 2})
    assert c.create_topic("t") is None
    parts = c.metadata()["t"]
    assert len(parts) == 4 and all(len(p.replicas) == 2 for p in parts)


def test_duplicate_topic(cluster):
    before = state(cluster)
    err = cluster.create_topic("orders", 5, 1)
    assert err.code() == KafkaError.TOPIC_ALREADY_EXISTS == 36
    assert "orders" in err.str()
    assert state(cluster) == before
    assert cluster.partition_count("orders") == 3


@pytest.mark.parametrize("config, bad", [({"retention.msx": "1"}, "retention.msx"),
                                         ({"retention.ms": "abc"}, "abc"),
                                         ({"cleanup.policy": "shred"}, "shred")])
def test_bad_topic_config(cluster, config, bad):
    before = state(cluster)
    err = cluster.create_topic("t", 1, 1, config)
    assert err.code() == KafkaError.INVALID_CONFIG == 40
    assert bad in err.str()
    assert state(cluster) == before


def test_validate_only_creates_nothing(cluster):
    before = state(cluster)
    assert cluster.create_topic("t", 2, 2, validate_only=True) is None
    assert state(cluster) == before


def test_invalid_replica_assignment(cluster):
    before = state(cluster)
    for assignment in ([[1, 1]], [[1, 9]]):
        assert cluster.create_topic("t", replica_assignment=assignment).code() == KafkaError.INVALID_REPLICA_ASSIGNMENT
    assert state(cluster) == before


@pytest.mark.parametrize("new_total", [1, 3, "5", True])
def test_create_partitions_must_increase(cluster, new_total):
    before = state(cluster)
    err = cluster.create_partitions("orders", new_total)
    assert err.code() == KafkaError.INVALID_PARTITIONS
    assert "3" in err.str()
    assert state(cluster) == before


def test_create_partitions_of_unknown_topic_and_delete_unknown_topic(cluster):
    before = state(cluster)
    assert cluster.create_partitions("nope", 5).code() == KafkaError.UNKNOWN_TOPIC_OR_PART == 3
    assert cluster.delete_topic("nope").code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    assert cluster.alter_topic_config("nope", {"retention.ms": "1"}).code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    assert state(cluster) == before


def test_create_partitions_adds_partitions_with_leaders(cluster):
    assert cluster.create_partitions("orders", 5) is None
    parts = cluster.metadata()["orders"]
    assert [p.partition for p in parts] == [0, 1, 2, 3, 4]
    assert all(p.leader in p.replicas and len(p.replicas) == 3 for p in parts)


def test_alter_config_with_unknown_name_changes_nothing(cluster):
    before = state(cluster)
    assert cluster.alter_topic_config("orders", {"retention.msx": "1"}).code() == KafkaError.INVALID_CONFIG
    assert state(cluster) == before


# -- brokers -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("broker_id", [0, 4, -1, "1", None, 1.0, True])
def test_bad_broker_ids(cluster, broker_id):
    before = state(cluster)
    for call in (cluster.stop_broker, cluster.start_broker, cluster.isolate_broker):
        with pytest.raises(KafkaException) as exc:
            call(broker_id)
        assert code_of(exc) == KafkaError._INVALID_ARG
        assert repr(broker_id) in exc.value.args[0].str()
    with pytest.raises(KafkaException):
        cluster.slow_broker(broker_id, 10)
    assert state(cluster) == before


def test_stopping_a_stopped_broker_and_starting_a_running_one(cluster):
    cluster.stop_broker(2)
    before = state(cluster)
    with pytest.raises(KafkaException) as exc:
        cluster.stop_broker(2)
    assert code_of(exc) == KafkaError._STATE and "2" in exc.value.args[0].str()
    with pytest.raises(KafkaException) as exc:
        cluster.start_broker(1)
    assert code_of(exc) == KafkaError._STATE
    assert state(cluster) == before


def test_negative_slow_down_and_negative_advance_are_refused(cluster):
    before = state(cluster)
    with pytest.raises(ValueError):
        cluster.slow_broker(1, -5)
    for bad in (-1, "10", True, None):
        with pytest.raises(ValueError):
            cluster.advance(bad)
    assert state(cluster) == before


# -- Cluster(...) and bootstrap.servers ---------------------------------------------------------------------
@pytest.mark.parametrize("brokers", [0, -1, 65, "3", 2.5, True, None])
def test_bad_broker_count(brokers):
    with pytest.raises(KafkaException) as exc:
        Cluster(brokers=brokers)
    assert code_of(exc) == KafkaError._INVALID_ARG
    assert repr(brokers) in exc.value.args[0].str()


@pytest.mark.parametrize("config, code", [({"no.such.setting": 1}, KafkaError.INVALID_CONFIG),
                                          ({"min.insync.replicas": 0}, KafkaError.INVALID_CONFIG),
                                          ({"broker.session.timeout.ms": "soon"}, KafkaError.INVALID_CONFIG)])
def test_bad_broker_config(config, code):
    with pytest.raises(KafkaException) as exc:
        Cluster(config=config)
    assert code_of(exc) == code
    assert list(config)[0] in exc.value.args[0].str()


def test_duplicate_cluster_name():
    keep = Cluster(name="twin-test")
    with pytest.raises(KafkaException) as exc:
        Cluster(name="twin-test")
    assert code_of(exc) == KafkaError._INVALID_ARG and "twin-test" in exc.value.args[0].str()
    assert Cluster.lookup("sim://twin-test") is keep


def test_bootstrap_servers_finds_the_cluster(cluster):
    assert cluster.bootstrap_servers.startswith("sim://")
    assert Cluster.lookup(cluster.bootstrap_servers) is cluster


@pytest.mark.parametrize("servers", ["sim://no-such-cluster", "localhost:9092", "", None])
def test_unknown_bootstrap_servers(servers):
    with pytest.raises(KafkaException) as exc:
        Producer({"bootstrap.servers": servers} if servers is not None else {})
    err = exc.value.args[0]
    assert err.code() == KafkaError._INVALID_ARG
    if servers:
        assert servers.replace("sim://", "") in err.str()


# -- what a healthy cluster looks like --------------------------------------------------------------------
def test_new_topic_metadata_and_snapshot(cluster):
    parts = cluster.metadata()["orders"]
    assert len(parts) == 3
    for p in parts:
        assert p.leader == p.replicas[0] and p.isr == p.replicas and p.leader_epoch == 0
        assert sorted(p.replicas) == [1, 2, 3]
    # Kafka spreads the preferred leaders over the brokers.
    assert sorted(p.leader for p in parts) == [1, 2, 3]
    snap = validate_snapshot(cluster.snapshot())
    assert snap["backend"] == "sim" and [b["id"] for b in snap["brokers"]] == [1, 2, 3]
    assert [t["name"] for t in snap["topics"]] == ["orders"]
    assert all(p["high_watermark"] == 0 and p["log_end_offset"] == 0 for p in snap["topics"][0]["partitions"])


def test_delete_topic_removes_it(cluster):
    assert cluster.delete_topic("orders") is None
    assert cluster.partition_count("orders") is None and cluster.metadata() == {}
    assert cluster.leader_for("orders", 0) == -1


def test_fetch_and_list_offsets_errors(cluster):
    assert cluster.fetch("nope", 0, 0).error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    assert cluster.fetch("orders", 7, 0).error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    assert cluster.fetch("orders", 0, 5).error.code() == KafkaError.OFFSET_OUT_OF_RANGE
    assert cluster.list_offsets("nope", 0, -1)[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART


@pytest.mark.parametrize("config, message", [
    ({"log.retention.check.interval.ms": 0}, "Value must be at least 1"),
    ({"log.retention.check.interval.ms": "abc"}, "Not a number of type LONG"),
    ({"log.cleaner.backoff.ms": -1}, "Value must be at least 0"),
    ({"num.partitions": -3}, "Value must be at least 1"),
    ({"min.insync.replicas": 2.5}, "Not a number of type INT"),
    ({"log.retention.ms": 0}, "must be unlimited (-1) or, greater than or equal to 1"),
    ({"auto.create.topics.enable": "yes"}, "Expected value to be either true or false"),
    ({"log.cleanup.policy": "remove"}, "String must be one of: compact, delete"),
    ({"log.segment.bytes": 1000}, "Value must be at least 1048576"),
    ({"leader.imbalance.check.interval.seconds": 0}, "Value must be at least 1"),
    ({"message.max.bytes": None}, "Null value"),
])
def test_a_broker_config_a_kafka_broker_would_refuse_to_start_on_is_invalid_config(config, message):
    """Kafka checks its configuration at startup; before, a 0 check interval made every advance() loop forever
    and other bad values failed later, deep inside."""
    with pytest.raises(KafkaException) as info:
        Cluster(brokers=1, config=config)
    assert info.value.args[0].code() == KafkaError.INVALID_CONFIG
    assert message in info.value.args[0].str()


def test_broker_config_values_are_normalised_as_kafka_parses_them():
    cl = Cluster(brokers=1, config={"unclean.leader.election.enable": True, "log.cleaner.backoff.ms": 0,
                                    "log.retention.ms": -1, "num.partitions": " 3"})
    assert (cl.config["unclean.leader.election.enable"], cl.config["log.cleaner.backoff.ms"],
            cl.config["log.retention.ms"], cl.config["num.partitions"]) == ("true", "0", "-1", "3")
    cl.advance(100)                          # a 0 ms cleaner backoff runs every millisecond, and ends
    assert cl.elapsed_ms == 100
