"""The compute-latency predictor a scenario's schedulers see, built from the bundled data.

``scenario_predictor(name, device_models, seed, n_samples)`` returns a ``PredictionTable`` over every
architecture on the scenario's device models. Methods:

- ``measured``: the measured latencies themselves (error-free: privileged, for references and tests).
- ``flops``, ``layerwise``, ``brp-nas``, ``base``, ``tsft``, ``tsft-s1``: the predictors of
  ``cpnkit.estimate.predictors``. A device model the predictor was trained on (the base model's training
  devices, for ``base`` and ``tsft``) is predicted directly; every other one is onboarded as an operator would:
  ``n_samples`` architectures drawn with ``seed`` are "measured" (their latencies read from the bundled table —
  only those are handed to the predictor), the predictor adapts, then predicts all 15,625 architectures.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from cpnkit.datasets.latency import load_latency_table
from cpnkit.errors import ConfigError, UnknownNameError, did_you_mean
from cpnkit.estimate import LatencySamples, PredictionTable
from cpnkit.estimate.predictors import PREDICTOR_IDS

__all__ = ["SCENARIO_PREDICTORS", "scenario_predictor"]

#: Predictor methods ``scenario_predictor`` builds.
SCENARIO_PREDICTORS: tuple[str, ...] = ("measured", *PREDICTOR_IDS)


def scenario_predictor(name: str, device_models: Sequence[str], seed: int = 0, n_samples: int = 50) -> PredictionTable:
    """A prediction table of ``name`` over every architecture on ``device_models`` (cached per arguments).

    Args:
        name: One of ``SCENARIO_PREDICTORS``.
        device_models: Latency-table columns the scenario's devices use.
        seed: Seeds which architectures are "measured" when a new device is onboarded, and any training.
        n_samples: Labelled samples per new device for few-shot methods.

    Raises:
        UnknownNameError: ``name`` is not a known method.
        UnknownDeviceError: a device model is not in the bundled table.
        ConfigError: ``n_samples`` < 1.
    """
    if name not in SCENARIO_PREDICTORS:
        raise UnknownNameError(
            f"unknown predictor {name!r}.{did_you_mean(name, SCENARIO_PREDICTORS)} "
            f"Known: {', '.join(SCENARIO_PREDICTORS)}"
        )
    if n_samples < 1:
        raise ConfigError(f"n_samples={n_samples} must be >= 1: a new device needs at least one measurement")
    return _cached(name, tuple(dict.fromkeys(device_models)), seed, n_samples)


@functools.cache
def _cached(name: str, models: tuple[str, ...], seed: int, n_samples: int) -> PredictionTable:
    table = load_latency_table(models)
    if name == "measured":
        return PredictionTable.from_latency_table(table)
    from cpnkit.datasets.predictor_eval import labelled_archs
    from cpnkit.datasets.predictor_models import make_bundled_predictor

    predictor = make_bundled_predictor(name, seed=seed)
    known = set(predictor.devices)
    n_archs = table.n_archs
    for device in models:
        if device in known:
            continue
        idx = labelled_archs(device, seed, n_samples, n_archs)
        column = table.latency_s[:, table.column_index(device)]
        predictor.adapt(device, LatencySamples(idx, np.asarray(column[idx]), device))
    return PredictionTable.from_predictor(predictor, models, n_archs=n_archs)
