"""Energy, carbon and cost accounting for the simulator (DESIGN.md §3, "Energy and carbon"; no I/O).

The meter is cheap by construction: per event it adds a few floats. A task's network energy (its bits x hops x
energy per bit per hop, input over the decided split and the result back on the shortest path) is booked when
it is dispatched; its dynamic device energy (power above idle x service time, or the measured per-inference
energy's mean power above idle x service time) when its service starts, in the metering interval (``bin_s``,
an hour by default) the service starts in. Idle power is integrated in closed form per site when the run ends.

Settlement, per site and interval: facility energy = PUE x (idle + dynamic IT energy); PV produces capacity x
solar shape x interval and covers the facility load first; grid energy = max(0, facility - PV); carbon = grid
energy x the region's intensity; cost = grid energy x price. A task's carbon and cost are its facility energy's
pro-rata share of its interval's grid energy (the interval's grid / facility ratio), plus its network energy at
the region's intensity and price (network gear has no PV). Energy is conserved: the tasks' energy plus the sites'
idle facility energy equals the metered total (``EnergyReport.total_j``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cpnkit.estimate import EnergyModel, price_at
from cpnkit.model import (
    J_PER_KWH,
    Decision,
    EnergySnapshot,
    LatencyTable,
    Outcome,
    Site,
    SiteEnergyState,
    Task,
    Topology,
    Trace,
)
from cpnkit.perception import TraceForecaster

__all__ = ["EnergyMeter", "EnergyReport", "SiteEnergy"]


@dataclass(frozen=True, slots=True)
class SiteEnergy:
    """Metered energy of one site over a run (energies in J, carbon in gCO2, cost in currency units).

    Attributes:
        node: Site node id.
        region: Grid region.
        idle_j: Facility energy of idle power (PUE included).
        dynamic_j: Facility energy of serving tasks (PUE included).
        network_j: Network energy of the tasks sent to this site.
        pv_j: PV energy produced on site.
        pv_used_j: PV energy that covered the site's load.
        grid_j: Grid energy (facility beyond PV, plus network).
        carbon_g: Grid carbon.
        cost: Grid energy cost.
    """

    node: str
    region: str
    idle_j: float
    dynamic_j: float
    network_j: float
    pv_j: float
    pv_used_j: float
    grid_j: float
    carbon_g: float
    cost: float

    @property
    def total_j(self) -> float:
        """Facility plus network energy, in J."""
        return self.idle_j + self.dynamic_j + self.network_j


@dataclass(frozen=True, eq=False)
class EnergyReport:
    """Energy, carbon and cost of a run, per site and per metering interval.

    Attributes:
        sites: Per-site totals.
        bin_s: Width of the metering intervals, in s.
        bin_start_s: Start of each interval, in s.
        energy_j_per_bin: Facility + network energy of all sites per interval, in J.
        grid_j_per_bin: Grid energy of all sites per interval, in J.
        carbon_g_per_bin: Carbon of all sites per interval, in gCO2.
        end_s: End of the metered horizon, in s (the run's last event).
    """

    sites: tuple[SiteEnergy, ...]
    bin_s: float
    bin_start_s: npt.NDArray[np.float64]
    energy_j_per_bin: npt.NDArray[np.float64]
    grid_j_per_bin: npt.NDArray[np.float64]
    carbon_g_per_bin: npt.NDArray[np.float64]
    end_s: float
    meta: Mapping[str, Any] = field(default_factory=dict)

    def _sum(self, name: str) -> float:
        return math.fsum(getattr(s, name) for s in self.sites)

    @property
    def total_j(self) -> float:
        """Metered total: facility energy of every site plus network energy, in J."""
        return self._sum("total_j")

    @property
    def idle_j(self) -> float:
        """Idle facility energy of every site, in J."""
        return self._sum("idle_j")

    @property
    def carbon_g(self) -> float:
        """Total grid carbon, in gCO2."""
        return self._sum("carbon_g")

    @property
    def cost(self) -> float:
        """Total grid energy cost, in currency units."""
        return self._sum("cost")

    def summary(self) -> dict[str, float]:
        """Totals: energy (J), its idle, dynamic and network parts, PV used, grid energy, carbon and cost."""
        return {
            "energy_j": self.total_j,
            "idle_j": self.idle_j,
            "dynamic_j": self._sum("dynamic_j"),
            "network_j": self._sum("network_j"),
            "pv_used_j": self._sum("pv_used_j"),
            "grid_j": self._sum("grid_j"),
            "carbon_g": self.carbon_g,
            "cost": self.cost,
        }


class EnergyMeter:
    """Books the energy of a run as it happens and settles carbon and cost at the end (module docstring).

    Args:
        model: Power, PUE, traces, PV and prices.
        sites: The scenario's sites (every region needs a carbon trace; every model a power figure).
        topology: The network (hop counts of the result's return path).
        latency_table: Measured latencies (to turn measured per-inference energy into a mean power).
    """

    def __init__(self, model: EnergyModel, sites: Sequence[Site], topology: Topology, latency_table: LatencyTable):
        model.check_sites(tuple(sites))
        self.model = model
        self._topology = topology
        self._sites = tuple(sites)
        self._site_index = {s.node: i for i, s in enumerate(self._sites)}
        self._bin_s = model.bin_s
        # per device: (site index, dynamic W, per-arch dynamic W or None)
        self._device: dict[str, tuple[int, float, list[float] | None]] = {}
        self._idle_w = [0.0] * len(self._sites)
        self._mean_dynamic_w: dict[str, float] = {}
        for i, site in enumerate(self._sites):
            for device in site.devices:
                power = model.power_of(device.model)
                self._idle_w[i] += power.idle_w
                per_arch: list[float] | None = None
                mean_w = power.dynamic_w
                measured = model.inference_energy_j.get(device.model)
                if measured is not None and device.model in latency_table.devices:
                    table_s = latency_table.latency_s[:, latency_table.column_index(device.model)]
                    n = min(len(measured), len(table_s))
                    mean_power = np.asarray(measured[:n], dtype=np.float64) / table_s[:n]
                    dyn = np.where(np.isfinite(mean_power), np.maximum(0.0, mean_power - power.idle_w), np.nan)
                    dyn = np.concatenate([dyn, np.full(len(table_s) - n, np.nan)])
                    per_arch = np.where(np.isnan(dyn), power.dynamic_w, dyn).tolist()
                    mean_w = float(np.mean(per_arch))
                self._device[device.id] = (i, power.dynamic_w, per_arch)
                self._mean_dynamic_w[device.id] = mean_w
        self._dyn_it: list[dict[int, float]] = [{} for _ in self._sites]
        self._net: list[dict[int, float]] = [{} for _ in self._sites]
        self._pue_cache: list[dict[int, float]] = [{} for _ in self._sites]
        self._tasks: dict[int, list[float]] = {}  # task id -> [site, facility J, bin, network J, network bin]
        self._carbon = [model.carbon[s.region] for s in self._sites]
        self._solar: list[Trace | None] = [model.solar.get(s.region) for s in self._sites]
        self._pv_w = [float(model.pv_capacity_w.get(s.node, 0.0)) for s in self._sites]

    # -- booking -------------------------------------------------------------------------------------
    def _pue(self, site: int, b: int) -> float:
        cached = self._pue_cache[site].get(b)
        if cached is None:
            node = self._sites[site]
            temp = self.model.temperature_c.get(node.region)
            celsius = temp.value_at(b * self._bin_s) if temp is not None else math.nan
            cached = self._pue_cache[site][b] = self.model.pue_of(node.node).at(celsius)
        return cached

    def on_dispatch(self, task: Task, decision: Decision, now: float) -> None:
        """Book the network energy of ``task``'s input over the decided split and of its result's return."""
        site = self._site_index[decision.site]
        bits_hops = 0.0
        for path, share in zip(decision.paths, decision.split, strict=True):
            bits_hops += share * len(path.link_ids)
        bits_hops *= 8.0 * task.input_bytes
        if task.result_bytes > 0:
            back = self._topology.k_shortest_paths(decision.site, task.source, 1)[0]  # cached by the topology
            bits_hops += 8.0 * task.result_bytes * len(back.link_ids)
        net_j = bits_hops * self.model.network_j_per_bit_hop
        b = int(now // self._bin_s)
        bins = self._net[site]
        bins[b] = bins.get(b, 0.0) + net_j
        self._tasks[task.id] = [float(site), 0.0, float(b), net_j, float(b)]

    def on_service(self, task_id: int, device_id: str, arch_idx: int, start_s: float, service_s: float) -> None:
        """Book the dynamic energy of serving a task on ``device_id`` from ``start_s`` for ``service_s`` s."""
        site, dynamic_w, per_arch = self._device[device_id]
        power_w = per_arch[arch_idx] if per_arch is not None else dynamic_w
        it_j = power_w * service_s
        b = int(start_s // self._bin_s)
        bins = self._dyn_it[site]
        bins[b] = bins.get(b, 0.0) + it_j
        record = self._tasks[task_id]
        record[1] = it_j * self._pue(site, b)
        record[2] = float(b)

    # -- perception ----------------------------------------------------------------------------------
    def snapshot(self, now: float, busy_devices: Iterable[str]) -> EnergySnapshot:
        """The energy signals schedulers see at ``now`` (load from the devices busy now)."""
        busy_w = [0.0] * len(self._sites)
        for device_id in busy_devices:
            busy_w[self._device[device_id][0]] += self._mean_dynamic_w[device_id]
        b = int(now // self._bin_s)
        states = {}
        for i, site in enumerate(self._sites):
            pue = self._pue(i, b)
            load_w = pue * (self._idle_w[i] + busy_w[i])
            solar = self._solar[i]
            pv_w = self._pv_w[i] * solar.value_at(now) if solar is not None else 0.0
            states[site.node] = SiteEnergyState(
                region=site.region,
                carbon_g_per_kwh=self._carbon[i].value_at(now),
                price_per_kwh=price_at(self.model.price_of(site.region), now),
                pv_w=pv_w,
                load_w=load_w,
                renewable_share=min(1.0, pv_w / load_w) if load_w > 0 else (1.0 if pv_w > 0 else 0.0),
                pue=pue,
            )
        forecaster = TraceForecaster(
            {s.node: self._carbon[i] for i, s in enumerate(self._sites)},
            {
                s.node: (solar, self._pv_w[i])
                for i, (s, solar) in enumerate(zip(self._sites, self._solar, strict=True))
                if solar is not None and self._pv_w[i] > 0
            },
            now,
            self.model.forecast,
        )
        return EnergySnapshot(
            time_s=now,
            sites=states,
            dynamic_w=self._mean_dynamic_w,
            network_j_per_bit_hop=self.model.network_j_per_bit_hop,
            forecaster=forecaster,
        )

    # -- settlement ----------------------------------------------------------------------------------
    def finalize(self, end_s: float, outcomes: Sequence[Outcome]) -> tuple[list[Outcome], EnergyReport]:
        """Settle PV, carbon and cost per site and interval; fill the outcomes' energy, carbon and cost."""
        bin_s = self._bin_s
        last = max(
            [int(end_s // bin_s)] + [max(d) for d in self._dyn_it if d] + [max(d) for d in self._net if d],
        )
        n_bins = last + 1
        starts = np.arange(n_bins, dtype=np.float64) * bin_s
        overlap = np.clip(np.minimum(starts + bin_s, end_s) - starts, 0.0, None)
        total_e = np.zeros(n_bins)
        total_grid = np.zeros(n_bins)
        total_carbon = np.zeros(n_bins)
        # per site and bin: carbon and cost per J of facility energy, and per J of network energy
        fac_rate: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = []
        net_rate: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = []
        sites = []
        for i, site in enumerate(self._sites):
            pue = np.array([self._pue(i, b) for b in range(n_bins)])
            dyn_it = np.zeros(n_bins)
            for b, j in self._dyn_it[i].items():
                dyn_it[b] += j
            net = np.zeros(n_bins)
            for b, j in self._net[i].items():
                net[b] += j
            idle = pue * self._idle_w[i] * overlap
            dynamic = pue * dyn_it
            facility = idle + dynamic
            solar = self._solar[i]
            if solar is not None and self._pv_w[i] > 0:
                shape = np.array([solar.value_at(s) for s in starts])
                pv = self._pv_w[i] * shape * overlap
            else:
                pv = np.zeros(n_bins)
            grid_fac = np.maximum(0.0, facility - pv)
            intensity = np.array([self._carbon[i].value_at(s) for s in starts]) / J_PER_KWH
            price = np.array([price_at(self.model.price_of(site.region), s) for s in starts]) / J_PER_KWH
            share = np.divide(grid_fac, facility, out=np.zeros(n_bins), where=facility > 0)
            fac_rate.append((share * intensity, share * price))
            net_rate.append((intensity, price))
            grid = grid_fac + net
            carbon = grid * intensity
            total_e += facility + net
            total_grid += grid
            total_carbon += carbon
            sites.append(
                SiteEnergy(
                    node=site.node,
                    region=site.region,
                    idle_j=float(idle.sum()),
                    dynamic_j=float(dynamic.sum()),
                    network_j=float(net.sum()),
                    pv_j=float(pv.sum()),
                    pv_used_j=float(np.minimum(pv, facility).sum()),
                    grid_j=float(grid.sum()),
                    carbon_g=float(carbon.sum()),
                    cost=float((grid * price).sum()),
                )
            )
        filled = []
        for outcome in outcomes:
            record = self._tasks.get(outcome.task_id)
            if record is None or outcome.status != "completed":
                filled.append(outcome)
                continue
            s, fac_j, b, net_j, nb = int(record[0]), record[1], int(record[2]), record[3], int(record[4])
            carbon_rate, cost_rate = fac_rate[s]
            net_carbon, net_cost = net_rate[s]
            filled.append(
                dataclasses.replace(
                    outcome,
                    energy_j=fac_j + net_j,
                    carbon_g=fac_j * float(carbon_rate[b]) + net_j * float(net_carbon[nb]),
                    cost=fac_j * float(cost_rate[b]) + net_j * float(net_cost[nb]),
                )
            )
        report = EnergyReport(
            sites=tuple(sites),
            bin_s=bin_s,
            bin_start_s=starts,
            energy_j_per_bin=total_e,
            grid_j_per_bin=total_grid,
            carbon_g_per_bin=total_carbon,
            end_s=end_s,
            meta=dict(self.model.meta),
        )
        return filled, report
