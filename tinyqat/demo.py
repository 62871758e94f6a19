"""``tinyqat demo``: the built-in default job, end to end on the bundled MNIST subset.

1. Split the 5,000 bundled digits into 4,000 train / 1,000 test (seeded permutation).
2. Train :func:`mnist_cnn` in float32 (Adam, cosine schedule), then QAT fine-tune it at a
   lower learning rate (BN statistics and observers frozen for the last epoch).
3. Report test accuracy of FP32, the fake-quant model and the int8 simulator.
4. Build a C package for cortex-m4, run all test images through the C code (gcc + cffi) and
   require its outputs to equal the simulator's; verify every layer bit-exact on a subset, on the
   host (portable kernels) and, when arm-none-eabi-gcc and QEMU are installed, bare metal under
   QEMU with the cortex-m4's own (DSP) kernels.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from tinyqat.models import mnist_cnn
from tinyqat.resources import data_file

SEED = 0
N_TRAIN = 4000


def load_mnist_split(seed: int = SEED) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x_train, y_train, x_test, y_test)``: images as float32 ``(N, 1, 28, 28)`` in [0, 1]."""
    with np.load(data_file("mnist_5k.npz")) as data:
        images, labels = data["images"], data["labels"]
    order = np.random.default_rng(seed).permutation(len(images))
    x = torch.from_numpy(images[order].astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels[order].astype(np.int64))
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]


def train_epoch(model: nn.Module, x: torch.Tensor, y: torch.Tensor, opt: torch.optim.Optimizer, seed: int,
                desc: str) -> float:
    """One epoch of cross-entropy training with batch 64; returns the mean loss."""
    model.train()
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    losses = []
    for i in tqdm(range(0, len(x), 64), desc=desc, unit="batch", leave=False):
        idx = order[i : i + 64]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return float(np.mean(losses))


def accuracy(logits: np.ndarray | torch.Tensor, y: torch.Tensor) -> float:
    """Share of argmax predictions equal to the labels."""
    pred = np.asarray(logits).argmax(axis=1)
    return float((pred == y.numpy()).mean())


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Eval-mode forward in batches of 500."""
    model.eval()
    return torch.cat([model(x[i : i + 500]) for i in range(0, len(x), 500)])


@dataclass(frozen=True)
class DemoResult:
    """Test accuracies (fractions) and where the package went."""

    fp32: float
    fake_quant: float
    int8_sim: float
    int8_c: float
    out_dir: Path


def run_demo(out_dir: Path, *, force: bool = False, fp32_epochs: int = 10, qat_epochs: int = 3,
             echo: Callable[[str], None] = print) -> DemoResult:
    """Run the whole demo (see module docstring) and return the measured accuracies."""
    import tinyqat
    from tinyqat.build import build, check_destination
    from tinyqat.sim.interpreter import input_from_torch
    from tinyqat.toolchain.cffi_model import load_model
    from tinyqat.toolchain.compiler import compile_shared
    from tinyqat.toolchain.qemu import QEMU, QEMU_APT_PACKAGE
    from tinyqat.verify import check, verify

    out_dir = Path(out_dir)
    check_destination(out_dir, force)  # refuse before training, not after
    torch.manual_seed(SEED)
    x_train, y_train, x_test, y_test = load_mnist_split()
    model = mnist_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(fp32_epochs, 1))
    for epoch in range(fp32_epochs):
        loss = train_epoch(model, x_train, y_train, opt, SEED + epoch, f"fp32 epoch {epoch + 1}/{fp32_epochs}")
        schedule.step()
        echo(f"fp32 epoch {epoch + 1}: loss {loss:.3f}")
    fp32 = accuracy(predict(model, x_test), y_test)

    qat = tinyqat.prepare_qat(model, example_inputs=(x_train[:1],))
    opt = torch.optim.Adam(qat.parameters(), lr=1e-4)
    for epoch in range(qat_epochs):
        if epoch == qat_epochs - 1 and epoch > 0:  # observers need one epoch of data first
            tinyqat.freeze_bn_stats(qat)
            tinyqat.freeze_observers(qat)
        loss = train_epoch(qat, x_train, y_train, opt, 100 + epoch, f"qat epoch {epoch + 1}/{qat_epochs}")
        echo(f"qat  epoch {epoch + 1}: loss {loss:.3f}")
    fake_quant = accuracy(predict(qat, x_test), y_test)

    with tempfile.TemporaryDirectory(prefix="tinyqat-demo-") as tmp:
        tinyqat.save(qat, Path(tmp) / "model.pt")
        result = build(Path(tmp) / "model.pt", out_dir, board="cortex-m4", force=force)  # copies it to out/
    graph = result.graph
    x_q = tinyqat.quantize_input(graph, x_test.numpy())
    int8_sim_out = tinyqat.simulate(graph, x_q)
    int8_sim = accuracy(int8_sim_out, y_test)
    report = check(verify(out_dir, samples=x_q[:64], progress=True))
    emulated = None  # the board's own kernels (DSP on a cortex-m4) run only in its emulator
    if shutil.which(result.board.cc) and shutil.which(QEMU) and result.board.qemu_machine:
        emulated = check(verify(out_dir, samples=x_q[:64], emulate=True))
    with tempfile.TemporaryDirectory(prefix="tinyqat-demo-") as tmp:
        lib = load_model(compile_shared(out_dir, Path(tmp)), "tinyqat_model")
        x_nhwc = input_from_torch(graph, x_q)
        c_out = np.stack([lib.invoke(s) for s in tqdm(x_nhwc, desc="C inference", leave=False)])
    if not np.array_equal(c_out, int8_sim_out):
        raise tinyqat.VerificationError("C outputs on the MNIST test set differ from the simulator")
    int8_c = accuracy(c_out, y_test)

    echo("")
    echo(f"test accuracy on {len(y_test)} held-out digits:")
    echo(f"  fp32               {fp32 * 100:6.2f} %")
    echo(f"  fake-quant (QAT)   {fake_quant * 100:6.2f} %")
    echo(f"  int8 simulator     {int8_sim * 100:6.2f} %")
    echo(f"  int8 C (gcc)       {int8_c * 100:6.2f} %  (all {len(y_test)} outputs identical to the simulator)")
    echo(f"per-layer verification on the host (gcc, portable kernels): {report.samples} inputs x "
         f"{report.layers} layers bit-exact")
    if emulated is not None:
        echo(f"per-layer verification on {result.board.name} ({result.board.cc}, QEMU {result.board.qemu_machine}, "
             f"{'DSP' if result.board.dsp else 'portable'} kernels): {emulated.samples} inputs x "
             f"{emulated.layers} layers bit-exact")
    else:
        echo(f"not verified on {result.board.name}'s own kernels: {result.board.cc} or {QEMU} is missing "
             f"(apt-get install {result.board.apt_package} {QEMU_APT_PACKAGE})")
    echo(f"artifact: {out_dir / 'model.pt'}")
    echo(f"C package for {result.board.name}: {out_dir}/ (weights {result.weights_bytes} B, "
         f"arena {result.arena_bytes} B; see {out_dir}/report.md)")
    return DemoResult(fp32, fake_quant, int8_sim, int8_c, out_dir)
