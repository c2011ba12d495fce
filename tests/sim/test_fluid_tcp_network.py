"""The incremental window-and-queue fluid TCP (``FluidTcpNetwork``) against the batch model and in the simulator."""

from __future__ import annotations

import json
import math
from importlib.resources import files
from pathlib import Path

import pytest

from cpnkit.errors import ConfigError
from cpnkit.estimate import TransportConfig
from cpnkit.model import Task
from cpnkit.readwrite import read_transfer_scenarios
from cpnkit.schedulers import make
from cpnkit.sim import SimConfig, Simulator, check_result, evaluate_transfers
from cpnkit.sim.fluid_tcp import ConstantArrival, FluidFlow, FluidTcpNetwork, simulate_fluid_tcp
from cpnkit.sim.testing import line_topology, make_scenario

GOLDEN = Path(__file__).parent / "data" / "fluid_tcp_golden.json"
INCREMENTAL_GOLDEN = Path(__file__).parent / "data" / "fluid_tcp_incremental_golden.json"
# a 100 Mbit/s bottleneck (link 1) behind a 1 Gbit/s access link (link 0); a second access link (2) into it
CAPACITY = [1e9, 1e8, 1e9]
PROP = [1e-3, 3e-3, 5e-3]


def _play(net: FluidTcpNetwork, adds: list[tuple[float, tuple[int, ...], float]]) -> dict[int, float]:
    """Drive ``net`` as the simulator does; flows added at their times; return owner -> delivery time."""
    pending = sorted((t, i, links, size) for i, (t, links, size) in enumerate(adds))
    delivered: dict[int, float] = {}
    next_net = math.inf
    while pending or net.flows:
        if pending and pending[0][0] <= next_net:
            now, owner, links, size = pending.pop(0)
            prop = sum(PROP[link] for link in links)
            net.add(links, size, prop, now, owner, rtt_s=2 * prop)
        else:
            now = next_net
            for flow in net.step(now):
                delivered[flow.owner] = now + flow.delay_after_drain_s
                assert flow.delay_after_drain_s >= 0.0
        next_net = net.reallocate()
    return delivered


def _batch(adds: list[tuple[float, tuple[int, ...], float]], **kwargs: object) -> tuple[float, ...]:
    flows = [FluidFlow(links, tuple(PROP[x] for x in links), sum(PROP[x] for x in links), t, s) for t, links, s in adds]
    return simulate_fluid_tcp(CAPACITY, flows, **kwargs).completion_s  # type: ignore[arg-type]


def test_batch_model_reproduces_the_completions_before_the_incremental_engine() -> None:
    golden = json.loads(GOLDEN.read_text())["subflow_completion_s"]
    data = files("cpnkit.bench") / "data"
    for suite in ("transfer_suite", "transfer_heldout"):
        for scenario in read_transfer_scenarios(Path(str(data / f"{suite}.json"))):
            key = f"{suite}/{scenario.id}"
            if key not in golden:
                continue
            got = evaluate_transfers(scenario, model="tcp-queue").subflow_completion_s
            for task_id, subflows in golden[key].items():
                for sub_id, want in subflows.items():
                    assert got[task_id][sub_id] == pytest.approx(want, rel=1e-9), (key, task_id, sub_id)


@pytest.mark.parametrize("size", [50e3, 1e6, 5e6])
def test_single_idle_flow_equals_batch(size: float) -> None:
    dt = 8e-3 / 20
    net = FluidTcpNetwork(CAPACITY, PROP, dt_s=dt)
    delivered = _play(net, [(0.37, (0, 1), size)])
    (batch,) = _batch([(0.0, (0, 1), size)], dt_s=dt)
    assert delivered[0] - 0.37 == pytest.approx(batch, rel=1e-12)
    assert net.bits_sent == net.bits_delivered
    assert net.reallocate() == math.inf  # idle again


def test_flows_added_at_different_times_equal_batch() -> None:
    dt = 8e-3 / 20
    adds = [(0.0, (0, 1), 4e6), (0.0513, (2, 1), 1e6), (0.0902, (0, 1), 2e5)]  # sharing the bottleneck
    net = FluidTcpNetwork(CAPACITY, PROP, dt_s=dt)
    delivered = _play(net, adds)
    batch = _batch(adds, dt_s=dt)
    for i, (start, _, _) in enumerate(adds):
        assert delivered[i] - start == pytest.approx(batch[i], rel=1e-9)
    assert batch[0] > _batch(adds[:1], dt_s=dt)[0]  # they did interact


def test_background_via_residual_equals_constant_arrivals() -> None:
    dt = 8e-3 / 20
    net = FluidTcpNetwork(CAPACITY, PROP, dt_s=dt)
    net.set_residual([1e9, 4e7, 1e9], 0.0)  # 60 Mbit/s of background on the bottleneck
    delivered = _play(net, [(0.0, (0, 1), 2e6)])
    # the batch model's background on link 1 alone, from before the flow to long after
    bg = ConstantArrival((1,), (3e-3,), 6e7, 0.0, 100.0)
    flow = FluidFlow((0, 1), (1e-3, 3e-3), 4e-3, 0.0, 2e6)
    (batch,) = simulate_fluid_tcp(CAPACITY, [flow], [bg], dt_s=dt).completion_s
    assert delivered[0] == pytest.approx(batch, rel=1e-9)


