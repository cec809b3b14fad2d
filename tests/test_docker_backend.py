"""The testcontainers backend for real: Kafka in Docker containers started from the course's image (or any
image with the apache/kafka environment contract). Marker ``docker``: skipped where no engine or image is
there, failed instead with ``EVENTSIM_REQUIRE_DOCKER=1`` (CI, after ``make kafka-image``).

The session's Docker cluster (``docker_kafka``, the course shape) serves most tests; the light start, a
broken image and the watchdog start clusters of their own. The differential suite runs on it too
(``test_differential.py``: among others a leader crash with no acknowledged record lost, and a paused
leader fenced and back), and every notebook (``test_course_on_real_kafka.py``).
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

import differential_scenarios as scenarios
from conftest import on_both_with
from eventsim.backends import BackendError, NotSupportedByBackend
from eventsim.backends import testcontainers as tcb

pytestmark = pytest.mark.docker


def _labelled(handle_id):
    """``(container names, network names)`` that carry the handle's label, in the engine."""
    client = tcb.docker_client()
    try:
        selector = {"label": "%s=%s" % (tcb.LABEL, handle_id)}
        return ([c.name for c in client.containers.list(all=True, filters=selector)],
                [n.name for n in client.networks.list(filters=selector)])
    finally:
        client.close()


def test_the_course_shape_starts_in_docker(docker_kafka):
    snap = docker_kafka.snapshot()
    assert [b["id"] for b in snap["brokers"]] == [1, 2, 3] and all(b["alive"] for b in snap["brokers"])
    controllers = snap["controllers"]
    assert [c["id"] for c in controllers] == [101, 102, 103] and all(c["alive"] for c in controllers)
    assert sum(c["active"] for c in controllers) == 1 and snap["controller"] in (101, 102, 103)
    names, networks = _labelled(docker_kafka.handle_id)
    assert len(names) == 6 and sorted(networks) == [docker_kafka.name + "-clients", docker_kafka.name + "-cluster"]
    assert "Docker containers" in repr(docker_kafka) and docker_kafka.image in repr(docker_kafka)


def test_produce_and_consume_through_the_published_ports(docker_kafka, unique_name):
    from confluent_kafka.admin import NewTopic
    topic = unique_name("orders")
    admin = docker_kafka.admin()      # kept referenced: a collected AdminClient fails its futures
    admin.create_topics([NewTopic(topic, 3, 3)])[topic].result(timeout=60)
    producer = docker_kafka.Producer({"acks": "all", "enable.idempotence": True})
    for i in range(30):
        producer.produce(topic, key=b"k%d" % (i % 5), value=b"v%d" % i)
    assert producer.flush(60) == 0
    consumer = docker_kafka.Consumer({"group.id": unique_name("g"), "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    seen, deadline = [], time.monotonic() + 60
    while len(seen) < 30 and time.monotonic() < deadline:
        msg = consumer.poll(1)
        if msg is not None and msg.error() is None:
            seen.append(msg.value())
    consumer.close()
    assert sorted(seen) == sorted(b"v%d" % i for i in range(30))
    admin.delete_topics([topic])[topic].result(timeout=60)


def test_an_isolated_leader_behaves_as_on_the_simulator(docker_kafka, unique_name):
    sim, real = on_both_with(docker_kafka, unique_name)(scenarios.isolated_leader_is_fenced_and_rejoins_after_heal)
    assert sim == real
    assert real["moved"] and real["new_leader_from_old_isr"] and real["isolated_left_isr"]
    assert real["isolate_twice"] == -172          # _STATE: already isolated
    assert real["rejoined"] and real["delivery_errors"] == []
    assert real["log"] == ["before-%d" % i for i in range(10)] + ["after-%d" % i for i in range(10)]


def test_losing_a_controller_elects_another(docker_kafka):
    active = docker_kafka.active_controller()
    docker_kafka.stop_controller(active)
    try:
        assert docker_kafka.active_controller() not in (None, active)
        assert [c["alive"] for c in docker_kafka.snapshot()["controllers"]].count(False) == 1
    finally:
        docker_kafka.start_controller(active)
    assert all(c["alive"] for c in docker_kafka.snapshot()["controllers"])


def test_slow_broker_works_only_where_netem_does(docker_kafka):
    """netem needs the kernel's sch_netem: where it is missing the backend says so instead of pretending."""
    caps = docker_kafka.capabilities()
    if caps["slow_broker"]:
        docker_kafka.slow_broker(1, 30)
        docker_kafka.heal()
    else:
        with pytest.raises(NotSupportedByBackend, match="netem"):
            docker_kafka.slow_broker(1, 30)
    with pytest.raises(ValueError, match="latency in ms"):
        docker_kafka.slow_broker(1, -5)
    with pytest.raises(NotSupportedByBackend, match="drop_responses"):
        docker_kafka.drop_responses("t")


def test_the_light_start_one_broker_one_controller():
    with tcb.TestcontainersKafka(brokers=1, controllers=1, quiet=True) as kafka:
        snap = kafka.snapshot()
        assert [b["id"] for b in snap["brokers"]] == [1] and [c["id"] for c in snap["controllers"]] == [101]
        producer = kafka.Producer({})
        from confluent_kafka.admin import NewTopic
        admin = kafka.admin()
        admin.create_topics([NewTopic("light", 1, 1)])["light"].result(timeout=60)
        producer.produce("light", b"x")
        assert producer.flush(30) == 0
        handle_id = kafka.handle_id
    assert _labelled(handle_id) == ([], [])
    with pytest.raises(BackendError, match="closed"):
        kafka.snapshot()


def test_an_image_without_the_contract_is_a_clear_error():
    """The plain Debian base image has no Kafka and no command: Docker refuses to start it, and the error
    names the node and the image, at once."""
    with pytest.raises(BackendError, match="Docker could not start Kafka node 101 from eventsim/debian-base"):
        tcb.TestcontainersKafka(brokers=1, controllers=1, image="eventsim/debian-base:bookworm", quiet=True)


def test_a_node_that_exits_at_start_fails_with_its_last_log_lines():
    """A setting Kafka refuses makes every node exit at start: the error quotes Kafka's own complaint from
    the container's log instead of waiting out the start timeout."""
    began = time.monotonic()
    with pytest.raises(BackendError) as info:
        tcb.TestcontainersKafka(brokers=1, controllers=1, broker_config={"num.io.threads": "zero"}, quiet=True)
    text = str(info.value)
    assert "exited with code 1" in text and "environment contract" in text
    assert "num.io.threads" in text and "zero" in text
    assert time.monotonic() - began < 90


def test_a_killed_owner_leaves_no_container_behind():
    """SIGKILL the Python process that started a cluster (no finalizer runs): the watchdog removes every
    container and network of its handle."""
    code = ("import json, eventsim\n"
            "k = eventsim.connect('testcontainers', brokers=1, controllers=1, quiet=True)\n"
            "print(json.dumps(k.handle_id), flush=True)\n"
            "import time; time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        handle_id = json.loads(proc.stdout.readline())
        assert len(_labelled(handle_id)[0]) == 2
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 60
    while _labelled(handle_id) != ([], []) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _labelled(handle_id) == ([], [])
