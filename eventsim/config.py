"""Configuration: the client's (librdkafka's properties) and the topic's (Kafka's topic configs).

Three things live here, each modelled on the real system:

* **Client configuration** -- ``client_config(conf, role)`` turns the dict a learner passes to
  ``Producer`` / ``Consumer`` / ``AdminClient`` into a read-only ``ClientConfig`` of *effective*
  values, exactly as librdkafka 2.16 (bundled with confluent-kafka 2.16) would: the same property
  names and aliases (``linger.ms`` is ``queue.buffering.max.ms``, ``acks`` is
  ``request.required.acks``, ...), the same defaults, the same parsing, the same error messages and
  the same consistency rules (``enable.idempotence=true`` forces ``acks=all``, ...).
  The property table below is librdkafka's own (``rd_kafka_conf_properties_show()``, which is what
  librdkafka's CONFIGURATION.md is generated from).
* **Topic configuration** -- Kafka 4.x's topic-level configs (``retention.ms``, ``cleanup.policy``,
  ``min.insync.replicas``, ...), their defaults, the broker settings they fall back to, and the
  broker's validation with its ``INVALID_CONFIG`` messages.
* **Topic names** -- Kafka's rules for legal topic names.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import KafkaError, KafkaException
from .partitioner import PARTITIONERS

# ---------------------------------------------------------------------------------------------
# Client configuration: librdkafka's property table
# ---------------------------------------------------------------------------------------------

STR, INT, FLOAT, BOOL, ENUM, FLAGS, PTR = "string", "integer", "float", "boolean", "enum", "flags", "pointer"
TOPIC = 1        # a librdkafka *topic* property (settable globally as the default for every topic)
DEPRECATED = 2   # librdkafka logs a warning when it is set

INT32_MAX = 2147483647

# (name, type, applies to: "*" both / "C" consumer / "P" producer, range or choices, default, flags)
# Generated from librdkafka 2.16.0's rd_kafka_conf_properties_show(); aliases are listed in ALIASES.
_PROPERTY_TABLE = [
    ('builtin.features', FLAGS, '*', ('gzip', 'snappy', 'ssl', 'sasl', 'regex', 'lz4', 'sasl_gssapi',
                                      'sasl_plain', 'sasl_scram', 'plugins', 'zstd', 'sasl_oauthbearer',
                                      'http', 'oidc'),
     'gzip,snappy,ssl,sasl,regex,lz4,sasl_plain,sasl_scram,plugins,zstd,sasl_oauthbearer,http,oidc', 0),
    ('client.id', STR, '*', None, 'rdkafka', 0),
    ('client.software.name', STR, '*', None, 'librdkafka', 0),
    ('client.software.version', STR, '*', None, '', 0),
    ('metadata.broker.list', STR, '*', None, '', 0),
    ('message.max.bytes', INT, '*', (1000, 1000000000), 1000000, 0),
    ('message.copy.max.bytes', INT, '*', (0, 1000000000), 65535, 0),
    ('receive.message.max.bytes', INT, '*', (1000, 2147483647), 100000000, 0),
    ('max.in.flight.requests.per.connection', INT, '*', (1, 1000000), 1000000, 0),
    ('metadata.request.timeout.ms', INT, '*', (10, 900000), 10, DEPRECATED),
    ('metadata.recovery.strategy', ENUM, '*', ('none', 'rebootstrap'), 'rebootstrap', 0),
    ('metadata.recovery.rebootstrap.trigger.ms', INT, '*', (0, 2147483647), 300000, 0),
    ('topic.metadata.refresh.interval.ms', INT, '*', (-1, 3600000), 300000, 0),
    ('metadata.max.age.ms', INT, '*', (1, 86400000), 900000, 0),
    ('topic.metadata.refresh.fast.interval.ms', INT, '*', (1, 60000), 100, 0),
    ('topic.metadata.refresh.fast.cnt', INT, '*', (0, 1000), 10, DEPRECATED),
    ('topic.metadata.refresh.sparse', BOOL, '*', None, True, 0),
    ('topic.metadata.propagation.max.ms', INT, '*', (0, 3600000), 30000, 0),
    ('topic.blacklist', STR, '*', None, '', 0),
    ('debug', FLAGS, '*', ('generic', 'broker', 'topic', 'metadata', 'feature', 'queue', 'msg', 'protocol',
                           'cgrp', 'security', 'fetch', 'interceptor', 'plugin', 'consumer', 'admin', 'eos',
                           'mock', 'assignor', 'conf', 'telemetry', 'all'), '', 0),
    ('socket.timeout.ms', INT, '*', (10, 300000), 60000, 0),
    ('socket.blocking.max.ms', INT, '*', (1, 60000), 1000, DEPRECATED),
    ('socket.send.buffer.bytes', INT, '*', (0, 100000000), 0, 0),
    ('socket.receive.buffer.bytes', INT, '*', (0, 100000000), 0, 0),
    ('socket.keepalive.enable', BOOL, '*', None, False, 0),
    ('socket.nagle.disable', BOOL, '*', None, True, 0),
    ('socket.max.fails', INT, '*', (0, 1000000), 1, 0),
    ('broker.address.ttl', INT, '*', (0, 86400000), 1000, 0),
    ('broker.address.family', ENUM, '*', ('any', 'v4', 'v6'), 'any', 0),
    ('socket.connection.setup.timeout.ms', INT, '*', (1000, 2147483647), 30000, 0),
    ('connections.max.idle.ms', INT, '*', (0, 2147483647), 0, 0),
    ('enable.sparse.connections', BOOL, '*', None, True, 0),
    ('reconnect.backoff.jitter.ms', INT, '*', (0, 3600000), 0, DEPRECATED),
    ('reconnect.backoff.ms', INT, '*', (0, 3600000), 100, 0),
    ('reconnect.backoff.max.ms', INT, '*', (0, 3600000), 10000, 0),
    ('statistics.interval.ms', INT, '*', (0, 86400000), 0, 0),
    ('enabled_events', INT, '*', (0, 2147483647), 0, 0),
    ('error_cb', PTR, '*', None, None, 0),
    ('throttle_cb', PTR, '*', None, None, 0),
    ('stats_cb', PTR, '*', None, None, 0),
    ('log_cb', PTR, '*', None, None, 0),
    ('log_level', INT, '*', (0, 7), 6, 0),
    ('log.queue', BOOL, '*', None, False, 0),
    ('log.thread.name', BOOL, '*', None, True, 0),
    ('enable.random.seed', BOOL, '*', None, True, 0),
    ('log.connection.close', BOOL, '*', None, True, 0),
    ('background_event_cb', PTR, '*', None, None, 0),
    ('socket_cb', PTR, '*', None, None, 0),
    ('connect_cb', PTR, '*', None, None, 0),
    ('closesocket_cb', PTR, '*', None, None, 0),
    ('open_cb', PTR, '*', None, None, 0),
    ('resolve_cb', PTR, '*', None, None, 0),
    ('opaque', PTR, '*', None, None, 0),
    ('default_topic_conf', PTR, '*', None, None, 0),
    ('internal.termination.signal', INT, '*', (0, 128), 0, 0),
    ('api.version.request', BOOL, '*', None, True, DEPRECATED),
    ('api.version.request.timeout.ms', INT, '*', (1, 300000), 10000, 0),
    ('api.version.fallback.ms', INT, '*', (0, 604800000), 0, DEPRECATED),
    ('broker.version.fallback', STR, '*', None, '0.10.0', DEPRECATED),
    ('allow.auto.create.topics', BOOL, '*', None, False, 0),
    ('security.protocol', ENUM, '*', ('plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'), 'plaintext', 0),
    ('ssl.cipher.suites', STR, '*', None, '', 0),
    ('ssl.curves.list', STR, '*', None, '', 0),
    ('ssl.sigalgs.list', STR, '*', None, '', 0),
    ('ssl.key.location', STR, '*', None, '', 0),
    ('ssl.key.password', STR, '*', None, '', 0),
    ('ssl.key.pem', STR, '*', None, '', 0),
    ('ssl_key', PTR, '*', None, None, 0),
    ('ssl.certificate.location', STR, '*', None, '', 0),
    ('ssl.certificate.pem', STR, '*', None, '', 0),
    ('ssl_certificate', PTR, '*', None, None, 0),
    ('ssl.ca.location', STR, '*', None, '', 0),
    ('https.ca.location', STR, '*', None, '', 0),
    ('https.ca.pem', STR, '*', None, '', 0),
    ('ssl.ca.pem', STR, '*', None, '', 0),
    ('ssl_ca', PTR, '*', None, None, 0),
    ('ssl.ca.certificate.stores', STR, '*', None, 'Root', 0),
    ('ssl.crl.location', STR, '*', None, '', 0),
    ('ssl.keystore.location', STR, '*', None, '', 0),
    ('ssl.keystore.password', STR, '*', None, '', 0),
    ('ssl.providers', STR, '*', None, '', 0),
    ('ssl.engine.location', STR, '*', None, '', DEPRECATED),
    ('ssl.engine.id', STR, '*', None, 'dynamic', 0),
    ('ssl_engine_callback_data', PTR, '*', None, None, 0),
    ('enable.ssl.certificate.verification', BOOL, '*', None, True, 0),
    ('ssl.endpoint.identification.algorithm', ENUM, '*', ('none', 'https'), 'https', 0),
    ('ssl.certificate.verify_cb', PTR, '*', None, None, 0),
    ('sasl.mechanisms', STR, '*', None, 'GSSAPI', 0),
    ('sasl.kerberos.service.name', STR, '*', None, 'kafka', 0),
    ('sasl.kerberos.principal', STR, '*', None, 'kafkaclient', 0),
    ('sasl.kerberos.kinit.cmd', STR, '*', None,
     'kinit -R -t "%{sasl.kerberos.keytab}" -k %{sasl.kerberos.principal} || '
     'kinit -t "%{sasl.kerberos.keytab}" -k %{sasl.kerberos.principal}', 0),
    ('sasl.kerberos.keytab', STR, '*', None, '', 0),
    ('sasl.kerberos.min.time.before.relogin', INT, '*', (0, 86400000), 60000, 0),
    ('sasl.username', STR, '*', None, '', 0),
    ('sasl.password', STR, '*', None, '', 0),
    ('sasl.oauthbearer.config', STR, '*', None, '', 0),
    ('enable.sasl.oauthbearer.unsecure.jwt', BOOL, '*', None, False, 0),
    ('enable_sasl_queue', BOOL, '*', None, False, 0),
    ('oauthbearer_token_refresh_cb', PTR, '*', None, None, 0),
    ('sasl.oauthbearer.method', ENUM, '*', ('default', 'oidc'), 'default', 0),
    ('sasl.oauthbearer.client.id', STR, '*', None, '', 0),
    ('sasl.oauthbearer.client.secret', STR, '*', None, '', 0),
    ('sasl.oauthbearer.scope', STR, '*', None, '', 0),
    ('sasl.oauthbearer.extensions', STR, '*', None, '', 0),
    ('sasl.oauthbearer.token.endpoint.url', STR, '*', None, '', 0),
    ('sasl.oauthbearer.sub.claim.name', STR, '*', None, 'sub', 0),
    ('sasl.oauthbearer.grant.type', ENUM, '*', ('client_credentials',
                                                'urn:ietf:params:oauth:grant-type:jwt-bearer'),
     'client_credentials', 0),
    ('sasl.oauthbearer.assertion.algorithm', ENUM, '*', ('RS256', 'ES256'), 'RS256', 0),
    ('sasl.oauthbearer.assertion.private.key.file', STR, '*', None, '', 0),
    ('sasl.oauthbearer.assertion.private.key.passphrase', STR, '*', None, '', 0),
    ('sasl.oauthbearer.assertion.private.key.pem', STR, '*', None, '', 0),
    ('sasl.oauthbearer.assertion.file', STR, '*', None, '', 0),
    ('sasl.oauthbearer.assertion.claim.aud', STR, '*', None, '', 0),
    ('sasl.oauthbearer.assertion.claim.exp.seconds', INT, '*', (1, 2147483647), 300, 0),
    ('sasl.oauthbearer.assertion.claim.iss', STR, '*', None, '', 0),
    ('sasl.oauthbearer.assertion.claim.jti.include', BOOL, '*', None, False, 0),
    ('sasl.oauthbearer.assertion.claim.nbf.seconds', INT, '*', (0, 2147483647), 60, 0),
    ('sasl.oauthbearer.assertion.claim.sub', STR, '*', None, '', 0),
    ('sasl.oauthbearer.assertion.jwt.template.file', STR, '*', None, '', 0),
    ('sasl.oauthbearer.metadata.authentication.type', ENUM, '*', ('none', 'azure_imds', 'aws_iam'), 'none', 0),
    ('plugin.library.paths', STR, '*', None, '', 0),
    ('interceptors', PTR, '*', None, None, 0),
    ('test.mock.num.brokers', INT, '*', (0, 10000), 0, 0),
    ('test.mock.broker.rtt', INT, '*', (0, 3600000), 0, 0),
    ('group.id', STR, 'C', None, '', 0),
    ('group.instance.id', STR, 'C', None, '', 0),
    ('partition.assignment.strategy', STR, 'C', None, 'range,roundrobin', 0),
    ('session.timeout.ms', INT, 'C', (1, 3600000), 45000, 0),
    ('heartbeat.interval.ms', INT, 'C', (1, 3600000), 3000, 0),
    ('group.protocol.type', STR, 'C', None, 'consumer', 0),
    ('group.protocol', ENUM, 'C', ('classic', 'consumer'), 'classic', 0),
    ('group.remote.assignor', STR, 'C', None, '', 0),
    ('coordinator.query.interval.ms', INT, 'C', (1, 3600000), 600000, 0),
    ('max.poll.interval.ms', INT, 'C', (1, 86400000), 300000, 0),
    ('enable.auto.commit', BOOL, 'C', None, True, 0),
    ('auto.commit.interval.ms', INT, 'C', (0, 86400000), 5000, 0),
    ('enable.auto.offset.store', BOOL, 'C', None, True, 0),
    ('queued.min.messages', INT, 'C', (1, 10000000), 100000, 0),
    ('queued.max.messages.kbytes', INT, 'C', (1, 2097151), 65536, 0),
    ('fetch.wait.max.ms', INT, 'C', (0, 300000), 500, 0),
    ('fetch.queue.backoff.ms', INT, 'C', (0, 300000), 1000, 0),
    ('fetch.message.max.bytes', INT, 'C', (1, 1000000000), 1048576, 0),
    ('fetch.max.bytes', INT, 'C', (0, 2147483135), 52428800, 0),
    ('fetch.min.bytes', INT, 'C', (0, 2147483647), 1, 0),
    ('fetch.error.backoff.ms', INT, 'C', (0, 300000), 500, 0),
    ('offset.store.method', ENUM, 'C', ('none', 'file', 'broker'), 'broker', DEPRECATED),
    ('isolation.level', ENUM, 'C', ('read_uncommitted', 'read_committed'), 'read_committed', 0),
    ('consume_cb', PTR, 'C', None, None, 0),
    ('rebalance_cb', PTR, 'C', None, None, 0),
    ('offset_commit_cb', PTR, 'C', None, None, 0),
    ('enable.partition.eof', BOOL, 'C', None, False, 0),
    ('check.crcs', BOOL, 'C', None, False, 0),
    ('client.rack', STR, '*', None, '', 0),
    ('max.poll.records', INT, 'C', (1, 2147483647), 500, 0),
    ('share.acknowledgement.mode', STR, 'C', None, 'implicit', 0),
    ('transactional.id', STR, 'P', None, '', 0),
    ('transaction.timeout.ms', INT, 'P', (1000, 2147483647), 60000, 0),
    ('enable.idempotence', BOOL, 'P', None, False, 0),
    ('enable.gapless.guarantee', BOOL, 'P', None, False, 0),
    ('queue.buffering.max.messages', INT, 'P', (0, 2147483647), 100000, 0),
    ('queue.buffering.max.kbytes', INT, 'P', (1, 2147483647), 1048576, 0),
    ('queue.buffering.max.ms', FLOAT, 'P', (0.0, 900000.0), 5.0, 0),
    ('message.send.max.retries', INT, 'P', (0, 2147483647), 2147483647, 0),
    ('retry.backoff.ms', INT, '*', (1, 300000), 100, 0),
    ('retry.backoff.max.ms', INT, '*', (1, 300000), 1000, 0),
    ('queue.buffering.backpressure.threshold', INT, 'P', (1, 1000000), 1, 0),
    ('compression.codec', ENUM, 'P', ('none', 'gzip', 'snappy', 'lz4', 'zstd'), 'none', 0),
    ('batch.num.messages', INT, 'P', (1, 1000000), 10000, 0),
    ('batch.size', INT, 'P', (1, 2147483647), 1000000, 0),
    ('delivery.report.only.error', BOOL, 'P', None, False, 0),
    ('dr_cb', PTR, 'P', None, None, 0),
    ('dr_msg_cb', PTR, 'P', None, None, 0),
    ('sticky.partitioning.linger.ms', INT, 'P', (0, 900000), 10, 0),
    ('client.dns.lookup', ENUM, '*', ('use_all_dns_ips', 'resolve_canonical_bootstrap_servers_only'),
     'use_all_dns_ips', 0),
    ('enable.metrics.push', BOOL, '*', None, True, 0),
    # librdkafka's topic properties
    ('request.required.acks', INT, 'P', (-1, 1000), -1, TOPIC),
    ('request.timeout.ms', INT, 'P', (1, 900000), 30000, TOPIC),
    ('message.timeout.ms', INT, 'P', (0, 2147483647), 300000, TOPIC),
    ('queuing.strategy', ENUM, 'P', ('fifo', 'lifo'), 'fifo', TOPIC | DEPRECATED),
    ('produce.offset.report', BOOL, 'P', None, False, TOPIC | DEPRECATED),
    ('partitioner', STR, 'P', None, 'consistent_random', TOPIC),
    ('partitioner_cb', PTR, 'P', None, None, TOPIC),
    ('msg_order_cmp', PTR, 'P', None, None, TOPIC | DEPRECATED),
    ('compression.level', INT, 'P', (-1, 12), -1, TOPIC),
    ('auto.commit.enable', BOOL, 'C', None, True, TOPIC | DEPRECATED),
    ('auto.offset.reset', ENUM, 'C', ('smallest', 'earliest', 'beginning', 'largest', 'latest', 'end',
                                      'error'), 'latest', TOPIC),   # librdkafka shows it as "largest"
    ('offset.store.path', STR, 'C', None, '.', TOPIC | DEPRECATED),
    ('offset.store.sync.interval.ms', INT, 'C', (-1, 86400000), -1, TOPIC | DEPRECATED),
    ('consume.callback.max.messages', INT, 'C', (0, 1000000), 0, TOPIC),
]

# librdkafka's aliases: another name for the same property (the Java client's names, mostly).
ALIASES = {
    'bootstrap.servers': 'metadata.broker.list',
    'max.in.flight': 'max.in.flight.requests.per.connection',
    'sasl.mechanism': 'sasl.mechanisms',
    'sasl.oauthbearer.client.credentials.client.id': 'sasl.oauthbearer.client.id',
    'sasl.oauthbearer.client.credentials.client.secret': 'sasl.oauthbearer.client.secret',
    'max.partition.fetch.bytes': 'fetch.message.max.bytes',
    'linger.ms': 'queue.buffering.max.ms',
    'retries': 'message.send.max.retries',
    'compression.type': 'compression.codec',
    'acks': 'request.required.acks',
    'delivery.timeout.ms': 'message.timeout.ms',
}

# Java client properties librdkafka recognises only to point the user elsewhere.
_JAVA_ONLY = {
    'ssl.truststore.location': 'Java TrustStores are not supported, use `ssl.ca.location` and a certificate '
                               'file instead. See https://github.com/confluentinc/librdkafka/wiki/'
                               'Using-SSL-with-librdkafka for more information.',
    'sasl.jaas.config': 'Java JAAS configuration is not supported, see https://github.com/confluentinc/'
                        'librdkafka/wiki/Using-SASL-with-librdkafka for more information.',
}

# Python-level keys confluent-kafka takes out of the dict before librdkafka sees it, and which
# client types accept them.
_PYTHON_CALLBACKS = {
    'error_cb': ('producer', 'consumer', 'admin'),
    'throttle_cb': ('producer', 'consumer', 'admin'),
    'stats_cb': ('producer', 'consumer', 'admin'),
    'oauth_cb': ('producer', 'consumer', 'admin'),
    'logger': ('producer', 'consumer', 'admin'),
    'on_delivery': ('producer',),
    'on_commit': ('consumer',),
}

ASSIGNORS = {'range': 'eager', 'roundrobin': 'eager', 'cooperative-sticky': 'cooperative'}
IDEMPOTENT_MAX_IN_FLIGHT = 5


class Property:
    """One librdkafka configuration property: its type, range or choices, default and scope."""

    __slots__ = ("name", "type", "scope", "spec", "default", "topic", "deprecated")

    def __init__(self, name, type_, scope, spec, default, flags):
        self.name, self.type, self.scope, self.spec, self.default = name, type_, scope, spec, default
        self.topic = bool(flags & TOPIC)
        self.deprecated = bool(flags & DEPRECATED)

    def __repr__(self):
        return f"Property({self.name!r}, {self.type}, default={self.default!r})"


PROPERTIES = {row[0]: Property(*row) for row in _PROPERTY_TABLE}


def canonical_name(key):
    """The property an alias stands for (``canonical_name("linger.ms") == "queue.buffering.max.ms"``)."""
    return ALIASES.get(key, key)


def _invalid(reason):
    return KafkaException(KafkaError(KafkaError._INVALID_ARG, reason=reason))


# --- parsing, as librdkafka's rd_kafka_anyconf_set_prop0() does it ---------------------------------

_C_LONG = re.compile(r'\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)')
_C_DOUBLE = re.compile(r'\s*([+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf(?:inity)?))',
                       re.IGNORECASE)


def _strtol(text):
    """C's ``(int)strtol(text, &end, 0)``: the leading integer (decimal, 0x-hex or 0-octal), or None."""
    m = _C_LONG.match(text)
    if not m:
        return None
    digits = m.group(2)
    if digits[:2] in ("0x", "0X"):
        value = int(digits, 16)
    elif digits.startswith("0") and len(digits) > 1:
        value = int(digits, 8)
    else:
        value = int(digits)
    if m.group(1) == "-":
        value = -value
    value = max(-2 ** 63, min(2 ** 63 - 1, value))       # strtol clamps to LONG_MIN..LONG_MAX
    value &= 0xFFFFFFFF                                   # ... and the (int) cast keeps 32 bits
    return value - 2 ** 32 if value >= 2 ** 31 else value


