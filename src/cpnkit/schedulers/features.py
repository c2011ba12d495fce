"""The candidate graph: what the learned schedulers and the Gymnasium env see of one task (RLMS-CPN §3.4).

For a task, the candidate filter (§3.2) keeps ``n`` compute nodes with ``k`` paths each. SyncGNN's graph has one
*compute vertex* per candidate and one *path vertex* per path; a path vertex is joined only to the compute vertex
its path reaches (§3.4.3). Because that layout is fixed, the graph is stored as padded arrays — ``node[i]`` is
compute vertex ``i`` and ``path[i, j]`` its ``j``-th path vertex — so the edges need not be listed: compute vertex
``i`` is adjacent to exactly ``path[i, :]`` where ``path_mask[i, :]`` is set. Missing candidates (fewer than ``n``
passed the filter) and missing paths (unsplittable tasks get one) are zero rows with a cleared mask.

Features (all finite, scaled to order 1; times in units of ``TIME_SCALE_S``):

compute vertex (``NODE_FEATURES``)
    predicted compute latency; predicted queue wait (stale telemetry + this encoder's own dispatches, as
    ``waterfill`` estimates it); reported queue length / 10; reported utilisation; hop count / 10; result return
    time (propagation + result bytes over the return bottleneck).
path vertex (``PATH_FEATURES``)
    probed one-way delay; log10 of the probed available bandwidth in Mbit/s; time to send the whole input on this
    path alone (delay + bits / available); hop count / 10; propagation delay.
task (``TASK_FEATURES``)
    log10 of the input size in MB; splittable (0/1); log10 of the result size in KB.

The encoder is stateful (its queue ledger remembers what it dispatched, as a scheduler does), so a learned
scheduler and the env each own one and call :meth:`CandidateEncoder.record` after every decision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from cpnkit.errors import DecisionError
from cpnkit.model import Decision, LatencyPredictor, Snapshot, Task
from cpnkit.schedulers.filter import Candidate, CandidateFilter, check_counts, predictor_of
from cpnkit.schedulers.paper import QueueEstimator, _PathCosts, mean_service_s

__all__ = [
    "NODE_FEATURES",
    "PATH_FEATURES",
    "TASK_FEATURES",
    "TIME_SCALE_S",
    "CandidateEncoder",
    "CandidateGraph",
    "project_split",
]

#: Time unit of every time feature, in s (the paper's tasks take tens to hundreds of ms).
TIME_SCALE_S = 0.1
#: Names of the compute-vertex features, in column order.
NODE_FEATURES: tuple[str, ...] = ("compute", "queue_wait", "queue_length", "utilisation", "hops", "return")
#: Names of the path-vertex features, in column order.
PATH_FEATURES: tuple[str, ...] = ("delay", "log_available_mbps", "alone_transfer", "hops", "propagation")
#: Names of the task features, in order.
TASK_FEATURES: tuple[str, ...] = ("log_input_mb", "splittable", "log_result_kb")


@dataclass(frozen=True, slots=True)
class CandidateGraph:
    """SyncGNN's input for one task (padded to ``n`` compute vertices x ``k`` paths).

    Attributes:
        task: The task being decided.
        candidates: The filtered candidates, in vertex order (``len(candidates) <= n``).
        node: Compute-vertex features, shape ``(n, len(NODE_FEATURES))``, float32.
        path: Path-vertex features, shape ``(n, k, len(PATH_FEATURES))``, float32.
        task_x: Task features, shape ``(len(TASK_FEATURES),)``, float32.
        node_mask: Which compute vertices are real, shape ``(n,)``, int8 (1 = real).
        path_mask: Which path vertices are real, shape ``(n, k)``, int8; a real vertex has >= 1 real path.
        time_s: Snapshot time the graph was built at, in s of simulated time.
        wait_s: The predicted queue wait per real candidate, in s (for explanations).
    """

    task: Task
    time_s: float
    candidates: tuple[Candidate, ...]
    node: npt.NDArray[np.float32]
    path: npt.NDArray[np.float32]
    task_x: npt.NDArray[np.float32]
    node_mask: npt.NDArray[np.int8]
    path_mask: npt.NDArray[np.int8]
    wait_s: tuple[float, ...] = field(default=())

    @property
    def n(self) -> int:
        """Number of compute-vertex slots (the filter's ``n_candidates``)."""
        return int(self.node.shape[0])

    @property
    def k(self) -> int:
        """Number of path slots per compute vertex (the filter's ``k_paths``)."""
        return int(self.path.shape[1])

    def observation(self) -> dict[str, npt.NDArray[np.float32] | npt.NDArray[np.int8]]:
        """The graph as the env's dict observation (``node``, ``path``, ``task``, ``node_mask``, ``path_mask``)."""
        return {
            "node": self.node,
            "path": self.path,
            "task": self.task_x,
            "node_mask": self.node_mask,
            "path_mask": self.path_mask,
        }

    def decision(
        self,
        node: int,
        split: Sequence[float] | npt.NDArray[np.floating],
        scheduler: str,
        *,
        scores: dict[str, float] | None = None,
        reason: str = "",
        predicted_s: float = math.nan,
    ) -> Decision:
        """The decision that sends the task to compute vertex ``node`` with ``split`` over its paths.

        ``split`` has ``k`` entries (one per path slot); it is projected onto the simplex over the node's real
        paths (:func:`project_split`), so padding slots get nothing.

        Raises:
            DecisionError: ``node`` is not a real compute vertex, or ``split`` has the wrong length or non-finite
                entries.
        """
        if not (isinstance(node, int | np.integer) and 0 <= int(node) < len(self.candidates)):
            raise DecisionError(
                f"task {self.task.id}: node index {node!r} is not a real candidate; choose 0.."
                f"{len(self.candidates) - 1} (mask the padded vertices with node_mask)"
            )
        cand = self.candidates[int(node)]
        ratios = project_split(split, self.path_mask[int(node)])[: len(cand.paths)]
        return Decision(
            task_id=self.task.id,
            site=cand.site,
            device=cand.device.id,
            paths=cand.paths,
            split=tuple(float(r) for r in ratios),
            scheduler=scheduler,
            predicted_latency_s=predicted_s,
            scores=scores if scores is not None else {},
            reason=reason,
        )


def project_split(
    split: Sequence[float] | npt.NDArray[np.floating], mask: Sequence[int] | npt.NDArray[np.integer]
) -> npt.NDArray[np.float64]:
    """Ratios on the simplex over the masked-in slots: negatives clipped to 0, then normalised.

    An all-zero split (after clipping and masking) becomes an equal split over the masked-in slots.

    Raises:
        DecisionError: the lengths differ, an entry is not finite, or the mask has no slot set.

    Example:
        >>> project_split([0.2, -1.0, 0.6], [1, 1, 0]).tolist()
        [1.0, 0.0, 0.0]
        >>> project_split([0.0, 0.0, 0.0], [1, 1, 0]).tolist()
        [0.5, 0.5, 0.0]
    """
    ratios = np.asarray(split, dtype=np.float64)
    keep = np.asarray(mask) > 0
    if ratios.shape != keep.shape:
        raise DecisionError(
            f"split has {ratios.shape} entries but the node has {keep.shape} path slots; give one per slot"
        )
    if not np.all(np.isfinite(ratios)):
        raise DecisionError(f"split {ratios.tolist()} has non-finite entries; give finite ratios")
    if not keep.any():
        raise DecisionError("the node has no real path (path_mask is all zero); choose a real candidate")
    ratios = np.where(keep, np.clip(ratios, 0.0, None), 0.0)
    total = float(ratios.sum())
    if total <= 0.0:
        return keep / float(keep.sum())
    out: npt.NDArray[np.float64] = ratios / total
    return out


class CandidateEncoder:
    """Builds the :class:`CandidateGraph` of a task from a snapshot (filter, predictions, probes, queue ledger).

    Args:
        n_candidates: Compute vertices (paper: 5).
        k_paths: Paths per compute vertex (paper: 3).
        filter_rule: ``"class"`` (the paper's filter) or ``"bound"``.
        predictor: Compute-latency predictor (default: the snapshot's).

    Example:
        >>> from cpnkit.sim.testing import line_scenario
        >>> from cpnkit.sim import Simulator
        >>> from cpnkit.schedulers import make
        >>> class Peek:
        ...     name, graphs, encoder = "peek", [], CandidateEncoder(n_candidates=2, k_paths=2)
        ...     def decide(self, task, snapshot):
        ...         g = self.encoder.encode(task, snapshot)
        ...         self.graphs.append(g)
        ...         self.encoder.record(g, 0)
        ...         return g.decision(0, [1.0, 1.0], self.name)
        >>> peek = Peek()
        >>> _ = Simulator(line_scenario(n_tasks=2), peek).run()
        >>> peek.graphs[0].node.shape, peek.graphs[0].path.shape
        ((2, 6), (2, 2, 5))
    """

    def __init__(
        self,
        n_candidates: int = 5,
        k_paths: int = 3,
        filter_rule: Literal["class", "bound"] = "class",
        predictor: LatencyPredictor | None = None,
    ) -> None:
        check_counts(n_candidates, k_paths)
        self.filter = CandidateFilter(n_candidates, k_paths, filter_rule)
        self.predictor = predictor
        self.queues = QueueEstimator()
        self._costs: _PathCosts | None = None
        self._mean_service: dict[tuple[int, str], float] = {}

    @property
    def n(self) -> int:
        """Compute-vertex slots."""
        return self.filter.n_candidates

    @property
    def k(self) -> int:
        """Path slots per compute vertex."""
        return self.filter.k_paths

    def reset(self) -> None:
        """Forget the queue ledger (a new episode on possibly another network)."""
        self.queues = QueueEstimator()

    def encode(self, task: Task, snapshot: Snapshot) -> CandidateGraph:
        """The candidate graph of ``task`` now (probes every candidate path once, 3 back-to-back probes each).

        Raises:
            InfeasibleError: no site can serve the task (from the filter).
            ConfigError: no predictor is available.
        """
        predictor = predictor_of(snapshot, self.predictor)
        candidates = self.filter(task, snapshot, self.predictor)
        costs = self._costs = _PathCosts.for_topology(self._costs, snapshot.topology)
        n, k = self.n, self.k
        node = np.zeros((n, len(NODE_FEATURES)), dtype=np.float32)
        path = np.zeros((n, k, len(PATH_FEATURES)), dtype=np.float32)
        node_mask = np.zeros(n, dtype=np.int8)
        path_mask = np.zeros((n, k), dtype=np.int8)
        bits = 8.0 * task.input_bytes
        waits: list[float] = []
        tau = TIME_SCALE_S
        for i, cand in enumerate(candidates[:n]):
            report = snapshot.telemetry.get(cand.device.id)
            wait = self.queues.wait_s(
                cand.device.id, snapshot, mean_service_s(predictor, cand.device.model, self._mean_service)
            )
            waits.append(wait)
            node[i] = (
                cand.predicted_compute_s / tau,
                wait / tau,
                (report.queue_length if report is not None else 0) / 10.0,
                report.utilisation if report is not None else 0.0,
                cand.hops / 10.0,
                costs.return_s(cand.site, task.source, task.result_bytes) / tau,
            )
            node_mask[i] = 1
            for j, p in enumerate(cand.paths[:k]):
                probe = snapshot.probe(p)
                rate = max(probe.available_bps, costs.floor_bps(p))
                path[i, j] = (
                    probe.one_way_delay_s / tau,
                    math.log10(rate / 1e6),
                    (probe.one_way_delay_s + bits / rate) / tau,
                    len(p.link_ids) / 10.0,
                    p.prop_delay_s / tau,
                )
                path_mask[i, j] = 1
        task_x = np.array(
            (
                math.log10(task.input_bytes / 1e6),
                1.0 if task.splittable else 0.0,
                math.log10(max(task.result_bytes, 1.0) / 1e3),
            ),
            dtype=np.float32,
        )
        return CandidateGraph(
            task, snapshot.time_s, tuple(candidates[:n]), node, path, task_x, node_mask, path_mask, tuple(waits)
        )

    def record(self, graph: CandidateGraph, node: int) -> None:
        """Remember that ``graph.task`` was sent to compute vertex ``node`` (feeds later queue-wait features)."""
        cand = graph.candidates[int(node)]
        self.queues.record(cand.device.id, graph.time_s, cand.predicted_compute_s)
