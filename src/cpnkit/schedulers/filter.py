"""Candidate filtering (RLMS-CPN §3.2): which compute nodes and paths a scheduler considers for a task.

For a task entering at access point ``s``:

1. predict the task's compute latency on every device model present (through the snapshot's
   ``LatencyPredictor``) and give each device class the latency of its fastest model;
2. keep the sites hosting a device of the best class (the fastest device of that class at each site); when that
   class has fewer than ``n`` sites, fill with the next-best classes in order;
3. rank them by hop count from ``s`` (ties: propagation delay, then node id) and keep the first ``n``;
4. give each the ``k`` shortest paths by delay (1 when the task may not be split).

``rule="bound"`` (beyond the paper) replaces steps 1-2: it keeps the ``n`` sites with the least lower bound on
response latency — predicted compute + shortest propagation delay there + propagation back — whatever their class,
so a near CPU is not passed over for a far GPU when the network dominates. Candidates are still listed nearest
first.

Scale (``asn``, 1,739 nodes): everything that does not depend on the task is precomputed once per topology,
site set and access point — the per-class hop ranking of sites, the device models present, the prediction
columns — and paths come from the topology's cache, so a decision costs a row lookup and a slice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from cpnkit.errors import ConfigError, InfeasibleError
from cpnkit.estimate import PredictionTable
from cpnkit.model import Device, LatencyPredictor, Path, Snapshot, Task

__all__ = ["Candidate", "CandidateFilter", "check_counts", "predictor_of"]


def check_counts(n_candidates: int, k_paths: int) -> None:
    """Validate the candidate and path counts.

    Raises:
        ConfigError: either is not an integer >= 1.
    """
    for name, value, paper in (("n_candidates", n_candidates, 5), ("k_paths", k_paths, 3)):
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            raise ConfigError(f"{name}={value!r} must be an integer >= 1 (the paper uses {paper})")


def predictor_of(snapshot: Snapshot, override: LatencyPredictor | None = None) -> LatencyPredictor:
    """The predictor a scheduler uses: its own ``override`` or the snapshot's.

    Raises:
        ConfigError: neither is available.
    """
    predictor = override if override is not None else snapshot.predictor
    if predictor is None:
        raise ConfigError(
            "this scheduler needs a compute-latency predictor, but the snapshot has none; build the scenario with "
            "a predictor (build_scenario does) or pass predictor=... to the scheduler"
        )
    return predictor


@dataclass(frozen=True, slots=True)
class Candidate:
    """One compute node a task may go to, with the paths to reach it.

    Attributes:
        site: Node id of the site.
        device: The device chosen at that site (its fastest of the selected class).
        hops: Hop count from the access point on the shortest path.
        paths: Up to k shortest paths by delay from the access point.
        predicted_compute_s: Predicted compute latency of the task on ``device``, in s.
    """

    site: str
    device: Device
    hops: int
    paths: tuple[Path, ...]
    predicted_compute_s: float


class _Layout:
    """What the filter precomputes per (topology, sites): device models, classes and per-source rankings."""

    def __init__(self, snapshot: Snapshot, predictor: LatencyPredictor) -> None:
        self.topology = snapshot.topology
        self.sites = snapshot.sites
        self.predictor = predictor
        models: dict[str, int] = {}
        classes: dict[str, int] = {}
        site_devices: list[tuple[str, list[tuple[int, int, Device]]]] = []
        for node, site in snapshot.sites.items():
            entries = []
            for device in site.devices:
                m = models.setdefault(device.model, len(models))
                c = classes.setdefault(device.device_class, len(classes))
                entries.append((m, c, device))
            site_devices.append((node, entries))
        self.models = tuple(models)
        self.classes = tuple(classes)
        self.class_models = [
            np.array([models[m] for m in models if _class_of(snapshot, m) == c], dtype=np.intp) for c in self.classes
        ]
        self.site_devices = site_devices
        # per class: the site indices hosting it
        self.class_sites: list[list[int]] = [
            [i for i, (_, entries) in enumerate(site_devices) if any(ci == c for _, ci, _ in entries)]
            for c in range(len(self.classes))
        ]
        self._columns: npt.NDArray[np.intp] | None = None
        if isinstance(predictor, PredictionTable):
            self._columns = np.array([predictor.column_index(m) for m in self.models], dtype=np.intp)
        self._rows: dict[int, npt.NDArray[np.float64]] = {}
        self._rank: dict[str, list[list[tuple[int, int]]]] = {}
        # flat view for rule="bound": one entry per (site, device)
        self.flat_site = np.array([i for i, (_, entries) in enumerate(site_devices) for _ in entries], dtype=np.intp)
        self.flat_model = np.array([m for _, entries in site_devices for m, _, _ in entries], dtype=np.intp)
        self.flat_device = [d for _, entries in site_devices for _, _, d in entries]
        self._net_bound: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]] = {}

    def net_bound(self, source: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Per flat device entry: propagation there and back from ``source`` (inf if unreachable) and hop count."""
        cached = self._net_bound.get(source)
        if cached is None:
            there = self.topology.delay_distances(source)
            back_to = self.topology.delay_distances_to(source)
            hops = self.topology.hop_distances(source)
            bound = np.full(len(self.site_devices), np.inf)
            hop = np.zeros(len(self.site_devices), dtype=np.int64)
            for i, (node, _) in enumerate(self.site_devices):
                if node in there and node != source:
                    back = back_to.get(node, np.inf)
                    bound[i] = there[node] + back
                    hop[i] = hops[node]
            cached = (bound[self.flat_site], hop[self.flat_site])
            self._net_bound[source] = cached
        return cached

    def predictions(self, arch: int) -> npt.NDArray[np.float64]:
        """Predicted latency in s of ``arch`` on every model present, in ``self.models`` order."""
        if self._columns is not None:
            return np.asarray(self.predictor.latency_s[arch, self._columns])  # type: ignore[attr-defined]
        row = self._rows.get(arch)
        if row is None:
            row = np.array([float(self.predictor.predict([arch], m)[0]) for m in self.models], dtype=np.float64)
            if len(self._rows) > 4096:
                self._rows.clear()
            self._rows[arch] = row
        return row

    def ranking(self, source: str) -> list[list[tuple[int, int]]]:
        """Per class: ``(hops, site index)`` of its sites reachable from ``source``, nearest first."""
        ranked = self._rank.get(source)
        if ranked is None:
            hops = self.topology.hop_distances(source)
            delay = self.topology.delay_distances(source)
            ranked = []
            for members in self.class_sites:
                keyed = [
                    (hops[self.site_devices[i][0]], delay[self.site_devices[i][0]], self.site_devices[i][0], i)
                    for i in members
                    if self.site_devices[i][0] in hops and self.site_devices[i][0] != source
                ]
                keyed.sort()
                ranked.append([(h, i) for h, _, _, i in keyed])
            self._rank[source] = ranked
        return ranked


