"""Replication of one partition: a leader, followers that fetch from it, the ISR and the high watermark.

What is modelled, as Kafka's ``Partition`` / ``ReplicaFetcherThread`` do it:

* Each replica is a full log (``log.PartitionLog``) on its own broker. Only the leader takes writes.
* Followers *fetch* from the leader in a loop over the network. A fetch carries the follower's log-end
  offset (LEO); that is how the leader learns how far each follower has got. When the follower is at the
  end, the leader parks the fetch (long polling) and answers as soon as new records or a new high
  watermark exist.
* The **high watermark** (HW) is the smallest LEO among the in-sync replicas: the offset up to which
  every ISR member has the data. Consumers read only below it; ``acks=all`` waits for it.
* **ISR** (in-sync replicas): a follower that has not caught up with the leader's LEO for
  ``replica.lag.time.max.ms`` is removed; it rejoins once its LEO reaches the HW again and it has
  caught up to the current leader epoch.
* **Leader epoch**: bumped at every leader change and stamped on every record; a restarted follower
  asks the leader for the end offset of its last epoch (``OffsetsForLeaderEpoch``, KIP-101) and
  truncates to it, which is how unacknowledged or uncommitted records disappear after a failover.
* ``min.insync.replicas`` with ``acks=all``: a write is refused with ``NOT_ENOUGH_REPLICAS`` (19) when
  the ISR is too small, and a write that was appended but completes with a shrunken ISR gets
  ``NOT_ENOUGH_REPLICAS_AFTER_APPEND`` (20).
* **Strict min ISR** (KIP-966, Kafka 4): while the ISR is smaller than ``min.insync.replicas`` the high
  watermark does not move, so an ``acks=1`` write the leader accepted stays invisible to consumers until
  the ISR has grown back.
* **Eligible leader replicas** (ELR, KIP-966, on by default since Kafka 4.1): the ISR may become empty
  (an offline partition lists no ISR). Replicas that leave an ISR already smaller than
  ``min.insync.replicas`` stay *eligible to lead*: they have every record below the high watermark. When
  the ISR is empty, the controller elects a leader from them.

* ISR changes are the controller's to make (the leader asks with ``AlterPartition``): while the quorum
  has no active controller the ISR can neither shrink nor grow, so an ``acks=all`` write that waits for
  a dead follower waits until its request times out.

Simplifications: one record batch per produce request per partition; fetch size limits are a record
count (``FOLLOWER_FETCH_MAX_RECORDS``), not bytes; an ISR change takes effect at once when an active
controller exists (no AlterPartition round trip is simulated); a broker that crashed stays in the ELR
(Kafka removes a replica that restarts after an unclean shutdown and falls back to the partition's last
known leader, which for one replica is the same broker).
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import KafkaError
from .log import PartitionLog
from .producer_state import ProducerStateManager

FOLLOWER_FETCH_MAX_RECORDS = 2000
REPLICA_FETCH_BACKOFF_MS = 1000   # replica.fetch.backoff.ms
REPLICA_SOCKET_TIMEOUT_MS = 30000  # replica.socket.timeout.ms: a fetch lost on the way is sent again


class Replica:
    """One copy of the partition on one broker: its log, its high watermark, its producer state."""

    def __init__(self, partition, broker_id):
        self.partition = partition
        self.broker_id = broker_id
        self.log = PartitionLog(partition.topic.config_value, name=f"{partition.name}@{broker_id}")
        self.high_watermark = 0
        self.state = ProducerStateManager()

    @property
    def log_end_offset(self):
        return self.log.log_end_offset

    def append_as_leader(self, records, epoch, now_ms):
        base, last = self.log.append_as_leader(records, epoch, now_ms)
        self.state.on_append(records)
        return base, last

    def append_as_follower(self, records, now_ms):
        self.log.append_as_follower(records, now_ms)
        self.state.on_append(records)

    def truncate_to(self, offset):
        dropped = self.log.truncate_to(offset)
        self.log.epoch_cache.truncate_from_end(offset)
        if dropped:
            self.state.rebuild(self.log.read(self.log.log_start_offset))
        self.high_watermark = min(self.high_watermark, self.log.log_end_offset)
        return dropped


@dataclass
class FollowerState:
    """What the leader knows about one follower (Kafka's ``Replica`` state on the leader)."""
    fetch_offset: int = 0
    last_caught_up_ms: int = 0
    last_fetch_leader_leo: int = 0
    last_fetch_ms: int = 0
    parked: object = None          # a pending long-poll: callable that answers it


@dataclass
class DelayedProduce:
    """An ``acks=all`` write waiting for the high watermark to pass ``required_offset``."""
    required_offset: int
    complete: object               # complete(err)
    timer: object = None
    done: bool = False


class Partition:
    """A topic partition across its replicas, seen from the (single) current leader."""

    def __init__(self, cluster, topic, index, replicas):
        self.cluster = cluster
        self.topic = topic
        self.index = index
        self.replicas = list(replicas)
        self.isr = list(replicas)
        self.elr = []                  # eligible leader replicas (KIP-966)
        self.leader = replicas[0]
        self.leader_epoch = 0
        self.replica = {b: Replica(self, b) for b in replicas}
        self._followers = {}
        self._delayed = []
        self._fetch_loop_token = {}
        self._outstanding_fetch = {}
        self.replica[self.leader].log.assign_epoch_start_offset(self.leader_epoch)

    # -- identity -----------------------------------------------------------------------------------
    @property
    def name(self):
        return f"{self.topic.name}-{self.index}"

    @property
    def leader_replica(self):
        return self.replica.get(self.leader) if self.leader >= 0 else None

    @property
    def high_watermark(self):
        rep = self.leader_replica
        if rep is None:
            return max(r.high_watermark for r in self.replica.values())
        return rep.high_watermark

    @property
    def log_end_offset(self):
        rep = self.leader_replica or self._most_advanced_replica()
        return rep.log_end_offset

    @property
    def log_start_offset(self):
        rep = self.leader_replica or self._most_advanced_replica()
        return rep.log.log_start_offset

    @property
    def last_stable_offset(self):
        rep = self.leader_replica
        if rep is None:
            return self.high_watermark
        return rep.state.last_stable_offset(rep.high_watermark)

    def _most_advanced_replica(self):
        return max(self.replica.values(), key=lambda r: (r.log_end_offset, -r.broker_id))

    @property
    def now(self):
        return self.cluster.clock.now_ms

    def config_int(self, key):
        return int(self.topic.config_value(key))

    def effective_min_isr(self):
        """``min.insync.replicas``, but never more than the partition has replicas (Kafka 4.x's
        ``Partition.effectiveMinIsr``): with one replica and ``min.insync.replicas=2``, ``acks=all`` works."""
        return min(self.config_int("min.insync.replicas"), len(self.replicas))

    # -- leadership (called by the controller) ----------------------------------------------------------
    def become_leader(self, broker_id, epoch):
        """Make ``broker_id`` the leader with a new epoch; the others become followers of it."""
        self._fail_delayed(KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION))
        self.leader = broker_id
        self.leader_epoch = epoch
        if broker_id < 0:
            return
        leader = self.replica[broker_id]
        leader.log.assign_epoch_start_offset(epoch)      # the new epoch starts at the leader's LEO
        self._followers = {}
        for b in self.replicas:
            if b != broker_id:
                self._followers[b] = FollowerState(fetch_offset=0, last_caught_up_ms=self.now,
                                                   last_fetch_leader_leo=0, last_fetch_ms=self.now)
        for b in self.replicas:
            if b != broker_id and self.cluster.broker_alive(b):
                self.start_follower(b)
        self.maybe_increment_hw()        # Partition.makeLeader: "ISR could be down to 1"

    def start_follower(self, broker_id):
        """(Re)start the fetch loop of a follower: first truncate by leader epoch, then fetch."""
        token = self._fetch_loop_token.get(broker_id, 0) + 1
        self._fetch_loop_token[broker_id] = token
        follower = self.replica[broker_id]
        leader = self.leader_replica
        if leader is None:
            return
        follower.truncate_to(self.divergence_offset(follower, leader))
        self.cluster.clock.schedule(0, lambda: self._send_fetch(broker_id, token), f"fetch {self.name}")

    @staticmethod
    def divergence_offset(follower, leader):
        """Where the follower's log stops agreeing with the leader's (``OffsetsForLeaderEpoch``, KIP-101/279).

        The follower asks for the end offset of its latest epoch. If the leader knows that epoch, the
        follower keeps everything up to that end; otherwise the answer names the leader's largest older
        epoch, and the follower keeps up to the end of *that* epoch in its own log as well.
        """
        epoch = follower.log.latest_epoch()
        if epoch < 0:
            return follower.log.log_start_offset
        leader_epoch, leader_end = leader.log.end_offset_for_epoch(epoch)
        if leader_epoch < 0:
            return max(follower.log.log_start_offset, min(follower.high_watermark, leader.log_end_offset))
        end = min(leader_end, follower.log_end_offset)
        if leader_epoch != epoch:
            _, own_end = follower.log.end_offset_for_epoch(leader_epoch)
            if own_end >= 0:
                end = min(end, own_end)
        return max(end, follower.log.log_start_offset)

    def stop_follower(self, broker_id):
        self._fetch_loop_token[broker_id] = self._fetch_loop_token.get(broker_id, 0) + 1
        state = self._followers.get(broker_id)
        if state is not None:
            state.parked = None

    # -- the follower's fetch loop ------------------------------------------------------------------------
    def _loop_alive(self, broker_id, token):
        return (self._fetch_loop_token.get(broker_id) == token and self.cluster.broker_alive(broker_id)
                and self.leader >= 0 and broker_id != self.leader and broker_id in self.replica)

    def _send_fetch(self, broker_id, token):
        if not self._loop_alive(broker_id, token):
            return
        if not self.cluster.broker_alive(self.leader):      # connection refused
            self._retry_fetch_later(broker_id, token)
            return
        fetch_offset = self.replica[broker_id].log_end_offset
        epoch = self.leader_epoch
        self._fetch_seq = getattr(self, "_fetch_seq", 0) + 1
        seq = self._fetch_seq
        self._outstanding_fetch[broker_id] = seq
        sent = self.cluster.network.send(broker_id, self.leader,
                                         lambda: self._leader_on_fetch(broker_id, token, fetch_offset, epoch),
                                         f"replica fetch {self.name} from {broker_id}")
        if sent is None:
            self._retry_fetch_later(broker_id, token)
            return
        self.cluster.clock.schedule(REPLICA_SOCKET_TIMEOUT_MS, lambda: self._fetch_watchdog(broker_id, token, seq),
                                    "replica fetch watchdog")

    def _retry_fetch_later(self, broker_id, token):
        """The leader is down (connection refused) or the link to it is cut: send again after
        ``replica.fetch.backoff.ms``. Until the controller names a new leader or the link heals, each retry
        changes nothing, so this is housekeeping an idle wait may skip (see ``idle.py``)."""
        self.cluster.clock.schedule(REPLICA_FETCH_BACKOFF_MS, lambda: self._send_fetch(broker_id, token),
                                    "replica fetch backoff", period_ms=REPLICA_FETCH_BACKOFF_MS,
                                    quiet=lambda: self.leader_unreachable(broker_id))

    def leader_unreachable(self, broker_id):
        """True if this follower's fetches cannot reach the leader now: it is down, or a network partition
        lies between them."""
        return self.leader >= 0 and (not self.cluster.broker_alive(self.leader)
                                     or not self.cluster.network.reachable(broker_id, self.leader))

    def _fetch_watchdog(self, broker_id, token, seq):
        """A fetch (or its response) was lost, e.g. the leader died with it in flight: send a new one."""
        if self._outstanding_fetch.get(broker_id) != seq or not self._loop_alive(broker_id, token):
            return
        state = self._followers.get(broker_id)
        if state is not None and state.parked is not None and self.cluster.broker_alive(self.leader):
            self.cluster.clock.schedule(REPLICA_SOCKET_TIMEOUT_MS, lambda: self._fetch_watchdog(broker_id, token, seq),
                                        "replica fetch watchdog", period_ms=REPLICA_SOCKET_TIMEOUT_MS)
            return
        self._send_fetch(broker_id, token)

    def _leader_on_fetch(self, broker_id, token, fetch_offset, epoch):
        """The leader handles a follower's fetch: note its progress, then answer or park it."""
        if not self._loop_alive(broker_id, token) or epoch != self.leader_epoch:
            return
        leader = self.leader_replica
        state = self._followers[broker_id]
        if fetch_offset < leader.log.log_start_offset:
            # The leader deleted what the follower asks for: it restarts from the leader's log start.
            self._answer_fetch(broker_id, token, [], reset_to=leader.log.log_start_offset)
            return
        leader_leo = leader.log_end_offset
        if fetch_offset >= leader_leo:
            state.last_caught_up_ms = self.now
        elif fetch_offset >= state.last_fetch_leader_leo:
            state.last_caught_up_ms = state.last_fetch_ms
        state.fetch_offset = fetch_offset
        state.last_fetch_leader_leo = leader_leo
        state.last_fetch_ms = self.now
        self._maybe_expand_isr(broker_id)
        self.maybe_increment_hw()
        records = leader.log.read(fetch_offset, max_records=FOLLOWER_FETCH_MAX_RECORDS)
        if records or self.replica[broker_id].high_watermark < leader.high_watermark:
            self._answer_fetch(broker_id, token, records)
        else:
            state.parked = lambda: self._answer_fetch(broker_id, token, None)

    def _answer_fetch(self, broker_id, token, records, reset_to=None):
        leader = self.leader_replica
        if leader is None:
            return
        if records is None:   # a parked fetch woken up: read what is new now
            records = leader.log.read(self._followers[broker_id].fetch_offset, max_records=FOLLOWER_FETCH_MAX_RECORDS)
        copies = [r.copy() for r in records]
        hw = leader.high_watermark
        start = leader.log.log_start_offset
        self.cluster.network.send(self.leader, broker_id,
                                  lambda: self._follower_on_response(broker_id, token, copies, hw, reset_to, start),
                                  f"replica fetch response {self.name} to {broker_id}")

    def _follower_on_response(self, broker_id, token, records, leader_hw, reset_to, leader_log_start):
        if not self._loop_alive(broker_id, token):
            return
        self._outstanding_fetch.pop(broker_id, None)
        follower = self.replica[broker_id]
        if reset_to is not None:
            follower.log.truncate_fully_and_start_at(reset_to)
            follower.state.rebuild([])
        records = [r for r in records if r.offset >= follower.log_end_offset]
        if records:
            follower.append_as_follower(records, self.now)
        follower.high_watermark = min(follower.log_end_offset, leader_hw)
        if follower.log.log_start_offset < leader_log_start <= follower.high_watermark:
            follower.log.delete_records_before(leader_log_start)
        self._send_fetch(broker_id, token)

    def _wake_parked_fetches(self):
        for state in self._followers.values():
            if state.parked is not None:
                answer, state.parked = state.parked, None
                answer()

    # -- ISR and high watermark ------------------------------------------------------------------------------
    def _follower_caught_up(self, broker_id):
        state = self._followers.get(broker_id)
        if state is None:
            return False
        if state.parked is not None and state.fetch_offset >= self.leader_replica.log_end_offset:
            return True
        lag_max = int(self.cluster.broker_config("replica.lag.time.max.ms"))
        return self.now - state.last_caught_up_ms <= lag_max

    def _maybe_expand_isr(self, broker_id):
        """A follower rejoins the ISR once it has reached the HW and the current epoch's start offset."""
        if broker_id in self.isr or not self.cluster.controller.available:
            return
        leader = self.leader_replica
        state = self._followers[broker_id]
        epoch_start = dict(leader.log.epoch_entries()).get(self.leader_epoch, 0)
        if state.fetch_offset >= leader.high_watermark and state.fetch_offset >= epoch_start:
            self.change_isr(self.isr + [broker_id])
            self.cluster.record_event(f"{self.name}: broker {broker_id} rejoined the ISR {self.isr}")

    def shrink_isr(self):
        """Drop followers that have not caught up within ``replica.lag.time.max.ms`` (checked periodically)."""
        if self.leader < 0 or not self.cluster.controller.available:
            return
        out = [b for b in self.isr if b != self.leader and not self._follower_caught_up(b)]
        if not out:
            return
        self.change_isr([b for b in self.isr if b not in out])
        self.cluster.record_event(f"{self.name}: ISR shrank to {self.isr} (broker(s) {out} fell behind)")
        self.maybe_increment_hw()

    def remove_from_isr(self, broker_id):
        """The controller fenced this broker, or it shut down: it leaves the ISR, the last member too (the
        ISR may be empty since KIP-966; that member stays an eligible leader replica)."""
        if broker_id in self.isr:
            self.change_isr([b for b in self.isr if b != broker_id])
            self.maybe_increment_hw()

    def change_isr(self, new_isr):
        """Commit a new ISR and keep the eligible leader replicas (KIP-966, the controller's
        ``PartitionChangeBuilder``): an ISR of at least ``min.insync.replicas`` members clears them; a smaller
        one makes every replica that was in the ISR or the ELR, and is not in the new ISR, eligible."""
        new_isr = sorted(set(new_isr), key=self.replicas.index)
        if len(new_isr) >= self.effective_min_isr():
            self.elr = []
        else:
            self.elr = [b for b in self.replicas if (b in self.isr or b in self.elr) and b not in new_isr]
        self.isr = new_isr

    def maybe_increment_hw(self):
        """Kafka's ``Partition.maybeIncrementLeaderHW``: the high watermark is the smallest log end offset
        among the ISR. A new leader does not know its followers' positions yet (they count as 0 until they
        fetch), so its HW moves only once they have fetched, unless it is alone in the ISR: then the HW is
        its own log end offset at once. Under ``min.insync.replicas`` it does not move at all (strict min
        ISR, KIP-966)."""
        leader = self.leader_replica
        if leader is None or len(self.isr) < self.effective_min_isr():
            return
        ends = [leader.log_end_offset]
        ends += [self._followers[b].fetch_offset for b in self.isr if b != self.leader and b in self._followers]
        new_hw = min(ends)
        if new_hw > leader.high_watermark:
            leader.high_watermark = new_hw
            self._complete_delayed()
            self._wake_parked_fetches()
            self.cluster.on_high_watermark(self)

    # -- writes ----------------------------------------------------------------------------------------------
    def append(self, records, acks, complete, producer_id=-1, producer_epoch=-1, base_sequence=-1):
        """Leader-side handling of one produce batch. ``complete(err, base_offset)`` is called once."""
        leader = self.leader_replica
        min_isr = self.effective_min_isr()
        if acks == -1 and len(self.isr) < min_isr:
            return complete(KafkaError(KafkaError.NOT_ENOUGH_REPLICAS,
                                       reason=f"Broker: Not enough in-sync replicas: ISR {self.isr} is smaller than "
                                              f"min.insync.replicas={min_isr} for {self.name}"), -1)
        err, dup = leader.state.check_batch(producer_id, producer_epoch, base_sequence, len(records))
        if err is not None:
            return complete(err, -1)
        if dup is not None:
            # An idempotent retry of records the log already has: answer with their original offsets, but
            # (for acks=all) only once they are replicated, exactly as for a fresh append.
            base, last = dup.first_offset, dup.last_offset
        else:
            for i, rec in enumerate(records):
                rec.producer_id, rec.producer_epoch = producer_id, producer_epoch
                rec.sequence = base_sequence + i if base_sequence >= 0 else -1
            base, last = leader.append_as_leader(records, self.leader_epoch, self.now)
            self._wake_parked_fetches()
            self.maybe_increment_hw()
        if acks != -1:
            return complete(None, base)
        self._wait_for_replication(last + 1, lambda err: complete(err, base if err is None else -1))

    def _wait_for_replication(self, required_offset, complete):
        """acks=all: complete once the high watermark reaches ``required_offset`` (a *delayed produce*)."""
        if self.leader_replica.high_watermark >= required_offset:
            if len(self.isr) < self.effective_min_isr():
                return complete(KafkaError(KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND))
            return complete(None)
        delayed = DelayedProduce(required_offset, complete)
        timeout = int(self.cluster.broker_config("request.timeout.ms"))
        delayed.timer = self.cluster.clock.schedule(timeout, lambda: self._expire_delayed(delayed))
        self._delayed.append(delayed)

    def _complete_delayed(self):
        hw = self.leader_replica.high_watermark
        for d in [d for d in self._delayed if d.required_offset <= hw]:
            self._delayed.remove(d)
            d.timer.cancel()
            if len(self.isr) < self.effective_min_isr():
                d.complete(KafkaError(KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND))
            else:
                d.complete(None)

    def _expire_delayed(self, delayed):
        if delayed in self._delayed:
            self._delayed.remove(delayed)
            delayed.complete(KafkaError(KafkaError.REQUEST_TIMED_OUT))

    def _fail_delayed(self, err):
        delayed, self._delayed = self._delayed, []
        for d in delayed:
            d.timer.cancel()
            d.complete(err)

    def append_marker(self, producer_id, producer_epoch, commit, complete):
        """Write a transaction marker (a control record; it takes an offset) and wait until it is replicated."""
        from .log import Record
        leader = self.leader_replica
        marker = Record(key=None, value=None, timestamp=self.now, control="COMMIT" if commit else "ABORT",
                        producer_id=producer_id, producer_epoch=producer_epoch, transactional=True)
        _, last = leader.append_as_leader([marker], self.leader_epoch, self.now)
        self._wake_parked_fetches()
        self.maybe_increment_hw()
        self._wait_for_replication(last + 1, complete)

    # -- reads -------------------------------------------------------------------------------------------------
    def read_for_consumer(self, offset, isolation_level, max_records):
        """Records a consumer may see from ``offset``: below the HW (or LSO for read_committed)."""
        leader = self.leader_replica
        read_committed = isolation_level == "read_committed"
        limit = leader.state.last_stable_offset(leader.high_watermark) if read_committed else leader.high_watermark
        raw = leader.log.read(offset, max_offset=limit, max_records=max_records)
        next_offset = raw[-1].offset + 1 if raw else offset
        visible = [r for r in raw if r.control is None]
        if read_committed and visible:
            aborted = leader.state.aborted_between(offset, next_offset)
            if aborted:
                visible = [r for r in visible if not any(
                    r.producer_id == t.producer_id and t.first_offset <= r.offset < t.last_offset for t in aborted)]
        return visible, next_offset, limit
