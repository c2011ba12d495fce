"""What a scheduler sees: a Snapshot of measured (noisy, possibly stale) state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from cpnkit.errors import ConfigError
from cpnkit.model.compute import Device, Site
from cpnkit.model.energy import EnergySnapshot
from cpnkit.model.predictor import LatencyPredictor
from cpnkit.model.topology import Path, Topology

__all__ = ["DeviceTelemetry", "GroundTruth", "PathProbe", "Prober", "Snapshot"]


@dataclass(frozen=True, slots=True)
class PathProbe:
    """The result of probing one path.

    Attributes:
        path: The probed path.
        one_way_delay_s: Mean one-way delay over the probes, in s (propagation + queueing + noise).
        available_bps: Estimated available bandwidth (bottleneck residual), in bit/s.
        n_probes: Number of back-to-back probes averaged.
        time_s: When the probe was taken, in s of simulated time.
    """

    path: Path
    one_way_delay_s: float
    available_bps: float
    n_probes: int
    time_s: float


@dataclass(frozen=True, slots=True)
class DeviceTelemetry:
    """Periodic compute telemetry of one device (may be stale by up to one telemetry period).

    Attributes:
        device: Device id.
        queue_length: Tasks waiting or in service at the report time.
        utilisation: Busy fraction over the last telemetry period (0..1).
        time_s: Report time in s of simulated time.
    """

    device: str
    queue_length: int
    utilisation: float
    time_s: float


class Prober(Protocol):
    """Measures a path now (3 back-to-back probes by default)."""

    def __call__(self, path: Path) -> PathProbe:
        """Probe ``path`` and return the averaged measurement."""
        ...


class GroundTruth(Protocol):
    """The simulator's true state, handed only to privileged reference schedulers (``oracle``).

    A product scheduler never sees it: the simulator fills ``Snapshot.truth`` only for a scheduler whose
    ``privileged`` attribute is true, and the registry marks such schedulers as references.
    """

    def path_state(self, path: Path) -> tuple[float, float]:
        """``(one_way_delay_s, available_bps)`` of ``path`` now: propagation + mean queueing, exact residual."""
        ...

    def device_backlog_s(self, device: str) -> float:
        """Work in s ahead of a task sent to ``device`` now.

        The rest of the job in service, the queue, and jobs already decided for it that are still in transit.
        """
        ...

    def compute_s(self, arch_idx: int, device: str) -> float:
        """Mean measured service time in s of architecture ``arch_idx`` on ``device`` (jitter aside)."""
        ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state a scheduler decides on.

    Attributes:
        time_s: Decision time, in s of simulated time.
        topology: The network (static: capacities and propagation delays are public knowledge).
        sites: Compute sites by node id.
        devices: Devices by id.
        telemetry: Latest compute telemetry by device id (stale by up to one period).
        prober: Measures paths on demand; ``None`` when no live network is attached.
        predictor: Predicts compute latency per architecture and device model (``None``: none available).
        link_load_bps: Load of every link (by link id) at the last telemetry report, in bit/s — what a traffic
            engineering controller reads from link counters (stale by up to one period); ``None`` when unknown.
        truth: The true state, for privileged reference schedulers only (``None`` for everyone else).
        transport: The network's transport model (a ``cpnkit.estimate.TransportConfig``: TCP slow start or the
            fluid ideal) — public knowledge an operator has, so schedulers predict transmission with the model
            the network runs; ``None`` when unknown (schedulers then assume fluid).
        energy: Energy signals per site (carbon intensity, price, PV, PUE), device power and forecasts, as of the
            last telemetry report; ``None`` when the scenario has no energy model.
    """

    time_s: float
    topology: Topology
    sites: Mapping[str, Site]
    devices: Mapping[str, Device]
    telemetry: Mapping[str, DeviceTelemetry]
    prober: Prober | None = None
    predictor: LatencyPredictor | None = None
    link_load_bps: Sequence[float] | None = None
    truth: GroundTruth | None = None
    transport: object | None = None
    energy: EnergySnapshot | None = None

    def probe(self, path: Path) -> PathProbe:
        """Probe ``path`` through the attached prober.

        Raises:
            ConfigError: no prober is attached to this snapshot.
        """
        if self.prober is None:
            raise ConfigError("this snapshot has no prober; build it from a simulator or a telemetry source")
        return self.prober(path)
