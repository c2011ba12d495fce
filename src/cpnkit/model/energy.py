"""Energy signals: regular time series (carbon intensity, solar shape, price) and the energy snapshot.

A ``Trace`` is a regularly sampled series on the simulation clock: value ``i`` holds over
``[start_s + i * step_s, start_s + (i + 1) * step_s)``; past the end it repeats (a year of hourly data covers
any simulated week; say so when a run is longer than the trace). Traces are validated when built: a gap
(NaN), an infinite or a negative value, or an unknown unit is a ``DataError`` naming the position and the fix.

Units: carbon intensity in gCO2/kWh (``carbon_trace`` converts kg/kWh, g/MWh and lbs/MWh), solar shape as a
0..1 fraction of installed PV capacity, price in currency units per kWh.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from cpnkit.errors import DataError

__all__ = [
    "CARBON_UNITS",
    "J_PER_KWH",
    "MAX_PLAUSIBLE_G_PER_KWH",
    "EnergyForecaster",
    "EnergySnapshot",
    "SiteEnergyState",
    "Trace",
    "carbon_trace",
    "solar_trace",
]

#: Joules in a kilowatt-hour.
J_PER_KWH = 3.6e6
#: Carbon-intensity units ``carbon_trace`` accepts, with their factor to gCO2/kWh.
CARBON_UNITS: Mapping[str, float] = {
    "gCO2/kWh": 1.0,
    "kgCO2/kWh": 1000.0,
    "gCO2/MWh": 1e-3,
    "lbs/MWh": 453.59237 / 1000.0,
}
#: No grid emits more than this (lignite is about 1,100 gCO2/kWh); larger values mean wrong units.
MAX_PLAUSIBLE_G_PER_KWH = 2000.0


@dataclass(frozen=True, eq=False)
class Trace:
    """A regularly sampled, non-negative series on the simulation clock (repeats past its end).

    Attributes:
        values: The samples (1-D, finite, >= 0).
        step_s: Sampling step in s (3600 for hourly data).
        unit: Unit of the values (``"gCO2/kWh"``, ``"fraction"``, ``"EUR/kWh"``, ...).
        name: What the series is (``"DE carbon intensity 2020"``), for messages and provenance.
        start_s: Simulation time of the first sample, in s.

    Example:
        >>> trace = Trace(np.array([100.0, 200.0]), step_s=3600.0, unit="gCO2/kWh")
        >>> trace.value_at(0.0), trace.value_at(3600.0), trace.value_at(7200.0)
        (100.0, 200.0, 100.0)
    """

    values: npt.NDArray[np.float64]
    step_s: float
    unit: str
    name: str = ""
    start_s: float = 0.0
    _list: list[float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        label = self.name or "trace"
        arr = np.asarray(self.values, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise DataError(f"{label}: values have shape {arr.shape}; give a non-empty 1-D series")
        if not (math.isfinite(self.step_s) and self.step_s > 0):
            raise DataError(f"{label}: step_s={self.step_s!r} must be finite and > 0 s (3600 for hourly data)")
        if not math.isfinite(self.start_s):
            raise DataError(f"{label}: start_s={self.start_s!r} must be finite")
        missing = np.flatnonzero(~np.isfinite(arr))
        if missing.size:
            i = int(missing[0])
            raise DataError(
                f"{label}: sample {i} (t = {self.start_s + i * self.step_s:.0f} s) is {float(arr[i])!r}: the trace has "
                f"{missing.size} gap(s); fill them (e.g. interpolate) or cut the trace before using it"
            )
        negative = np.flatnonzero(arr < 0)
        if negative.size:
            i = int(negative[0])
            raise DataError(
                f"{label}: sample {i} is {float(arr[i])!r} {self.unit}, below 0; energy signals are >= 0, fix the data"
            )
        object.__setattr__(self, "values", arr)
        object.__setattr__(self, "_list", arr.tolist())

    def __len__(self) -> int:
        return len(self._list)

    @property
    def duration_s(self) -> float:
        """Time covered before the trace repeats, in s."""
        return len(self._list) * self.step_s

    def index_at(self, time_s: float) -> int:
        """Index of the sample that holds at ``time_s`` (cyclic)."""
        return int((time_s - self.start_s) // self.step_s) % len(self._list)

    def value_at(self, time_s: float) -> float:
        """The value that holds at ``time_s`` (piecewise constant, cyclic)."""
        return self._list[int((time_s - self.start_s) // self.step_s) % len(self._list)]

    def history(self, time_s: float, n: int) -> npt.NDArray[np.float64]:
        """The ``n`` samples up to and including the one at ``time_s`` (oldest first; what is known then)."""
        end = int((time_s - self.start_s) // self.step_s)
        idx = np.arange(end - n + 1, end + 1) % len(self._list)
        return self.values[idx]


def carbon_trace(
    values: npt.ArrayLike, step_s: float, unit: str, region: str, start_s: float = 0.0, name: str = ""
) -> Trace:
    """A carbon-intensity trace in gCO2/kWh, converted from ``unit``.

    Args:
        values: Carbon intensity samples in ``unit``.
        step_s: Sampling step in s.
        unit: One of ``CARBON_UNITS`` (gCO2/kWh, kgCO2/kWh, gCO2/MWh, lbs/MWh).
        region: Grid region the trace belongs to (for messages).
        start_s: Simulation time of the first sample, in s.
        name: Description (default: ``"<region> carbon intensity"``).

    Raises:
        DataError: unknown unit, a gap, a negative value, or values no grid reaches (wrong units).

    Example:
        >>> carbon_trace([0.3, 0.2], 3600.0, "kgCO2/kWh", "DE").values.tolist()
        [300.0, 200.0]
    """
    label = name or f"{region} carbon intensity"
    factor = CARBON_UNITS.get(unit)
    if factor is None:
        raise DataError(
            f"{label}: unit {unit!r} is not a carbon-intensity unit; use one of {sorted(CARBON_UNITS)} "
            "(convert other units first)"
        )
    arr = np.asarray(values, dtype=np.float64) * factor
    trace = Trace(arr, step_s, "gCO2/kWh", label, start_s)
    peak = float(trace.values.max())
    if peak > MAX_PLAUSIBLE_G_PER_KWH:
        raise DataError(
            f"{label}: peak {peak:.0f} gCO2/kWh (given in {unit}) exceeds {MAX_PLAUSIBLE_G_PER_KWH:.0f}, more than "
            "any grid emits; the unit is probably wrong (g/MWh given as g/kWh?)"
        )
    return trace


def solar_trace(values: npt.ArrayLike, step_s: float, name: str = "solar shape", start_s: float = 0.0) -> Trace:
    """A PV output shape: fraction (0..1) of installed capacity produced in each step.

    Raises:
        DataError: a gap, a negative value, or a value above 1 (MW given instead of a shape?).

    Example:
        >>> solar_trace([0.0, 0.5, 1.0], 3600.0).value_at(3600.0)
        0.5
    """
    trace = Trace(np.asarray(values, dtype=np.float64), step_s, "fraction", name, start_s)
    peak = float(trace.values.max())
    if peak > 1.0 + 1e-9:
        raise DataError(
            f"{name}: peak {peak!r} is above 1; a solar shape is the fraction of installed capacity (0..1); "
            "divide generation by its maximum (or the installed capacity)"
        )
    return trace


@dataclass(frozen=True, slots=True)
class SiteEnergyState:
    """Energy signals of one site at a report time.

    Attributes:
        region: Grid region of the site.
        carbon_g_per_kwh: Carbon intensity of the region's grid now, in gCO2/kWh.
        price_per_kwh: Electricity price now, in currency units per kWh.
        pv_w: On-site PV output now, in W.
        load_w: Facility power (IT power x PUE) at the last report, in W.
        renewable_share: Share of the facility power covered by on-site PV (0..1).
        pue: Power usage effectiveness now (facility / IT power, >= 1).
    """

    region: str
    carbon_g_per_kwh: float
    price_per_kwh: float
    pv_w: float
    load_w: float
    renewable_share: float
    pue: float

    @property
    def pv_surplus_w(self) -> float:
        """PV power beyond the current facility load, in W (extra load up to this is carbon free)."""
        return max(0.0, self.pv_w - self.load_w)


class EnergyForecaster(Protocol):
    """Forecasts energy signals from what is known at the snapshot time (never the future of the trace)."""

    def carbon_g_per_kwh(self, site: str, at_s: float) -> float:
        """Forecast grid carbon intensity at ``site`` for time ``at_s`` (>= now), in gCO2/kWh."""
        ...

    def pv_w(self, site: str, at_s: float) -> float:
        """Forecast on-site PV output at ``site`` for time ``at_s``, in W."""
        ...

    @property
    def step_s(self) -> float:
        """Resolution of the forecast, in s (start times worth comparing are this far apart)."""
        ...


@dataclass(frozen=True, slots=True)
class EnergySnapshot:
    """What a scheduler knows about energy: per-site signals, device power and forecasts.

    Attributes:
        time_s: Report time, in s of simulated time (stale by up to one telemetry period).
        sites: Signals per site node.
        dynamic_w: Extra power of each device (by id) while it serves a task (max - idle), in W.
        network_j_per_bit_hop: Network energy per bit per hop, in J.
        forecaster: Forecasts of the signals (``None``: none available; use the current values).
    """

    time_s: float
    sites: Mapping[str, SiteEnergyState]
    dynamic_w: Mapping[str, float]
    network_j_per_bit_hop: float
    forecaster: EnergyForecaster | None = None
