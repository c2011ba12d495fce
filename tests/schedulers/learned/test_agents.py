from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cpnkit.errors import CheckpointError, ConfigError, UnknownSchedulerError
from cpnkit.schedulers import Agent
from cpnkit.schedulers.learned import AGENT_IDS, ActorCriticHyper, agent_from_state, bandwidth_reward, make_agent


@st.composite
def observations(draw: Any, n: int = 5, k: int = 3) -> dict[str, np.ndarray]:
    node_mask = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=np.int8)
    if not node_mask.any():
        node_mask[draw(st.integers(0, n - 1))] = 1
    path_mask = np.zeros((n, k), dtype=np.int8)
    for i in np.flatnonzero(node_mask):
        row = np.array(draw(st.lists(st.integers(0, 1), min_size=k, max_size=k)), dtype=np.int8)
        if not row.any():
            row[draw(st.integers(0, k - 1))] = 1
        path_mask[i] = row
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from([0.01, 1.0, 30.0]))
    return {
        "node": (rng.random((n, 6)) * scale).astype(np.float32) * node_mask[:, None],
        "path": (rng.random((n, k, 5)) * scale).astype(np.float32) * path_mask[..., None],
        "task": rng.normal(size=3).astype(np.float32),
        "node_mask": node_mask,
        "path_mask": path_mask,
    }


AGENTS = {aid: [make_agent(aid, n=5, k=3, seed=s) for s in range(3)] for aid in AGENT_IDS}


@pytest.mark.parametrize("agent_id", AGENT_IDS)
@settings(max_examples=25, deadline=None)
@given(obs=observations(), which=st.integers(0, 2), rng_seed=st.integers(0, 1000), explore=st.booleans())
def test_masked_actions_are_never_taken_and_splits_lie_on_the_simplex(
    agent_id: str, obs: dict[str, np.ndarray], which: int, rng_seed: int, explore: bool
) -> None:
    agent = AGENTS[agent_id][which]
    rng = np.random.default_rng(rng_seed)
    for _ in range(5):
        action = agent.act(obs, explore=explore, rng=rng)
        node = action["node"]
        assert obs["node_mask"][node] == 1
        split = np.asarray(action["split"], dtype=np.float64)
        assert split.shape == (3,)
        assert np.all(split >= 0)
        assert split.sum() == pytest.approx(1.0, abs=1e-5)
        assert np.all(split[obs["path_mask"][node] == 0] == 0)
        if "sample" in action:  # the drawn split: on the simplex over the real paths; split keeps its big shares
            sample = np.asarray(action["sample"], dtype=np.float64)
            assert sample.sum() == pytest.approx(1.0, abs=1e-5)
            assert np.all(sample[obs["path_mask"][node] == 0] == 0)
            kept = split > 0
            assert np.all(sample[~kept] < 0.1)
            assert np.allclose(split[kept], sample[kept] / sample[kept].sum(), atol=1e-5)


def test_agents_follow_the_agent_protocol() -> None:
    for aid in AGENT_IDS:
        agent = make_agent(aid, n=4, k=2, seed=0)
        assert isinstance(agent, Agent)
        assert agent.id == aid


def test_make_agent_unknown_id_suggests_close_ids() -> None:
    with pytest.raises(UnknownSchedulerError, match="Did you mean 'rlms-cpn'"):
        make_agent("rlms-cnp")


def test_make_agent_unknown_hyper_parameter_lists_valid_ones() -> None:
    with pytest.raises(ConfigError, match="policy_lr") as info:
        make_agent("rlms-cpn", policy_learning_rate=0.1)
    assert "policy_learning_rate" in str(info.value)
    with pytest.raises(ConfigError, match="eps_start"):
        make_agent("gnn-dqn", epsilon=0.1)
    with pytest.raises(ConfigError, match="gamma"):
        make_agent("rlms-cpn", gamma=1.5)


def test_paper_hyper_parameters_are_selectable() -> None:
    paper = ActorCriticHyper.paper()
    agent = make_agent("rlms-cpn", **{k: getattr(paper, k) for k in paper.__dataclass_fields__})
    assert agent.hyper == paper
    assert isinstance(agent.actor_opt, torch.optim.SGD)
    assert agent.actor_opt.param_groups[0]["lr"] == 0.1


