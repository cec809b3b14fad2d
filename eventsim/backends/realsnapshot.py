"""The snapshot of a real Kafka cluster, built with confluent-kafka's ``AdminClient``.

It has the same shape as the simulator's ``cluster.snapshot()`` (docs/architecture.md, "The snapshot"),
so the widgets draw a real cluster exactly as they draw a simulated one. Every value comes from a Kafka
request a client is allowed to make:

* ``Metadata`` (``list_topics``): brokers, topics, each partition's leader, replicas and ISR.
* ``ListOffsets`` (``list_offsets``): log start offset (earliest), high watermark (latest,
  read_uncommitted), last stable offset (latest, read_committed), and the leader epoch the broker reports
  with the latest offset (the epoch of the newest record batch: ``None`` while a partition is empty).
* ``DescribeConfigs``: the topic configs the course talks about
  (:data:`eventsim.snapshot.SNAPSHOT_TOPIC_CONFIGS`).
* ``ListGroups`` / ``DescribeGroups`` / ``OffsetFetch``: consumer groups, members, committed offsets, lag.

What no client request reveals is ``None``: ``time_ms`` (real Kafka has no virtual clock), the leader's
``log_end_offset`` and the followers' ``replica_log_end_offsets`` (brokers keep those to themselves), and a
classic group's ``generation``. In KRaft the Metadata response names a random broker as "controller", so
``controller`` is ``None`` unless the backend knows the active controller (the local backend reads it from
the brokers' ``quorum-state`` files).
"""
from __future__ import annotations

import time

from confluent_kafka import (Consumer, ConsumerGroupTopicPartitions, IsolationLevel, KafkaError, KafkaException,
                             TopicPartition)
from confluent_kafka.admin import ConfigResource, OffsetSpec

from ..snapshot import SNAPSHOT_TOPIC_CONFIGS, show_bytes

#: Kafka's group states as the broker names them (``ConsumerGroupState`` enum member -> name).
_GROUP_STATES = {
    "UNKNOWN": "Unknown", "PREPARING_REBALANCING": "PreparingRebalance",
    "COMPLETING_REBALANCING": "CompletingRebalance", "STABLE": "Stable", "DEAD": "Dead", "EMPTY": "Empty",
    "ASSIGNING": "Assigning", "RECONCILING": "Reconciling",
}

DEFAULT_TIMEOUT = 10.0
#: The request timeout of a snapshot while the backend has paused a broker (seconds).
PAUSED_TIMEOUT = 2.0


def is_internal(topic):
    """Kafka's internal topics (``__consumer_offsets``, ``__transaction_state``, ...) start with ``__``."""
    return topic.startswith("__")


def fresh_admin(client_conf):
    """A new AdminClient for one snapshot.

    A new client starts from current metadata: one kept across a broker crash may still route group
    requests to the dead coordinator, and librdkafka 2.16 can abort the process
    (``rd_kafka_enq_once_del_source_return``) when such a request is retried while it times out.
    """
    from confluent_kafka.admin import AdminClient
    conf = dict(client_conf)
    conf.update({"log_level": 0, "socket.connection.setup.timeout.ms": 5000})
    return AdminClient(conf)


