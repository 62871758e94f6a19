"""The integer model in PyTorch equals the simulator on every op, every tensor, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import runtime_graphs as rg
import torch
from devices import DEVICE

import tinyqat
from tinyqat.models import mnist_cnn, short_qat_artifact
from tinyqat.requant import mbqm
from tinyqat.sim import interpreter
from tinyqat.sim.torch_model import IntegerModel


def _assert_layers_equal(graph, x: np.ndarray) -> None:
    want = interpreter.run_layers(graph, x)
    got = IntegerModel(graph).to(DEVICE).run_layers(torch.from_numpy(x))
    for op in graph.ops:
        g = got[op.output]
        assert g.device.type == DEVICE.type
        np.testing.assert_array_equal(g.cpu().numpy(), want[op.output], err_msg=f"{type(op).__name__} {op.name}")


@pytest.mark.parametrize("seed", range(12))
def test_every_op_equals_the_simulator(seed: int) -> None:
    """Random graphs of every kind (rg.KINDS: conv, fc, pools, clamp, depthwise, add, concat, lookup,
    softmax) with extreme inputs, zero points at the ends, strides and paddings; residual and separable
    models; 4-bit layers."""
    rng = np.random.default_rng(seed)
    graphs = [rg.fan_out_graph(rng, 2 * len(rg.KINDS)), rg.random_model(rng), rg.residual_model(rng),
              rg.separable_model(rng)]
    graphs.append(rg.to_int4(graphs[1], rng))
    for graph in graphs:
        _assert_layers_equal(graph, rg.random_input(rng, graph, 5))


def test_mbqm_edges_equal_fixedpoint() -> None:
    from tinyqat.fixedpoint import INT32_MAX, INT32_MIN
    from tinyqat.fixedpoint import mbqm as np_mbqm

    rng = np.random.default_rng(0)
    edges = np.array([INT32_MIN, INT32_MIN + 1, -(2**30), -1, 0, 1, 2**30, INT32_MAX], np.int64)
    x = np.concatenate([np.repeat(edges, 8), rng.integers(INT32_MIN, INT32_MAX, 4000, endpoint=True)])
    q = np.concatenate([np.tile(edges.clip(0), 8), rng.integers(0, INT32_MAX, 4000, endpoint=True)])
    shift = rng.integers(-31, 31, x.size)
    got = mbqm(torch.from_numpy(x).to(DEVICE), torch.from_numpy(q).to(DEVICE), torch.from_numpy(shift).to(DEVICE))
    np.testing.assert_array_equal(got.cpu().numpy(), np_mbqm(x, q, shift))


def test_integer_model_of_a_qat_module_is_the_saved_model(tmp_path) -> None:
    """``tinyqat.integer_model(qat)`` (captured in memory, on the model's device) computes what the
    artifact ``save`` writes simulates, on float inputs quantized on the device."""
    torch.manual_seed(0)
    path = short_qat_artifact(mnist_cnn(), (1, 28, 28), tmp_path / "m.pt")
    graph = tinyqat.load(path)
    x = torch.rand(16, 1, 28, 28)
    x_q = tinyqat.quantize_input(graph, x.numpy())
    im = tinyqat.integer_model(path).to(DEVICE)
    assert torch.equal(tinyqat.quantize_input_torch(im, x.to(DEVICE)).cpu(), torch.from_numpy(x_q))
    np.testing.assert_array_equal(im(torch.from_numpy(x_q).to(DEVICE)).cpu().numpy(), tinyqat.simulate(graph, x_q))
    qat = tinyqat.prepare_qat(mnist_cnn(), (x[:1],))
    qat.train()
    qat(x)
    qat.eval()
    in_memory = tinyqat.integer_model(qat.to(DEVICE))
    tinyqat.save(qat.cpu(), tmp_path / "q.pt")
    x_q = tinyqat.quantize_input(tmp_path / "q.pt", x.numpy())
    want = tinyqat.simulate(tmp_path / "q.pt", x_q)
    np.testing.assert_array_equal(in_memory(torch.from_numpy(x_q)).cpu().numpy(), want)


def test_requant_twins_equal_fixedpoint() -> None:
    """``requant.quantize_multipliers`` equals ``fixedpoint.quantize_multiplier`` (zero, flush below 2**-32, the
    2**31 carry, saturation above 2**30, random ratios) and ``mbqm_nonnegative`` equals ``fixedpoint.mbqm`` for
    every non-negative multiplier (left and right shifts, int32 extremes), on DEVICE."""
    from tinyqat import fixedpoint, requant

    rng = np.random.default_rng(1)
    ratios = [0.0, 2.0**-40, 2.0**-32, 2.0**-31.5, 2.0**-31, 0.5, 1 - 2.0**-33, 1 - 2.0**-40, 1.0, 2.0**29, 2.0**30,
              2.0**40, 2.0**-32 - 2.0**-64, 2.0**-32 - 2.0**-63, 2.0**-33, 2.0**30 - 2.0**-2, 2.0**30 - 2.0**-1,
              2.0**30 - 2.0**-1 - 2.0**-22, 2.0**30 - 2.0**-2 - 2.0**-22, 2.0**30 - 1,
              *rng.uniform(0, 4, 2000), *(10 ** rng.uniform(-12, 12, 2000)), *(2 ** rng.uniform(-33, -31, 500)),
              *(2 ** rng.uniform(29.9, 30.1, 500))]
    q, e = requant.quantize_multipliers(torch.tensor(ratios, dtype=torch.float64, device=DEVICE))
    assert list(zip(q.tolist(), e.tolist(), strict=True)) == [fixedpoint.quantize_multiplier(m) for m in ratios]
    edges = np.array([fixedpoint.INT32_MIN, fixedpoint.INT32_MIN + 1, -(2**30), -1, 0, 1, 2**30, fixedpoint.INT32_MAX])
    x = np.concatenate([np.repeat(edges, 8), rng.integers(-(2**31), 2**31, 6000), rng.integers(-5000, 5000, 6000)])
    mult = np.concatenate([np.tile(edges.clip(0), 8), rng.integers(0, 2**31, 12000)])
    shift = np.concatenate([np.tile(np.arange(-31, 1, 4), 8), rng.integers(-31, 31, 12000)])
    got = requant.mbqm_nonnegative(*(torch.from_numpy(v).to(DEVICE) for v in (x, mult, shift)))
    np.testing.assert_array_equal(got.cpu().numpy(), fixedpoint.mbqm(x, mult, shift))


def test_mbqm_float_equals_fixedpoint_within_its_bound() -> None:
    """``requant.mbqm_float`` equals ``fixedpoint.mbqm`` wherever ``|acc| + |bias| <= x_max`` of
    ``requant.float_multipliers``: random and tie-dense multipliers (``q`` with many trailing zeros: exact halves at
    both roundings), every shift, ``q = 0`` and the saturated ``(INT32_MAX, 30)``, values up to the bound and a
    bias the accumulator cancels, exhaustive small values, float32 and float64 accumulators."""
    from tinyqat import fixedpoint, requant

    rng = np.random.default_rng(2)
    n = 40000
    zeros = rng.integers(8, 31, n // 2)  # q = odd * 2**zeros in [2**30, 2**31)
    odd = rng.integers(2 ** (30 - zeros), 2 ** (31 - zeros)) | 1
    q = np.concatenate([rng.integers(2**30, 2**31, n // 2), odd << zeros])
    q[:64] = 2**30  # a power of two: a tie at every half step
    shift = rng.integers(-31, 31, n)
    q[64:96], shift[64:96] = 0, 0  # M = 0 (or below 2**-32)
    q[96:128], shift[96:128] = fixedpoint.INT32_MAX, 30  # M saturated
    small = np.arange(-3000, 3000)
    q = np.concatenate([q, np.full(small.size, 2**30), np.full(small.size, 3 * 2**29), np.full(small.size, 5 * 2**28)])
    shift = np.concatenate([shift, np.full(small.size, -3), np.full(small.size, -7), np.full(small.size, -1)])
    qt, st = (torch.from_numpy(v).to(DEVICE) for v in (q, shift))
    m, h, x_max = (v.cpu().numpy() for v in requant.float_multipliers(qt, st))
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(x_max, 2.0**51 / (q * 2.0 ** np.maximum(shift, 0)))
    bound = np.minimum(np.floor(x_max), fixedpoint.INT32_MAX)
    frac = np.concatenate([rng.uniform(-1, 1, n // 2), rng.choice([-1.0, 1.0], n // 4),
                           rng.uniform(-1e-3, 1e-3, n // 4)])
    x = np.concatenate([np.trunc(frac * bound[:n]).astype(np.int64), small, small, small])
    bias = np.trunc(x * rng.uniform(0, 1, x.size)).astype(np.int64)  # same sign: |acc| + |bias| = |x|
    cancel = slice(128, n // 8)  # a large bias that the accumulator cancels
    half = np.trunc(bound / 2).astype(np.int64)[cancel]
    bias[cancel] = half * rng.choice([-1, 1], half.size)
    x[cancel] = bias[cancel] - np.sign(bias[cancel]) * (half - rng.integers(0, 2**12, half.size)).clip(0)
    acc = x - bias
    assert np.all(np.abs(acc) + np.abs(bias) <= x_max)
    want = fixedpoint.mbqm(x, q, shift)
    m, h = torch.from_numpy(m).to(DEVICE), torch.from_numpy(h).to(DEVICE)
    acc64 = torch.from_numpy(acc).double().to(DEVICE)
    got = requant.mbqm_float(acc64, torch.from_numpy(bias).double().to(DEVICE), m, h)
    np.testing.assert_array_equal(got.cpu().numpy(), want)
    np.testing.assert_array_equal(acc64.cpu().numpy(), acc)  # the accumulator is not written
    narrow = np.abs(acc) < 2**24  # float32 accumulators (the QAT forward's usual case)
    got32 = requant.mbqm_float(torch.from_numpy(acc[narrow]).float().to(DEVICE),
                               torch.from_numpy(bias[narrow]).float().to(DEVICE), m[narrow], h[narrow])
    np.testing.assert_array_equal(got32.cpu().numpy(), want[narrow])
    clamped = requant.mbqm_float(acc64, torch.from_numpy(bias).double().to(DEVICE), m, h, negative=False)
    np.testing.assert_array_equal(clamped.clamp(min=0).cpu().numpy(), np.maximum(want, 0))
