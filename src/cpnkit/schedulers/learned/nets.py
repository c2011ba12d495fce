"""The torch networks of the learned schedulers: SyncGNN (RLMS-CPN §3.4.3), its MLP ablation, and the heads.

Imported only when an agent is built (:func:`cpnkit.schedulers.learned.make_agent`), so ``import
cpnkit.schedulers`` does not load torch. Every module works on the padded candidate-graph layout of
:mod:`cpnkit.schedulers.features`, batched: ``node (B, n, Fn)``, ``path (B, n, k, Fp)``, ``task (B, Ft)``,
``node_mask (B, n)``, ``path_mask (B, n, k)`` (float 0/1).

Why plain torch rather than PyTorch Geometric: the graph is a fixed star per compute vertex (``n`` x ``k`` path
vertices), so one SyncGNN round is a handful of batched dense matmuls and a masked sum over the path axis; a
sparse library would add scatter kernels and edge-index bookkeeping for nothing at this size. Measured
(``benchmarks/bench_syncgnn_pyg.py``, README): the same round as a PyG ``MessagePassing`` layer gives the same
features and takes p50 0.29 ms per decision against 0.25 ms for this module and 0.08 ms for the numpy inference.

:mod:`cpnkit.schedulers.learned.numpy_nets` mirrors every forward pass in numpy (the same parameter names) for
inference without torch's per-call overhead; a test checks the two agree.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ActorNet", "CriticNet", "MLPEncoder", "QNet", "SyncGNN", "make_encoder", "reinit", "relative_inputs"]

#: Logit given to a masked-out action (finite, so ``p * log p`` stays 0 for it).
MASKED_LOGIT = -1e9


#: Scale of the relative features (differences to the best real vertex are small in the features' units).
RELATIVE_SCALE = 10.0


def relative_inputs(
    node: torch.Tensor, path: torch.Tensor, node_mask: torch.Tensor, path_mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Node and path features joined with their differences to the smallest real value, x ``RELATIVE_SCALE``.

    Each node feature is compared over the real compute vertices, each path feature over the real paths of the
    same compute vertex; padded entries get 0. Which candidate or path is best is a comparison, and the raw
    differences (a few ms in units of 100 ms) are too small for the first layer to see quickly.
    """
    big = torch.finfo(node.dtype).max
    node_min = torch.where(node_mask[..., None] > 0, node, torch.full_like(node, big)).amin(dim=1, keepdim=True)
    node_rel = (node - node_min) * RELATIVE_SCALE * node_mask[..., None]
    path_min = torch.where(path_mask[..., None] > 0, path, torch.full_like(path, big)).amin(dim=2, keepdim=True)
    path_min = torch.where(path_min == big, torch.zeros_like(path_min), path_min)  # padded vertex: no real path
    path_rel = (path - path_min) * RELATIVE_SCALE * path_mask[..., None]
    return torch.cat((node, node_rel), dim=-1), torch.cat((path, path_rel), dim=-1)