def test_history_does_not_grow_with_run_length() -> None:
    def rows(n: int) -> tuple[int, int]:
        net = FluidTcpNetwork(CAPACITY, PROP, dt_s=4e-4)
        # overlapping flows every 20 ms, 80% of the bottleneck: the network never goes idle
        _play(net, [(0.02 * i, (0, 1) if i % 2 else (2, 1), 2e5) for i in range(n)])
        assert net.bits_sent == pytest.approx(net.bits_delivered, rel=1e-12)
        return net.max_history_rows, net.steps

    short_rows, short_steps = rows(8)
    long_rows, long_steps = rows(100)
    assert long_steps > 10 * short_steps
    assert long_rows == short_rows


def test_long_incremental_run_reproduces_the_engine_before_columns_stayed_in_place() -> None:
    # flows come and go for ~5 s (up to 9 at once): finished flows' columns become holes, repacked 8 times, and
    # the history moves back to the start of its buffers 12 times (the golden's source says how it was made)
    golden = json.loads(INCREMENTAL_GOLDEN.read_text())
    paths = [(0, 1), (2, 1), (1,), (0, 1)]
    adds = [(0.04 * i, paths[i % 4], 1e5 * (1 + (7 * i) % 9)) for i in range(120)]
    net = FluidTcpNetwork(CAPACITY, PROP, dt_s=4e-4)
    delivered = _play(net, adds)
    assert [delivered[i] for i in range(len(adds))] == pytest.approx(golden["deliveries_s"], rel=1e-12)
    assert (net.max_history_rows, net.steps) == (golden["max_history_rows"], golden["steps"])


def test_bad_input_gets_clear_errors() -> None:
    net = FluidTcpNetwork(CAPACITY, PROP)
    with pytest.raises(ConfigError, match="payload_bytes=-1"):
        net.add((0,), -1.0, 1e-3, 0.0, "x")
    with pytest.raises(ConfigError, match="payload_bytes=nan"):
        net.add((0,), math.nan, 1e-3, 0.0, "x")
    with pytest.raises(ConfigError, match="link id 7"):
        net.add((7,), 1e3, 1e-3, 0.0, "x")
    with pytest.raises(ConfigError, match="rtt_s=nan"):
        net.add((0,), 1e3, 1e-3, 0.0, "x", rtt_s=math.nan)
    with pytest.raises(ConfigError, match="dt_s=0"):
        FluidTcpNetwork(CAPACITY, PROP, dt_s=0.0)
    with pytest.raises(ConfigError, match="link_prop_s has 2 values"):
        FluidTcpNetwork(CAPACITY, PROP[:2])
    with pytest.raises(ConfigError, match="capacity_bps"):
        FluidTcpNetwork([0.0], [1e-3])
    with pytest.raises(ConfigError, match="tcp_queue_dt_s=-1"):
        SimConfig(tcp_queue_dt_s=-1.0)


def _tiny_scenario(n_tasks: int = 12):  # type: ignore[no-untyped-def]
    topology = line_topology(3, capacity_bps=1e8, prop_delay_s=2e-3)
    tasks = [
        Task(id=i, arrival_s=0.01 * i, source="a", arch_idx=i % 3, input_bytes=3e5 * (1 + i % 4), result_bytes=2e4)
        for i in range(n_tasks)
    ]
    return make_scenario(topology, ["b", "c"], tasks, name="tiny-line3")


def test_closed_loop_run_completes_every_task_and_conserves_bytes() -> None:
    scenario = _tiny_scenario()
    config = SimConfig(transport=TransportConfig(model="tcp-queue"), check_capacity=True)
    result = Simulator(scenario, make("nearest-ecmp"), config, seed=0).run()
    check_result(result, scenario)  # one outcome each, parts add up, sent = delivered, capacity
    assert [o.status for o in result.outcomes] == ["completed"] * len(scenario.tasks)
    assert result.stats["bits_sent"] == pytest.approx(result.stats["bits_delivered"], rel=1e-12)
    assert result.stats["transport"] == "tcp-queue"
    assert result.stats["tcp_queue_steps"] > 0
    assert result.stats["max_late_delivery_s"] == 0.0
    # contention over FIFO queues and CUBIC: not the event-driven tcp's numbers, but the same order
    tcp = Simulator(scenario, make("nearest-ecmp"), SimConfig(), seed=0).run()
    ratio = result.summary()["mean_response_s"] / tcp.summary()["mean_response_s"]
    assert 0.5 < ratio < 2.0


def test_closed_loop_single_task_transfer_equals_batch() -> None:
    scenario = _tiny_scenario(1)
    config = SimConfig(transport=TransportConfig(model="tcp-queue"), service_jitter=0.0)
    (outcome,) = Simulator(scenario, make("nearest-ecmp"), config, seed=0).run().outcomes
    topology = scenario.topology
    path = topology.make_path(["a", "b"])
    dt = 2 * 2e-3 / 20
    flow = FluidFlow(path.link_ids, (2e-3,), 2e-3, 0.0, 3e5)
    (batch,) = simulate_fluid_tcp(topology.capacity_bps.tolist(), [flow], dt_s=dt).completion_s
    assert outcome.site == "b"
    assert outcome.transmission_s == pytest.approx(batch, rel=1e-9)


def test_flow_log_is_refused_under_tcp_queue() -> None:
    from cpnkit.sim.replay import FlowLog

    config = SimConfig(transport=TransportConfig(model="tcp-queue"))
    with pytest.raises(ConfigError, match="flow_log records the event-driven"):
        Simulator(_tiny_scenario(1), make("nearest-ecmp"), config, flow_log=FlowLog())
