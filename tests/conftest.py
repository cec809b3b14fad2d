"""Shared fixtures, and the policy for tests that need real Kafka or Docker.

Markers (declared in pyproject.toml):

* ``kafka``: needs the local real-Kafka backend (Java 17+ and the broker jars from ``make kafka-jars``).
  Where those are missing the test is *skipped* with the reason, except when ``EVENTSIM_REQUIRE_KAFKA=1``
  (set by CI), where it *fails*: CI must never go green by skipping real Kafka.
* ``docker``: needs a Docker engine and a Kafka image (the testcontainers backend); skipped with the reason
  where none answers, except when ``EVENTSIM_REQUIRE_DOCKER=1`` (set by CI), where it *fails*. These tests
  run last, so the session's Docker cluster is started once, after everything else.

Fixtures:

* ``docker_kafka`` (session): ONE cluster of the course shape in Docker containers (the testcontainers
  backend), for every ``docker`` test that needs one; the same rules as ``local_kafka``.
* ``local_kafka`` (session): ONE local Kafka cluster of the course shape (3 brokers, 3 controllers) shared by every ``kafka`` test of the run,
  always shut down at the end. Tests must leave it as they found it: unique topic / group names
  (``unique_name``), delete what they create (``make_topic`` does), restart brokers they stop.
* ``unique_name``: ``unique_name("orders")`` -> ``"orders-3f9c2a1b"``.
* ``make_topic``: ``make_topic(partitions=3, replication_factor=3, config=None, name=None)`` creates a
  topic on ``local_kafka`` and deletes it after the test; returns its name.
* ``on_both``: ``on_both(scenario, seed=0) -> (simulator's observation, real Kafka's observation)`` for a
  differential scenario (``tests/differential_scenarios.py``, ``tests/campaign/``), on ``local_kafka``;
  ``test_differential.py`` runs its scenarios on ``docker_kafka`` too.
"""
from __future__ import annotations

import os
import uuid

import pytest

REQUIRE_KAFKA = os.environ.get("EVENTSIM_REQUIRE_KAFKA") == "1"
REQUIRE_DOCKER = os.environ.get("EVENTSIM_REQUIRE_DOCKER") == "1"


def local_kafka_missing():
    """Why the local backend cannot run here (the backend's own message), or None if it can."""
    from eventsim.backends import BackendUnavailable
    from eventsim.backends.local import find_java, find_kafka_libs
    try:
        find_java()
        find_kafka_libs()
    except BackendUnavailable as exc:
        return str(exc)
    return None


def _skip_or_fail(reason, required, flag, what):
    """Skip the current test saying ``reason``, or fail it where ``flag`` requires ``what`` (CI)."""
    if reason is None:
        return
    if required:
        pytest.fail("%s=1 but %s cannot run: %s" % (flag, what, reason), pytrace=False)
    pytest.skip("%s cannot run here: %s" % (what, reason))


def skip_or_fail_without_kafka():
    """Skip (or, with EVENTSIM_REQUIRE_KAFKA=1, fail) the current test if real Kafka cannot run."""
    _skip_or_fail(local_kafka_missing(), REQUIRE_KAFKA, "EVENTSIM_REQUIRE_KAFKA", "real Kafka")


def docker_missing():
    """Why the testcontainers backend cannot run here (no engine, no image), or None if it can."""
    from eventsim.backends import testcontainers as tcb
    ok, reason = tcb.docker_available()
    if not ok:
        return "no Docker engine answers (%s)" % reason
    version = tcb.pinned_kafka_version()
    wanted = os.environ.get("EVENTSIM_KAFKA_IMAGE")
    images = [wanted] if wanted else [tcb.OFFICIAL_IMAGE.format(version=version), tcb.COURSE_IMAGE.format(version=version)]
    client = tcb.docker_client()
    try:      # tests never pull: CI builds the course's image first (make kafka-image)
        if not any(tcb._has_image(client, image) for image in images):
            return "the Docker engine has no image %s (make kafka-image builds %s)" % (
                " or ".join(images), tcb.COURSE_IMAGE.format(version=version))
    finally:
        client.close()
    return None


def skip_or_fail_without_docker():
    """Skip (or, with EVENTSIM_REQUIRE_DOCKER=1, fail) the current test if Kafka in Docker cannot run."""
    _skip_or_fail(docker_missing(), REQUIRE_DOCKER, "EVENTSIM_REQUIRE_DOCKER", "the testcontainers backend")


