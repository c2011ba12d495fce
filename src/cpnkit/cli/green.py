"""``cpnkit bench green`` (schedulers' latency, energy, carbon and cost over a week) and ``cpnkit pareto``."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cpnkit.cli._progress import progress_bar
from cpnkit.errors import ConfigError

console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True)

_TOPOLOGIES = "Topology (repeatable): a bundled name. Default: the paper's four (abilene, ebone, sprintlink, tiscali)."


def _split(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def green(
    topology: Annotated[list[str] | None, typer.Option("--topology", "-t", help=_TOPOLOGIES)] = None,
    schedulers: Annotated[
        str | None, typer.Option("--schedulers", "-s", help="Comma-separated ids. Default: every registered one.")
    ] = None,
    seeds: Annotated[str, typer.Option(help="Seeds: a count ('3'), a range ('2-4') or a list ('0,5').")] = "1",
    days: Annotated[float, typer.Option(help="Simulated days.")] = 7.0,
    rate: Annotated[float, typer.Option(help="Poisson arrival rate, tasks/s (0.01: 6,048 tasks a week).")] = 0.01,
    bound_ms: Annotated[float, typer.Option(help="Latency bound of every task, ms.")] = 100.0,
    pv: Annotated[float, typer.Option(help="On-site PV capacity as a fraction of each site's peak power.")] = 0.5,
    start: Annotated[str, typer.Option(help="UTC date in 2020 that simulation time 0 stands for.")] = "2020-06-01",
    forecast: Annotated[str, typer.Option(help="seasonal-naive, persistence or perfect.")] = "seasonal-naive",
    deferrable: Annotated[float, typer.Option(help="Share of deferrable tasks, 0..1.")] = 0.0,
    window_h: Annotated[float, typer.Option(help="Deferral window of deferrable tasks, hours.")] = 8.0,
    out: Annotated[Path, typer.Option(help="Results folder: report.md, runs.json, PNG plots.")] = Path(
        "results/bench_green"
    ),
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the runs JSON here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Latency, SLO satisfaction, energy, carbon and cost per scheduler over a simulated week, with a report."""
    from cpnkit.bench.green import GreenGrid, run_green_bench, write_green_report
    from cpnkit.bench.paper import PAPER_TOPOLOGIES, parse_seeds
    from cpnkit.datasets import EnergyConfig

    grid = GreenGrid(
        topologies=tuple(topology) if topology else PAPER_TOPOLOGIES,
        schedulers=_split(schedulers) if schedulers else (),
        seeds=parse_seeds(seeds),
        days=days,
        rate_per_s=rate,
        latency_bound_s=bound_ms / 1e3,
        energy=EnergyConfig(start=start, pv_fraction=pv, forecast=forecast),
        deferrable_fraction=deferrable,
        deferrable_window_s=window_h * 3600.0 if deferrable > 0 else 0.0,
    )
    command = "cpnkit " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if quiet:
        bench = run_green_bench(grid, command=command)
    else:
        with progress_bar("[bold]bench green[/bold] runs", err_console) as bar:
            handle = bar.add_task("runs", total=None)
            bench = run_green_bench(
                grid, lambda done, total: bar.update(handle, completed=done, total=total), command=command
            )
    table = Table(title=f"bench green: {grid.days:g} days at {grid.rate_per_s:g} tasks/s, bound {bound_ms:g} ms")
    for col in ("topology", "scheduler", "mean ms", "SLO met", "task energy J", "task carbon g", "total carbon kg"):
        table.add_column(col, justify="left" if col in ("topology", "scheduler") else "right")
    for r in bench.rows:
        table.add_row(
            r["topology"],
            r["scheduler"],
            f"{r['mean_response_s'] * 1e3:.2f}",
            f"{r['slo_met']:.4f}",
            f"{r['task_energy_j']:.1f}",
            f"{r['task_carbon_g']:.4f}",
            f"{r['carbon_g'] / 1e3:.3f}",
        )
    console.print(table)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(bench.to_json(), indent=2))
        console.print(f"wrote {json_out}")
    path = write_green_report(bench, out)
    console.print(f"wrote {path} (with runs.json and PNG plots in {out}); {bench.provenance['wall_s']:.1f} s")


