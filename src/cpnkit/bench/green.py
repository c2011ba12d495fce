"""The green benchmark: latency, SLO, energy, carbon and cost per scheduler over a simulated week.

Every cell is ``build_scenario(topology, seed, ScenarioConfig(..., energy=EnergyConfig(...)))`` run online with
``make(id, seed=seed)``; the workload is Poisson at a low rate (default 0.01 tasks/s: 6,048 tasks in a week, so a
week runs in seconds per cell on one core) because carbon follows the hourly grid signal, not the task rate. With
so few tasks the devices are idle almost all the time: the idle energy dominates the sites' totals and is the
same for every scheduler, so the tables show the tasks' own energy and carbon (``task_*``) next to the totals.

``lambda_sweep`` runs ``weighted`` over a list of ``lambda_s_per_g`` values (the latency-carbon Pareto front of
``cpnkit pareto``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from cpnkit.bench.paper import PAPER_TOPOLOGIES, ci95_half_width, provenance
from cpnkit.datasets import EnergyConfig, ScenarioConfig, build_scenario
from cpnkit.errors import ConfigError
from cpnkit.schedulers import registry
from cpnkit.sim import SimConfig, Simulator, check_result

__all__ = [
    "GREEN_METRICS",
    "WEEK_S",
    "GreenBench",
    "GreenGrid",
    "aggregate_green",
    "lambda_sweep",
    "run_green_bench",
    "write_green_report",
]

WEEK_S = 7 * 86_400.0
#: Per-run metrics of the green benchmark (``SimResult.summary`` keys).
GREEN_METRICS: tuple[str, ...] = (
    "mean_response_s",
    "p95_response_s",
    "slo_met",
    "task_energy_j",
    "task_carbon_g",
    "task_cost",
    "energy_j",
    "carbon_g",
    "cost",
    "pv_used_j",
)


@dataclass(frozen=True)
class GreenGrid:
    """What the green benchmark runs.

    Attributes:
        topologies: Bundled topology names.
        schedulers: Scheduler ids (empty: every registered one).
        seeds: Seeds of scenario, simulator and scheduler.
        days: Simulated days.
        rate_per_s: Poisson arrival rate, tasks/s.
        latency_bound_s: Latency bound of every task, in s.
        energy: Energy settings (start date, PV, PUE, forecast).
        deferrable_fraction: Share of deferrable tasks.
        deferrable_window_s: Their deferral window, in s.
        telemetry_period_s: Simulator telemetry period, in s.
    """

    topologies: tuple[str, ...] = PAPER_TOPOLOGIES
    schedulers: tuple[str, ...] = ()
    seeds: tuple[int, ...] = (0,)
    days: float = 7.0
    rate_per_s: float = 0.01
    latency_bound_s: float = 0.1
    energy: EnergyConfig = field(default_factory=lambda: EnergyConfig(pv_fraction=0.5))
    deferrable_fraction: float = 0.0
    deferrable_window_s: float = 0.0
    telemetry_period_s: float = 10.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.days) and self.days > 0):
            raise ConfigError(f"days={self.days!r} must be > 0")
        if not (math.isfinite(self.rate_per_s) and self.rate_per_s > 0):
            raise ConfigError(f"rate_per_s={self.rate_per_s!r} must be > 0 tasks/s")

    def resolved_schedulers(self) -> tuple[str, ...]:
        """The scheduler ids that run (every registered one when none are named)."""
        return self.schedulers or tuple(registry.ids())

    @property
    def n_tasks(self) -> int:
        """Tasks per run: rate x duration."""
        return max(1, round(self.rate_per_s * self.days * 86_400.0))

    def scenario_config(self) -> ScenarioConfig:
        """The scenario every cell builds."""
        return ScenarioConfig(
            n_tasks=self.n_tasks,
            arrival_rate_per_s=self.rate_per_s,
            latency_bound_s=self.latency_bound_s,
            energy=self.energy,
            deferrable_fraction=self.deferrable_fraction,
            deferrable_window_s=self.deferrable_window_s,
        )


@dataclass(frozen=True)
class GreenBench:
    """A finished green benchmark: one row per run, aggregated rows, provenance."""

    grid: GreenGrid
    runs: tuple[dict[str, Any], ...]
    rows: tuple[dict[str, Any], ...]
    provenance: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document."""
        grid = asdict(self.grid)
        doc: dict[str, Any] = _json_safe(
            {"runs": list(self.runs), "rows": list(self.rows), "grid": grid, "provenance": self.provenance}
        )
        return doc


def run_cell(
    topology: str, scheduler: str, seed: int, config: ScenarioConfig, sim: SimConfig, **kwargs: Any
) -> dict[str, Any]:
    """One simulation: the run's summary plus timing and scenario facts."""
    scenario = build_scenario(topology, seed=seed, config=config)
    t0 = time.perf_counter()
    result = Simulator(scenario, registry.make(scheduler, seed=seed, **kwargs), sim, seed=seed).run()
    wall = time.perf_counter() - t0
    check_result(result, scenario)
    summary = result.summary()
    done = result.completed()
    return {
        "topology": topology,
        "scheduler": scheduler,
        "seed": seed,
        "wall_s": wall,
        "n_tasks": len(scenario.tasks),
        "deferred": sum(1 for o in done if o.deferred_s > 0),
        "regions": sorted({s.region for s in scenario.sites}),
        **{k: summary.get(k, math.nan) for k in GREEN_METRICS},
        **({f"param_{k}": v for k, v in kwargs.items()}),
    }


