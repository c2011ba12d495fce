"""Max-min fair rate allocation (progressive filling / water-filling over links).

Pure Python on purpose: the simulator calls this at every flow arrival and departure, usually with a
handful of active flows, where loops over small dicts beat numpy's per-call overhead. A lazy heap of link
fair shares keeps congested cases (hundreds of flows) at O(flows x hops x log links) per call instead of
rescanning every link per frozen flow.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

from cpnkit.errors import ConfigError

__all__ = ["max_min_rates"]


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
    n = len(flow_links)
    rates = [0.0] * n
    if n == 0:
        return rates
    if caps_bps is not None:
        return _capped(flow_links, capacity_bps, caps_bps)
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
    remaining = {link: float(capacity_bps[link]) for link in link_flows}
    unfrozen = {link: len(flows) for link, flows in link_flows.items()}
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
            for link in flow_links[f]:
                remaining[link] -= current
                count = unfrozen[link] - 1
                if count:
                    unfrozen[link] = count
                else:
                    del unfrozen[link]
    return rates


def _capped(
    flow_links: Sequence[Sequence[int]], capacity_bps: Sequence[float], caps_bps: Sequence[float]
) -> list[float]:
    """Max-min with caps.

    Fast path (exact, checked): put every capped flow at its cap, share what is left among the uncapped flows by
    max-min, and accept if no capped flow crosses a saturated link whose level is below its cap (then every flow
    is bottlenecked as max-min requires). Otherwise caps become private links in the general algorithm.
    """
    n = len(flow_links)
    if len(caps_bps) != n:
        raise ConfigError(f"{len(caps_bps)} caps for {n} flows; give one cap per flow (inf for none)")
    left: dict[int, float] = {}
    uncapped: list[int] = []
    for f, links in enumerate(flow_links):
        cap = caps_bps[f]
        if cap < math.inf:
            for link in links:
                left[link] = left.get(link, capacity_bps[link]) - cap
        else:
            uncapped.append(f)
    if all(v >= 0.0 for v in left.values()):
        rates = [float(c) for c in caps_bps]
        if not uncapped:
            return rates
        sub_links = [flow_links[f] for f in uncapped]
        residual: dict[int, float] = dict(left)
        for links in sub_links:
            for link in links:
                if link not in residual:
                    residual[link] = capacity_bps[link]
        ids = list(residual)
        index = {link: i for i, link in enumerate(ids)}
        sub_rates = max_min_rates([[index[link] for link in links] for links in sub_links], [residual[i] for i in ids])
        # level of each saturated link = the largest uncapped rate on it
        used: dict[int, float] = {}
        level: dict[int, float] = {}
        for links, rate in zip(sub_links, sub_rates, strict=True):
            for link in links:
                used[link] = used.get(link, 0.0) + rate
                if rate > level.get(link, -1.0):
                    level[link] = rate
        ok = True
        for f, links in enumerate(flow_links):
            cap = caps_bps[f]
            if cap < math.inf:
                for link in links:
                    if link in used and used[link] >= residual[link] * (1.0 - 1e-12) and level[link] < cap:
                        ok = False
                        break
                if not ok:
                    break
        if ok:
            for f, rate in zip(uncapped, sub_rates, strict=True):
                rates[f] = rate
            return rates
    extended = list(capacity_bps)
    links_with_caps: list[Sequence[int]] = []
    for links, cap in zip(flow_links, caps_bps, strict=True):
        if cap < math.inf:
            extended.append(max(cap, 0.0))
            links_with_caps.append([*links, len(extended) - 1])
        else:
            links_with_caps.append(links)
    return max_min_rates(links_with_caps, extended)
