"""Worked examples: the course's fraud detection, order enrichment, and a reference topology for
comparing backends.

Everything here is deterministic on the simulator: inputs come from ``random.Random(seed)`` and event times
are computed from the seed, never read from a clock.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from . import serdes
from .app import Clients, StreamsApp
from .topology import StreamBuilder
from .windows import hopping, tumbling

MERCHANTS = ("books", "coffee", "electronics", "groceries", "travel")


def generate_payments(producer, n, seed, topic="payments", cards=8, start_ms=1_000_000, mean_gap_ms=2_000,
                      late_every=15, late_by_ms=90_000):
    """Produce ``n`` card payments to ``topic`` and return them (as dicts, in production order).

    Key: the card id (``"card-03"``); value: JSON ``{"card", "amount", "merchant"}``; the message timestamp
    is the payment's event time. Event time moves forward by a seeded random gap (mean ``mean_gap_ms``);
    every ``late_every``-th payment is stamped ``late_by_ms`` in the past, as if it came from a terminal that
    was offline, so windows see out-of-order and late records. A few cards are "hot": they pay often and
    big. ``producer.flush()`` is called at the end.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be an int >= 0, got {n!r}")
    rng = random.Random(seed)
    hot = {f"card-{c:02d}" for c in rng.sample(range(cards), k=max(1, cards // 4))}
    now, out = start_ms, []
    for i in range(n):
        now += int(rng.expovariate(1 / mean_gap_ms)) + 1
        card = (rng.choice(sorted(hot)) if rng.random() < 0.4 else f"card-{rng.randrange(cards):02d}")
        amount = round(rng.uniform(50, 400) if card in hot else rng.uniform(1, 120), 2)
        ts = now - late_by_ms if late_every and i % late_every == late_every - 1 else now
        payment = {"card": card, "amount": amount, "merchant": rng.choice(MERCHANTS)}
        producer.produce(topic, key=card.encode(), value=serdes.json.serialize(payment), timestamp=max(1, ts))
        out.append(dict(payment, timestamp=max(1, ts)))
        if i % 500 == 499:
            producer.poll(0)
    producer.flush()
    return out


def _fraud_adder(max_count, max_total):
    def add(card, payment, agg):
        count, total = agg["count"] + 1, round(agg["total"] + payment["amount"], 2)
        flagged = count > max_count or total > max_total
        return {"count": count, "total": total, "flagged": flagged, "alert": flagged and not agg["flagged"]}
    return add


def fraud_detection_topology(payments_topic="payments", alerts_topic="fraud-alerts", max_count=5,
                             max_total=1000.0, window_ms=60_000, advance_ms=None, grace_ms=10_000,
                             store="fraud-windows"):
    """The topology: per card and window, count payments and sum amounts; when a window first goes over
    ``max_count`` payments or ``max_total`` in total, write one alert (JSON) to ``alerts_topic``.

    Returns ``(topology, windowed_table)``. Tumbling windows unless ``advance_ms`` is given (hopping).
    The alert is emitted when the threshold is crossed, not when the window closes (no ``suppress()``),
    so a window raises at most one alert however many payments follow.
    """
    builder = StreamBuilder()
    payments = builder.stream(payments_topic, key_serde=serdes.str, value_serde=serdes.json)
    windows = tumbling(window_ms, grace_ms) if advance_ms is None else hopping(window_ms, advance_ms, grace_ms)
    table = (payments.group_by_key()
             .windowed_by(windows)
             .aggregate(lambda: {"count": 0, "total": 0.0, "flagged": False, "alert": False},
                        _fraud_adder(max_count, max_total), name=store, value_serde=serdes.json))
    (table.to_stream()
     .filter(lambda wk, agg: agg is not None and agg["alert"])
     .map(lambda wk, agg: (wk.key, {"card": wk.key, "window_start": wk.window.start_ms,
                                    "window_end": wk.window.end_ms, "count": agg["count"], "total": agg["total"],
                                    "reason": "count" if agg["count"] > max_count else "amount"}))
     .to(alerts_topic, key_serde=serdes.str, value_serde=serdes.json))
    return builder.build(), table


@dataclass
class FraudRun:
    """What ``fraud_detection`` returns: inputs, alerts read back (read_committed), the app and its table."""
    payments: list
    alerts: list
    app: StreamsApp
    table: object
    late_records: list = field(default_factory=list)

    def windows_snapshot(self):
        return self.table.windows_snapshot(self.app, value_fn=fraud_window_text)

    def window_view(self, title="fraud windows"):
        return self.table.window_view(self.app, title=title, value_fn=fraud_window_text)


def fraud_window_text(agg):
    """A fraud window's aggregate, short: ``"3 payments, 412.50 (flagged)"``."""
    return f"{agg['count']} payments, {agg['total']:.2f}" + (" (flagged)" if agg["flagged"] else "")


def read_topic(consumer_factory, topic, group_id, key_serde=serdes.bytes, value_serde=serdes.bytes,
               timeout=10.0):
    """Every committed record of ``topic`` from the beginning, as ``(key, value, timestamp, partition)``
    (read_committed: aborted transactions are skipped). Stops at the end of every partition."""
    serdes.check_serde(key_serde, "read_topic(key_serde=...)")
    serdes.check_serde(value_serde, "read_topic(value_serde=...)")
    consumer = consumer_factory({"group.id": group_id, "auto.offset.reset": "earliest",
                                 "enable.auto.commit": False, "enable.partition.eof": True,
                                 "isolation.level": "read_committed"})
    consumer.subscribe([topic])
    out, ended, assigned = [], set(), None
    polls = 0
    while polls < timeout * 10:
        msg = consumer.poll(0.1)
        polls += 1
        if assigned is None and consumer.assignment():
            assigned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
        if msg is None:
            if assigned and ended >= assigned:
                break
            continue
        if msg.error():
            ended.add((msg.topic(), msg.partition()))
            if assigned and ended >= assigned:
                break
            continue
        ended.discard((msg.topic(), msg.partition()))
        out.append((key_serde.deserialize(msg.key(), "key"), value_serde.deserialize(msg.value(), "value"),
                    msg.timestamp()[1], msg.partition()))
    consumer.close()
    return out


def fraud_detection(kafka, n_payments=300, seed=0, max_count=5, max_total=1000.0, window_ms=60_000,
                    grace_ms=10_000, advance_ms=None, payments_topic="payments", alerts_topic="fraud-alerts",
                    application_id="fraud-detection", processing_guarantee="exactly_once_v2", partitions=3):
    """End to end: create the topics, generate ``n_payments`` seeded payments, run the fraud topology until
    it has caught up, and read the alerts back. ``kafka`` is a handle from ``eventsim.connect()``; the
    payments are stamped from its clock on (recent records, which ``retention.ms`` keeps).

    Returns a ``FraudRun`` (``.alerts``, ``.payments``, ``.app``, ``.table``, ``.window_view()``).
    """
    clients = Clients.from_handle(kafka)
    create_topics(clients, {payments_topic: {}, alerts_topic: {}}, partitions)
    producer = kafka.Producer({})
    payments = generate_payments(producer, n_payments, seed, topic=payments_topic, start_ms=kafka.now_ms)
    topology, table = fraud_detection_topology(payments_topic, alerts_topic, max_count, max_total, window_ms,
                                               advance_ms, grace_ms)
    app = StreamsApp(topology, {"application.id": application_id, "bootstrap.servers": kafka.bootstrap_servers,
                                "processing.guarantee": processing_guarantee}, clients=clients)
    app.run()
    alerts = read_topic(kafka.Consumer, alerts_topic, f"{application_id}-reader", serdes.str, serdes.json)
    return FraudRun(payments, [v for _, v, _, _ in alerts], app, table, list(app.late_records))


def create_topics(clients, topics, partitions, replication_factor=-1):
    """Create ``{name: config}`` topics that do not exist yet (``clients`` is a ``Clients``)."""
    existing = set(clients.admin.list_topics(timeout=10).topics)
    new = [clients.new_topic(name, partitions, replication_factor, dict(config))
           for name, config in sorted(topics.items()) if name not in existing]
    if new:
        for future in clients.admin.create_topics(new).values():
            future.result()


# -- order enrichment: a stream-table join -----------------------------------------------------------------

def order_enrichment_topology(orders_topic="orders", customers_topic="customers", output_topic="orders-enriched"):
    """Orders (key: order id, JSON with ``customer``) joined with the customers table (a compacted topic,
    key: customer id, JSON profile): each order gets its customer's ``name`` and ``tier``; orders of unknown
    customers go on with ``customer_known: false`` (a left join)."""
    builder = StreamBuilder()
    customers = builder.global_table(customers_topic, key_serde=serdes.str, value_serde=serdes.json,
                                     name="customers")
    orders = builder.stream(orders_topic, key_serde=serdes.str, value_serde=serdes.json)
    (orders.left_join(customers, lambda order, customer: dict(order, customer_known=customer is not None,
                                                              name=(customer or {}).get("name"),
                                                              tier=(customer or {}).get("tier")),
                      key_selector=lambda order_id, order: order["customer"])
     .to(output_topic, value_serde=serdes.json))
    return builder.build()


# -- the reference topology for the differential suite -------------------------------------------------------

def reference_inputs():
    """The fixed inputs of ``run_reference_topology``: (payments, customers), each ``[(key, value, ts)]``."""
    rng = random.Random(2024)
    customers = [(f"c{i}", {"name": f"customer {i}", "tier": "gold" if i % 3 == 0 else "basic"}, 1_000 + i)
                 for i in range(6)]
    customers.append(("c1", {"name": "customer 1", "tier": "gold"}, 1_010))      # an update: latest wins
    payments, ts = [], 10_000
    for i in range(60):
        ts += rng.randrange(1, 4_000)
        late = i % 20 == 19
        payments.append((f"c{rng.randrange(7)}", {"amount": rng.randrange(1, 500), "seq": i},
                         ts - 40_000 if late else ts))
    return payments, customers


def reference_topology(prefix):
    """Filter, map_values, a global-table join, a re-keying ``group_by`` (repartition), a windowed count with
    a grace period and late records, all into output topics ``<prefix>ref-*``."""
    builder = StreamBuilder()
    customers = builder.global_table(f"{prefix}ref-customers", key_serde=serdes.str, value_serde=serdes.json,
                                     name="ref-customers")
    payments = builder.stream(f"{prefix}ref-payments", key_serde=serdes.str, value_serde=serdes.json)
    big, small = payments.branch(lambda k, v: v["amount"] >= 250, lambda k, v: True)
    big.map_values(lambda v: v["amount"]).to(f"{prefix}ref-big", value_serde=serdes.long)
    (payments.left_join(customers, lambda p, c: dict(p, tier=(c or {}).get("tier", "unknown")))
     .group_by(lambda k, v: v["tier"], key_serde=serdes.str, value_serde=serdes.json)
     .aggregate(lambda: 0, lambda tier, v, total: total + v["amount"], name="ref-total-by-tier",
                value_serde=serdes.long)
     .to_stream().to(f"{prefix}ref-totals", value_serde=serdes.long))
    (payments.group_by_key()
     .windowed_by(tumbling(20_000, grace_ms=5_000))
     .count(name="ref-window-counts")
     .to_stream()
     .map(lambda wk, n: (f"{wk.key}@{wk.window.start_ms}", n))
     .to(f"{prefix}ref-window-counts", key_serde=serdes.str, value_serde=serdes.long))
    small.filter(lambda k, v: v["amount"] < 10).to(f"{prefix}ref-tiny", value_serde=serdes.json)
    return builder.build()


#: ``ref-totals`` is fed through a repartition topic by two upstream tasks, so the *sequence* of running totals
#: per tier depends on how each backend interleaves those tasks; only its latest value per key is compared.
LATEST_ONLY = ("ref-totals",)

REFERENCE_OUTPUTS = {"ref-big": (serdes.str, serdes.long), "ref-totals": (serdes.str, serdes.long),
                     "ref-window-counts": (serdes.str, serdes.long), "ref-tiny": (serdes.str, serdes.json)}


def run_reference_topology(producer_factory, consumer_factory, admin, topic_prefix,
                           processing_guarantee="at_least_once", partitions=2, clock=None):
    """Run one fixed topology end to end on any backend; return a canonical, comparable result.

    ``producer_factory(conf)`` / ``consumer_factory(conf)`` make clients for the cluster (e.g. a connect()
    handle's ``Producer`` / ``Consumer``: they fill in ``bootstrap.servers``), ``admin`` is an admin client,
    ``topic_prefix`` keeps runs apart (topics ``<prefix>ref-*``, application id ``<prefix>ref-app``).
    ``clock`` (processing time in ms) is found by itself on the simulator and is the wall clock otherwise.

    Returns ``{"outputs": {name: sorted [(key, value, timestamp)]}, "tables": {store: {key: value}},
    "late_records": n, "processed": n}``: the same on every backend for the same topology, because keys
    are partitioned by the same partitioner, records of one partition keep their order, and the outputs are
    compared as sorted multisets (the order *across* partitions is up to each backend's fetching; for the
    same reason ``ref-totals``, fed by a repartition topic, is compared by its latest value per key).

    Every topic of the run is created with ``retention.ms=-1`` (the internal ones through
    ``topic.retention.ms``): the fixed inputs carry event times a few minutes after 1970-01-01 (deterministic,
    and "now" on a simulator whose clock starts at 0), which a real broker's time-based retention counts as
    55 years old. Kafka deletes a log, active segment included, once all its records are older than
    ``retention.ms`` (7 days by default), at its next retention check (30 s after the broker starts, then
    every ``log.retention.check.interval.ms``); with the default the outputs could vanish on real Kafka
    between the run and the read-back.
    """
    clients = Clients(producer_factory, consumer_factory, admin)
    p = topic_prefix
    keep = {"retention.ms": "-1"}        # the inputs' event times are of 1970: see the docstring
    create_topics(clients, {f"{p}ref-payments": keep, f"{p}ref-customers": {"cleanup.policy": "compact"},
                            **{f"{p}{name}": keep for name in REFERENCE_OUTPUTS}}, partitions)
    payments, customers = reference_inputs()
    producer = producer_factory({"enable.idempotence": True})
    for topic, rows in ((f"{p}ref-customers", customers), (f"{p}ref-payments", payments)):
        for key, value, ts in rows:
            producer.produce(topic, key=key.encode(), value=serdes.json.serialize(value), timestamp=ts)
        producer.flush()
    app = StreamsApp(reference_topology(p), {"application.id": f"{p}ref-app",
                                             "processing.guarantee": processing_guarantee,
                                             "topic.retention.ms": "-1"},
                     clients=clients, clock=clock)
    processed = app.run(timeout=120)
    tables = {name: dict(sorted((f"{k.key}@{k.window.start_ms}" if hasattr(k, "window") else str(k), v)
                                for k, v in app.store_items(name).items()))
              for name in ("ref-total-by-tier", "ref-window-counts")}
    late = app.metrics["dropped_late_records"]
    app.close()
    outputs = {}
    for name, (ks, vs) in REFERENCE_OUTPUTS.items():
        rows = read_topic(consumer_factory, f"{p}{name}", f"{p}ref-reader-{name}", ks, vs)
        if name in LATEST_ONLY:          # running totals: their order depends on fetch interleaving
            rows = list({k: (k, v, ts, part) for k, v, ts, part in rows}.values())
        outputs[name] = sorted(((k, json.dumps(v, sort_keys=True), ts) for k, v, ts, _ in rows))
    return {"outputs": outputs, "tables": tables, "late_records": late, "processed": processed}
