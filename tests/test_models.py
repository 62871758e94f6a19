"""Whole models: prepare_qat -> train/calibrate -> save -> build -> verify (gcc + cffi), bit-exact.

Randomized (seeded) conv nets cover channel counts 1..33, kernels 1..5, strides 1..3,
paddings up to kernel - 1, pools with padding and ceil mode, fused and standalone
activations, and both single-sample and multi-sample verification batches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import require_tool
from torch import nn

import tinyqat
from tinyqat.demo import load_mnist_split, mnist_cnn, train_epoch
from tinyqat.models import short_qat_artifact


def _activation(rng: np.random.Generator) -> list[nn.Module]:
    return [[], [nn.ReLU()], [nn.ReLU6()]][int(rng.integers(3))]


def random_convnet(seed: int) -> tuple[nn.Module, tuple[int, int, int]]:
    """A random conv net and its per-sample input shape (C, H, W)."""
    rng = np.random.default_rng(seed)
    c, h, w = int(rng.integers(1, 5)), int(rng.integers(5, 19)), int(rng.integers(5, 19))
    shape = (c, h, w)
    layers: list[nn.Module] = []
    for _ in range(int(rng.integers(1, 4))):
        k = rng.integers(1, 6, 2) if rng.random() < 0.3 else rng.integers(1, 6).repeat(2)
        s = rng.integers(1, 4, 2) if rng.random() < 0.3 else rng.integers(1, 4).repeat(2)
        p = rng.integers(0, k)  # up to kernel - 1 on each axis
        (kh, kw), (sh, sw), (ph, pw) = (tuple(int(v) for v in a) for a in (k, s, p))
        if h + 2 * ph < kh or w + 2 * pw < kw:
            continue
        out_c = int(rng.choice([1, 2, 3, 8, 16, 33])) if rng.random() < 0.5 else int(rng.integers(1, 34))
        use_bn = bool(rng.random() < 0.6)
        layers.append(nn.Conv2d(c, out_c, (kh, kw), stride=(sh, sw), padding=(ph, pw),
                                bias=bool(rng.random() < 0.5) or not use_bn))
        if use_bn:
            layers.append(nn.BatchNorm2d(out_c))
        layers += _activation(rng)
        c, h, w = out_c, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
        if rng.random() < 0.5 and min(h, w) >= 2:
            pk = min(int(rng.integers(2, 4)), h, w)
            pool = nn.MaxPool2d(pk, stride=int(rng.integers(1, 4)), padding=int(rng.integers(0, pk // 2 + 1)),
                                ceil_mode=bool(rng.random() < 0.5))
            layers.append(pool)
            if rng.random() < 0.3:
                layers.append(nn.ReLU())  # standalone clamp after a pool
            h, w = pool(torch.zeros(1, c, h, w)).shape[2:]
    features = int(rng.integers(1, 34))
    layers += [nn.Flatten(), nn.Linear(c * h * w, features), *_activation(rng)]
    if rng.random() < 0.5:
        layers += [nn.Dropout(0.2), nn.Linear(features, int(rng.integers(2, 11)))]
    return nn.Sequential(*layers), shape


def build_and_verify(model_path: Path, out: Path, samples: np.ndarray | None = None, n_random: int = 6) -> None:
    tinyqat.build(model_path, out, board="cortex-m4")
    report = tinyqat.verify(out, samples=samples, n_random=n_random)
    assert report.ok, report.mismatch
    assert report.layers >= 2
    assert report.compared_bytes > 0


@pytest.mark.parametrize("seed", range(16))
def test_random_convnets_bit_exact(seed: int, tmp_path: Path) -> None:
    require_tool("gcc", "gcc")
    model, shape = random_convnet(seed)
    short_qat_artifact(model, shape, tmp_path / "model.pt", seed=seed)
    build_and_verify(tmp_path / "model.pt", tmp_path / "out", n_random=2 + seed % 5)


def test_mlp_and_single_sample_batch(tmp_path: Path) -> None:
    require_tool("gcc", "gcc")
    model = nn.Sequential(nn.Linear(20, 33), nn.BatchNorm1d(33), nn.ReLU6(), nn.Linear(33, 1), nn.ReLU())
    short_qat_artifact(model, (20,), tmp_path / "model.pt", seed=3)
    one = np.random.default_rng(0).integers(-128, 128, (1, 20)).astype(np.int8)
    build_and_verify(tmp_path / "model.pt", tmp_path / "out", samples=one)


@pytest.fixture(scope="module")
def trained_mnist(tmp_path_factory: pytest.TempPathFactory) -> tuple[nn.Module, Path, torch.Tensor]:
    """The demo CNN after one FP32 epoch and one QAT epoch on the bundled MNIST split."""
    torch.manual_seed(0)
    x_train, y_train, x_test, _ = load_mnist_split()
    model = mnist_cnn()
    train_epoch(model, x_train, y_train, torch.optim.Adam(model.parameters(), 2e-3), 0, "fp32")
    qat = tinyqat.prepare_qat(model, example_inputs=(x_train[:1],))
    train_epoch(qat, x_train, y_train, torch.optim.Adam(qat.parameters(), 2e-4), 1, "qat")
    path = tmp_path_factory.mktemp("mnist") / "model.pt"
    tinyqat.save(qat.eval(), path)
    return qat, path, x_test


def test_simulator_agrees_with_fake_quant(trained_mnist: tuple[nn.Module, Path, torch.Tensor]) -> None:
    """Integer simulator vs the fake-quant PyTorch forward: >= 99.9% of outputs within 1 LSB."""
    qat, path, x_test = trained_mnist
    graph = tinyqat.load(path)
    y_int = tinyqat.simulate(graph, tinyqat.quantize_input(graph, x_test))
    with torch.no_grad():
        y_fq = qat.eval()(x_test).numpy()
    q = graph.tensor(graph.output).qparams
    y_fq_int = np.round(y_fq / np.float32(q.scale)) + q.zero_point
    diff = np.abs(y_fq_int - y_int.astype(np.float64))
    assert diff.size == 10 * len(x_test)
    assert (diff <= 1).mean() >= 0.999
    assert (y_fq.argmax(1) == y_int.argmax(1)).mean() >= 0.99
    real = tinyqat.dequantize_output(graph, y_int)  # scale * (q - zp), float32
    assert real.dtype == np.float32 and (np.abs(real - y_fq) <= 1.5 * q.scale).mean() >= 0.999


def test_trained_mnist_c_bit_exact_with_sanitizers(trained_mnist: tuple[nn.Module, Path, torch.Tensor],
                                                   tmp_path: Path) -> None:
    require_tool("gcc", "gcc")
    _, path, x_test = trained_mnist
    tinyqat.build(path, tmp_path / "out", board="cortex-m4")
    samples = tinyqat.quantize_input(path, x_test[:8])
    report = tinyqat.verify(tmp_path / "out", samples=samples, sanitize=True)
    assert report.ok, report.mismatch
    assert report.samples == 8


class ResidualBlock(nn.Module):
    """conv-bn-act -> conv-bn (+ 1x1 projection when shapes change) -> add -> act."""

    def __init__(self, c_in: int, c_out: int, stride: int, act: type[nn.Module]) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), act(),
                                  nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
        self.skip = nn.Identity() if c_in == c_out and stride == 1 else nn.Conv2d(c_in, c_out, 1, stride)
        self.act = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.skip(x))


class SeparableBlock(nn.Module):
    """depthwise (multiplier m) -> pointwise, optionally concatenated with a 1x1 branch."""

    def __init__(self, c_in: int, c_out: int, multiplier: int, stride: int, concat: bool) -> None:
        super().__init__()
        self.dw = nn.Sequential(nn.Conv2d(c_in, c_in * multiplier, 3, stride, 1, groups=c_in, bias=False),
                                nn.BatchNorm2d(c_in * multiplier), nn.ReLU6())
        self.pw = nn.Sequential(nn.Conv2d(c_in * multiplier, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())
        self.branch = nn.Conv2d(c_in, 2, 1, stride) if concat else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pw(self.dw(x))
        return y if self.branch is None else torch.cat([y, self.branch(x)], dim=1)


class RandomNet(nn.Module):
    """A random stack of residual / separable blocks, then a random head."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        c = int(rng.integers(1, 5))
        self.in_channels = c
        blocks: list[nn.Module] = []
        for _ in range(int(rng.integers(1, 4))):
            c_out, stride = int(rng.integers(1, 17)), int(rng.integers(1, 3))
            if rng.random() < 0.5:
                blocks.append(ResidualBlock(c, c_out, stride, nn.ReLU if rng.random() < 0.5 else nn.ReLU6))
                c = c_out
            else:
                concat = bool(rng.random() < 0.5)
                blocks.append(SeparableBlock(c, c_out, int(rng.integers(1, 3)), stride, concat))
                c = c_out + 2 * concat
        self.blocks = nn.Sequential(*blocks)
        self.head_kind = int(rng.integers(4))
        self.pool = nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False)
        self.fc = nn.Linear(c, int(rng.integers(2, 11)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(x)
        if self.head_kind == 0:  # global average pooling by mean, then linear + softmax
            return torch.softmax(self.fc(x.mean((2, 3))), dim=1)
        if self.head_kind == 1:  # adaptive pooling, flatten, sigmoid
            return torch.sigmoid(self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)))
        if self.head_kind == 2:  # pooled map out, hardswish
            return nn.functional.hardswish(self.pool(x))
        return torch.tanh(x.mean((2, 3)))  # pooled vector straight into a lookup table


