"""Serdes: how a stream's keys and values become the bytes Kafka stores, and back.

Kafka only stores bytes. Kafka Streams pairs a *serializer* and a *deserializer* in a ``Serde``
(``Serdes.String()``, ``Serdes.Long()``, ...) and asks for one wherever records cross a topic: reading a
source, writing a sink, a repartition topic, a changelog. This module has the same idea in Python:

* ``bytes`` (the default): bytes in, bytes out; anything else is an error, so a forgotten serde is noticed.
* ``str``: UTF-8 text (Kafka's ``StringSerde``).
* ``int``: a 4-byte big-endian signed integer (Kafka's ``IntegerSerde``).
* ``long``: an 8-byte big-endian signed integer (Kafka's ``LongSerde``; ``count()`` stores its counts so).
* ``json``: a JSON document, UTF-8, keys sorted so equal objects give equal bytes.
* ``windowed(inner)``: a windowed key, ``inner`` bytes followed by the window start as 8 big-endian bytes
  (Kafka's ``TimeWindowedSerde`` layout); ``session_windowed(inner)`` adds the end then the start
  (Kafka's ``SessionWindowedSerde`` layout: key, end, start).

``None`` (a null key, or a tombstone value) passes through every serde unchanged, as in Kafka.
Wherever the DSL takes a serde it checks, when the topology is declared, that it is one of these (or a
``Serde(name, serialize, deserialize)`` of your own): ``check_serde()`` raises a ``TypeError`` naming the
choices, so ``value_serde=str`` (Python's type, not ``serdes.str``) fails at once, not at the first record.
A value a serde cannot handle raises ``KafkaException`` with ``_KEY_SERIALIZATION`` /
``_VALUE_SERIALIZATION`` (or the ``_DESERIALIZATION`` codes) and a message naming the value.
"""
from __future__ import annotations

import builtins
import json as _json
import struct

from ..errors import KafkaError, KafkaException
from .windows import Window, Windowed

__all__ = ["Serde", "bytes", "str", "int", "long", "json", "windowed", "session_windowed", "serde_error",
           "check_serde", "CHOICES"]


def serde_error(what, direction, detail):
    """A ``KafkaException`` with librdkafka's (de)serialization code for a key or a value."""
    code = {("key", "ser"): KafkaError._KEY_SERIALIZATION, ("value", "ser"): KafkaError._VALUE_SERIALIZATION,
            ("key", "de"): KafkaError._KEY_DESERIALIZATION,
            ("value", "de"): KafkaError._VALUE_DESERIALIZATION}[(what, direction)]
    return KafkaException(KafkaError(code, reason=f"{what} {detail}"))


class Serde:
    """A named pair of functions ``serialize(obj) -> bytes`` and ``deserialize(bytes) -> obj``."""

    def __init__(self, name, serialize, deserialize):
        if not isinstance(name, builtins.str) or not name:
            raise TypeError(f"a Serde needs a non-empty str name, got {name!r}")
        for what, fn in (("serialize", serialize), ("deserialize", deserialize)):
            if not callable(fn):
                raise TypeError(f"Serde({name!r}, ...): {what} must be a function, got {fn!r}")
        self.name = name
        self._serialize = serialize
        self._deserialize = deserialize

    def serialize(self, obj, what="value"):
        if obj is None:
            return None
        try:
            return self._serialize(obj)
        except KafkaException:
            raise
        except Exception as exc:  # noqa: BLE001  (any failure of a user object becomes a serialization error)
            raise serde_error(what, "ser", f"{obj!r} cannot be serialized by the {self.name} serde: {exc}") from exc

    def deserialize(self, data, what="value"):
        if data is None:
            return None
        try:
            return self._deserialize(builtins.bytes(data))
        except KafkaException:
            raise
        except Exception as exc:  # noqa: BLE001
            raise serde_error(what, "de", f"{data!r} cannot be deserialized by the {self.name} serde: {exc}") \
                from exc

    def __repr__(self):
        return f"serdes.{self.name}"


def _bytes_only(obj):
    if isinstance(obj, (builtins.bytes, bytearray, memoryview)):
        return builtins.bytes(obj)
    raise TypeError(f"the bytes serde takes bytes, not {type(obj).__name__}; pass a serde "
                    f"(serdes.str, serdes.int, serdes.long, serdes.json) where the stream is read or written")


def _str_ser(obj):
    if not isinstance(obj, builtins.str):
        raise TypeError(f"expected str, got {type(obj).__name__}")
    return obj.encode("utf-8")


