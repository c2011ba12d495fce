"""``cpnkit/Scheduling-v0``: the simulator as a Gymnasium env, one step per task decision (RLMS-CPN §3.4).

An episode is one scenario (a topology, ``n_tasks`` tasks, seeded) run through the simulator's stepping API
(:meth:`cpnkit.sim.Simulator.next_decision` / :meth:`~cpnkit.sim.Simulator.apply`). Each step decides one task:

observation
    The task's candidate graph (:class:`cpnkit.schedulers.CandidateGraph`, built by a
    :class:`~cpnkit.schedulers.CandidateEncoder` that the env owns): ``node`` (n, 6), ``path`` (n, k, 5) and
    ``task`` (3,) float32 features, ``node_mask`` (n,) and ``path_mask`` (n, k) int8.
action
    ``{"node": i, "split": (k,) ratios}``: compute vertex ``i`` (must be masked in: a masked-out vertex raises
    :class:`~cpnkit.errors.DecisionError`; agents mask their policy) and split ratios that the env projects onto the
    simplex over that vertex's real paths (negatives clipped to 0, normalised; all zero = equal split).
reward
    Minus the time-integral of the number of tasks in the system between this decision and the next, in s
    (DESIGN.md §4); the last step adds the rest until the run ends. An episode's return is therefore exactly minus
    the total response time of its tasks (Little's law); in ``isolated`` mode (one task in the system at a time)
    each step's reward is minus that task's response latency.
rejections
    A task no candidate can serve (the filter raises :class:`~cpnkit.errors.InfeasibleError`) is not shown to the
    agent: the env rejects it on the spot, so it leaves the system at once and adds 0 to the reward. Every
    rejection (also an invalid decision under ``SimConfig(invalid_decision="reject")``) is reported in
    ``info["rejected"]`` (task ids) and as a ``rejected`` outcome in ``info["outcomes"]``.
info
    ``task_id`` (the task the observation is about; at reset the first one), and after a step: ``decided_task_id``,
    ``decision`` (the :class:`~cpnkit.model.Decision` given to the simulator), ``outcomes`` (tasks that finished
    since the previous step, :class:`~cpnkit.model.Outcome`), ``rejected``, ``time_s`` (simulated time);
    at the end ``result`` (the :class:`~cpnkit.sim.SimResult`).

Seeding: ``reset(seed=s)`` builds the scenario and seeds the simulator with ``s`` (and draws the topology, when
several are given, from ``s``); ``reset()`` without a seed draws the episode seed from the env's generator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from cpnkit.datasets import ScenarioConfig, build_scenario, load_topology
from cpnkit.envs import ENV_ID
from cpnkit.errors import ConfigError, CpnError, DecisionError, InfeasibleError
from cpnkit.model import Decision, Snapshot, Task, Topology
from cpnkit.schedulers import CandidateEncoder, CandidateGraph
from cpnkit.schedulers.features import NODE_FEATURES, PATH_FEATURES, TASK_FEATURES
from cpnkit.sim import Mode, Scenario, SimConfig, SimResult, Simulator

try:
    import gymnasium as gym
    from gymnasium import spaces
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ConfigError("the Gymnasium env needs gymnasium, which is not installed; pip install 'cpnkit[rl]'") from None

__all__ = ["ENV_ID", "FEATURE_BOUND", "SchedulingEnv"]

#: Bound of the feature boxes. Features are of order 1 (times in units of 0.1 s, logs, counts / 10); the bound
#: is finite only because Gymnasium asks for one (1e9 would be a queue wait of 1e8 s).
FEATURE_BOUND = 1e9

Obs = dict[str, npt.NDArray[Any]]
ActionDict = Mapping[str, Any]


class _Driven:
    """The simulator's scheduler slot while the env decides (never asked: the env drives ``apply``)."""

    privileged = False

    def __init__(self, name: str) -> None:
        self.name = name

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:  # pragma: no cover - the env never calls run()
        raise CpnError(f"the env decides task {task.id} through step(); do not call Simulator.run() on it")


