from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cpnkit.bench.train import (
    TRAIN_SEED_BASE,
    VALIDATION_SEEDS,
    TrainConfig,
    curve_without_wall,
    load_checkpoint,
    train,
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
        "episode_tasks": 7,  # episodes end between evaluations and at odd steps
        "scenarios": 1,
        "scenario_tasks": 40,
        "eval_every": 10,
        "eval_tasks": 5,
        "hyper": {"lr": 0.3},
        "scenario": ScenarioConfig(arrival_rate_per_s=200.0),
    }
    base.update(kw)
    return TrainConfig(**base)


def test_tiny_agent_satisfies_the_agent_protocol() -> None:
    assert isinstance(TinyAgent("tiny", 5, 3, 0), Agent)


def test_train_returns_curve_and_writes_checkpoint_csv_png(tmp_path: Path) -> None:
    result = train(_config(30), out=tmp_path, agent_factory=tiny_factory)
    # evaluations at the first episode end at or past each multiple of 10 (7-task episodes), and at the end
    assert [row["step"] for row in result.curve] == [14.0, 21.0, 35.0]
    for row in result.curve:
        assert row["eval_reward"] < 0.0
        assert 0.0 < row["eval_response_s"] < 10.0
        assert row["eval_reward"] == pytest.approx(-row["eval_response_s"] * 5, rel=1e-9)  # isolated, 5 tasks
        assert "loss/w_norm" in row
    assert result.steps == 35
    assert result.steps_this_call == 35
    assert result.s_per_step > 0.0
    assert result.best_row["eval_response_s"] == min(row["eval_response_s"] for row in result.curve)
    assert {p.name for p in tmp_path.iterdir()} == {"checkpoint.pt", "best.pt", "curve.csv", "curve.png"}
    lines = (tmp_path / "curve.csv").read_text().splitlines()
    assert lines[0].startswith("step,episodes,eval_response_s,eval_reward,train_response_s")
    assert len(lines) == 4
    ckpt = load_checkpoint(tmp_path / "checkpoint.pt")
    assert ckpt["step"] == 35
    assert ckpt["scheduler"] == "tiny"
    assert (ckpt["n"], ckpt["k"]) == (5, 3)
    assert ckpt["features"]["node"][0] == "compute"
    assert ckpt["hyper"] == {"lr": 0.3}
    assert ckpt["settings"]["transport"] == "tcp"
    assert ckpt["agent"]["steps"] == 35


def test_resume_continues_the_same_run(tmp_path: Path) -> None:
    whole = train(_config(40), agent_factory=tiny_factory)
    first = train(_config(20), out=tmp_path / "a", agent_factory=tiny_factory)
    rest = train(_config(40), out=tmp_path / "b", resume=tmp_path / "a" / "checkpoint.pt", agent_factory=tiny_factory)
    assert first.steps == 21
    assert rest.steps == whole.steps == 42
    assert rest.steps_this_call == 21
    # the first half's last evaluation (step 21) is also the whole run's second one (first episode end past 20)
    assert curve_without_wall(rest.curve) == curve_without_wall(whole.curve)
    assert rest.agent.state() == whole.agent.state()
    assert rest.curve[-1]["wall_s"] >= first.curve[-1]["wall_s"]


