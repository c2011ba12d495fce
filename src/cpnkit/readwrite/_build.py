"""Shared machinery of the topology readers: number checks, fill rules and topology assembly.

Every reader turns its file into node and edge records and hands them to ``TopologyBuilder``, which applies
the fill rules of ``cpnkit.readwrite`` (see the package docstring) in one place and records each rule it
applied, with a count, in ``Topology.meta["rules"]``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from cpnkit.errors import TopologyError, did_you_mean
from cpnkit.model import Link, Node, Topology
from cpnkit.units import LIGHT_IN_FIBRE_M_PER_S

__all__ = [
    "DEFAULT_CAPACITY_BPS",
    "DEFAULT_PROP_DELAY_S",
    "EARTH_RADIUS_M",
    "MIN_PROP_DELAY_S",
    "SourceRef",
    "TopologyBuilder",
    "fmt_bps",
    "great_circle_m",
]

#: Capacity given to a link whose data has none, in bit/s (10 Gbit/s: an OC-192 / 10GE backbone link,
#: the tier of Abilene's 9.92 Gbit/s links).
DEFAULT_CAPACITY_BPS = 10e9
#: Propagation delay given to a link with neither a delay nor coordinates at both ends, in s (1 ms, about
#: 200 km of fibre: a short backbone hop).
DEFAULT_PROP_DELAY_S = 1e-3
#: Smallest propagation delay a derived (distance-based) or zero delay is raised to, in s (0.1 ms, 20 km of
#: fibre; keeps co-located nodes from getting a zero or near-zero delay).
MIN_PROP_DELAY_S = 1e-4
#: Mean Earth radius (IUGG), in m.
EARTH_RADIUS_M = 6_371_008.8
_SPEED = f"{LIGHT_IN_FIBRE_M_PER_S / 1e8:g}e8 m/s (light in fibre)"


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points on a spherical Earth (haversine formula).

    Args:
        lat1: Latitude of the first point, in degrees north.
        lon1: Longitude of the first point, in degrees east.
        lat2: Latitude of the second point, in degrees north.
        lon2: Longitude of the second point, in degrees east.

    Returns:
        The distance in m.

    >>> round(great_circle_m(0.0, 0.0, 0.0, 1.0))
    111195
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where records come from, for error messages (a file path, or a description of an in-memory dict)."""

    label: str

    def fail(self, problem: str, fix: str) -> NoReturn:
        """Raise a ``TopologyError`` naming the source, the problem (value and constraint) and the fix."""
        raise TopologyError(f"{self.label}: {problem}; {fix}")

    def number(
        self,
        value: Any,
        what: str,
        unit: str,
        *,
        allow_zero: bool = False,
        fix: str = "correct the value or remove the attribute to use the default",
    ) -> float:
        """Check that ``value`` is a finite number > 0 (>= 0 with ``allow_zero``) and return it as a float.

        Strings holding numbers (GraphML, XML) are accepted; booleans are not.
        """
        number: float
        if isinstance(value, bool):
            number = math.nan
        elif isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                number = math.nan
        else:
            number = math.nan
        bound_ok = number >= 0 if allow_zero else number > 0
        if not (math.isfinite(number) and bound_ok):
            constraint = ">= 0" if allow_zero else "> 0"
            self.fail(f"{what}={value!r} must be a finite number {constraint} (in {unit})", fix)
        return number


@dataclass(slots=True)
class _EdgeDraft:
    capacity_bps: float
    delay_s: float | None
    delay_origin: str
    distance_m: float | None


