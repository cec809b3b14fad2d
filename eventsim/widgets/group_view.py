"""``GroupView``: one consumer group's members, assignment, committed offsets and lag.

Lag per partition is ``high watermark - committed offset``: how many records consumers could already
read that the group has not yet committed (the same number ``kafka-consumer-groups.sh --describe`` prints as LAG). The view
records a sample of the lag on every ``refresh()`` (at the snapshot's time, virtual on the simulator), so
``plot_lag()`` can draw lag over time, and it diffs generations and assignments between refreshes into a
rebalance history ("generation 2 \u2192 3: orders-1 consumer-a \u2192 consumer-b").
"""
from __future__ import annotations

import ipywidgets as widgets

from .html import at, esc, num, page, stamp, tp_name
from .source import view_source


def find_group(snapshot, group_id):
    """The group's entry in a snapshot, or ``None`` when the group has no members or commits yet."""
    for g in snapshot.get("groups", []):
        if g["group_id"] == group_id:
            return g
    return None


def owners(group):
    """``{(topic, partition): member_id}`` from the members' assignments."""
    out = {}
    for m in (group or {}).get("members", []):
        for topic, partition in m.get("assignment") or []:
            out[(topic, partition)] = m["member_id"]
    return out


def short_member(member_id, width=24):
    """Member ids are long (``rdkafka-<uuid>`` on real Kafka); show the start, the full id in a title."""
    return member_id if len(member_id) <= width else member_id[:width - 1] + "\u2026"


def diff_groups(before, after):
    """Rebalance-history lines between two states of one group (``None`` = group not known yet)."""
    lines = []
    if before is None and after is None:
        return lines
    if before is None:
        gen = f", generation {after['generation']}" if after.get("generation") is not None else ""
        return [f"group appears: {after['state']}{gen}"]
    if after is None:
        return ["group is gone (no members, no committed offsets)"]
    if before["generation"] != after["generation"]:
        lines.append(f"generation {before['generation']} \u2192 {after['generation']} ({after['state']})")
    elif before["state"] != after["state"]:
        lines.append(f"state {before['state']} \u2192 {after['state']}")
    old_members = {m["member_id"] for m in before.get("members", [])}
    new_members = {m["member_id"] for m in after.get("members", [])}
    lines += [f"member {m} joined" for m in sorted(new_members - old_members)]
    lines += [f"member {m} left" for m in sorted(old_members - new_members)]
    old, new = owners(before), owners(after)
    for tp in sorted(set(old) | set(new)):
        if old.get(tp) != new.get(tp):
            lines.append(f"{tp_name(*tp)}: {old.get(tp) or 'unassigned'} \u2192 {new.get(tp) or 'unassigned'}")
    return lines


def group_html(group_id, group, time_ms, history):
    if group is None:
        body = (f'<div class="es-h">group {esc(group_id)} <span class="es-d">{at(time_ms)}</span></div>'
                '<div class="es-d">no members and no committed offsets yet</div>')
        return page(body, "group")
    meta = " \u00b7 ".join(filter(None, [
        esc(group["state"]), esc(group.get("protocol") or "no protocol"),
        f'generation {num(group["generation"])}' if group.get("generation") is not None else "",
        at(time_ms), f'total lag {num(group.get("total_lag"))}']))
    head = f'<div class="es-h">group {esc(group_id)} <span class="es-d">{meta}</span></div>'
    members = "".join(
        f'<tr><td title="{esc(m["member_id"])}">{esc(short_member(m["member_id"]))}</td>'
        f'<td>{esc(m.get("client_id"))}</td>'
        f'<td>{esc(", ".join(tp_name(t, p) for t, p in m.get("assignment") or []) or "nothing")}</td></tr>'
        for m in group.get("members", []))
    members = (f'<table><tr><th>member</th><th>client.id</th><th>assigned</th></tr>{members}</table>'
               if members else '<div class="es-d">no members (nobody is consuming)</div>')
    own = owners(group)
    by_tp = {(o["topic"], o["partition"]): o for o in group.get("offsets", [])}
    for tp in own:  # assigned, nothing committed yet: a row that says so
        by_tp.setdefault(tp, {"topic": tp[0], "partition": tp[1], "committed": None, "high_watermark": None,
                              "lag": None})
    top = max([o.get("lag") or 0 for o in by_tp.values()] + [1])
    rows = "".join(
        f'<tr><td>{esc(tp_name(*tp))}</td><td>{esc(short_member(own.get(tp, "unassigned")))}</td>'
        + (f'<td>{num(o["committed"])}</td>' if o.get("committed") is not None
           else '<td colspan="2" class="es-d">nothing committed yet</td>')
        + (f'<td>{num(o.get("high_watermark"))}</td>' if o.get("committed") is not None else "")
        + f'<td>{num(o.get("lag"))} <span class="es-bar" style="width:{round(80 * (o.get("lag") or 0) / top)}px">'
        f'</span></td></tr>'
        for tp, o in sorted(by_tp.items()))
    offsets = (f'<table><tr><th>partition</th><th>owner</th><th>committed</th><th>HW</th><th>lag</th></tr>'
               f'{rows}</table>' if rows else '<div class="es-d">no committed offsets yet</div>')
    hist = "\n".join(history[-10:]) or "(no rebalances seen yet)"
    return page(head + members + offsets
                + f'<div class="es-h">rebalance history</div><div class="es-log">{esc(hist)}</div>', "group")


