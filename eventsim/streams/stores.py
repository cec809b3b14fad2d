"""State stores: the per-task tables a stateful operator keeps, each backed by a changelog topic.

Kafka Streams keeps state locally (RocksDB or in memory) and makes it fault tolerant by writing every
update to a **changelog topic**, ``<application.id>-<store name>-changelog``, created with
``cleanup.policy=compact``: compaction keeps at least the latest value per key, so the topic never needs
more than one record per key to rebuild the store. Partition *p* of the changelog belongs to task *p*
(the task that processes partition *p* of the input). A new instance (after a crash, or after the task moved)
**restores** the store by reading its changelog partition from the beginning before it processes anything.

Here stores are Python dicts (in memory: nothing is written to disk, so every restart restores from the
changelog, as a Kafka Streams instance without its state directory would). Keys are held by their
serialized bytes, as Kafka's stores do, so any key a serde can write can be a store key.

Windowed stores also track the **observed stream time** (largest event time seen), which a restore
recovers from the changelog records' timestamps (as Kafka's segmented window stores do).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import serdes
from .windows import SessionWindows, TimeWindows, Window, Windowed


@dataclass
class StoreSpec:
    """What the topology knows about a store: its name, kind, serdes and (for windowed stores) windows."""
    name: str
    kind: str                 # "kv", "window" or "session"
    key_serde: object
    value_serde: object
    windows: object = None
    aggregation: str = "aggregate"   # "count", "reduce" or "aggregate": how the window view labels values
    logged: bool = True
    users: list = field(default_factory=list)

    def __post_init__(self):
        if self.kind not in ("kv", "window", "session"):
            raise ValueError(f"a store kind is 'kv', 'window' or 'session', got {self.kind!r}")
        serdes.check_serde(self.key_serde, f"the key serde of store {self.name!r}")
        serdes.check_serde(self.value_serde, f"the value serde of store {self.name!r}")
        wanted = {"kv": type(None), "window": TimeWindows, "session": SessionWindows}[self.kind]
        if not isinstance(self.windows, wanted):
            raise TypeError(f"a {self.kind} store takes windows={wanted.__name__}, got {self.windows!r}")

    def changelog_topic(self, application_id):
        return f"{application_id}-{self.name}-changelog"

    def changelog_key_serde(self):
        if self.kind == "window":
            return serdes.windowed(self.key_serde, self.windows.size_ms)
        if self.kind == "session":
            return serdes.session_windowed(self.key_serde)
        return self.key_serde

    def create(self, log):
        cls = {"kv": KeyValueStore, "window": WindowStore, "session": SessionStore}[self.kind]
        return cls(self, log)


class _Store:
    def __init__(self, spec, log):
        self.spec = spec
        self._log = log           # log(key_bytes, value_bytes, timestamp): append to the changelog
        self.stream_time = -1
        self.restored = 0

    @property
    def name(self):
        return self.spec.name

    def _kbytes(self, key):
        return self.spec.key_serde.serialize(key, "key")

    def _write(self, changelog_key, value, timestamp):
        if self.spec.logged:
            self._log(self.spec.changelog_key_serde().serialize(changelog_key, "key"),
                      self.spec.value_serde.serialize(value, "value"), timestamp)

    def observe(self, timestamp):
        """Move the observed stream time forward (never back)."""
        self.stream_time = max(self.stream_time, timestamp)


class KeyValueStore(_Store):
    """key -> (value, timestamp): the latest aggregate per key (Kafka's timestamped key-value store)."""

    def __init__(self, spec, log):
        super().__init__(spec, log)
        self._data = {}          # key bytes -> (key, value, timestamp)

    def get(self, key):
        """``(value, timestamp)`` or ``None``."""
        hit = self._data.get(self._kbytes(key))
        return None if hit is None else hit[1:]

    def put(self, key, value, timestamp):
        self._data[self._kbytes(key)] = (key, value, timestamp)
        self._write(key, value, timestamp)

    def restore(self, key_bytes, value_bytes, timestamp):
        """Apply one changelog record (a ``None`` value is a tombstone: delete)."""
        self.restored += 1
        if value_bytes is None:
            self._data.pop(key_bytes, None)
            return
        key = self.spec.key_serde.deserialize(key_bytes, "key")
        self._data[key_bytes] = (key, self.spec.value_serde.deserialize(value_bytes, "value"), timestamp)

    def items(self):
        """``(key, value)`` pairs, in key-bytes order."""
        return [(k, v) for _, (k, v, _) in sorted(self._data.items(), key=lambda kv: kv[0] or b"")]

    def __len__(self):
        return len(self._data)


class WindowStore(_Store):
    """(key, window) -> (value, timestamp), plus per-window counts of late (dropped) records."""

    def __init__(self, spec, log):
        super().__init__(spec, log)
        self._data = {}          # (key bytes, start) -> (key, window, value, timestamp)
        self._late = {}          # (key bytes, start) -> (key, window, count)

    def windowed_key(self, key, window):
        return Windowed(key, window)

    def get(self, key, window):
        hit = self._data.get((self._kbytes(key), window.start_ms))
        return None if hit is None else hit[2:]

    def put(self, key, window, value, timestamp):
        self._data[(self._kbytes(key), window.start_ms)] = (key, window, value, timestamp)
        self._write(Windowed(key, window), value, timestamp)

    def count_late(self, key, window):
        k = (self._kbytes(key), window.start_ms)
        _, _, n = self._late.get(k, (key, window, 0))
        self._late[k] = (key, window, n + 1)

    def restore(self, key_bytes, value_bytes, timestamp):
        self.restored += 1
        self.observe(timestamp)
        wk = self.spec.changelog_key_serde().deserialize(key_bytes, "key")
        k = (key_bytes[:-8], wk.window.start_ms)
        if value_bytes is None:
            self._data.pop(k, None)
        else:
            self._data[k] = (wk.key, wk.window, self.spec.value_serde.deserialize(value_bytes, "value"), timestamp)

    def windows(self):
        """``(key, window, value, late_count)`` for every window with an aggregate or a late record."""
        out = {k: (key, w, v, 0) for k, (key, w, v, _) in self._data.items()}
        for k, (key, w, n) in self._late.items():
            key0, w0, v, _ = out.get(k, (key, w, None, 0))
            out[k] = (key0, w0, v, n)
        return [out[k] for k in sorted(out, key=lambda k: (k[1], k[0] or b""))]

    def items(self):
        return [(Windowed(key, w), v) for key, w, v, _ in self.windows() if v is not None]

    def __len__(self):
        return len(self._data)


class SessionStore(_Store):
    """key -> its sessions ``[(window, value, timestamp)]``; windows are ``[start, end]``, inclusive."""

    def __init__(self, spec, log):
        super().__init__(spec, log)
        self._data = {}          # key bytes -> (key, {window: (value, timestamp)})
        self._late = {}          # (key bytes, window) -> (key, count)

    def windowed_key(self, key, window):
        return Windowed(key, window)

    def sessions(self, key):
        _, sessions = self._data.get(self._kbytes(key), (key, {}))
        return [(w, v, ts) for w, (v, ts) in sorted(sessions.items())]

    def put(self, key, window, value, timestamp):
        self._data.setdefault(self._kbytes(key), (key, {}))[1][window] = (value, timestamp)
        self._write(Windowed(key, window), value, timestamp)

    def remove(self, key, window, timestamp):
        entry = self._data.get(self._kbytes(key))
        if entry is not None:
            entry[1].pop(window, None)
        self._write(Windowed(key, window), None, timestamp)

    def count_late(self, key, window):
        k = (self._kbytes(key), window)
        _, n = self._late.get(k, (key, 0))
        self._late[k] = (key, n + 1)

    def restore(self, key_bytes, value_bytes, timestamp):
        self.restored += 1
        self.observe(timestamp)
        wk = self.spec.changelog_key_serde().deserialize(key_bytes, "key")
        kb = key_bytes[:-16]
        if value_bytes is None:
            entry = self._data.get(kb)
            if entry is not None:
                entry[1].pop(wk.window, None)
            return
        self._data.setdefault(kb, (wk.key, {}))[1][wk.window] = (
            self.spec.value_serde.deserialize(value_bytes, "value"), timestamp)

    def windows(self):
        """``(key, window, value, late_count)`` for every session and every late-record target."""
        out = {}
        for kb, (key, sessions) in self._data.items():
            for w, (v, _) in sessions.items():
                out[(kb, w)] = (key, w, v, 0)
        for (kb, w), (key, n) in self._late.items():
            key0, w0, v, _ = out.get((kb, w), (key, w, None, 0))
            out[(kb, w)] = (key0, w0, v, n)
        return [out[k] for k in sorted(out, key=lambda k: (k[1], k[0] or b""))]

    def items(self):
        return [(Windowed(key, w), v) for key, w, v, _ in self.windows() if v is not None]

    def __len__(self):
        return sum(len(s) for _, s in self._data.values())
