from __future__ import annotations

import math

import numpy as np
import pytest

from cpnkit.errors import ConfigError, DataError, DecisionError, TaskError, UnknownDeviceError
from cpnkit.model import Decision, Device, LatencyTable, Site, Task, Topology


def test_task_rejects_negative_size_with_fix() -> None:
    with pytest.raises(TaskError, match=r"input_bytes=-5.0 must be a finite number > 0; give the input size"):
        Task(id=1, arrival_s=0.0, source="a", arch_idx=0, input_bytes=-5.0)


def test_task_rejects_bad_arch_and_bound() -> None:
    with pytest.raises(TaskError, match=r"arch_idx=15625"):
        Task(id=1, arrival_s=0.0, source="a", arch_idx=15625, input_bytes=1.0)
    with pytest.raises(TaskError, match="latency_bound_s"):
        Task(id=1, arrival_s=0.0, source="a", arch_idx=0, input_bytes=1.0, latency_bound_s=math.nan)


def test_decision_split_must_sum_to_one(line3: Topology) -> None:
    path = line3.make_path(["a", "b", "c"])
    with pytest.raises(DecisionError, match=r"sum to 0.8.*normalise"):
        Decision(0, "c", "c/x", (path, path), (0.5, 0.3))
    with pytest.raises(DecisionError, match="one ratio per path"):
        Decision(0, "c", "c/x", (path,), (0.5, 0.5))
    with pytest.raises(DecisionError, match=">= 0"):
        Decision(0, "c", "c/x", (path, path), (1.5, -0.5))
    with pytest.raises(DecisionError, match="not at the chosen site"):
        Decision(0, "b", "b/x", (path,), (1.0,))


def test_decision_reject_is_explicit() -> None:
    decision = Decision.reject(3, "over capacity")
    assert decision.is_rejection
    assert decision.reason == "over capacity"


def test_site_and_device_validation() -> None:
    with pytest.raises(ConfigError, match="device_class"):
        Device("a/x", "x", "quantum", "a")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no devices"):
        Site("a", ())
    with pytest.raises(ConfigError, match="listed under"):
        Site("a", (Device("b/x", "x", "gpu", "b"),))


def test_latency_table_validation_and_lookup() -> None:
    table = LatencyTable(("gpu1", "cpu1"), np.array([[1e-3, 2e-3], [3e-3, 4e-3]]))
    assert table.column("cpu1").tolist() == [2e-3, 4e-3]
    with pytest.raises(UnknownDeviceError, match=r"'gpu2' is not in the latency table. Did you mean 'gpu1'"):
        table.column("gpu2")
    with pytest.raises(DataError, match="finite and > 0"):
        LatencyTable(("g",), np.array([[np.nan]]))
