"""Offsets as an admin client moves them: ``list_offsets`` (ListOffsets), ``delete_records``
(DeleteRecords) and ``alter_consumer_group_offsets`` (OffsetCommit on behalf of a group).

A mixin of ``eventsim.admin.AdminClient``; the requests and answers are confluent-kafka's classes
(``OffsetSpec``, ``ListOffsetsResultInfo``, ``DeletedRecords``, ``ConsumerGroupTopicPartitions``,
``IsolationLevel``). The argument checks are confluent-kafka's own (``AdminClient._check_*``).

Checked on Kafka 4.4:

* a request whose partitions *all* do not exist fails each future with ``_NOENT`` ("Failed to query
  partition leaders: No leaders found"); in a request with some existing partitions the missing ones fail
  with ``UNKNOWN_TOPIC_OR_PART``. A partition given twice fails the whole request with ``_INVALID_ARG``.
* ``delete_records`` to offset ``-1`` (``OFFSET_END``) deletes up to the high watermark; beyond it, or any
  other negative offset, is ``OFFSET_OUT_OF_RANGE``; below the log start it changes nothing. The result's
  ``low_watermark`` is the new log start offset.
* ``alter_consumer_group_offsets`` is refused per partition with ``UNKNOWN_MEMBER_ID`` while the group has
  members; offsets beyond the end of a partition are accepted as they are.
"""
from __future__ import annotations

from confluent_kafka import ConsumerGroupTopicPartitions, IsolationLevel
from confluent_kafka.admin import AdminClient as _RealAdminClient
from confluent_kafka.admin import DeletedRecords, ListOffsetsResultInfo, OffsetSpec

from .admin_cluster import ResultTopicPartition
from .errors import KafkaError
from .message import OFFSET_BEGINNING, OFFSET_END, TopicPartition

#: ``OffsetSpec.max_timestamp()``'s value in a ListOffsets request.
MAX_TIMESTAMP = -3
#: Kafka's default ``replica.fetch.wait.max.ms``: how long a follower's fetch waits at the leader for data.
REPLICA_FETCH_WAIT_MAX_MS = 500


