"""The contract between learning agents (RLMS-CPN, its ablations, GNN+DQN) and whatever drives them.

An :class:`Agent` acts on the env's dict observation (:meth:`cpnkit.schedulers.CandidateGraph.observation`) and
learns from transitions; the Gymnasium env (``cpnkit.envs``) and the training harness (``cpnkit train``) drive it,
and a learned scheduler wraps a trained one to decide in the simulator or the service. Agents do no I/O: their
:meth:`Agent.state` is plain data (tensors, numbers, strings) that an entry point writes to a checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, Protocol, TypedDict, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["Action", "Agent", "Observation"]

#: The env's observation: ``node`` (n, F_node), ``path`` (n, k, F_path), ``task`` (F_task,), ``node_mask`` (n,),
#: ``path_mask`` (n, k); see :mod:`cpnkit.schedulers.features`.
Observation = Mapping[str, npt.NDArray[Any]]


class Action(TypedDict):
    """One decision: a compute-vertex index and ``k`` split ratios (projected onto the simplex by the env).

    ``sample`` (optional) is the split the policy drew before it was post-processed into ``split`` (rlms-cpn drops
    shares below ``min_share``); the policy gradient is taken at the drawn split, whose density the policy defines.
    """

    node: int
    split: npt.NDArray[np.float32]
    sample: NotRequired[npt.NDArray[np.float32]]


@runtime_checkable
class Agent(Protocol):
    """A learning scheduler's policy and its update rule.

    Attributes:
        id: The scheduler id it trains (``"rlms-cpn"``, ``"rlms-mlp"``, ``"gnn-dqn"``).
    """

    id: str

    def act(self, obs: Observation, *, explore: bool, rng: np.random.Generator) -> Action:
        """Choose an action; ``explore`` samples from the policy, otherwise the greedy / mean action.

        Masked-out vertices must never be chosen and the split must lie on the simplex of the node's real paths.
        """
        ...

    def update(
        self,
        obs: Observation,
        action: Action,
        reward: float,
        next_obs: Observation | None,
        terminated: bool,
    ) -> dict[str, float]:
        """Learn from one transition (``next_obs`` is ``None`` at the end of an episode); returns losses to log."""
        ...

    def state(self) -> dict[str, Any]:
        """Everything needed to resume: weights, optimiser state, step count, hyper-parameters, feature layout."""
        ...

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state`'s output.

        Raises:
            CheckpointError: the state is corrupt or does not match this agent (id, feature layout, sizes).
        """
        ...
