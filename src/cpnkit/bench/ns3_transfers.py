"""Run transfer scenarios in ns-3 (packet level) to validate cpnkit's transport models.

``run_ns3(scenarios)`` builds each ``cpnkit.sim.transfers.TransferScenario`` in ns-3.44 (PyPI ``ns3``, the
``ns3`` extra) and returns the same ``TransferResult`` that cpnkit's own models return, with ``model="ns3"``.

**Network.** One ns-3 node per topology node and one point-to-point link per node pair that has links: each
direction's ``NetDevice`` ``DataRate`` is that direction's ``capacity_bps`` and the channel ``Delay`` is the
pair's ``prop_delay_s`` (both directions must have the same delay, and both must exist: ACKs and handshakes flow
back). The rate applies to whole frames, including the 2-byte PPP header, so a full 1500-byte IP packet takes
1502 x 8 / capacity_bps on the wire and TCP's payload goodput is at most 1448 / 1502 = 96.4 % of the capacity.
The default FqCoDel root queue disc that ``Ipv4AddressHelper`` installs is removed
(``TrafficControlHelper.Uninstall``) so packets go straight to the device's **DropTail** queue, sized to
``max(min_queue_packets, queue_bdp_factor x the largest bandwidth-delay product)`` packets (by default
``max(1000, 2 x BDP)``; the BDP is the fastest link's capacity times the longest round trip of the scenario's
paths, in 1500-byte packets: links faster than a path's bottleneck feed it in bursts, and slow start overshoots a
path's own BDP). Deep FIFO queues keep TCP loss-free, like the fluid and ``tcp`` models assume (in the shipped
suite two scenarios of 62 drop packets, 38 and 25, late in 50 MB transfers), while still letting queueing delay
build up (bufferbloat) as it does on real FIFO links: a long CUBIC flow that never loses a packet keeps growing
its window and fills the queue, which slows down every flow that joins it later.

**Routing.** Every TCP subflow gets its own source and destination address (a /30 per subflow from
172.16.0.0/13: ``.1`` added to the first-hop interface of its source, ``.2`` to the last-hop interface of its
destination) and static host routes (``Ipv4StaticRoutingHelper``) along its path for the destination address
and back along the reverse path for the source address: data follows the subflow's path, ACKs the reverse path.
Background flows get the same from 172.24.0.0/13.

**TCP** (``Ns3Settings``; close to a modern Linux sender): MSS 1448 bytes (``SegmentSize``: 1500-byte MTU less
20 IP, 20 TCP and 12 timestamp-option bytes), ``InitialCwnd`` 10 segments (RFC 6928, Linux's default), send and
receive buffers of 64 MiB (never limit the window; window scaling on), SACK and timestamps on, an ACK for every
segment (see below), minimum RTO 200 ms (Linux's), and ns-3.44's default congestion control,
**TCP CUBIC** with HyStart (Linux's default congestion control; ns-3.44's default too). No pacing (Linux paces
only with the ``fq`` qdisc or BBR). Each subflow is one TCP connection from a socket bound to the subflow's source
address to a ``PacketSink`` on its destination address; at the subflow's start the whole payload is handed to the
socket at once (it fits the send buffer), so TCP sends as fast as its window allows.

*ACKs.* A Linux receiver ACKs every segment at the start of a connection (QUICKACK mode, up to 16 quick ACKs) and
the sender counts acknowledged bytes, so slow start doubles the window every round trip. ns-3 has no QUICKACK: with
its default ``DelAckCount`` 2 the first ACK covers one segment and every round leaves its last segment waiting for
the 200 ms delayed-ACK timer, so the window grows by one segment less than it doubles and a 100 KB transfer takes a
whole round trip more than on Linux (+36 % median at <= 300 KB on the shipped suite; <= 3.3 % from 1 MB up).
``delayed_ack_count=1`` (an ACK per segment) reproduces Linux's doubling and is the default here.

**Background flows** are constant-rate UDP (``OnOffApplication`` always on) with 1472-byte datagrams; the
application rate is scaled by 1472 / 1502 so that the flow occupies ``rate_bps`` of every link on its path,
headers included. They run from ``start_s`` to ``stop_s``.

**Completion.** The handshake is not counted. Each connection opens one handshake (two propagation delays plus
SYN / SYN-ACK serialisation) before its task's ``start_s``, and hands its whole payload to TCP as soon as it is
established, so on an idle path the first payload byte leaves at ``start_s`` (to the microsecond); where queues
delay the handshake the payload leaves later (the largest delay is recorded as ``max_start_delay_s``). Opening
connections just before use, rather than long before, matters: the SYN's round trip then includes the queue the
payload will meet, as for a real new connection, so the RTO and HyStart's minimum RTT start realistic; a
connection opened on an idle network and used later behind a full queue suffers spurious timeouts (ns-3 does not
undo them the way Linux's F-RTO does). The whole scenario is shifted by ``t0_s`` (the longest handshake) so that
no connection opens before time 0; background flows run from ``t0_s + start_s`` to ``t0_s + stop_s``.
A subflow's completion is the time its sink received its last payload byte (a ``PacketSink`` ``Rx`` trace sink
written in C++, since Python callables cannot be hooked to ns-3 trace sources) minus the time its payload was
handed to TCP. A task's completion is the largest completion of its subflows (they all start at the task's
``start_s``). Every sink must receive exactly its subflow's bytes, or ``InvariantError`` is raised. The
simulation stops as soon as every sink is complete. Drops (device queues and the traffic-control layer) and TCP
retransmissions are counted in the provenance.

**Process.** ``from ns import ns`` takes 8-10 s and ~650 MB and is done once per process, lazily, from an empty
temporary directory (ns-3's loader scans the current directory for shared libraries). ``Simulator.Destroy()``
runs after each scenario. ns-3 TCP has no random elements here, so results do not depend on ``seed`` (it is set
with ``RngSeedManager`` and recorded anyway).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import importlib.util
import ipaddress
import itertools
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from cpnkit.errors import ConfigError, InvariantError, did_you_mean
from cpnkit.model import Path, Topology
from cpnkit.sim.transfers import TransferResult, TransferScenario

__all__ = ["Ns3Report", "Ns3Settings", "load_ns3", "ns3_version", "run_ns3", "simulate_ns3"]

#: Bytes on the wire per full-size packet: 1500-byte IP packet + 2-byte PPP header.
P2P_FRAME_BYTES = 1502
#: IP packet size used to count queue lengths and bandwidth-delay products, in bytes.
IP_PACKET_BYTES = 1500
#: SYN / SYN-ACK frame size used to place handshakes, in bytes (IP 20 + TCP 20 + options 20 + PPP 2).
_SYN_FRAME_BYTES = 62
_TCP_PORT = 5000
_UDP_PORT = 6000

_HELPERS = r"""
#include <chrono>
#include <cstdint>
#include <vector>
namespace cpnkit_ns3 {
using namespace ns3;

struct SinkRecord { uint64_t target; uint64_t bytes; int64_t last_rx_ns; int64_t done_ns; };
struct Sender { Ptr<Socket> socket; uint64_t bytes; bool connected; bool failed; int64_t first_tx_ns; };

std::vector<SinkRecord> sinks;
std::vector<Sender> senders;
uint64_t sinks_done = 0;
uint64_t drops = 0;
uint64_t retransmissions = 0;

void Reset() {
  sinks.clear(); senders.clear(); sinks_done = 0; drops = 0; retransmissions = 0;
}

void OnSinkRx(size_t i, Ptr<const Packet> packet, const Address &from) {
  SinkRecord &s = sinks[i];
  s.bytes += packet->GetSize();
  s.last_rx_ns = Simulator::Now().GetNanoSeconds();
  if (s.done_ns < 0 && s.bytes >= s.target) {
    s.done_ns = s.last_rx_ns;
    if (++sinks_done == sinks.size()) { Simulator::Stop(); }
  }
}

size_t WatchSink(Ptr<Application> app, uint64_t target) {
  size_t i = sinks.size();
  sinks.push_back(SinkRecord{target, 0, -1, -1});
  app->TraceConnectWithoutContext("Rx", MakeBoundCallback(&OnSinkRx, i));
  return i;
}

void OnDrop(Ptr<const Packet> packet) { ++drops; }

void OnRetransmission(Ptr<const Packet> p, const TcpHeader &h, const Address &a, const Address &b,
                      Ptr<const TcpSocketBase> s) { ++retransmissions; }

// All payload goes into the (large) send buffer at once: TCP sends it as fast as its window allows.
void SendAll(size_t i) {
  Sender &s = senders[i];
  s.first_tx_ns = Simulator::Now().GetNanoSeconds();
  if (s.socket->Send(Create<Packet>((uint32_t)s.bytes)) < 0) { s.failed = true; }
}

void OnConnected(size_t i, Ptr<Socket> socket) { senders[i].connected = true; SendAll(i); }
void OnConnectFailed(size_t i, Ptr<Socket> socket) { senders[i].failed = true; }
void Connect(size_t i, Address remote) { senders[i].socket->Connect(remote); }

// A TCP sender that connects at `open_at` and hands its whole payload to TCP as soon as the handshake is done.
size_t AddSender(Ptr<Node> node, const Address &local, const Address &remote, uint64_t bytes, Time open_at) {
  size_t i = senders.size();
  Ptr<Socket> socket = Socket::CreateSocket(node, TcpSocketFactory::GetTypeId());
  senders.push_back(Sender{socket, bytes, false, false, -1});
  socket->Bind(local);
  socket->SetConnectCallback(MakeBoundCallback(&OnConnected, i), MakeBoundCallback(&OnConnectFailed, i));
  socket->TraceConnectWithoutContext("Retransmission", MakeCallback(&OnRetransmission));
  Simulator::Schedule(open_at, &Connect, i, remote);
  return i;
}

// A full device queue stops the device's transmit queue (flow control); with no queue disc the traffic control
// layer then drops the packet (TcDrop) before it reaches the device, so drops are counted at both places.
void WatchDevice(Ptr<NetDevice> device) {
  device->TraceConnectWithoutContext("MacTxDrop", MakeCallback(&OnDrop));
  device->TraceConnectWithoutContext("PhyRxDrop", MakeCallback(&OnDrop));
}

std::chrono::steady_clock::time_point wall_deadline;
bool wall_exceeded = false;
void CheckWall() {
  if (std::chrono::steady_clock::now() > wall_deadline) { wall_exceeded = true; Simulator::Stop(); return; }
  Simulator::Schedule(MilliSeconds(1), &CheckWall);
}
void ArmWallLimit(double seconds) {
  wall_exceeded = false;
  wall_deadline = std::chrono::steady_clock::now() + std::chrono::microseconds((int64_t)(seconds * 1e6));
  Simulator::Schedule(MilliSeconds(1), &CheckWall);
}

void WatchNode(Ptr<Node> node) {
  node->GetObject<TrafficControlLayer>()->TraceConnectWithoutContext("TcDrop", MakeCallback(&OnDrop));
}
}  // namespace cpnkit_ns3
"""

_NS: Any = None


@dataclass(frozen=True, slots=True)
class Ns3Settings:
    """ns-3 TCP, queue and traffic settings (defaults: close to a modern Linux sender; see the module docstring).

    Attributes:
        segment_size_bytes: TCP MSS in bytes (payload per segment).
        initial_cwnd_segments: Initial congestion window in segments.
        buffer_bytes: TCP send and receive buffer sizes in bytes (large enough never to limit the window).
        congestion_control: ns-3 TypeId of the congestion control (ns-3.44's default: ``ns3::TcpCubic``).
        sack: Selective acknowledgements on.
        delayed_ack_count: Segments per delayed ACK (1: an ACK per segment, like Linux's QUICKACK start).
        min_rto_s: Minimum retransmission timeout in s (Linux: 0.2).
        min_queue_packets: Smallest DropTail queue per device, in packets.
        queue_bdp_factor: Queue size in bandwidth-delay products (the larger of the two sizes is used).
        udp_payload_bytes: Payload of background UDP datagrams, in bytes.
        cubic_hystart: HyStart (slow-start exit on delay increase or ACK trains) in ``ns3::TcpCubic``; on in
            ns-3 and Linux.
        max_sim_s: Cap on simulated time after a scenario's last start, in s. The limit used is the smaller of this
            and max(5 s, 20 x the time to send every subflow one after the other at its bottleneck rate).
        max_wall_s: Wall-clock limit per scenario, in s (ns-3 slows down a lot under heavy loss).
    """

    segment_size_bytes: int = 1448
    initial_cwnd_segments: int = 10
    buffer_bytes: int = 64 * 2**20
    congestion_control: str = "ns3::TcpCubic"
    sack: bool = True
    delayed_ack_count: int = 1
    min_rto_s: float = 0.2
    min_queue_packets: int = 1000
    queue_bdp_factor: float = 2.0
    udp_payload_bytes: int = 1472
    cubic_hystart: bool = True
    max_sim_s: float = 600.0
    max_wall_s: float = 600.0

    def __post_init__(self) -> None:
        for name in ("segment_size_bytes", "initial_cwnd_segments", "buffer_bytes", "delayed_ack_count"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"Ns3Settings.{name}={value!r} must be an integer >= 1")
        if not (1 <= self.udp_payload_bytes <= IP_PACKET_BYTES - 28):
            raise ConfigError(f"Ns3Settings.udp_payload_bytes={self.udp_payload_bytes!r} must be in 1..1472 bytes")
        for name in ("min_rto_s", "queue_bdp_factor", "max_sim_s", "max_wall_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"Ns3Settings.{name}={value!r} must be finite and > 0")


@dataclass(frozen=True, slots=True)
class Ns3Report:
    """What ``simulate_ns3`` returns.

    Attributes:
        results: One result per scenario (``model="ns3"``), in input order.
        provenance: ns-3 version, settings, seed, and per scenario its run statistics (wall time, events,
            drops, retransmissions, queue size, start offset ``t0_s``, ``max_start_delay_s``).
    """

    results: list[TransferResult]
    provenance: dict[str, Any] = field(default_factory=dict)


def ns3_version() -> str | None:
    """The installed ``ns3`` distribution's version (e.g. ``"3.44.post0"``), or ``None`` when not installed."""
    try:
        return importlib.metadata.version("ns3")
    except importlib.metadata.PackageNotFoundError:
        return None


@contextlib.contextmanager
def _in_empty_directory() -> Iterator[None]:
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="cpnkit-ns3-") as tmp:
        os.chdir(tmp)
        try:
            yield
        finally:
            os.chdir(cwd)


@contextlib.contextmanager
def _filtered_stderr() -> Iterator[None]:
    """Hide cling's harmless "Failed to materialize symbols" notes printed (at C level) while ns-3 loads."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode(errors="replace")
            kept = [line for line in text.splitlines() if "Failed to materialize symbols" not in line]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def load_ns3() -> Any:
    """Import ns-3's Python bindings once per process (8-10 s, ~650 MB) and define cpnkit's C++ trace helpers.

    Returns:
        The ``ns`` namespace (``ns.NodeContainer``, ``ns.Simulator``, ...).

    Raises:
        ConfigError: the ``ns3`` package is not installed or fails to load.
    """
    global _NS
    if _NS is not None:
        return _NS
    if importlib.util.find_spec("ns") is None:
        raise ConfigError(
            "ns-3 is not installed (no module 'ns'); install the extra with pip install 'cpnkit[ns3]' "
            "(PyPI ns3==3.44.post0, ~100 s to install)"
        )
    try:
        with _in_empty_directory(), _filtered_stderr():  # its loader globs the current directory for .so files
            ns = importlib.import_module("ns").ns
            ns.cppyy.cppdef(_HELPERS)
    except (ImportError, SyntaxError, RuntimeError, AttributeError) as err:
        raise ConfigError(
            f"ns-3 is installed but fails to load ({type(err).__name__}: {err}); reinstall it with "
            "pip install --force-reinstall 'cpnkit[ns3]'"
        ) from err
    _NS = ns
    return ns


def run_ns3(
    scenarios: Sequence[TransferScenario],
    *,
    seed: int = 1,
    settings: Ns3Settings | None = None,
    on_setup: Callable[[Any], None] | None = None,
) -> list[TransferResult]:
    """Run transfer scenarios in ns-3 and return their completion times (``model="ns3"``).

    Args:
        scenarios: The scenarios; each is simulated on its own (``Simulator.Destroy()`` in between).
        seed: ns-3 RNG seed (``RngSeedManager.SetSeed``); the runs have no random elements, it is recorded.
        settings: TCP / queue settings (default: ``Ns3Settings()``, see the module docstring).
        on_setup: Called with the loaded ``ns`` module in each scenario once its TCP defaults are set, before
            the topology is built and the simulation runs: a hook for diagnostics that schedule their own ns-3
            events or trace sources (``benchmarks/ns3_rate_trace.py``, ``benchmarks/ns3_cwnd_trace.py``).

    Returns:
        One result per scenario, in order: per task and per subflow, first payload byte sent to last payload
        byte received, in s.

    Raises:
        ConfigError: ns-3 is not installed, a link lacks its reverse direction or the two directions have
            different delays, a subflow's bytes are not a whole number, or the transport is not ``"tcp"``.
        InvariantError: a sink did not receive exactly its subflow's bytes.
    """
    return simulate_ns3(scenarios, seed=seed, settings=settings, on_setup=on_setup).results


def simulate_ns3(
    scenarios: Sequence[TransferScenario],
    *,
    seed: int = 1,
    settings: Ns3Settings | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    on_setup: Callable[[Any], None] | None = None,
) -> Ns3Report:
    """Like ``run_ns3``, with provenance (ns-3 version, settings, seed, per-scenario run statistics).

    Args:
        scenarios: The scenarios.
        seed: ns-3 RNG seed.
        settings: TCP / queue settings.
        progress: Called as ``progress(done, total, scenario_id)`` before each scenario and once at the end.
        on_setup: As ``run_ns3``.

    Returns:
        The results and their provenance.

    Raises:
        ConfigError: as ``run_ns3``.
        InvariantError: as ``run_ns3``.
    """
    settings = settings or Ns3Settings()
    if not isinstance(seed, int) or seed < 1:
        raise ConfigError(f"seed={seed!r} must be an integer >= 1 (ns-3's RngSeedManager refuses 0)")
    for scenario in scenarios:
        _check_scenario(scenario, settings)
    ns = load_ns3()
    _check_congestion_control(ns, settings.congestion_control)
    results: list[TransferResult] = []
    runs: dict[str, Any] = {}
    for i, scenario in enumerate(scenarios):
        if progress is not None:
            progress(i, len(scenarios), scenario.id)
        result, stats = _run_one(ns, scenario, seed, settings, on_setup)
        results.append(result)
        runs[scenario.id] = stats
    if progress is not None:
        progress(len(scenarios), len(scenarios), "")
    provenance = {
        "simulator": "ns-3",
        "ns3_version": ns3_version(),
        "seed": seed,
        "settings": asdict(settings),
        "network": (
            "point-to-point links (DataRate per direction = capacity_bps, counts the 2-byte PPP header); "
            "no root queue disc; DropTail device queues of max(min_queue_packets, queue_bdp_factor x BDP) packets"
        ),
        "completion": (
            "payload handed to TCP right after the handshake (opened one handshake before start_s) to last payload "
            "byte received; task = slowest subflow"
        ),
        "background": "constant-rate UDP, rate_bps on the wire (headers included)",
        "python": platform.python_version(),
        "runs": runs,
    }
    return Ns3Report(results=results, provenance=provenance)


# -- scenario checks ------------------------------------------------------------------------------------------------
def _check_scenario(scenario: TransferScenario, settings: Ns3Settings) -> None:
    topo = scenario.topology
    where = f"scenario {scenario.id!r} (topology {topo.name!r})"
    for link in topo.links:
        if not topo.has_link(link.dst, link.src):
            raise ConfigError(
                f"{where}: link {link.src!r}->{link.dst!r} has no reverse link; ns-3 point-to-point links are full "
                "duplex and TCP needs the reverse direction for ACKs: add the reverse link"
            )
        reverse = topo.links[topo.link_id(link.dst, link.src)]
        if reverse.prop_delay_s != link.prop_delay_s:
            raise ConfigError(
                f"{where}: link {link.src!r}->{link.dst!r} has prop_delay_s={link.prop_delay_s!r} but its reverse "
                f"has {reverse.prop_delay_s!r}; an ns-3 point-to-point channel has one delay: make them equal"
            )
    for task in scenario.tasks:
        if task.transport != "tcp":
            raise ConfigError(f"{where}, task {task.id!r}: transport {task.transport!r}; ns-3 runs only 'tcp'")
        for sub in task.subflows:
            if not float(sub.size_bytes).is_integer():
                raise ConfigError(
                    f"{where}, task {task.id!r}, subflow {sub.id!r}: bytes={sub.size_bytes!r} is not a whole number; "
                    "ns-3 sends whole bytes: round the split"
                )
            if sub.size_bytes > settings.buffer_bytes:
                raise ConfigError(
                    f"{where}, task {task.id!r}, subflow {sub.id!r}: bytes={sub.size_bytes:g} exceed the TCP send "
                    f"buffer (Ns3Settings.buffer_bytes={settings.buffer_bytes}); raise buffer_bytes"
                )


def _check_congestion_control(ns: Any, name: str) -> None:
    """Refuse unknown TypeIds here: ns-3 aborts the process (NS_FATAL) on them."""
    tid = ns.TypeId()
    if not ns.TypeId.LookupByNameFailSafe(name, tid) or not tid.IsChildOf(ns.TcpCongestionOps.GetTypeId()):
        known = ["ns3::TcpCubic", "ns3::TcpNewReno", "ns3::TcpBbr", "ns3::TcpLinuxReno", "ns3::TcpDctcp"]
        raise ConfigError(
            f"congestion_control={name!r} is not an ns-3 TCP congestion control TypeId.{did_you_mean(name, known)} "
            f"Use one such as {', '.join(known)}"
        )


def _rtt_s(topo: Topology, path: Path) -> float:
    return 2.0 * path.prop_delay_s


def _handshake_s(topo: Topology, path: Path) -> float:
    """Time from SYN sent to SYN-ACK received on an idle path, in s."""
    serialise = 0.0
    for a, b in itertools.pairwise(path.nodes):
        for src, dst in ((a, b), (b, a)):
            serialise += _SYN_FRAME_BYTES * 8 / topo.links[topo.link_id(src, dst)].capacity_bps
    return _rtt_s(topo, path) + serialise


def _queue_packets(scenario: TransferScenario, settings: Ns3Settings) -> int:
    topo = scenario.topology
    paths = [s.path for t in scenario.tasks for s in t.subflows] + [b.path for b in scenario.background]
    # The fastest link's capacity, not the paths' bottlenecks: slow start overshoots a path's own BDP by up to 2x,
    # and links faster than the bottleneck feed it in bursts; sized this way no transfer of the suite loses a packet
    # in slow start (drops are counted in the provenance).
    rtt = max(_rtt_s(topo, p) for p in paths)
    bdp_packets = max(link.capacity_bps for link in topo.links) * rtt / (IP_PACKET_BYTES * 8)
    return max(settings.min_queue_packets, math.ceil(settings.queue_bdp_factor * bdp_packets))


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


class _AddressPool:
    """Consecutive /30 networks from a block, one per flow: (source address, destination address, mask)."""

    def __init__(self, block: str) -> None:
        self._nets = ipaddress.IPv4Network(block).subnets(new_prefix=30)

    def next(self) -> tuple[str, str, str]:
        net = next(self._nets)
        return str(net.network_address + 1), str(net.network_address + 2), str(net.netmask)


# -- one scenario -----------------------------------------------------------------------------------------------------
def _configure_tcp(ns: Any, seed: int, settings: Ns3Settings) -> None:
    ns.RngSeedManager.SetSeed(seed)
    ns.RngSeedManager.SetRun(1)
    cfg = ns.Config.SetDefault
    cfg("ns3::TcpL4Protocol::SocketType", ns.TypeIdValue(ns.TypeId.LookupByName(settings.congestion_control)))
    cfg("ns3::TcpSocket::SegmentSize", ns.UintegerValue(settings.segment_size_bytes))
    cfg("ns3::TcpSocket::InitialCwnd", ns.UintegerValue(settings.initial_cwnd_segments))
    cfg("ns3::TcpSocket::SndBufSize", ns.UintegerValue(settings.buffer_bytes))
    cfg("ns3::TcpSocket::RcvBufSize", ns.UintegerValue(settings.buffer_bytes))
    cfg("ns3::TcpSocket::DelAckCount", ns.UintegerValue(settings.delayed_ack_count))
    cfg("ns3::TcpSocketBase::Sack", ns.BooleanValue(settings.sack))
    cfg("ns3::TcpSocketBase::WindowScaling", ns.BooleanValue(True))
    cfg("ns3::TcpSocketBase::Timestamp", ns.BooleanValue(True))
    cfg("ns3::TcpSocketBase::MinRto", ns.TimeValue(ns.NanoSeconds(_ns(settings.min_rto_s))))
    cfg("ns3::TcpCubic::HyStart", ns.BooleanValue(settings.cubic_hystart))


def _run_one(
    ns: Any,
    scenario: TransferScenario,
    seed: int,
    settings: Ns3Settings,
    on_setup: Callable[[Any], None] | None = None,
) -> tuple[TransferResult, dict[str, Any]]:
    wall0 = time.perf_counter()
    helpers = ns.cppyy.gbl.cpnkit_ns3
    helpers.Reset()
    _configure_tcp(ns, seed, settings)
    if on_setup is not None:
        on_setup(ns)
    topo = scenario.topology
    queue_packets = _queue_packets(scenario, settings)

    nodes = ns.NodeContainer()
    nodes.Create(len(topo.nodes))
    node_of = {node_id: nodes.Get(i) for i, node_id in enumerate(topo.node_ids)}
    ns.InternetStackHelper().Install(nodes)
    for node in node_of.values():
        helpers.WatchNode(node)
    ipv4_of = {node_id: node.GetObject[ns.Ipv4]() for node_id, node in node_of.items()}

    # One point-to-point link per node pair; remember each end's interface index and address.
    iface: dict[tuple[str, str], int] = {}  # (node, neighbour) -> interface index on node
    addr: dict[tuple[str, str], str] = {}  # (node, neighbour) -> node's address on that link
    link_nets = ipaddress.IPv4Network("10.0.0.0/8").subnets(new_prefix=30)
    traffic_control = ns.TrafficControlHelper()
    for link in topo.links:
        if (link.dst, link.src) in iface:
            continue
        reverse = topo.links[topo.link_id(link.dst, link.src)]
        p2p = ns.PointToPointHelper()
        p2p.SetQueue("ns3::DropTailQueue", "MaxSize", ns.QueueSizeValue(ns.QueueSize(f"{queue_packets}p")))
        p2p.SetChannelAttribute("Delay", ns.TimeValue(ns.NanoSeconds(_ns(link.prop_delay_s))))
        devices = p2p.Install(node_of[link.src], node_of[link.dst])
        devices.Get(0).SetAttribute("DataRate", ns.DataRateValue(ns.DataRate(f"{round(link.capacity_bps)}bps")))
        devices.Get(1).SetAttribute("DataRate", ns.DataRateValue(ns.DataRate(f"{round(reverse.capacity_bps)}bps")))
        net = next(link_nets)
        helper = ns.Ipv4AddressHelper()
        helper.SetBase(ns.Ipv4Address(str(net.network_address)), ns.Ipv4Mask(str(net.netmask)))
        helper.Assign(devices)
        traffic_control.Uninstall(devices)
        for k, (me, peer) in enumerate(((link.src, link.dst), (link.dst, link.src))):
            device = devices.Get(k)
            helpers.WatchDevice(device)
            index = ipv4_of[me].GetInterfaceForDevice(device)
            iface[(me, peer)] = index
            addr[(me, peer)] = str(ipv4_of[me].GetAddress(index, 0).GetLocal())

    routing = ns.Ipv4StaticRoutingHelper()
    static = {node_id: routing.GetStaticRouting(ipv4) for node_id, ipv4 in ipv4_of.items()}

    def pin(path: Path, pool: _AddressPool) -> tuple[str, str]:
        """Give a flow on ``path`` its own source and destination address, with host routes both ways.

        The two addresses share a /30 so that ns-3's source address selection (which ignores a socket's bound
        address and takes the address of the outgoing interface that is on the destination's subnet) picks the
        flow's own source address; the /32 host routes win over the /30 network routes by longest prefix.
        """
        src_addr, dst_addr, mask = pool.next()
        nodes_ = path.nodes
        first = (nodes_[0], nodes_[1])
        last = (nodes_[-1], nodes_[-2])
        for (node, peer), address in ((first, src_addr), (last, dst_addr)):
            entry = ns.Ipv4InterfaceAddress(ns.Ipv4Address(address), ns.Ipv4Mask(mask))
            ipv4_of[node].AddAddress(iface[(node, peer)], entry)
        for a, b in itertools.pairwise(nodes_):
            static[a].AddHostRouteTo(ns.Ipv4Address(dst_addr), ns.Ipv4Address(addr[(b, a)]), iface[(a, b)])
            static[b].AddHostRouteTo(ns.Ipv4Address(src_addr), ns.Ipv4Address(addr[(a, b)]), iface[(b, a)])
        return src_addr, dst_addr

    tcp_pool = _AddressPool("172.16.0.0/13")
    udp_pool = _AddressPool("172.24.0.0/13")
    # Each connection opens one handshake before its task's start, so its payload leaves at start_s on an idle
    # path; everything is shifted by t0_s so that no connection opens before time 0.
    handshakes = [_handshake_s(topo, s.path) for t in scenario.tasks for s in t.subflows]
    t0_s = math.ceil(max(handshakes) * 1e3) / 1e3
    watched: list[tuple[str, str, int, int, int, float]] = []  # task, subflow, sink, sender, bytes, data start (s)
    for task in scenario.tasks:
        for sub in task.subflows:
            src_addr, dst_addr = pin(sub.path, tcp_pool)
            nbytes = int(sub.size_bytes)
            remote = ns.InetSocketAddress(ns.Ipv4Address(dst_addr), _TCP_PORT).ConvertTo()
            sink_apps = ns.PacketSinkHelper("ns3::TcpSocketFactory", remote).Install(node_of[task.dst])
            sink_apps.Start(ns.Seconds(0.0))
            sink = helpers.WatchSink(sink_apps.Get(0), nbytes)
            data_start_s = t0_s + task.start_s
            sender = helpers.AddSender(
                node_of[task.src],
                ns.InetSocketAddress(ns.Ipv4Address(src_addr), 0).ConvertTo(),
                remote,
                nbytes,
                ns.NanoSeconds(_ns(data_start_s - _handshake_s(topo, sub.path))),
            )
            watched.append((task.id, sub.id, sink, sender, nbytes, data_start_s))

    udp_frame_bytes = settings.udp_payload_bytes + 28 + (P2P_FRAME_BYTES - IP_PACKET_BYTES)  # UDP 8, IP 20, PPP 2
    frame_factor = settings.udp_payload_bytes / udp_frame_bytes
    for flow in scenario.background:
        src_addr, dst_addr = pin(flow.path, udp_pool)
        remote = ns.InetSocketAddress(ns.Ipv4Address(dst_addr), _UDP_PORT).ConvertTo()
        udp_sink = ns.PacketSinkHelper("ns3::UdpSocketFactory", remote).Install(node_of[flow.path.dst])
        udp_sink.Start(ns.Seconds(0.0))
        onoff = ns.OnOffHelper("ns3::UdpSocketFactory", remote)
        onoff.SetAttribute("OnTime", ns.StringValue("ns3::ConstantRandomVariable[Constant=1e9]"))
        onoff.SetAttribute("OffTime", ns.StringValue("ns3::ConstantRandomVariable[Constant=0]"))
        onoff.SetAttribute("PacketSize", ns.UintegerValue(settings.udp_payload_bytes))
        onoff.SetAttribute("DataRate", ns.DataRateValue(ns.DataRate(f"{round(flow.rate_bps * frame_factor)}bps")))
        onoff.SetAttribute("Local", ns.AddressValue(ns.InetSocketAddress(ns.Ipv4Address(src_addr), 0).ConvertTo()))
        apps = onoff.Install(node_of[flow.path.src])
        apps.Start(ns.NanoSeconds(_ns(t0_s + flow.start_s)))
        apps.Stop(ns.NanoSeconds(_ns(t0_s + flow.stop_s)))

    last_start_s = t0_s + max(t.start_s for t in scenario.tasks)
    serial_s = sum(
        s.size_bytes * 8 / s.path.bottleneck_bps + 2 * s.path.prop_delay_s for t in scenario.tasks for s in t.subflows
    )
    horizon_s = last_start_s + min(settings.max_sim_s, max(5.0, 20 * serial_s))
    ns.Simulator.Stop(ns.NanoSeconds(_ns(horizon_s)))
    helpers.ArmWallLimit(settings.max_wall_s)
    ns.Simulator.Run()
    end_s = ns.Simulator.Now().GetSeconds()
    events = int(ns.Simulator.GetEventCount())

    task_completion: dict[str, float] = {}
    sub_completion: dict[str, dict[str, float]] = {}
    start_delays: list[float] = []
    try:
        if helpers.wall_exceeded:
            raise InvariantError(
                f"ns-3, scenario {scenario.id!r}: stopped after Ns3Settings.max_wall_s={settings.max_wall_s:g} s "
                f"of wall-clock time at simulated t={end_s:.3f} s with {int(helpers.drops)} drops and "
                f"{int(helpers.retransmissions)} retransmissions (ns-3's SACK recovery is slow under heavy loss); "
                "deepen the queues (queue_bdp_factor) or raise max_wall_s"
            )
        for task_id, sub_id, sink_i, sender_i, nbytes, data_start_s in watched:
            sink = helpers.sinks[sink_i]
            sender = helpers.senders[sender_i]
            where = f"ns-3, scenario {scenario.id!r}, task {task_id!r}, subflow {sub_id!r}"
            if sender.failed or sender.first_tx_ns < 0:
                raise InvariantError(
                    f"{where}: the connection failed or never sent (connected: {bool(sender.connected)}, "
                    f"failed: {bool(sender.failed)}); this is a bug in cpnkit's ns-3 set-up (routing)"
                )
            if int(sink.bytes) != nbytes or sink.done_ns < 0:
                raise InvariantError(
                    f"{where}: the sink received {int(sink.bytes)} of {nbytes} bytes by t={end_s:.3f} s "
                    f"(limit {horizon_s:.3f} s); the transfer did not complete exactly: check the path's "
                    "capacity, or raise Ns3Settings.max_sim_s"
                )
            completion_s = (int(sink.done_ns) - int(sender.first_tx_ns)) / 1e9
            start_delays.append(int(sender.first_tx_ns) / 1e9 - data_start_s)
            sub_completion.setdefault(task_id, {})[sub_id] = completion_s
            task_completion[task_id] = max(task_completion.get(task_id, 0.0), completion_s)
        stats = {
            "wall_s": round(time.perf_counter() - wall0, 3),
            "simulated_s": end_s,
            "events": events,
            "t0_s": t0_s,
            "max_start_delay_s": round(max(start_delays), 9),
            "queue_packets": queue_packets,
            "drops": int(helpers.drops),
            "tcp_retransmissions": int(helpers.retransmissions),
        }
    finally:
        ns.Simulator.Destroy()
        helpers.Reset()
    result = TransferResult(
        scenario=scenario.id, model="ns3", task_completion_s=task_completion, subflow_completion_s=sub_completion
    )
    return result, stats
