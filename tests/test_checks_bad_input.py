"""The lab checks turn a learner's plausible mistake (a value of the wrong type, values instead of messages,
a loop that never stops, a wrong argument to ``hint``) into a ``CheckFailed`` that says what was expected and
what was got, never into a traceback from inside ``eventsim/checks.py`` or a hang."""
from __future__ import annotations

import json
import zlib

import pytest

import eventsim
from eventsim import TopicPartition, checks
from eventsim.checks import CheckFailed
from test_labs import _lag


# -- learners' code with a mistake in it ---------------------------------------------------------------

def _kafka_with_payments(value_of):
    """A ``connect()`` handle whose topic ``payments`` holds the lab01 events, keyed by account, with
    ``value_of(event)`` as the value; returns (kafka, topic, events)."""
    events = checks.sample_payments(2, 8)
    kafka = eventsim.connect()
    checks.create_topic(kafka, "payments", 1, 1)
    p = kafka.Producer({})
    for e in events:
        p.produce("payments", key=e["account"], value=value_of(e))
    p.flush()
    return kafka, "payments", events


def _kafka_with_orders(n=10):
    kafka = eventsim.connect()
    checks.create_topic(kafka, "orders", 2, 1)
    p = kafka.Producer({})
    for i in range(n):
        p.produce("orders", key=f"customer-{i}", value=str(i))
    p.flush()
    return kafka


def _consume_values(consumer, n):
    """Collects msg.value() instead of the messages themselves."""
    out = []
    while len(out) < n:
        msg = consumer.poll(1.0)
        if msg is not None and msg.error() is None:
            out.append(msg.value())
    return out


def _poll_forever(consumer, *args):
    """Never returns: skips None and keeps polling."""
    while True:
        msg = consumer.poll(1.0)
        if msg is None or msg.error():
            continue


def _ledger_passing_values(consumer, process):
    """Hands process() the value instead of the message."""
    for msg in iter(lambda: consumer.poll(1.0), None):
        process(msg.value())


def _lag_keyed_by(key_of):
    """The right lags (test_labs' answer), keyed by ``key_of(topic, partition)``."""
    return lambda consumer, topic, n: {key_of(topic, p): lag for p, lag in _lag(True)(consumer, topic, n).items()}


def _tumbling_keyed_by(key_of):
    """The right counts (the check's reference), keyed by ``key_of(key, window_start)``."""
    return lambda events, size_ms: {key_of(key, start): n for (key, start), n in
                                    checks._reference_tumbling(events, size_ms).items()}


_GOOD_TOPIC_CONFIG = {"min.insync.replicas": "2"}

