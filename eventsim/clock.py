"""The virtual clock: simulated time in milliseconds, and the timers that run on it.

Nothing in the simulator reads wall-clock time. Every timed Kafka behaviour (``linger.ms``, follower
fetches, ``replica.lag.time.max.ms``, ``session.timeout.ms``, ``retention.ms`` checks, ...) is a timer on
this clock. Timers due at the same millisecond run in the order they were scheduled, so a run is a pure
function of the seed and the calls made: same seed, same results.
"""
from __future__ import annotations

import heapq
import itertools


class Timer:
    """A callback scheduled at a virtual time; ``cancel()`` stops it from running."""

    __slots__ = ("at_ms", "seq", "callback", "name", "cancelled")

    def __init__(self, at_ms, seq, callback, name):
        self.at_ms = at_ms
        self.seq = seq
        self.callback = callback
        self.name = name
        self.cancelled = False

    def cancel(self):
        self.cancelled = True

    def __lt__(self, other):
        return (self.at_ms, self.seq) < (other.at_ms, other.seq)

    def __repr__(self):
        return f"Timer({self.name!r} at {self.at_ms} ms)"


class VirtualClock:
    """Simulated time. ``now_ms`` only moves when someone runs the clock forward."""

    def __init__(self, start_ms=0):
        self.now_ms = int(start_ms)
        self._queue = []
        self._seq = itertools.count()

    def schedule(self, delay_ms, callback, name=""):
        """Run ``callback()`` after ``delay_ms`` virtual milliseconds (0 = at the next run of the clock)."""
        if delay_ms < 0:
            raise ValueError(f"delay_ms must be >= 0, got {delay_ms}")
        return self.schedule_at(self.now_ms + int(delay_ms), callback, name)

    def schedule_at(self, at_ms, callback, name=""):
        timer = Timer(max(int(at_ms), self.now_ms), next(self._seq), callback, name)
        heapq.heappush(self._queue, timer)
        return timer

    def next_due_ms(self):
        """Virtual time of the next pending timer, or ``None``."""
        while self._queue and self._queue[0].cancelled:
            heapq.heappop(self._queue)
        return self._queue[0].at_ms if self._queue else None

    def run_until(self, deadline_ms, stop=None):
        """Run timers in time order up to ``deadline_ms``.

        If ``stop()`` becomes true after a timer ran (or is already true), return ``True`` right there, leaving
        ``now_ms`` at that timer's time. Otherwise run everything due and set ``now_ms = deadline_ms``.
        """
        if stop is not None and stop():
            return True
        deadline_ms = int(deadline_ms)
        while True:
            due = self.next_due_ms()
            if due is None or due > deadline_ms:
                break
            timer = heapq.heappop(self._queue)
            self.now_ms = timer.at_ms
            timer.callback()
            if stop is not None and stop():
                return True
        self.now_ms = max(self.now_ms, deadline_ms)
        return False

    def advance(self, ms):
        """Move time forward by ``ms``, running every timer that falls due on the way."""
        if ms < 0:
            raise ValueError(f"cannot move time backwards ({ms} ms)")
        self.run_until(self.now_ms + int(ms))

    def pending(self):
        return sum(1 for t in self._queue if not t.cancelled)
