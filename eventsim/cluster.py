"""``Cluster``: a simulated Kafka cluster of N brokers on a virtual clock.

A cluster holds brokers, topics and their partitions (see ``replication.py``), a controller
(``controller.py``), a group coordinator (``group.py``) and a transaction coordinator
(``transactions.py``). Clients (``Producer``, ``Consumer``, ``AdminClient``) find it through their
``bootstrap.servers`` string (``sim://<name>``) and talk to it only through the request methods below,
which are named after Kafka's protocol requests (Produce, Fetch, ListOffsets, Metadata, CreateTopics...).

Determinism: all randomness comes from ``random.Random(seed)`` and all time from the virtual clock, so the
same seed and the same calls always give the same results.

Broker-wide configuration (``Cluster(config={...})``, a broker's ``server.properties``) uses Kafka's broker
config names; what is not given is Kafka's default, or the course's setting (``COURSE_BROKER_SETTINGS``:
``auto.create.topics.enable=false``, ...; the local real-Kafka backend starts its brokers the same way, so
a typo in a topic name is an error on both, not a new topic).
"""
from __future__ import annotations

import itertools
import random
import uuid
import weakref
from dataclasses import dataclass, field

from . import config as _config
from . import record_validation
from .clock import EPOCH_MS, VirtualClock, check_start_time_ms
from .controller import Controller
from .operations import Operations
from .quorum import Quorum
from .errors import KafkaError, KafkaException
from .message import OFFSET_BEGINNING, OFFSET_END
from .network import CLIENT, Network
from .replication import Partition

SIM_SCHEME = "sim://"

#: The broker configs the simulator models, as Kafka 4.4's ``KafkaConfig`` defines them:
#: name -> (type, Kafka's default, validator, dynamic). Validators are as in ``config.TOPIC_CONFIGS``; a
#: default of None means Kafka has none (``log.retention.ms``: ``log.retention.hours=168`` applies);
#: ``dynamic``: a running broker can change it (``incremental_alter_configs``), else ``describe_configs``
#: shows it read-only. ``replica.lag.time.max.ms`` and ``broker.session.timeout.ms`` must be at least 1
#: here (Kafka takes 0, which only makes sense in tests).
BROKER_CONFIGS = {
    "auto.create.topics.enable": ("BOOLEAN", "true", None, False),
    "num.partitions": ("INT", "1", ("min", 1), False),
    "default.replication.factor": ("INT", "1", None, False),
    "min.insync.replicas": ("INT", "1", ("min", 1), True),
    "unclean.leader.election.enable": ("BOOLEAN", "false", None, True),
    "replica.lag.time.max.ms": ("LONG", "30000", ("min", 1), False),
    "broker.session.timeout.ms": ("INT", "9000", ("min", 1), False),
    "request.timeout.ms": ("INT", "30000", ("min", 0), False),
    "log.retention.ms": ("LONG", None, ("retention",), True),
    "log.retention.bytes": ("LONG", "-1", None, True),
    "log.segment.bytes": ("INT", "1073741824", ("min", 1048576), True),
    "log.roll.ms": ("LONG", None, ("min", 1), True),
    "log.retention.check.interval.ms": ("LONG", "300000", ("min", 1), False),
    "log.cleaner.backoff.ms": ("LONG", "15000", ("min", 0), True),
    "log.cleanup.policy": ("LIST", "delete", ("list_in", ("compact", "delete")), True),
    "auto.leader.rebalance.enable": ("BOOLEAN", "true", None, False),
    "leader.imbalance.check.interval.seconds": ("LONG", "300", ("min", 1), False),
    "group.initial.rebalance.delay.ms": ("INT", "3000", None, False),
    "offsets.retention.minutes": ("INT", "10080", ("min", 1), False),
    "transaction.max.timeout.ms": ("INT", "900000", ("min", 1), False),
    "message.max.bytes": ("INT", "1048588", ("min", 0), True),
    "delete.topic.enable": ("BOOLEAN", "true", None, False),
}

