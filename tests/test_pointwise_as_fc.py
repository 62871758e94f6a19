"""A 1x1 conv without padding on a 1x1 map (the squeeze-excitation convs after a global pool) runs the
fully connected kernel (:func:`tinyqat.ir.kernel_op`): the graph keeps the conv, the package calls
``tq_fully_connected_s8`` with the same integers, and every layer equals the simulator on the host
(ASan/UBSan) and under QEMU on each core (DSP FC kernel on M4/M7/M33, Armv6-M one on M0+)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import runtime_graphs as rg
from conftest import require_tool

from tinyqat import ir
from tinyqat.boards import load_board
from tinyqat.memory import planner
from tinyqat.toolchain import qemu
from tinyqat.toolchain.harness import run_harness


def _with_zero_point(x: ir.Tensor, zp: int) -> ir.Tensor:
    return ir.Tensor(x.name, x.shape, ir.QParams(x.qparams.scale, zp))


def _se_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Squeeze-excitation chains on a 1x1 map (reduce, expand, a strided one: all run as FC), with input
    zero points at the int8 ends and random, odd and multiple-of-4 channel counts, then convs that must
    stay convs (a 1x1 conv with padding on the 1x1 map, a 1x1 conv on a 2x2 map)."""
    graphs = []
    for k, (c, r) in enumerate([(16, 8), (24, 7), (5, 3), (1, 9), (96, 24)]):
        zp = (-128, 127, int(rng.integers(-128, 128)))[k % 3]
        x = _with_zero_point(ir.Tensor("x", (1, 1, c), rg.random_qparams(rng)), zp)
        reduce = rg.conv(rng, "reduce", x, r, (1, 1), (1, 1), (0, 0, 0, 0))
        expand = rg.conv(rng, "expand", reduce[1], c, (1, 1), (1, 1), (0, 0, 0, 0))
        strided = rg.conv(rng, "strided", expand[1], 4, (1, 1), (2, 2), (0, 0, 0, 0))
        graphs.append(rg.chain(x, [reduce, expand, strided]))
    x = ir.Tensor("x", (1, 1, 8), rg.random_qparams(rng))
    padded = rg.conv(rng, "padded", x, 6, (1, 1), (1, 1), (1, 0, 0, 1))  # a 2x2 output: stays a conv
    graphs.append(rg.chain(x, [padded, rg.conv(rng, "map2x2", padded[1], 5, (1, 1), (1, 1), (0, 0, 0, 0))]))
    return graphs


def _inputs(rng: np.random.Generator, graph: ir.Graph) -> np.ndarray:
    """rg.random_input plus an all -128 and an all 127 sample."""
    x = rg.random_input(rng, graph, 3)
    return np.concatenate([x, np.full((1, *x.shape[1:]), -128, np.int8), np.full((1, *x.shape[1:]), 127, np.int8)])


def test_kernel_op_is_fully_connected_only_for_a_1x1_conv_on_a_1x1_map() -> None:
    """The SE convs become FC with the same arrays (weights read as (out_c, in_c)); the others stay."""
    graphs = _se_graphs(np.random.default_rng(3))
    for graph in graphs[:-1]:
        for op in graph.ops:
            fc = ir.kernel_op(op, graph)
            assert isinstance(fc, ir.FullyConnected) and fc.name == op.name and fc.inputs == op.inputs
            assert fc.weights.tobytes() == op.weights.tobytes()
            assert fc.weights.shape == (op.weights.shape[0], op.weights.shape[3])
            for field in ("bias", "multiplier", "shift", "act_min", "act_max", "weight_bits", "output"):
                assert np.array_equal(getattr(fc, field), getattr(op, field))
    assert all(ir.kernel_op(op, graphs[-1]) is op for op in graphs[-1].ops)


def test_package_calls_the_fc_kernel_and_plans_it_as_one(tmp_path: Path) -> None:
    """model.c calls tq_fully_connected_s8 for the SE convs (no conv kernel shipped, no im2col scratch,
    never in place); model.json keeps ``op`` conv2d and names the ``kernel_op``; report.md says both."""
    graph = _se_graphs(np.random.default_rng(3))[0]
    assert planner.scratch_ranges(graph, "dsp") == [] and planner.in_place_rules(graph) == []
    out = rg.emit(graph, tmp_path / "pkg", board="cortex-m4")
    source = (out / "net.c").read_text()
    assert source.count("tq_fully_connected_s8(") == 3 and "tq_conv2d_s8(" not in source
    assert not (out / "tq_conv2d_s8.c").exists() and (out / "tq_fully_connected_s8_dsp.c").exists()
    layers = json.loads((out / "model.json").read_text())["layers"]
    assert [(m["op"], m["kernel_op"], m["scratch_bytes"]) for m in layers] == [("conv2d", "fully_connected", 0)] * 3
    assert "conv2d (fully_connected kernel)" in (out / "report.md").read_text()


def test_se_convs_on_the_host(tmp_path: Path, gcc: str) -> None:
    """The portable FC kernel under ASan/UBSan equals the simulator on every layer."""
    rng = np.random.default_rng(5)
    for k, graph in enumerate(_se_graphs(rng)):
        out = rg.emit(graph, tmp_path / f"pkg{k}", board="cortex-m4")
        x = _inputs(rng, graph)
        got = run_harness(out, tmp_path / f"build{k}", x, sanitize=True)
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m7", "cortex-m33", "cortex-m0plus"])
def test_se_convs_are_bit_exact_under_qemu(board: str, tmp_path: Path) -> None:
    """Each core's FC kernel (DSP on M4/M7/M33, Armv6-M on M0+) equals the simulator on every layer."""
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    rng = np.random.default_rng(5)
    for k, graph in enumerate(_se_graphs(rng)):
        out = rg.emit(graph, tmp_path / f"pkg{k}", board=board)
        x = _inputs(rng, graph)
        got = qemu.run_emulated(out, tmp_path / f"build{k}", x, load_board(board))
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"
