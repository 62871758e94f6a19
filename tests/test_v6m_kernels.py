"""Armv6-M kernels (``runtime_c/tq_*_s8_v6m.c``, ``TQ_USE_V6M``) and output stage (``tq_requant.h``'s
``tq_srdhm_v6m`` / ``tq_mbqm_v6m`` / ``tq_requantize_s8_v6m``).

* The output stage equals the general one (``tq_srdhm``, ``tq_mbqm``, ``tq_requantize_s8``) on millions
  of random and extreme inputs, compiled for the host (under ASan/UBSan) and run under QEMU on a
  Cortex-M0+ (compiled with the board's flags, so without any 64-bit multiply).
* Every layer of randomized graphs (conv incl. 1x1, first layers, odd K, strides and padding, window
  all padding, K above the column bound; depthwise 3x3 and other windows, multiplier 1 and 2, strides,
  planes above the bound; zero points at the int8 ends, -128/127 inputs, channel counts that are not
  multiples of 4) equals the simulator under QEMU on both Armv6-M boards, planned as ``build`` plans
  them (``kernels = "v6m"``: scratch for the conv column and the depthwise plane), with the in-place
  placements the planner picks and with forced in-place placements at every allowed distance.
* The v6m code is really linked on Armv6-M (and nowhere else), no ``__aeabi_lmul`` is called there,
  the layout twin matches its definition, the scratch rules match their C twins, and each board's
  ``kernels`` field matches what its compiler flags select.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import numpy as np
import pytest
import runtime_graphs as rg
from conftest import require_tool
from test_dsp_kernels import _add_table_graphs, _layer_graphs

from tinyqat import fixedpoint, ir
from tinyqat.boards import BoardError, _parse, board_names, load_board
from tinyqat.codegen import emit, layouts, stats
from tinyqat.errors import ToolchainError
from tinyqat.memory.planner import GreedyPlanner, Plan, check_plan, in_place_rules, scratch_bytes
from tinyqat.resources import resource_dir
from tinyqat.target import STRICT_CFLAGS
from tinyqat.toolchain import qemu
from tinyqat.toolchain.compiler import run_compiler

V6M_BOARDS = ("cortex-m0plus", "cortex-m0plus-512k")


def _require_arm_tools() -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")


def _emit_v6m(graph: ir.Graph, out: Path, board: str, plan: Plan | None = None) -> Path:
    out.mkdir(parents=True)
    plan = plan or GreedyPlanner(kernels=load_board(board).kernels).plan(graph)
    emit.emit_package(graph, plan, load_board(board), "net", out, b"test", rg.GENERATOR)
    return out


def _v6m_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Shapes for the Armv6-M kernels' paths (see each comment), on top of test_dsp_kernels' graphs."""
    graphs = []
    x = ir.Tensor("x", (7, 5, 64), rg.random_qparams(rng))  # DS-CNN-like: 64 channels
    graphs.append(rg.chain(x, [
        rg.depthwise(rng, "dw", x, 1, (3, 3), (1, 1), (1, 1, 1, 1)),
        rg.conv(rng, "pw", x, 64, (1, 1), (1, 1), (0, 0, 0, 0)),
        rg.conv(rng, "c33", x, 5, (3, 3), (1, 1), (1, 1, 1, 1)),  # K = 576, the column bound
    ]))
    x = ir.Tensor("x", (6, 9, 5), rg.random_qparams(rng))
    graphs.append(rg.chain(x, [
        rg.depthwise(rng, "dws2", x, 1, (3, 3), (2, 2), (1, 1, 1, 1)),
        rg.depthwise(rng, "dw13", x, 1, (1, 3), (1, 1), (0, 2, 0, 2)),  # padding wider than the window
        rg.depthwise(rng, "dwm3", x, 3, (3, 2), (1, 2), (2, 0, 1, 1)),
        rg.depthwise(rng, "dw_pad", x, 1, (3, 3), (1, 1), (3, 3, 3, 3)),  # border windows all padding
        rg.conv(rng, "k1s2", x, 7, (1, 1), (2, 2), (0, 0, 0, 0)),
        rg.conv(rng, "k5", x, 9, (5, 1), (1, 1), (2, 0, 2, 0)),  # K = 25: one tap after 6 groups of 4
    ]))
    x = ir.Tensor("x", (100, 90, 2), rg.random_qparams(rng))  # plane 102 x 92 > 8192 bytes: portable depthwise
    graphs.append(rg.chain(x, [rg.depthwise(rng, "big", x, 1, (3, 3), (1, 1), (1, 1, 1, 1))]))
    return graphs


