"""Partition assignors: who in a consumer group reads which partition.

In Kafka's classic group protocol the *group leader* (one of the consumers) runs the assignor and sends
the result to the coordinator in its SyncGroup request. The assignor is chosen with the consumer config
``partition.assignment.strategy`` (librdkafka's default ``"range,roundrobin"``): the group uses the first
strategy every member supports.

Every assignor here is a pure function::

    assign(subscriptions, partitions_per_topic, owned=None) -> {member_id: [(topic, partition), ...]}

* ``subscriptions``: ``{member_id: [topic, ...]}``; members are always processed sorted by member id (as
  Kafka and librdkafka sort them), so the result does not depend on dict order;
* ``partitions_per_topic``: ``{topic: partition_count}`` (topics missing here get nothing assigned);
* ``owned``: ``{member_id: [(topic, partition), ...]}``, the partitions each member owns now (used by the
  sticky assignor only).

Every member appears in the result, possibly with an empty list; each list is sorted.

* ``range`` and ``roundrobin`` give bit-for-bit the results of Kafka's ``RangeAssignor`` and
  ``RoundRobinAssignor`` (and librdkafka's) for the same member ids. (For a group of static members the
  coordinator passes their ``group.instance.id`` as the names, the order librdkafka sorts them in; see
  ``eventsim/static.py``.) Rack awareness is not modelled.
* ``cooperative-sticky`` follows the idea of Kafka's ``CooperativeStickyAssignor``: keep partitions where
  they are, move as few as possible to balance the group, and, because the protocol is cooperative, leave
  a partition that changes owner *unassigned* in this round (see :func:`cooperative_adjust`); its old owner
  revokes it and rejoins, and the next rebalance gives it to the new owner. Simplification: the balancing is
  a greedy algorithm, not Kafka's exact one, so for unusual inputs the chosen partitions can differ from
  Kafka's; the guarantees (valid, balanced when subscriptions allow, sticky) are the same.
"""
from __future__ import annotations

EAGER = "EAGER"
COOPERATIVE = "COOPERATIVE"


def _sorted_members(subscriptions):
    return sorted(subscriptions)


def _topic_partitions(topic, partitions_per_topic):
    return [(topic, p) for p in range(partitions_per_topic.get(topic, 0) or 0)]


def range_assign(subscriptions, partitions_per_topic, owned=None):
    """Kafka's ``RangeAssignor``: per topic, consecutive ranges of partitions to the members, in member-id
    order; the first ``partitions % members`` members get one partition more.

    Example (Kafka's ``RangeAssignorTest``): topics t1, t2 with 3 partitions each, two members c1, c2 ->
    c1 = [t1-0, t1-1, t2-0, t2-1], c2 = [t1-2, t2-2].
    """
    result = {m: [] for m in subscriptions}
    topics = sorted({t for topics in subscriptions.values() for t in topics})
    for topic in topics:
        members = [m for m in _sorted_members(subscriptions) if topic in subscriptions[m]]
        partitions = _topic_partitions(topic, partitions_per_topic)
        per_member, extra = divmod(len(partitions), len(members))
        for i, member in enumerate(members):
            start = per_member * i + min(i, extra)
            length = per_member + (1 if i < extra else 0)
            result[member].extend(partitions[start:start + length])
    return {m: sorted(tps) for m, tps in result.items()}


def roundrobin_assign(subscriptions, partitions_per_topic, owned=None):
    """Kafka's ``RoundRobinAssignor``: all subscribed partitions sorted by (topic, partition), dealt out one
    by one to the members in member-id order, skipping members not subscribed to the partition's topic.

    Example (Kafka's ``RoundRobinAssignorTest``): topics t1, t2 with 3 partitions each, members c1, c2 ->
    c1 = [t1-0, t1-2, t2-1], c2 = [t1-1, t2-0, t2-2].
    """
    result = {m: [] for m in subscriptions}
    members = _sorted_members(subscriptions)
    if not members:
        return result
    topics = sorted({t for topics in subscriptions.values() for t in topics})
    position = 0
    for topic in topics:
        for tp in _topic_partitions(topic, partitions_per_topic):
            while topic not in subscriptions[members[position % len(members)]]:
                position += 1
            result[members[position % len(members)]].append(tp)
            position += 1
    return {m: sorted(tps) for m, tps in result.items()}


