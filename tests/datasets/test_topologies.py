from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cpnkit.datasets import (
    NAMED_TOPOLOGIES,
    ROCKETFUEL_REF_BANDWIDTH_BPS,
    list_topologies,
    load_topology,
)
from cpnkit.errors import TopologyError, UnknownTopologyError
from cpnkit.model import Topology
from cpnkit.readwrite import write_node_link_json

EXPECTED_COUNTS = {
    "abilene": (12, 30),
    "ebone": (23, 76),
    "sprintlink": (44, 166),
    "tiscali": (49, 172),
    "uscarrier": (158, 378),
    "kdl": (754, 1790),
    "asn": (1739, 8558),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_COUNTS))
def test_load_topology_named_counts_connectivity_and_positive_values(name: str) -> None:
    topo = load_topology(name)
    assert (len(topo.nodes), len(topo.links)) == EXPECTED_COUNTS[name]
    assert topo.name == name
    assert topo.is_strongly_connected()
    for values in (topo.capacity_bps, topo.prop_delay_s):
        assert np.isfinite(values).all()
        assert (values > 0).all()
    assert all(isinstance(node.id, str) for node in topo.nodes)
    assert topo.meta["rules"], "every named topology records the rules that filled it"
    assert topo.meta["source"]
    assert topo.meta["licence"]


def test_list_topologies_agrees_with_what_loads() -> None:
    listed = list_topologies()
    assert [row["name"] for row in listed] == list(NAMED_TOPOLOGIES) == list(EXPECTED_COUNTS)
    for row in listed:
        topo = load_topology(row["name"])
        assert (row["nodes"], row["links"]) == (len(topo.nodes), len(topo.links))
        assert row["source"]
        assert row["description"]


def test_load_topology_names_are_case_insensitive_and_cached() -> None:
    assert load_topology(" Abilene ") is load_topology("ABILENE") is load_topology("abilene")


def test_load_topology_abilene_has_sndlib_ids_capacities_and_distance_delays() -> None:
    topo = load_topology("abilene")
    assert topo.node_ids[:2] == ("ATLAM5", "ATLAng")
    assert set(topo.capacity_bps) == {9.92e9, 2.48e9}
    assert topo.links[topo.link_id("ATLAng", "IPLSng")].capacity_bps == 2.48e9
    # Los Angeles - Sunnyvale is ~500 km: ~2.5 ms of fibre
    assert 0.002 < topo.links[topo.link_id("LOSAng", "SNVAng")].prop_delay_s < 0.003
    assert all(node.latitude is not None for node in topo.nodes)


def test_load_topology_rocketfuel_capacity_follows_ospf_weights() -> None:
    topo = load_topology("ebone")
    link = topo.links[topo.link_id("London,+UnitedKingdom", "New+York,+NY")]
    # n_router_links = 3, weight_mean = 5.6667, latency_ms_mean = 29 in the bundled file
    assert link.capacity_bps == pytest.approx(3 * ROCKETFUEL_REF_BANDWIDTH_BPS / 5.6667)
    assert link.prop_delay_s == pytest.approx(0.029)
    assert any("weight_mean" in rule for rule in topo.meta["rules"])


@pytest.mark.parametrize(("name", "with_coordinates"), [("uscarrier", 152), ("kdl", 726)])
def test_load_topology_teal_joins_zoo_coordinates(name: str, with_coordinates: int) -> None:
    topo = load_topology(name)
    assert sum(node.latitude is not None for node in topo.nodes) == with_coordinates
    assert any("haversine" in rule for rule in topo.meta["rules"])
    assert topo.capacity_bps.min() >= 50e6  # TEAL capacities in Mbit/s


def test_load_topology_asn_uses_the_documented_default_delay() -> None:
    topo = load_topology("asn")
    assert set(topo.prop_delay_s) == {1e-3}
    assert any("default 1 ms (8558 links)" in rule for rule in topo.meta["rules"])


def test_load_topology_topohub_key_loads_germany50() -> None:
    topo = load_topology("topohub:sndlib/germany50")
    assert topo.name == "topohub:sndlib/germany50"
    assert (len(topo.nodes), len(topo.links)) == (50, 176)
    assert topo.is_strongly_connected()
    assert topo.nodes[0].label == "Aachen"
    assert (topo.prop_delay_s > 0).all()
    assert set(topo.capacity_bps) == {10e9}
    assert load_topology("TopoHub:sndlib/germany50") is topo
    assert any("link length" in rule for rule in topo.meta["rules"])


def test_load_topology_topohub_key_is_matched_case_insensitively() -> None:
    topo = load_topology("topohub:topozoo/abilene")
    assert topo.name == "topohub:topozoo/Abilene"
    assert load_topology("topohub:topozoo/Abilene") is topo


@pytest.mark.parametrize(
    ("spec", "pattern"),
    [
        (
            "topohub:sndlib/germany5",
            r"unknown topohub key 'sndlib/germany5'.*Did you mean 'sndlib/germany50'",
        ),
        ("topohub:../../etc/passwd", r"topohub key '\.\./\.\./etc/passwd' is malformed"),
        ("topohub:", r"malformed"),
    ],
)
def test_load_topology_bad_topohub_key_raises_unknown_topology_error(spec: str, pattern: str) -> None:
    with pytest.raises(UnknownTopologyError, match=pattern):
        load_topology(spec)


def test_load_topology_unknown_name_suggests_close_names_and_other_forms() -> None:
    with pytest.raises(UnknownTopologyError, match=r"unknown topology 'abilen'\. Did you mean 'abilene'\?") as info:
        load_topology("abilen")
    message = str(info.value)
    assert "topohub:" in message
    assert ".graphml" in message
    assert "ebone" in message
    assert isinstance(info.value, KeyError)  # UnknownNameError is also a KeyError


def test_load_topology_missing_path_raises_unknown_topology_error(tmp_path: Path) -> None:
    with pytest.raises(UnknownTopologyError, match=r"There is no file .*nothing\.json"):
        load_topology(str(tmp_path / "nothing.json"))
    with pytest.raises(UnknownTopologyError, match="empty"):
        load_topology("  ")


def test_load_topology_reads_a_file_path(tmp_path: Path) -> None:
    path = tmp_path / "copy.json"
    write_node_link_json(load_topology("ebone"), path)
    from_str = load_topology(str(path))
    from_path = load_topology(path)
    assert isinstance(from_str, Topology)
    assert from_str.links == from_path.links == load_topology("ebone").links
    assert from_str is not from_path  # files are not cached


def test_load_topology_malformed_file_raises_topology_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"nodes": [{"id": "a"}], "links": [{"source": "a", "target": "b"}]}))
    with pytest.raises(TopologyError, match=r"bad\.json"):
        load_topology(str(path))


def test_load_topology_bundled_name_does_not_import_pandas() -> None:
    # The CLI loads a topology on every call; pandas (~0.3 s to import) must stay out of that path.
    code = (
        "import sys, cpnkit.datasets as d; d.load_topology('abilene'); "
        "assert 'pandas' not in sys.modules, 'pandas imported';print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_named_topology_delays_are_plausible() -> None:
    # continental links stay below ~70 ms one way; no link is below the 0.1 ms floor
    for name in EXPECTED_COUNTS:
        delays = load_topology(name).prop_delay_s
        assert delays.min() >= 1e-4 - 1e-15
        assert delays.max() < 0.07
        assert not math.isnan(float(delays.mean()))