def _strtod(text):
    """C's ``strtod(text, &end)``: the leading decimal number, or None (NaN is not accepted here)."""
    m = _C_DOUBLE.match(text)
    return float(m.group(1)) if m else None


def _as_text(value):
    """confluent-kafka hands librdkafka ``str(value)``; None and "" mean "no value" (NULL)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text or None


#: C's isspace(): what librdkafka's left-trims skip.
_C_SPACE = " \t\n\v\f\r"
#: librdkafka's _RK_C_KSTR properties: strings it does not left-trim (every other string it does).
_KSTR = frozenset({'client.rack', 'group.protocol.type'})


def _parse_words(prop, text, current):
    """librdkafka's S2I / S2F parsing: each word (an enum's whole value, or a flags value's comma-separated
    words) is left-trimmed (not right-trimmed: ``"snappy "`` is refused, ``" snappy"`` is accepted) and
    matched case-insensitively; empty words are skipped; a flags word may start with ``+`` (add, the
    default) or ``-`` (remove). Returns the new value, or ``current`` if no word was given."""
    words = [text] if prop.type == ENUM else text.split(",")
    chosen = [w for w in (current or "").split(",") if w] if prop.type == FLAGS else []
    result = current
    for word in words:
        word = word.lstrip(_C_SPACE)
        remove = False
        if prop.type == FLAGS and word[:1] in ("+", "-"):
            remove, word = word[0] == "-", word[1:]
        if not word:
            continue
        match = [c for c in prop.spec if c.lower() == word.lower()]
        if not match:
            raise _invalid('Invalid value "%s" for configuration property "%s"' % (word, prop.name))
        if prop.type == ENUM:
            return match[0]
        if remove:
            chosen = [c for c in chosen if c != match[0]]
        elif match[0] not in chosen:
            chosen.append(match[0])
        result = ",".join(chosen)
    return result


def _parse(prop, value, current=None):
    """Parse one value for ``prop`` into a Python value, raising librdkafka's error on bad input.
    ``current`` is the property's value so far (what an all-blank enum or a flags value starts from)."""
    text = _as_text(value)
    name = prop.name
    if prop.type == STR:
        if text is not None and name not in _KSTR:
            text = text.lstrip(_C_SPACE)          # rd_kafka_anyconf_set_prop: "Left-trim string(likes)"
        if name == 'partitioner' and text not in PARTITIONERS:
            raise _invalid('Invalid value for configuration property "partitioner": %s'
                           % (text if text is not None else "(null)"))
        return prop.default if text is None else text
    if prop.type == BOOL:
        if text is None:
            raise _invalid('Bool configuration property "%s" cannot be set to empty value' % name)
        if text.lower() in ("true", "t", "1"):
            return True
        if text.lower() in ("false", "f", "0"):
            return False
        raise _invalid('Expected bool value for "%s": true or false' % name)
    if prop.type == INT:
        if text is None:
            raise _invalid('Integer configuration property "%s" cannot be set to empty value' % name)
        number = _strtol(text)
        if number is None:
            if name == 'request.required.acks' and text.lower() == 'all':
                return -1
            raise _invalid('Invalid value for configuration property "%s"' % name)
        low, high = prop.spec
        if not low <= number <= high:
            raise _invalid('Configuration property "%s" value %d is outside allowed range %d..%d'
                           % (name, number, low, high))
        return number
    if prop.type == FLOAT:
        if text is None:
            raise _invalid('Float configuration property "%s" cannot be set to empty value' % name)
        number = _strtod(text)
        if number is None:
            raise _invalid('Invalid value for configuration property "%s"' % name)
        low, high = prop.spec
        if not low <= number <= high:
            raise _invalid('Configuration property "%s" value %s is outside allowed range %g..%g'
                           % (name, format(number, "g"), low, high))
        return number
    if prop.type in (ENUM, FLAGS):
        if text is None:
            raise _invalid('Configuration property "%s" cannot be set to empty value' % name)
        chosen = _parse_words(prop, text, current)
        if name == 'auto.offset.reset':
            return _OFFSET_RESET.get(chosen, chosen)
        return chosen
    raise _invalid('Property "%s" must be set through dedicated .._set_..() function' % name)


