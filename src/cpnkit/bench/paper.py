"""The paper benchmark: the RLMS-CPN comparison (Tables 3, 7, 13-16, Figs. 14-18) run in our simulator.

A ``PaperGrid`` names what to run: topologies x schedulers x seeds x modes for the main comparison (Fig. 14's
mean response per topology, Table 3 / Table 13's improvements, Table 14's decision time, Figs. 15-18's per-task
curves), plus three side experiments that the paper runs in one setting each:

- ``candidates`` (Table 7): every non-privileged scheduler that accepts ``n_candidates`` (the filter-based ones),
  once per candidate count, on every topology;
- ``io`` (Table 15): the ``io`` task mix (light models) with the input pinned to 100 KB, 1 MB and 10 MB, one
  row each, on the grid's first topology;
- ``compute`` (Table 16): the ``compute`` task mix (heavy models, 100-500 KB inputs) on the first topology.

The side experiments run in ``isolated`` mode, as in the paper, when the grid has it, else in its first mode.

Every cell (one simulation) is a pure function of its seeds: the scenario is ``build_scenario(topology, seed)``,
the scheduler ``make(id, seed=seed, ...)``, the simulator ``Simulator(..., seed=seed)``. Cells sharing a scenario
travel together as one job, so a backend builds each scenario once; results come back in grid order whatever
the backend. Decision times are wall clock, measured here around ``decide`` (probes taken inside ``decide``
count), never inside the core.

Aggregation per (experiment, topology, scheduler, mode, task mix): the mean response over seeds of the per-seed
means, a 95% confidence interval from Student's t over those per-seed means, the p95 of all tasks pooled, and
decision-time p50 / p99 pooled over seeds.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from cpnkit.datasets import ScenarioConfig, build_scenario, load_topology
from cpnkit.errors import ConfigError
from cpnkit.estimate import TransportConfig
from cpnkit.estimate.transport import TRANSPORT_MODELS
from cpnkit.model import Decision, Snapshot, Task
from cpnkit.schedulers import Scheduler, SchedulerRegistry
from cpnkit.schedulers import registry as default_registry
from cpnkit.sim import Mode, Scenario, SimConfig, Simulator, check_result

__all__ = [
    "BASELINE_IDS",
    "CANDIDATE_COUNTS",
    "EXPERIMENTS",
    "IO_INPUT_BYTES",
    "LARGE_TOPOLOGIES",
    "PAPER_TOPOLOGIES",
    "REFERENCE_ID",
    "Cell",
    "CellResult",
    "PaperBench",
    "PaperGrid",
    "TimedScheduler",
    "aggregate",
    "ci95_half_width",
    "compare",
    "default_schedulers",
    "group_jobs",
    "parse_seeds",
    "provenance",
    "run_cell",
    "run_job",
    "run_paper_bench",
]

#: The paper's four topologies (Table 3, Figs. 14-18).
PAPER_TOPOLOGIES: tuple[str, ...] = ("abilene", "ebone", "sprintlink", "tiscali")
#: The paper's large topologies (Table 13).
LARGE_TOPOLOGIES: tuple[str, ...] = ("uscarrier", "kdl", "asn")
#: The paper's baselines, in table order.
BASELINE_IDS: tuple[str, ...] = ("base1", "base2", "base3", "base4")
#: Experiments a grid can hold (module docstring).
EXPERIMENTS: tuple[str, ...] = ("main", "candidates", "io", "compute")
#: Table 7's candidate counts (the paper shows 3-7; 10 shows the trend further).
CANDIDATE_COUNTS: tuple[int, ...] = (3, 5, 7, 10)
#: Table 15's rows: the input size of an IO-intensive task, in bytes.
IO_INPUT_BYTES: tuple[float, ...] = (100e3, 1e6, 10e6)
#: The privileged reference that gaps are measured against, when registered (else the first privileged one).
REFERENCE_ID = "oracle"


def parse_seeds(text: str) -> tuple[int, ...]:
    """Seeds from ``"5"`` (a count: seeds 0..4), ``"3-7"`` (a range, inclusive) or ``"0,2,9"`` (a list).

    Raises:
        ConfigError: the text is none of these, or names a negative seed.

    Example:
        >>> parse_seeds("3"), parse_seeds("2-4"), parse_seeds("7,1")
        ((0, 1, 2), (2, 3, 4), (7, 1))
    """
    spec = text.strip()
    try:
        if "," in spec:
            seeds = tuple(int(s) for s in spec.split(",") if s.strip())
        elif "-" in spec[1:]:
            lo, hi = spec.split("-", 1)
            seeds = tuple(range(int(lo), int(hi) + 1))
        else:
            seeds = tuple(range(int(spec)))
    except ValueError:
        seeds = ()
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ConfigError(
            f"seeds {text!r} must be a count ('5' = seeds 0..4), an inclusive range ('3-7') or a comma list "
            "('0,2,9') of distinct seeds >= 0"
        )
    return seeds


def default_schedulers(registry: SchedulerRegistry | None = None) -> tuple[str, ...]:
    """Every registered scheduler id, in table order.

    The order is waterfill, base1-4, the other non-privileged ids (sorted), then the privileged references
    (``oracle`` first).
    """
    reg = registry or default_registry
    ids = reg.ids()
    head = [i for i in ("waterfill", *BASELINE_IDS) if i in ids]
    plain = sorted(i for i in ids if i not in head and not reg.spec(i).privileged)
    privileged = sorted((i for i in ids if reg.spec(i).privileged), key=lambda i: (i != REFERENCE_ID, i))
    return (*head, *plain, *privileged)


@dataclass(frozen=True, slots=True)
class Cell:
    """One simulation of the grid.

    Attributes:
        experiment: One of ``EXPERIMENTS``.
        topology: Topology as given (bundled name, ``topohub:`` key or file).
        scheduler: Registry id.
        mode: ``online`` or ``isolated``.
        seed: Seeds the scenario, the scheduler and the simulator.
        scenario: Scenario settings (``n_tasks``, task mix, ...).
        scheduler_kwargs: Extra keyword arguments of the scheduler factory (``n_candidates``), sorted by name.
        transport: ``tcp`` (default), ``fluid`` or ``tcp-queue`` (ns-3-validated, slower).
        service_jitter: Relative service-time jitter of the simulator.
    """

    experiment: str
    topology: str
    scheduler: str
    mode: Mode
    seed: int
    scenario: ScenarioConfig
    scheduler_kwargs: tuple[tuple[str, int], ...] = ()
    transport: str = "tcp"
    service_jitter: float = 0.02

    @property
    def label(self) -> str:
        """The scheduler's column name: its id, with its extra kwargs (``waterfill n=3``)."""
        extra = " ".join(f"{'n' if k == 'n_candidates' else k}={v}" for k, v in self.scheduler_kwargs)
        return f"{self.scheduler} {extra}" if extra else self.scheduler

    @property
    def scenario_key(self) -> tuple[str, int, ScenarioConfig]:
        """Cells with equal keys simulate the same scenario."""
        return (self.topology, self.seed, self.scenario)


