"""Random integer graphs for runtime, planner and codegen tests, and helpers to build and compare them.

The reference is the integer simulator (:mod:`tinyqat.sim`), the one spec of every op.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from pathlib import Path

import cffi
import numpy as np
import torch

from tinyqat import fixedpoint, ir, quant
from tinyqat.boards import load_board
from tinyqat.codegen.emit import emit_package
from tinyqat.memory.planner import GreedyPlanner, Planner
from tinyqat.passes import quantize
from tinyqat.resources import resource_dir
from tinyqat.sim import interpreter
from tinyqat.target import STRICT_CFLAGS
from tinyqat.toolchain import qemu
from tinyqat.toolchain.cffi_model import ModelLib, load_model
from tinyqat.toolchain.compiler import compile_shared, run_compiler

GENERATOR = "tinyqat test"

ZERO_POINTS = (-128, 127, 0)


def random_qparams(rng: np.random.Generator) -> ir.QParams:
    """Scale in [1e-3, 1] (float32), zero point often at the int8 edges."""
    zp = int(rng.choice(ZERO_POINTS)) if rng.random() < 0.5 else int(rng.integers(-128, 128))
    return ir.QParams(float(np.float32(10 ** rng.uniform(-3, 0))), zp)


def requant_params(rng: np.random.Generator, out_c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bias, multiplier and shift for ``out_c`` channels: ratios in [1e-4, 5], one saturating channel.

    Channel 0 may get a huge bias and a large ratio so the left shift saturates int32.
    """
    ratios = 10 ** rng.uniform(-4, 0.7, out_c)
    bias = rng.integers(-(2**14), 2**14, out_c)
    if rng.random() < 0.3:
        ratios[0], bias[0] = 40.0, int(rng.choice([-1, 1])) * 2**28
    pairs = [fixedpoint.quantize_multiplier(float(r)) for r in ratios]
    return (bias.astype(np.int32), np.array([q for q, _ in pairs], np.int32),
            np.array([s for _, s in pairs], np.int32))


def activation_range(rng: np.random.Generator, zp_out: int) -> tuple[int, int]:
    """None (full int8), ReLU (``[max(-128, zp), 127]``) or a random sub-range."""
    kind = rng.integers(3)
    if kind == 0:
        return -128, 127
    if kind == 1:
        return max(-128, zp_out), 127
    lo, hi = sorted(int(v) for v in rng.integers(-128, 128, 2))
    return lo, hi


def conv(rng: np.random.Generator, name: str, x: ir.Tensor, out_c: int, kernel: tuple[int, int],
         stride: tuple[int, int], padding: tuple[int, int, int, int]) -> tuple[ir.Conv2d, ir.Tensor]:
    """A random Conv2d reading ``x``, and its output tensor ``name``."""
    kh, kw = kernel
    oh = ir.conv_output_size(x.shape[0], kh, stride[0], padding[0], padding[2])
    ow = ir.conv_output_size(x.shape[1], kw, stride[1], padding[1], padding[3])
    y = ir.Tensor(name, (oh, ow, out_c), random_qparams(rng))
    bias, mult, shift = requant_params(rng, out_c)
    lo, hi = activation_range(rng, y.qparams.zero_point)
    w = rng.integers(-127, 128, (out_c, kh, kw, x.shape[2])).astype(np.int8)
    return ir.Conv2d(f"conv_{name}", x.name, name, w, bias, mult, shift, stride, padding, lo, hi), y


def fully_connected(rng: np.random.Generator, name: str, x: ir.Tensor,
                    out_f: int) -> tuple[ir.FullyConnected, ir.Tensor]:
    """A random FullyConnected reading ``x`` (any rank, flattened channels last)."""
    y = ir.Tensor(name, (out_f,), random_qparams(rng))
    bias, mult, shift = requant_params(rng, out_f)
    lo, hi = activation_range(rng, y.qparams.zero_point)
    w = rng.integers(-127, 128, (out_f, x.size)).astype(np.int8)
    return ir.FullyConnected(f"fc_{name}", x.name, name, w, bias, mult, shift, lo, hi), y


def max_pool(name: str, x: ir.Tensor, kernel: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int],
             ceil_mode: bool) -> tuple[ir.MaxPool2d, ir.Tensor]:
    """MaxPool2d with symmetric padding ``pad = (ph, pw)``."""
    oh = ir.pool_output_size(x.shape[0], kernel[0], stride[0], pad[0], ceil_mode)
    ow = ir.pool_output_size(x.shape[1], kernel[1], stride[1], pad[1], ceil_mode)
    y = ir.Tensor(name, (oh, ow, x.shape[2]), x.qparams)
    return ir.MaxPool2d(f"pool_{name}", x.name, name, kernel, stride, (pad[0], pad[1], pad[0], pad[1]), ceil_mode), y


