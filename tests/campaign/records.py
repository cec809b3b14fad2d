"""Records on the wire: compression codecs, record and batch sizes against ``message.max.bytes`` (producer)
and ``max.message.bytes`` (topic), null / empty / ``str`` keys and values, and timestamps relative to the
backend's own clock, as a confluent-kafka client observes them."""
from __future__ import annotations

import random

import campaign
from differential_scenarios import MAX_POLLS, POLL_S, consume, error_code

campaign.area(__name__, "Records: compression, sizes and timestamps")

campaign.simplification(
    "``compression.type`` snappy / lz4 / zstd: the real codecs",
    "a deterministic size estimate (``eventsim/compression.py``); gzip is compressed with ``zlib``")


# -- helpers -------------------------------------------------------------------------------------------------
def _reader(run, **conf):
    return run.kafka.Consumer(dict({"group.id": run.unique_name("reader"), "enable.auto.commit": False,
                                    "auto.offset.reset": "earliest"}, **conf))


def _read(run, topic, n, offset=None):
    """The first ``n`` records of partition 0 (from ``offset``, default the beginning)."""
    consumer = _reader(run)
    consumer.assign([run.tp(topic, 0, run.api.OFFSET_BEGINNING if offset is None else offset)])
    msgs = consume(consumer, n, "%d records" % n)
    consumer.close()
    return msgs


def _view(msg):
    return {"offset": msg.offset(), "key": msg.key(), "value": msg.value(), "headers": msg.headers(),
            "len": len(msg)}


def _produce(producer, topic, rows):
    """Produce ``rows`` (dicts of produce() keyword arguments), flush; the reports in produce order:
    ``[(error code | None, offset | None)]``."""
    reports = [None] * len(rows)

    def callback(i):
        return lambda err, msg: reports.__setitem__(i, (err and err.name(), msg.offset() if err is None else None))
    for i, row in enumerate(rows):
        producer.produce(topic, on_delivery=callback(i), **row)
        producer.poll(0)
    assert producer.flush(30) == 0
    return reports


