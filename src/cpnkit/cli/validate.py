"""``cpnkit validate``: evaluate transfer scenarios in cpnkit's network model and in ns-3, and compare them.

Mounted by ``cpnkit.cli.main`` as ``app.add_typer(validate_app, name="validate")``::

    cpnkit validate ns3 --scenarios suite.json --json ns3.json            # packet level (needs cpnkit[ns3])
    cpnkit validate transfers --scenarios suite.json --model tcp --json tcp.json
    cpnkit validate compare ns3.json tcp.json fluid.json --json report.json

The scenario and result formats are described in ``cpnkit.readwrite.transfers``.
"""

from __future__ import annotations

import json
import math
import time
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cpnkit.cli._progress import progress_bar
from cpnkit.errors import ConfigError, did_you_mean

__all__ = ["TRANSFER_MODELS", "validate_app"]

#: Models of ``cpnkit validate transfers --model``.
TRANSFER_MODELS: tuple[str, ...] = ("tcp", "fluid", "tcp-queue")

validate_app = typer.Typer(
    help="Validate cpnkit's transfer models against ns-3: run scenario files in either, compare the results.",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)

ScenariosOption = Annotated[
    Path,
    typer.Option(
        "--scenarios",
        "-s",
        help="Transfer scenario file (JSON: topologies and scenarios; see cpnkit.readwrite.transfers).",
    ),
]
JsonOut = Annotated[Path, typer.Option("--json", help="Write the results (JSON) here.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or result table.")]


def _cpnkit_version() -> str:
    try:
        return metadata.version("cpnkit")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "unknown"


@validate_app.command("ns3")
def validate_ns3(
    scenarios: ScenariosOption,
    json_out: JsonOut,
    seed: Annotated[int, typer.Option(min=1, help="ns-3 RNG seed (RngSeedManager.SetSeed).")] = 1,
    congestion_control: Annotated[
        str, typer.Option(help="ns-3 congestion control TypeId (ns-3.44's default: ns3::TcpCubic).")
    ] = "ns3::TcpCubic",
    hystart: Annotated[bool, typer.Option("--hystart/--no-hystart", help="HyStart in TCP CUBIC.")] = True,
    delayed_ack_count: Annotated[
        int, typer.Option(min=1, help="Segments per ACK (1: like Linux's QUICKACK start; ns-3's default is 2).")
    ] = 1,
    queue_bdp_factor: Annotated[
        float, typer.Option(min=0.01, help="Device queues in bandwidth-delay products (at least 1000 packets).")
    ] = 2.0,
    max_wall_s: Annotated[float, typer.Option(min=1.0, help="Wall-clock limit per scenario, in s.")] = 600.0,
    quiet: QuietOption = False,
) -> None:
    """Run transfer scenarios packet by packet in ns-3 (TCP CUBIC, Linux-like settings) and write completion times.

    Needs cpnkit's ns3 extra (PyPI ns3==3.44.post0); loading ns-3 takes about 10 s. The settings are documented in
    cpnkit.bench.ns3_transfers and recorded in the output's provenance.
    """
    from cpnkit.bench.ns3_transfers import Ns3Settings, simulate_ns3
    from cpnkit.readwrite import read_transfer_scenarios, write_transfer_results

    settings = Ns3Settings(
        congestion_control=congestion_control,
        cubic_hystart=hystart,
        delayed_ack_count=delayed_ack_count,
        queue_bdp_factor=queue_bdp_factor,
        max_wall_s=max_wall_s,
    )
    items = read_transfer_scenarios(scenarios)
    t0 = time.perf_counter()
    if quiet:
        report = simulate_ns3(items, seed=seed, settings=settings)
    else:
        with progress_bar("[bold]ns-3[/bold] {task.description}", err_console, remaining=False) as bar:
            handle = bar.add_task("loading ns-3", total=len(items))
            report = simulate_ns3(
                items,
                seed=seed,
                settings=settings,
                progress=lambda done, total, sid: bar.update(handle, completed=done, description=sid),
            )
    wall_s = time.perf_counter() - t0
    provenance = {
        **report.provenance,
        "scenarios_file": str(scenarios),
        "cpnkit_version": _cpnkit_version(),
        "wall_s": round(wall_s, 2),
    }
    path = write_transfer_results(report.results, json_out, provenance=provenance, scenarios=items)
    if not quiet:
        _print_results(report.results, "ns3")
    console.print(
        escape(f"wrote {path}: {len(items)} scenarios in {wall_s:.1f} s (ns-3 {report.provenance['ns3_version']})")
    )


@validate_app.command("transfers")
def validate_transfers(
    scenarios: ScenariosOption,
    json_out: JsonOut,
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="Transport model: tcp (slow start), fluid, or tcp-queue (CUBIC windows over FIFO fluid queues).",
        ),
    ] = "tcp",
    quiet: QuietOption = False,
) -> None:
    """Evaluate transfer scenarios in cpnkit's network model (tcp, fluid or tcp-queue) and write completion times."""
    from cpnkit.readwrite import read_transfer_scenarios, write_transfer_results
    from cpnkit.sim.transfers import evaluate_transfers

    if model not in TRANSFER_MODELS:
        raise ConfigError(
            f"--model {model!r} is not one of {list(TRANSFER_MODELS)}.{did_you_mean(model, TRANSFER_MODELS)}"
        )
    items = read_transfer_scenarios(scenarios)
    t0 = time.perf_counter()
    results = [evaluate_transfers(scenario, model=model) for scenario in items]
    wall_s = time.perf_counter() - t0
    provenance = {
        "simulator": "cpnkit",
        "cpnkit_version": _cpnkit_version(),
        "model": model,
        "scenarios_file": str(scenarios),
        "wall_s": round(wall_s, 4),
    }
    path = write_transfer_results(results, json_out, provenance=provenance, scenarios=items)
    if not quiet:
        _print_results(results, model)
    console.print(escape(f"wrote {path}: {len(items)} scenarios, model {model}, in {wall_s:.3f} s"))


