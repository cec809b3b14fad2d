"""Replication as Kafka does it: high watermark, ISR, min.insync.replicas, leader elections, truncation by
leader epoch, unclean election, and retention / compaction on the virtual clock through the cluster."""

from eventsim import Cluster, KafkaError, Producer

LAG_MS = 10000          # replica.lag.time.max.ms used by these tests
SESSION_MS = 9000       # broker.session.timeout.ms (Kafka's default)


def make_cluster(seed=1, topic_config=None, partitions=1, assignment=None, **broker_config):
    cfg = {"replica.lag.time.max.ms": LAG_MS, **broker_config}
    cluster = Cluster(brokers=3, seed=seed, config=cfg)
    assignment = assignment or [[1, 2, 3]] * partitions
    assert cluster.create_topic("t", config=topic_config or {}, replica_assignment=assignment) is None
    return cluster, cluster.topics["t"].partitions[0]


def producer(cluster, **conf):
    return Producer({"bootstrap.servers": cluster.bootstrap_servers, "linger.ms": 0, **conf})


def produce(p, values, reports=None, **kw):
    for v in values:
        p.produce("t", value=str(v), partition=0,
                  on_delivery=(lambda e, m: reports.append((e, m))) if reports is not None else None, **kw)


def leos(part):
    return [part.replica[b].log_end_offset for b in part.replicas]


def log_values(part, broker=None):
    rep = part.replica[broker] if broker is not None else part.leader_replica
    return [r.value.decode() for r in rep.log.read(rep.log.log_start_offset) if r.control is None]


def committed_values(cluster):
    """What a consumer reading partition 0 from the beginning sees (everything below the high watermark)."""
    err, start = cluster.list_offsets("t", 0, -2)
    assert err is None, err
    res = cluster.fetch("t", 0, start, isolation_level="read_uncommitted", max_records=10000)
    assert res.error is None, res.error
    return [r.value.decode() for r in res.records]


# -- high watermark ---------------------------------------------------------------------------------------
def test_high_watermark_is_min_leo_of_isr_and_never_goes_back():
    cluster, part = make_cluster()
    cluster.slow_broker(2, 40)
    cluster.slow_broker(3, 300)
    p = producer(cluster, acks=1)
    last_hw = 0
    saw_hw_behind_leader = False
    for step in range(60):
        produce(p, [step])
        p.poll(0)
        cluster.advance(25)
        hw = part.high_watermark
        isr_leos = [part.replica[b].log_end_offset for b in part.isr]
        assert hw <= min(isr_leos)
        assert hw >= last_hw
        saw_hw_behind_leader |= hw < part.leader_replica.log_end_offset
        last_hw = hw
    assert saw_hw_behind_leader          # the slow follower held the HW back
    assert part.isr == [1, 2, 3]          # but never fell out of the ISR: it kept catching up
    cluster.advance(2000)
    assert part.high_watermark == part.log_end_offset == 60
    assert leos(part) == [60, 60, 60]
    # Consumers only see records below the high watermark.
    assert len(committed_values(cluster)) == 60


def test_consumers_read_only_up_to_the_high_watermark():
    cluster, part = make_cluster()
    cluster.slow_broker(3, 5000)
    cluster.advance(1)
    p = producer(cluster, acks=1)
    produce(p, range(5))
    p.flush()
    assert part.leader_replica.log_end_offset == 5
    assert part.high_watermark < 5
    res = cluster.fetch("t", 0, 0, isolation_level="read_uncommitted")
    assert res.high_watermark == part.high_watermark and len(res.records) == part.high_watermark
    cluster.advance(30000)
    assert part.high_watermark == 5


def test_followers_catch_up_on_the_virtual_clock_only():
    cluster, part = make_cluster()
    p = producer(cluster, acks=1)
    produce(p, range(10))
    p.flush()
    assert leos(part)[0] == 10
    assert leos(part)[1:] == [0, 0]           # no virtual time has passed for the followers yet
    cluster.advance(10)
    assert leos(part) == [10, 10, 10] and part.high_watermark == 10


