"""Simple schedulers that make the simulator run end to end: ``nearest-ecmp`` and ``random``."""

from __future__ import annotations

import numpy as np

from cpnkit.errors import ConfigError, InfeasibleError
from cpnkit.model import Decision, Device, Site, Snapshot, Task, Topology

__all__ = ["NearestEcmpScheduler", "RandomScheduler"]


def _check_k(k_paths: int) -> None:
    if not (isinstance(k_paths, int) and k_paths >= 1):
        raise ConfigError(f"k_paths={k_paths!r} must be an integer >= 1 (the paper uses 3)")


def _least_queued(site: Site, snapshot: Snapshot) -> Device:
    """The site's device with the shortest reported queue (ties: first listed)."""
    if len(site.devices) == 1:
        return site.devices[0]
    telemetry = snapshot.telemetry

    def queue(device: Device) -> int:
        report = telemetry.get(device.id)
        return report.queue_length if report is not None else 0

    return min(site.devices, key=queue)


class NearestEcmpScheduler:
    """Nearest site by hop count (ties: lower propagation delay, then node id); equal split over k paths.

    Args:
        k_paths: Number of shortest paths (by delay) to split over; unsplittable tasks use one.
        n_scores: How many nearest candidates to report in ``Decision.scores`` (hop counts).
    """

    name = "nearest-ecmp"

    def __init__(self, k_paths: int = 3, n_scores: int = 5, seed: int | None = None) -> None:
        _check_k(k_paths)
        self.k_paths = k_paths
        self.n_scores = n_scores
        self._ranked: dict[tuple[int, str], list[tuple[int, float, str]]] = {}

    def _ranking(self, topology: Topology, sites: list[str], source: str) -> list[tuple[int, float, str]]:
        key = (id(topology), source)
        ranked = self._ranked.get(key)
        if ranked is None:
            hops = topology.hop_distances(source)
            delay = topology.delay_distances(source)
            ranked = sorted((hops[s], delay[s], s) for s in sites if s in hops and s != source)
            self._ranked[key] = ranked
        return ranked

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        """Pick the nearest site and split equally over its k shortest paths."""
        ranked = self._ranking(snapshot.topology, list(snapshot.sites), task.source)
        if not ranked:
            raise InfeasibleError(f"task {task.id}: no compute site is reachable from {task.source!r}")
        hops, _, site_id = ranked[0]
        device = _least_queued(snapshot.sites[site_id], snapshot)
        k = self.k_paths if task.splittable else 1
        paths = snapshot.topology.k_shortest_paths(task.source, site_id, k)
        share = 1.0 / len(paths)
        return Decision(
            task_id=task.id,
            site=site_id,
            device=device.id,
            paths=paths,
            split=(share,) * len(paths),
            scheduler=self.name,
            scores={s: float(h) for h, _, s in ranked[: self.n_scores]},
            reason=f"nearest site ({hops} hops); equal split over {len(paths)} shortest paths",
        )


class RandomScheduler:
    """Uniformly random site and device; split drawn uniformly on the simplex over the k shortest paths.

    Args:
        k_paths: Number of shortest paths (by delay) to split over.
        seed: Seed of the scheduler's own random generator.
    """

    name = "random"

    def __init__(self, k_paths: int = 3, seed: int | None = 0) -> None:
        _check_k(k_paths)
        self.k_paths = k_paths
        self._rng = np.random.default_rng(seed)
        self._sites_cache: tuple[int, list[str]] | None = None

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        """Pick a random reachable site, device and split."""
        if self._sites_cache is None or self._sites_cache[0] != id(snapshot.sites):
            self._sites_cache = (id(snapshot.sites), sorted(snapshot.sites))
        sites = [s for s in self._sites_cache[1] if s != task.source]
        if not sites:
            raise InfeasibleError(f"task {task.id}: no compute site other than the source {task.source!r}")
        site_id = sites[int(self._rng.integers(len(sites)))]
        site = snapshot.sites[site_id]
        device = site.devices[int(self._rng.integers(len(site.devices)))]
        k = self.k_paths if task.splittable else 1
        paths = snapshot.topology.k_shortest_paths(task.source, site_id, k)
        split = self._rng.dirichlet(np.ones(len(paths))) if len(paths) > 1 else np.ones(1)
        split = split / split.sum()
        return Decision(
            task_id=task.id,
            site=site_id,
            device=device.id,
            paths=paths,
            split=tuple(float(x) for x in split),
            scheduler=self.name,
            reason="random",
        )
