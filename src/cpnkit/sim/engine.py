"""The event-driven simulator of a Computing Power Network (DESIGN.md §3).

Events (a binary heap keyed by time, FIFO on ties): task arrival -> scheduler decision -> one fluid
subflow per path with a positive share -> the network recomputes max-min fair rates over residual
capacity (capacity minus background) at every flow arrival and departure -> a subflow's data is at the
site when its bytes have drained plus its path's propagation delay -> the task joins its device's FIFO
queue when its slowest subflow has arrived -> service for the measured latency of its architecture on
that device (times seeded lognormal jitter) -> the result returns on the shortest path as another fluid
flow -> outcome with the breakdown transmission / queue / compute / return. Under the ``tcp`` transport every
flow also ramps up by slow start (``cpnkit.estimate.transport``; the flows live in ``FlowNetwork``).

The core does no I/O and reads no clock; randomness comes from ``seed``.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from cpnkit.errors import ConfigError, CpnError, DecisionError, InfeasibleError
from cpnkit.model import (
    Decision,
    Device,
    DeviceTelemetry,
    EnergySnapshot,
    Outcome,
    Path,
    PathProbe,
    Site,
    Snapshot,
    Task,
)
from cpnkit.perception import mm1_mean_wait_s, probe_path
from cpnkit.perception.probes import MAX_PROBE_UTILISATION
from cpnkit.schedulers import Scheduler
from cpnkit.sim.energy import EnergyMeter
from cpnkit.sim.fluid_tcp import CubicConfig, FluidTcpNetwork
from cpnkit.sim.network import FlowNetwork, propagation_rtt_s
from cpnkit.sim.replay import FlowLog, RecordingFlowNetwork
from cpnkit.sim.result import SimResult
from cpnkit.sim.scenario import Scenario, SimConfig

__all__ = ["Simulator", "simulate"]

# event kinds
_ARRIVAL, _NET, _READY, _DONE, _FINISH, _BACKGROUND, _TELEMETRY, _DISPATCH = range(8)
_JITTER_BLOCK = 4096

ProgressCallback = Callable[[int, int], None]


class _Job:
    """A task in flight (mutable bookkeeping; not part of the public API)."""

    __slots__ = (
        "admitted_s",
        "decision",
        "deferred_s",
        "device",
        "done_s",
        "pending",
        "ready_s",
        "service_s",
        "start_s",
        "task",
    )

    def __init__(self, task: Task, admitted_s: float) -> None:
        self.task = task
        self.admitted_s = admitted_s
        self.decision: Decision | None = None
        self.deferred_s = 0.0
        self.device: _DeviceState | None = None
        self.pending = 0
        self.ready_s = admitted_s
        self.start_s = math.nan
        self.service_s = math.nan
        self.done_s = math.nan


def _owner_key(owner: tuple[_Job, bool]) -> tuple[int, bool]:
    """``(task id, is_return)`` of a network flow's owner (for the flow recorder)."""
    return owner[0].task.id, owner[1]


class _DeviceState:
    __slots__ = ("busy", "busy_accum_s", "busy_since_s", "column", "device", "inbound_s", "queue", "queued_s")

    def __init__(self, device: Device, column: int) -> None:
        self.device = device
        self.column = column
        self.queue: deque[_Job] = deque()
        self.busy: _Job | None = None
        self.busy_since_s = 0.0
        self.busy_accum_s = 0.0
        self.inbound_s = 0.0  # mean service time of jobs decided for this device and still in transit
        self.queued_s = 0.0  # mean service time of the jobs waiting in the queue