@dataclass(frozen=True, slots=True)
class CellResult:
    """What one cell produced.

    Attributes:
        cell: The cell.
        response_s: Response latency of every task in task-id order, in s (``nan``: rejected).
        decision_s: Wall-clock time of every ``decide`` call in decision order, in s (not reproducible).
        scenario_meta: Provenance of the cell's scenario (access points, offered load, background).
    """

    cell: Cell
    response_s: tuple[float, ...]
    decision_s: tuple[float, ...]
    scenario_meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        """Tasks that completed."""
        return sum(1 for r in self.response_s if not math.isnan(r))

    @property
    def mean_response_s(self) -> float:
        """Mean response latency over completed tasks, in s (``nan`` when none completed)."""
        done = [r for r in self.response_s if not math.isnan(r)]
        return float(np.mean(done)) if done else math.nan


class TimedScheduler:
    """Wraps a scheduler and records the wall-clock time of each ``decide`` call, in ns.

    Everything else (``name`` and any attribute the simulator or a privileged scheduler looks up) passes
    through to the wrapped scheduler.

    Args:
        inner: The scheduler to time.
    """

    def __init__(self, inner: Scheduler) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.decision_ns: list[int] = []

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        """Time the wrapped ``decide`` (probes taken inside count) and return its decision."""
        start = time.perf_counter_ns()
        try:
            return self.inner.decide(task, snapshot)
        finally:
            self.decision_ns.append(time.perf_counter_ns() - start)

    def __getattr__(self, name: str) -> Any:
        # only called for attributes not found on the wrapper itself
        return getattr(self.__dict__["inner"], name)


