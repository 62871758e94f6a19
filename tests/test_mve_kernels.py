"""Helium (MVE) kernels (``runtime_c/tq_*_s8_mve.c``): compiled in exactly where ``__ARM_FEATURE_MVE``
is defined, and bit-exact with the simulator under QEMU on the Cortex-M55 (``mps3-an547``).

The conv graphs cover the conv kernel's paths: pointwise layers read in place (odd pixel and channel
counts; K = 16 and 32 with the columns in registers), windows copied into scratch (3-channel first
layers, strides, asymmetric padding, windows wholly in the padding, K = 576 at the column bound) and
the portable fallback above it (K = 585); windows wholly inside the input read in place (rows of
kernel_w * in_c values a multiple of 16: in_c 16, 32, 64), pixel pairs astride the border;
blocks of 64 channels and their tails (72, 67 and 65 channels; a 1-channel 10x4 first layer, K = 8
pointwise); layers with and without requant_fused;
zero points at the int8 ends, weights at -127 / 127, inputs at -128 / 127 besides random ones.  The
depthwise graphs: 8-channel steps and 4-channel tails (3, 8, 13, 20 channels), strides 1 and 2,
windows clipped on every side and wholly in the padding, 5x5 and 1x3 windows, multiplier 2 (the
portable loop); and 3x3 layers with requant_fused 2 (the assembly path: 48, 64, 37 and 8 channels, whole and
partial groups of 16, windows clipped and wholly in the padding).  The add graphs: a residual network, x + x in
place, odd sizes, zero points -128 and 127; and adds on the exact-input fast path (exact1), that input first or
second, sizes 256, 105 and 13 (these two sets also as Helium packages compiled for the host: the portable
kernels on the IR arrays).  The pool graphs: 16-lane (max) and 4-lane (average) steps and their
predicated tails (1, 5, 16, 19, 33 channels), strides 1 and 2, padding, ceil-mode overhang,
count_include_pad on and off, zero points -128 and 127, global 8x8 and 17x16 averages (int16 and int32
sums).  The fully connected kernel's graphs are
tests/test_dsp_kernels.py's (``FC_BOARDS`` includes the M55).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import runtime_graphs as rg
from conftest import require_tool
from test_dsp_kernels import _add_graphs, _pool_graphs

from tinyqat import ir
from tinyqat.boards import load_board
from tinyqat.codegen import stats
from tinyqat.resources import resource_dir
from tinyqat.target import STRICT_CFLAGS
from tinyqat.toolchain import qemu
from tinyqat.toolchain.cffi_model import load_model
from tinyqat.toolchain.compiler import compile_shared, run_compiler

# kernels with a tq_<kind>_s8_mve.c companion
MVE_KINDS = ("add", "avg_pool2d", "conv2d", "depthwise_conv2d", "fully_connected", "max_pool2d")
BOARD = "cortex-m55"


# tq_requantize_s32x4_mve, its right-shift form tq_requantize_s32x4_right_mve (shifts in [-31, -1]) and its
# per-tensor form tq_requantize_s32x4_n_mve (one multiplier and shift for all lanes) against tq_requantize_s8
# lane by lane: random bits and int32 edges for the
# accumulator, multipliers from 0 to 2^31 - 1, every shift in [-31, 30], zero points and clamps at the
# int8 ends and random; exit status 1 on any mismatch.
REQUANT_CHECK = r"""
#include <stdint.h>
#include <stdlib.h>
#include <arm_mve.h>
#include "tq_requant.h"

static uint64_t state = 88172645463325252ull;
static uint32_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)state;
}

static const int32_t edges[] = {0, 1, -1, 2, -2, INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 1, 0x40000000,
                                -0x40000000, 0x3FFFFFFF, -0x40000001, 0xFFFF, -0x10000, 0x7FFF, -0x8000};
static const int32_t qs[] = {0, 1, 0x40000000, 0x7FFFFFFF, 0x7FFFFFFE, 0x40000001};

