"""The ``testcontainers`` backend: real Apache Kafka in Docker containers, in the course's cluster shape.

``eventsim.connect("testcontainers")`` starts what ``connect("local")`` starts, one container per node:
**3 brokers** (``process.roles=broker``, ids 1, 2, 3) and a **KRaft quorum of 3** dedicated controllers
(ids 101, 102, 103); ``brokers=1, controllers=1`` is the light start. Each node is testcontainers'
``DockerContainer`` on two Docker networks of the handle's own:

* ``<name>-cluster``: broker to broker and broker to controller (``broker-<id>:19092``,
  ``controller-<id>:9093``). Only the nodes are on it.
* ``<name>-clients``: where each broker's client port 9092 is published on the host (127.0.0.1, a free
  port, which the broker also advertises), so clients on the host follow the metadata to every broker.

The image follows the official ``apache/kafka`` image's environment contract (``KAFKA_*`` variables become
server properties, ``CLUSTER_ID`` formats the storage on the first start). :func:`choose_image` picks it:
``EVENTSIM_KAFKA_IMAGE`` (or ``image=``) if set; else the official ``apache/kafka:<version>`` or the course's
own ``eventsim/kafka:<version>`` (``make kafka-image`` builds it here, with no registry) if either is already
in the engine; only then a pull of the official image, and when that fails a message saying how to build the
course's image. ``<version>`` is the one ``kafka/pom.xml`` pins.

The control surface uses Docker's own mechanisms: ``stop_broker`` is ``docker kill`` (a crash) or
``docker stop`` (SIGTERM, a controlled shutdown), ``start_broker`` starts the same container on its data,
``pause_broker`` is ``docker pause`` (the cgroup freezer: a long GC pause), ``isolate_broker`` disconnects
the broker from the cluster network (clients still reach it, as on the simulator) and ``heal`` connects it
again, ``stop_controller`` kills a controller. ``slow_broker`` adds latency with netem inside the container
where the image has ``tc`` and the kernel has netem; elsewhere it raises :class:`NotSupportedByBackend`.

Nothing outlives the handle: every container and network is labelled with the handle's id and removed by
``close()``, when the handle is garbage-collected or the interpreter exits, and by a watchdog process
(:mod:`eventsim.backends.docker_reaper`) when the Python process that started them dies (a killed kernel).
testcontainers' own reaper (Ryuk) is not used: its image comes from a registry.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
import weakref

from .base import BackendError, BackendUnavailable, NotSupportedByBackend, _check_id
from .kraft import KRaftCluster, free_ports, new_cluster_id, node_ids, simulator_like_config
from .local import KAFKA_DIR, explain_output

OFFICIAL_IMAGE = "apache/kafka:{version}"
COURSE_IMAGE = "eventsim/kafka:{version}"
CLIENT_PORT = 9092        # EXTERNAL: the client listener, published on the host
BROKER_PORT = 19092       # INTERNAL: broker to broker, on the cluster network
CONTROLLER_PORT = 9093    # CONTROLLER: the KRaft quorum, on the cluster network
DATA_DIR = "/var/lib/kafka/data"
LABEL = "org.eventsim.handle"
BROKER_HEAP, CONTROLLER_HEAP = "-Xmx384m -Xms128m", "-Xmx192m -Xms64m"
#: The JVM's DNS cache off: a broker cut off and healed may come back on another address.
JVM_OPTS = "-Dsun.net.inetaddr.ttl=0 -Dsun.net.inetaddr.negative.ttl=0"


def pinned_kafka_version():
    """The Kafka version ``kafka/pom.xml`` pins (the one place it is named)."""
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", (KAFKA_DIR / "pom.xml").read_text())
    return match.group(1)


def _tc():
    """testcontainers' classes, imported when used (tests replace this function with stand-ins)."""
    from testcontainers.core.config import testcontainers_config
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.docker_client import DockerClient
    from testcontainers.core.network import Network
    testcontainers_config.ryuk_disabled = True     # our own labels and reaper instead (module docstring)
    return {"DockerContainer": DockerContainer, "Network": Network, "docker_host": lambda: DockerClient().host()}


def docker_client():
    import docker
    return docker.from_env(timeout=30)


def docker_available():
    """``(True, "")`` if a Docker engine answers, else ``(False, reason)``."""
    try:
        client = docker_client()
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


