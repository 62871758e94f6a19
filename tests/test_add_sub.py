"""Broadcast add and tensor - tensor subtraction on the add machinery (issue 12): TFLite int8 ADD with a
per-channel ``(1, 1, C)`` second operand, and TFLite int8 SUB (``x1 - x2``, same shape or per-channel, and
``g - x``: SUB whose first operand is the broadcast one, ``ir.Add.reverse``, C ``subtract = 2``).

* The simulator kernel is its formula (:class:`tinyqat.ir.Add`) element by element.
* Randomized graphs (maps plus their global-average per-channel operand, added and subtracted; same-shape
  subtractions; zero points at -128 / 127; -128 / 127 inputs) equal the simulator layer by layer on the host
  and under QEMU on Cortex-M4 / M7 (the DSP add), Cortex-M0+ / M33 and the M55 (Helium); TFLite Micro and
  LiteRT compute the
  same integers for the exported ADD / SUB.
* ``tq_add_s8`` runs in place over input1 with a broadcast operand.
* A QAT model with ``x + g``, ``g + x``, ``x - g``, ``g - x``, ``x - y`` and ``torch.sub`` (g of shape
  (N, C, 1, 1)) prepares, trains, saves, builds and verifies bit-exact (host, ASan/UBSan, QEMU), and its QAT
  forward is the integer model; a spatial broadcast is refused in one line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import runtime_graphs as rg
import torch
from conftest import require_tool
from test_export_tflite import _interpreters, check_litert, check_tflm, edge_inputs
from torch import nn

import tinyqat
from tinyqat import fixedpoint, ir
from tinyqat.codegen import emit
from tinyqat.codegen.arrays import const_arrays
from tinyqat.errors import UnsupportedOpError
from tinyqat.export.tflite import to_tflite
from tinyqat.models import short_qat_artifact
from tinyqat.qat import prepare_qat
from tinyqat.sim.kernels import add as sim_add


def _tensor(rng: np.random.Generator, name: str, shape: tuple[int, ...]) -> ir.Tensor:
    q = rg.random_qparams(rng)
    if rng.random() < 0.35:
        q = ir.QParams(q.scale, int(rng.choice([-128, 127])))
    return ir.Tensor(name, shape, q)


def _graph(rng: np.random.Generator) -> ir.Graph:
    """x (H, W, C) -> g = global average (1, 1, C); x + g, x - g, g - x, x - x', (x - g) + x (in place over a
    dying map)."""
    h, w, c = (int(v) for v in rng.integers(1, 7, 3))
    x = _tensor(rng, "x", (h, w, c))
    pool = rg.avg_pool("g", x, (h, w), (h, w), (0, 0), False, True)
    g = pool[1]
    lut = rg.lookup(rng, "x2", x)
    steps = [pool, lut, rg.add(rng, "bcast_add", x, g, subtract=False), rg.add(rng, "bcast_sub", x, g, subtract=True),
             rg.add(rng, "sub", x, lut[1], subtract=True), rg.add(rng, "self_sub", x, x, subtract=True),
             rg.add(rng, "bcast_rsub", x, g, reverse=True)]
    steps.append(rg.add(rng, "last", steps[3][1], x, subtract=bool(rng.random() < 0.5)))
    return rg.chain(x, steps)


def test_kernel_is_its_formula() -> None:
    for seed in range(4):
        rng = np.random.default_rng(seed)
        graph = _graph(rng)
        x = rg.random_input(rng, graph, 2)
        layers = rg.reference_layers(graph, x)
        values = {"x": x, **{op.output: layers[k] for k, op in enumerate(graph.ops)}}
        for op in (o for o in graph.ops if isinstance(o, ir.Add)):
            (a, b), (ta, tb) = [values[n] for n in op.inputs], [graph.tensor(n) for n in op.inputs]
            y_t = graph.tensor(op.output)
            b = np.broadcast_to(b, a.shape)
            for i in np.ndindex(a.shape):
                sa = fixedpoint.mbqm((int(a[i]) - ta.qparams.zero_point) << 20, op.multiplier1, op.shift1)
                sb = fixedpoint.mbqm((int(b[i]) - tb.qparams.zero_point) << 20, op.multiplier2, op.shift2)
                total = (sb - sa if op.reverse else sa - sb) if op.subtract else sa + sb
                want = min(op.act_max, max(op.act_min, int(fixedpoint.mbqm(total, op.output_multiplier,
                                                                           op.output_shift)) + y_t.qparams.zero_point))
                assert values[op.output][i] == want, (op.name, i)
            assert np.array_equal(sim_add(op, [values[n] for n in op.inputs], [ta, tb], y_t), values[op.output])


@pytest.mark.parametrize("seed", range(3))
def test_graphs_on_the_host(seed: int, tmp_path: Path, gcc: str) -> None:
    rng = np.random.default_rng(200 + seed)
    graph = _graph(rng)
    lib = rg.build(graph, tmp_path)
    rg.assert_bit_exact(lib, graph, rg.random_input(rng, graph, 4))


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m0plus", "cortex-m7", "cortex-m33", "cortex-m55"])
def test_graphs_under_qemu(board: str, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    rng = np.random.default_rng(17)
    rg.assert_emulated_bit_exact((_graph(rng), _graph(rng)), board, tmp_path, lambda g: rg.random_input(rng, g, 3))


def test_broadcast_add_in_place(tmp_path: Path, gcc: str) -> None:
    """output == input1 with a (1, 1, C) input2, add, sub and reversed sub."""
    ffi, lib = rg.runtime_library(tmp_path, ["tq_add_s8.c"])
    rng = np.random.default_rng(5)
    for subtract, reverse in ((False, False), (True, False), (True, True)):
        x = _tensor(rng, "x", (3, 4, 5))
        pool = rg.avg_pool("g", x, (3, 4), (3, 4), (0, 0), False, True)
        g = pool[1]
        graph = rg.chain(x, [pool, rg.add(rng, "y", x, g, subtract=subtract, reverse=reverse)])
        op = graph.ops[1]
        data = rg.random_input(rng, graph, 1)
        gate = rng.integers(-128, 128, 5).astype(np.int8)
        want = sim_add(op, [data[0].astype(np.int64), gate.reshape(1, 1, 5)], [x, g], graph.tensor("y"))
        params = ffi.new("tq_add_s8_params *", dict(emit.scalar_fields(op, graph)))
        assert not const_arrays(op, graph)
        buf = data[0].reshape(-1).copy()
        ptr = ffi.from_buffer("int8_t[]", buf)
        lib.tq_add_s8(params, ptr, ffi.from_buffer("int8_t[]", gate), ptr)
        np.testing.assert_array_equal(buf, want.reshape(-1))


def test_exported_add_and_sub_bit_exact_in_tflm_and_litert() -> None:
    _interpreters()
    for seed in range(4):
        rng = np.random.default_rng(seed)
        graph = _graph(rng)
        data = to_tflite(graph)
        x = edge_inputs(rng, graph)
        check_tflm(graph, data, x)
        check_litert(graph, data, x)


# --- a whole model ---------------------------------------------------------------------------------------------


class AddSubNet(nn.Module):
    """Per-channel (N, C, 1, 1) operands added and subtracted, and tensor - tensor subtractions."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, padding=1)
        self.c2 = nn.Conv2d(6, 6, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6 * 5 * 5, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.c1(x))
        g = self.pool(x)
        y = x - g  # centre each channel
        y = g + torch.relu(y)  # the per-channel operand first: swapped
        y = torch.sub(self.c2(y), y)
        y = (y - x.sigmoid()).relu() + self.pool(y)
        y = self.pool(y) - y  # the per-channel operand first: SUB(g, y)
        return self.fc(y.flatten(1))


