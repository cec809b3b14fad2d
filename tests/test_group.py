"""The group coordinator on its own: the protocol requests a consumer sends, driven by hand."""
import itertools

import pytest

from eventsim.cluster import Cluster
from eventsim.errors import KafkaError, KafkaException
from eventsim.message import OFFSET_INVALID

_names = itertools.count()


@pytest.fixture
def cluster():
    cl = Cluster(brokers=1, seed=3, name=f"group-test-{next(_names)}")
    assert cl.create_topic("orders", 4, 1) is None
    return cl


class Member:
    """Records what the coordinator answers one member's JoinGroup with."""

    def __init__(self, cluster, group="g", protocols=("range",), topics=("orders",), session=10000, rebalance=30000):
        self.cluster, self.group = cluster, group
        self.protocols, self.topics = list(protocols), list(topics)
        self.session, self.rebalance = session, rebalance
        self.member_id, self.responses = "", []

    def join(self, owned=()):
        self.member_id = self.cluster.groups.join_group(
            self.group, self.member_id, client_id="test", session_timeout_ms=self.session,
            rebalance_timeout_ms=self.rebalance, protocols=self.protocols, subscription=self.topics,
            owned=list(owned), on_joined=lambda *a: self.responses.append(a))
        return self.member_id

    @property
    def last(self):
        return self.responses[-1] if self.responses else None

    def heartbeat(self):
        gen = self.last[2] if self.last else -1
        return self.cluster.groups.heartbeat(self.group, self.member_id, gen)


def test_join_sync_generation_and_describe(cluster):
    a = Member(cluster)
    a.join()
    assert cluster.groups.list_groups() == [("g", "PreparingRebalance")]
    cluster.advance(1)
    err, member_id, generation, protocol, assignment = a.last
    assert err is None and member_id == a.member_id and generation == 1 and protocol == "range"
    assert sorted(assignment) == [("orders", p) for p in range(4)]
    desc = cluster.groups.describe("g")
    assert desc["state"] == "Stable" and desc["generation"] == 1
    assert desc["members"] == [{"member_id": a.member_id, "client_id": "test",
                                "assignment": [["orders", p] for p in range(4)]}]
    assert a.member_id.startswith("test-")


def test_second_member_waits_for_first_to_rejoin(cluster):
    a, b = Member(cluster), Member(cluster)
    a.join()
    cluster.advance(1)
    b.join()
    cluster.advance(100)
    assert b.last is None                                    # held until a rejoins
    assert a.heartbeat().code() == KafkaError.REBALANCE_IN_PROGRESS
    a.join()
    cluster.advance(1)
    assert a.last[2] == b.last[2] == 2
    assert sorted(a.last[4] + b.last[4]) == [("orders", p) for p in range(4)]
    assert a.heartbeat() is None


def test_member_that_does_not_rejoin_is_dropped_after_rebalance_timeout(cluster):
    a, b = Member(cluster, rebalance=5000, session=60000), Member(cluster, rebalance=5000, session=60000)
    a.join()
    cluster.advance(1)
    b.join()
    cluster.advance(4000)
    assert len(cluster.groups.describe("g")["members"]) == 2
    cluster.advance(1100)
    desc = cluster.groups.describe("g")
    assert [m["member_id"] for m in desc["members"]] == [b.member_id]
    assert a.heartbeat().code() == KafkaError.UNKNOWN_MEMBER_ID


def test_session_timeout_removes_silent_member(cluster):
    a = Member(cluster, session=6000)
    a.join()
    cluster.advance(5000)
    assert a.heartbeat() is None
    cluster.advance(5999)
    assert cluster.groups.describe("g")["state"] == "Stable"
    cluster.advance(2)
    desc = cluster.groups.describe("g")
    assert desc["state"] == "Empty" and desc["members"] == []


def test_protocol_selection_and_inconsistent_protocol(cluster):
    a = Member(cluster, protocols=["roundrobin", "range"])
    b = Member(cluster, protocols=["range", "roundrobin"])
    c = Member(cluster, protocols=["roundrobin"])
    for m in (a, b, c):
        m.join()
    cluster.advance(1)
    assert {m.last[3] for m in (a, b, c)} == {"roundrobin"}   # the only one all support
    d = Member(cluster, protocols=["cooperative-sticky"])
    d.join()
    assert d.last[0].code() == KafkaError.INCONSISTENT_GROUP_PROTOCOL


