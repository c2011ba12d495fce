"""Evaluate RTT-biased sharing (weighted max-min, weights 1 / RTT^a) against ns-3 (issue 7's evidence).

Replaces ``FlowNetwork``'s max-min allocation by weighted progressive filling (each flow's rate rises as
``w_i * t``; window caps act as private links) with ``w_i = rtt_i ** -a`` (propagation RTT), plays slow start per
round, and prints median / max |relative error| of task completion against a golden ns-3 file. a = 0 is the
shipped model; a = 1 and 2 are the RTT-unfairness exponents of AIMD with unsynchronised and synchronised losses
(Lakshman and Madhow, IEEE/ACM ToN 1997). It patches private methods: an experiment, not a model option.

Run: ``python benchmarks/eval_rtt_weighted_sharing.py src/cpnkit/bench/data/transfer_suite.json 2``
(the golden file is ``<suite>_ns3.json``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cpnkit.readwrite import read_transfer_scenarios
from cpnkit.sim import evaluate_transfers
from cpnkit.sim import network as netmod


def weighted_max_min(
    flow_links: Sequence[Sequence[int]], capacity: Sequence[float], caps: Sequence[float], weights: Sequence[float]
) -> list[float]:
    n = len(flow_links)
    rates = [0.0] * n
    frozen = [False] * n
    left = {link: float(capacity[link]) for links in flow_links for link in links}
    while not all(frozen):
        active = [i for i in range(n) if not frozen[i]]
        load = {link: sum(weights[i] for i in active if link in flow_links[i]) for link in left}
        level = min([left[k] / w for k, w in load.items() if w > 0] + [caps[i] / weights[i] for i in active])
        level = max(level, 0.0)
        full = {k for k, w in load.items() if w > 0 and left[k] - w * level <= 1e-9 * max(1.0, left[k])}
        for i in active:
            rate = weights[i] * level
            if any(k in full for k in flow_links[i]) or rate >= caps[i] * (1 - 1e-12):
                frozen[i] = True
                rates[i] = min(rate, caps[i])
                for k in flow_links[i]:
                    left[k] -= rates[i]
    return rates


def patch(exponent: float) -> None:
    def reallocate_all(self: Any, changed: list[Any], subset: list[Any] | None = None) -> None:
        # (every flow, not just the connected `subset`: a superset gives the same allocation)
        flows = list(self._flows)
        changed_set = set(changed)
        rates = weighted_max_min(
            [f.links for f in flows], self.residual_bps, [f.cap for f in flows], [f.rtt_s**-exponent for f in flows]
        )
        for flow, rate in zip(flows, rates, strict=True):
            force = flow in changed_set
            if flow.phase == netmod._SLOW_START and rate < flow.cap * (1 - 1e-12):
                self._count(flow, -1)
                flow.phase, flow.cap, flow.round_end_s = netmod._FLUID, math.inf, math.inf
                self._count(flow, +1)
                force = True
            if force or rate != flow.rate:
                self._set_rate(flow, rate)

    init = netmod.FlowNetwork.__init__

    def init_per_round(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["lazy_slow_start"] = False
        init(self, *args, **kwargs)

    netmod.FlowNetwork._reallocate_all = reallocate_all  # type: ignore[method-assign]
    netmod.FlowNetwork._reallocate_incrementally = lambda self, changed, dirty: False  # type: ignore[method-assign]
    netmod.FlowNetwork.__init__ = init_per_round  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite", type=Path)
    parser.add_argument("exponent", type=float)
    args = parser.parse_args()
    golden_doc = json.loads(args.suite.with_name(args.suite.stem + "_ns3.json").read_text())
    golden = {s["id"]: {t["id"]: t["completion_s"] for t in s["tasks"]} for s in golden_doc["scenarios"]}
    patch(args.exponent)
    errors = []
    for scenario in read_transfer_scenarios(args.suite):
        result = evaluate_transfers(scenario, "tcp")
        for task_id, completion in result.task_completion_s.items():
            err = completion / golden[scenario.id][task_id] - 1
            errors.append((abs(err), err, scenario.id, task_id))
    errors.sort(reverse=True)
    median = statistics.median(e[0] for e in errors)
    print(f"a={args.exponent:g}: median {median:.1%} max {errors[0][0]:.1%} over {len(errors)} tasks")
    print("  worst: " + ", ".join(f"{s}/{t} {e:+.0%}" for _, e, s, t in errors[:10]))


if __name__ == "__main__":
    main()
