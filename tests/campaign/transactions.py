"""Transactions end to end: markers and the offsets they take, what consumers and their groups see after
transactional input, the last stable offset, transactional offset commits, and every transactional call in
the wrong state (which error, and whether it is retriable, fatal or requires an abort)."""
from __future__ import annotations

import campaign
from differential_scenarios import MAX_POLLS, POLL_S, _text, consume, produce, read_partitions

campaign.area(__name__, "Transactions")

TXN_TIMEOUT_S = 60


# -- helpers ------------------------------------------------------------------------------------------------
def _txn_producer(run, extra=None):
    conf = {"transactional.id": run.unique_name("txn")}
    conf.update(extra or {})
    return run.kafka.Producer(conf)


def _ready(run, extra=None):
    producer = _txn_producer(run, extra)
    producer.init_transactions(TXN_TIMEOUT_S)
    return producer


def _error(err):
    """What a client can tell about a KafkaError: its name and the three flags of the transactional API."""
    return {"name": err.name(), "retriable": err.retriable(), "fatal": err.fatal(),
            "txn_requires_abort": err.txn_requires_abort()}


def _outcome(run, fn, *args):
    """``"ok"`` if the call returns, the error's :func:`_error` if it raises a KafkaException, else the
    exception's type name."""
    try:
        fn(*args)
    except run.api.KafkaException as exc:
        return _error(exc.args[0])
    except Exception as exc:  # noqa: BLE001 - the type is the observation
        return type(exc).__name__
    return "ok"


def _watermarks(run, topic, partition=0, isolation="read_uncommitted"):
    c = run.kafka.Consumer({"group.id": run.unique_name("wm"), "isolation.level": isolation})
    try:
        return tuple(c.get_watermark_offsets(run.tp(topic, partition), timeout=10))
    finally:
        c.close()


def _settled_watermarks(run, topic, partition=0):
    """The watermarks once no transaction is open on the partition (the last stable offset has reached
    the high watermark). Kafka writes a transaction's markers just after ``commit_transaction()`` /
    ``abort_transaction()`` returns, so right after the call the marker may not be in the log yet."""
    for _ in range(MAX_POLLS):
        committed = _watermarks(run, topic, partition, "read_committed")
        if committed == _watermarks(run, topic, partition):
            return committed
        run.kafka.wait(100)
    raise AssertionError("a transaction stayed open on %s [%d]" % (topic, partition))


def _produce_in_txn(producer, topic, values, partition=None):
    """Produce inside the open transaction and flush; the delivery reports' ``(error, offset)``."""
    reports = []
    extra = {} if partition is None else {"partition": partition}
    for v in values:
        producer.produce(topic, value=v.encode(), on_delivery=lambda e, m: reports.append(
            (None if e is None else e.name(), m.offset() if e is None else None)), **extra)
    producer.flush(TXN_TIMEOUT_S)
    return reports


def _poll_to_eof(run, consumer, what):
    """Poll until a partition-EOF event: the records returned before it, and the EOF's offset."""
    got = []
    for _ in range(MAX_POLLS):
        msg = consumer.poll(POLL_S)
        if msg is None:
            continue
        if msg.error():
            assert msg.error().code() == run.api.KafkaError._PARTITION_EOF, msg.error()
            return got, msg.offset()
        got.append((msg.offset(), _text(msg.value())))
    raise AssertionError("no partition EOF for " + what)


def _group_after_reading(run, topic, isolation):
    """A group member reads the partition to its end and commits what it consumed: its position, the EOF
    offset, the committed offsets, and the lag (high watermark - committed) a monitoring tool shows."""
    group = run.unique_name("group")
    c = run.kafka.Consumer({"group.id": group, "isolation.level": isolation, "enable.auto.commit": False,
                            "auto.offset.reset": "earliest", "enable.partition.eof": True})
    c.subscribe([topic])
    try:
        got, eof = _poll_to_eof(run, c, topic)
        position = [tp.offset for tp in c.position([run.tp(topic, 0)])]
        commit = [tp.offset for tp in c.commit(asynchronous=False)]
        committed = [tp.offset for tp in c.committed([run.tp(topic, 0)], timeout=10)]
    finally:
        c.close()
    high = _settled_watermarks(run, topic)[1]
    return {"read": got, "eof_offset": eof, "position": position, "commit": commit, "committed": committed,
            "high_watermark": high, "lag": high - committed[0]}