/* TQ_MBQM_RIGHT_MUL_X2_MVE_ASM and TQ_NARROW_ZP_S8_X4_MVE_ASM as the Helium depthwise issues them: out[4 i + k] from
 * accumulator k's lane i = acc[4 k + i] with its multiplier and 2^(31 + shift) (shifts in [-31, -1]), the full
 * int8 range */
static void tq_dw_requant16(const int32_t *acc, const int32_t *q, const int32_t *shift, int32_t zp, int8_t *out)
{
    int16_t zp16[8];
    int32_t m[16];
    int j;
    for (j = 0; j < 8; ++j) {
        zp16[j] = (int16_t)zp;
    }
    for (j = 0; j < 16; ++j) {
        m[j] = (int32_t)(1u << (31 + shift[j]));
    }
    __asm__ volatile("vldrw.32 q0, [%[acc]]\n\t"
                     "vldrw.32 q1, [%[acc], #16]\n\t"
                     "vldrw.32 q2, [%[acc], #32]\n\t"
                     "vldrw.32 q3, [%[acc], #48]\n\t"
                     "vldrw.32 q4, [%[q]]\n\t"
                     "vldrw.32 q5, [%[q], #16]\n\t"
                     TQ_MBQM_RIGHT_MUL_X2_MVE_ASM("q0", "q1", "q4", "q5", "q6", "q7", "q4", "vldrw.32 q6, [%[s]]\n\t",
                                                  "vldrw.32 q7, [%[s], #16]\n\t")
                     "vldrw.32 q4, [%[q], #32]\n\t"
                     "vldrw.32 q5, [%[q], #48]\n\t"
                     TQ_MBQM_RIGHT_MUL_X2_MVE_ASM("q2", "q3", "q4", "q5", "q6", "q7", "q4",
                                                  "vldrw.32 q6, [%[s], #32]\n\t", "vldrw.32 q7, [%[s], #48]\n\t")
                     "vldrh.16 q7, [%[zp]]\n\t"
                     TQ_NARROW_ZP_S8_X4_MVE_ASM("q0", "q1", "q2", "q3", "q4", "q5", "q7", "", "", "", "")
                     "vstrb.8 q4, [%[out]]\n\t"
                     :
                     : [acc] "r"(acc), [q] "r"(q), [s] "r"(m), [out] "r"(out), [zp] "r"(zp16)
                     : "memory", "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9", "d10", "d11", "d12", "d13",
                       "d14", "d15");
}

