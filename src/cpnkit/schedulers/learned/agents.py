"""The learning agents: RLMS-CPN's actor-critic (Algorithm 1), its MLP ablation, and the GNN+DQN baseline.

**rlms-cpn** (``ActorCriticAgent`` over SyncGNN). The node agent is a categorical over the real candidates
(masked logits from the fused compute vertices); the split agent a Dirichlet over the chosen node's real paths
(concentrations ``softplus + floor`` from each path vertex joined with its fused node); the critic ``V(s)`` reads
the mean of the fused compute vertices through its own SyncGNN. One-step TD as in Algorithm 1:
``y = r + gamma * V(s')`` (``V = 0`` after the last task), ``delta = y - V(s)``; the critic descends
``(y - V(s))^2 / 2`` (eq. 12: ``phi += alpha * delta * grad V``) and each agent ascends
``delta * log pi`` (eqs. 14-15; the split's log-density is taken at the split the Dirichlet drew, the action's
``sample``, not at the executed split with its small shares dropped) with its own learning rate (``policy_lr`` =
beta_c, ``split_lr`` = beta_p, ``value_lr`` = alpha). The paper writes ``delta = Q_t - y_t`` (eq. 11); with that
sign eqs. 12 and 14 would *ascend* the critic's error and reward worse actions, so the sign here is the one under
which the written updates descend the critic loss and ascend the policy objective. The shared SyncGNN of the actor
learns at ``policy_lr``; ``entropy`` adds an entropy bonus to both agents; ``batch > 1`` averages the update over that
many consecutive transitions (``batch = 1`` is Algorithm 1's per-step update).

Rewards arrive as minus seconds (the env's ``-response`` or ``-integral of tasks in system``); the agents divide
them by ``reward_scale_s`` (default ``TIME_SCALE_S`` = 0.1 s, the features' time unit), so a 20 ms task is a
reward of -0.2.

**rlms-mlp**: everything the same but the encoder is an MLP over the flattened graph (paper Table 4).

**gnn-dqn** (``DQNAgent``, the paper's ref. [8]): the same SyncGNN with a Q-head over a discrete action set,
per real compute vertex: all data on path ``j`` (one per real path), an equal split, and a split proportional to
the probed available bandwidth; epsilon-greedy, replay buffer, target network, Huber loss. The paper says only
that ref. [8]'s reward "mainly involves bandwidth, which does not directly optimise transmission latency" (§4.2.1);
so by default (``reward="bandwidth"``) the agent ignores the env's latency reward and is rewarded with
``log10`` of the effective bandwidth of its split in Mbit/s: input bits over the time the split needs at the
probed available bandwidths, i.e. ``1 / max_j (split_j / available_j)``, computed from the observation.
``reward="env"`` uses the env's reward instead (scaled as above).

Agents own no RNG for acting (``act`` takes one); the DQN's replay sampling uses a generator seeded at
construction. Inference runs in numpy on views of the torch parameters (:mod:`.numpy_nets`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from cpnkit.errors import CheckpointError, ConfigError, UnknownSchedulerError, did_you_mean
from cpnkit.schedulers.agent import Action, Observation
from cpnkit.schedulers.features import NODE_FEATURES, PATH_FEATURES, TASK_FEATURES, TIME_SCALE_S
from cpnkit.schedulers.learned import numpy_nets

if TYPE_CHECKING:
    import torch

__all__ = [
    "AGENT_IDS",
    "ActorCriticAgent",
    "ActorCriticHyper",
    "DQNAgent",
    "DQNHyper",
    "agent_from_state",
    "make_agent",
]

#: Ids of the learning agents (and of the schedulers wrapping them).
AGENT_IDS: tuple[str, ...] = ("rlms-cpn", "rlms-mlp", "gnn-dqn")
#: ``format`` field of every agent state.
STATE_FORMAT = "cpnkit-agent/1"
OBS_KEYS: tuple[str, ...] = ("node", "path", "task", "node_mask", "path_mask")
#: Smallest split ratio a sampled Dirichlet split keeps (keeps its log-density finite).
MIN_RATIO = 1e-6


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - the learn extra is optional
        raise ConfigError(
            "the learned schedulers (rlms-cpn, rlms-mlp, gnn-dqn) need torch; install the extra: "
            "pip install 'cpnkit[learn]'"
        ) from exc
    return torch


def feature_layout() -> dict[str, list[str]]:
    """The feature names an agent's weights are tied to (from :mod:`cpnkit.schedulers.features`)."""
    return {"node": list(NODE_FEATURES), "path": list(PATH_FEATURES), "task": list(TASK_FEATURES)}