# auto.offset.reset's synonyms, reduced to the three behaviours (librdkafka stores them as one number).
_OFFSET_RESET = {'smallest': 'earliest', 'earliest': 'earliest', 'beginning': 'earliest',
                 'largest': 'latest', 'latest': 'latest', 'end': 'latest', 'error': 'error'}


def _check_callback(key, value, role):
    """Python-level keys (``on_delivery``, ``error_cb``, ``logger``...), checked as confluent-kafka does."""
    if role not in _PYTHON_CALLBACKS[key]:
        raise _invalid('No such configuration property: "%s"' % key)
    if key == 'logger' or callable(value):
        return value
    if key in ('on_delivery', 'on_commit'):
        raise _invalid('%s requires a callable object' % key)
    error_type = ValueError if key == 'throttle_cb' else TypeError     # as confluent-kafka 2.16 raises
    raise error_type('expected %s property as a callable function' % key)


# --- the effective configuration --------------------------------------------------------------------

class ClientConfig(Mapping):
    """A client's effective configuration: every librdkafka property, defaults filled in, read-only.

    Look up by any name or alias (``cfg["linger.ms"] == cfg["queue.buffering.max.ms"]``). Values are
    Python values: ``int`` / ``float`` / ``bool`` / ``str`` (``cfg["acks"] == -1`` for ``"all"``;
    ``cfg["auto.offset.reset"]`` is ``"earliest"``, ``"latest"`` or ``"error"``), and the Python-level
    callbacks (``on_delivery``, ``error_cb``, ``stats_cb``, ``logger``, ...) are ``None`` when unset.
    ``warnings`` holds what librdkafka would log as CONFWARN (e.g. a producer property given to a
    consumer is accepted and ignored).
    """

    def __init__(self, role, values, user_keys, modified, warnings):
        self.role = role
        self.client_type = "consumer" if role == "consumer" else "producer"   # AdminClient is a producer
        self._values = values
        self._user_keys = tuple(user_keys)
        self._modified = frozenset(modified)
        self.warnings = list(warnings)

    def __getitem__(self, key):
        return self._values[canonical_name(key)]

    def __contains__(self, key):
        return canonical_name(key) in self._values

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def user_keys(self):
        """The keys the user set, spelled as the user spelled them."""
        return self._user_keys

    def is_set(self, key):
        """True if the user set this property under any of its names (librdkafka's is_modified)."""
        return canonical_name(key) in self._modified

    def __repr__(self):
        shown = {k: self._values[canonical_name(k)] for k in self._user_keys}
        return f"ClientConfig({self.role}, {shown!r})"


