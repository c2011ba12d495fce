"""``cpnkit bench``: the RLMS-CPN paper comparison (``cpnkit bench paper``)."""

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
from cpnkit.cli.green import green
from cpnkit.errors import ConfigError

bench_app = typer.Typer(help="Benchmarks: the RLMS-CPN paper's comparison of schedulers.", no_args_is_help=True)
bench_app.command("green")(green)

console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True)

_TOPOLOGY_HELP = (
    "Topology (repeatable): a bundled name (abilene, ebone, sprintlink, tiscali, uscarrier, kdl, asn), a topohub "
    "key (topohub:sndlib/germany50) or a file. Default: the seven paper topologies (--quick: abilene)."
)


def _split(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


@bench_app.command("paper")
def paper(
    topology: Annotated[list[str] | None, typer.Option("--topology", "-t", help=_TOPOLOGY_HELP)] = None,
    schedulers: Annotated[
        str | None,
        typer.Option("--schedulers", "-s", help="Comma-separated scheduler ids. Default: every registered one."),
    ] = None,
    tasks: Annotated[
        int | None, typer.Option("--tasks", "-n", min=1, help="Tasks per run. Default 100 (paper), --strict 2000.")
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option(help="Seeds: a count ('5' = 0..4), a range ('3-7') or a list ('0,2,9'). Default 5 (--quick 3)."),
    ] = None,
    modes: Annotated[str, typer.Option(help="Comma-separated simulator modes: online, isolated.")] = "online,isolated",
    experiments: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated: main (Fig. 14, Tables 3, 13, 14), candidates (Table 7), io (Table 15), "
            "compute (Table 16). Default: all (--quick: main)."
        ),
    ] = None,
    candidates: Annotated[str, typer.Option(help="Table 7's candidate counts, comma-separated.")] = "3,5,7,10",
    subject: Annotated[
        str | None, typer.Option(help="Scheduler whose improvement the tables show. Default: waterfill.")
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Smoke run: abilene, 50 tasks, 3 seeds, main experiment (unless given).")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stricter run: 2,000 tasks per run (unless given) and >= 5 seeds.")
    ] = False,
    rate: Annotated[float, typer.Option(help="Total arrival rate in tasks/s (Poisson).")] = 50.0,
    load: Annotated[
        float | None,
        typer.Option(help="Offered compute load (fraction of capacity); overrides --rate.", show_default=False),
    ] = None,
    background: Annotated[float, typer.Option(help="Busiest link's mean background utilisation, 0..1.")] = 0.5,
    transport: Annotated[
        str,
        typer.Option(
            help="tcp (slow start, headers, max-min shares), fluid (ideal), or tcp-queue (CUBIC windows over FIFO "
            "queues: the ns-3-validated model; up to ~200x slower to simulate than tcp)."
        ),
    ] = "tcp",
    backend: Annotated[str, typer.Option(help="local (this process), process (a process pool) or ray.")] = "local",
    workers: Annotated[
        int | None, typer.Option(min=1, help="Workers of process / local Ray. Default: CPU count.")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(help="Join this Ray cluster (e.g. ray://head:10001 or auto) instead of a local Ray."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Results folder: report.md, runs.json, PNG plots.")] = Path(
        "results/bench_paper"
    ),
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the runs JSON ({'runs': [...]}) here.")
    ] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Print the tables only; write no report.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Compare schedulers on the RLMS-CPN paper's experiments and write a markdown report with plots."""
    from cpnkit.bench.paper import (
        EXPERIMENTS,
        LARGE_TOPOLOGIES,
        PAPER_TOPOLOGIES,
        PaperGrid,
        parse_seeds,
        run_paper_bench,
    )
    from cpnkit.bench.report import paper_tables, write_report
    from cpnkit.datasets import ScenarioConfig

    n_tasks = tasks or (2000 if strict else 50 if quick else 100)
    seed_list = parse_seeds(seeds) if seeds is not None else tuple(range(3 if quick else 5))
    if strict and (n_tasks < 2000 or len(seed_list) < 5):
        raise ConfigError(
            f"--strict needs >= 2000 tasks and >= 5 seeds, got {n_tasks} tasks and {len(seed_list)} seeds; "
            "raise --tasks/--seeds or drop --strict"
        )
    try:
        counts = tuple(int(c) for c in _split(candidates))
    except ValueError:
        raise ConfigError(f"--candidates {candidates!r} must be comma-separated integers (e.g. 3,5,7,10)") from None
    topologies = tuple(topology) if topology else (("abilene",) if quick else PAPER_TOPOLOGIES + LARGE_TOPOLOGIES)
    exps = _split(experiments) if experiments is not None else (("main",) if quick else EXPERIMENTS)
    grid = PaperGrid(
        topologies=topologies,
        schedulers=_split(schedulers) if schedulers else (),
        seeds=seed_list,
        modes=_split(modes),  # type: ignore[arg-type]
        experiments=exps,
        scenario=ScenarioConfig(
            n_tasks=n_tasks, arrival_rate_per_s=rate, compute_load=load, background_utilisation=background
        ),
        candidate_counts=counts,
        transport=transport,
        subject=subject,
    )
    command = "cpnkit " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if quiet:
        bench = run_paper_bench(grid, backend, workers, ray_address, command=command)
    else:
        with progress_bar("[bold]bench paper[/bold] cells", err_console) as bar:
            handle = bar.add_task("cells", total=None)
            bench = run_paper_bench(
                grid,
                backend,
                workers,
                ray_address,
                progress=lambda done, total: bar.update(handle, completed=done, total=total),
                command=command,
            )
    for model in paper_tables(bench):
        table = Table(title=model.title, caption=model.note or None, caption_justify="left")
        for i, col in enumerate(model.columns):
            table.add_column(col, justify="left" if i == 0 else "right")
        for row in model.rows:
            table.add_row(*row)
        console.print(table)
    console.print(
        f"{len(bench.results)} runs on the {backend} backend in {bench.provenance['wall_s']:.1f} s "
        f"(cpnkit {bench.provenance['cpnkit_version']}, commit {str(bench.provenance['git_commit'])[:10]})"
    )
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(bench.to_json(), indent=2))
        console.print(f"wrote {json_out}")
    if not no_report:
        path = write_report(bench, out)
        console.print(f"wrote {path} (with runs.json and PNG plots in {out})")
