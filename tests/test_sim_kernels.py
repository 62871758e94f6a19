"""The vectorized simulator kernels against naive loop implementations of the same formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tinyqat import ir
from tinyqat.fixedpoint import mbqm, quantize_multiplier
from tinyqat.sim import kernels


def requant_scalar(acc: int, q: int, shift: int, zp: int, lo: int, hi: int) -> int:
    return int(np.clip(int(mbqm(np.array([acc]), np.array([q]), np.array([shift]))[0]) + zp, lo, hi))


def _tap(op: ir.Conv2d | ir.DepthwiseConv2d, pixel: np.ndarray, c: int, ky: int, kx: int, zp_in: int) -> int:
    """Contribution of one in-bounds window position to output channel ``c`` (formulas in ir.py)."""
    if isinstance(op, ir.DepthwiseConv2d):
        return int(op.weights[ky, kx, c]) * (int(pixel[c // op.depth_multiplier]) - zp_in)
    return sum(int(op.weights[c, ky, kx, i]) * (int(pixel[i]) - zp_in) for i in range(pixel.size))


def naive_conv(op: ir.Conv2d | ir.DepthwiseConv2d, x: np.ndarray, zp_in: int, zp_out: int,
               out_shape: tuple[int, int, int]) -> np.ndarray:
    """Loop-by-loop (depthwise) convolution over in-bounds taps only, then the scalar requant."""
    n, h, w, _ = x.shape
    oh, ow, oc = out_shape
    kh, kw = op.kernel
    pt, pl, _, _ = op.padding
    y = np.zeros((n, oh, ow, oc), dtype=np.int8)
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                for c in range(oc):
                    acc = int(op.bias[c])
                    for ky in range(kh):
                        for kx in range(kw):
                            iy, ix = oy * op.stride[0] - pt + ky, ox * op.stride[1] - pl + kx
                            if 0 <= iy < h and 0 <= ix < w:
                                acc += _tap(op, x[b, iy, ix], c, ky, kx, zp_in)
                    y[b, oy, ox, c] = requant_scalar(acc, int(op.multiplier[c]), int(op.shift[c]), zp_out,
                                                     op.act_min, op.act_max)
    return y


def random_requant(rng: np.random.Generator, oc: int) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(float(m)) for m in 10.0 ** rng.uniform(-4, 0.5, oc)]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def random_input(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    x = rng.integers(-128, 128, shape).astype(np.int8)
    x.reshape(-1)[:: max(1, x.size // 5)] = 127  # saturating values
    x.reshape(-1)[1 :: max(1, x.size // 5)] = -128
    return x


@pytest.mark.parametrize("seed", range(12))
def test_conv2d_matches_naive(seed: int) -> None:
    rng = np.random.default_rng(seed)
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    pads = tuple(int(v) for v in rng.integers(0, [kh, kw, kh, kw]))  # up to kernel - 1
    h, w = int(rng.integers(kh, 9)), int(rng.integers(kw, 9))
    c_in, oc = int(rng.choice([1, 2, 3, 5])), int(rng.choice([1, 2, 4, 7]))
    zp_in, zp_out = int(rng.choice([-128, 127, 0, rng.integers(-128, 128)])), int(rng.choice([-128, 127, 3]))
    q, s = random_requant(rng, oc)
    act_min, act_max = (int(zp_out), 127) if seed % 2 else (-128, 127)
    op = ir.Conv2d("c", "x", "y", rng.integers(-127, 128, (oc, kh, kw, c_in)), rng.integers(-3000, 3000, oc), q, s,
                   (sh, sw), pads, act_min, act_max)
    oh = ir.conv_output_size(h, kh, sh, pads[0], pads[2])
    ow = ir.conv_output_size(w, kw, sw, pads[1], pads[3])
    x = random_input(rng, (2, h, w, c_in))
    in_t = ir.Tensor("x", (h, w, c_in), ir.QParams(0.1, zp_in))
    out_t = ir.Tensor("y", (oh, ow, oc), ir.QParams(0.1, zp_out))
    got = kernels.conv2d(op, [x], [in_t], out_t)
    np.testing.assert_array_equal(got, naive_conv(op, x, zp_in, zp_out, (oh, ow, oc)))


@pytest.mark.parametrize("seed", range(6))
def test_fully_connected_matches_naive(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    f, oc = int(rng.integers(1, 40)), int(rng.integers(1, 12))
    zp_in, zp_out = int(rng.choice([-128, 127, -5])), int(rng.choice([-128, 127, 9]))
    q, s = random_requant(rng, oc)
    op = ir.FullyConnected("f", "x", "y", rng.integers(-127, 128, (oc, f)), rng.integers(-10**5, 10**5, oc), q, s,
                           -128, 127)
    x = random_input(rng, (3, f))
    got = kernels.fully_connected(op, [x], [ir.Tensor("x", (f,), ir.QParams(1.0, zp_in))],
                                  ir.Tensor("y", (oc,), ir.QParams(1.0, zp_out)))
    for b in range(3):
        for c in range(oc):
            acc = int(op.bias[c]) + sum(int(op.weights[c, i]) * (int(x[b, i]) - zp_in) for i in range(f))
            assert got[b, c] == requant_scalar(acc, int(q[c]), int(s[c]), zp_out, -128, 127)


@pytest.mark.parametrize("seed", range(10))
def test_max_pool_matches_naive(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    sh, sw = (int(v) for v in rng.integers(1, 5, 2))  # stride may exceed kernel
    ph, pw = int(rng.integers(0, kh // 2 + 1)), int(rng.integers(0, kw // 2 + 1))
    h, w, c = int(rng.integers(kh, 10)), int(rng.integers(kw, 10)), int(rng.integers(1, 4))
    ceil = bool(seed % 2)
    op = ir.MaxPool2d("p", "x", "y", (kh, kw), (sh, sw), (ph, pw, ph, pw), ceil)
    oh, ow = ir.pool_output_size(h, kh, sh, ph, ceil), ir.pool_output_size(w, kw, sw, pw, ceil)
    x = random_input(rng, (2, h, w, c))
    q = ir.QParams(1.0, 0)
    got = kernels.max_pool2d(op, [x], [ir.Tensor("x", (h, w, c), q)], ir.Tensor("y", (oh, ow, c), q))
    for oy in range(oh):
        for ox in range(ow):
            ys = slice(max(0, oy * sh - ph), min(h, oy * sh - ph + kh))
            xs = slice(max(0, ox * sw - pw), min(w, ox * sw - pw + kw))
            np.testing.assert_array_equal(got[:, oy, ox, :], x[:, ys, xs, :].max(axis=(1, 2)))


def test_max_pool_matches_torch() -> None:
    rng = np.random.default_rng(5)
    x = random_input(rng, (2, 7, 9, 3))
    for ceil in (False, True):
        op = ir.MaxPool2d("p", "x", "y", (3, 2), (2, 3), (1, 1, 1, 1), ceil)
        want = torch.nn.functional.max_pool2d(torch.from_numpy(x.astype(np.float32)).permute(0, 3, 1, 2), (3, 2),
                                              (2, 3), (1, 1), ceil_mode=ceil).permute(0, 2, 3, 1).numpy()
        q = ir.QParams(1.0, 0)
        got = kernels.max_pool2d(op, [x], [ir.Tensor("x", (7, 9, 3), q)], ir.Tensor("y", want.shape[1:], q))
        np.testing.assert_array_equal(got, want.astype(np.int8))


def test_clamp() -> None:
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, -1)
    op = ir.Clamp("r", "x", "y", -5, 100)
    t = ir.Tensor("x", (256,), ir.QParams(1.0, -5))
    np.testing.assert_array_equal(kernels.clamp(op, [x], [t], t), np.clip(x, -5, 100))


@pytest.mark.parametrize("seed", range(8))
def test_depthwise_matches_naive(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    pads = tuple(int(v) for v in rng.integers(0, [kh, kw, kh, kw]))
    h, w, c_in, m = int(rng.integers(kh, 9)), int(rng.integers(kw, 9)), int(rng.integers(1, 5)), 1 + seed % 2
    oc = c_in * m
    zp_in, zp_out = int(rng.choice([-128, 127, 4])), int(rng.choice([-128, 127, -7]))
    q, s = random_requant(rng, oc)
    op = ir.DepthwiseConv2d("d", "x", "y", rng.integers(-127, 128, (kh, kw, oc)), rng.integers(-3000, 3000, oc), q,
                            s, (sh, sw), pads, m, -128, 127)
    oh = ir.conv_output_size(h, kh, sh, pads[0], pads[2])
    ow = ir.conv_output_size(w, kw, sw, pads[1], pads[3])
    x = random_input(rng, (2, h, w, c_in))
    got = kernels.depthwise_conv2d(op, [x], [ir.Tensor("x", (h, w, c_in), ir.QParams(0.1, zp_in))],
                                   ir.Tensor("y", (oh, ow, oc), ir.QParams(0.1, zp_out)))
    np.testing.assert_array_equal(got, naive_conv(op, x, zp_in, zp_out, (oh, ow, oc)))


@pytest.mark.parametrize("seed", range(12))
def test_avg_pool_matches_torch(seed: int) -> None:
    """PyTorch's AvgPool2d on (x - zp) in float64, shifted back and rounded half away from zero."""
    rng = np.random.default_rng(400 + seed)
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    sh, sw = (int(v) for v in rng.integers(1, 5, 2))
    ph, pw = int(rng.integers(0, kh // 2 + 1)), int(rng.integers(0, kw // 2 + 1))
    h, w, c = int(rng.integers(kh, 10)), int(rng.integers(kw, 10)), int(rng.integers(1, 4))
    ceil, include = bool(seed % 2), bool(seed % 3)
    zp = int(rng.choice([-128, 127, 5]))
    x = random_input(rng, (2, h, w, c))
    centered = torch.from_numpy(x.astype(np.float64) - zp).permute(0, 3, 1, 2)
    ref = torch.nn.functional.avg_pool2d(centered, (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil,
                                         count_include_pad=include).permute(0, 2, 3, 1).numpy() + zp
    want = np.clip(np.sign(ref) * np.floor(np.abs(ref) + 0.5), -128, 127)
    op = ir.AvgPool2d("p", "x", "y", (kh, kw), (sh, sw), (ph, pw, ph, pw), ceil, include)
    q = ir.QParams(1.0, zp)
    got = kernels.avg_pool2d(op, [x], [ir.Tensor("x", (h, w, c), q)], ir.Tensor("y", want.shape[1:], q))
    np.testing.assert_array_equal(got, want.astype(np.int8))


def _real(x: np.ndarray, q: ir.QParams) -> np.ndarray:
    return q.scale * (x.astype(np.float64) - q.zero_point)


def test_add_matches_float_within_one_lsb() -> None:
    from tinyqat.passes.quantize import quantize_add

    rng = np.random.default_rng(9)
    for _ in range(20):
        qs = [ir.QParams(float(np.float32(10 ** rng.uniform(-3, 0))), int(rng.integers(-128, 128))) for _ in range(3)]
        ts = [ir.Tensor(n, (3, 4, 5), q) for n, q in zip("aby", qs)]
        graph = ir.Graph(tuple(ts), (), "a", "a", (5, 3, 4), (5, 3, 4))
        op = quantize_add(ir.FloatAdd("add", ("a", "b"), "y", ir.NO_ACTIVATION), graph)
        xa, xb = random_input(rng, (4, 3, 4, 5)), random_input(rng, (4, 3, 4, 5))
        got = kernels.add(op, [xa, xb], ts[:2], ts[2]).astype(np.float64)
        exact = np.clip((_real(xa, qs[0]) + _real(xb, qs[1])) / qs[2].scale + qs[2].zero_point, -128, 127)
        assert np.abs(got - exact).max() <= 0.5 + 1e-6 + 0.5  # rounding of the real result, plus one LSB


def test_concat_requantizes_each_input() -> None:
    from tinyqat.passes.quantize import quantize_concat

    rng = np.random.default_rng(10)
    qs = [ir.QParams(0.05, -3), ir.QParams(0.1, 0), ir.QParams(0.1, 0)]
    ts = [ir.Tensor("a", (2, 2, 3), qs[0]), ir.Tensor("b", (2, 2, 1), qs[1]), ir.Tensor("y", (2, 2, 4), qs[2])]
    graph = ir.Graph(tuple(ts), (), "a", "a", (3, 2, 2), (3, 2, 2))
    op = quantize_concat(ir.FloatConcat("cat", ("a", "b"), "y"), graph)
    xa, xb = random_input(rng, (3, 2, 2, 3)), random_input(rng, (3, 2, 2, 1))
    got = kernels.concat(op, [xa, xb], ts[:2], ts[2])
    np.testing.assert_array_equal(got[..., 3:], xb)  # same quantization: copied exactly
    exact = np.clip(_real(xa, qs[0]) / 0.1, -128, 127)
    assert np.abs(got[..., :3] - exact).max() <= 0.5 + 1e-9


@pytest.mark.parametrize("function", ["sigmoid", "tanh", "hardswish"])
def test_lookup_tables_match_float(function: str) -> None:
    from tinyqat.passes.quantize import quantize_lookup
    from tinyqat.quant import LUT_FUNCTIONS

    x_q, y_q = ir.QParams(0.05, 10), ir.QParams(1 / 256, -128)
    ts = (ir.Tensor("x", (256,), x_q), ir.Tensor("y", (256,), y_q))
    op = quantize_lookup(ir.FloatLookup("f", "x", "y", function), ir.Graph(ts, (), "x", "x", (256,), (256,)))
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, -1)
    got = kernels.lookup(op, [x], [ts[0]], ts[1])
    want = np.clip(LUT_FUNCTIONS[function](_real(x, x_q)) / y_q.scale + y_q.zero_point, -128, 127)
    assert np.abs(got - want).max() <= 0.5 + 1e-9


def test_softmax_close_to_float_and_sums_to_one() -> None:
    from tinyqat.passes.quantize import quantize_softmax

    rng = np.random.default_rng(11)
    x_q = ir.QParams(0.1, -20)
    ts = (ir.Tensor("x", (10,), x_q), ir.Tensor("y", (10,), ir.SOFTMAX_QPARAMS))
    op = quantize_softmax(ir.FloatSoftmax("s", "x", "y"), ir.Graph(ts, (), "x", "x", (10,), (10,)))
    x = random_input(rng, (200, 10))
    got = kernels.softmax(op, [x], [ts[0]], ts[1]).astype(np.float64)
    real = _real(x, x_q)
    p = np.exp(real - real.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    want = np.clip(p * 256 - 128, -128, 127)
    assert np.abs(got - want).max() <= 1.0
    assert np.abs((got + 128).sum(axis=1) - 256).max() <= 10
