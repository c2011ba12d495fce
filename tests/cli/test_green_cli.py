from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cpnkit.cli.main import app

runner = CliRunner()


def test_bench_green_writes_report_and_json(tmp_path: Path) -> None:
    out = tmp_path / "green"
    result = runner.invoke(
        app,
        [
            "bench",
            "green",
            "-t",
            "abilene",
            "-s",
            "waterfill,carbon-aware",
            "--days",
            "0.05",
            "--rate",
            "0.02",
            "--out",
            str(out),
            "--json",
            str(tmp_path / "g.json"),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "g.json").read_text())
    assert {r["scheduler"] for r in doc["rows"]} == {"waterfill", "carbon-aware"}
    assert (out / "report.md").read_text().count("| carbon-aware |") == 1
    assert (out / "green_abilene.png").exists()


def test_pareto_sweeps_lambda_and_writes_csv_and_png(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["pareto", "-t", "abilene", "--lambdas", "0,1000", "--days", "0.05", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "pareto.csv").read_text().splitlines()
    assert lines[0].startswith("lambda_s_per_g,mean_response_s")
    assert len(lines) == 3
    assert (tmp_path / "pareto.png").exists()


def test_pareto_rejects_bad_lambdas() -> None:
    from cpnkit.errors import ConfigError

    result = runner.invoke(app, ["pareto", "--lambdas", "a,b"])
    assert isinstance(result.exception, ConfigError)
