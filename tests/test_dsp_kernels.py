"""DSP kernels (``runtime_c/tq_*_s8_dsp.c``): bit-exact with the simulator under QEMU on a Cortex-M4
(DSP path) and a Cortex-M0+ (portable path), really compiled in where ``__ARM_FEATURE_DSP`` is
defined, and ``tq_requantize_s8_fast`` and the other DSP output-stage helpers of ``tq_requant.h``
equal to the general path (``tq_requantize_s8``, ``tq_mbqm``) on every input tried.

The randomized layers cover conv (1x1, 3-channel and 1-channel first layers, odd sizes,
padding-only windows, strides, K above the stack column's bound), depthwise (multiplier 1 and
2, channel counts that are and are not multiples of 4, windows clipped on every side) and fully
connected (odd sizes), with zero points at the int8 ends, multipliers above and below 1 (fast
and general requantization) and saturating inputs (:func:`runtime_graphs.random_input`).
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import cffi
import numpy as np
import pytest
import runtime_graphs as rg
from conftest import require_tool

from tinyqat import fixedpoint, ir
from tinyqat.boards import load_board
from tinyqat.codegen import emit, layouts, stats
from tinyqat.memory import planner
from tinyqat.memory.planner import GreedyPlanner
from tinyqat.passes import quantize
from tinyqat.resources import resource_dir
from tinyqat.target import STRICT_CFLAGS
from tinyqat.toolchain import qemu
from tinyqat.toolchain.cffi_model import load_model
from tinyqat.toolchain.compiler import compile_shared, run_compiler
from tinyqat.toolchain.harness import run_harness

DSP_KINDS = ("conv2d", "depthwise_conv2d", "fully_connected")
DSP_FILES = (*DSP_KINDS, "add")  # kernels with a tq_<kind>_s8_dsp.c companion


def _require_arm_tools() -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")


def _fixed_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Shapes chosen for the DSP kernels' paths (see each comment)."""
    graphs = []
    x = ir.Tensor("x", (9, 7, 8), rg.random_qparams(rng))  # in_c multiple of 4: word copies
    graphs.append(rg.chain(x, [
        rg.conv(rng, "pw", x, 5, (1, 1), (1, 1), (0, 0, 0, 0)),  # pointwise, odd out_c
        rg.conv(rng, "c33", x, 6, (3, 3), (1, 1), (1, 1, 1, 1)),
        rg.conv(rng, "c33s2", x, 7, (3, 3), (2, 2), (1, 1, 0, 0)),
        rg.conv(rng, "pad_only", x, 3, (3, 3), (1, 1), (3, 3, 3, 3)),  # border windows all padding
        rg.depthwise(rng, "dw", x, 1, (3, 3), (1, 1), (1, 1, 1, 1)),  # unrolled 3x3 inside, clipped at edges
        rg.depthwise(rng, "dwm2", x, 2, (3, 3), (2, 2), (1, 1, 1, 1)),  # multiplier 2
        rg.depthwise(rng, "dw53", x, 1, (5, 3), (2, 1), (2, 1, 2, 1)),
        rg.fully_connected(rng, "fc", x, 13),
    ]))
    x = ir.Tensor("x", (8, 9, 3), rg.random_qparams(rng))  # 3-channel image: rows of 9 values
    graphs.append(rg.chain(x, [
        rg.conv(rng, "first", x, 16, (3, 3), (1, 1), (1, 1, 1, 1)),
        rg.conv(rng, "k2", x, 3, (2, 2), (2, 1), (0, 1, 1, 0)),
        rg.depthwise(rng, "dw3", x, 1, (3, 3), (1, 1), (1, 1, 1, 1)),  # in_c < 4: portable channels only
        rg.fully_connected(rng, "fc", x, 4),
    ]))
    x = ir.Tensor("x", (7, 8, 3), rg.random_qparams(rng))  # MobileNet's first layer: K = 27 padded to 28
    graphs.append(rg.chain(x, [
        rg.conv(rng, "first_s2", x, 37, (3, 3), (2, 2), (0, 0, 1, 1)),  # 37 channels: two output chunks + a tail
        rg.conv(rng, "pw3", x, 6, (1, 1), (1, 1), (0, 0, 0, 0)),  # K = 3: staged column, 3 zero weights
        rg.conv(rng, "k13", x, 5, (1, 5), (1, 2), (0, 2, 0, 2)),  # rows of 15 values clipped on both sides
    ]))
    x = ir.Tensor("x", (5, 3, 8), rg.random_qparams(rng))  # narrow pointwise: K = 8, an odd pixel count
    graphs.append(rg.chain(x, [
        rg.conv(rng, "pw8", x, 16, (1, 1), (1, 1), (0, 0, 0, 0)),
        rg.conv(rng, "pw8s2", x, 9, (1, 1), (2, 2), (0, 0, 0, 0)),
    ]))
    x = ir.Tensor("x", (13, 6, 1), rg.random_qparams(rng))  # DS-CNN's first layer: 10x4 window, stride 2
    graphs.append(rg.chain(x, [
        rg.conv(rng, "kws", x, 8, (10, 4), (2, 2), (5, 1, 5, 1)),
        rg.conv(rng, "pw1", x, 3, (1, 1), (1, 1), (0, 0, 0, 0)),
    ]))
    x = ir.Tensor("x", (5, 4, 68), rg.random_qparams(rng))  # K = 3 * 3 * 68 > 576: portable conv loop
    graphs.append(rg.chain(x, [
        rg.conv(rng, "wide", x, 4, (3, 3), (1, 1), (1, 1, 1, 1)),
        rg.conv(rng, "pw68", x, 9, (1, 1), (1, 1), (0, 0, 0, 0)),
        rg.depthwise(rng, "dw68", x, 1, (3, 3), (1, 1), (1, 1, 1, 1)),
        rg.fully_connected(rng, "fc", x, 3),
    ]))
    x = ir.Tensor("x", (6, 7, 6), rg.random_qparams(rng))  # rows of 12 values, in_c not a multiple of 4
    graphs.append(rg.chain(x, [
        rg.conv(rng, "k2w", x, 4, (3, 2), (1, 1), (1, 1, 1, 1)),
        rg.depthwise(rng, "dw6", x, 1, (3, 3), (1, 2), (0, 1, 2, 1)),
        rg.depthwise(rng, "dw6m2", x, 2, (2, 3), (1, 1), (1, 0, 1, 1)),
        rg.fully_connected(rng, "fc", x, 7),
    ]))
    return graphs


def _fused(rng: np.random.Generator, layer: tuple[ir.Conv2d, ir.Tensor], full: bool) -> tuple[ir.Conv2d, ir.Tensor]:
    """``layer`` with multipliers below 1 and small biases (the fused output stage applies: requant_fused 1,
    or 2 with ``full``, the full int8 output range)."""
    op, y = layer
    pairs = [fixedpoint.quantize_multiplier(float(r)) for r in 10 ** rng.uniform(-4, -0.31, op.bias.size)]
    lo, hi = (-128, 127) if full else (max(-128, y.qparams.zero_point), 127)
    if not full and lo == -128:
        hi = 100
    op = dataclasses.replace(op, multiplier=np.array([q for q, _ in pairs], np.int32),
                             shift=np.array([e for _, e in pairs], np.int32), act_min=lo, act_max=hi)
    assert fixedpoint.fused_requant_ok(op.bias, op.shift, int(np.prod(op.weights.shape[1:])))
    return op, y


def _fused_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Conv layers with the fused output stage, full range (SSAT loop) and clamped."""
    x = ir.Tensor("x", (9, 7, 8), rg.random_qparams(rng))
    a = ir.Tensor("x", (7, 8, 3), rg.random_qparams(rng))
    return [rg.chain(x, [
        _fused(rng, rg.conv(rng, "f33", x, 16, (3, 3), (1, 1), (1, 1, 1, 1)), True),
        _fused(rng, rg.conv(rng, "f33c", x, 6, (3, 3), (2, 2), (1, 1, 1, 1)), False),
        _fused(rng, rg.conv(rng, "fpw", x, 37, (1, 1), (1, 1), (0, 0, 0, 0)), True),
        _fused(rng, rg.conv(rng, "fpwc", x, 5, (1, 1), (1, 1), (0, 0, 0, 0)), False),
    ]), rg.chain(a, [
        _fused(rng, rg.conv(rng, "ffirst", a, 8, (3, 3), (2, 2), (0, 0, 1, 1)), True),
        _fused(rng, rg.conv(rng, "ffirst13", a, 13, (3, 3), (1, 1), (1, 1, 1, 1)), True),
    ])]


def _ends(layer: tuple[ir.Conv2d, ir.Tensor], zp_out: int, e: int | None = None) -> tuple[ir.Conv2d, ir.Tensor]:
    """``layer`` with the output zero point ``zp_out`` and, with ``e``, channel 0's right shift set to ``e``."""
    op, y = layer
    if e is not None:
        q, shift = fixedpoint.quantize_multiplier(0.75 * 2.0**-e)
        assert shift == -e
        op = dataclasses.replace(op, multiplier=np.concatenate([[q], op.multiplier[1:]]).astype(np.int32),
                                 shift=np.concatenate([[shift], op.shift[1:]]).astype(np.int32))
    return op, dataclasses.replace(y, qparams=ir.QParams(y.qparams.scale, zp_out))


