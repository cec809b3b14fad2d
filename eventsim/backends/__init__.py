"""``connect()``: one call that gives a notebook a Kafka cluster, simulated or real.

    import eventsim
    kafka = eventsim.connect()                        # EVENTSIM_BACKEND, default "sim"
    kafka = eventsim.connect("sim", brokers=3, controllers=3, seed=0)
    kafka = eventsim.connect("local")                 # real Kafka: 3 brokers + 3 controllers as Java processes
    kafka = eventsim.connect("local", brokers=1, controllers=1)   # the light start
    kafka = eventsim.connect("testcontainers")        # the same shape in Docker containers
    kafka = eventsim.connect("external")              # a shared cluster: KAFKA_BOOTSTRAP_SERVERS, ...

Every backend that starts a cluster gives the course shape by default: 3 brokers (ids 1, 2, 3) and a KRaft
controller quorum of 3 dedicated controllers (ids 101, 102, 103).

The handle (see :mod:`eventsim.backends.base`) hands out clients with ``bootstrap.servers`` filled in
(``kafka.Producer(conf)``, ``kafka.Consumer(conf)``, ``kafka.admin()``), draws the cluster
(``kafka.snapshot()``), offers one control surface (``wait``, ``stop_broker``, ``pause_broker``,
``stop_controller``, ... ; ``kafka.capabilities()`` says which work on this backend), and stops what it
started (``close()``, ``with``, or at exit).

The backend modules import their heavy dependencies (the simulator, confluent-kafka, testcontainers)
only when used, so ``import eventsim`` stays fast.
"""
from __future__ import annotations

import os

from .base import (BACKEND_NAMES, Backend, BackendError, BackendUnavailable, NotSupportedByBackend,
                   with_bootstrap)

__all__ = ["connect", "default_backend", "Backend", "BackendError", "BackendUnavailable",
           "NotSupportedByBackend", "BACKEND_NAMES", "with_bootstrap"]


def default_backend(env=None):
    """The backend named by ``EVENTSIM_BACKEND`` (stripped, lower-case), ``"sim"`` when unset."""
    env = os.environ if env is None else env
    return (env.get("EVENTSIM_BACKEND") or "sim").strip().lower()


def connect(backend=None, **options):
    """A handle on a Kafka cluster of the chosen backend.

    ``backend``: ``"sim"``, ``"local"``, ``"testcontainers"`` or ``"external"``; ``None`` reads
    ``EVENTSIM_BACKEND`` (default ``"sim"``). ``options`` go to the backend:

    * sim: ``brokers=3, controllers=3, seed=0, name=None, config=None, start_time_ms=EPOCH_MS`` (a new
      ``eventsim.cluster.Cluster``; its clock starts at ``start_time_ms``, ms since 1970, by default
      ``eventsim.clock.EPOCH_MS``: 2026-01-01T00:00:00Z)
    * local: ``brokers=3|1, controllers=3|1, broker_config=None, jvm_opts=None, startup_timeout=120,
      data_dir=None, quiet=False``
    * testcontainers: ``brokers=3|1, controllers=3|1, image=None, ports=None, broker_config=None,
      startup_timeout=180, quiet=False``
    * external: ``bootstrap_servers=None, config=None, namespace=None`` (defaults from the environment)
    """
    name = default_backend() if backend is None else str(backend).strip().lower()
    if name == "sim":
        from .sim import SimKafka
        return SimKafka(**options)
    if name == "local":
        from .local import LocalKafka
        return LocalKafka(**options)
    if name == "testcontainers":
        from .testcontainers import TestcontainersKafka
        return TestcontainersKafka(**options)
    if name == "external":
        from .external import ExternalKafka
        return ExternalKafka(**options)
    raise BackendError("Unknown eventsim backend %r: choose one of %s (EVENTSIM_BACKEND=%s)."
                       % (name, ", ".join(BACKEND_NAMES), " | ".join(BACKEND_NAMES)))
