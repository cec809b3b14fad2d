"""The ``sim`` backend: a new simulated cluster (``eventsim.cluster.Cluster``) behind the common handle.

    kafka = eventsim.connect("sim", brokers=3, seed=0)
    kafka.cluster            # the simulated Cluster: kafka.cluster.advance(ms), its virtual clock, ...
    p = kafka.Producer({})   # an eventsim.producer.Producer with bootstrap.servers="sim://<name>"

Nothing runs outside this Python process: the brokers, the network and time are simulated, seeded and
repeatable. The same seed and the same calls give the same snapshot.
"""
from __future__ import annotations

from .base import Backend, with_bootstrap


class SimKafka(Backend):
    """A handle on a new simulated cluster; ``options`` go to ``Cluster(brokers, seed, name, config)``."""

    backend = "sim"

    def __init__(self, brokers=3, seed=0, name=None, config=None):
        from ..cluster import Cluster
        self.cluster = Cluster(brokers=brokers, seed=seed, name=name, config=config)
        self.seed = seed
        self._closed = False

    @property
    def bootstrap_servers(self):
        return self.cluster.bootstrap_servers

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

    def stop_broker(self, broker_id, clean=False, wait=True):
        """Crash (or, with ``clean=True``, shut down) a simulated broker; see ``Cluster.stop_broker``."""
        return self.cluster.stop_broker(broker_id, clean=clean, wait=wait)

    def start_broker(self, broker_id, wait=True):
        """Restart a simulated broker on its logs; see ``Cluster.start_broker``."""
        return self.cluster.start_broker(broker_id, wait=wait)

    def close(self):
        """Nothing to stop: the simulated cluster lives as long as something refers to it."""
        self._closed = True

    def where(self):
        return ("%d simulated brokers in this Python process (seed=%r, bootstrap.servers=%s; no Java, no "
                "network)" % (len(self.cluster.brokers), self.seed, self.bootstrap_servers))