def test_leave_group_starts_rebalance_and_unknown_member_rejoin_fails(cluster):
    a, b = Member(cluster), Member(cluster)
    a.join(), b.join()
    cluster.advance(1)
    assert cluster.groups.leave_group("g", b.member_id) is None
    assert cluster.groups.describe("g")["state"] == "PreparingRebalance"
    a.join()
    cluster.advance(1)
    assert a.last[4] == [("orders", p) for p in range(4)]
    assert cluster.groups.leave_group("g", "nobody").code() == KafkaError.UNKNOWN_MEMBER_ID
    ghost = Member(cluster)
    ghost.member_id = "ghost-1"
    ghost.join()
    assert ghost.last[0].code() == KafkaError.UNKNOWN_MEMBER_ID


def test_commit_rules_and_committed(cluster):
    groups = cluster.groups
    assert groups.committed("g", [("orders", 0)]) == {("orders", 0): OFFSET_INVALID}
    # a standalone consumer may commit into an empty group
    assert groups.commit_offsets("g", {("orders", 0): 5}, member_id="", generation=-1) == {("orders", 0): None}
    assert groups.committed("g", [("orders", 0)]) == {("orders", 0): 5}
    res = groups.commit_offsets("g", {("orders", 7): 1, ("nope", 0): 1})
    assert {k: v.code() for k, v in res.items()} == {("orders", 7): KafkaError.UNKNOWN_TOPIC_OR_PART,
                                                    ("nope", 0): KafkaError.UNKNOWN_TOPIC_OR_PART}
    a = Member(cluster)
    a.join()
    cluster.advance(1)
    res = groups.commit_offsets("g", {("orders", 0): 6}, member_id="", generation=-1)
    assert res[("orders", 0)].code() == KafkaError.UNKNOWN_MEMBER_ID
    res = groups.commit_offsets("g", {("orders", 0): 6}, member_id=a.member_id, generation=a.last[2])
    assert res[("orders", 0)] is None
    # transactions commit with member_id=None: no membership check
    assert groups.commit_offsets("g", {("orders", 1): 9}) == {("orders", 1): None}
    assert groups.committed("g", [("orders", 0), ("orders", 1)]) == {("orders", 0): 6, ("orders", 1): 9}


def test_delete_group(cluster):
    groups = cluster.groups
    with pytest.raises(KafkaException) as ei:
        groups.delete("missing")
    assert ei.value.args[0].code() == KafkaError.GROUP_ID_NOT_FOUND
    a = Member(cluster)
    a.join()
    cluster.advance(1)
    groups.commit_offsets("g", {("orders", 0): 3})
    with pytest.raises(KafkaException) as ei:
        groups.delete("g")
    assert ei.value.args[0].code() == KafkaError.NON_EMPTY_GROUP
    groups.leave_group("g", a.member_id)
    cluster.advance(1)
    groups.delete("g")
    assert groups.list_groups() == []
    assert groups.describe("g")["state"] == "Dead"
    assert groups.committed("g", [("orders", 0)]) == {("orders", 0): OFFSET_INVALID}


def test_snapshot_is_sorted_and_json_shaped(cluster):
    import json
    for gid in ("zeta", "alpha"):
        cluster.groups.commit_offsets(gid, {("orders", 1): 0, ("orders", 0): 0})
    snap = cluster.groups.snapshot()
    assert [g["group_id"] for g in snap] == ["alpha", "zeta"]
    assert [(o["topic"], o["partition"]) for o in snap[0]["offsets"]] == [("orders", 0), ("orders", 1)]
    json.dumps(snap)
    assert set(snap[0]) == {"group_id", "state", "protocol", "generation", "members", "offsets", "total_lag"}


def test_member_joining_soon_after_a_crash_keeps_its_session_alive():
    """Regression: completing a rebalance restarts every member's session timer (Kafka does this at
    join completion), so a member whose join waited for a crashed member's session to expire is not
    itself expired (and made to rejoin under a new member id) right after."""
    from eventsim.consumer import Consumer

    cluster = Cluster(brokers=1, seed=7)
    assert cluster.create_topic("t", 2, 1) is None
    conf = {"bootstrap.servers": cluster.bootstrap_servers, "group.id": "g", "auto.offset.reset": "earliest"}
    first = Consumer(conf)
    first.subscribe(["t"])
    first.poll(1.0)
    cluster.advance(2500)
    first._crash()
    cluster.advance(2000)
    second = Consumer(conf)
    second.subscribe(["t"])
    second.poll(0.1)              # JoinGroup; the group waits for the crashed member's session to expire
    cluster.advance(45000)
    joined_as = second.memberid()
    assert joined_as
    cluster.advance(15000)        # heartbeats run in the background, as in librdkafka's own thread
    second.poll(0.1)
    members = cluster.groups.describe("g")["members"]
    assert [m["member_id"] for m in members] == [joined_as]
    assert second.memberid() == joined_as
