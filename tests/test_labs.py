"""The labs: solutions run and pass their checks, generated labs are in sync and fail on an empty
answer, and the checks in eventsim/checks.py tell right answers from wrong ones."""
from __future__ import annotations

import importlib.util
import json
import pathlib
import zlib

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from eventsim import OFFSET_END, TopicPartition, checks
from eventsim.checks import CheckFailed

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("lab*.ipynb"))
LABS = sorted((ROOT / "labs").glob("lab*.ipynb"))


def _load_make_labs():
    spec = importlib.util.spec_from_file_location("make_labs", ROOT / "scripts" / "make_labs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_labs = _load_make_labs()


def _execute(path, monkeypatch):
    """Run a notebook top to bottom on the simulator, from its own directory; return it executed."""
    monkeypatch.delenv("EVENTSIM_BACKEND", raising=False)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def _text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


# -- the generated labs --------------------------------------------------------------------------------

def test_there_is_one_lab_per_step():
    assert [p.name[:5] for p in SOLUTIONS] == [f"lab0{i}" for i in range(1, 8)]
    assert [p.name for p in LABS] == [p.name for p in SOLUTIONS]


def test_labs_are_generated_from_solutions_byte_for_byte():
    wanted = make_labs.build_all(ROOT / "solutions", ROOT / "labs")
    assert sorted(wanted) == LABS
    for path, text in wanted.items():
        assert path.read_text() == text, f"{path.name} is out of date: run scripts/make_labs.py"
    assert make_labs.main(["--check"]) == 0


def test_labs_contain_no_solution_and_no_outputs():
    for path in LABS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            assert "BEGIN SOLUTION" not in cell.source and "END SOLUTION" not in cell.source
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_runs_and_every_check_passes(path, monkeypatch):
    nb = _execute(path, monkeypatch)
    check_cells = [c for c in nb.cells if c.cell_type == "code" and "checks.check_" in c.source]
    assert check_cells, f"{path.name} has no check cell"
    for cell in check_cells:
        assert _text(cell).startswith("\u2713"), f"{path.name}: {cell.source!r} printed {_text(cell)!r}"


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem)
def test_empty_lab_stops_at_its_first_exercise(path, monkeypatch):
    monkeypatch.delenv("EVENTSIM_BACKEND", raising=False)
    nb = nbformat.read(path, as_version=4)
    first = next(i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and "raise NotImplementedError(" in c.source)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert errors, f"{path.name} ran without any error although no exercise is solved"
    first_check = next(i for i, c in enumerate(nb.cells) if i > first and "checks.check_" in c.source)
    index, error = errors[0]
    assert error.ename == "NotImplementedError", (index, error.ename, error.evalue)
    assert first <= index <= first_check, f"first error in cell {index}, expected in cells {first}..{first_check}"
    assert "exercise 1" in error.evalue
    passed = [c.source for c in nb.cells if c.cell_type == "code" and _text(c).startswith("\u2713")]
    assert passed == [], f"checks passed on an empty lab: {passed}"


# -- make_labs -----------------------------------------------------------------------------------------

def test_strip_code_keeps_indentation_and_the_rest():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\nf(1)"
    out, blocks = make_labs.strip_code(source, "t", "lab09, exercise 1")
    assert blocks == 1
    assert out == ('def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError("lab09, exercise 1: replace '
                   'this line with your code")\n\nf(1)')


@pytest.mark.parametrize("source", [
    "### BEGIN SOLUTION\nx = 1",
    "x = 1\n### END SOLUTION",
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
])
def test_unbalanced_markers_are_an_error(source):
    with pytest.raises(make_labs.MarkerError):
        make_labs.strip_code(source, "cell", "lab09, exercise 1")


def test_markdown_answers_and_solution_only_cells_are_removed():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Why? <!-- BEGIN SOLUTION -->Because.<!-- END SOLUTION -->"),
                nbformat.v4.new_code_cell("secret = 1", metadata={"tags": ["solution-only"]}),
                nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 2\n### END SOLUTION")]
    lab = make_labs.make_lab(nb, "lab09_test")
    assert [c.source for c in lab.cells] == [
        "Why? *(your answer)*",
        '# YOUR CODE HERE\nraise NotImplementedError("lab09, exercise 1: replace this line with your code")']


# -- the checks: right answers pass, wrong ones are reported -------------------------------------------

def _balances(events):
    out = {}
    for e in events:
        out[e["account"]] = out.get(e["account"], 0) + (e["amount"] if e["type"] == "deposit" else -e["amount"])
    return out


