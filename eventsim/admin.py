"""``AdminClient``: create and delete topics, add partitions, read and change configs, inspect groups.

Mirrors ``confluent_kafka.admin``: the same classes (``NewTopic``, ``NewPartitions``,
``ConfigResource``, ``ConfigEntry``, ``ClusterMetadata``, ``ConsumerGroupListing``, ...), the same
methods returning ``concurrent.futures.Future`` objects keyed by topic / resource / group, the same
argument checks (``TypeError`` / ``ValueError`` raised at the call) and errors set on the futures as
``KafkaException(KafkaError(...))`` with Kafka's codes (``TOPIC_ALREADY_EXISTS`` 36,
``INVALID_PARTITIONS`` 37, ``INVALID_REPLICATION_FACTOR`` 38, ``INVALID_CONFIG`` 40, ...).

The admin client is thin: it checks arguments, sends each request to the simulated cluster (the
``Cluster`` methods named after Kafka's CreateTopics, DeleteTopics, CreatePartitions,
DescribeConfigs, AlterConfigs, Metadata, ListGroups, DescribeGroups, OffsetFetch, DeleteGroups
requests) and shapes the answers.

Simplification: a request is answered at once, so every future is already done when the method
returns (on real Kafka the futures complete a few milliseconds later; ``f.result()`` works the same).
``operation_timeout`` and ``request_timeout`` are checked but have nothing to wait for.
"""
from __future__ import annotations

import concurrent.futures
import warnings
from enum import Enum
from functools import total_ordering

import confluent_kafka as _confluent_kafka
import confluent_kafka.admin as _confluent_admin

from . import assignment as _assignment
from . import config as _config
from .admin_cluster import ClusterAdmin
from .admin_offsets import OffsetsAdmin
from .admin_security import SecurityAdmin
from . import config_sources as _sources
from .errors import KafkaError, KafkaException
from .message import OFFSET_INVALID, TopicPartition

# =====================================================================================================
# Request and resource types (confluent_kafka.admin's shapes)
# =====================================================================================================


class ResourceType(Enum):
    """The kind of resource a ``ConfigResource`` names (``confluent_kafka.admin.ResourceType``)."""
    UNKNOWN = 0
    ANY = 1
    TOPIC = 2
    GROUP = 3
    BROKER = 4
    TRANSACTIONAL_ID = 5

    def __lt__(self, other):
        if not isinstance(other, ResourceType):
            return NotImplemented
        return self.value < other.value


class ConfigSource(Enum):
    """Where a config value comes from (``DescribeConfigs``' ``ConfigSource``)."""
    UNKNOWN_CONFIG = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5
    GROUP_CONFIG = 8


class AlterConfigOpType(Enum):
    """The operations of ``IncrementalAlterConfigs``."""
    SET = 0
    DELETE = 1
    APPEND = 2
    SUBTRACT = 3


class ConsumerGroupState(Enum):
    """A consumer group's state as the admin API reports it."""
    UNKNOWN = 0
    PREPARING_REBALANCING = 1
    COMPLETING_REBALANCING = 2
    STABLE = 3
    DEAD = 4
    EMPTY = 5

    def __lt__(self, other):
        if not isinstance(other, ConsumerGroupState):
            return NotImplemented
        return self.value < other.value


class ConsumerGroupType(Enum):
    """``CLASSIC`` groups use the JoinGroup/SyncGroup protocol; the simulator has only those."""
    UNKNOWN = 0
    CONSUMER = 1
    CLASSIC = 2


# The group coordinator's state names -> the admin API's enum.
_GROUP_STATES = {
    "Stable": ConsumerGroupState.STABLE, "Empty": ConsumerGroupState.EMPTY,
    "PreparingRebalance": ConsumerGroupState.PREPARING_REBALANCING,
    "CompletingRebalance": ConsumerGroupState.COMPLETING_REBALANCING, "Dead": ConsumerGroupState.DEAD,
}

CONFIG_SOURCE_UNKNOWN_CONFIG = ConfigSource.UNKNOWN_CONFIG.value
CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG = ConfigSource.DYNAMIC_TOPIC_CONFIG.value
CONFIG_SOURCE_DEFAULT_CONFIG = ConfigSource.DEFAULT_CONFIG.value
CONFIG_SOURCE_STATIC_BROKER_CONFIG = ConfigSource.STATIC_BROKER_CONFIG.value
RESOURCE_TOPIC = ResourceType.TOPIC.value
RESOURCE_BROKER = ResourceType.BROKER.value
RESOURCE_GROUP = ResourceType.GROUP.value


@total_ordering
class NewTopic:
    """A topic to create: ``NewTopic("orders", num_partitions=3, replication_factor=3, config={...})``.

    ``-1`` means "the broker's default" (``num.partitions``, ``default.replication.factor``).
    ``replica_assignment`` lists the replica broker ids of each partition (then leave
    ``replication_factor`` at -1).
    """

    def __init__(self, topic, num_partitions=-1, replication_factor=-1, replica_assignment=None, config=None):
        if not isinstance(topic, str):
            raise TypeError("argument 1 must be str, not %s" % _type_name(topic))
        for value in (num_partitions, replication_factor):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError("'%s' object cannot be interpreted as an integer" % _type_name(value))
        if config is not None and not isinstance(config, dict):
            raise TypeError("config must be a dict of strings")
        self.topic = topic
        self.num_partitions = num_partitions
        self.replication_factor = replication_factor
        self.replica_assignment = replica_assignment
        self.config = config

    def _key(self):
        return (self.topic, self.num_partitions, self.replication_factor)

    def __eq__(self, other):
        return isinstance(other, NewTopic) and self._key() == other._key()

    def __lt__(self, other):
        return self.topic < other.topic

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return "NewTopic(topic=%s,num_partitions=%d)" % (self.topic, self.num_partitions)

    __str__ = __repr__


