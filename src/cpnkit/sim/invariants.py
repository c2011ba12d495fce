"""Shared invariant checks run over every simulation and every scheduler (DESIGN.md §4).

``check_result`` verifies a finished run: every task ends with exactly one outcome (completed or an
explicit rejection), breakdowns add up and are non-negative, splits are on the simplex, bytes delivered
equal bytes sent, no link carried more than its residual capacity (when the run checked capacity), and
each device served its tasks one at a time.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

from cpnkit.errors import InvariantError
from cpnkit.model import SPLIT_TOLERANCE
from cpnkit.sim.result import SimResult
from cpnkit.sim.scenario import Scenario

__all__ = ["check_result"]

_TIME_TOL_S = 1e-9
_CAPACITY_TOL = 1e-9


def check_result(result: SimResult, scenario: Scenario) -> None:
    """Raise ``InvariantError`` naming the first broken invariant of ``result``.

    Args:
        result: A finished run of ``scenario``.
        scenario: The scenario it ran.
    """
    task_ids = [t.id for t in scenario.tasks]
    outcome_ids = [o.task_id for o in result.outcomes]
    if sorted(outcome_ids) != sorted(task_ids):
        missing = set(task_ids) - set(outcome_ids)
        extra = [i for i in outcome_ids if outcome_ids.count(i) > 1] or sorted(set(outcome_ids) - set(task_ids))
        raise InvariantError(f"tasks without exactly one outcome: missing {sorted(missing)[:10]}, extra {extra[:10]}")
    tasks = {t.id: t for t in scenario.tasks}
    per_device: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for o in result.outcomes:
        if o.status == "rejected":
            if not o.reason:
                raise InvariantError(f"task {o.task_id} was rejected without a reason")
            continue
        parts = (o.transmission_s, o.queue_s, o.compute_s, o.return_s)
        if any(not math.isfinite(p) or p < -_TIME_TOL_S for p in parts):
            raise InvariantError(f"task {o.task_id}: negative or non-finite latency part {parts}")
        if abs(sum(parts) - o.response_s) > _TIME_TOL_S * max(1.0, o.response_s):
            raise InvariantError(f"task {o.task_id}: parts {parts} do not add up to response {o.response_s}")
        if o.arrival_s < tasks[o.task_id].arrival_s - _TIME_TOL_S:
            raise InvariantError(f"task {o.task_id} entered the system before it arrived")
        if abs(o.finish_s - (o.arrival_s + o.response_s)) > _TIME_TOL_S * max(1.0, o.finish_s):
            raise InvariantError(f"task {o.task_id}: finish {o.finish_s} != arrival + response")
        start = o.arrival_s + o.transmission_s + o.queue_s
        per_device[o.device].append((start, start + o.compute_s))
    for device, spans in per_device.items():
        spans.sort()
        for (s0, e0), (s1, _) in itertools.pairwise(spans):
            if s1 < e0 - _TIME_TOL_S * max(1.0, e0):
                raise InvariantError(f"device {device} served two tasks at once ({s0:.9f}-{e0:.9f} and {s1:.9f})")
    for d in result.decisions:
        if abs(math.fsum(d.split) - 1.0) > SPLIT_TOLERANCE or any(s < 0 for s in d.split):
            raise InvariantError(f"task {d.task_id}: split {d.split} is not on the simplex")
    sent = result.stats.get("bits_sent", 0.0)
    delivered = result.stats.get("bits_delivered", 0.0)
    if abs(sent - delivered) > 1e-6 * max(1.0, sent):
        raise InvariantError(f"bits sent {sent} != bits delivered {delivered}")
    ratio = result.stats.get("max_link_load_ratio", 0.0)
    if ratio > 1.0 + _CAPACITY_TOL:
        raise InvariantError(f"a link carried {ratio:.12f} x its residual capacity")
