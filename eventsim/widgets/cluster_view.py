"""``ClusterView``: brokers as columns, the partition replicas each broker hosts, and failover.

Each replica is labelled with its role as the controller's metadata reports it (``leader`` with its
``leader epoch``; a follower ``ISR`` = in the in-sync replica set, or ``out of sync`` = dropped from the
ISR after lagging more than ``replica.lag.time.max.ms``; ``offline`` when its broker is down). A Stop /
Start button per broker either crashes the broker or shuts it down cleanly (Kafka's *controlled
shutdown*, ``controlled.shutdown.enable=true``: the broker hands its leaderships over before it exits).

After each change the view diffs the new snapshot against the previous one and writes what happened to
an event log ("orders-2: leader 1 \u2192 3, epoch 4"); new leaders are outlined until the next Stop / Start.

On the simulator, a Stop / Start also runs the virtual clock until the controller has reacted (at most
``settle_ms``): after a crash that is when the broker has missed heartbeats for
``broker.session.timeout.ms`` (9000 ms by default), so the event log times show that detection delay.
On real Kafka the wall clock does that; press Refresh to see it.
"""
from __future__ import annotations

import ipywidgets as widgets

from .args import check_int, check_text
from .html import at, esc, num, page, stamp, tp_name
from .partition_view import find_topic
from .source import view_source

MAX_LOG_LINES = 12


def _partitions(snapshot, topics):
    return {(t["name"], p["partition"]): p
            for t in snapshot["topics"] if t["name"] in topics for p in t["partitions"]}


def shown_topics(snapshot, topic=None):
    """The topics a view draws: ``[topic]`` if given (it must exist), else every non-internal topic."""
    if topic is not None:
        return [find_topic(snapshot, topic)["name"]]
    return [t["name"] for t in snapshot["topics"] if not t.get("internal")]


def _leader(x):
    return "none" if x is None or x < 0 else str(x)


def diff_snapshots(before, after, topics=None):
    """What changed between two snapshots, as event-log lines, plus the partitions with a new leader.

    Returns ``(lines, new_leaders)``; ``new_leaders`` is a set of ``(topic, partition)``. Only ``topics``
    (default: all) are compared; broker and controller changes are always reported.
    """
    lines, new_leaders = [], set()
    was_alive = {b["id"]: b["alive"] for b in before["brokers"]}
    for b in after["brokers"]:
        was = was_alive.get(b["id"])
        if was is None:
            lines.append(f"broker {b['id']} joined the cluster")
        elif was != b["alive"]:
            lines.append(f"broker {b['id']} is {'back online' if b['alive'] else 'offline'}")
    was_paused = {b["id"]: b.get("paused") for b in before["brokers"]}
    for b in after["brokers"]:
        if b["id"] in was_paused and bool(was_paused[b["id"]]) != bool(b.get("paused")):
            lines.append(f"broker {b['id']} {'paused (frozen)' if b.get('paused') else 'resumed'}")
    ctl_before = {c["id"]: c["alive"] for c in before.get("controllers") or []}
    for c in after.get("controllers") or []:
        if c["id"] in ctl_before and ctl_before[c["id"]] != c["alive"]:
            lines.append(f"controller {c['id']} {'started' if c['alive'] else 'stopped'}")
    if before.get("controller") != after.get("controller"):
        lines.append(f"active controller {_leader(before.get('controller'))} \u2192 "
                     f"{_leader(after.get('controller'))}"
                     + (" (no majority of controllers: metadata is frozen)" if after.get("controller") is None
                        and after.get("controllers") else ""))
    names_before = {t["name"]: t for t in before["topics"]}
    names_after = {t["name"]: t for t in after["topics"]}
    if topics is None:
        topics = set(names_before) | set(names_after)
    for name in sorted(set(topics) & (set(names_after) - set(names_before))):
        lines.append(f"topic {name} created ({len(names_after[name]['partitions'])} partitions)")
    for name in sorted(set(topics) & (set(names_before) - set(names_after))):
        lines.append(f"topic {name} deleted")
    old, new = _partitions(before, topics), _partitions(after, topics)
    for key in sorted(set(old) & set(new)):
        p, q = old[key], new[key]
        name = tp_name(*key)
        if p["leader"] != q["leader"]:
            if q["leader"] is None or q["leader"] < 0:
                lines.append(f"{name}: leader {_leader(p['leader'])} \u2192 none (partition offline), "
                             f"epoch {num(q['leader_epoch'])}")
            else:
                lines.append(f"{name}: leader {_leader(p['leader'])} \u2192 {q['leader']}, epoch {num(q['leader_epoch'])}")
                new_leaders.add(key)
        elif p["leader_epoch"] != q["leader_epoch"]:
            lines.append(f"{name}: leader {_leader(q['leader'])} re-elected, epoch {num(p['leader_epoch'])} "
                         f"\u2192 {num(q['leader_epoch'])}")
        if set(p["isr"]) != set(q["isr"]):
            out = sorted(set(p["isr"]) - set(q["isr"]))
            back = sorted(set(q["isr"]) - set(p["isr"]))
            why = "; ".join(filter(None, [
                out and f"{', '.join(map(str, out))} left the ISR",
                back and f"{', '.join(map(str, back))} caught up"]))
            lines.append(f"{name}: ISR {sorted(p['isr'])} \u2192 {sorted(q['isr'])} ({why})")
    return lines, new_leaders


