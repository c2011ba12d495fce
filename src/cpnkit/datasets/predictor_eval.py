"""RLMS-CPN Tables 5 and 6 on the bundled data: every predictor x the five new devices, over seeds.

For each seed, device and sample count k, the labelled set is the first k of a seeded permutation of the 15,625
architectures (so the 20-sample set is inside the 50-sample one, and every method sees the same labels). A fresh
predictor per (method, seed) is handed a ``LatencySamples`` of those k labels only and adapts to each device; it
then predicts all 15,625 architectures, which are scored against the measured column:

- ``mse``: MSE after min-max normalising prediction and measurement by the device's measured range over all
  15,625 architectures (the paper's metric; the range is used for scoring only, no predictor sees it);
- ``mape`` (%), ``rho`` (Spearman) on ms;
- ``adapt_s``: wall time of ``adapt`` (Table 6), ``predict_s``: wall time of predicting 15,625 architectures,
  ``setup_s``: building the predictor (loading weights, encoding every cell once), shared by its devices.

Means over seeds come with 95% confidence intervals (Student t over the per-seed values).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from cpnkit.datasets.latency import load_latency_table
from cpnkit.datasets.predictor_models import PAPER_NEW_DEVICES, load_arch_encodings, make_bundled_predictor
from cpnkit.errors import ConfigError
from cpnkit.estimate.latency import LatencySamples
from cpnkit.estimate.predictors import PREDICTOR_IDS, check_predictor_id, mape, normalised_mse, spearman_rho

__all__ = [
    "PAPER_TABLE5_MSE",
    "PAPER_TABLE6_ADAPT_S",
    "evaluate_predictors",
    "labelled_archs",
    "mean_ci95",
    "set_torch_threads",
]

#: RLMS-CPN Table 5: MSE on normalised latency, 50 samples, per new device and the average.
PAPER_TABLE5_MSE: Mapping[str, Mapping[str, float]] = {
    "flops": {"titan_rtx_256": 0.083, "gold_6226": 0.069, "fpga": 0.106, "raspi4": 0.051, "eyeriss": 0.14},
    "layerwise": {"titan_rtx_256": 0.058, "gold_6226": 0.072, "fpga": 0.064, "raspi4": 0.251, "eyeriss": 0.094},
    "brp-nas": {"titan_rtx_256": 0.0061, "gold_6226": 0.0023, "fpga": 0.0012, "raspi4": 0.0146, "eyeriss": 0.0014},
    "base": {"titan_rtx_256": 0.011, "gold_6226": 0.006, "fpga": 0.006, "raspi4": 0.020, "eyeriss": 0.066},
    "tsft": {"titan_rtx_256": 0.0005, "gold_6226": 0.0015, "fpga": 0.0016, "raspi4": 0.0093, "eyeriss": 0.0023},
}
#: RLMS-CPN Table 6: adaptation (training) time in s per new device.
PAPER_TABLE6_ADAPT_S: Mapping[str, Mapping[str, float]] = {
    "brp-nas": {"titan_rtx_256": 4223.88, "gold_6226": 3897.73, "fpga": 4471.96, "raspi4": 5608.79, "eyeriss": 1447.72},
    "tsft": {"titan_rtx_256": 9.28, "gold_6226": 10.01, "fpga": 7.35, "raspi4": 8.52, "eyeriss": 8.12},
}
#: Two-sided 95% Student-t quantiles by degrees of freedom (1..10); more use the normal 1.96.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)
_METRICS = ("mse", "mape", "rho", "adapt_s", "predict_s")


def set_torch_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads (default: all cores, at most 4) and return the number; no-op without torch.

    Measured on the 2-core CI machine: 2 threads train the base model ~1.6x faster than 1 (0.8 vs 1.3 s per
    epoch); small adaptation steps are as fast with either, and more threads than cores only add contention.
    """
    import os

    want = n if n is not None else min(os.cpu_count() or 1, 4)
    if want < 1:
        raise ConfigError(f"threads={want} must be >= 1")
    try:
        import torch
    except ImportError:  # pragma: no cover - the learn extra is optional
        return want
    torch.set_num_threads(want)
    return want


