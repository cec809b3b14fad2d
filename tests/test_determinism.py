"""Same seed, same calls, same cluster: byte for byte. A run is a pure function of the seed and the calls."""
from eventsim import Cluster, Consumer, KafkaError, Producer, TopicPartition
from eventsim.clock import EPOCH_MS
from eventsim.snapshot import to_json, validate_snapshot


def scenario(seed, start_time_ms=EPOCH_MS):
    """Topics, keyed and keyless produce, a consumer group, a leader crash and restart, a transaction."""
    cluster = Cluster(brokers=3, seed=seed, start_time_ms=start_time_ms)
    assert cluster.create_topic("orders", 4, 3, {"min.insync.replicas": "2"}) is None
    assert cluster.create_topic("audit", 2, 2) is None
    conf = {"bootstrap.servers": cluster.bootstrap_servers}
    reports = []

    def on_delivery(err, msg):
        reports.append((err.code() if err else None, msg.topic(), msg.partition(), msg.offset(), msg.key(),
                        msg.value(), msg.timestamp()))

    p = Producer({**conf, "on_delivery": on_delivery})
    for i in range(40):
        p.produce("orders", value=f"order-{i}", key=f"customer-{i % 6}" if i % 3 else None)
        if i % 10 == 0:
            p.poll(0.01)
    p.flush()

    consumers = [Consumer({**conf, "group.id": "billing", "auto.offset.reset": "earliest"}) for _ in range(2)]
    for c in consumers:
        c.subscribe(["orders"])
    seen = []
    for _ in range(15):
        for c in consumers:
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                seen.append((m.partition(), m.offset()))

    leader = cluster.leader_for("orders", 0)
    cluster.stop_broker(leader, wait=False)
    for i in range(10):
        p.produce("orders", value=f"during-failover-{i}", key=f"customer-{i}")
    p.flush()
    cluster.start_broker(leader)

    t = Producer({**conf, "transactional.id": "auditor", "on_delivery": on_delivery})
    t.init_transactions()
    t.begin_transaction()
    t.produce("audit", value="aborted", partition=0)
    t.abort_transaction()
    t.begin_transaction()
    t.produce("audit", value="committed", partition=1)
    t.send_offsets_to_transaction([TopicPartition("orders", 0, 1)], consumers[0].consumer_group_metadata())
    t.commit_transaction()

    for _ in range(5):
        for c in consumers:
            c.poll(0.2)
    consumers[0].close()
    cluster.advance(20000)
    snap = cluster.snapshot(records=True, max_records=100)
    return cluster, snap, reports, seen


def test_same_seed_gives_byte_identical_snapshots_and_reports():
    _, snap_a, reports_a, seen_a = scenario(seed=3)
    _, snap_b, reports_b, seen_b = scenario(seed=3)
    assert to_json(snap_a) == to_json(snap_b)
    assert reports_a == reports_b
    assert seen_a == seen_b
    assert len(reports_a) == 52
    # abort_transaction() purged the record still waiting in the queue (librdkafka's _PURGE_QUEUE).
    assert [(r[0], r[5]) for r in reports_a if r[0] is not None] == [(KafkaError._PURGE_QUEUE, b"aborted")]
    assert seen_a       # the group did read


def test_snapshot_is_valid_and_records_are_filled():
    cluster, snap, _, _ = scenario(seed=3)
    assert validate_snapshot(snap) is snap
    orders = next(t for t in snap["topics"] if t["name"] == "orders")
    assert sum(len(p["records"]) for p in orders["partitions"]) == 50
    assert [g["group_id"] for g in snap["groups"]] == ["billing"]
    assert snap["time_ms"] == cluster.elapsed_ms == cluster.now_ms - cluster.clock.start_ms
    assert all(b["alive"] for b in snap["brokers"])


def test_same_seed_and_start_time_give_identical_runs_and_another_start_time_only_moves_the_timestamps():
    _, snap_a, reports_a, seen_a = scenario(seed=3, start_time_ms=1_700_000_000_000)
    _, snap_b, reports_b, seen_b = scenario(seed=3, start_time_ms=1_700_000_000_000)
    assert (to_json(snap_a), reports_a, seen_a) == (to_json(snap_b), reports_b, seen_b)
    _, snap_c, reports_c, seen_c = scenario(seed=3)                      # the default epoch
    shift = EPOCH_MS - 1_700_000_000_000
    moved = [r[:6] + ((r[6][0], r[6][1] + shift if r[6][0] else -1),) for r in reports_a]   # type 0: none
    assert reports_c == moved and seen_c == seen_a
    records = lambda snap: [r for t in snap["topics"] for p in t["partitions"] for r in p["records"]]   # noqa: E731
    for r in records(snap_a):
        r["timestamp"] += shift
    assert to_json(snap_c) == to_json(snap_a)       # time_ms is elapsed time: the same in both


def test_a_different_seed_changes_replica_placement():
    placements = set()
    for seed in range(6):
        c = Cluster(brokers=3, seed=seed)
        assert c.create_topic("orders", 4, 3) is None
        placements.add(tuple(tuple(p.replicas) for p in c.metadata()["orders"]))
    assert len(placements) > 1


def test_a_different_seed_changes_the_run():
    _, snap_a, reports_a, _ = scenario(seed=3)
    _, snap_b, reports_b, _ = scenario(seed=4)
    assert to_json(snap_a) != to_json(snap_b)
    placement = lambda snap: [p["replicas"] for t in snap["topics"] for p in t["partitions"]]   # noqa: E731
    keyless = lambda reports: [r[2] for r in reports if r[4] is None]                            # noqa: E731
    assert placement(snap_a) != placement(snap_b) or keyless(reports_a) != keyless(reports_b)


def test_clusters_in_one_process_do_not_share_randomness():
    """A second cluster running in between does not change the first one's results."""
    alone = Cluster(brokers=3, seed=9)
    alone.create_topic("x", 6, 2)
    first = Cluster(brokers=3, seed=9)
    other = Cluster(brokers=3, seed=9)
    other.create_topic("y", 6, 2)
    first.create_topic("x", 6, 2)
    assert [p.replicas for p in first.metadata()["x"]] == [p.replicas for p in alone.metadata()["x"]]


def test_same_seed_same_snapshot_in_another_process_with_another_hash_seed():
    """String hashing is randomised per Python process (PYTHONHASHSEED); no result may depend on it."""
    import os
    import pathlib
    import subprocess
    import sys
    here = pathlib.Path(__file__).resolve().parent
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from test_determinism import scenario\n"
            "from eventsim.snapshot import to_json\n"
            "_, snap, reports, seen = scenario(3)\n"
            "print(to_json(snap)); print(repr(reports)); print(repr(seen))\n" % str(here))
    outputs = []
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                              cwd=here.parent, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    _, snap, reports, seen = scenario(3)
    assert outputs[0] == outputs[1] == f"{to_json(snap)}\n{reports!r}\n{seen!r}\n"
