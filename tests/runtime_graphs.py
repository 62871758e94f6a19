"""Random integer graphs for runtime, planner and codegen tests, and helpers to build and compare them.

The reference is the integer simulator (:mod:`tinyqat.sim`), the one spec of every op.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyqat import fixedpoint, ir
from tinyqat.codegen.emit import emit_package
from tinyqat.memory.planner import GreedyPlanner, Planner
from tinyqat.sim import interpreter
from tinyqat.toolchain import host
from tinyqat.toolchain.boards import load_board

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


def chain(x: ir.Tensor, steps: list[tuple[ir.IntOp, ir.Tensor]]) -> ir.Graph:
    """A validated straight-line graph from ``x`` through ``steps``."""
    y = steps[-1][1]
    graph = ir.Graph((x, *(t for _, t in steps)), tuple(op for op, _ in steps), x.name, y.name,
                     ir.torch_shape(x.shape), ir.torch_shape(y.shape))
    return ir.validate(graph)


KINDS = ("conv2d", "fully_connected", "max_pool2d", "clamp")


def random_op(rng: np.random.Generator, kind: str, name: str, x: ir.Tensor) -> tuple[ir.IntOp, ir.Tensor]:
    """One random op of ``kind`` reading ``x``: odd kernels, strides and (asymmetric) paddings."""
    h, w, _ = x.shape
    if kind == "conv2d":
        kh, kw = (int(v) for v in rng.integers(1, 5, 2))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        padding = tuple(int(v) for v in rng.integers(0, 4, 4))
        if h + padding[0] + padding[2] < kh or w + padding[1] + padding[3] < kw:
            padding = (kh, kw, kh, kw)  # windows made of padding only: acc = bias
        return conv(rng, name, x, int(rng.integers(1, 6)), (kh, kw), stride, padding)
    if kind == "fully_connected":
        return fully_connected(rng, name, x, int(rng.integers(1, 12)))
    if kind == "max_pool2d":
        kh, kw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        pad = (int(rng.integers(0, kh // 2 + 1)), int(rng.integers(0, kw // 2 + 1)))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        return max_pool(name, x, (kh, kw), stride, pad, bool(rng.random() < 0.5))
    return clamp(rng, name, x)


def fan_out_graph(rng: np.random.Generator, n_ops: int) -> ir.Graph:
    """``n_ops`` independent random ops (every kind, in turn) all reading one odd-shaped input.

    One compiled package then tests many kernel configurations; each layer's output is
    compared on its own.
    """
    x = ir.Tensor("x", tuple(int(v) for v in rng.integers(1, 8, 3)), random_qparams(rng))
    return chain(x, [random_op(rng, KINDS[k % len(KINDS)], f"y{k}", x) for k in range(n_ops)])


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


def random_input(rng: np.random.Generator, graph: ir.Graph, n: int) -> np.ndarray:
    """``n`` random int8 samples for ``graph``'s input, edge values included."""
    x = rng.integers(-128, 128, (n, *graph.tensor(graph.input).shape)).astype(np.int8)
    x.reshape(n, -1)[:, :2] = (-128, 127) if x[0].size >= 2 else -128
    return x


def reference_layers(graph: ir.Graph, x: np.ndarray) -> list[np.ndarray]:
    """Every op's output for int8 batch ``x`` (N, *input shape), in op order, from the simulator."""
    values = interpreter.run_layers(graph, x)
    return [values[op.output] for op in graph.ops]


# ---------------------------------------------------------------- build and compare


def emit(graph: ir.Graph, out_dir: Path, name: str = "net", board: str = "host",
         planner: Planner | None = None) -> Path:
    """Emit ``graph`` (greedy plan unless ``planner``) into the new directory ``out_dir``."""
    out_dir.mkdir(parents=True)
    plan = (planner or GreedyPlanner()).plan(graph)
    emit_package(graph, plan, load_board(board), name, out_dir, b"test artifact", GENERATOR)
    return out_dir


def build(graph: ir.Graph, tmp: Path, name: str = "net") -> host.ModelLib:
    """Emit ``graph`` under ``tmp``, compile it with the strict flags and load it."""
    out_dir = emit(graph, tmp / f"pkg_{name}", name)
    return host.load_model(host.compile_shared(out_dir, tmp / f"build_{name}"), name)


def first_mismatch(lib: host.ModelLib, graph: ir.Graph, x: np.ndarray) -> str | None:
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
