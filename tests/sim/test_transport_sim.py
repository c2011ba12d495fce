"""The simulator's tcp transport: agrees with the closed form, shares fairly, reduces to fluid."""

from __future__ import annotations

import pytest

from cpnkit.errors import ConfigError
from cpnkit.estimate import TransportConfig, last_segment_bits, transfer_time_s
from cpnkit.model import Task, Topology
from cpnkit.schedulers import make
from cpnkit.sim import (
    BackgroundFlow,
    FlowNetwork,
    SimConfig,
    TransferScenario,
    TransferSubflow,
    TransferTask,
    check_result,
    evaluate_transfers,
    max_min_rates,
    simulate,
)
from cpnkit.sim.testing import line_topology, make_scenario


def test_max_min_rates_with_caps() -> None:
    # f0 capped at 0.1; f1 and f2 share the rest of link 0
    assert max_min_rates([[0], [0], [0]], [1.0], [0.1, float("inf"), float("inf")]) == pytest.approx([0.1, 0.45, 0.45])
    # all capped and the caps fit: rates are the caps
    assert max_min_rates([[0], [0, 1]], [1.0, 1.0], [0.2, 0.3]) == [0.2, 0.3]
    with pytest.raises(ConfigError, match="one cap per flow"):
        max_min_rates([[0]], [1.0], [])


@pytest.mark.parametrize("payload", [100e3, 1e6, 10e6, 50e6])
def test_single_tcp_flow_matches_closed_form(payload: float) -> None:
    topology = line_topology(2, capacity_bps=1e9, prop_delay_s=0.02)
    network = FlowNetwork(topology.capacity_bps, TransportConfig())
    path = topology.make_path(["a", "b"])
    network.add(path.link_ids, payload, path.prop_delay_s, 0.0, "f", rtt_s=0.04)
    now, done = 0.0, []
    while not done:
        now = network.reallocate()
        done = network.step(now)
    finish = now + done[0].delay_after_drain_s
    assert finish == pytest.approx(transfer_time_s(payload, 1e9, 0.02, 0.04), abs=1e-9)


def test_slow_start_flow_leaves_bandwidth_to_others() -> None:
    # a long-running fluid-phase flow shares a 1 Gbit/s link with a new flow in slow start:
    # the newcomer is window-limited, so the old flow keeps most of the link
    network = FlowNetwork([1e9], TransportConfig())
    network.add((0,), 1e9, 0.02, 0.0, "old", rtt_s=0.04)
    while (now := network.reallocate()) < 1.0:  # play the old flow's rounds: past slow start after 1 s
        assert not network.step(now)
    network.add((0,), 1e6, 0.02, 1.0, "new", rtt_s=0.04)
    network.reallocate()
    old, new = network.flows
    assert new.rate == pytest.approx(TransportConfig().initial_window_bits() / 0.04)
    assert old.rate == pytest.approx(1e9 - new.rate)


def test_simulator_tcp_one_task_idle_line_matches_closed_form() -> None:
    topology = line_topology(3, capacity_bps=1e9, prop_delay_s=5e-3)
    task = Task(id=0, arrival_s=0.0, source="a", arch_idx=7, input_bytes=2e6, result_bytes=4e3)
    scenario = make_scenario(topology, ["c"], [task])
    config = SimConfig(service_jitter=0.0, transport=TransportConfig())
    outcome = simulate(scenario, make("nearest-ecmp", k_paths=1), config).outcomes[0]
    tcp = TransportConfig()
    expected_tx = transfer_time_s(2e6, 1e9, 0.01, 0.02, store_forward_s=last_segment_bits(2e6, tcp) / 1e9)
    expected_back = transfer_time_s(4e3, 1e9, 0.01, 0.02, store_forward_s=(4e3 - 2 * 1448 + 54) * 8 / 1e9)
    assert outcome.transmission_s == pytest.approx(expected_tx, abs=1e-9)
    assert outcome.return_s == pytest.approx(expected_back, abs=1e-9)
    assert outcome.transmission_s > 2 * (2e6 * 8 / 1e9 + 0.01)  # slow start: far from the fluid time
    check_result(simulate(scenario, make("nearest-ecmp"), config), scenario)


def _two_path_topology() -> Topology:
    from cpnkit.model import Link

    links = []
    for u, v, delay in (("s", "x", 5e-3), ("x", "t", 5e-3), ("s", "y", 15e-3), ("y", "t", 15e-3)):
        links += [Link(u, v, 1e8, delay), Link(v, u, 1e8, delay)]
    return Topology.from_links("two-path", links)


def test_evaluate_transfers_multipath_and_background() -> None:
    topo = _two_path_topology()
    fast, slow = topo.make_path(["s", "x", "t"]), topo.make_path(["s", "y", "t"])
    task = TransferTask(
        "t1", "s", "t", 2e6, 0.0, "tcp", (TransferSubflow("a", fast, 1.5e6), TransferSubflow("b", slow, 0.5e6))
    )
    bg = BackgroundFlow("bg", fast, 5e7, 0.0, 100.0)
    scenario = TransferScenario("multi", topo, (task,), (bg,))
    fluid = evaluate_transfers(scenario, model="fluid")
    tcp = evaluate_transfers(scenario, model="tcp")
    # fluid: subflow a gets 50 Mbit/s after background: 1.5e6*8/5e7 + 10 ms; b: 0.5e6*8/1e8 + 30 ms
    assert fluid.subflow_completion_s["t1"]["a"] == pytest.approx(0.24 + 0.01)
    assert fluid.subflow_completion_s["t1"]["b"] == pytest.approx(0.04 + 0.03)
    assert fluid.task_completion_s["t1"] == pytest.approx(0.25)
    assert tcp.task_completion_s["t1"] > fluid.task_completion_s["t1"]
    with pytest.raises(ConfigError, match="above its capacity"):
        evaluate_transfers(TransferScenario("over", topo, (task,), (BackgroundFlow("big", fast, 2e8, 0.0, 1.0),)))


def test_transfer_scenario_validation() -> None:
    topo = _two_path_topology()
    path = topo.make_path(["s", "x", "t"])
    with pytest.raises(ConfigError, match=r"sum to 1000000\.0, not size_bytes=2000000\.0"):
        TransferScenario("x", topo, (TransferTask("t", "s", "t", 2e6, 0.0, "tcp", (TransferSubflow("a", path, 1e6),)),))
    with pytest.raises(ConfigError, match="must run from"):
        TransferScenario("x", topo, (TransferTask("t", "s", "x", 1e6, 0.0, "tcp", (TransferSubflow("a", path, 1e6),)),))
    with pytest.raises(ConfigError, match=r"size_bytes=-1.0"):
        TransferScenario(
            "x", topo, (TransferTask("t", "s", "t", -1.0, 0.0, "tcp", (TransferSubflow("a", path, 1e6),)),)
        )
