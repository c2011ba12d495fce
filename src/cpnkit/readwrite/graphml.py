"""GraphML, as the Internet Topology Zoo writes it.

Nodes carry ``Latitude``/``Longitude`` (degrees) and ``label``; the graph is undirected by default
(``edgedefault``), and Topology Zoo files are often multigraphs: parallel edges between two nodes are merged
into one link per direction, capacities summed. Attributes understood, first match wins:

- node coordinates: ``Latitude``/``Longitude``, ``latitude``/``longitude`` (degrees);
- node label: ``label``, ``name``;
- edge capacity: ``LinkSpeedRaw`` (bit/s, Topology Zoo's normalised speed), ``capacity_bps`` (bit/s);
- edge delay: ``prop_delay_s`` (s), ``latency_ms``, ``delay_ms`` (ms); else the coordinates, else the default.

The parser is ElementTree over the GraphML elements (``key``, ``node``, ``edge``, ``data``), so it also reads
files networkx writes. Nested graphs and hyperedges are ignored.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from cpnkit.model import Topology
from cpnkit.readwrite._build import DEFAULT_CAPACITY_BPS, DEFAULT_PROP_DELAY_S, SourceRef, TopologyBuilder
from cpnkit.readwrite._files import PathLike, as_path, local_name, read_xml

__all__ = ["read_graphml"]

_DELAY_KEYS: tuple[tuple[str, float], ...] = (("prop_delay_s", 1.0), ("latency_ms", 1e-3), ("delay_ms", 1e-3))


def read_graphml(
    path: PathLike,
    name: str | None = None,
    *,
    default_capacity_bps: float = DEFAULT_CAPACITY_BPS,
    default_delay_s: float = DEFAULT_PROP_DELAY_S,
    meta: Mapping[str, Any] | None = None,
) -> Topology:
    """Read a GraphML file (Topology Zoo style, plain or ``.gz``) into a ``Topology``.

    Args:
        path: The ``.graphml`` or ``.graphml.gz`` file.
        name: Topology name; default: the file name without suffix.
        default_capacity_bps: Capacity of an edge without ``LinkSpeedRaw``/``capacity_bps``, in bit/s.
        default_delay_s: Delay in s given to links without delay information (no delay, length or
            coordinates at both ends) when no link of the file has any; otherwise such links get the
            median delay of the others.
        meta: Extra provenance merged into ``Topology.meta``; its ``"rules"`` come first.

    Returns:
        The topology; ``meta["rules"]`` lists the fill rules applied.

    Raises:
        TopologyError: the file is missing, not GraphML, or has a bad value (NaN or non-positive capacity,
            bad coordinate, edge to an unknown node); the message names the file, the value and the fix.
    """
    file = as_path(path)
    src = SourceRef(str(file))
    root = read_xml(file)
    if local_name(root.tag) != "graphml":
        src.fail(f"root element is <{local_name(root.tag)}>, not <graphml>", "give a GraphML file")

    # <key id="d30" for="node" attr.name="Latitude"><default>..</default></key>: id -> name, defaults
    names: dict[str, str] = {}
    defaults: dict[str, dict[str, str]] = {"node": {}, "edge": {}}
    for el in root:
        if local_name(el.tag) == "key":
            key_id = el.get("id")
            if key_id is None:
                src.fail("a <key> element has no id", "give every <key> an id attribute")
            names[key_id] = el.get("attr.name", key_id)
            default_el = next((c for c in el if local_name(c.tag) == "default"), None)
            if default_el is not None and default_el.text is not None:
                scope = el.get("for", "all")
                for kind in defaults:
                    if scope in (kind, "all"):
                        defaults[kind][names[key_id]] = default_el.text
    graph = next((el for el in root if local_name(el.tag) == "graph"), None)
    if graph is None:
        src.fail("has no <graph> element", "put the nodes and edges in a <graph>")

    def attributes(el: ET.Element, kind: str) -> dict[str, str]:
        values = dict(defaults[kind])
        for child in el:
            if local_name(child.tag) == "data":
                key_id = child.get("key", "")
                values[names.get(key_id, key_id)] = child.text or ""
        return values

    stem = file.name
    for suffix in (".graphml.gz", ".graphml", ".gz", ".xml"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    builder = TopologyBuilder(
        name or stem,
        src,
        default_capacity_bps=default_capacity_bps,
        default_delay_s=default_delay_s,
        merge_parallel=True,
    )
    for el in graph:
        if local_name(el.tag) != "node":
            continue
        node_id = el.get("id")
        if not node_id:
            src.fail("a <node> has no id", "give every node an id attribute")
        attrs = attributes(el, "node")
        lat_raw = attrs.get("Latitude", attrs.get("latitude"))
        lon_raw = attrs.get("Longitude", attrs.get("longitude"))
        lat = _degree(lat_raw, node_id, "Latitude", src)
        lon = _degree(lon_raw, node_id, "Longitude", src)
        label = attrs.get("label") or attrs.get("name")
        builder.add_node(node_id, str(label) if label else None, lat, lon)

    directed_default = graph.get("edgedefault", "undirected") == "directed"
    if not directed_default:
        builder.note("undirected edges: each became two directed links with the same capacity and delay")
    for i, el in enumerate(el for el in graph if local_name(el.tag) == "edge"):
        a, b = el.get("source"), el.get("target")
        if not a or not b:
            src.fail(f"edge #{i} lacks a source or target attribute", "give every <edge> a source and a target")
        what = f"edge {a!r}->{b!r}"
        attrs = attributes(el, "edge")
        capacity: float | None = None
        if "LinkSpeedRaw" in attrs:
            capacity = src.number(attrs["LinkSpeedRaw"], f"{what} LinkSpeedRaw", "bit/s")
            builder.note("capacity_bps from the edge attribute LinkSpeedRaw (bit/s)")
        elif "capacity_bps" in attrs:
            capacity = src.number(attrs["capacity_bps"], f"{what} capacity_bps", "bit/s")
        delay: float | None = None
        origin = ""
        for key, factor in _DELAY_KEYS:
            if key in attrs:
                unit = "s" if factor == 1.0 else "ms"
                delay = src.number(attrs[key], f"{what} {key}", unit, allow_zero=True) * factor
                origin = f"'{key}' ({unit})"
                break
        directed_attr = el.get("directed")
        directed = directed_default if directed_attr is None else directed_attr == "true"
        builder.add_edge(a, b, capacity_bps=capacity, delay_s=delay, delay_origin=origin, both_directions=not directed)
    extra = dict(meta or {})
    extra.setdefault("format", "graphml")
    return builder.build(extra)


def _degree(value: Any, node_id: str, key: str, src: SourceRef) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        src.fail(f"node {node_id!r}: {key}={value!r} must be a finite number of degrees", "fix or remove it")
    return number
