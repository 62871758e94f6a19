"""Reference models: the four MLPerf Tiny benchmark networks in plain PyTorch, plus ``mnist_cnn`` and
``mobilenet_v3_small`` (a MobileNetV3-small style network: hardswish, squeeze-excitation gates).

The architectures follow the public MLPerf Tiny reference models (mlcommons/tiny,
``benchmark/training/*/keras_model.py`` and ``vww_model.py``), re-expressed as ``nn.Module``
with explicit PyTorch paddings chosen so that output shapes, parameter counts and MACs equal
the published int8 reference models (GUIDE section 4). Every model is traceable by
``torch.fx.symbolic_trace`` (no data-dependent control flow; residual adds are ``out + shortcut``;
global average pooling is ``nn.AvgPool2d(map size)`` followed by ``torch.flatten(x, 1)``), so it
can go straight into :func:`tinyqat.prepare_qat`.

Convolutions and Linear layers that are followed by BatchNorm have ``bias=False``: after BN
folding each gets exactly one bias per output channel, which is how :func:`count_params` counts
(weights + one bias per output channel; BN parameters are not counted separately).

:data:`REFERENCE` lists each model with its constructor, per-sample input shape (C, H, W) or (F,),
published parameter count, published MACs and the MLPerf Tiny int8 accuracy target.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from tinyqat.capture import save
from tinyqat.qat.prepare import prepare_qat

__all__ = [
    "M5",
    "REFERENCE",
    "ReferenceModel",
    "count_macs",
    "count_params",
    "ds_cnn_kws",
    "fc_autoencoder",
    "micro_cnn",
    "mnist_cnn",
    "mnist_ds_cnn",
    "mobilenet_v1_vww",
    "mobilenet_v3_small",
    "resnet8_cifar",
    "short_qat_artifact",
    "shufflenet_v2_tiny",
]


def mnist_cnn() -> nn.Module:
    """A small MNIST CNN (26.7k parameters, 0.31M MACs): two conv+BN+ReLU+pool blocks, two Linear."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 10),
    )


def micro_cnn() -> nn.Module:
    """A tiny MNIST CNN (1.6k parameters): three conv+BN+ReLU+pool blocks (4, 8, 8 channels), one Linear(72, 10)."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8 * 3 * 3, 10),
    )


def mnist_ds_cnn() -> nn.Module:
    """A tiny depthwise-separable MNIST CNN (1.4k parameters, MobileNet-style): conv s2,
    [depthwise 3x3 + pointwise] x 2, global average pooling, Linear(32, 10)."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10),
    )


def _conv_bn_relu(in_c: int, out_c: int, kernel: int | tuple[int, int], stride: int = 1,
                  padding: int | tuple[int, int] = 0, groups: int = 1) -> list[nn.Module]:
    """``Conv2d(bias=False) -> BatchNorm2d -> ReLU`` as a list of layers."""
    return [
        nn.Conv2d(in_c, out_c, kernel, stride=stride, padding=padding, groups=groups, bias=False),
        nn.BatchNorm2d(out_c),
        nn.ReLU(),
    ]


def _depthwise_separable(in_c: int, out_c: int, stride: int = 1) -> list[nn.Module]:
    """Depthwise 3x3 (pad 1, stride ``stride``) + BN + ReLU, then pointwise 1x1 + BN + ReLU."""
    return [
        *_conv_bn_relu(in_c, in_c, 3, stride=stride, padding=1, groups=in_c),
        *_conv_bn_relu(in_c, out_c, 1),
    ]


# --------------------------------------------------------------------------------------------
# KWS: DS-CNN
# --------------------------------------------------------------------------------------------


def ds_cnn_kws(num_classes: int = 12, channels: int = 64, dropout: float = 0.4) -> nn.Module:
    """MLPerf Tiny keyword spotting DS-CNN (mlcommons/tiny ``keyword_spotting/keras_model.py``).

    Input ``(N, 1, 49, 10)`` (49 frames x 10 MFCCs) -> logits ``(N, num_classes)``.

    - Conv 10x4, 1 -> 64, stride 2, padding (5, 1) -> 64 x 25 x 5; BN; ReLU; Dropout
    - 4 x [depthwise 3x3 pad 1 + BN + ReLU, pointwise 1x1 64 -> 64 + BN + ReLU]
    - Dropout; AvgPool (25, 5); flatten; Linear 64 -> 12

    Dropout is active only in training (identity in eval, removed by lowering).
    With the defaults: 22.6k parameters (after BN folding), 2.66M MACs.
    """
    layers: list[nn.Module] = [*_conv_bn_relu(1, channels, (10, 4), stride=2, padding=(5, 1)), nn.Dropout(dropout)]
    for _ in range(4):
        layers += _depthwise_separable(channels, channels)
    layers += [nn.Dropout(dropout), nn.AvgPool2d((25, 5)), nn.Flatten(), nn.Linear(channels, num_classes)]
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------------------------
# VWW: MobileNetV1 alpha 0.25
# --------------------------------------------------------------------------------------------

