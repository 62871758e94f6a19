"""Lowering: artifact (plain data) -> float IR -> passes -> validated integer IR.

Pipeline, each step followed by :func:`tinyqat.ir.validate`:

1. :func:`import_artifact`: nodes become float ops with channels-last shapes; ops that keep
   their input's quantization (pool, flatten, standalone clamps) inherit its qparams.
2. :func:`tinyqat.passes.fold_bn.fold_bn`: BatchNorm folded into weights and bias.
3. :func:`tinyqat.passes.layout.fold_flatten`: flatten removed, Linear weights permuted;
   :func:`tinyqat.passes.layout.fold_reshape`: reshapes only Linear layers read (or the output) removed.
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

from tinyqat import ir, quant, requant
from tinyqat.artifact import output_names, read_artifact
from tinyqat.errors import LoweringError
from tinyqat.passes.fold_bn import fold_bn
from tinyqat.passes.fuse_act import fuse_activations
from tinyqat.passes.layout import fold_flatten, fold_reshape
from tinyqat.passes.quantize import activation_range, quantize_graph

PASSES: tuple[Callable[[ir.Graph], ir.Graph], ...] = (fold_bn, fold_flatten, fold_reshape, quantize_graph,
                                                      fuse_activations)


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


def _conv(node: dict[str, Any], x: ir.Tensor, where: str) -> tuple[ir.Op, tuple[int, ...]]:
    attrs, params = node["attrs"], node["params"]
    weight, bias = params["weight"].numpy(), params["bias"].numpy()
    groups = int(attrs.get("groups", 1))
    if len(x.shape) != 3 or weight.ndim != 4 or weight.shape[1] * groups != x.shape[2]:
        raise LoweringError(f"{where}: weight {tuple(weight.shape)} does not fit input {x.shape} (H, W, C)")
    stride, padding = tuple(attrs["stride"]), tuple(attrs["padding"])
    kh, kw = weight.shape[2:]
    oh = ir.conv_output_size(x.shape[0], kh, stride[0], padding[0], padding[2])
    ow = ir.conv_output_size(x.shape[1], kw, stride[1], padding[1], padding[3])
    if oh < 1 or ow < 1:
        raise LoweringError(f"{where}: kernel larger than the padded input {x.shape}")
    conv = ir.FloatConv2d(name=node["name"], input=x.name, output=node["name"], weight=weight, bias=bias,
                          bn=_bn(node), stride=stride, padding=padding, groups=groups,
                          activation=requant.activation_interval(attrs["activation"]),
                          weight_bits=int(attrs.get("weight_bits", 8)))
    return conv, (oh, ow, weight.shape[0])


def _pool(node: dict[str, Any], x: ir.Tensor, where: str) -> tuple[ir.Op, tuple[int, ...]]:
    attrs = node["attrs"]
    if len(x.shape) != 3:
        raise LoweringError(f"{where}: pooling needs a (C, H, W) input")
    (kh, kw), (sh, sw), (ph, pw) = attrs["kernel"], attrs["stride"], attrs["padding"]
    ceil = bool(attrs["ceil_mode"])
    oh = ir.pool_output_size(x.shape[0], kh, sh, ph, ceil)
    ow = ir.pool_output_size(x.shape[1], kw, sw, pw, ceil)
    common = {"name": node["name"], "input": x.name, "output": node["name"], "kernel": (kh, kw), "stride": (sh, sw),
              "padding": (ph, pw, ph, pw), "ceil_mode": ceil}
    if node["op"] == "max_pool2d":
        return ir.MaxPool2d(**common), (oh, ow, x.shape[2])
    return ir.AvgPool2d(count_include_pad=bool(attrs["count_include_pad"]), **common), (oh, ow, x.shape[2])


def _node_op(
    node: dict[str, Any], xs: list[ir.Tensor], torch_x: tuple[int, ...]
) -> tuple[ir.Op, tuple[int, ...], ir.QParams]:
    """The float-level op for ``node`` reading ``xs`` (PyTorch shape of the first: ``torch_x``),
    with its output shape and qparams."""
    name, op, attrs, params = node["name"], node["op"], node["attrs"], node["params"]
    where = f"layer '{name}' ({node['module'] or op})"
    x = xs[0]
    q = _qparams(node["qparams"], where) if node["qparams"] is not None else x.qparams
    io = {"name": name, "input": x.name, "output": name}
    if op == "conv2d":
        return (*_conv(node, x, where), q)
    if op == "linear":
        weight, bias = params["weight"].numpy(), params["bias"].numpy()
        if weight.ndim != 2 or weight.shape[1] != x.size or len(torch_x) != 1:
            raise LoweringError(f"{where}: expects {weight.shape[1:]} features, input is {torch_x}")
        linear = ir.FloatLinear(weight=weight, bias=bias, bn=_bn(node),
                                activation=requant.activation_interval(attrs["activation"]),
                                weight_bits=int(attrs.get("weight_bits", 8)), **io)
        return linear, (weight.shape[0],), q
    if op in ("max_pool2d", "avg_pool2d"):
        return (*_pool(node, x, where), q)
    if op == "flatten":
        return ir.Flatten(**io), (x.size,), q
    if op in ("add", "sub"):
        reverse = op == "sub" and xs[0].size < xs[1].size  # g - x: SUB whose first operand is the broadcast one
        if reverse:
            xs = xs[::-1]
            x = xs[0]
        if not ir.mul_broadcasts(xs[0].shape, xs[1].shape):
            raise LoweringError(f"{where}: cannot {op} {xs[0].shape} and {xs[1].shape}: the second must have the "
                                "first's shape or be a per-channel (1, 1, C) operand")
        add = ir.FloatAdd(name=name, inputs=(xs[0].name, xs[1].name), output=name,
                          activation=requant.activation_interval(attrs["activation"]), subtract=op == "sub",
                          reverse=reverse)
        return add, x.shape, q
    if op == "cat":
        if any(t.shape[:-1] != x.shape[:-1] for t in xs):
            raise LoweringError(f"{where}: inputs {[t.shape for t in xs]} differ in more than channels")
        shape = (*x.shape[:-1], sum(t.shape[-1] for t in xs))
        return ir.FloatConcat(name=name, inputs=tuple(t.name for t in xs), output=name), shape, q
    if op in ir.LUT_FUNCTIONS:
        constants = tuple(float(attrs[k]) for k in quant.LUT_PARAMS.get(op, ()))
        return ir.FloatLookup(function=op, params=constants, **io), x.shape, q
    if op in ("mul", "prelu", "mul_const"):
        return _elementwise(node, xs, where), max(xs, key=lambda t: t.size).shape, q
    if op in ("reshape", "gather", "resize_nearest"):
        return (*_move(node, x, where), q)
    if op == "softmax":
        if q != ir.SOFTMAX_QPARAMS:
            raise LoweringError(f"{where}: softmax output must have scale 1/256 and zero point -128")
        return ir.FloatSoftmax(**io), x.shape, q
    if op == "log_softmax":
        if q != ir.LOG_SOFTMAX_QPARAMS:
            raise LoweringError(f"{where}: log_softmax output must have scale 16/256 and zero point 127")
        return ir.FloatLogSoftmax(**io), x.shape, q
    bounds = requant.NAMED_INTERVALS.get(op) or requant.activation_interval((attrs["min_val"], attrs["max_val"]))
    lo, hi = activation_range(bounds, x.qparams)
    return ir.Clamp(lo=lo, hi=hi, **io), x.shape, q


def _elementwise(node: dict[str, Any], xs: list[ir.Tensor], where: str) -> ir.Op:
    """``mul`` (the full-shape operand first: multiplication commutes), ``prelu`` or ``mul_const``."""
    name = node["name"]
    if node["op"] == "mul_const":
        constant = node["params"]["constant"].numpy().reshape(-1)
        if constant.size not in (1, xs[0].shape[-1]):
            raise LoweringError(f"{where}: {constant.size} constant values for {xs[0].shape[-1]} channels")
        return ir.FloatMulConst(name=name, input=xs[0].name, output=name, constant=constant)
    if node["op"] == "prelu":
        alpha = node["params"]["weight"].numpy().reshape(-1)
        if alpha.size not in (1, xs[0].shape[-1]):
            raise LoweringError(f"{where}: {alpha.size} alpha values for {xs[0].shape[-1]} channels")
        return ir.FloatPRelu(name=name, input=xs[0].name, output=name, alpha=alpha)
    a, b = xs
    if not ir.mul_broadcasts(a.shape, b.shape):
        a, b = b, a
    if not ir.mul_broadcasts(a.shape, b.shape):
        raise LoweringError(f"{where}: cannot multiply {xs[0].shape} and {xs[1].shape} (same shape, or a "
                            "per-channel (1, 1, C) gate)")
    return ir.FloatMul(name=name, inputs=(a.name, b.name), output=name)


def _move(node: dict[str, Any], x: ir.Tensor, where: str) -> tuple[ir.Op, tuple[int, ...]]:
    """A data-movement node (:mod:`tinyqat.movement`) as its int8 op and output shape."""
    io = {"name": node["name"], "input": x.name, "output": node["name"]}
    attrs = node["attrs"]
    if node["op"] == "resize_nearest":
        sh, sw = (int(v) for v in attrs["scale"])
        if len(x.shape) != 3 or sh < 1 or sw < 1:
            raise LoweringError(f"{where}: upsampling needs a (C, H, W) or (C, L) input and factors >= 1")
        return ir.ResizeNearest(scale=(sh, sw), **io), (x.shape[0] * sh, x.shape[1] * sw, x.shape[2])
    shape = _ir_shape(tuple(int(d) for d in attrs["shape"]))
    if node["op"] == "reshape":
        if int(np.prod(shape)) != x.size:
            raise LoweringError(f"{where}: reshape to {tuple(attrs['shape'])} changes the size of {x.shape}")
        return ir.Reshape(**io), shape
    index = tuple(int(c) for c in attrs["index"])
    if not index or int(np.prod(shape)) != x.size // x.shape[-1] * len(index):
        raise LoweringError(f"{where}: gather of {len(index)} channels cannot give {tuple(attrs['shape'])}")
    return ir.Gather(index=index, **io), shape


def _ir_shape(torch_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Per-sample PyTorch shape -> channels-last IR shape ((C, L) maps to (1, L, C))."""
    if len(torch_shape) == 3:
        return (torch_shape[1], torch_shape[2], torch_shape[0])
    if len(torch_shape) == 2:
        return (1, torch_shape[1], torch_shape[0])
    return torch_shape


