"""Manual replica assignments (``replica_assignment=`` of ``NewTopic`` / ``NewPartitions``): the checks
the client makes at the call and the ones the controller makes, each with the real system's messages.

* **The client** (confluent-kafka 2.16's ``Admin_set_replica_assignment`` and librdkafka's
  ``rd_kafka_New*_set_replica_assignment``) refuses with ``ValueError``, before anything is sent, a
  value that is not a list of non-empty lists of ints, or whose outer size is wrong: exactly
  ``num_partitions`` for a new topic, 1..``new_total_count`` for new partitions (the client does not
  know how many the topic has). ``bool`` is an ``int`` to it (``True`` is broker 1), and a broker id is
  cut to 32 bits, as C's ``(int32_t)`` cast does.
* **The controller** (Kafka 4.x ``ReplicationControlManager``: ``createTopic``, ``createPartitions``,
  ``validateManualPartitionAssignment``) answers ``INVALID_REPLICA_ASSIGNMENT`` for an empty replica
  list, a broker that is not registered, a broker listed twice, a replica count that differs from the
  previous partitions', a CreatePartitions whose assignment count is not the number of partitions added,
  and a partition none of whose replicas is active (unfenced, not shutting down). Otherwise each
  partition's ISR is its active replicas in assignment order, and the first of them leads.
"""
from __future__ import annotations

from .errors import KafkaError

#: librdkafka's RD_KAFKAP_BROKERS_MAX: the most replicas one partition's assignment may list.
BROKERS_MAX = 10000


def check_client_assignment(assignment, min_count, max_count, outer_size):
    """confluent-kafka's checks at the call; returns the assignment as lists of 32-bit ints.

    ``outer_size`` names the expected outer size in the message ("num_partitions" or
    "new_total_count - existing partition count").
    """
    message = "replica_assignment must be a list of int lists with an outer size of %s" % outer_size
    if not isinstance(assignment, list) or not min_count <= len(assignment) <= max_count:
        raise ValueError(message)
    out = []
    for replicas in assignment:
        if not isinstance(replicas, list) or not replicas:
            raise ValueError(message)
        ids = []
        for broker in replicas:
            if not isinstance(broker, int):
                raise ValueError(message)
            if not -2 ** 63 <= broker < 2 ** 63:
                raise OverflowError("Python int too large to convert to C long")
            broker &= 0xFFFFFFFF
            ids.append(broker - 2 ** 32 if broker >= 2 ** 31 else broker)
        if len(ids) > BROKERS_MAX:
            raise ValueError("Too many brokers specified (RD_KAFKAP_BROKERS_MAX=%d)" % BROKERS_MAX)
        out.append(ids)
    return out


def _invalid(reason):
    return KafkaError(KafkaError.INVALID_REPLICA_ASSIGNMENT, reason=reason)


def _partition_error(replicas, registered, replication_factor):
    """``validateManualPartitionAssignment``: the brokers are checked in ascending id order."""
    if not replicas:
        return _invalid("The manual partition assignment includes an empty replica list.")
    previous = None
    for broker in sorted(replicas):
        if broker not in registered:
            return _invalid("The manual partition assignment includes broker %d, but no such broker is "
                            "registered." % broker)
        if broker == previous:
            return _invalid("The manual partition assignment includes the broker %d more than once." % broker)
        previous = broker
    if replication_factor is not None and len(replicas) != replication_factor:
        return _invalid("The manual partition assignment includes a partition with %d replica(s), but this is "
                        "not consistent with previous partitions, which have %d replica(s)."
                        % (len(replicas), replication_factor))
    return None


def place_manually(assignment, registered, active, replication_factor=None, first_partition=0):
    """The controller's checks of a manual assignment: ``(None, [(replicas, isr), ...])`` or
    ``(KafkaError, None)``. ``registered`` is the set of registered broker ids, ``active(id)`` tells an
    unfenced broker; ``replication_factor`` is the topic's (CreatePartitions) or None (CreateTopics: the
    first partition sets it)."""
    placed = []
    for i, replicas in enumerate(assignment):
        replicas = list(replicas)
        error = _partition_error(replicas, registered, replication_factor)
        if error is not None:
            return error, None
        replication_factor = len(replicas)
        isr = [b for b in replicas if active(b)]
        if not isr:
            return _invalid("All brokers specified in the manual partition assignment for partition %d are "
                            "fenced or in controlled shutdown." % (first_partition + i)), None
        placed.append((replicas, isr))
    return None, placed


def count_error(added, assignment):
    """CreatePartitions: one assignment per partition added."""
    if len(assignment) != added:
        return _invalid("Attempted to add %d additional partition(s), but only %d assignment(s) were specified."
                        % (added, len(assignment)))
    return None