# (output channels at alpha 1.0, depthwise stride) of MobileNetV1's 13 depthwise-separable blocks.
_MOBILENET_V1_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
    (1024, 2), (1024, 1),
)


def mobilenet_v1_vww(num_classes: int = 2, alpha: float = 0.25, input_size: int = 96) -> nn.Module:
    """MLPerf Tiny visual wake words MobileNetV1 (mlcommons/tiny ``visual_wake_words/vww_model.py``).

    Input ``(N, 3, 96, 96)`` -> logits ``(N, num_classes)``. At ``alpha=0.25``:

    - Conv 3x3, 3 -> 8, stride 2, pad 1 -> 8 x 48 x 48; BN; ReLU
    - 13 x [depthwise 3x3 pad 1 (stride s) + BN + ReLU, pointwise 1x1 + BN + ReLU] with outputs
      16 s1, 32 s2, 32, 64 s2, 64, 128 s2, 5 x 128, 256 s2, 256 -> 256 x 3 x 3
    - AvgPool 3x3 (global); flatten; Linear 256 -> 2

    With the defaults: 210.9k parameters (after BN folding), 7.49M MACs.
    """
    first = int(32 * alpha)
    layers: list[nn.Module] = _conv_bn_relu(3, first, 3, stride=2, padding=1)
    in_c, size = first, (input_size + 1) // 2
    for width, stride in _MOBILENET_V1_BLOCKS:
        out_c = int(width * alpha)
        layers += _depthwise_separable(in_c, out_c, stride)
        in_c, size = out_c, (size + stride - 1) // stride
    layers += [nn.AvgPool2d(size), nn.Flatten(), nn.Linear(in_c, num_classes)]
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------------------------
# IC: ResNet-8
# --------------------------------------------------------------------------------------------


class ResidualStack(nn.Module):
    """One ResNet-8 stack: conv3x3 (stride s) + BN + ReLU -> conv3x3 + BN, add shortcut, ReLU.

    The shortcut is the identity when ``stride == 1`` and the channel count is unchanged,
    otherwise a 1x1 convolution with stride ``stride`` and a bias (no BN), as in the reference.
    """

    def __init__(self, in_c: int, out_c: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, out_c, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_c)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(out_c, out_c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_c)
        self.shortcut: nn.Module = (
            nn.Identity() if stride == 1 and in_c == out_c else nn.Conv2d(in_c, out_c, 1, stride=stride)
        )
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``."""
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)
        return self.relu2(out)


class ResNet8(nn.Module):
    """ResNet-8 for 32x32 images; see :func:`resnet8_cifar`."""

    def __init__(self, num_classes: int = 10, filters: Sequence[int] = (16, 32, 64)) -> None:
        super().__init__()
        f0, f1, f2 = filters
        self.stem = nn.Sequential(*_conv_bn_relu(3, f0, 3, padding=1))
        self.stack1 = ResidualStack(f0, f0, 1)
        self.stack2 = ResidualStack(f0, f1, 2)
        self.stack3 = ResidualStack(f1, f2, 2)
        self.pool = nn.AvgPool2d(8)
        self.fc = nn.Linear(f2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Stem, three residual stacks, global average pool, classifier."""
        x = self.stem(x)
        x = self.stack3(self.stack2(self.stack1(x)))
        x = torch.flatten(self.pool(x), 1)
        return self.fc(x)


def resnet8_cifar(num_classes: int = 10) -> nn.Module:
    """MLPerf Tiny image classification ResNet-8 (mlcommons/tiny ``image_classification/keras_model.py``).

    Input ``(N, 3, 32, 32)`` -> logits ``(N, num_classes)``.

    - Conv 3x3, 3 -> 16, pad 1; BN; ReLU
    - Stack 16, stride 1: conv3x3 + BN + ReLU, conv3x3 + BN, + identity, ReLU -> 16 x 32 x 32
    - Stack 32, stride 2: same with a 1x1 stride-2 conv shortcut (with bias) -> 32 x 16 x 16
    - Stack 64, stride 2: same with a 1x1 stride-2 conv shortcut (with bias) -> 64 x 8 x 8
    - AvgPool 8x8; flatten; Linear 64 -> 10

    With the defaults: 77.7k parameters (after BN folding), 12.50M MACs.
    """
    return ResNet8(num_classes)


