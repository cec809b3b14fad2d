"""Client behaviour: the newer Producer / Consumer / Message methods, client lifecycles, events versus
records, positions and offsets lookups, as a confluent-kafka client observes them."""
from __future__ import annotations

import campaign
from differential_scenarios import MAX_POLLS, POLL_S, consume, error_code, produce

campaign.area(__name__, "Client methods, lifecycles, events and positions")

campaign.simplification(
    "Share groups (KIP-932): ``Message.delivery_count()``",
    "always ``None``, as confluent-kafka returns it for records of a normal consumer and delivery reports")
campaign.simplification(
    "SASL authentication: ``set_sasl_credentials()``",
    "checks its two ``str`` arguments and keeps them; simulated listeners are PLAINTEXT, so they are never used")
campaign.simplification(
    "``seek()`` of an unassigned partition: ``_STATE`` when librdkafka knows the partition, else "
    "``_UNKNOWN_PARTITION``",
    "``_STATE`` when a partition of the same topic is assigned, else ``_UNKNOWN_PARTITION``")
campaign.simplification(
    "``produce_batch()`` with a ``callback`` that is not callable",
    "the delivery report raises ``TypeError`` when served (confluent-kafka 2.16 raises ``SystemError`` there)")

_BASE64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# -- helpers -------------------------------------------------------------------------------------------------
def _outcome(call):
    """What one call observes: ``("ok", value)`` or the exception's type name and its error code name
    (``KafkaException``) or message (every other exception)."""
    try:
        value = call()
    except Exception as exc:  # noqa: BLE001 - the exception is the observation
        if type(exc).__name__ == "KafkaException":
            return ("KafkaException", exc.args[0].name())
        return (type(exc).__name__, str(exc))
    return ("ok", value)


def _kind(call):
    """Like :func:`_outcome` but only the exception's type (for messages that differ in wording)."""
    result = _outcome(call)
    return result[0] if result[0] != "KafkaException" else result


def _message_module(run):
    """The backend's ``Message`` class and ``TIMESTAMP_*`` constants."""
    if run.backend == "sim":
        from eventsim import message as mod
    else:
        import confluent_kafka as mod
    return mod


def _first(consumer, want=lambda m: True):
    """The first message or event ``poll`` returns for which ``want(msg)``, within a bounded wait."""
    for _ in range(MAX_POLLS):
        msg = consumer.poll(POLL_S)
        if msg is not None and want(msg):
            return msg
    raise AssertionError("no message or event came")


def _is_eof(run):
    return lambda m: m.error() is not None and m.error().code() == run.api.KafkaError._PARTITION_EOF


def _reader(run, **conf):
    return run.kafka.Consumer(dict({"group.id": run.unique_name("reader"), "enable.auto.commit": False,
                                    "auto.offset.reset": "earliest"}, **conf))


def _warm_producer(run, topic, conf=None):
    """A producer that has already delivered one record to ``topic`` (so it knows the topic's metadata)."""
    producer = run.kafka.Producer(dict(conf or {}))
    assert [r[0] for r in produce(producer, topic, [(None, b"warm-up", 0)])] == [None]
    return producer


def _committed_when_coordinator_ready(run, consumer, tps):
    """``committed()``, asked again while the group's coordinator is not ready (``NOT_COORDINATOR``,
    ``COORDINATOR_LOAD_IN_PROGRESS``: a cluster that just started is still creating ``__consumer_offsets``)."""
    for _ in range(100):
        try:
            return [tp.offset for tp in consumer.committed(tps, timeout=10)]
        except run.api.KafkaException as exc:
            if not exc.args[0].retriable() and exc.args[0].name() != "NOT_COORDINATOR":
                raise
        consumer.poll(POLL_S)
    raise AssertionError("the group coordinator never answered")


def _event_view(msg):
    """Every accessor of an event (``error()`` set) as a client sees it."""
    err = msg.error()
    return {"error": err.name(), "fatal": err.fatal(), "partition": msg.partition(), "offset": msg.offset(),
            "key": msg.key(), "value_is_error_string": msg.value() == err.str().encode(),
            "value_type": type(msg.value()).__name__, "len_is_value_len": len(msg) == len(msg.value() or b""),
            "timestamp": msg.timestamp(), "headers": msg.headers(), "latency": msg.latency(),
            "leader_epoch_type": type(msg.leader_epoch()).__name__}


# == the new methods ===========================================================================================
def _check_cluster_id(real):
    assert real["all_equal"] and real["type"] == "str" and real["length"] == 22 and real["base64url"]


@campaign.scenario(check=_check_cluster_id)
def cluster_id_of_producer_and_consumer(run):
    """``Producer.cluster_id()`` and ``Consumer.cluster_id()`` return the cluster id every metadata response
    carries (KIP-78): the same ``str`` as ``list_topics().cluster_id``, 22 characters of base64url (a UUID,
    as ``kafka-storage random-uuid`` prints it)."""
    producer = run.kafka.Producer({})
    consumer = run.kafka.Consumer({"group.id": run.unique_name("cid")})
    ids = [producer.cluster_id(10), consumer.cluster_id(timeout=10), producer.cluster_id(),
           run.admin().list_topics(timeout=10).cluster_id, producer.list_topics(timeout=10).cluster_id,
           consumer.list_topics(timeout=10).cluster_id]
    consumer.close()
    return {"all_equal": len(set(ids)) == 1, "type": type(ids[0]).__name__, "length": len(ids[0]),
            "base64url": set(ids[0]) <= _BASE64URL}


def _check_cluster_id_arguments(real):
    assert real["none"] == ("TypeError", "must be real number, not NoneType")
    assert real["closed_producer"] == real["closed_consumer"] == ("RuntimeError", "Handle has been closed")


@campaign.scenario(check=_check_cluster_id_arguments)
def cluster_id_argument_checks(run):
    """``cluster_id(timeout)`` takes a real number of seconds like every confluent-kafka timeout (``None`` or
    a ``str`` is a ``TypeError``, as are extra arguments); on a closed client it raises ``RuntimeError``."""
    producer = run.kafka.Producer({})
    consumer = run.kafka.Consumer({"group.id": run.unique_name("cid")})
    out = {"none": _outcome(lambda: producer.cluster_id(None)), "str": _outcome(lambda: consumer.cluster_id("1")),
           "two_args": _kind(lambda: producer.cluster_id(1, 2)), "bad_keyword": _kind(lambda: producer.cluster_id(x=1)),
           "bool": type(producer.cluster_id(True)).__name__,
           "zero_after_metadata": _kind(lambda: producer.cluster_id(0))}
    producer.close()
    consumer.close()
    out["closed_producer"] = _outcome(lambda: producer.cluster_id(1))
    out["closed_consumer"] = _outcome(lambda: consumer.cluster_id(1))
    return out


def _check_sasl(real):
    assert real["producer"]["ok"] == ("ok", None) and real["producer"]["keywords"] == ("ok", None)
    assert real["producer"]["int_username"] == ("TypeError", "argument 1 must be str, not int")
    assert real["closed"] == ("RuntimeError", "Handle has been closed")
    assert real["still_produces"] == [None]


