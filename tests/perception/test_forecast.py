from __future__ import annotations

import numpy as np
import pytest

from cpnkit.errors import ConfigError
from cpnkit.model import carbon_trace
from cpnkit.perception import TraceForecaster, forecast_error, persistence_forecast, seasonal_naive_forecast


def test_seasonal_naive_repeats_the_last_season() -> None:
    history = np.arange(48, dtype=float)
    assert seasonal_naive_forecast(history, 3).tolist() == [24.0, 25.0, 26.0]
    assert seasonal_naive_forecast(history, 26)[-1] == 25.0  # two steps into the second day ahead
    assert persistence_forecast(history, 2).tolist() == [47.0, 47.0]


def test_forecast_error_is_zero_on_a_periodic_trace_for_seasonal_naive() -> None:
    day = np.sin(np.linspace(0, 2 * np.pi, 24, endpoint=False)) + 2
    values = np.tile(day, 10)
    assert forecast_error(values, "seasonal-naive", 6).mae == pytest.approx(0.0)
    assert forecast_error(values, "persistence", 6).mae > 0.5
    with pytest.raises(ConfigError, match="method="):
        forecast_error(values, "prophet", 1)


def test_trace_forecaster_never_reads_the_future() -> None:
    values = np.arange(100.0, 100.0 + 72.0)  # hourly, strictly increasing
    trace = carbon_trace(values, 3600.0, "gCO2/kWh", "R")
    now = 30 * 3600.0 + 100.0  # in hour 30
    seasonal = TraceForecaster({"s": trace}, {}, now, "seasonal-naive")
    assert seasonal.carbon_g_per_kwh("s", now) == 130.0  # the current hour is known
    assert seasonal.carbon_g_per_kwh("s", 31 * 3600.0) == 107.0  # hour 31 -> hour 7 (one day back)
    assert seasonal.carbon_g_per_kwh("s", 60 * 3600.0) == 112.0  # hour 60 -> hour 12 (two days back)
    assert TraceForecaster({"s": trace}, {}, now, "persistence").carbon_g_per_kwh("s", 40 * 3600.0) == 130.0
    assert TraceForecaster({"s": trace}, {}, now, "perfect").carbon_g_per_kwh("s", 40 * 3600.0) == 140.0


def test_forecast_errors_on_the_2020_traces_are_finite() -> None:
    from cpnkit.datasets import load_carbon_intensity

    ci = load_carbon_intensity()
    for region in ("DE", "GB", "FR"):
        err = forecast_error(ci[region].to_numpy(), "seasonal-naive", 24)
        assert 0 < err.mape < 1
        assert err.n > 8000
