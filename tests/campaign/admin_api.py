"""The rest of the admin API: cluster and topic descriptions, leader elections, offsets and records,
consumer-group administration, ACLs and SCRAM credentials on a cluster without an authorizer, configs."""
from __future__ import annotations

import warnings

from confluent_kafka import (ConsumerGroupState, ConsumerGroupTopicPartitions, ConsumerGroupType, ElectionType,
                             IsolationLevel)
from confluent_kafka import TopicCollection
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType, OffsetSpec,
                                   ResourcePatternType, ResourceType, ScramCredentialInfo, ScramMechanism,
                                   UserScramCredentialDeletion, UserScramCredentialUpsertion)

import campaign
from differential_scenarios import POLL_S, consume, poll_group, produce

campaign.area(__name__, "Admin API: cluster, offsets, groups, security")

campaign.simplification(
    "The simulated cluster has no authorizer and no SASL listener (a PLAINTEXT cluster without "
    "authorizer.class.name)",
    "create_acls / delete_acls fail with SECURITY_DISABLED and describe_acls returns [], as Kafka answers "
    "without an authorizer; SCRAM credentials are stored and described but nothing authenticates with them")
campaign.simplification(
    "__consumer_offsets is not a topic of the simulated cluster (the group coordinator keeps groups and "
    "offsets itself)",
    "describe_topics / describe_configs of __consumer_offsets answer UNKNOWN_TOPIC_OR_PART; use "
    "describe_consumer_groups / list_consumer_group_offsets to inspect groups")

TIMEOUT = 30
RETRIABLE_COORDINATOR = {"NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "COORDINATOR_LOAD_IN_PROGRESS"}


# -- helpers ---------------------------------------------------------------------------------------------
def _outcome(future):
    """``("ok", result)`` or the error name a future fails with."""
    try:
        return "ok", future.result(timeout=TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - the scenario observes what surfaces
        return _error_name(exc), None


def _error_name(exc):
    err = exc.args[0] if exc.args else None
    return err.name() if hasattr(err, "name") else type(exc).__name__


def _raises(fn):
    """The exception type a call raises at once (``None`` if it returns)."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__
    return None


def _errors(futures):
    """``{key: error name | "ok"}`` of a dict of futures, keys shown by ``str``."""
    return {_key(k): _outcome(f)[0] for k, f in futures.items()}


def _key(k):
    if hasattr(k, "partition") and hasattr(k, "topic"):
        return "%s/%d" % ("T" if k.topic else "", k.partition)
    return str(k)


def _wait(condition, admin, what, tries=150):
    """Poll ``condition()`` (a bounded wait: on real Kafka the metadata reaches the brokers asynchronously)."""
    for _ in range(tries):
        if condition():
            return True
        admin.poll(POLL_S)
    raise AssertionError("gave up waiting for " + what)


def _alter_offsets(admin, group, tps):
    """alter_consumer_group_offsets, retried while the coordinator of a fresh cluster is not ready: on real
    Kafka the first group request creates ``__consumer_offsets``, and until it is loaded the answer is a
    coordinator error or, after librdkafka's retries (``socket.timeout.ms``), ``_TIMED_OUT``."""
    for _ in range(20):
        future = admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, tps)],
                                                    request_timeout=15)[group]
        status, result = _outcome(future)
        if status == "_TIMED_OUT":
            continue
        assert status == "ok", status
        names = {tp.error.name() for tp in result.topic_partitions if tp.error is not None}
        if not names & RETRIABLE_COORDINATOR:
            return result
        admin.poll(POLL_S)
    raise AssertionError("the group coordinator never became available")


def _parts(result):
    return sorted((tp.partition, tp.offset, tp.error.name() if tp.error else None) for tp in result.topic_partitions)


def _subscribed(run, topic, group, **conf):
    consumer = run.kafka.Consumer(dict({"group.id": group, "enable.auto.commit": False,
                                        "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
                                        "heartbeat.interval.ms": 500}, **conf))
    consumer.subscribe([topic])
    got = poll_group([consumer], lambda: bool(consumer.assignment()), "the consumer to be assigned its partitions")
    return consumer, got[0]


def _info(info):
    return (info.offset, info.timestamp, info.leader_epoch is not None)


# -- describe_cluster / cluster_id -----------------------------------------------------------------------
def _check_describe_cluster(real):
    assert real["nodes"] == [1, 2, 3] and real["controller_is_a_node"] is True
    assert real["same_cluster_id"] == [True, True] and real["operations"] is None
    assert real["types"] == ["DescribeClusterResult", "Node", "str"]


@campaign.scenario(check=_check_describe_cluster)
def describe_cluster_lists_the_brokers(run):
    """``describe_cluster()`` names every live broker as a ``Node``, the cluster id that ``cluster_id()`` and
    ``list_topics()`` report, a controller among the brokers, and no authorized operations unless asked."""
    admin = run.admin()
    result = admin.describe_cluster(request_timeout=10).result(timeout=TIMEOUT)
    nodes = sorted(n.id for n in result.nodes)
    return {"nodes": nodes, "controller_is_a_node": result.controller.id in nodes,
            "same_cluster_id": [result.cluster_id == admin.cluster_id(timeout=10),
                                result.cluster_id == admin.list_topics(timeout=10).cluster_id],
            "operations": result.authorized_operations,
            "types": [type(result).__name__, type(result.nodes[0]).__name__, type(result.cluster_id).__name__],
            "node_fields": sorted((type(n.id).__name__, type(n.host).__name__, type(n.port).__name__, n.rack)
                                  for n in result.nodes)}


def _check_cluster_operations(real):
    assert "DESCRIBE" in real["operations"] and "ALTER_CONFIGS" in real["operations"]
    assert real["errors"]["operation_timeout"] == "TypeError"
    assert real["errors"]["request_timeout=-1"] == "ValueError"


@campaign.scenario(check=_check_cluster_operations)
def describe_cluster_authorized_operations_and_bad_options(run):
    """With ``include_authorized_operations=True`` a cluster without an authorizer allows every cluster
    operation; options it does not take, a non-bool flag or a negative timeout are refused at the call."""
    admin = run.admin()
    result = admin.describe_cluster(include_authorized_operations=True).result(timeout=TIMEOUT)
    return {"operations": sorted(op.name for op in result.authorized_operations),
            "errors": {"operation_timeout": _raises(lambda: admin.describe_cluster(operation_timeout=5)),
                       "flag=1": _raises(lambda: admin.describe_cluster(include_authorized_operations=1)),
                       "request_timeout=-1": _raises(lambda: admin.describe_cluster(request_timeout=-1)),
                       "request_timeout='x'": _raises(lambda: admin.describe_cluster(request_timeout="x")),
                       "cluster_id(None)": _raises(lambda: admin.cluster_id(timeout=None)),
                       "cluster_id(foo)": _raises(lambda: admin.cluster_id(foo=1))}}


