from __future__ import annotations

import numpy as np
import pytest

from cpnkit.errors import ConfigError
from cpnkit.model import Topology
from cpnkit.perception import ProbeConfig, mm1_mean_wait_s, probe_path


def test_probe_on_idle_path_without_noise_is_propagation(line3: Topology) -> None:
    path = line3.make_path(["a", "b", "c"])
    rng = np.random.default_rng(0)
    quiet = ProbeConfig(timestamp_noise_s=0.0, bandwidth_noise=0.0)
    load = np.zeros(len(line3.links))
    probe = probe_path(path, line3.capacity_bps, load, line3.prop_delay_s, 1.0, rng, quiet)
    assert probe.one_way_delay_s == pytest.approx(2e-3)
    assert probe.available_bps == 1e9
    assert probe.n_probes == 3


def test_probe_delay_grows_with_utilisation(line3: Topology) -> None:
    path = line3.make_path(["a", "b", "c"])
    rng = np.random.default_rng(1)
    config = ProbeConfig(n_probes=200, timestamp_noise_s=0.0, packet_bytes=125_000)  # 1 ms service at 1 Gbit/s
    means = []
    for rho in (0.1, 0.5, 0.9):
        load = np.full(len(line3.links), rho * 1e9)
        probe = probe_path(path, line3.capacity_bps, load, line3.prop_delay_s, 0.0, rng, config)
        means.append(probe.one_way_delay_s - 2e-3)
    expected = [2 * mm1_mean_wait_s(r, 1e9, 125_000) for r in (0.1, 0.5, 0.9)]
    assert means[0] < means[1] < means[2]
    assert means == pytest.approx(expected, rel=0.35)


def test_probe_config_rejects_bad_values() -> None:
    with pytest.raises(ConfigError, match="n_probes=0"):
        ProbeConfig(n_probes=0)
    with pytest.raises(ConfigError, match="timestamp_noise_s"):
        ProbeConfig(timestamp_noise_s=float("nan"))
