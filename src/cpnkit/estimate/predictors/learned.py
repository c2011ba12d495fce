"""Learned latency predictors of RLMS-CPN §3.3: ``base``, ``tsft`` (two-stage fine-tuning) and ``brp-nas`` (no I/O).

torch is imported inside the functions that need it (``cpnkit.estimate.predictors.gcn``), so importing this
module stays light; the predictors take encodings, labels and weight arrays, never paths.

**base** (``train_base_model``): one ``LatencyNet`` (dense GCN over the cell graph + a learned embedding per
training device + an MLP head) trained on every training device at once, on labels normalised per device by
min-max over the device's column. For a training device it predicts directly. For a new device it has only
zero-shot means: it takes the training device whose predictions correlate best with the new device's k samples,
and maps that device's predictions to ms by an affine fit on the k samples.

**tsft** adapts to a new device in two stages (paper eq. 2 and 3), from the k labelled samples only:

1. *Fine-tune on the k labels.* The new device's read-out is fitted over the base network's outputs for the
   training devices (a new last layer: ridge regression, intercept unpenalised, penalty by exact leave-one-out
   error). Target scale: the k labels mapped by the base method's affine fit, so the layer starts near identity.
2. *Pseudo-labels.* The stage-1 model labels ``unlabelled`` architectures drawn at random (seeded) from the
   search space; the new device gets its own embedding (initialised from the best-correlated training device) and
   MLP head (from the base head), trained on the k true labels plus the pseudo-labels. The GCN encoder stays
   frozen, so its cell vectors are computed once and an adaptation takes well under a second on two CPU cores.

Stage 1 also gets the cell's per-operation counts (the layer-wise cost model) as features, so a device whose
latency is a sum of per-layer costs (the simulated FPGA and Eyeriss columns) is fitted almost exactly.

What was measured (``cpnkit predictor eval``, README): stage 1 is where the accuracy comes from. Stage 2 distils
it into the network (a per-device embedding and head, like a training device's) but does not improve on it: on
the five new devices it was ~25% (k=20) to ~50% (k=50) worse than stage 1 alone, which is registered as
``tsft-s1`` (``TSFTSettings(pseudo_labels=0)``). Pseudo-labels from the stage-1 model carry no information the
stage-1 model lacks; longer stage-2 training, a higher weight on the true labels, or fine-tuning the encoder too
(~3 s) did not change that. Gradient fine-tuning of embedding and head on the k labels alone (the paper's stage 1
taken literally) was about twice the error of the ridge read-out at k=20.

**brp-nas**: the same GCN, trained from scratch on the new device's k samples only (BRP-NAS's end-to-end
recipe at few-shot scale): the expensive baseline of Table 6.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cpnkit.errors import ConfigError, DataError
from cpnkit.estimate.latency import ArchIndices, LatencySamples, as_arch_indices
from cpnkit.estimate.predictors.common import (
    PredictorState,
    check_samples,
    latency_floor_ms,
    ridge_loo,
    unknown_device,
)
from cpnkit.estimate.predictors.encoding import CELL_EDGES, ArchEncodings

if TYPE_CHECKING:
    import torch

    from cpnkit.estimate.predictors.gcn import GCNConfig, LatencyNet

__all__ = [
    "BRPNASPredictor",
    "BRPNASSettings",
    "BaseModel",
    "BasePredictor",
    "BaseTraining",
    "TSFTPredictor",
    "TSFTSettings",
    "train_base_model",
]

#: Progress callback of ``train_base_model``: (epoch, epochs, training loss, validation MSE or NaN).
TrainProgress = Callable[[int, int, float, float], None]


@dataclass(frozen=True, slots=True)
class BaseTraining:
    """How the base model is trained (``cpnkit predictor train`` reproduces the shipped one with the defaults).

    Attributes:
        epochs: Passes over the training architectures.
        batch_archs: Architectures per batch (each with every training device's label).
        lr: Peak learning rate of the one-cycle schedule (AdamW).
        weight_decay: AdamW weight decay.
        holdout_archs: Architectures held out of training to report a validation MSE (0: train on all).
        hidden: GCN and head width.
        layers: GCN rounds.
        embedding: Device-embedding size.
    """

    epochs: int = 40
    batch_archs: int = 256
    lr: float = 3e-3
    weight_decay: float = 1e-4
    holdout_archs: int = 1500
    hidden: int = 64
    layers: int = 4
    embedding: int = 16

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_archs", "hidden", "layers", "embedding"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"BaseTraining.{name}={getattr(self, name)!r} must be >= 1")
        if not self.lr > 0 or self.weight_decay < 0 or self.holdout_archs < 0:
            raise ConfigError("BaseTraining: lr must be > 0, weight_decay and holdout_archs >= 0")


@dataclass(frozen=True, eq=False)
class BaseModel:
    """A trained base network as plain data.

    Attributes:
        config: Network sizes (``gcn.GCNConfig`` as a dict).
        weights: Parameter arrays (float32) by name.
        devices: Training devices, in embedding order.
        min_ms: Per-device minimum latency in ms over the training column (the normaliser's 0).
        max_ms: Per-device maximum latency in ms (the normaliser's 1).
        info: Provenance: seed, epochs, losses, data source.
    """

    config: Mapping[str, int]
    weights: Mapping[str, npt.NDArray[np.float32]]
    devices: tuple[str, ...]
    min_ms: npt.NDArray[np.float64]
    max_ms: npt.NDArray[np.float64]
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lo = np.asarray(self.min_ms, dtype=np.float64)
        hi = np.asarray(self.max_ms, dtype=np.float64)
        n = len(self.devices)
        if n == 0 or lo.shape != (n,) or hi.shape != (n,):
            raise DataError(f"base model: {n} devices but normalisers of shape {lo.shape} and {hi.shape}")
        if not (np.isfinite(lo).all() and np.isfinite(hi).all() and (lo > 0).all() and (hi > lo).all()):
            raise DataError("base model: every normaliser needs 0 < min_ms < max_ms")
        if int(self.config.get("n_devices", -1)) != n:
            raise DataError(f"base model: config n_devices={self.config.get('n_devices')} but {n} devices")
        object.__setattr__(self, "devices", tuple(self.devices))
        object.__setattr__(self, "min_ms", lo)
        object.__setattr__(self, "max_ms", hi)

    def state(self) -> PredictorState:
        """As plain data (meta + arrays)."""
        meta = {"config": dict(self.config), "devices": list(self.devices), "info": dict(self.info)}
        arrays: dict[str, npt.NDArray[Any]] = {f"net/{k}": v for k, v in self.weights.items()}
        arrays["min_ms"] = self.min_ms
        arrays["max_ms"] = self.max_ms
        return PredictorState("base-model", meta, arrays)

    @classmethod
    def from_state(cls, state: PredictorState) -> BaseModel:
        """Rebuild from ``state()`` output.

        Raises:
            DataError: a field is missing.
        """
        try:
            weights = {k[4:]: np.asarray(v, dtype=np.float32) for k, v in state.arrays.items() if k.startswith("net/")}
            return cls(
                config={k: int(v) for k, v in state.meta["config"].items()},
                weights=weights,
                devices=tuple(state.meta["devices"]),
                min_ms=np.asarray(state.arrays["min_ms"]),
                max_ms=np.asarray(state.arrays["max_ms"]),
                info=dict(state.meta.get("info", {})),
            )
        except KeyError as err:
            raise DataError(f"base model state lacks {err}; it was not written by BaseModel.state()") from None


def _gcn_config(config: Mapping[str, int]) -> GCNConfig:
    from cpnkit.estimate.predictors.gcn import GCNConfig

    return GCNConfig(**{k: int(v) for k, v in config.items()})


def _graphs(encodings: ArchEncodings, idx: npt.NDArray[np.int64] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    from cpnkit.estimate.predictors.gcn import graph_tensors

    if idx is None:
        return graph_tensors(encodings.adjacency, encodings.operations)
    return graph_tensors(encodings.adjacency[idx], encodings.operations[idx])


def train_base_model(
    encodings: ArchEncodings,
    latency_ms: npt.NDArray[np.float64],
    devices: Sequence[str],
    *,
    training: BaseTraining | None = None,
    seed: int = 0,
    progress: TrainProgress | None = None,
    info: Mapping[str, Any] | None = None,
) -> BaseModel:
    """Train the base network on every training device's latencies.

    Args:
        encodings: Every architecture, encoded.
        latency_ms: ``(n_archs, n_devices)`` latencies in ms, column ``j`` for ``devices[j]``.
        devices: Training devices.
        training: Hyper-parameters (defaults reproduce the shipped model).
        seed: Seeds the initial weights, the hold-out split and the batch order.
        progress: Called after each epoch.
        info: Extra provenance recorded in the model.

    Returns:
        The trained model; ``info`` records the seed, the settings and the final losses.

    Raises:
        DataError: the labels are not finite and > 0, or do not match the encodings and devices.
    """
    import torch

    from cpnkit.estimate.predictors.gcn import GCNConfig, LatencyNet, state_to_numpy

    settings = training or BaseTraining()
    labels = np.asarray(latency_ms, dtype=np.float64)
    if labels.shape != (len(encodings), len(devices)):
        raise DataError(f"labels of shape {labels.shape}; expected ({len(encodings)}, {len(devices)})")
    if not np.isfinite(labels).all() or (labels <= 0).any():
        raise DataError("training latencies must be finite and > 0")
    lo, hi = labels.min(axis=0), labels.max(axis=0)
    y = torch.from_numpy(((labels - lo) / (hi - lo)).astype(np.float32))
    config = GCNConfig(settings.hidden, settings.layers, settings.embedding, len(devices))
    torch_gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = LatencyNet(config)
    _reinit(net, torch_gen)
    order = rng.permutation(len(encodings))
    holdout = order[: settings.holdout_archs]
    train_idx = order[settings.holdout_archs :]
    adj, ops = _graphs(encodings)
    all_devices = torch.arange(len(devices))
    per_epoch = -(-train_idx.size // settings.batch_archs)
    opt = torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=settings.lr, total_steps=settings.epochs * per_epoch)
    train_loss = val_mse = float("nan")
    for epoch in range(settings.epochs):
        net.train()
        perm = torch.from_numpy(rng.permutation(train_idx))
        total = 0.0
        for start in range(0, perm.numel(), settings.batch_archs):
            batch = perm[start : start + settings.batch_archs]
            loss = ((net(adj[batch], ops[batch], all_devices) - y[batch]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * batch.numel()
        train_loss = total / train_idx.size
        if holdout.size:
            net.eval()
            with torch.no_grad():
                h = torch.from_numpy(holdout)
                val_mse = float(((net(adj[h], ops[h], all_devices) - y[h]) ** 2).mean())
        if progress is not None:
            progress(epoch + 1, settings.epochs, train_loss, val_mse)
    record = {
        "seed": seed,
        "training": asdict(settings),
        "train_mse_normalised": train_loss,
        "holdout_mse_normalised": val_mse,
        **(info or {}),
    }
    return BaseModel(config.to_dict(), state_to_numpy(net), tuple(devices), lo, hi, record)


def _reinit(net: torch.nn.Module, gen: torch.Generator) -> None:
    """Re-draw every parameter from a seeded generator (torch's default init uses the global RNG)."""
    import torch

    with torch.no_grad():
        for name, param in net.named_parameters():
            if param.ndim >= 2 and "embedding" not in name:
                bound = float(np.sqrt(6.0 / (param.shape[0] + param.shape[1])))
                param.uniform_(-bound, bound, generator=gen)
            elif "embedding" in name:
                param.normal_(0.0, 0.1, generator=gen)
            else:
                param.zero_()


# -- base ------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Adapted:
    """A new device's fit: predictions (model scale) for every architecture, and how to map them to ms."""

    ref: int  # best-correlated training device
    scale: float  # ms = scale * z + offset
    offset: float
    floor_ms: float
    z: npt.NDArray[np.float64]  # (n_archs,) model-scale predictions
    meta: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, npt.NDArray[Any]] = field(default_factory=dict)


class BasePredictor:
    """The base network: direct predictions for training devices, a calibrated nearest device for new ones."""

    method = "base"

    def __init__(self, model: BaseModel, encodings: ArchEncodings) -> None:
        self._model = model
        self._encodings = encodings
        self._net: LatencyNet | None = None
        self._cells: torch.Tensor | None = None
        self._train_z: npt.NDArray[np.float64] | None = None
        self._adapted: dict[str, _Adapted] = {}
        self._train_index = {d: i for i, d in enumerate(model.devices)}

    @property
    def name(self) -> str:
        """Registry id."""
        return self.method

    @property
    def model(self) -> BaseModel:
        """The base model."""
        return self._model

    @property
    def devices(self) -> tuple[str, ...]:
        """Training devices, then the devices adapted to."""
        return tuple(dict.fromkeys([*self._model.devices, *self._adapted]))

    def _ensure(self) -> tuple[LatencyNet, torch.Tensor, npt.NDArray[np.float64]]:
        """The network, every cell's vector and the training devices' outputs (built once, ~0.3 s on two cores)."""
        if self._net is not None and self._cells is not None and self._train_z is not None:
            return self._net, self._cells, self._train_z
        import torch

        from cpnkit.estimate.predictors.gcn import LatencyNet, state_from_numpy

        net = LatencyNet(_gcn_config(self._model.config))
        state_from_numpy(net, self._model.weights)
        net.eval()
        adj, ops = _graphs(self._encodings)
        with torch.no_grad():
            cells = net.encoder(adj, ops)
            train_z = net.head_out(cells, net.device_embedding.weight).numpy().astype(np.float64)
        self._net, self._cells, self._train_z = net, cells, train_z
        return net, cells, train_z

    def training_outputs(self) -> npt.NDArray[np.float64]:
        """``(n_archs, n_training_devices)`` normalised base predictions (computed once)."""
        return self._ensure()[2]

    def predict(self, archs: ArchIndices, device: str) -> npt.NDArray[np.float64]:
        """Predicted latency in s of ``archs`` on ``device`` (> 0)."""
        idx = as_arch_indices(archs, len(self._encodings))
        fit = self._adapted.get(device)
        if fit is not None:
            return np.maximum(fit.scale * fit.z[idx] + fit.offset, fit.floor_ms) / 1e3
        j = self._train_index.get(device)
        if j is None:
            raise unknown_device(device, self.devices, self.method)
        lo, hi = self._model.min_ms[j], self._model.max_ms[j]
        latency_ms = self.training_outputs()[idx, j] * (hi - lo) + lo
        return np.asarray(np.maximum(latency_ms, latency_floor_ms(np.array([lo]))) / 1e3)

    def _calibrate(self, idx: npt.NDArray[np.int64], latency_ms: npt.NDArray[np.float64]) -> tuple[int, float, float]:
        """Best-correlated training device, and the affine map of its normalised output to ms, on the samples."""
        z = self.training_outputs()[idx]
        if idx.size >= 3 and np.ptp(latency_ms) > 0:
            zc = z - z.mean(axis=0)
            yc = latency_ms - latency_ms.mean()
            denom = np.sqrt((zc**2).sum(axis=0) * (yc**2).sum())
            corr = np.where(denom > 0, zc.T @ yc / np.where(denom > 0, denom, 1.0), -np.inf)
            ref = int(np.argmax(corr))
            scale, offset = np.linalg.lstsq(np.c_[z[:, ref], np.ones(idx.size)], latency_ms, rcond=None)[0]
            if scale > 0:
                return ref, float(scale), float(offset)
        else:
            ref = int(np.argmax(z.mean(axis=0)))
        # too few or uninformative samples: proportional to the reference device's mean
        return ref, float(latency_ms.mean() / max(float(z[:, ref].mean()), 1e-6)), 0.0

    def adapt(self, device: str, samples: LatencySamples) -> None:
        """Onboard ``device`` from ``samples`` only: calibrate the best-correlated training device to it.

        Raises:
            DataError: the samples are of another device or outside the search space.
        """
        idx, latency_ms = check_samples(samples, device, len(self._encodings))
        ref, scale, offset = self._calibrate(idx, latency_ms)
        self._adapted[device] = _Adapted(
            ref, scale, offset, latency_floor_ms(latency_ms), self.training_outputs()[:, ref].copy()
        )

    def state(self) -> PredictorState:
        """The base model and every adapted device, as plain data."""
        base = self._model.state()
        devices = {}
        arrays: dict[str, npt.NDArray[Any]] = dict(base.arrays)
        for name, fit in self._adapted.items():
            devices[name] = {
                "ref": self._model.devices[fit.ref],
                "scale": fit.scale,
                "offset": fit.offset,
                "floor_ms": fit.floor_ms,
                **fit.meta,
            }
            arrays.update({f"device/{name}/{k}": v for k, v in fit.arrays.items()})
        return PredictorState(self.method, {**base.meta, "adapted": devices}, arrays)

    def load_adapted(self, state: PredictorState) -> None:
        """Restore the adapted devices of a ``state()`` (the base model must be the same).

        Raises:
            DataError: the state is of another method, or a device's fields are missing.
        """
        if state.method != self.method:
            raise DataError(f"state of method {state.method!r} cannot load into {self.method!r}")
        for name, info in dict(state.meta.get("adapted", {})).items():
            try:
                ref = self._train_index[info["ref"]]
                arrays = {
                    k.split("/", 2)[2]: np.asarray(v)
                    for k, v in state.arrays.items()
                    if k.startswith(f"device/{name}/")
                }
                fit = _Adapted(ref, float(info["scale"]), float(info["offset"]), float(info["floor_ms"]), np.empty(0))
                fit.meta = {k: v for k, v in info.items() if k not in ("ref", "scale", "offset", "floor_ms")}
                fit.arrays = arrays
            except KeyError as err:
                raise DataError(f"adapted device {name!r} lacks {err} in the model state") from None
            fit.z = self._restore_z(fit)
            self._adapted[name] = fit

    def _restore_z(self, fit: _Adapted) -> npt.NDArray[np.float64]:
        return self.training_outputs()[:, fit.ref].copy()


# -- tsft ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TSFTSettings:
    """Two-stage fine-tuning settings.

    Attributes:
        ridge_penalties: Candidate penalties of the stage-1 read-out (picked by leave-one-out error).
        pseudo_labels: Unlabelled architectures the stage-1 model labels for stage 2 (0: stage 1 alone).
        steps: Stage-2 Adam steps.
        batch: Stage-2 batch size.
        lr: Stage-2 learning rate.
        true_label_weight: Loss weight of a true label relative to a pseudo-label in stage 2.
        operation_counts: Give the stage-1 read-out the cell's per-operation counts as well (the layer-wise cost
            model), so devices whose latency is a sum of per-layer costs (simulated FPGA, Eyeriss) fit exactly.
    """

    ridge_penalties: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
    pseudo_labels: int = 2000
    steps: int = 400
    batch: int = 256
    lr: float = 3e-3
    true_label_weight: float = 1.0
    operation_counts: bool = True

    def __post_init__(self) -> None:
        if not self.ridge_penalties or min(self.ridge_penalties) <= 0:
            raise ConfigError(f"ridge_penalties={self.ridge_penalties!r} must be non-empty and > 0")
        if self.pseudo_labels < 0 or self.steps < 1 or self.batch < 1 or not self.lr > 0:
            raise ConfigError("TSFTSettings: pseudo_labels >= 0, steps >= 1, batch >= 1 and lr > 0 are required")
        if not self.true_label_weight > 0:
            raise ConfigError(f"true_label_weight={self.true_label_weight!r} must be > 0")


class TSFTPredictor(BasePredictor):
    """Base network + two-stage fine-tuning (RLMS-CPN TSFT) for new devices."""

    method = "tsft"

    def __init__(
        self,
        model: BaseModel,
        encodings: ArchEncodings,
        settings: TSFTSettings | None = None,
        seed: int = 0,
        name: str = "tsft",
    ) -> None:
        super().__init__(model, encodings)
        self._settings = settings or TSFTSettings()
        self._seed = int(seed)
        self.method = name

    @property
    def settings(self) -> TSFTSettings:
        """Fine-tuning settings."""
        return self._settings

    def state(self) -> PredictorState:
        """The base model, the settings and every adapted device, as plain data."""
        state = super().state()
        meta = {**state.meta, "settings": asdict(self._settings), "seed": self._seed}
        return PredictorState(self.method, meta, state.arrays)

    def _readout_features(self) -> npt.NDArray[np.float64]:
        """Stage-1 features of every architecture: the training devices' outputs, and (if set) operation counts."""
        train_z = self.training_outputs()
        if not self._settings.operation_counts:
            return train_z
        counts = self._encodings.op_counts()[:, 1:] / len(CELL_EDGES)  # 'none' is implied by the other four
        return np.asarray(np.c_[train_z, counts], dtype=np.float64)

    def adapt(self, device: str, samples: LatencySamples) -> None:
        """Two-stage fine-tuning of ``device`` on ``samples`` only (see the module docstring).

        Raises:
            DataError: the samples are of another device or outside the search space.
        """
        idx, latency_ms = check_samples(samples, device, len(self._encodings))
        ref, scale, offset = self._calibrate(idx, latency_ms)
        self.training_outputs()
        target = (latency_ms - offset) / scale
        # stage 1: the new device's read-out over the training devices' outputs, fitted on the k labels
        features = self._readout_features()
        readout, penalty = ridge_loo(features[idx], target, self._settings.ridge_penalties)
        stage1 = features @ readout[:-1] + readout[-1]
        fit = _Adapted(ref, scale, offset, latency_floor_ms(latency_ms), stage1)
        fit.meta = {"ridge_penalty": penalty, "samples": int(idx.size), "stage2": False}
        fit.arrays = {"readout": readout}
        n_pseudo = min(self._settings.pseudo_labels, len(self._encodings) - idx.size)
        if n_pseudo > 0:
            embedding, head, z = self._stage2(device, idx, target, stage1, ref, n_pseudo)
            fit.z = z
            fit.meta["stage2"] = True
            fit.meta["pseudo_labels"] = n_pseudo
            fit.arrays.update({"embedding": embedding, **{f"head/{k}": v for k, v in head.items()}})
        self._adapted[device] = fit

    def _stage2(
        self,
        device: str,
        idx: npt.NDArray[np.int64],
        target: npt.NDArray[np.float64],
        stage1: npt.NDArray[np.float64],
        ref: int,
        n_pseudo: int,
    ) -> tuple[npt.NDArray[np.float32], dict[str, npt.NDArray[np.float32]], npt.NDArray[np.float64]]:
        import torch

        from cpnkit.estimate.predictors.gcn import state_to_numpy

        net, cells_all, _ = self._ensure()
        # a seed per (predictor seed, device): the unlabelled draw does not depend on adaptation order
        rng = np.random.default_rng([self._seed, zlib.crc32(device.encode())])
        labelled = np.zeros(len(self._encodings), dtype=bool)
        labelled[idx] = True
        pseudo = rng.choice(np.flatnonzero(~labelled), size=n_pseudo, replace=False)
        rows = torch.from_numpy(np.r_[idx, pseudo])
        y = torch.from_numpy(np.r_[target, stage1[pseudo]].astype(np.float32))
        weight = torch.ones(rows.numel())
        weight[: idx.size] = self._settings.true_label_weight
        cells = cells_all[rows]
        head = copy.deepcopy(net.head)
        embedding = torch.nn.Parameter(net.device_embedding.weight[ref].detach().clone()[None, :])
        params = [embedding, *head.parameters()]
        opt = torch.optim.Adam(params, lr=self._settings.lr)
        gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
        n = rows.numel()
        batch = min(self._settings.batch, n)
        for _ in range(self._settings.steps):
            pick = torch.randint(n, (batch,), generator=gen)
            out = _head_out(head, cells[pick], embedding)
            loss = (weight[pick] * (out - y[pick]) ** 2).mean()
            opt.zero_grad()
            torch.autograd.backward(loss)
            opt.step()
        with torch.no_grad():
            z = _head_out(head, cells_all, embedding).numpy().astype(np.float64)
        return embedding.detach().numpy()[0].astype(np.float32), state_to_numpy(head), z

    def _restore_z(self, fit: _Adapted) -> npt.NDArray[np.float64]:
        import torch

        from cpnkit.estimate.predictors.gcn import state_from_numpy

        if not fit.meta.get("stage2"):
            readout = np.asarray(fit.arrays["readout"], dtype=np.float64)
            return np.asarray(self._readout_features() @ readout[:-1] + readout[-1], dtype=np.float64)
        net, cells, _ = self._ensure()
        head = copy.deepcopy(net.head)
        state_from_numpy(head, {k[5:]: v for k, v in fit.arrays.items() if k.startswith("head/")})
        embedding = torch.from_numpy(np.asarray(fit.arrays["embedding"], dtype=np.float32)[None, :])
        with torch.no_grad():
            return _head_out(head, cells, embedding).numpy().astype(np.float64)


def _head_out(head: torch.nn.Module, cells: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
    """The head's output ``(B,)`` for cell vectors ``(B, F)`` on one device embedding ``(1, E)``."""
    import torch

    out: torch.Tensor = head(torch.cat([cells, embedding.expand(cells.shape[0], -1)], dim=1)).squeeze(-1)
    return out


# -- brp-nas ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BRPNASSettings:
    """BRP-NAS-style end-to-end training on one device's samples.

    Attributes:
        hidden: GCN width (BRP-NAS uses 600 on 900 samples; few-shot data gets a smaller network).
        layers: GCN rounds.
        steps: Full-batch Adam steps.
        lr: Learning rate.
        weight_decay: AdamW weight decay.
    """

    hidden: int = 128
    layers: int = 4
    steps: int = 1000
    lr: float = 1e-3
    weight_decay: float = 5e-4

    def __post_init__(self) -> None:
        if min(self.hidden, self.layers, self.steps) < 1 or not self.lr > 0 or self.weight_decay < 0:
            raise ConfigError("BRPNASSettings: hidden, layers, steps >= 1, lr > 0, weight_decay >= 0 are required")


class BRPNASPredictor:
    """A GCN trained from scratch on each new device's own samples (no training devices)."""

    method = "brp-nas"

    def __init__(self, encodings: ArchEncodings, settings: BRPNASSettings | None = None, seed: int = 0) -> None:
        self._encodings = encodings
        self._settings = settings or BRPNASSettings()
        self._seed = int(seed)
        self._fits: dict[str, tuple[npt.NDArray[np.float64], float]] = {}
        self._weights: dict[str, dict[str, Any]] = {}

    @property
    def name(self) -> str:
        """Registry id."""
        return self.method

    @property
    def devices(self) -> tuple[str, ...]:
        """Devices trained so far."""
        return tuple(self._fits)

    def adapt(self, device: str, samples: LatencySamples) -> None:
        """Train a fresh GCN on ``samples`` (standardised labels, full batch).

        Raises:
            DataError: the samples are of another device or outside the search space.
        """
        import torch

        from cpnkit.estimate.predictors.gcn import GCNConfig, LatencyNet, state_to_numpy

        idx, latency_ms = check_samples(samples, device, len(self._encodings))
        s = self._settings
        mean, std = float(latency_ms.mean()), float(latency_ms.std()) or 1.0
        y = torch.from_numpy(((latency_ms - mean) / std).astype(np.float32))
        gen = torch.Generator().manual_seed(
            int(np.random.default_rng([self._seed, zlib.crc32(device.encode())]).integers(2**31))
        )
        net = LatencyNet(GCNConfig(s.hidden, s.layers, 8, 1))
        _reinit(net, gen)
        adj, ops = _graphs(self._encodings, idx)
        dev = torch.zeros(1, dtype=torch.long)
        opt = torch.optim.AdamW(net.parameters(), lr=s.lr, weight_decay=s.weight_decay)
        for _ in range(s.steps):
            loss = ((net(adj, ops, dev)[:, 0] - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        self._weights[device] = {"mean": mean, "std": std, "state": state_to_numpy(net)}
        self._fits[device] = (self._run(net, mean, std), latency_floor_ms(latency_ms))

    def _run(self, net: LatencyNet, mean: float, std: float) -> npt.NDArray[np.float64]:
        import torch

        net.eval()
        adj, ops = _graphs(self._encodings)
        with torch.no_grad():
            z = net(adj, ops, torch.zeros(1, dtype=torch.long))[:, 0].numpy().astype(np.float64)
        return np.asarray(z * std + mean, dtype=np.float64)

    def predict(self, archs: ArchIndices, device: str) -> npt.NDArray[np.float64]:
        """Predicted latency in s of ``archs`` on ``device`` (> 0)."""
        if device not in self._fits:
            raise unknown_device(device, self.devices, self.method)
        latency_ms, floor_ms = self._fits[device]
        idx = as_arch_indices(archs, len(self._encodings))
        return np.maximum(latency_ms[idx], floor_ms) / 1e3

    def state(self) -> PredictorState:
        """Per-device networks as plain data."""
        meta = {
            "settings": asdict(self._settings),
            "seed": self._seed,
            "devices": {
                d: {"mean": w["mean"], "std": w["std"], "floor_ms": self._fits[d][1]} for d, w in self._weights.items()
            },
        }
        arrays = {f"device/{d}/{k}": v for d, w in self._weights.items() for k, v in w["state"].items()}
        return PredictorState(self.method, meta, arrays)

    def load_state(self, state: PredictorState) -> None:
        """Restore devices saved by ``state``.

        Raises:
            DataError: the state is of another method or incomplete.
        """
        from cpnkit.estimate.predictors.gcn import GCNConfig, LatencyNet, state_from_numpy

        if state.method != self.method:
            raise DataError(f"state of method {state.method!r} cannot load into {self.method!r}")
        s = self._settings
        for device, info in dict(state.meta.get("devices", {})).items():
            prefix = f"device/{device}/"
            weights = {k[len(prefix) :]: v for k, v in state.arrays.items() if k.startswith(prefix)}
            net = LatencyNet(GCNConfig(s.hidden, s.layers, 8, 1))
            state_from_numpy(net, weights)
            mean, std = float(info["mean"]), float(info["std"])
            self._weights[device] = {"mean": mean, "std": std, "state": weights}
            self._fits[device] = (self._run(net, mean, std), float(info["floor_ms"]))
