"""The cluster as an admin client describes it: ``describe_cluster``, ``describe_topics``, ``cluster_id``,
``list_groups`` and ``elect_leaders`` (Kafka's DescribeCluster, Metadata, DescribeGroups and ElectLeaders
requests).

A mixin of ``eventsim.admin.AdminClient``. The results are confluent-kafka's own classes
(``DescribeClusterResult``, ``TopicDescription``, ``TopicPartitionInfo``, ``Node``, ``GroupMetadata``), so
code reading them runs unchanged on real Kafka.

Checked on Kafka 4.4 (KRaft, PLAINTEXT, no authorizer):

* ``describe_cluster().result().controller`` is *a live broker*: in KRaft the controllers are not reachable
  by clients, and a broker names some live broker as "controller" for old clients. The simulator names its
  lowest live broker.
* ``describe_topics`` of a name that does not exist fails with ``UNKNOWN_TOPIC_OR_PART``, of an invalid
  name with ``TOPIC_EXCEPTION``; a name given twice fails the request with ``_INVALID_ARG``.
* ``elect_leaders`` answers per partition: ``None`` (elected), or a ``KafkaError`` such as
  ``ELECTION_NOT_NEEDED`` (84) when the preferred replica already leads (PREFERRED) or the partition has a
  leader (UNCLEAN). With ``partitions=None`` only the partitions that needed an election are listed.
"""
from __future__ import annotations

import uuid
import warnings

from confluent_kafka import ElectionType, TopicCollection
from confluent_kafka import TopicPartition as _ConfluentTopicPartition
from confluent_kafka._model import Node, TopicPartitionInfo
from confluent_kafka.admin import AclOperation, DescribeClusterResult, GroupMember, GroupMetadata, TopicDescription
from confluent_kafka.admin import BrokerMetadata as _BrokerMetadata
from confluent_kafka.cimpl import Uuid

from .errors import KafkaError, KafkaException
from .message import TopicPartition

#: What an unauthorized cluster allows a client (no authorizer): ``include_authorized_operations=True``.
CLUSTER_OPERATIONS = [AclOperation.CREATE, AclOperation.ALTER, AclOperation.DESCRIBE, AclOperation.CLUSTER_ACTION,
                      AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE]
TOPIC_OPERATIONS = [AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DELETE,
                    AclOperation.ALTER, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS,
                    AclOperation.ALTER_CONFIGS]


