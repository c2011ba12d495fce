"""Latency-predictor benchmark (issue 3): RLMS-CPN Tables 5 and 6 on the bundled data, with the targets.

Runs every predictor (flops, layerwise, brp-nas, base, tsft, tsft-s1) on the five new devices (titan_rtx_256,
gold_6226, fpga, raspi4, eyeriss) with 20 and 50 labelled samples, seeds 0, 1, 2 (which architectures are
labelled), and prints each figure with its target and ratio:

1. TSFT average normalised MSE <= 0.003 (50 samples) and <= 0.005 (20 samples);
2. TSFT adaptation <= 3 s per device on a 2-core CPU (paper: 8.66 s);
3. predicting 15,625 architectures for one device <= 0.5 s, both warm (after adapt) and cold (a model directory
   loaded in a fresh predictor, as ``cpnkit predictor predict`` does);
4. the time of ``scenario_predictor("tsft", PAPER_DEVICE_POOL, seed=0)`` (what a simulation scenario pays).

Means carry 95% confidence intervals over the seeds. Run: ``make bench`` or
``python benchmarks/bench_predictor.py [--quick] [--json results/bench_predictor.json]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

import cpnkit
from cpnkit.cli.predictor import print_eval
from cpnkit.datasets.predictor_eval import evaluate_predictors, labelled_archs, set_torch_threads
from cpnkit.datasets.predictor_models import load_predictor, make_bundled_predictor, save_model_dir
from cpnkit.datasets.scenarios import PAPER_DEVICE_POOL
from cpnkit.estimate import LatencySamples

console = Console(width=170)
TARGETS = {
    "tsft_mse_50": 0.003,
    "tsft_mse_20": 0.005,
    "tsft_adapt_s": 3.0,
    "predict_s": 0.5,
}


def cold_predict_s(method: str = "tsft", device: str = "raspi4", repeats: int = 3) -> float:
    """Best-of wall time of loading an adapted model directory and predicting all 15,625 architectures."""
    from cpnkit.datasets import load_latency_table

    column = load_latency_table([device]).latency_s[:, 0]
    idx = labelled_archs(device, 0, 50, column.size)
    predictor = make_bundled_predictor(method, seed=0)
    predictor.adapt(device, LatencySamples(idx, column[idx], device))
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        save_model_dir(predictor, tmp)
        for _ in range(repeats):
            t0 = time.perf_counter()
            loaded = load_predictor(tmp)
            out = loaded.predict(np.arange(column.size), device)
            times.append(time.perf_counter() - t0)
            assert out.shape == column.shape
            assert (out > 0).all()
    return min(times)


def scenario_s(name: str = "tsft") -> float:
    """Cold wall time of ``scenario_predictor(name, PAPER_DEVICE_POOL, seed=0)`` (its cache cleared)."""
    from cpnkit.datasets import predictors

    predictors._cached.cache_clear()
    t0 = time.perf_counter()
    table = predictors.scenario_predictor(name, PAPER_DEVICE_POOL, seed=0)
    elapsed = time.perf_counter() - t0
    assert table.latency_s.shape == (15625, len(PAPER_DEVICE_POOL))
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one seed, no brp-nas (a smoke run)")
    parser.add_argument("--json", type=Path, default=Path("results/bench_predictor.json"))
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    threads = set_torch_threads(args.threads)
    seeds = (0,) if args.quick else (0, 1, 2)
    methods = ["flops", "layerwise", "base", "tsft", "tsft-s1"] + ([] if args.quick else ["brp-nas"])
    t0 = time.perf_counter()
    # the scenario cost first, in a process where torch and the data are not loaded yet
    scenario_tsft_s = scenario_s("tsft")
    report = evaluate_predictors(methods, samples=(20, 50), seeds=seeds)
    report["config"]["torch_threads"] = threads
    print_eval(report)

    def avg(method: str, k: int) -> dict[str, Any]:
        return next(
            s for s in report["summary"] if s["method"] == method and s["samples"] == k and s["device"] == "average"
        )

    cold = cold_predict_s()
    worst_predict = max(s["predict_s_mean"] for s in report["summary"])
    adapt_worst = max(r["adapt_s"] for r in report["rows"] if r["method"] == "tsft")
    figures = {
        "tsft_mse_50": (avg("tsft", 50)["mse_mean"], avg("tsft", 50)["mse_ci95"], TARGETS["tsft_mse_50"]),
        "tsft_mse_20": (avg("tsft", 20)["mse_mean"], avg("tsft", 20)["mse_ci95"], TARGETS["tsft_mse_20"]),
        "tsft_adapt_s_mean": (
            avg("tsft", 50)["adapt_s_mean"],
            avg("tsft", 50)["adapt_s_ci95"],
            TARGETS["tsft_adapt_s"],
        ),
        "tsft_adapt_s_worst": (adapt_worst, float("nan"), TARGETS["tsft_adapt_s"]),
        "predict_s_warm_worst": (worst_predict, float("nan"), TARGETS["predict_s"]),
        "predict_s_cold_tsft": (cold, float("nan"), TARGETS["predict_s"]),
        "scenario_predictor_tsft_s": (scenario_tsft_s, float("nan"), float("nan")),
    }
    table = Table(title=f"Predictor targets ({threads} torch threads, seeds {list(seeds)})")
    for col in ("figure", "measured", "95% CI ±", "target", "measured / target", "met"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    out_figures = {}
    for name, (value, ci, target) in figures.items():
        ratio = value / target if target == target else float("nan")
        met = "-" if target != target else ("yes" if value <= target else "NO")
        table.add_row(
            name,
            f"{value:.5g}",
            "-" if ci != ci else f"{ci:.2g}",
            "-" if target != target else f"{target:g}",
            "-" if ratio != ratio else f"{ratio:.3f}",
            met,
        )
        out_figures[name] = {"value": value, "ci95": ci, "target": target, "ratio": ratio}
    console.print(table)
    brp = [avg("brp-nas", k) for k in (20, 50)] if "brp-nas" in methods else []
    if brp:
        ratio = brp[1]["adapt_s_mean"] / avg("tsft", 50)["adapt_s_mean"]
        console.print(f"brp-nas adapts {ratio:.1f}x slower than tsft at 50 samples (paper: 3930 s / 8.66 s = 454x)")
    report["figures"] = out_figures
    report["machine"] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpnkit": cpnkit.__version__ if hasattr(cpnkit, "__version__") else "unknown",
    }
    report["config"]["bench_wall_s"] = time.perf_counter() - t0
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1, default=float) + "\n")
    console.print(f"wrote {args.json} in {report['config']['bench_wall_s']:.0f} s")


if __name__ == "__main__":
    main()
