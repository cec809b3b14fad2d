"""Client configuration (librdkafka's rules), topic configuration (Kafka's) and topic names."""
import logging

import pytest
from hypothesis import given, strategies as st

from eventsim.config import (
    PROPERTIES, TOPIC_DEFAULTS, assignment_strategies, client_config, require_group_id,
    topic_config_value, topic_names_collide, validate_topic_config, validate_topic_name,
)
from eventsim.errors import KafkaError, KafkaException

_QUIET = logging.getLogger("eventsim-tests-quiet")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def error_text(excinfo):
    return excinfo.value.args[0].str()


# --- defaults and aliases ---------------------------------------------------------------------------

@pytest.mark.parametrize("key, expected", [
    ("partitioner", "consistent_random"), ("acks", -1), ("enable.idempotence", False), ("linger.ms", 5.0),
    ("retries", 2147483647), ("retry.backoff.ms", 100), ("retry.backoff.max.ms", 1000),
    ("delivery.timeout.ms", 300000), ("request.timeout.ms", 30000), ("batch.num.messages", 10000),
    ("batch.size", 1000000), ("max.in.flight.requests.per.connection", 1000000),
    ("transaction.timeout.ms", 60000), ("message.max.bytes", 1000000), ("compression.type", "none"),
    ("client.id", "rdkafka"), ("statistics.interval.ms", 0), ("security.protocol", "plaintext"),
    ("sasl.mechanism", "GSSAPI"), ("sticky.partitioning.linger.ms", 10), ("allow.auto.create.topics", True),
])
def test_producer_defaults_are_librdkafkas(key, expected):
    assert client_config({}, "producer")[key] == expected


@pytest.mark.parametrize("key, expected", [
    ("auto.offset.reset", "latest"), ("enable.auto.commit", True), ("auto.commit.interval.ms", 5000),
    ("enable.auto.offset.store", True), ("enable.partition.eof", False), ("isolation.level", "read_committed"),
    ("session.timeout.ms", 45000), ("heartbeat.interval.ms", 3000), ("max.poll.interval.ms", 300000),
    ("partition.assignment.strategy", "range,roundrobin"), ("fetch.min.bytes", 1),
    ("fetch.max.bytes", 52428800), ("max.partition.fetch.bytes", 1048576), ("fetch.wait.max.ms", 500),
    ("allow.auto.create.topics", False), ("group.instance.id", ""), ("enable.idempotence", False),
])
def test_consumer_defaults_are_librdkafkas(key, expected):
    assert client_config({"group.id": "g"}, "consumer")[key] == expected


@pytest.mark.parametrize("alias, name, value", [
    ("linger.ms", "queue.buffering.max.ms", 20), ("retries", "message.send.max.retries", 3),
    ("delivery.timeout.ms", "message.timeout.ms", 1234), ("acks", "request.required.acks", 1),
    ("bootstrap.servers", "metadata.broker.list", "sim://demo"), ("compression.type", "compression.codec", "lz4"),
    ("max.in.flight", "max.in.flight.requests.per.connection", 7), ("sasl.mechanism", "sasl.mechanisms", "PLAIN"),
])
def test_an_alias_and_its_property_are_one_setting(alias, name, value):
    for key in (alias, name):
        cfg = client_config({key: value}, "producer")
        assert cfg[alias] == cfg[name] == value
        assert cfg.is_set(alias) and cfg.is_set(name)
        assert cfg.user_keys() == (key,)


def test_values_are_parsed_to_python_types():
    cfg = client_config({"acks": "all", "linger.ms": "12.5", "enable.idempotence": "true",
                         "batch.num.messages": 500, "compression.type": "GZIP"}, "producer")
    assert cfg["acks"] == -1 and cfg["request.required.acks"] == -1
    assert cfg["linger.ms"] == 12.5
    assert cfg["enable.idempotence"] is True
    assert cfg["batch.num.messages"] == 500
    assert cfg["compression.type"] == "gzip"


def test_lookup_of_unknown_key_raises_keyerror_and_get_returns_default():
    cfg = client_config({}, "producer")
    with pytest.raises(KeyError):
        cfg["lingr.ms"]
    assert cfg.get("lingr.ms", "fallback") == "fallback"
    assert cfg.get("linger.ms") == 5.0
    assert "linger.ms" in cfg and "lingr.ms" not in cfg


def test_auto_offset_reset_synonyms_reduce_to_three_behaviours():
    for value, expected in [("smallest", "earliest"), ("beginning", "earliest"), ("EARLIEST", "earliest"),
                            ("largest", "latest"), ("end", "latest"), ("error", "error")]:
        assert client_config({"group.id": "g", "auto.offset.reset": value}, "consumer")[
            "auto.offset.reset"] == expected


