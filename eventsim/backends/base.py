"""What every backend handle offers, whatever runs the brokers.

``eventsim.connect()`` returns a *handle*: an object that knows where a Kafka cluster is
(``bootstrap_servers``) and hands out clients for it. On the simulator the clients are eventsim's own
``Producer`` / ``Consumer`` / ``AdminClient``; on the real backends they are confluent-kafka's. Learner code
written against the handle therefore runs unchanged on both.

    kafka = eventsim.connect()              # EVENTSIM_BACKEND, default "sim"
    p = kafka.Producer({"acks": "all"})     # bootstrap.servers is filled in
    kafka.snapshot()                        # the same dict on every backend (see eventsim/snapshot.py)
    kafka.stop_broker(2); kafka.start_broker(2)
    kafka.close()                           # or: with eventsim.connect("local") as kafka: ...
"""
from __future__ import annotations

import functools
import html
import time

#: The backends ``connect()`` knows, in the order the course introduces them.
BACKEND_NAMES = ("sim", "local", "testcontainers", "external")

#: How to pick each backend without changing code, shown when a handle is printed.
SWITCH_HINT = ("set EVENTSIM_BACKEND=sim | local | testcontainers | external before starting Jupyter, "
               "or call eventsim.connect(\"local\", brokers=3)")


class BackendError(RuntimeError):
    """A backend cannot do what was asked (not installed, not reachable, not possible on this backend).

    The message is one readable paragraph saying what to install or which backend to use instead. In a
    notebook it is shown without the long traceback (IPython's ``_render_traceback_`` hook).
    """

    def _render_traceback_(self):
        return ["%s: %s" % (type(self).__name__, self)]


class BackendUnavailable(BackendError):
    """The backend's prerequisites (Java, the Kafka jars, Docker, a reachable cluster) are missing."""


class NotSupportedByBackend(BackendError):
    """The operation exists, but not on this backend (e.g. stopping a broker of an external cluster)."""


def with_bootstrap(conf, bootstrap_servers):
    """A copy of a client configuration with ``bootstrap.servers`` filled in when it is missing.

    An explicit ``bootstrap.servers`` (or its librdkafka alias ``metadata.broker.list``) is kept as given.
    """
    conf = dict(conf or {})
    if not conf.get("bootstrap.servers") and not conf.get("metadata.broker.list"):
        conf["bootstrap.servers"] = bootstrap_servers
    return conf


#: The control surface: every handle has every one of these methods, and the notebooks use nothing else
#: to act on a cluster. ``capabilities()`` says which of them this backend can really do; the others raise
#: :class:`NotSupportedByBackend` saying which backend can and what to do instead. The README's matrix is
#: generated from this tuple and the backends' ``capabilities()`` (scripts/make_readme_matrix.py).
CONTROL_METHODS = ("wait", "stop_broker", "start_broker", "pause_broker", "resume_broker",
                   "isolate_broker", "heal", "slow_broker", "stop_controller", "start_controller",
                   "run_retention_now", "run_log_cleaner_now", "drop_responses")

#: What to use instead, per control method, when a backend cannot do it.
INSTEAD = {
    "stop_broker": "eventsim.connect(\"sim\") or eventsim.connect(\"local\") start a cluster whose brokers you may stop",
    "start_broker": "eventsim.connect(\"sim\") or eventsim.connect(\"local\") start a cluster whose brokers you may restart",
    "pause_broker": "eventsim.connect(\"sim\") or eventsim.connect(\"local\") can freeze a broker",
    "resume_broker": "eventsim.connect(\"sim\") or eventsim.connect(\"local\") can freeze a broker",
    "isolate_broker": "eventsim.connect(\"sim\") cuts a broker off from the others",
    "heal": "eventsim.connect(\"sim\") models network faults",
    "slow_broker": "eventsim.connect(\"sim\") adds latency to a broker",
    "stop_controller": "eventsim.connect(\"sim\") or eventsim.connect(\"local\") start their own controller quorum",
    "start_controller": "eventsim.connect(\"sim\") or eventsim.connect(\"local\") start their own controller quorum",
    "run_retention_now": "eventsim.connect(\"sim\") or eventsim.connect(\"local\"), whose brokers check retention often",
    "run_log_cleaner_now": "eventsim.connect(\"sim\") or eventsim.connect(\"local\"), whose brokers compact often",
    "drop_responses": "eventsim.connect(\"sim\") can lose a response on its simulated network",
    "wait": "time.sleep()",
}


def _check_id(kind, node_id, known):
    """A broker or controller id as the handles take it: one of ``known`` (ints), else ``_INVALID_ARG``."""
    from ..errors import KafkaError, KafkaException
    if isinstance(node_id, bool) or not isinstance(node_id, int) or node_id not in known:
        raise KafkaException(KafkaError(KafkaError._INVALID_ARG, reason="no %s %r; the %ss are %s"
                                        % (kind, node_id, kind, sorted(known))))


