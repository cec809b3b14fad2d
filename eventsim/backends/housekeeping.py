"""Retention and compaction on a real cluster: wait until the brokers have done it, and say what moved.

Real brokers delete expired segments every ``log.retention.check.interval.ms`` and compact logs when the
log cleaner looks (every ``log.cleaner.backoff.ms``); nothing in Kafka's protocol triggers either on
demand. The local backend starts its brokers with short intervals, so ``run_retention_now()`` and
``run_log_cleaner_now()`` only have to wait a moment and then report, as the simulator's do:

* retention: ``{"topic-partition": (old log start offset, new log start offset)}``;
* compaction: ``{"topic-partition": number of records removed}``.

Both look only at the cluster through the client API (ListOffsets, DescribeConfigs, Fetch), so what they
report is what any consumer could see.
"""
from __future__ import annotations

import time

POLL_S = 0.25


def _user_partitions(admin, timeout=10):
    md = admin.list_topics(timeout=timeout)
    return sorted((t, p) for t, tm in md.topics.items() if not t.startswith("__")
                  for p in tm.partitions)


def log_start_offsets(admin, partitions, timeout=10):
    """``{(topic, partition): log start offset}`` by ListOffsets(EARLIEST)."""
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import OffsetSpec
    if not partitions:
        return {}
    futures = admin.list_offsets({TopicPartition(t, p): OffsetSpec.earliest() for t, p in partitions},
                                 request_timeout=timeout)
    out = {}
    for tp, future in futures.items():
        try:
            out[(tp.topic, tp.partition)] = future.result(timeout=timeout).offset
        except Exception:  # noqa: BLE001 - a partition without a leader right now has no answer
            continue
    return out


def wait_for_retention(admin, interval_ms, timeout):
    """Wait two retention checks (at most ``timeout`` s) and return the log start offsets that moved."""
    parts = _user_partitions(admin)
    before = log_start_offsets(admin, parts)
    time.sleep(min(timeout, 2 * interval_ms / 1000 + 0.5))
    after = log_start_offsets(admin, parts)
    return {"%s-%d" % tp: (before[tp], after[tp]) for tp in sorted(before)
            if tp in after and after[tp] != before[tp]}


def compacted_partitions(admin, timeout=10):
    """The partitions of topics whose ``cleanup.policy`` includes ``compact``."""
    from confluent_kafka.admin import ConfigResource, ResourceType
    parts = _user_partitions(admin)
    topics = sorted({t for t, _ in parts})
    if not topics:
        return []
    futures = admin.describe_configs([ConfigResource(ResourceType.TOPIC, t) for t in topics],
                                     request_timeout=timeout)
    compacted = set()
    for res, future in futures.items():
        entry = future.result(timeout=timeout).get("cleanup.policy")
        if entry is not None and "compact" in (entry.value or ""):
            compacted.add(res.name)
    return [(t, p) for t, p in parts if t in compacted]


def record_counts(client_conf, partitions, timeout=10):
    """``{(topic, partition): records a read_uncommitted consumer reads from the log start to the end}``."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    from .realsnapshot import records_until_eof
    counts = {tp: 0 for tp in partitions}
    if not partitions:
        return counts
    consumer = Consumer(dict(client_conf, **{"group.id": "eventsim-housekeeping", "enable.auto.commit": False,
                                             "enable.partition.eof": True, "log_level": 0,
                                             "isolation.level": "read_uncommitted"}))
    try:
        pending = set()
        for tp in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(*tp), timeout=timeout)
            if high > low:
                pending.add(tp)
        consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in sorted(pending)])
        for msg in records_until_eof(consumer, pending, timeout):
            counts[(msg.topic(), msg.partition())] += 1
    finally:
        consumer.close()
    return counts


def wait_for_compaction(admin, client_conf, timeout, first_change_s=5.0, settle_s=1.5):
    """Wait until the record counts of compacted partitions drop and then hold still for ``settle_s``
    (or ``first_change_s`` pass with no change: nothing was cleanable); return what was removed."""
    parts = compacted_partitions(admin)
    if not parts:
        return {}
    before = record_counts(client_conf, parts)
    began = time.monotonic()
    latest, changed_at = before, None
    while time.monotonic() - began < timeout:
        time.sleep(POLL_S * 2)
        now = record_counts(client_conf, parts)
        if now != latest:
            latest, changed_at = now, time.monotonic()
        elif changed_at is None and time.monotonic() - began > first_change_s:
            break
        elif changed_at is not None and time.monotonic() - changed_at > settle_s:
            break
    return {"%s-%d" % tp: before[tp] - latest[tp] for tp in sorted(parts) if latest[tp] != before[tp]}
