"""Simulator-only checks of the record fidelity fixes found by the campaign (``tests/campaign/records.py``):
the topic's ``max.message.bytes`` against the compressed batch, and again after the topic's own
``compression.type``; ``batch.size`` capping a batch; ``message.timestamp.*.max.ms`` -> ``INVALID_TIMESTAMP``."""
import random

import pytest

from eventsim import Cluster, KafkaError, Producer
from eventsim.compression import BATCH_OVERHEAD, batch_bytes, stored_codec
from eventsim.log import Record


@pytest.fixture
def cluster():
    return Cluster(brokers=3, seed=5)


def deliver(cluster, topic, conf=None, rows=()):
    """Produce ``rows`` (produce() keyword dicts) and flush; the delivery reports' error codes, in order."""
    errors = []
    p = Producer({"bootstrap.servers": cluster.bootstrap_servers, **(conf or {})})
    for row in rows:
        p.produce(topic, on_delivery=lambda e, m: errors.append(e and e.code()), **row)
    assert p.flush() == 0
    return errors


def test_batch_bytes_shrinks_repetitive_data_and_never_grows_random_data():
    big = [Record(key=None, value=b"a" * 50_000)]
    noise = [Record(key=None, value=random.Random(1).randbytes(20_000))]
    assert batch_bytes(big, "none") > 50_000 and batch_bytes(big, "gzip") < 1000
    for codec in ("gzip", "snappy", "lz4", "zstd"):
        assert batch_bytes(noise, codec) == batch_bytes(noise, "none") > 20_000
    assert batch_bytes([], "none") == BATCH_OVERHEAD


def test_stored_codec_follows_the_topic_compression_type():
    assert stored_codec("gzip", "producer") == "gzip"
    assert stored_codec("gzip", "uncompressed") == "none"
    assert stored_codec("none", "zstd") == "zstd"


def test_a_compressible_value_over_the_topic_limit_is_accepted_when_compressed(cluster):
    assert cluster.create_topic("t", 1, 3, config={"max.message.bytes": "10000"}) is None
    rows = [dict(value=b"a" * 50_000)]
    assert deliver(cluster, "t", {"compression.type": "gzip"}, rows) == [None]
    assert deliver(cluster, "t", {"compression.type": "none"}, rows) == [KafkaError.MSG_SIZE_TOO_LARGE]


def test_a_topic_that_stores_uncompressed_checks_the_limit_after_decompressing(cluster):
    assert cluster.create_topic("t", 1, 3, config={"max.message.bytes": "10000",
                                                   "compression.type": "uncompressed"}) is None
    assert deliver(cluster, "t", {"compression.type": "gzip"}, [dict(value=b"a" * 50_000)]) == [
        KafkaError.MSG_SIZE_TOO_LARGE]


def test_the_topic_limit_applies_to_the_whole_batch_and_batch_size_splits_it(cluster):
    assert cluster.create_topic("t", 1, 3, config={"max.message.bytes": "2000"}) is None
    rows = [dict(value=b"x" * 400) for _ in range(8)]
    assert deliver(cluster, "t", {"linger.ms": 500}, rows) == [KafkaError.MSG_SIZE_TOO_LARGE] * 8
    assert deliver(cluster, "t", {"linger.ms": 500, "batch.size": 1000}, rows) == [None] * 8


def test_timestamps_outside_the_topic_bounds_are_invalid(cluster):
    assert cluster.create_topic("t", 1, 3, config={"message.timestamp.before.max.ms": "60000"}) is None
    cluster.advance(200_000)
    now = cluster.now_ms
    rows = [dict(value=b"a", timestamp=now + 2 * 3_600_000), dict(value=b"b", timestamp=now - 100_000),
            dict(value=b"c", timestamp=now - 1000), dict(value=b"d", timestamp=now + 600_000)]
    assert deliver(cluster, "t", {"batch.num.messages": 1}, rows) == [
        KafkaError.INVALID_TIMESTAMP, KafkaError.INVALID_TIMESTAMP, None, None]


def test_log_append_time_topics_do_not_check_the_producer_timestamp(cluster):
    assert cluster.create_topic("t", 1, 3, config={"message.timestamp.type": "LogAppendTime"}) is None
    assert deliver(cluster, "t", {}, [dict(value=b"a", timestamp=cluster.now_ms + 2 * 3_600_000)]) == [None]


def test_header_lengths_count_as_zigzag_varints_against_message_max_bytes(cluster):
    """librdkafka's header size: a 100-byte header value's length is a 2-byte zig-zag varint (measured with
    confluent-kafka 2.16: value 9 860 passes, 9 861 is refused with message.max.bytes=10000)."""
    from eventsim import KafkaException
    assert cluster.create_topic("t", 1, 3) is None
    p = Producer({"bootstrap.servers": cluster.bootstrap_servers, "message.max.bytes": 10000})
    p.produce("t", value=b"a" * 9860, headers=[("h", b"v" * 100)])
    with pytest.raises(KafkaException) as info:
        p.produce("t", value=b"a" * 9861, headers=[("h", b"v" * 100)])
    assert info.value.args[0].code() == KafkaError.MSG_SIZE_TOO_LARGE
