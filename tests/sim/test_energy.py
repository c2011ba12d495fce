from __future__ import annotations

import math

import pytest

from cpnkit.errors import DecisionError, UnknownDeviceError, UnknownNameError
from cpnkit.model import Decision, Link, Snapshot, Task, Topology
from cpnkit.schedulers import make
from cpnkit.sim import SimConfig, Simulator, check_result
from cpnkit.sim.testing import line_topology, make_scenario, toy_energy_model

EXACT = SimConfig(service_jitter=0.0)


def _tasks(n: int, gap_s: float = 0.5, **kw: float) -> list[Task]:
    return [Task(i, i * gap_s, "a", (i * 37) % 15625, 2e5, **kw) for i in range(n)]  # type: ignore[arg-type]


def test_energy_is_conserved_tasks_plus_idle_equal_metered_total() -> None:
    energy = toy_energy_model(
        carbon={"R": [300.0, 100.0, 200.0]}, step_s=1.0, solar={"R": [0.0, 0.5, 1.0]}, pv_capacity_w={"c": 40.0}
    )
    scenario = make_scenario(line_topology(3), ["c"], _tasks(20, 0.3), regions=("R",), energy=energy)
    result = Simulator(scenario, make("waterfill"), SimConfig()).run()
    check_result(result, scenario)
    report = result.energy
    assert report is not None
    tasks_j = math.fsum(o.energy_j for o in result.outcomes)
    assert tasks_j + report.idle_j == pytest.approx(report.total_j, rel=1e-12)
    assert math.fsum(report.energy_j_per_bin) == pytest.approx(report.total_j, rel=1e-12)
    # idle in closed form: 10 W x PUE 1.5 over the run
    assert report.idle_j == pytest.approx(10.0 * 1.5 * report.end_s, rel=1e-12)
    # dynamic energy: 100 W above idle x PUE x service time
    done = result.outcomes
    assert report.sites[0].dynamic_j == pytest.approx(math.fsum(100.0 * 1.5 * o.compute_s for o in done), rel=1e-9)
    assert all(o.carbon_g >= 0 and o.cost >= 0 for o in done)
    summary = result.summary()
    assert summary["energy_j"] == pytest.approx(report.total_j)


def test_no_grid_carbon_while_pv_covers_the_site_load() -> None:
    # PV far above the site's peak (10 W idle + 100 W busy, x 1.5) the whole time; no network energy
    energy = toy_energy_model(carbon={"R": [400.0]}, solar={"R": [1.0]}, pv_capacity_w={"c": 1000.0})
    energy = type(energy)(
        **{**{f: getattr(energy, f) for f in energy.__dataclass_fields__}, "network_j_per_bit_hop": 0.0}
    )
    scenario = make_scenario(line_topology(3), ["c"], _tasks(10), regions=("R",), energy=energy)
    result = Simulator(scenario, make("waterfill"), EXACT).run()
    report = result.energy
    assert report is not None
    assert report.carbon_g == 0.0
    assert report.sites[0].grid_j == 0.0
    assert all(o.carbon_g == 0.0 and o.energy_j > 0 for o in result.outcomes)
    assert report.sites[0].pv_used_j == pytest.approx(report.total_j)


def test_pv_covers_load_first_then_grid() -> None:
    # PV of 5 W against 15 W idle facility load: 10 W from the grid
    energy = toy_energy_model(carbon={"R": [360.0]}, solar={"R": [1.0]}, pv_capacity_w={"c": 5.0})
    scenario = make_scenario(line_topology(3), ["c"], [], regions=("R",), energy=energy)
    sim = Simulator(scenario, make("waterfill"), EXACT)
    _outcomes, report = sim._meter.finalize(3600.0, [])  # type: ignore[union-attr]
    assert report.sites[0].grid_j == pytest.approx(10.0 * 3600.0)
    assert report.carbon_g == pytest.approx(3.6)  # 0.01 kWh x 360 g/kWh


def test_unknown_region_and_device_model_are_clear_errors() -> None:
    energy = toy_energy_model(carbon={"DE": [300.0]})
    with pytest.raises(UnknownNameError, match=r"region 'XX', which has no carbon-intensity trace"):
        make_scenario(line_topology(3), ["c"], _tasks(1), regions=("XX",), energy=energy)
    with pytest.raises(UnknownDeviceError, match="no power figures for device model 'other'"):
        make_scenario(line_topology(3), ["c"], _tasks(1), models=("other",), regions=("DE",), energy=energy)


def test_without_energy_model_outcomes_carry_nan() -> None:
    scenario = make_scenario(line_topology(3), ["c"], _tasks(2))
    result = Simulator(scenario, make("waterfill")).run()
    assert result.energy is None
    assert math.isnan(result.outcomes[0].energy_j)
    assert "energy_j" not in result.summary()


