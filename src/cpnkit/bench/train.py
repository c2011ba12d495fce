"""Training a learning agent on the Gymnasium env: the loop, periodic greedy evaluation, checkpoints, curves.

One *step* is one task decision: the agent acts on the env's observation (exploring), the env applies it, and the
transition goes to ``agent.update`` at once (``next_obs`` is ``None`` when the episode ends). Episodes are scenarios
of ``n_tasks`` tasks built with training seeds; every ``eval_every`` steps the greedy policy runs on fixed
evaluation seeds, and the curve gets a row (mean episode reward and mean response latency there, plus the training
returns and losses since the previous row). Training seeds are below ``2**31``, evaluation seeds ``EVAL_SEED_BASE``
and up, so the two never meet.

Checkpoints are ``torch.save`` files of plain data (loaded with ``weights_only=True``): the agent's
:meth:`~cpnkit.schedulers.Agent.state`, the run's settings, the step, the curve so far, the action generator's state
and the actions of the episode in progress (resuming replays them on the same seed, which restores the simulator
exactly). So training ``N`` steps in one go equals ``N/2`` steps, then a resume to ``N``.
"""

from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from cpnkit.datasets import ScenarioConfig
from cpnkit.envs.scheduling import SchedulingEnv
from cpnkit.errors import CheckpointError, ConfigError
from cpnkit.schedulers import Action, Agent
from cpnkit.schedulers.features import NODE_FEATURES, PATH_FEATURES, TASK_FEATURES
from cpnkit.sim import Mode, SimConfig

__all__ = [
    "CHECKPOINT_FORMAT",
    "EVAL_SEED_BASE",
    "WALL_COLUMNS",
    "AgentFactory",
    "EvalResult",
    "TrainConfig",
    "TrainResult",
    "curve_without_wall",
    "evaluate",
    "load_checkpoint",
    "make_env",
    "train",
    "training_seed",
    "write_curve",
]

#: Version of the checkpoint layout; a file with another one is refused.
CHECKPOINT_FORMAT = 1
#: Evaluation episode ``j`` is built with seed ``EVAL_SEED_BASE + j`` (training seeds are below it).
EVAL_SEED_BASE = 2**31
#: Columns of the curve that are measured wall-clock time (they differ between otherwise equal runs).
WALL_COLUMNS = ("wall_s", "train_s", "eval_s")


class AgentFactory(Protocol):
    """Builds a fresh agent (``cpnkit.schedulers.learned.make_agent`` has this signature)."""

    def __call__(self, id: str, n: int, k: int, seed: int, **hyper: Any) -> Agent: ...  # noqa: D102


@dataclass(frozen=True)
class TrainConfig:
    """What to train and on what.

    Attributes:
        scheduler: The learning scheduler's id (``rlms-cpn``, ``rlms-mlp``, ``gnn-dqn``).
        topologies: Training (and evaluation) topologies; each episode draws one with its seed.
        steps: Total decisions to train for (a resumed run continues up to this count).
        seed: Seeds the agent's weights, the training episodes and the exploration.
        mode: ``isolated`` (one task in the system at a time, as the paper trains) or ``online``.
        n_tasks: Tasks per episode.
        eval_every: Steps between evaluations and checkpoints (0: only at the end).
        eval_episodes: Evaluation episodes (seeds ``EVAL_SEED_BASE + j``, topology ``j`` mod the list).
        hyper: Hyper-parameters passed to the agent factory.
        n_candidates: Compute vertices per observation (paper: 5).
        k_paths: Paths per compute vertex (paper: 3).
        filter_rule: Candidate filter, ``class`` (the paper's) or ``bound``.
        scenario: Scenario settings of every episode (``n_tasks`` replaced).
    """

    scheduler: str = "rlms-cpn"
    topologies: tuple[str, ...] = ("abilene",)
    steps: int = 10_000
    seed: int = 0
    mode: Mode = "isolated"
    n_tasks: int = 100
    eval_every: int = 1_000
    eval_episodes: int = 5
    hyper: Mapping[str, Any] = field(default_factory=dict)
    n_candidates: int = 5
    k_paths: int = 3
    filter_rule: Literal["class", "bound"] = "class"
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "topologies", tuple(self.topologies))
        object.__setattr__(self, "hyper", dict(self.hyper))
        if not self.topologies:
            raise ConfigError("topologies=(): give at least one topology to train on")
        for name, value, low in (
            ("steps", self.steps, 1),
            ("n_tasks", self.n_tasks, 1),
            ("eval_every", self.eval_every, 0),
            ("eval_episodes", self.eval_episodes, 1),
        ):
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
                raise ConfigError(f"{name}={value!r} must be an integer >= {low}")
        if self.mode not in ("online", "isolated"):
            raise ConfigError(f"mode={self.mode!r} must be 'online' or 'isolated'")

    def run_settings(self) -> dict[str, Any]:
        """The settings a resumed run must share with its checkpoint (plain data)."""
        return {
            "scheduler": self.scheduler,
            "topologies": list(self.topologies),
            "seed": self.seed,
            "mode": self.mode,
            "n_tasks": self.n_tasks,
            "hyper": dict(self.hyper),
            "n_candidates": self.n_candidates,
            "k_paths": self.k_paths,
            "filter_rule": self.filter_rule,
            "scenario": repr(self.scenario),
        }


