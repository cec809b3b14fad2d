"""The ``external`` backend: a Kafka cluster someone else runs (a course cluster, Confluent Cloud, MSK, ...).

Where the cluster is and how to log in comes from the environment, so a notebook needs no secrets:

* ``KAFKA_BOOTSTRAP_SERVERS`` (required), ``KAFKA_SECURITY_PROTOCOL`` (``SASL_SSL``, ...),
  ``KAFKA_SASL_MECHANISM`` (``PLAIN``, ``SCRAM-SHA-512``, ...), ``KAFKA_SASL_USERNAME``,
  ``KAFKA_SASL_PASSWORD``, ``KAFKA_SSL_CA_LOCATION``, ... (see :data:`ENV_SETTINGS`);
* or a ``client.properties`` file named by ``EVENTSIM_KAFKA_CONFIG`` (``key=value`` lines, as Kafka's
  tools and Confluent Cloud write them; a Java ``sasl.jaas.config`` line with ``username='..'
  password='..'`` becomes ``sasl.username`` / ``sasl.password``). Environment settings win over the file.

Many learners can share one cluster: each gets a *namespace*, ``EVENTSIM_NAMESPACE`` or else the
JupyterHub user name (``JUPYTERHUB_USER``), made into legal topic characters. The handle's clients put
``<namespace>.`` in front of every topic name, ``group.id`` and ``transactional.id`` they send, and take it
off again in what they return (``msg.topic()``, metadata, admin results). So Alice's ``orders`` is the
cluster's ``alice.orders``, and Bob never sees it. The wrappers are thin: methods not listed here go to the
confluent-kafka object unchanged (with real, prefixed names); ``.raw`` is that object.

A shared cluster cannot be crashed from a notebook: ``stop_broker`` / ``start_broker`` raise.
"""
from __future__ import annotations

import concurrent.futures
import copy
import os
import re
from pathlib import Path

from .base import Backend, BackendUnavailable, RealKafkaBackend, with_bootstrap

#: Environment variable -> librdkafka property.
ENV_SETTINGS = {
    "KAFKA_BOOTSTRAP_SERVERS": "bootstrap.servers",
    "KAFKA_SECURITY_PROTOCOL": "security.protocol",
    "KAFKA_SASL_MECHANISM": "sasl.mechanism",
    "KAFKA_SASL_USERNAME": "sasl.username",
    "KAFKA_SASL_PASSWORD": "sasl.password",
    "KAFKA_SSL_CA_LOCATION": "ssl.ca.location",
    "KAFKA_SSL_CERTIFICATE_LOCATION": "ssl.certificate.location",
    "KAFKA_SSL_KEY_LOCATION": "ssl.key.location",
    "KAFKA_SSL_KEY_PASSWORD": "ssl.key.password",
    "KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM": "ssl.endpoint.identification.algorithm",
    "KAFKA_CLIENT_ID": "client.id",
}

#: Java-client settings found in client.properties files that librdkafka does not know (left out).
JAVA_ONLY = ("sasl.jaas.config", "client.dns.lookup", "schema.registry.url", "basic.auth.credentials.source",
             "basic.auth.user.info", "sasl.login.callback.handler.class", "key.serializer", "value.serializer",
             "key.deserializer", "value.deserializer")

_SECRET = re.compile(r"password|secret", re.I)


# -- configuration -----------------------------------------------------------------------------------
def parse_properties(text):
    """``client.properties`` text -> dict. ``key=value``, ``key: value`` or ``key value``; ``#``/``!`` comments."""
    props = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        match = re.match(r"([^=:\s]+)\s*[=:\s]\s*(.*)$", line)
        if match:
            props[match.group(1)] = match.group(2).strip()
        else:
            props[line] = ""
    return props


