"""Transactions as Kafka runs them (KIP-98): producer ids and epochs, control markers, the last stable offset,
read_committed vs read_uncommitted, transactional offset commits, zombie fencing, transaction timeouts and the
client's state rules; then at-most-once, at-least-once and exactly-once with a consumer that crashes."""
import pytest

from eventsim import Cluster, Consumer, KafkaError, KafkaException, Producer, TopicPartition


@pytest.fixture
def cluster():
    c = Cluster(brokers=3, seed=5)
    assert c.create_topic("t", 1, 3) is None
    return c


def txn_producer(cluster, tid="tx-1", **conf):
    p = Producer({"bootstrap.servers": cluster.bootstrap_servers, "transactional.id": tid, **conf})
    p.init_transactions()
    return p


def read(cluster, isolation, topic="t", partition=0):
    """Values a consumer with this isolation level reads from the beginning (Fetch, as the consumer does)."""
    out, offset = [], cluster.list_offsets(topic, partition, -2)[1]
    while True:
        res = cluster.fetch(topic, partition, offset, isolation_level=isolation)
        assert res.error is None, res.error
        out += [r.value.decode() for r in res.records]
        if res.next_offset == offset:
            return out
        offset = res.next_offset


def raw_log(cluster, topic="t", partition=0):
    rep = cluster.topics[topic].partitions[partition].leader_replica
    return [(r.offset, r.control or r.value.decode()) for r in rep.log.read(0)]


def part(cluster, topic="t", partition=0):
    return cluster.topics[topic].partitions[partition]


def state_error(fn, *args):
    with pytest.raises(KafkaException) as exc:
        fn(*args)
    return exc.value.args[0]


# -- commit, abort, markers, LSO -------------------------------------------------------------------------------
def test_commit_writes_a_marker_that_takes_an_offset(cluster):
    p = txn_producer(cluster)
    p.begin_transaction()
    p.produce("t", value="a")
    p.produce("t", value="b")
    p.commit_transaction()
    assert raw_log(cluster) == [(0, "a"), (1, "b"), (2, "COMMIT")]
    assert part(cluster).high_watermark == 3 == part(cluster).last_stable_offset
    assert read(cluster, "read_committed") == ["a", "b"]
    assert read(cluster, "read_uncommitted") == ["a", "b"]       # markers are never handed to applications


def test_abort_hides_records_from_read_committed_only(cluster):
    p = txn_producer(cluster)
    p.begin_transaction()
    p.produce("t", value="kept-out")
    p.flush()
    p.abort_transaction()
    p.begin_transaction()
    p.produce("t", value="ok")
    p.commit_transaction()
    assert raw_log(cluster) == [(0, "kept-out"), (1, "ABORT"), (2, "ok"), (3, "COMMIT")]
    assert read(cluster, "read_committed") == ["ok"]
    assert read(cluster, "read_uncommitted") == ["kept-out", "ok"]


def test_open_transaction_holds_the_last_stable_offset(cluster):
    plain = Producer({"bootstrap.servers": cluster.bootstrap_servers})
    plain.produce("t", value="before")
    plain.flush()
    p = txn_producer(cluster)
    p.begin_transaction()
    p.produce("t", value="open")
    p.flush()
    plain.produce("t", value="after")            # a non-transactional record behind the open transaction
    plain.flush()
    pt = part(cluster)
    assert pt.high_watermark == 3
    assert pt.last_stable_offset == 1            # the first offset of the open transaction
    assert read(cluster, "read_committed") == ["before"]
    assert read(cluster, "read_uncommitted") == ["before", "open", "after"]
    assert cluster.list_offsets("t", 0, -1, isolation_level="read_committed") == (None, 1)
    assert cluster.list_offsets("t", 0, -1, isolation_level="read_uncommitted") == (None, 3)
    snap_part = cluster.snapshot()["topics"][0]["partitions"][0]
    assert snap_part["last_stable_offset"] == 1 and snap_part["high_watermark"] == 3
    p.commit_transaction()
    assert pt.last_stable_offset == pt.high_watermark == 4
    assert read(cluster, "read_committed") == ["before", "open", "after"]


def test_a_transaction_spans_partitions_and_topics_atomically(cluster):
    assert cluster.create_topic("u", 2, 3) is None
    p = txn_producer(cluster)
    p.begin_transaction()
    p.produce("t", value="t0")
    p.produce("u", value="u0", partition=0)
    p.produce("u", value="u1", partition=1)
    p.abort_transaction()
    for topic, n in (("t", 0), ("u", 0), ("u", 1)):
        assert raw_log(cluster, topic, n)[-1][1] == "ABORT"
        assert read(cluster, "read_committed", topic, n) == []