def _run_ledger(commit_first):
    def run(consumer, process):
        while True:
            msg = consumer.poll(1.0)
            if msg is None:
                return
            if msg.error():
                continue
            if commit_first:
                consumer.commit(message=msg, asynchronous=False)
            process(msg)
            if not commit_first:
                consumer.commit(message=msg, asynchronous=False)
    return run


def _transform(offsets_in_txn):
    def loop(consumer, producer, out):
        while True:
            msg = consumer.poll(1.0)
            if msg is None:
                return
            if msg.error():
                continue
            producer.begin_transaction()
            producer.produce(out, value=msg.value().upper())
            tp = [TopicPartition(msg.topic(), msg.partition(), msg.offset() + 1)]
            if offsets_in_txn:
                producer.send_offsets_to_transaction(tp, consumer.consumer_group_metadata())
            producer.commit_transaction()
            if not offsets_in_txn:
                consumer.commit(offsets=tp, asynchronous=False)
    return loop


def _rewind(use_timestamps):
    def rewind(consumer, topic, n, ts):
        if use_timestamps:
            found = consumer.offsets_for_times([TopicPartition(topic, p, ts) for p in range(n)])
            consumer.assign([TopicPartition(topic, t.partition, t.offset if t.offset >= 0 else OFFSET_END)
                             for t in found])
        else:
            consumer.assign([TopicPartition(topic, p, ts) for p in range(n)])   # a timestamp is not an offset
    return rewind


def _lag(count_uncommitted_from_start):
    def lag_of(consumer, topic, n):
        out = {}
        for p in range(n):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p))
            committed = consumer.committed([TopicPartition(topic, p)])[0].offset
            out[p] = high - (committed if committed >= 0 else (low if count_uncommitted_from_start else high))
        return out
    return lag_of


def _consume_n(skip_none_and_errors):
    def consume_n(consumer, n):
        if not skip_none_and_errors:
            return [consumer.poll(1.0) for _ in range(n)]
        out = []
        while len(out) < n:
            msg = consumer.poll(1.0)
            if msg is not None and not msg.error():
                out.append(msg)
        return out
    return consume_n


def _fraud(window_ms):
    def find(payments):
        recent, out = {}, []
        for p in payments:
            times = [t for t in recent.get(p["card"], []) if t > p["at_ms"] - window_ms] + [p["at_ms"]]
            recent[p["card"]] = times
            if len(times) > 3:
                out.append(p)
        return out
    return find


def _tumbling(aligned):
    def counts(events, size):
        out = {}
        for key, ts in events:
            start = ts - ts % size if aligned else ts // size
            out[(key, start)] = out.get((key, start), 0) + 1
        return out
    return counts


# (name, check, right answer args, wrong answer args)
CASES = [
    ("balances", checks.check_balances, (_balances,), (lambda ev: {e["account"]: e["amount"] for e in ev},)),
    ("balances_as_of", checks.check_balances_as_of,
     (lambda ev, t: _balances([e for e in ev if e["at_ms"] <= t]),),
     (lambda ev, t: _balances([e for e in ev if e["at_ms"] < t]),)),
    ("retention", checks.check_retention, ({"retention.ms": "7200000"},), ({"retention.ms": "7200"},)),
    ("partitioner", checks.check_partitioner, (lambda k, n: zlib.crc32(k) % n,), (lambda k, n: len(k) % n,)),
    ("key_choice", checks.check_key_choice, (lambda e: e["ride"],), (lambda e: e["city"],)),
    ("key_choice_unkeyed", checks.check_key_choice, (lambda e: e["ride"],), (lambda e: None,)),
    ("consumers_busy", checks.check_all_consumers_busy, (4,), (1,)),
    ("consume_loop", checks.check_consume_loop, (_consume_n(True),), (_consume_n(False),)),
    ("rewind", checks.check_rewind, (_rewind(True),), (_rewind(False),)),
    ("lag", checks.check_lag, (_lag(True),), (_lag(False),)),
    ("at_least_once", checks.check_at_least_once, (_run_ledger(False),), (_run_ledger(True),)),
    ("idempotence", checks.check_idempotent_producer, ({"enable.idempotence": True},), ({"acks": "all"},)),
    ("exactly_once", checks.check_exactly_once, (_transform(True),), (_transform(False),)),
    ("tumbling", checks.check_tumbling_counts, (_tumbling(True),), (_tumbling(False),)),
    ("fraud", checks.check_fraud_rule, (_fraud(60_000),), (_fraud(30_000),)),
    ("durability_acks1", checks.check_durability, (3, {"min.insync.replicas": "2"}, {"acks": "all"}),
     (3, {"min.insync.replicas": "2"}, {"acks": "1"})),
    ("durability_min_isr1", checks.check_durability, (3, {"min.insync.replicas": "2"}, {"acks": "all"}),
     (3, {"min.insync.replicas": "1"}, {"acks": "all"})),
    ("durability_rf2", checks.check_durability, (3, {"min.insync.replicas": "2"}, {"acks": "all"}),
     (2, {"min.insync.replicas": "1"}, {"acks": "all"})),
    ("scaling_idle", checks.check_scaling, (3, 3), (2, 3)),
    ("scaling_slow", checks.check_scaling, (3, 3), (6, 2)),
]