def from_java_properties(props):
    """Java client properties -> librdkafka properties: SASL credentials out of ``sasl.jaas.config``,
    Java-only keys (:data:`JAVA_ONLY`, ``schema.registry.*``, ``basic.auth.*``) left out."""
    conf = {}
    for key, value in props.items():
        if key in JAVA_ONLY or key.startswith(("schema.registry.", "basic.auth.")):
            continue
        conf[key] = value
    jaas = props.get("sasl.jaas.config", "")
    for field in ("username", "password"):
        match = re.search(r"""%s\s*=\s*(['"])(.*?)\1""" % field, jaas)
        if match and "sasl." + field not in conf:
            conf["sasl." + field] = match.group(2)
    if "sasl.mechanisms" in conf and "sasl.mechanism" not in conf:
        conf["sasl.mechanism"] = conf.pop("sasl.mechanisms")
    return conf


def load_config(env=None, bootstrap_servers=None, config=None):
    """The client configuration of the external cluster: properties file, then environment, then ``config``."""
    env = os.environ if env is None else env
    conf = {}
    path = env.get("EVENTSIM_KAFKA_CONFIG")
    if path:
        try:
            conf.update(from_java_properties(parse_properties(Path(path).read_text())))
        except OSError as exc:
            raise BackendUnavailable("EVENTSIM_KAFKA_CONFIG names %r, which cannot be read (%s). Point it at "
                                     "a client.properties file, or unset it and use KAFKA_BOOTSTRAP_SERVERS."
                                     % (path, exc.strerror)) from None
    conf.update({prop: env[var] for var, prop in ENV_SETTINGS.items() if env.get(var)})
    conf.update(config or {})
    if bootstrap_servers:
        conf["bootstrap.servers"] = bootstrap_servers
    if not conf.get("bootstrap.servers"):
        raise BackendUnavailable(
            "The 'external' backend connects to a Kafka cluster you already have, but no address was given: "
            "set KAFKA_BOOTSTRAP_SERVERS (plus KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, "
            "KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD if it needs a login), or EVENTSIM_KAFKA_CONFIG=<path of a "
            "client.properties file>. Without a cluster, use eventsim.connect(\"sim\") or "
            "eventsim.connect(\"local\").")
    return conf


def namespace_from_env(env=None):
    """``EVENTSIM_NAMESPACE``, else ``JUPYTERHUB_USER``, made legal for topic names; "" when neither is set."""
    env = os.environ if env is None else env
    return sanitize_namespace(env.get("EVENTSIM_NAMESPACE") or env.get("JUPYTERHUB_USER") or "")


def sanitize_namespace(name):
    """Keep Kafka's legal topic characters (``[a-zA-Z0-9._-]``), replace the rest with ``-``.

    ``"Ana María@uni.edu"`` -> ``"Ana-Mar-a-uni.edu"``. Leading/trailing dots are dropped.
    """
    return re.sub(r"[^a-zA-Z0-9._-]", "-", str(name)).strip(".")


# -- the namespace ----------------------------------------------------------------------------------
class Namespace:
    """Adds ``<name>.`` to topic names and ids on the way out, removes it on the way back."""

    def __init__(self, name):
        self.name = name or ""
        self.prefix = self.name + "." if self.name else ""

    def __bool__(self):
        return bool(self.prefix)

    def add(self, name):
        return None if name is None else self.prefix + name

    def strip(self, name):
        if name is not None and self.prefix and name.startswith(self.prefix):
            return name[len(self.prefix):]
        return name

    def visible(self, name):
        return name is not None and name.startswith(self.prefix)

    def pattern(self, topic):
        """A subscription: a name is prefixed; a ``^regex`` gets the escaped prefix after its ``^``."""
        return "^" + re.escape(self.prefix) + topic[1:] if topic.startswith("^") else self.add(topic)

    def _tp(self, tp, topic):
        from confluent_kafka import TopicPartition
        kwargs = {}
        if tp.metadata is not None:
            kwargs["metadata"] = tp.metadata
        if tp.leader_epoch is not None:
            kwargs["leader_epoch"] = tp.leader_epoch
        return TopicPartition(topic, tp.partition, tp.offset, **kwargs)

    def add_tp(self, tp):
        return self._tp(tp, self.add(tp.topic))

    def strip_tp(self, tp):
        return self._tp(tp, self.strip(tp.topic))

    def add_tps(self, tps):
        return None if tps is None else [self.add_tp(tp) for tp in tps]

    def strip_tps(self, tps):
        return None if tps is None else [self.strip_tp(tp) for tp in tps]

    def message(self, msg):
        """A consumed / delivered message with the prefix taken off ``topic()`` (in place)."""
        if msg is not None and msg.topic() is not None and self.prefix:
            msg.set_topic(self.strip(msg.topic()))
        return msg

    def metadata(self, md):
        """A ``ClusterMetadata`` showing only this namespace's topics, without the prefix."""
        md.topics = {self.strip(name): tm for name, tm in md.topics.items() if self.visible(name)}
        for name, tm in md.topics.items():
            tm.topic = name
        return md

    def client_conf(self, conf):
        """``group.id`` and ``transactional.id`` prefixed, so learners' groups and producers never collide."""
        conf = dict(conf)
        for key in ("group.id", "transactional.id"):
            if conf.get(key):
                conf[key] = self.add(conf[key])
        return conf


