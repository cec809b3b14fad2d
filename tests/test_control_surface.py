"""One control surface on every handle: what each backend can do, clear errors for what it cannot,
bad input, closed handles, and the simulator's pause/resume (a frozen broker process)."""
from __future__ import annotations

import pytest

import eventsim
from eventsim import KafkaException
from eventsim.admin import NewTopic
from eventsim.backends import BackendError, NotSupportedByBackend
from eventsim.backends.base import CONTROL_METHODS, Backend
from eventsim.errors import KafkaError


def test_every_backend_class_has_every_control_method():
    from eventsim.backends.external import ExternalKafka
    from eventsim.backends.local import LocalKafka
    from eventsim.backends.sim import SimKafka
    from eventsim.backends.testcontainers import TestcontainersKafka
    for cls in (SimKafka, LocalKafka, TestcontainersKafka, ExternalKafka):
        assert all(callable(getattr(cls, m)) for m in CONTROL_METHODS)
        assert set(cls.class_capabilities()) == set(CONTROL_METHODS)
    assert all(SimKafka.class_capabilities().values())
    local = LocalKafka.class_capabilities()
    assert [m for m, ok in local.items() if not ok] == ["isolate_broker", "heal", "slow_broker", "drop_responses"]


def test_an_unsupported_method_says_which_backend_can_and_changes_nothing():
    class Shared(Backend):           # a backend that can do nothing but wait, like a shared cluster
        backend = "external"
        bootstrap_servers = "broker:9092"

        def wait(self, ms):
            pass
    handle = Shared()
    for method, args in (("stop_broker", (1,)), ("pause_broker", (1,)), ("stop_controller", (101,)),
                         ("drop_responses", ("t",)), ("run_retention_now", ())):
        with pytest.raises(NotSupportedByBackend) as info:
            getattr(handle, method)(*args)
        text = str(info.value)
        assert method + "()" in text and "'external'" in text and "eventsim.connect(\"sim\")" in text
    assert handle.capabilities()["wait"] and not handle.capabilities()["stop_broker"]


def test_supports_prints_one_line_and_says_false_where_a_method_cannot(capsys):
    sim = eventsim.connect("sim")
    assert sim.supports("slow_broker", "drop_responses") is True and capsys.readouterr().out == ""

    class Shared(Backend):
        backend = "external"
    assert Shared().supports("wait", "slow_broker") is False
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "Skipped on the 'external' backend" in out and "slow_broker()" in out
    with pytest.raises(ValueError, match="unknown control method"):
        sim.supports("explode_broker")


def test_simulator_only_is_true_on_the_simulator_and_skips_elsewhere(capsys):
    assert eventsim.connect("sim").simulator_only("a look at the replica logs") is True

    class Real(Backend):
        backend = "local"
    assert Real().simulator_only("a look at the replica logs") is False
    assert capsys.readouterr().out == "Simulator only (a look at the replica logs): skipped on the 'local' backend.\n"


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "10", None, True])
def test_wait_takes_milliseconds(bad):
    kafka = eventsim.connect("sim")
    with pytest.raises(ValueError, match="milliseconds"):
        kafka.wait(bad)
    assert kafka.elapsed_ms == 0


def test_real_waits_are_bounded():
    from eventsim.backends.base import RealKafkaBackend, check_wait_ms
    with pytest.raises(ValueError, match="limited to"):
        check_wait_ms(60 * 60 * 1000, RealKafkaBackend.MAX_REAL_WAIT_MS)
    assert check_wait_ms(500, RealKafkaBackend.MAX_REAL_WAIT_MS) == 500


def test_only_the_simulator_counts_elapsed_virtual_time():
    class Real(Backend):
        backend = "local"
    sim = eventsim.connect("sim")
    sim.wait(20)
    assert (sim.elapsed_ms, Real().elapsed_ms) == (20, None)


def test_wait_moves_virtual_time_on_the_simulator():
    kafka = eventsim.connect("sim")
    start = kafka.now_ms
    kafka.wait(1_500)
    assert kafka.now_ms - start == 1_500 == kafka.elapsed_ms == kafka.snapshot()["time_ms"]


def test_a_closed_handle_refuses_everything_with_a_clear_error():
    kafka = eventsim.connect("sim")
    kafka.close()
    for method, args in (("Producer", ({},)), ("admin", ()), ("snapshot", ()), ("wait", (1,)),
                         ("stop_broker", (1,)), ("stop_controller", (101,)), ("AdminClient", ())):
        with pytest.raises(BackendError, match="closed 'sim' handle"):
            getattr(kafka, method)(*args)
    kafka.close()                                   # closing twice is fine