#: What the course's brokers, simulated and real, set in ``server.properties`` (the local backend writes
#: these: ``backends/local.py``, ``SHARED_BROKER_SETTINGS``). No topic auto-creation (a typo in a topic
#: name is an error, not a new topic) and no initial rebalance delay; the others are Kafka's defaults,
#: written down so that both kinds of cluster agree. ``describe_configs`` shows them as
#: ``STATIC_BROKER_CONFIG``.
COURSE_BROKER_SETTINGS = {
    "auto.create.topics.enable": "false", "num.partitions": "1", "default.replication.factor": "1",
    "min.insync.replicas": "1", "unclean.leader.election.enable": "false",
    "group.initial.rebalance.delay.ms": "0", "replica.lag.time.max.ms": "30000",
    "broker.session.timeout.ms": "9000",
}

#: The cluster-wide dynamic configs a Kafka 4.x controller writes when the cluster is formatted, from its
#: own settings: ``min.insync.replicas``, which eligible leader replicas (KIP-966) need.
CONTROLLER_WRITTEN_DEFAULTS = ("min.insync.replicas",)

#: The settings a simulated broker runs with: Kafka's defaults, then the course's ``server.properties``.
BROKER_DEFAULTS = {name: COURSE_BROKER_SETTINGS.get(name, spec[1]) for name, spec in BROKER_CONFIGS.items()}

INTERNAL_TOPICS = ("__consumer_offsets", "__transaction_state")


@dataclass
class Broker:
    """One broker process. ``alive`` is false after a crash or shutdown until ``start_broker``;
    ``paused`` is true while the process is frozen (``pause_broker``): running, but answering nothing."""
    id: int
    host: str = "sim"
    port: int = 9092
    alive: bool = True
    paused: bool = False
    rack: str | None = None


@dataclass
class PartitionMetadata:
    """What a Metadata response says about one partition."""
    partition: int
    leader: int
    replicas: list
    isr: list
    leader_epoch: int
    error: KafkaError | None = None


@dataclass
class FetchResult:
    """What a Fetch response carries for one partition."""
    error: KafkaError | None = None
    records: list = field(default_factory=list)
    next_offset: int = 0
    high_watermark: int = -1
    last_stable_offset: int = -1
    log_start_offset: int = -1
    leader_epoch: int = -1
    control_end: int = -1


def _control_end(leader, offset, next_offset):
    """``next_offset`` if the last record a fetch passed is a transaction marker (control record), else -1.

    Consumers never see markers, but librdkafka queues each one as an internal control message behind the
    records before it; when the application's poll() reaches it, the consumer's position (and, with
    ``enable.auto.offset.store``, its stored offset) moves past the marker. So a group that read a
    transaction to its end commits the offset after the marker and its lag drops to 0."""
    if next_offset <= offset:
        return -1
    last = leader.log.read(next_offset - 1, next_offset)
    return next_offset if last and last[0].control is not None else -1


class Topic:
    """A topic: a name, a topic id, config overrides and its partitions."""

    def __init__(self, cluster, name, topic_id, overrides):
        self.cluster = cluster
        self.name = name
        self.topic_id = topic_id
        self.overrides = dict(overrides)
        self.partitions: list[Partition] = []

    def config_value(self, key):
        """Effective topic config: the topic's override, else the broker default, else Kafka's default."""
        return _config.topic_config_value(self.overrides, self.cluster.config, key)

    @property
    def internal(self):
        return self.name in INTERNAL_TOPICS


def _broker_value(key, value):
    """One broker config value, checked as a Kafka broker checks its configuration at startup (a broker
    refuses to start on a bad value: here ``Cluster()`` raises ``INVALID_CONFIG`` with Kafka's message)."""
    kind, _, validator, _ = BROKER_CONFIGS[key]
    if value is None:
        raise KafkaException(KafkaError(KafkaError.INVALID_CONFIG, reason=f"Null value for broker config {key}"))
    if validator == ("retention",):
        parsed, text = _config.parse_config_value(key, value, kind, None)
        if parsed < 1 and parsed != -1:
            raise KafkaException(KafkaError(KafkaError.INVALID_CONFIG, reason=(
                f"Invalid value {value} for configuration {key}: log.retention.ms must be unlimited (-1) or, "
                "greater than or equal to 1")))
        return text
    return _config.parse_config_value(key, value, kind, validator)[1]


def _clock_start(start_time_ms):
    """``start_time_ms`` as ``Cluster()`` takes it (ms since 1970), else ``KafkaException(_INVALID_ARG)``."""
    try:
        return check_start_time_ms(start_time_ms)
    except ValueError as e:
        raise KafkaException(KafkaError(KafkaError._INVALID_ARG, reason=str(e))) from None