def clamp(rng: np.random.Generator, name: str, x: ir.Tensor) -> tuple[ir.Clamp, ir.Tensor]:
    """A Clamp with a random range."""
    lo, hi = activation_range(rng, x.qparams.zero_point)
    return ir.Clamp(f"clamp_{name}", x.name, name, lo, hi), ir.Tensor(name, x.shape, x.qparams)


def depthwise(rng: np.random.Generator, name: str, x: ir.Tensor, multiplier: int, kernel: tuple[int, int],
              stride: tuple[int, int], padding: tuple[int, int, int, int]) -> tuple[ir.DepthwiseConv2d, ir.Tensor]:
    """A random DepthwiseConv2d reading ``x`` with depth multiplier ``multiplier``."""
    kh, kw = kernel
    out_c = x.shape[2] * multiplier
    oh = ir.conv_output_size(x.shape[0], kh, stride[0], padding[0], padding[2])
    ow = ir.conv_output_size(x.shape[1], kw, stride[1], padding[1], padding[3])
    y = ir.Tensor(name, (oh, ow, out_c), random_qparams(rng))
    bias, mult, shift = requant_params(rng, out_c)
    lo, hi = activation_range(rng, y.qparams.zero_point)
    w = rng.integers(-127, 128, (kh, kw, out_c)).astype(np.int8)
    return ir.DepthwiseConv2d(f"dw_{name}", x.name, name, w, bias, mult, shift, stride, padding, multiplier,
                              lo, hi), y


def avg_pool(name: str, x: ir.Tensor, kernel: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int],
             ceil_mode: bool, count_include_pad: bool) -> tuple[ir.AvgPool2d, ir.Tensor]:
    """AvgPool2d with symmetric padding ``pad = (ph, pw)``."""
    oh = ir.pool_output_size(x.shape[0], kernel[0], stride[0], pad[0], ceil_mode)
    ow = ir.pool_output_size(x.shape[1], kernel[1], stride[1], pad[1], ceil_mode)
    y = ir.Tensor(name, (oh, ow, x.shape[2]), x.qparams)
    return ir.AvgPool2d(f"avgpool_{name}", x.name, name, kernel, stride, (pad[0], pad[1], pad[0], pad[1]),
                        ceil_mode, count_include_pad), y


def _scope(*tensors: ir.Tensor) -> ir.Graph:
    """An op-less graph holding ``tensors``, for the lowering functions that look quantization up by name."""
    t = tensors[0]
    return ir.Graph(tensors, (), t.name, t.name, t.shape, t.shape)


def output_qparams(rng: np.random.Generator, inputs: list[ir.Tensor]) -> ir.QParams:
    """Random output quantization; often an input's own (exact copies), sometimes a tiny scale (saturation)."""
    u = rng.random()
    if u < 0.3:
        return inputs[int(rng.integers(len(inputs)))].qparams
    if u < 0.45:
        return ir.QParams(float(np.float32(min(t.qparams.scale for t in inputs) / 64)), int(rng.integers(-128, 128)))
    return random_qparams(rng)


def add(rng: np.random.Generator, name: str, a: ir.Tensor, b: ir.Tensor,
        subtract: bool | None = None, reverse: bool = False) -> tuple[ir.Add, ir.Tensor]:
    """Add (or, randomly unless ``subtract`` is given, sub: ``a - b``; ``b - a`` with ``reverse``) of ``a`` and
    ``b`` (``a``'s shape or a ``(1, 1, C)`` operand) with multipliers from lowering's rule and a random clamp."""
    y = ir.Tensor(name, a.shape, output_qparams(rng, [a, b]))
    lo, hi = activation_range(rng, y.qparams.zero_point)
    subtract = reverse or (bool(rng.random() < 0.3) if subtract is None else subtract)
    float_op = ir.FloatAdd(f"add_{name}", (a.name, b.name), name, ir.NO_ACTIVATION, subtract, reverse)
    op = quantize.quantize_add(float_op, _scope(a, b, y))
    return dataclasses.replace(op, act_min=lo, act_max=hi), y


def concat(rng: np.random.Generator, name: str, xs: list[ir.Tensor]) -> tuple[ir.Concat, ir.Tensor]:
    """Channel concatenation of ``xs`` (same H, W) with multipliers from lowering's rule."""
    y = ir.Tensor(name, (*xs[0].shape[:-1], sum(t.shape[-1] for t in xs)), output_qparams(rng, xs))
    float_op = ir.FloatConcat(f"concat_{name}", tuple(t.name for t in xs), name)
    return quantize.quantize_concat(float_op, _scope(*xs, y)), y


