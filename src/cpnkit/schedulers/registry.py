"""Scheduler registry: ids to factories, with lazy ``"module:Class"`` entries and plugins.

Third parties plug in through the ``cpnkit.schedulers`` entry-point group (``id = "pkg.mod:Factory"``);
entry points are read once, the first time an id is not found among the built-in ones.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from cpnkit.errors import ConfigError, UnknownSchedulerError, did_you_mean
from cpnkit.schedulers.base import Scheduler

__all__ = ["SchedulerRegistry", "SchedulerSpec", "make", "registry"]

ENTRY_POINT_GROUP = "cpnkit.schedulers"


@dataclass(frozen=True, slots=True)
class SchedulerSpec:
    """A registered scheduler.

    Attributes:
        id: Kebab-case id (``"nearest-ecmp"``).
        entry: ``"module:Factory"`` or a callable returning a ``Scheduler``.
        description: One line for ``--help`` and listings.
        privileged: Whether it sees the simulator's true state (a reference, never a product scheduler).
    """

    id: str
    entry: str | Callable[..., Scheduler]
    description: str = ""
    privileged: bool = False


class SchedulerRegistry:
    """Maps scheduler ids to factories. Tests can make their own registry."""

    def __init__(self) -> None:
        self._specs: dict[str, SchedulerSpec] = {}
        self._plugins_loaded = False

    def register(
        self,
        id: str,
        entry: str | Callable[..., Scheduler],
        description: str = "",
        *,
        privileged: bool = False,
    ) -> None:
        """Register ``entry`` under ``id``.

        Raises:
            ConfigError: the id is not kebab-case or is already taken.
        """
        if not id or id != id.lower() or " " in id or "_" in id:
            raise ConfigError(f"scheduler id {id!r} must be kebab-case (lowercase words joined by '-')")
        if id in self._specs:
            raise ConfigError(f"scheduler id {id!r} is already registered; pick another id")
        self._specs[id] = SchedulerSpec(id=id, entry=entry, description=description, privileged=privileged)

    def ids(self) -> list[str]:
        """Registered ids, sorted (plugins included)."""
        self._load_plugins()
        return sorted(self._specs)

    def spec(self, id: str) -> SchedulerSpec:
        """The spec registered under ``id``.

        Raises:
            UnknownSchedulerError: the id is not registered (the message suggests close ids).
        """
        if id not in self._specs:
            self._load_plugins()
        try:
            return self._specs[id]
        except KeyError:
            raise UnknownSchedulerError(
                f"unknown scheduler {id!r}.{did_you_mean(id, self._specs)} Registered: {', '.join(sorted(self._specs))}"
            ) from None

    def make(self, id: str, **kwargs: Any) -> Scheduler:
        """Build the scheduler registered under ``id`` with ``kwargs`` (e.g. ``seed=0``)."""
        entry = self.spec(id).entry
        factory: Callable[..., Scheduler]
        if isinstance(entry, str):
            module_name, _, attr = entry.partition(":")
            factory = getattr(importlib.import_module(module_name), attr)
        else:
            factory = entry
        scheduler = factory(**kwargs)
        if not isinstance(scheduler, Scheduler):
            raise ConfigError(f"factory for scheduler {id!r} returned {scheduler!r}, which has no decide()/name")
        return scheduler

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name not in self._specs:
                self._specs[ep.name] = SchedulerSpec(id=ep.name, entry=ep.value, description=f"plugin ({ep.value})")


registry = SchedulerRegistry()
registry.register(
    "nearest-ecmp",
    "cpnkit.schedulers.simple:NearestEcmpScheduler",
    "nearest site by hop count; data split equally over the k shortest paths",
)
registry.register(
    "random",
    "cpnkit.schedulers.simple:RandomScheduler",
    "uniformly random site and device; random split over the k shortest paths (a floor, not a baseline)",
)

for _id, _cls, _text in (
    (
        "base1",
        "Base1Scheduler",
        "paper baseline: least predicted compute latency of the 5 candidates; ECMP over 3 paths",
    ),
    ("base2", "Base2Scheduler", "paper baseline: nearest of the 5 candidates; ECMP over 3 paths"),
    ("base3", "Base3Scheduler", "paper baseline: least predicted compute; LP split minimising max link utilisation"),
    ("base4", "Base4Scheduler", "paper baseline: nearest candidate; LP split minimising max link utilisation"),
    ("waterfill", "WaterfillScheduler", "least predicted response: probes, queue estimate, water-filling split"),
):
    registry.register(_id, f"cpnkit.schedulers.paper:{_cls}", _text)
registry.register(
    "waterfill-bound",
    "cpnkit.schedulers.paper:bound_waterfill",
    "waterfill over the 5 sites of least latency lower bound, any device class (beyond the paper's filter)",
)
for _id, _factory, _text in (
    ("rlms-cpn", "rlms_cpn", "RLMS-CPN: SyncGNN + actor-critic, bundled policy per topology (general one elsewhere)"),
    ("rlms-mlp", "rlms_mlp", "RLMS-CPN ablation (paper Table 4): an MLP in place of SyncGNN, bundled policy"),
    ("gnn-dqn", "gnn_dqn", "paper baseline (ref. [8]): SyncGNN + DQN over node x split options, bandwidth reward"),
):
    # bundled weights are I/O, so the factories live in the datasets adapter (cpnkit.datasets.policies)
    registry.register(_id, f"cpnkit.datasets.policies:{_factory}", _text)
registry.register(
    "carbon-aware",
    "cpnkit.schedulers.green:CarbonAwareScheduler",
    "least predicted carbon among candidates predicted to meet the latency bound (else the fastest); "
    "defers deferrable tasks to the forecast low",
)
registry.register(
    "weighted",
    "cpnkit.schedulers.green:WeightedScheduler",
    "least latency + lambda x carbon + mu x cost (lambda_s_per_g, mu_s_per_cost); temporal shifting",
)
registry.register(
    "oracle",
    "cpnkit.schedulers.paper:OracleScheduler",
    "PRIVILEGED reference: the waterfill rule on the true state over every site (not a product scheduler)",
    privileged=True,
)
registry.register(
    "oracle-filtered",
    "cpnkit.schedulers.paper:filtered_oracle",
    "PRIVILEGED reference: the oracle restricted to the filtered candidates (isolates perception error)",
    privileged=True,
)


def make(id: str, **kwargs: Any) -> Scheduler:
    """Build a scheduler from the default registry (``make("nearest-ecmp")``)."""
    return registry.make(id, **kwargs)
