"""Max-min fair rate allocation (progressive filling / water-filling over links).

Pure Python on purpose: the simulator calls this at every flow arrival and departure, usually with a
handful of active flows, where loops over small dicts beat numpy's per-call overhead. A lazy heap of link
fair shares keeps congested cases (hundreds of flows) at O(flows x hops x log links) per call instead of
rescanning every link per frozen flow.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping, Sequence

from cpnkit.errors import ConfigError

__all__ = ["max_min_rates", "share_left_over"]


def max_min_rates(
    flow_links: Sequence[Sequence[int]],
    capacity_bps: Sequence[float],
    caps_bps: Sequence[float] | None = None,
) -> list[float]:
    """Max-min fair rates of flows over links of given (residual) capacity, with optional per-flow caps.

    Progressive filling: raise every unfrozen flow's rate equally until a link saturates or a flow reaches its
    cap; freeze those flows there; repeat on what remains. A cap acts as a private link of that capacity (a TCP
    window limit, ``window / RTT``). Each flow must cross at least one link.

    Args:
        flow_links: For each flow, the ids of the links it crosses (ids index ``capacity_bps``).
        capacity_bps: Capacity available to these flows on every link, in bit/s (>= 0).
        caps_bps: Per-flow rate limit in bit/s (``inf`` for none); ``None`` for no caps.

    Returns:
        The rate of each flow in bit/s, in input order.

    Raises:
        ConfigError: a flow crosses no link.

    >>> # three flows, two unit links: f0 on link 0, f1 on link 1, f2 on both -> 1/2 each
    >>> max_min_rates([[0], [1], [0, 1]], [1.0, 1.0])
    [0.5, 0.5, 0.5]
    >>> # classic: link 0 (cap 1) shared by f0, f1; link 1 (cap 10) carries f1, f2 -> f2 gets the rest
    >>> max_min_rates([[0], [0, 1], [1]], [1.0, 10.0])
    [0.5, 0.5, 9.5]
    >>> # a cap frees capacity for the others
    >>> max_min_rates([[0], [0]], [1.0], caps_bps=[0.2, float("inf")])
    [0.2, 0.8]
    """
    if caps_bps is not None and flow_links:
        return _capped(flow_links, capacity_bps, caps_bps)
    return _fill(flow_links, capacity_bps)


def _fill(flow_links: Sequence[Sequence[int]], capacity_bps: Sequence[float] | Mapping[int, float]) -> list[float]:
    """Progressive filling without caps; ``capacity_bps`` may be a mapping holding just the links of these flows."""
    n = len(flow_links)
    rates = [0.0] * n
    if n == 0:
        return rates
    link_flows: dict[int, list[int]] = {}
    for f, links in enumerate(flow_links):
        if not links:
            raise ConfigError(f"flow {f} crosses no link; every flow needs a path of >= 1 link")
        for link in links:
            bucket = link_flows.get(link)
            if bucket is None:
                link_flows[link] = [f]
            else:
                bucket.append(f)
    if n == 1:  # fast path: a lone flow gets its bottleneck
        rates[0] = min(capacity_bps[link] for link in flow_links[0])
        return rates
    # A link that only one flow crosses matters only as that flow's bottleneck: of those, keep per flow the one
    # with the smallest (capacity, id), where progressive filling freezes the flow at the latest (the others
    # are never reached: the flow is frozen first). Same rates as with every link, over fewer links.
    remaining: dict[int, float] = {}
    unfrozen: dict[int, int] = {}
    kept: list[list[int]] = [[] for _ in range(n)]  # the links of each flow that are kept
    private_bps = [math.inf] * n
    private_link: list[int | None] = [None] * n
    for link, flows in link_flows.items():
        capacity = float(capacity_bps[link])
        if len(flows) > 1:
            remaining[link] = capacity
            unfrozen[link] = len(flows)
            for f in flows:
                kept[f].append(link)
        else:
            f = flows[0]
            best, best_link = private_bps[f], private_link[f]
            if best_link is None or capacity < best or (capacity == best and link < best_link):
                private_bps[f] = capacity
                private_link[f] = link
    for f, best_link in enumerate(private_link):
        if best_link is not None:
            link = best_link
            remaining[link] = private_bps[f]
            unfrozen[link] = 1
            kept[f].append(link)
    # Lazy min-heap of fair shares. Freezing flows at the smallest share s never lowers another link's
    # share ((R - s) / (n - 1) >= R / n when R / n >= s), so a popped entry is either current or too small:
    # recompute it and push it back when it grew.
    heap = [(remaining[link] / count, link) for link, count in unfrozen.items()]
    heapq.heapify(heap)
    frozen = [False] * n
    left = n
    while left:
        share, best_link = heapq.heappop(heap)
        count = unfrozen.get(best_link)
        if count is None:
            continue
        current = remaining[best_link] / count
        if current > share:
            heapq.heappush(heap, (current, best_link))
            continue
        if current < 0.0:
            current = 0.0
        for f in link_flows[best_link]:
            if frozen[f]:
                continue
            frozen[f] = True
            left -= 1
            rates[f] = current
            for link in kept[f]:
                remaining[link] -= current
                count = unfrozen[link] - 1
                if count:
                    unfrozen[link] = count
                else:
                    del unfrozen[link]
    return rates


def share_left_over(
    flow_links: Sequence[Sequence[int]],
    left_bps: Mapping[int, float],
    max_cap_bps: Callable[[int], float],
) -> list[float] | None:
    """Max-min rates of uncapped flows over what window-capped flows running at their caps leave on each link.

    That is the max-min allocation of all flows together (capped ones at their caps) unless some capped flow
    crosses a link these flows saturate at a level below its cap: then ``None`` (recompute with caps as links).

    Args:
        flow_links: Links of each uncapped flow.
        left_bps: Capacity left on every link of those flows once the capped flows run at their caps, in bit/s.
        max_cap_bps: The largest cap of the capped flows crossing a link (0 when none), in bit/s.
    """
    rates = _fill(flow_links, left_bps)
    used: dict[int, float] = {}
    level: dict[int, float] = {}  # the largest uncapped rate on each link
    for each, rate in zip(flow_links, rates, strict=True):
        for link in each:
            sum_bps = used.get(link)
            if sum_bps is None:
                used[link] = rate
                level[link] = rate
            else:
                used[link] = sum_bps + rate
                if rate > level[link]:
                    level[link] = rate
    for link, sum_bps in used.items():
        if sum_bps >= left_bps[link] * (1.0 - 1e-12) and max_cap_bps(link) > level[link] * (1.0 + 1e-12):
            return None  # a window-limited flow would get less than its cap here
    return rates


def _capped(
    flow_links: Sequence[Sequence[int]], capacity_bps: Sequence[float], caps_bps: Sequence[float]
) -> list[float]:
    """Max-min with caps: capped flows at their caps and ``share_left_over`` when that is exact; else caps as links."""
    n = len(flow_links)
    if len(caps_bps) != n:
        raise ConfigError(f"{len(caps_bps)} caps for {n} flows; give one cap per flow (inf for none)")
    left: dict[int, float] = {}
    max_cap: dict[int, float] = {}
    uncapped: list[int] = []
    for f, links in enumerate(flow_links):
        cap = caps_bps[f]
        if cap < math.inf:
            for link in links:
                left[link] = left.get(link, capacity_bps[link]) - cap
                max_cap[link] = max(max_cap.get(link, 0.0), cap)
        else:
            uncapped.append(f)
    if all(v >= 0.0 for v in left.values()):
        rates = [float(c) for c in caps_bps]
        sub_links = [flow_links[f] for f in uncapped]
        for links in sub_links:
            for link in links:
                left.setdefault(link, capacity_bps[link])
        sub_rates = share_left_over(sub_links, left, lambda link: max_cap.get(link, 0.0))
        if sub_rates is not None:
            for f, rate in zip(uncapped, sub_rates, strict=True):
                rates[f] = rate
            return rates
    # each cap is a private link, numbered after the real ones (only the links these flows use are copied)
    extended = {link: capacity_bps[link] for links in flow_links for link in links}
    private = len(capacity_bps)
    links_with_caps: list[Sequence[int]] = []
    for links, cap in zip(flow_links, caps_bps, strict=True):
        if cap < math.inf:
            extended[private] = max(cap, 0.0)
            links_with_caps.append([*links, private])
            private += 1
        else:
            links_with_caps.append(links)
    return _fill(links_with_caps, extended)
