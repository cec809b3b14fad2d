"""The differential campaign (``tests/campaign/``): every scenario on a fresh simulated cluster and on the
session's real Kafka cluster must observe the same thing, and the real observation must be what Kafka
documents (each scenario's ``check``)."""
from __future__ import annotations

import pytest

import campaign

SCENARIOS = campaign.load_all()


@pytest.mark.kafka
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_observes_the_same_on_the_simulator_and_on_kafka(name, on_both):
    scenario = SCENARIOS[name]
    sim, real = on_both(scenario.run, seed=scenario.seed)
    if scenario.check is not None:
        scenario.check(real)
    assert sim == real


def test_every_scenario_belongs_to_a_declared_area_and_says_what_it_pins_down():
    assert SCENARIOS, "the campaign has no scenarios"
    for scenario in SCENARIOS.values():
        assert scenario.area in campaign.AREAS, scenario.name
        assert scenario.summary.endswith("."), scenario.name


def test_docs_fidelity_md_is_generated_from_the_campaign():
    import os
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, os.pardir, "scripts"))
    import fidelity
    with open(os.path.join(here, os.pardir, "docs", "fidelity.md"), encoding="utf-8") as f:
        committed = f.read()
    assert committed == fidelity.render(), "docs/fidelity.md is stale: run `python scripts/fidelity.py`"
