"""The ``model.pt`` artifact: a versioned plain-data description of a trained QAT graph.

Written with ``torch.save`` and read with ``torch.load(..., weights_only=True)``: only
dicts, lists, strings, numbers, booleans, ``None`` and tensors, so loading never
imports user classes nor runs code from the file.

Schema (version 2; a version-1 file is the same with ``"output"`` a string)::

    {
      "format": "tinyqat.artifact", "version": 1, "producer": "tinyqat <version>",
      "input":  {"name": str, "shape": [C, H, W] | [C, L] | [F],  # per sample, PyTorch order
                 "scale": float, "zero_point": int},
      "output": str | [str, ...],                               # the result node, or the nodes of a
                                                                #   returned tuple, in order
      "nodes":  [node, ...]                                     # topological order
    }
    node = {"name": str, "op": str, "module": str,              # module path, for messages
            "inputs": [str], "attrs": {...}, "params": {str: Tensor},
            "qparams": {"scale": float, "zero_point": int} | None}

An ``activation`` attribute is ``"none"``, ``"relu"``, ``"relu6"`` or ``[lo, hi]`` (real
bounds, ``None`` for unbounded: Hardtanh).  Node ops, their attrs and params (``qparams`` is
the output quantization, ``None`` for ops that keep their input's); one input unless noted:

* ``conv2d``: attrs ``stride [sh, sw]``, ``padding [top, left, bottom, right]``, ``activation``,
  optional ``groups`` (1, or the input channel count for depthwise; default 1), ``bn_eps``
  (float, when BN params are present); params ``weight [O, I/groups, kh, kw]``, ``bias [O]``,
  optionally ``bn_weight``, ``bn_bias``, ``bn_mean``, ``bn_var`` (each ``[O]``).  A Conv1d is
  stored as a conv2d with ``kh = 1`` on a ``[C, 1, L]`` map.  qparams required.
* ``linear``: as ``conv2d`` without stride/padding/groups; ``weight [O, I]``. qparams required.
* ``conv2d`` and ``linear`` take an optional attr ``weight_bits``: 8 (the default when absent) or
  4 (symmetric per-channel weights in ``[-7, 7]``, ``scale = max|w| / 7``; packed two per byte
  in C).  Written only when it is not 8, so 8-bit artifacts are unchanged.
* ``max_pool2d``: attrs ``kernel [kh, kw]``, ``stride [sh, sw]``, ``padding [ph, pw]``
  (symmetric), ``ceil_mode`` (bool).
* ``avg_pool2d``: as ``max_pool2d`` plus ``count_include_pad`` (bool).  Global average pooling
  is a window over the whole map.
* ``flatten``: no attrs (PyTorch ``flatten(start_dim=1)``).
* ``relu``, ``relu6``: standalone clamps with the input's quantization; ``hardtanh`` likewise
  with attrs ``min_val``, ``max_val`` (floats).
* ``add``, ``sub`` (first minus second): two inputs, the second the first's shape or ``[C, 1, 1]`` against
  ``[C, H, W]``; attrs ``activation``; qparams required.
* ``cat``: two or more inputs, concatenated along channels; qparams required.
* ``sigmoid``, ``tanh``, ``hardswish``: qparams required (the output's).
* ``softmax``: over channels; qparams must be scale 1/256, zero point -128.
* ``log_softmax``: over channels (TFLite's int8 LOG_SOFTMAX); qparams must be scale 16/256, zero point 127.
* ``hardsigmoid``, ``silu``, ``gelu``, ``gelu_tanh``, ``elu`` (attr ``alpha``), ``leaky_relu`` (attr
  ``negative_slope``), ``affine`` (attrs ``scale``, ``offset``: ``y = scale * x + offset``, the scalar
  arithmetic ``x * c``, ``x + c``...): pointwise functions (``tinyqat.quant.LUT_FUNCTIONS``), float attrs,
  qparams required.
* ``mul``: two inputs, the second the first's shape or ``[C, 1, 1]`` against ``[C, H, W]``; qparams required.
* ``prelu``: params ``weight [1]`` or ``[C]`` (alpha); qparams required.
* ``mul_const``: the product with a constant, params ``constant [1]`` or ``[C]`` (float, per channel);
  qparams required.
* ``hardtanh`` bounds may be ``None`` (one-sided ``clamp``).
* ``reshape``: attrs ``shape`` (the per-sample PyTorch output shape, same channels-last bytes:
  :mod:`tinyqat.movement`); ``gather``: attrs ``shape`` and ``index`` (output channel ``j`` of every
  pixel is input channel ``index[j]``); ``resize_nearest``: attrs ``scale [sh, sw]`` (integer
  factors, ``sh = 1`` for ``(C, L)`` maps).  All keep the input's quantization (qparams ``None``).

Limits, checked before anything of that size is allocated: the file is at most
:data:`MAX_ARTIFACT_BYTES` and so is the sum of the sizes its zip directory declares (read
before ``torch.load``); a tensor holds at most :data:`~tinyqat.target.MAX_TENSOR_BYTES` values
(the input shape too); kernel, stride and padding values are at most
:data:`~tinyqat.target.MAX_DIM`.  Parameter shapes must agree with the node
(``bias``/``bn_*`` ``[O]`` for a weight ``[O, ...]``); the input channels of each weight are
checked against the graph by lowering, before any activation is allocated.
"""

