"""Tests for eventsim.log: offsets, segments, retention, compaction, truncation and the leader-epoch cache."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from eventsim.log import RECORD_OVERHEAD_BYTES, PartitionLog, Record
from eventsim.message import TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME


def make_log(**config):
    """A log whose topic config is a dict (keys with '_' spelled as '.'), read live on every use."""
    cfg = {k.replace("_", "."): str(v) for k, v in config.items()}
    return PartitionLog(cfg, name="t-0"), cfg


def rec(key=b"k", value=b"v", ts=0, **kw):
    return Record(key=key, value=value, timestamp=ts, **kw)


def append(log, n, epoch=0, now=0, key=None, size=1, ts=None):
    """Append n records one at a time; key None -> unique keys."""
    out = []
    for i in range(n):
        k = key if key is not None else b"key-%d" % (log.log_end_offset)
        out.append(log.append_as_leader([rec(k, b"x" * size, now if ts is None else ts)], epoch, now)[0])
    return out


def all_records(log):
    return log.read(log.log_start_offset)


def offsets(log):
    return [r.offset for r in all_records(log)]


# ---------------------------------------------------------------------------------------------- records

def test_record_size_counts_overhead_key_value_and_headers():
    r = Record(b"ab", b"cdef", headers=[("h", b"12")])
    assert r.size_bytes() == RECORD_OVERHEAD_BYTES + 2 + 4 + 1 + 2
    assert Record(None, None).size_bytes() == RECORD_OVERHEAD_BYTES


def test_record_copy_is_independent():
    r = Record(b"k", b"v", headers=[("a", b"1")], offset=3)
    c = r.copy()
    assert c == r
    c.headers.append(("b", b"2"))
    c.offset = 9
    assert r.headers == [("a", b"1")] and r.offset == 3


# ---------------------------------------------------------------------------------------------- appends

def test_leader_assigns_dense_increasing_offsets_and_returns_range():
    log, _ = make_log()
    assert log.append_as_leader([rec(), rec(), rec()], 0, 10) == (0, 2)
    assert log.append_as_leader([rec()], 0, 11) == (3, 3)
    assert offsets(log) == [0, 1, 2, 3]
    assert log.log_end_offset == 4 and log.log_start_offset == 0
    assert all(r.leader_epoch == 0 for r in all_records(log))


def test_leader_stamps_caller_records_but_stores_copies():
    log, _ = make_log()
    batch = [rec(b"a"), rec(b"b")]
    log.append_as_leader(batch, 2, 5)
    assert [r.offset for r in batch] == [0, 1] and batch[0].leader_epoch == 2
    # A producer retrying the same objects must not rewrite what is already stored.
    log.append_as_leader(batch, 2, 6)
    assert offsets(log) == [0, 1, 2, 3]
    assert [r.key for r in all_records(log)] == [b"a", b"b", b"a", b"b"]


def test_log_append_time_replaces_timestamps_and_config_is_read_live():
    log, cfg = make_log(message_timestamp_type="LogAppendTime")
    log.append_as_leader([rec(ts=1), rec(ts=2)], 0, 500)
    stored = all_records(log)
    assert [(r.timestamp, r.timestamp_type) for r in stored] == [(500, TIMESTAMP_LOG_APPEND_TIME)] * 2
    cfg["message.timestamp.type"] = "CreateTime"
    log.append_as_leader([rec(ts=7)], 0, 600)
    last = all_records(log)[-1]
    assert (last.timestamp, last.timestamp_type) == (7, TIMESTAMP_CREATE_TIME)


def test_leader_epoch_cache_records_epoch_starts():
    log, _ = make_log()
    append(log, 3, epoch=0)
    append(log, 2, epoch=0)
    append(log, 2, epoch=3)
    assert log.epoch_entries() == [(0, 0), (3, 5)]
    assert log.latest_epoch() == 3


def test_leader_rejects_bad_appends():
    log, cfg = make_log()
    append(log, 1, epoch=2)
    with pytest.raises(ValueError, match="older than the log's latest epoch 2"):
        log.append_as_leader([rec()], 1, 0)
    with pytest.raises(ValueError, match="at least one record"):
        log.append_as_leader([], 2, 0)
    with pytest.raises(ValueError, match="leader_epoch must be >= 0"):
        log.append_as_leader([rec()], -1, 0)
    with pytest.raises(ValueError, match="Record"):
        log.append_as_leader([("k", "v")], 2, 0)
    cfg["message.timestamp.type"] = "WallClock"
    with pytest.raises(ValueError, match="WallClock"):
        log.append_as_leader([rec()], 2, 0)
    cfg["message.timestamp.type"] = "CreateTime"
    cfg["segment.bytes"] = "big"
    with pytest.raises(ValueError, match="segment.bytes='big'"):
        append(log, 2, epoch=2)
    assert log.log_end_offset == 1


# ---------------------------------------------------------------------------------------------- reads

def test_read_bounds():
    log, _ = make_log(segment_bytes=RECORD_OVERHEAD_BYTES * 3 + 20)
    append(log, 20)
    assert len(log.segments) > 3
    assert [r.offset for r in log.read(5, 9)] == [5, 6, 7, 8]
    assert [r.offset for r in log.read(5, max_records=3)] == [5, 6, 7]
    assert [r.offset for r in log.read(17)] == [17, 18, 19]
    assert log.read(20) == []
    assert log.read(8, 8) == [] and log.read(8, 3) == []
    assert [r.offset for r in log.read(0, 10_000)] == list(range(20))
    assert log.read(3, max_records=0) == []


def test_read_out_of_range_and_bad_arguments_raise():
    log, _ = make_log()
    append(log, 5)
    log.delete_records_before(2)
    with pytest.raises(ValueError, match=r"offset 1 is out of range: the log holds \[2, 5\)"):
        log.read(1)
    with pytest.raises(ValueError, match="out of range"):
        log.read(6)
    with pytest.raises(ValueError, match="start_offset must be >= 0"):
        log.read(-1)
    with pytest.raises(ValueError, match="max_offset must be >= 0"):
        log.read(2, -5)
    with pytest.raises(ValueError, match="max_records must be >= 0"):
        log.read(2, max_records=-1)


def test_large_log_reads_the_right_records():
    log, _ = make_log(segment_bytes=RECORD_OVERHEAD_BYTES * 1000)
    log.append_as_leader([Record(None, b"", timestamp=i) for i in range(100_000)], 0, 0)
    assert log.record_count() == 100_000 and len(log.segments) == 100
    for start in (0, 999, 1000, 54_321, 99_999):
        got = log.read(start, max_records=3)
        assert [r.offset for r in got] == list(range(start, min(start + 3, 100_000)))
    assert log.offset_for_timestamp(77_777) == 77_777


# ---------------------------------------------------------------------------------------------- segments

def test_segments_roll_on_segment_bytes():
    one = rec(b"kkkkk", b"vvvvv")
    limit = one.size_bytes() * 4
    log, _ = make_log(segment_bytes=limit)
    append(log, 10, key=b"kkkkk", size=5)  # four records fit in a segment
    for seg in log.segments:
        assert seg.size_bytes <= limit
        assert seg.records[0].offset == seg.base_offset
    assert [s.base_offset for s in log.segments] == [0, 4, 8]
    assert log.size_bytes() == sum(r.size_bytes() for r in all_records(log))


def test_oversized_record_gets_a_segment_of_its_own():
    log, _ = make_log(segment_bytes=50)
    append(log, 1, size=1)
    append(log, 1, size=100)
    append(log, 1, size=1)
    assert [len(s.records) for s in log.segments] == [1, 1, 1]


def test_segments_roll_on_segment_ms():
    log, _ = make_log(segment_ms=100)
    append(log, 2, now=1000)
    append(log, 1, now=1099)
    append(log, 1, now=1100)       # the active segment took its first record at 1000
    append(log, 1, now=1150)
    assert [s.base_offset for s in log.segments] == [0, 3]
    assert log.segments[1].created_ms == 1100
    append(log, 1, now=1200)
    assert [s.base_offset for s in log.segments] == [0, 3, 5]


# ---------------------------------------------------------------------------------------------- retention

def ten_segments(**config):
    """A log of 10 one-record segments (segment.ms=1), record i written at time 1000*i, epoch 0."""
    log, cfg = make_log(segment_ms=1, **config)
    for i in range(10):
        append(log, 1, now=1000 * i)
    assert len(log.segments) == 10
    return log, cfg


def test_retention_by_time_deletes_old_segments_and_moves_log_start():
    log, cfg = ten_segments(retention_ms=4500)
    assert log.apply_retention(now_ms=9000, high_watermark=10) == 5  # segments with max ts 0..4000 < 4500
    assert log.log_start_offset == 5
    assert offsets(log) == [5, 6, 7, 8, 9]
    assert log.epoch_entries() == [(0, 5)]
    cfg["retention.ms"] = "-1"
    assert log.apply_retention(now_ms=10**9, high_watermark=10) == 0


def test_retention_never_deletes_past_the_high_watermark():
    log, _ = ten_segments(retention_ms=0)
    assert log.apply_retention(now_ms=100_000, high_watermark=3) == 3
    assert log.log_start_offset == 3
    assert log.apply_retention(now_ms=100_000, high_watermark=3) == 0


def test_retention_of_every_segment_rolls_an_empty_active_segment():
    log, _ = ten_segments(retention_ms=0)
    assert log.apply_retention(now_ms=100_000, high_watermark=10) == 10
    assert log.record_count() == 0 and len(log.segments) == 1
    assert log.log_start_offset == log.log_end_offset == 10
    assert log.segments[0].base_offset == 10
    assert log.append_as_leader([rec()], 0, 100_001) == (10, 10)


def test_retention_by_size_keeps_at_least_retention_bytes():
    per = rec(b"key-0", b"x").size_bytes()
    log, _ = ten_segments(retention_bytes=per * 3 + 1)
    assert log.apply_retention(now_ms=0, high_watermark=10) == 6
    assert offsets(log) == [6, 7, 8, 9]
    assert log.size_bytes() >= per * 3 + 1
    assert log.log_start_offset == 6


def test_retention_only_on_delete_policy():
    log, cfg = ten_segments(retention_ms=0, cleanup_policy="compact")
    assert log.apply_retention(now_ms=100_000, high_watermark=10) == 0
    cfg["cleanup.policy"] = "compact, delete"
    assert log.apply_retention(now_ms=100_000, high_watermark=10) == 10


def test_retention_rejects_bad_arguments():
    log, _ = ten_segments()
    with pytest.raises(ValueError, match="high_watermark must be >= 0"):
        log.apply_retention(0, -1)
    with pytest.raises(ValueError, match="now_ms must be an int"):
        log.apply_retention(1.5, 3)


# ---------------------------------------------------------------------------------------------- compaction

def compacted_log(**config):
    log, cfg = make_log(cleanup_policy="compact", segment_bytes=10_000, **config)
    return log, cfg


def roll(log, cfg, now):
    """Force the next append into a new segment by making segment.ms tiny for one append."""
    cfg["segment.ms"] = "0"
    log.append_as_leader([rec(b"roll-marker-%d" % now, b"r", now)], 0, now)
    cfg["segment.ms"] = "604800000"


def test_compaction_keeps_the_newest_record_per_key_and_leaves_offset_gaps():
    log, cfg = compacted_log()
    for i, key in enumerate([b"a", b"b", b"a", b"c", b"b", b"a"]):
        log.append_as_leader([rec(key, b"v%d" % i, 10)], 0, 10)
    roll(log, cfg, 20)
    before = {r.offset: (r.key, r.value) for r in all_records(log)}
    removed = log.compact(now_ms=30, max_offset=log.log_end_offset)
    assert removed == 3
    assert offsets(log) == [3, 4, 5, 6]
    assert {r.offset: (r.key, r.value) for r in all_records(log)} == {o: before[o] for o in (3, 4, 5, 6)}
    assert log.log_end_offset == 7 and log.log_start_offset == 0
    assert [r.offset for r in log.read(0, max_records=2)] == [3, 4]   # read skips the gap
    assert log.compact(now_ms=30, max_offset=log.log_end_offset) == 0  # nothing left to clean


def test_compaction_leaves_the_active_segment_alone():
    log, cfg = compacted_log()
    append(log, 3, key=b"a", now=10)
    roll(log, cfg, 20)
    append(log, 3, key=b"a", now=20)
    assert log.compact(now_ms=30, max_offset=log.log_end_offset) == 2
    # Offset 2 stays although newer b"a" records exist: they are in the active segment, which the
    # cleaner neither cleans nor reads (Kafka builds its key map from the cleanable part only).
    assert offsets(log) == [2, 3, 4, 5, 6]


def test_compaction_stops_at_max_offset():
    log, cfg = compacted_log()
    append(log, 6, key=b"a", now=10)
    roll(log, cfg, 20)
    assert log.compact(now_ms=30, max_offset=4) == 3
    assert offsets(log) == [3, 4, 5, 6]


def test_compaction_respects_min_compaction_lag():
    log, cfg = compacted_log(min_compaction_lag_ms=1000)
    append(log, 3, key=b"a", now=100)
    roll(log, cfg, 200)
    append(log, 3, key=b"a", now=200)
    roll(log, cfg, 300)
    assert log.compact(now_ms=900, max_offset=log.log_end_offset) == 0   # everything is younger than 1 s
    assert log.compact(now_ms=1150, max_offset=log.log_end_offset) == 2  # first segment (max ts 100) only
    assert offsets(log) == [2, 3, 4, 5, 6, 7]
    assert log.compact(now_ms=1300, max_offset=log.log_end_offset) == 3  # now the second one too
    assert offsets(log) == [3, 6, 7]


def test_tombstones_live_for_delete_retention_ms():
    log, cfg = compacted_log(delete_retention_ms=500)
    log.append_as_leader([rec(b"a", b"1", 100), rec(b"b", b"1", 100), rec(b"a", None, 100)], 0, 100)
    roll(log, cfg, 200)
    assert log.compact(now_ms=550, max_offset=log.log_end_offset) == 1  # the old value of a goes
    assert [(r.key, r.value) for r in log.read(0, 3)] == [(b"b", b"1"), (b"a", None)]
    assert log.compact(now_ms=600, max_offset=log.log_end_offset) == 0  # tombstone is exactly 500 ms old
    assert log.compact(now_ms=601, max_offset=log.log_end_offset) == 1
    assert [(r.key, r.value) for r in log.read(0, 3)] == [(b"b", b"1")]


def test_compaction_only_on_compact_policy():
    log, cfg = make_log(segment_ms=1)
    append(log, 5, key=b"a", now=0)
    append(log, 1, key=b"a", now=10)
    assert log.compact(now_ms=20, max_offset=6) == 0
    cfg["cleanup.policy"] = "delete,compact"
    assert log.compact(now_ms=20, max_offset=6) == 4


def test_compaction_drops_emptied_segments_but_keeps_the_active_one():
    log, cfg = make_log(cleanup_policy="compact", segment_ms=1)
    for i in range(4):
        append(log, 1, key=b"a", now=i)
    assert len(log.segments) == 4
    assert log.compact(now_ms=10, max_offset=4) == 2
    assert [s.base_offset for s in log.segments] == [2, 3]
    assert [r.offset for r in log.read(0)] == [2, 3]


def test_compaction_of_transactions():
    log, cfg = compacted_log()
    txn = dict(transactional=True, producer_id=7, producer_epoch=0)
    log.append_as_leader([rec(b"a", b"old", 1)], 0, 1)                          # 0
    log.append_as_leader([rec(b"a", b"aborted", 1, **txn)], 0, 1)               # 1
    log.append_as_leader([Record(None, None, timestamp=1, control="ABORT", **txn)], 0, 1)  # 2
    log.append_as_leader([rec(b"b", b"1", 1), rec(b"b", b"2", 1)], 0, 1)        # 3, 4
    log.append_as_leader([rec(b"b", b"open", 1, **txn)], 0, 1)                  # 5: no marker yet
    roll(log, cfg, 2)
    assert log.compact(now_ms=3, max_offset=log.log_end_offset) == 2
    assert offsets(log) == [0, 2, 4, 5, 6]
    assert [r.control for r in all_records(log)][1] == "ABORT"


def test_compaction_rejects_bad_arguments():
    log, _ = compacted_log()
    with pytest.raises(ValueError, match="max_offset must be >= 0"):
        log.compact(0, -3)


# ---------------------------------------------------------------------------------------------- truncation

def test_truncate_to_drops_the_tail_and_fixes_the_epoch_cache():
    log, _ = make_log(segment_bytes=RECORD_OVERHEAD_BYTES * 3 + 20)
    append(log, 4, epoch=0)
    append(log, 4, epoch=1)
    append(log, 4, epoch=2)
    assert log.epoch_entries() == [(0, 0), (1, 4), (2, 8)]
    assert log.truncate_to(6) == 6
    assert log.log_end_offset == 6 and offsets(log) == list(range(6))
    assert log.epoch_entries() == [(0, 0), (1, 4)]
    assert log.truncate_to(6) == 0 and log.truncate_to(99) == 0
    assert log.append_as_leader([rec()], 3, 0) == (6, 6)
    assert log.epoch_entries() == [(0, 0), (1, 4), (3, 6)]
    assert log.truncate_to(4) == 3
    assert log.epoch_entries() == [(0, 0)]
    assert log.size_bytes() == sum(r.size_bytes() for r in all_records(log))


def test_truncate_below_log_start_raises():
    log, _ = make_log()
    append(log, 5)
    log.delete_records_before(3)
    with pytest.raises(ValueError, match="cannot truncate to 2, below the log start offset 3"):
        log.truncate_to(2)
    with pytest.raises(ValueError, match="truncation offset must be >= 0"):
        log.truncate_to(-1)
    assert log.truncate_to(3) == 2 and log.record_count() == 0 and log.log_end_offset == 3


def test_truncate_fully_and_start_at():
    log, _ = make_log()
    append(log, 5, epoch=1)
    log.truncate_fully_and_start_at(40)
    assert (log.log_start_offset, log.log_end_offset, log.record_count()) == (40, 40, 0)
    assert log.epoch_entries() == [] and log.latest_epoch() == -1
    log.append_as_follower([rec(offset=40, leader_epoch=2)], 0)
    assert offsets(log) == [40] and log.epoch_entries() == [(2, 40)]
    with pytest.raises(ValueError, match="offset must be >= 0"):
        log.truncate_fully_and_start_at(-1)


def test_delete_records_before_raises_log_start():
    log, _ = make_log(segment_bytes=RECORD_OVERHEAD_BYTES * 3 + 20)
    append(log, 4, epoch=0)
    append(log, 6, epoch=1)
    assert log.delete_records_before(5) == 5
    assert log.log_start_offset == 5 and offsets(log) == [5, 6, 7, 8, 9]
    assert log.epoch_entries() == [(1, 5)]
    assert log.delete_records_before(2) == 0 and log.log_start_offset == 5
    assert log.delete_records_before(10) == 5 and log.log_start_offset == 10
    with pytest.raises(ValueError, match="beyond the log end offset 10"):
        log.delete_records_before(11)
    with pytest.raises(ValueError, match="offset must be >= 0"):
        log.delete_records_before(-2)


# ---------------------------------------------------------------------------------------------- followers and epochs

def test_follower_keeps_leader_offsets_epochs_and_gaps():
    leader, lcfg = make_log(cleanup_policy="compact", segment_ms=1)
    for i in range(4):
        append(leader, 1, key=b"a", epoch=i // 2, now=i)
    leader.compact(now_ms=10, max_offset=4)            # leader now has offsets 2, 3
    follower, _ = make_log()
    follower.append_as_follower(leader.read(0), now_ms=11)
    assert offsets(follower) == [2, 3]
    assert [r.leader_epoch for r in all_records(follower)] == [1, 1]
    assert follower.log_end_offset == 4 and follower.epoch_entries() == [(1, 2)]
    follower.append_as_follower([], now_ms=12)
    assert follower.log_end_offset == 4


def test_follower_rejects_inconsistent_records():
    follower, _ = make_log()
    follower.append_as_follower([rec(offset=0, leader_epoch=3), rec(offset=1, leader_epoch=3)], 0)
    with pytest.raises(ValueError, match="offset 1 is below the next expected offset 2"):
        follower.append_as_follower([rec(offset=1, leader_epoch=3)], 0)
    with pytest.raises(ValueError, match="older than the log's latest epoch 3"):
        follower.append_as_follower([rec(offset=2, leader_epoch=2)], 0)
    with pytest.raises(ValueError, match="has no leader epoch"):
        follower.append_as_follower([rec(offset=2)], 0)
    with pytest.raises(ValueError, match="below the next expected offset"):
        follower.append_as_follower([rec(offset=5, leader_epoch=3), rec(offset=5, leader_epoch=3)], 0)
    assert follower.log_end_offset == 2  # a rejected batch writes nothing


def test_end_offset_for_epoch_follows_offsets_for_leader_epoch():
    log, _ = make_log()
    assert log.end_offset_for_epoch(0) == (-1, -1)          # empty cache
    append(log, 3, epoch=1)   # epoch 1: 0..2
    append(log, 2, epoch=3)   # epoch 3: 3..4
    append(log, 4, epoch=4)   # epoch 4: 5..8
    assert log.end_offset_for_epoch(4) == (4, 9)            # latest epoch ends at the log end offset
    assert log.end_offset_for_epoch(3) == (3, 5)
    assert log.end_offset_for_epoch(1) == (1, 3)
    assert log.end_offset_for_epoch(2) == (1, 3)            # unknown epoch: the largest epoch below it
    assert log.end_offset_for_epoch(0) == (0, 0)            # older than every entry: first start offset
    assert log.end_offset_for_epoch(5) == (-1, -1)          # newer than this replica knows
    assert log.end_offset_for_epoch(-1) == (-1, -1)
    with pytest.raises(ValueError, match="leader epoch must be an int >= -1"):
        log.end_offset_for_epoch(-2)


def test_follower_truncation_after_leader_change():
    """KIP-101: a follower that took records the new leader never got truncates them away."""
    old_leader, _ = make_log()
    new_leader, _ = make_log()
    append(old_leader, 3, epoch=0)
    new_leader.append_as_follower(old_leader.read(0, 2), 0)   # the follower only got offsets 0..1
    append(old_leader, 2, epoch=0)                            # the old leader went on to offset 4
    new_leader.assign_epoch_start_offset(1)                  # new leader elected with epoch 1 at LEO 2
    append(new_leader, 1, epoch=1)
    # The old leader rejoins as a follower and asks where its latest epoch ended on the new leader.
    epoch, end = new_leader.end_offset_for_epoch(old_leader.latest_epoch())
    assert (epoch, end) == (0, 2)
    assert old_leader.truncate_to(end) == 3
    old_leader.append_as_follower(new_leader.read(old_leader.log_end_offset), 0)
    assert [(r.offset, r.leader_epoch) for r in all_records(old_leader)] == [(0, 0), (1, 0), (2, 1)]
    assert old_leader.epoch_entries() == new_leader.epoch_entries() == [(0, 0), (1, 2)]


def test_assign_epoch_start_offset_rejects_older_epochs():
    log, _ = make_log()
    append(log, 1, epoch=4)
    with pytest.raises(ValueError, match="leader epoch 3 is older"):
        log.assign_epoch_start_offset(3)


# ---------------------------------------------------------------------------------------------- timestamps

def test_offset_for_timestamp():
    log, _ = make_log(segment_bytes=RECORD_OVERHEAD_BYTES * 3 + 20)
    for ts in [10, 20, 15, 30, 40, 35, 50]:
        log.append_as_leader([rec(b"k", b"v", ts)], 0, 0)
    assert log.offset_for_timestamp(0) == 0
    assert log.offset_for_timestamp(15) == 1
    assert log.offset_for_timestamp(21) == 3
    assert log.offset_for_timestamp(36) == 4
    assert log.offset_for_timestamp(50) == 6
    assert log.offset_for_timestamp(51) is None
    with pytest.raises(ValueError, match="timestamp must be >= 0"):
        log.offset_for_timestamp(-1)


# ---------------------------------------------------------------------------------------------- invariants

KEYS = [b"a", b"b", b"c", b"d", None]


class LogMachine(RuleBasedStateMachine):
    """Random appends, retention, compaction, truncation and DeleteRecords against a reference model.

    ``model`` maps every offset ever appended (and not truncated away) to (key, value, timestamp), so
    we can check that a stored record never changes and that only records the rules allow disappear.
    """

    def __init__(self):
        super().__init__()
        self.cfg = {"segment.bytes": "90", "segment.ms": "50", "retention.ms": "400",
                    "retention.bytes": "-1", "cleanup.policy": "compact,delete",
                    "delete.retention.ms": "100", "min.compaction.lag.ms": "0"}
        self.log = PartitionLog(self.cfg, name="prop-0")
        self.model: dict[int, tuple] = {}
        self.now = 0
        self.epoch = 0
        self.hw = 0

    @rule(items=st.lists(st.tuples(st.sampled_from(KEYS), st.none() | st.binary(max_size=12),
                                   st.integers(-30, 30)), min_size=1, max_size=5))
    def append(self, items):
        batch = [Record(k, v, timestamp=max(0, self.now + dt)) for k, v, dt in items]
        base, last = self.log.append_as_leader(batch, self.epoch, self.now)
        assert last - base + 1 == len(items)
        for r in batch:
            self.model[r.offset] = (r.key, r.value, r.timestamp)

    @rule(ms=st.integers(0, 300))
    def advance(self, ms):
        self.now += ms

    @rule()
    def new_epoch(self):
        self.epoch += 1

    @rule(data=st.data())
    def raise_hw(self, data):
        leo = self.log.log_end_offset
        self.hw = data.draw(st.just(leo) | st.integers(self.hw, leo))

    @rule(key=st.sampled_from(["retention.ms", "retention.bytes", "min.compaction.lag.ms",
                               "delete.retention.ms"]),
          value=st.sampled_from(["-1", "0", "60", "300"]))
    def alter_config(self, key, value):
        self.cfg[key] = value

    @rule()
    def retention(self):
        start = self.log.log_start_offset
        self.log.apply_retention(self.now, self.hw)
        assert start <= self.log.log_start_offset <= max(start, self.hw)

    @rule()
    def compact(self):
        before = {r.offset: r for r in all_records(self.log)}
        end = min(self.hw, self.log.active_segment.base_offset)
        removed = self.log.compact(self.now, self.hw)
        after = {r.offset for r in all_records(self.log)}
        assert removed == len(before) - len(after) and after <= before.keys()
        tombstone_cutoff = self.now - int(self.cfg["delete.retention.ms"])
        for off in before.keys() - after:
            r = before[off]
            assert off < end, "compaction touched a record at or above the cleanable end"
            newer = any(o > off and o < end and k == r.key for o, (k, _, _) in self.model.items()
                        if o in before)
            expired_tombstone = r.value is None and r.timestamp < tombstone_cutoff
            assert r.key is not None and (newer or expired_tombstone), f"compaction removed {r}"

    @precondition(lambda self: self.log.log_end_offset > self.hw)
    @rule(data=st.data())
    def truncate(self, data):
        """Only above the high watermark, as a follower does."""
        target = data.draw(st.integers(max(self.hw, self.log.log_start_offset), self.log.log_end_offset))
        dropped = self.log.truncate_to(target)
        gone = [o for o in self.model if o >= target]
        for o in gone:
            del self.model[o]
        assert dropped <= len(gone)
        assert all(s < target for _, s in self.log.epoch_entries())

    @rule(data=st.data())
    def delete_records(self, data):
        target = data.draw(st.integers(0, self.hw))
        self.log.delete_records_before(target)
        assert self.log.log_start_offset >= target

    @invariant()
    def offsets_and_bounds(self):
        log = self.log
        stored = all_records(log)
        offs = [r.offset for r in stored]
        assert offs == sorted(set(offs)), "offsets must strictly increase"
        assert all(log.log_start_offset <= o < log.log_end_offset for o in offs)
        assert log.log_start_offset <= log.log_end_offset
        assert log.record_count() == len(stored)
        assert log.size_bytes() == sum(r.size_bytes() for r in stored)
        for seg, nxt in zip(log.segments, log.segments[1:]):
            assert seg.base_offset < nxt.base_offset
            assert all(seg.base_offset <= r.offset < nxt.base_offset for r in seg.records)
        for r in stored:  # offsets never change: each stored record is the one appended at that offset
            assert self.model[r.offset] == (r.key, r.value, r.timestamp)

    @invariant()
    def reads_are_sorted_and_bounded(self):
        log = self.log
        start = (log.log_start_offset + log.log_end_offset) // 2
        got = log.read(start, self.hw, max_records=7)
        offs = [r.offset for r in got]
        assert offs == sorted(offs) and len(offs) <= 7
        assert all(start <= o < self.hw for o in offs)

    @invariant()
    def newest_record_of_each_key_survives(self):
        """The newest record of a key is only ever removed by retention or as an expired tombstone."""
        present = {r.offset for r in all_records(self.log)}
        newest: dict[bytes, int] = {}
        for o in sorted(self.model):
            if o >= self.log.log_start_offset and self.model[o][0] is not None:
                newest[self.model[o][0]] = o
        for key, o in newest.items():
            assert o in present or self.model[o][1] is None, f"newest record of {key!r} at {o} was removed"

    @invariant()
    def epoch_cache_is_ordered(self):
        entries = self.log.epoch_entries()
        assert all(a[0] < b[0] and a[1] < b[1] for a, b in zip(entries, entries[1:]))
        assert all(e <= self.epoch for e, _ in entries)


LogMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None,
                                        suppress_health_check=[HealthCheck.too_slow])
TestLogInvariants = LogMachine.TestCase
