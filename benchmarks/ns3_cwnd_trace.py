"""Evidence for the tcp-queue model's slow-start exit: per-subflow cwnd, ssthresh and RTT samples in ns-3 (issue 7).

Runs scenarios of a transfer-scenario file in ns-3 (the ``ns3`` extra, with ``cpnkit.bench.ns3_transfers``'s
settings) and records, per TCP sender, the ``CongestionWindow``, ``SlowStartThreshold`` and ``RTT`` trace sources of
its socket (C++ trace sinks, connected at time 0; Python callables cannot be hooked to ns-3 trace sources). Prints,
per subflow, when slow start ended (ssthresh set from its initial value), the window then, the minimum RTT sample
so far, and the RTT samples' granularity; ``--json`` writes every event. The tracer starts through ``run_ns3``'s
``on_setup`` hook: a diagnostic, not part of the validation.

Run (from an empty directory, ns-3 scans the current one for libraries):
``python benchmarks/ns3_cwnd_trace.py src/cpnkit/bench/data/transfer_suite.json share-diffRTT-2x10MB``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cpnkit.bench import ns3_transfers
from cpnkit.readwrite import read_transfer_scenarios

_TRACER = r"""
namespace cpnkit_cwnd {
using namespace ns3;
// kind: 0 cwnd (bytes), 1 ssthresh (bytes), 2 RTT sample (s)
struct Event { double t; int sender; int kind; double value; };
std::vector<Event> events;
void OnCwnd(int i, uint32_t a, uint32_t b) { events.push_back(Event{Simulator::Now().GetSeconds(), i, 0, (double)b}); }
void OnSsth(int i, uint32_t a, uint32_t b) { events.push_back(Event{Simulator::Now().GetSeconds(), i, 1, (double)b}); }
void OnRtt(int i, Time a, Time b) { events.push_back(Event{Simulator::Now().GetSeconds(), i, 2, b.GetSeconds()}); }
void Connect() {
  for (size_t i = 0; i < cpnkit_ns3::senders.size(); ++i) {
    Ptr<Socket> s = cpnkit_ns3::senders[i].socket;
    s->TraceConnectWithoutContext("CongestionWindow", MakeBoundCallback(&OnCwnd, (int)i));
    s->TraceConnectWithoutContext("SlowStartThreshold", MakeBoundCallback(&OnSsth, (int)i));
    s->TraceConnectWithoutContext("RTT", MakeBoundCallback(&OnRtt, (int)i));
  }
}
void Start() { events.clear(); Simulator::Schedule(Seconds(0.0), &Connect); }
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", help="transfer-scenario JSON file")
    parser.add_argument("ids", help="comma-separated scenario ids")
    parser.add_argument("--json", type=Path, default=None, help="write every event here")
    args = parser.parse_args()
    ns = ns3_transfers.load_ns3()
    ns.cppyy.cppdef(_TRACER)

    def start_tracer(ns_: Any) -> None:
        ns_.cppyy.gbl.cpnkit_cwnd.Start()

    wanted = set(args.ids.split(","))
    dump: dict[str, object] = {}
    for scenario in read_transfer_scenarios(args.scenarios):
        if scenario.id not in wanted:
            continue
        result = ns3_transfers.run_ns3([scenario], on_setup=start_tracer)[0]
        print(scenario.id, {k: round(v, 4) for k, v in result.task_completion_s.items()})
        names = [f"{t.id}/{s.id}" for t in scenario.tasks for s in t.subflows]
        events = [(e.t, e.sender, e.kind, e.value) for e in ns.cppyy.gbl.cpnkit_cwnd.events]
        dump[scenario.id] = {"senders": names, "events": events}
        for i, name in enumerate(names):
            mine = [e for e in events if e[1] == i]
            rtts = [e for e in mine if e[2] == 2]
            exits = [e for e in mine if e[2] == 1 and e[3] < 2**31]
            if not rtts:
                continue
            first_t = next(e[0] for e in mine if e[2] == 0)
            if exits:
                t_exit = exits[0][0]
                cwnd = [e[3] for e in mine if e[2] == 0 and e[0] <= t_exit][-1]
                min_rtt = min(e[3] for e in rtts if e[0] <= t_exit)
                print(
                    f"  {name}: slow start ended at t={t_exit:.6f} s ({t_exit - first_t:.4f} s after its first cwnd "
                    f"event), ssthresh {exits[0][3] / 1448:.1f} segments, cwnd {cwnd / 1448:.1f} segments, min RTT "
                    f"sample {min_rtt * 1e3:.3f} ms"
                )
            else:
                print(f"  {name}: slow start never ended")
            distinct = sorted({round(e[3] * 1e6) for e in rtts})[:8]
            print(f"  {name}: {len(rtts)} RTT samples, smallest distinct values (us): {distinct}")
    if args.json:
        args.json.write_text(json.dumps(dump))


if __name__ == "__main__":
    main()
