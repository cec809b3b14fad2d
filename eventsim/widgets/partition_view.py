"""``PartitionView``: each partition of a topic drawn as its log, one cell per offset.

What it shows, per partition, straight from the snapshot:

* the **log-start offset** (``log_start_offset``: the first offset still kept after retention or
  ``DeleteRecords``),
* the **high watermark** (``high_watermark``: offsets below it are replicated to the whole ISR and visible
  to consumers; cells at or above it are drawn dashed, "not yet committed"),
* the **log-end offset** (``log_end_offset``: where the leader appends the next record, drawn as an empty
  "next" cell),
* each consumer group's **committed offset** (the next offset the group will read after a restart) and,
  where a backend reports it, the consumer's **position**.

Big logs are windowed: at most ``max_cells`` cells per partition (the newest ones), with a label saying how
many earlier offsets are not drawn. Hover a cell to read its key, value and timestamp (``title``).
"""
from __future__ import annotations

import ipywidgets as widgets

from ..errors import KafkaError, KafkaException
from .args import check_collection, check_int, check_text
from .html import at, esc, num, page, record_timestamp, tp_name
from .source import view_source

DEFAULT_MAX_CELLS = 40


def find_topic(snapshot, topic):
    """The topic's entry in a snapshot, or ``KafkaException(UNKNOWN_TOPIC_OR_PART)`` naming it."""
    for t in snapshot["topics"]:
        if t["name"] == topic:
            return t
    known = ", ".join(t["name"] for t in snapshot["topics"]) or "none"
    raise KafkaException(KafkaError(
        KafkaError.UNKNOWN_TOPIC_OR_PART, reason=f"unknown topic {topic!r} (topics: {known})"))


def group_markers(snapshot, topic, partition, groups=None):
    """``[(label, offset)]`` for each group's committed offset (and position, if reported) on a partition."""
    out = []
    for g in snapshot.get("groups", []):
        if groups is not None and g["group_id"] not in groups:
            continue
        for o in g.get("offsets", []):
            if o["topic"] != topic or o["partition"] != partition:
                continue
            if o.get("committed") is not None and o["committed"] >= 0:
                out.append((f"{g['group_id']} committed", o["committed"]))
            if o.get("position") is not None and o["position"] >= 0:
                out.append((f"{g['group_id']} position", o["position"]))
    return out


def _record_title(offset, rec):
    if rec is None:
        return f"offset {offset}"
    parts = [f"offset {offset}", f"key={rec.get('key')!s}", f"value={rec.get('value')!s}"]
    if rec.get("timestamp") is not None:
        parts.append(f"timestamp={record_timestamp(rec['timestamp'])}")
    if rec.get("headers"):
        parts.append(f"headers={rec['headers']}")
    return "\n".join(parts)


def window_offsets(part, max_cells):
    """The offsets drawn for a partition: at most ``max_cells`` of the newest ones.

    With records in the snapshot these are the records' own offsets (a compacted log has gaps);
    without them, the last ``max_cells`` offsets below the log-end offset.
    """
    records = part.get("records")
    if records is not None:
        return [r["offset"] for r in records[-max_cells:]] if max_cells else []
    end = _end(part)
    if end is None:
        return []
    start = part["log_start_offset"] if part["log_start_offset"] is not None else end - max_cells
    return list(range(max(start, end - max_cells, 0), end))


def _end(part):
    """Where the drawn log ends: the log-end offset, or the high watermark where the LEO is unknown
    (real Kafka does not tell clients the leader's LEO; records above the HW are invisible to them)."""
    return part["log_end_offset"] if part["log_end_offset"] is not None else part["high_watermark"]


