"""The real Abilene traffic matrices (SNDlib "abilene-zhang", Yin Zhang's 5-minute series), in bit/s.

The bundled file holds 2004-03-01 00:00 - 2004-03-14 23:55 (two whole weeks, 4,032 matrices: the Abilene
``X01``/``X02`` weeks) and 2004-04-02 00:00 - 2004-04-04 23:55 (3 days, 864 matrices), with an 18-day gap in
between. A ``TrafficSeries`` has a fixed step, so the two blocks are never joined: ``block="march"`` (the
default) returns the two-week block, ``block="april"`` the 3-day one. Nothing is interpolated.

Node ids are the SNDlib ids of the ``abilene`` topology (``ATLAM5``, ``ATLAng``, ..., ``WASHng``), in the same
order; OD pairs the source lacks were written as 0 by the converter, and the diagonal is 0.
"""

from __future__ import annotations

import functools
import os
from typing import Literal

import numpy as np

from cpnkit.datasets._tables import check_range, read_csv, source_path
from cpnkit.errors import ConfigError, DataError
from cpnkit.model import TrafficSeries

__all__ = ["ABILENE_TRAFFIC_BLOCKS", "ABILENE_TRAFFIC_STEP_S", "load_abilene_traffic"]

#: Time between consecutive matrices, in s.
ABILENE_TRAFFIC_STEP_S = 300.0
#: Contiguous blocks of the series: ``march`` (the first, two weeks) and ``april`` (the last, three days).
ABILENE_TRAFFIC_BLOCKS: tuple[str, ...] = ("march", "april")
_TRAFFIC_FILE = ("traffic", "abilene_sndlib_5min_20040301-20040404_mbps.csv.gz")
_TIME_FORMAT = "%Y%m%d-%H%M"


def load_abilene_traffic(
    block: Literal["march", "april"] = "march", *, path: str | os.PathLike[str] | None = None
) -> TrafficSeries:
    """The Abilene origin-destination demand series, one 12 x 12 matrix every 5 minutes, in bit/s.

    Args:
        block: ``"march"``: the first contiguous block (2004-03-01 - 03-14, 4,032 steps); ``"april"``: the
            last (2004-04-02 - 04-04, 864 steps).
        path: A CSV in the bundled layout (``time`` as ``YYYYMMDD-HHMM``, then ``SRC->DST`` columns in Mbit/s,
            ``.gz`` allowed); ``None`` for the bundled file (cached).

    Returns:
        A ``TrafficSeries`` with ``step_s`` = 300 and ``rates_bps[t, i, j]`` = demand from ``nodes[i]`` to
        ``nodes[j]`` in bit/s; ``start`` is the first time label.

    Raises:
        ConfigError: ``block`` is not ``"march"`` or ``"april"``.
        DataError: the file is malformed (bad times, missing OD columns, NaN or negative demand, a step other
            than 5 minutes inside a block).
    """
    if block not in ABILENE_TRAFFIC_BLOCKS:
        raise ConfigError(f"block={block!r} is not one of {ABILENE_TRAFFIC_BLOCKS}; pick 'march' or 'april'")
    return _bundled(block) if path is None else _read(block, path)


@functools.cache
def _bundled(block: str) -> TrafficSeries:
    return _read(block, None)


def _read(block: str, path: str | os.PathLike[str] | None) -> TrafficSeries:
    import pandas as pd

    with source_path(path, *_TRAFFIC_FILE) as file:
        frame = read_csv(file, ["time"], dtype={"time": str})
        od_columns = [str(c) for c in frame.columns if c != "time"]
        pairs: list[tuple[str, str]] = []
        for column in od_columns:
            src, sep, dst = column.partition("->")
            if not sep or not src or not dst or src == dst:
                raise DataError(
                    f"{file}: column {column!r} is not an origin-destination pair 'SRC->DST' of two "
                    "distinct nodes; rename or drop it"
                )
            pairs.append((src, dst))
        nodes = list(dict.fromkeys(n for pair in pairs for n in pair))
        expected = {(a, b) for a in nodes for b in nodes if a != b}
        missing = sorted(expected - set(pairs))
        if missing or len(pairs) != len(set(pairs)):
            raise DataError(
                f"{file}: needs exactly one column per OD pair of its {len(nodes)} nodes; missing "
                f"{['->'.join(p) for p in missing[:5]]}{' ...' if len(missing) > 5 else ''} "
                "or duplicated columns"
            )
        check_range(frame, file, od_columns, "Mbit/s")
        times = pd.to_datetime(frame["time"], format=_TIME_FORMAT, errors="coerce")
        if times.isna().any():
            row = int(times.isna().to_numpy().argmax())
            raise DataError(
                f"{file}: time {frame['time'].iloc[row]!r} (row {row}) is not YYYYMMDD-HHMM; fix the time label"
            )
        steps_s = times.diff().dt.total_seconds().to_numpy()[1:]
        if (steps_s <= 0).any():
            row = int((steps_s <= 0).argmax()) + 1
            raise DataError(f"{file}: time {frame['time'].iloc[row]!r} does not increase; sort the rows by time")
        # Contiguous blocks: split wherever the step is not 5 minutes (the bundled file has one 18-day gap).
        breaks = np.flatnonzero(steps_s != ABILENE_TRAFFIC_STEP_S) + 1
        bounds = [0, *breaks.tolist(), len(frame)]
        first, last = (bounds[0], bounds[1]), (bounds[-2], bounds[-1])
        lo, hi = first if block == "march" else last
        index = {n: i for i, n in enumerate(nodes)}
        rates = np.zeros((hi - lo, len(nodes), len(nodes)), dtype=np.float64)
        values = frame[od_columns].to_numpy(dtype=np.float64)[lo:hi] * 1e6  # Mbit/s -> bit/s
        rows = [index[a] for a, _ in pairs]
        cols = [index[b] for _, b in pairs]
        rates[:, rows, cols] = values
        start = str(frame["time"].iloc[lo])
    return TrafficSeries(tuple(nodes), rates, step_s=ABILENE_TRAFFIC_STEP_S, start=start)
