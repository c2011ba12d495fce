"""Compute-latency predictors for NAS-Bench-201 cells, and few-shot onboarding of new devices (RLMS-CPN §3.3).

Methods (registry ids, ``PREDICTOR_IDS``):

- ``flops``: per-device least squares on FLOPs.
- ``layerwise``: per-device least squares on per-operation costs.
- ``brp-nas``: a GCN trained end to end on the new device's own samples (the expensive baseline).
- ``base``: one GCN trained across the training devices (``train_base_model``); new devices by calibration.
- ``tsft``: ``base`` + two-stage fine-tuning (labelled samples, then pseudo-labels) for new devices.
- ``tsft-s1``: ``tsft``'s first stage alone (the ablation; on the bundled data it is the more accurate of the two).

``make_predictor(name, encodings, base_model=...)`` builds one; ``predictor_from_state`` rebuilds a saved one.
Every predictor takes arrays (``ArchEncodings``, ``LatencySamples``, ``BaseModel``), never paths: the bundled
encodings, the shipped base model and model directories are read by ``cpnkit.datasets.predictor_models``.
Learned predictors import torch only when built.
"""

from __future__ import annotations

from typing import Any

from cpnkit.errors import ConfigError, DataError, UnknownNameError, did_you_mean
from cpnkit.estimate.latency import AdaptivePredictor
from cpnkit.estimate.predictors.common import LATENCY_FLOOR_FRACTION, PredictorState, ridge_loo
from cpnkit.estimate.predictors.encoding import (
    CELL_EDGES,
    NODE_TYPES,
    OPERATIONS,
    ArchEncodings,
    cell_operations,
    cell_string,
    decode_cell,
    encode_cell,
)
from cpnkit.estimate.predictors.learned import (
    BaseModel,
    BasePredictor,
    BaseTraining,
    BRPNASPredictor,
    BRPNASSettings,
    TSFTPredictor,
    TSFTSettings,
    train_base_model,
)
from cpnkit.estimate.predictors.metrics import mape, normalised_mse, spearman_rho
from cpnkit.estimate.predictors.simple import FlopsPredictor, LayerwisePredictor

__all__ = [
    "CELL_EDGES",
    "LATENCY_FLOOR_FRACTION",
    "NODE_TYPES",
    "OPERATIONS",
    "PREDICTOR_IDS",
    "ArchEncodings",
    "BRPNASPredictor",
    "BRPNASSettings",
    "BaseModel",
    "BasePredictor",
    "BaseTraining",
    "FlopsPredictor",
    "LayerwisePredictor",
    "PredictorState",
    "TSFTPredictor",
    "TSFTSettings",
    "cell_operations",
    "cell_string",
    "check_predictor_id",
    "decode_cell",
    "encode_cell",
    "make_predictor",
    "mape",
    "needs_base_model",
    "normalised_mse",
    "predictor_from_state",
    "ridge_loo",
    "spearman_rho",
    "train_base_model",
]

#: Registry ids of the predictors ``make_predictor`` builds.
PREDICTOR_IDS: tuple[str, ...] = ("flops", "layerwise", "brp-nas", "base", "tsft", "tsft-s1")
_NEEDS_BASE = ("base", "tsft", "tsft-s1")


def needs_base_model(name: str) -> bool:
    """Whether method ``name`` is built on the trained base model."""
    return check_predictor_id(name) in _NEEDS_BASE


def check_predictor_id(name: str) -> str:
    """``name`` if it is a registered predictor id.

    Raises:
        UnknownNameError: it is not (the message suggests close ids).
    """
    if name not in PREDICTOR_IDS:
        raise UnknownNameError(
            f"unknown latency predictor {name!r}.{did_you_mean(name, PREDICTOR_IDS)} Known: {', '.join(PREDICTOR_IDS)}"
        )
    return name


def make_predictor(
    name: str,
    encodings: ArchEncodings,
    *,
    base_model: BaseModel | None = None,
    seed: int = 0,
    **settings: Any,
) -> AdaptivePredictor:
    """A fresh predictor of method ``name``.

    Args:
        name: One of ``PREDICTOR_IDS``.
        encodings: Every architecture of the search space, encoded.
        base_model: The trained base network (``base`` and ``tsft`` need it).
        seed: Seeds any training or sampling the method does.
        **settings: Method settings: ``tsft`` takes ``TSFTSettings`` fields, ``brp-nas`` ``BRPNASSettings``.

    Raises:
        UnknownNameError: ``name`` is not registered.
        ConfigError: a base-model method without ``base_model``, or settings the method does not take.
    """
    check_predictor_id(name)
    if settings and name not in ("tsft", "tsft-s1", "brp-nas"):
        raise ConfigError(f"predictor {name!r} takes no settings; got {sorted(settings)}")
    try:
        if name == "flops":
            return FlopsPredictor(encodings)
        if name == "layerwise":
            return LayerwisePredictor(encodings)
        if name == "brp-nas":
            return BRPNASPredictor(encodings, BRPNASSettings(**settings), seed=seed)
        if base_model is None:
            raise ConfigError(
                f"predictor {name!r} needs the trained base model: pass base_model= "
                "(cpnkit.datasets.load_base_model() gives the shipped one)"
            )
        if name == "base":
            return BasePredictor(base_model, encodings)
        if name == "tsft-s1":
            settings = {**settings, "pseudo_labels": 0}
        return TSFTPredictor(base_model, encodings, TSFTSettings(**settings), seed=seed, name=name)
    except TypeError as err:
        raise ConfigError(f"predictor {name!r}: {err}; see its settings class") from None


def predictor_from_state(state: PredictorState, encodings: ArchEncodings) -> AdaptivePredictor:
    """Rebuild a predictor saved as ``predictor.state()``.

    Raises:
        UnknownNameError: the state's method is not registered.
        DataError: the state is incomplete or its weights do not fit.
    """
    check_predictor_id(state.method)
    if state.method in _NEEDS_BASE:
        model = BaseModel.from_state(state)
        predictor: BasePredictor
        if state.method in ("tsft", "tsft-s1"):
            raw = dict(state.meta.get("settings", {}))
            if "ridge_penalties" in raw:
                raw["ridge_penalties"] = tuple(raw["ridge_penalties"])
            try:
                settings_ = TSFTSettings(**raw)
            except TypeError as err:
                raise DataError(f"tsft settings in the model state do not fit: {err}") from None
            predictor = TSFTPredictor(
                model, encodings, settings_, seed=int(state.meta.get("seed", 0)), name=state.method
            )
        else:
            predictor = BasePredictor(model, encodings)
        predictor.load_adapted(state)
        return predictor
    if state.method == "brp-nas":
        brp = BRPNASPredictor(
            encodings, BRPNASSettings(**dict(state.meta.get("settings", {}))), seed=int(state.meta.get("seed", 0))
        )
        brp.load_state(state)
        return brp
    simple: FlopsPredictor | LayerwisePredictor = (
        FlopsPredictor(encodings) if state.method == "flops" else LayerwisePredictor(encodings)
    )
    simple.load_state(state)
    return simple