def replica_role(part, broker_id, alive):
    """``(css class, label)`` for the replica of ``part`` on ``broker_id``: what the learner reads."""
    offline = (not alive) or broker_id in (part.get("offline_replicas") or [])
    if offline:
        return "es-offr", "offline" + (" (still named leader)" if part["leader"] == broker_id else "")
    if part["leader"] == broker_id:
        return "es-lead", f"leader \u00b7 epoch {num(part['leader_epoch'])}"
    if part["leader"] is None or part["leader"] < 0:
        return "es-oos", "no leader (partition offline)" + (" \u00b7 ISR" if broker_id in part["isr"] else "")
    if broker_id in part["isr"]:
        return "es-isr", "follower \u00b7 ISR"
    return "es-oos", "follower \u00b7 out of sync"


def cluster_html(snapshot, topics, new_leaders=(), events=()):
    """Brokers as columns with the replicas they host; the event log underneath."""
    parts = [(name, p) for name in topics for p in find_topic(snapshot, name)["partitions"]]
    cols = []
    for b in snapshot["brokers"]:
        rows = []
        for name, p in parts:
            if b["id"] not in p["replicas"]:
                continue
            cls, label = replica_role(p, b["id"], b["alive"])
            i = p["replicas"].index(b["id"])
            leos = p.get("replica_log_end_offsets")
            if leos and i < len(leos) and leos[i] is not None:
                label += f" \u00b7 LEO {num(leos[i])}"
            if (name, p["partition"]) in new_leaders and cls == "es-lead":
                cls += " es-new"
                label += " \u00b7 new leader"
            role = cls.split()[0][3:]
            rows.append(f'<div class="es-r {cls}" data-tp="{esc(tp_name(name, p["partition"]))}" '
                        f'data-role="{role}"><b>{esc(tp_name(name, p["partition"]))}</b> {label}</div>')
        state = ("paused" if b.get("paused") else "alive") if b["alive"] else "offline"
        cols.append(f'<div class="es-b{"" if b["alive"] and not b.get("paused") else " es-off"}" '
                    f'data-broker="{b["id"]}">'
                    f'<div class="es-h">broker {b["id"]} <span class="es-d">{state}</span></div>'
                    f'{"".join(rows) or "<div class=es-d>no replicas</div>"}</div>')
    meta = " \u00b7 ".join(filter(None, [
        esc(snapshot["backend"]), at(snapshot["time_ms"]),
        f'topics: {esc(", ".join(topics) or "none")}']))
    head = f'<div class="es-h">cluster {esc(snapshot["cluster_id"])} <span class="es-d">{meta}</span></div>'
    log = "\n".join(events[-MAX_LOG_LINES:]) or "(no changes yet)"
    return page(head + controllers_html(snapshot) + f'<div class="es-cols">{"".join(cols)}</div>'
                + f'<div class="es-h">event log</div><div class="es-log">{esc(log)}</div>', "cluster")


def controllers_html(snapshot):
    """The KRaft quorum as one line: each controller, which one is active, and whether a majority runs."""
    ctls = snapshot.get("controllers") or []
    if not ctls:
        return ""
    cells = []
    for c in ctls:
        state = "active" if c["active"] else ("running" if c["alive"] else "stopped")
        cells.append(f'<span class="es-c es-c-{state}" data-controller="{c["id"]}">controller {c["id"]} '
                     f'<span class="es-d">{state}</span></span>')
    alive = sum(c["alive"] for c in ctls)
    quorum = (f"quorum: {alive} of {len(ctls)} running"
              + ("" if alive * 2 > len(ctls) else " \u2014 no majority, metadata frozen"))
    return f'<div class="es-q">{" ".join(cells)} <span class="es-d">{quorum}</span></div>'



