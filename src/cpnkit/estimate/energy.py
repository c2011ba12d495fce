"""Power, energy, carbon and cost models (DESIGN.md §3, "Energy and carbon"; pure, no I/O).

- A device draws ``idle_w`` always and ``max_w`` while it serves a task (specification values; the bundled ones
  and their sources are in ``cpnkit.datasets.load_device_power``). Where measured per-inference energy exists
  (HW-NAS-Bench: Eyeriss, FPGA) the task's dynamic energy is that energy's mean power above idle times the
  service time.
- A site multiplies IT power by its PUE: a constant, or rising with outside temperature above a reference.
- Network energy = bits x hops x energy per bit per hop.
- Carbon = grid energy x the carbon intensity of the site's region at that time; on-site PV (capacity x solar
  shape) covers the site's load first, so grid energy = max(0, facility energy - PV energy) per interval.
- Cost = grid energy x price(t): a time-of-use tariff or a traced price.

Energies are in J, powers in W, carbon in gCO2, intensities in gCO2/kWh, prices in currency units per kWh.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from cpnkit.errors import ConfigError, DataError, UnknownDeviceError, UnknownNameError, did_you_mean
from cpnkit.model import J_PER_KWH, Site, Trace

__all__ = [
    "DEFAULT_PUE",
    "NETWORK_J_PER_BIT_HOP",
    "DevicePower",
    "EnergyModel",
    "ForecastMethod",
    "PueModel",
    "TimeOfUsePrice",
    "carbon_g",
    "grid_energy_j",
    "network_energy_j",
    "predicted_carbon_g",
    "price_at",
]

#: Average data-centre PUE in the Uptime Institute Global Data Center Survey 2020 (1.59).
DEFAULT_PUE = 1.59
#: Network energy per bit per hop, in J: 10 nJ/bit, the order of magnitude of a core IP router's energy per bit
#: (Baliga, Ayre, Hinton, Tucker, "Green Cloud Computing: Balancing Energy in Processing, Storage, and Transport",
#: Proc. IEEE 99(1), 2011, model routers at about 10 nJ/bit). A marginal figure: attributional averages over
#: whole networks, access included, are 1,000x higher (Aslan et al., J. Industrial Ecology 22(4), 2018: 0.06
#: kWh/GB for 2015, i.e. 27 uJ/bit end to end). Override ``EnergyModel.network_j_per_bit_hop`` to use another.
NETWORK_J_PER_BIT_HOP = 1e-8

ForecastMethod = Literal["persistence", "seasonal-naive", "perfect"]
_FORECASTS = ("persistence", "seasonal-naive", "perfect")


@dataclass(frozen=True, slots=True)
class DevicePower:
    """Power draw of a device model.

    Attributes:
        idle_w: Power drawn when idle, in W (>= 0).
        max_w: Power drawn while serving a task, in W (>= idle_w).
        source: Where the numbers come from.

    Example:
        >>> DevicePower(10.0, 250.0).dynamic_w
        240.0
    """

    idle_w: float
    max_w: float
    source: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.idle_w) and self.idle_w >= 0):
            raise ConfigError(f"idle_w={self.idle_w!r} must be finite and >= 0 W")
        if not (math.isfinite(self.max_w) and self.max_w >= self.idle_w):
            raise ConfigError(
                f"max_w={self.max_w!r} must be finite and >= idle_w={self.idle_w!r} W (a device draws more when busy)"
            )

    @property
    def dynamic_w(self) -> float:
        """Extra power while serving a task (max - idle), in W."""
        return self.max_w - self.idle_w


@dataclass(frozen=True, slots=True)
class PueModel:
    """Power usage effectiveness (facility power / IT power), optionally rising with outside temperature.

    ``pue(T) = base + per_degree_c x max(0, T - ref_temp_c)``: cooling works harder above the reference.

    Attributes:
        base: PUE at or below the reference temperature (>= 1).
        per_degree_c: Increase per degree Celsius above the reference (>= 0; 0 for a constant PUE).
        ref_temp_c: Reference outside temperature, in degrees Celsius.

    Example:
        >>> PueModel(1.2, 0.01, 20.0).at(30.0)
        1.3
    """

    base: float = DEFAULT_PUE
    per_degree_c: float = 0.0
    ref_temp_c: float = 20.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.base) and self.base >= 1.0):
            raise ConfigError(f"PUE base={self.base!r} must be >= 1 (facility power >= IT power); typical 1.1-1.8")
        if not (math.isfinite(self.per_degree_c) and self.per_degree_c >= 0):
            raise ConfigError(f"per_degree_c={self.per_degree_c!r} must be finite and >= 0 (PUE per degree C)")
        if not math.isfinite(self.ref_temp_c):
            raise ConfigError(f"ref_temp_c={self.ref_temp_c!r} must be finite (degrees C)")

    def at(self, temperature_c: float = math.nan) -> float:
        """PUE at outside temperature ``temperature_c`` (``nan``: unknown, the base value)."""
        if math.isnan(temperature_c) or self.per_degree_c == 0.0:
            return self.base
        return round(self.base + self.per_degree_c * max(0.0, temperature_c - self.ref_temp_c), 12)


@dataclass(frozen=True, slots=True)
class TimeOfUsePrice:
    """A two-level time-of-use tariff: ``peak_per_kwh`` from ``peak_start_h`` to ``peak_end_h`` (UTC), else off-peak.

    The defaults are illustrative (0.30 / 0.15 currency units per kWh, peak 08:00-20:00), not a real tariff.

    Example:
        >>> tou = TimeOfUsePrice()
        >>> tou.at(3 * 3600.0), tou.at(12 * 3600.0)
        (0.15, 0.3)
    """

    peak_per_kwh: float = 0.30
    offpeak_per_kwh: float = 0.15
    peak_start_h: float = 8.0
    peak_end_h: float = 20.0

    def __post_init__(self) -> None:
        for name in ("peak_per_kwh", "offpeak_per_kwh"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name}={value!r} must be finite and >= 0 (currency units per kWh)")
        if not (0 <= self.peak_start_h < self.peak_end_h <= 24):
            raise ConfigError(
                f"peak hours [{self.peak_start_h!r}, {self.peak_end_h!r}) must satisfy 0 <= start < end <= 24"
            )

    def at(self, time_s: float) -> float:
        """Price per kWh at simulation time ``time_s`` (time 0 = midnight UTC)."""
        hour = (time_s / 3600.0) % 24.0
        return self.peak_per_kwh if self.peak_start_h <= hour < self.peak_end_h else self.offpeak_per_kwh


def price_at(price: TimeOfUsePrice | Trace, time_s: float) -> float:
    """Price per kWh at ``time_s`` from a tariff or a traced price."""
    return price.at(time_s) if isinstance(price, TimeOfUsePrice) else price.value_at(time_s)


def network_energy_j(bits: float, hops: float, j_per_bit_hop: float = NETWORK_J_PER_BIT_HOP) -> float:
    """Energy of carrying ``bits`` over ``hops`` hops, in J.

    >>> network_energy_j(8e6, 3, 1e-9)
    0.024
    """
    return bits * hops * j_per_bit_hop


def grid_energy_j(load_j: float, pv_j: float) -> float:
    """Energy drawn from the grid when on-site PV (``pv_j``) covers the load (``load_j``) first, in J.

    >>> grid_energy_j(10.0, 4.0), grid_energy_j(10.0, 12.0)
    (6.0, 0.0)
    """
    return max(0.0, load_j - pv_j)


def carbon_g(grid_j: float, intensity_g_per_kwh: float) -> float:
    """Carbon of ``grid_j`` J of grid energy at ``intensity_g_per_kwh``, in gCO2.

    >>> carbon_g(3.6e6, 300.0)
    300.0
    """
    return grid_j / J_PER_KWH * intensity_g_per_kwh


def predicted_carbon_g(energy_j: float, power_w: float, intensity_g_per_kwh: float, pv_surplus_w: float) -> float:
    """Predicted grid carbon of a task drawing ``power_w`` for ``energy_j`` J at a site with ``pv_surplus_w`` spare PV.

    The PV surplus covers that share of the task's power; the rest comes from the grid.

    >>> predicted_carbon_g(3.6e6, 100.0, 300.0, 50.0)
    150.0
    """
    if power_w <= 0.0:
        return 0.0
    grid_share = max(0.0, 1.0 - pv_surplus_w / power_w)
    return carbon_g(energy_j * grid_share, intensity_g_per_kwh)


@dataclass(frozen=True, eq=False)
class EnergyModel:
    """Everything the simulator needs to meter energy, carbon and cost (attach it to a ``Scenario``).

    Attributes:
        device_power: Power of each device model (by model name, e.g. ``"1080ti_1"``).
        carbon: Carbon intensity per region (gCO2/kWh traces; every site's region must be here).
        solar: PV output shape per region (0..1 traces); a region without one gets no PV output.
        pv_capacity_w: Installed PV capacity per site node, in W (absent: none).
        price: Tariff or traced price per region (absent: ``default_price``).
        default_price: Tariff of regions without their own.
        pue: PUE model of every site, or per site node (absent sites get ``PueModel()``).
        temperature_c: Outside temperature per region (traces in degrees C) for a temperature-dependent PUE.
        network_j_per_bit_hop: Network energy per bit per hop, in J.
        inference_energy_j: Measured energy per inference, per device model: an array over architecture
            indices in J (NaN where not measured; those fall back to the power model).
        bin_s: Width of the metering intervals, in s (PV and carbon are settled per interval).
        report_period_s: How often the simulator refreshes the energy snapshot schedulers see, in s.
        forecast: Forecast the snapshot offers schedulers: ``persistence``, ``seasonal-naive`` (same hour
            yesterday; 24 h season) or ``perfect`` (the trace itself: a reference, not a real forecast).
        meta: Provenance (trace sources, region mapping rule).
    """

    device_power: Mapping[str, DevicePower]
    carbon: Mapping[str, Trace]
    solar: Mapping[str, Trace] = field(default_factory=dict)
    pv_capacity_w: Mapping[str, float] = field(default_factory=dict)
    price: Mapping[str, TimeOfUsePrice | Trace] = field(default_factory=dict)
    default_price: TimeOfUsePrice = field(default_factory=TimeOfUsePrice)
    pue: PueModel | Mapping[str, PueModel] = field(default_factory=PueModel)
    temperature_c: Mapping[str, Trace] = field(default_factory=dict)
    network_j_per_bit_hop: float = NETWORK_J_PER_BIT_HOP
    inference_energy_j: Mapping[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    bin_s: float = 3600.0
    report_period_s: float = 300.0
    forecast: ForecastMethod = "seasonal-naive"
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for region, trace in self.carbon.items():
            if trace.unit != "gCO2/kWh":
                raise DataError(
                    f"carbon trace of region {region!r} is in {trace.unit!r}; build it with "
                    "carbon_trace(..., unit=...) so it is converted to gCO2/kWh"
                )
        for region, trace in self.solar.items():
            if trace.unit != "fraction" or float(trace.values.max()) > 1.0 + 1e-9:
                raise DataError(
                    f"solar trace of region {region!r} must be a 0..1 shape (unit 'fraction'), got unit "
                    f"{trace.unit!r}, max {float(trace.values.max())!r}; build it with solar_trace()"
                )
        for node, cap in self.pv_capacity_w.items():
            if not (math.isfinite(cap) and cap >= 0):
                raise ConfigError(f"pv_capacity_w[{node!r}]={cap!r} must be finite and >= 0 W")
        if not (math.isfinite(self.network_j_per_bit_hop) and self.network_j_per_bit_hop >= 0):
            raise ConfigError(f"network_j_per_bit_hop={self.network_j_per_bit_hop!r} must be finite and >= 0 J")
        for name in ("bin_s", "report_period_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name}={value!r} must be finite and > 0 s")
        if self.forecast not in _FORECASTS:
            raise ConfigError(f"forecast={self.forecast!r} must be one of {_FORECASTS}")
        for model, arr in self.inference_energy_j.items():
            values = np.asarray(arr, dtype=np.float64)
            if values.ndim != 1 or bool((values[np.isfinite(values)] < 0).any()):
                raise DataError(
                    f"inference_energy_j[{model!r}] must be a 1-D array of J per architecture, >= 0 (NaN: unknown)"
                )

    def pue_of(self, node: str) -> PueModel:
        """The PUE model of site ``node``."""
        if isinstance(self.pue, PueModel):
            return self.pue
        return self.pue.get(node, PueModel())

    def price_of(self, region: str) -> TimeOfUsePrice | Trace:
        """The tariff or price trace of ``region``."""
        return self.price.get(region, self.default_price)

    def power_of(self, model: str) -> DevicePower:
        """The power of device model ``model``.

        Raises:
            UnknownDeviceError: no power is known for the model.
        """
        power = self.device_power.get(model)
        if power is None:
            raise UnknownDeviceError(
                f"no power figures for device model {model!r}.{did_you_mean(model, self.device_power)} "
                "Add DevicePower(idle_w, max_w) for it to EnergyModel.device_power"
            )
        return power

    def check_sites(self, sites: tuple[Site, ...]) -> None:
        """Check that every site's region has a carbon trace and every device model a power figure.

        Raises:
            UnknownNameError: a site has no region, or a region without a carbon trace.
            UnknownDeviceError: a device model without power figures.
        """
        for site in sites:
            if site.region not in self.carbon:
                raise UnknownNameError(
                    f"site {site.node!r} is in region {site.region!r}, which has no carbon-intensity trace."
                    f"{did_you_mean(site.region, self.carbon)} Regions with traces: {sorted(self.carbon)}; "
                    "set Site.region to one of them or add a trace"
                )
            for device in site.devices:
                self.power_of(device.model)
