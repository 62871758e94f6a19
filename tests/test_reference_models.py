"""MLPerf Tiny reference models (:mod:`tinyqat.models`): published counts, shapes, fx tracing."""

from __future__ import annotations

import pytest
import torch
import torch.fx
from torch import nn

from tinyqat import demo
from tinyqat.models import (
    REFERENCE,
    ReferenceModel,
    count_macs,
    count_params,
    ds_cnn_kws,
    fc_autoencoder,
    mnist_cnn,
    mobilenet_v1_vww,
    resnet8_cifar,
)

MODELS = list(REFERENCE.values())
IDS = [m.name for m in MODELS]

# (constructor, per-sample input shape, output features); includes the demo's mnist_cnn.
SHAPES = [
    (ds_cnn_kws, (1, 49, 10), 12),
    (mobilenet_v1_vww, (3, 96, 96), 2),
    (resnet8_cifar, (3, 32, 32), 10),
    (fc_autoencoder, (640,), 640),
    (mnist_cnn, (1, 28, 28), 10),
]
SHAPE_IDS = [build.__name__ for build, _, _ in SHAPES]


def test_reference_table() -> None:
    assert IDS == ["kws_ds_cnn", "vww_mobilenet_v1", "ic_resnet8", "ad_fc_autoencoder"]
    published = {m.name: (m.params, m.macs) for m in MODELS}
    assert published == {
        "kws_ds_cnn": (22_600, 2_660_000),
        "vww_mobilenet_v1": (210_900, 7_490_000),
        "ic_resnet8": (77_700, 12_500_000),
        "ad_fc_autoencoder": (265_900, 264_000),
    }


@pytest.mark.parametrize("ref", MODELS, ids=IDS)
def test_params_match_published(ref: ReferenceModel) -> None:
    assert count_params(ref.build()) == pytest.approx(ref.params, rel=0.01)


@pytest.mark.parametrize("ref", MODELS, ids=IDS)
def test_macs_match_published(ref: ReferenceModel) -> None:
    assert count_macs(ref.build(), ref.input_shape) == pytest.approx(ref.macs, rel=0.01)


def test_exact_counts() -> None:
    """The exact values, so an architecture change cannot hide inside the 1% tolerance."""
    measured = {m.name: (count_params(m.build()), count_macs(m.build(), m.input_shape)) for m in MODELS}
    assert measured == {
        "kws_ds_cnn": (22_604, 2_656_768),
        "vww_mobilenet_v1": (210_850, 7_489_664),
        "ic_resnet8": (77_706, 12_501_632),
        "ad_fc_autoencoder": (265_864, 264_192),
    }


def test_count_helpers_on_small_model() -> None:
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False), nn.BatchNorm2d(4),
        nn.Flatten(), nn.Linear(4 * 5 * 5, 3),
    )
    assert count_params(model) == (2 * 4 * 9 + 4) + (4 * 9 + 4) + (100 * 3 + 3)
    assert count_macs(model, (2, 5, 5)) == 25 * 4 * 9 * 2 + 25 * 4 * 9 + 100 * 3
    model.train()
    count_macs(model, (2, 5, 5))
    assert model.training  # mode restored
    assert not any(m._forward_hooks for m in model.modules())  # hooks removed


def test_mnist_cnn_is_the_demo_model() -> None:
    assert mnist_cnn is demo.mnist_cnn


@pytest.mark.parametrize(("build", "shape", "out_features"), SHAPES, ids=SHAPE_IDS)
def test_forward_shape(build, shape: tuple[int, ...], out_features: int) -> None:
    torch.manual_seed(0)
    model = build()
    x = torch.randn(2, *shape)
    y = model(x)  # train mode: BatchNorm needs the batch of 2
    assert y.shape == (2, out_features)
    model.eval()
    with torch.no_grad():
        assert model(x).shape == (2, out_features)


@pytest.mark.parametrize(("build", "shape", "out_features"), SHAPES, ids=SHAPE_IDS)
def test_fx_traceable(build, shape: tuple[int, ...], out_features: int) -> None:
    torch.manual_seed(0)
    model = build().eval()
    traced = torch.fx.symbolic_trace(model)
    x = torch.randn(2, *shape)
    with torch.no_grad():
        torch.testing.assert_close(traced(x), model(x))


def test_batchnorm_layers_have_no_preceding_bias() -> None:
    """Every conv/linear directly followed by BatchNorm has ``bias=False`` (BN supplies the bias)."""
    for ref in MODELS:
        traced = torch.fx.symbolic_trace(ref.build())
        modules = dict(traced.named_modules())
        for node in traced.graph.nodes:
            if node.op == "call_module" and isinstance(modules[node.target], nn.BatchNorm1d | nn.BatchNorm2d):
                prev = node.args[0]
                layer = modules[prev.target]
                assert isinstance(layer, nn.Conv2d | nn.Linear), (ref.name, prev.target)
                assert layer.bias is None, (ref.name, prev.target)
