"""Seeded fault schedules and a checker for lost, duplicated and reordered records.

In the spirit of Kafka's replication system tests and of Jepsen: a producer writes numbered records
while a random but *seeded* schedule crashes and restarts brokers, slows them down, cuts them off and
loses produce responses. Every acknowledged record is remembered. At the end the network heals, every
broker comes back, and the checker reads each partition up to its high watermark and reports:

* **lost**: acknowledged (delivery report without error) but not in the log;
* **duplicated**: in the log more than once;
* **reordered**: within a partition, a record that appears after one the producer sent later.

``run_schedule(seed, ...)`` runs one schedule; the same seed gives the same schedule and the same report.
What to expect (and what the tests check): ``acks=all`` with replication factor 3 and
``min.insync.replicas=2`` never loses an acknowledged record; ``acks=1`` with unclean leader election
loses some; ``enable.idempotence=true`` removes the duplicates that retries create.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from .cluster import Cluster
from .producer import Producer

TOPIC = "checked"


@dataclass
class Fault:
    at_step: int
    kind: str          # crash | restart | clean_stop | slow | isolate | heal | drop_response
    broker: int = -1
    partition: int = -1
    amount: int = 0

    def apply(self, cluster):
        """Apply this fault if it still makes sense (a crash of a stopped broker is skipped)."""
        alive = cluster.broker_alive(self.broker) if self.broker > 0 else None
        if self.kind == "crash" and alive:
            cluster.stop_broker(self.broker, wait=False)
        elif self.kind == "clean_stop" and alive:
            cluster.stop_broker(self.broker, clean=True)
        elif self.kind == "restart" and alive is False:
            cluster.start_broker(self.broker, wait=False)
        elif self.kind == "slow":
            cluster.slow_broker(self.broker, self.amount)
        elif self.kind == "isolate" and alive:
            cluster.isolate_broker(self.broker)
        elif self.kind == "heal":
            cluster.heal_network()
        elif self.kind == "drop_response":
            cluster.network.drop_produce_responses(TOPIC, self.partition, self.amount)
        else:
            return False
        return True


def random_schedule(seed, brokers=3, partitions=3, steps=60, fault_rate=0.25, kinds=None):
    """A seeded list of faults over ``steps`` workload steps."""
    rng = random.Random(seed)
    kinds = kinds or ("crash", "restart", "restart", "clean_stop", "slow", "heal", "drop_response")
    out = []
    for step in range(steps):
        if rng.random() >= fault_rate:
            continue
        kind = rng.choice(kinds)
        out.append(Fault(at_step=step, kind=kind, broker=rng.randint(1, brokers),
                         partition=rng.randrange(partitions),
                         amount=rng.choice((20, 200, 2000)) if kind == "slow" else rng.randint(1, 3)))
    return out


@dataclass
class Report:
    """What the checker found for one run."""
    seed: int
    sent: int = 0
    acknowledged: int = 0
    failed: int = 0
    lost: list = field(default_factory=list)
    duplicated: list = field(default_factory=list)
    reordered: list = field(default_factory=list)
    faults_applied: list = field(default_factory=list)

    @property
    def ok(self):
        return not (self.lost or self.duplicated or self.reordered)

    def summary(self):
        return (f"seed {self.seed}: {self.sent} sent, {self.acknowledged} acknowledged, {self.failed} failed; "
                f"{len(self.lost)} lost, {len(self.duplicated)} duplicated, {len(self.reordered)} reordered "
                f"({len(self.faults_applied)} faults)")


def check_logs(acked, logs):
    """Compare acknowledged sequence numbers with the final logs.

    ``acked``: set of sequence numbers whose delivery succeeded. ``logs``: partition -> list of sequence
    numbers in offset order. Returns ``(lost, duplicated, reordered)`` as sorted lists of sequence numbers.
    """
    seen = {}
    reordered = []
    for partition in sorted(logs):
        highest = -1
        first_seen = set()
        for seq in logs[partition]:
            seen[seq] = seen.get(seq, 0) + 1
            if seq in first_seen:
                continue
            first_seen.add(seq)
            if seq < highest:
                reordered.append(seq)
            highest = max(highest, seq)
    lost = sorted(s for s in acked if s not in seen)
    duplicated = sorted(s for s, n in seen.items() if n > 1)
    return lost, duplicated, sorted(reordered)


def final_logs(cluster, topic=TOPIC):
    """Each partition's records below the high watermark, as sequence numbers in offset order."""
    out = {}
    for part in cluster.topics[topic].partitions:
        leader = part.leader_replica or part._most_advanced_replica()
        records = leader.log.read(leader.log.log_start_offset, max_offset=leader.high_watermark)
        out[part.index] = [int(r.value) for r in records if r.control is None]
    return out


def run_schedule(seed, acks="all", min_insync=2, unclean=False, idempotence=False, max_in_flight=5,
                 steps=60, per_step=4, partitions=3, faults=None):
    """Run the workload under a seeded fault schedule and check the result."""
    rng = random.Random(seed ^ 0x5EED)
    cluster = Cluster(brokers=3, seed=seed)
    err = cluster.create_topic(TOPIC, partitions, 3, {"min.insync.replicas": str(min_insync),
                                                      "unclean.leader.election.enable": str(unclean).lower()})
    assert err is None, err
    producer = Producer({"bootstrap.servers": cluster.bootstrap_servers, "acks": acks,
                         "enable.idempotence": idempotence, "linger.ms": 2, "request.timeout.ms": 3000,
                         "delivery.timeout.ms": 60000, "retry.backoff.ms": 50,
                         "max.in.flight.requests.per.connection": max_in_flight})
    schedule = faults if faults is not None else random_schedule(seed, partitions=partitions, steps=steps)
    report = Report(seed=seed)
    acked = set()

    def on_delivery(err, msg):
        if err is None:
            acked.add(int(msg.value()))
        else:
            report.failed += 1

    by_step = {}
    for f in schedule:
        by_step.setdefault(f.at_step, []).append(f)
    seq = 0
    for step in range(steps):
        for f in by_step.get(step, []):
            if f.apply(cluster):
                report.faults_applied.append(f)
        for _ in range(per_step):
            producer.produce(TOPIC, value=str(seq).encode(), key=f"k{seq % 7}".encode(), on_delivery=on_delivery)
            seq += 1
        producer.poll(rng.choice((0.001, 0.005, 0.02, 0.2, 1.0)))
    cluster.heal_network()
    for b in sorted(cluster.brokers):
        if not cluster.broker_alive(b):
            cluster.start_broker(b, wait=False)
    producer.flush(120)
    cluster.advance(60000)
    report.sent = seq
    report.acknowledged = len(acked)
    report.lost, report.duplicated, report.reordered = check_logs(acked, final_logs(cluster))
    return report
