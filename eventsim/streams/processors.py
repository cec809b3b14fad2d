"""The processor nodes a topology is made of, and the record that flows between them.

A topology is a graph: **source** nodes read a topic, **processor** nodes transform records and hand them
to their children (Kafka's ``context.forward``), **sink** nodes write to a topic. A node keeps no state of
its own: state lives in state stores, one set per task, reached through the task (``ctx``) that runs the
node. ``ctx`` offers: ``ctx.store(name)``, ``ctx.send(...)``, ``ctx.record_context()``, ``ctx.metrics``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .windows import Window


@dataclass(frozen=True)
class Record:
    """One record inside the topology: key, value and its event time (ms)."""
    key: object
    value: object
    timestamp: int

    def with_kv(self, key, value):
        return replace(self, key=key, value=value)


@dataclass(frozen=True)
class RecordContext:
    """Where the record being processed came from, and when (``peek(fn, with_context=True)`` gets one).

    ``timestamp`` is event time (the message timestamp); ``processing_time_ms`` is when this instance
    processed it (ms since 1970: the simulator's virtual clock, real Kafka's wall clock); ``stream_time_ms``
    is the task's largest event time so far.
    """
    topic: str
    partition: int
    offset: int
    timestamp: int
    processing_time_ms: int
    stream_time_ms: int


class Node:
    """A processor node: ``process(ctx, record)`` then ``forward`` to the children."""

    kind = "PROCESSOR"

    def __init__(self, name):
        self.name = name
        self.children = []
        self.stores = ()

    def process(self, ctx, record):
        self.forward(ctx, record)

    def forward(self, ctx, record):
        for child in self.children:
            child.process(ctx, record)

    def describe(self):
        return self.name


class Source(Node):
    """Reads ``topic``: bytes become objects through the key and value serdes."""

    kind = "SOURCE"

    def __init__(self, name, topic, key_serde, value_serde):
        super().__init__(name)
        self.topic, self.key_serde, self.value_serde = topic, key_serde, value_serde

    def process(self, ctx, record):
        key = self.key_serde.deserialize(record.key, "key")
        value = self.value_serde.deserialize(record.value, "value")
        self.forward(ctx, record.with_kv(key, value))


class Sink(Node):
    """Writes to ``topic`` (the producer's partitioner picks the partition from the serialized key)."""

    kind = "SINK"

    def __init__(self, name, topic, key_serde, value_serde):
        super().__init__(name)
        self.topic, self.key_serde, self.value_serde = topic, key_serde, value_serde

    def process(self, ctx, record):
        ctx.send(self.topic, self.key_serde.serialize(record.key, "key"),
                 self.value_serde.serialize(record.value, "value"), record.timestamp, sink=self)


class Filter(Node):
    def __init__(self, name, predicate, negate=False):
        super().__init__(name)
        self.predicate, self.negate = predicate, negate

    def process(self, ctx, record):
        if bool(self.predicate(record.key, record.value)) != self.negate:
            self.forward(ctx, record)


def _pair(result, what):
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError(f"the function given to {what} must return a (key, value) tuple, returned {result!r}")
    return result


class Map(Node):
    """``fn(key, value) -> (key, value)``; a new key may put the record on the wrong partition for
    grouping, so a later ``group_by_key()`` repartitions."""

    def __init__(self, name, fn):
        super().__init__(name)
        self.fn = fn

    def process(self, ctx, record):
        self.forward(ctx, record.with_kv(*_pair(self.fn(record.key, record.value), "map()")))


class MapValues(Node):
    def __init__(self, name, fn):
        super().__init__(name)
        self.fn = fn

    def process(self, ctx, record):
        self.forward(ctx, record.with_kv(record.key, self.fn(record.value)))


class SelectKey(Node):
    def __init__(self, name, fn):
        super().__init__(name)
        self.fn = fn

    def process(self, ctx, record):
        self.forward(ctx, record.with_kv(self.fn(record.key, record.value), record.value))


class FlatMap(Node):
    """``fn(key, value) -> iterable of (key, value)``: zero, one or many records out per record in."""

    def __init__(self, name, fn, values_only=False):
        super().__init__(name)
        self.fn, self.values_only = fn, values_only

    def process(self, ctx, record):
        if self.values_only:
            for value in self.fn(record.value):
                self.forward(ctx, record.with_kv(record.key, value))
        else:
            for pair in self.fn(record.key, record.value):
                self.forward(ctx, record.with_kv(*_pair(pair, "flat_map()")))


class Peek(Node):
    """Calls ``fn(key, value)`` (or ``fn(key, value, RecordContext)``) and passes the record on unchanged."""

    def __init__(self, name, fn, with_context=False):
        super().__init__(name)
        self.fn, self.with_context = fn, with_context

    def process(self, ctx, record):
        if self.with_context:
            self.fn(record.key, record.value, ctx.record_context())
        else:
            self.fn(record.key, record.value)
        self.forward(ctx, record)


class Branch(Node):
    """Sends each record to the child of the *first* predicate it satisfies; others are dropped."""

    def __init__(self, name, predicates):
        super().__init__(name)
        self.predicates = list(predicates)

    def process(self, ctx, record):
        for predicate, child in zip(self.predicates, self.children):
            if predicate(record.key, record.value):
                child.process(ctx, record)
                return


class GlobalTableJoin(Node):
    """Stream-table join against a global table: look the record's (mapped) key up in the table.

    Inner join drops records without a match; left join calls ``joiner(value, None)`` for them.
    """

    def __init__(self, name, store_name, joiner, key_selector, left):
        super().__init__(name)
        self.store_name, self.joiner, self.key_selector, self.left = store_name, joiner, key_selector, left

    def process(self, ctx, record):
        lookup = self.key_selector(record.key, record.value) if self.key_selector else record.key
        hit = ctx.global_store(self.store_name).get(lookup) if lookup is not None else None
        other = None if hit is None else hit[0]
        if other is None and not self.left:
            return
        self.forward(ctx, record.with_kv(record.key, self.joiner(record.value, other)))


class Aggregate(Node):
    """``group_by...aggregate``: per key, ``agg = adder(key, value, agg)`` starting from ``initializer()``.

    Every update is written to the store (and so to its changelog) and forwarded downstream as the table's
    new value for the key (no record cache: Kafka's ``statestore.cache.max.bytes=0``). Records with a
    ``None`` key or value are skipped, as Kafka does.
    """

    def __init__(self, name, store_name, initializer, adder):
        super().__init__(name)
        self.stores = (store_name,)
        self.initializer, self.adder = initializer, adder

    def process(self, ctx, record):
        if record.key is None or record.value is None:
            ctx.metrics["skipped_records"] += 1
            return
        store = ctx.store(self.stores[0])
        old = store.get(record.key)
        agg = self.adder(record.key, record.value, self.initializer() if old is None else old[0])
        ts = max(record.timestamp, old[1]) if old is not None else record.timestamp
        store.put(record.key, agg, ts)
        self.forward(ctx, Record(record.key, agg, ts))


class WindowedAggregate(Node):
    """Aggregate into every time window the record's event time falls in, unless the window has closed.

    As Kafka's ``KStreamWindowAggregate``: the store's observed stream time moves to the record's time first;
    a window is closed when ``stream time >= end + grace``, and a record for a closed window is *late*: it is
    dropped and counted (per window, and in ``metrics["dropped_late_records"]``).
    """

    def __init__(self, name, store_name, windows, initializer, adder):
        super().__init__(name)
        self.stores = (store_name,)
        self.windows, self.initializer, self.adder = windows, initializer, adder

    def process(self, ctx, record):
        if record.key is None or record.value is None:
            ctx.metrics["skipped_records"] += 1
            return
        store = ctx.store(self.stores[0])
        store.observe(record.timestamp)
        late = False
        for window in self.windows.windows_for(record.timestamp):
            if self.windows.is_closed(window, store.stream_time):
                store.count_late(record.key, window)
                late = True
                continue
            old = store.get(record.key, window)
            agg = self.adder(record.key, record.value, self.initializer() if old is None else old[0])
            ts = max(record.timestamp, old[1]) if old is not None else record.timestamp
            store.put(record.key, window, agg, ts)
            self.forward(ctx, Record(store.windowed_key(record.key, window), agg, ts))
        if late:
            ctx.late_record(record, store)


class SessionAggregate(Node):
    """Session windows: find the key's sessions within ``gap`` of the record, merge them with it.

    Merged-away sessions are deleted (a ``None`` is forwarded for them, as Kafka's session table does),
    the merged session gets ``merger(key, agg1, agg2)`` of the old aggregates plus the new record.
    """

    def __init__(self, name, store_name, windows, initializer, adder, merger):
        super().__init__(name)
        self.stores = (store_name,)
        self.windows, self.initializer, self.adder, self.merger = windows, initializer, adder, merger

    def process(self, ctx, record):
        if record.key is None or record.value is None:
            ctx.metrics["skipped_records"] += 1
            return
        store = ctx.store(self.stores[0])
        store.observe(record.timestamp)
        t = record.timestamp
        merged, agg, ts = Window(t, t), self.initializer(), t
        found = [s for s in store.sessions(record.key) if self.windows.overlaps(s[0], t)]
        for window, value, value_ts in found:
            merged = Window(min(merged.start_ms, window.start_ms), max(merged.end_ms, window.end_ms))
            agg, ts = self.merger(record.key, agg, value), max(ts, value_ts)
        if self.windows.is_closed(merged, store.stream_time):
            store.count_late(record.key, merged)
            ctx.late_record(record, store)
            return
        agg = self.adder(record.key, record.value, agg)
        for window, _, _ in found:
            if window != merged:
                store.remove(record.key, window, t)
                self.forward(ctx, Record(store.windowed_key(record.key, window), None, t))
        store.put(record.key, merged, agg, ts)
        self.forward(ctx, Record(store.windowed_key(record.key, merged), agg, ts))
