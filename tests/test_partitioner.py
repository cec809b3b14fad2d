"""librdkafka's partitioners, bit for bit."""
import logging
import random

import pytest
from hypothesis import given, strategies as st

from eventsim.partitioner import PARTITIONERS, Partitioner, crc32, fnv1a, murmur2, partition_for

# Kafka's own murmur2 vectors (clients/src/test/.../common/utils/UtilsTest.java, testMurmur2).
KAFKA_MURMUR2 = [(b"21", -973932308), (b"foobar", -790332482), (b"a-little-bit-long-string", -985981536),
                 (b"a-little-bit-longer-string", -1486304829),
                 (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
                 (bytes([ord("a"), ord("b"), ord("c")]), 479470107)]

# librdkafka's unit tests: rdmurmur2.c unittest_murmur2() (Java's results) and rdfnv1a.c
# unittest_fnv1a() (Go's hash/fnv results, made non-negative as librdkafka does).
_UNALIGNED = b"PreAmbleWillBeRemoved,ThePrePartThatIs"
RDKAFKA_KEYS = [b"kafka", b"giberish123456789", b"1234", b"234", b"34", b"4",
                _UNALIGNED, _UNALIGNED[1:], _UNALIGNED[2:], _UNALIGNED[3:], b""]
RDKAFKA_MURMUR2 = [0xd067cf64, 0x8f552b0c, 0x9fc97b14, 0xe7c009ca, 0x873930da, 0x5a4b5ca1,
                   0x78424f1c, 0x4a62b377, 0xe0e4e09e, 0x62b8b43f, 0x106e08d9]
RDKAFKA_FNV1A = [0xd33c4e1, 0x77a58295, 0x23bdd03, 0x2dea3cd2, 0x740fa83e, 0x310ca263,
                 0x65cbd69c, 0x6e49c79a, 0x69eed356, 0x6abcc023, 0x7ee3623b]


@pytest.mark.parametrize("data, expected", KAFKA_MURMUR2)
def test_murmur2_matches_kafkas_utils_test(data, expected):
    assert murmur2(data) == expected


@pytest.mark.parametrize("data, expected_murmur2, expected_fnv1a",
                         list(zip(RDKAFKA_KEYS, RDKAFKA_MURMUR2, RDKAFKA_FNV1A)))
def test_hashes_match_librdkafkas_unit_tests(data, expected_murmur2, expected_fnv1a):
    assert murmur2(data) & 0xFFFFFFFF == expected_murmur2
    assert fnv1a(data) == expected_fnv1a


def test_crc32_is_the_ieee_crc():
    assert crc32(b"123456789") == 0xCBF43926       # the standard CRC-32 check value
    assert crc32(b"") == 0


@given(st.binary(max_size=64))
def test_hash_ranges(data):
    assert -2 ** 31 <= murmur2(data) < 2 ** 31
    assert 0 <= fnv1a(data) <= 2 ** 31          # absolute value of an int32
    assert 0 <= crc32(data) < 2 ** 32


@given(st.sampled_from(PARTITIONERS), st.one_of(st.none(), st.binary(max_size=32)), st.integers(1, 64),
       st.integers(0, 2 ** 32))
def test_partition_is_in_range_and_keyed_ones_ignore_the_rng(name, key, count, seed):
    p = partition_for(name, key, count, random.Random(seed))
    assert 0 <= p < count
    keyed = name != "random" and not (key is None and name.endswith("_random")) \
        and not (name == "consistent_random" and not key)
    if keyed:
        assert partition_for(name, key, count, random.Random(seed + 1)) == p


def test_str_keys_are_hashed_as_utf8():
    assert partition_for("murmur2", "ключ", 7, random.Random(0)) == partition_for("murmur2", "ключ".encode(), 7,
                                                                                   random.Random(0))


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="Unknown partitioner"):
        partition_for("sticky", b"k", 3, random.Random(0))
    with pytest.raises(ValueError, match="partition_count"):
        partition_for("murmur2", b"k", 0, random.Random(0))
    with pytest.raises(TypeError, match="key must be"):
        partition_for("murmur2", 42, 3, random.Random(0))