def _results(futures, timeout):
    """Wait for a dict of admin futures: ``{key: result}``, and ``{key: exception}`` for the failed ones."""
    out, failed = {}, {}
    for key, future in futures.items():
        try:
            out[key] = future.result(timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - one offline partition must not hide the rest of the cluster
            failed[key] = exc
    return out, failed


def _retriable(exc):
    err = exc.args[0] if isinstance(exc, KafkaException) and exc.args else None
    return isinstance(err, KafkaError) and (err.retriable() or err.code() in RETRY_CODES)


#: Errors a cluster answers for a moment after a leader or coordinator moved: worth asking again.
RETRY_CODES = frozenset({
    KafkaError.LEADER_NOT_AVAILABLE, KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.OFFSET_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError.NOT_COORDINATOR,
    KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._TRANSPORT, KafkaError._TIMED_OUT,
})

#: How long a snapshot keeps asking again while the cluster settles after a failover (seconds).
SETTLE_SECONDS = 5.0


def _with_retries(send, keys, timeout):
    """``send(keys) -> {key: future}``, asked again for keys that failed with a retriable error.

    Right after a failover the new leader answers ``OFFSET_NOT_AVAILABLE`` until its high watermark has
    caught up (KIP-207) and a new group coordinator answers ``COORDINATOR_LOAD_IN_PROGRESS``; a moment
    later the same request succeeds. Keys still failing after :data:`SETTLE_SECONDS` map to ``None``.
    """
    results, pending = {}, list(keys)
    deadline = time.monotonic() + SETTLE_SECONDS
    while pending:
        done, failed = _results(send(pending), timeout)
        results.update(done)
        pending = [k for k, exc in failed.items() if _retriable(exc)]
        results.update({k: None for k in failed if k not in pending})
        if pending and time.monotonic() > deadline:
            results.update(dict.fromkeys(pending))
            break
        if pending:
            time.sleep(0.2)
    return results


class _Names:
    """Maps real topic / group names to the ones shown, for a namespaced (shared) cluster.

    With ``prefix="alice."`` only ``alice.*`` topics and groups are shown, without the prefix.
    """

    def __init__(self, prefix=""):
        self.prefix = prefix or ""

    def visible(self, name):
        return name.startswith(self.prefix)

    def shown(self, name):
        return name[len(self.prefix):] if self.prefix and name.startswith(self.prefix) else name


def list_offsets(admin, partitions, spec, *, committed=False, timeout=DEFAULT_TIMEOUT):
    """``ListOffsets`` for many partitions: {(topic, partition): ListOffsetsResultInfo or None}."""
    if not partitions:
        return {}
    level = IsolationLevel.READ_COMMITTED if committed else IsolationLevel.READ_UNCOMMITTED

    def send(keys):
        futures = admin.list_offsets({TopicPartition(t, p): spec for t, p in keys}, isolation_level=level,
                                     request_timeout=timeout)
        return {(tp.topic, tp.partition): f for tp, f in futures.items()}
    return _with_retries(send, partitions, timeout)


def topic_configs(admin, topics, timeout=DEFAULT_TIMEOUT):
    """``DescribeConfigs``: {topic: {config: effective value}} for ``SNAPSHOT_TOPIC_CONFIGS``."""
    if not topics:
        return {}
    def send(names):
        futures = admin.describe_configs([ConfigResource("TOPIC", t) for t in names], request_timeout=timeout)
        return {resource.name: f for resource, f in futures.items()}
    out = {}
    for name, entries in _with_retries(send, topics, timeout).items():
        entries = entries or {}
        out[name] = {k: entries[k].value if k in entries else None for k in SNAPSHOT_TOPIC_CONFIGS}
    return out


def _offset(info):
    return None if info is None or info.offset < 0 else info.offset


def _epoch(info):
    epoch = None if info is None else getattr(info, "leader_epoch", None)
    return None if epoch is None or epoch < 0 else epoch


def build_topics(admin, metadata, names, *, include_internal, timeout=DEFAULT_TIMEOUT, frozen=()):
    """The ``topics`` list of the snapshot, sorted by name, partitions sorted by number. Partitions led
    by a ``frozen`` (paused) broker are not asked about: it would not answer (their offsets are ``None``)."""
    alive = set(metadata.brokers)
    wanted = sorted(t for t in metadata.topics
                    if names.visible(t) and (include_internal or not is_internal(t)))
    parts = [(t, p) for t in wanted for p, pm in metadata.topics[t].partitions.items() if pm.leader not in frozen]
    earliest = list_offsets(admin, parts, OffsetSpec.earliest(), timeout=timeout)
    latest = list_offsets(admin, parts, OffsetSpec.latest(), timeout=timeout)
    stable = list_offsets(admin, parts, OffsetSpec.latest(), committed=True, timeout=timeout)
    configs = topic_configs(admin, wanted, timeout=timeout)
    topics = []
    for t in wanted:
        partitions = []
        for p, pm in sorted(metadata.topics[t].partitions.items()):
            replicas = list(pm.replicas)
            partitions.append({
                "partition": p,
                "leader": pm.leader,
                "leader_epoch": _epoch(latest.get((t, p))),
                "replicas": replicas,
                "isr": sorted(pm.isrs),
                "offline_replicas": [r for r in replicas if r not in alive],
                "log_start_offset": _offset(earliest.get((t, p))),
                "high_watermark": _offset(latest.get((t, p))),
                "log_end_offset": None,
                "last_stable_offset": _offset(stable.get((t, p))),
                "replica_log_end_offsets": [None] * len(replicas),
                "records": None,
            })
        topics.append({"name": names.shown(t), "internal": is_internal(t),
                       "config": configs.get(t, dict.fromkeys(SNAPSHOT_TOPIC_CONFIGS)), "partitions": partitions})
    return topics


def build_groups(admin, names, high_watermarks, timeout=DEFAULT_TIMEOUT):
    """The ``groups`` list: state, members and their assignment, committed offsets and lag."""
    ids = sorted(g for g in _group_ids(admin, timeout) if names.visible(g))
    if not ids:
        return []
    descriptions = _with_retries(lambda keys: admin.describe_consumer_groups(keys, request_timeout=timeout),
                                 ids, timeout)
    groups = []
    for gid in ids:
        desc = descriptions.get(gid)
        offsets = _committed(admin, gid, names, high_watermarks, timeout)
        lags = [o["lag"] for o in offsets if o["lag"] is not None]
        groups.append({
            "group_id": names.shown(gid),
            "state": _GROUP_STATES.get(getattr(getattr(desc, "state", None), "name", "UNKNOWN"), "Unknown"),
            "protocol": (getattr(desc, "partition_assignor", None) or None) if desc else None,
            "generation": None,
            "members": sorted((_member(m, names) for m in (desc.members if desc else [])),
                              key=lambda m: m["member_id"]),
            "offsets": offsets,
            "total_lag": sum(lags),
        })
    return groups


def _group_ids(admin, timeout):
    """``ListGroups`` on every broker; asked again (for a few seconds) while a broker answers with an error,
    e.g. a coordinator still loading its groups after a failover. A broker that does not answer at all (a
    paused one) leaves its groups out once the request times out."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        try:
            listing = admin.list_consumer_groups(request_timeout=timeout).result(timeout=timeout + 5)
        except Exception:  # noqa: BLE001 - no broker answered in time: no groups to show
            return []
        if not listing.errors or time.monotonic() > deadline:
            return [g.group_id for g in listing.valid]
        time.sleep(0.2)


def _member(member, names):
    tps = member.assignment.topic_partitions if member.assignment else []
    return {"member_id": member.member_id, "client_id": member.client_id,
            "assignment": sorted([names.shown(tp.topic), tp.partition] for tp in tps)}


def _committed(admin, gid, names, high_watermarks, timeout):
    """``OffsetFetch`` for one group, with each partition's high watermark and the lag behind it."""
    result = _with_retries(lambda keys: admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(k) for k in keys], request_timeout=timeout), [gid], timeout).get(gid)
    rows = []
    for tp in (result.topic_partitions if result else []):
        if tp.offset < 0 or not names.visible(tp.topic):
            continue
        hw = high_watermarks.get((tp.topic, tp.partition))
        if hw is None:
            hw = _offset(list_offsets(admin, [(tp.topic, tp.partition)], OffsetSpec.latest(),
                                      timeout=timeout).get((tp.topic, tp.partition)))
        rows.append({"topic": names.shown(tp.topic), "partition": tp.partition, "committed": tp.offset,
                     "high_watermark": hw, "lag": None if hw is None else max(0, hw - tp.offset)})
    return sorted(rows, key=lambda r: (r["topic"], r["partition"]))


