from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from cpnkit.errors import TopologyError
from cpnkit.readwrite import DEFAULT_CAPACITY_BPS, great_circle_m, read_graphml

HEADER = """<?xml version="1.0" encoding="utf-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key attr.name="Latitude" attr.type="double" for="node" id="d0" />
  <key attr.name="Longitude" attr.type="double" for="node" id="d1" />
  <key attr.name="label" attr.type="string" for="node" id="d2" />
  <key attr.name="LinkSpeedRaw" attr.type="double" for="edge" id="d3" />
  <key attr.name="Country" attr.type="string" for="node" id="d4"><default>Nowhere</default></key>
"""

ZOO = (
    HEADER
    + """  <graph edgedefault="undirected">
    <node id="0"><data key="d0">52.52</data><data key="d1">13.40</data><data key="d2">Berlin</data></node>
    <node id="1"><data key="d0">48.14</data><data key="d1">11.58</data><data key="d2">Munich</data></node>
    <node id="2"><data key="d2">Nowhere</data></node>
    <edge source="0" target="1"><data key="d3">1000000000.0</data></edge>
    <edge source="1" target="0"><data key="d3">2500000000.0</data></edge>
    <edge source="1" target="2" />
  </graph>
</graphml>
"""
)


def test_read_graphml_topology_zoo_style(tmp_path: Path) -> None:
    path = tmp_path / "Tiny.graphml"
    path.write_text(ZOO)
    topo = read_graphml(path)
    assert topo.name == "Tiny"
    assert topo.node_ids == ("0", "1", "2")
    assert [n.label for n in topo.nodes] == ["Berlin", "Munich", "Nowhere"]
    assert (topo.nodes[0].latitude, topo.nodes[0].longitude) == (52.52, 13.40)
    assert topo.nodes[2].latitude is None
    assert len(topo.links) == 4  # two undirected edge pairs, each direction once
    berlin_munich = topo.links[topo.link_id("0", "1")]
    assert berlin_munich.capacity_bps == 3.5e9  # parallel edges merged: LinkSpeedRaw summed
    assert topo.links[topo.link_id("1", "0")].capacity_bps == 3.5e9
    assert berlin_munich.prop_delay_s == pytest.approx(great_circle_m(52.52, 13.40, 48.14, 11.58) / 2e8)
    # node 2 has no coordinates: its links take the median delay of the others
    assert topo.links[topo.link_id("1", "2")].prop_delay_s == pytest.approx(berlin_munich.prop_delay_s)
    assert topo.links[topo.link_id("1", "2")].capacity_bps == DEFAULT_CAPACITY_BPS
    rules = " | ".join(topo.meta["rules"])
    assert "LinkSpeedRaw" in rules
    assert "parallel links merged" in rules
    assert "median delay" in rules
    assert topo.meta["format"] == "graphml"


def test_read_graphml_directed_and_gzip(tmp_path: Path) -> None:
    text = ZOO.replace('edgedefault="undirected"', 'edgedefault="directed"')
    path = tmp_path / "tiny.graphml.gz"
    path.write_bytes(gzip.compress(text.encode()))
    topo = read_graphml(path, "custom")
    assert topo.name == "custom"
    assert len(topo.links) == 3
    assert topo.links[topo.link_id("0", "1")].capacity_bps == 1e9
    assert topo.links[topo.link_id("1", "0")].capacity_bps == 2.5e9


def test_read_graphml_no_namespace_and_delay_attribute(tmp_path: Path) -> None:
    text = """<graphml>
  <key id="k" for="edge" attr.name="latency_ms" attr.type="double" />
  <graph edgedefault="undirected">
    <node id="a" /><node id="b" />
    <edge source="a" target="b"><data key="k">4.5</data></edge>
  </graph>
</graphml>"""
    path = tmp_path / "plain.graphml"
    path.write_text(text)
    topo = read_graphml(path)
    assert [link.prop_delay_s for link in topo.links] == pytest.approx([0.0045, 0.0045])


MALFORMED = {
    "not_xml": ("<graphml><graph>", r"not well-formed XML \(line"),
    "wrong_root": ("<network/>", r"root element is <network>, not <graphml>"),
    "no_graph": ("<graphml></graphml>", r"has no <graph> element"),
    "unknown_node": (
        HEADER + '<graph><node id="0"/><edge source="0" target="7"/></graph></graphml>',
        r"names node '7'",
    ),
    "nan_speed": (
        HEADER
        + '<graph><node id="0"/><node id="1"/><edge source="0" target="1"><data key="d3">NaN</data></edge>'
        + "</graph></graphml>",
        r"LinkSpeedRaw='NaN' must be a finite number > 0 \(in bit/s\)",
    ),
    "negative_speed": (
        HEADER
        + '<graph><node id="0"/><node id="1"/><edge source="0" target="1"><data key="d3">-1e9</data></edge>'
        + "</graph></graphml>",
        r"LinkSpeedRaw='-1e9' must be",
    ),
    "bad_latitude": (
        HEADER + '<graph><node id="0"><data key="d0">north</data><data key="d1">1</data></node></graph></graphml>',
        r"Latitude='north' must be a finite number of degrees",
    ),
    "node_without_id": (HEADER + "<graph><node/></graph></graphml>", r"a <node> has no id"),
    "edge_without_target": (
        HEADER + '<graph><node id="0"/><edge source="0"/></graph></graphml>',
        "lacks a source",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_read_graphml_malformed_file_raises_topology_error_naming_file(tmp_path: Path, case: str) -> None:
    text, pattern = MALFORMED[case]
    path = tmp_path / f"{case}.graphml"
    path.write_text(text)
    with pytest.raises(TopologyError, match=pattern) as info:
        read_graphml(path)
    assert path.name in str(info.value)


def test_read_graphml_missing_file_raises_topology_error(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match=r"nope\.graphml: topology file does not exist"):
        read_graphml(tmp_path / "nope.graphml")
