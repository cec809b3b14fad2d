"""The virtual clock starts at a realistic, fixed moment (``clock.EPOCH_MS``, 2026-01-01T00:00:00Z) or at a
configured one: records carry plausible CreateTimes and time-based rules compare against that clock, while
event logs, the snapshot and widgets count the time since the cluster started."""
import datetime
import math

import pytest

import eventsim
from eventsim import Cluster, KafkaError, KafkaException, Producer, TopicPartition
from eventsim.clock import EPOCH_MS, VirtualClock

HOUR = 3_600_000
LATER = 1_800_000_000_000       # 2027-01-15T08:00:00Z


def produce(cluster, topic, **kwargs):
    """Produce one record and return its delivery report ``(error code or None, (type, timestamp))``."""
    reports = []
    p = Producer({"bootstrap.servers": cluster.bootstrap_servers,
                  "on_delivery": lambda e, m: reports.append((e and e.code(), m.timestamp()))})
    p.produce(topic, value=b"x", **kwargs)
    p.flush()
    return reports[0]


def test_a_record_produced_as_the_cluster_starts_carries_the_epoch_as_its_create_time():
    cluster = Cluster(brokers=1)
    assert cluster.create_topic("t", 1, 1) is None
    assert cluster.now_ms == EPOCH_MS and cluster.elapsed_ms == 0
    assert produce(cluster, "t") == (None, (eventsim.TIMESTAMP_CREATE_TIME, EPOCH_MS))
    when = datetime.datetime.fromtimestamp(EPOCH_MS / 1000, datetime.timezone.utc)
    assert when == datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def test_a_configured_start_time_is_used_by_records_while_logs_count_from_the_start():
    kafka = eventsim.connect("sim", brokers=1, start_time_ms=LATER)
    cluster = kafka.cluster
    assert cluster.create_topic("t", 1, 1) is None
    kafka.wait(1_500)
    assert (kafka.now_ms, kafka.elapsed_ms, kafka.snapshot()["time_ms"]) == (LATER + 1_500, 1_500, 1_500)
    assert produce(cluster, "t")[1] == (eventsim.TIMESTAMP_CREATE_TIME, LATER + 1_500)
    kafka.stop_broker(1, wait=False)
    assert cluster.events[-1][0] == cluster.elapsed_ms < 2_000       # "t=1 5xx ms  broker 1 is offline"
    assert "t=1" in repr(cluster) and str(LATER) not in repr(cluster)


def test_retention_by_time_counts_from_the_clock_as_on_a_real_cluster():
    cluster = Cluster(brokers=1, start_time_ms=LATER)
    assert cluster.create_topic("t", 1, 1, {"retention.ms": str(HOUR), "segment.ms": "600000"}) is None
    produce(cluster, "t", timestamp=1_000)            # stamped in 1970: far older than an hour
    produce(cluster, "t")                             # stamped now
    cluster.run_retention_now()
    part = cluster.topics["t"].partitions[0]
    assert part.leader_replica.log.log_start_offset == 0          # one segment, and its newest record is young
    cluster.advance(30 * 60_000)
    produce(cluster, "t")                             # rolls a segment: the first one holds offsets 0 and 1
    cluster.advance(45 * 60_000)
    cluster.run_retention_now()
    assert part.leader_replica.log.log_start_offset == 2          # 75 min old: deleted; 45 min old: kept


def test_a_1970_timestamp_is_outside_the_topics_bounds_and_time_lookups_use_the_clock():
    cluster = Cluster(brokers=1)
    assert cluster.create_topic("t", 1, 1, {"message.timestamp.before.max.ms": str(24 * HOUR)}) is None
    assert produce(cluster, "t", timestamp=1_000) == (KafkaError.INVALID_TIMESTAMP, (0, -1))
    assert produce(cluster, "t", timestamp=EPOCH_MS - HOUR)[0] is None
    c = eventsim.Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": "g"})
    found = [c.offsets_for_times([TopicPartition("t", 0, ts)])[0].offset for ts in (0, EPOCH_MS, EPOCH_MS - HOUR)]
    assert found == [0, -1, 0]
    c.close()


def test_the_clock_counts_elapsed_time_from_where_it_started():
    clock = VirtualClock(LATER)
    clock.advance(250)
    assert (clock.now_ms, clock.elapsed_ms) == (LATER + 250, 250)
    assert VirtualClock().now_ms == EPOCH_MS


@pytest.mark.parametrize("bad", [-1, 2 ** 63, 1.5, float("nan"), math.inf, True, "0", None])
def test_a_start_time_that_is_not_ms_since_1970_is_refused_at_the_call(bad):
    with pytest.raises(KafkaException) as info:
        Cluster(brokers=1, start_time_ms=bad)
    assert info.value.args[0].code() == KafkaError._INVALID_ARG
    assert "start_time_ms" in info.value.args[0].str() and repr(bad) in info.value.args[0].str()
    with pytest.raises(KafkaException, match="start_time_ms"):
        eventsim.connect("sim", brokers=1, start_time_ms=bad)
    with pytest.raises(ValueError, match="start_time_ms"):
        VirtualClock(bad)
