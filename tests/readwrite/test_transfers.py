from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cpnkit.errors import ConfigError, CpnError, DataError, TopologyError
from cpnkit.readwrite import (
    RESULTS_FORMAT,
    load_transfer_results,
    read_transfer_results,
    read_transfer_scenarios,
    write_transfer_results,
)
from cpnkit.sim.transfers import TransferResult

DATA = Path(__file__).resolve().parents[2] / "src" / "cpnkit" / "bench" / "data"


def _doc() -> dict[str, Any]:
    return {
        "topologies": {
            "diamond": {
                "nodes": ["s", "a", "b", "t"],
                "links": [
                    {"src": "s", "dst": "a", "capacity_bps": 1e8, "prop_delay_s": 0.005},
                    {"src": "a", "dst": "t", "capacity_bps": 1e8, "prop_delay_s": 0.005},
                    {"src": "s", "dst": "b", "capacity_bps": 5e7, "prop_delay_s": 0.01},
                    {"src": "b", "dst": "s", "capacity_bps": 2e7, "prop_delay_s": 0.01},
                    {"src": "b", "dst": "t", "capacity_bps": 5e7, "prop_delay_s": 0.01},
                ],
                "paths": {"upper": ["s", "a", "t"]},
            }
        },
        "scenarios": [
            {
                "id": "s1",
                "topology": "diamond",
                "tasks": [
                    {
                        "id": "t1",
                        "src": "s",
                        "dst": "t",
                        "size_bytes": 1000000,
                        "start_s": 0.0,
                        "transport": "tcp",
                        "subflows": [
                            {"id": "f1", "path": "upper", "bytes": 600000},
                            {"id": "f2", "path": ["s", "b", "t"], "bytes": 400000},
                        ],
                    }
                ],
                "background": [{"id": "bg", "path": ["a", "t"], "rate_bps": 1e7, "start_s": 0.0, "stop_s": 2.0}],
            }
        ],
    }


