"""Named scenarios built from the bundled real data (DESIGN.md §5).

``paper`` (version 1) reproduces the RLMS-CPN setup on any topology: 2-4 access points drawn with the
seed; every other node hosts one device drawn from the paper's pool (GPUs 1080 Ti, Titan X, Titan RTX,
2080 Ti, Titan Xp at batch 1; CPUs Xeon Silver 4114, Silver 4210R, Gold 6240, Gold 6226; FPGA,
Raspberry Pi 4, Eyeriss), the pool shuffled and dealt round-robin so that every device model appears
as evenly as the node count allows. Service times are the HELP / HW-NAS-Bench measurements.

Workload: Poisson arrivals (tasks spread uniformly over the access points), NAS-Bench-201 architectures
uniformly at random, inputs log-uniform in 100 KB - 10 MB, 4 KB results (the ``mixed`` task mix). The
paper's Tables 15 and 16 use two other mixes (``task_mix``), whose rule is exactly:

- ``io`` (IO-intensive): light models, the architectures whose ``flops_M_cifar10`` is at most the 25th
  percentile over all 15,625 (3,942 architectures, <= 19.6 MFLOPs); inputs log-uniform in 5 - 10 MB.
- ``compute`` (compute-intensive): heavy models, the architectures whose ``flops_M_cifar10`` is at least the
  75th percentile (4,170 architectures, >= 82.5 MFLOPs); inputs log-uniform in 100 - 500 KB.

``mix_input_bytes`` replaces the io/compute input range (Table 15 pins it to one size per row);
``min_input_bytes``/``max_input_bytes`` apply to ``mixed`` only. A ``mixed`` scenario draws exactly what it
drew before task mixes existed, seed for seed. The total arrival rate is
``arrival_rate_per_s`` (default 50 tasks/s, independent of the topology's size, since tasks enter at 2-4
access points whatever the size), or, when ``compute_load`` is given, that fraction of the sites' aggregate
service capacity (sum over devices of 1 / mean latency over all architectures).

Background: on Abilene the real SNDlib/Zhang 5-minute matrices; elsewhere a gravity model shaped over
time by the Abilene series' total volume; scaled so the busiest link's mean utilisation equals
``background_utilisation``; the series starts at a step drawn with the seed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from cpnkit import __version__
from cpnkit.datasets.latency import load_architectures, load_latency_table
from cpnkit.datasets.predictors import scenario_predictor
from cpnkit.datasets.regions import EnergyConfig, assign_regions, build_energy_model, default_regions
from cpnkit.datasets.topologies import load_topology
from cpnkit.datasets.traffic import load_abilene_traffic
from cpnkit.errors import ConfigError
from cpnkit.model import DEVICE_MODEL_CLASS, NB201_ARCHS, Device, Site, Topology
from cpnkit.sim import (
    BackgroundTraffic,
    Scenario,
    WorkloadConfig,
    gravity_background,
    poisson_workload,
    series_background,
    trace_workload,
)

__all__ = ["PAPER_DEVICE_POOL", "TASK_MIXES", "ScenarioConfig", "build_scenario", "task_mix_archs"]

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

TaskMix = Literal["mixed", "io", "compute"]

#: Task mixes and, for io/compute, their default input range in bytes (module docstring: the exact rule).
TASK_MIXES: dict[str, tuple[float, float] | None] = {
    "mixed": None,
    "io": (5e6, 10e6),
    "compute": (100e3, 500e3),
}


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
        task_mix: ``mixed`` (all architectures, inputs in ``min_input_bytes``..``max_input_bytes``), ``io``
            (light models, large inputs) or ``compute`` (heavy models, small inputs); see the module docstring.
        mix_input_bytes: Input range (min, max) in bytes of the ``io``/``compute`` mixes, replacing their
            defaults (5-10 MB, 100-500 KB); ``None`` for the default. Not allowed with ``mixed``.
        energy: Energy accounting (regions, traces, PV, PUE; ``cpnkit.datasets.regions``); ``None`` for none. Sites
            get their grid region from the documented default mapping (or the config's overrides).
        deferrable_fraction: Share of tasks that may be deferred (temporal shifting), 0..1.
        deferrable_window_s: Deferral window of those tasks, in s.
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
    task_mix: TaskMix = "mixed"
    mix_input_bytes: tuple[float, float] | None = None
    energy: EnergyConfig | None = None
    deferrable_fraction: float = 0.0
    deferrable_window_s: float = 0.0

    def __post_init__(self) -> None:
        if self.task_mix not in TASK_MIXES:
            raise ConfigError(f"task_mix={self.task_mix!r} must be one of {sorted(TASK_MIXES)}")
        if self.mix_input_bytes is not None:
            if self.task_mix == "mixed":
                raise ConfigError(
                    "mix_input_bytes applies to the io and compute task mixes; for 'mixed' set "
                    "min_input_bytes and max_input_bytes"
                )
            lo, hi = self.mix_input_bytes
            if not (0 < lo <= hi < math.inf):
                raise ConfigError(f"mix_input_bytes={self.mix_input_bytes!r} must satisfy 0 < min <= max < inf")
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


@functools.cache
def task_mix_archs(task_mix: str) -> tuple[int, ...] | None:
    """The architecture indices a task mix draws from (``None``: all of NAS-Bench-201).

    Args:
        task_mix: ``mixed``, ``io`` (FLOPs at most the 25th percentile) or ``compute`` (at least the 75th).

    Raises:
        ConfigError: unknown task mix.
    """
    if task_mix not in TASK_MIXES:
        raise ConfigError(f"task_mix={task_mix!r} must be one of {sorted(TASK_MIXES)}")
    if task_mix == "mixed":
        return None
    flops = load_architectures()["flops_M_cifar10"]
    q25, q75 = np.percentile(flops.to_numpy(), [25, 75])
    chosen = flops[flops <= q25] if task_mix == "io" else flops[flops >= q75]
    return tuple(int(i) for i in chosen.index)


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
    mix_range = config.mix_input_bytes or TASK_MIXES[config.task_mix]
    min_input, max_input = mix_range or (config.min_input_bytes, config.max_input_bytes)
    arch_pool = task_mix_archs(config.task_mix)
    workload = WorkloadConfig(
        n_tasks=config.n_tasks,
        arrival_rate_per_s=rate,
        min_input_bytes=min_input,
        max_input_bytes=max_input,
        result_bytes=config.result_bytes,
        latency_bound_s=config.latency_bound_s,
        arch_pool=arch_pool,
        deferrable_fraction=config.deferrable_fraction,
        deferrable_window_s=config.deferrable_window_s,
    )
    if trace is None:
        tasks = poisson_workload(access, workload, np.random.default_rng(work_seq))
    else:
        tasks = trace_workload(trace[0], trace[1], workload, np.random.default_rng(work_seq))
    background, bg_kind = _background(topo, config.background_utilisation, np.random.default_rng(bg_seq))
    energy = None
    if config.energy is not None:
        regions = default_regions(topo)
        if config.energy.region is not None:
            regions = dict.fromkeys(regions, config.energy.region)
        regions.update(config.energy.regions or {})
        sites = assign_regions(sites, regions)
        energy = build_energy_model(sites, config.energy)
    meta = {
        "scenario": SCENARIO_VERSION,
        "topology": topo.name,
        "seed": seed,
        "cpnkit_version": __version__,
        "config": {k: v for k, v in asdict(config).items() if k != "device_pool"},
        "device_pool": list(config.device_pool),
        "arrivals": "poisson" if trace is None else f"trace ({len(tasks)} tasks)",
        "task_mix": config.task_mix,
        "input_bytes_range": [min_input, max_input],
        "arch_pool_size": NB201_ARCHS if arch_pool is None else len(arch_pool),
        "arrival_rate_per_s": rate if trace is None else None,
        "compute_capacity_per_s": capacity_per_s,
        "offered_compute_load": rate / capacity_per_s,
        "access_points": list(access),
        "background": bg_kind,
        "background_start_step": background.start_step,
        "background_clipped_link_steps": background.clipped_link_steps,
        "energy": dict(energy.meta) if energy is not None else None,
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
        energy=energy,
    )
