"""The KRaft controller: which brokers are alive, and who leads each partition.

Modelled behaviour:

* **Crash** (``stop_broker(id)``): the process dies. The controller only notices when the broker's
  heartbeats stop for ``broker.session.timeout.ms`` (9 s by default); then it *fences* the broker,
  removes it from every ISR (the last member too: the ISR may be empty) and elects a new leader from the ISR for each
  partition it led. Until then clients get transport errors and retry.
* **Controlled shutdown** (``stop_broker(id, clean=True)``): the broker asks the controller to move
  leadership away first, so there is no unavailability window.
* **Leader election**: the first live replica, in replica order, that is in the ISR; if the ISR is empty,
  the first live *eligible leader replica* (ELR, KIP-966: replicas that left an ISR smaller than
  ``min.insync.replicas``, see ``replication.py``). If none is alive: with
  ``unclean.leader.election.enable=false`` the partition goes offline (leader ``-1``,
  ``LEADER_NOT_AVAILABLE``, an empty ISR) until one returns; with ``true`` an out-of-sync replica takes
  over and whatever it lacks is lost.
* **Preferred leader election**: the first replica in the list is the *preferred* leader;
  ``auto.leader.rebalance.enable`` moves leadership back to it every
  ``leader.imbalance.check.interval.seconds`` (or on demand, ``elect_preferred_leaders()``).
* **Restart** (``start_broker(id)``): the broker registers again; for every partition it hosts it
  either becomes leader (an offline partition whose ISR it is in) or a follower that truncates by
  leader epoch, catches up and rejoins the ISR.

Every election bumps the partition's leader epoch. The controller is not one of the brokers: it is the
active voter of the KRaft quorum (``quorum.py``). Everything here is a write to the metadata log, so it
happens only while an active controller exists; without one, a crashed broker is neither fenced nor
replaced, and a restarted broker cannot register, until a majority of the voters is back. The new active
controller then starts every broker's session afresh (``take_over``).

A **paused** broker (a frozen process, ``pause_broker``) sends no heartbeats, so the controller treats it
like a crashed one; when it resumes it heartbeats again, and registers again if it was fenced meanwhile.
"""
from __future__ import annotations