def test_callbacks_are_kept_and_default_to_none():
    def on_delivery(err, msg):
        pass
    cfg = client_config({"on_delivery": on_delivery, "logger": _QUIET}, "producer")
    assert cfg["on_delivery"] is on_delivery and cfg["logger"] is _QUIET
    assert cfg["error_cb"] is None and cfg["stats_cb"] is None


# --- errors -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("conf, message", [
    ({"lingr.ms": 5}, 'No such configuration property: "lingr.ms"'),
    ({"enable.idempotence": "maybe"}, 'Expected bool value for "enable.idempotence": true or false'),
    ({"linger.ms": -5}, 'Configuration property "queue.buffering.max.ms" value -5 is outside allowed range 0..900000'),
    ({"acks": 1001}, 'Configuration property "request.required.acks" value 1001 is outside allowed range -1..1000'),
    ({"acks": "bogus"}, 'Invalid value for configuration property "request.required.acks"'),
    ({"partitioner": "MURMUR2"}, 'Invalid value for configuration property "partitioner": MURMUR2'),
    ({"compression.type": "brotli"}, 'Invalid value "brotli" for configuration property "compression.codec"'),
    ({"batch.num.messages": ""}, 'Integer configuration property "batch.num.messages" cannot be set to empty value'),
])
def test_bad_configuration_raises_invalid_arg_with_librdkafkas_message(conf, message):
    with pytest.raises(KafkaException) as excinfo:
        client_config(conf, "producer")
    assert excinfo.value.args[0].code() == KafkaError._INVALID_ARG
    assert error_text(excinfo) == message


@pytest.mark.parametrize("conf, message", [
    ({"enable.idempotence": True, "acks": 1}, "`acks` must be set to `all` when `enable.idempotence` is true"),
    ({"enable.idempotence": True, "max.in.flight": 6}, "`max.in.flight` must be set <= 5 when `enable.idempotence` is true"),
    ({"enable.idempotence": True, "retries": 0}, "`retries` must be set >= 1 when `enable.idempotence` is true"),
    ({"transactional.id": "t", "enable.idempotence": False}, "`transactional.id` requires `enable.idempotence=true`"),
    ({"transactional.id": "t", "acks": 0}, "`acks` must be set to `all` when `enable.idempotence` is true"),
    ({"transactional.id": "t", "delivery.timeout.ms": 70000}, "`message.timeout.ms` must be set <= `transaction.timeout.ms`"),
    ({"linger.ms": 1000, "delivery.timeout.ms": 500}, "`message.timeout.ms` must be greater than `linger.ms`"),
])
def test_idempotence_and_transaction_rules(conf, message):
    with pytest.raises(KafkaException) as excinfo:
        client_config(conf, "producer")
    assert error_text(excinfo) == "Failed to create producer: " + message


def test_idempotence_adjusts_what_the_user_left_unset():
    cfg = client_config({"enable.idempotence": True}, "producer")
    assert cfg["acks"] == -1
    assert cfg["max.in.flight"] == 5
    assert cfg["retries"] == 2147483647


def test_transactional_id_implies_idempotence_and_bounds_delivery_timeout():
    cfg = client_config({"transactional.id": "tx-1", "transaction.timeout.ms": 10000}, "producer")
    assert cfg["enable.idempotence"] is True
    assert cfg["acks"] == -1 and cfg["max.in.flight"] == 5
    assert cfg["delivery.timeout.ms"] == 10000
    assert not cfg.is_set("enable.idempotence")


def test_producer_property_on_a_consumer_is_accepted_with_a_warning():
    cfg = client_config({"group.id": "g", "linger.ms": 50}, "consumer")
    assert cfg.warnings == ["Configuration property queue.buffering.max.ms is a producer property and will "
                            "be ignored by this consumer instance"]
    admin = client_config({"group.id": "g"}, "admin")
    assert admin.warnings == ["Configuration property group.id is a consumer property and will be ignored "
                              "by this producer instance"]


def test_callback_keys_belong_to_their_client_type():
    with pytest.raises(KafkaException, match="on_delivery"):
        client_config({"group.id": "g", "on_delivery": print}, "consumer")
    with pytest.raises(KafkaException, match="requires a callable"):
        client_config({"on_delivery": 5}, "producer")
    with pytest.raises(TypeError, match="error_cb"):
        client_config({"error_cb": 5}, "producer")


