"""The network part of the simulator: fluid flows on links, max-min fair rates, and the transport model.

``FlowNetwork`` holds the active flows. The owner (the simulator, or the transfer evaluator) adds flows, changes
the residual capacity (background), and asks for the next time something happens; at that time ``step`` plays
TCP round boundaries and returns the flows whose last bit has left the source (each knows when it arrives).
See ``cpnkit.estimate.transport`` for the transport models.

Cost per event is kept independent of the number of active flows where possible: a flow's progress is settled
lazily (only when its rate changes or it is due), each flow's next event (drain or round end) sits in a heap,
and under ``tcp`` a change re-shares bandwidth only among the flows it can affect (see ``reallocate``).

Slow start is played lazily (``lazy_slow_start=True``, the default): a window-limited flow affects no other
window-limited flow when its window doubles, as long as the caps on its links fit their residual capacity. Such a
flow *coasts*: its round boundaries up to the first one where that stops holding (the cap would no longer fit, or
the final round starts) are played silently, and only that boundary is a network event. Its links reserve the
largest cap it reaches meanwhile, so two coasting flows never overrun a link between events. Uncapped flows
(final round, or at their share) take what the caps leave: those on a coasting flow's links are re-shared at each
of its silent boundaries (their ``wake``), exactly as that boundary's event would, and the coasting flow goes on
unless the re-share shows its window no longer limits it. A boundary at the current instant counts as played once
``step`` has played that instant (other changes at the same time come first, as in the per-round play). A change
that voids a plan (the reserved caps no longer fit a link, or the residual capacity changes) first brings the
coasting flows there up to date, round by round, exactly as the per-round events would have. The result equals
the per-round play (``lazy_slow_start=False``) up to float rounding; a flow takes about two network events
(reaching its share or its final round, and draining) instead of one per round trip, plus one per silent boundary
that moves an uncapped flow's share.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any

from cpnkit.errors import ConfigError, InvariantError
from cpnkit.estimate import TransportConfig, last_segment_bits, wire_bits
from cpnkit.model import Path, Topology
from cpnkit.sim.fairness import max_min_rates, share_left_over

__all__ = ["Flow", "FlowNetwork", "propagation_rtt_s"]

_REL_DRAIN_TOL = 1e-9
_ABS_DRAIN_TOL_BITS = 1e-6
_HANDSHAKE, _SLOW_START, _FLUID = 0, 1, 2
_by_id = attrgetter("id")  # creation order: a deterministic sort key (sets iterate by hash)


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
    """One fluid flow (engine state; read its fields, do not set them).

    Attributes:
        links: Link ids of its path.
        bits: Wire bits to carry (payload plus headers under ``tcp``).
        remaining: Wire bits not yet sent, as of ``updated_s`` (settled lazily).
        updated_s: When ``remaining`` was last settled.
        rate: Current rate in bit/s.
        prop_s: One-way propagation delay of the path, in s.
        delay_after_drain_s: From the last bit sent to the last bit delivered (propagation, store-and-forward).
        owner: The caller's object (a task, a subflow id, ...).
        start_s: When the flow was added.
    """

    __slots__ = (
        "bits",
        "cap",
        "coast",
        "coast_bps",
        "coast_end_s",
        "coast_gap",
        "coast_left",
        "coast_next_s",
        "delay_after_drain_s",
        "id",
        "links",
        "owner",
        "phase",
        "prop_s",
        "rate",
        "remaining",
        "reserve",
        "round_end_s",
        "rtt_s",
        "start_s",
        "updated_s",
        "version",
        "wake",
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
        self.updated_s = start_s
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
        self.version = 0
        self.id = 0  # creation order in its network (a deterministic sort key)
        self.coast = 0  # round boundaries still to play silently (lazy slow start)
        self.reserve = 0.0  # while coasting: the largest cap it reaches before its next event, in bit/s
        # while coasting, `_coast_now`'s last answer: the cap and next boundary once the boundaries up to
        # `coast_end_s` are played, with `coast_left` silent boundaries still to play (`coast_gap`: reserve - cap)
        self.coast_bps = 0.0
        self.coast_gap = 0.0
        self.coast_next_s = math.inf
        self.coast_left = 0
        self.coast_end_s = -math.inf
        self.wake = math.inf  # uncapped: the next silent round boundary of a coasting flow that moves its share


class FlowNetwork:
    """Active flows over links of given capacity; rates are max-min fair over the residual capacity.

    Args:
        capacity_bps: Capacity of every link, in bit/s.
        transport: Transport model (``tcp`` slow start with headers, or ``fluid``; ``tcp-queue`` is refused: it is
            ``cpnkit.sim.fluid_tcp.FluidTcpNetwork``).
        check_capacity: Expensive checks: track the largest ratio of a link's load to its residual capacity,
            and verify every incremental reallocation against a full max-min computation.
        lazy_slow_start: Play the slow-start rounds of flows that affect nobody silently (see the module
            docstring); ``False`` plays every round as a network event (the reference the lazy play equals).
    """

    def __init__(
        self,
        capacity_bps: Iterable[float],
        transport: TransportConfig,
        check_capacity: bool = False,
        lazy_slow_start: bool = True,
    ) -> None:
        if transport.model not in ("tcp", "fluid"):
            raise ConfigError(
                f"FlowNetwork plays the 'tcp' and 'fluid' transports, not {transport.model!r}; 'tcp-queue' runs in "
                "cpnkit.sim.fluid_tcp.FluidTcpNetwork (the simulator picks it from SimConfig.transport)"
            )
        self.capacity_bps = [float(c) for c in capacity_bps]
        self.residual_bps = list(self.capacity_bps)
        self.transport = transport
        self.check_capacity = check_capacity
        self.time_s = 0.0
        self._played_end_s = -math.inf  # round boundaries up to here count as played (see `_played_until`)
        self.bits_sent = 0.0
        self.bits_delivered = 0.0
        self.max_undelivered_bits = 0.0
        self.max_load_ratio = 0.0
        self.max_flows = 0
        self.full_reallocations = 0
        self.incremental_reallocations = 0
        self._flows: dict[Flow, None] = {}  # insertion-ordered set
        self._due: list[tuple[float, int, int, Flow]] = []  # (time, seq, version, flow): drains and round ends
        self._seq = itertools.count()
        self._ids = itertools.count()
        self._tcp = transport.is_tcp
        self._iw_bits = transport.initial_window_bits()
        # Incremental bookkeeping (tcp). Invariant after every reallocation: every flow with a finite cap (window-
        # limited, in slow start) runs at its cap. A change then only moves the uncapped flows connected (through
        # shared links) to the links that changed; they share what the caps leave by max-min. The result is exact
        # when no capped flow crosses a saturated link below its cap (checked); otherwise everything is recomputed.
        n_links = len(self.capacity_bps)
        self._capped_load = [0.0] * n_links
        self._link_capped: list[set[Flow]] = [set() for _ in range(n_links)]
        self._link_uncapped: list[set[Flow]] = [set() for _ in range(n_links)]
        self._dirty_links: set[int] = set()
        self._changed: list[Flow] = []
        self._full = True
        self._lazy = lazy_slow_start and transport.is_tcp
        self._coasting: set[Flow] = set()
        self._link_coasting: list[dict[Flow, None]] = [{} for _ in range(n_links)]  # insertion-ordered sets
        self._plan: list[Flow] = []  # flows in slow start whose rate was just set: may start to coast

    @property
    def flows(self) -> list[Flow]:
        """The active flows, in the order they were added."""
        return list(self._flows)

    # -- changes ---------------------------------------------------------------------------------------
    def set_residual(self, residual_bps: list[float], now: float) -> None:
        """Change the capacity left to flows (e.g. when background traffic changes) at ``now``."""
        self.time_s = now
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
        self.time_s = now
        bits = wire_bits(payload_bytes, self.transport)
        after = prop_s
        rtt = 2.0 * prop_s if rtt_s is None else rtt_s
        if self._tcp and len(links) > 1:
            # store-and-forward: the last segment is serialised again on every hop after the first
            last = last_segment_bits(payload_bytes, self.transport)
            after += sum(last / self.capacity_bps[link] for link in links[1:])
        flow = Flow(links, bits, prop_s, after, rtt, owner, now)
        flow.id = next(self._ids)
        if self._tcp and rtt > 0.0:
            flow.window = self._iw_bits
            if self.transport.handshake:
                flow.phase = _HANDSHAKE
                flow.cap = 0.0
                flow.round_end_s = now + rtt
            else:
                self._start_round(flow, now)
        self._count(flow, +1)
        self._flows[flow] = None
        self._changed.append(flow)
        self.bits_sent += bits
        if len(self._flows) > self.max_flows:
            self.max_flows = len(self._flows)
        return flow

    def _count(self, flow: Flow, sign: int) -> None:
        links = flow.links
        cap = flow.cap
        if cap < math.inf:
            sets = self._link_capped
            load = self._capped_load
            if sign > 0:
                for link in links:
                    sets[link].add(flow)
                    load[link] += cap
            else:
                for link in links:
                    sets[link].discard(flow)
                    load[link] -= cap
        else:
            sets = self._link_uncapped
            if sign > 0:
                for link in links:
                    sets[link].add(flow)
            else:
                for link in links:
                    sets[link].discard(flow)
        self._dirty_links.update(links)

    def _start_round(self, flow: Flow, now: float) -> None:
        if flow.remaining <= flow.window * (1.0 + 1e-12):  # up to float rounding, as in transfer_time_s
            flow.phase = _FLUID  # the final round: the rest leaves as one burst at the share rate
            flow.cap = math.inf
            flow.round_end_s = math.inf
        else:
            flow.phase = _SLOW_START
            flow.cap = flow.window / flow.rtt_s
            flow.round_end_s = now + flow.rtt_s

    def _set_rate(self, flow: Flow, rate: float) -> None:
        """Settle the flow's progress at the current time, give it ``rate`` and reschedule its next event."""
        now = self.time_s
        remaining = flow.remaining - flow.rate * (now - flow.updated_s)
        flow.remaining = remaining
        flow.updated_s = now
        flow.rate = rate
        flow.version += 1
        due = flow.round_end_s
        if flow.wake < due:
            due = flow.wake
        if rate > 0.0:
            drain = now + (remaining if remaining >= 0.0 else 0.0) / rate
            if drain < due:
                due = drain
        if due < math.inf:
            heapq.heappush(self._due, (due, next(self._seq), flow.version, flow))
        if self._lazy and flow.phase == _SLOW_START and rate == flow.cap:
            self._plan.append(flow)

    # -- rates and events --------------------------------------------------------------------------------
    def reallocate(self) -> float:
        """Re-share bandwidth after changes; return the time of the next network event (``inf``: none).

        Under ``tcp`` only the uncapped flows connected to what changed are re-shared when that is provably
        the max-min allocation; otherwise every flow connected to what changed through shared links is (and
        every flow under ``fluid``, or when the residual capacity changed).
        """
        if self._coasting:
            # Bring up to date the coasting flows whose plan a change may void: all of them when the residual
            # capacity changed; else those on changed links that now carry more reserved caps than fit.
            # Elsewhere the plan stays exact: what it reserved still fits, and its rate does not depend on the
            # uncapped flows (they share what the caps leave, re-shared at every silent boundary: see `wake`).
            if self._full:
                touched = dict.fromkeys(self._coasting)
            else:
                load, residual, link_coasting = self._capped_load, self.residual_bps, self._link_coasting
                touched = {
                    f: None for link in self._dirty_links if load[link] > residual[link] for f in link_coasting[link]
                }
            if touched:
                for flow in sorted(touched, key=_by_id):  # sets iterate by hash: fix the order
                    self._materialise(flow, self.time_s)
                    self._changed.append(flow)
        changed, self._changed = self._changed, []
        dirty, self._dirty_links = self._dirty_links, set()
        verify = False
        if self._flows:
            if not self._tcp or self._full or not self._reallocate_incrementally(changed, dirty):
                # a full max-min over every flow connected to the changed links through shared links (the
                # others keep their rates: no link of theirs changes); over all flows when the residual changed
                subset = None if not self._tcp or self._full else self._connected(dirty, changed)
                self._full = False
                self.full_reallocations += 1
                self._reallocate_all(changed, subset)
                self._dirty_links.clear()
            else:
                self.incremental_reallocations += 1
                verify = self.check_capacity
            if self.check_capacity:
                self._check_capacity()
        else:
            self._full = False
        if self._plan:
            plan, self._plan = self._plan, []
            for flow in plan:
                self._start_coasting(flow)
        next_due = self._next_due()
        if verify and next_due > self.time_s + 8.0 * math.ulp(max(self.time_s, 1.0)):
            # (with an event still due at this instant, e.g. a silent boundary whose re-share of uncapped flows
            # is pending, the allocation is between two consistent states: it is checked after that event)
            self._verify_allocation()
        return next_due

    def _start_coasting(self, flow: Flow) -> None:
        """Let a window-limited flow play its next round boundaries silently.

        A boundary is silent when the per-round play would only double the flow's cap there: it is not the final
        round (the rest does not fit the doubled window) and the doubled cap fits every link of the flow next to
        what the other capped flows there hold (their caps, or the reserves of coasting ones). The flow then gets
        one event, at the first boundary that is not silent, and reserves the cap it reaches before it. Uncapped
        flows on its links are re-shared at its first silent boundary (and, from there, at each next one).
        """
        if flow.coast or flow.phase != _SLOW_START or flow.rate != flow.cap or flow not in self._flows:
            return
        residual = self.residual_bps
        load = self._capped_load
        link_uncapped = self._link_uncapped
        head = math.inf
        shared = False
        for link in flow.links:
            if link_uncapped[link]:
                shared = True
            room = residual[link] - (load[link] - flow.cap)
            if room < head:
                head = room
        # replay the per-round arithmetic (same float operations as _materialise and step)
        remaining = flow.remaining
        updated = flow.updated_s
        rate = flow.rate
        window = flow.window
        boundary = flow.round_end_s
        rtt = flow.rtt_s
        rounds = 0
        while True:
            remaining -= rate * (boundary - updated)
            window *= 2.0
            if remaining <= window * (1.0 + 1e-12):
                break  # the final round: an event (the rest leaves at the share rate)
            cap = window / rtt
            if cap > head:
                break  # the doubled window would not fit: an event (re-share)
            rounds += 1
            updated = boundary
            rate = cap
            boundary = boundary + rtt
        if rounds == 0:
            return
        flow.coast = rounds
        flow.reserve = rate
        flow.coast_bps, flow.coast_next_s, flow.coast_left = flow.rate, flow.round_end_s, rounds
        flow.coast_gap = rate - flow.rate
        flow.coast_end_s = -math.inf
        extra = rate - flow.cap
        link_coasting = self._link_coasting
        for link in flow.links:
            load[link] += extra
            link_coasting[link][flow] = None
        flow.version += 1
        heapq.heappush(self._due, (boundary, next(self._seq), flow.version, flow))
        self._coasting.add(flow)
        if shared:
            # its first silent boundary moves the shares of the uncapped flows connected to it: re-share them there
            first = flow.round_end_s
            for other in self._component(flow.links):
                if first < other.wake:
                    other.wake = first
                    self._set_rate(other, other.rate)

    def _played_until(self, now: float) -> float:
        """The last round boundary time that counts as played at ``now`` (see ``_coast_now``).

        Those before ``now``, and those up to the last time ``step`` played (plus the float clock's resolution
        there, as in ``step``): never fewer as time goes on.
        """
        before = math.nextafter(now, -math.inf)
        played = self._played_end_s
        return played if played > before else before

    def _materialise(self, flow: Flow, now: float) -> None:
        """Play a coasting flow's silent round boundaries up to ``now`` and end its coasting (reserve = cap)."""
        end = self._played_until(now)
        old_reserve = flow.reserve
        while flow.coast and flow.round_end_s <= end:
            boundary = flow.round_end_s
            flow.remaining -= flow.rate * (boundary - flow.updated_s)
            flow.updated_s = boundary
            flow.window *= 2.0
            flow.cap = flow.window / flow.rtt_s
            flow.rate = flow.cap
            flow.round_end_s = boundary + flow.rtt_s
            flow.coast -= 1
        flow.coast = 0
        flow.reserve = 0.0
        extra = flow.cap - old_reserve
        load, link_coasting = self._capped_load, self._link_coasting
        for link in flow.links:
            load[link] += extra
            del link_coasting[link][flow]
        flow.version += 1  # its planned event is void: whoever materialises gives it a new one
        self._coasting.discard(flow)

    def _rate_at(self, flow: Flow, now: float) -> float:
        """A flow's rate at ``now`` (a coasting flow's cap in the round that contains ``now``)."""
        if not flow.coast:
            return flow.rate
        rate, boundary, left = flow.rate, flow.round_end_s, flow.coast
        end = self._played_until(now)  # a boundary at `now` itself counts once its event has been played
        while left and boundary <= end:
            rate *= 2.0
            boundary += flow.rtt_s
            left -= 1
        return rate

    def _coast_now(self, flow: Flow, now: float) -> tuple[float, float]:
        """A coasting flow's cap once its silent boundaries before ``now`` are played, and its next boundary.

        Same float operations as ``_materialise``, which would give the flow exactly this cap and boundary. A
        boundary at ``now`` itself counts once ``step`` has played ``now`` (as its event would in the per-round
        play, after other changes at that time): the uncapped flows it moves are re-shared then (their ``wake``).
        """
        end = self._played_until(now)
        if end >= flow.coast_end_s:  # go on from the last answer (the same operations, in the same order)
            rate, boundary, left = flow.coast_bps, flow.coast_next_s, flow.coast_left
        else:
            rate, boundary, left = flow.rate, flow.round_end_s, flow.coast
        if left and boundary <= end:
            rtt = flow.rtt_s
            while left and boundary <= end:
                rate *= 2.0  # == window * 2 / rtt exactly (scaling by 2 is exact)
                boundary = boundary + rtt
                left -= 1
        flow.coast_bps, flow.coast_next_s, flow.coast_left, flow.coast_end_s = rate, boundary, left, end
        flow.coast_gap = flow.reserve - rate
        return rate, boundary

    def _next_due(self) -> float:
        due = self._due
        while due:
            time_s, _, version, flow = due[0]
            if flow.version == version and flow in self._flows:
                return time_s
            heapq.heappop(due)
        return math.inf

    def _reallocate_incrementally(self, changed: list[Flow], dirty: set[int]) -> bool:
        residual = self.residual_bps
        load = self._capped_load
        link_uncapped = self._link_uncapped
        touches_uncapped = False
        for link in dirty:
            if load[link] > residual[link]:
                return False
            if link_uncapped[link]:
                touches_uncapped = True
        if not touches_uncapped:
            # only window-limited flows on links no uncapped flow uses: each runs at its cap, nobody else moves
            self._run_at_caps(changed)
            return True
        component = self._component(dirty)
        left = {link: residual[link] - load[link] for flow in component for link in flow.links}
        # coasting flows on these links hold their current cap, not their reserve, until their next boundary:
        # the shares below hold until then (`wake`), when the uncapped flows are re-shared
        now = self.time_s
        end = now + 8.0 * math.ulp(now if now > 1.0 else 1.0)  # no boundary after it counts as played yet
        link_coasting = self._link_coasting
        wake = math.inf
        for link in left:
            on = link_coasting[link]
            if not on:
                continue
            room = left[link]
            for f in on:
                if f.coast_next_s <= end:  # a silent boundary may have been played since `_coast_now` last ran
                    self._coast_now(f, now)
                boundary = f.coast_next_s
                if boundary < wake:
                    wake = boundary
                room += f.coast_gap
            left[link] = room
        link_capped = self._link_capped

        def max_cap(link: int) -> float:
            # (every coasting flow on these links is brought up to `now` above)
            return max((f.coast_bps if f.coast else f.cap for f in link_capped[link]), default=0.0)

        if len(component) == 1:
            # one uncapped flow: its bottleneck (as share_left_over, with the same float operations)
            rate = min(left.values())
            if rate < 0.0:
                return False
            level = rate * (1.0 + 1e-12)
            for link, room in left.items():
                if rate >= room * (1.0 - 1e-12) and max_cap(link) > level:
                    return False
            rates = [rate]
        else:
            if min(left.values()) < 0.0:
                return False
            shares = share_left_over([flow.links for flow in component], left, max_cap)
            if shares is None:
                return False
            rates = shares
        live = self._run_at_caps(changed)
        for flow, rate in zip(component, rates, strict=True):
            if rate != flow.rate or flow in live or flow.wake != wake:
                flow.wake = wake
                self._set_rate(flow, rate)
        return True

    def _component(self, links: Iterable[int]) -> list[Flow]:
        """The uncapped flows reachable from ``links`` through the links they share, in creation order."""
        link_uncapped = self._link_uncapped
        component: list[Flow] = []
        seen: set[Flow] = set()
        frontier = list(links)
        visited_links = set(frontier)
        while frontier:
            link = frontier.pop()
            for flow in link_uncapped[link]:
                if flow not in seen:
                    seen.add(flow)
                    component.append(flow)
                    for other in flow.links:
                        if other not in visited_links:
                            visited_links.add(other)
                            frontier.append(other)
        if len(component) > 1:
            component.sort(key=_by_id)  # deterministic order (sets iterate by hash)
        return component

    def _run_at_caps(self, changed: list[Flow]) -> set[Flow]:
        """Give each changed, still active, window-limited flow its cap; return the changed flows still active."""
        flows = self._flows
        if len(changed) == 1:
            flow = changed[0]
            if flow not in flows:
                return set()
            if flow.cap < math.inf:
                self._set_rate(flow, flow.cap)
            return {flow}
        live = {flow for flow in changed if flow in flows}
        done: set[Flow] = set()
        for flow in changed:  # in order, not by hash: the order of equal-time events must not vary between runs
            if flow in live and flow not in done and flow.cap < math.inf:
                done.add(flow)
                self._set_rate(flow, flow.cap)
        return live

    def _connected(self, dirty: set[int], changed: list[Flow]) -> list[Flow]:
        """The active flows reachable from the changed links through links any flows share, in creation order."""
        link_capped, link_uncapped, active = self._link_capped, self._link_uncapped, self._flows
        frontier = list(dirty)
        for flow in changed:
            if flow in active:
                frontier.extend(flow.links)
        visited = set(frontier)
        seen: set[Flow] = set()
        while frontier:
            link = frontier.pop()
            for group in (link_capped[link], link_uncapped[link]):
                for flow in group:
                    if flow not in seen:
                        seen.add(flow)
                        for other in flow.links:
                            if other not in visited:
                                visited.add(other)
                                frontier.append(other)
        return sorted(seen, key=_by_id)

    def _reallocate_all(self, changed: list[Flow], subset: list[Flow] | None = None) -> None:
        """Max-min over all flows (or over ``subset``: a set of flows no other flow shares a link with)."""
        flows = list(self._flows) if subset is None else subset
        changed_set = set(changed)
        residual = self.residual_bps
        lone = len(flows) == 1 and flows[0].cap == math.inf  # a lone uncapped flow gets its bottleneck
        if not self._tcp:
            rates = (
                [min([residual[link] for link in flows[0].links])]
                if lone
                else max_min_rates([f.links for f in flows], residual)
            )
            for flow, rate in zip(flows, rates, strict=True):
                if flow in changed_set or rate != flow.rate:
                    self._set_rate(flow, rate)
            return
        now = self.time_s
        # coasting flows count at their current cap; each keeps coasting unless its share falls below it
        current = {f: self._coast_now(f, now) for f in flows if f.coast} if self._coasting else {}
        caps = [current[f][0] if f.coast else f.cap for f in flows] if current else [f.cap for f in flows]
        if lone:
            rates = [min([residual[link] for link in flows[0].links])]
        else:
            rates = max_min_rates([f.links for f in flows], residual, caps)
        link_coasting = self._link_coasting
        for flow, cap, rate in zip(flows, caps, rates, strict=True):
            if flow.coast:
                if rate >= cap * (1.0 - 1e-12):
                    continue  # runs at its cap as planned
                self._materialise(flow, now)
                force = True
            else:
                force = flow in changed_set
            if self._tcp and flow.phase == _SLOW_START and rate < flow.cap * (1.0 - 1e-12):
                # the window no longer limits it: it has reached its max-min share (no losses modelled);
                # dropping a cap that does not bind leaves the max-min allocation as it is
                self._count(flow, -1)
                flow.phase = _FLUID
                flow.cap = math.inf
                flow.round_end_s = math.inf
                self._count(flow, +1)
                force = True
            if current and flow.cap == math.inf:
                # re-share again at the next boundary of a coasting flow on its links (it moves this share)
                wake = min((current[f][1] for link in flow.links for f in link_coasting[link]), default=math.inf)
            else:
                wake = math.inf
            if wake != flow.wake:
                flow.wake = wake
                force = True
            if force or rate != flow.rate:
                self._set_rate(flow, rate)

    def _verify_allocation(self) -> None:
        flows = list(self._flows)
        now = self.time_s
        links = [f.links for f in flows]
        caps = [self._coast_now(f, now)[0] if f.coast else f.cap for f in flows]
        references = [max_min_rates(links, self.residual_bps, caps)]
        before = [self._rate_at(f, now) if f.coast else f.cap for f in flows]
        if before != caps:
            # at the instant of a silent boundary its event may or may not have been played yet (the shares of
            # the uncapped flows it moves change at that event): both allocations are valid at that instant
            references.append(max_min_rates(links, self.residual_bps, before))
        for i, flow in enumerate(flows):
            got = [caps[i] if flow.coast else flow.rate, before[i] if flow.coast else flow.rate]
            if not any(abs(g - ref[i]) <= 1e-9 * max(1.0, ref[i]) for g, ref in zip(got, references, strict=False)):
                rate = references[0][i]
                raise InvariantError(
                    f"incremental max-min gave {got[0]!r} bit/s to a flow whose max-min rate is {rate!r} bit/s"
                )

    def step(self, now: float) -> list[Flow]:
        """Play what is due at ``now``: TCP round boundaries, and flows whose last bit has left.

        Returns:
            The drained flows (removed); each is delivered at ``now + flow.delay_after_drain_s``.
            Call ``reallocate`` afterwards.
        """
        self.time_s = now
        # a drain or round end below the float clock's resolution at `now` counts as now: waiting for it
        # would schedule an event at the same float time forever
        time_eps = 8.0 * math.ulp(now if now > 1.0 else 1.0)
        horizon = now + time_eps
        self._played_end_s = horizon
        drained: list[Flow] = []
        due = self._due
        flows = self._flows
        heappop = heapq.heappop
        while due and due[0][0] <= horizon:
            _, _, version, flow = heappop(due)
            if flow.version != version or flow not in flows:
                continue
            if flow.coast:
                self._materialise(flow, now)  # plays the silent boundaries; the next one is this event
            flow.remaining -= flow.rate * (now - flow.updated_s)
            flow.updated_s = now
            if flow.remaining <= _REL_DRAIN_TOL * flow.bits + _ABS_DRAIN_TOL_BITS or (
                flow.remaining <= flow.rate * time_eps
            ):
                undelivered = abs(flow.remaining)
                if undelivered > self.max_undelivered_bits:
                    self.max_undelivered_bits = undelivered
                self.bits_delivered += flow.bits - flow.remaining
                self._count(flow, -1)
                del flows[flow]
                drained.append(flow)
                continue
            if flow.round_end_s <= horizon:
                self._count(flow, -1)
                if flow.phase == _SLOW_START:
                    flow.window *= 2.0
                self._start_round(flow, now)
                self._count(flow, +1)
                self._changed.append(flow)  # its entry is spent: reallocate gives it a rate and a new one
            else:
                # its wake: a coasting flow's window doubled on its links; re-share (as that boundary's event)
                flow.wake = math.inf
                self._dirty_links.update(flow.links)
                self._changed.append(flow)
        return drained

    def link_load_bps(self, background_bps: Sequence[float], now_s: float | None = None) -> list[float]:
        """Background plus the flow rates at ``now_s`` (default: the last change) on every link, in bit/s."""
        now = self.time_s if now_s is None else now_s
        load = [float(b) for b in background_bps]
        for flow in self._flows:
            rate = self._rate_at(flow, now) if flow.coast else flow.rate
            for link in flow.links:
                load[link] += rate
        return load

    def _check_capacity(self) -> None:
        # the load now (coasting flows at their current cap), and the capped flows' load once the coasting
        # ones reach their reserves (the uncapped flows are re-shared at every boundary on their links first)
        now = self.time_s
        load: dict[int, float] = {}
        peak: dict[int, float] = {}
        for flow in self._flows:
            rate = self._rate_at(flow, now) if flow.coast else flow.rate
            reserve = flow.reserve if flow.coast else (flow.rate if flow.cap < math.inf else 0.0)
            for link in flow.links:
                load[link] = load.get(link, 0.0) + rate
                peak[link] = peak.get(link, 0.0) + reserve
        for link, rate in load.items():
            residual = self.residual_bps[link]
            rate = max(rate, peak[link])
            ratio = rate / residual if residual > 0 else (math.inf if rate > 0 else 0.0)
            if ratio > self.max_load_ratio:
                self.max_load_ratio = ratio
