"""NAS-Bench-201 cells as graphs: the adjacency + operation matrices of RLMS-CPN §3.3 (no I/O).

A NAS-Bench-201 cell has four nodes (0 = cell input, 3 = cell output) and six edges, each carrying one of five
operations. Its cell string lists the edges grouped by destination node::

    |op~0|+|op~0|op~1|+|op~0|op~1|op~2|      edges 0->1 | 0->2, 1->2 | 0->3, 1->3, 2->3

As in BRP-NAS and HELP, the encoding turns *operations into nodes*: an 8-node directed graph with node 0 the
input, nodes 1..6 the six edge operations in cell-string order (0->1, 0->2, 1->2, 0->3, 1->3, 2->3) and node 7
the output. Operation node ``a -> b`` feeds every operation node that leaves cell node ``b`` (or the output when
``b`` is 3); the input feeds the operations leaving cell node 0. The operation matrix is one-hot over seven node
types (``input``, the five operations, ``output``).

One departure from HELP's fixed adjacency: a ``none`` operation carries no data, so its node keeps its one-hot
row but loses its edges. The adjacency then says which operations actually lie on a path from input to output,
and a cell whose output is cut off (the degenerate cells whose latency is near zero on some devices) is visible
in the graph, not only in the operation labels. ``decode_cell`` inverts ``encode_cell`` exactly and rejects an
adjacency that does not match its operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cpnkit.errors import DataError, TaskError, did_you_mean

__all__ = [
    "CELL_EDGES",
    "NODE_TYPES",
    "N_NODES",
    "OPERATIONS",
    "ArchEncodings",
    "cell_operations",
    "cell_string",
    "decode_cell",
    "encode_cell",
]

#: The five NAS-Bench-201 operations, in the order of the operation-matrix columns 1..5.
OPERATIONS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: Node types: the columns of the operation matrix.
NODE_TYPES: tuple[str, ...] = ("input", *OPERATIONS, "output")
#: The six cell edges (source, destination) in cell-string order; operation node ``i + 1`` is edge ``i``.
CELL_EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
#: Nodes of the encoded graph: input, six operations, output.
N_NODES = len(CELL_EDGES) + 2
_OUTPUT = N_NODES - 1
_NONE = OPERATIONS.index("none")


def _full_adjacency() -> npt.NDArray[np.uint8]:
    adj = np.zeros((N_NODES, N_NODES), dtype=np.uint8)
    for i, (src, dst) in enumerate(CELL_EDGES):
        if src == 0:
            adj[0, i + 1] = 1
        if dst == 3:
            adj[i + 1, _OUTPUT] = 1
        for j, (src2, _) in enumerate(CELL_EDGES):
            if src2 == dst:
                adj[i + 1, j + 1] = 1
    return adj


_FULL_ADJ = _full_adjacency()


def cell_operations(cell: str) -> tuple[str, ...]:
    """The six edge operations of a NAS-Bench-201 cell string, in ``CELL_EDGES`` order.

    >>> cell_operations("|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|")
    ('nor_conv_3x3', 'none', 'avg_pool_3x3', 'skip_connect', 'nor_conv_1x1', 'skip_connect')

    Raises:
        TaskError: the string is not a cell string, or names an unknown operation.
    """
    fmt = "expected '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' with op one of " + ", ".join(OPERATIONS)
    if not isinstance(cell, str):
        raise TaskError(f"cell {cell!r} must be a NAS-Bench-201 cell string; {fmt}")
    groups = cell.strip().split("+")
    if len(groups) != 3:
        raise TaskError(f"malformed cell string {cell!r}: {len(groups)} node group(s) separated by '+'; {fmt}")
    ops: list[str] = []
    for dst, group in enumerate(groups, start=1):
        if not (group.startswith("|") and group.endswith("|")) or len(group) < 2:
            raise TaskError(f"malformed cell string {cell!r}: group {group!r} must start and end with '|'; {fmt}")
        items = group[1:-1].split("|")
        if len(items) != dst:
            raise TaskError(
                f"malformed cell string {cell!r}: node {dst} needs {dst} incoming edge(s), got {len(items)}; {fmt}"
            )
        for src, item in enumerate(items):
            op, sep, origin = item.partition("~")
            if not sep or origin != str(src):
                raise TaskError(
                    f"malformed cell string {cell!r}: edge {item!r} into node {dst} must read 'op~{src}'; {fmt}"
                )
            if op not in OPERATIONS:
                raise TaskError(
                    f"unknown operation {op!r} in cell {cell!r}.{did_you_mean(op, OPERATIONS)} "
                    f"Operations: {', '.join(OPERATIONS)}"
                )
            ops.append(op)
    return tuple(ops)


def cell_string(operations: Sequence[str]) -> str:
    """The cell string of six edge operations given in ``CELL_EDGES`` order.

    >>> cell_string(["none"] * 6)
    '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'

    Raises:
        TaskError: not six operations, or an unknown one.
    """
    ops = list(operations)
    if len(ops) != len(CELL_EDGES):
        raise TaskError(f"a cell has {len(CELL_EDGES)} edge operations, got {len(ops)}: {ops!r}")
    for op in ops:
        if op not in OPERATIONS:
            raise TaskError(f"unknown operation {op!r}.{did_you_mean(op, OPERATIONS)} Operations: {OPERATIONS}")
    return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*ops)


def _encode_op_ids(op_ids: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Adjacency ``(n, 8, 8)`` and operation ``(n, 8, 7)`` matrices of ``n`` cells given as op ids ``(n, 6)``."""
    n = op_ids.shape[0]
    ops = np.zeros((n, N_NODES, len(NODE_TYPES)), dtype=np.uint8)
    ops[:, 0, 0] = 1
    ops[:, _OUTPUT, len(NODE_TYPES) - 1] = 1
    rows = np.arange(n)
    for e in range(len(CELL_EDGES)):
        ops[rows, e + 1, op_ids[:, e] + 1] = 1
    alive = np.ones((n, N_NODES), dtype=np.uint8)
    alive[:, 1:_OUTPUT] = op_ids != _NONE
    adj = _FULL_ADJ[None, :, :] * alive[:, :, None] * alive[:, None, :]
    return adj.astype(np.uint8), ops


