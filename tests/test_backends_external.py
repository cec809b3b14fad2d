"""The external backend without a cluster: settings from the environment / client.properties, the
per-learner namespace, and the thin client wrappers (checked against stand-in confluent-kafka objects).
The same wrappers against real brokers: tests/test_backends_local.py::test_external_backend_namespaces_*."""
from __future__ import annotations

import concurrent.futures
import re

import pytest
from confluent_kafka import Message, TopicPartition
from confluent_kafka.admin import ConfigResource, NewTopic
from hypothesis import given, strategies as st

from eventsim.backends import BackendUnavailable, NotSupportedByBackend, connect
from eventsim.backends import external as ext

ENV_VARS = ["KAFKA_BOOTSTRAP_SERVERS", "EVENTSIM_KAFKA_CONFIG", "EVENTSIM_NAMESPACE", "JUPYTERHUB_USER",
            *ext.ENV_SETTINGS]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)


# -- settings -----------------------------------------------------------------------------------------
def test_properties_file_syntax():
    text = """
    # Confluent Cloud style
    bootstrap.servers=pkc-1.example:9092
    security.protocol = SASL_SSL
    ! another comment
    sasl.mechanisms: PLAIN
    session.timeout.ms 45000
    """
    assert ext.parse_properties(text) == {"bootstrap.servers": "pkc-1.example:9092",
                                          "security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN",
                                          "session.timeout.ms": "45000"}


def test_java_jaas_config_becomes_librdkafka_credentials():
    conf = ext.from_java_properties({
        "sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule required "
                            "username='KEY1' password=\"se=cret\";",
        "sasl.mechanisms": "PLAIN", "client.dns.lookup": "use_all_dns_ips",
        "schema.registry.url": "https://sr", "basic.auth.user.info": "x:y", "acks": "all"})
    assert conf == {"sasl.username": "KEY1", "sasl.password": "se=cret", "sasl.mechanism": "PLAIN",
                    "acks": "all"}


def test_environment_wins_over_the_file_and_arguments_win_over_both(tmp_path):
    props = tmp_path / "client.properties"
    props.write_text("bootstrap.servers=file:9092\nsecurity.protocol=SSL\nsasl.username=fromfile\n")
    env = {"EVENTSIM_KAFKA_CONFIG": str(props), "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
           "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_PASSWORD": "pw"}
    conf = ext.load_config(env)
    assert conf == {"bootstrap.servers": "file:9092", "security.protocol": "SASL_SSL",
                    "sasl.username": "fromfile", "sasl.mechanism": "SCRAM-SHA-512", "sasl.password": "pw"}
    conf = ext.load_config(env, bootstrap_servers="arg:9092", config={"sasl.username": "arg"})
    assert (conf["bootstrap.servers"], conf["sasl.username"]) == ("arg:9092", "arg")


def test_missing_address_explains_the_variables():
    with pytest.raises(BackendUnavailable) as info:
        connect("external")
    assert "KAFKA_BOOTSTRAP_SERVERS" in str(info.value) and "EVENTSIM_KAFKA_CONFIG" in str(info.value)
    assert 'eventsim.connect("sim")' in str(info.value)


def test_unreadable_properties_file_is_named(tmp_path):
    with pytest.raises(BackendUnavailable, match="nope.properties"):
        ext.load_config({"EVENTSIM_KAFKA_CONFIG": str(tmp_path / "nope.properties")})


def test_unreachable_cluster_fails_fast_with_advice():
    with pytest.raises(BackendUnavailable, match=r"Could not reach the Kafka cluster at 127\.0\.0\.1:1 .*sim"):
        connect("external", bootstrap_servers="127.0.0.1:1", timeout=1)


# -- namespace ----------------------------------------------------------------------------------------
def test_namespace_comes_from_eventsim_namespace_then_jupyterhub_user():
    assert ext.namespace_from_env({}) == ""
    assert ext.namespace_from_env({"JUPYTERHUB_USER": "ana maría@uni.edu"}) == "ana-mar-a-uni.edu"
    assert ext.namespace_from_env({"JUPYTERHUB_USER": "bob", "EVENTSIM_NAMESPACE": "team1"}) == "team1"


