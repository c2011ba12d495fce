"""Training the learned schedulers in the simulator (RLMS-CPN Algorithm 1's outer loop), the one training loop.

An *episode* is a run of the simulator over a window of ``episode_tasks`` consecutive tasks of a training scenario,
the agent choosing every task with exploration (:class:`ExploringScheduler`); the transitions go to
``agent.update`` in decision order once the run ends (outcomes are known only then). Rewards follow the env's
contract (DESIGN.md §4), in minus seconds:

- ``isolated``: ``-response`` of each task;
- ``online``: minus the time-integral of the number of tasks in the system between a decision and the next,
  so an episode's return is minus the total response time.

This is the same MDP as the Gymnasium env ``cpnkit/Scheduling-v0`` (a test checks an env episode and a simulator
episode agree), stepped without the env's per-step round trip (about 1.4 ms a decision instead of 25).

Training scenarios are ``build_scenario(topology, seed=TRAIN_SEED_BASE + i)``; every ``eval_every`` steps the
greedy policy is evaluated on the validation scenarios (seeds ``VALIDATION_SEEDS``), disjoint from the training
seeds and from the benchmarks' evaluation seeds (0-4). A run stops at the first episode end at or past
``steps`` (a step is one learned transition), so it may overshoot by less than one episode.

Checkpoints (at every evaluation and at the end) are ``torch.save`` files of plain data and tensors, loaded with
``weights_only=True``: the agent's full :meth:`~cpnkit.schedulers.Agent.state` (weights, optimisers, counters,
pending transitions, replay buffer and its generator), the loop's generator, torch's generator, the step, the curve
and the best evaluation. Checkpoints fall on episode ends, so training ``N`` steps in one go equals ``N/2`` steps,
then a resume to ``N`` (bit-identical weights).
"""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cpnkit.datasets import ScenarioConfig, build_scenario
from cpnkit.errors import CheckpointError, ConfigError, InfeasibleError
from cpnkit.estimate import TransportConfig, TransportModel
from cpnkit.model import Decision, Snapshot, Task
from cpnkit.schedulers import Agent, CandidateEncoder
from cpnkit.schedulers.learned import LearnedScheduler
from cpnkit.schedulers.learned.agents import feature_layout
from cpnkit.sim import Mode, Scenario, SimConfig, Simulator

__all__ = [
    "CHECKPOINT_FORMAT",
    "TRAIN_SEED_BASE",
    "VALIDATION_SEEDS",
    "WALL_COLUMNS",
    "AgentFactory",
    "EpisodeResult",
    "ExploringScheduler",
    "TrainConfig",
    "TrainResult",
    "curve_without_wall",
    "evaluate",
    "export_policy",
    "load_checkpoint",
    "run_episode",
    "train",
    "training_scenarios",
    "validation_scenarios",
    "write_curve",
]

#: Version of the checkpoint layout; a file with another one is refused.
CHECKPOINT_FORMAT = 2
#: Training scenario ``i`` of a topology is built with seed ``TRAIN_SEED_BASE + i``.
TRAIN_SEED_BASE = 1000
#: Seeds of the validation scenarios the training curve is evaluated on (greedy policy).
VALIDATION_SEEDS: tuple[int, ...] = (500, 501)
#: Columns of the curve that are measured wall-clock time (they differ between otherwise equal runs).
WALL_COLUMNS = ("wall_s", "train_s", "eval_s")


class AgentFactory(Protocol):
    """Builds a fresh agent (``cpnkit.schedulers.learned.make_agent`` has this signature)."""

    def __call__(self, id: str, n: int, k: int, seed: int, **hyper: Any) -> Agent: ...  # noqa: D102


