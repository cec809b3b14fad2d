"""The testcontainers backend without a Docker engine: the nodes' environment (the apache/kafka image
contract), the choice of image, the ports, and the message when no engine answers. The real runs are in
``test_docker_backend.py`` (marker ``docker``)."""
from __future__ import annotations

import socket

import pytest

from eventsim.backends import BackendError, BackendUnavailable, connect
from eventsim.backends import testcontainers as tcb
from eventsim.backends.kraft import node_ids


def _envs(brokers=3, controllers=3):
    b, c = node_ids(brokers, controllers)
    ports = {i: 40000 + i for i in b}
    return {i: tcb.node_env(i, c, "CLUSTER-ID", brokers, "127.0.0.1", ports.get(i)) for i in b + c}


def test_course_shape_three_brokers_and_a_quorum_of_three_controllers():
    envs = _envs()
    voters = "101@controller-101:9093,102@controller-102:9093,103@controller-103:9093"
    assert sorted(envs) == [1, 2, 3, 101, 102, 103]
    assert {e["KAFKA_CONTROLLER_QUORUM_VOTERS"] for e in envs.values()} == {voters}
    assert {e["CLUSTER_ID"] for e in envs.values()} == {"CLUSTER-ID"}
    for i in (101, 102, 103):
        assert envs[i]["KAFKA_PROCESS_ROLES"] == "controller"
        assert envs[i]["KAFKA_LISTENERS"] == "CONTROLLER://:9093"
        assert "KAFKA_ADVERTISED_LISTENERS" not in envs[i]      # the image refuses it on a controller
    for i in (1, 2, 3):
        env = envs[i]
        assert env["KAFKA_PROCESS_ROLES"] == "broker" and env["KAFKA_NODE_ID"] == str(i)
        assert env["KAFKA_ADVERTISED_LISTENERS"] == "INTERNAL://broker-%d:19092,EXTERNAL://127.0.0.1:%d" % (i, 40000 + i)
        assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "INTERNAL"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
        assert env["KAFKA_LOG_INITIAL_TASK_DELAY_MS"] == "1000"


