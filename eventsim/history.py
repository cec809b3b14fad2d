"""Histories of what Kafka clients did, and a Jepsen-style checker of them.

A *history* is a list of ops, plain JSON-able dicts in the order they happened, written from the clients'
own results (delivery reports, polled messages), so the same history can be recorded on the simulator or on
real Kafka (see :mod:`eventsim.history_recorder`, re-exported here as :class:`Recorder`)::

    {"process": "p1", "type": "send", "topic": "t", "key": "k", "value": "v1", "status": "ok",
     "partition": 0, "offset": 7, "txn": None}                 # one per produce; status "ok", "fail" or
                                                              # "info" (no delivery report yet: unknown)
    {"process": "c1", "type": "poll", "topic": "t", "partition": 0, "offset": 7, "key": "k", "value": "v1"}
    {"process": "c1", "type": "seek", "topic": "t", "partition": 0, "offset": 0}    # also "assign",
                                                              # "rebalance": the position moved on purpose
    {"process": "p1", "type": "txn", "id": "p1-t1", "status": "abort"}              # or "commit"

Records are identified by their value, so every send must carry a value of its own. Keys and values are
text: the recorder stores UTF-8 bytes decoded, and other bytes as ``"0x"`` followed by their hex digits.

:func:`check` looks for the anomalies of Jepsen's Kafka test (``jepsen.tests.kafka``):

``lost``                acknowledged, never read, yet a consumer read a later offset of that partition
``duplicate``           one value stored at two offsets (a retried send written twice)
``reorder``             one producer's sends of one key stored in another order than they were sent
``poll-skip``           a consumer's consecutive reads of a partition jump over an offset holding a record
``nonmonotonic-poll``   a consumer reads an offset at or below its previous one without seek/assign/rebalance
``inconsistent-offsets`` one offset of a partition seen holding two values
``aborted-read``        a consumer read a value its producer's transaction aborted
``unseen``              acknowledged and never read, with nothing later read either: informational (the
                        consumers may simply not have got that far); it does not make a history invalid
"""
import bisect
from collections import defaultdict

SEND, POLL, TXN = "send", "poll", "txn"
MOVES = ("seek", "assign", "rebalance")
ANOMALIES = ("lost", "duplicate", "reorder", "poll-skip", "nonmonotonic-poll", "inconsistent-offsets",
             "aborted-read", "unseen")
INFORMATIONAL = ("unseen",)


class HistoryError(ValueError):
    """A history that cannot be checked: ``index`` is the offending op's position (None for the whole
    history), ``field`` the offending field (None when the op itself is wrong)."""

    def __init__(self, message, index=None, field=None):
        super().__init__(message)
        self.index, self.field = index, field


# -- validation ---------------------------------------------------------------------------------------------
def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _is_text(x):
    return isinstance(x, str)


def _opt_text(x):
    return x is None or isinstance(x, str)


def _nonneg(x):
    return _is_int(x) and x >= 0


def _opt_int(x):
    return x is None or _is_int(x)


def _process(x):
    return isinstance(x, (str, int)) and not isinstance(x, bool)


_FIELDS = {   # type -> [(field, test, what it must be)]
    SEND: [("process", _process, "a str or int"), ("topic", _is_text, "a str"), ("key", _opt_text, "a str or None"),
           ("value", _is_text, "a str"), ("status", lambda s: s in ("ok", "fail", "info"), '"ok", "fail" or "info"'),
           ("txn", _opt_text, "a str or None")],
    POLL: [("process", _process, "a str or int"), ("topic", _is_text, "a str"), ("partition", _nonneg, "an int >= 0"),
           ("offset", _nonneg, "an int >= 0"), ("key", _opt_text, "a str or None"),
           ("value", _opt_text, "a str or None")],
    TXN: [("process", _process, "a str or int"), ("id", _is_text, "a str"),
          ("status", lambda s: s in ("commit", "abort"), '"commit" or "abort"')],
}
_MOVE_FIELDS = [("process", _process, "a str or int"), ("topic", _is_text, "a str"),
                ("partition", _nonneg, "an int >= 0"), ("offset", _opt_int, "an int or None")]
