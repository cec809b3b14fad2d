"""Small HTML helpers shared by the views: escaping, number formatting and one compact style sheet.

Every view renders the same static HTML into its ``HTML`` child and into ``_repr_html_()``, so an
executed notebook reads well where no kernel runs (GitHub, nbviewer). The markup is deterministic: no
random ids and no wall-clock times, only what the snapshot holds. Colours come from JupyterLab's CSS
variables with fallbacks and semi-transparent fills (so light and dark themes both work), and every
colour has a text label next to it ("leader", "ISR", "out of sync", "offline") that says the same thing.
"""
from __future__ import annotations

import datetime as _dt
import html as _html

# Semi-transparent fills read on light and dark backgrounds alike.
STYLE = (
    "<style>"
    ".es{font:12px/1.4 var(--jp-ui-font-family,system-ui,sans-serif);color:var(--jp-ui-font-color1,inherit)}"
    ".es .es-h{font-weight:600;margin:4px 0 2px}"
    ".es .es-d{color:var(--jp-ui-font-color2,#777)}"
    ".es .es-row{display:flex;flex-wrap:wrap;gap:2px;align-items:flex-start;margin:2px 0 8px}"
    ".es .es-c{display:flex;flex-direction:column;align-items:center;min-width:24px}"
    ".es .es-o{border:1px solid var(--jp-border-color1,#8888);border-radius:3px;padding:0 3px;"
    "background:rgba(66,133,244,.2)}"
    ".es .es-o.es-u{border-style:dashed;background:rgba(128,128,128,.12)}"
    ".es .es-o.es-n{border-style:dotted;background:none}"
    ".es .es-gap{align-self:center;padding:0 4px;color:var(--jp-ui-font-color2,#777)}"
    ".es .es-m{font-size:10px;border-radius:2px;padding:0 2px;margin-top:1px;white-space:nowrap}"
    ".es .es-hw{background:rgba(46,160,67,.3)}.es .es-leo{background:rgba(128,128,128,.3)}"
    ".es .es-ls{background:rgba(137,87,229,.3)}.es .es-g{background:rgba(210,153,34,.35)}"
    ".es .es-cols{display:flex;gap:8px;align-items:flex-start}"
    ".es .es-b{border:1px solid var(--jp-border-color1,#8888);border-radius:4px;padding:4px;min-width:150px}"
    ".es .es-b.es-off{opacity:.6;border-style:dashed}"
    ".es .es-q{margin:2px 0 6px 0}"
    ".es .es-c{border:1px solid var(--jp-border-color1,#8888);border-radius:4px;padding:1px 6px;margin-right:4px}"
    ".es .es-c-active{background:rgba(46,160,67,.3);font-weight:600}"
    ".es .es-c-stopped{opacity:.6;border-style:dashed;text-decoration:line-through}"
    ".es .es-r{border-radius:3px;padding:1px 4px;margin:2px 0}"
    ".es .es-lead{background:rgba(46,160,67,.3);font-weight:600}"
    ".es .es-isr{background:rgba(66,133,244,.18)}"
    ".es .es-oos{background:rgba(210,153,34,.3)}"
    ".es .es-offr{background:rgba(128,128,128,.2);text-decoration:line-through}"
    ".es .es-new{outline:2px solid rgba(229,83,75,.8)}"
    ".es .es-log{font-family:var(--jp-code-font-family,monospace);font-size:11px;white-space:pre-wrap}"
    ".es table{border-collapse:collapse}.es td,.es th{padding:1px 6px;text-align:left}"
    ".es .es-bar{display:inline-block;height:8px;background:rgba(229,83,75,.55);vertical-align:middle}"
    ".es .es-ax{position:relative;height:36px;border-bottom:1px solid var(--jp-border-color1,#8888)}"
    ".es .es-lane{position:relative;height:22px;margin:1px 0}"
    ".es .es-w{position:absolute;top:0;height:20px;box-sizing:border-box;overflow:hidden;white-space:nowrap;"
    "border:1px solid var(--jp-border-color1,#8888);border-radius:3px;padding:0 3px;font-size:11px}"
    ".es .es-open{background:rgba(66,133,244,.25)}.es .es-closed{background:rgba(128,128,128,.2)}"
    ".es .es-t{position:absolute;font-size:10px;color:var(--jp-ui-font-color2,#777)}"
    "</style>"
)


def esc(value):
    """Text for HTML content or a quoted attribute."""
    return _html.escape("" if value is None else str(value), quote=True)


def num(n):
    """An integer with thin thousands separators (``9 960``); ``None`` as an em dash."""
    if n is None:
        return "\u2014"
    return f"{int(n):,}".replace(",", "\u202f")


#: Timestamps from here on (1973-03-03) are wall-clock times (ms since 1970), shown as a time of day.
CLOCK_TIME_FROM_MS = 10 ** 11


def event_time(t_ms):
    """A record timestamp for a time axis: ``00:01:30`` (UTC time of day, ``.250`` if not whole seconds)
    for a wall-clock timestamp, as the simulator's and real Kafka's clocks give; ``1 500 ms`` for a small
    number (made-up timestamps counted from 0)."""
    if t_ms < CLOCK_TIME_FROM_MS:
        return f"{num(t_ms)} ms"
    when = _dt.datetime.fromtimestamp(t_ms // 1000, _dt.timezone.utc).strftime("%H:%M:%S")
    return when + (f".{t_ms % 1000:03d}" if t_ms % 1000 else "")


def record_timestamp(t_ms):
    """A record's timestamp as Kafka stores it, with its UTC date where it is a wall-clock time:
    ``1767225615052 (2026-01-01 00:00:15.052 UTC)``."""
    if t_ms < CLOCK_TIME_FROM_MS:
        return str(t_ms)
    when = _dt.datetime.fromtimestamp(t_ms // 1000, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return f"{t_ms} ({when}.{t_ms % 1000:03d} UTC)"


def at(time_ms):
    """``t=1 200 ms`` (virtual time on the simulator); empty where the backend has no such clock."""
    return "" if time_ms is None else f"t={num(time_ms)} ms"


def stamp(time_ms):
    """Prefix of an event-log line: ``t=1 200 ms  `` or nothing."""
    return "" if time_ms is None else at(time_ms) + "  "


def page(body, kind):
    """Wrap a view's markup in the shared style sheet and the ``es`` root element."""
    return f'{STYLE}<div class="es es-{kind}">{body}</div>'


def tp_name(topic, partition):
    """Kafka's usual spelling of a topic-partition, ``orders-2``."""
    return f"{topic}-{partition}"