def test_consumer_read_committed_is_the_default(cluster):
    p = txn_producer(cluster)
    p.begin_transaction()
    p.produce("t", value="aborted")
    p.flush()
    p.abort_transaction()
    p.begin_transaction()
    p.produce("t", value="committed")
    p.commit_transaction()
    seen = {}
    for iso in (None, "read_uncommitted"):
        conf = {"bootstrap.servers": cluster.bootstrap_servers, "group.id": f"g-{iso}",
                "auto.offset.reset": "earliest"}
        if iso:
            conf["isolation.level"] = iso
        c = Consumer(conf)
        c.assign([TopicPartition("t", 0, 0)])
        seen[iso] = [m.value().decode() for m in c.consume(10, timeout=1.0) if m.error() is None]
        c.close()
    assert seen[None] == ["committed"]
    assert seen["read_uncommitted"] == ["aborted", "committed"]


# -- send_offsets_to_transaction ----------------------------------------------------------------------------------
def test_offsets_sent_to_a_transaction_are_committed_only_on_commit(cluster):
    group = cluster.groups
    consumer = Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": "g"})
    meta = consumer.consumer_group_metadata()
    p = txn_producer(cluster)
    p.begin_transaction()
    p.produce("t", value="x")
    p.send_offsets_to_transaction([TopicPartition("t", 0, 7)], meta)
    assert group.committed("g", [("t", 0)])[("t", 0)] < 0          # not before the commit
    p.abort_transaction()
    assert group.committed("g", [("t", 0)])[("t", 0)] < 0          # an abort drops them
    p.begin_transaction()
    p.produce("t", value="y")
    p.send_offsets_to_transaction([TopicPartition("t", 0, 9)], meta)
    p.commit_transaction()
    assert group.committed("g", [("t", 0)])[("t", 0)] == 9
    consumer.close()


def test_send_offsets_needs_real_group_metadata_and_valid_offsets(cluster):
    p = txn_producer(cluster)
    p.begin_transaction()
    assert state_error(p.send_offsets_to_transaction, [TopicPartition("t", 0, 1)], object()).code() == \
        KafkaError._INVALID_ARG
    consumer = Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": "g"})
    assert state_error(p.send_offsets_to_transaction, [TopicPartition("t", 0, -5)],
                       consumer.consumer_group_metadata()).code() == KafkaError._INVALID_ARG


# -- fencing and timeouts -----------------------------------------------------------------------------------------
def test_second_producer_with_same_transactional_id_fences_the_first(cluster):
    zombie = txn_producer(cluster, "shared")
    zombie.begin_transaction()
    zombie.produce("t", value="zombie-open")
    zombie.flush()
    assert part(cluster).last_stable_offset == 0
    fresh = txn_producer(cluster, "shared")
    # The new instance's init_transactions aborted what the zombie left open.
    assert raw_log(cluster) == [(0, "zombie-open"), (1, "ABORT")]
    assert part(cluster).last_stable_offset == 2
    assert fresh._epoch == zombie._epoch + 1 and fresh._pid == zombie._pid
    reports = []
    zombie.produce("t", value="zombie-late", on_delivery=lambda e, m: reports.append(e))
    zombie.flush()
    assert reports[0].code() == KafkaError.PRODUCER_FENCED == 90
    err = state_error(zombie.commit_transaction)
    assert err.fatal() and err.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED)
    # The fresh instance works; nothing of the zombie's is visible.
    fresh.begin_transaction()
    fresh.produce("t", value="fresh")
    fresh.commit_transaction()
    assert read(cluster, "read_committed") == ["fresh"]
    assert "zombie-late" not in read(cluster, "read_uncommitted")


def test_transaction_timeout_aborts_and_fences(cluster):
    p = txn_producer(cluster, "slow", **{"transaction.timeout.ms": 10000})
    p.begin_transaction()
    p.produce("t", value="too-slow")
    p.flush()
    cluster.advance(9000)
    assert part(cluster).last_stable_offset == 0        # still open
    cluster.advance(1001)
    assert raw_log(cluster) == [(0, "too-slow"), (1, "ABORT")]
    assert part(cluster).last_stable_offset == 2
    with pytest.raises(KafkaException):
        p.commit_transaction()
    assert read(cluster, "read_committed") == []


def test_transaction_timeout_above_broker_maximum_is_refused(cluster):
    p = Producer({"bootstrap.servers": cluster.bootstrap_servers, "transactional.id": "x",
                  "transaction.timeout.ms": 900001})
    assert state_error(p.init_transactions).code() == KafkaError.INVALID_TRANSACTION_TIMEOUT


