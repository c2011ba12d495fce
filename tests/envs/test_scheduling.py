from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import cpnkit.envs
from cpnkit.datasets import ScenarioConfig
from cpnkit.envs.scheduling import SchedulingEnv
from cpnkit.errors import ConfigError, CpnError, DecisionError, InfeasibleError
from cpnkit.model import Snapshot, Task
from cpnkit.schedulers import CandidateEncoder, CandidateGraph
from cpnkit.sim import SimConfig, check_result

BUSY = ScenarioConfig(arrival_rate_per_s=300.0)  # tasks overlap in online mode


def _random_action(obs: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    real = np.flatnonzero(obs["node_mask"])
    # splits outside the simplex on purpose: negatives, zeros, > 1
    return {"node": int(rng.choice(real)), "split": rng.uniform(-0.5, 2.0, obs["path_mask"].shape[1])}


def _episode(env: SchedulingEnv, seed: int, policy_seed: int = 0) -> tuple[list[float], list[dict[str, Any]]]:
    rng = np.random.default_rng(policy_seed)
    obs, info = env.reset(seed=seed)
    rewards, infos = [], [info]
    done = False
    while not done:
        obs, reward, done, truncated, info = env.step(_random_action(obs, rng))
        assert not truncated
        rewards.append(reward)
        infos.append(info)
    return rewards, infos


def test_env_passes_gymnasium_check_env() -> None:
    check_env(SchedulingEnv("abilene", n_tasks=20, scenario_config=BUSY), skip_render_check=True)


def test_env_is_registered_and_made_by_id() -> None:
    assert cpnkit.envs.ENV_ID == "cpnkit/Scheduling-v0"
    env = gym.make("cpnkit/Scheduling-v0", topology="abilene", n_tasks=5, mode="isolated")
    obs, _ = env.reset(seed=1)
    assert env.observation_space.contains(obs)
    assert isinstance(env.unwrapped, SchedulingEnv)
    assert isinstance(env.unwrapped.graph, CandidateGraph)
    assert isinstance(env.unwrapped.encoder, CandidateEncoder)
    env.close()


@pytest.mark.parametrize("mode", ["online", "isolated"])
def test_episode_return_is_minus_total_response_time(mode: str) -> None:
    env = SchedulingEnv("abilene", n_tasks=40, mode=mode, scenario_config=BUSY)  # type: ignore[arg-type]
    rewards, infos = _episode(env, seed=3)
    result = infos[-1]["result"]
    assert env.scenario is not None
    check_result(result, env.scenario)
    completed = [o for o in result.outcomes if o.status == "completed"]
    assert len(completed) == 40 == len(rewards)
    total_response_s = math.fsum(o.response_s for o in completed)
    assert -math.fsum(rewards) == pytest.approx(total_response_s, rel=1e-9)
    # every outcome is reported once, as it finishes
    assert sorted(o.task_id for info in infos for o in info["outcomes"]) == list(range(40))
    if mode == "isolated":  # one task in the system at a time: each reward is minus that task's latency
        response = {o.task_id: o.response_s for o in completed}
        for reward, info in zip(rewards, infos[1:], strict=True):
            assert -reward == pytest.approx(response[info["decided_task_id"]], rel=1e-9)
    else:  # tasks overlapped, so the per-step rewards are not per-task latencies
        assert max(o.queue_s for o in completed) > 0.0 or result.stats["max_active_flows"] > 1


def test_split_given_to_the_simulator_lies_on_the_simplex() -> None:
    env = SchedulingEnv("abilene", n_tasks=30, scenario_config=BUSY)
    _, infos = _episode(env, seed=5, policy_seed=7)
    decisions = [info["decision"] for info in infos[1:]]
    assert env.result is not None
    assert tuple(decisions) == env.result.decisions
    for decision in decisions:
        split = np.asarray(decision.split)
        assert np.all(split >= 0.0)
        assert math.isclose(float(split.sum()), 1.0, rel_tol=1e-12)
        assert len(split) == len(decision.paths)


def test_acting_on_a_masked_node_raises() -> None:
    env = SchedulingEnv("abilene", n_tasks=3, n_candidates=12)  # more slots than abilene has sites
    obs, _ = env.reset(seed=0)
    masked = np.flatnonzero(obs["node_mask"] == 0)
    assert masked.size > 0
    with pytest.raises(DecisionError, match=r"node \d+ is masked out.*node_mask"):
        env.step({"node": int(masked[0]), "split": np.ones(3, np.float32)})
    with pytest.raises(DecisionError, match="must be a dict"):
        env.step(np.int64(0))  # type: ignore[arg-type]
    # the env is still usable: the task still awaits its decision
    obs, *_ = env.step({"node": 0, "split": np.ones(3, np.float32)})
    assert obs["node_mask"][0] == 1


def test_same_seed_same_episode_other_seed_differs() -> None:
    a, _ = _episode(SchedulingEnv("abilene", n_tasks=15, scenario_config=BUSY), seed=11)
    b, _ = _episode(SchedulingEnv("abilene", n_tasks=15, scenario_config=BUSY), seed=11)
    c, _ = _episode(SchedulingEnv("abilene", n_tasks=15, scenario_config=BUSY), seed=12)
    assert a == b
    assert a != c


def test_reset_without_seed_continues_the_seeded_stream() -> None:
    def seeds(env: SchedulingEnv) -> list[tuple[int | None, str]]:
        out = []
        env.reset(seed=4)
        for _ in range(3):
            _, info = env.reset()
            out.append((info["seed"], info["topology"]))
        return out

    first = seeds(SchedulingEnv(["abilene", "ebone"], n_tasks=2))
    assert first == seeds(SchedulingEnv(["abilene", "ebone"], n_tasks=2))
    assert len({s for s, _ in first}) == 3


def test_topology_option_and_errors() -> None:
    env = SchedulingEnv(["abilene", "ebone"], n_tasks=2)
    _, info = env.reset(seed=0, options={"topology": "ebone"})
    assert info["topology"] == "ebone"
    with pytest.raises(ConfigError, match=r"not one of this env's topologies"):
        env.reset(seed=0, options={"topology": "kdl"})
    with pytest.raises(ConfigError, match="n_tasks"):
        SchedulingEnv("abilene", n_tasks=0)
    with pytest.raises(CpnError, match=r"call reset\(\)"):
        SchedulingEnv("abilene", n_tasks=2).step({"node": 0, "split": np.ones(3)})


def test_tasks_no_candidate_serves_are_rejected_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    class Picky(CandidateEncoder):
        def encode(self, task: Task, snapshot: Snapshot) -> CandidateGraph:
            if task.id in (0, 2):
                raise InfeasibleError(f"task {task.id}: no compute site is reachable")
            return super().encode(task, snapshot)

    monkeypatch.setattr("cpnkit.envs.scheduling.CandidateEncoder", Picky)
    env = SchedulingEnv("abilene", n_tasks=5, mode="isolated", sim_config=SimConfig())
    rewards, infos = _episode(env, seed=2)
    assert infos[0]["rejected"] == (0,)  # rejected before the first observation
    assert infos[0]["task_id"] == 1
    assert sorted(r for info in infos for r in info["rejected"]) == [0, 2]
    assert len(rewards) == 3
    result = infos[-1]["result"]
    reasons = {o.task_id: o.reason for o in result.outcomes if o.status == "rejected"}
    assert set(reasons) == {0, 2}
    assert all("infeasible" in r for r in reasons.values())
    completed = math.fsum(o.response_s for o in result.outcomes if o.status == "completed")
    assert -math.fsum(rewards) == pytest.approx(completed, rel=1e-9)
