"""The benchmark and evaluation scripts keep working as the package changes (they are not run by ``make test``).

Every script's ``--help`` imports it and builds its parser. The two evaluation scripts that patch private parts of
the simulator (and so rot first when those change) run for real on the small held-out suite, in a subprocess
(their patches must not leak into other tests), and must reproduce the figures the README quotes for it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SCRIPTS = sorted((ROOT / "benchmarks").glob("*.py"))
HELDOUT = ROOT / "src" / "cpnkit" / "bench" / "data" / "transfer_heldout.json"


def _run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_script_help(path: Path) -> None:
    assert "usage:" in _run(str(path), "--help")


def test_rtt_weighted_sharing_evaluation_runs() -> None:
    # a = 0 is the shipped model: the held-out figures of bench_transfers.py (median 6.5%, max 224.0%)
    out = _run("benchmarks/eval_rtt_weighted_sharing.py", str(HELDOUT), "0")
    assert "a=0: median 6.5% max 224.0% over 18 tasks" in out


def test_mm1_rtt_term_evaluation_runs() -> None:
    out = _run("benchmarks/eval_mm1_rtt_term.py", str(HELDOUT))
    assert "ho-paper-bg50-10G-1MB/t1: ns-3 195.1 ms; tcp without M/M/1 195.1 ms" in out