@validate_app.command("compare")
def validate_compare(
    results: Annotated[
        list[Path],
        typer.Argument(help="Result files (JSON); the first is the reference (normally ns-3).", show_default=False),
    ],
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the comparison (JSON) here.")] = None,
    scenarios: Annotated[
        Path | None,
        typer.Option("--scenarios", "-s", help="Scenario file giving task sizes, for result files without them."),
    ] = None,
    subflows: Annotated[
        bool, typer.Option("--subflows/--no-subflows", help="Show a row per subflow of multipath tasks.")
    ] = True,
) -> None:
    """Print completion times side by side with relative errors vs the first file, and a summary by size class."""
    from cpnkit.bench.transfer_compare import compare_transfer_results
    from cpnkit.readwrite import load_transfer_results, read_transfer_scenarios

    if len(results) < 2:
        raise ConfigError(
            f"compare needs at least two result files (got {len(results)}); give the reference (ns-3) first"
        )
    files = [load_transfer_results(p) for p in results]
    task_sizes: dict[tuple[str, str], float] = {}
    sub_sizes: dict[tuple[str, str, str], float] = {}
    if scenarios is not None:
        for scenario in read_transfer_scenarios(scenarios):
            for task in scenario.tasks:
                task_sizes[(scenario.id, task.id)] = task.size_bytes
                for sub in task.subflows:
                    sub_sizes[(scenario.id, task.id, sub.id)] = sub.size_bytes
    comparison = compare_transfer_results(files, task_size_bytes=task_sizes, subflow_size_bytes=sub_sizes)
    ref, others = comparison.labels[0], comparison.labels[1:]

    table = Table(title=escape(f"Transfer completion (ms); relative error vs {ref} ({comparison.paths[0]})"))
    table.add_column("scenario")
    table.add_column("task / subflow")
    table.add_column("size", justify="right")
    table.add_column(escape(ref), justify="right")
    for label in others:
        table.add_column(escape(label), justify="right")
        table.add_column("err", justify="right")
    counts: dict[tuple[str, str], int] = {}
    for r in comparison.rows:
        if r.subflow is not None:
            counts[(r.scenario, r.task)] = counts.get((r.scenario, r.task), 0) + 1
    last_scenario = None
    for r in comparison.rows:
        if r.subflow is not None and (not subflows or counts.get((r.scenario, r.task), 0) < 2):
            continue
        cells = [
            escape(r.scenario) if r.scenario != last_scenario else "",
            escape(r.task) if r.subflow is None else f"  └ {escape(r.subflow)}",
            _size(r.size_bytes),
            _ms(r.completion_s[ref]),
        ]
        for label in others:
            cells += [_ms(r.completion_s[label]), _pct(r.rel_error[label], dim=r.subflow is not None)]
        table.add_row(*cells, style="dim" if r.subflow is not None else None)
        last_scenario = r.scenario
    console.print(table)

    summary = Table(title=escape(f"|relative error| of task completion vs {ref}, by task size: median / max (n)"))
    summary.add_column("model")
    classes = list(next(iter(comparison.summary.values())).keys()) if comparison.summary else []
    for cls in classes:
        summary.add_column(cls, justify="right")
    for label, by_class in comparison.summary.items():
        row = [escape(label)]
        for cls in classes:
            s = by_class[cls]
            row.append("-" if s.n == 0 else f"{s.median_abs_rel_error:.1%} / {s.max_abs_rel_error:.1%} ({s.n})")
        summary.add_row(*row)
    console.print(summary)
    for label, keys in comparison.missing.items():
        err_console.print(
            f"[yellow]{escape(label)} lacks {len(keys)} entries of the reference[/yellow]: {escape(_few(keys))}"
        )
    for label, keys in comparison.extra.items():
        err_console.print(
            f"[yellow]{escape(label)} has {len(keys)} entries the reference lacks[/yellow]: {escape(_few(keys))}"
        )
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(comparison.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        console.print(escape(f"wrote {json_out}"))


def _print_results(results: list[Any], model: str) -> None:
    table = Table(title=f"Transfer completion (model {model})")
    table.add_column("scenario")
    table.add_column("task")
    table.add_column("completion", justify="right")
    table.add_column("subflows", justify="left")
    for result in results:
        for tid, value in result.task_completion_s.items():
            subs = result.subflow_completion_s.get(tid, {})
            detail = ", ".join(f"{fid} {_ms(v)}" for fid, v in subs.items()) if len(subs) > 1 else ""
            table.add_row(escape(result.scenario), escape(tid), _ms(value), escape(detail))
    console.print(table)


def _ms(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value * 1e3:.1f}"


def _pct(value: float | None, *, dim: bool = False) -> str:
    if value is None:
        return "-"
    text = f"{value:+.1%}"
    if dim:
        return text
    colour = "green" if abs(value) <= 0.10 else "yellow" if abs(value) <= 0.25 else "red"
    return f"[{colour}]{text}[/{colour}]"


def _size(size_bytes: float | None) -> str:
    if size_bytes is None:
        return "-"
    for unit, scale in (("MB", 1e6), ("KB", 1e3)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:.3g} {unit}"
    return f"{size_bytes:.0f} B"


def _few(keys: list[str], n: int = 5) -> str:
    return ", ".join(keys[:n]) + (f" ... (+{len(keys) - n})" if len(keys) > n else "")
