"""Measurement models: transmission (transport) models and compute-latency predictors (no I/O)."""

from cpnkit.estimate.energy import (
    DEFAULT_PUE,
    NETWORK_J_PER_BIT_HOP,
    DevicePower,
    EnergyModel,
    ForecastMethod,
    PueModel,
    TimeOfUsePrice,
    carbon_g,
    grid_energy_j,
    network_energy_j,
    predicted_carbon_g,
    price_at,
)
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
    "DEFAULT_PUE",
    "NETWORK_J_PER_BIT_HOP",
    "PREDICTOR_IDS",
    "AdaptivePredictor",
    "ArchEncodings",
    "DevicePower",
    "EnergyModel",
    "ForecastMethod",
    "LatencyPredictor",
    "LatencySamples",
    "PredictionTable",
    "PueModel",
    "TimeOfUsePrice",
    "TransportConfig",
    "TransportModel",
    "as_arch_indices",
    "bytes_delivered_by",
    "carbon_g",
    "decode_cell",
    "encode_cell",
    "grid_energy_j",
    "last_segment_bits",
    "make_predictor",
    "network_energy_j",
    "predicted_carbon_g",
    "price_at",
    "transfer_time_s",
    "waterfill_split",
    "wire_bits",
]
