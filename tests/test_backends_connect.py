"""``eventsim.backends.connect``: choosing a backend, and the ``sim`` handle's wiring to the simulator."""
from __future__ import annotations

import sys
import types

import pytest

from eventsim.backends import BackendError, connect, default_backend, with_bootstrap
from eventsim.clock import EPOCH_MS


class FakeCluster:
    def __init__(self, brokers=3, seed=0, name=None, config=None, controllers=3, start_time_ms=None):
        self.brokers = {i: object() for i in range(1, brokers + 1)}
        self.args = (brokers, seed, name, config, controllers, start_time_ms)
        self.quorum = types.SimpleNamespace(nodes={100 + i: object() for i in range(1, controllers + 1)})
        self.bootstrap_servers = "sim://%s" % (name or "c1")
        self.calls = []

    def snapshot(self, **kwargs):
        self.calls.append(("snapshot", kwargs))
        return {"backend": "sim"}

    def stop_broker(self, broker_id, clean=False, wait=True):
        self.calls.append(("stop_broker", broker_id, clean, wait))

    def start_broker(self, broker_id, wait=True):
        self.calls.append(("start_broker", broker_id, wait))


class FakeClient:
    def __init__(self, conf):
        self.conf = conf


@pytest.fixture
def fake_sim(monkeypatch):
    """Stand-ins for eventsim.cluster / producer / consumer / admin, so only the wiring is tested."""
    for module, name, cls in (("cluster", "Cluster", FakeCluster), ("producer", "Producer", FakeClient),
                              ("consumer", "Consumer", FakeClient), ("admin", "AdminClient", FakeClient)):
        fake = types.ModuleType("eventsim." + module)
        setattr(fake, name, cls)
        monkeypatch.setitem(sys.modules, "eventsim." + module, fake)


def test_default_backend_is_sim_and_follows_the_environment():
    assert default_backend({}) == "sim"
    assert default_backend({"EVENTSIM_BACKEND": " Local "}) == "local"


def test_connect_reads_eventsim_backend(monkeypatch, fake_sim):
    monkeypatch.setenv("EVENTSIM_BACKEND", "sim")
    assert connect().backend == "sim"
    monkeypatch.setenv("EVENTSIM_BACKEND", "kafka-in-the-cloud")
    with pytest.raises(BackendError, match=r"Unknown eventsim backend 'kafka-in-the-cloud'.*sim, local"):
        connect()


def test_sim_handle_wraps_a_new_cluster_and_fills_in_bootstrap_servers(fake_sim):
    kafka = connect("sim", brokers=3, seed=7, name="lab1")
    assert kafka.cluster.args == (3, 7, "lab1", None, 3, EPOCH_MS)
    assert connect("sim", start_time_ms=123).cluster.args[-1] == 123
    assert kafka.bootstrap_servers == "sim://lab1"
    assert kafka.Producer({"acks": "all"}).conf == {"acks": "all", "bootstrap.servers": "sim://lab1"}
    assert kafka.Consumer({"group.id": "g"}).conf["bootstrap.servers"] == "sim://lab1"
    assert kafka.admin().conf == {"bootstrap.servers": "sim://lab1"}
    assert kafka.Producer({"bootstrap.servers": "sim://other"}).conf["bootstrap.servers"] == "sim://other"


def test_sim_handle_passes_faults_and_snapshots_to_the_cluster(fake_sim):
    with connect("sim") as kafka:
        kafka.stop_broker(2)
        kafka.start_broker(2, wait=False)
        kafka.snapshot(records=True, max_records=5)
    assert kafka.cluster.calls == [("stop_broker", 2, False, True), ("start_broker", 2, False),
                                   ("snapshot", {"records": True, "max_records": 5, "include_internal": False})]


def test_printing_the_handle_says_backend_place_and_how_to_switch(fake_sim):
    kafka = connect("sim", seed=3)
    for text in (repr(kafka), kafka._repr_html_()):
        assert "sim" in text and "seed=3" in text and "EVENTSIM_BACKEND" in text and "local" in text


def test_with_bootstrap_keeps_explicit_addresses():
    assert with_bootstrap(None, "a:1") == {"bootstrap.servers": "a:1"}
    assert with_bootstrap({"metadata.broker.list": "b:2"}, "a:1") == {"metadata.broker.list": "b:2"}
    original = {"acks": 1}
    with_bootstrap(original, "a:1")
    assert original == {"acks": 1}


def test_real_simulator_round_trip():
    """The sim handle with eventsim's own clients (runs once those modules exist)."""
    for module in ("eventsim.cluster", "eventsim.producer", "eventsim.consumer", "eventsim.admin"):
        pytest.importorskip(module, reason="%s is not written yet" % module)
    from eventsim.admin import NewTopic
    kafka = connect("sim", brokers=3, seed=0)
    kafka.admin().create_topics([NewTopic("orders", 1, 3)])["orders"].result()
    producer = kafka.Producer({})
    producer.produce("orders", b"v")
    assert producer.flush(10) == 0
    consumer = kafka.Consumer({"group.id": "g", "auto.offset.reset": "earliest"})
    consumer.subscribe(["orders"])
    msg = None
    for _ in range(50):
        msg = consumer.poll(0.1)
        if msg is not None and msg.error() is None:
            break
    assert msg is not None and msg.value() == b"v"
    consumer.close()
    snap = kafka.snapshot()
    assert [t["name"] for t in snap["topics"]] == ["orders"]
    kafka.stop_broker(snap["topics"][0]["partitions"][0]["leader"])
