"""Perception: probes, energy-signal forecasts and the measured state a scheduler sees (no I/O)."""

from cpnkit.perception.forecast import (
    FORECAST_METHODS,
    ForecastError,
    TraceForecaster,
    forecast_error,
    persistence_forecast,
    seasonal_naive_forecast,
)
from cpnkit.perception.probes import ProbeConfig, mm1_mean_wait_s, probe_path

__all__ = [
    "FORECAST_METHODS",
    "ForecastError",
    "ProbeConfig",
    "TraceForecaster",
    "forecast_error",
    "mm1_mean_wait_s",
    "persistence_forecast",
    "probe_path",
    "seasonal_naive_forecast",
]
