"""Accuracy of FP32, PTQ and QAT (int8 and 4-bit weights) on the bundled MNIST split, measured
with the integer simulator (which equals the C, checked with gcc when it is installed).

Split: the 5,000 bundled digits, seeded permutation, 4,000 train / 1,000 test
(:func:`tinyqat.demo.load_mnist_split`).  Three models: ``micro_cnn`` (1.6k parameters) and
``ds_cnn`` (1.4k, depthwise-separable), small enough that quantization can hurt, and the demo's
``mnist_cnn`` (26.7k parameters, an easy case).  Per model:

* FP32: trained in float32 (Adam 3e-3, cosine, ``--fp32-epochs``, batch 64, seeded).
* PTQ: ``prepare_qat`` + ``tinyqat.calibrate`` on 16 training batches of that float model.
* QAT: ``tinyqat.qat_finetune`` of the same float model (``--qat-epochs``, defaults otherwise).
* ``int4w`` rows: every conv/linear with 4-bit weights (``weight_bits=4``), activations int8.

Accuracy of the quantized rows is the integer simulator's on the 1,000 test digits.  Agreement
compares the fake-quant model (eval mode, outputs turned into int8 with the output grid) with
the simulator: the share of test digits with the same argmax, and the share of output values
within 1 LSB.  Flash is the weight bytes of the C package (``stats.weights_bytes``).

    python benchmarks/accuracy.py [--fp32-epochs 10] [--qat-epochs 3] [--seeds 5] [--models micro_cnn,ds_cnn,mnist_cnn]
                                  [--no-c]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import tinyqat
from tinyqat.codegen import stats
from tinyqat.demo import accuracy, load_mnist_split, predict, train_epoch
from tinyqat.models import micro_cnn, mnist_cnn, mnist_ds_cnn

SEED = 0
BATCH = 64


MODELS = {"micro_cnn": micro_cnn, "ds_cnn": mnist_ds_cnn, "mnist_cnn": mnist_cnn}


def train_fp32(make: type[nn.Module] | object, x: torch.Tensor, y: torch.Tensor, epochs: int,
               seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = make()  # type: ignore[operator]
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(epochs, 1))
    for epoch in range(epochs):
        train_epoch(model, x, y, opt, 1000 * seed + epoch, f"fp32 {epoch + 1}/{epochs}")
        schedule.step()
    return model.eval()


def batches(x: torch.Tensor, y: torch.Tensor, seed: int):
    """``epoch -> [(x, y), ...]``: a seeded shuffle per epoch, batch 64."""
    def per_epoch(epoch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(1000 * seed + 100 + epoch))
        return [(x[order[i:i + BATCH]], y[order[i:i + BATCH]]) for i in range(0, len(x), BATCH)]
    return per_epoch


def measure(qat: nn.Module, x_test: torch.Tensor, y_test: torch.Tensor, work: Path, check_c: bool) -> dict:
    """Simulator accuracy, fake-quant agreement, flash bytes (and C == simulator on all test digits)."""
    path = work / "model.pt"
    tinyqat.save(qat, path, overwrite=True)
    graph = tinyqat.load(path)
    x_q = tinyqat.quantize_input(graph, x_test.numpy())
    sim = tinyqat.simulate(graph, x_q).astype(np.int64)
    out_q = graph.tensor(graph.output).qparams
    fq = predict(qat, x_test).numpy()
    fq_int = np.clip(np.round(fq / np.float32(out_q.scale)) + out_q.zero_point, -128, 127).astype(np.int64)
    row = {
        "acc": accuracy(sim, y_test),
        "fq_acc": accuracy(fq, y_test),
        "argmax": float((fq_int.argmax(1) == sim.argmax(1)).mean()),
        "lsb": float((np.abs(fq_int - sim) <= 1).mean()),
        "exact": float((fq_int == sim).mean()),
        "flash": stats.weights_bytes(graph),
        "c": "-",
    }
    if check_c and shutil.which("gcc"):
        from tinyqat.sim.interpreter import input_from_torch
        from tinyqat.toolchain.cffi_model import load_model
        from tinyqat.toolchain.compiler import compile_shared

        out = work / "pkg"
        tinyqat.build(path, out, board="cortex-m4", force=True)
        build_dir = Path(tempfile.mkdtemp(dir=work))  # a fresh path: dlopen caches libraries by path
        lib = load_model(compile_shared(out, build_dir), "tinyqat_model")
        c_out = np.stack([lib.invoke(s) for s in input_from_torch(graph, x_q)]).reshape(sim.shape)
        row["c"] = "yes" if np.array_equal(c_out, sim) else "NO"
    return row


def run_model(name: str, args: argparse.Namespace, data: tuple[torch.Tensor, ...], seed: int) -> list[tuple[str, dict]]:
    x_train, y_train, x_test, y_test = data
    t0 = time.perf_counter()
    fp32 = train_fp32(MODELS[name], x_train, y_train, args.fp32_epochs, seed)
    params = sum(p.numel() for p in fp32.parameters())
    rows: list[tuple[str, dict]] = [("FP32", {"acc": accuracy(predict(fp32, x_test), y_test), "flash": 4 * params})]
    train = batches(x_train, y_train, seed)
    calib = [x for x, _ in train(0)[:16]]
    configs = [("PTQ int8", "ptq", 8, {}), ("QAT int8", "qat", 8, {}),
               ("PTQ int4w", "ptq", 4, {}), ("QAT int4w", "qat", 4, {}),
               ("QAT int4w + LSQ", "qat", 4, {"learn_scales": True}),
               ("PTQ int4w, MSE obs.", "ptq", 4, {"observer": "mse"})]
    with tempfile.TemporaryDirectory(prefix="tinyqat-acc-") as tmp:
        for label, kind, bits, extra in configs:
            torch.manual_seed(seed)
            if kind == "ptq":
                qat = tinyqat.prepare_qat(fp32, (x_train[:1],), weight_bits=bits, **extra)
                tinyqat.calibrate(qat, calib)
            else:
                qat = tinyqat.qat_finetune(fp32, train, epochs=args.qat_epochs, weight_bits=bits, **extra)
            rows.append((label, measure(qat, x_test, y_test, Path(tmp), not args.no_c)))
    print(f"# {name} seed {seed}: {params} parameters, {time.perf_counter() - t0:.0f} s", flush=True)
    return rows


def _spread(values: list[float], scale: float = 100.0, digits: int = 1, signed: bool = False) -> str:
    """``mean (min..max)`` of ``values * scale``."""
    v = np.array(values) * scale
    fmt = f"{{:{'+' if signed else ''}.{digits}f}}"
    return f"{fmt.format(v.mean())} ({fmt.format(v.min())}..{fmt.format(v.max())})"


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--fp32-epochs", type=int, default=10)
    parser.add_argument("--qat-epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=5, help="training seeds 0..N-1 (the data split stays fixed)")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--no-c", action="store_true", help="skip the gcc check that C equals the simulator")
    args = parser.parse_args()
    data = load_mnist_split()
    results = {name: [run_model(name, args, data, seed) for seed in range(args.seeds)]
               for name in args.models.split(",")}
    print(f"\nMNIST split {len(data[0])} train / {len(data[2])} test (split seed {SEED}); fp32 {args.fp32_epochs} "
          f"epochs, QAT fine-tune {args.qat_epochs} epochs; training seeds 0..{args.seeds - 1}; each cell: mean "
          f"(min..max) over the seeds; quantized accuracy = integer simulator")
    print("| model | config | test acc. % | vs FP32 (points) | fake-quant acc. % | same argmax % | within 1 LSB % | "
          "exactly equal % | C = sim | weight flash (B) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|:---:|---:|")
    for name, per_seed in results.items():
        for k, (label, _) in enumerate(per_seed[0]):
            rows = [runs[k][1] for runs in per_seed]
            base = [runs[0][1]["acc"] for runs in per_seed]
            cells = [_spread([r["acc"] for r in rows]),
                     _spread([r["acc"] - b for r, b in zip(rows, base)], signed=True)]
            for key, digits in (("fq_acc", 1), ("argmax", 1), ("lsb", 2), ("exact", 2)):
                cells.append(_spread([r[key] for r in rows], digits=digits) if key in rows[0] else "-")
            c = "-" if rows[0].get("c", "-") == "-" else ("yes" if all(r["c"] == "yes" for r in rows) else "NO")
            flash = f"{rows[0]['flash']:,}" + (" (fp32)" if label == "FP32" else "")
            print(f"| {name} | {label} | {' | '.join(cells)} | {c} | {flash} |")


if __name__ == "__main__":
    main()