# -- hyper-parameters ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActorCriticHyper:
    """Hyper-parameters of rlms-cpn / rlms-mlp.

    The paper's values (Tables 8-10) are ``policy_lr=0.1, value_lr=0.1, gamma=0.99`` with plain SGD and
    per-step updates: ``ActorCriticHyper.paper()``. They are not the defaults because they do not train in our
    simulator: ``benchmarks/bench_rl_sensitivity.py`` (abilene, tcp, 3 training seeds x 20,000 steps) saw every
    Tables 8-10 variant of the paper's setting diverge to non-finite weights within its first 100 steps (26 of 27
    runs; the last stayed at the untrained policy), while these defaults (Adam, batches of 16, gradient clipping,
    an entropy bonus) learned on every seed (README, "Hyper-parameter sensitivity").

    ``split_lr=3e-4`` (the split agent learning slower than the node agent) keeps training stable under ``tcp``:
    with the split agent at ``policy_lr`` its Dirichlet concentrations kept growing after the policy had
    converged to single-path splits, until the greedy split crossed ``min_share`` on the other paths and used
    all three (each subflow pays its own slow start), so the validation response went back to the untrained
    level. Abilene, isolated, tcp, 30,000 steps, final greedy policy on scenarios 0-4 (50 tasks; README
    "Training stability under tcp"): split lr 1e-3, 5 seeds: 101.9 ms mean, 2 of 5 runs ending 1.8-2.5x above
    their best validation; split lr 3e-4: 67.0 +/- 2.7 ms, all 5 ending within 1% of their best validation
    (best-validation policies 67.0 ms, vs 66.2 ms for the old defaults on seeds 0-2).

    Attributes:
        policy_lr: beta_c, the node agent's (and the actor's SyncGNN's) learning rate.
        split_lr: beta_p, the split agent's learning rate (``0``: same as ``policy_lr``).
        value_lr: alpha, the critic's learning rate.
        gamma: Discount factor.
        optimizer: ``"sgd"`` (the paper's plain gradient steps), ``"adam"`` or ``"rmsprop"``.
        hidden: Width of every vertex embedding and head.
        entropy: Entropy-bonus coefficient of both agents (0: none, as in the paper).
        floor: Smallest Dirichlet concentration.
        reward_scale_s: Rewards (minus seconds) are divided by this, in s.
        batch: Consecutive transitions per update (1: Algorithm 1's per-step update).
        max_grad_norm: Gradient-norm clip per network (0: none).
        min_share: Split ratios below this are dropped from the action (0: keep every path). A transfer ends
            with its slowest subflow, so even 1% of the data on a long path costs that path's whole delay;
            a Dirichlet sample or mean never has exact zeros.
    """

    policy_lr: float = 1e-3
    split_lr: float = 3e-4
    value_lr: float = 1e-3
    gamma: float = 0.9
    optimizer: Literal["sgd", "adam", "rmsprop"] = "adam"
    hidden: int = 32
    entropy: float = 0.03
    floor: float = 0.1
    reward_scale_s: float = TIME_SCALE_S
    batch: int = 16
    max_grad_norm: float = 1.0
    min_share: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_share < 1.0:
            raise ConfigError(f"min_share={self.min_share!r} must be in [0, 1)")
        for name in ("policy_lr", "value_lr", "reward_scale_s", "floor"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ConfigError(f"{name}={getattr(self, name)!r} must be a finite number > 0")
        for name in ("split_lr", "entropy", "max_grad_norm"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ConfigError(f"{name}={getattr(self, name)!r} must be a finite number >= 0")
        if not 0.0 <= self.gamma <= 1.0:
            raise ConfigError(f"gamma={self.gamma!r} must be in [0, 1]")
        if self.optimizer not in ("sgd", "adam", "rmsprop"):
            raise ConfigError(f"optimizer={self.optimizer!r} must be 'sgd', 'adam' or 'rmsprop'")
        for name in ("hidden", "batch"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ConfigError(f"{name}={getattr(self, name)!r} must be an integer >= 1")

    @classmethod
    def paper(cls) -> ActorCriticHyper:
        """The paper's best setting (Tables 8-10): SGD, lr 0.1 / 0.1, gamma 0.99, per-step updates, no extras."""
        return cls(
            policy_lr=0.1,
            value_lr=0.1,
            gamma=0.99,
            optimizer="sgd",
            entropy=0.0,
            batch=1,
            max_grad_norm=0.0,
            min_share=0.0,
            split_lr=0.0,
        )


@dataclass(frozen=True, slots=True)
class DQNHyper:
    """Hyper-parameters of gnn-dqn.

    Attributes:
        lr: Learning rate (Adam).
        gamma: Discount factor.
        hidden: Width of every vertex embedding and head.
        batch: Replayed transitions per update.
        buffer: Replay capacity, in transitions.
        learn_start: Transitions stored before the first update.
        target_every: Updates between copies of the online network into the target network.
        eps_start: Exploration rate at the first step.
        eps_end: Exploration rate after ``eps_decay_steps``.
        eps_decay_steps: Steps of the linear epsilon schedule.
        reward: ``"bandwidth"`` (ref. [8]'s kind of reward, computed from the observation) or ``"env"``.
        reward_scale_s: Env rewards (minus seconds) are divided by this, in s (``reward="env"``).
        max_grad_norm: Gradient-norm clip (0: none).
    """

    lr: float = 1e-3
    gamma: float = 0.9
    hidden: int = 32
    batch: int = 32
    buffer: int = 10_000
    learn_start: int = 200
    target_every: int = 250
    eps_start: float = 1.0
    eps_end: float = 0.05
    eps_decay_steps: int = 3_000
    reward: Literal["bandwidth", "env"] = "bandwidth"
    reward_scale_s: float = TIME_SCALE_S
    max_grad_norm: float = 10.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lr) and self.lr > 0 and self.reward_scale_s > 0):
            raise ConfigError(f"lr={self.lr!r} and reward_scale_s={self.reward_scale_s!r} must be > 0")
        if not 0.0 <= self.gamma <= 1.0:
            raise ConfigError(f"gamma={self.gamma!r} must be in [0, 1]")
        if not (0.0 <= self.eps_end <= self.eps_start <= 1.0):
            raise ConfigError(f"need 0 <= eps_end ({self.eps_end}) <= eps_start ({self.eps_start}) <= 1")
        for name in ("hidden", "batch", "buffer", "target_every", "eps_decay_steps"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ConfigError(f"{name}={getattr(self, name)!r} must be an integer >= 1")
        if not (isinstance(self.learn_start, int) and self.learn_start >= 0):
            raise ConfigError(f"learn_start={self.learn_start!r} must be an integer >= 0")
        if self.reward not in ("bandwidth", "env"):
            raise ConfigError(f"reward={self.reward!r} must be 'bandwidth' or 'env'")
        if not self.max_grad_norm >= 0:
            raise ConfigError(f"max_grad_norm={self.max_grad_norm!r} must be >= 0")


# -- helpers ---------------------------------------------------------------------------------------------------


def _check_obs(obs: Observation, n: int, k: int) -> None:
    for key in OBS_KEYS:
        if key not in obs:
            raise ConfigError(f"observation lacks {key!r}; expected the keys {', '.join(OBS_KEYS)}")
    if obs["node_mask"].shape != (n,) or obs["path_mask"].shape != (n, k):
        raise ConfigError(
            f"observation has node_mask {obs['node_mask'].shape} and path_mask {obs['path_mask'].shape}; this "
            f"agent was built for n={n} candidates and k={k} paths"
        )
    if not np.any(obs["node_mask"]):
        raise ConfigError("observation has no real candidate (node_mask all 0); nothing to choose")


def _batch(torch: Any, observations: list[Observation]) -> tuple[Any, ...]:
    """Stack observations into float32 tensors in ``OBS_KEYS`` order."""
    return tuple(
        torch.from_numpy(np.stack([np.asarray(o[key], dtype=np.float32) for o in observations])) for key in OBS_KEYS
    )


def _make_optimizer(torch: Any, kind: str, groups: list[dict[str, Any]]) -> Any:
    if kind == "sgd":
        return torch.optim.SGD(groups)
    if kind == "rmsprop":
        return torch.optim.RMSprop(groups)
    return torch.optim.Adam(groups)


def _state_dict_numpy(module: torch.nn.Module) -> dict[str, npt.NDArray[np.float32]]:
    """Numpy *views* of a module's parameters (in-place optimiser steps show through)."""
    return {name: p.detach().numpy() for name, p in module.state_dict(keep_vars=True).items()}


def _state_header(agent: ActorCriticAgent | DQNAgent) -> dict[str, Any]:
    """The part of every agent's state that :func:`_check_header` checks on load, plus its counters."""
    return {
        "format": STATE_FORMAT,
        "id": agent.id,
        "n": agent.n,
        "k": agent.k,
        "features": feature_layout(),
        "hyper": asdict(agent.hyper),
        "steps": agent.steps,
        "updates": agent.updates,
    }


def _weights(module: Any) -> dict[str, Any]:
    """A detached copy of a module's weights (plain tensors for a checkpoint)."""
    return {key: value.detach().clone() for key, value in module.state_dict().items()}


def _pack_obs(observations: list[Observation]) -> dict[str, Any]:
    """Stack observations into one tensor per key (plain data for a ``weights_only`` checkpoint)."""
    torch = _torch()
    return {key: torch.from_numpy(np.stack([np.asarray(o[key]) for o in observations])) for key in OBS_KEYS}


def _unpack_obs(packed: Any, count: int, what: str) -> list[Observation]:
    if count == 0:
        return []
    if not isinstance(packed, Mapping) or set(packed) != set(OBS_KEYS):
        raise CheckpointError(f"checkpoint {what} observations must be a mapping with keys {', '.join(OBS_KEYS)}")
    arrays = {
        key: np.asarray(packed[key].numpy() if hasattr(packed[key], "numpy") else packed[key]) for key in OBS_KEYS
    }
    if any(len(a) != count for a in arrays.values()):
        raise CheckpointError(f"checkpoint {what} holds {count} transitions but observation arrays of other lengths")
    return [{key: arrays[key][i].copy() for key in OBS_KEYS} for i in range(count)]


def _pack_transitions(items: list[tuple[Observation, Any, float, Observation | None, bool]]) -> dict[str, Any]:
    """Transitions ``(obs, action, reward, next_obs, done)`` as stacked tensors (action: an Action or an int)."""
    torch = _torch()
    if not items:
        return {"count": 0}
    out: dict[str, Any] = {
        "count": len(items),
        "obs": _pack_obs([t[0] for t in items]),
        "next_obs": _pack_obs([t[3] if t[3] is not None else t[0] for t in items]),
        "has_next": torch.tensor([t[3] is not None for t in items]),
        "reward": torch.tensor([t[2] for t in items], dtype=torch.float64),
        "done": torch.tensor([t[4] for t in items]),
    }
    if isinstance(items[0][1], Mapping):
        out["node"] = torch.tensor([int(t[1]["node"]) for t in items])
        out["split"] = torch.from_numpy(np.stack([np.asarray(t[1]["split"]) for t in items]))
        out["sample"] = torch.from_numpy(np.stack([np.asarray(t[1].get("sample", t[1]["split"])) for t in items]))
    else:
        out["option"] = torch.tensor([int(t[1]) for t in items])
    return out


def _unpack_transitions(packed: Any, what: str) -> list[tuple[Observation, Any, float, Observation | None, bool]]:
    """Inverse of :func:`_pack_transitions`.

    Raises:
        CheckpointError: the packed data is malformed.
    """
    if not isinstance(packed, Mapping) or not isinstance(packed.get("count"), int) or packed["count"] < 0:
        raise CheckpointError(f"checkpoint {what} must be a mapping with an integer count >= 0")
    count = int(packed["count"])
    if count == 0:
        return []
    try:
        obs = _unpack_obs(packed["obs"], count, what)
        nxt = _unpack_obs(packed["next_obs"], count, what)
        has_next = [bool(x) for x in packed["has_next"].tolist()]
        reward = [float(x) for x in packed["reward"].tolist()]
        done = [bool(x) for x in packed["done"].tolist()]
        if "node" in packed:
            splits = packed["split"].numpy()
            samples = packed["sample"].numpy() if "sample" in packed else splits
            actions: list[Any] = [
                Action(node=int(n), split=splits[i].copy(), sample=samples[i].copy())
                for i, n in enumerate(packed["node"].tolist())
            ]
        else:
            actions = [int(x) for x in packed["option"].tolist()]
    except (KeyError, AttributeError, TypeError, IndexError) as exc:
        raise CheckpointError(f"checkpoint {what} is malformed ({type(exc).__name__}: {exc})") from None
    if not all(len(x) == count for x in (has_next, reward, done, actions)):
        raise CheckpointError(f"checkpoint {what} holds {count} transitions but fields of other lengths")
    return [(obs[i], actions[i], reward[i], nxt[i] if has_next[i] else None, done[i]) for i in range(count)]


def _check_header(state: Mapping[str, Any], agent_id: str, n: int, k: int, hyper: Mapping[str, Any]) -> None:
    if not isinstance(state, Mapping):
        raise CheckpointError(f"agent state is a {type(state).__name__}, not a mapping; pass agent.state()'s output")
    if state.get("format") != STATE_FORMAT:
        raise CheckpointError(
            f"agent state format {state.get('format')!r} is not {STATE_FORMAT!r}; it was not written by "
            "agent.state() of this cpnkit version"
        )
    expected = {"id": agent_id, "n": n, "k": k, "features": feature_layout()}
    for key, want in expected.items():
        got = state.get(key)
        if got != want:
            raise CheckpointError(
                f"checkpoint {key}={got!r} does not match this agent's {key}={want!r}; build the agent with the "
                "checkpoint's settings (agent_from_state(state))"
            )
    got_hyper = state.get("hyper")
    if not isinstance(got_hyper, Mapping) or dict(got_hyper) != dict(hyper):
        raise CheckpointError(
            f"checkpoint hyper-parameters {got_hyper!r} differ from this agent's {dict(hyper)!r}; build the agent "
            "with the checkpoint's settings (agent_from_state(state))"
        )
    steps = state.get("steps")
    if not (isinstance(steps, int) and steps >= 0):
        raise CheckpointError(f"checkpoint steps={steps!r} must be an integer >= 0")


def _load_module(module: torch.nn.Module, weights: Any, what: str) -> None:
    torch = _torch()
    if not isinstance(weights, Mapping):
        raise CheckpointError(f"checkpoint {what} weights are a {type(weights).__name__}, not a name->tensor mapping")
    own = module.state_dict()
    if set(weights) != set(own):
        missing, extra = sorted(set(own) - set(weights)), sorted(set(weights) - set(own))
        raise CheckpointError(f"checkpoint {what} weights: missing {missing}, unexpected {extra}")
    converted = {}
    for name, value in weights.items():
        tensor = torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value)
        if tuple(tensor.shape) != tuple(own[name].shape):
            raise CheckpointError(
                f"checkpoint {what} weight {name!r} has shape {tuple(tensor.shape)}, expected {tuple(own[name].shape)}"
            )
        if not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"checkpoint {what} weight {name!r} has non-finite values; the file is corrupt")
        converted[name] = tensor.to(own[name].dtype)
    with torch.no_grad():
        for name, param in module.state_dict(keep_vars=True).items():
            param.copy_(converted[name])  # in place: keeps the numpy views valid