@total_ordering
class NewPartitions:
    """Grow a topic to ``new_total_count`` partitions (Kafka never removes partitions)."""

    def __init__(self, topic, new_total_count, replica_assignment=None):
        if not isinstance(topic, str):
            raise TypeError("argument 1 must be str, not %s" % _type_name(topic))
        if isinstance(new_total_count, bool) or not isinstance(new_total_count, int):
            raise TypeError("'%s' object cannot be interpreted as an integer" % _type_name(new_total_count))
        self.topic = topic
        self.new_total_count = new_total_count
        self.replica_assignment = replica_assignment

    def __eq__(self, other):
        return isinstance(other, NewPartitions) and (self.topic, self.new_total_count) == (
            other.topic, other.new_total_count)

    def __lt__(self, other):
        return self.topic < other.topic

    def __hash__(self):
        return hash((self.topic, self.new_total_count))

    def __repr__(self):
        return "NewPartitions(topic=%s,new_total_count=%d)" % (self.topic, self.new_total_count)

    __str__ = __repr__


class ConfigEntry:
    """One config of a resource, as ``describe_configs`` returns it (and as an incremental change)."""

    def __init__(self, name, value, source=ConfigSource.UNKNOWN_CONFIG, is_read_only=False, is_default=False,
                 is_sensitive=False, is_synonym=False, synonyms=None, incremental_operation=None):
        self.name = name
        self.value = value
        self.source = source
        self.is_read_only = bool(is_read_only)
        self.is_default = bool(is_default)
        self.is_sensitive = bool(is_sensitive)
        self.is_synonym = bool(is_synonym)
        self.synonyms = synonyms if synonyms is not None else {}
        self.incremental_operation = incremental_operation

    def __repr__(self):
        return 'ConfigEntry(%s="%s")' % (self.name, self.value)

    def __str__(self):
        return '%s="%s"' % (self.name, self.value)


@total_ordering
class ConfigResource:
    """A resource with configs: ``ConfigResource(ConfigResource.Type.TOPIC, "orders")`` (or ``"topic"``)."""

    Type = ResourceType

    def __init__(self, restype, name, set_config=None, described_configs=None, error=None,
                 incremental_configs=None):
        if name is None:
            raise ValueError("Expected resource name to be a string")
        if isinstance(restype, str):
            try:
                restype = ResourceType[restype.upper()]
            except KeyError:
                raise ValueError('Unknown resource type "%s": should be a ConfigResource.Type' % restype) from None
        elif isinstance(restype, int):
            restype = ResourceType(restype)
        elif not isinstance(restype, ResourceType):
            restype = ResourceType[_enum_name(restype)]       # confluent_kafka's ResourceType
        self.restype = restype
        self.restype_int = restype.value
        self.name = name
        self.set_config_dict = dict(set_config) if set_config is not None else {}
        self.incremental_configs = list(incremental_configs or [])
        self.configs = described_configs
        self.error = error

    def __repr__(self):
        if self.error is not None:
            return "ConfigResource(%s,%s,%r)" % (self.restype, self.name, self.error)
        return "ConfigResource(%s,%s)" % (self.restype, self.name)

    def __hash__(self):
        return hash((self.restype, self.name))

    def __eq__(self, other):
        if not isinstance(other, ConfigResource):
            return NotImplemented
        return self.restype == other.restype and self.name == other.name

    def __lt__(self, other):
        if not isinstance(other, ConfigResource):
            return NotImplemented
        return (self.restype.value, self.name) < (other.restype.value, other.name)

    def __len__(self):
        return len(self.set_config_dict)

    def set_config(self, name, value, overwrite=True):
        """Set a config for ``alter_configs`` (which resets every config not set to its default)."""
        if overwrite or name not in self.set_config_dict:
            self.set_config_dict[name] = value

    def add_incremental_config(self, config_entry):
        """Add a ``ConfigEntry`` with an ``incremental_operation`` for ``incremental_alter_configs``."""
        self.incremental_configs.append(config_entry)


class ConsumerGroupTopicPartitions:
    """A group id and (optionally) partitions: the request and the answer of ``list_consumer_group_offsets``."""

    def __init__(self, group_id, topic_partitions=None):
        self.group_id = group_id
        self.topic_partitions = topic_partitions

    def __repr__(self):
        return "ConsumerGroupTopicPartitions(%s, %r)" % (self.group_id, self.topic_partitions)


# =====================================================================================================
# Result types
# =====================================================================================================

class BrokerMetadata:
    """A broker in a Metadata response: ``id``, ``host``, ``port``."""

    def __init__(self, id=-1, host=None, port=-1):  # noqa: A002 - confluent-kafka's attribute name
        self.id, self.host, self.port = id, host, port

    def __repr__(self):
        return "BrokerMetadata(%d, %s:%d)" % (self.id, self.host, self.port)

    def __str__(self):
        return "%s:%d/%d" % (self.host, self.port, self.id)


class PartitionMetadata:
    """A partition in a Metadata response: ``id``, ``leader`` (-1 if none), ``replicas``, ``isrs``, ``error``."""

    def __init__(self, id=-1, leader=-1, replicas=None, isrs=None, error=None):  # noqa: A002
        self.id, self.leader = id, leader
        self.replicas = list(replicas or [])
        self.isrs = list(isrs or [])
        self.error = error

    def __repr__(self):
        if self.error is not None:
            return "PartitionMetadata(%d, %s)" % (self.id, self.error)
        return "PartitionMetadata(%d)" % self.id

    def __str__(self):
        return str(self.id)


class TopicMetadata:
    """A topic in a Metadata response: ``topic``, ``partitions`` {id: PartitionMetadata}, ``error``."""

    def __init__(self, topic=None, partitions=None, error=None):
        self.topic = topic
        self.partitions = dict(partitions or {})
        self.error = error

    def __repr__(self):
        if self.error is not None:
            return "TopicMetadata(%s, %d partitions, %s)" % (self.topic, len(self.partitions), self.error)
        return "TopicMetadata(%s, %d partitions)" % (self.topic, len(self.partitions))

    def __str__(self):
        return str(self.topic)


