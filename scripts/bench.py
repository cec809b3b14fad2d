#!/usr/bin/env python3
"""How fast is the simulator compared with real Kafka? One run, the same workloads on both.

    make bench                                   # sets up .venv and the Kafka jars first
    .venv/bin/python scripts/bench.py --records 20000

Each workload is the same client code (the confluent-kafka API) run on a simulated cluster of the course
shape (``eventsim.connect("sim")``: 3 brokers, 3 controllers) and on a real one started for this run
(``eventsim.connect("local")``: 3 brokers and 3 dedicated KRaft controllers, JVM processes on this
machine). The real cluster's start time (process spawn to all brokers registered) is reported too, next to
the start time of the same shape in Docker containers (``eventsim.connect("testcontainers")``) where a Docker
engine and a Kafka image are there (``make kafka-image``); ``--no-docker`` leaves that out.

* ``produce``: produce ``--records`` records (100-byte values, 6 partitions, RF 3) with ``acks=all`` and
  ``flush()``;
* ``consume``: a consumer group of one subscribes (the group join is included) and reads them all back;
* ``failover``: crash the leader of a partition (RF 3, ``min.insync.replicas=2``) holding ``--failover-records``
  acknowledged records, then read until every one of them is readable from the new leader;
* ``create_topics``: create 20 topics (3 partitions, RF 3) in one ``create_topics()`` call.

For each it reports the wall-clock seconds on both, the ratio sim/real (below 1: the simulator is faster),
and the simulator's *virtual* seconds for the same work: how long the simulated cluster says it took (for
the failover that is dominated by ``broker.session.timeout.ms``, as on real Kafka). The table is printed and
the numbers are written as JSON to ``bench-results/``. Timings vary from run to run and machine to machine;
only ratios from one run are meaningful, and nothing in the test suite depends on them.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import eventsim  # noqa: E402
from eventsim.backends import BackendUnavailable  # noqa: E402

MAX_POLLS = 3000
POLL_S = 0.1


# -- a little harness that runs the same code on both backends -------------------------------------------
class Target:
    """A backend handle, its client library's classes, and (on the simulator) its virtual clock."""

    def __init__(self, kafka):
        self.kafka = kafka
        if kafka.backend == "sim":
            from eventsim import NewTopic, TopicPartition
            from eventsim.message import OFFSET_BEGINNING
        else:
            from confluent_kafka import OFFSET_BEGINNING, TopicPartition
            from confluent_kafka.admin import NewTopic
        self.NewTopic, self.TopicPartition, self.OFFSET_BEGINNING = NewTopic, TopicPartition, OFFSET_BEGINNING
        self.topics = []

    @property
    def virtual_ms(self):
        cluster = getattr(self.kafka, "cluster", None)
        return cluster.clock.now_ms if cluster is not None else None

    def name(self, prefix):
        return "bench-%s-%s" % (prefix, uuid.uuid4().hex[:8])

    def admin(self):
        return self.kafka.admin({"log_level": 0} if self.kafka.backend != "sim" else {})

    def create_topics(self, names, partitions, replication_factor=3, config=None):
        admin = self.admin()                    # kept alive until the results are in
        futures = admin.create_topics(
            [self.NewTopic(n, partitions, replication_factor, config=dict(config or {})) for n in names],
            operation_timeout=60)
        for future in futures.values():
            future.result(timeout=120)
        self.topics.extend(names)
        self.wait_for_leaders(names, partitions)

    def wait_for_leaders(self, names, partitions):
        """Until the metadata shows a leader for every partition of every topic (real brokers learn a new
        topic a moment after the controller committed it)."""
        admin = self.admin()
        for _ in range(MAX_POLLS):
            topics = admin.list_topics(timeout=10).topics
            if all(n in topics and len(topics[n].partitions) == partitions
                   and all(p.leader >= 0 for p in topics[n].partitions.values()) for n in names):
                return
            time.sleep(0.05)
        raise RuntimeError("topics %s did not get leaders" % names)

    def leader(self, topic, partition=0):
        return self.admin().list_topics(topic, timeout=10).topics[topic].partitions[partition].leader

    def cleanup(self):
        if self.topics:
            admin = self.admin()
            for future in admin.delete_topics(self.topics, operation_timeout=60).values():
                try:
                    future.result(timeout=60)
                except Exception:  # noqa: BLE001 - best effort; the cluster is thrown away afterwards
                    pass
            self.topics = []


