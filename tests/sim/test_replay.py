"""Open-loop replay of a simulator run (``cpnkit.sim.replay``): the recorder is faithful and free when off."""

from __future__ import annotations

import math

import pytest

from cpnkit.datasets import ScenarioConfig, build_scenario
from cpnkit.estimate import TransportConfig
from cpnkit.schedulers import make
from cpnkit.sim import SimConfig, Simulator
from cpnkit.sim.fluid_tcp import simulate_fluid_tcp
from cpnkit.sim.replay import FlowLog, replay_event_driven, replay_fluid_tcp
from cpnkit.sim.replay import _background as piecewise_background
from cpnkit.sim.replay import _fluid_flow as fluid_flow


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    # the paper scenario (50% busiest-link background), small
    return build_scenario("abilene", seed=1, config=ScenarioConfig(n_tasks=40))


@pytest.mark.parametrize(("scheduler", "model"), [("waterfill", "tcp"), ("base3", "tcp"), ("nearest-ecmp", "fluid")])
def test_replay_reproduces_the_simulators_transfer_times(scenario, scheduler: str, model: str) -> None:  # type: ignore[no-untyped-def]
    config = SimConfig(transport=TransportConfig(model=model))  # type: ignore[arg-type]
    log = FlowLog()
    result = Simulator(scenario, make(scheduler, seed=1), config, seed=1, flow_log=log).run()
    plain = Simulator(scenario, make(scheduler, seed=1), config, seed=1).run()
    assert result.outcomes == plain.outcomes  # recording changes nothing
    inputs = [f for f in log.flows if not f.is_return]
    assert len(inputs) >= len(scenario.tasks)
    assert sum(f.is_return for f in log.flows) == len(scenario.tasks)
    assert not any(math.isnan(c) for c in log.completion_s)
    replayed = replay_event_driven(log, config.transport)
    assert replayed == pytest.approx(log.completion_s, rel=1e-9)
    by_task: dict[int, float] = {}
    for flow, done in zip(log.flows, replayed, strict=True):
        if not flow.is_return:
            by_task[flow.task_id] = max(by_task.get(flow.task_id, 0.0), done)
    for outcome in result.outcomes:
        assert by_task[outcome.task_id] == pytest.approx(outcome.transmission_s, rel=1e-9)
    # the other transport gives other times (the replay does not just echo the log)
    other = TransportConfig(model="fluid" if model == "tcp" else "tcp")
    assert max(abs(a - b) / b for a, b in zip(replay_event_driven(log, other), log.completion_s, strict=True)) > 0.1


def test_fluid_tcp_groups_equal_one_run_over_all_flows() -> None:
    small = build_scenario("abilene", seed=1, config=ScenarioConfig(n_tasks=8))
    log = FlowLog()
    Simulator(small, make("waterfill", seed=1), SimConfig(), seed=1, flow_log=log).run()
    grouped = replay_fluid_tcp(log, small.topology, initial_s=replay_event_driven(log, TransportConfig()))
    assert grouped.groups > 1
    assert grouped.largest_group < len(log.flows)
    flows = [fluid_flow(small.topology, f) for f in log.flows]
    used = sorted({link for f in log.flows for link in f.links})
    start = min(f.start_s for f in log.flows)
    background = piecewise_background(log.background_steps(), used, small.topology.links, start, start + 1e3)
    whole = simulate_fluid_tcp(log.capacity_bps, flows, background, dt_s=grouped.dt_s)
    # the same flows in one run: equal up to where each group's time grid starts (within a step per flow)
    for a, b in zip(grouped.completion_s, whole.completion_s, strict=True):
        assert a == pytest.approx(b, rel=0.03, abs=2 * grouped.dt_s)
