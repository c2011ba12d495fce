from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpnkit.datasets import (
    load_abilene_traffic,
    load_architectures,
    load_carbon_intensity,
    load_hwnasbench,
    load_latency_table,
    load_solar,
    load_topology,
)
from cpnkit.errors import ConfigError, DataError, UnknownDeviceError
from cpnkit.model import DEVICE_MODEL_CLASS, NB201_ARCHS

DATA = Path(__file__).resolve().parents[2] / "src" / "cpnkit" / "datasets" / "data"


# -- latency -------------------------------------------------------------------------------------------------
def test_load_latency_table_shape_devices_and_seconds() -> None:
    table = load_latency_table()
    assert table.latency_s.shape == (NB201_ARCHS, 24)
    assert set(table.devices) == set(DEVICE_MODEL_CLASS)
    with gzip.open(DATA / "latency" / "help_nb201_latency_ms.csv.gz", "rt") as fh:
        header = fh.readline().strip().split(",")
        first = [float(v) for v in fh.readline().strip().split(",")[1:]]
    assert list(table.devices) == header[1:]
    np.testing.assert_allclose(table.latency_s[0], np.array(first) / 1e3)  # ms -> s
    assert table.latency_s.min() > 0  # degenerate archs are near zero on pixel3/raspi4, but positive
    assert table.latency_s.max() < 10.0
    assert table.column("pixel3").min() == pytest.approx(3.27686e-6)
    assert load_latency_table() is table  # cached


def test_load_latency_table_selects_devices_in_order() -> None:
    table = load_latency_table(["raspi4", "1080ti_1"])
    assert table.devices == ("raspi4", "1080ti_1")
    np.testing.assert_array_equal(table.latency_s[:, 1], load_latency_table().column("1080ti_1"))


def test_load_latency_table_unknown_device_suggests_close_names() -> None:
    with pytest.raises(UnknownDeviceError, match=r"device 'raspi' is not in the latency table\. Did you mean 'raspi4'"):
        load_latency_table(["raspi"])


@pytest.mark.parametrize("devices", [[], ["fpga", "fpga"]])
def test_load_latency_table_bad_device_list_raises_config_error(devices: list[str]) -> None:
    with pytest.raises(ConfigError, match="devices="):
        load_latency_table(devices)


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("0,1.0,2.0\n1,0.0,1.0\n", r"column 'a', row 1 is 0\.0; values must be finite numbers > 0 ms"),
        ("0,1.0,2.0\n1,1.0,\n", r"column 'b', row 1 is nan"),
        ("0,1.0,-2.0\n1,1.0,1.0\n", r"column 'b', row 0 is -2\.0"),
    ],
)
def test_load_latency_table_custom_file_rejects_bad_latencies(tmp_path: Path, body: str, pattern: str) -> None:
    path = tmp_path / "lat.csv"
    path.write_text("arch_idx,a,b\n" + body)
    with pytest.raises(DataError, match=r"lat\.csv: " + pattern):
        load_latency_table(path=path)


def test_load_latency_table_custom_file_needs_every_architecture(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("arch_idx,a\n0,1.0\n1,2.0\n")
    with pytest.raises(DataError, match=r"short\.csv: has 2 rows .* arch_idx 0\.\.15624"):
        load_latency_table(path=path)


def test_load_latency_table_missing_custom_file_raises_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"none\.csv: data file does not exist"):
        load_latency_table(path=tmp_path / "none.csv")


# -- architectures / HW-NAS-Bench --------------------------------------------------------------------------
def test_load_architectures_columns_and_cost_range() -> None:
    archs = load_architectures()
    assert archs.shape == (NB201_ARCHS, 18)
    assert archs.index.name == "arch_idx"
    assert (archs.index == np.arange(NB201_ARCHS)).all()
    assert archs.loc[0, "arch_str"].startswith("|avg_pool_3x3~0|")
    assert archs["flops_M_cifar10"].min() == pytest.approx(7.78305)
    assert archs["flops_M_cifar10"].max() == pytest.approx(220.11969, abs=0.01)
    archs.loc[0, "arch_str"] = "changed"
    assert load_architectures().loc[0, "arch_str"] != "changed"  # callers get a copy


def test_load_hwnasbench_subset_with_nan_for_missing() -> None:
    hw = load_hwnasbench()
    assert hw.shape == (12_554, 11)
    assert hw["edgetpu_latency"].isna().sum() == 3_768
    assert (hw["edgegpu_energy"] > 0).all()


# -- traffic ------------------------------------------------------------------------------------------------
def test_load_abilene_traffic_march_block_matches_abilene_topology() -> None:
    series = load_abilene_traffic()
    topo = load_topology("abilene")
    assert series.nodes == topo.node_ids
    assert series.rates_bps.shape == (4032, 12, 12)
    assert series.step_s == 300.0
    assert series.start == "20040301-0000"
    assert (np.diagonal(series.rates_bps, axis1=1, axis2=2) == 0).all()
    frame = pd.read_csv(DATA / "traffic" / "abilene_sndlib_5min_20040301-20040404_mbps.csv.gz", nrows=2)
    i, j = series.nodes.index("ATLAM5"), series.nodes.index("CHINng")
    assert series.rates_bps[1, i, j] == pytest.approx(frame["ATLAM5->CHINng"].iloc[1] * 1e6)  # Mbit/s -> bit/s
    assert load_abilene_traffic() is series


