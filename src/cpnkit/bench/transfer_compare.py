"""Compare transfer completion times of several models against a reference (normally ns-3).

``compare_transfer_results(files)`` lines up the result files by scenario, task and subflow id, computes each
model's relative error against the first file, and summarises |relative error| of task completion by size class
(``SIZE_CLASSES``). ``cpnkit validate compare`` prints it.

Relative error is ``(model - reference) / reference``: positive when the model is slower than the reference.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cpnkit.errors import ConfigError
from cpnkit.readwrite.transfers import TransferResultsFile

__all__ = [
    "SIZE_CLASSES",
    "ComparisonRow",
    "ErrorSummary",
    "TransferComparison",
    "compare_transfer_results",
    "size_class",
]

#: Task size classes: (label, largest size in bytes). A task falls in the first class whose bound it does not exceed.
SIZE_CLASSES: tuple[tuple[str, float], ...] = (
    ("<=300 KB", 300e3),
    ("<=3 MB", 3e6),
    ("<=20 MB", 20e6),
    (">20 MB", math.inf),
)
#: Label of tasks whose size no file records.
UNKNOWN_SIZE = "size unknown"
#: Label of the summary over every task.
ALL_SIZES = "all"


def size_class(size_bytes: float | None) -> str:
    """The ``SIZE_CLASSES`` label of a task of ``size_bytes`` bytes (``"size unknown"`` for ``None``).

    >>> size_class(1e6)
    '<=3 MB'
    >>> size_class(50e6)
    '>20 MB'
    """
    if size_bytes is None:
        return UNKNOWN_SIZE
    for label, bound in SIZE_CLASSES:
        if size_bytes <= bound:
            return label
    return SIZE_CLASSES[-1][0]  # pragma: no cover - the last bound is infinite


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One task (``subflow`` is ``None``) or subflow, as every model sees it.

    Attributes:
        scenario: Scenario id.
        task: Task id.
        subflow: Subflow id, or ``None`` for the task's own row.
        size_bytes: Payload in bytes, when a file (or the scenarios) records it.
        completion_s: Completion time in s per model label; ``None`` where a file lacks the entry.
        rel_error: ``(model - reference) / reference`` per non-reference model label; ``None`` where missing.
    """

    scenario: str
    task: str
    subflow: str | None
    size_bytes: float | None
    completion_s: dict[str, float | None]
    rel_error: dict[str, float | None]


@dataclass(frozen=True, slots=True)
class ErrorSummary:
    """|Relative error| of task completion for one model and one size class.

    Attributes:
        n: Tasks compared.
        median_abs_rel_error: Median |relative error| (a fraction; 0.1 = 10 %), NaN when ``n == 0``.
        max_abs_rel_error: Largest |relative error|, NaN when ``n == 0``.
        median_rel_error: Median signed relative error (positive: the model is slower than the reference).
    """

    n: int
    median_abs_rel_error: float
    max_abs_rel_error: float
    median_rel_error: float


