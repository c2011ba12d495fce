"""Transfer scenarios: explicit multipath transfers (and constant-rate background) on a small topology.

They are the common currency between cpnkit's network model and a packet-level simulator (ns-3): the same
scenario is evaluated by both, and task / subflow completion times are compared. Completion is measured from
the first payload byte sent to the last payload byte delivered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from cpnkit.errors import ConfigError
from cpnkit.estimate import TransportConfig
from cpnkit.model import Path, Topology
from cpnkit.sim.fluid_tcp import ConstantArrival, CubicConfig, FluidFlow, simulate_fluid_tcp
from cpnkit.sim.network import FlowNetwork, propagation_rtt_s

__all__ = [
    "TRANSFER_MODELS",
    "TRANSPORTS",
    "BackgroundFlow",
    "TransferResult",
    "TransferScenario",
    "TransferSubflow",
    "TransferTask",
    "Transport",
    "evaluate_transfers",
]

Transport = Literal["tcp"]
TRANSPORTS: tuple[str, ...] = ("tcp",)
#: Models ``evaluate_transfers`` knows: the simulator's two transports and the window-and-queue fluid TCP.
TRANSFER_MODELS: tuple[str, ...] = ("tcp", "fluid", "tcp-queue")
#: Subflow bytes must add up to the task's size within this many bytes.
SIZE_TOLERANCE_BYTES = 1e-6


@dataclass(frozen=True, slots=True)
class TransferSubflow:
    """One subflow of a transfer task.

    Attributes:
        id: Subflow id, unique within its task.
        path: The subflow's path (from the task's source to its destination).
        size_bytes: Payload bytes carried (> 0).
    """

    id: str
    path: Path
    size_bytes: float


@dataclass(frozen=True, slots=True)
class TransferTask:
    """A transfer split into subflows that start together.

    Attributes:
        id: Task id, unique within the scenario.
        src: Source node.
        dst: Destination node.
        size_bytes: Total payload, in bytes (= sum of the subflows' bytes).
        start_s: Time the first payload byte is sent, in s.
        transport: Transport protocol (``"tcp"``).
        subflows: The subflows.
    """

    id: str
    src: str
    dst: str
    size_bytes: float
    start_s: float
    transport: Transport
    subflows: tuple[TransferSubflow, ...]


@dataclass(frozen=True, slots=True)
class BackgroundFlow:
    """Constant-rate background traffic on a path (paced, e.g. CBR UDP) between two times.

    Attributes:
        id: Flow id.
        path: The path it follows.
        rate_bps: Rate in bit/s (> 0).
        start_s: Start time in s.
        stop_s: Stop time in s (> start).
    """

    id: str
    path: Path
    rate_bps: float
    start_s: float
    stop_s: float


@dataclass(frozen=True, eq=False)
class TransferScenario:
    """Transfers and background flows on one topology.

    Raises:
        ConfigError: on a path that does not start at its task's source or end at its destination, subflow bytes
            not adding up to the task's size, negative or non-finite sizes/times/rates, unknown transports, or
            duplicate ids. (Unknown nodes and paths that are not chains of links fail when the ``Path`` is built
            with ``Topology.make_path``.)
    """

    id: str
    topology: Topology
    tasks: tuple[TransferTask, ...]
    background: tuple[BackgroundFlow, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "background", tuple(self.background))
        where = f"scenario {self.id!r}"
        if not self.tasks:
            raise ConfigError(f"{where} has no tasks; give at least one transfer")
        task_ids: set[str] = set()
        for task in self.tasks:
            at = f"{where}, task {task.id!r}"
            if task.id in task_ids:
                raise ConfigError(f"{at}: task id appears twice; ids must be unique")
            task_ids.add(task.id)
            if task.transport not in TRANSPORTS:
                raise ConfigError(f"{at}: transport {task.transport!r} is not one of {TRANSPORTS}")
            _check(at, "size_bytes", task.size_bytes, positive=True)
            _check(at, "start_s", task.start_s, positive=False)
            if not task.subflows:
                raise ConfigError(f"{at}: no subflows; give at least one subflow with a path")
            flow_ids: set[str] = set()
            for sub in task.subflows:
                if sub.id in flow_ids:
                    raise ConfigError(f"{at}: subflow id {sub.id!r} appears twice")
                flow_ids.add(sub.id)
                _check(f"{at}, subflow {sub.id!r}", "bytes", sub.size_bytes, positive=True)
                if sub.path.src != task.src or sub.path.dst != task.dst:
                    raise ConfigError(
                        f"{at}, subflow {sub.id!r}: path {list(sub.path.nodes)} must run from the task's src "
                        f"{task.src!r} to its dst {task.dst!r}"
                    )
            total = math.fsum(s.size_bytes for s in task.subflows)
            if abs(total - task.size_bytes) > SIZE_TOLERANCE_BYTES:
                raise ConfigError(
                    f"{at}: subflow bytes sum to {total!r}, not size_bytes={task.size_bytes!r}; "
                    "the split must cover the task exactly"
                )
        bg_ids: set[str] = set()
        for flow in self.background:
            at = f"{where}, background {flow.id!r}"
            if flow.id in bg_ids:
                raise ConfigError(f"{at}: id appears twice")
            bg_ids.add(flow.id)
            _check(at, "rate_bps", flow.rate_bps, positive=True)
            _check(at, "start_s", flow.start_s, positive=False)
            if not (math.isfinite(flow.stop_s) and flow.stop_s > flow.start_s):
                raise ConfigError(f"{at}: stop_s={flow.stop_s!r} must be finite and after start_s={flow.start_s!r}")


@dataclass(frozen=True, slots=True)
class TransferResult:
    """Completion times of one scenario's transfers.

    Attributes:
        scenario: Scenario id.
        model: Who computed them (``"tcp"``, ``"fluid"``, ``"ns3"``).
        task_completion_s: Per task id: first payload byte sent to last payload byte delivered, in s.
        subflow_completion_s: Per task id, per subflow id: the same for each subflow, in s.
    """

    scenario: str
    model: str
    task_completion_s: dict[str, float]
    subflow_completion_s: dict[str, dict[str, float]]


def _check(at: str, name: str, value: float, *, positive: bool) -> None:
    ok = isinstance(value, int | float) and math.isfinite(value) and (value > 0 if positive else value >= 0)
    if not ok:
        raise ConfigError(f"{at}: {name}={value!r} must be finite and {'> 0' if positive else '>= 0'}")


def evaluate_transfers(
    scenario: TransferScenario,
    model: str = "tcp",
    transport: TransportConfig | None = None,
    cubic: CubicConfig | None = None,
    dt_s: float | None = None,
) -> TransferResult:
    """Play a transfer scenario in cpnkit's network model.

    ``"tcp"`` and ``"fluid"`` use the simulator's ``FlowNetwork``: background flows are constant-rate reservations
    on their path between ``start_s`` and ``stop_s``; task subflows share what is left by max-min fairness under
    the transport model; RTT = forward + reverse propagation. ``"tcp-queue"`` uses the window-and-queue fluid TCP
    of ``cpnkit.sim.fluid_tcp`` (CUBIC windows with HyStart over FIFO fluid queues, background as constant
    arrivals into the queues).

    Args:
        scenario: The transfers.
        model: ``"tcp"``, ``"fluid"`` or ``"tcp-queue"`` (``tcp``/``fluid`` are ignored when ``transport`` is given).
        transport: Full transport settings (MSS, initial window, headers, handshake); ``tcp-queue`` uses its MSS,
            initial window and headers.
        cubic: ``tcp-queue`` only: CUBIC / HyStart / queue settings (default: ns-3.44's, as the suite's runs).
        dt_s: ``tcp-queue`` only: time step in s (default: smallest RTT / 20).

    Raises:
        ConfigError: an unknown model, or background traffic exceeds a link's capacity.
    """
    if model not in TRANSFER_MODELS:
        raise ConfigError(f"transfer model {model!r} is not one of {list(TRANSFER_MODELS)}")
    if model == "tcp-queue":
        return _evaluate_fluid_tcp(scenario, transport, cubic, dt_s)
    config = transport if transport is not None else TransportConfig(model=model)  # type: ignore[arg-type]
    topology = scenario.topology
    capacity = [link.capacity_bps for link in topology.links]
    network = FlowNetwork(capacity, config)
    # external events: (time, kind, index); background changes (kind 0 = stop, 1 = start) before task starts (2)
    external: list[tuple[float, int, int]] = []
    for i, bg in enumerate(scenario.background):
        external += [(bg.start_s, 1, i), (bg.stop_s, 0, i)]
    external += [(task.start_s, 2, i) for i, task in enumerate(scenario.tasks)]
    external.sort()
    background = [0.0] * len(capacity)
    subflow_done: dict[str, dict[str, float]] = {t.id: {} for t in scenario.tasks}
    next_net = math.inf
    position = 0
    while position < len(external) or network.flows:
        t_ext = external[position][0] if position < len(external) else math.inf
        if t_ext <= next_net:
            now = t_ext
            while position < len(external) and external[position][0] == now:
                _, kind, index = external[position]
                position += 1
                if kind < 2:
                    _change_background(scenario, index, +1.0 if kind == 1 else -1.0, background, capacity)
                    network.set_residual([max(c - b, 0.0) for c, b in zip(capacity, background, strict=True)], now)
                    continue
                task = scenario.tasks[index]
                for sub in task.subflows:
                    rtt = propagation_rtt_s(topology, sub.path)
                    network.add(sub.path.link_ids, sub.size_bytes, sub.path.prop_delay_s, now, (task.id, sub.id), rtt)
        else:
            now = next_net
            for done in network.step(now):
                task_id, sub_id = done.owner
                subflow_done[task_id][sub_id] = now + done.delay_after_drain_s - done.start_s
        next_net = network.reallocate()
        if next_net == math.inf and position >= len(external) and network.flows:
            raise ConfigError(f"scenario {scenario.id!r}: flows can never finish (a link has no capacity left)")
    return TransferResult(
        scenario=scenario.id,
        model=config.model,
        task_completion_s={tid: max(subs.values()) for tid, subs in subflow_done.items()},
        subflow_completion_s=subflow_done,
    )


def _change_background(
    scenario: TransferScenario, index: int, sign: float, background: list[float], capacity: list[float]
) -> None:
    flow = scenario.background[index]
    links = scenario.topology.links
    for link in flow.path.link_ids:
        background[link] += sign * flow.rate_bps
        if background[link] > capacity[link] * (1 + 1e-12):
            raise ConfigError(
                f"scenario {scenario.id!r}: background on link {links[link].src!r}->{links[link].dst!r} reaches "
                f"{background[link]:.6g} bit/s, above its capacity {capacity[link]:.6g} bit/s; lower the rates"
            )


def _evaluate_fluid_tcp(
    scenario: TransferScenario, transport: TransportConfig | None, cubic: CubicConfig | None, dt_s: float | None
) -> TransferResult:
    topology = scenario.topology
    links = topology.links
    owners: list[tuple[str, str]] = []
    flows: list[FluidFlow] = []
    for task in scenario.tasks:
        for sub in task.subflows:
            delays = tuple(links[link].prop_delay_s for link in sub.path.link_ids)
            reverse = propagation_rtt_s(topology, sub.path) - sub.path.prop_delay_s
            flows.append(FluidFlow(sub.path.link_ids, delays, reverse, task.start_s, sub.size_bytes))
            owners.append((task.id, sub.id))
    background = [
        ConstantArrival(
            bg.path.link_ids,
            tuple(links[link].prop_delay_s for link in bg.path.link_ids),
            bg.rate_bps,
            bg.start_s,
            bg.stop_s,
        )
        for bg in scenario.background
    ]
    _check_background_load(scenario)
    result = simulate_fluid_tcp(
        [link.capacity_bps for link in links],
        flows,
        background,
        transport=transport if transport is not None else TransportConfig(),
        cubic=cubic if cubic is not None else CubicConfig(),
        dt_s=dt_s,
    )
    subflow_done: dict[str, dict[str, float]] = {t.id: {} for t in scenario.tasks}
    for (task_id, sub_id), done in zip(owners, result.completion_s, strict=True):
        subflow_done[task_id][sub_id] = done
    return TransferResult(
        scenario=scenario.id,
        model="tcp-queue",
        task_completion_s={tid: max(subs.values()) for tid, subs in subflow_done.items()},
        subflow_completion_s=subflow_done,
    )


def _check_background_load(scenario: TransferScenario) -> None:
    """The same check (and message) as the event-driven models: background at any moment within capacity."""
    capacity = [link.capacity_bps for link in scenario.topology.links]
    background = [0.0] * len(capacity)
    events = sorted(
        [(bg.start_s, 1, i) for i, bg in enumerate(scenario.background)]
        + [(bg.stop_s, 0, i) for i, bg in enumerate(scenario.background)]
    )
    for _, kind, index in events:
        _change_background(scenario, index, +1.0 if kind == 1 else -1.0, background, capacity)