def test_consumer_group_checks():
    with pytest.raises(ValueError, match="group.id must be set"):
        require_group_id({"bootstrap.servers": "sim://x"})
    with pytest.raises(ValueError, match="group.id must be set"):
        require_group_id({"group.id": ""})
    require_group_id({"group.id": "billing"})
    with pytest.raises(KafkaException, match="Unsupported partition.assignment.strategy: sticky"):
        client_config({"group.id": "g", "partition.assignment.strategy": "sticky"}, "consumer")
    with pytest.raises(KafkaException, match="same protocol type"):
        client_config({"group.id": "g", "partition.assignment.strategy": "range,cooperative-sticky"}, "consumer")
    cfg = client_config({"group.id": "g", "partition.assignment.strategy": "roundrobin, range"}, "consumer")
    assert assignment_strategies(cfg) == ["roundrobin", "range"]


@given(st.integers(min_value=-10 ** 7, max_value=10 ** 7))
def test_integer_range_is_enforced_exactly(value):
    low, high = PROPERTIES["session.timeout.ms"].spec
    conf = {"group.id": "g", "session.timeout.ms": value, "max.poll.interval.ms": 86400000}
    if low <= value <= high:
        assert client_config(conf, "consumer")["session.timeout.ms"] == value
    else:
        with pytest.raises(KafkaException, match="outside allowed range 1..3600000"):
            client_config(conf, "consumer")


# --- the real client agrees ---------------------------------------------------------------------------

_REAL_CASES = [
    ("producer", {"lingr.ms": 5}),
    ("producer", {"enable.idempotence": "maybe"}),
    ("producer", {"linger.ms": -5}),
    ("producer", {"linger.ms": "abc"}),
    ("producer", {"acks": "all", "enable.idempotence": True}),
    ("producer", {"enable.idempotence": True, "acks": 1}),
    ("producer", {"enable.idempotence": True, "max.in.flight": 6}),
    ("producer", {"transactional.id": "x", "enable.idempotence": False}),
    ("producer", {"partitioner": "bogus"}),
    ("producer", {"compression.type": "brotli"}),
    ("producer", {"batch.num.messages": "99999999999"}),
    ("producer", {"on_delivery": 5}),
    ("producer", {"ssl.truststore.location": "/x"}),
    ("consumer", {"group.id": "g", "linger.ms": 5}),
    ("consumer", {"group.id": "g", "auto.offset.reset": "begin"}),
    ("consumer", {"group.id": "g", "isolation.level": "x"}),
    ("consumer", {"linger.ms": 5}),
    ("consumer", {"group.id": "g", "partition.assignment.strategy": "Range"}),
    ("consumer", {"group.id": "g", "max.poll.interval.ms": 1000}),
    ("consumer", {"group.id": "g", "fetch.max.bytes": 1000}),
    ("admin", {"enable.idempotence": True, "acks": 1}),
    ("admin", {"on_delivery": print}),
]


def _outcome(exc):
    if exc is None:
        return ("OK",)
    arg = exc.args[0] if exc.args else exc
    text = arg.str() if hasattr(arg, "str") else str(arg)
    return (type(exc).__name__, text.rstrip())      # librdkafka ends range messages with a newline


@pytest.mark.parametrize("role, conf", _REAL_CASES)
def test_same_outcome_as_confluent_kafka(role, conf):
    confluent_kafka = pytest.importorskip("confluent_kafka")
    from confluent_kafka.admin import AdminClient
    real_class = {"producer": confluent_kafka.Producer, "consumer": confluent_kafka.Consumer,
                  "admin": AdminClient}[role]
    conf = dict(conf, logger=_QUIET)
    real_error = mine_error = None
    try:
        real_class(conf)
    except Exception as exc:       # noqa: BLE001 - comparing whatever the real client raises
        real_error = exc
    try:
        if role == "consumer":
            require_group_id(conf)
        client_config(conf, role)
    except Exception as exc:       # noqa: BLE001
        mine_error = exc
    assert _outcome(mine_error) == _outcome(real_error)


# --- topic configuration ------------------------------------------------------------------------------

def test_topic_defaults_are_kafka_4s():
    assert TOPIC_DEFAULTS["retention.ms"] == "604800000"
    assert TOPIC_DEFAULTS["retention.bytes"] == "-1"
    assert TOPIC_DEFAULTS["segment.bytes"] == "1073741824"
    assert TOPIC_DEFAULTS["segment.ms"] == "604800000"
    assert TOPIC_DEFAULTS["cleanup.policy"] == "delete"
    assert TOPIC_DEFAULTS["min.insync.replicas"] == "1"
    assert TOPIC_DEFAULTS["unclean.leader.election.enable"] == "false"
    assert TOPIC_DEFAULTS["delete.retention.ms"] == "86400000"
    assert TOPIC_DEFAULTS["min.compaction.lag.ms"] == "0"
    assert TOPIC_DEFAULTS["max.compaction.lag.ms"] == str(2 ** 63 - 1)
    assert TOPIC_DEFAULTS["message.timestamp.type"] == "CreateTime"
    assert TOPIC_DEFAULTS["max.message.bytes"] == "1048588"
    assert TOPIC_DEFAULTS["min.cleanable.dirty.ratio"] == "0.5"
    assert TOPIC_DEFAULTS["compression.type"] == "producer"