def _then(future, fn):
    """A future resolved with ``fn(result)`` of ``future`` (for rewriting admin results)."""
    out = concurrent.futures.Future()

    def done(f):
        try:
            out.set_result(fn(f.result()))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
            out.set_exception(exc)
    future.add_done_callback(done)
    return out


class _Wrapper:
    """Forwards what it does not define to the confluent-kafka object (``.raw``)."""

    def __init__(self, raw, ns):
        self.raw = raw
        self._ns = ns

    def __getattr__(self, name):
        return getattr(self.raw, name)

    def __len__(self):
        return len(self.raw)

    def list_topics(self, topic=None, *args, **kwargs):
        """Metadata of this namespace's topics, names without the prefix."""
        return self._ns.metadata(self.raw.list_topics(self._ns.add(topic), *args, **kwargs))


_PRODUCE_ARGS = ("value", "key", "partition", "on_delivery", "timestamp", "headers")


class NamespacedProducer(_Wrapper):
    """A confluent-kafka ``Producer`` whose topic names (and ``transactional.id``) live in a namespace."""

    def produce(self, topic, *args, **kwargs):
        kwargs.update(zip(_PRODUCE_ARGS, args))
        callback = kwargs.pop("on_delivery", None) or kwargs.pop("callback", None)
        if callback is not None:
            kwargs["on_delivery"] = self._report_in_namespace(callback)
        return self.raw.produce(self._ns.add(topic), **kwargs)

    def produce_batch(self, topic, messages, *args, **kwargs):
        """``produce_batch`` in the namespace: delivery callbacks (the batch's and each message's) see the
        learner's topic name, and the ``_error`` keys the client sets come back in the caller's dicts."""
        if not isinstance(messages, list):
            return self.raw.produce_batch(self._ns.add(topic), messages, *args, **kwargs)
        for key in ("on_delivery", "callback"):
            if callable(kwargs.get(key)):
                kwargs[key] = self._report_in_namespace(kwargs[key])
        sent = [dict(m, **{k: self._report_in_namespace(m[k]) for k in ("on_delivery", "callback")
                           if callable(m.get(k))}) if isinstance(m, dict) else m for m in messages]
        queued = self.raw.produce_batch(self._ns.add(topic), sent, *args, **kwargs)
        for mine, theirs in zip(messages, sent):
            if isinstance(mine, dict) and "_error" in theirs:
                mine["_error"] = theirs["_error"]
        return queued

    def _report_in_namespace(self, callback):
        ns = self._ns
        return lambda err, msg: callback(err, ns.message(msg))

    def send_offsets_to_transaction(self, positions, group_metadata, *args, **kwargs):
        return self.raw.send_offsets_to_transaction(self._ns.add_tps(positions), group_metadata, *args, **kwargs)