@pytest.mark.parametrize("seed", range(10))
def test_random_residual_depthwise_concat_nets_bit_exact(seed: int, tmp_path: Path) -> None:
    require_tool("gcc", "gcc")
    torch.manual_seed(seed)
    model = RandomNet(seed)
    rng = np.random.default_rng(seed)
    shape = (model.in_channels, int(rng.integers(4, 13)), int(rng.integers(4, 13)))
    short_qat_artifact(model, shape, tmp_path / "model.pt", seed=seed)
    build_and_verify(tmp_path / "model.pt", tmp_path / "out", n_random=3)


@pytest.mark.parametrize("name", ["kws_ds_cnn", "vww_mobilenet_v1", "ic_resnet8", "ad_fc_autoencoder"])
def test_reference_network_end_to_end(name: str, tmp_path: Path) -> None:
    """MLPerf Tiny reference network: prepare_qat, short QAT on seeded random data, build for
    cortex-m4, verify bit-exact on the host; params and MACs from the report match the model."""
    require_tool("gcc", "gcc")
    from tinyqat.codegen.stats import total_macs
    from tinyqat.models import REFERENCE, count_macs, count_params

    ref = REFERENCE[name]
    torch.manual_seed(0)
    model = ref.build()
    short_qat_artifact(model, ref.input_shape, tmp_path / "model.pt", seed=0)
    result = tinyqat.build(tmp_path / "model.pt", tmp_path / "out", board="cortex-m4")
    assert total_macs(result.graph) == count_macs(ref.build(), ref.input_shape)
    params = sum(int(op.weights.size + op.bias.size) for op in result.graph.ops if hasattr(op, "weights"))
    assert params == count_params(ref.build())
    report = tinyqat.verify(tmp_path / "out", n_random=2)
    assert report.ok, report.mismatch