# -- one episode ---------------------------------------------------------------------------------------------------


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
        losses: Means of the outputs of the updates run in this episode.
    """

    mean_response_s: float
    episode_return: float
    transitions: int
    losses: dict[str, float] = field(default_factory=dict)


def episode_rewards(
    mode: Mode, steps: Sequence[tuple[int, float, Any, Any]], outcomes: Mapping[int, Any]
) -> list[float]:
    """Rewards of the decisions ``(task id, decision time, ...)`` given the run's outcomes (module docstring)."""
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
    rng: np.random.Generator,
    sim_config: SimConfig | None = None,
    sim_seed: int = 0,
    terminal: bool = False,
) -> EpisodeResult:
    """Run ``scenario`` once with exploration, then feed every transition to ``agent.update`` in order.

    Tasks that did not complete are left out. ``sim_config`` defaults to ``SimConfig(mode="isolated")`` (its
    mode sets the rewards). ``terminal``: the scenario's last task ends the episode (value 0 after it);
    otherwise the scenario is a window of a longer stream and its last transition bootstraps from its own state's
    value (truncation, not termination).
    """
    config = sim_config if sim_config is not None else SimConfig(mode="isolated")
    explorer = ExploringScheduler(
        agent, rng, CandidateEncoder(int(getattr(agent, "n", 5)), int(getattr(agent, "k", 3)))
    )
    result = Simulator(scenario, explorer, config, seed=sim_seed).run()
    outcomes = {o.task_id: o for o in result.outcomes}
    steps = [s for s in explorer.steps if outcomes[s[0]].status == "completed"]
    rewards = episode_rewards(config.mode, steps, outcomes)
    losses: dict[str, list[float]] = {}
    for i, ((_, _, obs, action), reward) in enumerate(zip(steps, rewards, strict=True)):
        if i + 1 < len(steps):
            out = agent.update(obs, action, reward, steps[i + 1][2], False)
        elif terminal:
            out = agent.update(obs, action, reward, None, True)
        else:  # a window of a longer task stream is truncated, not terminated: bootstrap from V(s) itself
            out = agent.update(obs, action, reward, obs, False)
        for key, value in (out or {}).items():
            losses.setdefault(key, []).append(float(value))
    done = [o.response_s for o in result.outcomes if o.status == "completed"]
    return EpisodeResult(
        float(np.mean(done)) if done else math.nan,
        float(sum(rewards)),
        len(steps),
        {key: float(np.mean(values)) for key, values in losses.items()},
    )


def evaluate(
    agent: Agent, scenarios: Sequence[Scenario], *, sim_config: SimConfig | None = None
) -> tuple[float, float]:
    """Greedy policy on ``scenarios`` (simulator seed = the scenario's index).

    Returns:
        The mean over scenarios of the mean response of the completed tasks, in s, and the mean over scenarios of
        minus the total response time (the episode return), in s.

    Raises:
        ConfigError: no scenario.
    """
    if not scenarios:
        raise ConfigError("evaluate needs at least one scenario")
    config = sim_config if sim_config is not None else SimConfig(mode="isolated")
    means, returns = [], []
    for i, scenario in enumerate(scenarios):
        sched = LearnedScheduler(agent, CandidateEncoder(int(getattr(agent, "n", 5)), int(getattr(agent, "k", 3))))
        result = Simulator(scenario, sched, config, seed=i).run()
        done = [o.response_s for o in result.outcomes if o.status == "completed"]
        means.append(float(np.mean(done)) if done else math.nan)
        returns.append(-float(np.sum(done)))
    return float(np.mean(means)), float(np.mean(returns))