@dataclass(frozen=True, slots=True)
class TransferComparison:
    """Result files lined up against the first one.

    Attributes:
        labels: One label per file, in order (the model name, made unique with the file name where needed);
            ``labels[0]`` is the reference.
        paths: The files, in the same order.
        rows: Task rows, each followed by its subflow rows, in the reference's order.
        summary: Per non-reference label, per size class label (and ``"all"``): the error summary of task rows.
        missing: Per non-reference label, the ``scenario/task[/subflow]`` entries of the reference it lacks.
        extra: Per non-reference label, the entries it has that the reference lacks.
    """

    labels: tuple[str, ...]
    paths: tuple[str, ...]
    rows: list[ComparisonRow]
    summary: dict[str, dict[str, ErrorSummary]]
    missing: dict[str, list[str]] = field(default_factory=dict)
    extra: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN summaries become ``None``)."""

        def num(x: float | None) -> float | None:
            return None if x is None or math.isnan(x) else x

        return {
            "reference": {"label": self.labels[0], "path": self.paths[0]},
            "models": [{"label": lab, "path": p} for lab, p in zip(self.labels, self.paths, strict=True)],
            "size_classes": [label for label, _ in SIZE_CLASSES],
            "rows": [
                {
                    "scenario": r.scenario,
                    "task": r.task,
                    "subflow": r.subflow,
                    "size_bytes": r.size_bytes,
                    "completion_s": r.completion_s,
                    "rel_error": r.rel_error,
                }
                for r in self.rows
            ],
            "summary": {
                label: {
                    cls: {
                        "n": s.n,
                        "median_abs_rel_error": num(s.median_abs_rel_error),
                        "max_abs_rel_error": num(s.max_abs_rel_error),
                        "median_rel_error": num(s.median_rel_error),
                    }
                    for cls, s in by_class.items()
                }
                for label, by_class in self.summary.items()
            },
            "missing": self.missing,
            "extra": self.extra,
        }


def _labels(files: Sequence[TransferResultsFile]) -> tuple[str, ...]:
    models = [f.model for f in files]
    labels = [
        m if models.count(m) == 1 else f"{m} ({f.path.rsplit('/', 1)[-1]})" for m, f in zip(models, files, strict=True)
    ]
    repeated = {label for label in labels if labels.count(label) > 1}  # the same model in files of the same name
    return tuple(f"{label} #{i + 1}" if label in repeated else label for i, label in enumerate(labels))


def compare_transfer_results(
    files: Sequence[TransferResultsFile],
    *,
    task_size_bytes: Mapping[tuple[str, str], float] | None = None,
    subflow_size_bytes: Mapping[tuple[str, str, str], float] | None = None,
) -> TransferComparison:
    """Line up result files against the first (the reference) and summarise task errors by size class.

    Args:
        files: Parsed result files (``cpnkit.readwrite.load_transfer_results``); the first is the reference.
        task_size_bytes: Task sizes in bytes per ``(scenario, task)``, for files that do not record them (e.g.
            from the scenario file); sizes recorded in the files are used first, the reference's before others.
        subflow_size_bytes: The same for subflows, per ``(scenario, task, subflow)``.

    Returns:
        The comparison.

    Raises:
        ConfigError: fewer than two files, or the reference has a zero completion time (no relative error).
    """
    if len(files) < 2:
        raise ConfigError(f"compare needs at least two result files (got {len(files)}); the first is the reference")
    labels = _labels(files)
    ref_label = labels[0]
    task_sizes: dict[tuple[str, str], float] = dict(task_size_bytes or {})
    sub_sizes: dict[tuple[str, str, str], float] = dict(subflow_size_bytes or {})
    for f in reversed(files):  # the reference's sizes win
        task_sizes.update(f.task_size_bytes)
        sub_sizes.update(f.subflow_size_bytes)

    tables: list[dict[tuple[str, str, str | None], float]] = []
    for f in files:
        table: dict[tuple[str, str, str | None], float] = {}
        for result in f.results:
            for tid, value in result.task_completion_s.items():
                table[(result.scenario, tid, None)] = value
                for fid, sub_value in result.subflow_completion_s.get(tid, {}).items():
                    table[(result.scenario, tid, fid)] = sub_value
        tables.append(table)

    rows: list[ComparisonRow] = []
    errors: dict[str, list[tuple[str, float]]] = {label: [] for label in labels[1:]}
    for key, ref_value in tables[0].items():
        scenario, task, subflow = key
        if ref_value <= 0:
            raise ConfigError(
                f"{files[0].path}: scenario {scenario!r}, task {task!r}: reference completion_s={ref_value!r} "
                "must be > 0 to compute relative errors; use another reference file"
            )
        completion: dict[str, float | None] = {ref_label: ref_value}
        rel: dict[str, float | None] = {}
        size = task_sizes.get((scenario, task)) if subflow is None else sub_sizes.get((scenario, task, subflow))
        for label, table in zip(labels[1:], tables[1:], strict=True):
            other = table.get(key)
            completion[label] = other
            rel[label] = None if other is None else (other - ref_value) / ref_value
            if subflow is None and other is not None:
                errors[label].append((size_class(size), (other - ref_value) / ref_value))
        rows.append(ComparisonRow(scenario, task, subflow, size, completion, rel))

    def name(key: tuple[str, str, str | None]) -> str:
        return "/".join(k for k in key if k is not None)

    missing = {
        label: [name(k) for k in tables[0] if k not in table]
        for label, table in zip(labels[1:], tables[1:], strict=True)
    }
    extra = {
        label: [name(k) for k in table if k not in tables[0]]
        for label, table in zip(labels[1:], tables[1:], strict=True)
    }
    classes = [label for label, _ in SIZE_CLASSES]
    summary: dict[str, dict[str, ErrorSummary]] = {}
    for label, errs in errors.items():
        by_class: dict[str, ErrorSummary] = {}
        present = {cls for cls, _ in errs}
        for cls in [*classes, *([UNKNOWN_SIZE] if UNKNOWN_SIZE in present else []), ALL_SIZES]:
            values = [e for c, e in errs if cls in (c, ALL_SIZES)]
            by_class[cls] = _summarise(values)
        summary[label] = by_class
    return TransferComparison(
        labels=labels,
        paths=tuple(f.path for f in files),
        rows=rows,
        summary=summary,
        missing={k: v for k, v in missing.items() if v},
        extra={k: v for k, v in extra.items() if v},
    )


def _summarise(values: Sequence[float]) -> ErrorSummary:
    if not values:
        return ErrorSummary(0, math.nan, math.nan, math.nan)
    absolute = [abs(v) for v in values]
    return ErrorSummary(len(values), statistics.median(absolute), max(absolute), statistics.median(values))
