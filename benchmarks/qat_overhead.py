"""Training-step cost of QAT: FP32 vs tinyqat's QAT module vs PyTorch's own QAT (torch.ao FX).

All three train the same model (the demo's MNIST CNN) on the same batch with the same
optimizer.  Rounds are interleaved (FP32, tinyqat, torch.ao, FP32, ...) so machine noise hits
all three alike; the table gives the median time per step and its ratio to FP32, measured in
this one run.

    python benchmarks/qat_overhead.py [--steps 30] [--rounds 7] [--batch 64]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
import warnings
from collections.abc import Callable

import torch
from torch import nn

import tinyqat
from tinyqat.demo import load_mnist_split, mnist_cnn


def torch_ao_qat(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """PyTorch's FX-mode QAT (``prepare_qat_fx`` with the default x86 QAT qconfig)."""
    from torch.ao.quantization import get_default_qat_qconfig_mapping
    from torch.ao.quantization.quantize_fx import prepare_qat_fx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare_qat_fx(copy.deepcopy(model).train(), get_default_qat_qconfig_mapping("x86"), (example,))


def step_timer(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[int], float]:
    """A function that runs ``n`` SGD steps and returns seconds per step."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def run(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        return (time.perf_counter() - start) / n

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="training steps per timed round")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median is reported)")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.manual_seed(0)
    x_train, y_train, _, _ = load_mnist_split()
    x, y = x_train[: args.batch], y_train[: args.batch]
    fp32 = mnist_cnn()
    runners = {
        "fp32": step_timer(fp32, x, y),
        "tinyqat QAT": step_timer(tinyqat.prepare_qat(fp32, example_inputs=(x[:1],)), x, y),
        "torch.ao QAT (FX)": step_timer(torch_ao_qat(fp32, x[:1]), x, y),
    }
    for run in runners.values():
        run(5)  # warm-up: observers initialised, allocator settled
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, run in runners.items():
            times[name].append(run(args.steps))
    base = statistics.median(times["fp32"])
    print(f"QAT training step, MNIST CNN, batch {args.batch}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, median of {args.rounds} rounds x {args.steps} steps")
    print(f"| {'model':<18} | {'ms/step':>8} | {'vs fp32':>8} |")
    print(f"|{'-' * 20}|{'-' * 10}:|{'-' * 10}:|")
    for name, samples in times.items():
        med = statistics.median(samples)
        print(f"| {name:<18} | {med * 1e3:8.2f} | {med / base:7.2f}x |")


if __name__ == "__main__":
    main()
