"""The compute-latency predictor a scenario's schedulers see, built from the bundled data.

``scenario_predictor(name, device_models, seed)`` returns a ``PredictionTable`` over every architecture on the
scenario's device models. Methods:

- ``measured``: the measured latencies themselves (error-free: privileged, for references and tests).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from cpnkit.datasets.latency import load_latency_table
from cpnkit.errors import UnknownNameError, did_you_mean
from cpnkit.estimate import PredictionTable

__all__ = ["SCENARIO_PREDICTORS", "scenario_predictor"]

#: Predictor methods ``scenario_predictor`` builds.
SCENARIO_PREDICTORS: tuple[str, ...] = ("measured",)


def scenario_predictor(name: str, device_models: Sequence[str], seed: int = 0, n_samples: int = 50) -> PredictionTable:
    """A prediction table of ``name`` over every architecture on ``device_models`` (cached per arguments).

    Args:
        name: One of ``SCENARIO_PREDICTORS``.
        device_models: Latency-table columns the scenario's devices use.
        seed: Seeds which architectures are "measured" when a new device is onboarded, and any training.
        n_samples: Labelled samples per new device for few-shot methods.

    Raises:
        UnknownNameError: ``name`` is not a known method.
    """
    if name not in SCENARIO_PREDICTORS:
        raise UnknownNameError(
            f"unknown predictor {name!r}.{did_you_mean(name, SCENARIO_PREDICTORS)} "
            f"Known: {', '.join(SCENARIO_PREDICTORS)}"
        )
    return _cached(name, tuple(dict.fromkeys(device_models)), seed, n_samples)


@functools.cache
def _cached(name: str, models: tuple[str, ...], seed: int, n_samples: int) -> PredictionTable:
    table = load_latency_table(models)
    return PredictionTable.from_latency_table(table)
