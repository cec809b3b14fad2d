"""The group coordinator: consumer groups, members, generations, rebalances, committed offsets.

This models Kafka's *classic* group protocol (the one librdkafka's ``Consumer`` speaks by default):

1. **JoinGroup.** A consumer that subscribes sends JoinGroup with the assignors it supports
   (``partition.assignment.strategy``) and its subscription. The coordinator gives a new member a
   *member id* (``<client.id>-<uuid>``) and moves the group to **PreparingRebalance**. Members that are
   already in the group learn about the rebalance from their next heartbeat (``REBALANCE_IN_PROGRESS``)
   and rejoin. The join phase ends when every member has rejoined, or after the *rebalance timeout* (the
   members' ``max.poll.interval.ms``): members that did not rejoin in time are removed.
2. **SyncGroup.** The generation number goes up by one (**CompletingRebalance**); the group's protocol is
   the assignor every member supports that most members prefer; the *leader* (the first member to have
   joined) runs it, and everyone receives their assignment: the group is **Stable**.
3. **Heartbeats** every ``heartbeat.interval.ms``. A member whose heartbeats stop for
   ``session.timeout.ms`` is removed (a crashed consumer), which starts a rebalance. LeaveGroup (a clean
   ``close()``) removes a member at once.
4. A group without members is **Empty** (its committed offsets stay); a deleted group is **Dead**.

Committed offsets: ``commit_offsets`` checks the member id and generation as Kafka's OffsetCommit does
(a member of an old generation gets ``ILLEGAL_GENERATION``, an unknown one ``UNKNOWN_MEMBER_ID``, a commit
during CompletingRebalance ``REBALANCE_IN_PROGRESS``). The offset committed is the *next* offset to read.

Simplifications (each is invisible to a client):

* Kafka keeps the group metadata and committed offsets as records in the compacted internal topic
  ``__consumer_offsets`` (partition ``abs(hash(group.id)) % 50``, whose leader is the coordinator), and
  a new coordinator rebuilds them from that topic after a failover. Here they are kept in plain dicts on
  this object, which survive broker failures the same way.
* The leader's SyncGroup is not a separate round trip: the coordinator runs the leader's chosen assignor
  on the leader's behalf, one clock tick after the join phase ends.
* A new member gets its member id in its first JoinGroup (Kafka first answers ``MEMBER_ID_REQUIRED``
  and the client sends the JoinGroup again with that id). Offset expiry (``offsets.retention.minutes``)
  and the new KIP-848 protocol are not modelled.

Static membership (KIP-345, ``group.instance.id``; the coordinator side is in ``eventsim/static.py``):

* A static member is known by its instance id as well as its member id. A JoinGroup with a known instance
  id and no member id (the consumer restarted) *replaces* the old member: it gets a new member id, the old
  one is fenced, and in a Stable group with an unchanged subscription the newcomer receives the old
  member's assignment at once: no rebalance, the generation does not move, nobody else is revoked.
* librdkafka sends no LeaveGroup when a static member closes, so it stays in the group (its partitions
  are not reassigned) until ``session.timeout.ms`` passes without a heartbeat; then it is removed and the
  group rebalances, as for a crashed dynamic member.
* A request from the replaced (fenced) member, its instance id now owned by another member id, is answered
  ``FENCED_INSTANCE_ID`` (82), which librdkafka makes a fatal consumer error.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from . import assignors, static
from .errors import KafkaError, KafkaException
from .message import OFFSET_INVALID

EMPTY = "Empty"
PREPARING_REBALANCE = "PreparingRebalance"
COMPLETING_REBALANCE = "CompletingRebalance"
STABLE = "Stable"
DEAD = "Dead"


@dataclass
class Member:
    """One consumer in a group, as the coordinator sees it."""
    member_id: str
    client_id: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocols: list
    subscription: list
    owned: list = field(default_factory=list)
    assignment: list = field(default_factory=list)
    on_joined: object = None        # the pending JoinGroup's response callback, None once answered
    session_timer: object = None
    group_instance_id: str | None = None   # set for a static member (KIP-345)


@dataclass
class Group:
    group_id: str
    state: str = EMPTY
    generation: int = 0
    protocol: str | None = None
    protocol_type: str = ""         # "consumer" once a member joined; "" for a group that only stores offsets
    leader: str | None = None
    members: dict = field(default_factory=dict)      # member id -> Member, in join order
    offsets: dict = field(default_factory=dict)      # (topic, partition) -> committed offset
    rebalance_timer: object = None
    initial_join: bool = False
    static_members: dict = field(default_factory=dict)   # group.instance.id -> member id (KIP-345)


class GroupCoordinator:
    """All consumer groups of a cluster (``cluster.groups``)."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.groups: dict[str, Group] = {}

    # -- helpers ------------------------------------------------------------------------------------------
    @property
    def _clock(self):
        return self.cluster.clock

    def _event(self, group, text):
        record = getattr(self.cluster, "record_event", None)
        if record is not None:
            record(f"group {group.group_id}: {text}")

    def _group(self, group_id, create=False):
        group = self.groups.get(group_id)
        if group is None and create:
            group = self.groups[group_id] = Group(group_id)
        return group

    def coordinator_available(self, group_id):
        """FindCoordinator: is there a live broker to act as this group's coordinator?"""
        return self.cluster.coordinator_for(group_id) >= 0

    def _new_member_id(self, client_id):
        return f"{client_id}-{uuid.UUID(int=self.cluster.rng.getrandbits(128), version=4)}"

    # -- JoinGroup / SyncGroup ------------------------------------------------------------------------------
    def join_group(self, group_id, member_id, *, client_id, session_timeout_ms, rebalance_timeout_ms,
                   protocols, subscription, owned, on_joined, group_instance_id=None):
        """JoinGroup (+ SyncGroup). ``on_joined(err, member_id, generation, protocol, assignment)`` is called
        once the rebalance completes (or at once with an error). Returns the member id.

        With ``group_instance_id`` the member is static (KIP-345, see ``eventsim/static.py``)."""
        if not self.coordinator_available(group_id):
            on_joined(KafkaError(KafkaError.COORDINATOR_NOT_AVAILABLE), member_id, -1, None, [])
            return member_id
        group = self._group(group_id, create=True)
        if group.state == DEAD:
            group.state = EMPTY
        fenced = static.fencing_error(group, member_id, group_instance_id) if member_id else None
        if fenced is not None:
            on_joined(fenced, member_id, -1, None, [])
            return ""
        if member_id and member_id not in group.members:
            on_joined(KafkaError(KafkaError.UNKNOWN_MEMBER_ID,
                                 reason=f"Broker: Unknown member: {member_id} is not in group {group_id}"),
                      "", -1, None, [])
            return ""
        others = [m for m in group.members.values() if m.member_id != member_id]
        if others and not self._common_protocols(others + [_Proto(protocols)]):
            on_joined(KafkaError(KafkaError.INCONSISTENT_GROUP_PROTOCOL,
                                 reason=f"Broker: Inconsistent group protocol: {','.join(protocols)} shares no "
                                        f"assignor with the members of group {group_id}"), member_id, -1, None, [])
            return member_id
        if not member_id and group_instance_id in group.static_members:
            member_id = self._new_member_id(client_id)
            member = static.replace_member(group, group_instance_id, member_id)
            member.client_id, member.session_timeout_ms = client_id, session_timeout_ms
            member.rebalance_timeout_ms = rebalance_timeout_ms
            self._event(group, f"static member {group_instance_id} rejoined as {member_id}")
            if static.rejoins_without_rebalance(group, member, protocols, subscription, STABLE):
                self._touch(group, member)
                static.answer_with_assignment(self._clock, group, member, on_joined)
                return member_id
        if not member_id:
            group.protocol_type = "consumer"
            member_id = self._new_member_id(client_id)
            group.members[member_id] = Member(member_id, client_id, session_timeout_ms, rebalance_timeout_ms,
                                              list(protocols), list(subscription),
                                              group_instance_id=group_instance_id)
            if group_instance_id is not None:
                group.static_members[group_instance_id] = member_id
            self._event(group, f"member {member_id} joined")
        member = group.members[member_id]
        member.protocols, member.subscription = list(protocols), list(subscription)
        member.session_timeout_ms, member.rebalance_timeout_ms = session_timeout_ms, rebalance_timeout_ms
        member.owned = list(owned)
        member.on_joined = on_joined
        self._touch(group, member)
        if group.state != PREPARING_REBALANCE:
            self._prepare_rebalance(group, f"member {member_id} (re)joined")
        self._maybe_complete_join(group)
        return member_id

    def _prepare_rebalance(self, group, reason):
        """Move to PreparingRebalance; the join phase ends when all members rejoined or at the timeout."""
        group.initial_join = group.state == EMPTY
        group.state = PREPARING_REBALANCE
        self._event(group, f"preparing rebalance ({reason})")
        if group.rebalance_timer is not None:
            group.rebalance_timer.cancel()
        timeout = max([m.rebalance_timeout_ms for m in group.members.values()] or [0])
        group.rebalance_timer = self._clock.schedule(timeout, lambda: self._complete_join(group),
                                                     f"group {group.group_id} rebalance timeout")

    def _maybe_complete_join(self, group):
        if group.state != PREPARING_REBALANCE:
            return
        if any(m.on_joined is None for m in group.members.values()):
            return
        delay = 0
        if group.initial_join:
            delay = int(self.cluster.config.get("group.initial.rebalance.delay.ms", 0)) \
                if hasattr(self.cluster, "config") else 0
        if group.rebalance_timer is not None:
            group.rebalance_timer.cancel()
        group.rebalance_timer = self._clock.schedule(delay, lambda: self._complete_join(group),
                                                     f"group {group.group_id} join complete")

    def _complete_join(self, group):
        """End of the join phase: drop members that did not rejoin, bump the generation, pick the protocol."""
        if group.state != PREPARING_REBALANCE:
            return
        group.rebalance_timer = None
        for member in [m for m in group.members.values() if m.on_joined is None]:
            self._event(group, f"member {member.member_id} removed: did not rejoin within the rebalance timeout")
            self._remove(group, member)
        group.generation += 1
        if not group.members:
            group.state, group.protocol, group.leader = EMPTY, None, None
            self._event(group, f"generation {group.generation}: no members left, group is Empty")
            return
        if group.leader not in group.members:
            group.leader = next(iter(group.members))
        group.protocol = self._select_protocol(group)
        group.state = COMPLETING_REBALANCE
        generation = group.generation
        self._clock.schedule(0, lambda: self._complete_sync(group, generation), f"group {group.group_id} sync")

    def _complete_sync(self, group, generation):
        """SyncGroup: the leader's assignor's result goes to every member; the group is Stable."""
        if group.state != COMPLETING_REBALANCE or group.generation != generation:
            return
        names = static.assignor_names(group)       # member ids, or instance ids for a static group
        subscriptions = {names[m.member_id]: list(m.subscription) for m in group.members.values()}
        topics = sorted({t for ts in subscriptions.values() for t in ts})
        partitions = {t: self.cluster.partition_count(t) for t in topics}
        partitions = {t: n for t, n in partitions.items() if n}
        owned = {names[m.member_id]: list(m.owned) for m in group.members.values()}
        by_name = assignors.assign(group.protocol, subscriptions, partitions, owned)
        result = {mid: by_name.get(name, []) for mid, name in names.items()}
        group.state = STABLE
        self._event(group, f"generation {generation} is Stable, protocol {group.protocol}: "
                           + "; ".join(f"{mid} -> {len(tps)} partition(s)" for mid, tps in sorted(result.items())))
        for member in list(group.members.values()):
            self._touch(group, member)      # completing the join restarts every member's session timer
            member.assignment = list(result.get(member.member_id, []))
            callback, member.on_joined = member.on_joined, None
            if callback is not None:
                callback(None, member.member_id, generation, group.protocol, list(member.assignment))

    @staticmethod
    def _common_protocols(members):
        common = None
        for m in members:
            common = set(m.protocols) if common is None else common & set(m.protocols)
        return common or set()

    def _select_protocol(self, group):
        """Kafka's ``selectProtocol``: among the assignors all members support, the one most members list
        first (ties: the leader's preference order)."""
        members = list(group.members.values())
        common = self._common_protocols(members)
        votes = {p: 0 for p in common}
        for m in members:
            votes[next(p for p in m.protocols if p in common)] += 1
        order = group.members[group.leader].protocols
        return max(sorted(common, key=order.index), key=lambda p: votes[p])

    # -- Heartbeat / LeaveGroup / session timeout ---------------------------------------------------------
    def _touch(self, group, member):
        """(Re)start the member's ``session.timeout.ms`` timer: any request from it proves it alive."""
        if member.session_timer is not None:
            member.session_timer.cancel()
        member.session_timer = self._clock.schedule(
            member.session_timeout_ms, lambda: self._session_expired(group, member),
            f"group {group.group_id} session timeout {member.member_id}")

    def _session_expired(self, group, member):
        if group.members.get(member.member_id) is not member:
            return
        if member.on_joined is not None:
            # Kafka keeps a member alive while its JoinGroup waits for the rest of the group.
            self._touch(group, member)
            return
        self._event(group, f"member {member.member_id} removed: no heartbeat for session.timeout.ms="
                           f"{member.session_timeout_ms}")
        self._remove_and_rebalance(group, member)

    def _remove(self, group, member):
        if member.session_timer is not None:
            member.session_timer.cancel()
        group.members.pop(member.member_id, None)
        if group.static_members.get(member.group_instance_id) == member.member_id:
            del group.static_members[member.group_instance_id]
        if group.leader == member.member_id:
            group.leader = None

    def _remove_and_rebalance(self, group, member):
        self._remove(group, member)
        if group.state in (STABLE, COMPLETING_REBALANCE):
            self._prepare_rebalance(group, f"member {member.member_id} left")
        if group.state == PREPARING_REBALANCE:
            if group.members:
                self._maybe_complete_join(group)
            else:
                if group.rebalance_timer is not None:
                    group.rebalance_timer.cancel()
                self._complete_join(group)

    def heartbeat(self, group_id, member_id, generation, group_instance_id=None):
        """Heartbeat: ``None`` when all is well, else ``UNKNOWN_MEMBER_ID`` (the member was removed),
        ``ILLEGAL_GENERATION`` (it missed a rebalance), ``REBALANCE_IN_PROGRESS`` (rejoin now) or
        ``FENCED_INSTANCE_ID`` (a newer incarnation of this static member took its place)."""
        if not self.coordinator_available(group_id):
            return KafkaError(KafkaError.COORDINATOR_NOT_AVAILABLE)
        group = self.groups.get(group_id)
        fenced = static.fencing_error(group, member_id, group_instance_id)
        if fenced is not None:
            return fenced
        member = group.members.get(member_id) if group else None
        if member is None:
            return KafkaError(KafkaError.UNKNOWN_MEMBER_ID)
        self._touch(group, member)
        if group.state == PREPARING_REBALANCE:
            return KafkaError(KafkaError.REBALANCE_IN_PROGRESS)
        if generation != group.generation:
            return KafkaError(KafkaError.ILLEGAL_GENERATION)
        return None

    def leave_group(self, group_id, member_id, group_instance_id=None):
        """LeaveGroup (sent by ``close()``/``unsubscribe()``): the member goes now, not after a timeout.
        (librdkafka's ``close()`` of a static member sends none; its ``unsubscribe()`` does.)"""
        group = self.groups.get(group_id)
        fenced = static.fencing_error(group, member_id, group_instance_id)
        if fenced is not None:
            return fenced
        member = group.members.get(member_id) if group else None
        if member is None:
            return KafkaError(KafkaError.UNKNOWN_MEMBER_ID)
        self._event(group, f"member {member_id} left the group")
        self._remove_and_rebalance(group, member)
        return None

    # -- OffsetCommit / OffsetFetch ---------------------------------------------------------------------------
    def commit_offsets(self, group_id, offsets, member_id=None, generation=-1):
        """OffsetCommit: ``{(topic, partition): next_offset}`` -> ``{(topic, partition): KafkaError|None}``.

        ``member_id=None`` skips the membership check (the transaction coordinator uses that when a
        transaction with ``send_offsets_to_transaction`` commits: it was checked when the offsets were sent).
        A consumer outside any group (``assign()``) passes ``member_id=""`` and ``generation=-1``, which
        Kafka accepts only while the group has no members.
        """
        if not self.coordinator_available(group_id):
            err = KafkaError(KafkaError.COORDINATOR_NOT_AVAILABLE)
            return {tp: err for tp in offsets}
        group = self._group(group_id, create=True)
        if group.state == DEAD:
            group.state = EMPTY
        err = None if member_id is None else self._check_member(group, member_id, generation)
        result = {}
        for (topic, partition), offset in offsets.items():
            count = self.cluster.partition_count(topic)
            if err is not None:
                result[(topic, partition)] = err
            elif count is None or not 0 <= partition < count:
                result[(topic, partition)] = KafkaError(
                    KafkaError.UNKNOWN_TOPIC_OR_PART,
                    reason=f"Broker: Unknown topic or partition: cannot commit an offset for {topic} [{partition}]")
            elif not isinstance(offset, int) or offset < 0:
                result[(topic, partition)] = KafkaError(
                    KafkaError._INVALID_ARG, reason=f"cannot commit offset {offset!r} for {topic} [{partition}]")
            else:
                group.offsets[(topic, partition)] = offset
                result[(topic, partition)] = None
        return result

    def _check_member(self, group, member_id, generation):
        if generation < 0 and not group.members:
            return None
        if member_id not in group.members:
            return KafkaError(KafkaError.UNKNOWN_MEMBER_ID,
                              reason=f"Broker: Unknown member: {member_id or '(none)'} is not a member of group "
                                     f"{group.group_id}")
        if group.state == COMPLETING_REBALANCE:
            return KafkaError(KafkaError.REBALANCE_IN_PROGRESS)
        if generation != group.generation:
            return KafkaError(KafkaError.ILLEGAL_GENERATION,
                              reason=f"Broker: Specified group generation id is not valid: {generation}, group "
                                     f"{group.group_id} is at generation {group.generation}")
        return None

    def committed(self, group_id, partitions):
        """OffsetFetch: ``{(topic, partition): offset}``, ``OFFSET_INVALID`` (-1001) where none is committed."""
        group = self.groups.get(group_id)
        stored = group.offsets if group else {}
        return {(t, p): stored.get((t, p), OFFSET_INVALID) for t, p in partitions}

    def delete_offsets(self, group_id, partitions):
        """OffsetDelete: forget committed offsets (Kafka refuses for topics the group is subscribed to)."""
        group = self.groups.get(group_id)
        if group is None:
            raise KafkaException(KafkaError(KafkaError.GROUP_ID_NOT_FOUND))
        result = {}
        subscribed = {t for m in group.members.values() for t in m.subscription}
        for tp in partitions:
            if tp[0] in subscribed:
                result[tp] = KafkaError(KafkaError.GROUP_SUBSCRIBED_TO_TOPIC)
            else:
                group.offsets.pop(tuple(tp), None)
                result[tp] = None
        return result

    def is_simple(self, group_id):
        """A *simple* group only stores offsets (consumers using ``assign()``): it has no members and no
        protocol type. A group that had members keeps the type ``consumer`` when it is Empty again."""
        group = self.groups.get(group_id)
        return group is None or (not group.protocol_type and not group.members)

    def on_topic_deleted(self, topic):
        """A topic was deleted: Kafka's group coordinator deletes its committed offsets from every group
        (``onPartitionsDeleted``), so a topic created again with the same name starts without them and a
        group's members start at ``auto.offset.reset``. The groups themselves stay, Empty ones included."""
        for group in self.groups.values():
            for tp in [tp for tp in group.offsets if tp[0] == topic]:
                del group.offsets[tp]

    # -- ListGroups / DescribeGroups / DeleteGroups -----------------------------------------------------------
    def list_groups(self):
        """ListGroups: ``[(group_id, state)]`` sorted by group id."""
        return [(gid, self.groups[gid].state) for gid in sorted(self.groups)]

    def describe(self, group_id):
        """DescribeGroups, shaped like a group of the snapshot (``docs/architecture.md``). An unknown group
        is described as ``Dead`` with no members, as Kafka's DescribeGroups answers for the classic protocol."""
        group = self.groups.get(group_id) or Group(group_id, state=DEAD)
        offsets = []
        for (topic, partition), committed in sorted(group.offsets.items()):
            hw = self.cluster.partition_high_watermark(topic, partition)
            lag = max(0, hw - committed) if hw is not None and hw >= 0 else None
            offsets.append({"topic": topic, "partition": partition, "committed": committed,
                            "high_watermark": hw if hw is not None and hw >= 0 else None, "lag": lag})
        return {
            "group_id": group.group_id,
            "state": group.state,
            "protocol": group.protocol or "",
            "generation": group.generation,
            "members": [{"member_id": m.member_id, "client_id": m.client_id,
                         "assignment": [[t, p] for t, p in sorted(m.assignment)],
                         **({"group_instance_id": m.group_instance_id} if m.group_instance_id is not None else {})}
                        for m in sorted(group.members.values(), key=lambda m: m.member_id)],
            "offsets": offsets,
            "total_lag": sum(o["lag"] for o in offsets if o["lag"] is not None),
        }

    def snapshot(self):
        """Every group, described, sorted by group id."""
        return [self.describe(gid) for gid in sorted(self.groups)]

    def delete(self, group_id):
        """DeleteGroups: only a group without members can be deleted (its committed offsets go with it).

        Raises ``KafkaException`` with ``GROUP_ID_NOT_FOUND`` or ``NON_EMPTY_GROUP``.
        """
        group = self.groups.get(group_id)
        if group is None:
            raise KafkaException(KafkaError(KafkaError.GROUP_ID_NOT_FOUND,
                                            reason=f"Broker: The group id does not exist: {group_id}"))
        if group.members:
            raise KafkaException(KafkaError(KafkaError.NON_EMPTY_GROUP,
                                            reason=f"Broker: The group is not empty: {group_id} has "
                                                   f"{len(group.members)} member(s)"))
        group.state = DEAD
        del self.groups[group_id]
        self._event(group, "deleted")


class _Proto:
    """A stand-in member (only its protocols) for the compatibility check of a joining member."""

    def __init__(self, protocols):
        self.protocols = protocols