def partition_html(topic, part, markers, max_cells):
    """One partition's log row: the "earlier offsets" label, offset cells, the "next" cell, markers."""
    hw, leo, end = part["high_watermark"], part["log_end_offset"], _end(part)
    head = (f'<div class="es-h">{esc(tp_name(topic, part["partition"]))} <span class="es-d">'
            f'leader {part["leader"] if part["leader"] is not None and part["leader"] >= 0 else "none (offline)"}'
            f' \u00b7 log-start {num(part["log_start_offset"])} \u00b7 HW {num(hw)} \u00b7 LEO {num(leo)}'
            f'</span></div>')
    if end is None:
        return head + '<div class="es-d">offsets unknown (no leader answered)</div>'
    offsets = window_offsets(part, max_cells)
    by_offset = {r["offset"]: r for r in (part.get("records") or [])}
    first = offsets[0] if offsets else end
    start = part["log_start_offset"] if part["log_start_offset"] is not None else first
    hw = end if hw is None else hw
    marks_at = {}
    for label, kind, off in ([("log-start", "ls", part["log_start_offset"]), ("HW", "hw", part["high_watermark"]),
                              ("LEO", "leo", leo)] + [(label, "g", off) for label, off in markers]):
        if off is not None:
            marks_at.setdefault(off, []).append((label, kind))
    cells = []
    earlier = first - start
    before = sorted((off, lab, kind) for off, labs in marks_at.items() if off < first for lab, kind in labs)
    if earlier > 0 or before:
        tags = "".join(f'<span class="es-m es-{kind}">{esc(lab)} {num(off)}</span>'
                       for off, lab, kind in before)
        label = f"\u2026 {num(earlier)} earlier offsets" if earlier > 0 else "before the log"
        cells.append(f'<div class="es-c es-gap">{label}{tags}</div>')
    drawn = set(offsets)
    loose = [o for o in marks_at if first <= o < end and o not in drawn]  # markers on offsets compacted away
    for off in sorted(drawn.union(loose)) + [end]:
        tags = "".join(f'<span class="es-m es-{kind}">{esc(lab)}</span>' for lab, kind in marks_at.get(off, []))
        if off not in drawn and off != end:
            cells.append(f'<div class="es-c es-gap" title="offset {off}: no record here">{num(off)}{tags}</div>')
            continue
        cls = "es-n" if off == end else ("es-u" if off >= hw else "")
        text = "next" if off == end else num(off)
        title = "next offset to be written (log-end offset)" if off == end else (
            _record_title(off, by_offset.get(off))
            + ("" if off < hw else "\nabove the high watermark: not yet committed"))
        cells.append(f'<div class="es-c"><span class="es-o {cls}" title="{esc(title)}">{text}</span>{tags}</div>')
    beyond = [(lab, kind, off) for off, labs in sorted(marks_at.items()) if off > end for lab, kind in labs]
    for lab, kind, off in beyond:
        cells.append(f'<div class="es-c es-gap"><span class="es-m es-{kind}">{esc(lab)} {num(off)}</span></div>')
    return head + f'<div class="es-row">{"".join(cells)}</div>'


class PartitionView(widgets.VBox):
    """Each partition of ``topic`` as a log of offset cells, with log-start, HW, LEO and group markers.

    ``kafka_or_cluster``: a simulated ``Cluster`` or an ``eventsim.connect(...)`` handle.
    ``partitions``: partition numbers to draw (default all); ``groups``: group ids whose offsets are
    marked (default every group with offsets on the topic); ``max_cells``: cells drawn per partition.
    Call ``refresh()`` after producing or consuming to redraw.
    """

    def __init__(self, kafka_or_cluster, topic, partitions=None, groups=None, max_cells=DEFAULT_MAX_CELLS):
        if isinstance(max_cells, bool) or not isinstance(max_cells, int) or max_cells < 1:
            raise ValueError(f"max_cells must be a positive int, got {max_cells!r}")
        self.topic = check_text(topic, "topic")
        partitions = check_collection(partitions, "partitions", "[0, 2]", check_int)
        self.partitions = None if partitions is None else sorted(partitions)
        self.groups = check_collection(groups, "groups", '["billing"]', check_text)
        self.source = view_source(kafka_or_cluster)
        self.max_cells = max_cells
        self.snapshot = None
        self.html = widgets.HTML()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        super().__init__(children=[self.html, self.refresh_button])
        self.refresh()

    def refresh(self):
        """Take a fresh snapshot (with the newest ``max_cells`` records per partition) and redraw."""
        snap = self.source.snapshot(records=True, max_records=self.max_cells)
        topic = find_topic(snap, self.topic)
        if self.partitions is not None:
            known = [p["partition"] for p in topic["partitions"]]
            missing = [p for p in self.partitions if p not in known]
            if missing:
                raise KafkaException(KafkaError(
                    KafkaError.UNKNOWN_TOPIC_OR_PART,
                    reason=f"topic {self.topic!r} has no partition {missing[0]} (partitions: {known})"))
        self.snapshot = snap
        self.html.value = self._repr_html_()

    def _repr_html_(self):
        topic = find_topic(self.snapshot, self.topic)
        rows = []
        for part in topic["partitions"]:
            if self.partitions is not None and part["partition"] not in self.partitions:
                continue
            marks = group_markers(self.snapshot, self.topic, part["partition"], self.groups)
            rows.append(partition_html(self.topic, part, marks, self.max_cells))
        meta = " \u00b7 ".join(filter(None, [at(self.snapshot["time_ms"]), "dashed = above the high watermark "
                                            "(not yet committed)", "hover a cell for key/value"]))
        head = f'<div class="es-h">topic {esc(self.topic)} <span class="es-d">{meta}</span></div>'
        return page(head + "".join(rows), "partitions")

    def __repr__(self):
        return f"PartitionView(topic={self.topic!r}, max_cells={self.max_cells})"