def _load_optimizer(opt: Any, state: Any, what: str) -> None:
    try:
        opt.load_state_dict(state)
    except (KeyError, ValueError, TypeError, RuntimeError, IndexError) as exc:
        raise CheckpointError(f"checkpoint {what} optimiser state does not fit this agent: {exc}") from exc


def _dirichlet_terms(torch: Any, conc: Any, mask: Any, split: Any) -> tuple[Any, Any]:
    """Log-density of ``split`` and entropy of Dirichlet(``conc``) restricted to the masked-in coordinates.

    A single real path gives log-density 0 and entropy 0 (the split is then fixed).
    """
    alpha = torch.where(mask > 0, conc, torch.ones_like(conc))
    x = torch.where(mask > 0, split, torch.ones_like(split))
    a0 = (alpha * mask).sum(-1)
    count = mask.sum(-1)
    lg = torch.lgamma(alpha) * mask
    log_prob = torch.lgamma(a0) - lg.sum(-1) + ((alpha - 1.0) * torch.log(x) * mask).sum(-1)
    entropy = (
        lg.sum(-1)
        - torch.lgamma(a0)
        + (a0 - count) * torch.digamma(a0)
        - ((alpha - 1.0) * torch.digamma(alpha) * mask).sum(-1)
    )
    return log_prob, entropy