def run_cell(cell: Cell, scenario: Scenario | None = None, registry: SchedulerRegistry | None = None) -> CellResult:
    """Simulate one cell and check the run's invariants.

    Args:
        cell: What to run.
        scenario: The cell's ``Scenario`` when already built (``None``: build it from the cell).
        registry: Scheduler registry (default: cpnkit's).

    Raises:
        InvariantError: the run broke a shared invariant.
    """
    if scenario is None:
        scenario = build_scenario(cell.topology, seed=cell.seed, config=cell.scenario)
    sched = TimedScheduler(
        (registry or default_registry).make(cell.scheduler, seed=cell.seed, **dict(cell.scheduler_kwargs))
    )
    config = SimConfig(
        mode=cell.mode,
        service_jitter=cell.service_jitter,
        transport=TransportConfig(model=cell.transport),  # type: ignore[arg-type]
    )
    result = Simulator(scenario, sched, config, seed=cell.seed).run()
    check_result(result, scenario)
    response = tuple(o.response_s if o.status == "completed" else math.nan for o in result.outcomes)
    meta = scenario.meta
    keep = ("access_points", "arrival_rate_per_s", "offered_compute_load", "background", "task_mix", "scenario")
    return CellResult(
        cell=cell,
        response_s=response,
        decision_s=tuple(ns * 1e-9 for ns in sched.decision_ns),
        scenario_meta={k: meta[k] for k in keep if k in meta},
    )


def run_job(cells: Sequence[Cell]) -> list[CellResult]:
    """Run cells in order, building each distinct scenario once (the unit of work of every backend)."""
    built: dict[tuple[str, int, ScenarioConfig], Scenario] = {}
    out = []
    for cell in cells:
        key = cell.scenario_key
        if key not in built:
            built[key] = build_scenario(cell.topology, seed=cell.seed, config=cell.scenario)
        out.append(run_cell(cell, built[key]))
    return out


def group_jobs(cells: Sequence[Cell]) -> list[list[Cell]]:
    """Cells grouped by scenario (first-appearance order), so each job builds its scenario once."""
    jobs: dict[tuple[str, int, ScenarioConfig], list[Cell]] = {}
    for cell in cells:
        jobs.setdefault(cell.scenario_key, []).append(cell)
    return list(jobs.values())


