from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from cpnkit.bench import ns3_transfers
from cpnkit.bench.ns3_transfers import Ns3Settings, run_ns3
from cpnkit.errors import ConfigError
from cpnkit.model import Link, Topology
from cpnkit.readwrite import load_transfer_results, read_transfer_scenarios
from cpnkit.sim.transfers import TransferScenario, TransferSubflow, TransferTask

DATA = Path(ns3_transfers.__file__).resolve().parent / "data"
HAS_NS3 = importlib.util.find_spec("ns") is not None
#: ns-3 runs are deterministic; the tolerance only absorbs a different ns-3 build.
SMOKE_TOLERANCE = 0.03


def _line(delay_back_s: float = 0.01, *, reverse: bool = True) -> Topology:
    links = [Link("s", "t", 1e8, 0.01)]
    if reverse:
        links.append(Link("t", "s", 1e8, delay_back_s))
    return Topology.from_links("line", links)


def _scenario(topo: Topology, nbytes: float = 1000.0) -> TransferScenario:
    path = topo.make_path(["s", "t"])
    task = TransferTask("t1", "s", "t", nbytes, 0.0, "tcp", (TransferSubflow("f1", path, nbytes),))
    return TransferScenario("sc", topo, (task,))


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        (_scenario(_line(reverse=False)), "no reverse link"),
        (_scenario(_line(0.02)), "one delay: make them equal"),
        (_scenario(_line(), 1000.5), "bytes=1000.5 is not a whole number"),
    ],
)
def test_run_ns3_rejects_scenarios_it_cannot_build(scenario: TransferScenario, message: str) -> None:
    with pytest.raises(ConfigError, match=message):  # checked before ns-3 is loaded
        run_ns3([scenario])


def test_run_ns3_rejects_seed_zero() -> None:
    with pytest.raises(ConfigError, match="seed=0"):
        run_ns3([_scenario(_line())], seed=0)


def test_run_ns3_without_ns3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ns3_transfers, "_NS", None)
    monkeypatch.setattr(ns3_transfers.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"pip install 'cpnkit\[ns3\]'"):
        run_ns3([_scenario(_line())])


@pytest.mark.parametrize(
    ("field", "value"),
    [("segment_size_bytes", 0), ("udp_payload_bytes", 1500), ("min_rto_s", -1.0), ("max_wall_s", math.inf)],
)
def test_ns3_settings_reject_bad_values(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        Ns3Settings(**{field: value})  # type: ignore[arg-type]


def test_queue_is_at_least_twice_the_largest_bdp() -> None:
    (scenario,) = [s for s in read_transfer_scenarios(DATA / "transfer_suite.json") if s.id == "single-1G-40ms-50MB"]
    # 10 Gbit/s access link x 80 ms RTT = 66,667 packets of 1500 bytes; twice that
    assert ns3_transfers._queue_packets(scenario, Ns3Settings()) == 133334
    small = _scenario(_line())
    assert ns3_transfers._queue_packets(small, Ns3Settings()) == 1000


def test_golden_suite_results_cover_every_task_and_respect_physics() -> None:
    scenarios = read_transfer_scenarios(DATA / "transfer_suite.json")
    golden = load_transfer_results(DATA / "transfer_suite_ns3.json")
    assert golden.model == "ns3"
    prov = golden.provenance
    assert prov["ns3_version"].startswith("3.44")
    assert prov["seed"] == 1
    assert prov["settings"]["segment_size_bytes"] == 1448
    assert prov["settings"]["initial_cwnd_segments"] == 10
    results = {r.scenario: r for r in golden.results}
    assert set(results) == {s.id for s in scenarios}
    for scenario in scenarios:
        result = results[scenario.id]
        assert set(result.task_completion_s) == {t.id for t in scenario.tasks}
        assert prov["runs"][scenario.id]["t0_s"] > 0
        for task in scenario.tasks:
            subs = result.subflow_completion_s[task.id]
            assert set(subs) == {s.id for s in task.subflows}
            assert result.task_completion_s[task.id] == max(subs.values())
            for sub in task.subflows:
                # no transfer beats propagation + serialisation of its payload at the bottleneck rate
                floor_s = sub.path.prop_delay_s + sub.size_bytes * 8 / sub.path.bottleneck_bps
                assert subs[sub.id] > floor_s, (scenario.id, task.id, sub.id)


@pytest.mark.skipif(not HAS_NS3, reason="ns-3 bindings not installed: pip install 'cpnkit[ns3]' (PyPI ns3==3.44.post0)")
def test_ns3_smoke_run_matches_golden(tmp_path: Path) -> None:
    # A subprocess keeps ns-3 (~650 MB, a shared-library scan of the working directory) out of the test process.
    out = tmp_path / "smoke_ns3.json"
    command = [
        sys.executable,
        "-c",
        "from cpnkit.cli.validate import validate_app; validate_app()",
        "ns3",
        "--scenarios",
        str(DATA / "transfer_smoke.json"),
        "--json",
        str(out),
        "--quiet",
    ]
    proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = load_transfer_results(out)
    golden = load_transfer_results(DATA / "transfer_smoke_ns3.json")
    assert got.model == "ns3"
    assert got.provenance["runs"]["smoke-1MB-2paths"]["drops"] == 0
    (result,) = got.results
    (expected,) = golden.results
    assert set(result.subflow_completion_s["t1"]) == {"short", "long"}
    for task, value in expected.task_completion_s.items():
        assert result.task_completion_s[task] > 0
        assert result.task_completion_s[task] == pytest.approx(value, rel=SMOKE_TOLERANCE)
        for sub, sub_value in expected.subflow_completion_s[task].items():
            assert result.subflow_completion_s[task][sub] == pytest.approx(sub_value, rel=SMOKE_TOLERANCE)
    assert json.loads(out.read_text())["provenance"]["scenarios_file"].endswith("transfer_smoke.json")
