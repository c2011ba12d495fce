from __future__ import annotations

from pathlib import Path

import pytest

from cpnkit.errors import TopologyError
from cpnkit.readwrite import DEFAULT_CAPACITY_BPS, DEFAULT_PROP_DELAY_S, great_circle_m, read_sndlib_xml

SNDLIB = """<?xml version="1.0" encoding="ISO-8859-1"?>
<network xmlns="http://sndlib.zib.de/network" version="1.0">
 <networkStructure>
  <nodes coordinatesType="geographical">
   <node id="A"><coordinates><x>-84.38</x><y>33.75</y></coordinates></node>
   <node id="B"><coordinates><x>-87.62</x><y>41.83</y></coordinates></node>
   <node id="C"><coordinates><x>-105.0</x><y>40.75</y></coordinates></node>
  </nodes>
  <links>
   <link id="L1"><source>A</source><target>B</target>
    <preInstalledModule><capacity>9920.0</capacity><cost>0.0</cost></preInstalledModule>
    <additionalModules><addModule><capacity>40000.0</capacity><cost>1.0</cost></addModule></additionalModules>
   </link>
   <link id="L2"><source>C</source><target>B</target>
    <additionalModules>
     <addModule><capacity>2480.0</capacity><cost>1.0</cost></addModule>
     <addModule><capacity>622.0</capacity><cost>1.0</cost></addModule>
    </additionalModules>
   </link>
   <link id="L3"><source>A</source><target>C</target></link>
  </links>
 </networkStructure>
 <demands/>
</network>
"""


def test_read_sndlib_xml_capacities_in_mbps_and_both_directions(tmp_path: Path) -> None:
    path = tmp_path / "tiny.xml"
    path.write_text(SNDLIB, encoding="iso-8859-1")
    topo = read_sndlib_xml(path)
    assert topo.name == "tiny"
    assert topo.node_ids == ("A", "B", "C")
    assert len(topo.links) == 6
    assert topo.links[topo.link_id("A", "B")].capacity_bps == 9.92e9
    assert topo.links[topo.link_id("B", "A")].capacity_bps == 9.92e9
    assert topo.links[topo.link_id("C", "B")].capacity_bps == 622e6  # smallest additional module
    assert topo.links[topo.link_id("A", "C")].capacity_bps == DEFAULT_CAPACITY_BPS  # no module at all
    expected = great_circle_m(33.75, -84.38, 41.83, -87.62) / 2e8
    assert topo.links[topo.link_id("A", "B")].prop_delay_s == pytest.approx(expected)
    assert (topo.nodes[0].latitude, topo.nodes[0].longitude) == (33.75, -84.38)
    rules = " | ".join(topo.meta["rules"])
    assert "smallest additional module (1 link)" in rules
    assert "Mbit/s" in rules
    assert topo.meta["format"] == "sndlib-xml"


def test_read_sndlib_xml_pixel_coordinates_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "pixel.xml"
    path.write_text(SNDLIB.replace('coordinatesType="geographical"', 'coordinatesType="pixel"'))
    topo = read_sndlib_xml(path)
    assert all(node.latitude is None for node in topo.nodes)
    assert set(topo.prop_delay_s) == {DEFAULT_PROP_DELAY_S}


MALFORMED = {
    "wrong_root": ("<graphml/>", r"not SNDlib's <network>"),
    "no_structure": ('<network xmlns="http://sndlib.zib.de/network"/>', r"no <networkStructure>"),
    "nan_capacity": (
        SNDLIB.replace("9920.0", "nan"),
        r"link 'L1' \(A-B\) capacity='nan' must be a finite number > 0",
    ),
    "negative_capacity": (SNDLIB.replace("9920.0", "-3"), r"capacity='-3' must be"),
    "unknown_node": (SNDLIB.replace("<target>B</target>", "<target>Q</target>", 1), r"names node 'Q'"),
    "bad_coordinate": (SNDLIB.replace("<x>-84.38</x>", "<x>west</x>"), r"coordinate 'west' is not a number"),
    "not_xml": ("<network>", r"not well-formed XML"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_read_sndlib_xml_malformed_file_raises_topology_error_naming_file(tmp_path: Path, case: str) -> None:
    text, pattern = MALFORMED[case]
    path = tmp_path / f"{case}.xml"
    path.write_text(text)
    with pytest.raises(TopologyError, match=pattern) as info:
        read_sndlib_xml(path)
    assert path.name in str(info.value)