def test_light_start_has_one_broker_and_one_controller():
    envs = _envs(1, 1)
    assert sorted(envs) == [1, 101]
    assert envs[1]["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "101@controller-101:9093"
    assert envs[1]["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert envs[1]["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "1"


def test_env_names_follow_the_kafka_images_convention():
    assert tcb.env_name("transaction.state.log.min.isr") == "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"
    assert tcb.env_name("a_b-c.d") == "KAFKA_A__B___C_D"      # "_" -> "__", "-" -> "___"


def test_the_image_entrypoint_reads_names_back_the_same_way(tmp_path):
    """kafka/image/run turns the variables back into properties: run its loop on a few names."""
    import pathlib
    import subprocess
    run = (pathlib.Path(__file__).resolve().parents[1] / "kafka" / "image" / "run").read_text()
    loop = run[run.index("for name in"):run.index("done\n") + 5]
    script = 'props=%s\n: > "$props"\n%s' % (tmp_path / "p", loop)
    env = {"PATH": "/usr/bin:/bin", tcb.env_name("log.initial.task.delay.ms"): "1000",
           tcb.env_name("a_b-c.d"): "x", "KAFKA_HEAP_OPTS": "-Xmx1m", "OTHER": "y"}
    subprocess.run(["bash", "-c", script], env=env, check=True)
    assert sorted((tmp_path / "p").read_text().splitlines()) == ["a_b-c.d=x", "log.initial.task.delay.ms=1000"]


class FakeImages:
    def __init__(self, present, pull_error=None):
        self.present, self.pull_error, self.pulled = set(present), pull_error, []

    def get(self, name):
        import docker.errors
        if name not in self.present:
            raise docker.errors.ImageNotFound(name)

    def pull(self, name):
        self.pulled.append(name)
        if self.pull_error:
            raise self.pull_error
        self.present.add(name)


class FakeClient:
    def __init__(self, present=(), pull_error=None):
        self.images = FakeImages(present, pull_error)


OFFICIAL, COURSE = "apache/kafka:9.9.9", "eventsim/kafka:9.9.9"


@pytest.mark.parametrize("present, expected", [((OFFICIAL, COURSE), OFFICIAL), ((COURSE,), COURSE),
                                               ((OFFICIAL,), OFFICIAL)])
def test_an_image_already_in_the_engine_is_used_without_a_pull(present, expected):
    client = FakeClient(present)
    assert tcb.choose_image(client, env={}, version="9.9.9") == expected
    assert client.images.pulled == []


def test_the_official_image_is_pulled_when_no_image_is_there():
    client = FakeClient()
    assert tcb.choose_image(client, env={}, version="9.9.9") == OFFICIAL
    assert client.images.pulled == [OFFICIAL]


def test_a_failed_pull_says_how_to_build_the_course_image():
    import docker.errors
    client = FakeClient(pull_error=docker.errors.APIError("registry unreachable"))
    with pytest.raises(BackendUnavailable) as info:
        tcb.choose_image(client, env={}, version="9.9.9")
    assert "pulling it failed (registry unreachable)" in str(info.value)
    assert "make kafka-image" in str(info.value) and COURSE in str(info.value)


def test_eventsim_kafka_image_selects_the_image_and_the_course_image_is_never_pulled():
    client = FakeClient((OFFICIAL, "mine:1"))
    assert tcb.choose_image(client, env={"EVENTSIM_KAFKA_IMAGE": "mine:1"}, version="9.9.9") == "mine:1"
    assert tcb.choose_image(client, image="mine:1", env={}, version="9.9.9") == "mine:1"
    with pytest.raises(BackendUnavailable, match="has no image eventsim/kafka:9.9.9.*make kafka-image"):
        tcb.choose_image(client, env={"EVENTSIM_KAFKA_IMAGE": COURSE}, version="9.9.9")
    assert client.images.pulled == []
    with pytest.raises(BackendError, match="image= takes an image name"):
        tcb.choose_image(client, image=5, env={}, version="9.9.9")


def test_the_version_comes_from_kafka_pom():
    import re
    pom = (tcb.KAFKA_DIR / "pom.xml").read_text()
    assert tcb.pinned_kafka_version() == re.search(r"<kafka.version>(.+)</kafka.version>", pom).group(1)


@pytest.mark.parametrize("ports", [[1], [0, 1, 2], {1: 2000, 2: 2000, 3: 2001}, "9092", [True, 2000, 2001],
                                   {1: 2000, 2: 2001, 4: 2002}, [2000, 2001, 70000]])
def test_bad_ports_are_refused(ports):
    with pytest.raises(BackendError, match="ports= takes one distinct host port"):
        tcb.check_host_ports(ports, (1, 2, 3), "127.0.0.1")


def test_a_port_already_taken_is_refused_before_anything_starts():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(BackendError, match="Port %d on 127.0.0.1 \\(for broker 2\\) is already in use" % port):
            tcb.check_host_ports([1024 + (port + 1) % 60000, port, 1024 + (port + 2) % 60000], (1, 2, 3), "127.0.0.1")
    assert tcb.check_host_ports({1: port}, (1,), "127.0.0.1") == {1: port}


@pytest.mark.parametrize("kwargs", [{"brokers": 2}, {"controllers": 2}, {"brokers": True}, {"brokers": "3"}])
def test_cluster_shapes_other_than_1_or_3_are_refused(kwargs):
    with pytest.raises(BackendError, match="starts 1 or 3"):
        connect("testcontainers", **kwargs)


def test_without_docker_the_message_says_what_to_do(monkeypatch):
    monkeypatch.setattr(tcb, "docker_available", lambda: (False, "DockerException: no socket"))
    with pytest.raises(BackendUnavailable) as info:
        connect("testcontainers")
    text = str(info.value)
    assert "no Docker engine answered (DockerException: no socket)" in text
    assert "Start Docker" in text and 'connect("local")' in text and 'connect("sim")' in text
    assert info.value._render_traceback_() == ["BackendUnavailable: " + text]   # no traceback wall in Jupyter


def test_the_reaper_tells_a_live_process_from_a_gone_one():
    import os
    import subprocess
    from eventsim.backends.docker_reaper import alive
    assert alive(os.getpid())
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert not alive(proc.pid)