class Simulator:
    """Runs one scenario with one scheduler.

    Args:
        scenario: Network, sites, background and tasks.
        scheduler: Decides for every task (sees only Snapshots).
        config: Simulator behaviour (mode, jitter, telemetry period, probes, checks).
        seed: Seed for service jitter and probe noise (the workload is fixed by the scenario).
        flow_log: Record every flow put into the network and every background change here (for an open-loop
            replay under other transfer models, ``cpnkit.sim.replay``); ``None`` (default) records nothing and
            costs nothing.

    Example:
        >>> from cpnkit.sim.testing import line_scenario
        >>> from cpnkit.schedulers import make
        >>> result = Simulator(line_scenario(n_tasks=3), make("nearest-ecmp")).run()
        >>> [o.status for o in result.outcomes]
        ['completed', 'completed', 'completed']
    """

    def __init__(
        self,
        scenario: Scenario,
        scheduler: Scheduler,
        config: SimConfig | None = None,
        seed: int = 0,
        flow_log: FlowLog | None = None,
    ) -> None:
        self.scenario = scenario
        self._flow_log = flow_log
        self.scheduler = scheduler
        self.config = config if config is not None else SimConfig()
        self.seed = seed
        topo = scenario.topology
        self._links = topo.links
        self._capacity = topo.capacity_bps
        self._prop = topo.prop_delay_s
        self._latency = scenario.latency_table.latency_s
        self._sites: Mapping[str, Site] = MappingProxyType({s.node: s for s in scenario.sites})
        devices: dict[str, Device] = {}
        self._device_state: dict[str, _DeviceState] = {}
        for site in scenario.sites:
            for device in site.devices:
                devices[device.id] = device
                self._device_state[device.id] = _DeviceState(device, scenario.latency_table.column_index(device.model))
        self._devices: Mapping[str, Device] = MappingProxyType(devices)
        jitter_seq, probe_seq = np.random.SeedSequence(seed).spawn(2)
        self._jitter_rng = np.random.default_rng(jitter_seq)
        self._probe_rng = np.random.default_rng(probe_seq)
        self._jitter_buf: list[float] = []
        self._ran = False
        self._setup()

    # -- setup ---------------------------------------------------------------------------------------
    def _setup(self) -> None:
        self._heap: list[tuple[float, int, int, Any]] = []
        self._seq = 0
        self._now = 0.0
        self._events = 0
        self._finished = 0
        self._in_system = 0
        self._in_system_integral_s = 0.0
        self._in_system_since_s = 0.0
        self._pending: tuple[_Job, Snapshot] | None = None  # the admitted task awaiting its decision
        self._progress: ProgressCallback | None = None
        self._last_reported = 0
        self._waiting: deque[Task] = deque()
        self._outcomes: list[Outcome] = []
        self._decisions: list[Decision] = []
        config = self.config
        self._queue_model = config.transport.model == "tcp-queue"
        self._net: FlowNetwork | FluidTcpNetwork
        if self._queue_model:
            if self._flow_log is not None:
                raise ConfigError(
                    "flow_log records the event-driven transports ('tcp', 'fluid'); run with one of them to replay "
                    "its flows under tcp-queue (cpnkit.sim.replay.replay_fluid_tcp)"
                )
            self._net = FluidTcpNetwork(
                self._capacity.tolist(),
                self._prop.tolist(),
                config.transport,
                dt_s=config.tcp_queue_dt_s if config.tcp_queue_dt_s is not None else self._default_dt_s(),
                check_capacity=config.check_capacity,
            )
        else:
            net_args = (self._capacity, config.transport, config.check_capacity, config.lazy_slow_start)
            self._net = (
                FlowNetwork(*net_args)
                if self._flow_log is None
                else RecordingFlowNetwork(self._flow_log, _owner_key, *net_args)
            )
        self._net_due_s = math.inf  # time of the one live network event (others in the heap are stale)
        self._rtt_cache: dict[tuple[int, ...], float] = {}
        self._background = self.scenario.background
        self._set_background_step(self._background.step_at(0.0))
        self._telemetry: Mapping[str, DeviceTelemetry] = MappingProxyType(
            {d: DeviceTelemetry(d, 0, 0.0, 0.0) for d in self._devices}
        )
        self._link_load: tuple[float, ...] = tuple(float(x) for x in self._bg_load)
        self._probe_load: npt.NDArray[np.float64] | None = None  # link loads for probes within one decision
        self._truth = _Truth(self) if getattr(self.scheduler, "privileged", False) else None
        self._setup_energy()

    def _default_dt_s(self) -> float:
        """``tcp-queue``'s step: the smallest round-trip propagation between a task source and another site / 20.

        Every flow runs between a task's source and a site (either way), on a path at least as long as the
        shortest, so every flow's round trip spans at least 20 steps (``CubicConfig.steps_per_rtt``).
        """
        topology = self.scenario.topology
        sources = {task.source for task in self.scenario.tasks} | set(self.scenario.access_points)
        rtts = [
            propagation_rtt_s(topology, topology.k_shortest_paths(source, site.node, 1)[0])
            for source in sorted(sources)
            for site in self.scenario.sites
            if site.node != source
        ]
        positive = [r for r in rtts if r > 0]
        smallest = min(positive) if positive else 2.0 * float(np.min(self._prop))
        return max(smallest, 1e-6) / CubicConfig().steps_per_rtt

    def _setup_energy(self) -> None:
        """Energy accounting and the energy snapshot, when the scenario has an energy model."""
        model = self.scenario.energy
        self._meter = (
            EnergyMeter(model, self.scenario.sites, self.scenario.topology, self.scenario.latency_table)
            if model is not None
            else None
        )
        self._energy: EnergySnapshot | None = self._meter.snapshot(0.0, ()) if self._meter is not None else None

    # -- public --------------------------------------------------------------------------------------
    def run(self, progress: ProgressCallback | None = None) -> SimResult:
        """Simulate every task to completion (or explicit rejection) and return the results.

        The scheduler decides each task as it is admitted; :meth:`start`, :meth:`next_decision`, :meth:`apply`
        and :meth:`finish` run the same event loop with the decisions made outside (the Gymnasium env).

        Args:
            progress: Called as ``progress(done, total)`` about every 1% of tasks (for progress bars).

        Raises:
            DecisionError: the scheduler returned an invalid decision and ``config.invalid_decision == "raise"``.
        """
        self.start(progress)
        while (pending := self._advance()) is not None:
            self._decide(*pending)
        return self.finish()

    def start(self, progress: ProgressCallback | None = None) -> None:
        """Begin a run whose decisions are made outside the simulator (the stepping API).

        Then call :meth:`next_decision` and :meth:`apply` until ``next_decision()`` returns ``None``, and
        :meth:`finish`. :meth:`run` is this loop with ``scheduler.decide`` as the decider.

        Args:
            progress: Called as ``progress(done, total)`` about every 1% of tasks.

        Raises:
            CpnError: the simulator has already run.

        Example:
            >>> from cpnkit.sim.testing import line_scenario
            >>> from cpnkit.schedulers import make
            >>> sim, decider = Simulator(line_scenario(n_tasks=2), make("nearest-ecmp")), make("nearest-ecmp")
            >>> sim.start()
            >>> while (pending := sim.next_decision()) is not None:
            ...     sim.apply(decider.decide(*pending))
            >>> [o.status for o in sim.finish().outcomes]
            ['completed', 'completed']
        """
        if self._ran:
            raise CpnError("a Simulator runs once; build a new one (with the same seed) to run again")
        self._ran = True
        self._progress = progress
        self._last_reported = 0
        tasks = self.scenario.tasks
        # arrivals enter the heap one at a time (each pushes the next), keeping the heap small
        if tasks:
            self._push(tasks[0].arrival_s, _ARRIVAL, 0)
        if self._background.step_s < math.inf and self._background.n_steps > 1:
            self._push(self._background.step_s, _BACKGROUND, None)
        self._push(self.config.telemetry_period_s, _TELEMETRY, None)

    def _advance(self) -> tuple[_Job, Snapshot] | None:
        """The one event loop: handle events until a task awaits its decision (returned) or the run ends."""
        if not self._ran:
            raise CpnError("call start() before next_decision() (or use run())")
        pending = self._pending  # (a local: mypy would keep the attribute narrowed to None in the loop)
        if pending is not None:
            return pending
        tasks = self.scenario.tasks
        total = len(tasks)
        step = max(1, total // 100)
        heap = self._heap
        heappop = heapq.heappop
        progress = self._progress
        while heap and self._finished < total:
            time_s, _, kind, obj = heappop(heap)
            self._now = time_s
            if kind == _NET:
                if obj == self._net_due_s:
                    self._on_network(time_s)
            elif kind == _ARRIVAL:
                if obj + 1 < total:
                    self._push(tasks[obj + 1].arrival_s, _ARRIVAL, obj + 1)
                self._on_arrival(tasks[obj], time_s)
            elif kind == _READY:
                self._on_ready(obj, time_s)
            elif kind == _DONE:
                self._on_done(obj, time_s)
            elif kind == _FINISH:
                self._on_finish(obj, time_s)
            elif kind == _BACKGROUND:
                self._on_background(time_s)
            elif kind == _DISPATCH:
                self._count_in_system(+1, time_s)
                self._dispatch(obj, time_s)
            else:
                self._on_telemetry(time_s)
            self._events += 1
            if progress is not None and self._finished - self._last_reported >= step:
                self._last_reported = self._finished
                progress(self._finished, total)
            # an admission is always the last thing an event handler does, so pausing here and deciding
            # now changes nothing in the order of events
            if self._pending is not None:
                return self._pending
        return None

    def next_decision(self) -> tuple[Task, Snapshot] | None:
        """Advance until a task needs a decision: that task and the snapshot to decide on, or ``None`` at the end.

        Asking again before :meth:`apply` returns the same task and snapshot.

        Raises:
            CpnError: :meth:`start` was not called.
        """
        pending = self._advance()
        return None if pending is None else (pending[0].task, pending[1])

    def apply(self, decision: Decision) -> None:
        """Apply the decision for the task :meth:`next_decision` returned.

        Exactly as :meth:`run` applies a scheduler's: a rejection is recorded as a rejected outcome; an invalid
        decision raises or is recorded as a rejection per ``config.invalid_decision``.

        Raises:
            CpnError: no task is waiting for a decision (call :meth:`next_decision` first).
            DecisionError: the decision is invalid and ``config.invalid_decision == "raise"``.
        """
        pending = self._pending
        if pending is None:
            raise CpnError("no task is waiting for a decision; call next_decision() first and apply() once per task")
        self._pending = None
        self._apply(pending[0], decision)

    def finish(self) -> SimResult:
        """The results of a run that has ended (every task completed or rejected).

        Raises:
            CpnError: a task still waits for a decision (apply decisions until ``next_decision()`` is ``None``).
        """
        pending = self._advance()
        if pending is not None:
            raise CpnError(
                f"task {pending[0].task.id} still needs a decision; call apply() until next_decision() returns "
                "None, then finish()"
            )
        total = len(self.scenario.tasks)
        if self._progress is not None:
            self._progress(self._finished, total)
        outcomes = sorted(self._outcomes, key=lambda o: o.task_id)
        energy = None
        if self._meter is not None:
            outcomes, energy = self._meter.finalize(self._now, outcomes)
        stats: dict[str, Any] = {
            "events": self._events,
            "bits_sent": self._net.bits_sent,
            "bits_delivered": self._net.bits_delivered,
            "max_undelivered_bits": self._net.max_undelivered_bits,
            "max_link_load_ratio": self._net.max_load_ratio,
            "max_active_flows": self._net.max_flows,
            "full_reallocations": self._net.full_reallocations,
            "incremental_reallocations": self._net.incremental_reallocations,
            "transport": self.config.transport.model,
            "sim_end_s": self._now,
            "background_clipped_link_steps": self._background.clipped_link_steps,
        }
        if isinstance(self._net, FluidTcpNetwork):
            stats["tcp_queue_dt_s"] = self._net.dt_s
            stats["tcp_queue_steps"] = self._net.steps
            stats["max_queue_bytes"] = float(self._net.max_queue_bytes.max())
            stats["max_queue_overflow_bytes"] = float(max(self._net.overflow_bytes.max(), 0.0))
            stats["max_late_delivery_s"] = self._net.max_late_delivery_s
            stats["max_history_rows"] = self._net.max_history_rows
        return SimResult(
            scenario=self.scenario.name,
            scheduler=getattr(self.scheduler, "name", type(self.scheduler).__name__),
            mode=self.config.mode,
            seed=self.seed,
            n_tasks=total,
            outcomes=tuple(outcomes),
            decisions=tuple(self._decisions),
            stats=stats,
            meta=dict(self.scenario.meta),
            energy=energy,
        )

    @property
    def in_system_integral_s(self) -> float:
        """Time-integral of the number of tasks in the system from the start until now, in s·tasks.

        In the system means admitted and not yet finished or rejected (in ``isolated`` mode a task waiting at
        its access point is not yet admitted). At the end of a run it is the sum of the completed tasks'
        response times (Little's law); a rejected task leaves at once and adds 0.
        """
        return self._in_system_integral_s + self._in_system * (self._now - self._in_system_since_s)

    @property
    def now_s(self) -> float:
        """Simulated time of the last event handled, in s."""
        return self._now

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        """Outcomes recorded so far, in the order tasks finished (or were rejected)."""
        return tuple(self._outcomes)

    def _set_background_step(self, step: int) -> None:
        self._bg_load = self._background.load_bps[step]
        self._bg_util = (self._bg_load / self._capacity).tolist()
        self._rtt_cache.clear()
        self._net.set_residual((self._capacity - self._bg_load).tolist(), self._now)

    def _push(self, time_s: float, kind: int, obj: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (time_s, self._seq, kind, obj))

    # -- tasks ---------------------------------------------------------------------------------------
    def _on_arrival(self, task: Task, now: float) -> None:
        if self.config.mode == "isolated" and self._in_system > 0:
            self._waiting.append(task)
            return
        self._admit(task, now)

    def _admit(self, task: Task, now: float) -> None:
        job = _Job(task, now)
        self._count_in_system(+1, now)
        snapshot = Snapshot(
            time_s=now,
            topology=self.scenario.topology,
            sites=self._sites,
            devices=self._devices,
            telemetry=self._telemetry,
            prober=self._probe,
            predictor=self.scenario.predictor,
            link_load_bps=self._link_load,
            truth=self._truth,
            transport=self.config.transport,
            energy=self._energy,
        )
        self._probe_load = None
        self._pending = (job, snapshot)

    def _decide(self, job: _Job, snapshot: Snapshot) -> None:
        """Ask the scheduler about the pending task and apply its answer (``run``'s driver)."""
        self._pending = None
        try:
            decision = self.scheduler.decide(job.task, snapshot)
        except InfeasibleError as exc:
            self._reject(job, self._now, f"infeasible: {exc}", getattr(self.scheduler, "name", ""))
            return
        except DecisionError as exc:
            self._invalid(job, exc)
            return
        self._apply(job, decision)

    def _invalid(self, job: _Job, exc: DecisionError) -> None:
        if self.config.invalid_decision == "raise":
            raise exc
        self._reject(job, self._now, f"invalid decision: {exc}", getattr(self.scheduler, "name", ""))

    def _apply(self, job: _Job, decision: Decision) -> None:
        task, now = job.task, self._now
        if decision.is_rejection:
            self._reject(job, now, decision.reason or "rejected by the scheduler", decision.scheduler)
            return
        try:
            self._validate(task, decision)
        except DecisionError as exc:
            self._invalid(job, exc)
            return
        job.decision = decision
        if decision.start_s > now:  # temporal shifting: hold the task (nan compares false: start now)
            self._hold(job, decision.start_s, now)
            return
        self._dispatch(job, now)

    def _count_in_system(self, delta: int, now: float) -> None:
        """Change the number of tasks in the system, closing the running integral at ``now`` first."""
        self._in_system_integral_s += self._in_system * (now - self._in_system_since_s)
        self._in_system_since_s = now
        self._in_system += delta

    def _hold(self, job: _Job, start_s: float, now: float) -> None:
        """Hold a deferred task until ``start_s``; it leaves the system meanwhile (isolated mode admits the next)."""
        job.deferred_s = start_s - now
        self._count_in_system(-1, now)
        self._push(start_s, _DISPATCH, job)
        if self._waiting and self._in_system == 0:
            self._admit(self._waiting.popleft(), now)

    def _dispatch(self, job: _Job, now: float) -> None:
        """Send a decided task's data on its paths now; its response time counts from here."""
        task = job.task
        decision = cast(Decision, job.decision)
        job.admitted_s = job.ready_s = now
        job.device = self._device_state[decision.device]
        job.device.inbound_s += float(self._latency[task.arch_idx, job.device.column])
        self._decisions.append(decision)
        if self._meter is not None:
            self._meter.on_dispatch(task, decision, now)
        for path, share in zip(decision.paths, decision.split, strict=True):
            if share <= 0.0:
                continue
            self._net.add(
                path.link_ids, task.input_bytes * share, path.prop_delay_s, now, (job, False), self._rtt(path)
            )
            job.pending += 1
        self._schedule_network()

    def _validate(self, task: Task, decision: Decision) -> None:
        site = self._sites.get(decision.site)
        if site is None:
            raise DecisionError(
                f"task {task.id}: decision names site {decision.site!r}, which is not a compute site of scenario "
                f"{self.scenario.name!r}; choose one of snapshot.sites ({', '.join(list(self._sites)[:6])}, ...)"
            )
        state = self._device_state.get(decision.device)
        if state is None or state.device.site != site.node:
            raise DecisionError(
                f"task {task.id}: device {decision.device!r} is not at site {site.node!r}; "
                f"choose one of {[d.id for d in site.devices]}"
            )
        if decision.task_id != task.id:
            raise DecisionError(f"decision is for task {decision.task_id}, not task {task.id}; decide per task")
        links = self._links
        used = 0
        for path, share in zip(decision.paths, decision.split, strict=True):
            nodes = path.nodes
            if nodes[0] != task.source:
                raise DecisionError(
                    f"task {task.id}: path {list(nodes)} starts at {nodes[0]!r}, not at the task's source "
                    f"{task.source!r}; paths run from the access point to the site"
                )
            if len(path.link_ids) != len(nodes) - 1:
                raise DecisionError(f"task {task.id}: path {list(nodes)} has inconsistent link ids")
            for i, lid in enumerate(path.link_ids):
                if not (0 <= lid < len(links)) or links[lid].src != nodes[i] or links[lid].dst != nodes[i + 1]:
                    raise DecisionError(
                        f"task {task.id}: path {list(nodes)} does not follow the links of topology "
                        f"{self.scenario.topology.name!r}; build paths with topology.make_path()"
                    )
            if share > 0:
                used += 1
        if used > 1 and not task.splittable:
            raise DecisionError(
                f"task {task.id} is not splittable but the decision sends data on {used} paths; use one path"
            )
        start = decision.start_s
        latest = max(self._now, task.arrival_s + task.deferrable_window_s)
        if start < self._now or start > latest:  # nan passes: start now
            raise DecisionError(
                f"task {task.id}: start_s={start!r} is outside [{self._now!r}, {latest!r}] (the decision time to "
                f"arrival + deferrable_window_s={task.deferrable_window_s!r}); start within the task's window"
            )

    def _reject(self, job: _Job, now: float, reason: str, scheduler: str) -> None:
        task = job.task
        nan = math.nan
        self._outcomes.append(
            Outcome(
                task_id=task.id,
                status="rejected",
                scheduler=scheduler or getattr(self.scheduler, "name", ""),
                source=task.source,
                site="",
                device="",
                device_model="",
                arrival_s=job.admitted_s,
                input_bytes=task.input_bytes,
                n_paths=0,
                transmission_s=nan,
                queue_s=nan,
                compute_s=nan,
                return_s=nan,
                response_s=nan,
                finish_s=now,
                latency_bound_s=task.latency_bound_s,
                reason=reason,
            )
        )
        self._task_left(now)

    def _task_left(self, now: float) -> None:
        self._finished += 1
        self._count_in_system(-1, now)
        if self._waiting and self._in_system == 0:
            self._admit(self._waiting.popleft(), now)

    def _on_ready(self, job: _Job, now: float) -> None:
        device = cast(_DeviceState, job.device)  # set at admission
        mean_s = float(self._latency[job.task.arch_idx, device.column])
        device.inbound_s -= mean_s
        if device.busy is None:
            self._start_service(device, job, now)
        else:
            device.queue.append(job)
            device.queued_s += mean_s

    def _service_time(self, job: _Job, device: _DeviceState) -> float:
        base = float(self._latency[job.task.arch_idx, device.column])
        sigma = self.config.service_jitter
        if sigma <= 0.0:
            return base
        if not self._jitter_buf:
            # mean-preserving lognormal: E[exp(N(-sigma^2/2, sigma))] = 1
            self._jitter_buf = np.exp(self._jitter_rng.normal(-0.5 * sigma * sigma, sigma, _JITTER_BLOCK)).tolist()
        return base * self._jitter_buf.pop()

    def _start_service(self, device: _DeviceState, job: _Job, now: float) -> None:
        device.busy = job
        device.busy_since_s = now
        job.start_s = now
        job.service_s = self._service_time(job, device)
        if self._meter is not None:
            self._meter.on_service(job.task.id, device.device.id, job.task.arch_idx, now, job.service_s)
        self._push(now + job.service_s, _DONE, job)

    def _on_done(self, job: _Job, now: float) -> None:
        job.done_s = now
        device = cast(_DeviceState, job.device)  # set at admission
        device.busy = None
        device.busy_accum_s += now - device.busy_since_s
        if device.queue:
            following = device.queue.popleft()
            device.queued_s -= float(self._latency[following.task.arch_idx, device.column])
            self._start_service(device, following, now)
        # the result returns to the access point
        path = self.scenario.topology.k_shortest_paths(device.device.site, job.task.source, 1)[0]  # cached
        if job.task.result_bytes <= 0.0:
            self._push(now + path.prop_delay_s, _FINISH, job)
            return
        self._net.add(path.link_ids, job.task.result_bytes, path.prop_delay_s, now, (job, True), self._rtt(path))
        self._schedule_network()

    def _on_finish(self, job: _Job, now: float) -> None:
        task = job.task
        decision = cast(Decision, job.decision)  # set at admission
        device = cast(_DeviceState, job.device)
        self._outcomes.append(
            Outcome(
                task_id=task.id,
                status="completed",
                scheduler=decision.scheduler,
                source=task.source,
                site=decision.site,
                device=decision.device,
                device_model=device.device.model,
                arrival_s=job.admitted_s,
                input_bytes=task.input_bytes,
                n_paths=sum(1 for s in decision.split if s > 0),
                transmission_s=job.ready_s - job.admitted_s,
                queue_s=job.start_s - job.ready_s,
                compute_s=job.service_s,
                return_s=now - job.done_s,
                response_s=now - job.admitted_s,
                finish_s=now,
                predicted_latency_s=decision.predicted_latency_s,
                latency_bound_s=task.latency_bound_s,
                deferred_s=job.deferred_s,
            )
        )
        self._task_left(now)

    # -- network -------------------------------------------------------------------------------------
    def _rtt(self, path: Path) -> float:
        """Round trip of a path: forward + reverse propagation and M/M/1 queueing at the background load.

        Under ``tcp-queue`` propagation only: that model has its queues.
        """
        rtt = self._rtt_cache.get(path.link_ids)
        if rtt is None and self._queue_model:
            rtt = propagation_rtt_s(self.scenario.topology, path)
            self._rtt_cache[path.link_ids] = rtt
        if rtt is None:
            queueing = sum(
                mm1_mean_wait_s(self._bg_util[link], self._capacity[link], self.config.probe.packet_bytes)
                for link in path.link_ids
            )
            rtt = propagation_rtt_s(self.scenario.topology, path) + float(queueing)
            self._rtt_cache[path.link_ids] = rtt
        return rtt

    def _schedule_network(self) -> None:
        next_s = max(self._net.reallocate(), self._now)
        if next_s != self._net_due_s:
            self._net_due_s = next_s
            if next_s < math.inf:
                self._push(next_s, _NET, next_s)

    def _on_network(self, now: float) -> None:
        self._net_due_s = math.inf
        for flow in self._net.step(now):
            job, is_return = flow.owner
            arrive_s = now + flow.delay_after_drain_s
            if is_return:
                self._push(arrive_s, _FINISH, job)
                continue
            job.pending -= 1
            if arrive_s > job.ready_s:
                job.ready_s = arrive_s
            if job.pending == 0:
                self._push(job.ready_s, _READY, job)
        self._schedule_network()

    def _on_background(self, now: float) -> None:
        self._set_background_step(self._background.step_at(now))
        self._schedule_network()
        self._push(now + self._background.step_s, _BACKGROUND, None)

    # -- perception ----------------------------------------------------------------------------------
    def _on_telemetry(self, now: float) -> None:
        period = self.config.telemetry_period_s
        reports: dict[str, DeviceTelemetry] = {}
        for device_id, state in self._device_state.items():
            busy = state.busy_accum_s
            if state.busy is not None:
                busy += now - state.busy_since_s
                state.busy_since_s = now
            state.busy_accum_s = 0.0
            queue = len(state.queue) + (1 if state.busy is not None else 0)
            reports[device_id] = DeviceTelemetry(device_id, queue, min(1.0, busy / period), now)
        self._telemetry = MappingProxyType(reports)
        self._link_load = tuple(self._net.link_load_bps(self._bg_load, now))
        meter, energy = self._meter, self._energy
        if meter is not None and energy is not None and now - energy.time_s >= meter.model.report_period_s:
            self._energy = meter.snapshot(now, [d for d, st in self._device_state.items() if st.busy is not None])
        self._push(now + period, _TELEMETRY, None)

    def _probe(self, path: Path) -> PathProbe:
        return probe_path(
            path, self._capacity, self._current_load(), self._prop, self._now, self._probe_rng, self.config.probe
        )

    def _current_load(self) -> npt.NDArray[np.float64]:
        """Link loads now (background + task flows); cached for the probes of one decision."""
        if self._probe_load is None:
            self._probe_load = np.asarray(self._net.link_load_bps(self._bg_load, self._now), dtype=np.float64)
        return self._probe_load


class _Truth:
    """The simulator's true state for privileged reference schedulers (``GroundTruth``)."""

    __slots__ = ("_sim",)

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    def path_state(self, path: Path) -> tuple[float, float]:
        sim = self._sim
        load = sim._current_load()
        ids = list(path.link_ids)
        cap = sim._capacity[ids]
        rho = np.clip(load[ids] / cap, 0.0, MAX_PROBE_UTILISATION)
        queueing = float(np.sum(rho / (1.0 - rho) * sim.config.probe.packet_bytes * 8.0 / cap))
        available = float(np.min(cap - np.minimum(load[ids], cap)))
        return path.prop_delay_s + queueing, available

    def device_backlog_s(self, device: str) -> float:
        sim = self._sim
        state = sim._device_state[device]
        backlog = state.queued_s + state.inbound_s
        if state.busy is not None:
            backlog += max(0.0, state.busy.start_s + state.busy.service_s - sim._now)
        return max(0.0, backlog)

    def compute_s(self, arch_idx: int, device: str) -> float:
        sim = self._sim
        return float(sim._latency[arch_idx, sim._device_state[device].column])


def simulate(
    scenario: Scenario,
    scheduler: Scheduler,
    config: SimConfig | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> SimResult:
    """Run ``scenario`` with ``scheduler`` and return the results (a one-call ``Simulator(...).run()``)."""
    return Simulator(scenario, scheduler, config, seed).run(progress)