def require_conf_dict(conf, kwargs):
    """confluent-kafka's clients take their configuration as a dict (keyword arguments may add to it);
    anything else, or nothing at all, is ``TypeError: expected configuration dict``."""
    if not isinstance(conf, dict) and not (conf is None and kwargs):
        raise TypeError("expected configuration dict")


def client_config(conf, role):
    """Parse a client's configuration dict the way ``Producer`` / ``Consumer`` / ``AdminClient`` do.

    ``role`` is ``"producer"``, ``"consumer"`` or ``"admin"``. Raises ``KafkaException`` with
    ``_INVALID_ARG`` and librdkafka's message for an unknown property, a bad value, or a combination
    librdkafka refuses (``"Failed to create producer: `acks` must be set to `all` when
    `enable.idempotence` is true"``). Python-level callbacks are checked as confluent-kafka checks them.

    Simplification: security settings (SSL / SASL) are parsed and kept but never used; the simulated
    cluster has no authentication.
    """
    if role not in ("producer", "consumer", "admin"):
        raise ValueError("role must be 'producer', 'consumer' or 'admin', not %r" % (role,))
    if not isinstance(conf, Mapping):
        raise TypeError("expected configuration dict")
    values = {name: prop.default for name, prop in PROPERTIES.items()}
    values.update({key: None for key in _PYTHON_CALLBACKS})
    modified, user_keys = set(), []

    items = list(conf.items())
    if 'default.topic.config' in conf:
        topic_conf = conf['default.topic.config']
        if not isinstance(topic_conf, Mapping):
            raise TypeError("default.topic.config must be a dict")
        items = list(topic_conf.items()) + [kv for kv in items if kv[0] != 'default.topic.config']
    for key, value in items:
        key = str(key)
        user_keys.append(key)
        if key in _PYTHON_CALLBACKS:
            values[key] = _check_callback(key, value, role)
            continue
        if key == 'delivery.report.only.error' and role == 'producer' and not isinstance(value, bool):
            # confluent-kafka's Producer reads this one itself (producer_conf_set_special)
            raise TypeError("Expected delivery.report.only.error to be bool type, not %s" % type(value).__name__)
        if key in _JAVA_ONLY:
            raise _invalid(_JAVA_ONLY[key])
        name = canonical_name(key)
        if name not in PROPERTIES:
            raise _invalid('No such configuration property: "%s"' % key)
        values[name] = _parse(PROPERTIES[name], value, values[name])
        modified.add(name)

    client_type = "consumer" if role == "consumer" else "producer"
    warnings = _scope_warnings(modified, client_type)
    what = {"producer": "producer", "consumer": "consumer", "admin": "admin client"}[role]
    error = _finalize(values, modified, client_type)
    if error:
        raise _invalid("Failed to create %s: %s" % (what, error))
    return ClientConfig(role, values, user_keys, modified, warnings)


