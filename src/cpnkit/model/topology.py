"""Network topology: nodes, directed links with capacity and propagation delay, and cached paths."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import networkx as nx
import numpy as np
import numpy.typing as npt

from cpnkit.errors import InfeasibleError, TopologyError, UnknownNameError, did_you_mean
from cpnkit.model._validate import check_positive

__all__ = ["Link", "Node", "Path", "PathWeight", "Topology"]

PathWeight = Literal["delay", "hops"]


@dataclass(frozen=True, slots=True)
class Node:
    """A network node (a PoP, router or site).

    Attributes:
        id: Unique node id (a string; numeric ids from files are turned into strings).
        label: Human-readable name (city); defaults to ``id``.
        latitude: Degrees north, or ``None`` when the data has no coordinates.
        longitude: Degrees east, or ``None``.
    """

    id: str
    label: str = ""
    latitude: float | None = None
    longitude: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise TopologyError(f"node id {self.id!r} must be a non-empty string; convert ids with str()")
        if not self.label:
            object.__setattr__(self, "label", self.id)
        for name, value, bound in (("latitude", self.latitude, 90.0), ("longitude", self.longitude, 180.0)):
            if value is not None and (not math.isfinite(value) or abs(value) > bound):
                raise TopologyError(
                    f"node {self.id!r}: {name}={value!r} must be finite within ±{bound:g} degrees; "
                    "fix the coordinate or leave it out (None)"
                )


@dataclass(frozen=True, slots=True)
class Link:
    """A directed link.

    Attributes:
        src: Source node id.
        dst: Destination node id.
        capacity_bps: Capacity in bit/s (> 0).
        prop_delay_s: One-way propagation delay in s (> 0).
    """

    src: str
    dst: str
    capacity_bps: float
    prop_delay_s: float

    def __post_init__(self) -> None:
        if self.src == self.dst:
            raise TopologyError(f"link {self.src!r}->{self.dst!r} is a self-loop; remove it from the topology")
        check_positive(
            f"link {self.src!r}->{self.dst!r} capacity_bps",
            self.capacity_bps,
            "give the capacity in bit/s (e.g. 1e10 for 10 Gbit/s)",
            TopologyError,
        )
        check_positive(
            f"link {self.src!r}->{self.dst!r} prop_delay_s",
            self.prop_delay_s,
            "give the one-way delay in seconds (e.g. 0.005), or coordinates to derive it from distance",
            TopologyError,
        )


@dataclass(frozen=True, slots=True)
class Path:
    """A simple directed path.

    Attributes:
        nodes: Node ids from source to destination.
        link_ids: Index of each traversed link in ``Topology.links``.
        prop_delay_s: Sum of the links' propagation delays, in s.
        bottleneck_bps: Smallest link capacity on the path, in bit/s.
    """

    nodes: tuple[str, ...]
    link_ids: tuple[int, ...]
    prop_delay_s: float
    bottleneck_bps: float

    @property
    def hops(self) -> int:
        """Number of links."""
        return len(self.link_ids)

    @property
    def src(self) -> str:
        """First node."""
        return self.nodes[0]

    @property
    def dst(self) -> str:
        """Last node."""
        return self.nodes[-1]


@dataclass(frozen=True, eq=False)
class Topology:
    """A directed network with per-link capacity (bit/s) and propagation delay (s).

    Validated on construction: unique node ids, links between known nodes, no parallel links,
    positive finite capacities and delays. Paths and hop distances are computed with networkx
    and cached on the instance (the instance is immutable, so the cache never goes stale).

    Attributes:
        name: Topology name (``abilene``, ``topohub:sndlib/germany50``, a file name, ...).
        nodes: The nodes.
        links: The directed links.
        meta: Free-form provenance (source, rules applied to fill missing data).
    """

    name: str
    nodes: tuple[Node, ...]
    links: tuple[Link, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _link_index: dict[tuple[str, str], int] = field(init=False, repr=False, compare=False)
    _cache: dict[Any, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "links", tuple(self.links))
        if not self.nodes:
            raise TopologyError(f"topology {self.name!r} has no nodes; give at least two nodes and a link")
        index: dict[str, int] = {}
        for i, node in enumerate(self.nodes):
            if node.id in index:
                raise TopologyError(f"topology {self.name!r}: node id {node.id!r} appears twice; ids must be unique")
            index[node.id] = i
        link_index: dict[tuple[str, str], int] = {}
        for i, link in enumerate(self.links):
            for end in (link.src, link.dst):
                if end not in index:
                    raise TopologyError(
                        f"topology {self.name!r}: link {link.src!r}->{link.dst!r} names node {end!r}, "
                        f"which is not in the node list.{did_you_mean(end, index)} Add the node or fix the link"
                    )
            key = (link.src, link.dst)
            if key in link_index:
                raise TopologyError(
                    f"topology {self.name!r}: two links {link.src!r}->{link.dst!r}; merge parallel links "
                    "into one (sum their capacities)"
                )
            link_index[key] = i
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_link_index", link_index)
        object.__setattr__(self, "_cache", {})

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_links(
        cls,
        name: str,
        links: Iterable[Link],
        nodes: Iterable[Node] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Topology:
        """Build a topology from links; nodes default to the links' end points (in first-seen order)."""
        links = tuple(links)
        if nodes is None:
            seen: dict[str, None] = {}
            for link in links:
                seen.setdefault(link.src)
                seen.setdefault(link.dst)
            nodes = [Node(n, n) for n in seen]
        return cls(name=name, nodes=tuple(nodes), links=links, meta=dict(meta or {}))

    # -- lookup ---------------------------------------------------------------------------------
    @property
    def node_ids(self) -> tuple[str, ...]:
        """Node ids in order."""
        return tuple(n.id for n in self.nodes)

    def has_node(self, node_id: str) -> bool:
        """Whether ``node_id`` is a node of this topology."""
        return node_id in self._index

    def node_index(self, node_id: str) -> int:
        """Position of ``node_id`` in ``nodes``.

        Raises:
            UnknownNameError: the node does not exist (the message suggests close ids).
        """
        try:
            return self._index[node_id]
        except KeyError:
            raise UnknownNameError(
                f"node {node_id!r} is not in topology {self.name!r}.{did_you_mean(node_id, self._index)} "
                f"Known nodes: {', '.join(list(self._index)[:8])}{' ...' if len(self._index) > 8 else ''}"
            ) from None

    def link_id(self, src: str, dst: str) -> int:
        """Index of link ``src -> dst``.

        Raises:
            TopologyError: there is no such link.
        """
        try:
            return self._link_index[(src, dst)]
        except KeyError:
            raise TopologyError(
                f"topology {self.name!r} has no link {src!r}->{dst!r}; a path must follow existing links"
            ) from None

    def has_link(self, src: str, dst: str) -> bool:
        """Whether the directed link ``src -> dst`` exists."""
        return (src, dst) in self._link_index

    @property
    def capacity_bps(self) -> npt.NDArray[np.float64]:
        """Link capacities in bit/s, indexed like ``links`` (a cached read-only array)."""
        return self._array("capacity_bps")

    @property
    def prop_delay_s(self) -> npt.NDArray[np.float64]:
        """Link propagation delays in s, indexed like ``links`` (a cached read-only array)."""
        return self._array("prop_delay_s")

    def _array(self, attr: str) -> npt.NDArray[np.float64]:
        key = ("array", attr)
        if key not in self._cache:
            arr = np.array([getattr(link, attr) for link in self.links], dtype=np.float64)
            arr.setflags(write=False)
            self._cache[key] = arr
        result: npt.NDArray[np.float64] = self._cache[key]
        return result

    # -- graph algorithms -------------------------------------------------------------------------
    def to_networkx(self) -> nx.DiGraph[str]:
        """The topology as a networkx DiGraph (cached; do not mutate it — use ``.copy()``).

        Edge attributes: ``capacity_bps``, ``prop_delay_s``, ``link_id``.
        """
        if "graph" not in self._cache:
            graph: nx.DiGraph[str] = nx.DiGraph(name=self.name)
            for node in self.nodes:
                graph.add_node(node.id, label=node.label, latitude=node.latitude, longitude=node.longitude)
            for i, link in enumerate(self.links):
                graph.add_edge(
                    link.src,
                    link.dst,
                    capacity_bps=link.capacity_bps,
                    prop_delay_s=link.prop_delay_s,
                    link_id=i,
                )
            self._cache["graph"] = graph
        result: nx.DiGraph[str] = self._cache["graph"]
        return result

    def is_strongly_connected(self) -> bool:
        """Whether every node reaches every other node."""
        return bool(nx.is_strongly_connected(self.to_networkx()))

    def make_path(self, nodes: Sequence[str]) -> Path:
        """Build a ``Path`` from a node sequence, checking that every hop is a link.

        Raises:
            TopologyError: a hop is not a link, or the sequence repeats a node or has < 2 nodes.
        """
        nodes = tuple(nodes)
        if len(nodes) < 2:
            raise TopologyError(f"path {list(nodes)!r} needs at least two nodes (source and destination)")
        if len(set(nodes)) != len(nodes):
            raise TopologyError(f"path {list(nodes)!r} repeats a node; paths must be simple")
        for n in nodes:
            self.node_index(n)
        link_ids = tuple(self.link_id(a, b) for a, b in itertools.pairwise(nodes))
        return Path(
            nodes=nodes,
            link_ids=link_ids,
            prop_delay_s=math.fsum(self.links[i].prop_delay_s for i in link_ids),
            bottleneck_bps=min(self.links[i].capacity_bps for i in link_ids),
        )

    def k_shortest_paths(self, src: str, dst: str, k: int = 3, weight: PathWeight = "delay") -> tuple[Path, ...]:
        """Up to ``k`` shortest simple paths from ``src`` to ``dst`` (Yen's algorithm via networkx), cached.

        Args:
            src: Source node id.
            dst: Destination node id.
            k: Number of paths wanted (>= 1). Fewer are returned when fewer simple paths exist.
            weight: ``"delay"`` orders by propagation delay, ``"hops"`` by hop count.

        Raises:
            InfeasibleError: ``dst`` is unreachable from ``src``.
            UnknownNameError: a node does not exist.
            ConfigError: ``k < 1`` or ``src == dst``.
        """
        key = ("ksp", src, dst, k, weight)
        cached = self._cache.get(key)
        if cached is not None:
            result: tuple[Path, ...] = cached
            return result
        self.node_index(src)
        self.node_index(dst)
        if k < 1:
            raise TopologyError(f"k={k!r} paths requested; k must be >= 1")
        if src == dst:
            raise TopologyError(f"source and destination are both {src!r}; a path needs two distinct nodes")
        graph = self.to_networkx()
        attr = "prop_delay_s" if weight == "delay" else None
        try:
            generator = nx.shortest_simple_paths(graph, src, dst, weight=attr)
            paths = tuple(self.make_path(p) for p in itertools.islice(generator, k))
        except nx.NetworkXNoPath:
            raise InfeasibleError(
                f"no path from {src!r} to {dst!r} in topology {self.name!r}; the topology is not strongly connected"
            ) from None
        self._cache[key] = paths
        return paths

    def hop_distances(self, src: str) -> Mapping[str, int]:
        """Hop count from ``src`` to every reachable node (BFS, cached)."""
        key = ("hops", src)
        if key not in self._cache:
            self.node_index(src)
            self._cache[key] = dict(nx.single_source_shortest_path_length(self.to_networkx(), src))
        result: Mapping[str, int] = self._cache[key]
        return result

    def delay_distances(self, src: str) -> Mapping[str, float]:
        """Propagation delay in s of the fastest path from ``src`` to every reachable node (Dijkstra, cached)."""
        key = ("delay", src)
        if key not in self._cache:
            self.node_index(src)
            self._cache[key] = dict(
                nx.single_source_dijkstra_path_length(self.to_networkx(), src, weight="prop_delay_s")
            )
        result: Mapping[str, float] = self._cache[key]
        return result

    def delay_distances_to(self, dst: str) -> Mapping[str, float]:
        """Propagation delay in s of the fastest path from every node that reaches ``dst`` to it (cached)."""
        key = ("delay_to", dst)
        if key not in self._cache:
            self.node_index(dst)
            reverse = self.to_networkx().reverse(copy=False)
            self._cache[key] = dict(nx.single_source_dijkstra_path_length(reverse, dst, weight="prop_delay_s"))
        result: Mapping[str, float] = self._cache[key]
        return result

    def summary(self) -> dict[str, Any]:
        """Counts and capacity/delay statistics (``links`` counts directed links)."""
        cap = self.capacity_bps
        delay = self.prop_delay_s
        graph = self.to_networkx()
        return {
            "name": self.name,
            "nodes": len(self.nodes),
            "links": len(self.links),
            "strongly_connected": self.is_strongly_connected(),
            "mean_out_degree": len(self.links) / len(self.nodes),
            "diameter_hops": (nx.diameter(graph) if self.is_strongly_connected() and len(self.nodes) <= 300 else None),
            "capacity_bps": _stats(cap),
            "prop_delay_s": _stats(delay),
            "meta": dict(self.meta),
        }


def _stats(values: npt.NDArray[np.float64]) -> dict[str, float]:
    if values.size == 0:
        return {"min": math.nan, "mean": math.nan, "median": math.nan, "max": math.nan}
    return {
        "min": float(values.min()),
        "mean": float(values.mean()),
        "median": float(np.median(values)),
        "max": float(values.max()),
    }
