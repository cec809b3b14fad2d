"""Auto-checks and hints for the course labs (``labs/labNN_*.ipynb``).

Every exercise in a lab ends with a cell such as::

    from eventsim import checks
    checks.check_partitioner(partition_for)

A check runs the learner's code against the behaviour Kafka has (or against a small scenario on a fresh
simulated cluster: a crash, a lost response, a failover) and prints one friendly line starting with
``✓`` when it holds. When it does not, it raises :class:`CheckFailed` whose message says what went wrong,
on which input, and what to look at; in a notebook only that message is shown, not a traceback.
``hint(lab, exercise)`` prints the next hint for an exercise each time it is called.

Checks that inject faults (crashes, lost responses, slow brokers) always build their own simulated
cluster, because real brokers cannot be crashed on cue; checks that only read and write take the
``kafka`` handle the lab uses, so they also work with ``EVENTSIM_BACKEND=local``.

The small helpers at the top (``drain``, ``read_topic``, ``create_topic``) are also used by the lesson
notebooks to keep their cells short.
"""
from __future__ import annotations

import copy
import itertools
import json
import math
import random
import zlib

from .errors import KafkaError, KafkaException
from .message import Message

__all__ = [
    "CheckFailed", "hint", "drain", "read_topic", "create_topic", "fresh_cluster",
    "check_balances", "check_balances_as_of", "check_topic_holds",
    "check_reads_history", "check_fanout", "check_retention",
    "check_partitioner", "check_key_choice", "check_all_consumers_busy",
    "check_consume_loop", "check_rewind", "check_lag",
    "check_at_least_once", "check_idempotent_producer", "check_exactly_once",
    "check_tumbling_counts", "check_fraud_rule",
    "check_durability", "check_scaling",
]

_run_ids = itertools.count(1)


class CheckFailed(AssertionError):
    """A lab check did not hold. The message is meant for the learner; notebooks show only it."""

    def _render_traceback_(self):
        return ["\u2717 " + line if i == 0 else line for i, line in enumerate(str(self).splitlines())]


def _ok(text):
    print("\u2713 " + text)
    return True



def _expect_crash(run, name, returned_msg, lab, exercise):
    """Run the learner's ``run()``, which must end in the simulated crash the check injected."""
    try:
        run()
    except SimulatedCrash:
        return
    except (NotImplementedError, CheckFailed):
        raise
    except Exception as exc:
        raise CheckFailed(f"{name} raised {type(exc).__name__}: {exc}") from exc
    _fail(returned_msg, lab, exercise)


def _fail(text, lab=None, exercise=None):
    if lab is not None:
        text += f'\n  Stuck? Run eventsim.checks.hint("{lab}", {exercise}) for a hint.'
    raise CheckFailed(text)


# =====================================================================================================
# Hints: each call shows the next one, the last one stays.
# =====================================================================================================

HINTS = {
    ("lab01", 1): [
        "Start from an empty dict and visit the events in order; a deposit adds its amount to the "
        "account's balance, a withdrawal subtracts it.",
        "dict.get(account, 0) gives 0 for an account you have not seen yet.",
        "Do not change the events themselves: build a new dict and return it.",
    ],
    ("lab01", 2): [
        "The state at time t is the fold of the events that happened at or before t.",
        "Reuse balances(): balances([e for e in events if e['at_ms'] <= t_ms]).",
    ],
    ("lab01", 3): [
        "Kafka carries bytes: json.dumps(event) turns a dict into text; key=event['account'].",
        "Call producer.flush() after the loop so every event is delivered before the check reads.",
    ],
    ("lab02", 1): [
        "A new group has no committed offset, so auto.offset.reset decides where it starts.",
        "librdkafka's default is auto.offset.reset=latest: a new group only sees events written after it "
        "joined. Which value starts from the oldest event?",
    ],
    ("lab02", 2): [
        "Consumers with the same group.id share the partitions; different group.ids each get everything.",
        "Both billing instances need the same group id; shipping needs another one.",
    ],
    ("lab02", 3): [
        "retention.ms is in milliseconds and is given as a string in topic configs.",
        "Two hours = 2 * 60 * 60 * 1000 ms.",
    ],
    ("lab03", 1): [
        "librdkafka's default partitioner (consistent_random) hashes a non-empty key with CRC-32.",
        "zlib.crc32(key) gives the unsigned CRC-32 of a bytes key; take it modulo the partition count.",
    ],
    ("lab03", 2): [
        "Records with the same key always go to the same partition, and one partition keeps its order.",
        "Which field identifies the thing whose events must stay in order? (Not the city: most rides are "
        "in one city, so one partition would get most of the traffic.)",
    ],
    ("lab03", 3): [
        "In one group, each partition is read by exactly one member; extra members get nothing.",
        "You need at least as many partitions as consumers in the group.",
    ],
    ("lab04", 1): [
        "poll() returns None when nothing arrived within the timeout: skip it and poll again.",
        "A message with msg.error() set is an event (e.g. end of partition), not a record: skip it too.",
        "Stop when you have n records.",
    ],
    ("lab04", 2): [
        "consumer.offsets_for_times([TopicPartition(topic, p, ts_ms), ...]) gives, per partition, the first "
        "offset with a timestamp >= ts_ms (or -1 if there is none).",
        "An offset of -1 means 'no such record yet': start that partition at OFFSET_END.",
        "consumer.assign(list_of_TopicPartitions) starts reading each partition at the offset it carries.",
    ],
    ("lab04", 3): [
        "consumer.get_watermark_offsets(TopicPartition(topic, p)) returns (low, high).",
        "consumer.committed([TopicPartition(topic, p)]) returns the committed offsets (negative if none).",
        "lag = high - committed; with no commit yet, count everything still in the log: high - low.",
    ],
    ("lab05", 1): [
        "At-least-once: first process(msg), then commit that message.",
        "consumer.commit(message=msg, asynchronous=False) commits msg.offset() + 1 and waits for it.",
        "Stop the loop when poll(1.0) returns None (caught up).",
    ],
    ("lab05", 2): [
        "The producer option that numbers batches so the broker can drop duplicates is enable.idempotence.",
        "Idempotence also needs acks=all (it is the default once idempotence is on).",
    ],
    ("lab05", 3): [
        "One transaction per input message is the simplest: begin_transaction(), produce, "
        "send_offsets_to_transaction(...), commit_transaction().",
        "The offsets to send are the *next* offsets: TopicPartition(msg.topic(), msg.partition(), msg.offset() + 1).",
        "The group metadata comes from consumer.consumer_group_metadata().",
    ],
    ("lab06", 1): [
        "A tumbling window of size S that contains time t starts at t - t % S.",
        "Count into a dict keyed by (key, window_start).",
    ],
    ("lab06", 2): [
        "Keep, per card, the timestamps of its recent transactions; drop those older than the window.",
        "Flag a transaction when, counting it, the card has more than the allowed number inside the window.",
    ],
    ("lab07", 1): [
        "Three settings work together: how many copies exist (replication factor), how many must have a "
        "write before it counts (min.insync.replicas, with acks=all), and whether the producer waits (acks).",
        "acks=1 is acknowledged by the leader alone: lost if the leader dies before followers copy it.",
        "To survive one broker down and still accept writes safely: RF 3, min.insync.replicas 2, acks all.",
    ],
    ("lab07", 2): [
        "Each consumer handles at most its rate; you need enough consumers to cover the incoming rate.",
        "A consumer without a partition does nothing: partitions must be at least the number of consumers.",
    ],
}
_hint_position = {}