class ClusterMetadata:
    """What ``list_topics()`` returns: ``brokers``, ``topics``, ``cluster_id``, ``controller_id``..."""

    def __init__(self):
        self.cluster_id = None
        self.controller_id = -1
        self.brokers = {}
        self.topics = {}
        self.orig_broker_id = -1
        self.orig_broker_name = None

    def __repr__(self):
        return "ClusterMetadata(%s)" % self.cluster_id

    def __str__(self):
        return str(self.cluster_id)


class Node:
    """A broker as the group APIs name it (e.g. a group's coordinator)."""

    def __init__(self, id, host, port, rack=None):  # noqa: A002
        self.id, self.id_string, self.host, self.port, self.rack = id, str(id), host, port, rack

    def __str__(self):
        return f"({self.id}) {self.host}:{self.port} {f'(Rack - {self.rack})' if self.rack else ''}"

    __repr__ = __str__


class ConsumerGroupListing:
    """One group in ``list_consumer_groups()``' result."""

    def __init__(self, group_id, is_simple_consumer_group, state=None, type=None):  # noqa: A002
        self.group_id = group_id
        self.is_simple_consumer_group = is_simple_consumer_group
        self.state = state
        self.type = type

    def __repr__(self):
        return "ConsumerGroupListing(%s, %s)" % (self.group_id, self.state)


class ListConsumerGroupsResult:
    """``list_consumer_groups()``' result: ``valid`` listings and per-broker ``errors``."""

    def __init__(self, valid=None, errors=None):
        self.valid = valid
        self.errors = errors


class MemberAssignment:
    """The partitions assigned to one member."""

    def __init__(self, topic_partitions=None):
        self.topic_partitions = list(topic_partitions or [])


class MemberDescription:
    """One member of a described group."""

    def __init__(self, member_id, client_id, host, assignment, group_instance_id=None, target_assignment=None):
        self.member_id, self.client_id, self.host = member_id, client_id, host
        self.assignment = assignment
        self.group_instance_id = group_instance_id
        self.target_assignment = target_assignment

    def __repr__(self):
        return "MemberDescription(%s, %s)" % (self.member_id, self.client_id)


class ConsumerGroupDescription:
    """``describe_consumer_groups()``' result for one group."""

    def __init__(self, group_id, is_simple_consumer_group, members, partition_assignor, state, coordinator,
                 authorized_operations=None, type=ConsumerGroupType.UNKNOWN):  # noqa: A002
        self.group_id = group_id
        self.is_simple_consumer_group = is_simple_consumer_group
        self.members = members
        self.partition_assignor = partition_assignor
        self.state = state
        self.coordinator = coordinator
        self.authorized_operations = authorized_operations
        self.type = type

    def __repr__(self):
        return "ConsumerGroupDescription(%s, %s, %d members)" % (self.group_id, self.state, len(self.members))


# =====================================================================================================
# Helpers
# =====================================================================================================

def _type_name(value):
    return "None" if value is None else type(value).__name__


def _enum_name(value):
    """The member name of an enum value, whether ours or confluent_kafka's (which share names)."""
    return getattr(value, "name", value)


def _done_future(result=None, error=None):
    """A ``concurrent.futures.Future`` already completed, as confluent-kafka's would be once answered."""
    future = concurrent.futures.Future()
    future.set_running_or_notify_cancel()
    if error is not None:
        future.set_exception(error if isinstance(error, Exception) and not isinstance(error, KafkaError)
                             else KafkaException(error))
    else:
        future.set_result(result)
    return future


def _check_kwargs(kwargs, allowed):
    """confluent-kafka refuses options a call does not take, and checks the timeouts and flags."""
    for key in kwargs:
        if key not in allowed:
            raise TypeError("'%s' is an invalid keyword argument for this function" % key)
    for key, low in (("operation_timeout", -1), ("request_timeout", 0)):
        if key in kwargs:
            value = kwargs[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError("must be real number, not %s" % _type_name(value))
            if not low <= value * 1000 <= 3600000:
                raise ValueError('Invalid value type for "%s": expecting integer in range %d..3600000' % (key, low))
    if "validate_only" in kwargs and not isinstance(kwargs["validate_only"], bool):
        raise TypeError("Expected validate_only to be bool type, not %s" % _type_name(kwargs["validate_only"]))


def _call(request, *args, **kwargs):
    """Send one request to the cluster; a raised ``KafkaException`` is taken as the error answer."""
    try:
        return request(*args, **kwargs)
    except KafkaException as exc:
        return exc.args[0]


def _controller_error(cluster):
    """With no live broker there is no controller to answer; librdkafka reports a timeout."""
    if cluster.controller_id == -1:
        return KafkaError(KafkaError._TIMED_OUT, reason="Failed while waiting for controller: Local: Timed out")
    return None


#: librdkafka's default timeout of an admin request (``socket.timeout.ms``), in seconds.
DEFAULT_ADMIN_REQUEST_TIMEOUT_S = 60
#: How long a broker waits for the controller to answer a request it forwarded before it answers
#: ``REQUEST_TIMED_OUT`` itself (Kafka 4.4: about 60 s, whatever the request's own timeout).
FORWARDING_TIMEOUT_MS = 60_000


def _metadata_write_error(cluster, kwargs):
    """CreateTopics, DeleteTopics, CreatePartitions and (Incremental)AlterConfigs on topics are writes to
    the KRaft metadata log: the broker forwards them to the active controller. Without one (the quorum
    lost its majority) the forwarded request is never answered; librdkafka gives up after the request's
    ``request_timeout`` (60 s by default) with ``_TIMED_OUT``; a client that waits longer hears the broker
    give up first, after its own 60 s, with ``REQUEST_TIMED_OUT`` (both checked on Kafka 4.4). The virtual
    clock moves by that wait."""
    if cluster.controller.available:
        return None
    timeout_ms = int(1000 * (kwargs.get("request_timeout") or DEFAULT_ADMIN_REQUEST_TIMEOUT_S))
    if timeout_ms > FORWARDING_TIMEOUT_MS:
        cluster.advance(FORWARDING_TIMEOUT_MS)
        return KafkaError(KafkaError.REQUEST_TIMED_OUT, reason="Broker: Request timed out")
    cluster.advance(timeout_ms)
    return KafkaError(KafkaError._TIMED_OUT, reason="Failed while waiting for response from broker: Local: Timed out")


def _require_list(value, what):
    if not isinstance(value, list):
        raise TypeError("argument 1 must be list, not %s" % _type_name(value))
    if not value:
        raise ValueError("Expected non-empty list of %s" % what)


def cluster_metadata(cluster, topic=None):
    """A ``ClusterMetadata`` built from the cluster's Metadata answer (also used by ``list_topics`` of the
    producer and consumer). A topic asked for by name that does not exist comes back with the error
    ``UNKNOWN_TOPIC_OR_PART`` and no partitions, as from a broker with ``auto.create.topics.enable=false``.
    """
    if topic is not None and not isinstance(topic, str):
        raise TypeError("argument 1 must be str or None, not %s" % _type_name(topic))
    live = {bid: b for bid, b in sorted(cluster.brokers.items()) if b.alive}
    if not live:
        raise KafkaException(KafkaError(KafkaError._TRANSPORT,
                                        reason="Failed to get metadata: Local: Broker transport failure"))
    md = ClusterMetadata()
    md.cluster_id = cluster.cluster_id
    md.controller_id = cluster.controller_id
    md.brokers = {bid: BrokerMetadata(bid, b.host, b.port) for bid, b in live.items()}
    origin = live[min(live)]
    md.orig_broker_id, md.orig_broker_name = origin.id, "%s:%d/%d" % (origin.host, origin.port, origin.id)
    answer = cluster.metadata(include_internal=True)
    names = [topic] if topic is not None else sorted(answer)
    for name in names:
        if name not in answer:
            md.topics[name] = TopicMetadata(name, {}, KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART))
            continue
        parts = {p.partition: PartitionMetadata(p.partition, p.leader, p.replicas, p.isr, getattr(p, "error", None))
                 for p in answer[name]}
        md.topics[name] = TopicMetadata(name, parts)
    return md