# -- markers and offsets --------------------------------------------------------------------------------------
def _check_markers(real):
    assert real["committed_offsets"] == [(None, 0), (None, 1), (None, 2)]
    assert real["after_commit"] == (0, 4) and real["after_abort"] == (0, 7)
    assert real["plain_offset"] == 7
    assert real["read_committed"] == [0, 1, 2, 7]


@campaign.scenario(check=_check_markers)
def transaction_markers_take_one_offset_each(run):
    """A committed transaction of 3 records ends with a COMMIT marker at offset 3, so the next offset is 4;
    an aborted one of 2 records (4, 5) gets an ABORT marker at 6, and the next record written lands at 7.
    Consumers never see the markers."""
    topic = run.topic(partitions=1)
    producer = _ready(run)
    producer.begin_transaction()
    out = {"committed_offsets": _produce_in_txn(producer, topic, ["c0", "c1", "c2"])}
    producer.commit_transaction(TXN_TIMEOUT_S)
    out["after_commit"] = _settled_watermarks(run, topic)
    producer.begin_transaction()
    out["aborted_offsets"] = _produce_in_txn(producer, topic, ["a0", "a1"])
    producer.abort_transaction(TXN_TIMEOUT_S)
    out["after_abort"] = _settled_watermarks(run, topic)
    out["plain_offset"] = produce(run.kafka.Producer({}), topic, [(None, b"plain")])[0][2]
    out["read_committed"] = [o for o, _, _ in read_partitions(run, topic, 1, "read_committed")[0]]
    out["read_uncommitted"] = [o for o, _, _ in read_partitions(run, topic, 1, "read_uncommitted")[0]]
    return out


def _check_markers_per_partition(real):
    assert real["watermarks"] == [(0, 3), (0, 2), (0, 3)]
    assert real["read_committed"] == {0: [0, 1], 1: [], 2: [0, 1]}


@campaign.scenario(check=_check_markers_per_partition)
def markers_in_every_partition_of_the_transaction(run):
    """A transaction writes one marker into each partition it wrote to, and none elsewhere: 2 records into
    partitions 0 and 2 each, committed, then 1 into partition 1, aborted."""
    topic = run.topic(partitions=3)
    producer = _ready(run)
    producer.begin_transaction()
    for p in (0, 2):
        _produce_in_txn(producer, topic, ["p%d-0" % p, "p%d-1" % p], partition=p)
    producer.commit_transaction(TXN_TIMEOUT_S)
    producer.begin_transaction()
    _produce_in_txn(producer, topic, ["p1-aborted"], partition=1)
    producer.abort_transaction(TXN_TIMEOUT_S)
    return {"watermarks": [_settled_watermarks(run, topic, p) for p in range(3)],
            "read_committed": {p: [o for o, _, _ in rows]
                               for p, rows in read_partitions(run, topic, 3, "read_committed").items()}}


def _check_empty(real):
    assert real["after_empty"] == (0, 0) and real["after_one"] == (0, 2) and real["offset"] == [(None, 0)]


@campaign.scenario(check=_check_empty)
def empty_transactions_write_no_markers(run):
    """A transaction that wrote nothing writes no marker, committed or aborted; the next one with one record
    starts at offset 0 and its marker takes offset 1."""
    topic = run.topic(partitions=1)
    producer = _ready(run)
    producer.begin_transaction()
    producer.commit_transaction(TXN_TIMEOUT_S)
    producer.begin_transaction()
    producer.abort_transaction(TXN_TIMEOUT_S)
    out = {"after_empty": _settled_watermarks(run, topic)}
    producer.begin_transaction()
    out["offset"] = _produce_in_txn(producer, topic, ["only"])
    producer.commit_transaction(TXN_TIMEOUT_S)
    out["after_one"] = _settled_watermarks(run, topic)
    return out


