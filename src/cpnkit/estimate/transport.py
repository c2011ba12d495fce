"""Transport models: how long a transfer takes, for the simulator and for schedulers' estimators.

Three models, chosen per scenario (``TransportConfig.model``):

``fluid``
    The ideal: a flow sends at its max-min fair share from its first byte; payload only, no headers.

``tcp`` (default)
    TCP slow start over a loss-free path. A flow starts with an initial window ``IW`` (10 segments of
    ``mss_bytes`` = 1448 B payload by default). Each round trip it may send one window; its rate is capped by
    ``window / RTT`` (RTT = forward + reverse propagation, plus M/M/1 queueing at the links' background
    utilisation when the caller supplies it). After each round the window doubles (slow start, one segment per
    segment acknowledged). The cap is dropped for good once the window no longer limits the flow (its max-min
    share is below ``window / RTT``: it has reached its share and then follows the fluid share), and for the final
    round (the remaining bytes fit in the window: they leave as one burst at the share rate instead of being
    spread over a round trip, as a real sender does). Bytes on the wire include ``header_bytes`` per segment
    (TCP/IP with timestamps 52 B + PPP 2 B by default; use 52 + 38 for Ethernet with preamble and gap). The last
    segment also pays store-and-forward serialisation on every hop after the first. The three-way handshake
    (one RTT before the first payload byte) is counted only with ``handshake=True``.

``tcp-queue``
    The simulator plays every flow in the window-and-queue fluid TCP (``cpnkit.sim.fluid_tcp.FluidTcpNetwork``:
    CUBIC windows with HyStart over per-link FIFO fluid queues, time-stepped; validated against ns-3 on the transfer
    suites to a median/max error of 0.3%/17.8%, where ``tcp`` has 0.4%/80.9%), up to ~200x slower to simulate
    (one step of ``tcp_queue_dt_s`` at a time while flows are active). Everything in this module (``wire_bits``,
    ``transfer_time_s``, and so the schedulers' estimates) treats it as ``tcp``: wire bytes with headers and
    slow-start rounds are the closed form that model has.

Known limits (of ``tcp``): no losses, so no fast recovery and no congestion-avoidance sawtooth; no receive-window or
buffer limits; no delayed-ACK effects beyond what doubling per RTT implies; RTT-unfairness between flows that
share a FIFO bottleneck is not modelled (shares are max-min fair); queueing delay is the M/M/1 mean at
the background load, not the queue that slow-start bursts build. Against ns-3 (CUBIC, DropTail queues of
max(1000, 2 x BDP) packets; ``benchmarks/bench_transfers.py``) every single-path and multipath transfer is within
3%, but FIFO sharing effects are missed by up to 81%: short-RTT flows take ~90% of links a long flow also crosses,
a TCP flow takes more than the residual next to constant-rate background while its window grows into the queue,
and a flow that starts behind a standing queue built by a long flow waits for it. ``transfer_time_s`` and
``waterfill_split`` assume a constant share, so they miss the same effects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from cpnkit.errors import ConfigError

__all__ = ["TRANSPORT_MODELS", "TransportConfig", "TransportModel", "last_segment_bits", "transfer_time_s", "wire_bits"]

TransportModel = Literal["fluid", "tcp", "tcp-queue"]
TRANSPORT_MODELS: tuple[str, ...] = ("tcp", "fluid", "tcp-queue")
#: The rest "fits in the window" up to float rounding (a share times a size can land a hair above a boundary).
_FITS = 1.0 + 1e-12


@dataclass(frozen=True, slots=True)
class TransportConfig:
    """Transport model settings.

    Attributes:
        model: ``"tcp"`` (slow start, headers), ``"fluid"`` (ideal) or ``"tcp-queue"`` (the simulator plays CUBIC
            windows over FIFO queues; estimates here use ``tcp``'s closed form).
        mss_bytes: Payload bytes per segment.
        initial_window_segments: Initial congestion window, in segments (RFC 6928: 10).
        header_bytes: Wire bytes added per segment (TCP/IP headers and link framing).
        handshake: Count the three-way handshake (one RTT) before the first payload byte.
    """

    model: TransportModel = "tcp"
    mss_bytes: int = 1448
    initial_window_segments: int = 10
    header_bytes: int = 54
    handshake: bool = False

    def __post_init__(self) -> None:
        if self.model not in TRANSPORT_MODELS:
            raise ConfigError(f"transport model {self.model!r} must be one of {list(TRANSPORT_MODELS)}")
        if not (isinstance(self.mss_bytes, int) and self.mss_bytes > 0):
            raise ConfigError(f"mss_bytes={self.mss_bytes!r} must be a positive integer (1448 for Ethernet)")
        if not (isinstance(self.initial_window_segments, int) and self.initial_window_segments > 0):
            raise ConfigError(f"initial_window_segments={self.initial_window_segments!r} must be a positive integer")
        if not (isinstance(self.header_bytes, int) and self.header_bytes >= 0):
            raise ConfigError(f"header_bytes={self.header_bytes!r} must be an integer >= 0")

    @property
    def is_tcp(self) -> bool:
        """Whether flows are TCP (``tcp`` or ``tcp-queue``): wire bytes carry headers, estimates play slow start."""
        return self.model != "fluid"

    def initial_window_bits(self) -> float:
        """Initial window in wire bits."""
        return float(self.initial_window_segments * (self.mss_bytes + self.header_bytes) * 8)


def wire_bits(payload_bytes: float, config: TransportConfig) -> float:
    """Bits on the wire to carry ``payload_bytes`` (payload only for ``fluid``).

    >>> wire_bits(1448 * 2, TransportConfig())  # two full segments, 54 B overhead each
    24032.0
    >>> wire_bits(1000, TransportConfig(model="fluid"))
    8000.0
    """
    if not config.is_tcp or payload_bytes <= 0:
        return payload_bytes * 8.0
    return (payload_bytes + _segments(payload_bytes, config) * config.header_bytes) * 8.0


def _segments(payload_bytes: float, config: TransportConfig) -> int:
    # a payload a rounding error above a whole number of segments (e.g. a split share times a size) is that number
    return max(1, math.ceil(payload_bytes / config.mss_bytes - 1e-9))


def last_segment_bits(payload_bytes: float, config: TransportConfig) -> float:
    """Wire bits of the last segment of a transfer (what store-and-forward serialises again per hop).

    >>> last_segment_bits(1448 + 100, TransportConfig())  # 100 B payload + 54 B headers
    1232.0
    """
    if not config.is_tcp or payload_bytes <= 0:
        return 0.0
    tail = max(0.0, payload_bytes - (_segments(payload_bytes, config) - 1) * config.mss_bytes)
    return (tail + config.header_bytes) * 8.0


def transfer_time_s(
    payload_bytes: float,
    rate_bps: float,
    one_way_delay_s: float,
    rtt_s: float | None = None,
    config: TransportConfig = TransportConfig(),
    store_forward_s: float = 0.0,
) -> float:
    """Completion time of one flow at a constant share: first payload byte sent to last byte delivered.

    The same rounds the simulator plays, in closed form for a constant ``rate_bps`` (e.g. a probed
    available bandwidth), so schedulers can predict transmission with the simulator's transport model.

    Args:
        payload_bytes: Payload, in bytes (>= 0).
        rate_bps: The flow's share of the bottleneck, in bit/s (> 0).
        one_way_delay_s: One-way delay of the path, in s (propagation + queueing).
        rtt_s: Round-trip time, in s; default ``2 * one_way_delay_s``.
        config: Transport settings.
        store_forward_s: Serialisation of the last segment on the hops after the first, in s (tcp only).

    Returns:
        Seconds from the first payload byte sent (or the SYN, with ``handshake``) to the last byte delivered.

    >>> round(transfer_time_s(1e6, 1e9, 0.01, config=TransportConfig(model="fluid")), 6)  # 8 ms + 10 ms
    0.018
    >>> transfer_time_s(1e6, 1e9, 0.01) > 4 * 0.02  # slow start: several 20 ms round trips
    True
    """
    if not (rate_bps > 0 and math.isfinite(rate_bps)):
        raise ConfigError(f"rate_bps={rate_bps!r} must be finite and > 0")
    if payload_bytes < 0 or not math.isfinite(payload_bytes):
        raise ConfigError(f"payload_bytes={payload_bytes!r} must be finite and >= 0")
    if not config.is_tcp:
        return payload_bytes * 8.0 / rate_bps + one_way_delay_s
    rtt = 2.0 * one_way_delay_s if rtt_s is None else rtt_s
    remaining = wire_bits(payload_bytes, config)
    window = config.initial_window_bits()
    elapsed = rtt if config.handshake else 0.0
    while remaining > 0:
        if remaining <= window * _FITS or window >= rate_bps * rtt:
            elapsed += remaining / rate_bps  # final burst, or the window no longer limits: the fluid share
            break
        remaining -= window  # a window-limited round: one window per round trip
        elapsed += rtt
        window *= 2.0
    return elapsed + one_way_delay_s + store_forward_s