# -- the image ----------------------------------------------------------------------------------------
def _has_image(client, image):
    import docker.errors
    try:
        client.images.get(image)
        return True
    except docker.errors.ImageNotFound:
        return False


def choose_image(client, image=None, env=None, version=None):
    """The image to run (module docstring): an explicit one, else the first of the official and the
    course's image already in the engine, else the official one pulled. Raises :class:`BackendUnavailable`
    with what to do when none can be had."""
    import docker.errors
    env = os.environ if env is None else env
    version = version or pinned_kafka_version()
    official, course = OFFICIAL_IMAGE.format(version=version), COURSE_IMAGE.format(version=version)
    build = ("Build the course's image here with `make kafka-image` (no registry needed: Debian's Java and "
             "the Kafka jars from Maven Central), then set EVENTSIM_KAFKA_IMAGE=%s or leave it unset." % course)
    wanted = image or env.get("EVENTSIM_KAFKA_IMAGE") or None
    if wanted is not None and not isinstance(wanted, str):
        raise BackendError("image= takes an image name such as %r, got %r." % (official, wanted))
    candidates = [wanted] if wanted else [official, course]
    for candidate in candidates:
        if _has_image(client, candidate):
            return candidate
    if wanted == course:
        raise BackendUnavailable("The Docker engine has no image %s. %s" % (course, build))
    to_pull = wanted or official
    try:
        client.images.pull(to_pull)
        return to_pull
    except docker.errors.DockerException as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BackendUnavailable("The image %s is not in the Docker engine and pulling it failed (%s). %s"
                                 % (to_pull, reason, build)) from None


# -- the nodes ------------------------------------------------------------------------------------------
def env_name(prop):
    """A server property as the apache/kafka image reads it: ``a.b_c-d`` -> ``KAFKA_A_B__C___D``."""
    return "KAFKA_" + "".join({".": "_", "_": "__", "-": "___"}.get(c, c) for c in prop).upper()


