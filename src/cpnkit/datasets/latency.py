"""Measured compute latencies of the NAS-Bench-201 architectures on real devices (HELP, HW-NAS-Bench).

``load_latency_table`` gives the HELP table: 15,625 architectures x 24 device models, in s (the bundled file
is in ms and is converted). Devices: GPUs ``1080ti``, ``2080ti``, ``titan_rtx``, ``titanx``, ``titanxp`` at
batch sizes 1, 32 and 256 (suffix; HELP measured each batch size separately), Xeon CPUs ``gold_6226``,
``gold_6240``, ``silver_4114``, ``silver_4210r``, phones ``pixel3``, ``samsung_a50`` (1 ms resolution),
``raspi4``, and ``eyeriss`` / ``fpga`` (HW-NAS-Bench simulator estimates, not measurements).

Every bundled value is > 0. Degenerate architectures (the cell output cut off by ``none`` operations) have
near-zero latencies on some devices (``pixel3`` 3.3 us, ``raspi4`` 11 us): they are kept as measured. A
table with a zero, negative or missing latency is rejected with a ``DataError``, never filled.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from cpnkit.datasets._tables import check_range, read_csv, source_path
from cpnkit.errors import ConfigError, DataError, UnknownDeviceError, did_you_mean
from cpnkit.model import NB201_ARCHS, LatencyTable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HELP_SOURCE", "load_architectures", "load_hwnasbench", "load_latency_table"]

#: Provenance of the latency table.
HELP_SOURCE = "HELP (HayeonLee/HELP @45f70eb) NAS-Bench-201 latency tables, MIT; ms converted to s"

_LATENCY_FILE = ("latency", "help_nb201_latency_ms.csv.gz")
_ARCH_FILE = ("latency", "nb201_archs.csv.gz")
_HWNAS_FILE = ("latency", "hwnasbench_nb201_cifar10_subset.csv.gz")


def load_latency_table(
    devices: Sequence[str] | None = None, *, path: str | os.PathLike[str] | None = None
) -> LatencyTable:
    """The per-inference latency of every NAS-Bench-201 architecture on each device model, in s.

    Args:
        devices: Device models (columns) to keep, in this order; ``None`` for all 24.
        path: A CSV in the bundled layout (``arch_idx`` then one column per device, in ms, ``.gz``
            allowed); ``None`` for the bundled HELP table (cached).

    Returns:
        A ``LatencyTable`` of shape ``(15625, len(devices))`` in s; row ``i`` is architecture index ``i``.

    Raises:
        UnknownDeviceError: a device is not in the table (the message suggests close names).
        DataError: the file is malformed (missing rows, NaN, zero or negative latencies).
        ConfigError: ``devices`` repeats a device or is empty.
    """
    table = _bundled_table() if path is None else _read_table(path)
    if devices is None:
        return table
    if isinstance(devices, str):
        devices = [devices]
    wanted = list(devices)
    if not wanted:
        raise ConfigError("devices=[] selects no column; pass None for every device, or at least one name")
    if len(set(wanted)) != len(wanted):
        raise ConfigError(f"devices={wanted!r} repeats a device; name each device once")
    for device in wanted:
        if device not in table.devices:
            raise UnknownDeviceError(
                f"device {device!r} is not in the latency table.{did_you_mean(device, table.devices)} "
                f"Known devices: {', '.join(table.devices)}"
            )
    columns = [table.column_index(d) for d in wanted]
    return LatencyTable(tuple(wanted), table.latency_s[:, columns], source=table.source)


@functools.cache
def _bundled_table() -> LatencyTable:
    return _read_table(None)


def _read_table(path: str | os.PathLike[str] | None) -> LatencyTable:
    with source_path(path, *_LATENCY_FILE) as file:
        frame = read_csv(file, ["arch_idx"], index_col="arch_idx")
        devices = [str(c) for c in frame.columns]
        check_range(frame, file, devices, "ms", positive=True)
        _check_arch_index(frame, file)
        latency_ms = frame.to_numpy(dtype=np.float64)
        source = HELP_SOURCE if path is None else f"{file} (ms converted to s)"
    return LatencyTable(tuple(devices), latency_ms / 1e3, source=source)


def load_architectures(*, path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The NAS-Bench-201 architectures: cell string, operations and cost.

    Args:
        path: A CSV in the bundled layout; ``None`` for the bundled table (cached; a copy is returned).

    Returns:
        A DataFrame indexed by ``arch_idx`` (0..15624) with ``arch_str`` (the NAS-Bench-201 cell string),
        the six edge operations ``op_0to1``, ``op_0to2``, ``op_1to2``, ``op_0to3``, ``op_1to3``, ``op_2to3``,
        operation counts ``n_none``, ``n_skip_connect``, ``n_nor_conv_1x1``, ``n_nor_conv_3x3``,
        ``n_avg_pool_3x3``, FLOPs ``flops_M_cifar10``, ``flops_M_cifar100_derived``,
        ``flops_M_ImageNet16-120_derived`` (in millions of FLOPs) and parameters ``params_M_cifar10``,
        ``params_M_cifar100``, ``params_M_ImageNet16-120`` (in millions). See ``data/PROVENANCE.md`` for how
        the cost columns were derived.

    Raises:
        DataError: the file is malformed.
    """
    frame = _bundled_architectures() if path is None else _read_architectures(path)
    return frame.copy()


