"""Domain model: the infrastructure layer's types (no I/O)."""

from cpnkit.model.compute import DEVICE_CLASSES, Device, DeviceClass, Site
from cpnkit.model.decision import SPLIT_TOLERANCE, Decision, Outcome, OutcomeStatus
from cpnkit.model.predictor import ArchIndices, LatencyPredictor
from cpnkit.model.snapshot import DeviceTelemetry, GroundTruth, PathProbe, Prober, Snapshot
from cpnkit.model.tables import DEVICE_MODEL_CLASS, LatencyTable, TrafficSeries
from cpnkit.model.task import NB201_ARCHS, Task
from cpnkit.model.topology import Link, Node, Path, PathWeight, Topology

__all__ = [
    "DEVICE_CLASSES",
    "DEVICE_MODEL_CLASS",
    "NB201_ARCHS",
    "SPLIT_TOLERANCE",
    "ArchIndices",
    "Decision",
    "Device",
    "DeviceClass",
    "DeviceTelemetry",
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
    "Snapshot",
    "Task",
    "Topology",
    "TrafficSeries",
]
