"""Latency predictors on the bundled data: encodings, the shipped base model, model directories, sample CSVs.

The predictors themselves (``cpnkit.estimate.predictors``) take arrays; this module does the file work:

- ``load_arch_encodings()``: every NAS-Bench-201 cell of the bundled architecture table, encoded (cached).
- ``load_base_model()``: the base network shipped in ``data/models/base_nb201`` (see ``data/PROVENANCE.md``).
- ``train_bundled_base_model(seed)``: retrain it on the bundled latency table (``cpnkit predictor train``).
- ``make_bundled_predictor(name, seed)``: a fresh predictor of any method, wired to the bundled data.
- ``save_model_dir`` / ``load_model_dir``: a predictor as ``model.json`` (method, settings, per-device scalars)
  plus ``weights.npz`` (arrays, no pickles).
- ``read_latency_samples_csv`` / ``write_predictions_csv``: an operator's files (``arch``, ``latency_ms``).

Training devices are the bundled device models other than the five new devices of RLMS-CPN Table 5
(``PAPER_NEW_DEVICES``): all three batch sizes of the five GPUs except ``titan_rtx_256``, the Xeons
``gold_6240``, ``silver_4114``, ``silver_4210r``, and the phones ``pixel3``, ``samsung_a50`` (19 columns).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cpnkit.datasets._resources import bundled_file
from cpnkit.datasets.latency import HELP_SOURCE, load_architectures, load_latency_table
from cpnkit.errors import ConfigError, DataError
from cpnkit.estimate.latency import AdaptivePredictor, LatencySamples
from cpnkit.estimate.predictors import (
    ArchEncodings,
    BaseModel,
    BaseTraining,
    PredictorState,
    make_predictor,
    predictor_from_state,
    train_base_model,
)

__all__ = [
    "BASE_MODEL_DIR",
    "PAPER_NEW_DEVICES",
    "load_arch_encodings",
    "load_base_model",
    "load_model_dir",
    "load_predictor",
    "make_bundled_predictor",
    "read_latency_samples_csv",
    "save_base_model",
    "save_model_dir",
    "train_bundled_base_model",
    "training_devices",
    "write_predictions_csv",
]

#: The new devices of RLMS-CPN Table 5: never seen in training, onboarded from a few samples.
PAPER_NEW_DEVICES: tuple[str, ...] = ("titan_rtx_256", "gold_6226", "fpga", "raspi4", "eyeriss")
#: Bundled directory of the shipped base model.
BASE_MODEL_DIR = ("models", "base_nb201")
_META_FILE = "model.json"
_WEIGHTS_FILE = "weights.npz"
_FORMAT = "cpnkit-latency-predictor/1"


def training_devices() -> tuple[str, ...]:
    """The bundled device models the base model trains on (all but ``PAPER_NEW_DEVICES``)."""
    return tuple(d for d in load_latency_table().devices if d not in PAPER_NEW_DEVICES)


@functools.cache
def load_arch_encodings() -> ArchEncodings:
    """Every bundled NAS-Bench-201 architecture, encoded (row ``i`` is architecture index ``i``)."""
    frame = load_architectures()
    return ArchEncodings(tuple(str(c) for c in frame["arch_str"]), frame["flops_M_cifar10"].to_numpy(np.float64))


def train_bundled_base_model(
    seed: int = 0,
    training: BaseTraining | None = None,
    progress: Callable[[int, int, float, float], None] | None = None,
) -> BaseModel:
    """Train the base model on the bundled latency table's training devices (what ships, with the defaults)."""
    devices = training_devices()
    table = load_latency_table(devices)
    return train_base_model(
        load_arch_encodings(),
        table.latency_s * 1e3,
        devices,
        training=training,
        seed=seed,
        progress=progress,
        info={"data": HELP_SOURCE, "command": f"cpnkit predictor train --seed {seed}"},
    )


@functools.cache
def _bundled_base_model() -> BaseModel:
    with bundled_file(*BASE_MODEL_DIR) as path:
        state = _read_state(path)
    return BaseModel.from_state(state)


def load_base_model(path: str | os.PathLike[str] | None = None) -> BaseModel:
    """The base model of a model directory; ``None`` for the shipped one (cached).

    Raises:
        DataError: the directory is missing or not a base model.
    """
    if path is None:
        return _bundled_base_model()
    return BaseModel.from_state(_read_state(Path(path)))


def make_bundled_predictor(name: str, seed: int = 0, **settings: Any) -> AdaptivePredictor:
    """A fresh predictor of method ``name`` on the bundled encodings (and the shipped base model if it needs one).

    Raises:
        UnknownNameError: ``name`` is not a predictor id.
    """
    from cpnkit.estimate.predictors import needs_base_model

    base = load_base_model() if needs_base_model(name) else None
    return make_predictor(name, load_arch_encodings(), base_model=base, seed=seed, **settings)


def save_model_dir(predictor: AdaptivePredictor, path: str | os.PathLike[str]) -> Path:
    """Write ``predictor`` (its ``state()``) to directory ``path``: ``model.json`` and ``weights.npz``.

    Raises:
        ConfigError: the predictor cannot be saved (it has no ``state()``).
    """
    state_fn = getattr(predictor, "state", None)
    if not callable(state_fn):
        raise ConfigError(f"predictor {predictor.name!r} has no state() to save")
    state = state_fn()
    if not isinstance(state, PredictorState):
        raise ConfigError(f"predictor {predictor.name!r}: state() returned {type(state).__name__}")
    return _write_state(state, Path(path))


