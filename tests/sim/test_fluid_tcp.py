"""The window-and-queue fluid TCP model (``tcp-queue``)."""

from __future__ import annotations

import numpy as np
import pytest

from cpnkit.errors import ConfigError
from cpnkit.estimate import TransportConfig, wire_bits
from cpnkit.model import Link, Topology
from cpnkit.sim import BackgroundFlow, TransferScenario, TransferSubflow, TransferTask, evaluate_transfers
from cpnkit.sim.fluid_tcp import ConstantArrival, CubicConfig, FluidFlow, simulate_fluid_tcp


def _dumbbell() -> Topology:
    """Two senders (1 and 5 ms access) into a 100 Mbit/s, 3 ms bottleneck r -> t."""
    links = []
    for u, v, cap, delay in (("a", "r", 1e9, 1e-3), ("b", "r", 1e9, 5e-3), ("r", "t", 1e8, 3e-3)):
        links += [Link(u, v, cap, delay), Link(v, u, cap, delay)]
    return Topology.from_links("dumbbell", links)


def _task(topo: Topology, tid: str, src: str, size: float, start: float = 0.0) -> TransferTask:
    path = topo.make_path([src, "r", "t"])
    return TransferTask(tid, src, "t", size, start, "tcp", (TransferSubflow("f", path, size),))


@pytest.mark.parametrize("size", [100e3, 1e6, 10e6])
def test_single_flow_on_idle_path_matches_tcp_model(size: float) -> None:
    topo = _dumbbell()
    scenario = TransferScenario("one", topo, (_task(topo, "x", "a", size),))
    tcp = evaluate_transfers(scenario, model="tcp").task_completion_s["x"]
    queue = evaluate_transfers(scenario, model="tcp-queue").task_completion_s["x"]
    assert queue == pytest.approx(tcp, rel=0.03)


def test_bytes_conserved_and_queue_drains() -> None:
    topo = _dumbbell()
    links = [topo.link_id("a", "r"), topo.link_id("r", "t")]
    flow = FluidFlow(tuple(links), (1e-3, 3e-3), 4e-3, 0.0, 2e6)
    result = simulate_fluid_tcp([link.capacity_bps for link in topo.links], [flow], trace_every=1)
    trace = np.array(result.trace)
    delivered, queues = trace[:, 1], trace[:, 3:]
    assert np.all(np.diff(delivered) >= -1e-9)  # delivery never goes back
    assert delivered[-1] == pytest.approx(wire_bits(2e6, TransportConfig()) / 8)  # every wire byte, no more
    assert np.all(queues >= -1e-9)
    # the bottleneck never serves faster than its capacity
    assert np.max(np.diff(delivered)) * 8 / result.dt_s <= 1e8 * (1 + 1e-9)
    assert result.slow_start_exit_s[0] > 0  # HyStart ended slow start on a 2 MB transfer (BDP ~ 100 KB)


def test_trace_follows_each_flow_when_an_earlier_one_leaves() -> None:
    # flow 0 (100 KB) leaves long before flow 1 (5 MB): on the step it leaves, flow 1's delivered bytes were read
    # from flow 0's columns (the per-flow arrays are rebuilt on the next step)
    flows = [FluidFlow((0, 1), (1e-3, 3e-3), 4e-3, 0.0, 1e5), FluidFlow((1,), (1e-3,), 1e-3, 0.0, 5e6)]
    result = simulate_fluid_tcp([1e9, 1e8], flows, trace_every=1)
    delivered = np.array(result.trace)[:, 1:3]
    assert np.all(np.diff(delivered, axis=0) >= -1e-9)
    assert delivered[-1] == pytest.approx([wire_bits(s, TransportConfig()) / 8 for s in (1e5, 5e6)])


def test_two_identical_flows_share_equally() -> None:
    topo = _dumbbell()
    path = topo.make_path(["a", "r", "t"])
    tasks = tuple(TransferTask(t, "a", "t", 3e6, 0.0, "tcp", (TransferSubflow("f", path, 3e6),)) for t in "xy")
    done = evaluate_transfers(TransferScenario("two", topo, tasks), model="tcp-queue").task_completion_s
    assert done["x"] == pytest.approx(done["y"], rel=1e-9)
    # together they move 6 MB through 100 Mbit/s: at least the serialisation time
    assert done["x"] > wire_bits(6e6, TransportConfig()) / 1e8


def test_background_below_capacity_leaves_queue_empty() -> None:
    topo = _dumbbell()
    links = (topo.link_id("a", "r"), topo.link_id("r", "t"))
    bg = ConstantArrival(links, (1e-3, 3e-3), 0.9e8, 0.0, 10.0)
    # a tiny flow elsewhere (b's access link only) to give the model something to finish
    flow = FluidFlow((topo.link_id("b", "r"),), (5e-3,), 5e-3, 0.0, 1e3)
    result = simulate_fluid_tcp([link.capacity_bps for link in topo.links], [flow], [bg])
    assert max(result.max_queue_bytes[link] for link in links) == pytest.approx(0.0, abs=1e-6)


