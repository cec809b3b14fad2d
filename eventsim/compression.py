"""Record batches on the wire: how many bytes a batch takes, compressed or not.

Kafka checks a topic's ``max.message.bytes`` against a whole *record batch* as it arrives - after the
producer compressed it (``compression.type`` on the producer) - and again after the broker rewrote it for
the topic's own ``compression.type`` (``producer`` keeps what the producer sent, ``uncompressed`` stores it
decompressed, a codec recompresses). A highly compressible value far over the limit is therefore accepted
when compressed, but refused by a topic that stores it uncompressed.

gzip is measured with the real DEFLATE (``zlib``); snappy, lz4 and zstd are not in Python's stdlib, so
their size is *estimated* deterministically as DEFLATE at level 1 (close for the repetitive and the random
data a course uses). A codec never makes a batch larger: librdkafka sends a batch that did not shrink
uncompressed.
"""
from __future__ import annotations

import zlib

#: Kafka's v2 record batch header (DefaultRecordBatch.RECORD_BATCH_OVERHEAD): base offset, length, epoch,
#: magic, CRC, attributes, offsets, timestamps, producer id / epoch, base sequence, record count.
BATCH_OVERHEAD = 61

#: The codecs ``compression.type`` names, mapped to the zlib level that measures (or estimates) them.
_ZLIB_LEVEL = {"gzip": 6, "snappy": 1, "lz4": 1, "zstd": 1}


def varint_size(n):
    """Bytes of ``n`` as a zig-zag varint, as Kafka's v2 records encode lengths (-1 for null is 1 byte)."""
    n = (n << 1) ^ (n >> 63)
    size = 1
    while n >= 0x80:
        n >>= 7
        size += 1
    return size


def record_bytes(record):
    """One v2 record's bytes: its fields as varints, key, value and headers (``null`` is length -1)."""
    body = 1 + 1 + 1                                    # attributes, timestamp delta, offset delta (small)
    for field in (record.key, record.value):
        body += varint_size(-1 if field is None else len(field)) + len(field or b"")
    body += varint_size(len(record.headers or []))
    for name, value in record.headers or []:
        name = name.encode()
        body += varint_size(len(name)) + len(name) + varint_size(-1 if value is None else len(value))
        body += len(value or b"")
    return varint_size(body) + body


def _payload(records):
    """The records' bytes as a codec would see them (lengths framed, so equal values still compress)."""
    parts = []
    for r in records:
        for field in (r.key, r.value):
            parts.append(len(field or b"").to_bytes(4, "big") + (field or b""))
        for name, value in r.headers or []:
            parts.append(name.encode() + (value or b""))
    return b"".join(parts)


def batch_bytes(records, codec):
    """The size of one record batch of ``records`` compressed with ``codec`` (``none`` / ``uncompressed``,
    ``gzip``, ``snappy``, ``lz4``, ``zstd``): the batch header plus the records, or their compressed form
    when that is smaller."""
    plain = sum(record_bytes(r) for r in records)
    level = _ZLIB_LEVEL.get(codec)
    if level is None:
        return BATCH_OVERHEAD + plain
    return BATCH_OVERHEAD + min(plain, len(zlib.compress(_payload(records), level)))


def stored_codec(producer_codec, topic_codec):
    """The codec the broker stores a batch with: the topic's ``compression.type``, where ``producer``
    (the default) keeps the producer's codec."""
    if topic_codec in (None, "producer"):
        return producer_codec
    return "none" if topic_codec == "uncompressed" else topic_codec