class ClusterAdmin:
    """Mixin of ``AdminClient``: cluster, topic and leader descriptions, and leader elections."""

    # -- DescribeCluster -------------------------------------------------------------------------------
    def describe_cluster(self, **kwargs):
        """DescribeCluster: a future whose result is a ``DescribeClusterResult`` (``cluster_id``,
        ``controller``, ``nodes`` - the live brokers - and ``authorized_operations``).
        Options: ``request_timeout``, ``include_authorized_operations``."""
        from .admin import _check_kwargs, _done_future
        _check_kwargs(kwargs, ("request_timeout", "include_authorized_operations"))
        with_ops = _check_include_ops(kwargs)
        error = self._no_broker_error()
        if error is not None:
            return _done_future(error=error)
        nodes = self._live_nodes()
        controller = next((n for n in nodes if n.id == self._cluster.controller_id), nodes[0])
        return _done_future(DescribeClusterResult(controller, nodes, self._cluster.cluster_id,
                                                  list(CLUSTER_OPERATIONS) if with_ops else None))

    def cluster_id(self, *args, **kwargs):
        """``cluster_id(timeout=-1)``: the cluster id (``cluster.id`` of the Metadata response, KIP-78)."""
        (timeout,) = _c_args(args, kwargs, (("timeout", -1),))
        _check_timeout(timeout)
        if self._no_broker_error() is not None:
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT, reason=(
                "Failed to retrieve cluster id: Local: Timed out. The broker must support KIP-78 (>= 0.10.1) "
                "for the cluster id to be available.")))
        return self._cluster.cluster_id

    def _no_broker_error(self):
        if not any(b.alive for b in self._cluster.brokers.values()):
            return KafkaError(KafkaError._TIMED_OUT, reason="Failed while waiting for response from broker: "
                                                            "Local: Timed out")
        return None

    def _live_nodes(self):
        return [Node(b.id, b.host, b.port, b.rack) for _, b in sorted(self._cluster.brokers.items()) if b.alive]

    # -- Metadata: describe_topics -----------------------------------------------------------------------
    def describe_topics(self, topics, **kwargs):
        """Metadata for topics by name: ``{topic: Future}``, each a ``TopicDescription`` (``name``,
        ``topic_id``, ``is_internal``, ``partitions`` as ``TopicPartitionInfo`` with leader / replicas / isr
        ``Node``\\ s). ``topics`` is a ``TopicCollection``. Options: ``request_timeout``,
        ``include_authorized_operations``."""
        from .admin import _check_kwargs, _done_future
        if not isinstance(topics, TopicCollection):
            raise TypeError("Expected input to be instance of TopicCollection")
        names = topics.topic_names
        if not isinstance(names, list):
            raise TypeError("Expected list of topic names to be described")
        _check_kwargs(kwargs, ("request_timeout", "include_authorized_operations"))
        for index, name in enumerate(names):
            if not isinstance(name, str):
                raise TypeError("Expected list of topics strings, not %s" % type(name).__name__)
            if not name:
                raise ValueError("Empty topic name at index %d isn't allowed" % index)
        with_ops = _check_include_ops(kwargs)
        if len(set(names)) != len(names):
            error = KafkaError(KafkaError._INVALID_ARG, reason="Duplicate topics not allowed")
            return {name: _done_future(error=error) for name in names}
        return {name: self._describe_topic(name, with_ops) for name in names}

    def _describe_topic(self, name, with_ops):
        from . import config as _config
        from .admin import _done_future
        error = self._no_broker_error()
        if error is None and _config.validate_topic_name(name) is not None:
            error = KafkaError(KafkaError.TOPIC_EXCEPTION, reason="Broker: Invalid topic")
        topic = self._cluster.topics.get(name)
        if error is None and topic is None:
            error = KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, reason="Broker: Unknown topic or partition")
        if error is not None:
            return _done_future(error=error)
        nodes = {n.id: n for n in self._live_nodes()}

        def node(broker_id):
            b = self._cluster.brokers.get(broker_id)
            return nodes.get(broker_id) or (Node(broker_id, b.host, b.port, b.rack) if b else None)
        partitions = [TopicPartitionInfo(p.index, node(p.leader) if p.leader >= 0 else None,
                                         [node(r) for r in p.replicas], [node(r) for r in p.isr])
                      for p in topic.partitions]
        return _done_future(TopicDescription(name, _uuid(topic.topic_id), topic.internal, partitions,
                                             list(TOPIC_OPERATIONS) if with_ops else None))

    # -- ListGroups + DescribeGroups: the legacy list_groups -------------------------------------------------
    def list_groups(self, *args, **kwargs):
        """Deprecated ``list_groups``: ListGroups and DescribeGroups in one call, a list of ``GroupMetadata``
        (``id``, ``state``, ``protocol_type``, ``protocol``, ``members``, coordinator ``broker``). Use
        ``list_consumer_groups`` and ``describe_consumer_groups`` instead. Arguments: ``group=None``
        (one group id), ``timeout=-1``."""
        warnings.warn("list_groups() is deprecated, use list_consumer_groups() and describe_consumer_groups() "
                      "instead.", category=DeprecationWarning, stacklevel=2)
        group, timeout = _c_args(args, kwargs, (("group", None), ("timeout", -1)))
        if group is not None and not isinstance(group, str):
            raise TypeError("argument 1 must be str or None, not %s" % type(group).__name__)
        _check_timeout(timeout)
        if self._no_broker_error() is not None:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT, reason="Failed to list groups: "
                                                                          "Local: Broker transport failure"))
        ids = [gid for gid, _ in self._cluster.groups.list_groups()]
        if group is not None:
            ids = [gid for gid in ids if gid == group]
        return [self._group_metadata(gid) for gid in ids]

    def _group_metadata(self, group_id):
        described = self._cluster.groups.describe(group_id)
        group = self._cluster.groups.groups.get(group_id)
        meta = GroupMetadata()
        coordinator = self._coordinator(group_id)
        meta.broker = _BrokerMetadata()
        meta.broker.id, meta.broker.host, meta.broker.port = coordinator.id, coordinator.host, coordinator.port
        meta.id, meta.error, meta.state = group_id, None, described["state"]
        meta.protocol = described.get("protocol") or ""
        meta.protocol_type = getattr(group, "protocol_type", "") if group is not None else ""
        meta.members = [_group_member(m, group) for m in described.get("members", [])]
        return meta

    # -- ElectLeaders ------------------------------------------------------------------------------------
    def elect_leaders(self, election_type, partitions=None, **kwargs):
        """ElectLeaders: a future whose result is ``{TopicPartition: KafkaError | None}``.

        ``ElectionType.PREFERRED`` moves leadership back to each partition's first replica (if it is alive
        and in the ISR); ``ElectionType.UNCLEAN`` elects a live out-of-sync replica of a partition with no
        leader (records only the old leader had are lost). ``partitions=None``: every partition.

        confluent-kafka 2.16 cannot pass any option to this call: ``request_timeout`` or
        ``operation_timeout`` raise ``SystemError`` there, and so they do here.
        """
        from .admin import _done_future
        if not isinstance(election_type, ElectionType):
            raise TypeError("Expected 'election_type' to be of type 'ElectionType'")
        if partitions is not None:
            if not isinstance(partitions, list):
                raise TypeError("Expected 'partitions' to be a list, got '%s'" % type(partitions).__name__)
            for tp in partitions:
                if not isinstance(tp, TopicPartition):
                    raise TypeError("Element of the 'partitions' list must be of type 'TopicPartition' got "
                                    "'%s' " % type(tp).__name__)
                if tp.partition < 0:
                    raise ValueError("Elements of the 'partitions' list must not have negative value for "
                                     "'partition' field")
        if kwargs:
            raise SystemError("more argument specifiers than keyword list entries (remaining format:'f')")
        if partitions is not None and len({(tp.topic, tp.partition) for tp in partitions}) != len(partitions):
            return _done_future(error=KafkaError(KafkaError._INVALID_ARG, reason="Duplicate partitions specified"))
        error = self._no_broker_error()
        if error is not None:
            return _done_future(error=error)
        return _done_future(self._elect(election_type, partitions))

    def _elect(self, election_type, partitions):
        wanted = ([(tp.topic, tp.partition) for tp in partitions] if partitions is not None
                  else [(p.topic.name, p.index) for p in self._cluster.all_partitions()])
        result = {}
        for topic, index in wanted:
            error = self._elect_one(election_type, topic, index)
            if partitions is None and error is not None and error.code() == KafkaError.ELECTION_NOT_NEEDED:
                continue
            key = ResultTopicPartition(topic, index, 0)
            key.error = None if error is None else KafkaError(error.code())   # the key's error: no detail
            result[key] = error
        return result

    def _elect_one(self, election_type, topic, index):
        """One partition's election by the controller: None, or the partition's ``KafkaError``."""
        if topic not in self._cluster.topics:
            return KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, reason="No such topic as %s" % topic)
        part = self._cluster.partition(topic, index)
        if part is None:
            return KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART,
                              reason="No such partition as %s-%d" % (topic, index))
        if election_type.name == "PREFERRED":
            return self._elect_preferred(part)
        return self._elect_unclean(part)

    def _elect_preferred(self, part):
        preferred = part.replicas[0]
        if part.leader == preferred:
            return _not_needed()
        if preferred not in part.isr or not self._cluster.broker_usable(preferred):
            return KafkaError(KafkaError.PREFERRED_LEADER_NOT_AVAILABLE, reason=(
                "Failed to elect leader for partition %s under strategy PREFERRED" % part.name))
        self._cluster.controller.elect_preferred_leaders([part])
        return None

    def _elect_unclean(self, part):
        if part.leader >= 0:
            return _not_needed()
        live = [b for b in part.replicas if self._cluster.broker_usable(b)]
        if not live:
            return KafkaError(KafkaError.ELIGIBLE_LEADERS_NOT_AVAILABLE, reason=(
                "Failed to elect leader for partition %s under strategy UNCLEAN" % part.name))
        part.isr = [live[0]]
        self._cluster.controller._set_leader(part, live[0], "unclean leader election (ElectLeaders)")
        return None