@dataclass(frozen=True, slots=True)
class PaperGrid:
    """What ``cpnkit bench paper`` runs.

    Attributes:
        topologies: Topologies (bundled names, ``topohub:`` keys or files).
        schedulers: Scheduler ids, in column order.
        seeds: Seeds; every cell runs once per seed.
        modes: Simulator modes of the main comparison.
        experiments: Subset of ``EXPERIMENTS``.
        scenario: Scenario settings of the main comparison (its ``n_tasks`` is the tasks per run).
        candidate_counts: Table 7's candidate counts.
        io_input_bytes: Table 15's input sizes, in bytes.
        transport: ``tcp`` (default), ``fluid`` or ``tcp-queue`` (CUBIC over FIFO queues: the ns-3-validated model,
            up to ~200x slower to simulate than tcp).
        service_jitter: Relative service-time jitter.
        subject: The scheduler whose improvement over the others the tables show (``None``: waterfill when
            present, else the first non-privileged scheduler).
    """

    topologies: tuple[str, ...] = PAPER_TOPOLOGIES + LARGE_TOPOLOGIES
    schedulers: tuple[str, ...] = ()
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    modes: tuple[Mode, ...] = ("online", "isolated")
    experiments: tuple[str, ...] = EXPERIMENTS
    scenario: ScenarioConfig = field(default_factory=lambda: ScenarioConfig(n_tasks=100))
    candidate_counts: tuple[int, ...] = CANDIDATE_COUNTS
    io_input_bytes: tuple[float, ...] = IO_INPUT_BYTES
    transport: str = "tcp"
    service_jitter: float = 0.02
    subject: str | None = None

    def __post_init__(self) -> None:
        if not self.topologies:
            raise ConfigError("the grid has no topology; give at least one --topology")
        if not self.seeds:
            raise ConfigError("the grid has no seed; give --seeds (e.g. 5 for seeds 0..4)")
        for mode in self.modes:
            if mode not in ("online", "isolated"):
                raise ConfigError(f"mode {mode!r} must be 'online' or 'isolated'")
        if not self.modes:
            raise ConfigError("the grid has no mode; give online, isolated or both")
        for exp in self.experiments:
            if exp not in EXPERIMENTS:
                raise ConfigError(f"experiment {exp!r} must be one of {', '.join(EXPERIMENTS)}")
        if any(n < 1 for n in self.candidate_counts):
            raise ConfigError(f"candidate counts {self.candidate_counts!r} must be >= 1")
        if self.transport not in TRANSPORT_MODELS:
            raise ConfigError(f"transport {self.transport!r} must be one of {list(TRANSPORT_MODELS)}")

    @property
    def side_mode(self) -> Mode:
        """Mode of the side experiments: isolated (the paper's) when the grid has it."""
        return "isolated" if "isolated" in self.modes else self.modes[0]

    def resolved_schedulers(self, registry: SchedulerRegistry | None = None) -> tuple[str, ...]:
        """The scheduler ids, validated against the registry (default: every registered id).

        Raises:
            UnknownSchedulerError: an id is not registered (with a did-you-mean).
        """
        reg = registry or default_registry
        ids = self.schedulers or default_schedulers(reg)
        for sid in ids:
            reg.spec(sid)
        return tuple(dict.fromkeys(ids))

    def resolved_subject(self, registry: SchedulerRegistry | None = None) -> str:
        """The scheduler compared against the others."""
        reg = registry or default_registry
        ids = self.resolved_schedulers(reg)
        if self.subject is not None:
            if self.subject not in ids:
                raise ConfigError(f"subject {self.subject!r} is not among the schedulers {list(ids)}; add it")
            return self.subject
        if "waterfill" in ids:
            return "waterfill"
        plain = [i for i in ids if not reg.spec(i).privileged]
        return plain[0] if plain else ids[0]

    def cells(self, registry: SchedulerRegistry | None = None) -> list[Cell]:
        """Every cell of the grid, in a fixed order (experiment, topology, seed, mode, scheduler).

        Raises:
            UnknownSchedulerError: a scheduler id is not registered.
            UnknownTopologyError: a topology does not resolve.
        """
        reg = registry or default_registry
        ids = self.resolved_schedulers(reg)
        for topo in self.topologies:
            load_topology(topo)
        common = {"transport": self.transport, "service_jitter": self.service_jitter}
        cells: list[Cell] = []
        if "main" in self.experiments:
            for topo in self.topologies:
                for seed in self.seeds:
                    for mode in self.modes:
                        cells.extend(Cell("main", topo, s, mode, seed, self.scenario, **common) for s in ids)  # type: ignore[arg-type]
        mode = self.side_mode
        if "candidates" in self.experiments:
            filtered = [s for s in ids if not reg.spec(s).privileged and _accepts_candidates(reg, s)]
            for topo in self.topologies:
                for seed in self.seeds:
                    for s in filtered:
                        cells.extend(
                            Cell("candidates", topo, s, mode, seed, self.scenario, (("n_candidates", n),), **common)  # type: ignore[arg-type]
                            for n in self.candidate_counts
                        )
        first = self.topologies[0]
        if "io" in self.experiments:
            for size in self.io_input_bytes:
                io = replace(self.scenario, task_mix="io", mix_input_bytes=(size, size))
                for seed in self.seeds:
                    cells.extend(Cell("io", first, s, mode, seed, io, **common) for s in ids)  # type: ignore[arg-type]
        if "compute" in self.experiments:
            heavy = replace(self.scenario, task_mix="compute")
            for seed in self.seeds:
                cells.extend(Cell("compute", first, s, mode, seed, heavy, **common) for s in ids)  # type: ignore[arg-type]
        return cells


def _accepts_candidates(registry: SchedulerRegistry, sid: str) -> bool:
    try:
        registry.make(sid, seed=0, n_candidates=3)
    except TypeError:
        return False
    return True


def ci95_half_width(values: Sequence[float]) -> float:
    """Half-width of the 95% confidence interval of the mean of ``values`` (Student's t; ``nan`` below 2).

    Example:
        >>> round(ci95_half_width([1.0, 2.0, 3.0]), 4)
        2.4841
    """
    clean = [v for v in values if not math.isnan(v)]
    if len(clean) < 2:
        return math.nan
    from scipy import stats

    t = float(stats.t.ppf(0.975, len(clean) - 1))
    return t * float(np.std(clean, ddof=1)) / math.sqrt(len(clean))


def _group_key(cell: Cell) -> tuple[str, str, str, str, str, tuple[float, float] | None]:
    return (
        cell.experiment,
        cell.topology,
        cell.label,
        cell.mode,
        cell.scenario.task_mix,
        cell.scenario.mix_input_bytes,
    )


