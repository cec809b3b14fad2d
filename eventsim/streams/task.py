"""Tasks, and the in-memory ``TopologyTestDriver``.

A **task** is the unit of work of Kafka Streams: one sub-topology applied to one partition number of its
input topics (task ``0_2`` = sub-topology 0, partition 2). It owns that partition of each of the
sub-topology's stores, tracks its **stream time** (the largest event time it has seen) and sends its
results through whatever runs it: a ``StreamsApp`` (to Kafka, through a producer) or the test driver
(to in-memory lists).
"""
from __future__ import annotations

import collections

from .processors import Record, RecordContext
from .topology import StreamBuilder, Topology, resolve


class Task:
    """One sub-topology on one partition: the ``ctx`` its processor nodes see."""

    def __init__(self, runner, sub, partition):
        self.runner, self.sub, self.partition = runner, sub, partition
        self.id = f"{sub.id}_{partition}"
        app_id = runner.application_id
        self.sources = {}
        for topic in sub.topics:
            self.sources[resolve(topic, app_id)] = runner.topology.sources[topic]
        self.stores = {}
        for name in sub.stores:
            spec = runner.topology.stores[name]
            self.stores[name] = spec.create(self._logger(spec.changelog_topic(app_id)))
        self.stream_time = -1
        self._current = None

    def _logger(self, topic):
        def log(key, value, timestamp):
            self.runner.send(topic, key, value, timestamp, partition=self.partition, task=self)
        return log

    @property
    def metrics(self):
        return self.runner.metrics

    def process(self, topic, offset, key, value, timestamp):
        """Run one input record (raw bytes) through the sub-topology."""
        if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
            self.metrics["skipped_records"] += 1        # Kafka's LogAndSkipOnInvalidTimestamp
            return
        self.stream_time = max(self.stream_time, timestamp)
        self._current = (topic, offset, timestamp)
        self.metrics["records_processed"] += 1
        self.sources[topic].process(self, Record(key, value, timestamp))

    # -- what processor nodes call ---------------------------------------------------------------------
    def store(self, name):
        return self.stores[name]

    def global_store(self, name):
        return self.runner.global_store(name)

    def send(self, topic, key, value, timestamp, sink=None):
        self.runner.send(resolve(topic, self.runner.application_id), key, value, timestamp, sink=sink, task=self)

    def record_context(self):
        topic, offset, ts = self._current
        return RecordContext(topic, self.partition, offset, ts, self.runner.processing_time_ms(), self.stream_time)

    def late_record(self, record, store):
        topic, offset, _ = self._current
        self.metrics["dropped_late_records"] += 1
        self.runner.late_records.append({
            "store": store.name, "task": self.id, "key": record.key, "timestamp": record.timestamp,
            "stream_time": store.stream_time, "processing_time_ms": self.runner.processing_time_ms(),
            "topic": topic, "partition": self.partition, "offset": offset})


def _key_text(key):
    if isinstance(key, bytes):
        return key.decode("utf-8", errors="replace")
    return key


class StreamsRunner:
    """What ``StreamsApp`` and ``TopologyTestDriver`` share: tasks, global stores, metrics, late records,
    and the read-only views of the stores (``store_items``, ``windows_snapshot``, ``window_view``)."""

    def __init__(self, topology, application_id):
        if isinstance(topology, StreamBuilder):
            topology = topology._topology or topology.build()
        if not isinstance(topology, Topology):
            raise TypeError(f"expected a Topology (builder.build()), got {type(topology).__name__}")
        if not isinstance(application_id, str) or not application_id:
            raise ValueError(f"application.id must be a non-empty str, got {application_id!r}")
        self.topology, self.application_id = topology, application_id
        self.tasks = {}
        self.global_stores = {name: spec.create(lambda *a: None) for name, (_, spec) in topology.global_tables.items()}
        self.metrics = collections.Counter()
        self.late_records = []
        topology._set_runner(self)

    def processing_time_ms(self):
        raise NotImplementedError

    def send(self, topic, key, value, timestamp, partition=None, sink=None, task=None):
        raise NotImplementedError

    def global_store(self, name):
        return self.global_stores[name]

    def _global_update(self, name, key, value, timestamp):
        store = self.global_stores[name]
        store.restore(key, value, timestamp)

    # -- reading the state -----------------------------------------------------------------------------
    def _stores(self, name):
        if name not in self.topology.stores:
            raise KeyError(f"no state store {name!r} in this topology (stores: {sorted(self.topology.stores)})")
        return [t.stores[name] for _, t in sorted(self.tasks.items()) if name in t.stores]

    def store_items(self, name):
        """``{key: value}`` of store ``name`` over the local tasks (windowed keys are ``Windowed``)."""
        out = {}
        for store in self._stores(name):
            out.update(store.items())
        return out

    def stream_time(self, name):
        """The largest event time the store has seen over the local tasks (``-1``: none yet)."""
        return max([s.stream_time for s in self._stores(name)] + [-1])

    def windows_snapshot(self, name, value_fn=None):
        """The windows of a windowed store in the structure ``eventsim.widgets.WindowView`` draws:

        ``[{"key", "start_ms", "end_ms", "count" or "value", "state": "open"|"closed", "late_records"}]``.
        ``count()`` gives ``"count"``, other aggregations ``"value"`` (``None`` for a window that only
        received late records); ``value_fn(aggregate)`` can make an aggregate shorter to show. Session
        windows ``[start, end]`` are shown as ``[start, end + 1)``.
        """
        spec = self.topology.stores.get(name)
        if spec is None or spec.kind not in ("window", "session"):
            raise KeyError(f"{name!r} is not a windowed store of this topology")
        field = "count" if spec.aggregation == "count" else "value"
        out = []
        for store in self._stores(name):
            for key, window, value, late in store.windows():
                end = window.end_ms + 1 if spec.kind == "session" else window.end_ms
                closed = spec.windows.is_closed(window, store.stream_time)
                if value_fn is not None and value is not None:
                    value = value_fn(value)
                out.append({"key": _key_text(key), "start_ms": window.start_ms, "end_ms": end,
                            field: value if value is not None or field == "value" else 0,
                            "state": "closed" if closed else "open", "late_records": late})
        return sorted(out, key=lambda w: (str(w["key"]), w["start_ms"], w["end_ms"]))

    def window_view(self, name, title=None, value_fn=None):
        """A ``WindowView`` of the store: stream time as ``now_ms``, ``stream time - grace`` as watermark
        (windows ending at or before it are closed)."""
        from ..widgets import WindowView
        spec = self.topology.stores[name]
        now = self.stream_time(name)
        now = None if now < 0 else now
        mark = None if now is None else now - spec.windows.grace_ms
        return WindowView(self.windows_snapshot(name, value_fn), title=title or name, now_ms=now, watermark_ms=mark)


