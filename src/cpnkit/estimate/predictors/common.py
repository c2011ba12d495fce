"""What every latency predictor here shares: serialisable state, the positivity floor, small fits (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cpnkit.errors import ConfigError, DataError, UnknownDeviceError, did_you_mean
from cpnkit.estimate.latency import LatencySamples, as_arch_indices

__all__ = [
    "LATENCY_FLOOR_FRACTION",
    "PredictorState",
    "check_samples",
    "latency_floor_ms",
    "ridge_loo",
    "unknown_device",
]

#: No prediction falls below this fraction of the fastest latency a device was seen to take (its labelled
#: samples, or its training column): keeps every prediction > 0 while leaving room for the degenerate cells
#: (output cut off by ``none`` edges) that run in microseconds on some devices.
LATENCY_FLOOR_FRACTION = 0.1


@dataclass(frozen=True, eq=False)
class PredictorState:
    """A predictor as plain data: what a model directory stores (``cpnkit.datasets.predictor_models``).

    Attributes:
        method: Registry id (``"tsft"``, ``"flops"``, ...).
        meta: JSON-serialisable settings and per-device scalars.
        arrays: Named numeric arrays (weights, per-device columns); no pickles.
    """

    method: str
    meta: Mapping[str, Any]
    arrays: Mapping[str, npt.NDArray[Any]] = field(default_factory=dict)


def latency_floor_ms(latency_ms: npt.NDArray[np.float64]) -> float:
    """The smallest latency in ms a prediction may take, given latencies seen on the device."""
    return float(LATENCY_FLOOR_FRACTION * np.min(latency_ms))


def check_samples(
    samples: LatencySamples, device: str, n_archs: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(arch indices, latencies in ms) of ``samples``, checked against the search space and the device name.

    Raises:
        DataError: the samples name another device, or an index is outside the search space.
    """
    if not isinstance(samples, LatencySamples):
        raise DataError(f"adapt needs LatencySamples (arch_idx, latency_s, device), got {type(samples).__name__}")
    if samples.device and samples.device != device:
        raise DataError(f"samples were measured on {samples.device!r}, not on {device!r}; pass the matching device")
    idx = as_arch_indices(samples.arch_idx, n_archs)
    return idx, np.asarray(samples.latency_s, dtype=np.float64) * 1e3


def unknown_device(device: str, known: tuple[str, ...], method: str) -> UnknownDeviceError:
    """The error for a device a predictor has neither trained on nor adapted to."""
    listed = ", ".join(known) if known else "none yet"
    return UnknownDeviceError(
        f"predictor {method!r} does not know device {device!r}.{did_you_mean(device, known)} Known: {listed}. "
        "Onboard it first with adapt(device, LatencySamples(...)) (CLI: cpnkit predictor adapt)"
    )


def ridge_loo(
    features: npt.NDArray[np.float64], target: npt.NDArray[np.float64], lambdas: tuple[float, ...]
) -> tuple[npt.NDArray[np.float64], float]:
    """Ridge regression with an unpenalised intercept, its penalty picked by exact leave-one-out error.

    Args:
        features: ``(k, m)`` design matrix (no intercept column).
        target: ``(k,)`` targets.
        lambdas: Candidate penalties (> 0).

    Returns:
        (weights ``(m + 1,)`` with the intercept last, the chosen penalty).

    >>> w, lam = ridge_loo(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([1.0, 3.0, 5.0, 7.0]), (1e-6, 1.0))
    >>> np.round(w, 3).tolist(), lam
    ([2.0, 1.0], 1e-06)
    """
    if not lambdas or min(lambdas) <= 0:
        raise ConfigError(f"ridge penalties {lambdas!r} must be a non-empty set of values > 0")
    x = np.c_[features, np.ones(len(target))]
    eye = np.eye(x.shape[1])
    eye[-1, -1] = 0.0
    best = (np.inf, lambdas[0])
    for lam in lambdas:
        gram = x.T @ x + lam * eye
        hat = x @ np.linalg.solve(gram, x.T)
        resid = target - hat @ target
        leverage = np.clip(1.0 - np.diag(hat), 1e-6, None)
        loo = float(np.mean((resid / leverage) ** 2))
        if loo < best[0] - 1e-15:
            best = (loo, lam)
    lam = best[1]
    weights = np.linalg.solve(x.T @ x + lam * eye, x.T @ target)
    return np.asarray(weights, dtype=np.float64), float(lam)
