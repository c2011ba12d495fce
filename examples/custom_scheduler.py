"""Write your own scheduler: least-queued site among the 3 nearest, data split by path bottleneck capacity.

A scheduler is any object with a ``name`` and ``decide(task, snapshot) -> Decision``. It sees only the Snapshot:
the topology, the site inventory, compute telemetry (up to one period stale) and on-demand path probes.
Register it to make it available by id everywhere (CLI, benchmarks), and run the conformance check.

Run: ``.venv/bin/python examples/custom_scheduler.py``
"""

from __future__ import annotations

from cpnkit.datasets import ScenarioConfig, build_scenario
from cpnkit.model import Decision, Snapshot, Task
from cpnkit.schedulers import SchedulerRegistry, make
from cpnkit.sim import SimConfig, check_result, check_scheduler, simulate


class LeastQueuedNearScheduler:
    """Among the 3 sites with the fewest hops, the one with the shortest reported queue; split by probed bandwidth."""

    name = "least-queued-near"

    def __init__(self, n_near: int = 3, k_paths: int = 2, seed: int | None = None) -> None:
        self.n_near = n_near
        self.k_paths = k_paths

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        hops = snapshot.topology.hop_distances(task.source)
        near = sorted((hops[s], s) for s in snapshot.sites if s != task.source and s in hops)[: self.n_near]

        def queue(site: str) -> int:
            return min(snapshot.telemetry[d.id].queue_length for d in snapshot.sites[site].devices)

        scores = {site: float(queue(site)) for _, site in near}
        site = min(scores, key=lambda s: (scores[s], s))
        device = min(snapshot.sites[site].devices, key=lambda d: snapshot.telemetry[d.id].queue_length)
        paths = snapshot.topology.k_shortest_paths(task.source, site, self.k_paths if task.splittable else 1)
        bandwidth = [max(snapshot.probe(p).available_bps, 1.0) for p in paths]
        split = tuple(b / sum(bandwidth) for b in bandwidth)
        return Decision(task.id, site, device.id, paths, split, scheduler=self.name, scores=scores)


def main() -> None:
    registry = SchedulerRegistry()  # or cpnkit.schedulers.registry, or the "cpnkit.schedulers" entry-point group
    registry.register("least-queued-near", LeastQueuedNearScheduler, "least queue among the nearest sites")
    mine = registry.make("least-queued-near")
    check_scheduler(mine)  # the conformance check every registered scheduler passes

    scenario = build_scenario("abilene", seed=0, config=ScenarioConfig(n_tasks=300, arrival_rate_per_s=150.0))
    for scheduler in (mine, make("nearest-ecmp")):
        result = simulate(scenario, scheduler, SimConfig(), seed=0)
        check_result(result, scenario)
        s = result.summary()
        print(
            f"{scheduler.name:>18}: mean {s['mean_response_s'] * 1e3:7.2f} ms  p95 {s['p95_response_s'] * 1e3:7.2f} ms"
        )


if __name__ == "__main__":
    main()
