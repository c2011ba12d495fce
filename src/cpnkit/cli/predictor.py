"""``cpnkit predictor``: evaluate, train and use the compute-latency predictors (RLMS-CPN §3.3, Tables 5 and 6).

Mounted by ``cpnkit.cli.main`` as ``app.add_typer(predictor_app, name="predictor")``::

    cpnkit predictor eval --samples 50 --json results/predictor_eval.json   # Tables 5 and 6, every method
    cpnkit predictor adapt --device-name jetson --samples jetson.csv --out models/jetson   # onboard a device
    cpnkit predictor predict --model models/jetson --archs all --out jetson_pred.csv
    cpnkit predictor train --seed 0 --out models/base                       # reproduce the shipped base model

A samples CSV has the columns ``arch`` (a NAS-Bench-201 cell string or an index 0..15624) and ``latency_ms``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cpnkit.errors import ConfigError

__all__ = ["predictor_app"]

predictor_app = typer.Typer(
    help="Compute-latency predictors: evaluate them (Tables 5/6), onboard a new device, predict, retrain the base.",
    no_args_is_help=True,
)
# wide enough for Table 5 (seven columns of "mean ± ci") when the output is a file or a pipe
console = Console(width=None if sys.stdout.isatty() else 170)
err_console = Console(stderr=True)

ThreadsOption = Annotated[
    int | None, typer.Option(help="torch threads (default: the cores, at most 4).", show_default=False)
]


def _parse_ints(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--{what} {text!r} must be comma-separated integers, e.g. 0,1,2") from None
    if not values:
        raise ConfigError(f"--{what} {text!r} names no value")
    return values


def _fmt(mean: float, ci: float, digits: int) -> str:
    if ci != ci:  # NaN: a single seed
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {ci:.{digits}f}"


@predictor_app.command("eval")
def eval_cmd(
    samples: Annotated[
        str, typer.Option(help="Labelled samples per new device; several as 20,50 (the paper: 50).")
    ] = "50",
    seeds: Annotated[str, typer.Option(help="Seeds choosing which architectures are labelled.")] = "0,1,2",
    methods: Annotated[
        str, typer.Option(help="Methods to run (default: all).")
    ] = "flops,layerwise,brp-nas,base,tsft,tsft-s1",
    devices: Annotated[
        str, typer.Option(help="New devices (default: the paper's five).")
    ] = "titan_rtx_256,gold_6226,fpga,raspi4,eyeriss",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write every row and the summary here.")] = None,
    threads: ThreadsOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-run progress lines.")] = False,
) -> None:
    """Reproduce RLMS-CPN Tables 5 and 6: every method x the new devices, MSE/MAPE/rho and adaptation time."""
    from cpnkit.datasets.predictor_eval import evaluate_predictors, set_torch_threads

    n_threads = set_torch_threads(threads)
    ks = _parse_ints(samples, "samples")
    seed_list = _parse_ints(seeds, "seeds")
    method_list = [m.strip() for m in methods.split(",") if m.strip()]
    device_list = [d.strip() for d in devices.split(",") if d.strip()]
    t0 = time.perf_counter()
    report = evaluate_predictors(
        method_list,
        device_list,
        ks,
        seed_list,
        progress=None if quiet else (lambda line: err_console.print(f"[dim]{line}[/dim]", highlight=False)),
    )
    report["config"]["torch_threads"] = n_threads
    report["config"]["wall_s"] = time.perf_counter() - t0
    print_eval(report)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report, indent=1, default=float) + "\n")
        console.print(f"wrote {json_out}")


def print_eval(report: dict[str, Any]) -> None:
    """Print the evaluation as Table 5 (MSE per device, paper beside), then accuracy and time per method."""
    devices = report["config"]["devices"]
    seeds = len(report["config"]["seeds"])
    paper5 = report["paper"]["table5_mse_50_samples"]
    paper6 = report["paper"]["table6_adapt_s"]
    summary = report["summary"]
    for k in report["config"]["samples"]:
        rows = [s for s in summary if s["samples"] == k]
        t5 = Table(title=f"Table 5 - MSE on normalised latency, {k} samples (mean ± 95% CI over {seeds} seeds)")
        t5.add_column("method")
        for d in [*devices, "average"]:
            t5.add_column(d, justify="right")
        t5.add_column("paper avg (50)", justify="right")
        for method in report["config"]["methods"]:
            mine = {s["device"]: s for s in rows if s["method"] == method}
            cells = [_fmt(mine[d]["mse_mean"], mine[d]["mse_ci95"], 5) for d in [*devices, "average"]]
            paper = paper5.get(method)
            paper_avg = f"{sum(paper.values()) / len(paper):.5f}" if paper else "-"
            t5.add_row(method, *cells, paper_avg)
        console.print(t5)
        t6 = Table(title=f"Accuracy on ms and time, {k} samples, average over the devices (Table 6: adapt s)")
        for col in ("method", "MAPE %", "Spearman rho", "adapt s / device", "paper adapt s", "predict s (15,625)"):
            t6.add_column(col, justify="left" if col == "method" else "right")
        for method in report["config"]["methods"]:
            avg = next(s for s in rows if s["method"] == method and s["device"] == "average")
            paper = paper6.get(method)
            t6.add_row(
                method,
                _fmt(avg["mape_mean"], avg["mape_ci95"], 1),
                _fmt(avg["rho_mean"], avg["rho_ci95"], 3),
                _fmt(avg["adapt_s_mean"], avg["adapt_s_ci95"], 3),
                f"{sum(paper.values()) / len(paper):.2f}" if paper else "-",
                f"{avg['predict_s_mean']:.4f}",
            )
        console.print(t6)
    console.print(
        "[dim]MSE: both prediction and measurement min-max normalised by the device's measured range over all "
        "15,625 architectures (scoring only). MAPE is dominated by raspi4's degenerate cells (~0.01 ms).[/dim]"
    )


@predictor_app.command("adapt")
def adapt_cmd(
    device_name: Annotated[str, typer.Option("--device-name", help="Name of the new device.")],
    samples: Annotated[
        Path, typer.Option("--samples", help="CSV with columns arch (cell string or index), latency_ms.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Model directory to write.")],
    method: Annotated[
        str, typer.Option(help="Predictor method (tsft, tsft-s1, base, flops, layerwise, brp-nas).")
    ] = "tsft",
    seed: Annotated[int, typer.Option(help="Seed of any sampling or training the method does.")] = 0,
    threads: ThreadsOption = None,
) -> None:
    """Onboard a new device from measured samples and write the adapted model to a directory."""
    from cpnkit.datasets.predictor_eval import set_torch_threads
    from cpnkit.datasets.predictor_models import make_bundled_predictor, read_latency_samples_csv, save_model_dir

    name = device_name.strip()
    if not name or any(c in name for c in "/\\,\n"):
        raise ConfigError(f"--device-name {device_name!r} must be a non-empty name without '/', '\\' or ','")
    set_torch_threads(threads)
    given = read_latency_samples_csv(samples, name)
    predictor = make_bundled_predictor(method, seed=seed)
    t0 = time.perf_counter()
    predictor.adapt(name, given)
    adapt_s = time.perf_counter() - t0
    path = save_model_dir(predictor, out)
    console.print(
        f"adapted {method} to {name!r} from {len(given)} samples in {adapt_s:.2f} s; wrote {path} "
        f"(predict with: cpnkit predictor predict --model {path} --device {name} --out FILE.csv)"
    )


@predictor_app.command("predict")
def predict_cmd(
    model: Annotated[Path, typer.Option("--model", help="Model directory (from adapt or train).")],
    out: Annotated[Path, typer.Option("--out", help="CSV to write: arch_idx,latency_ms.")],
    archs: Annotated[str, typer.Option(help="'all', or a CSV with an 'arch' column (cell string or index).")] = "all",
    device: Annotated[
        str | None, typer.Option(help="Device to predict (default: the device the model was adapted to).")
    ] = None,
    threads: ThreadsOption = None,
) -> None:
    """Predict the latency of architectures on a device and write ``arch_idx,latency_ms``."""
    import numpy as np

    from cpnkit.datasets.predictor_eval import set_torch_threads
    from cpnkit.datasets.predictor_models import load_arch_encodings, load_model_dir, load_predictor, read_arch_csv
    from cpnkit.datasets.predictor_models import write_predictions_csv as write_csv

    set_torch_threads(threads)
    state = load_model_dir(model)
    adapted = list(dict(state.meta.get("adapted", state.meta.get("devices", {}))))
    if device is None:
        if len(adapted) != 1:
            raise ConfigError(
                f"{model} holds {len(adapted)} adapted device(s) {adapted}; name one with --device "
                "(training devices of base models are valid too)"
            )
        device = adapted[0]
    predictor = load_predictor(model)
    idx = np.arange(len(load_arch_encodings()), dtype=np.int64) if archs == "all" else read_arch_csv(archs)
    t0 = time.perf_counter()
    latency_s = predictor.predict(idx, device)
    predict_s = time.perf_counter() - t0
    path = write_csv(out, idx, latency_s)
    console.print(f"predicted {idx.size} architectures on {device!r} in {predict_s:.3f} s; wrote {path}")


@predictor_app.command("train")
def train_cmd(
    out: Annotated[Path, typer.Option("--out", help="Model directory to write the base model to.")],
    seed: Annotated[int, typer.Option(help="Seed of initial weights, hold-out split and batch order.")] = 0,
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs (the shipped model: 40).")] = 40,
    threads: ThreadsOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-epoch lines.")] = False,
) -> None:
    """Train the base model on the bundled training devices (the defaults reproduce the shipped model)."""
    import numpy as np

    from cpnkit.datasets.predictor_eval import set_torch_threads
    from cpnkit.datasets.predictor_models import load_base_model, save_base_model, train_bundled_base_model
    from cpnkit.estimate.predictors import BaseTraining

    n_threads = set_torch_threads(threads)
    t0 = time.perf_counter()

    def report(epoch: int, total: int, loss: float, val: float) -> None:
        if not quiet:
            err_console.print(
                f"[dim]epoch {epoch}/{total}: train MSE {loss:.6f}, hold-out MSE {val:.6f}, "
                f"{time.perf_counter() - t0:.0f} s[/dim]"
            )

    model = train_bundled_base_model(seed, BaseTraining(epochs=epochs), report)
    path = save_base_model(model, out)
    console.print(
        f"trained on {len(model.devices)} devices in {time.perf_counter() - t0:.1f} s ({n_threads} threads); "
        f"hold-out MSE {model.info['holdout_mse_normalised']:.6f}; wrote {path}"
    )
    shipped = load_base_model()
    if set(shipped.weights) == set(model.weights):
        diff = max(float(np.abs(shipped.weights[k] - model.weights[k]).max()) for k in model.weights)
        console.print(f"max |weight - shipped weight| = {diff:.3g}")