@pytest.fixture
def kafka():
    k = eventsim.connect("sim", seed=2)
    k.admin().create_topics([NewTopic("t", 1, 3, config={"min.insync.replicas": "2"})])["t"].result()
    return k


def part(k):
    return k.snapshot()["topics"][0]["partitions"][0]


def test_a_paused_broker_is_fenced_after_the_session_timeout_and_rejoins_on_resume(kafka):
    leader = part(kafka)["leader"]
    kafka.pause_broker(leader)
    assert [b["paused"] for b in kafka.snapshot()["brokers"]] == [b == leader for b in (1, 2, 3)]
    kafka.wait(8_999)
    assert part(kafka)["leader"] == leader          # the controller has not given up on it yet
    kafka.wait(1)
    assert part(kafka)["leader"] not in (leader, -1) and leader not in part(kafka)["isr"]
    kafka.resume_broker(leader)
    assert leader in part(kafka)["isr"] and not any(b["paused"] for b in kafka.snapshot()["brokers"])


def test_a_short_pause_keeps_the_broker_in_the_isr(kafka):
    follower = next(b for b in part(kafka)["replicas"] if b != part(kafka)["leader"])
    kafka.pause_broker(follower)
    kafka.wait(2_000)
    kafka.resume_broker(follower)
    p = kafka.Producer({"acks": "all"})
    p.produce("t", value=b"x")
    assert p.flush(10) == 0
    kafka.wait(1_000)
    assert follower in part(kafka)["isr"] and part(kafka)["replica_log_end_offsets"] == [1, 1, 1]


def test_pause_and_resume_refuse_impossible_states(kafka):
    kafka.stop_broker(3)
    for method, state in (("pause_broker", "stopped"), ("resume_broker", "stopped")):
        with pytest.raises(KafkaException) as info:
            getattr(kafka, method)(3)
        assert info.value.args[0].code() == KafkaError._STATE and state in str(info.value)
    with pytest.raises(KafkaException) as info:
        kafka.resume_broker(1)
    assert info.value.args[0].code() == KafkaError._STATE and "not paused" in str(info.value)
    kafka.pause_broker(1)
    with pytest.raises(KafkaException) as info:
        kafka.start_broker(1)
    assert "resume_broker" in str(info.value)
    kafka.stop_broker(1)                               # a frozen process can be killed
    assert [(b["alive"], b["paused"]) for b in kafka.snapshot()["brokers"]][0] == (False, False)


@pytest.mark.parametrize("bad", [0, 4, "1", 1.0, True, None])
def test_bad_broker_ids_name_the_brokers_and_change_nothing(kafka, bad):
    before = kafka.snapshot()
    for method in ("stop_broker", "start_broker", "pause_broker", "resume_broker", "isolate_broker"):
        with pytest.raises(KafkaException) as info:
            getattr(kafka, method)(bad)
        assert info.value.args[0].code() == KafkaError._INVALID_ARG and "[1, 2, 3]" in str(info.value)
    with pytest.raises(KafkaException):
        kafka.slow_broker(bad, 10)
    assert kafka.snapshot() == before


@pytest.mark.parametrize("bad", [-1, "5", None, 10**9])
def test_slow_broker_takes_a_latency_in_ms(kafka, bad):
    with pytest.raises(ValueError, match="latency"):
        kafka.slow_broker(1, bad)


def test_drop_responses_loses_produce_responses_only(kafka):
    with pytest.raises(ValueError, match="'Produce'"):
        kafka.drop_responses("t", 0, 1, api="Fetch")
    for args in (("t", -1, 1), ("t", 0, 0), (None, 0, 1), ("t", "0", 1)):
        with pytest.raises(ValueError):
            kafka.drop_responses(*args)
    kafka.drop_responses("t", 0, 1)
    p = kafka.Producer({"enable.idempotence": False, "acks": "all"})
    p.produce("t", value=b"once")
    p.flush(60)
    assert part(kafka)["high_watermark"] == 2            # the retry wrote it again


def test_retention_and_cleaner_report_what_moved(kafka):
    admin = kafka.admin()
    admin.create_topics([NewTopic("old", 1, 3, config={"retention.ms": "1000", "segment.ms": "100"}),
                         NewTopic("kv", 1, 3, config={"cleanup.policy": "compact", "segment.ms": "100"})])
    p = kafka.Producer({})
    for i in range(5):
        p.produce("old", value=b"v")
        p.produce("kv", key=b"k", value=b"%d" % i)
        p.flush()
        kafka.wait(200)
    kafka.wait(2_000)
    p.produce("kv", key=b"other", value=b"roll")        # rolls the active segment
    p.flush()
    assert kafka.run_retention_now() == {"old-0": (0, 5)}
    assert kafka.run_retention_now() == {}
    assert kafka.run_log_cleaner_now() == {"kv-0": 4}
