"""Each C kernel bit-exact against the reference on random configurations.

A fan-out graph puts many ops (all kinds, odd shapes, strides above the kernel, asymmetric
paddings up to kernel - 1, 1 channel, depth multipliers 1 and 2, zero points at -128/127,
saturating requant, add and concat over 2-3 tensors with equal and different scales) behind
one input, so a single compiled package covers many kernel configurations.  A residual
model chains every kernel with tensors read by several ops.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import runtime_graphs as rg

from tinyqat import ir
from tinyqat.codegen import emit, stats
from tinyqat.codegen.arrays import const_arrays
from tinyqat.memory.planner import scratch_bytes

SEEDS = range(12)


@pytest.mark.parametrize("seed", SEEDS)
def test_kernels_bit_exact(seed: int, tmp_path: Path, gcc: str) -> None:
    rng = np.random.default_rng(seed)
    graph = rg.fan_out_graph(rng, 2 * len(rg.KINDS))
    assert {stats.op_kind(op) for op in graph.ops} == set(rg.KINDS) == set(stats.OP_KINDS.values())
    lib = rg.build(graph, tmp_path)
    assert rg.first_mismatch(lib, graph, rg.random_input(rng, graph, 3)) is None


@pytest.mark.parametrize("seed", range(6))
def test_residual_model_bit_exact(seed: int, tmp_path: Path, gcc: str) -> None:
    rng = np.random.default_rng(seed)
    graph = rg.residual_model(rng)
    lib = rg.build(graph, tmp_path)
    x = rg.random_input(rng, graph, 4)
    rg.assert_bit_exact(lib, graph, x)


def test_one_by_one_input_and_vector_ops(tmp_path: Path, gcc: str) -> None:
    """1x1x1 input: every window is mostly padding; FC on a single feature; softmax on one channel."""
    rng = np.random.default_rng(100)
    x = ir.Tensor("x", (1, 1, 1), rg.random_qparams(rng))
    steps = [rg.conv(rng, "c", x, 3, (3, 3), (2, 2), (1, 1, 1, 1)),
             rg.max_pool("p", x, (1, 1), (1, 1), (0, 0), True),
             rg.depthwise(rng, "d", x, 2, (3, 3), (2, 2), (2, 2, 2, 2)),
             rg.avg_pool("a", x, (3, 3), (2, 2), (1, 1), True, True),
             rg.lookup(rng, "l", x),
             rg.softmax(rng, "s", x),
             rg.fully_connected(rng, "f", x, 1)]
    graph = rg.chain(x, steps)
    lib = rg.build(graph, tmp_path)
    assert rg.first_mismatch(lib, graph, np.array([[[[-128]]], [[[127]]], [[[0]]]], np.int8)) is None


def test_pointwise_fast_path(tmp_path: Path, gcc: str) -> None:
    """1x1 stride-1 unpadded convs take the fast path; padded / strided 1x1 convs the generic loop.

    ``same_generic`` has the fast-path layer's weights plus bottom/right padding, so its
    top-left (H, W) block must equal the fast path's output byte for byte.
    """
    rng = np.random.default_rng(7)
    x = ir.Tensor("x", (5, 3, 7), ir.QParams(0.05, -128))
    fast, y = rg.conv(rng, "fast", x, 6, (1, 1), (1, 1), (0, 0, 0, 0))
    same_generic = ir.Conv2d("conv_g", "x", "g", fast.weights, fast.bias, fast.multiplier, fast.shift, (1, 1),
                             (0, 0, 1, 1), fast.act_min, fast.act_max)
    g = ir.Tensor("g", (6, 4, 6), y.qparams)
    steps = [(fast, y), (same_generic, g), rg.conv(rng, "one_channel", x, 1, (1, 1), (1, 1), (0, 0, 0, 0)),
             rg.conv(rng, "strided", x, 3, (1, 1), (2, 2), (0, 0, 0, 0))]
    graph = rg.chain(x, steps)
    lib = rg.build(graph, tmp_path)
    inputs = rg.random_input(rng, graph, 4)
    assert rg.first_mismatch(lib, graph, inputs) is None
    for sample in inputs:
        lib.write_input(sample)
        lib.run_layer(0)
        pointwise = lib.layer_output(0).reshape(y.shape)  # read now: layer 1 may reuse these bytes
        lib.run_layer(1)
        np.testing.assert_array_equal(pointwise, lib.layer_output(1).reshape(g.shape)[:5, :3])


def test_in_place_kernels(tmp_path: Path, gcc: str) -> None:
    """Kernels documented as in-place safe (lookup, softmax, add) give the simulator's result with
    input == output; parameter structs filled from the generator's own field lists."""
    kinds = ("lookup", "softmax", "add")
    ffi, lib = rg.runtime_library(tmp_path, [f"tq_{k}_s8.c" for k in kinds])
    rng = np.random.default_rng(3)
    x = ir.Tensor("x", (3, 2, 5), rg.random_qparams(rng))
    graph = rg.chain(x, [rg.lookup(rng, "l", x), rg.softmax(rng, "s", x), rg.add(rng, "a", x, x)])
    data = rg.random_input(rng, graph, 1)
    expected = rg.reference_layers(graph, data)
    for k, (kind, op) in enumerate(zip(kinds, graph.ops)):
        arrays = {a.suffix: ffi.from_buffer(f"{a.values.dtype}_t[]", np.ascontiguousarray(a.values))
                  for a in const_arrays(op, graph)}
        params = ffi.new(f"tq_{kind}_s8_params *", {**dict(emit.scalar_fields(op, graph)), **arrays})
        buf = data[0].reshape(-1).copy()
        ptr = ffi.from_buffer("int8_t[]", buf)
        getattr(lib, f"tq_{kind}_s8")(params, *([ptr] * len(op.inputs)), ptr)
        np.testing.assert_array_equal(buf, expected[k][0].reshape(-1), err_msg=kind)


