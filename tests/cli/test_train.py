from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cpnkit.bench.train import load_checkpoint
from cpnkit.cli.main import app
from cpnkit.cli.train import parse_assignments
from cpnkit.errors import ConfigError
from tests.bench.test_train import tiny_factory

runner = CliRunner()


def test_cli_train_writes_checkpoint_and_curve_then_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cpnkit.bench.train._default_factory", lambda: tiny_factory)
    args = ["train", "-t", "abilene", "-s", "tiny", "--seed", "1", "--episode-tasks", "6", "--eval-every", "6"]
    args += ["--scenarios", "1", "--scenario-tasks", "30", "--eval-tasks", "3", "--hyper", "lr=0.2"]
    args += ["--transport", "fluid", "--out", str(tmp_path / "a"), "--quiet"]
    result = runner.invoke(app, [*args, "--steps", "12"])
    assert result.exit_code == 0, result.output
    assert "trained 12 steps" in result.output
    ckpt = load_checkpoint(tmp_path / "a" / "checkpoint.pt")
    assert ckpt["step"] == 12
    assert ckpt["settings"]["transport"] == "fluid"
    assert (tmp_path / "a" / "curve.png").stat().st_size > 0
    resumed = runner.invoke(app, [*args, "--steps", "18", "--resume", str(tmp_path / "a" / "checkpoint.pt")])
    assert resumed.exit_code == 0, resumed.output
    assert "trained 6 steps" in resumed.output
    rows = (tmp_path / "a" / "curve.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["step", "6", "12", "18"]


def test_cli_train_exports_a_bundled_policy_with_provenance(tmp_path: Path) -> None:
    import json

    from cpnkit.datasets.policies import load_policy

    stem = tmp_path / "policy" / "abilene"
    args = ["train", "-t", "abilene", "--scheduler", "rlms-mlp", "--steps", "20", "--episode-tasks", "10"]
    args += ["--scenarios", "1", "--scenario-tasks", "30", "--eval-tasks", "5", "--eval-every", "10"]
    args += [
        "--paper",
        "--hyper",
        "gamma=0.9",
        "--hyper",
        "policy_lr=0.001",
        "--hyper",
        "value_lr=0.001",
        "--out",
        str(tmp_path / "run"),
        "--export",
        str(stem),
        "--quiet",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    meta = json.loads(stem.with_suffix(".json").read_text())
    assert meta["hyper"]["optimizer"] == "sgd"
    assert meta["hyper"]["gamma"] == 0.9
    prov = meta["provenance"]
    assert prov["command"].startswith("cpnkit ")
    assert "--export" in prov["command"]
    assert prov["transport"] == "tcp"
    assert prov["seed"] == 0
    assert prov["steps"] == 20
    assert [row["step"] for row in prov["history"]] == [10, 20]
    assert "git_commit" in prov["code"] or "commit" in json.dumps(prov["code"])
    assert math.isfinite(prov["shipped_eval_mean_response_s"])
    assert load_policy(stem).id == "rlms-mlp"


def test_cli_train_bad_input_exits_2_with_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.pt"
    bad.write_text("not a checkpoint")
    proc = subprocess.run(
        [sys.executable, "-m", "cpnkit.cli.main", "train", "--steps", "5", "--resume", str(bad), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "error:" in proc.stderr
    assert "x.pt cannot be read" in proc.stderr.replace("\n", "")


def test_parse_assignments_rejects_items_without_equals() -> None:
    assert parse_assignments(["a=1", "b=x y", "c="]) == {"a": 1, "b": "x y", "c": ""}
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignments(["lr"])


def test_cli_train_refuses_tcp_queue_with_a_way_out(tmp_path: Path) -> None:
    args = ["train", "-t", "abilene", "-s", "rlms-cpn", "--transport", "tcp-queue", "--out", str(tmp_path), "--quiet"]
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError)
    assert "bench paper --transport tcp-queue" in str(result.exception)