int main(void)
{
    long it, bad = 0;
    for (it = 0; it < 300000L; ++it) {
        int32_t acc[4], q[4], shift[4], got[4], lane;
        const int32_t zp = it % 5 == 0 ? -128 : (it % 5 == 1 ? 127 : (int32_t)(next() % 256) - 128);
        int32_t lo = (int32_t)(next() % 256) - 128, hi = (int32_t)(next() % 256) - 128;
        if (it % 3 == 0) {
            lo = -128;
            hi = 127;
        } else if (lo > hi) {
            const int32_t t = lo;
            lo = hi;
            hi = t;
        }
        for (lane = 0; lane < 4; ++lane) {
            const uint32_t r = next();
            acc[lane] = r % 4 == 0 ? edges[next() % (sizeof edges / sizeof edges[0])]
                        : (r % 4 == 1 ? (int32_t)next() >> (next() % 31) : (int32_t)next());
            q[lane] = next() % 3 == 0 ? qs[next() % (sizeof qs / sizeof qs[0])] : (int32_t)(next() >> 1);
            shift[lane] = (int32_t)((it * 4 + lane) % 62) - 31;
        }
        vst1q_s32(got, tq_requantize_s32x4_mve(vld1q_s32(acc), vld1q_s32(q), vld1q_s32(shift), zp, lo, hi));
        for (lane = 0; lane < 4; ++lane) {
            bad += got[lane] != tq_requantize_s8(acc[lane], q[lane], shift[lane], zp, lo, hi);
        }
        /* the right-shift form (shifts in [-31, -1] only): every shift in [-31, -1] in turn */
        {
            int32_t right[4];
            for (lane = 0; lane < 4; ++lane) {
                right[lane] = -1 - (int32_t)((it * 4 + lane) % 31);
            }
            vst1q_s32(got, tq_requantize_s32x4_right_mve(vld1q_s32(acc), vld1q_s32(q), vld1q_s32(right), zp, lo, hi));
            for (lane = 0; lane < 4; ++lane) {
                bad += got[lane] != tq_requantize_s8(acc[lane], q[lane], right[lane], zp, lo, hi);
            }
        }
        /* the right-shift forms (every shift in [-31, -1]): tq_mbqm_right_s32x4_n_mve and its multiply form against
         * tq_mbqm; the Helium depthwise's assembly output stage (tq_dw_requant16) against tq_requantize_s8 (full
         * range) */
        {
            const int32_t right = -1 - (int32_t)(it % 31), q0 = q[it % 4];
            int32_t got2[4], acc16[16], q16[16], s16[16];
            int8_t out16[16];
            vst1q_s32(got, tq_mbqm_right_s32x4_n_mve(vld1q_s32(acc), q0, right));
            vst1q_s32(got2, tq_mbqm_right_mul_s32x4_n_mve(vld1q_s32(acc), q0, right));
            for (lane = 0; lane < 4; ++lane) {
                bad += got[lane] != tq_mbqm(acc[lane], q0, right);
                bad += got2[lane] != tq_mbqm(acc[lane], q0, right);
            }
            for (lane = 0; lane < 16; ++lane) {
                acc16[lane] = next() % 4 == 0 ? edges[next() % (sizeof edges / sizeof edges[0])] : (int32_t)next();
                q16[lane] = next() % 3 == 0 ? qs[next() % (sizeof qs / sizeof qs[0])] : (int32_t)(next() >> 1);
                s16[lane] = -1 - (int32_t)(next() % 31);
            }
            tq_dw_requant16(acc16, q16, s16, zp, out16);
            for (lane = 0; lane < 16; ++lane) { /* accumulator k = lane / 4, its lane i = lane % 4: byte 4 i + k */
                bad += out16[lane % 4 * 4 + lane / 4]
                       != tq_requantize_s8(acc16[lane], q16[lane], s16[lane], zp, -128, 127);
            }
        }
        /* the per-tensor form: lane (it mod 4)'s multiplier and shift for every lane (every shift in turn) */
        vst1q_s32(got, tq_requantize_s32x4_n_mve(vld1q_s32(acc), q[it % 4], shift[it % 4], zp, lo, hi));
        for (lane = 0; lane < 4; ++lane) {
            bad += got[lane] != tq_requantize_s8(acc[lane], q[it % 4], shift[it % 4], zp, lo, hi);
        }
    }
    exit(bad != 0 ? 1 : 0);
}
"""


def _require_arm_tools() -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")


def _conv(rng: np.random.Generator, name: str, x: ir.Tensor, out_c: int, kernel: tuple[int, int],
          stride: tuple[int, int], padding: tuple[int, int, int, int], weights: str = "random",
          zp_out: int | None = None) -> tuple[ir.Conv2d, ir.Tensor]:
    """rg.conv with ``weights`` "random", "min" (all -127), "max" (all 127) or "ends" (channels of -127
    and 127 in turn), and the output zero point ``zp_out`` when given."""
    op, y = rg.conv(rng, name, x, out_c, kernel, stride, padding)
    if weights != "random":
        w = np.full(op.weights.shape, -127 if weights == "min" else 127, np.int8)
        if weights == "ends":
            w[1::2] = -w[1::2]
        op = ir.Conv2d(op.name, op.inputs[0], op.output, w, op.bias, op.multiplier, op.shift, op.stride,
                       op.padding, op.act_min, op.act_max)
    if zp_out is not None:
        y = ir.Tensor(y.name, y.shape, ir.QParams(y.qparams.scale, zp_out))
        lo, hi = rg.activation_range(rng, zp_out)
        op = ir.Conv2d(op.name, op.inputs[0], op.output, op.weights, op.bias, op.multiplier, op.shift, op.stride,
                       op.padding, lo, hi)
    return op, y


def _input(rng: np.random.Generator, shape: tuple[int, int, int], zp: int) -> ir.Tensor:
    return ir.Tensor("x", shape, ir.QParams(rg.random_qparams(rng).scale, zp))


def _conv_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    graphs = []
    # first layers (3 channels), strides, asymmetric padding, a 5x5 window, pointwise with odd counts
    x = _input(rng, (9, 9, 3), -128)
    steps = [_conv(rng, "a", x, 16, (3, 3), (2, 2), (1, 1, 1, 1), zp_out=127)]
    steps.append(_conv(rng, "b", steps[-1][1], 7, (5, 5), (1, 1), (2, 2, 2, 2), weights="ends", zp_out=-128))
    steps.append(_conv(rng, "c", steps[-1][1], 5, (1, 1), (1, 1), (0, 0, 0, 0)))
    steps.append(_conv(rng, "d", steps[-1][1], 9, (3, 2), (2, 1), (0, 2, 1, 0), weights="max"))
    graphs.append(rg.chain(x, steps))
    # windows wholly in the padding (pad = kernel), 1x1 padded (not the pointwise path)
    x = _input(rng, (4, 5, 6), 127)
    steps = [_conv(rng, "e", x, 3, (3, 3), (1, 1), (3, 3, 3, 3), weights="min")]
    steps.append(_conv(rng, "f", steps[-1][1], 4, (1, 1), (1, 1), (1, 1, 1, 1)))
    # pointwise with padding only at the bottom (then the right): the last rows' windows wholly in the padding
    steps.append(_conv(rng, "f2", steps[-1][1], 5, (1, 1), (1, 1), (0, 0, 2, 0)))
    steps.append(_conv(rng, "f3", steps[-1][1], 6, (1, 1), (1, 1), (0, 0, 0, 1), zp_out=127))
    graphs.append(rg.chain(x, steps))
    # K = 3 * 3 * 64 = 576, the column bound; then pointwise 64 -> 32 -> 16 -> 9 on 35 pixels
    x = _input(rng, (5, 7, 64), int(rng.integers(-128, 128)))
    steps = [_conv(rng, "g", x, 64, (3, 3), (1, 1), (1, 1, 1, 1), zp_out=-128)]
    steps.append(_conv(rng, "h", steps[-1][1], 32, (1, 1), (1, 1), (0, 0, 0, 0), weights="ends"))
    steps.append(_conv(rng, "h2", steps[-1][1], 16, (1, 1), (1, 1), (0, 0, 0, 0)))  # K = 32 read in place
    steps.append(_conv(rng, "h3", steps[-1][1], 9, (1, 1), (1, 1), (0, 0, 0, 0), zp_out=127))  # K = 16
    graphs.append(rg.chain(x, steps))
    # windows read in place (rows of 48 and 96 values, whole vectors): pixel pairs inside, astride the
    # border and across output rows, stride 2, no padding (every pixel inside), out_c mod 4 channels
    x = _input(rng, (9, 8, 16), 127)
    steps = [_conv(rng, "j", x, 16, (3, 3), (1, 1), (1, 1, 1, 1), weights="ends", zp_out=-128)]
    steps.append(_conv(rng, "k", steps[-1][1], 32, (3, 3), (2, 2), (0, 1, 1, 0)))
    steps.append(_conv(rng, "l", steps[-1][1], 7, (3, 3), (1, 1), (0, 0, 0, 0), weights="min", zp_out=127))
    graphs.append(rg.chain(x, steps))
    # blocks of 64 channels and their tails: a 1-channel first layer (10x4 window, stride 2, K = 40) to 72
    # channels, pointwise 72 -> 67 (K not a multiple of 16), 67 -> 8 -> 65 (K = 8: one block of 64 and one channel)
    x = _input(rng, (13, 9, 1), 127)
    steps = [_conv(rng, "m", x, 72, (10, 4), (2, 2), (4, 1, 5, 2), zp_out=-128)]
    steps.append(_conv(rng, "n", steps[-1][1], 67, (1, 1), (1, 1), (0, 0, 0, 0), weights="ends"))
    steps.append(_conv(rng, "o", steps[-1][1], 8, (1, 1), (1, 1), (0, 0, 0, 0)))
    steps.append(_conv(rng, "p", steps[-1][1], 65, (1, 1), (1, 1), (0, 0, 0, 0), zp_out=127))
    graphs.append(rg.chain(x, steps))
    # the step chain entered at other steps: K = 5 * 7 * 16 = 560 (35 vectors), stride 2 at the edges; pointwise
    # 18 -> 35 (K = 18, the small path), 35 -> 35 (K = 35: 3 vectors, the last pair by the tail-predicated step);
    # K = 3 * 3 * 35 = 315 (20 vectors)
    x = _input(rng, (7, 9, 16), -128)
    steps = [_conv(rng, "q", x, 18, (5, 7), (2, 2), (2, 3, 2, 3), zp_out=127)]
    steps.append(_conv(rng, "r", steps[-1][1], 35, (1, 1), (1, 1), (0, 0, 0, 0), weights="ends"))
    steps.append(_conv(rng, "s", steps[-1][1], 35, (1, 1), (1, 1), (0, 0, 0, 0), zp_out=-128))
    steps.append(_conv(rng, "t", steps[-1][1], 6, (3, 3), (1, 2), (1, 0, 0, 1), weights="max"))
    graphs.append(rg.chain(x, steps))
    # K = 3 * 3 * 65 = 585: above the bound, the portable loop
    x = _input(rng, (4, 4, 65), -128)
    graphs.append(rg.chain(x, [_conv(rng, "i", x, 3, (3, 3), (1, 1), (1, 1, 1, 1))]))
    return graphs


def _depthwise(rng: np.random.Generator, name: str, x: ir.Tensor, multiplier: int, kernel: tuple[int, int],
               stride: tuple[int, int], padding: tuple[int, int, int, int],
               weights: str = "random") -> tuple[ir.DepthwiseConv2d, ir.Tensor]:
    """rg.depthwise with ``weights`` "random", "min" or "max" (all -127 / 127)."""
    op, y = rg.depthwise(rng, name, x, multiplier, kernel, stride, padding)
    if weights != "random":
        w = np.full(op.weights.shape, -127 if weights == "min" else 127, np.int8)
        op = ir.DepthwiseConv2d(op.name, op.inputs[0], op.output, w, op.bias, op.multiplier, op.shift, op.stride,
                                op.padding, op.depth_multiplier, op.act_min, op.act_max)
    return op, y


def _depthwise_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    graphs = []
    x = _input(rng, (7, 6, 20), -128)
    steps = [_depthwise(rng, "a", x, 1, (3, 3), (1, 1), (1, 1, 1, 1), weights="max")]
    steps.append(_depthwise(rng, "b", steps[-1][1], 1, (3, 3), (2, 2), (0, 1, 1, 0)))
    steps.append(_depthwise(rng, "c", steps[-1][1], 1, (5, 5), (1, 1), (2, 2, 2, 2), weights="min"))
    graphs.append(rg.chain(x, steps))
    x = _input(rng, (5, 9, 13), 127)
    steps = [_depthwise(rng, "d", x, 1, (1, 3), (1, 2), (3, 3, 3, 3))]
    steps.append(_depthwise(rng, "e", steps[-1][1], 1, (3, 3), (1, 1), (1, 1, 1, 1)))
    graphs.append(rg.chain(x, steps))
    x = _input(rng, (6, 6, 8), int(rng.integers(-128, 128)))
    steps = [_depthwise(rng, "f", x, 1, (3, 3), (2, 2), (1, 1, 1, 1))]
    steps.append(_depthwise(rng, "g", steps[-1][1], 2, (3, 3), (1, 1), (1, 1, 1, 1)))
    graphs.append(rg.chain(x, steps))
    x = _input(rng, (4, 4, 3), -128)
    graphs.append(rg.chain(x, [_depthwise(rng, "h", x, 1, (3, 3), (1, 1), (1, 1, 1, 1))]))
    return graphs


def _dw_fused2(rng: np.random.Generator, name: str, x: ir.Tensor, stride: tuple[int, int],
               padding: tuple[int, int, int, int], weights: str = "random") -> tuple[ir.DepthwiseConv2d, ir.Tensor]:
    """A 3x3 depthwise layer the Helium kernel runs in assembly (requant_fused 2: shifts in [-20, -8], the full
    int8 range), weights random, "min" (-127) or "max" (127)."""
    op, y = _depthwise(rng, name, x, 1, (3, 3), stride, padding, weights)
    c = x.shape[2]
    mult = rng.integers(2**30, 2**31 - 1, c).astype(np.int32)
    shift = rng.integers(-20, -7, c).astype(np.int32)
    bias = rng.integers(-(2**16), 2**16, c).astype(np.int32)
    op = ir.DepthwiseConv2d(op.name, op.inputs[0], op.output, op.weights, bias, mult, shift, op.stride, op.padding,
                            1, -128, 127)
    return op, y


def _dw_fast_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """3x3 layers with requant_fused 2: whole groups of 16 channels (48, 64) and a last partial group (37: 2 + 5,
    8: only the partial group), strides 1 and 2, windows clipped on every side and wholly in the padding, zero
    points at the int8 ends, weights at -127 / 127."""
    graphs = []
    x = _input(rng, (9, 7, 48), -128)
    steps = [_dw_fused2(rng, "a", x, (1, 1), (1, 1, 1, 1), "max")]
    steps.append(_dw_fused2(rng, "b", steps[-1][1], (2, 2), (0, 1, 1, 0)))
    steps.append(_dw_fused2(rng, "c", steps[-1][1], (1, 1), (2, 2, 2, 2), "min"))  # windows wholly in the padding
    graphs.append(rg.chain(x, steps))
    x = _input(rng, (6, 5, 37), 127)
    steps = [_dw_fused2(rng, "d", x, (1, 1), (1, 1, 1, 1))]
    steps.append(_dw_fused2(rng, "e", steps[-1][1], (2, 2), (1, 1, 1, 1), "min"))
    graphs.append(rg.chain(x, steps))
    x = _input(rng, (5, 6, 8), int(rng.integers(-128, 128)))
    steps = [_dw_fused2(rng, "f", x, (1, 1), (1, 1, 1, 1)), ]
    steps.append(_dw_fused2(rng, "g", steps[-1][1], (2, 1), (0, 0, 1, 1), "max"))
    graphs.append(rg.chain(x, steps))
    x = _input(rng, (4, 4, 64), -128)
    graphs.append(rg.chain(x, [_dw_fused2(rng, "h", x, (1, 1), (1, 1, 1, 1))]))
    return graphs


def _add_exact_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Adds the Helium kernel's fast path runs (exact1 = 1): the larger-scale input first and second (the
    generator swaps it first), sizes with and without a last step of fewer than 8 elements, zero points at the
    ends."""
    graphs = []
    for shape, zps in (((4, 4, 16), (-128, 127)), ((3, 5, 7), (127, -128)), ((1, 1, 13), (5, -7))):
        big = ir.Tensor("x", shape, ir.QParams(0.05, zps[0]))
        conv, small = _conv(rng, "c", big, shape[2], (1, 1), (1, 1), (0, 0, 0, 0), zp_out=zps[1])
        small = ir.Tensor(small.name, small.shape, ir.QParams(0.02, zps[1]))
        conv = ir.Conv2d(conv.name, conv.inputs[0], small.name, conv.weights, conv.bias, conv.multiplier, conv.shift,
                         conv.stride, conv.padding, -128, 127)
        graphs.append(rg.chain(big, [(conv, small), rg.add(rng, "s1", big, small, subtract=False),
                                     rg.add(rng, "s2", small, big, subtract=False)]))
    return graphs


