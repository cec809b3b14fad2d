"""eventsim.streams refuses bad arguments when the topology (or the app) is declared, with an error that says
what would be right, instead of crashing at the first record or building an unbounded number of windows."""
from __future__ import annotations

import pytest

import eventsim
from eventsim.admin import AdminClient, NewTopic
from eventsim.errors import KafkaError, KafkaException
from eventsim.streams import (SessionWindows, StreamBuilder, StreamsApp, TimeWindows, TopologyTestDriver, examples,
                              hopping, serdes, session, tumbling)
from eventsim.streams.stores import StoreSpec
from eventsim.streams.windows import MAX_MS, MAX_WINDOWS_PER_RECORD


# -- serdes: checked where they are given -----------------------------------------------------------------

def _grouped(b):
    return b.stream("in", key_serde=serdes.str).group_by_key()


#: Every place the DSL takes a serde, as ``fn(bad)`` that declares it.
SERDE_PLACES = {
    "StreamBuilder(default_key_serde)": lambda bad: StreamBuilder(default_key_serde=bad),
    "StreamBuilder(default_value_serde)": lambda bad: StreamBuilder(default_value_serde=bad),
    "stream(key_serde)": lambda bad: StreamBuilder().stream("in", key_serde=bad),
    "stream(value_serde)": lambda bad: StreamBuilder().stream("in", value_serde=bad),
    "global_table(key_serde)": lambda bad: StreamBuilder().global_table("g", key_serde=bad),
    "global_table(value_serde)": lambda bad: StreamBuilder().global_table("g", value_serde=bad),
    "to(key_serde)": lambda bad: StreamBuilder().stream("in").to("out", key_serde=bad),
    "to(value_serde)": lambda bad: StreamBuilder().stream("in").to("out", value_serde=bad),
    "group_by_key(key_serde)": lambda bad: StreamBuilder().stream("in").group_by_key(key_serde=bad),
    "group_by_key(value_serde)": lambda bad: StreamBuilder().stream("in").group_by_key(value_serde=bad),
    "group_by(key_serde)": lambda bad: StreamBuilder().stream("in").group_by(lambda k, v: v, key_serde=bad),
    "group_by(value_serde)": lambda bad: StreamBuilder().stream("in").group_by(lambda k, v: v, value_serde=bad),
    "aggregate(value_serde)": lambda bad: _grouped(StreamBuilder()).aggregate(lambda: 0, lambda k, v, a: a,
                                                                             value_serde=bad),
    "windowed aggregate(value_serde)": lambda bad: _grouped(StreamBuilder()).windowed_by(tumbling(10)).aggregate(
        lambda: 0, lambda k, v, a: a, value_serde=bad),
    "session aggregate(value_serde)": lambda bad: _grouped(StreamBuilder()).windowed_by(session(10)).aggregate(
        lambda: 0, lambda k, v, a: a, lambda k, a, b: a, value_serde=bad),
    "serdes.windowed(inner)": lambda bad: serdes.windowed(bad),
    "serdes.session_windowed(inner)": lambda bad: serdes.session_windowed(bad),
    "StoreSpec(key_serde)": lambda bad: StoreSpec("s", "kv", bad, serdes.bytes),
    "StoreSpec(value_serde)": lambda bad: StoreSpec("s", "kv", serdes.bytes, bad),
    "examples.read_topic(value_serde)": lambda bad: examples.read_topic(
        lambda conf: pytest.fail("no consumer should be made"), "t", "g", value_serde=bad),
}


@pytest.mark.parametrize("place", sorted(SERDE_PLACES))
def test_a_python_type_given_as_a_serde_is_refused_where_it_is_given(place):
    # Before: accepted, and the first record crashed with "type object 'str' has no attribute 'serialize'"
    # (or, for windowed(), "... has no attribute 'name'").
    with pytest.raises(TypeError) as info:
        SERDE_PLACES[place](str)
    text = str(info.value)
    assert "did you mean serdes.str?" in text
    for choice in ("serdes.bytes", "serdes.str", "serdes.int", "serdes.long", "serdes.json", "serdes.windowed(inner)"):
        assert choice in text


@pytest.mark.parametrize("bad, hint", [("json", "serdes.json"), (dict, "serdes.json"), (bytes, "serdes.bytes"),
                                       (int, "serdes.int"), (serdes.windowed, "serdes.windowed(serdes.str)"),
                                       (0, None), ("", None), (object(), None)])
