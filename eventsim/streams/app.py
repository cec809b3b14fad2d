"""``StreamsApp``: runs a topology against Kafka with a consumer, a producer and an admin client.

Kafka Streams' ``KafkaStreams`` in miniature, built only on the confluent-kafka client API, so it runs on
the simulator and on real Kafka alike::

    app = streams.StreamsApp(topology, {"application.id": "fraud", "bootstrap.servers": servers,
                                        "processing.guarantee": "exactly_once_v2"})
    app.run(timeout=30)        # or app.step() to process what is available now
    app.close()

Start-up (``start()``, or the first ``step()``/``run()``):

1. the admin client checks the source topics exist and creates the internal topics:
   ``<application.id>-<store>-changelog`` (``cleanup.policy=compact``, as many partitions as the input)
   and ``<application.id>-<store>-repartition``;
2. with ``exactly_once_v2`` the producer calls ``init_transactions()`` (``transactional.id`` is
   ``<application.id>-0``), which fences a crashed predecessor and aborts its open transaction;
3. global tables are read from the beginning to the end;
4. the consumer joins the group ``group.id = application.id`` and subscribes to the source topics.

Then each ``step()``: poll a batch; for each record, find its task (creating it, and **restoring** its stores
from their changelog partitions first, if it is new); run the record through the sub-topology; send the
results; then commit:

* ``at_least_once`` (default): ``producer.flush()``, then ``consumer.commit(offsets)``. A crash between the
  two leaves results written whose input offsets were not committed: the restarted app processes those
  records again and writes their results twice (and counts them twice in its state).
* ``exactly_once_v2``: the step is one transaction: ``begin_transaction()``, the results and changelog
  records, ``send_offsets_to_transaction(consumer.position(...), consumer.consumer_group_metadata())``,
  ``commit_transaction()``. A crash aborts it all; ``read_committed`` readers never see the partial results.

``crash_after(n)`` makes the app die right after its n-th processed record, before committing (results
handed to the producer are flushed first, as they would be on the wire): the way tests show the difference.

Simplifications: one thread; a commit after every step (Kafka: every ``commit.interval.ms``); no record
caches; repartition topics are not purged after commits; a crash on the simulator is
``Consumer._crash()`` (no LeaveGroup: the group waits ``session.timeout.ms``), on real Kafka ``close()``.
"""
from __future__ import annotations

import time

from ..errors import KafkaError, KafkaException
from ..message import OFFSET_BEGINNING, TopicPartition
from .task import StreamsRunner, Task

AT_LEAST_ONCE = "at_least_once"
EXACTLY_ONCE_V2 = "exactly_once_v2"

#: The configuration keys StreamsApp itself understands (Kafka Streams' names). Keys starting with
#: ``producer.``, ``consumer.`` or ``admin.`` go (without the prefix) to that client only; keys starting with
#: ``topic.`` are topic configs for the internal topics it creates (e.g. ``topic.segment.ms``), as in Kafka
#: Streams; any other key goes to every client (so ``bootstrap.servers`` and ``client.id`` reach all three).
STREAMS_DEFAULTS = {
    "application.id": None,
    "processing.guarantee": AT_LEAST_ONCE,
    "replication.factor": -1,          # internal topics: -1 = the broker's default.replication.factor
    "max.poll.records": 500,           # records per step
    "poll.ms": 100,                    # how long one step waits for the first record
    "restore.timeout.ms": 60000,       # give up restoring a store after this long
}

#: Kafka Streams settings StreamsApp does not implement. No client knows them either, so instead of failing at
#: ``start()`` with "No such configuration property" (after creating the internal topics) the constructor
#: refuses them and says what happens here instead.
UNSUPPORTED = {
    "commit.interval.ms": "StreamsApp commits after every step()",
    "num.stream.threads": "StreamsApp runs one thread; start several StreamsApp instances to share the partitions",
    "num.standby.replicas": "there are no standby replicas: a new owner restores from the changelog",
    "state.dir": "state lives in memory and is restored from the changelogs",
    "cache.max.bytes.buffering": "there are no record caches: every update is forwarded and logged",
    "statestore.cache.max.bytes": "there are no record caches: every update is forwarded and logged",
    "default.key.serde": "pass serdes to builder.stream(...), to(...), or StreamBuilder(default_key_serde=...)",
    "default.value.serde": "pass serdes to builder.stream(...), to(...), or StreamBuilder(default_value_serde=...)",
    "default.timestamp.extractor": "event time is the record's timestamp",
    "default.deserialization.exception.handler": "there are no exception handlers: a failure stops the app (ERROR)",
    "default.production.exception.handler": "there are no exception handlers: a failure stops the app (ERROR)",
    "max.task.idle.ms": "records are processed in the order the consumer returns them",
    "topology.optimization": "the topology runs as it is built",
    "application.server": "there are no interactive queries across instances",
}


