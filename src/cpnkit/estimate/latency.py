"""Compute-latency predictors: the contract, few-shot samples, and the precomputed table every scheduler reads.

A ``LatencyPredictor`` (declared in ``cpnkit.model``) maps NAS-Bench-201 architecture indices and a device model to
seconds. An ``AdaptivePredictor`` also onboards a new device from a few measured ``LatencySamples`` — and from
nothing else: the samples object is all it is handed, never the rest of the device's column.

Schedulers decide in well under a millisecond, so they never run a network per decision: ``PredictionTable``
holds one predictor's output for every architecture on the devices a scenario uses (15,625 x n floats) and answers
by lookup. ``PredictionTable.from_latency_table`` turns measured latencies into a (privileged, error-free) table —
the view of the ``oracle`` reference scheduler, never of a product scheduler.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from cpnkit.errors import ConfigError, DataError, TaskError, UnknownDeviceError, did_you_mean
from cpnkit.model import NB201_ARCHS, LatencyTable
from cpnkit.model.predictor import ArchIndices, LatencyPredictor

__all__ = [
    "AdaptivePredictor",
    "ArchIndices",
    "LatencyPredictor",
    "LatencySamples",
    "PredictionTable",
    "as_arch_indices",
]


def as_arch_indices(archs: ArchIndices, n_archs: int = NB201_ARCHS) -> npt.NDArray[np.int64]:
    """``archs`` as a 1-D int64 array, checked to lie in ``[0, n_archs)``.

    >>> as_arch_indices(7).tolist(), as_arch_indices([0, 15624]).tolist()
    ([7], [0, 15624])

    Raises:
        TaskError: an index is not an integer or is out of range.
    """
    arr = np.atleast_1d(np.asarray(archs))
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise TaskError(f"architecture indices {archs!r} must be integers (a 1-D sequence); got dtype {arr.dtype}")
    out = arr.astype(np.int64, copy=False)
    if out.size and (out.min() < 0 or out.max() >= n_archs):
        bad = int(out[(out < 0) | (out >= n_archs)][0])
        raise TaskError(f"architecture index {bad} is outside [0, {n_archs - 1}] (NAS-Bench-201 has {n_archs} cells)")
    return out


@dataclass(frozen=True, eq=False)
class LatencySamples:
    """A few measured latencies of one device: what an operator has when a device joins.

    Attributes:
        arch_idx: Architecture indices measured (distinct, in ``[0, 15624]``).
        latency_s: Measured latency of each, in s (finite, > 0).
        device: Name of the device they were measured on.
    """

    arch_idx: npt.NDArray[np.int64]
    latency_s: npt.NDArray[np.float64]
    device: str = ""

    def __post_init__(self) -> None:
        idx = as_arch_indices(self.arch_idx)
        lat = np.atleast_1d(np.asarray(self.latency_s, dtype=np.float64))
        if idx.size == 0:
            raise DataError(
                f"device {self.device!r}: zero samples; measure at least one architecture (the paper uses 20-50)"
            )
        if lat.shape != idx.shape:
            raise DataError(f"device {self.device!r}: {idx.size} architectures but {lat.size} latencies; pair them")
        bad = ~np.isfinite(lat) | (lat <= 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"device {self.device!r}: latency {lat[i]!r} s for architecture {int(idx[i])} must be finite and > 0; "
                "drop or re-measure that sample"
            )
        if np.unique(idx).size != idx.size:
            dup = int(idx[np.argmax(np.bincount(idx))])
            raise DataError(f"device {self.device!r}: architecture {dup} is sampled twice; average its measurements")
        idx.setflags(write=False)
        lat.setflags(write=False)
        object.__setattr__(self, "arch_idx", idx)
        object.__setattr__(self, "latency_s", lat)

    def __len__(self) -> int:
        return int(self.arch_idx.size)


@runtime_checkable
class AdaptivePredictor(LatencyPredictor, Protocol):
    """A predictor that onboards a new device from a few measured samples."""

    def adapt(self, device: str, samples: LatencySamples) -> None:
        """Learn ``device`` from ``samples`` only; afterwards ``predict(..., device)`` works."""
        ...


@dataclass(frozen=True, eq=False)
class PredictionTable:
    """Precomputed predictions for every architecture on a set of devices; ``predict`` is a lookup.

    Attributes:
        device_models: Device models, one per column.
        latency_s: Array ``(n_archs, n_devices)`` of predicted latencies in s (finite, > 0).
        source: Which predictor produced the numbers.
        name: Registry id recorded with decisions (the source method's, or ``"table"``).
    """

    device_models: tuple[str, ...]
    latency_s: npt.NDArray[np.float64]
    source: str = ""
    name: str = "table"
    _column: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        arr = np.array(self.latency_s, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != len(self.device_models):
            raise DataError(
                f"prediction table has shape {arr.shape} for {len(self.device_models)} devices; "
                "expected (n_archs, n_devices)"
            )
        if not np.isfinite(arr).all() or (arr <= 0).any():
            raise DataError(f"prediction table from {self.source!r} holds NaN, infinite or non-positive latencies")
        arr.setflags(write=False)
        object.__setattr__(self, "latency_s", arr)
        object.__setattr__(self, "device_models", tuple(self.device_models))
        object.__setattr__(self, "_column", {d: i for i, d in enumerate(self.device_models)})
        if len(self._column) != len(self.device_models):
            raise ConfigError(f"prediction table repeats a device: {self.device_models}")

    @property
    def devices(self) -> tuple[str, ...]:
        """Device models covered."""
        return self.device_models

    @property
    def n_archs(self) -> int:
        """Number of architectures (rows)."""
        return int(self.latency_s.shape[0])

    def column_index(self, device: str) -> int:
        """Column of ``device``.

        Raises:
            UnknownDeviceError: the table has no predictions for ``device``.
        """
        try:
            return self._column[device]
        except KeyError:
            raise UnknownDeviceError(
                f"no latency predictions for device {device!r}.{did_you_mean(device, self.device_models)} "
                f"Covered: {', '.join(self.device_models)}; build the table with that device included"
            ) from None

    def predict(self, archs: ArchIndices, device: str) -> npt.NDArray[np.float64]:
        """Predicted latency in s of each architecture on ``device`` (a lookup)."""
        col = self.column_index(device)
        return np.asarray(self.latency_s[as_arch_indices(archs, self.n_archs), col])

    def at(self, arch: int, device: str) -> float:
        """Predicted latency in s of one architecture on one device (the scheduler's hot path)."""
        return float(self.latency_s[arch, self.column_index(device)])

    def row(self, arch: int) -> npt.NDArray[np.float64]:
        """Predicted latency of one architecture on every covered device, in ``device_models`` order."""
        return np.asarray(self.latency_s[arch])

    @classmethod
    def from_predictor(
        cls, predictor: LatencyPredictor, devices: Sequence[str], n_archs: int = NB201_ARCHS
    ) -> PredictionTable:
        """Run ``predictor`` once over every architecture on each of ``devices``."""
        wanted = list(dict.fromkeys(devices))
        if not wanted:
            raise ConfigError("devices=[] selects nothing to predict; give at least one device model")
        archs = np.arange(n_archs, dtype=np.int64)
        cols = [np.asarray(predictor.predict(archs, d), dtype=np.float64) for d in wanted]
        return cls(tuple(wanted), np.stack(cols, axis=1), source=predictor.name, name=predictor.name)

    @classmethod
    def from_latency_table(cls, table: LatencyTable, devices: Sequence[str] | None = None) -> PredictionTable:
        """The measured latencies as a table: error-free, hence privileged (``oracle`` only, or a test double)."""
        wanted = list(dict.fromkeys(devices)) if devices is not None else list(table.devices)
        cols = [table.column_index(d) for d in wanted]
        return cls(tuple(wanted), table.latency_s[:, cols], source=f"measured: {table.source}", name="measured")
