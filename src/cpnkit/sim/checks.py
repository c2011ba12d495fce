"""Conformance check for schedulers: ``check_scheduler`` runs one on small scenarios and checks every decision."""

from __future__ import annotations

import math

from cpnkit.errors import InvariantError
from cpnkit.model import Link, Task, Topology
from cpnkit.schedulers import Scheduler
from cpnkit.sim.engine import Simulator
from cpnkit.sim.invariants import check_result
from cpnkit.sim.scenario import SimConfig
from cpnkit.sim.testing import make_scenario

__all__ = ["check_scheduler"]


def _diamond() -> Topology:
    links = []
    for u, v, cap in (("s", "x", 1e9), ("s", "y", 5e8), ("x", "t", 1e9), ("y", "t", 5e8), ("x", "y", 1e9)):
        links += [Link(u, v, cap, 2e-3), Link(v, u, cap, 2e-3)]
    return Topology.from_links("diamond4", links)


def check_scheduler(scheduler: Scheduler, n_tasks: int = 30, seed: int = 0) -> None:
    """Run ``scheduler`` on a small diamond scenario in both modes and check every invariant.

    Raises:
        InvariantError: a decision or the run broke an invariant.
    """
    if not getattr(scheduler, "name", ""):
        raise InvariantError(f"scheduler {scheduler!r} has no name")
    topology = _diamond()
    tasks = [
        Task(
            id=i,
            arrival_s=i * 0.004,
            source="s" if i % 3 else "x",
            arch_idx=(i * 997) % 15625,
            input_bytes=2e5 * (1 + i % 5),
            splittable=i % 4 != 0,
            latency_bound_s=math.inf,
        )
        for i in range(n_tasks)
    ]
    scenario = make_scenario(topology, ["t", "y"], tasks, models=("fast", "slow"), name="check-diamond4")
    for mode in ("online", "isolated"):
        config = SimConfig(mode=mode, check_capacity=True, invalid_decision="raise")
        result = Simulator(scenario, scheduler, config, seed=seed).run()
        check_result(result, scenario)
