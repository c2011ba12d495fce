from __future__ import annotations

from pathlib import Path

import pytest

from cpnkit.datasets import (
    ENERGY_REGIONS,
    NAMED_TOPOLOGIES,
    EnergyConfig,
    ScenarioConfig,
    build_scenario,
    default_regions,
    load_caiso_carbon,
    load_device_power,
    load_latency_table,
    load_topology,
)
from cpnkit.errors import ConfigError, DataError, UnknownNameError


@pytest.mark.parametrize("name", sorted(NAMED_TOPOLOGIES))
def test_default_regions_cover_every_node_of_every_bundled_topology(name: str) -> None:
    topology = load_topology(name)
    regions = default_regions(topology)
    assert set(regions) == set(topology.node_ids)
    assert set(regions.values()) <= set(ENERGY_REGIONS)


def test_default_regions_follow_the_documented_rule() -> None:
    abilene = default_regions(load_topology("abilene"))
    assert abilene["LOSAng"] == "CAISO-NORTH"  # Los Angeles: west of -104 deg
    assert abilene["KSCYng"] == "DE"  # Kansas City: the centre band
    assert abilene["NYCMng"] == "GB"  # New York: the east
    sprint = default_regions(load_topology("sprintlink"))
    assert sprint["Chicago,+IL"] == "DE"
    assert sprint["San+Jose,+CA"] == "CAISO-NORTH"
    assert sprint["Paris"] == "FR"


def test_every_latency_table_device_has_power_figures() -> None:
    power = load_device_power()
    for model in load_latency_table().devices:
        assert power[model].max_w >= power[model].idle_w >= 0
        assert "max:" in power[model].source


def test_energy_config_rejects_unknown_region_and_dates_outside_2020() -> None:
    with pytest.raises(UnknownNameError, match=r"region 'CAISO' has no bundled trace\. Did you mean 'CAISO-NORTH'"):
        EnergyConfig(region="CAISO")
    with pytest.raises(ConfigError, match="must fall in 2020"):
        EnergyConfig(start="2021-03-01")


def test_build_scenario_with_energy_sets_regions_and_deferral() -> None:
    config = ScenarioConfig(
        n_tasks=50,
        energy=EnergyConfig(pv_fraction=0.5, regions={"LOSAng": "FR"}),
        deferrable_fraction=0.5,
        deferrable_window_s=3600.0,
    )
    scenario = build_scenario("abilene", seed=0, config=config)
    assert scenario.energy is not None
    assert all(site.region in ENERGY_REGIONS for site in scenario.sites)
    assert {s.node: s.region for s in scenario.sites}.get("LOSAng", "FR") == "FR"
    assert 0 < sum(1 for t in scenario.tasks if t.deferrable_window_s > 0) < 50
    assert all(cap > 0 for cap in scenario.energy.pv_capacity_w.values())
    plain = build_scenario("abilene", seed=0, config=ScenarioConfig(n_tasks=50))
    assert [t.arch_idx for t in plain.tasks] == [t.arch_idx for t in scenario.tasks]  # same draws as before


def test_trace_files_with_gaps_or_negative_values_are_rejected(tmp_path: Path) -> None:
    gap = tmp_path / "gap.csv"
    gap.write_text(
        "time,CAISO_NORTH_lbs_per_MWh\n2023-06-08 00:00:00,400\n2023-06-08 01:00:00,410\n2023-06-08 03:00:00,420\n"
    )
    with pytest.raises(DataError, match="even steps"):
        load_caiso_carbon(path=gap)
    negative = tmp_path / "neg.csv"
    negative.write_text("time,CAISO_NORTH_lbs_per_MWh\n2023-06-08 00:00:00,400\n2023-06-08 01:00:00,-5\n")
    with pytest.raises(DataError):
        load_caiso_carbon(path=negative)