class _NoSuchHint(CheckFailed, ValueError):
    """``hint()`` was asked for a lab or an exercise that has no hints (a ``CheckFailed``, shown without a
    traceback, and a ``ValueError``: the arguments are wrong)."""


def _hint_key(lab, exercise):
    """``("lab03", 1)`` from ``("lab03", 1)``, ``("lab3", "1")`` or ``(3, 1)``; ``_NoSuchHint`` otherwise."""
    known = ", ".join(f'("{lab_}", {ex})' for lab_, ex in sorted(HINTS))
    number = str(lab)[3:] if str(lab).lower().startswith("lab") else str(lab)
    ex = str(exercise)
    if not number.isdigit() or not ex.isdigit() or not _is(lab, (str, int)) or not _is(exercise, (str, int)):
        raise _NoSuchHint(f'hint(lab, exercise) takes a lab name and an exercise number, e.g. hint("lab03", 1); '
                         f"got hint({_short(lab)}, {_short(exercise)}). Hints exist for {known}")
    key = (f"lab{int(number):02d}", int(ex))
    if key not in HINTS:
        raise _NoSuchHint(f'no hints for hint("{key[0]}", {key[1]}); hints exist for {known}')
    return key


def hint(lab, exercise):
    """Print the next hint for ``exercise`` of ``lab`` (e.g. ``hint("lab03", 1)``)."""
    key = _hint_key(lab, exercise)
    i = _hint_position.get(key, 0)
    hints = HINTS[key]
    print(f"Hint {min(i, len(hints) - 1) + 1}/{len(hints)}: {hints[min(i, len(hints) - 1)]}")
    _hint_position[key] = i + 1


# =====================================================================================================
# Helpers shared by the checks and the lesson notebooks
# =====================================================================================================

def fresh_cluster(brokers=3, seed=0, config=None):
    """A new simulated cluster for a scenario (the checks never touch the learner's cluster's faults)."""
    from .cluster import Cluster
    return Cluster(brokers=brokers, seed=seed, config=config)


def _bootstrap(kafka):
    return kafka.bootstrap_servers


def _producer(kafka, conf=None):
    if hasattr(kafka, "Producer"):
        return kafka.Producer(dict(conf or {}))
    from .producer import Producer
    return Producer(dict(conf or {}, **{"bootstrap.servers": kafka.bootstrap_servers}))


def _consumer(kafka, conf):
    if hasattr(kafka, "Consumer"):
        return kafka.Consumer(dict(conf))
    from .consumer import Consumer
    return Consumer(dict(conf, **{"bootstrap.servers": kafka.bootstrap_servers}))


def create_topic(kafka, name, partitions=1, replication_factor=1, config=None):
    """Create topic ``name`` on a simulated ``Cluster`` or through a ``connect()`` handle's admin client;
    raises ``KafkaException`` on failure (e.g. ``TOPIC_ALREADY_EXISTS``)."""
    if hasattr(kafka, "create_topic"):
        err = kafka.create_topic(name, partitions, replication_factor, config=config)
        if err is not None:
            raise KafkaException(err)
        return name
    from .admin import NewTopic
    futures = kafka.admin().create_topics([NewTopic(name, num_partitions=partitions,
                                                    replication_factor=replication_factor,
                                                    config=dict(config or {}))])
    futures[name].result()
    return name


def drain(consumer, expected=None, timeout=1.0, max_empty_polls=2, max_polls=100_000, join_timeout=30.0):
    """Poll ``consumer`` and return the records (``Message`` objects without an error).

    Stops after ``expected`` records, or after ``max_empty_polls`` polls in a row that returned nothing
    (each waits up to ``timeout`` seconds; virtual seconds on the simulator). Error events are skipped.
    Empty polls of a consumer that has no partitions assigned yet (it is still joining its group, which
    on a real cluster takes a moment) do not count, for at most ``join_timeout`` seconds.
    """
    out, empty, joining = [], 0, 0.0
    for _ in range(max_polls):
        if expected is not None and len(out) >= expected:
            break
        msg = consumer.poll(timeout)
        if msg is None:
            if joining < join_timeout and not consumer.assignment():
                joining += timeout
                continue
            empty += 1
            if empty >= max_empty_polls:
                break
            continue
        empty = 0
        if msg.error() is None:
            out.append(msg)
    return out


def read_topic(kafka, topic, expected=None, isolation_level="read_committed", group=None):
    """Every record of ``topic`` as a new consumer group sees it, from the beginning."""
    group = group or f"reader-{topic}-{next(_run_ids)}"
    c = _consumer(kafka, {"group.id": group, "auto.offset.reset": "earliest",
                          "enable.auto.commit": False, "isolation.level": isolation_level})
    try:
        c.subscribe([topic])
        return drain(c, expected)
    finally:
        c.close()


def _text(b):
    return None if b is None else b.decode("utf-8", "replace")


def _short(x, width=100):
    s = repr(x)
    return s if len(s) <= width else s[:width - 1] + "\u2026"


def _call(fn, *args, what="your function"):
    """Run the learner's code; turn an exception into a readable failure (NotImplementedError passes)."""
    _expect_function(fn, what)
    try:
        return fn(*args)
    except (NotImplementedError, CheckFailed):
        raise
    except Exception as exc:  # the learner's bug: say where, briefly
        raise CheckFailed(f"{what} raised {type(exc).__name__}: {exc}") from exc


# -- what the learner handed over must have the right shape before a check looks inside it -------------

def _is(value, types):
    """``isinstance``, except that a bool does not count as an int (``True`` is not a partition count)."""
    types = types if isinstance(types, tuple) else (types,)
    return isinstance(value, types) and (bool in types or not isinstance(value, bool))


def _kind(types):
    """How a failure names ``types``: ``a dict``, ``an int or a str``, ``a Message``."""
    types = types if isinstance(types, tuple) else (types,)
    names = ["None" if t is type(None) else ("an " if t.__name__[0] in "aeiouAEIOU" else "a ") + t.__name__
             for t in types]
    return " or ".join(names)


def _expect(ok, expected, got, lab=None, exercise=None):
    """Unless ``ok``, fail with ``<expected>, got <short repr of got> (<its type>)``."""
    if not ok:
        _fail(f"{expected}, got {_short(got)} ({type(got).__name__})", lab, exercise)


