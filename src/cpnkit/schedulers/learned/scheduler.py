"""``LearnedScheduler``: a trained agent deciding greedily in the simulator or the service (no I/O)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cpnkit.model import Decision, Snapshot, Task
from cpnkit.schedulers.agent import Agent
from cpnkit.schedulers.features import CandidateEncoder

__all__ = ["LearnedScheduler"]


class LearnedScheduler:
    """Encode the candidate graph, act greedily, decide; the encoder records every dispatch.

    Args:
        agent: A trained agent, or a function from a topology name to one (called at the first decision on each
            topology: how bundled policies pick their weights without the core doing I/O).
        encoder: Candidate encoder whose ``n`` and ``k`` match the agent (default: ``CandidateEncoder()``, 5 x 3).
        name: Scheduler name recorded with decisions (default: the agent's id).

    Example:
        >>> from cpnkit.schedulers.learned import make_agent
        >>> from cpnkit.sim.testing import line_scenario
        >>> from cpnkit.sim import Simulator
        >>> sched = LearnedScheduler(make_agent("rlms-cpn", n=2, k=2), CandidateEncoder(2, 2))
        >>> [o.status for o in Simulator(line_scenario(n_tasks=2), sched).run().outcomes]
        ['completed', 'completed']
    """

    def __init__(
        self,
        agent: Agent | Callable[[str], Agent],
        encoder: CandidateEncoder | None = None,
        name: str | None = None,
    ) -> None:
        self._source = agent
        self.encoder = encoder if encoder is not None else CandidateEncoder()
        self.agent: Agent | None = agent if isinstance(agent, Agent) else None
        self.name: str = name or (self.agent.id if self.agent is not None else "learned")
        self._topology: str | None = None
        self._rng = np.random.default_rng(0)  # unused by greedy acting; the Agent contract takes one

    def _agent_for(self, topology: str) -> Agent:
        if self.agent is None or (topology != self._topology and not isinstance(self._source, Agent)):
            if topology != self._topology and self._topology is not None:
                self.encoder.reset()
            self.agent = self._source(topology) if not isinstance(self._source, Agent) else self._source
        self._topology = topology
        return self.agent

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        """Decide for ``task``: the agent's most likely node and its mean split.

        Raises:
            InfeasibleError: no candidate can serve the task (from the filter).
        """
        agent = self._agent_for(snapshot.topology.name)
        graph = self.encoder.encode(task, snapshot)
        obs = graph.observation()
        action = agent.act(obs, explore=False, rng=self._rng)
        node = int(action["node"])
        explain = getattr(agent, "scores", None)
        scores: dict[str, float] = {}
        if explain is not None:
            values = explain(obs)
            scores = {c.device.id: float(values[i]) for i, c in enumerate(graph.candidates)}
        self.encoder.record(graph, node)
        chosen = graph.candidates[node]
        kind = "probability" if agent.id != "gnn-dqn" else "best Q-value"
        reason = (
            f"{agent.id} policy: candidate {node + 1} of {len(graph.candidates)} ({chosen.device.id} at "
            f"{chosen.site}, {kind} {scores.get(chosen.device.id, float('nan')):.3f})"
        )
        return graph.decision(node, action["split"], self.name, scores=scores, reason=reason)