def _adds(rng: np.random.Generator) -> list[ir.Graph]:
    """test_dsp_kernels' add graphs (a residual network, x + x in place, odd sizes) and adds of tensors
    whose zero points are -128 and 127 (sizes 4k + 1 and 4k + 3: the predicated tail)."""
    graphs = _add_graphs(rng)
    for shape in ((3, 3, 5), (1, 1, 7)):
        x = _input(rng, shape, -128)
        y = _conv(rng, "c", x, shape[2], (1, 1), (1, 1), (0, 0, 0, 0), zp_out=127)
        graphs.append(rg.chain(x, [y, rg.add(rng, "sum", x, y[1])]))
    return graphs


def _pools(rng: np.random.Generator) -> list[ir.Graph]:
    """test_dsp_kernels' pool graphs (KWS's 25 x 5 x 64 global average among them) and max and average pools
    after a conv (random values) or on the input (values at the ends)."""
    graphs = _pool_graphs(rng)
    for shape, zp in (((7, 6, 19), -128), ((5, 5, 33), 127), ((4, 9, 5), int(rng.integers(-128, 128)))):
        x = _input(rng, shape, zp)
        steps = [rg.max_pool("m1", x, (3, 3), (2, 2), (1, 1), True)]
        steps.append(rg.avg_pool("a1", steps[-1][1], (3, 2), (1, 2), (1, 1), True, True))
        steps.append(rg.avg_pool("a2", steps[-1][1], (2, 3), (2, 1), (1, 1), False, False))
        steps.append(rg.max_pool("m2", steps[-1][1], (2, 2), (1, 1), (0, 0), False))
        graphs.append(rg.chain(x, steps))
    x = _input(rng, (8, 8, 16), -128)
    steps = [_conv(rng, "c", x, 16, (1, 1), (1, 1), (0, 0, 0, 0), zp_out=127)]
    steps.append(rg.max_pool("m", steps[-1][1], (2, 2), (2, 2), (0, 0), False))
    steps.append(rg.avg_pool("g", x, (8, 8), (8, 8), (0, 0), False, False))  # global average of the input
    graphs.append(rg.chain(x, steps[:2]))
    graphs.append(rg.chain(x, [steps[2]]))
    x = _input(rng, (17, 16, 11), -128)  # 272 taps a window: the int32 sums
    graphs.append(rg.chain(x, [rg.avg_pool("g2", x, (17, 16), (17, 16), (0, 0), False, False)]))
    x = _input(rng, (3, 4, 1), 127)  # one channel: only the predicated step
    steps = [rg.avg_pool("a", x, (3, 3), (1, 1), (1, 1), False, True)]
    steps.append(rg.max_pool("m", steps[-1][1], (3, 3), (1, 1), (1, 1), False))
    graphs.append(rg.chain(x, steps))
    return graphs


