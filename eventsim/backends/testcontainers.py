"""The ``testcontainers`` backend: real Kafka brokers in Docker containers.

* ``brokers=1``: testcontainers' ``KafkaContainer`` in KRaft mode (``.with_kraft()``), image
  :data:`SINGLE_NODE_IMAGE` (Confluent Platform 8.1 = Apache Kafka 4.1), the broker settings of the local
  backend passed as ``KAFKA_*`` environment variables.
* ``brokers=3``: a KRaft cluster of three combined broker+controller nodes from the official
  ``apache/kafka`` image (:data:`CLUSTER_IMAGE`), generic ``DockerContainer`` objects on one Docker
  network. Inside the network the nodes talk over ``kafka-<id>:19092`` (brokers) and
  ``kafka-<id>:9093`` (controllers); the host reaches node ``i`` on a fixed free host port that is
  also its advertised ``EXTERNAL`` listener, so clients on the host can follow the metadata.
  ``stop_broker(i)`` kills (or stops) the node's container, ``start_broker(i)`` starts it again on its data.

Without a Docker engine ``connect("testcontainers")`` raises :class:`BackendUnavailable` saying so.
"""
from __future__ import annotations

import time

from .base import BackendError, BackendUnavailable, NotSupportedByBackend, RealKafkaBackend
from .local import free_ports, new_cluster_id, simulator_like_config

SINGLE_NODE_IMAGE = "confluentinc/cp-kafka:8.1.1"
CLUSTER_IMAGE = "apache/kafka:4.1.2"
CLIENT_PORT = 9092       # EXTERNAL listener inside each container (published on the host)
BROKER_PORT = 19092      # INTERNAL listener, broker to broker, inside the Docker network
CONTROLLER_PORT = 9093   # CONTROLLER listener, the KRaft quorum


def _tc():
    """testcontainers' classes, imported when used (tests replace this function with fakes)."""
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.docker_client import DockerClient
    from testcontainers.core.network import Network
    from testcontainers.core.waiting_utils import wait_for_logs
    return {"KafkaContainer": KafkaContainer, "DockerContainer": DockerContainer, "Network": Network,
            "wait_for_logs": wait_for_logs, "docker_host": lambda: DockerClient().host()}


