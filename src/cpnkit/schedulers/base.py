"""The scheduler contract (DESIGN.md §4)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from cpnkit.model import Decision, Snapshot, Task

__all__ = ["Scheduler"]


@runtime_checkable
class Scheduler(Protocol):
    """Decides where a task computes and how its data travels.

    Implementations see only the ``Snapshot`` (measured, possibly stale state) and predictions, never the
    simulator's ground truth. They return a ``Decision`` (or ``Decision.reject(...)``), and may raise
    ``cpnkit.errors.InfeasibleError`` when no candidate exists; the simulator records both as rejections.

    Attributes:
        name: The registry id (kebab-case), recorded with every decision and outcome.
    """

    name: str

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        """Decide for ``task`` given the measured state ``snapshot``."""
        ...