def _scope_warnings(modified, client_type):
    """librdkafka's CONFWARN lines for deprecated properties and ones the other client type uses."""
    warnings = []
    other = "P" if client_type == "consumer" else "C"
    for name in sorted(modified):
        prop = PROPERTIES[name]
        if prop.deprecated:
            warnings.append("Configuration property %s is deprecated" % name)
        if prop.scope == other:
            warnings.append("Configuration property %s is a %s property and will be ignored by this %s "
                            "instance" % (name, "producer" if other == "P" else "consumer", client_type))
    return warnings


def _finalize(v, modified, client_type):
    """librdkafka's rd_kafka_conf_finalize(): derived defaults and consistency rules. Returns an error."""
    if client_type == "consumer":
        error = _finalize_consumer(v, modified)
    else:
        error = _finalize_producer(v, modified)
    if error:
        return error
    if 'metadata.max.age.ms' not in modified and v['topic.metadata.refresh.interval.ms'] > 0:
        v['metadata.max.age.ms'] = v['topic.metadata.refresh.interval.ms'] * 3
    if v['reconnect.backoff.max.ms'] < v['reconnect.backoff.ms']:
        return "`reconnect.backoff.max.ms` must be >= `reconnect.backoff.ms`"
    if 'allow.auto.create.topics' not in modified:
        # Consumers do not auto-create topics by default; producers do (the broker decides too).
        v['allow.auto.create.topics'] = client_type == "producer"
    if client_type == "producer":
        return _finalize_producer_topic(v, modified) or _assignor_error(v)
    return _check_group_settings(v, modified)