def _two_sites(bound_s: float, carbon_near: float, carbon_far: float, **task_kw: float):  # type: ignore[no-untyped-def]
    # s -- n (near, 1 hop) and s -- m -- f (far, 2 hops, +20 ms each way)
    links = []
    for u, v, d in (("s", "n", 1e-3), ("s", "m", 10e-3), ("m", "f", 10e-3)):
        links += [Link(u, v, 1e9, d), Link(v, u, 1e9, d)]
    topology = Topology.from_links("two-sites", links)
    energy = toy_energy_model(carbon={"N": [carbon_near], "F": [carbon_far]})
    tasks = [
        Task(i, i * 0.5, "s", (i * 101) % 15625, 2e5, latency_bound_s=bound_s, splittable=False, **task_kw)  # type: ignore[arg-type]
        for i in range(12)
    ]
    return make_scenario(topology, ["n", "f"], tasks, regions=("N", "F"), energy=energy)


def test_carbon_aware_picks_low_carbon_site_when_its_latency_fits() -> None:
    scenario = _two_sites(bound_s=1.0, carbon_near=500.0, carbon_far=50.0)
    result = Simulator(scenario, make("carbon-aware"), EXACT).run()
    assert {d.site for d in result.decisions} == {"f"}
    assert all(o.met_bound for o in result.outcomes)
    near = Simulator(scenario, make("waterfill"), EXACT).run()
    assert {d.site for d in near.decisions} == {"n"}
    assert result.summary()["task_carbon_g"] < near.summary()["task_carbon_g"]


def test_carbon_aware_never_breaks_a_bound_a_feasible_site_meets() -> None:
    # the far, clean site takes ~45 ms: with a 30 ms bound only the near, dirty site is feasible
    scenario = _two_sites(bound_s=0.03, carbon_near=500.0, carbon_far=50.0)
    result = Simulator(scenario, make("carbon-aware"), EXACT).run()
    assert {d.site for d in result.decisions} == {"n"}
    assert all(o.met_bound for o in result.outcomes)


def test_carbon_aware_falls_back_to_the_fastest_and_says_so() -> None:
    scenario = _two_sites(bound_s=1e-4, carbon_near=500.0, carbon_far=50.0)
    result = Simulator(scenario, make("carbon-aware"), EXACT).run()
    assert {d.site for d in result.decisions} == {"n"}
    assert all("no candidate is predicted to meet" in d.reason and "fastest" in d.reason for d in result.decisions)


def test_deferrable_tasks_shift_to_the_forecast_low_and_never_start_after_their_window() -> None:
    # carbon alternates 400 / 50 every second; tasks may wait 1.5 s; the forecast is perfect here
    energy = toy_energy_model(carbon={"R": [400.0, 50.0]}, step_s=1.0, forecast="perfect")
    tasks = [Task(i, 0.1 + i * 0.5, "a", 5, 2e5, deferrable_window_s=1.5) for i in range(10)]
    scenario = make_scenario(line_topology(3), ["c"], tasks, regions=("R",), energy=energy)
    shifted = Simulator(scenario, make("carbon-aware"), EXACT).run()
    check_result(shifted, scenario)
    now = Simulator(scenario, make("carbon-aware", shift=False), EXACT).run()
    by_id = {t.id: t for t in tasks}
    for o in shifted.outcomes:
        assert o.arrival_s <= by_id[o.task_id].arrival_s + by_id[o.task_id].deferrable_window_s + 1e-12
    assert any(o.deferred_s > 0 for o in shifted.outcomes)
    assert shifted.summary()["task_carbon_g"] < 0.5 * now.summary()["task_carbon_g"]


class _LateStarter:
    name = "late"

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        path = snapshot.topology.k_shortest_paths(task.source, "c", 1)[0]
        return Decision(task.id, "c", "c/toy", (path,), (1.0,), self.name, start_s=task.arrival_s + 10.0)


def test_engine_refuses_a_start_after_the_window() -> None:
    scenario = make_scenario(line_topology(3), ["c"], [Task(0, 0.0, "a", 0, 1e3, deferrable_window_s=5.0)])
    with pytest.raises(DecisionError, match=r"start_s=10.0 is outside \[0.0, 5.0\]"):
        Simulator(scenario, _LateStarter()).run()


@pytest.mark.parametrize("mode", ["online", "isolated"])
def test_held_tasks_leave_the_in_system_integral_until_dispatched(mode: str) -> None:
    # Little's law with temporal shifting: the integral equals the sum of responses counted from dispatch
    energy = toy_energy_model(carbon={"R": [400.0, 50.0]}, step_s=1.0, forecast="perfect")
    tasks = [Task(i, 0.1 + i * 0.5, "a", 5, 2e5, deferrable_window_s=1.5) for i in range(10)]
    scenario = make_scenario(line_topology(3), ["c"], tasks, regions=("R",), energy=energy)
    sim = Simulator(scenario, make("carbon-aware"), SimConfig(mode=mode, service_jitter=0.0))  # type: ignore[arg-type]
    result = sim.run()
    assert any(o.deferred_s > 0 for o in result.outcomes)
    total = math.fsum(o.response_s for o in result.outcomes if o.status == "completed")
    assert sim.in_system_integral_s == pytest.approx(total, rel=1e-9)
