"""Real network topologies by name: the seven of the RLMS-CPN paper, topohub's collection, or a file.

Bundled names (case-insensitive), with where their numbers come from (``data/PROVENANCE.md`` has the
commits and licences):

========== ===== ===== ================================================================================
name       nodes links capacity / propagation delay
========== ===== ===== ================================================================================
abilene       12    30 SNDlib ``preInstalledModule`` (Mbit/s: 9.92 / 2.48 Gbit/s) / great-circle distance
ebone         23    76 Rocketfuel OSPF weights (rule below) / Rocketfuel ``latency_ms_mean``
sprintlink    44   166 same as ebone
tiscali       49   172 same as ebone
uscarrier    158   378 TEAL ``capacity`` (Mbit/s) / great-circle distance, coordinates from Topology Zoo
kdl          754  1790 same as uscarrier
asn         1739  8558 TEAL ``capacity`` (Mbit/s) / no coordinates: the 1 ms default of every link
========== ===== ===== ================================================================================

``links`` counts directed links. Rules beyond those of ``cpnkit.readwrite`` (all recorded in
``Topology.meta["rules"]``):

- **Rocketfuel capacity.** Rocketfuel has no capacities, only inferred OSPF weights. Cisco IOS sets a link's
  OSPF cost to reference bandwidth / interface bandwidth, so capacity is taken inversely proportional to the
  weight: one router-level link of weight ``w`` has ``ROCKETFUEL_REF_BANDWIDTH_BPS / w`` = 10 Gbit/s / ``w``
  (weight 1, the smallest in the data, is an OC-192 like Abilene's backbone). A PoP-level link aggregates
  ``n_router_links`` parallel router links and gets ``n_router_links x 10 Gbit/s / weight_mean`` (exact when
  the parallel links share a weight; otherwise a lower bound of the sum, by the AM-HM inequality). The
  result spans 0.57 - 89 Gbit/s. Rocketfuel's weights are only known up to a scale, hence the reference.
- **Rocketfuel delay.** ``latency_ms_mean`` over the router links between two PoPs (Rocketfuel's geographic
  latency, rounded up to 1 ms); it equals ``latency_ms_min`` on every link of the three bundled files.
- **TEAL coordinates.** TEAL's node ids are the Topology Zoo GraphML node ids, so latitude, longitude and
  label are joined from the Zoo file by id and the delay comes from distance; links at the Zoo nodes
  without coordinates (6 in UsCarrier, 28 in Kdl) get the median delay of the topology's other links
  (0.23 ms and 0.22 ms: both are regional networks). The links are TEAL's (the Zoo Kdl file is a
  multigraph; TEAL's directed link set is the source).
- **ASN.** An AS-level graph without geography: every link gets ``cpnkit.readwrite.DEFAULT_PROP_DELAY_S``
  (1 ms). Treat its delays as a uniform per-hop cost, not as measurements.
- **topohub.** ``topohub:<group>/<name>`` (e.g. ``topohub:sndlib/germany50``) loads from the ``topohub``
  package: node ids are topohub's integer ids as strings, labels its names, delays from the edges' ``dist``
  (km) / 2e8 m/s, and capacity the 10 Gbit/s default (topohub has none).
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cpnkit.datasets._resources import bundled_file
from cpnkit.errors import TopologyError, UnknownTopologyError, did_you_mean
from cpnkit.model import Topology
from cpnkit.readwrite import (
    TOPOLOGY_SUFFIXES,
    read_graphml,
    read_node_link_json,
    read_sndlib_xml,
    read_topology_file,
)
from cpnkit.readwrite._files import read_bytes

__all__ = [
    "NAMED_TOPOLOGIES",
    "ROCKETFUEL_REF_BANDWIDTH_BPS",
    "TEAL_CAPACITY_UNIT_BPS",
    "TOPOHUB_PREFIX",
    "TopologyInfo",
    "list_topologies",
    "load_topology",
]

#: Bit/s of a Rocketfuel router-level link of OSPF weight 1 (capacity = this / weight).
ROCKETFUEL_REF_BANDWIDTH_BPS = 10e9
#: Bit/s per unit of TEAL's ``capacity`` attribute (read as Mbit/s).
TEAL_CAPACITY_UNIT_BPS = 1e6
#: Prefix of topology specs that name a topohub key.
TOPOHUB_PREFIX = "topohub:"
_TOPOHUB_KEY = re.compile(r"[A-Za-z0-9_.+\-]+(/[A-Za-z0-9_.+\-]+)*")


@dataclass(frozen=True, slots=True)
class TopologyInfo:
    """A bundled topology, as ``list_topologies`` describes it without loading it.

    Attributes:
        name: The name ``load_topology`` takes.
        source: Data source.
        nodes: Number of nodes.
        links: Number of directed links.
        description: Where capacities and delays come from.
    """

    name: str
    source: str
    nodes: int
    links: int
    description: str


_ROCKETFUEL_DESC = "Rocketfuel PoP level; capacity from OSPF weights (10 Gbit/s / weight), delay from latency_ms_mean"
_TEAL_DESC = "TEAL capacities (Mbit/s); delay from Topology Zoo coordinates (great-circle / 2e8 m/s)"

#: The bundled topologies by name (lower case).
NAMED_TOPOLOGIES: Mapping[str, TopologyInfo] = {
    info.name: info
    for info in (
        TopologyInfo(
            "abilene",
            "SNDlib abilene.xml",
            12,
            30,
            "Internet2 Abilene backbone; SNDlib capacities (9.92/2.48 Gbit/s); delay from coordinates",
        ),
        TopologyInfo("ebone", "Rocketfuel AS1755 (Ebone)", 23, 76, _ROCKETFUEL_DESC),
        TopologyInfo("sprintlink", "Rocketfuel AS1239 (Sprintlink)", 44, 166, _ROCKETFUEL_DESC),
        TopologyInfo("tiscali", "Rocketfuel AS3257 (Tiscali)", 49, 172, _ROCKETFUEL_DESC),
        TopologyInfo("uscarrier", "TEAL UsCarrier + Topology Zoo", 158, 378, _TEAL_DESC),
        TopologyInfo("kdl", "TEAL Kdl + Topology Zoo", 754, 1790, _TEAL_DESC),
        TopologyInfo(
            "asn",
            "TEAL ASN2k (CAIDA AS graph)",
            1739,
            8558,
            "TEAL capacities (Mbit/s); no coordinates: every delay the 1 ms default",
        ),
    )
}


def list_topologies() -> list[dict[str, Any]]:
    """The bundled topologies (name, source, nodes, directed links, description), without loading them."""
    return [asdict(info) for info in NAMED_TOPOLOGIES.values()]


def load_topology(spec: str | os.PathLike[str]) -> Topology:
    """Load a topology by bundled name, ``topohub:<key>``, or file path.

    Bundled names (``abilene``, ``ebone``, ``sprintlink``, ``tiscali``, ``uscarrier``, ``kdl``, ``asn``) are
    case-insensitive and win over a file of the same name. Bundled and topohub topologies are cached (a
    ``Topology`` is immutable, so the same instance is returned each time); files are read on every call.

    Args:
        spec: A bundled name, ``"topohub:<group>/<name>"`` (e.g. ``"topohub:sndlib/germany50"``), or the path
            of a ``.json``, ``.graphml`` or ``.xml`` file (optionally ``.gz``).

    Returns:
        The topology; ``meta`` records its source and the fill rules applied.

    Raises:
        UnknownTopologyError: the spec is not a bundled name, a topohub key or an existing file (the message
            suggests close names).
        TopologyError: the file exists but is malformed.
    """
    if isinstance(spec, os.PathLike):
        return read_topology_file(spec)
    if not isinstance(spec, str) or not spec.strip():
        raise UnknownTopologyError(f"topology spec {spec!r} is empty or not a string; {_HINT}")
    text = spec.strip()
    lowered = text.lower()
    if lowered in NAMED_TOPOLOGIES:
        return _load_named(lowered)
    if lowered.startswith(TOPOHUB_PREFIX):
        return _load_topohub(text[len(TOPOHUB_PREFIX) :].strip())
    path = Path(text).expanduser()
    if path.is_file():
        return read_topology_file(path)
    looks_like_path = os.sep in text or "/" in text or text.lower().endswith(TOPOLOGY_SUFFIXES)
    where = f" There is no file {str(path)!r} either." if looks_like_path else ""
    raise UnknownTopologyError(f"unknown topology {text!r}.{did_you_mean(lowered, NAMED_TOPOLOGIES)}{where} {_HINT}")


_HINT = (
    f"Bundled topologies: {', '.join(NAMED_TOPOLOGIES)}; or 'topohub:<group>/<name>' for a topohub key "
    "(e.g. 'topohub:sndlib/germany50'); or the path of a .json, .graphml or .xml file."
)


# -- bundled ---------------------------------------------------------------------------------------
@functools.cache
def _load_named(name: str) -> Topology:
    return _LOADERS[name]()


def _abilene() -> Topology:
    with bundled_file("topologies", "sndlib", "sndlib_abilene.xml") as path:
        return read_sndlib_xml(
            path,
            "abilene",
            meta={
                "source": "SNDlib abilene.xml via tfenz/TE_SR_WAN_simulation @cdf8f7d",
                "licence": "ZIB Academic License (noncommercial academic use, cite SNDlib)",
            },
        )


def _rocketfuel(name: str, asn: str, isp: str) -> Callable[[], Topology]:
    def load() -> Topology:
        file_name = f"AS{asn}_{isp}_pop.json"
        with bundled_file("topologies", "rocketfuel", file_name) as path:
            data = _json(path)
            for link in data.get("links", []):
                n = link.get("n_router_links")
                weight = link.get("weight_mean")
                if not (isinstance(n, int) and n > 0 and isinstance(weight, int | float) and weight > 0):
                    raise TopologyError(
                        f"{path}: link {link.get('source')!r}->{link.get('target')!r} has "
                        f"n_router_links={n!r}, weight_mean={weight!r}; both must be > 0 to derive the "
                        "capacity (fix the data file)"
                    )
                link["capacity_bps"] = n * ROCKETFUEL_REF_BANDWIDTH_BPS / weight
            return read_node_link_json(
                data,
                name,
                meta={
                    "source": f"Rocketfuel weights-dist AS{asn} ({isp}), PoP level, via cornell-netlab/yates @926bd89",
                    "licence": "UW Rocketfuel, research use; cite Mahajan et al., IMW 2002",
                    "rules": [
                        "capacity_bps = n_router_links x 10 Gbit/s / weight_mean (OSPF cost = reference "
                        "bandwidth / capacity, Cisco convention; weight 1 = 10 Gbit/s)",
                    ],
                },
            )

    return load


def _teal(name: str, teal_file: str, zoo_file: str | None) -> Callable[[], Topology]:
    def load() -> Topology:
        with bundled_file("topologies", "teal", teal_file) as path:
            data = _json(path)
        rules: list[str] = []
        if zoo_file is not None:
            with bundled_file("topologies", "topologyzoo", zoo_file) as zoo_path:
                zoo = {node.id: node for node in read_graphml(zoo_path).nodes}
            joined = 0
            for node in data.get("nodes", []):
                zoo_node = zoo.get(str(node.get("id")))
                if zoo_node is None:
                    continue
                if zoo_node.label and zoo_node.label != "None":
                    node["label"] = zoo_node.label
                if zoo_node.latitude is not None and zoo_node.longitude is not None:
                    node["latitude"], node["longitude"] = zoo_node.latitude, zoo_node.longitude
                    joined += 1
            rules.append(
                "node coordinates and labels joined by node id from Topology Zoo "
                f"{zoo_file.removesuffix('.gz')} ({joined} of {len(data.get('nodes', []))} nodes "
                "have coordinates)"
            )
        return read_node_link_json(
            data,
            name,
            capacity_unit_bps=TEAL_CAPACITY_UNIT_BPS,
            meta={
                "source": f"TEAL {teal_file.removesuffix('.gz')} via harvard-cns/teal @8076c99"
                + (f"; coordinates from Topology Zoo {zoo_file.removesuffix('.gz')}" if zoo_file else ""),
                "licence": "TEAL: MIT"
                + ("; Topology Zoo: see topology-zoo.org terms (cite Knight et al., JSAC 2011)" if zoo_file else ""),
                "rules": rules,
            },
        )

    return load


_LOADERS: dict[str, Callable[[], Topology]] = {
    "abilene": _abilene,
    "ebone": _rocketfuel("ebone", "1755", "Ebone"),
    "sprintlink": _rocketfuel("sprintlink", "1239", "Sprintlink"),
    "tiscali": _rocketfuel("tiscali", "3257", "Tiscali"),
    "uscarrier": _teal("uscarrier", "UsCarrier.json", "UsCarrier.graphml.gz"),
    "kdl": _teal("kdl", "Kdl.json", "Kdl.graphml.gz"),
    "asn": _teal("asn", "ASN2k.json.gz", None),
}


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_bytes(path))
    except json.JSONDecodeError as err:
        raise TopologyError(f"{path}: bundled file is not valid JSON ({err}); reinstall cpnkit") from err
    if not isinstance(data, dict):
        raise TopologyError(f"{path}: bundled file is not a node-link object; reinstall cpnkit")
    return data


# -- topohub ---------------------------------------------------------------------------------------
def _load_topohub(key: str) -> Topology:
    key = key.strip().strip("/")
    if not _TOPOHUB_KEY.fullmatch(key) or ".." in key.split("/"):
        raise UnknownTopologyError(
            f"topohub key {key!r} is malformed; keys look like 'sndlib/germany50' or 'topozoo/Abilene' "
            "(letters, digits, '_', '-', '.', separated by '/')"
        )
    keys = _topohub_keys()
    if key not in keys:
        by_lower = {k.lower(): k for k in keys}
        if key.lower() not in by_lower:
            groups = sorted({k.split("/")[0] for k in keys})
            raise UnknownTopologyError(
                f"unknown topohub key {key!r}.{did_you_mean(key, keys)} Keys are '<group>/<name>' "
                f"with group one of {', '.join(groups)} (e.g. 'topohub:sndlib/germany50')"
            )
        key = by_lower[key.lower()]
    return _load_topohub_key(key)


@functools.lru_cache(maxsize=64)
def _load_topohub_key(key: str) -> Topology:
    """Load an existing topohub key (exact spelling), cached."""
    import topohub  # an ordinary dependency, imported on first use: it is not needed for bundled names

    # Read the file topohub.get(key) would read, but close it: topohub.get leaves the file open
    # (a ResourceWarning, an error under `-W error`). The key was checked against the shipped files above.
    resource = importlib.resources.files("topohub").joinpath(f"data/{key}.json")
    try:
        with resource.open("rb") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as err:
        raise UnknownTopologyError(f"topohub could not load key {key!r} ({err}); check the key") from err
    return read_node_link_json(
        data,
        f"{TOPOHUB_PREFIX}{key}",
        meta={
            "source": f"topohub {getattr(topohub, '__version__', '?')} key {key}",
            "licence": "see the topohub package and the original data set's terms",
        },
    )


@functools.cache
def _topohub_keys() -> tuple[str, ...]:
    """Every key topohub ships (the ``.json`` files under its ``data`` folder)."""
    keys: list[str] = []

    def walk(folder: Any, prefix: str) -> None:
        for child in folder.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".json"):
                keys.append(prefix + child.name.removesuffix(".json"))

    walk(importlib.resources.files("topohub").joinpath("data"), "")
    return tuple(sorted(keys))
