"""The one adapter every view talks to: ``snapshot()``, ``stop_broker()``, ``start_broker()``, ``advance()``.

A view is given either an ``eventsim.cluster.Cluster`` (the simulator itself) or a backend handle from
``eventsim.connect(...)`` (simulator or real Kafka). :func:`view_source` wraps both behind the same four
calls, so the views draw only from the common snapshot (see ``docs/architecture.md``) and work on every
backend. Moving time forward (``advance``) exists only on the simulator: real brokers run on the wall
clock, and asking them to "advance" raises a clear error instead of silently doing nothing.
"""
from __future__ import annotations

import inspect

from ..errors import KafkaError, KafkaException
from ..snapshot import check_max_records


def _is_simulator(obj):
    """Duck-typed check for ``eventsim.cluster.Cluster``: it has a virtual clock and ``advance``."""
    return obj is not None and hasattr(obj, "clock") and callable(getattr(obj, "advance", None)) \
        and callable(getattr(obj, "snapshot", None))


def _accepts_records(snapshot_fn):
    try:
        params = inspect.signature(snapshot_fn).parameters
    except (TypeError, ValueError):
        return False
    return "records" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


class ViewSource:
    """What a view needs from a cluster, whatever the backend.

    ``snapshot(records=False, max_records=None)`` returns the plain snapshot dict (``max_records=None``:
    the backend's default, 20 records per partition). Broker ids are checked
    against the latest snapshot before a stop or start is sent, so a typo gets
    ``KafkaError._UNKNOWN_BROKER`` naming the id instead of whatever the backend would do with it.
    """

    def __init__(self, target):
        if not callable(getattr(target, "snapshot", None)):
            raise TypeError(
                "expected an eventsim Cluster or a handle from eventsim.connect(...) (something with "
                f"snapshot()), got {type(target).__name__}")
        self.target = target
        self.cluster = target if _is_simulator(target) else getattr(target, "cluster", None)
        if not _is_simulator(self.cluster):
            self.cluster = None

    @property
    def is_simulator(self):
        """True when a simulated ``Cluster`` (with its virtual clock) is behind this source."""
        return self.cluster is not None

    def snapshot(self, records=False, max_records=None):
        """The common snapshot; with ``records=True`` the last ``max_records`` records of each partition.

        A backend that cannot return records leaves ``partition["records"]`` as ``None``; views then draw
        offsets without keys and values.
        """
        limit = {} if max_records is None else {"max_records": check_max_records(max_records)}
        if not records:
            return self.target.snapshot()
        for fn in (self.target.snapshot, getattr(self.cluster, "snapshot", None)):
            if fn is not None and _accepts_records(fn):
                return fn(records=True, **limit)
        return self.target.snapshot()

    def _check_broker(self, broker_id):
        ids = [b["id"] for b in self.snapshot()["brokers"]]
        if isinstance(broker_id, bool) or not isinstance(broker_id, int) or broker_id not in ids:
            raise KafkaException(KafkaError(
                KafkaError._UNKNOWN_BROKER,
                reason=f"unknown broker {broker_id!r}: this cluster has brokers {', '.join(map(str, ids))}"))

    def _control(self, name):
        for obj in (self.target, self.cluster):
            fn = getattr(obj, name, None) if obj is not None else None
            if callable(fn):
                return fn
        raise KafkaException(KafkaError(
            KafkaError._NOT_IMPLEMENTED,
            reason=f"this backend ({self.backend_name()}) cannot {name.replace('_', ' ')}s: "
                   "it does not control the broker processes"))

    def stop_broker(self, broker_id, clean=False, wait=None):
        """Stop a broker: a crash (``clean=False``) or a controlled shutdown (``clean=True``).

        ``wait`` is passed on to backends that take it (``wait=False``: return at once, before the
        controller has reacted); ``None`` keeps the backend's default.
        """
        self._check_broker(broker_id)
        fn = self._control("stop_broker")
        fn(broker_id, clean=clean, **self._wait_kwarg(fn, wait))

    def start_broker(self, broker_id, wait=None):
        """Start a stopped broker again (``wait`` as in :meth:`stop_broker`)."""
        self._check_broker(broker_id)
        fn = self._control("start_broker")
        fn(broker_id, **self._wait_kwarg(fn, wait))

    @staticmethod
    def _wait_kwarg(fn, wait):
        if wait is None:
            return {}
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            return {}
        return {"wait": wait} if "wait" in params else {}

    def advance(self, ms):
        """Run the simulator's virtual clock forward ``ms`` milliseconds (simulator only)."""
        if not self.is_simulator:
            raise KafkaException(KafkaError(
                KafkaError._NOT_IMPLEMENTED,
                reason=f"advance({ms!r}) needs the simulator: the {self.backend_name()} backend runs on "
                       "the wall clock, so time passes by itself there"))
        if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
            raise KafkaException(KafkaError(
                KafkaError._INVALID_ARG, reason=f"advance(ms) needs a whole number of ms >= 0, got {ms!r}"))
        self.cluster.advance(ms)

    def elapsed_ms(self):
        """Virtual time since the simulated cluster started, else the ``time_ms`` of a fresh snapshot."""
        if self.is_simulator:
            return self.cluster.clock.elapsed_ms
        return self.snapshot()["time_ms"]

    def settle(self, done, timeout_ms, step_ms=100):
        """Simulator only: run the clock until ``done(snapshot)`` holds or ``timeout_ms`` have passed.

        Returns the last snapshot. Used after a crash, which the controller only notices once the
        broker has missed heartbeats for ``broker.session.timeout.ms``. With ``Cluster.run_until`` the
        condition is checked after every timer (so times are exact); otherwise every ``step_ms``.
        """
        if callable(getattr(self.cluster, "run_until", None)):
            self.cluster.run_until(lambda: bool(done(self.snapshot())), timeout_ms)
            return self.snapshot()
        snap = self.snapshot()
        waited = 0
        while not done(snap) and waited < timeout_ms:
            step = min(step_ms, timeout_ms - waited)
            self.advance(step)
            waited += step
            snap = self.snapshot()
        return snap

    def backend_name(self):
        name = getattr(self.target, "backend", None) or getattr(self.target, "name", None)
        return name if isinstance(name, str) else type(self.target).__name__


def view_source(kafka_or_cluster):
    """Wrap a ``Cluster`` or an ``eventsim.connect(...)`` handle (a ``ViewSource`` is passed through)."""
    if isinstance(kafka_or_cluster, ViewSource):
        return kafka_or_cluster
    return ViewSource(kafka_or_cluster)