# =====================================================================================================
# The admin client
# =====================================================================================================

class AdminClient(ClusterAdmin, OffsetsAdmin, SecurityAdmin):
    """The admin client of a simulated cluster: ``AdminClient({"bootstrap.servers": cluster.bootstrap_servers})``.

    The configuration is checked as confluent-kafka's ``AdminClient`` checks it (a librdkafka producer
    handle underneath); ``bootstrap.servers`` names the simulated cluster.

    Its methods are grouped by concept: topics, configs and consumer groups here; cluster and topic
    descriptions, leader elections and ``list_groups`` in ``ClusterAdmin`` (``admin_cluster.py``); offsets
    and records in ``OffsetsAdmin`` (``admin_offsets.py``); ACLs and SCRAM in ``SecurityAdmin``
    (``admin_security.py``).
    """

    def __init__(self, conf, **kwargs):
        from .cluster import Cluster
        if not isinstance(conf, dict):
            raise TypeError("expected configuration dict")
        self._conf = _config.client_config(dict(conf, **kwargs), "admin")
        self._cluster = Cluster.lookup(self._conf["bootstrap.servers"])

    # -- topics ---------------------------------------------------------------------------------------
    def create_topics(self, new_topics, **kwargs):
        """CreateTopics: ``{topic: Future}``; each future's ``result()`` is None or raises ``KafkaException``.

        Options: ``operation_timeout``, ``request_timeout`` (seconds), ``validate_only``.
        """
        _check_kwargs(kwargs, ("operation_timeout", "request_timeout", "validate_only"))
        if not isinstance(new_topics, list):
            raise TypeError("'%s' object is not iterable" % _type_name(new_topics))
        if not new_topics:
            raise ValueError("Expected non-empty list of NewTopic objects")
        for new_topic in new_topics:
            _check_new_topic(new_topic)
        counts = {}
        for new_topic in new_topics:
            counts[new_topic.topic] = counts.get(new_topic.topic, 0) + 1
        validate_only = kwargs.get("validate_only", False)
        lost = _metadata_write_error(self._cluster, kwargs)
        futures = {}
        for new_topic in new_topics:
            if new_topic.topic in futures:
                continue
            if lost is not None:
                error = lost
            elif counts[new_topic.topic] > 1:
                error = KafkaError(KafkaError.INVALID_REQUEST,
                                   reason="Create topics request contains multiple entries for the following "
                                          "topics: %s" % new_topic.topic)
            else:
                error = self._create_topic(new_topic, validate_only)
            futures[new_topic.topic] = _done_future(error=error)
        return futures

    def _create_topic(self, new_topic, validate_only):
        error = _controller_error(self._cluster) or _config.validate_topic_name(new_topic.topic)
        if error is not None:
            return error
        try:
            topic_config = _config.validate_topic_config(new_topic.config)
        except KafkaException as exc:
            return exc.args[0]
        return _call(self._cluster.create_topic, new_topic.topic, new_topic.num_partitions,
                     new_topic.replication_factor, topic_config,
                     replica_assignment=_client_assignment(new_topic), validate_only=validate_only)

    def delete_topics(self, topics, **kwargs):
        """DeleteTopics: ``{topic: Future}``. Deleting a topic that does not exist fails with
        ``UNKNOWN_TOPIC_OR_PART``. Options: ``operation_timeout``, ``request_timeout``."""
        _check_kwargs(kwargs, ("operation_timeout", "request_timeout"))
        _require_list(topics, "topic strings")
        if not all(isinstance(t, str) for t in topics):
            raise TypeError("Expected list of topic strings")
        lost = _metadata_write_error(self._cluster, kwargs)
        futures = {}
        for topic in topics:
            if topic not in futures:
                error = lost or _controller_error(self._cluster) or _call(self._cluster.delete_topic, topic)
                futures[topic] = _done_future(error=error)
        return futures

    def create_partitions(self, new_partitions, **kwargs):
        """CreatePartitions: ``{topic: Future}``. Partitions can only be added; keys hashed by the
        partitioner may then map to different partitions. Options as ``create_topics``."""
        _check_kwargs(kwargs, ("operation_timeout", "request_timeout", "validate_only"))
        _require_list(new_partitions, "NewPartitions objects")
        for item in new_partitions:
            if not all(hasattr(item, a) for a in ("topic", "new_total_count")):
                raise ValueError("Expected list of NewPartitions objects")
            if not 1 <= item.new_total_count <= 100000:
                raise ValueError("Invalid NewPartitions(%s): new_total_cnt out of expected range 1..100000"
                                 % item.topic)
            _client_assignment(item)
        lost = _metadata_write_error(self._cluster, kwargs)
        futures = {}
        for item in new_partitions:
            if item.topic not in futures:
                error = lost or _controller_error(self._cluster) or _call(
                    self._cluster.create_partitions, item.topic, item.new_total_count,
                    replica_assignment=_client_assignment(item),
                    validate_only=kwargs.get("validate_only", False))
                futures[item.topic] = _done_future(error=error)
        return futures

    def list_topics(self, topic=None, timeout=-1):
        """Metadata: a ``ClusterMetadata`` with brokers, topics, partitions, leaders and ISRs."""
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError("must be real number, not %s" % _type_name(timeout))
        return cluster_metadata(self._cluster, topic)

    # -- configs ----------------------------------------------------------------------------------------
    def describe_configs(self, resources, **kwargs):
        """DescribeConfigs: ``{ConfigResource: Future}``; each result is ``{name: ConfigEntry}``."""
        _check_kwargs(kwargs, ("request_timeout",))
        _check_resources(resources, ValueError)
        return {res: self._describe(res, kwargs.get("request_timeout")) for res in resources}

    def _describe(self, resource, request_timeout=None):
        """One resource's configs, as a broker describes them (``config_sources.py``: values, sources and
        synonyms; a broker's read-only configs are the ones it cannot change while running)."""
        kind = _enum_name(resource.restype)
        if kind == "TOPIC":
            error, described = self._cluster.describe_topic_config(resource.name)
            if error is not None:
                return _done_future(error=error)
            return _done_future({name: _config_entry(name, *entry) for name, entry in sorted(described.items())})
        if kind == "BROKER":
            error = self._broker_error(resource.name, request_timeout)
            if error is not None:
                return _done_future(error=error)
            from .cluster import BROKER_CONFIGS
            return _done_future({name: _config_entry(name, *_sources.broker_entry(self._cluster, name),
                                                     read_only=not BROKER_CONFIGS[name][3])
                                 for name in sorted(BROKER_CONFIGS)})
        return _done_future(error=_unsupported_resource(resource))

    def _broker_error(self, name, request_timeout=None):
        """A broker resource goes to that broker: its name must be a broker id (librdkafka's check), and
        librdkafka waits for a broker it does not know until the request times out (the virtual clock moves
        by ``request_timeout``, 60 s by default)."""
        if not str(name).isdigit():
            return KafkaError(KafkaError._INVALID_ARG, reason="Expected an int32 broker_id for "
                              "ConfigResource(type=BROKER, name=%s)" % name)
        if int(name) not in self._cluster.brokers:
            self._cluster.advance(int(1000 * (request_timeout or DEFAULT_ADMIN_REQUEST_TIMEOUT_S)))
            return KafkaError(KafkaError._TIMED_OUT, reason="Failed while waiting for broker: Local: Timed out")
        return None

    def alter_configs(self, resources, **kwargs):
        """AlterConfigs (deprecated in Kafka): replaces the resource's whole config; every config not in
        ``set_config`` goes back to its default. Prefer ``incremental_alter_configs``."""
        warnings.warn("alter_configs has been deprecated. Use incremental_alter_configs instead.",
                      category=DeprecationWarning, stacklevel=2)
        _check_kwargs(kwargs, ("request_timeout", "validate_only"))
        _check_resources(resources, ValueError)
        lost = _metadata_write_error(self._cluster, kwargs)
        if lost is not None:
            return {res: _done_future(error=lost) for res in resources}
        return {res: self._alter(res, dict(res.set_config_dict), incremental=False,
                                 validate_only=kwargs.get("validate_only", False),
                                 request_timeout=kwargs.get("request_timeout")) for res in resources}

    def incremental_alter_configs(self, resources, **kwargs):
        """IncrementalAlterConfigs: apply each ``ConfigEntry``'s ``incremental_operation`` (SET, DELETE,
        APPEND or SUBTRACT for list configs such as ``cleanup.policy``); other configs stay as they are."""
        _check_kwargs(kwargs, ("request_timeout", "validate_only", "broker"))
        _check_resources(resources, TypeError)
        for res in resources:
            if not res.incremental_configs:
                raise ValueError("expected non-empty list of ConfigEntry to alter incrementally in "
                                 "incremental_configs field")
            for index, entry in enumerate(res.incremental_configs):
                _check_incremental_entry(index, entry)
        lost = _metadata_write_error(self._cluster, kwargs)
        if lost is not None:
            return {res: _done_future(error=lost) for res in resources}
        duplicate = _duplicate_entry_error(resources)
        if duplicate is not None:
            return {res: _done_future(error=duplicate) for res in resources}
        futures = {}
        for res in resources:
            changes = self._incremental_changes(res)
            if isinstance(changes, KafkaError):
                futures[res] = _done_future(error=changes)
            else:
                futures[res] = self._alter(res, changes, incremental=True,
                                           validate_only=kwargs.get("validate_only", False),
                                           request_timeout=kwargs.get("request_timeout"))
        return futures

    def _incremental_changes(self, resource):
        """Turn SET / DELETE / APPEND / SUBTRACT entries into new values (None removes an override)."""
        current, kind = {}, _enum_name(resource.restype)
        if kind == "TOPIC":
            error, described = self._cluster.describe_topic_config(resource.name)
            if error is not None:
                return _missing_topic(resource.name)
            current = {name: value for name, (value, _, _) in described.items()}
        changes = {}
        for entry in resource.incremental_configs:
            op = AlterConfigOpType(entry.incremental_operation.value).name
            if op == "SET":
                changes[entry.name] = entry.value
            elif op == "DELETE":
                changes[entry.name] = None
            else:
                error = _list_op_error(kind, op, entry.name)
                if error is not None:
                    return error
                items = [v for v in current.get(entry.name, "").split(",") if v]    # one entry per name
                given = [v.strip() for v in (entry.value or "").split(",") if v.strip()]
                if op == "APPEND":
                    items += [v for v in given if v not in items]
                else:
                    items = [v for v in items if v not in given]
                changes[entry.name] = ",".join(items)
        return changes

    def _alter(self, resource, changes, incremental, validate_only, request_timeout=None):
        kind = _enum_name(resource.restype)
        if kind == "BROKER":
            error = self._broker_error(resource.name, request_timeout) or _broker_change_error(changes)
            if error is None and not validate_only:
                error = KafkaError(KafkaError.INVALID_REQUEST, reason="The simulator does not support changing "
                                   "broker configs; set them when creating the Cluster(config=...)")
            return _done_future(error=error)
        if kind != "TOPIC":
            return _done_future(error=_unsupported_resource(resource))
        if resource.name not in self._cluster.metadata(include_internal=True):
            return _done_future(error=_missing_topic(resource.name))
        try:
            _config.validate_topic_config({k: v for k, v in changes.items() if v is not None})
        except KafkaException as exc:
            return _done_future(error=exc.args[0])
        if validate_only:
            return _done_future(None)
        error = _call(self._cluster.alter_topic_config, resource.name, changes, incremental)
        return _done_future(error=error)

    # -- consumer groups ----------------------------------------------------------------------------------
    def list_consumer_groups(self, **kwargs):
        """ListGroups: a future whose result is a ``ListConsumerGroupsResult`` (``.valid`` listings).
        Options: ``states`` / ``types`` (sets of ``ConsumerGroupState`` / ``ConsumerGroupType``)."""
        _check_kwargs(kwargs, ("request_timeout", "states", "types"))
        states = _enum_filter(kwargs.get("states"), "states", ConsumerGroupState)
        types = _enum_filter(kwargs.get("types"), "types", ConsumerGroupType)
        listings = []
        for group_id, state in self._cluster.groups.list_groups():
            listing = ConsumerGroupListing(group_id, _is_simple(self._cluster.groups, group_id),
                                           _GROUP_STATES.get(state, ConsumerGroupState.UNKNOWN),
                                           ConsumerGroupType.CLASSIC)
            if (states is None or listing.state.name in states) and (types is None or "CLASSIC" in types):
                listings.append(listing)
        return _done_future(ListConsumerGroupsResult(valid=listings, errors=[]))

    def describe_consumer_groups(self, group_ids, **kwargs):
        """DescribeGroups: ``{group_id: Future}``, each a ``ConsumerGroupDescription``."""
        _check_kwargs(kwargs, ("request_timeout", "include_authorized_operations"))
        _check_group_ids(group_ids, "described")
        return {gid: _done_future(self._describe_group(str(gid))) for gid in group_ids}

    def _describe_group(self, group_id):
        described = self._cluster.groups.describe(group_id)
        members = [MemberDescription(m["member_id"], m.get("client_id", ""), m.get("host", "/sim"),
                                     MemberAssignment([TopicPartition(t, p) for t, p in m.get("assignment", [])]),
                                     m.get("group_instance_id"))
                   for m in described.get("members", [])]
        return ConsumerGroupDescription(
            group_id, _is_simple(self._cluster.groups, group_id), members, described.get("protocol", ""),
            _GROUP_STATES.get(described.get("state"), ConsumerGroupState.UNKNOWN),
            self._coordinator(group_id), type=ConsumerGroupType.CLASSIC)

    def _coordinator(self, group_id):
        find = getattr(self._cluster, "coordinator_for", None)
        broker_id = find(group_id) if find else self._cluster.controller_id
        broker = self._cluster.brokers.get(broker_id)
        return Node(broker.id, broker.host, broker.port) if broker else None

    def list_consumer_group_offsets(self, list_consumer_group_offsets_request, **kwargs):
        """OffsetFetch: ``{group_id: Future}``; the result is a ``ConsumerGroupTopicPartitions`` whose
        partitions carry the committed offsets (``OFFSET_INVALID`` -1001 where none is committed).
        Without partitions in the request, every partition the group has committed is listed."""
        _check_kwargs(kwargs, ("request_timeout", "require_stable"))
        request = list_consumer_group_offsets_request
        _check_offsets_request(request)
        group = request[0]
        if group.topic_partitions is None:
            described = self._cluster.groups.describe(group.group_id)
            wanted = [(o["topic"], o["partition"]) for o in described.get("offsets", [])]
        else:
            wanted = [(tp.topic, tp.partition) for tp in group.topic_partitions]
        committed = self._cluster.groups.committed(group.group_id, wanted)
        partitions = [TopicPartition(t, p, committed.get((t, p), OFFSET_INVALID)) for t, p in wanted]
        return {group.group_id: _done_future(ConsumerGroupTopicPartitions(group.group_id, partitions))}

    def delete_consumer_groups(self, group_ids, **kwargs):
        """DeleteGroups: ``{group_id: Future}``. Only a group with no members can be deleted
        (``NON_EMPTY_GROUP`` otherwise); its committed offsets are deleted with it."""
        _check_kwargs(kwargs, ("request_timeout",))
        _check_group_ids(group_ids, "deleted")
        futures = {}
        for gid in group_ids:
            if gid not in futures:
                futures[gid] = _done_future(error=_call(self._cluster.groups.delete, gid))
        return futures

    def poll(self, timeout=-1):
        """Serve callbacks: the simulated admin client has none pending (its futures are done when returned).
        Returns 0; ``timeout`` is checked as confluent-kafka checks it (``None`` is a ``TypeError``)."""
        from .timeouts import timeout_ms
        timeout_ms(timeout, 0)
        return 0

    def __len__(self):
        return 0