@campaign.scenario(check=_check_sasl)
def set_sasl_credentials_checks(run):
    """``set_sasl_credentials(username, password)`` takes two ``str`` (positional or by keyword), returns
    ``None`` and changes nothing for a PLAINTEXT connection: the client keeps producing and consuming."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({})
    consumer = run.kafka.Consumer({"group.id": run.unique_name("sasl")})

    def checks(client):
        return {"ok": _outcome(lambda: client.set_sasl_credentials("user", "secret")),
                "keywords": _outcome(lambda: client.set_sasl_credentials(username="u", password="p")),
                "empty": _outcome(lambda: client.set_sasl_credentials("", "")),
                "int_username": _outcome(lambda: client.set_sasl_credentials(1, "p")),
                "bytes_password": _outcome(lambda: client.set_sasl_credentials("u", b"p")),
                "none": _outcome(lambda: client.set_sasl_credentials(None, None)),
                "one_argument": _kind(lambda: client.set_sasl_credentials("u")),
                "three_arguments": _kind(lambda: client.set_sasl_credentials("u", "p", "x"))}
    out = {"producer": checks(producer), "consumer": checks(consumer)}
    out["still_produces"] = [r[0] for r in produce(producer, topic, [(None, b"after-sasl")])]
    consumer.close()
    out["closed"] = _outcome(lambda: consumer.set_sasl_credentials("u", "p"))
    return out


def _check_produce_batch(real):
    assert real["returned"] == 6 and real["len_after"] == 6
    assert real["own_callback"] == [(None, "own")]
    assert sorted(v for _, v in real["batch_callback"]) == ["bytes", "keyed", "none-key", "str", "with-headers"]
    assert real["read_back_headers"] == [None] * 6
    assert real["partition_argument"]["returned"] == 2 and real["partition_argument"]["partitions"] == [1, 1]


@campaign.scenario(check=_check_produce_batch)
def produce_batch_queues_and_reports_each_message(run):
    """``produce_batch(topic, messages)`` queues a list of dicts and returns how many were queued; each
    message gets its own delivery report (its ``callback`` if it has one, else the batch's ``on_delivery``).
    Headers are dropped (librdkafka's batch API has none), and the batch ``partition`` overrides a message's
    own ``partition`` (``rd_kafka_produce_batch`` without ``RD_KAFKA_MSG_F_PARTITION``)."""
    topic = run.topic(partitions=3)
    producer = run.kafka.Producer({"linger.ms": 5})
    batch_reports, own_reports = [], []

    def on_batch(err, msg):
        batch_reports.append((error_code(err), msg.value().decode()))

    def on_own(err, msg):
        own_reports.append((error_code(err), msg.value().decode()))
    messages = [{"value": "str"}, {"value": b"bytes"}, {"value": "keyed", "key": "k"},
                {"value": b"none-key", "key": None}, {"value": "own", "callback": on_own},
                {"value": "with-headers", "headers": [("h", b"1")], "ignored-field": 1}]
    out = {"returned": producer.produce_batch(topic, messages, on_delivery=on_batch), "len_after": len(producer)}
    out["flush"] = producer.flush(30)
    out["batch_callback"], out["own_callback"] = sorted(batch_reports), own_reports
    out["dicts_unchanged"] = all("_error" not in m for m in messages)
    read = []
    consumer = _reader(run)
    consumer.assign([run.tp(topic, p, run.api.OFFSET_BEGINNING) for p in range(3)])
    for msg in consume(consumer, 6, "the batch's 6 records"):
        read.append((msg.value(), msg.headers()))
    consumer.close()
    out["read_back_values"] = sorted(v for v, _ in read)
    out["read_back_headers"] = [h for _, h in read]
    placed = []
    returned = producer.produce_batch(topic, [{"value": b"a"}, {"value": b"b", "partition": 0}], 1,
                                      lambda err, msg: placed.append(msg.partition()))
    producer.flush(30)
    out["partition_argument"] = {"returned": returned, "partitions": placed}
    return out


def _check_produce_batch_bad_entries(real):
    assert real["tuple"] == ("TypeError", "messages must be a list")
    assert real["not_a_dict"] == ("TypeError", "Message at index 1 must be a dict")
    assert real["timestamp"][0] == "NotImplementedError" and real["empty"] == ("ok", 0)
    assert set(real["queued_after_each"]) == {0}


@campaign.scenario(check=_check_produce_batch_bad_entries)
def produce_batch_refuses_bad_entries_at_the_call(run):
    """``produce_batch`` checks every entry before it queues any: a non-list, an entry that is not a dict, a
    value or key that is not ``bytes``/``str``, a non-int partition raise ``TypeError``; a timestamp is
    ``NotImplementedError``, headers it cannot parse ``ValueError``; and then nothing at all is queued."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({})
    ok = {"value": b"fine"}
    cases = {"tuple": lambda: producer.produce_batch(topic, (ok,)),
             "not_a_dict": lambda: producer.produce_batch(topic, [ok, "x"]),
             "int_value": lambda: producer.produce_batch(topic, [ok, {"value": 1}]),
             "bytearray_value": lambda: producer.produce_batch(topic, [{"value": bytearray(b"a")}]),
             "int_key": lambda: producer.produce_batch(topic, [{"key": 1}]),
             "str_partition": lambda: producer.produce_batch(topic, [{"value": b"a", "partition": "1"}]),
             "timestamp": lambda: producer.produce_batch(topic, [ok, {"value": b"a", "timestamp": 123}]),
             "bad_headers": lambda: producer.produce_batch(topic, [{"value": b"a", "headers": "x"}]),
             "bad_header_value": lambda: producer.produce_batch(topic, [{"value": b"a", "headers": [("h", 1)]}]),
             "int_topic": lambda: producer.produce_batch(1, [ok]),
             "none_partition": lambda: producer.produce_batch(topic, [ok], partition=None),
             "no_messages": lambda: producer.produce_batch(topic)}
    out, queued = {}, []
    for name, call in cases.items():
        out[name] = _outcome(call) if name != "no_messages" else _kind(call)
        queued.append(len(producer))
    out["queued_after_each"] = queued
    out["empty"] = _outcome(lambda: producer.produce_batch(topic, []))
    out["timestamp_none"] = _outcome(lambda: producer.produce_batch(topic, [{"value": b"a", "timestamp": None}]))
    out["keywords"] = _outcome(lambda: producer.produce_batch(topic=topic, messages=[{"value": b"kw"}]))
    out["flush"] = producer.flush(30)
    return out


def _check_produce_batch_errors(real):
    assert real["unknown_partition"]["returned"] == 0
    unknown = ("_UNKNOWN_PARTITION", "Message failed: Local: Unknown partition")
    assert real["unknown_partition"]["errors"] == [unknown] * 2
    assert real["too_large"]["returned"] == 2 and real["too_large"]["errors"] == [None, "MSG_SIZE_TOO_LARGE", None]
    assert real["too_large"]["reports"] == ["first", "third"]


@campaign.scenario(check=_check_produce_batch_errors)
def produce_batch_per_message_errors(run):
    """A message ``produce_batch`` cannot queue is not raised: its dict gets an ``_error`` key (a
    ``KafkaError``), it gets no delivery report, and the return value counts only the queued ones. A
    partition the topic does not have fails every message with ``_UNKNOWN_PARTITION``, a message over
    ``message.max.bytes`` fails alone with ``MSG_SIZE_TOO_LARGE``."""
    topic = run.topic(partitions=2)
    producer = _warm_producer(run, topic, {"message.max.bytes": 10000})
    reports = []

    def on_delivery(err, msg):
        reports.append(msg.value().decode())

    def errors(messages):
        return [(m["_error"].name(), m["_error"].str()) if "_error" in m else None for m in messages]
    out = {}
    for name, partition in (("unknown_partition", 7), ("negative_partition", -5)):
        messages = [{"value": b"a"}, {"value": b"b"}]
        returned = producer.produce_batch(topic, messages, partition=partition, on_delivery=on_delivery)
        out[name] = {"returned": returned, "errors": errors(messages), "len": len(producer),
                     "error_type": type(messages[0].get("_error")).__name__}
    messages = [{"value": b"first"}, {"value": b"x" * 20000}, {"value": b"third"}]
    returned = producer.produce_batch(topic, messages, on_delivery=on_delivery)
    out["too_large"] = {"returned": returned, "errors": [e and e[0] for e in errors(messages)], "len": len(producer)}
    producer.flush(30)
    out["too_large"]["reports"] = sorted(reports)
    return out


def _check_produce_batch_closed(real):
    assert real == {"empty": ("ok", 0), "one": ("RuntimeError", "Producer has been closed"),
                    "tuple": ("TypeError", "messages must be a list")}


@campaign.scenario(check=_check_produce_batch_closed)
def produce_batch_on_a_closed_producer(run):
    """On a closed producer, ``produce_batch`` with messages raises ``RuntimeError``; an empty list still
    returns 0 and a non-list is still a ``TypeError`` (both are checked before the handle)."""
    producer = run.kafka.Producer({})
    producer.close()
    return {"empty": _outcome(lambda: producer.produce_batch("t", [])),
            "one": _outcome(lambda: producer.produce_batch("t", [{"value": b"x"}])),
            "tuple": _outcome(lambda: producer.produce_batch("t", ()))}


def _check_message_methods(real):
    assert real["record"]["delivery_count"] is None and real["report"]["delivery_count"] is None
    assert real["record"]["same_objects"] == [True, True]
    assert real["set"]["returns"] == [None, None] and real["set"]["topic"] == "renamed"


@campaign.scenario(check=_check_message_methods)
def message_delivery_count_deserialized_and_setters(run):
    """``Message.delivery_count()`` is ``None`` outside a share group (records of a normal consumer and
    delivery reports); ``deserialized_key()``/``deserialized_value()`` return the very objects ``key()`` and
    ``value()`` return; ``set_topic``/``set_error`` return ``None``, take one positional argument of any
    type and change what ``topic()``/``error()`` return."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({})
    reports = []
    producer.produce(topic, key=b"k", value=b"v", on_delivery=lambda err, msg: reports.append(msg))
    producer.flush(30)
    consumer = _reader(run)
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
    (msg,) = consume(consumer, 1, "one record")
    consumer.close()
    report = reports[0]
    out = {"record": {"delivery_count": msg.delivery_count(),
                      "keys": (msg.deserialized_key(), msg.deserialized_value()),
                      "same_objects": [msg.deserialized_key() is msg.key(), msg.deserialized_value() is msg.value()]},
           "report": {"delivery_count": report.delivery_count(), "deserialized": (report.deserialized_key(),
                                                                                 report.deserialized_value())}}
    err = run.api.KafkaError(run.api.KafkaError._PARTITION_EOF)
    returns = [msg.set_topic("renamed"), msg.set_error(err)]
    out["set"] = {"returns": returns, "topic": msg.topic(), "error": msg.error().name(),
                  "int_topic": (msg.set_topic(7), msg.topic()), "none_error": (msg.set_error(None), msg.error()),
                  "str_error": (msg.set_error("oops"), msg.error()),
                  "no_argument": _kind(lambda: msg.set_topic()), "keyword": _kind(lambda: msg.set_error(value=None)),
                  "two_arguments": _kind(lambda: msg.set_topic("a", "b")),
                  "delivery_count_argument": _kind(lambda: msg.delivery_count(1))}
    value = {"already": "deserialized"}
    msg.set_value(value)
    out["set"]["deserialized_value_of_set_value"] = msg.deserialized_value() is value
    return out


# == client lifecycles =========================================================================================
_PRODUCER_CALLS = {
    "produce": lambda p, run: p.produce("t", b"x"),
    "produce_batch": lambda p, run: p.produce_batch("t", [{"value": b"x"}]),
    "poll": lambda p, run: p.poll(0),
    "flush": lambda p, run: p.flush(0),
    "purge": lambda p, run: p.purge(),
    "list_topics": lambda p, run: p.list_topics(timeout=1),
    "cluster_id": lambda p, run: p.cluster_id(1),
    "set_sasl_credentials": lambda p, run: p.set_sasl_credentials("u", "p"),
    "init_transactions": lambda p, run: p.init_transactions(1),
    "begin_transaction": lambda p, run: p.begin_transaction(),
    "commit_transaction": lambda p, run: p.commit_transaction(1),
    "abort_transaction": lambda p, run: p.abort_transaction(1),
}


def _check_closed_producer(real):
    assert real["close_again"] == ("ok", True) and real["len"] == ("ok", 0)
    assert real["calls"]["produce"] == ("RuntimeError", "Producer has been closed")
    assert all(kind == "RuntimeError" for kind, _ in real["calls"].values())


@campaign.scenario(check=_check_closed_producer)
def closed_producer_every_method(run):
    """After ``Producer.close()`` every public method raises ``RuntimeError`` (its message as confluent-kafka
    words it), ``close()`` again returns ``True`` and ``len(producer)`` is 0: ``close()`` flushed the records
    that were outstanding, and each got its delivery report."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({"linger.ms": 50})
    reports = []
    for i in range(3):
        producer.produce(topic, ("r%d" % i).encode(), on_delivery=lambda err, msg: reports.append(error_code(err)))
    out = {"len_before": len(producer), "close": _outcome(producer.close), "reports": reports}
    out["calls"] = {name: _outcome(lambda call=call: call(producer, run)) for name, call in _PRODUCER_CALLS.items()}
    out["send_offsets_to_transaction"] = _kind(lambda: producer.send_offsets_to_transaction([], None, 1))
    out["close_again"] = _outcome(producer.close)
    out["len"] = _outcome(lambda: len(producer))
    return out


def _consumer_calls(run, topic):
    tp = run.tp(topic, 0)
    return {
        "poll": lambda c: c.poll(0.1), "consume": lambda c: c.consume(1, 0.1),
        "subscribe": lambda c: c.subscribe([topic]), "unsubscribe": lambda c: c.unsubscribe(),
        "assign": lambda c: c.assign([tp]), "unassign": lambda c: c.unassign(),
        "incremental_assign": lambda c: c.incremental_assign([tp]),
        "incremental_unassign": lambda c: c.incremental_unassign([tp]),
        "assignment": lambda c: c.assignment(), "position": lambda c: c.position([tp]),
        "seek": lambda c: c.seek(run.tp(topic, 0, 0)), "pause": lambda c: c.pause([tp]),
        "resume": lambda c: c.resume([tp]), "commit": lambda c: c.commit(offsets=[run.tp(topic, 0, 1)]),
        "store_offsets": lambda c: c.store_offsets(offsets=[run.tp(topic, 0, 1)]),
        "committed": lambda c: c.committed([tp], timeout=1),
        "get_watermark_offsets": lambda c: c.get_watermark_offsets(tp, timeout=1),
        "offsets_for_times": lambda c: c.offsets_for_times([run.tp(topic, 0, 0)], timeout=1),
        "list_topics": lambda c: c.list_topics(timeout=1), "memberid": lambda c: c.memberid(),
        "consumer_group_metadata": lambda c: c.consumer_group_metadata(),
        "cluster_id": lambda c: c.cluster_id(1), "set_sasl_credentials": lambda c: c.set_sasl_credentials("u", "p"),
    }


def _check_closed_consumer(real):
    assert real["close_again"] == ("ok", None) and real["close"] == ("ok", None)
    assert real["calls"]["poll"] == ("RuntimeError", "Consumer closed")
    assert all(kind == "RuntimeError" for kind, _ in real["calls"].values())


@campaign.scenario(check=_check_closed_consumer)
def closed_consumer_every_method(run):
    """After ``Consumer.close()`` (which returns ``None``, also the second time) every public method raises
    ``RuntimeError``, ``poll`` and ``consume`` included."""
    topic = run.topic(partitions=1)
    consumer = run.kafka.Consumer({"group.id": run.unique_name("closed")})
    consumer.subscribe([topic])
    consumer.poll(0.1)
    out = {"close": _outcome(consumer.close)}
    calls = _consumer_calls(run, topic)
    out["calls"] = {name: _outcome(lambda call=call: call(consumer)) for name, call in calls.items()}
    out["close_again"] = _outcome(consumer.close)
    return out


def _check_context_managers(real):
    assert real["consumer_after"] == ("RuntimeError", "Consumer closed")
    assert real["producer_after"] == ("RuntimeError", "Producer has been closed")
    assert real["delivered_on_exit"] == [None] and real["enter_returns_self"] == [True, True]


@campaign.scenario(check=_check_context_managers)
def context_managers_close_the_clients(run):
    """``with Consumer(...)`` and ``with Producer(...)`` return the client itself and close it when the block
    ends; the producer flushes first (every delivery report is served), then every call raises
    ``RuntimeError`` and ``len(producer)`` is 0."""
    topic = run.topic(partitions=1)
    entered = []
    with run.kafka.Consumer({"group.id": run.unique_name("with")}) as consumer:
        entered.append(consumer.__enter__() is consumer)
        inside = consumer.assignment()
    reports = []
    with run.kafka.Producer({"linger.ms": 50}) as producer:
        entered.append(producer.__enter__() is producer)
        producer.produce(topic, b"in-with", on_delivery=lambda err, msg: reports.append(error_code(err)))
    return {"inside": inside, "consumer_after": _outcome(lambda: consumer.poll(0.1)),
            "enter_returns_self": entered, "delivered_on_exit": reports,
            "producer_after": _outcome(lambda: producer.produce(topic, b"late")), "len": len(producer)}


# == events versus records =====================================================================================
def _check_eof_event(real):
    eof = real["eof"]
    assert eof["error"] == "_PARTITION_EOF" and eof["offset"] == 3 and eof["partition"] == 0
    assert eof["value_is_error_string"] and eof["timestamp"] == (0, -1) and eof["latency"] is None


@campaign.scenario(check=_check_eof_event)
def partition_eof_event_accessors(run):
    """A ``_PARTITION_EOF`` event (``enable.partition.eof=true``) carries the partition and, as its offset,
    the end it reached; its ``value()`` is the error string, its timestamp ``(TIMESTAMP_NOT_AVAILABLE, -1)``,
    it has no key, headers or latency, but the leader epoch of the fetch."""
    topic = run.topic(partitions=1)
    produce(run.kafka.Producer({}), topic, [(None, b"r%d" % i) for i in range(3)])
    consumer = _reader(run, **{"enable.partition.eof": True})
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
    eof = _first(consumer, _is_eof(run))
    out = {"eof": _event_view(eof), "topic_is_ours": eof.topic() == topic,
           "leader_epoch": eof.leader_epoch()}
    consumer.close()
    return out


def _check_eof_repeats(real):
    assert real["with_eof"] == ["r0", "r1", ("EOF", 2), "r2", ("EOF", 3)]
    assert real["without_eof"] == ["r0", "r1", "r2"]


@campaign.scenario(check=_check_eof_repeats)
def partition_eof_once_per_end_reached(run):
    """``enable.partition.eof=true``: one EOF event each time the consumer reaches the end, none while it
    waits there, another after new records were read; without it (the default) no EOF event at all."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({})
    produce(producer, topic, [(None, b"r0"), (None, b"r1")])
    out = {}
    for label, eof in (("with_eof", True), ("without_eof", False)):
        consumer = _reader(run, **{"enable.partition.eof": eof})
        consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
        seen = []
        for _ in range(2 if eof else 0):
            seen.append(_first(consumer, lambda m: m.error() is None).value().decode())
        while eof and len(seen) < 3:
            seen.append(("EOF", _first(consumer).offset()))
        out[label] = seen
        out[label + "_consumer"] = consumer
    produce(producer, topic, [(None, b"r2")])
    for label, eof in (("with_eof", True), ("without_eof", False)):
        consumer = out.pop(label + "_consumer")
        got = []
        for _ in range(30):
            msg = consumer.poll(POLL_S)
            if msg is not None:
                got.append(msg.value().decode() if msg.error() is None else ("EOF", msg.offset()))
            if got and got[-1] == ("EOF", 3):
                break
            if not eof and len(got) == 3:
                break
        out[label] += [g for g in got if eof or g not in out[label]]
        consumer.close()
    return out


def _check_unknown_topic_event(real):
    event = real["event"]
    assert event["error"] == "UNKNOWN_TOPIC_OR_PART" and event["offset"] is None and not event["fatal"]
    assert real["topic_is_the_missing_one"] and real["more_events"] == 0


@campaign.scenario(check=_check_unknown_topic_event)
def poll_of_a_subscription_to_a_missing_topic(run):
    """Subscribing to a topic that does not exist: ``poll`` returns one ``UNKNOWN_TOPIC_OR_PART`` event
    naming it (not fatal, no offset, the reason as its value), then nothing while the topic stays missing
    (librdkafka reports it again only at a metadata refresh, ``topic.metadata.refresh.interval.ms``)."""
    missing = run.unique_name("missing")
    consumer = run.kafka.Consumer({"group.id": run.unique_name("missing"), "enable.partition.eof": True})
    consumer.subscribe([missing])
    event = _first(consumer)
    more = [consumer.poll(POLL_S) for _ in range(20)]
    consumer.close()
    return {"event": _event_view(event), "topic_is_the_missing_one": event.topic() == missing,
            "more_events": len([m for m in more if m is not None])}


def _check_timestamps(real):
    assert real["constants"] == [0, 1, 2]
    assert real["explicit"] == {"report": (1, 1000), "record": (1, 1000)}
    assert real["default"]["report_type"] == real["default"]["record_type"] == 1
    assert real["log_append"]["report_type"] == real["log_append"]["record_type"] == 2
    assert real["log_append"]["report_equals_record"] and not real["log_append"]["kept_producer_timestamp"]


@campaign.scenario(check=_check_timestamps)
def timestamps_create_time_and_log_append_time(run):
    """``Message.timestamp()`` is ``(type, ms)`` of ``int``: ``TIMESTAMP_CREATE_TIME`` with the producer's
    timestamp (an explicit one kept exactly), or, on a topic with ``message.timestamp.type=LogAppendTime``,
    ``TIMESTAMP_LOG_APPEND_TIME`` with the broker's time, the same in the delivery report and the record."""
    mod = _message_module(run)
    create = run.topic(partitions=1)
    append = run.topic(partitions=1, config={"message.timestamp.type": "LogAppendTime"})
    producer = run.kafka.Producer({})
    reports = {}

    def on_delivery(err, msg):
        reports[msg.value()] = msg.timestamp()
    producer.produce(create, b"explicit", timestamp=1000, on_delivery=on_delivery)
    producer.produce(create, b"default", on_delivery=on_delivery)
    producer.produce(append, b"append", timestamp=1000, on_delivery=on_delivery)
    producer.flush(30)
    consumer = _reader(run)
    consumer.assign([run.tp(create, 0, run.api.OFFSET_BEGINNING), run.tp(append, 0, run.api.OFFSET_BEGINNING)])
    records = {m.value(): m.timestamp() for m in consume(consumer, 3, "3 records")}
    consumer.close()
    default_report, default_record = reports[b"default"], records[b"default"]
    return {"constants": [mod.TIMESTAMP_NOT_AVAILABLE, mod.TIMESTAMP_CREATE_TIME, mod.TIMESTAMP_LOG_APPEND_TIME],
            "explicit": {"report": reports[b"explicit"], "record": records[b"explicit"]},
            "default": {"report_type": default_report[0], "record_type": default_record[0],
                        "types": [type(x).__name__ for x in default_record], "equal": default_report == default_record,
                        "not_negative": default_record[1] >= 0},
            "log_append": {"report_type": reports[b"append"][0], "record_type": records[b"append"][0],
                           "report_equals_record": reports[b"append"] == records[b"append"],
                           "kept_producer_timestamp": records[b"append"][1] == 1000}}


def _check_headers(real):
    assert real["records"]["dup"] == [("a", b"1"), ("a", b"2"), ("n", None), ("s", b"str")]
    assert real["records"]["empty"] is None and real["records"]["none"] is None
    assert real["reports"] == {"dup": None, "dict": None, "empty": None, "none": None}


@campaign.scenario(check=_check_headers)
def headers_round_trip(run):
    """Headers come back as a list of ``(str, bytes | None)`` in the order produced, duplicate keys kept, a
    ``None`` value kept, a ``str`` value as UTF-8 bytes, a dict as its items; no headers (or an empty list)
    read back as ``None``. Delivery reports carry no headers (``headers()`` is ``None``)."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({})
    reports = {}
    rows = {"dup": [("a", b"1"), ("a", b"2"), ("n", None), ("s", "str")], "dict": {"x": b"y", "z": None},
            "empty": [], "none": None}
    for name, headers in rows.items():
        producer.produce(topic, name.encode(), headers=headers,
                         on_delivery=lambda err, msg: reports.__setitem__(msg.value().decode(), msg.headers()))
    producer.flush(30)
    consumer = _reader(run)
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
    records = {m.value().decode(): m.headers() for m in consume(consumer, 4, "4 records")}
    consumer.close()
    return {"records": records, "reports": reports}


def _check_latency(real):
    assert real["report"] == {"latency": "float", "not_negative": True, "leader_epoch": None}
    assert real["record"] == {"latency": None, "leader_epoch": "int", "epoch_not_negative": True}
    assert real["failed_report"]["latency"] == "float" and real["failed_report"]["offset"] is None


@campaign.scenario(check=_check_latency)
def latency_and_leader_epoch(run):
    """``latency()`` is the float seconds from ``produce()`` to the delivery report, also for a failed
    delivery; a consumed record has none. ``leader_epoch()`` is the ``int`` epoch of the leader that wrote a
    consumed record, ``None`` in a delivery report. A failed report has no offset and, without a partition
    chosen, none either (``None``), and the timestamp ``(TIMESTAMP_NOT_AVAILABLE, -1)``."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({"topic.metadata.propagation.max.ms": 1000})
    reports = []
    producer.produce(topic, b"ok", on_delivery=lambda err, msg: reports.append(msg))
    producer.produce(run.unique_name("missing"), b"lost", on_delivery=lambda err, msg: reports.append(msg))
    producer.flush(30)
    good, failed = sorted(reports, key=lambda m: m.error() is not None)
    consumer = _reader(run)
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
    (record,) = consume(consumer, 1, "one record")
    consumer.close()
    return {"report": {"latency": type(good.latency()).__name__, "not_negative": good.latency() >= 0,
                       "leader_epoch": good.leader_epoch()},
            "record": {"latency": record.latency(), "leader_epoch": type(record.leader_epoch()).__name__,
                       "epoch_not_negative": record.leader_epoch() >= 0},
            "failed_report": {"error": failed.error().name(), "latency": type(failed.latency()).__name__,
                              "offset": failed.offset(), "partition": failed.partition(),
                              "timestamp": failed.timestamp(), "leader_epoch": failed.leader_epoch(),
                              "value": failed.value()}}


# == seeks and positions =======================================================================================
def _positions(consumer, run, topic, n):
    return [tp.offset for tp in consumer.position([run.tp(topic, p) for p in range(n)])]


def _check_positions_after_assign(real):
    assert real["before_fetch"] == [-1001] * 4
    assert real["after_reading"] == [1, 7, 3, 1] and real["epochs"] == ["int"] * 4


@campaign.scenario(check=_check_positions_after_assign)
def position_after_assign_and_after_reading(run):
    """``position()`` right after ``assign`` (any start: ``OFFSET_BEGINNING``, ``OFFSET_END``, the committed
    offset, or an absolute offset) is ``OFFSET_INVALID`` (-1001) until a record was handed out; then it is
    that record's offset + 1, with its leader epoch. ``OFFSET_END`` resolves at the first fetch."""
    topic = run.topic(partitions=4)
    producer = run.kafka.Producer({})
    produce(producer, topic, [(None, b"p%d-%d" % (p, i), p) for p in range(4) for i in range(6)])
    group = run.unique_name("pos")
    committer = run.kafka.Consumer({"group.id": group, "enable.auto.commit": False})
    committer.commit(offsets=[run.tp(topic, 2, 2)], asynchronous=False)
    committer.close()
    consumer = run.kafka.Consumer({"group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest",
                                   "enable.partition.eof": True})
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING), run.tp(topic, 1, run.api.OFFSET_END),
                     run.tp(topic, 2), run.tp(topic, 3, 0)])
    out = {"before_fetch": _positions(consumer, run, topic, 4)}
    first = {}
    for _ in range(MAX_POLLS):
        msg = consumer.poll(POLL_S)
        if msg is None or msg.partition() in first:
            continue
        if msg.error() is None or msg.partition() == 1:      # partition 1 starts at its end: EOF first
            first[msg.partition()] = msg.offset() if msg.error() is None else ("EOF", msg.offset())
            if msg.partition() != 1:
                consumer.pause([run.tp(topic, msg.partition())])
        if len(first) == 4:
            break
    out["first"] = [first.get(p) for p in range(4)]
    out["at_end_before_a_record"] = _positions(consumer, run, topic, 4)[1]
    produce(producer, topic, [(None, b"late", 1)])
    out["late"] = consume(consumer, 1, "the late record")[0].offset()
    positions = consumer.position([run.tp(topic, p) for p in range(4)])
    out["after_reading"] = [tp.offset for tp in positions]
    out["epochs"] = [type(tp.leader_epoch).__name__ for tp in positions]
    consumer.close()
    return out