@pytest.mark.parametrize("name,check,right,wrong", CASES, ids=[c[0] for c in CASES])
def test_check_accepts_right_and_reports_wrong(name, check, right, wrong, capsys):
    assert check(*right) is True
    assert capsys.readouterr().out.startswith("\u2713")
    with pytest.raises(CheckFailed) as info:
        check(*wrong)
    assert "hint(" in str(info.value)


def _kafka_with(topic, records, partitions=1, key=None):
    import eventsim
    kafka = eventsim.connect()
    checks.create_topic(kafka, topic, partitions, 1)
    p = kafka.Producer({})
    for r in records:
        p.produce(topic, key=None if key is None else str(r[key]), value=json.dumps(r) if key else str(r))
    p.flush()
    return kafka


def test_topic_holds_accepts_the_events_and_rejects_missing_keys():
    events = checks.sample_payments(2, 8)
    assert checks.check_topic_holds(_kafka_with("payments", events, key="account"), "payments", events)
    import eventsim
    kafka = eventsim.connect()
    checks.create_topic(kafka, "payments", 1, 1)
    p = kafka.Producer({})
    for e in events:
        p.produce("payments", value=json.dumps(e))          # no key
    p.flush()
    with pytest.raises(CheckFailed, match="key"):
        checks.check_topic_holds(kafka, "payments", events)


def test_reads_history_needs_earliest():
    kafka = _kafka_with("orders", range(6), partitions=2)
    assert checks.check_reads_history(kafka, "orders", {"group.id": "a", "auto.offset.reset": "earliest"}, 6)
    with pytest.raises(CheckFailed, match="auto.offset.reset"):
        checks.check_reads_history(kafka, "orders", {"group.id": "a"}, 6)
    with pytest.raises(CheckFailed, match="group.id"):
        checks.check_reads_history(kafka, "orders", {"auto.offset.reset": "earliest"}, 6)


def test_fanout_needs_shared_billing_and_separate_shipping():
    import eventsim
    kafka = eventsim.connect()
    checks.create_topic(kafka, "orders", 2, 1)
    p = kafka.Producer({})
    for n in range(10):
        p.produce("orders", key=f"customer-{n}", value=str(n))
    p.flush()
    right = {"billing-1": "billing", "billing-2": "billing", "shipping-1": "shipping"}
    assert checks.check_fanout(kafka, "orders", right, 10)
    for wrong in ({"billing-1": "b1", "billing-2": "b2", "shipping-1": "shipping"},
                  {"billing-1": "billing", "billing-2": "billing", "shipping-1": "billing"},
                  {"billing-1": "billing"}):
        with pytest.raises(CheckFailed):
            checks.check_fanout(kafka, "orders", wrong, 10)


def test_learner_exceptions_become_readable_failures():
    def broken(events):
        return events["nope"]
    with pytest.raises(CheckFailed, match="TypeError"):
        checks.check_balances(broken)


def test_not_implemented_passes_through_unchanged():
    def empty(key, n):
        raise NotImplementedError("lab03, exercise 1")
    with pytest.raises(NotImplementedError):
        checks.check_partitioner(empty)


def test_hints_advance_and_stay_on_the_last(capsys):
    checks._hint_position.clear()
    n = len(checks.HINTS[("lab05", 1)])
    for i in range(n + 1):
        checks.hint("lab05", 1)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"Hint {min(i, n - 1) + 1}/{n}" for i in range(n + 1)]
    with pytest.raises(ValueError, match="no hints"):
        checks.hint("lab99", 1)


def test_every_exercise_in_the_solutions_has_hints():
    for path in SOLUTIONS:
        nb = nbformat.read(path, as_version=4)
        exercises = sum(1 for c in nb.cells if c.cell_type == "code" and "### BEGIN SOLUTION" in c.source)
        lab = path.stem.split("_")[0]
        for ex in range(1, exercises + 1):
            assert (lab, ex) in checks.HINTS, f"no hints for {lab} exercise {ex}"
