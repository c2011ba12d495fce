"""Reading any supported topology file by its suffix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cpnkit.model import Topology
from cpnkit.readwrite._build import DEFAULT_CAPACITY_BPS, DEFAULT_PROP_DELAY_S, SourceRef
from cpnkit.readwrite._files import PathLike, as_path
from cpnkit.readwrite.graphml import read_graphml
from cpnkit.readwrite.nodelink import read_node_link_json
from cpnkit.readwrite.sndlib import read_sndlib_xml

__all__ = ["TOPOLOGY_SUFFIXES", "read_topology_file"]

_READERS: dict[str, Callable[..., Topology]] = {
    ".json": read_node_link_json,
    ".json.gz": read_node_link_json,
    ".graphml": read_graphml,
    ".graphml.gz": read_graphml,
    ".xml": read_sndlib_xml,
    ".xml.gz": read_sndlib_xml,
}
#: File suffixes ``read_topology_file`` understands (node-link JSON, GraphML, SNDlib XML; ``.gz`` allowed).
TOPOLOGY_SUFFIXES: tuple[str, ...] = tuple(_READERS)


def read_topology_file(
    path: PathLike,
    name: str | None = None,
    *,
    default_capacity_bps: float = DEFAULT_CAPACITY_BPS,
    default_delay_s: float = DEFAULT_PROP_DELAY_S,
) -> Topology:
    """Read a topology file, choosing the reader by suffix.

    ``.json``/``.json.gz``: networkx node-link JSON (``read_node_link_json``); ``.graphml``/``.graphml.gz``:
    GraphML (``read_graphml``); ``.xml``/``.xml.gz``: SNDlib native XML (``read_sndlib_xml``).

    Args:
        path: The file.
        name: Topology name; default: taken from the file.
        default_capacity_bps: Capacity of a link the file gives none, in bit/s.
        default_delay_s: Delay in s given to links without delay information (no delay, length or
            coordinates at both ends) when no link of the file has any; otherwise such links get the
            median delay of the others.

    Returns:
        The topology.

    Raises:
        TopologyError: unsupported suffix, missing file or malformed content; the message names the file.
    """
    file = as_path(path)
    lowered = file.name.lower()
    suffix = next((s for s in sorted(_READERS, key=len, reverse=True) if lowered.endswith(s)), None)
    if suffix is None:
        SourceRef(str(file)).fail(
            f"suffix {''.join(file.suffixes) or '(none)'!r} is not a supported topology format",
            f"use one of {', '.join(TOPOLOGY_SUFFIXES)} (node-link JSON, GraphML, SNDlib XML)",
        )
    reader = _READERS[suffix]
    options: dict[str, Any] = {
        "default_capacity_bps": default_capacity_bps,
        "default_delay_s": default_delay_s,
    }
    return reader(file, name, **options)
