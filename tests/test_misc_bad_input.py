"""Bad input to snapshots, views and client configs.

* ``snapshot(records=True, max_records=...)`` and ``ViewSource.snapshot``: no real counterpart, so a
  bad ``max_records`` raises a clear ``TypeError`` / ``ValueError`` at the call.
* Views (``PartitionView``, ``ClusterView``, ``Predict``): a wrong argument fails at the call naming what is
  expected, instead of being taken apart (``groups="g1"`` is not the groups "g" and "1").
* Client configs, compared with confluent-kafka 2.16's own ``Producer`` / ``Consumer`` / ``AdminClient``
  (they parse their config when created, without a broker).
"""
from __future__ import annotations

import logging

import pytest

import confluent_kafka
from eventsim.admin import AdminClient
from eventsim.cluster import Cluster
from eventsim.config import assignment_strategies, client_config
from eventsim.consumer import Consumer
from eventsim.errors import KafkaException
from eventsim.producer import Producer
from eventsim.widgets import ClusterView, PartitionView, Predict, ViewSource

_QUIET = logging.getLogger("eventsim-tests-misc-bad-input")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


@pytest.fixture
def cluster():
    c = Cluster(brokers=3, controllers=1)
    c.create_topic("orders", 2, 3)
    p = Producer({"bootstrap.servers": c.bootstrap_servers})
    for i in range(5):
        p.produce("orders", key=b"k", value=b"v%d" % i, partition=0)
    p.flush()
    return c


# --- snapshot(records=True, max_records=...) ----------------------------------------------------------

@pytest.mark.parametrize("max_records, error", [
    # Before: -1 dropped the first record, "5" / None / 2.5 failed deep inside with a TypeError about
    # slicing or "-" between int and str.
    (-1, ValueError), ("5", TypeError), (None, TypeError), (2.5, TypeError), (True, TypeError),
])
def test_snapshot_refuses_a_bad_max_records(cluster, max_records, error):
    with pytest.raises(error, match="max_records must be an int >= 0"):
        cluster.snapshot(records=True, max_records=max_records)


def test_snapshot_max_records_zero_means_no_records(cluster):
    # Before: 0 returned every record ([-0:] is the whole list).
    part = cluster.snapshot(records=True, max_records=0)["topics"][0]["partitions"][0]
    assert part["records"] == []
    part = cluster.snapshot(records=True, max_records=2)["topics"][0]["partitions"][0]
    assert [r["value"] for r in part["records"]] == ["v3", "v4"]


def test_view_source_snapshot_records_uses_the_backends_default(cluster):
    # Before: ViewSource.snapshot(records=True) passed its own default max_records=None on, and the
    # simulator failed with "unsupported operand type(s) for -: 'int' and 'NoneType'".
    part = ViewSource(cluster).snapshot(records=True)["topics"][0]["partitions"][0]
    assert [r["value"] for r in part["records"]] == ["v0", "v1", "v2", "v3", "v4"]
    with pytest.raises(ValueError, match="max_records"):
        ViewSource(cluster).snapshot(records=True, max_records=-3)


# --- views ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, message", [
    # Before: partitions=5 -> "'int' object is not iterable"; groups="g1" was read as groups "g" and "1";
    # a partition "0" never matched and drew nothing.
    ({"partitions": 5}, TypeError, r"partitions must be a list such as \[0, 2\]"),
    ({"partitions": "01"}, TypeError, "partitions must be a list"),
    ({"partitions": ["0"]}, TypeError, "each of partitions must be an int >= 0"),
    ({"partitions": [-1]}, ValueError, "each of partitions must be an int >= 0"),
    ({"groups": "g1"}, TypeError, r'groups must be a list such as \["billing"\]'),
    ({"groups": [1]}, TypeError, "each of groups must be a non-empty str"),
])
def test_partition_view_refuses_bad_arguments(cluster, kwargs, error, message):
    with pytest.raises(error, match=message):
        PartitionView(cluster, "orders", **kwargs)


def test_partition_view_takes_good_arguments(cluster):
    view = PartitionView(cluster, "orders", partitions=(1, 0), groups={"billing"})
    assert view.partitions == [0, 1] and view.groups == ["billing"]
    with pytest.raises(TypeError, match="topic must be a non-empty str"):
        PartitionView(cluster, 0)


@pytest.mark.parametrize("settle_ms, error", [("x", TypeError), (1.5, TypeError), (None, TypeError),
                                              (True, TypeError), (-1, ValueError)])
def test_cluster_view_refuses_a_bad_settle_ms(cluster, settle_ms, error):
    # Before: any value was stored and failed only when a Stop / Start button was clicked.
    with pytest.raises(error, match="settle_ms must be an int >= 0"):
        ClusterView(cluster, settle_ms=settle_ms)


def test_cluster_view_refuses_a_bad_topic(cluster):
    with pytest.raises(TypeError, match="topic must be a non-empty str or None"):
        ClusterView(cluster, topic=["orders"])
    assert ClusterView(cluster, topic="orders", settle_ms=0).settle_ms == 0


@pytest.mark.parametrize("args, error, message", [
    # Before: Predict("q", "ab", "a", "e") made the two options "a" and "b".
    (("q", "ab", "a", "e"), TypeError, "options must be a list of strings"),
    (("q", {"a": 1, "b": 2}, "a", "e"), TypeError, "options must be a list of strings"),
    ((None, ["a", "b"], "a", "e"), TypeError, "question must be a non-empty str"),
    (("q", ["a", "b"], "a", 5), TypeError, "explanation must be a str"),
])
def test_predict_refuses_bad_arguments(args, error, message):
    with pytest.raises(error, match=message):
        Predict(*args)


