"""Simulation results: one Outcome per task, a summary, and a column table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from cpnkit.model import Decision, Outcome
from cpnkit.sim.energy import EnergyReport

__all__ = ["OUTCOME_COLUMNS", "SimResult"]

#: Columns of ``SimResult.table()`` (one row per task), in order.
OUTCOME_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Outcome))


@dataclass(frozen=True, eq=False)
class SimResult:
    """What a run produced.

    Attributes:
        scenario: Scenario name.
        scheduler: Scheduler id.
        mode: ``online`` or ``isolated``.
        seed: Simulator seed.
        n_tasks: Tasks in the workload (= number of outcomes).
        outcomes: One outcome per task, by task id.
        decisions: The applied (valid, non-rejection) decisions, in decision order.
        stats: Engine counters (events, bits sent/delivered, max link load ratio when checked, ...).
        meta: Scenario provenance (seeds, data sources, configs).
        energy: Metered energy, carbon and cost per site and interval (``None`` without an energy model).
    """

    scenario: str
    scheduler: str
    mode: str
    seed: int
    n_tasks: int
    outcomes: tuple[Outcome, ...]
    decisions: tuple[Decision, ...] = ()
    stats: Mapping[str, Any] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    energy: EnergyReport | None = None

    def completed(self) -> list[Outcome]:
        """Outcomes of completed tasks."""
        return [o for o in self.outcomes if o.status == "completed"]

    def table(self) -> dict[str, list[Any]]:
        """Column-oriented table, one row per task (``pandas.DataFrame(result.table())`` works)."""
        columns: dict[str, list[Any]] = {name: [] for name in OUTCOME_COLUMNS}
        for outcome in self.outcomes:
            for name in OUTCOME_COLUMNS:
                columns[name].append(getattr(outcome, name))
        return columns

    def summary(self) -> dict[str, Any]:
        """Response-time statistics (s) and the shares of transmission, queue, compute and return."""
        done = self.completed()
        response = np.array([o.response_s for o in done], dtype=np.float64)
        parts = {
            name: float(np.sum([getattr(o, f"{name}_s") for o in done])) if done else math.nan
            for name in ("transmission", "queue", "compute", "return")
        }
        total = float(response.sum()) if done else math.nan
        met = sum(1 for o in done if o.response_s <= o.latency_bound_s)

        def pct(q: float) -> float:
            return float(np.percentile(response, q)) if done else math.nan

        return {
            "scenario": self.scenario,
            "scheduler": self.scheduler,
            "mode": self.mode,
            "seed": self.seed,
            "tasks": self.n_tasks,
            "completed": len(done),
            "rejected": self.n_tasks - len(done),
            "mean_response_s": float(response.mean()) if done else math.nan,
            "p50_response_s": pct(50),
            "p95_response_s": pct(95),
            "p99_response_s": pct(99),
            "max_response_s": float(response.max()) if done else math.nan,
            "slo_met": met / self.n_tasks if self.n_tasks else math.nan,
            **{f"share_{name}": (value / total if total > 0 else math.nan) for name, value in parts.items()},
            "sim_end_s": self.stats.get("sim_end_s", math.nan),
            **self._energy_summary(done),
        }

    def _energy_summary(self, done: list[Outcome]) -> dict[str, Any]:
        if self.energy is None:
            return {}
        deferred = [o for o in done if o.deferred_s > 0]
        return {
            **self.energy.summary(),
            "task_energy_j": float(np.sum([o.energy_j for o in done])) if done else 0.0,
            "task_carbon_g": float(np.sum([o.carbon_g for o in done])) if done else 0.0,
            "task_cost": float(np.sum([o.cost for o in done])) if done else 0.0,
            "deferred_tasks": len(deferred),
        }
