"""Fuzzing: random supported graphs (ops, shapes, scales), simulator = C under ASan/UBSan.

Hypothesis draws the op sequence, which earlier tensor each op reads, the input shape and a
seed for all numeric parameters (weights, zero points at the ends, saturating multipliers,
paddings up to kernel - 1, strides above the kernel).  Each example is compiled with
``-fsanitize=address,undefined`` and run on random and extreme inputs; every layer must equal
the simulator.  ``TINYQAT_FUZZ_EXAMPLES`` sets the example count (default 200 in the
suite); a failure hypothesis finds is added below as a named regression test.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import runtime_graphs as rg
from conftest import require_tool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinyqat import ir
from tinyqat.toolchain.harness import run_harness

EXAMPLES = int(os.environ.get("TINYQAT_FUZZ_EXAMPLES", "200"))
VECTOR_KINDS = ("fully_connected", "clamp", "lookup", "softmax")


def vector_op(rng: np.random.Generator, kind: str, name: str, x: ir.Tensor) -> tuple[ir.IntOp, ir.Tensor]:
    """A random op of one of :data:`VECTOR_KINDS` reading the vector ``x``."""
    if kind == "fully_connected":
        return rg.fully_connected(rng, name, x, int(rng.integers(1, 12)))
    return {"clamp": rg.clamp, "lookup": rg.lookup, "softmax": rg.softmax}[kind](rng, name, x)


def fuzz_graph(seed: int, shape: tuple[int, int, int], plan: list[tuple[str, int]]) -> ir.Graph:
    """A graph from ``plan``: each step is (op kind, index of the earlier tensor it reads)."""
    rng = np.random.default_rng(seed)
    x = ir.Tensor("x", shape, rg.random_qparams(rng))
    tensors, steps = [x], []
    for k, (kind, pick) in enumerate(plan):
        src, name = tensors[pick % len(tensors)], f"t{k}"
        if len(src.shape) == 1:  # after a fully connected layer only vector ops apply
            steps.append(vector_op(rng, kind if kind in VECTOR_KINDS else VECTOR_KINDS[pick % 4], name, src))
        else:
            same = [t for t in tensors if t is not src and len(t.shape) == 3 and t.shape[:-1] == src.shape[:-1]]
            steps.append(rg.random_op(rng, kind, name, [src, *same]))
        tensors.append(steps[-1][1])
    return rg.chain(x, steps)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 6)),
    plan=st.lists(st.tuples(st.sampled_from(rg.KINDS), st.integers(0, 20)), min_size=1, max_size=8),
)
def test_fuzz_simulator_equals_c_under_sanitizers(seed: int, shape: tuple[int, int, int],
                                                  plan: list[tuple[str, int]]) -> None:
    require_tool("gcc", "gcc")
    graph = fuzz_graph(seed, shape, plan)
    x = rg.random_input(np.random.default_rng(seed), graph, 3)
    expected = rg.reference_layers(graph, x)
    with tempfile.TemporaryDirectory() as tmp:
        out = rg.emit(graph, Path(tmp) / "pkg")
        got = run_harness(out, Path(tmp) / "build", x, sanitize=True)
    for layer, op in enumerate(graph.ops):
        for sample in range(len(x)):
            np.testing.assert_array_equal(got[sample][layer], expected[layer][sample],
                                          err_msg=f"layer {layer} '{op.name}' ({type(op).__name__}), sample {sample}")
