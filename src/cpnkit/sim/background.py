"""Background traffic: traffic matrices routed on shortest paths, scaled to a stated link utilisation.

On Abilene the real 5-minute SNDlib/Zhang matrices are routed as they are. Elsewhere a gravity model
gives the spatial pattern (node mass = total capacity of its outgoing links, a common choice in
traffic-engineering studies) and the Abilene series' total volume gives the temporal pattern, so every
topology sees a real diurnal/weekly shape. Routing is shortest-path by propagation delay (ties split
equally, i.e. ECMP on equal-cost predecessors), which makes link loads linear in the demands.

Scaling: the demands are multiplied by one factor so that the busiest link's utilisation, averaged over
the series, equals ``target_utilisation``. Peaks above ``max_utilisation`` are clipped there and counted
in ``BackgroundTraffic.clipped_link_steps`` (never silently).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from cpnkit.errors import ConfigError
from cpnkit.model import Topology, TrafficSeries

__all__ = [
    "BackgroundTraffic",
    "gravity_background",
    "route_demands",
    "scale_background",
    "series_background",
]

_TIE_TOLERANCE = 1e-12


@dataclass(frozen=True, eq=False)
class BackgroundTraffic:
    """Background load of every link over time.

    Attributes:
        load_bps: Array ``(n_steps, n_links)``, background rate per link in bit/s (< capacity).
        step_s: Seconds between steps; the series wraps around after the last step.
        start_step: Step in force at simulated time 0.
        target_utilisation: Time-mean utilisation of the busiest link that the scaling aimed at.
        clipped_link_steps: How many (step, link) loads were clipped at ``max_utilisation``.
        source: Where the matrices come from.
    """

    load_bps: npt.NDArray[np.float64]
    step_s: float = 300.0
    start_step: int = 0
    target_utilisation: float = 0.0
    clipped_link_steps: int = 0
    source: str = ""

    @property
    def n_steps(self) -> int:
        """Number of steps in the series."""
        return int(self.load_bps.shape[0])

    def step_at(self, time_s: float) -> int:
        """Index of the step in force at ``time_s`` (wrapping around)."""
        return (self.start_step + int(time_s // self.step_s)) % self.n_steps

    @classmethod
    def idle(cls, n_links: int) -> BackgroundTraffic:
        """No background traffic."""
        return cls(load_bps=np.zeros((1, n_links)), step_s=math.inf, source="none")


def route_demands(topology: Topology, demand_bps: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Route an origin-destination demand matrix on shortest-delay paths (ECMP on ties).

    Args:
        topology: The network.
        demand_bps: Array ``(n_nodes, n_nodes)`` in bit/s, rows = origins, in ``topology.nodes`` order.

    Returns:
        Load per link in bit/s, indexed like ``topology.links``.
    """
    n = len(topology.nodes)
    demand = np.asarray(demand_bps, dtype=np.float64)
    if demand.shape != (n, n):
        raise ConfigError(f"demand matrix has shape {demand.shape}; expected ({n}, {n}) in topology node order")
    src_idx = np.array([topology.node_index(link.src) for link in topology.links], dtype=np.intp)
    dst_idx = np.array([topology.node_index(link.dst) for link in topology.links], dtype=np.intp)
    weights = topology.prop_delay_s
    dist = dijkstra(csr_matrix((weights, (src_idx, dst_idx)), shape=(n, n)), directed=True)
    loads = np.zeros(len(topology.links))
    # Per destination t (as OSPF/IS-IS forward): node u splits everything it holds for t equally over its
    # next hops v with w(u, v) + d(v, t) = d(u, t). With A[v, u] = 1 / nexthops(u), the traffic held at each
    # node is sum_k A^k demand[:, t]; A is nilpotent (distances strictly fall), so the series ends exactly.
    for t in range(n):
        column = demand[:, t].copy()
        column[t] = 0.0
        if not column.any():
            continue
        d_t = dist[:, t]
        d_src, d_dst = d_t[src_idx], d_t[dst_idx]
        with np.errstate(invalid="ignore"):
            on = np.isfinite(d_src) & (np.abs(weights + d_dst - d_src) <= _TIE_TOLERANCE * np.maximum(1.0, d_src))
        if np.isinf(d_t[column > 0]).any():
            raise ConfigError(f"demand towards node {topology.nodes[t].id!r} has an origin that cannot reach it")
        hops_u = src_idx[on]
        frac = 1.0 / np.bincount(hops_u, minlength=n)[hops_u]
        step = csr_matrix((frac, (dst_idx[on], hops_u)), shape=(n, n))
        held = column
        current = column
        for _ in range(n):
            current = step @ current
            if not current.any():
                break
            held = held + current
        loads[on] += held[hops_u] * frac
    return loads