GRAPHS = {"conv": _conv_graphs, "depthwise": _depthwise_graphs, "add": _adds, "pool": _pools,
          "depthwise_fast": _dw_fast_graphs, "add_fast": _add_exact_graphs}
# the build-time field each fast-path graph set must set in the generated C, at least once per graph
FAST_FIELDS = {"depthwise_fast": ".requant_fused = 2", "add_fast": ".exact1 = 1"}


def _inputs(rng: np.random.Generator, graph: ir.Graph) -> np.ndarray:
    """rg.random_input plus an all -128 and an all 127 sample."""
    x = rg.random_input(rng, graph, 2)
    return np.concatenate([x, np.full((1, *x.shape[1:]), -128, np.int8), np.full((1, *x.shape[1:]), 127, np.int8)])


@pytest.mark.parametrize("kind", sorted(GRAPHS))
def test_layers_are_bit_exact(kind: str, tmp_path: Path) -> None:
    """Every conv / depthwise / add graph equals the simulator layer by layer under QEMU on the M55."""
    _require_arm_tools()
    rng = np.random.default_rng(55)
    for k, graph in enumerate(GRAPHS[kind](rng)):
        out = rg.emit(graph, tmp_path / f"pkg{k}", board=BOARD)
        if kind in FAST_FIELDS:  # every depthwise / add layer of these graphs takes the fast path
            fast = sum(isinstance(op, (ir.DepthwiseConv2d, ir.Add)) for op in graph.ops)
            assert (out / "net.c").read_text().count(FAST_FIELDS[kind]) == fast, f"graph {k} misses the fast path"
        x = _inputs(rng, graph)
        got = qemu.run_emulated(out, tmp_path / f"build{k}", x, load_board(BOARD))
        bad = rg.emulated_mismatch(graph, got, x)
        assert bad is None, f"graph {k}: {bad}"


