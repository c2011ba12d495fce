from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpnkit.errors import ConfigError
from cpnkit.estimate import TransportConfig, bytes_delivered_by, transfer_time_s, waterfill_split

FLUID = TransportConfig(model="fluid")
TCP = TransportConfig()


def _slowest(
    size: float, split: tuple[float, ...], delays: list[float], rates: list[float], config: TransportConfig
) -> float:
    return max(
        transfer_time_s(size * share, rate, delay, config=config)
        for share, delay, rate in zip(split, delays, rates, strict=True)
        if share > 0
    )


def _grid(n: int, steps: int) -> list[tuple[float, ...]]:
    points = []
    for combo in itertools.product(range(steps + 1), repeat=n - 1):
        if sum(combo) <= steps:
            shares = [c / steps for c in combo]
            points.append((*shares, 1.0 - sum(shares)))
    return points


paths = st.lists(
    st.tuples(st.sampled_from([0.002, 0.005, 0.01, 0.02, 0.04]), st.sampled_from([1e8, 5e8, 1e9, 1e10])),
    min_size=1,
    max_size=3,
)


@given(paths=paths, size=st.sampled_from([1e5, 1e6, 1e7, 5e7]))
def test_waterfill_fluid_equals_brute_force(paths: list[tuple[float, float]], size: float) -> None:
    delays, rates = [p[0] for p in paths], [p[1] for p in paths]
    split, finish = waterfill_split(size, delays, rates, config=FLUID)
    assert sum(split) == pytest.approx(1.0)
    assert min(split) >= 0.0
    assert _slowest(size, split, delays, rates, FLUID) == pytest.approx(finish, rel=1e-9)
    best = min(_slowest(size, s, delays, rates, FLUID) for s in _grid(len(paths), 40))
    assert finish <= best * (1 + 1e-9)


@given(paths=paths, size=st.sampled_from([1e5, 1e6, 1e7]))
def test_waterfill_tcp_no_worse_than_brute_force(paths: list[tuple[float, float]], size: float) -> None:
    delays, rates = [p[0] for p in paths], [p[1] for p in paths]
    split, finish = waterfill_split(size, delays, rates, config=TCP)
    assert sum(split) == pytest.approx(1.0)
    assert _slowest(size, split, delays, rates, TCP) == pytest.approx(finish, rel=1e-9)
    best = min(_slowest(size, s, delays, rates, TCP) for s in _grid(len(paths), 40))
    assert finish <= best * (1 + 1e-9)


def test_tcp_split_shifts_data_off_the_long_path() -> None:
    # 20 MB over a 5 ms and a 20 ms path of 1 Gbit/s: fluid water-filling puts 45% on the long path; under tcp the
    # long path ramps up four times slower, and the tcp-aware split beats the fluid split evaluated under tcp
    delays, rates = [0.005, 0.02], [1e9, 1e9]
    fluid_split, _ = waterfill_split(20e6, delays, rates, config=FLUID)
    tcp_split, tcp_finish = waterfill_split(20e6, delays, rates, config=TCP)
    assert fluid_split[1] == pytest.approx(0.453125)
    assert tcp_split[1] < fluid_split[1] / 2
    assert tcp_finish < _slowest(20e6, fluid_split, delays, rates, TCP)


def test_bytes_delivered_by_inverts_transfer_time() -> None:
    for size in (5e4, 2e5, 3e6, 4e7):
        for config in (FLUID, TCP):
            t = transfer_time_s(size, 1e9, 0.01, config=config)
            assert bytes_delivered_by(t, 1e9, 0.01, config=config) == pytest.approx(size, rel=0.04)
            assert bytes_delivered_by(0.005, 1e9, 0.01, config=config) == 0.0


def test_waterfill_split_rejects_bad_input() -> None:
    with pytest.raises(ConfigError, match="one delay, rate"):
        waterfill_split(1e6, [0.01], [1e9, 1e9])
    with pytest.raises(ConfigError, match="must be finite and > 0"):
        waterfill_split(1e6, [0.01], [0.0])
    with pytest.raises(ConfigError, match="size_bytes"):
        waterfill_split(-1.0, [0.01], [1e9])
