"""Simulator-only checks of failure behaviour the differential campaign (``tests/campaign/failures.py``)
found to differ from Kafka 4.4: eligible leader replicas (KIP-966) and the strict min ISR rule."""

from eventsim import Cluster, Consumer, Producer, TopicPartition


def make_cluster(min_isr=None, replicas=(1, 2, 3)):
    cluster = Cluster(brokers=3, seed=0)
    config = {"min.insync.replicas": str(min_isr)} if min_isr else {}
    assert cluster.create_topic("t", config=config, replica_assignment=[list(replicas)]) is None
    return cluster, cluster.topics["t"].partitions[0]


def deliver(cluster, value, acks="all"):
    """Produce one record to partition 0 and return its delivery error (None if delivered)."""
    p = Producer({"bootstrap.servers": cluster.bootstrap_servers, "acks": acks, "message.timeout.ms": 5000})
    reports = []
    p.produce("t", value=value, partition=0, on_delivery=lambda err, msg: reports.append(err))
    p.flush(30)
    return reports[0]


def high_watermark(cluster):
    c = Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": "probe"})
    try:
        return c.get_watermark_offsets(TopicPartition("t", 0), timeout=10)[1]
    finally:
        c.close()


def test_an_offline_single_replica_partition_has_an_empty_isr_and_comes_back():
    cluster, part = make_cluster(replicas=(2,))
    assert deliver(cluster, b"kept") is None
    cluster.stop_broker(2, clean=True)
    md = cluster.metadata()["t"][0]
    assert md.leader == -1 and md.isr == [] and md.replicas == [2]
    assert part.elr == [2]                           # the last member stays eligible to lead
    cluster.start_broker(2)
    assert part.leader == 2 and part.isr == [2] and part.elr == []
    assert high_watermark(cluster) == 1


def test_a_crashed_single_replica_partition_has_an_empty_isr_too():
    cluster, part = make_cluster(replicas=(3,))
    cluster.stop_broker(3)                           # fenced after broker.session.timeout.ms
    assert part.leader == -1 and part.isr == [] and part.elr == [3]
    cluster.start_broker(3)
    assert part.leader == 3 and part.isr == [3]


def test_watermarks_of_a_partition_without_a_leader_fail_with_unknown_partition():
    """librdkafka finds no leader to send ListOffsets to in its metadata: ``_UNKNOWN_PARTITION`` at once."""
    import pytest
    from eventsim import KafkaError, KafkaException
    cluster, part = make_cluster(replicas=(1,))
    cluster.stop_broker(1, clean=True)
    c = Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": "probe"})
    with pytest.raises(KafkaException) as info:
        c.get_watermark_offsets(TopicPartition("t", 0), timeout=5)
    assert info.value.args[0].code() == KafkaError._UNKNOWN_PARTITION
    c.close()


def test_under_min_isr_acks_1_is_accepted_but_the_high_watermark_stays():
    cluster, part = make_cluster(min_isr=2)
    assert deliver(cluster, b"before") is None
    cluster.advance(500)
    leader = part.leader
    for b in [b for b in part.replicas if b != leader]:
        cluster.stop_broker(b, clean=True)
    assert part.isr == [leader]
    assert deliver(cluster, b"leader-only", acks=1) is None
    assert part.leader_replica.log_end_offset == 2
    assert high_watermark(cluster) == 1              # strict min ISR (KIP-966): not visible yet
    for b in part.replicas:
        if not cluster.broker_alive(b):
            cluster.start_broker(b)
    assert sorted(part.isr) == [1, 2, 3] and part.elr == []
    cluster.advance(100)                             # the followers' next fetches move the high watermark
    assert high_watermark(cluster) == 2


def test_with_the_isr_empty_an_eligible_leader_replica_is_elected():
    """RF 3, min.insync.replicas=2: one follower shuts down (the ISR still has two: no ELR), then the other
    (it leaves an ISR below min ISR: eligible), then the leader (eligible too, the ISR is empty). The first
    follower is not eligible and leaves the partition offline when it returns; the second one leads, with
    every acknowledged record, although it was not in the last ISR."""
    cluster, part = make_cluster(min_isr=2)
    assert deliver(cluster, b"acked") is None
    cluster.advance(500)
    leader = part.leader
    first, second = [b for b in part.replicas if b != leader]
    cluster.stop_broker(first, clean=True)
    cluster.stop_broker(second, clean=True)
    assert part.isr == [leader] and part.elr == [second]
    cluster.stop_broker(leader, clean=True)
    assert part.leader == -1 and part.isr == [] and part.elr == sorted([second, leader], key=part.replicas.index)
    cluster.start_broker(first)
    assert part.leader == -1                          # not eligible: it may lack acknowledged records
    epoch = part.leader_epoch
    cluster.start_broker(second)
    assert part.leader == second and part.isr[0] == second and part.leader_epoch == epoch + 1
    assert second not in part.elr
    assert [r.value for r in part.leader_replica.log.read(0)] == [b"acked"]


def test_an_isr_back_at_min_isr_clears_the_eligible_leader_replicas():
    cluster, part = make_cluster(min_isr=2)
    leader = part.leader
    follower = next(b for b in part.replicas if b != leader)
    other = next(b for b in part.replicas if b not in (leader, follower))
    cluster.stop_broker(follower, clean=True)
    assert part.elr == []                            # two of three in sync: min ISR holds
    cluster.stop_broker(other, clean=True)
    assert part.isr == [leader] and part.elr == [other]
    cluster.start_broker(follower)
    assert sorted(part.isr) == sorted([leader, follower]) and part.elr == []


def test_changing_min_insync_replicas_clears_the_eligible_leader_replicas():
    """Found by the fuzz test: a replica made eligible under min.insync.replicas=2 stayed eligible after the
    minimum dropped to 1, the high watermark then moved past what it held, and once it was elected the
    replicas disagreed below the high watermark (acknowledged records lost)."""
    cluster, part = make_cluster(min_isr=2)
    cluster.stop_broker(2, clean=True)
    cluster.stop_broker(3, clean=True)
    assert part.isr == [1] and part.elr == [3]
    assert cluster.alter_topic_config("t", {"min.insync.replicas": "1"}) is None
    assert part.elr == []
    assert deliver(cluster, b"acked", acks="1") is None
    assert high_watermark(cluster) == 1
    cluster.stop_broker(1, clean=False)
    cluster.advance(20_000)
    cluster.start_broker(3)
    cluster.advance(20_000)
    assert part.leader == -1                         # broker 3 lacks the acknowledged record: it may not lead
    cluster.start_broker(1)
    cluster.advance(20_000)
    assert part.leader == 1 and high_watermark(cluster) == 1
