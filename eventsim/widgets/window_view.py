"""``WindowView``: stream-processing windows on a time axis (tumbling, hopping, session).

Input is a plain list of dicts, one per window and key, so any stream processor can feed it::

    {"key": "alice",            # the record key the window aggregates (str, or anything printable)
     "start_ms": 0,             # window start, inclusive (event time, ms; a wall-clock time is drawn 00:01:30)
     "end_ms": 60_000,          # window end, exclusive
     "value": 3,                # the aggregate (None: only late records so far); or "count": 3
     "state": "open",           # "open" (still accepting records) or "closed" (past end + grace)
     "late_records": 0}         # records that arrived after the window closed and were dropped

Optional view-wide markers: ``now_ms`` (stream time) and ``watermark_ms``. Rows are keys (sorted by their
text); overlapping windows of one key (hopping windows) are stacked in lanes.
"""
from __future__ import annotations

import ipywidgets as widgets

from .html import esc, event_time, page

DOT = " \u00b7 "
REQUIRED = ("key", "start_ms", "end_ms", "state")
STATES = ("open", "closed")


def validate_windows(windows):
    """Check the documented structure; a ``ValueError`` names the bad window and field."""
    if not isinstance(windows, (list, tuple)):
        raise ValueError(f"windows must be a list of dicts, got {type(windows).__name__}")
    out = []
    for i, w in enumerate(windows):
        if not isinstance(w, dict):
            raise ValueError(f"window #{i} must be a dict, got {type(w).__name__}")
        for field in REQUIRED:
            if field not in w:
                raise ValueError(f"window #{i} ({w!r}) has no {field!r}")
        if "value" not in w and "count" not in w:
            raise ValueError(f"window #{i} ({w!r}) needs 'value' or 'count'")
        for field in ("start_ms", "end_ms"):
            if isinstance(w[field], bool) or not isinstance(w[field], int):
                raise ValueError(f"window #{i}: {field} must be an int (ms), got {w[field]!r}")
        if w["end_ms"] <= w["start_ms"]:
            raise ValueError(f"window #{i}: end_ms {w['end_ms']} must be after start_ms {w['start_ms']}")
        if w["state"] not in STATES:
            raise ValueError(f"window #{i}: state must be 'open' or 'closed', got {w['state']!r}")
        late = w.get("late_records", 0) or 0
        if isinstance(late, bool) or not isinstance(late, int) or late < 0:
            raise ValueError(f"window #{i}: late_records must be an int >= 0, got {late!r}")
        out.append(dict(w, late_records=late))
    return out


def _lanes(windows):
    """Greedy interval packing: each window goes in the first lane whose last window ended before it."""
    lanes = []
    for w in sorted(windows, key=lambda w: (w["start_ms"], w["end_ms"])):
        for lane in lanes:
            if lane[-1]["end_ms"] <= w["start_ms"]:
                lane.append(w)
                break
        else:
            lanes.append([w])
    return lanes


def windows_html(windows, title=None, now_ms=None, watermark_ms=None):
    head = f'<div class="es-h">{esc(title or "windows")}'
    marks = [f"stream time {event_time(now_ms)}" if now_ms is not None else "",
             f"watermark {event_time(watermark_ms)}" if watermark_ms is not None else ""]
    head += f' <span class="es-d">{DOT.join(m for m in marks if m)}</span></div>'
    if not windows:
        return page(head + '<div class="es-d">no windows yet</div>', "windows")
    lo = min(w["start_ms"] for w in windows)
    hi = max([w["end_ms"] for w in windows] + [t for t in (now_ms, watermark_ms) if t is not None])
    lo = min([lo] + [t for t in (now_ms, watermark_ms) if t is not None])
    span = hi - lo or 1

    def pct(t):
        return f"{100 * (t - lo) / span:.2f}%"

    axis = "".join(f'<span class="es-t" style="left:{pct(t)};top:22px">{event_time(t).removesuffix(" ms")}</span>'
                   for t in sorted({lo, hi} | {w["start_ms"] for w in windows}))
    for top, label, t in ((0, "now", now_ms), (11, "watermark", watermark_ms)):
        if t is not None:  # one line each, so close markers do not overlap
            axis += (f'<span class="es-t" style="left:{pct(t)};top:{top}px;font-weight:600">'
                     f'\u25bc {label}</span>')
    rows = []
    by_key = {}
    for w in windows:
        by_key.setdefault(str(w["key"]), []).append(w)
    for key in sorted(by_key):
        lanes = "".join('<div class="es-lane">' + "".join(_window_box(key, w, pct, span) for w in lane)
                        + '</div>' for lane in _lanes(by_key[key]))
        rows.append(f'<tr><td style="white-space:nowrap">{esc(key)}</td><td style="width:100%">{lanes}</td></tr>')
    table = (f'<table style="width:100%"><tr><td></td><td><div class="es-ax">{axis}</div></td></tr>'
             f'{"".join(rows)}</table>')
    return page(head + table, "windows")


def _window_box(key, w, pct, span):
    """One window as a positioned box: aggregate, state and late records written out."""
    text = DOT.join([_agg(w), w["state"]] + ([f"{w['late_records']} late"] if w["late_records"] else []))
    title = f"{key} [{event_time(w['start_ms'])}, {event_time(w['end_ms'])}) {text}"
    width = 100 * (w["end_ms"] - w["start_ms"]) / span
    return (f'<div class="es-w es-{w["state"]}" style="left:{pct(w["start_ms"])};width:{width:.2f}%" '
            f'title="{esc(title)}">{esc(text)}</div>')


def _agg(w):
    if "value" in w:  # None: the window only received late records
        return "no value" if w["value"] is None else f"value {w['value']}"
    return f"count {w['count']}"


class WindowView(widgets.VBox):
    """Windows (see the module docstring for the dict structure) drawn per key on a time axis.

    ``update(windows, now_ms=None, watermark_ms=None)`` replaces what is drawn.
    """

    def __init__(self, windows=(), title=None, now_ms=None, watermark_ms=None):
        self.title = title
        self.html = widgets.HTML()
        super().__init__(children=[self.html])
        self.update(list(windows), now_ms=now_ms, watermark_ms=watermark_ms)

    def update(self, windows, now_ms=None, watermark_ms=None):
        """Draw ``windows`` (validated first: a bad entry raises ``ValueError`` and nothing changes)."""
        self.windows = validate_windows(windows)
        self.now_ms, self.watermark_ms = now_ms, watermark_ms
        self.html.value = self._repr_html_()

    def _repr_html_(self):
        return windows_html(self.windows, self.title, self.now_ms, self.watermark_ms)

    def __repr__(self):
        return f"WindowView({len(self.windows)} windows)"
