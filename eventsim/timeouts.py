"""Timeouts as confluent-kafka takes them, turned into virtual milliseconds.

confluent-kafka (2.16) parses every ``timeout`` argument as a C ``double`` of seconds:

* anything that is not a real number, ``None`` included, is a ``TypeError`` ("must be real number, not
  NoneType"), although its docstrings write ``poll([timeout=None])``; leaving the argument out means
  "wait forever" (-1);
* ``True`` is 1.0 and ``False`` is 0.0, as Python's ``float()`` has it;
* a negative timeout waits forever, and so do ``NaN``, ``inf`` and anything from ``2**31`` milliseconds
  (about 24.8 days) up: librdkafka keeps timeouts in an ``int`` of milliseconds.

In virtual time a wait forever would never return, so it is bounded: it lasts at most ``infinite_ms`` of
virtual time (the caller's bound, e.g. one minute for ``Consumer.poll``). A notebook cell cannot hang. A
finite timeout is honoured exactly up to :data:`MAX_WAIT_MS` (a quarter of an hour, longer than any wait
the course makes); a longer one returns after fifteen minutes, as if nothing had arrived in it: a consumer
in a group heartbeats every few seconds and retries its fetches while leaders are down, so each virtual
minute of waiting costs the simulator real work (``Cluster.advance`` is the way to let days pass).

**An empty wait is never zero.** A real loop that polls with ``timeout=0`` spins in wall-clock time while
librdkafka's threads send, fetch and heartbeat in the background. In virtual time nothing happens unless
someone moves the clock, so such a loop would spin forever. ``poll(0)`` (and ``consume(timeout=0)``,
``flush(0)``) therefore lets :data:`MIN_WAIT_MS` of virtual time pass when it has nothing to return.
"""
from __future__ import annotations

import math
import numbers

#: The least virtual time an application's poll/consume/flush takes when it has nothing to hand back.
MIN_WAIT_MS = 1

#: librdkafka's timeouts are ``int`` milliseconds: from here up a timeout means "forever".
FOREVER_MS = 2**31 - 1

#: The longest a finite timeout waits in virtual time.
MAX_WAIT_MS = 900_000


def timeout_ms(timeout, infinite_ms, minimum_ms=0):
    """Seconds as confluent-kafka takes them -> virtual milliseconds: ``infinite_ms`` for "forever",
    otherwise the timeout itself, but at least ``minimum_ms``."""
    if not isinstance(timeout, numbers.Real):
        raise TypeError(f"must be real number, not {type(timeout).__name__}")
    seconds = float(timeout)
    if math.isnan(seconds) or seconds < 0 or seconds * 1000 >= FOREVER_MS:
        return infinite_ms
    return max(minimum_ms, min(MAX_WAIT_MS, int(round(seconds * 1000))))