def _int_ser(size, fmt):
    lo, hi = -(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1

    def ser(obj):
        if isinstance(obj, builtins.bool) or not isinstance(obj, builtins.int):
            raise TypeError(f"expected int, got {type(obj).__name__}")
        if not lo <= obj <= hi:
            raise ValueError(f"out of range for {size} bytes [{lo}, {hi}]")
        return struct.pack(fmt, obj)

    def de(data):
        if len(data) != size:
            raise ValueError(f"expected {size} bytes, got {len(data)}")
        return struct.unpack(fmt, data)[0]
    return ser, de


def _json_ser(obj):
    return _json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")


bytes = Serde("bytes", _bytes_only, lambda b: b)                                    # noqa: A001
str = Serde("str", _str_ser, lambda b: b.decode("utf-8"))                            # noqa: A001
int = Serde("int", *_int_ser(4, ">i"))                                               # noqa: A001
long = Serde("long", *_int_ser(8, ">q"))
json = Serde("json", _json_ser, lambda b: _json.loads(b.decode("utf-8")))


#: What ``check_serde`` names as the valid choices.
CHOICES = ("serdes.bytes, serdes.str, serdes.int, serdes.long, serdes.json, serdes.windowed(inner), "
           "serdes.session_windowed(inner), or serdes.Serde(name, serialize, deserialize)")


def _hint(obj):
    """A likely meant serde for a common mistake, as ``" (did you mean ...?)"``, or ``""``."""
    if obj is windowed or obj is session_windowed:
        return f" (did you mean serdes.{obj.__name__}(serdes.str)? it takes the key's serde)"
    types = {builtins.bytes: "bytes", builtins.str: "str", builtins.int: "int", builtins.dict: "json",
             builtins.list: "json"}
    words = {"bytes": "bytes", "str": "str", "string": "str", "int": "int", "integer": "int", "long": "long",
             "json": "json"}
    name = types.get(obj) if isinstance(obj, type) else None
    if isinstance(obj, builtins.str):
        name = words.get(obj.lower().removeprefix("serdes."))
    return f" (did you mean serdes.{name}?)" if name else ""


def check_serde(serde, where):
    """``serde`` if it is a ``Serde``; else a ``TypeError`` saying ``where`` it was given and the choices."""
    if isinstance(serde, Serde):
        return serde
    raise TypeError(f"{where} got {serde!r}, which is not a serde{_hint(serde)}; the choices, from "
                    f"eventsim.streams.serdes: {CHOICES}")


def windowed(inner, size_ms=None):
    """Serde of ``Windowed`` keys of time windows: ``inner`` key bytes + 8-byte window start.

    As in Kafka, the window end is not stored (it is ``start + size``), so a deserialized key has
    ``window.end_ms = None`` unless the window size is given: ``windowed(inner, size_ms)``.
    """
    check_serde(inner, "windowed(inner): inner")
    if size_ms is not None and (isinstance(size_ms, builtins.bool) or not isinstance(size_ms, builtins.int)
                                or size_ms < 1):
        raise ValueError(f"windowed(inner, size_ms): size_ms must be an int >= 1 or None, got {size_ms!r}")

    def ser(wk):
        if not isinstance(wk, Windowed):
            raise TypeError(f"expected a Windowed key, got {type(wk).__name__}")
        return (inner.serialize(wk.key, "key") or b"") + struct.pack(">q", wk.window.start_ms)

    def de(data):
        if len(data) < 8:
            raise ValueError("a windowed key has at least 8 bytes (the window start)")
        start = struct.unpack(">q", data[-8:])[0]
        end = start + size_ms if size_ms is not None else None
        return Windowed(inner.deserialize(data[:-8], "key"), Window(start, end))
    return Serde(f"windowed({inner.name})", ser, de)


def session_windowed(inner):
    """Serde of ``Windowed`` keys of session windows: ``inner`` key bytes + 8-byte end + 8-byte start."""
    check_serde(inner, "session_windowed(inner): inner")

    def ser(wk):
        if not isinstance(wk, Windowed):
            raise TypeError(f"expected a Windowed key, got {type(wk).__name__}")
        return (inner.serialize(wk.key, "key") or b"") + struct.pack(">qq", wk.window.end_ms, wk.window.start_ms)

    def de(data):
        if len(data) < 16:
            raise ValueError("a session-windowed key has at least 16 bytes (window end and start)")
        end, start = struct.unpack(">qq", data[-16:])
        return Windowed(inner.deserialize(data[:-16], "key"), Window(start, end))
    return Serde(f"session_windowed({inner.name})", ser, de)
