"""Evidence for the tcp sharing model: per-subflow delivery rate over time in ns-3 (issue 7).

Runs scenarios of a transfer-scenario file in ns-3 (the ``ns3`` extra, with ``cpnkit.bench.ns3_transfers``'s
settings) and prints every subflow's received rate per ``--dt`` interval, sampled by a small C++ event (Python
callables cannot be scheduled in ns-3), started through ``run_ns3``'s ``on_setup`` hook: a diagnostic, not part of
the validation.

Run (from an empty directory, ns-3 scans the current one for libraries):
``python benchmarks/ns3_rate_trace.py src/cpnkit/bench/data/transfer_suite.json share-diffRTT-2x10MB --dt 0.05``
"""

from __future__ import annotations

import argparse
import itertools
from typing import Any

from cpnkit.bench import ns3_transfers
from cpnkit.readwrite import read_transfer_scenarios

_SAMPLER = r"""
namespace cpnkit_trace {
using namespace ns3;
std::vector<std::vector<double>> samples; double dt = 0.01;
void Sample() {
  std::vector<double> row; row.push_back(Simulator::Now().GetSeconds());
  for (auto &s : cpnkit_ns3::sinks) row.push_back((double)s.bytes);
  samples.push_back(row);
  Simulator::Schedule(Seconds(dt), &Sample);
}
void Start(double d) { samples.clear(); dt = d; Simulator::Schedule(Seconds(0.0), &Sample); }
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", help="transfer-scenario JSON file")
    parser.add_argument("ids", help="comma-separated scenario ids")
    parser.add_argument("--dt", type=float, default=0.05, help="sampling interval in s")
    args = parser.parse_args()
    ns = ns3_transfers.load_ns3()
    ns.cppyy.cppdef(_SAMPLER)

    def start_sampler(ns_: Any) -> None:
        ns_.cppyy.gbl.cpnkit_trace.Start(args.dt)

    wanted = set(args.ids.split(","))
    for scenario in read_transfer_scenarios(args.scenarios):
        if scenario.id not in wanted:
            continue
        result = ns3_transfers.run_ns3([scenario], on_setup=start_sampler)[0]
        print(scenario.id, {k: round(v, 4) for k, v in result.task_completion_s.items()})
        names = [f"{t.id}/{s.id}" for t in scenario.tasks for s in t.subflows]
        rows = [list(r) for r in ns.cppyy.gbl.cpnkit_trace.samples]
        for prev, row in itertools.pairwise(rows):
            rates = [(b - a) * 8 / args.dt / 1e6 for a, b in zip(prev[1:], row[1:], strict=True)]
            if any(r > 0 for r in rates):
                print(f"  t={row[0]:.3f} s " + " ".join(f"{n} {r:6.1f}" for n, r in zip(names, rates, strict=True)))
    print("(rates in Mbit/s of payload received; time includes the scenario's t0_s shift)")


if __name__ == "__main__":
    main()
