from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cpnkit.datasets import load_latency_table
from cpnkit.datasets.predictor_models import load_arch_encodings, read_latency_samples_csv
from cpnkit.errors import DataError


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cpnkit.cli.main", "predictor", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _write_samples(path: Path, device: str, k: int) -> None:
    column = load_latency_table([device]).latency_s[:, 0]
    cells = load_arch_encodings().cells
    idx = np.random.default_rng(1).choice(column.size, k, replace=False)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["arch", "latency_ms"])
        for j, i in enumerate(idx):  # mix cell strings and indices
            writer.writerow([cells[i] if j % 2 else int(i), column[i] * 1e3])


def test_predictor_cli_adapt_then_predict(tmp_path: Path) -> None:
    samples = tmp_path / "gold.csv"
    _write_samples(samples, "gold_6226", 20)
    done = _cli("adapt", "--device-name", "gold", "--samples", str(samples), "--out", str(tmp_path / "m"))
    assert done.returncode == 0, done.stderr
    archs = tmp_path / "archs.csv"
    archs.write_text("arch\n3\n" + load_arch_encodings().cells[9] + "\n")
    done = _cli("predict", "--model", str(tmp_path / "m"), "--archs", str(archs), "--out", str(tmp_path / "p.csv"))
    assert done.returncode == 0, done.stderr
    with (tmp_path / "p.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["arch_idx"] for r in rows] == ["3", "9"]
    assert all(float(r["latency_ms"]) > 0 for r in rows)
    done = _cli("predict", "--model", str(tmp_path / "m"), "--device", "gol", "--out", str(tmp_path / "q.csv"))
    assert done.returncode == 2
    assert "error:" in done.stderr
    assert "Did you mean 'gold'" in done.stderr


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("arch,lat\n1,2\n", "missing column"),
        ("arch,latency_ms\n1,nan\n", "finite number > 0"),
        ("arch,latency_ms\n1,-3\n", "finite number > 0"),
        ("arch,latency_ms\n", "zero samples"),
        ("arch,latency_ms\n|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|,3\n", "unknown operation 'conv'"),
        ("arch,latency_ms\n|none~0|+|none~0|,3\n", "malformed cell string"),
        ("arch,latency_ms\n99999,3\n", "outside"),
    ],
)
def test_predictor_cli_bad_samples_exit_2(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "s.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=fragment):
        read_latency_samples_csv(path, "dev")
    if fragment in ("missing column", "finite number > 0"):  # the CLI path once per kind is enough
        done = _cli("adapt", "--device-name", "dev", "--samples", str(path), "--out", str(tmp_path / "m"))
        assert done.returncode == 2
        assert done.stderr.startswith("error:")
        assert fragment in " ".join(done.stderr.split())


def test_predictor_cli_eval_json_small(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    done = _cli(
        "eval", "--samples", "10", "--seeds", "0,1", "--methods", "flops,layerwise,tsft-s1",
        "--devices", "fpga,raspi4", "--json", str(out), "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Table 5" in done.stdout
    report = json.loads(out.read_text())
    assert len(report["rows"]) == 3 * 2 * 2
    avg = [s for s in report["summary"] if s["device"] == "average"]
    assert {s["method"] for s in avg} == {"flops", "layerwise", "tsft-s1"}
    assert all(s["mse_mean"] >= 0 and s["seeds"] == 2 for s in avg)
    done = _cli("eval", "--methods", "tsfft", "--quiet")
    assert done.returncode == 2
    assert "Did you mean 'tsft'" in done.stderr