@functools.cache
def _bundled_architectures() -> pd.DataFrame:
    return _read_architectures(None)


def _read_architectures(path: str | os.PathLike[str] | None) -> pd.DataFrame:
    ops = ["op_0to1", "op_0to2", "op_1to2", "op_0to3", "op_1to3", "op_2to3"]
    with source_path(path, *_ARCH_FILE) as file:
        frame = read_csv(file, ["arch_idx", "arch_str", *ops], index_col="arch_idx")
        _check_arch_index(frame, file)
        numeric = [c for c in frame.columns if c.startswith(("n_", "flops_", "params_"))]
        check_range(frame, file, numeric, "(counts, MFLOPs, M params)")
    return frame


def load_hwnasbench(*, path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """HW-NAS-Bench measurements and estimates for the CIFAR-10 NAS-Bench-201 architectures it covers.

    12,554 of the 15,625 architectures. Latencies in ms, energies in mJ per inference: ``edgegpu_latency``,
    ``edgegpu_energy`` (Jetson TX2, measured), ``raspi4_latency``, ``edgetpu_latency`` (NaN for 3,768
    architectures), ``pixel3_latency`` (measured), ``eyeriss_latency``, ``eyeriss_energy``,
    ``eyeriss_arithmetic_intensity``, ``fpga_latency``, ``fpga_energy`` (simulator estimates), and
    ``nb201_test_acc_cifar10_unverified`` (%, as exported, not cross-checked).

    Args:
        path: A CSV in the bundled layout; ``None`` for the bundled file (cached; a copy is returned).

    Returns:
        A DataFrame indexed by ``arch_idx``; missing values are NaN.

    Raises:
        DataError: the file is malformed (negative or non-numeric values, duplicate architectures).
    """
    frame = _bundled_hwnasbench() if path is None else _read_hwnasbench(path)
    return frame.copy()


@functools.cache
def _bundled_hwnasbench() -> pd.DataFrame:
    return _read_hwnasbench(None)


def _read_hwnasbench(path: str | os.PathLike[str] | None) -> pd.DataFrame:
    with source_path(path, *_HWNAS_FILE) as file:
        frame = read_csv(file, ["arch_idx"], index_col="arch_idx")
        if not frame.index.is_unique or not frame.index.isin(range(NB201_ARCHS)).all():
            raise DataError(
                f"{file}: arch_idx must be unique NAS-Bench-201 indices in [0, {NB201_ARCHS - 1}]; "
                "fix or drop the offending rows"
            )
        check_range(frame, file, [str(c) for c in frame.columns], "(ms, mJ, %)", allow_nan=True)
    return frame


def _check_arch_index(frame: pd.DataFrame, file: os.PathLike[str]) -> None:
    index = frame.index
    if len(index) != NB201_ARCHS or not (index == np.arange(NB201_ARCHS)).all():
        raise DataError(
            f"{file}: has {len(index)} rows with arch_idx {index.min()!r}..{index.max()!r}; "
            f"expected one row per NAS-Bench-201 architecture, arch_idx 0..{NB201_ARCHS - 1} in order"
        )