def _expect_type(value, types, what, lab=None, exercise=None):
    """``what`` (the learner's value) must be one of ``types``; returns it."""
    _expect(_is(value, types), f"{what} should be {_kind(types)}", value, lab, exercise)
    return value


def _expect_items(items, types, what, lab=None, exercise=None):
    """Every element of ``items`` (the learner's ``what``) must be one of ``types``; returns ``items``."""
    bad = [x for x in items if not _is(x, types)]
    _expect(not bad, f"every element of {what} should be {_kind(types)}", bad[0] if bad else None,
            lab, exercise)
    return items


def _expect_count(value, what, lab=None, exercise=None, at_least=1):
    """``what`` must be an int (not a str, float or bool) of at least ``at_least``; returns it."""
    _expect(_is(value, int) and value >= at_least, f"{what} should be an int >= {at_least}", value, lab, exercise)
    return value


def _expect_function(fn, call, lab=None, exercise=None):
    """``fn`` must be a function the check can call as ``call`` (pass the function, not its result)."""
    _expect(callable(fn), f"expected a function to call as {call} (pass the function itself, without "
                          f"calling it)", fn, lab, exercise)


def _learner_client(make, kafka, conf, kind, lab, exercise):
    """``make(kafka, conf)`` (``_producer`` or ``_consumer``) with the learner's settings: a configuration
    Kafka rejects is a failure that quotes Kafka's reason."""
    try:
        return make(kafka, conf)
    except KafkaException as exc:
        _fail(f"this {kind} configuration is rejected: {exc.args[0].str()}", lab, exercise)


class _PollBudget:
    """The consumer handed to the learner's loop: after ``limit`` calls of ``poll``/``consume`` it fails
    the check (saying when the loop should have stopped) instead of letting a loop that never ends hang."""

    def __init__(self, consumer, what, stop, lab, exercise, limit=10_000):
        self._c, self._what, self._stop, self._lab, self._exercise = consumer, what, stop, lab, exercise
        self._left = limit
        self._limit = limit

    def _spend(self):
        self._left -= 1
        if self._left < 0:
            _fail(f"{self._what} called poll() {self._limit} times and never returned: {self._stop}",
                  self._lab, self._exercise)

    def poll(self, *args, **kwargs):
        self._spend()
        return self._c.poll(*args, **kwargs)

    def consume(self, *args, **kwargs):
        self._spend()
        return self._c.consume(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._c, name)


# =====================================================================================================
# lab01 - events and streams
# =====================================================================================================

def _reference_balances(events):
    out = {}
    for e in events:
        sign = 1 if e["type"] == "deposit" else -1
        out[e["account"]] = out.get(e["account"], 0) + sign * e["amount"]
    return out


def sample_payments(seed=1, n=12, accounts=("acc-1", "acc-2", "acc-3")):
    """A seeded stream of deposit / withdrawal events, in time order (used by lab01)."""
    rng = random.Random(seed)
    t, out = 0, []
    for _ in range(n):
        t += rng.randrange(100, 5_000)
        out.append({"account": rng.choice(accounts), "type": rng.choice(["deposit", "deposit", "withdrawal"]),
                    "amount": rng.randrange(1, 200), "at_ms": t})
    return out


def _nonzero(d):
    return {k: v for k, v in d.items() if v != 0}


def check_balances(balances):
    """``balances(events) -> {account: balance}`` must fold deposits (+) and withdrawals (-) in order."""
    cases = [[]] + [sample_payments(seed, n) for seed, n in ((1, 3), (2, 12), (3, 40), (4, 1))]
    for events in cases:
        before = copy.deepcopy(events)
        got = _call(balances, events, what="balances(events)")
        if events != before:
            _fail("balances() changed the events it was given: events are immutable facts, build a new dict "
                  "instead.", "lab01", 1)
        _expect_type(got, dict, "what balances(events) returns", "lab01", 1)
        want = _reference_balances(events)
        if _nonzero(got) != _nonzero(want):
            _fail(f"for the {len(events)} events {_short(events, 160)}\n  expected {want}\n  got      {got}",
                  "lab01", 1)
    return _ok(f"balances() rebuilds the state from the stream correctly ({len(cases)} streams tried).")


def check_balances_as_of(balances_as_of):
    """``balances_as_of(events, t_ms)`` must be the fold of the events at or before ``t_ms``."""
    events = sample_payments(5, 20)
    times = [0, events[0]["at_ms"] - 1, events[0]["at_ms"], events[7]["at_ms"], events[7]["at_ms"] + 1,
             events[-1]["at_ms"], 10 ** 9]
    for t in times:
        got = _call(balances_as_of, copy.deepcopy(events), t, what=f"balances_as_of(events, {t})")
        _expect_type(got, dict, f"what balances_as_of(events, {t}) returns", "lab01", 2)
        want = _reference_balances([e for e in events if e["at_ms"] <= t])
        if _nonzero(got) != _nonzero(want):
            included = "at or before" if events[0]["at_ms"] == t else "up to"
            _fail(f"balances_as_of(events, {t}) returned {_short(got)}, expected {want} (only events {included} "
                  f"t count, including one exactly at t)", "lab01", 2)
    return _ok(f"balances_as_of() replays the stream up to any moment ({len(times)} moments tried).")


def check_topic_holds(kafka, topic, events, key_field="account"):
    """``topic`` must hold exactly ``events`` as JSON values, keyed by ``event[key_field]``, each key's
    events in their original order."""
    _expect_type(topic, str, "the topic name", "lab01", 3)
    _expect_items(_expect_type(events, list, "events", "lab01", 3), dict, "events", "lab01", 3)
    _expect(all(key_field in e for e in events), f"every event should have a {key_field!r} field", events,
            "lab01", 3)
    msgs = read_topic(kafka, topic, expected=len(events) + 1)
    if not msgs:
        _fail(f"topic {topic!r} is empty: produce the events, then call producer.flush()", "lab01", 3)
    got = []
    for m in msgs:
        try:
            got.append((_text(m.key()), json.loads(m.value())))
        except (TypeError, ValueError):
            _fail(f"offset {m.offset()} of {topic!r} holds {_short(m.value())}, which is not JSON: "
                  f"use json.dumps(event)", "lab01", 3)
        _expect_type(got[-1][1], dict, f"the JSON at offset {m.offset()} of {topic!r} (the whole event, "
                     f"json.dumps(event))", "lab01", 3)
    for key, value in got:
        if key is None or key != str(value.get(key_field)):
            _fail(f"the record {value} has key {key!r}; its key should be its {key_field!r} "
                  f"({value.get(key_field)!r})", "lab01", 3)
    if len(got) != len(events):
        _fail(f"topic {topic!r} holds {len(got)} records, expected {len(events)} (did you produce twice? "
              f"re-run the cells from the top to start from a fresh cluster)", "lab01", 3)
    for key in sorted({str(e[key_field]) for e in events}):
        want = [e for e in events if str(e[key_field]) == key]
        have = [v for k, v in got if k == key]
        if have != want:
            _fail(f"the events of {key!r} are not all there in their original order:\n  expected {_short(want, 200)}"
                  f"\n  found    {_short(have, 200)}", "lab01", 3)
    return _ok(f"{topic!r} holds all {len(events)} events, keyed by {key_field}, each key's events in order.")


