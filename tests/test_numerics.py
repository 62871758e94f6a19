"""Numerics at the edges: each case is either handled exactly (simulator = C) or refused at build time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import require_tool

import tinyqat
import tinyqat.lower
import tinyqat.quant
from tinyqat.artifact import save_artifact
from tinyqat.errors import LoweringError


def artifact(conv_weight: torch.Tensor, fc_weight: torch.Tensor, *, conv_q: float = 0.05, fc_q: float = 0.1,
             bn_var: torch.Tensor | None = None, fc_zp: int = 3) -> dict[str, Any]:
    """A hand-made artifact: conv(3x3, pad 1)+BN+ReLU on a 1x6x6 input -> flatten -> linear."""
    out_c = conv_weight.shape[0]
    var = torch.ones(out_c) if bn_var is None else bn_var
    return {
        "format": "tinyqat.artifact", "version": 1, "producer": "test",
        "input": {"name": "x", "shape": [1, 6, 6], "scale": 0.02, "zero_point": -128},
        "output": "fc",
        "nodes": [
            {"name": "conv", "op": "conv2d", "module": "conv", "inputs": ["x"],
             "attrs": {"stride": [1, 1], "padding": [1, 1, 1, 1], "activation": "relu", "bn_eps": 1e-5},
             "params": {"weight": conv_weight, "bias": torch.zeros(out_c), "bn_weight": torch.ones(out_c),
                        "bn_bias": torch.full((out_c,), 0.1), "bn_mean": torch.zeros(out_c), "bn_var": var},
             "qparams": {"scale": conv_q, "zero_point": -128}},
            {"name": "flat", "op": "flatten", "module": "flat", "inputs": ["conv"], "attrs": {}, "params": {},
             "qparams": None},
            {"name": "fc", "op": "linear", "module": "fc", "inputs": ["flat"], "attrs": {"activation": "none"},
             "params": {"weight": fc_weight, "bias": torch.zeros(fc_weight.shape[0])},
             "qparams": {"scale": fc_q, "zero_point": fc_zp}},
        ],
    }


def weights(out_c: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(out_c, 1, 3, 3, generator=g), torch.randn(4, out_c * 36, generator=g) * 0.05


def build_verify(art: dict[str, Any], tmp_path: Path) -> None:
    require_tool("gcc", "gcc")
    save_artifact(art, tmp_path / "m.pt")
    tinyqat.build(tmp_path / "m.pt", tmp_path / "out", board="host")
    report = tinyqat.verify(tmp_path / "out", n_random=4)
    assert report.ok, report.mismatch


def test_nan_weight_is_refused_naming_the_layer() -> None:
    conv_w, fc_w = weights()
    conv_w[1, 0, 1, 1] = float("nan")
    with pytest.raises(LoweringError, match=r"layer 'conv'.*NaN"):
        tinyqat.lower.lower(artifact(conv_w, fc_w))


def test_inf_in_batchnorm_statistics_is_refused() -> None:
    conv_w, fc_w = weights()
    with pytest.raises(LoweringError, match=r"layer 'conv'.*BatchNorm var"):
        tinyqat.lower.lower(artifact(conv_w, fc_w, bn_var=torch.tensor([1.0, float("inf"), 1.0])))


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), 0.0, -1.0])
def test_bad_observed_range_is_refused(scale: float) -> None:
    conv_w, fc_w = weights()
    with pytest.raises(LoweringError, match="activation scale"):
        tinyqat.lower.lower(artifact(conv_w, fc_w, conv_q=scale))


def test_all_zero_channel_is_exact(tmp_path: Path) -> None:
    conv_w, fc_w = weights()
    conv_w[2] = 0.0
    graph = tinyqat.lower.lower(artifact(conv_w, fc_w))
    assert not graph.ops[0].weights[2].any()
    build_verify(artifact(conv_w, fc_w), tmp_path)


def test_tiny_effective_scale_flushes_to_zero_exactly(tmp_path: Path) -> None:
    conv_w, fc_w = weights()
    art = artifact(conv_w, fc_w, fc_q=1e30)
    assert tinyqat.lower.lower(art).ops[-1].multiplier.tolist() == [0, 0, 0, 0]
    build_verify(art, tmp_path)


def test_huge_effective_scale_is_refused() -> None:
    conv_w, fc_w = weights()
    with pytest.raises(LoweringError, match=r"layer 'fc'.*too large"):
        tinyqat.lower.lower(artifact(conv_w, fc_w, fc_q=1e-30))


def test_accumulator_overflow_is_refused() -> None:
    """Fan-in 36 * 70,000 with saturated weights: |acc| could exceed int32."""
    conv_w = torch.ones(70_000, 1, 3, 3)
    fc_w = torch.ones(1, 70_000 * 36)
    with pytest.raises(LoweringError, match=r"layer 'fc'.*accumulator"):
        tinyqat.lower.lower(artifact(conv_w, fc_w))


def test_constant_activation_from_training_is_exact(tmp_path: Path) -> None:
    """A conv that outputs 0 everywhere: its observed range is empty, scale falls back to 1.0."""
    require_tool("gcc", "gcc")
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(32, 3))
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.fill_(-1.0)
    qat = tinyqat.prepare_qat(model, example_inputs=(torch.randn(1, 1, 6, 6),))
    tinyqat.calibrate(qat, [torch.randn(8, 1, 6, 6)])
    tinyqat.save(qat, tmp_path / "m.pt")
    graph = tinyqat.load(tmp_path / "m.pt")
    assert graph.tensor(graph.ops[0].output).qparams.scale == 1.0
    tinyqat.build(tmp_path / "m.pt", tmp_path / "out", board="host")
    assert tinyqat.verify(tmp_path / "out", n_random=4).ok


def test_single_output_layer_uses_tflite_per_tensor_multiplier(tmp_path: Path) -> None:
    """A layer with one output channel has one weight scale, which TFLite treats as per-tensor:
    M = (double)(float)(s_in * s_w) / s_out, the product rounded to float32 first.  Scales are found
    where that and the per-channel (double) product give different multipliers, and the lowered
    layer must carry the float32-product one; a layer with two channels keeps the double product."""
    import numpy as np

    from tinyqat.fixedpoint import quantize_multiplier
    from tinyqat.requant import effective_multipliers

    def effective_scales(s_in: float, s_w: np.ndarray, s_out: float) -> list[float]:
        return effective_multipliers(torch.tensor(s_in, dtype=torch.float64), torch.from_numpy(s_w),
                                     torch.tensor(s_out, dtype=torch.float64)).tolist()

    rng = np.random.default_rng(3)
    for _ in range(100000):
        s_in, s_w, s_out = (float(np.float32(v)) for v in 10 ** rng.uniform(-4, -1, 3))
        per_tensor = quantize_multiplier(float(np.float32(s_in) * np.float32(s_w)) / s_out)
        if per_tensor != quantize_multiplier(s_in * s_w / s_out):
            break
    else:
        pytest.fail("no scales where the two products differ")
    assert [quantize_multiplier(m) for m in effective_scales(s_in, np.array([s_w], np.float32), s_out)] == [per_tensor]
    assert effective_scales(s_in, np.array([s_w, s_w], np.float32), s_out) == [s_in * s_w / s_out] * 2

    conv_w, _ = weights()
    fc_w = torch.randn(1, 3 * 36, generator=torch.Generator().manual_seed(1)) * 0.05
    save_artifact(artifact(conv_w, fc_w), tmp_path / "m.pt")
    graph = tinyqat.load(tmp_path / "m.pt")
    fc = graph.ops[-1]
    s_fc = np.float32(tinyqat.quant.weight_scales(fc_w).item())  # max|w| / 127 in float32
    expected = quantize_multiplier(float(np.float32(0.05) * s_fc) / float(np.float32(0.1)))
    assert (int(fc.multiplier[0]), int(fc.shift[0])) == expected
