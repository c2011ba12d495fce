"""The traffic-engineering split of the ``base3``/``base4`` baselines: minimise the maximum link utilisation.

For a demand of ``d`` bit/s over paths ``p_1..p_k`` and current link loads ``L_l`` (capacities ``C_l``), the
linear programme is

    minimise    U + eps * sum_l d * sum_{i: l in p_i} x_i / C_l
    subject to  (L_l + d * sum_{i: l in p_i} x_i) / C_l <= U      for every link l on some path
                sum_i x_i = 1,  x_i >= 0

(the small second term breaks ties between optimal splits towards the one that loads the network least, e.g.
away from longer paths when one shared link sets the maximum). It is solved with HiGHS through ``highspy``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from cpnkit.errors import ConfigError, InfeasibleError
from cpnkit.model import Path

__all__ = ["TIE_BREAK_WEIGHT", "min_max_utilisation_split"]

#: Weight of the total-utilisation tie-break relative to the maximum utilisation.
TIE_BREAK_WEIGHT = 1e-4


def _highs() -> object:
    try:
        import highspy
    except ImportError:  # pragma: no cover - highspy ships with the `lp` extra, part of `all`
        raise ConfigError("the LP baselines need HiGHS: install it with `pip install 'cpnkit[lp]'` (highspy)") from None
    return highspy


def min_max_utilisation_split(
    paths: Sequence[Path],
    demand_bps: float,
    load_bps: Sequence[float] | npt.NDArray[np.float64],
    capacity_bps: Sequence[float] | npt.NDArray[np.float64],
) -> tuple[tuple[float, ...], float]:
    """The split of ``demand_bps`` over ``paths`` that minimises the maximum utilisation of the links they use.

    Args:
        paths: Candidate paths (link ids index ``load_bps`` and ``capacity_bps``).
        demand_bps: The demand to route, in bit/s (> 0).
        load_bps: Current load of every link, in bit/s.
        capacity_bps: Capacity of every link, in bit/s.

    Returns:
        ``(split, max_utilisation)``: shares summing to 1 and the optimal maximum utilisation.

    Raises:
        ConfigError: no paths, or a non-positive demand.
        InfeasibleError: HiGHS found no optimum (it should not: the programme is always feasible).

    >>> from cpnkit.model import Link, Topology
    >>> t = Topology.from_links("two", [Link("s", "a", 10.0, 1e-3), Link("a", "t", 10.0, 1e-3),
    ...                                 Link("s", "b", 10.0, 1e-3), Link("b", "t", 10.0, 1e-3)])
    >>> p = t.k_shortest_paths("s", "t", 2)
    >>> split, u = min_max_utilisation_split(p, 4.0, [0.0, 0.0, 0.0, 0.0], list(t.capacity_bps))
    >>> [round(x, 6) for x in split], round(u, 6)
    ([0.5, 0.5], 0.2)
    """
    if not paths:
        raise ConfigError("no paths to split over; give at least one path")
    if not (math.isfinite(demand_bps) and demand_bps > 0):
        raise ConfigError(f"demand_bps={demand_bps!r} must be finite and > 0")
    k = len(paths)
    if k == 1:
        ids = list(paths[0].link_ids)
        return (1.0,), float(max(((load_bps[i] + demand_bps) / capacity_bps[i] for i in ids), default=0.0))
    links = sorted({lid for p in paths for lid in p.link_ids})
    row = {lid: r for r, lid in enumerate(links)}
    highspy = _highs()
    # columns: x_1..x_k, U ; rows: one per link (d a_li / C_l) x - U <= -L_l / C_l, then sum x = 1
    n_rows = len(links) + 1
    starts, index, value = [0], [], []
    cost = []
    for p in paths:
        tie = 0.0
        for lid in p.link_ids:
            coef = demand_bps / capacity_bps[lid]
            index.append(row[lid])
            value.append(coef)
            tie += coef
        index.append(len(links))
        value.append(1.0)
        starts.append(len(index))
        cost.append(TIE_BREAK_WEIGHT * tie)
    for r in range(len(links)):
        index.append(r)
        value.append(-1.0)
    starts.append(len(index))
    cost.append(1.0)
    inf = highspy.kHighsInf  # type: ignore[attr-defined]
    lp = highspy.HighsLp()  # type: ignore[attr-defined]
    lp.num_col_ = k + 1
    lp.num_row_ = n_rows
    lp.col_cost_ = np.array(cost, dtype=np.float64)
    lp.col_lower_ = np.zeros(k + 1)
    lp.col_upper_ = np.array([1.0] * k + [inf])
    lp.row_lower_ = np.array([-inf] * len(links) + [1.0])
    lp.row_upper_ = np.array([-load_bps[lid] / capacity_bps[lid] for lid in links] + [1.0])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise  # type: ignore[attr-defined]
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=np.float64)
    solver = highspy.Highs()  # type: ignore[attr-defined]
    solver.setOptionValue("output_flag", False)
    solver.passModel(lp)
    solver.run()
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:  # type: ignore[attr-defined]
        raise InfeasibleError(f"HiGHS returned {solver.modelStatusToString(solver.getModelStatus())}")
    values = list(solver.getSolution().col_value)
    shares = [max(0.0, v) for v in values[:k]]
    total = math.fsum(shares)
    split = tuple(s / total for s in shares)
    utilisation = float(
        max(
            (load_bps[lid] + demand_bps * sum(x for x, p in zip(split, paths, strict=True) if lid in p.link_ids))
            / capacity_bps[lid]
            for lid in links
        )
    )
    return split, utilisation