def read_last_records(client_conf, topics, names, max_records, timeout=DEFAULT_TIMEOUT):
    """The last ``max_records`` records of each partition, read with a throw-away assigned consumer.

    Fills ``partition["records"]`` in place as ``{"offset", "key", "value", "timestamp", "headers"}``.
    """
    conf = dict(client_conf)
    conf.update({"group.id": names.prefix + "eventsim-snapshot", "enable.auto.commit": False,
                 "enable.partition.eof": True, "isolation.level": "read_uncommitted", "log_level": 0})
    consumer = Consumer(conf)
    try:
        wanted = {}
        for topic in topics:
            for part in topic["partitions"]:
                part["records"] = []
                hw, start = part["high_watermark"], part["log_start_offset"]
                if hw is None or start is None or hw <= start:
                    continue
                real = names.prefix + topic["name"]
                wanted[(real, part["partition"])] = (part, hw, max(start, hw - max_records))
        if not wanted:
            return
        consumer.assign([TopicPartition(t, p, first) for (t, p), (_, _, first) in wanted.items()])
        _drain(consumer, wanted, timeout)
    finally:
        consumer.close()


def records_until_eof(consumer, pending, timeout):
    """Yield the consumer's records until every ``(topic, partition)`` in the set ``pending`` has reported
    partition EOF (it is emptied as they do; a caller may discard keys too), or ``timeout`` seconds passed.
    Needs ``enable.partition.eof``."""
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                pending.discard((msg.topic(), msg.partition()))
            continue
        yield msg


