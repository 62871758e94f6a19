"""Lowering: artifact (plain data) -> float IR -> passes -> validated integer IR.

Pipeline, each step followed by :func:`tinyqat.ir.validate`:

1. :func:`import_artifact`: nodes become float ops with channels-last shapes; ops that keep
   their input's quantization (pool, flatten, standalone clamps) inherit its qparams.
2. :func:`tinyqat.passes.fold_bn.fold_bn`: BatchNorm folded into weights and bias.
3. :func:`tinyqat.passes.layout.fold_flatten`: flatten removed, Linear weights permuted.
4. :func:`tinyqat.passes.quantize.quantize_graph`: int8 weights, int32 bias,
   multipliers/shifts, activation clamps.
5. :func:`tinyqat.passes.fuse_act.fuse_activations`: standalone clamps merged.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tinyqat import ir
from tinyqat.artifact import load_artifact
from tinyqat.errors import LoweringError
from tinyqat.passes.fold_bn import fold_bn
from tinyqat.passes.fuse_act import fuse_activations
from tinyqat.passes.layout import fold_flatten
from tinyqat.passes.quantize import activation_range, quantize_graph

PASSES: tuple[Callable[[ir.Graph], ir.Graph], ...] = (fold_bn, fold_flatten, quantize_graph, fuse_activations)


def _qparams(q: dict[str, Any], where: str) -> ir.QParams:
    scale, zp = q["scale"], q["zero_point"]
    if not (math.isfinite(scale) and scale > 0):
        raise LoweringError(f"{where}: activation scale {scale!r} is not a positive finite number")
    return ir.QParams(scale=float(np.float32(scale)), zero_point=int(zp))


def _bn(node: dict[str, Any]) -> ir.BatchNorm | None:
    p = node["params"]
    if "bn_weight" not in p:
        return None
    arrays = {k: p[f"bn_{k2}"].numpy() for k, k2 in (("gamma", "weight"), ("beta", "bias"), ("mean", "mean"),
                                                      ("var", "var"))}
    for key, arr in arrays.items():
        if not np.all(np.isfinite(arr)):
            raise LoweringError(f"layer '{node['name']}': BatchNorm {key} contains NaN or Inf")
    return ir.BatchNorm(eps=float(node["attrs"]["bn_eps"]), **arrays)


def _node_op(node: dict[str, Any], x: ir.Tensor) -> tuple[ir.Op, tuple[int, ...], ir.QParams]:
    """The float-level op for ``node`` reading ``x``, with its output shape and qparams."""
    name, op, attrs, params = node["name"], node["op"], node["attrs"], node["params"]
    where = f"layer '{name}' ({node['module'] or op})"
    io = {"name": name, "input": x.name, "output": name}
    if op in ("conv2d", "linear"):
        q = _qparams(node["qparams"], where)
        weight, bias = params["weight"].numpy(), params["bias"].numpy()
        if op == "linear":
            if weight.ndim != 2 or weight.shape[1] != x.size or len(x.shape) != 1:
                raise LoweringError(f"{where}: expects {weight.shape[1:]} features, input is {x.shape}")
            return ir.FloatLinear(weight=weight, bias=bias, bn=_bn(node), activation=attrs["activation"], **io), (
                weight.shape[0],), q
        if len(x.shape) != 3 or weight.ndim != 4 or weight.shape[1] != x.shape[2]:
            raise LoweringError(f"{where}: weight {tuple(weight.shape)} does not fit input {x.shape} (H, W, C)")
        stride, padding = tuple(attrs["stride"]), tuple(attrs["padding"])
        kh, kw = weight.shape[2:]
        oh = ir.conv_output_size(x.shape[0], kh, stride[0], padding[0], padding[2])
        ow = ir.conv_output_size(x.shape[1], kw, stride[1], padding[1], padding[3])
        if oh < 1 or ow < 1:
            raise LoweringError(f"{where}: kernel larger than the padded input {x.shape}")
        conv = ir.FloatConv2d(weight=weight, bias=bias, bn=_bn(node), stride=stride, padding=padding,
                              activation=attrs["activation"], **io)
        return conv, (oh, ow, weight.shape[0]), q
    if op == "max_pool2d":
        if len(x.shape) != 3:
            raise LoweringError(f"{where}: max pool needs a (C, H, W) input")
        (kh, kw), (sh, sw), (ph, pw) = attrs["kernel"], attrs["stride"], attrs["padding"]
        ceil = bool(attrs["ceil_mode"])
        oh = ir.pool_output_size(x.shape[0], kh, sh, ph, ceil)
        ow = ir.pool_output_size(x.shape[1], kw, sw, pw, ceil)
        pool = ir.MaxPool2d(kernel=(kh, kw), stride=(sh, sw), padding=(ph, pw, ph, pw), ceil_mode=ceil, **io)
        return pool, (oh, ow, x.shape[2]), x.qparams
    if op == "flatten":
        return ir.Flatten(**io), (x.size,), x.qparams
    lo, hi = activation_range(op, x.qparams)
    return ir.Clamp(lo=lo, hi=hi, **io), x.shape, x.qparams


def import_artifact(artifact: dict[str, Any], source_sha256: str = "") -> ir.Graph:
    """Float-level graph of a validated artifact (see :mod:`tinyqat.artifact`)."""
    inp = artifact["input"]
    shape = tuple(inp["shape"])
    in_shape = (shape[1], shape[2], shape[0]) if len(shape) == 3 else shape
    tensors = {inp["name"]: ir.Tensor(inp["name"], in_shape, _qparams(inp, "model input"))}
    ops = []
    for node in artifact["nodes"]:
        op, out_shape, q = _node_op(node, tensors[node["inputs"][0]])
        ops.append(op)
        tensors[op.output] = ir.Tensor(op.output, tuple(int(d) for d in out_shape), q)
    return ir.Graph(tensors=tuple(tensors.values()), ops=tuple(ops), input=inp["name"], output=artifact["output"],
                    source_sha256=source_sha256)


def lower(artifact: dict[str, Any], source_sha256: str = "") -> ir.Graph:
    """Run the whole lowering pipeline; the result is a validated integer graph."""
    graph = ir.validate(import_artifact(artifact, source_sha256))
    for step in PASSES:
        graph = ir.validate(step(graph))
    if not graph.is_integer:
        raise LoweringError("internal error: lowering left float ops in the graph")
    return graph


def lower_file(path: str | Path) -> ir.Graph:
    """Load and lower ``model.pt``; the graph records the file's sha256."""
    data = Path(path).read_bytes() if Path(path).is_file() else b""
    artifact = load_artifact(path)
    return lower(artifact, hashlib.sha256(data).hexdigest())
