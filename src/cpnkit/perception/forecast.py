"""Forecasts of energy signals (carbon intensity, PV output) from their past, and their measured error.

Two baselines every carbon-aware scheduler should beat: ``persistence`` (the next hours look like now) and
``seasonal-naive`` (each hour looks like the same hour one season — 24 h — earlier). ``forecast_error`` measures
either over a whole trace (MAE and MAPE at a horizon); ``TraceForecaster`` is what the simulator hands
schedulers through ``EnergySnapshot.forecaster``: it answers from the trace's past only (``perfect`` reads the
future, as a reference).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cpnkit.errors import ConfigError, UnknownNameError
from cpnkit.model import Trace

__all__ = [
    "FORECAST_METHODS",
    "ForecastError",
    "TraceForecaster",
    "forecast_error",
    "persistence_forecast",
    "seasonal_naive_forecast",
]

#: Forecast methods ``TraceForecaster`` and ``forecast_error`` know.
FORECAST_METHODS: tuple[str, ...] = ("persistence", "seasonal-naive", "perfect")


def persistence_forecast(history: npt.ArrayLike, horizon: int) -> npt.NDArray[np.float64]:
    """The last value, repeated ``horizon`` steps ahead.

    >>> persistence_forecast([1.0, 2.0, 3.0], 2).tolist()
    [3.0, 3.0]
    """
    arr = np.asarray(history, dtype=np.float64)
    _check(arr, horizon, 1)
    return np.full(horizon, arr[-1])


def seasonal_naive_forecast(history: npt.ArrayLike, horizon: int, season: int = 24) -> npt.NDArray[np.float64]:
    """Each step ahead gets the value one season earlier (the latest known one for steps beyond a season).

    >>> seasonal_naive_forecast([1.0, 2.0, 3.0, 4.0], 3, season=2).tolist()
    [3.0, 4.0, 3.0]
    """
    arr = np.asarray(history, dtype=np.float64)
    _check(arr, horizon, season)
    k = np.arange(1, horizon + 1)
    back = season * np.ceil(k / season).astype(np.int64)  # steps back from the target to a known value
    return np.asarray(arr[len(arr) - 1 + k - back], dtype=np.float64)


def _check(arr: npt.NDArray[np.float64], horizon: int, need: int) -> None:
    if horizon < 1:
        raise ConfigError(f"horizon={horizon!r} must be >= 1 step")
    if arr.ndim != 1 or len(arr) < need:
        raise ConfigError(f"the forecast needs >= {need} past values (one season), got {len(arr)}")


@dataclass(frozen=True, slots=True)
class ForecastError:
    """Error of a forecast method over a trace at one horizon.

    Attributes:
        method: Forecast method.
        horizon_steps: How many steps ahead.
        mae: Mean absolute error, in the trace's unit.
        mape: Mean absolute percentage error (0.1 = 10%), over samples with a non-zero true value.
        n: Number of forecasts scored.
    """

    method: str
    horizon_steps: int
    mae: float
    mape: float
    n: int


def forecast_error(values: npt.ArrayLike, method: str, horizon_steps: int, season: int = 24) -> ForecastError:
    """MAE and MAPE of forecasting ``horizon_steps`` ahead from every origin of ``values`` with ``method``.

    Origins start after one season so that both methods score the same targets.

    Raises:
        ConfigError: unknown method, or a trace shorter than a season plus the horizon.

    Example:
        >>> forecast_error([1.0, 2.0] * 24, "seasonal-naive", 1, season=2).mae
        0.0
    """
    arr = np.asarray(values, dtype=np.float64)
    if method not in ("persistence", "seasonal-naive"):
        raise ConfigError(f"method={method!r} must be 'persistence' or 'seasonal-naive'")
    if horizon_steps < 1 or len(arr) <= season + horizon_steps:
        raise ConfigError(
            f"need horizon_steps >= 1 and more than season + horizon ({season + horizon_steps}) values, got "
            f"horizon {horizon_steps} and {len(arr)} values"
        )
    origins = np.arange(season - 1, len(arr) - horizon_steps)
    truth = arr[origins + horizon_steps]
    if method == "persistence":
        pred = arr[origins]
    else:
        back = season * math.ceil(horizon_steps / season)
        pred = arr[origins + horizon_steps - back]
    err = np.abs(pred - truth)
    nonzero = truth != 0
    mape = float(np.mean(err[nonzero] / np.abs(truth[nonzero]))) if nonzero.any() else math.nan
    return ForecastError(method, horizon_steps, float(err.mean()), mape, len(origins))


class TraceForecaster:
    """Forecasts per site from the sites' traces, using only what is known at ``now_s`` (``EnergyForecaster``).

    Args:
        carbon: Carbon-intensity trace of each site (by node), in gCO2/kWh.
        pv: ``(solar shape, capacity in W)`` of each site with PV.
        now_s: The time the forecast is made, in s.
        method: ``persistence``, ``seasonal-naive`` or ``perfect`` (reads the trace's future: a reference).
        season_s: Season of ``seasonal-naive``, in s (24 h).
    """

    __slots__ = ("_carbon", "_method", "_pv", "_season_s", "now_s")

    def __init__(
        self,
        carbon: Mapping[str, Trace],
        pv: Mapping[str, tuple[Trace, float]],
        now_s: float,
        method: str = "seasonal-naive",
        season_s: float = 86_400.0,
    ) -> None:
        if method not in FORECAST_METHODS:
            raise ConfigError(f"forecast method {method!r} must be one of {FORECAST_METHODS}")
        if not (math.isfinite(season_s) and season_s > 0):
            raise ConfigError(f"season_s={season_s!r} must be finite and > 0 s")
        self._carbon = carbon
        self._pv = pv
        self.now_s = now_s
        self._method = method
        self._season_s = season_s

    @property
    def step_s(self) -> float:
        """Resolution of the forecast: the coarsest carbon-trace step, in s."""
        return max((t.step_s for t in self._carbon.values()), default=3600.0)

    def _known_time(self, trace: Trace, at_s: float) -> float:
        """The time whose sample stands in for ``at_s``: ``at_s`` itself when known by now (or ``perfect``)."""
        now_step_end = trace.start_s + ((self.now_s - trace.start_s) // trace.step_s + 1) * trace.step_s
        if at_s < now_step_end or self._method == "perfect":
            return at_s
        if self._method == "persistence":
            return self.now_s
        # seasonal naive: the same time whole seasons back, the first one whose sample is already known
        k = math.floor((at_s - now_step_end) / self._season_s) + 1
        return at_s - k * self._season_s

    def carbon_g_per_kwh(self, site: str, at_s: float) -> float:
        """Forecast carbon intensity at ``site`` for ``at_s``, in gCO2/kWh."""
        trace = self._carbon.get(site)
        if trace is None:
            raise UnknownNameError(f"no carbon trace for site {site!r}; it is not a site of this scenario")
        return trace.value_at(self._known_time(trace, at_s))

    def pv_w(self, site: str, at_s: float) -> float:
        """Forecast PV output at ``site`` for ``at_s``, in W (0 for a site without PV)."""
        entry = self._pv.get(site)
        if entry is None:
            return 0.0
        trace, capacity_w = entry
        return capacity_w * trace.value_at(self._known_time(trace, at_s))