def _check_seek(real):
    assert real["after_seek"] == [-1001] and real["next"] == 4 and real["after_next"] == [5]
    assert real["seek_other_partition"] == ("KafkaException", "_STATE")
    assert real["seek_unknown_topic"] == ("KafkaException", "_UNKNOWN_PARTITION")


@campaign.scenario(check=_check_seek)
def position_after_seek(run):
    """``seek()`` makes ``position()`` ``OFFSET_INVALID`` until the next record is handed out (librdkafka
    forgets the application position); the next record is the offset sought, also for ``OFFSET_BEGINNING``.
    Seeking an unassigned partition of a topic the consumer reads is ``_STATE``, of any other topic
    ``_UNKNOWN_PARTITION``."""
    topic = run.topic(partitions=2)
    produce(run.kafka.Producer({}), topic, [(None, b"r%d" % i, 0) for i in range(8)])
    consumer = _reader(run)
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
    consume(consumer, 2, "two records")
    out = {"seek_returns": consumer.seek(run.tp(topic, 0, 4))}
    out["after_seek"] = _positions(consumer, run, topic, 1)
    out["next"] = consume(consumer, 1, "the record after the seek")[0].offset()
    out["after_next"] = _positions(consumer, run, topic, 1)
    consumer.seek(run.tp(topic, 0, run.api.OFFSET_BEGINNING))
    out["after_seek_beginning"] = _positions(consumer, run, topic, 1)
    out["next_after_beginning"] = consume(consumer, 1, "the first record again")[0].offset()
    out["seek_other_partition"] = _outcome(lambda: consumer.seek(run.tp(topic, 1, 0)))
    out["seek_unknown_topic"] = _outcome(lambda: consumer.seek(run.tp(run.unique_name("other"), 0, 0)))
    out["position_unassigned"] = _positions(consumer, run, topic, 2)[1]
    consumer.close()
    return out


