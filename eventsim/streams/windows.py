"""Windows on event time: tumbling, hopping and session windows, with a grace period.

Event time is the record's timestamp (the producer's ``CreateTime``, or ``LogAppendTime`` if the topic says
so), not the moment the record is processed. Kafka Streams keeps, per task, a **stream time**: the largest
event time seen so far. It never goes backwards, and it decides when a window *closes*:

* a time window ``[start, end)`` (start inclusive, end exclusive, as Kafka) accepts records while
  ``stream time < end + grace``; once stream time reaches ``end + grace`` the window is closed and a record
  that belongs to it is *late*: dropped and counted (Kafka's ``dropped-records`` metric);
* a record that arrives out of order but within the grace period is simply added to its window.

Window kinds (as Kafka's ``TimeWindows`` / ``SessionWindows``):

* **tumbling** ``TimeWindows(size_ms)``: fixed, non-overlapping, aligned to the epoch: ``[0, size)``,
  ``[size, 2*size)``, ...; each record is in exactly one window.
* **hopping** ``TimeWindows(size_ms, advance_ms)``: fixed size, starting every ``advance_ms``
  (``advance_ms < size_ms``), so windows overlap and a record is in ``size / advance`` of them.
* **session** ``SessionWindows(gap_ms)``: per key, records closer than the inactivity gap share a session;
  a record that bridges two sessions merges them. A session ``[start, end]`` is inclusive at both ends
  (Kafka's convention); it closes once ``stream time > end + grace``.

Bounds (checked when the window is defined, with a ``ValueError`` naming them): every duration is an int of
milliseconds that fits Kafka's ``long`` (at most ``MAX_MS``), and a hopping window may put one record in at
most ``MAX_WINDOWS_PER_RECORD`` (1,000) windows: ``ceil(size_ms / advance_ms) <= 1000``. Kafka's
``TimeWindows`` has no such bound, but each window a record falls in costs a store update, a changelog
record and a downstream record, so ``hopping(10**9, 1)`` would make 10⁹ of each *per record*. 1,000 leaves
room for any sensible hopping window (a 1-hour window every 5 s is 720, a minute every 100 ms is 600).
"""
from __future__ import annotations

from dataclasses import dataclass

#: Kafka's ``Long.MAX_VALUE``: the largest duration (and timestamp) in milliseconds Kafka can hold.
MAX_MS = (1 << 63) - 1
#: The most time windows one record may fall into: ``ceil(size_ms / advance_ms)`` (see the module docstring).
MAX_WINDOWS_PER_RECORD = 1_000


@dataclass(frozen=True, order=True)
class Window:
    """A window of event time. Time windows are ``[start_ms, end_ms)``; sessions ``[start_ms, end_ms]``."""
    start_ms: int
    end_ms: int | None


@dataclass(frozen=True)
class Windowed:
    """A windowed key, as the result of a windowed aggregation is keyed (Kafka's ``Windowed<K>``)."""
    key: object
    window: Window

    def __repr__(self):
        return f"Windowed({self.key!r}, start_ms={self.window.start_ms}, end_ms={self.window.end_ms})"