class OffsetsAdmin:
    """Mixin of ``AdminClient``: list offsets, delete records, alter a group's committed offsets."""

    # -- ListOffsets -------------------------------------------------------------------------------------
    def list_offsets(self, topic_partition_offsets, **kwargs):
        """ListOffsets: ``{TopicPartition: Future}``, each a ``ListOffsetsResultInfo(offset, timestamp,
        leader_epoch)`` for its ``OffsetSpec``: ``earliest()`` (log start offset), ``latest()`` (high
        watermark, or last stable offset with ``IsolationLevel.READ_COMMITTED``), ``max_timestamp()`` (the
        record with the largest timestamp) or ``for_timestamp(ms)`` (the first record at or after ``ms``).
        Options: ``isolation_level`` (default ``READ_UNCOMMITTED``), ``request_timeout``."""
        from .admin import _check_kwargs, _done_future
        _RealAdminClient._check_list_offsets_request(topic_partition_offsets, kwargs)
        _check_kwargs(kwargs, ("request_timeout", "isolation_level"))
        isolation = kwargs.get("isolation_level", IsolationLevel.READ_UNCOMMITTED)
        requests = [(ResultTopicPartition(tp.topic, int(tp.partition), int(spec._value)), int(spec._value))
                    for tp, spec in topic_partition_offsets.items()]
        bad = next((v for _, v in requests if v < MAX_TIMESTAMP), None)
        errors = self._partition_errors([key for key, _ in requests])
        futures = {}
        for key, value in requests:
            if bad is not None:
                error = KafkaError(KafkaError._INVALID_ARG,
                                   reason="Partition %d has an invalid offset %d" % (key.partition, bad))
            else:
                error = errors.get(key)
            if error is None:
                error, info = self._list_offset(key.topic, key.partition, value, isolation)
            futures[key] = _done_future(error=error) if error is not None else _done_future(info)
        return futures

    def _partition_errors(self, keys):
        """``{key: KafkaError}`` for the partitions that do not exist (``_NOENT`` if none exists)."""
        missing = [k for k in keys if self._cluster.partition(k.topic, k.partition) is None]
        if keys and len(missing) == len(keys):
            error = KafkaError(KafkaError._NOENT, reason="Failed to query partition leaders: No leaders found")
        else:
            error = KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, reason="Broker: Unknown topic or partition")
        return {k: error for k in missing}

    def _list_offset(self, topic, partition, value, isolation):
        """One partition's answer, from its leader: ``(KafkaError | None, ListOffsetsResultInfo | None)``."""
        part = self._cluster.partition(topic, partition)
        epoch = part.leader_epoch
        level = "read_committed" if isolation.name == "READ_COMMITTED" else "read_uncommitted"
        error, offset = self._cluster.list_offsets(topic, partition, OFFSET_END, isolation_level=level)
        if error is not None:
            return error, None
        if value in (OFFSET_BEGINNING, OFFSET_END):
            if value == OFFSET_BEGINNING:
                offset = self._cluster.list_offsets(topic, partition, value, isolation_level=level)[1]
            return None, ListOffsetsResultInfo(offset, -1, epoch)
        records = [r for r in _records_below(part, offset) if r.control is None]
        if value == MAX_TIMESTAMP:
            found = max(records, key=lambda r: (r.timestamp, -r.offset), default=None)
        else:
            found = next((r for r in records if r.timestamp >= value), None)
        if found is None:
            return None, ListOffsetsResultInfo(-1, -1, -1)          # leader_epoch -1 reads back as None
        return None, ListOffsetsResultInfo(found.offset, found.timestamp,
                                           found.leader_epoch if found.leader_epoch >= 0 else epoch)

    # -- DeleteRecords -----------------------------------------------------------------------------------
    def delete_records(self, topic_partition_offsets, **kwargs):
        """DeleteRecords: ``{TopicPartition: Future}``, each a ``DeletedRecords(low_watermark)``. Every
        record before the partition's given offset is deleted (``OFFSET_END`` -1: up to the high
        watermark); consumers can no longer read them and the log start offset moves there.
        Options: ``request_timeout``, ``operation_timeout``."""
        from .admin import _check_kwargs, _done_future
        _RealAdminClient._check_delete_records(topic_partition_offsets)
        _check_kwargs(kwargs, ("request_timeout", "operation_timeout"))
        keys = list(topic_partition_offsets)
        if len({(tp.topic, tp.partition) for tp in keys}) != len(keys):
            error = KafkaError(KafkaError._INVALID_ARG, reason="Duplicate partitions not allowed")
            return {tp: _done_future(error=error) for tp in keys}
        errors = self._partition_errors(keys)
        futures = {}
        for tp in keys:
            error = errors.get(tp)
            if error is None:
                error, low = self._delete_before(tp.topic, tp.partition, tp.offset)
            futures[tp] = _done_future(error=error) if error is not None else _done_future(DeletedRecords(low))
        return futures

    def _delete_before(self, topic, partition, offset):
        """The leader moves its log start offset (its followers follow at their next fetch)."""
        part = self._cluster.partition(topic, partition)
        if part.leader < 0:
            return KafkaError(KafkaError.LEADER_NOT_AVAILABLE), None
        high_watermark = part.high_watermark
        if offset == OFFSET_END:
            offset = high_watermark
        if offset < 0 or offset > high_watermark:
            return KafkaError(KafkaError.OFFSET_OUT_OF_RANGE, reason="Broker: Offset out of range"), None
        log = part.leader_replica.log
        log.delete_records_before(offset)
        # The followers learn the new log start from their next fetch response: a caught-up follower's fetch
        # waits at most replica.fetch.wait.max.ms at the leader, then is answered (empty) anyway.
        self._cluster.clock.schedule(REPLICA_FETCH_WAIT_MAX_MS, part._wake_parked_fetches,
                                     "%s: fetch wait over after DeleteRecords" % part.name)
        return None, log.log_start_offset

    # -- OffsetCommit by the admin client ------------------------------------------------------------------
    def alter_consumer_group_offsets(self, alter_consumer_group_offsets_request, **kwargs):
        """OffsetCommit for a group with no members (e.g. to reset it while its consumers are stopped):
        ``{group_id: Future}``; the result is a ``ConsumerGroupTopicPartitions`` whose partitions carry
        each partition's ``error`` (``UNKNOWN_MEMBER_ID`` while the group has members,
        ``UNKNOWN_TOPIC_OR_PART``). Option: ``request_timeout``."""
        from .admin import _check_kwargs, _done_future
        request = _as_confluent_request(alter_consumer_group_offsets_request)
        _RealAdminClient._check_alter_consumer_group_offsets_request(request)
        _check_kwargs(kwargs, ("request_timeout",))
        group = request[0]
        wanted = [(tp.topic, tp.partition) for tp in group.topic_partitions]
        if len(set(wanted)) != len(wanted):
            return {group.group_id: _done_future(error=KafkaError(KafkaError._INVALID_ARG,
                                                                  reason="Duplicate partitions not allowed"))}
        offsets = {(tp.topic, tp.partition): tp.offset for tp in group.topic_partitions}
        answers = self._cluster.groups.commit_offsets(group.group_id, offsets, member_id="", generation=-1)
        partitions = []
        for (topic, partition), offset in sorted(offsets.items()):     # the answer lists them by topic
            tp = TopicPartition(topic, partition, offset)
            tp.error = answers.get((topic, partition))
            partitions.append(tp)
        return {group.group_id: _done_future(ConsumerGroupTopicPartitions(group.group_id, partitions))}


def _records_below(part, end):
    """The leader's records below ``end`` (the high watermark, or the last stable offset for
    READ_COMMITTED): what ListOffsets by time searches."""
    log = part.leader_replica.log
    return [r for seg in log.segments for r in seg.records if r.offset < end]


def _as_confluent_request(request):
    """Accept the simulator's ``ConsumerGroupTopicPartitions`` too (same attributes) for the real checks."""
    from .admin import ConsumerGroupTopicPartitions as SimConsumerGroupTopicPartitions
    if isinstance(request, list):
        return [ConsumerGroupTopicPartitions(r.group_id, r.topic_partitions)
                if isinstance(r, SimConsumerGroupTopicPartitions) else r for r in request]
    return request


__all__ = ["OffsetsAdmin", "OffsetSpec", "ListOffsetsResultInfo", "DeletedRecords"]