def test_a_wrong_serde_is_refused_with_a_hint(bad, hint):
    # Before: all accepted; 0 and "" (falsy) were even silently replaced by the default serde.
    with pytest.raises(TypeError, match="which is not a serde") as info:
        StreamBuilder().stream("in", value_serde=bad)
    assert (hint in str(info.value)) if hint else "did you mean" not in str(info.value)


def test_a_serde_of_ones_own_must_have_a_name_and_two_functions():
    with pytest.raises(TypeError, match="serialize must be a function"):
        serdes.Serde("upper", "not a function", bytes.decode)
    with pytest.raises(TypeError, match="non-empty str name"):
        serdes.Serde("", str.encode, bytes.decode)
    upper = serdes.Serde("upper", lambda s: s.upper().encode(), lambda b: b.decode())
    b = StreamBuilder()
    b.stream("in", value_serde=upper).to("out")
    d = TopologyTestDriver(b.build())
    d.pipe("in", b"k", "abc", 1)
    assert d.read_output("out") == [(b"k", "ABC", 1)]


def test_a_store_spec_checks_its_kind_and_windows():
    with pytest.raises(ValueError, match="'kv', 'window' or 'session'"):
        StoreSpec("s", "tree", serdes.bytes, serdes.bytes)
    with pytest.raises(TypeError, match="TimeWindows"):
        StoreSpec("s", "window", serdes.bytes, serdes.bytes, windows=session(10))


# -- other build-time arguments ----------------------------------------------------------------------------

@pytest.mark.parametrize("declare", [
    lambda b: b.stream("in").group_by_key().count(name=""),
    lambda b: b.stream("in").group_by_key().count(name="my store"),
    lambda b: b.stream("in").group_by_key().windowed_by(tumbling(10)).count(name="a/b"),
    lambda b: b.global_table("g", name=""),
    lambda b: b.global_table("g", name=7),
    lambda b: b.global_table("bad topic"),
    lambda b: b.stream("in").to("bad topic"),
    lambda b: b.stream("in").to("x" * 250),
    lambda b: b.stream(".."),
], ids=["empty store", "store with space", "store with slash", "empty global store", "int global store",
        "global topic with space", "sink topic with space", "sink topic too long", "source topic '..'"])
def test_store_and_topic_names_must_be_legal_kafka_names(declare):
    # Before: "" became a generated name; illegal names failed only when the app created or wrote the topic.
    with pytest.raises(ValueError, match="illegal|non-empty str"):
        declare(StreamBuilder())


def test_a_join_key_selector_must_be_callable():
    b = StreamBuilder()
    table = b.global_table("customers")
    with pytest.raises(TypeError, match="key_selector must be a function"):     # before: failed at the first record
        b.stream("orders").left_join(table, lambda o, c: o, key_selector="customer")


def test_a_topic_read_by_another_source_is_refused_in_a_list_too():
    b = StreamBuilder()
    b.stream("b")
    with pytest.raises(ValueError, match="already read"):        # before: silently took "b" from the first source
        b.stream(["a", "b"])
    with pytest.raises(ValueError, match="twice"):
        StreamBuilder().stream(["a", "a"])


# -- windows: bounded ---------------------------------------------------------------------------------------

def test_hopping_1e9_by_1_is_refused_at_once_naming_the_bound():
    # Before: accepted; a record with timestamp >= 10**9 then built 10**9 Window objects (and as many store
    # updates, changelog and output records): 10**6 of them took 160 MB and 12 s.
    with pytest.raises(ValueError) as info:
        hopping(10**9, 1)
    text = str(info.value)
    assert "MAX_WINDOWS_PER_RECORD=1000" in text and "advance_ms >= 1000000" in text
    assert MAX_WINDOWS_PER_RECORD == 1000


def test_the_bound_is_on_windows_per_record():
    assert len(hopping(MAX_WINDOWS_PER_RECORD, 1).windows_for(5_000)) == MAX_WINDOWS_PER_RECORD
    assert len(hopping(1001, 2).windows_for(5_000)) == 501
    for size, advance in ((MAX_WINDOWS_PER_RECORD + 1, 1), (2001, 2), (10**12, 10**8)):
        with pytest.raises(ValueError, match="MAX_WINDOWS_PER_RECORD"):
            TimeWindows(size, advance)


