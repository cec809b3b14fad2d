"""What an operator, or a fault, does to a simulated cluster's processes: the control surface.

Crash or cleanly stop a broker, restart it, freeze it (a long GC pause), cut it off from the other
brokers and the controllers, slow its network, lose produce responses on the way back; crash and restart
KRaft controllers. Each action only changes the process or the network; what Kafka then does about it
(fencing after ``broker.session.timeout.ms``, elections, a new active controller) is the controller's and
the quorum's job (``controller.py``, ``quorum.py``). ``Cluster`` inherits these methods; the ``sim``
backend's handle (``eventsim.backends.sim``) exposes them as the control surface every backend shares.
"""
from __future__ import annotations

from .errors import KafkaError, KafkaException
from .quorum import QUORUM_ELECTION_TIMEOUT_MS, QUORUM_FETCH_TIMEOUT_MS


class Operations:
    """Mixin of ``Cluster``: the actions on brokers, controllers and the network."""

    # -- brokers -------------------------------------------------------------------------------------
    def _check_broker_id(self, broker_id):
        if isinstance(broker_id, bool) or not isinstance(broker_id, int) or broker_id not in self.brokers:
            raise KafkaException(KafkaError(KafkaError._INVALID_ARG,
                                            reason=f"no broker {broker_id!r}; brokers are {sorted(self.brokers)}"))

    def _broker_state_error(self, broker_id, state):
        return KafkaException(KafkaError(KafkaError._STATE, reason=f"broker {broker_id} is {state}"))

    def stop_broker(self, broker_id, clean=False, wait=True):
        """Stop a broker: a crash by default, or a controlled shutdown with ``clean=True``.

        After a crash the controller notices only after ``broker.session.timeout.ms`` of missing heartbeats;
        with ``wait=True`` (default) virtual time runs until that has happened, so on return the new leaders
        are in place. ``wait=False`` leaves the cluster in the window where the old leader is unreachable.
        Without an active controller nothing can happen, so nothing is waited for. A paused broker can be
        stopped too (its frozen process is killed).
        """
        self._check_broker_id(broker_id)
        broker = self.brokers[broker_id]
        if not broker.alive:
            raise self._broker_state_error(broker_id, "already stopped")
        was_paused, broker.paused = broker.paused, False
        if clean and not was_paused:
            self.controller.controlled_shutdown(broker_id)
            broker.alive = False
            self.record_event(f"broker {broker_id} shut down cleanly")
            return
        broker.alive = False
        self.record_event(f"broker {broker_id} crashed")
        if not was_paused:            # a frozen broker already sent no heartbeats: its session runs out as it was
            self.controller.broker_crashed(broker_id)
        if wait and self.controller.available:
            self.run_until(lambda: broker_id in self.fenced,
                           int(self.config["broker.session.timeout.ms"]) + 1)

    def start_broker(self, broker_id, wait=True):
        """Restart a stopped broker on its existing logs. With ``wait=True`` virtual time runs (at most
        ``replica.lag.time.max.ms``) until its replicas have caught up and rejoined the ISR."""
        self._check_broker_id(broker_id)
        broker = self.brokers[broker_id]
        if broker.alive:
            raise self._broker_state_error(broker_id, "paused, not stopped: use resume_broker" if broker.paused
                                           else "already running")
        broker.alive = True
        self.record_event(f"broker {broker_id} started")
        self.controller.broker_started(broker_id)
        if wait:
            self._wait_in_sync(broker_id)

    def _wait_in_sync(self, broker_id):
        if not self.controller.available:
            return
        hosted = [p for p in self.all_partitions() if broker_id in p.replicas and p.leader >= 0]
        self.run_until(lambda: all(broker_id in p.isr for p in hosted),
                       int(self.config["replica.lag.time.max.ms"]))

    def pause_broker(self, broker_id):
        """Freeze a broker (a long GC pause, ``SIGSTOP``): it keeps its state but answers nothing, fetches
        nothing and sends no heartbeats; after ``broker.session.timeout.ms`` the controller fences it.

        Simplification: requests and responses sent to it while it is frozen are lost (a real broker finds
        them in its socket buffers when it wakes up); the senders retry, as after any lost message."""
        self._check_broker_id(broker_id)
        broker = self.brokers[broker_id]
        if not broker.alive or broker.paused:
            raise self._broker_state_error(broker_id, "stopped" if not broker.alive else "already paused")
        broker.paused = True
        self.record_event(f"broker {broker_id} paused (frozen process)")
        if broker_id not in self.network.isolated:
            self.controller.broker_crashed(broker_id)

    def resume_broker(self, broker_id, wait=True):
        """Unfreeze a paused broker. It heartbeats again: if the controller had fenced it meanwhile it
        registers again and, with ``wait=True``, virtual time runs until it is back in its ISRs."""
        self._check_broker_id(broker_id)
        broker = self.brokers[broker_id]
        if not broker.paused:
            raise self._broker_state_error(broker_id, "not paused" if broker.alive else "stopped")
        broker.paused = False
        self.record_event(f"broker {broker_id} resumed")
        if broker_id not in self.network.isolated:
            self.controller.broker_resumed(broker_id)
        if wait:
            self._wait_in_sync(broker_id)

    def isolate_broker(self, broker_id):
        """Cut a broker off from the other brokers and the controller (clients still reach it)."""
        self._check_broker_id(broker_id)
        if broker_id in self.network.isolated:
            raise self._broker_state_error(broker_id, "already isolated")
        self.network.isolate(broker_id)
        self.record_event(f"broker {broker_id} isolated from the cluster")
        if self.broker_alive(broker_id):
            self.controller.broker_isolated(broker_id)

    def slow_broker(self, broker_id, extra_ms):
        """Add ``extra_ms`` of latency to every message to or from a broker (0 removes it)."""
        self._check_broker_id(broker_id)
        if isinstance(extra_ms, bool) or not isinstance(extra_ms, (int, float)) or not 0 <= extra_ms <= 3_600_000:
            raise ValueError(f"slow_broker() takes a latency in ms from 0 to 3600000, got {extra_ms!r}")
        self.network.slow(broker_id, extra_ms)

    def heal_network(self):
        """Remove all network faults; isolated brokers heartbeat to the controller again."""
        isolated = set(self.network.isolated)
        self.network.heal()
        for b in sorted(isolated):
            if self.broker_alive(b):
                self.controller.broker_started(b)

    def elect_preferred_leaders(self):
        """Preferred leader election now (kafka-leader-election.sh --election-type PREFERRED)."""
        return self.controller.elect_preferred_leaders()

    # -- controllers ----------------------------------------------------------------------------------
    def _check_controller_id(self, controller_id):
        if isinstance(controller_id, bool) or not isinstance(controller_id, int) \
                or controller_id not in self.quorum.nodes:
            raise KafkaException(KafkaError(KafkaError._INVALID_ARG,
                                            reason=f"no controller {controller_id!r}; controllers are "
                                                   f"{sorted(self.quorum.nodes)}"))

    def stop_controller(self, controller_id, wait=True):
        """Crash one KRaft controller (``quorum.py``): with a majority left a new active controller is
        elected if needed (with ``wait=True`` virtual time runs until it is); without one, metadata is frozen
        until a majority runs again."""
        self._check_controller_id(controller_id)
        if not self.quorum.nodes[controller_id].alive:
            raise KafkaException(KafkaError(KafkaError._STATE,
                                            reason=f"controller {controller_id} is already stopped"))
        self.quorum.stop(controller_id)
        if wait:
            self._wait_for_active_controller()

    def _wait_for_active_controller(self):
        if self.quorum.has_majority():
            self.run_until(lambda: self.quorum.available,
                           QUORUM_FETCH_TIMEOUT_MS + QUORUM_ELECTION_TIMEOUT_MS + 1)

    def start_controller(self, controller_id, wait=True):
        """Start a stopped controller; with ``wait=True`` virtual time runs until an election that the
        quorum can now hold has happened."""
        self._check_controller_id(controller_id)
        if self.quorum.nodes[controller_id].alive:
            raise KafkaException(KafkaError(KafkaError._STATE,
                                            reason=f"controller {controller_id} is already running"))
        self.quorum.start(controller_id)
        if wait:
            self._wait_for_active_controller()

    # -- the network ----------------------------------------------------------------------------------
    def drop_responses(self, topic, partition=0, count=1, api="Produce"):
        """Lose the next ``count`` ``api`` responses for ``topic``-``partition`` on the network (the
        broker did the work; the client never hears of it). The simulator loses Produce responses."""
        if api != "Produce":
            raise ValueError(f"drop_responses() can lose 'Produce' responses, got api={api!r}")
        if not isinstance(topic, str) or isinstance(partition, bool) or not isinstance(partition, int) \
                or isinstance(count, bool) or not isinstance(count, int) or count < 1 or partition < 0:
            raise ValueError(f"drop_responses() takes a topic name, a partition >= 0 and a count >= 1, got "
                             f"{topic!r}, {partition!r}, {count!r}")
        self.network.drop_produce_responses(topic, partition, count)