@pytest.mark.parametrize("kind", sorted(FAST_FIELDS))
def test_helium_packages_run_on_the_host(kind: str, tmp_path: Path) -> None:
    """The fast-path graphs' Helium packages (records under TQ_USE_MVE, an add's inputs swapped) compiled for the
    host: the portable kernels on the IR arrays give the simulator's result (the package's other family)."""
    rng = np.random.default_rng(55)
    for k, graph in enumerate(GRAPHS[kind](rng)):
        out = rg.emit(graph, tmp_path / f"pkg{k}", board=BOARD)
        lib = load_model(compile_shared(out, tmp_path / f"build{k}"), "net")
        rg.assert_bit_exact(lib, graph, _inputs(rng, graph))


def test_vector_output_stage_equals_general_under_qemu(tmp_path: Path) -> None:
    """tq_requantize_s32x4_mve, tq_requantize_s32x4_right_mve (shifts in [-31, -1]) and tq_requantize_s32x4_n_mve
    equal tq_requantize_s8 on 1.2M lanes each under QEMU on the M55."""
    _require_arm_tools()
    target = load_board(BOARD)
    for fname, text in {"check.c": REQUANT_CHECK, **qemu.baremetal_support(target)}.items():
        (tmp_path / fname).write_text(text)
    elf = tmp_path / "check.elf"
    run_compiler(target.cc, [*target.cflags, *qemu.IMAGE_FLAGS, *STRICT_CFLAGS, f"-I{resource_dir('runtime_c')}",
                             str(tmp_path / "check.c"), str(tmp_path / "baremetal_startup.c"),
                             f"-T{tmp_path / 'baremetal.ld'}", "-o", str(elf)], target.apt_package)
    qemu.run_image(qemu.find_qemu(), elf, target, ["check.elf"], timeout_s=300)