def _check_committed(real):
    assert real["offsets"] == [-1001, -1001] and real["errors"] == [None, None]


@campaign.scenario(check=_check_committed)
def committed_of_never_committed_partitions(run):
    """``committed()`` of partitions the group never committed returns them with ``OFFSET_INVALID`` (-1001)
    and no error, also before the consumer has any assignment."""
    topic = run.topic(partitions=2)
    consumer = run.kafka.Consumer({"group.id": run.unique_name("never")})
    result = consumer.committed([run.tp(topic, 0), run.tp(topic, 1)], timeout=10)
    consumer.close()
    return {"offsets": [tp.offset for tp in result], "errors": [tp.error for tp in result],
            "partitions": [(tp.topic == topic, tp.partition) for tp in result]}


def _check_store_offsets(real):
    assert real["commit_nothing_stored"] == ("KafkaException", "_NO_OFFSET")
    assert real["committed_after_store"] == [2] and real["stored_by_offsets"] == [5]
    assert real["auto_store_on"] == ("KafkaException", "_INVALID_ARG")


@campaign.scenario(check=_check_store_offsets)
def store_offsets_with_auto_offset_store_off(run):
    """With ``enable.auto.offset.store=false`` ``poll`` stores nothing: ``commit()`` has ``_NO_OFFSET``
    until ``store_offsets(message)`` stored ``offset + 1`` (or ``store_offsets(offsets=...)`` the offset
    given); with the default (on), ``store_offsets`` is ``_INVALID_ARG``."""
    topic = run.topic(partitions=2)
    produce(run.kafka.Producer({}), topic, [(None, b"r%d" % i, 0) for i in range(4)])
    group = run.unique_name("store")
    consumer = _reader(run, **{"group.id": group, "enable.auto.offset.store": False})
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
    msgs = consume(consumer, 2, "two records")
    out = {"commit_nothing_stored": _outcome(lambda: consumer.commit(asynchronous=False))}
    out["store"] = _outcome(lambda: consumer.store_offsets(message=msgs[1]))
    consumer.commit(asynchronous=False)
    out["committed_after_store"] = [tp.offset for tp in consumer.committed([run.tp(topic, 0)], timeout=10)]
    consumer.store_offsets(offsets=[run.tp(topic, 0, 5)])
    consumer.commit(asynchronous=False)
    out["stored_by_offsets"] = [tp.offset for tp in consumer.committed([run.tp(topic, 0)], timeout=10)]
    out["both_arguments"] = _kind(lambda: consumer.store_offsets(message=msgs[0], offsets=[run.tp(topic, 0, 1)]))
    out["unassigned_partition"] = _outcome(lambda: consumer.store_offsets(offsets=[run.tp(topic, 1, 1)]))
    out["no_arguments"] = _kind(lambda: consumer.store_offsets())
    consumer.close()
    auto = _reader(run)
    auto.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
    first = consume(auto, 1, "one record")[0]
    out["auto_store_on"] = _outcome(lambda: auto.store_offsets(message=first))
    auto.close()
    return out