def _kafka_exceptions():
    """``KafkaException`` of eventsim and, when installed, of confluent-kafka (real clients raise that one)."""
    try:
        from confluent_kafka import KafkaException as RealKafkaException
    except ImportError:                      # pragma: no cover - confluent-kafka is a dependency
        return (KafkaException,)
    return (KafkaException, RealKafkaException)


KAFKA_EXCEPTIONS = _kafka_exceptions()


def topic_partition(client, topic, partition, offset=None):
    """A ``TopicPartition`` of the client's own library (confluent-kafka's C type refuses eventsim's)."""
    if type(client).__module__.startswith("eventsim"):
        cls = TopicPartition
    else:
        from confluent_kafka import TopicPartition as cls
    return cls(topic, partition) if offset is None else cls(topic, partition, offset)


class SimulatedCrash(RuntimeError):
    """Raised by ``step()``/``run()`` when ``crash_after(n)`` fires: the instance is gone, as after kill -9."""


class Clients:
    """How a ``StreamsApp`` makes its clients: ``producer(conf)``, ``consumer(conf)``, ``admin`` (a client).

    ``Clients.for_conf(conf)`` picks eventsim's clients for ``sim://`` bootstrap servers and confluent-kafka's
    otherwise. ``Clients(producer_factory, consumer_factory, admin)`` takes any factories, e.g. a
    ``eventsim.connect()`` handle's ``Producer`` / ``Consumer`` / ``admin()``.
    """

    def __init__(self, producer_factory, consumer_factory, admin):
        self.producer, self.consumer, self.admin = producer_factory, consumer_factory, admin

    @classmethod
    def for_conf(cls, conf):
        servers = conf.get("bootstrap.servers") or ""
        if servers.startswith("sim://"):
            from ..admin import AdminClient
            from ..consumer import Consumer
            from ..producer import Producer
        else:
            from confluent_kafka import Consumer, Producer
            from confluent_kafka.admin import AdminClient
        admin_conf = {k: v for k, v in conf.items() if k in ("bootstrap.servers", "client.id")}
        return cls(Producer, Consumer, AdminClient(admin_conf))

    @classmethod
    def from_handle(cls, handle):
        """From anything with ``Producer(conf)``, ``Consumer(conf)`` and ``admin()``/``AdminClient(conf)``."""
        admin = handle.admin() if hasattr(handle, "admin") else handle.AdminClient({})
        return cls(handle.Producer, handle.Consumer, admin)

    def new_topic(self, name, partitions, replication_factor, config):
        if type(self.admin).__module__.startswith("eventsim"):
            from ..admin import NewTopic
        else:
            from confluent_kafka.admin import NewTopic
        return NewTopic(name, num_partitions=partitions, replication_factor=replication_factor, config=config)


def _conf_error(text):
    return KafkaException(KafkaError(KafkaError._INVALID_ARG, reason=text))


