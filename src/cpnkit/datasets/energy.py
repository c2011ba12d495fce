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

import numpy as np
import numpy.typing as npt

from cpnkit.datasets._tables import check_range, read_csv, source_path
from cpnkit.datasets.latency import load_hwnasbench
from cpnkit.errors import ConfigError, DataError
from cpnkit.estimate import DevicePower
from cpnkit.model import NB201_ARCHS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CARBON_REGIONS",
    "ENERGY_REGIONS",
    "load_caiso_carbon",
    "load_carbon_intensity",
    "load_device_power",
    "load_inference_energy",
    "load_solar",
    "load_vessim_solar",
]

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


#: Bundled carbon-intensity regions: the three 2020 ENTSO-E series and WattTime's CAISO North sample.
ENERGY_REGIONS: tuple[str, ...] = ("DE", "GB", "FR", "CAISO-NORTH")
_CAISO_FILE = ("energy", "caiso_north_moer_hourly_2023-06-08_2023-07-08.csv")
_VESSIM_SOLAR_FILE = ("energy", "solar_vessim_hourly_berlin_sanfrancisco.csv")
_POWER_FILE = ("energy", "device_power.csv")


def load_caiso_carbon(*, path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """WattTime's CAISO North marginal operating emission rate, 2023-06-08 - 2023-07-08, hourly.

    The Vessim example data set (``dos-group/vessim``) ships it as 5-minute values without a unit; WattTime
    publishes MOER in lbs/MWh, so the bundled file names that unit, and ``carbon_trace(..., unit="lbs/MWh")``
    converts it (x 0.4536 to gCO2/kWh). It is a *marginal* rate of 2023, unlike the 2020 *average* intensities
    of DE/GB/FR: use it as a California-shaped signal, not as a like-for-like comparison.

    Returns:
        A DataFrame with a UTC ``DatetimeIndex`` (744 hours) and column ``CAISO_NORTH_lbs_per_MWh``.

    Raises:
        DataError: the file is malformed.
    """
    return _read_hourly(path, _CAISO_FILE, ("CAISO_NORTH_lbs_per_MWh",), "lbs/MWh").copy()


def load_vessim_solar(*, path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Hourly PV shapes (0..1) of Berlin and San Francisco over 29 days, from the Vessim example data set.

    Hourly means of Vessim's 5-minute normalised PV output; the start date is not stated by the source (the
    series is indexed in seconds from its start), the daily peak sits at 11:00 (Berlin) and 20:00 (San
    Francisco), i.e. local noon in UTC. Used as the PV shape of DE and CAISO-NORTH sites.

    Returns:
        A DataFrame indexed by ``hour`` (0..695) with ``Berlin_solar_norm`` and ``SanFrancisco_solar_norm``.

    Raises:
        DataError: the file is malformed.
    """
    columns = ["Berlin_solar_norm", "SanFrancisco_solar_norm"]
    with source_path(path, *_VESSIM_SOLAR_FILE) as file:
        frame = read_csv(file, ["hour", *columns], index_col="hour")
        check_range(frame, file, columns, "(fraction of the maximum)", high=1.0)
    return frame


def load_device_power(*, path: str | os.PathLike[str] | None = None) -> dict[str, DevicePower]:
    """Idle and maximum power of every bundled device model, with sources (``data/energy/device_power.csv``).

    Maximum power is the specification sheet's board power or TDP where one exists; idle power is, for most
    models, an estimate (the CSV says which). Batch-size variants of a GPU (``1080ti_1``, ``1080ti_32``, ...) share
    their GPU's figures.

    Returns:
        Device model -> ``DevicePower`` for every column of the latency table (and ``edgegpu``).

    Raises:
        DataError: the file is malformed (missing columns, negative power, max below idle).
    """
    with source_path(path, *_POWER_FILE) as file:
        frame = read_csv(file, ["model", "idle_w", "max_w", "max_source", "idle_source"])
        check_range(frame, file, ["idle_w", "max_w"], "W")
        out: dict[str, DevicePower] = {}
        for model, idle_w, max_w, max_source, idle_source in zip(
            frame["model"], frame["idle_w"], frame["max_w"], frame["max_source"], frame["idle_source"], strict=True
        ):
            try:
                power = DevicePower(float(idle_w), float(max_w), f"max: {max_source}; idle: {idle_source}")
            except ConfigError as exc:
                raise DataError(f"{file}: model {model!r}: {exc}") from None
            out[str(model)] = power
    for gpu in ("1080ti", "2080ti", "titan_rtx", "titanx", "titanxp"):
        if gpu in out:
            for batch in (1, 32, 256):
                out[f"{gpu}_{batch}"] = out[gpu]
    return out


def load_inference_energy() -> dict[str, npt.NDArray[np.float64]]:
    """Per-inference energy in J of every NAS-Bench-201 architecture where HW-NAS-Bench has it.

    ``eyeriss`` and ``fpga`` (HW-NAS-Bench simulator estimates, 12,554 architectures; the FPGA estimate is a
    constant 7.0 W x latency) and ``edgegpu`` (Jetson TX2, measured). mJ converted to J; NaN where missing.

    Returns:
        Device model -> array of length 15,625.
    """
    frame = load_hwnasbench()
    out = {}
    for model in ("eyeriss", "fpga", "edgegpu"):
        values = np.full(NB201_ARCHS, np.nan)
        column = frame[f"{model}_energy"]
        values[column.index.to_numpy()] = column.to_numpy(dtype=np.float64) / 1e3
        out[model] = values
    return out
