"""What every client can ask about the cluster and say about itself: ``cluster_id()`` and
``set_sasl_credentials()``, as confluent-kafka 2.16's ``Producer`` and ``Consumer`` have them.

* **The cluster id** (KIP-78) is the id ``kafka-storage format`` wrote into every node's storage: 16 bytes,
  printed as 22 characters of unpadded base64url (Kafka's ``Uuid.toString()``). Every Metadata response
  carries it, so ``cluster_id()`` is the same string as ``list_topics().cluster_id``. A simulated cluster
  derives its id from its seed: the same seed always gives the same id.
* **SASL credentials** (``sasl.username`` / ``sasl.password``, for the PLAIN and SCRAM mechanisms) are only
  used the next time the client authenticates a connection. The simulator has no authentication (every
  listener is PLAINTEXT), so it checks the arguments and keeps them; nothing else changes.
"""
from __future__ import annotations

import base64
import hashlib
import uuid

from . import timeouts as _timeouts
from .errors import KafkaError, KafkaException


def cluster_id_for_seed(seed):
    """A Kafka cluster id for a simulated cluster: a version-4 UUID made from the seed, in base64url without
    padding. Like Kafka's ``Uuid.randomUuid()`` it never starts with ``-`` (a command line would take it for
    an option)."""
    for attempt in range(1000):
        digest = hashlib.sha256(f"eventsim cluster {seed!r} {attempt}".encode()).digest()[:16]
        text = base64.urlsafe_b64encode(uuid.UUID(bytes=digest, version=4).bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text
    raise AssertionError("no cluster id")    # pragma: no cover - 1000 ids in a row starting with "-"


def _check_str(value, position):
    """confluent-kafka parses both credentials as ``str`` ("s" in ``PyArg_ParseTuple``)."""
    if not isinstance(value, str):
        name = "None" if value is None else type(value).__name__
        raise TypeError(f"argument {position} must be str, not {name}")


class ClientIdentity:
    """Mixed into ``Producer`` and ``Consumer`` (which provide ``_closed``, ``_cluster`` and ``_clock``)."""

    _sasl_credentials = None

    def _check_handle(self):
        """confluent-kafka's common handle check: ``RuntimeError("Handle has been closed")``."""
        if self._closed:
            raise RuntimeError("Handle has been closed")

    def cluster_id(self, timeout=-1):
        """The cluster id from the cluster's metadata (``str``). ``timeout`` is seconds, as every
        confluent-kafka timeout; if no broker answers within it, ``KafkaException(_TIMED_OUT)``."""
        wait_ms = _timeouts.timeout_ms(timeout, 60_000)
        self._check_handle()
        cluster = self._cluster
        alive = lambda: any(cluster.broker_alive(b) for b in cluster.brokers)    # noqa: E731
        if not alive():
            cluster.run_until(alive, wait_ms)
        if not alive():
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT, reason=(
                "Failed to retrieve cluster id: Local: Timed out. The broker must support KIP-78 (>= 0.10.1) "
                "for the cluster id to be available.")))
        return cluster.cluster_id

    def set_sasl_credentials(self, username, password):
        """Replace ``sasl.username`` / ``sasl.password`` for the next authentication; returns ``None``.
        Simplified: simulated listeners are PLAINTEXT, so the credentials are kept but never used."""
        _check_str(username, 1)
        _check_str(password, 2)
        self._check_handle()
        self._sasl_credentials = (username, password)