_OPTIONAL = {"key", "txn"}      # may be left out (None)


def _fail(index, field, message):
    where = f"op {index}" + (f": field {field!r}" if field else "")
    raise HistoryError(f"{where}: {message}", index, field)


def validate(ops):
    """Raise :class:`HistoryError` naming the first malformed op (its index) and field; an empty history is
    an error too (nothing to check is not a pass)."""
    if not isinstance(ops, (list, tuple)):
        raise HistoryError(f"a history is a list of ops, not {type(ops).__name__}")
    if not ops:
        raise HistoryError("nothing to check: the history is empty")
    seen_values = {}
    for i, op in enumerate(ops):
        if not isinstance(op, dict):
            _fail(i, None, f"an op is a dict, not {type(op).__name__}")
        kind = op.get("type")
        fields = _FIELDS.get(kind) or (_MOVE_FIELDS if kind in MOVES else None)
        if fields is None:
            _fail(i, "type", f"{kind!r} is not one of send, poll, seek, assign, rebalance, txn")
        for name, test, what in fields:
            if name not in op and name not in _OPTIONAL:
                _fail(i, name, "missing")
            if not test(op.get(name)):
                _fail(i, name, f"must be {what}, got {op.get(name)!r}")
        if kind == SEND:
            _validate_send(i, op, seen_values)


def _validate_send(i, op, seen_values):
    if op["status"] == "ok":
        for name in ("partition", "offset"):
            if not _nonneg(op.get(name)):
                _fail(i, name, f'an "ok" send needs an int >= 0, got {op.get(name)!r}')
    elif not _opt_int(op.get("partition")) or not _opt_int(op.get("offset")):
        _fail(i, "offset", "partition and offset must be ints or None")
    if op["value"] in seen_values:
        _fail(i, "value", f"{op['value']!r} was already sent by op {seen_values[op['value']]}: "
                          f"the checker tells records apart by value, so each send needs its own")
    seen_values[op["value"]] = i


# -- the checker --------------------------------------------------------------------------------------------
class _Facts:
    """What the history says, indexed: where each value was stored, what each offset holds, what was read."""

    def __init__(self, ops):
        self.sends = {}                              # value -> index of its send op
        self.aborted_txns = {op["id"] for op in ops if op["type"] == TXN and op["status"] == "abort"}
        self.where = defaultdict(dict)               # value -> {(topic, partition, offset): first op index}
        self.at = defaultdict(dict)                  # (topic, partition, offset) -> {value: first op index}
        self.read = {}                               # value -> first poll op index
        self.max_read = {}                           # (topic, partition) -> (highest offset read, op index)
        for i, op in enumerate(ops):
            if op["type"] == SEND:
                self.sends[op["value"]] = i
                if op["status"] == "ok":
                    self._stored(i, op)
            elif op["type"] == POLL:
                self._polled(i, op)
        self.known = self._known_offsets(ops)

    def _stored(self, i, op):
        pos = (op["topic"], op["partition"], op["offset"])
        self.where[op["value"]].setdefault(pos, i)
        self.at[pos].setdefault(op["value"], i)

    def _polled(self, i, op):
        tp = (op["topic"], op["partition"])
        if op["value"] is not None:
            self._stored(i, op)
            self.read.setdefault(op["value"], i)
        if op["offset"] > self.max_read.get(tp, (-1, None))[0]:
            self.max_read[tp] = (op["offset"], i)

    def aborted(self, ops, value):
        i = self.sends.get(value)
        return i is not None and ops[i].get("txn") in self.aborted_txns

    def _known_offsets(self, ops):
        """(topic, partition) -> sorted offsets known to hold a record a consumer should see (records of
        aborted transactions are left out: read_committed consumers skip them on purpose)."""
        known = defaultdict(set)
        for (topic, partition, offset), values in self.at.items():
            if any(not self.aborted(ops, v) for v in values):
                known[(topic, partition)].add(offset)
        return {tp: sorted(offsets) for tp, offsets in known.items()}

    def position(self, value):
        """The first (topic, partition, offset) the value was seen at, or None."""
        places = self.where.get(value)
        return min(places, key=places.get) if places else None


