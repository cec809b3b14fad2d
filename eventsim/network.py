"""The network between clients and brokers, on the virtual clock, with optional faults.

Every request and response is a message delivered after a small, fixed latency
(``BASE_LATENCY_MS`` per hop). Faults a lesson can switch on:

* ``isolate(broker)``: the broker can no longer talk to the other brokers or the controller (its
  followers stop fetching, and the controller fences it after ``broker.session.timeout.ms``); clients can
  still reach it.
* ``slow(broker, extra_ms)``: every message to or from that broker takes ``extra_ms`` longer: a slow
  follower falls behind and, after ``replica.lag.time.max.ms``, out of the ISR.
* ``drop_produce_responses(topic, partition, count)``: the broker appends the batch but the response
  is lost, so the producer times out and retries: the classic source of duplicates without idempotence.

Simplification: no packet reordering between two endpoints; a message to a broker that is down at
delivery time is lost (the sender notices through its own timeouts).
"""
from __future__ import annotations

BASE_LATENCY_MS = 1
CLIENT = 0  # endpoint id used for clients (brokers are 1..N)


class Network:
    def __init__(self, clock, is_alive):
        self.clock = clock
        self._is_alive = is_alive
        self.isolated: set[int] = set()
        self.extra_latency: dict[int, int] = {}
        self.dropped_responses: dict[tuple[str, int], int] = {}

    def latency(self, src, dst):
        return BASE_LATENCY_MS + self.extra_latency.get(src, 0) + self.extra_latency.get(dst, 0)

    def reachable(self, src, dst):
        """Can ``src`` talk to ``dst``? Isolation cuts broker-to-broker links only."""
        if src == dst:
            return True
        if CLIENT in (src, dst):
            return True
        return src not in self.isolated and dst not in self.isolated

    def send(self, src, dst, deliver, name=""):
        """Deliver ``deliver()`` at ``dst`` after the link latency, unless the link is cut or ``dst`` is down."""
        if not self.reachable(src, dst):
            return None

        def arrive():
            if dst != CLIENT and not self._is_alive(dst):
                return
            if not self.reachable(src, dst):
                return
            deliver()

        return self.clock.schedule(self.latency(src, dst), arrive, name)

    # -- faults ------------------------------------------------------------------------------------
    def isolate(self, broker_id):
        self.isolated.add(broker_id)

    def slow(self, broker_id, extra_ms):
        if extra_ms < 0:
            raise ValueError("extra_ms must be >= 0")
        if extra_ms:
            self.extra_latency[broker_id] = int(extra_ms)
        else:
            self.extra_latency.pop(broker_id, None)

    def drop_produce_responses(self, topic, partition, count=1):
        key = (topic, partition)
        self.dropped_responses[key] = self.dropped_responses.get(key, 0) + int(count)

    def take_dropped_response(self, topic, partition):
        """True if the next produce response for this partition is to be lost (consumes one)."""
        key = (topic, partition)
        left = self.dropped_responses.get(key, 0)
        if left <= 0:
            return False
        self.dropped_responses[key] = left - 1
        return True

    def heal(self):
        """Remove every network fault."""
        self.isolated.clear()
        self.extra_latency.clear()
        self.dropped_responses.clear()