def _table_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Convs whose blocks requantize from the output-stage table (requant_fused 2: full range, right shifts
    <= 22) with input and output zero points at the int8 ends: narrow pointwise (K = 8, strides 1 and 2, out_c
    not a multiple of 4: a remainder group; stride 1 with out_c mod 16 = 0, 4, 8, 12, out_c 4 to 28: every entry
    of the pw8 path's 16-channel loop), first layers 3 x 3 x 3 (windows inside and clipped, stride 2), a
    right shift of exactly 22 (requant_fused 2) and of 23 (requant_fused 1: the stack output stage); wider
    pointwise layers with out_c a multiple of 4 (the pointwise loop: strides 1 and 2, rows skipped, an odd
    pixel count); windows with rows of 4 values (10 x 4 x 1 and 3 x 2 x 2) clipped on every side, strides 1
    and 2, fused and not; wide layers whose table holds only the first channel groups (the rest by chunks)."""
    x = ir.Tensor("x", (6, 7, 8), ir.QParams(0.05, -128))
    a = ir.Tensor("x", (9, 8, 3), ir.QParams(0.02, 127))
    w = ir.Tensor("x", (5, 3, 12), ir.QParams(0.03, 127))  # pointwise_run: an odd pixel count, in_c 12
    k = ir.Tensor("x", (12, 5, 1), ir.QParams(0.04, 127))  # rows of 4 values (DS-CNN's first layer), clipped
    k2 = ir.Tensor("x", (7, 5, 2), ir.QParams(0.04, -128))  # rows of 4 values, 2 channels
    v = ir.Tensor("x", (3, 2, 200), ir.QParams(0.02, 127))  # wide: the table holds 11 of 13 full groups
    v2 = ir.Tensor("x", (3, 5, 24), ir.QParams(0.02, -128))  # K = 216: 11 of 12 full groups, then 2 channels
    full = True
    r2 = np.random.default_rng(2026)  # the later cases' draws: rng's stream (the graphs after these) unchanged
    return [rg.chain(x, [
        _ends(_fused(rng, rg.conv(rng, "pw8", x, 16, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "pw8s2", x, 13, (1, 1), (2, 2), (0, 0, 0, 0)), full), -128, 22),
        _ends(_fused(rng, rg.conv(rng, "pw8e23", x, 8, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127, 23),
        _ends(_fused(rng, rg.conv(rng, "pw8s2q", x, 12, (1, 1), (2, 2), (0, 0, 0, 0)), full), 127),
        _ends(_fused(r2, rg.conv(r2, "pw8r4", x, 20, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128, 22),
        _ends(_fused(r2, rg.conv(r2, "pw8r8", x, 8, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
        _ends(_fused(r2, rg.conv(r2, "pw8r12", x, 28, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128),
        _ends(_fused(r2, rg.conv(r2, "pw8r4b", x, 4, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
    ]), rg.chain(w, [
        _ends(_fused(rng, rg.conv(rng, "pw12", w, 16, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128, 22),
        _ends(_fused(rng, rg.conv(rng, "pw12s2", w, 8, (1, 1), (2, 1), (0, 0, 0, 0)), full), 127),
    ]), rg.chain(a, [
        _ends(_fused(rng, rg.conv(rng, "first", a, 8, (3, 3), (2, 2), (1, 1, 1, 1)), full), -128, 22),
        _ends(_fused(rng, rg.conv(rng, "first13", a, 13, (3, 3), (1, 1), (1, 1, 1, 1)), full), 127),
    ]), rg.chain(k, [
        _ends(_fused(r2, rg.conv(r2, "kws", k, 12, (10, 4), (2, 2), (5, 1, 5, 1)), full), -128, 22),
        _ends(rg.conv(r2, "kws1", k, 6, (10, 4), (1, 1), (4, 3, 5, 0)), 127),
    ]), rg.chain(k2, [
        _ends(_fused(r2, rg.conv(r2, "k32c2", k2, 8, (3, 2), (1, 1), (1, 1, 1, 1)), full), 127),
    ]), rg.chain(v, [
        _ends(_fused(r2, rg.conv(r2, "pw200", v, 54, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128, 22),
    ]), rg.chain(v2, [
        _ends(_fused(r2, rg.conv(r2, "k216", v2, 50, (3, 3), (1, 1), (1, 1, 1, 1)), full), 127),
    ])]


def _wide_graphs() -> list[ir.Graph]:
    """Wide convs (in_c 16, 20, 32, 48): 3 x 3, 2 x 2 and 1 x 3 windows with strides 1 and 2, padding on every
    side (windows clipped at the top and bottom rows: the speed layout's pair columns with rows of zeros), odd
    output widths (pixel pairs across rows), out_c not a multiple of 4, zero points at the int8 ends, fused
    (requant_fused 2: the output-stage table) and general output stages; in_c 20 (not a multiple of 16) takes
    the column-per-pixel path. Pointwise layers with in_c 16, 32 and 48 (both columns of a pixel pair from one
    column_two call in both build modes; strides 1, 2 and (2, 1), an odd pixel count, out_c 7 on the general
    loop), K = 64 (DS-CNN's), 72 and 128, out_c 64 and 8 to 20 (not all a
    multiple of 4), fused and general: in speed packages the doubled layout (block_4x2_x2) where every channel
    group runs through the output-stage table, the plain one elsewhere."""
    rng = np.random.default_rng(2027)
    x = ir.Tensor("x", (7, 9, 16), ir.QParams(0.04, -128))
    y = ir.Tensor("x", (6, 5, 32), ir.QParams(0.03, 127))
    z = ir.Tensor("x", (5, 6, 20), ir.QParams(0.05, 127))
    u = ir.Tensor("x", (4, 7, 48), ir.QParams(0.02, -128))
    p = ir.Tensor("x", (5, 5, 64), ir.QParams(0.03, -128))  # DS-CNN's pointwise layers: K = 64
    q = ir.Tensor("x", (3, 3, 72), ir.QParams(0.03, 127))  # K = 72: not a multiple of the 64-pair loop
    o = ir.Tensor("x", (3, 4, 128), ir.QParams(0.02, 127))  # K = 128: block_4x2_x2's 64 pairs, entered at 0
    full = True
    return [rg.chain(x, [
        _ends(_fused(rng, rg.conv(rng, "w33", x, 16, (3, 3), (1, 1), (1, 1, 1, 1)), full), 127),
        _ends(rg.conv(rng, "w33g", x, 13, (3, 3), (1, 1), (1, 1, 1, 1)), -128),
        _ends(_fused(rng, rg.conv(rng, "w33s2", x, 18, (3, 3), (2, 2), (1, 1, 0, 0)), full), -128, 22),
        _ends(_fused(rng, rg.conv(rng, "w22", x, 8, (2, 2), (1, 1), (0, 0, 1, 1)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "w13s2", x, 6, (1, 3), (2, 2), (0, 1, 0, 1)), False), 127),
        _ends(_fused(rng, rg.conv(rng, "w11s2", x, 12, (1, 1), (2, 2), (0, 0, 0, 0)), full), -128),
    ]), rg.chain(y, [
        _ends(_fused(rng, rg.conv(rng, "v33", y, 32, (3, 3), (1, 1), (1, 1, 1, 1)), full), -128),
        _ends(rg.conv(rng, "v33s2", y, 7, (3, 3), (2, 2), (2, 0, 1, 2)), 127),
        _ends(_fused(rng, rg.conv(rng, "v33p2", y, 9, (3, 3), (1, 1), (2, 2, 2, 2)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "v11", y, 8, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128, 22),
        _ends(_fused(rng, rg.conv(rng, "v11s2", y, 12, (1, 1), (2, 2), (0, 0, 0, 0)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "v11r", y, 7, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128),
    ]), rg.chain(z, [
        _ends(_fused(rng, rg.conv(rng, "z33", z, 11, (3, 3), (1, 1), (1, 1, 1, 1)), full), -128),
    ]), rg.chain(u, [
        _ends(_fused(rng, rg.conv(rng, "u33", u, 10, (3, 3), (1, 1), (1, 1, 1, 1)), full), 127),
        _ends(rg.conv(rng, "u33s2", u, 5, (3, 3), (1, 2), (0, 1, 1, 1)), -128),
        _ends(_fused(rng, rg.conv(rng, "u11", u, 16, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "u11s21", u, 4, (1, 1), (2, 1), (0, 0, 0, 0)), full), -128, 22),
    ]), rg.chain(p, [
        _ends(_fused(rng, rg.conv(rng, "p64", p, 64, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "p64e22", p, 64, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128, 22),
        _ends(_fused(rng, rg.conv(rng, "p64r", p, 18, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
        _ends(rg.conv(rng, "p64g", p, 20, (1, 1), (1, 1), (0, 0, 0, 0)), -128),
    ]), rg.chain(q, [
        _ends(_fused(rng, rg.conv(rng, "q72", q, 12, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128),
        _ends(_fused(rng, rg.conv(rng, "q72s2", q, 8, (1, 1), (2, 2), (0, 0, 0, 0)), full), 127, 22),
    ]), rg.chain(o, [
        _ends(_fused(rng, rg.conv(rng, "o128", o, 16, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128),
    ])]


def _first_layer_graphs() -> list[ir.Graph]:
    """3 x 3 convs of 3-channel inputs with requant_fused 2 and out_c a multiple of 4 (the first-layer path,
    tq_conv2d_s8_first.c): strides 1, 2 and (2, 1), padding on every side and none, windows crossing the top, left,
    bottom and right edges, odd and even pixel counts (the last pixel alone), 4 to 68 channels (68: the most whose
    table fits; 72 takes the general loop), input and output zero points at the int8 ends; and a layer alone in its
    graph, whose output the planner may place over its input (the in-place contract)."""
    rng = np.random.default_rng(2027)
    a = ir.Tensor("x", (9, 8, 3), ir.QParams(0.02, 127))
    b = ir.Tensor("x", (5, 7, 3), ir.QParams(0.03, -128))
    c = ir.Tensor("x", (12, 12, 3), ir.QParams(0.02, -128))
    full = True
    graphs = [rg.chain(a, [
        _ends(_fused(rng, rg.conv(rng, "f1", a, 4, (3, 3), (1, 1), (1, 1, 1, 1)), full), -128, 22),
        _ends(_fused(rng, rg.conv(rng, "f2", a, 8, (3, 3), (2, 2), (1, 1, 1, 1)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "f21", a, 12, (3, 3), (2, 1), (0, 2, 2, 0)), full), -128),
        _ends(_fused(rng, rg.conv(rng, "f0", a, 16, (3, 3), (1, 2), (0, 0, 0, 0)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "f68", a, 68, (3, 3), (2, 2), (0, 0, 1, 1)), full), 127, 22),
        _ends(_fused(rng, rg.conv(rng, "f72", a, 72, (3, 3), (1, 1), (1, 1, 1, 1)), full), -128),
    ]), rg.chain(b, [
        _ends(_fused(rng, rg.conv(rng, "g1", b, 8, (3, 3), (1, 1), (2, 2, 2, 2)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "g2", b, 4, (3, 3), (2, 2), (1, 0, 0, 1)), full), -128),
    ])]
    graphs.append(rg.chain(c, [_ends(_fused(rng, rg.conv(rng, "alone", c, 8, (3, 3), (2, 2), (1, 1, 1, 1)), full),
                                     -128)]))
    return graphs


def _pw8_graphs() -> list[ir.Graph]:
    """8-channel pointwise layers of the pw8 path (tq_conv2d_s8_pw8.c), chunks of 32 pixels (the scratch holds the
    records and a chunk whatever out_c, planner.pw8_scratch_bytes): 36 and 24 channels over 56 pixels (a full chunk and
    a partial one), 40 and 44 (above the 36 whose records fit the columns' scratch; 44 not a multiple of 8), 16 and 100
    over 97 pixels one wide (chunks of 32 and a last one of 1), zero points at the int8 ends; and a layer alone in its
    graph, whose output the planner may place over its input (the in-place contract)."""
    rng = np.random.default_rng(2028)
    x = ir.Tensor("x", (7, 8, 8), ir.QParams(0.05, 127))
    y = ir.Tensor("x", (97, 1, 8), ir.QParams(0.05, -128))
    z = ir.Tensor("x", (11, 9, 8), ir.QParams(0.04, -128))
    full = True
    r2 = np.random.default_rng(2032)  # the later cases' draws: rng's stream (the layers after these) unchanged
    return [rg.chain(x, [
        _ends(_fused(rng, rg.conv(rng, "pw36", x, 36, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128, 22),
        _ends(_fused(rng, rg.conv(rng, "pw24", x, 24, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
        _ends(_fused(r2, rg.conv(r2, "pw40", x, 40, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128, 22),
        _ends(_fused(r2, rg.conv(r2, "pw44", x, 44, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
    ]), rg.chain(y, [
        _ends(_fused(rng, rg.conv(rng, "pw16", y, 16, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
        _ends(_fused(r2, rg.conv(r2, "pw100", y, 100, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128),
    ]), rg.chain(z, [
        _ends(_fused(rng, rg.conv(rng, "alone", z, 16, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128),
    ])]


def _pwk_graphs() -> list[ir.Graph]:
    """16-, 32- and 64-channel pointwise layers of the pwk paths (tq_conv2d_s8_pw16.c / pw32.c / pw64.c): odd pixel
    counts (the last pixel alone), out_c from one channel group to the most the table holds (72, 76, 80), input and
    output zero points at the int8 ends, a right shift of 22; beside them the layers the paths leave to the general
    loop (out_c not a multiple of 4, stride 2, requant_fused 1 and 0); and a layer alone in its graph, whose output
    the planner may place over its input (the in-place contract)."""
    rng = np.random.default_rng(2030)
    a = ir.Tensor("x", (5, 7, 16), ir.QParams(0.05, 127))
    b = ir.Tensor("x", (3, 3, 32), ir.QParams(0.04, -128))
    c = ir.Tensor("x", (1, 3, 16), ir.QParams(0.05, -128))
    d = ir.Tensor("x", (5, 5, 32), ir.QParams(0.03, 127))
    e = ir.Tensor("x", (3, 5, 64), ir.QParams(0.02, -128))
    full = True
    return [rg.chain(a, [
        _ends(_fused(rng, rg.conv(rng, "pw72", a, 72, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128, 22),
        _ends(_fused(rng, rg.conv(rng, "pw4", a, 4, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "pw18", a, 18, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128),
        _ends(_fused(rng, rg.conv(rng, "pws2", a, 8, (1, 1), (2, 2), (0, 0, 0, 0)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "pwf1", a, 8, (1, 1), (1, 1), (0, 0, 0, 0)), False), 127),
        _ends(rg.conv(rng, "pwf0", a, 12, (1, 1), (1, 1), (0, 0, 0, 0)), -128),
        _ends(_fused(rng, rg.conv(rng, "pw32", a, 32, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
    ]), rg.chain(b, [
        _ends(_fused(rng, rg.conv(rng, "pw76", b, 76, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127, 22),
        _ends(_fused(rng, rg.conv(rng, "pw8", b, 8, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128),
        _ends(_fused(rng, rg.conv(rng, "pw80", b, 80, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "pw64", b, 64, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128),
    ]), rg.chain(c, [
        _ends(_fused(rng, rg.conv(rng, "pw20", c, 20, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
    ]), rg.chain(d, [
        _ends(_fused(rng, rg.conv(rng, "alone", d, 16, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128),
    ]), rg.chain(e, [
        _ends(_fused(rng, rg.conv(rng, "pw80", e, 80, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127, 22),
        _ends(_fused(rng, rg.conv(rng, "pw4", e, 4, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128),
        _ends(_fused(rng, rg.conv(rng, "pw84", e, 84, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "pw64", e, 64, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
    ])]


def _pws_graphs() -> list[ir.Graph]:
    """Pointwise layers of the speed builds' pws128 path (tq_conv2d_s8_pws128.c: in_c 128, its quad, pair and lone-pixel
    blocks; 256, 384, four and six iterations of its 32 pairs): odd pixel counts (the last pixel alone), out_c from
    one channel group to 132 (more than any scratch table holds), input and output zero points at the int8 ends, a
    right shift of 22; beside them layers the path leaves to the general loop (out_c not a multiple of 4,
    requant_fused 1); and a layer alone in its graph, whose output the planner may place over its input (the in-place
    contract). The 16-, 32- and 64-channel pws paths run the layers of _pwk_graphs in speed packages."""
    rng = np.random.default_rng(2031)
    a = ir.Tensor("x", (3, 3, 128), ir.QParams(0.02, 127))
    b = ir.Tensor("x", (1, 3, 256), ir.QParams(0.02, -128))
    c = ir.Tensor("x", (2, 1, 384), ir.QParams(0.01, 127))
    d = ir.Tensor("x", (3, 1, 128), ir.QParams(0.02, -128))
    f = ir.Tensor("x", (2, 3, 128), ir.QParams(0.02, 127))  # one quad and a pair
    full = True
    return [rg.chain(a, [
        _ends(_fused(rng, rg.conv(rng, "pws132", a, 132, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128, 22),
        _ends(_fused(rng, rg.conv(rng, "pws4", a, 4, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
        _ends(_fused(rng, rg.conv(rng, "pws18", a, 18, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128),
        _ends(_fused(rng, rg.conv(rng, "pwsf1", a, 8, (1, 1), (1, 1), (0, 0, 0, 0)), False), 127),
    ]), rg.chain(b, [
        _ends(_fused(rng, rg.conv(rng, "pws20", b, 20, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127, 22),
        _ends(_fused(rng, rg.conv(rng, "pws256", b, 8, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128),
    ]), rg.chain(c, [
        _ends(_fused(rng, rg.conv(rng, "pws384", c, 12, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
    ]), rg.chain(f, [
        _ends(_fused(rng, rg.conv(rng, "pws128q", f, 28, (1, 1), (1, 1), (0, 0, 0, 0)), full), -128, 22),
    ]), rg.chain(d, [
        _ends(_fused(rng, rg.conv(rng, "alone", d, 128, (1, 1), (1, 1), (0, 0, 0, 0)), full), 127),
    ])]


def _random_graphs(rng: np.random.Generator, count: int, ops: int) -> list[ir.Graph]:
    """``count`` graphs of ``ops`` random conv / depthwise / fc layers reading one odd-shaped input."""
    graphs = []
    for _ in range(count):
        x = ir.Tensor("x", (int(rng.integers(1, 10)), int(rng.integers(1, 10)), int(rng.integers(1, 13))),
                      rg.random_qparams(rng))
        graphs.append(rg.chain(x, [rg.random_op(rng, DSP_KINDS[k % 3], f"y{k}", [x]) for k in range(ops)]))
    return graphs


def _add_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Adds (the DSP add kernel): a residual network, an add of a tensor with itself, odd sizes."""
    graphs = [rg.residual_model(rng)]
    for shape in ((3, 5, 7), (1, 1, 13)):
        x = ir.Tensor("x", shape, rg.random_qparams(rng))
        y = rg.conv(rng, "c", x, shape[2], (1, 1), (1, 1), (0, 0, 0, 0))
        graphs.append(rg.chain(x, [y, rg.add(rng, "sum", x, y[1]), rg.add(rng, "twice", x, x)]))
    return graphs


def _layer_graphs() -> list[ir.Graph]:
    rng = np.random.default_rng(2024)
    return (_fixed_graphs(rng) + _fused_graphs(rng) + _table_graphs(rng) + _random_graphs(rng, 3, 12) + _add_graphs(rng)
            + [_lookup_graph(), _concat_graph()] + _wide_graphs() + _first_layer_graphs() + _pw8_graphs()
            + _pwk_graphs() + _pws_graphs())


def _concat_graph() -> ir.Graph:
    """A concatenation (tq_concat_s8_dsp.c) of inputs of 7, 5, 4, 9 and 7 channels (four per step, then one at a
    time): the graph input itself with the output's quantization (copied) and tables of it whose scales put every
    other input on a left shift of 0 or more (SMMULR) or a right shift (the fused stage); zero points at the int8
    ends."""
    rng = np.random.default_rng(2032)
    x = ir.Tensor("x", (2, 3, 7), ir.QParams(0.05, -128))
    steps = []
    for k, (c, scale, zp) in enumerate(((5, 0.2, 127), (4, 0.004, -128), (9, 0.07, 0), (7, 0.01, 127))):
        f = rg.conv(rng, f"p{k}", x, c, (1, 1), (1, 1), (0, 0, 0, 0))
        steps.append((f[0], ir.Tensor(f[1].name, f[1].shape, ir.QParams(scale, zp))))
    xs = [x] + [t for _, t in steps]
    y = ir.Tensor("cat", (2, 3, sum(t.shape[-1] for t in xs)), x.qparams)
    cat = quantize.quantize_concat(ir.FloatConcat("concat_cat", tuple(t.name for t in xs), "cat"), rg._scope(*xs, y))
    assert cat.shift.tolist() == [1, 3, -3, 1, -2] and cat.multiplier[0] == 2**30  # copy, left and right shifts
    return rg.chain(x, [*steps, (cat, y)])


def _lookup_graph() -> ir.Graph:
    """Table lookups of 37, 13, 6 and 3 elements (tq_lookup_s8_dsp.c: eight per iteration, then four, then one at a
    time; every remainder path), in place where the planner allows it, input zero points at the int8 ends and
    inputs the harness draws over the whole int8 range (every table entry's end rows)."""
    rng = np.random.default_rng(2031)
    x = ir.Tensor("x", (1, 1, 37), ir.QParams(0.05, -128))
    a = rg.lookup(rng, "a", x, "hardswish")
    f1 = rg.fully_connected(rng, "f1", a[1], 13)
    b = rg.lookup(rng, "b", f1[1], "sigmoid")
    f2 = rg.fully_connected(rng, "f2", b[1], 6)
    c = rg.lookup(rng, "c", f2[1])
    f3 = rg.fully_connected(rng, "f3", c[1], 3)
    return rg.chain(x, [a, f1, b, f2, c, f3, rg.lookup(rng, "d", f3[1], "tanh")])


def _emit(graph: ir.Graph, out: Path, board: str, optimize: str) -> Path:
    out.mkdir(parents=True)
    emit.emit_package(graph, GreedyPlanner().plan(graph), load_board(board), "net", out, b"test", "tinyqat test",
                      optimize)
    return out


@pytest.mark.parametrize(("board", "portable"), [("cortex-m4", False), ("cortex-m7", False), ("cortex-m33", False),
                                                 ("cortex-m55", False), ("cortex-m0plus", False), ("cortex-m4", True)],
                         ids=["cortex-m4-dsp", "cortex-m7-dsp", "cortex-m33-dsp", "cortex-m55",
                              "cortex-m0plus-portable", "cortex-m4-TQ_PORTABLE"])
def test_emulated_layers_are_bit_exact(board: str, portable: bool, tmp_path: Path) -> None:
    """Every layer of every graph equals the simulator under QEMU (DSP kernels on the M4; portable
    ones on the M0+ and on the M4 with -DTQ_PORTABLE)."""
    _require_arm_tools()
    target = load_board(board)
    if portable:
        target = dataclasses.replace(target, cflags=(*target.cflags, "-DTQ_PORTABLE"))
    rng = np.random.default_rng(7)
    for k, graph in enumerate(_layer_graphs()):
        out = rg.emit(graph, tmp_path / f"pkg{k}", board=board)
        x = rg.random_input(rng, graph, 3)
        got = qemu.run_emulated(out, tmp_path / f"build{k}", x, target)
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"


@pytest.mark.parametrize(("board", "portable"), [("cortex-m4", False), ("cortex-m7", False), ("cortex-m33", False),
                                                 ("cortex-m4", True)],
                         ids=["cortex-m4-speed", "cortex-m7-speed", "cortex-m33-speed", "cortex-m4-speed-TQ_PORTABLE"])
def test_speed_packages_are_bit_exact(board: str, portable: bool, tmp_path: Path) -> None:
    """--optimize speed packages (int16 conv weights under TQ_USE_DSP, int8 otherwise) equal the
    simulator under QEMU with the DSP kernels (Cortex-M4, M7 and M33) and with -DTQ_PORTABLE, and the DSP
    image reads the int16 layout (its 4 x 2 assembly block is linked in) where a layer runs the speed blocks; a
    package whose int16-layout layers all run a path of their own (the pws layer) ships and links none of them."""
    _require_arm_tools()
    target = load_board(board)
    if portable:
        target = dataclasses.replace(target, cflags=(*target.cflags, "-DTQ_PORTABLE"))
    rng = np.random.default_rng(8)
    speed_package = None  # the last package running the speed blocks (a 1x1 conv on a 1x1 map runs the FC kernel)
    for k, graph in enumerate(_layer_graphs()):
        out = _emit(graph, tmp_path / f"pkg{k}", board, "speed")
        s16 = any(layouts.speed_weights(ir.kernel_op(op, graph)) is not None for op in graph.ops)
        assert ("weights_s16" in (out / "net_weights.h").read_text()) == s16
        blocks = "&tq_conv2d_s8_speed" in (out / "net.c").read_text()
        assert blocks == (out / "tq_conv2d_s8_speed.c").exists() and (not blocks or s16)
        speed_package = out if blocks else speed_package
        x = rg.random_input(rng, graph, 2)
        got = qemu.run_emulated(out, tmp_path / f"build{k}", x, target)
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"
    assert speed_package is not None and speed_package != out
    text = _disassembly(board, qemu.build_image(speed_package, tmp_path / "image", target))
    assert ("<block_4x2>:" in text) == (not portable)
    # the last graph (_pws_graphs' layer alone, 3 pixels): the pws128 path's pair and lone-pixel blocks ran, and the
    # speed blocks are neither shipped nor linked
    text = _disassembly(board, qemu.build_image(out, tmp_path / "image_pws", target))
    assert ("<pws_block128>:" in text and "<pws_block128_1>:" in text) == (not portable)
    assert "<block_4x2>:" not in text and not (out / "tq_conv2d_s8_speed.c").exists()


def test_speed_package_builds_on_the_host(tmp_path: Path, gcc: str) -> None:
    """A portable core (the host) compiles a speed package with the int8 weights and matches."""
    graph = _fixed_graphs(np.random.default_rng(3))[0]
    out = _emit(graph, tmp_path / "pkg", "cortex-m4", "speed")
    lib = load_model(compile_shared(out, tmp_path / "build"), "net")
    assert rg.first_mismatch(lib, graph, rg.random_input(np.random.default_rng(4), graph, 2)) is None


def test_wide_conv_speed_packages_on_the_host(tmp_path: Path, gcc: str) -> None:
    """The wide conv graphs (_wide_graphs) and the pws128 path's (_pws_graphs) as speed packages run the portable
    kernels on the host (int8 weights, and the pws layers' biases, multipliers and shifts, under !TQ_USE_DSP) and
    match, built with AddressSanitizer and UBSan (the harness exits on any error)."""
    rng = np.random.default_rng(12)
    for k, graph in enumerate(_wide_graphs() + _pws_graphs()):
        out = _emit(graph, tmp_path / f"pkg{k}", "cortex-m4", "speed")
        x = rg.random_input(rng, graph, 2)
        got = run_harness(out, tmp_path / f"build{k}", x, sanitize=True)
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"


def _conv_weights_s16_by_definition(w: np.ndarray) -> np.ndarray:
    """runtime_c/tq_conv2d_s8_dsp.c's speed layout, element by element from its comment."""
    out_c = w.shape[0]
    flat = w.reshape(out_c, -1)
    k = flat.shape[1]
    k4 = -(-k // 4) * 4
    perm = [4 * (i // 4) + (0, 2, 1, 3)[i % 4] for i in range(k4)]
    perm = [-1 if i >= k else i for i in perm]  # the padding values
    k2, groups = len(perm), -(-out_c // 4)
    res = np.zeros(groups * k2 * 4, np.int16)
    for g in range(groups):
        for j in range(k2 // 2):
            for i in range(4):
                for h in range(2):
                    c, src = 4 * g + i, perm[2 * j + h]
                    res[((g * k2 // 2 + j) * 4 + i) * 2 + h] = flat[c, src] if c < out_c and src >= 0 else 0
    return res


def _conv_weights_dsp_by_definition(w: np.ndarray) -> np.ndarray:
    """tinyqat/codegen/layouts.py's int8 DSP layout, byte by byte from its docstring."""
    out_c = w.shape[0]
    flat = w.reshape(out_c, -1)
    k = flat.shape[1]
    k4, groups = -(-k // 4) * 4, -(-out_c // 4)
    perm = [4 * (i // 4) + (0, 2, 1, 3)[i % 4] for i in range(k4)]
    res = np.zeros(groups * k4 * 4, np.int8)
    for g in range(groups):
        for j in range(k4 // 2):
            for s in range(2):
                for b in range(4):
                    c, src = 4 * g + 2 * s + (b & 1), perm[2 * j + (b >> 1)]
                    res[((g * k4 // 2 + j) * 2 + s) * 4 + b] = flat[c, src] if c < out_c and src < k else 0
    return res


def test_pwk_graphs_on_the_host(tmp_path: Path, gcc: str) -> None:
    """The pwk paths' graphs (_pwk_graphs, default packages that ship tq_conv2d_s8_pw16.c / pw32.c / pw64.c) run the
    portable kernels on the host and match, built with AddressSanitizer and UBSan (the harness exits on any
    error); the QEMU runs of test_emulated_layers_are_bit_exact check the paths themselves."""
    rng = np.random.default_rng(13)
    for k, graph in enumerate(_pwk_graphs()):
        out = rg.emit(graph, tmp_path / f"pkg{k}", board="cortex-m4")
        assert any(out.glob("tq_conv2d_s8_pw[136]*.c"))
        x = rg.random_input(rng, graph, 2)
        got = run_harness(out, tmp_path / f"build{k}", x, sanitize=True)
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"


@pytest.mark.parametrize("shape", [(4, 3, 3, 16), (5, 10, 4, 1), (3, 3, 3, 3), (7, 1, 1, 9), (1, 1, 1, 1)])
def test_conv_speed_layout_matches_its_definition(shape: tuple[int, ...]) -> None:
    w = np.random.default_rng(sum(shape)).integers(-127, 128, shape).astype(np.int8)
    got = layouts.conv_weights_s16(w)
    assert got.dtype == np.int16
    assert np.array_equal(got, _conv_weights_s16_by_definition(w))
    got8 = layouts.conv_weights_dsp(w)
    assert got8.dtype == np.int8
    assert np.array_equal(got8, _conv_weights_dsp_by_definition(w))


def test_doubled_speed_layout_where_every_group_runs_through_the_table(tmp_path: Path) -> None:
    """Speed packages ship 2 * w with &tq_conv2d_s8_speed_x2 exactly for the convs whose every channel group runs
    the output stage in the block (requant_fused 2, out_c a multiple of 4 whose groups fit the table), the plain
    layout with &tq_conv2d_s8_speed for the others (out_c 18, a general output stage)."""
    graph = _wide_graphs()[3]  # u33 (K4 = 432), u33s2 (not fused), u11 (pointwise, K = 48), u11s21 (strides (2, 1))
    doubled = [layouts.speed_doubled(op, dict(emit.scalar_fields(op, graph))) for op in graph.ops]
    assert doubled == [False, False, True, True]
    wide = _wide_graphs()[0]  # w33: every group through the table, but K4 = 144 > 128 (the x2 block's one pass)
    assert not layouts.speed_doubled(wide.ops[0], dict(emit.scalar_fields(wide.ops[0], wide)))
    first = _first_layer_graphs()[0]  # 3x3x3 convs of 4 to 68 channels: the speed build's first16 path reads the
    for op in first.ops:              # undoubled int16 weights whatever out_c (the size build's limit does not apply)
        fields = dict(emit.scalar_fields(op, first))
        if layouts.conv_dsp_path(op, fields, True, "speed") == "tq_conv2d_s8_first16":
            assert not layouts.speed_doubled(op, fields), op.name
    assert any(layouts.conv_dsp_path(op, dict(emit.scalar_fields(op, first)), True, "size") is None
               and layouts.conv_dsp_path(op, dict(emit.scalar_fields(op, first)), True, "speed") is not None
               for op in first.ops)  # a layer on the first16 path in speed builds only (out_c > 8)
    for op, two in zip(graph.ops, doubled):
        got = layouts.speed_weights(op, dict(emit.scalar_fields(op, graph)))
        assert got is not None and np.array_equal(got, (2 if two else 1) * layouts.conv_weights_s16(op.weights))
    out = _emit(graph, tmp_path / "pkg", "cortex-m4", "speed")
    text = (out / "net.c").read_text()
    assert text.count("speed_blocks = &tq_conv2d_s8_speed_x2,") == 2
    assert text.count("speed_blocks = &tq_conv2d_s8_speed,") == 2


@pytest.mark.parametrize("optimize", ["size", "speed"])
def test_int8_dsp_layout_ships_with_the_scratch(optimize: str, tmp_path: Path) -> None:
    """A conv the DSP kernel runs (scratch planned, K <= the column bound) ships its int8 DSP layout under
    TQ_USE_DSP and the IR order otherwise (size build; the speed build ships int16 there instead); a plan
    without DSP scratch (a portable core) and a conv above the bound ship the IR order only."""
    rng = np.random.default_rng(11)
    x = ir.Tensor("x", (5, 4, 68), rg.random_qparams(rng))
    graph = rg.chain(x, [rg.conv(rng, "pw", x, 6, (1, 1), (1, 1), (0, 0, 0, 0)),
                         rg.conv(rng, "wide", x, 4, (3, 3), (1, 1), (1, 1, 1, 1))])  # K = 612: portable loop
    for dsp in (True, False):
        out = tmp_path / f"pkg{dsp}"
        out.mkdir()
        plan = GreedyPlanner(kernels="dsp" if dsp else "portable").plan(graph)
        emit.emit_package(graph, plan, load_board("cortex-m4"), "net", out, b"t",
                          "tinyqat test", optimize)
        text = (out / "net_weights.h").read_text()
        assert text.count("int8 layout of the DSP kernel") == (dsp and optimize == "size")
        assert ("l0_conv_pw_weights_s16" in text) == (dsp and optimize == "speed")
        assert "l1_conv_wide_weights[" in text and "l1_conv_wide_weights_s16" not in text
        # the int16-layout blocks ship, and are named in the params, only with a layer in that layout
        assert ((out / emit.SPEED_FILE).is_file()) == (dsp and optimize == "speed")
        assert ("&tq_conv2d_s8_speed" in (out / "net.c").read_text()) == (dsp and optimize == "speed")
        # the conv above the bound has no scratch: the window path, in its own file, in every build
        assert ".dsp_path = &tq_conv2d_s8_window," in (out / "net.c").read_text()
        assert (out / "tq_conv2d_s8_window.c").is_file() and not (out / "tq_conv2d_s8_pw8.c").is_file()
    want = layouts.conv_weights_dsp(graph.ops[0].weights)
    assert want.size == 8 * 68 and want.dtype == np.int8  # 6 channels padded to 8, K = 68 already a multiple of 4
    assert layouts.dsp_weights(graph.ops[1]) is None


def test_speed_layout_only_where_the_kernel_uses_it() -> None:
    rng = np.random.default_rng(5)
    x = ir.Tensor("x", (5, 4, 68), rg.random_qparams(rng))
    wide, _ = rg.conv(rng, "wide", x, 4, (3, 3), (1, 1), (1, 1, 1, 1))  # K = 612 > 576: portable loop
    pw, _ = rg.conv(rng, "pw", x, 4, (1, 1), (1, 1), (0, 0, 0, 0))
    dw, _ = rg.depthwise(rng, "dw", x, 1, (3, 3), (1, 1), (1, 1, 1, 1))
    assert layouts.speed_weights(wide) is None and layouts.speed_weights(dw) is None
    assert layouts.speed_weights(pw) is not None
    with pytest.raises(ValueError, match="optimize"):
        layouts.check_optimize("fast")


def test_conv_dsp_paths_are_chosen_from_the_struct_fields() -> None:
    """layouts.conv_dsp_path (the generator's choice of the DSP conv's path in a file of its own): the pw8 path for
    the stride-1 8-channel pointwise layer with requant_fused 2 and out_c a multiple of 4, the output stage of
    requant_fused 1 for a right shift of 23, none for strides 2 with requant_fused 2, the window path without
    scratch; each path's file is a runtime file."""
    graph = _table_graphs(np.random.default_rng(3))[0]
    want = ["tq_conv2d_s8_pw8", None, "tq_conv2d_s8_fused1", None, *["tq_conv2d_s8_pw8"] * 4]
    for op, path in zip(graph.ops, want, strict=True):
        fields = dict(emit.scalar_fields(op, graph))
        assert layouts.conv_dsp_path(op, fields, True) == path
        assert layouts.conv_dsp_path(op, fields, False) == "tq_conv2d_s8_window"
        assert layouts.conv_dsp_path(op, {**fields, "requant_fused": 0}, True) == "tq_conv2d_s8_fast"
    runtime = {p.name for p in resource_dir("runtime_c").glob("tq_*.c")}
    assert set(layouts.DSP_PATH_FILES.values()) <= runtime
    for graph in _pw8_graphs():  # every out_c (40 to 100 too: the scratch grows with the records) in both builds
        for op in graph.ops:
            fields = dict(emit.scalar_fields(op, graph))
            assert planner.scratch_bytes(op, graph) == max(2 * (576 + 8), 32 * op.bias.size + 512), op.name
            for optimize in ("size", "speed"):
                assert layouts.conv_dsp_path(op, fields, True, optimize) == "tq_conv2d_s8_pw8", op.name


def test_pwk_paths_are_chosen_for_16_and_32_channel_pointwise_layers() -> None:
    """layouts.conv_dsp_path gives the pw16 / pw32 / pw64 paths to the stride-1 pointwise layers of _pwk_graphs with
    requant_fused 2, out_c a multiple of 4 and a table that fits (up to 72 / 76 / 80 channels), in default builds
    only; the general loop (None, or the stack output stages of requant_fused 1 / 0) to the others."""
    pw16, pw32, pw64 = "tq_conv2d_s8_pw16", "tq_conv2d_s8_pw32", "tq_conv2d_s8_pw64"
    want = [[pw16, pw16, None, None, "tq_conv2d_s8_fused1", "tq_conv2d_s8_fast", pw16], [pw32, pw32, None, pw32],
            [pw16], [pw32], [pw64, pw64, None, pw64]]
    for graph, paths in zip(_pwk_graphs(), want, strict=True):
        for op, path in zip(graph.ops, paths, strict=True):
            fields = dict(emit.scalar_fields(op, graph))
            assert layouts.conv_dsp_path(op, fields, True) == path, op.name
            if path in (pw16, pw32, pw64):  # speed builds: the pws path of the same in_c
                assert layouts.conv_dsp_path(op, fields, True, "speed") == path.replace("_pw", "_pws")


def test_pws_paths_are_chosen_for_stride_1_pointwise_layers() -> None:
    """layouts.conv_dsp_path gives speed builds the pws paths (pws16 / 32 / 64, pws128 for in_c 128, 256, 384) for
    the stride-1 pointwise layers with requant_fused 2 and out_c a multiple of 4, whatever out_c (no table bound);
    the general loop to the others; never in default builds."""
    want = [["tq_conv2d_s8_pws128", "tq_conv2d_s8_pws128", None, "tq_conv2d_s8_fused1"],
            ["tq_conv2d_s8_pws128"] * 2, ["tq_conv2d_s8_pws128"], ["tq_conv2d_s8_pws128"], ["tq_conv2d_s8_pws128"]]
    for graph, paths in zip(_pws_graphs(), want, strict=True):
        for op, path in zip(graph.ops, paths, strict=True):
            fields = dict(emit.scalar_fields(op, graph))
            assert layouts.conv_dsp_path(op, fields, True, "speed") == path, op.name
            assert not (layouts.conv_dsp_path(op, fields, True) or "").startswith(layouts.PWS_PREFIX)
    p64 = _wide_graphs()[-3]  # K = 64, out_c 64: pws64; out_c 18 and requant_fused 0 not
    assert [layouts.conv_dsp_path(op, dict(emit.scalar_fields(op, p64)), True, "speed") for op in p64.ops] == [
        "tq_conv2d_s8_pws64", "tq_conv2d_s8_pws64", None, "tq_conv2d_s8_fast"]


def _pws_records_by_definition(op: ir.Conv2d, zp: int) -> np.ndarray:
    """tq_conv_dsp.h's pws records written out group by group, word by word."""
    w = op.weights.reshape(op.weights.shape[0], -1).astype(np.int64)
    k = w.shape[1]
    perm = layouts.conv_column_order(k)
    out: list[int] = []

    def word(v: int) -> None:
        v &= 0xFFFFFFFF
        out.extend(((v & 0xFFFF) ^ 0x8000) - 0x8000 for v in (v, v >> 16))

    for g in range(w.shape[0] // 4):
        for i in range(4):
            word(2 * int(op.bias[4 * g + i]))
        for j in range(k // 2):
            for i in range(4):
                out.extend((2 * w[4 * g + i, perm[2 * j]], 2 * w[4 * g + i, perm[2 * j + 1]]))
        exps = [-int(op.shift[4 * g + i]) for i in range(4)]
        for i in range(4):
            word(int(op.multiplier[4 * g + i]))
        for e in exps:
            word(2 ** (e - 1) + zp * 2**e)
        # channels 1 and 3: the quad blocks' record step (8, then the group's 64 + 8 K bytes - 8) above bit 9, and
        # the last group's flag at bit 8
        steps = [0, 8, 0, 64 + 8 * k - 8]
        for i, e in enumerate(exps):
            word(e + steps[i] * 2**9 + (i == 3 and g == w.shape[0] // 4 - 1) * 2**8)
    return np.array(out, np.int16)


def test_pws_records_match_their_definition(tmp_path: Path) -> None:
    """layouts.pws_records equals its definition (zero points at the ends, a right shift of 22, K 16 and 128); a
    speed package ships them as the layer's weights_s16 (pws_records_bytes of them: stats' flash figure) with the
    pws path, and a default package neither."""
    graphs = (_pwk_graphs()[0], _pws_graphs()[0])
    for graph in graphs:
        for op in graph.ops:
            fields = dict(emit.scalar_fields(op, graph))
            if (layouts.conv_dsp_path(op, fields, True, "speed") or "").startswith(layouts.PWS_PREFIX):
                got = layouts.speed_weights(op, fields)
                want = _pws_records_by_definition(op, fields["output_zero_point"])
                assert got is not None and got.dtype == np.int16 and np.array_equal(got, want), op.name
                assert got.nbytes == layouts.pws_records_bytes(op)
                assert (stats.layout_extra_bytes(op, load_board("cortex-m4"), "speed", graph)
                        == got.nbytes - op.weights.nbytes - op.bias.nbytes - op.multiplier.nbytes - op.shift.nbytes)
    graph = graphs[1]
    for optimize in ("speed", "size"):
        out = _emit(graph, tmp_path / optimize, "cortex-m4", optimize)
        text = (out / "net.c").read_text()
        assert (".dsp_path = &tq_conv2d_s8_pws128," in text) == (optimize == "speed")
        assert (out / "tq_conv2d_s8_pws128.c").is_file() == (optimize == "speed")
        n = layouts.pws_records_bytes(graph.ops[0]) // 2
        weights_h = (out / "net_weights.h").read_text()
        assert (f"l0_conv_pws132_weights_s16[{n}]" in weights_h) == (optimize == "speed")
        # the records replace the biases, multipliers and shifts where TQ_USE_DSP (the portable kernel's arrays)
        for name in ("bias", "multiplier", "shift"):
            guarded = f"#if !TQ_USE_DSP\nstatic const int32_t l0_conv_pws132_{name}[132]"
            assert (guarded in weights_h) == (optimize == "speed"), name
        assert (".bias = l0_conv_pws132_bias," in text) and (".multiplier = l0_conv_pws132_multiplier," in text)


def test_first_layer_path_is_chosen_for_3x3x3_windows() -> None:
    """layouts.conv_dsp_path gives the first-layer path to the 3 x 3 x 3 layers of _first_layer_graphs with
    requant_fused 2 and a table that fits (4 to 68 channels; a default build up to 8 of them, a speed build its
    int16-layout variant), not to 72 channels, nor without requant_fused 2."""
    first = "tq_conv2d_s8_first"
    want = [[4, 8, 12, 16, 68, None], [8, 4], [8]]  # out_c of the layers that take the path in a speed build
    for graph, channels in zip(_first_layer_graphs(), want, strict=True):
        for op, out_c in zip(graph.ops, channels, strict=True):
            fields = dict(emit.scalar_fields(op, graph))
            assert fields["requant_fused"] == 2 and fields["out_c"] == (out_c or 72)
            assert layouts.conv_dsp_path(op, fields, True, "speed") == (f"{first}16" if out_c else None)
            assert layouts.conv_dsp_path(op, fields, True) == (first if out_c and out_c <= 8 else None)
            assert layouts.conv_dsp_path(op, {**fields, "requant_fused": 1}, True, "speed") == "tq_conv2d_s8_fused1"


def _disassembly(board: str, elf: Path) -> str:
    objdump = load_board(board).cc.removesuffix("gcc") + "objdump"
    return subprocess.run([objdump, "-d", str(elf)], capture_output=True, text=True, check=True).stdout


def test_dsp_path_is_compiled_in_for_cortex_m4_only(tmp_path: Path) -> None:
    """The M4 image runs SMLAD/SXTB16 code; the M0+ image and the M4 image with TQ_PORTABLE have none; no image
    of a default package links the speed layout's block (tq_conv2d_s8_speed.c)."""
    _require_arm_tools()
    graph = _fixed_graphs(np.random.default_rng(1))[0]
    out = rg.emit(graph, tmp_path / "pkg", board="cortex-m4")
    assert {f"tq_{k}_s8_dsp.c" for k in DSP_KINDS} <= {p.name for p in out.iterdir()}
    m4 = load_board("cortex-m4")
    cases = [("cortex-m4", m4, True), ("cortex-m0plus", load_board("cortex-m0plus"), False),
             ("cortex-m4", dataclasses.replace(m4, cflags=(*m4.cflags, "-DTQ_PORTABLE")), False)]
    for k, (name, target, dsp) in enumerate(cases):
        text = _disassembly(name, qemu.build_image(out, tmp_path / f"build{k}", target))
        assert ("smlad" in text and "sxtb16" in text) == dsp, (name, target.cflags)
        # a default (size) package links the int8-layout block and none of the speed layout's code
        assert ("<block_4x2_s8>:" in text) == dsp and "<block_4x2>:" not in text


def test_host_build_uses_the_portable_kernels(tmp_path: Path, gcc: str) -> None:
    """On the host the DSP companions compile to nothing: the package links one definition per kernel."""
    graph = _fixed_graphs(np.random.default_rng(3))[1]
    lib = rg.build(graph, tmp_path)
    assert rg.first_mismatch(lib, graph, rg.random_input(np.random.default_rng(4), graph, 2)) is None
    runtime = resource_dir("runtime_c")
    for kind in DSP_FILES:
        obj = tmp_path / f"{kind}_dsp.o"
        run_compiler(gcc, [*STRICT_CFLAGS, "-O2", "-c", str(runtime / f"tq_{kind}_s8_dsp.c"),
                           "-o", str(obj)])
        symbols = subprocess.run(["nm", str(obj)], capture_output=True, text=True, check=True).stdout
        assert f"tq_{kind}_s8" not in symbols


def test_kernel_files_ship_dsp_companions() -> None:
    rng = np.random.default_rng(5)
    x = ir.Tensor("x", (4, 4, 4), rg.random_qparams(rng))
    conv, _ = rg.conv(rng, "c", x, 2, (1, 1), (1, 1), (0, 0, 0, 0))
    pool, _ = rg.max_pool("p", x, (2, 2), (2, 2), (0, 0), False)
    assert stats.kernel_files(conv) == ("tq_conv2d_s8.c", "tq_conv2d_s8_dsp.c", "tq_conv2d_s8_v6m.c",
                                        "tq_conv2d_s8_mve.c")
    assert stats.kernel_files(pool) == ("tq_max_pool2d_s8.c", "tq_max_pool2d_s8_mve.c")


# ---------------------------------------------------------------- fast requantization

SHIM = r"""
#include "tq_requant.h"
/* Number of (acc, q) pairs where the fast and general requantization differ; first one in *where. */
/* Number of (acc, q) pairs, acc in [-2^30, 2^30 - 1], where tq_mbqm_fused(acc, q, e) != tq_mbqm(acc, q, -e). */
long shim_fused_mismatches(const int32_t *acc, long n_acc, const int32_t *q, long n_q, int32_t e, long *where)
{
    long i, j, bad = 0;
    for (j = 0; j < n_q; ++j) {
        for (i = 0; i < n_acc; ++i) {
            if (acc[i] < -(1L << 30) || acc[i] > (1L << 30) - 1) {
                continue;
            }
            if (tq_mbqm_fused(acc[i], q[j], e) != tq_mbqm(acc[i], q[j], -e)) {
                if (bad++ == 0) {
                    *where = j * n_acc + i;
                }
            }
        }
    }
    return bad;
}

long shim_mismatches(const int32_t *acc, long n_acc, const int32_t *q, long n_q, int32_t shift,
                     int32_t zp, int32_t lo, int32_t hi, long *where)
{
    long i, j, bad = 0;
    for (j = 0; j < n_q; ++j) {
        for (i = 0; i < n_acc; ++i) {
            if (tq_requantize_s8_fast(acc[i], q[j], shift, zp, lo, hi)
                != tq_requantize_s8(acc[i], q[j], shift, zp, lo, hi)) {
                if (bad++ == 0) {
                    *where = j * n_acc + i;
                }
            }
        }
    }
    return bad;
}

/* The other DSP output-stage helpers against the general path, under their conditions (tq_requant.h):
 * helper 0: tq_requantize_s8_fused(acc, q, -shift, ...) == tq_requantize_s8, shift in [-31, -1];
 * helper 1: tq_requantize_s8_fused_or_fast(acc, 1, ...) == tq_requantize_s8, shift in [-31, -1];
 * helper 2: tq_requantize_s8_fused_or_fast(acc, 0, ...) == tq_requantize_s8, any shift and acc;
 * helper 3: tq_mbqm_fused_pre(acc, tq_fused_multiplier_make(q, shift)) == tq_mbqm, shift in [-31, 0];
 * helper 4: tq_requantize_s8_fused_pre(acc, tq_fused_multiplier_make(q, shift), ...) == tq_requantize_s8,
 *           shift in [-31, 0];
 * helper 5: tq_requantize_s8_fused2(2 * acc, q, -shift, ...) == tq_requantize_s8, shift in [-31, -1];
 * helper 6: tq_requantize_s8_fused2_folded(2 * acc, q, -shift, tq_fused2_offset(-shift, zp)) ==
 *           tq_requantize_s8(..., zp, -128, 127), shift in [-22, -1];
 * helper 7: tq_requantize_s8_fused_ssat(acc, q, shift, 2 * zp + 1) clamped to [lo, hi] == tq_requantize_s8,
 *           shift in [-31, -1] (the DSP FC kernel's assembly output stage);
 * helper 8: tq_requantize_s8_fused_ssat2(2 * acc, q, -shift - 1, 2 * zp + 1) clamped likewise (the DSP add's);
 * helper 9: tq_requantize_s8_fused_ssat2_ez(2 * acc, q, -shift - 1 + 256 * (2 * zp + 1)) clamped likewise (the DSP FC
 *           short paths').
 * Helpers 0, 1, 3 to 9 skip accumulators outside their range [-2^30, 2^30 - 1]. */
long shim_helper_mismatches(int32_t helper, const int32_t *acc, long n_acc, const int32_t *q, long n_q,
                            int32_t shift, int32_t zp, int32_t lo, int32_t hi, long *where)
{
    long i, j, bad = 0;
    for (j = 0; j < n_q; ++j) {
        const tq_fused_multiplier m = tq_fused_multiplier_make(q[j], shift);
        for (i = 0; i < n_acc; ++i) {
            int32_t got, want;
            if (helper != 2 && (acc[i] < -(1L << 30) || acc[i] > (1L << 30) - 1)) {
                continue;
            }
            if (helper == 3) {
                got = tq_mbqm_fused_pre(acc[i], m);
                want = tq_mbqm(acc[i], q[j], shift);
            } else {
                want = tq_requantize_s8(acc[i], q[j], shift, zp, lo, hi);
                if (helper == 0) {
                    got = tq_requantize_s8_fused(acc[i], q[j], -shift, zp, lo, hi);
                } else if (helper == 7) {
                    got = tq_requantize_s8_fused_ssat(acc[i], q[j], shift, 2 * zp + 1);
                    got = got < lo ? lo : (got > hi ? hi : got);
                } else if (helper == 8) {
                    got = tq_requantize_s8_fused_ssat2(acc[i] * 2, q[j], -shift - 1, 2 * zp + 1);
                    got = got < lo ? lo : (got > hi ? hi : got);
                } else if (helper == 9) {
                    got = tq_requantize_s8_fused_ssat2_ez(acc[i] * 2, q[j], -shift - 1 + 256 * (2 * zp + 1));
                    got = got < lo ? lo : (got > hi ? hi : got);
                } else if (helper == 4) {
                    got = tq_requantize_s8_fused_pre(acc[i], m, zp, lo, hi);
                } else if (helper == 5) {
                    got = tq_requantize_s8_fused2(acc[i] * 2, q[j], -shift, zp, lo, hi);
                } else if (helper == 6) {
                    got = tq_requantize_s8_fused2_folded(acc[i] * 2, q[j], -shift, tq_fused2_offset(-shift, zp));
                    want = tq_requantize_s8(acc[i], q[j], shift, zp, -128, 127);
                } else {
                    got = tq_requantize_s8_fused_or_fast(acc[i], helper == 1, q[j], shift, zp, lo, hi);
                }
            }
            if (got != want) {
                if (bad++ == 0) {
                    *where = j * n_acc + i;
                }
            }
        }
    }
    return bad;
}
"""


@pytest.fixture(scope="module")
def requant_shim(tmp_path_factory: pytest.TempPathFactory) -> tuple[cffi.FFI, object]:
    require_tool("gcc", "gcc")
    tmp = tmp_path_factory.mktemp("requant_fast")
    (tmp / "shim.c").write_text(SHIM, encoding="utf-8")
    so_path = tmp / "libshim.so"
    run_compiler("gcc", [*STRICT_CFLAGS, "-O2", "-fPIC", "-shared", f"-I{resource_dir('runtime_c')}",
                         str(tmp / "shim.c"), "-o", str(so_path)])
    ffi = cffi.FFI()
    ffi.cdef("long shim_fused_mismatches(const int32_t *acc, long n_acc, const int32_t *q, long n_q, int32_t e, "
             "long *where);")
    ffi.cdef("long shim_mismatches(const int32_t *acc, long n_acc, const int32_t *q, long n_q, int32_t shift, "
             "int32_t zp, int32_t lo, int32_t hi, long *where);")
    ffi.cdef("long shim_helper_mismatches(int32_t helper, const int32_t *acc, long n_acc, const int32_t *q, long n_q, "
             "int32_t shift, int32_t zp, int32_t lo, int32_t hi, long *where);")
    return ffi, ffi.dlopen(str(so_path))


def test_fast_requantization_equals_the_general_one(requant_shim: tuple[cffi.FFI, object]) -> None:
    """Every shift in [-31, 30] (the fast formula for -31..-1, the general routine otherwise), 40
    multipliers (edges and random) and ~90k accumulators: every acc in [-2^15, 2^15], the fast
    path's limits +-2^30 and their neighbours, the int32 ends, random values of every magnitude;
    zero points and clamps at the int8 ends. About 225M comparisons in C (~1.5 s)."""
    ffi, lib = requant_shim
    rng = np.random.default_rng(11)
    edges = [0, 1, 2, 3, 2**29, 2**30 - 1, 2**30, 2**30 + 1, 2**31 - 2, 2**31 - 1]
    accs = np.concatenate([
        np.arange(-(2**15), 2**15 + 1),
        np.array([e + d for e in (-(2**31), -(2**30), 2**30, 2**31 - 1) for d in range(-3, 4)
                  if -(2**31) <= e + d < 2**31]),
        (rng.integers(-(2**31), 2**31, 20000) >> rng.integers(0, 31, 20000)),
        rng.integers(-(2**31), 2**31, 5000),
    ]).astype(np.int32)
    qs = np.array(edges + [int(v) for v in rng.integers(2**30, 2**31, 20)]
                  + [int(v) for v in rng.integers(0, 2**30, 10)], np.int32)
    where = ffi.new("long *")
    acc_ptr, q_ptr = ffi.from_buffer("int32_t[]", accs), ffi.from_buffer("int32_t[]", qs)
    for shift in range(-31, 31):
        zp, lo, hi = [(0, -128, 127), (-128, -128, 127), (127, -128, 127), (5, -3, 90)][shift % 4]
        bad = lib.shim_mismatches(acc_ptr, len(accs), q_ptr, len(qs), shift, zp, lo, hi, where)
        j, i = divmod(where[0], len(accs))
        assert bad == 0, f"shift {shift}: {bad} mismatches, first acc={accs[i]} q={qs[j]}"


def test_fused_requantization_equals_mbqm(requant_shim: tuple[cffi.FFI, object]) -> None:
    """tq_mbqm_fused(acc, q, e) == tq_mbqm(acc, q, -e) for every right shift e in [1, 31] on ~90k
    accumulators of the fused range [-2^30, 2^30 - 1] (edges, every small value, random) and 40
    multipliers (the range that fixedpoint.fused_requant_ok's bound keeps a layer's accumulators in)."""
    ffi, lib = requant_shim
    accs, qs = _fused_range_inputs(np.random.default_rng(12))
    where = ffi.new("long *")
    acc_ptr, q_ptr = ffi.from_buffer("int32_t[]", accs), ffi.from_buffer("int32_t[]", qs)
    for e in range(1, 32):
        bad = lib.shim_fused_mismatches(acc_ptr, len(accs), q_ptr, len(qs), e, where)
        j, i = divmod(where[0], len(accs))
        assert bad == 0, f"e {e}: {bad} mismatches, first acc={accs[i]} q={qs[j]}"


def _fused_range_inputs(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """~90k accumulators of the fused range [-2^30, 2^30 - 1] (edges, every small value, random) and 40
    multipliers (edges and random), as test_fused_requantization_equals_mbqm uses."""
    accs = np.concatenate([
        np.arange(-(2**15), 2**15 + 1),
        np.array([e + d for e in (-(2**30), 0, 2**30 - 1) for d in range(-3, 4) if -(2**30) <= e + d < 2**30]),
        (rng.integers(-(2**30), 2**30, 20000) >> rng.integers(0, 31, 20000)),
    ]).astype(np.int32)
    qs = np.array([0, 1, 2, 2**30 - 1, 2**30, 2**30 + 1, 2**31 - 1]
                  + [int(v) for v in rng.integers(2**30, 2**31, 23)] + [int(v) for v in rng.integers(0, 2**30, 10)],
                  np.int32)
    return accs, qs


def _helper_mismatches(requant_shim: tuple[cffi.FFI, object], helper: int, accs: np.ndarray, qs: np.ndarray,
                       shifts: range) -> None:
    ffi, lib = requant_shim
    where = ffi.new("long *")
    acc_ptr, q_ptr = ffi.from_buffer("int32_t[]", accs), ffi.from_buffer("int32_t[]", qs)
    for shift in shifts:
        zp, lo, hi = [(0, -128, 127), (-128, -128, 127), (127, -128, 127), (5, -3, 90)][shift % 4]
        bad = lib.shim_helper_mismatches(helper, acc_ptr, len(accs), q_ptr, len(qs), shift, zp, lo, hi, where)
        j, i = divmod(where[0], len(accs))
        assert bad == 0, f"helper {helper} shift {shift}: {bad} mismatches, first acc={accs[i]} q={qs[j]}"


def test_fused_output_stages_equal_requantize(requant_shim: tuple[cffi.FFI, object]) -> None:
    """The conv, depthwise, FC and add DSP output stages: tq_requantize_s8_fused(acc, q, e),
    tq_requantize_s8_fused_or_fast(acc, fused=1), tq_requantize_s8_fused2(2 * acc, q, e),
    tq_requantize_s8_fused_ssat, tq_requantize_s8_fused_ssat2 and tq_requantize_s8_fused_ssat2_ez (then clamped) equal
    tq_requantize_s8(acc, q, -e) for every right shift
    e in [1, 31] on the fused range, zero points and clamps at the int8 ends and inside."""
    accs, qs = _fused_range_inputs(np.random.default_rng(13))
    for helper in (0, 1, 5, 7, 8, 9):
        _helper_mismatches(requant_shim, helper, accs, qs, range(-31, 0))
    _helper_mismatches(requant_shim, 6, accs, qs, range(-22, 0))


def test_fused_or_fast_without_fused_equals_requantize(requant_shim: tuple[cffi.FFI, object]) -> None:
    """tq_requantize_s8_fused_or_fast(acc, fused=0) is tq_requantize_s8 for every shift in [-31, 30]
    and every accumulator tried, the int32 ends included."""
    rng = np.random.default_rng(14)
    accs = np.concatenate([
        np.arange(-(2**12), 2**12 + 1),
        np.array([-(2**31), -(2**31) + 1, -(2**30) - 1, 2**30, 2**31 - 2, 2**31 - 1]),
        (rng.integers(-(2**31), 2**31, 5000) >> rng.integers(0, 31, 5000)),
    ]).astype(np.int32)
    _, qs = _fused_range_inputs(rng)
    _helper_mismatches(requant_shim, 2, accs, qs, range(-31, 31))


def test_prepared_fused_multiplier_equals_mbqm(requant_shim: tuple[cffi.FFI, object]) -> None:
    """The DSP add's helpers: tq_mbqm_fused_pre(v, tq_fused_multiplier_make(q, shift)) == tq_mbqm(v, q, shift)
    and tq_requantize_s8_fused_pre == tq_requantize_s8 for every shift in [-31, 0] (0 included: the
    generalization of tq_mbqm_fused) on the range [-2^30, 2^30 - 1]."""
    accs, qs = _fused_range_inputs(np.random.default_rng(15))
    for helper in (3, 4):
        _helper_mismatches(requant_shim, helper, accs, qs, range(-31, 1))


def test_dsp_kernels_without_arena_scratch_fall_back_exactly(tmp_path: Path) -> None:
    """A package planned for portable kernels (the host: no scratch reserved) run on a DSP core: the
    DSP conv gets no column buffer, takes its portable loop, and stays bit-exact."""
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    graph = rg.residual_model(np.random.default_rng(5))
    plan = GreedyPlanner(kernels="portable").plan(graph)
    assert not plan.scratch
    out = tmp_path / "pkg"
    out.mkdir()
    emit.emit_package(graph, plan, load_board("host"), "net", out, b"test artifact", rg.GENERATOR)
    x = rg.random_input(np.random.default_rng(6), graph, 3)
    got = qemu.run_emulated(out, tmp_path / "build", x, load_board("cortex-m4"))
    expected = rg.reference_layers(graph, x)
    for layer in range(len(graph.ops)):
        for sample in range(len(x)):
            np.testing.assert_array_equal(got[sample][layer].reshape(-1), expected[layer][sample].reshape(-1))


def _fused_depthwise(rng: np.random.Generator, name: str, x: ir.Tensor, stride: tuple[int, int],
                     padding: tuple[int, int, int, int], full: bool,
                     tiny: bool = False, k: int = 3) -> tuple[ir.DepthwiseConv2d, ir.Tensor]:
    """A k x k (3 or 5) depthwise layer (multiplier 1) whose output stage may be fused (fused_requant_ok):
    right shifts only, one channel with all weights at +-127 and a bias at the fused bound. ``full``: the
    full int8 activation range (the row path's 3x3 assembly), else a random one (its C loop); ``tiny``:
    one channel's right shift above 22 (the C loop too)."""
    op, y = rg.depthwise(rng, name, x, 1, (k, k), stride, padding)
    if full:
        op = dataclasses.replace(op, act_min=-128, act_max=127)
    c = x.shape[2]
    ratios = 10 ** rng.uniform(-4, -0.4, c)
    if tiny:
        ratios[-1] = 3e-9
    pairs = [fixedpoint.quantize_multiplier(float(r)) for r in ratios]
    bias = rng.integers(-(2**14), 2**14, c).astype(np.int32)
    weights = op.weights.copy()
    k = int(rng.integers(c))
    weights[:, :, k] = int(rng.choice([-127, 127]))
    bias[k] = int(rng.choice([-1, 1])) * (2**30 - 1 - 32385 * op.weights.shape[0] * op.weights.shape[1])
    op = dataclasses.replace(op, weights=weights, bias=bias, multiplier=np.array([q for q, _ in pairs], np.int32),
                             shift=np.array([s for _, s in pairs], np.int32))
    assert fixedpoint.fused_requant_ok(op.bias, op.shift, op.weights.shape[0] * op.weights.shape[1])
    return op, y


def _depthwise_row_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Chains of fused 3x3 depthwise layers (the DSP row path), each reading the previous one so the
    planner runs them in place: strides 1 and 2 in both directions, paddings 0 to 2 on each side,
    channel counts below, at and above multiples of 4, maps from 1x1 up, output rows of every column
    block split of the assembly (blocks of 6, tails 1 to 5, the odd ones also skipping the last output's third
    tap when it is right padding), every copy variant of the assembly (with and
    without the lead and last padding pairs, odd and even pair counts, with and without four-pixel steps)
    and rings zeroed up front or row by row."""
    specs = [((9, 7, 8), [((1, 1), (1, 1, 1, 1)), ((2, 2), (1, 1, 1, 1)), ((1, 2), (0, 1, 2, 1)),
                          ((2, 1), (2, 2, 0, 0)), ((1, 1), (2, 0, 1, 2))]),
             ((6, 5, 13), [((1, 1), (1, 1, 1, 1)), ((2, 2), (0, 0, 1, 1)), ((1, 1), (2, 2, 2, 2))]),
             ((1, 1, 5), [((1, 1), (1, 1, 1, 1)), ((2, 2), (1, 1, 1, 1))]),
             ((2, 3, 1), [((2, 2), (1, 1, 1, 1)), ((1, 1), (1, 1, 1, 1))]),
             ((12, 12, 22), [((2, 2), (1, 1, 1, 1)), ((1, 1), (1, 1, 1, 1)), ((1, 1), (0, 0, 0, 0))]),
             ((5, 4, 3), [((1, 2), (1, 1, 1, 1)), ((2, 1), (1, 2, 1, 0))]),
             # the assembly's column blocks: several blocks of 6 then tails 5 and 3 (strides 1 and 2)
             ((5, 29, 12), [((1, 1), (1, 1, 1, 1)), ((2, 2), (1, 1, 1, 1)), ((1, 1), (1, 1, 1, 1)),
                            ((1, 2), (1, 0, 1, 2))]),
             ((3, 9, 4), [((1, 1), (1, 1, 1, 1))]),
             # copies without lead and last pairs (two quads), and a padding of 2 (ring zeroed up front)
             ((6, 8, 12), [((1, 1), (0, 0, 0, 0)), ((1, 1), (2, 2, 2, 2))]),
             # stride-1 odd tails with the last output's third tap in the right padding (the skipping tails,
             # TQ_DW_SKIP: KWS DS-CNN's 5-wide rows) and inside the input (right padding 0: the plain tails)
             ((7, 5, 6), [((1, 1), (1, 1, 1, 1)), ((1, 1), (1, 2, 1, 0))]),
             ((4, 7, 5), [((1, 1), (0, 2, 0, 0)), ((1, 1), (1, 1, 1, 1))]),
             # copy variant 7 (the quad loop unrolled twice) with an odd count of quads above 1 (3: entered at
             # the second quad, then one more pass), both strides, channels off the group of 4
             ((4, 16, 6), [((1, 1), (1, 1, 1, 1)), ((2, 2), (1, 1, 1, 1))])]
    graphs = []
    for shape, layers in specs:
        x = ir.Tensor("x", shape, rg.random_qparams(rng))
        steps, t = [], x
        for k, (stride, padding) in enumerate(layers):
            op, t = _fused_depthwise(rng, f"d{k}", t, stride, padding, full=k % 3 != 2, tiny=k == 1 and shape[2] == 8)
            steps.append((op, t))
        graphs.append(rg.chain(x, steps))
    return (graphs + _depthwise5_row_graphs(rng) + _depthwise_small_map_graphs(rng) + _depthwise_two_row_graphs(rng)
            + _depthwise_tiny_map_graphs(rng))


def _depthwise_chains(rng: np.random.Generator, specs: list, full=lambda k: True,
                      clamped=lambda k, shape: False) -> list[ir.Graph]:
    """One chain of fused 3x3 depthwise layers per (input shape, input zero point, [(stride, padding) ...]) of
    ``specs``, the input scale drawn from ``rng``: layer k with the full int8 output range where ``full(k)``, and
    its range clamped to [-120, 110] where ``clamped(k, shape)`` (the row path's C loop)."""
    graphs = []
    for shape, zp, layers in specs:
        x = ir.Tensor("x", shape, ir.QParams(float(np.float32(10 ** rng.uniform(-3, 0))), zp))
        steps, t = [], x
        for k, (stride, padding) in enumerate(layers):
            op, t = _fused_depthwise(rng, f"d{k}", t, stride, padding, full=full(k))
            if clamped(k, shape):
                op = dataclasses.replace(op, act_min=-120, act_max=110)
            steps.append((op, t))
        graphs.append(rg.chain(x, steps))
    return graphs


def _depthwise_two_row_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Fused 3x3 layers whose first and last output rows have one padding row in their window (the two-row
    assembly dw_rows2_s1 / dw_rows2_s2, which leaves that row out; the other rows take the three-row one):
    the column blocks the other graphs leave to one of them (stride 1: the plain tail of 1 after a block of
    6; stride 2: tails 4 and 5, a block of 6 then 1 or 4), channel counts off the group of 4, input zero
    points at both int8 ends."""
    specs = [((7, 8, 6), -128, [((1, 1), (1, 1, 1, 0)), ((2, 2), (1, 1, 1, 1))]),  # 6 + 1 (plain), then 4
             ((7, 20, 5), 127, [((2, 2), (1, 1, 1, 1)), ((2, 2), (1, 1, 1, 1))]),  # 6 + 4, then 5
             ((5, 13, 3), 127, [((2, 2), (1, 1, 1, 1))])]  # 6 + 1
    return _depthwise_chains(rng, specs)


def _depthwise_small_map_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """VWW MobileNetV1's last depthwise shapes (a 6x6 map to 3x3 with stride 2, then 3x3 with stride 1), 4x4
    and 2x2 maps, channel counts off the group of 4, input zero points at both int8 ends (the copies'
    subtracted zero point and padding bytes): the row path's per-row glue (ring slots per top padding)."""
    specs = [((6, 6, 21), -128, [((2, 2), (1, 1, 1, 1)), ((1, 1), (1, 1, 1, 1)), ((1, 1), (2, 2, 0, 0))]),
             ((4, 4, 10), 127, [((1, 1), (1, 1, 1, 1)), ((2, 2), (0, 0, 1, 1)), ((1, 1), (1, 1, 1, 1))])]
    return _depthwise_chains(rng, specs, full=lambda k: k != 1)


def _depthwise_tiny_map_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Outputs of 1x1 to 3x2 with every order of the assembly path's windows (rows_asm: slots rotating with the
    windows, the two-row assembly on a window with a padding row): a top padding row then a bottom one at stride
    2 (the step after row 0 copying one row only) and at stride 1 (no row to copy), a single output row with the
    top padding row, with the bottom one, and with none, input rows of 1 (the ring zeroed instead); channel
    counts off the group of 4, input zero points at both int8 ends, one layer on the C loop."""
    specs = [((3, 3, 9), -128, [((2, 2), (1, 1, 1, 1)), ((1, 1), (0, 0, 1, 1)), ((1, 1), (1, 1, 1, 1))]),
             ((4, 3, 16), 127, [((1, 1), (1, 1, 0, 0)), ((2, 2), (0, 1, 1, 0))]),
             ((2, 4, 5), -128, [((1, 1), (1, 1, 1, 1)), ((2, 1), (1, 1, 1, 1)), ((1, 1), (1, 0, 1, 2))])]
    return _depthwise_chains(rng, specs, clamped=lambda k, shape: (k, shape[2]) == (2, 5))  # the C loop


def _depthwise5_row_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Chains of fused 5x5 depthwise layers (the row path's ring of five rows, its C loops): MobileNetV3's
    shapes (padding 2, strides 1 and 2), strides mixed across directions, paddings 0 to 4 (windows of
    padding only, rings zeroed up front or row by row), odd and even output widths (the loops' tails),
    channel counts below, at and above multiples of 4, maps from 1x1 up."""
    specs = [((6, 6, 24), [((1, 1), (2, 2, 2, 2)), ((1, 1), (2, 2, 2, 2))]),  # blocks of 6 exactly
             # output widths 6 + 1 (stride 2 then 1), 6 + 6, 6 + 6 + 4 and 6 + 2 (stride 2), 6 + 4 (both strides)
             ((12, 13, 13), [((2, 2), (2, 2, 2, 2)), ((1, 1), (1, 0, 3, 4))]),
             ((8, 16, 6), [((1, 1), (0, 0, 0, 0)), ((1, 1), (4, 4, 4, 4)), ((2, 2), (3, 1, 1, 3))]),
             ((9, 20, 5), [((1, 2), (2, 2, 2, 2)), ((2, 1), (4, 3, 0, 1))]),
             ((5, 11, 3), [((1, 1), (2, 1, 2, 1))])]  # 6 + 2 + 1
    graphs = []
    for shape, layers in specs:
        x = ir.Tensor("x", shape, rg.random_qparams(rng))
        steps, t = [], x
        for k, (stride, padding) in enumerate(layers):
            op, t = _fused_depthwise(rng, f"d{k}", t, stride, padding, full=k % 2 == 0, tiny=k == 1, k=5)
            steps.append((op, t))
        graphs.append(rg.chain(x, steps))
    # the assembly's blocks (full int8 range) with a right shift above 22 (requant_fused 1: K = 0 in the record)
    # and input zero points at both int8 ends: 6 + 6 + 1 outputs at stride 1, then 6 + 1 at stride 2
    for shape, zp in (((9, 13, 7), -128), ((6, 8, 5), 127)):
        x = ir.Tensor("x", shape, ir.QParams(float(np.float32(10 ** rng.uniform(-3, 0))), zp))
        a = _fused_depthwise(rng, "d0", x, (1, 1), (2, 2, 2, 2), full=True, tiny=True, k=5)
        b = _fused_depthwise(rng, "d1", a[1], (2, 2), (2, 2, 2, 2), full=True, tiny=shape[2] == 7, k=5)
        graphs.append(rg.chain(x, [a, b]))
    return graphs


def _depthwise5_pixel_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Fused 5x5 layers with output rows narrower than planner.DW5_MIN_OUT_W: no scratch, the pixel loop (full
    range, a clamped range, a right shift above 22, rows of 2 to 5). MobileNetV3's 6x6 to 3x3 (stride 2) and 3x3
    to 3x3 (stride 1) layers, input zero points at both int8 ends, channels off the group of 4."""
    x = ir.Tensor("x", (7, 9, 6), rg.random_qparams(rng))
    a = _fused_depthwise(rng, "d0", x, (2, 2), (3, 1, 1, 3), full=True, k=5)  # 5 wide: 3 + 2
    b = _fused_depthwise(rng, "d1", a[1], (1, 1), (2, 2, 2, 2), full=False, k=5)
    b = (dataclasses.replace(b[0], act_min=-120, act_max=110), b[1])  # clamped: the pixel loop
    c = _fused_depthwise(rng, "d2", b[1], (1, 1), (2, 2, 2, 2), full=True, k=5)
    graphs = [rg.chain(x, [a, b, c])]
    y = ir.Tensor("y", (6, 6, 10), ir.QParams(float(np.float32(10 ** rng.uniform(-3, 0))), -128))
    steps = [_fused_depthwise(rng, "e0", y, (2, 2), (2, 2, 2, 2), full=True, k=5)]  # 3 wide
    steps.append(_fused_depthwise(rng, "e1", steps[-1][1], (1, 1), (2, 2, 2, 2), full=True, tiny=True, k=5))
    steps.append(_fused_depthwise(rng, "e2", steps[-1][1], (1, 1), (2, 2, 2, 2), full=True, k=5))
    steps.append(_fused_depthwise(rng, "e3", steps[-1][1], (2, 2), (2, 2, 2, 2), full=True, k=5))  # 2 wide
    graphs.append(rg.chain(y, steps))
    z = ir.Tensor("z", (4, 4, 7), ir.QParams(float(np.float32(10 ** rng.uniform(-3, 0))), 127))
    graphs.append(rg.chain(z, [_fused_depthwise(rng, "f0", z, (1, 1), (2, 2, 2, 2), full=True, k=5)]))  # 3 + 1
    return graphs


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "cortex-m0plus"])
def test_depthwise_row_path_is_bit_exact(board: str, tmp_path: Path) -> None:
    """The DSP depthwise row path (int16 rows in arena scratch, in place over its input) equals the
    simulator on every layer under QEMU; the M0+ runs the portable kernel on the same packages. The 5x5
    row-path layers name tq_depthwise_conv2d_s8_rows5 (dsp_path), and only their packages ship its file."""
    _require_arm_tools()
    rng = np.random.default_rng(31)
    graphs = _depthwise_row_graphs(rng) + _depthwise5_pixel_graphs(rng)
    in_place = rows5 = 0
    for k, graph in enumerate(graphs):
        plan = GreedyPlanner().plan(graph)
        row_path = [planner.scratch_bytes(op, graph) > 0 for op in graph.ops]
        widths = [graph.tensor(op.output).shape[1] for op in graph.ops]
        assert row_path == [op.kernel == (3, 3) or w >= planner.DW5_MIN_OUT_W
                            for op, w in zip(graph.ops, widths, strict=True)]
        in_place += sum(bool(emit._in_place_text(op, plan)) for op in graph.ops)
        out = rg.emit(graph, tmp_path / f"pkg{k}", board=board)
        named = (out / "net.c").read_text().count(".dsp_path = &tq_depthwise_conv2d_s8_rows5,")
        want = sum(row and op.kernel == (5, 5) for row, op in zip(row_path, graph.ops, strict=True))
        assert named == (want if load_board(board).kernels == "dsp" else 0)
        assert (out / "tq_depthwise_conv2d_s8_rows5.c").exists() == (named > 0)
        rows5 += named
        x = rg.random_input(rng, graph, 3)
        got = qemu.run_emulated(out, tmp_path / f"build{k}", x, load_board(board))
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"
    assert in_place >= 5
    assert rows5 >= (2 if load_board(board).kernels == "dsp" else 0)


def test_depthwise_row_graphs_on_the_host(tmp_path: Path, gcc: str) -> None:
    """The same graphs through the portable kernel on the host (cffi); the tiny-map ones also built with
    AddressSanitizer and UBSan (the harness exits on any error)."""
    for k, graph in enumerate(_depthwise_row_graphs(np.random.default_rng(31))):
        lib = rg.build(graph, tmp_path / f"g{k}")
        assert rg.first_mismatch(lib, graph, rg.random_input(np.random.default_rng(k), graph, 3)) is None
    rng = np.random.default_rng(32)
    for k, graph in enumerate(_depthwise_tiny_map_graphs(rng)):
        out = rg.emit(graph, tmp_path / f"pkg{k}", board="cortex-m4")
        x = rg.random_input(rng, graph, 2)
        got = run_harness(out, tmp_path / f"build{k}", x, sanitize=True)
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"


def test_depthwise_records_match_their_definition() -> None:
    """layouts.dw_records, word by word from its definition: int16 pairs of doubled weights (low half
    first; 3x3: (w0, w1), (w1, w2) per row; 5x5: (w0, w1), (w2, w3), (w1, w2), (w3, w4) per row), 2 bias, q,
    K = 2^(e-1) + zp 2^e (0 above e = 22) and e (3x3: + 256 on the last channel + 65536 W, W = 2 wp the bytes
    between two channels' rows, wp = TQ_DW_DSP_WP: output width 6 at stride 1 -> wp = 10, width 3 at
    stride 2 -> wp = 8), for weights at +-127 and shifts at the ends."""
    rng = np.random.default_rng(41)
    x = ir.Tensor("x", (6, 6, 7), rg.random_qparams(rng))
    for k, stride, firsts, words, wp in ((3, 1, (0, 1), 10, 10), (3, 2, (0, 1), 10, 8), (5, 1, (0, 2, 1, 3), 24, 0)):
        op, y = _fused_depthwise(rng, "d", x, (stride, stride), (1, 1, 1, 1), full=True, k=k)
        op = dataclasses.replace(op, shift=np.array([-1, -22, -23, -31, -5, -9, -2], np.int32))
        for zp in (-128, 0, 127):
            rec = layouts.dw_records(op, zp, y.shape[1]).reshape(7, words)
            for c in range(7):
                w = [[2 * int(op.weights[r, t, c]) for t in range(k)] for r in range(k)]
                e = -int(op.shift[c])
                want = [(w[r][a] & 0xFFFF) | (w[r][a + 1] << 16) for r in range(k) for a in firsts]
                e_word = e + (256 * (c == 6) + 65536 * 2 * wp if k == 3 else 0)
                want += [2 * int(op.bias[c]), int(op.multiplier[c]), 2 ** (e - 1) + zp * 2**e if e <= 22 else 0, e_word]
                assert [int(v) for v in rec[c]] == [int(np.int32(np.int64(v))) for v in want], (k, zp, c)


def test_depthwise_records_ship_with_the_scratch(tmp_path: Path) -> None:
    """A depthwise layer with DSP scratch ships its records under TQ_USE_DSP and its four IR arrays under
    !TQ_USE_DSP; planned for portable kernels (no scratch), the IR arrays only."""
    rng = np.random.default_rng(42)
    x = ir.Tensor("x", (6, 5, 13), rg.random_qparams(rng))
    graph = rg.chain(x, [_fused_depthwise(rng, "d", x, (1, 1), (1, 1, 1, 1), full=True)])
    for kernels in ("dsp", "portable"):
        out = tmp_path / kernels
        out.mkdir()
        emit.emit_package(graph, GreedyPlanner(kernels=kernels).plan(graph), load_board("cortex-m4"), "net", out,
                          b"t", "tinyqat test")
        text = (out / "net_weights.h").read_text()
        source = (out / "net.c").read_text()
        assert ("l0_dw_d_records[130]" in text) == (kernels == "dsp")
        assert ".records = l0_dw_d_records" in source if kernels == "dsp" else ".records" not in source
        assert "l0_dw_d_weights[117]" in text and "l0_dw_d_shift[13]" in text


def test_depthwise_row_assembly_matches_its_generator() -> None:
    """The row path's assembly in tq_depthwise_conv2d_s8_dsp.c is what scripts/gen_dw_asm.py prints."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "gen_dw_asm.py"
    printed = subprocess.run(["python3", str(script)], check=True, capture_output=True, text=True).stdout
    source = (resource_dir("runtime_c") / "tq_depthwise_conv2d_s8_dsp.c").read_text()
    assert printed in source


def test_depthwise5_assembly_matches_its_generator() -> None:
    """The 5x5 row functions' assembly in tq_depthwise_conv2d_s8_rows5.c is what scripts/gen_dw5_asm.py prints."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "gen_dw5_asm.py"
    printed = subprocess.run(["python3", str(script)], check=True, capture_output=True, text=True).stdout
    source = (resource_dir("runtime_c") / "tq_depthwise_conv2d_s8_rows5.c").read_text()
    assert printed in source


def _depthwise_copy_graphs(rng: np.random.Generator) -> list[tuple[ir.Graph, list[str | None]]]:
    """Fused 3x3 layers with horizontal stride 2 (1), left padding 1 and input rows of every width with a row copy of
    its own (layouts.DW_COPY_WIDTHS: tq_depthwise_conv2d_s8_copy<n>; DW_COPY_S1_WIDTHS: copy<n>s1), each with the
    path its layers must name:
    one channel group exactly and groups plus 1 to 3 channels the C loop copies, vertical strides 1 and 2, top
    padding 0 and 1, input zero points at both int8 ends, the assembly and the C loops (a clamped activation
    range) reading the copied rows; and layers of those widths the copies do not fit (right padding 2: a wider
    ring row; 3 channels: no group), which keep the kernel's own copy."""
    specs = [((5, 6, 4), 127, [((2, 2), (1, 1, 1, 1), True, "copy6")]),
             ((4, 8, 9), -128, [((2, 2), (1, 1, 1, 1), True, "copy8"), ((1, 1), (1, 1, 1, 1), True, "copy4s1")]),
             ((3, 8, 8), 127, [((1, 2), (1, 1, 0, 0), False, "copy8")]),
             ((6, 12, 7), -128, [((2, 2), (0, 1, 1, 0), True, "copy12"), ((2, 2), (1, 1, 1, 1), True, "copy6")]),
             ((5, 16, 13), 127, [((2, 2), (1, 1, 1, 1), True, "copy16"), ((2, 2), (1, 1, 1, 2), True, None)]),
             ((4, 12, 3), -128, [((2, 2), (1, 1, 1, 1), True, None)]),
             ((4, 12, 6), -128, [((1, 1), (1, 1, 1, 1), True, "copy12s1"), ((2, 2), (1, 1, 1, 1), True, "copy12"),
                                 ((1, 1), (1, 1, 1, 2), True, None)]),
             ((3, 6, 6), 127, [((1, 1), (1, 1, 1, 1), True, "copy6s1")]),
             ((5, 8, 4), 127, [((1, 1), (1, 1, 1, 1), True, "copy8s1"), ((2, 1), (0, 1, 1, 1), False, "copy8s1")]),
             ((5, 5, 9), 127, [((1, 1), (1, 1, 1, 1), True, "copy5s1"), ((1, 1), (1, 1, 1, 1), False, "copy5s1"),
                               ((2, 2), (1, 1, 1, 1), True, None), ((1, 1), (1, 1, 1, 1), True, "copy3s1")]),
             ((3, 48, 5), 127, [((2, 2), (1, 1, 1, 1), True, "copy48"), ((1, 1), (1, 1, 1, 1), False, "copy24s1")]),
             ((4, 24, 6), -128, [((1, 1), (1, 1, 1, 1), True, "copy24s1")]),
             ((3, 24, 7), 127, [((2, 2), (1, 1, 1, 1), True, "copy24")])]
    graphs = []
    for shape, zp, layers in specs:
        x = ir.Tensor("x", shape, ir.QParams(float(np.float32(10 ** rng.uniform(-3, 0))), zp))
        steps, t, paths = [], x, []
        for k, (stride, padding, full, path) in enumerate(layers):
            op, t = _fused_depthwise(rng, f"d{k}", t, stride, padding, full=full)
            steps.append((op, t))
            paths.append(path)
        graphs.append((rg.chain(x, steps), paths))
    return graphs


def test_depthwise_copy_paths_follow_their_condition() -> None:
    """layouts.dw_dsp_path names tq_depthwise_conv2d_s8_copy<n> exactly for the DSP row path's 3x3 layers with
    horizontal stride 2, left padding 1, >= 4 channels, n in DW_COPY_WIDTHS and n / 2 outputs (copy<n>s1: stride
    1, n in DW_COPY_S1_WIDTHS and n outputs); never without DSP kernels or scratch."""
    for graph, paths in _depthwise_copy_graphs(np.random.default_rng(33)):
        for op, path in zip(graph.ops, paths, strict=True):
            want = None if path is None else f"tq_depthwise_conv2d_s8_{path}"
            assert layouts.dw_dsp_path(op, graph, "dsp", True) == want
            assert layouts.dw_dsp_path(op, graph, "dsp", False) is None
            assert layouts.dw_dsp_path(op, graph, "portable", True) is None
            if want is not None:
                assert layouts.DSP_PATH_FILES[want] == f"{want}.c"


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m7", "cortex-m33", "cortex-m0plus"])
def test_depthwise_row_copies_are_bit_exact(board: str, tmp_path: Path) -> None:
    """The layers of _depthwise_copy_graphs equal the simulator under QEMU: on the DSP cores those with a row copy
    of their own name it (dsp_path) and only their packages ship its file; the M0+ runs the portable kernel."""
    _require_arm_tools()
    dsp = load_board(board).kernels == "dsp"
    rng = np.random.default_rng(34)
    for k, (graph, paths) in enumerate(_depthwise_copy_graphs(np.random.default_rng(33))):
        out = rg.emit(graph, tmp_path / f"pkg{k}", board=board)
        source = (out / "net.c").read_text()
        for path in layouts.DW_COPY_PATHS:
            named = source.count(f".dsp_path = &{path},")
            assert named == (paths.count(path.removeprefix("tq_depthwise_conv2d_s8_")) if dsp else 0), (k, path)
            assert (out / f"{path}.c").exists() == (named > 0)
        x = rg.random_input(rng, graph, 3)
        got = qemu.run_emulated(out, tmp_path / f"build{k}", x, load_board(board))
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"


def test_depthwise_copy_packages_on_the_host(tmp_path: Path) -> None:
    """The cortex-m4 packages of _depthwise_copy_graphs (shipping tq_depthwise_conv2d_s8_copy<n>.c, their layers
    naming it under TQ_USE_DSP) compile on the host, where the portable kernel runs, and match, built with
    AddressSanitizer and UBSan (the harness exits on any error)."""
    rng = np.random.default_rng(35)
    for k, (graph, _) in enumerate(_depthwise_copy_graphs(np.random.default_rng(33))[:2]):
        out = rg.emit(graph, tmp_path / f"pkg{k}", board="cortex-m4")
        assert any(out.glob("tq_depthwise_conv2d_s8_copy*.c"))
        x = rg.random_input(rng, graph, 2)
        got = run_harness(out, tmp_path / f"build{k}", x, sanitize=True)
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"


def test_depthwise_row_copies_match_their_generator() -> None:
    """Each tq_depthwise_conv2d_s8_copy<n>.c (copy<n>s1.c) is what scripts/gen_dw_copy_asm.py generates."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "gen_dw_copy_asm.py"
    for path in layouts.DW_COPY_PATHS:
        name = path.removeprefix("tq_depthwise_conv2d_s8_")
        printed = subprocess.run(["python3", str(script), "--print", name], check=True, capture_output=True,
                                 text=True).stdout
        assert printed == (resource_dir("runtime_c") / f"{path}.c").read_text(), path


# ---------------------------------------------------------------- fully connected (pair layout, fused stage)

FC_BOARDS = ("cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "cortex-m0plus")


def _fc(rng: np.random.Generator, name: str, x: ir.Tensor, out_f: int, fused: bool,
        weights: str = "random", full: bool = False, per_tensor: bool = False) -> tuple[ir.FullyConnected, ir.Tensor]:
    """A FullyConnected on ``x``: ``fused`` picks multipliers below 1/2 and small biases (the fused
    output stage, fixedpoint.fused_requant_ok) or rg's ratios up to 5 (the C output stage);
    ``weights``: "random", "min" (all -127), "max" (all 127) or "ends" (rows of -127 and 127).
    Output zero points at the int8 ends or random, clamps of every kind (``full``: the full int8 range);
    ``per_tensor``: one multiplier and shift for every channel (channel 0's)."""
    zp = int(rng.choice([-128, 127, int(rng.integers(-128, 128))]))
    y = ir.Tensor(name, (out_f,), ir.QParams(float(np.float32(10 ** rng.uniform(-3, 0))), zp))
    n = x.size
    bias, mult, shift = rg.requant_params(rng, out_f)
    if fused:
        pairs = [fixedpoint.quantize_multiplier(float(r)) for r in 10 ** rng.uniform(-6, -2.5, out_f)]
        bias = rng.integers(-(2**20), 2**20, out_f).astype(np.int32)
        mult, shift = np.array([q for q, _ in pairs], np.int32), np.array([s for _, s in pairs], np.int32)
        assert fixedpoint.fused_requant_ok(bias, shift, n)
    if per_tensor:
        mult, shift = np.full(out_f, mult[0], np.int32), np.full(out_f, shift[0], np.int32)
    w = rng.integers(-127, 128, (out_f, n)).astype(np.int8)
    if weights != "random":
        w = np.full((out_f, n), -127 if weights == "min" else 127, np.int8)
        if weights == "ends":
            w[1::2] = -w[1::2]
    lo, hi = (-128, 127) if full else rg.activation_range(rng, zp)
    return ir.FullyConnected(f"fc_{name}", x.name, name, w, bias, mult, shift, lo, hi), y


def _fc_graphs(rng: np.random.Generator) -> list[tuple[ir.Graph, str]]:
    """FC layers for the DSP kernel's paths: groups of 8 rows (fused and not), chunks of 512 inputs
    (first chunk shorter than one unrolled 8-step iteration, longer and not a multiple of it, exactly 512,
    516 = 512 + 4), extreme weights with
    saturating inputs (|sum x * w_b| at its 512-input bound), rows after the last group, in_features
    not a multiple of 4 (natural rows only), tiny layers, every entry step 0-7 of fc_groups' loop, the tail
    pairs (1 to 3, with and without groups before them, over chunks, odd steps), the short paths; input zero points
    -128, 127 and random. Each with the ``optimize`` it is built for."""
    specs = [  # (in_features, [(out, fused, weights[, full range[, per-tensor]])])
        (1032, [(16, True, "random"), (19, False, "random"), (8, True, "min"), (9, True, "ends")]),
        (512, [(8, True, "max"), (10, False, "ends"), (3, True, "random")]),
        (516, [(24, True, "ends"), (8, False, "min")]),
        (64, [(12, True, "random"), (10, False, "random"), (2, True, "random"), (64, True, "random")]),
        (8, [(128, True, "random"), (8, False, "random")]),
        (6, [(10, True, "random"), (9, False, "random")]),
        (4, [(8, True, "random"), (1, False, "random")]),
        (1, [(1, True, "random"), (8, False, "random")]),
        (52, [(16, True, "random"), (8, False, "ends")]),  # 13 steps: one unrolled iteration and 5 single steps
        (564, [(8, True, "ends")]),  # first chunk 13 steps, then 128
        # tail blocks (2 pairs, 1 pair, a natural last row) after groups or alone, over several chunks and tiny
        (1036, [(14, True, "ends"), (7, False, "max"), (2, True, "min")]),
        (16, [(7, True, "random"), (6, False, "ends"), (4, True, "random"), (5, False, "random")]),
        (12, [(15, True, "random"), (2, False, "random"), (3, True, "max")]),
        (28, [(8, True, "max"), (8, False, "random")]),  # 7 steps: the loop entered at step 1, then 2 steps (at 6)
        (24, [(9, False, "min")]),  # 6 steps: entered at step 2
        # the short paths (fused, full range): k8 (8 inputs, out a multiple of 8; 1, 2 and 16 iterations of its two
        # groups of 4 rows), rows8 (in a multiple of 4 up to 512, out a multiple of 8): 1 to 7 steps (every entry
        # step of its 8-step loop), 9 and 128 steps (several iterations), 512 inputs of extreme weights, 1 to 16
        # groups; pairs (2, 4 or 6 outputs, in a multiple of 8): 1 to 7 blocks (every entry block of its 8-block
        # loop, 5 to 7 with rows8p layers beside them), 9 and 32 blocks; per-tensor requantization (one multiplier
        # and shift) on each path and on the general kernel
        (8, [(128, True, "random", True), (8, True, "ends", True), (16, True, "max", True), (4, True, "max", True),
             (2, True, "random", True), (16, True, "random", True, True), (3, True, "random", False, True)]),
        (4, [(8, True, "random", True), (24, True, "min", True)]),
        (12, [(16, True, "random", True), (8, True, "max", True)]),
        (16, [(48, True, "random", True), (8, True, "min", True), (6, True, "min", True)]),
        (20, [(8, True, "ends", True), (40, True, "random", True)]),
        (24, [(16, True, "random", True), (2, True, "random", True), (4, True, "ends", True)]),
        (28, [(8, True, "min", True)]),
        (36, [(24, True, "ends", True)]),
        (512, [(8, True, "max", True), (16, True, "ends", True)]),
        (256, [(2, True, "ends", True), (6, True, "random", True)]),
        (32, [(2, True, "max", True)]),
        (72, [(6, True, "random", True)]),
        (40, [(2, True, "random", True), (10, True, "ends", True)]),
        (48, [(4, True, "ends", True), (12, True, "random", True)]),
        (56, [(6, True, "min", True), (14, True, "random", True)]),
        (64, [(8, True, "random", True, True), (2, True, "ends", True, True), (10, False, "random", False, True)]),
        # the rows8p path (groups of 8, then 1 to 3 pairs; in a multiple of 8 up to 512), speed and default builds:
        # 64 -> 10 / 12 / 22 beside layers that must not take it (not fused, an odd count, 2 outputs: pairs); 512
        # inputs of extreme weights; 3 steps / blocks (every loop entered late) and 8 inputs (one block)
        (64, [(10, True, "random", True), (12, True, "ends", True), (22, True, "random", True, True),
              (10, False, "random", True), (9, True, "random", True), (2, True, "max", True)], "speed"),
        (512, [(14, True, "ends", True), (10, True, "max", True, True)], "speed"),
        (24, [(10, True, "min", True), (12, True, "random", True)], "speed"),
        (8, [(18, True, "random", True), (12, True, "ends", True)], "speed"),
        (64, [(10, True, "random", True), (12, True, "random", True), (14, True, "max", True)]),
    ]
    graphs = []
    for k, (n, layers, *optimize) in enumerate(specs):  # input zero points -128, 127 and random in turn
        zp_in = (-128, 127, int(rng.integers(-128, 128)))[k % 3]
        x = ir.Tensor("x", (1, 1, n), ir.QParams(rg.random_qparams(rng).scale, zp_in))
        graph = rg.chain(x, [_fc(rng, f"f{k}", x, *layer) for k, layer in enumerate(layers)])
        graphs.append((graph, optimize[0] if optimize else "size"))
    return graphs


def _fc_inputs(rng: np.random.Generator, graph: ir.Graph) -> np.ndarray:
    """rg.random_input plus an all -128 and an all 127 sample."""
    x = rg.random_input(rng, graph, 3)
    return np.concatenate([x, np.full((1, *x.shape[1:]), -128, np.int8), np.full((1, *x.shape[1:]), 127, np.int8)])


@pytest.mark.parametrize("board", FC_BOARDS)
def test_fully_connected_layers_are_bit_exact(board: str, tmp_path: Path) -> None:
    """The FC graphs equal the simulator under QEMU: the DSP kernel (pair layout, assembly groups,
    fused stage, chunks, natural rows) on the M4, M7 and M33, the Helium one (groups of four rows,
    tail-predicated steps) on the M55, the portable one on the M0+."""
    _require_arm_tools()
    rng = np.random.default_rng(11)
    for k, (graph, optimize) in enumerate(_fc_graphs(rng)):
        out = rg.emit(graph, tmp_path / f"pkg{k}", board=board, optimize=optimize)
        x = _fc_inputs(rng, graph)
        got = qemu.run_emulated(out, tmp_path / f"build{k}", x, load_board(board))
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"


def test_fully_connected_layers_on_the_host(tmp_path: Path, gcc: str) -> None:
    """The same FC graphs run the portable kernel on the host (int8 weights and bias under
    !TQ_USE_DSP) and match, built with AddressSanitizer and UBSan (the harness exits on any error)."""
    rng = np.random.default_rng(11)
    rows8p = (0, 0)
    for k, (graph, optimize) in enumerate(_fc_graphs(rng)):
        out = rg.emit(graph, tmp_path / f"pkg{k}", board="cortex-m4", optimize=optimize)
        text = (out / "net.c").read_text()
        rows8p = (rows8p[0] + text.count("&tq_fully_connected_s8_rows8p,"),
                  rows8p[1] + text.count("&tq_fully_connected_s8_rows8q,"))
        x = _fc_inputs(rng, graph)
        got = run_harness(out, tmp_path / f"build{k}", x, sanitize=True)
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"
    assert rows8p == (6, 10)  # the layers that take rows8p, rows8q (the M4 packages, QEMU test above)


def _fc_weights_dsp_by_definition(w: np.ndarray) -> np.ndarray:
    """runtime_c/tq_fully_connected_s8_dsp.c's layout, element by element from its comment: (in a multiple of 4)
    blocks of 4 pairs, then blocks of 1 pair for the rows left but an odd last one, then natural rows."""
    out_f, n = w.shape
    blocks = [4] * (out_f // 8) if n % 4 == 0 else []
    if n % 4 == 0:
        blocks += [1] * (out_f % 8 // 2)
    res, r = [], 0
    for pairs in blocks:
        for s in range(n // 4):
            for p in range(pairs):
                for h in range(2):
                    for lane in range(2):
                        i = 4 * s + 2 * lane + h
                        v = int(w[r + 2 * p, i]) + 256 * int(w[r + 2 * p + 1, i])
                        res += [v & 0xFF, (v >> 8) & 0xFF]
        r += 2 * pairs
    res += [int(v) & 0xFF for v in w[r:].reshape(-1)]
    return np.array(res, np.uint8).view(np.int8)


@pytest.mark.parametrize("shape", [(16, 8), (19, 12), (8, 4), (7, 16), (24, 6), (9, 1), (1, 1), (14, 8), (2, 4),
                                   (5, 12), (3, 6)])
def test_fc_dsp_layout_matches_its_definition(shape: tuple[int, int]) -> None:
    w = np.random.default_rng(sum(shape)).integers(-127, 128, shape).astype(np.int8)
    w[:2, 0] = -127  # a negative low byte under a negative high byte
    got = layouts.fc_weights_dsp(w)
    assert got.dtype == np.int8 and got.size == w.size
    assert np.array_equal(got, _fc_weights_dsp_by_definition(w))


def _dsp_h_define(name: str) -> int:
    """The number runtime_c/tq_dsp.h #defines as ``name`` (the assembly's constants the headers are computed from)."""
    text = (resource_dir("runtime_c") / "tq_dsp.h").read_text()
    match = re.search(rf"^#define {name} (\d+)$", text, re.MULTILINE)
    assert match, name
    return int(match[1])


def _rows8_header_by_definition(n: int, out_f: int) -> list[int]:
    """tq_dsp.h's TQ_FC_ROWS8_SETUP header, from its comment: entry offset, 32 * skip, groups."""
    skip = -(n // 4) % _dsp_h_define("TQ_FC_ROWS8_UNROLL")
    return [skip * _dsp_h_define("TQ_FC_STEP_BYTES"), 32 * skip, out_f // 8]


def _ez_by_definition(rq: np.ndarray, c: int, zp: int) -> list[int]:
    """Channel c's output-stage words of the short paths' records: q and (e - 1) + 256 * (2 * zp + 1)."""
    return [int(rq[2 * c]), int(rq[2 * c + 1]) + 256 * (2 * zp + 1)]


def _pairs_entry_by_definition(n: int) -> list[int]:
    """tq_dsp.h's pairs loop entry, from its comment: skip * TQ_FC_PAIRS_BLOCK_BYTES, 16 * skip."""
    skip = -(n // 8) % _dsp_h_define("TQ_FC_PAIRS_UNROLL")
    return [skip * _dsp_h_define("TQ_FC_PAIRS_BLOCK_BYTES"), 16 * skip]


@pytest.mark.parametrize("shape", [(8, 8), (16, 4), (24, 12), (8, 512), (16, 36)])
def test_fc_rows8_records_match_their_definition(shape: tuple[int, int]) -> None:
    """layouts.fc_rows8_records, word by word from tq_fully_connected_s8_rows8.c's comment: the header (the loop's
    entry for every skip 0 .. 7 among the shapes, the groups), then per group of 8 rows the rows a's folded biases, the
    pair-layout weight words, the rows b's doubled biases, then (q, ez) of the 8 rows, zero points at the ends."""
    out_f, n = shape
    rng = np.random.default_rng(sum(shape))
    w = rng.integers(-127, 128, shape).astype(np.int8)
    bias = rng.integers(-(2**30), 2**30, out_f).astype(np.int32)
    rq = _short_path_requant(rng, out_f)
    for zp in (-128, 127):
        got = layouts.fc_rows8_records(w, bias, rq, zp)
        want = _rows8_header_by_definition(n, out_f) + _rows8_groups_by_definition(w, bias, rq, zp)
        assert got.dtype == np.int32 and got.tolist() == want
    assert _dsp_h_define("TQ_FC_ROWS8_UNROLL") == layouts.FC_ROWS8_UNROLL


def _short_path_requant(rng: np.random.Generator, out_f: int) -> np.ndarray:
    """requant_dsp pairs of a requant_fused layer: (q, e - 1) with e - 1 in [0, 30], the ends included."""
    rq = np.stack([rng.integers(0, 2**31, out_f), rng.integers(0, 31, out_f)], axis=1).astype(np.int32)
    rq[0, 1], rq[-1, 1] = 0, 30
    return rq.reshape(-1)


def _rows8_groups_by_definition(w: np.ndarray, bias: np.ndarray, rq: np.ndarray, zp: int) -> list[int]:
    """tq_fully_connected_s8_rows8.c's group records, word by word from its comment."""
    out_f, n = w.shape
    words = _fc_weights_dsp_by_definition(w).view("<i4")
    want: list[int] = []
    for g in range(out_f // 8):
        want += [int(bias[8 * g + 2 * p]) for p in range(4)]
        want += words[g * 2 * n:(g + 1) * 2 * n].tolist()
        want += [2 * int(bias[8 * g + 2 * p + 1]) for p in range(4)]
        want += [v for c in range(8 * g, 8 * g + 8) for v in _ez_by_definition(rq, c, zp)]
    return want


def _pair_records_by_definition(w: np.ndarray, bias: np.ndarray, rq: np.ndarray, zp: int) -> list[int]:
    """tq_fully_connected_s8_pairs.c's pair records, word by word from its comment."""
    want: list[int] = []
    for t in range(w.shape[0] // 2):
        want += [int(bias[2 * t]), 2 * int(bias[2 * t + 1])]
        want += _fc_weights_dsp_by_definition(w[2 * t:2 * t + 2]).view("<i4").tolist()  # one block of one pair
        want += [*_ez_by_definition(rq, 2 * t, zp), *_ez_by_definition(rq, 2 * t + 1, zp)]
    return want


@pytest.mark.parametrize("shape", [(10, 8), (12, 64), (22, 24), (14, 512), (10, 16)])
def test_fc_rows8p_records_match_their_definition(shape: tuple[int, int]) -> None:
    """layouts.fc_rows8p_records, from tq_fully_connected_s8_rows8p.c's comment: the rows8 header and the pairs loop's
    entry and count, then the rows8 group records of the groups of 8 rows and the pair records of the rows after
    them; a doubled bias outside int32 or a shift the path cannot take is refused."""
    out_f, n = shape
    rng = np.random.default_rng(sum(shape))
    w = rng.integers(-127, 128, shape).astype(np.int8)
    w[8:10, 0] = -127  # a negative low byte under a negative high byte in the first pair after the groups
    bias = rng.integers(-(2**30), 2**30, out_f).astype(np.int32)
    rq = _short_path_requant(rng, out_f)
    rows = out_f // 8 * 8
    want = (_rows8_header_by_definition(n, out_f) + _pairs_entry_by_definition(n) + [(out_f - rows) // 2]
            + _rows8_groups_by_definition(w[:rows], bias[:rows], rq[:2 * rows], 5)
            + _pair_records_by_definition(w[rows:], bias[rows:], rq[2 * rows:], 5))
    got = layouts.fc_rows8p_records(w, bias, rq, 5)
    assert got.dtype == np.int32 and got.tolist() == want
    assert layouts.fc_path_records("tq_fully_connected_s8_rows8p", w, bias, rq, 5).tolist() == want
    big = bias.copy()
    big[1] = 2**30
    with pytest.raises(ValueError, match="doubled bias"):
        layouts.fc_rows8p_records(w, big, rq, 5)
    bad = rq.copy()
    bad[1] = 31
    with pytest.raises(ValueError, match="right shifts"):
        layouts.fc_rows8p_records(w, bias, bad, 5)


def test_fc_short_paths_are_chosen_from_the_struct_fields() -> None:
    """layouts.fc_dsp_path: with requant_fused 1, the full int8 range and at most 512 inputs, the pairs path for 2, 4
    or 6 outputs and inputs a multiple of 8, and with out_features a multiple of 8 the k8 path for 8 inputs and the
    rows8 path for other multiples of 4; the general path as soon as one condition fails; None for 4-bit layers."""
    rng = np.random.default_rng(4)
    x = ir.Tensor("x", (1, 1, 8), ir.QParams(0.1, 0))
    op = _fc(rng, "y", x, 8, True, full=True)[0]
    general = layouts.FC_GENERAL_PATH
    ok = {"in_features": 16, "out_features": 8, "requant_fused": 1, "act_min": -128, "act_max": 127}
    assert layouts.fc_dsp_path(op, ok) == "tq_fully_connected_s8_rows8"
    assert layouts.fc_dsp_path(op, {**ok, "in_features": 4}) == "tq_fully_connected_s8_rows8"
    assert layouts.fc_dsp_path(op, {**ok, "in_features": 512, "out_features": 128}) == "tq_fully_connected_s8_rows8"
    assert layouts.fc_dsp_path(op, {**ok, "in_features": 8}) == "tq_fully_connected_s8_k8"
    for out_f in (2, 4, 6):
        assert layouts.fc_dsp_path(op, {**ok, "out_features": out_f}) == "tq_fully_connected_s8_pairs"
        wide = {**ok, "out_features": out_f, "in_features": 512}
        assert layouts.fc_dsp_path(op, wide) == "tq_fully_connected_s8_pairs"
        assert layouts.fc_dsp_path(op, {**ok, "out_features": out_f, "in_features": 12}) == general
    for change in ({"in_features": 516}, {"in_features": 6}, {"out_features": 9}, {"out_features": 1},
                   {"requant_fused": 0}, {"act_min": -127}, {"act_max": 126}):
        assert layouts.fc_dsp_path(op, {**ok, **change}) == general, change
        assert layouts.fc_dsp_path(op, {**ok, **change, "in_features": 8}) == general or "in_features" in change
        assert layouts.fc_dsp_path(op, {**ok, "out_features": 2, **change}) == general or "out_features" in change
    assert layouts.fc_dsp_path(dataclasses.replace(op, weight_bits=4), ok) is None
    assert set(layouts.FC_DSP_PATH_FILES) == {general, "tq_fully_connected_s8_rows8", "tq_fully_connected_s8_k8",
                                              "tq_fully_connected_s8_pairs", "tq_fully_connected_s8_rows8p",
                                              "tq_fully_connected_s8_rows8q"}


def test_fc_rows8p_path_is_chosen_from_the_struct_fields() -> None:
    """layouts.fc_dsp_path's rows8p and rows8q paths: out_features 8G + 2 (rows8p) or 8G + 4, 8G + 6 (rows8q), G >= 1,
    and in_features a multiple of 8 up to 512, requant_fused 1 and the full int8 range, in every build (their files
    replace the general path's, which such a layer no longer links); the general path for odd counts, inputs not a
    multiple of 8 or above 512, and every other failed condition."""
    rng = np.random.default_rng(5)
    x = ir.Tensor("x", (1, 1, 64), ir.QParams(0.1, 0))
    op = _fc(rng, "y", x, 10, True, full=True)[0]
    ok = {"in_features": 64, "out_features": 10, "requant_fused": 1, "act_min": -128, "act_max": 127}
    path = "tq_fully_connected_s8_rows8p"
    for out_f in (10, 12, 14, 18, 22, 134):
        for in_f in (8, 24, 64, 256, 512):
            f = {**ok, "out_features": out_f, "in_features": in_f}
            assert layouts.fc_dsp_path(op, f) == (path if out_f % 8 == 2 else "tq_fully_connected_s8_rows8q"), f
    for change in ({"in_features": 520}, {"in_features": 12}, {"in_features": 60}, {"out_features": 9},
                   {"out_features": 11}, {"out_features": 3}, {"requant_fused": 0}, {"act_min": -127},
                   {"act_max": 126}):
        for out_f in (10, 12):
            f = {**ok, "out_features": out_f, **change}
            assert layouts.fc_dsp_path(op, f) == layouts.FC_GENERAL_PATH, f
    for out_f, want in ((2, "tq_fully_connected_s8_pairs"), (16, "tq_fully_connected_s8_rows8")):
        assert layouts.fc_dsp_path(op, {**ok, "out_features": out_f}) == want
    assert layouts.fc_dsp_path(dataclasses.replace(op, weight_bits=4), ok) is None


@pytest.mark.parametrize("out_f", [8, 16, 128])
def test_fc_k8_records_match_their_definition(out_f: int) -> None:
    """layouts.fc_k8_records, word by word from tq_fully_connected_s8_k8.c's comment: per group of 4 rows the
    doubled biases of rows a, the pair-layout weight words (2 steps of 2 pairs), the doubled biases of rows b, then
    (q, e - 1) of the 4 rows; a doubled bias outside int32 is refused."""
    rng = np.random.default_rng(out_f)
    w = rng.integers(-127, 128, (out_f, 8)).astype(np.int8)
    w[:2, 0] = -127
    bias = rng.integers(-(2**30), 2**30, out_f).astype(np.int32)
    rq = rng.integers(-(2**31), 2**31, 2 * out_f).astype(np.int32)
    want: list[int] = []
    for g in range(out_f // 4):
        want += [2 * int(bias[4 * g + 2 * p]) for p in range(2)]
        for s in range(2):
            for p in range(2):
                for h in range(2):
                    rows = w[4 * g + 2 * p:4 * g + 2 * p + 2].astype(int)
                    lanes = [rows[0, i] + 256 * rows[1, i] for i in (4 * s + h, 4 * s + 2 + h)]
                    want.append(int(np.array(lanes, "<i2").view("<i4")[0]))
        want += [2 * int(bias[4 * g + 2 * p + 1]) for p in range(2)]
        want += [int(v) for c in range(4 * g, 4 * g + 4) for v in rq[2 * c:2 * c + 2]]
    got = layouts.fc_k8_records(w, bias, rq)
    assert got.dtype == np.int32 and got.tolist() == want
    with pytest.raises(ValueError, match="int32"):
        layouts.fc_k8_records(w, np.full(out_f, 2**30, np.int32), rq)


def test_fc_short_paths_ship_only_with_their_layers(tmp_path: Path) -> None:
    """A package with layers for the short FC paths names them under TQ_USE_DSP (records instead of the three DSP
    arrays) and ships their files, only those (not the general path's); ResNet-8's 64 -> 10 shape takes the rows8p
    path in a default build too; a layer no short path takes names the general path, whose file then ships alone; a
    portable board's package names no path."""
    rng = np.random.default_rng(21)
    x = ir.Tensor("x", (1, 1, 8), ir.QParams(0.05, -128))
    graph = rg.chain(x, [_fc(rng, "a", x, 16, True, full=True), _fc(rng, "b", x, 2, True, full=True)])
    out = rg.emit(graph, tmp_path / "short", board="cortex-m4")
    text = (out / "net.c").read_text()
    assert "&tq_fully_connected_s8_k8," in text and "&tq_fully_connected_s8_pairs," in text
    weights = (out / "net_weights.h").read_text()
    assert "_records[" in weights and "_weights_dsp[" not in weights
    assert (out / "tq_fully_connected_s8_k8.c").is_file() and (out / "tq_fully_connected_s8_pairs.c").is_file()
    assert not (out / "tq_fully_connected_s8_rows8.c").exists()
    assert not (out / "tq_fully_connected_s8_general.c").exists()
    x64 = ir.Tensor("x", (1, 1, 64), ir.QParams(0.05, -128))
    resnet = rg.emit(rg.chain(x64, [_fc(rng, "c", x64, 10, True, full=True)]), tmp_path / "resnet", board="cortex-m4")
    assert "&tq_fully_connected_s8_rows8p," in (resnet / "net.c").read_text()
    assert sorted(p.name for p in resnet.glob("tq_fully_connected_s8_*.c")) == [
        "tq_fully_connected_s8_dsp.c", "tq_fully_connected_s8_mve.c", "tq_fully_connected_s8_rows8p.c",
        "tq_fully_connected_s8_v6m.c"]
    plain = rg.emit(rg.chain(x64, [_fc(rng, "d", x64, 10, False)]), tmp_path / "plain", board="cortex-m4")
    assert "&tq_fully_connected_s8_general," in (plain / "net.c").read_text()
    assert "_weights_dsp[" in (plain / "net_weights.h").read_text()
    assert sorted(p.name for p in plain.glob("tq_fully_connected_s8_[gkpr]*.c")) == ["tq_fully_connected_s8_general.c"]
    host = rg.emit(graph, tmp_path / "host")
    assert "dsp_path" not in (host / "net.c").read_text() and not any(host.glob("tq_fully_connected_s8_[gkpr]*.c"))


@pytest.mark.parametrize("shape", [(12, 64), (14, 8), (20, 16), (22, 24), (14, 512)])
def test_fc_rows8q_records_match_their_definition(shape: tuple[int, int]) -> None:
    """layouts.fc_rows8q_records, word by word from tq_fully_connected_s8_rows8q.c's comment: the rows8 header, the
    quad loop's entry (skips 6, 4, 2 and 0 among the shapes: in_features is a multiple of 8), the pairs loop's entry and
    the pairs after the quad; the rows8 group records, the quad's record, then the last pair's record (8G + 6 rows)."""
    out_f, n = shape
    rng = np.random.default_rng(sum(shape))
    w = rng.integers(-127, 128, shape).astype(np.int8)
    w[8:10, 0] = -127  # a negative low byte under a negative high byte in the quad
    bias = rng.integers(-(2**30), 2**30, out_f).astype(np.int32)
    rq = _short_path_requant(rng, out_f)
    rows = out_f // 8 * 8
    skip = -(n // 4) % _dsp_h_define("TQ_FC_QUAD_UNROLL")
    quad_w = [int(w[rows + 2 * p, i]) + 256 * int(w[rows + 2 * p + 1, i])
              for s in range(n // 4) for p in range(2) for h in range(2) for lane in range(2)
              for i in [4 * s + 2 * lane + h]]
    quad_words = np.array(quad_w, np.int16).view("<i4").tolist()
    want = (_rows8_header_by_definition(n, out_f) + [skip * _dsp_h_define("TQ_FC_QUAD_STEP_BYTES"), 16 * skip]
            + _pairs_entry_by_definition(n) + [(out_f - rows - 4) // 2]
            + _rows8_groups_by_definition(w[:rows], bias[:rows], rq[:2 * rows], -3)
            + [int(bias[rows]), int(bias[rows + 2]), *quad_words, 2 * int(bias[rows + 1]), 2 * int(bias[rows + 3])]
            + [v for c in range(rows, rows + 4) for v in _ez_by_definition(rq, c, -3)]
            + _pair_records_by_definition(w[rows + 4:], bias[rows + 4:], rq[2 * rows + 8:], -3))
    got = layouts.fc_rows8q_records(w, bias, rq, -3)
    assert got.dtype == np.int32 and got.tolist() == want
    assert layouts.fc_path_records("tq_fully_connected_s8_rows8q", w, bias, rq, -3).tolist() == want
    assert _dsp_h_define("TQ_FC_QUAD_UNROLL") == layouts.FC_QUAD_UNROLL


@pytest.mark.parametrize("shape", [(2, 8), (4, 16), (6, 256), (2, 24)])
def test_fc_pairs_records_match_their_definition(shape: tuple[int, int]) -> None:
    """layouts.fc_pairs_records, word by word from tq_fully_connected_s8_pairs.c's comment: the header (the loop's
    entry, the pairs), then per row pair the folded bias of row a and the doubled one of row
    b, its one-pair weight words, then (q, ez) of the two rows, zero points at the ends."""
    out_f, n = shape
    rng = np.random.default_rng(n)
    w = rng.integers(-127, 128, shape).astype(np.int8)
    bias = rng.integers(-(2**30), 2**30, out_f).astype(np.int32)
    rq = _short_path_requant(rng, out_f)
    for zp in (-128, 127):
        got = layouts.fc_pairs_records(w, bias, rq, zp)
        want = [*_pairs_entry_by_definition(n), out_f // 2, *_pair_records_by_definition(w, bias, rq, zp)]
        assert got.dtype == np.int32 and got.tolist() == want


def test_fc_dsp_bias_folds_the_input_zero_point() -> None:
    rng = np.random.default_rng(3)
    w = rng.integers(-127, 128, (5, 33)).astype(np.int8)
    bias = rng.integers(-(2**20), 2**20, 5).astype(np.int32)
    for zp in (-128, 0, 127):
        x = rng.integers(-128, 128, 33)
        want = bias.astype(np.int64) + (w.astype(np.int64) * (x - zp)).sum(axis=1)
        got = layouts.fc_bias_dsp(w, bias, zp).astype(np.int64) + (w.astype(np.int64) * x).sum(axis=1)
        assert np.array_equal(got, want)
    with pytest.raises(ValueError, match="int32"):
        layouts.fc_bias_dsp(np.full((1, 2**16), 127, np.int8), np.array([2**31 - 1], np.int32), -128)


def test_fc_requant_pairs_match_their_definition() -> None:
    """layouts.fc_requant_dsp: (multiplier[c], -shift[c] - 1) for each channel, int32, the shifts' ends included."""
    q = np.array([0, 1, 2**30, 2**31 - 1, 12345], np.int32)
    shift = np.array([-31, -1, 0, 30, -7], np.int32)
    got = layouts.fc_requant_dsp(q, shift)
    assert got.dtype == np.int32
    assert got.tolist() == [v for c in range(5) for v in (int(q[c]), -int(shift[c]) - 1)]


def test_fc_dsp_kernel_without_its_layout_stays_exact(tmp_path: Path) -> None:
    """A package whose FC params carry only int8 weights and bias on the M4 (weights_dsp NULL: the
    generated files edited to take their !TQ_USE_DSP arrays everywhere: no dsp_path) runs the DSP kernel's
    portable fallback, and matches."""
    _require_arm_tools()
    rng = np.random.default_rng(12)
    graph = _fc_graphs(rng)[3][0]
    out = rg.emit(graph, tmp_path / "pkg", board="cortex-m4")
    for name in ("net.c", "net_weights.h"):
        text = (out / name).read_text()
        assert "#if TQ_USE_DSP" in text
        (out / name).write_text(text.replace("#if !TQ_USE_DSP", "#if 1").replace("#if TQ_USE_DSP", "#if 0"))
    x = _fc_inputs(rng, graph)
    got = qemu.run_emulated(out, tmp_path / "build", x, load_board("cortex-m4"))
    assert rg.emulated_mismatch(graph, got, x) is None, rg.emulated_mismatch(graph, got, x)


def test_v6m_fc_without_its_layout_stays_exact(tmp_path: Path) -> None:
    """Packages planned for the host (no Armv6-M arrays: weights_v6m NULL) run on a Cortex-M0+: the Armv6-M
    kernel's natural-row loop, four rows and then one at a time, matches."""
    _require_arm_tools()
    rng = np.random.default_rng(13)
    for k, (graph, _) in enumerate(_fc_graphs(rng)[3:6]):
        out = rg.emit(graph, tmp_path / f"pkg{k}", planner=GreedyPlanner(kernels="portable"))  # as build plans the host
        assert "weights_v6m" not in (out / "net_weights.h").read_text()
        x = _fc_inputs(rng, graph)
        got = qemu.run_emulated(out, tmp_path / f"build{k}", x, load_board("cortex-m0plus"))
        assert rg.emulated_mismatch(graph, got, x) is None, rg.emulated_mismatch(graph, got, x)


def _add_table_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Adds for the table path (layouts.add_table): the exact input (the larger scale) first and second (the
    generator swaps), a tensor added to itself (both exact), input zero points at the int8 ends, sizes that
    are not multiples of 4 (the scalar tail) and a 1x1 tensor; the output scales of rg.add include tiny ones
    (output shift > 0: no table, the other paths)."""
    graphs = []
    for shape, zp in (((5, 7, 3), -128), ((1, 1, 7), 127), ((3, 2, 1), 0), ((1, 1, 1), 127), ((6, 6, 8), -128)):
        x = ir.Tensor("x", shape, ir.QParams(float(np.float32(10 ** rng.uniform(-3, 0))), zp))
        c = rg.conv(rng, "c", x, shape[2], (1, 1), (1, 1), (0, 0, 0, 0))
        steps = [c, rg.add(rng, "sum", x, c[1])]
        steps += [rg.add(rng, "rev", c[1], steps[-1][1]), rg.add(rng, "twice", x, x), rg.add(rng, "mix", x, c[1])]
        graphs.append(rg.chain(x, steps))
    return graphs


def _table_adds(out: Path) -> int:
    return (out / "net_weights.h").read_text().count("_table[256]")


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m7", "cortex-m33", "cortex-m0plus"])
def test_add_table_path_is_bit_exact(board: str, tmp_path: Path) -> None:
    """Speed packages (every eligible add gets its table) equal the simulator under QEMU on the DSP and
    Armv6-M kernels, layer by layer, with the planner's in-place placements (adds over an input)."""
    _require_arm_tools()
    rng = np.random.default_rng(31)
    target, tables = load_board(board), 0
    for k, graph in enumerate(_add_table_graphs(np.random.default_rng(30))):
        out = tmp_path / f"pkg{k}"
        out.mkdir()
        emit.emit_package(graph, GreedyPlanner(kernels=target.kernels).plan(graph), target, "net", out, b"test",
                          "tinyqat test", "speed")
        tables += _table_adds(out)
        x = rg.random_input(rng, graph, 3)
        got = qemu.run_emulated(out, tmp_path / f"build{k}", x, target)
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"
    assert tables >= 12  # most adds run the table path (tiny output scales do not)


def test_add_table_package_on_the_host(tmp_path: Path, gcc: str) -> None:
    """The host (portable kernels, no table) runs a DSP speed package with swapped add inputs exactly."""
    for k, graph in enumerate(_add_table_graphs(np.random.default_rng(30))):
        out = _emit(graph, tmp_path / f"pkg{k}", "cortex-m4", "speed")
        lib = load_model(compile_shared(out, tmp_path / f"build{k}"), "net")
        assert rg.first_mismatch(lib, graph, rg.random_input(np.random.default_rng(k), graph, 2)) is None


def test_add_table_matches_its_definition() -> None:
    """layouts.add_table: table[k] = 2 * mbqm(((int8) k - zp2) * 2^20, q2, e2) - zp1 * 2^20, the exact input
    first (swapped when it was second), shipped by the default build only from ADD_TABLE_MIN_SIZE elements,
    and only on DSP / Armv6-M boards with an output right shift."""
    rng = np.random.default_rng(32)
    a = ir.Tensor("a", (32, 32, 1), ir.QParams(0.02, -128))
    b = ir.Tensor("b", (32, 32, 1), ir.QParams(0.05, 127))
    op, y = rg.add(rng, "y", a, b)  # b has the larger scale: input 2 is the exact one
    op = dataclasses.replace(op, output_multiplier=1 << 30, output_shift=-18)
    graph = ir.Graph((a, b, y), (op,), "a", "y", ir.torch_shape(a.shape), ir.torch_shape(y.shape))
    swapped, table = layouts.add_table(op, graph, "dsp", "size")
    assert swapped.inputs == ("b", "a") and (swapped.multiplier1, swapped.shift1) == (1 << 30, 0)
    assert (swapped.multiplier2, swapped.shift2) == (op.multiplier1, op.shift1)
    x = np.arange(256)
    x = np.where(x >= 128, x - 256, x)
    want = [2 * int(fixedpoint.mbqm(np.int64((v + 128) * 2**20), op.multiplier1, op.shift1)) - 127 * 2**20
            for v in x]  # input 2 after the swap is a (zero point -128), input 1 is b (zero point 127)
    assert table.dtype == np.int32 and table.tolist() == want
    assert layouts.add_table(op, graph, "portable", "speed") is None
    assert layouts.add_table(dataclasses.replace(op, output_shift=0), graph, "v6m", "speed") is None
    small_y = dataclasses.replace(y, shape=(1, 1, layouts.ADD_TABLE_MIN_SIZE - 1))
    small = ir.Graph((dataclasses.replace(a, shape=small_y.shape), dataclasses.replace(b, shape=small_y.shape),
                      small_y), (op,), "a", "y", ir.torch_shape(small_y.shape), ir.torch_shape(small_y.shape))
    assert layouts.add_table(op, small, "dsp", "size") is None
    assert layouts.add_table(op, small, "v6m", "speed") is not None


def _pool_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Average and max pools (the four-channel blocks and the channels left, tq_*_pool2d_s8.c): KWS's global
    average pool (25 x 5 x 64), windows clipped on every side with and without count_include_pad, ceil mode,
    channel counts 7, 3 and 12, pools chained on each other's outputs (in place where the planner puts them),
    zero points and inputs at the int8 ends (rg.random_input)."""
    x = ir.Tensor("x", (25, 5, 64), ir.QParams(0.05, -128))
    a = rg.avg_pool("g", x, (25, 5), (25, 5), (0, 0), False, True)
    b = rg.avg_pool("a3", x, (3, 3), (1, 1), (1, 1), False, True)
    graphs = [rg.chain(x, [a, b, rg.max_pool("m2", b[1], (2, 2), (2, 2), (0, 0), True)])]
    x = ir.Tensor("x", (9, 7, 7), ir.QParams(0.1, 127))
    a = rg.avg_pool("a", x, (3, 3), (2, 2), (1, 1), True, False)
    b = rg.max_pool("m", a[1], (3, 3), (2, 2), (1, 1), True)
    graphs.append(rg.chain(x, [a, b, rg.avg_pool("c", b[1], (2, 3), (1, 2), (1, 1), False, True)]))
    x = ir.Tensor("x", (4, 6, 12), rg.random_qparams(rng))
    a = rg.max_pool("m", x, (2, 2), (2, 2), (0, 0), False)
    graphs.append(rg.chain(x, [a, rg.avg_pool("g", a[1], (2, 3), (2, 3), (0, 0), False, True),
                               rg.avg_pool("k", x, (3, 3), (1, 1), (1, 1), False, False)]))
    x = ir.Tensor("x", (5, 5, 3), rg.random_qparams(rng))
    graphs.append(rg.chain(x, [rg.max_pool("m", x, (3, 3), (1, 1), (1, 1), False),
                               rg.avg_pool("a", x, (5, 5), (5, 5), (0, 0), False, True)]))
    return graphs


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m7", "cortex-m33", "cortex-m0plus"])
def test_pool_layers_are_bit_exact(board: str, tmp_path: Path) -> None:
    """Every pool layer of _pool_graphs equals the simulator under QEMU."""
    _require_arm_tools()
    rng = np.random.default_rng(41)
    for k, graph in enumerate(_pool_graphs(np.random.default_rng(40))):
        out = rg.emit(graph, tmp_path / f"pkg{k}", board=board)
        x = rg.random_input(rng, graph, 3)
        got = qemu.run_emulated(out, tmp_path / f"build{k}", x, load_board(board))
        assert rg.emulated_mismatch(graph, got, x) is None, f"graph {k}: {rg.emulated_mismatch(graph, got, x)}"


def test_pool_layers_on_the_host(tmp_path: Path) -> None:
    """The same pools on the host, compiled with the strict flags."""
    for k, graph in enumerate(_pool_graphs(np.random.default_rng(40))):
        lib = rg.build(graph, tmp_path, f"net{k}")
        assert rg.first_mismatch(lib, graph, rg.random_input(np.random.default_rng(k), graph, 3)) is None


def test_add_general_path_ships_only_with_adds_without_a_table(tmp_path: Path) -> None:
    """layouts.add_dsp_path: an add without a table (the default build's small adds, subtraction) names
    tq_add_s8_general and its package ships tq_add_s8_general.c; a package whose adds all have tables (speed
    build, eligible adds) neither names nor ships it."""
    graph = _add_table_graphs(np.random.default_rng(30))[4]  # 6x6x8: every add below ADD_TABLE_MIN_SIZE elements
    add = next(op for op in graph.ops if isinstance(op, ir.Add))
    assert layouts.add_dsp_path(add, False) == "tq_add_s8_general" and layouts.add_dsp_path(add, True) is None
    size = _emit(graph, tmp_path / "size", "cortex-m4", "size")
    assert "&tq_add_s8_general," in (size / "net.c").read_text() and (size / "tq_add_s8_general.c").is_file()
    x = ir.Tensor("x", (32, 32, 4), ir.QParams(0.02, -128))
    rng = np.random.default_rng(33)
    c = rg.conv(rng, "c", x, 4, (1, 1), (1, 1), (0, 0, 0, 0))
    big = rg.chain(x, [c, rg.add(rng, "sum", x, c[1])])
    out = _emit(big, tmp_path / "big", "cortex-m4", "size")
    assert _table_adds(out) == 1  # 4,096 elements, an output right shift: the table path
    assert "&tq_add_s8_general," not in (out / "net.c").read_text() and not (out / "tq_add_s8_general.c").exists()