def _lost_and_unseen(ops, facts):
    """``lost``: Jepsen's name for an acknowledged send never read although a consumer read a later offset
    of its partition (in Kafka terms: the log that consumers read no longer holds it, e.g. after an unclean
    leader election). ``unseen``: acknowledged, never read, and nothing later read either."""
    lost, unseen = [], []
    for value, i in facts.sends.items():
        op = ops[i]
        if op["status"] != "ok" or value in facts.read or facts.aborted(ops, value):
            continue
        tp = (op["topic"], op["partition"])
        top, by = facts.max_read.get(tp, (-1, None))
        example = {"value": value, "send": i, "topic": op["topic"], "partition": op["partition"],
                   "offset": op["offset"]}
        if op["offset"] < top:
            lost.append(dict(example, read_up_to=top, read_by=by, why=(
                f"op {i} was acknowledged at offset {op['offset']}, op {by} read offset {top} of that "
                f"partition, and no consumer ever read {value!r}")))
        else:
            unseen.append(dict(example, why=f"op {i} was acknowledged and no consumer read it (yet)"))
    return lost, unseen


def _duplicates(facts):
    """``duplicate``: one value stored at two offsets - in Kafka terms a send the producer retried and the
    broker wrote twice (what ``enable.idempotence`` prevents)."""
    out = []
    for value, places in facts.where.items():
        if len(places) > 1:
            first, second = sorted(places, key=places.get)[:2]
            out.append({"value": value, "at": [list(first), list(second)], "ops": [places[first], places[second]],
                        "why": f"{value!r} is at offset {first[2]} of {first[0]}[{first[1]}] (op {places[first]}) "
                               f"and at offset {second[2]} of {second[0]}[{second[1]}] (op {places[second]})"})
    return out


def _inconsistent_offsets(facts):
    """``inconsistent-offsets``: one offset of a partition seen holding two different values - in Kafka terms
    two replicas' logs diverged and clients saw both (e.g. a truncated leader overwritten after a failover)."""
    out = []
    for pos, values in facts.at.items():
        if len(values) > 1:
            (a, i), (b, j) = sorted(values.items(), key=lambda kv: kv[1])[:2]
            out.append({"topic": pos[0], "partition": pos[1], "offset": pos[2], "values": [a, b], "ops": [i, j],
                        "why": f"offset {pos[2]} of {pos[0]}[{pos[1]}] held {a!r} (op {i}) and {b!r} (op {j})"})
    return out


def _reorders(ops, facts):
    """``reorder``: one producer's sends of one key stored in another order than they were sent - in Kafka
    terms a retried batch overtook a later one (``max.in.flight`` > 1 without idempotence)."""
    last = {}                                        # (process, topic, key) -> (position, send index)
    out = []
    for value, i in facts.sends.items():
        op = ops[i]
        pos = facts.position(value)
        if pos is None or op["key"] is None:
            continue
        stream = (op["process"], op["topic"], op["key"])
        prev = last.get(stream)
        if prev is not None and prev[0][:2] == pos[:2] and pos[2] < prev[0][2]:
            out.append({"process": op["process"], "key": op["key"], "sends": [prev[1], i],
                        "offsets": [prev[0][2], pos[2]],
                        "why": f"op {prev[1]} was sent before op {i} (same producer, same key) but is stored "
                               f"after it: offset {prev[0][2]} > {pos[2]}"})
        last[stream] = (pos, i)
    return out