QEMU_CASES = [(name, "cortex-m4") for name in ("kws_ds_cnn", "vww_mobilenet_v1", "ic_resnet8", "ad_fc_autoencoder")]
QEMU_CASES += [("kws_ds_cnn", "cortex-m0plus"), ("ic_resnet8", "cortex-m0plus")]  # the others exceed its 128 KiB flash
QEMU_CASES += [("vww_mobilenet_v1", "cortex-m0plus-512k"), ("ad_fc_autoencoder", "cortex-m0plus-512k")]


@pytest.mark.parametrize(("name", "board"), QEMU_CASES)
def test_reference_network_bit_exact_under_qemu(name: str, board: str, tmp_path: Path) -> None:
    """The reference networks on a DSP core (cortex-m4: SXTB16/SMLAD kernels) and on Armv6-M cores
    (cortex-m0plus and its 512 KiB part: the v6m conv / depthwise kernels and output stage, the others
    portable), bare metal under QEMU, every layer bit-exact."""
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    from tinyqat.models import REFERENCE

    ref = REFERENCE[name]
    torch.manual_seed(0)
    short_qat_artifact(ref.build(), ref.input_shape, tmp_path / "model.pt", seed=0)
    # the emulated harness runs the zero-copy API (input and output in the arena); with the invoke API's
    # caller buffers (3,082 B) ResNet-8's RAM would exceed cortex-m0plus's 36 KiB
    tinyqat.build(tmp_path / "model.pt", tmp_path / "out", board=board, api="zero-copy")
    report = tinyqat.verify(tmp_path / "out", n_random=1, emulate=True)
    assert report.ok, report.mismatch
