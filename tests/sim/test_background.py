from __future__ import annotations

import numpy as np
import pytest

from cpnkit.errors import ConfigError
from cpnkit.model import Link, Topology
from cpnkit.sim import gravity_background, route_demands, scale_background


def _square() -> Topology:
    # s -> a -> t and s -> b -> t with equal delays (an ECMP tie), plus a slower direct s -> t
    links = [
        Link("s", "a", 1e9, 1e-3),
        Link("a", "t", 1e9, 1e-3),
        Link("s", "b", 1e9, 1e-3),
        Link("b", "t", 1e9, 1e-3),
        Link("s", "t", 1e9, 5e-3),
        Link("t", "s", 1e9, 5e-3),
    ]
    return Topology.from_links("square", links)


def test_route_demands_splits_equal_cost_paths_equally() -> None:
    topo = _square()
    demand = np.zeros((4, 4))
    demand[topo.node_index("s"), topo.node_index("t")] = 8e6
    loads = dict(zip(((link.src, link.dst) for link in topo.links), route_demands(topo, demand), strict=True))
    assert loads[("s", "a")] == pytest.approx(4e6)
    assert loads[("b", "t")] == pytest.approx(4e6)
    assert loads[("s", "t")] == 0.0


def test_route_demands_accumulates_transit_traffic(line3: Topology) -> None:
    demand = np.zeros((3, 3))
    demand[0, 2] = 1.0  # a -> c crosses a->b and b->c
    demand[1, 2] = 2.0  # b -> c
    demand[2, 0] = 3.0  # c -> a crosses c->b and b->a
    loads = dict(zip(((link.src, link.dst) for link in line3.links), route_demands(line3, demand), strict=True))
    assert loads == pytest.approx({("a", "b"): 1.0, ("b", "a"): 3.0, ("b", "c"): 3.0, ("c", "b"): 3.0})


def test_scale_background_hits_target_and_counts_clipping() -> None:
    raw = np.array([[1.0, 2.0], [3.0, 1.0]])
    cap = np.array([10.0, 10.0])
    scaled, clipped = scale_background(raw, cap, 0.5)
    assert scaled.max(axis=1).mean() / 10.0 == pytest.approx(0.5)
    assert clipped == 0
    scaled, clipped = scale_background(np.array([[1.0], [9.0]]), np.array([10.0]), 0.9, max_utilisation=0.95)
    assert clipped == 1
    assert scaled.max() == pytest.approx(9.5)
    with pytest.raises(ConfigError, match=r"background utilisation 1.2 must be in \[0, 1\)"):
        scale_background(raw, cap, 1.2)


def test_gravity_background_follows_volume_shape(line3: Topology) -> None:
    bg = gravity_background(line3, np.array([1.0, 2.0, 3.0]), 0.3, step_s=300.0, start_step=1)
    peaks = (bg.load_bps / line3.capacity_bps).max(axis=1)
    assert peaks.mean() == pytest.approx(0.3)
    assert peaks[2] == pytest.approx(3 * peaks[0])
    assert bg.step_at(0.0) == 1
    assert bg.step_at(601.0) == 0  # wraps around
