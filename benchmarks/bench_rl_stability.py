"""One training run of the rlms-cpn stability study (README, "Training stability under tcp").

Trains rlms-cpn on abilene (isolated, the simulator's default ``tcp``; ``cpnkit.bench.train.train`` with its
defaults: 30,000 steps, validation on scenarios 500-501 every 2,500 steps) and evaluates, as
``bench_rl_sensitivity.py`` does, the greedy policy on abilene scenarios 0-4 (50 tasks each, disjoint from the
training and validation seeds): the final policy and the best validation's. Writes the curve (with the update
diagnostics: node/split entropy, largest node probability, TD error, gradient norms before clipping) as JSON.

``--legacy-split-gradient`` drops the drawn split from exploring actions, so the update takes the split agent's
log-density at the executed (pruned) split as the code did before the fix.

Run: ``python benchmarks/bench_rl_stability.py NAME SEED [--steps N] [--hyper JSON] [--legacy-split-gradient]``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="label of the setting (the output file is results/stab/NAME_sSEED.json)")
    parser.add_argument("seed", type=int, help="training seed")
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--hyper", default="{}", help="ActorCriticHyper fields as JSON, e.g. '{\"split_lr\": 3e-4}'")
    parser.add_argument("--legacy-split-gradient", action="store_true", help="learn at the executed split")
    parser.add_argument("--out", type=Path, default=Path("results/stab"))
    args = parser.parse_args()

    import torch

    from cpnkit.bench.train import TrainConfig, evaluate, train
    from cpnkit.datasets import ScenarioConfig, build_scenario
    from cpnkit.schedulers.learned import agent_from_state
    from cpnkit.schedulers.learned.agents import ActorCriticAgent

    torch.set_num_threads(1)
    if args.legacy_split_gradient:
        act = ActorCriticAgent.act

        def legacy_act(self: ActorCriticAgent, obs: Any, *, explore: bool, rng: Any) -> Any:
            action = act(self, obs, explore=explore, rng=rng)
            action.pop("sample", None)
            return action

        ActorCriticAgent.act = legacy_act  # type: ignore[method-assign]
    hyper = json.loads(args.hyper)
    config = TrainConfig("rlms-cpn", ("abilene",), steps=args.steps, seed=args.seed, hyper=hyper)
    eval_sc = [build_scenario("abilene", seed=s, config=ScenarioConfig(n_tasks=50)) for s in (0, 1, 2, 3, 4)]
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = train(config)
    wall_s = time.perf_counter() - started
    final_ms = evaluate(result.agent, eval_sc, sim_config=config.sim_config)[0] * 1e3
    best_ms = evaluate(agent_from_state(result.best_state), eval_sc, sim_config=config.sim_config)[0] * 1e3
    out = {
        "name": args.name,
        "seed": args.seed,
        "hyper": hyper,
        "legacy_split_gradient": args.legacy_split_gradient,
        "wall_s": wall_s,
        "final_eval_ms": final_ms,
        "best_eval_ms": best_ms,
        "best_val_ms": result.best_row["eval_response_s"] * 1e3,
        "best_step": result.best_row["step"],
        "final_val_ms": result.curve[-1]["eval_response_s"] * 1e3,
        "curve": result.curve,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}_s{args.seed}.json").write_text(json.dumps(out))
    print(
        f"{args.name} seed {args.seed}: final {final_ms:.1f} ms, best validation's policy {best_ms:.1f} ms on "
        f"scenarios 0-4; validation final / best {out['final_val_ms']:.1f} / {out['best_val_ms']:.1f} ms (best at "
        f"step {out['best_step']:.0f}; {wall_s:.0f} s)"
    )


if __name__ == "__main__":
    main()
