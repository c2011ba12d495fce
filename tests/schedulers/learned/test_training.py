from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from cpnkit.bench.train import ExploringScheduler, TrainConfig, run_episode, train
from cpnkit.envs import SchedulingEnv
from cpnkit.schedulers import Action, CandidateEncoder, Observation
from cpnkit.schedulers.learned import make_agent
from cpnkit.sim import Scenario, SimConfig, Simulator


def _policy_mean_response_s(agent: object, scenario: Scenario, seed: int) -> float:
    """Mean response of the stochastic policy (exploring, no learning) over the scenario."""
    sched = ExploringScheduler(agent, np.random.default_rng(seed), CandidateEncoder(4, 2))  # type: ignore[arg-type]
    result = Simulator(scenario, sched, SimConfig(mode="isolated"), seed=seed).run()
    return float(np.mean([o.response_s for o in result.outcomes]))


def test_short_training_on_a_tiny_topology_improves_the_mean_reward(toy: Scenario) -> None:
    # the toy's responses are a few ms, so rewards are scaled by 2 ms instead of the default 100 ms
    hyper = {"policy_lr": 3e-3, "value_lr": 3e-3, "batch": 8, "reward_scale_s": 0.002}
    config = TrainConfig(
        "rlms-cpn", steps=1500, seed=0, episode_tasks=40, eval_every=0, hyper=hyper, n_candidates=4, k_paths=2
    )
    held_out = replace(toy, tasks=toy.tasks[:100])
    before = _policy_mean_response_s(make_agent("rlms-cpn", n=4, k=2, seed=0, **hyper), held_out, seed=7)
    result = train(config, scenarios=[toy], validation=[held_out])
    after = _policy_mean_response_s(result.agent, held_out, seed=7)
    assert result.steps >= 1500
    # the far site's 1 ms device beats the near 2-4 ms ones; the untrained policy spreads over all four.
    # Under the default tcp transport the far site's edge is smaller (slow start pays its longer RTT): the
    # trained policy measured 8.7% faster here (over 10% under fluid, the old bar), so the bar is 5%
    assert after < 0.95 * before, (before, after)


def test_online_episode_rewards_sum_to_minus_total_response(toy: Scenario) -> None:
    dense = replace(toy, tasks=tuple(replace(t, arrival_s=t.id * 1e-3) for t in toy.tasks[:30]))
    agent = make_agent("rlms-cpn", n=4, k=2, seed=0, batch=1000)
    ep = run_episode(agent, dense, sim_config=SimConfig(mode="online"), rng=np.random.default_rng(0))
    assert ep.transitions == 30
    assert abs(ep.episode_return + ep.mean_response_s * 30) < 1e-9


class _Recorder:
    """Acts greedily with an untrained rlms-cpn whatever ``explore`` says; records the rewards it learns from."""

    def __init__(self) -> None:
        self.inner = make_agent("rlms-cpn", 5, 3, seed=1, min_share=0.0)
        self.id, self.n, self.k = "rlms-cpn", 5, 3
        self.rewards: list[float] = []
        self.actions: list[tuple[int, list[float]]] = []

    def act(self, obs: Observation, *, explore: bool, rng: np.random.Generator) -> Action:
        action = self.inner.act(obs, explore=False, rng=rng)
        self.actions.append((int(action["node"]), [float(x) for x in action["split"]]))
        return action

    def update(
        self, obs: Observation, action: Action, reward: float, next_obs: Any, terminated: bool
    ) -> dict[str, float]:
        self.rewards.append(reward)
        return {}

    def state(self) -> dict[str, Any]:
        return {}

    def load_state(self, state: Any) -> None:
        return None


@pytest.mark.parametrize("mode", ["isolated", "online"])
def test_env_episode_and_simulator_episode_agree(mode: str) -> None:
    """The Gymnasium env and the training loop's simulator episode are one MDP: same actions, same rewards."""
    from cpnkit.datasets import ScenarioConfig

    env = SchedulingEnv("abilene", n_tasks=25, mode=mode, scenario_config=ScenarioConfig(arrival_rate_per_s=300.0))  # type: ignore[arg-type]
    obs, _ = env.reset(seed=11)
    env_agent, sim_agent = _Recorder(), _Recorder()
    env_rewards, done, info = [], False, {}
    while not done:
        obs, reward, done, _, info = env.step(dict(env_agent.act(obs, explore=False, rng=np.random.default_rng(0))))
        env_rewards.append(reward)
    assert env.scenario is not None
    ep = run_episode(
        sim_agent,  # type: ignore[arg-type]
        env.scenario,
        rng=np.random.default_rng(0),
        sim_config=env.sim_config,
        sim_seed=11,
        terminal=True,
    )
    assert sim_agent.actions == env_agent.actions
    assert sim_agent.rewards == pytest.approx(env_rewards, rel=1e-9, abs=1e-12)
    total_response_s = math.fsum(o.response_s for o in info["result"].outcomes if o.status == "completed")
    assert ep.episode_return == pytest.approx(-total_response_s, rel=1e-9)
    assert math.fsum(env_rewards) == pytest.approx(-total_response_s, rel=1e-9)


@pytest.mark.slow
def test_default_training_on_abilene_under_tcp_does_not_collapse() -> None:
    # Before the drawn-split gradient and split_lr 3e-4 this run (seed 0) fell from 80.2 ms of validation response
    # at step 20,000 back to 195 ms, near the untrained policy (README, "Training stability under tcp"); five seeds
    # of the defaults now end within 1% of their best validation. About 2 minutes.
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = train(TrainConfig("rlms-cpn", ("abilene",), steps=30_000, seed=0))
    finally:
        torch.set_num_threads(threads)
    responses = [row["eval_response_s"] for row in result.curve]
    assert responses[-1] <= 1.1 * min(responses), responses
    assert min(responses) < 0.5 * responses[0], responses  # it learned (untrained: about 196 ms)
