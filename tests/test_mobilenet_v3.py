"""The MobileNetV3-small style network (:func:`tinyqat.models.mobilenet_v3_small`): hardswish, squeeze-
excitation gates with hardsigmoid, 96x96 input; counts, tracing, and the whole pipeline (short QAT,
build for cortex-m4 within its 512 KiB flash / 128 KiB RAM, bit-exact on the host and under QEMU)."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.fx
from conftest import require_tool

import tinyqat
from tinyqat import ir
from tinyqat.codegen.stats import total_macs
from tinyqat.models import count_macs, count_params, mobilenet_v3_small, short_qat_artifact

SHAPE = (3, 96, 96)


def test_counts_and_forward() -> None:
    model = mobilenet_v3_small()
    assert (count_params(model), count_macs(model, SHAPE)) == (327_722, 3_533_040)
    x = torch.randn(2, *SHAPE)
    assert model(x).shape == (2, 2)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(torch.fx.symbolic_trace(model)(x), model(x))


def test_builds_for_cortex_m4_and_is_bit_exact_under_qemu(tmp_path: Path) -> None:
    require_tool("gcc", "gcc")
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    torch.manual_seed(0)
    path = short_qat_artifact(mobilenet_v3_small(), SHAPE, tmp_path / "model.pt", seed=0, steps=2, batch=4)
    result = tinyqat.build(path, tmp_path / "out", board="cortex-m4")  # refuses a model that does not fit
    graph = result.graph
    assert total_macs(graph) == count_macs(mobilenet_v3_small(), SHAPE)
    gates = [op for op in graph.ops if isinstance(op, ir.Mul)]
    assert len(gates) == 9 and all(graph.tensor(op.inputs[1]).shape[:2] == (1, 1) for op in gates)
    functions = {op.function for op in graph.ops if isinstance(op, ir.Lookup)}
    assert functions == {"hardswish", "hardsigmoid"}
    assert tinyqat.verify(tmp_path / "out", n_random=1).mismatch is None
    assert tinyqat.verify(tmp_path / "out", n_random=1, emulate=True).mismatch is None