class TopologyTestDriver(StreamsRunner):
    """Runs a topology without Kafka, one record at a time (Kafka's ``TopologyTestDriver``).

        driver = TopologyTestDriver(topology, {"application.id": "test"})
        driver.pipe("payments", "card-1", {"amount": 5}, timestamp_ms=1000)
        driver.read_output("alerts")          # [(key, value, timestamp)], deserialized by the sink's serdes

    Keys and values given to ``pipe`` go through the source's serdes (so serde errors show up as in a real
    run). Everything happens on partition ``partition`` (default 0). Repartition topics are followed at
    once; changelog records are kept in ``driver.changelog(store)``. ``processing_time_ms`` is a settable
    number (``advance(ms)`` moves it), since nothing else tells time here.
    """

    def __init__(self, topology, conf=None, processing_time_ms=0):
        conf = dict(conf or {})
        super().__init__(topology, conf.get("application.id", "test-driver"))
        self._now = int(processing_time_ms)
        self._outputs = collections.defaultdict(list)
        self._changelogs = collections.defaultdict(list)
        self._offsets = collections.Counter()

    def processing_time_ms(self):
        return self._now

    def advance(self, ms):
        """Move processing time forward (event time only moves with record timestamps)."""
        if ms < 0:
            raise ValueError(f"processing time does not go backwards ({ms} ms)")
        self._now += int(ms)

    def _task(self, topic, partition):
        sub = self.topology.subtopology_of(topic, self.application_id)
        if sub is None:
            raise KeyError(f"topic {topic!r} is not a source of this topology "
                           f"(sources: {self.topology.source_topics(self.application_id)})")
        key = (sub.id, partition)
        if key not in self.tasks:
            self.tasks[key] = Task(self, sub, partition)
        return self.tasks[key]

    def pipe_raw(self, topic, key, value, timestamp_ms, partition=0):
        """Feed one record of raw bytes."""
        for name, (gtopic, _) in self.topology.global_tables.items():
            if gtopic == topic:
                return self._global_update(name, key, value, timestamp_ms)
        task = self._task(topic, partition)
        offset = self._offsets[(topic, partition)]
        self._offsets[(topic, partition)] += 1
        task.process(topic, offset, key, value, timestamp_ms)

    def pipe(self, topic, key, value, timestamp_ms, partition=0):
        """Feed one record given as objects; the topology's serdes for ``topic`` turn them into bytes."""
        for name, (gtopic, spec) in self.topology.global_tables.items():
            if gtopic == topic:
                return self.pipe_raw(topic, spec.key_serde.serialize(key, "key"),
                                     spec.value_serde.serialize(value, "value"), timestamp_ms, partition)
        task = self._task(topic, partition)
        source = task.sources[topic]
        self.pipe_raw(topic, source.key_serde.serialize(key, "key"), source.value_serde.serialize(value, "value"),
                      timestamp_ms, partition)

    def send(self, topic, key, value, timestamp, partition=None, sink=None, task=None):
        self.metrics["records_sent"] += 1
        if topic in self.topology.repartition_topics(self.application_id):
            return self.pipe_raw(topic, key, value, timestamp, 0 if partition is None else partition)
        if sink is None:        # a changelog record
            self._changelogs[topic].append((key, value, timestamp, partition))
            return
        self._outputs[topic].append((sink.key_serde.deserialize(key, "key"),
                                     sink.value_serde.deserialize(value, "value"), timestamp))

    def read_output(self, topic):
        """The records written to ``topic`` since the last read, as ``(key, value, timestamp)``."""
        out, self._outputs[topic] = self._outputs[topic], []
        return out

    def changelog(self, store_name):
        """Every changelog record of a store so far: ``(key bytes, value bytes, timestamp, partition)``."""
        spec = self.topology.stores[store_name]
        return list(self._changelogs[spec.changelog_topic(self.application_id)])

    def store(self, name, partition=0):
        """The store object of task ``<sub-topology>_<partition>``."""
        for (sub, p), task in sorted(self.tasks.items()):
            if p == partition and name in task.stores:
                return task.stores[name]
        raise KeyError(f"no task on partition {partition} has store {name!r} yet")


__all__ = ["Task", "StreamsRunner", "TopologyTestDriver"]