def docker_available():
    """``(True, "")`` if a Docker engine answers, else ``(False, reason)``."""
    try:
        import docker
        client = docker.from_env(timeout=5)
        client.ping()
        client.close()
        return True, ""
    except Exception as exc:  # noqa: BLE001 - any failure means "no usable Docker here"
        return False, "%s: %s" % (type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")


def require_docker():
    ok, reason = docker_available()
    if not ok:
        raise BackendUnavailable(
            "The 'testcontainers' backend runs Kafka in Docker containers, but no Docker engine answered "
            "(%s). Start Docker (or set DOCKER_HOST to a running engine) and try again; or use "
            "eventsim.connect(\"local\") for real Kafka brokers as Java processes without Docker, or "
            "eventsim.connect(\"sim\") for the simulator." % reason)


def env_name(prop):
    """A broker property as the Kafka images read it from the environment: ``a.b.c`` -> ``KAFKA_A_B_C``."""
    return "KAFKA_" + prop.upper().replace(".", "_")


def broker_env(n):
    """The simulator-like broker settings (see ``local.simulator_like_config``) as ``KAFKA_*`` variables."""
    return {env_name(k): str(v) for k, v in simulator_like_config(n).items()}


def node_env(node_id, n, host, host_port, cluster_id):
    """Environment of node ``node_id`` of the ``n``-node ``apache/kafka`` cluster."""
    voters = ",".join("%d@kafka-%d:%d" % (i, i, CONTROLLER_PORT) for i in range(1, n + 1))
    env = {
        "CLUSTER_ID": cluster_id,
        "KAFKA_NODE_ID": str(node_id),
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": voters,
        "KAFKA_LISTENERS": "INTERNAL://:%d,CONTROLLER://:%d,EXTERNAL://:%d"
                           % (BROKER_PORT, CONTROLLER_PORT, CLIENT_PORT),
        "KAFKA_ADVERTISED_LISTENERS": "INTERNAL://kafka-%d:%d,EXTERNAL://%s:%d"
                                      % (node_id, BROKER_PORT, host, host_port),
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT,EXTERNAL:PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "INTERNAL",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LOG_DIRS": "/tmp/kraft-combined-logs",
        "KAFKA_HEAP_OPTS": "-Xmx384m -Xms128m",
    }
    env.update(broker_env(n))
    return env


def single_node_container(tc, image):
    """A ``KafkaContainer`` in KRaft mode with the simulator-like settings (not started)."""
    container = tc["KafkaContainer"](image).with_kraft()
    for key, value in broker_env(1).items():
        container.with_env(key, value)
    return container


def cluster_containers(tc, n, image, network, host, host_ports, cluster_id):
    """``{node id: DockerContainer}`` of an ``n``-node KRaft cluster on ``network`` (not started)."""
    containers = {}
    for i in range(1, n + 1):
        container = (tc["DockerContainer"](image)
                     .with_network(network)
                     .with_network_aliases("kafka-%d" % i)
                     .with_bind_ports(CLIENT_PORT, host_ports[i]))
        for key, value in node_env(i, n, host, host_ports[i], cluster_id).items():
            container.with_env(key, value)
        containers[i] = container
    return containers


class TestcontainersKafka(RealKafkaBackend):
    """Real Kafka in Docker (module docstring). ``image`` overrides the pinned image."""

    __test__ = False   # not a pytest test class, despite its name
    backend = "testcontainers"

    def __init__(self, brokers=1, image=None, startup_timeout=180.0, quiet=False):
        if brokers not in (1, 3):
            raise BackendError("The 'testcontainers' backend starts 1 or 3 brokers; got brokers=%r." % (brokers,))
        require_docker()
        self.n = brokers
        self.quiet = quiet
        self.tc = _tc()
        self.network = None
        self.containers = {}
        self.stopped = set()
        self._admin = None
        try:
            if brokers == 1:
                self._start_single(image or SINGLE_NODE_IMAGE, startup_timeout)
            else:
                self._start_cluster(image or CLUSTER_IMAGE, startup_timeout)
            self._wait_until(lambda md: len(md.brokers) == self.n, startup_timeout, "all brokers up")
        except BaseException:
            self.close()
            raise

    def _say(self, text):
        if not self.quiet:
            print(text, flush=True)

    def _start_single(self, image, timeout):
        self.image = image
        self._say("Starting Kafka in Docker (%s, KRaft, 1 broker) ..." % image)
        container = single_node_container(self.tc, image)
        self.containers[1] = container
        container.start(timeout=int(timeout))
        self.bootstrap_servers = container.get_bootstrap_server()

    def _start_cluster(self, image, timeout):
        self.image = image
        self._say("Starting Kafka in Docker (%s, KRaft, %d brokers) ..." % (image, self.n))
        host = self.tc["docker_host"]()
        self.host_ports = dict(zip(range(1, self.n + 1), free_ports(self.n)))
        self.network = self.tc["Network"]().create()
        self.containers = cluster_containers(self.tc, self.n, image, self.network, host, self.host_ports,
                                             new_cluster_id())
        for container in self.containers.values():   # all first: the quorum needs a majority to start
            container.start()
        for container in self.containers.values():
            self.tc["wait_for_logs"](container, "Kafka Server started", timeout=timeout)
        self.bootstrap_servers = ",".join("%s:%d" % (host, self.host_ports[i]) for i in sorted(self.host_ports))

    def _wait_until(self, condition, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            try:
                md = self.admin_client().list_topics(timeout=2)
                if condition(md):
                    return md
            except Exception:  # noqa: BLE001 - not reachable yet
                pass
            if time.monotonic() > deadline:
                raise BackendError("Timed out after %.0f s waiting for %s on the Docker Kafka cluster (%s)."
                                   % (timeout, what, self.bootstrap_servers))
            time.sleep(0.5)

    # -- clients -----------------------------------------------------------------------------------
    def admin_client(self):
        if self._admin is None:
            self._admin = self.admin({"log_level": 0, "socket.connection.setup.timeout.ms": 2000})
        return self._admin

    def snapshot(self, records=False, max_records=20, include_internal=False):
        from . import realsnapshot
        known = None
        if self.n > 1:
            host = self.bootstrap_servers.split(",")[0].rsplit(":", 1)[0]
            known = [(i, host, self.host_ports[i]) for i in sorted(self.host_ports)]
        return realsnapshot.snapshot(realsnapshot.fresh_admin(self.client_conf()), backend=self.backend, client_conf=self.client_conf(),
                                     known_brokers=known, records=records, max_records=max_records,
                                     include_internal=include_internal)

    # -- faults ------------------------------------------------------------------------------------
    def _node(self, broker_id):
        if self.n == 1:
            raise NotSupportedByBackend("Stopping the only broker of a 1-node Docker cluster leaves nothing to "
                                        "fail over to: use eventsim.connect(\"testcontainers\", brokers=3).")
        if broker_id not in self.containers:
            raise BackendError("There is no broker %r; the brokers are %s." % (broker_id, sorted(self.containers)))
        return self.containers[broker_id].get_wrapped_container()

    def stop_broker(self, broker_id, clean=False, wait=True, timeout=60.0):
        """Kill the node's container (a crash) or stop it (SIGTERM, a controlled shutdown); with ``wait``,
        return once leadership has moved off it."""
        container = self._node(broker_id)
        if clean:
            container.stop(timeout=int(timeout))
        else:
            container.kill()
        self.stopped.add(broker_id)
        if wait:
            self._wait_until(lambda md: broker_id not in md.brokers and not any(
                pm.leader == broker_id for tm in md.topics.values() for pm in tm.partitions.values()),
                timeout, "leadership to move off broker %d" % broker_id)

    def start_broker(self, broker_id, wait=True, timeout=90.0):
        """Start the node's container again (same data, same ports); with ``wait``, until it is in the ISRs."""
        self._node(broker_id).start()
        self.stopped.discard(broker_id)
        if wait:
            self._wait_until(lambda md: broker_id in md.brokers and all(
                broker_id in pm.isrs for tm in md.topics.values() for pm in tm.partitions.values()
                if broker_id in pm.replicas and pm.leader >= 0),
                timeout, "broker %d to rejoin the ISR" % broker_id)

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self):
        """Remove the containers and the network. Safe to call twice."""
        self._admin = None
        for container in self.containers.values():
            try:
                container.stop()
            except Exception:  # noqa: BLE001 - already gone
                pass
        self.containers = {}
        if self.network is not None:
            try:
                self.network.remove()
            except Exception:  # noqa: BLE001
                pass
            self.network = None

    def where(self):
        if not self.containers:
            return "closed (its containers were removed)"
        return "%d Kafka broker%s in Docker (%s) at %s" % (self.n, "s" if self.n > 1 else "", self.image,
                                                          self.bootstrap_servers)
