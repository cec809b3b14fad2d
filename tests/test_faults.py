"""Seeded fault schedules (crashes, restarts, clean shutdowns, slow brokers, lost responses) and the checker
for lost / duplicated / reordered records: Kafka's guarantees hold where they should and break where they do."""
import pytest

from eventsim.faults import Fault, Report, check_logs, random_schedule, run_schedule

SEEDS = range(200)


# -- the checker on hand-made inputs -------------------------------------------------------------------------
def test_checker_finds_nothing_in_a_clean_log():
    assert check_logs({0, 1, 2, 3}, {0: [0, 2], 1: [1, 3]}) == ([], [], [])


def test_checker_counts_lost_records_only_if_acknowledged():
    lost, dup, reordered = check_logs({0, 1, 2, 5}, {0: [0, 2], 1: [3]})
    assert lost == [1, 5]            # 3 is in the log without an ack: fine (its report may have been lost)
    assert dup == [] and reordered == []


def test_checker_counts_duplicates_across_partitions_too():
    lost, dup, reordered = check_logs({1, 2}, {0: [1, 2, 2], 1: [1]})
    assert dup == [1, 2] and lost == []
    assert reordered == []           # a second copy of a record is a duplicate, not a reordering


def test_checker_reordering_is_per_partition():
    lost, dup, reordered = check_logs(set(), {0: [0, 3, 1, 2, 4], 1: [10, 5]})
    assert reordered == [1, 2, 5]
    assert lost == [] and dup == []


def test_checker_with_nothing_written():
    assert check_logs({7}, {0: [], 1: []}) == ([7], [], [])


def test_report_ok_and_summary():
    assert Report(seed=1).ok
    r = Report(seed=3, sent=10, acknowledged=9, lost=[4], faults_applied=[Fault(0, "crash", 1)])
    assert not r.ok
    assert r.summary() == "seed 3: 10 sent, 9 acknowledged, 0 failed; 1 lost, 0 duplicated, 0 reordered (1 faults)"


# -- schedules ---------------------------------------------------------------------------------------------
def test_same_seed_same_schedule_and_different_seeds_differ():
    assert random_schedule(42) == random_schedule(42)
    assert random_schedule(42) != random_schedule(43)
    faults = random_schedule(5, brokers=3, partitions=3, steps=60)
    assert all(1 <= f.broker <= 3 and 0 <= f.partition < 3 and 0 <= f.at_step < 60 for f in faults)


def test_fault_that_no_longer_makes_sense_is_skipped():
    from eventsim import Cluster
    c = Cluster(brokers=3, seed=0)
    assert Fault(0, "restart", broker=1).apply(c) is False       # broker 1 is running
    assert Fault(0, "crash", broker=1).apply(c) is True
    assert Fault(0, "crash", broker=1).apply(c) is False         # already down
    assert Fault(0, "no-such-kind", broker=2).apply(c) is False


def test_same_seed_same_report():
    a, b = run_schedule(17, acks=1, min_insync=1, unclean=True), run_schedule(17, acks=1, min_insync=1, unclean=True)
    assert a == b
    assert a.faults_applied


# -- Kafka's guarantees under 200 seeded schedules --------------------------------------------------------------
def test_acks_all_rf3_min_isr_2_never_loses_an_acknowledged_record():
    crashes = 0
    for seed in SEEDS:
        report = run_schedule(seed, acks="all", min_insync=2)
        assert report.lost == [], report.summary()
        assert report.acknowledged > 0, report.summary()
        crashes += sum(f.kind == "crash" for f in report.faults_applied)
    assert crashes > 50          # the schedules did crash leaders and followers


def test_acks_1_with_unclean_election_loses_records_and_the_checker_counts_them():
    reports = [run_schedule(seed, acks=1, min_insync=1, unclean=True) for seed in range(40)]
    with_loss = [r for r in reports if r.lost]
    assert len(with_loss) >= 5
    for r in with_loss:
        assert len(r.lost) <= r.acknowledged
        assert all(0 <= seq < r.sent for seq in r.lost) and r.lost == sorted(set(r.lost))
        assert f"{len(r.lost)} lost" in r.summary()
    assert any(not r.lost for r in reports)      # and some schedules happen to lose nothing


def test_retries_without_idempotence_duplicate_and_reorder():
    reports = [run_schedule(seed) for seed in range(40)]
    assert sum(bool(r.duplicated) for r in reports) >= 10
    assert sum(bool(r.reordered) for r in reports) >= 10


@pytest.mark.parametrize("max_in_flight", [1, 5])
def test_idempotence_removes_duplicates_and_reordering(max_in_flight):
    for seed in SEEDS:
        report = run_schedule(seed, idempotence=True, max_in_flight=max_in_flight)
        assert report.ok, report.summary()
        assert report.acknowledged > 0
