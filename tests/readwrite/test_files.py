from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from cpnkit.errors import TopologyError
from cpnkit.readwrite import TOPOLOGY_SUFFIXES, great_circle_m, read_topology_file

NODE_LINK = {"directed": True, "nodes": [{"id": "a"}, {"id": "b"}], "links": [{"source": "a", "target": "b"}]}
GRAPHML = '<graphml><graph><node id="a"/><node id="b"/><edge source="a" target="b"/></graph></graphml>'
SNDLIB = (
    '<network xmlns="http://sndlib.zib.de/network"><networkStructure>'
    '<nodes><node id="a"/><node id="b"/></nodes>'
    "<links><link id='l'><source>a</source><target>b</target></link></links></networkStructure></network>"
)


@pytest.mark.parametrize(
    ("file_name", "content", "n_links"),
    [
        ("t.json", json.dumps(NODE_LINK), 1),
        ("t.JSON.gz", json.dumps(NODE_LINK), 1),
        ("t.graphml", GRAPHML, 2),
        ("t.graphml.gz", GRAPHML, 2),
        ("t.xml", SNDLIB, 2),
        ("t.xml.gz", SNDLIB, 2),
    ],
)
def test_read_topology_file_dispatches_on_suffix(tmp_path: Path, file_name: str, content: str, n_links: int) -> None:
    path = tmp_path / file_name
    data = content.encode()
    path.write_bytes(gzip.compress(data) if file_name.lower().endswith(".gz") else data)
    topo = read_topology_file(str(path), default_capacity_bps=5e9, default_delay_s=0.002)
    assert len(topo.links) == n_links
    assert set(topo.capacity_bps) == {5e9}
    assert set(topo.prop_delay_s) == {0.002}
    assert topo.name == "t"


def test_read_topology_file_unsupported_suffix_names_file_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "net.gml"
    path.write_text("graph []")
    with pytest.raises(TopologyError, match=r"net\.gml: suffix '\.gml' is not a supported topology format; use one of"):
        read_topology_file(path)
    assert ".graphml" in TOPOLOGY_SUFFIXES


def test_read_topology_file_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match=r"absent\.xml: topology file does not exist"):
        read_topology_file(tmp_path / "absent.xml")
    folder = tmp_path / "folder.json"
    folder.mkdir()
    with pytest.raises(TopologyError, match=r"folder\.json: is a directory"):
        read_topology_file(folder)


def test_great_circle_m_known_distances() -> None:
    assert great_circle_m(10.0, 20.0, 10.0, 20.0) == 0.0
    # a quarter of a meridian: pi/2 * R
    assert great_circle_m(0.0, 0.0, 90.0, 0.0) == pytest.approx(10_007_557.0, rel=1e-6)
    assert great_circle_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(2 * 10_007_557.0, rel=1e-6)
