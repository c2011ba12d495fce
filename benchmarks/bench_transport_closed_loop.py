"""Closed-loop comparison of the simulator's ``tcp`` transport with the ns-3-validated ``tcp-queue`` (issue 7).

Runs the paper scenario (``cpnkit.datasets.build_scenario``: background scaled so the busiest link is ~50% loaded,
Poisson arrivals at 50 tasks/s, online mode, service jitter 0.02 as ``cpnkit bench paper``) with each scheduler
under ``--transport tcp`` (the reference) and ``--transport tcp-queue`` (CUBIC windows with HyStart over FIFO
fluid queues, ``cpnkit.sim.fluid_tcp.FluidTcpNetwork``), same scenario, scheduler and simulator seeds. Unlike the
open-loop replay (``bench_transport_replay.py``), the schedulers decide on the network the transport produces,
so decisions (and later traffic) may differ between the two.

Prints, per topology, every scheduler's mean response under both transports (mean over seeds, with its 95%
CI half-width) and the ratio tcp-queue / tcp, the scheduler ranking by mean response under each and whether it
changes (Kendall's tau between them), and the mean transfer times (input transmission and result return) per task
under both; then the wall time of each transport and its ratio to tcp's, measured in the same run (runs alternate
tcp / tcp-queue).

Cost: ~80 s with the defaults (abilene and ebone, seeds 0-2, 300 tasks, 7 schedulers; quiet 2-core machine), most
of it tcp-queue; part of ``make bench``. A regime map (8 regimes, 3 schedulers) takes ~10-12 min per topology.

``--background 0.5,0.9``, ``--task-mix mixed,io`` and ``--arrival-rate 50,200`` run several regimes (busiest-link
background utilisation, task mix, arrival rate; each combination is one regime) and end with a table of where
``tcp`` stays close to ``tcp-queue``.

Run: ``python benchmarks/bench_transport_closed_loop.py [--topologies abilene,ebone] [--seeds 0,1,2]
[--tasks 300] [--background 0.5] [--task-mix mixed] [--arrival-rate 50]
[--json results/bench_transport_closed_loop.json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from cpnkit.bench.paper import ci95_half_width, parse_seeds
from cpnkit.datasets import ScenarioConfig, build_scenario
from cpnkit.datasets.scenarios import TASK_MIXES
from cpnkit.estimate import TransportConfig
from cpnkit.schedulers import make
from cpnkit.sim import SimConfig, Simulator, check_result

REFERENCE = "tcp"
SUBJECT = "tcp-queue"
SCHEDULERS = ("waterfill", "base1", "base2", "base3", "base4", "nearest-ecmp", "rlms-cpn")
console = Console(width=170)


def run(
    topology: str,
    seed: int,
    n_tasks: int,
    scheduler: str,
    transport: str,
    background: float = 0.5,
    task_mix: str = "mixed",
    arrival_rate_per_s: float = 50.0,
) -> dict[str, Any]:
    """One simulation; per-task response and transfer times (nan for rejected tasks) and the wall time."""
    scenario_config = ScenarioConfig(
        n_tasks=n_tasks,
        background_utilisation=background,
        task_mix=task_mix,  # type: ignore[arg-type]
        arrival_rate_per_s=arrival_rate_per_s,
    )
    scenario = build_scenario(topology, seed=seed, config=scenario_config)
    config = SimConfig(mode="online", service_jitter=0.02, transport=TransportConfig(model=transport))  # type: ignore[arg-type]
    simulator = Simulator(scenario, make(scheduler, seed=seed), config, seed=seed)
    began = time.perf_counter()
    result = simulator.run()
    wall_s = time.perf_counter() - began
    check_result(result, scenario)
    done = [o.status == "completed" for o in result.outcomes]
    return {
        "topology": topology,
        "regime": (background, task_mix, arrival_rate_per_s),
        "seed": seed,
        "scheduler": scheduler,
        "transport": transport,
        "wall_s": wall_s,
        "completed": sum(done),
        "response_s": [o.response_s if ok else math.nan for o, ok in zip(result.outcomes, done, strict=True)],
        "transmission_s": [o.transmission_s if ok else math.nan for o, ok in zip(result.outcomes, done, strict=True)],
        "return_s": [o.return_s if ok else math.nan for o, ok in zip(result.outcomes, done, strict=True)],
        "sites": [o.site for o in result.outcomes],
        "steps": result.stats.get("tcp_queue_steps", 0),
        "max_queue_overflow_bytes": result.stats.get("max_queue_overflow_bytes", 0.0),
    }


def parse_level(option: str, text: str, upper: float = math.inf) -> float:
    """One level of a comma-list option: a number in [0, ``upper``)."""
    try:
        value = float(text)
    except ValueError:
        raise SystemExit(f"{option} {text!r} is not a number; give a comma list such as 0.5,0.9") from None
    if not 0.0 <= value < upper:
        raise SystemExit(f"{option} {value!r} must be >= 0 and < {upper:g}")
    return value


def kendall_tau(a: list[str], b: list[str]) -> float:
    """Kendall's tau between two rankings of the same items (1: same order, -1: reversed)."""
    pos = {item: i for i, item in enumerate(b)}
    concordant = discordant = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            if pos[a[i]] < pos[a[j]]:
                concordant += 1
            else:
                discordant += 1
    pairs = concordant + discordant
    return (concordant - discordant) / pairs if pairs else 1.0