class NamespacedConsumer(_Wrapper):
    """A confluent-kafka ``Consumer`` whose topics and ``group.id`` live in a namespace."""

    def _callback(self, fn):
        if fn is None:
            return None
        return lambda _consumer, partitions: fn(self, self._ns.strip_tps(partitions))

    def subscribe(self, topics, on_assign=None, on_revoke=None, on_lost=None):
        kwargs = {k: self._callback(v) for k, v in
                  (("on_assign", on_assign), ("on_revoke", on_revoke), ("on_lost", on_lost)) if v}
        return self.raw.subscribe([self._ns.pattern(t) for t in topics], **kwargs)

    def poll(self, *args, **kwargs):
        return self._ns.message(self.raw.poll(*args, **kwargs))

    def consume(self, *args, **kwargs):
        return [self._ns.message(m) for m in self.raw.consume(*args, **kwargs)]

    def _offsets(self, message, offsets):
        """``commit(message=m)`` means "commit m.offset() + 1 of m's partition", with the real topic."""
        if message is not None:
            from confluent_kafka import TopicPartition
            epoch = message.leader_epoch()
            tp = TopicPartition(self._ns.add(message.topic()), message.partition(), message.offset() + 1,
                                **({"leader_epoch": epoch} if epoch is not None else {}))
            return [tp]
        return self._ns.add_tps(offsets)

    def commit(self, message=None, offsets=None, asynchronous=True):
        kwargs = {"asynchronous": asynchronous}
        parts = self._offsets(message, offsets)
        if parts is not None:
            kwargs["offsets"] = parts
        result = self.raw.commit(**kwargs)
        return self._ns.strip_tps(result) if isinstance(result, list) else result

    def store_offsets(self, message=None, offsets=None):
        return self.raw.store_offsets(offsets=self._offsets(message, offsets))

    def assign(self, partitions):
        return self.raw.assign(self._ns.add_tps(partitions))

    def incremental_assign(self, partitions):
        return self.raw.incremental_assign(self._ns.add_tps(partitions))

    def incremental_unassign(self, partitions):
        return self.raw.incremental_unassign(self._ns.add_tps(partitions))

    def assignment(self):
        return self._ns.strip_tps(self.raw.assignment())

    def committed(self, partitions, *args, **kwargs):
        return self._ns.strip_tps(self.raw.committed(self._ns.add_tps(partitions), *args, **kwargs))

    def position(self, partitions):
        return self._ns.strip_tps(self.raw.position(self._ns.add_tps(partitions)))

    def offsets_for_times(self, partitions, *args, **kwargs):
        return self._ns.strip_tps(self.raw.offsets_for_times(self._ns.add_tps(partitions), *args, **kwargs))

    def seek(self, partition):
        return self.raw.seek(self._ns.add_tp(partition))

    def pause(self, partitions):
        return self.raw.pause(self._ns.add_tps(partitions))

    def resume(self, partitions):
        return self.raw.resume(self._ns.add_tps(partitions))

    def get_watermark_offsets(self, partition, *args, **kwargs):
        return self.raw.get_watermark_offsets(self._ns.add_tp(partition), *args, **kwargs)


