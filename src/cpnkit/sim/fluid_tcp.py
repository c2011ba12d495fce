"""Window-and-queue fluid TCP: per-flow CUBIC windows over per-link FIFO fluid queues (time-stepped).

The ``tcp-queue`` transport model of transfer evaluation (``evaluate_transfers(..., model="tcp-queue")``), in the
tradition of Misra, Gong & Towsley (SIGCOMM 2000), but with cumulative byte curves instead of averaged rates, so
that slow-start bursts, ACK clocking and FIFO order are kept:

- **Sender.** A flow may have ``cwnd`` wire bytes unacknowledged: its cumulative bytes sent
  ``S(t) = min(size, max(S(t-), acked(t) + cwnd(t)))`` enter the queue of its first link at once (no pacing, as in
  ns-3 and Linux without ``fq``); ``cwnd`` is also capped by the socket buffer.
- **Links** are FIFO fluid queues: total arrivals ``A_l(t)`` (TCP bytes plus constant-rate background) leave at the
  link's capacity while the queue is not empty; departures ``D_l(t) = min(A_l(t), D_l(t - dt) + C_l dt)``. FIFO
  order is kept exactly: at time ``t`` the link has served every byte that arrived before ``tau`` with
  ``A_l(tau) = D_l(t)``, so a flow's cumulative output is its cumulative input at ``tau`` (output shared among flows
  in proportion to what they put in when those bytes arrived; queueing delay = ``t - tau``). Bytes leaving a link
  reach the next one after its propagation delay; the last link's output, a propagation delay later, is
  delivered; ACKs come back over the reverse links' propagation delay (ACKs are not queued).
- **Window** (ns-3.44 ``ns3::TcpCubic`` defaults, i.e. Linux's CUBIC, RFC 8312/9438): slow start from the initial
  window, growing by every byte acknowledged (ns-3 counts bytes in slow start); **HyStart** as ns-3 implements it
  (``tcp-cubic.cc``): from a window of 16 segments on, per round (a round ends when the data sent at its start is
  acknowledged) the minimum RTT of its first 8 ACKs is compared with the flow's minimum RTT ``d``; slow start ends
  when it exceeds ``d + clamp(d, 4 ms, 1 s)`` (note: ns-3 clamps ``d`` itself, not Linux's ``d / 8`` between 4 and
  16 ms), or when ACKs spaced by at most 2 ms have kept arriving for longer than ``d`` since the round started
  (ACK train); then ``ssthresh = cwnd``. **Congestion avoidance**: CUBIC's ``cnt`` (one segment per ``cnt``
  segments acknowledged) with target ``W_exit + floor(C (t + d - t_epoch)^3)`` segments, C = 0.4, K = 0 (no loss,
  so no ``W_max`` and beta = 0.7 never applies), ``cnt`` clamped to 20 while no loss happened (5% per RTT) and at
  least 2. RTT samples are exact in the fluid: the ACK of byte ``b`` at ``t`` samples ``t - S^{-1}(b)``.
- **Completion** is the time the last payload byte is delivered, plus store-and-forward serialisation of the last
  segment on the hops after the first (as the ``tcp`` model), minus the flow's start.

All quantities are wire bytes (payload plus ``header_bytes`` per segment, as in ``cpnkit.estimate.transport``).
Time is stepped with ``dt`` (default: the smallest round-trip propagation time / ``steps_per_rtt``); flows start
on the first step at or after their start time and their completion is counted from that step; a propagation
delay shorter than ``dt`` takes one step.

Known limits: no losses, so no fast recovery, no ``W_max``/beta and no RTO: queues above the DropTail limit the
ns-3 runs use (``max(1000, 2 x BDP)`` packets) are reported (``overflow_bytes``) but not dropped; CUBIC's
TCP-friendly (Reno) region is not modelled (with ``cnt`` clamped to 20 it cannot bind: it grows ~0.5 segment per
RTT, the clamp at least 1 segment per 20 acknowledged); ACK compression and reverse-path queueing are ignored;
the receiver ACKs every segment (the suite's ns-3 setting).

One engine, two drivers: ``FluidTcpNetwork`` is the model as an incremental network with ``FlowNetwork``'s
engine-facing surface (flows added and delivered while it runs, background set per link), which the task
simulator runs under ``SimConfig(transport=TransportConfig(model="tcp-queue"))``; ``simulate_fluid_tcp`` (transfer
evaluation, open-loop replay) adds a fixed flow list to it up front and steps it. Its history does not grow with
simulated time: rows of the cumulative curves older than the largest lag still in use (ACK path, a queue's oldest
byte, a flow's last acknowledged byte) are dropped, and a flow's columns are cleared once the batch model counts
it done (zeroed holes, reclaimed when they outnumber the live columns; new flows take columns after the others).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cpnkit.errors import ConfigError
from cpnkit.estimate import TransportConfig
from cpnkit.estimate.transport import last_segment_bits, wire_bits

__all__ = [
    "ConstantArrival",
    "CubicConfig",
    "FluidFlow",
    "FluidTcpFlow",
    "FluidTcpNetwork",
    "FluidTcpResult",
    "simulate_fluid_tcp",
]

_Array = NDArray[np.float64]
_SRTT_GAIN = 0.125  # RFC 6298 alpha, ns-3 RttMeanDeviation::Alpha
_MIN_COLUMNS = 32  # history columns (flow-hops) allocated at least


@dataclass(frozen=True, slots=True)
class CubicConfig:
    """CUBIC, HyStart, buffer and queue settings of the fluid TCP model (defaults: ns-3.44 and the suite's ns-3 runs).

    Attributes:
        c: CUBIC scaling constant, in segments / s^3 (RFC 8312/9438 and ns-3: 0.4).
        cnt_clamp: Largest CUBIC ``cnt`` before any loss (ns-3 ``CntClamp``, Linux: 20, i.e. 5% growth per RTT).
        hystart: Hybrid slow start on (ns-3 and Linux default).
        hystart_low_window_segments: HyStart runs from this window on (ns-3 ``HyStartLowWindow``: 16).
        hystart_min_samples: RTT samples per round for the delay test (ns-3 ``HyStartMinSamples``: 8).
        hystart_ack_delta_s: Largest ACK spacing within an ACK train, in s (ns-3 ``HyStartAckDelta``: 2 ms).
        hystart_delay_min_s: Lower clamp of the delay threshold, in s (ns-3 ``HyStartDelayMin``: 4 ms).
        hystart_delay_max_s: Upper clamp of the delay threshold, in s (ns-3 ``HyStartDelayMax``: 1 s).
        buffer_bytes: Send / receive buffer, the largest window, in bytes (the suite's ns-3 runs: 64 MiB).
        min_queue_packets: Smallest DropTail queue, in packets (the suite's ns-3 runs: 1000).
        queue_bdp_factor: DropTail queue in bandwidth-delay products (the suite's ns-3 runs: 2).
        queue_packet_bytes: Packet size that counts queue lengths and BDPs, in bytes (1500).
        steps_per_rtt: Time steps per smallest round-trip propagation time (when ``dt_s`` is not given).
    """

    c: float = 0.4
    cnt_clamp: int = 20
    hystart: bool = True
    hystart_low_window_segments: int = 16
    hystart_min_samples: int = 8
    hystart_ack_delta_s: float = 0.002
    hystart_delay_min_s: float = 0.004
    hystart_delay_max_s: float = 1.0
    buffer_bytes: int = 64 * 2**20
    min_queue_packets: int = 1000
    queue_bdp_factor: float = 2.0
    queue_packet_bytes: int = 1500
    steps_per_rtt: int = 20

    def __post_init__(self) -> None:
        for name in ("c", "hystart_ack_delta_s", "hystart_delay_min_s", "hystart_delay_max_s", "queue_bdp_factor"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ConfigError(f"CubicConfig.{name}={value!r} must be finite and > 0")
        for name in (
            "cnt_clamp",
            "hystart_low_window_segments",
            "hystart_min_samples",
            "buffer_bytes",
            "min_queue_packets",
            "queue_packet_bytes",
            "steps_per_rtt",
        ):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ConfigError(f"CubicConfig.{name}={value!r} must be an integer >= 1")
        if self.hystart_delay_max_s < self.hystart_delay_min_s:
            raise ConfigError(
                f"CubicConfig.hystart_delay_max_s={self.hystart_delay_max_s!r} must be >= "
                f"hystart_delay_min_s={self.hystart_delay_min_s!r}"
            )


@dataclass(frozen=True, slots=True)
class FluidFlow:
    """One TCP flow (a subflow) on a fixed path.

    Attributes:
        links: Link ids of its path, in order.
        prop_delays_s: Propagation delay of each of those links, in s.
        reverse_delay_s: Propagation delay of the ACKs' way back, in s.
        start_s: When its first payload byte is sent, in s.
        payload_bytes: Payload to deliver, in bytes (> 0).
    """

    links: tuple[int, ...]
    prop_delays_s: tuple[float, ...]
    reverse_delay_s: float
    start_s: float
    payload_bytes: float


@dataclass(frozen=True, slots=True)
class ConstantArrival:
    """Constant-rate background (paced, e.g. CBR UDP) entering the queues of a path's links.

    Attributes:
        links: Link ids of its path, in order.
        prop_delays_s: Propagation delay of each of those links, in s (it reaches link ``i`` after the first ``i``).
        rate_bps: Wire rate, in bit/s.
        start_s: Start at the first link, in s.
        stop_s: Stop at the first link, in s.
    """

    links: tuple[int, ...]
    prop_delays_s: tuple[float, ...]
    rate_bps: float
    start_s: float
    stop_s: float


@dataclass(frozen=True, slots=True)
class FluidTcpResult:
    """What the fluid TCP model computed.

    Attributes:
        completion_s: Per flow: start to last payload byte delivered, in s.
        slow_start_exit_s: Per flow: when HyStart ended slow start (from the flow's start), in s; ``nan`` if never.
        slow_start_exit_window_bytes: Per flow: the window (= ssthresh) when slow start ended, in wire bytes;
            ``nan`` if never.
        slow_start_exit_cause: Per flow: what ended slow start, ``"ack-train"`` or ``"delay"``; ``""`` if never.
        max_queue_bytes: Per link: the largest queue, in bytes.
        overflow_bytes: Per link: the largest excess of the queue over the DropTail limit, in bytes (ns-3 would
            have dropped packets; losses are not modelled).
        queue_limit_bytes: The DropTail limit used for ``overflow_bytes``, in bytes.
        dt_s: Time step, in s.
        steps: Time steps simulated.
        trace: With ``trace_every``: rows of (time in s, then per flow delivered wire bytes, per flow window in
            wire bytes, per link queue in bytes); empty otherwise.
    """

    completion_s: tuple[float, ...]
    slow_start_exit_s: tuple[float, ...]
    slow_start_exit_window_bytes: tuple[float, ...]
    slow_start_exit_cause: tuple[str, ...]
    max_queue_bytes: tuple[float, ...]
    overflow_bytes: tuple[float, ...]
    queue_limit_bytes: float
    dt_s: float
    steps: int
    trace: tuple[tuple[float, ...], ...] = ()


class _Window:
    """One flow's congestion window and HyStart state (wire bytes; ns-3 ``TcpCubic`` semantics)."""

    __slots__ = (
        "cnt_acc",
        "curr_rtt",
        "cwnd",
        "delay_min",
        "end_seq",
        "epoch_start",
        "exit_cause",
        "exit_s",
        "found",
        "last_ack",
        "max_cwnd",
        "origin",
        "round_start",
        "samples",
        "srtt",
        "ssthresh",
    )

    def __init__(self, initial_bytes: float, max_bytes: float) -> None:
        self.cwnd = initial_bytes
        self.max_cwnd = max_bytes
        self.ssthresh = math.inf
        self.delay_min = math.inf
        self.found = False
        self.end_seq = 0.0
        self.round_start = 0.0
        self.last_ack = 0.0
        self.curr_rtt = math.inf
        self.samples = 0.0
        self.epoch_start = math.nan
        self.origin = 0.0
        self.cnt_acc = 0.0
        self.exit_s = math.nan
        self.exit_cause = ""
        self.srtt = math.nan

    def on_ack(
        self,
        now: float,
        dt: float,
        acked: float,
        ack_total: float,
        sent_before: float,
        rtt: float,
        mss: float,
        cfg: CubicConfig,
    ) -> None:
        """Take ``acked`` bytes acknowledged during the step ending at ``now`` (``rtt``: their RTT sample).

        As in ns-3.44 (``TcpSocketBase::ProcessAck`` passes ``m_srtt`` to ``PktsAcked``), CUBIC and HyStart see the
        smoothed RTT (RFC 6298, gain 1/8 per ACK, started by the handshake's sample), not the raw samples.
        """
        segments = acked / mss
        sample = rtt
        self.srtt = rtt if math.isnan(self.srtt) else rtt + (self.srtt - rtt) * (1 - _SRTT_GAIN) ** segments
        self.delay_min = min(self.delay_min, self.srtt)
        if self.cwnd < self.ssthresh:
            before_exit = (
                self._hystart(now, dt, acked, ack_total, sent_before, sample, mss, cfg) if cfg.hystart else acked
            )
            if not self.found:
                self.cwnd = min(self.cwnd + acked, self.max_cwnd)
                return
            # slow start grew the window by what was acknowledged before the exit; ssthresh = cwnd (ns-3)
            self.cwnd = min(self.cwnd + before_exit, self.max_cwnd)
            self.ssthresh = self.cwnd
            acked -= before_exit
        self._cubic(now, acked / mss, mss, cfg)

    def _hystart(
        self,
        now: float,
        dt: float,
        acked: float,
        ack_total: float,
        sent_before: float,
        sample: float,
        mss: float,
        cfg: CubicConfig,
    ) -> float:
        """ns-3's ``HystartReset`` / ``HystartUpdate`` over the ACKs of one step; bytes acknowledged before an exit.

        The step's ACKs arrive evenly spaced (``spacing``; the first one ``spacing`` after the step began). A round
        ends when the data in flight at its start is acknowledged; as in ns-3 (``PktsAcked`` runs before
        ``IncreaseWindow`` resets the round), the first ACK of the next round is still tested against the ending
        round's ACK train: when the rounds' trains join with a gap of at most ``hystart_ack_delta_s``, slow start
        ends on that ACK, at twice the ending round's window, if the time since the round started exceeds the
        minimum (smoothed) RTT. That time is the RTT of the new round's first segment (it left when the round
        started), ``sample`` (this step's raw RTT sample, including store-and-forward): the fluid's crossing time
        is only known to within a step, too coarse for a comparison decided by a segment's serialisation.
        """
        rtt = self.srtt
        segments = acked / mss
        spacing = dt / segments
        step_start = now - dt
        low_window = cfg.hystart_low_window_segments * mss
        delta = cfg.hystart_ack_delta_s
        if ack_total > self.end_seq:  # a new round starts within this step (ns-3: lastAckedSeq > endSeq)
            before = max(0.0, acked - (ack_total - self.end_seq))  # the ending round's bytes in this step
            first_new = step_start + spacing * (math.floor(before / mss + 1e-9) + 1)  # its first ACK
            first_new = min(first_new, now)
            if (
                not self.found
                and self.cwnd + before >= low_window
                and spacing <= delta
                and step_start + spacing - self.last_ack <= delta
                and max(first_new - self.round_start, sample) > self.delay_min
            ):
                self._exit(first_new, "ack-train")
                return before
            self.round_start = self.last_ack = first_new
            self.end_seq = sent_before
            self.curr_rtt = math.inf
            self.samples = 0.0
        if self.found or self.cwnd < low_window:
            return acked
        # ACK train: ACKs at most ``delta`` apart for longer than the minimum RTT since the round started
        if spacing <= delta and max(step_start + spacing, self.round_start) - self.last_ack <= delta:
            self.last_ack = now
            crossing = self.round_start + self.delay_min
            if crossing < now:
                at = max(crossing, step_start + spacing)
                self._exit(at, "ack-train")
                return acked * max(0.0, min(1.0, (at - step_start) / dt))
        # delay increase: the minimum RTT of the round's first samples against the flow's minimum RTT
        if self.samples < cfg.hystart_min_samples:
            self.curr_rtt = min(self.curr_rtt, rtt)
            self.samples += segments
        else:
            threshold = min(max(self.delay_min, cfg.hystart_delay_min_s), cfg.hystart_delay_max_s)
            if self.curr_rtt > self.delay_min + threshold:
                self._exit(step_start + spacing, "delay")
                return 0.0
        return acked

    def _exit(self, at: float, cause: str) -> None:
        self.found = True
        self.exit_s = at
        self.exit_cause = cause

    def _cubic(self, now: float, segments: float, mss: float, cfg: CubicConfig) -> None:
        seg_cwnd = math.floor(self.cwnd / mss + 1e-9)
        if math.isnan(self.epoch_start):
            self.epoch_start = now
            self.origin = seg_cwnd  # no loss: W_max = 0 <= cwnd, so K = 0 and the origin is the window
        t = now + self.delay_min - self.epoch_start
        target = self.origin + math.floor(cfg.c * t**3)
        cnt = seg_cwnd // (target - seg_cwnd) if target > seg_cwnd else 100 * seg_cwnd
        cnt = max(min(cnt, cfg.cnt_clamp), 2)  # the clamp holds while no loss happened (W_max = 0)
        self.cnt_acc += segments
        grow = math.floor(self.cnt_acc / cnt)
        if grow > 0:
            self.cwnd = min(self.cwnd + grow * mss, self.max_cwnd)
            self.cnt_acc -= grow * cnt


class FluidTcpFlow:
    """One flow of a ``FluidTcpNetwork`` (engine state; read its fields, do not set them).

    Attributes:
        links: Link ids of its path.
        prop_delays_s: Propagation delay of each of those links, in s.
        reverse_delay_s: Propagation delay of the ACKs' way back, in s.
        payload_bytes: Payload, in bytes.
        bits: Wire bits (payload plus headers).
        owner: The caller's object (a task, a subflow id, ...).
        start_s: When it was added, in s.
        start_step: The time step its completion counts from (it sends from the step after the last one computed
            when it was added).
        prop_s: One-way propagation delay of the path, in s.
        rtt_s: Round-trip propagation delay, in s (forward plus reverse).
        completion_s: Start to last payload byte delivered (``nan`` until known), in s: the batch model's
            completion, counted from ``start_step``.
        delay_after_drain_s: Set when ``step`` returns the flow: its delivery is ``now + delay_after_drain_s``.
        window: Its CUBIC window and HyStart state.
    """

    __slots__ = (
        "ack_index",
        "acked",
        "bits",
        "column",
        "completion_s",
        "delay_after_drain_s",
        "delivered",
        "done_step",
        "lag_steps",
        "links",
        "owner",
        "payload_bytes",
        "prop_delays_s",
        "prop_s",
        "reverse_delay_s",
        "rtt_s",
        "size",
        "start_s",
        "start_step",
        "store_forward_s",
        "window",
    )

    def __init__(
        self,
        links: tuple[int, ...],
        prop_delays_s: tuple[float, ...],
        reverse_delay_s: float,
        payload_bytes: float,
        owner: Any,
        start_s: float,
        start_step: int,
        window: _Window,
    ) -> None:
        self.links = links
        self.prop_delays_s = prop_delays_s
        self.reverse_delay_s = reverse_delay_s
        self.payload_bytes = payload_bytes
        self.owner = owner
        self.start_s = start_s
        self.start_step = start_step
        self.prop_s = math.fsum(prop_delays_s)
        self.rtt_s = self.prop_s + reverse_delay_s
        self.bits = 0.0
        self.size = 0.0  # wire bytes
        self.store_forward_s = 0.0
        self.completion_s = math.nan
        self.delay_after_drain_s = math.nan
        self.done_step = -1  # the step at which the batch model counts it done (its window stops there)
        self.window = window
        self.acked = 0.0
        self.delivered = 0.0  # delivered wire bytes when it left the network (set then)
        self.ack_index = start_step  # searchsorted index of the last acknowledged byte in its sent curve
        self.column = -1  # its first entry's column in the history, once laid out
        self.lag_steps: tuple[float, ...] = ()  # ACK lag, delivery lag, inner hops' lags, in steps (at layout)


class FluidTcpNetwork:
    """The window-and-queue fluid TCP (module docstring) as an incremental network: flows come and go while it runs.

    Time advances in fixed steps of ``dt_s`` on a grid anchored where the network last left idle. It has the
    surface of ``cpnkit.sim.network.FlowNetwork`` that the simulator uses (``add``, ``set_residual``, ``reallocate``,
    ``step``, ``link_load_bps``, ``flows`` and the statistics), so the simulator runs it as its ``tcp-queue``
    transport; ``simulate_fluid_tcp`` drives the same engine over a fixed flow list.

    - ``add`` starts a flow now: it joins on the next step (the grid is re-anchored at ``now`` when the network is
      idle: no flow and every queue empty).
    - ``set_residual`` changes the background: ``capacity - residual`` on each link is a constant-rate arrival into
      its queue from ``now`` on (as ``ConstantArrival`` in the batch model).
    - ``reallocate`` returns the next step's time while a flow is undelivered or a queue is not empty, else
      ``inf``; ``step(now)`` computes the steps up to ``now`` and returns the flows whose last payload byte has
      left the last link's queue, each with ``delay_after_drain_s`` such that ``now + delay_after_drain_s`` is its
      delivery, ``start_s + completion_s`` (store-and-forward of the last segment included). The delivery is
      evaluated a propagation delay ahead, so it is never before ``now`` when the last link's propagation delay is
      at least two steps; otherwise it is delivered at ``now``, up to two steps late (``max_late_delivery_s``).
    - Memory does not grow with simulated time: the cumulative curves keep only the rows the largest lag (ACK path,
      queueing delay) still needs (periodic compaction), and a flow's columns are cleared once it is done (holes,
      repacked when they outnumber the live columns).

    Args:
        capacity_bps: Capacity of every link, in bit/s (> 0).
        link_prop_s: Propagation delay of every link, in s (``add`` takes a path's per-link delays from it, and the
            default ``dt_s`` is the smallest one-hop round trip ``2 * min(link_prop_s)`` / ``cubic.steps_per_rtt``).
        transport: MSS, initial window and header bytes (``model`` is ignored); default ``TransportConfig()``.
        cubic: CUBIC, HyStart, buffer and queue settings; default ``CubicConfig()``.
        dt_s: Time step, in s; default as above (1 us / ``steps_per_rtt`` at least).
        queue_limit_bytes: DropTail limit counted by ``overflow_bytes``; default as the batch model, from the
            largest capacity and the largest flow RTT added so far.
        check_capacity: Track ``max_load_ratio``: the largest ratio of a link's service (TCP and background) in a
            step to its capacity (at most 1 by construction; the invariant checkers read it).

    Raises:
        ConfigError: bad capacities, delays or step.

    Example:
        >>> net = FluidTcpNetwork([1e8], [5e-3])
        >>> flow = net.add((0,), 1e6, 5e-3, 0.0, "x")
        >>> done = []
        >>> while not done:
        ...     now = net.reallocate()
        ...     done = net.step(now)
        >>> round(now + done[0].delay_after_drain_s, 6), net.bits_sent == net.bits_delivered  # 1 MB, 10 ms RTT
        (0.11, True)
    """

    def __init__(
        self,
        capacity_bps: Sequence[float],
        link_prop_s: Sequence[float] | None = None,
        transport: TransportConfig | None = None,
        cubic: CubicConfig | None = None,
        dt_s: float | None = None,
        queue_limit_bytes: float | None = None,
        check_capacity: bool = False,
    ) -> None:
        capacity = np.array([float(c) for c in capacity_bps], dtype=np.float64)
        if len(capacity) == 0 or not np.all(np.isfinite(capacity) & (capacity > 0)):
            raise ConfigError(f"capacity_bps={list(capacity_bps)!r} must be a non-empty list of finite values > 0")
        self.transport = transport if transport is not None else TransportConfig()
        self.cubic = cubic if cubic is not None else CubicConfig()
        self._link_prop: _Array | None = None
        if link_prop_s is not None:
            prop = np.array([float(d) for d in link_prop_s], dtype=np.float64)
            if len(prop) != len(capacity) or not np.all(np.isfinite(prop) & (prop >= 0)):
                raise ConfigError(
                    f"link_prop_s has {len(prop)} values for {len(capacity)} links; give one finite delay >= 0 each"
                )
            self._link_prop = prop
        if dt_s is None:
            if self._link_prop is None:
                raise ConfigError("FluidTcpNetwork needs dt_s or link_prop_s (to derive the step from)")
            dt_s = max(2.0 * float(self._link_prop.min()), 1e-6) / self.cubic.steps_per_rtt
        if not (math.isfinite(dt_s) and dt_s > 0):
            raise ConfigError(f"dt_s={dt_s!r} must be finite and > 0")
        self.dt_s = float(dt_s)
        self.capacity_bps = [float(c) for c in capacity]
        self.residual_bps = list(self.capacity_bps)
        self.check_capacity = check_capacity
        self._capacity = capacity
        self._cap_step = capacity / 8.0 * self.dt_s  # bytes a link serves per step
        self._mss = float(self.transport.mss_bytes + self.transport.header_bytes)  # wire bytes per full segment
        self._max_cwnd = self.cubic.buffer_bytes / self.transport.mss_bytes * self._mss
        self._fixed_limit = queue_limit_bytes
        self.queue_limit_bytes = queue_limit_bytes if queue_limit_bytes is not None else math.inf
        self._max_rtt = 0.0
        n_links = len(capacity)
        # statistics (FlowNetwork's names)
        self.time_s = 0.0
        self.bits_sent = 0.0
        self.bits_delivered = 0.0
        self.max_undelivered_bits = 0.0
        self.max_load_ratio = 0.0
        self.max_flows = 0
        self.full_reallocations = 0  # FlowNetwork's counters: a time-stepped model has none
        self.incremental_reallocations = 0
        self.steps = 0  # time steps computed in all
        self.max_late_delivery_s = 0.0
        self.max_history_rows = 0  # largest number of history rows held (memory: twice as many buffered)
        self.max_queue_bytes = np.zeros(n_links)
        self.overflow_bytes = np.zeros(n_links)  # largest excess of a queue over queue_limit_bytes
        # background: constant-rate arrivals per link, integrated exactly between changes
        self._bg_rate = np.zeros(n_links)  # bytes/s
        self._bg_cum = np.zeros(n_links)  # bytes arrived up to _bg_t
        self._bg_t = 0.0
        self._flows: list[FluidTcpFlow] = []  # in the network (columns), in the order added
        self._instant: list[FluidTcpFlow] = []  # nothing to carry: delivered at the next step call
        self._reported = 0  # flows in _flows already returned by step
        self._rows = 256
        self._reset(0.0)

    # -- state ----------------------------------------------------------------------------------------
    def _reset(self, origin_s: float) -> None:
        """Empty network: anchor the grid at ``origin_s`` (step 0) and clear every curve."""
        n_links = len(self._capacity)
        self._origin = origin_s
        self._k = 0  # last step computed
        self._base = 0  # absolute step of history row 0
        self._idle = True
        self._flows = []
        self._reported = 0
        self._served = np.zeros(n_links)
        self._retired = np.zeros(n_links)  # cumulative arrivals of the entries of flows that left
        self._pointer = np.zeros(n_links, dtype=np.intp)
        self._queue = np.zeros(n_links)
        self._bg_cum[:] = 0.0
        self._fixed_arrivals: _Array | None = None  # _retired + _bg_cum, once needed
        self._bg_t = origin_s
        self._alloc(_MIN_COLUMNS, self._rows)
        self._layout_dirty = False

    def _alloc(self, columns: int, rows: int) -> None:
        n_links = len(self._capacity)
        # One column per flow-hop ("entry"), in the order the flows were added; a flow's entries are adjacent and
        # its first entry's inflow is its sent curve. Columns [0, _n_cols) are in use (a flow that left keeps its
        # columns as an all-zero hole until a repack), the rest are spare. The history is ``rows`` rows (row 0:
        # step _base) from row _off of buffers twice that long, so that dropping old rows mostly moves _off.
        self._in_buf = np.zeros((2 * rows, columns))  # cumulative arrivals of each flow-hop into its link's queue
        self._out_buf = np.zeros((2 * rows, columns))  # cumulative departures
        self._arr_buf = np.zeros((2 * rows, n_links))  # cumulative arrivals per link (TCP + background)
        self._off = 0
        self._rows = rows
        self._views()
        self._col_link = np.zeros(columns, dtype=np.intp)  # per column: its link
        self._n_cols = 0
        self._holes = 0  # columns of flows that left, zeroed
        self._dead: list[tuple[int, int]] = []  # columns of flows that left since the last layout (still filled)
        self._live: list[FluidTcpFlow] = []  # the flows the per-flow arrays below follow (as of the last layout)
        self._e_link = np.zeros(0, dtype=np.intp)
        self._e_col = np.zeros(0, dtype=np.intp)
        self._first = np.zeros(0, dtype=np.intp)
        self._last = np.zeros(0, dtype=np.intp)
        self._inner = np.zeros(0, dtype=np.intp)
        self._inner_lag = np.zeros(0)
        self._ack_lag = np.zeros(0)
        self._deliver_lag = np.zeros(0)
        self._ahead = np.zeros(0, dtype=np.intp)
        self._ahead_f = np.zeros(0)
        self._read_lag = np.zeros(0)
        self._read_col = np.zeros(0, dtype=np.intp)
        self._size = np.zeros(0)
        self._done_size = np.zeros(0)
        self._start_step = np.zeros(0, dtype=np.intp)
        self._last_start = -1
        self._next_done = math.inf
        self._acked = np.zeros(0)
        self._allowed = np.zeros(0)
        self._sent_before = np.zeros(0)
        self._sent_settled = False
        self._read_lag_min = math.inf
        self._read_lag_max = math.inf
        self._ahead_min = 0
        self._delivered_now = np.zeros(0)  # per flow: delivered wire bytes as of step _delivered_k
        self._delivered_k = -1  # -1: not since the last layout
        self._near_size = np.zeros(0)
        self._max_lag = 0.0

    def _layout(self) -> None:
        """Rebuild the per-flow index arrays after flows came or left; the history stays in its columns.

        New flows take spare columns after every column in use, so the entries keep the order in which their flows
        were added (sums over entries, ``np.bincount``, add in that order); the columns of flows that left become
        all-zero holes (an exact 0.0 changes no sum), repacked once they outnumber the live ones.
        """
        if self._k > self._base:
            self._compact(self._k + 1)  # copy only the rows still needed
        flows = self._flows
        live_cols = sum(len(f.links) for f in flows if f.column >= 0)
        new_cols = sum(len(f.links) for f in flows if f.column < 0)
        dead_cols = sum(c1 - c0 for c0, c1 in self._dead)
        if self._n_cols + new_cols > self._inflow.shape[1] or self._holes + dead_cols > max(live_cols, _MIN_COLUMNS):
            self._repack(flows, live_cols + new_cols)
        else:
            # rows are written in step order and every row after the newest is zero (_compact keeps it so):
            # zeroing the rows up to the newest clears a column in every row the history will reach
            used = self._k + 1 - self._base
            for c0, c1 in self._dead:
                self._inflow[:used, c0:c1] = 0.0
                self._outflow[:used, c0:c1] = 0.0
            self._holes += dead_cols
        self._dead = []
        dt = self.dt_s
        for flow in flows:
            if flow.column < 0:
                width = len(flow.links)
                flow.column = self._n_cols
                self._col_link[flow.column : flow.column + width] = flow.links
                self._n_cols += width
                if not flow.lag_steps:
                    flow.lag_steps = self._lags(flow, dt)
        self._live = list(flows)
        n_cols = self._n_cols
        widths = np.array([len(f.links) for f in flows], dtype=np.intp)
        first = np.array([f.column for f in flows], dtype=np.intp)
        self._first = first
        self._last = first + widths - 1
        self._e_link = self._col_link[:n_cols]
        self._e_col = np.arange(n_cols, dtype=np.intp)
        self._inner = np.array([f.column + j for f in flows for j in range(1, len(f.links))], dtype=np.intp)
        self._ack_lag = np.array([f.lag_steps[0] for f in flows])
        self._deliver_lag = np.array([f.lag_steps[1] for f in flows])
        # deliveries are evaluated this many steps ahead (the last link's output is known a propagation delay early)
        self._ahead = np.floor(self._deliver_lag).astype(np.intp)
        self._ahead_f = self._ahead.astype(np.float64)
        self._inner_lag = np.array([lag for f in flows for lag in f.lag_steps[2:]])
        # one read of the outflow curves per step: the ACKs (last entries), then the inner entries' arrivals
        self._read_lag = np.concatenate([self._ack_lag, self._inner_lag])
        self._read_col = np.concatenate([self._last, self._inner - 1])
        self._size = np.array([f.size for f in flows])
        self._done_size = self._size * (1 - 1e-12)
        self._start_step = np.array([f.start_step for f in flows], dtype=np.intp)
        self._last_start = int(self._start_step.max()) if flows else -1
        self._next_done = min((f.done_step for f in flows if f.done_step >= 0), default=math.inf)
        self._acked = np.array([f.acked for f in flows], dtype=np.float64)
        self._allowed = np.minimum(self._size, self._acked + np.array([f.window.cwnd for f in flows]))
        self._sent_before = self._inflow[self._k - self._base, first]  # new flows: 0.0
        self._sent_settled = False  # whether _sent_before = max(the row before it, _allowed) (no ACK since)
        self._read_lag_min = float(self._read_lag.min()) if flows else math.inf
        self._read_lag_max = float(self._read_lag.max()) if flows else math.inf
        self._ahead_min = int(self._ahead.min()) if flows else 0
        self._delivered_k = -1
        # a flow can be done (delivered >= _done_size) only if its last output in the rows read reaches this
        # (the interpolation exceeds the larger of its two rows by a few ulps at most); inf once it is reported
        self._near_size = np.array([f.size * (1 - 1e-9) if math.isnan(f.completion_s) else math.inf for f in flows])
        lags = [0.0, *self._ack_lag.tolist(), *self._inner_lag.tolist()]
        self._max_lag = max(lags)
        self._layout_dirty = False

    def _lags(self, flow: FluidTcpFlow, dt: float) -> tuple[float, ...]:
        """A flow's lags in steps: its ACKs, its delivery, then the arrival at each hop after the first."""
        capacity = self._capacity
        mss = self._mss
        # a packet is forwarded once wholly received: its ACK comes one full-segment serialisation per later hop
        # after the fluid's byte (the handshake's SYN, a header, is ~30x shorter and neglected)
        segment_forward_s = sum(mss * 8.0 / capacity[link] for link in flow.links[1:])
        ack = (flow.prop_delays_s[-1] + flow.reverse_delay_s + segment_forward_s) / dt
        inner = [flow.prop_delays_s[j - 1] / dt for j in range(1, len(flow.links))]
        return (float(ack), flow.prop_delays_s[-1] / dt, *inner)

    def _repack(self, flows: list[FluidTcpFlow], columns: int) -> None:
        """Move the columns of the flows that stay to the front (in order), in place or into new buffers.

        Room for ``columns``: new buffers twice that wide when the old ones are narrower, or over 8 times wider.
        """
        old = [(f, f.column) for f in flows if f.column >= 0]
        source = np.array([c + j for f, c in old for j in range(len(f.links))], dtype=np.intp)
        n = len(source)
        used = self._k + 1 - self._base  # rows up to the newest (every later row is zero)
        if not 2 * columns <= self._inflow.shape[1] <= max(8 * columns, _MIN_COLUMNS):
            width = max(2 * columns, _MIN_COLUMNS)
            off = self._off  # the same rows as the per-link arrivals' buffer
            for name, view in (("_in_buf", self._inflow), ("_out_buf", self._outflow)):
                new = np.zeros((len(self._arr_buf), width))
                new[off : off + used, :n] = view[:used].take(source, axis=1)
                setattr(self, name, new)
            self._views()
            col_link = np.zeros(width, dtype=np.intp)
            col_link[:n] = self._col_link[source]
            self._col_link = col_link
        else:
            for view in (self._inflow, self._outflow):
                view[:used, :n] = view[:used].take(source, axis=1)
                view[:used, n : self._n_cols] = 0.0  # now spare
            self._col_link[:n] = self._col_link[source]
        column = 0
        for flow, _ in old:
            flow.column = column
            column += len(flow.links)
        self._n_cols = column
        self._holes = 0

    @property
    def flows(self) -> list[FluidTcpFlow]:
        """The flows not yet returned by ``step`` (undelivered), in the order they were added."""
        return [f for f in self._flows if math.isnan(f.completion_s)] + list(self._instant)

    # -- changes ---------------------------------------------------------------------------------------
    def set_residual(self, residual_bps: Sequence[float], now: float) -> None:
        """Background from ``now`` on: ``capacity - residual`` bit/s arrive at each link's queue at constant rate."""
        residual = np.array([float(r) for r in residual_bps], dtype=np.float64)
        if residual.shape != self._capacity.shape or not np.all(np.isfinite(residual)):
            raise ConfigError(f"residual_bps needs {len(self._capacity)} finite values, one per link")
        self.residual_bps = residual.tolist()
        self.set_background(np.maximum(self._capacity - residual, 0.0), now)

    def set_background(self, rate_bps: Sequence[float] | _Array, now: float) -> None:
        """Constant-rate background arrivals per link from ``now`` on, in bit/s (``now`` not before the last step)."""
        rate = np.asarray(rate_bps, dtype=np.float64) / 8.0
        if not self._idle:
            if now < self._bg_t:
                raise ConfigError(f"background changed at {now!r} s, before the last change at {self._bg_t!r} s")
            self._bg_cum += self._bg_rate * (now - self._bg_t)
            self._fixed_arrivals = None
            self._bg_t = now
        self._bg_rate = rate
        self.time_s = max(self.time_s, now)

    def add(
        self,
        links: tuple[int, ...],
        payload_bytes: float,
        prop_s: float,
        now: float,
        owner: Any,
        rtt_s: float | None = None,
    ) -> FluidTcpFlow:
        """Start a flow of ``payload_bytes`` on ``links`` at ``now`` (``FlowNetwork.add``'s signature).

        Args:
            links: Link ids of the path.
            payload_bytes: Payload in bytes (finite, >= 0; an empty path or payload is delivered at once).
            prop_s: One-way propagation delay of the path, in s (the per-link delays come from ``link_prop_s``).
            now: Current time, in s (not before the last step computed).
            owner: Returned with the flow when it is delivered.
            rtt_s: Round-trip propagation delay, in s: the ACKs take ``rtt_s - prop_s`` back (default
                ``2 * prop_s``). Queueing is modelled, so give propagation only.

        Raises:
            ConfigError: a bad size, link id, RTT or time, or no ``link_prop_s``.
        """
        if not (isinstance(payload_bytes, int | float) and math.isfinite(payload_bytes) and payload_bytes >= 0):
            raise ConfigError(f"payload_bytes={payload_bytes!r} must be finite and >= 0")
        if self._link_prop is None:
            raise ConfigError("FluidTcpNetwork.add needs link_prop_s at construction (or use add_flow)")
        n_links = len(self._capacity)
        for link in links:
            if not (isinstance(link, int | np.integer) and 0 <= link < n_links):
                raise ConfigError(f"link id {link!r} is not in 0..{n_links - 1}")
        delays = tuple(float(self._link_prop[link]) for link in links)
        rtt = 2.0 * prop_s if rtt_s is None else rtt_s
        if not (math.isfinite(rtt) and rtt >= 0):
            raise ConfigError(f"rtt_s={rtt!r} must be finite and >= 0")
        reverse = max(rtt - math.fsum(delays), 0.0)
        return self.add_flow(tuple(int(x) for x in links), delays, reverse, payload_bytes, now, owner)

    def add_flow(
        self,
        links: tuple[int, ...],
        prop_delays_s: tuple[float, ...],
        reverse_delay_s: float,
        payload_bytes: float,
        now: float,
        owner: Any,
        start_step: int | None = None,
    ) -> FluidTcpFlow:
        """Add a flow with explicit per-link delays (``add`` with the path's delays; the batch model's entry).

        Args:
            links: Link ids of its path, in order.
            prop_delays_s: Propagation delay of each of those links, in s.
            reverse_delay_s: Propagation delay of the ACKs' way back, in s.
            payload_bytes: Payload, in bytes.
            now: Its start, in s.
            owner: Returned with the flow when it is delivered.
            start_step: The step its completion counts from (default: from ``now``, on the grid, not before the
                last step computed); a later one holds it until then.
        """
        if self._idle:
            self._reset(now)
            self._idle = False
        self.time_s = max(self.time_s, now)
        if start_step is None:
            start_step = max(math.ceil((now - self._origin) / self.dt_s - 1e-9), self._k)
        window = _Window(self.transport.initial_window_segments * self._mss, self._max_cwnd)
        flow = FluidTcpFlow(links, prop_delays_s, reverse_delay_s, float(payload_bytes), owner, now, start_step, window)
        flow.bits = wire_bits(payload_bytes, self.transport) if payload_bytes > 0 else 0.0
        flow.size = flow.bits / 8.0
        self.bits_sent += flow.bits
        if not links or payload_bytes <= 0:
            flow.completion_s = 0.0
            self._instant.append(flow)
            return flow
        flow.store_forward_s = float(
            sum(last_segment_bits(payload_bytes, self.transport) / self._capacity[link] for link in links[1:])
        )
        flow.ack_index = start_step
        self._flows.append(flow)
        self._layout_dirty = True
        if flow.rtt_s > self._max_rtt:
            self._max_rtt = flow.rtt_s
            if self._fixed_limit is None:
                self.queue_limit_bytes = _queue_limit_bytes(
                    self.cubic, float(self._capacity.max()), self._max_rtt, self._mss
                )
        undelivered = len(self._flows) - self._reported + len(self._instant)  # not yet returned by step
        if undelivered > self.max_flows:
            self.max_flows = undelivered
        return flow

    # -- time ------------------------------------------------------------------------------------------
    def reallocate(self) -> float:
        """The next step's time while a flow is undelivered or a queue is not empty; ``inf`` when idle."""
        if self._instant:
            return self.time_s
        if self._idle:
            return math.inf
        if self._reported == len(self._flows) and not np.count_nonzero(self._queue > 1e-9):
            # nothing left to carry: the flows still held (done, windows still counted) affect nobody
            self._idle = True
            self._flows = []
            self._reported = 0
            return math.inf
        return self._origin + (self._k + 1) * self.dt_s

    def step(self, now: float) -> list[FluidTcpFlow]:
        """Compute the steps up to ``now``; return the flows delivered meanwhile (removed from ``flows``).

        Each returned flow is delivered at ``now + flow.delay_after_drain_s`` (>= ``now``).
        """
        self.time_s = max(self.time_s, now)
        done: list[FluidTcpFlow] = []
        for flow in self._instant:
            flow.delay_after_drain_s = 0.0
            self.bits_delivered += flow.bits
            done.append(flow)
        self._instant = []
        eps = 8.0 * math.ulp(max(abs(now), 1.0))
        while not self._idle and self._origin + (self._k + 1) * self.dt_s <= now + eps:
            for flow in self._advance():
                delivery = flow.start_s + flow.completion_s
                late = now - delivery
                if late > self.max_late_delivery_s:
                    self.max_late_delivery_s = late
                flow.delay_after_drain_s = max(delivery - now, 0.0)
                done.append(flow)
        return done

    def link_load_bps(self, background_bps: Sequence[float], now_s: float | None = None) -> list[float]:
        """Background plus each link's TCP service rate in the last step, in bit/s."""
        load = np.array([float(b) for b in background_bps], dtype=np.float64)
        if not self._idle and self._k > self._base and len(self._e_link):
            row = self._k - self._base
            n = len(self._e_link)  # the columns in use (holes: 0.0)
            tcp = self._outflow[row, :n] - self._outflow[row - 1, :n]
            load += np.bincount(self._e_link, weights=tcp, minlength=len(load)) * 8.0 / self.dt_s
        return [float(x) for x in load]

    def history_rows(self) -> int:
        """Rows of the cumulative curves held now (what memory grows with: their buffers hold twice as many)."""
        return self._rows

    # -- one step ---------------------------------------------------------------------------------------
    def _compact(self, k: int) -> None:
        """Make room for row ``k``: drop the rows no lag still needs, or double the rows if all are needed."""
        keep = k - 2 - math.ceil(self._max_lag)
        queued = self._queue > 1e-9
        if np.count_nonzero(queued):
            keep = min(keep, int(self._pointer[queued].min()))
        for flow in self._flows:
            if flow.done_step < 0 or k <= flow.done_step:
                keep = min(keep, flow.ack_index - 1)  # its RTT samples search its sent curve from there
        keep = max(keep, self._base)
        shift = keep - self._base
        rows = self._rows
        if k + 2 - keep > rows // 2:
            rows *= 2
        used = self._k + 1 - self._base - shift
        off = self._off + shift
        # Every row after the newest is zero, and so are the holes' and spare columns up to it: a flow's history
        # starts zero wherever it takes columns, and an exact 0.0 adds nothing to the link sums.
        if rows != self._rows:
            for name in ("_in_buf", "_out_buf", "_arr_buf"):
                old = getattr(self, name)
                new = np.zeros((2 * rows, old.shape[1]))
                new[:used] = old[off : off + used]
                setattr(self, name, new)
            off = 0
        elif off + rows > len(self._in_buf):  # the history would leave the buffers: move it to their start
            for name in ("_in_buf", "_out_buf", "_arr_buf"):
                buffer = getattr(self, name)
                buffer[:used] = buffer[off : off + used]
                if name != "_arr_buf":
                    buffer[used : off + used] = 0.0  # the rest was the history's (later rows are zero)
            off = 0
        self._off = off
        self._rows = rows
        self._views()
        self._base = keep
        if rows > self.max_history_rows:
            self.max_history_rows = rows

    def _views(self) -> None:
        """The history's rows in the buffers: ``_inflow``, ``_outflow`` and ``_arrivals`` (row 0: step ``_base``)."""
        window = slice(self._off, self._off + self._rows)
        self._inflow = self._in_buf[window]
        self._outflow = self._out_buf[window]
        self._arrivals = self._arr_buf[window]
        self._in_flat = _flat(self._inflow)
        self._out_flat = _flat(self._outflow)

    def _advance(self) -> list[FluidTcpFlow]:
        """Compute the next step; return the flows whose delivery became known in it."""
        if self._layout_dirty:
            self._layout()
        k = self._k + 1
        if k + 2 - self._base > self._rows:
            self._compact(k)
        self._k = k
        self.steps += 1
        base = self._base
        r = k - base  # row of step k
        dt = self.dt_s
        now = self._origin + k * dt
        flows = self._flows
        cubic = self.cubic
        mss = self._mss
        first, last, e_link = self._first, self._last, self._e_link
        inflow, outflow = self._inflow, self._outflow
        n_flows = len(flows)
        n_cols = self._n_cols
        start_step = self._start_step
        # ACKs back at the senders and windows
        if n_flows:
            # the ACKs (per flow) and the inner entries' arrivals, a lag ago, in one read of the outflow curves
            x = float(k) - self._read_lag
            x -= float(base)  # (k - lag) - base, as _at's callers wrote it
            if self._read_lag_min >= 2.0 and (k - self._read_lag_max) - base >= 0.0:
                read = _lerp(self._out_flat, x, x.astype(np.intp), self._read_col)  # 0 <= x <= r - 3: no clamp
            else:
                read = _at_rows(outflow, x, self._read_col, r - 1)
            ack_now = read[:n_flows]
            acked = self._acked
            allowed = self._allowed  # min(size, acked + cwnd)
            size = self._size
            sent_before = self._sent_before  # inflow[r - 1, first]: the sent curves' last row
            gained_now = ack_now - acked
            if self._last_start >= k - 1:
                cap_step = self._cap_step
                for f in (start_step == k - 1).nonzero()[0].tolist():
                    # the handshake's RTT sample starts srtt: propagation plus the queues
                    hops = e_link[first[f] : last[f] + 1]
                    flows[f].window.srtt = flows[f].rtt_s + float(np.sum(self._queue[hops] / cap_step[hops])) * dt
            acking = gained_now > 1e-9
            if self._last_start >= k:
                acking &= start_step < k
            for f in acking.nonzero()[0].tolist():
                flow = flows[f]
                if 0 <= flow.done_step < k:
                    continue
                self._sent_settled = False
                window = flow.window
                column = int(first[f])
                low = max(flow.ack_index - 1, base)
                local, index = _inverse_index(inflow[low - base : r, column], ack_now[f])  # its sent curve
                flow.ack_index = low + index
                sent_at = low + local  # fractional step the acknowledged byte left
                rtt = now - (self._origin + sent_at * dt)
                window.on_ack(now, dt, gained_now[f], ack_now[f], sent_before[f], rtt, mss, cubic)
                flow.acked = ack_now[f]
                acked[f] = ack_now[f]
                allowed[f] = min(size[f], ack_now[f] + window.cwnd)
            if self._last_start >= k:
                sent = np.where(k >= start_step, np.maximum(sent_before, allowed), 0.0)
                self._sent_settled = False
            elif self._sent_settled:  # max(sent_before, allowed) with the allowed that gave sent_before: itself
                sent = sent_before
            else:
                sent = np.maximum(sent_before, allowed)
                self._sent_settled = True
            self._sent_before = sent
            # arrivals: hop 0 from the sender, later hops from the previous link a propagation delay ago
            row_in = inflow[r]
            row_in[first] = sent
            if len(self._inner):
                row_in[self._inner] = read[n_flows:]
        n_links = len(self._capacity)
        total = np.bincount(e_link, weights=inflow[r, :n_cols], minlength=n_links) if n_flows else np.zeros(n_links)
        fixed = self._fixed_arrivals
        if fixed is None:
            fixed = self._fixed_arrivals = self._retired + self._bg_cum
        total += fixed + self._bg_rate * (now - self._bg_t)
        self._arrivals[r] = total
        served = np.minimum(total, self._served + self._cap_step)
        if self.check_capacity:
            ratio = float(np.max((served - self._served) / self._cap_step))  # this step's service / capacity
            if ratio > self.max_load_ratio:
                self.max_load_ratio = ratio
        self._served = served
        queue = total - served
        self._queue = queue
        np.maximum(self.max_queue_bytes, queue, out=self.max_queue_bytes)
        # FIFO: the link has served every byte that arrived before tau, A(tau) = served
        pointer = self._pointer
        empty = queue <= 1e-9
        queued = (~empty).nonzero()[0].tolist() if np.count_nonzero(empty) < n_links else []  # (queues are finite)
        if queued or not self.queue_limit_bytes > 1e-9:  # else queue - limit < 0 <= overflow_bytes (from 0, grows)
            np.maximum(self.overflow_bytes, queue - self.queue_limit_bytes, out=self.overflow_bytes)
        if queued:
            tau = np.empty(n_links)
            tau.fill(float(r))
            for link in queued:
                start = int(pointer[link]) - base
                tau[link] = start + _inverse(self._arrivals[start : r + 1, link], served[link])
                pointer[link] = base + int(tau[link])
        pointer[empty] = k  # an empty queue: every byte so far has left
        delivered_now: list[FluidTcpFlow] = []
        if not n_flows:
            return delivered_now
        if queued:
            # tau is in [0, r] (a queue's pointer is a kept row): of _at's clamps only low <= r - 1 can bind
            x = tau[e_link]
            row = x.astype(np.intp)
            np.minimum(row, r - 1, out=row)
            outflow[r, :n_cols] = _lerp(self._in_flat, x, row, self._e_col)  # holes: 0.0
        else:
            # every tau is r: _at's x = r, low = r - 1, frac = 1.0, so a + frac * (b - a) is (b - a) + a exactly
            out, before_row = outflow[r, :n_cols], inflow[r - 1, :n_cols]
            np.subtract(inflow[r, :n_cols], before_row, out=out)
            out += before_row
        # deliveries, evaluated ``ahead`` steps early: delivered(kk) = the last link's output a propagation
        # delay before kk, known once that output is; read (rows r - 1 and r) only when a flow may be done
        near = outflow[r - 1 : r + 1].take(last, axis=1) >= self._near_size
        if self._ahead_min >= 1 and not np.count_nonzero(near):
            if self._next_done <= k:
                self._retire(k)
            return delivered_now
        delivered = self._delivered_at(k)
        if self._delivered_k == k - 1:
            before = self._delivered_now
        else:  # the previous step's, as it was (new flows: 0.0)
            before = self._delivered_at(k - 1) if k >= 2 else np.zeros(n_flows)
        self._delivered_now = delivered
        self._delivered_k = k
        kk = k + self._ahead
        size = self._size
        for f in (delivered >= self._done_size).nonzero()[0].tolist():
            flow = flows[f]
            if not math.isnan(flow.completion_s) or kk[f] < start_step[f]:
                continue
            step = delivered[f] - before[f]
            frac = (size[f] - before[f]) / step if step > 0 else 1.0
            done_step = int(kk[f])
            flow.completion_s = float((done_step - 1 + frac - start_step[f]) * dt + flow.store_forward_s)
            flow.done_step = done_step
            self._next_done = min(self._next_done, done_step)
            self._near_size[f] = math.inf
            self._reported += 1
            self.bits_delivered += flow.bits
            self.max_undelivered_bits = max(self.max_undelivered_bits, (size[f] - delivered[f]) * 8.0)
            delivered_now.append(flow)
        if self._next_done <= k:
            self._retire(k)
        return delivered_now

    def _delivered_at(self, k: int) -> _Array:
        """Per flow: wire bytes delivered at step ``k + ahead`` (its last output ``deliver_lag`` steps before)."""
        base = self._base
        x = (k + self._ahead_f) - self._deliver_lag - base  # r - frac(lag): in [r - 1, r] for r = k - base
        if self._ahead_min >= 1:  # newest row r + ahead >= r + 1: no clamp binds (x >= 0 for r >= 1)
            return _lerp(self._out_flat, x, x.astype(np.intp), self._last)
        return _at_rows(self._outflow, x, self._last, self._ahead + (k - base))

    def _retire(self, k: int) -> None:
        """Drop the flows done by step ``k`` (their bytes have all left: their arrivals stay as a constant)."""
        r = k - self._base
        if self._delivered_k != k:
            self._delivered_now = self._delivered_at(k)
            self._delivered_k = k
        keep: list[FluidTcpFlow] = []
        for f, flow in enumerate(self._flows):
            if 0 <= flow.done_step <= k:
                flow.delivered = float(self._delivered_now[f])
                for e in range(int(self._first[f]), int(self._last[f]) + 1):
                    self._retired[self._e_link[e]] += self._inflow[r, e]
                self._fixed_arrivals = None
                self._dead.append((flow.column, flow.column + len(flow.links)))  # zeroed by the next layout
                self._reported -= 1
            else:
                keep.append(flow)
        self._flows = keep
        self._layout_dirty = True


def simulate_fluid_tcp(
    capacity_bps: Sequence[float],
    flows: Sequence[FluidFlow],
    background: Sequence[ConstantArrival] = (),
    transport: TransportConfig | None = None,
    cubic: CubicConfig | None = None,
    dt_s: float | None = None,
    max_steps: int = 5_000_000,
    trace_every: int = 0,
) -> FluidTcpResult:
    """Play TCP flows and constant-rate background over FIFO fluid queues (see the module docstring).

    Drives a ``FluidTcpNetwork`` over a fixed flow list: every flow is added up front with its start step, and the
    background's per-link rates change at the exact times its terms start and stop reaching each link.

    Args:
        capacity_bps: Capacity of every link, in bit/s (> 0).
        flows: The TCP flows.
        background: Constant-rate arrivals (their sum on a link must not exceed its capacity).
        transport: MSS, initial window and header bytes (``model`` is ignored: this is a TCP model); default
            ``TransportConfig()``.
        cubic: CUBIC, HyStart, buffer and queue settings; default ``CubicConfig()``.
        dt_s: Time step in s; default: the smallest round-trip propagation time / ``cubic.steps_per_rtt``.
        max_steps: Give up after this many steps.
        trace_every: Record a trace row every this many steps (0: none); a diagnostic.

    Returns:
        Per-flow completion times and per-link queue statistics.

    Raises:
        ConfigError: no flows, a bad link id, capacity, size, time or step, background above a link's capacity,
            or flows that cannot finish within ``max_steps``.
    """
    transport = transport if transport is not None else TransportConfig()
    cubic = cubic if cubic is not None else CubicConfig()
    capacity = np.asarray(capacity_bps, dtype=np.float64)
    n_links = len(capacity)
    if n_links == 0 or not np.all(np.isfinite(capacity) & (capacity > 0)):
        raise ConfigError(f"capacity_bps={list(capacity_bps)!r} must be a non-empty list of finite values > 0")
    if not flows:
        raise ConfigError("simulate_fluid_tcp needs at least one flow")
    for i, flow in enumerate(flows):
        _check_path(f"flow {i}", flow.links, flow.prop_delays_s, n_links)
        if not (math.isfinite(flow.payload_bytes) and flow.payload_bytes > 0):
            raise ConfigError(f"flow {i}: payload_bytes={flow.payload_bytes!r} must be finite and > 0")
        if not (math.isfinite(flow.start_s) and flow.start_s >= 0):
            raise ConfigError(f"flow {i}: start_s={flow.start_s!r} must be finite and >= 0")
        if not (math.isfinite(flow.reverse_delay_s) and flow.reverse_delay_s >= 0):
            raise ConfigError(f"flow {i}: reverse_delay_s={flow.reverse_delay_s!r} must be finite and >= 0")
    for i, bg in enumerate(background):
        _check_path(f"background {i}", bg.links, bg.prop_delays_s, n_links)
        if not (math.isfinite(bg.rate_bps) and bg.rate_bps > 0):
            raise ConfigError(f"background {i}: rate_bps={bg.rate_bps!r} must be finite and > 0")
        if not (math.isfinite(bg.start_s) and math.isfinite(bg.stop_s) and 0 <= bg.start_s < bg.stop_s):
            raise ConfigError(f"background {i}: start_s={bg.start_s!r}, stop_s={bg.stop_s!r} need 0 <= start < stop")
    load = np.zeros(n_links)
    for _, sign, i in sorted(
        [(b.start_s, 1.0, i) for i, b in enumerate(background)]
        + [(b.stop_s, -1.0, i) for i, b in enumerate(background)]
    ):
        load[list(background[i].links)] += sign * background[i].rate_bps
        if np.any(load > capacity * (1 + 1e-12)):
            link = int(np.argmax(load / capacity))
            raise ConfigError(
                f"background on link {link} reaches {load[link]:.6g} bit/s, above its capacity "
                f"{capacity[link]:.6g} bit/s; lower the rates"
            )

    rtts = [sum(f.prop_delays_s) + f.reverse_delay_s for f in flows]
    if dt_s is None:
        dt_s = max(min(rtts), 1e-6) / cubic.steps_per_rtt
    if not (math.isfinite(dt_s) and dt_s > 0):
        raise ConfigError(f"dt_s={dt_s!r} must be finite and > 0")
    dt = dt_s
    queue_limit = _queue_limit_bytes(
        cubic, float(capacity.max()), max(rtts), float(transport.mss_bytes + transport.header_bytes)
    )
    # background arrival at each link of its path: rate changes at (time, term) when a term starts or stops there
    terms: list[tuple[int, float]] = []
    changes: list[tuple[float, int]] = []
    for bg in background:
        offset = 0.0
        for link, delay in zip(bg.links, bg.prop_delays_s, strict=True):
            changes += [(bg.start_s + offset, len(terms)), (bg.stop_s + offset, len(terms))]
            terms.append((link, bg.rate_bps))
            offset += delay
    changes.sort()
    starts = {i: t for t, i in reversed(changes)}  # each term's first change is its start
    active = [False] * len(terms)

    t0 = min(min(f.start_s for f in flows), min((bg.start_s for bg in background), default=math.inf))
    net = FluidTcpNetwork(capacity.tolist(), None, transport, cubic, dt, queue_limit)
    net._reset(t0)  # the grid starts at the first start, flows or background
    net._idle = False
    members = [
        net.add_flow(
            f.links,
            f.prop_delays_s,
            f.reverse_delay_s,
            f.payload_bytes,
            f.start_s,
            i,
            start_step=math.ceil((f.start_s - t0) / dt - 1e-9),
        )
        for i, f in enumerate(flows)
    ]
    trace: list[tuple[float, ...]] = []
    position = 0
    k = 0
    waiting = 0  # the members before it are complete and past their done step (final: k only grows)
    while True:
        while waiting < len(members) and not (
            math.isnan(members[waiting].completion_s) or members[waiting].done_step > k
        ):
            waiting += 1
        if waiting == len(members):
            break
        k += 1
        if k >= max_steps:
            raise ConfigError(f"flows did not finish within max_steps={max_steps} steps of {dt:.3g} s; raise it")
        now = t0 + k * dt
        while position < len(changes) and changes[position][0] <= now:
            at = changes[position][0]
            while position < len(changes) and changes[position][0] == at:
                term = changes[position][1]
                active[term] = starts[term] == at  # a term starts before it stops
                position += 1
            rates = np.zeros(n_links)
            for term, (link, rate) in enumerate(terms):
                if active[term]:
                    rates[link] += rate
            net.set_background(rates, at)
        net._advance()
        if trace_every and k % trace_every == 0:
            trace.append(
                (
                    now,
                    *_delivered(net, members, k),
                    *(m.window.cwnd for m in members),
                    *net._queue.tolist(),
                )
            )
    return FluidTcpResult(
        completion_s=tuple(m.completion_s for m in members),
        slow_start_exit_s=tuple(
            float(m.window.exit_s - (t0 + m.start_step * dt)) if not math.isnan(m.window.exit_s) else math.nan
            for m in members
        ),
        slow_start_exit_window_bytes=tuple(float(m.window.ssthresh) if m.window.found else math.nan for m in members),
        slow_start_exit_cause=tuple(m.window.exit_cause for m in members),
        max_queue_bytes=tuple(float(q) for q in net.max_queue_bytes),
        overflow_bytes=tuple(float(q) for q in np.maximum(net.overflow_bytes, 0.0)),
        queue_limit_bytes=float(queue_limit),
        dt_s=dt,
        steps=k,
        trace=tuple(trace),
    )


def _queue_limit_bytes(cubic: CubicConfig, max_capacity_bps: float, max_rtt_s: float, segment_bytes: float) -> float:
    """DropTail limit as the suite's ns-3 runs size it (the fastest link's BDP over the longest RTT), in wire bytes."""
    packets = max(
        cubic.min_queue_packets,
        math.ceil(cubic.queue_bdp_factor * max_capacity_bps * max_rtt_s / (cubic.queue_packet_bytes * 8)),
    )
    return packets * segment_bytes


def _delivered(net: FluidTcpNetwork, members: Sequence[FluidTcpFlow], k: int) -> list[float]:
    """Per flow: wire bytes delivered by step ``k`` (a trace diagnostic; a flow that left keeps its last value)."""
    current = {id(f) for f in net._flows}
    index = {id(f): i for i, f in enumerate(net._live)}  # rows of the per-flow arrays (until the next layout)
    out = []
    for m in members:
        i = index.get(id(m)) if id(m) in current else None
        if i is None:
            out.append(m.delivered if m.done_step >= 0 else 0.0)
            continue
        x = k - net._deliver_lag[i] - net._base
        out.append(float(_at(net._outflow, np.array([x]), np.array([net._last[i]]), k - net._base)[0]))
    return out


def _check_path(where: str, links: tuple[int, ...], delays: tuple[float, ...], n_links: int) -> None:
    if not links or len(links) != len(delays):
        raise ConfigError(f"{where}: links={links!r} and prop_delays_s={delays!r} must be non-empty and match")
    for link, delay in zip(links, delays, strict=True):
        if not (isinstance(link, int) and 0 <= link < n_links):
            raise ConfigError(f"{where}: link id {link!r} is not in 0..{n_links - 1}")
        if not (math.isfinite(delay) and delay >= 0):
            raise ConfigError(f"{where}: prop delay {delay!r} of link {link} must be finite and >= 0")


def _grow(array: _Array, rows: int) -> _Array:
    bigger = np.zeros((rows, *array.shape[1:]))
    bigger[: len(array)] = array
    return bigger


def _at(history: _Array, index: _Array, columns: NDArray[np.intp], newest: int | NDArray[np.intp]) -> _Array:
    """``history[:, columns]`` at fractional row ``index`` (linear in between; row 0 before, ``newest`` at most)."""
    x = np.minimum(np.maximum(index, 0.0), newest)
    low = np.minimum(x.astype(np.intp), np.maximum(newest - 1, 0))  # x >= 0: truncation is floor
    frac = x - low
    a = history[low, columns]
    b = history[np.minimum(low + 1, newest), columns]
    return np.asarray(a + frac * (b - a), dtype=np.float64)


def _at_rows(history: _Array, index: _Array, columns: NDArray[np.intp], newest: int | NDArray[np.intp]) -> _Array:
    """``_at`` with fewer temporaries (the step's hot path): flat ``take``s, ``index`` overwritten in place.

    The same operations on the same values as ``_at``, so the same bits: with ``newest >= 1`` the upper row
    ``min(low + 1, newest)`` is ``low + 1``, and ``a + frac * (b - a)`` is evaluated in place.
    """
    if isinstance(newest, int) and newest < 1:
        return _at(history, index, columns, newest)
    x = np.maximum(index, 0.0, out=index)
    np.minimum(x, newest, out=x)
    low = x.astype(np.intp)
    np.minimum(low, newest - 1, out=low)
    return _lerp(_flat(history), x, low, columns)


def _flat(history: _Array) -> tuple[_Array, _Array, int]:
    """A C-contiguous ``history`` flattened, the same from its second row on, and its width (for ``_lerp``)."""
    flat = history.reshape(-1)
    width = history.shape[1]
    return flat, flat[width:], width


def _lerp(history: tuple[_Array, _Array, int], x: _Array, low: NDArray[np.intp], columns: NDArray[np.intp]) -> _Array:
    """``history[:, columns]`` (given by ``_flat``) at rows ``x`` from ``low = floor(x)`` (``_at`` after its clamps)."""
    flat, following, width = history
    frac = x - low
    at = low * width
    at += columns
    a = flat.take(at)
    b: _Array = following.take(at)
    b -= a
    b *= frac
    b += a
    return b


def _inverse(curve: _Array, value: float) -> float:
    """Fractional index where the non-decreasing ``curve`` first reaches ``value`` (its last index if never)."""
    return _inverse_at(curve, value, int(curve.searchsorted(value, side="left")))


def _inverse_at(curve: _Array, value: float, i: int) -> float:
    """``_inverse`` from ``i``, the ``searchsorted`` index of ``value`` in ``curve``."""
    if i <= 0:
        return 0.0
    if i >= len(curve):
        return float(len(curve) - 1)
    low, high = curve[i - 1], curve[i]
    return i - 1 + (value - low) / (high - low) if high > low else float(i)


def _inverse_index(curve: _Array, value: float) -> tuple[float, int]:
    """``_inverse(curve, value)`` and the ``searchsorted`` index it came from (where a later, larger value starts)."""
    i = int(curve.searchsorted(value, side="left"))
    return _inverse_at(curve, value, i), i