class SyncGNN(nn.Module):
    """One round of SyncGNN message passing from path vertices to compute vertices (paper eqs. 4-5).

    Compute vertex ``i`` starts from its node features and the task features, path vertex ``(i, j)`` from its
    path features (both joined with their relative values, :func:`relative_inputs`);
    ``m_i = sum_j path_mask[i, j] * M([h_i^c, h_ij^p])`` and ``h_i^c' = U([h_i^c, m_i])``, with ``M`` and ``U``
    two-layer MLPs. Padded paths contribute nothing; padded compute vertices come out as zeros.

    Args:
        f_node: Node features per compute vertex.
        f_path: Features per path vertex.
        f_task: Task features.
        hidden: Width of every vertex embedding.
    """

    def __init__(self, f_node: int, f_path: int, f_task: int, hidden: int) -> None:
        super().__init__()
        self.node_in = nn.Linear(2 * f_node + f_task, hidden)
        self.path_in = nn.Linear(2 * f_path, hidden)
        self.message1 = nn.Linear(2 * hidden, hidden)
        self.message2 = nn.Linear(hidden, hidden)
        self.update1 = nn.Linear(2 * hidden, hidden)
        self.update2 = nn.Linear(hidden, hidden)

    def forward(
        self,
        node: torch.Tensor,
        path: torch.Tensor,
        task: torch.Tensor,
        node_mask: torch.Tensor,
        path_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Fused compute-vertex features ``(B, n, H)`` and path-vertex features ``(B, n, k, H)``."""
        relu = torch.relu
        n, k = node.shape[1], path.shape[2]
        node, path = relative_inputs(node, path, node_mask, path_mask)
        x = torch.cat((node, task[:, None, :].expand(-1, n, -1)), dim=-1)
        h_c = relu(self.node_in(x))
        h_p = relu(self.path_in(path)) * path_mask[..., None]
        pair = torch.cat((h_c[:, :, None, :].expand(-1, -1, k, -1), h_p), dim=-1)
        msg = relu(self.message2(relu(self.message1(pair))))
        m = (msg * path_mask[..., None]).sum(dim=2)
        fused = relu(self.update2(relu(self.update1(torch.cat((h_c, m), dim=-1)))))
        return fused * node_mask[..., None], h_p


class MLPEncoder(nn.Module):
    """The Table 4 ablation: an MLP over the flattened graph in place of SyncGNN's message passing.

    The flattened node, path, task and mask arrays go through a three-layer MLP whose output is reshaped to one
    embedding per compute vertex; path vertices get the same per-path embedding as in SyncGNN. Same outputs, same
    heads: only the fusion differs (and this encoder is tied to the vertex order, which SyncGNN is not).

    Args:
        f_node: Node features per compute vertex.
        f_path: Features per path vertex.
        f_task: Task features.
        hidden: Width of every vertex embedding.
        n: Compute-vertex slots.
        k: Path slots per compute vertex.
        width: Width of the MLP's hidden layers.
    """

    def __init__(self, f_node: int, f_path: int, f_task: int, hidden: int, n: int, k: int, width: int) -> None:
        super().__init__()
        flat = 2 * n * f_node + 2 * n * k * f_path + f_task + n + n * k
        self.hidden = hidden
        self.path_in = nn.Linear(2 * f_path, hidden)
        self.mlp1 = nn.Linear(flat, width)
        self.mlp2 = nn.Linear(width, width)
        self.mlp3 = nn.Linear(width, n * hidden)

    def forward(
        self,
        node: torch.Tensor,
        path: torch.Tensor,
        task: torch.Tensor,
        node_mask: torch.Tensor,
        path_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Compute-vertex features ``(B, n, H)`` and path-vertex features ``(B, n, k, H)``."""
        relu = torch.relu
        b, n = node.shape[0], node.shape[1]
        node, path = relative_inputs(node, path, node_mask, path_mask)
        flat = torch.cat(
            (node.reshape(b, -1), path.reshape(b, -1), task, node_mask.reshape(b, -1), path_mask.reshape(b, -1)),
            dim=-1,
        )
        z = relu(self.mlp3(relu(self.mlp2(relu(self.mlp1(flat))))))
        h_c = z.reshape(b, n, self.hidden) * node_mask[..., None]
        h_p = relu(self.path_in(path)) * path_mask[..., None]
        return h_c, h_p


def make_encoder(kind: str, f_node: int, f_path: int, f_task: int, hidden: int, n: int, k: int) -> nn.Module:
    """``"syncgnn"`` or ``"mlp"`` (the MLP's hidden layers are ``2 * hidden`` wide)."""
    if kind == "syncgnn":
        return SyncGNN(f_node, f_path, f_task, hidden)
    return MLPEncoder(f_node, f_path, f_task, hidden, n, k, 2 * hidden)


class ActorNet(nn.Module):
    """Node agent and split agent over one encoder.

    ``node_logits``: a two-layer head on each fused compute vertex, masked. ``split_concentration``: a two-layer
    head on each path vertex joined with its compute vertex's fused feature; ``softplus + floor``, masked to 0.
    """

    def __init__(self, encoder: nn.Module, hidden: int, floor: float) -> None:
        super().__init__()
        self.encoder = encoder
        self.floor = floor
        self.node1 = nn.Linear(hidden, hidden)
        self.node2 = nn.Linear(hidden, 1)
        self.split1 = nn.Linear(2 * hidden, hidden)
        self.split2 = nn.Linear(hidden, 1)

    def forward(
        self,
        node: torch.Tensor,
        path: torch.Tensor,
        task: torch.Tensor,
        node_mask: torch.Tensor,
        path_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked node logits ``(B, n)`` and Dirichlet concentrations ``(B, n, k)`` (0 on padded paths)."""
        h_c, h_p = self.encoder(node, path, task, node_mask, path_mask)
        logits = self.node2(torch.relu(self.node1(h_c))).squeeze(-1)
        logits = torch.where(node_mask > 0, logits, torch.full_like(logits, MASKED_LOGIT))
        k = h_p.shape[2]
        pair = torch.cat((h_p, h_c[:, :, None, :].expand(-1, -1, k, -1)), dim=-1)
        conc = nn.functional.softplus(self.split2(torch.relu(self.split1(pair))).squeeze(-1)) + self.floor
        return logits, conc * path_mask


class CriticNet(nn.Module):
    """State value ``V(s)`` from the masked mean of the fused compute vertices (its own encoder)."""

    def __init__(self, encoder: nn.Module, hidden: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.value1 = nn.Linear(hidden, hidden)
        self.value2 = nn.Linear(hidden, 1)

    def forward(
        self,
        node: torch.Tensor,
        path: torch.Tensor,
        task: torch.Tensor,
        node_mask: torch.Tensor,
        path_mask: torch.Tensor,
    ) -> torch.Tensor:
        """``V(s)``, shape ``(B,)``."""
        h_c, _ = self.encoder(node, path, task, node_mask, path_mask)
        pooled = h_c.sum(dim=1) / node_mask.sum(dim=1, keepdim=True).clamp(min=1.0)
        out: torch.Tensor = self.value2(torch.relu(self.value1(pooled))).squeeze(-1)
        return out


class QNet(nn.Module):
    """GNN+DQN's Q-head: for every compute vertex, one value per split option, masked.

    Options per vertex ``i``: all data on path ``j`` (``k`` options, from path vertex ``(i, j)`` joined with the
    fused vertex), then an equal split and a split proportional to probed bandwidth (from the fused vertex).
    Output ``(B, n, k + 2)``; invalid options (padded vertex or path) get ``MASKED_LOGIT``.
    """

    def __init__(self, encoder: nn.Module, hidden: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.path1 = nn.Linear(2 * hidden, hidden)
        self.path2 = nn.Linear(hidden, 1)
        self.mix1 = nn.Linear(hidden, hidden)
        self.mix2 = nn.Linear(hidden, 2)

    def forward(
        self,
        node: torch.Tensor,
        path: torch.Tensor,
        task: torch.Tensor,
        node_mask: torch.Tensor,
        path_mask: torch.Tensor,
    ) -> torch.Tensor:
        """Q-values ``(B, n, k + 2)``, masked."""
        h_c, h_p = self.encoder(node, path, task, node_mask, path_mask)
        k = h_p.shape[2]
        pair = torch.cat((h_p, h_c[:, :, None, :].expand(-1, -1, k, -1)), dim=-1)
        q_path = self.path2(torch.relu(self.path1(pair))).squeeze(-1)
        q_mix = self.mix2(torch.relu(self.mix1(h_c)))
        q = torch.cat((q_path, q_mix), dim=-1)
        valid = torch.cat((path_mask, node_mask[..., None].expand(-1, -1, 2)), dim=-1) * node_mask[..., None]
        return torch.where(valid > 0, q, torch.full_like(q, MASKED_LOGIT))


def reinit(net: nn.Module, gen: torch.Generator) -> None:
    """Re-draw every parameter from a seeded generator (torch's default init draws from the global RNG).

    Weights: uniform with torch's default Linear bound ``1 / sqrt(fan_in)`` (Kaiming-uniform with a=sqrt(5));
    biases: zero.
    """
    with torch.no_grad():
        for param in net.parameters():
            if param.ndim >= 2:
                bound = 1.0 / math.sqrt(param.shape[1])
                param.uniform_(-bound, bound, generator=gen)
            else:
                param.zero_()
