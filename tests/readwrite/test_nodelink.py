from __future__ import annotations

import gzip
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpnkit.errors import TopologyError
from cpnkit.model import Link, Node, Topology
from cpnkit.readwrite import (
    DEFAULT_CAPACITY_BPS,
    DEFAULT_PROP_DELAY_S,
    MIN_PROP_DELAY_S,
    great_circle_m,
    read_node_link_json,
    write_node_link_json,
)


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def _teal_like() -> dict[str, Any]:
    return {
        "directed": True,
        "multigraph": False,
        "graph": {},
        "nodes": [{"id": 0}, {"id": 1}, {"id": 2}],
        "links": [
            {"source": 0, "target": 1, "capacity": 200.0},
            {"source": 1, "target": 0, "capacity": 150.0},
            {"source": 1, "target": 2, "capacity": 50.0},
            {"source": 2, "target": 1, "capacity": 50.0},
        ],
    }


def test_read_node_link_json_teal_capacity_in_mbps_and_string_ids(tmp_path: Path) -> None:
    topo = read_node_link_json(_write(tmp_path / "tiny.json", _teal_like()))
    assert topo.name == "tiny"
    assert topo.node_ids == ("0", "1", "2")
    assert topo.links[topo.link_id("0", "1")].capacity_bps == 200e6
    assert topo.links[topo.link_id("1", "0")].capacity_bps == 150e6
    # no delay and no coordinates anywhere: the documented 1 ms default, recorded as a rule
    assert set(topo.prop_delay_s) == {DEFAULT_PROP_DELAY_S}
    rules = " | ".join(topo.meta["rules"])
    assert "Mbit/s" in rules
    assert "default 1 ms (4 links)" in rules
    assert topo.meta["source"] == str(tmp_path / "tiny.json")


def test_read_node_link_json_capacity_unit_is_configurable() -> None:
    topo = read_node_link_json(_teal_like(), "t", capacity_unit_bps=1e9)
    assert topo.links[0].capacity_bps == 200e9


def test_read_node_link_json_undirected_edges_key_topohub_style() -> None:
    data = {
        "directed": False,
        "multigraph": False,
        "graph": {"name": "g"},
        "nodes": [{"id": 0, "name": "A", "pos": [10.0, 50.0]}, {"id": 1, "name": "B", "pos": [11.0, 50.0]}],
        "edges": [{"source": 0, "target": 1, "dist": 100.0}],
    }
    topo = read_node_link_json(data)
    assert topo.name == "g"
    assert len(topo.links) == 2
    assert topo.has_link("0", "1")
    assert topo.has_link("1", "0")
    assert topo.nodes[0].label == "A"
    assert (topo.nodes[0].latitude, topo.nodes[0].longitude) == (50.0, 10.0)  # pos is [lon, lat]
    assert topo.links[0].prop_delay_s == pytest.approx(100e3 / 2e8)  # dist km wins over coordinates
    assert topo.links[0].capacity_bps == DEFAULT_CAPACITY_BPS
    rules = " | ".join(topo.meta["rules"])
    assert "link length" in rules
    assert "default 10 Gbit/s (2 links)" in rules
    assert "two directed links" in rules


def test_read_node_link_json_delay_from_coordinates_is_haversine_over_fibre_speed() -> None:
    data = {
        "directed": True,
        "nodes": [
            {"id": "a", "latitude": 40.0, "longitude": -74.0},
            {"id": "b", "Latitude": 34.0, "Longitude": -118.0},
        ],
        "links": [{"source": "a", "target": "b", "capacity_bps": 1e9}],
    }
    topo = read_node_link_json(data)
    expected = great_circle_m(40.0, -74.0, 34.0, -118.0) / 2e8
    assert topo.links[0].prop_delay_s == pytest.approx(expected)
    assert 0.015 < expected < 0.02  # New York - Los Angeles, ~3,900 km
    assert any("haversine" in r for r in topo.meta["rules"])


def test_read_node_link_json_delay_attribute_precedence_and_units() -> None:
    data = {
        "directed": True,
        "nodes": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
        "links": [
            {"source": "a", "target": "b", "prop_delay_s": 0.004, "latency_ms": 9.0},
            {"source": "b", "target": "a", "latency_ms_mean": 3.0, "latency_ms_min": 2.0},
            {"source": "b", "target": "c", "delay": 7.0, "dist": 5000.0},
            {"source": "c", "target": "b", "latency_ms": 0.0},
        ],
    }
    topo = read_node_link_json(data)
    assert [link.prop_delay_s for link in topo.links] == pytest.approx([0.004, 0.003, 0.007, MIN_PROP_DELAY_S])
    assert any("of 0 raised to the floor" in r for r in topo.meta["rules"])


