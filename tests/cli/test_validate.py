from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cpnkit.bench import ns3_transfers
from cpnkit.bench.transfer_compare import compare_transfer_results, size_class
from cpnkit.cli.validate import validate_app
from cpnkit.errors import ConfigError
from cpnkit.readwrite import load_transfer_results
from cpnkit.sim import transfers as sim_transfers
from cpnkit.sim.transfers import TransferResult, TransferScenario

runner = CliRunner()
DATA = Path(ns3_transfers.__file__).resolve().parent / "data"


def _results(model: str, scale: dict[str, float], *, sizes: bool = True, drop: str | None = None) -> dict[str, Any]:
    """A result file: three single-subflow tasks of 100 KB, 2 MB and 50 MB plus one 2-subflow task of 10 MB."""
    base = {"small": 0.2, "mid": 0.4, "big": 4.0, "multi": 1.0}
    size = {"small": 100_000, "mid": 2_000_000, "big": 50_000_000, "multi": 10_000_000}
    tasks = []
    for tid, value in base.items():
        if tid == drop:
            continue
        value *= scale.get(tid, 1.0)
        subflows = (
            [{"id": "a", "completion_s": value * 0.9}, {"id": "b", "completion_s": value}]
            if tid == "multi"
            else [{"id": "f1", "completion_s": value}]
        )
        task: dict[str, Any] = {"id": tid, "completion_s": value, "subflows": subflows}
        if sizes:
            task["size_bytes"] = size[tid]
        tasks.append(task)
    return {"model": model, "scenarios": [{"id": "s1", "tasks": tasks}]}