def lut_params(rng: np.random.Generator, function: str) -> tuple[float, ...]:
    """Random constants for ``function`` (ELU's alpha, LeakyReLU's slope, affine's scale and offset)."""
    return tuple(float(v) for v in rng.uniform(-3, 3, len(quant.LUT_PARAMS.get(function, ()))))


def lookup(rng: np.random.Generator, name: str, x: ir.Tensor,
           function: str | None = None) -> tuple[ir.Lookup, ir.Tensor]:
    """A lowered table of ``function`` (random one of ir.LUT_FUNCTIONS with random constants unless given),
    or (one in four, when random) an arbitrary int8 table."""
    y = ir.Tensor(name, x.shape, random_qparams(rng))
    random_function = function is None
    function = str(rng.choice(ir.LUT_FUNCTIONS)) if function is None else function
    float_op = ir.FloatLookup(f"lut_{name}", x.name, name, function, lut_params(rng, function))
    op = quantize.quantize_lookup(float_op, _scope(x, y))
    if not random_function:
        return op, y
    if rng.random() < 0.25:
        op = ir.Lookup(op.name, op.input, op.output, function, rng.integers(-128, 128, 256))
    return op, y


def softmax(rng: np.random.Generator, name: str, x: ir.Tensor) -> tuple[ir.Softmax, ir.Tensor]:
    """Lowered softmax over the last axis, or (one in four) an arbitrary exp table in [0, 2**16]."""
    y = ir.Tensor(name, x.shape, ir.SOFTMAX_QPARAMS)
    op = quantize.quantize_softmax(ir.FloatSoftmax(f"softmax_{name}", x.name, name), _scope(x, y))
    if rng.random() < 0.25:
        table = rng.integers(0, 2**16 + 1, 256)
        table[0] = 2**16
        op = ir.Softmax(op.name, op.input, op.output, table)
    return op, y


def log_softmax(rng: np.random.Generator, name: str, x: ir.Tensor) -> tuple[ir.LogSoftmax, ir.Tensor]:
    """TFLite's int8 LOG_SOFTMAX over the last axis as lowering builds it for ``x``'s scale (``rng`` unused:
    the constants follow from the scale)."""
    y = ir.Tensor(name, x.shape, ir.LOG_SOFTMAX_QPARAMS)
    return quantize.quantize_log_softmax(ir.FloatLogSoftmax(f"log_softmax_{name}", x.name, name), _scope(x, y)), y


def mul(rng: np.random.Generator, name: str, a: ir.Tensor, b: ir.Tensor) -> tuple[ir.Mul, ir.Tensor]:
    """TFLite MUL of ``a`` by ``b`` (``a``'s shape or a ``(1, 1, C)`` gate), lowering's multiplier, random clamp."""
    y = ir.Tensor(name, a.shape, output_qparams(rng, [a, b]))
    op = quantize.quantize_mul(ir.FloatMul(f"mul_{name}", (a.name, b.name), name), _scope(a, b, y))
    if rng.random() < 0.5:
        op = dataclasses.replace(op, act_min=activation_range(rng, y.qparams.zero_point)[0])
    return op, y


def prelu(rng: np.random.Generator, name: str, x: ir.Tensor, per_channel: bool = True) -> tuple[ir.PRelu, ir.Tensor]:
    """PReLU with random alphas (one per channel, or one), often negative or above 1; lowering's rule."""
    y = ir.Tensor(name, x.shape, output_qparams(rng, [x]))
    alpha = rng.uniform(-2, 2, x.shape[-1] if per_channel else 1).astype(np.float32)
    return quantize.quantize_prelu(ir.FloatPRelu(f"prelu_{name}", x.name, name, alpha), _scope(x, y)), y


def mul_const(rng: np.random.Generator, name: str, x: ir.Tensor,
              per_channel: bool = True) -> tuple[ir.MulConst, ir.Tensor]:
    """Product with a random constant (one per channel, or one; the largest is +-127 once quantized, often a zero
    among them), lowering's rule, sometimes a clamp."""
    y = ir.Tensor(name, x.shape, output_qparams(rng, [x]))
    constant = rng.uniform(-2, 2, x.shape[-1] if per_channel else 1).astype(np.float32)
    if per_channel and rng.random() < 0.3:
        constant[int(rng.integers(constant.size))] = 0.0
    op = quantize.quantize_mul_const(ir.FloatMulConst(f"mul_const_{name}", x.name, name, constant), _scope(x, y))
    if rng.random() < 0.5:
        op = dataclasses.replace(op, act_min=activation_range(rng, y.qparams.zero_point)[0])
    return op, y
