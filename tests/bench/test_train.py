from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cpnkit.bench.train import (
    EVAL_SEED_BASE,
    TrainConfig,
    curve_without_wall,
    load_checkpoint,
    train,
    training_seed,
)
from cpnkit.datasets import ScenarioConfig
from cpnkit.errors import CheckpointError
from cpnkit.schedulers import Action, Agent, Observation


class TinyAgent:
    """A linear softmax over the node features, trained by a REINFORCE-like step (plain-data state)."""

    def __init__(self, id: str, n: int, k: int, seed: int, lr: float = 0.5) -> None:
        self.id, self.n, self.k, self.lr = id, n, k, lr
        self.w = np.random.default_rng(seed).normal(0.0, 0.1, 6)
        self.steps = 0

    def _probs(self, obs: Observation) -> np.ndarray:
        logits = obs["node"].astype(np.float64) @ self.w
        logits = np.where(obs["node_mask"] > 0, logits, -np.inf)
        p = np.exp(logits - logits.max())
        return p / p.sum()

    def act(self, obs: Observation, *, explore: bool, rng: np.random.Generator) -> Action:
        p = self._probs(obs)
        node = int(rng.choice(self.n, p=p)) if explore else int(np.argmax(p))
        split = rng.dirichlet(np.ones(self.k)) if explore else np.ones(self.k)
        return {"node": node, "split": split.astype(np.float32)}

    def update(
        self, obs: Observation, action: Action, reward: float, next_obs: Observation | None, terminated: bool
    ) -> dict[str, float]:
        p = self._probs(obs)
        grad = obs["node"][action["node"]] - p @ obs["node"]
        self.w = self.w + self.lr * reward * grad
        self.steps += 1
        return {"reward": reward, "w_norm": float(np.linalg.norm(self.w))}

    def state(self) -> dict[str, Any]:
        return {"id": self.id, "n": self.n, "k": self.k, "w": self.w.tolist(), "steps": self.steps}

    def load_state(self, state: Mapping[str, Any]) -> None:
        if state.get("id") != self.id:
            raise CheckpointError(f"state is for {state.get('id')!r}, not {self.id!r}")
        self.w = np.asarray(state["w"], dtype=np.float64)
        self.steps = int(state["steps"])


def tiny_factory(id: str, n: int, k: int, seed: int, **hyper: Any) -> Agent:
    return TinyAgent(id, n, k, seed, **hyper)


def _config(steps: int, **kw: Any) -> TrainConfig:
    base: dict[str, Any] = {
        "scheduler": "tiny",
        "topologies": ("abilene",),
        "steps": steps,
        "seed": 3,
        "mode": "isolated",
        "n_tasks": 7,  # episodes end between evaluations and at odd steps
        "eval_every": 10,
        "eval_episodes": 2,
        "hyper": {"lr": 0.3},
        "scenario": ScenarioConfig(arrival_rate_per_s=200.0),
    }
    base.update(kw)
    return TrainConfig(**base)


def test_tiny_agent_satisfies_the_agent_protocol() -> None:
    assert isinstance(TinyAgent("tiny", 5, 3, 0), Agent)


def test_train_returns_curve_and_writes_checkpoint_csv_png(tmp_path: Path) -> None:
    result = train(_config(30), out=tmp_path, agent_factory=tiny_factory)
    assert [row["step"] for row in result.curve] == [10.0, 20.0, 30.0]
    for row in result.curve:
        assert row["eval_reward"] < 0.0
        assert 0.0 < row["eval_response_s"] < 10.0
        assert row["eval_rejected"] == 0.0
        assert "loss/w_norm" in row
    assert result.steps == 30
    assert result.steps_this_call == 30
    assert result.s_per_step > 0.0
    assert {p.name for p in tmp_path.iterdir()} == {"checkpoint.pt", "best.pt", "curve.csv", "curve.png"}
    lines = (tmp_path / "curve.csv").read_text().splitlines()
    assert lines[0].startswith("step,episodes,eval_reward,eval_response_s")
    assert len(lines) == 4
    ckpt = load_checkpoint(tmp_path / "checkpoint.pt")
    assert ckpt["step"] == 30
    assert ckpt["scheduler"] == "tiny"
    assert (ckpt["n"], ckpt["k"]) == (5, 3)
    assert ckpt["features"]["node"][0] == "compute"
    assert ckpt["hyper"] == {"lr": 0.3}
    assert ckpt["agent"]["steps"] == 30


def test_resume_continues_the_same_run(tmp_path: Path) -> None:
    whole = train(_config(40), agent_factory=tiny_factory)
    first = train(_config(20), out=tmp_path / "a", agent_factory=tiny_factory)
    # 20 steps with 7-task episodes: the checkpoint falls inside an episode, which the resume replays
    assert load_checkpoint(tmp_path / "a" / "checkpoint.pt")["episode_actions"]
    rest = train(_config(40), out=tmp_path / "b", resume=tmp_path / "a" / "checkpoint.pt", agent_factory=tiny_factory)
    assert first.steps == 20
    assert rest.steps_this_call == 20
    assert curve_without_wall(rest.curve) == curve_without_wall(whole.curve)
    assert rest.agent.state() == whole.agent.state()
    assert rest.curve[-1]["wall_s"] >= first.curve[-1]["wall_s"]


def test_resume_refuses_mismatched_or_corrupt_checkpoints(tmp_path: Path) -> None:
    train(_config(10), out=tmp_path, agent_factory=tiny_factory)
    ckpt = tmp_path / "checkpoint.pt"
    with pytest.raises(CheckpointError, match=r"trained with seed=3, this run asks for 4.*--seed"):
        train(_config(20, seed=4), resume=ckpt, agent_factory=tiny_factory)
    with pytest.raises(CheckpointError, match=r"hyper=\{'lr': 0.3\}.*--set"):
        train(_config(20, hyper={"lr": 0.1}), resume=ckpt, agent_factory=tiny_factory)
    with pytest.raises(CheckpointError, match=r"step 10, past --steps 5"):
        train(_config(5), resume=ckpt, agent_factory=tiny_factory)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(ckpt.read_bytes()[:200])
    with pytest.raises(CheckpointError, match=r"bad\.pt cannot be read.*damaged"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_training_and_evaluation_seeds_are_disjoint() -> None:
    seeds = {training_seed(s, e) for s in range(5) for e in range(2000)}
    assert max(seeds) < EVAL_SEED_BASE
    assert len(seeds) > 9900


def test_untrained_curve_row_has_nan_return_when_no_episode_finished(tmp_path: Path) -> None:
    result = train(_config(3, eval_every=0, n_tasks=50), agent_factory=tiny_factory)
    (row,) = result.curve
    assert row["step"] == 3.0
    assert math.isnan(row["train_return"])
