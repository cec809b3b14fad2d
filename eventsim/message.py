"""``TopicPartition`` and ``Message``: the two value types a client hands around, as in confluent-kafka.

Portability: ``eventsim.TopicPartition`` (what learners import) is confluent-kafka's own class, because a
real consumer accepts nothing else. The simulator takes those as input everywhere; the ones it *returns*
are this module's ``TopicPartition``, which looks and prints the same and can carry an ``error``.
"""
from __future__ import annotations

import confluent_kafka as _confluent

# Logical offsets, with librdkafka's values (confluent_kafka.OFFSET_*).
OFFSET_BEGINNING = -2
OFFSET_END = -1
OFFSET_STORED = -1000
OFFSET_INVALID = -1001

# Timestamp types (confluent_kafka.TIMESTAMP_*): message.timestamp() returns (type, ms).
TIMESTAMP_NOT_AVAILABLE = 0
TIMESTAMP_CREATE_TIME = 1
TIMESTAMP_LOG_APPEND_TIME = 2


class _AcceptsConfluentTopicPartition(type):
    """``isinstance(confluent_kafka.TopicPartition(...), TopicPartition)`` is true: the simulator's type checks
    accept the real client's objects."""

    def __instancecheck__(cls, obj):
        return type.__instancecheck__(cls, obj) or isinstance(obj, _confluent.TopicPartition)


class TopicPartition(metaclass=_AcceptsConfluentTopicPartition):
    """A topic, a partition number and an optional offset (plus ``metadata``, ``leader_epoch``, ``error``)."""

    __slots__ = ("topic", "partition", "offset", "metadata", "leader_epoch", "error")

    def __init__(self, topic, partition=-1, offset=OFFSET_INVALID, metadata=None, leader_epoch=None):
        if not isinstance(topic, str):
            raise TypeError("TopicPartition topic must be a str")
        if not isinstance(partition, int) or not isinstance(offset, int):
            raise TypeError("TopicPartition partition and offset must be int")
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.metadata = metadata
        self.leader_epoch = leader_epoch
        self.error = None

    def _key(self):
        return (self.topic, self.partition)

    def __eq__(self, other):
        if not isinstance(other, TopicPartition):
            return NotImplemented
        return self._key() == (other.topic, other.partition)

    def __lt__(self, other):
        return self._key() < (other.topic, other.partition)

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return (f"TopicPartition{{topic={self.topic},partition={self.partition},offset={self.offset},"
                f"leader_epoch={self.leader_epoch},error={self.error}}}")

    __str__ = __repr__


#: librdkafka's RD_KAFKA_PARTITION_UA: no partition chosen yet (``Message.partition()`` is ``None`` then).
PARTITION_UA = -1


def event_message(error, topic=None, partition=None, offset=None, leader_epoch=None):
    """An event a consumer's ``poll()`` returns instead of a record (``error()`` set), as librdkafka builds
    it: the error string is its payload (``value()``), it has no timestamp (``(TIMESTAMP_NOT_AVAILABLE,
    -1)``), and the fetch's leader epoch if it came from a fetch (``_PARTITION_EOF``)."""
    return Message(topic=topic, partition=partition, offset=offset, value=error.str().encode(),
                   timestamp=(TIMESTAMP_NOT_AVAILABLE, -1), error=error, leader_epoch=leader_epoch)


class Message:
    """One record as a consumer sees it, or a delivery report / event carrying ``error()``.

    As in confluent-kafka, a negative offset (``OFFSET_INVALID``: a failed delivery, ``acks=0``) reads as
    ``None``, and so does partition -1 (no partition chosen yet)."""

    __slots__ = ("_topic", "_partition", "_offset", "_key", "_value", "_headers", "_timestamp",
                 "_error", "_leader_epoch", "_latency")

    def __init__(self, topic=None, partition=None, offset=None, key=None, value=None, headers=None,
                 timestamp=(TIMESTAMP_NOT_AVAILABLE, 0), error=None, leader_epoch=None, latency=None):
        self._topic = topic
        self._partition = partition
        self._offset = offset
        self._key = key
        self._value = value
        self._headers = headers
        self._timestamp = timestamp
        self._error = error
        self._leader_epoch = leader_epoch
        self._latency = latency

    def topic(self):
        return self._topic

    def partition(self):
        return None if self._partition is None or self._partition == PARTITION_UA else self._partition

    def offset(self):
        return None if self._offset is None or self._offset < 0 else self._offset

    def key(self):
        return self._key

    def value(self):
        return self._value

    def headers(self):
        return None if not self._headers else list(self._headers)

    def timestamp(self):
        return self._timestamp

    def error(self):
        return self._error

    def leader_epoch(self):
        return self._leader_epoch

    def latency(self):
        return self._latency

    def delivery_count(self):
        """How often a share group has delivered this record (KIP-932); ``None`` for everything else: records
        of a normal consumer and delivery reports. Simplified: the simulator has no share consumer."""
        return None

    def deserialized_key(self):
        """The very object ``key()`` returns (a ``DeserializingConsumer`` puts its deserialized key there)."""
        return self._key

    def deserialized_value(self):
        """The very object ``value()`` returns (see :meth:`deserialized_key`)."""
        return self._value

    def set_key(self, key, /):
        self._key = key

    def set_value(self, value, /):
        self._value = value

    def set_headers(self, headers, /):
        self._headers = headers

    def set_topic(self, value, /):
        """Replace what ``topic()`` returns (any object, as confluent-kafka stores it); returns ``None``."""
        self._topic = value

    def set_error(self, value, /):
        """Replace what ``error()`` returns (any object, as confluent-kafka stores it); returns ``None``."""
        self._error = value

    def __len__(self):
        return len(self._value) if self._value is not None else 0

    def __repr__(self):
        if self._error is not None:
            return f"<Message error={self._error!r} topic={self._topic} partition={self._partition}>"
        return (f"<Message {self._topic}[{self._partition}]@{self._offset} key={self._key!r} "
                f"value={self._value!r}>")