def scale_background(
    raw_load_bps: npt.NDArray[np.float64],
    capacity_bps: npt.NDArray[np.float64],
    target_utilisation: float,
    max_utilisation: float = 0.95,
) -> tuple[npt.NDArray[np.float64], int]:
    """Scale per-step link loads so the busiest link's mean utilisation equals the target.

    Args:
        raw_load_bps: ``(n_steps, n_links)`` unscaled loads.
        capacity_bps: Link capacities.
        target_utilisation: Wanted time-mean of the per-step maximum link utilisation (0 <= u < 1).
        max_utilisation: Per-link cap after scaling; loads above are clipped and counted.

    Returns:
        The scaled loads and the number of clipped (step, link) entries.
    """
    if not (0.0 <= target_utilisation < 1.0):
        raise ConfigError(
            f"background utilisation {target_utilisation!r} must be in [0, 1); 0.5 loads the busiest link to 50%"
        )
    if not (target_utilisation <= max_utilisation < 1.0):
        raise ConfigError(f"max_utilisation={max_utilisation!r} must be in [target, 1)")
    util = raw_load_bps / capacity_bps
    mean_peak = float(util.max(axis=1).mean())
    if target_utilisation == 0.0 or mean_peak == 0.0:
        return np.zeros_like(raw_load_bps), 0
    scaled = raw_load_bps * (target_utilisation / mean_peak)
    limit = capacity_bps * max_utilisation
    clipped = int((scaled > limit).sum())
    return np.minimum(scaled, limit), clipped


def series_background(
    topology: Topology,
    series: TrafficSeries,
    target_utilisation: float,
    start_step: int = 0,
    max_utilisation: float = 0.95,
) -> BackgroundTraffic:
    """Route a real traffic-matrix series whose node ids are the topology's (e.g. Abilene).

    Raises:
        ConfigError: a series node is not in the topology.
    """
    order = np.array([topology.node_index(node) for node in series.nodes], dtype=np.intp)
    n = len(topology.nodes)
    # routing is linear: route each OD pair once (unit demand) and combine per step.
    n_od = len(order) ** 2
    routing = np.zeros((len(topology.links), n_od))
    for i, a in enumerate(order):
        for j, b in enumerate(order):
            if a == b:
                continue
            unit = np.zeros((n, n))
            unit[a, b] = 1.0
            routing[:, i * len(order) + j] = route_demands(topology, unit)
    raw = series.rates_bps.reshape(series.n_steps, n_od) @ routing.T
    loads, clipped = scale_background(raw, topology.capacity_bps, target_utilisation, max_utilisation)
    return BackgroundTraffic(
        load_bps=loads,
        step_s=series.step_s,
        start_step=start_step % series.n_steps,
        target_utilisation=target_utilisation,
        clipped_link_steps=clipped,
        source=f"traffic series ({series.n_steps} steps from {series.start or 'start'})",
    )


def gravity_background(
    topology: Topology,
    volume_shape: npt.NDArray[np.float64],
    target_utilisation: float,
    step_s: float = 300.0,
    start_step: int = 0,
    max_utilisation: float = 0.95,
) -> BackgroundTraffic:
    """Gravity-model demands (mass = outgoing capacity) modulated over time by ``volume_shape``.

    Args:
        topology: The network.
        volume_shape: Relative total volume per step (e.g. the Abilene series' totals), > 0.
        target_utilisation: See ``scale_background``.
        step_s: Seconds per step.
        start_step: Step in force at time 0.
        max_utilisation: See ``scale_background``.
    """
    shape = np.asarray(volume_shape, dtype=np.float64)
    if shape.ndim != 1 or shape.size == 0 or not np.isfinite(shape).all() or (shape < 0).any():
        raise ConfigError("volume_shape must be a non-empty 1-D array of finite values >= 0")
    mass = np.zeros(len(topology.nodes))
    for link in topology.links:
        mass[topology.node_index(link.src)] += link.capacity_bps
    demand = np.outer(mass, mass)
    np.fill_diagonal(demand, 0.0)
    demand /= demand.sum()
    base = route_demands(topology, demand)
    raw = np.outer(shape / shape.mean(), base)
    loads, clipped = scale_background(raw, topology.capacity_bps, target_utilisation, max_utilisation)
    return BackgroundTraffic(
        load_bps=loads,
        step_s=step_s,
        start_step=start_step % shape.size,
        target_utilisation=target_utilisation,
        clipped_link_steps=clipped,
        source="gravity model (mass = outgoing capacity) x Abilene volume shape",
    )
