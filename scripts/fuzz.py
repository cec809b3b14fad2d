"""The long profile of the stateful fuzzer (``make fuzz``): N random sequences of client, admin and cluster
operations on a seeded simulated cluster, Kafka's invariants checked after every step (see
``tests/fuzz_machine.py``), and counts per outcome class:

* ``ok``        - the call returned
* ``expected``  - a client error raised deliberately at the package's API boundary (KafkaError /
                  KafkaException / ValueError / TypeError / BufferError, or RuntimeError for a closed handle)
* ``raw``       - a raw traceback from package internals (any other exception, or one raised deep inside)
* ``hang``      - a call over its wall-clock budget, or a ``poll(0)`` loop that never lets time move
* ``invariant`` - a broken invariant

A sequence stops at its first raw traceback, hang or broken invariant. Every distinct failure is printed
once (grouped by its message with numbers blanked) with the seed and the shortest reproduction found (a
stand-alone Python script; the failing call is its last line). For a minimal reproduction, run the short
profile (``tests/test_fuzz_stateful.py``), whose hypothesis shrinking drops every step that is not needed.
Exit status 1 if any call hung or raised a raw traceback, an invariant broke or a replay differed.

    python scripts/fuzz.py --sequences 2000 [--steps 150] [--seed 0] [--budget 3] [--max-duration-ms 600000]
                           [--no-huge-durations] [--replay-every 50] [--repro-dir DIR]
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "tests"))
import fuzz_machine as fm  # noqa: E402


def signature(failure):
    """The failure's message with numbers, offsets, names and byte values blanked: one per distinct defect."""
    text = failure.message.split("\n", 1)[0]
    text = re.sub(r"^(after )?step \d+: ", "", text)
    text = re.sub(r"`[^`]*`", "`...`", text)
    text = re.sub(r"b'[^']*'", "b'..'", text)
    text = re.sub(r"\bt\d-\d+", "T-P", text)
    text = re.sub(r"\d+", "N", text)
    return f"{failure.kind}: {text[:200]}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sequences", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=150, help="steps per sequence (default 150)")
    ap.add_argument("--seed", type=int, default=0, help="first seed (sequence i uses seed + i)")
    ap.add_argument("--budget", type=float, default=3.0, help="wall-clock seconds per call (default 3)")
    ap.add_argument("--max-duration-ms", type=int, default=600_000,
                    help="largest good virtual duration drawn (default 600000)")
    ap.add_argument("--no-huge-durations", action="store_true",
                    help="do not draw giant / non-finite durations (10**12 ms, inf, nan) as bad input")
    ap.add_argument("--replay-every", type=int, default=50,
                    help="check determinism by replaying every N-th sequence (0: never)")
    ap.add_argument("--repro-dir", help="write each distinct failure's reproduction to DIR/<n>.py")
    args = ap.parse_args(argv)
    kwargs = dict(max_duration_ms=args.max_duration_ms, huge_durations=not args.no_huge_durations,
                  call_budget_s=args.budget)
    totals = collections.Counter({k: 0 for k in fm.CLASSES})
    codes = collections.Counter()
    notes = collections.Counter()
    failed_sequences = collections.Counter()
    distinct = {}       # signature -> (count, seed, failure)
    replays = replay_mismatch = 0
    t0 = time.monotonic()
    for i in range(args.sequences):
        seed = args.seed + i
        world = fm.run_random_sequence(seed, args.steps, **kwargs)
        totals.update(world.counts)
        codes.update(world.expected_codes)
        notes.update(world.notes)
        if world.failure is not None:
            failed_sequences[world.failure.kind] += 1
            sig = signature(world.failure)
            n, first_seed, first = distinct.get(sig, (0, seed, world.failure))
            if len(world.failure.repro) < len(first.repro):
                first_seed, first = seed, world.failure
            distinct[sig] = (n + 1, first_seed, first)
        elif args.replay_every and i % args.replay_every == 0:
            again = fm.run_random_sequence(seed, args.steps, **kwargs)
            replays += 1
            if again.digest() != world.digest():
                replay_mismatch += 1
                sig = "determinism: the same seeded sequence replayed differently"
                n, s0, f0 = distinct.get(sig, (0, seed, fm.FuzzFailure("determinism", sig, world.repro())))
                distinct[sig] = (n + 1, s0, f0)
            again.close()
        world.close()
        if (i + 1) % 100 == 0:
            print(f"  ... {i + 1} sequences, {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    elapsed = time.monotonic() - t0
    calls = sum(totals[k] for k in (fm.OK, fm.EXPECTED, fm.RAW, fm.HANG))
    print(f"{args.sequences} sequences x up to {args.steps} steps, {calls} calls, {elapsed:.1f} s "
          f"(seeds {args.seed}..{args.seed + args.sequences - 1}, huge durations "
          f"{'on' if kwargs['huge_durations'] else 'off'}, budget {args.budget} s/call)")
    print()
    print(f"{'outcome class':<44}{'calls':>8}{'sequences stopped':>20}")
    labels = {fm.OK: "ok", fm.EXPECTED: "expected client error",
              fm.RAW: "raw traceback from package internals", fm.HANG: "hang",
              fm.INVARIANT: "broken invariant"}
    for k in fm.CLASSES:
        print(f"{labels[k]:<44}{totals[k]:>8}{failed_sequences.get(k, '') if k in fm.FAILURES else '':>20}")
    print(f"{'determinism replays (mismatches)':<44}{replays:>8}{replay_mismatch:>20}")
    print()
    print("expected client errors by code: " + ", ".join(f"{c} {n}" for c, n in codes.most_common()))
    for note, n in notes.most_common():
        print(f"note (not a failure): {note}: {n}")
    if distinct:
        print()
        print(f"{len(distinct)} distinct failure(s):")
        for j, (sig, (n, seed, failure)) in enumerate(sorted(distinct.items(), key=lambda kv: -kv[1][0]), 1):
            print()
            print(f"[{j}] {sig}")
            print(f"    {n} sequence(s); first/shortest: seed {seed}")
            print("    " + failure.message.split("\n", 1)[0][:500])
            repro = failure.repro
            if args.repro_dir:
                os.makedirs(args.repro_dir, exist_ok=True)
                with open(os.path.join(args.repro_dir, f"{j}.py"), "w") as f:
                    f.write(f"# {sig}\n# seed {seed}\n{repro}\n")
                print(f"    reproduction: {os.path.join(args.repro_dir, f'{j}.py')}")
            else:
                tail = repro.splitlines()
                print("    reproduction (last lines):")
                for line in tail[-8:]:
                    print("      " + line)
    bad = sum(totals[k] for k in (fm.RAW, fm.HANG)) + failed_sequences.get(fm.INVARIANT, 0) + replay_mismatch
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
