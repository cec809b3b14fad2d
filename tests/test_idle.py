"""Long idle waits are skipped in bulk (``eventsim/idle.py``) with exactly the result of running every timer."""
import json

import pytest

import eventsim.idle as idle
from eventsim import Cluster, Consumer, Producer, TopicPartition

DAY_MS = 86_400_000


def _story(seed):
    """Four days of writes to a delete topic and a compacted one, a broker down for four days, then back."""
    cl = Cluster(brokers=3, seed=seed)
    cl.create_topic("t", 3, 3, config={"retention.ms": str(3 * DAY_MS), "segment.ms": "3600000"})
    cl.create_topic("c", 1, 3, config={"cleanup.policy": "compact", "min.compaction.lag.ms": "7200000",
                                       "segment.ms": "60000", "delete.retention.ms": str(DAY_MS)})
    p = Producer({"bootstrap.servers": cl.bootstrap_servers, "linger.ms": 0})
    for day in range(4):
        for i in range(5):
            p.produce("t", key=b"k%d" % i, value=b"d%d-%d" % (day, i))
            p.produce("c", key=b"k%d" % (i % 2), value=None if i == 4 else b"d%d-%d" % (day, i))
        p.flush()
        cl.advance(DAY_MS + 12_345)
    cl.stop_broker(2)
    cl.advance(4 * DAY_MS)
    cl.start_broker(2)
    cl.advance(DAY_MS)
    logs = {part.name: {b: (r.log.log_start_offset, r.log.log_end_offset, r.high_watermark, r.log._now_ms,
                            [(s.base_offset, s.created_ms, len(s.records)) for s in r.log.segments])
                        for b, r in part.replica.items()}
            for part in cl.all_partitions()}
    leaders = {part.name: (part.leader, part.isr, part.leader_epoch) for part in cl.all_partitions()}
    return json.dumps({"now": cl.now_ms, "events": cl.events, "logs": logs, "leaders": leaders}, sort_keys=True)


def test_skipping_idle_time_gives_exactly_what_running_every_timer_gives(monkeypatch):
    skipped = _story(seed=5)
    monkeypatch.setattr(idle, "SKIP_FROM_MS", float("inf"))
    assert _story(seed=5) == skipped
    data = json.loads(skipped)
    assert data["logs"]["t-0"]["1"][0] > 0               # retention deleted the old days meanwhile
    assert any("broker 2" in text for _, text in data["events"])


def _count_timer_runs(cluster):
    runs = {"n": 0}
    schedule_at = cluster.clock.schedule_at

    def counting(at_ms, callback, name="", period_ms=None, quiet=None):
        def run():
            runs["n"] += 1
            callback()
        return schedule_at(at_ms, run, name, period_ms, quiet)
    cluster.clock.schedule_at = counting
    return runs


def test_thirty_years_on_an_idle_cluster_run_a_handful_of_timers():
    cl = Cluster(brokers=3, seed=1)
    cl.create_topic("t", 3, 3)
    cl.advance(60_000)                      # followers park their fetches
    runs = _count_timer_runs(cl)
    cl.advance(10**12)
    assert cl.elapsed_ms == 60_000 + 10**12
    assert runs["n"] < 5_000                # instead of ~3 * 10**8 housekeeping runs


def test_a_consumer_that_waits_forever_waits_a_bounded_virtual_minute():
    cl = Cluster(brokers=3, seed=1)
    cl.create_topic("t", 3, 3)
    c = Consumer({"bootstrap.servers": cl.bootstrap_servers, "group.id": "g"})
    c.subscribe(["t"])
    start = cl.now_ms
    assert c.poll(1e9) is None
    assert cl.now_ms - start == 60_000


@pytest.mark.parametrize("ms", [float("nan"), float("inf"), -1, "10", None, True])
def test_advance_refuses_what_is_not_a_finite_duration(ms):
    cl = Cluster(brokers=1, seed=1)
    with pytest.raises(ValueError, match="finite number of milliseconds"):
        cl.advance(ms)
    assert cl.elapsed_ms == 0