@pytest.fixture(scope="module")
def addsub_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    return short_qat_artifact(AddSubNet(), (3, 5, 5), tmp_path_factory.mktemp("addsub") / "model.pt", steps=4)


def test_model_builds_and_verifies(addsub_artifact: Path, tmp_path: Path, gcc: str) -> None:
    graph = tinyqat.build(addsub_artifact, tmp_path / "host").graph
    adds = [op for op in graph.ops if isinstance(op, ir.Add)]
    assert sum(op.subtract for op in adds) == 4 and len(adds) == 6 and sum(op.reverse for op in adds) == 1
    assert sum(graph.tensor(op.inputs[1]).shape == (1, 1, 6) for op in adds) == 4
    report = tinyqat.verify(tmp_path / "host", n_random=8)
    assert report.mismatch is None and report.layers == len(graph.ops)
    assert tinyqat.verify(tmp_path / "host", n_random=2, sanitize=True).mismatch is None


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m0plus"])
def test_model_under_qemu(board: str, addsub_artifact: Path, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    tinyqat.build(addsub_artifact, tmp_path / board, board=board)
    assert tinyqat.verify(tmp_path / board, n_random=3, emulate=True).mismatch is None


def test_model_qat_forward_is_the_integer_model() -> None:
    y_fq, y_int = rg.qat_vs_integer(AddSubNet, (3, 5, 5))
    diff = np.abs(y_fq - y_int)
    assert (diff == 0).mean() >= 0.999, f"max {diff.max()}, exactly equal {(diff == 0).mean():.4f}"


@pytest.mark.parametrize(("forward", "needle"), [
    (lambda m, x: m.c1(x) + m.c1(x)[:, :1], "per-channel (N, C, 1, 1)"),
    (lambda m, x: m.c1(x) / m.c1(x), "div of two tensors"),
    (lambda m, x: m.c1(x) + m.scale, "nn.Conv2d(C, C, 1, groups=C)"),
], ids=["spatial-broadcast", "tensor-div", "constant-per-channel-offset"])
def test_unsupported_forms_one_line(forward, needle: str) -> None:
    class Net(AddSubNet):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.ones(1, 6, 1, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return forward(self, x)

    with pytest.raises(UnsupportedOpError) as info:
        prepare_qat(Net(), (torch.randn(2, 3, 5, 5),))
    message = str(info.value)
    assert "\n" not in message and needle in message and "test_add_sub.py" in message, message