def _check_offsets_for_times(real):
    assert real["offsets"] == {"before_first": 0, "exact_second": 1, "between": 2, "last": 2, "after_last": -1,
                               "latest": 3, "earliest": 0}
    assert set(real["errors"]) == {None}
    assert real["duplicates"] == [3, 3] and real["duplicates_reversed"] == [1, 1]


@campaign.scenario(check=_check_offsets_for_times)
def offsets_for_times_edges(run):
    """``offsets_for_times``: the first offset whose timestamp is at or after the one asked (a timestamp
    before the first record gives offset 0), -1 (``OFFSET_END``) after the last record, and the logical
    timestamps -1 (latest: the high watermark) and -2 (earliest: the log start offset). A partition listed
    twice in one call is one ListOffsets entry: the timestamp listed last answers both places."""
    base = run.clock_ms()            # the records are stamped 1, 2 and 3 s after the backend's clock now
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({})
    for ts in (1000, 2000, 3000):
        producer.produce(topic, b"t%d" % ts, timestamp=base + ts)
    producer.flush(30)
    consumer = run.kafka.Consumer({"group.id": run.unique_name("times")})
    # Right after the writes a Kafka 4.4 broker under load may answer a timestamp lookup with -1 for a
    # moment (the segment's largest timestamp is not visible yet): wait until the last record is found.
    for _ in range(MAX_POLLS):
        if consumer.offsets_for_times([run.tp(topic, 0, base + 3000)], timeout=10)[0].offset == 2:
            break
        consumer.poll(POLL_S)
    asks = {"before_first": base + 10, "exact_second": base + 2000, "between": base + 2500, "last": base + 3000,
            "after_last": base + 99999, "latest": -1, "earliest": -2}
    results = {name: consumer.offsets_for_times([run.tp(topic, 0, ts)], timeout=10)[0] for name, ts in asks.items()}
    out = {"offsets": {name: tp.offset for name, tp in results.items()},
           "errors": [tp.error for tp in results.values()],
           "types": sorted({type(tp.offset).__name__ for tp in results.values()})}
    for name, pair in (("duplicates", (base + 2000, -1)), ("duplicates_reversed", (-1, base + 2000))):
        out[name] = [tp.offset for tp in consumer.offsets_for_times([run.tp(topic, 0, ts) for ts in pair], timeout=10)]
    consumer.close()
    return out


