"""Training-step cost of QAT: FP32 vs tinyqat's QAT module vs PyTorch's own QAT (torch.ao FX).

All train the same model (the demo's MNIST CNN) on the same batch with the same optimizer.
``tinyqat QAT`` is the phase with live BatchNorm (batch statistics: the float surrogate forward);
``tinyqat, BN frozen`` the phase after ``freeze_bn_stats``, where every layer computes the device's
integers (exact accumulators and the integer output stage, :mod:`tinyqat.qat.modules`).
Rounds are interleaved (FP32, tinyqat, torch.ao, FP32, ...) so machine noise hits
all of them alike; the table gives the median wall time and the median CPU time (process time,
all threads) per step and their ratios to FP32, measured in this one run.  On a shared machine
the CPU time with ``--threads 1`` is the steadier measure of the work a step costs.

    python benchmarks/qat_overhead.py [--steps 30] [--rounds 7] [--batch 64] [--threads N]
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


def step_timer(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[int], tuple[float, float]]:
    """A function that runs ``n`` SGD steps and returns (wall, CPU) seconds per step."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def run(n: int) -> tuple[float, float]:
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        return (time.perf_counter() - start) / n, (time.process_time() - cpu) / n

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--steps", type=int, default=30, help="training steps per timed round")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median is reported)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x_train, y_train, _, _ = load_mnist_split()
    x, y = x_train[: args.batch], y_train[: args.batch]
    fp32 = mnist_cnn()
    runners = {
        "fp32": step_timer(fp32, x, y),
        "tinyqat QAT": step_timer(tinyqat.prepare_qat(fp32, example_inputs=(x[:1],)), x, y),
        "tinyqat, BN frozen": step_timer(tinyqat.freeze_bn_stats(tinyqat.prepare_qat(fp32, example_inputs=(x[:1],))),
                                         x, y),
        "torch.ao QAT (FX)": step_timer(torch_ao_qat(fp32, x[:1]), x, y),
    }
    for run in runners.values():
        run(5)  # warm-up: observers initialised, allocator settled
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, run in runners.items():
            times[name].append(run(args.steps))
    wall = {name: statistics.median(t[0] for t in samples) for name, samples in times.items()}
    cpu = {name: statistics.median(t[1] for t in samples) for name, samples in times.items()}
    print(f"QAT training step, MNIST CNN, batch {args.batch}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, median of {args.rounds} interleaved rounds x {args.steps} steps")
    print(f"| {'model':<18} | {'wall ms/step':>12} | {'vs fp32':>8} | {'CPU ms/step':>11} | {'vs fp32':>8} |")
    print(f"|{'-' * 20}|{'-' * 13}:|{'-' * 9}:|{'-' * 12}:|{'-' * 9}:|")
    for name in runners:
        print(f"| {name:<18} | {wall[name] * 1e3:12.2f} | {wall[name] / wall['fp32']:7.2f}x "
              f"| {cpu[name] * 1e3:11.2f} | {cpu[name] / cpu['fp32']:7.2f}x |")


if __name__ == "__main__":
    main()
