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
the receiver ACKs every segment (the suite's ns-3 setting). This module is used by transfer evaluation only; the
task simulator (``FlowNetwork``) keeps its event-driven ``tcp`` model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cpnkit.errors import ConfigError
from cpnkit.estimate import TransportConfig
from cpnkit.estimate.transport import last_segment_bits, wire_bits

__all__ = ["ConstantArrival", "CubicConfig", "FluidFlow", "FluidTcpResult", "simulate_fluid_tcp"]

_Array = NDArray[np.float64]
_SRTT_GAIN = 0.125  # RFC 6298 alpha, ns-3 RttMeanDeviation::Alpha


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

    mss = float(transport.mss_bytes + transport.header_bytes)  # wire bytes per full segment
    rtts = [sum(f.prop_delays_s) + f.reverse_delay_s for f in flows]
    if dt_s is None:
        dt_s = max(min(rtts), 1e-6) / cubic.steps_per_rtt
    if not (math.isfinite(dt_s) and dt_s > 0):
        raise ConfigError(f"dt_s={dt_s!r} must be finite and > 0")
    dt = dt_s
    n_flows = len(flows)
    size = np.array([wire_bits(f.payload_bytes, transport) / 8.0 for f in flows])
    store_forward = [
        sum(last_segment_bits(f.payload_bytes, transport) / capacity[link] for link in f.links[1:]) for f in flows
    ]
    # flow-hop entries
    e_link = np.array([link for f in flows for link in f.links], dtype=np.intp)
    e_prop = np.array([d for f in flows for d in f.prop_delays_s])
    first = np.cumsum([0] + [len(f.links) for f in flows])[:-1]
    last = first + np.array([len(f.links) for f in flows]) - 1
    inner = np.array([e for e in range(len(e_link)) if e not in set(first.tolist())], dtype=np.intp)
    n_entries = len(e_link)
    # a packet is forwarded once wholly received: its ACK comes one full-segment serialisation per later hop
    # after the fluid's byte (the handshake's SYN, a header, is ~30x shorter and neglected)
    segment_forward_s = np.array([sum(mss * 8.0 / capacity[link] for link in f.links[1:]) for f in flows])
    ack_lag = (np.array([f.prop_delays_s[-1] + f.reverse_delay_s for f in flows]) + segment_forward_s) / dt
    deliver_lag = np.array([f.prop_delays_s[-1] for f in flows]) / dt
    inner_lag = e_prop[inner - 1] / dt
    cap_step = capacity / 8.0 * dt  # bytes a link serves per step
    # queue limit as the suite's ns-3 runs size it: the fastest link's BDP over the longest RTT
    limit_packets = max(
        cubic.min_queue_packets,
        math.ceil(cubic.queue_bdp_factor * capacity.max() * max(rtts) / (cubic.queue_packet_bytes * 8)),
    )
    queue_limit = limit_packets * mss
    # background arrival at each link of its path: (link, rate bytes/s, start, stop)
    bg_terms = []
    for bg in background:
        offset = 0.0
        for link, delay in zip(bg.links, bg.prop_delays_s, strict=True):
            bg_terms.append((link, bg.rate_bps / 8.0, bg.start_s + offset, bg.stop_s + offset))
            offset += delay
    bg_link = np.array([b[0] for b in bg_terms], dtype=np.intp)
    bg_rate = np.array([b[1] for b in bg_terms])
    bg_start = np.array([b[2] for b in bg_terms])
    bg_span = np.array([b[3] - b[2] for b in bg_terms])

    t0 = min(min(f.start_s for f in flows), min((bg.start_s for bg in background), default=math.inf))
    start_step = np.array([math.ceil((f.start_s - t0) / dt - 1e-9) for f in flows])
    capacity_rows = 4096
    inflow = np.zeros((capacity_rows, n_entries))  # cumulative arrivals of each flow-hop into its link's queue
    outflow = np.zeros((capacity_rows, n_entries))  # cumulative departures
    arrivals = np.zeros((capacity_rows, n_links))  # cumulative arrivals per link (TCP + background)
    sent = np.zeros((capacity_rows, n_flows))
    served = np.zeros(n_links)
    pointer = np.zeros(n_links, dtype=np.intp)
    max_cwnd = cubic.buffer_bytes / transport.mss_bytes * mss
    windows = [_Window(transport.initial_window_segments * mss, max_cwnd) for _ in flows]
    acked = np.zeros(n_flows)
    done = np.full(n_flows, math.nan)
    delivered_prev = np.zeros(n_flows)
    max_queue = np.zeros(n_links)
    overflow = np.zeros(n_links)
    used_links = np.unique(e_link)
    rows = np.arange(n_flows)
    queue_prev = np.zeros(n_links)
    trace: list[tuple[float, ...]] = []
    k = 0
    while np.isnan(done).any():
        k += 1
        if k >= max_steps:
            raise ConfigError(f"flows did not finish within max_steps={max_steps} steps of {dt:.3g} s; raise it")
        if k >= capacity_rows:
            capacity_rows *= 2
            inflow, outflow, arrivals, sent = (_grow(a, capacity_rows) for a in (inflow, outflow, arrivals, sent))
        now = t0 + k * dt
        # ACKs back at the senders and windows
        ack_now = _at(outflow, k - ack_lag, last, k - 1)
        for f in range(n_flows):
            if k == start_step[f] + 1:  # the handshake's RTT sample starts srtt: propagation plus the queues then
                hops = e_link[first[f] : last[f] + 1]
                windows[f].srtt = rtts[f] + float(np.sum(queue_prev[hops] / cap_step[hops])) * dt
            if k <= start_step[f] or not math.isnan(done[f]):
                continue
            gained = ack_now[f] - acked[f]
            if gained > 1e-9:
                sent_at = _inverse(sent[:k, f], ack_now[f])  # fractional step the acknowledged byte left
                rtt = now - (t0 + sent_at * dt)
                windows[f].on_ack(now, dt, gained, ack_now[f], sent[k - 1, f], rtt, mss, cubic)
                acked[f] = ack_now[f]
        started = k >= start_step
        allowed = np.minimum(size, acked + np.array([w.cwnd for w in windows]))
        sent[k] = np.where(started, np.maximum(sent[k - 1], allowed), 0.0)
        # arrivals: hop 0 from the sender, later hops from the previous link a propagation delay ago
        inflow[k, first] = sent[k]
        if len(inner):
            inflow[k, inner] = _at(outflow, k - inner_lag, inner - 1, k - 1)
        total = np.bincount(e_link, weights=inflow[k], minlength=n_links)
        if len(bg_terms):
            elapsed = np.clip(now - bg_start, 0.0, bg_span)
            total += np.bincount(bg_link, weights=bg_rate * elapsed, minlength=n_links)
        arrivals[k] = total
        served = np.minimum(total, served + cap_step)
        queue = total - served
        queue_prev = queue
        np.maximum(max_queue, queue, out=max_queue)
        np.maximum(overflow, queue - queue_limit, out=overflow)
        # FIFO: the link has served every byte that arrived before tau, A(tau) = served
        tau = np.full(n_links, float(k))
        for link in used_links:
            if queue[link] > 1e-9:
                tau[link] = pointer[link] + _inverse(arrivals[pointer[link] : k + 1, link], served[link])
                pointer[link] = int(tau[link])
        outflow[k] = _at(inflow, tau[e_link], np.arange(n_entries), k)
        # deliveries
        delivered = _at(outflow, k - deliver_lag, last, k)
        finished = np.isnan(done) & (delivered >= size * (1 - 1e-12)) & started
        for f in rows[finished]:
            step = delivered[f] - delivered_prev[f]
            frac = (size[f] - delivered_prev[f]) / step if step > 0 else 1.0
            done[f] = (k - 1 + frac - start_step[f]) * dt + store_forward[f]
        delivered_prev = delivered
        if trace_every and k % trace_every == 0:
            trace.append((now, *delivered.tolist(), *(w.cwnd for w in windows), *queue.tolist()))
    return FluidTcpResult(
        completion_s=tuple(float(d) for d in done),
        slow_start_exit_s=tuple(
            float(w.exit_s - (t0 + s * dt)) if not math.isnan(w.exit_s) else math.nan
            for w, s in zip(windows, start_step, strict=True)
        ),
        slow_start_exit_window_bytes=tuple(float(w.ssthresh) if w.found else math.nan for w in windows),
        slow_start_exit_cause=tuple(w.exit_cause for w in windows),
        max_queue_bytes=tuple(float(q) for q in max_queue),
        overflow_bytes=tuple(float(q) for q in np.maximum(overflow, 0.0)),
        queue_limit_bytes=float(queue_limit),
        dt_s=dt,
        steps=k,
        trace=tuple(trace),
    )


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


def _at(history: _Array, index: _Array, columns: NDArray[np.intp], newest: int) -> _Array:
    """``history[:, columns]`` at fractional row ``index`` (linear in between; row 0 before, ``newest`` at most)."""
    x = np.clip(index, 0.0, float(newest))
    low = np.minimum(np.floor(x).astype(np.intp), max(newest - 1, 0))
    frac = x - low
    a = history[low, columns]
    b = history[np.minimum(low + 1, newest), columns]
    return np.asarray(a + frac * (b - a), dtype=np.float64)


def _inverse(curve: _Array, value: float) -> float:
    """Fractional index where the non-decreasing ``curve`` first reaches ``value`` (its last index if never)."""
    i = int(np.searchsorted(curve, value, side="left"))
    if i <= 0:
        return 0.0
    if i >= len(curve):
        return float(len(curve) - 1)
    low, high = curve[i - 1], curve[i]
    return i - 1 + (value - low) / (high - low) if high > low else float(i)