# -- describe_topics --------------------------------------------------------------------------------------
def _check_describe_topics(real):
    assert real["partitions"] == [0, 1, 2] and real["replicas"] == [3, 3, 3]
    assert real["leader_in_isr"] == [True] * 3 and real["is_internal"] is False
    assert real["leaders_match_metadata"] is True and real["topic_id_type"] == "Uuid"


@campaign.scenario(check=_check_describe_topics)
def describe_topics_of_a_new_topic(run):
    """``describe_topics`` describes a topic's partitions with leader, replicas and ISR as ``Node``\\ s, the
    same leaders ``list_topics`` reports, and the topic id as a ``Uuid``."""
    topic = run.topic(partitions=3, replication_factor=3)
    admin = run.admin()
    desc = admin.describe_topics(TopicCollection([topic]), request_timeout=10)[topic].result(timeout=TIMEOUT)
    meta = admin.list_topics(topic, timeout=10).topics[topic]
    parts = sorted(desc.partitions, key=lambda p: p.id)
    return {"name": desc.name == topic, "is_internal": desc.is_internal,
            "partitions": [p.id for p in parts], "replicas": [len(p.replicas) for p in parts],
            "leader_in_isr": [p.leader.id in [n.id for n in p.isr] for p in parts],
            "leaders_match_metadata": [p.leader.id for p in parts] == [meta.partitions[p.id].leader for p in parts],
            "topic_id_type": type(desc.topic_id).__name__, "operations": desc.authorized_operations,
            "types": [type(desc).__name__, type(parts[0]).__name__, type(parts[0].leader).__name__]}


def _check_describe_topics_errors(real):
    assert real["missing"] == "UNKNOWN_TOPIC_OR_PART" and real["invalid"] == "TOPIC_EXCEPTION"
    assert real["duplicate"] == {"T": "_INVALID_ARG"} and real["empty"] == {}
    assert real["calls"]["a list"] == "TypeError" and real["calls"]["empty name"] == "ValueError"


@campaign.scenario(check=_check_describe_topics_errors)
def describe_topics_errors(run):
    """A missing topic fails its future with ``UNKNOWN_TOPIC_OR_PART``, an invalid name with
    ``TOPIC_EXCEPTION``, a name given twice with ``_INVALID_ARG``; a plain list, a non-str or empty name is
    refused at the call; a topic without an authorizer allows every topic operation."""
    topic = run.topic(partitions=1)
    admin = run.admin()
    missing = run.unique_name("missing")
    dup = admin.describe_topics(TopicCollection([topic, topic]))
    with_ops = admin.describe_topics(TopicCollection([topic]), include_authorized_operations=True)[topic]
    return {"missing": _outcome(admin.describe_topics(TopicCollection([missing]))[missing])[0],
            "invalid": _outcome(admin.describe_topics(TopicCollection(["bad name!"]))["bad name!"])[0],
            "duplicate": {"T" if k == topic else k: _outcome(f)[0] for k, f in dup.items()},
            "empty": admin.describe_topics(TopicCollection([])),
            "operations": sorted(op.name for op in with_ops.result(timeout=TIMEOUT).authorized_operations),
            "calls": {"a list": _raises(lambda: admin.describe_topics([topic])),
                      "names None": _raises(lambda: admin.describe_topics(TopicCollection(None))),
                      "int name": _raises(lambda: admin.describe_topics(TopicCollection([1]))),
                      "empty name": _raises(lambda: admin.describe_topics(TopicCollection([""]))),
                      "operation_timeout": _raises(lambda: admin.describe_topics(TopicCollection([topic]),
                                                                                 operation_timeout=1))}}


def _check_added_partitions(real):
    assert real == {"before": [0, 1], "after": [0, 1, 2, 3], "new_have_leaders": True}


@campaign.scenario(check=_check_added_partitions)
def describe_topics_sees_added_partitions(run):
    """After ``create_partitions`` a new admin client's ``describe_topics`` lists the added partitions, each
    with a leader."""
    topic = run.topic(partitions=2)
    admin = run.admin()

    def ids():
        desc = admin.describe_topics(TopicCollection([topic]))[topic].result(timeout=TIMEOUT)
        return sorted(p.id for p in desc.partitions), desc
    before, _ = ids()
    admin.create_partitions([run.api.NewPartitions(topic, 4)])[topic].result(timeout=TIMEOUT)
    _wait(lambda: len(ids()[0]) == 4, admin, "the new partitions in the metadata")
    after, desc = ids()
    return {"before": before, "after": after,
            "new_have_leaders": all(p.leader is not None for p in desc.partitions if p.id >= 2)}


# -- elect_leaders ----------------------------------------------------------------------------------------
def _check_elect_healthy(real):
    assert real["preferred"] == {"T/0": "ELECTION_NOT_NEEDED", "T/1": "ELECTION_NOT_NEEDED"}
    assert real["unclean"] == {"T/0": "ELECTION_NOT_NEEDED"}
    assert real["missing"] == {"M/0": "UNKNOWN_TOPIC_OR_PART"}
    assert real["no_partition"] == {"T/7": "UNKNOWN_TOPIC_OR_PART"}
    assert real["duplicate"] == "_INVALID_ARG" and real["none_given"] == {}


@campaign.scenario(check=_check_elect_healthy)
def elect_leaders_on_healthy_partitions(run):
    """``elect_leaders`` answers per partition: on partitions led by their preferred replica both a
    PREFERRED and an UNCLEAN election are ``ELECTION_NOT_NEEDED``; a missing topic or partition is
    ``UNKNOWN_TOPIC_OR_PART``; a partition named twice fails the request with ``_INVALID_ARG``."""
    topic = run.topic(partitions=2)
    admin = run.admin()
    tp = run.tp

    def answer(kind, parts):
        result = admin.elect_leaders(kind, parts).result(timeout=TIMEOUT)
        return {("T" if k.topic == topic else "M") + "/%d" % k.partition: v.name() if v else None
                for k, v in result.items()}
    missing = run.unique_name("missing")
    return {"preferred": answer(ElectionType.PREFERRED, [tp(topic, 0), tp(topic, 1)]),
            "unclean": answer(ElectionType.UNCLEAN, [tp(topic, 0)]),
            "missing": answer(ElectionType.PREFERRED, [tp(missing, 0)]),
            "no_partition": answer(ElectionType.PREFERRED, [tp(topic, 7)]),
            "none_given": answer(ElectionType.PREFERRED, []),
            "duplicate": _outcome(admin.elect_leaders(ElectionType.PREFERRED, [tp(topic, 0), tp(topic, 0)]))[0],
            "result_type": type(admin.elect_leaders(ElectionType.PREFERRED, [tp(topic, 0)]).result(
                timeout=TIMEOUT)).__name__}


def _check_elect_bad_input(real):
    assert real == {"str type": "TypeError", "tuple": "TypeError", "negative": "ValueError",
                    "str partition": "TypeError", "request_timeout": "SystemError",
                    "operation_timeout": "SystemError"}


