"""A task request: an AI inference job with its model, input data and latency bound."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cpnkit.errors import TaskError
from cpnkit.model._validate import check_non_negative, check_positive

__all__ = ["NB201_ARCHS", "Task"]

#: Number of NAS-Bench-201 architectures (cell search space size).
NB201_ARCHS = 15_625


@dataclass(frozen=True, slots=True)
class Task:
    """An inference task as the network receives it.

    Attributes:
        id: Task id, unique within a workload.
        arrival_s: Arrival time at the access point, in s of simulated time.
        source: Node id of the access point where the data enters the network.
        arch_idx: NAS-Bench-201 architecture index of the task's model (0..15624).
        input_bytes: Size of the input data, in bytes (> 0).
        result_bytes: Size of the result returned to the source, in bytes (>= 0).
        latency_bound_s: Latency bound requested by the user, in s (``inf`` when none).
        splittable: Whether the input may be split over several paths.
        compute_type: Preferred device class (``"gpu"``, ...) or ``""`` for any.
        deferrable_window_s: How long the task may wait before it starts, in s (0: it starts on arrival). A
            scheduler may hold a deferrable task and dispatch it at any time in
            ``[arrival_s, arrival_s + deferrable_window_s]`` (temporal shifting); its latency bound counts from
            the dispatch.
    """

    id: int
    arrival_s: float
    source: str
    arch_idx: int
    input_bytes: float
    result_bytes: float = 4_000.0
    latency_bound_s: float = math.inf
    splittable: bool = True
    compute_type: str = ""
    deferrable_window_s: float = 0.0

    def __post_init__(self) -> None:
        check_non_negative(f"task {self.id}: arrival_s", self.arrival_s, "arrival times start at 0 s", TaskError)
        check_positive(
            f"task {self.id}: input_bytes",
            self.input_bytes,
            "give the input size in bytes, e.g. 1e6 for 1 MB",
            TaskError,
        )
        check_non_negative(
            f"task {self.id}: result_bytes",
            self.result_bytes,
            "give the result size in bytes (0 for none)",
            TaskError,
        )
        if not (isinstance(self.arch_idx, int) and 0 <= self.arch_idx < NB201_ARCHS):
            raise TaskError(
                f"task {self.id}: arch_idx={self.arch_idx!r} is not a NAS-Bench-201 architecture index; "
                f"use an integer in [0, {NB201_ARCHS - 1}]"
            )
        if math.isnan(self.latency_bound_s) or self.latency_bound_s <= 0:
            raise TaskError(
                f"task {self.id}: latency_bound_s={self.latency_bound_s!r} must be > 0 (use inf for no bound)"
            )
        if not (math.isfinite(self.deferrable_window_s) and self.deferrable_window_s >= 0):
            raise TaskError(
                f"task {self.id}: deferrable_window_s={self.deferrable_window_s!r} must be finite and >= 0 s "
                "(0 for a task that starts on arrival)"
            )
        if not self.source:
            raise TaskError(f"task {self.id}: source must name the access node")
