"""RLMS-CPN hyper-parameter sensitivity (paper Tables 8-10) on abilene, and the choice of defaults.

Starting from the paper's setting (``ActorCriticHyper.paper()``: plain SGD, policy lr 0.1, value lr 0.1,
gamma 0.99, per-step updates, no entropy bonus, no clipping), one hyper-parameter at a time is varied as in the
paper: the policy learning rate (Table 8), the value learning rate (Table 9), gamma (Table 10). Our defaults
(``ActorCriticHyper()``) and the untrained policy are measured beside them, and waterfill, the oracle and
base1-4 on the same evaluation scenarios for scale.

Each setting is trained ``--seeds`` times (training seeds 0..S-1, ``cpnkit.bench.train.train``: isolated,
the simulator's default ``tcp`` transport, training scenarios ``build_scenario('abilene', seed=1000 + i)``) for
``--steps`` transitions, then the final greedy policy is evaluated as in paper §4.6: the mean response of 50 tasks,
here on five scenarios (seeds 0-4, disjoint from the training seeds) and averaged. The table gives the mean over
training seeds with a 95% confidence interval (Student t), the paper's value beside it and the ratio ours / paper.
A run whose weights become non-finite (or whose policy stops being a distribution) counts as diverged.

Run: ``make bench`` or ``python benchmarks/bench_rl_sensitivity.py [--quick] [--steps N] [--seeds S] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

console = Console(width=150)

#: Paper Tables 8-10, mean response of 50 tasks on abilene, in ms.
PAPER_MS: dict[tuple[str, float], float] = {
    ("policy_lr", 0.1): 9.78,
    ("policy_lr", 0.01): 11.38,
    ("policy_lr", 0.001): 11.40,
    ("value_lr", 0.1): 7.73,
    ("value_lr", 0.01): 9.78,
    ("value_lr", 0.001): 11.51,
    ("gamma", 0.90): 11.06,
    ("gamma", 0.95): 9.78,
    ("gamma", 0.99): 7.73,
}
TABLES = {"policy_lr": "Table 8", "value_lr": "Table 9", "gamma": "Table 10"}
EVAL_SEEDS = (0, 1, 2, 3, 4)
EVAL_TASKS = 50


def _settings() -> list[tuple[str, dict[str, Any]]]:
    from cpnkit.schedulers.learned import ActorCriticHyper

    paper = asdict(ActorCriticHyper.paper())
    out: list[tuple[str, dict[str, Any]]] = []
    for name, values in (
        ("policy_lr", (0.1, 0.01, 0.001)),
        ("value_lr", (0.1, 0.01, 0.001)),
        ("gamma", (0.9, 0.95, 0.99)),
    ):
        for value in values:
            out.append((f"paper, {name}={value}", {**paper, name: value}))
    out.append(("our defaults", asdict(ActorCriticHyper())))
    return out


def _ci95(values: list[float]) -> tuple[float, float]:
    """(mean, 95% CI half-width) over the finite values (diverged runs are left out)."""
    from cpnkit.bench.paper import ci95_half_width

    finite = [v for v in values if math.isfinite(v)]
    return (float(np.mean(finite)) if finite else math.nan), ci95_half_width(finite)


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from cpnkit.bench.train import TrainConfig, evaluate, train, training_scenarios
    from cpnkit.datasets import ScenarioConfig, build_scenario
    from cpnkit.schedulers import registry
    from cpnkit.schedulers.learned import make_agent
    from cpnkit.sim import Simulator

    torch.set_num_threads(1)
    base = TrainConfig("rlms-cpn", ("abilene",), steps=args.steps, eval_every=0)
    train_sc = training_scenarios(base)
    eval_sc = [build_scenario("abilene", seed=s, config=ScenarioConfig(n_tasks=EVAL_TASKS)) for s in EVAL_SEEDS]
    untrained = [
        evaluate(make_agent("rlms-cpn", 5, 3, seed=s), eval_sc, sim_config=base.sim_config)[0]
        for s in range(args.seeds)
    ]
    rows: list[dict[str, Any]] = []
    for label, hyper in _settings():
        runs = []
        for seed in range(args.seeds):
            config = replace(base, seed=seed, hyper=hyper)
            started = time.perf_counter()
            diverged = ""
            reached = [0]

            def track(step: int, _total: int, _row: Any, reached: list[int] = reached) -> None:
                reached[0] = step

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    result = train(config, scenarios=train_sc, validation=eval_sc, progress=track)
                mean_s = result.curve[-1]["eval_response_s"]
                weights = result.agent.state()["weights"]["actor"]
                if not all(bool(torch.isfinite(w).all()) for w in weights.values()):
                    diverged, mean_s = "non-finite weights", math.nan
            except ValueError as exc:  # numpy refuses a NaN distribution once the weights blow up
                diverged, mean_s = f"{type(exc).__name__}: {exc} (in the episode after step {reached[0]})", math.nan
            runs.append(
                {
                    "seed": seed,
                    "mean_response_s": mean_s,
                    "diverged": diverged,
                    "diverged_after_step": reached[0] if diverged else None,
                    "wall_s": time.perf_counter() - started,
                }
            )
            console.print(f"  {label} seed {seed}: {mean_s * 1e3:.2f} ms {diverged} ({runs[-1]['wall_s']:.0f} s)")
        mean, half = _ci95([r["mean_response_s"] for r in runs])
        rows.append({"setting": label, "hyper": hyper, "runs": runs, "mean_ms": mean * 1e3, "ci95_ms": half * 1e3})
    un_mean, un_half = _ci95(untrained)
    references = {}
    for sid in ("waterfill", "oracle", "base1", "base2", "base3", "base4"):
        means = []
        for i, scenario in enumerate(eval_sc):  # simulator seed = index, as evaluate() does
            result = Simulator(scenario, registry.make(sid, seed=0), base.sim_config, seed=i).run()
            means.append(float(np.mean([o.response_s for o in result.outcomes if o.status == "completed"])))
        references[sid] = float(np.mean(means)) * 1e3
    return {
        "rows": rows,
        "untrained_ms": un_mean * 1e3,
        "untrained_ci95_ms": un_half * 1e3,
        "references_ms": references,
    }


def report(data: dict[str, Any], args: argparse.Namespace) -> None:
    t = Table(
        title=(
            f"RLMS-CPN sensitivity on abilene (paper Tables 8-10): mean response of {EVAL_TASKS} tasks x seeds "
            f"{EVAL_SEEDS}, after {args.steps} steps, {args.seeds} training seeds (mean ± 95% CI)"
        )
    )
    for col in ("table", "setting", "paper ms", "ours ms", "± 95% CI", "ours / paper", "diverged", "after steps"):
        t.add_column(col, justify="right")
    for row in data["rows"]:
        key = next(
            ((name, row["hyper"][name]) for name in TABLES if row["setting"].endswith(f"{name}={row['hyper'][name]}")),
            None,
        )
        paper = PAPER_MS.get(key) if key else None
        diverged = sum(1 for r in row["runs"] if r["diverged"])
        t.add_row(
            TABLES[key[0]] if key else "-",
            row["setting"],
            f"{paper:.2f}" if paper else "-",
            f"{row['mean_ms']:.2f}",
            f"{row['ci95_ms']:.2f}",
            f"{row['mean_ms'] / paper:.2f}" if paper and math.isfinite(row["mean_ms"]) else "-",
            f"{diverged}/{len(row['runs'])}",
            ", ".join(str(r["diverged_after_step"]) for r in row["runs"] if r["diverged"]) or "-",
        )
        row["paper_ms"] = paper
    t.add_row(
        "-", "untrained policy", "-", f"{data['untrained_ms']:.2f}", f"{data['untrained_ci95_ms']:.2f}", "-", "-", "-"
    )
    console.print(t)
    refs = ", ".join(f"{sid} {value:.2f} ms" for sid, value in data["references_ms"].items())
    console.print(f"same evaluation scenarios and simulator seeds: {refs}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short version: 1500 steps, 2 seeds")
    ap.add_argument("--steps", type=int, default=None, help="training steps per run (default 20000)")
    ap.add_argument("--seeds", type=int, default=None, help="training seeds per setting (default 3)")
    ap.add_argument("--json", type=Path, default=Path("results/bench_rl_sensitivity.json"), help="write results here")
    args = ap.parse_args(argv)
    args.steps = args.steps or (1500 if args.quick else 20_000)
    args.seeds = args.seeds or (2 if args.quick else 3)
    started = time.perf_counter()
    data = run(args)
    report(data, args)
    from cpnkit.bench.paper import provenance

    data.update(
        {
            "benchmark": "rl_sensitivity",
            "command": "python benchmarks/bench_rl_sensitivity.py"
            + (" --quick" if args.quick else "")
            + f" --steps {args.steps} --seeds {args.seeds}",
            "steps": args.steps,
            "training_seeds": list(range(args.seeds)),
            "eval": f"greedy, isolated, tcp, {EVAL_TASKS} tasks, abilene scenario seeds {list(EVAL_SEEDS)}",
            "wall_s": time.perf_counter() - started,
            "code": provenance(),
        }
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(data, indent=1) + "\n")
    console.print(f"wrote {args.json} ({data['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