@given(st.text(max_size=40))
def test_sanitized_namespaces_are_legal_topic_characters(name):
    clean = ext.sanitize_namespace(name)
    assert re.fullmatch(r"[a-zA-Z0-9._-]*", clean)
    assert not clean.startswith(".") and not clean.endswith(".")


@given(st.from_regex(r"[a-zA-Z0-9_-][a-zA-Z0-9._-]{0,20}", fullmatch=True),
       st.from_regex(r"[a-zA-Z0-9._-]{1,40}", fullmatch=True))
def test_prefix_round_trips_and_hides_other_namespaces(name, topic):
    ns = ext.Namespace(name)
    assert ns.add(topic) == name + "." + topic and ns.strip(ns.add(topic)) == topic
    assert ns.visible(ns.add(topic))
    outside = "other-" + topic
    assert ns.visible(outside) == outside.startswith(name + ".")
    assert ns.strip(outside) == outside or outside.startswith(name + ".")


def test_regex_subscriptions_get_the_prefix_after_the_caret():
    ns = ext.Namespace("a.b")
    assert ns.pattern("^orders-.*") == r"^a\.b\.orders-.*"
    assert ns.pattern("orders") == "a.b.orders"
    assert re.match(ns.pattern("^orders-.*"), "a.b.orders-eu") and not re.match(ns.pattern("^orders-.*"), "orders-eu")


def test_topic_partitions_keep_offset_and_epoch():
    ns = ext.Namespace("alice")
    tp = ns.add_tp(TopicPartition("orders", 2, 17, leader_epoch=4))
    assert (tp.topic, tp.partition, tp.offset, tp.leader_epoch) == ("alice.orders", 2, 17, 4)
    assert ns.strip_tp(tp).topic == "orders"


def test_group_and_transactional_ids_are_prefixed():
    kafka = connect("external", bootstrap_servers="h:9092", namespace="alice", check=False)
    conf = kafka.client_conf({"group.id": "billing", "transactional.id": "tx-1", "acks": "all"})
    assert (conf["group.id"], conf["transactional.id"], conf["acks"]) == ("alice.billing", "alice.tx-1", "all")
    assert conf["bootstrap.servers"] == "h:9092"


# -- wrappers, against stand-ins for confluent-kafka objects --------------------------------------------
class Recorder:
    """Records calls; ``answers`` gives return values by method name."""

    def __init__(self, **answers):
        self.calls = []
        self.answers = answers

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            answer = self.answers.get(name)
            return answer(*args, **kwargs) if callable(answer) else answer
        return call


def test_producer_prefixes_topics_and_strips_them_in_delivery_reports():
    raw = Recorder()
    producer = ext.NamespacedProducer(raw, ext.Namespace("alice"))
    reports = []
    producer.produce("orders", b"v", b"k", on_delivery=lambda err, msg: reports.append(msg.topic()))
    name, args, kwargs = raw.calls[0]
    assert (name, args[0], kwargs["value"], kwargs["key"]) == ("produce", "alice.orders", b"v", b"k")
    kwargs["on_delivery"](None, Message(topic="alice.orders"))
    assert reports == ["orders"]


def test_produce_batch_prefixes_the_topic_and_strips_it_in_every_delivery_report():
    def raw_batch(topic, messages, **kwargs):
        messages[1]["_error"] = "refused"
        return 1
    raw = Recorder(produce_batch=raw_batch)
    producer = ext.NamespacedProducer(raw, ext.Namespace("alice"))
    batch_reports, own_reports = [], []
    messages = [{"value": b"a", "callback": lambda err, msg: own_reports.append(msg.topic())}, {"value": b"b"}]
    assert producer.produce_batch("orders", messages,
                                  on_delivery=lambda err, msg: batch_reports.append(msg.topic())) == 1
    name, args, kwargs = raw.calls[0]
    assert (name, args[0]) == ("produce_batch", "alice.orders")
    args[1][0]["callback"](None, Message(topic="alice.orders"))
    kwargs["on_delivery"](None, Message(topic="alice.orders"))
    assert own_reports == ["orders"] and batch_reports == ["orders"]
    assert messages[1]["_error"] == "refused" and "_error" not in messages[0]