def encode_cell(cell: str) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """The (adjacency ``8 x 8``, operation ``8 x 7``) matrices of a cell string.

    ``adjacency[i, j] == 1`` when node ``i`` feeds node ``j``; row ``i`` of the operation matrix is the one-hot
    node type of node ``i`` (columns ``NODE_TYPES``).

    >>> cell = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|"
    >>> adj, ops = encode_cell(cell)
    >>> int(adj.sum()), ops.argmax(axis=1).tolist()
    (8, [0, 4, 1, 5, 2, 3, 2, 6])

    Raises:
        TaskError: the cell string is malformed or names an unknown operation.
    """
    ids = np.array([[OPERATIONS.index(op) for op in cell_operations(cell)]], dtype=np.int64)
    adj, ops = _encode_op_ids(ids)
    return adj[0], ops[0]


def decode_cell(adjacency: npt.ArrayLike, operations: npt.ArrayLike) -> str:
    """The cell string of an (adjacency, operation) pair made by ``encode_cell``.

    Raises:
        DataError: the matrices have the wrong shape, a row of the operation matrix is not one-hot, the input and
            output rows are not where they belong, or the adjacency does not match the operations.
    """
    adj = np.asarray(adjacency)
    ops = np.asarray(operations)
    want_ops = (N_NODES, len(NODE_TYPES))
    if adj.shape != (N_NODES, N_NODES) or ops.shape != want_ops:
        raise DataError(
            f"cell encoding has adjacency {adj.shape} and operations {ops.shape}; expected "
            f"({N_NODES}, {N_NODES}) and {want_ops} (see cpnkit.estimate.predictors.encoding)"
        )
    if not (np.isin(ops, (0, 1)).all() and (ops.sum(axis=1) == 1).all()):
        raise DataError("every row of the operation matrix must be one-hot (a single 1)")
    types = ops.argmax(axis=1)
    if types[0] != 0 or types[_OUTPUT] != len(NODE_TYPES) - 1 or not ((types[1:_OUTPUT] >= 1).all()):
        raise DataError(f"node types {types.tolist()}: node 0 must be the input, node 7 the output, 1..6 operations")
    op_ids = (types[1:_OUTPUT] - 1).astype(np.int64)
    expected, _ = _encode_op_ids(op_ids[None, :])
    if not np.array_equal(adj.astype(np.int64), expected[0].astype(np.int64)):
        raise DataError("adjacency does not match the operations (a 'none' operation has no edges, others all theirs)")
    return cell_string([OPERATIONS[i] for i in op_ids])


