#!/usr/bin/env python3
"""Write the README's table of control methods per backend from the backends' own ``capabilities()``.

    .venv/bin/python scripts/make_readme_matrix.py          # rewrite the table in README.md
    .venv/bin/python scripts/make_readme_matrix.py --check  # exit 1 if README.md is out of date (tests)

The table sits between ``<!-- capabilities:begin -->`` and ``<!-- capabilities:end -->``; it is generated,
so it cannot drift from what the handles do.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BEGIN, END = "<!-- capabilities:begin -->", "<!-- capabilities:end -->"


def matrix():
    """The markdown table: one row per control method, one column per backend."""
    sys.path.insert(0, str(ROOT))
    from eventsim.backends.base import BACKEND_NAMES, CONTROL_METHODS
    from eventsim.backends.external import ExternalKafka
    from eventsim.backends.local import LocalKafka
    from eventsim.backends.sim import SimKafka
    from eventsim.backends.testcontainers import TestcontainersKafka
    classes = dict(zip(BACKEND_NAMES, (SimKafka, LocalKafka, TestcontainersKafka, ExternalKafka)))
    caps = {name: cls.class_capabilities() for name, cls in classes.items()}
    rows = ["| method | " + " | ".join("`%s`" % n for n in BACKEND_NAMES) + " |",
            "| --- |" + " :---: |" * len(BACKEND_NAMES)]
    notes = []

    def cell(name, method):
        if not caps[name][method]:
            return "—"
        condition = getattr(classes[name], "CONDITIONAL_CAPABILITIES", {}).get(method)
        if condition is None:
            return "✓"
        notes.append("(%d) `%s` on `%s`: %s." % (len(notes) + 1, method, name, condition))
        return "✓ (%d)" % len(notes)
    for method in CONTROL_METHODS:
        rows.append("| `%s` | " % method + " | ".join(cell(n, method) for n in BACKEND_NAMES) + " |")
    return "\n".join(rows + ([""] + notes if notes else []))


def render(text):
    if BEGIN not in text or END not in text:
        raise SystemExit("README.md has no %s ... %s markers" % (BEGIN, END))
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + "\n" + matrix() + "\n" + END + tail


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is out of date")
    args = parser.parse_args(argv)
    text = README.read_text()
    new = render(text)
    if args.check:
        if new != text:
            print("README.md's capability table is out of date: run scripts/make_readme_matrix.py")
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