def _finalize_consumer(v, modified):
    if 'fetch.max.bytes' in modified:
        if v['fetch.max.bytes'] < v['message.max.bytes']:
            return "`fetch.max.bytes` must be >= `message.max.bytes`"
    else:
        v['fetch.max.bytes'] = max(min(v['fetch.max.bytes'], v['queued.max.messages.kbytes'] * 1024),
                                   v['message.max.bytes'])
    if 'receive.message.max.bytes' in modified:
        if v['fetch.max.bytes'] + 512 > v['receive.message.max.bytes']:
            return "`receive.message.max.bytes` must be >= `fetch.max.bytes` + 512"
    else:
        v['receive.message.max.bytes'] = max(v['receive.message.max.bytes'], v['fetch.max.bytes'] + 512)
    if v['max.poll.interval.ms'] < v['session.timeout.ms']:
        return "`max.poll.interval.ms`must be >= `session.timeout.ms`"    # sic: librdkafka's text
    v['enable.idempotence'] = False
    return None


def _finalize_producer(v, modified):
    if v['transactional.id']:
        if not v['enable.idempotence']:
            if 'enable.idempotence' in modified:
                return "`transactional.id` requires `enable.idempotence=true`"
            v['enable.idempotence'] = True        # transactions imply idempotence
        if 'socket.timeout.ms' not in modified:
            v['socket.timeout.ms'] = max(v['transaction.timeout.ms'] - 100, 900)
        elif v['transaction.timeout.ms'] + 100 < v['socket.timeout.ms']:
            return "`socket.timeout.ms` must be set <= `transaction.timeout.ms` + 100"
    if v['enable.idempotence']:
        if 'max.in.flight.requests.per.connection' in modified:
            if v['max.in.flight.requests.per.connection'] > IDEMPOTENT_MAX_IN_FLIGHT:
                return "`max.in.flight` must be set <= 5 when `enable.idempotence` is true"
        else:
            v['max.in.flight.requests.per.connection'] = min(v['max.in.flight.requests.per.connection'],
                                                             IDEMPOTENT_MAX_IN_FLIGHT)
        if 'message.send.max.retries' in modified:
            if v['message.send.max.retries'] < 1:
                return "`retries` must be set >= 1 when `enable.idempotence` is true"
        else:
            v['message.send.max.retries'] = INT32_MAX
        if 'queue.buffering.backpressure.threshold' in modified \
                and v['queue.buffering.backpressure.threshold'] > 1:
            return ("`queue.buffering.backpressure.threshold` must be set to 1 when `enable.idempotence` "
                    "is true")
        v['queue.buffering.backpressure.threshold'] = 1
    elif v['enable.gapless.guarantee'] and 'enable.gapless.guarantee' in modified:
        return "`enable.gapless.guarantee` requires `enable.idempotence` to be enabled"
    if 'sticky.partitioning.linger.ms' not in modified:
        v['sticky.partitioning.linger.ms'] = int(min(900000, 2 * v['queue.buffering.max.ms']))
    return None


def _finalize_producer_topic(v, modified):
    """librdkafka's rd_kafka_topic_conf_finalize() for the producer's topic properties.

    librdkafka reports these errors when the client is created only if some topic property was set
    (otherwise later, when the first topic is used); this function follows that.
    """
    topic_conf_set = any(PROPERTIES[name].topic for name in modified)
    timeout, linger = v['message.timeout.ms'], v['queue.buffering.max.ms']
    if topic_conf_set and timeout != 0 and timeout <= linger:
        if 'queue.buffering.max.ms' in modified:
            return "`message.timeout.ms` must be greater than `linger.ms`"
        v['queue.buffering.max.ms'] = timeout - 0.1
    if v['enable.idempotence']:
        if 'request.required.acks' in modified:
            if v['request.required.acks'] != -1:
                return "`acks` must be set to `all` when `enable.idempotence` is true"
        v['request.required.acks'] = -1
        if 'queuing.strategy' in modified and v['queuing.strategy'] != 'fifo':
            return "`queuing.strategy` must be set to `fifo` when `enable.idempotence` is true"
        if v['transactional.id']:
            if 'message.timeout.ms' not in modified:
                v['message.timeout.ms'] = v['transaction.timeout.ms']
            elif v['message.timeout.ms'] > v['transaction.timeout.ms']:
                return "`message.timeout.ms` must be set <= `transaction.timeout.ms`"
    timeout = v['message.timeout.ms']
    if topic_conf_set and timeout != 0 and timeout <= v['queue.buffering.max.ms'] \
            and 'queue.buffering.max.ms' in modified:
        return "`message.timeout.ms` must be greater than `linger.ms`"
    return None


def _check_group_settings(v, modified):
    """The consumer group checks librdkafka makes when a consumer is created."""
    if v['group.protocol'] == 'consumer':
        for name in ('session.timeout.ms', 'heartbeat.interval.ms'):
            if name in modified:
                return ("`%s` is not supported for `group.protocol=consumer` or share consumer. "
                        "It is defined broker side" % name)
        if 'group.protocol.type' in modified:
            return "`group.protocol.type` is not supported for `group.protocol=consumer` or share consumer"
        if 'partition.assignment.strategy' in modified:
            return ("`partition.assignment.strategy` is not supported for `group.protocol=consumer`. "
                    "Use `group.remote.assignor` instead")
    return _assignor_error(v)


def _assignor_error(v):
    """librdkafka's rd_kafka_assignors_init(), run for every client type (a producer or an admin client
    with a bad ``partition.assignment.strategy`` is refused too). The builtin assignors exist only for
    ``group.protocol.type=consumer``; names are matched case-sensitively."""
    names = assignment_strategies(v)
    for name in names:
        if name not in ASSIGNORS or v['group.protocol.type'] != 'consumer':
            return "Unsupported partition.assignment.strategy: %s" % name
    if len({ASSIGNORS[n] for n in names}) > 1:
        return ("All partition.assignment.strategy (%s) assignors must have the same protocol type, "
                "online migration between assignors with different protocol types is not supported"
                % v['partition.assignment.strategy'])
    return None


def assignment_strategies(cfg):
    """``partition.assignment.strategy`` as a list of assignor names, in preference order.

    Split as rd_kafka_assignors_init() splits it: spaces and commas before a name are skipped, nothing
    after it (``"range "`` names no assignor). An empty value means librdkafka's default
    (``range,roundrobin``).
    """
    text = cfg['partition.assignment.strategy'] or PROPERTIES['partition.assignment.strategy'].default
    names, i = [], 0
    while i < len(text):
        while i < len(text) and text[i] in " ,":
            i += 1
        end = text.find(",", i)
        end = len(text) if end < 0 else end
        names.append(text[i:end])
        i = end + 1
    return names


def require_group_id(conf):
    """The consumer's "group.id must be set" check, on a raw conf dict or a ``ClientConfig``.

    confluent-kafka 2.16 makes it when a ``Consumer`` is created, before looking at anything else
    in the dict; it raises ``ValueError``.
    """
    group_id = conf.get('group.id') if isinstance(conf, Mapping) else None
    if group_id is None or group_id == "":
        raise ValueError("Failed to create consumer: group.id must be set")


# ---------------------------------------------------------------------------------------------
# Topic configuration: Kafka 4.x's topic-level configs (LogConfig)
# ---------------------------------------------------------------------------------------------