def _ms(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int of milliseconds, got {value!r}")
    if not minimum <= value <= MAX_MS:
        raise ValueError(f"{name} must be >= {minimum} ms and <= {MAX_MS} ms (Kafka's Long.MAX_VALUE), "
                         f"got {value}")
    return value


class TimeWindows:
    """Tumbling (``advance_ms`` omitted or equal to ``size_ms``) or hopping time windows on event time.

    ``grace_ms`` (default 0, Kafka's ``ofSizeWithNoGrace``) is how long after its end a window still
    accepts out-of-order records.
    """

    kind = "time"

    def __init__(self, size_ms, advance_ms=None, grace_ms=0):
        self.size_ms = size_ms
        self.advance_ms = size_ms if advance_ms is None else advance_ms
        self.grace_ms = grace_ms
        self.check()

    def check(self):
        """Validate the definition (``windowed_by()`` calls it again); ``ValueError``/``TypeError`` if wrong."""
        _ms("size_ms", self.size_ms, 1)
        _ms("advance_ms", self.advance_ms, 1)
        _ms("grace_ms", self.grace_ms, 0)
        if self.advance_ms > self.size_ms:
            raise ValueError(f"advance_ms ({self.advance_ms}) must be <= size_ms ({self.size_ms}); "
                             f"a larger advance would leave gaps no window covers")
        per_record = -(-self.size_ms // self.advance_ms)
        if per_record > MAX_WINDOWS_PER_RECORD:
            raise ValueError(f"hopping windows of size_ms={self.size_ms} every advance_ms={self.advance_ms} put each "
                             f"record in {per_record} windows; at most MAX_WINDOWS_PER_RECORD="
                             f"{MAX_WINDOWS_PER_RECORD} are allowed: use an advance_ms >= "
                             f"{-(-self.size_ms // MAX_WINDOWS_PER_RECORD)} or a smaller size_ms")
        return self

    @property
    def tumbling(self):
        return self.advance_ms == self.size_ms

    def windows_for(self, timestamp_ms):
        """Every window containing ``timestamp_ms``, earliest first (Kafka's ``TimeWindows.windowsFor``)."""
        start = max(0, timestamp_ms - self.size_ms + self.advance_ms) // self.advance_ms * self.advance_ms
        out = []
        while start <= timestamp_ms:
            out.append(Window(start, start + self.size_ms))
            start += self.advance_ms
        return out

    def close_time(self, window):
        """The stream time at which ``window`` closes: ``end + grace``."""
        return window.end_ms + self.grace_ms

    def is_closed(self, window, stream_time_ms):
        return stream_time_ms >= self.close_time(window)

    def __repr__(self):
        kind = "tumbling" if self.tumbling else f"hopping, advance {self.advance_ms} ms"
        return f"TimeWindows(size {self.size_ms} ms, {kind}, grace {self.grace_ms} ms)"


class SessionWindows:
    """Session windows: per key, records at most ``gap_ms`` apart belong to one session."""

    kind = "session"

    def __init__(self, gap_ms, grace_ms=0):
        self.gap_ms, self.grace_ms = gap_ms, grace_ms
        self.check()

    def check(self):
        """Validate the definition (``windowed_by()`` calls it again)."""
        _ms("gap_ms", self.gap_ms, 1)
        _ms("grace_ms", self.grace_ms, 0)
        return self

    def close_time(self, window):
        """A session ``[start, end]`` closes when stream time passes ``end + grace``."""
        return window.end_ms + self.grace_ms + 1

    def is_closed(self, window, stream_time_ms):
        return stream_time_ms >= self.close_time(window)

    def overlaps(self, window, timestamp_ms):
        """Does a record at ``timestamp_ms`` join (or bridge into) the session ``window``?"""
        return window.start_ms - self.gap_ms <= timestamp_ms <= window.end_ms + self.gap_ms

    def __repr__(self):
        return f"SessionWindows(gap {self.gap_ms} ms, grace {self.grace_ms} ms)"


def tumbling(size_ms, grace_ms=0):
    """``TimeWindows(size_ms, grace_ms=grace_ms)``: back-to-back windows ``[k*size, (k+1)*size)``."""
    return TimeWindows(size_ms, grace_ms=grace_ms)


def hopping(size_ms, advance_ms, grace_ms=0):
    """``TimeWindows(size_ms, advance_ms, grace_ms)``: overlapping windows starting every ``advance_ms``."""
    return TimeWindows(size_ms, advance_ms, grace_ms)


def session(gap_ms, grace_ms=0):
    """``SessionWindows(gap_ms, grace_ms)``."""
    return SessionWindows(gap_ms, grace_ms)