def _check_watermarks(real):
    assert real["fresh_cached"] == (-1001, -1001) and real["queried"] == (0, 5)
    assert real["cached_after_fetch"] == (0, 5)


@campaign.scenario(check=_check_watermarks)
def watermarks_cached_and_queried(run):
    """``get_watermark_offsets(cached=True)`` answers from the last fetch (``OFFSET_INVALID`` before any),
    ``cached=False`` asks the leader: both give ``(log start, high watermark)`` once the consumer fetched."""
    topic = run.topic(partitions=1)
    produce(run.kafka.Producer({}), topic, [(None, b"r%d" % i) for i in range(5)])
    consumer = _reader(run, **{"enable.partition.eof": True})
    tp = run.tp(topic, 0)
    out = {"fresh_cached": tuple(consumer.get_watermark_offsets(tp, cached=True))}
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
    out["assigned_cached"] = tuple(consumer.get_watermark_offsets(tp, cached=True))
    out["queried"] = tuple(consumer.get_watermark_offsets(tp, timeout=10, cached=False))
    _first(consumer, _is_eof(run))
    out["cached_after_fetch"] = tuple(consumer.get_watermark_offsets(tp, cached=True))
    out["types"] = [type(x).__name__ for x in out["queried"]]
    consumer.close()
    return out


