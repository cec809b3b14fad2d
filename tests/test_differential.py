"""Differential tests: the same client code on the simulator and on real Kafka must observe the same thing.

Every scenario (``tests/differential_scenarios.py``) is written once against the confluent-kafka API and
runs on a fresh simulated 3-broker cluster (``eventsim.connect("sim", brokers=3, seed=...)``) and on each
of the session's real clusters of the course shape: the local JVMs (``local_kafka``) and the Docker
containers of the testcontainers backend (``docker_kafka``, marker ``docker``). The tests compare the two observations, and check
the real one against what Kafka documents, so that two equal but wrong answers cannot pass.

What is deliberately *not* compared, because the simulator differs on purpose: wall-clock timing (the
simulator runs a virtual clock), member ids (random on real Kafka), which ISR member the controller picks
as the new leader, and which member the range assignor gives which partitions (it orders members by id).
"""
from __future__ import annotations

import pytest

import eventsim
import differential_scenarios as scenarios
from conftest import on_both_with
from eventsim import KafkaError, KafkaException, NewTopic


@pytest.fixture(params=["local", pytest.param("testcontainers", marks=pytest.mark.docker)])
def on_both(request, unique_name):
    """The simulator against the local cluster, then against the Docker one."""
    return on_both_with(request.getfixturevalue("local_kafka" if request.param == "local" else "docker_kafka"),
                        unique_name)


@pytest.mark.kafka
def test_key_to_partition_for_both_partitioners(on_both):
    sim, real = on_both(scenarios.key_to_partition)
    assert sim == real
    assert len(set(real["consistent_random"].values())) == 7      # 300 keys reach every partition
    assert real["consistent_random"] != real["murmur2_random"]     # two different hash functions


@pytest.mark.kafka
def test_offsets_order_and_watermarks(on_both):
    sim, real = on_both(scenarios.offsets_order_and_watermarks)
    assert sim == real
    assert real["watermarks_before"] == [(0, 0)] * 3
    for p, reports in real["reports"].items():
        assert [o for o, _, _ in reports] == list(range(len(reports)))       # dense offsets from 0
        assert real["read"][p] == reports                                    # read back in produce order
        assert real["watermarks_after"][p] == (0, len(reports))


@pytest.mark.kafka
def test_committed_offsets_survive_a_consumer_restart(on_both):
    sim, real = on_both(scenarios.committed_offsets_and_resume)
    assert sim == real
    assert real["committed"] == [(0, 4), (1, 7)]
    assert real["resumed"] == [(0, o, "p0-%d" % o) for o in range(4, 10)] + [(1, o, "p1-%d" % o) for o in (7, 8, 9)]


@pytest.mark.kafka
def test_group_assignment_sizes_as_members_join_and_leave(on_both):
    sim, real = on_both(scenarios.group_rebalances)
    assert sim == real
    assert real == [[6], [3, 3], [2, 2, 2], [3, 3]]


@pytest.mark.kafka
def test_auto_offset_reset_earliest_latest_error(on_both):
    sim, real = on_both(scenarios.auto_offset_reset)
    assert sim == real
    assert real["earliest"] == (0, "old-0")
    assert real["latest"] == (5, "new-0")
    assert real["latest_eof"] == (-191, 5)              # _PARTITION_EOF at the end before anything new
    assert real["error"] == -140                        # _AUTO_OFFSET_RESET


@pytest.mark.kafka
def test_not_enough_replicas_with_two_brokers_down(on_both):
    sim, real = on_both(scenarios.not_enough_replicas)
    assert sim == real
    assert real["acks_all_no_retries"] == [19]          # NOT_ENOUGH_REPLICAS
    assert real["acks_all_timeout"] == [-192]           # retried until message.timeout.ms: _MSG_TIMED_OUT
    assert real["acks_1"] == [None] and real["after_restart"] == [None]
    assert real["log"] == ["leader-only", "accepted"]


@pytest.mark.kafka
def test_read_committed_hides_aborted_records(on_both):
    sim, real = on_both(scenarios.read_committed_vs_uncommitted)
    assert sim == real
    values = [v for _, _, v in real["read_committed"]]
    assert values == ["committed-0", "committed-1", "open-0"]
    assert [v for _, _, v in real["read_uncommitted"]] == ["aborted-0", "aborted-1", "aborted-2"] + values


