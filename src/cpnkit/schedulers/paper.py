"""The RLMS-CPN paper's baselines, our water-filling scheduler, and the privileged oracle reference.

Every scheduler here filters candidates first (``CandidateFilter``: n compute nodes x k paths, paper §3.2) and
then decides among them:

========== ===================================== ==========================================================
id         node                                  split
========== ===================================== ==========================================================
base1      least predicted compute latency       ECMP: equal over the k shortest paths
base2      nearest (hops, then delay)            ECMP
base3      least predicted compute latency       LP: minimise the maximum link utilisation (HiGHS)
base4      nearest                               LP
waterfill  least predicted response latency      water-filling over probed delays and available bandwidth
oracle     the same rule on the true state       (privileged reference: every site, true queues and links)
========== ===================================== ==========================================================

``waterfill`` predicts, per candidate, ``max(T, W) + C + R``: the transmission ``T`` of the split that minimises
the slowest path (closed-form water-filling over the probed one-way delays and available bandwidths, or the
slow-start-aware split with ``transport="tcp"``), the queue wait ``W`` (data and queue drain in parallel), the
predicted compute latency ``C`` and the result's return ``R``. ``W`` comes from the latest (stale) telemetry —
queue length times the device's mean predicted service time — plus the work this scheduler sent there since,
drained at one second of work per second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cpnkit.errors import ConfigError, InfeasibleError
from cpnkit.estimate import TransportConfig, transfer_time_s, waterfill_split
from cpnkit.model import Decision, Device, LatencyPredictor, Path, Snapshot, Task, Topology
from cpnkit.schedulers.filter import Candidate, CandidateFilter, check_counts, predictor_of
from cpnkit.schedulers.lp import min_max_utilisation_split

__all__ = [
    "Base1Scheduler",
    "Base2Scheduler",
    "Base3Scheduler",
    "Base4Scheduler",
    "CandidatePrediction",
    "OracleScheduler",
    "QueueEstimator",
    "WaterfillScheduler",
    "bound_waterfill",
    "evaluate_decision",
    "filtered_oracle",
    "mean_service_s",
    "return_time_s",
]

#: A path's usable rate is floored at this fraction of its bottleneck capacity (a probe reading 0 bit/s
#: available still gets a max-min share when the flow joins).
MIN_RATE_FRACTION = 1e-3

TransportName = Literal["fluid", "tcp"]


def _transport(transport: TransportName | TransportConfig | None) -> TransportConfig | None:
    if transport is None or isinstance(transport, TransportConfig):
        return transport
    if transport not in ("fluid", "tcp"):
        raise ConfigError(f"transport={transport!r} must be 'fluid' or 'tcp' (or a TransportConfig)")
    return TransportConfig(model=transport)


def transport_of(snapshot: Snapshot, override: TransportConfig | None = None) -> TransportConfig:
    """The transport model to predict with: ``override``, else the network's (``snapshot.transport``), else fluid."""
    if override is not None:
        return override
    if isinstance(snapshot.transport, TransportConfig):
        return snapshot.transport
    return _FLUID


_FLUID = TransportConfig(model="fluid")


def return_time_s(topology: Topology, site: str, source: str, result_bytes: float) -> float:
    """Predicted return of a result: propagation of the shortest path back plus its bits at the bottleneck."""
    return _PathCosts(topology).return_s(site, source, result_bytes)


def _path_floor_bps(topology: Topology, path: Path) -> float:
    return MIN_RATE_FRACTION * float(np.min(topology.capacity_bps[list(path.link_ids)]))


