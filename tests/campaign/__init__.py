"""The differential campaign: ordinary client code across confluent-kafka's whole public API, run on the
simulator and on the session's real Kafka cluster, and what a client observes compared.

Each module here covers one area of the API. A scenario is a function ``scenario(run) -> observation``
(``run`` is a :class:`differential_scenarios.Run`: the backend handle, its client library, unique names)
registered with :func:`scenario`. It returns only what a client can observe - return values and their
types, error codes and where they surface, offsets, positions, committed offsets, timestamps, config
values and their sources - made deterministic on real Kafka (sets, counts, orders within a partition,
error names; bounded waits on conditions, never sleeps as assertions).

``check(real)``, if given, asserts what Kafka documents about the real observation, so that two equal but
wrong answers cannot pass. ``tests/test_campaign.py`` runs every registered scenario on both backends;
``scripts/fidelity.py`` writes ``docs/fidelity.md`` from this registry.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

#: The areas of the campaign, in the order ``docs/fidelity.md`` lists them: module name -> title.
AREAS = {}

#: Every registered scenario, by name.
SCENARIOS = {}

#: Behaviours the simulator deliberately does not model: ``(what, what it does instead)``.
SIMPLIFICATIONS = []


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    area: str
    run: object
    check: object = None
    seed: int = 0

    @property
    def summary(self):
        """The first sentence of the scenario's docstring (what behaviour it pins down)."""
        doc = " ".join((inspect.getdoc(self.run) or "").split())
        return doc.split(". ")[0].rstrip(".") + "." if doc else ""


def area(module_name, title):
    """Declare the module's area (call once at the top of each campaign module)."""
    AREAS[module_name.rsplit(".", 1)[-1]] = title


def scenario(check=None, seed=0):
    """Register ``fn(run) -> observation`` as a campaign scenario (``check(real)`` asserts the real side)."""
    def register(fn):
        area_name = fn.__module__.rsplit(".", 1)[-1]
        if fn.__name__ in SCENARIOS:
            raise ValueError("two campaign scenarios are named %r" % fn.__name__)
        if not inspect.getdoc(fn):
            raise ValueError("campaign scenario %r needs a docstring saying what it pins down" % fn.__name__)
        SCENARIOS[fn.__name__] = Scenario(fn.__name__, area_name, fn, check, seed)
        return fn
    return register


def simplification(what, instead):
    """Declare a behaviour the simulator deliberately does not model (listed in ``docs/fidelity.md``)."""
    SIMPLIFICATIONS.append((what, instead))


def load_all():
    """Import every campaign module (registering its scenarios) and return ``SCENARIOS``."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(__name__ + "." + info.name)
    return SCENARIOS
