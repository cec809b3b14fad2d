"""Where a config value comes from, as ``DescribeConfigs`` tells it (Kafka's ``ConfigHelper``).

A broker looks a config up in layers; the first layer that has it wins:

1. ``DYNAMIC_TOPIC_CONFIG``: the topic's own override (topic configs only);
2. ``DYNAMIC_BROKER_CONFIG``: set on this one broker while it runs (none on the simulated brokers);
3. ``DYNAMIC_DEFAULT_BROKER_CONFIG``: set for every broker of the cluster while it runs. A Kafka 4.x
   controller writes ``min.insync.replicas`` there when the cluster is formatted;
4. ``STATIC_BROKER_CONFIG``: the broker's ``server.properties`` (``Cluster(config=...)`` and the course's
   settings, ``cluster.COURSE_BROKER_SETTINGS``);
5. ``DEFAULT_CONFIG``: Kafka's default.

A topic config is looked up in the broker layers under its broker synonyms (``retention.ms`` under
``log.retention.ms``, ``log.retention.minutes``, ``log.retention.hours``: ``config.BROKER_SYNONYMS``).
Every layer that has the config is listed, layer by layer, as the entry's *synonyms*; Kafka drops those
listed before the first synonym name (so without ``log.retention.ms`` set anywhere, ``retention.ms`` lists
none, though ``log.retention.hours`` has a default). The entry's source is its first synonym's, or
``DEFAULT_CONFIG`` if it has none; its value is the effective one.
"""
from __future__ import annotations

from . import config as _config

TOPIC, BROKER, DEFAULT_BROKER, STATIC, DEFAULT = ("DYNAMIC_TOPIC_CONFIG", "DYNAMIC_BROKER_CONFIG",
                                                  "DYNAMIC_DEFAULT_BROKER_CONFIG", "STATIC_BROKER_CONFIG",
                                                  "DEFAULT_CONFIG")


def broker_layers(cluster):
    """The broker layers of ``cluster``, highest first: ``[(source name, {config: value})]``."""
    return [(BROKER, {}), (DEFAULT_BROKER, cluster.dynamic_default_config), (STATIC, cluster.static_config),
            (DEFAULT, _KafkaDefaults())]


class _KafkaDefaults:
    """Kafka's defaults of the broker configs the simulator models and of every topic config's synonyms
    (a mapping with ``get``; None: Kafka has no default)."""

    def get(self, name):
        from .cluster import BROKER_CONFIGS
        if name in BROKER_CONFIGS:
            return BROKER_CONFIGS[name][1]
        for topic_key, synonyms in _config.BROKER_SYNONYMS.items():
            if name in dict(synonyms):
                return _config.broker_synonym_default(topic_key, name)
        return None


def synonym_group(broker_key):
    """The broker configs that set the same thing as ``broker_key``, in Kafka's order
    (``log.retention.ms``, ``log.retention.minutes``, ``log.retention.hours``); ``[broker_key]`` if alone."""
    for synonyms in _config.BROKER_SYNONYMS.values():
        names = [name for name, _ in synonyms]
        if broker_key in names:
            return names
    return [broker_key]


def broker_synonyms(cluster, names, first):
    """``[(name, value, source)]``: every layer's value of each of ``names``, layer by layer, from the first
    entry for ``first`` on (Kafka's ``ConfigHelper.configSynonyms``)."""
    found = [(name, layer.get(name), source) for source, layer in broker_layers(cluster) for name in names
             if layer.get(name) is not None]
    while found and found[0][0] != first:
        found.pop(0)
    return found


def topic_entry(topic, key):
    """``(value, source, synonyms)`` of topic config ``key`` of ``topic``."""
    synonyms = [(key, topic.overrides[key], TOPIC)] if key in topic.overrides else []
    names = [name for name, _ in _config.BROKER_SYNONYMS.get(key, ())]
    if names:
        synonyms += broker_synonyms(topic.cluster, names, names[0])
    return topic.config_value(key), synonyms[0][2] if synonyms else DEFAULT, synonyms


def broker_entry(cluster, key):
    """``(value, source, synonyms)`` of broker config ``key``: the value is None where no layer has one."""
    synonyms = broker_synonyms(cluster, synonym_group(key), key)
    if not synonyms:
        return None, DEFAULT, []
    return synonyms[0][1], synonyms[0][2], synonyms