def test_random_is_reproducible_with_the_same_seed():
    first = [partition_for("random", b"k", 6, rng) for rng in [random.Random(7)] for _ in range(50)]
    second = [partition_for("random", b"k", 6, rng) for rng in [random.Random(7)] for _ in range(50)]
    assert first == second and len(set(first)) > 1


def test_keyless_records_stick_to_one_partition_for_the_linger():
    part = Partitioner("consistent_random", sticky_linger_ms=10)
    rng = random.Random(3)
    at_start = {part.partition("t", None, 8, rng, now_ms=t) for t in range(0, 11)}
    assert len(at_start) == 1
    draws = [part.partition("t", None, 8, rng, now_ms=t) for t in range(11, 2000, 11)]
    assert len(set(draws)) > 1                       # a new draw once the linger has passed
    assert part.partition("t", b"", 8, rng, now_ms=5000) == part.partition("t", None, 8, rng, now_ms=5000)
    assert part.partition("t", b"key", 8, rng, now_ms=5000) == partition_for("consistent", b"key", 8, rng)


def test_sticky_partition_is_redrawn_when_it_has_no_leader():
    for seed in range(20):
        part = Partitioner("murmur2_random", sticky_linger_ms=1000)
        rng, replay = random.Random(seed), random.Random(seed)
        first = part.partition("t", None, 4, rng, now_ms=0)
        assert first == replay.randrange(4)
        again = part.partition("t", None, 4, rng, now_ms=1, available=lambda p: p != first)
        expected = replay.randrange(4)
        if expected == first:                       # librdkafka draws once more, then takes it
            expected = replay.randrange(4)
        assert again == expected
        assert part.partition("t", None, 4, rng, now_ms=2) == again      # the new draw sticks
    assert Partitioner("murmur2", 10).sticky is False
    assert Partitioner("consistent_random", 0).sticky is False


# --- conformance with librdkafka's in-process mock cluster --------------------------------------------

def _mock_partitions(name, keys, extra_conf=None):
    """Produce ``keys`` with confluent-kafka against its mock cluster; the partition of each delivery.

    One record is produced and flushed first so that the topic exists and its leaders are known:
    before that librdkafka redraws the sticky partition while leaders are unknown.
    """
    confluent_kafka = pytest.importorskip("confluent_kafka")
    quiet = logging.getLogger("eventsim-tests-mock")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    producer = confluent_kafka.Producer(dict({"test.mock.num.brokers": 3, "partitioner": name,
                                              "logger": quiet}, **(extra_conf or {})))
    topic = "conformance-" + name.replace("_", "-")
    producer.produce(topic, value=b"warm-up", key=b"warm-up")
    assert producer.flush(30) == 0
    delivered = {}
    for i, key in enumerate(keys):
        producer.produce(topic, value=b"v", key=key,
                         on_delivery=lambda err, msg, i=i: delivered.__setitem__(i, (err, msg.partition())))
    assert producer.flush(30) == 0
    assert all(err is None for err, _ in delivered.values())
    return [delivered[i][1] for i in range(len(keys))]


MOCK_PARTITIONS = 4          # librdkafka's mock cluster auto-creates topics with 4 partitions
CONFORMANCE_KEYS = [("key-%d" % i).encode() for i in range(300)] + [bytes([i, 255 - i, i * 7 % 256]) for i in range(50)]


@pytest.mark.parametrize("name", PARTITIONERS)
def test_keyed_partitions_match_librdkafka(name):
    keys = CONFORMANCE_KEYS + [None, b""]
    real = _mock_partitions(name, keys)
    rng = random.Random(0)
    for key, got in zip(keys, real):
        deterministic = name != "random" and not (key is None and name.endswith("_random")) \
            and not (name == "consistent_random" and not key)
        if deterministic:
            assert partition_for(name, key, MOCK_PARTITIONS, rng) == got, key


def test_keyless_records_are_sticky_in_librdkafka_too():
    real = _mock_partitions("consistent_random", [None] * 40, {"sticky.partitioning.linger.ms": 900000})
    assert len(set(real)) == 1
    part = Partitioner("consistent_random", sticky_linger_ms=900000)
    rng = random.Random(0)
    assert len({part.partition("t", None, MOCK_PARTITIONS, rng, now_ms=t) for t in range(40)}) == 1