class _PathCosts:
    """Per-topology memo of what waterfill reads on every decision: path rate floors and result-return times."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self._floors: dict[tuple[int, ...], float] = {}
        self._returns: dict[tuple[str, str], tuple[float, float]] = {}

    @classmethod
    def for_topology(cls, current: _PathCosts | None, topology: Topology) -> _PathCosts:
        """``current`` if it memoises ``topology``, else a fresh memo."""
        return current if current is not None and current.topology is topology else cls(topology)

    def floor_bps(self, path: Path) -> float:
        floor = self._floors.get(path.link_ids)
        if floor is None:
            floor = self._floors[path.link_ids] = _path_floor_bps(self.topology, path)
        return floor

    def return_s(self, site: str, source: str, result_bytes: float) -> float:
        cached = self._returns.get((site, source))
        if cached is None:
            path = self.topology.k_shortest_paths(site, source, 1)[0]
            bottleneck = float(np.min(self.topology.capacity_bps[list(path.link_ids)]))
            cached = self._returns[(site, source)] = (path.prop_delay_s, bottleneck)
        return cached[0] + 8.0 * result_bytes / cached[1]


def _transmission_s(
    size_bytes: float,
    delays_s: Sequence[float],
    rates_bps: Sequence[float],
    splittable: bool,
    transport: TransportConfig,
) -> tuple[tuple[float, ...], float]:
    """Best split and its completion time; one path (the fastest alone) when the task may not be split."""
    if splittable or len(delays_s) == 1:
        return waterfill_split(size_bytes, delays_s, rates_bps, config=transport)
    times = [transfer_time_s(size_bytes, r, d, config=transport) for d, r in zip(delays_s, rates_bps, strict=True)]
    best = int(np.argmin(times))
    return tuple(1.0 if i == best else 0.0 for i in range(len(times))), times[best]


def mean_service_s(predictor: LatencyPredictor, model: str, cache: dict[tuple[int, str], float]) -> float:
    """Mean predicted compute latency in s of device ``model`` over all NAS-Bench-201 archs (memoised in ``cache``).

    The queue estimators turn a reported queue length into a backlog with it.
    """
    key = (id(predictor), model)
    mean = cache.get(key)
    if mean is None:
        table = getattr(predictor, "latency_s", None)
        if table is not None and hasattr(predictor, "column_index"):
            mean = float(np.mean(table[:, predictor.column_index(model)]))
        else:
            mean = float(np.mean(predictor.predict(np.arange(15_625), model)))
        cache[key] = mean
    return mean


@dataclass(frozen=True, slots=True)
class CandidatePrediction:
    """Waterfill's prediction for one candidate.

    Attributes:
        candidate: The candidate.
        latency_s: Predicted response latency, in s.
        split: The water-filling split over the candidate's paths.
        transmission_s: Predicted transmission time of that split, in s.
    """

    candidate: Candidate
    latency_s: float
    split: tuple[float, ...]
    transmission_s: float


class QueueEstimator:
    """Predicted queue wait at a device from stale telemetry plus the scheduler's own dispatches since.

    At the latest report the backlog is ``queue_length x mean service time``; every task this scheduler sent
    to the device after that report adds its predicted compute time; the backlog drains at 1 s per s.
    """

    def __init__(self) -> None:
        self._ledger: dict[str, list[tuple[float, float]]] = {}
        self._last_time_s = -math.inf

    def wait_s(self, device: str, snapshot: Snapshot, mean_service_s: float) -> float:
        """Predicted wait in s of a task reaching ``device`` now."""
        if snapshot.time_s < self._last_time_s:  # a new run: forget the old ledger
            self._ledger.clear()
        self._last_time_s = snapshot.time_s
        report = snapshot.telemetry.get(device)
        report_s = report.time_s if report is not None else 0.0
        backlog = (report.queue_length if report is not None else 0) * mean_service_s
        entries = self._ledger.get(device)
        last = report_s
        if entries:
            entries[:] = [e for e in entries if e[0] >= report_s]
            for time_s, work_s in entries:
                backlog = max(0.0, backlog - (time_s - last)) + work_s
                last = time_s
        return max(0.0, backlog - (snapshot.time_s - last))

    def record(self, device: str, time_s: float, work_s: float) -> None:
        """Remember that ``work_s`` of compute was sent to ``device`` at ``time_s``."""
        self._ledger.setdefault(device, []).append((time_s, work_s))


class _FilteredScheduler:
    """Shared plumbing: the candidate filter, an optional predictor override, per-candidate scores."""

    name = ""
    privileged = False

    def __init__(
        self,
        n_candidates: int = 5,
        k_paths: int = 3,
        seed: int | None = None,
        predictor: LatencyPredictor | None = None,
        filter_rule: Literal["class", "bound"] = "class",
    ) -> None:
        check_counts(n_candidates, k_paths)
        self.filter = CandidateFilter(n_candidates, k_paths, filter_rule)
        self.predictor = predictor
        self.seed = seed

    def candidates(self, task: Task, snapshot: Snapshot) -> list[Candidate]:
        """The filtered candidates for ``task`` (what the decision chooses among)."""
        return self.filter(task, snapshot, self.predictor)

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        """Filter candidates, then choose the node and the split."""
        return self._choose(task, snapshot, self.candidates(task, snapshot))

    def _choose(self, task: Task, snapshot: Snapshot, candidates: list[Candidate]) -> Decision:
        raise NotImplementedError  # pragma: no cover

    def _decision(
        self,
        task: Task,
        chosen: Candidate,
        split: Sequence[float],
        scores: dict[str, float],
        reason: str,
        predicted_s: float = math.nan,
    ) -> Decision:
        return Decision(
            task_id=task.id,
            site=chosen.site,
            device=chosen.device.id,
            paths=chosen.paths,
            split=tuple(split),
            scheduler=self.name,
            predicted_latency_s=predicted_s,
            scores=scores,
            reason=reason,
        )


class _NodeRuleScheduler(_FilteredScheduler):
    """base1-4: a node rule (least predicted compute, or nearest) and a split rule (ECMP, or the LP)."""

    node_rule: Literal["compute", "nearest"] = "compute"
    split_rule: Literal["ecmp", "lp"] = "ecmp"

    def __init__(
        self,
        n_candidates: int = 5,
        k_paths: int = 3,
        seed: int | None = None,
        predictor: LatencyPredictor | None = None,
        lp_window_s: float = 1.0,
    ) -> None:
        super().__init__(n_candidates, k_paths, seed, predictor)
        if not (math.isfinite(lp_window_s) and lp_window_s > 0):
            raise ConfigError(f"lp_window_s={lp_window_s!r} must be finite and > 0 s (the LP demand is bits / window)")
        self.lp_window_s = lp_window_s

    def _choose(self, task: Task, snapshot: Snapshot, candidates: list[Candidate]) -> Decision:
        if self.node_rule == "compute":
            scores = {c.device.id: c.predicted_compute_s for c in candidates}
            chosen = min(candidates, key=lambda c: c.predicted_compute_s)  # stable: ties go to the nearest
            node_reason = f"least predicted compute latency ({chosen.predicted_compute_s * 1e3:.3f} ms)"
        else:
            scores = {c.device.id: float(c.hops) for c in candidates}
            chosen = candidates[0]
            node_reason = f"nearest candidate ({chosen.hops} hops)"
        k = len(chosen.paths)
        if self.split_rule == "ecmp" or k == 1:
            split: tuple[float, ...] = (1.0 / k,) * k
            split_reason = f"equal split over {k} shortest paths"
        else:
            if snapshot.link_load_bps is None:
                raise ConfigError(
                    f"{self.name} minimises link utilisation but the snapshot has no link-load telemetry "
                    "(Snapshot.link_load_bps); attach link loads or use an ECMP scheduler (base1/base2)"
                )
            demand = 8.0 * task.input_bytes / self.lp_window_s
            split, utilisation = min_max_utilisation_split(
                chosen.paths, demand, snapshot.link_load_bps, snapshot.topology.capacity_bps
            )
            split_reason = f"LP split over {k} paths, max link utilisation {utilisation:.3f}"
        return self._decision(task, chosen, split, scores, f"{node_reason}; {split_reason}")


class Base1Scheduler(_NodeRuleScheduler):
    """Base1 (paper §4.1.3): the candidate with the least predicted compute latency; ECMP over 3 paths."""

    name = "base1"
    node_rule = "compute"
    split_rule = "ecmp"


class Base2Scheduler(_NodeRuleScheduler):
    """Base2: the nearest candidate; ECMP over 3 paths."""

    name = "base2"
    node_rule = "nearest"
    split_rule = "ecmp"


class Base3Scheduler(_NodeRuleScheduler):
    """Base3: least predicted compute latency; split by the min-max-utilisation LP (HiGHS)."""

    name = "base3"
    node_rule = "compute"
    split_rule = "lp"


class Base4Scheduler(_NodeRuleScheduler):
    """Base4: the nearest candidate; split by the min-max-utilisation LP (HiGHS)."""

    name = "base4"
    node_rule = "nearest"
    split_rule = "lp"


class WaterfillScheduler(_FilteredScheduler):
    """Least predicted response latency over the candidates, each with its water-filling split.

    Args:
        n_candidates: Compute nodes kept by the filter (paper: 5).
        k_paths: Paths per node (paper: 3).
        seed: Unused (the rule is deterministic); accepted like every scheduler's.
        predictor: Compute-latency predictor (default: the snapshot's).
        transport: How transmission is predicted: ``"fluid"`` (closed form), ``"tcp"`` (slow-start aware), or
            ``None`` (default) for the network's own model (``snapshot.transport``; fluid when unknown).
        filter_rule: ``"class"`` (the paper's filter) or ``"bound"`` (least latency lower bound, any class).
    """

    name = "waterfill"

    def __init__(
        self,
        n_candidates: int = 5,
        k_paths: int = 3,
        seed: int | None = None,
        predictor: LatencyPredictor | None = None,
        transport: TransportName | TransportConfig | None = None,
        filter_rule: Literal["class", "bound"] = "class",
    ) -> None:
        super().__init__(n_candidates, k_paths, seed, predictor, filter_rule)
        self.transport = _transport(transport)
        self.queues = QueueEstimator()
        self._mean_service: dict[tuple[int, str], float] = {}
        self._costs: _PathCosts | None = None

    def predict(self, task: Task, snapshot: Snapshot, candidates: list[Candidate]) -> list[CandidatePrediction]:
        """Predicted response latency of ``task`` at each candidate, with its water-filling split (no side effects).

        Carbon- and cost-aware schedulers reuse this prediction and choose by another rule.
        """
        predictor = predictor_of(snapshot, self.predictor)
        costs = self._costs = _PathCosts.for_topology(self._costs, snapshot.topology)
        out = []
        for cand in candidates:
            probes = [snapshot.probe(p) for p in cand.paths]
            delays = [pr.one_way_delay_s for pr in probes]
            rates = [max(pr.available_bps, costs.floor_bps(pr.path)) for pr in probes]
            split, transmission = _transmission_s(
                task.input_bytes, delays, rates, task.splittable, transport_of(snapshot, self.transport)
            )
            wait = self.queues.wait_s(
                cand.device.id, snapshot, mean_service_s(predictor, cand.device.model, self._mean_service)
            )
            total = (
                max(transmission, wait)
                + cand.predicted_compute_s
                + costs.return_s(cand.site, task.source, task.result_bytes)
            )
            out.append(CandidatePrediction(cand, total, split, transmission))
        return out

    def _choose(self, task: Task, snapshot: Snapshot, candidates: list[Candidate]) -> Decision:
        predictions = self.predict(task, snapshot, candidates)
        scores = {p.candidate.device.id: p.latency_s for p in predictions}
        best = min(predictions, key=lambda p: p.latency_s)  # first of equals: the nearest
        chosen = best.candidate
        self.queues.record(chosen.device.id, snapshot.time_s, chosen.predicted_compute_s)
        reason = (
            f"least predicted response {best.latency_s * 1e3:.3f} ms of {len(candidates)} candidates "
            f"(transmission {best.transmission_s * 1e3:.3f} ms, compute {chosen.predicted_compute_s * 1e3:.3f} ms)"
        )
        return self._decision(task, chosen, best.split, scores, reason, predicted_s=best.latency_s)


def evaluate_decision(
    task: Task,
    decision: Decision,
    snapshot: Snapshot,
    transport: TransportName | TransportConfig | None = None,
) -> float:
    """The response latency of ``decision`` predicted on the simulator's true state (``snapshot.truth``).

    ``max(T, backlog) + compute + return`` with ``T`` the slowest subflow of the decided split at the true
    one-way delays and available bandwidths. The oracle minimises exactly this, so no decision can score lower
    than the oracle's own (over the same path sets).

    Raises:
        ConfigError: the snapshot carries no true state (only privileged schedulers' snapshots do).
    """
    truth = snapshot.truth
    if truth is None:
        raise ConfigError("evaluate_decision needs Snapshot.truth; the simulator gives it to privileged schedulers")
    config = transport_of(snapshot, _transport(transport))
    topology = snapshot.topology
    transmission = 0.0
    for path, share in zip(decision.paths, decision.split, strict=True):
        if share <= 0.0:
            continue
        delay, available = truth.path_state(path)
        rate = max(available, _path_floor_bps(topology, path))
        transmission = max(transmission, transfer_time_s(task.input_bytes * share, rate, delay, config=config))
    return (
        max(transmission, truth.device_backlog_s(decision.device))
        + truth.compute_s(task.arch_idx, decision.device)
        + return_time_s(topology, decision.site, task.source, task.result_bytes)
    )


class OracleScheduler:
    """A privileged reference: the ``waterfill`` rule on the simulator's true state, over every site.

    It reads true queues (in-service remainder, queue and in-transit work), true mean compute times, and exact
    link delays and residual bandwidth — a bound on what perfect perception could give, never a product
    scheduler. Sites are visited in order of a lower bound (compute + propagation + return) and the search
    stops when the bound exceeds the best found (branch and bound), so it is exact over all sites.

    With ``scope="candidates"`` it chooses only among the filtered candidates the product schedulers see (from
    the snapshot's predictor): the gap between ``waterfill`` and that variant is the cost of imperfect
    perception and prediction alone; the gap to the default ``scope="all"`` adds what the filter leaves out.

    Args:
        n_candidates: Candidates kept by the filter (``scope="candidates"`` only).
        k_paths: Paths per site (shortest by delay).
        seed: Unused; accepted like every scheduler's.
        transport: How transmission is evaluated; ``None`` (default): the network's own (``snapshot.transport``).
        scope: ``"all"`` sites (default) or the filtered ``"candidates"``.
    """

    name = "oracle"
    privileged = True

    def __init__(
        self,
        n_candidates: int = 5,
        k_paths: int = 3,
        seed: int | None = None,
        transport: TransportName | TransportConfig | None = None,
        scope: Literal["all", "candidates"] = "all",
    ) -> None:
        check_counts(n_candidates, k_paths)
        if scope not in ("all", "candidates"):
            raise ConfigError(f"scope={scope!r} must be 'all' (every site) or 'candidates' (the filtered ones)")
        self.k_paths = k_paths
        self.transport = _transport(transport)
        self.scope = scope
        self.filter = CandidateFilter(n_candidates, k_paths)
        self._costs: _PathCosts | None = None

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        """The least true response latency over every site and device."""
        truth = snapshot.truth
        if truth is None:
            raise ConfigError(
                "the oracle is a privileged reference and needs the true state (Snapshot.truth); the simulator "
                "gives it only to schedulers with privileged = True"
            )
        topology = snapshot.topology
        costs = self._costs = _PathCosts.for_topology(self._costs, topology)
        delay = topology.delay_distances(task.source)
        bounds = []
        pool: list[tuple[str, tuple[Device, ...]]]
        if self.scope == "candidates":
            pool = [(c.site, (c.device,)) for c in self.filter(task, snapshot)]
        else:
            pool = [(node, site.devices) for node, site in snapshot.sites.items()]
        back_to = topology.delay_distances_to(task.source)
        for node, devices in pool:
            if node == task.source or node not in delay or node not in back_to:
                continue
            net = delay[node] + back_to[node]  # propagation there and back: a lower bound on T + R
            for dev in devices:
                bounds.append((truth.compute_s(task.arch_idx, dev.id) + net, node, dev.id))
        if not bounds:
            raise InfeasibleError(f"task {task.id}: no compute site is reachable from {task.source!r}")
        bounds.sort()
        k = self.k_paths if task.splittable else 1
        best: tuple[float, str, str, tuple[Path, ...], tuple[float, ...]] | None = None
        scores: dict[str, float] = {}
        for bound, node, device in bounds:
            if best is not None and bound >= best[0]:
                break
            back = costs.return_s(node, task.source, task.result_bytes)
            paths = tuple(topology.k_shortest_paths(task.source, node, k))
            states = [truth.path_state(p) for p in paths]
            delays = [d for d, _ in states]
            rates = [max(a, costs.floor_bps(p)) for (_, a), p in zip(states, paths, strict=True)]
            split, transmission = _transmission_s(
                task.input_bytes, delays, rates, task.splittable, transport_of(snapshot, self.transport)
            )
            total = max(transmission, truth.device_backlog_s(device)) + truth.compute_s(task.arch_idx, device) + back
            scores[device] = total
            if best is None or total < best[0]:
                best = (total, node, device, paths, split)
        assert best is not None
        total, node, device, paths, split = best
        return Decision(
            task_id=task.id,
            site=node,
            device=device,
            paths=paths,
            split=split,
            scheduler=self.name,
            predicted_latency_s=total,
            scores=scores,
            reason=f"PRIVILEGED reference: least true response {total * 1e3:.3f} ms over {len(scores)} evaluated "
            f"of {len(bounds)} devices",
        )


def filtered_oracle(**kwargs: Any) -> OracleScheduler:
    """The oracle restricted to the filtered candidates (registry id ``oracle-filtered``)."""
    return OracleScheduler(**kwargs, scope="candidates")


def bound_waterfill(**kwargs: Any) -> WaterfillScheduler:
    """``waterfill`` over candidates chosen by a latency lower bound (registry id ``waterfill-bound``)."""
    scheduler = WaterfillScheduler(**kwargs, filter_rule="bound")
    scheduler.name = "waterfill-bound"
    return scheduler
