"""Argument checks shared by the views: a wrong argument fails at the call, naming what is expected,
instead of being taken apart silently (``groups="g1"`` is not the groups ``"g"`` and ``"1"``)."""
from __future__ import annotations

_COLLECTIONS = (list, tuple, set, frozenset, range)


def check_int(value, name, minimum=0):
    """A whole number (not a bool) >= ``minimum``: ``TypeError`` for another type, ``ValueError`` below it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def check_text(value, name, allow_none=False):
    """A non-empty str (or None if ``allow_none``)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty str{' or None' if allow_none else ''}, got {value!r}")
    return value


def check_collection(values, name, example, item_check):
    """None, or a list / tuple / set whose items pass ``item_check(item, name)``; returns a list."""
    if values is None:
        return None
    if not isinstance(values, _COLLECTIONS):
        raise TypeError(f"{name} must be a list such as {example} (or None for all), got {values!r}")
    return [item_check(v, f"each of {name}") for v in values]