class Cluster(Operations):
    """A deterministic simulated Kafka cluster: ``Cluster(brokers=3, controllers=3, seed=0)``, brokers
    ``1..N`` and a KRaft controller quorum of dedicated controllers ``101..`` (``quorum.py``).

    Its clock starts at ``start_time_ms`` (ms since 1970; default ``clock.EPOCH_MS``, 2026-01-01T00:00:00Z):
    ``now_ms`` is the brokers' wall clock, ``elapsed_ms`` the virtual time since the cluster started."""

    _registry: "weakref.WeakValueDictionary[str, Cluster]" = weakref.WeakValueDictionary()
    _names = itertools.count(1)

    def __init__(self, brokers=3, seed=0, name=None, config=None, controllers=3, start_time_ms=EPOCH_MS):
        if isinstance(brokers, bool) or not isinstance(brokers, int) or not 1 <= brokers <= 64:
            raise KafkaException(KafkaError(KafkaError._INVALID_ARG,
                                            reason=f"brokers must be an int from 1 to 64, got {brokers!r}"))
        if isinstance(controllers, bool) or not isinstance(controllers, int) or not 1 <= controllers <= 9:
            raise KafkaException(KafkaError(KafkaError._INVALID_ARG,
                                            reason=f"controllers must be an int from 1 to 9, got {controllers!r}"))
        self.clock = VirtualClock(_clock_start(start_time_ms))
        self.seed = seed
        self.rng = random.Random(seed)
        self.config = self._validated_broker_config(config or {})
        # The layers describe_configs reports (config_sources.py): server.properties, the controller's
        # cluster-wide defaults.
        self.static_config = dict(COURSE_BROKER_SETTINGS, **{k: self.config[k] for k in (config or {})})
        self.dynamic_default_config = {k: self.config[k] for k in CONTROLLER_WRITTEN_DEFAULTS}
        self.name = name or f"cluster-{next(Cluster._names)}"
        if self.name in Cluster._registry:
            raise KafkaException(KafkaError(KafkaError._INVALID_ARG, reason=f"a cluster named {self.name!r} exists"))
        Cluster._registry[self.name] = self
        from .client_identity import cluster_id_for_seed
        self.cluster_id = cluster_id_for_seed(seed)     # Kafka's format (22 chars of base64url), from the seed
        self.brokers = {i: Broker(id=i, port=9092 + i - 1) for i in range(1, brokers + 1)}
        self.fenced: set[int] = set()
        self.topics: dict[str, Topic] = {}
        self.events: list[tuple[int, str]] = []
        self.network = Network(self.clock, self.broker_alive)
        self.controller = Controller(self)
        self.quorum = Quorum(self.clock, self.rng, controllers, self.controller.take_over, self.record_event)
        self._hw_listeners = []
        from .group import GroupCoordinator
        from .transactions import TransactionCoordinator
        self.groups = GroupCoordinator(self)
        self.transactions = TransactionCoordinator(self)
        self._start_background_tasks()

    # -- identity ------------------------------------------------------------------------------------
    @property
    def bootstrap_servers(self):
        return SIM_SCHEME + self.name

    @property
    def controller_id(self):
        live = [b for b in sorted(self.brokers) if self.broker_usable(b)]
        return live[0] if live else -1

    @classmethod
    def lookup(cls, bootstrap_servers):
        """Find the cluster a client's ``bootstrap.servers`` names (``sim://<name>``)."""
        if not isinstance(bootstrap_servers, str) or not bootstrap_servers.startswith(SIM_SCHEME):
            raise KafkaException(KafkaError(
                KafkaError._INVALID_ARG,
                reason=f"bootstrap.servers={bootstrap_servers!r} is not a simulated cluster: use "
                       f"cluster.bootstrap_servers (sim://...), or eventsim.connect('local') for real Kafka"))
        name = bootstrap_servers[len(SIM_SCHEME):].split(",")[0]
        cluster = cls._registry.get(name)
        if cluster is None:
            raise KafkaException(KafkaError(
                KafkaError._INVALID_ARG,
                reason=f"no simulated cluster named {name!r} is running in this Python process "
                       f"(create one with eventsim.Cluster())"))
        return cluster

    def __repr__(self):
        alive = sum(b.alive for b in self.brokers.values())
        return (f"<eventsim.Cluster {self.bootstrap_servers}: {alive}/{len(self.brokers)} brokers alive, "
                f"{len(self.topics)} topic(s), t={self.clock.elapsed_ms} ms, seed={self.seed}>")

    # -- config --------------------------------------------------------------------------------------
    @staticmethod
    def _validated_broker_config(overrides):
        cfg = dict(BROKER_DEFAULTS)
        for key, value in overrides.items():
            if key not in BROKER_DEFAULTS:
                raise KafkaException(KafkaError(
                    KafkaError.INVALID_CONFIG,
                    reason=f"Unknown broker config {key!r}; the simulator supports: {', '.join(sorted(BROKER_DEFAULTS))}"))
            cfg[key] = _broker_value(key, value)
        return cfg

    def broker_config(self, key):
        return self.config[key]

    # -- time ----------------------------------------------------------------------------------------
    @property
    def now_ms(self):
        """The brokers' clock: ms since 1970 (record timestamps, retention and ``offsets_for_times`` use it)."""
        return self.clock.now_ms

    @property
    def elapsed_ms(self):
        """Virtual time since the cluster started (the ``t=`` of its event log and of the snapshot)."""
        return self.clock.elapsed_ms

    def advance(self, ms):
        """Let ``ms`` milliseconds of virtual time pass: replication, timeouts, retention all run. Long idle
        stretches are skipped in bulk (``idle.py``), with exactly the result of running through them."""
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not 0 <= ms < float("inf"):
            raise ValueError(f"advance() takes a finite number of milliseconds >= 0, got {ms!r}")
        from .idle import advance_skipping_idle
        advance_skipping_idle(self, int(ms))

    def run_until(self, stop, timeout_ms):
        """Run the clock until ``stop()`` is true (return True) or ``timeout_ms`` has passed (return False)."""
        return self.clock.run_until(self.clock.now_ms + max(0, int(timeout_ms)), stop)

    def record_event(self, text):
        """Add ``(elapsed ms, text)`` to the cluster's event log."""
        self.events.append((self.clock.elapsed_ms, text))

    def _every(self, period_ms, task, name):
        """Housekeeping: run ``task`` every ``period_ms`` (at least 1 ms) for as long as the cluster exists."""
        period_ms = max(1, int(period_ms))

        def tick():
            task()
            self.clock.schedule(period_ms, tick, name, period_ms=period_ms)
        self.clock.schedule(period_ms, tick, name, period_ms=period_ms)

    def _start_background_tasks(self):
        lag = int(self.config["replica.lag.time.max.ms"])
        self._every(max(1, lag // 2), self._shrink_isrs, "isr-expiration")
        self._every(int(self.config["log.retention.check.interval.ms"]), self._enforce_retention, "log-retention")
        self._every(int(self.config["log.cleaner.backoff.ms"]), self._run_log_cleaner, "log-cleaner")
        if self.config["auto.leader.rebalance.enable"] == "true":
            period = int(self.config["leader.imbalance.check.interval.seconds"]) * 1000
            self._every(period, self.controller.elect_preferred_leaders, "preferred-leader-election")

    def _shrink_isrs(self):
        for part in self.all_partitions():
            if part.leader >= 0 and self.broker_alive(part.leader):
                part.shrink_isr()

    def _enforce_retention(self):
        """``log.retention.check.interval.ms``: every live replica deletes expired segments. Returns
        ``{"topic-partition": (old, new)}`` of the leaders' log start offsets that moved."""
        moved = {}
        for part in self.all_partitions():
            before = part.log_start_offset
            for b, rep in part.replica.items():
                if self.broker_alive(b):
                    rep.log.apply_retention(self.now_ms, rep.high_watermark)
            if part.log_start_offset != before:
                moved[part.name] = (before, part.log_start_offset)
        return moved

    def run_retention_now(self):
        """Run the retention check at once instead of waiting for its next scheduled run; returns what
        moved, ``{"topic-partition": (old log start, new log start)}``."""
        return self._enforce_retention()

    def _run_log_cleaner(self):
        """The log cleaner compacts topics with ``cleanup.policy`` containing ``compact``. Returns
        ``{"topic-partition": records removed}`` from the leaders' logs, where any were."""
        removed = {}
        for part in self.all_partitions():
            if "compact" not in part.topic.config_value("cleanup.policy"):
                continue
            before = self._record_count(part)
            for b, rep in part.replica.items():
                if self.broker_alive(b):
                    rep.log.compact(self.now_ms, rep.state.last_stable_offset(rep.high_watermark))
            if self._record_count(part) != before:
                removed[part.name] = before - self._record_count(part)
        return removed

    @staticmethod
    def _record_count(part):
        rep = part.leader_replica or part._most_advanced_replica()
        return sum(1 for r in rep.log.read(rep.log.log_start_offset) if r.control is None)

    def run_log_cleaner_now(self):
        """Compact every compacted topic at once instead of waiting for ``log.cleaner.backoff.ms``;
        returns ``{"topic-partition": records removed}``."""
        return self._run_log_cleaner()

    # -- brokers -------------------------------------------------------------------------------------
    def broker_alive(self, broker_id):
        """The broker answers: its process runs and is not frozen."""
        b = self.brokers.get(broker_id)
        return b is not None and b.alive and not b.paused

    def broker_heartbeating(self, broker_id):
        """The controller hears from the broker: it answers and is not cut off from the controllers."""
        return self.broker_alive(broker_id) and broker_id not in self.network.isolated

    def broker_usable(self, broker_id):
        """Alive and registered with the controller (not fenced)."""
        return self.broker_alive(broker_id) and broker_id not in self.fenced

    # -- topics (CreateTopics, DeleteTopics, CreatePartitions, configs) ------------------------------------
    def all_partitions(self):
        for name in sorted(self.topics):
            yield from self.topics[name].partitions

    def partition(self, topic, partition):
        t = self.topics.get(topic)
        if t is None or not isinstance(partition, int) or not 0 <= partition < len(t.partitions):
            return None
        return t.partitions[partition]

    def _place_replicas(self, num_partitions, replication_factor, start_partition=0, fixed=None):
        """Kafka's rack-unaware replica placement (``AdminUtils.assignReplicasToBrokers``): the first replica of
        partition p goes round-robin from a random start; followers are shifted by a random amount."""
        brokers = [b for b in sorted(self.brokers) if self.broker_usable(b)]
        n = len(brokers)
        start = fixed[0] if fixed else self.rng.randrange(n)
        shift = fixed[1] if fixed else self.rng.randrange(n)
        out = []
        for p in range(start_partition, start_partition + num_partitions):
            if p > 0 and p % n == 0:
                shift += 1
            first = (p + start) % n
            replicas = [brokers[first]]
            for j in range(replication_factor - 1):
                replicas.append(brokers[(first + 1 + (shift + j) % (n - 1)) % n])
            out.append(replicas)
        return out, (start, shift)

    def create_topic(self, name, num_partitions=-1, replication_factor=-1, config=None,
                     replica_assignment=None, validate_only=False):
        """CreateTopics. Returns ``None`` or a ``KafkaError`` (the cluster is unchanged on error)."""
        err = _config.validate_topic_name(name)
        if err is not None:
            return err
        if name in self.topics:
            return KafkaError(KafkaError.TOPIC_ALREADY_EXISTS, reason=f"Topic '{name}' already exists.")
        for existing in self.topics:
            if _config.topic_names_collide(name, existing):
                return KafkaError(KafkaError.TOPIC_EXCEPTION,
                                  reason=f"Topic '{name}' collides with existing topic: {existing}")
        try:
            overrides = _config.validate_topic_config(config or {})
        except KafkaException as e:
            return e.args[0]
        live = [b for b in sorted(self.brokers) if self.broker_usable(b)]
        if replica_assignment:
            from .assignment import place_manually      # Kafka's checks of a manual assignment
            err, placed = place_manually(replica_assignment, set(self.brokers), self.broker_usable)
            if err is not None:
                return err
            assignment = [replicas for replicas, _ in placed]
            placement = None
        else:
            if num_partitions == -1:
                num_partitions = int(self.config["num.partitions"])
            if replication_factor == -1:
                replication_factor = int(self.config["default.replication.factor"])
            if isinstance(num_partitions, bool) or not isinstance(num_partitions, int) or num_partitions < 1:
                return KafkaError(KafkaError.INVALID_PARTITIONS,
                                  reason=f"Number of partitions must be larger than 0, got {num_partitions!r}.")
            if (isinstance(replication_factor, bool) or not isinstance(replication_factor, int)
                    or replication_factor < 1):
                return KafkaError(KafkaError.INVALID_REPLICATION_FACTOR,
                                  reason=f"Replication factor must be larger than 0, got {replication_factor!r}.")
            if replication_factor > len(live):
                return KafkaError(KafkaError.INVALID_REPLICATION_FACTOR,
                                  reason=f"Unable to replicate the partition {replication_factor} time(s): "
                                         f"The target replication factor of {replication_factor} cannot be reached "
                                         f"because only {len(live)} broker(s) are registered.")
            if num_partitions > 10000:
                return KafkaError(KafkaError.INVALID_PARTITIONS,
                                  reason=f"{num_partitions} partitions is more than the simulator allows (10000).")
            assignment, placement = self._place_replicas(num_partitions, replication_factor) \
                if not validate_only else (None, None)
        if validate_only:
            return None
        topic = Topic(self, name, str(uuid.UUID(int=self.rng.getrandbits(128))), overrides)
        topic.placement = placement
        for p, replicas in enumerate(assignment):
            topic.partitions.append(Partition(self, topic, p, replicas))
        self.topics[name] = topic
        for part in topic.partitions:
            isr = [b for b in part.replicas if self.broker_usable(b)]
            part.become_leader(isr[0], 0)       # the first active replica leads (buildPartitionRegistration)
            part.isr = isr
        self.record_event(f"topic {name} created: {len(assignment)} partition(s), "
                          f"replication factor {len(assignment[0])}")
        return None

    def delete_topic(self, name):
        """DeleteTopics. Returns ``None`` or a ``KafkaError``."""
        if name not in self.topics:
            return KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, reason=f"Topic '{name}' does not exist.")
        topic = self.topics.pop(name)
        for part in topic.partitions:
            part._fail_delayed(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART))
            for b in part.replicas:
                part.stop_follower(b)
        self.groups.on_topic_deleted(name)
        self.record_event(f"topic {name} deleted")
        return None

    def create_partitions(self, name, new_total, replica_assignment=None, validate_only=False):
        """CreatePartitions: partitions can only be added. Existing keys may then map to other partitions."""
        topic = self.topics.get(name)
        if topic is None:
            return KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, reason=f"Topic '{name}' does not exist.")
        current = len(topic.partitions)
        if isinstance(new_total, bool) or not isinstance(new_total, int) or new_total <= current:
            return KafkaError(KafkaError.INVALID_PARTITIONS,
                              reason=f"Topic currently has {current} partitions, {new_total!r} would not be an "
                                     f"increase.")
        rf = len(topic.partitions[0].replicas)
        if replica_assignment is not None:
            from .assignment import count_error, place_manually     # Kafka's checks of a manual assignment
            err = count_error(new_total - current, replica_assignment)
            if err is None:
                err, placed = place_manually(replica_assignment, set(self.brokers), self.broker_usable, rf, current)
            if err is not None:
                return err
        elif rf > len([b for b in self.brokers if self.broker_usable(b)]):
            return KafkaError(KafkaError.INVALID_REPLICATION_FACTOR,
                              reason=f"Not enough live brokers for replication factor {rf}")
        if validate_only:
            return None
        if replica_assignment is None:
            assignment, _ = self._place_replicas(new_total - current, rf, start_partition=current,
                                                 fixed=getattr(topic, "placement", None))
            placed = [(replicas, replicas) for replicas in assignment]
        for i, (replicas, isr) in enumerate(placed):
            part = Partition(self, topic, current + i, replicas)
            topic.partitions.append(part)
            part.become_leader(isr[0], 0)       # the first active replica leads, the active ones are the ISR
            part.isr = list(isr)
        self.record_event(f"topic {name}: partitions {current} \u2192 {new_total}")
        return None

    def describe_topic_config(self, name):
        """DescribeConfigs for a topic: ``(None, {key: (value, source, synonyms)})`` (``config_sources.py``)
        or ``(KafkaError, {})``; the broker answers a missing topic with the bare error code."""
        topic = self.topics.get(name)
        if topic is None:
            return KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART), {}
        from .config_sources import topic_entry
        return None, {key: topic_entry(topic, key) for key in sorted(_config.TOPIC_DEFAULTS)}

    def alter_topic_config(self, name, changes, incremental=True):
        """AlterConfigs / IncrementalAlterConfigs. A value of ``None`` removes the override (an unknown
        name too: there is nothing to remove)."""
        topic = self.topics.get(name)
        if topic is None:
            return KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, reason=f"The topic '{name}' does not exist.")
        try:
            sets = _config.validate_topic_config({k: v for k, v in changes.items() if v is not None})
        except KafkaException as e:
            return e.args[0]
        new = dict(topic.overrides) if incremental else {}
        new.update(sets)
        for k, v in changes.items():
            if v is None:
                new.pop(k, None)
        min_isr_before = topic.config_value("min.insync.replicas")
        topic.overrides = new
        self.record_event(f"topic {name}: config changed {dict(changes)}")
        if topic.config_value("min.insync.replicas") != min_isr_before:
            self.controller.min_isr_changed(topic)
        return None

    # -- Metadata ------------------------------------------------------------------------------------------
    def metadata(self, include_internal=False):
        """Metadata: topic -> list of ``PartitionMetadata`` (leader, replicas, ISR, leader epoch)."""
        out = {}
        for name in sorted(self.topics):
            t = self.topics[name]
            if t.internal and not include_internal:
                continue
            out[name] = [PartitionMetadata(p.index, p.leader, list(p.replicas), list(p.isr), p.leader_epoch,
                                           None if p.leader >= 0 else KafkaError(KafkaError.LEADER_NOT_AVAILABLE))
                         for p in t.partitions]
        return out

    def partition_count(self, topic):
        t = self.topics.get(topic)
        return None if t is None else len(t.partitions)

    def leader_for(self, topic, partition):
        part = self.partition(topic, partition)
        return -1 if part is None else part.leader

    def partition_high_watermark(self, topic, partition):
        part = self.partition(topic, partition)
        return -1 if part is None else part.high_watermark

    def coordinator_for(self, key):
        """The broker acting as group / transaction coordinator for ``key``: the leader of partition
        ``abs(hash) % 50`` of ``__consumer_offsets`` in Kafka; here the live broker chosen the same way."""
        live = [b for b in sorted(self.brokers) if self.broker_usable(b)]
        if not live:
            return -1
        h = 0
        for ch in str(key).encode():
            h = (31 * h + ch) & 0xFFFFFFFF
        return live[(h % 50) % len(live)]

    # -- Produce / Fetch / ListOffsets -----------------------------------------------------------------------
    def _route(self, topic, partition, leader_hint):
        """Common checks of a partition-level request: returns ``(Partition, None)`` or ``(None, KafkaError)``."""
        t = self.topics.get(topic)
        if t is None:
            return None, KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART,
                                    reason=f"Broker: Unknown topic or partition: topic '{topic}' does not exist")
        part = self.partition(topic, partition)
        if part is None:
            return None, KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART,
                                    reason=f"Broker: Unknown topic or partition: {topic} has no partition {partition}")
        if leader_hint is not None and not self.broker_alive(leader_hint):
            return None, KafkaError(KafkaError._TRANSPORT, reason=f"Connection to broker {leader_hint} refused")
        if part.leader < 0:
            return None, KafkaError(KafkaError.LEADER_NOT_AVAILABLE,
                                    reason=f"Broker: Leader not available: {part.name} has no live in-sync replica")
        if not self.broker_alive(part.leader):
            return None, KafkaError(KafkaError._TRANSPORT, reason=f"Connection to broker {part.leader} refused")
        if leader_hint is not None and leader_hint != part.leader:
            return None, KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION,
                                    reason=f"Broker: Not leader for partition: broker {leader_hint} is not the "
                                           f"leader of {part.name} (broker {part.leader} is)")
        return part, None

    def produce(self, topic, partition, records, *, acks, on_done, leader_hint=None,
                producer_id=-1, producer_epoch=-1, base_sequence=-1, transactional=False, compression="none"):
        """Produce: send one batch to the partition leader. ``on_done(err, base_offset)`` runs when the
        response reaches the client (never for a lost response; the client's request timeout handles that).
        ``compression`` is the producer's ``compression.type`` (see :mod:`eventsim.record_validation`)."""
        target = leader_hint if leader_hint is not None else self.leader_for(topic, partition)

        def respond(err, base_offset, via):
            if err is None and self.network.take_dropped_response(topic, partition):
                self.record_event(f"{topic}-{partition}: produce response lost on the network")
                return
            self.network.send(via, CLIENT, lambda: on_done(err, base_offset), f"produce response {topic}-{partition}")

        def at_broker():
            part, err = self._route(topic, partition, target)
            if err is not None:
                return respond(err, -1, target if target and target > 0 else CLIENT)
            self._check_transactional(part, producer_id, transactional, records)
            if "compact" in part.topic.config_value("cleanup.policy") and any(r.key is None for r in records):
                return respond(KafkaError(KafkaError.INVALID_RECORD,
                                          reason=f"Broker: Invalid record: compacted topic {topic} cannot accept "
                                                 f"a message without a key"), -1, part.leader)
            invalid = record_validation.validate(part.topic, records, compression, self.clock.now_ms)
            if invalid is not None:
                return respond(invalid, -1, part.leader)
            for r in records:
                r.transactional = transactional
            leader = part.leader
            part.append(records, acks, lambda err, base: respond(err, base, leader),
                        producer_id, producer_epoch, base_sequence)

        if target is None or target < 0 or not self.broker_alive(target):
            _, err = self._route(topic, partition, None)
            if target is not None and target >= 0 and not self.broker_alive(target):
                err = KafkaError(KafkaError._TRANSPORT, reason=f"Connection to broker {target} refused")
            self.clock.schedule(1, lambda: on_done(err, -1), "produce connect error")
            return
        self.network.send(CLIENT, target, at_broker, f"produce {topic}-{partition}")

    def _check_transactional(self, part, producer_id, transactional, records):
        if transactional:
            self.transactions.on_transactional_produce(part, producer_id)

    def fetch(self, topic, partition, offset, *, isolation_level="read_committed", max_records=500,
              leader_hint=None):
        """Fetch for a consumer (answered at once; no network latency is modelled for consumer fetches)."""
        part, err = self._route(topic, partition, leader_hint)
        if err is not None:
            return FetchResult(error=err)
        leader = part.leader_replica
        base = dict(high_watermark=leader.high_watermark, last_stable_offset=part.last_stable_offset,
                    log_start_offset=leader.log.log_start_offset, leader_epoch=part.leader_epoch)
        if offset < leader.log.log_start_offset or offset > leader.log_end_offset:
            return FetchResult(error=KafkaError(
                KafkaError.OFFSET_OUT_OF_RANGE,
                reason=f"Broker: Offset out of range: {offset} is outside [{leader.log.log_start_offset}, "
                       f"{leader.log_end_offset}] for {part.name}"), next_offset=offset, **base)
        records, next_offset, _ = part.read_for_consumer(offset, isolation_level, max_records)
        return FetchResult(records=records, next_offset=next_offset,
                           control_end=_control_end(leader, offset, next_offset), **base)

    def list_offsets(self, topic, partition, spec, *, isolation_level="read_committed"):
        """ListOffsets: ``OFFSET_BEGINNING`` -> log start, ``OFFSET_END`` -> high watermark (or LSO for
        read_committed), a timestamp -> the first offset whose timestamp is at or after it."""
        part, err = self._route(topic, partition, None)
        if err is not None:
            return err, -1
        leader = part.leader_replica
        end = part.last_stable_offset if isolation_level == "read_committed" else leader.high_watermark
        if spec == OFFSET_BEGINNING:
            return None, leader.log.log_start_offset
        if spec == OFFSET_END:
            return None, end
        if not isinstance(spec, int) or spec < 0:
            return KafkaError(KafkaError._INVALID_ARG, reason=f"invalid offset spec {spec!r}"), -1
        found = leader.log.offset_for_timestamp(spec)
        if found is None or found >= end:
            return None, -1
        return None, found

    # -- hooks used by partitions -------------------------------------------------------------------------
    def on_high_watermark(self, part):
        for listener in list(self._hw_listeners):
            listener(part)

    def on_leader_change(self, part, old, new):
        self.transactions.on_leader_change(part)

    # -- snapshot --------------------------------------------------------------------------------------
    def snapshot(self, records=False, max_records=20, include_internal=False):
        """The common, JSON-able snapshot (see ``snapshot.py``)."""
        from .snapshot import build_sim_snapshot
        return build_sim_snapshot(self, records=records, max_records=max_records, include_internal=include_internal)