# -- argument checks ---------------------------------------------------------------------------------------

def _check_new_topic(new_topic):
    """librdkafka's checks on a NewTopic (rd_kafka_NewTopic_new), raised as ``ValueError`` at the call."""
    if not all(hasattr(new_topic, a) for a in ("topic", "num_partitions", "replication_factor")):
        raise ValueError("Expected list of NewTopic objects")
    name, partitions, factor = new_topic.topic, new_topic.num_partitions, new_topic.replication_factor
    assignment = getattr(new_topic, "replica_assignment", None)
    if not -1 <= partitions <= 100000:
        raise ValueError("Invalid NewTopic(%s): num_partitions out of expected range 1..100000 or -1 for "
                         "broker default" % name)
    if not -1 <= factor <= 10000:
        raise ValueError("Invalid NewTopic(%s): replication_factor out of expected range -1..10000" % name)
    if assignment is not None:
        if factor != -1:
            raise ValueError("replication_factor and replica_assignment are mutually exclusive")
        if partitions == -1:
            raise ValueError("Specifying a default partition count and a replica assignment are mutually exclusive")
        _client_assignment(new_topic)
    if getattr(new_topic, "config", None) is not None and not isinstance(new_topic.config, dict):
        raise TypeError("config must be a dict of strings")


def _client_assignment(request):
    """The ``replica_assignment`` of a NewTopic / NewPartitions as confluent-kafka sends it (lists of 32-bit
    broker ids), or None; a malformed one raises ``ValueError`` at the call (see ``assignment.py``)."""
    assignment = getattr(request, "replica_assignment", None)
    if assignment is None:
        return None
    if hasattr(request, "new_total_count"):
        return _assignment.check_client_assignment(assignment, 1, request.new_total_count,
                                                   "new_total_count - existing partition count")
    return _assignment.check_client_assignment(assignment, request.num_partitions, request.num_partitions,
                                               "num_partitions")