from __future__ import annotations

import io
import math
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch

from tinyqat.errors import TinyQatError
from tinyqat.quant import LUT_FUNCTIONS, LUT_PARAMS, WEIGHT_BITS
from tinyqat.target import MAX_DIM, MAX_TENSOR_BYTES

FORMAT = "tinyqat.artifact"
VERSION = 2  # 2: "output" may be a list (a model returning a tuple)
SINGLE_OUTPUT_VERSION = 1  # written for a model returning one tensor, so older tinyqat versions read it

_POOL = {"kernel", "stride", "padding", "ceil_mode"}
NODE_OPS = {
    "conv2d": {"attrs": {"stride", "padding", "activation"}, "params": {"weight", "bias"}, "qparams": True},
    "linear": {"attrs": {"activation"}, "params": {"weight", "bias"}, "qparams": True},
    "max_pool2d": {"attrs": _POOL, "params": set(), "qparams": False},
    "avg_pool2d": {"attrs": _POOL | {"count_include_pad"}, "params": set(), "qparams": False},
    "flatten": {"attrs": set(), "params": set(), "qparams": False},
    "relu": {"attrs": set(), "params": set(), "qparams": False},
    "relu6": {"attrs": set(), "params": set(), "qparams": False},
    "hardtanh": {"attrs": {"min_val", "max_val"}, "params": set(), "qparams": False},
    "add": {"attrs": {"activation"}, "params": set(), "qparams": True},
    "sub": {"attrs": {"activation"}, "params": set(), "qparams": True},
    "cat": {"attrs": set(), "params": set(), "qparams": True},
    "sigmoid": {"attrs": set(), "params": set(), "qparams": True},
    "tanh": {"attrs": set(), "params": set(), "qparams": True},
    "hardswish": {"attrs": set(), "params": set(), "qparams": True},
    "softmax": {"attrs": set(), "params": set(), "qparams": True},
    "log_softmax": {"attrs": set(), "params": set(), "qparams": True},
    "reshape": {"attrs": {"shape"}, "params": set(), "qparams": False},
    "gather": {"attrs": {"shape", "index"}, "params": set(), "qparams": False},
    "resize_nearest": {"attrs": {"scale"}, "params": set(), "qparams": False},
}
INPUT_COUNTS = {"add": (2, 2), "sub": (2, 2), "cat": (2, 1 << 16)}
# Elementwise ops and pointwise functions: tables of LUT_FUNCTIONS with their constants as float attrs
# (LUT_PARAMS), the two-input mul, and prelu with its float alpha [1] or [C].
NODE_OPS |= {f: {"attrs": set(LUT_PARAMS.get(f, ())), "params": set(), "qparams": True}
             for f in LUT_FUNCTIONS if f not in NODE_OPS}
