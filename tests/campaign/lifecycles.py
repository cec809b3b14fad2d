"""Lifecycles: a topic created, deleted and created again (what survives: committed offsets, positions,
producer metadata, configs), a consumer group from its first member to its deletion, and partitions added
under running clients."""
from __future__ import annotations

import campaign
from differential_scenarios import MAX_POLLS, POLL_S, _text, consume, error_code, poll_group, produce

campaign.area(__name__, "Topic and group lifecycles")


# -- helpers ------------------------------------------------------------------------------------------------
def _admin_types(run):
    if run.backend == "sim":
        from eventsim.admin import ConfigResource, ConsumerGroupState, ConsumerGroupTopicPartitions
    else:
        from confluent_kafka import ConsumerGroupState, ConsumerGroupTopicPartitions
        from confluent_kafka.admin import ConfigResource
    return ConfigResource, ConsumerGroupState, ConsumerGroupTopicPartitions


def _future_error(future, timeout=60):
    """The error name a future fails with, or None."""
    try:
        future.result(timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - KafkaException on both backends; the name is the observation
        err = exc.args[0] if exc.args else None
        return err.name() if hasattr(err, "name") else type(exc).__name__
    return None


def _topic_exists(run, name):
    return name in run.admin().list_topics(timeout=10).topics


def _wait(run, condition, rounds=120):
    """``condition()`` polled every 0.5 s (virtual on the simulator), at most ``rounds`` times."""
    for _ in range(rounds):
        if condition():
            return True
        run.kafka.wait(500)
    return condition()


def _delete_topic(run, name):
    """Delete a topic and wait until the metadata no longer lists it; the error of the deletion."""
    admin = run.admin()
    err = _future_error(admin.delete_topics([name], operation_timeout=30)[name])
    if err is None:
        _wait(run, lambda: not _topic_exists(run, name))
        if name in run.created:
            run.created.remove(name)
    return err


def _create_topic(run, name, partitions=1, config=None):
    """(Re)create a topic by name; the error of the creation. Waits until every broker knows it."""
    new = run.api.NewTopic(name, partitions, 3, config=dict(config or {}))
    admin = run.admin()
    err = _future_error(admin.create_topics([new], operation_timeout=30)[name])
    if err is None:
        run.created.append(name)
        if run.backend != "sim":
            from conftest import wait_for_topic
            wait_for_topic(run.kafka, name, partitions)
    return err


def _committed(run, group, topic, partitions=1):
    c = run.kafka.Consumer({"group.id": group})
    try:
        return [tp.offset for tp in c.committed([run.tp(topic, p) for p in range(partitions)], timeout=10)]
    finally:
        c.close()


def _listed_offsets(run, group, topic, partitions=1):
    _, _, request_type = _admin_types(run)
    request = [request_type(group, [run.tp(topic, p) for p in range(partitions)])]
    admin = run.admin()
    future = admin.list_consumer_group_offsets(request, require_stable=True)[group]
    try:
        result = future.result(30)
    except Exception as exc:  # noqa: BLE001
        return exc.args[0].name()
    return [(tp.partition, tp.offset, error_code(tp.error)) for tp in result.topic_partitions]


def _group_state(run, group):
    """The group as ``list_consumer_groups`` and ``describe_consumer_groups`` show it."""
    admin = run.admin()
    listed = [g for g in admin.list_consumer_groups().result(30).valid if g.group_id == group]
    try:
        described = admin.describe_consumer_groups([group])[group].result(30)
        desc = {"state": described.state.name, "members": len(described.members),
                "simple": described.is_simple_consumer_group}
    except Exception as exc:  # noqa: BLE001
        desc = exc.args[0].name()
    return {"listed": [g.state.name for g in listed], "described": desc}


def _commit_offsets(run, group, topic, offsets):
    """Commit ``{partition: offset}`` for a group from a consumer outside the group (``assign``)."""
    c = run.kafka.Consumer({"group.id": group, "enable.auto.commit": False})
    c.commit(offsets=[run.tp(topic, p, o) for p, o in sorted(offsets.items())], asynchronous=False)
    c.close()


# -- topics -----------------------------------------------------------------------------------------------------
def _check_offsets_gone(real):
    assert real["before"] == [3]
    assert real["after_recreate"] == [-1001]


@campaign.scenario(check=_check_offsets_gone)
def recreated_topic_has_no_committed_offsets(run):
    """A group committed offset 3 of a topic that is then deleted and created again with the same name:
    Kafka deletes a deleted topic's offsets from every group, so the group has no committed offset for the
    new topic (-1001) and its members start at ``auto.offset.reset``."""
    topic = run.topic(partitions=1)
    produce(run.kafka.Producer({}), topic, [(None, b"old-%d" % i) for i in range(5)])
    group = run.unique_name("group")
    _commit_offsets(run, group, topic, {0: 3})
    out = {"before": _committed(run, group, topic)}
    out["delete"] = _delete_topic(run, topic)
    out["create"] = _create_topic(run, topic)
    _wait(run, lambda: _committed(run, group, topic) == [-1001], rounds=40)
    out["after_recreate"] = _committed(run, group, topic)
    out["listed_after"] = _listed_offsets(run, group, topic)
    produce(run.kafka.Producer({}), topic, [(None, b"new-%d" % i) for i in range(2)])
    c = run.kafka.Consumer({"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    out["member_reads"] = [(m.offset(), _text(m.value())) for m in consume(c, 2, "the recreated topic")]
    c.close()
    return out


def _check_group_after_delete(real):
    assert real["listed_before"] == ["EMPTY"] and real["after"]["listed"] == ["EMPTY"]
    assert real["offsets_after"] == [(0, -1001, None), (1, -1001, None)]


@campaign.scenario(check=_check_group_after_delete)
def group_of_a_deleted_topic(run):
    """An Empty group whose only committed offsets were for a topic that is deleted: Kafka removes the
    offsets (``list_consumer_group_offsets`` answers -1001), and ``list_consumer_groups`` and
    ``describe_consumer_groups`` still show the group, Empty."""
    topic = run.topic(partitions=2)
    group = run.unique_name("group")
    _commit_offsets(run, group, topic, {0: 0, 1: 0})
    out = {"listed_before": _group_state(run, group)["listed"]}
    _delete_topic(run, topic)
    _wait(run, lambda: _listed_offsets(run, group, topic, 2) == [(0, -1001, None), (1, -1001, None)], rounds=40)
    out["after"] = _group_state(run, group)
    out["offsets_after"] = _listed_offsets(run, group, topic, 2)
    return out


def _check_config_reset(real):
    assert real["before"] == ("3600000", False) and real["after"][1] is True
    assert real["partitions_after"] == 3


@campaign.scenario(check=_check_config_reset)
def recreated_topic_starts_from_default_configs(run):
    """A topic created with ``retention.ms=3600000`` and 1 partition, deleted, and created again with 3
    partitions and no configs: the new topic has the default ``retention.ms`` and 3 partitions (nothing of
    the old topic's settings survives)."""
    config_resource, _, _ = _admin_types(run)
    topic = run.topic(partitions=1, config={"retention.ms": "3600000"})

    def retention():
        resource = config_resource("topic", topic)
        admin = run.admin()
        entries = admin.describe_configs([resource])[resource].result(30)
        entry = entries["retention.ms"]
        return entry.value, entry.is_default
    out = {"before": retention(), "delete": _delete_topic(run, topic), "create": _create_topic(run, topic, 3)}
    out["after"] = retention()
    out["partitions_after"] = len(run.admin().list_topics(topic, timeout=10).topics[topic].partitions)
    return out


def _check_create_existing(real):
    assert real["again"] == "TOPIC_ALREADY_EXISTS" and real["validate_only"] == "TOPIC_ALREADY_EXISTS"
    assert real["partitions"] == 2


@campaign.scenario(check=_check_create_existing)
def create_an_existing_topic(run):
    """Creating a topic that exists fails with ``TOPIC_ALREADY_EXISTS``, with other settings and with
    ``validate_only`` too, and leaves the topic as it was; the same new name twice in one request is
    refused by the client library."""
    topic = run.topic(partitions=2)
    admin = run.admin()
    out = {"again": _future_error(admin.create_topics([run.api.NewTopic(topic, 5, 1)])[topic]),
           "validate_only": _future_error(admin.create_topics([run.api.NewTopic(topic, 2, 3)],
                                                              validate_only=True)[topic])}
    twice = run.unique_name("twice")
    try:
        futures = admin.create_topics([run.api.NewTopic(twice, 1, 1), run.api.NewTopic(twice, 1, 1)])
        out["same_name_twice"] = [_future_error(f) for f in futures.values()]
        run.created.append(twice)
    except Exception as exc:  # noqa: BLE001 - refused at the call: the type is the observation
        out["same_name_twice"] = type(exc).__name__
    out["partitions"] = len(admin.list_topics(topic, timeout=10).topics[topic].partitions)
    return out


def _check_delete_missing(real):
    assert real["mixed"] == {"existing": None, "missing": "UNKNOWN_TOPIC_OR_PART"}
    assert real["again"] == "UNKNOWN_TOPIC_OR_PART"


@campaign.scenario(check=_check_delete_missing)
def delete_a_missing_topic(run):
    """Deleting an existing and a missing topic in one request: each future answers for its own topic
    (the missing one ``UNKNOWN_TOPIC_OR_PART``); deleting the deleted topic again fails the same way."""
    topic = run.topic(partitions=1)
    missing = run.unique_name("missing")
    admin = run.admin()
    futures = admin.delete_topics([topic, missing], operation_timeout=30)
    out = {"mixed": {"existing": _future_error(futures[topic]), "missing": _future_error(futures[missing])}}
    _wait(run, lambda: not _topic_exists(run, topic))
    run.created.remove(topic)
    out["again"] = _future_error(admin.delete_topics([topic], operation_timeout=30)[topic])
    return out


def _check_subscribed_delete(real):
    assert real["assignment_before"] == 2 and real["assignment_after"] == 0


@campaign.scenario(check=_check_subscribed_delete)
def deleting_a_topic_under_a_subscribed_consumer(run):
    """A group member subscribed to a 2-partition topic while the topic is deleted: the error events its
    ``poll()`` returns (as a set of names) and its assignment, which shrinks to nothing; the group stays
    Stable with the member."""
    topic = run.topic(partitions=2)
    produce(run.kafka.Producer({}), topic, [(None, b"v%d" % i, i % 2) for i in range(4)])
    group = run.unique_name("group")
    c = run.kafka.Consumer({"group.id": group, "auto.offset.reset": "earliest",
                            "topic.metadata.refresh.interval.ms": 1000})
    c.subscribe([topic])
    consume(c, 4, "4 records")
    out = {"assignment_before": len(c.assignment())}
    _delete_topic(run, topic)
    errors = set()
    for _ in range(MAX_POLLS):
        msg = c.poll(POLL_S)
        if msg is not None and msg.error():
            errors.add(msg.error().name())
        if not c.assignment() and errors:
            break
    out["errors"] = sorted(errors)
    out["assignment_after"] = len(c.assignment())
    out["group"] = _group_state(run, group)
    c.close()
    return out


def _check_producer_recreate(real):
    assert real["first"] == [(None, 0), (None, 1), (None, 2)]
    assert real["after_recreate"] == [(None, 0), (None, 1)]


@campaign.scenario(check=_check_producer_recreate)
def producer_across_a_topic_recreation(run):
    """A producer writes 3 records, the topic is deleted (the producer's ``list_topics`` then reports it
    unknown) and created again: the producer's next records go to the new topic, whose offsets start at 0
    again."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({})

    def reports(values):
        return [(r[0], r[2]) for r in produce(producer, topic, values)]
    out = {"first": reports([(None, b"a%d" % i) for i in range(3)])}
    _delete_topic(run, topic)
    meta = producer.list_topics(topic, timeout=10).topics[topic]
    out["metadata_after_delete"] = (error_code(meta.error) == run.api.KafkaError.UNKNOWN_TOPIC_OR_PART,
                                    len(meta.partitions))
    _create_topic(run, topic)
    out["after_recreate"] = reports([(None, b"b%d" % i) for i in range(2)])
    return out


def _check_assigned_recreate(real):
    assert real["before"] == [(0, "old-0"), (1, "old-1"), (2, "old-2"), (3, "old-3")]
    assert real["after"] == [(0, "new-0", 0), (1, "new-1", 0)] and real["position"] == [2]


@campaign.scenario(check=_check_assigned_recreate)
def assigned_consumer_across_a_topic_recreation(run):
    """A consumer assigned to a partition it has read to offset 4 pauses it; the topic is deleted, created
    again and gets 2 new records; the consumer resumes. Its position 4 is beyond the new topic's end, so
    the fetch is out of range and ``auto.offset.reset`` (earliest) starts it at 0: the records it then
    gets (with their leader epochs), the error events, and its position afterwards."""
    topic = run.topic(partitions=1)
    produce(run.kafka.Producer({}), topic, [(None, b"old-%d" % i) for i in range(4)])
    c = run.kafka.Consumer({"group.id": run.unique_name("g"), "auto.offset.reset": "earliest",
                            "enable.auto.commit": False, "topic.metadata.refresh.interval.ms": 1000})
    c.assign([run.tp(topic, 0, 0)])
    first = consume(c, 4, "the old records")
    out = {"before": [(m.offset(), _text(m.value())) for m in first],
           "epoch_before": [m.leader_epoch() for m in first][:1]}
    c.pause([run.tp(topic, 0)])         # no fetch while the new topic is still empty (that would race)
    _delete_topic(run, topic)
    _create_topic(run, topic)
    produce(run.kafka.Producer({}), topic, [(None, b"new-%d" % i) for i in range(2)])
    c.resume([run.tp(topic, 0)])
    got, errors = [], set()
    for _ in range(MAX_POLLS):
        msg = c.poll(POLL_S)
        if msg is None:
            continue
        if msg.error():
            errors.add(msg.error().name())
            continue
        got.append((msg.offset(), _text(msg.value()), msg.leader_epoch()))
        if len(got) == 2:
            break
    out["after"] = got
    out["errors"] = sorted(errors)
    out["position"] = [tp.offset for tp in c.position([run.tp(topic, 0)])]
    c.close()
    return out


# -- groups -------------------------------------------------------------------------------------------------------
def _check_group_states(real):
    assert real["before"]["listed"] == []
    assert real["stable"]["listed"] == ["STABLE"] and real["stable"]["described"]["members"] == 1
    assert real["left"]["listed"] == ["EMPTY"] and real["left"]["described"]["state"] == "EMPTY"
    assert real["left"]["described"]["simple"] is False          # it keeps protocol type "consumer"
    assert real["offsets_when_empty"] == [(0, 3, None)]
    assert real["delete"] is None and real["after_delete"]["listed"] == []


@campaign.scenario(check=_check_group_states)
def group_states_over_a_lifetime(run):
    """A consumer group's state as ``list_consumer_groups`` and ``describe_consumer_groups`` show it:
    unknown (described Dead) before anyone joins, Stable with one member, Empty with no members after the
    member closes (its committed offsets kept, and not a simple group: it keeps the protocol type
    ``consumer``), and gone after ``delete_consumer_groups``."""
    topic = run.topic(partitions=1)
    produce(run.kafka.Producer({}), topic, [(None, b"v%d" % i) for i in range(3)])
    group = run.unique_name("group")
    out = {"before": _group_state(run, group)}
    c = run.kafka.Consumer({"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    consume(c, 3, "3 records")
    c.commit(asynchronous=False)
    out["stable"] = _group_state(run, group)
    c.close()
    out["left"] = _group_state(run, group)
    out["offsets_when_empty"] = _listed_offsets(run, group, topic)
    admin = run.admin()
    out["delete"] = _future_error(admin.delete_consumer_groups([group])[group])
    out["after_delete"] = _group_state(run, group)
    out["offsets_after_delete"] = _committed(run, group, topic)
    return out


def _check_delete_groups(real):
    assert real["with_member"] == "NON_EMPTY_GROUP" and real["missing"] == "GROUP_ID_NOT_FOUND"
    assert real["after_close"] is None and real["again"] == "GROUP_ID_NOT_FOUND"


@campaign.scenario(check=_check_delete_groups)
def delete_consumer_groups_with_and_without_members(run):
    """``delete_consumer_groups``: a group with a member is refused (``NON_EMPTY_GROUP``) and keeps its
    offsets, a group nobody used ``GROUP_ID_NOT_FOUND``; after the member closed the deletion succeeds, the
    offsets go with it, and deleting again is ``GROUP_ID_NOT_FOUND``."""
    topic = run.topic(partitions=1)
    produce(run.kafka.Producer({}), topic, [(None, b"v%d" % i) for i in range(2)])
    group = run.unique_name("group")
    c = run.kafka.Consumer({"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    consume(c, 2, "2 records")
    c.commit(asynchronous=False)
    admin = run.admin()
    out = {"with_member": _future_error(admin.delete_consumer_groups([group])[group])}
    nobody = run.unique_name("nobody")
    out["missing"] = _future_error(admin.delete_consumer_groups([nobody])[nobody])
    out["kept"] = _committed(run, group, topic)
    c.close()
    out["after_close"] = _future_error(admin.delete_consumer_groups([group])[group])
    out["again"] = _future_error(admin.delete_consumer_groups([group])[group])
    out["offsets_after"] = _committed(run, group, topic)
    return out


def _check_simple_group(real):
    assert real["state"]["listed"] == ["EMPTY"] and real["state"]["described"]["simple"] is True
    assert real["offsets"] == [(0, 2, None), (1, 5, None)]


@campaign.scenario(check=_check_simple_group)
def empty_group_keeps_committed_offsets(run):
    """A group that only ever committed offsets (a consumer with ``assign()``, never a member) is listed
    and described Empty, as a simple consumer group, and keeps its committed offsets."""
    topic = run.topic(partitions=2)
    produce(run.kafka.Producer({}), topic, [(None, b"v%d" % i, i % 2) for i in range(12)])
    group = run.unique_name("group")
    _commit_offsets(run, group, topic, {0: 2, 1: 5})
    return {"state": _group_state(run, group), "offsets": _listed_offsets(run, group, topic, 2),
            "committed": _committed(run, group, topic, 2)}


def _check_states_filter(real):
    assert real == {"STABLE": ["stable"], "EMPTY": ["empty"], "both": ["empty", "stable"]}


@campaign.scenario(check=_check_states_filter)
def list_consumer_groups_by_state(run):
    """``list_consumer_groups(states=...)`` lists only the groups in those states: one Stable group (a live
    member) and one Empty group (offsets only)."""
    _, group_state, _ = _admin_types(run)
    topic = run.topic(partitions=1)
    produce(run.kafka.Producer({}), topic, [(None, b"v")])
    names = {"stable": run.unique_name("stable"), "empty": run.unique_name("empty")}
    _commit_offsets(run, names["empty"], topic, {0: 1})
    c = run.kafka.Consumer({"group.id": names["stable"], "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    consume(c, 1, "the record")
    admin = run.admin()
    ours = {v: k for k, v in names.items()}

    def listed(states):
        valid = admin.list_consumer_groups(states=states).result(30).valid
        return sorted(ours[g.group_id] for g in valid if g.group_id in ours)
    out = {"STABLE": listed({group_state.STABLE}), "EMPTY": listed({group_state.EMPTY}),
           "both": listed({group_state.STABLE, group_state.EMPTY})}
    c.close()
    return out


# -- partitions added under running clients ---------------------------------------------------------------------
def _check_group_grows(real):
    assert real["before"] == [0, 1] and real["after"] == [0, 1, 2, 3]
    assert real["committed"] == [2, 2, -1001, -1001]


@campaign.scenario(check=_check_group_grows)
def create_partitions_under_a_subscribed_group(run):
    """``create_partitions`` from 2 to 4 under a subscribed group member: at its next metadata refresh
    (``topic.metadata.refresh.interval.ms``, 1 s here) the group rebalances and the member gets all 4; the
    offsets committed for the old partitions stay and the new ones have none."""
    topic = run.topic(partitions=2)
    produce(run.kafka.Producer({}), topic, [(None, b"v%d" % i, i % 2) for i in range(4)])
    group = run.unique_name("group")
    c = run.kafka.Consumer({"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False,
                            "topic.metadata.refresh.interval.ms": 1000})
    c.subscribe([topic])
    consume(c, 4, "4 records")
    c.commit(asynchronous=False)
    out = {"before": sorted(tp.partition for tp in c.assignment())}
    admin = run.admin()
    _future_error(admin.create_partitions([run.api.NewPartitions(topic, 4)])[topic])
    poll_group([c], lambda: len(c.assignment()) == 4, "the member to get 4 partitions")
    out["after"] = sorted(tp.partition for tp in c.assignment())
    out["committed"] = [tp.offset for tp in c.committed([run.tp(topic, p) for p in range(4)], timeout=10)]
    c.close()
    return out


def _check_new_partitions(real):
    assert real["watermarks"] == [(0, 1), (0, 1), (0, 0), (0, 0)]
    assert real["new_producer"] == [(None, 3, 0)]


@campaign.scenario(check=_check_new_partitions)
def create_partitions_seen_by_a_running_producer(run):
    """After ``create_partitions`` from 2 to 4 the new partitions start empty (watermarks 0, 0); a running
    producer that has the topic's metadata still refuses the new partition 3 at the call until its next
    metadata refresh; a new producer writes to it at offset 0."""
    topic = run.topic(partitions=2)
    running = run.kafka.Producer({})
    produce(running, topic, [(None, b"p0", 0), (None, b"p1", 1)])
    admin = run.admin()
    _future_error(admin.create_partitions([run.api.NewPartitions(topic, 4)])[topic])
    _wait(run, lambda: len(run.admin().list_topics(topic, timeout=10).topics[topic].partitions) == 4)
    probe = run.kafka.Consumer({"group.id": run.unique_name("probe")})
    out = {"watermarks": [tuple(probe.get_watermark_offsets(run.tp(topic, p), timeout=10)) for p in range(4)]}
    probe.close()
    try:
        running.produce(topic, b"new", partition=3)
        out["running_producer"] = "accepted"
    except run.api.KafkaException as exc:
        out["running_producer"] = exc.args[0].name()
    running.flush(30)
    out["new_producer"] = [(r[0], r[1], r[2]) for r in produce(run.kafka.Producer({}), topic, [(None, b"n", 3)])]
    return out


def _check_created_later(real):
    assert real["assignment"] == 2 and real["read"] == ["late"]


@campaign.scenario(check=_check_created_later)
def subscribing_before_the_topic_exists(run):
    """A member subscribes to a topic nobody created: its polls return error events (their names, as a set)
    and no assignment; once the topic is created its next metadata refresh (1 s here) gets it both
    partitions and it reads what is written."""
    name = run.unique_name("later")
    c = run.kafka.Consumer({"group.id": run.unique_name("group"), "auto.offset.reset": "earliest",
                            "topic.metadata.refresh.interval.ms": 1000})
    c.subscribe([name])
    errors = set()
    for _ in range(30):
        msg = c.poll(POLL_S)
        if msg is not None and msg.error():
            errors.add(msg.error().name())
    out = {"errors_before": sorted(errors), "assignment_before": len(c.assignment())}
    _create_topic(run, name, 2)
    produce(run.kafka.Producer({}), name, [(None, b"late", 1)])
    out["read"] = [_text(m.value()) for m in consume(c, 1, "the record of the new topic")]
    out["assignment"] = len(c.assignment())
    c.close()
    return out


def _check_longer_recreate(real):
    assert real["before"] == [(0, "old-0"), (1, "old-1")]
    assert real["after"] == [(2, "new-2"), (3, "new-3"), (4, "new-4")] and real["errors"] == []


@campaign.scenario(check=_check_longer_recreate)
def assigned_consumer_into_a_longer_recreated_topic(run):
    """A consumer assigned to a partition it has read to offset 2 pauses it; the topic is deleted, created
    again and gets 5 new records, so offset 2 exists in the new topic too; the consumer resumes. It goes
    on at its position (nothing tells it the topic is a new one): new records 2-4, and no error event."""
    topic = run.topic(partitions=1)
    produce(run.kafka.Producer({}), topic, [(None, b"old-%d" % i) for i in range(2)])
    c = run.kafka.Consumer({"group.id": run.unique_name("g"), "auto.offset.reset": "earliest",
                            "enable.auto.commit": False, "topic.metadata.refresh.interval.ms": 1000})
    c.assign([run.tp(topic, 0, 0)])
    out = {"before": [(m.offset(), _text(m.value())) for m in consume(c, 2, "the old records")]}
    c.pause([run.tp(topic, 0)])         # no fetch while the new topic is still empty (that would race)
    _delete_topic(run, topic)
    _create_topic(run, topic)
    produce(run.kafka.Producer({}), topic, [(None, b"new-%d" % i) for i in range(5)])
    c.resume([run.tp(topic, 0)])
    got, errors = [], set()
    for _ in range(MAX_POLLS):
        msg = c.poll(POLL_S)
        if msg is None:
            if got and got[-1][0] == 4:
                break
            continue
        if msg.error():
            errors.add(msg.error().name())
            continue
        got.append((msg.offset(), _text(msg.value())))
    out["after"] = got
    out["errors"] = sorted(errors)
    c.close()
    return out


def _check_subscribed_recreate(real):
    assert real["assignment_while_deleted"] == 0 and real["assignment_after"] == 1
    assert real["read"] == [(0, "new-0"), (1, "new-1")]


@campaign.scenario(check=_check_subscribed_recreate)
def subscribed_group_across_a_topic_recreation(run):
    """A group member that committed offset 3 stays subscribed while its topic is deleted (its assignment
    empties) and created again: it is assigned the new partition and, the old offsets being deleted with
    the old topic, starts at ``auto.offset.reset`` (earliest): offset 0 of the new topic."""
    topic = run.topic(partitions=1)
    produce(run.kafka.Producer({}), topic, [(None, b"old-%d" % i) for i in range(3)])
    c = run.kafka.Consumer({"group.id": run.unique_name("group"), "auto.offset.reset": "earliest",
                            "enable.auto.commit": False, "topic.metadata.refresh.interval.ms": 1000})
    c.subscribe([topic])
    consume(c, 3, "the old records")
    c.commit(asynchronous=False)
    _delete_topic(run, topic)
    poll_group([c], lambda: not c.assignment(), "the assignment to empty")
    out = {"assignment_while_deleted": len(c.assignment())}
    _create_topic(run, topic)
    produce(run.kafka.Producer({}), topic, [(None, b"new-%d" % i) for i in range(2)])
    out["read"] = [(m.offset(), _text(m.value())) for m in consume(c, 2, "the new records")]
    out["assignment_after"] = len(c.assignment())
    c.close()
    return out