def _check_resources(resources, error_type):
    """confluent-kafka's checks of a list of ``ConfigResource``: the empty name (a broker resource's
    cluster-wide default too) is refused as librdkafka refuses it."""
    _require_list(resources, "ConfigResource objects")
    for res in resources:
        if not all(hasattr(res, a) for a in ("restype", "name", "set_config_dict")):
            raise error_type("Expected list of %r" % ConfigResource)
        if res.name == "":
            raise ValueError("Invalid ConfigResource(%d,)" % ResourceType[_enum_name(res.restype)].value)


def _missing_topic(name):
    """The controller's answer to a config change of a topic that does not exist."""
    return KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, reason="The topic '%s' does not exist." % name)


def _duplicate_entry_error(resources):
    """librdkafka refuses a request naming one config twice in a resource (every future fails)."""
    for res in resources:
        names = [entry.name for entry in res.incremental_configs]
        if len(set(names)) != len(names):
            return KafkaError(KafkaError._INVALID_ARG, reason="Duplicate ConfigEntry found")
    return None


def _list_op_error(kind, op, name):
    """APPEND and SUBTRACT work on list configs only (``cleanup.policy``, ``log.cleanup.policy``); the
    controller's message for a topic config, the broker's for a broker config."""
    from .cluster import BROKER_CONFIGS
    if kind == "TOPIC" and _config.TOPIC_CONFIGS.get(name, ("",))[0] != "LIST":
        return KafkaError(KafkaError.INVALID_CONFIG,
                          reason="Can't %s to key %s because its type is not LIST." % (op, name))
    if kind == "BROKER" and BROKER_CONFIGS.get(name, ("",))[0] != "LIST":
        return KafkaError(KafkaError.INVALID_CONFIG,
                          reason="Config value %s is not allowed for config key: %s" % (op.lower(), name))
    return None