# -- ISR -----------------------------------------------------------------------------------------------
def test_slow_follower_leaves_isr_after_lag_time_and_rejoins_after_heal():
    cluster, part = make_cluster()
    p = producer(cluster, acks=1)
    produce(p, [0])
    p.flush()
    cluster.advance(100)
    slowed_at = cluster.now_ms
    cluster.slow_broker(3, 3 * LAG_MS)
    for i in range(1, 40):
        produce(p, [i])
        p.flush()
        cluster.advance(500)
        if cluster.now_ms - slowed_at < LAG_MS:
            assert 3 in part.isr                # not before replica.lag.time.max.ms
    assert part.isr == [1, 2]                     # fell out (checked every lag/2)
    assert any("ISR shrank" in text and "[3]" in text for _, text in cluster.events)
    # Without broker 3 in the ISR the high watermark moves with brokers 1 and 2 only.
    assert part.high_watermark == part.leader_replica.log_end_offset == 40
    assert part.replica[3].log_end_offset < 40
    cluster.heal_network()
    assert cluster.run_until(lambda: 3 in part.isr, 4 * LAG_MS)
    assert part.isr == [1, 2, 3] and leos(part) == [40, 40, 40]


def test_min_insync_replicas_with_acks_all_gives_not_enough_replicas():
    cluster, part = make_cluster(topic_config={"min.insync.replicas": "2"})
    cluster.stop_broker(2)
    cluster.stop_broker(3)
    assert part.isr == [1]
    reports = []
    p = producer(cluster, acks="all", retries=0)
    produce(p, ["x"], reports)
    assert p.flush() == 0
    (err, msg), = reports
    assert err.code() == KafkaError.NOT_ENOUGH_REPLICAS == 19
    assert "min.insync.replicas=2" in err.str()
    assert part.leader_replica.log_end_offset == 0       # refused before the append
    # acks=1 does not look at min.insync.replicas.
    reports.clear()
    p1 = producer(cluster, acks=1)
    produce(p1, ["y"], reports)
    p1.flush()
    assert reports[0][0] is None and reports[0][1].offset() == 0


def test_not_enough_replicas_is_retried_until_delivery_timeout():
    """librdkafka retries NOT_ENOUGH_REPLICAS (retriable); with unlimited retries the report says the
    message timed out."""
    cluster, part = make_cluster(topic_config={"min.insync.replicas": "2"})
    cluster.stop_broker(2)
    cluster.stop_broker(3)
    reports = []
    p = producer(cluster, acks="all", **{"delivery.timeout.ms": 5000})
    produce(p, ["x"], reports)
    start = cluster.now_ms
    assert p.flush() == 0
    assert reports[0][0].code() == KafkaError._MSG_TIMED_OUT
    assert cluster.now_ms - start >= 5000
    assert part.leader_replica.log_end_offset == 0


def test_min_insync_met_again_after_restart():
    cluster, part = make_cluster(topic_config={"min.insync.replicas": "2"})
    cluster.stop_broker(2)
    cluster.stop_broker(3)
    cluster.start_broker(2)
    assert part.isr == [1, 2]
    reports = []
    p = producer(cluster, acks="all")
    produce(p, ["x"], reports)
    p.flush()
    assert reports[0][0] is None


# -- leader failover --------------------------------------------------------------------------------------
def test_crashed_leader_is_replaced_only_after_session_timeout():
    cluster, part = make_cluster()
    p = producer(cluster)
    produce(p, range(5))
    p.flush()
    cluster.stop_broker(1, wait=False)
    crashed_at = cluster.now_ms
    cluster.advance(SESSION_MS - 1)
    assert part.leader == 1 and part.leader_epoch == 0 and part.isr == [1, 2, 3]
    assert cluster.fetch("t", 0, 0).error.code() == KafkaError._TRANSPORT
    cluster.advance(1)
    assert cluster.now_ms - crashed_at == SESSION_MS
    assert part.leader in (2, 3) and part.leader == part.isr[0]
    assert part.leader_epoch == 1
    assert 1 not in part.isr
    assert committed_values(cluster) == [str(i) for i in range(5)]


def test_stop_broker_waits_for_the_new_leader_by_default():
    cluster, part = make_cluster()
    cluster.stop_broker(1)
    assert part.leader == 2 and part.leader_epoch == 1 and part.isr == [2, 3]
    assert cluster.now_ms >= SESSION_MS


def test_clean_shutdown_moves_leadership_at_once():
    cluster, part = make_cluster()
    before = cluster.now_ms
    cluster.stop_broker(1, clean=True)
    assert cluster.now_ms == before
    assert part.leader == 2 and part.leader_epoch == 1 and part.isr == [2, 3]
    assert cluster.fetch("t", 0, 0).error is None


def test_leader_comes_from_the_isr_not_just_any_live_replica():
    cluster, part = make_cluster()
    cluster.slow_broker(2, 3 * LAG_MS)
    p = producer(cluster, acks=1)
    for i in range(20):
        produce(p, [i])
        p.flush()
        cluster.advance(1000)
    assert part.isr == [1, 3]
    cluster.stop_broker(1)
    assert part.leader == 3         # broker 2 is first in the replica list but was out of the ISR
    assert committed_values(cluster) == [str(i) for i in range(20)]


