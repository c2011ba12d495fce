from __future__ import annotations

import math

import pytest

from cpnkit.model import Task
from cpnkit.sim import Scenario
from cpnkit.sim.testing import line_topology, make_scenario


def toy_scenario(n_tasks: int = 400, seed: int = 0) -> Scenario:
    """Line a-b-c-d-e (0.1 ms links); tasks enter at a; sites b..e, slowest near, fastest (1 ms) at e."""
    topology = line_topology(5, capacity_bps=1e9, prop_delay_s=1e-4, name="toy-line5")
    tasks = [
        Task(
            id=i,
            arrival_s=i * 0.05,
            source="a",
            arch_idx=(i * 7919 + seed) % 100,
            input_bytes=1e5 * (1 + i % 3),
            latency_bound_s=math.inf,
        )
        for i in range(n_tasks)
    ]
    # the synthetic model listed first is the fastest (1 ms), so the farthest site gets it
    return make_scenario(topology, ["e", "d", "c", "b"], tasks, models=("m1", "m2", "m3", "m4"), name="toy")


@pytest.fixture(scope="session")
def toy() -> Scenario:
    return toy_scenario()
