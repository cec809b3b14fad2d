"""Failures as clients see them: offline partitions, too few in-sync replicas, a controlled shutdown of a
leader, the ISR shrinking and growing back, eligible leader replicas (KIP-966), leader epochs across a
failover, metadata while a broker is down, a group coordinator that stops, watermarks without a leader.

Every scenario restarts what it stopped in a ``finally`` block (the real cluster is shared by the whole
test session) and waits, bounded, until every partition is fully replicated again. What is compared is
what is deterministic on real Kafka: error names, sets and counts of values, relations (a new leader is not
the old one, an epoch grows); never timing, and never *which* replica becomes leader. Broker ids are
turned into roles (``"stopped"``, ``"other"``) where Kafka's placement of replicas is random.
"""
from __future__ import annotations

import campaign
from differential_scenarios import MAX_POLLS, POLL_S, _text, consume, produce, read_partitions

campaign.area(__name__, "Failures as clients see them")

campaign.simplification(
    "A broker that restarts after a crash (an unclean shutdown) is removed from the eligible leader replicas "
    "(KIP-966); a partition left without ISR and ELR then falls back to its last known leader",
    "a crashed broker stays an eligible leader replica; for a single-replica partition both bring the same "
    "broker back as leader")
campaign.simplification(
    "A client's metadata is refreshed now and then: right after a leader stops, a consumer may still send "
    "``get_watermark_offsets`` to it and time out (``_TIMED_OUT``)",
    "clients always see the current metadata: ``get_watermark_offsets`` of a partition without a leader "
    "fails with ``_UNKNOWN_PARTITION`` at once")

#: A short ``message.timeout.ms``: long enough for a retry or two, short enough for the campaign.
MESSAGE_TIMEOUT_MS = 5000


# -- helpers ------------------------------------------------------------------------------------------------
def _name(err):
    """A KafkaError's name (``None`` for no error)."""
    return None if err is None else err.name()


def _error_name(exc):
    err = exc.args[0] if exc.args else None
    return err.name() if hasattr(err, "name") else type(exc).__name__


def _wait(run, condition, rounds=80):
    """``condition()`` every 0.5 s (virtual on the simulator), at most ``rounds`` times; True if it held."""
    for _ in range(rounds):
        if condition():
            return True
        run.kafka.wait(500)
    return condition()


def _metadata(run, topic=None):
    return run.admin().list_topics(topic, timeout=10)


def _partition(run, topic, partition=0):
    return _metadata(run, topic).topics[topic].partitions[partition]