def test_conv_scratch_rule_matches_python(tmp_path: Path, gcc: str) -> None:
    """tq_conv2d_s8_get_buffer_size (C, through cffi) equals planner.scratch_bytes for random conv windows
    (K on both sides of TQ_CONV_DSP_COLUMN_MAX, odd and even) and for K = 8 windows with and without the pw8 path's
    larger scratch (its records); the function sits outside the files' DSP guards, so DSP builds answer the same."""
    ffi, lib = rg.runtime_library(tmp_path, ["tq_conv2d_s8.c", "tq_conv2d_s8_dsp.c"])
    rng = np.random.default_rng(11)
    for _ in range(200):
        kh, kw = (int(v) for v in rng.integers(1, 8, 2))
        in_c = int(rng.choice([1, 2, 3, 4, 7, 8, 16, 32, 64, 65, 100]))
        x = ir.Tensor("x", (kh + int(rng.integers(0, 4)), kw + int(rng.integers(0, 4)), in_c), rg.random_qparams(rng))
        graph = rg.chain(x, [rg.conv(rng, "y", x, int(rng.integers(1, 9)), (kh, kw), (1, 1), (0, 0, 0, 0))])
        params = ffi.new("tq_conv2d_s8_params *", {"kernel_h": kh, "kernel_w": kw, "in_c": in_c})
        assert lib.tq_conv2d_s8_get_buffer_size(params) == scratch_bytes(graph.ops[0], graph), (kh, kw, in_c)
    # windows on both sides of the DSP rule's pw8 bound (K = 8 with requant_fused 2: the pw8 path's records, more than
    # the columns from 21 channels on): 1 x 1 x 8 (strides 1 and 2), 2 x 2 x 2, 1 x 2 x 4, and K = 7 and 16
    grown = 0
    for _ in range(200):
        in_c = int(rng.choice([8, 8, 8, 7, 16, 2, 4]))
        kernel = {2: (2, 2), 4: (1, 2)}.get(in_c, (1, 1))
        stride = (1, 1) if rng.random() < 0.8 else (1, 2)
        x = ir.Tensor("x", (int(rng.integers(2, 6)), int(rng.integers(2, 6)), in_c), rg.random_qparams(rng))
        op, y = rg.conv(rng, "y", x, int(rng.integers(1, 110)), kernel, stride, (0, 0, 0, 0))
        if rng.random() < 0.8:  # the fused output stage, mostly with the full range (requant_fused 2)
            op = dataclasses.replace(op, shift=np.clip(-np.abs(op.shift) - 1, -22, -1).astype(np.int32),
                                     bias=(op.bias // 1024).astype(np.int32),
                                     act_min=-128 if rng.random() < 0.8 else op.act_min, act_max=127)
        graph = rg.chain(x, [(op, y)])
        params = ffi.new("tq_conv2d_s8_params *", dict(emit.scalar_fields(op, graph)))
        want = scratch_bytes(op, graph)
        grown += want > 2 * (576 + 8)
        assert lib.tq_conv2d_s8_get_buffer_size(params) == want, dict(emit.scalar_fields(op, graph))
    assert grown > 20


def test_depthwise_scratch_rule_matches_python(tmp_path: Path, gcc: str) -> None:
    """tq_depthwise_conv2d_s8_get_buffer_size (C, through cffi) equals planner.scratch_bytes for random
    depthwise layers: 3x3, 5x5 and other windows, multipliers 1 and 2, strides 1 to 3, paddings 0 to 3,
    fused and unfused output stages (nonzero only for the DSP row path's layers)."""
    ffi, lib = rg.runtime_library(tmp_path, ["tq_depthwise_conv2d_s8.c", "tq_depthwise_conv2d_s8_dsp.c"])
    rng = np.random.default_rng(12)
    nonzero = 0
    for _ in range(300):
        kh, kw = (3, 3) if rng.random() < 0.6 else (5, 5) if rng.random() < 0.4 else tuple(
            int(v) for v in rng.integers(1, 6, 2))
        stride = tuple(int(v) for v in rng.integers(1, 4, 2))
        pad = tuple(int(v) for v in rng.integers(0, 4, 4))
        pad = tuple(min(p, k - 1) for p, k in zip(pad, (kh, kw, kh, kw)))
        x = ir.Tensor("x", (kh + int(rng.integers(0, 9)), kw + int(rng.integers(0, 9)), int(rng.integers(1, 70))),
                      rg.random_qparams(rng))
        op, _ = rg.depthwise(rng, "y", x, int(rng.choice([1, 1, 1, 2])), (kh, kw), stride, pad)
        if rng.random() < 0.6:
            op = dataclasses.replace(op, shift=-np.abs(op.shift) - 1, bias=op.bias // 4)
        graph = rg.chain(x, [(op, _)])
        fields = dict(emit.scalar_fields(op, graph))
        params = ffi.new("tq_depthwise_conv2d_s8_params *", fields)
        want = scratch_bytes(op, graph)
        nonzero += want > 0
        assert lib.tq_depthwise_conv2d_s8_get_buffer_size(params) == want, fields
    assert nonzero > 20
