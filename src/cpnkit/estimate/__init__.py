"""Measurement models: transmission (transport) models and compute-latency predictors (no I/O)."""

from cpnkit.estimate.latency import (
    AdaptivePredictor,
    LatencyPredictor,
    LatencySamples,
    PredictionTable,
    as_arch_indices,
)
from cpnkit.estimate.predictors import (
    PREDICTOR_IDS,
    ArchEncodings,
    decode_cell,
    encode_cell,
    make_predictor,
)
from cpnkit.estimate.split import bytes_delivered_by, waterfill_split
from cpnkit.estimate.transport import TransportConfig, TransportModel, last_segment_bits, transfer_time_s, wire_bits

__all__ = [
    "PREDICTOR_IDS",
    "AdaptivePredictor",
    "ArchEncodings",
    "LatencyPredictor",
    "LatencySamples",
    "PredictionTable",
    "TransportConfig",
    "TransportModel",
    "as_arch_indices",
    "bytes_delivered_by",
    "decode_cell",
    "encode_cell",
    "last_segment_bits",
    "make_predictor",
    "transfer_time_s",
    "waterfill_split",
    "wire_bits",
]
