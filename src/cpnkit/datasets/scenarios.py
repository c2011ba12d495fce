"""Named scenarios built from the bundled real data (DESIGN.md §5).

``paper`` (version 1) reproduces the RLMS-CPN setup on any topology: 2-4 access points drawn with the
seed; every other node hosts one device drawn from the paper's pool (GPUs 1080 Ti, Titan X, Titan RTX,
2080 Ti, Titan Xp at batch 1; CPUs Xeon Silver 4114, Silver 4210R, Gold 6240, Gold 6226; FPGA,
Raspberry Pi 4, Eyeriss), the pool shuffled and dealt round-robin so that every device model appears
as evenly as the node count allows. Service times are the HELP / HW-NAS-Bench measurements.

Workload: Poisson arrivals (tasks spread uniformly over the access points), NAS-Bench-201 architectures
uniformly at random, inputs log-uniform in 100 KB - 10 MB, 4 KB results. The total arrival rate is
``arrival_rate_per_s`` (default 50 tasks/s, independent of the topology's size, since tasks enter at 2-4
access points whatever the size), or, when ``compute_load`` is given, that fraction of the sites' aggregate
service capacity (sum over devices of 1 / mean latency over all architectures).

Background: on Abilene the real SNDlib/Zhang 5-minute matrices; elsewhere a gravity model shaped over
time by the Abilene series' total volume; scaled so the busiest link's mean utilisation equals
``background_utilisation``; the series starts at a step drawn with the seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from cpnkit import __version__
from cpnkit.datasets.latency import load_latency_table
from cpnkit.datasets.predictors import scenario_predictor
from cpnkit.datasets.topologies import load_topology
from cpnkit.datasets.traffic import load_abilene_traffic
from cpnkit.errors import ConfigError
from cpnkit.model import DEVICE_MODEL_CLASS, Device, Site, Topology
from cpnkit.sim import (
    BackgroundTraffic,
    Scenario,
    WorkloadConfig,
    gravity_background,
    poisson_workload,
    series_background,
    trace_workload,
)

__all__ = ["PAPER_DEVICE_POOL", "ScenarioConfig", "build_scenario"]

SCENARIO_VERSION = "paper-v1"

#: The RLMS-CPN paper's device pool (batch-1 GPU columns).
PAPER_DEVICE_POOL: tuple[str, ...] = (
    "1080ti_1",
    "titanx_1",
    "titan_rtx_1",
    "2080ti_1",
    "titanxp_1",
    "silver_4114",
    "silver_4210r",
    "gold_6240",
    "gold_6226",
    "fpga",
    "raspi4",
    "eyeriss",
)


@dataclass(frozen=True, slots=True)
class ScenarioConfig:
    """Settings of the ``paper`` scenario.

    Attributes:
        n_tasks: Number of tasks.
        arrival_rate_per_s: Total arrival rate in tasks/s (used when ``compute_load`` is None).
        compute_load: Offered load as a fraction of the aggregate compute capacity; overrides
            ``arrival_rate_per_s`` when given.
        background_utilisation: Mean utilisation of the busiest link due to background traffic (0..1).
        n_access_points: Access points (None: 2-4 drawn with the seed).
        device_pool: Device models dealt to the non-access nodes.
        min_input_bytes: Smallest task input, in bytes.
        max_input_bytes: Largest task input, in bytes.
        result_bytes: Result size, in bytes.
        latency_bound_s: Latency bound of every task, in s.
        predictor: Compute-latency predictor the schedulers see (``cpnkit.datasets.SCENARIO_PREDICTORS``).
        predictor_samples: Measured samples per new device for few-shot predictors.
    """

    n_tasks: int = 1000
    arrival_rate_per_s: float = 50.0
    compute_load: float | None = None
    background_utilisation: float = 0.5
    n_access_points: int | None = None
    device_pool: tuple[str, ...] = PAPER_DEVICE_POOL
    min_input_bytes: float = 100e3
    max_input_bytes: float = 10e6
    result_bytes: float = 4e3
    latency_bound_s: float = math.inf
    predictor: str = "measured"
    predictor_samples: int = 50

    def __post_init__(self) -> None:
        if not (math.isfinite(self.arrival_rate_per_s) and self.arrival_rate_per_s > 0):
            raise ConfigError(f"arrival_rate_per_s={self.arrival_rate_per_s!r} must be finite and > 0 tasks/s")
        if self.compute_load is not None and not (math.isfinite(self.compute_load) and self.compute_load > 0):
            raise ConfigError(f"compute_load={self.compute_load!r} must be > 0 (0.1 = 10% of compute capacity)")
        if self.n_access_points is not None and self.n_access_points < 1:
            raise ConfigError(f"n_access_points={self.n_access_points!r} must be >= 1")
        if not self.device_pool:
            raise ConfigError("device_pool is empty; give at least one device model")
        for model in self.device_pool:
            if model not in DEVICE_MODEL_CLASS:
                raise ConfigError(
                    f"device model {model!r} has no known device class; use one of {sorted(DEVICE_MODEL_CLASS)}"
                )


def _background(topology: Topology, utilisation: float, rng: np.random.Generator) -> tuple[BackgroundTraffic, str]:
    series = load_abilene_traffic()
    start = int(rng.integers(series.n_steps))
    if utilisation == 0.0:
        return BackgroundTraffic.idle(len(topology.links)), "none"
    if all(topology.has_node(n) for n in series.nodes) and len(topology.nodes) == len(series.nodes):
        return series_background(topology, series, utilisation, start_step=start), "abilene-tm"
    shape = series.rates_bps.sum(axis=(1, 2))
    return gravity_background(topology, shape, utilisation, step_s=series.step_s, start_step=start), "gravity"


def build_scenario(
    topology: str | Topology = "abilene",
    seed: int = 0,
    config: ScenarioConfig | None = None,
    trace: tuple[Sequence[float], Sequence[str]] | None = None,
) -> Scenario:
    """Build the ``paper`` scenario on a topology.

    Args:
        topology: A bundled name, a ``topohub:`` key, a file path, or a ``Topology``.
        seed: Seeds access points, device placement, background start and the workload.
        config: Scenario settings (defaults: 1000 tasks, 50 tasks/s, 50% background).
        trace: Arrival times (s) and access nodes of the tasks, replacing Poisson arrivals; the access points
            are then the trace's sources and ``config.n_tasks`` is ignored.

    Raises:
        UnknownTopologyError: the topology does not resolve.
        ConfigError: the topology is too small for access points plus a site.
    """
    config = config or ScenarioConfig()
    topo = topology if isinstance(topology, Topology) else load_topology(topology)
    ap_seq, dev_seq, bg_seq, work_seq = np.random.SeedSequence(seed).spawn(4)
    rng_ap = np.random.default_rng(ap_seq)
    nodes = list(topo.node_ids)
    if len(nodes) < 2:
        raise ConfigError(f"topology {topo.name!r} has {len(nodes)} node(s); the scenario needs >= 2")
    n_ap = config.n_access_points if config.n_access_points is not None else int(rng_ap.integers(2, 5))
    n_ap = min(n_ap, len(nodes) - 1)
    access = tuple(nodes[int(i)] for i in sorted(rng_ap.choice(len(nodes), size=n_ap, replace=False)))
    if trace is not None:
        for source in trace[1]:
            topo.node_index(source)
        access = tuple(dict.fromkeys(trace[1]))
        if len(access) >= len(nodes):
            raise ConfigError(
                f"the trace uses every node of {topo.name!r} as an access point; no node is left for sites"
            )
    rng_dev = np.random.default_rng(dev_seq)
    table = load_latency_table()
    site_nodes = [n for n in nodes if n not in access]
    models: list[str] = []
    while len(models) < len(site_nodes):
        models.extend(config.device_pool[int(i)] for i in rng_dev.permutation(len(config.device_pool)))
    sites = tuple(
        Site(node, (Device(f"{node}/{model}", model, DEVICE_MODEL_CLASS[model], node),))
        for node, model in zip(site_nodes, models, strict=False)
    )
    mean_s = table.latency_s.mean(axis=0)
    capacity_per_s = sum(1.0 / float(mean_s[table.column_index(d.model)]) for s in sites for d in s.devices)
    rate = config.arrival_rate_per_s if config.compute_load is None else config.compute_load * capacity_per_s
    workload = WorkloadConfig(
        n_tasks=config.n_tasks,
        arrival_rate_per_s=rate,
        min_input_bytes=config.min_input_bytes,
        max_input_bytes=config.max_input_bytes,
        result_bytes=config.result_bytes,
        latency_bound_s=config.latency_bound_s,
    )
    if trace is None:
        tasks = poisson_workload(access, workload, np.random.default_rng(work_seq))
    else:
        tasks = trace_workload(trace[0], trace[1], workload, np.random.default_rng(work_seq))
    background, bg_kind = _background(topo, config.background_utilisation, np.random.default_rng(bg_seq))
    meta = {
        "scenario": SCENARIO_VERSION,
        "topology": topo.name,
        "seed": seed,
        "cpnkit_version": __version__,
        "config": {k: v for k, v in asdict(config).items() if k != "device_pool"},
        "device_pool": list(config.device_pool),
        "arrivals": "poisson" if trace is None else f"trace ({len(tasks)} tasks)",
        "arrival_rate_per_s": rate if trace is None else None,
        "compute_capacity_per_s": capacity_per_s,
        "offered_compute_load": rate / capacity_per_s,
        "access_points": list(access),
        "background": bg_kind,
        "background_start_step": background.start_step,
        "background_clipped_link_steps": background.clipped_link_steps,
    }
    return Scenario(
        name=f"{SCENARIO_VERSION}:{topo.name}",
        topology=topo,
        sites=sites,
        latency_table=table,
        tasks=tasks,
        background=background,
        access_points=access,
        meta=meta,
        predictor=scenario_predictor(
            config.predictor, sorted({d.model for s in sites for d in s.devices}), seed, config.predictor_samples
        ),
    )
