"""Hypothesis drives small random topologies and workloads through the simulator; the shared checker holds."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from cpnkit.estimate import TransportConfig
from cpnkit.model import Link, Task, Topology
from cpnkit.schedulers import make, registry
from cpnkit.sim import SimConfig, check_result, check_scheduler, simulate
from cpnkit.sim.testing import make_scenario


@st.composite
def _topologies(draw: st.DrawFn) -> Topology:
    n = draw(st.integers(3, 7))
    nodes = [f"n{i}" for i in range(n)]
    pairs = {(i, (i + 1) % n) for i in range(n)}  # a ring keeps it strongly connected
    chords = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=n))
    pairs |= {(a, b) for a, b in chords if a != b}
    links = []
    for a, b in sorted(pairs):
        for u, v in ((a, b), (b, a)):
            cap = draw(st.sampled_from([1e8, 5e8, 1e9]))
            delay = draw(st.sampled_from([5e-4, 1e-3, 4e-3]))
            links.append(Link(nodes[u], nodes[v], cap, delay))
    unique = {(link.src, link.dst): link for link in links}
    return Topology.from_links("random", unique.values(), meta={})


@given(
    topology=_topologies(),
    n_tasks=st.integers(1, 25),
    rate=st.sampled_from([10.0, 200.0, 2000.0]),
    scheduler=st.sampled_from(["nearest-ecmp", "random"]),
    mode=st.sampled_from(["online", "isolated"]),
    transport=st.sampled_from(["fluid", "tcp"]),
    seed=st.integers(0, 3),
)
def test_invariants_hold_on_random_runs(
    topology: Topology, n_tasks: int, rate: float, scheduler: str, mode: str, transport: str, seed: int
) -> None:
    nodes = list(topology.node_ids)
    sources = nodes[:2]
    sites = nodes[2:]
    tasks = [
        Task(
            id=i,
            arrival_s=i / rate,
            source=sources[i % 2],
            arch_idx=(i * 7919) % 15625,
            input_bytes=1e5 * (1 + (i * 13) % 40),
            splittable=bool(i % 3),
        )
        for i in range(n_tasks)
    ]
    scenario = make_scenario(topology, sites, tasks, models=("fast", "slow"))
    config = SimConfig(
        mode=mode,  # type: ignore[arg-type]
        check_capacity=True,
        transport=TransportConfig(model=transport, handshake=seed == 3),  # type: ignore[arg-type]
    )
    result = simulate(scenario, make(scheduler, seed=seed), config, seed=seed)
    check_result(result, scenario)
    assert result.stats["bits_sent"] > 0


def test_check_scheduler_passes_for_every_registered_scheduler() -> None:
    for sid in registry.ids():
        check_scheduler(make(sid, seed=0), twin=make(sid, seed=0))


def test_line_chain_helper_is_consistent() -> None:
    # guard the fixture maker itself: pairwise links in both directions
    links = [Link(a, b, 1e9, 1e-3) for a, b in itertools.permutations("xyz", 2)]
    assert len(Topology.from_links("tri", links).links) == 6