def test_read_node_link_json_links_without_delay_info_get_median_of_others() -> None:
    data = {
        "directed": True,
        "nodes": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}],
        "links": [
            {"source": "a", "target": "b", "latency_ms": 2.0},
            {"source": "b", "target": "c", "latency_ms": 4.0},
            {"source": "c", "target": "a", "latency_ms": 9.0},
            {"source": "a", "target": "d"},
        ],
    }
    topo = read_node_link_json(data)
    assert topo.links[topo.link_id("a", "d")].prop_delay_s == pytest.approx(0.004)
    assert any("median delay of the other links (4 ms) (1 link)" in r for r in topo.meta["rules"])


def test_read_node_link_json_close_nodes_get_the_delay_floor() -> None:
    data = {
        "directed": False,
        "nodes": [{"id": "a", "lat": 50.0, "lon": 8.0}, {"id": "b", "lat": 50.0, "lon": 8.0001}],
        "links": [{"source": "a", "target": "b"}],
    }
    topo = read_node_link_json(data)
    assert set(topo.prop_delay_s) == {MIN_PROP_DELAY_S}
    assert any("below the floor" in r for r in topo.meta["rules"])


def test_read_node_link_json_multigraph_merges_parallel_links() -> None:
    data = {
        "directed": False,
        "multigraph": True,
        "nodes": [{"id": "a"}, {"id": "b"}],
        "links": [
            {"source": "a", "target": "b", "capacity_bps": 1e9, "latency_ms": 5.0},
            {"source": "b", "target": "a", "capacity_bps": 2e9, "latency_ms": 3.0},
        ],
    }
    topo = read_node_link_json(data)
    assert len(topo.links) == 2
    for link in topo.links:
        assert link.capacity_bps == 3e9
        assert link.prop_delay_s == pytest.approx(0.003)
    assert any("parallel links merged" in r for r in topo.meta["rules"])


def test_read_node_link_json_self_loops_are_dropped() -> None:
    data = {
        "directed": True,
        "nodes": [{"id": "a"}, {"id": "b"}],
        "links": [{"source": "a", "target": "a"}, {"source": "a", "target": "b"}],
    }
    topo = read_node_link_json(data)
    assert len(topo.links) == 1
    assert any("self-loops dropped" in r for r in topo.meta["rules"])


def test_read_node_link_json_extra_meta_rules_come_first() -> None:
    topo = read_node_link_json(_teal_like(), "t", meta={"source": "here", "rules": ["my rule"]})
    assert topo.meta["source"] == "here"
    assert topo.meta["rules"][0] == "my rule"


def test_read_node_link_json_reads_gzip(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json.gz"
    path.write_bytes(gzip.compress(json.dumps(_teal_like()).encode()))
    topo = read_node_link_json(path)
    assert topo.name == "tiny"
    assert len(topo.links) == 4


def _roundtrip_topology() -> Topology:
    nodes = [Node("x", "X city", 10.5, -20.25), Node("y"), Node("z", "Zed")]
    links = [
        Link("x", "y", 1.2345678901234e10, 1.23456789e-5),  # below the floor: kept exactly, floors only fill
        Link("y", "x", 7e8, 0.0123),
        Link("y", "z", 1e9, 1e-3),
        Link("z", "y", 3.3e9, 2.5e-3),
    ]
    return Topology.from_links("rt", links, nodes, meta={"source": "unit test", "rules": ["r1"], "n": (1, 2)})


@pytest.mark.parametrize("file_name", ["topo.json", "topo.json.gz"])
def test_write_node_link_json_round_trip(tmp_path: Path, file_name: str) -> None:
    topo = _roundtrip_topology()
    path = tmp_path / file_name
    write_node_link_json(topo, path, indent=1)
    back = read_node_link_json(path)
    assert back.name == topo.name
    assert back.nodes == topo.nodes
    assert back.links == topo.links
    assert back.meta["source"] == "unit test"
    assert back.meta["rules"][0] == "r1"
    assert back.meta["n"] == [1, 2]
    assert not list(tmp_path.glob(".topo*"))  # no temporary file left behind


def test_write_node_link_json_missing_folder_raises_topology_error(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir.json"
    with pytest.raises(TopologyError, match=r"dir\.json.*cannot write"):
        write_node_link_json(_roundtrip_topology(), target)


_finite = st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False)


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), _finite, _finite), min_size=1, max_size=12),
)
def test_write_node_link_json_round_trip_property(edges: list[tuple[int, int, float, float]]) -> None:
    links: dict[tuple[str, str], Link] = {}
    for a, b, capacity, delay in edges:
        if a != b:
            links[(str(a), str(b))] = Link(str(a), str(b), capacity, delay)
    if not links:
        return
    topo = Topology.from_links("p", links.values())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.json"
        write_node_link_json(topo, path)
        back = read_node_link_json(path)
    assert back.links == topo.links
    assert back.node_ids == topo.node_ids