# =====================================================================================================
# lab02 - message brokers
# =====================================================================================================

def check_reads_history(kafka, topic, conf, expected):
    """A consumer built from ``conf`` (in a new group named after ``conf['group.id']``) must read all
    ``expected`` records that were written before it existed."""
    if not isinstance(conf, dict) or not conf.get("group.id"):
        _fail(f"the consumer configuration must be a dict with a 'group.id', got {_short(conf)}", "lab02", 1)
    _expect_type(topic, str, "the topic name", "lab02", 1)
    _expect_count(expected, "expected (a number of records)", "lab02", 1, at_least=0)
    run = dict(conf, **{"group.id": f"{conf['group.id']}-check-{next(_run_ids)}"})
    c = _learner_client(_consumer, kafka, run, "consumer", "lab02", 1)
    try:
        c.subscribe([topic])
        got = drain(c, expected)
    finally:
        c.close()
    if len(got) < expected:
        reset = conf.get("auto.offset.reset", "latest (the default)")
        _fail(f"a consumer with this configuration read {len(got)} of the {expected} earlier records "
              f"(auto.offset.reset={reset})", "lab02", 1)
    return _ok(f"a brand-new group with this configuration reads all {expected} records written before it existed.")


def check_fanout(kafka, topic, group_of, expected):
    """``group_of`` maps the instances ``billing-1``, ``billing-2``, ``shipping-1`` to group ids: billing
    must share the records, shipping must get all of them."""
    names = ("billing-1", "billing-2", "shipping-1")
    if not isinstance(group_of, dict) or set(group_of) != set(names):
        _fail(f"group_of must be a dict with exactly the keys {list(names)}, got {_short(group_of)}", "lab02", 2)
    _expect(all(_is(g, str) and g for g in group_of.values()), "each group id in group_of should be a "
            "non-empty str such as 'billing'", group_of, "lab02", 2)
    _expect_type(topic, str, "the topic name", "lab02", 2)
    _expect_count(expected, "expected (a number of records)", "lab02", 2, at_least=0)
    tag = next(_run_ids)
    consumers = {n: _consumer(kafka, {"group.id": f"{group_of[n]}-run{tag}", "auto.offset.reset": "earliest",
                                      "client.id": n}) for n in names}
    got = {n: [] for n in names}
    owned = {}
    try:
        for c in consumers.values():
            c.subscribe([topic])
        idle = 0
        while idle < 3:
            progress = False
            for n, c in consumers.items():
                msg = c.poll(0.5)
                if msg is not None and msg.error() is None:
                    got[n].append((msg.partition(), msg.offset()))
                    progress = True
            idle = 0 if progress else idle + 1
        owned = {n: len(c.assignment()) for n, c in consumers.items()}
    finally:
        for c in consumers.values():
            c.close()
    b1, b2, s = (set(got[n]) for n in names)
    if len(s) != expected:
        _fail(f"shipping-1 read {len(s)} of the {expected} records: shipping must see every order, so it "
              f"needs a group of its own", "lab02", 2)
    if len(b1 | b2) != expected or (b1 & b2):
        _fail(f"billing-1 read {len(b1)} and billing-2 read {len(b2)} records ({len(b1 & b2)} by both): the "
              f"two billing instances should split the {expected} records between them, each record once",
              "lab02", 2)
    if not owned["billing-1"] or not owned["billing-2"]:
        _fail(f"one billing instance owns no partition (partitions owned: {owned}): give both the same group.id",
              "lab02", 2)
    return _ok(f"billing-1 and billing-2 shared the {expected} orders ({len(b1)} + {len(b2)}); shipping-1 got "
               f"all {len(s)} of them.")


def check_retention(topic_config, hours=2):
    """A topic created with ``topic_config`` must keep every record younger than ``hours`` hours and have
    deleted the oldest ones once retention runs."""
    _expect_type(topic_config, dict, "topic_config (topic configs, e.g. {'retention.ms': '1000'})", "lab02", 3)
    _expect_type(hours, (int, float), "hours", "lab02", 3)
    cluster = fresh_cluster(brokers=1)
    conf = dict(topic_config)
    conf.setdefault("segment.ms", str(10 * 60 * 1000))       # roll a segment every 10 minutes
    err = cluster.create_topic("clicks", 1, 1, config=conf)
    if err is not None:
        _fail(f"Kafka refuses this topic config: {err.str()}", "lab02", 3)
    p = _producer(cluster)
    minute = 60 * 1000
    for _ in range(6 * 60):                                  # one record a minute for six hours
        p.produce("clicks", value=str(cluster.now_ms // minute))
        p.flush()
        cluster.advance(minute)
    cluster.run_retention_now()
    kept = read_topic(cluster, "clicks", expected=1)
    if not kept:
        _fail(f"every record was deleted, even the last minute's; they must be kept {hours} h", "lab02", 3)
    first = int(kept[0].value())
    now_min = cluster.now_ms // minute
    age_h = (now_min - first) / 60
    if age_h < hours:
        _fail(f"records only {age_h:.1f} h old were already deleted; they must be kept {hours} h", "lab02", 3)
    if age_h > hours + 0.5:
        _fail(f"the oldest record still kept is {age_h:.1f} h old; anything older than {hours} h (plus at most "
              f"one segment) should be gone", "lab02", 3)
    return _ok(f"with this config the oldest record kept is {age_h:.2f} h old: nothing younger than {hours} h "
               f"was deleted, older segments were.")


# =====================================================================================================
# lab03 - topics and partitions
# =====================================================================================================

def _keys_for_partitioner():
    rng = random.Random(3)
    keys = [f"customer-{i}".encode() for i in range(60)]
    keys += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20))) for _ in range(36)]
    keys += ["caf\u00e9".encode(), b"\x00", b"a" * 200, "\U0001F600".encode()]
    return keys


def check_partitioner(partition_for, num_partitions=6):
    """``partition_for(key_bytes, num_partitions)`` must pick the partition the real producer picks, for
    100 non-empty keys."""
    cluster = fresh_cluster()
    cluster.create_topic("keys", num_partitions, 1)
    p = _producer(cluster)
    placed = {}
    keys = _keys_for_partitioner()
    for k in keys:
        p.produce("keys", key=k, value=b"x", on_delivery=lambda err, m: placed.__setitem__(m.key(), m.partition()))
    p.flush()
    for k in keys:
        got = _call(partition_for, k, num_partitions, what=f"partition_for({k!r}, {num_partitions})")
        _expect_type(got, int, f"what partition_for({k!r}, {num_partitions}) returns (a partition number)",
                     "lab03", 1)
        if got != placed[k]:
            _fail(f"key {k!r}: the producer put it in partition {placed[k]}, partition_for says {got!r}",
                  "lab03", 1)
    return _ok(f"partition_for() agrees with the producer on all {len(keys)} keys.")