def _leader_and_isr(run, topic, partition=0):
    """``(leader, isr)`` of a partition, waiting (bounded) for metadata that lists it with a leader: right
    after a topic is created or a broker restarts, the broker a fresh client asks may not know it yet."""
    for _ in range(MAX_POLLS // 10):
        part = _metadata(run, topic).topics[topic].partitions.get(partition)
        if part is not None and part.leader >= 0:
            return part.leader, sorted(part.isrs)
        run.kafka.wait(500)
    raise AssertionError("%s-%d has no leader in the metadata" % (topic, partition))


def _fully_replicated(run):
    """Every partition of every topic (internal ones too) has a leader and all its replicas in the ISR, and
    every broker is listed."""
    md = _metadata(run)
    if sorted(md.brokers) != sorted(run.kafka.broker_ids):
        return False
    return all(p.leader >= 0 and sorted(p.isrs) == sorted(p.replicas)
               for t in md.topics.values() for p in t.partitions.values())


def _restore(run, brokers):
    """For ``finally`` blocks: start those of ``brokers`` that are down (all at once: a real broker takes
    seconds to start), then wait (bounded) until every partition is fully replicated again."""
    for b in brokers:
        if b not in _running(run):
            run.kafka.start_broker(b, wait=False)
    assert _wait(run, lambda: _fully_replicated(run), 120), "the cluster did not get fully replicated again"


def _answers(run):
    """Some broker answers a Metadata request."""
    try:
        _metadata(run)
    except Exception:  # noqa: BLE001 - KafkaException on both backends
        return False
    return True


def _running(run):
    if run.backend == "sim":
        return [b for b in run.kafka.broker_ids if run.kafka.cluster.broker_alive(b)]
    return run.kafka.alive_brokers()


def _role(broker, stopped):
    return "stopped" if broker in stopped else ("none" if broker < 0 else "other")


def _reports(producer, topic, rows, flush_timeout=60):
    """Produce ``rows`` (``(key, value[, partition])``) and return ``[(error name, partition, value)]``."""
    out = []

    def on_delivery(err, msg):
        out.append((_name(err), msg.partition(), _text(msg.value())))
    for row in rows:
        extra = {"partition": row[2]} if len(row) > 2 else {}
        producer.produce(topic, key=row[0], value=row[1], on_delivery=on_delivery, **extra)
        producer.poll(0)
    assert producer.flush(flush_timeout) == 0, "messages still undelivered"
    return out


def _values(run, topic, partitions=1):
    return sorted(v for rows in read_partitions(run, topic, partitions).values() for _, _, v in rows)


# -- an offline partition ----------------------------------------------------------------------------------
def _check_offline_metadata(real):
    assert real["down"]["leader"] == -1 and real["down"]["error"] == "LEADER_NOT_AVAILABLE"
    assert real["down"]["replicas"] == ["stopped"] and real["down"]["broker_listed"] is False
    assert real["down"]["isr"] == [] and real["described"]["isr"] == []
    assert real["after"] == {"leader": "stopped", "error": None, "isr": ["stopped"]}


@campaign.scenario(check=_check_offline_metadata)
def offline_partition_in_list_topics(run):
    """The only replica of an RF-1 partition is stopped: ``list_topics`` shows the partition with leader
    ``-1`` and ``LEADER_NOT_AVAILABLE`` as its error (the topic itself has none), its replica list unchanged,
    an empty ISR (Kafka 4 keeps the last member as an *eligible leader replica*, KIP-966, not in the ISR)
    and the stopped broker no longer among the brokers; ``describe_topics`` has no leader for it. When the
    broker returns it leads the partition again."""
    from confluent_kafka import TopicCollection
    topic = run.topic(partitions=1, replication_factor=1)
    broker, _ = _leader_and_isr(run, topic)
    out = {}
    try:
        run.kafka.stop_broker(broker, clean=True)
        _wait(run, lambda: _partition(run, topic).leader == -1)
        md = _metadata(run, topic)
        t = md.topics[topic]
        p = t.partitions[0]
        out["down"] = {"leader": p.leader, "error": _name(p.error), "topic_error": _name(t.error),
                       "replicas": [_role(b, [broker]) for b in p.replicas],
                       "isr": [_role(b, [broker]) for b in p.isrs],
                       "broker_listed": broker in md.brokers}
        admin = run.admin()          # referenced until the answer is in (a destroyed client fails it)
        desc = admin.describe_topics(TopicCollection([topic]), request_timeout=10)[topic].result(30)
        (dp,) = desc.partitions
        out["described"] = {"leader": None if dp.leader is None else _role(dp.leader.id, [broker]),
                            "replicas": [_role(n.id, [broker]) for n in dp.replicas],
                            "isr": [_role(n.id, [broker]) for n in dp.isr]}
    finally:
        _restore(run, [broker])
    p = _partition(run, topic)
    out["after"] = {"leader": _role(p.leader, [broker]), "error": _name(p.error),
                    "isr": [_role(b, [broker]) for b in p.isrs]}
    return out


def _check_offline_produce(real):
    assert real["before"] == [None] * 5
    assert real["while_down"] == ["_MSG_TIMED_OUT"] * 3
    assert real["same_producer_after"] == [None] * 3 and real["new_producer_after"] == [None] * 2
    assert real["log"] == sorted(["before-%d" % i for i in range(5)] + ["after-%d" % i for i in range(3)]
                                 + ["new-%d" % i for i in range(2)])


@campaign.scenario(check=_check_offline_produce)
def offline_partition_produce_times_out_then_recovers(run):
    """Records sent to an offline partition wait in the producer for a leader and fail with
    ``_MSG_TIMED_OUT`` after ``message.timeout.ms``; once the broker is back, the records written before the
    stop are all there, and the same producer and a new one write again."""
    topic = run.topic(partitions=1, replication_factor=1)
    broker, _ = _leader_and_isr(run, topic)
    producer = run.kafka.Producer({"message.timeout.ms": MESSAGE_TIMEOUT_MS, "linger.ms": 5})
    out = {"before": [r[0] for r in _reports(producer, topic, [(None, b"before-%d" % i) for i in range(5)])]}
    try:
        run.kafka.stop_broker(broker, clean=True)
        _wait(run, lambda: _partition(run, topic).leader == -1)
        out["while_down"] = [r[0] for r in _reports(producer, topic, [(None, b"lost-%d" % i, 0) for i in range(3)])]
    finally:
        _restore(run, [broker])
    out["same_producer_after"] = [r[0] for r in _reports(producer, topic, [(None, b"after-%d" % i) for i in range(3)])]
    fresh = run.kafka.Producer({})
    out["new_producer_after"] = [r[0] for r in _reports(fresh, topic, [(None, b"new-%d" % i) for i in range(2)])]
    out["log"] = _values(run, topic)
    return out


def _check_offline_consumer(real):
    assert real["records_while_down"] == 0
    assert real["read_after"] == ["v0", "v1", "v2", "v3", "v4", "w0", "w1"]


@campaign.scenario(check=_check_offline_consumer)
def offline_partition_consumer_waits_then_reads(run):
    """A consumer assigned to an offline partition gets no records (and no partition EOF) while it has no
    leader; when the broker returns the same consumer reads the records written before and after, in order
    and once each."""
    topic = run.topic(partitions=1, replication_factor=1)
    broker, _ = _leader_and_isr(run, topic)
    produce(run.kafka.Producer({}), topic, [(None, b"v%d" % i) for i in range(5)])
    consumer = run.kafka.Consumer({"group.id": run.unique_name("g"), "enable.auto.commit": False,
                                   "enable.partition.eof": True})
    out = {}
    try:
        run.kafka.stop_broker(broker, clean=True)
        _wait(run, lambda: _partition(run, topic).leader == -1)
        consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
        records, events = 0, set()
        for _ in range(30):
            msg = consumer.poll(POLL_S)
            if msg is None:
                continue
            if msg.error():
                events.add(msg.error().name())
            else:
                records += 1
        out["records_while_down"] = records
        out["events_while_down"] = sorted(events)
    finally:
        _restore(run, [broker])
    produce(run.kafka.Producer({}), topic, [(None, b"w%d" % i) for i in range(2)])
    got = consume(consumer, 7, "the records after the broker returned")
    consumer.close()
    out["read_after"] = [_text(m.value()) for m in got]
    out["offsets_after"] = [m.offset() for m in got]
    return out


def _check_offline_watermarks(real):
    assert real["watermarks_before"] == [0, 4]
    assert real["watermarks_down"] == real["watermarks_down_again"] == "_UNKNOWN_PARTITION"
    assert real["watermarks_after"] == [0, 4]


@campaign.scenario(check=_check_offline_watermarks)
def offline_partition_watermarks(run):
    """``get_watermark_offsets`` of a partition whose metadata names no leader fails with
    ``_UNKNOWN_PARTITION`` (librdkafka finds no leader to send ListOffsets to); ``cached=True`` answers at
    once, with ``OFFSET_INVALID`` (-1001) for a partition the consumer never fetched; after the broker
    returns the watermarks are what they were. The consumer asking is created while the partition is
    offline: one whose metadata still names the stopped leader sends the request there and times out
    (``_TIMED_OUT``) instead, depending on when librdkafka refreshes its metadata."""
    topic = run.topic(partitions=1, replication_factor=1)
    broker, _ = _leader_and_isr(run, topic)
    produce(run.kafka.Producer({}), topic, [(None, b"v%d" % i) for i in range(4)])
    consumer = run.kafka.Consumer({"group.id": run.unique_name("g")})
    tp = run.tp(topic, 0)
    out = {"watermarks_before": list(consumer.get_watermark_offsets(tp, timeout=10))}
    try:
        run.kafka.stop_broker(broker, clean=True)
        _wait(run, lambda: _partition(run, topic).leader == -1)
        fresh = run.kafka.Consumer({"group.id": run.unique_name("g")})    # its metadata: no leader
        for label, c in (("watermarks_down", fresh), ("watermarks_down_again", fresh)):
            try:
                out[label] = list(c.get_watermark_offsets(tp, timeout=5))
            except run.api.KafkaException as exc:
                out[label] = _error_name(exc)
        fresh.close()
        out["cached_down"] = list(consumer.get_watermark_offsets(tp, cached=True))
    finally:
        _restore(run, [broker])
    out["watermarks_after"] = _watermarks_once_answered(run, consumer, tp)
    consumer.close()
    return out


def _watermarks_once_answered(run, consumer, tp):
    """The watermarks, asked again (bounded) while the consumer's metadata still lacks the returned
    leader."""
    for _ in range(20):
        try:
            return list(consumer.get_watermark_offsets(tp, timeout=10))
        except run.api.KafkaException:
            run.kafka.wait(500)
    return list(consumer.get_watermark_offsets(tp, timeout=10))


def _check_offline_keyed(real):
    assert real["offline"] == {"_MSG_TIMED_OUT": real["offline_count"]} and real["offline_count"] > 0
    assert set(real["online"]) == {None}
    assert real["read_after"] == real["online_count"]


@campaign.scenario(check=_check_offline_keyed)
def keyed_produce_with_one_partition_offline(run):
    """One partition of three (RF 1) is offline: keyed records still hash over all three partitions, so
    those whose key maps to the offline one time out (``_MSG_TIMED_OUT``) and the rest are delivered."""
    topic = run.topic(partitions=3, replication_factor=1)
    broker, _ = _leader_and_isr(run, topic, 0)
    producer = run.kafka.Producer({"message.timeout.ms": MESSAGE_TIMEOUT_MS})
    keys = [b"key-%d" % i for i in range(30)]
    try:
        run.kafka.stop_broker(broker, clean=True)
        _wait(run, lambda: _partition(run, topic, 0).leader == -1)
        offline = [p for p in range(3) if _partition(run, topic, p).leader == -1]
        reports = _reports(producer, topic, [(k, k) for k in keys])
    finally:
        _restore(run, [broker])
    outcome = {}
    for err, partition, _ in reports:
        side = "offline" if partition in offline else "online"
        outcome.setdefault(side, {}).setdefault(err, 0)
        outcome[side][err] += 1
    return {"offline": outcome.get("offline", {}), "online": outcome.get("online", {}),
            "offline_count": sum(outcome.get("offline", {}).values()),
            "online_count": sum(outcome.get("online", {}).values()),
            "per_partition": sorted({(p, err) for err, p, _ in reports}, key=str),
            "read_after": len(_values(run, topic, 3))}


def _check_offline_group(real):
    assert real["assigned"] == 3 and real["read_while_down"] == ["p1-0", "p1-1", "p2-0", "p2-1"]
    assert real["read_after"] == ["p0-0", "p0-1"]


@campaign.scenario(check=_check_offline_group)
def subscribed_group_while_a_partition_is_offline(run):
    """A consumer group subscribing while one partition (RF 1) is offline is still assigned every partition,
    reads the partitions that have a leader, and the offline one's records once its broker returns."""
    topic = run.topic(partitions=3, replication_factor=1)
    broker, _ = _leader_and_isr(run, topic, 0)
    produce(run.kafka.Producer({}), topic, [(None, b"p%d-%d" % (p, i), p) for p in range(3) for i in range(2)])
    consumer = run.kafka.Consumer({"group.id": run.unique_name("g"), "auto.offset.reset": "earliest",
                                   "enable.auto.commit": False})
    out = {}
    try:
        run.kafka.stop_broker(broker, clean=True)
        _wait(run, lambda: _partition(run, topic, 0).leader == -1)
        offline = [p for p in range(3) if _partition(run, topic, p).leader == -1]
        consumer.subscribe([topic])
        first = consume(consumer, 2 * (3 - len(offline)), "the records of the partitions with a leader")
        out["assigned"] = len(consumer.assignment())
        out["read_while_down"] = sorted(_text(m.value()) for m in first)
    finally:
        _restore(run, [broker])
    rest = consume(consumer, 2 * len(offline), "the offline partition's records")
    consumer.close()
    out["read_after"] = sorted(_text(m.value()) for m in rest)
    return out


# -- too few in-sync replicas ------------------------------------------------------------------------------
def _check_min_isr(real):
    assert real["isr_down"] == ["other"] and real["leader_down"] == "other"
    assert real["acks_all"] == ["_MSG_TIMED_OUT"] and real["idempotent"] == ["_MSG_TIMED_OUT"]
    assert real["acks_1"] == [None] and real["after"] == [None]
    assert real["watermarks_down"] == [0, 1] and real["readable_down"] == ["before"]
    assert real["log"] == ["acks-1", "after", "before"]


@campaign.scenario(check=_check_min_isr)
def acks_all_refused_after_leader_and_follower_stop(run):
    """RF 3 and ``min.insync.replicas=2``: the leader and one follower shut down, leaving the last replica
    to lead with an ISR of one. ``acks=all`` writes are refused with ``NOT_ENOUGH_REPLICAS`` and retried
    (it is retriable) until ``message.timeout.ms``, so the report says ``_MSG_TIMED_OUT``, for a plain and
    for an idempotent producer alike. ``acks=1`` is accepted, but under ``min.insync.replicas`` the high
    watermark does not move (Kafka 4's strict min ISR, KIP-966), so consumers see the record only once the
    ISR has grown back. The refused records never appear in the log."""
    topic = run.topic(partitions=1, config={"min.insync.replicas": "2"})
    produce(run.kafka.Producer({"acks": "all"}), topic, [(None, b"before")])
    run.kafka.wait(500)          # the followers learn the new high watermark with their next fetch
    leader, isr = _leader_and_isr(run, topic)
    stopped = [leader, next(b for b in isr if b != leader)]
    out = {}
    try:
        for b in stopped:
            run.kafka.stop_broker(b, clean=True)
        _wait(run, lambda: len(_leader_and_isr(run, topic)[1]) == 1)
        new_leader, isr_down = _leader_and_isr(run, topic)
        out["leader_down"] = _role(new_leader, stopped)
        out["isr_down"] = [_role(b, stopped) for b in isr_down]
        for label, conf in (("acks_all", {"acks": "all"}), ("idempotent", {"enable.idempotence": True})):
            producer = run.kafka.Producer(dict(conf, **{"message.timeout.ms": MESSAGE_TIMEOUT_MS}))
            out[label] = [r[0] for r in _reports(producer, topic, [(None, label.encode())])]
        out["acks_1"] = [r[0] for r in _reports(run.kafka.Producer({"acks": 1}), topic, [(None, b"acks-1")])]
        probe = run.kafka.Consumer({"group.id": run.unique_name("probe")})
        out["watermarks_down"] = list(probe.get_watermark_offsets(run.tp(topic, 0), timeout=10))
        probe.close()
        out["readable_down"] = _values(run, topic)
    finally:
        _restore(run, stopped)
    out["after"] = [r[0] for r in _reports(run.kafka.Producer({"acks": "all"}), topic, [(None, b"after")])]
    out["log"] = _values(run, topic)
    return out


# -- a controlled shutdown of a leader ---------------------------------------------------------------------
def _check_clean_shutdown(real):
    assert real["delivery_errors"] == [] and real["acked"] == 60
    assert real["consumed_equals_acked"] is True and real["consumed_count"] == 60
    assert real["leaders_after"] == ["other"] * 3 and real["read_back"] == 60


@campaign.scenario(check=_check_clean_shutdown)
def clean_leader_shutdown_loses_nothing_acknowledged(run):
    """A controlled shutdown (``stop_broker(clean=True)``) of a broker that leads partitions: leadership
    moves to other ISR members, an ``acks=all`` producer keeps writing without a failed report, and a
    subscribed consumer keeps reading: it sees every acknowledged record, each once."""
    topic = run.topic(partitions=3, config={"min.insync.replicas": "2"})
    broker, _ = _leader_and_isr(run, topic, 0)
    producer = run.kafka.Producer({"acks": "all", "linger.ms": 5})
    consumer = run.kafka.Consumer({"group.id": run.unique_name("g"), "auto.offset.reset": "earliest",
                                   "enable.auto.commit": False})
    consumer.subscribe([topic])
    reports = _reports(producer, topic, [(b"k%d" % (i % 9), b"before-%d" % i) for i in range(30)])
    seen = [_text(m.value()) for m in consume(consumer, 30, "the records before the shutdown")]
    out = {}
    try:
        run.kafka.stop_broker(broker, clean=True)
        reports += _reports(producer, topic, [(b"k%d" % (i % 9), b"after-%d" % i) for i in range(30)], 90)
        seen += [_text(m.value()) for m in consume(consumer, 30, "the records after the shutdown")]
        out["leaders_after"] = [_role(_partition(run, topic, p).leader, [broker]) for p in range(3)]
    finally:
        _restore(run, [broker])
    consumer.close()
    acked = sorted(v for err, _, v in reports if err is None)
    out.update({"delivery_errors": [err for err, _, _ in reports if err is not None], "acked": len(acked),
                "consumed_equals_acked": sorted(seen) == acked, "consumed_count": len(seen),
                "read_back": len(_values(run, topic, 3))})
    return out


# -- the ISR -----------------------------------------------------------------------------------------------
def _check_isr(real):
    assert real["isr_before"] == ["other", "other", "stopped"] and real["replicas_down"] == real["isr_before"]
    assert real["shrunk"] is True and real["isr_down"] == ["other", "other"]
    assert real["leader_kept"] is True and real["produced_while_down"] == [None] * 3
    assert real["grew_back"] is True and real["isr_after"] == ["other", "other", "stopped"]


@campaign.scenario(check=_check_isr)
def isr_shrinks_and_grows_back_after_a_follower_crash(run):
    """A follower crashes: once the controller fences it (``broker.session.timeout.ms``) ``list_topics``
    shows it out of the ISR while it stays a replica and the leader stays; ``acks=all`` with
    ``min.insync.replicas=2`` still works with two in sync; after its restart it catches up and the ISR
    has all three again."""
    topic = run.topic(partitions=1, config={"min.insync.replicas": "2"})
    leader, isr = _leader_and_isr(run, topic)
    follower = next(b for b in isr if b != leader)
    out = {"isr_before": sorted(_role(b, [follower]) for b in isr)}
    try:
        run.kafka.stop_broker(follower)                    # a crash (SIGKILL); returns once it is fenced
        out["shrunk"] = _wait(run, lambda: follower not in _leader_and_isr(run, topic)[1])
        p = _partition(run, topic)
        out["isr_down"] = sorted(_role(b, [follower]) for b in p.isrs)
        out["replicas_down"] = sorted(_role(b, [follower]) for b in p.replicas)
        out["leader_kept"] = p.leader == leader
        producer = run.kafka.Producer({"acks": "all"})
        out["produced_while_down"] = [r[0] for r in _reports(producer, topic, [(None, b"d%d" % i) for i in range(3)])]
    finally:
        run.restart_stopped([follower])
    out["grew_back"] = _wait(run, lambda: sorted(_leader_and_isr(run, topic)[1]) == sorted(isr))
    out["isr_after"] = sorted(_role(b, [follower]) for b in _partition(run, topic).isrs)
    _restore(run, [follower])
    return out


# -- leader epochs -----------------------------------------------------------------------------------------
def _check_epochs(real):
    assert real["same_epoch_before"] is True and real["same_epoch_after"] is True
    assert real["greater_after"] is True and real["values"] == ["a0", "a1", "a2", "b0", "b1", "b2"]


@campaign.scenario(check=_check_epochs)
def leader_epoch_grows_across_a_failover(run):
    """``Message.leader_epoch()`` of consumed records is the epoch of the leader that appended them: the
    same for every record written before a controlled shutdown of the leader, and greater for those written
    after it by the new leader."""
    topic = run.topic(partitions=1, config={"min.insync.replicas": "2"})
    leader, _ = _leader_and_isr(run, topic)
    producer = run.kafka.Producer({"acks": "all"})
    produce(producer, topic, [(None, b"a%d" % i) for i in range(3)])
    try:
        run.kafka.stop_broker(leader, clean=True)
        produce(producer, topic, [(None, b"b%d" % i) for i in range(3)], 90)
    finally:
        _restore(run, [leader])
    consumer = run.kafka.Consumer({"group.id": run.unique_name("g"), "enable.auto.commit": False})
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
    got = consume(consumer, 6, "the six records")
    consumer.close()
    before = [m.leader_epoch() for m in got[:3]]
    after = [m.leader_epoch() for m in got[3:]]
    return {"values": [_text(m.value()) for m in got], "same_epoch_before": len(set(before)) == 1,
            "same_epoch_after": len(set(after)) == 1, "greater_after": min(after) > max(before),
            "bump": after[0] - before[0]}


# -- metadata while a broker is down -----------------------------------------------------------------------
STOPPED_BROKER = 3


def _check_metadata_down(real):
    assert real["brokers"] == [1, 2] and real["described_nodes"] == [1, 2]
    assert real["still_a_replica"] == [True] * 3 and real["in_isr"] == [False] * 3
    assert real["leaders"] == ["other"] * 3 and real["errors"] == [None] * 3
    assert real["described_isr"] == [False] * 3 and real["described_leaders"] == ["other"] * 3


@campaign.scenario(check=_check_metadata_down)
def metadata_while_a_broker_is_down(run):
    """While a broker is shut down, ``list_topics`` and ``describe_cluster`` leave it out of the brokers;
    every partition keeps it in its replica list but not in its ISR, is led by another broker and has no
    error; ``describe_topics`` agrees."""
    from confluent_kafka import TopicCollection
    topic = run.topic(partitions=3)
    stopped = [STOPPED_BROKER]
    out = {}
    try:
        run.kafka.stop_broker(STOPPED_BROKER, clean=True)
        _wait(run, lambda: all(STOPPED_BROKER not in p.isrs
                               for p in _metadata(run, topic).topics[topic].partitions.values()))
        md = _metadata(run, topic)
        parts = [md.topics[topic].partitions[p] for p in range(3)]
        out["brokers"] = sorted(md.brokers)
        out["still_a_replica"] = [STOPPED_BROKER in p.replicas for p in parts]
        out["in_isr"] = [STOPPED_BROKER in p.isrs for p in parts]
        out["leaders"] = [_role(p.leader, stopped) for p in parts]
        out["errors"] = [_name(p.error) for p in parts]
        admin = run.admin()
        out["described_nodes"] = sorted(n.id for n in admin.describe_cluster(request_timeout=10).result(30).nodes)
        desc = admin.describe_topics(TopicCollection([topic]), request_timeout=10)[topic].result(30)
        dparts = sorted(desc.partitions, key=lambda p: p.id)
        out["described_replicas"] = [STOPPED_BROKER in [n.id for n in p.replicas] for p in dparts]
        out["described_isr"] = [STOPPED_BROKER in [n.id for n in p.isr] for p in dparts]
        out["described_leaders"] = [_role(p.leader.id, stopped) for p in dparts]
    finally:
        _restore(run, stopped)
    out["brokers_after"] = sorted(_metadata(run).brokers)
    return out


# -- the group coordinator ---------------------------------------------------------------------------------
def _check_coordinator(real):
    assert real["coordinator_moved"] is True
    assert real["commit_before"] == [(0, 5, None)] and real["commit_after"] == [(0, 10, None)]
    assert real["committed_after"] == [10] and real["new_member_committed"] == [10]
    assert real["resumed"] == ["v10", "v11"]


@campaign.scenario(check=_check_coordinator)
def group_coordinator_shutdown_keeps_commits(run):
    """The broker coordinating a consumer group shuts down: another broker becomes coordinator (it loads
    the group's offsets from ``__consumer_offsets``), the member's next synchronous commit succeeds, and a
    new member of the group resumes at the committed offset."""
    topic = run.topic(partitions=1)
    produce(run.kafka.Producer({}), topic, [(None, b"v%d" % i) for i in range(12)])
    group = run.unique_name("g")
    conf = {"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
    consumer = run.kafka.Consumer(conf)
    consumer.subscribe([topic])
    consume(consumer, 5, "the first five records")

    def commit(offset):
        done = consumer.commit(offsets=[run.tp(topic, 0, offset)], asynchronous=False)
        return [(tp.partition, tp.offset, _name(tp.error)) for tp in done]
    out = {"commit_before": commit(5)}
    assert _wait(run, lambda: _coordinator(run, group) is not None), "the group has no coordinator"
    coordinator = _coordinator(run, group)
    try:
        run.kafka.stop_broker(coordinator, clean=True)
        out["coordinator_moved"] = _wait(run, lambda: _coordinator(run, group) not in (None, coordinator))
        consume(consumer, 5, "five more records")
        out["commit_after"] = commit(10)
        out["committed_after"] = [tp.offset for tp in consumer.committed([run.tp(topic, 0)], timeout=30)]
    finally:
        consumer.close()
        _restore(run, [coordinator])
    second = run.kafka.Consumer(conf)
    out["new_member_committed"] = [tp.offset for tp in second.committed([run.tp(topic, 0)], timeout=30)]
    second.subscribe([topic])
    out["resumed"] = [_text(m.value()) for m in consume(second, 2, "the records after the commit")]
    second.close()
    return out


def _coordinator(run, group):
    """The coordinator's broker id, as ``describe_consumer_groups`` names it (None if it cannot say)."""
    admin = run.admin()
    try:
        desc = admin.describe_consumer_groups([group], request_timeout=10)[group].result(30)
    except Exception:  # noqa: BLE001 - no coordinator right now
        return None
    return desc.coordinator.id if desc.coordinator is not None else None


# -- eligible leader replicas (KIP-966) ----------------------------------------------------------------------
def _check_elr(real):
    assert real["isr_after_both_followers"] == ["leader"] and real["offline"] == (-1, [])
    assert real["first_back_leads"] is False and real["leader_after_second"] == "second"
    assert real["log"] == ["acked"]


@campaign.scenario(check=_check_elr)
def eligible_leader_replica_leads_an_offline_partition(run):
    """RF 3, ``min.insync.replicas=2``, three controlled shutdowns in turn: the first follower leaves an ISR
    of three (still at min ISR), the second leaves an ISR of two (it becomes an *eligible leader replica*,
    KIP-966, since the ISR is now below min ISR), then the leader: the partition is offline with an empty
    ISR. The first follower returning does not lead (it may lack acknowledged records); the second one
    does, with every acknowledged record."""
    topic = run.topic(partitions=1, config={"min.insync.replicas": "2"})
    produce(run.kafka.Producer({"acks": "all"}), topic, [(None, b"acked")])
    run.kafka.wait(500)
    leader, isr = _leader_and_isr(run, topic)
    first, second = [b for b in isr if b != leader]
    roles = {leader: "leader", first: "first", second: "second", -1: "none"}
    out = {}
    try:
        run.kafka.stop_broker(first, clean=True)
        run.kafka.stop_broker(second, clean=True)
        out["isr_after_both_followers"] = [roles[b] for b in _partition(run, topic).isrs]
        run.kafka.stop_broker(leader, clean=True)          # no broker left to ask for metadata
        run.kafka.start_broker(first, wait=False)
        _wait(run, lambda: _answers(run) and first in _metadata(run).brokers)
        run.kafka.wait(1000)                # the controller has registered it: would it elect it?
        p = _partition(run, topic)
        out["offline"] = (p.leader, list(p.isrs))
        out["first_back_leads"] = p.leader == first
        run.kafka.start_broker(second, wait=False)
        _wait(run, lambda: _partition(run, topic).leader >= 0)
        out["leader_after_second"] = roles[_partition(run, topic).leader]
    finally:
        _restore(run, [first, second, leader])
    out["log"] = _values(run, topic)
    return out


# -- a follower that missed records ------------------------------------------------------------------------
def _check_catch_up(real):
    assert real["leader_after"] == "restarted" and real["isr_after"] == ["restarted"]
    assert real["log"] == ["after-%d" % i for i in range(10)] + ["before"]


@campaign.scenario(check=_check_catch_up)
def restarted_follower_catches_up_and_can_lead(run):
    """A follower shuts down, records are written without it, and it starts again: it fetches what it
    missed and rejoins the ISR, so when the other two brokers then shut down it leads, alone in the ISR,
    with every record."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({"acks": "all"})
    produce(producer, topic, [(None, b"before")])
    leader, isr = _leader_and_isr(run, topic)
    follower = next(b for b in isr if b != leader)
    others = [b for b in isr if b != follower]
    out = {}
    try:
        run.kafka.stop_broker(follower, clean=True)
        produce(producer, topic, [(None, b"after-%d" % i) for i in range(10)])
        run.kafka.start_broker(follower)                  # returns once it is back in the ISR
        for b in others:
            run.kafka.stop_broker(b, clean=True)
        p = _partition(run, topic)
        roles = {follower: "restarted", -1: "none"}
        out["leader_after"] = roles.get(p.leader, "other")
        out["isr_after"] = [roles.get(b, "other") for b in p.isrs]
        out["log"] = _values(run, topic)
    finally:
        _restore(run, [follower] + others)
    return out