@pytest.mark.kafka
def test_transactional_offsets_commit_with_the_transaction(on_both):
    sim, real = on_both(scenarios.transactional_offsets)
    assert sim == real
    assert real["committed"] == [(0, 4)] and real["aborted"] == [(0, 4)]
    assert real["output"] == ["IN-%d" % i for i in range(4)]


@pytest.mark.kafka
def test_leader_crash_loses_no_acknowledged_record(on_both):
    sim, real = on_both(scenarios.leader_crash_keeps_acknowledged_records)
    assert sim == real
    assert real["acked"] == 100 and real["log_equals_acked"] and real["new_leader_from_old_isr"]


@pytest.mark.kafka
def test_bad_input_error_codes(on_both):
    sim, real = on_both(scenarios.bad_input_errors)
    assert sim == real
    assert real["topic_exists"] == 36 and real["replication_factor_above_brokers"] == 38
    assert real["fewer_partitions"] == 37 and real["delete_missing"] == 3
    assert real["produce_unknown_topic"] == [3]                    # UNKNOWN_TOPIC_OR_PART, from the broker
    assert real["produce_known_missing_topic"] == -188             # _UNKNOWN_TOPIC, raised by produce()


def test_simulator_reports_a_missing_topic_as_real_kafka_does():
    """What ``test_bad_input_error_codes`` saw on Kafka 4.1 with librdkafka 2.16, checked on the simulator
    alone (so it also runs where Java is missing): the record waits ``topic.metadata.propagation.max.ms``,
    then its delivery report carries ``UNKNOWN_TOPIC_OR_PART`` (3); the next ``produce()`` to that topic
    raises ``_UNKNOWN_TOPIC`` (-188) at the call. Once the topic exists, producing works again."""
    kafka = eventsim.connect("sim", brokers=3)
    producer = kafka.Producer({"topic.metadata.propagation.max.ms": 2500})
    reports, start = [], kafka.cluster.clock.now_ms
    producer.produce("nowhere", b"x", on_delivery=lambda err, msg: reports.append(
        (err.code(), kafka.cluster.clock.now_ms - start)))
    producer.flush(10)
    assert reports == [(KafkaError.UNKNOWN_TOPIC_OR_PART, 2500)]
    with pytest.raises(KafkaException) as info:
        producer.produce("nowhere", b"y")
    assert info.value.args[0].code() == KafkaError._UNKNOWN_TOPIC and "nowhere" in info.value.args[0].str()
    kafka.admin().create_topics([NewTopic("nowhere", 1, 3)])["nowhere"].result()
    producer.produce("nowhere", b"z", on_delivery=lambda err, msg: reports.append((err, msg.offset())))
    producer.flush(10)
    assert reports[-1] == (None, 0)


@pytest.mark.kafka
def test_reference_stream_topology_gives_the_same_result(on_both):
    sim, real = on_both(scenarios.reference_topology)
    assert sim == real
    assert real["processed"] > 0 and all(real["outputs"].values())
    # what the topology wrote is still there when read again (see run_reference_topology on retention)
    assert real["records_written"]["ref-big"] == len(real["outputs"]["ref-big"])


# -- the controller quorum and the control surface (both backends: 3 brokers, 3 controllers) -------------
@pytest.mark.kafka
def test_losing_one_controller_changes_nothing_clients_see(on_both):
    sim, real = on_both(scenarios.one_controller_down)
    assert sim == real
    assert real["new_active_elected"] and real["running"] == 2 and real["create_after"] is None
    assert real["delivered"] == [None] * 5 and real["read"] == ["v%d" % i for i in range(5)]


@pytest.mark.kafka
def test_losing_the_controller_majority_freezes_metadata_not_data(on_both):
    sim, real = on_both(scenarios.quorum_majority_lost)
    # the simulator always answers like librdkafka usually does: _TIMED_OUT after the request timeout
    assert sim.pop("create_while_lost") == "_TIMED_OUT"
    assert real.pop("create_while_lost") in ("_TIMED_OUT", "no answer")
    assert sim == real
    assert real["active_while_lost"] is None and real["frozen_topic_exists"] is False
    assert real["delivered_while_lost"] == [None] * 5
    assert real["group_reads_while_lost"] == ["v%d" % i for i in range(5)]
    assert real["active_after_restart"] and real["create_after"] is None


