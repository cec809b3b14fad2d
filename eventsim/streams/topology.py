"""The DSL: ``StreamBuilder`` -> ``KStream`` / ``KGroupedStream`` / ``KTable`` -> a ``Topology``.

    builder = streams.StreamBuilder()
    payments = builder.stream("payments", value_serde=serdes.json)
    big = payments.filter(lambda k, v: v["amount"] > 100)
    big.to("big-payments", value_serde=serdes.json)
    counts = payments.group_by_key().count(name="payment-counts")     # a KTable
    counts.to_stream().to("payment-counts", value_serde=serdes.long)
    topology = builder.build()
    print(topology.describe())

Operator names follow Kafka's (``filter``, ``map``, ``mapValues`` -> ``map_values``, ``flatMap`` ->
``flat_map``, ``branch``, ``peek``, ``to``, ``groupByKey`` -> ``group_by_key``, ``groupBy`` -> ``group_by``,
``windowedBy`` -> ``windowed_by``, ``count``, ``aggregate``, ``reduce``, ``toStream`` -> ``to_stream``, ``join``,
``leftJoin`` -> ``left_join``). Functions take ``(key, value)`` as Kafka's lambdas do.

Serdes travel with the stream: an operator that keeps keys and values (``filter``, ``peek``, ``branch``)
keeps them; one that makes new values (``map_values``, ``join``) resets the value serde to the builder's
default (bytes), one that makes new keys resets the key serde, as Kafka Streams does. Pass a serde to
``to()`` / ``group_by()`` / ``aggregate()`` when the default does not fit.

Re-keying: after ``map``, ``select_key``, ``flat_map`` or with ``group_by(fn)``, records may sit on a
partition that does not match their new key. A grouping then goes through a **repartition topic**
``<application.id>-<store>-repartition`` (written by the producer's partitioner, read back as a new
sub-topology), as Kafka Streams does, so every key is aggregated by exactly one task.

Arguments are checked when the topology is declared, not when the first record arrives: a serde must be
one of ``eventsim.streams.serdes`` (``TypeError`` naming them otherwise), functions must be callable, topic
and store names non-empty and made of Kafka's legal characters (ASCII letters, digits, ``.``, ``_``, ``-``;
at most 249), as Kafka Streams checks store names.
"""
from __future__ import annotations

import re

from . import processors as p
from . import serdes
from .stores import StoreSpec
from .windows import SessionWindows, TimeWindows


class Internal:
    """The name of an internal topic before ``application.id`` is known: ``<application.id>-<suffix>``."""

    def __init__(self, suffix):
        self.suffix = suffix

    def resolve(self, application_id):
        return f"{application_id}-{self.suffix}"

    def __repr__(self):
        return f"<application.id>-{self.suffix}"


def resolve(topic, application_id):
    return topic.resolve(application_id) if isinstance(topic, Internal) else topic


class _Reduce:
    """``reduce(fn)`` as an aggregation: the first value is the aggregate; later ones are folded in."""
    EMPTY = object()

    def __init__(self, fn):
        self.fn = fn

    def initializer(self):
        return self.EMPTY

    def adder(self, key, value, agg):
        return value if agg is self.EMPTY else self.fn(agg, value)

    def merger(self, key, a, b):
        return b if a is self.EMPTY else a if b is self.EMPTY else self.fn(a, b)


def _count_init():
    return 0


def _count_add(key, value, agg):
    return agg + 1


def _count_merge(key, a, b):
    return a + b


def _check_callable(fn, what):
    if not callable(fn):
        raise TypeError(f"{what} must be a function, got {fn!r}")
    return fn


def _serde(serde, default, where):
    """``default`` for ``None``, else ``serde`` once checked to be a serde (``TypeError`` naming the choices)."""
    return default if serde is None else serdes.check_serde(serde, where)


_LEGAL_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}")


