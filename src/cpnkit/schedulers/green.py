"""Carbon- and cost-aware schedulers with temporal shifting (DESIGN.md §3, "Energy and carbon").

Both reuse ``waterfill``'s candidate filter and its latency prediction (``WaterfillScheduler.predict``: the
water-filling split, the queue estimate, predicted compute and return), and add a predicted footprint per
candidate from the snapshot's energy signals (``Snapshot.energy``):

- energy = the device's dynamic power x PUE x predicted compute time + the network's energy for the task's bits
  over the split's hops and the result's hops back;
- carbon = that energy's grid share (on-site PV surplus covers the rest) x the site's carbon intensity;
- cost = the grid energy x the site's current price.

``carbon-aware``: the least predicted carbon among the candidates whose predicted latency meets the task's bound;
when none does, the fastest, and the decision's reason says so. ``weighted``: the least
``latency_s + lambda_s_per_g x carbon_g + mu_s_per_cost x cost``.

Temporal shifting (Wiesner et al., "Let's Wait Awhile", Middleware '21): for a deferrable task
(``Task.deferrable_window_s > 0``) both also consider starting at every forecast step up to the end of its window,
with the intensity (and PV) the snapshot's forecaster predicts for then, and hold the task until the best start
(``Decision.start_s``). The forecast is made from the past only (``seasonal-naive`` by default), so forecast
error shows in the realised carbon. Without energy signals both decide as ``waterfill`` does.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Literal

from cpnkit.errors import ConfigError
from cpnkit.estimate import TransportConfig, carbon_g, predicted_carbon_g
from cpnkit.model import J_PER_KWH, Decision, EnergySnapshot, LatencyPredictor, Snapshot, Task
from cpnkit.schedulers.filter import Candidate
from cpnkit.schedulers.paper import CandidatePrediction, TransportName, WaterfillScheduler

__all__ = ["CarbonAwareScheduler", "Footprint", "WeightedScheduler", "predict_footprint", "start_times"]

#: Most start times a deferrable task is evaluated at (a 48 h window at hourly forecasts).
MAX_STARTS = 49


class Footprint(tuple[float, float, float]):
    """``(energy_j, carbon_g, cost)`` predicted for a task at a candidate and start time."""

    __slots__ = ()

    @property
    def energy_j(self) -> float:
        """Predicted energy, in J."""
        return self[0]

    @property
    def carbon_g(self) -> float:
        """Predicted grid carbon, in gCO2."""
        return self[1]

    @property
    def cost(self) -> float:
        """Predicted energy cost, in currency units."""
        return self[2]


def predict_footprint(
    task: Task, prediction: CandidatePrediction, energy: EnergySnapshot, start_s: float | None = None
) -> Footprint:
    """Predicted energy (J), carbon (gCO2) and cost of ``task`` at a candidate, started at ``start_s``.

    Args:
        task: The task.
        prediction: Waterfill's prediction for the candidate (its split and compute time).
        energy: The snapshot's energy signals.
        start_s: When the task would start (``None``: now, at the current signals; later: the forecast).
    """
    cand = prediction.candidate
    state = energy.sites[cand.site]
    facility_w = energy.dynamic_w.get(cand.device.id, 0.0) * state.pue
    device_j = facility_w * cand.predicted_compute_s
    bits_hops = (
        8.0
        * task.input_bytes
        * sum(share * len(path.link_ids) for path, share in zip(cand.paths, prediction.split, strict=True))
    )
    bits_hops += 8.0 * task.result_bytes * cand.hops
    network_j = bits_hops * energy.network_j_per_bit_hop
    intensity = state.carbon_g_per_kwh
    surplus_w = state.pv_surplus_w
    forecaster = energy.forecaster
    if start_s is not None and start_s > energy.time_s and forecaster is not None:
        intensity = forecaster.carbon_g_per_kwh(cand.site, start_s)
        surplus_w = max(0.0, forecaster.pv_w(cand.site, start_s) - state.load_w)
    device_carbon = predicted_carbon_g(device_j, facility_w, intensity, surplus_w)
    grid_device_j = device_carbon / intensity * J_PER_KWH if intensity > 0 else device_j
    carbon = device_carbon + carbon_g(network_j, intensity)
    cost = (grid_device_j + network_j) / J_PER_KWH * state.price_per_kwh
    return Footprint((device_j + network_j, carbon, cost))


def start_times(task: Task, now_s: float, step_s: float, max_starts: int = MAX_STARTS) -> list[float]:
    """Start times worth comparing for ``task``: now, then every forecast step boundary within its window.

    >>> start_times(Task(0, 10.0, "a", 0, 1e3, deferrable_window_s=7200.0), 10.0, 3600.0)
    [10.0, 3600.0, 7200.0]
    """
    latest = task.arrival_s + task.deferrable_window_s
    times = [now_s]
    t = (math.floor(now_s / step_s) + 1) * step_s
    while t <= latest and len(times) < max_starts:
        times.append(t)
        t += step_s
    return times


class _GreenScheduler(WaterfillScheduler):
    """Waterfill's prediction plus a footprint per candidate and start time; subclasses choose."""

    def __init__(
        self,
        n_candidates: int = 5,
        k_paths: int = 3,
        seed: int | None = None,
        predictor: LatencyPredictor | None = None,
        transport: TransportName | TransportConfig | None = None,
        filter_rule: Literal["class", "bound"] = "class",
        shift: bool = True,
    ) -> None:
        super().__init__(n_candidates, k_paths, seed, predictor, transport, filter_rule)
        self.shift = shift

    def _starts(self, task: Task, snapshot: Snapshot, energy: EnergySnapshot) -> list[float]:
        if not self.shift or task.deferrable_window_s <= 0 or energy.forecaster is None:
            return [snapshot.time_s]
        return start_times(task, snapshot.time_s, energy.forecaster.step_s)

    def _options(
        self, task: Task, snapshot: Snapshot, energy: EnergySnapshot, pool: Sequence[CandidatePrediction]
    ) -> list[tuple[CandidatePrediction, float, Footprint]]:
        starts = self._starts(task, snapshot, energy)
        return [
            (p, t, predict_footprint(task, p, energy, None if t == snapshot.time_s else t))
            for p in pool
            for t in starts
        ]

    def _finish(
        self,
        task: Task,
        snapshot: Snapshot,
        chosen: tuple[CandidatePrediction, float, Footprint],
        scores: dict[str, float],
        reason: str,
    ) -> Decision:
        pred, start, footprint = chosen
        cand: Candidate = pred.candidate
        deferred = start > snapshot.time_s
        if not deferred:
            self.queues.record(cand.device.id, snapshot.time_s, cand.predicted_compute_s)
        else:
            reason += f"; deferred {start - snapshot.time_s:.0f} s to the forecast low"
        decision = self._decision(task, cand, pred.split, scores, reason, predicted_s=pred.latency_s)
        return dataclasses.replace(
            decision, start_s=start if deferred else math.nan, predicted_carbon_g=footprint.carbon_g
        )


