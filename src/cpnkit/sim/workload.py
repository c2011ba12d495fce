"""Workloads: Poisson or trace arrivals of inference tasks at access points."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cpnkit.errors import ConfigError, TaskError
from cpnkit.model import NB201_ARCHS, Task

__all__ = ["WorkloadConfig", "poisson_workload", "trace_workload"]


@dataclass(frozen=True, slots=True)
class WorkloadConfig:
    """What tasks look like (DESIGN.md §3, Workload).

    Attributes:
        n_tasks: Number of tasks.
        arrival_rate_per_s: Total Poisson arrival rate over all access points, in tasks/s.
        min_input_bytes: Smallest input, in bytes (sizes are log-uniform between min and max).
        max_input_bytes: Largest input, in bytes.
        result_bytes: Size of each returned result, in bytes.
        latency_bound_s: Latency bound of every task, in s (``inf``: none).
        splittable: Whether tasks may be split over several paths.
        arch_pool: NAS-Bench-201 architecture indices tasks draw their model from, uniformly (``None``: all
            15,625); the task mixes of ``cpnkit.datasets.ScenarioConfig`` (io, compute) set it.
        deferrable_fraction: Share of tasks that are deferrable (drawn independently per task), 0..1.
        deferrable_window_s: Deferral window of a deferrable task, in s (temporal shifting; > 0 when the fraction
            is).
    """

    n_tasks: int = 1000
    arrival_rate_per_s: float = 50.0
    min_input_bytes: float = 100e3
    max_input_bytes: float = 10e6
    result_bytes: float = 4e3
    latency_bound_s: float = math.inf
    splittable: bool = True
    arch_pool: tuple[int, ...] | None = None
    deferrable_fraction: float = 0.0
    deferrable_window_s: float = 0.0

    def __post_init__(self) -> None:
        if not (isinstance(self.n_tasks, int) and self.n_tasks >= 1):
            raise ConfigError(f"n_tasks={self.n_tasks!r} must be an integer >= 1")
        if not (math.isfinite(self.arrival_rate_per_s) and self.arrival_rate_per_s > 0):
            raise ConfigError(f"arrival_rate_per_s={self.arrival_rate_per_s!r} must be finite and > 0 tasks/s")
        if not (0 < self.min_input_bytes <= self.max_input_bytes < math.inf):
            raise TaskError(
                f"input size range [{self.min_input_bytes!r}, {self.max_input_bytes!r}] bytes must satisfy "
                "0 < min <= max < inf (default 100 KB to 10 MB)"
            )
        if not (math.isfinite(self.result_bytes) and self.result_bytes >= 0):
            raise TaskError(f"result_bytes={self.result_bytes!r} must be finite and >= 0")
        if math.isnan(self.latency_bound_s) or self.latency_bound_s <= 0:
            raise TaskError(f"latency_bound_s={self.latency_bound_s!r} must be > 0 (inf for none)")
        if not (0.0 <= self.deferrable_fraction <= 1.0):
            raise ConfigError(f"deferrable_fraction={self.deferrable_fraction!r} must be in [0, 1]")
        if not (math.isfinite(self.deferrable_window_s) and self.deferrable_window_s >= 0):
            raise ConfigError(f"deferrable_window_s={self.deferrable_window_s!r} must be finite and >= 0 s")
        if self.deferrable_fraction > 0 and self.deferrable_window_s <= 0:
            raise ConfigError(
                f"deferrable_fraction={self.deferrable_fraction!r} needs a deferrable_window_s > 0 "
                "(how long a deferrable task may wait, e.g. 8 * 3600)"
            )
        if self.arch_pool is not None:
            if not self.arch_pool:
                raise ConfigError("arch_pool is empty; give at least one architecture index, or None for all")
            bad = [a for a in self.arch_pool if not (isinstance(a, int | np.integer) and 0 <= a < NB201_ARCHS)]
            if bad:
                raise ConfigError(
                    f"arch_pool holds {bad[:3]!r}, outside the NAS-Bench-201 indices 0..{NB201_ARCHS - 1}; "
                    "give indices from load_architectures()"
                )


def _windows(n: int, config: WorkloadConfig, rng: np.random.Generator) -> list[float]:
    """Deferral window per task; drawn after everything else, so a workload without deferral is unchanged."""
    if config.deferrable_fraction <= 0:
        return [0.0] * n
    chosen = rng.random(n) < config.deferrable_fraction
    return [config.deferrable_window_s if c else 0.0 for c in chosen.tolist()]


def _task_attributes(
    n: int, config: WorkloadConfig, rng: np.random.Generator
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    if config.arch_pool is None:
        archs = rng.integers(0, NB201_ARCHS, size=n)
    else:
        archs = np.asarray(config.arch_pool, dtype=np.int64)[rng.integers(0, len(config.arch_pool), size=n)]
    log_lo, log_hi = math.log(config.min_input_bytes), math.log(config.max_input_bytes)
    sizes = np.exp(rng.uniform(log_lo, log_hi, size=n)) if log_hi > log_lo else np.full(n, config.min_input_bytes)
    return archs, sizes


def poisson_workload(
    access_points: Sequence[str], config: WorkloadConfig, rng: np.random.Generator
) -> tuple[Task, ...]:
    """Poisson arrivals spread uniformly over the access points.

    Args:
        access_points: Node ids where tasks enter.
        config: Task shape and rate.
        rng: Random generator (seeded by the caller).
    """
    if not access_points:
        raise ConfigError("no access points; give at least one node where tasks enter")
    n = config.n_tasks
    arrivals = np.cumsum(rng.exponential(1.0 / config.arrival_rate_per_s, size=n))
    sources = rng.integers(0, len(access_points), size=n)
    archs, sizes = _task_attributes(n, config, rng)
    windows = _windows(n, config, rng)
    return tuple(
        Task(
            id=i,
            arrival_s=float(arrivals[i]),
            source=access_points[int(sources[i])],
            arch_idx=int(archs[i]),
            input_bytes=float(sizes[i]),
            result_bytes=config.result_bytes,
            latency_bound_s=config.latency_bound_s,
            splittable=config.splittable,
            deferrable_window_s=windows[i],
        )
        for i in range(n)
    )


def trace_workload(
    arrivals_s: Sequence[float],
    sources: Sequence[str],
    config: WorkloadConfig,
    rng: np.random.Generator,
) -> tuple[Task, ...]:
    """Tasks at given arrival times and access points (a trace); models and sizes are drawn as for Poisson.

    Raises:
        TaskError: lengths differ, or arrival times are negative, non-finite or decreasing.
    """
    if len(arrivals_s) != len(sources):
        raise TaskError(f"trace has {len(arrivals_s)} arrival times but {len(sources)} sources; give one each")
    times = np.asarray(arrivals_s, dtype=np.float64)
    if times.size and (not np.isfinite(times).all() or (times < 0).any() or (np.diff(times) < 0).any()):
        raise TaskError("trace arrival times must be finite, >= 0 and non-decreasing (sort the trace by time)")
    archs, sizes = _task_attributes(len(times), config, rng)
    windows = _windows(len(times), config, rng)
    return tuple(
        Task(
            id=i,
            arrival_s=float(times[i]),
            source=sources[i],
            arch_idx=int(archs[i]),
            input_bytes=float(sizes[i]),
            result_bytes=config.result_bytes,
            latency_bound_s=config.latency_bound_s,
            splittable=config.splittable,
            deferrable_window_s=windows[i],
        )
        for i in range(len(times))
    )