NODE_OPS |= {"mul": {"attrs": set(), "params": set(), "qparams": True},
             "prelu": {"attrs": set(), "params": {"weight"}, "qparams": True},
             "mul_const": {"attrs": set(), "params": {"constant"}, "qparams": True}}
INPUT_COUNTS["mul"] = (2, 2)
BN_PARAMS = ("bn_weight", "bn_bias", "bn_mean", "bn_var")
ACTIVATIONS = ("none", "relu", "relu6")
WEIGHTED_OPS = ("conv2d", "linear")
MAX_ARTIFACT_BYTES = 1 << 29  # 512 MiB: 2**26 float32 weights with room to spare
_WEIGHT_NDIM = {"conv2d": 4, "linear": 2}


class ArtifactError(TinyQatError):
    """The file is not a valid tinyqat artifact; the message is one line for the user."""


def save_artifact(artifact: dict[str, Any], path: str | Path) -> None:
    """Validate ``artifact`` and write it to ``path`` (tensors made contiguous CPU float32).

    Serialized in memory first: ``torch.save`` names the zip archive's folder after the file it writes,
    so writing the bytes makes the file the same whatever it (or a temporary file) is called.
    """
    Path(path).write_bytes(encode_artifact(artifact))


def encode_artifact(artifact: dict[str, Any]) -> bytes:
    """Validate ``artifact`` and serialize it (the bytes :func:`save_artifact` writes)."""
    validate_artifact(artifact)
    buffer = io.BytesIO()
    torch.save(artifact, buffer)
    return buffer.getvalue()


def load_artifact(path: str | Path) -> dict[str, Any]:
    """Read and validate an artifact; raise :class:`ArtifactError` with a one-line reason."""
    return read_artifact(path)[0]


