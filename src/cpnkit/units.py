"""Unit helpers. Inside cpnkit everything is SI: s, bit/s, bytes, W, J, gCO2.

Names carry their unit (``delay_s``, ``capacity_bps``); these helpers convert at the edges.
"""

from __future__ import annotations

__all__ = [
    "BITS_PER_BYTE",
    "LIGHT_IN_FIBRE_M_PER_S",
    "bytes_to_bits",
    "gbps",
    "kb",
    "mb",
    "mbps",
    "ms",
]

BITS_PER_BYTE = 8
#: Signal speed in optical fibre (about 2/3 c), used to derive propagation delay from distance.
LIGHT_IN_FIBRE_M_PER_S = 2.0e8


def ms(value_ms: float) -> float:
    """Milliseconds to seconds.

    >>> ms(1500)
    1.5
    """
    return value_ms / 1e3


def mbps(value_mbps: float) -> float:
    """Mbit/s to bit/s.

    >>> mbps(10)
    10000000.0
    """
    return value_mbps * 1e6


def gbps(value_gbps: float) -> float:
    """Gbit/s to bit/s."""
    return value_gbps * 1e9


def kb(value_kb: float) -> float:
    """Kilobytes (1000 bytes) to bytes."""
    return value_kb * 1e3


def mb(value_mb: float) -> float:
    """Megabytes (10^6 bytes) to bytes."""
    return value_mb * 1e6


def bytes_to_bits(size_bytes: float) -> float:
    """Bytes to bits."""
    return size_bytes * BITS_PER_BYTE