def _dormant_consumer_story():
    """A consumer reads a little each day and is otherwise left alone: it leaves its group after
    ``max.poll.interval.ms`` and only its auto-commit and metadata refresh remain on the clock."""
    cl = Cluster(brokers=3, seed=0)
    cl.create_topic("t0", 3, 3, config={"retention.ms": str(DAY_MS), "segment.ms": "600000"})
    c = Consumer({"bootstrap.servers": cl.bootstrap_servers, "group.id": "g", "auto.offset.reset": "earliest"})
    c.subscribe(["t0"])
    p = Producer({"bootstrap.servers": cl.bootstrap_servers})
    out = []
    for day in range(3):
        for i in range(6):
            p.produce("t0", b"d%d-%d" % (day, i))
        p.flush()
        msg = c.poll(1)
        out.append((cl.now_ms, msg and msg.value()))
        cl.advance(2 * DAY_MS + 777)
        msg = c.poll(1)
        out.append((cl.now_ms, msg and (msg.value(), msg.error() and msg.error().code())))
    return json.dumps({"out": out, "events": cl.events}, default=str), cl


def test_a_dormant_consumer_does_not_stop_idle_time_from_being_skipped_exactly(monkeypatch):
    skipped, cl = _dormant_consumer_story()
    runs = _count_timer_runs(cl)
    cl.advance(10**12)
    assert runs["n"] < 5_000
    monkeypatch.setattr(idle, "SKIP_FROM_MS", float("inf"))
    assert _dormant_consumer_story()[0] == skipped


def _consumer_without_coordinator_story():
    """The controllers are gone and so is the group coordinator's broker: a consumer keeps looking for its
    coordinator every ``retry.backoff.ms``, which changes nothing until an operator acts."""
    cl = Cluster(brokers=3, seed=2)
    cl.create_topic("t0", 3, 3)
    c = Consumer({"bootstrap.servers": cl.bootstrap_servers, "group.id": "g", "auto.offset.reset": "earliest"})
    c.subscribe(["t0", "later"])
    c.poll(1)
    for broker in (1, 2, 3):
        cl.stop_broker(broker)
    cl.advance(3 * DAY_MS)
    cl.start_broker(1)
    cl.start_broker(2)
    cl.start_broker(3)
    msg = c.poll(5)
    return json.dumps({"events": cl.events, "msg": None if msg is None else str(msg.error() or msg.value()), "assignment":
                       [(tp.topic, tp.partition) for tp in c.assignment()], "now": cl.now_ms}), cl


def test_a_consumer_retrying_for_a_coordinator_that_cannot_come_back_is_idle(monkeypatch):
    skipped, cl = _consumer_without_coordinator_story()
    monkeypatch.setattr(idle, "SKIP_FROM_MS", float("inf"))
    assert _consumer_without_coordinator_story()[0] == skipped


def _partitions_story(cl):
    """What a story ends with: the events, and each partition's leader, ISR, epoch and replica offsets."""
    parts = {part.name: (part.leader, sorted(part.isr), part.leader_epoch,
                         {b: (r.log.log_start_offset, r.log_end_offset, r.high_watermark)
                          for b, r in part.replica.items()}) for part in cl.all_partitions()}
    return json.dumps({"events": cl.events, "parts": parts, "now": cl.now_ms}, default=str)


def _isolated_broker_story():
    """Broker 1 is cut off the network for three days while writes go on: its followers retry their fetches
    every ``replica.fetch.backoff.ms`` in vain, which changes nothing until the network heals."""
    cl = Cluster(brokers=3, seed=3, config={"replica.lag.time.max.ms": "10000"})
    cl.create_topic("t0", 3, 3, config={"retention.ms": str(DAY_MS), "segment.ms": "600000"})
    p = Producer({"bootstrap.servers": cl.bootstrap_servers, "acks": "all"})
    cl.isolate_broker(1)
    for i in range(6):
        p.produce("t0", b"v%d" % i, partition=i % 3)
    p.flush()
    cl.advance(3 * DAY_MS)
    cl.heal_network()
    cl.advance(60_000)
    return _partitions_story(cl), cl


