"""Shared fixtures: tiny named topologies (``line3``, ``diamond4``) and hypothesis profiles."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from cpnkit.model import Link, Topology
from cpnkit.sim.testing import line_topology

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def line3() -> Topology:
    return line_topology(3)


@pytest.fixture
def diamond4() -> Topology:
    links = []
    for u, v, cap in (("s", "x", 1e9), ("s", "y", 5e8), ("x", "t", 1e9), ("y", "t", 5e8)):
        links += [Link(u, v, cap, 1e-3), Link(v, u, cap, 1e-3)]
    return Topology.from_links("diamond4", links)