def _write(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def result_files(tmp_path: Path) -> list[Path]:
    ref = _write(tmp_path, "ns3.json", _results("ns3", {}))
    tcp = _write(tmp_path, "tcp.json", _results("tcp", {"small": 1.1, "mid": 0.8, "big": 1.02, "multi": 1.05}))
    fluid = _write(tmp_path, "fluid.json", _results("fluid", {"small": 0.25, "mid": 0.5, "big": 0.9, "multi": 0.6}))
    return [ref, tcp, fluid]


def test_validate_compare_prints_side_by_side_and_writes_summary(tmp_path: Path, result_files: list[Path]) -> None:
    out = tmp_path / "cmp.json"
    result = runner.invoke(validate_app, ["compare", *map(str, result_files), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "relative error vs ns3" in result.output
    assert "+10.0%" in result.output  # tcp on the 100 KB task
    assert "-75.0%" in result.output  # fluid on the 100 KB task
    assert "<=300 KB" in result.output
    report = json.loads(out.read_text())
    assert [m["label"] for m in report["models"]] == ["ns3", "tcp", "fluid"]
    rows = {(r["task"], r["subflow"]): r for r in report["rows"]}
    assert rows[("small", None)]["rel_error"]["tcp"] == pytest.approx(0.1)
    assert rows[("multi", "a")]["completion_s"]["ns3"] == pytest.approx(0.9)
    assert rows[("multi", "a")]["rel_error"]["fluid"] == pytest.approx(-0.4)
    tcp = report["summary"]["tcp"]
    assert tcp["<=300 KB"] == {
        "n": 1,
        "median_abs_rel_error": pytest.approx(0.1),
        "max_abs_rel_error": pytest.approx(0.1),
        "median_rel_error": pytest.approx(0.1),
    }
    assert tcp["<=3 MB"]["max_abs_rel_error"] == pytest.approx(0.2)
    assert tcp["<=20 MB"]["n"] == 1
    assert tcp[">20 MB"]["median_abs_rel_error"] == pytest.approx(0.02)
    assert tcp["all"]["n"] == 4
    assert tcp["all"]["median_abs_rel_error"] == pytest.approx(0.075)  # median of 0.1, 0.2, 0.02, 0.05
    assert report["summary"]["fluid"]["all"]["max_abs_rel_error"] == pytest.approx(0.75)
    assert report["missing"] == {}


def test_validate_compare_reports_missing_entries_and_uses_scenario_sizes(tmp_path: Path) -> None:
    ref = _write(tmp_path, "ref.json", _results("ns3", {}, sizes=False))
    other = _write(tmp_path, "other.json", _results("tcp", {"small": 2.0}, sizes=False, drop="big"))
    out = tmp_path / "cmp.json"
    result = runner.invoke(validate_app, ["compare", str(ref), str(other), "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["missing"] == {"tcp": ["s1/big", "s1/big/f1"]}
    assert report["summary"]["tcp"]["size unknown"]["n"] == 3
    assert report["summary"]["tcp"]["<=300 KB"]["n"] == 0
    assert report["summary"]["tcp"]["<=300 KB"]["median_abs_rel_error"] is None
    rows = {(r["task"], r["subflow"]): r for r in report["rows"]}
    assert rows[("big", None)]["completion_s"]["tcp"] is None
    assert rows[("big", None)]["rel_error"]["tcp"] is None


def test_compare_transfer_results_takes_sizes_from_scenarios(tmp_path: Path) -> None:
    ref = load_transfer_results(_write(tmp_path, "ref.json", _results("ns3", {}, sizes=False)))
    other = load_transfer_results(_write(tmp_path, "tcp.json", _results("tcp", {"big": 1.5}, sizes=False)))
    cmp = compare_transfer_results([ref, other], task_size_bytes={("s1", "big"): 50e6})
    assert cmp.summary["tcp"][">20 MB"].max_abs_rel_error == pytest.approx(0.5)
    assert cmp.summary["tcp"]["size unknown"].n == 3


def test_compare_labels_the_same_model_by_file(tmp_path: Path) -> None:
    a = load_transfer_results(_write(tmp_path, "a.json", _results("tcp", {})))
    b = load_transfer_results(_write(tmp_path, "b.json", _results("tcp", {"mid": 1.5})))
    cmp = compare_transfer_results([a, b])
    assert cmp.labels == ("tcp (a.json)", "tcp (b.json)")
    sub = tmp_path / "sub"
    sub.mkdir()
    c = load_transfer_results(_write(sub, "a.json", _results("tcp", {})))
    assert compare_transfer_results([a, c]).labels == ("tcp (a.json) #1", "tcp (a.json) #2")


def test_validate_compare_needs_two_files(result_files: list[Path]) -> None:
    result = runner.invoke(validate_app, ["compare", str(result_files[0])])
    assert isinstance(result.exception, ConfigError)
    assert "at least two result files" in str(result.exception)


def test_validate_compare_rejects_a_bad_result_file(tmp_path: Path, result_files: list[Path]) -> None:
    bad = _write(tmp_path, "bad.json", {"scenarios": []})
    result = runner.invoke(validate_app, ["compare", str(result_files[0]), str(bad)])
    assert isinstance(result.exception, ConfigError)
    assert "bad.json" in str(result.exception)
    assert "'model'" in str(result.exception)


@pytest.mark.parametrize(
    ("size", "label"), [(300e3, "<=300 KB"), (300_001, "<=3 MB"), (20e6, "<=20 MB"), (None, "size unknown")]
)
def test_size_class_bounds(size: float | None, label: str) -> None:
    assert size_class(size) == label


def _fake_evaluate(scenario: TransferScenario, *, model: str = "tcp") -> TransferResult:
    subs = {
        t.id: {s.id: s.path.prop_delay_s + s.size_bytes * 8 / s.path.bottleneck_bps for s in t.subflows}
        for t in scenario.tasks
    }
    return TransferResult(scenario.id, model, {t: max(v.values()) for t, v in subs.items()}, subs)


def test_validate_transfers_writes_model_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim_transfers, "evaluate_transfers", _fake_evaluate)
    out = tmp_path / "fluid.json"
    args = ["transfers", "--scenarios", str(DATA / "transfer_smoke.json"), "--model", "fluid", "--json", str(out)]
    result = runner.invoke(validate_app, args)
    assert result.exit_code == 0, result.output
    loaded = load_transfer_results(out)
    assert loaded.model == "fluid"
    assert loaded.provenance["model"] == "fluid"
    (res,) = loaded.results
    assert res.subflow_completion_s["t1"]["short"] == pytest.approx(0.01 + 600000 * 8 / 1e8)
    assert loaded.task_size_bytes == {("smoke-1MB-2paths", "t1"): 1e6}


def test_validate_transfers_rejects_unknown_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim_transfers, "evaluate_transfers", _fake_evaluate)
    args = ["transfers", "--scenarios", str(DATA / "transfer_smoke.json"), "--model", "tpc", "--json", "x.json"]
    result = runner.invoke(validate_app, args)
    assert isinstance(result.exception, ConfigError)
    assert "--model 'tpc'" in str(result.exception)
    assert "Did you mean 'tcp'" in str(result.exception)


def test_validate_ns3_without_ns3_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ns3_transfers, "_NS", None)
    monkeypatch.setattr(ns3_transfers.importlib.util, "find_spec", lambda name: None)
    args = ["ns3", "--scenarios", str(DATA / "transfer_smoke.json"), "--json", str(tmp_path / "o.json"), "--quiet"]
    result = runner.invoke(validate_app, args)
    assert isinstance(result.exception, ConfigError)
    assert "pip install 'cpnkit[ns3]'" in str(result.exception)


def test_validate_ns3_reports_bad_scenario_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = runner.invoke(validate_app, ["ns3", "--scenarios", str(bad), "--json", str(tmp_path / "o.json")])
    assert isinstance(result.exception, ConfigError)
    assert "not valid JSON" in str(result.exception)