# -- malformed files: always a TopologyError that names the file --------------------------------------------
def _links_with(**attrs: Any) -> dict[str, Any]:
    return {
        "directed": True,
        "nodes": [{"id": "a"}, {"id": "b"}],
        "links": [{"source": "a", "target": "b", **attrs}],
    }


MALFORMED: dict[str, tuple[Any, str]] = {
    "bad_json": ("{not json", r"not valid JSON \(line 1"),
    "top_level_list": ([1, 2], "not an object"),
    "no_nodes": ({"links": []}, r'no "nodes" key'),
    "no_links": ({"nodes": [{"id": "a"}]}, r'no "links" or "edges" key'),
    "nodes_not_list": ({"nodes": {"a": 1}, "links": []}, "not a list"),
    "node_without_id": ({"nodes": [{"label": "x"}], "links": []}, r'has no "id"'),
    "node_float_id": ({"nodes": [{"id": 1.5}], "links": []}, "non-empty string or an integer"),
    "duplicate_node": ({"nodes": [{"id": 1}, {"id": "1"}], "links": []}, "appears twice"),
    "link_without_target": ({"nodes": [{"id": "a"}], "links": [{"source": "a"}]}, r'has no "target"'),
    "nan_capacity": (_links_with(capacity=math.nan), r"capacity=nan must be a finite number > 0"),
    "negative_capacity": (_links_with(capacity_bps=-5), r"capacity_bps=-5 must be a finite number > 0"),
    "zero_capacity": (_links_with(capacity=0), r"capacity=0 must be"),
    "text_capacity": (_links_with(capacity="fast"), r"capacity='fast' must be"),
    "bool_capacity": (_links_with(capacity=True), r"capacity=True must be"),
    "negative_latency": (_links_with(latency_ms=-1.0), r"latency_ms=-1.0 must be a finite number >= 0"),
    "infinite_delay": (_links_with(prop_delay_s=math.inf), r"prop_delay_s=inf"),
    "unknown_node": (
        {"directed": True, "nodes": [{"id": "alpha"}], "links": [{"source": "alpha", "target": "alpah"}]},
        r"names node 'alpah'.*Did you mean 'alpha'",
    ),
    "duplicate_link": (
        {
            "directed": True,
            "nodes": [{"id": "a"}, {"id": "b"}],
            "links": [{"source": "a", "target": "b"}] * 2,
        },
        r"appears more than once.*multigraph",
    ),
    "directed_not_bool": (
        {"directed": "yes", "nodes": [], "links": []},
        r'"directed"=\'yes\' must be true or false',
    ),
    "bad_pos": (
        {"nodes": [{"id": "a", "pos": [1.0]}], "links": []},
        r"pos=\[1\.0\] must be \[longitude, latitude\]",
    ),
    "latitude_out_of_range": (
        {"nodes": [{"id": "a", "lat": 95.0, "lon": 0.0}], "links": []},
        "latitude=95.0",
    ),
    "no_nodes_at_all": ({"nodes": [], "links": []}, "has no nodes"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_read_node_link_json_malformed_file_raises_topology_error_naming_file(tmp_path: Path, case: str) -> None:
    content, pattern = MALFORMED[case]
    path = tmp_path / f"{case}.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(TopologyError, match=pattern) as info:
        read_node_link_json(path)
    assert path.name in str(info.value)


def test_read_node_link_json_missing_file_and_bad_gzip(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match=r"missing\.json: topology file does not exist; check the path"):
        read_node_link_json(tmp_path / "missing.json")
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(TopologyError, match=r"broken\.json\.gz: is not a valid gzip file"):
        read_node_link_json(broken)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TopologyError, match=r"binary\.json"):
        read_node_link_json(binary)


def test_read_node_link_json_bad_defaults_raise_topology_error() -> None:
    with pytest.raises(TopologyError, match=r"default_capacity_bps=-1"):
        read_node_link_json(_teal_like(), "t", default_capacity_bps=-1)
    with pytest.raises(TopologyError, match=r"capacity_unit_bps=0"):
        read_node_link_json(_teal_like(), "t", capacity_unit_bps=0)
