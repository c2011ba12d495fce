"""Hourly grid carbon intensity and solar generation for 2020 (Germany, Great Britain, France).

Both come from the "Let's Wait Awhile" data set (Wiesner et al., Middleware '21), computed from ENTSO-E
generation data; the bundled files are our hourly means for 2020 (8,784 hours). Times are UTC: the source
does not say, but the series has exactly 8,784 evenly spaced hours with no daylight-saving gap or repeat,
and the solar peak sits at 11:00-12:00 in both January and July, as in UTC (local time would move it an
hour later in summer). These are loaders only; the carbon model lives in ``cpnkit.estimate``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cpnkit.datasets._tables import check_range, read_csv, source_path
from cpnkit.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CARBON_REGIONS", "load_carbon_intensity", "load_solar"]

#: Regions of the carbon-intensity table (column names).
CARBON_REGIONS: tuple[str, ...] = ("DE", "GB", "FR")
_CARBON_FILE = ("energy", "carbon_intensity_hourly_2020_DE_GB_FR.csv")
_SOLAR_FILE = ("energy", "solar_hourly_2020_GB_FR.csv")
_SOLAR_COLUMNS = ("GB_solar_MW", "GB_solar_norm", "FR_solar_MW", "FR_solar_norm")


def load_carbon_intensity(*, path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Hourly average carbon intensity of the electricity grid of Germany, Great Britain and France, 2020.

    Args:
        path: A CSV in the bundled layout (``time``, ``DE``, ``GB``, ``FR``); ``None`` for the bundled file
            (cached; a copy is returned).

    Returns:
        A DataFrame with a UTC ``DatetimeIndex`` named ``time`` (2020-01-01 00:00 - 2020-12-31 23:00, hourly)
        and columns ``DE``, ``GB``, ``FR`` in gCO2eq/kWh (lifecycle factors; means 313, 213 and 56).
        ``frame.attrs["unit"]`` is ``"gCO2/kWh"``.

    Raises:
        DataError: the file is malformed (missing columns, bad or unevenly spaced times, NaN or negative).
    """
    frame = _bundled_carbon() if path is None else _read_hourly(path, _CARBON_FILE, CARBON_REGIONS, "gCO2/kWh")
    return frame.copy()


def load_solar(*, path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Hourly solar generation of Great Britain and France, 2020, also as a 0..1 profile shape.

    Args:
        path: A CSV in the bundled layout; ``None`` for the bundled file (cached; a copy is returned).

    Returns:
        A DataFrame with a UTC ``DatetimeIndex`` named ``time`` (2020, hourly) and columns ``GB_solar_MW``,
        ``FR_solar_MW`` (national generation, MW) and ``GB_solar_norm``, ``FR_solar_norm`` (generation / the
        2020 maximum, 0..1: a PV profile to scale by a site's installed capacity).

    Raises:
        DataError: the file is malformed (missing columns, bad times, NaN, negative, a profile above 1).
    """
    frame = _bundled_solar() if path is None else _read_solar(path)
    return frame.copy()


@functools.cache
def _bundled_carbon() -> pd.DataFrame:
    return _read_hourly(None, _CARBON_FILE, CARBON_REGIONS, "gCO2/kWh")


@functools.cache
def _bundled_solar() -> pd.DataFrame:
    return _read_solar(None)


def _read_solar(path: str | os.PathLike[str] | None) -> pd.DataFrame:
    profiles = [c for c in _SOLAR_COLUMNS if c.endswith("_norm")]
    frame = _read_hourly(path, _SOLAR_FILE, _SOLAR_COLUMNS, "MW", at_most_one=profiles)
    frame.attrs["unit"] = "MW (*_MW), fraction of the 2020 maximum (*_norm)"
    return frame


def _read_hourly(
    path: str | os.PathLike[str] | None,
    bundled: Sequence[str],
    columns: Sequence[str],
    unit: str,
    *,
    at_most_one: Sequence[str] = (),
) -> pd.DataFrame:
    import pandas as pd

    with source_path(path, *bundled) as file:
        frame = read_csv(file, ["time", *columns])
        times = pd.to_datetime(frame["time"], errors="coerce", format="%Y-%m-%d %H:%M:%S")
        if times.isna().any():
            row = int(times.isna().to_numpy().argmax())
            raise DataError(
                f"{file}: time {frame['time'].iloc[row]!r} (row {row}) is not 'YYYY-MM-DD HH:MM:SS'; fix the label"
            )
        steps = times.diff().iloc[1:]
        if len(frame) < 2 or (steps <= pd.Timedelta(0)).any() or steps.nunique() != 1:
            raise DataError(
                f"{file}: times must increase in even steps (hourly for the bundled data); found steps "
                f"{sorted(set(steps.astype(str)))[:3]}; sort the rows and fill or cut gaps"
            )
        check_range(frame, file, columns, unit)
        check_range(frame, file, at_most_one, "(fraction of the maximum)", high=1.0)
        result = frame[list(columns)].astype("float64")
        result.index = pd.DatetimeIndex(times, name="time").tz_localize("UTC")
        result.attrs["unit"] = unit
        result.attrs["source"] = str(file) if path is not None else "Let's Wait Awhile (dos-group) / ENTSO-E, 2020"
    return result
