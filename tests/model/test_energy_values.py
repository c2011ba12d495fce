from __future__ import annotations

import math

import numpy as np
import pytest

from cpnkit.errors import DataError, DecisionError, TaskError
from cpnkit.model import Decision, Task, Trace, carbon_trace, solar_trace


def test_trace_is_piecewise_constant_and_cyclic() -> None:
    trace = Trace(np.array([1.0, 2.0, 3.0]), step_s=10.0, unit="x", start_s=-10.0)
    assert trace.value_at(-10.0) == 1.0
    assert trace.value_at(0.0) == 2.0
    assert trace.value_at(19.9) == 3.0
    assert trace.value_at(20.0) == 1.0  # repeats past the end
    assert trace.history(5.0, 2).tolist() == [1.0, 2.0]


def test_trace_rejects_gaps_with_position() -> None:
    with pytest.raises(DataError, match=r"sample 1 .* 1 gap\(s\); fill them"):
        Trace(np.array([1.0, math.nan, 2.0]), 3600.0, "gCO2/kWh", "DE")


def test_trace_rejects_negative_values() -> None:
    with pytest.raises(DataError, match=r"sample 2 is -5.0 gCO2/kWh, below 0"):
        Trace(np.array([1.0, 2.0, -5.0]), 3600.0, "gCO2/kWh")


def test_trace_rejects_bad_step_and_empty() -> None:
    with pytest.raises(DataError, match="step_s=0"):
        Trace(np.array([1.0]), 0.0, "x")
    with pytest.raises(DataError, match="non-empty 1-D"):
        Trace(np.array([]), 1.0, "x")


def test_carbon_trace_converts_units() -> None:
    assert carbon_trace([1000.0], 3600.0, "lbs/MWh", "CAISO").values[0] == pytest.approx(453.59237)
    assert carbon_trace([300e3], 3600.0, "gCO2/MWh", "DE").values[0] == pytest.approx(300.0)


def test_carbon_trace_rejects_unknown_and_implausible_units() -> None:
    with pytest.raises(DataError, match=r"unit 'tCO2/GWh' is not a carbon-intensity unit; use one of"):
        carbon_trace([300.0], 3600.0, "tCO2/GWh", "DE")
    with pytest.raises(DataError, match=r"peak 300000 gCO2/kWh .* the unit is probably wrong"):
        carbon_trace([300e3], 3600.0, "gCO2/kWh", "DE")


def test_solar_trace_rejects_values_above_one() -> None:
    with pytest.raises(DataError, match=r"peak 1200.0 is above 1; a solar shape is the fraction"):
        solar_trace([0.0, 1200.0], 3600.0)


def test_task_window_validated() -> None:
    assert Task(0, 0.0, "a", 0, 1e3, deferrable_window_s=60.0).deferrable_window_s == 60.0
    with pytest.raises(TaskError, match=r"deferrable_window_s=-1\.0 must be finite and >= 0"):
        Task(0, 0.0, "a", 0, 1e3, deferrable_window_s=-1.0)


def test_decision_start_validated() -> None:
    with pytest.raises(DecisionError, match=r"start_s=-1\.0 must be a finite time >= 0 s, or nan"):
        Decision(0, "", "", (), (), start_s=-1.0)
    assert math.isnan(Decision.reject(0, "no").start_s)
