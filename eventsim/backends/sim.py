"""The ``sim`` backend: a new simulated cluster (``eventsim.cluster.Cluster``) behind the common handle.

    kafka = eventsim.connect("sim", brokers=3, controllers=3, seed=0)
    p = kafka.Producer({})   # an eventsim.producer.Producer with bootstrap.servers="sim://<name>"
    kafka.wait(1_000)        # one second of virtual time passes, instantly
    kafka.cluster            # the simulated Cluster itself, for simulator-only looks inside

Nothing runs outside this Python process: the brokers, the controllers, the network and time are
simulated, seeded and repeatable. The same seed and the same calls give the same snapshot. Every control
method of the handle (``eventsim.backends.base.CONTROL_METHODS``) works here.
"""
from __future__ import annotations

from ..clock import EPOCH_MS
from .base import Backend, check_wait_ms, with_bootstrap


class SimKafka(Backend):
    """A handle on a new simulated cluster; options go to ``Cluster(brokers, seed, name, config, controllers,
    start_time_ms)``: ``start_time_ms`` is where its virtual clock starts (ms since 1970, default
    ``eventsim.clock.EPOCH_MS``)."""

    backend = "sim"

    def __init__(self, brokers=3, seed=0, name=None, config=None, controllers=3, start_time_ms=EPOCH_MS):
        from ..cluster import Cluster
        self.cluster = Cluster(brokers=brokers, seed=seed, name=name, config=config, controllers=controllers,
                               start_time_ms=start_time_ms)
        self.seed = seed
        self._closed = False

    @property
    def closed(self):
        return self._closed

    @property
    def bootstrap_servers(self):
        return self.cluster.bootstrap_servers

    @property
    def broker_ids(self):
        return tuple(sorted(self.cluster.brokers))

    @property
    def controller_ids(self):
        return tuple(sorted(self.cluster.quorum.nodes))

    @property
    def now_ms(self):
        """The simulated brokers' clock in ms since 1970 (virtual: it starts at the cluster's
        ``start_time_ms`` and moves only with the simulation)."""
        return self.cluster.now_ms

    @property
    def elapsed_ms(self):
        """Virtual time since the cluster started, in ms."""
        return self.cluster.elapsed_ms

    def Producer(self, conf=None, **kwargs):  # noqa: N802
        from ..producer import Producer
        return Producer(with_bootstrap(conf, self.bootstrap_servers), **kwargs)

    def Consumer(self, conf=None, **kwargs):  # noqa: N802
        from ..consumer import Consumer
        return Consumer(with_bootstrap(conf, self.bootstrap_servers), **kwargs)

    def admin(self, conf=None, **kwargs):
        from ..admin import AdminClient
        return AdminClient(with_bootstrap(conf, self.bootstrap_servers), **kwargs)

    AdminClient = admin

    def snapshot(self, records=False, max_records=20, include_internal=False):
        return self.cluster.snapshot(records=records, max_records=max_records, include_internal=include_internal)

    def simulator_only(self, what):
        return True

    # -- the control surface: each one a method of the simulated Cluster ------------------------------
    def wait(self, ms):
        """Let ``ms`` milliseconds of virtual time pass (instantly): replication, timeouts, retention run."""
        self.cluster.advance(check_wait_ms(ms))

    def stop_broker(self, broker_id, clean=False, wait=True):
        """Crash (or, with ``clean=True``, shut down) a simulated broker; see ``Cluster.stop_broker``."""
        return self.cluster.stop_broker(broker_id, clean=clean, wait=wait)

    def start_broker(self, broker_id, wait=True):
        """Restart a simulated broker on its logs; see ``Cluster.start_broker``."""
        return self.cluster.start_broker(broker_id, wait=wait)

    def pause_broker(self, broker_id):
        return self.cluster.pause_broker(broker_id)

    def resume_broker(self, broker_id, wait=True):
        return self.cluster.resume_broker(broker_id, wait=wait)

    def isolate_broker(self, broker_id):
        return self.cluster.isolate_broker(broker_id)

    def heal(self):
        return self.cluster.heal_network()

    def slow_broker(self, broker_id, ms):
        return self.cluster.slow_broker(broker_id, ms)

    def stop_controller(self, controller_id, wait=True):
        return self.cluster.stop_controller(controller_id, wait=wait)

    def start_controller(self, controller_id, wait=True):
        return self.cluster.start_controller(controller_id, wait=wait)

    def run_retention_now(self):
        return self.cluster.run_retention_now()

    def run_log_cleaner_now(self):
        return self.cluster.run_log_cleaner_now()

    def drop_responses(self, topic, partition=0, count=1, api="Produce"):
        return self.cluster.drop_responses(topic, partition, count, api)

    def close(self):
        """Nothing to stop: the simulated cluster lives as long as something refers to it."""
        self._closed = True

    def where(self):
        return ("%d simulated brokers and %d controllers in this Python process (seed=%r, "
                "bootstrap.servers=%s; no Java, no network)"
                % (len(self.cluster.brokers), len(self.cluster.quorum.nodes), self.seed, self.bootstrap_servers))