class GroupView(widgets.VBox):
    """Members, assignment, committed offsets and lag of consumer group ``group_id``.

    Every ``refresh()`` records a lag sample (``samples``: ``(time_ms, total_lag, {(topic, p): lag})``)
    and appends generation / assignment changes to ``history``.
    """

    def __init__(self, kafka_or_cluster, group_id):
        if not isinstance(group_id, str) or not group_id:
            raise ValueError(f"group_id must be a non-empty str, got {group_id!r}")
        self.source = view_source(kafka_or_cluster)
        self.group_id = group_id
        self.group = None
        self.time_ms = None
        self.history = []
        self.samples = []
        self.html = widgets.HTML()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        super().__init__(children=[self.html, self.refresh_button])
        self._seen = False
        self.refresh()

    def refresh(self):
        """Take a fresh snapshot, record a lag sample, note any rebalance, redraw."""
        snap = self.source.snapshot()
        group = find_group(snap, self.group_id)
        if self._seen or group is not None:
            self.history += [stamp(snap["time_ms"]) + line for line in diff_groups(self.group, group)]
        self._seen = self._seen or group is not None
        self.group, self.time_ms = group, snap["time_ms"]
        if group is not None:
            per = {(o["topic"], o["partition"]): o.get("lag") for o in group.get("offsets", [])}
            # real Kafka has no virtual clock: there the samples are numbered by refresh instead
            when = snap["time_ms"] if snap["time_ms"] is not None else len(self.samples)
            sample = (when, group.get("total_lag"), per)
            if snap["time_ms"] is not None and self.samples and self.samples[-1][0] == when:
                self.samples[-1] = sample  # one sample per instant: a refresh at the same time replaces it
            else:
                self.samples.append(sample)
        self.html.value = self._repr_html_()

    def lag(self, topic=None, partition=None):
        """Current lag: the group's total, or one partition's (``None`` if unknown)."""
        if self.group is None:
            return None
        if topic is None:
            return self.group.get("total_lag")
        for o in self.group.get("offsets", []):
            if (o["topic"], o["partition"]) == (topic, partition):
                return o.get("lag")
        return None

    def plot_lag(self, per_partition=True):
        """A matplotlib ``Figure`` of lag over time from the samples taken at each ``refresh()``."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 2.6), layout="constrained")
        ax = fig.add_subplot()
        times = [s[0] for s in self.samples]
        ax.step(times, [s[1] or 0 for s in self.samples], where="post", label="total", linewidth=2)
        if per_partition:  # a partition without a committed offset has no lag yet: a gap, not 0
            tps = sorted({tp for s in self.samples for tp in s[2]})
            for tp in tps:
                lags = [s[2].get(tp) for s in self.samples]
                ax.step(times, [float("nan") if lag is None else lag for lag in lags], where="post",
                        label=tp_name(*tp), linewidth=1, alpha=0.8)
        ax.set_xlabel("time (ms)" if self.time_ms is not None else "refresh number")
        ax.set_ylabel("lag (records)")
        ax.set_title(f"consumer lag of group {self.group_id}")
        if self.samples:
            ax.legend(fontsize="small", loc="best")
        return fig

    def _repr_html_(self):
        return group_html(self.group_id, self.group, self.time_ms, self.history)

    def __repr__(self):
        return f"GroupView(group_id={self.group_id!r})"
