"""Where the grid runs: this process, a process pool, or Ray (a local Ray on loopback, or a cluster).

A job is a list of cells that share a scenario (``cpnkit.bench.paper.group_jobs``); every backend runs the
same function, ``run_job``, on each job and returns the results in job order, so the same seeds give the
same numbers on every backend (decision times aside: they are wall clock).

Ray is imported only by the ``ray`` backend. Without ``ray_address`` it starts a private local Ray bound to
127.0.0.1 with ``workers`` CPUs, no dashboard and usage statistics off, and shuts it down afterwards; with an
address (``"ray://head:10001"`` or ``"auto"``) it joins that cluster, whose nodes must have the same cpnkit
installed. A Ray already initialised by the caller is used as it is and left running.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from cpnkit.bench.paper import Cell, CellResult, run_job
from cpnkit.errors import ConfigError

__all__ = ["BACKENDS", "run_jobs"]

#: Backend names.
BACKENDS: tuple[str, ...] = ("local", "process", "ray")


def run_jobs(
    jobs: Sequence[Sequence[Cell]],
    backend: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[CellResult]:
    """Run every job on ``backend`` and return all cell results, in job order then cell order.

    Args:
        jobs: Lists of cells, each sharing one scenario.
        backend: ``local``, ``process`` or ``ray``.
        workers: Parallel workers (``None``: the CPU count); ignored by ``local`` and by a Ray cluster.
        ray_address: A Ray cluster to join (``ray`` backend only).
        progress: Called as ``progress(cells_done, cells_total)`` as jobs finish.

    Raises:
        ConfigError: unknown backend, ``workers < 1``, an address without the ray backend, or Ray missing.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"backend {backend!r} must be one of {', '.join(BACKENDS)}")
    if workers is not None and workers < 1:
        raise ConfigError(f"workers={workers!r} must be >= 1 (or None for the CPU count)")
    if ray_address is not None and backend != "ray":
        raise ConfigError(f"a Ray address ({ray_address!r}) needs --backend ray")
    n_workers = workers or os.cpu_count() or 1
    total = sum(len(job) for job in jobs)
    tracker = _Progress(total, progress)
    if backend == "local" or not jobs:
        out: list[list[CellResult]] = []
        for job in jobs:
            out.append(run_job(job))
            tracker.add(len(job))
        return [r for part in out for r in part]
    if backend == "process":
        return _run_process(jobs, n_workers, tracker)
    return _run_ray(jobs, n_workers, ray_address, tracker)


class _Progress:
    def __init__(self, total: int, callback: Callable[[int, int], None] | None) -> None:
        self.total = total
        self.done = 0
        self.callback = callback
        if callback is not None:
            callback(0, total)

    def add(self, n: int) -> None:
        self.done += n
        if self.callback is not None:
            self.callback(self.done, self.total)


def _run_process(jobs: Sequence[Sequence[Cell]], workers: int, tracker: _Progress) -> list[CellResult]:
    # spawn, not fork: workers start clean (no inherited threads or caches), as on macOS and Windows
    context = multiprocessing.get_context("spawn")
    parts: list[list[CellResult] | None] = [None] * len(jobs)
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        futures = {pool.submit(run_job, list(job)): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            i = futures[future]
            parts[i] = future.result()
            tracker.add(len(jobs[i]))
    return [r for part in parts for r in (part or [])]


def _run_ray(jobs: Sequence[Sequence[Cell]], workers: int, address: str | None, tracker: _Progress) -> list[CellResult]:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "the ray backend needs Ray, which is not installed; pip install 'cpnkit[ray]' (or use --backend process)"
        ) from None
    started = False
    if not ray.is_initialized():
        options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
        if address is not None:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, _node_ip_address="127.0.0.1", **options)
        started = True
    try:
        remote = ray.remote(run_job)
        refs = {remote.remote(list(job)): i for i, job in enumerate(jobs)}
        parts: list[list[CellResult] | None] = [None] * len(jobs)
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                i = refs[ref]
                parts[i] = ray.get(ref)
                tracker.add(len(jobs[i]))
        return [r for part in parts for r in (part or [])]
    finally:
        if started:
            ray.shutdown()