def _class_of(snapshot: Snapshot, model: str) -> str:
    for device in snapshot.devices.values():
        if device.model == model:
            return device.device_class
    raise ConfigError(f"device model {model!r} is not hosted by any site")  # pragma: no cover - by construction


class CandidateFilter:
    """Selects ``n_candidates`` compute nodes and ``k_paths`` paths to each (paper §3.2).

    Args:
        n_candidates: Compute nodes kept (paper: 5).
        k_paths: Shortest paths by delay per node (paper: 3); unsplittable tasks get 1.

    Example:
        >>> from cpnkit.sim.testing import line_scenario
        >>> from cpnkit.sim import Simulator
        >>> from cpnkit.schedulers import make
        >>> decision = Simulator(line_scenario(), make("base1")).run().decisions[0]
        >>> decision.site, len(decision.paths)
        ('c', 1)
    """

    def __init__(self, n_candidates: int = 5, k_paths: int = 3, rule: Literal["class", "bound"] = "class") -> None:
        check_counts(n_candidates, k_paths)
        if rule not in ("class", "bound"):
            raise ConfigError(f"rule={rule!r} must be 'class' (the paper's) or 'bound' (least latency lower bound)")
        self.n_candidates = n_candidates
        self.k_paths = k_paths
        self.rule = rule
        self._layout: tuple[Any, Any, Any, _Layout] | None = None

    def layout(self, snapshot: Snapshot, predictor: LatencyPredictor) -> _Layout:
        """The precomputed layout for this snapshot's topology, sites and predictor (rebuilt when they change)."""
        cached = self._layout
        if (
            cached is None
            or cached[0] is not snapshot.topology
            or cached[1] is not snapshot.sites
            or cached[2] is not predictor
        ):
            layout = _Layout(snapshot, predictor)
            self._layout = (snapshot.topology, snapshot.sites, predictor, layout)
            return layout
        return cached[3]

    def __call__(self, task: Task, snapshot: Snapshot, predictor: LatencyPredictor | None = None) -> list[Candidate]:
        """The candidates for ``task``, nearest first.

        Raises:
            ConfigError: no predictor is available.
            InfeasibleError: no compute site is reachable from the task's access point.
        """
        predictor = predictor_of(snapshot, predictor)
        layout = self.layout(snapshot, predictor)
        predicted = layout.predictions(task.arch_idx)
        if self.rule == "bound":
            return self._by_bound(task, snapshot, layout, predicted)
        class_best = np.array([predicted[cols].min() for cols in layout.class_models])
        ranking = layout.ranking(task.source)
        chosen: list[tuple[int, int, int]] = []  # (hops, site index, class)
        for c in np.argsort(class_best, kind="stable"):
            for hops, i in ranking[int(c)]:
                if len(chosen) >= self.n_candidates:
                    break
                if all(i != j for _, j, _ in chosen):
                    chosen.append((hops, i, int(c)))
            if len(chosen) >= self.n_candidates:
                break
        if not chosen:
            raise InfeasibleError(f"task {task.id}: no compute site is reachable from {task.source!r}")
        k = self.k_paths if task.splittable else 1
        model_index = {m: j for j, m in enumerate(layout.models)}
        out = []
        for hops, i, c in chosen:
            node, entries = layout.site_devices[i]
            best = min((e for e in entries if e[1] == c), key=lambda e: predicted[e[0]])
            device = best[2]
            out.append(
                Candidate(
                    site=node,
                    device=device,
                    hops=hops,
                    paths=tuple(snapshot.topology.k_shortest_paths(task.source, node, k)),
                    predicted_compute_s=float(predicted[model_index[device.model]]),
                )
            )
        return out

    def _by_bound(
        self, task: Task, snapshot: Snapshot, layout: _Layout, predicted: npt.NDArray[np.float64]
    ) -> list[Candidate]:
        net, hops = layout.net_bound(task.source)
        bound = predicted[layout.flat_model] + net
        order = np.argsort(bound, kind="stable")
        picked: list[int] = []
        seen: set[int] = set()
        for j in order:
            if not np.isfinite(bound[j]):
                break
            site = int(layout.flat_site[j])
            if site in seen:
                continue
            seen.add(site)
            picked.append(int(j))
            if len(picked) >= self.n_candidates:
                break
        if not picked:
            raise InfeasibleError(f"task {task.id}: no compute site is reachable from {task.source!r}")
        picked.sort(key=lambda j: (int(hops[j]), float(net[j]), layout.site_devices[int(layout.flat_site[j])][0]))
        k = self.k_paths if task.splittable else 1
        out = []
        for j in picked:
            node = layout.site_devices[int(layout.flat_site[j])][0]
            out.append(
                Candidate(
                    site=node,
                    device=layout.flat_device[j],
                    hops=int(hops[j]),
                    paths=tuple(snapshot.topology.k_shortest_paths(task.source, node, k)),
                    predicted_compute_s=float(predicted[layout.flat_model[j]]),
                )
            )
        return out