# -- consumers and groups after transactional input -----------------------------------------------------------
def _check_lag_committed(real):
    for level in ("read_committed", "read_uncommitted"):
        seen = real[level]
        assert seen["read"] == [(0, "t0"), (1, "t1"), (2, "t2")] and seen["high_watermark"] == 4
        assert seen["position"] == seen["commit"] == seen["committed"] == [4] and seen["lag"] == 0


@campaign.scenario(check=_check_lag_committed)
def group_lag_after_a_committed_transaction(run):
    """A group member that reads a committed transaction of 3 records (offsets 0-2, the COMMIT marker at 3)
    to the partition's end, then commits: its position, the EOF offset, the offsets it commits and the lag
    (high watermark 4 - committed), with read_committed and with read_uncommitted."""
    topic = run.topic(partitions=1)
    producer = _ready(run)
    producer.begin_transaction()
    _produce_in_txn(producer, topic, ["t0", "t1", "t2"])
    producer.commit_transaction(TXN_TIMEOUT_S)
    _settled_watermarks(run, topic)
    return {level: _group_after_reading(run, topic, level) for level in ("read_committed", "read_uncommitted")}


def _check_lag_aborted(real):
    assert real["read_committed"]["read"] == [(0, "c0"), (1, "c1")]
    assert real["read_uncommitted"]["read"] == [(0, "c0"), (1, "c1"), (3, "a0"), (4, "a1")]
    for level in ("read_committed", "read_uncommitted"):
        seen = real[level]
        assert seen["high_watermark"] == 6 and seen["eof_offset"] == 6
        assert seen["position"] == seen["committed"] == [6] and seen["lag"] == 0


@campaign.scenario(check=_check_lag_aborted)
def group_lag_after_an_aborted_transaction(run):
    """A committed transaction (0, 1, COMMIT at 2) and then an aborted one (3, 4, ABORT at 5): a group member
    reads to the end and commits; read_committed skips the aborted records. Its position, EOF offset,
    committed offsets and lag against the high watermark 6, for both isolation levels."""
    topic = run.topic(partitions=1)
    producer = _ready(run)
    producer.begin_transaction()
    _produce_in_txn(producer, topic, ["c0", "c1"])
    producer.commit_transaction(TXN_TIMEOUT_S)
    producer.begin_transaction()
    _produce_in_txn(producer, topic, ["a0", "a1"])
    producer.abort_transaction(TXN_TIMEOUT_S)
    _settled_watermarks(run, topic)
    return {level: _group_after_reading(run, topic, level) for level in ("read_committed", "read_uncommitted")}


def _check_two_open(real):
    assert real["both_open"] == {"read_committed": (0, 0), "read_uncommitted": (0, 3)}
    assert real["a_committed"] == {"read_committed": (0, 2), "read_uncommitted": (0, 4)}
    assert real["b_committed"] == {"read_committed": (0, 5), "read_uncommitted": (0, 5)}


@campaign.scenario(check=_check_two_open)
def last_stable_offset_with_two_open_transactions(run):
    """The last stable offset is the first offset of the oldest open transaction: producer A's record at 0,
    a plain record at 1, producer B's at 2; read_committed's high watermark (``get_watermark_offsets``) is 0
    while both are open, 2 once A committed (its marker at 3), and 5 (the high watermark) once B did."""
    topic = run.topic(partitions=1)
    a, b = _ready(run), _ready(run)
    a.begin_transaction()
    _produce_in_txn(a, topic, ["a"])
    produce(run.kafka.Producer({}), topic, [(None, b"plain")])
    b.begin_transaction()
    _produce_in_txn(b, topic, ["b"])

    def marks():
        return {level: _watermarks(run, topic, 0, level) for level in ("read_committed", "read_uncommitted")}
    out = {"both_open": marks()}
    a.commit_transaction(TXN_TIMEOUT_S)
    for _ in range(MAX_POLLS):              # until A's marker is in the log and the LSO has moved
        if _watermarks(run, topic, 0, "read_committed")[1] > 0:
            break
        run.kafka.wait(100)
    out["a_committed"] = marks()
    b.commit_transaction(TXN_TIMEOUT_S)
    _settled_watermarks(run, topic)
    out["b_committed"] = marks()
    return out