def sample_rides(seed=7, rides=40, events_per_ride=5):
    """Ride-hailing events (``ride``, ``city``, ``seq``, ``status``); most rides are in one city."""
    rng = random.Random(seed)
    statuses = ["requested", "accepted", "picked_up", "dropped_off", "paid"]
    cities = ["paris"] * 7 + ["lyon", "nice", "lille"]
    meta = [(f"ride-{i:03d}", rng.choice(cities)) for i in range(rides)]
    pending = {ride: 0 for ride, _ in meta}
    out = []
    while pending:
        ride = rng.choice(sorted(pending))
        seq = pending[ride]
        out.append({"ride": ride, "city": dict(meta)[ride], "seq": seq, "status": statuses[seq % len(statuses)]})
        pending[ride] += 1
        if pending[ride] == events_per_ride:
            del pending[ride]
    return out


def check_key_choice(key_for, num_partitions=6, max_share=0.35):
    """``key_for(event)`` must keep each ride's events in order (one partition) and spread load (no
    partition gets more than ``max_share`` of the events)."""
    events = sample_rides()
    cluster = fresh_cluster()
    cluster.create_topic("rides", num_partitions, 1)
    p = _producer(cluster)
    for e in events:
        key = _call(key_for, dict(e), what="key_for(event)")
        _expect_type(key, (str, bytes, int, type(None)), f"what key_for({_short(e, 60)}) returns (a record key)",
                     "lab03", 2)
        p.produce("rides", key=key if key is None or isinstance(key, bytes) else str(key), value=json.dumps(e))
        p.flush()                                  # one at a time: the order of production is the event order
    by_ride, per_partition = {}, [0] * num_partitions
    for m in read_topic(cluster, "rides", expected=len(events)):
        e = json.loads(m.value())
        by_ride.setdefault(e["ride"], []).append((m.partition(), m.offset(), e["seq"]))
        per_partition[m.partition()] += 1
    for ride, seen in sorted(by_ride.items()):
        parts = {p_ for p_, _, _ in seen}
        if len(parts) > 1:
            _fail(f"the events of {ride} went to partitions {sorted(parts)}: a consumer may then see "
                  f"'dropped_off' before 'picked_up'. Each ride's events must share one partition.", "lab03", 2)
        seqs = [s for _, _, s in sorted(seen)]
        if seqs != sorted(seqs):
            _fail(f"the events of {ride} are out of order in their partition: {seqs}", "lab03", 2)
    share = max(per_partition) / len(events)
    if share > max_share:
        _fail(f"one partition got {share:.0%} of all events (per partition: {per_partition}); with this key "
              f"one consumer does most of the work (a 'hot' partition)", "lab03", 2)
    return _ok(f"every ride stays in one partition, in order; the busiest partition has {share:.0%} of the "
               f"events (per partition: {per_partition}).")


def _group_assignment(cluster, topic, consumers, group):
    cs = [_consumer(cluster, {"group.id": group, "client.id": f"worker-{i + 1}", "auto.offset.reset": "earliest"})
          for i in range(consumers)]
    for c in cs:
        c.subscribe([topic])
    for _ in range(5):
        for c in cs:
            c.poll(0.2)
    sizes = [len(c.assignment()) for c in cs]
    for c in cs:
        c.close()
    return sizes


def check_all_consumers_busy(num_partitions, consumers=4):
    """A topic with ``num_partitions`` partitions must give every one of ``consumers`` group members work."""
    _expect_count(num_partitions, "num_partitions", "lab03", 3)
    _expect_count(consumers, "consumers", "lab03", 3)
    cluster = fresh_cluster()
    err = cluster.create_topic("jobs", num_partitions, 1)
    if err is not None:
        _fail(f"a topic with {num_partitions} partitions cannot be created: {err.str()}", "lab03", 3)
    sizes = _group_assignment(cluster, "jobs", consumers, "workers")
    idle = sum(1 for s in sizes if s == 0)
    if idle:
        _fail(f"with {num_partitions} partition(s), {idle} of the {consumers} consumers got no partition "
              f"(partitions per consumer: {sizes})", "lab03", 3)
    return _ok(f"with {num_partitions} partitions all {consumers} consumers have work (partitions each: {sizes}).")


# =====================================================================================================
# lab04 - producers and consumers
# =====================================================================================================

def check_consume_loop(consume_n):
    """``consume_n(consumer, n)`` must return exactly ``n`` records, skipping ``None`` and error events."""
    cluster = fresh_cluster()
    cluster.create_topic("events", 3, 1)
    p = _producer(cluster)

    def produce(first, last):
        for i in range(first, last):
            p.produce("events", key=f"k{i % 7}", value=str(i))   # sent when linger.ms expires
    produce(0, 15)
    p.flush()
    cluster.clock.schedule(3_000, lambda: produce(15, 30), "second wave of records")  # arrives while polling
    c = _consumer(cluster, {"group.id": "loop-check", "auto.offset.reset": "earliest",
                            "enable.partition.eof": True})
    c.subscribe(["events"])
    got = _call(consume_n, _PollBudget(c, "consume_n(consumer, 30)", "stop once you have n records", "lab04", 1),
                30, what="consume_n(consumer, 30)")
    c.close()
    _expect_type(got, list, "what consume_n() returns (a list of messages)", "lab04", 1)
    if any(m is None for m in got):
        _fail("the list contains None: poll() returns None when nothing arrived in time, skip those", "lab04", 1)
    _expect_items(got, Message, "the list consume_n() returns (append msg itself, not msg.value())", "lab04", 1)
    if any(m.error() is not None for m in got):
        bad = next(m for m in got if m.error() is not None)
        _fail(f"the list contains an event, not a record: {bad.error().str()}. Skip messages whose error() is "
              f"set.", "lab04", 1)
    if len(got) != 30:
        _fail(f"consume_n(consumer, 30) returned {len(got)} records", "lab04", 1)
    if sorted(int(m.value()) for m in got) != list(range(30)):
        _fail("some records were returned twice and others not at all", "lab04", 1)
    return _ok("consume_n() returned the 30 records, waited through quiet polls and skipped the "
               "end-of-partition events.")


