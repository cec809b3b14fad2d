"""``eventsim.streams``: a small stream-processing library in the style of Kafka Streams.

It is built only on the confluent-kafka client API (``Producer``, ``Consumer``, ``AdminClient``), so the
same topology runs on the simulator and on real Kafka::

    from eventsim import streams
    from eventsim.streams import serdes

    builder = streams.StreamBuilder()
    payments = builder.stream("payments", key_serde=serdes.str, value_serde=serdes.json)
    per_minute = (payments.group_by_key()
                          .windowed_by(streams.tumbling(60_000, grace_ms=10_000))
                          .count(name="payments-per-minute"))
    per_minute.to_stream().filter(lambda k, n: n > 5).to("busy-cards", value_serde=serdes.long)
    app = streams.StreamsApp(builder.build(), {"application.id": "busy-cards",
                                               "bootstrap.servers": cluster.bootstrap_servers})
    app.run()
    per_minute.window_view()          # the windows, open/closed, late records, on a time axis

What it has: stateless operators (``filter``, ``map``, ``map_values``, ``flat_map``, ``branch``, ``peek``,
``to``); keyed aggregations (``count``, ``aggregate``, ``reduce``) into state stores with compacted changelog
topics ``<application.id>-<store>-changelog`` and restore from them; re-keying through repartition topics;
tumbling, hopping and session windows on event time with a grace period and counted late records (a
hopping window may put a record in at most ``MAX_WINDOWS_PER_RECORD`` = 1,000 windows);
stream-table joins against a global table; ``at_least_once`` and ``exactly_once_v2`` processing; a
``TopologyTestDriver`` for tests without Kafka.

What it does NOT do, compared with Kafka Streams and ksqlDB: it runs one thread per instance and polls
only when you call ``step()``/``run()``; state lives in memory (no RocksDB, no state directory, so every new
instance restores its tasks from the changelogs when they are assigned) and windowed stores never expire
old windows; there are no standby replicas, no interactive queries across instances (only this instance's
stores, through ``store_items()`` and ``windows_snapshot()``), no record caches (every update of a table is
forwarded and logged), no ``suppress()``, no punctuation or wall-clock-triggered output, no Processor API,
no stream-stream or table-table joins, no joins with a co-partitioned ``KTable`` (only ``GlobalKTable``),
no ``KTable`` operators besides ``to_stream()``, no foreign-key joins, no ``merge``, no timestamp
synchronisation across a task's input partitions (records are processed in the order the consumer
returns them), no purging of repartition topics, no ``commit.interval.ms`` (it commits after every step),
no ``max.task.idle.ms``, no exception handlers (a failing function stops the app in state ``ERROR``),
stream time is not stored in commit metadata (a restored windowed store recovers it from its changelog),
and no SQL. Under ``exactly_once_v2`` the ``transactional.id`` is ``<application.id>-0``, so two live
instances of one application fence each other (Kafka uses one id per thread and relies on the group
generation); under ``at_least_once`` several instances share the partitions through the consumer group.
"""
from . import serdes
from .app import AT_LEAST_ONCE, EXACTLY_ONCE_V2, Clients, SimulatedCrash, StreamsApp
from .processors import Record, RecordContext
from .task import StreamsRunner, TopologyTestDriver
from .topology import GlobalKTable, KGroupedStream, KStream, KTable, StreamBuilder, StreamsBuilder, Topology
from .windows import (MAX_WINDOWS_PER_RECORD, SessionWindows, TimeWindows, Window, Windowed, hopping, session,
                      tumbling)

__all__ = ["serdes", "examples", "StreamBuilder", "StreamsBuilder", "Topology", "KStream", "KGroupedStream",
           "KTable", "GlobalKTable", "StreamsApp", "Clients", "SimulatedCrash", "AT_LEAST_ONCE", "EXACTLY_ONCE_V2",
           "TopologyTestDriver", "StreamsRunner", "Record", "RecordContext", "TimeWindows", "SessionWindows",
           "Window", "Windowed", "tumbling", "hopping", "session", "MAX_WINDOWS_PER_RECORD"]


def __getattr__(name):
    if name == "examples":
        import importlib
        return importlib.import_module(".examples", __name__)
    raise AttributeError(f"module 'eventsim.streams' has no attribute {name!r}")
