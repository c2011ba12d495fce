"""The analytic baselines of RLMS-CPN Table 5: ``flops`` and ``layerwise``, least-squares fits per device (numpy).

Both know no device until ``adapt`` fits one from its labelled samples, and both see only those samples.

- ``flops``: latency = a x FLOPs + b (FLOPs of the CIFAR-10 network, in millions).
- ``layerwise``: latency = c0 + sum over the cell's six edges of the cost of the edge's operation type (four
  costs: ``none`` is free, ``c0`` covers the rest of the network: stem, reduction blocks, classifier). The paper's
  Layer-wise sums per-operation latencies measured in isolation; fitting the costs on the device's own samples is
  the stronger, same-information variant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from cpnkit.errors import DataError
from cpnkit.estimate.latency import ArchIndices, LatencySamples, as_arch_indices
from cpnkit.estimate.predictors.common import PredictorState, check_samples, latency_floor_ms, unknown_device
from cpnkit.estimate.predictors.encoding import ArchEncodings

__all__ = ["FlopsPredictor", "LayerwisePredictor"]


class _LinearFitPredictor:
    """A per-device least-squares fit of latency in ms on fixed per-architecture features."""

    method = ""

    def __init__(self, encodings: ArchEncodings) -> None:
        self._encodings = encodings
        self._features = self._design(encodings)
        self._fits: dict[str, tuple[npt.NDArray[np.float64], float]] = {}

    @staticmethod
    def _design(encodings: ArchEncodings) -> npt.NDArray[np.float64]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def name(self) -> str:
        """Registry id."""
        return self.method

    @property
    def devices(self) -> tuple[str, ...]:
        """Devices fitted so far."""
        return tuple(self._fits)

    def adapt(self, device: str, samples: LatencySamples) -> None:
        """Fit ``device`` by least squares on ``samples`` (minimum-norm when there are fewer samples than costs)."""
        idx, latency_ms = check_samples(samples, device, len(self._encodings))
        x = np.c_[self._features[idx], np.ones(idx.size)]
        weights, *_ = np.linalg.lstsq(x, latency_ms, rcond=None)
        if not np.isfinite(weights).all():
            raise DataError(f"{self.method}: the fit for {device!r} is not finite; check the samples")
        self._fits[device] = (np.asarray(weights, dtype=np.float64), latency_floor_ms(latency_ms))

    def predict(self, archs: ArchIndices, device: str) -> npt.NDArray[np.float64]:
        """Predicted latency in s of ``archs`` on ``device`` (> 0)."""
        if device not in self._fits:
            raise unknown_device(device, self.devices, self.method)
        weights, floor_ms = self._fits[device]
        idx = as_arch_indices(archs, len(self._encodings))
        latency_ms = self._features[idx] @ weights[:-1] + weights[-1]
        return np.asarray(np.maximum(latency_ms, floor_ms) / 1e3, dtype=np.float64)

    def state(self) -> PredictorState:
        """Fitted coefficients as plain data."""
        meta: dict[str, Any] = {"devices": {d: {"floor_ms": f} for d, (_, f) in self._fits.items()}}
        arrays = {f"fit/{d}": w for d, (w, _) in self._fits.items()}
        return PredictorState(self.method, meta, arrays)

    def load_state(self, state: PredictorState) -> None:
        """Restore fits saved by ``state``.

        Raises:
            DataError: the state is of another method or lacks a device's coefficients.
        """
        if state.method != self.method:
            raise DataError(f"state of method {state.method!r} cannot load into {self.method!r}")
        devices: Mapping[str, Any] = state.meta.get("devices", {})
        for device, info in devices.items():
            key = f"fit/{device}"
            if key not in state.arrays:
                raise DataError(f"{self.method} state lacks the coefficients {key!r}")
            weights = np.asarray(state.arrays[key], dtype=np.float64)
            if weights.shape != (self._features.shape[1] + 1,):
                raise DataError(f"{self.method} coefficients {key!r} have shape {weights.shape}")
            self._fits[device] = (weights, float(info["floor_ms"]))


class FlopsPredictor(_LinearFitPredictor):
    """Latency = a x FLOPs + b, fitted per device on its labelled samples."""

    method = "flops"

    @staticmethod
    def _design(encodings: ArchEncodings) -> npt.NDArray[np.float64]:
        return np.asarray(encodings.flops_m, dtype=np.float64)[:, None]


class LayerwisePredictor(_LinearFitPredictor):
    """Latency = fixed part + the sum of per-operation costs over the cell's edges, fitted per device."""

    method = "layerwise"

    @staticmethod
    def _design(encodings: ArchEncodings) -> npt.NDArray[np.float64]:
        return encodings.op_counts()[:, 1:]  # 'none' costs nothing: its count is 6 minus the others
