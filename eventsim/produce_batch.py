"""``Producer.produce_batch(topic, messages, partition=-1, callback=None, on_delivery=None)``: confluent-kafka
2.16's wrapper of librdkafka's ``rd_kafka_produce_batch()``.

How it differs from calling ``produce()`` in a loop (all checked on confluent-kafka 2.16.1 / Kafka 4.4):

* ``messages`` is a ``list`` of dicts with ``value``, ``key`` (``bytes``/``str``/``None``) and
  ``callback`` (that message's delivery callback; the batch's ``callback``/``on_delivery`` otherwise).
  Every entry is checked before any is queued: a bad one raises (``TypeError``; a ``timestamp`` is
  ``NotImplementedError``; headers that do not parse are ``ValueError``) and nothing is queued.
* Valid ``headers`` are dropped (librdkafka's batch API has none), and so is a message's own
  ``partition``: librdkafka is called without ``RD_KAFKA_MSG_F_PARTITION``, so every message goes to the
  batch's ``partition`` (or, with the default -1, wherever the partitioner puts it).
* A message librdkafka refuses is not raised: its dict gets an ``_error`` key (a ``KafkaError`` "Message
  failed: ..."), it gets no delivery report, and the return value counts only the queued messages. A
  partition the topic does not have fails every message with ``_UNKNOWN_PARTITION``; a message over
  ``message.max.bytes`` fails alone with ``MSG_SIZE_TOO_LARGE``; a full queue fails it and every message
  after it with ``_QUEUE_FULL``; a topic the producer already found missing fails with ``_UNKNOWN_TOPIC``;
  a transactional producer outside a transaction fails them all with ``_STATE``.
"""
from __future__ import annotations

from .errors import KafkaError, KafkaException


def _batch_field(entry, name, index):
    """A message's ``value`` or ``key``: ``bytes`` or ``str`` (UTF-8), or ``None``."""
    value = entry.get(name)
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"Message {name} at index {index} must be bytes or str")


def _parse_entry(entry, index, default_cb, normalize_headers):
    """One dict of the batch -> ``(key, value, callback)``; raises like confluent-kafka's parser."""
    if not isinstance(entry, dict):
        raise TypeError(f"Message at index {index} must be a dict")
    value, key = _batch_field(entry, "value", index), _batch_field(entry, "key", index)
    partition = entry.get("partition")
    if partition is not None and not isinstance(partition, int):
        raise TypeError(f"Message partition at index {index} must be int")
    if entry.get("timestamp") is not None:
        raise NotImplementedError("Message timestamps are not currently supported in batch mode")
    callback = entry.get("callback")
    if entry.get("headers") is not None:
        try:
            normalize_headers(entry["headers"])      # parsed, then dropped
        except (TypeError, ValueError):
            raise ValueError(f"Invalid headers at index {index}") from None
    return key, value, callback if callback is not None else default_cb


class ProduceBatch:
    """Mixed into ``Producer``: ``produce_batch`` on top of the producer's ``_enqueue`` step."""

    def produce_batch(self, topic, messages, partition=-1, callback=None, on_delivery=None):
        """Queue every message of ``messages`` (a list of dicts) for ``topic``; returns how many were queued.
        A message that could not be queued has an ``_error`` key in its dict afterwards."""
        from .producer import _c_int, _normalize_headers
        if not isinstance(topic, str):
            raise TypeError(f"argument 1 must be str, not {type(topic).__name__}")
        if not isinstance(partition, int):
            raise TypeError(f"'{type(partition).__name__}' object cannot be interpreted as an integer")
        partition = _c_int(partition, 32, "partition")
        default_cb = callback if callback is not None else on_delivery
        if default_cb is None:
            default_cb = self._default_cb
        if not isinstance(messages, list):
            raise TypeError("messages must be a list")
        if not messages:
            return 0
        if self._closed:
            raise RuntimeError("Producer has been closed")
        parsed = [_parse_entry(entry, i, default_cb, _normalize_headers) for i, entry in enumerate(messages)]
        return self._queue_batch(topic, partition, messages, parsed)

    def _queue_batch(self, topic, partition, messages, parsed):
        """``rd_kafka_produce_batch``: queue each message, or mark it with ``_error``."""
        all_error = self._batch_state_error() or self._batch_partition_error(topic, partition)
        queued = 0
        for entry, (key, value, cb) in zip(messages, parsed):
            err = all_error or self._batch_message_error(topic, key, value)
            if err is None:
                self._enqueue(topic, partition, key, value, None, 0, cb)
                queued += 1
                continue
            if err == KafkaError._QUEUE_FULL:
                all_error = err
            entry["_error"] = KafkaError(err, reason="Message failed: " + KafkaError(err).str())
        return queued

    def _batch_state_error(self):
        """A transactional producer outside a transaction (before ``init_transactions`` or between
        transactions) fails every message with ``_STATE``, where ``produce()`` raises it."""
        if self._txn_state is not None and self._txn_state != "InTransaction":
            return KafkaError._STATE
        return None

    def _batch_partition_error(self, topic, partition):
        """Every message fails with ``_UNKNOWN_PARTITION`` when the producer's metadata says the topic has no
        such partition (librdkafka looks the partition up once for the whole batch)."""
        if partition == -1:
            return None
        try:
            self._check_partition_known(topic, partition)
        except KafkaException as exc:
            return exc.args[0].code()
        cached = self._partition_counts.get(topic)
        return KafkaError._UNKNOWN_PARTITION if cached is not None and partition < 0 else None

    def _batch_message_error(self, topic, key, value):
        """The per-message checks of ``rd_kafka_msg_new``: size, known-missing topic, queue space."""
        from .producer import _record_size
        if _record_size(key, value, None) > self._max_message_bytes:
            return KafkaError.MSG_SIZE_TOO_LARGE
        try:
            self._check_known_missing(topic)
        except KafkaException as exc:
            return exc.args[0].code()
        if self._outstanding >= self._queue_max:
            return KafkaError._QUEUE_FULL
        return None
