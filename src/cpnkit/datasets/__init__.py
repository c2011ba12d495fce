"""Bundled real data sets by name: topologies, device latency tables, traffic matrices, carbon and solar.

Every file lives in ``cpnkit/datasets/data`` (package data; ``data/PROVENANCE.md`` gives each file's origin,
commit, licence and the derivations applied) and is found with ``importlib.resources``. Loaders convert to
SI units at the edge (ms -> s, Mbit/s -> bit/s), validate with ``DataError``/``TopologyError`` naming the
file, and cache what they return (domain objects are immutable; DataFrames are returned as copies).
pandas is imported only by the loaders that return DataFrames, so ``load_topology`` stays fast.

``build_scenario`` (``cpnkit.datasets.scenarios``) turns these into the named ``paper`` scenario.
"""

from cpnkit.datasets.energy import (
    CARBON_REGIONS,
    ENERGY_REGIONS,
    load_caiso_carbon,
    load_carbon_intensity,
    load_device_power,
    load_inference_energy,
    load_solar,
    load_vessim_solar,
)
from cpnkit.datasets.latency import HELP_SOURCE, load_architectures, load_hwnasbench, load_latency_table
from cpnkit.datasets.predictors import SCENARIO_PREDICTORS, scenario_predictor
from cpnkit.datasets.regions import EnergyConfig, assign_regions, build_energy_model, default_regions
from cpnkit.datasets.scenarios import PAPER_DEVICE_POOL, ScenarioConfig, build_scenario
from cpnkit.datasets.topologies import (
    NAMED_TOPOLOGIES,
    ROCKETFUEL_REF_BANDWIDTH_BPS,
    TEAL_CAPACITY_UNIT_BPS,
    TOPOHUB_PREFIX,
    TopologyInfo,
    list_topologies,
    load_topology,
)
from cpnkit.datasets.traffic import ABILENE_TRAFFIC_BLOCKS, ABILENE_TRAFFIC_STEP_S, load_abilene_traffic

__all__ = [
    "ABILENE_TRAFFIC_BLOCKS",
    "ABILENE_TRAFFIC_STEP_S",
    "CARBON_REGIONS",
    "ENERGY_REGIONS",
    "HELP_SOURCE",
    "NAMED_TOPOLOGIES",
    "PAPER_DEVICE_POOL",
    "ROCKETFUEL_REF_BANDWIDTH_BPS",
    "SCENARIO_PREDICTORS",
    "TEAL_CAPACITY_UNIT_BPS",
    "TOPOHUB_PREFIX",
    "EnergyConfig",
    "ScenarioConfig",
    "TopologyInfo",
    "assign_regions",
    "build_energy_model",
    "build_scenario",
    "default_regions",
    "list_topologies",
    "load_abilene_traffic",
    "load_architectures",
    "load_caiso_carbon",
    "load_carbon_intensity",
    "load_device_power",
    "load_hwnasbench",
    "load_inference_energy",
    "load_latency_table",
    "load_solar",
    "load_topology",
    "load_vessim_solar",
    "scenario_predictor",
]