def reshape(name: str, x: ir.Tensor, shape: tuple[int, ...]) -> tuple[ir.Reshape, ir.Tensor]:
    """The bytes of ``x`` under ``shape`` (same size)."""
    return ir.Reshape(f"reshape_{name}", x.name, name), ir.Tensor(name, shape, x.qparams)


def gather_index(rng: np.random.Generator, channels: int) -> tuple[int, ...]:
    """A channel slice (increasing: may run in place), a shuffle of ``g`` groups, or any selection with repeats."""
    kind = rng.integers(3)
    if kind == 0:
        start = int(rng.integers(channels))
        return tuple(range(start, int(rng.integers(start + 1, channels + 1))))
    if kind == 1:
        groups = [g for g in range(1, channels + 1) if channels % g == 0]
        g = int(rng.choice(groups))
        return tuple(int(v) for v in np.arange(channels).reshape(g, -1).T.reshape(-1))
    return tuple(int(v) for v in rng.integers(0, channels, int(rng.integers(1, 2 * channels + 1))))


def gather(rng: np.random.Generator, name: str, x: ir.Tensor,
           index: tuple[int, ...] | None = None) -> tuple[ir.Gather, ir.Tensor]:
    """A per-pixel channel gather of ``x`` (random :func:`gather_index` unless ``index``)."""
    index = gather_index(rng, x.shape[-1]) if index is None else index
    shape = (*x.shape[:-1], len(index))
    return ir.Gather(f"gather_{name}", x.name, name, index), ir.Tensor(name, shape, x.qparams)


def resize_nearest(name: str, x: ir.Tensor, scale: tuple[int, int]) -> tuple[ir.ResizeNearest, ir.Tensor]:
    """Nearest-neighbour upsampling of the map ``x`` by ``scale``."""
    shape = (x.shape[0] * scale[0], x.shape[1] * scale[1], x.shape[2])
    return ir.ResizeNearest(f"resize_{name}", x.name, name, scale), ir.Tensor(name, shape, x.qparams)


def chain(x: ir.Tensor, steps: list[tuple[ir.IntOp, ir.Tensor]]) -> ir.Graph:
    """A validated straight-line graph from ``x`` through ``steps``."""
    y = steps[-1][1]
    graph = ir.Graph((x, *(t for _, t in steps)), tuple(op for op, _ in steps), x.name, y.name,
                     ir.torch_shape(x.shape), ir.torch_shape(y.shape))
    return ir.validate(graph)


KINDS = ("conv2d", "fully_connected", "max_pool2d", "clamp", "depthwise_conv2d", "avg_pool2d", "lookup", "add",
         "softmax", "concat", "mul", "prelu", "reshape", "gather", "resize_nearest", "log_softmax", "mul_const")
# outputs keep the input's (H, W)
SAME_HW_KINDS = ("clamp", "lookup", "add", "softmax", "concat", "mul", "prelu", "log_softmax", "mul_const")


def _window_padding(rng: np.random.Generator, h: int, w: int, kh: int, kw: int) -> tuple[int, int, int, int]:
    """Random (top, left, bottom, right) padding in [0, kernel - 1], often exactly kernel - 1."""
    if rng.random() < 0.3:
        return kh - 1, kw - 1, kh - 1, kw - 1
    pt, pb = (int(v) for v in rng.integers(0, kh, 2))
    pl, pr = (int(v) for v in rng.integers(0, kw, 2))
    if h + pt + pb < kh or w + pl + pr < kw:
        return kh - 1, kw - 1, kh - 1, kw - 1  # windows made mostly of padding
    return pt, pl, pb, pr


