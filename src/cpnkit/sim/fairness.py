"""Max-min fair rate allocation (progressive filling / water-filling over links).

Pure Python on purpose: the simulator calls this at every flow arrival and departure, usually with a
handful of active flows, where loops over small dicts beat numpy's per-call overhead. A lazy heap of link
fair shares keeps congested cases (hundreds of flows) at O(flows x hops x log links) per call instead of
rescanning every link per frozen flow.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from cpnkit.errors import ConfigError

__all__ = ["max_min_rates"]


def max_min_rates(flow_links: Sequence[Sequence[int]], capacity_bps: Sequence[float]) -> list[float]:
    """Max-min fair rates of flows over links of given (residual) capacity.

    Progressive filling: raise every unfrozen flow's rate equally until a link saturates; freeze the flows
    crossing it at that link's fair share; repeat on what remains. Each flow must cross at least one link.

    Args:
        flow_links: For each flow, the ids of the links it crosses (ids index ``capacity_bps``).
        capacity_bps: Capacity available to these flows on every link, in bit/s (>= 0).

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
    """
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
