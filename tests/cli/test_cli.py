from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cpnkit.cli.main import app

runner = CliRunner()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cpnkit.cli.main", *args], capture_output=True, text=True, check=False, timeout=300
    )


def test_cli_topo_show_json_counts_directed_links() -> None:
    result = runner.invoke(app, ["topo", "show", "abilene", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["nodes"], data["links"]) == (12, 30)


def test_cli_topo_list_names_every_bundled_topology() -> None:
    result = runner.invoke(app, ["topo", "list", "--json"])
    assert result.exit_code == 0, result.output
    names = {row["name"] for row in json.loads(result.output)}
    assert names == {"abilene", "ebone", "sprintlink", "tiscali", "uscarrier", "kdl", "asn"}


def test_cli_sim_writes_csv_with_required_columns(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    meta = tmp_path / "r.json"
    result = runner.invoke(
        app, ["sim", "--topology", "abilene", "--tasks", "40", "--seed", "1", "--out", str(out), "--json", str(meta)]
    )
    assert result.exit_code == 0, result.output
    assert "mean response" in result.output
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 40
    for column in ("task_id", "response_s", "transmission_s", "queue_s", "compute_s", "site", "scheduler"):
        assert column in rows[0]
    assert json.loads(meta.read_text())["meta"]["seed"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["topo", "show", "abilen"], "Did you mean 'abilene'"),
        (["sim", "--scheduler", "nearest", "--tasks", "5"], "unknown scheduler 'nearest'"),
        (["sim", "--mode", "batch", "--tasks", "5"], "--mode 'batch'"),
        (["sim", "--topology", "/no/such/file.json", "--tasks", "5"], "file.json"),
    ],
)
def test_cli_bad_input_prints_error_and_exits_nonzero(args: list[str], message: str) -> None:
    proc = _cli(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "error:" in proc.stderr
    assert message in " ".join(proc.stderr.split())


def test_cli_help_explains_commands() -> None:
    result = runner.invoke(app, ["sim", "--help"])
    assert result.exit_code == 0
    assert "--topology" in result.output
    assert "--scheduler" in result.output


def test_cli_usage_error_exits_2_without_traceback() -> None:
    proc = _cli("sim", "--tasks", "0")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "--tasks" in proc.stderr


def test_cli_sim_runs_under_tcp_queue(tmp_path: Path) -> None:
    meta = tmp_path / "r.json"
    args = ["sim", "--topology", "abilene", "--tasks", "8", "--seed", "1", "--transport", "tcp-queue"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "r.csv"), "--json", str(meta)])
    assert result.exit_code == 0, result.output
    assert "mean response" in result.output
    help_text = " ".join(runner.invoke(app, ["sim", "--help"]).output.split())
    assert "tcp-queue" in help_text