def _clip(torch: Any, params: Any, max_norm: float) -> float:
    """The gradients' total norm before clipping; clips them to ``max_norm`` when it is > 0."""
    params = [p for p in params if p.grad is not None]
    if max_norm > 0:
        return float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    with torch.no_grad():
        return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params])))


def _prune(x: npt.NDArray[np.float64], mask: npt.NDArray[np.bool_], min_share: float) -> npt.NDArray[np.float32]:
    """Ratios ``x`` over the real paths with shares below ``min_share`` dropped (the largest always stays)."""
    keep = x >= min(min_share, float(x.max()))
    x = np.where(keep, x, 0.0)
    split = np.zeros(mask.shape, dtype=np.float32)
    split[mask] = x / x.sum()
    return split


# -- actor-critic ----------------------------------------------------------------------------------------------


class ActorCriticAgent:
    """RLMS-CPN's node and split agents with a critic (module docstring).

    Args:
        id: ``"rlms-cpn"`` (SyncGNN) or ``"rlms-mlp"`` (the MLP ablation).
        n: Compute-vertex slots of the observations.
        k: Path slots per compute vertex.
        seed: Seeds the weight initialisation.
        hyper: Hyper-parameters (default: ``ActorCriticHyper()``).
    """

    def __init__(self, id: str, n: int, k: int, seed: int = 0, hyper: ActorCriticHyper | None = None) -> None:
        torch = _torch()
        from cpnkit.schedulers.learned.nets import ActorNet, CriticNet, make_encoder, reinit

        if id not in ("rlms-cpn", "rlms-mlp"):
            raise ConfigError(f"ActorCriticAgent id {id!r} must be 'rlms-cpn' or 'rlms-mlp'")
        self.id = id
        self.n, self.k = int(n), int(k)
        self.hyper = hyper if hyper is not None else ActorCriticHyper()
        h = self.hyper
        kind = "syncgnn" if id == "rlms-cpn" else "mlp"
        dims = (len(NODE_FEATURES), len(PATH_FEATURES), len(TASK_FEATURES), h.hidden, self.n, self.k)
        self.actor = ActorNet(make_encoder(kind, *dims), h.hidden, h.floor)
        self.critic = CriticNet(make_encoder(kind, *dims), h.hidden)
        gen = torch.Generator().manual_seed(int(seed))
        reinit(self.actor, gen)
        reinit(self.critic, gen)
        split_params = [*self.actor.split1.parameters(), *self.actor.split2.parameters()]
        in_split = {p.data_ptr() for p in split_params}
        node_params = [p for p in self.actor.parameters() if p.data_ptr() not in in_split]
        self.actor_opt = _make_optimizer(
            torch,
            h.optimizer,
            [
                {"params": node_params, "lr": h.policy_lr},
                {"params": split_params, "lr": h.split_lr or h.policy_lr},
            ],
        )
        self.critic_opt = _make_optimizer(torch, h.optimizer, [{"params": self.critic.parameters(), "lr": h.value_lr}])
        self.steps = 0
        self.updates = 0
        self._pending: list[tuple[Observation, Action, float, Observation | None, bool]] = []
        self._np_actor = _state_dict_numpy(self.actor)
        self._np_critic = _state_dict_numpy(self.critic)

    # inference ---------------------------------------------------------------------------------------------
    def policy(self, obs: Observation) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]:
        """Node probabilities ``(n,)`` (0 on padded vertices) and Dirichlet concentrations ``(n, k)``."""
        _check_obs(obs, self.n, self.k)
        logits, conc = numpy_nets.actor_forward(self._np_actor, obs, self.hyper.floor)
        z = logits.astype(np.float64)
        z = np.exp(z - z.max()) * (np.asarray(obs["node_mask"]) > 0)
        return z / z.sum(), conc

    def scores(self, obs: Observation) -> npt.NDArray[np.float64]:
        """Per-candidate scores that explain a decision: the node agent's probabilities."""
        return self.policy(obs)[0]

    def value(self, obs: Observation) -> float:
        """The critic's ``V(s)`` (in reward units, i.e. scaled)."""
        _check_obs(obs, self.n, self.k)
        return numpy_nets.critic_forward(self._np_critic, obs)

    def act(self, obs: Observation, *, explore: bool, rng: np.random.Generator) -> Action:
        """Sample (``explore``) or take the most likely node and the Dirichlet mean split.

        Masked vertices have probability 0 and are never chosen; the split has zeros on padded paths and sums
        to 1.
        """
        probs, conc = self.policy(obs)
        node = int(rng.choice(self.n, p=probs)) if explore else int(np.argmax(probs))
        mask = np.asarray(obs["path_mask"][node]) > 0
        alpha = conc[node].astype(np.float64)
        if not (explore and mask.sum() > 1):
            return Action(node=node, split=_prune(alpha[mask] / alpha[mask].sum(), mask, self.hyper.min_share))
        x = rng.dirichlet(alpha[mask])
        sample = np.zeros(mask.shape, dtype=np.float32)
        sample[mask] = x
        return Action(node=node, split=_prune(x, mask, self.hyper.min_share), sample=sample)

    # learning ----------------------------------------------------------------------------------------------
    def update(
        self,
        obs: Observation,
        action: Action,
        reward: float,
        next_obs: Observation | None,
        terminated: bool,
    ) -> dict[str, float]:
        """Learn from one transition (``reward`` in minus seconds); updates every ``hyper.batch`` transitions.

        Returns the losses of the update it ran (``{}`` while transitions are still being gathered).

        Raises:
            ConfigError: the observation or action does not fit (masked node, wrong sizes, non-finite reward).
        """
        _check_obs(obs, self.n, self.k)
        node = int(action["node"])
        if not (0 <= node < self.n and obs["node_mask"][node] > 0):
            raise ConfigError(f"action node {node} is not a real candidate of the observation")
        if not math.isfinite(reward):
            raise ConfigError(f"reward {reward!r} is not finite")
        self.steps += 1
        self._pending.append((obs, action, float(reward), next_obs, bool(terminated or next_obs is None)))
        if len(self._pending) < self.hyper.batch:
            return {}
        batch, self._pending = self._pending, []
        return self._learn(batch)

    def _learn(self, batch: list[tuple[Observation, Action, float, Observation | None, bool]]) -> dict[str, float]:
        torch = _torch()
        h = self.hyper
        s = _batch(torch, [t[0] for t in batch])
        done = torch.tensor([1.0 if t[4] else 0.0 for t in batch])
        s_next = _batch(torch, [t[3] if t[3] is not None else t[0] for t in batch])
        reward = torch.tensor([t[2] / h.reward_scale_s for t in batch], dtype=torch.float32)
        nodes = torch.tensor([int(t[1]["node"]) for t in batch])
        rows = torch.arange(len(batch))
        path_mask = s[4][rows, nodes]
        split = torch.from_numpy(  # the drawn split where known (its density is the policy's), else the executed one
            np.stack([np.asarray(t[1].get("sample", t[1]["split"]), dtype=np.float32) for t in batch])
        )
        split = torch.clamp(split, min=MIN_RATIO) * path_mask
        split = split / split.sum(-1, keepdim=True).clamp(min=1e-12)

        value = self.critic(*s)
        with torch.no_grad():
            target = reward + h.gamma * self.critic(*s_next) * (1.0 - done)
        delta = (target - value).detach()
        critic_loss = 0.5 * ((target - value) ** 2).mean()
        self.critic_opt.zero_grad()
        critic_loss.backward()
        critic_norm = _clip(torch, self.critic.parameters(), h.max_grad_norm)
        self.critic_opt.step()

        logits, conc = self.actor(*s)
        log_probs = torch.log_softmax(logits, dim=-1)
        logp_node = log_probs[rows, nodes]
        ent_node = -(log_probs.exp() * log_probs).sum(-1)
        logp_split, ent_split = _dirichlet_terms(torch, conc[rows, nodes], path_mask, split)
        actor_loss = -(delta * (logp_node + logp_split)).mean() - h.entropy * (ent_node + ent_split).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        actor_norm = _clip(torch, self.actor.parameters(), h.max_grad_norm)
        self.actor_opt.step()
        self.updates += 1
        return {
            "critic_loss": float(critic_loss.detach()),
            "actor_loss": float(actor_loss.detach()),
            "td_error": float(delta.abs().mean()),
            "value": float(value.detach().mean()),
            "entropy_node": float(ent_node.detach().mean()),
            "entropy_split": float(ent_split.detach().mean()),
            "max_prob_node": float(log_probs.detach().max(-1).values.exp().mean()),
            "reward": float(reward.mean()),
            "grad_norm_actor": float(actor_norm),
            "grad_norm_critic": float(critic_norm),
        }

    # checkpoints -------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything to continue training bit-identically (plain data and tensors).

        Weights, optimiser state, step and update counters, hyper-parameters, feature layout, n and k, and the
        transitions gathered but not yet learned from (``pending``: fewer than ``hyper.batch``).
        """
        return {
            **_state_header(self),
            "weights": {"actor": _weights(self.actor), "critic": _weights(self.critic)},
            "optimiser": {"actor": self.actor_opt.state_dict(), "critic": self.critic_opt.state_dict()},
            "pending": _pack_transitions(self._pending),
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state`'s output.

        ``optimiser`` may be absent, and so may the critic's weights (a shipped policy holds the acting network
        only; the critic then keeps its initial weights, so resume training from a full checkpoint instead).

        Raises:
            CheckpointError: the state is corrupt or does not match (id, n, k, features, hyper, shapes).
        """
        _check_header(state, self.id, self.n, self.k, asdict(self.hyper))
        weights = state.get("weights")
        if not isinstance(weights, Mapping) or set(weights) not in ({"actor", "critic"}, {"actor"}):
            raise CheckpointError("checkpoint weights must be a mapping with 'actor' and 'critic' (or 'actor' only)")
        _load_module(self.actor, weights["actor"], "actor")
        if "critic" in weights:
            _load_module(self.critic, weights["critic"], "critic")
        opt = state.get("optimiser")
        if opt is not None:
            if not isinstance(opt, Mapping) or set(opt) != {"actor", "critic"}:
                raise CheckpointError("checkpoint optimiser state must be a mapping with 'actor' and 'critic'")
            _load_optimizer(self.actor_opt, opt["actor"], "actor")
            _load_optimizer(self.critic_opt, opt["critic"], "critic")
        self.steps = int(state["steps"])
        self.updates = int(state.get("updates", 0))
        self._pending = _unpack_transitions(state["pending"], "pending transitions") if "pending" in state else []