def _check_name(name, what):
    """A topic or store name as Kafka accepts it (``Topic.validate`` / ``Named.validate``), or ``ValueError``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what} must be a non-empty str, got {name!r}")
    if not _LEGAL_NAME.fullmatch(name) or name in (".", ".."):
        raise ValueError(f"{what} {name!r} is illegal: Kafka names are 1 to 249 characters among ASCII letters, "
                         f"digits, '.', '_' and '-' (and not '.' or '..')")
    return name


class StreamBuilder:
    """Builds a topology. ``default_key_serde`` / ``default_value_serde`` apply where no serde is given
    (Kafka's ``default.key.serde`` / ``default.value.serde``; here both default to ``serdes.bytes``)."""

    def __init__(self, default_key_serde=serdes.bytes, default_value_serde=serdes.bytes):
        self.default_key_serde = serdes.check_serde(default_key_serde, "StreamBuilder(default_key_serde=...)")
        self.default_value_serde = serdes.check_serde(default_value_serde, "StreamBuilder(default_value_serde=...)")
        self._counter = 0
        self._nodes = []
        self._sources = {}          # topic (str or Internal) -> Source
        self._stores = {}           # name -> StoreSpec
        self._global = {}           # store name -> (topic, StoreSpec)
        self._topology = None

    # -- plumbing -------------------------------------------------------------------------------------
    def _name(self, prefix):
        name = f"{prefix}-{self._counter:010d}"
        self._counter += 1
        return name

    def _add(self, node, parent=None):
        self._nodes.append(node)
        if parent is not None:
            parent.children.append(node)
        return node

    def _check_unread(self, topic):
        key = topic.suffix if isinstance(topic, Internal) else topic
        if any((t.suffix if isinstance(t, Internal) else t) == key for t in self._sources) or \
                any(t == topic for t, _ in self._global.values()):
            raise ValueError(f"topic {topic!r} is already read by another source of this topology "
                             f"(Kafka: 'Topic has already been registered by another source')")

    def _source(self, topic, key_serde, value_serde):
        self._check_unread(topic)
        node = self._add(p.Source(self._name("KSTREAM-SOURCE"), topic, key_serde, value_serde))
        self._sources[topic] = node
        return node

    def _store(self, spec):
        if spec.name in self._stores or spec.name in self._global:
            raise ValueError(f"a state store named {spec.name!r} already exists in this topology")
        self._stores[spec.name] = spec
        return spec

    # -- entry points ----------------------------------------------------------------------------------
    def stream(self, topics, key_serde=None, value_serde=None):
        """A ``KStream`` of one topic, or of several (``["a", "b"]``) read by one source node."""
        try:
            names = [topics] if isinstance(topics, str) else list(topics)
        except TypeError:
            names = []
        if not names or not all(isinstance(t, str) and t for t in names):
            raise ValueError(f"stream() needs a topic name or a list of topic names, got {topics!r}")
        for topic in names:
            _check_name(topic, "stream(): a topic name")
            self._check_unread(topic)
        if len(set(names)) != len(names):
            raise ValueError(f"stream() got a topic twice: {names!r}")
        ks = _serde(key_serde, self.default_key_serde, "stream(key_serde=...)")
        vs = _serde(value_serde, self.default_value_serde, "stream(value_serde=...)")
        first = self._source(names[0], ks, vs)
        for extra in names[1:]:        # one source node, several topics: share children by aliasing
            self._sources[extra] = first
        return KStream(self, first, ks, vs)

    def global_table(self, topic, key_serde=None, value_serde=None, name=None):
        """A ``GlobalKTable``: every instance reads *all* partitions of ``topic`` (typically compacted) into a
        store before it processes anything, then keeps it up to date. Joins need no co-partitioning."""
        _check_name(topic, "global_table(): the topic name")
        if topic in self._sources or any(t == topic for t, _ in self._global.values()):
            raise ValueError(f"topic {topic!r} is already read by another source of this topology")
        ks = _serde(key_serde, self.default_key_serde, "global_table(key_serde=...)")
        vs = _serde(value_serde, self.default_value_serde, "global_table(value_serde=...)")
        name = f"{topic}-STATE-STORE-{self._counter:010d}" if name is None else _check_name(name, "a store name")
        self._counter += 1
        spec = StoreSpec(name, "kv", ks, vs, logged=False)
        if name in self._stores or name in self._global:
            raise ValueError(f"a state store named {name!r} already exists in this topology")
        self._global[name] = (topic, spec)
        return GlobalKTable(self, topic, spec)

    def build(self):
        """The ``Topology`` (``describe()`` it to see sub-topologies, sources, processors, sinks, stores)."""
        if not self._sources:
            raise ValueError("the topology has no source: call builder.stream(topic) first")
        self._topology = Topology(self)
        return self._topology


StreamsBuilder = StreamBuilder     # Kafka's spelling


class KStream:
    """An unbounded stream of key-value records (each record is an independent event)."""

    def __init__(self, builder, node, key_serde, value_serde, key_changed=False):
        self._b, self._node = builder, node
        self.key_serde, self.value_serde = key_serde, value_serde
        self._key_changed = key_changed

    def _then(self, node, key_serde=None, value_serde=None, key_changed=None):
        self._b._add(node, self._node)
        return KStream(self._b, node, key_serde or self.key_serde, value_serde or self.value_serde,
                       self._key_changed if key_changed is None else key_changed)

    # -- stateless ------------------------------------------------------------------------------------
    def filter(self, predicate):
        """Keep records for which ``predicate(key, value)`` is true."""
        return self._then(p.Filter(self._b._name("KSTREAM-FILTER"), _check_callable(predicate, "predicate")))

    def filter_not(self, predicate):
        """Keep records for which ``predicate(key, value)`` is false."""
        return self._then(p.Filter(self._b._name("KSTREAM-FILTER"), _check_callable(predicate, "predicate"), True))

    def map(self, fn):
        """``fn(key, value) -> (new_key, new_value)``. Marks the stream for repartitioning before grouping."""
        return self._then(p.Map(self._b._name("KSTREAM-MAP"), _check_callable(fn, "map function")),
                          self._b.default_key_serde, self._b.default_value_serde, True)

    def map_values(self, fn):
        """``fn(value) -> new_value``; the key (and so the partitioning) is unchanged."""
        return self._then(p.MapValues(self._b._name("KSTREAM-MAPVALUES"), _check_callable(fn, "map_values function")),
                          value_serde=self._b.default_value_serde)

    def select_key(self, fn):
        """``fn(key, value) -> new_key``. Marks the stream for repartitioning before grouping."""
        return self._then(p.SelectKey(self._b._name("KSTREAM-KEY-SELECT"), _check_callable(fn, "select_key function")),
                          self._b.default_key_serde, key_changed=True)

    def flat_map(self, fn):
        """``fn(key, value) -> iterable of (key, value)``. Marks the stream for repartitioning."""
        return self._then(p.FlatMap(self._b._name("KSTREAM-FLATMAP"), _check_callable(fn, "flat_map function")),
                          self._b.default_key_serde, self._b.default_value_serde, True)

    def flat_map_values(self, fn):
        """``fn(value) -> iterable of values``, each with the record's key."""
        node = p.FlatMap(self._b._name("KSTREAM-FLATMAPVALUES"), _check_callable(fn, "flat_map_values function"), True)
        return self._then(node, value_serde=self._b.default_value_serde)

    def peek(self, fn, with_context=False):
        """Call ``fn(key, value)`` for each record (``fn(key, value, RecordContext)`` with ``with_context``:
        topic, partition, offset, event time, processing time, stream time), and pass it on unchanged."""
        return self._then(p.Peek(self._b._name("KSTREAM-PEEK"), _check_callable(fn, "peek function"), with_context))

    def branch(self, *predicates):
        """One stream per predicate; each record goes to the first branch whose predicate it satisfies
        (records matching none are dropped). Use ``lambda k, v: True`` last for an "everything else" branch."""
        if not predicates:
            raise ValueError("branch() needs at least one predicate")
        node = p.Branch(self._b._name("KSTREAM-BRANCH"), [_check_callable(f, "branch predicate") for f in predicates])
        self._b._add(node, self._node)
        out = []
        for _ in predicates:
            child = self._b._add(p.Node(self._b._name("KSTREAM-BRANCHCHILD")), node)
            out.append(KStream(self._b, child, self.key_serde, self.value_serde, self._key_changed))
        return out

    def to(self, topic, key_serde=None, value_serde=None):
        """Write the stream to ``topic`` (which must exist). Records keep their event time as timestamp."""
        _check_name(topic, "to(): the topic name")
        ks = _serde(key_serde, self.key_serde, "to(key_serde=...)")
        vs = _serde(value_serde, self.value_serde, "to(value_serde=...)")
        self._b._add(p.Sink(self._b._name("KSTREAM-SINK"), topic, ks, vs), self._node)

    # -- joins ----------------------------------------------------------------------------------------
    def join(self, table, joiner, key_selector=None):
        """Stream-table inner join with a ``GlobalKTable``: ``joiner(stream_value, table_value)`` for records
        whose key (or ``key_selector(key, value)``) is in the table; others are dropped."""
        return self._join(table, joiner, key_selector, False)

    def left_join(self, table, joiner, key_selector=None):
        """Like ``join`` but records without a match go on with ``joiner(stream_value, None)``."""
        return self._join(table, joiner, key_selector, True)

    def _join(self, table, joiner, key_selector, left):
        if not isinstance(table, GlobalKTable):
            raise TypeError(f"join() takes a GlobalKTable from builder.global_table(topic), got "
                            f"{type(table).__name__} (joins with a co-partitioned KTable are not built)")
        if key_selector is not None:
            _check_callable(key_selector, "key_selector")
        node = p.GlobalTableJoin(self._b._name("KSTREAM-LEFTJOIN" if left else "KSTREAM-JOIN"), table.store.name,
                                 _check_callable(joiner, "joiner"), key_selector, left)
        node.stores = (table.store.name,)
        return self._then(node, value_serde=self._b.default_value_serde)

    # -- grouping -------------------------------------------------------------------------------------
    def group_by_key(self, key_serde=None, value_serde=None):
        """Group by the current key (repartitioning first if an upstream operator changed keys)."""
        return KGroupedStream(self, _serde(key_serde, self.key_serde, "group_by_key(key_serde=...)"),
                              _serde(value_serde, self.value_serde, "group_by_key(value_serde=...)"),
                              repartition=self._key_changed)

    def group_by(self, fn, key_serde=None, value_serde=None):
        """Group by ``fn(key, value)``: the records get that key and go through a repartition topic."""
        ks = _serde(key_serde, self._b.default_key_serde, "group_by(key_serde=...)")
        vs = _serde(value_serde, self.value_serde, "group_by(value_serde=...)")
        return KGroupedStream(self.select_key(fn), ks, vs, repartition=True)


class KGroupedStream:
    """Records grouped by key, ready for a stateful aggregation (``count``, ``aggregate``, ``reduce``)."""

    def __init__(self, stream, key_serde, value_serde, repartition):
        self._stream, self._b = stream, stream._b
        self.key_serde, self.value_serde = key_serde, value_serde
        self._repartition = repartition

    def _parent(self, store_name):
        """The node an aggregation hangs from: the stream itself, or a repartition round trip."""
        if not self._repartition:
            return self._stream._node
        topic = Internal(f"{store_name}-repartition")
        sink = p.Sink(self._b._name("KSTREAM-SINK"), topic, self.key_serde, self.value_serde)
        self._b._add(sink, self._stream._node)
        return self._b._source(topic, self.key_serde, self.value_serde)

    def _aggregate(self, kind, name, value_serde, initializer, adder, label, windows=None, merger=None):
        name = self._b._name("KSTREAM-AGGREGATE-STATE-STORE") if name is None else _check_name(name, "a store name")
        spec = self._b._store(StoreSpec(name, kind, self.key_serde, value_serde, windows, label))
        parent = self._parent(name)
        node_name = self._b._name("KSTREAM-AGGREGATE")
        if kind == "kv":
            node = p.Aggregate(node_name, name, initializer, adder)
        elif kind == "window":
            node = p.WindowedAggregate(node_name, name, windows, initializer, adder)
        else:
            node = p.SessionAggregate(node_name, name, windows, initializer, adder, merger)
        self._b._add(node, parent)
        spec.users.append(node.name)
        return KTable(self._b, node, spec)

    def count(self, name=None):
        """Count records per key; a ``KTable`` of ints (stored and written with ``serdes.long``)."""
        return self._aggregate("kv", name, serdes.long, _count_init, _count_add, "count")

    def aggregate(self, initializer, adder, name=None, value_serde=None):
        """``agg = adder(key, value, agg)`` per key, from ``initializer()``. ``value_serde`` (default: the
        builder's default) writes the aggregate to the changelog."""
        _check_callable(initializer, "initializer")
        _check_callable(adder, "adder")
        vs = _serde(value_serde, self._b.default_value_serde, "aggregate(value_serde=...)")
        return self._aggregate("kv", name, vs, initializer, adder, "aggregate")

    def reduce(self, reducer, name=None):
        """``agg = reducer(agg, value)``; the first value of a key is its aggregate."""
        r = _Reduce(_check_callable(reducer, "reducer"))
        return self._aggregate("kv", name, self.value_serde, r.initializer, r.adder, "reduce")

    def windowed_by(self, windows):
        """Aggregate per key *and* window: ``TimeWindows`` (tumbling/hopping) or ``SessionWindows``."""
        if not isinstance(windows, (TimeWindows, SessionWindows)):
            raise TypeError(f"windowed_by() takes TimeWindows or SessionWindows (streams.tumbling(), hopping(), "
                            f"session()), got {windows!r}")
        return WindowedKStream(self, windows.check())


class WindowedKStream:
    """A grouped stream cut into windows; its aggregations give a windowed ``KTable``."""

    def __init__(self, grouped, windows):
        self._g, self.windows = grouped, windows
        self._kind = "window" if isinstance(windows, TimeWindows) else "session"

    def count(self, name=None):
        return self._g._aggregate(self._kind, name, serdes.long, _count_init, _count_add, "count",
                                  self.windows, _count_merge)

    def aggregate(self, initializer, adder, merger=None, name=None, value_serde=None):
        """Per key and window. Session windows need ``merger(key, agg1, agg2)`` to merge two sessions."""
        _check_callable(initializer, "initializer")
        _check_callable(adder, "adder")
        if self._kind == "session":
            _check_callable(merger, "merger (session windows merge sessions)")
        vs = _serde(value_serde, self._g._b.default_value_serde, "aggregate(value_serde=...)")
        return self._g._aggregate(self._kind, name, vs, initializer, adder, "aggregate", self.windows, merger)

    def reduce(self, reducer, name=None):
        r = _Reduce(_check_callable(reducer, "reducer"))
        return self._g._aggregate(self._kind, name, self._g.value_serde, r.initializer, r.adder, "reduce",
                                  self.windows, r.merger)


class KTable:
    """A changelog stream read as a table: the latest value per key (per key and window if windowed).

    The values live in the state store ``store_name`` of whichever ``StreamsApp`` / ``TopologyTestDriver``
    runs the topology; ``items()``, ``windows_snapshot()`` and ``window_view()`` read the latest runner's.
    """

    def __init__(self, builder, node, spec):
        self._b, self._node, self.store = builder, node, spec

    @property
    def store_name(self):
        return self.store.name

    @property
    def windowed(self):
        return self.store.kind in ("window", "session")

    def to_stream(self):
        """Every update of the table as a record (windowed tables: keys are ``Windowed(key, window)``,
        written by default with the windowed serde of the grouping key; a deleted session is a ``None``)."""
        return KStream(self._b, self._node, self.store.changelog_key_serde(), self.store.value_serde)

    def _runner(self, runner):
        runner = runner or (self._b._topology.last_runner() if self._b._topology else None)
        if runner is None:
            raise RuntimeError(f"no StreamsApp or TopologyTestDriver has run this topology yet, so store "
                               f"{self.store_name!r} has no contents")
        return runner

    def items(self, runner=None):
        """The table's current ``(key, value)`` pairs as the (latest) runner holds them."""
        return self._runner(runner).store_items(self.store_name)

    def windows_snapshot(self, runner=None, value_fn=None):
        """The windows in ``eventsim.widgets.WindowView``'s input structure (see ``StreamsRunner``)."""
        return self._runner(runner).windows_snapshot(self.store_name, value_fn)

    def window_view(self, runner=None, title=None, value_fn=None):
        """A ``WindowView`` widget of this windowed table (stream time as ``now``, close time as watermark)."""
        return self._runner(runner).window_view(self.store_name, title=title, value_fn=value_fn)


class GlobalKTable:
    """A table of a whole topic, on every instance (Kafka's ``GlobalKTable``); used by ``KStream.join``."""

    def __init__(self, builder, topic, spec):
        self._b, self.topic, self.store = builder, topic, spec

    @property
    def store_name(self):
        return self.store.name

    def items(self, runner=None):
        runner = runner or (self._b._topology.last_runner() if self._b._topology else None)
        if runner is None:
            raise RuntimeError("no StreamsApp or TopologyTestDriver has run this topology yet")
        return runner.global_store(self.store_name).items()


class Topology:
    """The built graph, cut into **sub-topologies** (connected parts: a repartition topic separates two).

    Each sub-topology runs as one *task* per input partition (task id ``<sub-topology>_<partition>``,
    as Kafka names them); a task owns its partition of every store of its sub-topology.
    """

    def __init__(self, builder):
        self.builder = builder
        self.nodes = list(builder._nodes)
        self.sources = dict(builder._sources)
        self.stores = dict(builder._stores)
        self.global_tables = dict(builder._global)
        self._last_runner = None
        self.subtopologies = self._cut()

    def last_runner(self):
        return self._last_runner() if self._last_runner is not None else None

    def _set_runner(self, runner):
        import weakref
        self._last_runner = weakref.ref(runner)

    def _cut(self):
        """Union-find over parent/child edges and shared stores, numbered by first node."""
        parent = {n.name: n.name for n in self.nodes}

        def find(x):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def union(a, b):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        by_store = {}
        for n in self.nodes:
            for c in n.children:
                union(n.name, c.name)
            for s in n.stores:
                if s in self.stores:
                    by_store.setdefault(s, n.name)
                    union(by_store[s], n.name)
        groups = {}
        for n in self.nodes:
            groups.setdefault(find(n.name), []).append(n)
        out = []
        for i, nodes in enumerate(sorted(groups.values(), key=lambda ns: self.nodes.index(ns[0]))):
            names = {n.name for n in nodes}
            out.append(SubTopology(i, nodes, [t for t, s in self.sources.items() if s.name in names],
                                   sorted({s for n in nodes for s in n.stores if s in self.stores})))
        return out

    def subtopology_of(self, topic, application_id):
        for sub in self.subtopologies:
            if topic in sub.topic_names(application_id):
                return sub
        return None

    def source_topics(self, application_id):
        """Every topic the main consumer subscribes to: user topics and repartition topics."""
        return sorted(resolve(t, application_id) for t in self.sources)

    def user_source_topics(self):
        return sorted(t for t in self.sources if not isinstance(t, Internal))

    def repartition_topics(self, application_id):
        return sorted(t.resolve(application_id) for t in self.sources if isinstance(t, Internal))

    def changelog_topics(self, application_id):
        return sorted(spec.changelog_topic(application_id) for spec in self.stores.values() if spec.logged)

    def describe(self):
        """A text description in the style of Kafka's ``Topology.describe()``."""
        lines = ["Topologies:"]
        for sub in self.subtopologies:
            lines.append(f"   Sub-topology: {sub.id}")
            for n in sub.nodes:
                if isinstance(n, p.Source):
                    topics = [t for t, s in self.sources.items() if s is n]
                    lines.append(f"    Source: {n.name} (topics: [{', '.join(map(str, topics))}])")
                elif isinstance(n, p.Sink):
                    lines.append(f"    Sink: {n.name} (topic: {n.topic})")
                else:
                    stores = f" (stores: [{', '.join(n.stores)}])" if n.stores else ""
                    lines.append(f"    Processor: {n.name}{stores}")
                if n.children:
                    lines.append(f"      --> {', '.join(c.name for c in n.children)}")
        for name, (topic, _) in self.global_tables.items():
            lines.append(f"   Global store: {name} (topic: {topic})")
        return "\n".join(lines)

    def __repr__(self):
        return self.describe()


class SubTopology:
    def __init__(self, sub_id, nodes, topics, stores):
        self.id, self.nodes, self.topics, self.stores = sub_id, nodes, topics, stores

    def topic_names(self, application_id):
        return [resolve(t, application_id) for t in self.topics]
