"""Each C kernel bit-exact against the reference on random configurations.

A fan-out graph puts many independent ops (all kinds, odd shapes, strides, asymmetric
paddings, 1 channel, zero points at -128/127, saturating requant) behind one input, so a
single compiled package covers many kernel configurations.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import runtime_graphs as rg

SEEDS = range(12)


@pytest.mark.parametrize("seed", SEEDS)
def test_kernels_bit_exact(seed: int, tmp_path: Path, gcc: str) -> None:
    rng = np.random.default_rng(seed)
    graph = rg.fan_out_graph(rng, 12)
    lib = rg.build(graph, tmp_path)
    assert rg.first_mismatch(lib, graph, rg.random_input(rng, graph, 3)) is None


def test_one_by_one_input_and_vector_ops(tmp_path: Path, gcc: str) -> None:
    """1x1x1 input: every window is mostly padding; FC on a single feature."""
    rng = np.random.default_rng(100)
    x = rg.ir.Tensor("x", (1, 1, 1), rg.random_qparams(rng))
    steps = [rg.conv(rng, "c", x, 3, (3, 3), (2, 2), (1, 1, 1, 1)),
             rg.max_pool("p", x, (1, 1), (1, 1), (0, 0), True),
             rg.fully_connected(rng, "f", x, 1)]
    graph = rg.chain(x, steps)
    lib = rg.build(graph, tmp_path)
    assert rg.first_mismatch(lib, graph, np.array([[[[-128]]], [[[127]]], [[[0]]]], np.int8)) is None