# --------------------------------------------------------------------------------------------
# AD: fully connected autoencoder
# --------------------------------------------------------------------------------------------


def fc_autoencoder(input_dim: int = 640, hidden: int = 128, bottleneck: int = 8) -> nn.Module:
    """MLPerf Tiny anomaly detection autoencoder (mlcommons/tiny ``anomaly_detection/keras_model.py``).

    Input ``(N, 640)`` (5 frames x 128 log-mel bins, flattened) -> reconstruction ``(N, 640)``.

    - Encoder: 4 x [Linear -> 128 + BatchNorm1d + ReLU], Linear 128 -> 8 + BatchNorm1d + ReLU
    - Decoder: 4 x [Linear -> 128 + BatchNorm1d + ReLU], Linear 128 -> 640 (no BN, no ReLU)

    With the defaults: 265.9k parameters (after BN folding), 0.264M MACs.
    """
    widths = [input_dim, hidden, hidden, hidden, hidden, bottleneck, hidden, hidden, hidden, hidden]
    layers: list[nn.Module] = []
    for in_f, out_f in itertools.pairwise(widths):
        layers += [nn.Linear(in_f, out_f, bias=False), nn.BatchNorm1d(out_f), nn.ReLU()]
    layers.append(nn.Linear(hidden, input_dim))
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------------------------
# MobileNetV3-small style (hardswish, squeeze-excitation with hardsigmoid)
# --------------------------------------------------------------------------------------------


def _divisible(v: float, divisor: int = 8) -> int:
    """MobileNet channel rounding: nearest multiple of ``divisor``, never below 90 % of ``v``."""
    rounded = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * v else rounded


class SqueezeExcitation(nn.Module):
    """``x * hardsigmoid(fc2(relu(fc1(avgpool(x)))))`` with 1x1 convolutions (torchvision's form)."""

    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gate(self.fc2(self.relu(self.fc1(self.pool(x))))) * x


