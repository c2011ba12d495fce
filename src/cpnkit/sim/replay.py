"""Open-loop replay of a simulator run's network traffic under other transfer models.

A ``FlowLog`` passed to ``Simulator(..., flow_log=log)`` records every flow the run puts into its network (each
task's input subflows and its result's return flow: start time, links, payload, propagation delay, the RTT the
``tcp`` model used) and every change of background load, in the order the simulator made them, plus each flow's
completion as simulated. Without a log the simulator uses a plain ``FlowNetwork`` (no check, no cost); with one,
a subclass that appends to the log (in memory: the core does no I/O).

The replay then plays exactly those flows, started at the recorded times (open loop: no scheduler, no compute;
a return flow starts when its task's service ended in the recorded run), under a transfer model:

- ``replay_event_driven(log, transport)``: the simulator's own ``FlowNetwork`` (``tcp`` or ``fluid``), driven as
  ``evaluate_transfers`` drives it. Under the run's transport it reproduces the recorded completions up to float
  rounding (the recorder's check).
- ``replay_fluid_tcp(log, topology, ...)``: the window-and-queue fluid TCP (``tcp-queue``, ``simulate_fluid_tcp``),
  background as piecewise-constant arrivals into each link's queue (one ``ConstantArrival`` per link and
  background step). A whole run is too long for one time-stepped run, so flows are split into independent groups:
  two flows interact only when they share a link while both are active (a flow holds no bytes anywhere before its
  start or after its last byte is delivered, and constant background below capacity builds no queue in the fluid).
  Groups are formed from assumed activity intervals, simulated, and re-formed with the intervals each flow
  actually took until no flow outlasts its assumed interval (a fixed point; the grouping is then exact). The time
  step is global (smallest round-trip propagation of all flows / ``steps_per_rtt``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cpnkit.errors import ConfigError
from cpnkit.estimate import TransportConfig
from cpnkit.model import Topology
from cpnkit.sim.fluid_tcp import ConstantArrival, CubicConfig, FluidFlow, simulate_fluid_tcp
from cpnkit.sim.network import Flow, FlowNetwork

__all__ = [
    "FlowLog",
    "FluidTcpReplay",
    "RecordedFlow",
    "RecordingFlowNetwork",
    "replay_event_driven",
    "replay_fluid_tcp",
]


@dataclass(frozen=True, slots=True)
class RecordedFlow:
    """One flow a simulator run put into its network.

    Attributes:
        task_id: The task it belongs to.
        is_return: ``True`` for the result's return flow, ``False`` for an input subflow.
        index: Position among the task's input subflows (0 for a return flow).
        links: Link ids of its path.
        payload_bytes: Payload in bytes.
        prop_s: One-way propagation delay of the path, in s.
        rtt_s: Round-trip time the simulator gave the ``tcp`` model (propagation plus M/M/1 queueing), in s.
        start_s: When it was added, in s.
    """

    task_id: int
    is_return: bool
    index: int
    links: tuple[int, ...]
    payload_bytes: float
    prop_s: float
    rtt_s: float
    start_s: float


@dataclass(eq=False)
class FlowLog:
    """What a run put into its network, in the order it happened (filled by ``RecordingFlowNetwork``).

    Attributes:
        capacity_bps: Capacity of every link, in bit/s.
        flows: The recorded flows, in the order they were added.
        events: ``("residual", time_s, residual_bps)`` and ``("flow", time_s, index into flows)``, in order.
        completion_s: Per recorded flow: start to last byte delivered as simulated, in s (``nan``: not done).
    """

    capacity_bps: tuple[float, ...] = ()
    flows: list[RecordedFlow] = field(default_factory=list)
    events: list[tuple[str, float, Any]] = field(default_factory=list)
    completion_s: list[float] = field(default_factory=list)

    def background_steps(self) -> list[tuple[float, tuple[float, ...]]]:
        """``(time_s, background load per link in bit/s)`` at every recorded change, in order."""
        return [
            (time_s, tuple(max(c - r, 0.0) for c, r in zip(self.capacity_bps, residual, strict=True)))
            for kind, time_s, residual in self.events
            if kind == "residual"
        ]


class RecordingFlowNetwork(FlowNetwork):
    """A ``FlowNetwork`` that appends what it is given to a ``FlowLog`` (the simulator's recorder).

    Args:
        log: Where to record.
        owner_key: Maps a flow's owner to ``(task_id, is_return)``.
        args, kwargs: As ``FlowNetwork``.
    """

    def __init__(self, log: FlowLog, owner_key: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._log = log
        self._owner_key = owner_key
        self._index: dict[Flow, int] = {}
        self._subflows: dict[int, int] = {}
        log.capacity_bps = tuple(self.capacity_bps)

    def set_residual(self, residual_bps: list[float], now: float) -> None:  # noqa: D102
        self._log.events.append(("residual", now, tuple(residual_bps)))
        super().set_residual(residual_bps, now)

    def add(  # noqa: D102
        self,
        links: tuple[int, ...],
        payload_bytes: float,
        prop_s: float,
        now: float,
        owner: Any,
        rtt_s: float | None = None,
    ) -> Flow:
        flow = super().add(links, payload_bytes, prop_s, now, owner, rtt_s)
        task_id, is_return = self._owner_key(owner)
        index = 0
        if not is_return:
            index = self._subflows.get(task_id, 0)
            self._subflows[task_id] = index + 1
        log = self._log
        self._index[flow] = len(log.flows)
        log.events.append(("flow", now, len(log.flows)))
        log.flows.append(RecordedFlow(task_id, is_return, index, links, payload_bytes, prop_s, flow.rtt_s, now))
        log.completion_s.append(math.nan)
        return flow

    def step(self, now: float) -> list[Flow]:  # noqa: D102
        drained = super().step(now)
        for flow in drained:
            self._log.completion_s[self._index.pop(flow)] = now + flow.delay_after_drain_s - flow.start_s
        return drained


def replay_event_driven(log: FlowLog, transport: TransportConfig) -> list[float]:
    """Play the recorded flows and background in a fresh ``FlowNetwork`` under ``transport``.

    External events (background changes, flow starts) at a time are applied before a network event at the same
    time, and the network is re-shared once per such time (the simulator re-shares after each task's flows).

    Returns:
        Per recorded flow: start to last byte delivered, in s.

    Raises:
        ConfigError: the log is empty, or flows can never finish.
    """
    if not log.flows:
        raise ConfigError("the flow log has no flows; run Simulator(..., flow_log=log) first")
    network = FlowNetwork(log.capacity_bps, transport)
    events = log.events
    done = [math.nan] * len(log.flows)
    next_net = math.inf
    position = 0
    while position < len(events) or network.flows:
        t_ext = events[position][1] if position < len(events) else math.inf
        if t_ext <= next_net:
            now = t_ext
            while position < len(events) and events[position][1] == now:
                kind, _, value = events[position]
                position += 1
                if kind == "residual":
                    network.set_residual(list(value), now)
                else:
                    flow = log.flows[value]
                    network.add(flow.links, flow.payload_bytes, flow.prop_s, now, value, flow.rtt_s)
        else:
            now = next_net
            for drained in network.step(now):
                done[drained.owner] = now + drained.delay_after_drain_s - drained.start_s
        next_net = network.reallocate()
        if next_net == math.inf and position >= len(events) and network.flows:
            raise ConfigError("replayed flows can never finish (a link has no capacity left)")
    return done


@dataclass(frozen=True, slots=True)
class FluidTcpReplay:
    """The recorded flows under the window-and-queue fluid TCP.

    Attributes:
        completion_s: Per recorded flow: start to last payload byte delivered, in s.
        groups: Independent groups simulated in the final partition.
        largest_group: Flows in the largest group.
        iterations: Partitions tried until no flow outlasted its assumed interval.
        simulations: ``simulate_fluid_tcp`` calls in all (groups are cached across iterations).
        steps: Time steps simulated in all.
        dt_s: The time step, in s.
        max_overflow_bytes: Largest queue excess over the DropTail limit seen (ns-3 would have dropped), in bytes.
    """

    completion_s: tuple[float, ...]
    groups: int
    largest_group: int
    iterations: int
    simulations: int
    steps: int
    dt_s: float
    max_overflow_bytes: float


def replay_fluid_tcp(
    log: FlowLog,
    topology: Topology,
    transport: TransportConfig | None = None,
    cubic: CubicConfig | None = None,
    initial_s: list[float] | None = None,
    max_iterations: int = 20,
) -> FluidTcpReplay:
    """Play the recorded flows with ``simulate_fluid_tcp`` in independent groups (see the module docstring).

    Args:
        log: The recorded run.
        topology: Its topology (link propagation delays and reverse paths for the ACKs).
        transport: MSS, initial window and headers (default ``TransportConfig()``).
        cubic: CUBIC/HyStart settings (default ns-3.44's).
        initial_s: Per flow, an initial guess of its completion (e.g. the ``tcp`` replay's); default 1 s each.
            Guesses only change how many partitions are tried, not the result.
        max_iterations: Give up after this many partitions.

    Raises:
        ConfigError: an empty log, a guess list of the wrong length, or no fixed point within ``max_iterations``.
    """
    flows = log.flows
    if not flows:
        raise ConfigError("the flow log has no flows; run Simulator(..., flow_log=log) first")
    cubic = cubic if cubic is not None else CubicConfig()
    transport = transport if transport is not None else TransportConfig()
    links = topology.links
    guess = [1.0] * len(flows) if initial_s is None else list(initial_s)
    if len(guess) != len(flows):
        raise ConfigError(f"initial_s has {len(guess)} values for {len(flows)} recorded flows; give one per flow")
    fluid = [_fluid_flow(topology, flow) for flow in flows]
    dt_s = min(sum(f.prop_delays_s) + f.reverse_delay_s for f in fluid) / cubic.steps_per_rtt
    dt_s = max(dt_s, 1e-6 / cubic.steps_per_rtt)
    steps_bg = log.background_steps()
    horizon_s = max(f.start_s for f in flows) + 1e3
    end = [f.start_s + max(g, 0.0) * 1.5 + 1e-3 for f, g in zip(flows, guess, strict=True)]
    cache: dict[tuple[int, ...], tuple[tuple[float, ...], int, float]] = {}
    done = [math.nan] * len(flows)
    for iteration in range(1, max_iterations + 1):
        groups = _groups(flows, end)
        stable = True
        for group in groups:
            if group not in cache:
                members = [fluid[i] for i in group]
                start = min(flows[i].start_s for i in group)
                used = sorted({link for i in group for link in flows[i].links})
                background = _background(steps_bg, used, links, start, horizon_s)
                result = simulate_fluid_tcp(
                    log.capacity_bps, members, background, transport=transport, cubic=cubic, dt_s=dt_s
                )
                cache[group] = (result.completion_s, result.steps, max(result.overflow_bytes, default=0.0))
            for i, completion in zip(group, cache[group][0], strict=True):
                done[i] = completion
                finish = flows[i].start_s + completion
                if finish > end[i]:
                    end[i] = finish
                    stable = False
        if stable:
            final = [cache[g] for g in groups]
            return FluidTcpReplay(
                completion_s=tuple(done),
                groups=len(groups),
                largest_group=max(len(g) for g in groups),
                iterations=iteration,
                simulations=len(cache),
                steps=sum(c[1] for c in cache.values()),
                dt_s=dt_s,
                max_overflow_bytes=max(c[2] for c in final),
            )
    raise ConfigError(f"no stable grouping of the replayed flows within max_iterations={max_iterations}; raise it")


def _fluid_flow(topology: Topology, flow: RecordedFlow) -> FluidFlow:
    links = topology.links
    delays = tuple(links[link].prop_delay_s for link in flow.links)
    back = [(links[link].dst, links[link].src) for link in reversed(flow.links)]
    if all(topology.has_link(a, b) for a, b in back):
        reverse = math.fsum(links[topology.link_id(a, b)].prop_delay_s for a, b in back)
    else:
        reverse = math.fsum(delays)
    return FluidFlow(flow.links, delays, reverse, flow.start_s, flow.payload_bytes)


def _groups(flows: list[RecordedFlow], end: list[float]) -> list[tuple[int, ...]]:
    """Connected components of 'share a link while both active' (intervals [start, end))."""
    parent = list(range(len(flows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    on_link: dict[int, list[int]] = {}
    for i, flow in enumerate(flows):
        for link in flow.links:
            on_link.setdefault(link, []).append(i)
    for members in on_link.values():
        members.sort(key=lambda i: flows[i].start_s)
        reach, holder = -math.inf, -1
        for i in members:
            if flows[i].start_s < reach:
                parent[find(i)] = find(holder)
            if end[i] > reach:
                reach, holder = end[i], i
    components: dict[int, list[int]] = {}
    for i in range(len(flows)):
        components.setdefault(find(i), []).append(i)
    return sorted(tuple(c) for c in components.values())


def _background(
    steps: list[tuple[float, tuple[float, ...]]], used: list[int], links: Any, start_s: float, horizon_s: float
) -> list[ConstantArrival]:
    """Piecewise-constant background on the used links from ``start_s`` on, one arrival per link and step."""
    arrivals: list[ConstantArrival] = []
    for k, (time_s, load) in enumerate(steps):
        stop = steps[k + 1][0] if k + 1 < len(steps) else horizon_s
        if stop <= start_s:
            continue
        begin = max(time_s, start_s)
        if stop <= begin:
            continue
        for link in used:
            if load[link] > 0.0:
                arrivals.append(ConstantArrival((link,), (links[link].prop_delay_s,), load[link], begin, stop))
    return arrivals
