"""The torch networks behind the learned predictors: a dense GCN over the 8-node cell graph, plus a device head.

Imported only when a learned predictor is built (``base``, ``tsft``, ``brp-nas``), so ``import cpnkit.estimate``
does not load torch.

Why a dense GCN in plain torch rather than torch-geometric: every graph has exactly 8 nodes, so a batch is two
dense tensors (adjacency ``(B, 8, 8)``, features ``(B, 8, 7)``) and one layer is two batched 8 x 8 matmuls. A
sparse message-passing library would add a heavy dependency, scatter kernels and index bookkeeping for no gain at
this size; the dense form encodes all 15,625 cells in a few hundred milliseconds on two CPU cores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from cpnkit.errors import ConfigError, DataError
from cpnkit.estimate.predictors.encoding import N_NODES, NODE_TYPES

__all__ = ["GCNConfig", "LatencyNet", "graph_tensors", "state_from_numpy", "state_to_numpy"]


@dataclass(frozen=True, slots=True)
class GCNConfig:
    """Sizes of a ``LatencyNet``.

    Attributes:
        hidden: Width of the node features and of the head.
        layers: Message-passing rounds (4 reach the output node from the input along the longest cell path).
        embedding: Size of a device embedding.
        n_devices: Device embeddings held (training devices; 1 for a single-device network).
    """

    hidden: int = 64
    layers: int = 4
    embedding: int = 16
    n_devices: int = 1

    def __post_init__(self) -> None:
        for name in ("hidden", "layers", "embedding", "n_devices"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"GCNConfig.{name}={getattr(self, name)!r} must be an integer >= 1")

    def to_dict(self) -> dict[str, int]:
        """Plain dict (for a model file)."""
        return {k: int(v) for k, v in asdict(self).items()}


class DenseGCN(nn.Module):
    """Graph encoder: node types in, one vector per cell out (the output node's state and the nodes' mean).

    Each round a node combines its own state with the mean of its predecessors' and of its successors' states
    (separate weights per direction: latency flows forward, but which inputs an operation waits on matters too),
    with a residual connection.
    """

    def __init__(self, hidden: int, layers: int) -> None:
        super().__init__()
        self.embed = nn.Linear(len(NODE_TYPES), hidden)
        self.self_w = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers))
        self.pred_w = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(layers))
        self.succ_w = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(layers))
        self.out_dim = 2 * hidden

    def forward(self, adjacency: torch.Tensor, operations: torch.Tensor) -> torch.Tensor:
        """Cell vectors ``(B, 2 * hidden)`` of adjacency ``(B, 8, 8)`` and one-hot operations ``(B, 8, 7)``."""
        pred = adjacency.transpose(1, 2)
        pred = pred / pred.sum(dim=2, keepdim=True).clamp(min=1.0)
        succ = adjacency / adjacency.sum(dim=2, keepdim=True).clamp(min=1.0)
        h = torch.relu(self.embed(operations))
        for w_self, w_pred, w_succ in zip(self.self_w, self.pred_w, self.succ_w, strict=True):
            h = h + torch.relu(w_self(h) + w_pred(pred @ h) + w_succ(succ @ h))
        return torch.cat([h[:, -1], h.mean(dim=1)], dim=1)


class LatencyNet(nn.Module):
    """Normalised latency of (cell, device): GCN cell vector and device embedding, concatenated, through an MLP."""

    def __init__(self, config: GCNConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = DenseGCN(config.hidden, config.layers)
        self.device_embedding = nn.Embedding(config.n_devices, config.embedding)
        nn.init.normal_(self.device_embedding.weight, std=0.1)
        self.head = nn.Sequential(
            nn.Linear(self.encoder.out_dim + config.embedding, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, 1),
        )

    def head_out(self, cells: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        """Outputs ``(B, D)`` for cell vectors ``(B, F)`` on each of ``D`` device embeddings ``(D, E)``."""
        b, d = cells.shape[0], embeddings.shape[0]
        joint = torch.cat([cells[:, None, :].expand(b, d, -1), embeddings[None, :, :].expand(b, d, -1)], dim=2)
        out: torch.Tensor = self.head(joint).squeeze(-1)
        return out

    def forward(self, adjacency: torch.Tensor, operations: torch.Tensor, devices: torch.Tensor) -> torch.Tensor:
        """Outputs ``(B, D)`` of a batch of cells on the devices with embedding ids ``devices`` ``(D,)``."""
        return self.head_out(self.encoder(adjacency, operations), self.device_embedding(devices))


def graph_tensors(
    adjacency: npt.NDArray[np.uint8], operations: npt.NDArray[np.uint8]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Float tensors of encoded cells (``ArchEncodings.adjacency[idx]``, ``.operations[idx]``)."""
    if adjacency.shape[1:] != (N_NODES, N_NODES) or operations.shape[1:] != (N_NODES, len(NODE_TYPES)):
        raise DataError(f"cell tensors of shape {adjacency.shape} and {operations.shape} are not encoded cells")
    return torch.from_numpy(adjacency.astype(np.float32)), torch.from_numpy(operations.astype(np.float32))


def state_to_numpy(module: nn.Module) -> dict[str, npt.NDArray[np.float32]]:
    """A module's parameters as float32 numpy arrays (a model file stores these, not a pickle)."""
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in module.state_dict().items()}


def state_from_numpy(module: nn.Module, state: Mapping[str, Any]) -> None:
    """Load numpy arrays into ``module``.

    Raises:
        DataError: a parameter is missing, extra, or of the wrong shape (the weights belong to another network).
    """
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    if missing or extra:
        raise DataError(f"weights do not fit the network: missing {missing}, unexpected {extra}")
    tensors = {}
    for key, value in state.items():
        arr = np.asarray(value, dtype=np.float32)
        if tuple(arr.shape) != tuple(own[key].shape):
            raise DataError(f"weight {key!r} has shape {arr.shape}, the network needs {tuple(own[key].shape)}")
        tensors[key] = torch.from_numpy(arr.copy())
    module.load_state_dict(tensors)
