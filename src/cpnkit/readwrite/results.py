"""Writing simulation results: one CSV row per task, and the run's metadata as JSON."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from cpnkit.sim import OUTCOME_COLUMNS, SimResult

__all__ = ["result_metadata", "write_outcomes_csv"]


def write_outcomes_csv(results: SimResult | list[SimResult], path: str | Path) -> Path:
    """Write one row per task (columns ``OUTCOME_COLUMNS`` plus ``seed`` and ``mode``) to ``path``.

    Parent folders are created. Returns the path written.
    """
    runs = results if isinstance(results, list) else [results]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*OUTCOME_COLUMNS, "seed", "mode", "scenario"])
        for run in runs:
            for outcome in run.outcomes:
                writer.writerow(
                    [_cell(getattr(outcome, c)) for c in OUTCOME_COLUMNS] + [run.seed, run.mode, run.scenario]
                )
    return out


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(value)
    return value


def result_metadata(result: SimResult) -> dict[str, Any]:
    """The run's summary, engine counters and scenario provenance as a JSON-ready dict."""
    text = json.dumps(
        {"summary": result.summary(), "stats": dict(result.stats), "meta": dict(result.meta)}, default=str
    )
    data: dict[str, Any] = json.loads(text)
    return data