def split_conf(conf):
    """``(streams settings, producer conf, consumer conf)`` from one StreamsApp configuration dict
    (``settings["topic"]`` holds the ``topic.*`` configs for internal topics)."""
    if not isinstance(conf, dict):
        raise TypeError(f"conf must be a dict, got {type(conf).__name__}")
    settings = dict(STREAMS_DEFAULTS, topic={})
    common, prod, cons = {}, {}, {}
    for key, value in conf.items():
        if not isinstance(key, str):
            raise _conf_error(f"configuration keys are str, got {key!r}")
        if key in UNSUPPORTED:
            raise _conf_error(f"{key} is a Kafka Streams setting StreamsApp does not implement: {UNSUPPORTED[key]}")
        if key in STREAMS_DEFAULTS:
            settings[key] = value
        elif key.startswith("producer."):
            prod[key[len("producer."):]] = value
        elif key.startswith("consumer."):
            cons[key[len("consumer."):]] = value
        elif key.startswith("topic."):
            settings["topic"][key[len("topic."):]] = str(value)
        elif key.startswith("admin."):
            pass
        else:
            common[key] = value
    app_id = settings["application.id"]
    if not isinstance(app_id, str) or not app_id:
        raise _conf_error(f"application.id must be set to a non-empty string (it names the consumer group, the "
                          f"transactional.id and the internal topics), got {app_id!r}")
    guarantee = settings["processing.guarantee"]
    if guarantee not in (AT_LEAST_ONCE, EXACTLY_ONCE_V2):
        raise _conf_error(f"Invalid value {guarantee!r} for configuration processing.guarantee: String must be one "
                          f"of: at_least_once, exactly_once_v2")
    for key in ("max.poll.records", "poll.ms", "restore.timeout.ms"):
        v = settings[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < (1 if key == "max.poll.records" else 0):
            raise _conf_error(f"Invalid value {v!r} for configuration {key}: expected an int >= "
                              f"{1 if key == 'max.poll.records' else 0}")
    rf = settings["replication.factor"]
    if isinstance(rf, bool) or not isinstance(rf, int) or not (rf == -1 or 1 <= rf <= 32767):
        raise _conf_error(f"Invalid value {rf!r} for configuration replication.factor: expected an int >= 1, or -1 "
                          f"for the broker's default.replication.factor")
    eos = guarantee == EXACTLY_ONCE_V2
    producer = dict(common, **prod)
    if eos:
        producer.setdefault("transactional.id", f"{app_id}-0")
        producer.setdefault("transaction.timeout.ms", 10000)      # Kafka Streams' EOS default
    consumer = dict(common, **cons)
    consumer.update({"group.id": app_id, "enable.auto.commit": False})
    consumer.setdefault("auto.offset.reset", "earliest")
    consumer.setdefault("isolation.level", "read_committed" if eos else "read_uncommitted")
    consumer.setdefault("enable.partition.eof", True)
    return settings, producer, consumer


def processing_clock(conf, clients=None):
    """A function giving the processing time in ms: the simulator's virtual clock for ``sim://`` clusters,
    the wall clock for real Kafka (the only place this package reads it)."""
    servers = conf.get("bootstrap.servers") or ""
    if servers.startswith("sim://"):
        from ..cluster import Cluster
        cluster = Cluster.lookup(servers)
        return lambda: cluster.now_ms
    admin = getattr(clients, "admin", None)
    cluster = getattr(admin, "_cluster", None)          # an eventsim AdminClient made by a backend handle
    if cluster is not None and hasattr(cluster, "clock"):
        return lambda: cluster.now_ms
    return lambda: int(time.time() * 1000)


def _check_count(n, what, minimum):
    """``None`` or an int >= ``minimum``, else ``ValueError``."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < minimum):
        raise ValueError(f"{what} takes an int >= {minimum} (or None), got {n!r}")


class StreamsApp(StreamsRunner):
    """One instance of a streams application (Kafka's ``KafkaStreams``). See the module docstring.

    ``StreamsApp(topology, conf, clients=None, clock=None)``: ``conf`` holds ``application.id``,
    ``bootstrap.servers``, ``processing.guarantee`` and client settings; ``clients`` is a ``Clients`` (or a
    backend handle from ``eventsim.connect()``); ``clock`` a function giving processing time in ms.
    """

    def __init__(self, topology, conf, clients=None, clock=None):
        settings, self._producer_conf, self._consumer_conf = split_conf(conf)
        super().__init__(topology, settings["application.id"])
        self.settings = settings
        self.guarantee = settings["processing.guarantee"]
        self.eos = self.guarantee == EXACTLY_ONCE_V2
        if clients is not None and not isinstance(clients, Clients):
            clients = Clients.from_handle(clients)
        self.clients = clients or Clients.for_conf(conf)
        self._clock = clock or processing_clock(conf, self.clients)
        self.state = "CREATED"
        self.producer = self.consumer = self._restorer = self._global_consumer = None
        self._crash_at = None
        self._assigned = set()
        self._revoked = set()
        self._at_end = {}
        self._delivery_errors = []
        self._in_txn = False
        self._partitions = {}
        self._global_next = {}

    def __repr__(self):
        return (f"<StreamsApp {self.application_id} {self.state} {self.guarantee}: "
                f"{self.metrics['records_processed']} records processed, {len(self.tasks)} task(s)>")

    def processing_time_ms(self):
        return int(self._clock())

    def crash_after(self, n):
        """Die (raise ``SimulatedCrash``) right after the n-th record this instance processes, before the
        commit that would cover it. ``None`` cancels."""
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ValueError(f"crash_after() takes a number of records >= 1 (or None), got {n!r}")
        self._crash_at = n

    # -- start-up -------------------------------------------------------------------------------------
    def start(self):
        """Create internal topics, init transactions, load global tables, subscribe. Called by the first
        ``step()`` if not called before."""
        if self.state != "CREATED":
            if self.state in ("DEAD", "NOT_RUNNING", "ERROR"):
                raise RuntimeError(f"this StreamsApp is {self.state}; create a new one (same application.id) "
                                   f"to carry on where it stopped")
            return
        self.state = "REBALANCING"
        self._create_internal_topics()
        self.producer = self.clients.producer(dict(self._producer_conf))
        if self.eos:
            self.producer.init_transactions(30)
        self._load_global_tables()
        self.consumer = self.clients.consumer(dict(self._consumer_conf))
        self.consumer.subscribe(self.topology.source_topics(self.application_id),
                                on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_revoke)

    def _topic_partitions(self):
        md = self.clients.admin.list_topics(timeout=10)
        return {name: len(t.partitions) for name, t in md.topics.items() if not t.error}

    def _create_internal_topics(self):
        """Changelogs (compacted) and repartition topics, sized like the sub-topology's input."""
        existing = self._topic_partitions()
        missing = [t for t in self.topology.user_source_topics() if t not in existing]
        missing += [t for t, _ in self.topology.global_tables.values() if t not in existing]
        if missing:
            raise KafkaException(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, reason=(
                f"source topic(s) {missing} of application {self.application_id!r} do not exist: create them "
                f"first (Kafka Streams: MissingSourceTopicException)")))
        wanted, pending = {}, list(self.topology.subtopologies)
        while pending:                 # a repartition topic is sized (like its writer's input) before it is read
            sub = next((s for s in pending if all(t in existing or t in wanted
                                                  for t in s.topic_names(self.application_id))), None)
            if sub is None:
                raise RuntimeError(f"cannot size the internal topics of sub-topologies {[s.id for s in pending]}")
            pending.remove(sub)
            n = max((existing.get(t) or wanted[t]) for t in sub.topic_names(self.application_id))
            for node in sub.nodes:
                topic = getattr(node, "topic", None)
                if node.kind == "SINK" and not isinstance(topic, str):
                    wanted[topic.resolve(self.application_id)] = n
            for name in sub.stores:
                wanted[self.topology.stores[name].changelog_topic(self.application_id)] = n
        new = []
        for name, n in sorted(wanted.items()):
            compact = name.endswith("-changelog")
            if name in existing:
                if existing[name] < n:
                    raise KafkaException(KafkaError(KafkaError.INVALID_PARTITIONS, reason=(
                        f"internal topic {name} has {existing[name]} partition(s), the application needs {n}")))
                continue
            config = dict(self.settings["topic"], **{"cleanup.policy": "compact" if compact else "delete"})
            new.append(self.clients.new_topic(name, n, int(self.settings["replication.factor"]), config))
        if new:
            for name, future in self.clients.admin.create_topics(new).items():
                try:
                    future.result()
                except KAFKA_EXCEPTIONS as exc:
                    if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                        raise
        self._partitions = dict(existing, **wanted)

    # -- reading a topic to its end (restore, global tables) --------------------------------------------
    def _helper_consumer(self, suffix):
        conf = {k: v for k, v in self._consumer_conf.items()}
        conf["group.id"] = f"{self.application_id}-{suffix}"      # never joined, never committed
        conf["enable.partition.eof"] = True
        return self.clients.consumer(conf)

    def _read_to_end(self, consumer, partitions, apply):
        """Read ``[(topic, partition)]`` from the beginning to the end (EOF), calling ``apply(msg)``."""
        todo = set()
        for t, p in partitions:
            low, high = consumer.get_watermark_offsets(topic_partition(consumer, t, p), timeout=10)
            if high > low:
                todo.add((t, p))
        if not todo:
            return 0
        consumer.assign([topic_partition(consumer, t, p, OFFSET_BEGINNING) for t, p in sorted(todo)])
        start, count = self.processing_time_ms(), 0
        while todo:
            if self.processing_time_ms() - start > self.settings["restore.timeout.ms"]:
                raise KafkaException(KafkaError(KafkaError._TIMED_OUT, reason=(
                    f"reading {sorted(todo)} to the end took longer than restore.timeout.ms")))
            msg = consumer.poll(0.1)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    todo.discard((msg.topic(), msg.partition()))
                    continue
                raise KafkaException(msg.error())
            apply(msg)
            count += 1
        consumer.unassign()
        return count

    def _load_global_tables(self):
        if not self.topology.global_tables:
            return
        self._global_consumer = self._helper_consumer("global")
        parts = []
        for topic, _ in self.topology.global_tables.values():
            parts += [(topic, p) for p in range(self._partitions[topic])]
        self._read_to_end(self._global_consumer, parts, self._apply_global)
        self._global_consumer.assign([topic_partition(self._global_consumer, t, p,
                                                      self._global_next.get((t, p), OFFSET_BEGINNING))
                                      for t, p in parts])

    def _apply_global(self, msg):
        for name, (topic, _) in self.topology.global_tables.items():
            if topic == msg.topic():
                self._global_update(name, msg.key(), msg.value(), msg.timestamp()[1])
        self._global_next[(msg.topic(), msg.partition())] = msg.offset() + 1

    def _refresh_global_tables(self):
        """Apply what has arrived on the global topics since (Kafka's global stream thread)."""
        if self._global_consumer is None:
            return
        while True:
            msg = self._global_consumer.poll(0)
            if msg is None:
                return
            if not msg.error():
                self._apply_global(msg)

    def _restore(self, task):
        """Rebuild the task's stores from their changelog partitions before it processes anything."""
        if not task.stores:
            return
        if self._restorer is None:
            self._restorer = self._helper_consumer("restore")
        by_topic = {}
        for store in task.stores.values():
            by_topic[store.spec.changelog_topic(self.application_id)] = store
        n = self._read_to_end(self._restorer, [(t, task.partition) for t in sorted(by_topic)],
                              lambda m: by_topic[m.topic()].restore(m.key(), m.value(), m.timestamp()[1]))
        self.metrics["restored_records"] += n
        task.stream_time = max([task.stream_time] + [s.stream_time for s in task.stores.values()])

    # -- rebalance callbacks ----------------------------------------------------------------------------
    def _on_assign(self, consumer, partitions):
        self._assigned |= {(tp.topic, tp.partition) for tp in partitions}
        for tp in partitions:
            self._at_end[(tp.topic, tp.partition)] = False
        self.state = "RUNNING"

    def _on_revoke(self, consumer, partitions):
        """Partitions move away: forget their tasks (a later owner restores them from the changelog).
        On ``close()`` the tasks are kept, so their stores can still be read."""
        if self.state in ("DEAD", "PENDING_SHUTDOWN"):
            return
        gone = {(tp.topic, tp.partition) for tp in partitions}
        self._assigned -= gone
        self._revoked |= gone
        for t, p in gone:
            self._at_end.pop((t, p), None)
            sub = self.topology.subtopology_of(t, self.application_id)
            if sub is not None:
                self.tasks.pop((sub.id, p), None)
        self.state = "REBALANCING"

    # -- processing -------------------------------------------------------------------------------------
    def _task(self, topic, partition):
        sub = self.topology.subtopology_of(topic, self.application_id)
        key = (sub.id, partition)
        task = self.tasks.get(key)
        if task is None:
            task = self.tasks[key] = Task(self, sub, partition)
            self._restore(task)
        return task

    def send(self, topic, key, value, timestamp, partition=None, sink=None, task=None):
        """Hand one result (or changelog record) to the producer, keeping its event time as timestamp."""
        self.metrics["records_sent"] += 1
        kwargs = {"partition": partition} if partition is not None else {}
        while True:
            try:
                self.producer.produce(topic, value=value, key=key, timestamp=max(0, timestamp),
                                      on_delivery=self._on_delivery, **kwargs)
                return
            except BufferError:
                self.producer.poll(0.1)

    def _repartition_names(self):
        return self.topology.repartition_topics(self.application_id)

    def _on_delivery(self, err, msg):
        if err is not None:
            self._delivery_errors.append((err, msg.topic()))
        elif (msg.topic(), msg.partition()) in self._at_end:
            self._at_end[(msg.topic(), msg.partition())] = False   # we wrote to our own input (repartition)

    def _poll_batch(self, limit):
        self._revoked = set()
        out = []
        timeout = self.settings["poll.ms"] / 1000
        while len(out) < limit:
            msg = self.consumer.poll(timeout)
            timeout = 0
            if msg is None:
                break
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    self._at_end[(msg.topic(), msg.partition())] = True
                    continue
                if err.fatal():
                    raise KafkaException(err)
                self.metrics["consumer_errors"] += 1
                continue
            self._at_end[(msg.topic(), msg.partition())] = False
            out.append(msg)
        return [m for m in out if (m.topic(), m.partition()) not in self._revoked]

    def step(self, max_records=None):
        """Poll once and process what came (up to ``max.poll.records``), then commit. Returns the count."""
        self.start()
        if self.state in ("DEAD", "ERROR", "NOT_RUNNING"):
            raise RuntimeError(f"this StreamsApp is {self.state}")
        _check_count(max_records, "step(max_records=...)", 1)
        limit = self.settings["max.poll.records"] if max_records is None else min(
            max_records, self.settings["max.poll.records"])
        self._refresh_global_tables()
        batch = self._poll_batch(limit)
        for topic, partition in sorted(self._assigned):     # new assignment: restore before processing
            self._task(topic, partition)
        if not batch:
            return 0
        try:
            if self.eos:
                self.producer.begin_transaction()
                self._in_txn = True
            done = set()
            for msg in batch:
                task = self._task(msg.topic(), msg.partition())
                task.process(msg.topic(), msg.offset(), msg.key(), msg.value(), msg.timestamp()[1])
                done.add((msg.topic(), msg.partition()))
                self.metrics["records_polled"] += 1
                if self._crash_at is not None and self.metrics["records_polled"] >= self._crash_at:
                    self._crash()
            self._commit(done)
        except SimulatedCrash:
            raise
        except Exception:
            self._fail()
            raise
        return len(batch)

    def _commit(self, partitions):
        positions = [tp for tp in self.consumer.position([topic_partition(self.consumer, t, p)
                                                          for t, p in sorted(partitions)]) if tp.offset >= 0]
        if self.eos:
            self.producer.send_offsets_to_transaction(positions, self.consumer.consumer_group_metadata())
            self.producer.commit_transaction()
            self._in_txn = False
        else:
            self.producer.flush()
            if self._delivery_errors:
                err, topic = self._delivery_errors[0]
                raise KafkaException(KafkaError(err.code(), reason=f"writing to {topic} failed: {err.str()}"))
            if positions:
                self.consumer.commit(offsets=positions, asynchronous=False)
        self.metrics["commits"] += 1

    def _fail(self):
        """A processing or client error: abort the open transaction, stop (Kafka: state ERROR)."""
        self.state = "ERROR"
        if self._in_txn:
            try:
                self.producer.abort_transaction()
            except KAFKA_EXCEPTIONS:
                pass
            self._in_txn = False

    def _crash(self):
        self.producer.flush()
        self.state = "DEAD"
        crash = getattr(self.consumer, "_crash", None)
        if crash is not None:
            crash()            # simulator: the process is gone; the group notices after session.timeout.ms
        else:
            self.consumer.close()
        for helper in (self._restorer, self._global_consumer):
            if helper is not None:
                helper.close()
        raise SimulatedCrash(f"{self.application_id}: simulated crash after {self.metrics['records_polled']} "
                             f"record(s), before committing ({self.guarantee})")

    def idle(self):
        """Caught up: assigned, every assigned partition reported end-of-partition, nothing buffered."""
        return bool(self._assigned) and all(self._at_end.get(tp, False) for tp in self._assigned)

    def run(self, max_records=None, timeout=120.0, until_idle=True):
        """Step until ``max_records`` records were processed, ``timeout`` seconds of processing time passed
        (virtual seconds on the simulator), or (``until_idle``) every input partition has been read to its end.
        Returns the number of records processed."""
        _check_count(max_records, "run(max_records=...)", 0)
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or not 0 <= timeout < float("inf")):
            raise ValueError(f"run(timeout=...) takes a finite number of seconds >= 0, or None, got {timeout!r}")
        self.start()
        start, total = self.processing_time_ms(), 0
        while True:
            left = None if max_records is None else max_records - total
            if left is not None and left <= 0:
                break
            n = self.step(left)
            total += n
            if until_idle and n == 0 and self.idle():
                break
            if timeout is not None and self.processing_time_ms() - start >= timeout * 1000:
                break
        return total

    def close(self):
        """Commit what was processed, leave the group, close the clients (state ``NOT_RUNNING``)."""
        if self.state in ("DEAD", "NOT_RUNNING"):
            return
        self.state = "PENDING_SHUTDOWN"
        if self.producer is not None:
            self.producer.flush()
        for c in (self.consumer, self._restorer, self._global_consumer):
            if c is not None:
                c.close()
        self.state = "NOT_RUNNING"
