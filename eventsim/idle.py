"""Idle time: how ``Cluster.advance()`` lets days of virtual time pass in a moment.

A cluster nobody uses still has housekeeping on the clock: every ``log.retention.check.interval.ms`` the
brokers look for expired segments, every ``log.cleaner.backoff.ms`` the cleaner looks for dirty logs,
every ``replica.lag.time.max.ms / 2`` leaders look for followers that fell behind, every
``leader.imbalance.check.interval.seconds`` the controller looks for leaders to move back, and parked
follower fetches are re-checked every ``replica.socket.timeout.ms``. Run one by one, a simulated year is
hundreds of millions of runs that each find nothing to do.

So ``advance()`` checks, every few virtual minutes of a long wait, whether the cluster is *idle*:

* nothing but housekeeping is on the clock (no request in flight, no election or session timeout
  pending, no consumer heartbeating in a group), and a client's own housekeeping (auto-commit, metadata
  refresh) would find nothing to do either;
* every leader is up (or down with no active controller to replace it), and every live follower's fetch
  is parked at the leader's log end (in sync, waiting) or cannot reach the leader at all (the leader is
  down or a network partition is in between: it retries every ``replica.fetch.backoff.ms``);
* no partition would change leader in a preferred leader election;
* and each log says when its retention or cleaner could next act (``PartitionLog.next_retention_ms``,
  ``next_compaction_ms``), and so do the ISR checks of followers that stopped fetching.

If it is idle until time T, the clock jumps to just before T (``VirtualClock.skip_to``), keeping every
housekeeping task on its own period, and then runs normally: the outcome is the one running every timer
would have given, only sooner. A cluster with clients that heartbeat or poll is never idle, so this only
speeds up waits in which nobody does anything (a consumer that stopped polling leaves its group after
``max.poll.interval.ms``, and from then on it is idle too).
"""
from __future__ import annotations

#: Waits shorter than this run timer by timer; nothing is skipped.
SKIP_FROM_MS = 600_000

#: How much virtual time runs normally between two idleness checks of a long wait.
CHECK_EVERY_MS = 300_000


def advance_skipping_idle(cluster, ms):
    """Run ``cluster``'s clock ``ms`` forward, skipping idle stretches of long waits."""
    clock = cluster.clock
    deadline = clock.now_ms + ms
    if ms < SKIP_FROM_MS:
        clock.run_until(deadline)
        return
    while clock.now_ms < deadline:
        quiet = idle_until(cluster)
        if quiet is not None and quiet - 1 > clock.now_ms:
            _skip(cluster, min(quiet - 1, deadline))
        clock.run_until(min(deadline, clock.now_ms + CHECK_EVERY_MS))


def idle_until(cluster):
    """The first moment at which housekeeping could change something, or ``None`` if the cluster is not
    idle now. ``float("inf")`` means never (until somebody acts)."""
    if not cluster.clock.only_housekeeping_pending():
        return None
    now = cluster.clock.now_ms
    horizon = float("inf")
    lag_max = int(cluster.broker_config("replica.lag.time.max.ms"))
    for part in cluster.all_partitions():
        if part.leader >= 0 and not cluster.broker_alive(part.leader) and cluster.controller.available:
            return None                      # the controller will fence it and elect another leader
        if part.leader >= 0 and _preferred_leader_would_move(cluster, part):
            return None
        for b in part.replicas:
            if b == part.leader or part.leader < 0 or not cluster.broker_alive(b):
                continue
            if part.leader_unreachable(b):
                continue                                     # retries every replica.fetch.backoff.ms, in vain
            if part.leader_replica is None or b not in part._followers or part._followers[b].parked is None:
                return None
        shrinkable = part.leader >= 0 and cluster.controller.available      # else the ISR cannot change
        for b in part.isr:
            if b == part.leader or not shrinkable:
                continue
            state = part._followers.get(b)
            if state is None or not part._follower_caught_up(b):
                return None                                  # the next ISR check would drop it
            if state.parked is None:                         # stopped fetching: dropped once it lags too long
                horizon = min(horizon, state.last_caught_up_ms + lag_max + 1)
        for b, rep in part.replica.items():
            if not cluster.broker_alive(b):
                continue
            for t in (rep.log.next_retention_ms(now, rep.high_watermark),
                      rep.log.next_compaction_ms(now, rep.state.last_stable_offset(rep.high_watermark))):
                if t is not None:
                    if t <= now:
                        return None
                    horizon = min(horizon, t)
    return horizon


def _preferred_leader_would_move(cluster, part):
    if cluster.broker_config("auto.leader.rebalance.enable") != "true" or not cluster.controller.available:
        return False
    preferred = part.replicas[0]
    return part.leader != preferred and preferred in part.isr and cluster.broker_usable(preferred)


def _skip(cluster, at_ms):
    """Jump the clock; the logs note the time of the last retention and cleaner runs they skipped, as if
    those runs had looked at them."""
    skipped = cluster.clock.skip_to(at_ms)
    retention, cleaner = skipped.get("log-retention", -1), skipped.get("log-cleaner", -1)
    for part in cluster.all_partitions():
        last_look = max(retention, cleaner if "compact" in part.topic.config_value("cleanup.policy") else -1)
        if last_look < 0:
            continue
        for b, rep in part.replica.items():
            if cluster.broker_alive(b):
                rep.log.note_time(last_look)
