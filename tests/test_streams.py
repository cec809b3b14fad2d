"""eventsim.streams without Kafka: serdes, window math, each operator and the stores, through the
TopologyTestDriver."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from eventsim.errors import KafkaError, KafkaException
from eventsim.streams import (SessionWindows, StreamBuilder, TimeWindows, TopologyTestDriver, Window, Windowed,
                              hopping, serdes, session, tumbling)
from eventsim.widgets.window_view import validate_windows


def driver_for(build, app_id="test"):
    builder = StreamBuilder()
    build(builder)
    return TopologyTestDriver(builder.build(), {"application.id": app_id})


# -- serdes ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("serde, value", [(serdes.str, "héllo"), (serdes.int, -5), (serdes.int, 2**31 - 1),
                                          (serdes.long, 2**40), (serdes.json, {"b": [1, 2], "a": None}),
                                          (serdes.bytes, b"\x00\x01")])
def test_serdes_round_trip(serde, value):
    assert serde.deserialize(serde.serialize(value)) == value
    assert serde.serialize(None) is None and serde.deserialize(None) is None


def test_serdes_use_kafkas_layouts():
    assert serdes.int.serialize(1) == b"\x00\x00\x00\x01"
    assert serdes.long.serialize(1) == b"\x00" * 7 + b"\x01"
    assert serdes.json.serialize({"b": 1, "a": 2}) == b'{"a":2,"b":1}'
    wk = Windowed("k", Window(10, 20))
    assert serdes.windowed(serdes.str).serialize(wk) == b"k" + (10).to_bytes(8, "big")
    assert serdes.windowed(serdes.str, 10).deserialize(b"k" + (10).to_bytes(8, "big")) == wk
    session_key = serdes.session_windowed(serdes.str).serialize(wk)
    assert session_key == b"k" + (20).to_bytes(8, "big") + (10).to_bytes(8, "big")
    assert serdes.session_windowed(serdes.str).deserialize(session_key) == wk


@pytest.mark.parametrize("serde, bad, code", [
    (serdes.bytes, {"a": 1}, KafkaError._VALUE_SERIALIZATION),
    (serdes.str, 12, KafkaError._VALUE_SERIALIZATION),
    (serdes.int, 2**31, KafkaError._VALUE_SERIALIZATION),
    (serdes.int, True, KafkaError._VALUE_SERIALIZATION),
    (serdes.json, object(), KafkaError._VALUE_SERIALIZATION)])
def test_serialization_errors_name_the_value(serde, bad, code):
    with pytest.raises(KafkaException) as info:
        serde.serialize(bad)
    assert info.value.args[0].code() == code
    assert repr(bad) in info.value.args[0].str()


def test_deserialization_errors():
    with pytest.raises(KafkaException) as info:
        serdes.long.deserialize(b"abc", "key")
    assert info.value.args[0].code() == KafkaError._KEY_DESERIALIZATION
    with pytest.raises(KafkaException) as info:
        serdes.json.deserialize(b"{not json")
    assert info.value.args[0].code() == KafkaError._VALUE_DESERIALIZATION


# -- window math ------------------------------------------------------------------------------------------

def test_tumbling_windows_are_start_inclusive_end_exclusive():
    w = tumbling(10)
    assert w.windows_for(0) == [Window(0, 10)]
    assert w.windows_for(9) == [Window(0, 10)]
    assert w.windows_for(10) == [Window(10, 20)]


def test_hopping_windows_cover_a_timestamp_size_over_advance_times():
    w = hopping(10, 5)
    assert w.windows_for(12) == [Window(5, 15), Window(10, 20)]
    assert w.windows_for(3) == [Window(0, 10)]          # no window starts before 0


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, 50), advance=st.integers(1, 50), ts=st.integers(0, 10_000))
def test_every_window_for_a_timestamp_contains_it(size, advance, ts):
    if advance > size:
        advance = size
    windows = TimeWindows(size, advance).windows_for(ts)
    assert windows and all(w.start_ms <= ts < w.end_ms for w in windows)
    assert all(w.start_ms % advance == 0 and w.end_ms - w.start_ms == size for w in windows)
    # every aligned window containing ts is there: count = the aligned starts in (ts - size, ts]
    expected = [s for s in range(0, ts + 1, advance) if s > ts - size]
    assert [w.start_ms for w in windows] == expected


def test_window_close_time_is_end_plus_grace():
    w = tumbling(10, grace_ms=5)
    assert not w.is_closed(Window(0, 10), 14)
    assert w.is_closed(Window(0, 10), 15)
    s = session(10, grace_ms=5)
    assert not s.is_closed(Window(0, 3), 8) and s.is_closed(Window(0, 3), 9)


@pytest.mark.parametrize("make", [lambda: TimeWindows(0), lambda: TimeWindows(10, 11), lambda: TimeWindows(10, 0),
                                  lambda: TimeWindows(10, grace_ms=-1), lambda: SessionWindows(0)])
def test_bad_windows_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_window_sizes_must_be_ints():
    with pytest.raises(TypeError, match="size_ms"):
        TimeWindows(1.5)


# -- stateless operators ----------------------------------------------------------------------------------

def test_filter_map_values_and_to():
    d = driver_for(lambda b: b.stream("in", value_serde=serdes.int)
                   .filter(lambda k, v: v % 2 == 0).map_values(lambda v: v * 10).to("out", value_serde=serdes.int))
    for i in range(5):
        d.pipe("in", b"k", i, 100 + i)
    assert d.read_output("out") == [(b"k", 0, 100), (b"k", 20, 102), (b"k", 40, 104)]
    assert d.read_output("out") == []


def test_filter_not_map_select_key_and_flat_map():
    def build(b):
        s = b.stream("in", key_serde=serdes.str, value_serde=serdes.str)
        s.filter_not(lambda k, v: v == "skip").map(lambda k, v: (v, k)).to("swapped", serdes.str, serdes.str)
        s.select_key(lambda k, v: k.upper()).to("upper", serdes.str, serdes.str)
        s.flat_map(lambda k, v: [(k, c) for c in v]).to("chars", serdes.str, serdes.str)
        s.flat_map_values(lambda v: v.split("-")).to("parts", serdes.str, serdes.str)
    d = driver_for(build)
    d.pipe("in", "a", "x-y", 5)
    d.pipe("in", "b", "skip", 6)
    assert d.read_output("swapped") == [("x-y", "a", 5)]
    assert d.read_output("upper") == [("A", "x-y", 5), ("B", "skip", 6)]
    assert [v for _, v, _ in d.read_output("chars")] == list("x-y") + list("skip")
    assert d.read_output("parts") == [("a", "x", 5), ("a", "y", 5), ("b", "skip", 6)]


def test_branch_sends_each_record_to_the_first_matching_branch_only():
    def build(b):
        small, medium = b.stream("in", value_serde=serdes.int).branch(lambda k, v: v < 10, lambda k, v: v < 100)
        small.to("small", value_serde=serdes.int)
        medium.to("medium", value_serde=serdes.int)
    d = driver_for(build)
    for v in (5, 50, 500):
        d.pipe("in", None, v, 1)
    assert [v for _, v, _ in d.read_output("small")] == [5]
    assert [v for _, v, _ in d.read_output("medium")] == [50]      # 5 also < 100, but went to the first branch


def test_peek_sees_event_time_and_processing_time():
    seen = []

    def build(b):
        b.stream("in").peek(lambda k, v, ctx: seen.append(ctx), with_context=True).peek(
            lambda k, v: seen.append((k, v)))
    d = driver_for(build)
    d.advance(500)
    d.pipe("in", b"k", b"v", 42)
    ctx = seen[0]
    assert (ctx.topic, ctx.partition, ctx.offset, ctx.timestamp, ctx.processing_time_ms, ctx.stream_time_ms) == \
        ("in", 0, 0, 42, 500, 42)
    assert seen[1] == (b"k", b"v")


def test_map_must_return_a_pair():
    d = driver_for(lambda b: b.stream("in").map(lambda k, v: v).to("out"))
    with pytest.raises(TypeError, match="must return a \\(key, value\\) tuple"):
        d.pipe("in", b"k", b"v", 1)


def test_default_bytes_serde_refuses_objects_with_a_hint():
    d = driver_for(lambda b: b.stream("in").map_values(lambda v: {"v": v.decode()}).to("out"))
    with pytest.raises(KafkaException) as info:
        d.pipe("in", b"k", b"v", 1)
    assert info.value.args[0].code() == KafkaError._VALUE_SERIALIZATION
    assert "serdes.json" in info.value.args[0].str()


def test_dsl_argument_errors():
    b = StreamBuilder()
    s = b.stream("in")
    with pytest.raises(TypeError):
        s.filter("not a function")
    with pytest.raises(ValueError):
        s.branch()
    with pytest.raises(ValueError, match="already read"):
        b.stream("in")
    with pytest.raises(TypeError, match="TimeWindows or SessionWindows"):
        s.group_by_key().windowed_by(10)
    s.group_by_key().count(name="c")
    with pytest.raises(ValueError, match="already exists"):
        s.group_by_key().count(name="c")
    with pytest.raises(ValueError, match="no source"):
        StreamBuilder().build()
    with pytest.raises(TypeError, match="GlobalKTable"):
        s.join(s, lambda a, b: a)


# -- stateful: aggregations and their changelogs -------------------------------------------------------

def test_count_aggregate_reduce_forward_every_update_and_log_it():
    tables = {}

    def build(b):
        s = b.stream("in", key_serde=serdes.str, value_serde=serdes.int)
        g = s.group_by_key()
        tables["count"] = g.count(name="count")
        tables["sum"] = g.aggregate(lambda: 0, lambda k, v, agg: agg + v, name="sum", value_serde=serdes.long)
        tables["max"] = g.reduce(max, name="max")
        tables["count"].to_stream().to("counts", value_serde=serdes.long)
    d = driver_for(build)
    for k, v, ts in [("a", 3, 10), ("b", 1, 11), ("a", 7, 12), ("a", 2, 5)]:
        d.pipe("in", k, v, ts)
    assert d.read_output("counts") == [("a", 1, 10), ("b", 1, 11), ("a", 2, 12), ("a", 3, 12)]  # ts: max so far
    assert tables["count"].items() == {"a": 3, "b": 1}
    assert tables["sum"].items() == {"a": 12, "b": 1}
    assert tables["max"].items() == {"a": 7, "b": 1}
    log = d.changelog("count")
    assert [(k, serdes.long.deserialize(v)) for k, v, _, _ in log] == [(b"a", 1), (b"b", 1), (b"a", 2), (b"a", 3)]


def test_null_keys_are_skipped_by_aggregations():
    d = driver_for(lambda b: b.stream("in").group_by_key().count(name="c"))
    d.pipe("in", None, b"v", 1)
    assert d.metrics["skipped_records"] == 1
    assert d.store_items("c") == {}


def test_group_by_goes_through_a_repartition_topic():
    def build(b):
        (b.stream("in", key_serde=serdes.str, value_serde=serdes.json)
         .group_by(lambda k, v: v["city"], key_serde=serdes.str).count(name="by-city")
         .to_stream().to("out", value_serde=serdes.long))
    d = driver_for(build, app_id="geo")
    topo = d.topology
    assert topo.repartition_topics("geo") == ["geo-by-city-repartition"]
    assert topo.changelog_topics("geo") == ["geo-by-city-changelog"]
    assert len(topo.subtopologies) == 2
    for user, city in [("u1", "Oslo"), ("u2", "Rome"), ("u3", "Oslo")]:
        d.pipe("in", user, {"city": city}, 1)
    assert d.store_items("by-city") == {"Oslo": 2, "Rome": 1}
    assert "Sub-topology: 1" in topo.describe() and "geo" not in topo.describe()


def test_map_then_group_by_key_repartitions_but_filter_does_not():
    b = StreamBuilder()
    s = b.stream("in")
    s.filter(lambda k, v: True).group_by_key().count(name="plain")
    s.map(lambda k, v: (v, k)).group_by_key().count(name="rekeyed")
    t = b.build()
    assert t.repartition_topics("x") == ["x-rekeyed-repartition"]


# -- windows: boundaries, grace, late records ---------------------------------------------------------

def windowed_count(windows, name="w"):
    tables = {}

    def build(b):
        tables["t"] = b.stream("in", key_serde=serdes.str).group_by_key().windowed_by(windows).count(name=name)
        tables["t"].to_stream().to("out")
    d = driver_for(build)
    return d, tables["t"]


def test_tumbling_window_boundaries_and_late_records():
    d, table = windowed_count(tumbling(10, grace_ms=5))
    for ts in (0, 9, 10):                        # 10 is the first ms of the next window
        d.pipe("in", "k", b"x", ts)
    assert table.items() == {Windowed("k", Window(0, 10)): 2, Windowed("k", Window(10, 20)): 1}
    d.pipe("in", "k", b"x", 14)                   # stream time 14 < 10 + 5: [0,10) still open
    d.pipe("in", "k", b"x", 3)                    # out of order, within grace: counted
    assert table.items()[Windowed("k", Window(0, 10))] == 3
    d.pipe("in", "k", b"x", 15)                   # stream time 15 = end + grace: [0,10) closes
    d.pipe("in", "k", b"x", 4)                    # late: dropped and counted
    assert table.items()[Windowed("k", Window(0, 10))] == 3
    assert d.metrics["dropped_late_records"] == 1
    assert d.late_records[0]["timestamp"] == 4 and d.late_records[0]["stream_time"] == 15
    snap = table.windows_snapshot()
    assert validate_windows(snap) == snap
    first = snap[0]
    assert (first["start_ms"], first["end_ms"], first["count"], first["state"], first["late_records"]) == \
        (0, 10, 3, "closed", 1)
    assert snap[1]["state"] == "open"


def test_grace_zero_closes_a_window_at_its_end():
    d, table = windowed_count(tumbling(10))
    d.pipe("in", "k", b"x", 10)
    d.pipe("in", "k", b"x", 9)
    assert d.metrics["dropped_late_records"] == 1
    assert table.items() == {Windowed("k", Window(10, 20)): 1}


def test_hopping_window_late_for_some_windows_only():
    d, table = windowed_count(hopping(10, 5, grace_ms=0))
    d.pipe("in", "k", b"x", 12)       # windows [5,15) and [10,20)
    d.pipe("in", "k", b"x", 9)        # windows [0,10) (closed: 12 >= 10) and [5,15) (open)
    items = table.items()
    assert items[Windowed("k", Window(5, 15))] == 2 and Windowed("k", Window(0, 10)) not in items
    snap = {(w["start_ms"], w["end_ms"]): w for w in table.windows_snapshot()}
    assert snap[(0, 10)]["late_records"] == 1 and snap[(0, 10)]["count"] == 0
    assert d.metrics["dropped_late_records"] == 1


def test_session_windows_merge_and_forward_tombstones():
    d, table = windowed_count(session(10, grace_ms=30))
    d.pipe("in", "k", b"x", 0)
    d.pipe("in", "k", b"x", 25)       # a second session: 25 - 0 > gap
    d.pipe("in", "k", b"x", 16)       # 25 - 16 <= gap: joins [25, 25]; 16 - 0 > gap: not [0, 0]
    assert table.items() == {Windowed("k", Window(0, 0)): 1, Windowed("k", Window(16, 25)): 2}
    d.pipe("in", "k", b"x", 6)        # within the gap of both: bridges them
    assert table.items() == {Windowed("k", Window(0, 25)): 4}
    out = d.read_output("out")
    assert [v for _, v, _ in out][-3:] == [None, None, 4]     # two merged-away sessions, then the merge
    snap = table.windows_snapshot()
    assert snap == [{"key": "k", "start_ms": 0, "end_ms": 26, "count": 4, "state": "open", "late_records": 0}]


def test_session_windows_drop_records_after_end_plus_grace():
    d, table = windowed_count(session(5, grace_ms=2))
    d.pipe("in", "k", b"x", 100)
    d.pipe("in", "k", b"x", 50)       # its own session [50,50] closed: 100 > 50 + 2
    assert d.metrics["dropped_late_records"] == 1
    d.pipe("in", "k", b"x", 98)       # new session, merges with [100,100]
    assert table.items() == {Windowed("k", Window(98, 100)): 2}


def test_windowed_reduce_and_aggregate_with_session_merger():
    tables = {}

    def build(b):
        g = b.stream("in", key_serde=serdes.str, value_serde=serdes.int).group_by_key()
        tables["max"] = g.windowed_by(tumbling(10)).reduce(max, name="max")
        tables["sum"] = g.windowed_by(session(5, grace_ms=20)).aggregate(lambda: 0, lambda k, v, a: a + v,
                                                            lambda k, a, b: a + b, name="sum",
                                                            value_serde=serdes.long)
    d = driver_for(build)
    for v, ts in [(3, 1), (9, 2), (4, 20), (1, 6)]:
        d.pipe("in", "k", v, ts)
    # ts 6 is late for the tumbling window [0, 10) (no grace) but joins the session [1, 2] (grace 20)
    assert tables["max"].items() == {Windowed("k", Window(0, 10)): 9, Windowed("k", Window(20, 30)): 4}
    assert tables["sum"].items() == {Windowed("k", Window(1, 6)): 13, Windowed("k", Window(20, 20)): 4}
    snap = tables["max"].windows_snapshot(value_fn=lambda v: f"max {v}")
    assert snap[0]["value"] == "max 9"


def test_session_aggregate_needs_a_merger():
    b = StreamBuilder()
    with pytest.raises(TypeError, match="merger"):
        b.stream("in").group_by_key().windowed_by(session(5)).aggregate(lambda: 0, lambda k, v, a: a)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 200)), max_size=40),
       st.integers(1, 30), st.integers(0, 30))
def test_windowed_counts_plus_late_records_account_for_every_record(records, size, grace):
    d, table = windowed_count(tumbling(size, grace_ms=grace))
    stream_time, expected = -1, {}
    for key, ts in records:
        d.pipe("in", key, b"x", ts)
        stream_time = max(stream_time, ts)
        start = ts // size * size
        if stream_time < start + size + grace:
            expected[(key, start)] = expected.get((key, start), 0) + 1
    got = {(wk.key, wk.window.start_ms): n for wk, n in table.items().items()}
    assert got == expected
    assert sum(got.values()) + d.metrics["dropped_late_records"] == len(records)


def test_window_view_widget_gets_stream_time_and_close_time():
    d, table = windowed_count(tumbling(10, grace_ms=4))
    d.pipe("in", "k", b"x", 12)
    view = table.window_view(title="counts")
    assert view.now_ms == 12 and view.watermark_ms == 8
    assert len(view.windows) == 1


def test_reading_a_table_before_any_run_is_an_error():
    b = StreamBuilder()
    t = b.stream("in").group_by_key().count(name="c")
    b.build()
    with pytest.raises(RuntimeError, match="no StreamsApp or TopologyTestDriver"):
        t.items()


# -- global-table joins -----------------------------------------------------------------------------------

def test_join_and_left_join_with_a_global_table():
    def build(b):
        customers = b.global_table("customers", key_serde=serdes.str, value_serde=serdes.json, name="customers")
        orders = b.stream("orders", key_serde=serdes.str, value_serde=serdes.json)
        orders.join(customers, lambda o, c: dict(o, name=c["name"]),
                    key_selector=lambda k, o: o["customer"]).to("inner", value_serde=serdes.json)
        orders.left_join(customers, lambda o, c: dict(o, name=c and c["name"]),
                         key_selector=lambda k, o: o["customer"]).to("left", value_serde=serdes.json)
    d = driver_for(build)
    d.pipe("customers", "c1", {"name": "Ada"}, 1)
    d.pipe("orders", "o1", {"customer": "c1"}, 2)
    d.pipe("orders", "o2", {"customer": "c9"}, 3)
    d.pipe("customers", "c1", {"name": "Ada L."}, 4)      # the table keeps the latest value per key
    d.pipe("orders", "o3", {"customer": "c1"}, 5)
    assert [(k, v["name"]) for k, v, _ in d.read_output("inner")] == [("o1", "Ada"), ("o3", "Ada L.")]
    assert [(k, v["name"]) for k, v, _ in d.read_output("left")] == [("o1", "Ada"), ("o2", None), ("o3", "Ada L.")]
    d.pipe_raw("customers", b"c1", None, 6)                # a tombstone deletes the customer
    d.pipe("orders", "o4", {"customer": "c1"}, 7)
    assert d.read_output("inner") == []