class CarbonAwareScheduler(_GreenScheduler):
    """Least predicted carbon subject to predicted latency <= the task's bound (else the fastest); shifts in time.

    Args:
        n_candidates: Compute nodes kept by the filter (paper: 5).
        k_paths: Paths per node (paper: 3).
        seed: Unused (deterministic); accepted like every scheduler's.
        predictor: Compute-latency predictor (default: the snapshot's).
        transport: How transmission is predicted (``fluid``, ``tcp``; ``None``: the network's, from the snapshot).
        filter_rule: ``class`` (the paper's filter) or ``bound``.
        shift: Defer deferrable tasks to their forecast-lowest start (temporal shifting); ``False``: start now.
    """

    name = "carbon-aware"

    def _choose(self, task: Task, snapshot: Snapshot, candidates: list[Candidate]) -> Decision:
        energy = snapshot.energy
        if energy is None:
            decision = super()._choose(task, snapshot, candidates)
            return _with_reason(decision, "no energy signals in the snapshot; as waterfill: " + decision.reason)
        predictions = self.predict(task, snapshot, candidates)
        feasible = [p for p in predictions if p.latency_s <= task.latency_bound_s]
        pool = feasible or [min(predictions, key=lambda p: p.latency_s)]
        options = self._options(task, snapshot, energy, pool)
        best = min(options, key=lambda o: (o[2].carbon_g, o[1], o[0].latency_s))
        now_scores = {p.candidate.device.id: predict_footprint(task, p, energy).carbon_g for p in predictions}
        pred, _, footprint = best
        if feasible:
            reason = (
                f"least predicted carbon {footprint.carbon_g * 1e3:.4f} mgCO2 of {len(feasible)}/{len(predictions)} "
                f"candidates meeting the {task.latency_bound_s * 1e3:.1f} ms bound (predicted "
                f"{pred.latency_s * 1e3:.3f} ms)"
            )
        else:
            reason = (
                f"no candidate is predicted to meet the {task.latency_bound_s * 1e3:.1f} ms bound: the fastest "
                f"({pred.latency_s * 1e3:.3f} ms predicted)"
            )
        return self._finish(task, snapshot, best, now_scores, reason)