def pytest_collection_modifyitems(items):
    """Docker tests last (stable order otherwise): the session's Docker cluster starts once, late."""
    items.sort(key=lambda item: item.get_closest_marker("docker") is not None)


def pytest_runtest_setup(item):
    if item.get_closest_marker("kafka") is not None:
        skip_or_fail_without_kafka()
    if item.get_closest_marker("docker") is not None:
        skip_or_fail_without_docker()


def _session_cluster(backend):
    """A cluster of the course shape (3 brokers, 3 controllers) that is always closed at the end."""
    import eventsim
    kafka = eventsim.connect(backend, brokers=3, controllers=3, quiet=True)
    try:
        yield kafka
    finally:
        kafka.close()


@pytest.fixture(scope="session")
def local_kafka():
    """One local Kafka cluster (3 brokers, 3 controllers) for the whole session (see the module docstring)."""
    skip_or_fail_without_kafka()
    yield from _session_cluster("local")


@pytest.fixture(scope="session")
def docker_kafka():
    """One cluster of the course shape in Docker (3 brokers, 3 controllers) for the whole session."""
    skip_or_fail_without_docker()
    yield from _session_cluster("testcontainers")


def wait_for_topic(kafka, name, partitions, timeout=30.0):
    """Wait until every broker's metadata shows the topic with a leader for each partition.

    ``CreateTopics`` returns once the controller has committed the topic; the brokers learn it a moment
    later, so a Metadata request right after may not list it yet.
    """
    import time
    admin = kafka.admin_client()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = 0
        for _ in kafka.alive_brokers():       # metadata comes from any broker: ask until all agree
            topic = admin.list_topics(name, timeout=10).topics.get(name)
            if topic and topic.error is None and len(topic.partitions) == partitions and all(
                    p.leader >= 0 for p in topic.partitions.values()):
                seen += 1
        if seen == len(kafka.alive_brokers()):
            return
        time.sleep(0.1)
    raise AssertionError("topic %s did not appear in the cluster metadata within %.0f s" % (name, timeout))


@pytest.fixture
def unique_name():
    def make(prefix="t"):
        return "%s-%s" % (prefix, uuid.uuid4().hex[:8])
    return make


@pytest.fixture
def make_topic(local_kafka, unique_name):
    """Create topics on ``local_kafka`` for one test; they are deleted afterwards, even if it fails."""
    from confluent_kafka.admin import NewTopic
    admin = local_kafka.admin()
    created = []

    def make(partitions=1, replication_factor=3, config=None, name=None):
        name = name or unique_name("topic")
        admin.create_topics([NewTopic(name, partitions, replication_factor, config=config or {})],
                            operation_timeout=30)[name].result(timeout=60)
        created.append(name)
        wait_for_topic(local_kafka, name, partitions)
        return name

    yield make
    if created:
        for future in admin.delete_topics(created, operation_timeout=30).values():
            try:
                future.result(timeout=60)
            except Exception:  # noqa: BLE001 - a broker may be down in a failing test; the cluster dies anyway
                pass


def observe(scenario, kafka, unique_name):
    """Run one differential scenario on one backend handle and clean up what it created.

    The cyclic garbage collector is off while it runs and collects on this thread afterwards: a
    confluent-kafka client left in a reference cycle, collected while Python code runs on one of
    librdkafka's own threads (an AdminClient's result callback), would call ``rd_kafka_destroy()`` from that
    thread, and librdkafka aborts the whole process then."""
    import gc
    from differential_scenarios import Run
    run = Run(kafka, unique_name)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return scenario(run)
    finally:
        try:
            gc.collect()
            run.cleanup()
            gc.collect()        # and the cleanup's own admin client
        finally:
            if was_enabled:
                gc.enable()


def on_both_with(real_kafka, unique_name):
    """``on_both(scenario, seed=0) -> (simulator's observation, real Kafka's observation)``: a fresh
    simulated 3-broker cluster per call, and ``real_kafka`` (a session's real cluster)."""
    import eventsim

    def both(scenario, seed=0):
        sim = observe(scenario, eventsim.connect("sim", brokers=3, seed=seed), unique_name)
        real = observe(scenario, real_kafka, unique_name)
        return sim, real
    return both


@pytest.fixture
def on_both(local_kafka, unique_name):
    """:func:`on_both_with` the session's local cluster."""
    return on_both_with(local_kafka, unique_name)