def test_a_follower_cut_off_from_its_leader_does_not_stop_idle_time_from_being_skipped_exactly(monkeypatch):
    skipped, cl = _isolated_broker_story()
    cl.isolate_broker(1)
    cl.advance(60_000)
    runs = _count_timer_runs(cl)
    cl.advance(10**12)
    assert runs["n"] < 5_000                # instead of 10**9 fetch retries
    monkeypatch.setattr(idle, "SKIP_FROM_MS", float("inf"))
    assert _isolated_broker_story()[0] == skipped


def _leader_lost_without_controller_story():
    """The controller quorum is gone, then the only in-sync replica (the leader) of a partition crashes:
    nobody can elect another leader, so that partition stays frozen until an operator acts."""
    cl = Cluster(brokers=3, seed=4, controllers=3)
    cl.create_topic("t0", 1, 1, config={"retention.ms": str(DAY_MS), "segment.ms": "600000"})
    cl.create_topic("t1", 3, 3, config={"retention.ms": str(DAY_MS), "segment.ms": "600000"})
    p = Producer({"bootstrap.servers": cl.bootstrap_servers, "acks": "all"})
    for i in range(6):
        p.produce("t1", b"v%d" % i, partition=i % 3)
    p.produce("t0", b"lost")
    p.flush()
    cl.advance(60_000)
    for controller in (101, 102, 103):
        cl.stop_controller(controller)
    leader = cl.partition("t0", 0).leader
    cl.stop_broker(leader, clean=False)
    cl.advance(60_000)
    runs = _count_timer_runs(cl)
    cl.advance(3 * DAY_MS)
    timer_runs = runs["n"]
    for controller in (101, 102, 103):
        cl.start_controller(controller)
    cl.start_broker(leader)
    cl.advance(60_000)
    return _partitions_story(cl), timer_runs


def test_a_partition_no_controller_can_give_a_leader_does_not_stop_idle_time_from_being_skipped(monkeypatch):
    skipped, timer_runs = _leader_lost_without_controller_story()
    assert timer_runs < 5_000               # instead of ~90 000 housekeeping runs in 3 days
    monkeypatch.setattr(idle, "SKIP_FROM_MS", float("inf"))
    assert _leader_lost_without_controller_story()[0] == skipped


def _abandoned_member_sees_new_partitions_story():
    """A consumer joins, then its application stops polling: it leaves the group after
    ``max.poll.interval.ms`` and its rejoin waits for the next poll. Partitions added meanwhile change what
    its metadata refresh sees, but not what it does: it still waits for that poll."""
    cl = Cluster(brokers=3, seed=6)
    cl.create_topic("t0", 3, 3)
    c = Consumer({"bootstrap.servers": cl.bootstrap_servers, "group.id": "g", "auto.offset.reset": "earliest"})
    c.subscribe(["^t.*"])
    c.poll(5)
    cl.advance(400_000)
    cl.create_partitions("t0", 5)
    runs = _count_timer_runs(cl)
    cl.advance(2 * DAY_MS)
    timer_runs = runs["n"]
    first = c.poll(10)                      # the _MAX_POLL_EXCEEDED event, then the rejoin
    c.poll(10)
    return json.dumps({"events": cl.events, "first": first.error().name(),
                       "assignment": sorted((tp.topic, tp.partition) for tp in c.assignment()),
                       "now": cl.now_ms}), timer_runs


def test_a_member_waiting_for_its_next_poll_to_rejoin_does_not_stop_idle_time_from_being_skipped(monkeypatch):
    skipped, timer_runs = _abandoned_member_sees_new_partitions_story()
    assert timer_runs < 5_000               # instead of ~60 000 runs in two days
    data = json.loads(skipped)
    assert data["first"] == "_MAX_POLL_EXCEEDED"
    assert data["assignment"] == [["t0", p] for p in range(5)]
    monkeypatch.setattr(idle, "SKIP_FROM_MS", float("inf"))
    assert _abandoned_member_sees_new_partitions_story()[0] == skipped