# -- helpers ---------------------------------------------------------------------------------------------

class ResultTopicPartition(TopicPartition):
    """A ``TopicPartition`` in a result (it carries an ``error``) that a dict finds by confluent-kafka's
    ``TopicPartition(topic, partition)``, as the real client's result keys are found."""
    __slots__ = ()

    def __hash__(self):
        return hash(_ConfluentTopicPartition(self.topic, self.partition))


ResultTopicPartition.__name__ = ResultTopicPartition.__qualname__ = "TopicPartition"


def _check_include_ops(kwargs):
    value = kwargs.get("include_authorized_operations", False)
    if not isinstance(value, bool):
        raise TypeError("Expected include_authorized_operations to be bool type, not %s" % type(value).__name__)
    return value


def _c_args(args, kwargs, spec):
    """Positional-or-keyword arguments parsed as confluent-kafka's C methods parse them (PyArg_Parse...)."""
    names = [name for name, _ in spec]
    for key in kwargs:
        if key not in names:
            raise TypeError("'%s' is an invalid keyword argument for this function" % key)
    if len(args) > len(spec):
        raise TypeError("function takes at most %d arguments (%d given)" % (len(spec), len(args) + len(kwargs)))
    values = list(args) + [kwargs.get(name, default) for name, default in spec[len(args):]]
    for name in names[:len(args)]:
        if name in kwargs:
            raise TypeError("argument for function given by name ('%s') and position" % name)
    return values