class TopologyBuilder:
    """Collects nodes and directed edges, applies the fill rules and builds a validated ``Topology``.

    Args:
        name: Topology name.
        source: Where the records come from (for messages and ``meta["source"]``).
        default_capacity_bps: Capacity of an edge without one, in bit/s.
        default_delay_s: Delay in s given to links without delay information (no delay, length or
            coordinates at both ends) when no link of the file has any; otherwise such links get the
            median delay of the others.
        merge_parallel: Merge repeated ``src -> dst`` edges (capacities summed, smallest delay kept); when
            false a repeated edge is an error.
    """

    def __init__(
        self,
        name: str,
        source: SourceRef,
        *,
        default_capacity_bps: float = DEFAULT_CAPACITY_BPS,
        default_delay_s: float = DEFAULT_PROP_DELAY_S,
        merge_parallel: bool = False,
    ) -> None:
        self.name = name
        self.source = source
        self.default_capacity_bps = source.number(
            default_capacity_bps, "default_capacity_bps", "bit/s", fix="pass a positive capacity in bit/s"
        )
        self.default_delay_s = source.number(
            default_delay_s, "default_delay_s", "s", fix="pass a positive delay in s (e.g. 1e-3)"
        )
        self.merge_parallel = merge_parallel
        self.nodes: dict[str, Node] = {}
        self._edges: dict[tuple[str, str], list[_EdgeDraft]] = {}
        self._counts: dict[str, int] = {}
        self._notes: list[str] = []

    # -- records -----------------------------------------------------------------------------------
    def note(self, rule: str) -> None:
        """Record a rule that applies to the whole file (a unit interpretation, say) once."""
        if rule not in self._notes:
            self._notes.append(rule)

    def count(self, rule: str, n: int = 1) -> None:
        """Count one more application of a per-edge rule."""
        self._counts[rule] = self._counts.get(rule, 0) + n

    def add_node(
        self,
        node_id: str,
        label: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> None:
        """Add a node; a repeated id is an error."""
        if node_id in self.nodes:
            self.source.fail(f"node id {node_id!r} appears twice", "node ids must be unique; remove the duplicate")
        if (latitude is None) != (longitude is None):
            latitude = longitude = None
            self.count("node coordinates: a node with only one of latitude/longitude was treated as having none")
        try:
            self.nodes[node_id] = Node(node_id, node_id if label is None else label, latitude, longitude)
        except TopologyError as err:
            raise TopologyError(f"{self.source.label}: {err}") from err

    def add_edge(
        self,
        src: str,
        dst: str,
        *,
        capacity_bps: float | None = None,
        delay_s: float | None = None,
        delay_origin: str = "",
        distance_m: float | None = None,
        both_directions: bool = False,
    ) -> None:
        """Add a directed edge (two with ``both_directions``); missing values are filled in ``build``.

        Args:
            src: Source node id (must already be added).
            dst: Destination node id (must already be added).
            capacity_bps: Capacity in bit/s, ``None`` for the default.
            delay_s: Propagation delay in s (>= 0), ``None`` to derive it.
            delay_origin: Attribute the delay was read from, for ``meta["rules"]``.
            distance_m: Link length in m, used for the delay when ``delay_s`` is ``None``.
            both_directions: Also add ``dst -> src`` with the same values (an undirected edge).
        """
        for end in (src, dst):
            if end not in self.nodes:
                self.source.fail(
                    f"link {src!r}->{dst!r} names node {end!r}, which is not in the node list."
                    f"{did_you_mean(end, self.nodes)}",
                    "add the node or fix the link's end point",
                )
        if src == dst:
            self.count("self-loops dropped (a link from a node to itself carries no traffic)")
            return
        pairs = [(src, dst), (dst, src)] if both_directions else [(src, dst)]
        if capacity_bps is None:
            capacity_bps = self.default_capacity_bps
            self.count(f"capacity_bps missing: set to the default {fmt_bps(self.default_capacity_bps)}", len(pairs))
        for pair in pairs:
            drafts = self._edges.setdefault(pair, [])
            if drafts and not self.merge_parallel:
                self.source.fail(
                    f"link {pair[0]!r}->{pair[1]!r} appears more than once",
                    "remove the duplicate, or mark the graph as a multigraph to merge parallel links "
                    '("multigraph": true; capacities are summed)',
                )
            drafts.append(_EdgeDraft(capacity_bps, delay_s, delay_origin, distance_m))

    # -- assembly ----------------------------------------------------------------------------------
    def build(self, meta: Mapping[str, Any] | None = None) -> Topology:
        """Apply the fill rules and return the topology; ``meta["rules"]`` lists every rule applied.

        Args:
            meta: Extra provenance; its ``"rules"`` (if any) come first in the rules list.
        """
        resolved = {pair: [self._delay(*pair, d) for d in drafts] for pair, drafts in self._edges.items()}
        known = [delay for delays in resolved.values() for delay in delays if delay is not None]
        if known:
            # Links without any delay information take the typical delay of their own network
            # rather than a global constant (a regional network's links are far shorter than 1 ms).
            fallback = statistics.median(known)
            fallback_rule = (
                "prop_delay_s missing and no coordinates: set to the median delay of the other links "
                f"({_fmt_s(fallback)})"
            )
        else:
            fallback = self.default_delay_s
            fallback_rule = f"prop_delay_s missing and no coordinates: set to the default {_fmt_s(fallback)}"
        links: list[Link] = []
        for (src, dst), drafts in self._edges.items():
            delays = [fallback if delay is None else delay for delay in resolved[(src, dst)]]
            missing = sum(delay is None for delay in resolved[(src, dst)])
            if missing:
                self.count(fallback_rule, missing)
            if len(drafts) > 1:
                self.count("parallel links merged: capacities summed, smallest delay kept", len(drafts) - 1)
            capacity = math.fsum(d.capacity_bps for d in drafts)
            try:
                links.append(Link(src, dst, capacity, min(delays)))
            except TopologyError as err:
                raise TopologyError(f"{self.source.label}: {err}") from err
        extra = dict(meta or {})
        rules = [str(r) for r in extra.pop("rules", [])]
        rules += self._notes
        rules += [f"{rule} ({n} {'link' if n == 1 else 'links'})" for rule, n in self._counts.items()]
        full_meta = {"source": self.source.label, **extra, "rules": rules}
        try:
            return Topology(name=self.name, nodes=tuple(self.nodes.values()), links=tuple(links), meta=full_meta)
        except TopologyError as err:
            raise TopologyError(f"{self.source.label}: {err}") from err

    def _delay(self, src: str, dst: str, draft: _EdgeDraft) -> float | None:
        """The draft's delay in s by the fill rules, or ``None`` when it has no delay information."""
        if draft.delay_s is not None:
            self.count(f"prop_delay_s read from {draft.delay_origin}")
            if draft.delay_s > 0:
                return draft.delay_s
            self.count(f"prop_delay_s of 0 raised to the floor {_fmt_s(MIN_PROP_DELAY_S)}")
            return MIN_PROP_DELAY_S
        distance_m = draft.distance_m
        if distance_m is not None:
            self.count("prop_delay_s = link length / " + _SPEED)
        else:
            a, b = self.nodes[src], self.nodes[dst]
            if a.latitude is None or a.longitude is None or b.latitude is None or b.longitude is None:
                return None
            distance_m = great_circle_m(a.latitude, a.longitude, b.latitude, b.longitude)
            self.count("prop_delay_s = great-circle (haversine) distance between the node coordinates / " + _SPEED)
        delay = distance_m / LIGHT_IN_FIBRE_M_PER_S
        if delay < MIN_PROP_DELAY_S:
            self.count(f"distance-derived prop_delay_s below the floor raised to {_fmt_s(MIN_PROP_DELAY_S)}")
            return MIN_PROP_DELAY_S
        return delay


def fmt_bps(value: float) -> str:
    """A bit rate for messages: ``"10 Gbit/s"``, ``"1 Mbit/s"``, ``"500 bit/s"``."""
    if value >= 1e9:
        return f"{value / 1e9:g} Gbit/s"
    return f"{value / 1e6:g} Mbit/s" if value >= 1e6 else f"{value:g} bit/s"


def _fmt_s(value: float) -> str:
    return f"{value * 1e3:.4g} ms"
