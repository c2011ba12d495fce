"""``cpnkit train``: train a learning scheduler on simulator episodes (the loop lives in ``cpnkit.bench.train``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cpnkit.cli._progress import progress_bar
from cpnkit.errors import ConfigError

__all__ = ["parse_assignments", "train_command"]

console = Console()
err_console = Console(stderr=True)


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """``["lr=0.01", "optimizer=adam"]`` -> ``{"lr": 0.01, "optimizer": "adam"}`` (JSON values, else strings).

    Raises:
        ConfigError: an item has no ``=`` or an empty key.

    Example:
        >>> parse_assignments(["policy_lr=1e-3", "batch=8", "optimizer=adam", "layers=[64, 64]"])
        {'policy_lr': 0.001, 'batch': 8, 'optimizer': 'adam', 'layers': [64, 64]}
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--hyper {item!r} must be key=value (e.g. --hyper policy_lr=0.001)")
        try:
            out[key] = json.loads(text)
        except json.JSONDecodeError:
            out[key] = text
    return out


def train_command(
    topology: Annotated[
        list[str] | None,
        typer.Option("--topology", "-t", help="Training topology; repeat for several (one general policy)."),
    ] = None,
    scheduler: Annotated[
        str, typer.Option("--scheduler", "-s", help="Learning scheduler: rlms-cpn, rlms-mlp or gnn-dqn.")
    ] = "rlms-cpn",
    steps: Annotated[int, typer.Option(min=1, help="Transitions (task decisions) to learn from in total.")] = 30_000,
    seed: Annotated[int, typer.Option(help="Seeds the weights, the episode draws and the exploration.")] = 0,
    mode: Annotated[
        str, typer.Option(help="isolated: one task in the system at a time (the paper); online: tasks contend.")
    ] = "isolated",
    transport: Annotated[
        str, typer.Option(help="Simulator transport model: tcp (its default, slow start) or fluid (ideal).")
    ] = "tcp",
    episode_tasks: Annotated[
        int, typer.Option("--episode-tasks", "--tasks", min=1, help="Tasks per training episode.")
    ] = 50,
    scenarios: Annotated[int, typer.Option(min=1, help="Training scenarios per topology (seeds 1000 + i).")] = 4,
    scenario_tasks: Annotated[int, typer.Option(min=1, help="Tasks per training scenario.")] = 500,
    eval_every: Annotated[
        int, typer.Option(min=0, help="Steps between greedy evaluations and checkpoints (0: at the end only).")
    ] = 2_500,
    eval_tasks: Annotated[
        int, typer.Option(min=1, help="Tasks per validation scenario (seeds 500, 501 of each topology).")
    ] = 100,
    out: Annotated[Path, typer.Option(help="Directory for checkpoint.pt, best.pt, curve.csv and curve.png.")] = Path(
        "results/train"
    ),
    resume: Annotated[
        Path | None, typer.Option(help="Continue from this checkpoint (same settings; --steps is the new total).")
    ] = None,
    assignments: Annotated[
        list[str] | None,
        typer.Option(
            "--hyper",
            "--set",
            help="Hyper-parameter key=value (repeatable), e.g. --hyper policy_lr=0.1 --hyper optimizer=sgd.",
        ),
    ] = None,
    paper: Annotated[
        bool, typer.Option("--paper", help="Start from the paper's hyper-parameters (rlms-*; --hyper overrides).")
    ] = False,
    export: Annotated[
        Path | None,
        typer.Option(help="Write the best evaluation's weights as a bundled policy: STEM.npz (float16) + STEM.json."),
    ] = None,
    threads: Annotated[int, typer.Option(min=1, help="torch threads.")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Train a learning scheduler on simulator episodes, evaluating the greedy policy and checkpointing as it goes."""
    from dataclasses import asdict

    from cpnkit.bench.train import TrainConfig, export_policy, train

    if mode not in ("online", "isolated"):
        raise ConfigError(f"--mode {mode!r} must be 'online' or 'isolated'")
    if transport == "tcp-queue":
        raise ConfigError(
            "--transport tcp-queue is not offered for training: it simulates up to ~200x slower than tcp; train "
            "under tcp and evaluate the policy under tcp-queue with `cpnkit bench paper --transport tcp-queue`"
        )
    if transport not in ("tcp", "fluid"):
        raise ConfigError(f"--transport {transport!r} must be 'tcp' or 'fluid'")
    hyper: dict[str, Any] = {}
    if paper:
        if scheduler not in ("rlms-cpn", "rlms-mlp"):
            raise ConfigError(f"--paper applies to rlms-cpn and rlms-mlp, not {scheduler!r}; drop it")
        from cpnkit.schedulers.learned import ActorCriticHyper

        hyper = asdict(ActorCriticHyper.paper())
    hyper.update(parse_assignments(assignments or []))
    config = TrainConfig(
        scheduler=scheduler,
        topologies=tuple(topology or ["abilene"]),
        steps=steps,
        seed=seed,
        mode=mode,  # type: ignore[arg-type]
        transport=transport,  # type: ignore[arg-type]
        episode_tasks=episode_tasks,
        scenarios=scenarios,
        scenario_tasks=scenario_tasks,
        eval_every=eval_every,
        eval_tasks=eval_tasks,
        hyper=hyper,
    )
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover - make_agent names the extra
        pass
    if quiet:
        result = train(config, out=out, resume=resume)
    else:
        with progress_bar("[bold]training[/bold] {task.fields[status]}", err_console) as bar:
            handle = bar.add_task("train", total=steps, status="")

            def report(step: int, total: int, row: Any) -> None:
                status = ""
                if row:
                    status = f"eval {row['eval_response_s'] * 1e3:.2f} ms @ {int(row['step'])}"
                bar.update(handle, completed=min(step, total), status=status)

            result = train(config, out=out, resume=resume, progress=report)
    title = f"{scheduler} on {'+'.join(config.topologies)} ({mode}, {transport}, seed {seed}): greedy validation"
    table = Table(title=title)
    for col in ("step", "eval response", "train response", "wall s"):
        table.add_column(col, justify="right")
    for row in result.curve:
        table.add_row(
            str(int(row["step"])),
            "-" if math.isnan(row["eval_response_s"]) else f"{row['eval_response_s'] * 1e3:.2f} ms",
            "-" if math.isnan(row["train_response_s"]) else f"{row['train_response_s'] * 1e3:.2f} ms",
            f"{row['wall_s']:.1f}",
        )
    console.print(table)
    per_step = f"{result.s_per_step * 1e3:.2f} ms/step" if result.steps_this_call else "no steps trained"
    console.print(
        f"trained {result.steps_this_call} steps ({per_step} wall-clock; evaluation {result.eval_s:.1f} s); "
        f"wrote {out}/checkpoint.pt, curve.csv, curve.png"
    )
    if export is not None:
        command = ["cpnkit", "train", "--scheduler", scheduler]
        for topo in config.topologies:
            command += ["--topology", topo]
        command += ["--steps", str(steps), "--seed", str(seed), "--mode", mode, "--transport", transport]
        command += ["--episode-tasks", str(episode_tasks), "--scenarios", str(scenarios)]
        command += ["--scenario-tasks", str(scenario_tasks), "--eval-every", str(eval_every)]
        command += ["--eval-tasks", str(eval_tasks), "--threads", str(threads)]
        if paper:
            command.append("--paper")
        for item in assignments or []:
            command += ["--hyper", item]
        command += ["--out", str(out), "--export", str(export)]
        record = export_policy(config, result, export, command=command)
        console.print(
            f"exported the step-{record['kept']['steps']} weights (validation "
            f"{record['kept']['eval_mean_response_s'] * 1e3:.2f} ms; float16 file "
            f"{record['shipped_eval_mean_response_s'] * 1e3:.2f} ms) to {export}.npz / .json"
        )
