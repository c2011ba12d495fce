"""Tiny hand-built scenarios for tests, doctests and examples (no data files needed).

``line_scenario``: nodes ``a - b - c`` (bidirectional, 1 Gbit/s, 1 ms per link), tasks enter at ``a``,
one site at ``c`` with one device of a synthetic model whose latency for architecture ``i`` is
``1 ms + i * 1 us``. ``toy_energy_model``: device power, carbon and solar traces for such scenarios.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from cpnkit.estimate import DevicePower, EnergyModel, PredictionTable, PueModel
from cpnkit.model import NB201_ARCHS, Device, LatencyTable, Link, Site, Task, Topology, carbon_trace, solar_trace
from cpnkit.sim.background import BackgroundTraffic
from cpnkit.sim.scenario import Scenario

__all__ = ["line_scenario", "line_topology", "make_scenario", "synthetic_latency_table", "toy_energy_model"]


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
    regions: Sequence[str] = (),
    energy: EnergyModel | None = None,
) -> Scenario:
    """A scenario with one synthetic device per site (models assigned round-robin) and no background.

    Its predictor is the synthetic table itself (error-free): tests of decisions, not of prediction. ``regions``
    (one per site) sets the sites' grid regions; ``energy`` attaches an energy model.
    """
    table = synthetic_latency_table(tuple(dict.fromkeys(models)))
    sites = []
    for i, node in enumerate(site_nodes):
        model = models[i % len(models)]
        region = regions[i] if regions else ""
        sites.append(Site(node, (Device(f"{node}/{model}", model, "gpu", node),), region))
    return Scenario(
        name=name or f"{topology.name}-toy",
        topology=topology,
        sites=tuple(sites),
        latency_table=table,
        tasks=tuple(tasks),
        background=BackgroundTraffic.idle(len(topology.links)),
        access_points=tuple(dict.fromkeys(t.source for t in tasks)),
        predictor=PredictionTable.from_latency_table(table),
        energy=energy,
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


def toy_energy_model(
    models: Sequence[str] = ("toy",),
    carbon: dict[str, Sequence[float]] | None = None,
    step_s: float = 3600.0,
    solar: dict[str, Sequence[float]] | None = None,
    pv_capacity_w: dict[str, float] | None = None,
    pue: float = 1.5,
    forecast: str = "seasonal-naive",
) -> EnergyModel:
    """An energy model for hand-built scenarios: every model idles at 10 W and draws 110 W busy.

    Args:
        models: Device models to give power figures.
        carbon: Region -> carbon intensity samples in gCO2/kWh (default: one region ``"R"`` at 100).
        step_s: Sampling step of the carbon and solar traces, in s.
        solar: Region -> PV shape samples (0..1).
        pv_capacity_w: Site node -> installed PV, in W.
        pue: Constant PUE of every site.
        forecast: Forecast offered to schedulers.
    """
    carbon = carbon if carbon is not None else {"R": [100.0]}
    return EnergyModel(
        device_power={m: DevicePower(10.0, 110.0, "toy") for m in models},
        carbon={r: carbon_trace(v, step_s, "gCO2/kWh", r) for r, v in carbon.items()},
        solar={r: solar_trace(v, step_s, f"{r} solar") for r, v in (solar or {}).items()},
        pv_capacity_w=pv_capacity_w or {},
        pue=PueModel(pue),
        bin_s=step_s,
        report_period_s=step_s / 2,
        forecast=forecast,  # type: ignore[arg-type]
    )
