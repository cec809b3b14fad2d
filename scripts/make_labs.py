#!/usr/bin/env python3
"""Generate the exercise notebooks in ``labs/`` from the solved ones in ``solutions/``.

Never edit ``labs/`` by hand: change ``solutions/labNN_*.ipynb`` and run

    .venv/bin/python scripts/make_labs.py          # rewrite labs/
    .venv/bin/python scripts/make_labs.py --check  # exit 1 if labs/ is out of date (used by the tests)

What changes from a solution notebook to its lab (nbgrader-style markers):

* In a code cell, every block from a ``### BEGIN SOLUTION`` line to its ``### END SOLUTION`` line is
  replaced by ``raise NotImplementedError(...)`` at the marker's indentation, after a ``# YOUR CODE HERE``
  comment. So an unsolved lab stops at the first exercise with a clear message, and no check can pass on
  an empty answer.
* In a markdown cell, ``<!-- BEGIN SOLUTION -->`` ... ``<!-- END SOLUTION -->`` becomes "*(your answer)*".
* Cells tagged ``solution-only`` are dropped.
* Outputs and execution counts are removed; cell ids and the notebook metadata are kept.

The output is deterministic: the same solutions always give byte-identical labs.
"""
from __future__ import annotations

import argparse
import copy
import pathlib
import re
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
MD_PLACEHOLDER = "*(your answer)*"
SOLUTION_ONLY_TAG = "solution-only"


class MarkerError(ValueError):
    """A solution block is not closed, not opened, or nested."""


def strip_code(source, where, exercise):
    """``source`` with each solution block replaced by a ``NotImplementedError`` placeholder.

    ``exercise`` names the exercise in the message (e.g. ``"lab03, exercise 1"``). Returns the new
    source and the number of blocks replaced.
    """
    out, inside, blocks = [], None, 0
    for number, line in enumerate(source.split("\n"), 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside is not None:
                raise MarkerError(f"{where}, line {number}: {BEGIN} inside another solution block")
            inside = line[:len(line) - len(line.lstrip())]
            blocks += 1
            out.append(f"{inside}# YOUR CODE HERE")
            out.append(f'{inside}raise NotImplementedError("{exercise}: replace this line with your code")')
        elif stripped == END:
            if inside is None:
                raise MarkerError(f"{where}, line {number}: {END} without {BEGIN}")
            inside = None
        elif inside is None:
            out.append(line)
    if inside is not None:
        raise MarkerError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out), blocks


def strip_markdown(source, where):
    pattern = re.compile(re.escape(MD_BEGIN) + r".*?" + re.escape(MD_END), re.S)
    new = pattern.sub(MD_PLACEHOLDER, source)
    if MD_BEGIN in new or MD_END in new:
        raise MarkerError(f"{where}: unbalanced {MD_BEGIN} / {MD_END}")
    return new


def exercise_label(lab_name, exercise_cells):
    """``"lab03, exercise 2"`` for the second cell with a solution block of ``lab03_....ipynb``."""
    return f"{lab_name.split('_')[0]}, exercise {exercise_cells}"


def make_lab(solution, name="lab"):
    """The lab notebook (a new ``NotebookNode``) for a solution notebook named ``name``."""
    lab = copy.deepcopy(solution)
    cells, exercise = [], 0
    for i, cell in enumerate(lab.cells):
        where = f"{name} cell {i}"
        if SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            if BEGIN in cell.source or END in cell.source:
                exercise += 1
                cell.source, _ = strip_code(cell.source, where, exercise_label(name, exercise))
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.source = strip_markdown(cell.source, where)
        cells.append(cell)
    lab.cells = cells
    return lab


def render(nb):
    return nbformat.writes(nb) + "\n"


def build_all(solutions_dir, labs_dir):
    """``{lab path: text}`` for every ``solutions/lab*.ipynb``."""
    out = {}
    for path in sorted(pathlib.Path(solutions_dir).glob("lab*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        lab = make_lab(nb, path.stem)
        out[pathlib.Path(labs_dir) / path.name] = render(lab)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report whether labs/ is up to date")
    parser.add_argument("--solutions", default=ROOT / "solutions", type=pathlib.Path)
    parser.add_argument("--labs", default=ROOT / "labs", type=pathlib.Path)
    args = parser.parse_args(argv)
    wanted = build_all(args.solutions, args.labs)
    if not wanted:
        print(f"no solutions/lab*.ipynb found in {args.solutions}", file=sys.stderr)
        return 1
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
    extra = sorted(set(args.labs.glob("lab*.ipynb")) - set(wanted))
    if args.check:
        for p in stale:
            print(f"out of date: {p} (run scripts/make_labs.py)")
        for p in extra:
            print(f"no solution for: {p}")
        return 1 if stale or extra else 0
    args.labs.mkdir(parents=True, exist_ok=True)
    for p in stale:
        p.write_text(wanted[p])
        print(f"wrote {p}")
    for p in extra:
        print(f"warning: {p} has no solution notebook; remove it or add solutions/{p.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