def _write(tmp_path: Path, doc: Any, name: str = "scen.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_read_transfer_scenarios_builds_duplex_topology_and_paths(tmp_path: Path) -> None:
    (scenario,) = read_transfer_scenarios(_write(tmp_path, _doc()))
    topo = scenario.topology
    assert topo.name == "diamond"
    # pairs listed once are duplex; s<->b is listed both ways and keeps each direction's capacity
    assert len(topo.links) == 8
    assert topo.links[topo.link_id("t", "a")].capacity_bps == 1e8
    assert topo.links[topo.link_id("s", "b")].capacity_bps == 5e7
    assert topo.links[topo.link_id("b", "s")].capacity_bps == 2e7
    assert topo.meta["source"].endswith("scen.json")
    (task,) = scenario.tasks
    assert (task.src, task.dst, task.size_bytes, task.transport) == ("s", "t", 1e6, "tcp")
    f1, f2 = task.subflows
    assert f1.path.nodes == ("s", "a", "t")  # named path
    assert f2.path.nodes == ("s", "b", "t")
    assert f2.path.bottleneck_bps == 5e7
    assert math.isclose(f1.path.prop_delay_s, 0.01)
    (bg,) = scenario.background
    assert (bg.path.nodes, bg.rate_bps, bg.stop_s) == (("a", "t"), 1e7, 2.0)


def test_read_transfer_scenarios_background_is_optional(tmp_path: Path) -> None:
    doc = _doc()
    del doc["scenarios"][0]["background"]
    del doc["topologies"]["diamond"]["paths"]
    doc["scenarios"][0]["tasks"][0]["subflows"][0]["path"] = ["s", "a", "t"]
    (scenario,) = read_transfer_scenarios(_write(tmp_path, doc))
    assert scenario.background == ()


def test_bundled_scenario_files_parse() -> None:
    smoke = read_transfer_scenarios(DATA / "transfer_smoke.json")
    assert len(smoke) == 1
    assert smoke[0].tasks[0].size_bytes == 1e6
    assert len(smoke[0].tasks[0].subflows) == 2
    suite = read_transfer_scenarios(DATA / "transfer_suite.json")
    assert len(suite) >= 40
    sizes = {t.size_bytes for s in suite for t in s.tasks}
    assert {100e3, 1e6, 10e6, 50e6} <= sizes


def test_transfer_results_round_trip(tmp_path: Path) -> None:
    scenarios = read_transfer_scenarios(_write(tmp_path, _doc()))
    result = TransferResult("s1", "ns3", {"t1": 0.25}, {"t1": {"f1": 0.2, "f2": 0.25}})
    out = write_transfer_results([result], tmp_path / "out" / "r.json", provenance={"seed": 3}, scenarios=scenarios)
    data = json.loads(out.read_text())
    assert data["format"] == RESULTS_FORMAT
    assert data["model"] == "ns3"
    assert data["scenarios"][0]["tasks"][0]["size_bytes"] == 1000000
    assert read_transfer_results(out) == [result]
    loaded = load_transfer_results(out)
    assert loaded.provenance == {"seed": 3}
    assert loaded.task_size_bytes == {("s1", "t1"): 1e6}
    assert loaded.subflow_size_bytes == {("s1", "t1", "f1"): 6e5, ("s1", "t1", "f2"): 4e5}


def test_write_transfer_results_without_scenarios_omits_sizes(tmp_path: Path) -> None:
    result = TransferResult("s1", "tcp", {"t1": 0.25}, {"t1": {"f1": 0.25}})
    out = write_transfer_results([result], tmp_path / "r.json")
    assert "size_bytes" not in out.read_text()
    assert load_transfer_results(out).task_size_bytes == {}


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ([], "no transfer results"),
        (
            [TransferResult("a", "tcp", {"t": 1.0}, {}), TransferResult("b", "fluid", {"t": 1.0}, {})],
            "several models",
        ),
        ([TransferResult("a", "tcp", {"t": 1.0}, {}), TransferResult("a", "tcp", {"t": 1.0}, {})], "two results"),
        ([TransferResult("a", "tcp", {"t": math.inf}, {})], "completion_s=inf"),
        ([TransferResult("a", "tcp", {"t": 1.0}, {"t": {"f": math.nan}})], "completion_s=nan"),
    ],
)
def test_write_transfer_results_rejects_bad_results(
    tmp_path: Path, results: list[TransferResult], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        write_transfer_results(results, tmp_path / "r.json")


Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """Set a value at a dotted path (integers index lists)."""

    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return mutate


TASK = "scenarios.0.tasks.0"
SUB0 = f"{TASK}.subflows.0"
SUB1 = f"{TASK}.subflows.1"
LINK0 = "topologies.diamond.links.0"


def _duplicate_task(doc: dict[str, Any]) -> None:
    tasks = doc["scenarios"][0]["tasks"]
    tasks.append(copy.deepcopy(tasks[0]))


def _duplicate_link(doc: dict[str, Any]) -> None:
    links = doc["topologies"]["diamond"]["links"]
    links.append(dict(links[0]))


BAD_CASES: list[tuple[str, Mutation, type[CpnError], list[str]]] = [
    ("missing scenarios", _delete("scenarios"), DataError, ["'scenarios'", "add it"]),
    ("missing topologies", _delete("topologies"), DataError, ["'topologies'"]),
    ("missing size", _delete(f"{TASK}.size_bytes"), DataError, ["task 't1'", "'size_bytes'"]),
    ("missing transport", _delete(f"{TASK}.transport"), DataError, ["task 't1'", "'transport'", '"tcp"']),
    ("missing subflow bytes", _delete(f"{SUB0}.bytes"), DataError, ["subflow 'f1'", "'bytes'"]),
    ("missing link capacity", _delete(f"{LINK0}.capacity_bps"), DataError, ["link 's'->'a'", "capacity_bps"]),
    (
        "unknown node in path",
        _set(f"{SUB1}.path", ["s", "q", "t"]),
        TopologyError,
        ["subflow 'f2'", "'q'", "not in topology 'diamond'", "use the topology's nodes"],
    ),
    (
        "unknown node in link",
        _set(f"{LINK0}.dst", "aa"),
        TopologyError,
        ["'aa'", "not in the topology's nodes", "Did you mean 'a'"],
    ),
    (
        "path not a chain of links",
        _set(f"{SUB1}.path", ["s", "t"]),
        TopologyError,
        ["subflow 'f2'", "['s', 't']", "not a chain of links", "no link 's'->'t'", "list every hop"],
    ),
    ("path repeats a node", _set(f"{SUB1}.path", ["s", "b", "s", "a", "t"]), TopologyError, ["repeats a node"]),
    (
        "path from the wrong source",
        _set(f"{SUB1}.path", ["a", "t"]),
        TopologyError,
        ["subflow 'f2'", "'a' -> 't'", "task's 's' -> 't'"],
    ),
    (
        "unknown named path",
        _set(f"{SUB0}.path", "uper"),
        TopologyError,
        ["'uper'", "not a named path", "Did you mean 'upper'"],
    ),
    (
        "negative size",
        _set(f"{TASK}.size_bytes", -5),
        DataError,
        ["task 't1'", "size_bytes=-5", "> 0", "in bytes"],
    ),
    ("zero subflow bytes", _set(f"{SUB0}.bytes", 0), DataError, ["subflow 'f1'", "bytes=0", "> 0"]),
    ("negative start", _set(f"{TASK}.start_s", -1.0), DataError, ["start_s=-1.0", ">= 0"]),
    ("boolean size", _set(f"{TASK}.size_bytes", True), DataError, ["size_bytes=True"]),
    ("string size", _set(f"{TASK}.size_bytes", "1MB"), DataError, ["size_bytes='1MB'"]),
    (
        "split not summing to size",
        _set(f"{SUB1}.bytes", 300000),
        DataError,
        ["task 't1'", "sum to 900000", "size_bytes=1e+06", "split must cover the task exactly"],
    ),
    (
        "unknown topology",
        _set("scenarios.0.topology", "diamnd"),
        DataError,
        ["scenario 's1'", "'diamnd'", "not defined", "Did you mean 'diamond'"],
    ),
    (
        "unknown transport",
        _set(f"{TASK}.transport", "udp"),
        DataError,
        ["task 't1'", "transport='udp'", "['tcp']"],
    ),
    ("unknown task node", _set(f"{TASK}.dst", "x"), TopologyError, ["dst='x'", "not a node of topology"]),
    ("duplicate task id", _duplicate_task, DataError, ["task 't1'", "appears twice"]),
    ("duplicate link", _duplicate_link, TopologyError, ["link 's'->'a'", "listed twice"]),
    ("self loop", _set(f"{LINK0}.dst", "s"), TopologyError, ["self-loop"]),
    ("zero delay", _set(f"{LINK0}.prop_delay_s", 0), DataError, ["prop_delay_s=0", "> 0"]),
    ("tasks not a list", _set("scenarios.0.tasks", {"id": "t1"}), DataError, ["tasks is an object", "JSON list"]),
    ("no tasks", _set("scenarios.0.tasks", []), DataError, ["tasks is empty"]),
    ("no subflows", _set(f"{TASK}.subflows", []), DataError, ["subflows is empty"]),
    (
        "background stops before it starts",
        _set("scenarios.0.background.0.stop_s", 0.0),
        DataError,
        ["background 'bg'", "stop_s=0 is not after start_s=0"],
    ),
    ("negative background rate", _set("scenarios.0.background.0.rate_bps", -1), DataError, ["rate_bps=-1"]),
]


@pytest.mark.parametrize(("mutate", "error", "fragments"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_read_transfer_scenarios_rejects_bad_files(
    tmp_path: Path, mutate: Mutation, error: type[CpnError], fragments: list[str]
) -> None:
    doc = _doc()
    mutate(doc)
    path = _write(tmp_path, doc, "bad_file.json")
    with pytest.raises(error) as info:
        read_transfer_scenarios(path)
    message = str(info.value)
    assert isinstance(info.value, ConfigError)
    assert "bad_file.json" in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"topologies": {', "not valid JSON (line 1"),
        ("[1, 2]", "not a JSON object"),
        ('{"topologies": {}, "scenarios": [{"id": "s", "topology": "x", "tasks": []}], "x": NaN}', "not defined"),
    ],
)
def test_read_transfer_scenarios_rejects_malformed_json(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(DataError, match=r"bad\.json") as info:
        read_transfer_scenarios(_write(tmp_path, text, "bad.json"))
    assert fragment in str(info.value)


def test_read_transfer_scenarios_rejects_nan_sizes(tmp_path: Path) -> None:
    text = json.dumps(_doc()).replace('"size_bytes": 1000000', '"size_bytes": NaN')
    with pytest.raises(DataError, match="size_bytes=nan must be a finite number"):
        read_transfer_scenarios(_write(tmp_path, text))


def test_read_transfer_scenarios_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_transfer_scenarios(tmp_path / "nope.json")


def test_read_transfer_scenarios_rejects_duplicate_scenario_ids(tmp_path: Path) -> None:
    doc = _doc()
    doc["scenarios"].append(copy.deepcopy(doc["scenarios"][0]))
    with pytest.raises(DataError, match=r"scenario 's1'.*appears twice"):
        read_transfer_scenarios(_write(tmp_path, doc))


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ({"scenarios": []}, "'model'"),
        ({"model": "ns3", "scenarios": [{"id": "s", "tasks": [{"id": "t"}]}]}, "'completion_s'"),
        ({"model": "ns3", "scenarios": [{"id": "s", "tasks": [{"id": "t", "completion_s": -1}]}]}, "completion_s=-1"),
        (
            {"model": "ns3", "scenarios": [{"id": "s", "tasks": [{"id": "t", "completion_s": 1}] * 2}]},
            "appears twice",
        ),
        ({"model": "ns3", "provenance": [], "scenarios": []}, "provenance is a list"),
    ],
)
def test_load_transfer_results_rejects_bad_files(tmp_path: Path, doc: dict[str, Any], fragment: str) -> None:
    with pytest.raises(DataError, match=r"res\.json") as info:
        load_transfer_results(_write(tmp_path, doc, "res.json"))
    assert fragment in str(info.value)


def test_heldout_suite_and_its_ns3_golden_file_match() -> None:
    heldout = read_transfer_scenarios(DATA / "transfer_heldout.json")
    golden = load_transfer_results(DATA / "transfer_heldout_ns3.json")
    assert {s.id for s in heldout} == {r.scenario for r in golden.results}
    tasks = {(s.id, t.id): t.size_bytes for s in heldout for t in s.tasks}
    assert golden.task_size_bytes == tasks
    assert golden.provenance["seed"] == 1
    # no scenario id is shared with the main suite: the held-out scenarios were not used to build the model
    suite = read_transfer_scenarios(DATA / "transfer_suite.json")
    assert not {s.id for s in heldout} & {s.id for s in suite}
