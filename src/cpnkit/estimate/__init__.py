"""Measurement models: transmission (transport) models and compute-latency predictors (no I/O)."""

from cpnkit.estimate.latency import (
    AdaptivePredictor,
    LatencyPredictor,
    LatencySamples,
    PredictionTable,
    as_arch_indices,
)
from cpnkit.estimate.split import bytes_delivered_by, waterfill_split
from cpnkit.estimate.transport import TransportConfig, TransportModel, last_segment_bits, transfer_time_s, wire_bits

__all__ = [
    "AdaptivePredictor",
    "LatencyPredictor",
    "LatencySamples",
    "PredictionTable",
    "TransportConfig",
    "TransportModel",
    "as_arch_indices",
    "bytes_delivered_by",
    "last_segment_bits",
    "transfer_time_s",
    "waterfill_split",
    "wire_bits",
]
