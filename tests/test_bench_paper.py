"""``cpnkit bench paper``: grid, aggregation, backends, report and CLI (tiny grids: abilene, ~20 tasks)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cpnkit.bench.backends import run_jobs
from cpnkit.bench.paper import (
    Cell,
    PaperGrid,
    TimedScheduler,
    aggregate,
    ci95_half_width,
    compare,
    group_jobs,
    parse_seeds,
    run_cell,
    run_paper_bench,
)
from cpnkit.bench.report import paper_tables, write_report
from cpnkit.datasets import ScenarioConfig, build_scenario, load_architectures
from cpnkit.datasets.scenarios import task_mix_archs
from cpnkit.errors import ConfigError, UnknownSchedulerError
from cpnkit.model import Decision, Snapshot, Task
from cpnkit.schedulers import SchedulerRegistry, make
from cpnkit.sim import WorkloadConfig

SCHEDULERS = ("nearest-ecmp", "random")
RUN_KEYS = {
    "topology",
    "scheduler",
    "mode",
    "n_tasks",
    "seeds",
    "mean_response_s",
    "ci95_s",
    "p95_response_s",
    "decision_p50_s",
    "decision_p99_s",
}


def _grid(**kwargs: Any) -> PaperGrid:
    base: dict[str, Any] = {
        "topologies": ("abilene",),
        "schedulers": SCHEDULERS,
        "seeds": (0, 1),
        "modes": ("online", "isolated"),
        "experiments": ("main",),
        "scenario": ScenarioConfig(n_tasks=20),
    }
    base.update(kwargs)
    return PaperGrid(**base)


def _numbers(bench: Any) -> list[tuple[Any, ...]]:
    """Everything reproducible about a run (decision times are wall clock, so left out)."""
    return [(r.cell, r.response_s, len(r.decision_s)) for r in bench.results]


@pytest.fixture(scope="module")
def local_bench() -> Any:
    return run_paper_bench(_grid(), backend="local")


# -- seeds, grid ---------------------------------------------------------------------------------------


def test_parse_seeds_count_range_and_list() -> None:
    assert parse_seeds("5") == (0, 1, 2, 3, 4)
    assert parse_seeds("3-5") == (3, 4, 5)
    assert parse_seeds("9,2") == (9, 2)


@pytest.mark.parametrize("text", ["", "x", "0", "2,2", "-1,3", "5-3"])
def test_parse_seeds_rejects_bad_specs(text: str) -> None:
    with pytest.raises(ConfigError, match="seeds"):
        parse_seeds(text)


def test_grid_cells_cover_every_topology_seed_mode_and_scheduler() -> None:
    cells = _grid(experiments=("main", "io", "compute")).cells()
    main = [c for c in cells if c.experiment == "main"]
    assert len(main) == 1 * 2 * 2 * 2
    assert {(c.seed, c.mode, c.scheduler) for c in main} == {
        (s, m, x) for s in (0, 1) for m in ("online", "isolated") for x in SCHEDULERS
    }
    io = [c for c in cells if c.experiment == "io"]
    assert len(io) == 3 * 2 * 2
    assert {c.mode for c in io} == {"isolated"}
    assert {c.scenario.mix_input_bytes for c in io} == {(100e3, 100e3), (1e6, 1e6), (10e6, 10e6)}
    assert {c.scenario.task_mix for c in cells if c.experiment == "compute"} == {"compute"}
    assert len(set(cells)) == len(cells)


def test_group_jobs_puts_cells_of_one_scenario_together() -> None:
    cells = _grid().cells()
    jobs = group_jobs(cells)
    assert len(jobs) == 2  # one scenario per seed
    assert all(len({c.scenario_key for c in job}) == 1 for job in jobs)
    assert sum(len(j) for j in jobs) == len(cells)


def test_candidates_experiment_takes_filter_based_non_privileged_schedulers() -> None:
    class Filtered:
        name = "filtered"

        def __init__(self, seed: int = 0, n_candidates: int = 5) -> None:
            self.n_candidates = n_candidates

        def decide(self, task: Task, snapshot: Snapshot) -> Decision:
            raise NotImplementedError

    reg = SchedulerRegistry()
    reg.register("filtered", Filtered)
    reg.register("privileged-ref", Filtered, privileged=True)
    reg.register("plain", lambda seed=0: make("nearest-ecmp", seed=seed))
    grid = _grid(schedulers=("filtered", "privileged-ref", "plain"), experiments=("candidates",), modes=("online",))
    cells = grid.cells(reg)
    assert {c.scheduler for c in cells} == {"filtered"}
    assert sorted({c.label for c in cells}) == ["filtered n=10", "filtered n=3", "filtered n=5", "filtered n=7"]
    assert {c.mode for c in cells} == {"online"}  # no isolated mode in the grid: the first mode


def test_grid_rejects_unknown_scheduler_topology_and_mode() -> None:
    with pytest.raises(UnknownSchedulerError, match="nearest-ecmp"):
        _grid(schedulers=("nearest-ecm",)).cells()
    with pytest.raises(ConfigError, match="abilene"):
        _grid(topologies=("abilen",)).cells()
    with pytest.raises(ConfigError, match="mode"):
        _grid(modes=("batch",))
    with pytest.raises(ConfigError, match="experiment"):
        _grid(experiments=("tables",))
    with pytest.raises(ConfigError, match="tcp-queue"):
        _grid(transport="reno")


def test_a_cell_runs_under_tcp_queue() -> None:
    (cell,) = [c for c in _grid(transport="tcp-queue").cells() if c.scheduler == "nearest-ecmp"][:1]
    assert cell.transport == "tcp-queue"
    result = run_cell(replace(cell, scenario=replace(cell.scenario, n_tasks=6)))
    assert result.completed == 6


# -- timing wrapper ------------------------------------------------------------------------------------


def test_timed_scheduler_records_each_decision_and_forwards_attributes() -> None:
    inner = make("nearest-ecmp", seed=0)
    inner.privileged = True  # type: ignore[attr-defined]
    timed = TimedScheduler(inner)
    assert timed.name == "nearest-ecmp"
    assert timed.privileged is True  # the simulator looks this up to hand over the true state
    scenario = build_scenario("abilene", seed=0, config=ScenarioConfig(n_tasks=5))
    from cpnkit.sim import Simulator

    result = Simulator(scenario, timed, seed=0).run()
    assert len(timed.decision_ns) == 5
    assert all(ns > 0 for ns in timed.decision_ns)
    assert result.scheduler == "nearest-ecmp"


# -- aggregation ---------------------------------------------------------------------------------------


def test_ci95_uses_student_t() -> None:
    assert math.isnan(ci95_half_width([1.0]))
    assert ci95_half_width([2.0, 2.0, 2.0]) == 0.0
    assert ci95_half_width([1.0, 3.0]) == pytest.approx(12.706204736)  # t(0.975, 1 df) * sd / sqrt(n)


def test_rows_follow_the_json_schema_and_match_cell_results(local_bench: Any) -> None:
    rows = local_bench.rows
    assert len(rows) == 2 * 2  # schedulers x modes
    for row in rows:
        assert set(row) >= RUN_KEYS
        assert row["seeds"] == [0, 1]
        assert row["n_tasks"] == 20
        cells = [
            r
            for r in local_bench.results
            if r.cell.scheduler == row["scheduler"] and r.cell.mode == row["mode"] and r.cell.experiment == "main"
        ]
        per_seed = [float(np.nanmean(c.response_s)) for c in cells]
        assert row["mean_response_s"] == pytest.approx(np.mean(per_seed))
        assert row["ci95_s"] == pytest.approx(ci95_half_width(per_seed))
        pooled = [x for c in cells for x in c.response_s]
        assert row["p95_response_s"] == pytest.approx(np.percentile(pooled, 95))
        assert 0 < row["decision_p50_s"] <= row["decision_p99_s"] < 1.0
        assert row["decisions"] == 40
        assert row["completed"] + row["rejected"] == 40


def test_improvement_and_oracle_gap() -> None:
    def row(label: str, means: list[float], privileged: bool = False) -> dict[str, Any]:
        return {
            "experiment": "main",
            "topology": "t",
            "mode": "online",
            "task_mix": "mixed",
            "input_bytes": None,
            "label": label,
            "privileged": privileged,
            "mean_response_s": float(np.mean(means)),
            "per_seed_mean_s": means,
        }

    rows = [row("a", [1.0, 1.0]), row("b", [2.0, 2.0]), row("o", [0.5, 0.5], privileged=True)]
    records = compare(rows, "a")
    assert [(r["baseline"], r["improvement"]) for r in records] == [("b", 0.5)]
    assert rows[0]["improvement_over"] == {"b": 0.5}
    assert rows[0]["gap_to_oracle"] == pytest.approx(1.0)
    assert rows[1]["gap_to_oracle"] == pytest.approx(3.0)
    assert rows[2]["gap_to_oracle"] is None


def test_aggregate_with_the_default_subject_compares_against_the_others(local_bench: Any) -> None:
    assert local_bench.subject == "nearest-ecmp"
    assert {c["baseline"] for c in local_bench.comparisons} == {"random"}
    assert aggregate(local_bench.results) == [
        {k: v for k, v in r.items() if k not in ("improvement_over", "gap_to_oracle")} for r in local_bench.rows
    ]


# -- backends ------------------------------------------------------------------------------------------


def test_process_backend_gives_the_local_numbers(local_bench: Any) -> None:
    bench = run_paper_bench(_grid(), backend="process", workers=2)
    assert _numbers(bench) == _numbers(local_bench)


def test_ray_backend_on_a_local_ray_gives_the_local_numbers(local_bench: Any) -> None:
    pytest.importorskip("ray")
    bench = run_paper_bench(_grid(), backend="ray", workers=2)
    assert _numbers(bench) == _numbers(local_bench)
    assert bench.provenance["backend"] == "ray"


def test_backend_settings_are_checked() -> None:
    jobs = group_jobs(_grid().cells())
    with pytest.raises(ConfigError, match="backend"):
        run_jobs(jobs, backend="dask")
    with pytest.raises(ConfigError, match="--backend ray"):
        run_jobs(jobs, backend="process", ray_address="auto")
    with pytest.raises(ConfigError, match="workers"):
        run_jobs(jobs, backend="process", workers=0)


def test_progress_reports_every_cell() -> None:
    seen: list[tuple[int, int]] = []
    cells = _grid(seeds=(0,), modes=("online",)).cells()
    run_jobs(group_jobs(cells), progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 2)
    assert seen[-1] == (2, 2)


# -- task mixes ----------------------------------------------------------------------------------------


def test_task_mixes_draw_light_or_heavy_models_and_their_input_range() -> None:
    flops = load_architectures()["flops_M_cifar10"]
    q25, q75 = np.percentile(flops.to_numpy(), [25, 75])
    io = build_scenario("abilene", seed=3, config=ScenarioConfig(n_tasks=200, task_mix="io"))
    heavy = build_scenario("abilene", seed=3, config=ScenarioConfig(n_tasks=200, task_mix="compute"))
    assert all(flops[t.arch_idx] <= q25 and 5e6 <= t.input_bytes <= 10e6 for t in io.tasks)
    assert all(flops[t.arch_idx] >= q75 and 100e3 <= t.input_bytes <= 500e3 for t in heavy.tasks)
    pinned = build_scenario("abilene", 3, ScenarioConfig(n_tasks=10, task_mix="io", mix_input_bytes=(1e6, 1e6)))
    assert {t.input_bytes for t in pinned.tasks} == {1e6}
    assert pinned.meta["task_mix"] == "io"
    assert pinned.meta["arch_pool_size"] == len(task_mix_archs("io"))


def test_mixed_task_mix_draws_what_it_drew_before_task_mixes() -> None:
    scenario = build_scenario("abilene", seed=0, config=ScenarioConfig(n_tasks=5))
    # recorded before the task mixes landed (same seed, same scenario)
    assert [t.arch_idx for t in scenario.tasks] == GOLDEN_ARCHS
    assert [round(t.input_bytes) for t in scenario.tasks] == GOLDEN_INPUTS


def test_task_mix_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="task_mix"):
        ScenarioConfig(task_mix="gpu")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="min_input_bytes"):
        ScenarioConfig(mix_input_bytes=(1e6, 2e6))
    with pytest.raises(ConfigError, match="mix_input_bytes"):
        ScenarioConfig(task_mix="io", mix_input_bytes=(2e6, 1e6))
    with pytest.raises(ConfigError, match="arch_pool"):
        WorkloadConfig(arch_pool=())
    with pytest.raises(ConfigError, match="outside"):
        WorkloadConfig(arch_pool=(0, 15625))


# -- report and CLI ------------------------------------------------------------------------------------


def test_report_writes_markdown_json_and_plots(tmp_path: Path) -> None:
    bench = run_paper_bench(_grid(seeds=(0,), experiments=("main", "io", "compute")), backend="local")
    titles = [t.title for t in paper_tables(bench)]
    assert any(t.startswith("Fig. 14 layout") for t in titles)
    assert any(t.startswith("Table 3 layout") for t in titles)
    assert any(t.startswith("Table 14 layout") for t in titles)
    assert any(t.startswith("Table 15 layout") for t in titles)
    assert any(t.startswith("Table 16") for t in titles)
    path = write_report(bench, tmp_path)
    text = path.read_text()
    assert "Table 15 layout" in text
    assert "| 1 MB |" in text
    assert "cpnkit_version" in text
    assert "numpy" in text
    assert {p.name for p in tmp_path.glob("*.png")} == {
        "latency_online_abilene.png",
        "latency_isolated_abilene.png",
        "mean_response_online.png",
        "mean_response_isolated.png",
    }
    runs = json.loads((tmp_path / "runs.json").read_text())["runs"]
    assert {r["experiment"] for r in runs} == {"main", "io", "compute"}


def test_cli_bench_paper_prints_tables_and_writes_json_and_report(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cpnkit.cli.main import app

    out = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "paper",
            "--quick",
            "--schedulers",
            "nearest-ecmp,random",
            "--tasks",
            "20",
            "--seeds",
            "2",
            "--modes",
            "online",
            "--out",
            str(out),
            "--json",
            str(tmp_path / "runs.json"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Fig. 14 layout" in result.output
    assert "Table 14 layout" in result.output
    runs = json.loads((tmp_path / "runs.json").read_text())["runs"]
    assert len(runs) == 2
    assert all(set(r) >= RUN_KEYS for r in runs)
    assert runs[0]["seeds"] == [0, 1]
    assert (out / "report.md").exists()
    assert (out / "mean_response_online.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--schedulers", "nearest"], "unknown scheduler 'nearest'"),
        (["--topology", "abilen"], "Did you mean 'abilene'"),
        (["--seeds", "x"], "seeds 'x'"),
        (["--backend", "dask"], "backend 'dask'"),
        (["--strict", "--tasks", "100"], "--strict needs"),
    ],
)
def test_cli_bench_paper_errors_exit_2_with_a_message(args: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cpnkit.cli.main", "bench", "paper", "--quick", "--no-report", "-q", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "error:" in proc.stderr
    assert message in proc.stderr


def test_cells_are_hashable_and_labelled() -> None:
    cell = Cell("candidates", "abilene", "waterfill", "online", 0, ScenarioConfig(n_tasks=5), (("n_candidates", 3),))
    assert cell.label == "waterfill n=3"
    assert hash(cell) == hash(Cell(**{f: getattr(cell, f) for f in cell.__dataclass_fields__}))


GOLDEN_ARCHS = [14214, 12123, 723, 13554, 8530]
GOLDEN_INPUTS = [2051155, 3519581, 272883, 365322, 1705233]


def test_table_7_lists_each_filter_based_scheduler_per_topology() -> None:
    from cpnkit.bench.paper import CellResult, PaperBench

    grid = _grid(
        topologies=("abilene", "ebone"), experiments=("candidates",), modes=("isolated",), candidate_counts=(3, 5)
    )
    results = [
        CellResult(
            Cell("candidates", topo, sid, "isolated", seed, grid.scenario, (("n_candidates", n),)),
            response_s=(0.01 * n + 0.001 * seed, 0.02 * n),
            decision_s=(1e-4,),
        )
        for topo in ("abilene", "ebone")
        for sid in ("f1", "f2")
        for seed in grid.seeds
        for n in grid.candidate_counts
    ]
    rows = aggregate(results, registry=_FakeRegistry())
    bench = PaperBench(grid, "f1", tuple(results), tuple(rows), tuple(compare(rows, "f1")), (), {})
    (table,) = paper_tables(bench)
    assert table.columns == ("topology", "scheduler", "n=3", "n=5")
    assert [r[:2] for r in table.rows] == [("abilene", "f1"), ("abilene", "f2"), ("ebone", "f1"), ("ebone", "f2")]
    assert table.rows[0][2].startswith("45.25 ± ")  # per-seed means 45.0 and 45.5 ms


class _FakeRegistry:
    def spec(self, sid: str) -> Any:
        class _Spec:
            privileged = False

        return _Spec()
