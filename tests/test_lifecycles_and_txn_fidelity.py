"""Simulator-only checks of behaviours the differential campaign (``tests/campaign/transactions.py`` and
``tests/campaign/lifecycles.py``) found differing from Kafka 4.4 with librdkafka 2.16, one test per fix."""
import pytest

from eventsim import Cluster, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from eventsim.admin import AdminClient


@pytest.fixture
def cluster():
    c = Cluster(brokers=3, seed=11)
    assert c.create_topic("t", 1, 3) is None
    return c


def txn_producer(cluster, **conf):
    p = Producer({"bootstrap.servers": cluster.bootstrap_servers, "transactional.id": "tx", **conf})
    p.init_transactions()
    return p


def raised(fn, *args):
    with pytest.raises(KafkaException) as exc:
        fn(*args)
    return exc.value.args[0]


def committed_transaction(cluster, values):
    p = txn_producer(cluster)
    p.begin_transaction()
    for v in values:
        p.produce("t", value=v)
    p.commit_transaction()
    return p


# -- a consumer passes transaction markers -------------------------------------------------------------------
@pytest.mark.parametrize("isolation", ["read_committed", "read_uncommitted"])
def test_position_and_commit_move_past_the_commit_marker(cluster, isolation):
    committed_transaction(cluster, ["a", "b", "c"])              # offsets 0-2, COMMIT marker at 3
    c = Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": "g", "isolation.level": isolation,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False, "enable.partition.eof": True})
    c.subscribe(["t"])
    got = []
    while True:
        msg = c.poll(1)
        if msg is not None and msg.error() is None:
            got.append(msg.offset())
            if len(got) == 3:
                assert c.position([TopicPartition("t", 0)])[0].offset == 3    # the marker is not passed yet
        elif msg is not None:
            assert msg.error().code() == KafkaError._PARTITION_EOF
            break
    assert got == [0, 1, 2]
    assert c.position([TopicPartition("t", 0)])[0].offset == 4
    assert [tp.offset for tp in c.commit(asynchronous=False)] == [4]           # lag 0 against the HW 4
    c.close()


def test_read_committed_position_passes_an_aborted_transaction(cluster):
    p = committed_transaction(cluster, ["a"])                     # 0, COMMIT 1
    p.begin_transaction()
    p.produce("t", value="x")
    p.flush()
    p.abort_transaction()                                         # 2, ABORT 3
    c = Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": "g", "auto.offset.reset": "earliest",
                  "enable.partition.eof": True})
    c.assign([TopicPartition("t", 0, 0)])
    events = [c.poll(1) for _ in range(3)]
    assert [m.offset() for m in events if m is not None and m.error() is None] == [0]
    assert c.position([TopicPartition("t", 0)])[0].offset == 4
    c.close()


# -- transactional calls in the wrong state -------------------------------------------------------------------
def test_abort_without_an_open_transaction_is_a_state_error(cluster):
    p = txn_producer(cluster)
    err = raised(p.abort_transaction)
    assert err.code() == KafkaError._STATE and not err.fatal()


def test_a_fenced_commit_raises_the_fatal_fenced_error(cluster):
    old = txn_producer(cluster)
    old.begin_transaction()
    old.produce("t", value="zombie")
    old.flush()
    txn_producer(cluster)                                         # same transactional.id: fences `old`
    for call in (old.commit_transaction, old.begin_transaction):
        err = raised(call)
        assert err.code() == KafkaError._FENCED and err.fatal()


def test_invalid_transaction_timeout_is_fatal_and_sticks(cluster):
    p = Producer({"bootstrap.servers": cluster.bootstrap_servers, "transactional.id": "tx",
                  "transaction.timeout.ms": 900001})
    for call in (p.init_transactions, p.init_transactions, p.begin_transaction):
        err = raised(call)
        assert err.code() == KafkaError.INVALID_TRANSACTION_TIMEOUT and err.fatal()


def test_a_failed_delivery_makes_commit_require_an_abort(cluster):
    p = txn_producer(cluster, **{"topic.metadata.propagation.max.ms": 500})
    p.begin_transaction()
    p.produce("t", value="good")
    p.produce("missing", value="bad")
    p.flush()
    err = raised(p.commit_transaction)
    assert err.code() == KafkaError._INCONSISTENT and err.txn_requires_abort() and not err.fatal()
    p.abort_transaction()
    p.begin_transaction()
    p.produce("t", value="next")
    p.commit_transaction()


# -- topic and group lifecycles --------------------------------------------------------------------------------
def test_deleting_a_topic_deletes_its_committed_offsets_from_every_group(cluster):
    assert cluster.create_topic("u", 1, 3) is None
    cluster.groups.commit_offsets("g", {("t", 0): 3, ("u", 0): 1})
    assert cluster.delete_topic("t") is None
    assert cluster.create_topic("t", 1, 3) is None
    assert cluster.groups.committed("g", [("t", 0), ("u", 0)]) == {("t", 0): -1001, ("u", 0): 1}
    assert [gid for gid, _ in cluster.groups.list_groups()] == ["g"]          # the group itself stays


def test_an_empty_group_that_had_members_is_not_a_simple_group(cluster):
    c = Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": "g"})
    c.subscribe(["t"])
    for _ in range(5):
        c.poll(0.5)
    c.close()
    cluster.groups.commit_offsets("offsets-only", {("t", 0): 0})
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    described = admin.describe_consumer_groups(["g", "offsets-only"])
    assert described["g"].result().state.name == "EMPTY"
    assert described["g"].result().is_simple_consumer_group is False
    assert described["offsets-only"].result().is_simple_consumer_group is True
