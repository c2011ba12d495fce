from __future__ import annotations

from dataclasses import replace

import numpy as np

from cpnkit.bench.rl import ExploringScheduler, run_episode, train
from cpnkit.schedulers import CandidateEncoder
from cpnkit.schedulers.learned import make_agent
from cpnkit.sim import Scenario, SimConfig, Simulator


def _policy_mean_response_s(agent: object, scenario: Scenario, seed: int) -> float:
    """Mean response of the stochastic policy (exploring, no learning) over the scenario."""
    sched = ExploringScheduler(agent, np.random.default_rng(seed), CandidateEncoder(4, 2))  # type: ignore[arg-type]
    result = Simulator(scenario, sched, SimConfig(mode="isolated"), seed=seed).run()
    return float(np.mean([o.response_s for o in result.outcomes]))


def test_short_training_on_a_tiny_topology_improves_the_mean_reward(toy: Scenario) -> None:
    # the toy's responses are a few ms, so rewards are scaled by 2 ms instead of the default 100 ms
    agent = make_agent("rlms-cpn", n=4, k=2, seed=0, policy_lr=3e-3, value_lr=3e-3, batch=8, reward_scale_s=0.002)
    held_out = replace(toy, tasks=toy.tasks[:100])
    before = _policy_mean_response_s(agent, held_out, seed=7)
    log = train(agent, [toy], steps=1500, seed=0, episode_tasks=40)
    after = _policy_mean_response_s(agent, held_out, seed=7)
    assert log.steps >= 1500
    # the far site's 1 ms device beats the near 2-4 ms ones; the untrained policy spreads over all four.
    # Under the default tcp transport the far site's edge is smaller (slow start pays its longer RTT): the
    # trained policy measured 8.7% faster here (over 10% under fluid, the old bar), so the bar is 5%
    assert after < 0.95 * before, (before, after)


def test_online_episode_rewards_sum_to_minus_total_response(toy: Scenario) -> None:
    dense = replace(toy, tasks=tuple(replace(t, arrival_s=t.id * 1e-3) for t in toy.tasks[:30]))
    agent = make_agent("rlms-cpn", n=4, k=2, seed=0, batch=1000)
    ep = run_episode(agent, dense, mode="online", rng=np.random.default_rng(0))
    assert ep.transitions == 30
    assert abs(ep.episode_return + ep.mean_response_s * 30) < 1e-9