# -- configuration -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainConfig:
    """What to train and on what.

    Attributes:
        scheduler: The learning scheduler's id (``rlms-cpn``, ``rlms-mlp``, ``gnn-dqn``).
        topologies: Training (and validation) topologies; several train one general policy.
        steps: Transitions to learn from in total (a resumed run continues up to this count; the run ends at the
            first episode end at or past it).
        seed: Seeds the agent's weights, the episode draws and the exploration.
        mode: ``isolated`` (one task in the system at a time, as the paper trains) or ``online``.
        transport: The simulator's transport model, ``tcp`` (its default) or ``fluid``.
        episode_tasks: Tasks per training episode (a window of a training scenario).
        scenarios: Training scenarios per topology (seeds ``TRAIN_SEED_BASE + i``).
        scenario_tasks: Tasks per training scenario.
        eval_every: Steps between greedy evaluations and checkpoints (0: only at the end).
        eval_tasks: Tasks per validation scenario.
        hyper: Hyper-parameters passed to the agent factory.
        n_candidates: Compute vertices per observation (paper: 5).
        k_paths: Paths per compute vertex (paper: 3).
        scenario: Settings of every scenario (``n_tasks`` replaced).
    """

    scheduler: str = "rlms-cpn"
    topologies: tuple[str, ...] = ("abilene",)
    steps: int = 30_000
    seed: int = 0
    mode: Mode = "isolated"
    transport: TransportModel = "tcp"
    episode_tasks: int = 50
    scenarios: int = 4
    scenario_tasks: int = 500
    eval_every: int = 2_500
    eval_tasks: int = 100
    hyper: Mapping[str, Any] = field(default_factory=dict)
    n_candidates: int = 5
    k_paths: int = 3
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "topologies", tuple(self.topologies))
        object.__setattr__(self, "hyper", dict(self.hyper))
        if not self.topologies:
            raise ConfigError("topologies=(): give at least one topology to train on")
        for name, value, low in (
            ("steps", self.steps, 1),
            ("episode_tasks", self.episode_tasks, 1),
            ("scenarios", self.scenarios, 1),
            ("scenario_tasks", self.scenario_tasks, 1),
            ("eval_every", self.eval_every, 0),
            ("eval_tasks", self.eval_tasks, 1),
        ):
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
                raise ConfigError(f"{name}={value!r} must be an integer >= {low}")
        if self.mode not in ("online", "isolated"):
            raise ConfigError(f"mode={self.mode!r} must be 'online' or 'isolated'")
        if self.transport not in ("tcp", "fluid"):
            raise ConfigError(
                f"transport={self.transport!r} must be 'tcp' or 'fluid' (tcp-queue is too slow to train under; "
                "evaluate trained policies under it instead)"
            )
        if TRAIN_SEED_BASE + self.scenarios > 2**31:
            raise ConfigError(f"scenarios={self.scenarios} is too many")

    @property
    def sim_config(self) -> SimConfig:
        """The simulator settings of every episode and evaluation."""
        return SimConfig(mode=self.mode, transport=TransportConfig(model=self.transport))

    def run_settings(self) -> dict[str, Any]:
        """The settings a resumed run must share with its checkpoint (plain data)."""
        return {
            "scheduler": self.scheduler,
            "topologies": list(self.topologies),
            "seed": self.seed,
            "mode": self.mode,
            "transport": self.transport,
            "episode_tasks": self.episode_tasks,
            "scenarios": self.scenarios,
            "scenario_tasks": self.scenario_tasks,
            "eval_tasks": self.eval_tasks,
            "hyper": dict(self.hyper),
            "n_candidates": self.n_candidates,
            "k_paths": self.k_paths,
            "scenario": repr(self.scenario),
        }


def training_scenarios(config: TrainConfig) -> list[Scenario]:
    """``config.scenarios`` training scenarios of each topology (seeds ``TRAIN_SEED_BASE + i``)."""
    base = replace(config.scenario, n_tasks=config.scenario_tasks)
    return [
        build_scenario(topo, seed=TRAIN_SEED_BASE + i, config=base)
        for topo in config.topologies
        for i in range(config.scenarios)
    ]


def validation_scenarios(config: TrainConfig) -> list[Scenario]:
    """The validation scenarios of each topology (``VALIDATION_SEEDS``, ``config.eval_tasks`` tasks)."""
    base = replace(config.scenario, n_tasks=config.eval_tasks)
    return [build_scenario(topo, seed=s, config=base) for topo in config.topologies for s in VALIDATION_SEEDS]


