from __future__ import annotations

import numpy as np
import pytest

from cpnkit.datasets.predictor_models import load_arch_encodings
from cpnkit.errors import DataError, TaskError
from cpnkit.estimate.predictors import ArchEncodings, cell_operations, cell_string, decode_cell, encode_cell

CELL = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|"


def test_encoding_round_trips_every_nb201_cell() -> None:
    enc = load_arch_encodings()
    assert len(enc) == 15625
    assert len(set(enc.cells)) == 15625
    for i, cell in enumerate(enc.cells):
        assert decode_cell(enc.adjacency[i], enc.operations[i]) == cell
    # the batch encoding agrees with the single-cell one
    for i in (0, 777, 15624):
        adj, ops = encode_cell(enc.cells[i])
        assert np.array_equal(adj, enc.adjacency[i])
        assert np.array_equal(ops, enc.operations[i])


def test_encoding_none_operations_lose_their_edges() -> None:
    adj, ops = encode_cell(CELL)
    assert adj.shape == (8, 8)
    assert ops.shape == (8, 7)
    none_node = 2  # edge 0->2 carries 'none'
    assert ops[none_node].argmax() == 1
    assert adj[none_node].sum() == 0
    assert adj[:, none_node].sum() == 0
    all_none, _ = encode_cell(cell_string(["none"] * 6))
    assert all_none.sum() == 0


@pytest.mark.parametrize(
    ("cell", "fragment"),
    [
        ("|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|", "node group"),
        ("|nor_conv_3x3~0|+|none~0|avg_pool_3x3~2|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|", "op~1"),
        ("nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|", "start and end"),
        ("|nor_conv_3x3~0|+|none~0|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|", "incoming edge"),
    ],
)
def test_encoding_rejects_malformed_cell_strings(cell: str, fragment: str) -> None:
    with pytest.raises(TaskError, match=fragment):
        encode_cell(cell)


def test_encoding_unknown_operation_suggests_the_close_one() -> None:
    with pytest.raises(TaskError, match="Did you mean 'nor_conv_3x3'"):
        cell_operations(CELL.replace("nor_conv_3x3", "nor_conv_3x4"))
    with pytest.raises(TaskError, match="unknown operation"):
        cell_string(["conv"] * 6)


def test_encoding_decode_rejects_inconsistent_matrices() -> None:
    adj, ops = encode_cell(CELL)
    bad = adj.copy()
    bad[0, 2] = 1  # an edge into the 'none' node
    with pytest.raises(DataError, match="does not match"):
        decode_cell(bad, ops)
    with pytest.raises(DataError, match="one-hot"):
        decode_cell(adj, ops * 2)
    with pytest.raises(DataError, match="expected"):
        decode_cell(adj[:7], ops)


def test_encoding_index_of_accepts_cells_and_indices() -> None:
    enc = load_arch_encodings()
    assert enc.index_of(enc.cells[42]) == 42
    assert enc.index_of("42") == 42
    assert enc.index_of(42) == 42
    with pytest.raises(TaskError, match="outside"):
        enc.index_of(15625)
    with pytest.raises(TaskError, match="malformed"):
        enc.index_of("|bogus|")


def test_encoding_arch_encodings_validates_flops() -> None:
    with pytest.raises(DataError, match="flops_m"):
        ArchEncodings((CELL,), np.array([0.0]))
    with pytest.raises(DataError, match="one FLOPs value"):
        ArchEncodings((CELL,), np.array([1.0, 2.0]))