def _polls(ops, facts):
    """``poll-skip`` and ``nonmonotonic-poll``, from each consumer's reads of each partition in order (a
    seek, assign or rebalance of that partition starts afresh).

    poll-skip: two consecutive reads jump over an offset known to hold a record - the consumer silently
    missed it. nonmonotonic-poll: a read at or below the previous one - the consumer went back without
    being told to (e.g. a rebalance it did not notice, or a bug in offset handling)."""
    prev = {}                                        # (process, topic, partition) -> (offset, op index)
    skips, backwards = [], []
    for i, op in enumerate(ops):
        if op["type"] in MOVES:
            prev.pop((op["process"], op["topic"], op["partition"]), None)
        if op["type"] != POLL:
            continue
        key = (op["process"], op["topic"], op["partition"])
        before, offset = prev.get(key), op["offset"]
        prev[key] = (offset, i)
        if before is None:
            continue
        if offset <= before[0]:
            backwards.append({"process": op["process"], "topic": op["topic"], "partition": op["partition"],
                              "offsets": [before[0], offset], "ops": [before[1], i],
                              "why": f"op {i} read offset {offset} right after op {before[1]} read offset "
                                     f"{before[0]}, with no seek, assign or rebalance in between"})
            continue
        known = facts.known.get(key[1:], ())
        k = bisect.bisect_right(known, before[0])
        if k < len(known) and known[k] < offset:
            skips.append({"process": op["process"], "topic": op["topic"], "partition": op["partition"],
                          "offsets": [before[0], offset], "ops": [before[1], i], "skipped": known[k],
                          "why": f"op {before[1]} read offset {before[0]}, the next read (op {i}) was offset "
                                 f"{offset}, but offset {known[k]} holds a record"})
    return skips, backwards


def _aborted_reads(ops, facts):
    """``aborted-read``: a consumer read a value whose transaction aborted - in Kafka terms a consumer with
    ``isolation.level=read_uncommitted`` (read_committed never returns aborted records)."""
    out = []
    for value, j in facts.read.items():
        if facts.aborted(ops, value):
            i = facts.sends[value]
            out.append({"value": value, "send": i, "poll": j, "txn": ops[i]["txn"],
                        "why": f"op {j} read {value!r}, sent by op {i} in transaction {ops[i]['txn']!r}, "
                               f"which aborted"})
    return out


def check(ops):
    """Check a history (see the module's docstring): ``{"valid": bool, "anomalies": {name: [example, ...]},
    "counts": {...}}``. Only anomalies found are listed; each example names the op indices involved and says
    in ``why`` what went wrong. ``valid`` ignores the informational ``unseen``. Raises
    :class:`HistoryError` for a malformed or empty history."""
    validate(ops)
    facts = _Facts(ops)
    lost, unseen = _lost_and_unseen(ops, facts)
    skips, backwards = _polls(ops, facts)
    found = {"lost": lost, "duplicate": _duplicates(facts), "reorder": _reorders(ops, facts),
             "poll-skip": skips, "nonmonotonic-poll": backwards,
             "inconsistent-offsets": _inconsistent_offsets(facts), "aborted-read": _aborted_reads(ops, facts),
             "unseen": unseen}
    anomalies = {name: found[name] for name in ANOMALIES if found[name]}
    return {"valid": not any(name not in INFORMATIONAL for name in anomalies),
            "anomalies": anomalies, "counts": _counts(ops, facts, anomalies)}


def _counts(ops, facts, anomalies):
    sends = [ops[i] for i in facts.sends.values()]
    return {"ops": len(ops), "sends": len(sends),
            "ok": sum(op["status"] == "ok" for op in sends), "fail": sum(op["status"] == "fail" for op in sends),
            "info": sum(op["status"] == "info" for op in sends),
            "polls": sum(op["type"] == POLL for op in ops), "values_read": len(facts.read),
            **{name: len(examples) for name, examples in anomalies.items()}}


def __getattr__(name):
    if name == "Recorder":
        from .history_recorder import Recorder
        return Recorder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