class WeightedScheduler(_GreenScheduler):
    """Least ``latency_s + lambda_s_per_g x carbon_g + mu_s_per_cost x cost`` over candidates (and start times).

    Args:
        lambda_s_per_g: Weight of carbon, in s of latency per gCO2 (>= 0). A task's carbon is about 1e-4 gCO2, so
            100 s/g weighs it like ~10 ms of latency.
        mu_s_per_cost: Weight of cost, in s of latency per currency unit (>= 0).
        n_candidates: Compute nodes kept by the filter (paper: 5).
        k_paths: Paths per node (paper: 3).
        seed: Unused (deterministic).
        predictor: Compute-latency predictor (default: the snapshot's).
        transport: How transmission is predicted.
        filter_rule: ``class`` or ``bound``.
        shift: Consider later starts for deferrable tasks (latency is counted from the start, so only carbon and
            cost change).
    """

    name = "weighted"

    def __init__(
        self,
        lambda_s_per_g: float = 100.0,
        mu_s_per_cost: float = 0.0,
        n_candidates: int = 5,
        k_paths: int = 3,
        seed: int | None = None,
        predictor: LatencyPredictor | None = None,
        transport: TransportName | TransportConfig | None = None,
        filter_rule: Literal["class", "bound"] = "class",
        shift: bool = True,
    ) -> None:
        super().__init__(n_candidates, k_paths, seed, predictor, transport, filter_rule, shift)
        for label, value in (("lambda_s_per_g", lambda_s_per_g), ("mu_s_per_cost", mu_s_per_cost)):
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{label}={value!r} must be finite and >= 0 (0 ignores that term)")
        self.lambda_s_per_g = lambda_s_per_g
        self.mu_s_per_cost = mu_s_per_cost

    def _choose(self, task: Task, snapshot: Snapshot, candidates: list[Candidate]) -> Decision:
        energy = snapshot.energy
        if energy is None:
            decision = super()._choose(task, snapshot, candidates)
            return _with_reason(decision, "no energy signals in the snapshot; as waterfill: " + decision.reason)
        predictions = self.predict(task, snapshot, candidates)
        options = self._options(task, snapshot, energy, predictions)

        def score(option: tuple[CandidatePrediction, float, Footprint]) -> float:
            pred, _, fp = option
            return pred.latency_s + self.lambda_s_per_g * fp.carbon_g + self.mu_s_per_cost * fp.cost

        best = min(options, key=lambda o: (score(o), o[1]))
        scores = {
            p.candidate.device.id: score((p, snapshot.time_s, predict_footprint(task, p, energy))) for p in predictions
        }
        pred, _, fp = best
        reason = (
            f"least latency + {self.lambda_s_per_g:g} x carbon + {self.mu_s_per_cost:g} x cost = {score(best):.6f} "
            f"(latency {pred.latency_s * 1e3:.3f} ms, carbon {fp.carbon_g * 1e3:.4f} mgCO2)"
        )
        return self._finish(task, snapshot, best, scores, reason)


def _with_reason(decision: Decision, reason: str) -> Decision:
    return dataclasses.replace(decision, reason=reason)
