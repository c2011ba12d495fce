"""Perception: probes and the measured state a scheduler sees (no I/O)."""

from cpnkit.perception.probes import ProbeConfig, mm1_mean_wait_s, probe_path

__all__ = ["ProbeConfig", "mm1_mean_wait_s", "probe_path"]
