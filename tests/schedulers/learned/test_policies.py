from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from cpnkit.datasets import ScenarioConfig, build_scenario
from cpnkit.datasets.policies import (
    GENERAL_POLICY,
    POLICY_TOPOLOGIES,
    bundled_agent,
    bundled_policy_meta,
    load_policy,
    read_policy,
    write_policy,
)
from cpnkit.errors import CheckpointError
from cpnkit.schedulers import make
from cpnkit.schedulers.learned import AGENT_IDS, make_agent
from cpnkit.sim import SimConfig, Simulator, check_result


@pytest.mark.parametrize("agent_id", AGENT_IDS)
def test_bundled_policies_load_for_every_paper_topology_and_fall_back_to_the_general_one(agent_id: str) -> None:
    for topology in (*POLICY_TOPOLOGIES, "somewhere-else"):
        meta = bundled_policy_meta(agent_id, topology)
        assert meta["policy"] in (topology, GENERAL_POLICY)
        prov = meta["provenance"]
        assert prov["command"].startswith(f"cpnkit train --scheduler {agent_id} ")
        assert prov["seed"] == 0
        assert prov["transport"] == "tcp"  # the simulator's default
        assert prov["code"]["git_dirty"] is False  # trained from a committed tree
        assert f"--export results/policies/{agent_id}/{meta['policy']}" in prov["command"]
        agent = bundled_agent(agent_id, topology)
        assert agent.id == agent_id
        assert agent.n == 5
        assert agent.k == 3
    assert bundled_policy_meta(agent_id, "somewhere-else")["policy"] == GENERAL_POLICY


@pytest.mark.parametrize("agent_id", AGENT_IDS)
def test_registered_learned_schedulers_decide_on_a_paper_topology(agent_id: str) -> None:
    scenario = build_scenario("abilene", seed=0, config=ScenarioConfig(n_tasks=8))
    sched = make(agent_id, seed=0)
    result = Simulator(scenario, sched, SimConfig(mode="isolated"), seed=0).run()
    check_result(result, scenario)
    assert all(o.status == "completed" for o in result.outcomes)
    d = result.decisions[0]
    assert d.scheduler == agent_id
    assert d.reason.startswith(agent_id)
    assert len(d.scores) >= 1


def test_bundled_files_are_small() -> None:
    from cpnkit.datasets._resources import bundled_file

    with bundled_file("models", "rlms") as root:
        total = sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())
    assert total < 1_000_000


def test_policy_files_round_trip_and_corruption_is_a_checkpoint_error(tmp_path: Path) -> None:
    agent = make_agent("rlms-mlp", n=5, k=3, seed=2)
    write_policy(agent, tmp_path / "p", {"command": "test", "seed": 2})
    again = load_policy(tmp_path / "p")
    obs = {
        "node": np.ones((5, 6), dtype=np.float32),
        "path": np.ones((5, 3, 5), dtype=np.float32),
        "task": np.zeros(3, dtype=np.float32),
        "node_mask": np.ones(5, dtype=np.int8),
        "path_mask": np.ones((5, 3), dtype=np.int8),
    }
    np.testing.assert_allclose(agent.scores(obs), again.scores(obs), atol=1e-3)  # float16 in the file
    assert read_policy(tmp_path / "p")["provenance"]["seed"] == 2

    shutil.copy(tmp_path / "p.json", tmp_path / "q.json")
    (tmp_path / "q.npz").write_bytes((tmp_path / "p.npz").read_bytes()[:200])
    with pytest.raises(CheckpointError, match="unreadable policy weights"):
        load_policy(tmp_path / "q")
    (tmp_path / "r.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="unreadable policy header"):
        load_policy(tmp_path / "r")
    header = json.loads((tmp_path / "p.json").read_text())
    header["k"] = 2
    (tmp_path / "s.json").write_text(json.dumps(header))
    shutil.copy(tmp_path / "p.npz", tmp_path / "s.npz")
    with pytest.raises(CheckpointError, match="k"):
        load_policy(tmp_path / "s")
