"""``cpnkit``: topologies, simulations and (later) benchmarks from the command line."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cpnkit.cli._progress import progress_bar
from cpnkit.cli.bench import bench_app
from cpnkit.cli.green import pareto
from cpnkit.cli.predictor import predictor_app
from cpnkit.cli.train import train_command
from cpnkit.cli.validate import validate_app
from cpnkit.errors import CpnError

app = typer.Typer(
    name="cpnkit",
    help="cpnkit: simulate and schedule AI tasks in Computing Power Networks on real data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
topo_app = typer.Typer(help="Bundled and external topologies: list them, inspect one.", no_args_is_help=True)
sched_app = typer.Typer(help="Registered schedulers.", no_args_is_help=True)
app.add_typer(topo_app, name="topo")
app.add_typer(sched_app, name="schedulers")
app.add_typer(validate_app, name="validate")
app.add_typer(predictor_app, name="predictor")
app.add_typer(bench_app, name="bench")
app.command("pareto")(pareto)
app.command("train")(train_command)

console = Console()
err_console = Console(stderr=True)

TOPOLOGY_HELP = (
    "A bundled name (abilene, ebone, sprintlink, tiscali, uscarrier, kdl, asn), a topohub key "
    "(topohub:sndlib/germany50) or a file (node-link JSON, GraphML, SNDlib XML)."
)


def _fmt_bps(value: float) -> str:
    for unit, scale in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.3g} bit/s"


@topo_app.command("list")
def topo_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the bundled topologies with their sizes and sources."""
    from cpnkit.datasets import list_topologies

    rows = list_topologies()
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    table = Table(title="Bundled topologies (also: topohub:<key>, or a file path)")
    for col in ("name", "nodes", "links", "source", "description"):
        table.add_column(col, justify="right" if col in ("nodes", "links") else "left")
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in ("name", "nodes", "links", "source", "description")))
    console.print(table)


@topo_app.command("show")
def topo_show(
    topology: Annotated[str, typer.Argument(help=TOPOLOGY_HELP)],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (links are counted directed).")] = False,
) -> None:
    """Show a topology: node and directed-link counts, capacity and delay statistics, fill rules applied."""
    from cpnkit.datasets import load_topology

    topo = load_topology(topology)
    summary = topo.summary()
    if as_json:
        print(json.dumps(summary, indent=2, default=str))
        return
    table = Table(title=f"{topo.name}: {summary['nodes']} nodes, {summary['links']} directed links")
    table.add_column("quantity")
    for col in ("min", "median", "mean", "max"):
        table.add_column(col, justify="right")
    cap = summary["capacity_bps"]
    delay = summary["prop_delay_s"]
    table.add_row("capacity", *(_fmt_bps(cap[c]) for c in ("min", "median", "mean", "max")))
    table.add_row("propagation delay", *(f"{delay[c] * 1e3:.3f} ms" for c in ("min", "median", "mean", "max")))
    console.print(table)
    diameter = summary["diameter_hops"]
    diameter_text = "not computed (over 300 nodes)" if diameter is None else str(diameter)
    console.print(f"strongly connected: {summary['strongly_connected']}   diameter (hops): {diameter_text}")
    for rule in summary["meta"].get("rules", []):
        console.print(f"[dim]rule: {rule}[/dim]")


@sched_app.command("list")
def schedulers_list() -> None:
    """List registered scheduler ids."""
    from cpnkit.schedulers import registry

    table = Table(title="Schedulers")
    table.add_column("id")
    table.add_column("description")
    for sid in registry.ids():
        spec = registry.spec(sid)
        table.add_row(sid + (" (privileged)" if spec.privileged else ""), spec.description)
    console.print(table)