# -- the loop ------------------------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
        agent: The trained agent (its last weights).
        curve: One row per evaluation: ``step``, ``episodes``, ``eval_response_s`` (mean response of the greedy
            policy on the validation scenarios), ``eval_reward`` (their mean episode return, minus the total
            response, in s), ``train_response_s`` and ``train_return`` (means over the training episodes since
            the previous row; NaN if none), ``loss/<name>`` (means of ``agent.update``'s outputs), ``wall_s``,
            ``train_s``, ``eval_s`` (cumulative wall-clock seconds, also across resumes).
        steps: Steps trained in total.
        train_s: Wall-clock seconds spent in episodes and updates (this call only).
        eval_s: Wall-clock seconds spent evaluating (this call only).
        best_state: The agent state (without pending transitions or replay buffer) at the best evaluation.
        best_row: The curve row of the best evaluation.
        checkpoint: The last checkpoint written (``None`` without ``out``).
        steps_this_call: Steps trained by this call.
    """

    agent: Agent
    curve: list[dict[str, float]]
    steps: int
    train_s: float
    eval_s: float
    best_state: dict[str, Any]
    best_row: dict[str, float]
    checkpoint: Path | None = None
    steps_this_call: int = 0

    @property
    def s_per_step(self) -> float:
        """Wall-clock seconds per training step in this call (acting, simulating and updating; no evaluation)."""
        return self.train_s / self.steps_this_call if self.steps_this_call else math.nan


def _default_factory() -> AgentFactory:
    from cpnkit.schedulers.learned import make_agent

    return make_agent


def _acting_state(agent: Agent) -> dict[str, Any]:
    """The agent's state less what only continued training needs (kept for the best evaluation)."""
    return {k: v for k, v in copy.deepcopy(agent.state()).items() if k not in ("pending", "replay", "replay_rng")}


def train(
    config: TrainConfig,
    *,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    agent_factory: AgentFactory | None = None,
    progress: Callable[[int, int, Mapping[str, float]], None] | None = None,
    scenarios: Sequence[Scenario] | None = None,
    validation: Sequence[Scenario] | None = None,
) -> TrainResult:
    """Train ``config.scheduler``'s agent for ``config.steps`` steps (or up to them from a checkpoint).

    Args:
        config: What to train, where, how long.
        out: Directory for ``checkpoint.pt`` (latest), ``best.pt`` (best evaluation), ``curve.csv`` and
            ``curve.png``, written at every evaluation; ``None`` writes nothing.
        resume: A checkpoint to continue from (same settings; ``config.steps`` is the new total).
        agent_factory: Builds the agent (default ``cpnkit.schedulers.learned.make_agent``).
        progress: Called as ``progress(step, total, last_curve_row)`` after every episode.
        scenarios: Train on these instead of ``training_scenarios(config)`` (e.g. a hand-built topology; a
            checkpoint does not record them).
        validation: Evaluate on these instead of ``validation_scenarios(config)``.

    Raises:
        CheckpointError: ``resume`` is unreadable or does not match ``config``.
        ConfigError: bad settings (from the config, the scenarios or the agent factory).
    """
    ckpt = None
    if resume is not None:  # before building anything: a bad file fails fast
        ckpt = load_checkpoint(resume)
        _check_resume(ckpt, config, resume)
    factory = agent_factory if agent_factory is not None else _default_factory()
    agent = factory(config.scheduler, config.n_candidates, config.k_paths, config.seed, **config.hyper)
    rng = np.random.default_rng(config.seed)
    step, episode, curve = 0, 0, []
    best_state: dict[str, Any] = {}
    best_row: dict[str, float] = {}
    wall0 = dict.fromkeys(WALL_COLUMNS, 0.0)
    if ckpt is not None:
        try:
            agent.load_state(ckpt["agent"])
        except CheckpointError as exc:
            raise CheckpointError(f"checkpoint {resume}: {exc}") from None
        try:
            rng.bit_generator.state = ckpt["rng"]
        except (TypeError, ValueError, KeyError) as exc:
            raise CheckpointError(f"checkpoint {resume}: rng is not a numpy generator state ({exc})") from None
        _set_torch_rng(ckpt.get("torch_rng"))
        step, episode, curve = int(ckpt["step"]), int(ckpt["episode"]), [dict(r) for r in ckpt["curve"]]
        best_state, best_row = dict(ckpt.get("best_state") or {}), dict(ckpt.get("best_row") or {})
        if curve:
            wall0 = {key: float(curve[-1][key]) for key in WALL_COLUMNS}
    out_dir = Path(out) if out is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    sim_config = config.sim_config
    train_sc = list(scenarios) if scenarios is not None else training_scenarios(config)
    valid_sc = list(validation) if validation is not None else validation_scenarios(config)
    if not train_sc or not valid_sc:
        raise ConfigError("train needs at least one training and one validation scenario")

    responses: list[float] = []
    returns: list[float] = []
    losses: dict[str, list[float]] = {}
    train_s = eval_s = 0.0
    start_step = step
    ckpt_path: Path | None = None
    last_row: Mapping[str, float] = curve[-1] if curve else {}
    t_mark = time.perf_counter()
    while step < config.steps:
        scenario = train_sc[int(rng.integers(len(train_sc)))]
        tasks = scenario.tasks
        lo = int(rng.integers(0, max(1, len(tasks) - config.episode_tasks + 1)))
        window = replace(scenario, tasks=tasks[lo : lo + config.episode_tasks])
        sim_seed = int(rng.integers(2**31))
        try:
            ep = run_episode(agent, window, rng=rng, sim_config=sim_config, sim_seed=sim_seed)
        except InfeasibleError:  # pragma: no cover - the filter always finds a site in the paper scenarios
            continue
        step += ep.transitions
        episode += 1
        responses.append(ep.mean_response_s)
        returns.append(ep.episode_return)
        for key, value in ep.losses.items():
            losses.setdefault(key, []).append(value)
        due = config.eval_every and step >= (int(last_row.get("step", 0)) // config.eval_every + 1) * config.eval_every
        if due or step >= config.steps:
            now = time.perf_counter()
            train_s += now - t_mark
            eval_response, eval_reward = evaluate(agent, valid_sc, sim_config=sim_config)
            t_mark = time.perf_counter()
            eval_s += t_mark - now
            row: dict[str, float] = {
                "step": float(step),
                "episodes": float(episode),
                "eval_response_s": eval_response,
                "eval_reward": eval_reward,
                "train_response_s": float(np.nanmean(responses)) if responses else math.nan,
                "train_return": float(np.mean(returns)) if returns else math.nan,
            }
            row.update({f"loss/{key}": float(np.mean(values)) for key, values in sorted(losses.items())})
            row["wall_s"] = wall0["wall_s"] + train_s + eval_s
            row["train_s"] = wall0["train_s"] + train_s
            row["eval_s"] = wall0["eval_s"] + eval_s
            curve.append(row)
            last_row = row
            responses, returns, losses = [], [], {}
            is_best = not best_row or eval_response < best_row["eval_response_s"]
            if is_best:
                best_state, best_row = _acting_state(agent), dict(row)
            if out_dir is not None:
                ckpt_path = _save(out_dir, config, agent, rng, step, episode, curve, best_state, best_row, is_best)
                write_curve(curve, out_dir / "curve.csv", out_dir / "curve.png", title=_title(config))
                t_mark = time.perf_counter()  # writing files is not training time
        if progress is not None:
            progress(step, config.steps, last_row)
    train_s += time.perf_counter() - t_mark
    return TrainResult(agent, curve, step, train_s, eval_s, best_state, best_row, ckpt_path, step - start_step)


# -- checkpoints ---------------------------------------------------------------------------------------------------


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ConfigError("checkpoints are torch files; install torch with pip install 'cpnkit[learn]'") from None
    return torch


def _set_torch_rng(state: Any) -> None:
    if state is not None:
        try:
            _torch().set_rng_state(state)
        except (TypeError, RuntimeError) as exc:
            raise CheckpointError(f"checkpoint torch_rng is not a torch generator state ({exc})") from None


def _save(
    out_dir: Path,
    config: TrainConfig,
    agent: Agent,
    rng: np.random.Generator,
    step: int,
    episode: int,
    curve: Sequence[Mapping[str, float]],
    best_state: Mapping[str, Any],
    best_row: Mapping[str, float],
    is_best: bool,
) -> Path:
    torch = _torch()
    payload = {
        "format": CHECKPOINT_FORMAT,
        "scheduler": config.scheduler,
        "features": feature_layout(),
        "n": config.n_candidates,
        "k": config.k_paths,
        "hyper": dict(config.hyper),
        "settings": config.run_settings(),
        "step": step,
        "episode": episode,
        "rng": rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
        "curve": [dict(row) for row in curve],
        "best_state": dict(best_state),
        "best_row": dict(best_row),
        "agent": agent.state(),
    }
    path = out_dir / "checkpoint.pt"
    tmp = out_dir / ".checkpoint.pt.tmp"
    torch.save(payload, tmp)
    if is_best:
        torch.save(payload, out_dir / ".best.pt.tmp")
        os.replace(out_dir / ".best.pt.tmp", out_dir / "best.pt")
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`train` (``weights_only=True``: plain data and tensors only).

    Raises:
        CheckpointError: the file is missing, unreadable, not a cpnkit checkpoint, of another format version, or
            its features differ from this version's (the message names the file and the fix).
    """
    torch = _torch()
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; give the checkpoint.pt a training run wrote")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises pickle, zip, runtime and EOF errors for damaged files
        raise CheckpointError(
            f"checkpoint {path} cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); it is "
            "damaged or not a cpnkit training checkpoint: resume from another one or train from scratch"
        ) from None
    if not isinstance(data, dict) or "format" not in data or "agent" not in data:
        raise CheckpointError(f"checkpoint {path} is not a cpnkit training checkpoint (no format/agent entries)")
    if data["format"] != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"checkpoint {path} has format {data['format']!r}, this cpnkit reads {CHECKPOINT_FORMAT}; train anew or "
            "use the cpnkit version that wrote it"
        )
    features = feature_layout()
    if data.get("features") != features:
        raise CheckpointError(
            f"checkpoint {path} was trained on features {data.get('features')}, this cpnkit encodes {features}; "
            "retrain with this version"
        )
    missing = [key for key in ("step", "episode", "rng", "curve", "settings") if key not in data]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {missing}; it is incomplete: resume from another one")
    return dict(data)


_FLAGS = {"topologies": "--topology", "scheduler": "--scheduler", "hyper": "--hyper"}


def _check_resume(ckpt: Mapping[str, Any], config: TrainConfig, path: str | Path) -> None:
    saved = ckpt["settings"]
    wanted = config.run_settings()
    for key, value in wanted.items():
        if saved.get(key) != value:
            flag = _FLAGS.get(key, "--" + key.replace("_", "-"))
            raise CheckpointError(
                f"checkpoint {path} was trained with {key}={saved.get(key)!r}, this run asks for {value!r}; resume "
                f"with the checkpoint's {flag} (or start a new run without --resume)"
            )
    if int(ckpt["step"]) > config.steps:
        raise CheckpointError(
            f"checkpoint {path} is at step {ckpt['step']}, past --steps {config.steps}; ask for more steps to resume"
        )


# -- the shipped-policy format -------------------------------------------------------------------------------------


def export_policy(
    config: TrainConfig, result: TrainResult, stem: str | Path, *, command: Sequence[str] | str
) -> dict[str, Any]:
    """Write the best evaluation's weights as a bundled policy (``<stem>.npz`` float16 + ``<stem>.json``).

    The JSON records the exact command, the settings, seed, steps, wall-clock, the curve, the code's provenance
    (git commit, dirty flag) and the evaluation of the float16 file as shipped. Returns that record.

    Raises:
        ConfigError: the result has no evaluation, or the scheduler is not a bundled kind.
    """
    from cpnkit.bench.paper import provenance
    from cpnkit.datasets.policies import load_policy, write_policy
    from cpnkit.schedulers.learned import agent_from_state
    from cpnkit.schedulers.learned.agents import ActorCriticAgent, DQNAgent

    if not result.best_state:
        raise ConfigError("the run has no evaluation to export; train at least one step")
    agent = agent_from_state(result.best_state, seed=config.seed)
    if not isinstance(agent, ActorCriticAgent | DQNAgent):  # pragma: no cover - agent_from_state builds these
        raise ConfigError(f"{config.scheduler} is not a bundled-policy kind")
    last = result.curve[-1]
    record: dict[str, Any] = {
        "command": command if isinstance(command, str) else shlex.join(command),
        "scheduler": config.scheduler,
        "topologies": list(config.topologies),
        "seed": config.seed,
        "steps": result.steps,
        "episodes": int(last["episodes"]),
        "mode": config.mode,
        "transport": config.transport,
        "settings": config.run_settings(),
        "hyper": dict(config.hyper),
        "wall_s": round(last["wall_s"], 2),
        "kept": {"steps": int(result.best_row["step"]), "eval_mean_response_s": result.best_row["eval_response_s"]},
        "final_eval_mean_response_s": last["eval_response_s"],
        "validation": (
            f"greedy policy, {config.mode}, {config.transport}, {config.eval_tasks} tasks, scenario seeds "
            f"{', '.join(map(str, VALIDATION_SEEDS))} of each topology, simulator seed = index"
        ),
        "history": [{k: round(v, 6) for k, v in row.items()} for row in result.curve],
        "code": provenance(),
    }
    write_policy(agent, stem, record)
    # the file holds float16 weights: evaluate what ships, then record it
    shipped, _ = evaluate(load_policy(stem), validation_scenarios(config), sim_config=config.sim_config)
    record["shipped_eval_mean_response_s"] = shipped
    write_policy(agent, stem, record)
    out: dict[str, Any] = json.loads(json.dumps(record))
    return out


# -- curves --------------------------------------------------------------------------------------------------------


def _title(config: TrainConfig) -> str:
    return (
        f"{config.scheduler} on {'+'.join(config.topologies)} ({config.mode}, {config.transport}, seed {config.seed})"
    )


def write_curve(
    curve: Sequence[Mapping[str, float]], csv_path: str | Path, png_path: str | Path | None = None, title: str = ""
) -> None:
    """Write the training curve as CSV (one row per evaluation) and, optionally, a PNG (matplotlib, Agg).

    The PNG has the validation's mean response latency (ms) and the mean episode reward against the step.
    """
    columns: list[str] = []
    for row in curve:
        columns.extend(c for c in row if c not in columns)
    csv_path = Path(csv_path)
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, restval="")
        writer.writeheader()
        for row in curve:
            writer.writerow({key: (int(v) if key in ("step", "episodes") else repr(v)) for key, v in row.items()})
    if png_path is None or not curve:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [row["step"] for row in curve]
    fig, (ax_lat, ax_rew) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax_lat.plot(steps, [row["eval_response_s"] * 1e3 for row in curve], marker="o", label="validation (greedy)")
    ax_lat.plot(steps, [row["train_response_s"] * 1e3 for row in curve], marker=".", label="training episodes")
    ax_lat.set_xlabel("training step (decisions)")
    ax_lat.set_ylabel("mean response latency (ms)")
    ax_lat.legend()
    ax_rew.plot(steps, [row["eval_reward"] for row in curve], marker="o", label="validation (greedy)")
    ax_rew.set_xlabel("training step (decisions)")
    ax_rew.set_ylabel("mean episode return (s)")
    ax_rew.legend()
    for ax in (ax_lat, ax_rew):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(png_path, dpi=120)
    plt.close(fig)


def curve_without_wall(curve: Sequence[Mapping[str, float]]) -> list[dict[str, float]]:
    """The curve less its wall-clock columns (what equal runs share)."""
    return [{k: v for k, v in row.items() if k not in WALL_COLUMNS} for row in curve]
