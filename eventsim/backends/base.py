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

import html

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


class Backend:
    """Base class of the handles ``connect()`` returns.

    Subclasses set ``backend`` (its name) and ``bootstrap_servers`` and implement the client factories;
    ``stop_broker`` / ``start_broker`` raise :class:`NotSupportedByBackend` unless overridden.
    """

    backend = "?"
    bootstrap_servers = None

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

    # -- faults ------------------------------------------------------------------------------------
    def stop_broker(self, broker_id, clean=False, wait=True):
        """Stop one broker: ``clean=False`` is a crash, ``clean=True`` a controlled shutdown."""
        raise NotSupportedByBackend(
            "stop_broker() is not possible on the %r backend: %s. Use eventsim.connect(\"sim\") or "
            "eventsim.connect(\"local\", brokers=3) to watch a broker fail." % (self.backend, self.where()))

    def start_broker(self, broker_id, wait=True):
        """Start a stopped broker again, on the data it had."""
        raise NotSupportedByBackend(
            "start_broker() is not possible on the %r backend: %s. Use eventsim.connect(\"sim\") or "
            "eventsim.connect(\"local\", brokers=3) to restart brokers." % (self.backend, self.where()))

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
        from confluent_kafka.admin import AdminClient
        return AdminClient(self.client_conf(conf), **kwargs)

    AdminClient = admin