def run_green_bench(
    grid: GreenGrid, progress: Callable[[int, int], None] | None = None, command: str = ""
) -> GreenBench:
    """Run every (topology, scheduler, seed) cell of ``grid`` in this process."""
    config = grid.scenario_config()
    sim = SimConfig(telemetry_period_s=grid.telemetry_period_s)
    cells = [(t, s, seed) for t in grid.topologies for s in grid.resolved_schedulers() for seed in grid.seeds]
    runs = []
    t0 = time.perf_counter()
    for i, (topology, scheduler, seed) in enumerate(cells):
        runs.append(run_cell(topology, scheduler, seed, config, sim))
        if progress is not None:
            progress(i + 1, len(cells))
    prov = {**provenance(), "wall_s": time.perf_counter() - t0, "command": command}
    return GreenBench(grid, tuple(runs), tuple(aggregate_green(runs)), prov)


def aggregate_green(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and 95% CI over seeds per (topology, scheduler) of every metric."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["topology"], run["scheduler"]), []).append(run)
    rows = []
    for (topology, scheduler), members in groups.items():
        row: dict[str, Any] = {"topology": topology, "scheduler": scheduler, "seeds": len(members)}
        for metric in GREEN_METRICS:
            values = [float(m[metric]) for m in members]
            row[metric] = float(np.mean(values))
            row[f"{metric}_ci95"] = ci95_half_width(values)
        row["deferred"] = float(np.mean([m["deferred"] for m in members]))
        rows.append(row)
    return rows


def lambda_sweep(
    topology: str,
    lambdas: Sequence[float],
    seed: int = 0,
    grid: GreenGrid | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """``weighted`` at each ``lambda_s_per_g`` on one topology: the latency-carbon trade-off."""
    grid = grid or GreenGrid(days=1.0)
    config = grid.scenario_config()
    sim = SimConfig(telemetry_period_s=grid.telemetry_period_s)
    out = []
    for i, lam in enumerate(lambdas):
        out.append(run_cell(topology, "weighted", seed, config, sim, lambda_s_per_g=float(lam)))
        if progress is not None:
            progress(i + 1, len(lambdas))
    return out


def pareto_front(points: Sequence[tuple[float, float]]) -> list[bool]:
    """Which ``(latency, carbon)`` points no other point beats on both (lower is better).

    >>> pareto_front([(1.0, 3.0), (2.0, 1.0), (2.0, 4.0)])
    [True, True, False]
    """
    return [not any((a <= x and b <= y) and (a < x or b < y) for a, b in points) for x, y in points]


def write_green_report(bench: GreenBench, out_dir: str | Path) -> Path:
    """Write ``report.md``, ``runs.json`` and PNG plots into ``out_dir``; return the report's path."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = bench.to_json()
    (out / "runs.json").write_text(json.dumps(doc, indent=2))
    grid = bench.grid
    lines = [
        "# cpnkit bench green: latency, SLO, energy, carbon and cost per scheduler",
        "",
        f"Topologies: {', '.join(grid.topologies)}. Seeds: {', '.join(map(str, grid.seeds))}. "
        f"{grid.days:g} simulated days at {grid.rate_per_s:g} tasks/s ({grid.n_tasks} tasks per run), latency bound "
        f"{grid.latency_bound_s * 1e3:g} ms, PV {grid.energy.pv_fraction:g} x site peak, PUE {grid.energy.pue:g}, "
        f"start {grid.energy.start} (UTC), forecast {grid.energy.forecast}, deferrable share "
        f"{grid.deferrable_fraction:g}.",
        "",
        "`task_*` are the tasks' own energy (dynamic device energy x PUE + network) and its carbon and cost; "
        "`energy`/`carbon` are the sites' metered totals, idle included (the same idle for every scheduler).",
        "",
    ]
    for topology in grid.topologies:
        rows = [r for r in bench.rows if r["topology"] == topology]
        lines += [
            f"## {topology}",
            "",
            "| scheduler | mean ms | p95 ms | SLO met | task energy J | task carbon g | task cost | total kWh | "
            "total carbon kg | PV used kWh |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(
                f"| {r['scheduler']} | {r['mean_response_s'] * 1e3:.2f} | {r['p95_response_s'] * 1e3:.2f} | "
                f"{r['slo_met']:.4f} | {r['task_energy_j']:.1f} | {r['task_carbon_g']:.4f} | {r['task_cost']:.6f} | "
                f"{r['energy_j'] / 3.6e6:.2f} | {r['carbon_g'] / 1e3:.3f} | {r['pv_used_j'] / 3.6e6:.2f} |"
            )
        lines.append("")
        fig, ax = plt.subplots(figsize=(6, 4))
        for r in rows:
            ax.scatter(r["mean_response_s"] * 1e3, r["task_carbon_g"], label=r["scheduler"])
            ax.annotate(r["scheduler"], (r["mean_response_s"] * 1e3, r["task_carbon_g"]), fontsize=7)
        ax.set_xlabel("mean response (ms)")
        ax.set_ylabel("task carbon (gCO2)")
        ax.set_title(f"{topology}: latency vs carbon")
        fig.tight_layout()
        name = f"green_{topology}.png"
        fig.savefig(out / name, dpi=120)
        plt.close(fig)
        lines += [f"![{topology}: latency vs carbon]({name})", ""]
    lines += ["## Provenance", "", "```json", json.dumps(bench.provenance, indent=2, default=str), "```", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def with_energy(grid: GreenGrid, **changes: Any) -> GreenGrid:
    """``grid`` with its energy settings changed (``with_energy(grid, region="DE")``)."""
    return replace(grid, energy=replace(grid.energy, **changes))


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