def labelled_archs(device: str, seed: int, k: int, n_archs: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The k architectures measured on ``device`` for ``seed``: the first k of a seeded permutation."""
    if not 1 <= k <= n_archs:
        raise ConfigError(f"samples={k} must be in [1, {n_archs}]")
    rng = np.random.default_rng([seed, zlib.crc32(device.encode())])
    return rng.permutation(n_archs)[:k].astype(np.int64)


def mean_ci95(values: Iterable[float]) -> tuple[float, float]:
    """(mean, half-width of the 95% confidence interval); the half-width is NaN for one value.

    >>> mean, half = mean_ci95([1.0, 2.0, 3.0])
    >>> mean, round(half, 3)
    (2.0, 2.484)
    """
    arr = np.asarray(list(values), dtype=np.float64)
    if arr.size == 0:
        return float("nan"), float("nan")
    if arr.size == 1:
        return float(arr[0]), float("nan")
    t = _T95[arr.size - 2] if arr.size - 1 <= len(_T95) else 1.96
    return float(arr.mean()), float(t * arr.std(ddof=1) / np.sqrt(arr.size))


def evaluate_predictors(
    methods: Sequence[str] = PREDICTOR_IDS,
    devices: Sequence[str] = PAPER_NEW_DEVICES,
    samples: Sequence[int] = (50,),
    seeds: Sequence[int] = (0, 1, 2),
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the evaluation; returns ``{"config", "rows", "summary", "paper"}`` (JSON-serialisable).

    ``rows``: one per (method, samples, device, seed). ``summary``: one per (method, samples, device) and per
    (method, samples) with ``device="average"`` (the per-seed device averages, then mean and CI over seeds);
    each metric as ``<metric>_mean`` and ``<metric>_ci95``.

    Raises:
        UnknownNameError: a method is not registered.
        UnknownDeviceError: a device is not in the bundled table.
        ConfigError: empty methods, devices, samples or seeds.
    """
    for name in methods:
        check_predictor_id(name)
    if not (methods and devices and samples and seeds):
        raise ConfigError("methods, devices, samples and seeds must each name at least one value")
    table = load_latency_table(list(devices))
    n_archs = len(load_arch_encodings())
    all_archs = np.arange(n_archs)
    rows: list[dict[str, Any]] = []
    setups: list[dict[str, Any]] = []
    for method in methods:
        for k in samples:
            for seed in seeds:
                t0 = time.perf_counter()
                predictor = make_bundled_predictor(method, seed=seed)
                warm = getattr(predictor, "training_outputs", None)
                if callable(warm):
                    warm()
                setups.append({"method": method, "samples": k, "seed": seed, "setup_s": time.perf_counter() - t0})
                for device in devices:
                    actual_ms = table.latency_s[:, table.column_index(device)] * 1e3
                    idx = labelled_archs(device, seed, k, n_archs)
                    given = LatencySamples(idx, actual_ms[idx] / 1e3, device)
                    t1 = time.perf_counter()
                    predictor.adapt(device, given)
                    t2 = time.perf_counter()
                    predicted_ms = predictor.predict(all_archs, device) * 1e3
                    t3 = time.perf_counter()
                    rows.append(
                        {
                            "method": method,
                            "samples": k,
                            "device": device,
                            "seed": seed,
                            "mse": normalised_mse(predicted_ms, actual_ms),
                            "mape": mape(predicted_ms, actual_ms),
                            "rho": spearman_rho(predicted_ms, actual_ms),
                            "adapt_s": t2 - t1,
                            "predict_s": t3 - t2,
                        }
                    )
                    if progress is not None:
                        r = rows[-1]
                        progress(
                            f"{method} k={k} seed={seed} {device}: mse {r['mse']:.5f} mape {r['mape']:.1f}% "
                            f"rho {r['rho']:.3f} adapt {r['adapt_s']:.2f} s"
                        )
    return {
        "config": {
            "methods": list(methods),
            "devices": list(devices),
            "samples": list(samples),
            "seeds": list(seeds),
            "n_archs": n_archs,
            "normaliser": "per-device min-max of the measured latency over all evaluated architectures",
        },
        "rows": rows,
        "setup": setups,
        "summary": _summarise(rows, setups, methods, devices, samples),
        "paper": {"table5_mse_50_samples": PAPER_TABLE5_MSE, "table6_adapt_s": PAPER_TABLE6_ADAPT_S},
    }


def _summarise(
    rows: list[dict[str, Any]],
    setups: list[dict[str, Any]],
    methods: Sequence[str],
    devices: Sequence[str],
    samples: Sequence[int],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for method in methods:
        for k in samples:
            mine = [r for r in rows if r["method"] == method and r["samples"] == k]
            for device in devices:
                sel = [r for r in mine if r["device"] == device]
                entry: dict[str, Any] = {"method": method, "samples": k, "device": device, "seeds": len(sel)}
                for metric in _METRICS:
                    entry[f"{metric}_mean"], entry[f"{metric}_ci95"] = mean_ci95(r[metric] for r in sel)
                out.append(entry)
            seeds = sorted({r["seed"] for r in mine})
            avg: dict[str, Any] = {"method": method, "samples": k, "device": "average", "seeds": len(seeds)}
            for metric in _METRICS:
                per_seed = [float(np.mean([r[metric] for r in mine if r["seed"] == s])) for s in seeds]
                avg[f"{metric}_mean"], avg[f"{metric}_ci95"] = mean_ci95(per_seed)
            avg["setup_s_mean"], avg["setup_s_ci95"] = mean_ci95(
                s["setup_s"] for s in setups if s["method"] == method and s["samples"] == k
            )
            out.append(avg)
    return out
