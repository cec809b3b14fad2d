"""An ``AdminClient`` whose ``create_topics`` results mean what a learner expects: the topic can be used.

On a real cluster ``CreateTopics`` answers once the controller has committed the new topic; the brokers
learn of it a moment later, from the metadata log. A ``list_topics()`` (or a snapshot) right after
``create_topics(...)[name].result()`` can therefore still miss the topic, more often on a loaded machine.
The simulator has no such gap, so a notebook cell that creates a topic and then looks at it would work
there and fail now and then on real Kafka. This wrapper closes the gap on the real backends: each
``create_topics`` future resolves only once a fresh client's metadata lists the topic with a leader for
every partition (bounded by :data:`VISIBLE_TIMEOUT_S`; past that it resolves anyway).
"""
from __future__ import annotations

import concurrent.futures
import threading
import time

#: How long a ``create_topics`` future waits for the brokers to list the new topic.
VISIBLE_TIMEOUT_S = 30.0


class TopicsVisibleAdmin:
    """Forwards everything to a confluent-kafka ``AdminClient`` (``.raw``); ``create_topics`` waits for the
    brokers' metadata (unless ``validate_only=True``)."""

    def __init__(self, raw, client_conf):
        self.raw = raw
        self._client_conf = dict(client_conf)

    def __getattr__(self, name):
        return getattr(self.raw, name)

    def __len__(self):
        return len(self.raw)

    def create_topics(self, new_topics, *args, **kwargs):
        futures = self.raw.create_topics(new_topics, *args, **kwargs)
        if kwargs.get("validate_only"):
            return futures
        counts = {t.topic: t.num_partitions for t in new_topics}
        return {name: self._once_visible(future, name, counts.get(name)) for name, future in futures.items()}

    def _once_visible(self, future, topic, partitions):
        out = concurrent.futures.Future()

        def wait():
            try:
                result = future.result()
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                out.set_exception(exc)
                return
            wait_until_listed(self._client_conf, topic, partitions)
            out.set_result(result)
        threading.Thread(target=wait, name=f"wait for topic {topic}", daemon=True).start()
        return out


def wait_until_listed(client_conf, topic, partitions, timeout_s=VISIBLE_TIMEOUT_S):
    """Poll a fresh client's metadata until ``topic`` is listed with a leader for each partition (several
    answers in a row, since each may come from another broker); ``False`` after ``timeout_s``."""
    from .realsnapshot import fresh_admin
    admin = fresh_admin(client_conf)
    deadline = time.monotonic() + timeout_s
    agreed = 0
    while time.monotonic() < deadline:
        try:
            meta = admin.list_topics(topic, timeout=5).topics.get(topic)
        except Exception:  # noqa: BLE001 - a broker that is starting or stopping: ask again
            meta = None
        ok = (meta is not None and meta.error is None and meta.partitions
              and (partitions in (None, -1) or len(meta.partitions) == partitions)
              and all(p.leader >= 0 for p in meta.partitions.values()))
        agreed = agreed + 1 if ok else 0
        if agreed >= 3:
            return True
        time.sleep(0.05)
    return False
