"""Static group membership (KIP-345, ``group.instance.id``): the group coordinator's side.

The coordinator (``eventsim/group.py``) calls these helpers; they follow Kafka's classic group coordinator
(``GroupMetadataManager`` / ``ClassicGroup`` in Kafka 4.x):

* ``fencing_error``: Kafka's ``validateStaticMember``. A request that names an instance id owned by another
  member id comes from an older incarnation that was replaced: ``FENCED_INSTANCE_ID`` (82).
* ``replace_member``: Kafka's ``replaceStaticMember``. A JoinGroup with a known instance id and no member id
  (the consumer restarted) takes over the old member's entry under a new member id; the old incarnation's
  pending JoinGroup, if any, is answered ``FENCED_INSTANCE_ID``.
* ``rejoins_without_rebalance`` / ``answer_with_assignment``: in a Stable group, a replaced member whose
  protocols and subscription did not change gets the old member's assignment back at once: no rebalance,
  the generation stays, the other members keep their partitions (KIP-345, and KIP-814 for a leader).
"""
from __future__ import annotations

from . import config as _config
from .errors import KafkaError


def fencing_error(group, member_id, group_instance_id):
    """``FENCED_INSTANCE_ID`` when ``group_instance_id`` is owned by a member id other than ``member_id``."""
    if group_instance_id is None or group is None:
        return None
    owner = group.static_members.get(group_instance_id)
    if owner is None or owner == member_id:
        return None
    return KafkaError(KafkaError.FENCED_INSTANCE_ID)    # librdkafka shows only the code's description


def replace_member(group, group_instance_id, new_member_id):
    """The static member ``group_instance_id`` restarted: its entry gets ``new_member_id`` (keeping its place
    in join order, its leadership and its assignment). Returns the member."""
    old_id = group.static_members[group_instance_id]
    member = group.members[old_id]
    group.members = {(new_member_id if mid == old_id else mid): m for mid, m in group.members.items()}
    member.member_id = new_member_id
    if group.leader == old_id:
        group.leader = new_member_id
    group.static_members[group_instance_id] = new_member_id
    callback, member.on_joined = member.on_joined, None
    if callback is not None:        # the old incarnation was waiting in a JoinGroup: it is fenced
        callback(fencing_error(group, old_id, group_instance_id), old_id, -1, None, [])
    return member


def rejoins_without_rebalance(group, member, protocols, subscription, stable):
    """Kafka skips the rebalance when the group is Stable and the restarted member asks for the same
    assignors and topics as its previous incarnation."""
    return (group.state == stable and list(member.protocols) == list(protocols)
            and list(member.subscription) == list(subscription))


def answer_with_assignment(clock, group, member, on_joined):
    """Answer the restarted member's JoinGroup + SyncGroup with the current generation and its old
    assignment (one clock tick later, as a JoinGroup response arrives after the request)."""
    generation = group.generation

    def answer():
        if group.members.get(member.member_id) is member and group.generation == generation:
            on_joined(None, member.member_id, generation, group.protocol, list(member.assignment))
    clock.schedule(0, answer, f"group {group.group_id} static member {member.group_instance_id} rejoined")


def fatal_consumer_error(fenced):
    """What librdkafka 2.16 makes of ``FENCED_INSTANCE_ID``: ``rd_kafka_set_fatal_error`` ("Fatal consumer
    error"), which the application sees as one ``_FATAL`` event from ``poll()``. As seen with
    confluent-kafka 2.16 on Kafka 4.x, that event's ``fatal()`` is ``False`` (the flag lives on the handle)."""
    text = fenced.str()
    return KafkaError(KafkaError._FATAL, reason=f"Fatal error: {text}: Fatal consumer error: {text}")


def instance_id(raw, parsed):
    """The consumer's ``group.instance.id``, or ``None`` for a dynamic member. As librdkafka 2.16 does: an
    unset, ``None`` or empty value means dynamic; anything else makes the member static, with the value
    librdkafka stores (``5`` becomes ``"5"``; a blank is left-trimmed to ``""``, still a static id)."""
    return None if _config._as_text(raw) is None else parsed


def assignor_names(group):
    """``{member id: the name the assignor sorts the member by}``. librdkafka's assignors (the leader runs
    them) order members with ``rd_kafka_group_member_cmp``: by ``group.instance.id`` when both members are
    static, else by member id. So a group of static members is assigned in instance-id order, whatever
    member ids the coordinator handed out; any dynamic member makes it member-id order."""
    members = list(group.members.values())
    if members and all(m.group_instance_id is not None for m in members):
        return {m.member_id: m.group_instance_id for m in members}
    return {m.member_id: m.member_id for m in members}
