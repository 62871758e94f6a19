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


def naive_conv(op: ir.Conv2d, x: np.ndarray, zp_in: int, zp_out: int, out_shape: tuple[int, int, int]) -> np.ndarray:
    n, h, w, c_in = x.shape
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
                                for i in range(c_in):
                                    acc += int(op.weights[c, ky, kx, i]) * (int(x[b, iy, ix, i]) - zp_in)
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
