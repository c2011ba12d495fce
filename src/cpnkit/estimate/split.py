"""Multipath splits: how much of a task's data to send on each path so the slowest path finishes first.

``waterfill_split`` minimises the completion time of the slowest subflow given each path's one-way delay and
available rate (probed, or predicted). Under the ``fluid`` transport this is the classic water-filling: every
path used finishes at the same time ``T``, with ``T = (8 S + sum r_i d_i) / sum r_i`` over the paths whose delay
is below ``T``. Under ``tcp`` each path's transfer ramps up by slow start, so what a path can deliver by ``T``
is not linear in ``T``; the split then comes from a bisection on ``T`` over the exact per-path delivery function
of ``cpnkit.estimate.transport`` (a split that equalises fluid finishing times is biased towards long paths,
which slow start penalises most).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cpnkit.errors import ConfigError
from cpnkit.estimate.transport import TransportConfig, transfer_time_s

__all__ = ["bytes_delivered_by", "waterfill_split"]

_BISECTION_STEPS = 60


def bytes_delivered_by(
    deadline_s: float,
    rate_bps: float,
    one_way_delay_s: float,
    rtt_s: float | None = None,
    config: TransportConfig = TransportConfig(),  # noqa: B008 - frozen
) -> float:
    """The largest payload (bytes) one flow delivers within ``deadline_s`` at a constant share ``rate_bps``.

    The inverse of ``transfer_time_s`` (store-and-forward aside): rounds of one window per round trip,
    doubling, with the last round or the first round whose window no longer limits the flow sent at ``rate_bps``.

    >>> round(bytes_delivered_by(0.018, 1e9, 0.01, config=TransportConfig(model="fluid")))  # 8 ms at 1 Gbit/s
    1000000
    """
    budget = deadline_s - one_way_delay_s
    if budget <= 0.0:
        return 0.0
    if not config.is_tcp:
        return rate_bps * budget / 8.0
    rtt = 2.0 * one_way_delay_s if rtt_s is None else rtt_s
    if config.handshake:
        budget -= rtt
        if budget <= 0.0:
            return 0.0
    window = config.initial_window_bits()
    sent = 0.0  # wire bits completed in full window-limited rounds
    best = 0.0
    elapsed = 0.0
    while True:
        # finish in this round as a burst at the share rate (the window bounds the burst unless it no longer limits)
        burst = rate_bps * (budget - elapsed)
        if window < rate_bps * rtt:
            burst = min(burst, window)
        best = max(best, sent + burst)
        if window >= rate_bps * rtt or elapsed + rtt > budget:
            break
        sent += window
        elapsed += rtt
        window *= 2.0
    # the largest payload whose wire size fits in `best` bits: whole segments, then a partial one after its header
    wire_bytes = best / 8.0
    segment = config.mss_bytes + config.header_bytes
    full = math.floor(wire_bytes / segment)
    return full * config.mss_bytes + max(0.0, wire_bytes - full * segment - config.header_bytes)


def waterfill_split(
    size_bytes: float,
    one_way_delay_s: Sequence[float],
    rate_bps: Sequence[float],
    rtt_s: Sequence[float] | None = None,
    config: TransportConfig = TransportConfig(model="fluid"),  # noqa: B008 - frozen
) -> tuple[tuple[float, ...], float]:
    """Split ``size_bytes`` over paths to minimise the slowest path's completion time.

    Args:
        size_bytes: Data to send, in bytes (> 0).
        one_way_delay_s: One-way delay of each path, in s (probed or predicted).
        rate_bps: Rate each path can give the task, in bit/s (e.g. the probed available bandwidth); > 0.
        rtt_s: Round-trip time of each path, in s (``tcp`` only; default twice the one-way delay).
        config: Transport model.

    Returns:
        The split (shares summing to 1, zero for paths not worth using) and the predicted completion time in s
        (under ``tcp`` computed with ``transfer_time_s`` for the split actually returned).

    Raises:
        ConfigError: no paths, lengths differ, a non-positive rate, or a negative size.

    >>> split, t = waterfill_split(10e6, [0.01, 0.02], [1e9, 1e9])  # the 10 ms path carries more
    >>> [round(x, 4) for x in split], round(t, 4)
    ([0.5625, 0.4375], 0.055)
    >>> waterfill_split(1e6, [0.01, 0.02], [1e9, 1e9])[0]  # 1 MB is done before the 20 ms path delivers a bit
    (1.0, 0.0)
    """
    n = len(one_way_delay_s)
    if n == 0 or len(rate_bps) != n or (rtt_s is not None and len(rtt_s) != n):
        raise ConfigError(f"give one delay, rate (and rtt) per path; got {n} delays and {len(rate_bps)} rates")
    if not (math.isfinite(size_bytes) and size_bytes > 0):
        raise ConfigError(f"size_bytes={size_bytes!r} must be finite and > 0")
    for rate in rate_bps:
        if not (math.isfinite(rate) and rate > 0):
            raise ConfigError(f"rate {rate!r} bit/s must be finite and > 0; drop paths without bandwidth")
    rtts = [2.0 * d for d in one_way_delay_s] if rtt_s is None else list(rtt_s)
    if not config.is_tcp:
        order = sorted(range(n), key=lambda i: one_way_delay_s[i])
        bits = size_bytes * 8.0
        active_rate = 0.0
        active_rd = 0.0
        finish = math.inf
        for position, i in enumerate(order):
            active_rate += rate_bps[i]
            active_rd += rate_bps[i] * one_way_delay_s[i]
            finish = (bits + active_rd) / active_rate
            nxt = order[position + 1] if position + 1 < n else None
            if nxt is None or finish <= one_way_delay_s[nxt]:
                break
        shares = [max(0.0, rate_bps[i] * (finish - one_way_delay_s[i]) / 8.0) for i in range(n)]
        total = math.fsum(shares)
        return tuple(s / total for s in shares), finish

    def deliverable(deadline: float) -> list[float]:
        return [bytes_delivered_by(deadline, rate_bps[i], one_way_delay_s[i], rtts[i], config) for i in range(n)]

    low = min(one_way_delay_s)
    high = min(transfer_time_s(size_bytes, rate_bps[i], one_way_delay_s[i], rtts[i], config) for i in range(n))
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (low + high)
        if math.fsum(deliverable(mid)) >= size_bytes:
            high = mid
        else:
            low = mid
    amounts = deliverable(high)
    total = math.fsum(amounts)
    split = tuple(a / total for a in amounts)
    finish = max(
        transfer_time_s(size_bytes * share, rate_bps[i], one_way_delay_s[i], rtts[i], config)
        for i, share in enumerate(split)
        if share > 0
    )
    return split, finish