def pareto(
    topology: Annotated[str, typer.Option("--topology", "-t", help="A bundled topology name.")] = "abilene",
    lambdas: Annotated[
        str, typer.Option(help="Comma-separated lambda values of `weighted`, s of latency per gCO2.")
    ] = "0,10,30,100,300,1000,3000,10000",
    seed: Annotated[int, typer.Option(help="Seed of scenario, simulator and scheduler.")] = 0,
    days: Annotated[float, typer.Option(help="Simulated days.")] = 1.0,
    rate: Annotated[float, typer.Option(help="Poisson arrival rate, tasks/s.")] = 0.05,
    bound_ms: Annotated[float, typer.Option(help="Latency bound of every task, ms.")] = 100.0,
    pv: Annotated[float, typer.Option(help="On-site PV capacity as a fraction of each site's peak power.")] = 0.5,
    out: Annotated[Path, typer.Option(help="Folder for pareto.csv and pareto.png.")] = Path("results/pareto"),
) -> None:
    """Sweep lambda of the `weighted` scheduler and plot the latency-carbon front (PNG + CSV + table)."""
    from cpnkit.bench.green import GreenGrid, lambda_sweep, pareto_front
    from cpnkit.datasets import EnergyConfig

    try:
        values = [float(v) for v in _split(lambdas)]
    except ValueError:
        raise ConfigError(f"--lambdas {lambdas!r} must be comma-separated numbers (e.g. 0,10,100)") from None
    if not values or any(v < 0 for v in values):
        raise ConfigError(f"--lambdas {lambdas!r} must list at least one value >= 0")
    grid = GreenGrid(days=days, rate_per_s=rate, latency_bound_s=bound_ms / 1e3, energy=EnergyConfig(pv_fraction=pv))
    with progress_bar("[bold]pareto[/bold] lambdas", err_console) as bar:
        handle = bar.add_task("lambdas", total=len(values))
        runs = lambda_sweep(topology, values, seed, grid, lambda d, t: bar.update(handle, completed=d))
    front = pareto_front([(r["mean_response_s"], r["task_carbon_g"]) for r in runs])
    out.mkdir(parents=True, exist_ok=True)
    header = "lambda_s_per_g,mean_response_s,p95_response_s,slo_met,task_energy_j,task_carbon_g,task_cost,on_front"
    rows = [
        f"{r['param_lambda_s_per_g']},{r['mean_response_s']},{r['p95_response_s']},{r['slo_met']},"
        f"{r['task_energy_j']},{r['task_carbon_g']},{r['task_cost']},{int(f)}"
        for r, f in zip(runs, front, strict=True)
    ]
    (out / "pareto.csv").write_text("\n".join([header, *rows]) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [r["mean_response_s"] * 1e3 for r in runs]
    ys = [r["task_carbon_g"] for r in runs]
    ax.plot(xs, ys, "o-")
    for r, x, y in zip(runs, xs, ys, strict=True):
        ax.annotate(f"λ={r['param_lambda_s_per_g']:g}", (x, y), fontsize=7)
    ax.set_xlabel("mean response (ms)")
    ax.set_ylabel("task carbon (gCO2)")
    ax.set_title(f"weighted on {topology}: latency-carbon trade-off (seed {seed})")
    fig.tight_layout()
    fig.savefig(out / "pareto.png", dpi=120)
    plt.close(fig)
    table = Table(title=f"weighted on {topology}, seed {seed}: {runs[0]['n_tasks']} tasks per run")
    for col in ("lambda s/g", "mean ms", "p95 ms", "SLO met", "task carbon g", "task energy J", "Pareto"):
        table.add_column(col, justify="right")
    for r, f in zip(runs, front, strict=True):
        table.add_row(
            f"{r['param_lambda_s_per_g']:g}",
            f"{r['mean_response_s'] * 1e3:.2f}",
            f"{r['p95_response_s'] * 1e3:.2f}",
            f"{r['slo_met']:.4f}",
            f"{r['task_carbon_g']:.4f}",
            f"{r['task_energy_j']:.1f}",
            "yes" if f else "",
        )
    console.print(table)
    console.print(f"wrote {out / 'pareto.csv'} and {out / 'pareto.png'}")