def test_background_slows_a_flow_down_to_its_residual() -> None:
    topo = _dumbbell()
    task = _task(topo, "x", "a", 5e6)
    path = topo.make_path(["a", "r", "t"])
    idle = evaluate_transfers(TransferScenario("i", topo, (task,)), model="tcp-queue").task_completion_s["x"]
    busy_scenario = TransferScenario("b", topo, (task,), (BackgroundFlow("bg", path, 5e7, 0.0, 100.0),))
    busy = evaluate_transfers(busy_scenario, model="tcp-queue").task_completion_s["x"]
    assert busy > 1.5 * idle


def test_halving_dt_changes_completions_little() -> None:
    topo = _dumbbell()
    tasks = (_task(topo, "x", "a", 2e6), _task(topo, "y", "b", 1e6, start=0.05))
    scenario = TransferScenario("two", topo, tasks)
    coarse = evaluate_transfers(scenario, model="tcp-queue")
    fine = evaluate_transfers(scenario, model="tcp-queue", dt_s=16e-3 / 20 / 2)  # min RTT 16 ms
    for tid in ("x", "y"):
        assert fine.task_completion_s[tid] == pytest.approx(coarse.task_completion_s[tid], rel=0.01)


def test_bad_input_gets_clear_errors() -> None:
    topo = _dumbbell()
    path = topo.make_path(["a", "r", "t"])
    with pytest.raises(ConfigError, match="above its capacity"):
        evaluate_transfers(
            TransferScenario("over", topo, (_task(topo, "x", "a", 1e6),), (BackgroundFlow("bg", path, 2e8, 0, 1),)),
            model="tcp-queue",
        )
    with pytest.raises(ConfigError, match="is not one of"):
        evaluate_transfers(TransferScenario("m", topo, (_task(topo, "x", "a", 1e6),)), model="reno")
    caps = [link.capacity_bps for link in topo.links]
    with pytest.raises(ConfigError, match="payload_bytes=-1"):
        simulate_fluid_tcp(caps, [FluidFlow((0,), (1e-3,), 1e-3, 0.0, -1.0)])
    with pytest.raises(ConfigError, match="link id 99"):
        simulate_fluid_tcp(caps, [FluidFlow((99,), (1e-3,), 1e-3, 0.0, 1e3)])
    with pytest.raises(ConfigError, match="dt_s=0"):
        simulate_fluid_tcp(caps, [FluidFlow((0,), (1e-3,), 1e-3, 0.0, 1e3)], dt_s=0.0)
    with pytest.raises(ConfigError, match=r"CubicConfig\.c="):
        CubicConfig(c=-1.0)


def test_hystart_exits_when_round_ack_trains_join() -> None:
    """One flow, 40 ms RTT, 100 Mbit/s bottleneck: BDP = 40 ms x 100 Mbit/s / 12000 bit = 333 segments.

    Slow start doubles per round (10, 20, ..., 320 segments); a round's ACKs leave the bottleneck one segment
    serialisation (0.12 ms) apart, so the 320-segment round's train lasts 38.4 ms and ends ~1.7 ms before the next
    round's first ACK (<= ns-3's 2 ms ACK delta): ns-3 tests that ACK against the ending round's train, which has
    then lasted more than the minimum RTT, and ends slow start at 640 segments (ns-3.44 trace: ssthresh 640).
    """
    links = (0, 1)
    flow = FluidFlow(links, (16e-3, 4e-3), 20e-3, 0.0, 20e6)
    result = simulate_fluid_tcp([1e9, 1e8], [flow], dt_s=0.5e-3)
    assert result.slow_start_exit_cause == ("ack-train",)
    mss = 1500.0
    assert result.slow_start_exit_window_bytes[0] / mss == pytest.approx(640, abs=3)
    # seven rounds of ~40.1 ms (10 -> 640 segments)
    assert result.slow_start_exit_s[0] == pytest.approx(7 * 40.1e-3, abs=2e-3)


def test_hystart_keeps_slow_start_while_round_trains_are_apart() -> None:
    """Without the ACK-delta tolerance the same flow can only exit inside a round, one round later."""
    flow = FluidFlow((0, 1), (16e-3, 4e-3), 20e-3, 0.0, 20e6)
    strict = CubicConfig(hystart_ack_delta_s=1e-3)  # the 1.7 ms gap between rounds now breaks the train
    result = simulate_fluid_tcp([1e9, 1e8], [flow], cubic=strict, dt_s=0.5e-3)
    assert result.slow_start_exit_window_bytes[0] / 1500.0 > 900  # 640 + 40 ms of ACKs at 0.12 ms
