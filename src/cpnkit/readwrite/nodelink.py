"""networkx node-link JSON: the format of TEAL, topohub and cpnkit's own topology files.

Reading accepts what ``networkx.node_link_data`` writes (``links`` key) and topohub's variant (``edges``),
directed or undirected (an undirected edge becomes two directed links with the same values), plain or
gzip-compressed (``.json.gz``). Attributes understood, first match wins:

- node id: ``id`` (a string or an integer; always turned into a string);
- node label: ``label``, ``name``;
- node coordinates: ``latitude``/``longitude``, ``Latitude``/``Longitude``, ``lat``/``lon``, or ``pos`` =
  ``[longitude, latitude]`` (topohub's order), in degrees;
- link capacity: ``capacity_bps`` (bit/s), ``capacity`` (in ``capacity_unit_bps``; Mbit/s by default, the
  unit TEAL's topologies are read in);
- link delay: ``prop_delay_s`` (s), ``latency_ms``, ``latency_ms_mean``, ``latency_ms_min``, ``delay_ms``,
  ``delay`` (all ms);
- link length: ``dist``, ``dist_km``, ``distance_km`` (km; topohub's ``dist``), used when there is no delay.

What the data lacks is filled by the rules of ``cpnkit.readwrite`` and recorded in ``Topology.meta["rules"]``.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from cpnkit.errors import TopologyError
from cpnkit.model import Topology
from cpnkit.readwrite._build import (
    DEFAULT_CAPACITY_BPS,
    DEFAULT_PROP_DELAY_S,
    SourceRef,
    TopologyBuilder,
    fmt_bps,
)
from cpnkit.readwrite._files import PathLike, as_path, read_bytes

__all__ = ["read_node_link_json", "write_node_link_json"]

#: (attribute, factor to s), in order of preference.
_DELAY_KEYS: tuple[tuple[str, float], ...] = (
    ("prop_delay_s", 1.0),
    ("latency_ms", 1e-3),
    ("latency_ms_mean", 1e-3),
    ("latency_ms_min", 1e-3),
    ("delay_ms", 1e-3),
    ("delay", 1e-3),
)
_DISTANCE_KEYS = ("dist", "dist_km", "distance_km")
_COORD_KEYS = (("latitude", "longitude"), ("Latitude", "Longitude"), ("lat", "lon"))


def read_node_link_json(
    path_or_data: PathLike | Mapping[str, Any],
    name: str | None = None,
    *,
    capacity_unit_bps: float = 1e6,
    default_capacity_bps: float = DEFAULT_CAPACITY_BPS,
    default_delay_s: float = DEFAULT_PROP_DELAY_S,
    meta: Mapping[str, Any] | None = None,
) -> Topology:
    """Read a networkx node-link JSON file (or an already parsed dict) into a ``Topology``.

    Args:
        path_or_data: Path of a ``.json`` / ``.json.gz`` file, or the parsed node-link dict.
        name: Topology name; default: the graph's ``name`` attribute, else the file name without suffix.
        capacity_unit_bps: Bit/s per unit of the ``capacity`` attribute (1e6: Mbit/s, TEAL's convention).
            ``capacity_bps`` is always in bit/s.
        default_capacity_bps: Capacity of a link without one, in bit/s.
        default_delay_s: Delay in s given to links without delay information (no delay, length or
            coordinates at both ends) when no link of the file has any; otherwise such links get the
            median delay of the others.
        meta: Extra provenance merged into ``Topology.meta``; its ``"rules"`` come first.

    Returns:
        The topology; ``meta`` holds ``source``, ``format`` and ``rules`` (the fill rules applied).

    Raises:
        TopologyError: the file is missing or malformed (bad JSON, missing keys, a non-positive or NaN
            capacity, a negative delay, a link to an unknown node, a duplicate link); the message names the
            file, the value and the fix.
    """
    if isinstance(path_or_data, Mapping):
        data: Any = path_or_data
        src = SourceRef(f"node-link data {name!r}" if name else "node-link data")
        default_name = "topology"
    else:
        path = as_path(path_or_data)
        src = SourceRef(str(path))
        raw = read_bytes(path)
        try:
            data = json.loads(raw)
        except UnicodeDecodeError as err:
            src.fail(f"is not UTF-8 text ({err.reason} at byte {err.start})", "save the file as UTF-8 JSON")
        except json.JSONDecodeError as err:
            src.fail(
                f"is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})",
                "fix the JSON syntax at that position",
            )
        default_name = _stem(path.name)
    return _from_data(
        data,
        src,
        name=name,
        default_name=default_name,
        capacity_unit_bps=capacity_unit_bps,
        default_capacity_bps=default_capacity_bps,
        default_delay_s=default_delay_s,
        meta=meta,
    )


def write_node_link_json(topology: Topology, path: PathLike, *, indent: int | None = None) -> None:
    """Write ``topology`` as node-link JSON that ``read_node_link_json`` reads back unchanged.

    Links carry ``capacity_bps`` (bit/s) and ``prop_delay_s`` (s); nodes carry ``label`` and, when known,
    ``latitude``/``longitude``; ``graph`` carries ``name`` and ``meta``. A ``.gz`` suffix gzips the file.
    The file is written to a temporary name first and then renamed, so readers never see half a file.

    Args:
        topology: The topology to write.
        path: Destination file (``.json`` or ``.json.gz``).
        indent: JSON indentation (``None``: compact).

    Raises:
        TopologyError: the file cannot be written.
    """
    target = as_path(path)
    nodes: list[dict[str, Any]] = []
    for node in topology.nodes:
        entry: dict[str, Any] = {"id": node.id, "label": node.label}
        if node.latitude is not None and node.longitude is not None:
            entry["latitude"] = node.latitude
            entry["longitude"] = node.longitude
        nodes.append(entry)
    data = {
        "directed": True,
        "multigraph": False,
        "graph": {"name": topology.name, "meta": _json_safe(dict(topology.meta))},
        "nodes": nodes,
        "links": [
            {
                "source": ln.src,
                "target": ln.dst,
                "capacity_bps": ln.capacity_bps,
                "prop_delay_s": ln.prop_delay_s,
            }
            for ln in topology.links
        ],
    }
    payload = json.dumps(data, indent=indent, allow_nan=False).encode()
    if target.name.lower().endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    directory = target.parent if str(target.parent) else None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as err:
        raise TopologyError(
            f"{target}: cannot write the topology ({err.strerror or err}); check that the folder exists and is writable"
        ) from err


# -- parsing ---------------------------------------------------------------------------------------
def _from_data(
    data: Any,
    src: SourceRef,
    *,
    name: str | None,
    default_name: str,
    capacity_unit_bps: float,
    default_capacity_bps: float,
    default_delay_s: float,
    meta: Mapping[str, Any] | None,
) -> Topology:
    if not isinstance(data, Mapping):
        src.fail(
            f"top-level JSON value is a {type(data).__name__}, not an object",
            'write a node-link object {"nodes": [...], "links": [...]}',
        )
    unit = src.number(capacity_unit_bps, "capacity_unit_bps", "bit/s per unit", fix="pass e.g. 1e6 for Mbit/s")
    directed = _flag(data, "directed", False, src)
    multigraph = _flag(data, "multigraph", False, src)
    graph = data.get("graph") or {}
    if not isinstance(graph, Mapping):
        src.fail(f'"graph" is a {type(graph).__name__}, not an object', 'make "graph" an object or remove it')
    file_name = graph.get("name")
    topo_name = name or (file_name if isinstance(file_name, str) and file_name else default_name)

    builder = TopologyBuilder(
        topo_name,
        src,
        default_capacity_bps=default_capacity_bps,
        default_delay_s=default_delay_s,
        merge_parallel=multigraph,
    )
    for i, raw_node in enumerate(_records(data, ("nodes",), src)):
        where = f"node #{i}"
        if not isinstance(raw_node, Mapping):
            src.fail(f"{where} is a {type(raw_node).__name__}, not an object", 'give each node as {"id": ...}')
        if "id" not in raw_node:
            src.fail(f'{where} ({dict(raw_node)!r}) has no "id"', 'give every node an "id"')
        node_id = _node_id(raw_node["id"], f"{where} id", src)
        label = raw_node.get("label", raw_node.get("name"))
        lat, lon = _coordinates(raw_node, node_id, src)
        builder.add_node(node_id, str(label) if label is not None else None, lat, lon)

    if not directed:
        builder.note("undirected edges: each became two directed links with the same capacity and delay")
    for i, raw_link in enumerate(_records(data, ("links", "edges"), src)):
        if not isinstance(raw_link, Mapping):
            src.fail(
                f"link #{i} is a {type(raw_link).__name__}, not an object",
                'give each link as {"source": ..., "target": ...}',
            )
        for key in ("source", "target"):
            if key not in raw_link:
                src.fail(
                    f'link #{i} ({dict(raw_link)!r}) has no "{key}"',
                    'give every link a "source" and "target"',
                )
        a = _node_id(raw_link["source"], f"link #{i} source", src)
        b = _node_id(raw_link["target"], f"link #{i} target", src)
        what = f"link {a!r}->{b!r}"
        capacity: float | None = None
        if "capacity_bps" in raw_link:
            capacity = src.number(raw_link["capacity_bps"], f"{what} capacity_bps", "bit/s")
        elif "capacity" in raw_link:
            capacity = src.number(raw_link["capacity"], f"{what} capacity", f"units of {unit:g} bit/s") * unit
            builder.note(f"capacity_bps = attribute 'capacity' read in units of {fmt_bps(unit)}")
        delay: float | None = None
        origin = ""
        for key, factor in _DELAY_KEYS:
            if key in raw_link:
                unit_name = "s" if factor == 1.0 else "ms"
                delay = src.number(raw_link[key], f"{what} {key}", unit_name, allow_zero=True) * factor
                origin = f"'{key}' ({unit_name})"
                break
        distance: float | None = None
        if delay is None:
            for key in _DISTANCE_KEYS:
                if key in raw_link:
                    distance = src.number(raw_link[key], f"{what} {key}", "km", allow_zero=True) * 1e3
                    break
        builder.add_edge(
            a,
            b,
            capacity_bps=capacity,
            delay_s=delay,
            delay_origin=origin,
            distance_m=distance,
            both_directions=not directed,
        )

    file_meta = graph.get("meta")
    merged: dict[str, Any] = dict(file_meta) if isinstance(file_meta, Mapping) else {}
    extra = dict(meta or {})
    rules = [*merged.pop("rules", []), *extra.pop("rules", [])]
    merged.update(extra)
    merged.setdefault("format", "node-link-json")
    merged["rules"] = rules
    return builder.build(merged)


def _records(data: Mapping[str, Any], keys: Sequence[str], src: SourceRef) -> list[Any]:
    for key in keys:
        if key in data:
            value = data[key]
            if not isinstance(value, list):
                src.fail(f'"{key}" is a {type(value).__name__}, not a list', f'make "{key}" a JSON array')
            return value
    wanted = " or ".join(f'"{k}"' for k in keys)
    src.fail(f"has no {wanted} key (found: {sorted(data)})", f"add a {wanted} list (networkx node-link format)")


def _flag(data: Mapping[str, Any], key: str, default: bool, src: SourceRef) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        src.fail(f'"{key}"={value!r} must be true or false', f'write "{key}": true or "{key}": false')
    return value


def _node_id(value: Any, what: str, src: SourceRef) -> str:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return src.fail(f"{what}={value!r} must be a non-empty string or an integer", "use string or integer node ids")


def _coordinates(node: Mapping[str, Any], node_id: str, src: SourceRef) -> tuple[float | None, float | None]:
    for lat_key, lon_key in _COORD_KEYS:
        if lat_key in node and lon_key in node:
            return _degree(node[lat_key], node_id, lat_key, src), _degree(node[lon_key], node_id, lon_key, src)
    pos = node.get("pos")
    if pos is not None:
        if not (isinstance(pos, list) and len(pos) == 2):
            src.fail(f"node {node_id!r}: pos={pos!r} must be [longitude, latitude]", "fix or remove pos")
        return _degree(pos[1], node_id, "pos[1] (latitude)", src), _degree(pos[0], node_id, "pos[0] (longitude)", src)
    return None, None


def _degree(value: Any, node_id: str, key: str, src: SourceRef) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return src.fail(f"node {node_id!r}: {key}={value!r} must be a finite number of degrees", "fix or remove it")


def _stem(file_name: str) -> str:
    lowered = file_name.lower()
    for suffix in (".json.gz", ".json", ".gz"):
        if lowered.endswith(suffix):
            return file_name[: -len(suffix)]
    return file_name


def _json_safe(value: Any) -> Any:
    """``value`` with tuples as lists, non-finite floats as ``None`` and unknown objects as strings."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)
