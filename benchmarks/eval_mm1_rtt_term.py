"""Does the simulator's M/M/1 RTT term (queueing at the background load) bring tcp closer to ns-3? (issue 7)

The simulator (``Simulator._rtt``) adds to a path's RTT the M/M/1 mean wait of a 1500 B packet at each link's
background utilisation; ``evaluate_transfers`` uses propagation only. For every scenario with CBR background this
prints ns-3's completion and the tcp model's without and with that term (patched into ``evaluate_transfers``).

Run: ``python benchmarks/eval_mm1_rtt_term.py src/cpnkit/bench/data/transfer_heldout.json`` (golden:
``<suite>_ns3.json``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cpnkit.sim.transfers as transfers
from cpnkit.model import Path as NetPath
from cpnkit.model import Topology
from cpnkit.perception.probes import mm1_mean_wait_s
from cpnkit.readwrite import read_transfer_scenarios
from cpnkit.sim import evaluate_transfers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite", type=Path)
    args = parser.parse_args()
    golden_doc = json.loads(args.suite.with_name(args.suite.stem + "_ns3.json").read_text())
    golden = {s["id"]: {t["id"]: t["completion_s"] for t in s["tasks"]} for s in golden_doc["scenarios"]}
    propagation = transfers.propagation_rtt_s
    for scenario in read_transfer_scenarios(args.suite):
        if not scenario.background:
            continue
        links = scenario.topology.links
        util = [0.0] * len(links)
        for flow in scenario.background:
            for link in flow.path.link_ids:
                util[link] += flow.rate_bps / links[link].capacity_bps

        def with_mm1(topology: Topology, path: NetPath, util: list[float] = util) -> float:
            queueing = sum(mm1_mean_wait_s(util[k], topology.links[k].capacity_bps) for k in path.link_ids)
            return propagation(topology, path) + queueing

        without = evaluate_transfers(scenario, "tcp").task_completion_s
        transfers.propagation_rtt_s = with_mm1
        try:
            with_term = evaluate_transfers(scenario, "tcp").task_completion_s
        finally:
            transfers.propagation_rtt_s = propagation
        for task_id, ns3 in golden[scenario.id].items():
            a, b = without[task_id], with_term[task_id]
            print(
                f"{scenario.id}/{task_id}: ns-3 {ns3 * 1e3:.1f} ms; tcp without M/M/1 {a * 1e3:.1f} ms "
                f"({a / ns3 - 1:+.1%}), with {b * 1e3:.1f} ms ({b / ns3 - 1:+.1%})"
            )


if __name__ == "__main__":
    main()