def test_load_abilene_traffic_april_block_and_bad_block() -> None:
    april = load_abilene_traffic("april")
    assert april.rates_bps.shape == (864, 12, 12)
    assert april.start == "20040402-0000"
    with pytest.raises(ConfigError, match=r"block='may' is not one of"):
        load_abilene_traffic("may")  # type: ignore[arg-type]


_TRAFFIC_HEADER = "time,a->b,b->a\n"


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("20040301-0000,1.0,2.0\n20040301-0005,-1.0,2.0\n", r"column 'a->b', row 1 is -1\.0"),
        ("20040301-0000,1.0,2.0\n20040301-0005,,2.0\n", r"column 'a->b', row 1 is nan"),
        ("20040301-0000,1.0,2.0\nyesterday,1.0,2.0\n", r"time 'yesterday' \(row 1\) is not YYYYMMDD-HHMM"),
        ("20040301-0005,1.0,2.0\n20040301-0000,1.0,2.0\n", r"time .20040301-0000. does not increase"),
    ],
)
def test_load_abilene_traffic_custom_file_rejects_bad_rows(tmp_path: Path, body: str, pattern: str) -> None:
    path = tmp_path / "tm.csv"
    path.write_text(_TRAFFIC_HEADER + body)
    with pytest.raises(DataError, match=r"tm\.csv: " + pattern):
        load_abilene_traffic(path=path)


def test_load_abilene_traffic_custom_file_needs_every_od_pair(tmp_path: Path) -> None:
    path = tmp_path / "tm.csv"
    path.write_text("time,a->b,b->c\n20040301-0000,1,2\n")
    with pytest.raises(DataError, match=r"tm\.csv: needs exactly one column per OD pair"):
        load_abilene_traffic(path=path)
    path.write_text("time,a-b\n20040301-0000,1\n")
    with pytest.raises(DataError, match=r"column 'a-b' is not an origin-destination pair"):
        load_abilene_traffic(path=path)


def test_load_abilene_traffic_custom_file_splits_at_gaps(tmp_path: Path) -> None:
    path = tmp_path / "tm.csv"
    path.write_text(_TRAFFIC_HEADER + "20040301-0000,1,2\n20040301-0005,1,2\n20040301-0010,1,2\n20040302-0000,3,4\n")
    assert load_abilene_traffic(path=path).n_steps == 3
    april = load_abilene_traffic("april", path=path)
    assert april.n_steps == 1
    assert april.rates_bps[0, 0, 1] == 3e6


# -- energy -------------------------------------------------------------------------------------------------
def test_load_carbon_intensity_hourly_2020_utc() -> None:
    frame = load_carbon_intensity()
    assert frame.shape == (8784, 3)
    assert list(frame.columns) == ["DE", "GB", "FR"]
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert str(frame.index.tz) == "UTC"
    assert frame.index[0] == pd.Timestamp("2020-01-01 00:00", tz="UTC")
    assert (frame.index[1:] - frame.index[:-1] == pd.Timedelta(hours=1)).all()
    assert frame.mean().round().to_dict() == {"DE": 313.0, "GB": 213.0, "FR": 56.0}
    assert frame.attrs["unit"] == "gCO2/kWh"
    frame.iloc[0, 0] = -5.0
    assert load_carbon_intensity().iloc[0, 0] > 0  # callers get a copy


def test_load_solar_profiles_within_zero_and_one() -> None:
    frame = load_solar()
    assert frame.shape == (8784, 4)
    assert frame["GB_solar_norm"].max() == 1.0
    assert frame["FR_solar_norm"].min() >= 0.0
    assert (frame["GB_solar_MW"] >= 0).all()
    assert str(frame.index.tz) == "UTC"


_CI_HEADER = "time,DE,GB,FR\n"


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (_CI_HEADER + "2020-01-01 00:00:00,1,2,3\n2020-01-01 01:00:00,1,,3\n", r"column 'GB', row 1 is nan"),
        (_CI_HEADER + "2020-01-01 00:00:00,1,2,3\n2020-01-01 01:00:00,1,-2,3\n", r"column 'GB', row 1 is -2"),
        (_CI_HEADER + "2020-01-01 00:00:00,1,2,3\n2020-01-01 01:00:00,1,x,3\n", r"column 'GB', row 1 is 'x'"),
        ("time,DE,GB\n2020-01-01 00:00:00,1,2\n2020-01-01 01:00:00,1,2\n", r"missing column\(s\) \['FR'\]"),
        (
            _CI_HEADER + "2020-01-01 00:00:00,1,2,3\n2020-01-01 03:00:00,1,2,3\n2020-01-01 04:00:00,1,2,3\n",
            "even",
        ),
        (_CI_HEADER + "2020-01-01 00:00:00,1,2,3\nnoon,1,2,3\n", r"time 'noon' \(row 1\)"),
        ("", r"cannot be read as CSV"),
    ],
)
def test_load_carbon_intensity_custom_file_rejects_bad_data(tmp_path: Path, content: str, pattern: str) -> None:
    path = tmp_path / "ci.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=r"ci\.csv: .*" + pattern):
        load_carbon_intensity(path=path)


def test_load_solar_custom_file_rejects_profile_above_one(tmp_path: Path) -> None:
    path = tmp_path / "solar.csv"
    path.write_text(
        "time,GB_solar_MW,GB_solar_norm,FR_solar_MW,FR_solar_norm\n"
        "2020-01-01 00:00:00,0,0,0,0\n2020-01-01 01:00:00,5,1.5,1,0.1\n"
    )
    with pytest.raises(
        DataError, match=r"solar\.csv: column 'GB_solar_norm', row 1 is 1\.5; values must be .*\[0, 1\]"
    ):
        load_solar(path=path)