def test_predict_takes_a_tuple_of_options():
    assert Predict("q", ("a", "b"), 1, "e").answer == "b"


# --- client configs, compared with confluent-kafka --------------------------------------------------------

REAL = {"producer": confluent_kafka.Producer, "consumer": confluent_kafka.Consumer,
        "admin": confluent_kafka.admin.AdminClient}
SIM = {"producer": Producer, "consumer": Consumer, "admin": AdminClient}


_CONFIG_CLUSTER = Cluster(brokers=1, controllers=1)     # kept referenced: clients find it by its address


def created(kind, conf, real):
    """What creating the client raises (type and message), or "OK"."""
    base = {"bootstrap.servers": "127.0.0.1:1", "logger": _QUIET} if real else \
        {"bootstrap.servers": _CONFIG_CLUSTER.bootstrap_servers}
    if kind == "consumer":
        base["group.id"] = "g"
    try:
        (REAL if real else SIM)[kind](dict(base, **conf))
    except Exception as exc:       # noqa: BLE001 - comparing whatever each client raises
        if isinstance(exc, KafkaException) or isinstance(exc, confluent_kafka.KafkaException):
            return type(exc).__name__, exc.args[0].str()
        return type(exc).__name__, str(exc)
    return "OK", ""


CONFIGS = [
    # Leading whitespace: librdkafka left-trims string values and each enum / flags word, never the end.
    # Before: the simulator refused " snappy", " earliest", " murmur2", " plaintext", " classic".
    ("producer", {"compression.type": " snappy"}),
    ("producer", {"compression.type": "\tgzip"}),
    ("producer", {"compression.type": "snappy "}),
    ("producer", {"compression.type": " bogus"}),
    ("producer", {"compression.type": "  "}),
    ("producer", {"partitioner": " murmur2"}),
    ("producer", {"partitioner": " bogus"}),
    ("producer", {"security.protocol": " plaintext"}),
    ("consumer", {"auto.offset.reset": " earliest"}),
    ("consumer", {"auto.offset.reset": "earliest "}),
    ("consumer", {"isolation.level": " read_committed"}),
    ("consumer", {"group.protocol": " classic"}),
    ("producer", {"debug": " broker, topic"}),
    ("producer", {"debug": "broker ,topic"}),
    ("producer", {"debug": "broker,,topic"}),
    ("producer", {"debug": "+broker"}),
    ("producer", {"debug": "-broker"}),
    ("producer", {"debug": "broker, bogus"}),
    # delivery.report.only.error: the Producer reads it itself and wants a bool.
    # Before: "t", "1", 1, "TRUE" were accepted as librdkafka bools.
    ("producer", {"delivery.report.only.error": "t"}),
    ("producer", {"delivery.report.only.error": "true"}),
    ("producer", {"delivery.report.only.error": 1}),
    ("producer", {"delivery.report.only.error": None}),
    ("producer", {"delivery.report.only.error": True}),
    ("consumer", {"delivery.report.only.error": "t"}),
    ("consumer", {"delivery.report.only.error": "yes"}),
    ("admin", {"delivery.report.only.error": 1}),
    # partition.assignment.strategy is checked by every client type (rd_kafka_assignors_init).
    # Before: a producer or admin client took any value.
    ("producer", {"partition.assignment.strategy": "bogus"}),
    ("producer", {"partition.assignment.strategy": "range,cooperative-sticky"}),
    ("producer", {"partition.assignment.strategy": "RANGE"}),
    ("producer", {"partition.assignment.strategy": "range"}),
    ("admin", {"partition.assignment.strategy": "bogus"}),
    ("producer", {"partition.assignment.strategy": "bogus", "group.protocol": "consumer"}),
    ("producer", {"group.protocol.type": " consumer"}),
    ("consumer", {"partition.assignment.strategy": "range "}),
    ("consumer", {"partition.assignment.strategy": " range, roundrobin"}),
    ("consumer", {"partition.assignment.strategy": "range,,roundrobin"}),
    ("consumer", {"partition.assignment.strategy": "range, "}),
]


@pytest.mark.parametrize("kind, conf", CONFIGS, ids=[f"{k}-{c}" for k, c in CONFIGS])
def test_config_parsing_matches_confluent_kafka(kind, conf):
    assert created(kind, conf, real=False) == created(kind, conf, real=True)


def test_left_trimmed_values_are_what_the_client_uses():
    cfg = client_config({"compression.type": " lz4", "client.id": "  me", "partitioner": " murmur2",
                         "debug": "broker,+topic,-broker"}, "producer")
    assert (cfg["compression.type"], cfg["client.id"], cfg["partitioner"], cfg["debug"]) == (
        "lz4", "me", "murmur2", "topic")
    assert client_config({"client.rack": " r"}, "producer")["client.rack"] == " r"   # a KSTR: kept as given
    assert client_config({"compression.type": "  "}, "producer")["compression.type"] == "none"
    cfg = client_config({"group.id": "g", "partition.assignment.strategy": " roundrobin,,range"}, "consumer")
    assert assignment_strategies(cfg) == ["roundrobin", "range"]
