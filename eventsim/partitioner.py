"""librdkafka's partitioners: which partition a producer sends a record to (``partitioner`` config).

Bit-exact with librdkafka 2.x (rdkafka_msg.c, rdcrc32.c, rdmurmur2.c, rdfnv1a.c):

=====================  ==========================================================================
``random``             a random partition for every record
``consistent``         ``crc32(key) % n``
``consistent_random``  like ``consistent``, but a NULL *or empty* key gets a random partition
                       (librdkafka's default)
``murmur2``            ``(murmur2(key) & 0x7fffffff) % n`` -- the Java client's default, so keys land
                       on the same partitions as from Java producers
``murmur2_random``     like ``murmur2``, but a NULL key gets a random partition
``fnv1a``              ``fnv1a(key) % n`` -- Sarama's (Go) default
``fnv1a_random``       like ``fnv1a``, but a NULL key gets a random partition
=====================  ==========================================================================

"Random" is **sticky** for keyless records (KIP-480): librdkafka keeps sending them to one randomly
chosen partition for ``sticky.partitioning.linger.ms`` (default: twice ``linger.ms``), so they fill
one batch instead of many small ones. ``Partitioner`` models that. With the non-``_random``
partitioners (``consistent``, ``murmur2``, ``fnv1a``) a NULL key is hashed like an empty key.

All randomness comes from the cluster's seeded ``random.Random``, never from the wall clock.
"""
from __future__ import annotations

import zlib

PARTITIONERS = ('random', 'consistent', 'consistent_random', 'murmur2', 'murmur2_random', 'fnv1a',
                'fnv1a_random')
DEFAULT_PARTITIONER = 'consistent_random'

_MASK32 = 0xFFFFFFFF


def _key_bytes(key):
    """Keys are bytes on the wire; confluent-kafka encodes ``str`` keys as UTF-8."""
    if key is None or isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytearray, memoryview)):
        return bytes(key)
    raise TypeError("key must be bytes, str or None, not %s" % type(key).__name__)


def crc32(data):
    """CRC-32 (IEEE, the one zlib computes), unsigned: the ``consistent`` partitioner's hash."""
    return zlib.crc32(data) & _MASK32


def murmur2(data):
    """Kafka's murmur2 (seed ``0x9747b28c``), as a signed 32-bit int like Java's ``Utils.murmur2``."""
    m, r = 0x5bd1e995, 24
    length = len(data)
    h = (0x9747b28c ^ length) & _MASK32
    whole = length - length % 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & _MASK32
        k ^= k >> r
        k = (k * m) & _MASK32
        h = ((h * m) & _MASK32) ^ k
    tail = length % 4
    if tail == 3:
        h ^= data[whole + 2] << 16
    if tail >= 2:
        h ^= data[whole + 1] << 8
    if tail >= 1:
        h ^= data[whole]
        h = (h * m) & _MASK32
    h ^= h >> 13
    h = (h * m) & _MASK32
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def fnv1a(data):
    """librdkafka's FNV-1a: 32-bit FNV-1a, read as a signed int32 and made non-negative (Sarama's way).

    Returned as librdkafka returns it, an unsigned 32-bit value (``-2**31`` stays ``0x80000000``).
    """
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & _MASK32
    if h & 0x80000000:                 # negative as int32: take the absolute value
        h = (-(h - (1 << 32))) & _MASK32
    return h


def _random_partition(partition_count, rng, available=None):
    """librdkafka's random partitioner: one draw, and one more if that partition has no leader."""
    p = rng.randrange(partition_count)
    if available is not None and not available(p):
        p = rng.randrange(partition_count)
    return p


def partition_for(name, key, partition_count, rng, available=None):
    """The partition the ``name`` partitioner function picks for one record with ``key``.

    This is the partitioner function alone, record by record; ``Partitioner`` adds librdkafka's
    sticky handling of keyless records. ``available(p)`` (optional) tells whether partition ``p``
    has a leader; only the random choice consults it, as in librdkafka.
    """
    if name not in PARTITIONERS:
        raise ValueError("Unknown partitioner %r; expected one of %s" % (name, ", ".join(PARTITIONERS)))
    if not isinstance(partition_count, int) or partition_count < 1:
        raise ValueError("partition_count must be a positive int, not %r" % (partition_count,))
    data = _key_bytes(key)
    if name == 'random' or (data is None and name.endswith('_random')) \
            or (name == 'consistent_random' and not data):
        return _random_partition(partition_count, rng, available)
    data = data or b""
    if name.startswith('consistent'):
        return crc32(data) % partition_count
    if name.startswith('murmur2'):
        return (murmur2(data) & 0x7fffffff) % partition_count
    return fnv1a(data) % partition_count


class Partitioner:
    """A producer's partitioner for all topics, with librdkafka's sticky partition for keyless records.

    ``sticky_linger_ms`` is ``sticky.partitioning.linger.ms``. When it is above 0 and the partitioner
    is ``random``, ``consistent_random``, ``murmur2_random`` or ``fnv1a_random``, a record without a
    key (and, for ``consistent_random``, with an empty key) goes to the topic's current *sticky*
    partition, which is drawn anew once more than ``sticky_linger_ms`` has passed since the last
    draw, or when it has no leader. Otherwise every record goes through ``partition_for``.
    """

    def __init__(self, name=DEFAULT_PARTITIONER, sticky_linger_ms=10):
        if name not in PARTITIONERS:
            raise ValueError("Unknown partitioner %r; expected one of %s" % (name, ", ".join(PARTITIONERS)))
        self.name = name
        self.sticky_linger_ms = sticky_linger_ms
        self.sticky = sticky_linger_ms > 0 and name not in ('consistent', 'murmur2', 'fnv1a')
        self._sticky_choice = {}          # topic -> (partition, time of the draw in ms)

    def _uses_sticky(self, key):
        if not self.sticky:
            return False
        return key is None or (self.name == 'consistent_random' and len(key) == 0)

    def partition(self, topic, key, partition_count, rng, now_ms, available=None):
        """The partition for one record of ``topic`` produced at virtual time ``now_ms``."""
        data = _key_bytes(key)
        if not self._uses_sticky(data):
            return partition_for(self.name, data, partition_count, rng, available)
        choice = self._sticky_choice.get(topic)
        if choice is not None:
            partition, drawn_at = choice
            still_valid = partition < partition_count and (available is None or available(partition))
            if still_valid and now_ms - drawn_at <= self.sticky_linger_ms:
                return partition
        partition = _random_partition(partition_count, rng, available)
        self._sticky_choice[topic] = (partition, now_ms)
        return partition
