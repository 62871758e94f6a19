"""Coverage audit: the constructs of models people train (the list of issue 12), each as a tiny model that goes
through ``prepare_qat`` -> 3 training steps -> ``save`` -> ``build`` -> ``verify`` on the host (3 random inputs)
and ``build`` + ``verify --emulate`` on cortex-m4 and cortex-m0plus (2 inputs each); one line per construct.

    python scripts/coverage_audit.py [OUT_DIR] [name filter ...]      (OUT_DIR default: a temporary directory)

The test suite covers each construct in its own tests (per op and whole model); this script is the one-page
check across all of them, for a person reviewing coverage.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import tinyqat
from tinyqat.models import M5, short_qat_artifact


def conv(i, o, k=3, **kw):
    return nn.Conv2d(i, o, k, padding=k // 2, **kw)


class Net(nn.Module):
    def __init__(self, fn, cin=3, c=8, extra=None):
        super().__init__()
        self.c1 = conv(cin, c)
        self.c2 = conv(c, c)
        self.fn = fn
        self.fc = nn.Linear(c, 4)
        if extra:
            for k, v in extra.items():
                if isinstance(v, nn.Module):
                    setattr(self, k, v)
                else:
                    self.register_buffer(k, v) if k.startswith("buf") else setattr(self, k, nn.Parameter(v))

    def forward(self, x):
        x = F.relu(self.c1(x))
        x = self.fn(self, x)
        x = F.relu(self.c2(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def _swap_halves(x):
    a, b = x.chunk(2, dim=1)  # ShuffleNetV2's split
    return torch.cat([b, a], dim=1)


def shuffle(x, g=2):
    b, c, h, w = x.size()
    return x.view(b, g, c // g, h, w).transpose(1, 2).contiguous().view(b, -1, h, w)


class SE(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.r = nn.Conv2d(c, 4, 1)
        self.e = nn.Conv2d(4, c, 1)
        self.g = nn.Hardsigmoid()

    def forward(self, x):
        return x * self.g(self.e(F.relu(self.r(F.adaptive_avg_pool2d(x, 1)))))


class BatchNormAct2d(nn.BatchNorm2d):  # timm's structure (not installable here: mimic)
    def __init__(self, c, act=nn.ReLU):
        super().__init__(c)
        self.drop = nn.Identity()
        self.act = act()

    def forward(self, x):
        assert x.ndim == 4, f"expected 4D input (got {x.ndim}D input)"
        x = F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, self.training, self.momentum, self.eps
        )
        return self.act(self.drop(x))


class TimmLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = BatchNormAct2d(8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.bn(self.conv(x)), 1).flatten(1))


class Ghost(nn.Module):  # GhostNet-style: primary conv, cheap depthwise, cat, slice
    def __init__(self):
        super().__init__()
        self.p = nn.Conv2d(3, 4, 1)
        self.d = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        a = F.relu(self.p(x))
        b = F.relu(self.d(a))
        y = torch.cat([a, b], dim=1)[:, :6]
        return self.fc(F.adaptive_avg_pool2d(y, 1).flatten(1))


class MnistExample(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(8 * 5 * 5, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.dropout1(F.max_pool2d(x, 2))
        x = torch.flatten(x, 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


class Squeeze(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = F.adaptive_avg_pool2d(F.relu(self.c(x)), 1).squeeze(-1).squeeze(-1)
        return self.fc(y.unsqueeze(1)).squeeze(1)


class OneCh(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 1, 3, padding=1)

    def forward(self, x):
        return F.log_softmax(self.conv(x), dim=-1)


class ViewFc(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, stride=2)
        self.fc = nn.Linear(4 * 3 * 3, 5)

    def forward(self, x):
        x = F.relu(self.c(x))
        return self.fc(x.view(x.size(0), -1))


class TwoOut(nn.Module):  # a tuple of outputs: logits and the pooled features that also feed them
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        f = F.adaptive_avg_pool2d(F.relu(self.c(x)), 1).flatten(1)
        return self.fc(f), f


S = (3, 8, 8)
CASES = {
    "tuple of outputs": (TwoOut, S),
    "Hardsigmoid": (lambda: Net(lambda m, x: F.hardsigmoid(x)), S),
    "SE gate x*hsig(pool)": (lambda: Net(lambda m, x: m.se(x), extra={"se": SE()}), S),
    "x * 0.5": (lambda: Net(lambda m, x: x * 0.5), S),
    "x + 1": (lambda: Net(lambda m, x: x + 1), S),
    "x.clamp(0, 6)": (lambda: Net(lambda m, x: x.clamp(0, 6)), S),
    "torch.clamp": (lambda: Net(lambda m, x: torch.clamp(x, min=-1.0, max=2.0)), S),
    "LeakyReLU": (lambda: Net(lambda m, x: m.a(x), extra={"a": nn.LeakyReLU(0.1)}), S),
    "PReLU": (lambda: Net(lambda m, x: m.a(x), extra={"a": nn.PReLU(8)}), S),
    "SiLU": (lambda: Net(lambda m, x: F.silu(x)), S),
    "GELU": (lambda: Net(lambda m, x: F.gelu(x)), S),
    "ELU": (lambda: Net(lambda m, x: F.elu(x)), S),
    "Upsample nearest x2": (
        lambda: Net(lambda m, x: F.max_pool2d(m.up(x), 2), extra={"up": nn.Upsample(scale_factor=2)}),
        S,
    ),
    "channel shuffle": (lambda: Net(lambda m, x: shuffle(x)), S),
    "chunk": (lambda: Net(lambda m, x: _swap_halves(x)), S),
    "split": (
        lambda: Net(lambda m, x: torch.cat([x.split(3, dim=1)[2], x.split(3, dim=1)[0], x.split(3, dim=1)[1]], 1)),
        S,
    ),
    "x[:, :c] (GhostNet)": (Ghost, S),
    "squeeze/unsqueeze": (Squeeze, S),
    "x.shape as constant": (
        lambda: Net(
            lambda m, x: F.interpolate(F.avg_pool2d(x, x.shape[-1] // 4), scale_factor=x.size(2) // (x.size(2) // 4))
        ),
        S,
    ),
    "timm-style BN+act": (TimmLike, S),
    "MNIST example log_softmax": (MnistExample, (1, 14, 14)),
    "torchaudio M5 log_softmax": (M5, (1, 800)),
    "x * param (C,1,1)": (lambda: Net(lambda m, x: x * m.scale, extra={"scale": torch.rand(8, 1, 1) + 0.5}), S),
    "x * buffer (1,C,1,1)": (lambda: Net(lambda m, x: x * m.buf_s, extra={"buf_s": torch.rand(1, 8, 1, 1) - 0.5}), S),
    "x * scalar tensor": (lambda: Net(lambda m, x: x * m.scale, extra={"scale": torch.tensor(0.7)}), S),
    "g - x": (lambda: Net(lambda m, x: F.adaptive_avg_pool2d(x, 1) - x), S),
    "(N,1,L) log_softmax dim=-1": (lambda: OneCh(), (2, 12)),
    "x * torch.tensor in forward": (
        lambda: Net(lambda m, x: x * torch.tensor([0.5, 1, 2, -1, 0, 1, 1, 3]).reshape(1, 8, 1, 1)),
        S,
    ),
    "x.mul(param) then relu6": (
        lambda: Net(lambda m, x: F.relu6(x.mul(m.scale)), extra={"scale": torch.rand(8, 1, 1)}),
        S,
    ),
    "swish x * x.sigmoid()": (lambda: Net(lambda m, x: x * x.sigmoid()), S),
    "x.view(x.size(0), -1) -> fc": (ViewFc, S),
    "x - g": (lambda: Net(lambda m, x: x - F.adaptive_avg_pool2d(x, 1)), S),
}


def run(root: Path, name: str, make, shape: tuple[int, ...]) -> str:
    """The result line of one construct (``ok`` / ``MISMATCH`` per target, or the stage that failed)."""
    d = root / "".join(ch if ch.isalnum() else "_" for ch in name)
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    stage = "prepare/train/save"
    try:
        torch.manual_seed(0)
        art = short_qat_artifact(make(), shape, d / "model.pt", steps=3)
        res = []
        stage = "build host"
        tinyqat.build(art, d / "host")
        stage = "verify host"
        r = tinyqat.verify(d / "host", n_random=3)
        res.append(f"host {'ok' if r.mismatch is None else 'MISMATCH'}")
        for b in ("cortex-m4", "cortex-m0plus"):
            stage = f"build {b}"
            tinyqat.build(art, d / b, board=b)
            stage = f"verify {b}"
            r = tinyqat.verify(d / b, n_random=2, emulate=True)
            res.append(f"{b} {'ok' if r.mismatch is None else 'MISMATCH'}")
        return ", ".join(res)
    except Exception as e:
        return f"FAIL at {stage}: {type(e).__name__}: {str(e).splitlines()[0][:300]}"


def main() -> None:
    args = sys.argv[1:]
    out = Path(args.pop(0)) if args and not args[0].startswith("-") and "/" in args[0] else None
    with tempfile.TemporaryDirectory(prefix="tinyqat-audit-") as tmp:
        root = out or Path(tmp)
        for name, (make, shape) in CASES.items():
            if args and not any(s.lower() in name.lower() for s in args):
                continue
            print(f"{name:28s} | {run(root, name, make, shape)}", flush=True)


if __name__ == "__main__":
    main()