def check_wait_ms(ms, limit_ms=None):
    """``wait(ms)``'s argument: a number of milliseconds >= 0 (and at most ``limit_ms`` where real time
    passes), else ``ValueError`` naming what was given."""
    if isinstance(ms, bool) or not isinstance(ms, (int, float)) or ms != ms or ms < 0 or ms == float("inf"):
        raise ValueError("wait() takes a number of milliseconds >= 0, got %r" % (ms,))
    if limit_ms is not None and ms > limit_ms:
        raise ValueError("wait(%r) on a real cluster would block for %.0f s; waits here are limited to %d ms "
                         "(on the simulator time is virtual and any wait is instant)" % (ms, ms / 1000, limit_ms))
    return ms


#: Besides the control methods, what a closed handle refuses.
_GUARDED = ("Producer", "Consumer", "admin", "AdminClient", "snapshot")


def _refuse_when_closed(method):
    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        if self.closed:
            raise BackendError("%s() on a closed %r handle: close() released its cluster. Call "
                               "eventsim.connect() again for a new one." % (method.__name__, self.backend))
        return method(self, *args, **kwargs)
    return guarded


class Backend:
    """Base class of the handles ``connect()`` returns.

    Subclasses set ``backend`` (its name) and ``bootstrap_servers``, implement the client factories and
    override the control methods they can really do. Every other control method raises
    :class:`NotSupportedByBackend`; ``capabilities()`` lists which is which.
    """

    backend = "?"
    bootstrap_servers = None
    closed = False
    #: Node ids, as ``snapshot()`` reports them: brokers ``1..N``, KRaft controllers ``101..``.
    broker_ids = ()
    controller_ids = ()

    def __init_subclass__(cls, **kwargs):
        """Every client factory and control method a subclass defines refuses to run on a closed handle."""
        super().__init_subclass__(**kwargs)
        for name in CONTROL_METHODS + _GUARDED:
            if name in cls.__dict__ and callable(cls.__dict__[name]):
                setattr(cls, name, _refuse_when_closed(cls.__dict__[name]))

    # -- clients -----------------------------------------------------------------------------------
    def Producer(self, conf=None, **kwargs):  # noqa: N802  (named like the client class it returns)
        """A producer for this cluster; ``bootstrap.servers`` is filled in when ``conf`` lacks it."""
        raise NotImplementedError

    def Consumer(self, conf=None, **kwargs):  # noqa: N802
        """A consumer for this cluster; ``bootstrap.servers`` is filled in when ``conf`` lacks it."""
        raise NotImplementedError

    def admin(self, conf=None, **kwargs):
        """An ``AdminClient`` for this cluster (create/delete topics, describe groups, ...)."""
        raise NotImplementedError

    AdminClient = admin

    # -- state -------------------------------------------------------------------------------------
    def snapshot(self, records=False, max_records=20, include_internal=False):
        """The cluster as a plain, JSON-able dict (schema: docs/architecture.md, "The snapshot").

        ``records=True`` adds the last ``max_records`` records of each partition; internal topics
        (``__consumer_offsets``, ``__transaction_state``) are left out unless ``include_internal=True``.
        """
        raise NotImplementedError

    @property
    def now_ms(self):
        """The cluster's clock in ms since 1970: virtual on the simulator (from its ``start_time_ms``), the
        wall clock on real Kafka."""
        return int(time.time() * 1000)

    @property
    def elapsed_ms(self):
        """Virtual time since the simulated cluster started; ``None`` on real Kafka (no virtual clock), as the
        snapshot's ``time_ms``."""
        return None

    # -- what this backend can do ---------------------------------------------------------------------
    @classmethod
    def class_capabilities(cls):
        """``{control method: True/False}`` as far as the class decides (overridden = supported)."""
        return {m: getattr(cls, m) is not getattr(Backend, m) for m in CONTROL_METHODS}

    def capabilities(self):
        """``{control method: True/False}``: which control methods really act on this cluster."""
        return self.class_capabilities()

    def supports(self, *methods):
        """True if every named control method works here; otherwise print one line saying which does
        not and return False. Notebooks guard fault cells with it:
        ``if kafka.supports("slow_broker"): ...``."""
        unknown = [m for m in methods if m not in CONTROL_METHODS]
        if unknown:
            raise ValueError("unknown control method(s) %s; the control methods are %s"
                             % (", ".join(map(repr, unknown)), ", ".join(CONTROL_METHODS)))
        caps = self.capabilities()
        missing = [m for m in methods if not caps[m]]
        if missing:
            print("Skipped on the %r backend: it cannot %s. Instead: %s."
                  % (self.backend, " or ".join(m + "()" for m in missing), INSTEAD[missing[0]]))
        return not missing

    def simulator_only(self, what):
        """True on the simulator. On a real backend print one line saying this look inside the simulator
        (``what``) is skipped, and return False. Notebooks guard simulator-only asides with it."""
        print("Simulator only (%s): skipped on the %r backend." % (what, self.backend))
        return False

    #: A sentence saying why this backend cannot do the control methods it does not override.
    unsupported_reason = None

    def _unsupported(self, method):
        raise NotSupportedByBackend(
            "%s() is not possible on the %r backend (%s). Instead: %s. kafka.capabilities() lists what "
            "this backend can do." % (method, self.backend, self.unsupported_reason or self.where(),
                                      INSTEAD[method]))

    # -- the control surface ---------------------------------------------------------------------------
    def wait(self, ms):
        """Let ``ms`` milliseconds pass: virtual time on the simulator, real time elsewhere."""
        self._unsupported("wait")

    def stop_broker(self, broker_id, clean=False, wait=True):
        """Stop one broker: ``clean=False`` is a crash, ``clean=True`` a controlled shutdown. With
        ``wait=True`` return once the controller has moved leadership off it."""
        self._unsupported("stop_broker")

    def start_broker(self, broker_id, wait=True):
        """Start a stopped broker again, on the data it had; with ``wait=True`` return once it is back
        in the ISR of its partitions."""
        self._unsupported("start_broker")

    def pause_broker(self, broker_id):
        """Freeze a broker's process (a long GC pause): it keeps its state but answers nothing, fetches
        nothing and sends no heartbeat, so after ``broker.session.timeout.ms`` the controller fences it."""
        self._unsupported("pause_broker")

    def resume_broker(self, broker_id, wait=True):
        """Unfreeze a paused broker; it registers again and catches up."""
        self._unsupported("resume_broker")

    def isolate_broker(self, broker_id):
        """Cut a broker off from the other brokers and the controllers; clients still reach it."""
        self._unsupported("isolate_broker")

    def heal(self):
        """Remove every network fault (isolation, added latency, responses to drop)."""
        self._unsupported("heal")

    def slow_broker(self, broker_id, ms):
        """Add ``ms`` of latency to every message to or from a broker (``ms=0`` removes it)."""
        self._unsupported("slow_broker")

    def stop_controller(self, controller_id, wait=True):
        """Crash one KRaft controller. Losing one of three changes nothing a client sees (a new active
        controller is elected if it was the active one; with ``wait=True`` return once it is); losing two
        loses the quorum's majority."""
        self._unsupported("stop_controller")

    def start_controller(self, controller_id, wait=True):
        """Start a stopped controller again on its metadata log."""
        self._unsupported("start_controller")

    def run_retention_now(self):
        """Let the brokers apply retention now; returns ``{"topic-partition": (old, new) log start offset}``
        for the partitions whose log start moved."""
        self._unsupported("run_retention_now")

    def run_log_cleaner_now(self):
        """Let the log cleaner compact every compacted topic now; returns ``{"topic-partition": records
        removed}`` where it removed any."""
        self._unsupported("run_log_cleaner_now")

    def drop_responses(self, topic, partition=0, count=1, api="Produce"):
        """Lose the next ``count`` responses of ``api`` for one partition on the network: the broker did
        the work, the client never hears of it (and retries)."""
        self._unsupported("drop_responses")

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self):
        """Release the cluster (real backends stop their brokers). Safe to call twice."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- printing ----------------------------------------------------------------------------------
    def where(self):
        """One line saying where the brokers run."""
        return "bootstrap.servers=%s" % self.bootstrap_servers

    def describe(self):
        """(title, where, how to switch) shown by ``repr()`` and in a notebook."""
        return ("eventsim backend %r" % self.backend, self.where(), SWITCH_HINT)

    def __repr__(self):
        title, where, hint = self.describe()
        return "<%s: %s; %s>" % (title, where, hint)

    def _repr_html_(self):
        title, where, hint = (html.escape(s) for s in self.describe())
        return ("<div class=\"eventsim-backend\"><b>%s</b><br>%s<br><small>To switch: %s</small></div>"
                % (title, where, hint))


class RealKafkaBackend(Backend):
    """A handle on a real Kafka cluster reached directly: the clients are confluent-kafka's own classes."""

    def client_conf(self, conf=None):
        return with_bootstrap(conf, self.bootstrap_servers)

    def Producer(self, conf=None, **kwargs):  # noqa: N802
        from confluent_kafka import Producer
        return Producer(self.client_conf(conf), **kwargs)

    def Consumer(self, conf=None, **kwargs):  # noqa: N802
        from confluent_kafka import Consumer
        return Consumer(self.client_conf(conf), **kwargs)

    def admin(self, conf=None, **kwargs):
        """A confluent-kafka ``AdminClient`` whose ``create_topics`` results wait until the brokers list
        the new topic (``visible_topics.py``)."""
        from confluent_kafka.admin import AdminClient
        from .visible_topics import TopicsVisibleAdmin
        conf = self.client_conf(conf)
        return TopicsVisibleAdmin(AdminClient(conf, **kwargs), conf)

    AdminClient = admin

    #: The longest ``wait()`` on a real cluster: the course never needs more, and a typo (an hour of
    #: virtual time that made sense on the simulator) should not block a kernel.
    MAX_REAL_WAIT_MS = 120_000

    def wait(self, ms):
        """Sleep ``ms`` milliseconds of real time (at most :attr:`MAX_REAL_WAIT_MS`)."""
        time.sleep(check_wait_ms(ms, self.MAX_REAL_WAIT_MS) / 1000)
