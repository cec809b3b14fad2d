"""Topic and broker configuration: ``describe_configs`` (values, sources, flags, synonyms), ``alter_configs``
and ``incremental_alter_configs`` (their semantics, ``validate_only``, errors), configs given at
``create_topics``, and config effects a client sees (record size limit, log-append timestamps).

The real brokers are started with some settings of their own in ``server.properties`` (the course's:
``auto.create.topics.enable=false``, ``num.partitions=1``, ...), and a Kafka 4.x controller writes a
cluster-wide ``min.insync.replicas`` when it formats the metadata log (eligible leader replicas, KIP-966):
both show in the sources a client sees, and the simulated cluster reports the same.

Brokers apply a config change when they read it from the metadata log, a moment after the controller
answered; a describe right after an alter may see the old value. So every change here carries a
*marker* (``segment.jitter.ms``, never compared) in the same request, and the scenario reads the configs
only from an answer that shows the marker: that broker has applied the whole change."""
from __future__ import annotations

import itertools
import warnings

import campaign
from differential_scenarios import MAX_POLLS, POLL_S, consume, error_code, produce

campaign.area(__name__, "Configuration (describe_configs, alter_configs, incremental_alter_configs)")

campaign.simplification(
    "log.retention.check.interval.ms and log.cleaner.backoff.ms keep Kafka's defaults (5 min, 15 s) on the "
    "simulated brokers; the course's real brokers set 1 s and 0.5 s (STATIC_BROKER_CONFIG) so that "
    "run_retention_now() / run_log_cleaner_now() wait little",
    "describe_configs of a simulated broker shows them as DEFAULT_CONFIG with Kafka's defaults; the "
    "simulator runs retention and the cleaner at once on run_retention_now() / run_log_cleaner_now()")

campaign.simplification(
    "A simulated broker's own configs cannot be changed while it runs (DYNAMIC_BROKER_CONFIG)",
    "incremental_alter_configs / alter_configs of a broker are checked as Kafka checks them (read-only "
    "configs and bad values fail with INVALID_REQUEST) and succeed with validate_only=True; without it they "
    "fail with INVALID_REQUEST: set broker configs with Cluster(config=...)")

#: The well-known topic configs the scenarios look at.
KEYS = ("cleanup.policy", "retention.ms", "min.insync.replicas", "max.message.bytes", "segment.bytes",
        "message.timestamp.type", "compression.type", "unclean.leader.election.enable")

#: Broker configs of broker 1 the scenarios look at: set by the course (static), written by the controller
#: (cluster default), Kafka's defaults, defaults that are null, read-only and dynamic ones.
BROKER_KEYS = ("auto.create.topics.enable", "num.partitions", "default.replication.factor",
               "min.insync.replicas", "unclean.leader.election.enable", "group.initial.rebalance.delay.ms",
               "message.max.bytes", "log.retention.ms", "log.retention.bytes", "log.segment.bytes", "log.roll.ms",
               "log.cleanup.policy", "delete.topic.enable", "offsets.retention.minutes",
               "transaction.max.timeout.ms", "auto.leader.rebalance.enable", "replica.lag.time.max.ms")

MARKER = "segment.jitter.ms"
TIMEOUT = 30
_markers = itertools.count(1)


# -- helpers ---------------------------------------------------------------------------------------------
def _types(run):
    """``(ConfigResource, ConfigEntry, AlterConfigOpType, ConfigSource)`` of the backend's client library."""
    if run.backend == "sim":
        from eventsim.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource
    else:
        from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource
    return ConfigResource, ConfigEntry, AlterConfigOpType, ConfigSource


def _source(run, source):
    """A ``ConfigSource`` (or its number: confluent-kafka hands out ints) as its name."""
    cls = _types(run)[3]
    return cls(source).name if isinstance(source, int) else source.name


def _entry(run, e, synonyms=True):
    """What a client sees of one ``ConfigEntry``."""
    out = {"value": e.value, "source": _source(run, e.source), "source_type": type(e.source).__name__,
           "is_default": e.is_default, "is_read_only": e.is_read_only, "is_sensitive": e.is_sensitive,
           "is_synonym": e.is_synonym, "value_type": type(e.value).__name__}
    if synonyms:
        out["synonyms"] = {name: _entry(run, s, synonyms=False) for name, s in e.synonyms.items()}
    return out