def produce_all(producer, topic, n, prefix="r"):
    """Produce ``n`` records and flush; the values of the acknowledged ones, in delivery-report order."""
    acked, failed = [], []
    pad = b"." * 90

    def on_delivery(err, msg):
        (failed if err else acked).append(err or msg.value())
    for i in range(n):
        while True:
            try:
                producer.produce(topic, key=b"k%d" % (i % 1000), value=b"%s-%08d" % (prefix.encode(), i) + pad,
                                 on_delivery=on_delivery)
                break
            except BufferError:                      # the local queue is full: serve delivery reports
                producer.poll(0.1)
        if i % 1000 == 0:
            producer.poll(0)
    left = producer.flush(120)
    if left or failed:
        raise RuntimeError("%d undelivered, %d failed (first: %s)" % (left, len(failed), failed[:1]))
    return acked


def read_values(target, topic, partitions, expected, group):
    """Read ``topic`` from the beginning (assign) until ``expected`` records have arrived."""
    consumer = target.kafka.Consumer({"group.id": group, "enable.auto.commit": False})
    consumer.assign([target.TopicPartition(topic, p, target.OFFSET_BEGINNING) for p in range(partitions)])
    values = []
    try:
        for _ in range(MAX_POLLS):
            for msg in consumer.consume(1000, POLL_S):
                if not msg.error():
                    values.append(msg.value())
            if len(values) >= expected:
                return values
        raise RuntimeError("read %d of %d records of %s" % (len(values), expected, topic))
    finally:
        consumer.close()


# -- the workloads ----------------------------------------------------------------------------------------
# Each gets a Target and the run's options, does untimed setup, then returns (seconds, virtual ms, details)
# of its timed part.
def timed(target, fn):
    v0, t0 = target.virtual_ms, time.perf_counter()
    details = fn()
    seconds = time.perf_counter() - t0
    v1 = target.virtual_ms
    return seconds, (None if v0 is None else v1 - v0), details


def workload_produce_and_consume(target, opts):
    topic = target.name("records")
    target.create_topics([topic], partitions=6)
    producer = target.kafka.Producer({"acks": "all", "linger.ms": 5})
    produce = timed(target, lambda: len(produce_all(producer, topic, opts.records)))
    group = target.name("group")
    consumer = target.kafka.Consumer({"group.id": group, "auto.offset.reset": "earliest",
                                      "enable.auto.commit": True})

    def consume():
        consumer.subscribe([topic])
        count = 0
        for _ in range(MAX_POLLS):
            count += sum(1 for m in consumer.consume(1000, POLL_S) if not m.error())
            if count >= opts.records:
                return count
        raise RuntimeError("consumed %d of %d" % (count, opts.records))
    try:
        consumed = timed(target, consume)
    finally:
        consumer.close()
    return {"produce": produce, "consume": consumed}


def workload_failover(target, opts):
    topic = target.name("failover")
    target.create_topics([topic], partitions=1, config={"min.insync.replicas": "2"})
    producer = target.kafka.Producer({"acks": "all", "enable.idempotence": True, "linger.ms": 5})
    acked = produce_all(producer, topic, opts.failover_records)
    leader = target.leader(topic)

    def failover():
        target.kafka.stop_broker(leader, wait=False)            # a crash (SIGKILL), nobody waits for it
        values = read_values(target, topic, 1, len(acked), target.name("reader"))
        if values[:len(acked)] != acked:
            raise RuntimeError("acknowledged records missing or out of order after the failover")
        return {"old_leader": leader, "new_leader": target.leader(topic), "records": len(acked)}
    try:
        result = timed(target, failover)
    finally:
        target.kafka.start_broker(leader)
    return {"failover": result}