def _check_held_back(real):
    assert real["open"]["read_committed"] == [] and real["open"]["read_committed_eof"] == 0
    assert real["open"]["read_uncommitted"] == [(0, "txn"), (1, "plain-0"), (2, "plain-1")]
    assert real["committed"] == [(0, "txn"), (1, "plain-0"), (2, "plain-1")]


@campaign.scenario(check=_check_held_back)
def read_committed_holds_back_later_plain_records(run):
    """Non-transactional records written after an open transaction's first record sit above the last stable
    offset too: a read_committed consumer reaches the partition's end (EOF) at offset 0 without them, a
    read_uncommitted one reads them; after the commit read_committed reads all three."""
    topic = run.topic(partitions=1)
    producer = _ready(run)
    producer.begin_transaction()
    _produce_in_txn(producer, topic, ["txn"])
    produce(run.kafka.Producer({}), topic, [(None, b"plain-0"), (None, b"plain-1")])
    out = {"open": {}}
    for level in ("read_committed", "read_uncommitted"):
        c = run.kafka.Consumer({"group.id": run.unique_name("g"), "isolation.level": level,
                                "enable.partition.eof": True, "enable.auto.commit": False})
        c.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING)])
        got, eof = _poll_to_eof(run, c, topic)
        c.close()
        out["open"][level] = got
        out["open"][level + "_eof"] = eof
    producer.commit_transaction(TXN_TIMEOUT_S)
    _settled_watermarks(run, topic)
    out["committed"] = [(o, v) for o, _, v in read_partitions(run, topic, 1, "read_committed")[0]]
    return out


def _check_send_offsets_twice(real):
    assert real["listed"] == [(0, 4), (1, 3)]
    assert real["resumed"] == {0: 4, 1: 3}


