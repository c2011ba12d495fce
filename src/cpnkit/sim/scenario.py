"""A scenario: everything a simulation runs on, as plain data (built by ``cpnkit.datasets`` or by hand)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cpnkit.errors import ConfigError
from cpnkit.estimate import EnergyModel, TransportConfig
from cpnkit.model import LatencyPredictor, LatencyTable, Site, Task, Topology
from cpnkit.perception import ProbeConfig
from cpnkit.sim.background import BackgroundTraffic

__all__ = ["Mode", "Scenario", "SimConfig"]

Mode = Literal["online", "isolated"]


@dataclass(frozen=True, slots=True)
class SimConfig:
    """How the simulator behaves.

    Attributes:
        mode: ``online`` (tasks arrive as they come and contend) or ``isolated`` (one task in the system at
            a time, as in the RLMS-CPN paper: a task arriving while another is in flight waits at the access
            point until the system is empty; that wait is not counted in its response time).
        service_jitter: Relative jitter of service times: a mean-preserving lognormal factor with this sigma;
            0 gives the table value exactly.
        telemetry_period_s: Period of compute telemetry reports, in s.
        probe: Probe settings.
        transport: Transport model of every flow (task data and results): ``tcp`` (default: slow start from
            a 10-segment window, headers, max-min shares; event-driven), the ideal ``fluid``, or ``tcp-queue``
            (CUBIC windows with HyStart over FIFO fluid queues, time-stepped: the model closest to ns-3, and the
            slowest); see ``cpnkit.estimate.transport`` and ``cpnkit.sim.fluid_tcp``.
        tcp_queue_dt_s: ``tcp-queue`` only: its time step, in s. Default (``None``): the smallest round-trip
            propagation between a task source and a site other than its own node, / 20, so that every flow's
            round trip spans at least 20 steps (as the batch model's default). Cost grows as 1 / step.
        invalid_decision: ``raise`` a ``DecisionError`` when a scheduler returns an invalid decision, or
            ``reject`` the task and record the error as the outcome's reason.
        check_capacity: Verify after every rate allocation that no link carries more than its residual
            capacity (slower; the invariant checkers and tests turn it on).
        lazy_slow_start: Play the slow-start rounds of flows that affect nobody without network events (the
            default; see ``cpnkit.sim.network``); ``False`` plays every round trip as an event, the slower
            reference the lazy play equals up to float rounding.
    """

    mode: Mode = "online"
    service_jitter: float = 0.02
    telemetry_period_s: float = 1.0
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    transport: TransportConfig = field(default_factory=TransportConfig)
    invalid_decision: Literal["raise", "reject"] = "raise"
    check_capacity: bool = False
    lazy_slow_start: bool = True
    tcp_queue_dt_s: float | None = None

    def __post_init__(self) -> None:
        if self.tcp_queue_dt_s is not None and not (math.isfinite(self.tcp_queue_dt_s) and self.tcp_queue_dt_s > 0):
            raise ConfigError(f"tcp_queue_dt_s={self.tcp_queue_dt_s!r} must be finite and > 0 s (or None: default)")
        if self.mode not in ("online", "isolated"):
            raise ConfigError(f"mode={self.mode!r} must be 'online' or 'isolated'")
        if not (math.isfinite(self.service_jitter) and 0 <= self.service_jitter < 1):
            raise ConfigError(f"service_jitter={self.service_jitter!r} must be in [0, 1) (0.02 = 2%)")
        if not (self.telemetry_period_s > 0):
            raise ConfigError(f"telemetry_period_s={self.telemetry_period_s!r} must be > 0 s")
        if self.invalid_decision not in ("raise", "reject"):
            raise ConfigError(f"invalid_decision={self.invalid_decision!r} must be 'raise' or 'reject'")


@dataclass(frozen=True, eq=False)
class Scenario:
    """The network, its compute, the background traffic and the tasks.

    Attributes:
        name: Scenario name, recorded with results.
        topology: The network.
        sites: Compute sites (each at a distinct node of the topology).
        latency_table: Measured per-architecture latency of every device model used by the sites.
        tasks: The workload, sorted by arrival time; ids unique.
        background: Background link loads over time.
        access_points: Nodes where tasks enter.
        meta: Provenance: seeds, configs, data sources.
        predictor: The compute-latency predictor schedulers see through the ``Snapshot`` (``None``: none; the
            simulator always serves tasks at the measured ``latency_table`` times).
        energy: Power, PUE, carbon traces, PV and prices for energy accounting (``None``: no accounting; outcomes
            carry NaN energy, carbon and cost). Every site's region needs a carbon trace.
    """

    name: str
    topology: Topology
    sites: tuple[Site, ...]
    latency_table: LatencyTable
    tasks: tuple[Task, ...]
    background: BackgroundTraffic
    access_points: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    predictor: LatencyPredictor | None = None
    energy: EnergyModel | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sites", tuple(self.sites))
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "access_points", tuple(self.access_points))
        seen_nodes: set[str] = set()
        for site in self.sites:
            self.topology.node_index(site.node)
            if site.node in seen_nodes:
                raise ConfigError(f"two sites at node {site.node!r}; merge their devices into one Site")
            seen_nodes.add(site.node)
            for device in site.devices:
                self.latency_table.column_index(device.model)
                if self.predictor is not None and device.model not in self.predictor.devices:
                    raise ConfigError(
                        f"predictor {self.predictor.name!r} cannot predict device model {device.model!r} "
                        f"(site {site.node!r}); adapt it to that model or build it over the scenario's models"
                    )
        if not self.sites:
            raise ConfigError(f"scenario {self.name!r} has no compute sites; add at least one Site")
        for ap in self.access_points:
            self.topology.node_index(ap)
        ids: set[int] = set()
        last = 0.0
        for task in self.tasks:
            self.topology.node_index(task.source)
            if task.id in ids:
                raise ConfigError(f"task id {task.id} appears twice; task ids must be unique")
            ids.add(task.id)
            if task.arrival_s < last:
                raise ConfigError(
                    f"task {task.id} arrives at {task.arrival_s} s, before the previous task; sort by time"
                )
            last = task.arrival_s
            if task.arch_idx >= self.latency_table.n_archs:
                raise ConfigError(
                    f"task {task.id}: arch_idx {task.arch_idx} is outside the latency table "
                    f"({self.latency_table.n_archs} architectures)"
                )
        if self.energy is not None:
            self.energy.check_sites(self.sites)
        if self.background.load_bps.shape[1] != len(self.topology.links):
            raise ConfigError(
                f"background has {self.background.load_bps.shape[1]} links, topology {len(self.topology.links)}; "
                "build the background for this topology"
            )