def _broker_change_error(changes):
    """A Kafka 4.x controller's check of a broker config change: configs a running broker cannot change
    fail it, then values that do not parse (both ``INVALID_REQUEST``); names it does not know pass."""
    from .cluster import BROKER_CONFIGS, _broker_value
    static = [name for name in changes if name in BROKER_CONFIGS and not BROKER_CONFIGS[name][3]]
    if static:
        return KafkaError(KafkaError.INVALID_REQUEST,
                          reason="Cannot update these configs dynamically: [%s]" % ", ".join(static))
    for name, value in changes.items():
        if name in BROKER_CONFIGS and value is not None:
            try:
                _broker_value(name, value)
            except KafkaException as exc:
                return KafkaError(KafkaError.INVALID_REQUEST, reason=exc.args[0].str())
    return None


def _config_entry(name, value, source, synonyms, read_only=False):
    """A described config as confluent-kafka builds it: the source as an int (a ``ConfigSource`` value), the
    synonyms as a dict by name (a later synonym of the same name replaces an earlier one)."""
    return ConfigEntry(name, value, ConfigSource[source].value, is_read_only=read_only,
                       is_default=source == "DEFAULT_CONFIG",
                       synonyms={n: ConfigEntry(n, v, ConfigSource[src].value, is_synonym=True)
                                 for n, v, src in synonyms})


def _unsupported_resource(resource):
    return KafkaError(KafkaError.INVALID_REQUEST, reason="The simulator's configs are for topics and brokers; "
                      "%s resources are not supported" % _enum_name(resource.restype))