def import_artifact(artifact: dict[str, Any], source_sha256: str = "") -> ir.Graph:
    """Float-level graph of a validated artifact (see :mod:`tinyqat.artifact`).

    A flatten whose channels-last bytes already are in PyTorch's order (a vector, or a 1 x 1
    map) becomes an alias of its input: no op, the same tensor, a vector PyTorch shape.  A model
    output that so aliases the input or an earlier output gets a tensor of its own, copied by a
    :class:`~tinyqat.ir.Reshape` at the end (outputs are distinct tensors, each kept to the end).
    """
    inp = artifact["input"]
    torch_in = tuple(inp["shape"])
    tensors = {inp["name"]: ir.Tensor(inp["name"], _ir_shape(torch_in), _qparams(inp, "model input"))}
    names = {inp["name"]: inp["name"]}  # artifact node -> IR tensor
    torch_shapes = {inp["name"]: torch_in}  # artifact node -> PyTorch per-sample shape
    ops = []
    for node in artifact["nodes"]:
        xs = [tensors[names[i]] for i in node["inputs"]]
        torch_x = torch_shapes[node["inputs"][0]]
        if node["op"] == "flatten" and (len(xs[0].shape) == 1 or xs[0].shape[0] * xs[0].shape[1] == 1):
            names[node["name"]], torch_shapes[node["name"]] = xs[0].name, (xs[0].size,)
            continue
        if node["op"] == "reshape" and _ir_shape(tuple(node["attrs"]["shape"])) == xs[0].shape:
            names[node["name"]], torch_shapes[node["name"]] = xs[0].name, tuple(node["attrs"]["shape"])
            continue  # a relabel of the same channels-last tensor: nothing at all
        op, out_shape, q = _node_op(node, xs, torch_x)
        ops.append(op)
        shape = tuple(int(d) for d in out_shape)
        tensors[op.output] = ir.Tensor(op.output, shape, q)
        names[node["name"]], torch_shapes[node["name"]] = op.output, (
            tuple(node["attrs"]["shape"]) if node["op"] in ("reshape", "gather") else _torch_shape(shape, torch_x))
    outputs = []  # IR tensor of each output; one that aliases the input or an earlier output is copied
    for node_name in output_names(artifact):
        t = names[node_name]
        if t in (inp["name"], *outputs):  # e.g. (y, y.flatten(1)) of a 1 x 1 map: the same bytes
            ops.append(ir.Reshape(name=node_name, input=t, output=node_name))
            tensors[node_name] = ir.Tensor(node_name, tensors[t].shape, tensors[t].qparams)
            t = node_name
        outputs.append(t)
    out, *extra = output_names(artifact)
    return ir.Graph(tensors=tuple(tensors.values()), ops=tuple(ops), input=inp["name"], output=outputs[0],
                    torch_input_shape=torch_in, torch_output_shape=torch_shapes[out], source_sha256=source_sha256,
                    extra_outputs=tuple(outputs[1:]), extra_torch_output_shapes=tuple(torch_shapes[o] for o in extra))


def _torch_shape(shape: tuple[int, ...], torch_x: tuple[int, ...]) -> tuple[int, ...]:
    """PyTorch per-sample shape of an op output: vectors stay vectors, 1-D maps stay (C, L)."""
    if len(torch_x) == 1 or len(shape) == 1:
        return (int(np.prod(shape)),)
    if len(torch_x) == 2 and shape[0] == 1:
        return (shape[2], shape[1])
    return ir.torch_shape(shape)


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
    artifact, data = read_artifact(path)
    return lower(artifact, hashlib.sha256(data).hexdigest())