def _at_call(producer, topic, **kwargs):
    """The error code ``produce()`` raises at the call, or None (the record is then flushed)."""
    try:
        producer.produce(topic, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the exception is the observation
        return exc.args[0].name() if type(exc).__name__ == "KafkaException" else type(exc).__name__
    return None


def _incompressible(n, seed=7):
    return random.Random(seed).randbytes(n)


# == compression codecs ========================================================================================
_ROWS = [dict(key=b"k0", value=b"v0" * 50, headers=[("h", b"1")]), dict(key=None, value=b"second"),
         dict(key=b"k2", value=None, headers=[("a", b"x"), ("a", None)]), dict(key=b"k3", value=b"")]


def _round_trip(run, codec):
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({"compression.type": codec, "linger.ms": 20})
    reports = _produce(producer, topic, _ROWS)
    return {"reports": reports, "records": [_view(m) for m in _read(run, topic, len(_ROWS))]}


def _check_round_trip(real):
    assert real["reports"] == [(None, 0), (None, 1), (None, 2), (None, 3)]
    assert [r["offset"] for r in real["records"]] == [0, 1, 2, 3]
    assert [r["value"] for r in real["records"]] == [b"v0" * 50, b"second", None, b""]
    assert [r["key"] for r in real["records"]] == [b"k0", None, b"k2", b"k3"]
    assert real["records"][2]["headers"] == [("a", b"x"), ("a", None)]


@campaign.scenario(check=_check_round_trip)
def compression_none_round_trip(run):
    """With ``compression.type=none`` records come back as produced: keys, values (``None`` and ``b""``
    distinct), headers, and offsets dense from 0 in the delivery reports and the records."""
    return _round_trip(run, "none")


@campaign.scenario(check=_check_round_trip)
def compression_gzip_round_trip(run):
    """With ``compression.type=gzip`` a consumer reads the records back unchanged (keys, values, headers,
    ``len()`` of the uncompressed value) at dense offsets from 0."""
    return _round_trip(run, "gzip")


@campaign.scenario(check=_check_round_trip)
def compression_snappy_round_trip(run):
    """With ``compression.type=snappy`` a consumer reads the records back unchanged at dense offsets from 0."""
    return _round_trip(run, "snappy")


@campaign.scenario(check=_check_round_trip)
def compression_lz4_round_trip(run):
    """With ``compression.type=lz4`` a consumer reads the records back unchanged at dense offsets from 0."""
    return _round_trip(run, "lz4")


@campaign.scenario(check=_check_round_trip)
def compression_zstd_round_trip(run):
    """With ``compression.type=zstd`` a consumer reads the records back unchanged at dense offsets from 0."""
    return _round_trip(run, "zstd")


def _check_mid_batch(real):
    assert real["first"] == 5 and real["values"] == [b"r%d" % i for i in range(5, 10)]


@campaign.scenario(check=_check_mid_batch)
def consuming_from_the_middle_of_a_compressed_batch(run):
    """A consumer assigned at offset 5 of a gzip batch holding offsets 0-9 gets offset 5 first: the client
    drops the batch's earlier records."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({"compression.type": "gzip", "linger.ms": 100})
    assert [e for e, _ in _produce(producer, topic, [dict(value=b"r%d" % i) for i in range(10)])] == [None] * 10
    msgs = _read(run, topic, 5, offset=5)
    return {"first": msgs[0].offset(), "values": [m.value() for m in msgs]}


# == sizes ====================================================================================================
def _over_limit(run, codec, value):
    topic = run.topic(partitions=1, config={"max.message.bytes": "10000"})
    producer = run.kafka.Producer({"compression.type": codec})
    reports = _produce(producer, topic, [dict(value=value)])
    out = {"reports": reports}
    if reports[0][0] is None:
        out["read_back_equal"] = _read(run, topic, 1)[0].value() == value
    return out


def _check_compressible_accepted(real):
    assert real == {"reports": [(None, 0)], "read_back_equal": True}


@campaign.scenario(check=_check_compressible_accepted)
def gzip_value_over_the_topic_limit_accepted_when_compressed(run):
    """A 50 000-byte run of one byte, gzip-compressed, is accepted by a topic with ``max.message.bytes=10000``:
    the broker checks the limit against the compressed batch, and the consumer reads the value back."""
    return _over_limit(run, "gzip", b"a" * 50_000)


@campaign.scenario(check=_check_compressible_accepted)
def zstd_value_over_the_topic_limit_accepted_when_compressed(run):
    """A 50 000-byte run of one byte, zstd-compressed, is accepted by a topic with ``max.message.bytes=10000``."""
    return _over_limit(run, "zstd", b"a" * 50_000)


def _check_incompressible_refused(real):
    assert real == {"reports": [("MSG_SIZE_TOO_LARGE", None)]}


@campaign.scenario(check=_check_incompressible_refused)
def gzip_incompressible_value_over_the_topic_limit_refused(run):
    """20 000 random bytes do not shrink under gzip: the topic's ``max.message.bytes=10000`` refuses the batch,
    ``MSG_SIZE_TOO_LARGE`` (broker ``MESSAGE_TOO_LARGE``) in the delivery report, not at the call."""
    return _over_limit(run, "gzip", _incompressible(20_000))


@campaign.scenario(check=_check_incompressible_refused)
def lz4_incompressible_value_over_the_topic_limit_refused(run):
    """20 000 random bytes under lz4 stay over a topic's ``max.message.bytes=10000``: ``MSG_SIZE_TOO_LARGE`` in
    the delivery report."""
    return _over_limit(run, "lz4", _incompressible(20_000))


def _check_producer_limit(real):
    assert real["value_9964"] is None and real["value_9965"] == "MSG_SIZE_TOO_LARGE"
    assert real["compressible_over"] == "MSG_SIZE_TOO_LARGE"
    assert real["with_key_ok"] is None and real["with_key_over"] == "MSG_SIZE_TOO_LARGE"
    assert real["reports"] == [None, None]


@campaign.scenario(check=_check_producer_limit)
def producer_message_max_bytes_counts_the_uncompressed_record(run):
    """The producer's ``message.max.bytes`` is checked at ``produce()`` on the uncompressed record plus 36 bytes
    of overhead, even with gzip: with 10 000, a 9 964-byte value passes, 9 965 bytes (or a 20 000-byte value
    that would compress to almost nothing) raise ``MSG_SIZE_TOO_LARGE``; the key counts too."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({"compression.type": "gzip", "message.max.bytes": 10000})
    reports = []
    producer.produce(topic, b"warm", on_delivery=lambda e, m: reports.append(error_code(e)))
    producer.flush(30)
    out = {"value_9964": _at_call(producer, topic, value=b"a" * 9964,
                                  on_delivery=lambda e, m: reports.append(error_code(e))),
           "value_9965": _at_call(producer, topic, value=b"a" * 9965),
           "compressible_over": _at_call(producer, topic, value=b"a" * 20000),
           "with_key_ok": _at_call(producer, topic, key=b"k" * 64, value=b"a" * 9900),
           "with_key_over": _at_call(producer, topic, key=b"k" * 65, value=b"a" * 9900)}
    producer.flush(30)
    out["reports"] = reports
    return out


def _check_batch_size(real):
    assert real["one_batch"] == ["MSG_SIZE_TOO_LARGE"] * 8
    assert real["small_batches"] == [None] * 8 and real["offsets"] == list(range(8))


@campaign.scenario(check=_check_batch_size)
def batch_size_keeps_batches_under_the_topic_limit(run):
    """The topic's ``max.message.bytes`` applies to a whole batch: eight 400-byte records lingered into one
    batch (``linger.ms=500``) are all refused by a 2 000-byte limit (``MSG_SIZE_TOO_LARGE``), while with
    ``batch.size=1000`` the producer sends batches of two and all are stored at dense offsets."""
    topic = run.topic(partitions=1, config={"max.message.bytes": "2000"})
    rows = [dict(value=b"%d" % i + b"x" * 399) for i in range(8)]
    one = _produce(run.kafka.Producer({"linger.ms": 500}), topic, rows)
    small = _produce(run.kafka.Producer({"linger.ms": 500, "batch.size": 1000}), topic, rows)
    return {"one_batch": [e for e, _ in one], "small_batches": [e for e, _ in small],
            "offsets": [o for _, o in small]}


def _check_batches_order(real):
    assert real["reports"] == [(None, i) for i in range(12)]
    assert real["values"] == [b"m%d" % i for i in range(12)]


@campaign.scenario(check=_check_batches_order)
def small_batches_keep_order_and_dense_offsets(run):
    """Twelve records sent in batches of at most three (``batch.num.messages=3``, ``linger.ms=0``, lz4) keep
    their order: offsets 0-11 in the delivery reports and in the log."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({"batch.num.messages": 3, "linger.ms": 0, "compression.type": "lz4"})
    reports = _produce(producer, topic, [dict(value=b"m%d" % i) for i in range(12)])
    return {"reports": reports, "values": [m.value() for m in _read(run, topic, 12)]}


# == topic compression.type ======================================================================================
def _check_topic_gzip(real):
    assert real["reports"] == [(None, 0), (None, 1), (None, 2)]
    assert real["values"] == [b"plain" * 100, None, "é€".encode()] and real["keys"] == [b"k", None, b"k"]


@campaign.scenario(check=_check_topic_gzip)
def topic_compression_gzip_with_an_uncompressed_producer(run):
    """A topic with ``compression.type=gzip`` recompresses what an uncompressed producer sends; a consumer
    still reads the keys and values unchanged, at the same offsets the delivery reports gave."""
    topic = run.topic(partitions=1, config={"compression.type": "gzip"})
    producer = run.kafka.Producer({"compression.type": "none"})
    reports = _produce(producer, topic, [dict(key=b"k", value=b"plain" * 100), dict(value=None),
                                         dict(key="k", value="é€")])
    msgs = _read(run, topic, 3)
    return {"reports": reports, "values": [m.value() for m in msgs], "keys": [m.key() for m in msgs]}


def _check_recompressed_limit(real):
    assert real["reports"] == [("MSG_SIZE_TOO_LARGE", None)]
    assert real["small"] == [(None, 0)]


@campaign.scenario(check=_check_recompressed_limit)
def topic_uncompressed_checks_the_limit_after_decompressing(run):
    """On a topic with ``compression.type=uncompressed`` the broker stores a gzip batch decompressed and checks
    ``max.message.bytes`` (10 000) again on the result: a 50 000-byte compressible value is refused
    (``MSG_SIZE_TOO_LARGE``), a small one stored."""
    topic = run.topic(partitions=1, config={"compression.type": "uncompressed", "max.message.bytes": "10000"})
    producer = run.kafka.Producer({"compression.type": "gzip"})
    return {"reports": _produce(producer, topic, [dict(value=b"a" * 50_000)]),
            "small": _produce(producer, topic, [dict(value=b"small")])}


# == null, empty and str keys and values ========================================================================
def _check_null_empty_str(real):
    assert real["values"] == [None, b"", b"v", "é€".encode(), b""]
    assert real["keys"] == [b"", None, "ключ".encode(), b"k", None]
    assert real["lens"] == [0, 0, 1, 5, 0]


@campaign.scenario(check=_check_null_empty_str)
def null_empty_and_str_keys_and_values(run):
    """``None`` and ``b""`` stay distinct for keys and values; ``str`` keys and values are stored as UTF-8;
    ``len(msg)`` is the value's length (0 for ``None``)."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({})
    reports = _produce(producer, topic, [dict(key=b"", value=None), dict(key=None, value=b""),
                                         dict(key="ключ", value="v"), dict(key=b"k", value="é€"),
                                         dict(value="")])
    msgs = _read(run, topic, 5)
    return {"reports": reports, "values": [m.value() for m in msgs], "keys": [m.key() for m in msgs],
            "lens": [len(m) for m in msgs], "types": sorted({type(m.value()).__name__ for m in msgs})}


# == timestamps ===============================================================================================
def _check_default_create_time(real):
    assert real["types"] == [1, 1, 1] and real["not_before_the_clock"] and real["non_decreasing"]
    assert real["reports_equal_records"] and real["zero_means_now"]


@campaign.scenario(check=_check_default_create_time)
def default_create_time_from_the_clock_and_non_decreasing(run):
    """Without ``timestamp=`` (or with ``timestamp=0``) the producer stamps ``TIMESTAMP_CREATE_TIME`` with
    its clock (ms since 1970): not before the clock read just before, non-decreasing in produce order, the
    same in the delivery report and the record."""
    before = run.clock_ms()
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({})
    reports = []
    for i, ts in enumerate((None, None, 0)):
        extra = {} if ts is None else {"timestamp": ts}
        producer.produce(topic, b"d%d" % i, on_delivery=lambda e, m: reports.append(m.timestamp()), **extra)
    producer.flush(30)
    stamps = [m.timestamp() for m in _read(run, topic, 3)]
    times = [t for _, t in stamps]
    return {"types": [t for t, _ in stamps], "not_before_the_clock": all(t >= before for t in times),
            "non_decreasing": times == sorted(times), "reports_equal_records": reports == stamps,
            "zero_means_now": times[2] >= times[0], "int": [type(t).__name__ for t in times]}


def _check_explicit(real):
    assert real["deltas"] == [3000, 1000, 2000, 500] and real["reports"] == real["deltas"]
    assert real["types"] == [1, 1, 1, 1]


@campaign.scenario(check=_check_explicit)
def explicit_timestamps_kept_out_of_order(run):
    """Explicit ``timestamp=`` values (relative to the backend's clock, some in the last seconds' future) are
    kept exactly, out of order too, as ``TIMESTAMP_CREATE_TIME`` in the delivery reports and the records."""
    now = run.clock_ms()
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({})
    reports = []
    for delta in (3000, 1000, 2000, 500):
        producer.produce(topic, b"x", timestamp=now + delta, on_delivery=lambda e, m: reports.append(m.timestamp()[1]))
    producer.flush(30)
    stamps = [m.timestamp() for m in _read(run, topic, 4)]
    return {"deltas": [t - now for _, t in stamps], "reports": [t - now for t in reports],
            "types": [t for t, _ in stamps]}


def _check_out_of_order_lookup(real):
    assert real == {"before_all": 0, "equal_first": 0, "between": 1, "equal_later_record": 1,
                    "after_second": 3, "equal_last": 3, "after_all": -1}


@campaign.scenario(check=_check_out_of_order_lookup)
def offsets_for_times_with_out_of_order_timestamps(run):
    """``offsets_for_times`` answers the first offset, in offset order, whose timestamp is at or after the one
    asked: with timestamps now+1000, +3000, +2000, +3500 at offsets 0-3, asking +2000 gives offset 1 (not
    offset 2, whose timestamp equals it), +3200 gives 3, past +3500 gives -1."""
    now = run.clock_ms()
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({})
    for delta in (1000, 3000, 2000, 3500):
        producer.produce(topic, b"o", timestamp=now + delta)
    producer.flush(30)
    consumer = run.kafka.Consumer({"group.id": run.unique_name("times")})
    for _ in range(MAX_POLLS):      # a busy broker may answer -1 for a moment right after the writes
        if consumer.offsets_for_times([run.tp(topic, 0, now + 3500)], timeout=10)[0].offset == 3:
            break
        consumer.poll(POLL_S)
    asks = {"before_all": 10, "equal_first": 1000, "between": 1500, "equal_later_record": 2000,
            "after_second": 3200, "equal_last": 3500, "after_all": 3501}
    out = {name: consumer.offsets_for_times([run.tp(topic, 0, now + d)], timeout=10)[0].offset
           for name, d in asks.items()}
    consumer.close()
    return out


def _check_timestamp_bounds(real):
    assert real["future_ok"] == [(None, 0)] and real["too_far_future"] == [("INVALID_TIMESTAMP", None)]
    assert real["too_old"] == [("INVALID_TIMESTAMP", None)] and real["recent"] == [(None, 0)]


@campaign.scenario(check=_check_timestamp_bounds)
def timestamps_outside_the_topic_bounds_are_invalid(run):
    """The broker refuses a CreateTime more than ``message.timestamp.after.max.ms`` (default one hour in Kafka
    4.x) ahead of its clock, or more than ``message.timestamp.before.max.ms`` behind it, with
    ``INVALID_TIMESTAMP`` in the delivery report; timestamps inside the bounds are stored."""
    now = run.clock_ms()
    ahead = run.topic(partitions=1)
    behind = run.topic(partitions=1, config={"message.timestamp.before.max.ms": "60000"})
    producer = run.kafka.Producer({})
    return {"future_ok": _produce(producer, ahead, [dict(value=b"f", timestamp=now + 600_000)]),
            "too_far_future": _produce(producer, ahead, [dict(value=b"F", timestamp=now + 2 * 3_600_000)]),
            "too_old": _produce(producer, behind, [dict(value=b"o", timestamp=now - 600_000)]),
            "recent": _produce(producer, behind, [dict(value=b"r", timestamp=now - 1000)])}


def _check_header_boundary(real):
    assert real == {"no_headers": 9965, "with_header": 9861}


@campaign.scenario(check=_check_header_boundary)
def producer_message_max_bytes_counts_headers(run):
    """Headers count towards the producer's ``message.max.bytes`` at ``produce()``: with 10 000 and no
    headers the first refused value is 9 965 bytes; one header ``("h", 100 bytes)`` lowers it by the header's
    name, value and their lengths as zig-zag varints (1 + 1 + 100 + 2 bytes: 9 861 is refused)."""
    topic = run.topic(partitions=1)
    producer = run.kafka.Producer({"message.max.bytes": 10000, "linger.ms": 50})

    def first_refused(headers, sizes):
        for n in sizes:
            if _at_call(producer, topic, value=b"a" * n, headers=headers) == "MSG_SIZE_TOO_LARGE":
                return n
        return None
    out = {"no_headers": first_refused(None, range(9960, 9970)),
           "with_header": first_refused([("h", b"v" * 100)], range(9840, 9870))}
    producer.flush(30)
    return out
