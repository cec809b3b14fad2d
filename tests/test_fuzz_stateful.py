"""The short profile of the stateful fuzzer (``tests/fuzz_machine.py``): hypothesis drives random sequences of
client, admin and cluster operations with good and bad arguments; every call is bounded in wall-clock time
and classified, and Kafka's invariants are checked after every step (see ``fuzz_machine``'s docstring). A
failure prints a stand-alone Python reproduction of the (shrunk) sequence.

The long profile is ``make fuzz`` (``scripts/fuzz.py``). Knobs for this one, from the environment:
``FUZZ_EXAMPLES`` (sequences, default 60), ``FUZZ_STEPS`` (steps per sequence, default 40),
``FUZZ_MAX_DURATION_MS`` (largest good duration, default 60000), ``FUZZ_HUGE_DURATIONS=1`` (also draw giant /
non-finite durations as bad input), ``FUZZ_RANDOM=1`` (new sequences each run instead of a fixed set),
``FUZZ_SEEDS`` (fixed-seed 150-step sequences, default 12), ``FUZZ_SHRINK=0`` (report a failing sequence
unshrunk: shrinking gives a minimal reproduction but can take a few minutes).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, Phase, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

sys.path.insert(0, os.path.dirname(__file__))
import fuzz_machine as fm  # noqa: E402

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
STEPS = int(os.environ.get("FUZZ_STEPS", "40"))
MAX_DURATION_MS = int(os.environ.get("FUZZ_MAX_DURATION_MS", str(fm.DEFAULT_MAX_DURATION_MS)))
HUGE = os.environ.get("FUZZ_HUGE_DURATIONS") == "1"
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
#: FUZZ_SHRINK=0 reports the first failing sequence as found, without shrinking it (faster when failing)
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if os.environ.get("FUZZ_SHRINK") != "0"
                                                          else [])


NAMES, WEIGHTS = fm.op_names(), fm.op_weights()
CUMULATIVE = [sum(WEIGHTS[:i + 1]) for i in range(len(WEIGHTS))]


def _weighted_op(data):
    """An operation with the long profile's weights (hypothesis' rules would be picked uniformly); shrinks
    towards the first operations of ``World.OPS``."""
    n = data.draw(st.integers(0, CUMULATIVE[-1] - 1))
    return next(name for name, c in zip(NAMES, CUMULATIVE) if n < c)


def _machine_class():
    @rule(data=st.data())
    def step(self, data):
        op = _weighted_op(data)
        note(f"step {self.world.step + 1}: {op}")
        self.world.do(op, fm.HypothesisChooser(data))

    body = {"step": step}

    def __init__(self):
        RuleBasedStateMachine.__init__(self)
        self.world = None

    @initialize(seed=st.integers(0, 2 ** 16))
    def start(self, seed):
        self.world = fm.World(seed, max_duration_ms=MAX_DURATION_MS, huge_durations=HUGE, call_budget_s=5.0)

    def teardown(self):
        if self.world is not None:
            self.world.close()

    body.update(__init__=__init__, start=start, teardown=teardown)
    return type("EventsimMachine", (RuleBasedStateMachine,), body)


EventsimMachine = _machine_class()
TestEventsimStateful = EventsimMachine.TestCase
TestEventsimStateful.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=not RANDOM,
    report_multiple_bugs=False, phases=PHASES,
    database=None if not RANDOM else settings.default.database,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


# -- longer sequences, fixed seeds ----------------------------------------------------------------------------
#: a few of the long profile's sequences (random.Random-driven, weighted operations, 150 steps): deeper than
#: hypothesis' sequences, the same every run. FUZZ_SEEDS=N runs N of them.
SEEDS = int(os.environ.get("FUZZ_SEEDS", "12"))


@pytest.mark.parametrize("seed", range(SEEDS))
def test_long_random_sequence(seed):
    world = fm.run_random_sequence(seed, 150, max_duration_ms=MAX_DURATION_MS, huge_durations=HUGE,
                                   call_budget_s=5.0)
    try:
        if world.failure is not None:
            raise world.failure
    finally:
        world.close()


# -- determinism by replay -------------------------------------------------------------------------------
REPLAY_SEED, REPLAY_STEPS = 7, 120


def test_replay_is_byte_for_byte_identical():
    """The same seeded sequence twice in one process: the same trace (every step's outcome and virtual
    time), the same events and the same final snapshot, byte for byte."""
    first = fm.run_random_sequence(REPLAY_SEED, REPLAY_STEPS)
    second = fm.run_random_sequence(REPLAY_SEED, REPLAY_STEPS)
    try:
        assert len(first.trace) > 50
        assert first.digest() == second.digest()
    finally:
        first.close()
        second.close()


_DIGEST_SCRIPT = """
import hashlib, sys
sys.path.insert(0, {tests!r})
import fuzz_machine as fm
w = fm.run_random_sequence({seed}, {steps})
print(hashlib.sha256(w.digest().encode()).hexdigest())
"""


def test_replay_is_identical_across_processes_and_hash_seeds():
    """The same sequence in two fresh interpreters with different ``PYTHONHASHSEED``: nothing may depend on
    set/dict iteration order of strings or on the process."""
    code = _DIGEST_SCRIPT.format(tests=os.path.dirname(os.path.abspath(__file__)), seed=REPLAY_SEED,
                                 steps=REPLAY_STEPS)
    digests = []
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        digests.append(out.stdout.strip())
    local = hashlib.sha256(fm.run_random_sequence(REPLAY_SEED, REPLAY_STEPS).digest().encode()).hexdigest()
    assert digests[0] == digests[1] == local


# -- the classifier itself --------------------------------------------------------------------------------
def test_classifier_tells_deliberate_errors_from_raw_ones():
    import eventsim
    cluster = eventsim.Cluster(brokers=1, seed=0)
    try:
        with pytest.raises(eventsim.KafkaException) as deliberate:
            cluster.stop_broker(9)
        assert fm.classify_exception(deliberate.value)[0] == fm.EXPECTED
        with pytest.raises(ValueError) as internal:
            cluster.clock.schedule(-1, lambda: None)       # a raise, but in the clock: not the API boundary
        assert fm.classify_exception(internal.value)[0] == fm.RAW
        with pytest.raises(KeyError) as other:
            cluster.topics["nope"]
        assert fm.classify_exception(other.value)[0] == fm.RAW
    finally:
        eventsim.Cluster._registry.pop(cluster.name, None)
