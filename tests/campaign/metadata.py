"""Cluster and topic metadata as clients see it (``list_topics``)."""
from __future__ import annotations

import campaign
from differential_scenarios import error_code

campaign.area(__name__, "Metadata (list_topics)")


def _check_new_topic_metadata(real):
    assert real["partitions"] == [0, 1, 2]
    assert real["replicas"] == [3, 3, 3] and real["leader_in_isr"] == [True] * 3
    assert real["error"] is None


@campaign.scenario(check=_check_new_topic_metadata)
def new_topic_metadata(run):
    """A new topic's metadata lists every partition with a leader in its ISR and as many replicas as asked,
    and no error."""
    topic = run.topic(partitions=3, replication_factor=3)
    meta = run.admin().list_topics(topic, timeout=10).topics[topic]
    parts = [meta.partitions[p] for p in sorted(meta.partitions)]
    return {"partitions": [p.id for p in parts], "replicas": [len(p.replicas) for p in parts],
            "leader_in_isr": [p.leader in p.isrs for p in parts], "error": error_code(meta.error),
            "types": [type(meta.topic).__name__, type(parts[0].leader).__name__]}


def _check_unknown_topic(real):
    assert real["error"] == "UNKNOWN_TOPIC_OR_PART" and real["partitions"] == 0


@campaign.scenario(check=_check_unknown_topic)
def metadata_of_a_topic_that_does_not_exist(run):
    """Asking an admin client for a topic nobody created lists it with ``UNKNOWN_TOPIC_OR_PART`` and no
    partitions (the admin client never auto-creates topics)."""
    name = run.unique_name("missing")
    meta = run.admin().list_topics(name, timeout=10).topics[name]
    return {"error": meta.error.name() if meta.error else None, "partitions": len(meta.partitions)}