@campaign.scenario(check=_check_elect_bad_input)
def elect_leaders_bad_input(run):
    """``elect_leaders`` refuses a non-``ElectionType``, a tuple, a non-TopicPartition or a negative
    partition at the call; in confluent-kafka 2.16 any option (``request_timeout``, ``operation_timeout``)
    crashes its argument parsing with ``SystemError``."""
    admin = run.admin()
    tp = run.tp("t", 0)
    return {"str type": _raises(lambda: admin.elect_leaders("PREFERRED", [tp])),
            "tuple": _raises(lambda: admin.elect_leaders(ElectionType.PREFERRED, (tp,))),
            "negative": _raises(lambda: admin.elect_leaders(ElectionType.PREFERRED, [run.tp("t", -1)])),
            "str partition": _raises(lambda: admin.elect_leaders(ElectionType.PREFERRED, ["t"])),
            "request_timeout": _raises(lambda: admin.elect_leaders(ElectionType.PREFERRED, [tp], request_timeout=5)),
            "operation_timeout": _raises(lambda: admin.elect_leaders(ElectionType.PREFERRED, None,
                                                                     operation_timeout=5))}


def _check_elect_after_restart(real):
    assert real["while_down"] == {"PREFERRED_LEADER_NOT_AVAILABLE"} and real["unclean_while_down"] == {
        "ELECTION_NOT_NEEDED"}
    assert real["moved_away"] is True and real["answers_match"] is True
    assert real["led_by_preferred"] == [True, True, True] and real["nodes_while_down"] is True


@campaign.scenario(check=_check_elect_after_restart)
def preferred_leader_election_after_a_broker_restart(run):
    """After a broker stops it is no longer among ``describe_cluster``'s nodes and its partitions are led by
    other replicas; while it is down a PREFERRED election
    of them is ``PREFERRED_LEADER_NOT_AVAILABLE`` (and UNCLEAN is not needed: they have a leader); once it
    is back in the ISR a PREFERRED election moves each back (answer ``None``) and answers
    ``ELECTION_NOT_NEEDED`` for the partitions already led by their preferred replica."""
    topic = run.topic(partitions=3)
    admin = run.admin()
    tps = [run.tp(topic, p) for p in range(3)]

    def describe():
        # a fresh admin client per call: one that was connected to the stopped broker can wait out its
        # request timeout on real Kafka (see Run.admin)
        fresh = run.admin()                 # kept alive until the result is in (a destroyed client fails it)
        desc = fresh.describe_topics(TopicCollection([topic]))[topic].result(timeout=TIMEOUT)
        return sorted(desc.partitions, key=lambda p: p.id)

    def answers(kind, parts):
        fresh = run.admin()
        result = fresh.elect_leaders(kind, parts).result(timeout=TIMEOUT)
        return {k.partition: (v.name() if v else None) for k, v in result.items()}
    stopped = describe()[0].replicas[0].id
    hit = [p.id for p in describe() if p.replicas[0].id == stopped]
    try:
        run.kafka.stop_broker(stopped)
        moved_away = all(p.leader is not None and p.leader.id != stopped for p in describe())
        fresh = run.admin()
        nodes_while_down = sorted(n.id for n in fresh.describe_cluster().result(timeout=TIMEOUT).nodes)
        while_down = answers(ElectionType.PREFERRED, [tps[p] for p in hit])
        unclean = answers(ElectionType.UNCLEAN, [tps[p] for p in hit])
        run.kafka.start_broker(stopped)
    finally:
        run.restart_stopped([stopped])
    _wait(lambda: all(stopped in [n.id for n in p.isr] for p in describe()), admin, "the broker to rejoin the ISRs")
    before = describe()
    result = answers(ElectionType.PREFERRED, tps)
    expected = {p.id: None if p.leader.id != p.replicas[0].id else "ELECTION_NOT_NEEDED" for p in before}
    _wait(lambda: all(p.leader.id == p.replicas[0].id for p in describe()), admin, "the preferred leaders")
    return {"while_down": set(while_down.values()), "unclean_while_down": set(unclean.values()),
            "moved_away": moved_away, "answers_match": result == expected,
            "nodes_while_down": [b for b in (1, 2, 3) if b not in nodes_while_down] == [stopped],
            "elected": sorted(p for p, v in result.items() if v is None) == sorted(hit),
            "led_by_preferred": [p.leader.id == p.replicas[0].id for p in describe()]}


# -- list_offsets -----------------------------------------------------------------------------------------
def _timestamped_topic(run):
    """A topic of 3 partitions: p0 timestamps base + 1000, 1002, ... 1008; p1 out of order; p2 empty.
    Returns ``(topic, base)``: ``base`` is the backend's clock just before, so the records are recent."""
    base = run.clock_ms()
    topic = run.topic(partitions=3)
    producer = run.kafka.Producer({"linger.ms": 5})
    rows = [(0, 1000 + 2 * i) for i in range(5)] + [(1, ts) for ts in (1005, 1001, 1009, 1003)]
    for partition, ts in rows:
        producer.produce(topic, value=b"v%d" % ts, partition=partition, timestamp=base + ts)
    assert producer.flush(60) == 0
    return topic, base


def _check_list_offsets(real):
    assert real["earliest"] == [(0, -1, True)] * 3
    assert real["latest"] == [(5, -1, True), (4, -1, True), (0, -1, True)]
    assert real["max_timestamp"] == [(4, 1008, True), (2, 1009, True), (-1, -1, False)]
    assert real["for_1004"] == [(2, 1004, True), (0, 1005, True), (-1, -1, False)]
    assert real["for_9999"] == [(-1, -1, False)] * 3


@campaign.scenario(check=_check_list_offsets)
def list_offsets_by_spec(run):
    """``list_offsets`` answers ``ListOffsetsResultInfo(offset, timestamp, leader_epoch)``: earliest and
    latest without a timestamp, ``max_timestamp()`` the record with the largest timestamp (not the last),
    ``for_timestamp(t)`` the first record at or after ``t``; an empty partition or a time after every record
    gives offset -1 and no leader epoch."""
    topic, base = _timestamped_topic(run)
    admin = run.admin()
    out = {}
    for name, spec in (("earliest", OffsetSpec.earliest()), ("latest", OffsetSpec.latest()),
                       ("max_timestamp", OffsetSpec.max_timestamp()),
                       ("for_1004", OffsetSpec.for_timestamp(base + 1004)),
                       ("for_9999", OffsetSpec.for_timestamp(base + 9999))):
        futures = admin.list_offsets({run.tp(topic, p): spec for p in range(3)}, request_timeout=10)
        infos = [_info(futures[run.tp(topic, p)].result(timeout=TIMEOUT)) for p in range(3)]
        out[name] = [(offset, ts - base if ts >= 0 else ts, epoch) for offset, ts, epoch in infos]   # -1: none
    out["keys"] = sorted((k.partition, k.offset - base if k.offset >= base else k.offset) for k in futures)
    out["type"] = type(futures[run.tp(topic, 0)].result()).__name__
    return out


