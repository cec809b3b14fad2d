"""eventsim: a deterministic, seeded simulation of an Apache Kafka cluster, for teaching.

The client API mirrors confluent-kafka, so code written against the simulator runs on real Kafka by
changing only the import and the bootstrap servers::

    import eventsim
    cluster = eventsim.Cluster(brokers=3, seed=0)
    conf = {"bootstrap.servers": cluster.bootstrap_servers}
    p = eventsim.Producer(conf)

``eventsim.connect()`` gives the same API over the simulator, local JVM brokers, testcontainers or an
external cluster (see ``eventsim.backends``).

Names are imported on first use, so ``import eventsim`` stays cheap and a notebook that only needs the
simulator never loads the real-Kafka backends or the widgets.
"""
import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "AdminClient": "admin", "NewTopic": "admin", "NewPartitions": "admin",
    "Cluster": "cluster",
    "Consumer": "consumer",
    "Producer": "producer",
    "KafkaError": "errors",
    "Message": "message",
    "OFFSET_BEGINNING": "message", "OFFSET_END": "message", "OFFSET_INVALID": "message", "OFFSET_STORED": "message",
    "TIMESTAMP_CREATE_TIME": "message", "TIMESTAMP_LOG_APPEND_TIME": "message", "TIMESTAMP_NOT_AVAILABLE": "message",
}
_SUBMODULES = {"admin", "backends", "widgets", "streams", "faults", "snapshot", "config", "partitioner", "history"}


# What a learner builds and catches is confluent-kafka's own: a real client accepts nothing else, and the
# simulator accepts these too (its KafkaException is a subclass of confluent-kafka's).
_FROM_CONFLUENT = ("TopicPartition", "KafkaException")

__all__ = sorted(list(_EXPORTS) + list(_FROM_CONFLUENT)) + ["connect", "admin"]


def __getattr__(name):
    if name in _FROM_CONFLUENT:
        value = getattr(importlib.import_module("confluent_kafka"), name)
        globals()[name] = value
        return value
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'eventsim' has no attribute {name!r}")


def connect(backend=None, **kwargs):
    """One handle over every backend: ``"sim"`` (default, or ``EVENTSIM_BACKEND``), ``"local"``,
    ``"testcontainers"`` or ``"external"``. See ``eventsim.backends.connect``."""
    from .backends import connect as _connect
    return _connect(backend, **kwargs)
