"""The compute-latency prediction contract (DESIGN.md §4), declared here so a ``Snapshot`` can carry one.

Implementations live in ``cpnkit.estimate`` (learned ones import torch lazily); schedulers reach predictions only
through this protocol, while the simulator keeps the measured ground truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["ArchIndices", "LatencyPredictor"]

#: NAS-Bench-201 architecture indices: one int, a sequence, or an integer array.
ArchIndices = int | Sequence[int] | npt.NDArray[np.integer]


@runtime_checkable
class LatencyPredictor(Protocol):
    """Predicts the per-inference compute latency of NAS-Bench-201 architectures on device models."""

    @property
    def name(self) -> str:
        """Registry id of the method (``"tsft"``, ``"flops"``, ``"measured"``, ...)."""
        ...

    @property
    def devices(self) -> tuple[str, ...]:
        """Device models this predictor can predict for (latency-table column names)."""
        ...

    def predict(self, archs: ArchIndices, device: str) -> npt.NDArray[np.float64]:
        """Predicted latency in s of each architecture in ``archs`` on ``device``: shape ``(len(archs),)``, > 0.

        Raises:
            UnknownDeviceError: the predictor does not know ``device``.
            TaskError: an architecture index is outside ``[0, 15624]``.
        """
        ...