def summarise(runs: list[dict[str, Any]], topology: str, schedulers: tuple[str, ...]) -> dict[str, Any]:
    """Per scheduler: mean response (over seeds) per transport, the ratio, the ranking, transfer times."""
    rows = []
    for scheduler in schedulers:
        row: dict[str, Any] = {"scheduler": scheduler}
        for transport in (REFERENCE, SUBJECT):
            mine = [
                r
                for r in runs
                if r["topology"] == topology and r["scheduler"] == scheduler and r["transport"] == transport
            ]
            means = [float(np.nanmean(r["response_s"])) for r in mine]
            row[transport] = {
                "mean_response_s": float(np.mean(means)),
                "ci95_s": ci95_half_width(means),
                "per_seed_s": means,
                "mean_transmission_s": float(np.mean([np.nanmean(r["transmission_s"]) for r in mine])),
                "mean_return_s": float(np.mean([np.nanmean(r["return_s"]) for r in mine])),
                "completed": sum(r["completed"] for r in mine),
                "wall_s": sum(r["wall_s"] for r in mine),
            }
        ref = [
            r for r in runs if r["topology"] == topology and r["scheduler"] == scheduler and r["transport"] == REFERENCE
        ]
        sub = [
            r for r in runs if r["topology"] == topology and r["scheduler"] == scheduler and r["transport"] == SUBJECT
        ]
        # per task, same task id: relative difference of its input transmission (decisions may differ)
        rel = []
        same_site = 0
        total = 0
        for a, b in zip(ref, sub, strict=True):
            for ta, tb, sa, sb in zip(a["transmission_s"], b["transmission_s"], a["sites"], b["sites"], strict=True):
                if math.isfinite(ta) and math.isfinite(tb) and ta > 0:
                    rel.append(tb / ta - 1.0)
                    total += 1
                    same_site += sa == sb
        row["ratio"] = row[SUBJECT]["mean_response_s"] / row[REFERENCE]["mean_response_s"]
        row["transmission_rel_diff_median"] = float(np.median(rel)) if rel else math.nan
        row["transmission_rel_diff_mean_abs"] = float(np.mean(np.abs(rel))) if rel else math.nan
        row["same_site_share"] = same_site / total if total else math.nan
        rows.append(row)
    ranking = {
        transport: [r["scheduler"] for r in sorted(rows, key=lambda r: r[transport]["mean_response_s"])]
        for transport in (REFERENCE, SUBJECT)
    }
    return {
        "topology": topology,
        "rows": rows,
        "ranking": ranking,
        "ranking_changed": ranking[REFERENCE] != ranking[SUBJECT],
        "kendall_tau": kendall_tau(ranking[REFERENCE], ranking[SUBJECT]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topologies", default="abilene,ebone")
    parser.add_argument("--seeds", default="0,1,2", help="count, range or comma list (as cpnkit bench paper)")
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--schedulers", default=",".join(SCHEDULERS))
    parser.add_argument(
        "--background",
        default="0.5",
        help="comma list of busiest-link background utilisations (0..1), one regime each (default: the paper's 0.5)",
    )
    parser.add_argument(
        "--arrival-rate",
        default="50",
        help="comma list of task arrival rates in tasks/s, one regime each (default: the paper's 50)",
    )
    parser.add_argument(
        "--task-mix",
        default="mixed",
        help=f"comma list of task mixes, one regime each (of {', '.join(TASK_MIXES)}; 'io': large inputs)",
    )
    parser.add_argument("--json", type=Path, default=Path("results/bench_transport_closed_loop.json"))
    args = parser.parse_args()
    topologies = tuple(t.strip() for t in args.topologies.split(",") if t.strip())
    seeds = parse_seeds(args.seeds)
    schedulers = tuple(s.strip() for s in args.schedulers.split(",") if s.strip())
    regimes = [
        (parse_level("--background", b, upper=1.0), m.strip(), parse_level("--arrival-rate", rate))
        for b in args.background.split(",")
        for m in args.task_mix.split(",")
        for rate in args.arrival_rate.split(",")
    ]
    for _, mix, _ in regimes:
        if mix not in TASK_MIXES:
            parser.error(f"--task-mix {mix!r} is not one of {', '.join(TASK_MIXES)}")

    runs = []
    began = time.perf_counter()
    for topology in topologies:
        for background, mix, rate in regimes:
            for seed in seeds:
                for scheduler in schedulers:
                    for transport in (REFERENCE, SUBJECT):  # alternating: both see the same machine load
                        r = run(topology, seed, args.tasks, scheduler, transport, background, mix, rate)
                        runs.append(r)
                        console.log(
                            f"{topology} bg {background:g} {mix} {rate:g}/s seed {seed} {scheduler:>12} "
                            f"{transport:>9}: "
                            f"{r['wall_s']:.2f} s wall, mean response {np.nanmean(r['response_s']) * 1e3:.1f} ms"
                        )
    summaries = [
        {
            "background_utilisation": background,
            "task_mix": mix,
            "arrival_rate_per_s": rate,
            **summarise(
                [r for r in runs if r["topology"] == topology and r["regime"] == (background, mix, rate)],
                topology,
                schedulers,
            ),
        }
        for topology in topologies
        for background, mix, rate in regimes
    ]

    for summary in summaries:
        table = Table(
            title=f"{summary['topology']}: mean response (ms, mean over seeds {list(seeds)} ± 95% CI), "
            f"{args.tasks} tasks, online, background {summary['background_utilisation']:g} of the busiest link, "
            f"task mix {summary['task_mix']}, {summary['arrival_rate_per_s']:g} tasks/s"
        )
        for column in (
            "scheduler",
            REFERENCE,
            SUBJECT,
            "ratio",
            "transmission tcp / tcp-queue (ms)",
            "return tcp / tcp-queue (ms)",
            "per-task transmission diff (median, mean |.|)",
            "same site",
        ):
            table.add_column(column, justify="left" if column == "scheduler" else "right")
        for row in summary["rows"]:
            ref, sub = row[REFERENCE], row[SUBJECT]
            table.add_row(
                row["scheduler"],
                f"{ref['mean_response_s'] * 1e3:.1f} ± {ref['ci95_s'] * 1e3:.1f}",
                f"{sub['mean_response_s'] * 1e3:.1f} ± {sub['ci95_s'] * 1e3:.1f}",
                f"{row['ratio']:.3f}",
                f"{ref['mean_transmission_s'] * 1e3:.1f} / {sub['mean_transmission_s'] * 1e3:.1f}",
                f"{ref['mean_return_s'] * 1e3:.2f} / {sub['mean_return_s'] * 1e3:.2f}",
                f"{row['transmission_rel_diff_median']:+.1%}, {row['transmission_rel_diff_mean_abs']:.1%}",
                f"{row['same_site_share']:.0%}",
            )
        console.print(table)
        console.print(
            f"ranking under tcp:       {' < '.join(summary['ranking'][REFERENCE])}\n"
            f"ranking under tcp-queue: {' < '.join(summary['ranking'][SUBJECT])}\n"
            f"ranking changed: {'yes' if summary['ranking_changed'] else 'no'} "
            f"(Kendall tau {summary['kendall_tau']:.2f})"
        )
    if len(regimes) > 1:
        regime_table = Table(title="Where tcp stays close to tcp-queue: per regime, over the schedulers")
        for column in (
            "topology",
            "background",
            "task mix",
            "tasks/s",
            "mean response ratio tcp-queue / tcp (min..max)",
            "max |ratio - 1|",
            "per-task transmission diff, mean |.| (max over schedulers)",
            "Kendall tau",
            "tcp-queue runs over the DropTail limit",
        ):
            regime_table.add_column(column, justify="right")
        for summary in summaries:
            ratios = [row["ratio"] for row in summary["rows"]]
            mine = [
                r
                for r in runs
                if r["topology"] == summary["topology"]
                and r["transport"] == SUBJECT
                and r["regime"]
                == (summary["background_utilisation"], summary["task_mix"], summary["arrival_rate_per_s"])
            ]
            over = [r["max_queue_overflow_bytes"] for r in mine if r["max_queue_overflow_bytes"] > 0]
            regime_table.add_row(
                summary["topology"],
                f"{summary['background_utilisation']:g}",
                summary["task_mix"],
                f"{summary['arrival_rate_per_s']:g}",
                f"{min(ratios):.3f}..{max(ratios):.3f}",
                f"{max(abs(r - 1.0) for r in ratios):.1%}",
                f"{max(row['transmission_rel_diff_mean_abs'] for row in summary['rows']):.1%}",
                f"{summary['kendall_tau']:.2f}",
                f"{len(over)} of {len(mine)}" + (f" (max {max(over) / 1e6:.1f} MB)" if over else ""),
            )
        console.print(regime_table)
        console.print(
            "(a run over the DropTail limit leaves tcp-queue's validated regime: ns-3 would drop packets there, "
            "and tcp-queue models no losses)"
        )
    wall = {t: sum(r["wall_s"] for r in runs if r["transport"] == t) for t in (REFERENCE, SUBJECT)}
    per_run = {t: [r["wall_s"] for r in runs if r["transport"] == t] for t in (REFERENCE, SUBJECT)}
    ratios = [b / a for a, b in zip(per_run[REFERENCE], per_run[SUBJECT], strict=True)]
    console.print(
        f"wall time: tcp {wall[REFERENCE]:.1f} s, tcp-queue {wall[SUBJECT]:.1f} s over {len(ratios)} runs each; "
        f"tcp-queue / tcp per run: median {np.median(ratios):.0f}x (min {min(ratios):.0f}x, max {max(ratios):.0f}x); "
        f"max DropTail overflow {max(r['max_queue_overflow_bytes'] for r in runs):.0f} B; "
        f"total {time.perf_counter() - began:.0f} s"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "settings": {
                    "topologies": topologies,
                    "seeds": seeds,
                    "tasks": args.tasks,
                    "schedulers": schedulers,
                    "regimes": regimes,
                },
                "summaries": summaries,
                "wall_s": wall,
                "wall_ratio_median": float(np.median(ratios)),
                "runs": [{k: v for k, v in r.items() if k not in ("sites",)} for r in runs],
            },
            indent=1,
        )
    )
    console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
