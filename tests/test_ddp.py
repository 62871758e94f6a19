"""Distributed QAT: two processes (gloo on 127.0.0.1) train a prepared model under DistributedDataParallel.

DDP broadcasts module buffers (the observers' ranges, BatchNorm statistics) from rank 0 at the start of
every forward, so both ranks must fake-quantize on rank 0's grids; saving from either rank (the DDP
wrapper itself, or its ``.module``) must give the same artifact.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import tinyqat

WORLD = 2
STEPS = 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 8), nn.ReLU(), nn.Linear(8, 3),
    )


def _worker(rank: int, port: int, out_dir: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        torch.manual_seed(0)  # same initial weights on both ranks (DDP also broadcasts them)
        qat = tinyqat.prepare_qat(_model(), (torch.randn(1, 1, 8, 8),))
        model = DistributedDataParallel(qat)
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        gen = torch.Generator().manual_seed(100 + rank)  # each rank its own data, so its own batch ranges
        for _ in range(STEPS):
            x = torch.randn(16, 1, 8, 8, generator=gen) * (1.0 + rank)
            loss = model(x).square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        # BatchNorm's running statistics are rank-local between DDP's broadcasts: one eval forward through
        # the wrapper takes rank 0's buffers on every rank and changes nothing (the README's recipe)
        model.eval()
        model(torch.randn(2, 1, 8, 8, generator=gen))
        tinyqat.save(model, Path(out_dir) / f"wrapped_{rank}.pt")
        tinyqat.save(model.module, Path(out_dir) / f"module_{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_ddp_ranks_save_identical_artifacts(tmp_path: Path) -> None:
    mp.start_processes(_worker, args=(_free_port(), str(tmp_path)), nprocs=WORLD, join=True, start_method="spawn")
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(tmp_path.glob("*.pt"))}
    assert len(digests) == 2 * WORLD
    assert len(set(digests.values())) == 1, digests
    graph = tinyqat.load(tmp_path / "module_1.pt")
    assert graph.ops