@app.command("sim")
def sim(
    topology: Annotated[str, typer.Option("--topology", "-t", help=TOPOLOGY_HELP)] = "abilene",
    scheduler: Annotated[
        str, typer.Option("--scheduler", "-s", help="Scheduler id (see `cpnkit schedulers list`).")
    ] = ("nearest-ecmp"),
    tasks: Annotated[int, typer.Option("--tasks", "-n", min=1, help="Number of tasks.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed for the scenario, the simulator and the scheduler.")] = 0,
    mode: Annotated[
        str, typer.Option(help="online: tasks contend; isolated: one task in the system at a time (paper).")
    ] = "online",
    rate: Annotated[
        float, typer.Option(help="Total arrival rate in tasks/s (Poisson, over the access points).")
    ] = 50.0,
    load: Annotated[
        float | None,
        typer.Option(
            help="Offered compute load (fraction of aggregate compute capacity); overrides --rate.", show_default=False
        ),
    ] = None,
    background: Annotated[
        float, typer.Option(help="Mean utilisation of the busiest link by background traffic, 0..1.")
    ] = 0.5,
    jitter: Annotated[float, typer.Option(help="Relative service-time jitter (lognormal sigma).")] = 0.02,
    transport: Annotated[
        str,
        typer.Option(
            help="tcp: slow start from a 10-segment window, headers; fluid: ideal max-min flows; tcp-queue: CUBIC "
            "windows over FIFO fluid queues (the ns-3-validated model; up to ~200x slower to simulate than tcp)."
        ),
    ] = "tcp",
    trace: Annotated[
        Path | None,
        typer.Option(help="CSV of task arrivals (columns arrival_s,source) instead of Poisson; --tasks is ignored."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write one CSV row per task here.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write summary + provenance JSON here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Simulate tasks on a topology with one scheduler and print the latency summary."""
    from cpnkit.datasets import ScenarioConfig, build_scenario
    from cpnkit.estimate import TransportConfig
    from cpnkit.readwrite import read_arrival_trace, result_metadata, write_outcomes_csv
    from cpnkit.schedulers import make
    from cpnkit.sim import SimConfig, Simulator

    if mode not in ("online", "isolated"):
        raise CpnError(f"--mode {mode!r} must be 'online' or 'isolated'")
    sched = make(scheduler, seed=seed)
    arrivals = read_arrival_trace(trace) if trace is not None else None
    t0 = time.perf_counter()
    scenario = build_scenario(
        topology,
        seed=seed,
        config=ScenarioConfig(
            n_tasks=tasks, compute_load=load, arrival_rate_per_s=rate, background_utilisation=background
        ),
        trace=arrivals,
    )
    tasks = len(scenario.tasks)
    build_s = time.perf_counter() - t0
    config = SimConfig(
        mode=mode,  # type: ignore[arg-type]
        service_jitter=jitter,
        transport=TransportConfig(model=transport),  # type: ignore[arg-type]
    )
    simulator = Simulator(scenario, sched, config, seed=seed)
    t1 = time.perf_counter()
    show_bar = (not quiet and sys.stderr.isatty()) or (not quiet and tasks >= 20_000)
    if show_bar:
        with progress_bar("[bold]simulating[/bold]", err_console) as bar:
            handle = bar.add_task("sim", total=tasks)
            result = simulator.run(lambda done, total: bar.update(handle, completed=done))
    else:
        result = simulator.run()
    run_s = time.perf_counter() - t1
    summary = result.summary()
    _print_summary(summary, scenario.meta, build_s, run_s)
    if out is not None:
        path = write_outcomes_csv(result, out)
        console.print(f"wrote {summary['tasks']} rows to {path}")
    if json_out is not None:
        meta = result_metadata(result)
        meta["timing"] = {
            "build_s": build_s,
            "run_s": run_s,
            "tasks_per_s": tasks / run_s if run_s > 0 else None,
        }
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(meta, indent=2, default=str))
        console.print(f"wrote {json_out}")


def _print_summary(summary: Mapping[str, Any], meta: Mapping[str, Any], build_s: float, run_s: float) -> None:
    table = Table(
        title=(
            f"{summary['scenario']} | {summary['scheduler']} | {summary['mode']} | seed {summary['seed']} | "
            f"{summary['completed']}/{summary['tasks']} completed"
        )
    )
    for col in ("mean", "p50", "p95", "p99", "max"):
        table.add_column(f"{col} response", justify="right")
    table.add_row(*(_ms(summary[f"{c}_response_s"]) for c in ("mean", "p50", "p95", "p99", "max")))
    console.print(table)
    shares = Table(title="share of response time")
    for col in ("transmission", "queue", "compute", "return"):
        shares.add_column(col, justify="right")
    shares.add_row(*(_pct(summary[f"share_{c}"]) for c in ("transmission", "queue", "compute", "return")))
    console.print(shares)
    console.print(
        f"access points {meta.get('access_points')} | arrival rate {meta.get('arrival_rate_per_s', 0):.1f} tasks/s | "
        f"background {meta.get('background')} | rejected {summary['rejected']} | "
        f"built in {build_s:.2f} s, simulated in {run_s:.2f} s ({summary['tasks'] / max(run_s, 1e-9):,.0f} tasks/s)"
    )


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1e3:.2f} ms"


def _pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 100:.1f}%"


def main() -> None:
    """Entry point: run the app; domain errors print ``error: ...`` to stderr and exit with status 2."""
    try:
        app(standalone_mode=False)
    except CpnError as exc:
        err_console.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        err_console.print("aborted")
        raise SystemExit(130) from None
    except Exception as exc:
        # usage errors (bad option values) arrive here in non-standalone mode; typer may vendor its own click,
        # so recognise them by their interface rather than by class
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()
            raise SystemExit(exc.exit_code) from None  # type: ignore[attr-defined]
        raise


if __name__ == "__main__":
    main()