def _check_pause_resume(real):
    assert real["paused_records"] == [] and real["assignment_kept"]
    assert real["after_resume"] == ["p0-2", "p0-3"] and real["returns"] == [None, None]
    assert real["position_while_paused"] == [2]


@campaign.scenario(check=_check_pause_resume)
def pause_and_resume(run):
    """``pause()`` stops handing out a partition's records (it stays assigned, its position kept);
    ``resume()`` continues from that position. Both return ``None``."""
    topic = run.topic(partitions=2)
    produce(run.kafka.Producer({}), topic, [(None, b"p%d-%d" % (p, i), p) for p in range(2) for i in range(4)])
    consumer = _reader(run)
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING), run.tp(topic, 1, run.api.OFFSET_BEGINNING)])
    seen = set()
    while ("p0-1" not in seen) and len(seen) < 8:
        seen.add(_first(consumer, lambda m: m.error() is None).value().decode())
    returns = [consumer.pause([run.tp(topic, 0)])]
    paused = []
    for _ in range(MAX_POLLS):
        if all("p1-%d" % i in seen for i in range(4)):
            break
        msg = consumer.poll(POLL_S)
        if msg is not None and msg.error() is None:
            seen.add(msg.value().decode())
            if msg.partition() == 0:
                paused.append(msg.value().decode())
    for _ in range(5):
        msg = consumer.poll(POLL_S)
        if msg is not None and msg.error() is None and msg.partition() == 0:
            paused.append(msg.value().decode())
    out = {"paused_records": paused, "seen_before_pause_p0": sorted(v for v in seen if v.startswith("p0")),
           "assignment_kept": sorted(tp.partition for tp in consumer.assignment()) == [0, 1],
           "position_while_paused": _positions(consumer, run, topic, 1)}
    returns.append(consumer.resume([run.tp(topic, 0)]))
    out["after_resume"] = sorted(m.value().decode() for m in consume(consumer, 2, "the resumed records"))
    out["returns"] = returns
    consumer.close()
    return out


def _check_memberid(real):
    assert real["before_subscribe"] is None and real["assign_only"] is None
    assert real["joined"] == ("str", True) and real["after_unsubscribe"] == (False, True)


@campaign.scenario(check=_check_memberid)
def memberid_through_a_consumer_lifecycle(run):
    """``memberid()`` is ``None`` before the consumer joined a group (and for a consumer that only assigns),
    a non-empty ``str`` the coordinator gave it once it joined, ``None`` again after ``unsubscribe()`` (the
    member left the group); after ``close()`` it raises ``RuntimeError``."""
    topic = run.topic(partitions=1)
    member = run.kafka.Consumer({"group.id": run.unique_name("member")})
    out = {"before_subscribe": member.memberid()}
    member.subscribe([topic])
    for _ in range(MAX_POLLS):
        member.poll(POLL_S)
        if member.assignment():
            break
    mid = member.memberid()
    out["joined"] = (type(mid).__name__, bool(mid))
    out["metadata_object"] = member.consumer_group_metadata() is not None
    member.unsubscribe()
    for _ in range(10):
        member.poll(POLL_S)
    out["after_unsubscribe"] = member.memberid() == mid, member.memberid() is None
    member.close()
    out["closed"] = _outcome(member.memberid)
    loner = run.kafka.Consumer({"group.id": run.unique_name("loner")})
    loner.assign([run.tp(topic, 0, 0)])
    loner.poll(0.5)
    out["assign_only"] = loner.memberid()
    loner.close()
    return out


def _check_group_metadata(real):
    assert real["usable"] == [None] and real["closed"] == ("RuntimeError", "Consumer closed")


@campaign.scenario(check=_check_group_metadata)
def consumer_group_metadata_for_transactions(run):
    """``consumer_group_metadata()`` returns an opaque object a transactional producer accepts in
    ``send_offsets_to_transaction`` (which then commits the offsets with the transaction); on a closed
    consumer it raises ``RuntimeError``."""
    source = run.topic(partitions=1)
    produce(run.kafka.Producer({}), source, [(None, b"in")])
    group = run.unique_name("cgm")
    consumer = _reader(run, **{"group.id": group})
    consumer.subscribe([source])
    consume(consumer, 1, "one record")
    metadata = consumer.consumer_group_metadata()
    producer = run.kafka.Producer({"transactional.id": run.unique_name("txn")})
    producer.init_transactions(30)
    producer.begin_transaction()
    out = {"usable": [producer.send_offsets_to_transaction([run.tp(source, 0, 1)], metadata, 30)]}
    producer.commit_transaction(30)
    out["committed"] = [tp.offset for tp in consumer.committed([run.tp(source, 0)], timeout=10)]
    out["is_not_none"] = metadata is not None
    consumer.close()
    out["closed"] = _outcome(consumer.consumer_group_metadata)
    return out


# == more produce_batch and events =============================================================================
def _check_produce_batch_missing_and_txn(real):
    assert real["missing_first"] == {"returned": 2, "errors": [None, None]}
    assert real["missing_reports"] == [("UNKNOWN_TOPIC_OR_PART", None, None)] * 2
    assert real["missing_again"] == {"returned": 0, "errors": ["_UNKNOWN_TOPIC"] * 2}
    assert real["txn_ready"] == {"returned": 0, "errors": ["_STATE"]}
    assert real["txn_open"] == {"returned": 1, "errors": [None]}


