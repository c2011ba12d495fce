"""Numpy forward passes of :mod:`cpnkit.schedulers.learned.nets`, for inference on one observation.

A decision needs one forward pass over a 5 x 3 graph: a dozen tiny matmuls. In numpy that costs tens of
microseconds; in torch, the per-op dispatch overhead makes the same pass several times slower. The functions
take the networks' parameters by their torch names (``state_dict`` keys, as float32 arrays) and one unbatched
observation; a test checks they equal the torch forward.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["actor_forward", "critic_forward", "encoder_forward", "q_forward"]

Array = npt.NDArray[np.float32]
Weights = Mapping[str, npt.NDArray[Any]]

MASKED_LOGIT = np.float32(-1e9)


def _lin(w: Weights, name: str, x: Array) -> Array:
    out: Array = x @ w[f"{name}.weight"].T + w[f"{name}.bias"]
    return out


def _relu(x: Array) -> Array:
    return np.maximum(x, np.float32(0.0))


RELATIVE_SCALE = np.float32(10.0)


def relative_inputs(node: Array, path: Array, nmask: Array, pmask: Array) -> tuple[Array, Array]:
    """``nets.relative_inputs`` for one observation."""
    big = np.finfo(np.float32).max
    node_min = np.where(nmask[:, None] > 0, node, big).min(axis=0, keepdims=True)
    node_rel = (node - node_min) * RELATIVE_SCALE * nmask[:, None]
    path_min = np.where(pmask[..., None] > 0, path, big).min(axis=1, keepdims=True)
    path_min = np.where(path_min == big, np.float32(0.0), path_min)  # a padded vertex has no real path
    path_rel = (path - path_min) * RELATIVE_SCALE * pmask[..., None]
    return (
        np.concatenate((node, node_rel), axis=-1).astype(np.float32),
        np.concatenate((path, path_rel), axis=-1).astype(np.float32),
    )


def encoder_forward(w: Weights, prefix: str, obs: Mapping[str, npt.NDArray[Any]]) -> tuple[Array, Array]:
    """Fused compute-vertex features ``(n, H)`` and path-vertex features ``(n, k, H)`` of one observation.

    Args:
        w: Parameters by torch name.
        prefix: Name of the encoder module (``"encoder"``).
        obs: ``node``, ``path``, ``task``, ``node_mask``, ``path_mask`` of one candidate graph.
    """
    node = np.asarray(obs["node"], dtype=np.float32)
    path = np.asarray(obs["path"], dtype=np.float32)
    task = np.asarray(obs["task"], dtype=np.float32)
    nmask = np.asarray(obs["node_mask"], dtype=np.float32)
    pmask = np.asarray(obs["path_mask"], dtype=np.float32)
    p = prefix + "."
    node, path = relative_inputs(node, path, nmask, pmask)
    h_p = _relu(_lin(w, p + "path_in", path)) * pmask[..., None]
    n, k = node.shape[0], path.shape[1]
    if p + "node_in.weight" in w:  # SyncGNN
        h_c = _relu(_lin(w, p + "node_in", np.concatenate((node, np.broadcast_to(task, (n, task.size))), axis=-1)))
        pair = np.concatenate((np.broadcast_to(h_c[:, None, :], (n, k, h_c.shape[-1])), h_p), axis=-1)
        msg = _relu(_lin(w, p + "message2", _relu(_lin(w, p + "message1", pair))))
        m = (msg * pmask[..., None]).sum(axis=1)
        fused = _relu(_lin(w, p + "update2", _relu(_lin(w, p + "update1", np.concatenate((h_c, m), axis=-1)))))
        return fused * nmask[:, None], h_p
    flat = np.concatenate((node.ravel(), path.ravel(), task, nmask, pmask.ravel()))
    z = _relu(_lin(w, p + "mlp3", _relu(_lin(w, p + "mlp2", _relu(_lin(w, p + "mlp1", flat))))))
    return z.reshape(n, -1) * nmask[:, None], h_p


def _softplus(x: Array) -> Array:
    out: Array = np.logaddexp(np.float32(0.0), x).astype(np.float32)
    return out


def actor_forward(w: Weights, obs: Mapping[str, npt.NDArray[Any]], floor: float) -> tuple[Array, Array]:
    """Masked node logits ``(n,)`` and Dirichlet concentrations ``(n, k)`` (0 on padded paths)."""
    h_c, h_p = encoder_forward(w, "encoder", obs)
    logits = _lin(w, "node2", _relu(_lin(w, "node1", h_c)))[:, 0]
    nmask = np.asarray(obs["node_mask"]) > 0
    logits = np.where(nmask, logits, MASKED_LOGIT)
    k = h_p.shape[1]
    pair = np.concatenate((h_p, np.broadcast_to(h_c[:, None, :], (h_c.shape[0], k, h_c.shape[1]))), axis=-1)
    conc = _softplus(_lin(w, "split2", _relu(_lin(w, "split1", pair)))[..., 0]) + np.float32(floor)
    return logits.astype(np.float32), (conc * np.asarray(obs["path_mask"], dtype=np.float32)).astype(np.float32)


def critic_forward(w: Weights, obs: Mapping[str, npt.NDArray[Any]]) -> float:
    """``V(s)`` of one observation."""
    h_c, _ = encoder_forward(w, "encoder", obs)
    count = max(float(np.asarray(obs["node_mask"], dtype=np.float32).sum()), 1.0)
    pooled = h_c.sum(axis=0) / np.float32(count)
    return float(_lin(w, "value2", _relu(_lin(w, "value1", pooled)))[0])


def q_forward(w: Weights, obs: Mapping[str, npt.NDArray[Any]]) -> Array:
    """Q-values ``(n, k + 2)`` of one observation, invalid options at ``MASKED_LOGIT``."""
    h_c, h_p = encoder_forward(w, "encoder", obs)
    n, k = h_p.shape[0], h_p.shape[1]
    pair = np.concatenate((h_p, np.broadcast_to(h_c[:, None, :], (n, k, h_c.shape[1]))), axis=-1)
    q_path = _lin(w, "path2", _relu(_lin(w, "path1", pair)))[..., 0]
    q_mix = _lin(w, "mix2", _relu(_lin(w, "mix1", h_c)))
    q = np.concatenate((q_path, q_mix), axis=-1)
    nmask = np.asarray(obs["node_mask"], dtype=np.float32)
    valid = np.concatenate((np.asarray(obs["path_mask"], dtype=np.float32), np.repeat(nmask[:, None], 2, 1)), -1)
    valid = valid * nmask[:, None]
    out: Array = np.where(valid > 0, q, MASKED_LOGIT).astype(np.float32)
    return out