def _outcome(future):
    """``None`` if the future succeeds, else ``(error name, message)``."""
    try:
        future.result(timeout=TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - the scenario observes what surfaces
        err = exc.args[0] if exc.args else None
        return (err.name(), err.str()) if hasattr(err, "name") else (type(exc).__name__, str(exc))
    return None


def _raises(fn):
    """``None`` if ``fn()`` returns, else ``(exception type, message)``."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__, str(exc)
    return None


def _describe(run, admin, kind, name, marker=None):
    """``describe_configs`` of one existing resource: ``{name: ConfigEntry}``. Asked again while the
    answering broker does not know the new topic yet, and, with ``marker``, until the answer shows
    ``segment.jitter.ms == marker`` (the answering broker has applied the change)."""
    config_resource = _types(run)[0]
    for _ in range(MAX_POLLS):
        resource = config_resource(kind, name)
        future = admin.describe_configs([resource], request_timeout=10)[resource]
        exc = future.exception(timeout=TIMEOUT)
        if exc is None:
            entries = future.result()
            if marker is None or entries[MARKER].value == str(marker):
                return entries
        elif exc.args[0].code() != run.api.KafkaError.UNKNOWN_TOPIC_OR_PART:
            raise exc
        run.kafka.wait(int(POLL_S * 1000))
    raise AssertionError("the change of %s never showed in describe_configs" % name)


def _values(run, admin, topic, marker=None, keys=KEYS):
    """``{key: (value, source name)}`` of a topic's configs."""
    entries = _describe(run, admin, "topic", topic, marker)
    return {k: (entries[k].value, _source(run, entries[k].source)) for k in keys}


def _incremental(run, admin, topic, ops, validate_only=False, mark=True):
    """``incremental_alter_configs`` of one topic with ``ops`` = ``[(name, value, "SET" | "DELETE" | ...)]``
    (and the marker, unless ``mark`` is false): ``(outcome, marker)``."""
    config_resource, config_entry, op_type, _ = _types(run)
    marker = next(_markers) if mark else None
    entries = [config_entry(n, v, incremental_operation=op_type[op]) for n, v, op in ops]
    if mark:
        entries.append(config_entry(MARKER, str(marker), incremental_operation=op_type.SET))
    resource = config_resource("topic", topic, incremental_configs=entries)
    futures = admin.incremental_alter_configs([resource], validate_only=validate_only, request_timeout=10)
    outcome = _outcome(futures[resource])
    return outcome, (marker if outcome is None and not validate_only else None)


def _replace(run, admin, topic, configs, validate_only=False):
    """``alter_configs`` (the deprecated whole-config replace) of one topic, with the marker among
    ``configs``: ``(outcome, marker)``."""
    config_resource = _types(run)[0]
    marker = next(_markers)
    resource = config_resource("topic", topic, set_config=dict(configs, **{MARKER: str(marker)}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        futures = admin.alter_configs([resource], validate_only=validate_only, request_timeout=10)
    outcome = _outcome(futures[resource])
    return outcome, (marker if outcome is None and not validate_only else None)


def _create_outcome(run, name, config, validate_only=False):
    admin = run.admin()
    futures = admin.create_topics([run.api.NewTopic(name, 1, 3, config=config)], validate_only=validate_only,
                                  operation_timeout=30)
    outcome = _outcome(futures[name])
    if outcome is None and not validate_only:
        run.created.append(name)
    return outcome


# -- describe_configs of a topic ---------------------------------------------------------------------------
def _check_default_topic_configs(real):
    e = real["entries"]
    assert e["cleanup.policy"]["value"] == "delete" and e["cleanup.policy"]["source"] == "DEFAULT_CONFIG"
    assert e["cleanup.policy"]["is_default"] and not e["cleanup.policy"]["is_read_only"]
    assert e["retention.ms"]["value"] == "604800000" and e["retention.ms"]["synonyms"] == {}
    assert e["max.message.bytes"]["synonyms"]["message.max.bytes"]["source"] == "DEFAULT_CONFIG"
    assert e["unclean.leader.election.enable"]["source"] == "STATIC_BROKER_CONFIG"      # server.properties
    assert e["min.insync.replicas"]["source"] == "DYNAMIC_DEFAULT_BROKER_CONFIG"      # the controller's (ELR)
    assert all(v["value_type"] == "str" and v["source_type"] == "int" for v in e.values())


@campaign.scenario(check=_check_default_topic_configs)
def describe_topic_configs_without_overrides(run):
    """``describe_configs`` of a topic created without configs: each well-known config's value (a string),
    source, flags and synonyms. The source is where the value comes from: Kafka's default
    (``DEFAULT_CONFIG``), the brokers' ``server.properties`` (``STATIC_BROKER_CONFIG``:
    ``unclean.leader.election.enable``) or the cluster-wide dynamic default the Kafka 4.x controller writes
    for ``min.insync.replicas`` (``DYNAMIC_DEFAULT_BROKER_CONFIG``); confluent-kafka hands sources out as
    ints and synonyms as a dict by name."""
    topic = run.topic()
    entries = _describe(run, run.admin(), "topic", topic)
    return {"entries": {k: _entry(run, entries[k]) for k in KEYS}}


def _check_topic_config_names(real):
    assert {"cleanup.policy", "retention.ms", "min.insync.replicas", "max.message.bytes"} <= set(real["names"])
    assert real["sensitive"] == [] and real["read_only"] == [] and real["non_default"] == [
        "min.insync.replicas", "unclean.leader.election.enable"]


@campaign.scenario(check=_check_topic_config_names)
def describe_topic_configs_lists_every_topic_config(run):
    """``describe_configs`` of a topic lists every topic-level config Kafka 4.4 has, none sensitive or
    read-only; without overrides only the ones the brokers set are not defaults."""
    topic = run.topic()
    entries = _describe(run, run.admin(), "topic", topic)
    return {"names": sorted(entries), "sensitive": sorted(n for n, e in entries.items() if e.is_sensitive),
            "read_only": sorted(n for n, e in entries.items() if e.is_read_only),
            "non_default": sorted(n for n, e in entries.items() if not e.is_default),
            "defaults": {n: entries[n].value for n in sorted(entries) if entries[n].is_default}}


def _check_topic_overrides(real):
    e = real["entries"]
    assert e["retention.ms"]["source"] == "DYNAMIC_TOPIC_CONFIG" and e["retention.ms"]["value"] == "3600000"
    assert not e["retention.ms"]["is_default"]
    assert e["cleanup.policy"]["value"] == "compact,delete"
    assert e["cleanup.policy"]["synonyms"]["log.cleanup.policy"]["source"] == "DEFAULT_CONFIG"
    assert e["min.insync.replicas"]["value"] == "2"


@campaign.scenario(check=_check_topic_overrides)
def describe_topic_configs_with_overrides(run):
    """A topic created with configs shows them as ``DYNAMIC_TOPIC_CONFIG`` (not defaults), the value
    normalised as Kafka parses it (spaces around list items dropped), with the topic's own entry first among
    the synonyms and the broker settings it overrides after it."""
    topic = run.topic(config={"retention.ms": "3600000", "cleanup.policy": "compact, delete",
                              "min.insync.replicas": "2", "message.timestamp.type": "LogAppendTime",
                              "compression.type": "gzip", "unclean.leader.election.enable": "true"})
    entries = _describe(run, run.admin(), "topic", topic)
    return {"entries": {k: _entry(run, entries[k]) for k in KEYS}}


# -- describe_configs of a broker --------------------------------------------------------------------------
def _check_broker_sources(real):
    e = real["entries"]
    assert e["auto.create.topics.enable"]["value"] == "false"
    assert e["auto.create.topics.enable"]["source"] == "STATIC_BROKER_CONFIG"
    assert e["auto.create.topics.enable"]["synonyms"]["auto.create.topics.enable"]["value"] == "true"
    assert e["auto.create.topics.enable"]["is_read_only"] and not e["min.insync.replicas"]["is_read_only"]
    assert e["min.insync.replicas"]["source"] == "DYNAMIC_DEFAULT_BROKER_CONFIG"
    assert e["log.retention.ms"]["value"] is None and e["log.retention.ms"]["is_default"]
    assert e["message.max.bytes"]["source"] == "DEFAULT_CONFIG"


@campaign.scenario(check=_check_broker_sources)
def describe_broker_configs_sources_and_flags(run):
    """``describe_configs`` of broker 1: what the course's ``server.properties`` sets is
    ``STATIC_BROKER_CONFIG`` (with Kafka's default as its synonym), ``min.insync.replicas`` is the
    controller's cluster-wide default, the rest Kafka's defaults (``log.retention.ms`` and ``log.roll.ms``
    have none: ``None``, the hours settings apply); configs a broker cannot change while running are
    read-only."""
    entries = _describe(run, run.admin(), "broker", "1")
    return {"entries": {k: _entry(run, entries[k]) for k in BROKER_KEYS}}


def _check_bad_broker_names(real):
    assert real["x"][0] == real["negative"][0] == "_INVALID_ARG" and real["empty"][0] == "ValueError"
    assert real["unknown_id"] == ("_TIMED_OUT", "Failed while waiting for broker: Local: Timed out")


@campaign.scenario(check=_check_bad_broker_names)
def describe_configs_of_bad_broker_names(run):
    """A broker resource must name a broker id: ``"x"`` or ``"-1"`` fail the future with ``_INVALID_ARG``;
    for an id no broker has the client waits for that broker until the request times out (``_TIMED_OUT``);
    the empty name (the cluster-wide default) is refused at the call by confluent-kafka 2.16."""
    config_resource = _types(run)[0]
    admin = run.admin()
    x, negative, unknown = (config_resource("broker", name) for name in ("x", "-1", "9"))
    return {"x": _outcome(admin.describe_configs([x])[x]),
            "negative": _outcome(admin.describe_configs([negative])[negative]),
            "unknown_id": _outcome(admin.describe_configs([unknown], request_timeout=3)[unknown]),
            "empty": _raises(lambda: admin.describe_configs([config_resource("broker", "")]))}


def _check_missing_topic(real):
    assert {k: v[0] for k, v in real.items()} == dict.fromkeys(real, "UNKNOWN_TOPIC_OR_PART")


@campaign.scenario(check=_check_missing_topic)
def configs_of_a_missing_topic(run):
    """Describing, altering and incrementally altering the configs of a topic that does not exist fail the
    future with ``UNKNOWN_TOPIC_OR_PART``."""
    config_resource, config_entry, op_type, _ = _types(run)
    admin = run.admin()
    name = run.unique_name("missing")
    described = config_resource("topic", name)
    replaced = config_resource("topic", name, set_config={"retention.ms": "1000"})
    changed = config_resource("topic", name, incremental_configs=[
        config_entry("retention.ms", "1000", incremental_operation=op_type.SET)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        alter = admin.alter_configs([replaced])[replaced]
    outcomes = {"describe": _outcome(admin.describe_configs([described])[described]), "alter": _outcome(alter),
                "incremental": _outcome(admin.incremental_alter_configs([changed])[changed])}
    return {k: (code, message.replace(name, "<topic>")) for k, (code, message) in outcomes.items()}


def _check_several_resources(real):
    assert real["topic"] is None and real["broker"] is None and real["missing"] == "UNKNOWN_TOPIC_OR_PART"


@campaign.scenario(check=_check_several_resources)
def describe_configs_of_several_resources_at_once(run):
    """One ``describe_configs`` call for a topic, a missing topic and a broker: one future per resource,
    each failing or succeeding on its own."""
    config_resource = _types(run)[0]
    topic = run.topic()
    admin = run.admin()
    resources = [config_resource("topic", topic), config_resource("topic", run.unique_name("missing")),
                 config_resource("broker", "2")]
    _describe(run, admin, "topic", topic)        # a broker may not know the new topic for a moment
    futures = admin.describe_configs(resources)
    outcomes = [_outcome(futures[r]) for r in resources]
    for _ in range(MAX_POLLS):
        if outcomes[0] is None:
            break
        run.kafka.wait(int(POLL_S * 1000))
        futures = admin.describe_configs(resources)
        outcomes = [_outcome(futures[r]) for r in resources]
    return {"topic": outcomes[0], "missing": outcomes[1] and outcomes[1][0], "broker": outcomes[2],
            "keys": sorted(type(k).__name__ for k in futures)}


# -- alter_configs vs incremental_alter_configs -----------------------------------------------------------
def _check_replace(real):
    assert real["outcome"] is None
    assert real["after"]["retention.ms"] == ("604800000", "DEFAULT_CONFIG")
    assert real["after"]["cleanup.policy"] == ("compact", "DYNAMIC_TOPIC_CONFIG")
    assert real["after"]["min.insync.replicas"] == ("1", "DYNAMIC_DEFAULT_BROKER_CONFIG")


@campaign.scenario(check=_check_replace)
def alter_configs_replaces_the_whole_config(run):
    """``alter_configs`` (deprecated) replaces a topic's whole config: the configs it names are set, every
    override it does not name goes back to the broker's value or Kafka's default."""
    topic = run.topic(config={"retention.ms": "3600000", "min.insync.replicas": "2"})
    admin = run.admin()
    before = _values(run, admin, topic)
    outcome, marker = _replace(run, admin, topic, {"cleanup.policy": "compact"})
    return {"before": before, "outcome": outcome, "after": _values(run, admin, topic, marker)}


def _check_replace_errors(real):
    assert real["unknown"] == ("INVALID_CONFIG", "Unknown topic config name: no.such.config")
    assert real["bad_value"][0] == "INVALID_CONFIG" and real["empty"] is None
    assert real["after_empty"]["retention.ms"] == ("604800000", "DEFAULT_CONFIG")
    assert real["broker_read_only"][0] == "INVALID_REQUEST" and real["broker_dynamic"] is None


@campaign.scenario(check=_check_replace_errors)
def alter_configs_errors_and_an_empty_replace(run):
    """``alter_configs`` refuses an unknown config name or a bad value with ``INVALID_CONFIG`` and changes
    nothing; a replace that names none of the overrides removes them all. For a broker (``validate_only``) a
    config a running broker cannot change is ``INVALID_REQUEST``."""
    config_resource = _types(run)[0]
    topic = run.topic(config={"retention.ms": "3600000"})
    admin = run.admin()
    out = {"unknown": _replace(run, admin, topic, {"no.such.config": "1"})[0],
           "bad_value": _replace(run, admin, topic, {"retention.ms": "abc"})[0]}
    _, marker = _incremental(run, admin, topic, [])
    out["unchanged"] = _values(run, admin, topic, marker)["retention.ms"]
    out["empty"], marker = _replace(run, admin, topic, {})
    out["after_empty"] = _values(run, admin, topic, marker)

    def broker(configs):
        resource = config_resource("broker", "1", set_config=configs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return _outcome(admin.alter_configs([resource], validate_only=True)[resource])
    out["broker_read_only"] = broker({"num.partitions": "3"})
    out["broker_dynamic"] = broker({"log.retention.ms": "86400000"})
    return out


def _check_incremental(real):
    assert real["set"]["retention.ms"] == ("3600000", "DYNAMIC_TOPIC_CONFIG")
    assert real["set"]["min.insync.replicas"] == ("2", "DYNAMIC_TOPIC_CONFIG")
    assert real["deleted"]["retention.ms"] == ("604800000", "DEFAULT_CONFIG")
    assert real["deleted"]["min.insync.replicas"] == ("2", "DYNAMIC_TOPIC_CONFIG")


@campaign.scenario(check=_check_incremental)
def incremental_alter_configs_set_and_delete(run):
    """``incremental_alter_configs`` changes only the configs it names: SET overrides a config, DELETE
    removes an override (the config falls back to the broker's value or Kafka's default); DELETE of a
    config without override, or of an unknown name, succeeds and changes nothing."""
    topic = run.topic()
    admin = run.admin()
    out = {}
    outcome, marker = _incremental(run, admin, topic, [("retention.ms", "3600000", "SET"),
                                                      ("min.insync.replicas", "2", "SET")])
    out["set_outcome"], out["set"] = outcome, _values(run, admin, topic, marker)
    outcome, marker = _incremental(run, admin, topic, [("retention.ms", "", "DELETE"),
                                                      ("segment.bytes", "", "DELETE"),
                                                      ("no.such.config", "", "DELETE")])
    out["delete_outcome"], out["deleted"] = outcome, _values(run, admin, topic, marker)
    return out


def _check_list_ops(real):
    assert real["append_compact"] == ("delete,compact", "DYNAMIC_TOPIC_CONFIG")
    assert real["append_again"] == ("delete,compact", "DYNAMIC_TOPIC_CONFIG")
    assert real["subtract_delete"] == ("compact", "DYNAMIC_TOPIC_CONFIG")
    assert real["outcomes"] == [None] * len(real["outcomes"])


@campaign.scenario(check=_check_list_ops)
def incremental_append_and_subtract_on_cleanup_policy(run):
    """APPEND and SUBTRACT work on list configs such as ``cleanup.policy``: APPEND adds values not yet in
    the list (starting from the current value, the default included), SUBTRACT removes values; SET of the
    empty string gives an empty list."""
    topic = run.topic()
    admin = run.admin()
    out, outcomes = {}, []
    for label, value, op in (("append_compact", "compact", "APPEND"), ("append_again", "compact", "APPEND"),
                             ("subtract_delete", "delete", "SUBTRACT"), ("set_empty", "", "SET"),
                             ("append_to_empty", "delete", "APPEND"), ("subtract_absent", "compact", "SUBTRACT")):
        outcome, marker = _incremental(run, admin, topic, [("cleanup.policy", value, op)])
        outcomes.append(outcome)
        out[label] = _values(run, admin, topic, marker, ("cleanup.policy",))["cleanup.policy"]
    out["outcomes"] = outcomes
    return out


def _check_list_ops_on_scalars(real):
    assert real["append"][0] == "INVALID_CONFIG" and real["subtract"][0] == "INVALID_CONFIG"
    assert real["unchanged"] == ("604800000", "DEFAULT_CONFIG")


@campaign.scenario(check=_check_list_ops_on_scalars)
def incremental_append_on_a_config_that_is_not_a_list(run):
    """APPEND or SUBTRACT on a config that is not a list (``retention.ms``) fails the future with
    ``INVALID_CONFIG`` and changes nothing."""
    topic = run.topic()
    admin = run.admin()
    out = {"append": _incremental(run, admin, topic, [("retention.ms", "1000", "APPEND")])[0],
           "subtract": _incremental(run, admin, topic, [("retention.ms", "1000", "SUBTRACT")])[0]}
    _, marker = _incremental(run, admin, topic, [])
    out["unchanged"] = _values(run, admin, topic, marker)["retention.ms"]
    return out


def _check_validate_only(real):
    assert real["incremental"] is None and real["replace"] is None
    assert real["after"] == real["before"]
    assert real["invalid"][0] == "INVALID_CONFIG"


@campaign.scenario(check=_check_validate_only)
def validate_only_alters_change_nothing(run):
    """With ``validate_only=True`` a valid ``incremental_alter_configs`` or ``alter_configs`` succeeds and
    changes nothing; an invalid one fails as it would without it."""
    topic = run.topic(config={"retention.ms": "3600000"})
    admin = run.admin()
    before = _values(run, admin, topic)
    out = {"before": before,
           "incremental": _incremental(run, admin, topic, [("retention.ms", "5000", "SET"),
                                                           ("cleanup.policy", "compact", "APPEND")], True)[0],
           "replace": _replace(run, admin, topic, {"min.insync.replicas": "2"}, True)[0],
           "invalid": _incremental(run, admin, topic, [("retention.ms", "soon", "SET")], True)[0]}
    _, marker = _incremental(run, admin, topic, [])
    out["after"] = _values(run, admin, topic, marker)
    return out


def _check_invalid_values(real):
    assert {k: v[0] for k, v in real["errors"].items()} == dict.fromkeys(real["errors"], "INVALID_CONFIG")
    assert real["errors"]["retention.ms=abc"][1] == (
        "Invalid value abc for configuration retention.ms: Not a number of type LONG")
    assert real["errors"]["no.such.config=1"][1] == "Unknown topic config name: no.such.config"


@campaign.scenario(check=_check_invalid_values)
def incremental_alter_configs_invalid_values(run):
    """Values Kafka refuses fail the future with ``INVALID_CONFIG`` and Kafka's message: not a number,
    out of range, not one of the choices, an unknown config name, a broker config on a topic; two bad
    values in one request report the first. The values stay as they were."""
    topic = run.topic()
    admin = run.admin()
    cases = [("retention.ms", "abc"), ("retention.ms", "-2"), ("min.insync.replicas", "0"),
             ("segment.bytes", "100"), ("max.message.bytes", "-1"), ("message.timestamp.type", "Foo"),
             ("cleanup.policy", "bogus"), ("unclean.leader.election.enable", "maybe"), ("no.such.config", "1"),
             ("log.retention.ms", "1000")]
    errors = {"%s=%s" % (n, v): _incremental(run, admin, topic, [(n, v, "SET")])[0] for n, v in cases}
    errors["two bad"] = _incremental(run, admin, topic, [("retention.ms", "abc", "SET"),
                                                         ("min.insync.replicas", "0", "SET")])[0]
    _, marker = _incremental(run, admin, topic, [])
    return {"errors": errors, "unchanged": _values(run, admin, topic, marker)}


def _check_normalised(real):
    assert real["values"] == {"retention.ms": ("5000", "DYNAMIC_TOPIC_CONFIG"),
                              "cleanup.policy": ("compact,delete", "DYNAMIC_TOPIC_CONFIG"),
                              "unclean.leader.election.enable": ("true", "DYNAMIC_TOPIC_CONFIG")}


@campaign.scenario(check=_check_normalised)
def altered_values_are_shown_as_kafka_parsed_them(run):
    """Kafka parses a value before storing it: spaces around a number or list items are dropped, ``TRUE``
    is ``true``; ``describe_configs`` shows the parsed value."""
    topic = run.topic()
    admin = run.admin()
    outcome, marker = _incremental(run, admin, topic, [("retention.ms", " 5000 ", "SET"),
                                                      ("cleanup.policy", " compact , delete ", "SET"),
                                                      ("unclean.leader.election.enable", "TRUE", "SET")])
    keys = ("retention.ms", "cleanup.policy", "unclean.leader.election.enable")
    return {"outcome": outcome, "values": _values(run, admin, topic, marker, keys)}


def _check_client_side(real):
    assert real["duplicate"] == ("_INVALID_ARG", "Duplicate ConfigEntry found") and real["duplicate_other"] == real["duplicate"]
    assert real["set_none"][0] == "TypeError" and real["delete_none"] is None


@campaign.scenario(check=_check_client_side)
def incremental_alter_configs_refused_by_the_client(run):
    """What the client library refuses: the same config twice in one resource fails every future of the
    request with ``_INVALID_ARG`` (``Duplicate ConfigEntry found``); a SET value that is not a string raises
    ``TypeError`` at the call (DELETE takes None); an empty list of changes raises ``ValueError``."""
    config_resource, config_entry, op_type, _ = _types(run)
    topic = run.topic()
    admin = run.admin()

    def resource(*entries):
        return config_resource("topic", topic, incremental_configs=[
            config_entry(n, v, incremental_operation=op_type[op]) for n, v, op in entries])
    twice = resource(("retention.ms", "1000", "SET"), ("retention.ms", "2000", "SET"))
    other = config_resource("topic", run.topic(), incremental_configs=[
        config_entry("retention.ms", "1000", incremental_operation=op_type.SET)])
    futures = admin.incremental_alter_configs([twice, other])
    out = {"duplicate": _outcome(futures[twice]), "duplicate_other": _outcome(futures[other]),
           "set_none": _raises(lambda: admin.incremental_alter_configs([resource(("retention.ms", None, "SET"))])),
           "empty": _raises(lambda: admin.incremental_alter_configs([config_resource("topic", topic)]))}
    delete = resource(("retention.ms", None, "DELETE"))
    out["delete_none"] = _outcome(admin.incremental_alter_configs([delete])[delete])
    return out


# -- broker configs ---------------------------------------------------------------------------------------
def _check_broker_alters(real):
    assert real["read_only"] == ("INVALID_REQUEST", "Cannot update these configs dynamically: [num.partitions]")
    assert real["dynamic"] is None and real["bad_value"][0] == "INVALID_REQUEST"


@campaign.scenario(check=_check_broker_alters)
def validate_broker_config_changes(run):
    """``incremental_alter_configs(validate_only=True)`` of broker 1: a config a running broker cannot change
    (``num.partitions``) fails with ``INVALID_REQUEST``, so does a value that does not parse; a dynamic one
    (``log.retention.ms``) validates; APPEND to a broker config that is not a list is ``INVALID_CONFIG``;
    the cluster-wide default (empty name) is refused by confluent-kafka at the call."""
    config_resource, config_entry, op_type, _ = _types(run)
    admin = run.admin()

    def check(name, key, value, op="SET"):
        resource = config_resource("broker", name, incremental_configs=[
            config_entry(key, value, incremental_operation=op_type[op])])
        return _outcome(admin.incremental_alter_configs([resource], validate_only=True)[resource])
    return {"read_only": check("1", "num.partitions", "3"), "bad_value": check("1", "log.retention.ms", "abc"),
            "below_min": check("1", "min.insync.replicas", "0"), "dynamic": check("1", "log.retention.ms", "86400000"),
            "append_scalar": check("1", "log.retention.ms", "1", "APPEND"),
            "append_list": check("1", "log.cleanup.policy", "compact", "APPEND"),
            "not_an_id": check("x", "log.retention.ms", "1"),
            "cluster_default": _raises(lambda: check("", "log.retention.ms", "86400000"))}


# -- create_topics with configs ---------------------------------------------------------------------------
def _check_create_configs(real):
    assert real["bad_value"] == ("INVALID_CONFIG",
                                 "Invalid value abc for configuration retention.ms: Not a number of type LONG")
    assert real["unknown"] == ("INVALID_CONFIG", "Unknown topic config name: no.such.config")
    assert real["validate_only_ok"] is None and real["exists_after_validate_only"] is False


@campaign.scenario(check=_check_create_configs)
def create_topics_with_bad_configs(run):
    """``create_topics`` checks the configs: a bad value or an unknown name fails the topic's future with
    ``INVALID_CONFIG`` and Kafka's message (with ``validate_only=True`` too), and no topic is created;
    ``validate_only=True`` with good configs succeeds and creates nothing."""
    out = {}
    for label, config, validate_only in (("bad_value", {"retention.ms": "abc"}, False),
                                         ("unknown", {"no.such.config": "1"}, False),
                                         ("out_of_range", {"min.insync.replicas": "0"}, False),
                                         ("bad_value_validate_only", {"retention.ms": "abc"}, True),
                                         ("validate_only_ok", {"retention.ms": "1000"}, True)):
        name = run.unique_name(label.replace("_", "-"))
        out[label] = _create_outcome(run, name, config, validate_only)
        if label == "validate_only_ok":
            out["exists_after_validate_only"] = name in run.admin().list_topics(timeout=10).topics
    return out


# -- effects a client sees ---------------------------------------------------------------------------------
def _check_max_message_bytes(real):
    assert real["reports"] == [None, "MSG_SIZE_TOO_LARGE", None]


@campaign.scenario(check=_check_max_message_bytes)
def max_message_bytes_refuses_larger_records(run):
    """A topic's ``max.message.bytes`` limits the size of a record batch the broker accepts: a record
    larger than it fails in its delivery report with ``MSG_SIZE_TOO_LARGE`` (the producer's own
    ``message.max.bytes`` is larger, so it is sent); smaller records around it are delivered."""
    topic = run.topic(config={"max.message.bytes": "2000"})
    producer = run.kafka.Producer({"linger.ms": 0, "message.timeout.ms": 30000})
    reports = []
    for value in (b"x" * 100, b"y" * 5000, b"z" * 100):
        reports += produce(producer, topic, [(None, value)])
    codes = [r[0] for r in reports]
    names = {run.api.KafkaError.MSG_SIZE_TOO_LARGE: "MSG_SIZE_TOO_LARGE"}
    return {"reports": [names.get(c, c) for c in codes], "offsets": [r[2] for r in reports]}


def _check_log_append_time(real):
    assert real["delivered_type"] == real["consumed_type"] == ["LOG_APPEND_TIME"] * 2
    assert real["kept_given_timestamp"] == [False, False]
    assert real["default_topic"] == (["CREATE_TIME"], True)


@campaign.scenario(check=_check_log_append_time)
def log_append_time_topic_stamps_records_at_the_broker(run):
    """With ``message.timestamp.type=LogAppendTime`` the broker stamps every record with its own clock:
    the delivery report and the consumer see ``TIMESTAMP_LOG_APPEND_TIME`` and not the timestamp the
    producer gave (a long past one here: with ``CreateTime`` retention would delete it at once); a topic
    with the default (``CreateTime``) keeps the timestamp the producer set."""
    def names(types):
        return [{api.TIMESTAMP_CREATE_TIME: "CREATE_TIME", api.TIMESTAMP_LOG_APPEND_TIME: "LOG_APPEND_TIME"}
                .get(t, t) for t in types]
    if run.backend == "sim":
        import eventsim as api
    else:
        import confluent_kafka as api
    given = 1_000_000

    def roundtrip(topic, n, timestamp=True):
        producer = run.kafka.Producer({})
        delivered = []
        for i in range(n):
            producer.produce(topic, value=b"v%d" % i, **({"timestamp": given + i} if timestamp else {}),
                             on_delivery=lambda err, msg: delivered.append((error_code(err), msg.timestamp())))
        producer.flush(30)
        consumer = run.kafka.Consumer({"group.id": run.unique_name("g"), "auto.offset.reset": "earliest"})
        consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
        got = [m.timestamp() for m in consume(consumer, n, "the records")]
        consumer.close()
        return delivered, got
    delivered, got = roundtrip(run.topic(config={"message.timestamp.type": "LogAppendTime"}), 2)
    default_delivered, default_got = roundtrip(run.topic(), 1, timestamp=False)
    return {"errors": [e for e, _ in delivered], "delivered_type": names(t for _, (t, _) in delivered),
            "consumed_type": names(t for t, _ in got),
            "kept_given_timestamp": [ts == given + i for i, (_, ts) in enumerate(got)],
            "same_in_report_and_log": [d[1] for _, d in delivered] == [ts for _, ts in got],
            "default_topic": (names(t for t, _ in default_got),
                              [d[1] for _, d in default_delivered] == [ts for _, ts in default_got])}


def _check_min_isr(real):
    assert real == {"rf1_min2": [None, None], "rf2_min3": [None, None]}


@campaign.scenario(check=_check_min_isr)
def min_insync_replicas_above_the_replication_factor(run):
    """``min.insync.replicas`` larger than the topic's replication factor does not block ``acks=all``: a
    Kafka 4.x leader requires at most as many in-sync replicas as the partition has
    (``Partition.effectiveMinIsr``), so with every replica in sync ``acks=all`` and ``acks=1`` succeed."""
    out = {}
    for rf, min_isr in ((1, 2), (2, 3)):
        topic = run.topic(replication_factor=rf, config={"min.insync.replicas": str(min_isr)})
        reports = []
        for acks in ("all", "1"):
            producer = run.kafka.Producer({"acks": acks, "message.timeout.ms": 10000})
            reports += [r[0] for r in produce(producer, topic, [(None, b"x")])]
        out["rf%d_min%d" % (rf, min_isr)] = reports
    return out


def _check_altered_effect(real):
    assert real["before"] == ["CREATE_TIME"] and real["after"] == ["LOG_APPEND_TIME"]


@campaign.scenario(check=_check_altered_effect)
def altered_timestamp_type_applies_to_new_records(run):
    """Changing ``message.timestamp.type`` of a topic with ``incremental_alter_configs`` applies to records
    produced after the change (once the partition leader has applied it); records already in the log keep
    their timestamp type."""
    if run.backend == "sim":
        import eventsim as api
    else:
        import confluent_kafka as api
    names = {api.TIMESTAMP_CREATE_TIME: "CREATE_TIME", api.TIMESTAMP_LOG_APPEND_TIME: "LOG_APPEND_TIME"}
    topic = run.topic()
    admin = run.admin()
    producer = run.kafka.Producer({})
    reports = []

    def send(value):
        producer.produce(topic, value=value, on_delivery=lambda err, msg: reports.append(msg.timestamp()[0]))
        producer.flush(30)
        return names.get(reports[-1], reports[-1])
    before = send(b"before")
    _, marker = _incremental(run, admin, topic, [("message.timestamp.type", "LogAppendTime", "SET")])
    _values(run, admin, topic, marker)
    after = before
    for _ in range(50):                   # the partition leader applies it a moment later, at the latest
        after = send(b"after")
        if after != before:
            break
        run.kafka.wait(100)
    consumer = run.kafka.Consumer({"group.id": run.unique_name("g")})
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
    first = consume(consumer, 1, "the first record")[0]
    consumer.close()
    return {"before": [before], "after": [after], "first_record_kept": names.get(first.timestamp()[0])}