@pytest.mark.parametrize("board", V6M_BOARDS)
def test_emulated_v6m_layers_are_bit_exact(board: str, tmp_path: Path) -> None:
    """Every layer of every graph equals the simulator under QEMU with the Armv6-M kernels, planned
    for the board (conv columns and depthwise planes in the arena, in-place where the planner chose)."""
    _require_arm_tools()
    target = load_board(board)
    rng = np.random.default_rng(17)
    graphs = _layer_graphs() + _v6m_graphs(np.random.default_rng(18))
    fused = {dict(emit.scalar_fields(op, g)).get("requant_fused") for g in graphs for op in g.ops}
    assert {0, 1} <= fused  # both output stages of the Armv6-M kernels run
    for k, graph in enumerate(graphs):
        out = _emit_v6m(graph, tmp_path / f"pkg{k}", board)
        x = rg.random_input(rng, graph, 2)
        got = qemu.run_emulated(out, tmp_path / f"build{k}", x, target)
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"


def _in_place_plans(graph: ir.Graph) -> list[Plan]:
    """Plans of a two-op chain (op 0 then a depthwise or conv) that put op 1's output over its input
    at several distances its in-place rule allows (multiples of the channel count and others)."""
    plans = []
    base = GreedyPlanner(kernels="v6m", in_place=False).plan(graph)
    rule = next(r for r in in_place_rules(graph) if r.step == 1)
    x_size = graph.tensor(rule.input).size
    y_size = graph.tensor(rule.output).size
    for d in sorted({rule.d_max, rule.d_max - 4, -x_size + 4, 0, 4} & set(range(-y_size + 1, rule.d_max + 1))):
        if d % 4:
            continue
        start = max(a.end for a in base.allocations if a.tensor == graph.input) + max(0, -d)
        # input at `start`, output at `start + d`, scratch after both
        allocs = []
        for a in base.allocations:
            if a.tensor == rule.input:
                allocs.append(dataclasses.replace(a, offset=start))
            elif a.tensor == rule.output:
                allocs.append(dataclasses.replace(a, offset=start + d))
            else:
                allocs.append(a)
        end = max(a.end for a in allocs)
        scratch = tuple(dataclasses.replace(s, offset=-(-end // 4) * 4) for s in base.scratch)
        top = max([end, *(s.end for s in scratch)])
        plan = Plan(-(-top // 4) * 4, tuple(allocs), scratch, "v6m")
        check_plan(graph, plan)
        plans.append(plan)
    return plans


def test_emulated_v6m_in_place_is_bit_exact(tmp_path: Path) -> None:
    """Depthwise (channel by channel from planes) and conv over their own input at distances the
    planner allows, multiples of the channel count or not, multiplier 1 and 2: bit-exact under QEMU."""
    _require_arm_tools()
    target = load_board("cortex-m0plus")
    rng = np.random.default_rng(19)
    cases = []
    for shape, make in [((6, 5, 8), lambda x: rg.depthwise(rng, "y", x, 1, (3, 3), (1, 1), (1, 1, 1, 1))),
                        ((5, 6, 6), lambda x: rg.depthwise(rng, "y", x, 1, (3, 3), (2, 1), (1, 1, 1, 1))),
                        ((5, 4, 4), lambda x: rg.depthwise(rng, "y", x, 2, (3, 3), (1, 1), (1, 1, 1, 1))),
                        ((6, 5, 8), lambda x: rg.conv(rng, "y", x, 8, (3, 3), (1, 1), (1, 1, 1, 1))),
                        ((4, 4, 12), lambda x: rg.conv(rng, "y", x, 12, (1, 1), (1, 1), (0, 0, 0, 0)))]:
        x0 = ir.Tensor("x0", shape, rg.random_qparams(rng))
        first = rg.conv(rng, "x", x0, shape[2], (1, 1), (1, 1), (0, 0, 0, 0))
        cases.append(rg.chain(x0, [first, make(first[1])]))
    n = 0
    for graph in cases:
        for plan in _in_place_plans(graph):
            out = _emit_v6m(graph, tmp_path / f"pkg{n}", "cortex-m0plus", plan)
            x = rg.random_input(rng, graph, 2)
            got = qemu.run_emulated(out, tmp_path / f"build{n}", x, target)
            assert rg.emulated_mismatch(graph, got, x) is None, f"case {n}: {rg.emulated_mismatch(graph, got, x)}"
            n += 1
    assert n >= 10


def _disassembly(elf: Path) -> str:
    return subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True,
                          check=True).stdout


def test_v6m_path_is_compiled_in_on_armv6m_only(tmp_path: Path) -> None:
    """The M0+ image links block_1x4, the plane kernel, the Armv6-M fully connected and add (with and
    without its table) and calls no __aeabi_lmul (no 64-bit multiply anywhere in the package); the M4 image
    and the M0+ image with -DTQ_PORTABLE have no v6m code."""
    _require_arm_tools()
    graph = _v6m_graphs(np.random.default_rng(1))[0]
    out = _emit_v6m(graph, tmp_path / "pkg", "cortex-m0plus")
    assert {"tq_conv2d_s8_v6m.c", "tq_depthwise_conv2d_s8_v6m.c"} <= {p.name for p in out.iterdir()}
    m0 = load_board("cortex-m0plus")
    text = _disassembly(qemu.build_image(out, tmp_path / "m0", m0))
    assert "<block_1x4>:" in text and "<plane_fill>:" in text
    assert "__aeabi_lmul" not in text
    # fully connected too (tq_fully_connected_s8_v6m.c): no 64-bit multiply call
    fc_graph = _layer_graphs()[0]
    assert any(isinstance(op, ir.FullyConnected) for op in fc_graph.ops)
    fc_out = _emit_v6m(fc_graph, tmp_path / "pkg_fc", "cortex-m0plus")
    assert "tq_fully_connected_s8_v6m.c" in {p.name for p in fc_out.iterdir()}
    fc_text = _disassembly(qemu.build_image(fc_out, tmp_path / "m0_fc", m0))
    assert "<fc_v6m_out>:" in fc_text and "__aeabi_lmul" not in fc_text
    # add (tq_add_s8_v6m.c), without its table (default build, a small add) and with it (speed)
    add_graph = _add_table_graphs(np.random.default_rng(30))[0]
    for optimize in ("size", "speed"):
        add_out = tmp_path / f"pkg_add_{optimize}"
        add_out.mkdir()
        emit.emit_package(add_graph, GreedyPlanner(kernels="v6m").plan(add_graph), m0, "net", add_out, b"test",
                          rg.GENERATOR, optimize)
        assert ("_table[256]" in (add_out / "net_weights.h").read_text()) == (optimize == "speed")
        add_text = _disassembly(qemu.build_image(add_out, tmp_path / f"m0_add_{optimize}", m0))
        assert "__aeabi_lmul" not in add_text
    portable = dataclasses.replace(m0, cflags=(*m0.cflags, "-DTQ_PORTABLE"))
    for k, target in enumerate((portable, load_board("cortex-m4"))):
        text = _disassembly(qemu.build_image(out, tmp_path / f"other{k}", target))
        assert "<block_1x4>:" not in text and "<plane_fill>:" not in text


def test_kernel_files_ship_v6m_companions() -> None:
    rng = np.random.default_rng(5)
    x = ir.Tensor("x", (4, 4, 4), rg.random_qparams(rng))
    conv, _ = rg.conv(rng, "c", x, 2, (1, 1), (1, 1), (0, 0, 0, 0))
    dw, _ = rg.depthwise(rng, "d", x, 1, (3, 3), (1, 1), (1, 1, 1, 1))
    assert stats.kernel_files(conv) == ("tq_conv2d_s8.c", "tq_conv2d_s8_dsp.c", "tq_conv2d_s8_v6m.c",
                                       "tq_conv2d_s8_mve.c")
    assert stats.kernel_files(dw) == ("tq_depthwise_conv2d_s8.c", "tq_depthwise_conv2d_s8_dsp.c",
                                      "tq_depthwise_conv2d_s8_v6m.c", "tq_depthwise_conv2d_s8_mve.c")


def _conv_weights_v6m_by_definition(w: np.ndarray) -> np.ndarray:
    """runtime_c/tq_conv2d_s8_v6m.c's layout, element by element from its comment."""
    out_c = w.shape[0]
    flat = w.reshape(out_c, -1).astype(np.int32)
    k_len, groups = flat.shape[1], -(-out_c // 4)
    res = np.zeros(groups * k_len * 4, np.uint8)
    for g in range(groups):
        for k in range(k_len):
            for i in range(4):
                c = 4 * g + i
                res[(g * k_len + k) * 4 + i] = flat[c, k] + 128 if c < out_c else 128
    return res


@pytest.mark.parametrize("shape", [(4, 3, 3, 16), (5, 10, 4, 1), (3, 3, 3, 3), (7, 1, 1, 9), (1, 1, 1, 1)])
def test_conv_v6m_layout_matches_its_definition(shape: tuple[int, ...]) -> None:
    w = np.random.default_rng(sum(shape)).integers(-127, 128, shape).astype(np.int8)
    w.flat[0], w.flat[-1] = -127, 127
    got = layouts.conv_weights_v6m(w)
    assert got.dtype == np.uint8
    assert np.array_equal(got, _conv_weights_v6m_by_definition(w))


def test_v6m_layout_only_on_v6m_boards(tmp_path: Path) -> None:
    """Armv6-M boards ship weights_v6m under TQ_USE_V6M (int8 weights under the negation); other boards
    never; layers the kernel does not run from it (K above the bound, depthwise) keep int8 only."""
    rng = np.random.default_rng(6)
    x = ir.Tensor("x", (5, 4, 68), rg.random_qparams(rng))
    graph = rg.chain(x, [rg.conv(rng, "wide", x, 4, (3, 3), (1, 1), (1, 1, 1, 1)),
                         rg.conv(rng, "pw", x, 5, (1, 1), (1, 1), (0, 0, 0, 0))])
    assert layouts.v6m_weights(graph.ops[0]) is None and layouts.v6m_weights(graph.ops[1]) is not None
    m0 = (_emit_v6m(graph, tmp_path / "m0", "cortex-m0plus") / "net_weights.h").read_text()
    assert m0.count("weights_v6m[") == 1 and "#if TQ_USE_V6M" in m0 and "#if !TQ_USE_V6M" in m0
    m4 = (_emit_v6m(graph, tmp_path / "m4", "cortex-m4") / "net_weights.h").read_text()
    assert "v6m" not in m4


def test_scratch_rules_match_c(tmp_path: Path, gcc: str) -> None:
    """tq_depthwise_conv2d_s8_v6m_buffer_size and tq_conv2d_s8_get_buffer_size (C, through cffi) equal
    planner.scratch_bytes for v6m plans on random layers (planes on both sides of the bound); a
    portable plan reserves nothing."""
    ffi, lib = rg.runtime_library(tmp_path, ["tq_depthwise_conv2d_s8.c", "tq_depthwise_conv2d_s8_v6m.c",
                                             "tq_conv2d_s8.c", "tq_conv2d_s8_v6m.c"])
    rng = np.random.default_rng(12)
    for _ in range(200):
        kh, kw, sh, sw = (int(v) for v in rng.integers(1, 5, 4))
        in_c = int(rng.choice([1, 3, 8, 64]))
        h, w = int(rng.integers(kh, 120)), int(rng.integers(kw, 120))
        x = ir.Tensor("x", (h, w, in_c), rg.random_qparams(rng))
        graph = rg.chain(x, [rg.depthwise(rng, "y", x, int(rng.integers(1, 3)), (kh, kw), (sh, sw), (0, 0, 0, 0)),
                             rg.conv(rng, "z", x, 3, (kh, kw), (sh, sw), (0, 0, 0, 0))])
        dw, conv = graph.ops
        fields = {f: v for f, v in emit.scalar_fields(dw, graph)}
        params = ffi.new("tq_depthwise_conv2d_s8_params *", fields)
        assert lib.tq_depthwise_conv2d_s8_v6m_buffer_size(params) == scratch_bytes(dw, graph, "v6m")
        cparams = ffi.new("tq_conv2d_s8_params *", {"kernel_h": kh, "kernel_w": kw, "in_c": in_c})
        assert lib.tq_conv2d_s8_get_buffer_size(cparams) == scratch_bytes(conv, graph, "v6m")
        assert scratch_bytes(dw, graph, "portable") == 0
        assert scratch_bytes(conv, graph, "portable") == 0


def test_board_kernels_match_the_compiler(tmp_path: Path) -> None:
    """Each Cortex-M board's ``kernels`` is what its compiler and flags select in tq_kernels.h
    (TQ_USE_DSP / TQ_USE_V6M / TQ_USE_MVE), and a contradictory or unknown value is refused."""
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    probe = tmp_path / "probe.c"
    probe.write_text('#include "tq_kernels.h"\nint tq_probe_dsp = TQ_USE_DSP;\nint tq_probe_v6m = TQ_USE_V6M;\n'
                     'int tq_probe_mve = TQ_USE_MVE;\n')
    for name in board_names():
        board = load_board(name)
        cmd = [*board.cflags, f"-I{resource_dir('runtime_c')}", "-E", "-dD", str(probe)]
        text = subprocess.run([board.cc, *cmd], capture_output=True, text=True, check=True).stdout
        dsp = "#define TQ_USE_DSP 1" in text
        v6m = "#define TQ_USE_V6M 1" in text
        mve = "#define TQ_USE_MVE 1" in text
        expected = {"dsp": (True, False, False), "v6m": (False, True, False), "mve": (False, False, True),
                    "portable": (False, False, False)}[board.kernels]
        assert expected == (dsp, v6m, mve), name
    source = (resource_dir("boards") / "cortex-m0plus.toml").read_text()
    for bad, match in [('kernels = "dsp"', "contradicts"), ('kernels = "fast"', "must be one of")]:
        path = tmp_path / "cortex-m0plus.toml"
        path.write_text(source.replace('kernels = "v6m"', bad))
        with pytest.raises(BoardError, match=match):
            _parse(path)
    assert "STM32G0B1" in load_board("cortex-m0plus-512k").description


# ---------------------------------------------------------------- output stage

def test_generated_requant_fused_is_the_build_time_rule() -> None:
    """The v6m kernels' requant_fused field carries fixedpoint.fused_requant_ok (its bounds are tested in
    tests/test_fixedpoint.py): the layer's output stage is decided at build time, never scanned per call."""
    rng = np.random.default_rng(21)
    answers = set()
    for _ in range(40):
        x = ir.Tensor("x", (4, 4, 8), rg.random_qparams(rng))
        conv, y = rg.conv(rng, "c", x, 4, (3, 3), (1, 1), (1, 1, 1, 1))
        fields = dict(emit.scalar_fields(conv, rg.chain(x, [(conv, y)])))
        answers.add(bool(fields["requant_fused"]))  # 2: fused with the full int8 range (the DSP conv's loop)
        assert bool(fields["requant_fused"]) == fixedpoint.fused_requant_ok(conv.bias, conv.shift, 72)
    assert answers == {False, True}


REQUANT_CHECK = r"""
#include <stdint.h>
#include "tq_requant.h"

static uint64_t state = 88172645463325252ull;
static uint32_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)state;
}

static const int32_t edges[] = {0, 1, -1, 2, -2, INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 1,
                                0x40000000, -0x40000000, 0x3FFFFFFF, -0x40000001, 0xFFFF, 0x10000, -0x10000,
                                -0x10001, 0x7FFF, -0x8000, 0x8000, 0x7FFF0000, -0x7FFF0000};
#define EDGES ((uint32_t)(sizeof edges / sizeof edges[0]))

/* Mismatches of tq_srdhm_v6m, tq_mbqm_v6m, tq_requantize_s8_v6m, tq_requantize_s8_v6m_layer and (under
 * its conditions) tq_requantize_s8_v6m_fused against the general routines on n pseudo-random cases
 * (random bits, random magnitudes, int32 edges, the fused range's ends; every shift in [-31, 30]; zero
 * points and clamps at the int8 ends and random). */
long tq_v6m_mismatches(long n)
{
    long it, bad = 0;
    for (it = 0; it < n; ++it) {
        int32_t a = (int32_t)next(), q = (int32_t)(next() >> 1);
        const int32_t shift = (int32_t)(it % 62) - 31;
        int32_t zp = (int32_t)(next() % 256) - 128, lo = (int32_t)(next() % 256) - 128;
        int32_t hi = (int32_t)(next() % 256) - 128;
        if (it % 4 == 1) {
            a >>= next() % 32;
        }
        if (it % 8 == 6) { /* the fused range [-2^30, 2^30 - 1], its ends included */
            a = (int32_t)(next() % 3) == 0 ? (it % 16 == 6 ? -0x40000000 : 0x3FFFFFFF) : a >> 1;
        }
        if (it % 7 == 2) {
            q >>= next() % 31;
        }
        if (it % 5 == 3) {
            a = edges[next() % EDGES];
        }
        if (it % 11 == 4) {
            q = (int32_t)((uint32_t)edges[next() % EDGES] & 0x7FFFFFFFu);
        }
        if (it % 3 == 0) {
            lo = -128;
            hi = 127;
            zp = it % 9 == 0 ? -128 : (it % 9 == 3 ? 127 : zp);
        }
        if (lo > hi) {
            const int32_t t = lo;
            lo = hi;
            hi = t;
        }
        bad += tq_srdhm_v6m(a, q) != tq_srdhm(a, q);
        bad += tq_mbqm_v6m(a, q, shift) != tq_mbqm(a, q, shift);
        bad += tq_requantize_s8_v6m(a, q, shift, zp, lo, hi) != tq_requantize_s8(a, q, shift, zp, lo, hi);
        bad += tq_requantize_s8_v6m_layer(a, 0, q, shift, zp, lo, hi) != tq_requantize_s8(a, q, shift, zp, lo, hi);
        if (shift <= -1 && a >= -0x40000000 && a <= 0x3FFFFFFF) { /* the fused form's conditions */
            bad += tq_requantize_s8_v6m_fused(a, q, -shift, zp, lo, hi) != tq_requantize_s8(a, q, shift, zp, lo, hi);
            bad += tq_requantize_s8_v6m_layer(a, 1, q, shift, zp, lo, hi) != tq_requantize_s8(a, q, shift, zp, lo, hi);
        }
    }
    return bad;
}
"""

HOST_MAIN = r"""
#include <stdio.h>
long tq_v6m_mismatches(long n);
int main(void)
{
    const long bad = tq_v6m_mismatches(6000000L);
    printf("%ld\n", bad);
    return bad != 0;
}
"""

TARGET_MAIN = r"""
#include <stdlib.h>
long tq_v6m_mismatches(long n);
int main(void)
{
    exit(tq_v6m_mismatches(400000L) != 0 ? 1 : 0);
}
"""


def test_v6m_output_stage_equals_general_on_host(tmp_path: Path, gcc: str) -> None:
    """6M cases x 4-6 routines, compiled with the strict flags under ASan and UBSan (no overflow, no
    invalid shift), plus exhaustive-ish small accumulators: zero mismatches."""
    (tmp_path / "check.c").write_text(REQUANT_CHECK)
    (tmp_path / "main.c").write_text(HOST_MAIN)
    exe = tmp_path / "check"
    run_compiler(gcc, [*STRICT_CFLAGS, "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                       f"-I{resource_dir('runtime_c')}", str(tmp_path / "check.c"), str(tmp_path / "main.c"),
                       "-o", str(exe)])
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "0", proc.stdout + proc.stderr[:2000]


@pytest.mark.parametrize("board", V6M_BOARDS)
def test_v6m_output_stage_equals_general_under_qemu(board: str, tmp_path: Path) -> None:
    """The same check compiled for the Armv6-M board (its flags, -O2) and run under QEMU: 400k cases,
    zero mismatches; the v6m routines contain no 64-bit multiply call (the general ones do)."""
    _require_arm_tools()
    target = load_board(board)
    for fname, text in {"check.c": REQUANT_CHECK, "main.c": TARGET_MAIN, **qemu.baremetal_support(target)}.items():
        (tmp_path / fname).write_text(text)
    elf = tmp_path / "check.elf"
    run_compiler(target.cc, [*target.cflags, *qemu.IMAGE_FLAGS, *STRICT_CFLAGS, f"-I{resource_dir('runtime_c')}",
                             str(tmp_path / "check.c"), str(tmp_path / "main.c"),
                             str(tmp_path / "baremetal_startup.c"), f"-T{tmp_path / 'baremetal.ld'}", "-o", str(elf)],
                 target.apt_package)
    qemu.run_image(qemu.find_qemu(), elf, target, ["check.elf"], timeout_s=300)
    # A function made of the v6m routine alone calls no helper.
    (tmp_path / "only.c").write_text('#include "tq_requant.h"\nint8_t tq_only(int32_t a, int32_t q, int32_t s, '
                                     'int32_t z, int32_t l, int32_t h);\nint8_t tq_only(int32_t a, int32_t q, '
                                     'int32_t s, int32_t z, int32_t l, int32_t h)\n{\n    return '
                                     'tq_requantize_s8_v6m(a, q, s, z, l, h);\n}\n')
    obj = tmp_path / "only.o"
    run_compiler(target.cc, [*target.cflags, *STRICT_CFLAGS, "-O2", f"-I{resource_dir('runtime_c')}", "-c",
                             str(tmp_path / "only.c"), "-o", str(obj)], target.apt_package)
    symbols = subprocess.run(["arm-none-eabi-nm", str(obj)], capture_output=True, text=True, check=True).stdout
    assert "__aeabi" not in symbols, symbols


def test_a_package_of_another_family_compiles_only_where_it_is_read_right(tmp_path: Path) -> None:
    """A one-channel 3x3 depthwise whose Armv6-M plane (8 x 11 = 88 bytes) is larger than the DSP row path's
    buffer (72 bytes): a cortex-m4 package compiled for a Cortex-M0+ made the Armv6-M kernel run past its
    scratch into the next tensor (a wrong output, found by a test that planned for the wrong board). Now
    ``emit_package`` refuses a plan for another family, and that package's C refuses to compile under
    TQ_USE_V6M, naming the board and the fix; with ``-DTQ_PORTABLE`` it runs on the M0+ bit-exactly, and the
    cortex-m0plus package runs on the M4 (its DSP kernels fall back without their layouts)."""
    _require_arm_tools()
    rng = np.random.default_rng(19)
    x = ir.Tensor("x", (6, 9, 1), rg.random_qparams(rng))
    graph = rg.chain(x, [rg.depthwise(rng, "dw", x, 1, (3, 3), (1, 1), (1, 1, 1, 1))])
    assert 0 < scratch_bytes(graph.ops[0], graph, "dsp") < scratch_bytes(graph.ops[0], graph, "v6m")
    with pytest.raises(ValueError, match=r"GreedyPlanner\(kernels='v6m'\)"):
        _emit_v6m(graph, tmp_path / "mixed", "cortex-m0plus", GreedyPlanner(kernels="dsp").plan(graph))
    m4 = rg.emit(graph, tmp_path / "m4", board="cortex-m4")
    m0_board = load_board("cortex-m0plus")
    with pytest.raises(ToolchainError, match=r"generated for board cortex-m4 .* -DTQ_PORTABLE"):
        qemu.build_image(m4, tmp_path / "image", m0_board)
    xs = rg.random_input(rng, graph, 3)
    portable = dataclasses.replace(m0_board, cflags=(*m0_board.cflags, "-DTQ_PORTABLE"))
    m0 = _emit_v6m(graph, tmp_path / "m0", "cortex-m0plus")
    for k, (package, target) in enumerate(((m4, portable), (m0, load_board("cortex-m4")))):
        got = qemu.run_emulated(package, tmp_path / f"run{k}", xs, target)
        assert rg.emulated_mismatch(graph, got, xs) is None, (k, rg.emulated_mismatch(graph, got, xs))
