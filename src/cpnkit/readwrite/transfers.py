"""Transfer scenario files (JSON) and transfer result files (JSON).

A **scenario file** holds named topologies and the scenarios run on them::

    {"topologies": {"NAME": {
         "nodes": ["a", "b", ...],
         "links": [{"src": "a", "dst": "b", "capacity_bps": 1e8, "prop_delay_s": 0.01}, ...],
         "paths": {"short": ["a", "b", "d"], ...}}},          # optional named paths
     "scenarios": [{
         "id": "s1", "topology": "NAME",
         "tasks": [{"id": "t1", "src": "a", "dst": "d", "size_bytes": 1000000, "start_s": 0.0,
                    "transport": "tcp",
                    "subflows": [{"id": "f1", "path": ["a", "b", "d"], "bytes": 600000},
                                 {"id": "f2", "path": "long", "bytes": 400000}]}],
         "background": [{"id": "b1", "path": ["a", "b"], "rate_bps": 5e7, "start_s": 0.0, "stop_s": 2.0}]}]}

Units: ``capacity_bps`` and ``rate_bps`` in bit/s, ``prop_delay_s``, ``start_s`` and ``stop_s`` in s,
``size_bytes`` and ``bytes`` in bytes (payload). Links are **full duplex**: a node pair listed once gets a link in
each direction with the same capacity and delay; a pair listed in both directions gives each direction its own
values (asymmetric capacity); the same direction listed twice is an error. A ``path`` (of a subflow or a
background flow) is a list of node ids or the name of one of its topology's ``paths``. ``background`` and
``paths`` may be left out; every other key is required. Keys the reader does not know are ignored (room for
comments and provenance).

A **result file** holds completion times (first payload byte sent to last payload byte delivered)::

    {"format": "cpnkit-transfer-results/1", "model": "ns3", "provenance": {...},
     "scenarios": [{"id": "s1",
                    "tasks": [{"id": "t1", "completion_s": 0.21, "size_bytes": 1000000,
                               "subflows": [{"id": "f1", "completion_s": 0.2, "bytes": 600000}, ...]}]}]}

``size_bytes``/``bytes`` are written when the scenarios are given to the writer (``cpnkit validate compare``
groups errors by size with them); ``provenance`` is free-form (simulator version, settings, seed).

Every malformed file raises a ``cpnkit.errors.DataError`` (format and value problems) or ``TopologyError``
(unknown nodes, paths that are not chains of links), naming the file, the scenario / task / subflow id, the
value, the constraint and the fix.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any, NoReturn, cast

from cpnkit.errors import ConfigError, DataError, TopologyError, did_you_mean
from cpnkit.model import Link, Node, Path, Topology
from cpnkit.readwrite._files import PathLike, as_path
from cpnkit.sim.transfers import (
    SIZE_TOLERANCE_BYTES,
    TRANSPORTS,
    BackgroundFlow,
    TransferResult,
    TransferScenario,
    TransferSubflow,
    TransferTask,
    Transport,
)

__all__ = [
    "RESULTS_FORMAT",
    "TransferResultsFile",
    "load_transfer_results",
    "read_transfer_results",
    "read_transfer_scenarios",
    "write_transfer_results",
]

#: Value of the ``format`` key of result files written by ``write_transfer_results``.
RESULTS_FORMAT = "cpnkit-transfer-results/1"


# -- context for messages -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Where:
    """Where in which file a value sits, for messages: ``file.json: scenario 's1', task 't1'``."""

    file: str
    parts: tuple[str, ...] = ()

    def at(self, part: str) -> _Where:
        return _Where(self.file, (*self.parts, part))

    def __str__(self) -> str:
        return ": ".join([self.file, ", ".join(self.parts)] if self.parts else [self.file])

    def fail(self, problem: str, fix: str, error: type[ConfigError] = DataError) -> NoReturn:
        raise error(f"{self}: {problem.rstrip('.')}; {fix}")

    def mapping(self, value: Any, what: str, fix: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(f"{what} is {_kind(value)}, not a JSON object", fix)
        return value

    def listing(self, value: Any, what: str, fix: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(f"{what} is {_kind(value)}, not a JSON list", fix)
        return value

    def key(self, obj: Mapping[str, Any], key: str, what: str, example: str) -> Any:
        if key not in obj:
            present = ", ".join(repr(k) for k in obj) or "none"
            self.fail(
                f"{what} lacks the required key {key!r} (keys present: {present}).{did_you_mean(key, obj)}",
                f"add it, e.g. {example}",
            )
        return obj[key]

    def ident(self, value: Any, what: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int) or str(value) == "":
            self.fail(
                f"{what}={value!r} must be a non-empty string",
                "give a non-empty string (numbers are turned into strings)",
            )
        return str(value)

    def number(self, value: Any, what: str, unit: str, *, positive: bool, fix: str) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if ok and (value > 0 if positive else value >= 0):
            return float(value)
        constraint = "> 0" if positive else ">= 0"
        self.fail(f"{what}={value!r} must be a finite number {constraint} (in {unit})", fix)


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), f"a {type(value).__name__}")


def _load_json(path: FilePath, what: str, fix: str) -> Any:
    where = _Where(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        where.fail(f"{what} does not exist", f"check the path (relative paths are resolved from {FilePath.cwd()})")
    except IsADirectoryError:
        where.fail(f"is a directory, not a {what}", fix)
    except (OSError, UnicodeDecodeError) as err:
        where.fail(f"{what} cannot be read ({err})", "check the file's permissions and that it is UTF-8 JSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        where.fail(f"is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})", "fix the JSON syntax there")


# -- scenario files -------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _TopologyEntry:
    topology: Topology
    paths: dict[str, Path] = field(default_factory=dict)


def read_transfer_scenarios(path: PathLike) -> list[TransferScenario]:
    """Read a transfer scenario file (format in the module docstring).

    Args:
        path: The JSON file.

    Returns:
        The scenarios in file order; each topology's ``meta`` records ``source`` (the file) and ``format``.

    Raises:
        DataError: the file is missing or not JSON, a key is missing or has the wrong type, a size, time or rate
            is negative or not finite, subflow bytes do not add up to the task's ``size_bytes``, a transport is
            unknown, a scenario names an unknown topology, or an id repeats.
        TopologyError: a link or path names an unknown node, a path is not a chain of links, or a link is listed
            twice in the same direction.
    """
    file = as_path(path)
    data = _load_json(file, "scenario file", "give the path of a transfer scenario .json file")
    root = _Where(str(file))
    top = root.mapping(data, "the file", 'give an object {"topologies": {...}, "scenarios": [...]}')
    example_topo = '"topologies": {"line": {"nodes": ["a", "b"], "links": [...]}}'
    raw_topos = root.mapping(root.key(top, "topologies", "the file", example_topo), "topologies", example_topo)
    topologies = {str(name): _read_topology(root, str(name), spec) for name, spec in raw_topos.items()}
    example_scen = '"scenarios": [{"id": "s1", "topology": "line", "tasks": [...]}]'
    raw_scens = root.listing(root.key(top, "scenarios", "the file", example_scen), "scenarios", example_scen)
    if not raw_scens:
        root.fail("scenarios is empty", "give at least one scenario")
    scenarios: list[TransferScenario] = []
    seen: set[str] = set()
    for i, spec in enumerate(raw_scens):
        scenario = _read_scenario(root.at(f"scenario #{i}"), spec, topologies)
        if scenario.id in seen:
            root.at(f"scenario {scenario.id!r}").fail("the id appears twice", "give every scenario a unique id")
        seen.add(scenario.id)
        scenarios.append(scenario)
    return scenarios


def _read_topology(root: _Where, name: str, spec: Any) -> _TopologyEntry:
    where = root.at(f"topology {name!r}")
    obj = where.mapping(spec, "the topology", 'give {"nodes": [...], "links": [...]}')
    raw_nodes = where.listing(
        where.key(obj, "nodes", "the topology", '"nodes": ["a", "b"]'),
        "nodes",
        'give the node ids as a list, e.g. "nodes": ["a", "b"]',
    )
    nodes: list[str] = []
    for value in raw_nodes:
        node = where.ident(value, "node id")
        if node in nodes:
            where.fail(f"node id {node!r} appears twice", "node ids must be unique; remove the duplicate")
        nodes.append(node)
    if len(nodes) < 2:
        where.fail(f"has {len(nodes)} node(s)", "give at least two nodes and a link between them")
    example_link = '{"src": "a", "dst": "b", "capacity_bps": 1e8, "prop_delay_s": 0.01}'
    raw_links = where.listing(
        where.key(obj, "links", "the topology", f'"links": [{example_link}]'), "links", "give a list of links"
    )
    given: dict[tuple[str, str], tuple[float, float]] = {}
    for i, raw in enumerate(raw_links):
        at = where.at(f"link #{i}")
        link = at.mapping(raw, "the link", f"give {example_link}")
        ends = []
        for end in ("src", "dst"):
            node = at.ident(at.key(link, end, "the link", example_link), end)
            if node not in nodes:
                at.fail(
                    f"{end}={node!r} is not in the topology's nodes.{did_you_mean(node, nodes)}",
                    "add the node to nodes or fix the link",
                    TopologyError,
                )
            ends.append(node)
        src, dst = ends
        at = where.at(f"link {src!r}->{dst!r}")
        if src == dst:
            at.fail("a self-loop", "remove it", TopologyError)
        if (src, dst) in given:
            at.fail(
                "listed twice in the same direction",
                "list a node pair once (full duplex, same values both ways) or once per direction",
                TopologyError,
            )
        cap = at.number(
            at.key(link, "capacity_bps", "the link", example_link),
            "capacity_bps",
            "bit/s",
            positive=True,
            fix="give the capacity in bit/s (e.g. 1e8 for 100 Mbit/s)",
        )
        delay = at.number(
            at.key(link, "prop_delay_s", "the link", example_link),
            "prop_delay_s",
            "s",
            positive=True,
            fix="give the one-way propagation delay in s (e.g. 0.01)",
        )
        given[(src, dst)] = (cap, delay)
    if not given:
        where.fail("has no links", "give at least one link")
    links = [Link(src, dst, cap, delay) for (src, dst), (cap, delay) in given.items()]
    links += [Link(dst, src, cap, delay) for (src, dst), (cap, delay) in given.items() if (dst, src) not in given]
    topology = Topology.from_links(
        name,
        links,
        nodes=[Node(n) for n in nodes],
        meta={"source": root.file, "format": "cpnkit transfer scenarios", "rules": ["links listed once are duplex"]},
    )
    entry = _TopologyEntry(topology)
    raw_paths = obj.get("paths", {})
    paths = where.mapping(raw_paths, "paths", 'give named paths as {"NAME": ["a", "b", ...]}')
    for pname, nodes_spec in paths.items():
        entry.paths[str(pname)] = _make_path(where.at(f"path {pname!r}"), nodes_spec, topology)
    return entry


def _make_path(where: _Where, spec: Any, topology: Topology) -> Path:
    """A ``Path`` from a node list, with messages that name the file and the owner."""
    fix_list = 'give the path as a list of node ids, e.g. ["a", "b", "c"]'
    nodes = [where.ident(n, "path node") for n in where.listing(spec, "the path", fix_list)]
    if len(nodes) < 2:
        where.fail(f"path {nodes!r} has fewer than two nodes", fix_list, TopologyError)
    for node in nodes:
        if not topology.has_node(node):
            where.fail(
                f"path {nodes!r} names node {node!r}, which is not in topology {topology.name!r}."
                f"{did_you_mean(node, topology.node_ids)}",
                f"use the topology's nodes ({', '.join(topology.node_ids[:10])})",
                TopologyError,
            )
    if len(set(nodes)) != len(nodes):
        where.fail(f"path {nodes!r} repeats a node", "paths must be simple (each node at most once)", TopologyError)
    for a, b in itertools.pairwise(nodes):
        if not topology.has_link(a, b):
            where.fail(
                f"path {nodes!r} is not a chain of links: topology {topology.name!r} has no link {a!r}->{b!r}",
                "list every hop of the path (consecutive nodes must be linked) or add the link",
                TopologyError,
            )
    return topology.make_path(nodes)


def _resolve_path(where: _Where, spec: Any, entry: _TopologyEntry) -> Path:
    if isinstance(spec, str):
        if spec not in entry.paths:
            known = ", ".join(repr(p) for p in entry.paths) or "none"
            where.fail(
                f"path {spec!r} is not a named path of topology {entry.topology.name!r} (named paths: {known})."
                f"{did_you_mean(spec, entry.paths)}",
                "give a node list or add the name to the topology's paths",
                TopologyError,
            )
        return entry.paths[spec]
    return _make_path(where, spec, entry.topology)


def _read_scenario(where: _Where, spec: Any, topologies: Mapping[str, _TopologyEntry]) -> TransferScenario:
    obj = where.mapping(spec, "the scenario", 'give {"id": ..., "topology": ..., "tasks": [...]}')
    sid = where.ident(where.key(obj, "id", "the scenario", '"id": "s1"'), "scenario id")
    where = _Where(where.file, (f"scenario {sid!r}",))
    tname = where.ident(where.key(obj, "topology", "the scenario", '"topology": "line"'), "topology name")
    if tname not in topologies:
        where.fail(
            f"topology {tname!r} is not defined in the file's topologies "
            f"({', '.join(repr(t) for t in topologies) or 'none'}).{did_you_mean(tname, topologies)}",
            "name one of them or add it under topologies",
        )
    entry = topologies[tname]
    example_task = (
        '{"id": "t1", "src": "a", "dst": "b", "size_bytes": 1e6, "start_s": 0, "transport": "tcp", "subflows": [...]}'
    )
    raw_tasks = where.listing(
        where.key(obj, "tasks", "the scenario", f'"tasks": [{example_task}]'), "tasks", "give a list of tasks"
    )
    if not raw_tasks:
        where.fail("tasks is empty", "give at least one transfer task")
    tasks: list[TransferTask] = []
    task_ids: set[str] = set()
    for i, raw in enumerate(raw_tasks):
        task = _read_task(where.at(f"task #{i}"), raw, entry, example_task)
        if task.id in task_ids:
            where.at(f"task {task.id!r}").fail("the id appears twice", "give every task of a scenario a unique id")
        task_ids.add(task.id)
        tasks.append(task)
    background: list[BackgroundFlow] = []
    bg_ids: set[str] = set()
    raw_bg = where.listing(obj.get("background", []), "background", "give a list of background flows (or leave it out)")
    for i, raw in enumerate(raw_bg):
        flow = _read_background(where.at(f"background #{i}"), raw, entry)
        if flow.id in bg_ids:
            where.at(f"background {flow.id!r}").fail("the id appears twice", "give every background flow a unique id")
        bg_ids.add(flow.id)
        background.append(flow)
    try:
        return TransferScenario(id=sid, topology=entry.topology, tasks=tuple(tasks), background=tuple(background))
    except ConfigError as err:  # anything the reader's own checks missed still names the file
        raise DataError(f"{where.file}: {err}") from err


def _read_task(where: _Where, spec: Any, entry: _TopologyEntry, example: str) -> TransferTask:
    obj = where.mapping(spec, "the task", f"give {example}")
    tid = where.ident(where.key(obj, "id", "the task", '"id": "t1"'), "task id")
    where = _Where(where.file, (*where.parts[:-1], f"task {tid!r}"))
    topo = entry.topology
    ends: list[str] = []
    for end in ("src", "dst"):
        node = where.ident(where.key(obj, end, "the task", f'"{end}": "a"'), end)
        if not topo.has_node(node):
            where.fail(
                f"{end}={node!r} is not a node of topology {topo.name!r}.{did_you_mean(node, topo.node_ids)}",
                "use one of the topology's nodes",
                TopologyError,
            )
        ends.append(node)
    src, dst = ends
    size = where.number(
        where.key(obj, "size_bytes", "the task", '"size_bytes": 1000000'),
        "size_bytes",
        "bytes",
        positive=True,
        fix="give the task's payload in bytes",
    )
    start = where.number(
        where.key(obj, "start_s", "the task", '"start_s": 0.0'),
        "start_s",
        "s",
        positive=False,
        fix="give the start time in s from the scenario's start",
    )
    transport = where.key(obj, "transport", "the task", '"transport": "tcp"')
    if transport not in TRANSPORTS:
        where.fail(
            f"transport={transport!r} is not one of {list(TRANSPORTS)}.{did_you_mean(str(transport), TRANSPORTS)}",
            "use a supported transport",
        )
    example_sub = '{"id": "f1", "path": ["a", "b"], "bytes": 1000000}'
    raw_subs = where.listing(
        where.key(obj, "subflows", "the task", f'"subflows": [{example_sub}]'), "subflows", "give a list of subflows"
    )
    if not raw_subs:
        where.fail("subflows is empty", f"give at least one subflow, e.g. {example_sub}")
    subflows: list[TransferSubflow] = []
    sub_ids: set[str] = set()
    for i, raw in enumerate(raw_subs):
        at = where.at(f"subflow #{i}")
        sub = at.mapping(raw, "the subflow", f"give {example_sub}")
        fid = at.ident(at.key(sub, "id", "the subflow", '"id": "f1"'), "subflow id")
        at = where.at(f"subflow {fid!r}")
        if fid in sub_ids:
            at.fail("the id appears twice", "give every subflow of a task a unique id")
        sub_ids.add(fid)
        path = _resolve_path(at, at.key(sub, "path", "the subflow", '"path": ["a", "b"]'), entry)
        if path.src != src or path.dst != dst:
            at.fail(
                f"path {list(path.nodes)!r} runs {path.src!r} -> {path.dst!r}, not the task's {src!r} -> {dst!r}",
                "make every subflow's path start at the task's src and end at its dst",
                TopologyError,
            )
        nbytes = at.number(
            at.key(sub, "bytes", "the subflow", '"bytes": 500000'),
            "bytes",
            "bytes",
            positive=True,
            fix="give the subflow's share of the payload in bytes (drop the subflow instead of giving 0)",
        )
        subflows.append(TransferSubflow(id=fid, path=path, size_bytes=nbytes))
    total = math.fsum(s.size_bytes for s in subflows)
    if abs(total - size) > SIZE_TOLERANCE_BYTES:
        where.fail(
            f"subflow bytes sum to {total:g}, not size_bytes={size:g} "
            f"({', '.join(f'{s.id}={s.size_bytes:g}' for s in subflows)})",
            "the split must cover the task exactly: fix a subflow's bytes or the task's size_bytes",
        )
    return TransferTask(
        id=tid,
        src=src,
        dst=dst,
        size_bytes=size,
        start_s=start,
        transport=cast(Transport, transport),
        subflows=tuple(subflows),
    )


def _read_background(where: _Where, spec: Any, entry: _TopologyEntry) -> BackgroundFlow:
    example = '{"id": "b1", "path": ["a", "b"], "rate_bps": 5e7, "start_s": 0, "stop_s": 1}'
    obj = where.mapping(spec, "the background flow", f"give {example}")
    bid = where.ident(where.key(obj, "id", "the background flow", '"id": "b1"'), "background id")
    where = _Where(where.file, (*where.parts[:-1], f"background {bid!r}"))
    path = _resolve_path(where, where.key(obj, "path", "the background flow", '"path": ["a", "b"]'), entry)
    rate = where.number(
        where.key(obj, "rate_bps", "the background flow", '"rate_bps": 5e7'),
        "rate_bps",
        "bit/s",
        positive=True,
        fix="give the constant rate in bit/s",
    )
    start = where.number(
        where.key(obj, "start_s", "the background flow", '"start_s": 0.0'),
        "start_s",
        "s",
        positive=False,
        fix="give the start time in s",
    )
    stop = where.number(
        where.key(obj, "stop_s", "the background flow", '"stop_s": 1.0'),
        "stop_s",
        "s",
        positive=False,
        fix="give the stop time in s",
    )
    if stop <= start:
        where.fail(f"stop_s={stop:g} is not after start_s={start:g}", "give a stop time later than the start time")
    return BackgroundFlow(id=bid, path=path, rate_bps=rate, start_s=start, stop_s=stop)


# -- result files -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TransferResultsFile:
    """A parsed result file.

    Attributes:
        path: The file it was read from.
        model: Who computed the results (``"ns3"``, ``"tcp"``, ``"fluid"``).
        results: One result per scenario, in file order.
        provenance: Free-form provenance (simulator, version, settings, seed); ``{}`` when absent.
        task_size_bytes: Payload in bytes per ``(scenario id, task id)``, where the file gives it.
        subflow_size_bytes: Payload in bytes per ``(scenario id, task id, subflow id)``, where the file gives it.
    """

    path: str
    model: str
    results: tuple[TransferResult, ...]
    provenance: dict[str, Any]
    task_size_bytes: dict[tuple[str, str], float]
    subflow_size_bytes: dict[tuple[str, str, str], float]


def write_transfer_results(
    results: Sequence[TransferResult],
    path: PathLike,
    *,
    provenance: Mapping[str, Any] | None = None,
    scenarios: Iterable[TransferScenario] | None = None,
) -> FilePath:
    """Write transfer results to a JSON result file (format in the module docstring); parent folders are created.

    Args:
        results: One result per scenario, all from the same model.
        path: Output file.
        provenance: Free-form JSON-ready provenance (simulator, version, settings, seed).
        scenarios: The scenarios evaluated; when given, each task's ``size_bytes`` and each subflow's ``bytes`` are
            written too (``cpnkit validate compare`` groups errors by size with them).

    Returns:
        The path written.

    Raises:
        ConfigError: no results, results from different models, a repeated scenario id, or a completion time that
            is not a finite number >= 0.
    """
    if not results:
        raise ConfigError("no transfer results to write; evaluate at least one scenario")
    models = sorted({r.model for r in results})
    if len(models) > 1:
        raise ConfigError(f"results come from several models {models}; write one file per model")
    by_id = {s.id: s for s in scenarios or ()}
    out_scenarios: list[dict[str, Any]] = []
    seen: set[str] = set()
    for result in results:
        if result.scenario in seen:
            raise ConfigError(f"scenario {result.scenario!r} has two results; write each scenario once")
        seen.add(result.scenario)
        scenario = by_id.get(result.scenario)
        task_sizes = {t.id: t.size_bytes for t in scenario.tasks} if scenario else {}
        sub_sizes = {(t.id, s.id): s.size_bytes for t in scenario.tasks for s in t.subflows} if scenario else {}
        tasks: list[dict[str, Any]] = []
        for tid, completion in result.task_completion_s.items():
            task: dict[str, Any] = {"id": tid, "completion_s": _completion(result, tid, completion)}
            if tid in task_sizes:
                task["size_bytes"] = _plain(task_sizes[tid])
            subs: list[dict[str, Any]] = []
            for fid, sub_completion in result.subflow_completion_s.get(tid, {}).items():
                sub: dict[str, Any] = {"id": fid, "completion_s": _completion(result, f"{tid}/{fid}", sub_completion)}
                if (tid, fid) in sub_sizes:
                    sub["bytes"] = _plain(sub_sizes[(tid, fid)])
                subs.append(sub)
            task["subflows"] = subs
            tasks.append(task)
        out_scenarios.append({"id": result.scenario, "tasks": tasks})
    document = {
        "format": RESULTS_FORMAT,
        "model": models[0],
        "provenance": dict(provenance or {}),
        "scenarios": out_scenarios,
    }
    out = as_path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        text = json.dumps(document, indent=2, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ConfigError(
            f"provenance for {out} is not JSON-ready ({err}); pass plain numbers, strings, lists"
        ) from err
    out.write_text(text + "\n", encoding="utf-8")
    return out


def _completion(result: TransferResult, what: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ConfigError(
            f"scenario {result.scenario!r}, {what}: completion_s={value!r} must be a finite number >= 0 (in s); "
            "a transfer that never completed cannot be written"
        )
    return float(value)


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def load_transfer_results(path: PathLike) -> TransferResultsFile:
    """Read a result file with its model, provenance and the sizes it records.

    Args:
        path: The JSON result file.

    Returns:
        The parsed file.

    Raises:
        DataError: the file is missing or not JSON, a key is missing, an id repeats, or a completion time is not a
            finite number >= 0 (in s).
    """
    file = as_path(path)
    data = _load_json(file, "result file", "give the path of a transfer result .json file")
    root = _Where(str(file))
    top = root.mapping(data, "the file", 'give {"model": ..., "scenarios": [...]}')
    model = root.ident(root.key(top, "model", "the file", '"model": "ns3"'), "model")
    provenance = top.get("provenance", {})
    if not isinstance(provenance, dict):
        root.fail(f"provenance is {_kind(provenance)}, not an object", "give an object or leave it out")
    raw_scens = root.listing(root.key(top, "scenarios", "the file", '"scenarios": [...]'), "scenarios", "give a list")
    results: list[TransferResult] = []
    task_sizes: dict[tuple[str, str], float] = {}
    sub_sizes: dict[tuple[str, str, str], float] = {}
    for i, raw in enumerate(raw_scens):
        where = root.at(f"scenario #{i}")
        scen = where.mapping(raw, "the scenario", 'give {"id": ..., "tasks": [...]}')
        sid = where.ident(where.key(scen, "id", "the scenario", '"id": "s1"'), "scenario id")
        where = root.at(f"scenario {sid!r}")
        if any(r.scenario == sid for r in results):
            where.fail("the id appears twice", "give each scenario once")
        task_completion: dict[str, float] = {}
        sub_completion: dict[str, dict[str, float]] = {}
        raw_tasks = where.listing(where.key(scen, "tasks", "the scenario", '"tasks": [...]'), "tasks", "give a list")
        for j, raw_task in enumerate(raw_tasks):
            at = where.at(f"task #{j}")
            task = at.mapping(raw_task, "the task", 'give {"id": ..., "completion_s": ..., "subflows": [...]}')
            tid = at.ident(at.key(task, "id", "the task", '"id": "t1"'), "task id")
            at = where.at(f"task {tid!r}")
            if tid in task_completion:
                at.fail("the id appears twice", "give each task once")
            fix = "give the completion time in s"
            key = at.key(task, "completion_s", "the task", '"completion_s": 0.1')
            task_completion[tid] = at.number(key, "completion_s", "s", positive=False, fix=fix)
            if "size_bytes" in task:
                size = at.number(task["size_bytes"], "size_bytes", "bytes", positive=True, fix="or leave it out")
                task_sizes[(sid, tid)] = size
            subs: dict[str, float] = {}
            for k, raw_sub in enumerate(at.listing(task.get("subflows", []), "subflows", "give a list")):
                sat = at.at(f"subflow #{k}")
                sub = sat.mapping(raw_sub, "the subflow", 'give {"id": ..., "completion_s": ...}')
                fid = sat.ident(sat.key(sub, "id", "the subflow", '"id": "f1"'), "subflow id")
                sat = at.at(f"subflow {fid!r}")
                if fid in subs:
                    sat.fail("the id appears twice", "give each subflow once")
                key = sat.key(sub, "completion_s", "the subflow", '"completion_s": 0.1')
                subs[fid] = sat.number(key, "completion_s", "s", positive=False, fix=fix)
                if "bytes" in sub:
                    nbytes = sat.number(sub["bytes"], "bytes", "bytes", positive=True, fix="or leave it out")
                    sub_sizes[(sid, tid, fid)] = nbytes
            sub_completion[tid] = subs
        results.append(TransferResult(sid, model, task_completion, sub_completion))
    return TransferResultsFile(
        path=str(file),
        model=model,
        results=tuple(results),
        provenance=dict(provenance),
        task_size_bytes=task_sizes,
        subflow_size_bytes=sub_sizes,
    )


def read_transfer_results(path: PathLike) -> list[TransferResult]:
    """Read the results of a result file written by ``write_transfer_results``.

    Args:
        path: The JSON result file.

    Returns:
        One result per scenario, in file order (``load_transfer_results`` also gives the provenance and sizes).

    Raises:
        DataError: as ``load_transfer_results``.
    """
    return list(load_transfer_results(path).results)