def _check_list_offsets_errors(real):
    assert real["all_missing"] == {"T/0": "_NOENT", "T/9": "_NOENT"}
    assert real["some_missing"] == {"T/0": "ok", "/0": "UNKNOWN_TOPIC_OR_PART"}
    assert real["negative_timestamp"] == {"T/0": "_INVALID_ARG"} and real["empty"] == {}


@campaign.scenario(check=_check_list_offsets_errors)
def list_offsets_errors(run):
    """When no partition of a ``list_offsets`` request exists each future fails with ``_NOENT``; with some
    existing ones the missing fail with ``UNKNOWN_TOPIC_OR_PART``; a timestamp below -3 fails with
    ``_INVALID_ARG``; wrong types, a negative partition or an empty topic are refused at the call."""
    topic = run.topic(partitions=1)
    missing = run.unique_name("missing")
    admin = run.admin()
    earliest = OffsetSpec.earliest()

    def errors(request):
        return {("T" if k.topic == topic else "") + "/%d" % k.partition: _outcome(f)[0]
                for k, f in admin.list_offsets(request).items()}
    return {"all_missing": _all_missing(admin, run, topic, missing),
            "some_missing": errors({run.tp(topic, 0): earliest, run.tp(missing, 0): earliest}),
            "negative_timestamp": errors({run.tp(topic, 0): OffsetSpec.for_timestamp(-5)}),
            "empty": admin.list_offsets({}),
            "calls": {"list": _raises(lambda: admin.list_offsets([run.tp(topic, 0)])),
                      "spec None": _raises(lambda: admin.list_offsets({run.tp(topic, 0): None})),
                      "spec int": _raises(lambda: admin.list_offsets({run.tp(topic, 0): -2})),
                      "negative partition": _raises(lambda: admin.list_offsets({run.tp(topic, -1): earliest})),
                      "empty topic": _raises(lambda: admin.list_offsets({run.tp("", 0): earliest})),
                      "isolation str": _raises(lambda: admin.list_offsets({run.tp(topic, 0): earliest},
                                                                          isolation_level="read_committed")),
                      "operation_timeout": _raises(lambda: admin.list_offsets({run.tp(topic, 0): earliest},
                                                                              operation_timeout=1))}}


def _all_missing(admin, run, topic, missing):
    futures = admin.list_offsets({run.tp(topic, 9): OffsetSpec.earliest(), run.tp(missing, 0): OffsetSpec.earliest()})
    return {("T/9" if k.topic == topic else "T/0"): _outcome(f)[0] for k, f in futures.items()}


def _check_isolation(real):
    assert real["open"] == {"READ_UNCOMMITTED": 3, "READ_COMMITTED": 0, "default": 3}
    assert real["committed"] == {"READ_UNCOMMITTED": 4, "READ_COMMITTED": 4, "default": 4}


@campaign.scenario(check=_check_isolation)
def list_offsets_latest_by_isolation_level(run):
    """While a transaction is open ``latest()`` is the high watermark with ``READ_UNCOMMITTED`` (the
    default) and the last stable offset with ``READ_COMMITTED``; once it commits (its marker takes an
    offset) both are past the marker."""
    topic = run.topic(partitions=1)
    admin = run.admin()
    producer = run.kafka.Producer({"transactional.id": run.unique_name("txn")})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(3):
        producer.produce(topic, value=b"t%d" % i, partition=0)
    assert producer.flush(30) == 0

    def latest():
        out = {}
        for name, level in (("READ_UNCOMMITTED", IsolationLevel.READ_UNCOMMITTED),
                            ("READ_COMMITTED", IsolationLevel.READ_COMMITTED), ("default", None)):
            kwargs = {"isolation_level": level} if level is not None else {}
            future = admin.list_offsets({run.tp(topic, 0): OffsetSpec.latest()}, **kwargs)[run.tp(topic, 0)]
            out[name] = future.result(timeout=TIMEOUT).offset
        return out
    during = latest()
    producer.commit_transaction(30)
    after = {}
    _wait(lambda: after.update(latest()) or after["READ_COMMITTED"] == 4, admin, "the LSO to pass the marker")
    return {"open": during, "committed": after}


# -- delete_records ---------------------------------------------------------------------------------------
def _check_delete_records(real):
    assert real["low_watermarks"] == {"T/0": 3, "T/1": 4}
    assert real["earliest"] == [3, 4] and real["read"] == {0: [3, 4, 5, 6, 7, 8, 9], 1: []}
    assert real["below_start"] == ("ok", 3) and real["beyond"] == "OFFSET_OUT_OF_RANGE"
    assert real["minus_two"] == "OFFSET_OUT_OF_RANGE" and real["duplicate"] == {"T/0": "_INVALID_ARG"}


@campaign.scenario(check=_check_delete_records)
def delete_records_moves_the_log_start_offset(run):
    """``delete_records`` deletes the records before an offset (``OFFSET_END`` -1: up to the high watermark);
    the result's ``low_watermark`` is the new log start, which ``list_offsets`` and consumers then see. An
    offset below the log start changes nothing; beyond the high watermark, or -2, is
    ``OFFSET_OUT_OF_RANGE``; a partition given twice is ``_INVALID_ARG``."""
    topic = run.topic(partitions=2)
    produce(run.kafka.Producer({"linger.ms": 5}), topic,
            [(None, b"a%d" % i, 0) for i in range(10)] + [(None, b"b%d" % i, 1) for i in range(4)])
    admin = run.admin()
    futures = admin.delete_records([run.tp(topic, 0, 3), run.tp(topic, 1, -1)], operation_timeout=30)
    low = {"T/%d" % k.partition: f.result(timeout=TIMEOUT).low_watermark for k, f in futures.items()}
    earliest = admin.list_offsets({run.tp(topic, p): OffsetSpec.earliest() for p in range(2)})
    consumer = run.kafka.Consumer({"group.id": run.unique_name("reader"), "enable.auto.commit": False})
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING), run.tp(topic, 1, run.api.OFFSET_BEGINNING)])
    read = {0: [], 1: []}
    for msg in consume(consumer, 7, "the records left"):
        read[msg.partition()].append(msg.offset())
    extra = [m for m in (consumer.poll(POLL_S) for _ in range(5)) if m is not None and not m.error()]
    consumer.close()
    below = _outcome(admin.delete_records([run.tp(topic, 0, 1)])[run.tp(topic, 0)])
    return {"low_watermarks": low,
            "earliest": [earliest[run.tp(topic, p)].result(timeout=TIMEOUT).offset for p in range(2)],
            "read": {p: sorted(v) for p, v in read.items()}, "extra": len(extra),
            "below_start": (below[0], below[1].low_watermark if below[1] else None),
            "beyond": _outcome(admin.delete_records([run.tp(topic, 0, 11)])[run.tp(topic, 0)])[0],
            "minus_two": _outcome(admin.delete_records([run.tp(topic, 0, -2)])[run.tp(topic, 0)])[0],
            "duplicate": {"T/%d" % k.partition: _outcome(f)[0] for k, f in admin.delete_records(
                [run.tp(topic, 0, 4), run.tp(topic, 0, 5)]).items()},
            "type": type(futures[run.tp(topic, 0)].result()).__name__}