@pytest.mark.kafka
def test_a_paused_leader_is_fenced_replaced_and_rejoins(on_both):
    sim, real = on_both(scenarios.paused_leader_is_fenced_and_rejoins)
    assert sim == real
    assert real["moved"] and real["new_leader_from_old_isr"] and real["paused_left_isr"]
    assert real["paused_in_snapshot"] and real["rejoined"] and real["delivery_errors"] == []
    assert real["log"] == ["before-%d" % i for i in range(10)] + ["after-%d" % i for i in range(10)]


@pytest.mark.kafka
def test_control_methods_refuse_bad_input_alike(on_both):
    sim, real = on_both(scenarios.control_surface_bad_input)
    assert sim == real
    assert real == {"stop_broker_99": KafkaError._INVALID_ARG, "pause_broker_0": KafkaError._INVALID_ARG,
                    "resume_running": KafkaError._STATE, "start_running": KafkaError._STATE,
                    "stop_controller_1": KafkaError._INVALID_ARG,
                    "start_running_controller": KafkaError._STATE,
                    "stop_controller_str": KafkaError._INVALID_ARG, "wait_negative": "ValueError",
                    "pause_twice": KafkaError._STATE, "unchanged": True}


@pytest.mark.kafka
def test_new_partitions_reach_a_running_producer_only_at_its_metadata_refresh(on_both):
    sim, real = on_both(scenarios.new_partitions_reach_producers_at_their_next_metadata_refresh)
    assert sim == real
    assert set(real["before"].values()) == {0, 1} and real["running_after"] is True
    assert len(set(real["new_producer"].values())) > 2          # the new producer uses the new partitions


@pytest.mark.kafka
def test_retention_deletes_what_nobody_read(on_both):
    sim, real = on_both(scenarios.retention_deletes_old_segments_unread)
    assert sim == real == {"old_ones_gone": True, "fresh_kept": True}


@pytest.mark.kafka
def test_compaction_keeps_the_latest_value_of_every_key(on_both):
    sim, real = on_both(scenarios.compaction_keeps_the_latest_value_per_key)
    assert sim == real == {"latest_kept": True, "something_removed": True, "offsets_ascending": True}


@pytest.mark.kafka
def test_produce_arguments_at_the_call_and_in_reports(on_both):
    sim, real = on_both(scenarios.produce_arguments_at_the_call_and_in_reports)
    assert sim == real
    assert real["partition_5"] == real["partition_-2"] == KafkaError._UNKNOWN_PARTITION
    assert real["value_999965"] == KafkaError.MSG_SIZE_TOO_LARGE and real["value_999964"] is None
    assert real["reports"] == sorted([(None, -5), (None, -1), (KafkaError.TOPIC_EXCEPTION, None)], key=str)
    assert real["close"] == [True, True] and real["produce_after_close"] == "RuntimeError"


@pytest.mark.kafka
def test_static_member_restart_keeps_its_partitions_without_a_rebalance(on_both):
    sim, real = on_both(scenarios.static_member_restart)
    assert sim == real
    assert real == {"before": {"a": [0, 1, 2], "b": [3, 4, 5]}, "restarted_got_the_same": True, "b_kept": True,
                    "events_after_restart": [("a", "assign", 3)]}     # the other member saw no revocation


@pytest.mark.kafka
def test_closed_static_member_keeps_its_partitions_until_the_session_times_out(on_both):
    sim, real = on_both(scenarios.static_member_session_expiry)
    assert sim == real
    assert real == {"b_within_session": 3, "b_after_session": 6,
                    "b_events": [("revoke", 3), ("assign", 6)]}


@pytest.mark.kafka
def test_duplicate_group_instance_id_fences_the_older_consumer(on_both):
    sim, real = on_both(scenarios.static_member_fenced)
    assert sim == real
    text = "Broker: Static consumer fenced by other consumer with same group.instance.id"
    # one _FATAL event (whose fatal() is False), then silence; the partitions go without a callback
    assert real["old_errors"] == [(KafkaError._FATAL, False,
                                   "Fatal error: %s: Fatal consumer error: %s" % (text, text))]
    assert (real["new_partitions"], real["old_partitions"]) == (2, 0)
    assert real["events"] == [("assign", 2), ("assign", 2)]


@pytest.mark.kafka
def test_odd_group_instance_ids(on_both):
    sim, real = on_both(scenarios.static_member_odd_instance_ids)
    assert sim == real
    dynamic, fenced = {"errors": [], "sizes": [1, 1]}, {"errors": [(0, KafkaError._FATAL)], "sizes": [0, 2]}
    assert real == {"empty": dynamic, "none": dynamic, "int": fenced, "blank": fenced}
