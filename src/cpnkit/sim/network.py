"""The network part of the simulator: fluid flows on links, max-min fair rates, and the transport model.

``FlowNetwork`` holds the active flows. The owner (the simulator, or the transfer evaluator) adds flows, changes
the residual capacity (background), and asks for the next time something happens; at that time ``step`` plays
TCP round boundaries and returns the flows whose last bit has left the source (each knows when it arrives).
See ``cpnkit.estimate.transport`` for the transport models.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

from cpnkit.estimate import TransportConfig, last_segment_bits, wire_bits
from cpnkit.model import Path, Topology
from cpnkit.sim.fairness import max_min_rates

__all__ = ["Flow", "FlowNetwork", "propagation_rtt_s"]

_REL_DRAIN_TOL = 1e-9
_ABS_DRAIN_TOL_BITS = 1e-6
_HANDSHAKE, _SLOW_START, _FLUID = 0, 1, 2


def propagation_rtt_s(topology: Topology, path: Path) -> float:
    """Forward plus reverse propagation delay of ``path`` (twice the forward delay if a reverse link is missing)."""
    nodes = path.nodes
    back = [(b, a) for a, b in itertools.pairwise(nodes)]
    if all(topology.has_link(b, a) for b, a in back):
        reverse = math.fsum(topology.links[topology.link_id(b, a)].prop_delay_s for b, a in back)
    else:
        reverse = path.prop_delay_s
    return path.prop_delay_s + reverse


class Flow:
    """One fluid flow (mutable engine state; read its fields, do not set them).

    Attributes:
        links: Link ids of its path.
        bits: Wire bits to carry (payload plus headers under ``tcp``).
        remaining: Wire bits not yet sent.
        rate: Current rate in bit/s.
        prop_s: One-way propagation delay of the path, in s.
        delay_after_drain_s: From the last bit sent to the last bit delivered (propagation, store-and-forward).
        owner: The caller's object (a task, a subflow id, ...).
        start_s: When the flow was added.
    """

    __slots__ = (
        "bits",
        "cap",
        "delay_after_drain_s",
        "links",
        "owner",
        "phase",
        "prop_s",
        "rate",
        "remaining",
        "round_end_s",
        "rtt_s",
        "start_s",
        "window",
    )

    def __init__(
        self,
        links: tuple[int, ...],
        bits: float,
        prop_s: float,
        delay_after_drain_s: float,
        rtt_s: float,
        owner: Any,
        start_s: float,
    ) -> None:
        self.links = links
        self.bits = bits
        self.remaining = bits
        self.prop_s = prop_s
        self.delay_after_drain_s = delay_after_drain_s
        self.rtt_s = rtt_s
        self.owner = owner
        self.start_s = start_s
        self.rate = 0.0
        self.cap = math.inf
        self.window = 0.0
        self.round_end_s = math.inf
        self.phase = _FLUID


class FlowNetwork:
    """Active flows over links of given capacity; rates are max-min fair over the residual capacity.

    Args:
        capacity_bps: Capacity of every link, in bit/s.
        transport: Transport model (``tcp`` slow start with headers, or ``fluid``).
        check_capacity: Track the largest ratio of a link's load to its residual capacity (slower).
    """

    def __init__(self, capacity_bps: Iterable[float], transport: TransportConfig, check_capacity: bool = False) -> None:
        self.capacity_bps = [float(c) for c in capacity_bps]
        self.residual_bps = list(self.capacity_bps)
        self.transport = transport
        self.check_capacity = check_capacity
        self.flows: list[Flow] = []
        self.time_s = 0.0
        self.bits_sent = 0.0
        self.bits_delivered = 0.0
        self.max_undelivered_bits = 0.0
        self.max_load_ratio = 0.0
        self.max_flows = 0
        self.full_reallocations = 0
        self.incremental_reallocations = 0
        self._tcp = transport.is_tcp
        self._iw_bits = transport.initial_window_bits()
        # Incremental bookkeeping (tcp): the sum of finite caps and the number of uncapped flows per link.
        # When only window-limited flows changed, on links without uncapped flows and within capacity, the
        # max-min allocation changes only for them (each runs at its cap): no full recomputation is needed.
        self._capped_load = [0.0] * len(self.capacity_bps)
        self._uncapped_count = [0] * len(self.capacity_bps)
        self._changed: list[Flow] = []
        self._full = True

    # -- changes ---------------------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        """Move every flow's remaining bits forward to ``now`` at its current rate."""
        dt = now - self.time_s
        if dt > 0.0:
            for flow in self.flows:
                flow.remaining -= flow.rate * dt
        self.time_s = now

    def set_residual(self, residual_bps: list[float], now: float) -> None:
        """Change the capacity left to flows (e.g. when background traffic changes) at ``now``."""
        self.advance(now)
        self.residual_bps = residual_bps
        self._full = True

    def add(
        self,
        links: tuple[int, ...],
        payload_bytes: float,
        prop_s: float,
        now: float,
        owner: Any,
        rtt_s: float | None = None,
    ) -> Flow:
        """Start a flow of ``payload_bytes`` on ``links`` at ``now`` (call ``reallocate`` afterwards).

        Args:
            links: Link ids of the path.
            payload_bytes: Payload in bytes.
            prop_s: One-way propagation delay of the path, in s.
            now: Current time, in s.
            owner: Returned with the flow when it drains.
            rtt_s: Round-trip time for the tcp model, in s (default ``2 * prop_s``).
        """
        self.advance(now)
        bits = wire_bits(payload_bytes, self.transport)
        after = prop_s
        rtt = 2.0 * prop_s if rtt_s is None else rtt_s
        if self._tcp and len(links) > 1:
            # store-and-forward: the last segment is serialised again on every hop after the first
            last = last_segment_bits(payload_bytes, self.transport)
            after += sum(last / self.capacity_bps[link] for link in links[1:])
        flow = Flow(links, bits, prop_s, after, rtt, owner, now)
        if self._tcp and rtt > 0.0:
            flow.window = self._iw_bits
            if self.transport.handshake:
                flow.phase = _HANDSHAKE
                flow.cap = 0.0
                flow.round_end_s = now + rtt
            else:
                self._start_round(flow, now)
        self._count(flow, +1)
        self.flows.append(flow)
        self._changed.append(flow)
        self.bits_sent += bits
        if len(self.flows) > self.max_flows:
            self.max_flows = len(self.flows)
        return flow

    def _count(self, flow: Flow, sign: int) -> None:
        if flow.cap < math.inf:
            load = self._capped_load
            for link in flow.links:
                load[link] += sign * flow.cap
        else:
            count = self._uncapped_count
            for link in flow.links:
                count[link] += sign
            self._full = True  # uncapped flows take whatever is left: everyone sharing with them may move

    def _start_round(self, flow: Flow, now: float) -> None:
        if flow.remaining <= flow.window:
            flow.phase = _FLUID  # the final round: the rest leaves as one burst at the share rate
            flow.cap = math.inf
            flow.round_end_s = math.inf
        else:
            flow.phase = _SLOW_START
            flow.cap = flow.window / flow.rtt_s
            flow.round_end_s = now + flow.rtt_s

    # -- rates and events --------------------------------------------------------------------------------
    def reallocate(self) -> float:
        """Recompute rates at the current time; return the time of the next network event (``inf``: none)."""
        flows = self.flows
        changed, self._changed = self._changed, []
        if not flows:
            self._full = False
            return math.inf
        if not self._full and self._only_window_limited_changes(changed):
            self.incremental_reallocations += 1
            for flow in changed:
                flow.rate = flow.cap
        else:
            self._full = False
            self.full_reallocations += 1
            self._reallocate_all()
        if self.check_capacity:
            self._check_capacity()
        now = self.time_s
        next_s = math.inf
        for flow in flows:
            if flow.rate > 0.0:
                t = now + max(flow.remaining, 0.0) / flow.rate
                if t < next_s:
                    next_s = t
            if flow.round_end_s < next_s:
                next_s = flow.round_end_s
        return next_s

    def _only_window_limited_changes(self, changed: list[Flow]) -> bool:
        residual = self.residual_bps
        load = self._capped_load
        uncapped = self._uncapped_count
        for flow in changed:
            if flow.cap == math.inf:
                return False
            for link in flow.links:
                if uncapped[link] or load[link] > residual[link]:
                    return False
        return True

    def _reallocate_all(self) -> None:
        flows = self.flows
        residual = self.residual_bps
        if len(flows) == 1 and flows[0].cap == math.inf:
            flow = flows[0]
            flow.rate = min([residual[link] for link in flow.links])
        elif self._tcp:
            rates = max_min_rates([f.links for f in flows], residual, [f.cap for f in flows])
            for flow, rate in zip(flows, rates, strict=True):
                flow.rate = rate
                if flow.phase == _SLOW_START and rate < flow.cap * (1.0 - 1e-12):
                    # the window no longer limits it: it has reached its max-min share (no losses modelled);
                    # dropping a cap that does not bind leaves the max-min allocation as it is
                    self._count(flow, -1)
                    flow.phase = _FLUID
                    flow.cap = math.inf
                    flow.round_end_s = math.inf
                    self._count(flow, +1)
            self._full = False
        else:
            rates = max_min_rates([f.links for f in flows], residual)
            for flow, rate in zip(flows, rates, strict=True):
                flow.rate = rate

    def step(self, now: float) -> list[Flow]:
        """Play what happens at ``now``: TCP round boundaries, and flows whose last bit has left.

        Returns:
            The drained flows (removed); each is delivered at ``now + flow.delay_after_drain_s``.
            Call ``reallocate`` afterwards.
        """
        self.advance(now)
        # a drain or round end below the float clock's resolution at `now` counts as now: waiting for it
        # would schedule an event at the same float time forever
        time_eps = 8.0 * math.ulp(max(now, 1.0))
        keep: list[Flow] = []
        drained: list[Flow] = []
        for flow in self.flows:
            if flow.remaining <= _REL_DRAIN_TOL * flow.bits + _ABS_DRAIN_TOL_BITS or (
                flow.remaining <= flow.rate * time_eps
            ):
                undelivered = abs(flow.remaining)
                if undelivered > self.max_undelivered_bits:
                    self.max_undelivered_bits = undelivered
                self.bits_delivered += flow.bits - flow.remaining
                self._count(flow, -1)
                self._full = True  # freed capacity may raise others' shares
                drained.append(flow)
                continue
            if flow.round_end_s <= now + time_eps:
                self._count(flow, -1)
                if flow.phase == _SLOW_START:
                    flow.window *= 2.0
                self._start_round(flow, now)
                self._count(flow, +1)
                self._changed.append(flow)
            keep.append(flow)
        self.flows = keep
        return drained

    def link_load_bps(self, background_bps: Sequence[float]) -> list[float]:
        """Background plus the current flow rates on every link, in bit/s."""
        load = [float(b) for b in background_bps]
        for flow in self.flows:
            for link in flow.links:
                load[link] += flow.rate
        return load

    def _check_capacity(self) -> None:
        load: dict[int, float] = {}
        for flow in self.flows:
            for link in flow.links:
                load[link] = load.get(link, 0.0) + flow.rate
        for link, rate in load.items():
            residual = self.residual_bps[link]
            ratio = rate / residual if residual > 0 else (math.inf if rate > 0 else 0.0)
            if ratio > self.max_load_ratio:
                self.max_load_ratio = ratio