def _check_timeout(timeout):
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError("must be real number, not %s" % type(timeout).__name__)


def _not_needed():
    return KafkaError(KafkaError.ELECTION_NOT_NEEDED, reason="Leader election not needed for topic partition.")


def _uuid(text):
    """A topic id (``uuid`` text) as confluent-kafka's ``Uuid`` (two signed 64-bit halves)."""
    value = uuid.UUID(text).int

    def signed(bits):
        return bits - (1 << 64) if bits >= 1 << 63 else bits
    return Uuid(signed(value >> 64), signed(value & ((1 << 64) - 1)))


def _group_member(member, group):
    """One member of a ``GroupMetadata``: its id, client and the consumer protocol's raw bytes."""
    out = GroupMember()
    out.id, out.client_id, out.client_host = member["member_id"], member.get("client_id", ""), "/sim"
    live = group.members.get(member["member_id"]) if group is not None else None
    subscription = sorted(getattr(live, "subscription", []) or [])
    out.metadata = _subscription_bytes(subscription)
    out.assignment = _assignment_bytes(member.get("assignment", []))
    return out


def _string(text):
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


def _subscription_bytes(topics):
    """ConsumerProtocolSubscription v3 as librdkafka sends it: topics, no user data, no owned partitions,
    generation -1, empty rack."""
    body = (3).to_bytes(2, "big") + len(topics).to_bytes(4, "big") + b"".join(_string(t) for t in topics)
    return body + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00" + b"\xff\xff\xff\xff" + b"\x00\x00"


def _assignment_bytes(assignment):
    """ConsumerProtocolAssignment v0: topics with their partition numbers, no user data."""
    by_topic = {}
    for topic, partition in assignment:
        by_topic.setdefault(topic, []).append(partition)
    body = (0).to_bytes(2, "big") + len(by_topic).to_bytes(4, "big")
    for topic, parts in sorted(by_topic.items()):
        body += _string(topic) + len(parts).to_bytes(4, "big") + b"".join(p.to_bytes(4, "big") for p in sorted(parts))
    return body + b"\x00\x00\x00\x00"