def check_rewind(rewind):
    """``rewind(consumer, topic, num_partitions, ts_ms)`` must position the consumer so it reads exactly
    the records with a timestamp >= ``ts_ms``."""
    cluster = fresh_cluster()
    cluster.create_topic("readings", 3, 1)
    p = _producer(cluster)
    for i in range(60):
        p.produce("readings", key=f"sensor-{i % 5}", value=str(i))
        p.flush()
        cluster.advance(1_000)
    stamps = {}
    for m in read_topic(cluster, "readings", expected=60):
        stamps[int(m.value())] = m.timestamp()[1]
    for ts in (stamps[25], stamps[25] + 1, 0, cluster.now_ms + 1):
        c = _consumer(cluster, {"group.id": f"rewind-{next(_run_ids)}", "auto.offset.reset": "earliest"})
        what = f"rewind(consumer, 'readings', 3, {ts})"
        _call(rewind, _PollBudget(c, what, "rewind() only positions the consumer", "lab04", 2), "readings", 3, ts,
              what=what)
        got = sorted(int(m.value()) for m in drain(c))
        c.close()
        want = sorted(i for i, t in stamps.items() if t >= ts)
        if got != want:
            _fail(f"after rewind(..., ts_ms={ts}) the consumer read {len(got)} records "
                  f"{_short(got[:8])}..., expected the {len(want)} records with a timestamp >= {ts} "
                  f"{_short(want[:8])}...", "lab04", 2)
    return _ok("rewind() finds the right offset in every partition, including 'before everything' and "
               "'after everything'.")