@campaign.scenario(check=_check_produce_batch_missing_and_txn)
def produce_batch_missing_topic_and_transactions(run):
    """``produce_batch`` to a topic nobody created queues the messages, whose delivery reports say
    ``UNKNOWN_TOPIC_OR_PART`` after ``topic.metadata.propagation.max.ms``; once the producer knows the topic
    is missing, each message's dict gets ``_UNKNOWN_TOPIC``. A transactional producer outside a transaction
    marks every message ``_STATE`` (where ``produce()`` raises it); inside one it queues them."""
    def attempt(producer, topic, **kwargs):
        messages = [{"value": b"a"}, {"value": b"b"}][:kwargs.pop("n", 2)]
        returned = producer.produce_batch(topic, messages, **kwargs)
        return {"returned": returned, "errors": [m["_error"].name() if "_error" in m else None for m in messages]}
    missing = run.unique_name("missing")
    producer = run.kafka.Producer({"topic.metadata.propagation.max.ms": 1000})
    reports = []
    out = {"missing_first": attempt(producer, missing, on_delivery=lambda err, msg: reports.append(
        (error_code(err) and err.name(), msg.partition(), msg.offset())))}
    producer.flush(30)
    out["missing_reports"] = reports
    out["missing_again"] = attempt(producer, missing)
    topic = run.topic(partitions=1)
    txn = run.kafka.Producer({"transactional.id": run.unique_name("txn")})
    txn.init_transactions(30)
    out["txn_ready"] = attempt(txn, topic, n=1)
    out["produce_ready"] = _outcome(lambda: txn.produce(topic, b"x"))
    txn.begin_transaction()
    out["txn_open"] = attempt(txn, topic, n=1)
    txn.commit_transaction(30)
    return out


def _check_auto_offset_reset_event(real):
    assert real["event"]["error"] == "_AUTO_OFFSET_RESET" and real["event"]["value_is_error_string"]
    assert real["event"]["timestamp"] == (0, -1) and real["topic_is_ours"]
    assert real["seek"] == ("KafkaException", "_STATE") and real["after_assign"] == b"r1"


@campaign.scenario(check=_check_auto_offset_reset_event)
def auto_offset_reset_error_event_accessors(run):
    """With ``auto.offset.reset=error`` and no committed offset, ``poll`` returns an ``_AUTO_OFFSET_RESET``
    event for the partition: its error string as ``value()``, no timestamp, no key. The partition is then in
    an error state: nothing more comes from it, ``seek`` is refused with ``_STATE``, a new ``assign`` with
    an offset starts it again."""
    topic = run.topic(partitions=1)
    produce(run.kafka.Producer({}), topic, [(None, b"r0"), (None, b"r1")])
    consumer = run.kafka.Consumer({"group.id": run.unique_name("reset"), "auto.offset.reset": "error"})
    out = {"committed": _committed_when_coordinator_ready(run, consumer, [run.tp(topic, 0)])}
    consumer.assign([run.tp(topic, 0)])
    event = _first(consumer)
    view = _event_view(event)
    view.pop("leader_epoch_type")
    out.update({"event": view, "topic_is_ours": event.topic() == topic,
                "then": [m for m in (consumer.poll(POLL_S) for _ in range(10)) if m is not None]})
    out["seek"] = _outcome(lambda: consumer.seek(run.tp(topic, 0, 1)))
    consumer.assign([run.tp(topic, 0, 1)])
    out["after_assign"] = consume(consumer, 1, "the record after a new assign")[0].value()
    consumer.close()
    return out


def _check_acks0_report(real):
    assert real == {"error": None, "offset": None, "partition": 0, "timestamp_type": 1, "latency": "float"}


@campaign.scenario(check=_check_acks0_report)
def delivery_report_with_acks_0(run):
    """With ``acks=0`` the broker answers nothing: the delivery report has no error and no offset
    (``offset()`` is ``None``), but the partition, the create time and a latency."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({"acks": 0})
    reports = []
    producer.produce(topic, b"fire-and-forget", on_delivery=lambda err, msg: reports.append((err, msg)))
    producer.flush(30)
    ((err, msg),) = reports
    return {"error": err, "offset": msg.offset(), "partition": msg.partition(), "timestamp_type": msg.timestamp()[0],
            "latency": type(msg.latency()).__name__}


def _check_events_in_batches(real):
    assert real["batch"] == ["r0", "r1", "r2", ("_PARTITION_EOF", 3)]
    assert real["store_event"] == real["commit_event"] == ("KafkaException", "_INVALID_ARG")


@campaign.scenario(check=_check_events_in_batches)
def events_in_consume_batches_and_commits_of_events(run):
    """``consume(n, timeout)`` returns events in its list, in order with the records (here the three records
    and then the ``_PARTITION_EOF``); an event cannot be committed or stored as a message (it has no offset
    of a record to commit past)."""
    topic = run.topic(partitions=1)
    produce(run.kafka.Producer({}), topic, [(None, b"r%d" % i) for i in range(3)])
    consumer = _reader(run, **{"enable.partition.eof": True, "enable.auto.offset.store": False})
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
    got = []
    for _ in range(50):
        got += consumer.consume(10, 0.5)
        if got and got[-1].error() is not None:
            break
    batch = [m.value().decode() if m.error() is None else (m.error().name(), m.offset()) for m in got]
    eof = got[-1]
    out = {"batch": batch, "store_event": _outcome(lambda: consumer.store_offsets(message=eof)),
           "commit_event": _outcome(lambda: consumer.commit(message=eof, asynchronous=False))}
    consumer.close()
    return out


def _listed(call):
    """:func:`_outcome` of a call returning TopicPartitions: ``(partition, offset, error name)`` of each."""
    result = _outcome(call)
    if result[0] != "ok":
        return result
    return ("ok", [(r.partition, r.offset, r.error and r.error.name()) for r in result[1]])


def _check_lookups_of_a_missing_topic(real):
    assert real["committed"] == [-1001]
    assert real["watermarks"] == real["offsets_for_times"] == ("KafkaException", "_UNKNOWN_PARTITION")


@campaign.scenario(check=_check_lookups_of_a_missing_topic)
def offset_lookups_of_a_missing_topic(run):
    """Offset lookups for a topic that does not exist (or a partition it does not have):
    ``get_watermark_offsets`` and ``offsets_for_times`` raise ``_UNKNOWN_PARTITION`` (librdkafka finds no
    leader to ask), while ``committed()`` answers ``OFFSET_INVALID`` (the group has nothing committed)."""
    missing = run.unique_name("missing")
    consumer = run.kafka.Consumer({"group.id": run.unique_name("lookups")})
    tp = run.tp(missing, 0)
    out = {"watermarks": _outcome(lambda: consumer.get_watermark_offsets(tp, timeout=5)),
           "cached": _outcome(lambda: consumer.get_watermark_offsets(tp, cached=True))}
    out["offsets_for_times"] = _listed(lambda: consumer.offsets_for_times([run.tp(missing, 0, 1000)], timeout=5))
    out["committed"] = _committed_when_coordinator_ready(run, consumer, [tp])
    topic = run.topic(partitions=1)
    out["missing_partition"] = {
        "watermarks": _outcome(lambda: consumer.get_watermark_offsets(run.tp(topic, 3), timeout=5)),
        "offsets_for_times": _kind(lambda: consumer.offsets_for_times([run.tp(topic, 3, 1000)], timeout=5)),
        "mixed": _listed(lambda: consumer.offsets_for_times([run.tp(topic, 0, 0), run.tp(topic, 3, 0)], timeout=5))}
    consumer.close()
    return out
