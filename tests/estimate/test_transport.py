from __future__ import annotations

import pytest

from cpnkit.errors import ConfigError
from cpnkit.estimate import TransportConfig, transfer_time_s, wire_bits

TCP = TransportConfig()
FLUID = TransportConfig(model="fluid")


def test_transfer_time_fluid_is_size_over_rate_plus_delay() -> None:
    assert transfer_time_s(1e6, 1e8, 0.02, config=FLUID) == pytest.approx(0.08 + 0.02)


def test_transfer_time_tcp_small_transfer_takes_several_round_trips() -> None:
    # 100 KB on a 40 ms RTT path at 1 Gbit/s: windows of 10, 20, 40 segments -> 3 rounds
    t = transfer_time_s(100e3, 1e9, 0.02)
    assert 2 * 0.04 + 0.02 < t < 2 * 0.04 + 0.02 + 0.001
    assert t > 4 * transfer_time_s(100e3, 1e9, 0.02, config=FLUID)


def test_transfer_time_tcp_tends_to_fluid_for_large_transfers() -> None:
    no_headers = TransportConfig(header_bytes=0)
    ratio = transfer_time_s(50e9, 1e9, 0.02, config=no_headers) / transfer_time_s(50e9, 1e9, 0.02, config=FLUID)
    assert ratio == pytest.approx(1.0, rel=2e-3)
    with_headers = transfer_time_s(50e9, 1e9, 0.02) / transfer_time_s(50e9, 1e9, 0.02, config=FLUID)
    assert with_headers == pytest.approx(1 + 54 / 1448, rel=3e-3)


def test_transfer_time_handshake_adds_one_rtt() -> None:
    base = transfer_time_s(1e6, 1e9, 0.01)
    assert transfer_time_s(1e6, 1e9, 0.01, config=TransportConfig(handshake=True)) == pytest.approx(base + 0.02)


def test_wire_bits_counts_headers_per_segment() -> None:
    assert wire_bits(1449, TCP) == (1449 + 2 * 54) * 8
    assert wire_bits(0, TCP) == 0.0


def test_transport_config_rejects_bad_values() -> None:
    with pytest.raises(ConfigError, match="'quic'"):
        TransportConfig(model="quic")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="mss_bytes"):
        TransportConfig(mss_bytes=0)
    with pytest.raises(ConfigError, match="rate_bps"):
        transfer_time_s(1e6, 0.0, 0.01)
