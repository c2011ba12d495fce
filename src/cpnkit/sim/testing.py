"""Tiny hand-built scenarios for tests, doctests and examples (no data files needed).

``line_scenario``: nodes ``a - b - c`` (bidirectional, 1 Gbit/s, 1 ms per link), tasks enter at ``a``,
one site at ``c`` with one device of a synthetic model whose latency for architecture ``i`` is
``1 ms + i * 1 us``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from cpnkit.estimate import PredictionTable
from cpnkit.model import NB201_ARCHS, Device, LatencyTable, Link, Site, Task, Topology
from cpnkit.sim.background import BackgroundTraffic
from cpnkit.sim.scenario import Scenario

__all__ = ["line_scenario", "line_topology", "make_scenario", "synthetic_latency_table"]


def synthetic_latency_table(models: Sequence[str] = ("toy",), base_s: float = 1e-3) -> LatencyTable:
    """A latency table where model ``j`` runs architecture ``i`` in ``(j + 1) * base_s + i * 1e-6`` s."""
    archs = np.arange(NB201_ARCHS, dtype=np.float64)[:, None] * 1e-6
    scale = np.arange(1, len(models) + 1, dtype=np.float64)[None, :] * base_s
    return LatencyTable(devices=tuple(models), latency_s=archs + scale, source="synthetic")


def line_topology(n: int = 3, capacity_bps: float = 1e9, prop_delay_s: float = 1e-3, name: str = "line") -> Topology:
    """``n`` nodes ``a, b, c, ...`` in a bidirectional line."""
    ids = [chr(ord("a") + i) for i in range(n)]
    links = []
    for u, v in itertools.pairwise(ids):
        links.append(Link(u, v, capacity_bps, prop_delay_s))
        links.append(Link(v, u, capacity_bps, prop_delay_s))
    return Topology.from_links(name, links)


def make_scenario(
    topology: Topology,
    site_nodes: Sequence[str],
    tasks: Sequence[Task],
    models: Sequence[str] = ("toy",),
    name: str | None = None,
) -> Scenario:
    """A scenario with one synthetic device per site (models assigned round-robin) and no background.

    Its predictor is the synthetic table itself (error-free): tests of decisions, not of prediction.
    """
    table = synthetic_latency_table(tuple(dict.fromkeys(models)))
    sites = []
    for i, node in enumerate(site_nodes):
        model = models[i % len(models)]
        sites.append(Site(node, (Device(f"{node}/{model}", model, "gpu", node),)))
    return Scenario(
        name=name or f"{topology.name}-toy",
        topology=topology,
        sites=tuple(sites),
        latency_table=table,
        tasks=tuple(tasks),
        background=BackgroundTraffic.idle(len(topology.links)),
        access_points=tuple(dict.fromkeys(t.source for t in tasks)),
        predictor=PredictionTable.from_latency_table(table),
    )


def line_scenario(n_tasks: int = 1, input_bytes: float = 1e6, gap_s: float = 1.0, arch_idx: int = 0) -> Scenario:
    """Line ``a-b-c``; ``n_tasks`` tasks from ``a`` every ``gap_s`` seconds; one site at ``c``."""
    topology = line_topology(3)
    tasks = [
        Task(
            id=i,
            arrival_s=i * gap_s,
            source="a",
            arch_idx=arch_idx,
            input_bytes=input_bytes,
            latency_bound_s=math.inf,
        )
        for i in range(n_tasks)
    ]
    return make_scenario(topology, ["c"], tasks, name="line3")