def workload_create_topics(target, opts):
    names = [target.name("many") for _ in range(20)]

    def create():
        target.create_topics(names, partitions=3)
        return {"topics": len(names)}
    return {"create_topics": timed(target, create)}


WORKLOADS = (workload_produce_and_consume, workload_failover, workload_create_topics)


# -- the run ----------------------------------------------------------------------------------------------
def measure(kafka, opts):
    target = Target(kafka)
    out = {}
    try:
        for workload in WORKLOADS:
            out.update(workload(target, opts))
    finally:
        target.cleanup()
    return out


def table(sim, real):
    rows = [("workload", "sim wall s", "real wall s", "sim/real", "sim virtual s")]
    for name in sim:
        s, r = sim[name][0], real[name][0]
        virtual = sim[name][1]
        rows.append((name, "%.3f" % s, "%.3f" % r, "%.3f" % (s / r) if r else "-",
                     "%.3f" % (virtual / 1000) if virtual is not None else "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def docker_start_time():
    """Seconds from ``connect("testcontainers")`` to all brokers registered, or None (said why) where Docker or
    its image is missing."""
    print("real Kafka in Docker: starting 3 brokers and 3 controllers in containers ...", flush=True)
    t0 = time.perf_counter()
    try:
        with eventsim.connect("testcontainers", brokers=3, controllers=3, quiet=True) as docker:
            elapsed = time.perf_counter() - t0
            print("  up in %.1f s (%s)" % (elapsed, docker.where()), flush=True)
            return elapsed
    except BackendUnavailable as exc:
        print("  not timed: %s" % exc, flush=True)
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20000, help="records to produce and consume")
    parser.add_argument("--failover-records", type=int, default=2000, help="acknowledged records before the crash")
    parser.add_argument("--seed", type=int, default=0, help="the simulated cluster's seed")
    parser.add_argument("--no-docker", action="store_true", help="do not time the course shape in Docker")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results", help="directory for the JSON result")
    opts = parser.parse_args(argv)

    print("simulator: 3 brokers, 3 controllers, seed %d ..." % opts.seed, flush=True)
    sim = measure(eventsim.connect("sim", brokers=3, controllers=3, seed=opts.seed), opts)
    print("real Kafka: starting 3 local brokers and 3 controllers ...", flush=True)
    t0 = time.perf_counter()
    try:
        local = eventsim.connect("local", brokers=3, controllers=3, quiet=True)
    except BackendUnavailable as exc:          # no Java or no jars: say what to install, no half a table
        print("make bench needs real Kafka to compare with: %s" % exc, file=sys.stderr)
        return 2
    with local:
        startup = time.perf_counter() - t0
        print("  up in %.1f s (%s)" % (startup, local.where()), flush=True)
        real = measure(local, opts)
        version = local.kafka_version

    docker_startup = None if opts.no_docker else docker_start_time()
    print()
    print(table(sim, real))
    print("\n(%d records of ~100 bytes; real Kafka %s, 3 brokers + 3 controllers, started in %.1f s as JVM "
          "processes%s, not counted above)" % (opts.records, version, startup,
                                               "" if docker_startup is None else
                                               " and in %.1f s in Docker containers" % docker_startup))
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": __import__("os").cpu_count()},
        "options": {"records": opts.records, "failover_records": opts.failover_records, "seed": opts.seed},
        "kafka_version": version, "real_startup_s": round(startup, 3),
        "docker_startup_s": None if docker_startup is None else round(docker_startup, 3),
        "workloads": {name: {"sim_wall_s": round(sim[name][0], 4), "real_wall_s": round(real[name][0], 4),
                             "sim_over_real": round(sim[name][0] / real[name][0], 4) if real[name][0] else None,
                             "sim_virtual_s": None if sim[name][1] is None else sim[name][1] / 1000,
                             "sim_details": sim[name][2], "real_details": real[name][2]}
                      for name in sim},
    }
    opts.out.mkdir(parents=True, exist_ok=True)
    path = opts.out / ("bench-%s.json" % time.strftime("%Y%m%d-%H%M%S"))
    path.write_text(json.dumps(result, indent=2) + "\n")
    print("written to %s" % path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
