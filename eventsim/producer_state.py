"""Producer state on a partition replica: idempotence and open transactions.

Kafka keeps, next to each partition's log, a *producer state* (``ProducerStateManager``):

* for each producer id (PID) the current producer epoch and the sequence numbers of its recent
  records, so that a retried batch is recognised as a duplicate and answered with its original offset,
  and a batch with a gap in its sequence is refused with ``OUT_OF_ORDER_SEQUENCE_NUMBER`` (45);
* the transactions that are open on this partition (first offset of each), which fixes the
  *last stable offset* (LSO): ``read_committed`` consumers never read past it;
* the index of aborted transactions, so ``read_committed`` fetches can drop their records.

Every replica rebuilds it from its own log after a truncation, exactly as Kafka does on recovery.
Simplifications: Kafka caches the metadata of the last five *batches* per producer; here the sequence
numbers of the last ``SEQUENCE_CACHE`` *records* are kept, because a follower copies records, not batches.
Producer-id expiry (``transactional.id.expiration.ms``, ``producer.id.expiration.ms``) is
not modelled; entries are kept for the life of the partition.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import KafkaError

SEQUENCE_CACHE = 5000  # sequence numbers remembered per producer for duplicate detection


@dataclass
class BatchInfo:
    first_seq: int
    last_seq: int
    first_offset: int
    last_offset: int


@dataclass
class ProducerEntry:
    epoch: int
    offsets: dict = field(default_factory=dict)   # sequence -> offset for the most recent records
    last_seq: int = -1

    def remember(self, sequence, offset):
        self.offsets[sequence] = offset
        self.last_seq = max(self.last_seq, sequence)
        if len(self.offsets) > SEQUENCE_CACHE:
            for old in sorted(self.offsets)[:len(self.offsets) - SEQUENCE_CACHE]:
                del self.offsets[old]


@dataclass
class AbortedTxn:
    producer_id: int
    first_offset: int
    last_offset: int   # offset of the ABORT marker


class ProducerStateManager:
    """Idempotence and transaction bookkeeping for one replica of one partition."""

    def __init__(self):
        self.producers: dict[int, ProducerEntry] = {}
        self.open_txns: dict[int, int] = {}          # pid -> first offset of its open transaction
        self.aborted: list[AbortedTxn] = []

    # -- idempotence -------------------------------------------------------------------------
    def check_batch(self, producer_id, producer_epoch, first_seq, count):
        """Validate an incoming batch of an idempotent producer before it is appended.

        Returns ``(None, None)`` to append it, ``(None, BatchInfo)`` for a duplicate of a cached batch (the
        broker answers with the original offsets and appends nothing), or ``(KafkaError, None)``.
        """
        if producer_id < 0:
            return None, None
        entry = self.producers.get(producer_id)
        if entry is None:
            # Kafka accepts any sequence from a producer it has no state for (e.g. a new leader that never
            # received this producer's earlier batches, or state removed by retention).
            return None, None
        if producer_epoch < entry.epoch:
            return KafkaError(KafkaError.INVALID_PRODUCER_EPOCH), None
        if producer_epoch > entry.epoch:
            if first_seq != 0:
                return KafkaError(KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER), None
            return None, None
        last_seq = first_seq + count - 1
        if first_seq in entry.offsets and last_seq in entry.offsets:
            return None, BatchInfo(first_seq, last_seq, entry.offsets[first_seq], entry.offsets[last_seq])
        if first_seq != entry.last_seq + 1:
            return KafkaError(KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER,
                              reason=f"Broker: Out of order sequence number: expected {entry.last_seq + 1}, "
                                     f"got {first_seq} for producer id {producer_id}"), None
        return None, None

    # -- applying appended records ---------------------------------------------------------------
    def on_append(self, records):
        """Update the state with records just appended to the log (leader or follower alike)."""
        for rec in records:
            if rec.control is not None:
                self._on_marker(rec)
                continue
            if rec.producer_id < 0:
                continue
            entry = self.producers.get(rec.producer_id)
            if entry is None or rec.producer_epoch > entry.epoch:
                entry = self.producers[rec.producer_id] = ProducerEntry(epoch=rec.producer_epoch)
            if rec.sequence >= 0:
                entry.remember(rec.sequence, rec.offset)
            if rec.transactional and rec.producer_id not in self.open_txns:
                self.open_txns[rec.producer_id] = rec.offset

    def _on_marker(self, rec):
        first = self.open_txns.pop(rec.producer_id, None)
        entry = self.producers.setdefault(rec.producer_id, ProducerEntry(epoch=rec.producer_epoch))
        entry.epoch = max(entry.epoch, rec.producer_epoch)
        if rec.control == "ABORT" and first is not None:
            self.aborted.append(AbortedTxn(rec.producer_id, first, rec.offset))

    def fence(self, producer_id, new_epoch):
        """A newer epoch was handed out for this producer id: older epochs are now rejected."""
        entry = self.producers.setdefault(producer_id, ProducerEntry(epoch=new_epoch))
        if new_epoch > entry.epoch:
            entry.epoch = new_epoch
            entry.offsets.clear()
            entry.last_seq = -1

    # -- reads -----------------------------------------------------------------------------------
    def last_stable_offset(self, high_watermark):
        """LSO: the first offset of the oldest open transaction, or the high watermark."""
        if not self.open_txns:
            return high_watermark
        return min(min(self.open_txns.values()), high_watermark)

    def aborted_between(self, start, end):
        """Aborted transactions overlapping offsets [start, end)."""
        return [t for t in self.aborted if t.first_offset < end and t.last_offset >= start]

    def rebuild(self, records):
        """Forget everything and replay the log (after truncation), as Kafka's log recovery does."""
        epochs = {pid: e.epoch for pid, e in self.producers.items()}
        self.__init__()
        self.on_append(records)
        for pid, epoch in epochs.items():
            if pid in self.producers:
                self.producers[pid].epoch = max(self.producers[pid].epoch, epoch)
