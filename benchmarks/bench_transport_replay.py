"""How far is the simulator's ``tcp`` transport from ``tcp-queue`` (and ``fluid``) on the paper scenario? (issue 7)

Open-loop replay: run the simulator (default ``tcp`` transport, online mode, the paper scenario
``build_scenario(topology, seed, ScenarioConfig(n_tasks=N))`` with its 50% busiest-link background) with a few
schedulers, record every flow it puts into its network (``Simulator(..., flow_log=FlowLog())``: input subflows and
result return flows, start time, links, payload) and the background, then play exactly those flows under

- ``tcp``: the simulator's own ``FlowNetwork`` again (must reproduce the run's transfer times: the recorder's check),
- ``fluid``: the same network with the fluid transport,
- ``tcp-queue``: the window-and-queue fluid CUBIC/HyStart model (``replay_fluid_tcp``; background as
  piecewise-constant arrivals per link and background step),

and compare per-task transfer completion (the task's input: max over its subflows, = the simulator's
``transmission_s``) and per-subflow completion: median / p90 / max |relative difference| and the signed median of
``tcp`` vs ``tcp-queue`` and ``fluid`` vs ``tcp-queue`` by size class, and the ranking of the schedulers by mean
transfer time under each model. Return flows (4 KB results) are replayed as cross traffic and not compared.

Run: ``python benchmarks/bench_transport_replay.py [--quick] [--seeds 0 1 2] [--tasks 300] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from cpnkit.datasets import ScenarioConfig, build_scenario
from cpnkit.estimate import TransportConfig
from cpnkit.schedulers import make
from cpnkit.sim import SimConfig, Simulator
from cpnkit.sim.replay import FlowLog, replay_event_driven, replay_fluid_tcp

console = Console(width=150)
SIZE_CLASSES = (("<= 300 KB", 0.0, 300e3), ("<= 3 MB", 300e3, 3e6), ("> 3 MB", 3e6, math.inf))
MODELS = ("tcp", "fluid", "tcp-queue")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topologies", nargs="+", default=["abilene", "ebone"])
    parser.add_argument("--schedulers", nargs="+", default=["nearest-ecmp", "base3", "waterfill"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="abilene, seed 0, 60 tasks")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.topologies, args.seeds, args.tasks = ["abilene"], [0], 60

    runs: list[dict[str, Any]] = []
    for topology in args.topologies:
        for seed in args.seeds:
            scenario = build_scenario(topology, seed=seed, config=ScenarioConfig(n_tasks=args.tasks))
            for scheduler in args.schedulers:
                runs.append(_run(scenario, topology, scheduler, seed))
                r = runs[-1]
                console.print(
                    f"{topology} seed {seed} {scheduler}: {r['n_tasks']} tasks, {r['n_flows']} flows; replay under tcp "
                    f"max |diff| vs the run {r['replay_check_max_rel']:.2e}; tcp-queue {r['tcp_queue_s']:.1f} s "
                    f"({r['tcp_queue']['groups']} groups, largest {r['tcp_queue']['largest_group']} flows)"
                )
    report = {"config": vars(args) | {"json": str(args.json)}, "runs": runs, "summary": _summarise(runs, args)}
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
        console.print(f"wrote {args.json}")


def _run(scenario: Any, topology: str, scheduler: str, seed: int) -> dict[str, Any]:
    log = FlowLog()
    result = Simulator(scenario, make(scheduler, seed=seed), SimConfig(), seed=seed, flow_log=log).run()
    sizes = {task.id: task.input_bytes for task in scenario.tasks}
    completion: dict[str, list[float]] = {}
    timing: dict[str, float] = {}
    for model in ("tcp", "fluid"):
        began = time.perf_counter()
        completion[model] = replay_event_driven(log, TransportConfig(model=model))
        timing[model] = time.perf_counter() - began
    began = time.perf_counter()
    queue = replay_fluid_tcp(log, scenario.topology, initial_s=completion["tcp"])
    timing["tcp-queue"] = time.perf_counter() - began
    completion["tcp-queue"] = list(queue.completion_s)
    # the recorder's check: the tcp replay against the run (per flow, and per task against its outcome)
    check = max(_rel(a, b) for a, b in zip(completion["tcp"], log.completion_s, strict=True))
    inputs = [i for i, f in enumerate(log.flows) if not f.is_return]
    task_flows: dict[int, list[int]] = {}
    for i in inputs:
        task_flows.setdefault(log.flows[i].task_id, []).append(i)
    outcomes = {o.task_id: o for o in result.completed()}
    task_check = max(
        _rel(max(completion["tcp"][i] for i in idx), outcomes[tid].transmission_s) for tid, idx in task_flows.items()
    )
    tasks = {
        model: {tid: max(completion[model][i] for i in idx) for tid, idx in task_flows.items()} for model in MODELS
    }
    return {
        "topology": topology,
        "seed": seed,
        "scheduler": scheduler,
        "n_tasks": len(outcomes),
        "n_flows": len(log.flows),
        "n_subflows": len(inputs),
        "replay_check_max_rel": check,
        "replay_check_task_max_rel": task_check,
        "sim_mean_transmission_s": statistics.fmean(o.transmission_s for o in outcomes.values()),
        "tcp_queue_s": timing["tcp-queue"],
        "replay_s": timing,
        "tcp_queue": {
            "groups": queue.groups,
            "largest_group": queue.largest_group,
            "iterations": queue.iterations,
            "simulations": queue.simulations,
            "steps": queue.steps,
            "dt_s": queue.dt_s,
            "max_overflow_bytes": queue.max_overflow_bytes,
        },
        "task_bytes": {str(t): sizes[t] for t in task_flows},
        "task_s": {m: {str(t): v for t, v in d.items()} for m, d in tasks.items()},
        "subflow_bytes": [log.flows[i].payload_bytes for i in inputs],
        "subflow_s": {m: [completion[m][i] for i in inputs] for m in MODELS},
    }


def _rel(a: float, b: float) -> float:
    return abs(a - b) / b if b > 0 else (0.0 if a == b else math.inf)


def _stats(x: list[float], ref: list[float]) -> dict[str, float]:
    d = np.array([(a - b) / b for a, b in zip(x, ref, strict=True)])
    if not len(d):
        return {"n": 0}
    a = np.abs(d)
    return {
        "n": len(d),
        "median_abs": float(np.median(a)),
        "p90_abs": float(np.percentile(a, 90)),
        "max_abs": float(a.max()),
        "median_signed": float(np.median(d)),
        "share_over_10pct": float(np.mean(a > 0.10)),
        "share_over_25pct": float(np.mean(a > 0.25)),
    }


def _summarise(runs: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    summary: dict[str, Any] = {"comparisons": {}, "ranking": {}}
    for level in ("task", "subflow"):
        table = Table(title=f"per-{level} completion vs tcp-queue: |relative difference| and signed median")
        for column in ("topology", "model", "size", "n", "median", "p90", "max", "signed median", "> 10%", "> 25%"):
            table.add_column(column)
        for topology in args.topologies:
            for model in ("tcp", "fluid"):
                for name, lo, hi in (*SIZE_CLASSES, ("all", -1.0, math.inf)):
                    xs, refs = [], []
                    for run in (r for r in runs if r["topology"] == topology):
                        if level == "task":
                            pairs = [
                                (run["task_s"][model][t], run["task_s"]["tcp-queue"][t], b)
                                for t, b in run["task_bytes"].items()
                            ]
                        else:
                            pairs = list(
                                zip(
                                    run["subflow_s"][model],
                                    run["subflow_s"]["tcp-queue"],
                                    run["subflow_bytes"],
                                    strict=True,
                                )
                            )
                        for x, ref, size in pairs:
                            if lo < size <= hi:
                                xs.append(x)
                                refs.append(ref)
                    s = _stats(xs, refs)
                    summary["comparisons"][f"{level}/{topology}/{model}/{name}"] = s
                    if s["n"]:
                        table.add_row(
                            topology,
                            model,
                            name,
                            str(s["n"]),
                            *(f"{s[k]:.1%}" for k in ("median_abs", "p90_abs", "max_abs")),
                            f"{s['median_signed']:+.1%}",
                            f"{s['share_over_10pct']:.1%}",
                            f"{s['share_over_25pct']:.1%}",
                        )
        console.print(table)
    table = Table(title="mean task transfer time (ms) by scheduler, mean over seeds; ranking best first")
    table.add_column("topology")
    for model in MODELS:
        table.add_column(model)
    table.add_column("same ranking")
    for topology in args.topologies:
        means: dict[str, dict[str, float]] = {}
        for model in MODELS:
            means[model] = {
                s: statistics.fmean(
                    statistics.fmean(r["task_s"][model].values())
                    for r in runs
                    if r["topology"] == topology and r["scheduler"] == s
                )
                for s in args.schedulers
            }
        order = {m: sorted(args.schedulers, key=means[m].__getitem__) for m in MODELS}
        summary["ranking"][topology] = {"mean_s": means, "order": order}
        cells = [" < ".join(f"{s} {means[m][s] * 1e3:.1f}" for s in order[m]) for m in MODELS]
        same = (
            "yes"
            if order["tcp"] == order["tcp-queue"] == order["fluid"]
            else ("tcp = tcp-queue" if order["tcp"] == order["tcp-queue"] else "no")
        )
        table.add_row(topology, *cells, same)
    console.print(table)
    checks = [r["replay_check_max_rel"] for r in runs] + [r["replay_check_task_max_rel"] for r in runs]
    total_q = sum(r["tcp_queue_s"] for r in runs)
    flows = sum(r["n_flows"] for r in runs)
    console.print(
        f"replay under tcp vs the simulator: max |relative difference| {max(checks):.2e} over {len(runs)} runs; "
        f"tcp-queue replay {total_q:.1f} s for {flows} flows ({total_q / max(flows, 1) * 1e3:.1f} ms per flow); "
        f"max DropTail overflow {max(r['tcp_queue']['max_overflow_bytes'] for r in runs):.0f} B"
    )
    summary["replay_check_max_rel"] = max(checks)
    summary["tcp_queue_total_s"] = total_q
    return summary


if __name__ == "__main__":
    main()
