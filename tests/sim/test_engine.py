from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from cpnkit.errors import CpnError, DecisionError
from cpnkit.estimate import TransportConfig
from cpnkit.model import Decision, Snapshot, Task
from cpnkit.schedulers import make
from cpnkit.sim import BackgroundTraffic, Scenario, SimConfig, Simulator, check_result, simulate
from cpnkit.sim.testing import line_scenario, line_topology, make_scenario

FLUID = TransportConfig(model="fluid")
EXACT = SimConfig(service_jitter=0.0, check_capacity=True, transport=FLUID)


def test_simulator_idle_line_response_is_closed_form() -> None:
    scenario = line_scenario(n_tasks=1, input_bytes=1.25e6, arch_idx=42)
    result = simulate(scenario, make("nearest-ecmp"), EXACT)
    outcome = result.outcomes[0]
    capacity, hop_delay, hops = 1e9, 1e-3, 2
    compute = scenario.latency_table.column("toy")[42]
    transmission = 1.25e6 * 8 / capacity + hops * hop_delay
    back = 4e3 * 8 / capacity + hops * hop_delay
    assert outcome.transmission_s == pytest.approx(transmission, abs=1e-12)
    assert outcome.queue_s == 0.0
    assert outcome.compute_s == compute
    assert outcome.return_s == pytest.approx(back, abs=1e-12)
    assert abs(outcome.response_s - (transmission + compute + back)) < 1e-9
    check_result(result, scenario)


def test_simulator_two_tasks_share_bottleneck_fairly() -> None:
    topology = line_topology(3)
    tasks = [Task(id=i, arrival_s=0.0, source="a", arch_idx=0, input_bytes=1e6, result_bytes=0) for i in range(2)]
    scenario = make_scenario(topology, ["c"], tasks)
    result = simulate(scenario, make("nearest-ecmp", k_paths=1), EXACT)
    first, second = result.outcomes
    # both drain together at half the capacity each: 2 * 8e6 bits / 1e9 bit/s, then 2 ms propagation
    assert first.transmission_s == pytest.approx(0.016 + 0.002, abs=1e-12)
    assert second.transmission_s == pytest.approx(0.016 + 0.002, abs=1e-12)
    # one device: the second waits for the first's service
    assert sorted([first.queue_s, second.queue_s]) == pytest.approx([0.0, first.compute_s], abs=1e-12)
    check_result(result, scenario)


def test_simulator_isolated_mode_runs_one_task_at_a_time() -> None:
    scenario = line_scenario(n_tasks=5, gap_s=0.0)
    result = simulate(scenario, make("nearest-ecmp"), SimConfig(mode="isolated", service_jitter=0.0))
    spans = sorted((o.arrival_s, o.finish_s) for o in result.outcomes)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end - 1e-12
    assert all(o.queue_s == 0.0 for o in result.outcomes)
    check_result(result, scenario)


def test_simulator_same_seed_same_results_other_seed_differs() -> None:
    scenario = line_scenario(n_tasks=20, gap_s=0.001)
    config = SimConfig(service_jitter=0.05)
    a = simulate(scenario, make("random", seed=1), config, seed=3)
    b = simulate(scenario, make("random", seed=1), config, seed=3)
    c = simulate(scenario, make("random", seed=1), config, seed=4)
    assert a.table() == b.table()
    assert a.table() != c.table()


class _BadSiteScheduler:
    name = "bad-site"

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        path = snapshot.topology.make_path(["a", "b"])
        return Decision(task.id, "b", "b/toy", (path,), (1.0,), scheduler=self.name)


class _RejectingScheduler:
    name = "rejecting"

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        return Decision.reject(task.id, "no capacity left", scheduler=self.name)


def test_simulator_decision_naming_unknown_site_raises_with_fix() -> None:
    with pytest.raises(DecisionError, match=r"site 'b'.*not a compute site.*choose one of"):
        simulate(line_scenario(), _BadSiteScheduler())


def test_simulator_invalid_decision_can_be_recorded_as_rejection() -> None:
    scenario = line_scenario(n_tasks=3)
    result = simulate(scenario, _BadSiteScheduler(), SimConfig(invalid_decision="reject"))
    assert [o.status for o in result.outcomes] == ["rejected"] * 3
    assert all("not a compute site" in o.reason for o in result.outcomes)
    check_result(result, scenario)


