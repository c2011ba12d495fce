"""What a scheduler decides for a task, and what happened to it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cpnkit.errors import DecisionError
from cpnkit.model.topology import Path

__all__ = ["SPLIT_TOLERANCE", "Decision", "Outcome", "OutcomeStatus"]

#: Split ratios must sum to 1 within this tolerance.
SPLIT_TOLERANCE = 1e-6

OutcomeStatus = Literal["completed", "rejected"]


@dataclass(frozen=True, slots=True)
class Decision:
    """A scheduling decision: where to compute and how to carry the data.

    A decision with ``site == ""`` is an explicit rejection (``reason`` says why); the simulator
    records it as a ``rejected`` outcome, never drops the task.

    Attributes:
        task_id: The task decided for.
        site: Node id of the chosen site, or ``""`` for a rejection.
        device: Id of the chosen device at that site.
        paths: Paths from the task's source to the site.
        split: Share of the input bytes sent on each path (non-negative, sums to 1).
        scheduler: Id of the scheduler that decided.
        predicted_latency_s: The scheduler's own latency prediction in s (``nan`` when it makes none).
        scores: Per-candidate scores that explain the choice (candidate id -> score; lower is better).
        reason: Free text: why this choice, or why the rejection.
        start_s: When to dispatch the task, in s of simulated time (``nan``: now). A later start holds a deferrable
            task (temporal shifting); the simulator refuses a start before the decision time or after the task's
            ``arrival_s + deferrable_window_s``.
        predicted_carbon_g: The scheduler's own carbon prediction for the task in gCO2 (``nan`` when it makes none).
    """

    task_id: int
    site: str
    device: str
    paths: tuple[Path, ...]
    split: tuple[float, ...]
    scheduler: str = ""
    predicted_latency_s: float = math.nan
    scores: Mapping[str, float] = field(default_factory=dict)
    reason: str = ""
    start_s: float = math.nan
    predicted_carbon_g: float = math.nan

    def __post_init__(self) -> None:
        if not (math.isnan(self.start_s) or (math.isfinite(self.start_s) and self.start_s >= 0)):
            raise DecisionError(
                f"task {self.task_id}: start_s={self.start_s!r} must be a finite time >= 0 s, or nan to start now"
            )
        object.__setattr__(self, "paths", tuple(self.paths))
        object.__setattr__(self, "split", tuple(float(s) for s in self.split))
        if self.is_rejection:
            return
        if not self.paths:
            raise DecisionError(f"task {self.task_id}: decision for site {self.site!r} has no paths; give >= 1 path")
        if len(self.paths) != len(self.split):
            raise DecisionError(
                f"task {self.task_id}: {len(self.paths)} paths but {len(self.split)} split ratios; "
                "give one ratio per path"
            )
        for ratio in self.split:
            if not math.isfinite(ratio) or ratio < 0:
                raise DecisionError(
                    f"task {self.task_id}: split ratio {ratio!r} must be finite and >= 0; got split={list(self.split)}"
                )
        total = math.fsum(self.split)
        if abs(total - 1.0) > SPLIT_TOLERANCE:
            raise DecisionError(
                f"task {self.task_id}: split ratios {list(self.split)} sum to {total!r}, not 1; "
                "normalise them (divide each by their sum)"
            )
        for path in self.paths:
            if path.dst != self.site:
                raise DecisionError(
                    f"task {self.task_id}: path {list(path.nodes)} ends at {path.dst!r}, not at the chosen site "
                    f"{self.site!r}; every path must lead to the site"
                )

    @property
    def is_rejection(self) -> bool:
        """Whether this decision rejects the task."""
        return self.site == ""

    @classmethod
    def reject(cls, task_id: int, reason: str, scheduler: str = "") -> Decision:
        """An explicit rejection, recorded by the simulator as a ``rejected`` outcome."""
        return cls(task_id=task_id, site="", device="", paths=(), split=(), scheduler=scheduler, reason=reason)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The realised fate of one task, with its latency breakdown (all in s).

    ``response_s = transmission_s + queue_s + compute_s + return_s`` for a completed task.
    A rejected task has ``status == "rejected"``, NaN timings and a ``reason``.

    Energy (when the scenario has an energy model; NaN otherwise): ``energy_j`` is the task's own energy in J —
    the device's dynamic energy times the site's PUE plus the network's energy for its bits — without the idle
    energy every device draws anyway (that is metered per site, ``SimResult.energy``). ``carbon_g`` is the grid
    carbon of that energy in gCO2 (on-site PV covers the site's load first, shared pro rata over the hour) and
    ``cost`` its price in the tariff's currency units. ``deferred_s`` is how long the task was held before
    dispatch (temporal shifting); ``arrival_s`` is the dispatch time, as for a task held in ``isolated`` mode.
    """

    task_id: int
    status: OutcomeStatus
    scheduler: str
    source: str
    site: str
    device: str
    device_model: str
    arrival_s: float
    input_bytes: float
    n_paths: int
    transmission_s: float
    queue_s: float
    compute_s: float
    return_s: float
    response_s: float
    finish_s: float
    predicted_latency_s: float = math.nan
    latency_bound_s: float = math.inf
    reason: str = ""
    energy_j: float = math.nan
    carbon_g: float = math.nan
    cost: float = math.nan
    deferred_s: float = 0.0

    @property
    def met_bound(self) -> bool:
        """Whether the task completed within its latency bound."""
        return self.status == "completed" and self.response_s <= self.latency_bound_s