def test_restarted_broker_truncates_by_leader_epoch_and_rejoins_isr():
    cluster, part = make_cluster()
    p = producer(cluster, acks=1)
    produce(p, range(3))
    p.flush()
    cluster.advance(100)
    # The followers stop hearing from the leader; the leader takes two more records alone.
    cluster.slow_broker(2, 60000)
    cluster.slow_broker(3, 60000)
    produce(p, ["lost-a", "lost-b"])
    p.flush()
    assert log_values(part, 1)[-2:] == ["lost-a", "lost-b"]
    cluster.heal_network()
    cluster.stop_broker(1)
    assert part.leader == 2 and part.leader_epoch == 1
    p2 = producer(cluster, acks="all")
    produce(p2, ["after"])
    p2.flush()
    cluster.advance(70000)          # let the old slow messages drain
    cluster.start_broker(1)
    assert part.isr == [1, 2, 3]
    # Broker 1 dropped the two records the new leader never had, and took the new leader's record.
    assert log_values(part, 1) == ["0", "1", "2", "after"]
    assert log_values(part, 1) == log_values(part, 2) == log_values(part, 3)
    assert part.replica[1].log.latest_epoch() == 1


def test_preferred_leader_election_moves_leadership_back():
    cluster, part = make_cluster()
    cluster.stop_broker(1)
    cluster.start_broker(1)
    assert part.leader == 2 and 1 in part.isr
    epoch = part.leader_epoch
    assert cluster.elect_preferred_leaders() == 1
    assert part.leader == 1 and part.leader_epoch == epoch + 1
    assert cluster.elect_preferred_leaders() == 0     # nothing left to move


def test_automatic_preferred_leader_rebalance_runs_on_the_clock():
    cluster, part = make_cluster(**{"leader.imbalance.check.interval.seconds": 60})
    cluster.stop_broker(1)
    cluster.start_broker(1)
    assert part.leader == 2
    cluster.advance(60000)
    assert part.leader == 1


def test_preferred_leader_not_in_isr_is_not_elected():
    cluster, part = make_cluster(**{"auto.leader.rebalance.enable": False})
    cluster.stop_broker(1)
    cluster.start_broker(1, wait=False)
    cluster.slow_broker(1, 3 * LAG_MS)
    assert 1 not in part.isr
    assert cluster.elect_preferred_leaders() == 0
    assert part.leader == 2


# -- unclean leader election -------------------------------------------------------------------------------
def leader_alone_then_crash(unclean):
    """The followers fall out of the ISR; the leader takes records alone and crashes."""
    cluster, part = make_cluster(topic_config={"unclean.leader.election.enable": str(unclean).lower()})
    p = producer(cluster, acks=1)
    produce(p, range(3))
    p.flush()
    cluster.advance(100)
    cluster.slow_broker(2, 6 * LAG_MS)
    cluster.slow_broker(3, 6 * LAG_MS)
    reports = []
    produce(p, range(3, 10), reports)
    p.flush()
    assert all(err is None for err, _ in reports)
    cluster.advance(2 * LAG_MS)
    assert part.isr == [1]
    cluster.heal_network()
    cluster.stop_broker(1)
    return cluster, part, p


def test_without_unclean_election_the_partition_goes_offline():
    cluster, part, p = leader_alone_then_crash(unclean=False)
    assert part.leader == -1
    md = cluster.metadata()["t"][0]
    assert md.leader == -1 and md.error.code() == KafkaError.LEADER_NOT_AVAILABLE == 5
    assert cluster.fetch("t", 0, 0).error.code() == KafkaError.LEADER_NOT_AVAILABLE
    reports = []
    produce(p, ["waiting"], reports)
    cluster.advance(5000)
    p.poll(0)
    assert reports == []                        # still retrying: nobody can take it
    cluster.start_broker(1)                     # the last ISR member returns: nothing was lost
    assert part.leader == 1
    p.flush()
    assert reports[0][0] is None
    cluster.advance(1000)
    assert committed_values(cluster) == [str(i) for i in range(10)] + ["waiting"]