def test_simulator_records_rejections_as_outcomes() -> None:
    scenario = line_scenario(n_tasks=4)
    result = simulate(scenario, _RejectingScheduler())
    assert len(result.outcomes) == 4
    assert all(o.status == "rejected" and o.reason == "no capacity left" for o in result.outcomes)
    assert all(math.isnan(o.response_s) for o in result.outcomes)
    assert result.summary()["rejected"] == 4


def test_simulator_runs_once() -> None:
    simulator = Simulator(line_scenario(), make("nearest-ecmp"))
    simulator.run()
    with pytest.raises(CpnError, match="runs once"):
        simulator.run()


def test_simulator_progress_callback_reaches_total() -> None:
    seen: list[tuple[int, int]] = []
    simulate(line_scenario(n_tasks=50, gap_s=0.01), make("nearest-ecmp"), progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (50, 50)
    assert len(seen) > 10


def test_simulator_summary_shares_add_to_one() -> None:
    result = simulate(line_scenario(n_tasks=30, gap_s=0.0005), make("nearest-ecmp"))
    summary = result.summary()
    shares = [summary[f"share_{p}"] for p in ("transmission", "queue", "compute", "return")]
    assert sum(shares) == pytest.approx(1.0)
    assert summary["p50_response_s"] <= summary["p95_response_s"] <= summary["p99_response_s"]


def test_simulator_finishes_flows_at_large_clock_values() -> None:
    # at t ~ 1e6 s a drain time below the float clock's resolution must still end the flow (no livelock)
    topology = line_topology(3, capacity_bps=1e10)
    tasks = [Task(id=i, arrival_s=1e6 + i * 1e-4, source="a", arch_idx=i, input_bytes=1e5 + 7 * i) for i in range(200)]
    scenario = make_scenario(topology, ["b", "c"], tasks)
    result = simulate(scenario, make("random", seed=0), SimConfig(check_capacity=True))
    assert all(o.status == "completed" for o in result.outcomes)
    check_result(result, scenario)


def test_simulator_background_change_slows_a_running_flow() -> None:
    # 1 Gbit/s line, background 0 for the first second, then 50%: 1.5e9 bits drain in 1 s + 1 s.
    topology = line_topology(2)
    task = Task(id=0, arrival_s=0.0, source="a", arch_idx=0, input_bytes=1.5e9 / 8, result_bytes=0)
    base = make_scenario(topology, ["b"], [task])
    load = np.array([[0.0, 0.0], [5e8, 5e8]])
    scenario = Scenario(
        name="bg-step",
        topology=topology,
        sites=base.sites,
        latency_table=base.latency_table,
        tasks=(task,),
        background=BackgroundTraffic(load_bps=load, step_s=1.0),
    )
    outcome = simulate(scenario, make("nearest-ecmp"), EXACT).outcomes[0]
    assert outcome.transmission_s == pytest.approx(2.0 + 1e-3, abs=1e-9)


class _TelemetryRecorder:
    name = "telemetry-recorder"

    def __init__(self) -> None:
        self.inner = make("nearest-ecmp")
        self.seen: list[tuple[float, float, int]] = []

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        report = snapshot.telemetry["c/toy"]
        self.seen.append((snapshot.time_s, report.time_s, report.queue_length))
        probe = snapshot.probe(snapshot.topology.k_shortest_paths(task.source, "c", 1)[0])
        assert probe.one_way_delay_s > 0
        return self.inner.decide(task, snapshot)


def test_simulator_telemetry_is_periodic_and_stale() -> None:
    scenario = line_scenario(n_tasks=400, gap_s=0.0025)  # 400 tasks/s on a 1-2 ms device: a queue builds
    recorder = _TelemetryRecorder()
    simulate(scenario, recorder, SimConfig(telemetry_period_s=0.25))
    assert all(now - 0.25 <= reported <= now for now, reported, _ in recorder.seen)
    assert {reported for _, reported, _ in recorder.seen} == {0.0, 0.25, 0.5, 0.75}