_LONG_MAX = 2 ** 63 - 1
_INT_MAX = 2 ** 31 - 1

# name -> (type, default, validator); type is Kafka's ConfigDef type.
# validator: ("min", x) at least x; ("range", lo, hi); ("in", choices); ("list_in", choices); None.
TOPIC_CONFIGS = {
    'cleanup.policy': ('LIST', 'delete', ('list_in', ('compact', 'delete'))),
    'compression.gzip.level': ('INT', -1, ('gzip_level',)),
    'compression.lz4.level': ('INT', 9, ('range', 1, 17)),
    'compression.type': ('STRING', 'producer',
                         ('in', ('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'))),
    'compression.zstd.level': ('INT', 3, ('range', -131072, 22)),
    'delete.retention.ms': ('LONG', 86400000, ('min', 0)),
    'errors.deadletterqueue.group.enable': ('BOOLEAN', False, None),
    'file.delete.delay.ms': ('LONG', 60000, ('min', 0)),
    'flush.messages': ('LONG', _LONG_MAX, ('min', 1)),
    'flush.ms': ('LONG', _LONG_MAX, ('min', 0)),
    'follower.replication.throttled.replicas': ('LIST', '', None),
    'index.interval.bytes': ('INT', 4096, ('min', 0)),
    'leader.replication.throttled.replicas': ('LIST', '', None),
    'local.retention.bytes': ('LONG', -2, ('min', -2)),
    'local.retention.ms': ('LONG', -2, ('min', -2)),
    'max.compaction.lag.ms': ('LONG', _LONG_MAX, ('min', 1)),
    'max.decompressed.message.bytes': ('INT', 2147483639, ('min', 1)),
    'max.message.bytes': ('INT', 1048588, ('min', 0)),
    'message.timestamp.after.max.ms': ('LONG', 3600000, ('min', 0)),
    'message.timestamp.before.max.ms': ('LONG', _LONG_MAX, ('min', 0)),
    'message.timestamp.type': ('STRING', 'CreateTime', ('in', ('CreateTime', 'LogAppendTime'))),
    'min.cleanable.dirty.ratio': ('DOUBLE', 0.5, ('range', 0, 1)),
    'min.compaction.lag.ms': ('LONG', 0, ('min', 0)),
    'min.insync.replicas': ('INT', 1, ('min', 1)),
    'preallocate': ('BOOLEAN', False, None),
    'remote.copy.lag.bytes': ('LONG', -1, ('min', -1)),
    'remote.copy.lag.ms': ('LONG', 0, ('min', -1)),
    'remote.log.copy.disable': ('BOOLEAN', False, None),
    'remote.log.delete.on.disable': ('BOOLEAN', False, None),
    'remote.storage.enable': ('BOOLEAN', False, None),
    'retention.bytes': ('LONG', -1, None),
    'retention.ms': ('LONG', 604800000, ('min', -1)),
    'segment.bytes': ('INT', 1073741824, ('min', 1048576)),
    'segment.index.bytes': ('INT', 10485760, ('min', 4)),
    'segment.jitter.ms': ('LONG', 0, ('min', 0)),
    'segment.ms': ('LONG', 604800000, ('min', 1)),
    'unclean.leader.election.enable': ('BOOLEAN', False, None),
}


