"""Domain model: the infrastructure layer's types (no I/O)."""

from cpnkit.model.compute import DEVICE_CLASSES, Device, DeviceClass, Site
from cpnkit.model.decision import SPLIT_TOLERANCE, Decision, Outcome, OutcomeStatus
from cpnkit.model.energy import (
    CARBON_UNITS,
    J_PER_KWH,
    EnergyForecaster,
    EnergySnapshot,
    SiteEnergyState,
    Trace,
    carbon_trace,
    solar_trace,
)
from cpnkit.model.predictor import ArchIndices, LatencyPredictor
from cpnkit.model.snapshot import DeviceTelemetry, GroundTruth, PathProbe, Prober, Snapshot
from cpnkit.model.tables import DEVICE_MODEL_CLASS, LatencyTable, TrafficSeries
from cpnkit.model.task import NB201_ARCHS, Task
from cpnkit.model.topology import Link, Node, Path, PathWeight, Topology

__all__ = [
    "CARBON_UNITS",
    "DEVICE_CLASSES",
    "DEVICE_MODEL_CLASS",
    "J_PER_KWH",
    "NB201_ARCHS",
    "SPLIT_TOLERANCE",
    "ArchIndices",
    "Decision",
    "Device",
    "DeviceClass",
    "DeviceTelemetry",
    "EnergyForecaster",
    "EnergySnapshot",
    "GroundTruth",
    "LatencyPredictor",
    "LatencyTable",
    "Link",
    "Node",
    "Outcome",
    "OutcomeStatus",
    "Path",
    "PathProbe",
    "PathWeight",
    "Prober",
    "Site",
    "SiteEnergyState",
    "Snapshot",
    "Task",
    "Topology",
    "Trace",
    "TrafficSeries",
    "carbon_trace",
    "solar_trace",
]