def test_unclean_election_elects_an_out_of_sync_replica_and_loses_data():
    cluster, part, p = leader_alone_then_crash(unclean=True)
    assert part.leader == 2 and part.isr[0] == 2
    assert any("UNCLEAN" in text for _, text in cluster.events)
    assert committed_values(cluster) == ["0", "1", "2"]
    cluster.start_broker(1)
    cluster.advance(1000)
    # The old leader truncated its acknowledged records 3..9 to follow the new one.
    assert log_values(part, 1) == log_values(part, 2) == ["0", "1", "2"]


# -- acks and leader crashes ----------------------------------------------------------------------------
def crash_leader_before_followers_fetch(acks, min_insync="1"):
    """Followers are slow (still in the ISR); the leader acknowledges records and crashes before any
    follower has fetched them."""
    cluster, part = make_cluster(topic_config={"min.insync.replicas": min_insync}, seed=3)
    p = producer(cluster, acks=acks, retries=1000)
    acked = []
    warm = []
    produce(p, ["warm"], warm)
    p.flush()
    cluster.advance(100)
    cluster.slow_broker(2, 2000)
    cluster.slow_broker(3, 2000)
    produce(p, ["wake"])            # answers the followers' parked fetches: their next fetch is 2 s away
    p.poll(0.01)
    cluster.advance(10)

    def on_delivery(err, msg):
        if err is None:
            acked.append(msg.value().decode())
    for i in range(5):
        p.produce("t", value=f"r{i}", partition=0, on_delivery=on_delivery)
    p.poll(0.01)
    cluster.stop_broker(1, wait=False)
    cluster.heal_network()         # (messages already on their way still take their time)
    p.flush(60)
    cluster.start_broker(1)
    cluster.advance(10000)
    assert part.leader in (2, 3)
    return cluster, part, acked


def test_acks_1_loses_acknowledged_records_when_the_leader_dies_before_replication():
    cluster, part, acked = crash_leader_before_followers_fetch(acks=1)
    assert acked == [f"r{i}" for i in range(5)]
    in_log = set(committed_values(cluster))
    lost = [v for v in acked if v not in in_log]
    assert lost == acked                 # all five were acknowledged and are gone
    assert log_values(part, 1) == log_values(part, part.leader)


def test_acks_all_rf3_min_isr_2_loses_nothing():
    cluster, part, acked = crash_leader_before_followers_fetch(acks="all", min_insync="2")
    assert set(acked) == {f"r{i}" for i in range(5)}     # retried to the new leader
    in_log = committed_values(cluster)
    assert all(v in in_log for v in acked)


# -- retention and compaction through the cluster -----------------------------------------------------------
def test_time_retention_on_the_virtual_clock():
    cluster, part = make_cluster(topic_config={"retention.ms": "60000", "segment.ms": "10000"})
    p = producer(cluster, acks="all")
    for i in range(6):
        produce(p, [i])
        p.flush()
        cluster.advance(10000)
    assert part.log_start_offset == 0
    cluster.advance(25000)        # records 0, 1, 2 are now older than retention.ms
    cluster.run_retention_now()
    start = part.log_start_offset
    assert start == 3
    assert all(part.replica[b].log.log_start_offset == start for b in part.replicas)
    assert committed_values(cluster) == [str(i) for i in range(start, 6)]
    assert cluster.fetch("t", 0, 0).error.code() == KafkaError.OFFSET_OUT_OF_RANGE


def test_retention_runs_by_itself_every_check_interval():
    cluster, part = make_cluster(topic_config={"retention.ms": "1000", "segment.ms": "1000"},
                                 **{"log.retention.check.interval.ms": 5000})
    p = producer(cluster, acks="all")
    for i in range(3):
        produce(p, [i])
        p.flush()
        cluster.advance(1500)
    assert cluster.elapsed_ms < 5000 and part.log_start_offset == 0      # no check has run yet
    cluster.advance(5000 - cluster.elapsed_ms)
    assert part.log_start_offset == 3      # every record was older than retention.ms at the first check


def test_size_retention():
    cluster, part = make_cluster(topic_config={"retention.bytes": "200", "segment.ms": "1"})
    p = producer(cluster, acks="all")
    for i in range(10):
        produce(p, ["x" * 50])
        p.flush()
        cluster.advance(5)
    size_before = part.leader_replica.log.size_bytes()
    assert size_before > 200
    cluster.run_retention_now()
    log = part.leader_replica.log
    assert log.log_start_offset > 0
    assert log.size_bytes() >= 200 - max(s.size_bytes for s in log.segments) and log.size_bytes() < size_before