def _config_text(value):
    """A default as Kafka shows it in DescribeConfigs."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Kafka 4.x's defaults for every topic config, as strings (what DescribeConfigs shows).
TOPIC_DEFAULTS = {name: _config_text(spec[1]) for name, spec in TOPIC_CONFIGS.items()}

# The broker setting each topic config falls back to (Kafka's ServerTopicConfigSynonyms); where a
# topic config has several broker synonyms, the first one set wins (``log.retention.ms`` before
# ``log.retention.minutes`` before ``log.retention.hours``), with its unit factor.
BROKER_SYNONYMS = {
    'segment.bytes': [('log.segment.bytes', 1)],
    'segment.ms': [('log.roll.ms', 1), ('log.roll.hours', 3600000)],
    'segment.jitter.ms': [('log.roll.jitter.ms', 1), ('log.roll.jitter.hours', 3600000)],
    'segment.index.bytes': [('log.index.size.max.bytes', 1)],
    'flush.messages': [('log.flush.interval.messages', 1)],
    'flush.ms': [('log.flush.interval.ms', 1), ('log.flush.scheduler.interval.ms', 1)],
    'retention.bytes': [('log.retention.bytes', 1)],
    'retention.ms': [('log.retention.ms', 1), ('log.retention.minutes', 60000), ('log.retention.hours', 3600000)],
    'max.message.bytes': [('message.max.bytes', 1)],
    'index.interval.bytes': [('log.index.interval.bytes', 1)],
    'delete.retention.ms': [('log.cleaner.delete.retention.ms', 1)],
    'min.compaction.lag.ms': [('log.cleaner.min.compaction.lag.ms', 1)],
    'max.compaction.lag.ms': [('log.cleaner.max.compaction.lag.ms', 1)],
    'file.delete.delay.ms': [('log.segment.delete.delay.ms', 1)],
    'min.cleanable.dirty.ratio': [('log.cleaner.min.cleanable.ratio', 1)],
    'cleanup.policy': [('log.cleanup.policy', 1)],
    'unclean.leader.election.enable': [('unclean.leader.election.enable', 1)],
    'min.insync.replicas': [('min.insync.replicas', 1)],
    'compression.type': [('compression.type', 1)],
    'compression.gzip.level': [('compression.gzip.level', 1)],
    'compression.lz4.level': [('compression.lz4.level', 1)],
    'compression.zstd.level': [('compression.zstd.level', 1)],
    'preallocate': [('log.preallocate', 1)],
    'message.timestamp.type': [('log.message.timestamp.type', 1)],
    'message.timestamp.before.max.ms': [('log.message.timestamp.before.max.ms', 1)],
    'message.timestamp.after.max.ms': [('log.message.timestamp.after.max.ms', 1)],
    'local.retention.ms': [('log.local.retention.ms', 1)],
    'local.retention.bytes': [('log.local.retention.bytes', 1)],
    'max.decompressed.message.bytes': [('max.decompressed.message.bytes', 1)],
    'remote.copy.lag.bytes': [('log.remote.copy.lag.bytes', 1)],
    'remote.copy.lag.ms': [('log.remote.copy.lag.ms', 1)],
}

# The broker synonyms above that have no default in Kafka (the next synonym's applies: without
# ``log.retention.ms`` and ``log.retention.minutes``, ``log.retention.hours=168``). Every other synonym's
# default is the topic config's default in its unit (``broker_synonym_default``).
BROKER_SYNONYMS_WITHOUT_DEFAULT = frozenset({'log.retention.ms', 'log.retention.minutes', 'log.roll.ms',
                                             'log.roll.jitter.ms', 'log.flush.interval.ms'})


def broker_synonym_default(topic_key, broker_key):
    """Kafka's default of ``broker_key``, a broker synonym of ``topic_key`` (a string), or None if it has none."""
    if broker_key in BROKER_SYNONYMS_WITHOUT_DEFAULT:
        return None
    factor = dict(BROKER_SYNONYMS[topic_key])[broker_key]
    default = TOPIC_CONFIGS[topic_key][1]
    return _config_text(default // factor if factor != 1 else default)

_INTEGER = re.compile(r'[+-]?\d+')


def _config_error(message):
    return KafkaException(KafkaError(KafkaError.INVALID_CONFIG, reason=message))


def _bad_value(name, text, why):
    return _config_error("Invalid value %s for configuration %s: %s" % (text, name, why))


def _parse_topic_value(name, value):
    """Parse one topic config value as Kafka's ConfigDef does; returns (python value, normalised text)."""
    kind, _, validator = TOPIC_CONFIGS[name]
    return parse_config_value(name, value, kind, validator)


def parse_config_value(name, value, kind, validator):
    """Parse one broker or topic config value as Kafka's ``ConfigDef`` does (``kind`` is its type: INT, LONG,
    DOUBLE, BOOLEAN, LIST, STRING); returns (python value, normalised text) or raises ``INVALID_CONFIG``
    with Kafka's message."""
    raw = value if isinstance(value, str) else _config_text(value)
    text = raw.strip()
    if kind in ('INT', 'LONG'):
        limit = _INT_MAX if kind == 'INT' else _LONG_MAX
        if not _INTEGER.fullmatch(text) or not -limit - 1 <= int(text) <= limit:
            raise _bad_value(name, raw, "Not a number of type %s" % kind)
        parsed, text = int(text), str(int(text))
    elif kind == 'DOUBLE':
        try:
            parsed = float(text)
        except ValueError:
            raise _bad_value(name, raw, "Not a number of type DOUBLE") from None
    elif kind == 'BOOLEAN':
        if text.lower() not in ('true', 'false'):
            raise _bad_value(name, raw, "Expected value to be either true or false")
        parsed = text.lower() == 'true'
        text = text.lower()
    elif kind == 'LIST':
        parsed = [item for item in re.split(r'\s*,\s*', text) if item] if text else []
        text = ",".join(parsed)
    else:
        parsed = text
    _validate_topic_value(name, parsed, raw, validator)
    return parsed, text


def _validate_topic_value(name, parsed, raw, validator):
    if validator is None:
        return
    rule = validator[0]
    if rule == 'min' and parsed < validator[1]:
        raise _bad_value(name, raw, "Value must be at least %s" % validator[1])
    if rule == 'range':
        if parsed < validator[1]:
            raise _bad_value(name, raw, "Value must be at least %s" % validator[1])
        if parsed > validator[2]:
            raise _bad_value(name, raw, "Value must be no more than %s" % validator[2])
    if rule == 'gzip_level' and parsed != -1 and not 1 <= parsed <= 9:
        raise _bad_value(name, raw, "Value must be between 1 and 9, or -1 (default)")
    if rule == 'in' and parsed not in validator[1]:
        raise _bad_value(name, raw, "String must be one of: %s" % ", ".join(validator[1]))
    if rule == 'list_in':
        for item in parsed:
            if item not in validator[1]:
                raise _bad_value(name, item, "String must be one of: %s" % ", ".join(validator[1]))


def validate_topic_config(config):
    """Check topic config overrides as a Kafka 4.x broker does; return them normalised to strings.

    Raises ``KafkaException`` carrying ``KafkaError(INVALID_CONFIG)`` with Kafka's message:
    ``"Unknown topic config name: retention.msx"``,
    ``"Invalid value abc for configuration retention.ms: Not a number of type LONG"``,
    ``"Null value not supported for topic configs: retention.ms"``.
    """
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise TypeError("topic config must be a dict of strings")
    for name in config:
        if name not in TOPIC_CONFIGS:
            raise _config_error("Unknown topic config name: %s" % name)
    normalised, parsed = {}, {}
    for name, value in config.items():
        if value is None:
            raise _config_error("Null value not supported for topic configs: %s" % name)
        parsed[name], normalised[name] = _parse_topic_value(name, value)
    low = parsed.get('min.compaction.lag.ms', TOPIC_CONFIGS['min.compaction.lag.ms'][1])
    high = parsed.get('max.compaction.lag.ms', TOPIC_CONFIGS['max.compaction.lag.ms'][1])
    if low > high:
        raise _config_error("conflict topic config setting min.compaction.lag.ms (%d) > "
                            "max.compaction.lag.ms (%d)" % (low, high))
    return normalised


def topic_config_value(overrides, broker_config, key):
    """The effective value (a string) of topic config ``key``.

    Kafka resolves a topic config as: the topic's override, else the broker's setting for it (e.g.
    ``log.retention.ms`` for ``retention.ms``, ``min.insync.replicas`` for ``min.insync.replicas``),
    else Kafka's default.
    """
    if key not in TOPIC_CONFIGS:
        raise KeyError("Unknown topic config name: %s" % key)
    if overrides and key in overrides and overrides[key] is not None:
        return str(overrides[key])
    for broker_key, factor in BROKER_SYNONYMS.get(key, ()):
        if broker_config and broker_config.get(broker_key) is not None:
            value = broker_config[broker_key]
            return str(int(value) * factor) if factor != 1 else _config_text(value)
    return TOPIC_DEFAULTS[key]


# ---------------------------------------------------------------------------------------------
# Topic names
# ---------------------------------------------------------------------------------------------

MAX_TOPIC_NAME_LENGTH = 249
_LEGAL_TOPIC = re.compile(r'[a-zA-Z0-9._-]+')


def validate_topic_name(name):
    """Kafka's topic name rules; returns ``KafkaError(TOPIC_EXCEPTION)`` or None.

    A name must be non-empty, not ``.`` or ``..``, at most 249 characters, and only ASCII letters,
    digits, ``.``, ``_`` and ``-``. The messages are Kafka 4.x's (``Topic.validate``).
    """
    if not isinstance(name, str):
        return KafkaError(KafkaError.TOPIC_EXCEPTION, reason="Topic name must be a string, not %r" % (name,))
    reason = None
    if name == "":
        reason = "the empty string is not allowed"
    elif name in (".", ".."):
        reason = "'%s' is not allowed" % name
    elif len(name) > MAX_TOPIC_NAME_LENGTH:
        reason = "the length of '%s' is longer than the max allowed length %d" % (name, MAX_TOPIC_NAME_LENGTH)
    elif not _LEGAL_TOPIC.fullmatch(name):
        reason = "'%s' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'" % name
    if reason is None:
        return None
    return KafkaError(KafkaError.TOPIC_EXCEPTION, reason="Topic name is invalid: " + reason)


def topic_names_collide(a, b):
    """True if two topic names differ only by '.' versus '_' (Kafka refuses the second one).

    Kafka's metric names replace '.' with '_', so ``orders.eu`` and ``orders_eu`` would collide.
    """
    return a.replace(".", "_") == b.replace(".", "_")
