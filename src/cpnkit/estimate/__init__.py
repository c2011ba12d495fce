"""Measurement models: transmission (transport) models now; latency predictors and energy models later (no I/O)."""

from cpnkit.estimate.transport import TransportConfig, TransportModel, last_segment_bits, transfer_time_s, wire_bits

__all__ = ["TransportConfig", "TransportModel", "last_segment_bits", "transfer_time_s", "wire_bits"]
