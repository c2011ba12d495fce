from __future__ import annotations

import math

import pytest

from cpnkit.errors import InfeasibleError, TopologyError, UnknownNameError
from cpnkit.model import Link, Node, Topology


def test_link_rejects_nan_capacity_naming_value_and_fix() -> None:
    with pytest.raises(TopologyError, match=r"capacity_bps=nan must be a finite number > 0.*bit/s"):
        Link("a", "b", math.nan, 1e-3)


def test_link_rejects_non_positive_delay_and_self_loop() -> None:
    with pytest.raises(TopologyError, match="prop_delay_s"):
        Link("a", "b", 1e9, 0.0)
    with pytest.raises(TopologyError, match="self-loop"):
        Link("a", "a", 1e9, 1e-3)


def test_topology_rejects_unknown_node_and_parallel_links() -> None:
    with pytest.raises(TopologyError, match=r"names node 'c'.*Add the node"):
        Topology("t", (Node("a"), Node("b")), (Link("a", "c", 1e9, 1e-3),))
    with pytest.raises(TopologyError, match="two links"):
        Topology.from_links("t", [Link("a", "b", 1e9, 1e-3), Link("a", "b", 2e9, 1e-3)])


def test_topology_k_shortest_paths_ordered_by_delay_and_cached(diamond4: Topology) -> None:
    paths = diamond4.k_shortest_paths("s", "t", k=3)
    assert [p.nodes for p in paths] == [("s", "x", "t"), ("s", "y", "t")]
    assert paths[0].prop_delay_s == pytest.approx(2e-3)
    assert paths[1].bottleneck_bps == 5e8
    assert diamond4.k_shortest_paths("s", "t", k=3) is paths


def test_topology_paths_errors(diamond4: Topology) -> None:
    with pytest.raises(UnknownNameError, match=r"node 'q' is not in topology"):
        diamond4.k_shortest_paths("s", "q")
    with pytest.raises(TopologyError, match="has no link"):
        diamond4.make_path(["s", "t"])
    one_way = Topology.from_links("oneway", [Link("a", "b", 1e9, 1e-3)])
    with pytest.raises(InfeasibleError, match="no path"):
        one_way.k_shortest_paths("b", "a")


def test_topology_summary_counts_directed_links(line3: Topology) -> None:
    summary = line3.summary()
    assert (summary["nodes"], summary["links"]) == (3, 4)
    assert summary["strongly_connected"] is True
    assert summary["capacity_bps"]["min"] == 1e9
