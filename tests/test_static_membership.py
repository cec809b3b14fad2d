"""Static group membership (KIP-345, ``group.instance.id``) on the simulator, classic protocol.

What Kafka 4.x and librdkafka 2.16 show a client (checked on real Kafka by the ``static`` tests of
``test_differential.py``): a static member that restarts within ``session.timeout.ms`` gets its partitions
back without a rebalance; a static member that closes sends no LeaveGroup, so its partitions wait for it
until the session times out; a second live consumer with the same instance id fences the first.
"""
import itertools

import pytest

import eventsim
from eventsim import KafkaError, NewTopic
from eventsim.cluster import Cluster

_names = itertools.count()


@pytest.fixture
def kafka():
    k = eventsim.connect("sim", brokers=3, seed=7)
    k.admin().create_topics([NewTopic("orders", 6, 3)])["orders"].result()
    return k


class Log(list):
    """Rebalance callbacks of several consumers: ``(name, kind, partitions)``."""

    def member(self, kafka, name, instance="same-as-name", group="g", **conf):
        instance = name if instance == "same-as-name" else instance
        settings = {"group.id": group, "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, **conf}
        if instance is not None:
            settings["group.instance.id"] = instance
        c = kafka.Consumer(settings)
        c.subscribe(["orders"], on_assign=lambda _c, ps: self.append((name, "assign", _parts(ps))),
                    on_revoke=lambda _c, ps: self.append((name, "revoke", _parts(ps))))
        return c


def _parts(tps):
    return sorted(tp.partition for tp in tps)


def _owned(consumers):
    return {name: _parts(c.assignment()) for name, c in consumers.items()}


def _poll(consumers, rounds=1, until=None):
    """Poll every consumer (0.1 s of virtual time each) for ``rounds`` rounds or until ``until()``."""
    for _ in range(rounds if until is None else 600):
        for c in consumers.values():
            c.poll(0.1)
        if until is not None and until():
            return
    assert until is None, "gave up waiting"


def _shared(consumers):
    return lambda: sorted(p for ps in _owned(consumers).values() for p in ps) == list(range(6)) \
        and all(_owned(consumers).values())


def _generation(kafka):
    return kafka.cluster.groups.describe("g")["generation"]


def test_restart_within_the_session_keeps_the_assignment_without_a_rebalance(kafka):
    log = Log()
    members = {n: log.member(kafka, n) for n in ("a", "b")}
    _poll(members, until=_shared(members))
    before, generation = _owned(members), _generation(kafka)
    members.pop("a").close()
    del log[:]
    _poll(members, rounds=20)                           # 2 s: less than session.timeout.ms
    members["a"] = log.member(kafka, "a")
    _poll(members, until=_shared(members))
    _poll(members, rounds=30)
    assert _owned(members) == before
    assert log == [("a", "assign", before["a"])]        # b saw no revocation
    assert _generation(kafka) == generation
    desc = kafka.cluster.groups.describe("g")
    assert sorted(m["group_instance_id"] for m in desc["members"]) == ["a", "b"]


def test_closed_static_member_is_removed_after_the_session_timeout(kafka):
    log = Log()
    members = {n: log.member(kafka, n) for n in ("a", "b")}
    _poll(members, until=_shared(members))
    generation = _generation(kafka)
    members.pop("a").close()                            # no LeaveGroup
    _poll(members, rounds=50)                           # 5 s < 6 s
    assert len(members["b"].assignment()) == 3 and _generation(kafka) == generation
    assert len(kafka.cluster.groups.describe("g")["members"]) == 2
    _poll(members, rounds=30)
    assert _parts(members["b"].assignment()) == list(range(6))
    assert _generation(kafka) == generation + 1
    assert [m["group_instance_id"] for m in kafka.cluster.groups.describe("g")["members"]] == ["b"]
    members["a"] = log.member(kafka, "a")               # too late: an ordinary join, the group rebalances
    _poll(members, until=_shared(members))
    assert _generation(kafka) == generation + 2


def test_unsubscribe_of_a_static_member_leaves_at_once(kafka):
    log = Log()
    members = {n: log.member(kafka, n) for n in ("a", "b")}
    _poll(members, until=_shared(members))
    leaving = members.pop("a")
    leaving.unsubscribe()
    _poll({"a": leaving, **members}, until=lambda: len(members["b"].assignment()) == 6)
    leaving.close()


def test_a_second_consumer_with_the_same_instance_id_fences_the_first(kafka):
    log = Log()
    old = log.member(kafka, "old", instance="x")
    _poll({"old": old}, until=lambda: len(old.assignment()) == 6)
    new = log.member(kafka, "new", instance="x")
    errors = []
    for _ in range(50):
        msg = old.poll(0.1)
        if msg is not None:
            errors.append(msg.error())
        new.poll(0.1)
    assert [e.code() for e in errors] == [KafkaError._FATAL]
    assert not errors[0].fatal()
    assert "Static consumer fenced by other consumer with same group.instance.id" in errors[0].str()
    assert old.assignment() == [] and len(new.assignment()) == 6
    assert log == [("old", "assign", list(range(6))), ("new", "assign", list(range(6)))]
    assert [m["group_instance_id"] for m in kafka.cluster.groups.describe("g")["members"]] == ["x"]
    old.close()
    new.close()


def test_dynamic_members_still_leave_on_close_and_rebalance(kafka):
    log = Log()
    members = {n: log.member(kafka, n, instance=None) for n in ("a", "b")}
    _poll(members, until=_shared(members))
    generation = _generation(kafka)
    members.pop("a").close()                            # LeaveGroup: the rebalance starts at once
    _poll(members, until=lambda: len(members["b"].assignment()) == 6)
    assert _generation(kafka) == generation + 1
    assert all("group_instance_id" not in m for m in kafka.cluster.groups.describe("g")["members"])


@pytest.mark.parametrize("value, static", [("", False), (None, False), (5, True), (" ", True), ("i-1", True)])
def test_which_group_instance_ids_make_a_static_member(kafka, value, static):
    """As librdkafka 2.16: empty or None means dynamic; an int is str()-ed; a blank is still static."""
    conf = {"group.id": "g", "group.instance.id": value}
    consumers = [kafka.Consumer(conf), kafka.Consumer(conf)]
    for c in consumers:
        c.subscribe(["orders"])
    codes = []
    for _ in range(60):
        for c in consumers:
            msg = c.poll(0.1)
            if msg is not None and msg.error():
                codes.append(msg.error().code())
    assert codes == ([KafkaError._FATAL] if static else [])
    assert sorted(len(c.assignment()) for c in consumers) == ([0, 6] if static else [3, 3])


# -- the coordinator on its own -------------------------------------------------------------------------------
def _join(cluster, member_id, instance, responses, topics=("orders",)):
    return cluster.groups.join_group(
        "g", member_id, client_id="test", session_timeout_ms=10000, rebalance_timeout_ms=30000,
        protocols=["range"], subscription=list(topics), owned=[], on_joined=lambda *a: responses.append(a),
        group_instance_id=instance)


def test_coordinator_rejoin_with_a_new_subscription_rebalances():
    cluster = Cluster(brokers=1, seed=3, name=f"static-test-{next(_names)}")
    assert cluster.create_topic("orders", 4, 1) is None
    assert cluster.create_topic("refunds", 2, 1) is None
    first, second = [], []
    old_id = _join(cluster, "", "x", first)
    cluster.advance(1)
    assert first[-1][2] == 1
    new_id = _join(cluster, "", "x", second, topics=("orders", "refunds"))
    assert new_id != old_id
    cluster.advance(1)
    err, member_id, generation, _, assignment = second[-1]
    assert (err, member_id, generation, len(assignment)) == (None, new_id, 2, 6)
    fenced = cluster.groups.heartbeat("g", old_id, 1, "x")
    assert fenced.code() == KafkaError.FENCED_INSTANCE_ID
    assert cluster.groups.heartbeat("g", new_id, 2, "x") is None
    assert cluster.groups.leave_group("g", old_id, "x").code() == KafkaError.FENCED_INSTANCE_ID
    third = []
    _join(cluster, old_id, "x", third)                  # the old incarnation's JoinGroup is fenced too
    assert third[-1][0].code() == KafkaError.FENCED_INSTANCE_ID


def test_a_group_of_static_members_is_assigned_in_instance_id_order(kafka):
    """librdkafka's assignors sort static members by group.instance.id (``rd_kafka_group_member_cmp``)."""
    log = Log()
    members = {n: log.member(kafka, n) for n in ("c", "a", "b")}
    _poll(members, until=_shared(members))
    assert _owned(members) == {"a": [0, 1], "b": [2, 3], "c": [4, 5]}


def test_the_restarted_member_brings_its_own_session_timeout(kafka):
    log = Log()
    members = {n: log.member(kafka, n) for n in ("a", "b")}
    _poll(members, until=_shared(members))
    members.pop("a").close()
    members["a"] = log.member(kafka, "a", **{"session.timeout.ms": 20000})
    _poll(members, until=_shared(members))
    generation = _generation(kafka)
    members.pop("a").close()
    _poll(members, rounds=150)                          # 15 s: beyond the old 6 s, within the new 20 s
    assert len(members["b"].assignment()) == 3 and _generation(kafka) == generation
    _poll(members, until=lambda: len(members["b"].assignment()) == 6)
