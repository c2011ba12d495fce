"""Train a bundled policy of a learned scheduler (rlms-cpn, rlms-mlp, gnn-dqn) and write it (.json + .npz).

    python benchmarks/train_rl.py --scheduler rlms-cpn --topology abilene --steps 30000 --seed 0 \
        --out src/cpnkit/datasets/data/models/rlms/rlms-cpn/abilene

Several ``--topology`` train one policy on all of them (the ``general`` fallback). Training scenarios are
``build_scenario(topology, seed=1000 + i)`` (``--scenarios`` per topology, ``--scenario-tasks`` tasks each); the
greedy policy is evaluated every ``--eval-every`` transitions on the validation seeds (500, 501; 100 tasks,
isolated) and the weights with the best validation mean are kept (the recorded history shows every point).
The JSON records the exact command, seed, steps, wall-clock and the evaluation.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import torch

from cpnkit.bench.paper import provenance
from cpnkit.bench.rl import evaluate, train, training_scenarios, validation_scenarios
from cpnkit.datasets.policies import load_policy, write_policy
from cpnkit.schedulers.learned import make_agent


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scheduler", required=True, choices=("rlms-cpn", "rlms-mlp", "gnn-dqn"))
    ap.add_argument("--topology", action="append", required=True)
    ap.add_argument("--steps", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scenarios", type=int, default=4)
    ap.add_argument("--scenario-tasks", type=int, default=500)
    ap.add_argument("--episode-tasks", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=2_500)
    ap.add_argument("--mode", default="isolated", choices=("isolated", "online"))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="hyper-parameter")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, help="output stem (writes STEM.json and STEM.npz)")
    ap.add_argument("--json", type=Path, help="also write the training log here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    hyper = {k: _value(v) for k, v in (item.split("=", 1) for item in args.set)}
    start = time.perf_counter()
    train_sc = training_scenarios(args.topology, args.scenarios, args.scenario_tasks)
    valid_sc = validation_scenarios(args.topology)
    agent = make_agent(args.scheduler, 5, 3, seed=args.seed, **hyper)
    best: dict[str, Any] = {"eval_mean_response_s": math.inf}
    best_state: dict[str, Any] | None = None

    def progress(row: dict[str, Any]) -> None:
        nonlocal best, best_state
        print(json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
        if row["eval_mean_response_s"] < best["eval_mean_response_s"]:
            best, best_state = dict(row), copy.deepcopy(agent.state())

    log = train(
        agent,
        train_sc,
        steps=args.steps,
        seed=args.seed,
        mode=args.mode,
        episode_tasks=args.episode_tasks,
        validation=valid_sc,
        eval_every=args.eval_every,
        progress=progress,
    )
    wall = time.perf_counter() - start
    if best_state is not None:
        agent.load_state(best_state)
    final = log.history[-1]["eval_mean_response_s"]
    record = {
        "command": "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv or sys.argv[1:])]),
        "scheduler": args.scheduler,
        "topologies": args.topology,
        "seed": args.seed,
        "steps": log.steps,
        "episodes": log.episodes,
        "mode": args.mode,
        "hyper": hyper,
        "wall_s": round(wall, 2),
        "torch_threads": args.threads,
        "kept": {"steps": best.get("steps"), "eval_mean_response_s": best["eval_mean_response_s"]},
        "final_eval_mean_response_s": final,
        "validation": "greedy policy, isolated, 100 tasks, scenario seeds 500 and 501, simulator seeds 0 and 1",
        "history": [{k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()} for row in log.history],
        "code": provenance(),
    }
    if args.out is not None:
        write_policy(agent, args.out, record)
        # the file holds float16 weights: evaluate what ships, then record it
        record["shipped_eval_mean_response_s"] = evaluate(load_policy(args.out), valid_sc, mode=args.mode)
        write_policy(agent, args.out, record)
        print(f"wrote {args.out}.json / .npz", flush=True)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=1) + "\n")
    print(
        f"{args.scheduler} on {','.join(args.topology)}: kept eval {best['eval_mean_response_s'] * 1e3:.2f} ms at "
        f"step {best.get('steps')}; final {final * 1e3:.2f} ms; {log.steps} steps in {wall:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
