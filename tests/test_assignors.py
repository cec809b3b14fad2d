"""Assignors: the examples from Kafka's RangeAssignorTest / RoundRobinAssignorTest /
CooperativeStickyAssignorTest, plus invariants checked with hypothesis."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim.assignors import (assign, cooperative_adjust, cooperative_sticky_assign, parse_strategy,
                                range_assign, roundrobin_assign, sticky_assign)


def tps(*pairs):
    return sorted(pairs)


# -- range (Kafka's RangeAssignorTest) ----------------------------------------------------------------
def test_range_one_consumer_no_topic():
    assert range_assign({"consumer1": []}, {}) == {"consumer1": []}


def test_range_one_consumer_nonexistent_topic():
    assert range_assign({"consumer1": ["topic1"]}, {}) == {"consumer1": []}


def test_range_only_assigns_subscribed_topics():
    out = range_assign({"consumer1": ["topic1"]}, {"topic1": 3, "other": 3})
    assert out == {"consumer1": tps(("topic1", 0), ("topic1", 1), ("topic1", 2))}


def test_range_two_consumers_one_partition():
    out = range_assign({"consumer1": ["topic1"], "consumer2": ["topic1"]}, {"topic1": 1})
    assert out == {"consumer1": [("topic1", 0)], "consumer2": []}


def test_range_multiple_consumers_mixed_topics():
    subs = {"consumer1": ["topic1"], "consumer2": ["topic1", "topic2"], "consumer3": ["topic1"]}
    out = range_assign(subs, {"topic1": 3, "topic2": 2})
    assert out["consumer1"] == [("topic1", 0)]
    assert out["consumer2"] == tps(("topic1", 1), ("topic2", 0), ("topic2", 1))
    assert out["consumer3"] == [("topic1", 2)]


def test_range_two_consumers_two_topics_six_partitions():
    subs = {"consumer1": ["topic1", "topic2"], "consumer2": ["topic1", "topic2"]}
    out = range_assign(subs, {"topic1": 3, "topic2": 3})
    assert out["consumer1"] == tps(("topic1", 0), ("topic1", 1), ("topic2", 0), ("topic2", 1))
    assert out["consumer2"] == tps(("topic1", 2), ("topic2", 2))


def test_range_order_is_by_member_id_not_insertion():
    subs = {"b": ["t"], "a": ["t"]}
    assert range_assign(subs, {"t": 3})["a"] == [("t", 0), ("t", 1)]


# -- roundrobin (Kafka's RoundRobinAssignorTest) --------------------------------------------------------
def test_roundrobin_two_consumers_one_topic_two_partitions():
    out = roundrobin_assign({"consumer1": ["topic"], "consumer2": ["topic"]}, {"topic": 2})
    assert out == {"consumer1": [("topic", 0)], "consumer2": [("topic", 1)]}


def test_roundrobin_multiple_consumers_mixed_topics():
    subs = {"consumer1": ["topic1"], "consumer2": ["topic1", "topic2"], "consumer3": ["topic1"]}
    out = roundrobin_assign(subs, {"topic1": 3, "topic2": 2})
    assert out["consumer1"] == [("topic1", 0)]
    assert out["consumer2"] == tps(("topic1", 1), ("topic2", 0), ("topic2", 1))
    assert out["consumer3"] == [("topic1", 2)]


def test_roundrobin_two_consumers_two_topics_six_partitions():
    subs = {"consumer1": ["topic1", "topic2"], "consumer2": ["topic1", "topic2"]}
    out = roundrobin_assign(subs, {"topic1": 3, "topic2": 3})
    assert out["consumer1"] == tps(("topic1", 0), ("topic1", 2), ("topic2", 1))
    assert out["consumer2"] == tps(("topic1", 1), ("topic2", 0), ("topic2", 2))


# -- cooperative-sticky (Kafka's CooperativeStickyAssignorTest.testAddRemoveConsumerOneTopic) ----------
def test_cooperative_sticky_add_consumer_takes_two_rounds():
    parts = {"topic": 3}
    first = cooperative_sticky_assign({"consumer1": ["topic"]}, parts)
    assert first == {"consumer1": tps(("topic", 0), ("topic", 1), ("topic", 2))}
    subs = {"consumer1": ["topic"], "consumer2": ["topic"]}
    second = cooperative_sticky_assign(subs, parts, owned={"consumer1": first["consumer1"], "consumer2": []})
    assert second == {"consumer1": tps(("topic", 0), ("topic", 1)), "consumer2": []}
    third = cooperative_sticky_assign(subs, parts, owned=second)
    assert third == {"consumer1": tps(("topic", 0), ("topic", 1)), "consumer2": [("topic", 2)]}


def test_cooperative_sticky_remove_consumer_moves_only_orphans():
    # consumer1 left the group: its partitions are orphans, consumer2 keeps topic-2 and takes them
    out = cooperative_sticky_assign({"consumer2": ["topic"]}, {"topic": 3}, owned={"consumer2": [("topic", 2)]})
    assert out == {"consumer2": tps(("topic", 0), ("topic", 1), ("topic", 2))}


def test_sticky_keeps_partitions_when_balanced():
    owned = {"a": [("t", 5), ("t", 0)], "b": [("t", 1), ("t", 2)], "c": [("t", 3), ("t", 4)]}
    out = sticky_assign({m: ["t"] for m in owned}, {"t": 6}, owned)
    assert out == {m: sorted(v) for m, v in owned.items()}


def test_cooperative_adjust_drops_transferring_partitions():
    target = {"a": [("t", 0)], "b": [("t", 1), ("t", 2)]}
    owned = {"a": [("t", 0), ("t", 1)], "b": []}
    assert cooperative_adjust(target, owned) == {"a": [("t", 0)], "b": [("t", 2)]}


# -- strategy parsing -----------------------------------------------------------------------------------
def test_parse_strategy_default_and_errors():
    assert parse_strategy("range,roundrobin") == ["range", "roundrobin"]
    assert parse_strategy(" cooperative-sticky ") == ["cooperative-sticky"]
    with pytest.raises(ValueError, match="sticky-ish"):
        parse_strategy("sticky-ish")
    with pytest.raises(ValueError, match="mixes eager and cooperative"):
        parse_strategy("range,cooperative-sticky")
    with pytest.raises(ValueError):
        parse_strategy("")
    with pytest.raises(ValueError, match="nope"):
        assign("nope", {}, {})


# -- invariants ---------------------------------------------------------------------------------------
members_st = st.lists(st.text("abcdef", min_size=1, max_size=3), min_size=1, max_size=6, unique=True)
topics_st = st.dictionaries(st.sampled_from(["t1", "t2", "t3"]), st.integers(0, 9), min_size=1)


@st.composite
def group_inputs(draw):
    members = draw(members_st)
    parts = draw(topics_st)
    subs = {m: draw(st.lists(st.sampled_from(sorted(parts)), min_size=1, unique=True)) for m in members}
    return subs, parts


def check_valid(subs, parts, out):
    assert set(out) == set(subs)
    seen = [tp for tps_ in out.values() for tp in tps_]
    assert len(seen) == len(set(seen)), "a partition was given to two members"
    for m, tps_ in out.items():
        for topic, p in tps_:
            assert topic in subs[m] and 0 <= p < parts[topic]


@settings(max_examples=150, deadline=None)
@given(group_inputs())
def test_every_assignor_is_valid_and_complete(inp):
    subs, parts = inp
    wanted = {(t, p) for ts in subs.values() for t in ts for p in range(parts[t])}
    for fn in (range_assign, roundrobin_assign, sticky_assign):
        out = fn(subs, parts)
        check_valid(subs, parts, out)
        assert {tp for v in out.values() for tp in v} == wanted


@settings(max_examples=150, deadline=None)
@given(group_inputs(), st.randoms(use_true_random=False))
def test_sticky_is_balanced_for_same_subscriptions_and_keeps_what_it_can(inp, rnd):
    subs, parts = inp
    topics = sorted(parts)
    subs = {m: topics for m in subs}
    all_tps = [(t, p) for t in topics for p in range(parts[t])]
    owned = {m: [] for m in subs}
    for tp in all_tps:
        owned[rnd.choice(sorted(subs))].append(tp)
    out = sticky_assign(subs, parts, owned)
    check_valid(subs, parts, out)
    sizes = [len(v) for v in out.values()]
    assert max(sizes) - min(sizes) <= 1
    quota = -(-len(all_tps) // len(subs))
    kept = sum(len(set(out[m]) & set(owned[m])) for m in subs)
    must_keep = sum(min(len(owned[m]), len(all_tps) // len(subs)) for m in subs)
    assert kept >= must_keep
    assert all(len(v) <= quota for v in out.values())