@campaign.scenario(check=_check_send_offsets_twice)
def send_offsets_twice_in_one_transaction(run):
    """``send_offsets_to_transaction`` twice in one transaction: the later offset of a partition wins, and
    after the commit the group's committed offsets (``list_consumer_group_offsets``) are those; a new member
    of the group resumes there."""
    source = run.topic(partitions=2, prefix="in")
    sink = run.topic(partitions=1, prefix="out")
    produce(run.kafka.Producer({}), source, [(None, b"v%d" % i, p) for p in range(2) for i in range(6)])
    group = run.unique_name("group")
    conf = {"group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "isolation.level": "read_committed"}
    consumer = run.kafka.Consumer(conf)
    consumer.subscribe([source])
    consume(consumer, 12, "12 input records")
    producer = _ready(run)
    producer.begin_transaction()
    _produce_in_txn(producer, sink, ["out"])
    meta = consumer.consumer_group_metadata()
    producer.send_offsets_to_transaction([run.tp(source, 0, 2)], meta, TXN_TIMEOUT_S)
    producer.send_offsets_to_transaction([run.tp(source, 0, 4), run.tp(source, 1, 3)], meta, TXN_TIMEOUT_S)
    producer.commit_transaction(TXN_TIMEOUT_S)
    consumer.close()
    if run.backend == "sim":
        from eventsim.admin import ConsumerGroupTopicPartitions
    else:
        from confluent_kafka import ConsumerGroupTopicPartitions
    request = [ConsumerGroupTopicPartitions(group, [run.tp(source, 0), run.tp(source, 1)])]
    admin = run.admin()
    listed = admin.list_consumer_group_offsets(request, require_stable=True)[group].result(30)
    second = run.kafka.Consumer(conf)
    second.subscribe([source])
    resumed = {}
    for m in consume(second, 5, "the resumed member"):
        resumed.setdefault(m.partition(), m.offset())
    second.close()
    return {"listed": sorted((tp.partition, tp.offset) for tp in listed.topic_partitions), "resumed": resumed}


# -- the transactional API in the wrong state -----------------------------------------------------------------
def _state_error(outcome, name="_STATE"):
    return isinstance(outcome, dict) and outcome["name"] == name and not outcome["fatal"]


def _check_before_init(real):
    assert all(_state_error(real[k]) for k in ("begin", "commit", "abort")), real


@campaign.scenario(check=_check_before_init)
def calls_before_init_transactions(run):
    """Every transactional call before ``init_transactions()`` - begin, commit, abort, send_offsets, produce -
    and the error it raises (name, retriable, fatal, txn_requires_abort); afterwards the producer still
    initialises and commits a transaction."""
    topic = run.topic(partitions=1)
    producer = _txn_producer(run)
    consumer = run.kafka.Consumer({"group.id": run.unique_name("g")})
    out = {"begin": _outcome(run, producer.begin_transaction),
           "commit": _outcome(run, producer.commit_transaction, 10),
           "abort": _outcome(run, producer.abort_transaction, 10),
           "send_offsets": _outcome(run, producer.send_offsets_to_transaction, [run.tp(topic, 0, 1)],
                                    consumer.consumer_group_metadata(), 10),
           "produce": _outcome(run, producer.produce, topic, b"early")}
    consumer.close()
    producer.init_transactions(TXN_TIMEOUT_S)
    producer.begin_transaction()
    out["after_init"] = _produce_in_txn(producer, topic, ["later"])
    producer.commit_transaction(TXN_TIMEOUT_S)
    return out


def _check_begin_twice(real):
    assert _state_error(real["second_begin"]) and real["commit"] == "ok"


@campaign.scenario(check=_check_begin_twice)
def begin_transaction_twice(run):
    """``begin_transaction()`` while a transaction is open raises a non-fatal state error; the open
    transaction is unaffected and commits."""
    topic = run.topic(partitions=1)
    producer = _ready(run)
    producer.begin_transaction()
    _produce_in_txn(producer, topic, ["one"])
    out = {"second_begin": _outcome(run, producer.begin_transaction),
           "commit": _outcome(run, producer.commit_transaction, TXN_TIMEOUT_S)}
    _settled_watermarks(run, topic)
    out["read"] = [v for _, _, v in read_partitions(run, topic, 1)[0]]
    return out


def _check_without_begin(real):
    assert all(_state_error(real[k]) for k in ("commit", "abort", "commit_again", "abort_after_commit")), real
    assert real["next"] == [(None, 2)]


@campaign.scenario(check=_check_without_begin)
def commit_and_abort_without_begin(run):
    """``commit_transaction()`` and ``abort_transaction()`` with no transaction open (after
    ``init_transactions()``, and again after a committed transaction): the error each raises, or none; the
    producer still works afterwards."""
    topic = run.topic(partitions=1)
    producer = _ready(run)
    out = {"commit": _outcome(run, producer.commit_transaction, 10),
           "abort": _outcome(run, producer.abort_transaction, 10)}
    producer.begin_transaction()
    _produce_in_txn(producer, topic, ["x"])
    producer.commit_transaction(TXN_TIMEOUT_S)
    out["commit_again"] = _outcome(run, producer.commit_transaction, 10)
    out["abort_after_commit"] = _outcome(run, producer.abort_transaction, 10)
    producer.begin_transaction()
    out["next"] = _produce_in_txn(producer, topic, ["y"])
    producer.commit_transaction(TXN_TIMEOUT_S)
    return out


def _check_outside(real):
    assert _state_error(real["before_begin"]) and _state_error(real["after_commit"])
    assert real["read"] == ["inside"]


@campaign.scenario(check=_check_outside)
def produce_outside_a_transaction(run):
    """A transactional producer refuses ``produce()`` outside a transaction (after ``init_transactions()``
    and after a commit) at the call, with a non-fatal state error; nothing of it reaches the log."""
    topic = run.topic(partitions=1)
    producer = _ready(run)
    out = {"before_begin": _outcome(run, producer.produce, topic, b"outside-0")}
    producer.begin_transaction()
    _produce_in_txn(producer, topic, ["inside"])
    producer.commit_transaction(TXN_TIMEOUT_S)
    out["after_commit"] = _outcome(run, producer.produce, topic, b"outside-1")
    producer.flush(10)
    out["read"] = [v for _, _, v in read_partitions(run, topic, 1, "read_uncommitted")[0]]
    return out


@campaign.scenario()
def init_transactions_twice(run):
    """``init_transactions()`` on a producer that already initialised, with and without an open
    transaction: the error raised, and whether the producer still commits afterwards."""
    topic = run.topic(partitions=1)
    producer = _ready(run)
    out = {"ready": _outcome(run, producer.init_transactions, 10)}
    producer.begin_transaction()
    out["in_transaction"] = _outcome(run, producer.init_transactions, 10)
    _produce_in_txn(producer, topic, ["x"])
    out["commit"] = _outcome(run, producer.commit_transaction, TXN_TIMEOUT_S)
    _settled_watermarks(run, topic)
    out["read"] = [v for _, _, v in read_partitions(run, topic, 1)[0]]
    return out


def _check_not_configured(real):
    assert all(isinstance(v, dict) and v["name"] == "_NOT_CONFIGURED" for v in real.values()), real


@campaign.scenario(check=_check_not_configured)
def transactional_api_without_transactional_id(run):
    """The transactional API on a producer without ``transactional.id``: every call raises
    ``_NOT_CONFIGURED``."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({"enable.idempotence": True})
    consumer = run.kafka.Consumer({"group.id": run.unique_name("g")})
    out = {"init": _outcome(run, producer.init_transactions, 10),
           "begin": _outcome(run, producer.begin_transaction),
           "send_offsets": _outcome(run, producer.send_offsets_to_transaction, [run.tp(topic, 0, 1)],
                                    consumer.consumer_group_metadata(), 10),
           "commit": _outcome(run, producer.commit_transaction, 10),
           "abort": _outcome(run, producer.abort_transaction, 10)}
    consumer.close()
    return out


# -- fencing, timeouts, abortable errors ----------------------------------------------------------------------
def _check_fenced_commit(real):
    assert all(real[k]["name"] == "_FENCED" and real[k]["fatal"] for k in ("commit", "begin_after", "abort_after"))
    assert real["read_committed"] == ["new"]
    assert real["read_uncommitted"] == [(0, "old-0"), (1, "old-1"), (3, "new")]


@campaign.scenario(check=_check_fenced_commit)
def fenced_producer_cannot_commit(run):
    """A second producer with the same ``transactional.id`` calls ``init_transactions()`` while the first
    has an open transaction with 2 records: the coordinator aborts it (ABORT marker at 2) and the first
    producer's ``commit_transaction()`` raises a fatal error, as does any later transactional call; the new
    producer's transaction commits after it."""
    topic = run.topic(partitions=1)
    txn_id = run.unique_name("txn")
    old = run.kafka.Producer({"transactional.id": txn_id})
    old.init_transactions(TXN_TIMEOUT_S)
    old.begin_transaction()
    _produce_in_txn(old, topic, ["old-0", "old-1"])
    new = run.kafka.Producer({"transactional.id": txn_id})
    new.init_transactions(TXN_TIMEOUT_S)
    out = {"commit": _outcome(run, old.commit_transaction, 30),
           "begin_after": _outcome(run, old.begin_transaction),
           "abort_after": _outcome(run, old.abort_transaction, 10)}
    new.begin_transaction()
    _produce_in_txn(new, topic, ["new"])
    new.commit_transaction(TXN_TIMEOUT_S)
    _settled_watermarks(run, topic)
    out["read_committed"] = [v for _, _, v in read_partitions(run, topic, 1, "read_committed")[0]]
    out["read_uncommitted"] = [(o, v) for o, _, v in read_partitions(run, topic, 1, "read_uncommitted")[0]]
    return out


def _check_timeout_above_max(real):
    for k in ("init", "init_again", "begin"):
        assert real[k]["name"] == "INVALID_TRANSACTION_TIMEOUT" and real[k]["fatal"], real
    assert real["at_max"] == "ok"


@campaign.scenario(check=_check_timeout_above_max)
def transaction_timeout_above_the_broker_maximum(run):
    """``transaction.timeout.ms`` above the broker's ``transaction.max.timeout.ms`` (900000 by default):
    ``init_transactions()`` raises ``INVALID_TRANSACTION_TIMEOUT``; what a second attempt and
    ``begin_transaction()`` raise after that. At the maximum itself the producer initialises."""
    producer = _txn_producer(run, {"transaction.timeout.ms": 900001})
    out = {"init": _outcome(run, producer.init_transactions, 30),
           "init_again": _outcome(run, producer.init_transactions, 30),
           "begin": _outcome(run, producer.begin_transaction)}
    at_max = _txn_producer(run, {"transaction.timeout.ms": 900000})
    out["at_max"] = _outcome(run, at_max.init_transactions, TXN_TIMEOUT_S)
    return out


def _check_abortable(real):
    assert real["reports"] == ["UNKNOWN_TOPIC_OR_PART"]
    assert real["commit"]["txn_requires_abort"] and not real["commit"]["fatal"]
    assert real["commit"]["name"] == "_INCONSISTENT"
    assert real["abort"] == "ok" and real["read"] == ["after"]


@campaign.scenario(check=_check_abortable)
def failed_delivery_makes_the_transaction_abortable(run):
    """A record of the transaction fails (a topic that does not exist, reported after
    ``topic.metadata.propagation.max.ms``): ``commit_transaction()`` raises an error with
    ``txn_requires_abort()``; ``abort_transaction()`` then succeeds, and the next transaction commits. The
    good record written in the failed transaction is aborted."""
    topic = run.topic(partitions=1)
    producer = _ready(run, {"topic.metadata.propagation.max.ms": 2000})
    producer.begin_transaction()
    _produce_in_txn(producer, topic, ["aborted"])
    reports = []
    producer.produce(run.unique_name("missing"), b"x",
                     on_delivery=lambda e, m: reports.append(None if e is None else e.name()))
    producer.flush(30)
    out = {"reports": reports, "commit": _outcome(run, producer.commit_transaction, 30),
           "abort": _outcome(run, producer.abort_transaction, 30)}
    producer.begin_transaction()
    _produce_in_txn(producer, topic, ["after"])
    producer.commit_transaction(TXN_TIMEOUT_S)
    _settled_watermarks(run, topic)
    out["read"] = [v for _, _, v in read_partitions(run, topic, 1)[0]]
    return out


def _check_timed_out(real):
    for k in ("commit", "abort", "begin"):
        assert real[k]["name"] == "_FENCED" and real[k]["fatal"], real
    assert real["read_committed"] == []


@campaign.scenario(check=_check_timed_out)
def transaction_timeout_aborts_an_open_transaction(run):
    """A transaction left open past ``transaction.timeout.ms`` (3 s here; Kafka's coordinator looks for
    expired transactions every ``transaction.abort.timed.out.transaction.cleanup.interval.ms``) is aborted
    by the coordinator, which bumps the producer epoch: the producer's ``commit_transaction()`` then
    raises the fatal ``_FENCED``, as does every later call, and read_committed sees nothing of it."""
    topic = run.topic(partitions=1)
    producer = _ready(run, {"transaction.timeout.ms": 3000})
    producer.begin_transaction()
    _produce_in_txn(producer, topic, ["late"])
    for _ in range(50):                     # 25 s: well past the timeout and the coordinator's next check
        run.kafka.wait(500)
    out = {"commit": _outcome(run, producer.commit_transaction, 30)}
    out["abort"] = _outcome(run, producer.abort_transaction, 30)
    out["begin"] = _outcome(run, producer.begin_transaction)
    _settled_watermarks(run, topic)
    out["read_committed"] = [v for _, _, v in read_partitions(run, topic, 1, "read_committed")[0]]
    return out