def check_lag(lag_of):
    """``lag_of(consumer, topic, num_partitions) -> {partition: lag}`` must match the group's lag."""
    cluster = fresh_cluster()
    cluster.create_topic("payments", 3, 1)
    p = _producer(cluster)
    for i in range(45):
        p.produce("payments", key=f"card-{i % 9}", value=str(i))
    p.flush()
    c = _consumer(cluster, {"group.id": "ledger", "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe(["payments"])
    for m in drain(c, expected=20):
        if m.partition() != 2:
            c.commit(message=m, asynchronous=False)
    got = _call(lag_of, c, "payments", 3, what="lag_of(consumer, 'payments', 3)")
    want = {}
    snap = cluster.snapshot()
    hw = {p_["partition"]: (p_["log_start_offset"], p_["high_watermark"]) for p_ in snap["topics"][0]["partitions"]}
    committed = {o["partition"]: o["committed"] for g in snap["groups"] if g["group_id"] == "ledger"
                 for o in g["offsets"] if o["committed"] is not None and o["committed"] >= 0}
    for part, (low, high) in hw.items():
        want[part] = high - committed.get(part, low)
    c.close()
    _expect_type(got, dict, "what lag_of() returns ({partition: lag})", "lab04", 3)
    _expect(all(_is(k, int) or (_is(k, str) and k.isdigit()) for k in got), "the keys of lag_of()'s dict should "
            "be partition numbers such as 0, 1, 2", got, "lab04", 3)
    if {int(k): v for k, v in got.items()} != want:
        _fail(f"lag_of() returned {_short(got)}, expected {want} (partition 2 has no committed offset yet)",
              "lab04", 3)
    return _ok(f"lag_of() matches the group's lag: {want}.")


# =====================================================================================================
# lab05 - ordering and delivery guarantees
# =====================================================================================================

class SimulatedCrash(Exception):
    """Raised by a check to stop the learner's loop as a process crash would."""


_CAUGHT_UP = "stop when poll(1.0) returns None (caught up)"


def _ledger_run(run_ledger, records, crash_at, crash_after_effect):
    """One crash-and-restart of the learner's loop; returns (processed values, values of the first run)."""
    cluster = fresh_cluster()
    cluster.create_topic("transfers", 1, 1)
    p = _producer(cluster)
    for i in range(records):
        p.produce("transfers", value=str(i))
    p.flush()
    conf = {"group.id": "ledger", "auto.offset.reset": "earliest", "enable.auto.commit": False}
    processed, calls = [], {"n": 0}

    def record(msg):
        return _expect_type(msg, Message, "the argument of process() (a record from poll(); skip None and error "
                            "events)", "lab05", 1)

    def crashing_process(msg):
        record(msg)
        calls["n"] += 1
        if calls["n"] == crash_at and not crash_after_effect:
            raise SimulatedCrash(f"crashed before processing record {int(msg.value())}")
        processed.append(int(msg.value()))
        if calls["n"] == crash_at:
            raise SimulatedCrash(f"crashed right after processing record {int(msg.value())}")

    c1 = _consumer(cluster, conf)
    c1.subscribe(["transfers"])
    _expect_crash(lambda: run_ledger(_PollBudget(c1, "run_ledger", _CAUGHT_UP, "lab05", 1), crashing_process),
                  "run_ledger",
                  f"run_ledger returned although process() raised on record {crash_at - 1}: let the exception "
                  f"escape (a crashed program does not carry on)", "lab05", 1)
    c1.close()                                      # auto-commit is off: closing commits nothing
    first_run = list(processed)
    c2 = _consumer(cluster, conf)
    c2.subscribe(["transfers"])
    _call(run_ledger, _PollBudget(c2, "run_ledger (after the restart)", _CAUGHT_UP, "lab05", 1),
          lambda msg: processed.append(int(record(msg).value())), what="run_ledger (after the restart)")
    c2.close()
    return processed, first_run


def check_at_least_once(run_ledger, records=20, crash_at=8):
    """``run_ledger(consumer, process)`` must process every record at least once when the process crashes
    (once just before, once just after processing a record) and a new consumer of the group takes over."""
    _expect_function(run_ledger, "run_ledger(consumer, process)", "lab05", 1)
    dups = []
    for after_effect in (False, True):
        processed, first_run = _ledger_run(run_ledger, records, crash_at, after_effect)
        missing = sorted(set(range(records)) - set(processed))
        if missing:
            _fail(f"the program crashed {'after' if after_effect else 'before'} processing record {crash_at - 1}; "
                  f"after the restart, records {missing} were never processed (lost). The first run processed "
                  f"{first_run}. Commit a record only after process() returned for it.", "lab05", 1)
        dups = sorted(v for v in set(processed) if processed.count(v) > 1)
    return _ok(f"no record lost across either crash. When the crash came right after processing, record(s) "
               f"{dups} were processed again after the restart: at-least-once means a possible duplicate, "
               f"never a loss.")


def check_idempotent_producer(conf, lost_responses=3, records=10):
    """A producer with ``conf`` must write each of ``records`` records exactly once, in order, even when
    ``lost_responses`` produce responses are lost and it retries."""
    _expect_type(conf, dict, "conf (producer settings)", "lab05", 2)
    cluster = fresh_cluster()
    cluster.create_topic("payments", 1, 3, config={"min.insync.replicas": "2"})
    p = _learner_client(_producer, cluster, conf, "producer", "lab05", 2)
    cluster.network.drop_produce_responses("payments", 0, lost_responses)
    for i in range(records):                  # one record at a time, so each lost response is retried alone
        try:
            p.produce("payments", value=str(i))
        except KafkaException as exc:
            _fail(f"a producer with this configuration cannot send a plain record: {exc.args[0].str()}", "lab05", 2)
        if p.flush(120):
            _fail(f"record {i} was never acknowledged", "lab05", 2)
    got = [int(m.value()) for m in read_topic(cluster, "payments", expected=records * 3)]
    if got != list(range(records)):
        dups = sorted(v for v in set(got) if got.count(v) > 1)
        _fail(f"after {lost_responses} lost responses the topic holds {got}" +
              (f" (duplicates: {dups})" if dups else " (out of order)"), "lab05", 2)
    return _ok(f"{lost_responses} responses were lost and retried, yet the topic holds each of the {records} "
               f"records once, in order.")


class _CrashingProducer:
    """Wraps a transactional producer and "crashes" the process (raises ``SimulatedCrash``) either on the
    ``crash_at``-th ``produce`` call or right after the ``crash_at``-th ``commit_transaction`` returned."""

    def __init__(self, producer, crash_at, where):
        self._p, self._crash_at, self._where = producer, crash_at, where
        self._calls = {"produce": 0, "after_commit": 0}

    def produce(self, *args, **kwargs):
        self._calls["produce"] += 1
        if self._where == "produce" and self._calls["produce"] == self._crash_at:
            raise SimulatedCrash("crashed in the middle of a transaction")
        return self._p.produce(*args, **kwargs)

    def commit_transaction(self, *args, **kwargs):
        result = self._p.commit_transaction(*args, **kwargs)
        self._calls["after_commit"] += 1
        if self._where == "after_commit" and self._calls["after_commit"] == self._crash_at:
            raise SimulatedCrash("crashed just after a transaction committed")
        return result

    def __getattr__(self, name):
        return getattr(self._p, name)


def _transform_run(transform_loop, records, crash_at, where):
    cluster = fresh_cluster()
    cluster.create_topic("orders", 1, 3, config={"min.insync.replicas": "2"})
    cluster.create_topic("orders-upper", 1, 3, config={"min.insync.replicas": "2"})
    p = _producer(cluster)
    words = [f"order-{i}" for i in range(records)]
    for w in words:
        p.produce("orders", value=w)
    p.flush()
    cconf = {"group.id": "upper", "auto.offset.reset": "earliest", "enable.auto.commit": False,
             "isolation.level": "read_committed"}
    pconf = {"transactional.id": "upper-1"}
    c1, p1 = _consumer(cluster, cconf), _producer(cluster, pconf)
    p1.init_transactions()
    c1.subscribe(["orders"])
    _expect_crash(lambda: transform_loop(_PollBudget(c1, "transform_loop", _CAUGHT_UP, "lab05", 3),
                                         _CrashingProducer(p1, crash_at, where), "orders-upper"),
                  "transform_loop", "transform_loop returned although the process crashed: let the exception escape",
                  "lab05", 3)
    c1.close()
    c2, p2 = _consumer(cluster, cconf), _producer(cluster, pconf)
    p2.init_transactions()                        # fences p1 and aborts its open transaction
    c2.subscribe(["orders"])
    _call(transform_loop, _PollBudget(c2, "transform_loop (after the restart)", _CAUGHT_UP, "lab05", 3), p2,
          "orders-upper", what="transform_loop (after the restart)")
    c2.close()
    got = [_text(m.value()) for m in read_topic(cluster, "orders-upper", expected=records * 2)]
    return got, [w.upper() for w in words]


def check_exactly_once(transform_loop, records=12, crash_at=5):
    """``transform_loop(consumer, producer, out_topic)`` must copy each input record, upper-cased, to
    ``out_topic`` exactly once as read_committed readers see it, even if the process crashes in the middle
    of a transaction or just after one committed."""
    _expect_function(transform_loop, "transform_loop(consumer, producer, out_topic)", "lab05", 3)
    for where, text in (("produce", "in the middle of a transaction"),
                        ("after_commit", "just after a transaction committed")):
        got, want = _transform_run(transform_loop, records, crash_at, where)
        if sorted(got) != sorted(want):
            dups = sorted(v for v in set(got) if got.count(v) > 1)
            missing = sorted(set(want) - set(got))
            _fail(f"the process crashed {text}; afterwards a read_committed reader of orders-upper sees "
                  f"{len(got)} records, duplicates {dups}, missing {missing}. Produce the output and send the "
                  f"consumer's offsets in the same transaction, then commit it.", "lab05", 3)
    return _ok(f"after a crash mid-transaction and a crash just after a commit, read_committed readers see each "
               f"of the {records} results exactly once.")


# =====================================================================================================
# lab06 - stream processing
# =====================================================================================================

def _reference_tumbling(events, size_ms):
    out = {}
    for key, t in events:
        start = t - t % size_ms
        out[(key, start)] = out.get((key, start), 0) + 1
    return out


def check_tumbling_counts(tumbling_counts):
    """``tumbling_counts(events, size_ms)`` with events ``(key, timestamp_ms)`` must count per key and
    tumbling window ``[start, start + size_ms)``: ``{(key, start): count}``."""
    rng = random.Random(11)
    cases = [([], 1000), ([("a", 0), ("a", 999), ("a", 1000)], 1000)]
    cases.append(([(rng.choice("xyz"), rng.randrange(0, 300_000)) for _ in range(200)], 60_000))
    cases.append(([(rng.choice("pq"), rng.randrange(0, 10_000)) for _ in range(50)], 2_500))
    for events, size in cases:
        got = _call(tumbling_counts, list(events), size, what=f"tumbling_counts(events, {size})")
        _expect_type(got, dict, f"what tumbling_counts(events, {size}) returns ({{(key, window_start): count}})",
                     "lab06", 1)
        want = _reference_tumbling(events, size)
        if got != want:
            wrong = sorted(set(got) ^ set(want) | {k for k in want if got.get(k) != want[k]}, key=repr)[:3]
            _fail(f"with window size {size} ms and {len(events)} events, expected {_short(want, 160)}, got "
                  f"{_short(got, 160)}; e.g. look at {wrong}. A record at t belongs to the window starting "
                  f"at t - t % size (end exclusive).", "lab06", 1)
    return _ok(f"tumbling_counts() matches on {len(cases)} streams, including records exactly on a boundary.")


def sample_card_payments(seed=21, n=80):
    """Card payments ``{"card", "amount", "at_ms"}`` in time order, with a few bursts on one card."""
    rng = random.Random(seed)
    t, out = 0, []
    for i in range(n):
        t += rng.randrange(2_000, 40_000)
        out.append({"card": rng.choice(["c-1", "c-2", "c-3", "c-4"]), "amount": rng.randrange(5, 90), "at_ms": t})
        if i % 25 == 10:                              # a burst: a stolen card tried several times
            card = rng.choice(["c-1", "c-2", "c-3", "c-4"])
            for _ in range(4):
                t += rng.randrange(1_000, 8_000)
                out.append({"card": card, "amount": rng.randrange(5, 90), "at_ms": t})
    return out


def _reference_fraud(payments, max_per_window, window_ms):
    recent, flagged = {}, []
    for e in payments:
        times = [t for t in recent.get(e["card"], []) if t > e["at_ms"] - window_ms] + [e["at_ms"]]
        recent[e["card"]] = times
        if len(times) > max_per_window:
            flagged.append(e)
    return flagged


def check_fraud_rule(find_suspicious, max_per_window=3, window_ms=60_000):
    """``find_suspicious(payments)`` must return the payments (in order) that make their card exceed
    ``max_per_window`` payments within the last ``window_ms`` (a sliding window ending at the payment)."""
    payments = sample_card_payments()
    got = _call(find_suspicious, copy.deepcopy(payments), what="find_suspicious(payments)")
    _expect_items(_expect_type(got, list, "what find_suspicious(payments) returns", "lab06", 2), dict,
                  "the list find_suspicious() returns (the payments themselves)", "lab06", 2)
    want = _reference_fraud(payments, max_per_window, window_ms)
    if got != want:
        extra = [e for e in got if e not in want][:2]
        missing = [e for e in want if e not in got][:2]
        _fail(f"expected {len(want)} suspicious payments, got {len(got)}; wrongly flagged {extra}, missed "
              f"{missing}. A payment is suspicious when its card has more than {max_per_window} payments in "
              f"the {window_ms // 1000} s ending at (and including) it.", "lab06", 2)
    return _ok(f"find_suspicious() flags the same {len(want)} payments as the reference rule.")


# =====================================================================================================
# lab07 - failures, replication and scaling
# =====================================================================================================

def _durability_run(replication_factor, topic_config, producer_conf, unclean=False):
    """Produce 30 records, let followers lag, crash the leader, return (acked values, values kept)."""
    cluster = fresh_cluster(config={"unclean.leader.election.enable": str(unclean).lower()})
    err = cluster.create_topic("payments", 1, replication_factor, config=topic_config)
    if err is not None:
        _fail(f"the topic cannot be created: {err.str()}", "lab07", 1)
    leader = cluster.leader_for("payments", 0)
    for b in cluster.snapshot()["topics"][0]["partitions"][0]["replicas"]:
        if b != leader:
            cluster.slow_broker(b, 300)              # followers copy a little later than the leader writes
    p = _learner_client(_producer, cluster, dict(producer_conf, **{"message.timeout.ms": 20_000}), "producer",
                        "lab07", 1)
    acked = []
    for i in range(30):
        p.produce("payments", value=str(i),
                  on_delivery=lambda e, m: e is None and acked.append(int(m.value())))
        p.poll(0)
        cluster.advance(20)
    p.flush(0.05)
    cluster.stop_broker(leader)                      # the leader dies; a follower takes over
    cluster.heal_network()
    p.flush(60)
    kept = {int(m.value()) for m in read_topic(cluster, "payments", expected=100)}
    return cluster, sorted(set(acked)), kept


def _copies(cluster, topic="payments"):
    """How many live replicas of partition 0 hold every record written so far (from the snapshot)."""
    snap = cluster.snapshot()
    part = next(t for t in snap["topics"] if t["name"] == topic)["partitions"][0]
    alive = {b["id"] for b in snap["brokers"] if b["alive"]}
    leo = part["log_end_offset"]
    return sum(1 for b, end in zip(part["replicas"], part["replica_log_end_offsets"])
               if b in alive and end is not None and end >= leo)


def check_durability(replication_factor, topic_config, producer_conf):
    """The settings must (1) lose no acknowledged record when the leader crashes, (2) keep accepting writes
    with one replica down, and (3) never acknowledge a write that fewer than two live brokers hold."""
    _expect_type(topic_config, dict, "topic_config", "lab07", 1)
    _expect_type(producer_conf, dict, "producer_conf", "lab07", 1)
    _expect_count(replication_factor, "replication_factor", "lab07", 1)
    _, acked, kept = _durability_run(replication_factor, topic_config, producer_conf)
    lost = [v for v in acked if v not in kept]
    if lost:
        _fail(f"the leader crashed and records {lost} had been acknowledged to the producer but are gone "
              f"from the new leader", "lab07", 1)
    if len(acked) < 30:
        _fail(f"only {len(acked)} of 30 records were acknowledged", "lab07", 1)
    outcomes = {}
    for down in (1, 2):
        cluster = fresh_cluster()
        cluster.create_topic("payments", 1, replication_factor, config=topic_config)
        replicas = cluster.snapshot()["topics"][0]["partitions"][0]["replicas"]
        for b in replicas[:down]:
            cluster.stop_broker(b)
        p = _learner_client(_producer, cluster, dict(producer_conf, **{"message.timeout.ms": 10_000}), "producer",
                            "lab07", 1)
        result = []
        p.produce("payments", value="x", on_delivery=lambda e, m: result.append((e, _copies(cluster))))
        p.flush(30)
        outcomes[down] = result[0] if result else (KafkaError(KafkaError._MSG_TIMED_OUT), 0)
    err, copies = outcomes[1]
    if err is not None:
        _fail(f"with one replica down, a write failed ({err.str()}): the settings leave no room for a single "
              f"broker failure", "lab07", 1)
    for down, (err, copies) in outcomes.items():
        if err is None and copies < 2:
            _fail(f"with {down} replica(s) down, a write was acknowledged while only {copies} live broker held "
                  f"it: one more failure would lose it. Make acknowledgement wait for at least two in-sync "
                  f"copies.", "lab07", 1)
    return _ok(f"no acknowledged record lost in the failover ({len(acked)} acknowledged); with one replica "
               f"down writes still succeed; with two down they are refused ({outcomes[2][0].name()}).")


def check_scaling(num_partitions, num_consumers, incoming_per_s=250, per_consumer_per_s=100):
    """``num_partitions`` and ``num_consumers`` must let one group keep up with ``incoming_per_s`` records
    per second when each consumer handles ``per_consumer_per_s``, with no consumer left idle."""
    for name, v in (("num_partitions", num_partitions), ("num_consumers", num_consumers),
                    ("incoming_per_s", incoming_per_s), ("per_consumer_per_s", per_consumer_per_s)):
        _expect_count(v, name, "lab07", 2)
    if num_consumers > 12 or num_partitions > 48:
        _fail("keep it modest: at most 12 consumers and 48 partitions", "lab07", 2)
    cluster = fresh_cluster()
    cluster.create_topic("clicks", num_partitions, 1)
    sizes = _group_assignment(cluster, "clicks", num_consumers, "analytics")
    busy = sum(1 for s in sizes if s)
    capacity = busy * per_consumer_per_s
    if busy < num_consumers:
        _fail(f"{num_consumers - busy} of the {num_consumers} consumers got no partition (partitions each: "
              f"{sizes}); an idle consumer adds nothing", "lab07", 2)
    if capacity < incoming_per_s:
        _fail(f"{busy} busy consumers handle {capacity} records/s but {incoming_per_s} arrive each second: the "
              f"lag grows by {incoming_per_s - capacity} records every second", "lab07", 2)
    need = math.ceil(incoming_per_s / per_consumer_per_s)
    return _ok(f"{busy} consumers on {num_partitions} partitions handle {capacity} records/s >= "
               f"{incoming_per_s} arriving (the minimum is {need} consumers and {need} partitions).")