def test_compaction_keeps_latest_value_per_key_and_drops_old_tombstones():
    cluster, part = make_cluster(topic_config={"cleanup.policy": "compact", "segment.ms": "100",
                                               "delete.retention.ms": "1000"})
    p = producer(cluster, acks="all")
    writes = [("a", "a1"), ("b", "b1"), ("a", "a2"), ("c", "c1"), ("b", None), ("a", "a3"), ("d", "d1")]
    for key, value in writes:
        p.produce("t", key=key, value=value, partition=0)
        p.flush()
        cluster.advance(200)           # each record lands in its own segment
    p.produce("t", key="z", value="roll", partition=0)
    p.flush()
    cluster.run_log_cleaner_now()
    res = cluster.fetch("t", 0, 0, isolation_level="read_uncommitted")
    kept = [(r.key.decode(), r.value.decode() if r.value is not None else None, r.offset) for r in res.records]
    assert [(k, v) for k, v, _ in kept] == [("c", "c1"), ("b", None), ("a", "a3"), ("d", "d1"), ("z", "roll")]
    assert [o for _, _, o in kept] == [3, 4, 5, 6, 7]            # offsets never change: gaps remain
    cluster.advance(2000)
    cluster.run_log_cleaner_now()
    res = cluster.fetch("t", 0, 0, isolation_level="read_uncommitted")
    assert [r.key.decode() for r in res.records] == ["c", "a", "d", "z"]   # the tombstone expired
    for b in part.replicas:     # every replica compacts its own log the same way
        assert [r.offset for r in part.replica[b].log.read(0)] == [r.offset for r in res.records]


def test_keyless_record_on_compacted_topic_is_invalid_record():
    cluster, part = make_cluster(topic_config={"cleanup.policy": "compact"})
    reports = []
    p = producer(cluster)
    p.produce("t", value="no key", partition=0, on_delivery=lambda e, m: reports.append(e))
    p.produce("t", key="k", value="has key", partition=0, on_delivery=lambda e, m: reports.append(e))
    p.flush()
    p.produce("t", key="k2", value="own batch", partition=0, on_delivery=lambda e, m: reports.append(e))
    p.flush()
    assert reports[0].code() == KafkaError.INVALID_RECORD == 87
    assert "key" in reports[0].str()
    # Kafka rejects the whole batch the bad record came in (librdkafka >= 2 reports the other records in it
    # as _INVALID_DIFFERENT_RECORD); a batch of keyed records is accepted.
    assert reports[1].code() in (KafkaError.INVALID_RECORD, KafkaError._INVALID_DIFFERENT_RECORD)
    assert reports[2] is None
    assert log_values(part) == ["own batch"]


def test_a_new_leader_alone_in_the_isr_moves_its_high_watermark_to_its_log_end_at_once():
    """The follower holds all three acked records but has not yet heard the HW (it is slow) when the leader
    is cut off and crashes. Alone in the ISR, the new leader's HW must be its log end offset at once
    (``Partition.makeLeader``), or consumers would not see acknowledged records until the next write."""
    cluster = Cluster(brokers=2, seed=3, config={"replica.lag.time.max.ms": LAG_MS})
    assert cluster.create_topic("t", replica_assignment=[[1, 2]]) is None
    part = cluster.topics["t"].partitions[0]
    cluster.slow_broker(2, 200)
    p = producer(cluster, acks=-1)
    reports = []
    produce(p, [0, 1, 2], reports)
    while len(reports) < 3:
        p.poll(0)
        cluster.advance(1)
    assert [e for e, _ in reports] == [None] * 3
    assert part.replica[2].log_end_offset == 3 and part.replica[2].high_watermark == 0
    cluster.isolate_broker(1)
    cluster.stop_broker(1)
    assert (part.leader, part.isr) == (2, [2])
    assert part.high_watermark == 3
    assert committed_values(cluster) == ["0", "1", "2"]


def test_a_new_leader_with_followers_in_the_isr_waits_for_them_before_moving_its_high_watermark():
    cluster, part = make_cluster()
    cluster.slow_broker(2, 200)
    cluster.slow_broker(3, 200)
    p = producer(cluster, acks=1)
    reports = []
    produce(p, [0, 1, 2], reports)
    while len(reports) < 3:
        p.poll(0)
        cluster.advance(1)
    while leos(part) != [3, 3, 3]:
        cluster.advance(1)                     # both followers have the records, not yet the HW
    assert part.replica[2].high_watermark < 3 and part.replica[3].high_watermark < 3
    cluster.stop_broker(1, clean=True)
    assert part.leader in (2, 3) and len(part.isr) == 2
    assert part.high_watermark < 3             # the other follower has not fetched from the new leader yet
    cluster.advance(2000)
    assert part.high_watermark == 3
