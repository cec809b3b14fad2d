"""The testcontainers backend: the containers it would create (checked with stand-in container classes,
so no Docker is needed), its message without Docker, and a real run marked ``docker``."""
from __future__ import annotations

import pytest

from eventsim.backends import BackendUnavailable, NotSupportedByBackend, connect
from eventsim.backends import testcontainers as tcb


class FakeContainer:
    """Records what testcontainers' ``DockerContainer`` / ``KafkaContainer`` would be asked to do."""

    created = []

    def __init__(self, image, **kwargs):
        self.image, self.env, self.ports, self.aliases = image, {}, {}, []
        self.network = None
        self.kraft = False
        self.events = []
        FakeContainer.created.append(self)

    def with_env(self, key, value):
        self.env[key] = value
        return self

    def with_network(self, network):
        self.network = network
        return self

    def with_network_aliases(self, *aliases):
        self.aliases += aliases
        return self

    def with_bind_ports(self, container, host):
        self.ports[container] = host
        return self

    def with_kraft(self):
        self.kraft = True
        return self

    def start(self, timeout=None):
        self.events.append("start")
        return self

    def stop(self, timeout=None):
        self.events.append("stop" if timeout is None else "stop(%s)" % timeout)

    def kill(self):
        self.events.append("kill")

    def get_bootstrap_server(self):
        return "localhost:32768"

    def get_wrapped_container(self):
        return self


class FakeNetwork:
    def __init__(self):
        self.removed = False

    def create(self):
        return self

    def remove(self):
        self.removed = True


@pytest.fixture
def fake_docker(monkeypatch):
    """Replace testcontainers and the broker-readiness wait; record every container created."""
    FakeContainer.created = []
    waited = []
    fakes = {"KafkaContainer": FakeContainer, "DockerContainer": FakeContainer, "Network": FakeNetwork,
             "wait_for_logs": lambda container, text, timeout: waited.append((container, text)),
             "docker_host": lambda: "localhost"}
    monkeypatch.setattr(tcb, "_tc", lambda: fakes)
    monkeypatch.setattr(tcb, "require_docker", lambda: None)
    monkeypatch.setattr(tcb.TestcontainersKafka, "_wait_until", lambda self, *a, **k: None)
    return waited


def test_three_node_cluster_wiring(fake_docker):
    kafka = connect("testcontainers", brokers=3, quiet=True)
    nodes = FakeContainer.created
    assert [c.image for c in nodes] == [tcb.CLUSTER_IMAGE] * 3
    assert [c.env["KAFKA_NODE_ID"] for c in nodes] == ["1", "2", "3"]
    assert len({c.env["CLUSTER_ID"] for c in nodes}) == 1
    voters = "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
    assert all(c.env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == voters for c in nodes)
    assert [c.aliases for c in nodes] == [["kafka-1"], ["kafka-2"], ["kafka-3"]]
    assert len({id(c.network) for c in nodes}) == 1 and nodes[0].network is not None
    host_ports = [c.ports[tcb.CLIENT_PORT] for c in nodes]
    assert len(set(host_ports)) == 3
    for i, c in enumerate(nodes, start=1):
        assert c.env["KAFKA_ADVERTISED_LISTENERS"] == "INTERNAL://kafka-%d:19092,EXTERNAL://localhost:%d" % (
            i, host_ports[i - 1])
        assert c.env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert c.env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "INTERNAL"
        assert c.env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert c.env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
        assert c.env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert c.env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
        assert c.events == ["start"]
    assert [text for _, text in fake_docker] == ["Kafka Server started"] * 3
    assert kafka.bootstrap_servers == ",".join("localhost:%d" % p for p in host_ports)
    assert "Docker" in repr(kafka) and tcb.CLUSTER_IMAGE in repr(kafka)


def test_stop_and_start_act_on_the_nodes_container(fake_docker):
    kafka = connect("testcontainers", brokers=3, quiet=True)
    node2 = FakeContainer.created[1]
    kafka.stop_broker(2)
    kafka.start_broker(2)
    kafka.stop_broker(2, clean=True)
    assert node2.events == ["start", "kill", "start", "stop(60)"]
    network = kafka.network
    kafka.close()
    assert all(c.events[-1] == "stop" for c in FakeContainer.created) and network.removed
    assert "closed" in repr(kafka)


def test_single_node_uses_kafka_container_in_kraft_mode(fake_docker):
    kafka = connect("testcontainers", quiet=True)
    (node,) = FakeContainer.created
    assert node.image == tcb.SINGLE_NODE_IMAGE and node.kraft
    assert node.env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert node.env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert node.env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "1"
    assert kafka.bootstrap_servers == "localhost:32768"
    assert kafka.client_conf({})["bootstrap.servers"] == "localhost:32768"
    with pytest.raises(NotSupportedByBackend, match="brokers=3"):
        kafka.stop_broker(1)


def test_env_names_follow_the_kafka_images_convention():
    assert tcb.env_name("transaction.state.log.min.isr") == "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"


def test_without_docker_the_message_says_what_to_do(monkeypatch):
    monkeypatch.setattr(tcb, "docker_available", lambda: (False, "DockerException: no socket"))
    with pytest.raises(BackendUnavailable) as info:
        connect("testcontainers")
    text = str(info.value)
    assert "no Docker engine answered (DockerException: no socket)" in text
    assert "Start Docker" in text and 'connect("local")' in text and 'connect("sim")' in text
    assert info.value._render_traceback_() == ["BackendUnavailable: " + text]   # no traceback wall in Jupyter


@pytest.mark.docker
def test_real_three_broker_cluster_in_docker_fails_over():
    with connect("testcontainers", brokers=3, quiet=True) as kafka:
        from confluent_kafka.admin import NewTopic
        kafka.admin().create_topics([NewTopic("failover", 1, 3)])["failover"].result(timeout=60)
        producer = kafka.Producer({"acks": "all"})
        producer.produce("failover", b"x")
        assert producer.flush(60) == 0
        (topic,) = [t for t in kafka.snapshot()["topics"] if t["name"] == "failover"]
        leader = topic["partitions"][0]["leader"]
        kafka.stop_broker(leader)
        (topic,) = [t for t in kafka.snapshot()["topics"] if t["name"] == "failover"]
        assert topic["partitions"][0]["leader"] not in (leader, -1)
        kafka.start_broker(leader)
        (topic,) = [t for t in kafka.snapshot()["topics"] if t["name"] == "failover"]
        assert leader in topic["partitions"][0]["isr"]