def aggregate(results: Sequence[CellResult], registry: SchedulerRegistry | None = None) -> list[dict[str, Any]]:
    """One row per (experiment, topology, scheduler variant, mode, task mix), in grid order.

    Rows carry the JSON schema of ``cpnkit bench paper --json`` (``topology``, ``scheduler``, ``mode``,
    ``n_tasks``, ``seeds``, ``mean_response_s``, ``ci95_s``, ``p95_response_s``, ``decision_p50_s``,
    ``decision_p99_s``) plus ``experiment``, ``label``, ``scheduler_kwargs``, ``privileged``, ``task_mix``,
    ``input_bytes``, ``per_seed_mean_s``, ``completed``, ``rejected`` and ``decisions``.
    """
    reg = registry or default_registry
    groups: dict[tuple[Any, ...], list[CellResult]] = defaultdict(list)
    for res in results:
        groups[_group_key(res.cell)].append(res)
    rows = []
    for members in groups.values():
        cell = members[0].cell
        per_seed = [m.mean_response_s for m in members]
        pooled = np.array([r for m in members for r in m.response_s if not math.isnan(r)], dtype=np.float64)
        decisions = np.array([d for m in members for d in m.decision_s], dtype=np.float64)
        finite = [v for v in per_seed if not math.isnan(v)]
        mix_range = cell.scenario.mix_input_bytes
        rows.append(
            {
                "experiment": cell.experiment,
                "topology": cell.topology,
                "scheduler": cell.scheduler,
                "label": cell.label,
                "scheduler_kwargs": dict(cell.scheduler_kwargs),
                "privileged": reg.spec(cell.scheduler).privileged,
                "mode": cell.mode,
                "task_mix": cell.scenario.task_mix,
                "input_bytes": list(mix_range) if mix_range is not None else None,
                "n_tasks": len(members[0].response_s),
                "seeds": [m.cell.seed for m in members],
                "mean_response_s": float(np.mean(finite)) if finite else math.nan,
                "ci95_s": ci95_half_width(per_seed),
                "p95_response_s": float(np.percentile(pooled, 95)) if pooled.size else math.nan,
                "decision_p50_s": float(np.percentile(decisions, 50)) if decisions.size else math.nan,
                "decision_p99_s": float(np.percentile(decisions, 99)) if decisions.size else math.nan,
                "decisions": int(decisions.size),
                "per_seed_mean_s": per_seed,
                "completed": sum(m.completed for m in members),
                "rejected": sum(len(m.response_s) - m.completed for m in members),
            }
        )
    return rows


def compare(rows: Sequence[dict[str, Any]], subject: str) -> list[dict[str, Any]]:
    """Improvement of ``subject`` over every other non-privileged scheduler, and every scheduler's oracle gap.

    Within each (experiment, topology, mode, task mix, input size) group: ``improvement`` = 1 - mean(subject)
    / mean(other) (the paper's "提升", positive = subject faster), with a 95% CI over the per-seed paired
    improvements; ``gap_to_oracle`` = mean(scheduler) / mean(privileged reference) - 1. Rows gain
    ``improvement_over`` ({other label: improvement}, subject rows only) and ``gap_to_oracle`` in place. The
    reference is ``oracle`` when present, else the group's first privileged scheduler.

    Returns:
        One record per (group, other scheduler): experiment, topology, mode, task_mix, input_bytes, subject,
        baseline, improvement, improvement_ci95.
    """
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        key = (row["experiment"], row["topology"], row["mode"], row["task_mix"], _tuple(row["input_bytes"]))
        groups[key].append(row)
    records = []
    for members in groups.values():
        oracle = next((r for r in members if r["label"] == REFERENCE_ID), None)
        oracle = oracle or next((r for r in members if r["privileged"]), None)
        for row in members:
            ok = oracle is not None and oracle["mean_response_s"] > 0 and row is not oracle
            row["gap_to_oracle"] = row["mean_response_s"] / oracle["mean_response_s"] - 1.0 if ok else None  # type: ignore[index]
        subj = next((r for r in members if r["label"] == subject), None)
        if subj is None:
            continue
        subj["improvement_over"] = {}
        for other in members:
            if other is subj or other["privileged"]:
                continue
            imp = 1.0 - subj["mean_response_s"] / other["mean_response_s"] if other["mean_response_s"] > 0 else math.nan
            paired = [
                1.0 - a / b
                for a, b in zip(subj["per_seed_mean_s"], other["per_seed_mean_s"], strict=True)
                if b > 0 and not math.isnan(a)
            ]
            subj["improvement_over"][other["label"]] = imp
            records.append(
                {
                    "experiment": subj["experiment"],
                    "topology": subj["topology"],
                    "mode": subj["mode"],
                    "task_mix": subj["task_mix"],
                    "input_bytes": subj["input_bytes"],
                    "subject": subject,
                    "baseline": other["label"],
                    "improvement": imp,
                    "improvement_ci95": ci95_half_width(paired),
                }
            )
    return records


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