@dataclass(frozen=True, eq=False)
class ArchEncodings:
    """Every architecture of a search space, encoded once: what the predictors take instead of files.

    Attributes:
        cells: Cell string of each architecture; row ``i`` is architecture index ``i``.
        flops_m: FLOPs of each architecture in millions (CIFAR-10 input), > 0.
        op_ids: ``(n, 6)`` operation id (index into ``OPERATIONS``) of each edge.
        adjacency: ``(n, 8, 8)`` adjacency matrices (uint8).
        operations: ``(n, 8, 7)`` one-hot operation matrices (uint8).
    """

    cells: tuple[str, ...]
    flops_m: npt.NDArray[np.float64]
    op_ids: npt.NDArray[np.int64] = field(init=False, repr=False)
    adjacency: npt.NDArray[np.uint8] = field(init=False, repr=False)
    operations: npt.NDArray[np.uint8] = field(init=False, repr=False)
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        cells = tuple(self.cells)
        flops = np.asarray(self.flops_m, dtype=np.float64)
        if flops.shape != (len(cells),):
            raise DataError(f"{len(cells)} cells but flops_m has shape {flops.shape}; give one FLOPs value per cell")
        if not np.isfinite(flops).all() or (flops <= 0).any():
            raise DataError("flops_m must be finite and > 0 for every architecture")
        index = {c: i for i, c in enumerate(cells)}
        if len(index) != len(cells):
            raise DataError("cell strings repeat; each architecture must appear once")
        op_index = {op: i for i, op in enumerate(OPERATIONS)}
        op_ids = np.array([[op_index[o] for o in cell_operations(c)] for c in cells], dtype=np.int64)
        op_ids = op_ids.reshape(len(cells), len(CELL_EDGES))
        adj, ops = _encode_op_ids(op_ids)
        for arr in (flops, op_ids, adj, ops):
            arr.setflags(write=False)
        object.__setattr__(self, "cells", cells)
        object.__setattr__(self, "flops_m", flops)
        object.__setattr__(self, "op_ids", op_ids)
        object.__setattr__(self, "adjacency", adj)
        object.__setattr__(self, "operations", ops)
        object.__setattr__(self, "_index", index)

    def __len__(self) -> int:
        return len(self.cells)

    def op_counts(self) -> npt.NDArray[np.float64]:
        """``(n, 5)`` number of edges carrying each operation (columns ``OPERATIONS``)."""
        counts = np.zeros((len(self), len(OPERATIONS)), dtype=np.float64)
        for k in range(len(OPERATIONS)):
            counts[:, k] = (self.op_ids == k).sum(axis=1)
        return counts

    def index_of(self, arch: str | int) -> int:
        """The architecture index of a cell string (or an index, checked).

        Raises:
            TaskError: the cell string is malformed, unknown, or the index is out of range.
        """
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if not 0 <= int(arch) < len(self):
                raise TaskError(f"architecture index {arch} is outside [0, {len(self) - 1}]")
            return int(arch)
        text = str(arch).strip()
        if text.lstrip("-").isdigit():
            return self.index_of(int(text))
        found = self._index.get(text)
        if found is None:
            cell_operations(text)  # a malformed string gets the precise message
            raise TaskError(f"cell {text!r} is well formed but not in the search space of {len(self)} cells")
        return found