def _drain(consumer, wanted, timeout):
    """Poll until every wanted partition reached its high watermark (or ``timeout`` seconds passed)."""
    pending = set(wanted)
    for msg in records_until_eof(consumer, pending, timeout):
        key = (msg.topic(), msg.partition())
        part, hw, _ = wanted[key]
        if msg.offset() < hw:
            ts = msg.timestamp()[1]
            part["records"].append({
                "offset": msg.offset(), "key": show_bytes(msg.key()), "value": show_bytes(msg.value()),
                "timestamp": ts if ts >= 0 else None,
                "headers": [[k, show_bytes(v)] for k, v in (msg.headers() or [])]})
        if msg.offset() + 1 >= hw:
            pending.discard(key)


def snapshot(admin, *, backend, client_conf, known_brokers=None, controller=None, controllers=(),
             paused=(), records=False, max_records=20, include_internal=False, namespace="",
             timeout=DEFAULT_TIMEOUT):
    """The snapshot dict of a real cluster.

    ``known_brokers``: ``[(id, host, port)]`` the backend started (so a stopped broker is listed with
    ``alive: False``); without it, the brokers in the Metadata response are listed, all alive.
    ``controller``: the active KRaft controller's id, ``controllers``: ``[{"id", "alive", "active"}]`` of
    the quorum, as the backend knows them (an external cluster does not say: ``None`` and ``[]``);
    ``paused``: the broker ids the backend has frozen.
    ``namespace``: show only topics and groups with this prefix, without it (shared clusters).
    """
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise KafkaException(exc.args[0]) from None
    names = _Names(namespace)
    if paused:        # a frozen broker answers nothing: ask with a short timeout and do not insist
        timeout = min(timeout, PAUSED_TIMEOUT)
    alive = {b.id: b for b in metadata.brokers.values()}
    if known_brokers is None:
        known_brokers = [(b.id, b.host, b.port) for b in alive.values()]
    brokers = [{"id": i, "host": h, "port": p, "alive": i in alive, "paused": i in paused}
               for i, h, p in sorted(known_brokers)]
    topics = build_topics(admin, metadata, names, include_internal=include_internal, timeout=timeout,
                          frozen=set(paused))
    hws = {(names.prefix + t["name"], p["partition"]): p["high_watermark"]
           for t in topics for p in t["partitions"]}
    groups = build_groups(admin, names, hws, timeout=timeout)
    if records:
        read_last_records(client_conf, topics, names, max_records, timeout=timeout)
    return {"backend": backend, "cluster_id": metadata.cluster_id, "time_ms": None,
            "controller": controller, "controllers": list(controllers), "brokers": brokers, "topics": topics,
            "groups": groups}