# -- DQN -------------------------------------------------------------------------------------------------------


def _option_splits(obs: Observation, node: int, k: int) -> npt.NDArray[np.float64]:
    """The ``k + 2`` split options of compute vertex ``node``: one-hot per path, equal, bandwidth-proportional."""
    mask = np.asarray(obs["path_mask"][node]) > 0
    out = np.zeros((k + 2, k))
    out[:k] = np.eye(k)
    out[k] = mask / mask.sum()
    bw = np.power(10.0, np.asarray(obs["path"][node][:, 1], dtype=np.float64)) * mask
    out[k + 1] = bw / bw.sum() if bw.sum() > 0 else out[k]
    return out


def bandwidth_reward(obs: Observation, action: Action) -> float:
    """log10 of the effective bandwidth of the action's split in Mbit/s (GNN+DQN's reward, from the observation).

    The input crosses path ``j`` at its probed available bandwidth ``b_j`` (the ``log_available_mbps`` feature),
    so the transfer takes ``bits * max_j (x_j / b_j)`` and the effective bandwidth is ``1 / max_j (x_j / b_j)``.
    """
    node = int(action["node"])
    mask = np.asarray(obs["path_mask"][node]) > 0
    x = np.asarray(action["split"], dtype=np.float64) * mask
    x = x / x.sum() if x.sum() > 0 else mask / mask.sum()
    bw = np.power(10.0, np.asarray(obs["path"][node][:, 1], dtype=np.float64))
    slowest = float(np.max(np.where(mask & (x > 0), x / bw, 0.0)))
    return float(np.log10(1.0 / slowest)) if slowest > 0 else 0.0