def read_artifact(path: str | Path) -> tuple[dict[str, Any], bytes]:
    """The validated artifact at ``path`` and the exact bytes it was decoded from (the file is read
    once, so a hash or a copy of the bytes always matches what was loaded)."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: no such file")
    try:
        with path.open("rb") as f:
            data = f.read(MAX_ARTIFACT_BYTES + 1)
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return decode_artifact(data), data
    except ArtifactError as exc:
        raise ArtifactError(f"{path}: {exc}") from None


def decode_artifact(data: bytes) -> dict[str, Any]:
    """Validate the size limits (module docstring) of the serialized ``data``, then load and validate it."""
    if len(data) > MAX_ARTIFACT_BYTES:
        raise ArtifactError(f"larger than the artifact limit of {MAX_ARTIFACT_BYTES} bytes")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ArtifactError("not a tinyqat artifact (not a torch.save zip archive; truncated or another format?)"
                            ) from None
    if declared > MAX_ARTIFACT_BYTES:
        raise ArtifactError(f"its archive declares {declared} bytes of content, more than the artifact limit of "
                            f"{MAX_ARTIFACT_BYTES} bytes")
    try:
        obj = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        # torch's message is many lines (with terminal escapes) advising an unsafe load; keep the culprit only
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        culprit = f" (it references {found.group(1)})" if found else ""
        raise ArtifactError(
            "refused to load: the file contains Python objects other than tensors and plain data "
            f"(a pickled module or custom class?); tinyqat never unpickles code{culprit}"
        ) from None
    except Exception as exc:  # torch raises many types for corrupt archives
        raise ArtifactError(f"corrupt or truncated file ({type(exc).__name__})") from None
    validate_artifact(obj)
    return obj


def _int(value: Any, lo: int, hi: int) -> bool:
    """``value`` is an int (not a bool) in ``[lo, hi]``."""
    return type(value) is int and lo <= value <= hi


def _ints(value: Any, length: int, lo: int, hi: int = MAX_DIM) -> bool:
    return isinstance(value, list) and len(value) == length and all(_int(v, lo, hi) for v in value)


def _qparams_ok(q: Any) -> bool:
    return (
        isinstance(q, dict)
        and isinstance(q.get("scale"), float)
        and _int(q.get("zero_point"), -128, 127)
    )


def _activation_ok(act: Any) -> bool:
    if isinstance(act, str):
        return act in ACTIVATIONS
    return (
        isinstance(act, list)
        and len(act) == 2
        and all(b is None or (isinstance(b, float) and math.isfinite(b)) for b in act)
        and (None in act or act[0] <= act[1])
    )


def validate_artifact(obj: Any) -> None:
    """Check the schema above; raise :class:`ArtifactError` naming the first problem.

    Numeric sanity (NaN, zero scales) is checked by lowering, which can say which layer.
    """
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            raise ArtifactError(
                "this is a plain state_dict, not a tinyqat artifact: create one with tinyqat.save(qat_model, path)"
            )
        raise ArtifactError("not a tinyqat artifact (create one with tinyqat.save(qat_model, path))")
    version = obj.get("version")
    if type(version) is not int:
        raise ArtifactError(f"artifact format version {version!r} is not an integer")
    if version > VERSION:
        raise ArtifactError(
            f"artifact format version {version!r} is newer than this tinyqat supports ({VERSION}); upgrade tinyqat"
        )
    if version < 1:
        raise ArtifactError(f"unknown artifact format version {version!r}")
    inp = obj.get("input")
    if not (isinstance(inp, dict) and isinstance(inp.get("name"), str) and _qparams_ok(inp)):
        raise ArtifactError("artifact input description is missing or malformed")
    shape = inp.get("shape")
    if not (isinstance(shape, list) and len(shape) in (1, 2, 3) and all(_int(d, 1, MAX_TENSOR_BYTES) for d in shape)):
        raise ArtifactError(f"artifact input shape {shape!r} must be [C, H, W], [C, L] or [F]")
    if math.prod(shape) > MAX_TENSOR_BYTES:
        raise ArtifactError(f"artifact input shape {shape!r} exceeds the tensor limit of {MAX_TENSOR_BYTES} values")
    nodes = obj.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise ArtifactError("artifact has no nodes")
    known = {inp["name"]}
    for node in nodes:
        _validate_node(node, known)
        known.add(node["name"])
    output = obj.get("output")
    names = output if isinstance(output, list) and version >= 2 else [output]
    if not names or not all(isinstance(n, str) and n in known for n in names):
        raise ArtifactError(f"artifact output {output!r} is not a node"
                            + (" or a list of nodes" if version >= 2 else ""))
    if len(set(names)) != len(names) or inp["name"] in names:
        raise ArtifactError(f"artifact outputs {names!r} must be distinct computed nodes")


def output_names(artifact: dict[str, Any]) -> tuple[str, ...]:
    """The output nodes of a validated artifact, in the order the model returns them."""
    output = artifact["output"]
    return tuple(output) if isinstance(output, list) else (output,)


def _validate_node(node: Any, known: set[str]) -> None:
    if not isinstance(node, dict) or not isinstance(node.get("name"), str):
        raise ArtifactError("malformed node entry")
    name = node["name"]
    spec = NODE_OPS.get(node.get("op"))
    if spec is None:
        raise ArtifactError(f"node {name!r}: unknown op {node.get('op')!r}")
    inputs = node.get("inputs")
    lo, hi = INPUT_COUNTS.get(node["op"], (1, 1))
    if not (isinstance(inputs, list) and lo <= len(inputs) <= hi and all(i in known for i in inputs)):
        raise ArtifactError(f"node {name!r}: inputs {inputs!r} must name {lo}..{hi} earlier nodes")
    if name in known:
        raise ArtifactError(f"node {name!r}: duplicate name")
    attrs, params = node.get("attrs"), node.get("params")
    if not isinstance(attrs, dict) or not isinstance(params, dict) or not isinstance(node.get("module"), str):
        raise ArtifactError(f"node {name!r}: attrs/params/module missing")
    missing = (spec["attrs"] - attrs.keys()) | (spec["params"] - params.keys())
    if missing:
        raise ArtifactError(f"node {name!r}: missing {sorted(missing)}")
    for key, t in params.items():
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            raise ArtifactError(f"node {name!r}: param {key!r} is not a float tensor")
        if t.numel() > MAX_TENSOR_BYTES:
            raise ArtifactError(f"node {name!r}: param {key!r} has {t.numel()} values, more than the tensor limit of "
                                f"{MAX_TENSOR_BYTES}")
    _validate_attrs(node)
    if node["op"] in WEIGHTED_OPS:
        _validate_param_shapes(node)
    if "weight_bits" in attrs and (node["op"] not in WEIGHTED_OPS or type(attrs["weight_bits"]) is not int
                                   or attrs["weight_bits"] not in WEIGHT_BITS):
        raise ArtifactError(f"node {name!r}: weight_bits {attrs['weight_bits']!r} must be one of {WEIGHT_BITS} "
                            "(conv2d and linear only)")
    if "activation" in spec["attrs"] and not _activation_ok(attrs["activation"]):
        raise ArtifactError(f"node {name!r}: unknown activation {attrs['activation']!r}")
    for key in LUT_PARAMS.get(node["op"], ()):
        if not (isinstance(attrs[key], float) and math.isfinite(attrs[key])):
            raise ArtifactError(f"node {name!r}: attr {key!r} must be a finite float, got {attrs[key]!r}")
    if node["op"] == "hardtanh" and not _activation_ok([attrs["min_val"], attrs["max_val"]]):
        raise ArtifactError(f"node {name!r}: hardtanh bounds must be finite floats or None with min_val <= max_val")
    has_bn = [k in params for k in BN_PARAMS]
    if any(has_bn) and not (all(has_bn) and isinstance(attrs.get("bn_eps"), float) and math.isfinite(attrs["bn_eps"])):
        raise ArtifactError(f"node {name!r}: incomplete BatchNorm parameters")
    if spec["qparams"] != (node.get("qparams") is not None):
        raise ArtifactError(f"node {name!r}: qparams {'missing' if spec['qparams'] else 'unexpected'}")
    if spec["qparams"] and not _qparams_ok(node["qparams"]):
        raise ArtifactError(f"node {name!r}: malformed qparams")


def _validate_attrs(node: dict[str, Any]) -> None:
    """Types and ranges of the window, flag and group attrs (module docstring) before lowering uses them."""
    name, op, attrs = node["name"], node["op"], node["attrs"]
    pool = op in ("max_pool2d", "avg_pool2d")
    checks = {
        "stride": lambda v: _ints(v, 2, 1),
        "padding": lambda v: _ints(v, 2 if pool else 4, 0),
        "kernel": lambda v: _ints(v, 2, 1),
        "ceil_mode": lambda v: isinstance(v, bool),
        "count_include_pad": lambda v: isinstance(v, bool),
        "groups": lambda v: _int(v, 1, MAX_TENSOR_BYTES),
    }
    what = {"stride": "2 integers >= 1", "padding": f"{2 if pool else 4} integers >= 0",
            "kernel": "2 integers >= 1", "ceil_mode": "a bool", "count_include_pad": "a bool",
            "groups": "an integer >= 1"}
    for key, ok in checks.items():
        if key in attrs and not ok(attrs[key]):
            limit = f" (each at most {MAX_DIM})" if key in ("stride", "padding", "kernel") else ""
            raise ArtifactError(f"node {name!r}: {key} {attrs[key]!r} must be {what[key]}{limit}")


def _validate_param_shapes(node: dict[str, Any]) -> None:
    """A conv/linear weight has its rank and non-empty dimensions (kernel dims at most
    :data:`~tinyqat.target.MAX_DIM`); ``bias`` and ``bn_*`` hold one value per output channel."""
    name, params = node["name"], node["params"]
    weight = params["weight"]
    ndim = _WEIGHT_NDIM[node["op"]]
    if weight.dim() != ndim or min(weight.shape) < 1 or (ndim == 4 and max(weight.shape[2:]) > MAX_DIM):
        raise ArtifactError(f"node {name!r}: weight shape {list(weight.shape)} is not a {node['op']} weight "
                            f"({ndim} non-empty dimensions)")
    out_c = weight.shape[0]
    for key in ("bias", *BN_PARAMS):
        if key in params and tuple(params[key].shape) != (out_c,):
            raise ArtifactError(f"node {name!r}: {key} shape {list(params[key].shape)} != [{out_c}] "
                                "(one per output channel)")
