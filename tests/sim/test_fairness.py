from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpnkit.errors import ConfigError
from cpnkit.sim import max_min_rates
from cpnkit.sim.fairness import share_left_over


def test_max_min_rates_three_flows_two_bottlenecks() -> None:
    # links 0 (cap 1) and 1 (cap 2); f0 on link 0, f1 on links 0+1, f2 on link 1
    # link 0 saturates first: f0 = f1 = 0.5; f2 takes the rest of link 1 = 1.5
    assert max_min_rates([[0], [0, 1], [1]], [1.0, 2.0]) == pytest.approx([0.5, 0.5, 1.5])


def test_max_min_rates_classic_line() -> None:
    # Bertsekas & Gallager's example: links 0..3 of cap 1; a long flow across all, one short flow per link,
    # and an extra flow on link 0. Link 0 (3 flows) saturates at 1/3; the others share the rest.
    flows = [[0, 1, 2, 3], [0], [0], [1], [2], [3]]
    rates = max_min_rates(flows, [1.0, 1.0, 1.0, 1.0])
    assert rates == pytest.approx([1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3])


def test_max_min_rates_single_flow_gets_bottleneck() -> None:
    assert max_min_rates([[0, 1, 2]], [5.0, 2.0, 9.0]) == [2.0]


def test_max_min_rates_empty_and_bad_input() -> None:
    assert max_min_rates([], [1.0]) == []
    with pytest.raises(ConfigError, match="crosses no link"):
        max_min_rates([[0], []], [1.0])


@st.composite
def _instances(draw: st.DrawFn) -> tuple[list[list[int]], list[float]]:
    n_links = draw(st.integers(1, 6))
    caps = draw(st.lists(st.floats(0.1, 100.0), min_size=n_links, max_size=n_links))
    flows = draw(
        st.lists(
            st.lists(st.integers(0, n_links - 1), min_size=1, max_size=n_links, unique=True),
            min_size=1,
            max_size=8,
        )
    )
    return flows, caps


@given(_instances())
def test_max_min_rates_feasible_and_bottlenecked(instance: tuple[list[list[int]], list[float]]) -> None:
    flows, caps = instance
    rates = max_min_rates(flows, caps)
    load = [0.0] * len(caps)
    for f, links in enumerate(flows):
        assert rates[f] > 0
        for link in links:
            load[link] += rates[f]
    for link, cap in enumerate(caps):
        assert load[link] <= cap * (1 + 1e-9)
    # max-min: every flow has a saturated link on which no other flow gets more
    for f, links in enumerate(flows):
        assert any(
            load[link] >= caps[link] * (1 - 1e-9)
            and all(rates[g] <= rates[f] * (1 + 1e-9) for g, other in enumerate(flows) if link in other)
            for link in links
        ), f"flow {f} has no bottleneck"


@st.composite
def _capped_instances(draw: st.DrawFn) -> tuple[list[list[int]], list[float], list[float]]:
    flows, caps = draw(_instances())
    flow_caps = draw(
        st.lists(st.one_of(st.just(float("inf")), st.floats(0.01, 50.0)), min_size=len(flows), max_size=len(flows))
    )
    return flows, caps, flow_caps


@given(_capped_instances())
def test_max_min_rates_with_caps_equals_caps_as_private_links(
    instance: tuple[list[list[int]], list[float], list[float]],
) -> None:
    flows, capacity, caps = instance
    fast = max_min_rates(flows, capacity, caps)
    # reference: each finite cap becomes a private link of that capacity
    extended = list(capacity)
    private = []
    for links, cap in zip(flows, caps, strict=True):
        if cap < float("inf"):
            extended.append(cap)
            private.append([*links, len(extended) - 1])
        else:
            private.append(links)
    assert fast == pytest.approx(max_min_rates(private, extended), rel=1e-9, abs=1e-12)


def test_max_min_rates_private_links_and_sparse_capacity() -> None:
    # links only one flow crosses matter as its bottleneck candidates: the smallest one counts, wherever it is
    flows = [[0, 1, 2, 5], [2, 3, 4], [2, 6]]
    capacity = [9.0, 0.75, 3.0, 5.0, 0.75, 8.0, 1.0]
    assert max_min_rates(flows, capacity) == pytest.approx([0.75, 0.75, 1.0])
    # the capacity may be a mapping holding just the links of these flows (as share_left_over passes it)
    sparse = {link: capacity[link] for links in flows for link in links}
    assert share_left_over(flows, sparse, lambda link: 0.0) == max_min_rates(flows, capacity)
    # a cap below every private link binds; one above them does not
    assert max_min_rates(flows, capacity, [0.5, float("inf"), 2.0]) == pytest.approx([0.5, 0.75, 1.0])