def _write_state(state: PredictorState, path: Path) -> Path:
    path = path.expanduser()
    path.mkdir(parents=True, exist_ok=True)
    meta = {"format": _FORMAT, "method": state.method, "meta": state.meta}
    (path / _META_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True, default=_json_default) + "\n")
    arrays = {k: np.asarray(v) for k, v in state.arrays.items()}
    np.savez_compressed(path / _WEIGHTS_FILE, allow_pickle=False, **arrays)
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _read_state(path: Path) -> PredictorState:
    path = path.expanduser()
    meta_file, weights_file = path / _META_FILE, path / _WEIGHTS_FILE
    if not meta_file.is_file() or not weights_file.is_file():
        raise DataError(
            f"{path}: not a model directory (needs {_META_FILE} and {_WEIGHTS_FILE}); "
            "write one with `cpnkit predictor adapt --out DIR` or `cpnkit predictor train --out DIR`"
        )
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{meta_file}: unreadable model metadata ({err})") from err
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT or "method" not in meta:
        raise DataError(f"{meta_file}: not a {_FORMAT} file")
    try:
        with np.load(weights_file, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as err:
        raise DataError(f"{weights_file}: unreadable weights ({err})") from err
    return PredictorState(str(meta["method"]), dict(meta.get("meta", {})), arrays)


def load_model_dir(path: str | os.PathLike[str]) -> PredictorState:
    """The predictor state in model directory ``path``.

    Raises:
        DataError: not a model directory, or unreadable.
    """
    return _read_state(Path(path))


def load_predictor(path: str | os.PathLike[str]) -> AdaptivePredictor:
    """The predictor saved in model directory ``path``, on the bundled encodings.

    Raises:
        DataError: not a model directory, or its weights do not fit.
    """
    state = load_model_dir(path)
    if state.method == "base-model":  # a bare base model (cpnkit predictor train --out)
        state = PredictorState("base", state.meta, state.arrays)
    return predictor_from_state(state, load_arch_encodings())


def _arch_column(column: Any, file: Path) -> npt.NDArray[np.int64]:
    """Architecture indices of a CSV column of cell strings or indices; errors name the file and row."""
    from cpnkit.errors import TaskError

    encodings = load_arch_encodings()
    idx = np.empty(len(column), dtype=np.int64)
    for row, arch in enumerate(column):
        try:
            idx[row] = encodings.index_of(str(arch))
        except TaskError as err:
            raise DataError(f"{file}: row {row + 2}: {err}") from None
    return idx


def read_arch_csv(path: str | os.PathLike[str]) -> npt.NDArray[np.int64]:
    """Architecture indices from a CSV with a column ``arch`` (cell strings or indices 0..15624).

    Raises:
        DataError: the file is missing or unreadable, lacks the column, has no rows, or an unknown cell.
    """
    from cpnkit.datasets._tables import read_csv

    file = Path(path).expanduser()
    frame = read_csv(file, ["arch"], dtype={"arch": str})
    if frame.empty:
        raise DataError(f"{file}: no rows; list at least one architecture in column 'arch'")
    return _arch_column(frame["arch"], file)


def read_latency_samples_csv(path: str | os.PathLike[str], device: str) -> LatencySamples:
    """A device's measured samples from a CSV with columns ``arch`` and ``latency_ms``.

    ``arch`` is a NAS-Bench-201 cell string or an architecture index (0..15624).

    Raises:
        DataError: the file is missing or unreadable, lacks a column, has an unknown or malformed cell, or a
            latency that is not a finite number > 0; zero rows; an architecture twice.
    """
    from cpnkit.datasets._tables import read_csv

    file = Path(path).expanduser()
    frame = read_csv(file, ["arch", "latency_ms"], dtype={"arch": str})
    idx = _arch_column(frame["arch"], file)
    import pandas as pd

    raw = frame["latency_ms"]
    latency_ms = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(latency_ms) | (latency_ms <= 0)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(
            f"{file}: row {row + 2}: latency_ms {str(raw.iloc[row])!r} must be a finite number > 0 (in ms); "
            "re-measure or drop that architecture"
        )
    try:
        return LatencySamples(idx, latency_ms / 1e3, device)
    except DataError as err:
        raise DataError(f"{file}: {err}") from None


def write_predictions_csv(
    path: str | os.PathLike[str], arch_idx: Sequence[int] | npt.NDArray[np.int64], latency_s: npt.ArrayLike
) -> Path:
    """Write ``arch_idx,latency_ms`` rows (latencies given in s)."""
    file = Path(path).expanduser()
    if file.parent != Path():
        file.parent.mkdir(parents=True, exist_ok=True)
    idx = np.asarray(arch_idx, dtype=np.int64)
    ms = np.asarray(latency_s, dtype=np.float64) * 1e3
    with file.open("w", encoding="utf-8") as out:
        out.write("arch_idx,latency_ms\n")
        out.writelines(f"{i},{v:.6g}\n" for i, v in zip(idx.tolist(), ms.tolist(), strict=True))
    return file


def save_base_model(model: BaseModel, path: str | os.PathLike[str]) -> Path:
    """Write a base model to directory ``path`` (the layout of the shipped one)."""
    return _write_state(model.state(), Path(path))