class Controller:
    def __init__(self, cluster):
        self.cluster = cluster
        self._fence_timers = {}

    @property
    def clock(self):
        return self.cluster.clock

    @property
    def available(self):
        """An active controller exists (the quorum has a majority and has elected one)."""
        return self.cluster.quorum.available

    def take_over(self, controller_id):
        """A newly elected active controller: every broker's session starts now. Brokers that do not
        heartbeat (crashed, paused, isolated) are fenced after ``broker.session.timeout.ms``; brokers that
        started while no controller could register them register now."""
        for b in sorted(self.cluster.brokers):
            if not self.cluster.broker_heartbeating(b):
                if b not in self.cluster.fenced:
                    self.broker_crashed(b)
            elif b in self.cluster.fenced:
                self.broker_started(b)

    # -- broker lifecycle ------------------------------------------------------------------------------
    def broker_crashed(self, broker_id):
        """Heartbeats stop; the broker is fenced after ``broker.session.timeout.ms`` (counted afresh)."""
        timeout = int(self.cluster.broker_config("broker.session.timeout.ms"))
        self._cancel_fence(broker_id)
        self._fence_timers[broker_id] = self.clock.schedule(timeout, lambda: self.fence(broker_id),
                                                            f"fence broker {broker_id}")

    def broker_isolated(self, broker_id):
        """A broker cut off from the controller looks exactly like a crashed one to the controller."""
        self.broker_crashed(broker_id)

    def _cancel_fence(self, broker_id):
        timer = self._fence_timers.pop(broker_id, None)
        if timer is not None:
            timer.cancel()

    def fence(self, broker_id):
        """Remove the broker from every ISR and move leadership off it."""
        self._fence_timers.pop(broker_id, None)
        if not self.available:
            return      # nobody can write the fencing; the next active controller starts over (take_over)
        self.cluster.fenced.add(broker_id)
        self.cluster.record_event(f"controller fenced broker {broker_id} (no heartbeat for "
                                  f"{self.cluster.broker_config('broker.session.timeout.ms')} ms)")
        for part in self.cluster.all_partitions():
            if broker_id not in part.replicas:
                continue
            part.stop_follower(broker_id)
            part.remove_from_isr(broker_id)
            if part.leader == broker_id:
                self.elect(part, reason=f"broker {broker_id} fenced")

    def controlled_shutdown(self, broker_id):
        """Clean shutdown: leadership moves first, then the broker leaves every ISR. Without an active
        controller nobody can move leadership, and the broker simply stops (as after a crash)."""
        if not self.available:
            return self.broker_crashed(broker_id)
        self.cluster.fenced.add(broker_id)
        for part in self.cluster.all_partitions():
            if broker_id not in part.replicas:
                continue
            part.stop_follower(broker_id)
            if part.leader == broker_id:
                others = [b for b in part.isr if b != broker_id and self.cluster.broker_usable(b)]
                if others:
                    part.remove_from_isr(broker_id)
                    self._set_leader(part, others[0], f"controlled shutdown of broker {broker_id}")
                else:
                    self._set_leader(part, -1, f"controlled shutdown of broker {broker_id}, no other ISR member")
                    part.remove_from_isr(broker_id)
            else:
                part.remove_from_isr(broker_id)

    def broker_started(self, broker_id):
        """Registration: unfence, then lead offline partitions it is in the ISR of, follow the rest.

        A broker that restarts before the controller noticed its crash registers as a new incarnation:
        the old one is fenced first, so its partitions get a new leader epoch like after any crash. Without an
        active controller the broker cannot register: it stays fenced until one is elected."""
        if not self.available:
            return
        if broker_id in self._fence_timers:
            self._cancel_fence(broker_id)
            self.fence(broker_id)
        self.cluster.fenced.discard(broker_id)
        for part in self.cluster.all_partitions():
            if broker_id not in part.replicas:
                continue
            if part.leader < 0:
                self.elect(part, reason=f"broker {broker_id} came back")
            elif part.leader != broker_id:
                part.start_follower(broker_id)

    def min_isr_changed(self, topic):
        """A topic's ``min.insync.replicas`` changed: the controller clears its partitions' eligible leader
        replicas (KIP-966's ``ClearElrRecord``; Kafka's docs: "If min.insync.replicas is updated for a topic,
        the ELR field will be cleaned"). They were chosen against the old minimum; under a lower one the high
        watermark may move past what they hold, so electing one later could lose acknowledged records."""
        for part in topic.partitions:
            part.elr = []

    # -- elections ---------------------------------------------------------------------------------------
    def elect(self, part, reason=""):
        """Pick a new leader for ``part`` from the live ISR, from the eligible leader replicas if the ISR is
        empty (KIP-966), or unclean, if the topic allows it."""
        live_isr = [b for b in part.replicas if b in part.isr and self.cluster.broker_usable(b)]
        if live_isr:
            return self._set_leader(part, live_isr[0], reason)
        eligible = [b for b in part.replicas if not part.isr and b in part.elr and self.cluster.broker_usable(b)]
        if eligible:
            return self._set_leader(part, eligible[0], reason + "; elected from the eligible leader replicas")
        unclean = part.topic.config_value("unclean.leader.election.enable").lower() == "true"
        live = [b for b in part.replicas if self.cluster.broker_usable(b)]
        if unclean and live:
            part.isr, part.elr = [live[0]], []
            return self._set_leader(part, live[0], reason + "; UNCLEAN election: records the old ISR had may be lost")
        if part.leader != -1:
            self._set_leader(part, -1, reason + "; no in-sync replica alive: partition offline")

    def _set_leader(self, part, new_leader, reason):
        old = part.leader
        epoch = part.leader_epoch + 1
        if new_leader >= 0 and new_leader not in part.isr:
            part.change_isr([new_leader])         # an ELR member leads alone (it leaves the ELR)
        part.become_leader(new_leader, epoch)
        self.cluster.record_event(f"{part.name}: leader {old} \u2192 {new_leader}, epoch {epoch}"
                                  + (f" ({reason})" if reason else ""))
        self.cluster.on_leader_change(part, old, new_leader)

    def broker_resumed(self, broker_id):
        """A paused broker heartbeats again: if it was not fenced yet, its session simply goes on (its
        followers fetch again); if it was, it registers again like a restarted broker."""
        if broker_id in self._fence_timers:
            self._cancel_fence(broker_id)
            for part in self.cluster.all_partitions():
                if broker_id in part.replicas and part.leader not in (-1, broker_id):
                    part.start_follower(broker_id)
            return
        self.broker_started(broker_id)

    def elect_preferred_leaders(self, partitions=None):
        """Move leadership back to each partition's preferred (first) replica where it is in the ISR."""
        if not self.available:
            return 0
        moved = 0
        for part in partitions or self.cluster.all_partitions():
            preferred = part.replicas[0]
            if part.leader != preferred and preferred in part.isr and self.cluster.broker_usable(preferred):
                self._set_leader(part, preferred, "preferred leader election")
                moved += 1
        return moved
