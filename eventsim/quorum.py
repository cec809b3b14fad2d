"""The KRaft controller quorum: a few controller nodes that keep the cluster's metadata log.

Kafka 4.x has no ZooKeeper. A small set of dedicated controller nodes (``process.roles=controller``,
named in ``controller.quorum.voters``) replicate the *metadata log* with the Raft protocol: which brokers
are registered, every topic, every partition's leader, leader epoch and ISR, every config. One voter is
the **active controller** (the Raft leader); it alone writes to that log, and a write counts once a
majority of the voters has it.

What the course cluster shows, as Kafka does it:

* **Losing a minority** changes nothing a client can see. If the active controller was lost, the
  others notice after ``controller.quorum.fetch.timeout.ms`` (2 s) without hearing from it and elect a
  new one among themselves within ``controller.quorum.election.timeout.ms`` (1 s).
* **Losing the majority** (2 of 3): no voter can be elected, so nothing can be written to the metadata
  log. Brokers keep serving what they last learned: existing leaders take produce and fetch requests and
  consumer groups work (their coordinators live on brokers). But nothing that needs a metadata write
  happens: no topic is created, deleted or reconfigured (the admin request times out), no ISR shrinks
  or grows, and a broker that dies is not fenced and not replaced as leader, so its partitions stay
  unavailable. When a majority is back, an active controller is elected and catches up on what it
  missed: dead brokers are fenced a ``broker.session.timeout.ms`` after it took over.

Simplifications: an active controller that loses its majority resigns at once (Kafka's leader notices
within ``controller.quorum.fetch.timeout.ms``); elections take a fixed ``fetch timeout + election timeout`` of virtual time (Raft's
randomised back-off is not modelled; the winner is chosen with the cluster's seeded RNG); the metadata
log itself is not stored, because the controller's decisions are applied to the cluster state directly.
"""
from __future__ import annotations

from dataclasses import dataclass

#: ``controller.quorum.fetch.timeout.ms`` (Kafka's default): how long followers wait to hear from the
#: active controller before they start an election.
QUORUM_FETCH_TIMEOUT_MS = 2000
#: ``controller.quorum.election.timeout.ms`` (Kafka's default): how long an election may take.
QUORUM_ELECTION_TIMEOUT_MS = 1000
#: Controller node ids: ``101, 102, 103`` beside brokers ``1, 2, 3`` (KRaft needs distinct node ids).
FIRST_CONTROLLER_ID = 101


@dataclass
class ControllerNode:
    """One voter of the quorum: a controller process that is running or stopped."""
    id: int
    alive: bool = True


class Quorum:
    """The voters, which of them is active, and what happens when one stops or starts."""

    def __init__(self, clock, rng, count, on_active, on_event):
        self.clock = clock
        self.rng = rng
        self.nodes = {FIRST_CONTROLLER_ID + i: ControllerNode(FIRST_CONTROLLER_ID + i) for i in range(count)}
        self.active = min(self.nodes)     # formatted and started together: the first voter wins
        self._on_active = on_active       # called with the new active controller's id
        self._on_event = on_event
        self._election = None

    # -- what the rest of the cluster asks ------------------------------------------------------------
    @property
    def available(self):
        """True while an active controller exists, i.e. metadata can be written."""
        return self.active is not None

    def has_majority(self):
        return sum(n.alive for n in self.nodes.values()) * 2 > len(self.nodes)

    def live_ids(self):
        return sorted(i for i, n in self.nodes.items() if n.alive)

    # -- faults ------------------------------------------------------------------------------------
    def stop(self, controller_id):
        """A voter crashes. If it was active, the others elect a new one, if they are still a majority."""
        self.nodes[controller_id].alive = False
        self._on_event(f"controller {controller_id} crashed")
        if self.active == controller_id:
            self.active = None
            self._on_event(f"active controller {controller_id} lost: no controller is active")
        elif self.active is not None and not self.has_majority():
            # A Raft leader that cannot reach a majority can commit nothing; it resigns
            # (controller.quorum.fetch.timeout.ms later; at once here).
            self._on_event(f"controller {self.active} lost its majority and resigned: no controller is active")
            self.active = None
        self._schedule_election(QUORUM_FETCH_TIMEOUT_MS + QUORUM_ELECTION_TIMEOUT_MS)

    def start(self, controller_id):
        """A voter starts again on its copy of the metadata log and joins the quorum."""
        self.nodes[controller_id].alive = True
        self._on_event(f"controller {controller_id} started")
        self._schedule_election(QUORUM_ELECTION_TIMEOUT_MS)

    def _schedule_election(self, delay_ms):
        """Hold an election after ``delay_ms`` if there is no active controller by then."""
        if self.active is not None or self._election is not None:
            return
        self._election = self.clock.schedule(delay_ms, self._elect, "controller election")

    def _elect(self):
        self._election = None
        if self.active is not None:
            return
        if not self.has_majority():
            self._on_event(f"no controller elected: only {len(self.live_ids())} of {len(self.nodes)} voters "
                           f"are running, a majority is {len(self.nodes) // 2 + 1}")
            return
        self.active = self.rng.choice(self.live_ids())
        self._on_event(f"controller {self.active} elected active controller")
        self._on_active(self.active)

    def snapshot(self):
        return [{"id": i, "alive": n.alive, "active": i == self.active} for i, n in sorted(self.nodes.items())]
