from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cpnkit.datasets import PAPER_DEVICE_POOL, ScenarioConfig, build_scenario, load_latency_table, load_topology
from cpnkit.errors import ConfigError, DataError, UnknownTopologyError
from cpnkit.estimate import TransportConfig
from cpnkit.model import Device, Site, Task
from cpnkit.readwrite import read_arrival_trace
from cpnkit.schedulers import make
from cpnkit.sim import BackgroundTraffic, Scenario, SimConfig, check_result, simulate
from cpnkit.sim.testing import line_topology


def test_paper_scenario_on_abilene_uses_real_data() -> None:
    scenario = build_scenario("abilene", seed=0, config=ScenarioConfig(n_tasks=50))
    n_ap = len(scenario.access_points)
    assert 2 <= n_ap <= 4
    assert len(scenario.sites) == 12 - n_ap
    assert {d.model for s in scenario.sites for d in s.devices} <= set(PAPER_DEVICE_POOL)
    assert scenario.meta["background"] == "abilene-tm"
    assert len(scenario.tasks) == 50
    assert all(100e3 <= t.input_bytes <= 10e6 for t in scenario.tasks)
    assert scenario.latency_table.n_archs == 15625


def test_paper_scenario_is_deterministic_per_seed() -> None:
    config = ScenarioConfig(n_tasks=30)
    a, b, c = (build_scenario("ebone", seed=s, config=config) for s in (1, 1, 2))
    assert a.tasks == b.tasks
    assert a.access_points == b.access_points
    assert a.tasks != c.tasks


def test_paper_scenario_runs_with_invariants_in_both_modes() -> None:
    scenario = build_scenario("abilene", seed=3, config=ScenarioConfig(n_tasks=150, arrival_rate_per_s=200.0))
    for mode in ("online", "isolated"):
        result = simulate(scenario, make("nearest-ecmp"), SimConfig(mode=mode, check_capacity=True), seed=3)
        check_result(result, scenario)
        assert result.summary()["completed"] == 150


def test_idle_line_with_measured_device_latency_is_exact() -> None:
    table = load_latency_table()
    topology = line_topology(3, capacity_bps=1e10, prop_delay_s=2.5e-3)
    task = Task(id=0, arrival_s=0.0, source="a", arch_idx=1234, input_bytes=2e6, result_bytes=5e3)
    scenario = Scenario(
        name="line-real",
        topology=topology,
        sites=(Site("c", (Device("c/gpu", "2080ti_1", "gpu", "c"),)),),
        latency_table=table,
        tasks=(task,),
        background=BackgroundTraffic.idle(len(topology.links)),
    )
    fluid = SimConfig(service_jitter=0.0, transport=TransportConfig(model="fluid"))
    outcome = simulate(scenario, make("nearest-ecmp"), fluid).outcomes[0]
    compute_s = float(table.column("2080ti_1")[1234])
    expected = 2e6 * 8 / 1e10 + 5e-3 + compute_s + 5e3 * 8 / 1e10 + 5e-3
    assert abs(outcome.response_s - expected) < 1e-9
    assert outcome.compute_s == compute_s


def test_paper_scenario_compute_load_sets_rate() -> None:
    scenario = build_scenario("abilene", seed=0, config=ScenarioConfig(n_tasks=10, compute_load=0.2))
    assert scenario.meta["offered_compute_load"] == pytest.approx(0.2)
    with pytest.raises(ConfigError, match="compute_load"):
        ScenarioConfig(compute_load=-1.0)


def test_paper_scenario_unknown_topology_suggests_name() -> None:
    with pytest.raises(UnknownTopologyError, match="abilene"):
        build_scenario("abilen")


def test_paper_scenario_from_trace(tmp_path: Path) -> None:
    trace = tmp_path / "arrivals.csv"
    trace.write_text("arrival_s,source\n0.5,ATLAM5\n0.1,NYCMng\n0.2,ATLAM5\n")
    times, sources = read_arrival_trace(trace)
    assert times == [0.1, 0.2, 0.5]
    scenario = build_scenario("abilene", seed=0, trace=(times, sources))
    assert [t.source for t in scenario.tasks] == ["NYCMng", "ATLAM5", "ATLAM5"]
    assert set(scenario.access_points) == {"NYCMng", "ATLAM5"}
    assert np.isin(["NYCMng", "ATLAM5"], [s.node for s in scenario.sites]).sum() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,node\n1,a\n", "lacks column"),
        ("arrival_s,source\nsoon,a\n", "not a number"),
        ("arrival_s,source\n-1,a\n", ">= 0"),
        ("arrival_s,source\nnan,a\n", "finite"),
        ("arrival_s,source\n", "no rows"),
    ],
)
def test_read_arrival_trace_rejects_bad_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_arrival_trace(path)


def test_gravity_background_on_rocketfuel_respects_capacity() -> None:
    scenario = build_scenario("tiscali", seed=0, config=ScenarioConfig(n_tasks=5))
    assert scenario.meta["background"] == "gravity"
    topo = load_topology("tiscali")
    assert (scenario.background.load_bps < topo.capacity_bps).all()


@pytest.mark.parametrize("transport", ["fluid", "tcp"])
def test_paper_run_is_reproducible_per_seed(transport: str) -> None:
    def run(seed: int) -> dict[str, list[object]]:
        scenario = build_scenario("sprintlink", seed=seed, config=ScenarioConfig(n_tasks=120, arrival_rate_per_s=150.0))
        config = SimConfig(transport=TransportConfig(model=transport))  # type: ignore[arg-type]
        return simulate(scenario, make("random", seed=seed), config, seed=seed).table()

    assert run(5) == run(5)
    assert run(5) != run(6)