def test_resume_refuses_mismatched_or_corrupt_checkpoints(tmp_path: Path) -> None:
    train(_config(10), out=tmp_path, agent_factory=tiny_factory)
    ckpt = tmp_path / "checkpoint.pt"
    with pytest.raises(CheckpointError, match=r"trained with seed=3, this run asks for 4.*--seed"):
        train(_config(20, seed=4), resume=ckpt, agent_factory=tiny_factory)
    with pytest.raises(CheckpointError, match=r"hyper=\{'lr': 0.3\}.*--hyper"):
        train(_config(20, hyper={"lr": 0.1}), resume=ckpt, agent_factory=tiny_factory)
    with pytest.raises(CheckpointError, match=r"transport='tcp', this run asks for 'fluid'.*--transport"):
        train(_config(20, transport="fluid"), resume=ckpt, agent_factory=tiny_factory)
    with pytest.raises(CheckpointError, match=r"step 14, past --steps 5"):
        train(_config(5), resume=ckpt, agent_factory=tiny_factory)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(ckpt.read_bytes()[:200])
    with pytest.raises(CheckpointError, match=r"bad\.pt cannot be read.*damaged"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_training_and_validation_seeds_are_disjoint_from_the_benchmark_seeds() -> None:
    train_seeds = {TRAIN_SEED_BASE + i for i in range(_config(1).scenarios)}
    assert not train_seeds & set(VALIDATION_SEEDS)
    assert not (train_seeds | set(VALIDATION_SEEDS)) & set(range(5))  # cpnkit bench paper evaluates on 0-4


def test_fluid_transport_changes_the_episodes() -> None:
    tcp = train(_config(7, eval_every=0), agent_factory=tiny_factory)
    fluid = train(_config(7, eval_every=0, transport="fluid"), agent_factory=tiny_factory)
    assert tcp.curve[0]["train_response_s"] != fluid.curve[0]["train_response_s"]


def _assert_same(a: Any, b: Any, where: str = "state") -> None:
    import torch

    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), where
        assert a.dtype == b.dtype, where
        assert torch.equal(a, b), where
    elif isinstance(a, Mapping):
        assert isinstance(b, Mapping), where
        assert set(a) == set(b), (where, set(a) ^ set(b))
        for key in a:
            _assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple), where
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, (where, a, b)


@pytest.mark.parametrize(
    ("scheduler", "hyper"),
    [
        ("rlms-cpn", {"batch": 16}),
        ("gnn-dqn", {"batch": 8, "learn_start": 20, "target_every": 3, "eps_decay_steps": 60}),
    ],
)
def test_resume_of_a_learned_agent_is_bit_identical(tmp_path: Path, scheduler: str, hyper: dict[str, Any]) -> None:
    cfg = {"scheduler": scheduler, "hyper": hyper, "episode_tasks": 25, "eval_every": 50, "seed": 5}
    whole = train(_config(100, **cfg))
    first = train(_config(50, **cfg), out=tmp_path)
    state = load_checkpoint(tmp_path / "checkpoint.pt")["agent"]
    # 50 steps is not a multiple of the update batch: the checkpoint holds unlearned transitions / a replay buffer
    if scheduler == "rlms-cpn":
        assert state["pending"]["count"] == 50 % 16
    else:
        assert state["replay"]["count"] == 50
        assert state["updates"] == 50 - 20 + 1
    rest = train(_config(100, **cfg), resume=tmp_path / "checkpoint.pt")
    assert first.steps == 50
    assert rest.steps == whole.steps == 100
    _assert_same(rest.agent.state(), whole.agent.state())
    assert curve_without_wall(rest.curve) == curve_without_wall(whole.curve)


def test_corrupt_agent_state_in_a_checkpoint_is_named(tmp_path: Path) -> None:
    import torch

    train(_config(25, scheduler="rlms-cpn", hyper={}, episode_tasks=25, eval_every=0), out=tmp_path)
    data = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    data["agent"]["pending"]["reward"] = data["agent"]["pending"]["reward"][:3]
    torch.save(data, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match=r"bad\.pt: checkpoint pending transitions holds 9 transitions"):
        train(_config(50, scheduler="rlms-cpn", hyper={}, episode_tasks=25, eval_every=0), resume=tmp_path / "bad.pt")
    data["agent"]["weights"]["actor"] = {}
    torch.save(data, tmp_path / "bad2.pt")
    with pytest.raises(CheckpointError, match=r"bad2\.pt: checkpoint actor weights: missing"):
        train(_config(50, scheduler="rlms-cpn", hyper={}, episode_tasks=25, eval_every=0), resume=tmp_path / "bad2.pt")
