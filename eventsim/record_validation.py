"""What a partition leader checks in a produce request's batch before appending it (Kafka's
``LogValidator`` and ``UnifiedLog.append``), with the error code the producer's delivery report carries.

* ``max.message.bytes``: the batch as sent (compressed by the producer), and again as stored after the
  topic's ``compression.type`` rewrote it -> ``MSG_SIZE_TOO_LARGE`` (broker ``MESSAGE_TOO_LARGE``);
* ``message.timestamp.before.max.ms`` / ``message.timestamp.after.max.ms`` (default one hour in Kafka 4.x):
  a ``CreateTime`` further behind or ahead of the broker's clock -> ``INVALID_TIMESTAMP``. Topics with
  ``message.timestamp.type=LogAppendTime`` overwrite the timestamp instead, so they never check it.
"""
from __future__ import annotations

from .compression import batch_bytes, stored_codec
from .errors import KafkaError

NO_TIMESTAMP = -1


def check_size(topic, records, codec):
    """``MSG_SIZE_TOO_LARGE`` if the batch, as sent or as stored, is over the topic's ``max.message.bytes``."""
    limit = int(topic.config_value("max.message.bytes"))
    stored = stored_codec(codec, topic.config_value("compression.type"))
    sizes = {batch_bytes(records, codec), batch_bytes(records, stored)}
    if max(sizes) > limit:
        return KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, reason=(
            f"Broker: Message size too large: the record batch is {max(sizes)} bytes, over max.message.bytes={limit}"))
    return None


def check_timestamps(topic, records, now_ms):
    """``INVALID_TIMESTAMP`` if a CreateTime is outside ``message.timestamp.before.max.ms`` /
    ``message.timestamp.after.max.ms`` of the broker's clock ``now_ms``."""
    if topic.config_value("message.timestamp.type") == "LogAppendTime":
        return None
    before = int(topic.config_value("message.timestamp.before.max.ms"))
    after = int(topic.config_value("message.timestamp.after.max.ms"))
    for r in records:
        if r.timestamp != NO_TIMESTAMP and (now_ms - r.timestamp > before or r.timestamp - now_ms > after):
            return KafkaError(KafkaError.INVALID_TIMESTAMP, reason=(
                f"Broker: Invalid timestamp: {r.timestamp} is outside [{now_ms - before}, {now_ms + after}] "
                f"(message.timestamp.before.max.ms={before}, message.timestamp.after.max.ms={after})"))
    return None


def validate(topic, records, codec, now_ms):
    """The first error the leader answers for this batch, or None."""
    return check_size(topic, records, codec) or check_timestamps(topic, records, now_ms)
