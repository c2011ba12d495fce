"""SyncGNN as a PyTorch Geometric ``MessagePassing`` layer vs our dense implementation: same outputs? faster?

The issue asks for "PyTorch Geometric where it helps (measure decision time)". This script builds SyncGNN's
message passing (paper eqs. 4-5) as a PyG layer over the candidate graph of a real decision: ``n = 5`` compute
vertices, ``n * k = 15`` path vertices, edges only from each path vertex to its compute vertex (padded paths have
no edge), message ``M([h_i^c, h_ij^p])`` summed per compute vertex, update ``U([h_i^c, m_i])``, sharing the weights
of the bundled ``rlms-cpn`` abilene policy's encoder. It checks the fused compute-vertex features equal our torch
module's and our numpy inference's, then times one encoder pass per decision (p50 / p99 over ``--reps`` decisions,
interleaved, one torch thread): numpy (what ``rlms-cpn`` runs when deciding), dense torch under ``no_grad``, and PyG
(edge index built from the masks each decision, as a new graph arrives with every task). It also times a whole
``rlms-cpn`` decision (``agent.act``) for scale. Skips with a message when PyG is not installed.

Run: ``python benchmarks/bench_syncgnn_pyg.py [--reps N] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3000, help="timed decisions per implementation")
    ap.add_argument("--json", type=Path, default=Path("results/bench_syncgnn_pyg.json"), help="write results here")
    args = ap.parse_args(argv)
    try:
        import torch_geometric
        from torch_geometric.nn import MessagePassing
    except ImportError:
        print("PyTorch Geometric is not installed (pip install torch_geometric): skipping the SyncGNN/PyG comparison")
        return 0
    import torch

    from cpnkit.datasets import ScenarioConfig
    from cpnkit.datasets.policies import bundled_agent
    from cpnkit.envs import SchedulingEnv
    from cpnkit.schedulers.learned import numpy_nets
    from cpnkit.schedulers.learned.nets import SyncGNN, relative_inputs

    torch.set_num_threads(1)
    agent = bundled_agent("rlms-cpn", "abilene")
    gnn: SyncGNN = agent.actor.encoder  # type: ignore[union-attr]
    weights = {k: v.detach().numpy() for k, v in agent.actor.state_dict().items()}  # type: ignore[union-attr]

    class SyncGNNConv(MessagePassing):  # type: ignore[misc]
        """Eqs. 4-5 on a bipartite graph: path vertices (sources) -> compute vertices (targets), sum aggregation."""

        def __init__(self, ref: SyncGNN) -> None:
            super().__init__(aggr="add", flow="source_to_target")
            self.ref = ref

        def forward(self, h_p, h_c, edge_index):  # type: ignore[no-untyped-def]
            m = self.propagate(edge_index, x=(h_p, h_c), size=(h_p.shape[0], h_c.shape[0]))
            return torch.relu(self.ref.update2(torch.relu(self.ref.update1(torch.cat((h_c, m), dim=-1)))))

        # no annotations: PyG reads this signature, and the deferred ones name a locally imported torch
        def message(self, x_i, x_j):  # type: ignore[no-untyped-def]
            return torch.relu(self.ref.message2(torch.relu(self.ref.message1(torch.cat((x_i, x_j), dim=-1)))))

    conv = SyncGNNConv(gnn)

    def pyg_forward(obs: dict[str, Any]) -> torch.Tensor:
        node = torch.from_numpy(obs["node"])[None]
        path = torch.from_numpy(obs["path"])[None]
        task = torch.from_numpy(obs["task"])
        nmask = torch.from_numpy(obs["node_mask"].astype(np.float32))[None]
        pmask = torch.from_numpy(obs["path_mask"].astype(np.float32))[None]
        node_r, path_r = relative_inputs(node, path, nmask, pmask)
        n, k = node.shape[1], path.shape[2]
        h_c = torch.relu(gnn.node_in(torch.cat((node_r[0], task.expand(n, -1)), dim=-1)))
        real = pmask[0].reshape(-1) > 0
        h_p = torch.relu(gnn.path_in(path_r[0].reshape(n * k, -1)))
        src = torch.nonzero(real).squeeze(1)  # path vertex (i, j) is flat index i * k + j
        edge_index = torch.stack((src, torch.div(src, k, rounding_mode="floor")))
        return conv(h_p, h_c, edge_index) * nmask[0, :, None]

    def dense_forward(obs: dict[str, Any]) -> torch.Tensor:
        batch = [
            torch.from_numpy(np.asarray(obs[key], dtype=np.float32))[None]
            for key in ("node", "path", "task", "node_mask", "path_mask")
        ]
        return gnn(*batch)[0][0]

    def numpy_forward(obs: dict[str, Any]) -> np.ndarray:
        return numpy_nets.encoder_forward(weights, "encoder", obs)[0]

    env = SchedulingEnv("abilene", n_tasks=200, mode="online", scenario_config=ScenarioConfig(arrival_rate_per_s=300.0))
    observations = []
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    done = False
    while not done:
        observations.append({k: np.asarray(v) for k, v in obs.items()})
        obs, _, done, _, _ = env.step(dict(agent.act(obs, explore=False, rng=rng)))
    real_paths = [int(o["path_mask"].sum()) for o in observations]

    worst = 0.0
    with torch.no_grad():
        for o in observations:
            a, b, c = pyg_forward(o).numpy(), dense_forward(o).numpy(), numpy_forward(o)
            worst = max(worst, float(np.abs(a - b).max()), float(np.abs(a - c).max()))
    scale = float(np.abs(dense_forward(observations[0]).detach().numpy()).max())
    print(
        f"{len(observations)} candidate graphs from abilene (real paths per graph {min(real_paths)}-{max(real_paths)})"
    )
    print(f"outputs: max |PyG - ours| = {worst:.2e} (largest feature {scale:.2f})")
    if worst > 1e-4 * max(scale, 1.0):
        print("PyG and our SyncGNN disagree", file=sys.stderr)
        return 1

    impls = {
        "numpy (rlms-cpn inference)": numpy_forward,
        "torch dense, no_grad": dense_forward,
        "PyG MessagePassing, no_grad": pyg_forward,
        "whole rlms-cpn decision (agent.act)": lambda o: agent.act(o, explore=False, rng=rng),
    }
    times: dict[str, list[float]] = {name: [] for name in impls}
    with torch.no_grad():
        for fn in impls.values():  # warm up
            for o in observations[:50]:
                fn(o)
        for r in range(args.reps):
            o = observations[r % len(observations)]
            for name, fn in impls.items():
                t0 = time.perf_counter()
                fn(o)
                times[name].append(time.perf_counter() - t0)
    out = {}
    print(f"\nencoder pass per decision, {args.reps} decisions, interleaved, 1 torch thread (ms):")
    for name, values in times.items():
        p50, p99 = (float(np.percentile(values, q)) * 1e3 for q in (50, 99))
        out[name] = {"p50_ms": p50, "p99_ms": p99}
        print(f"  {name:38s} p50 {p50:7.3f}  p99 {p99:7.3f}")
    from cpnkit.bench.paper import provenance

    record = {
        "benchmark": "syncgnn_pyg",
        "command": f"python benchmarks/bench_syncgnn_pyg.py --reps {args.reps}",
        "torch_geometric": torch_geometric.__version__,
        "torch": torch.__version__,
        "graphs": len(observations),
        "max_abs_diff": worst,
        "timings": out,
        "code": provenance(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