def random_op(rng: np.random.Generator, kind: str, name: str, pool: list[ir.Tensor]) -> tuple[ir.IntOp, ir.Tensor]:
    """One random op of ``kind``: odd kernels, strides (also above the kernel) and (asymmetric) paddings.

    ``pool[0]`` is the graph input; add and concat read 2-3 tensors of ``pool``, which all
    share the input's (H, W) (so tensors end up read by several ops).
    """
    x = pool[0]
    h, w, _ = x.shape
    stride = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    if kind == "conv2d":
        kh, kw = (int(v) for v in rng.integers(1, 5, 2))
        padding = tuple(int(v) for v in rng.integers(0, 4, 4))
        if h + padding[0] + padding[2] < kh or w + padding[1] + padding[3] < kw:
            padding = (kh, kw, kh, kw)  # windows made of padding only: acc = bias
        return conv(rng, name, x, int(rng.integers(1, 6)), (kh, kw), stride, padding)
    if kind == "depthwise_conv2d":
        kh, kw = (int(v) for v in rng.integers(1, 5, 2))
        return depthwise(rng, name, x, int(rng.integers(1, 3)), (kh, kw), stride, _window_padding(rng, h, w, kh, kw))
    if kind == "fully_connected":
        return fully_connected(rng, name, x, int(rng.integers(1, 12)))
    if kind in ("max_pool2d", "avg_pool2d"):
        kh, kw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        pad = (int(rng.integers(0, kh // 2 + 1)), int(rng.integers(0, kw // 2 + 1)))
        ceil_mode = bool(rng.random() < 0.5)
        if kind == "max_pool2d":
            return max_pool(name, x, (kh, kw), stride, pad, ceil_mode)
        return avg_pool(name, x, (kh, kw), stride, pad, ceil_mode, bool(rng.random() < 0.5))
    if kind == "lookup":
        return lookup(rng, name, x)
    if kind == "reshape":
        return reshape(name, x, (x.size,))
    if kind == "gather":
        return gather(rng, name, x)
    if kind == "resize_nearest":
        return resize_nearest(name, x, (int(rng.integers(1, 4)), int(rng.integers(1, 4))))
    if kind == "softmax":
        return softmax(rng, name, x)
    if kind == "log_softmax":
        return log_softmax(rng, name, x)
    if kind == "add":
        a = pool[int(rng.integers(len(pool)))]
        same = [t for t in pool if t.shape == a.shape]
        return add(rng, name, a, same[int(rng.integers(len(same)))])
    if kind == "mul":  # same shapes from the pool (the (1, 1, C) gate: test_elementwise.py)
        a = pool[int(rng.integers(len(pool)))]
        same = [t for t in pool if t.shape == a.shape]
        return mul(rng, name, a, same[int(rng.integers(len(same)))])
    if kind == "prelu":
        return prelu(rng, name, x, bool(rng.random() < 0.7))
    if kind == "mul_const":
        return mul_const(rng, name, x, bool(rng.random() < 0.7))
    if kind == "concat":
        count = int(rng.integers(2, 4))
        picks = rng.choice(len(pool), count, replace=len(pool) < count)
        return concat(rng, name, [pool[int(k)] for k in picks])
    return clamp(rng, name, x)


VECTOR_KINDS = ("fully_connected", "clamp", "lookup", "softmax", "log_softmax", "mul_const")


def vector_op(rng: np.random.Generator, kind: str, name: str, x: ir.Tensor) -> tuple[ir.IntOp, ir.Tensor]:
    """A random op of one of :data:`VECTOR_KINDS` reading the vector ``x``."""
    if kind == "fully_connected":
        return fully_connected(rng, name, x, int(rng.integers(1, 12)))
    return {"clamp": clamp, "lookup": lookup, "softmax": softmax, "log_softmax": log_softmax,
            "mul_const": mul_const}[kind](rng, name, x)


def fuzz_graph(seed: int, shape: tuple[int, int, int], plan: list[tuple[str, int]]) -> ir.Graph:
    """A graph from ``plan``: each step is (op kind, index of the earlier tensor it reads); every
    numeric parameter comes from ``seed``.  The fuzz tests and their saved regressions replay it."""
    rng = np.random.default_rng(seed)
    x = ir.Tensor("x", shape, random_qparams(rng))
    tensors, steps = [x], []
    for k, (kind, pick) in enumerate(plan):
        src, name = tensors[pick % len(tensors)], f"t{k}"
        if len(src.shape) == 1:  # after a fully connected layer only vector ops apply
            steps.append(vector_op(rng, kind if kind in VECTOR_KINDS else VECTOR_KINDS[pick % 4], name, src))
        else:
            same = [t for t in tensors if t is not src and len(t.shape) == 3 and t.shape[:-1] == src.shape[:-1]]
            steps.append(random_op(rng, kind, name, [src, *same]))
        tensors.append(steps[-1][1])
    return chain(x, steps)


def fan_out_graph(rng: np.random.Generator, n_ops: int) -> ir.Graph:
    """``n_ops`` random ops (every kind, in turn, see :data:`KINDS`) reading one odd-shaped input.

    Single-input ops read the input; add and concat also read earlier outputs of the
    (H, W)-preserving kinds.  One compiled package then tests many kernel configurations;
    each layer's output is compared on its own.
    """
    x = ir.Tensor("x", tuple(int(v) for v in rng.integers(1, 8, 3)), random_qparams(rng))
    pool, steps = [x], []
    for k in range(n_ops):
        kind = KINDS[k % len(KINDS)]
        steps.append(random_op(rng, kind, f"y{k}", pool))
        if kind in SAME_HW_KINDS:
            pool.append(steps[-1][1])
    return chain(x, steps)


def random_model(rng: np.random.Generator) -> ir.Graph:
    """conv -> [clamp] -> [pool] -> conv -> fc -> [fc]: a small CNN with random shapes."""
    x = ir.Tensor("input", (int(rng.integers(5, 12)), int(rng.integers(5, 12)), int(rng.integers(1, 4))),
                  random_qparams(rng))
    steps = [conv(rng, "c1", x, int(rng.integers(1, 6)), (3, 3), (1, 1), (1, 1, 1, 1))]
    if rng.random() < 0.5:
        steps.append(clamp(rng, "r1", steps[-1][1]))
    if rng.random() < 0.7:
        steps.append(max_pool("p1", steps[-1][1], (2, 2), (2, 2), (0, 0), bool(rng.random() < 0.5)))
    steps.append(conv(rng, "c2", steps[-1][1], int(rng.integers(1, 6)), (3, 2), (2, 1), (0, 1, 1, 0)))
    steps.append(fully_connected(rng, "f1", steps[-1][1], int(rng.integers(3, 10))))
    if rng.random() < 0.5:
        steps.append(fully_connected(rng, "f2", steps[-1][1], int(rng.integers(1, 6))))
    return chain(x, steps)


def residual_model(rng: np.random.Generator) -> ir.Graph:
    """A small residual CNN using every kernel, with tensors read by up to three ops.

    ``x -> conv 1x1 (c1) -> depthwise 3x3 (d1) -> add(c1, d1) -> lookup -> concat(c1, lut, x)
    ``x -> conv 1x1 (c1) -> depthwise 3x3 (d1) -> add(c1, d1) -> lookup -> concat(c1, lut, x)
    -> depthwise m=2 -> avg pool -> clamp (r1) -> r1 * global avg pool(r1) (a (1, 1, C) gate) -> prelu
    -> times a constant per channel (its own seeded generator: the other draws stay as they were) -> max pool
    -> resize x (2, 1) -> gather (channels reversed) -> conv -> reshape to a vector -> fc
    -> log_softmax, and softmax of the fc`` (the data movement and log_softmax draw nothing from ``rng``).
    """
    x = ir.Tensor("input", (int(rng.integers(6, 11)), int(rng.integers(6, 11)), int(rng.integers(1, 4))),
                  random_qparams(rng))
    steps = [conv(rng, "c1", x, int(rng.integers(1, 5)), (1, 1), (1, 1), (0, 0, 0, 0))]
    c1 = steps[0][1]
    steps.append(depthwise(rng, "d1", c1, 1, (3, 3), (1, 1), (1, 1, 1, 1)))
    steps.append(add(rng, "a1", c1, steps[-1][1]))
    steps.append(lookup(rng, "l1", steps[-1][1]))
    steps.append(concat(rng, "k1", [c1, steps[-1][1], x]))
    steps.append(depthwise(rng, "d2", steps[-1][1], 2, (3, 3), (2, 2), (1, 1, 1, 1)))
    steps.append(avg_pool("p1", steps[-1][1], (2, 2), (1, 1), (1, 1), bool(rng.random() < 0.5),
                          bool(rng.random() < 0.5)))
    steps.append(clamp(rng, "r1", steps[-1][1]))
    r1 = steps[-1][1]
    steps.append(avg_pool("g1", r1, r1.shape[:2], r1.shape[:2], (0, 0), False, True))
    steps.append(mul(rng, "m1", r1, steps[-1][1]))
    steps.append(prelu(rng, "pr1", steps[-1][1]))
    steps.append(mul_const(np.random.default_rng(7), "mc1", steps[-1][1]))
    steps.append(max_pool("p2", steps[-1][1], (2, 2), (2, 2), (0, 0), True))
    steps.append(resize_nearest("u1", steps[-1][1], (2, 1)))
    steps.append(gather(rng, "h1", steps[-1][1], tuple(range(steps[-1][1].shape[-1] - 1, -1, -1))))
    steps.append(conv(rng, "c2", steps[-1][1], int(rng.integers(1, 5)), (3, 3), (1, 1), (1, 1, 1, 1)))
    steps.append(reshape("v1", steps[-1][1], (steps[-1][1].size,)))
    steps.append(fully_connected(rng, "f1", steps[-1][1], int(rng.integers(2, 10))))
    steps.append(log_softmax(rng, "ls1", steps[-1][1]))
    steps.append(softmax(rng, "s1", steps[-2][1]))
    return chain(x, steps)


def separable_model(rng: np.random.Generator) -> ir.Graph:
    """A DS-CNN / MobileNet-like chain where in-place execution pays off.

    ``x -> conv 3x3 s2 -> clamp -> [depthwise 3x3 (stride 1 or 2) -> conv 1x1 (C or 2C)] x 3
    -> lookup -> avg pool (global) -> fc -> softmax``.
    """
    x = ir.Tensor("input", (int(rng.integers(8, 15)), int(rng.integers(6, 13)), int(rng.integers(1, 4))),
                  random_qparams(rng))
    c = int(rng.integers(2, 6))
    steps = [conv(rng, "c0", x, c, (3, 3), (2, 2), (1, 1, 1, 1))]
    steps.append(clamp(rng, "r0", steps[-1][1]))
    for k in range(3):
        s = 2 if k == 1 else 1
        steps.append(depthwise(rng, f"d{k}", steps[-1][1], 1, (3, 3), (s, s), (1, 1, 1, 1)))
        c = c * 2 if k == 1 else c
        steps.append(conv(rng, f"p{k}", steps[-1][1], c, (1, 1), (1, 1), (0, 0, 0, 0)))
    steps.append(lookup(rng, "l0", steps[-1][1]))
    h, w, _ = steps[-1][1].shape
    steps.append(avg_pool("g0", steps[-1][1], (h, w), (h, w), (0, 0), False, True))
    steps.append(fully_connected(rng, "f0", steps[-1][1], int(rng.integers(2, 8))))
    steps.append(softmax(rng, "s0", steps[-1][1]))
    return chain(x, steps)


def to_int4(graph: ir.Graph, rng: np.random.Generator, every: int = 1) -> ir.Graph:
    """``graph`` with every ``every``-th conv / depthwise / fully connected op 4-bit (random weights
    in [-7, 7], both ends included)."""
    ops, k = [], 0
    for op in graph.ops:
        if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d, ir.FullyConnected)):
            if k % every == 0:
                w = rng.integers(-7, 8, op.weights.shape)
                w.reshape(-1)[:2] = (-7, 7)[: w.size]
                op = dataclasses.replace(op, weights=w, weight_bits=4)
            k += 1
        ops.append(op)
    return ir.validate(dataclasses.replace(graph, ops=tuple(ops)))


def random_input(rng: np.random.Generator, graph: ir.Graph, n: int) -> np.ndarray:
    """``n`` random int8 samples for ``graph``'s input, edge values included.

    Each sample starts with -128, 127; with ``n >= 2`` the last sample holds only -128 and 127
    (saturating inputs).
    """
    x = rng.integers(-128, 128, (n, *graph.tensor(graph.input).shape)).astype(np.int8)
    x.reshape(n, -1)[:, :2] = (-128, 127) if x[0].size >= 2 else -128
    if n >= 2:
        x[-1] = rng.choice(np.array([-128, 127], np.int8), x[-1].shape)
    return x


def reference_layers(graph: ir.Graph, x: np.ndarray) -> list[np.ndarray]:
    """Every op's output for int8 batch ``x`` (N, *input shape), in op order, from the simulator."""
    values = interpreter.run_layers(graph, x)
    return [values[op.output] for op in graph.ops]


# ---------------------------------------------------------------- build and compare


def emit(graph: ir.Graph, out_dir: Path, name: str = "net", board: str = "host",
         planner: Planner | None = None, optimize: str = "size") -> Path:
    """Emit ``graph`` (greedy plan unless ``planner``: for the board's optimized kernels, on the host for the DSP
    kernels, whose scratch the portable kernels ignore) into the new directory ``out_dir``, built for ``optimize``."""
    out_dir.mkdir(parents=True)
    target = load_board(board)
    plan = (planner or GreedyPlanner(kernels="dsp" if target.kernels == "portable" else target.kernels)).plan(graph)
    emit_package(graph, plan, target, name, out_dir, b"test artifact", GENERATOR, optimize)
    return out_dir


def build(graph: ir.Graph, tmp: Path, name: str = "net") -> ModelLib:
    """Emit ``graph`` under ``tmp``, compile it with the strict flags and load it."""
    out_dir = emit(graph, tmp / f"pkg_{name}", name)
    return load_model(compile_shared(out_dir, tmp / f"build_{name}"), name)


def first_mismatch(lib: ModelLib, graph: ir.Graph, x: np.ndarray) -> str | None:
    """Run ``x`` (N samples) layer by layer; describe the first layer differing from the reference."""
    expected = reference_layers(graph, x)
    for n in range(x.shape[0]):
        lib.write_input(x[n])
        for i, op in enumerate(graph.ops):
            lib.run_layer(i)
            got = lib.layer_output(i)
            want = expected[i][n].reshape(-1)
            if not np.array_equal(got, want):
                bad = int(np.flatnonzero(got != want)[0])
                return f"sample {n} layer {i} ({op.name}): element {bad} is {got[bad]}, expected {want[bad]}"
    return None


def emulated_mismatch(graph: ir.Graph, got: list[list[np.ndarray]], x: np.ndarray) -> str | None:
    """The first layer output of an emulated run (``got[n][i]``: sample n, layer i, as
    :func:`tinyqat.toolchain.qemu.run_emulated` returns them) differing from the reference on ``x``, described; None
    when every layer of every sample is equal."""
    expected = reference_layers(graph, x)
    for n in range(x.shape[0]):
        for i, op in enumerate(graph.ops):
            want = expected[i][n].reshape(-1)
            out = got[n][i].reshape(-1)
            if not np.array_equal(out, want):
                bad = int(np.flatnonzero(out != want)[0])
                return f"sample {n} layer {i} ({op.name}): element {bad} is {out[bad]}, expected {want[bad]}"
    return None


def assert_emulated_bit_exact(graphs: Iterable[ir.Graph], board: str, tmp: Path,
                              inputs: Callable[[ir.Graph], np.ndarray]) -> None:
    """Each graph (taken in turn, so a generator may draw it after the previous graph's inputs) emitted for
    ``board`` (planned for its kernels, :func:`emit`), compiled bare metal and run under QEMU on ``inputs(graph)``:
    every layer of every sample equals the reference, else the first diverging layer is named."""
    target = load_board(board)
    for k, graph in enumerate(graphs):
        out = emit(graph, tmp / f"pkg{k}", board=board)
        x = inputs(graph)
        bad = emulated_mismatch(graph, qemu.run_emulated(out, tmp / f"build{k}", x, target), x)
        assert bad is None, f"graph {k}: {bad}"


def assert_bit_exact(lib: ModelLib, graph: ir.Graph, x: np.ndarray) -> None:
    """Every layer (layer by layer) and the final output (through ``invoke``) equal the simulator."""
    assert first_mismatch(lib, graph, x) is None
    final = reference_layers(graph, x)[-1]
    for n in range(x.shape[0]):
        np.testing.assert_array_equal(lib.invoke(x[n]), final[n].reshape(-1))


def runtime_library(out: Path, files: list[str]) -> tuple[cffi.FFI, object]:
    """``runtime_c`` files compiled with the strict flags into ``out/libruntime.so`` and opened with cffi,
    declared straight from ``tq_kernels.h`` (its ``#`` lines dropped)."""
    runtime = resource_dir("runtime_c")
    so_path = out / "libruntime.so"
    run_compiler("gcc", [*STRICT_CFLAGS, "-O2", "-fPIC", "-shared", *(str(runtime / f) for f in files),
                         "-o", str(so_path)])
    ffi = cffi.FFI()
    header = (runtime / "tq_kernels.h").read_text()
    ffi.cdef("\n".join(line for line in header.splitlines() if not line.startswith("#")))
    return ffi, ffi.dlopen(str(so_path))


# C for the two-model test programs (alpha and beta packages): fill() writes the input pattern
# (i * 37) % 256 - 128, dump() prints an output, then main's prologue fills both inputs.
TWO_MODEL_MAIN_PROLOGUE = """static void fill(int8_t *x, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        x[i] = (int8_t)((i * 37) % 256 - 128);
    }
}

static void dump(const int8_t *y, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        printf("%d ", (int)y[i]);
    }
    printf("\\n");
}

int main(void)
{
    static int8_t a_in[ALPHA_INPUT_SIZE], a_out[ALPHA_OUTPUT_SIZE], b_in[BETA_INPUT_SIZE], b_out[BETA_OUTPUT_SIZE];
    fill(a_in, ALPHA_INPUT_SIZE);
    fill(b_in, BETA_INPUT_SIZE);
"""


def qat_vs_integer(make: Callable[[], torch.nn.Module], shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``make()`` (built after seeding 1) prepared for QAT, three training forward passes (observers, BatchNorm
    statistics), then in eval mode on 128 random inputs of per-sample ``shape``: (the fake-quant outputs on the
    output grid, the integer simulator's outputs), both float64."""
    from tinyqat.api import quantize_input, simulate
    from tinyqat.capture import to_artifact
    from tinyqat.lower import lower
    from tinyqat.qat import prepare_qat

    torch.manual_seed(1)
    gm = prepare_qat(make(), (torch.randn(1, *shape),))
    gm.train()
    for _ in range(3):
        gm(torch.randn(16, *shape))
    graph = lower(to_artifact(gm.eval()))
    x = torch.randn(128, *shape)
    y_int = simulate(graph, quantize_input(graph, x)).astype(np.float64)
    with torch.no_grad():
        y_fq = gm(x).numpy()
    q = graph.tensor(graph.output).qparams
    return np.round(y_fq / np.float32(q.scale)) + q.zero_point, y_int