class ClusterView(widgets.VBox):
    """Brokers, replicas, leaders, ISR and a Stop / Start button per broker.

    ``kafka_or_cluster``: a simulated ``Cluster`` or an ``eventsim.connect(...)`` handle; ``topic``: draw
    one topic (default: every non-internal topic). ``settle_ms``: on the simulator, how far the virtual
    clock may run after a Stop / Start while waiting for the controller (``0`` = never move the clock:
    step it yourself, e.g. with a ``StepControl``, to watch the detection delay).
    """

    def __init__(self, kafka_or_cluster, topic=None, settle_ms=30_000):
        self.topic = check_text(topic, "topic", allow_none=True)
        self.settle_ms = check_int(settle_ms, "settle_ms")
        self.source = view_source(kafka_or_cluster)
        self.snapshot = None
        self.events = []
        self.new_leaders = set()
        self.html = widgets.HTML()
        self.buttons = widgets.HBox()
        self.shutdown = widgets.ToggleButtons(
            options=[("crash", False), ("clean shutdown", True)], value=False,
            tooltips=["kill the broker: the controller notices after broker.session.timeout.ms",
                      "controlled shutdown: leaders move away before the broker exits"],
            style={"button_width": "auto"}, layout=widgets.Layout(width="auto"))
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh",
                                             layout=widgets.Layout(width="100px"))
        self.refresh_button.on_click(lambda _b: self.refresh())
        super().__init__(children=[self.html, self.buttons, widgets.HBox(
            [widgets.Label("Stop means:"), self.shutdown, self.refresh_button],
            layout=widgets.Layout(align_items="center"))])
        self.refresh()

    # -- drawing -----------------------------------------------------------------------------------
    def refresh(self, note=None):
        """Take a fresh snapshot, log what changed since the last one (after ``note``, if given), redraw."""
        snap = self.source.snapshot()
        topics = shown_topics(snap, self.topic)
        lines = [note] if note else []
        if self.snapshot is not None:
            changes, new = diff_snapshots(self.snapshot, snap, topics)
            lines += changes
            self.new_leaders |= new
        self._log(snap, lines)
        self.snapshot = snap
        self._sync_buttons()
        self.html.value = self._repr_html_()

    def _repr_html_(self):
        topics = shown_topics(self.snapshot, self.topic)
        return cluster_html(self.snapshot, topics, self.new_leaders, self.events)

    def _log(self, snap, lines):
        self.events.extend(stamp(snap["time_ms"]) + line for line in lines)

    def _sync_buttons(self):
        brokers = self.snapshot["brokers"]
        if len(self.buttons.children) != len(brokers):
            buttons = []
            for b in brokers:
                button = widgets.Button(layout=widgets.Layout(width="150px"))
                button.broker_id = b["id"]
                button.on_click(self._on_click)
                buttons.append(button)
            self.buttons.children = buttons
        for button, b in zip(self.buttons.children, brokers):
            button.broker_id = b["id"]
            button.description = f"{'Stop' if b['alive'] else 'Start'} broker {b['id']}"
            button.button_style = "danger" if b["alive"] else "success"
            button.tooltip = f"broker {b['id']} is {'alive' if b['alive'] else 'offline'}"

    def _on_click(self, button):
        alive = {b["id"]: b["alive"] for b in self.snapshot["brokers"]}
        try:
            if alive.get(button.broker_id):
                self.stop_broker(button.broker_id, clean=self.shutdown.value)
            else:
                self.start_broker(button.broker_id)
        except Exception as exc:  # a button cannot raise into the notebook: show it in the log instead
            self._log(self.snapshot, [f"could not change broker {button.broker_id}: {exc}"])
            self.html.value = self._repr_html_()

    # -- actions -----------------------------------------------------------------------------------
    def stop_broker(self, broker_id, clean=False):
        """Crash broker ``broker_id`` (or, with ``clean=True``, shut it down with a controlled shutdown)."""
        self.refresh()
        topics = shown_topics(self.snapshot, self.topic)
        led = [k for k, p in _partitions(self.snapshot, topics).items() if p["leader"] == broker_id]
        self.source.stop_broker(broker_id, clean=clean, wait=self._backend_waits())
        self.new_leaders = set()
        self.refresh(note=f"\u00bb stop broker {broker_id} ({'controlled shutdown' if clean else 'crash'})")

        def controller_reacted(snap):
            now = _partitions(snap, topics)
            return all(k not in now or now[k]["leader"] != broker_id for k in led)

        if self._settle(controller_reacted):
            self.refresh()

    def start_broker(self, broker_id):
        """Start broker ``broker_id`` again; its replicas catch up and rejoin the ISR."""
        self.refresh()
        topics = shown_topics(self.snapshot, self.topic)
        self.source.start_broker(broker_id, wait=self._backend_waits())
        self.new_leaders = set()
        self.refresh(note=f"\u00bb start broker {broker_id}")

        def back_in_sync(snap):
            alive = {b["id"]: b["alive"] for b in snap["brokers"]}
            return alive.get(broker_id) and all(
                broker_id in p["isr"] for p in _partitions(snap, topics).values()
                if broker_id in p["replicas"] and p["leader"] is not None and p["leader"] >= 0)

        if self._settle(back_in_sync):
            self.refresh()

    def _backend_waits(self):
        """On the simulator the view decides how far the clock runs (``settle_ms``), so it asks the cluster
        not to wait (``False``); other backends keep their own default (``None``)."""
        return False if self.source.is_simulator else None

    def _settle(self, done):
        """On the simulator, run the clock until ``done(snapshot)`` (at most ``settle_ms``); True if it ran."""
        if not (self.source.is_simulator and self.settle_ms) or done(self.snapshot):
            return False
        self.source.settle(done, self.settle_ms)
        return True

    def __repr__(self):
        return f"ClusterView(topic={self.topic!r})"
