"""The transaction coordinator: producer ids, epochs, fencing, commit and abort markers.

How Kafka transactions work, and what is modelled here:

1. ``init_transactions()`` sends InitProducerId with the ``transactional.id``. The coordinator hands out a
   producer id (PID) and a new **epoch**. A second producer with the same ``transactional.id`` gets
   the same PID with a higher epoch: the old one is now a *zombie* and is **fenced** (its requests fail
   with ``PRODUCER_FENCED``); a transaction it left open is aborted.
2. Before the first write to a partition in a transaction, the producer registers it
   (AddPartitionsToTxn); offsets a consume-transform-produce loop wants to commit are registered with
   ``send_offsets_to_transaction`` (AddOffsetsToTxn / TxnOffsetCommit) and applied only on commit.
3. ``commit_transaction()`` / ``abort_transaction()`` (EndTxn): the coordinator writes a **control
   record** (a COMMIT or ABORT marker; it takes an offset, like any record) into every partition of the
   transaction. Until the marker is there, the transaction's records sit above the partition's *last
   stable offset* and ``read_committed`` consumers do not see them; after an ABORT marker they skip them.
4. A transaction left open longer than ``transaction.timeout.ms`` is aborted by the coordinator, and the
   producer is fenced by an epoch bump.

Simplifications: the coordinator's own log (``__transaction_state``) is not simulated, and the coordinator
never fails over; EndTxn returns once every marker is written and replicated. In Kafka the coordinator
answers EndTxn first and writes the markers just after, so right after ``commit_transaction()`` returns
``get_watermark_offsets`` may not count the marker yet (and read_committed's last stable offset may
still be the transaction's first offset) for a moment.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import KafkaError

MARKER_RETRY_MS = 100


@dataclass
class TransactionMetadata:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    state: str = "Empty"          # Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort
    timeout_ms: int = 60000
    partitions: set = field(default_factory=set)
    pending_offsets: dict = field(default_factory=dict)    # group_id -> {(topic, partition): offset}
    timer: object = None


class TransactionCoordinator:
    def __init__(self, cluster):
        self.cluster = cluster
        self._next_pid = 1000
        self.txns: dict[str, TransactionMetadata] = {}

    def _new_pid(self):
        pid, self._next_pid = self._next_pid, self._next_pid + 1
        return pid

    # -- InitProducerId ------------------------------------------------------------------------------
    def init_producer_id(self, transactional_id, timeout_ms, on_done):
        """Hand out ``(pid, epoch)``; with a ``transactional.id``, bump the epoch and fence older producers."""
        if transactional_id is None:
            return on_done(None, self._new_pid(), 0)
        max_timeout = int(self.cluster.broker_config("transaction.max.timeout.ms"))
        if timeout_ms > max_timeout:
            return on_done(KafkaError(KafkaError.INVALID_TRANSACTION_TIMEOUT, fatal=True,   # fatal in librdkafka
                                      reason=f"transaction.timeout.ms={timeout_ms} is larger than the broker's "
                                             f"transaction.max.timeout.ms={max_timeout}"), -1, -1)
        meta = self.txns.get(transactional_id)
        if meta is None:
            meta = TransactionMetadata(transactional_id, self._new_pid(), 0, timeout_ms=timeout_ms)
            self.txns[transactional_id] = meta
            return on_done(None, meta.producer_id, meta.producer_epoch)
        meta.timeout_ms = timeout_ms
        meta.producer_epoch += 1
        self.cluster.record_event(f"transactional.id {transactional_id!r}: epoch bumped to {meta.producer_epoch}, "
                                  f"older producers are fenced")
        for part in self.cluster.all_partitions():
            for rep in part.replica.values():
                if meta.producer_id in rep.state.producers:
                    rep.state.fence(meta.producer_id, meta.producer_epoch)
        if meta.state == "Ongoing":
            return self._complete(meta, commit=False,
                                  on_done=lambda err: on_done(err, meta.producer_id, meta.producer_epoch))
        return on_done(None, meta.producer_id, meta.producer_epoch)

    def _check(self, transactional_id, producer_id, producer_epoch):
        meta = self.txns.get(transactional_id)
        if meta is None or meta.producer_id != producer_id:
            return None, KafkaError(KafkaError.INVALID_PRODUCER_ID_MAPPING)
        if producer_epoch < meta.producer_epoch:
            return None, KafkaError(KafkaError.PRODUCER_FENCED, fatal=True,
                                    reason=f"Broker: Producer fenced: transactional.id {transactional_id!r} is now "
                                           f"used by a newer producer (epoch {meta.producer_epoch} > {producer_epoch})")
        if meta.state in ("PrepareCommit", "PrepareAbort"):
            return None, KafkaError(KafkaError.CONCURRENT_TRANSACTIONS)
        return meta, None

    def _begin_if_needed(self, meta):
        if meta.state != "Ongoing":
            meta.state = "Ongoing"
            meta.partitions = set()
            meta.pending_offsets = {}
            meta.timer = self.cluster.clock.schedule(meta.timeout_ms, lambda: self._expire(meta),
                                                     f"transaction timeout {meta.transactional_id}")

    # -- AddPartitionsToTxn / AddOffsetsToTxn --------------------------------------------------------
    def add_partitions(self, transactional_id, producer_id, producer_epoch, partitions):
        meta, err = self._check(transactional_id, producer_id, producer_epoch)
        if err is not None:
            return err
        for topic, p in partitions:
            if self.cluster.partition(topic, p) is None:
                return KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)
        self._begin_if_needed(meta)
        meta.partitions.update(partitions)
        return None

    def add_offsets(self, transactional_id, producer_id, producer_epoch, group_id, offsets):
        """TxnOffsetCommit: offsets that become the group's committed offsets if the transaction commits."""
        meta, err = self._check(transactional_id, producer_id, producer_epoch)
        if err is not None:
            return err
        self._begin_if_needed(meta)
        meta.pending_offsets.setdefault(group_id, {}).update(offsets)
        return None

    # -- EndTxn ----------------------------------------------------------------------------------------
    def end_txn(self, transactional_id, producer_id, producer_epoch, commit, on_done):
        meta, err = self._check(transactional_id, producer_id, producer_epoch)
        if err is not None:
            return on_done(err)
        if meta.state != "Ongoing":
            return on_done(None)          # an empty transaction: nothing to write
        self._complete(meta, commit, on_done)

    def _complete(self, meta, commit, on_done):
        """Write the markers to every partition of the transaction, then apply or drop its offsets."""
        meta.state = "PrepareCommit" if commit else "PrepareAbort"
        if meta.timer is not None:
            meta.timer.cancel()
        pending = sorted(meta.partitions)
        remaining = {"n": len(pending), "err": None}

        def finished():
            if commit:
                for group_id, offsets in sorted(meta.pending_offsets.items()):
                    self.cluster.groups.commit_offsets(group_id, dict(offsets))
            meta.state = "CompleteCommit" if commit else "CompleteAbort"
            meta.partitions, meta.pending_offsets = set(), {}
            self.cluster.record_event(f"transaction of {meta.transactional_id!r} "
                                      f"{'committed' if commit else 'aborted'}")
            on_done(None)

        def marker_done(err):
            remaining["n"] -= 1
            if remaining["n"] == 0:
                finished()

        if not pending:
            return finished()
        for topic, p in pending:
            self._write_marker(topic, p, meta, commit, marker_done)

    def _write_marker(self, topic, p, meta, commit, done):
        part = self.cluster.partition(topic, p)
        if part is None:                      # topic deleted meanwhile
            return done(None)
        if part.leader < 0 or not self.cluster.broker_alive(part.leader):
            self.cluster.clock.schedule(MARKER_RETRY_MS, lambda: self._write_marker(topic, p, meta, commit, done))
            return

        def after(err):
            if err is not None and err.code() != KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
                self.cluster.clock.schedule(MARKER_RETRY_MS,
                                            lambda: self._write_marker(topic, p, meta, commit, done))
                return
            done(None)

        part.append_marker(meta.producer_id, meta.producer_epoch, commit, after)

    def _expire(self, meta):
        """``transaction.timeout.ms`` passed: abort the transaction and fence the producer."""
        if meta.state != "Ongoing":
            return
        meta.producer_epoch += 1
        self.cluster.record_event(f"transaction of {meta.transactional_id!r} timed out after "
                                  f"{meta.timeout_ms} ms: aborted, producer fenced")
        self._complete(meta, commit=False, on_done=lambda err: None)

    # -- hooks --------------------------------------------------------------------------------------------
    def on_transactional_produce(self, part, producer_id):
        """Kept as the place where Kafka checks the partition was added to the transaction (KIP-890)."""
        return None

    def on_leader_change(self, part):
        return None

    def describe(self):
        return [{"transactional_id": m.transactional_id, "producer_id": m.producer_id,
                 "producer_epoch": m.producer_epoch, "state": m.state,
                 "partitions": sorted([list(tp) for tp in m.partitions])}
                for _, m in sorted(self.txns.items())]