def test_consumer_subscribes_commits_and_reports_in_the_namespace():
    raw = Recorder(poll=lambda *a, **k: Message(topic="alice.orders", partition=1, offset=41),
                   assignment=lambda: [TopicPartition("alice.orders", 1)],
                   commit=lambda **k: k.get("offsets"))
    consumer = ext.NamespacedConsumer(raw, ext.Namespace("alice"))
    assigned = []
    consumer.subscribe(["orders", "^pay.*"], on_assign=lambda c, parts: assigned.append((c, parts)))
    name, args, kwargs = raw.calls[-1]
    assert args[0] == ["alice.orders", r"^alice\.pay.*"]
    kwargs["on_assign"](raw, [TopicPartition("alice.orders", 0)])
    assert assigned[0][0] is consumer and assigned[0][1][0].topic == "orders"
    msg = consumer.poll(1.0)
    assert msg.topic() == "orders"
    committed = consumer.commit(message=msg, asynchronous=False)
    assert [(tp.topic, tp.partition, tp.offset) for tp in committed] == [("orders", 1, 42)]
    assert raw.calls[-1][2]["offsets"][0].topic == "alice.orders"
    assert [tp.topic for tp in consumer.assignment()] == ["orders"]
    consumer.seek(TopicPartition("orders", 1, 5))
    assert raw.calls[-1][1][0].topic == "alice.orders"


def _done(value):
    future = concurrent.futures.Future()
    future.set_result(value)
    return future


def test_admin_prefixes_topics_and_returns_results_under_the_learners_names():
    raw = Recorder(create_topics=lambda topics, **k: {t.topic: _done(None) for t in topics},
                   delete_topics=lambda topics, **k: {t: _done(None) for t in topics},
                   describe_configs=lambda res, **k: {r: _done({"x": 1}) for r in res})
    admin = ext.NamespacedAdmin(raw, ext.Namespace("alice"))
    futures = admin.create_topics([NewTopic("orders", 3, 1, config={"retention.ms": "1000"})])
    sent = raw.calls[-1][1][0][0]
    assert (sent.topic, sent.num_partitions, sent.config) == ("alice.orders", 3, {"retention.ms": "1000"})
    assert list(futures) == ["orders"]
    assert list(admin.delete_topics(["orders"])) == ["orders"]
    resource = ConfigResource("TOPIC", "orders")
    result = admin.describe_configs([resource])
    assert list(result) == [resource] and raw.calls[-1][1][0][0].name == "alice.orders"
    assert resource.name == "orders"                          # the caller's object is left alone


def test_admin_lists_only_the_namespaces_groups():
    class Listing:
        def __init__(self, group_id):
            self.group_id = group_id

    class Result:
        valid = [Listing("alice.billing"), Listing("bob.billing"), Listing("alice.audit")]
        errors = []

    admin = ext.NamespacedAdmin(Recorder(list_consumer_groups=lambda **k: _done(Result())),
                                ext.Namespace("alice"))
    groups = admin.list_consumer_groups().result(timeout=1).valid
    assert [g.group_id for g in groups] == ["billing", "audit"]


def test_brokers_of_an_external_cluster_cannot_be_stopped():
    kafka = connect("external", bootstrap_servers="h:9092", check=False)
    with pytest.raises(NotSupportedByBackend, match="not possible on the 'external' backend \\(it is shared"):
        kafka.stop_broker(1)
    with pytest.raises(NotSupportedByBackend):
        kafka.start_broker(1)


def test_printing_shows_where_and_namespace_but_never_the_password():
    kafka = connect("external", bootstrap_servers="h:9092", namespace="alice", check=False,
                    config={"security.protocol": "SASL_SSL", "sasl.username": "u", "sasl.password": "hunter2"})
    for text in (repr(kafka), kafka._repr_html_()):
        assert "h:9092" in text and "alice" in text and "SASL_SSL" in text and "EVENTSIM_BACKEND" in text
        assert "hunter2" not in text