def _check_delete_then_produce(real):
    assert real == {"low_watermark": 5, "new_offsets": [5, 6], "earliest": 5, "latest": 7,
                    "by_time": 5, "read": [5, 6]}


@campaign.scenario(check=_check_delete_then_produce)
def delete_records_then_produce(run):
    """After every record of a partition is deleted (``OFFSET_END``) new records continue at the old high
    watermark: the earliest offset, the first offset at or after time 0 and what a consumer reads from the
    beginning all start there."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({"linger.ms": 5})
    produce(producer, topic, [(None, b"old%d" % i) for i in range(5)])
    admin = run.admin()
    (deleted,) = admin.delete_records([run.tp(topic, 0, -1)]).values()
    low = deleted.result(timeout=TIMEOUT).low_watermark
    reports = produce(producer, topic, [(None, b"new%d" % i) for i in range(2)])

    def offset(spec):
        return admin.list_offsets({run.tp(topic, 0): spec})[run.tp(topic, 0)].result(timeout=TIMEOUT).offset
    consumer = run.kafka.Consumer({"group.id": run.unique_name("reader"), "enable.auto.commit": False})
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
    read = [m.offset() for m in consume(consumer, 2, "the new records")]
    consumer.close()
    return {"low_watermark": low, "new_offsets": [r[2] for r in reports], "earliest": offset(OffsetSpec.earliest()),
            "latest": offset(OffsetSpec.latest()), "by_time": offset(OffsetSpec.for_timestamp(0)), "read": read}


def _check_delete_records_errors(real):
    assert real["all_missing"] == "_NOENT" and real["some_missing"] == ["UNKNOWN_TOPIC_OR_PART", "ok"]
    assert real["empty"] == {} and real["calls"]["negative partition"] == "ValueError"


@campaign.scenario(check=_check_delete_records_errors)
def delete_records_errors(run):
    """``delete_records`` of partitions that do not exist fails with ``_NOENT`` (none exists) or
    ``UNKNOWN_TOPIC_OR_PART`` (next to existing ones); an empty list returns no futures; a non-list, a
    non-TopicPartition, a negative partition, a bad timeout or an unknown option are refused at the call."""
    topic = run.topic(partitions=1)
    missing = run.unique_name("missing")
    admin = run.admin()
    some = admin.delete_records([run.tp(topic, 0, 0), run.tp(missing, 0, 1)])
    return {"all_missing": _outcome(admin.delete_records([run.tp(missing, 0, 1)])[run.tp(missing, 0)])[0],
            "some_missing": [_outcome(some[run.tp(missing, 0)])[0], _outcome(some[run.tp(topic, 0)])[0]],
            "empty": admin.delete_records([]),
            "calls": {"a TopicPartition": _raises(lambda: admin.delete_records(run.tp(topic, 0, 1))),
                      "str": _raises(lambda: admin.delete_records([topic])),
                      "negative partition": _raises(lambda: admin.delete_records([run.tp(topic, -1, 1)])),
                      "operation_timeout=-2": _raises(lambda: admin.delete_records([run.tp(topic, 0, 1)],
                                                                                   operation_timeout=-2)),
                      "isolation_level": _raises(lambda: admin.delete_records([run.tp(topic, 0, 1)],
                                                                              isolation_level=1))}}


# -- consumer-group offsets and states ----------------------------------------------------------------------
def _check_alter_offsets(real):
    assert real["altered"] == [(0, 5, None), (1, 2, None)]
    assert real["listed"] == [(0, 5), (1, 2)] and real["simple"] == (True, "EMPTY")
    assert real["resumed_at"] == [(0, 5), (1, 2)]


@campaign.scenario(check=_check_alter_offsets)
def alter_consumer_group_offsets_then_resume(run):
    """``alter_consumer_group_offsets`` on a group without members commits the offsets (the result lists
    each partition with no error); the group is then a simple, EMPTY group, and a consumer of it resumes
    exactly there."""
    topic = run.topic(partitions=2)
    produce(run.kafka.Producer({"linger.ms": 5}), topic, [(None, b"v%d" % i, i % 2) for i in range(20)])
    admin = run.admin()
    group = run.unique_name("group")
    altered = _alter_offsets(admin, group, [run.tp(topic, 0, 5), run.tp(topic, 1, 2)])
    listed = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(timeout=TIMEOUT)
    desc = admin.describe_consumer_groups([group])[group].result(timeout=TIMEOUT)
    consumer, early = _subscribed(run, topic, group)
    first = {}
    for msg in sorted(early + consume(consumer, 13 - len(early), "the rest of both partitions") if len(early) < 13
                      else early, key=lambda m: m.offset()):
        first.setdefault(msg.partition(), msg.offset())
    consumer.close()
    return {"altered": _parts(altered), "type": type(altered).__name__, "group": altered.group_id == group,
            "listed": sorted((tp.partition, tp.offset) for tp in listed.topic_partitions),
            "simple": (desc.is_simple_consumer_group, desc.state.name),
            "resumed_at": sorted(first.items())}


def _check_alter_active(real):
    assert real["while_active"] == [(0, 1, "UNKNOWN_MEMBER_ID")]
    assert real["active_state"] == ("STABLE", False, 1) and real["after_close"] == [(0, 1, None)]


@campaign.scenario(check=_check_alter_active)
def alter_consumer_group_offsets_of_an_active_group(run):
    """While a group has members ``alter_consumer_group_offsets`` is refused per partition with
    ``UNKNOWN_MEMBER_ID`` (the future itself succeeds) and the committed offset stays; once the consumer has
    left the group is EMPTY and the same request succeeds."""
    topic = run.topic(partitions=1)
    admin = run.admin()
    group = run.unique_name("group")
    consumer, _ = _subscribed(run, topic, group)
    desc = admin.describe_consumer_groups([group])[group].result(timeout=TIMEOUT)
    request = [ConsumerGroupTopicPartitions(group, [run.tp(topic, 0, 1)])]
    while_active = admin.alter_consumer_group_offsets(request)[group].result(timeout=TIMEOUT)
    committed_during = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [run.tp(topic, 0)])])[group].result(timeout=TIMEOUT)
    consumer.close()
    after = admin.alter_consumer_group_offsets(request)[group].result(timeout=TIMEOUT)
    return {"while_active": _parts(while_active),
            "active_state": (desc.state.name, desc.is_simple_consumer_group, len(desc.members)),
            "committed_during": [tp.offset for tp in committed_during.topic_partitions],
            "after_close": _parts(after),
            "state_after": admin.describe_consumer_groups([group])[group].result(timeout=TIMEOUT).state.name}


def _check_alter_errors(real):
    assert real["unknown"] == [("M", 0, "UNKNOWN_TOPIC_OR_PART"), ("T", 0, None), ("T", 7, "UNKNOWN_TOPIC_OR_PART")]
    assert real["beyond_end"] == [(2, 500)] and real["duplicate"] == "_INVALID_ARG"
    assert real["calls"]["None"] == "TypeError" and real["calls"]["no partitions"] == "ValueError"


@campaign.scenario(check=_check_alter_errors)
def alter_consumer_group_offsets_errors(run):
    """Partitions that do not exist fail with ``UNKNOWN_TOPIC_OR_PART`` next to the ones committed; an offset
    beyond the end of a partition is committed as it is; a partition given twice fails the request with
    ``_INVALID_ARG``; no request, no partitions, negative offsets or unknown options are refused at the
    call."""
    topic = run.topic(partitions=3)
    missing = run.unique_name("missing")
    admin = run.admin()
    group = run.unique_name("group")
    _alter_offsets(admin, group, [run.tp(topic, 0, 0)])           # the coordinator is ready
    result = _alter_offsets(admin, group, [run.tp(topic, 7, 5), run.tp(topic, 0, 1), run.tp(missing, 0, 5)])
    _alter_offsets(admin, group, [run.tp(topic, 2, 500)])
    beyond = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [run.tp(topic, 2)])])[group].result(timeout=TIMEOUT)
    cgtp = ConsumerGroupTopicPartitions
    alter = admin.alter_consumer_group_offsets
    return {"unknown": sorted(("T" if tp.topic == topic else "M", tp.partition, tp.error.name() if tp.error else None)
                              for tp in result.topic_partitions),
            "beyond_end": [(tp.partition, tp.offset) for tp in beyond.topic_partitions],
            "duplicate": _outcome(alter([cgtp(group, [run.tp(topic, 0, 1), run.tp(topic, 0, 2)])])[group])[0],
            "calls": {"None": _raises(lambda: alter(None)),
                      "two groups": _raises(lambda: alter([cgtp(group, [run.tp(topic, 0, 1)])] * 2)),
                      "no partitions": _raises(lambda: alter([cgtp(group)])),
                      "empty partitions": _raises(lambda: alter([cgtp(group, [])])),
                      "no offset": _raises(lambda: alter([cgtp(group, [run.tp(topic, 0)])])),
                      "empty group": _raises(lambda: alter([cgtp("", [run.tp(topic, 0, 1)])])),
                      "require_stable": _raises(lambda: alter([cgtp(group, [run.tp(topic, 0, 1)])],
                                                              require_stable=True))}}


def _check_list_given_partitions(real):
    assert real == {"given": [("M", 0, -1001, None), ("T", 0, 4, None), ("T", 1, -1001, None)],
                    "all": [("T", 0, 4)], "missing_group": [("T", 0, -1001, None)]}


@campaign.scenario(check=_check_list_given_partitions)
def list_consumer_group_offsets_of_given_partitions(run):
    """``list_consumer_group_offsets`` of named partitions answers each, ``OFFSET_INVALID`` (-1001) without
    an error where nothing is committed (also for a topic or a group that does not exist); without
    partitions it lists only the committed ones."""
    topic = run.topic(partitions=2)
    missing = run.unique_name("missing")
    admin = run.admin()
    group = run.unique_name("group")
    _alter_offsets(admin, group, [run.tp(topic, 0, 4)])

    def listed(group_id, tps=None):
        result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group_id, tps)],
                                                   require_stable=False)[group_id].result(timeout=TIMEOUT)
        return sorted(("T" if tp.topic == topic else "M", tp.partition, tp.offset)
                      + ((tp.error.name() if tp.error else None),) * (tps is not None)
                      for tp in result.topic_partitions)
    return {"given": listed(group, [run.tp(topic, 0), run.tp(topic, 1), run.tp(missing, 0)]),
            "all": listed(group), "missing_group": listed(run.unique_name("nogroup"), [run.tp(topic, 0)])}


def _check_group_lifecycle(real):
    assert real["states"] == ["STABLE", "EMPTY", "DEAD"]
    assert real["delete_while_active"] == "NON_EMPTY_GROUP" and real["delete_after"] == "ok"
    assert real["listed"] == [True, True, False] and real["offsets_after_delete"] == [-1001]


@campaign.scenario(check=_check_group_lifecycle)
def consumer_group_states_and_deletion(run):
    """A subscribed group is STABLE with one member and not simple; after its consumer closes it is EMPTY
    and keeps its committed offsets; ``delete_consumer_groups`` refuses a group with members
    (``NON_EMPTY_GROUP``) and deletes an empty one, which is then DEAD, unlisted and without offsets."""
    topic = run.topic(partitions=2)
    produce(run.kafka.Producer({"linger.ms": 5}), topic, [(None, b"v%d" % i, i % 2) for i in range(6)])
    admin = run.admin()
    group = run.unique_name("group")
    consumer, early = _subscribed(run, topic, group)
    if len(early) < 6:
        consume(consumer, 6 - len(early), "every record")
    consumer.commit(asynchronous=False)

    def describe():
        return admin.describe_consumer_groups([group])[group].result(timeout=TIMEOUT)

    def listed():
        return group in {g.group_id for g in admin.list_consumer_groups(request_timeout=10).result(
            timeout=TIMEOUT).valid}
    active = describe()
    shape = (len(active.members), active.is_simple_consumer_group, active.partition_assignor,
             sorted((tp.topic == topic, tp.partition) for tp in active.members[0].assignment.topic_partitions))
    states, seen = [active.state.name], [listed()]
    delete_active = _outcome(admin.delete_consumer_groups([group])[group])[0]
    consumer.close()
    states.append(describe().state.name)
    seen.append(listed())
    committed = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(timeout=TIMEOUT)
    delete_after = _outcome(admin.delete_consumer_groups([group], request_timeout=10)[group])[0]
    states.append(describe().state.name)
    seen.append(listed())
    gone = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [run.tp(topic, 0)])])[group].result(timeout=TIMEOUT)
    return {"states": states, "shape": shape, "delete_while_active": delete_active, "delete_after": delete_after,
            "listed": seen, "committed": sorted((tp.partition, tp.offset) for tp in committed.topic_partitions),
            "offsets_after_delete": [tp.offset for tp in gone.topic_partitions]}


def _check_list_by_state(real):
    assert real["STABLE"] == ["active"] and real["EMPTY"] == ["simple"] and real["CLASSIC"] == ["active", "simple"]
    assert real["bad"] == {"list": "TypeError", "str element": "TypeError", "UNKNOWN type": "ValueError"}


@campaign.scenario(check=_check_list_by_state)
def list_consumer_groups_state_and_type_filters(run):
    """``list_consumer_groups`` filters by ``states`` and ``types``: a subscribed group is STABLE, a group
    that only has committed offsets is EMPTY, and both are CLASSIC groups; the filters must be sets of the
    enums, and type UNKNOWN is refused."""
    topic = run.topic(partitions=1)
    admin = run.admin()
    names = {run.unique_name("active"): "active", run.unique_name("simple"): "simple"}
    active, simple = list(names)
    _alter_offsets(admin, simple, [run.tp(topic, 0, 0)])
    consumer, _ = _subscribed(run, topic, active)

    def mine(states=None, types=None):
        kwargs = {"states": states} if states else {"types": types}
        result = admin.list_consumer_groups(**kwargs).result(timeout=TIMEOUT)
        return sorted(names[g.group_id] for g in result.valid if g.group_id in names)
    try:
        return {"STABLE": mine({ConsumerGroupState.STABLE}), "EMPTY": mine({ConsumerGroupState.EMPTY}),
                "CLASSIC": mine(types={ConsumerGroupType.CLASSIC}),
                "CONSUMER": mine(types={ConsumerGroupType.CONSUMER}),
                "bad": {"list": _raises(lambda: admin.list_consumer_groups(states=[ConsumerGroupState.STABLE])),
                        "str element": _raises(lambda: admin.list_consumer_groups(states={"STABLE"})),
                        "UNKNOWN type": _raises(lambda: admin.list_consumer_groups(
                            types={ConsumerGroupType.UNKNOWN}))}}
    finally:
        consumer.close()


def _check_list_groups(real):
    assert real["active"] == ("Stable", "consumer", "range", 1, True)
    assert real["simple"] == ("Empty", "", "", 0, True)
    assert real["missing"] == [] and real["deprecated"] is True


@campaign.scenario(check=_check_list_groups)
def list_groups_legacy(run):
    """The deprecated ``list_groups`` (with a ``DeprecationWarning``) describes groups as ``GroupMetadata``:
    a subscribed group is Stable with protocol type ``consumer``, the range assignor and its member; a group
    with only committed offsets is Empty with no protocol; an unknown group is not listed."""
    topic = run.topic(partitions=1)
    admin = run.admin()
    active, simple = run.unique_name("active"), run.unique_name("simple")
    _alter_offsets(admin, simple, [run.tp(topic, 0, 0)])
    consumer, _ = _subscribed(run, topic, active)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            groups = {g.id: g for g in admin.list_groups(timeout=10)}
            one = admin.list_groups(active, timeout=10)
            missing = admin.list_groups(run.unique_name("missing"), timeout=10)
    finally:
        consumer.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        (left,) = admin.list_groups(active, timeout=10)

    def shape(g):
        return (g.state, g.protocol_type, g.protocol, len(g.members), g.error is None)
    member = groups[active].members[0]
    return {"active": shape(groups[active]), "simple": shape(groups[simple]), "after_close": shape(left),
            "one": [g.id == active for g in one], "missing": missing,
            "member": (type(member.id).__name__, member.client_id, type(member.metadata).__name__,
                       topic.encode() in member.assignment),
            "deprecated": any(issubclass(w.category, DeprecationWarning) for w in caught),
            "calls": {"int group": _raises(lambda: admin.list_groups(1)),
                      "timeout None": _raises(lambda: admin.list_groups(timeout=None)),
                      "foo": _raises(lambda: admin.list_groups(foo=1))}}


# -- ACLs ---------------------------------------------------------------------------------------------------
def _binding(name, **changes):
    fields = dict(restype=ResourceType.TOPIC, name=name, resource_pattern_type=ResourcePatternType.LITERAL,
                  principal="User:alice", host="*", operation=AclOperation.READ,
                  permission_type=AclPermissionType.ALLOW)
    fields.update(changes)
    return AclBinding(**fields)


def _any_filter(name=None):
    return AclBindingFilter(ResourceType.ANY, name, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                            AclPermissionType.ANY)


def _check_acls(real):
    assert set(real["create"].values()) == {"SECURITY_DISABLED"} and len(real["create"]) == 2
    assert real["describe"] == ("ok", []) and set(real["delete"].values()) == {"SECURITY_DISABLED"}


@campaign.scenario(check=_check_acls)
def acls_without_an_authorizer(run):
    """On a cluster without an authorizer ``create_acls`` and ``delete_acls`` fail each binding / filter with
    ``SECURITY_DISABLED`` and ``describe_acls`` succeeds with no bindings."""
    admin = run.admin()
    topic = run.unique_name("acl")
    created = admin.create_acls([_binding(topic), _binding(topic, operation=AclOperation.WRITE)], request_timeout=10)
    described = _outcome(admin.describe_acls(_any_filter(), request_timeout=10))
    deleted = admin.delete_acls([_any_filter(), _any_filter(topic)])
    return {"create": {"%s" % b.operation.name: _outcome(f)[0] for b, f in created.items()},
            "describe": described,
            "delete": {str(f.name is None): _outcome(fut)[0] for f, fut in deleted.items()}}


def _check_acl_bad_input(real):
    assert real["empty list"] == "ValueError" and real["duplicates"] == "ValueError"
    assert real["a binding"] == "TypeError" and real["describe a binding"] == "TypeError"


@campaign.scenario(check=_check_acl_bad_input)
def acl_bad_input(run):
    """The ACL calls refuse an empty list, duplicate bindings, a binding instead of a list, the wrong class
    (a binding where a filter is wanted and back), an UNKNOWN resource type and unknown options, at the
    call; ``AclBinding`` itself refuses ANY / MATCH values and a missing name."""
    admin = run.admin()
    b = _binding("t")
    return {"empty list": _raises(lambda: admin.create_acls([])),
            "duplicates": _raises(lambda: admin.create_acls([b, _binding("t")])),
            "a binding": _raises(lambda: admin.create_acls(b)),
            "strings": _raises(lambda: admin.create_acls(["t"])),
            "unknown restype": _raises(lambda: admin.create_acls([_binding("t", restype=ResourceType.UNKNOWN)])),
            "operation_timeout": _raises(lambda: admin.create_acls([b], operation_timeout=1)),
            "describe a binding": _raises(lambda: admin.describe_acls(b)),
            "describe a list": _raises(lambda: admin.describe_acls([_any_filter()])),
            "delete bindings": _raises(lambda: admin.delete_acls([b])),
            "delete empty": _raises(lambda: admin.delete_acls([])),
            "delete duplicates": _raises(lambda: admin.delete_acls([_any_filter(), _any_filter()])),
            "binding ANY": _raises(lambda: _binding("t", operation=AclOperation.ANY)),
            "binding MATCH": _raises(lambda: _binding("t", resource_pattern_type=ResourcePatternType.MATCH)),
            "binding no name": _raises(lambda: _binding(None))}


# -- SCRAM credentials ---------------------------------------------------------------------------------------
def _scram(admin, users):
    out = {}
    for user, future in admin.describe_user_scram_credentials(users).items():
        status, desc = _outcome(future)
        out[user] = status if desc is None else sorted(
            (i.mechanism.name, i.iterations) for i in desc.scram_credential_infos)
    return out


def _check_scram(real):
    assert real["before"] == "RESOURCE_NOT_FOUND"
    assert real["upserted"] == {"A": "ok", "B": "ok"}
    assert real["described"] == {"A": [("SCRAM_SHA_256", 4096), ("SCRAM_SHA_512", 8192)],
                                 "B": [("SCRAM_SHA_512", 10000)]}
    assert real["after_delete"] == {"A": [("SCRAM_SHA_512", 8192)], "B": "RESOURCE_NOT_FOUND"}


@campaign.scenario(check=_check_scram)
def scram_credentials_lifecycle(run):
    """SCRAM credentials live in the cluster metadata even without a SASL listener: upserted credentials
    are described per mechanism with their iterations (never the password), an upsertion of the same
    mechanism replaces the iterations, a deletion removes one mechanism, and a user with none left is
    ``RESOURCE_NOT_FOUND``."""
    admin = run.admin()
    a, b = run.unique_name("alice"), run.unique_name("bob")
    label = {a: "A", b: "B"}
    sha256, sha512 = ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512
    before = _outcome(admin.describe_user_scram_credentials([a])[a])[0]
    first = admin.alter_user_scram_credentials([
        UserScramCredentialUpsertion(a, ScramCredentialInfo(sha256, 4096), b"pw-a"),
        UserScramCredentialUpsertion(b, ScramCredentialInfo(sha512, 4096), b"pw-b", b"salt")], request_timeout=10)
    upserted = {label[u]: _outcome(f)[0] for u, f in first.items()}
    for alteration in (UserScramCredentialUpsertion(a, ScramCredentialInfo(sha512, 8192), b"pw-a"),
                       UserScramCredentialUpsertion(b, ScramCredentialInfo(sha512, 10000), b"pw-b2")):
        admin.alter_user_scram_credentials([alteration])[alteration.user].result(timeout=TIMEOUT)
    wanted = {a: [("SCRAM_SHA_256", 4096), ("SCRAM_SHA_512", 8192)], b: [("SCRAM_SHA_512", 10000)]}
    seen = {}
    _wait(lambda: seen.update(_scram(admin, [a, b])) or seen == wanted, admin, "the credentials to be described")
    every = admin.describe_user_scram_credentials().result(timeout=TIMEOUT)
    admin.alter_user_scram_credentials([UserScramCredentialDeletion(a, sha256)])[a].result(timeout=TIMEOUT)
    admin.alter_user_scram_credentials([UserScramCredentialDeletion(b, sha512)])[b].result(timeout=TIMEOUT)
    after = {}
    _wait(lambda: after.update(_scram(admin, [a, b])) or after[b] == "RESOURCE_NOT_FOUND" and len(after[a]) == 1,
          admin, "the deletions to be described")
    admin.alter_user_scram_credentials([UserScramCredentialDeletion(a, sha512)])[a].result(timeout=TIMEOUT)
    return {"before": before, "upserted": upserted, "described": {label[u]: v for u, v in seen.items()},
            "in_describe_all": sorted(label[u] for u in every if u in label),
            "description_type": type(every[a]).__name__ if a in every else None,
            "after_delete": {label[u]: v for u, v in after.items()}}


def _check_scram_errors(real):
    assert real["too_few"] == "UNACCEPTABLE_CREDENTIAL" and real["too_many"] == "UNACCEPTABLE_CREDENTIAL"
    assert real["delete_missing"] == "RESOURCE_NOT_FOUND" and real["twice"] == "DUPLICATE_RESOURCE"
    assert real["twice_with_a_missing_deletion"] == "RESOURCE_NOT_FOUND"
    assert real["unknown_mechanism"] == "_INVALID_ARG" and real["describe_twice"] == "_INVALID_ARG"


@campaign.scenario(check=_check_scram_errors)
def scram_credentials_errors(run):
    """Kafka refuses fewer than 4096 or more than 16384 iterations (``UNACCEPTABLE_CREDENTIAL``), a deletion
    of a credential that does not exist (``RESOURCE_NOT_FOUND``, also when the user is altered twice) and a
    user altered twice in one request (``DUPLICATE_RESOURCE``); the client refuses an UNKNOWN mechanism or a
    user described twice
    (``_INVALID_ARG``) and wrong types at the call; ``set_sasl_credentials`` takes two strings."""
    admin = run.admin()
    user = run.unique_name("carol")
    sha256, sha512 = ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512

    def alter(*alterations):
        return _outcome(admin.alter_user_scram_credentials(list(alterations))[user])[0]
    upsert = UserScramCredentialUpsertion
    return {"too_few": alter(upsert(user, ScramCredentialInfo(sha256, 100), b"pw")),
            "too_many": alter(upsert(user, ScramCredentialInfo(sha256, 20000), b"pw")),
            "delete_missing": alter(UserScramCredentialDeletion(user, sha512)),
            "twice_with_a_missing_deletion": alter(upsert(user, ScramCredentialInfo(sha256, 4096), b"pw"),
                                                   UserScramCredentialDeletion(user, sha512)),
            "created": alter(upsert(user, ScramCredentialInfo(sha512, 4096), b"pw")),
            "twice": alter(upsert(user, ScramCredentialInfo(sha256, 4096), b"pw"),
                           UserScramCredentialDeletion(user, sha512)),
            "deleted": alter(UserScramCredentialDeletion(user, sha512)),
            "unknown_mechanism": alter(UserScramCredentialDeletion(user, ScramMechanism.UNKNOWN)),
            "describe_twice": {_outcome(f)[0]
                               for f in admin.describe_user_scram_credentials([user, user]).values()}.pop(),
            "describe_empty": admin.describe_user_scram_credentials([]),
            "calls": {"password str": _raises(lambda: admin.alter_user_scram_credentials(
                          [upsert(user, ScramCredentialInfo(sha256, 4096), "pw")])),
                      "iterations 0": _raises(lambda: admin.alter_user_scram_credentials(
                          [upsert(user, ScramCredentialInfo(sha256, 0), b"pw")])),
                      "empty": _raises(lambda: admin.alter_user_scram_credentials([])),
                      "describe str": _raises(lambda: admin.describe_user_scram_credentials(user)),
                      "describe empty name": _raises(lambda: admin.describe_user_scram_credentials([""])),
                      "request_timeout='x'": _raises(lambda: admin.describe_user_scram_credentials(
                          [user], request_timeout="x")),
                      "sasl ok": _raises(lambda: admin.set_sasl_credentials("u", "p")),
                      "sasl bytes": _raises(lambda: admin.set_sasl_credentials(b"u", b"p")),
                      "sasl None": _raises(lambda: admin.set_sasl_credentials("u", None))}}


# -- configs ----------------------------------------------------------------------------------------------
def _check_broker_configs(real):
    assert real["values"]["auto.create.topics.enable"] == "false"


@campaign.scenario(check=_check_broker_configs)
def describe_configs_of_a_broker(run):
    """``describe_configs`` of a broker (``ConfigResource(BROKER, "1")``) lists the broker's configs with
    their values, among them the ones the course's cluster sets (no topic auto-creation)."""
    from confluent_kafka.admin import ConfigResource
    admin = run.admin()
    resource = ConfigResource(ResourceType.BROKER, "1")
    configs = admin.describe_configs([resource], request_timeout=10)[resource].result(timeout=TIMEOUT)
    keys = ("auto.create.topics.enable", "num.partitions", "default.replication.factor")
    return {"values": {k: configs[k].value for k in keys if k in configs},
            "entry_type": type(configs["num.partitions"]).__name__}
