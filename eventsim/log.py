"""One replica's log of one partition, modelled on Kafka's ``UnifiedLog`` / ``LocalLog``.

A partition's log is a sequence of records, each with an *offset*. Offsets are assigned by the leader, one
per record, from the *log end offset* (LEO) upwards, and never change afterwards. The log is cut into
*segments* (``segment.bytes`` / ``segment.ms``); the newest one, the *active segment*, takes the appends.
Old data leaves the log in two ways, chosen by the topic's ``cleanup.policy``:

* ``delete``: retention deletes whole old segments (``retention.ms`` / ``retention.bytes``), which moves the
  *log start offset* forward;
* ``compact``: the log cleaner keeps only the newest record of each key, leaving gaps in the offsets.

Each replica also keeps a *leader-epoch cache* (KIP-101 / KIP-279): which leader epoch started at which
offset. After a leader change a follower asks the new leader where its epoch ended
(``OffsetsForLeaderEpoch``) and truncates its log to that point, dropping records the old leader never got
committed.

What the simulator simplifies (each method's docstring says more):

* records are kept one by one; there are no record batches, indexes or files;
* sizes are the estimate in :meth:`Record.size_bytes`;
* there is no producer-state snapshot here (idempotence and transactions live in the cluster modules).

Records stored in the log must not be mutated by callers; :meth:`PartitionLog.read` returns the stored
objects themselves, so copy them (``record.copy()``) before changing one.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter

from eventsim.message import TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME

# Fixed framing bytes counted per record by Record.size_bytes(): a rough average of what Kafka's v2 record
# format spends on the length, attributes, timestamp delta, offset delta, key/value lengths and header count.
RECORD_OVERHEAD_BYTES = 20

# Kafka's defaults for the topic configs this module reads. They are used only when the config callable
# returns None for a key (a topic's effective config normally has every key).
TOPIC_CONFIG_DEFAULTS = {
    "cleanup.policy": "delete",
    "retention.ms": "604800000",          # 7 days
    "retention.bytes": "-1",              # unlimited
    "segment.bytes": "1073741824",        # 1 GiB
    "segment.ms": "604800000",            # 7 days
    "delete.retention.ms": "86400000",    # 1 day
    "min.compaction.lag.ms": "0",
    "message.timestamp.type": "CreateTime",
}

_offset_of = attrgetter("offset")


@dataclass(slots=True)
class Record:
    """One record as the broker stores it (Kafka's record format v2, one record per "batch").

    ``value=None`` is a *tombstone*: on a compacted topic it deletes its key. ``control`` marks a
    transaction marker (``"COMMIT"`` or ``"ABORT"``), which takes an offset like any record but is never
    shown to applications.
    """

    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] | None = None
    timestamp: int = 0
    offset: int = -1
    timestamp_type: int = TIMESTAMP_CREATE_TIME
    leader_epoch: int = -1
    producer_id: int = -1
    producer_epoch: int = -1
    sequence: int = -1
    transactional: bool = False
    control: str | None = None

    def size_bytes(self) -> int:
        """Estimated size on disk: ``RECORD_OVERHEAD_BYTES`` + key + value + each header's name and value.

        Real Kafka adds about 61 bytes per record batch and encodes lengths as varints; this estimate is
        close enough to show ``segment.bytes`` and ``retention.bytes`` at work.
        """
        size = RECORD_OVERHEAD_BYTES
        if self.key is not None:
            size += len(self.key)
        if self.value is not None:
            size += len(self.value)
        if self.headers:
            for name, value in self.headers:
                size += len(name.encode("utf-8")) + (len(value) if value is not None else 0)
        return size

    def copy(self) -> "Record":
        """An independent copy (the header list is copied too; bytes are immutable)."""
        return Record(self.key, self.value, list(self.headers) if self.headers is not None else None,
                      self.timestamp, self.offset, self.timestamp_type, self.leader_epoch, self.producer_id,
                      self.producer_epoch, self.sequence, self.transactional, self.control)


class Segment:
    """A slice of the log starting at ``base_offset`` (Kafka's ``LogSegment``: a ``.log`` file plus indexes).

    Attributes:
        base_offset: the offset the segment was created at (its file name in Kafka). Its records have
            offsets ``>= base_offset``; after compaction the first record may be later than that.
        records: the records, in offset order.
        created_ms: when the segment took its first record (or was created, while empty). ``segment.ms``
            counts from here. Kafka counts from the first record's timestamp; the simulator uses the time
            of the first append, which is the same thing for ``LogAppendTime`` and well-behaved producers.
        max_timestamp: the largest record timestamp in the segment, -1 when empty. ``retention.ms`` and
            ``min.compaction.lag.ms`` compare against it, as Kafka's time index does.
        size_bytes: the sum of the records' :meth:`Record.size_bytes`.
    """

    __slots__ = ("base_offset", "records", "created_ms", "max_timestamp", "size_bytes")

    def __init__(self, base_offset: int, created_ms: int):
        self.base_offset = base_offset
        self.records: list[Record] = []
        self.created_ms = created_ms
        self.max_timestamp = -1
        self.size_bytes = 0

    def append(self, record: Record, now_ms: int) -> None:
        if not self.records:
            self.created_ms = now_ms
        self.records.append(record)
        self.size_bytes += record.size_bytes()
        if record.timestamp > self.max_timestamp:
            self.max_timestamp = record.timestamp

    def replace_records(self, records: list[Record]) -> None:
        """Swap in a new record list (after truncation or cleaning) and recompute size and max timestamp."""
        self.records = records
        self.size_bytes = sum(r.size_bytes() for r in records)
        self.max_timestamp = max((r.timestamp for r in records), default=-1)

    def index_of(self, offset: int) -> int:
        """Position of the first record with offset >= ``offset`` (a binary search, like Kafka's offset index)."""
        return bisect_left(self.records, offset, key=_offset_of)

    def retention_timestamp(self) -> int:
        """The time ``retention.ms`` is measured from: the newest record's timestamp, or, for an empty
        segment, when it was created (Kafka uses the file's last-modified time there)."""
        return self.max_timestamp if self.records else self.created_ms

    def __repr__(self):
        last = self.records[-1].offset if self.records else None
        return (f"Segment(base_offset={self.base_offset}, records={len(self.records)}, last_offset={last}, "
                f"size_bytes={self.size_bytes})")


class LeaderEpochCache:
    """Kafka's ``LeaderEpochFileCache``: ``(epoch, start_offset)`` pairs, both strictly increasing.

    An entry says "leader epoch ``epoch`` wrote its first record at ``start_offset``". The end of an
    epoch is the start of the next one (or the log end offset for the latest epoch).
    """

    def __init__(self):
        self._entries: list[tuple[int, int]] = []

    def entries(self) -> list[tuple[int, int]]:
        return list(self._entries)

    def latest_epoch(self) -> int:
        return self._entries[-1][0] if self._entries else -1

    def assign(self, epoch: int, start_offset: int) -> None:
        """Record that ``epoch`` starts at ``start_offset``.

        As in Kafka, an entry for the latest epoch is not moved later, and entries that would break the
        ordering (an epoch >= ``epoch`` or a start offset >= ``start_offset``) are dropped first.
        """
        if epoch < 0 or start_offset < 0:
            raise ValueError(f"leader epoch entry ({epoch}, {start_offset}) must not be negative")
        if self._entries:
            last_epoch, last_start = self._entries[-1]
            if epoch == last_epoch and start_offset >= last_start:
                return
        self._entries = [(e, s) for e, s in self._entries if e < epoch and s < start_offset]
        self._entries.append((epoch, start_offset))

    def truncate_from_end(self, end_offset: int) -> None:
        """Forget epochs that start at or after ``end_offset`` (the log was truncated there)."""
        self._entries = [(e, s) for e, s in self._entries if s < end_offset]

    def truncate_from_start(self, start_offset: int) -> None:
        """The log now starts at ``start_offset``: the epoch covering it starts there, earlier ones go."""
        before = [(e, s) for e, s in self._entries if s <= start_offset]
        after = [(e, s) for e, s in self._entries if s > start_offset]
        self._entries = ([(before[-1][0], start_offset)] if before else []) + after

    def clear(self) -> None:
        self._entries = []

    def end_offset_for(self, epoch: int, log_end_offset: int) -> tuple[int, int]:
        """Kafka's ``endOffsetFor``, the answer to ``OffsetsForLeaderEpoch``.

        * the latest epoch: ``(epoch, log_end_offset)``;
        * an epoch the cache knows or that falls between two known ones: ``(largest known epoch <= epoch,
          start offset of the next higher epoch)``;
        * an epoch older than every entry: ``(epoch, start offset of the first entry)``;
        * an epoch newer than the latest, -1, or an empty cache: ``(-1, -1)``.
        """
        if epoch == -1 or not self._entries:
            return (-1, -1)
        if epoch == self.latest_epoch():
            return (epoch, log_end_offset)
        epochs = [e for e, _ in self._entries]
        higher = bisect_right(epochs, epoch)
        if higher == len(epochs):
            return (-1, -1)
        if higher == 0:
            return (epoch, self._entries[0][1])
        return (self._entries[higher - 1][0], self._entries[higher][1])


def _check_offset(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _check_time(now_ms) -> int:
    if isinstance(now_ms, bool) or not isinstance(now_ms, int):
        raise ValueError(f"now_ms must be an int (virtual milliseconds), got {now_ms!r}")
    return now_ms


class PartitionLog:
    """One replica's log of one partition.

    ``config(key)`` returns the topic's effective value for ``key`` as a string (a ``dict`` works too).
    Values are read on every use, so altering a topic config takes effect at the next append, retention
    check or cleaning, as it does in Kafka.
    """

    def __init__(self, config: "Callable[[str], str] | Mapping[str, str] | None" = None, name: str = ""):
        self._config = config
        self.name = name
        self.log_start_offset = 0
        self.log_end_offset = 0
        self._now_ms = 0  # the latest time seen, used as created_ms for segments rolled without a clock
        self.segments: list[Segment] = [Segment(0, 0)]
        self.epoch_cache = LeaderEpochCache()

    def __repr__(self):
        return (f"PartitionLog({self.name!r}, log_start_offset={self.log_start_offset}, "
                f"log_end_offset={self.log_end_offset}, segments={len(self.segments)}, "
                f"records={self.record_count()})")

    # ------------------------------------------------------------------ configuration

    def _config_value(self, key: str) -> str:
        if self._config is None:
            value = None
        elif isinstance(self._config, Mapping):
            value = self._config.get(key)
        else:
            try:
                value = self._config(key)
            except KeyError:
                value = None
        return TOPIC_CONFIG_DEFAULTS[key] if value is None else str(value)

    def _config_int(self, key: str) -> int:
        raw = self._config_value(key)
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{self._where()}topic config {key}={raw!r} is not an integer") from None

    def _cleanup_policy(self) -> set[str]:
        return {p.strip() for p in self._config_value("cleanup.policy").split(",") if p.strip()}

    def _where(self) -> str:
        return f"log {self.name}: " if self.name else ""

    # ------------------------------------------------------------------ reading state

    @property
    def active_segment(self) -> Segment:
        """The newest segment, which takes the appends. Retention and cleaning leave it alone."""
        return self.segments[-1]

    def size_bytes(self) -> int:
        return sum(s.size_bytes for s in self.segments)

    def record_count(self) -> int:
        return sum(len(s.records) for s in self.segments)

    def _segment_index(self, offset: int) -> int:
        """Index of the segment that would hold ``offset`` (the last one whose base offset is <= it)."""
        return max(0, bisect_right(self.segments, offset, key=attrgetter("base_offset")) - 1)

    def read(self, start_offset: int, max_offset: int | None = None,
             max_records: int | None = None) -> list[Record]:
        """Records with ``start_offset <= offset < max_offset``, in offset order (a Fetch).

        ``max_offset`` is exclusive: pass the high watermark for a consumer, or nothing (the log end
        offset) for a follower. ``start_offset`` must lie in ``[log_start_offset, log_end_offset]``, as a
        broker answers ``OFFSET_OUT_OF_RANGE`` otherwise. On a compacted log the first record returned may
        have an offset above ``start_offset``.
        """
        _check_offset("start_offset", start_offset)
        if not self.log_start_offset <= start_offset <= self.log_end_offset:
            raise ValueError(f"{self._where()}offset {start_offset} is out of range: the log holds "
                             f"[{self.log_start_offset}, {self.log_end_offset})")
        end = self.log_end_offset if max_offset is None else min(_check_offset("max_offset", max_offset),
                                                                  self.log_end_offset)
        limit = None if max_records is None else _check_offset("max_records", max_records)
        out: list[Record] = []
        if start_offset >= end or limit == 0:
            return out
        for seg in self.segments[self._segment_index(start_offset):]:
            if seg.base_offset >= end:
                break
            records = seg.records
            i = seg.index_of(start_offset) if seg.base_offset < start_offset else 0
            j = bisect_left(records, end, lo=i, key=_offset_of)
            out.extend(records[i:j])
            if limit is not None and len(out) >= limit:
                del out[limit:]
                break
            if j < len(records):
                break
        return out

    def offset_for_timestamp(self, ts: int) -> int | None:
        """ListOffsets by time: the first offset whose timestamp is >= ``ts``, or ``None`` if there is none.

        Like Kafka's time index, it skips whole segments whose ``max_timestamp`` is below ``ts``.
        """
        _check_offset("timestamp", ts)
        for seg in self.segments:
            if seg.max_timestamp >= ts:
                for record in seg.records:
                    if record.timestamp >= ts:
                        return record.offset
        return None

    # ------------------------------------------------------------------ appending

    def _maybe_roll(self, record: Record, now_ms: int) -> None:
        """Roll a new active segment before ``record`` if the current one is full (``segment.bytes``) or
        old (``segment.ms``). Kafka checks this per record batch; the simulator checks per record, so no
        segment grows past ``segment.bytes`` unless a single record is bigger than that."""
        active = self.active_segment
        if not active.records:
            return
        too_big = active.size_bytes + record.size_bytes() > self._config_int("segment.bytes")
        too_old = now_ms - active.created_ms >= self._config_int("segment.ms")
        if too_big or too_old:
            self._roll(now_ms)

    def _roll(self, now_ms: int) -> None:
        self.segments.append(Segment(self.log_end_offset, now_ms))

    def _append(self, record: Record, now_ms: int) -> None:
        self._maybe_roll(record, now_ms)
        self.active_segment.append(record, now_ms)
        self.log_end_offset = record.offset + 1

    def _tick(self, now_ms) -> int:
        now_ms = _check_time(now_ms)
        self._now_ms = max(self._now_ms, now_ms)
        return now_ms

    def note_time(self, now_ms: int) -> None:
        """Housekeeping looked at this log at ``now_ms`` and found nothing to do (see ``idle.py``)."""
        self._tick(now_ms)

    def append_as_leader(self, records: list[Record], leader_epoch: int, now_ms: int) -> tuple[int, int]:
        """The leader appends a produced batch: assign offsets from the log end offset, stamp the leader
        epoch, apply ``message.timestamp.type`` and roll segments as needed.

        With ``LogAppendTime`` each record's timestamp becomes ``now_ms``. The given records are stamped
        in place (so the caller sees the offsets and timestamps) and the log stores copies of them, so a
        producer retrying the same objects cannot change what is stored. A new epoch's first offset goes
        into the leader-epoch cache. Returns ``(base_offset, last_offset)``.
        """
        now_ms = self._tick(now_ms)
        _check_offset("leader_epoch", leader_epoch)
        if not records:
            raise ValueError(f"{self._where()}append_as_leader needs at least one record")
        if leader_epoch < self.latest_epoch():
            raise ValueError(f"{self._where()}leader epoch {leader_epoch} is older than the log's latest "
                             f"epoch {self.latest_epoch()}")
        for record in records:
            if not isinstance(record, Record):
                raise ValueError(f"{self._where()}expected eventsim.log.Record, got {type(record).__name__}")
        ts_type = self._config_value("message.timestamp.type")
        if ts_type not in ("CreateTime", "LogAppendTime"):
            raise ValueError(f"{self._where()}message.timestamp.type={ts_type!r} is not CreateTime or "
                             "LogAppendTime")
        base_offset = self.log_end_offset
        self.epoch_cache.assign(leader_epoch, base_offset)
        for i, record in enumerate(records):
            record.offset = base_offset + i
            record.leader_epoch = leader_epoch
            if ts_type == "LogAppendTime":
                record.timestamp = now_ms
                record.timestamp_type = TIMESTAMP_LOG_APPEND_TIME
            else:
                record.timestamp_type = TIMESTAMP_CREATE_TIME
            self._append(record.copy(), now_ms)
        return base_offset, self.log_end_offset - 1

    def append_as_follower(self, records: list[Record], now_ms: int) -> None:
        """A follower appends what it fetched from the leader, keeping the leader's offsets, epochs and
        timestamps. Offsets must be increasing and at or above this log's end offset; gaps are allowed (the
        leader may have compacted). An epoch older than this log's latest means the follower should have
        truncated first, and raises ``ValueError``.
        """
        now_ms = self._tick(now_ms)
        expected = self.log_end_offset
        latest = self.latest_epoch()
        for record in records:
            if not isinstance(record, Record):
                raise ValueError(f"{self._where()}expected eventsim.log.Record, got {type(record).__name__}")
            if record.offset < expected:
                raise ValueError(f"{self._where()}follower append at offset {record.offset} is below the next "
                                 f"expected offset {expected}")
            if record.leader_epoch < 0:
                raise ValueError(f"{self._where()}record at offset {record.offset} has no leader epoch")
            if record.leader_epoch < latest:
                raise ValueError(f"{self._where()}record at offset {record.offset} has leader epoch "
                                 f"{record.leader_epoch}, older than the log's latest epoch {latest}; "
                                 "truncate the follower first")
            expected, latest = record.offset + 1, record.leader_epoch
        for record in records:
            if record.leader_epoch > self.latest_epoch():
                self.epoch_cache.assign(record.leader_epoch, record.offset)
            self._append(record.copy(), now_ms)

    # ------------------------------------------------------------------ leader-epoch cache

    def epoch_entries(self) -> list[tuple[int, int]]:
        """The leader-epoch cache: ``[(epoch, start_offset), ...]`` in increasing order."""
        return self.epoch_cache.entries()

    def latest_epoch(self) -> int:
        """The newest leader epoch in this log, -1 when it has none."""
        return self.epoch_cache.latest_epoch()

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        """``OffsetsForLeaderEpoch``: ``(largest epoch <= epoch, where it ends)``. See
        :meth:`LeaderEpochCache.end_offset_for` for the edge cases."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < -1:
            raise ValueError(f"{self._where()}leader epoch must be an int >= -1, got {epoch!r}")
        return self.epoch_cache.end_offset_for(epoch, self.log_end_offset)

    def assign_epoch_start_offset(self, epoch: int, start_offset: int | None = None) -> None:
        """A replica becoming leader with ``epoch`` records that its epoch starts at its log end offset
        (Kafka's ``maybeAssignEpochStartOffset``), before any record of the new epoch is written, so
        followers asking ``OffsetsForLeaderEpoch`` for an older epoch get the right end offset."""
        _check_offset("leader epoch", epoch)
        start = self.log_end_offset if start_offset is None else _check_offset("start_offset", start_offset)
        if epoch < self.latest_epoch():
            raise ValueError(f"{self._where()}leader epoch {epoch} is older than the log's latest epoch "
                             f"{self.latest_epoch()}")
        self.epoch_cache.assign(epoch, start)

    # ------------------------------------------------------------------ truncation

    def truncate_to(self, offset: int) -> int:
        """Follower truncation: drop every record with offset >= ``offset`` and forget the epochs that
        started there. Returns how many records were dropped. Truncating at or past the log end offset
        does nothing; truncating below the log start offset raises ``ValueError`` (use
        :meth:`truncate_fully_and_start_at`).
        """
        _check_offset("truncation offset", offset)
        if offset < self.log_start_offset:
            raise ValueError(f"{self._where()}cannot truncate to {offset}, below the log start offset "
                             f"{self.log_start_offset}")
        if offset >= self.log_end_offset:
            return 0
        dropped = 0
        while len(self.segments) > 1 and self.active_segment.base_offset > offset:
            dropped += len(self.segments.pop().records)
        active = self.active_segment
        if active.base_offset > offset:  # only after compaction removed the segments that covered offset
            dropped += len(active.records)
            self.segments[-1] = Segment(offset, self._now_ms)
        else:
            keep = active.index_of(offset)
            dropped += len(active.records) - keep
            active.replace_records(active.records[:keep])
        self.log_end_offset = offset
        self.epoch_cache.truncate_from_end(offset)
        return dropped

    def truncate_fully_and_start_at(self, offset: int) -> None:
        """Throw the whole log away and start empty at ``offset`` (log start = log end = ``offset``). A
        follower does this when its log ends before the leader's log start offset."""
        _check_offset("offset", offset)
        self.segments = [Segment(offset, self._now_ms)]
        self.log_start_offset = self.log_end_offset = offset
        self.epoch_cache.clear()

    def delete_records_before(self, offset: int) -> int:
        """``DeleteRecords``: raise the log start offset to ``offset``. Returns how many records went.

        Kafka hides the records below the new log start at once and deletes their segments at the next
        retention check; the simulator removes them at once. The caller checks ``offset <= high watermark``
        (Kafka answers ``OFFSET_OUT_OF_RANGE`` otherwise); here it must be ``<= log_end_offset``.
        """
        _check_offset("offset", offset)
        if offset > self.log_end_offset:
            raise ValueError(f"{self._where()}cannot delete records before {offset}, beyond the log end "
                             f"offset {self.log_end_offset}")
        if offset <= self.log_start_offset:
            return 0
        removed = 0
        while len(self.segments) > 1 and self.segments[1].base_offset <= offset:
            removed += len(self.segments.pop(0).records)
        first = self.segments[0]
        cut = first.index_of(offset)
        if cut:
            removed += cut
            first.replace_records(first.records[cut:])
        self._set_log_start(offset)
        return removed

    def _set_log_start(self, offset: int) -> None:
        if offset > self.log_start_offset:
            self.log_start_offset = offset
            self.epoch_cache.truncate_from_start(offset)

    # ------------------------------------------------------------------ retention (cleanup.policy=delete)

    def apply_retention(self, now_ms: int, high_watermark: int) -> int:
        """The retention check Kafka runs every ``log.retention.check.interval.ms`` on ``delete`` topics.

        Deletes the oldest whole segments while
        * their newest record is older than ``retention.ms`` (``max_timestamp < now_ms - retention.ms``);
        * then, while the log without the segment would still hold at least ``retention.bytes``.
        -1 turns either limit off. A segment goes only if everything in it is below the high watermark,
        and deletion stops at the first segment that is kept. If every segment including the active one
        goes, a new empty active segment is rolled first, as Kafka does. Returns the number of segments
        deleted; the log start offset moves to the first remaining segment.
        """
        now_ms = self._tick(now_ms)
        _check_offset("high_watermark", high_watermark)
        if "delete" not in self._cleanup_policy():
            return 0
        deleted = 0
        retention_ms = self._config_int("retention.ms")
        if retention_ms >= 0:
            cutoff = now_ms - retention_ms
            deleted += self._delete_oldest_segments(lambda seg: seg.retention_timestamp() < cutoff,
                                                    high_watermark, now_ms)
        retention_bytes = self._config_int("retention.bytes")
        if retention_bytes >= 0:
            excess = self.size_bytes() - retention_bytes

            def over_size(seg: Segment) -> bool:
                nonlocal excess
                if excess - seg.size_bytes < 0:
                    return False
                excess -= seg.size_bytes
                return True
            deleted += self._delete_oldest_segments(over_size, high_watermark, now_ms)
        return deleted

    def _delete_oldest_segments(self, should_delete: Callable[[Segment], bool], high_watermark: int,
                                now_ms: int) -> int:
        """Delete the longest run of oldest segments that are below the high watermark and match
        ``should_delete`` (Kafka's ``deletableSegments``)."""
        count = 0
        for i, seg in enumerate(self.segments):
            is_last = i == len(self.segments) - 1
            upper = self.log_end_offset if is_last else self.segments[i + 1].base_offset
            if is_last and not seg.records:
                break
            if high_watermark < upper or not should_delete(seg):
                break
            count += 1
        if count == 0:
            return 0
        if count == len(self.segments):
            self._roll(now_ms)
        del self.segments[:count]
        self._set_log_start(self.segments[0].base_offset)
        return count

    # ------------------------------------------------------------------ compaction (cleanup.policy=compact)

    def cleanable_end_offset(self, now_ms: int, max_offset: int) -> int:
        """The first offset the cleaner may not touch (Kafka's ``firstUncleanableDirtyOffset``): the
        smallest of ``max_offset`` (the last stable offset), the active segment's base offset, and the base
        offset of the first segment with a record younger than ``min.compaction.lag.ms``."""
        end = min(max_offset, self.log_end_offset, self.active_segment.base_offset)
        lag_ms = self._config_int("min.compaction.lag.ms")
        if lag_ms > 0:
            for seg in self.segments[:-1]:
                if seg.records and seg.max_timestamp > now_ms - lag_ms:
                    end = min(end, seg.base_offset)
                    break
        return end

    def compact(self, now_ms: int, max_offset: int) -> int:
        """The log cleaner: keep only the newest record of each key in the cleanable part of the log.

        The cleanable part is every record below :meth:`cleanable_end_offset`. As in Kafka, the cleaner
        builds its key -> newest-offset map from that part only, so a newer record in the active segment
        does not yet remove an older one: that happens after the active segment rolls. In the cleanable
        part a record is removed when
        * a newer record with the same key is also cleanable;
        * it is a tombstone (``value=None``) that is the newest for its key and its timestamp is older
          than ``now_ms - delete.retention.ms`` (consumers had that long to see the delete);
        * it belongs to an aborted transaction.

        Kept always: control records (transaction markers; Kafka removes them once their transaction has
        no data left, the simulator keeps them), records with no key, and transactional records whose
        commit/abort marker is not in the cleanable part (the transaction may still be open). Records are
        not moved: offsets never change and compaction leaves gaps. Emptied segments other than the active
        one are dropped; Kafka also merges small cleaned segments, the simulator keeps their boundaries.
        Returns the number of records removed.
        """
        now_ms = self._tick(now_ms)
        _check_offset("max_offset", max_offset)
        keep = self._compaction_keep(now_ms, max_offset)
        if keep is None:
            return 0
        end = self.cleanable_end_offset(now_ms, max_offset)
        removed = 0
        for seg in self.segments[:-1]:
            if seg.base_offset >= end:
                break
            kept = [r for r in seg.records if keep(r)]
            if len(kept) != len(seg.records):
                removed += len(seg.records) - len(kept)
                seg.replace_records(kept)
        self.segments = [s for s in self.segments[:-1] if s.records] + [self.active_segment]
        return removed

    def _compaction_keep(self, now_ms: int, max_offset: int):
        """The cleaner's decision, ``keep(record) -> bool`` for the records it may touch, or ``None`` when
        the log is not compacted or nothing is cleanable (see :meth:`compact`)."""
        if "compact" not in self._cleanup_policy():
            return None
        end = self.cleanable_end_offset(now_ms, max_offset)
        cleanable = [r for seg in self.segments[:-1] if seg.base_offset < end for r in seg.records
                     if r.offset < end]
        if not cleanable:
            return None
        aborted, maybe_open = self._transaction_outcomes(cleanable)
        newest: dict[bytes, int] = {}
        for r in cleanable:
            if r.control is None and r.key is not None and r.offset not in aborted \
                    and r.offset not in maybe_open:
                newest[r.key] = r.offset
        tombstone_cutoff = now_ms - self._config_int("delete.retention.ms")

        def keep(r: Record) -> bool:
            if r.offset >= end or r.control is not None or r.key is None or r.offset in maybe_open:
                return True
            if r.offset in aborted or newest[r.key] != r.offset:
                return False
            return r.value is not None or r.timestamp >= tombstone_cutoff
        return keep

    # ------------------------------------------------------------------ when housekeeping acts next

    def next_retention_ms(self, now_ms: int, high_watermark: int) -> int | None:
        """The earliest time :meth:`apply_retention` could delete something if nothing else happens to
        the log: ``now_ms`` if it would now, ``None`` if never. Deletion always starts with the oldest
        segment, so only that one decides."""
        if "delete" not in self._cleanup_policy():
            return None
        first = self.segments[0]
        upper = self.log_end_offset if len(self.segments) == 1 else self.segments[1].base_offset
        if (len(self.segments) == 1 and not first.records) or high_watermark < upper:
            return None
        retention_bytes = self._config_int("retention.bytes")
        if retention_bytes >= 0 and self.size_bytes() - first.size_bytes >= retention_bytes:
            return now_ms
        retention_ms = self._config_int("retention.ms")
        if retention_ms < 0:
            return None
        return max(now_ms, first.retention_timestamp() + retention_ms + 1)

    def next_compaction_ms(self, now_ms: int, max_offset: int) -> int | None:
        """The earliest time :meth:`compact` could remove something if nothing else happens to the log:
        ``now_ms`` if it would now, else when a segment outgrows ``min.compaction.lag.ms`` or a tombstone
        ``delete.retention.ms``, ``None`` if never. (An upper bound on the wait: the times found may be
        ones at which still nothing is removed.)"""
        keep = self._compaction_keep(now_ms, max_offset)
        if keep is None and "compact" not in self._cleanup_policy():
            return None
        if keep is not None and any(not keep(r) for seg in self.segments[:-1] for r in seg.records):
            return now_ms
        times = []
        lag_ms = self._config_int("min.compaction.lag.ms")
        times += [seg.max_timestamp + lag_ms for seg in self.segments[:-1] if seg.records]
        delete_ms = self._config_int("delete.retention.ms")
        times += [r.timestamp + delete_ms + 1 for seg in self.segments[:-1] for r in seg.records if r.value is None]
        later = [t for t in times if t > now_ms]
        return min(later) if later else None

    @staticmethod
    def _transaction_outcomes(records: list[Record]) -> tuple[set[int], set[int]]:
        """Offsets of transactional records that were aborted, and of those whose marker was not seen."""
        pending: dict[int, list[int]] = {}
        aborted: set[int] = set()
        for r in records:
            if r.control is not None:
                offsets = pending.pop(r.producer_id, [])
                if r.control == "ABORT":
                    aborted.update(offsets)
            elif r.transactional:
                pending.setdefault(r.producer_id, []).append(r.offset)
        maybe_open = {o for offsets in pending.values() for o in offsets}
        return aborted, maybe_open