class DQNAgent:
    """GNN+DQN (the paper's ref. [8]): SyncGNN, a Q-head over node x split options, replay, target network.

    Args:
        n: Compute-vertex slots of the observations.
        k: Path slots per compute vertex.
        seed: Seeds the weights and the replay sampling.
        hyper: Hyper-parameters (default: ``DQNHyper()``).
    """

    def __init__(self, n: int, k: int, seed: int = 0, hyper: DQNHyper | None = None) -> None:
        torch = _torch()
        from cpnkit.schedulers.learned.nets import QNet, SyncGNN, reinit

        self.id = "gnn-dqn"
        self.n, self.k = int(n), int(k)
        self.hyper = h = hyper if hyper is not None else DQNHyper()
        dims = (len(NODE_FEATURES), len(PATH_FEATURES), len(TASK_FEATURES), h.hidden)
        self.q = QNet(SyncGNN(*dims), h.hidden)
        self.target = QNet(SyncGNN(*dims), h.hidden)
        reinit(self.q, torch.Generator().manual_seed(int(seed)))
        self.target.load_state_dict(self.q.state_dict())
        self.opt = torch.optim.Adam(self.q.parameters(), lr=h.lr)
        self.steps = 0
        self.updates = 0
        self._rng = np.random.default_rng(seed)
        self._buffer: list[tuple[Observation, int, float, Observation | None, bool]] = []
        self._next = 0
        self._np_q = _state_dict_numpy(self.q)

    @property
    def epsilon(self) -> float:
        """Exploration rate now (linear from ``eps_start`` to ``eps_end`` over ``eps_decay_steps`` updates)."""
        h = self.hyper
        frac = min(self.steps / h.eps_decay_steps, 1.0)
        return h.eps_start + frac * (h.eps_end - h.eps_start)

    def q_values(self, obs: Observation) -> npt.NDArray[np.float32]:
        """Q-values ``(n, k + 2)``; invalid options hold a large negative value."""
        _check_obs(obs, self.n, self.k)
        return numpy_nets.q_forward(self._np_q, obs)

    def scores(self, obs: Observation) -> npt.NDArray[np.float64]:
        """Per-candidate scores that explain a decision: each vertex's best Q-value (``nan`` when padded)."""
        q = self.q_values(obs).astype(np.float64).max(axis=1)
        return np.where(np.asarray(obs["node_mask"]) > 0, q, np.nan)

    def _valid(self, obs: Observation) -> npt.NDArray[np.bool_]:
        nmask = np.asarray(obs["node_mask"]) > 0
        valid = np.concatenate((np.asarray(obs["path_mask"]) > 0, np.repeat(nmask[:, None], 2, axis=1)), axis=1)
        out: npt.NDArray[np.bool_] = valid & nmask[:, None]
        return out

    def act(self, obs: Observation, *, explore: bool, rng: np.random.Generator) -> Action:
        """Epsilon-greedy (``explore``) or greedy over the valid (node, split option) pairs."""
        _check_obs(obs, self.n, self.k)
        if explore and rng.random() < self.epsilon:
            flat = int(rng.choice(np.flatnonzero(self._valid(obs).ravel())))
        else:
            flat = int(np.argmax(self.q_values(obs).ravel()))
        node, option = divmod(flat, self.k + 2)
        split = _option_splits(obs, node, self.k)[option].astype(np.float32)
        return Action(node=node, split=split)

    def _option_of(self, obs: Observation, action: Action) -> int:
        node = int(action["node"])
        options = _option_splits(obs, node, self.k)
        valid = self._valid(obs)[node]
        dist = np.abs(options - np.asarray(action["split"], dtype=np.float64)[None, :]).sum(axis=1)
        dist[~valid] = np.inf
        return node * (self.k + 2) + int(np.argmin(dist))

    def update(
        self,
        obs: Observation,
        action: Action,
        reward: float,
        next_obs: Observation | None,
        terminated: bool,
    ) -> dict[str, float]:
        """Store the transition (reward per ``hyper.reward``) and run one replayed update once warm."""
        _check_obs(obs, self.n, self.k)
        node = int(action["node"])
        if not (0 <= node < self.n and obs["node_mask"][node] > 0):
            raise ConfigError(f"action node {node} is not a real candidate of the observation")
        h = self.hyper
        r = bandwidth_reward(obs, action) if h.reward == "bandwidth" else float(reward) / h.reward_scale_s
        item = (obs, self._option_of(obs, action), r, next_obs, bool(terminated or next_obs is None))
        if len(self._buffer) < h.buffer:
            self._buffer.append(item)
        else:
            self._buffer[self._next] = item
        self._next = (self._next + 1) % h.buffer
        self.steps += 1
        if len(self._buffer) < max(h.learn_start, h.batch):
            return {}
        return self._learn()

    def _learn(self) -> dict[str, float]:
        torch = _torch()
        h = self.hyper
        idx = self._rng.choice(len(self._buffer), size=h.batch, replace=False)
        items = [self._buffer[int(i)] for i in idx]
        s = _batch(torch, [t[0] for t in items])
        s_next = _batch(torch, [t[3] if t[3] is not None else t[0] for t in items])
        done = torch.tensor([1.0 if t[4] else 0.0 for t in items])
        reward = torch.tensor([t[2] for t in items], dtype=torch.float32)
        actions = torch.tensor([t[1] for t in items])
        q = self.q(*s).reshape(len(items), -1).gather(1, actions[:, None]).squeeze(1)
        with torch.no_grad():
            q_next = self.target(*s_next).reshape(len(items), -1).max(dim=1).values
            target = reward + h.gamma * q_next * (1.0 - done)
        loss = torch.nn.functional.smooth_l1_loss(q, target)
        self.opt.zero_grad()
        loss.backward()
        if h.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.q.parameters(), h.max_grad_norm)
        self.opt.step()
        self.updates += 1
        if self.updates % h.target_every == 0:
            self.target.load_state_dict(self.q.state_dict())
        return {"q_loss": float(loss.detach()), "q_mean": float(q.detach().mean()), "epsilon": self.epsilon}

    def state(self) -> dict[str, Any]:
        """Everything to continue training bit-identically (plain data and tensors).

        Weights (online and target), optimiser state, the step counter (epsilon follows it) and the update
        counter (the target-network sync follows it), hyper-parameters, feature layout, n, k, the replay buffer
        with its write position, and the replay sampler's generator state.
        """
        return {
            **_state_header(self),
            "weights": {"q": _weights(self.q), "target": _weights(self.target)},
            "optimiser": {"q": self.opt.state_dict()},
            "replay": {**_pack_transitions(self._buffer), "next": self._next},
            "replay_rng": self._rng.bit_generator.state,
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state`'s output.

        ``optimiser``, ``replay`` and ``replay_rng`` may be absent, as in a shipped policy (the buffer then starts
        empty); without ``target`` it copies ``q``.

        Raises:
            CheckpointError: the state is corrupt or does not match (id, n, k, features, hyper, shapes).
        """
        _check_header(state, self.id, self.n, self.k, asdict(self.hyper))
        weights = state.get("weights")
        if not isinstance(weights, Mapping) or set(weights) not in ({"q", "target"}, {"q"}):
            raise CheckpointError("checkpoint weights must be a mapping with 'q' and 'target' (or 'q' only)")
        _load_module(self.q, weights["q"], "q")
        _load_module(self.target, weights.get("target", weights["q"]), "target")
        opt = state.get("optimiser")
        if opt is not None:
            if not isinstance(opt, Mapping) or set(opt) != {"q"}:
                raise CheckpointError("checkpoint optimiser state must be a mapping with 'q'")
            _load_optimizer(self.opt, opt["q"], "q")
        self.steps = int(state["steps"])
        self.updates = int(state.get("updates", 0))
        replay = state.get("replay")
        if replay is not None:
            self._buffer = _unpack_transitions(replay, "replay buffer")
            nxt = replay.get("next") if isinstance(replay, Mapping) else None
            if not (
                isinstance(nxt, int) and 0 <= nxt < max(self.hyper.buffer, 1) and len(self._buffer) <= self.hyper.buffer
            ):
                raise CheckpointError(
                    f"checkpoint replay buffer position {nxt!r} does not fit its {len(self._buffer)} items"
                )
            self._next = nxt
        else:
            self._buffer, self._next = [], 0
        if "replay_rng" in state:
            try:
                self._rng.bit_generator.state = state["replay_rng"]
            except (TypeError, ValueError, KeyError) as exc:
                raise CheckpointError(f"checkpoint replay_rng is not a numpy generator state: {exc}") from None


# -- factory ---------------------------------------------------------------------------------------------------


def _hyper_class(agent_id: str) -> type[ActorCriticHyper] | type[DQNHyper]:
    return DQNHyper if agent_id == "gnn-dqn" else ActorCriticHyper


def make_agent(id: str, n: int = 5, k: int = 3, seed: int = 0, **hyper: Any) -> ActorCriticAgent | DQNAgent:
    """A fresh agent for scheduler ``id`` on observations with ``n`` candidates x ``k`` paths.

    Args:
        id: ``"rlms-cpn"``, ``"rlms-mlp"`` or ``"gnn-dqn"``.
        n: Compute-vertex slots (paper: 5).
        k: Path slots per compute vertex (paper: 3).
        seed: Seeds the weights (and the DQN's replay sampling).
        **hyper: Fields of ``ActorCriticHyper`` (rlms-*) or ``DQNHyper`` (gnn-dqn).

    Raises:
        UnknownSchedulerError: ``id`` is not a learning scheduler (with a did-you-mean).
        ConfigError: an unknown hyper-parameter (the message lists the valid ones) or a bad value.
    """
    if id not in AGENT_IDS:
        raise UnknownSchedulerError(
            f"no learning agent {id!r}.{did_you_mean(id, AGENT_IDS)} Learning agents: {', '.join(AGENT_IDS)}"
        )
    if not (isinstance(n, int) and isinstance(k, int) and n >= 1 and k >= 1):
        raise ConfigError(f"n={n!r} and k={k!r} must be integers >= 1")
    cls = _hyper_class(id)
    valid = [f.name for f in fields(cls)]
    unknown = sorted(set(hyper) - set(valid))
    if unknown:
        raise ConfigError(
            f"unknown hyper-parameter(s) {', '.join(unknown)} for {id}; valid: {', '.join(valid)}"
            f"{did_you_mean(unknown[0], valid)}"
        )
    if id == "gnn-dqn":
        return DQNAgent(n, k, seed, DQNHyper(**hyper))
    return ActorCriticAgent(id, n, k, seed, ActorCriticHyper(**hyper))


def agent_from_state(state: Mapping[str, Any], seed: int = 0) -> ActorCriticAgent | DQNAgent:
    """An agent built with a checkpoint's id, n, k and hyper-parameters, then loaded from it.

    Raises:
        CheckpointError: the state is corrupt or does not fit.
    """
    if not isinstance(state, Mapping):
        raise CheckpointError(f"agent state is a {type(state).__name__}, not a mapping")
    try:
        hyper = dict(state.get("hyper") or {})
        agent = make_agent(str(state.get("id")), int(state.get("n", -1)), int(state.get("k", -1)), seed, **hyper)
    except (ConfigError, TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint does not describe a buildable agent: {exc}") from exc
    agent.load_state(state)
    return agent