def _check_incremental_entry(index, entry):
    """confluent-kafka's ``Admin_incremental_config_to_c``: a ``ConfigEntry`` whose
    ``incremental_operation`` has an int ``.value``, whose ``name`` is a str, and whose ``value`` is a
    str unless the operation is DELETE; ``TypeError`` otherwise, at the call."""
    if not isinstance(entry, (ConfigEntry, _confluent_admin.ConfigEntry)):
        raise TypeError("expected ConfigEntry type in incremental_configs field, index %d" % index)
    op = getattr(entry, "incremental_operation", None)
    _require_attr_type(op, "value", int)
    _require_attr_type(entry, "name", str)
    if op.value != AlterConfigOpType.DELETE.value:
        _require_attr_type(entry, "value", str)
    problem = ("Invalid alter config operation type" if op.value not in {t.value for t in AlterConfigOpType}
               else "Config name mustn't be empty" if not entry.name else None)   # librdkafka's checks
    if problem:
        raise ValueError('setting config entry "%s", index %d, failed: %s' % (entry.name, index, problem))


def _require_attr_type(obj, attr, wanted):
    """confluent-kafka's ``cfl_PyObject_GetAttr``: the attribute must exist and be exactly ``wanted``."""
    if not hasattr(obj, attr):
        raise TypeError("Required attribute .%s missing" % attr)
    value = getattr(obj, attr)
    if type(value) is not wanted:
        raise TypeError("Expected .%s to be %s type, not %s" % (attr, wanted.__name__, type(value).__name__))


def _check_group_ids(group_ids, verb):
    """confluent-kafka's checks of a list of group ids: ``delete_consumer_groups`` wants str ids
    (``ValueError``); ``describe_consumer_groups`` takes anything but None, as ``str()`` of it."""
    if not isinstance(group_ids, list):
        raise TypeError("Expected input to be list of group ids to be %s" % verb)
    if not group_ids:
        raise ValueError("Expected at least one group to be %s" % verb)
    for gid in group_ids:
        if verb == "deleted" and not isinstance(gid, str):
            raise ValueError("Expected list of %r" % str)
        if gid is None:
            raise ValueError("Expected list of group strings, not NoneType")


def _enum_filter(values, name, enum_type):
    """``states`` / ``types`` of ``list_consumer_groups``: a set of the enum's members (the simulator's or
    confluent-kafka's, which share names and values); a type UNKNOWN is refused."""
    if values is None:
        return None
    if not isinstance(values, set):
        raise TypeError("'%s' must be a set" % name)
    names = set()
    for value in values:
        if not isinstance(value, (enum_type, getattr(_confluent_kafka, enum_type.__name__))):
            raise TypeError("All elements of %s must be of type %s" % (name, enum_type.__name__))
        names.add(value.name)
    if enum_type is ConsumerGroupType and "UNKNOWN" in names:
        raise ValueError("UNKNOWN type is not allowed")
    return names


def _check_offsets_request(request):
    """confluent-kafka's checks on a ``list_consumer_group_offsets`` request."""
    if request is None:
        raise TypeError("request cannot be None")
    if not isinstance(request, list):
        raise TypeError("request must be a list")
    if len(request) != 1:
        raise ValueError("Currently we support listing offsets for a single consumer group only")
    group = request[0]
    if not isinstance(group, (ConsumerGroupTopicPartitions, _confluent_kafka.ConsumerGroupTopicPartitions)):
        raise TypeError("Expected list of 'ConsumerGroupTopicPartitions'")
    if group.group_id is None:
        raise TypeError("'group_id' cannot be None")
    if not isinstance(group.group_id, str):
        raise TypeError("'group_id' must be a string")
    if not group.group_id:
        raise ValueError("'group_id' cannot be empty")
    if group.topic_partitions is None:
        return
    if not isinstance(group.topic_partitions, list):
        raise TypeError("'topic_partitions' must be a list or None")
    if not group.topic_partitions:
        raise ValueError("'topic_partitions' cannot be empty")
    for tp in group.topic_partitions:
        if tp is None:
            raise ValueError("Element of 'topic_partitions' cannot be None")
        if not isinstance(tp, TopicPartition):
            raise TypeError("Element of 'topic_partitions' must be of type TopicPartition")
        if tp.topic is None:
            raise TypeError("Element of 'topic_partitions' must not have 'topic' attribute as None")
        if not tp.topic:
            raise ValueError("Element of 'topic_partitions' must not have 'topic' attribute as Empty")
        if tp.partition < 0:
            raise ValueError("Element of 'topic_partitions' must not have negative 'partition' value")
        if tp.offset != OFFSET_INVALID:
            raise ValueError("Element of 'topic_partitions' must not have 'offset' value")


def _is_simple(groups, group_id):
    """A group that only stores offsets (consumers using ``assign()``) is a "simple" group; one that had
    members keeps the protocol type ``consumer`` when it is Empty again (``GroupCoordinator.is_simple``;
    a coordinator without it: no protocol and no members)."""
    is_simple = getattr(groups, "is_simple", None)
    if is_simple is not None:
        return is_simple(group_id)
    described = groups.describe(group_id)
    return not described.get("protocol") and not described.get("members")


# Portability: the topics and partition counts a learner asks for are built with confluent-kafka's own
# request classes, so the same NewTopic / NewPartitions work with this AdminClient and with a real one.
# (The classes above document the shape this module reads; confluent-kafka's carry the same attributes.)
SimNewTopic, SimNewPartitions, SimConfigResource = NewTopic, NewPartitions, ConfigResource
from confluent_kafka.admin import ConfigResource, NewPartitions, NewTopic  # noqa: E402,F811

# The request and result classes of the methods in admin_cluster / admin_offsets / admin_security are
# confluent-kafka's own (constructible from Python): re-exported so ``eventsim.admin`` names them too.
from confluent_kafka import ElectionType, IsolationLevel, TopicCollection  # noqa: E402,F401
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType,  # noqa: E402,F401
                                   DeletedRecords, DescribeClusterResult, GroupMetadata, ListOffsetsResultInfo,
                                   OffsetSpec, ResourcePatternType, ScramCredentialInfo, ScramMechanism,
                                   TopicDescription, UserScramCredentialDeletion, UserScramCredentialsDescription,
                                   UserScramCredentialUpsertion)
