"""Grid regions of sites, and the bundled energy model (carbon, solar, device power) for a scenario.

Bundled carbon-intensity regions: ``DE``, ``GB``, ``FR`` (ENTSO-E 2020 hourly averages, via Let's Wait Awhile)
and ``CAISO-NORTH`` (WattTime's 2023 marginal rate for northern California, 30 days, via Vessim). There are no
full-year traces for any US grid in the bundle, so **US nodes are mapped onto these traces**, documented here
and overridable (``EnergyConfig.regions``):

1. a node whose label names a place (Rocketfuel PoPs: ``"Frankfurt, Germany"``, ``"Chicago, IL"``) gets the
   region of that place: Germany -> DE, the United Kingdom and Ireland -> GB, France -> FR; other European
   countries the bundled grid of a neighbouring market (Netherlands, Denmark, Sweden, Norway, Austria, Czech
   Republic, Slovakia, Switzerland -> DE; Belgium, Italy, Spain -> FR); US states by longitude band as below;
   Asia-Pacific PoPs (Tokyo, Hong Kong, Singapore, Sydney) -> DE (coal-heavy grids);
2. else a node with coordinates: in the Americas (longitude < -30) by band — west of -104 deg (Pacific and
   Mountain) -> CAISO-NORTH, -104..-87 deg (the coal-heavy centre) -> DE, east of -87 deg (gas-heavy east) -> GB;
   in Europe the nearest of London (GB), Paris (FR) and Frankfurt (DE); elsewhere DE;
3. else (``asn``: no labels, no coordinates) regions are dealt round-robin over DE, GB, FR, CAISO-NORTH in node
   order.

So ``abilene``, ``uscarrier`` and ``kdl`` (US) run on European and CAISO traces: their carbon figures show how the
schedulers respond to realistic, heterogeneous grid signals, not the carbon of those US networks.

Time: simulation time 0 is ``EnergyConfig.start`` (a UTC time in 2020) on the DE/GB/FR carbon and GB/FR solar
traces; the CAISO trace and the Vessim PV shapes (Berlin for DE, San Francisco for CAISO-NORTH) start at their
first sample at time 0 (their dates differ; they repeat every 30 / 29 days). Every trace repeats past its end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from cpnkit.datasets.energy import (
    ENERGY_REGIONS,
    load_caiso_carbon,
    load_carbon_intensity,
    load_device_power,
    load_inference_energy,
    load_solar,
    load_vessim_solar,
)
from cpnkit.errors import ConfigError, UnknownNameError, did_you_mean
from cpnkit.estimate import EnergyModel, PueModel
from cpnkit.estimate.energy import DEFAULT_PUE
from cpnkit.model import Site, Topology, Trace, carbon_trace, solar_trace

__all__ = ["EnergyConfig", "assign_regions", "build_energy_model", "default_regions"]

_COUNTRY = {
    "germany": "DE",
    "unitedkingdom": "GB",
    "united kingdom": "GB",
    "ireland": "GB",
    "france": "FR",
    "netherlands": "DE",
    "denmark": "DE",
    "sweden": "DE",
    "norway": "DE",
    "austria": "DE",
    "czechrepublic": "DE",
    "czech republic": "DE",
    "slovakia": "DE",
    "switzerland": "DE",
    "belgium": "FR",
    "italy": "FR",
    "spain": "FR",
    "australia": "DE",
}
_CITY = {
    "london": "GB",
    "manchester": "GB",
    "bracknell": "GB",
    "dublin": "GB",
    "paris": "FR",
    "frankfurt": "DE",
    "amsterdam": "DE",
    "copenhagen": "DE",
    "stockholm": "DE",
    "boston": "GB",
    "tokyo": "DE",
    "hong kong": "DE",
    "singapore": "DE",
}
_US_WEST = {"CA", "WA", "OR", "NV", "AZ", "UT", "ID", "MT", "WY", "CO", "COLORADO", "NM", "HI", "AK"}
_US_CENTRAL = {"TX", "IL", "IN", "MO", "KS", "NE", "OK", "MN", "IA", "WI", "ND", "SD", "AR", "LA", "TN", "KY", "MS"}
_EUROPE = (("GB", 51.51, -0.13), ("FR", 48.86, 2.35), ("DE", 50.11, 8.68))
_ROUND_ROBIN = ("DE", "GB", "FR", "CAISO-NORTH")


def _by_label(label: str) -> str | None:
    parts = [p.strip() for p in label.split(",")]
    if len(parts) >= 2:
        tail = parts[-1]
        if tail.lower() in _COUNTRY:
            return _COUNTRY[tail.lower()]
        if tail.upper() in _US_WEST:
            return "CAISO-NORTH"
        if tail.upper() in _US_CENTRAL:
            return "DE"
        if len(tail) == 2 and tail.isupper():  # another US state or DC: the east
            return "GB"
    return _CITY.get(parts[0].lower())


def _by_coords(lat: float, lon: float) -> str:
    if lon < -30.0:
        return "CAISO-NORTH" if lon < -104.0 else "DE" if lon < -87.0 else "GB"
    if 35.0 <= lat <= 72.0 and lon <= 45.0:
        return min(_EUROPE, key=lambda r: _haversine_km(lat, lon, r[1], r[2]))[0]
    return "DE"


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def default_regions(topology: Topology) -> dict[str, str]:
    """The documented default grid region of every node of ``topology`` (module docstring: the rule).

    Example:
        >>> from cpnkit.datasets import load_topology
        >>> regions = default_regions(load_topology("ebone"))
        >>> regions["London,+UnitedKingdom"], regions["Paris,+France"], regions["Berlin,+Germany"]
        ('GB', 'FR', 'DE')
    """
    out = {}
    for i, node in enumerate(topology.nodes):
        region = _by_label(node.label)
        if region is None and node.latitude is not None and node.longitude is not None:
            region = _by_coords(node.latitude, node.longitude)
        out[node.id] = region or _ROUND_ROBIN[i % len(_ROUND_ROBIN)]
    return out


def assign_regions(sites: tuple[Site, ...], regions: Mapping[str, str]) -> tuple[Site, ...]:
    """``sites`` with ``Site.region`` set from ``regions`` (node -> region); sites not in it keep theirs."""
    return tuple(replace(s, region=regions.get(s.node, s.region)) for s in sites)


@dataclass(frozen=True, slots=True)
class EnergyConfig:
    """Energy settings of a bundled scenario.

    Attributes:
        start: UTC time in 2020 that simulation time 0 stands for on the DE/GB/FR traces (``"2020-06-01"``).
        pv_fraction: On-site PV capacity of each site as a fraction of its peak facility power (PUE x the sum of
            its devices' max power); 0 for none.
        pue: Constant PUE of every site (default: the Uptime Institute 2020 survey average, 1.59).
        forecast: Forecast schedulers see: ``seasonal-naive`` (24 h), ``persistence`` or ``perfect``.
        region: Put every site in this region (``None``: the documented default mapping).
        regions: Node -> region overrides applied after the default mapping (or ``region``).
        report_period_s: How often schedulers' energy snapshot is refreshed, in s.
    """

    start: str = "2020-06-01"
    pv_fraction: float = 0.0
    pue: float = DEFAULT_PUE
    forecast: str = "seasonal-naive"
    region: str | None = None
    regions: Mapping[str, str] | None = None
    report_period_s: float = 300.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.pv_fraction) and self.pv_fraction >= 0):
            raise ConfigError(f"pv_fraction={self.pv_fraction!r} must be finite and >= 0 (1 = PV peak = site peak)")
        for region in [self.region, *(self.regions or {}).values()]:
            if region is not None and region not in ENERGY_REGIONS:
                raise UnknownNameError(
                    f"region {region!r} has no bundled trace.{did_you_mean(region, ENERGY_REGIONS)} "
                    f"Bundled regions: {', '.join(ENERGY_REGIONS)}"
                )
        start_offset_s(self.start)


def start_offset_s(start: str) -> float:
    """Seconds from 2020-01-01 00:00 UTC to ``start`` (which must fall in 2020).

    Raises:
        ConfigError: not a date/time, or outside 2020.

    Example:
        >>> start_offset_s("2020-01-02")
        86400.0
    """
    import pandas as pd

    try:
        when = pd.Timestamp(start)
    except (ValueError, TypeError):
        raise ConfigError(f"start={start!r} is not a date; give e.g. '2020-06-01' or '2020-06-01 12:00'") from None
    offset = (when - pd.Timestamp("2020-01-01")).total_seconds()
    if not (0 <= offset < 366 * 86_400):
        raise ConfigError(f"start={start!r} must fall in 2020 (the DE/GB/FR traces cover 2020 only)")
    return float(offset)


def _traces(start: str) -> tuple[dict[str, Trace], dict[str, Trace]]:
    offset = start_offset_s(start)
    ci = load_carbon_intensity()
    carbon = {
        r: carbon_trace(ci[r].to_numpy(), 3600.0, "gCO2/kWh", r, start_s=-offset, name=f"{r} carbon intensity 2020")
        for r in ("DE", "GB", "FR")
    }
    caiso = load_caiso_carbon()["CAISO_NORTH_lbs_per_MWh"].to_numpy()
    carbon["CAISO-NORTH"] = carbon_trace(caiso, 3600.0, "lbs/MWh", "CAISO-NORTH", name="CAISO North MOER 2023")
    pv = load_solar()
    vessim = load_vessim_solar()
    solar = {
        "GB": solar_trace(pv["GB_solar_norm"].to_numpy(), 3600.0, "GB solar 2020", start_s=-offset),
        "FR": solar_trace(pv["FR_solar_norm"].to_numpy(), 3600.0, "FR solar 2020", start_s=-offset),
        "DE": solar_trace(vessim["Berlin_solar_norm"].to_numpy(), 3600.0, "Berlin PV shape (Vessim)"),
        "CAISO-NORTH": solar_trace(vessim["SanFrancisco_solar_norm"].to_numpy(), 3600.0, "San Francisco PV (Vessim)"),
    }
    return carbon, solar


def build_energy_model(sites: tuple[Site, ...], config: EnergyConfig | None = None) -> EnergyModel:
    """The bundled energy model for ``sites`` (their regions must be set; see ``assign_regions``).

    Device power from ``load_device_power``, measured per-inference energy from HW-NAS-Bench, carbon and solar
    traces of the bundled regions, the default time-of-use tariff, and PV sized by ``config.pv_fraction``.
    """
    config = config or EnergyConfig()
    carbon, solar = _traces(config.start)
    power = load_device_power()
    pv = {}
    if config.pv_fraction > 0:
        for site in sites:
            peak_w = config.pue * sum(power[d.model].max_w for d in site.devices if d.model in power)
            pv[site.node] = config.pv_fraction * peak_w
    return EnergyModel(
        device_power=power,
        carbon=carbon,
        solar=solar,
        pv_capacity_w=pv,
        pue=PueModel(config.pue),
        inference_energy_j=load_inference_energy(),
        report_period_s=config.report_period_s,
        forecast=config.forecast,  # type: ignore[arg-type]
        meta={
            "start": config.start,
            "pv_fraction": config.pv_fraction,
            "pue": config.pue,
            "forecast": config.forecast,
            "carbon": {r: t.name for r, t in carbon.items()},
            "solar": {r: t.name for r, t in solar.items()},
            "regions": {s.node: s.region for s in sites},
        },
    )
