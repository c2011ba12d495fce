"""The paper benchmark's tables, markdown report and PNG plots.

``paper_tables`` lays the results out as the paper does (Fig. 14's means per topology, Tables 3 and 13's
improvements, Table 14's decision times, Table 7, Tables 15 and 16) plus every scheduler's gap to the privileged
oracle; the CLI prints the same tables that ``write_report`` writes. Privileged references are marked with
``†`` in every table and plot. Plots use matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cpnkit.bench.paper import LARGE_TOPOLOGIES, PAPER_TOPOLOGIES, REFERENCE_ID, CellResult, PaperBench

__all__ = ["TableModel", "paper_tables", "write_report"]

#: Tasks shown in the per-task curves (the paper's Figs. 15-18 show 100).
CURVE_TASKS = 100
PRIVILEGED_MARK = "†"


@dataclass(frozen=True, slots=True)
class TableModel:
    """A table to print or write: title, column names, rows of cell texts and a footnote."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""

    def markdown(self) -> str:
        """The table as GitHub markdown, title as a heading, note below."""
        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |"]
        lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(self.columns))) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines) + "\n"


def _ms(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or math.isnan(value) else f"{value * 1e3:.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value * 100:+.1f}%"


def _labels(bench: PaperBench, experiment: str) -> list[str]:
    return list(dict.fromkeys(r["label"] for r in bench.rows if r["experiment"] == experiment))


def _show(bench: PaperBench, label: str) -> str:
    sid = label.split(" ")[0]
    return label + PRIVILEGED_MARK if sid in bench.privileged else label


def _find(bench: PaperBench, **match: Any) -> dict[str, Any] | None:
    for row in bench.rows:
        if all(row.get(k) == v for k, v in match.items()):
            return row
    return None


def _mean_ci(row: dict[str, Any] | None) -> str:
    if row is None:
        return "-"
    ci = row["ci95_s"]
    return _ms(row["mean_response_s"]) + ("" if ci is None or math.isnan(ci) else f" ± {_ms(ci)}")


def _note(bench: PaperBench) -> str:
    grid = bench.grid
    seeds = ",".join(map(str, grid.seeds))
    text = f"{grid.scenario.n_tasks} tasks per run, seeds {seeds}; mean of per-seed means ± 95% CI (Student's t)."
    if bench.privileged:
        text += f" {PRIVILEGED_MARK} privileged reference (sees the simulator's true state; not a product scheduler)."
    return text


def paper_tables(bench: PaperBench) -> list[TableModel]:
    """Every table of the report, in report order."""
    tables: list[TableModel] = []
    grid = bench.grid
    labels = _labels(bench, "main")
    topologies = list(grid.topologies)
    note = _note(bench)
    subject = bench.subject
    others = [lab for lab in labels if lab != subject and lab.split(" ")[0] not in bench.privileged]
    for mode in grid.modes if "main" in grid.experiments else ():
        tables.append(
            TableModel(
                f"Fig. 14 layout: mean response latency (ms), {mode} mode",
                ("topology", *(_show(bench, lab) for lab in labels)),
                tuple(
                    (
                        topo,
                        *(
                            _mean_ci(_find(bench, experiment="main", topology=topo, label=lab, mode=mode))
                            for lab in labels
                        ),
                    )
                    for topo in topologies
                ),
                note,
            )
        )
        groups = (
            ("Table 3 layout", [t for t in topologies if t in PAPER_TOPOLOGIES]),
            ("Table 13 layout", [t for t in topologies if t in LARGE_TOPOLOGIES]),
            ("Other topologies", [t for t in topologies if t not in PAPER_TOPOLOGIES + LARGE_TOPOLOGIES]),
        )
        for name, topos in groups:
            if not topos or not others:
                continue
            rows = []
            sums: dict[str, list[float]] = {lab: [] for lab in others}
            for topo in topos:
                subj = _find(bench, experiment="main", topology=topo, label=subject, mode=mode)
                imps = (subj or {}).get("improvement_over", {})
                for lab in others:
                    if lab in imps and not math.isnan(imps[lab]):
                        sums[lab].append(imps[lab])
                rows.append((topo, *(_pct(imps.get(lab)) for lab in others)))
            if len(topos) > 1:
                rows.append(("Avg", *(_pct(float(np.mean(v))) if v else "-" for v in sums.values())))
            tables.append(
                TableModel(
                    f"{name}: improvement of {subject} over each scheduler, {mode} mode",
                    ("topology", *others),
                    tuple(rows),
                    "improvement = 1 - mean(subject) / mean(other); positive: the subject is faster. "
                    "Avg: mean over the topologies above.",
                )
            )
        if bench.privileged:
            oracle = REFERENCE_ID if REFERENCE_ID in bench.privileged else bench.privileged[0]
            plain = [lab for lab in labels if lab != oracle]
            rows = []
            for topo in topologies:
                cells = []
                for lab in plain:
                    row = _find(bench, experiment="main", topology=topo, label=lab, mode=mode)
                    cells.append(_pct(row.get("gap_to_oracle") if row else None))
                rows.append((topo, *cells))
            tables.append(
                TableModel(
                    f"Gap to the {oracle}{PRIVILEGED_MARK} reference, {mode} mode",
                    ("topology", *(_show(bench, lab) for lab in plain)),
                    tuple(rows),
                    "gap = mean(scheduler) / mean(oracle) - 1; 0% matches the privileged reference.",
                )
            )
    if "main" in grid.experiments:
        tables.append(_decision_table(bench, labels, topologies))
    cand = [r for r in bench.rows if r["experiment"] == "candidates"]
    if cand:
        counts = grid.candidate_counts
        rows = []
        for topo in topologies:
            for sid in dict.fromkeys(r["scheduler"] for r in cand):
                texts = [
                    _mean_ci(_find(bench, experiment="candidates", topology=topo, label=f"{sid} n={n}")) for n in counts
                ]
                rows.append((topo, sid, *texts))
        tables.append(
            TableModel(
                f"Table 7 layout: mean response latency (ms) vs candidate nodes n, {grid.side_mode} mode",
                ("topology", "scheduler", *(f"n={n}" for n in counts)),
                tuple(rows),
                note + " Filter-based schedulers only (those taking n_candidates).",
            )
        )
    io_rows = [r for r in bench.rows if r["experiment"] == "io"]
    if io_rows:
        io_labels = _labels(bench, "io")
        rows = []
        for size in grid.io_input_bytes:
            texts = [_mean_ci(_find(bench, experiment="io", label=lab, input_bytes=[size, size])) for lab in io_labels]
            rows.append((_size(size), *texts))
        tables.append(
            TableModel(
                f"Table 15 layout: IO-intensive tasks (light models), mean response latency (ms), "
                f"{grid.topologies[0]}, {grid.side_mode} mode",
                ("input", *(_show(bench, lab) for lab in io_labels)),
                tuple(rows),
                note + " Light models: FLOPs at most the 25th percentile of NAS-Bench-201.",
            )
        )
    comp_rows = [r for r in bench.rows if r["experiment"] == "compute"]
    if comp_rows:
        comp_labels = _labels(bench, "compute")
        tables.append(
            TableModel(
                f"Table 16 layout: compute-intensive tasks (heavy models), mean response latency (ms), "
                f"{grid.topologies[0]}, {grid.side_mode} mode",
                tuple(_show(bench, lab) for lab in comp_labels),
                (tuple(_mean_ci(_find(bench, experiment="compute", label=lab)) for lab in comp_labels),),
                note + " Heavy models: FLOPs at least the 75th percentile; inputs 100-500 KB.",
            )
        )
    return tables


def _decision_table(bench: PaperBench, labels: Sequence[str], topologies: Sequence[str]) -> TableModel:
    rows = []
    for topo in topologies:
        texts = []
        for lab in labels:
            times = [
                d
                for r in bench.results
                if r.cell.experiment == "main" and r.cell.topology == topo and r.cell.label == lab
                for d in r.decision_s
            ]
            if times:
                p50, p99 = np.percentile(times, [50, 99])
                texts.append(f"{_ms(float(p50), 3)} / {_ms(float(p99), 3)}")
            else:
                texts.append("-")
        rows.append((topo, *texts))
    return TableModel(
        "Table 14 layout: decision time p50 / p99 (ms), all modes pooled",
        ("topology", *(_show(bench, lab) for lab in labels)),
        tuple(rows),
        "Wall-clock time of each decide() call, probes included (the paper's RLMS-CPN: 4.5 ms on average).",
    )


def _size(size_bytes: float) -> str:
    for unit, scale in (("MB", 1e6), ("KB", 1e3)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:g} {unit}"
    return f"{size_bytes:g} B"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")[:60] or "topology"


def write_report(bench: PaperBench, out_dir: str | Path) -> Path:
    """Write ``report.md``, ``runs.json`` and the PNG plots into ``out_dir``; return the report's path.

    Plots: per-task response curves of the first seed, first 100 tasks, one file per topology and mode (the
    paper's Figs. 15-18); mean response per topology with 95% CI error bars, one file per mode (Fig. 14).
    """
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "runs.json").write_text(json.dumps(bench.to_json(), indent=2))
    figures = _plots(bench, out)
    grid = bench.grid
    prov = bench.provenance
    lines = [
        "# cpnkit bench paper: the RLMS-CPN comparison in the cpnkit simulator",
        "",
        f"Subject: **{bench.subject}**. Schedulers: {', '.join(_show(bench, s) for s in grid.resolved_schedulers())}.",
        f"Topologies: {', '.join(grid.topologies)}. Modes: {', '.join(grid.modes)}. "
        f"Seeds: {', '.join(map(str, grid.seeds))}. Tasks per run: {grid.scenario.n_tasks}. "
        f"Transport: {grid.transport}. Experiments: {', '.join(grid.experiments)}.",
        "",
    ]
    if bench.privileged:
        lines += [
            f"{PRIVILEGED_MARK} {', '.join(bench.privileged)}: privileged reference — it sees the simulator's "
            "true state, so it bounds what a scheduler could do; it is not a product scheduler.",
            "",
        ]
    lines += ["## Tables", ""]
    lines += [t.markdown() for t in paper_tables(bench)]
    if figures:
        lines += ["## Figures", ""]
        lines += [f"![{caption}]({name})\n\n*{caption}*\n" for name, caption in figures]
    scenario = {k: v for k, v in asdict(grid.scenario).items() if k != "device_pool"}
    lines += [
        "## Scenario and provenance",
        "",
        "Scenario (`paper`, `cpnkit.datasets.build_scenario`; side experiments change `task_mix` and the input "
        "range only):",
        "",
        "```json",
        json.dumps(scenario, indent=2, default=str),
        "```",
        "",
        "Access points and offered load per topology and seed:",
        "",
        "| topology | seed | access points | arrival rate (tasks/s) | offered compute load | background |",
        "|---|---:|---|---:|---:|---|",
    ]
    for rec in bench.to_json()["scenarios"]:
        rate = rec.get("arrival_rate_per_s")
        load = rec.get("offered_compute_load")
        lines.append(
            f"| {rec['topology']} | {rec['seed']} | {', '.join(rec.get('access_points', []))} | "
            f"{'-' if rate is None else f'{rate:.1f}'} | {'-' if load is None else f'{load:.3f}'} | "
            f"{rec.get('background', '-')} |"
        )
    lines += ["", "Versions and run:", "", "```json", json.dumps(dict(prov), indent=2, default=str), "```", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def _plots(bench: PaperBench, out: Path) -> list[tuple[str, str]]:
    import matplotlib.pyplot as plt

    figures: list[tuple[str, str]] = []
    grid = bench.grid
    if "main" not in grid.experiments:
        return figures
    labels = _labels(bench, "main")
    seed = grid.seeds[0]
    for mode in grid.modes:
        for topo in grid.topologies:
            curves: list[CellResult] = [
                r
                for r in bench.results
                if r.cell.experiment == "main"
                and r.cell.topology == topo
                and r.cell.mode == mode
                and r.cell.seed == seed
            ]
            if not curves:
                continue
            fig, ax = plt.subplots(figsize=(9, 4.5))
            for res in curves:
                y = np.array(res.response_s[:CURVE_TASKS]) * 1e3
                style = "--" if res.cell.scheduler in bench.privileged else "-"
                ax.plot(np.arange(len(y)), y, style, linewidth=1.1, label=_show(bench, res.cell.label))
            ax.set_xlabel("task index")
            ax.set_ylabel("response latency (ms)")
            ax.set_title(f"{topo}, {mode} mode, seed {seed}: per-task response (first {CURVE_TASKS} tasks)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, ncol=2)
            fig.tight_layout()
            name = f"latency_{mode}_{_slug(topo)}.png"
            fig.savefig(out / name, dpi=110)
            plt.close(fig)
            figures.append((name, f"Per-task response latency on {topo}, {mode} mode (Figs. 15-18 layout)"))
        fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(grid.topologies) * max(1, len(labels)) / 3), 4.5))
        width = 0.8 / max(1, len(labels))
        x = np.arange(len(grid.topologies))
        for i, lab in enumerate(labels):
            means, errs = [], []
            for topo in grid.topologies:
                row = _find(bench, experiment="main", topology=topo, label=lab, mode=mode)
                means.append(row["mean_response_s"] * 1e3 if row else math.nan)
                ci = row["ci95_s"] if row else math.nan
                errs.append(0.0 if ci is None or math.isnan(ci) else ci * 1e3)
            hatch = "//" if lab.split(" ")[0] in bench.privileged else None
            ax.bar(
                x + (i - (len(labels) - 1) / 2) * width,
                means,
                width,
                yerr=errs,
                capsize=2,
                hatch=hatch,
                label=_show(bench, lab),
            )
        ax.set_xticks(x, list(grid.topologies))
        ax.set_ylabel("mean response latency (ms)")
        ax.set_title(f"Mean response per topology, {mode} mode (95% CI over seeds)")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, ncol=2)
        fig.tight_layout()
        name = f"mean_response_{mode}.png"
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        figures.append((name, f"Mean response latency per topology, {mode} mode (Fig. 14 layout)"))
    return figures