def _train_a_bit(agent: Any, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    obs = {
        "node": rng.random((5, 6)).astype(np.float32),
        "path": rng.random((5, 3, 5)).astype(np.float32),
        "task": rng.random(3).astype(np.float32),
        "node_mask": np.ones(5, dtype=np.int8),
        "path_mask": np.ones((5, 3), dtype=np.int8),
    }
    for i in range(40):
        action = agent.act(obs, explore=True, rng=rng)
        agent.update(obs, action, -0.01 * (1 + action["node"]), None if i % 10 == 9 else obs, i % 10 == 9)


@pytest.mark.parametrize("agent_id", AGENT_IDS)
def test_state_round_trip_resumes_identically(agent_id: str) -> None:
    hyper = {"learn_start": 8, "batch": 8} if agent_id == "gnn-dqn" else {"batch": 4}
    a = make_agent(agent_id, n=5, k=3, seed=1, **hyper)
    _train_a_bit(a)
    state = copy.deepcopy(a.state())
    assert state["features"]["node"][0] == "compute"
    assert state["steps"] == 40
    assert state["n"] == 5
    assert state["k"] == 3
    assert "optimiser" in state
    assert state["hyper"]["batch"] == hyper["batch"]
    b = agent_from_state(state)
    rng = np.random.default_rng(5)
    obs = {
        "node": rng.random((5, 6)).astype(np.float32),
        "path": rng.random((5, 3, 5)).astype(np.float32),
        "task": rng.random(3).astype(np.float32),
        "node_mask": np.array([1, 1, 0, 1, 0], dtype=np.int8),
        "path_mask": np.array([[1, 1, 1], [1, 0, 0], [0, 0, 0], [1, 1, 0], [0, 0, 0]], dtype=np.int8),
    }
    np.testing.assert_array_equal(a.scores(obs), b.scores(obs))
    if agent_id != "gnn-dqn":  # the replay buffer is not saved, so only the actor-critic resumes bit for bit
        _train_a_bit(a, seed=3)
        _train_a_bit(b, seed=3)
        np.testing.assert_allclose(a.scores(obs), b.scores(obs), rtol=1e-6)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s: s.update(id="rlms-mlp"), "id="),
        (lambda s: s.update(n=4), "n="),
        (lambda s: s.update(features={"node": ["x"], "path": [], "task": []}), "features="),
        (lambda s: s["hyper"].update(hidden=16), "hyper-parameters"),
        (lambda s: s.update(format="other/9"), "format"),
        (lambda s: s.update(steps=-1), "steps"),
        (lambda s: s["weights"]["actor"].update({"node1.weight": torch.zeros(3, 3)}), "shape"),
        (lambda s: s["weights"]["actor"]["node1.weight"].fill_(float("nan")), "non-finite"),
        (lambda s: s["weights"]["actor"].pop("node1.bias"), "missing"),
        (lambda s: s["weights"].pop("actor"), "'actor' and 'critic'"),
        (lambda s: s["optimiser"].update(actor={"state": {}, "param_groups": []}), "optimiser"),
    ],
)
def test_mismatched_or_corrupt_checkpoint_raises_checkpoint_error(change: Any, match: str) -> None:
    agent = make_agent("rlms-cpn", n=5, k=3, seed=0)
    state = copy.deepcopy(agent.state())
    change(state)
    with pytest.raises(CheckpointError, match=match):
        make_agent("rlms-cpn", n=5, k=3, seed=0).load_state(state)


def test_checkpoint_that_is_not_a_mapping_raises_checkpoint_error() -> None:
    with pytest.raises(CheckpointError, match="not a mapping"):
        make_agent("gnn-dqn").load_state([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(CheckpointError, match="buildable"):
        agent_from_state({"id": "nope", "n": 5, "k": 3})


def test_bandwidth_reward_is_the_effective_bandwidth_of_the_split() -> None:
    path = np.zeros((1, 2, 5), dtype=np.float32)
    path[0, :, 1] = [np.log10(100.0), np.log10(300.0)]  # 100 and 300 Mbit/s available
    obs = {"path": path, "path_mask": np.ones((1, 2), dtype=np.int8)}
    # 1/4 on 100 Mbit/s, 3/4 on 300 Mbit/s: both finish together, 400 Mbit/s in all
    action = {"node": 0, "split": np.array([0.25, 0.75], dtype=np.float32)}
    assert bandwidth_reward(obs, action) == pytest.approx(np.log10(400.0), rel=1e-5)
    single = {"node": 0, "split": np.array([1.0, 0.0], dtype=np.float32)}
    assert bandwidth_reward(obs, single) == pytest.approx(2.0, rel=1e-5)


def test_importing_the_schedulers_does_not_import_torch() -> None:
    code = "import sys, cpnkit.schedulers, cpnkit.schedulers.learned; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_actor_critic_learns_at_the_drawn_split_not_the_pruned_one() -> None:
    obs = {
        "node": np.full((5, 6), 0.5, dtype=np.float32),
        "path": np.full((5, 3, 5), 0.5, dtype=np.float32),
        "task": np.zeros(3, dtype=np.float32),
        "node_mask": np.ones(5, dtype=np.int8),
        "path_mask": np.ones((5, 3), dtype=np.int8),
    }
    drawn = np.array([0.85, 0.1, 0.05], dtype=np.float32)
    pruned = np.array([0.85 / 0.95, 0.1 / 0.95, 0.0], dtype=np.float32)
    agents = [make_agent("rlms-cpn", n=5, k=3, seed=0, batch=1) for _ in range(3)]
    agents[0].update(obs, {"node": 1, "split": pruned, "sample": drawn}, -0.05, obs, False)  # type: ignore[arg-type]
    agents[1].update(obs, {"node": 1, "split": drawn}, -0.05, obs, False)  # type: ignore[arg-type]
    agents[2].update(obs, {"node": 1, "split": pruned}, -0.05, obs, False)  # type: ignore[arg-type]
    weights = [a.state()["weights"]["actor"] for a in agents]
    assert all(torch.equal(weights[0][key], weights[1][key]) for key in weights[0])
    assert not all(torch.equal(weights[0][key], weights[2][key]) for key in weights[0])
