"""Capture a trained QAT model (from :func:`tinyqat.qat.prepare_qat`) as a plain-data artifact.

``to_artifact`` walks the QAT graph in execution order and emits one node per QAT module
(schema in :mod:`tinyqat.artifact`). Parameters are the raw float32 tensors (BatchNorm unfolded:
lowering folds with ``quant.fold_bn`` exactly as the eval forward does; a Conv1d weight
``[O, I, k]`` is stored as ``[O, I, 1, k]``); output quantization is the ``qparams()`` of each
module's output quantizer (``quant.activation_qparams(min_val, max_val)``, or the fixed grid of
sigmoid/tanh/softmax), stored as Python ``float``/``int``.  Modules that keep their input's grid
(pools, flatten, standalone clamps) have ``qparams`` ``None``.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from tinyqat.artifact import FORMAT, SINGLE_OUTPUT_VERSION, VERSION, encode_artifact
from tinyqat.errors import TinyQatError
from tinyqat.files import write_new_file
from tinyqat.qat.elementwise import QuantMul, QuantMulConst, QuantPointwise, QuantPReLU
from tinyqat.qat.fake_quant import ActivationQuantizer, InputQuantizer
from tinyqat.qat.modules import (
    Activation,
    QuantAdd,
    QuantAvgPool2d,
    QuantCat,
    QuantConv1d,
    QuantConv2d,
    QuantFlatten,
    QuantMaxPool2d,
    QuantNonlinear,
    QuantOutput,
    QuantWeighted,
    SharedQuantClamp,
)
from tinyqat.qat.plumbing import DeployedAsLogits, QuantMove, QuantResizeNearest
from tinyqat.quant import LUT_PARAMS
from tinyqat.version import __version__

_NOT_PREPARED = "the model was not produced by tinyqat.prepare_qat (prepare it, train or calibrate, then save)"


class CaptureError(TinyQatError):
    """The model cannot be captured as an artifact (message is one line)."""


class ArtifactExistsError(CaptureError, FileExistsError):
    """``save`` refused to replace an existing file."""


def _param(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to(device="cpu", dtype=torch.float32).contiguous().clone()


def _qparams(q: ActivationQuantizer) -> dict[str, Any]:
    scale, zero_point = q.qparams()
    return {"scale": float(scale.item()), "zero_point": int(zero_point.item())}


def _bound(v: float) -> float | None:
    """An interval bound in artifact form: an infinite one (a one-sided ``clamp``) is ``None``."""
    return float(v) if math.isfinite(v) else None


def _activation(act: Activation) -> str | list[float | None]:
    """Artifact form: the name, or ``[lo, hi]`` for a Hardtanh / clamp interval (``None``: unbounded)."""
    return act if isinstance(act, str) else [_bound(act[0]), _bound(act[1])]


def _elementwise_node(
    m: QuantPointwise | QuantMul | QuantPReLU | QuantMulConst,
) -> tuple[str, dict[str, Any], dict[str, torch.Tensor]]:
    """``(op, attrs, params)`` of a module of :mod:`tinyqat.qat.elementwise`."""
    if isinstance(m, QuantPointwise):
        return m.function, dict(zip(LUT_PARAMS.get(m.function, ()), m.params, strict=True)), {}
    if isinstance(m, QuantMul):
        return "mul", {}, {}
    if isinstance(m, QuantMulConst):
        return "mul_const", {}, {"constant": _param(m.constant.reshape(-1))}
    return "prelu", {}, {"weight": _param(m.prelu.weight)}


def _weighted_node(m: QuantWeighted) -> tuple[str, dict[str, Any], dict[str, torch.Tensor]]:
    weight, bias = m.float_params()
    if isinstance(m, QuantConv1d):
        weight = weight.unsqueeze(2)
    params = {"weight": _param(weight), "bias": _param(bias)}
    attrs: dict[str, Any] = {"activation": _activation(m.activation)}
    if m.weight_bits != 8:
        attrs["weight_bits"] = m.weight_bits
    if m.bn is not None:
        gamma, beta = m.bn_affine()
        params |= {
            "bn_weight": _param(gamma),
            "bn_bias": _param(beta),
            "bn_mean": _param(m.bn.running_mean),
            "bn_var": _param(m.bn.running_var),
        }
        attrs["bn_eps"] = float(m.bn.eps)
    if isinstance(m, QuantConv2d):
        attrs |= {"stride": list(m.stride), "padding": list(m.padding)}
        if m.groups != 1:
            attrs["groups"] = m.groups
        return "conv2d", attrs, params
    return "linear", attrs, params


def _pool_attrs(m: QuantMaxPool2d | QuantAvgPool2d) -> dict[str, Any]:
    return {
        "kernel": list(m.kernel_size),
        "stride": list(m.stride),
        "padding": list(m.padding),
        "ceil_mode": bool(m.ceil_mode),
    }


def _node(name: str, m: nn.Module, srcs: list[str]) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    params: dict[str, torch.Tensor] = {}
    if isinstance(m, QuantWeighted):
        op, attrs, params = _weighted_node(m)
    elif isinstance(m, QuantMaxPool2d):
        op, attrs = "max_pool2d", _pool_attrs(m)
    elif isinstance(m, QuantAvgPool2d):
        op, attrs = "avg_pool2d", _pool_attrs(m) | {"count_include_pad": bool(m.count_include_pad)}
    elif isinstance(m, QuantFlatten):
        op = "flatten"
    elif isinstance(m, SharedQuantClamp):
        if isinstance(m.activation, tuple):
            op, attrs = "hardtanh", {"min_val": _bound(m.activation[0]), "max_val": _bound(m.activation[1])}
        else:
            op = m.activation
    elif isinstance(m, QuantAdd):
        op, attrs = "sub" if m.subtract else "add", {"activation": _activation(m.activation)}
    elif isinstance(m, QuantCat):
        op = "cat"
    elif isinstance(m, QuantNonlinear):
        op = m.function
    elif isinstance(m, (QuantPointwise, QuantMul, QuantPReLU, QuantMulConst)):
        op, attrs, params = _elementwise_node(m)
    elif isinstance(m, QuantMove):  # plumbing: see tinyqat.movement
        op, attrs = ("reshape", {"shape": list(m.shape)}) if m.move.kind == "alias" else (
            "gather", {"shape": list(m.shape), "index": list(m.move.index)})
    elif isinstance(m, QuantResizeNearest):
        op, attrs = "resize_nearest", {"scale": list(m.scale)}
    else:
        raise CaptureError(f"{_NOT_PREPARED}: unexpected module {type(m).__name__} at {name!r}")
    return {
        "name": name,
        "op": op,
        "module": m.source,
        "inputs": srcs,
        "attrs": attrs,
        "params": params,
        "qparams": _qparams(m.output_quantizer) if isinstance(m, QuantOutput) else None,
    }


def _readable_name(candidates: list[str], taken: set[str]) -> str:
    """A node name from the user's module path (else the fx name): ``features.3`` -> ``features_3``,
    ``0`` -> ``layer_0``; the first candidate not yet taken, else the first with ``_2``, ``_3``..."""
    bases = []
    for source in filter(None, candidates):
        base = re.sub(r"\W", "_", source)
        bases.append(base if base[:1].isalpha() else f"layer_{base.lstrip('_')}")
    for base in bases:
        if base not in taken:
            return base
    k = 2
    while f"{bases[0]}_{k}" in taken:
        k += 1
    return f"{bases[0]}_{k}"


def to_artifact(qat_model: nn.Module) -> dict[str, Any]:
    """The artifact dict (schema version 1 of :mod:`tinyqat.artifact`) of a prepared, trained model.

    A ``DistributedDataParallel`` or ``DataParallel`` wrapper is unwrapped (its ``.module``): under DDP
    every rank holds the same parameters and (broadcast from rank 0) buffers, so any rank may save.
    """
    if isinstance(qat_model, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
        qat_model = qat_model.module
    if not isinstance(qat_model, fx.GraphModule):
        raise CaptureError(_NOT_PREPARED)
    placeholders = [n for n in qat_model.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise CaptureError(_NOT_PREPARED)
    modules = dict(qat_model.named_modules())
    unobserved = [name for name, m in modules.items() if isinstance(m, ActivationQuantizer) and not bool(m.observed)]
    if unobserved:
        raise CaptureError(
            f"the model's quantizers have not observed any data ({unobserved[0]!r} and {len(unobserved) - 1} more): "
            "train or calibrate it first"
        )
    output_node = next(n for n in qat_model.graph.nodes if n.op == "output")
    names: dict[fx.Node, str] = {}
    nodes: list[dict[str, Any]] = []
    inp: dict[str, Any] | None = None
    outputs: tuple[Any, ...] = ()
    for node in qat_model.graph.nodes:
        if node.op == "placeholder":
            names[node] = node.name
        elif node.op == "output":
            result = node.args[0]
            outputs = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        elif node.op == "call_module" and node.args and all(a in names for a in node.args) and not node.kwargs:
            m = modules[str(node.target)]
            if isinstance(m, InputQuantizer) and node.args == (placeholders[0],) and inp is None:
                inp = {"name": node.args[0].name, "shape": list(m.input_shape), **_qparams(m)}
                names[node] = node.args[0].name
            elif isinstance(m, DeployedAsLogits) and list(node.users) == [output_node]:
                names[node] = names[node.args[0]]  # deployed as the logits it reads
            else:
                names[node] = _readable_name([getattr(m, "source", ""), str(node.target)], set(names.values()))
                nodes.append(_node(names[node], m, [names[a] for a in node.args]))
        else:
            raise CaptureError(f"{_NOT_PREPARED}: unexpected graph node {node.name!r}")
    if inp is None or not outputs or not all(isinstance(o, fx.Node) and o in names for o in outputs):
        raise CaptureError(_NOT_PREPARED)
    tupled = isinstance(output_node.args[0], (tuple, list))
    return {
        "format": FORMAT,
        "version": VERSION if tupled else SINGLE_OUTPUT_VERSION,
        "producer": f"tinyqat {__version__}",
        "input": inp,
        "output": [names[o] for o in outputs] if tupled else names[outputs[0]],
        "nodes": nodes,
    }


def save(qat_model: nn.Module, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Write :func:`to_artifact` of ``qat_model`` to ``path`` atomically; never replaces an existing
    file unless ``overwrite=True`` (:func:`tinyqat.files.write_new_file`: a temporary file beside
    ``path``, then one link or rename; the umask applies and is never changed)."""
    path = Path(path)
    if path.exists() and not overwrite:  # early, friendly; write_new_file is what guarantees it
        raise ArtifactExistsError(f"{path} already exists; pass overwrite=True to replace it")
    if not path.parent.is_dir():
        raise CaptureError(f"{path}: directory {path.parent} does not exist")
    if not write_new_file(path, encode_artifact(to_artifact(qat_model)), replace=overwrite):
        raise ArtifactExistsError(f"{path} already exists; pass overwrite=True to replace it")
