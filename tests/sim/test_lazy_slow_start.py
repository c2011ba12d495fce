"""Lazy slow start: coasting flows play their silent rounds exactly as one network event per round would."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpnkit.estimate import TransportConfig
from cpnkit.sim import FlowNetwork

# (start_s, links, payload_bytes, rtt_s) per flow; residual changes as (time_s, link, fraction of capacity)
FlowSpec = tuple[float, tuple[int, ...], float, float]
N_LINKS = 4
CAPACITY_BPS = [1e8, 1e9, 4e8, 1e8]


def _play(
    flows: list[FlowSpec], changes: list[tuple[float, int, float]], lazy: bool
) -> tuple[dict[int, float], list[list[float]], FlowNetwork]:
    """Run the flows; return each flow's drain time and the link loads seen at every external event."""
    network = FlowNetwork(CAPACITY_BPS, TransportConfig(), check_capacity=True, lazy_slow_start=lazy)
    external: list[tuple[float, int, Any]] = [(f[0], 1, i) for i, f in enumerate(flows)]
    external += [(t, 0, (link, frac)) for t, link, frac in changes]
    external.sort(key=lambda e: (e[0], e[1]))
    residual = list(CAPACITY_BPS)
    drained: dict[int, float] = {}
    loads: list[list[float]] = []
    position, next_net = 0, math.inf
    while position < len(external) or network.flows:
        t_ext = external[position][0] if position < len(external) else math.inf
        if t_ext <= next_net:
            now, kind, what = external[position]
            position += 1
            loads.append(network.link_load_bps([0.0] * N_LINKS, now))
            if kind == 0:
                link, frac = what
                residual = list(residual)
                residual[link] = CAPACITY_BPS[link] * frac
                network.set_residual(residual, now)
            else:
                _, links, payload, rtt = flows[what]
                network.add(links, payload, rtt / 2, now, what, rtt_s=rtt)
        else:
            now = next_net
            for flow in network.step(now):
                drained[flow.owner] = now
        next_net = network.reallocate()
    return drained, loads, network


_links = st.lists(st.integers(0, N_LINKS - 1), min_size=1, max_size=3, unique=True).map(tuple)
_flow = st.tuples(
    st.floats(0.0, 0.5),
    _links,
    st.sampled_from([5e3, 1e5, 3e5, 1e6, 3e6, 1e7]),
    st.sampled_from([0.002, 0.01, 0.02, 0.04, 0.08]),
)
_change = st.tuples(st.floats(0.0, 1.0), st.integers(0, N_LINKS - 1), st.floats(0.2, 1.0))


@settings(max_examples=150, deadline=None)
@given(st.lists(_flow, min_size=1, max_size=8), st.lists(_change, max_size=3))
def test_lazy_slow_start_equals_per_round_play(flows: list[FlowSpec], changes: list[tuple[float, int, float]]) -> None:
    reference, ref_loads, ref_net = _play(flows, changes, lazy=False)
    lazy, lazy_loads, lazy_net = _play(flows, changes, lazy=True)
    assert lazy.keys() == reference.keys() == set(range(len(flows)))
    for i, t in reference.items():
        assert lazy[i] == pytest.approx(t, rel=1e-9, abs=1e-12)
    for got, want in zip(lazy_loads, ref_loads, strict=True):
        assert got == pytest.approx(want, rel=1e-9, abs=1e-3)
    assert lazy_net.bits_delivered == pytest.approx(ref_net.bits_delivered, rel=1e-12)
    assert lazy_net.max_load_ratio <= 1.0 + 1e-9


def test_lazy_slow_start_saves_round_events() -> None:
    # one 10 MB flow alone on a 1 Gbit/s, 40 ms path: ~8 window-limited rounds, but two network events
    events = {}
    for lazy in (False, True):
        network = FlowNetwork([1e9], TransportConfig(), lazy_slow_start=lazy)
        network.add((0,), 1e7, 0.02, 0.0, "f", rtt_s=0.04)
        count, done = 0, []
        while not done:
            now = network.reallocate()
            done = network.step(now)
            count += 1
        events[lazy] = (count, now)
    assert events[True][1] == pytest.approx(events[False][1], rel=1e-12)
    assert events[False][0] >= 6
    assert events[True][0] <= 2