# -- state rules --------------------------------------------------------------------------------------------------
def test_state_errors(cluster):
    p = Producer({"bootstrap.servers": cluster.bootstrap_servers, "transactional.id": "s"})
    assert state_error(p.begin_transaction).code() == KafkaError._STATE          # before init_transactions
    p.init_transactions()
    assert state_error(p.commit_transaction).code() == KafkaError._STATE         # commit without begin
    assert state_error(p.produce, "t", "v").code() == KafkaError._STATE          # produce outside a transaction
    p.begin_transaction()
    assert state_error(p.begin_transaction).code() == KafkaError._STATE          # begin twice
    assert state_error(p.init_transactions).code() == KafkaError._STATE          # init twice
    p.produce("t", value="fine")
    p.commit_transaction()
    assert read(cluster, "read_committed") == ["fine"]
    assert len(p) == 0


def test_transactional_api_without_transactional_id(cluster):
    p = Producer({"bootstrap.servers": cluster.bootstrap_servers})
    for call in (p.init_transactions, p.begin_transaction, p.commit_transaction, p.abort_transaction):
        assert state_error(call).code() == KafkaError._NOT_CONFIGURED
    p.produce("t", value="plain")             # a plain producer still works
    assert p.flush() == 0


def test_transactional_producer_is_idempotent(cluster):
    p = txn_producer(cluster, **{"request.timeout.ms": 2000})
    cluster.network.drop_produce_responses("t", 0, 1)
    p.begin_transaction()
    p.produce("t", value="once")
    p.commit_transaction()
    assert read(cluster, "read_committed") == ["once"]


# -- delivery semantics with a consumer crash -----------------------------------------------------------------------
N = 10
CRASH_AT = 4


def setup_pipeline(cluster):
    assert cluster.create_topic("in", 1, 3) is None
    assert cluster.create_topic("out", 1, 3) is None
    src = Producer({"bootstrap.servers": cluster.bootstrap_servers})
    for i in range(N):
        src.produce("in", value=str(i))
    assert src.flush() == 0


def consumer(cluster, **conf):
    c = Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": "pipeline",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "session.timeout.ms": 10000, **conf})
    c.subscribe(["in"])
    return c


def next_record(c):
    """The next record, waiting up to 30 virtual seconds (long enough for the group to drop a crashed member
    after session.timeout.ms and rebalance)."""
    for _ in range(30):
        m = c.poll(1.0)
        if m is not None and m.error() is None:
            return m
    return None


def run_pipeline(cluster, mode):
    """Copy ``in`` to ``out``. The first instance crashes while handling record CRASH_AT; a second instance
    of the same group then finishes the job."""
    setup_pipeline(cluster)
    out = Producer({"bootstrap.servers": cluster.bootstrap_servers, "transactional.id": "copier"}) \
        if mode == "exactly-once" else Producer({"bootstrap.servers": cluster.bootstrap_servers})
    if mode == "exactly-once":
        out.init_transactions()
    for instance in (1, 2):
        c = consumer(cluster, **({"isolation.level": "read_committed"} if mode == "exactly-once" else {}))
        while True:
            m = next_record(c)
            if m is None:
                break
            crash = instance == 1 and int(m.value()) == CRASH_AT
            if mode == "at-most-once":
                c.commit(message=m, asynchronous=False)        # commit first ...
                if crash:
                    break                                      # ... crash before processing: lost
                out.produce("out", value=m.value())
                out.flush()
            elif mode == "at-least-once":
                out.produce("out", value=m.value())            # process first ...
                out.flush()
                if crash:
                    break                                      # ... crash before the commit: duplicated
                c.commit(message=m, asynchronous=False)
            else:
                out.begin_transaction()
                out.produce("out", value=m.value())
                out.send_offsets_to_transaction([TopicPartition("in", 0, m.offset() + 1)],
                                                c.consumer_group_metadata())
                out.flush()
                if crash:
                    break                                      # output written, transaction never committed
                out.commit_transaction()
        if instance == 1:
            c._crash()
            if mode == "exactly-once":
                # The restarted application creates its producer again: init_transactions fences the old
                # one and aborts its open transaction.
                out = Producer({"bootstrap.servers": cluster.bootstrap_servers, "transactional.id": "copier"})
                out.init_transactions()
        else:
            c.close()
    return [int(v) for v in read(cluster, "read_committed", "out")]


def test_at_most_once_loses_the_record_being_processed(cluster):
    got = run_pipeline(cluster, "at-most-once")
    assert got == [i for i in range(N) if i != CRASH_AT]


def test_at_least_once_duplicates_the_record_being_processed(cluster):
    got = run_pipeline(cluster, "at-least-once")
    assert sorted(got) == sorted(list(range(N)) + [CRASH_AT])
    assert got.count(CRASH_AT) == 2


def test_exactly_once_neither_loses_nor_duplicates(cluster):
    got = run_pipeline(cluster, "exactly-once")
    assert got == list(range(N))
    # The aborted copy is still in the log; only read_uncommitted sees it.
    assert sorted(int(v) for v in read(cluster, "read_uncommitted", "out")) == sorted(list(range(N)) + [CRASH_AT])
    assert cluster.groups.committed("pipeline", [("in", 0)])[("in", 0)] == N
