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
              2.0**40, *rng.uniform(0, 4, 2000), *(10 ** rng.uniform(-12, 12, 2000))]
    q, e = requant.quantize_multipliers(torch.tensor(ratios, dtype=torch.float64, device=DEVICE))
    assert list(zip(q.tolist(), e.tolist(), strict=True)) == [fixedpoint.quantize_multiplier(m) for m in ratios]
    edges = np.array([fixedpoint.INT32_MIN, fixedpoint.INT32_MIN + 1, -(2**30), -1, 0, 1, 2**30, fixedpoint.INT32_MAX])
    x = np.concatenate([np.repeat(edges, 8), rng.integers(-(2**31), 2**31, 6000), rng.integers(-5000, 5000, 6000)])
    mult = np.concatenate([np.tile(edges.clip(0), 8), rng.integers(0, 2**31, 12000)])
    shift = np.concatenate([np.tile(np.arange(-31, 1, 4), 8), rng.integers(-31, 31, 12000)])
    got = requant.mbqm_nonnegative(*(torch.from_numpy(v).to(DEVICE) for v in (x, mult, shift)))
    np.testing.assert_array_equal(got.cpu().numpy(), fixedpoint.mbqm(x, mult, shift))
