"""Measured data the simulator runs on: device latency tables and traffic-matrix series."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cpnkit.errors import DataError, UnknownDeviceError, did_you_mean
from cpnkit.model.compute import DeviceClass

__all__ = ["DEVICE_MODEL_CLASS", "LatencyTable", "TrafficSeries"]

#: Device class of every device model in the bundled latency table (HELP / HW-NAS-Bench columns).
DEVICE_MODEL_CLASS: Mapping[str, DeviceClass] = {
    **{
        f"{gpu}_{batch}": "gpu"
        for gpu in ("1080ti", "2080ti", "titan_rtx", "titanx", "titanxp")
        for batch in (1, 32, 256)
    },
    "gold_6226": "cpu",
    "gold_6240": "cpu",
    "silver_4114": "cpu",
    "silver_4210r": "cpu",
    "fpga": "fpga",
    "eyeriss": "asic",
    "pixel3": "mobile",
    "samsung_a50": "mobile",
    "raspi4": "embedded",
}


@dataclass(frozen=True, eq=False)
class LatencyTable:
    """Per-inference latency of every architecture on every device model.

    Attributes:
        devices: Device model names, one per column (``"1080ti_1"``, ``"raspi4"``, ...).
        latency_s: Array of shape ``(n_archs, n_devices)``, in s, finite and > 0.
        source: Where the numbers come from.
    """

    devices: tuple[str, ...]
    latency_s: npt.NDArray[np.float64]
    source: str = ""
    _column: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        arr = np.asarray(self.latency_s, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != len(self.devices):
            raise DataError(
                f"latency table has shape {arr.shape} for {len(self.devices)} devices; expected (n_archs, n_devices)"
            )
        bad = ~np.isfinite(arr) | (arr <= 0)
        if bad.any():
            row, col = (int(v) for v in np.argwhere(bad)[0])
            raise DataError(
                f"latency table: arch {row} on {self.devices[col]!r} is {arr[row, col]!r} s; "
                "latencies must be finite and > 0 (drop or fill missing measurements)"
            )
        arr.setflags(write=False)
        object.__setattr__(self, "latency_s", arr)
        object.__setattr__(self, "_column", {d: i for i, d in enumerate(self.devices)})
        if len(self._column) != len(self.devices):
            raise DataError(f"latency table has duplicate device columns: {self.devices}")

    @property
    def n_archs(self) -> int:
        """Number of architectures (rows)."""
        return int(self.latency_s.shape[0])

    def column(self, device_model: str) -> npt.NDArray[np.float64]:
        """Latency in s of every architecture on ``device_model``.

        Raises:
            UnknownDeviceError: the device model is not in the table.
        """
        return self.latency_s[:, self.column_index(device_model)]

    def column_index(self, device_model: str) -> int:
        """Column of ``device_model``.

        Raises:
            UnknownDeviceError: the device model is not in the table.
        """
        try:
            return self._column[device_model]
        except KeyError:
            raise UnknownDeviceError(
                f"device {device_model!r} is not in the latency table.{did_you_mean(device_model, self.devices)} "
                f"Known devices: {', '.join(self.devices)}"
            ) from None


@dataclass(frozen=True, eq=False)
class TrafficSeries:
    """A series of origin-destination traffic matrices at a fixed step.

    Attributes:
        nodes: Node ids; row/column order of every matrix.
        rates_bps: Array ``(n_steps, n_nodes, n_nodes)`` of demand in bit/s (finite, >= 0).
        step_s: Time between consecutive matrices, in s (300 for the Abilene 5-minute series).
        start: Label of the first step (e.g. ``"20040301-0000"``).
    """

    nodes: tuple[str, ...]
    rates_bps: npt.NDArray[np.float64]
    step_s: float = 300.0
    start: str = ""

    def __post_init__(self) -> None:
        arr = np.asarray(self.rates_bps, dtype=np.float64)
        n = len(self.nodes)
        if arr.ndim != 3 or arr.shape[1:] != (n, n) or arr.shape[0] < 1:
            raise DataError(f"traffic series has shape {arr.shape}; expected (n_steps >= 1, {n}, {n})")
        if not np.isfinite(arr).all() or (arr < 0).any():
            raise DataError("traffic series holds NaN, infinite or negative demands; demands are bit/s >= 0")
        if not (np.isfinite(self.step_s) and self.step_s > 0):
            raise DataError(f"traffic series step_s={self.step_s!r} must be > 0 s")
        arr.setflags(write=False)
        object.__setattr__(self, "rates_bps", arr)

    @property
    def n_steps(self) -> int:
        """Number of matrices."""
        return int(self.rates_bps.shape[0])
