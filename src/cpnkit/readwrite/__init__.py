"""Topology file formats: parse files into ``cpnkit.model.Topology`` and write them back.

Readers: networkx node-link JSON (``read_node_link_json``; TEAL, topohub, cpnkit's own files), GraphML
(``read_graphml``; Internet Topology Zoo), SNDlib native XML (``read_sndlib_xml``), and
``read_topology_file``, which picks one by suffix. ``write_node_link_json`` writes a topology that reads back
unchanged. Every malformed input raises ``cpnkit.errors.TopologyError`` naming the file, the value, the
constraint and the fix.

Fill rules, applied only where the data lacks a value, each recorded with a count in
``Topology.meta["rules"]``:

1. **Propagation delay**, in order: a delay attribute of the link (``prop_delay_s`` in s; ``latency_ms*``,
   ``delay_ms``, ``delay`` in ms); else the link's length (topohub ``dist`` in km) / 2e8 m/s; else the
   great-circle (haversine) distance between its end nodes' coordinates / 2e8 m/s (light in fibre, about
   2/3 c; ``cpnkit.units.LIGHT_IN_FIBRE_M_PER_S``); else, for a link with none of these, the median delay
   of the file's other links (a regional network's links are much shorter than a continental one's, so a
   network's own typical hop beats a global constant); else, when no link of the file has any delay
   information, ``DEFAULT_PROP_DELAY_S`` = 1 ms (about 200 km of fibre, a short backbone hop; override with
   ``default_delay_s=``).
2. **Delay floor**: a distance-derived delay below ``MIN_PROP_DELAY_S`` = 0.1 ms (20 km), and a given delay
   of exactly 0, are raised to 0.1 ms, so co-located nodes still have a positive delay. Given positive
   delays are kept as they are.
3. **Capacity**: ``capacity_bps`` (bit/s) or a format's own attribute (node-link ``capacity`` in Mbit/s,
   TEAL's convention; GraphML ``LinkSpeedRaw`` in bit/s; SNDlib pre-installed module in Mbit/s); else
   ``DEFAULT_CAPACITY_BPS`` = 10 Gbit/s (an OC-192/10GE backbone link, the tier of Abilene's 9.92 Gbit/s
   links; override with ``default_capacity_bps=``).
4. **Undirected edges** become two directed links with the same capacity and delay (full duplex).
5. **Parallel edges** (multigraphs, GraphML, SNDlib) are merged into one link per direction: capacities
   summed, the smallest delay kept. In a node-link file that is not marked ``"multigraph": true`` a repeated
   link is an error instead.
6. **Self-loops** are dropped. **Node ids** are always strings (integers are converted with ``str``).

The rules' constants are ``DEFAULT_CAPACITY_BPS``, ``DEFAULT_PROP_DELAY_S`` and ``MIN_PROP_DELAY_S``.

``write_outcomes_csv`` and ``result_metadata`` (``cpnkit.readwrite.results``, which reads ``cpnkit.sim``
results) are exported lazily: importing this package does not import the simulator.

Transfer scenarios and their results (``cpnkit.readwrite.transfers``; ``cpnkit validate``):
``read_transfer_scenarios`` reads a JSON file of topologies and multipath transfer scenarios into
``cpnkit.sim.transfers.TransferScenario``; ``write_transfer_results`` / ``read_transfer_results`` (and
``load_transfer_results``, with provenance and sizes) write and read completion times.
"""

from cpnkit.readwrite._build import (
    DEFAULT_CAPACITY_BPS,
    DEFAULT_PROP_DELAY_S,
    EARTH_RADIUS_M,
    MIN_PROP_DELAY_S,
    great_circle_m,
)
from cpnkit.readwrite.files import TOPOLOGY_SUFFIXES, read_topology_file
from cpnkit.readwrite.graphml import read_graphml
from cpnkit.readwrite.nodelink import read_node_link_json, write_node_link_json
from cpnkit.readwrite.results import result_metadata, write_outcomes_csv
from cpnkit.readwrite.sndlib import SNDLIB_CAPACITY_UNIT_BPS, read_sndlib_xml
from cpnkit.readwrite.traces import read_arrival_trace
from cpnkit.readwrite.transfers import (
    RESULTS_FORMAT,
    TransferResultsFile,
    load_transfer_results,
    read_transfer_results,
    read_transfer_scenarios,
    write_transfer_results,
)

__all__ = [
    "DEFAULT_CAPACITY_BPS",
    "DEFAULT_PROP_DELAY_S",
    "EARTH_RADIUS_M",
    "MIN_PROP_DELAY_S",
    "RESULTS_FORMAT",
    "SNDLIB_CAPACITY_UNIT_BPS",
    "TOPOLOGY_SUFFIXES",
    "TransferResultsFile",
    "great_circle_m",
    "load_transfer_results",
    "read_arrival_trace",
    "read_graphml",
    "read_node_link_json",
    "read_sndlib_xml",
    "read_topology_file",
    "read_transfer_results",
    "read_transfer_scenarios",
    "result_metadata",
    "write_node_link_json",
    "write_outcomes_csv",
    "write_transfer_results",
]