def test_validate_topic_config_normalises_to_strings():
    assert validate_topic_config({"retention.ms": 60000, "cleanup.policy": "compact , delete",
                                  "unclean.leader.election.enable": True, "min.insync.replicas": " 2 "}) == {
        "retention.ms": "60000", "cleanup.policy": "compact,delete",
        "unclean.leader.election.enable": "true", "min.insync.replicas": "2"}
    assert validate_topic_config(None) == {}


@pytest.mark.parametrize("config, message", [
    ({"retention.msx": "1"}, "Unknown topic config name: retention.msx"),
    ({"retention.ms": "abc"}, "Invalid value abc for configuration retention.ms: Not a number of type LONG"),
    ({"min.insync.replicas": "0"}, "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1"),
    ({"retention.ms": "-2"}, "Invalid value -2 for configuration retention.ms: Value must be at least -1"),
    ({"segment.bytes": "99999999999"}, "Invalid value 99999999999 for configuration segment.bytes: Not a number of type INT"),
    ({"cleanup.policy": "compactt"}, "Invalid value compactt for configuration cleanup.policy: String must be one of: compact, delete"),
    ({"preallocate": "yes"}, "Invalid value yes for configuration preallocate: Expected value to be either true or false"),
    ({"min.cleanable.dirty.ratio": "1.5"}, "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1"),
    ({"message.timestamp.type": "createtime"},
     "Invalid value createtime for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime"),
    ({"retention.ms": None}, "Null value not supported for topic configs: retention.ms"),
    ({"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"},
     "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)"),
])
def test_invalid_topic_config_is_invalid_config(config, message):
    with pytest.raises(KafkaException) as excinfo:
        validate_topic_config(config)
    assert excinfo.value.args[0].code() == KafkaError.INVALID_CONFIG == 40
    assert error_text(excinfo) == message


@given(st.integers(min_value=-(2 ** 63), max_value=2 ** 63 - 1))
def test_retention_ms_accepts_exactly_longs_from_minus_one(value):
    if value >= -1:
        assert validate_topic_config({"retention.ms": str(value)}) == {"retention.ms": str(value)}
    else:
        with pytest.raises(KafkaException, match="at least -1"):
            validate_topic_config({"retention.ms": str(value)})


def test_topic_config_value_resolves_override_then_broker_then_default():
    broker = {"min.insync.replicas": 2, "log.retention.hours": 1}
    assert topic_config_value({"min.insync.replicas": "3"}, broker, "min.insync.replicas") == "3"
    assert topic_config_value({}, broker, "min.insync.replicas") == "2"
    assert topic_config_value({}, broker, "retention.ms") == "3600000"
    assert topic_config_value({}, {"log.retention.ms": 5000, "log.retention.hours": 1}, "retention.ms") == "5000"
    assert topic_config_value(None, {"unclean.leader.election.enable": False}, "unclean.leader.election.enable") == "false"
    assert topic_config_value({}, {}, "cleanup.policy") == "delete"
    with pytest.raises(KeyError):
        topic_config_value({}, {}, "retention.msx")


# --- topic names ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, message", [
    ("", "Topic name is invalid: the empty string is not allowed"),
    (".", "Topic name is invalid: '.' is not allowed"),
    ("..", "Topic name is invalid: '..' is not allowed"),
    ("a b", "Topic name is invalid: 'a b' contains one or more characters other than ASCII alphanumerics, "
            "'.', '_' and '-'"),
    ("x" * 250, "Topic name is invalid: the length of '%s' is longer than the max allowed length 249" % ("x" * 250)),
])
def test_illegal_topic_names(name, message):
    error = validate_topic_name(name)
    assert error.code() == KafkaError.TOPIC_EXCEPTION == 17
    assert error.str() == message


@given(st.text(alphabet="abcXYZ019._-", min_size=1, max_size=249).filter(lambda n: n not in (".", "..")))
def test_legal_topic_names(name):
    assert validate_topic_name(name) is None


def test_topic_name_collisions():
    assert topic_names_collide("orders.eu", "orders_eu")
    assert topic_names_collide("a.b_c", "a_b.c")
    assert not topic_names_collide("orders.eu", "orders-eu")
