"""``ir.validate`` refuses every invalid graph with an :class:`~tinyqat.ir.IRError`, never another
exception and never a silently changed value (property test over random graphs and random
invalid fields), and checks each field before computing with it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import runtime_graphs as rg
from conftest import FUZZ_SEED
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tinyqat import ir
from tinyqat.target import MAX_DIM, MAX_TENSOR_BYTES

NOT_INTS = (1.5, "3", None, True, (1,), float("nan"))


def _bad_scalars(lo: int, hi: int) -> list[object]:
    return [lo - 1, hi + 1, 2**40, -(2**40), *NOT_INTS]


def _bad_windows(length: int, lo: int) -> list[object]:
    ok = (max(lo, 1),) * length
    return [(lo - 1, *ok[1:]), ok[:-1], (*ok, 1), (MAX_DIM + 1, *ok[1:]), ("1", *ok[1:]), (1.0, *ok[1:]),
            list(ok), None, (True, *ok[1:])]


def _bad_arrays(name: str, a: np.ndarray) -> list[object]:
    """Values of array field ``name`` that must be refused: out of its dtype's or its own range,
    wrong shape, not numbers."""
    flat = a.reshape(-1)
    bad: list[object] = [np.array(["x"] * flat.size).reshape(a.shape), a.reshape(-1)[:0], np.concatenate([flat, flat]),
                         np.ones(a.shape, bool)]
    if a.dtype == np.int8:
        bad += [np.full(a.shape, 200), np.full(a.shape, -129), np.full(a.shape, 1.5)]
        if name == "weights":
            bad.append(np.full(a.shape, -128))  # weights are symmetric: [-127, 127]
    elif a.dtype == np.int32:
        bad += [np.full(a.shape, 2**31), np.full(a.shape, float("nan"))]
        if name == "shift":
            bad += [np.full(a.shape, 31), np.full(a.shape, -32)]
        if name == "multiplier":
            bad.append(np.full(a.shape, -1))
    return bad


def invalid_variants(op: ir.Op) -> list[tuple[str, object]]:
    """Every (field, invalid value) pair for ``op``."""
    out: list[tuple[str, object]] = []
    for f in dataclasses.fields(op):
        value = getattr(op, f.name)
        if isinstance(value, np.ndarray):
            if f.name != "table":
                out += [(f.name, v) for v in _bad_arrays(f.name, value)]
        elif f.name in ir._INT_FIELDS:
            lo, hi = ir._INT_FIELDS[f.name]
            if f.name == "weight_bits":
                out += [(f.name, v) for v in (3, 16, 0, *NOT_INTS)]
            else:
                out += [(f.name, v) for v in _bad_scalars(lo, hi)]
        elif f.name in ir._WINDOW_FIELDS:
            out += [(f.name, v) for v in _bad_windows(*ir._WINDOW_FIELDS[f.name])]
        elif f.name in ir._BOOL_FIELDS:
            out += [(f.name, v) for v in (1, "yes", None)]
        elif f.name in ("input", "output"):
            out += [(f.name, v) for v in ("nowhere", 3, None)]
    return out


def invalid_tensors(t: ir.Tensor) -> list[ir.Tensor]:
    shapes = [(0,) * len(t.shape), (-1,) * len(t.shape), (1.0,) * len(t.shape), (1, 1), (1, 1, 1, 1),
              (MAX_TENSOR_BYTES + 1,), (2**40, 2**40, 2**40), [1] * len(t.shape)]
    qparams = [ir.QParams(float("nan"), 0), ir.QParams(0.0, 0), ir.QParams(-1.0, 0), ir.QParams(1.0, 128),
               ir.QParams(1.0, -129), ir.QParams(1, 0), ir.QParams(1.0, 0.5), ir.QParams(float("inf"), 0)]
    return [dataclasses.replace(t, shape=s) for s in shapes] + [dataclasses.replace(t, qparams=q) for q in qparams]


def _replace_op(graph: ir.Graph, index: int, op: ir.Op) -> ir.Graph:
    return dataclasses.replace(graph, ops=(*graph.ops[:index], op, *graph.ops[index + 1:]))


@seed(FUZZ_SEED)
@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1),
       shape=st.tuples(st.integers(1, 7), st.integers(1, 7), st.integers(1, 4)),
       plan=st.lists(st.tuples(st.sampled_from(rg.KINDS), st.integers(0, 20)), min_size=1, max_size=5),
       pick=st.integers(0, 10**6), target=st.sampled_from(("op", "tensor")))
def test_random_invalid_graphs_raise_ir_error(seed: int, shape: tuple[int, int, int],
                                              plan: list[tuple[str, int]], pick: int, target: str) -> None:
    graph = rg.fuzz_graph(seed, shape, plan)
    if target == "op":
        index = pick % len(graph.ops)
        variants = invalid_variants(graph.ops[index])
        field, value = variants[(pick // len(graph.ops)) % len(variants)]
        with pytest.raises(ir.IRError):
            ir.validate(_replace_op(graph, index, dataclasses.replace(graph.ops[index], **{field: value})))
    else:
        index = pick % len(graph.tensors)
        variants = invalid_tensors(graph.tensors[index])
        bad = variants[(pick // len(graph.tensors)) % len(variants)]
        tensors = (*graph.tensors[:index], bad, *graph.tensors[index + 1:])
        with pytest.raises(ir.IRError):
            ir.validate(dataclasses.replace(graph, tensors=tensors))


def test_int8_weights_out_of_range_are_refused_not_wrapped() -> None:
    """200 used to become -56 silently when the array was frozen as int8."""
    graph = rg.fuzz_graph(1, (4, 4, 2), [("conv2d", 0)])
    op = graph.ops[0]
    with pytest.raises(ir.IRError, match=r"do not fit int8"):
        dataclasses.replace(op, weights=np.full(op.weights.shape, 200))


@pytest.mark.parametrize("field,value", [("kernel", (0, 1)), ("stride", (0, 1)), ("padding", (0, 0)),
                                         ("stride", ("2", 1)), ("kernel", (1, -1))])
def test_pool_window_fields_are_checked_before_use(field: str, value: object) -> None:
    """A pool kernel of 0, a zero stride, a 2-element padding or a string stride: IRError, not a
    ZeroDivisionError or a C kernel that outputs -128."""
    graph = rg.fuzz_graph(2, (5, 5, 2), [("max_pool2d", 0)])
    with pytest.raises(ir.IRError, match=field):
        ir.validate(_replace_op(graph, 0, dataclasses.replace(graph.ops[0], **{field: value})))


def test_every_invalid_field_of_every_op_kind_is_refused() -> None:
    """Exhaustive companion of the property test: every op kind, every invalid variant."""
    graph = rg.fan_out_graph(np.random.default_rng(0), len(rg.KINDS))
    assert {type(op) for op in graph.ops} == set(ir.INT_OPS)
    for index, op in enumerate(graph.ops):
        variants = invalid_variants(op)
        assert len(variants) >= 5, type(op).__name__
        for field, value in variants:
            with pytest.raises(ir.IRError):
                ir.validate(_replace_op(graph, index, dataclasses.replace(op, **{field: value})))
