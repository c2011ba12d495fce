"""Learned schedulers of RLMS-CPN: SyncGNN + actor-critic (``rlms-cpn``), its MLP ablation, GNN+DQN.

Importing this package does not import torch: the networks (:mod:`.nets`) load when an agent is built.
Agents follow :class:`cpnkit.schedulers.Agent`; :class:`LearnedScheduler` wraps a trained one. The registered
scheduler ids load bundled weights, which is I/O, so their factories live in :mod:`cpnkit.datasets.policies`.
"""

from cpnkit.schedulers.learned.agents import (
    AGENT_IDS,
    ActorCriticAgent,
    ActorCriticHyper,
    DQNAgent,
    DQNHyper,
    agent_from_state,
    bandwidth_reward,
    make_agent,
)
from cpnkit.schedulers.learned.scheduler import LearnedScheduler

__all__ = [
    "AGENT_IDS",
    "ActorCriticAgent",
    "ActorCriticHyper",
    "DQNAgent",
    "DQNHyper",
    "LearnedScheduler",
    "agent_from_state",
    "bandwidth_reward",
    "make_agent",
]
