"""``cpnkit train``: train a learning scheduler on the Gymnasium env (the loop lives in ``cpnkit.bench.train``)."""

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
            raise ConfigError(f"--set {item!r} must be key=value (e.g. --set policy_lr=0.001)")
        try:
            out[key] = json.loads(text)
        except json.JSONDecodeError:
            out[key] = text
    return out


def train_command(
    topology: Annotated[
        list[str] | None,
        typer.Option("--topology", "-t", help="Training topology; repeat for several (one drawn per episode)."),
    ] = None,
    scheduler: Annotated[
        str, typer.Option("--scheduler", "-s", help="Learning scheduler: rlms-cpn, rlms-mlp or gnn-dqn.")
    ] = "rlms-cpn",
    steps: Annotated[int, typer.Option(min=1, help="Training steps (task decisions) in total.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seeds the weights, the training episodes and the exploration.")] = 0,
    mode: Annotated[
        str, typer.Option(help="isolated: one task in the system at a time (the paper); online: tasks contend.")
    ] = "isolated",
    tasks: Annotated[int, typer.Option("--tasks", min=1, help="Tasks per episode.")] = 100,
    eval_every: Annotated[
        int, typer.Option(min=0, help="Steps between greedy evaluations and checkpoints (0: at the end only).")
    ] = 1_000,
    eval_episodes: Annotated[int, typer.Option(min=1, help="Evaluation episodes (fixed seeds).")] = 5,
    out: Annotated[Path, typer.Option(help="Directory for checkpoint.pt, best.pt, curve.csv and curve.png.")] = Path(
        "results/train"
    ),
    resume: Annotated[
        Path | None, typer.Option(help="Continue from this checkpoint (same settings; --steps is the new total).")
    ] = None,
    assignments: Annotated[
        list[str] | None,
        typer.Option("--set", help="Hyper-parameter key=value (repeatable), e.g. --set policy_lr=0.001."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Train a learning scheduler on the simulator, evaluating the greedy policy and checkpointing as it goes."""
    from cpnkit.bench.train import TrainConfig, train

    if mode not in ("online", "isolated"):
        raise ConfigError(f"--mode {mode!r} must be 'online' or 'isolated'")
    config = TrainConfig(
        scheduler=scheduler,
        topologies=tuple(topology or ["abilene"]),
        steps=steps,
        seed=seed,
        mode=mode,  # type: ignore[arg-type]
        n_tasks=tasks,
        eval_every=eval_every,
        eval_episodes=eval_episodes,
        hyper=parse_assignments(assignments or []),
    )
    if quiet:
        result = train(config, out=out, resume=resume)
    else:
        with progress_bar("[bold]training[/bold] {task.fields[status]}", err_console) as bar:
            handle = bar.add_task("train", total=steps, status="")

            def report(step: int, total: int, row: Any) -> None:
                status = ""
                if row:
                    status = f"eval {row['eval_response_s'] * 1e3:.2f} ms @ {int(row['step'])}"
                bar.update(handle, completed=step, status=status)

            result = train(config, out=out, resume=resume, progress=report)
    table = Table(title=f"{scheduler} on {'+'.join(config.topologies)} ({mode}, seed {seed}): greedy evaluation")
    for col in ("step", "eval response", "eval reward (s)", "train return (s)", "wall s"):
        table.add_column(col, justify="right")
    for row in result.curve:
        table.add_row(
            str(int(row["step"])),
            "-" if math.isnan(row["eval_response_s"]) else f"{row['eval_response_s'] * 1e3:.2f} ms",
            f"{row['eval_reward']:.3f}",
            "-" if math.isnan(row["train_return"]) else f"{row['train_return']:.3f}",
            f"{row['wall_s']:.1f}",
        )
    console.print(table)
    per_step = f"{result.s_per_step * 1e3:.2f} ms/step" if result.steps_this_call else "no steps trained"
    console.print(
        f"trained {result.steps_this_call} steps ({per_step} wall-clock; evaluation {result.eval_s:.1f} s); "
        f"wrote {out}/checkpoint.pt, curve.csv, curve.png"
    )
