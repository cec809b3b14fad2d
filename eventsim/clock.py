"""The virtual clock: simulated time in milliseconds, and the timers that run on it.

Nothing in the simulator reads wall-clock time. Every timed Kafka behaviour (``linger.ms``, follower
fetches, ``replica.lag.time.max.ms``, ``session.timeout.ms``, ``retention.ms`` checks, ...) is a timer on
this clock. Timers due at the same millisecond run in the order they were scheduled, so a run is a pure
function of the seed and the calls made: same seed, same results.

Like a real broker's clock, the virtual clock tells wall-clock time in ms since 1970: it starts at a
fixed, realistic moment, :data:`EPOCH_MS` (2026-01-01T00:00:00Z) unless told otherwise. A record produced
as a run starts carries that CreateTime, and time-based retention, ``offsets_for_times`` and the
``message.timestamp.*`` bounds compare against it as on a real cluster. What a learner reads as "how long
since the cluster started" (event logs, widgets, the snapshot's ``time_ms``) is :attr:`VirtualClock.elapsed_ms`.
"""
from __future__ import annotations

import heapq
import itertools
import math

#: Where every simulated cluster's clock starts, in ms since 1970: 2026-01-01T00:00:00Z. Fixed, so the same
#: seed gives the same timestamps; ``Cluster(start_time_ms=...)`` picks another moment.
EPOCH_MS = 1_767_225_600_000


def check_start_time_ms(start_ms):
    """``start_ms`` as an int of ms since 1970 that fits a Kafka timestamp (a signed 64-bit long), else
    ``ValueError`` naming the bad value."""
    if isinstance(start_ms, bool) or not isinstance(start_ms, int) or not 0 <= start_ms < 2 ** 63:
        nan = isinstance(start_ms, float) and math.isnan(start_ms)
        raise ValueError(f"start_time_ms takes an int of milliseconds since 1970, from 0 to 2**63 - 1, got "
                         f"{start_ms!r}" + (" (not a number)" if nan else ""))
    return start_ms


class Timer:
    """A callback scheduled at a virtual time; ``cancel()`` stops it from running."""

    __slots__ = ("at_ms", "seq", "callback", "name", "cancelled", "period_ms", "quiet")

    def __init__(self, at_ms, seq, callback, name, period_ms=None, quiet=None):
        self.at_ms = at_ms
        self.seq = seq
        self.callback = callback
        self.name = name
        self.cancelled = False
        self.period_ms = period_ms     # set for housekeeping that runs again every period_ms (see skip_to)
        self.quiet = quiet             # for a client's housekeeping: "a run now would change nothing"

    def cancel(self):
        self.cancelled = True

    def __lt__(self, other):
        return (self.at_ms, self.seq) < (other.at_ms, other.seq)

    def __repr__(self):
        return f"Timer({self.name!r} at {self.at_ms} ms)"


class VirtualClock:
    """Simulated time. ``now_ms`` (ms since 1970, from ``start_ms``) only moves when someone runs the clock
    forward."""

    def __init__(self, start_ms=EPOCH_MS):
        self.start_ms = check_start_time_ms(start_ms)
        self.now_ms = start_ms
        self._queue = []
        self._seq = itertools.count()

    @property
    def elapsed_ms(self):
        """Virtual time since the clock started: what an event log's "t=1 500 ms" means."""
        return self.now_ms - self.start_ms

    def schedule(self, delay_ms, callback, name="", period_ms=None, quiet=None):
        """Run ``callback()`` after ``delay_ms`` virtual milliseconds (0 = at the next run of the clock).

        ``period_ms`` marks *housekeeping*: a task that reschedules itself every ``period_ms`` and changes
        nothing while the cluster is idle, so :meth:`skip_to` may move it along its period. ``quiet()``, if
        given, says whether a run now would change nothing (a client's auto-commit with nothing to commit)."""
        if delay_ms < 0:
            raise ValueError(f"delay_ms must be >= 0, got {delay_ms}")
        return self.schedule_at(self.now_ms + int(delay_ms), callback, name, period_ms, quiet)

    def schedule_at(self, at_ms, callback, name="", period_ms=None, quiet=None):
        timer = Timer(max(int(at_ms), self.now_ms), next(self._seq), callback, name, period_ms, quiet)
        heapq.heappush(self._queue, timer)
        return timer

    def only_housekeeping_pending(self):
        """True if every pending timer is housekeeping (scheduled with ``period_ms``) that is quiet now."""
        return all(t.period_ms is not None and (t.quiet is None or t.quiet())
                   for t in self._queue if not t.cancelled)

    def skip_to(self, at_ms):
        """Jump to ``at_ms`` without running the housekeeping runs due on the way, when the caller knows each
        would have changed nothing. Each housekeeping timer keeps its phase (it next runs where it would
        have run anyway), so what follows is exactly what running every timer would have given. Returns
        ``{timer name: time of its last skipped run}``. Refused (``RuntimeError``) if any other timer is
        pending: that one might change something."""
        if not self.only_housekeeping_pending():
            raise RuntimeError("skip_to: a timer that is not housekeeping is pending")
        at_ms = int(at_ms)
        skipped = {}
        for timer in self._queue:
            if not timer.cancelled and timer.at_ms <= at_ms:
                runs = (at_ms - timer.at_ms) // timer.period_ms + 1
                skipped[timer.name] = max(skipped.get(timer.name, -1), timer.at_ms + (runs - 1) * timer.period_ms)
                timer.at_ms += runs * timer.period_ms
        heapq.heapify(self._queue)
        self.now_ms = max(self.now_ms, at_ms)
        return skipped

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
