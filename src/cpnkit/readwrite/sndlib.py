"""SNDlib native XML network files (``<network xmlns="http://sndlib.zib.de/network">``).

SNDlib links are undirected: each becomes two directed links with the same capacity. Capacity is the
``preInstalledModule`` capacity, in Mbit/s (Abilene's ``9920.0`` is 9.92 Gbit/s, an OC-192). A link without a
pre-installed module gets the smallest of its ``additionalModules`` (the least capacity that could be
installed on it), and one with neither gets the default capacity; both are recorded rules. Node coordinates
are used when ``coordinatesType`` is ``geographical`` (``x`` = longitude, ``y`` = latitude); ``pixel``
coordinates are ignored. Propagation delay comes from the great-circle distance. Demands are not read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from cpnkit.model import Topology
from cpnkit.readwrite._build import DEFAULT_CAPACITY_BPS, DEFAULT_PROP_DELAY_S, SourceRef, TopologyBuilder
from cpnkit.readwrite._files import PathLike, as_path, local_name, read_xml

__all__ = ["SNDLIB_CAPACITY_UNIT_BPS", "read_sndlib_xml"]

#: SNDlib module capacities are in Mbit/s.
SNDLIB_CAPACITY_UNIT_BPS = 1e6


def read_sndlib_xml(
    path: PathLike,
    name: str | None = None,
    *,
    default_capacity_bps: float = DEFAULT_CAPACITY_BPS,
    default_delay_s: float = DEFAULT_PROP_DELAY_S,
    meta: Mapping[str, Any] | None = None,
) -> Topology:
    """Read an SNDlib native-XML network file (plain or ``.gz``) into a ``Topology``.

    Args:
        path: The ``.xml`` or ``.xml.gz`` file.
        name: Topology name; default: the file name without suffix.
        default_capacity_bps: Capacity of a link with no module at all, in bit/s.
        default_delay_s: Delay in s given to links without delay information (no delay, length or
            coordinates at both ends) when no link of the file has any; otherwise such links get the
            median delay of the others.
        meta: Extra provenance merged into ``Topology.meta``; its ``"rules"`` come first.

    Returns:
        The topology, two directed links per SNDlib link; ``meta["rules"]`` lists the fill rules applied.

    Raises:
        TopologyError: the file is missing, not SNDlib XML, or has a bad value (NaN or non-positive
            capacity, a link to an unknown node); the message names the file, the value and the fix.
    """
    file = as_path(path)
    src = SourceRef(str(file))
    root = read_xml(file)
    if local_name(root.tag) != "network":
        src.fail(f"root element is <{local_name(root.tag)}>, not SNDlib's <network>", "give an SNDlib XML file")
    structure = _child(root, "networkStructure")
    nodes_el = _child(structure, "nodes") if structure is not None else None
    links_el = _child(structure, "links") if structure is not None else None
    if nodes_el is None or links_el is None:
        src.fail("has no <networkStructure> with <nodes> and <links>", "give an SNDlib network file")

    stem = file.name
    for suffix in (".xml.gz", ".xml", ".gz"):
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
    geographical = nodes_el.get("coordinatesType", "geographical") == "geographical"
    if not geographical:
        builder.note(f"node coordinates of type {nodes_el.get('coordinatesType')!r} ignored (not geographical)")
    for el in nodes_el:
        if local_name(el.tag) != "node":
            continue
        node_id = el.get("id")
        if not node_id:
            src.fail("a <node> has no id", "give every node an id attribute")
        lat: float | None = None
        lon: float | None = None
        coords = _child(el, "coordinates")
        if geographical and coords is not None:
            x, y = _child(coords, "x"), _child(coords, "y")
            if x is not None and y is not None:
                lat = _signed(y.text, node_id, src)
                lon = _signed(x.text, node_id, src)
        builder.add_node(node_id, node_id, lat, lon)

    builder.note(
        "undirected SNDlib links: each became two directed links with the same capacity and delay; "
        "capacity_bps = preInstalledModule capacity in Mbit/s x 1e6"
    )
    for i, el in enumerate(e for e in links_el if local_name(e.tag) == "link"):
        link_id = el.get("id", f"#{i}")
        source_el, target_el = _child(el, "source"), _child(el, "target")
        a = source_el.text.strip() if source_el is not None and source_el.text else ""
        b = target_el.text.strip() if target_el is not None and target_el.text else ""
        if not a or not b:
            src.fail(f"link {link_id!r} lacks a <source> or <target>", "give every link a source and a target")
        what = f"link {link_id!r} ({a}-{b})"
        capacity: float | None = None
        pre = _child(el, "preInstalledModule")
        if pre is not None:
            cap_el = _child(pre, "capacity")
            capacity = src.number(cap_el.text if cap_el is not None else None, f"{what} capacity", "Mbit/s")
        else:
            modules = [
                src.number(c.text, f"{what} addModule capacity", "Mbit/s")
                for m in el.iter()
                if local_name(m.tag) == "addModule"
                for c in m
                if local_name(c.tag) == "capacity"
            ]
            if modules:
                capacity = min(modules)
                builder.count("no preInstalledModule: capacity = smallest additional module")
        builder.add_edge(
            a,
            b,
            capacity_bps=capacity * SNDLIB_CAPACITY_UNIT_BPS if capacity is not None else None,
            both_directions=True,
        )
    extra = dict(meta or {})
    extra.setdefault("format", "sndlib-xml")
    return builder.build(extra)


def _child(el: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in el if local_name(c.tag) == name), None)


def _signed(text: str | None, node_id: str, src: SourceRef) -> float:
    try:
        value = float(text or "")
    except ValueError:
        src.fail(f"node {node_id!r}: coordinate {text!r} is not a number", "fix the <coordinates> of the node")
    return value