ProgressCallback = Callable[[int, int], None]


def run_paper_bench(
    grid: PaperGrid,
    backend: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    progress: ProgressCallback | None = None,
    command: str | None = None,
) -> PaperBench:
    """Run every cell of ``grid`` on a backend and aggregate (module docstring).

    Args:
        grid: What to run.
        backend: ``local`` (this process), ``process`` (a process pool) or ``ray``.
        workers: Parallel workers of ``process`` and of a local Ray (``None``: the CPU count).
        ray_address: Address of an existing Ray cluster (``ray`` backend; ``None``: a local Ray on loopback).
        progress: Called as ``progress(cells_done, cells_total)``.
        command: The command line, recorded in the provenance.

    Raises:
        ConfigError: bad grid or backend settings.
        UnknownSchedulerError: a scheduler id is not registered.
        UnknownTopologyError: a topology does not resolve.
    """
    from cpnkit.bench.backends import run_jobs

    subject = grid.resolved_subject()
    cells = grid.cells()
    started = time.perf_counter()
    results = run_jobs(group_jobs(cells), backend=backend, workers=workers, ray_address=ray_address, progress=progress)
    wall_s = time.perf_counter() - started
    order = {cell: i for i, cell in enumerate(cells)}
    results.sort(key=lambda r: order[r.cell])
    rows = aggregate(results)
    comparisons = compare(rows, subject)
    ids = grid.resolved_schedulers()
    meta = provenance()
    meta.update({"backend": backend, "workers": workers, "ray_address": ray_address, "cells": len(cells)})
    meta.update({"wall_s": wall_s, "command": command})
    return PaperBench(
        grid=grid,
        subject=subject,
        results=tuple(results),
        rows=tuple(rows),
        comparisons=tuple(comparisons),
        privileged=tuple(s for s in ids if default_registry.spec(s).privileged),
        provenance=meta,
    )


def provenance() -> dict[str, Any]:
    """Versions (cpnkit, Python, numpy, scipy), platform, the git commit when run from a checkout, and the date."""
    import datetime
    import platform
    import subprocess
    from pathlib import Path

    import scipy

    from cpnkit import __version__

    commit: str | None = None
    dirty: bool | None = None
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        dirty = bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "cpnkit_version": __version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "platform": platform.platform(),
        "date_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


@dataclass(frozen=True)
class PaperBench:
    """A finished paper benchmark.

    Attributes:
        grid: What ran.
        subject: The scheduler compared against the others.
        results: Every cell's result, in grid order.
        rows: Aggregated rows (``aggregate``), with ``gap_to_oracle`` and the subject's ``improvement_over``.
        comparisons: The subject's improvement over each other scheduler (``compare``).
        privileged: Scheduler ids that are privileged references.
        provenance: Versions, commit, backend, timing, command.
    """

    grid: PaperGrid
    subject: str
    results: tuple[CellResult, ...]
    rows: tuple[dict[str, Any], ...]
    comparisons: tuple[dict[str, Any], ...]
    privileged: tuple[str, ...]
    provenance: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document: ``{"runs": [...], "comparisons": [...], "grid": ..., "provenance": ...}``."""
        grid = asdict(self.grid)
        grid["scenario"] = {k: v for k, v in grid["scenario"].items() if k != "device_pool"}
        doc = {
            "runs": list(self.rows),
            "comparisons": list(self.comparisons),
            "subject": self.subject,
            "privileged": list(self.privileged),
            "grid": grid,
            "scenarios": scenario_summaries(self.results),
            "provenance": dict(self.provenance),
        }
        return _json_safe(doc)  # type: ignore[no-any-return]


def scenario_summaries(results: Sequence[CellResult]) -> list[dict[str, Any]]:
    """One record per (topology, seed) of the main experiment: access points, offered load, background."""
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    for res in results:
        key = (res.cell.topology, res.cell.seed)
        if res.cell.experiment == "main" and key not in seen:
            seen[key] = {"topology": key[0], "seed": key[1], **res.scenario_meta}
    return list(seen.values())


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
