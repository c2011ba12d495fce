"""Training and evaluating the learned schedulers in the simulator (RLMS-CPN Algorithm 1's outer loop).

An *episode* is a run of the simulator over a window of consecutive tasks of a training scenario, the agent
choosing for every task with exploration (:class:`ExploringScheduler`); the transitions are handed to
``agent.update`` in decision order once the run ends (outcomes are known only then). Rewards follow the env's
contract (DESIGN.md §4), in minus seconds:

- ``isolated``: ``-response`` of each task;
- ``online``: minus the time-integral of the number of tasks in the system between a decision and the next,
  so the episode's return is minus the total response time.

Training scenarios are ``build_scenario(topology, seed=TRAIN_SEED_BASE + i)``, disjoint from the evaluation seeds
(0-4 in the benchmarks) and the validation seeds (``VALIDATION_SEEDS``) that training curves are drawn on. This
module is the loop ``benchmarks/train_rl.py`` and the tests use; ``cpnkit train`` (the harness) drives the same
agents through the Gymnasium env.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from cpnkit.datasets import ScenarioConfig, build_scenario
from cpnkit.errors import ConfigError, InfeasibleError
from cpnkit.model import Decision, Snapshot, Task
from cpnkit.schedulers import Agent, CandidateEncoder
from cpnkit.schedulers.learned import LearnedScheduler
from cpnkit.sim import Mode, Scenario, SimConfig, Simulator

__all__ = [
    "TRAIN_SEED_BASE",
    "VALIDATION_SEEDS",
    "EpisodeResult",
    "ExploringScheduler",
    "TrainLog",
    "evaluate",
    "run_episode",
    "train",
]

#: Training scenario ``i`` of a topology is built with seed ``TRAIN_SEED_BASE + i``.
TRAIN_SEED_BASE = 1000
#: Seeds of the scenarios the training curve is evaluated on (greedy policy).
VALIDATION_SEEDS: tuple[int, ...] = (500, 501)


class ExploringScheduler:
    """Acts with ``explore=True`` and keeps each decision's observation and action for learning.

    Args:
        agent: The agent being trained.
        rng: Exploration randomness.
        encoder: Candidate encoder matching the agent's ``n`` and ``k``.
    """

    def __init__(self, agent: Agent, rng: np.random.Generator, encoder: CandidateEncoder) -> None:
        self.agent = agent
        self.rng = rng
        self.encoder = encoder
        self.name: str = agent.id
        self.steps: list[tuple[int, float, Any, Any]] = []  # (task id, decision time, obs, action)

    def decide(self, task: Task, snapshot: Snapshot) -> Decision:
        """Explore: sample an action, remember it, decide."""
        graph = self.encoder.encode(task, snapshot)
        obs = graph.observation()
        action = self.agent.act(obs, explore=True, rng=self.rng)
        self.encoder.record(graph, int(action["node"]))
        self.steps.append((task.id, snapshot.time_s, obs, action))
        return graph.decision(int(action["node"]), action["split"], self.name)


@dataclass(frozen=True, slots=True)
class EpisodeResult:
    """One training episode.

    Attributes:
        mean_response_s: Mean response of the completed tasks, in s.
        episode_return: Sum of the rewards handed to the agent, in minus s.
        transitions: Transitions learned from.
        losses: The last update's losses.
    """

    mean_response_s: float
    episode_return: float
    transitions: int
    losses: dict[str, float] = field(default_factory=dict)


def _rewards(mode: Mode, steps: Sequence[tuple[int, float, Any, Any]], outcomes: dict[int, Any]) -> list[float]:
    if mode == "isolated":
        return [-float(outcomes[tid].response_s) for tid, *_ in steps]
    spans = [(o.arrival_s, o.finish_s) for o in outcomes.values() if o.status == "completed"]
    times = [t for _, t, *_ in steps] + [math.inf]
    out = []
    for i in range(len(steps)):
        lo, hi = times[i], times[i + 1]
        out.append(-sum(max(0.0, min(f, hi) - max(a, lo)) for a, f in spans))
    return out


def run_episode(
    agent: Agent,
    scenario: Scenario,
    *,
    mode: Mode = "isolated",
    rng: np.random.Generator,
    sim_seed: int = 0,
    n_candidates: int | None = None,
    k_paths: int | None = None,
    terminal: bool = False,
) -> EpisodeResult:
    """Run ``scenario`` once with exploration, then feed every transition to ``agent.update`` in order.

    ``n_candidates`` / ``k_paths`` default to the agent's ``n`` / ``k`` (else 5 / 3). Tasks that did not
    complete are left out. ``terminal``: the scenario's last task ends the episode (value 0
    after it); otherwise the scenario is a window of a longer stream and its last transition bootstraps from its
    own state's value (truncation, not termination).
    """
    n = int(getattr(agent, "n", 5)) if n_candidates is None else n_candidates
    k = int(getattr(agent, "k", 3)) if k_paths is None else k_paths
    explorer = ExploringScheduler(agent, rng, CandidateEncoder(n, k))
    result = Simulator(scenario, explorer, SimConfig(mode=mode), seed=sim_seed).run()
    outcomes = {o.task_id: o for o in result.outcomes}
    steps = [s for s in explorer.steps if outcomes[s[0]].status == "completed"]
    rewards = _rewards(mode, steps, outcomes)
    losses: dict[str, float] = {}
    for i, ((_, _, obs, action), reward) in enumerate(zip(steps, rewards, strict=True)):
        if i + 1 < len(steps):
            out = agent.update(obs, action, reward, steps[i + 1][2], False)
        elif terminal:
            out = agent.update(obs, action, reward, None, True)
        else:  # a window of a longer task stream is truncated, not terminated: bootstrap from V(s) itself
            out = agent.update(obs, action, reward, obs, False)
        losses = out or losses
    done = [o.response_s for o in result.outcomes if o.status == "completed"]
    return EpisodeResult(float(np.mean(done)) if done else math.nan, float(sum(rewards)), len(steps), losses)


def evaluate(
    agent: Agent,
    scenarios: Sequence[Scenario],
    *,
    mode: Mode = "isolated",
    seeds: Sequence[int] | None = None,
) -> float:
    """Mean over scenarios of the greedy policy's mean response, in s (simulator seed = the scenario's index).

    Raises:
        ConfigError: no scenario.
    """
    if not scenarios:
        raise ConfigError("evaluate needs at least one scenario")
    means = []
    for i, scenario in enumerate(scenarios):
        sched = LearnedScheduler(agent, CandidateEncoder(getattr(agent, "n", 5), getattr(agent, "k", 3)))
        seed = seeds[i] if seeds is not None else i
        result = Simulator(scenario, sched, SimConfig(mode=mode), seed=seed).run()
        done = [o.response_s for o in result.outcomes if o.status == "completed"]
        means.append(float(np.mean(done)) if done else math.nan)
    return float(np.mean(means))


@dataclass(slots=True)
class TrainLog:
    """What a training run did.

    Attributes:
        history: One row per evaluation: ``steps``, ``wall_s``, ``eval_mean_response_s``,
            ``train_mean_response_s`` (mean over the episodes since the previous row) and the last losses.
        wall_s: Wall-clock of the whole run, evaluations included, in s.
        steps: Transitions learned from.
        episodes: Episodes run.
    """

    history: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    steps: int = 0
    episodes: int = 0


def training_scenarios(
    topologies: Sequence[str], per_topology: int, n_tasks: int, config: ScenarioConfig | None = None
) -> list[Scenario]:
    """``per_topology`` training scenarios of each topology (seeds ``TRAIN_SEED_BASE + i``)."""
    base = config or ScenarioConfig()
    return [
        build_scenario(topo, seed=TRAIN_SEED_BASE + i, config=replace(base, n_tasks=n_tasks))
        for topo in topologies
        for i in range(per_topology)
    ]


def validation_scenarios(
    topologies: Sequence[str], n_tasks: int = 100, config: ScenarioConfig | None = None
) -> list[Scenario]:
    """The validation scenarios of each topology (``VALIDATION_SEEDS``)."""
    base = config or ScenarioConfig()
    return [
        build_scenario(topo, seed=s, config=replace(base, n_tasks=n_tasks))
        for topo in topologies
        for s in VALIDATION_SEEDS
    ]


def train(
    agent: Agent,
    scenarios: Sequence[Scenario],
    *,
    steps: int,
    seed: int,
    mode: Mode = "isolated",
    episode_tasks: int = 50,
    validation: Sequence[Scenario] = (),
    eval_every: int = 2000,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> TrainLog:
    """Train ``agent`` for about ``steps`` transitions on windows of ``episode_tasks`` tasks of ``scenarios``.

    Each episode draws a scenario, a window start and a simulator seed from ``seed``. Every ``eval_every``
    transitions (and at the end) the greedy policy is evaluated on ``validation`` (when given).

    Raises:
        ConfigError: no scenario, or ``steps`` / ``episode_tasks`` < 1.
    """
    if not scenarios or steps < 1 or episode_tasks < 1:
        raise ConfigError(f"train needs scenarios, steps >= 1 (got {steps}) and episode_tasks >= 1")
    rng = np.random.default_rng(seed)
    log = TrainLog()
    start = time.perf_counter()
    since: list[float] = []
    next_eval = eval_every
    last: dict[str, float] = {}

    def record() -> None:
        row: dict[str, Any] = {
            "steps": log.steps,
            "episodes": log.episodes,
            "wall_s": time.perf_counter() - start,
            "train_mean_response_s": float(np.nanmean(since)) if since else math.nan,
            "eval_mean_response_s": evaluate(agent, validation, mode=mode) if validation else math.nan,
            **last,
        }
        since.clear()
        log.history.append(row)
        if progress is not None:
            progress(row)

    while log.steps < steps:
        scenario = scenarios[int(rng.integers(len(scenarios)))]
        tasks = scenario.tasks
        lo = int(rng.integers(0, max(1, len(tasks) - episode_tasks + 1)))
        window = replace(scenario, tasks=tasks[lo : lo + episode_tasks])
        try:
            ep = run_episode(agent, window, mode=mode, rng=rng, sim_seed=int(rng.integers(2**31)))
        except InfeasibleError:  # pragma: no cover - the filter always finds a site in the paper scenarios
            continue
        log.steps += ep.transitions
        log.episodes += 1
        since.append(ep.mean_response_s)
        last = ep.losses or last
        if log.steps >= next_eval:
            next_eval += eval_every
            record()
    if not log.history or log.history[-1]["steps"] != log.steps:
        record()
    log.wall_s = time.perf_counter() - start
    return log
