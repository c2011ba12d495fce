"""Transport-model validation benchmark (issue 7): cpnkit's tcp, fluid and tcp-queue models against ns-3.

Evaluates two shipped transfer suites with cpnkit's ``tcp``, ``fluid`` and ``tcp-queue`` models and compares task
completion times with the golden ns-3 results shipped next to them (produced by ``cpnkit validate ns3``; regenerate
them with that command when a suite changes):

- ``transfer_suite.json`` (62 scenarios, 81 tasks: single paths 100 KB-50 MB at 5-40 ms one way, multipath
  splits, constant background, shared bottlenecks, the 5-node max-min line);
- ``transfer_heldout.json`` (10 scenarios, 18 tasks, added after the model was built: three flows of RTT
  10/20/80 ms on one bottleneck, RTT ratios 2 and 8, a small flow behind a big one, the 4-node max-min line, CBR
  background at 40/50/90%, and the paper's regime: 50% CBR on the busiest link, 1 MB tasks, 1 and 10 Gbit/s).

Prints, per suite, median and max |relative error| by size class next to the targets (tcp: median <= 10%,
max <= 25%) with the ratio to them.

Run: ``make bench`` or ``python benchmarks/bench_transfers.py [--json results/bench_transfers.json]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from importlib.resources import files
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cpnkit.bench.transfer_compare import compare_transfer_results
from cpnkit.readwrite import load_transfer_results, read_transfer_scenarios, write_transfer_results
from cpnkit.sim import evaluate_transfers

TARGET_MEDIAN = 0.10
TARGET_MAX = 0.25
SUITES = ("transfer_suite", "transfer_heldout")
MODELS = ("tcp", "fluid", "tcp-queue")
console = Console()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=Path("results/bench_transfers.json"))
    args = parser.parse_args()

    data = files("cpnkit.bench") / "data"
    report: dict[str, object] = {}
    for name in SUITES:
        report[name] = _bench_suite(name, Path(str(data / f"{name}.json")), Path(str(data / f"{name}_ns3.json")))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    console.print(f"wrote {args.json}")


def _bench_suite(name: str, suite: Path, golden: Path) -> dict[str, object]:
    """Compare both models with ns-3 on one suite; print the table; return the comparison as a dict."""
    scenarios = read_transfer_scenarios(suite)
    paths = [golden]
    timings = {}
    with tempfile.TemporaryDirectory() as tmp:
        for model in MODELS:
            t0 = time.perf_counter()
            results = [evaluate_transfers(s, model=model) for s in scenarios]
            timings[model] = time.perf_counter() - t0
            out = Path(tmp) / f"{model}.json"
            write_transfer_results(results, out, scenarios=scenarios)
            paths.append(out)
        comparison = compare_transfer_results([load_transfer_results(p) for p in paths])

    table = Table(title=f"{name}: |relative error| of task completion vs ns-3 (median / max, n tasks)")
    classes = list(next(iter(comparison.summary.values())))
    table.add_column("model")
    for cls in classes:
        table.add_column(cls, justify="right")
    for label, by_class in comparison.summary.items():
        table.add_row(
            label,
            *(
                f"{s.median_abs_rel_error:.1%} / {s.max_abs_rel_error:.1%} ({s.n})" if s.n else "-"
                for s in (by_class[c] for c in classes)
            ),
        )
    console.print(table)
    for label in (comparison.labels[1], comparison.labels[3]):  # tcp, tcp-queue
        summary = comparison.summary[label]["all"]
        console.print(
            f"{name}: {label} vs targets: median {summary.median_abs_rel_error:.1%} (target <= {TARGET_MEDIAN:.0%}, "
            f"ratio {summary.median_abs_rel_error / TARGET_MEDIAN:.2f}); max {summary.max_abs_rel_error:.1%} "
            f"(target <= {TARGET_MAX:.0%}, ratio {summary.max_abs_rel_error / TARGET_MAX:.2f})"
        )
        worst = sorted(
            (r for r in comparison.rows if r.subflow is None and r.rel_error.get(label) is not None),
            key=lambda r: -abs(r.rel_error[label] or 0.0),
        )[:8]
        console.print(
            f"largest {label} errors: " + ", ".join(f"{r.scenario}/{r.task} {r.rel_error[label]:+.0%}" for r in worst)
        )
    console.print(
        f"{name}: evaluation time for {len(scenarios)} scenarios: "
        + ", ".join(f"{m} {t:.3f} s ({t / len(scenarios) * 1e3:.1f} ms/scenario)" for m, t in timings.items())
    )
    report = comparison.to_dict()
    report["evaluation_s"] = timings
    return report


if __name__ == "__main__":
    main()
