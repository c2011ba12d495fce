from __future__ import annotations

import numpy as np
import pytest
import torch

from cpnkit.schedulers.learned import make_agent, numpy_nets
from cpnkit.schedulers.learned.nets import RELATIVE_SCALE, SyncGNN


def _obs(rng: np.random.Generator, n: int, k: int, real_nodes: int | None = None) -> dict[str, np.ndarray]:
    real = real_nodes if real_nodes is not None else int(rng.integers(1, n + 1))
    node_mask = np.zeros(n, dtype=np.int8)
    node_mask[:real] = 1
    path_mask = np.zeros((n, k), dtype=np.int8)
    for i in range(real):
        path_mask[i, : int(rng.integers(1, k + 1))] = 1
    node = rng.random((n, 6)).astype(np.float32) * node_mask[:, None]
    path = rng.random((n, k, 5)).astype(np.float32) * path_mask[..., None]
    task = rng.random(3).astype(np.float32)
    return {"node": node, "path": path, "task": task, "node_mask": node_mask, "path_mask": path_mask}


def _t(obs: dict[str, np.ndarray]) -> tuple[torch.Tensor, ...]:
    return tuple(
        torch.from_numpy(np.asarray(obs[key], dtype=np.float32)[None])
        for key in ("node", "path", "task", "node_mask", "path_mask")
    )


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def test_syncgnn_message_passing_equals_hand_computation_on_2x3_graph() -> None:
    hidden = 2
    net = SyncGNN(f_node=1, f_path=1, f_task=1, hidden=hidden)
    with torch.no_grad():  # fixed weights: w[r, c] = (r + 1) * 0.1 - c * 0.05, biases 0.01 * (r + 1)
        for p in net.parameters():
            if p.ndim == 2:
                rows, cols = p.shape
                p.copy_(torch.tensor([[(r + 1) * 0.1 - c * 0.05 for c in range(cols)] for r in range(rows)]))
            else:
                p.copy_(torch.tensor([0.01 * (r + 1) for r in range(p.shape[0])]))
    node = np.array([[0.5], [0.2]], dtype=np.float32)
    path = np.array([[[0.1], [0.3], [0.0]], [[0.4], [0.6], [0.8]]], dtype=np.float32)
    task = np.array([1.0], dtype=np.float32)
    node_mask = np.array([1, 1], dtype=np.int8)
    path_mask = np.array([[1, 1, 0], [1, 1, 1]], dtype=np.int8)  # node 0 has 2 real paths, node 1 has 3
    obs = {"node": node, "path": path, "task": task, "node_mask": node_mask, "path_mask": path_mask}
    fused, _ = net(*_t(obs))

    w = {name: p.detach().numpy().astype(np.float64) for name, p in net.state_dict().items()}

    def lin(name: str, x: list[float]) -> np.ndarray:
        return w[f"{name}.weight"] @ np.array(x) + w[f"{name}.bias"]

    # relative inputs: difference to the smallest real value (over nodes; over the node's real paths)
    node_min = min(node[0, 0], node[1, 0])
    expected = []
    for i in range(2):
        h_c = _relu(lin("node_in", [node[i, 0], (node[i, 0] - node_min) * RELATIVE_SCALE, task[0]]))
        real = [j for j in range(3) if path_mask[i, j]]
        path_min = min(path[i, j, 0] for j in real)
        m = np.zeros(hidden)
        for j in real:  # eq. 4: m_i = sum over the node's real paths of M(h_i^c, h_j^p)
            h_p = _relu(lin("path_in", [path[i, j, 0], (path[i, j, 0] - path_min) * RELATIVE_SCALE]))
            m += _relu(lin("message2", list(_relu(lin("message1", [*h_c, *h_p])))))
        # eq. 5: h_i^c' = U(h_i^c, m_i)
        expected.append(_relu(lin("update2", list(_relu(lin("update1", [*h_c, *m]))))))
    np.testing.assert_allclose(fused[0].detach().numpy(), np.array(expected), rtol=1e-5, atol=1e-6)
    # the padded path of node 0 contributes nothing, whatever its features
    obs2 = dict(obs, path=path.copy())
    obs2["path"][0, 2, 0] = 99.0
    np.testing.assert_allclose(net(*_t(obs2))[0].detach().numpy(), fused.detach().numpy(), atol=1e-6)


@pytest.mark.parametrize("agent_id", ["rlms-cpn", "rlms-mlp"])
def test_numpy_forward_equals_torch_forward_actor_critic(agent_id: str) -> None:
    rng = np.random.default_rng(1)
    agent = make_agent(agent_id, n=5, k=3, seed=3)
    for _ in range(10):
        obs = _obs(rng, 5, 3)
        logits_t, conc_t = agent.actor(*_t(obs))
        logits_n, conc_n = numpy_nets.actor_forward(agent._np_actor, obs, agent.hyper.floor)
        real = obs["node_mask"] > 0
        np.testing.assert_allclose(logits_n[real], logits_t[0].detach().numpy()[real], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(conc_n, conc_t[0].detach().numpy(), rtol=1e-4, atol=1e-5)
        v_t = float(agent.critic(*_t(obs))[0].detach())
        assert numpy_nets.critic_forward(agent._np_critic, obs) == pytest.approx(v_t, rel=1e-4, abs=1e-5)


def test_numpy_forward_equals_torch_forward_q() -> None:
    rng = np.random.default_rng(2)
    agent = make_agent("gnn-dqn", n=5, k=3, seed=4)
    for _ in range(10):
        obs = _obs(rng, 5, 3)
        q_t = agent.q(*_t(obs))[0].detach().numpy()
        np.testing.assert_allclose(agent.q_values(obs), q_t, rtol=1e-4, atol=1e-5)


def test_numpy_views_follow_training_updates() -> None:
    rng = np.random.default_rng(0)
    agent = make_agent("rlms-cpn", n=5, k=3, seed=0, batch=1, policy_lr=1e-2)
    obs = _obs(rng, 5, 3, real_nodes=5)
    before = agent.policy(obs)[0].copy()
    for _ in range(5):
        action = agent.act(obs, explore=True, rng=rng)
        agent.update(obs, action, -0.01 if action["node"] == 0 else -0.05, obs, False)
    after = agent.policy(obs)[0]
    logits_t, _ = agent.actor(*_t(obs))
    np.testing.assert_allclose(after, torch.softmax(logits_t[0], -1).detach().numpy(), atol=1e-5)
    assert not np.allclose(before, after)