def test_a_hopping_aggregation_at_the_bound_stays_bounded():
    b = StreamBuilder()
    b.stream("in", key_serde=serdes.str).group_by_key().windowed_by(hopping(1000, 1)).count(name="c")
    d = TopologyTestDriver(b.build())
    d.pipe("in", "k", b"v", 10**9)
    assert len(d.store("c")) == 1000 and len(d.changelog("c")) == 1000
    with pytest.raises(ValueError, match="MAX_WINDOWS_PER_RECORD"):
        hopping(1001, 1)


def test_a_window_changed_after_it_was_made_is_checked_again_by_windowed_by():
    w = hopping(10, 5)
    w.size_ms = 10**9
    w.advance_ms = 1
    with pytest.raises(ValueError, match="MAX_WINDOWS_PER_RECORD"):     # before: accepted
        StreamBuilder().stream("in").group_by_key().windowed_by(w)
    s = session(10)
    s.gap_ms = 0
    with pytest.raises(ValueError, match="gap_ms"):
        StreamBuilder().stream("in").group_by_key().windowed_by(s)


@pytest.mark.parametrize("make", [lambda: tumbling(MAX_MS + 1), lambda: tumbling(10, grace_ms=MAX_MS + 1),
                                  lambda: SessionWindows(MAX_MS + 1), lambda: session(10, grace_ms=2**64)])
def test_durations_must_fit_kafkas_long(make):
    with pytest.raises(ValueError, match="Long.MAX_VALUE"):          # before: accepted
        make()


# -- StreamsApp configuration and run() arguments -------------------------------------------------------

def _cluster():
    cluster = eventsim.Cluster(brokers=1, seed=0)
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    for f in admin.create_topics([NewTopic("in", 1, 1), NewTopic("out", 1, 1)]).values():
        f.result()
    p = eventsim.Producer({"bootstrap.servers": cluster.bootstrap_servers})
    for i in range(5):
        p.produce("in", key=b"k", value=str(i).encode(), timestamp=1_000 + i)
    p.flush()
    return cluster


def _topology():
    b = StreamBuilder()
    b.stream("in").to("out")
    return b.build()


def _conf(cluster, **extra):
    return dict({"application.id": "bad-input", "bootstrap.servers": cluster.bootstrap_servers}, **extra)


@pytest.mark.parametrize("value", ["abc", 0, -2, True, 1.5])
def test_replication_factor_is_checked_when_the_app_is_made(value):
    # Before: accepted; start() then failed in int("abc"), or the broker refused 0 / -2.
    cluster = _cluster()
    with pytest.raises(KafkaException) as info:
        StreamsApp(_topology(), _conf(cluster, **{"replication.factor": value}))
    assert info.value.args[0].code() == KafkaError._INVALID_ARG
    assert "replication.factor" in info.value.args[0].str()


@pytest.mark.parametrize("key", ["commit.interval.ms", "num.stream.threads", "state.dir", "default.key.serde",
                                 "cache.max.bytes.buffering"])
def test_kafka_streams_settings_that_are_not_implemented_are_refused_by_name(key):
    # Before: accepted; start() created the internal topics, then a client failed with
    # 'No such configuration property: "<key>"'.
    cluster = _cluster()
    with pytest.raises(KafkaException) as info:
        StreamsApp(_topology(), _conf(cluster, **{key: 1}))
    assert info.value.args[0].code() == KafkaError._INVALID_ARG
    assert key in info.value.args[0].str() and "does not implement" in info.value.args[0].str()


@pytest.mark.parametrize("kwargs", [{"timeout": float("nan")}, {"timeout": float("inf")}, {"timeout": "5"},
                                    {"timeout": -1}, {"max_records": "3"}, {"max_records": -1}])
def test_run_checks_its_arguments_before_starting(kwargs):
    # Before: nan never timed out (with until_idle=False run() never returned), "5" / "3" raised a TypeError
    # after the first step had processed records, -1 ran one step.
    cluster = _cluster()          # held: the registry of simulated clusters does not keep them alive
    app = StreamsApp(_topology(), _conf(cluster))
    with pytest.raises(ValueError, match="run"):
        app.run(**kwargs)
    assert app.state == "CREATED" and app.metrics["records_processed"] == 0


def test_step_refuses_a_max_records_below_one():
    cluster = _cluster()
    app = StreamsApp(_topology(), _conf(cluster))
    with pytest.raises(ValueError, match=r"step\(max_records=...\)"):      # before: step(0) processed a record
        app.step(0)
    assert app.run(timeout=30) == 5