# (id, the check call with the mistake, a fragment of the CheckFailed message). Before the fix, the
# comment says what came out instead.
CASES = [
    # lab01
("balances:not_a_function", lambda: checks.check_balances(None),
     "expected a function to call as balances(events)"),           # CheckFailed "raised TypeError: 'NoneType'..."
("balances:returns_none", lambda: checks.check_balances(lambda events: None),
     "should be a dict, got None (NoneType)"),
("balances_as_of:returns_list", lambda: checks.check_balances_as_of(lambda events, t: [1]),
     "should be a dict, got [1] (list)"),
("topic_holds:json_string_values",
     lambda: checks.check_topic_holds(*_kafka_with_payments(lambda e: json.dumps(e["account"]))),
     "should be a dict, got 'acc-1' (str)"),                        # AttributeError: 'str' has no 'get'
("topic_holds:number_values",
     lambda: checks.check_topic_holds(*_kafka_with_payments(lambda e: str(e["amount"]))),
     "should be a dict, got 93 (int)"),                             # AttributeError: 'int' has no 'get'

("topic_holds:events_none",
     lambda: checks.check_topic_holds(_kafka_with_payments(json.dumps)[0], "payments", None),
     "events should be a list, got None"),                          # TypeError: len() of NoneType
("topic_holds:topic_none",
     lambda: checks.check_topic_holds(_kafka_with_payments(json.dumps)[0], None, []),
     "the topic name should be a str, got None"),                   # TypeError from subscribe()
    # lab02
("reads_history:expected_str",
     lambda: checks.check_reads_history(_kafka_with_orders(), "orders",
                                        {"group.id": "audit", "auto.offset.reset": "earliest"}, "10"),
     "should be an int >= 0, got '10' (str)"),                      # TypeError: '>=' int and str
("fanout:int_keys",
     lambda: checks.check_fanout(_kafka_with_orders(), "orders", {1: "billing", "billing-2": "billing",
                                                                  "shipping-1": "shipping"}, 10),
     "exactly the keys"),                                           # TypeError: '<' str and int
("fanout:none_group_ids",
     lambda: checks.check_fanout(_kafka_with_orders(), "orders", {"billing-1": None, "billing-2": None,
                                                                  "shipping-1": "shipping"}, 10),
     "non-empty str"),                                              # passed: group "None-run3"
("retention:hours_str", lambda: checks.check_retention({"retention.ms": "7200000"}, hours="2"),
     "hours should be an int or a float, got '2'"),                 # TypeError: '<' float and str
    # lab03
("partitioner:returns_str", lambda: checks.check_partitioner(lambda k, n: str(zlib.crc32(k) % n)),
     "should be an int, got '1' (str)"),
("key_choice:returns_list", lambda: checks.check_key_choice(lambda e: [e["ride"]]),
     "(a record key) should be a str or a bytes or an int or None, got ['ride-"),   # passed: str(list)
("all_consumers_busy:consumers_str", lambda: checks.check_all_consumers_busy(4, consumers="4"),
     "consumers should be an int >= 1, got '4' (str)"),              # TypeError in range()
("all_consumers_busy:too_many", lambda: checks.check_all_consumers_busy(10 ** 9),
     "cannot be created"),                                          # "4 of the 4 consumers got no partition"
    # lab04
("consume_loop:values_not_messages", lambda: checks.check_consume_loop(_consume_values),
     "should be a Message, got b'"),                                # AttributeError: 'bytes' has no 'error'
("consume_loop:never_returns", lambda: checks.check_consume_loop(_poll_forever),
     "called poll() 10000 times and never returned"),               # hung
("rewind:not_a_function", lambda: checks.check_rewind("rewind"),
     "expected a function to call as rewind("),
("lag:tuple_keys", lambda: checks.check_lag(_lag_keyed_by(lambda topic, p: (topic, p))),
     "should be partition numbers"),                                # TypeError: int() of a tuple
("lag:named_keys", lambda: checks.check_lag(_lag_keyed_by(lambda topic, p: f"p{p}")),
     "should be partition numbers"),                                # ValueError: int('p0')
("lag:topic_partition_keys", lambda: checks.check_lag(_lag_keyed_by(lambda topic, p: TopicPartition(topic, p))),
     "should be partition numbers"),                                # TypeError: int() of a TopicPartition
    # lab05
("at_least_once:process_gets_values", lambda: checks.check_at_least_once(_ledger_passing_values),
     "should be a Message, got b'0' (bytes)"),                      # CheckFailed "raised AttributeError"
("at_least_once:never_returns", lambda: checks.check_at_least_once(_poll_forever),
     "called poll() 10000 times and never returned: stop when poll(1.0) returns None"),   # hung
("idempotent_producer:transactional_conf",
     lambda: checks.check_idempotent_producer({"enable.idempotence": True, "transactional.id": "t"}),
     "cannot send a plain record"),                                 # KafkaException _STATE
("exactly_once:not_a_function", lambda: checks.check_exactly_once(None),
     "expected a function to call as transform_loop(consumer, producer, out_topic)"),
("exactly_once:never_returns", lambda: checks.check_exactly_once(_poll_forever),
     "called poll() 10000 times and never returned"),               # hung
    # lab06
("tumbling_counts:swapped_keys", lambda: checks.check_tumbling_counts(_tumbling_keyed_by(lambda k, start: (start, k))),
     "expected {('a', 0): 2"),                                      # TypeError: '<' str and int
("tumbling_counts:string_keys", lambda: checks.check_tumbling_counts(_tumbling_keyed_by(lambda k, s: f"{k}@{s}")),
     "got {'a@0': 2"),                                              # TypeError: '<' str and tuple
("tumbling_counts:returns_number", lambda: checks.check_tumbling_counts(lambda events, size: 5),
     "should be a dict, got 5 (int)"),                              # TypeError: int is not iterable
("fraud_rule:returns_number", lambda: checks.check_fraud_rule(lambda payments: 3),
     "should be a list, got 3 (int)"),                              # TypeError: int is not iterable
("fraud_rule:returns_cards", lambda: checks.check_fraud_rule(lambda payments: ["c-1"]),
     "should be a dict, got 'c-1' (str)"),
    # lab07
("durability:bad_acks", lambda: checks.check_durability(3, _GOOD_TOPIC_CONFIG, {"acks": "everything"}),
     "producer configuration is rejected"),                         # KafkaException _INVALID_ARG
("durability:int_config_key", lambda: checks.check_durability(3, _GOOD_TOPIC_CONFIG, {1: "all"}),
     "producer configuration is rejected"),                         # KafkaException _INVALID_ARG
("durability:rf_str", lambda: checks.check_durability("3", _GOOD_TOPIC_CONFIG, {"acks": "all"}),
     "replication_factor should be an int >= 1, got '3' (str)"),
("scaling:rate_str", lambda: checks.check_scaling(3, 3, incoming_per_s="250"),
     "incoming_per_s should be an int >= 1, got '250' (str)"),       # TypeError: '<' int and str
    # hints
("hint:ordinal_exercise", lambda: checks.hint("lab03", "1st"),
     "takes a lab name and an exercise number"),                    # ValueError: invalid literal for int()
("hint:no_exercise", lambda: checks.hint("lab03", None),
     "got hint('lab03', None)"),                                    # TypeError: int() of None
("hint:unknown_lab", lambda: checks.hint("lab99", 1),
     'no hints for hint("lab99", 1)'),                              # ValueError with a traceback
]


@pytest.mark.parametrize("name,call,fragment", CASES, ids=[c[0] for c in CASES])
def test_a_mistake_is_a_check_failure_saying_what_was_expected(name, call, fragment, capsys):
    with pytest.raises(CheckFailed) as info:
        call()
    assert fragment in str(info.value)
    assert capsys.readouterr().out == ""


def test_every_check_and_hint_has_a_bad_input_case():
    tried = {c[0].split(":")[0] for c in CASES}
    assert {n.removeprefix("check_") for n in checks.__all__ if n.startswith("check_")} | {"hint"} <= tried


def test_a_wrong_hint_argument_is_still_a_value_error():
    with pytest.raises(ValueError):
        checks.hint("lab03", "1st")


@pytest.mark.parametrize("lab,exercise", [("lab03", 1), ("lab3", 1), (3, "1"), ("LAB03", 1)])
def test_hint_accepts_the_usual_spellings_of_a_lab_and_exercise(lab, exercise, capsys):
    checks._hint_position.clear()
    checks.hint(lab, exercise)
    assert capsys.readouterr().out == f"Hint 1/2: {checks.HINTS[('lab03', 1)][0]}\n"


def test_lag_keys_may_be_partition_numbers_as_strings(capsys):
    assert checks.check_lag(_lag_keyed_by(lambda topic, p: str(p)))
    assert capsys.readouterr().out.startswith("\u2713")
