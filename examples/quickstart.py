"""Quickstart: build the paper scenario on Abilene, run two schedulers, compare them.

Run: ``.venv/bin/python examples/quickstart.py``
"""

from __future__ import annotations

from cpnkit.datasets import ScenarioConfig, build_scenario
from cpnkit.schedulers import make
from cpnkit.sim import SimConfig, check_result, simulate


def main(n_tasks: int = 300, seed: int = 0) -> None:
    scenario = build_scenario("abilene", seed=seed, config=ScenarioConfig(n_tasks=n_tasks))
    print(f"{scenario.name}: access points {scenario.access_points}, {len(scenario.sites)} sites")
    for scheduler_id in ("nearest-ecmp", "random"):
        result = simulate(scenario, make(scheduler_id, seed=seed), SimConfig(mode="online"), seed=seed)
        check_result(result, scenario)  # the shared invariants hold on every run
        s = result.summary()
        print(
            f"{scheduler_id:>13}: mean {s['mean_response_s'] * 1e3:7.2f} ms  p95 {s['p95_response_s'] * 1e3:7.2f} ms  "
            f"transmission {s['share_transmission']:.0%}  queue {s['share_queue']:.0%}  "
            f"compute {s['share_compute']:.0%}"
        )


if __name__ == "__main__":
    main()
