"""Measurement models: transmission (transport) models now; latency predictors and energy models later (no I/O)."""

from cpnkit.estimate.split import bytes_delivered_by, waterfill_split
from cpnkit.estimate.transport import TransportConfig, TransportModel, last_segment_bits, transfer_time_s, wire_bits

__all__ = [
    "TransportConfig",
    "TransportModel",
    "bytes_delivered_by",
    "last_segment_bits",
    "transfer_time_s",
    "waterfill_split",
    "wire_bits",
]