class SchedulingEnv(gym.Env[dict[str, Any], dict[str, Any]]):
    """Where to compute each task and how to split its data: one step per task (see the module docstring).

    Args:
        topology: A topology name (or file / ``topohub:`` key), or several: each episode draws one (seeded), for
            training that generalises across networks.
        n_tasks: Tasks per episode (the paper tests on 100).
        mode: ``online`` or ``isolated``; ``None`` keeps ``sim_config``'s mode (default ``online``).
        scenario_config: Workload, background and device settings (its ``n_tasks`` is replaced by ``n_tasks``).
        n_candidates: Compute vertices per observation (paper: 5).
        k_paths: Paths per compute vertex (paper: 3).
        filter_rule: Candidate filter: ``class`` (the paper's) or ``bound``.
        sim_config: Simulator settings (jitter, probes, transport, invalid-decision policy).
        scheduler_name: Name recorded in the decisions and outcomes.
        render_mode: Only ``None`` (the env does not render).

    Raises:
        ConfigError: a bad count, mode or render mode; UnknownTopologyError: a topology does not resolve.

    Example:
        >>> import numpy as np
        >>> env = SchedulingEnv("abilene", n_tasks=3)
        >>> obs, info = env.reset(seed=0)
        >>> obs["node"].shape, obs["path"].shape, int(obs["node_mask"].sum())
        ((5, 6), (5, 3, 5), 5)
        >>> done, total = False, 0.0
        >>> while not done:
        ...     obs, reward, done, _, info = env.step({"node": 0, "split": np.ones(3, np.float32)})
        ...     total += reward
        >>> round(-total, 12) == round(sum(o.response_s for o in info["result"].outcomes), 12)
        True
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 - gymnasium's class attribute

    def __init__(
        self,
        topology: str | Topology | Sequence[str | Topology] = "abilene",
        n_tasks: int = 100,
        mode: Mode | None = None,
        scenario_config: ScenarioConfig | None = None,
        n_candidates: int = 5,
        k_paths: int = 3,
        filter_rule: Literal["class", "bound"] = "class",
        sim_config: SimConfig | None = None,
        scheduler_name: str = "env",
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None:
            raise ConfigError(f"render_mode={render_mode!r}: the scheduling env does not render; pass None")
        if not (isinstance(n_tasks, int) and n_tasks >= 1):
            raise ConfigError(f"n_tasks={n_tasks!r} must be an integer >= 1 (tasks per episode)")
        names = [topology] if isinstance(topology, str | Topology) else list(topology)
        if not names:
            raise ConfigError("topology=[]: give at least one topology name")
        self.topologies: tuple[Topology, ...] = tuple(t if isinstance(t, Topology) else load_topology(t) for t in names)
        config = sim_config if sim_config is not None else SimConfig()
        self.sim_config = config if mode is None else replace(config, mode=mode)
        self.scenario_config = replace(scenario_config or ScenarioConfig(), n_tasks=n_tasks)
        self.n_tasks = n_tasks
        self.filter_rule: Literal["class", "bound"] = filter_rule
        self.scheduler_name = scheduler_name
        self.render_mode = None
        self.encoder = CandidateEncoder(n_candidates, k_paths, filter_rule)  # validates the counts
        n, k = n_candidates, k_paths
        self.n, self.k = n, k
        self.observation_space = spaces.Dict(
            {
                "node": spaces.Box(-FEATURE_BOUND, FEATURE_BOUND, (n, len(NODE_FEATURES)), np.float32),
                "path": spaces.Box(-FEATURE_BOUND, FEATURE_BOUND, (n, k, len(PATH_FEATURES)), np.float32),
                "task": spaces.Box(-FEATURE_BOUND, FEATURE_BOUND, (len(TASK_FEATURES),), np.float32),
                "node_mask": spaces.MultiBinary(n),
                "path_mask": spaces.MultiBinary((n, k)),
            }
        )
        self.action_space = spaces.Dict({"node": spaces.Discrete(n), "split": spaces.Box(0.0, 1.0, (k,), np.float32)})
        #: The candidate graph of the task awaiting a decision (``None`` before reset and after the end).
        self.graph: CandidateGraph | None = None
        self.scenario: Scenario | None = None
        self.simulator: Simulator | None = None
        #: The finished run's results (set when an episode terminates).
        self.result: SimResult | None = None
        self.episode_seed: int | None = None
        self._integral_s = 0.0
        self._n_outcomes = 0

    # -- gymnasium -------------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Obs, dict[str, Any]]:
        """Start an episode on a fresh scenario; returns the first task's observation.

        Args:
            seed: Episode seed (scenario, workload and simulator); ``None`` draws one from the env's generator.
            options: ``{"topology": name}`` picks the topology (one given at construction) instead of drawing it.

        Raises:
            ConfigError: ``options`` names an unknown topology, or no task of the episode can be served.
        """
        super().reset(seed=seed)
        episode_seed = seed if seed is not None else int(self.np_random.integers(0, 2**31 - 1))
        topology = self._pick_topology(options)
        self.episode_seed = episode_seed
        self.scenario = build_scenario(topology, seed=episode_seed, config=self.scenario_config)
        self.encoder = CandidateEncoder(self.n, self.k, self.filter_rule)
        self.simulator = Simulator(self.scenario, _Driven(self.scheduler_name), self.sim_config, seed=episode_seed)
        self.simulator.start()
        self.result = None
        self._n_outcomes = 0
        self.graph = self._next_graph(self.simulator)
        if self.graph is None:
            raise ConfigError(
                f"episode seed {episode_seed} on {topology.name!r}: no task could be served (all rejected by the "
                "candidate filter); check the scenario's devices and the filter rule"
            )
        self._integral_s = self.simulator.in_system_integral_s
        info: dict[str, Any] = {"task_id": self.graph.task.id, "topology": topology.name, "seed": episode_seed}
        info.update(self._new_outcomes(self.simulator))
        return self.graph.observation(), info

    def step(self, action: dict[str, Any]) -> tuple[Obs, float, bool, bool, dict[str, Any]]:
        """Decide the current task; returns the next task's observation and minus the tasks-in-system integral.

        Raises:
            DecisionError: the action picks a masked-out vertex, or its split is malformed.
            CpnError: the episode has ended (call reset).
        """
        sim, graph = self.simulator, self.graph
        if sim is None or graph is None:
            raise CpnError("step() before reset() or after the episode ended; call reset() to start an episode")
        decision = self.decision(action)
        self.encoder.record(graph, int(action["node"]))
        sim.apply(decision)
        self.graph = self._next_graph(sim)
        integral_s = sim.in_system_integral_s
        reward = -(integral_s - self._integral_s)
        self._integral_s = integral_s
        info: dict[str, Any] = {"decided_task_id": graph.task.id, "decision": decision, "time_s": sim.now_s}
        info.update(self._new_outcomes(sim))
        terminated = self.graph is None
        if self.graph is None:
            self.result = sim.finish()
            info["result"] = self.result
            obs = self._empty_observation()
        else:
            info["task_id"] = self.graph.task.id
            obs = self.graph.observation()
        return obs, float(reward), terminated, False, info

    # -- helpers ---------------------------------------------------------------------------------------
    def decision(self, action: ActionDict) -> Decision:
        """The simulator decision an action stands for on the current task (split projected onto the simplex).

        Raises:
            DecisionError: the action is malformed or picks a masked-out vertex.
        """
        graph = self.graph
        if graph is None:
            raise CpnError("no task awaits a decision; call reset()")
        if not (isinstance(action, Mapping) and "node" in action and "split" in action):
            raise DecisionError(f"action {action!r} must be a dict with 'node' (int) and 'split' ({self.k} ratios)")
        node = action["node"]
        node = int(node.item() if isinstance(node, np.ndarray) else node)
        if not (0 <= node < self.n) or not graph.node_mask[node]:
            raise DecisionError(
                f"task {graph.task.id}: node {node} is masked out (node_mask={graph.node_mask.tolist()}); "
                "choose a vertex whose node_mask is 1 (mask the policy's logits)"
            )
        return graph.decision(node, np.asarray(action["split"], dtype=np.float64), self.scheduler_name)

    def _pick_topology(self, options: Mapping[str, Any] | None) -> Topology:
        if options and options.get("topology") is not None:
            wanted = options["topology"]
            for topology in self.topologies:
                if topology.name == wanted:
                    return topology
            raise ConfigError(
                f"options['topology']={wanted!r} is not one of this env's topologies "
                f"{[t.name for t in self.topologies]}; construct the env with it"
            )
        if len(self.topologies) == 1:
            return self.topologies[0]
        return self.topologies[int(self.np_random.integers(len(self.topologies)))]

    def _next_graph(self, sim: Simulator) -> CandidateGraph | None:
        """Advance to the next task the agent must decide (rejecting tasks no candidate can serve)."""
        while (pending := sim.next_decision()) is not None:
            task, snapshot = pending
            try:
                return self.encoder.encode(task, snapshot)
            except InfeasibleError as exc:
                sim.apply(Decision.reject(task.id, f"infeasible: {exc}", self.scheduler_name))
        return None

    def _new_outcomes(self, sim: Simulator) -> dict[str, Any]:
        outcomes = sim.outcomes[self._n_outcomes :]
        self._n_outcomes += len(outcomes)
        return {"outcomes": outcomes, "rejected": tuple(o.task_id for o in outcomes if o.status == "rejected")}

    def _empty_observation(self) -> Obs:
        n, k = self.n, self.k
        return {
            "node": np.zeros((n, len(NODE_FEATURES)), np.float32),
            "path": np.zeros((n, k, len(PATH_FEATURES)), np.float32),
            "task": np.zeros(len(TASK_FEATURES), np.float32),
            "node_mask": np.zeros(n, np.int8),
            "path_mask": np.zeros((n, k), np.int8),
        }