def _member_expelled_while_the_cluster_was_down_story():
    """Every broker is down for longer than ``session.timeout.ms`` while the application is not polling:
    when they are back, the coordinator has expired the member (UNKNOWN_MEMBER_ID on its next heartbeat),
    so it is out of the group and stops heartbeating until its next poll rejoins."""
    cl = Cluster(brokers=3, seed=7)
    cl.create_topic("t0", 3, 3)
    c = Consumer({"bootstrap.servers": cl.bootstrap_servers, "group.id": "g", "auto.offset.reset": "earliest",
                  "session.timeout.ms": 10_000})
    c.subscribe(["t0"])
    c.poll(5)
    for broker in (1, 2, 3):
        cl.stop_broker(broker)
    cl.advance(30_000)
    for broker in (1, 2, 3):
        cl.start_broker(broker)
    cl.advance(60_000)
    runs = _count_timer_runs(cl)
    cl.advance(2 * DAY_MS)
    timer_runs = runs["n"]
    polled = [c.poll(10) for _ in range(3)]
    return json.dumps({"events": cl.events, "polled": [m and (m.error() and m.error().name()) for m in polled],
                       "assignment": sorted((tp.topic, tp.partition) for tp in c.assignment()),
                       "now": cl.now_ms}), timer_runs


def test_a_member_out_of_its_group_stops_heartbeating_and_lets_idle_time_be_skipped(monkeypatch):
    skipped, timer_runs = _member_expelled_while_the_cluster_was_down_story()
    assert timer_runs < 5_000               # instead of a no-op heartbeat every 3 s for two days
    assert json.loads(skipped)["assignment"] == [["t0", p] for p in range(3)]
    monkeypatch.setattr(idle, "SKIP_FROM_MS", float("inf"))
    assert _member_expelled_while_the_cluster_was_down_story()[0] == skipped


def _auto_commit_without_coordinator_story():
    """A consumer reads records, then every broker stops for longer than ``session.timeout.ms``; when they
    are back its coordinator expels it (UNKNOWN_MEMBER_ID) before it commits, and then they stop again. Its
    offsets are still to be committed, but each auto-commit finds no coordinator and changes nothing."""
    cl = Cluster(brokers=3, seed=8)
    cl.create_topic("t0", 1, 3)
    p = Producer({"bootstrap.servers": cl.bootstrap_servers})
    for i in range(3):
        p.produce("t0", b"v%d" % i)
    p.flush()
    c = Consumer({"bootstrap.servers": cl.bootstrap_servers, "group.id": "g", "auto.offset.reset": "earliest",
                  "session.timeout.ms": 10_000, "auto.commit.interval.ms": 60_000})
    c.subscribe(["t0"])
    read = [m.value() for m in c.consume(3, timeout=10)]
    for broker in (1, 2, 3):
        cl.stop_broker(broker)
    cl.advance(30_000)
    for broker in (1, 2, 3):
        cl.start_broker(broker)
    cl.advance(5_000)
    for broker in (1, 2, 3):
        cl.stop_broker(broker)
    cl.advance(60_000)
    runs = _count_timer_runs(cl)
    cl.advance(2 * DAY_MS)
    timer_runs = runs["n"]
    for broker in (1, 2, 3):
        cl.start_broker(broker)
    polled = [c.poll(10) for _ in range(3)]
    return json.dumps({"events": cl.events, "read": [v.decode() for v in read], "now": cl.now_ms,
                       "polled": [m and (m.error() and m.error().name()) for m in polled]}), timer_runs


def test_an_auto_commit_with_no_coordinator_to_commit_to_lets_idle_time_be_skipped(monkeypatch):
    skipped, timer_runs = _auto_commit_without_coordinator_story()
    assert timer_runs < 5_000               # instead of an auto-commit attempt every 5 s for two days
    monkeypatch.setattr(idle, "SKIP_FROM_MS", float("inf"))
    assert _auto_commit_without_coordinator_story()[0] == skipped
