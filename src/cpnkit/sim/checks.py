"""Conformance check for schedulers: ``check_scheduler`` runs one on small scenarios and checks every decision."""

from __future__ import annotations

import math

from cpnkit.errors import InvariantError
from cpnkit.model import Decision, Link, Snapshot, Task, Topology
from cpnkit.schedulers import Scheduler
from cpnkit.sim.engine import Simulator
from cpnkit.sim.invariants import check_result
from cpnkit.sim.result import SimResult
from cpnkit.sim.scenario import Scenario, SimConfig
from cpnkit.sim.testing import make_scenario, toy_energy_model

__all__ = ["check_scheduler"]


def _diamond() -> Topology:
    links = []
    for u, v, cap in (("s", "x", 1e9), ("s", "y", 5e8), ("x", "t", 1e9), ("y", "t", 5e8), ("x", "y", 1e9)):
        links += [Link(u, v, cap, 2e-3), Link(v, u, cap, 2e-3)]
    return Topology.from_links("diamond4", links)


class _Checked:
    """Proxies a scheduler and checks that each decision picks one of its own filtered candidates."""

    def __init__(self, inner: Scheduler) -> None:
        self.inner = inner
        self.name = inner.name
        self.privileged = bool(getattr(inner, "privileged", False))

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        decision = self.inner.decide(task, snapshot)
        candidates = getattr(self.inner, "candidates", None)
        if candidates is not None and not decision.is_rejection:
            allowed = {c.device.id for c in candidates(task, snapshot)}
            if decision.device not in allowed:
                raise InvariantError(
                    f"{self.name}: task {task.id} went to device {decision.device!r}, outside its filtered "
                    f"candidates {sorted(allowed)}"
                )
        return decision


def check_scheduler(scheduler: Scheduler, n_tasks: int = 30, seed: int = 0, twin: Scheduler | None = None) -> None:
    """Run ``scheduler`` on a small diamond scenario in both modes and check every invariant.

    Checks every decision (valid site, device and paths, splits >= 0 summing to 1, the site among the scheduler's
    filtered candidates when it exposes ``candidates(task, snapshot)``, a start within the task's deferral window)
    and every run invariant. With ``twin`` — a second instance built with the same seed — the two must decide
    identically (determinism per seed). The scenario carries energy signals (two regions whose carbon intensity
    alternates every 20 ms) and every fifth task may be deferred by up to 50 ms.

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
            deferrable_window_s=0.05 if i % 5 == 0 else 0.0,
        )
        for i in range(n_tasks)
    ]
    energy = toy_energy_model(("fast", "slow"), carbon={"A": [300.0, 50.0, 200.0], "B": [100.0, 250.0]}, step_s=0.02)
    scenario = make_scenario(
        topology, ["t", "y"], tasks, models=("fast", "slow"), name="check-diamond4", regions=("A", "B"), energy=energy
    )
    for mode in ("online", "isolated"):
        config = SimConfig(mode=mode, check_capacity=True, invalid_decision="raise")
        result = Simulator(scenario, _Checked(scheduler), config, seed=seed).run()
        check_result(result, scenario)
        _check_starts(result, scenario)
        if twin is not None:
            again = Simulator(scenario, twin, config, seed=seed).run()
            if again.decisions != result.decisions:
                first = (
                    next((a, b) for a, b in zip(result.decisions, again.decisions, strict=False) if a != b)
                    if len(again.decisions) == len(result.decisions)
                    else (len(result.decisions), len(again.decisions))
                )
                raise InvariantError(
                    f"{scheduler.name}: two instances with the same seed decided differently ({mode}): {first}"
                )


def _check_starts(result: SimResult, scenario: Scenario) -> None:
    tasks = {t.id: t for t in scenario.tasks}
    for o in result.outcomes:
        task = tasks[o.task_id]
        if o.status == "completed" and o.deferred_s > 0 and o.arrival_s > task.arrival_s + task.deferrable_window_s:
            raise InvariantError(
                f"task {o.task_id} started at {o.arrival_s} s, after its window ends at "
                f"{task.arrival_s + task.deferrable_window_s} s"
            )