class InvertedResidual(nn.Module):
    """MobileNetV3 block: [1x1 expand + BN + act] -> kxk depthwise (stride s) + BN + act -> [SE] ->
    1x1 project + BN; the input is added back when the stride is 1 and the channels match."""

    def __init__(self, in_c: int, kernel: int, expand_c: int, out_c: int, se: bool, act: type[nn.Module],
                 stride: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if expand_c != in_c:
            layers += [nn.Conv2d(in_c, expand_c, 1, bias=False), nn.BatchNorm2d(expand_c), act()]
        layers += [nn.Conv2d(expand_c, expand_c, kernel, stride=stride, padding=(kernel - 1) // 2, groups=expand_c,
                             bias=False), nn.BatchNorm2d(expand_c), act()]
        if se:
            layers.append(SqueezeExcitation(expand_c, _divisible(expand_c / 4)))
        layers += [nn.Conv2d(expand_c, out_c, 1, bias=False), nn.BatchNorm2d(out_c)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and in_c == out_c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return y + x if self.residual else y


# torchvision's MobileNetV3-small settings: (kernel, expanded, out, squeeze-excitation, hardswish, stride)
_MOBILENET_V3_SMALL = (
    (3, 16, 16, True, False, 2), (3, 72, 24, False, False, 2), (3, 88, 24, False, False, 1),
    (5, 96, 40, True, True, 2), (5, 240, 40, True, True, 1), (5, 240, 40, True, True, 1),
    (5, 120, 48, True, True, 1), (5, 144, 48, True, True, 1), (5, 288, 96, True, True, 2),
    (5, 576, 96, True, True, 1), (5, 576, 96, True, True, 1),
)


def mobilenet_v3_small(num_classes: int = 2, width: float = 0.5, last_channel: int = 256) -> nn.Module:
    """MobileNetV3-small style network for 96x96x3 inputs (Howard et al. 2019, torchvision's small
    configuration with every width multiplied by ``width`` and rounded to multiples of 8).

    Stem conv 3x3 stride 2 + BN + Hardswish; eleven inverted-residual blocks (ReLU in the first
    three, Hardswish after; squeeze-excitation with a Hardsigmoid gate in nine); 1x1 conv + BN +
    Hardswish to ``6 * last block channels``; global average pooling; Linear to ``last_channel`` +
    Hardswish (dropout 0.2 in training); Linear to ``num_classes``.  With the defaults it has 328k
    parameters and 3.53M MACs; its int8 build (388 KB of weights, 31 KB arena) fits a 512 KiB flash /
    128 KiB RAM part such as the cortex-m4 board.
    """
    stem = _divisible(16 * width)
    layers: list[nn.Module] = [nn.Conv2d(3, stem, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(stem),
                               nn.Hardswish()]
    in_c = stem
    for kernel, expand, out, se, hswish, stride in _MOBILENET_V3_SMALL:
        out_c = _divisible(out * width)
        layers.append(InvertedResidual(in_c, kernel, _divisible(expand * width), out_c, se,
                                       nn.Hardswish if hswish else nn.ReLU, stride))
        in_c = out_c
    head = 6 * in_c
    layers += [nn.Conv2d(in_c, head, 1, bias=False), nn.BatchNorm2d(head), nn.Hardswish(),
               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(head, last_channel), nn.Hardswish(),
               nn.Dropout(0.2), nn.Linear(last_channel, num_classes)]
    return nn.Sequential(*layers)


class M5(nn.Module):
    """The torchaudio speech-command tutorial's M5 as written (narrower, 800 samples): conv1d stack,
    ``F.avg_pool1d(x, x.shape[-1])``, ``x.permute(0, 2, 1)``, ``fc``, ``F.log_softmax(x, dim=2)``."""

    def __init__(self, n_output: int = 5, n_channel: int = 8) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(1, n_channel, kernel_size=20, stride=4)
        self.bn1 = nn.BatchNorm1d(n_channel)
        self.pool1 = nn.MaxPool1d(4)
        self.conv2 = nn.Conv1d(n_channel, n_channel, kernel_size=3)
        self.bn2 = nn.BatchNorm1d(n_channel)
        self.pool2 = nn.MaxPool1d(4)
        self.fc1 = nn.Linear(n_channel, n_output)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))
        x = self.pool2(F.relu(self.bn2(self.conv2(x))))
        x = F.avg_pool1d(x, x.shape[-1])
        x = x.permute(0, 2, 1)
        x = self.fc1(x)
        return F.log_softmax(x, dim=2)


# --------------------------------------------------------------------------------------------
# Reference table and counting helpers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceModel:
    """One reference model: constructor, per-sample input shape and published numbers.

    ``params`` counts weights plus one bias per output channel (as after BN folding), ``macs``
    multiply-accumulates per inference; ``accuracy_target`` is the MLPerf Tiny int8 quality
    target (top-1 accuracy, or AUC for the autoencoder, see ``metric``).
    """

    name: str
    build: Callable[[], nn.Module]
    input_shape: tuple[int, ...]
    params: int
    macs: int
    accuracy_target: float
    metric: str = "top-1 accuracy"


REFERENCE: dict[str, ReferenceModel] = {
    m.name: m
    for m in (
        ReferenceModel("kws_ds_cnn", ds_cnn_kws, (1, 49, 10), 22_600, 2_660_000, 0.90),
        ReferenceModel("vww_mobilenet_v1", mobilenet_v1_vww, (3, 96, 96), 210_900, 7_490_000, 0.80),
        ReferenceModel("ic_resnet8", resnet8_cifar, (3, 32, 32), 77_700, 12_500_000, 0.85),
        ReferenceModel("ad_fc_autoencoder", fc_autoencoder, (640,), 265_900, 264_000, 0.85, "AUC"),
    )
}
"""The four MLPerf Tiny reference models by name (published counts rounded as in GUIDE section 4)."""


def count_params(model: nn.Module) -> int:
    """Parameters after BN folding: conv/linear weights plus one bias per output channel.

    BatchNorm parameters are not counted (they fold into the preceding layer's weights and
    bias); a conv/linear counts ``out_channels`` biases whether or not it has a bias today.
    """
    total = 0
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            total += module.weight.numel() + module.out_channels
        elif isinstance(module, nn.Linear):
            total += module.weight.numel() + module.out_features
    return total


def count_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Multiply-accumulates of one inference on a single sample of shape ``input_shape``.

    Measured with forward hooks: a Conv2d counts ``out_h * out_w * out_c * kh * kw * in_c / groups``,
    a Linear ``in_features * out_features``; every other layer counts 0. The model runs once in
    eval mode under ``torch.no_grad`` and its training mode is restored afterwards.
    """
    total = 0

    def conv_hook(module: nn.Module, _inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        assert isinstance(module, nn.Conv2d)
        kh, kw = module.kernel_size
        out_h, out_w = output.shape[-2:]
        total += out_h * out_w * module.out_channels * kh * kw * module.in_channels // module.groups

    def linear_hook(module: nn.Module, _inputs: tuple[torch.Tensor, ...], _output: torch.Tensor) -> None:
        nonlocal total
        assert isinstance(module, nn.Linear)
        total += module.in_features * module.out_features

    handles = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return int(total)


def short_qat_artifact(model: nn.Module, input_shape: tuple[int, ...], path: str | Path, *, steps: int = 4,
                       batch: int = 16, seed: int = 0) -> Path:
    """Prepare ``model`` for QAT, train it ``steps`` SGD steps on seeded random data, save it.

    The loss (mean square of the output; their sum for a model returning a tuple) is arbitrary: the
    point is a realistic artifact (BatchNorm statistics and observer ranges from live training) for builds, tests and
    benchmarks when no dataset is at hand.  Returns ``path``.
    """
    gen = torch.Generator().manual_seed(seed)
    qat = prepare_qat(model, example_inputs=(torch.randn(1, *input_shape, generator=gen),))
    opt = torch.optim.SGD(qat.parameters(), lr=1e-3)
    qat.train()
    for _ in range(steps):
        out = qat(torch.randn(batch, *input_shape, generator=gen))
        opt.zero_grad()
        loss = sum(y.square().mean() for y in out) if isinstance(out, tuple) else out.square().mean()
        loss.backward()
        opt.step()
    save(qat.eval(), path, overwrite=True)
    return Path(path)


# ---- ShuffleNetV2-style network: channel split, channel shuffle, tuple-free tensor plumbing


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet's channel shuffle as torchvision writes it: ``view -> transpose -> view``."""
    b, c, h, w = x.size()
    x = x.view(b, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(b, -1, h, w)


class ShuffleUnit(nn.Module):
    """ShuffleNetV2 unit (torchvision's ``InvertedResidual``): stride 1 splits the channels in two halves
    (``x.chunk(2, dim=1)``) and transforms the second; stride 2 transforms the whole input twice (a
    depthwise-separable branch and the main branch); then ``cat`` and ``channel_shuffle(out, 2)``."""

    def __init__(self, in_c: int, out_c: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        half = out_c // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                nn.Conv2d(in_c, in_c, 3, stride, 1, groups=in_c, bias=False), nn.BatchNorm2d(in_c),
                *_conv_bn_relu(in_c, half, 1))
        branch_in = in_c if stride > 1 else half
        self.branch2 = nn.Sequential(
            *_conv_bn_relu(branch_in, half, 1),
            nn.Conv2d(half, half, 3, stride, 1, groups=half, bias=False), nn.BatchNorm2d(half),
            *_conv_bn_relu(half, half, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``cat(x1, branch2(x2))`` (stride 1) or ``cat(branch1(x), branch2(x))``, channel-shuffled."""
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2Tiny(nn.Module):
    """See :func:`shufflenet_v2_tiny`."""

    def __init__(self, num_classes: int, widths: tuple[int, int, int], last: int) -> None:
        super().__init__()
        stem, c2, c3 = widths
        self.conv1 = nn.Sequential(*_conv_bn_relu(3, stem, 3, 2, 1))
        self.stage2 = nn.Sequential(ShuffleUnit(stem, c2, 2), ShuffleUnit(c2, c2, 1))
        self.stage3 = nn.Sequential(ShuffleUnit(c2, c3, 2), ShuffleUnit(c3, c3, 1))
        self.conv5 = nn.Sequential(*_conv_bn_relu(c3, last, 1))
        self.fc = nn.Linear(last, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Stem, two stages, conv 1x1, global mean, classifier."""
        x = self.conv5(self.stage3(self.stage2(self.conv1(x))))
        return self.fc(x.mean([2, 3]))


def shufflenet_v2_tiny(num_classes: int = 10, widths: tuple[int, int, int] = (24, 48, 96),
                       last: int = 128) -> nn.Module:
    """A small ShuffleNetV2 for 3x32x32 inputs: conv 3x3 s2 pad 1 (3 -> 24) + BN + ReLU, two stages of
    [stride-2 unit, stride-1 unit] (48 then 96 channels: 16x16 -> 8x8 -> 4x4), conv 1x1 (96 -> 128) +
    BN + ReLU, ``x.mean([2, 3])``, Linear 128 -> ``num_classes``."""
    return ShuffleNetV2Tiny(num_classes, widths, last)
