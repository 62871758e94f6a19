"""The torch device of the QAT and integer-evaluation tests: ``TINYQAT_TEST_DEVICE`` (``cuda`` on a GPU machine),
else the CPU.  CI has no GPU, so there they run on the CPU."""

from __future__ import annotations

import os

import torch

DEVICE = torch.device(os.environ.get("TINYQAT_TEST_DEVICE", "cpu"))
