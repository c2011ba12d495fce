"""Path probing: what a measurement of a path's one-way delay and available bandwidth returns.

A probe packet crosses each link after its propagation delay and a queueing wait. The wait on a link
with utilisation ``rho`` follows the M/M/1 waiting-time law: zero with probability ``1 - rho``, otherwise
exponential with mean ``S / (1 - rho)``, where ``S`` is the transmission time of a mean-size packet
(1500 B by default) at the link's capacity — so the mean wait is ``rho * S / (1 - rho)`` and it grows
without bound as the link saturates. Timestamping adds Gaussian noise. The RLMS-CPN paper sends three
back-to-back probes and averages their one-way delays; so do we by default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cpnkit.errors import ConfigError
from cpnkit.model import Path, PathProbe

__all__ = ["ProbeConfig", "mm1_mean_wait_s", "probe_path"]

#: Utilisation is clipped below this value so the M/M/1 wait stays finite on a saturated link.
MAX_PROBE_UTILISATION = 0.99


@dataclass(frozen=True, slots=True)
class ProbeConfig:
    """How probes measure a path.

    Attributes:
        n_probes: Back-to-back probes averaged per measurement (paper: 3).
        packet_bytes: Mean packet size behind which a probe queues, in bytes.
        timestamp_noise_s: Standard deviation of the per-probe timestamping error, in s.
        bandwidth_noise: Relative standard deviation of the available-bandwidth estimate.
    """

    n_probes: int = 3
    packet_bytes: float = 1500.0
    timestamp_noise_s: float = 20e-6
    bandwidth_noise: float = 0.05

    def __post_init__(self) -> None:
        if self.n_probes < 1:
            raise ConfigError(f"n_probes={self.n_probes!r} must be >= 1 (the paper uses 3)")
        for name in ("packet_bytes",):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name}={value!r} must be finite and > 0")
        for name in ("timestamp_noise_s", "bandwidth_noise"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name}={value!r} must be finite and >= 0 (0 turns the noise off)")


def mm1_mean_wait_s(utilisation: float, capacity_bps: float, packet_bytes: float = 1500.0) -> float:
    """Mean M/M/1 queueing wait in s on a link with the given utilisation.

    >>> round(mm1_mean_wait_s(0.5, 1e9) * 1e6, 3)  # 1500 B at 1 Gbit/s = 12 us service; rho/(1-rho) = 1
    12.0
    """
    rho = min(max(utilisation, 0.0), MAX_PROBE_UTILISATION)
    return rho / (1.0 - rho) * packet_bytes * 8.0 / capacity_bps


def probe_path(
    path: Path,
    capacity_bps: npt.NDArray[np.float64],
    load_bps: npt.NDArray[np.float64],
    prop_delay_s: npt.NDArray[np.float64],
    time_s: float,
    rng: np.random.Generator,
    config: ProbeConfig = ProbeConfig(),
) -> PathProbe:
    """Measure ``path`` with ``config.n_probes`` back-to-back probes.

    Args:
        path: The path to probe.
        capacity_bps: Capacity of every link of the topology, in bit/s.
        load_bps: Current load of every link (background + task flows), in bit/s.
        prop_delay_s: Propagation delay of every link, in s.
        time_s: Current simulated time, in s.
        rng: Random generator (seeded by the caller).
        config: Probe settings.

    Returns:
        The averaged one-way delay (s) and the noisy bottleneck available bandwidth (bit/s).
    """
    ids = np.fromiter(path.link_ids, dtype=np.intp, count=len(path.link_ids))
    cap = capacity_bps[ids]
    rho = np.clip(load_bps[ids] / cap, 0.0, MAX_PROBE_UTILISATION)
    service_s = config.packet_bytes * 8.0 / cap
    n = config.n_probes
    # M/M/1 waiting time: 0 w.p. 1 - rho, else Exp(mean = S / (1 - rho)); one draw per link per probe.
    waits = rng.exponential(1.0, size=(n, ids.size)) * (service_s / (1.0 - rho))
    waits *= rng.random(size=(n, ids.size)) < rho
    delays = float(prop_delay_s[ids].sum()) + waits.sum(axis=1)
    if config.timestamp_noise_s > 0:
        delays += rng.normal(0.0, config.timestamp_noise_s, size=n)
    one_way_s = max(float(delays.mean()), 0.0)
    available = float(np.min(cap - np.minimum(load_bps[ids], cap)))
    if config.bandwidth_noise > 0:
        available *= max(0.0, 1.0 + rng.normal(0.0, config.bandwidth_noise))
    return PathProbe(path=path, one_way_delay_s=one_way_s, available_bps=available, n_probes=n, time_s=time_s)