class NamespacedAdmin(_Wrapper):
    """A confluent-kafka ``AdminClient`` for topics and groups of one namespace.

    Covered: create/delete topics, create partitions, list topics, describe/alter configs (topic and group
    resources), list/describe/delete consumer groups, list/alter group offsets, list offsets.
    """

    def _keys(self, futures, originals=None):
        """Result futures keyed by the caller's names (or objects) instead of the prefixed ones."""
        if originals is not None:
            return {originals[k]: f for k, f in futures.items()}
        return {self._ns.strip(k): f for k, f in futures.items()}

    def create_topics(self, new_topics, **kwargs):
        from confluent_kafka.admin import NewTopic
        def copy_of(t):
            extra = {k: v for k, v in (("replica_assignment", t.replica_assignment), ("config", t.config)) if v}
            return NewTopic(self._ns.add(t.topic), t.num_partitions, t.replication_factor, **extra)
        copies = [copy_of(t) for t in new_topics]
        return self._keys(self.raw.create_topics(copies, **kwargs))

    def delete_topics(self, topics, **kwargs):
        return self._keys(self.raw.delete_topics([self._ns.add(t) for t in topics], **kwargs))

    def create_partitions(self, new_partitions, **kwargs):
        from confluent_kafka.admin import NewPartitions
        copies = [NewPartitions(self._ns.add(p.topic), p.new_total_count, p.replica_assignment)
                  if p.replica_assignment else NewPartitions(self._ns.add(p.topic), p.new_total_count)
                  for p in new_partitions]
        return self._keys(self.raw.create_partitions(copies, **kwargs))

    def _resources(self, resources):
        """Copies of ``ConfigResource``s with topic / group names prefixed, mapped back to the originals."""
        mapping = {}
        for res in resources:
            real = copy.copy(res)
            if getattr(res.restype, "name", "") in ("TOPIC", "GROUP"):
                real.name = self._ns.add(res.name)
            mapping[real] = res
        return mapping

    def describe_configs(self, resources, **kwargs):
        mapping = self._resources(resources)
        return self._keys(self.raw.describe_configs(list(mapping), **kwargs), mapping)

    def alter_configs(self, resources, **kwargs):
        mapping = self._resources(resources)
        return self._keys(self.raw.alter_configs(list(mapping), **kwargs), mapping)

    def incremental_alter_configs(self, resources, **kwargs):
        mapping = self._resources(resources)
        return self._keys(self.raw.incremental_alter_configs(list(mapping), **kwargs), mapping)

    def list_consumer_groups(self, **kwargs):
        def rewrite(result):
            result.valid = [self._strip_group(g) for g in result.valid if self._ns.visible(g.group_id)]
            return result
        return _then(self.raw.list_consumer_groups(**kwargs), rewrite)

    def _strip_group(self, obj):
        obj.group_id = self._ns.strip(obj.group_id)
        return obj

    def describe_consumer_groups(self, group_ids, **kwargs):
        def rewrite(desc):
            for member in desc.members or []:
                if member.assignment is not None:
                    member.assignment.topic_partitions = self._ns.strip_tps(member.assignment.topic_partitions)
            return self._strip_group(desc)
        futures = self.raw.describe_consumer_groups([self._ns.add(g) for g in group_ids], **kwargs)
        return {self._ns.strip(k): _then(f, rewrite) for k, f in futures.items()}

    def delete_consumer_groups(self, group_ids, **kwargs):
        return self._keys(self.raw.delete_consumer_groups([self._ns.add(g) for g in group_ids], **kwargs))

    def _group_offsets(self, method, requests, **kwargs):
        from confluent_kafka import ConsumerGroupTopicPartitions

        def rewrite(result):
            return ConsumerGroupTopicPartitions(self._ns.strip(result.group_id),
                                                self._ns.strip_tps(result.topic_partitions))
        real = [ConsumerGroupTopicPartitions(self._ns.add(r.group_id), self._ns.add_tps(r.topic_partitions))
                for r in requests]
        futures = method(real, **kwargs)
        return {self._ns.strip(k): _then(f, rewrite) for k, f in futures.items()}

    def list_consumer_group_offsets(self, requests, **kwargs):
        return self._group_offsets(self.raw.list_consumer_group_offsets, requests, **kwargs)

    def alter_consumer_group_offsets(self, requests, **kwargs):
        return self._group_offsets(self.raw.alter_consumer_group_offsets, requests, **kwargs)

    def list_offsets(self, topic_partition_offsets, **kwargs):
        mapping = {self._ns.add_tp(tp): tp for tp in topic_partition_offsets}
        futures = self.raw.list_offsets({real: topic_partition_offsets[tp] for real, tp in mapping.items()},
                                        **kwargs)
        return {mapping[k]: f for k, f in futures.items()}