def node_env(node_id, controller_ids, cluster_id, n_brokers, host, host_port=None):
    """The environment of node ``node_id``: a dedicated controller if it is in ``controller_ids``, else a
    broker advertising ``host:host_port`` to clients and ``broker-<id>:19092`` to the other brokers."""
    voters = ",".join("%d@controller-%d:%d" % (i, i, CONTROLLER_PORT) for i in sorted(controller_ids))
    env = {"CLUSTER_ID": cluster_id, "KAFKA_NODE_ID": str(node_id), "KAFKA_CONTROLLER_QUORUM_VOTERS": voters,
           "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER", "KAFKA_LOG_DIRS": DATA_DIR, "KAFKA_OPTS": JVM_OPTS}
    if node_id in controller_ids:
        env.update({"KAFKA_PROCESS_ROLES": "controller", "KAFKA_HEAP_OPTS": CONTROLLER_HEAP,
                    "KAFKA_LISTENERS": "CONTROLLER://:%d" % CONTROLLER_PORT,
                    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT"})
    else:
        env.update({"KAFKA_PROCESS_ROLES": "broker", "KAFKA_HEAP_OPTS": BROKER_HEAP,
                    "KAFKA_LISTENERS": "INTERNAL://:%d,EXTERNAL://:%d" % (BROKER_PORT, CLIENT_PORT),
                    "KAFKA_ADVERTISED_LISTENERS": "INTERNAL://broker-%d:%d,EXTERNAL://%s:%d"
                                                  % (node_id, BROKER_PORT, host, host_port),
                    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP":
                        "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "KAFKA_INTER_BROKER_LISTENER_NAME": "INTERNAL"})
    env.update({env_name(k): str(v) for k, v in simulator_like_config(n_brokers).items()})
    return env


def check_host_ports(ports, broker_ids, bind_ip):
    """``ports=`` as given (a list in broker order, or ``{broker id: port}``), checked and free, as a dict."""
    if isinstance(ports, (list, tuple)):
        ports = dict(zip(broker_ids, ports)) if len(ports) == len(broker_ids) else None
    if not isinstance(ports, dict) or sorted(ports) != list(broker_ids) or not all(
            isinstance(p, int) and not isinstance(p, bool) and 1024 <= p <= 65535 for p in ports.values()) \
            or len(set(ports.values())) != len(ports):
        raise BackendError("ports= takes one distinct host port (1024-65535) per broker %s, as a list or "
                           "{broker id: port}; got %r." % (list(broker_ids), ports))
    for broker_id, port in ports.items():
        with socket.socket() as s:
            try:
                s.bind((bind_ip, port))
            except OSError as exc:
                raise BackendError("Port %d on %s (for broker %d) is already in use (%s): another program "
                                   "listens there. Choose other ports, or leave ports= out for free ones."
                                   % (port, bind_ip, broker_id, exc.strerror)) from None
    return dict(ports)


class _Resources:
    """The handle's containers, networks and watchdog, apart from the handle so that the finalizer
    (``weakref.finalize``, also run at interpreter exit) can remove them without keeping it alive."""

    def __init__(self, handle_id):
        self.handle_id = handle_id
        self.containers = {}     # node id -> testcontainers DockerContainer
        self.networks = []
        self.reaper = None

    def remove_all(self):
        for container in self.containers.values():
            try:
                container.get_wrapped_container().remove(force=True, v=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self.containers = {}
        for network in self.networks:
            try:
                network.remove()
            except Exception:  # noqa: BLE001
                pass
        self.networks = []
        if self.reaper is not None and self.reaper.poll() is None:
            self.reaper.terminate()
        self.reaper = None


class TestcontainersKafka(KRaftCluster):
    """A KRaft cluster of real Kafka nodes in Docker containers (module docstring).

    ``brokers``, ``controllers``: 1 or 3 each. ``image``: overrides :func:`choose_image`'s choice.
    ``ports``: the brokers' host ports (default: free ones). ``broker_config``: extra/overriding server
    properties for every node (as ``KAFKA_*`` variables). ``startup_timeout``: seconds before startup fails
    with the nodes' last log lines.
    """

    __test__ = False   # not a pytest test class, despite its name
    backend = "testcontainers"
    #: Control methods that work only where the Docker host allows them (the README's matrix says so).
    CONDITIONAL_CAPABILITIES = {"slow_broker": "only where the Docker host's kernel has netem (sch_netem); "
                                               "`kafka.capabilities()` says whether it does"}

    def __init__(self, brokers=3, controllers=3, *, image=None, ports=None, broker_config=None,
                 startup_timeout=180.0, quiet=False):
        for what, n in (("brokers", brokers), ("controllers", controllers)):
            if isinstance(n, bool) or n not in (1, 3):
                raise BackendError("The 'testcontainers' backend starts 1 or 3 %s (the course cluster is 3 "
                                   "brokers and a quorum of 3 controllers); got %s=%r." % (what, what, n))
        require_docker()
        if not isinstance(broker_config or {}, dict):
            raise BackendError("broker_config= takes a dict of server properties, got %r." % (broker_config,))
        self._extra = {env_name(k): str(v) for k, v in (broker_config or {}).items()}
        self.quiet = quiet
        self.n = brokers
        self.broker_ids, self.controller_ids = node_ids(brokers, controllers)
        self._init_state()
        self.tc = _tc()
        host = self.tc["docker_host"]()     # where the engine publishes ports: this machine, or DOCKER_HOST's
        self.host = "127.0.0.1" if host in ("localhost", "127.0.0.1", "::1") else host
        bind_ip = "127.0.0.1" if self.host == "127.0.0.1" else "0.0.0.0"
        self.host_ports = (check_host_ports(ports, self.broker_ids, bind_ip) if ports is not None
                           else dict(zip(self.broker_ids, free_ports(brokers))))
        self.handle_id = uuid.uuid4().hex[:12]
        self.name = "eventsim-" + self.handle_id
        self.stopped, self.isolated, self.slowed = set(), set(), set()
        self._res = _Resources(self.handle_id)
        self._finalizer = weakref.finalize(self, self._res.remove_all)
        self._docker = docker_client()
        self.image = choose_image(self._docker, image)
        self.cluster_id = new_cluster_id()
        self.bootstrap_servers = ",".join("%s:%d" % (self.host, self.host_ports[i]) for i in self.broker_ids)
        self.startup_seconds = None
        try:
            self._start_cluster(bind_ip, startup_timeout)
        except BaseException:
            self.close()
            raise

    # -- startup -----------------------------------------------------------------------------------
    def _start_cluster(self, bind_ip, timeout):
        began = time.monotonic()
        self._say("Starting Apache Kafka in Docker (%s; KRaft: %d broker%s, %d controller%s): "
                  % (self.image, self.n, "s" if self.n > 1 else "", len(self.controller_ids),
                     "s" if len(self.controller_ids) > 1 else ""))
        labels = {LABEL: self.handle_id, "org.eventsim.owner-pid": str(os.getpid())}
        self.cluster_net, self.clients_net = (
            self._network("%s-%s" % (self.name, what), labels) for what in ("cluster", "clients"))
        self._res.reaper = _start_reaper(self.handle_id)
        for i in self.controller_ids + self.broker_ids:
            self._res.containers[i] = self._container(i, labels, bind_ip)
        self._say("containers started")
        self._wait_until(lambda md: len(md.brokers) == self.n, timeout, "all %d brokers up" % self.n,
                         progress=True)
        self.slow_supported = self._probe_netem()
        self.startup_seconds = time.monotonic() - began
        self._say(" ready in %.1f s\n" % self.startup_seconds)

    def _network(self, name, labels):
        network = self.tc["Network"](docker_network_kw={"labels": labels})
        network.name = name
        network.create()
        self._res.networks.append(network)
        return network

    def _container(self, node_id, labels, bind_ip):
        """Create and start node ``node_id``: a controller on the cluster network only; a broker on the
        clients network (its published port) and the cluster network (alias ``broker-<id>``)."""
        controller = node_id in self.controller_ids
        role = "controller" if controller else "broker"
        env = node_env(node_id, self.controller_ids, self.cluster_id, self.n, self.host,
                       None if controller else self.host_ports[node_id])
        env.update(self._extra)
        container = (self.tc["DockerContainer"](self.image)
                     .with_name("%s-%s-%d" % (self.name, role, node_id))
                     .with_network(self.cluster_net if controller else self.clients_net)
                     .with_kwargs(labels=dict(labels), cap_add=["NET_ADMIN"]))
        if controller:
            container.with_network_aliases("controller-%d" % node_id)
        else:
            container.ports["%d/tcp" % CLIENT_PORT] = (bind_ip, self.host_ports[node_id])   # docker-py's form
        for key, value in env.items():
            container.with_env(key, value)
        self._res.containers[node_id] = container
        try:
            container.start()
        except Exception as exc:  # noqa: BLE001 - docker's errors, made readable
            raise BackendError("Docker could not start Kafka node %d from %s: %s"
                               % (node_id, self.image, str(exc).splitlines()[0])) from None
        if not controller:
            self.cluster_net.connect(self._wrapped(node_id).id, network_aliases=["broker-%d" % node_id])
        return container

    # -- the nodes as containers (the primitives of KRaftCluster) -----------------------------------------
    def _wrapped(self, node_id):
        return self._res.containers[node_id].get_wrapped_container()

    def _status(self, node_id):
        container = self._wrapped(node_id)
        try:
            container.reload()
        except Exception:  # noqa: BLE001 - removed under us
            return "removed"
        return container.status

    def _running(self, node_id):
        return node_id in self._res.containers and self._status(node_id) in ("running", "paused")

    def _kill_node(self, node_id, clean, timeout):
        container = self._wrapped(node_id)
        if self._status(node_id) == "paused":
            container.unpause()      # a frozen process gets no signal; docker kill right after it
            clean = False
        if clean:
            container.stop(timeout=int(timeout))
        else:
            container.kill()
            container.wait(timeout=int(timeout))
        self.stopped.add(node_id)

    def _start_node(self, node_id):
        self._wrapped(node_id).start()
        self.stopped.discard(node_id)

    def _freeze(self, node_id):
        """``docker pause``: the cgroup freezer stops every process of the container where it is."""
        self._wrapped(node_id).pause()

    def _thaw(self, node_id):
        self._wrapped(node_id).unpause()

    def _exec(self, node_id, *cmd):
        result = self._wrapped(node_id).exec_run(list(cmd))
        return result.exit_code, result.output.decode(errors="replace")

    def _quorum_state(self, node_id):
        import json
        code, out = self._exec(node_id, "cat", DATA_DIR + "/__cluster_metadata-0/quorum-state")
        try:
            return json.loads(out) if code == 0 else None
        except ValueError:
            return None

    def _logs(self, node_id, lines=25):
        try:
            return explain_output(self._wrapped(node_id).logs(tail=200).decode(errors="replace"), lines)
        except Exception:  # noqa: BLE001
            return "(no log)"

    def _raise_if_exited(self, what):
        for i in self._res.containers:
            if i not in self.stopped and self._status(i) in ("exited", "dead", "removed"):
                code = self._wrapped(i).attrs.get("State", {}).get("ExitCode")
                raise BackendError(
                    "Kafka node %d (container %s-%d, image %s) exited with code %s while waiting for %s. Does "
                    "the image follow the apache/kafka environment contract (KAFKA_* variables, CLUSTER_ID)? "
                    "Its last log lines:\n%s" % (i, self.name, i, self.image, code, what, self._logs(i)))

    def _node_logs(self):
        return "\n".join("--- node %d (container %s):\n%s" % (i, self._wrapped(i).name, self._logs(i))
                         for i in self._res.containers)

    def known_brokers(self):
        return [(i, self.host, self.host_ports[i]) for i in self.broker_ids]

    # -- network faults ------------------------------------------------------------------------------
    def isolate_broker(self, broker_id):
        """Disconnect the broker from the cluster network: it reaches no other broker and no controller,
        so after ``broker.session.timeout.ms`` the controller fences it; clients still reach it."""
        _check_id("broker", broker_id, self.broker_ids)
        if broker_id in self.isolated:
            raise self._state_error("broker %d is already isolated" % broker_id)
        self.cluster_net._unwrap_network.disconnect(self._wrapped(broker_id).id, force=True)
        self.isolated.add(broker_id)

    def heal(self):
        """Connect every isolated broker to the cluster network again and remove added latency."""
        for broker_id in sorted(self.isolated):
            self.cluster_net.connect(self._wrapped(broker_id).id, network_aliases=["broker-%d" % broker_id])
        self.isolated.clear()
        for broker_id in sorted(self.slowed):
            if self._status(broker_id) == "running":
                self._exec(broker_id, "tc", "qdisc", "del", "dev", "eth0", "root")
        self.slowed.clear()

    def _probe_netem(self):
        """Whether ``tc ... netem`` works inside a broker's container (the image has ``tc``, the kernel
        has netem): tried once on the loopback device at startup."""
        code, _ = self._exec(self.broker_ids[0], "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms")
        if code == 0:
            self._exec(self.broker_ids[0], "tc", "qdisc", "del", "dev", "lo", "root")
        return code == 0

    def capabilities(self):
        caps = super().capabilities()
        caps["slow_broker"] = bool(getattr(self, "slow_supported", False))
        return caps

    def slow_broker(self, broker_id, ms):
        """Add ``ms`` of latency to everything the broker sends (netem on its network interfaces)."""
        _check_id("broker", broker_id, self.broker_ids)
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not 0 <= ms <= 3_600_000:
            raise ValueError("slow_broker() takes a latency in ms from 0 to 3600000, got %r" % (ms,))
        if not self.slow_supported:
            raise NotSupportedByBackend(
                "slow_broker() needs netem inside the container (the image's `tc` and the kernel's sch_netem), "
                "which this Docker engine's kernel or image lacks. Instead: eventsim.connect(\"sim\") adds "
                "latency to a broker. kafka.capabilities() lists what this backend can do.")
        for dev in ("eth0", "eth1"):
            self._exec(broker_id, "tc", "qdisc", "del", "dev", dev, "root")
            if ms:
                self._exec(broker_id, "tc", "qdisc", "add", "dev", dev, "root", "netem", "delay", "%dms" % ms)
        (self.slowed.add if ms else self.slowed.discard)(broker_id)

    @staticmethod
    def _state_error(reason):
        from ..errors import KafkaError, KafkaException
        return KafkaException(KafkaError(KafkaError._STATE, reason=reason))

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self):
        """Remove the containers (and their data) and the networks. Safe to call twice."""
        self._admin = None
        self._finalizer()
        if getattr(self, "_docker", None) is not None:
            self._docker.close()
            self._docker = None

    @property
    def closed(self):
        return not self._finalizer.alive

    def where(self):
        if self.closed:
            return "closed (its containers were removed)"
        return ("%d Kafka broker%s and %d KRaft controller%s in Docker containers (%s) at %s"
                % (self.n, "s" if self.n > 1 else "", len(self.controller_ids),
                   "s" if len(self.controller_ids) > 1 else "", self.image, self.bootstrap_servers))


def _start_reaper(handle_id):
    """The watchdog (:mod:`eventsim.backends.docker_reaper`) that removes this handle's containers and
    networks when this process dies; in a session of its own, so it outlives a killed kernel."""
    return subprocess.Popen([sys.executable, "-m", "eventsim.backends.docker_reaper", str(os.getpid()), handle_id],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
