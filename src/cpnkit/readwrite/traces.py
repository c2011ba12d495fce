"""Arrival traces: a CSV of ``arrival_s,source`` rows (one task each), sorted or not."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from cpnkit.errors import DataError

__all__ = ["read_arrival_trace"]


def read_arrival_trace(path: str | Path) -> tuple[list[float], list[str]]:
    """Read task arrivals from a CSV with columns ``arrival_s`` (s, >= 0) and ``source`` (node id).

    Rows are returned sorted by time (stable). Extra columns are ignored.

    Raises:
        DataError: the file is missing, lacks a column, or holds a non-numeric, negative or NaN time.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(f"arrival trace {str(file)!r} does not exist; give a CSV with columns arrival_s,source")
    rows: list[tuple[float, str]] = []
    with file.open(newline="") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        missing = [c for c in ("arrival_s", "source") if c not in columns]
        if missing:
            raise DataError(
                f"arrival trace {file.name!r} lacks column(s) {missing}; found {columns}. "
                "The header must be arrival_s,source (arrival time in s, access node id)"
            )
        for line, row in enumerate(reader, start=2):
            raw = row["arrival_s"]
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise DataError(f"{file.name}:{line}: arrival_s={raw!r} is not a number of seconds") from None
            if not math.isfinite(value) or value < 0:
                raise DataError(f"{file.name}:{line}: arrival_s={raw!r} must be finite and >= 0 s")
            source = (row["source"] or "").strip()
            if not source:
                raise DataError(f"{file.name}:{line}: source is empty; name the access node")
            rows.append((value, source))
    if not rows:
        raise DataError(f"arrival trace {file.name!r} has no rows; give at least one task")
    rows.sort(key=lambda r: r[0])
    return [r[0] for r in rows], [r[1] for r in rows]
