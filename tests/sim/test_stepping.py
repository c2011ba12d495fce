"""The stepping API (start / next_decision / apply / finish) and the in-system integral."""

from __future__ import annotations

import math

import pytest

from cpnkit.datasets import ScenarioConfig, build_scenario
from cpnkit.errors import CpnError, DecisionError, InfeasibleError
from cpnkit.model import Decision, Snapshot, Task
from cpnkit.schedulers import make, registry
from cpnkit.sim import Scenario, SimConfig, SimResult, Simulator, check_result
from cpnkit.sim.testing import line_scenario


@pytest.fixture(scope="module")
def abilene() -> Scenario:
    # a busy workload so tasks contend (queues, shared links) in online mode
    return build_scenario("abilene", seed=1, config=ScenarioConfig(n_tasks=60, arrival_rate_per_s=300.0))


def _stepped(scenario: Scenario, scheduler_id: str, config: SimConfig, seed: int) -> tuple[SimResult, Simulator]:
    """``Simulator.run`` with the scheduler called from outside the simulator instead."""
    decider = make(scheduler_id, seed=seed)
    sim = Simulator(scenario, decider, config, seed=seed + 1)  # the simulator sees it only for `privileged`
    sim.start()
    while (pending := sim.next_decision()) is not None:
        try:
            decision = decider.decide(*pending)
        except InfeasibleError as exc:  # what run() does with it
            decision = Decision.reject(pending[0].id, f"infeasible: {exc}", decider.name)
        sim.apply(decision)
    return sim.finish(), sim


@pytest.mark.parametrize("mode", ["online", "isolated"])
def test_stepping_loop_matches_run_bit_for_bit_for_every_scheduler(abilene: Scenario, mode: str) -> None:
    config = SimConfig(mode=mode)  # type: ignore[arg-type]
    for sid in registry.ids():
        expected = Simulator(abilene, make(sid, seed=2), config, seed=3).run()
        got, _ = _stepped(abilene, sid, config, seed=2)
        assert got.table() == expected.table(), sid
        assert got.decisions == expected.decisions, sid
        assert got.stats == expected.stats, sid


@pytest.mark.parametrize("mode", ["online", "isolated"])
def test_in_system_integral_is_total_response_time(abilene: Scenario, mode: str) -> None:
    result, sim = _stepped(abilene, "waterfill", SimConfig(mode=mode), seed=0)  # type: ignore[arg-type]
    check_result(result, abilene)
    total = math.fsum(o.response_s for o in result.outcomes if o.status == "completed")
    assert sim.in_system_integral_s == pytest.approx(total, rel=1e-12)
    assert sim.now_s == max(o.finish_s for o in result.outcomes)


def test_in_system_integral_grows_between_decisions_and_counts_rejections_as_zero() -> None:
    scenario = line_scenario(n_tasks=4, gap_s=0.0)
    sim = Simulator(scenario, make("nearest-ecmp"), SimConfig(service_jitter=0.0))
    decider = make("nearest-ecmp")
    sim.start()
    seen = []
    while (pending := sim.next_decision()) is not None:
        task, snapshot = pending
        assert sim.next_decision() == pending  # asking twice gives the same task
        seen.append(sim.in_system_integral_s)
        sim.apply(Decision.reject(task.id, "test") if task.id == 1 else decider.decide(task, snapshot))
    result = sim.finish()
    assert [o.status for o in sorted(result.outcomes, key=lambda o: o.task_id)] == [
        "completed",
        "rejected",
        "completed",
        "completed",
    ]
    assert seen == [0.0, 0.0, 0.0, 0.0]  # all four arrive at t = 0
    completed = [o.response_s for o in result.outcomes if o.status == "completed"]
    assert sim.in_system_integral_s == pytest.approx(math.fsum(completed), rel=1e-12)
    assert len(sim.outcomes) == 4


def test_stepping_misuse_raises_with_the_fix() -> None:
    sim = Simulator(line_scenario(n_tasks=2), make("nearest-ecmp"))
    with pytest.raises(CpnError, match=r"call start\(\)"):
        sim.next_decision()
    sim.start()
    with pytest.raises(CpnError, match="runs once"):
        sim.start()
    with pytest.raises(CpnError, match=r"no task is waiting.*next_decision\(\) first"):
        sim.apply(Decision.reject(0, "x"))
    pending = sim.next_decision()
    assert pending is not None
    with pytest.raises(CpnError, match=r"task 0 still needs a decision"):
        sim.finish()
    with pytest.raises(CpnError, match="runs once"):
        sim.run()


class _BadSite:
    name = "bad-site"

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        path = snapshot.topology.make_path(["a", "b"])
        return Decision(task.id, "b", "b/toy", (path,), (1.0,), scheduler=self.name)


def test_apply_validates_like_run() -> None:
    bad = _BadSite()
    sim = Simulator(line_scenario(n_tasks=2), bad)
    sim.start()
    pending = sim.next_decision()
    assert pending is not None
    with pytest.raises(DecisionError, match="not a compute site"):
        sim.apply(bad.decide(*pending))

    sim = Simulator(line_scenario(n_tasks=2), bad, SimConfig(invalid_decision="reject"))
    sim.start()
    while (pending := sim.next_decision()) is not None:
        sim.apply(bad.decide(*pending))
    assert [o.status for o in sim.finish().outcomes] == ["rejected", "rejected"]
    assert sim.in_system_integral_s == 0.0