# -- the handle --------------------------------------------------------------------------------------
class ExternalKafka(Backend):
    """A handle on an existing cluster (module docstring). ``check=True`` fails fast if it is unreachable."""

    backend = "external"

    def __init__(self, bootstrap_servers=None, config=None, namespace=None, check=True, timeout=10.0):
        self.conf = load_config(bootstrap_servers=bootstrap_servers, config=config)
        self.bootstrap_servers = self.conf["bootstrap.servers"]
        self.namespace = Namespace(namespace_from_env() if namespace is None else sanitize_namespace(namespace))
        self._admin = None
        if check:
            self._check_reachable(timeout)

    def _check_reachable(self, timeout):
        from confluent_kafka import KafkaException
        try:
            self.admin_client().list_topics(timeout=timeout)
        except KafkaException as exc:
            raise BackendUnavailable(
                "Could not reach the Kafka cluster at %s within %.0f s (%s): %s. Check KAFKA_BOOTSTRAP_SERVERS "
                "and the login settings (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*), or EVENTSIM_KAFKA_CONFIG; or use "
                "eventsim.connect(\"sim\") / eventsim.connect(\"local\") instead."
                % (self.bootstrap_servers, timeout, self._security(), exc.args[0])) from None

    def _security(self):
        return "security.protocol=%s" % self.conf.get("security.protocol", "PLAINTEXT")

    def client_conf(self, conf=None):
        """The cluster's settings, then ``conf`` on top; ``group.id`` / ``transactional.id`` namespaced."""
        merged = dict(self.conf)
        merged.update(conf or {})
        return self.namespace.client_conf(with_bootstrap(merged, self.bootstrap_servers))

    def Producer(self, conf=None, **kwargs):  # noqa: N802
        from confluent_kafka import Producer
        return NamespacedProducer(Producer(self.client_conf(conf), **kwargs), self.namespace)

    def Consumer(self, conf=None, **kwargs):  # noqa: N802
        from confluent_kafka import Consumer
        return NamespacedConsumer(Consumer(self.client_conf(conf), **kwargs), self.namespace)

    def admin(self, conf=None, **kwargs):
        from confluent_kafka.admin import AdminClient
        return NamespacedAdmin(AdminClient(self.client_conf(conf), **kwargs), self.namespace)

    AdminClient = admin

    def admin_client(self):
        if self._admin is None:
            from confluent_kafka.admin import AdminClient
            self._admin = AdminClient(self.client_conf({"log_level": 0}))
        return self._admin

    def snapshot(self, records=False, max_records=20, include_internal=False):
        """This namespace's topics and groups (names without the prefix); see ``realsnapshot``."""
        from . import realsnapshot
        return realsnapshot.snapshot(realsnapshot.fresh_admin(self.client_conf()), backend=self.backend, client_conf=self.client_conf(),
                                     records=records, max_records=max_records,
                                     include_internal=include_internal, namespace=self.namespace.prefix)

    #: Why the control methods do nothing here (see ``Backend._unsupported``).
    unsupported_reason = ("it is shared and run by someone else, so eventsim does not stop, pause, slow or "
                          "cut off its brokers and controllers")

    wait = RealKafkaBackend.wait                  # real time passes, as on every real cluster
    MAX_REAL_WAIT_MS = RealKafkaBackend.MAX_REAL_WAIT_MS

    @property
    def closed(self):
        return getattr(self, "_closed", False)

    def close(self):
        self._admin = None
        self._closed = True

    def where(self):
        ns = ("namespace %r (topics and groups appear as %s<name> on the cluster)"
              % (self.namespace.name, self.namespace.prefix) if self.namespace else "no namespace")
        shown = {k: ("***" if _SECRET.search(k) else v) for k, v in self.conf.items()
                 if k in ("security.protocol", "sasl.mechanism", "sasl.username")}
        extra = "".join(", %s=%s" % kv for kv in sorted(shown.items()))
        return "an existing cluster at %s%s, %s" % (self.bootstrap_servers, extra, ns)