@dataclass(frozen=True)
class EvalResult:
    """Greedy evaluation over fixed seeds.

    Attributes:
        mean_reward: Mean episode return (minus the total response time of an episode), in s.
        mean_response_s: Mean response latency of the completed tasks, in s.
        rejected: Tasks rejected over all episodes.
        episodes: Episodes run.
    """

    mean_reward: float
    mean_response_s: float
    rejected: int
    episodes: int


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
        agent: The trained agent.
        curve: One row per evaluation (``step``, ``episodes``, ``eval_reward``, ``eval_response_s``,
            ``eval_rejected``, ``train_return`` (mean return of the training episodes finished since the previous
            row; NaN if none), ``loss/<name>`` (means of ``agent.update``'s outputs), ``wall_s``, ``train_s``,
            ``eval_s`` (cumulative wall-clock seconds, also across resumes)).
        steps: Steps trained in total.
        train_s: Wall-clock seconds spent stepping and updating (this call only).
        eval_s: Wall-clock seconds spent evaluating (this call only).
        checkpoint: The last checkpoint written (``None`` without ``out``).
    """

    agent: Agent
    curve: list[dict[str, float]]
    steps: int
    train_s: float
    eval_s: float
    checkpoint: Path | None = None
    steps_this_call: int = 0

    @property
    def s_per_step(self) -> float:
        """Wall-clock seconds per training step in this call (acting, env step and update; no evaluation)."""
        return self.train_s / self.steps_this_call if self.steps_this_call else math.nan


def training_seed(seed: int, episode: int) -> int:
    """The scenario seed of training episode ``episode`` of a run seeded ``seed`` (in ``[0, 2**31)``)."""
    state = np.random.SeedSequence([seed, episode]).generate_state(1, dtype=np.uint32)
    return int(state[0]) >> 1


def make_env(config: TrainConfig) -> SchedulingEnv:
    """The env the run trains (or evaluates) on."""
    return SchedulingEnv(
        list(config.topologies),
        n_tasks=config.n_tasks,
        mode=config.mode,
        scenario_config=config.scenario,
        n_candidates=config.n_candidates,
        k_paths=config.k_paths,
        filter_rule=config.filter_rule,
        sim_config=SimConfig(mode=config.mode),
        scheduler_name=config.scheduler,
    )


def evaluate(agent: Agent, env: SchedulingEnv, episodes: int, *, seed_base: int = EVAL_SEED_BASE) -> EvalResult:
    """Run the greedy policy for ``episodes`` episodes on seeds ``seed_base + j`` (topology ``j`` mod the list).

    Args:
        agent: The policy (``act(..., explore=False)``).
        env: The env (its episode in progress, if any, is abandoned).
        episodes: Number of episodes.
        seed_base: First evaluation seed.
    """
    rng = np.random.default_rng(0)  # the contract takes one; greedy acting draws nothing
    returns: list[float] = []
    responses: list[float] = []
    rejected = 0
    names = [t.name for t in env.topologies]
    for j in range(episodes):
        obs, _ = env.reset(seed=seed_base + j, options={"topology": names[j % len(names)]})
        total, done = 0.0, False
        while not done:
            obs, reward, done, _, info = env.step(dict(agent.act(obs, explore=False, rng=rng)))
            total += reward
        returns.append(total)
        result = info["result"]
        responses.extend(o.response_s for o in result.outcomes if o.status == "completed")
        rejected += sum(1 for o in result.outcomes if o.status == "rejected")
    return EvalResult(
        mean_reward=float(np.mean(returns)),
        mean_response_s=float(np.mean(responses)) if responses else math.nan,
        rejected=rejected,
        episodes=episodes,
    )


def _default_factory() -> AgentFactory:
    from cpnkit.schedulers.learned import make_agent

    return make_agent


def train(
    config: TrainConfig,
    *,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    agent_factory: AgentFactory | None = None,
    progress: Callable[[int, int, Mapping[str, float]], None] | None = None,
) -> TrainResult:
    """Train ``config.scheduler``'s agent for ``config.steps`` steps (or up to them from a checkpoint).

    Args:
        config: What to train, where, how long.
        out: Directory for ``checkpoint.pt`` (latest), ``best.pt`` (best evaluation reward), ``curve.csv`` and
            ``curve.png``, written at every evaluation; ``None`` writes nothing.
        resume: A checkpoint to continue from (same settings; ``config.steps`` is the new total).
        agent_factory: Builds the agent (default ``cpnkit.schedulers.learned.make_agent``).
        progress: Called as ``progress(step, total, last_curve_row)`` after every step.

    Raises:
        CheckpointError: ``resume`` is unreadable or does not match ``config``.
        ConfigError: bad settings (from the config, the env or the agent factory).
    """
    ckpt = None
    if resume is not None:  # before building anything: a bad file fails fast
        ckpt = load_checkpoint(resume)
        _check_resume(ckpt, config, resume)
    factory = agent_factory if agent_factory is not None else _default_factory()
    agent = factory(config.scheduler, config.n_candidates, config.k_paths, config.seed, **config.hyper)
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 1]))
    env, eval_env = make_env(config), make_env(config)
    step, episode, curve = 0, 0, []
    replay: list[tuple[int, list[float]]] = []
    best = -math.inf
    wall0 = {"wall_s": 0.0, "train_s": 0.0, "eval_s": 0.0}
    if ckpt is not None:
        try:
            agent.load_state(ckpt["agent"])
        except CheckpointError as exc:
            raise CheckpointError(f"checkpoint {resume}: {exc}") from None
        rng.bit_generator.state = ckpt["rng"]
        _set_torch_rng(ckpt.get("torch_rng"))
        step, episode, curve = int(ckpt["step"]), int(ckpt["episode"]), [dict(r) for r in ckpt["curve"]]
        replay = [(int(node), [float(x) for x in split]) for node, split in ckpt["episode_actions"]]
        best = float(ckpt.get("best_eval_reward", -math.inf))
        if curve:
            wall0 = {key: float(curve[-1][key]) for key in WALL_COLUMNS}
    out_dir = Path(out) if out is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)

    obs, _ = env.reset(seed=training_seed(config.seed, episode))
    actions: list[tuple[int, list[float]]] = []
    episode_return = 0.0
    for node, split in replay:  # the episode in progress at the checkpoint, decision by decision
        obs, reward, done, _, _ = env.step({"node": node, "split": np.asarray(split, dtype=np.float32)})
        actions.append((node, split))
        episode_return += reward
        if done:
            raise CheckpointError(f"checkpoint {resume}: its recorded episode ends early; it is corrupt")

    returns: list[float] = []
    losses: dict[str, list[float]] = {}
    train_s = eval_s = 0.0
    start_step = step
    ckpt_path: Path | None = None
    last_row: Mapping[str, float] = curve[-1] if curve else {}
    t_mark = time.perf_counter()
    while step < config.steps:
        action: Action = agent.act(obs, explore=True, rng=rng)
        node, ratios = int(action["node"]), np.asarray(action["split"], dtype=np.float32)
        next_obs, reward, done, _, _ = env.step({"node": node, "split": ratios})
        actions.append((node, [float(x) for x in ratios]))
        for key, value in agent.update(obs, action, reward, None if done else next_obs, done).items():
            losses.setdefault(key, []).append(float(value))
        episode_return += reward
        step += 1
        if done:
            returns.append(episode_return)
            episode_return, episode, actions = 0.0, episode + 1, []
            next_obs, _ = env.reset(seed=training_seed(config.seed, episode))
        obs = next_obs
        if (config.eval_every and step % config.eval_every == 0) or step == config.steps:
            now = time.perf_counter()
            train_s += now - t_mark
            result = evaluate(agent, eval_env, config.eval_episodes)
            t_mark = time.perf_counter()
            eval_s += t_mark - now
            row: dict[str, float] = {
                "step": float(step),
                "episodes": float(episode),
                "eval_reward": result.mean_reward,
                "eval_response_s": result.mean_response_s,
                "eval_rejected": float(result.rejected),
                "train_return": float(np.mean(returns)) if returns else math.nan,
            }
            row.update({f"loss/{key}": float(np.mean(values)) for key, values in sorted(losses.items())})
            row["wall_s"] = wall0["wall_s"] + train_s + eval_s
            row["train_s"] = wall0["train_s"] + train_s
            row["eval_s"] = wall0["eval_s"] + eval_s
            curve.append(row)
            last_row = row
            returns, losses = [], {}
            if out_dir is not None:
                is_best = result.mean_reward > best
                best = max(best, result.mean_reward)
                ckpt_path = _save(out_dir, config, agent, rng, step, episode, actions, curve, best, is_best)
                write_curve(curve, out_dir / "curve.csv", out_dir / "curve.png", title=_title(config))
                t_mark = time.perf_counter()  # writing files is not training time
        if progress is not None:
            progress(step, config.steps, last_row)
    train_s += time.perf_counter() - t_mark
    return TrainResult(agent, curve, step, train_s, eval_s, ckpt_path, step - start_step)


# -- checkpoints ---------------------------------------------------------------------------------------------------


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ConfigError("checkpoints are torch files; install torch with pip install 'cpnkit[rl]'") from None
    return torch


def _set_torch_rng(state: Any) -> None:
    if state is not None:
        _torch().set_rng_state(state)


def _save(
    out_dir: Path,
    config: TrainConfig,
    agent: Agent,
    rng: np.random.Generator,
    step: int,
    episode: int,
    actions: Sequence[tuple[int, list[float]]],
    curve: Sequence[Mapping[str, float]],
    best: float,
    is_best: bool,
) -> Path:
    torch = _torch()
    payload = {
        "format": CHECKPOINT_FORMAT,
        "scheduler": config.scheduler,
        "features": {"node": list(NODE_FEATURES), "path": list(PATH_FEATURES), "task": list(TASK_FEATURES)},
        "n": config.n_candidates,
        "k": config.k_paths,
        "hyper": dict(config.hyper),
        "settings": config.run_settings(),
        "step": step,
        "episode": episode,
        "episode_actions": [[node, list(split)] for node, split in actions],
        "rng": rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
        "curve": [dict(row) for row in curve],
        "best_eval_reward": best,
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
    features = {"node": list(NODE_FEATURES), "path": list(PATH_FEATURES), "task": list(TASK_FEATURES)}
    if data.get("features") != features:
        raise CheckpointError(
            f"checkpoint {path} was trained on features {data.get('features')}, this cpnkit encodes {features}; "
            "retrain with this version"
        )
    missing = [key for key in ("step", "episode", "episode_actions", "rng", "curve", "settings") if key not in data]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {missing}; it is incomplete: resume from another one")
    return dict(data)


def _check_resume(ckpt: Mapping[str, Any], config: TrainConfig, path: str | Path) -> None:
    saved = ckpt["settings"]
    wanted = config.run_settings()
    for key, value in wanted.items():
        if saved.get(key) != value:
            flag = {"topologies": "--topology", "scheduler": "--scheduler", "hyper": "--set"}.get(key, f"--{key}")
            raise CheckpointError(
                f"checkpoint {path} was trained with {key}={saved.get(key)!r}, this run asks for {value!r}; resume "
                f"with the checkpoint's {flag} (or start a new run without --resume)"
            )
    if int(ckpt["step"]) > config.steps:
        raise CheckpointError(
            f"checkpoint {path} is at step {ckpt['step']}, past --steps {config.steps}; ask for more steps to resume"
        )


# -- curves --------------------------------------------------------------------------------------------------------


def _title(config: TrainConfig) -> str:
    return f"{config.scheduler} on {'+'.join(config.topologies)} ({config.mode}, seed {config.seed})"


def write_curve(
    curve: Sequence[Mapping[str, float]], csv_path: str | Path, png_path: str | Path | None = None, title: str = ""
) -> None:
    """Write the training curve as CSV (one row per evaluation) and, optionally, a PNG (matplotlib, Agg).

    The PNG has the evaluation's mean response latency (ms) and the mean episode reward against the step.
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
    ax_lat.plot(steps, [row["eval_response_s"] * 1e3 for row in curve], marker="o")
    ax_lat.set_xlabel("training step (decisions)")
    ax_lat.set_ylabel("eval mean response latency (ms)")
    ax_rew.plot(steps, [row["eval_reward"] for row in curve], marker="o", label="eval (greedy)")
    ax_rew.plot(steps, [row["train_return"] for row in curve], marker=".", label="training episodes")
    ax_rew.set_xlabel("training step (decisions)")
    ax_rew.set_ylabel("mean episode reward (s)")
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
