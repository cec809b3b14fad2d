"""The cluster snapshot: one plain, JSON-able picture of a cluster that every backend provides.

The simulator builds it from its own state (``build_sim_snapshot``); the real-Kafka backends build the
same shape with the AdminClient (``eventsim.backends``). Widgets draw only this, so the same view shows a
simulated and a real failover. The schema is documented in ``docs/architecture.md``; ``SNAPSHOT_KEYS``
below lists the keys at each level and ``validate_snapshot`` checks a snapshot against them.

Fields a backend cannot know are ``None`` (for example per-replica log-end offsets on real Kafka).
"""
from __future__ import annotations

import json

# Topic configs shown in a snapshot: the ones the course talks about.
SNAPSHOT_TOPIC_CONFIGS = ("cleanup.policy", "min.insync.replicas", "retention.bytes", "retention.ms",
                          "unclean.leader.election.enable")

SNAPSHOT_KEYS = {
    "snapshot": ("backend", "cluster_id", "time_ms", "controller", "controllers", "brokers", "topics",
                 "groups"),
    "broker": ("id", "host", "port", "alive", "paused"),
    "controller": ("id", "alive", "active"),
    "topic": ("name", "internal", "config", "partitions"),
    "partition": ("partition", "leader", "leader_epoch", "replicas", "isr", "offline_replicas",
                  "log_start_offset", "high_watermark", "log_end_offset", "last_stable_offset",
                  "replica_log_end_offsets", "records"),
    "group": ("group_id", "state", "protocol", "generation", "members", "offsets", "total_lag"),
    "member": ("member_id", "client_id", "assignment"),
    "offset": ("topic", "partition", "committed", "high_watermark", "lag"),
}


def show_bytes(data):
    """Bytes as text where printable (UTF-8), else a short hex form; ``None`` stays ``None``."""
    if data is None:
        return None
    if isinstance(data, str):
        return data
    try:
        text = bytes(data).decode("utf-8")
        if text.isprintable():
            return text
    except UnicodeDecodeError:
        pass
    return "0x" + bytes(data[:16]).hex() + ("\u2026" if len(data) > 16 else "")


def record_view(rec):
    """One record as the snapshot shows it."""
    return {"offset": rec.offset, "key": show_bytes(rec.key), "value": show_bytes(rec.value),
            "timestamp": rec.timestamp,
            "headers": [[k, show_bytes(v)] for k, v in (rec.headers or [])]}


def check_max_records(max_records):
    """``max_records`` of ``snapshot(records=True, max_records=...)``: how many of the newest records of
    each partition to include, a whole number >= 0 (0: none)."""
    if isinstance(max_records, bool) or not isinstance(max_records, int):
        raise TypeError(f"max_records must be an int >= 0 (records per partition), got {max_records!r}")
    if max_records < 0:
        raise ValueError(f"max_records must be an int >= 0 (records per partition), got {max_records!r}")
    return max_records


def _partition_view(cluster, part, records, max_records):
    leader = part.leader_replica
    view = {
        "partition": part.index,
        "leader": part.leader,
        "leader_epoch": part.leader_epoch,
        "replicas": list(part.replicas),
        "isr": list(part.isr),
        "offline_replicas": [b for b in part.replicas if not cluster.broker_alive(b)],
        "log_start_offset": part.log_start_offset,
        "high_watermark": part.high_watermark,
        "log_end_offset": part.log_end_offset,
        "last_stable_offset": part.last_stable_offset,
        "replica_log_end_offsets": [part.replica[b].log_end_offset for b in part.replicas],
        "records": None,
    }
    if records:
        rep = leader or part._most_advanced_replica()
        end = rep.log_end_offset
        start = max(rep.log.log_start_offset, end - max_records)
        data = [r for r in rep.log.read(start) if r.control is None][-max_records:] if max_records else []
        view["records"] = [record_view(r) for r in data]
    return view


def build_sim_snapshot(cluster, records=False, max_records=20, include_internal=False):
    """Snapshot of a simulated ``Cluster``."""
    check_max_records(max_records)
    topics = []
    for name in sorted(cluster.topics):
        t = cluster.topics[name]
        if t.internal and not include_internal:
            continue
        topics.append({
            "name": name,
            "internal": t.internal,
            "config": {k: t.config_value(k) for k in SNAPSHOT_TOPIC_CONFIGS},
            "partitions": [_partition_view(cluster, p, records, max_records) for p in t.partitions],
        })
    return {
        "backend": "sim",
        "cluster_id": cluster.cluster_id,
        "time_ms": cluster.clock.elapsed_ms,
        "controller": cluster.quorum.active,
        "controllers": cluster.quorum.snapshot(),
        "brokers": [{"id": b.id, "host": b.host, "port": b.port, "alive": b.alive, "paused": b.paused}
                    for b in sorted(cluster.brokers.values(), key=lambda b: b.id)],
        "topics": topics,
        "groups": cluster.groups.snapshot(),
    }


def validate_snapshot(snap):
    """Raise ``ValueError`` naming the first missing or unexpected key; return the snapshot otherwise."""
    def check(obj, kind, where):
        keys = set(SNAPSHOT_KEYS[kind])
        have = set(obj)
        if have != keys:
            raise ValueError(f"{where}: expected keys {sorted(keys)}, got {sorted(have)}")

    check(snap, "snapshot", "snapshot")
    for b in snap["brokers"]:
        check(b, "broker", f"broker {b.get('id')}")
    for c in snap["controllers"]:
        check(c, "controller", f"controller {c.get('id')}")
    for t in snap["topics"]:
        check(t, "topic", f"topic {t.get('name')}")
        for p in t["partitions"]:
            check(p, "partition", f"{t['name']}-{p.get('partition')}")
    for g in snap["groups"]:
        check(g, "group", f"group {g.get('group_id')}")
        for m in g["members"]:
            check(m, "member", f"member {m.get('member_id')}")
        for o in g["offsets"]:
            check(o, "offset", f"offset {o}")
    json.dumps(snap)
    return snap


def to_json(snap):
    """Canonical JSON text of a snapshot (sorted keys): equal snapshots give byte-identical text."""
    return json.dumps(snap, sort_keys=True, separators=(",", ":"))