def sticky_assign(subscriptions, partitions_per_topic, owned=None):
    """The target assignment of a sticky assignor: balanced, and as close as possible to ``owned``.

    1. Each member keeps the partitions it owns that still exist and that it is still subscribed to (a
       partition claimed by two members stays with the first in member-id order), up to its quota:
       with ``P`` partitions and ``M`` members sharing one subscription, every member gets ``P // M`` or
       ``P // M + 1`` and only ``P % M`` members may keep the larger number.
    2. Every partition left over goes to the subscribed member with the fewest partitions (ties: the
       lowest member id).
    3. While some member has at least two partitions more than another member that could take one of
       them, one partition moves (needed only when subscriptions differ).
    """
    owned = owned or {}
    members = _sorted_members(subscriptions)
    result = {m: [] for m in members}
    if not members:
        return result
    all_tps = [tp for t in sorted({t for ts in subscriptions.values() for t in ts})
               for tp in _topic_partitions(t, partitions_per_topic)]
    valid = set(all_tps)
    total = len(all_tps)
    min_quota, extra = divmod(total, len(members))
    max_quota = min_quota + (1 if extra else 0)
    taken = set()
    members_at_max = 0
    for m in members:
        keep = [tp for tp in owned.get(m, []) if tp in valid and tp[0] in subscriptions[m] and tp not in taken]
        limit = min_quota
        if extra and len(keep) >= max_quota and members_at_max < extra:
            limit = max_quota
            members_at_max += 1
        for tp in keep[:limit]:
            result[m].append(tp)
            taken.add(tp)
    for tp in all_tps:
        if tp in taken:
            continue
        eligible = [m for m in members if tp[0] in subscriptions[m]]
        target = min(eligible, key=lambda m: (len(result[m]), members.index(m)))
        result[target].append(tp)
        taken.add(tp)
    _rebalance_heterogeneous(result, subscriptions, members)
    return {m: sorted(tps) for m, tps in result.items()}


def _rebalance_heterogeneous(result, subscriptions, members):
    """Step 3 of :func:`sticky_assign`: move single partitions from overloaded to underloaded members."""
    moved = True
    while moved:
        moved = False
        for giver in sorted(members, key=lambda m: (-len(result[m]), members.index(m))):
            for tp in reversed(sorted(result[giver])):
                takers = [m for m in members if tp[0] in subscriptions[m] and len(result[m]) + 1 < len(result[giver])]
                if takers:
                    taker = min(takers, key=lambda m: (len(result[m]), members.index(m)))
                    result[giver].remove(tp)
                    result[taker].append(tp)
                    moved = True
                    break
            if moved:
                break


def cooperative_adjust(target, owned):
    """Cooperative (incremental) rebalancing, KIP-429: a partition moving from member A to member B is
    left out of B's assignment in this generation. A sees that it no longer has it, revokes it (only it:
    A keeps everything else and goes on consuming), and rejoins; in the next rebalance nobody owns the
    partition any more and B gets it. This is what Kafka's ``CooperativeStickyAssignor`` does after
    computing its target.
    """
    owner = {}
    for member in sorted(owned):
        if member in target:
            for tp in owned[member]:
                owner.setdefault(tp, member)
    adjusted = {}
    for member, tps in target.items():
        adjusted[member] = [tp for tp in tps if owner.get(tp, member) == member]
    return adjusted


def cooperative_sticky_assign(subscriptions, partitions_per_topic, owned=None):
    """``cooperative-sticky``: :func:`sticky_assign`, then :func:`cooperative_adjust`."""
    owned = owned or {}
    return cooperative_adjust(sticky_assign(subscriptions, partitions_per_topic, owned), owned)


ASSIGNORS = {
    "range": range_assign,
    "roundrobin": roundrobin_assign,
    "cooperative-sticky": cooperative_sticky_assign,
}

# Which rebalance protocol each assignor uses (librdkafka: ``rebalance_protocol()``).
PROTOCOLS = {"range": EAGER, "roundrobin": EAGER, "cooperative-sticky": COOPERATIVE}


def parse_strategy(value):
    """``partition.assignment.strategy`` (``"range,roundrobin"``) -> ``["range", "roundrobin"]``.

    Raises ``ValueError`` naming an unknown assignor, or when eager and cooperative assignors are mixed
    (librdkafka refuses that too).
    """
    if isinstance(value, (list, tuple)):
        names = [str(v).strip() for v in value]
    else:
        names = [n.strip() for n in str(value).split(",") if n.strip()]
    if not names:
        raise ValueError("partition.assignment.strategy must name at least one assignor")
    for name in names:
        if name not in ASSIGNORS:
            raise ValueError(f"Unsupported partition.assignment.strategy {name!r}: choose from "
                             f"{', '.join(ASSIGNORS)}")
    if len({PROTOCOLS[n] for n in names}) > 1:
        raise ValueError(f"partition.assignment.strategy {','.join(names)!r} mixes eager and cooperative "
                         f"assignors")
    return names


def assign(strategy, subscriptions, partitions_per_topic, owned=None):
    """Run the assignor named ``strategy``; see the module docstring for the arguments."""
    try:
        fn = ASSIGNORS[strategy]
    except KeyError:
        raise ValueError(f"unknown assignor {strategy!r}; choose from {', '.join(ASSIGNORS)}") from None
    return fn(subscriptions, partitions_per_topic, owned)