@pytest.mark.parametrize(("board", "expected"), [("cortex-m55", True), ("cortex-m4", False), ("host", False)])
def test_mve_kernels_are_compiled_only_for_helium(board: str, expected: bool, tmp_path: Path) -> None:
    """Each tq_<kind>_s8_mve.c defines its kernel exactly when the board's compiler has Helium, and then
    the portable and DSP files define nothing (one definition per core)."""
    target = load_board(board)
    require_tool(target.cc, target.apt_package)
    runtime = resource_dir("runtime_c")
    for kind in MVE_KINDS:
        defined = {}
        for suffix in ("", "_dsp", "_mve"):
            obj = tmp_path / f"{kind}{suffix}.o"
            source = runtime / f"tq_{kind}_s8{suffix}.c"
            if not source.is_file():  # the pools have no DSP file
                continue
            subprocess.run([target.cc, *target.cflags, "-O2", "-std=c99", "-c", str(source), "-o", str(obj)],
                           check=True)
            nm = target.cc.removesuffix("gcc") + "nm"
            symbols = subprocess.run([nm, "--defined-only", str(obj)], capture_output=True, text=True, check=True)
            defined[suffix] = f"tq_{kind}_s8" in symbols.stdout.split()
        assert defined["_mve"] is expected, (board, kind)
        assert sum(defined.values()) == 1, (board, kind, defined)


def test_kernel_files_ship_mve_companions() -> None:
    rng = np.random.default_rng(5)
    x = ir.Tensor("x", (4, 4, 4), rg.random_qparams(rng))
    fc, _ = rg.fully_connected(rng, "f", x, 3)
    assert "tq_fully_connected_s8_mve.c" in stats.kernel_files(fc)
