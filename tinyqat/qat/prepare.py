"""``prepare_qat``: trace a float model with torch.fx and rewrite it into a fake-quant QAT graph.

Rewrites (fusion requires every intermediate result to have a single user):

* the input placeholder -> :class:`InputQuantizer` (inputs ``(N, F)``, ``(N, C, L)``, ``(N, C, H, W)``);
* [ZeroPad2d | F.pad] Conv2d [+ BatchNorm2d | SyncBatchNorm] [+ activation] -> :class:`QuantConv2d`, for dense
  (groups 1) and depthwise (groups = in_channels) convs; the zero padding is folded into the
  conv's explicit ``(top, left, bottom, right)`` padding;
* [ZeroPad1d | F.pad] Conv1d [+ BatchNorm1d] [+ activation] -> :class:`QuantConv1d`;
* Linear [+ BatchNorm1d] [+ activation] -> :class:`QuantLinear`;
* add of two tensors [+ activation] -> :class:`QuantAdd`; cat along dim 1 -> :class:`QuantCat`;
* any other activation -> :class:`SharedQuantClamp` (re-quantizes on its input's grid);
* sigmoid, tanh, hardswish, softmax and log_softmax over dim 1 -> :class:`QuantNonlinear`;
* hardsigmoid, silu, gelu, elu, leaky_relu (modules and ``F.`` forms), and arithmetic of a tensor and a
  number constant (``x * c``, ``x + c``, ``x - c``, ``c - x``, ``x / c``, ``-x``: ``affine``) ->
  :class:`QuantPointwise`; ``a * b`` of two tensors (same shape, or a map and its per-channel gate
  ``(N, C, 1[, 1])``) -> :class:`QuantMul`; ``nn.PReLU`` -> :class:`QuantPReLU`; ``x * self.scale`` (a
  parameter or buffer of one value or one per channel) -> :class:`QuantMulConst`
  (:mod:`tinyqat.qat.elementwise`);
* MaxPool1d/2d -> :class:`QuantMaxPool2d`; AvgPool1d/2d -> :class:`QuantAvgPool2d`;
* global average pooling (AdaptiveAvgPool1d/2d(1), ``mean`` over the spatial dims) ->
  :class:`QuantAvgPool2d` with the whole map as window, then :class:`QuantFlatten` when the
  spatial dims are dropped (``keepdim=False``);
* Flatten(start_dim=1), ``torch.flatten(x, 1)``, and ``view``/``reshape`` to ``(batch, -1)``
  (checked with the traced shapes) -> :class:`QuantFlatten`;
* Identity and Dropout are removed;
* shape queries, data movement (squeeze, permute, slices, chunk/split, channel shuffle...), nearest
  upsampling, a final (log-)softmax with ``deploy_logits`` and BatchNorm+activation modules: see
  :mod:`tinyqat.qat.prepare_plumbing`.

Activations: ReLU (``nn.ReLU``, ``F.relu``, ``torch.relu``, ``Tensor.relu``), ReLU6 (``nn.ReLU6``,
``F.relu6``, Hardtanh(0, 6)) and Hardtanh(lo, hi) (``nn.Hardtanh``, ``F.hardtanh``), and the clamp forms
``torch.clamp`` / ``Tensor.clamp`` / ``clip`` / ``clamp_min`` / ``clamp_max`` (``min=0`` is ReLU, ``(0, 6)``
ReLU6, else an interval whose missing bound is infinite).  Everything
else raises :class:`tinyqat.errors.UnsupportedOpError` with a one-line message naming the module
path, the op, the source line when torch.fx recorded it, why, what to do instead, and the README
section listing the supported ops.
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import math
import operator
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.fx.node import _get_qualified_name

from tinyqat.errors import TinyQatError, UnsupportedOpError
from tinyqat.qat.elementwise import QuantMul, QuantMulConst, QuantPointwise, QuantPReLU
from tinyqat.qat.fake_quant import ActivationQuantizer, FixedQuantizer, InputQuantizer, WeightQuantizer
from tinyqat.qat.modules import (
    Activation,
    QuantAdd,
    QuantAvgPool2d,
    QuantCat,
    QuantConv1d,
    QuantConv2d,
    QuantFlatten,
    QuantLinear,
    QuantMaxPool2d,
    QuantNonlinear,
    QuantOutput,
    QuantWeighted,
    SharedQuantClamp,
)
from tinyqat.qat.observers import OBSERVERS
from tinyqat.qat.plumbing import DeployedAsLogits
from tinyqat.qat.prepare_plumbing import (
    LOG_SOFTMAX_FUNCTIONS,
    MOVE_FUNCTIONS,
    MOVE_METHODS,
    MOVE_MODULES,
    RESIZE_FUNCTIONS,
    RESIZE_MODULES,
    PlumbingMixin,
    bn_subclass_hint,
    is_const_target,
    is_tensor,
    is_tensor_tuple,
    unwrap_norm_act,
)
from tinyqat.quant import WEIGHT_BITS

SEE_README = "supported ops: README section 'Supported layers'"
# What to do instead, for ops users often try (the message's last part); others get _DEFAULT_TODO.
_RECURRENT = "recurrent layers are out of scope for now: use a 1-D conv over time (nn.Conv1d) instead"
_TODOS: dict[str, str] = {
    "nn.LSTM": _RECURRENT, "nn.GRU": _RECURRENT, "nn.RNN": _RECURRENT,
    "nn.LSTMCell": _RECURRENT, "nn.GRUCell": _RECURRENT, "nn.RNNCell": _RECURRENT,
    "nn.LayerNorm": "use BatchNorm after a conv / linear (folded into it)",
    "nn.GroupNorm": "use BatchNorm after a conv / linear (folded into it)",
}
_DEFAULT_TODO = "replace it with a supported op, or move it out of the model (before the input or after the output)"

# kind and detail of every supported target: detail is the activation or function name, or the
# number of spatial dims of a pool / pad ("1" for (N, C, L) inputs, "2" for (N, C, H, W)).
# Tensor plumbing (kinds "const", "move", "resize", "log_softmax") is handled in prepare_plumbing.py.
_MODULES: dict[type, tuple[str, str]] = {
    **{cls: ("move", "") for cls in MOVE_MODULES if cls is not nn.Flatten},
    **{cls: ("resize", "") for cls in RESIZE_MODULES},
    nn.LogSoftmax: ("log_softmax", ""),
    nn.Conv1d: ("conv", "1"),
    nn.Conv2d: ("conv", "2"),
    nn.Linear: ("linear", ""),
    nn.BatchNorm1d: ("bn", ""),
    nn.BatchNorm2d: ("bn", ""),
    nn.SyncBatchNorm: ("bn", ""),  # batch statistics over all ranks in DDP training (CUDA); folded as BatchNorm
    nn.ReLU: ("clamp", "relu"),
    nn.ReLU6: ("clamp", "relu6"),
    nn.Hardtanh: ("clamp", "hardtanh"),
    nn.Sigmoid: ("nonlinear", "sigmoid"),
    nn.Tanh: ("nonlinear", "tanh"),
    nn.Hardswish: ("nonlinear", "hardswish"),
    nn.Softmax: ("nonlinear", "softmax"),
    nn.MaxPool1d: ("maxpool", "1"),
    nn.MaxPool2d: ("maxpool", "2"),
    nn.AvgPool1d: ("avgpool", "1"),
    nn.AvgPool2d: ("avgpool", "2"),
    nn.AdaptiveAvgPool1d: ("adaptive", "1"),
    nn.AdaptiveAvgPool2d: ("adaptive", "2"),
    nn.ZeroPad1d: ("pad", "1"),
    nn.ZeroPad2d: ("pad", "2"),
    nn.ConstantPad1d: ("pad", "1"),
    nn.ConstantPad2d: ("pad", "2"),
    nn.Flatten: ("flatten", ""),
    nn.Identity: ("remove", ""),
    nn.Dropout: ("remove", ""),
    nn.Dropout1d: ("remove", ""),
    nn.Dropout2d: ("remove", ""),
}
_FUNCTIONS: dict[Any, tuple[str, str]] = {
    **{f: ("move", "") for f in MOVE_FUNCTIONS if f not in (torch.reshape, torch.flatten)},
    **{f: ("resize", "") for f in RESIZE_FUNCTIONS},
    **{f: ("log_softmax", "") for f in LOG_SOFTMAX_FUNCTIONS},
    F.relu: ("clamp", "relu"),
    torch.relu: ("clamp", "relu"),
    F.relu6: ("clamp", "relu6"),
    F.hardtanh: ("clamp", "hardtanh"),
    torch.sigmoid: ("nonlinear", "sigmoid"),
    torch.tanh: ("nonlinear", "tanh"),
    F.hardswish: ("nonlinear", "hardswish"),
    F.softmax: ("nonlinear", "softmax"),
    torch.softmax: ("nonlinear", "softmax"),
    F.max_pool1d: ("maxpool", "1"),
    F.max_pool2d: ("maxpool", "2"),
    F.avg_pool1d: ("avgpool", "1"),
    F.avg_pool2d: ("avgpool", "2"),
    F.adaptive_avg_pool1d: ("adaptive", "1"),
    F.adaptive_avg_pool2d: ("adaptive", "2"),
    torch.mean: ("mean", ""),
    F.pad: ("pad", ""),
    operator.add: ("add", ""),
    torch.add: ("add", ""),
    torch.cat: ("cat", ""),
    torch.concat: ("cat", ""),
    torch.flatten: ("flatten", ""),
    torch.reshape: ("view", ""),
    F.dropout: ("remove", ""),
    F.dropout1d: ("remove", ""),
    F.dropout2d: ("remove", ""),
}
_METHODS: dict[str, tuple[str, str]] = {
    **{m: ("move", "") for m in MOVE_METHODS if m not in ("view", "reshape", "flatten")},
    "log_softmax": ("log_softmax", ""),
    "relu": ("clamp", "relu"),
    "relu_": ("clamp", "relu"),
    "sigmoid": ("nonlinear", "sigmoid"),
    "tanh": ("nonlinear", "tanh"),
    "softmax": ("nonlinear", "softmax"),
    "mean": ("mean", ""),
    "add": ("add", ""),
    "flatten": ("flatten", ""),
    "view": ("view", ""),
    "reshape": ("view", ""),
}
# --- elementwise ops and pointwise functions: kinds "pointwise" (a table function of one tensor), "mul",
# "sub", "div", "neg" (of two tensors, or of a tensor and a constant: scalar arithmetic), "prelu", and the
# clamp forms (torch.clamp / Tensor.clamp / clip / clamp_min / clamp_max) -------------------------------
_MODULES.update({
    nn.Hardsigmoid: ("pointwise", "hardsigmoid"),
    nn.SiLU: ("pointwise", "silu"),
    nn.GELU: ("pointwise", "gelu"),
    nn.ELU: ("pointwise", "elu"),
    nn.LeakyReLU: ("pointwise", "leaky_relu"),
    nn.PReLU: ("prelu", ""),
})
_FUNCTIONS.update({
    F.hardsigmoid: ("pointwise", "hardsigmoid"),
    F.silu: ("pointwise", "silu"),
    F.gelu: ("pointwise", "gelu"),
    F.elu: ("pointwise", "elu"),
    F.leaky_relu: ("pointwise", "leaky_relu"),
    torch.clamp: ("clamp", "clamp"),
    torch.clip: ("clamp", "clamp"),
    torch.clamp_min: ("clamp", "clamp_min"),
    torch.clamp_max: ("clamp", "clamp_max"),
    operator.mul: ("mul", ""),
    torch.mul: ("mul", ""),
    operator.sub: ("sub", ""),
    torch.sub: ("sub", ""),
    operator.truediv: ("div", ""),
    torch.div: ("div", ""),
    operator.neg: ("neg", ""),
    torch.neg: ("neg", ""),
})
_METHODS.update({
    "clamp": ("clamp", "clamp"),
    "clip": ("clamp", "clamp"),
    "clamp_min": ("clamp", "clamp_min"),
    "clamp_max": ("clamp", "clamp_max"),
    "mul": ("mul", ""),
    "sub": ("sub", ""),
    "div": ("div", ""),
    "neg": ("neg", ""),
})


def _sig_clamp(input, min=None, max=None):
    pass


def _sig_clamp_min(input, min):
    pass


def _sig_clamp_max(input, max):
    pass


def _sig_elu(input, alpha=1.0, inplace=False):
    pass


def _sig_leaky_relu(input, negative_slope=0.01, inplace=False):
    pass


def _sig_gelu(input, approximate="none"):
    pass


def _sig_inplace(input, inplace=False):
    pass


_POINTWISE_SIGS = {"elu": _sig_elu, "leaky_relu": _sig_leaky_relu, "gelu": _sig_gelu}


def _sig_binary(input, other, alpha=1, rounding_mode=None):
    pass


def _number(v: Any) -> bool:
    """A finite int or float constant (not a bool, not a traced value)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _clamp_bounds(node: fx.Node, op: _Op) -> Activation:
    """``torch.clamp`` / ``clip`` / ``clamp_min`` / ``clamp_max`` as an activation: ``relu`` for
    ``min=0``, ``relu6`` for ``(0, 6)``, else the interval ``(lo, hi)`` with an absent bound infinite."""
    sig = {"clamp": _sig_clamp, "clamp_min": _sig_clamp_min, "clamp_max": _sig_clamp_max}[op.detail]
    args = _bind(sig, node, op)
    lo, hi = args.get("min"), args.get("max")
    if not all(v is None or _number(v) for v in (lo, hi)) or (lo is None and hi is None):
        raise op.error(f"clamp bounds must be finite number constants (one may be None), got ({lo}, {hi})")
    if lo is not None and hi is not None and lo > hi:
        raise op.error(f"clamp needs min <= max, got ({lo}, {hi})")
    if (lo, hi) == (0, None):
        return "relu"
    if (lo, hi) == (0, 6):
        return "relu6"
    return (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))


def _pointwise_function(node: fx.Node, op: _Op) -> tuple[str, tuple[float, ...]]:
    """The table function of a ``pointwise`` op and its constants (ELU's alpha, LeakyReLU's slope),
    read from the module or bound from the call."""
    args = _args(_POINTWISE_SIGS.get(op.detail, _sig_inplace), node, op)
    if op.detail == "gelu":
        if args["approximate"] not in ("none", "tanh"):
            raise op.error(f"gelu approximate={args['approximate']!r} is not supported ('none' or 'tanh')")
        return ("gelu_tanh" if args["approximate"] == "tanh" else "gelu"), ()
    key = {"elu": "alpha", "leaky_relu": "negative_slope"}.get(op.detail)
    if key is None:
        return op.detail, ()
    if not _number(args[key]):
        raise op.error(f"{key} must be a finite number constant, got {args[key]!r}")
    return op.detail, (float(args[key]),)


# --- end of the elementwise tables ----------------------------------------------------------------------

_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep  # torch's own frames (not torchvision's)
_FRAME = re.compile(r'File "([^"]+)", line (\d+), in [^\n]*(?:\n {4}([^\n]*))?')


class PrepareError(TinyQatError):
    """``prepare_qat`` cannot run the model on ``example_inputs`` (message is one line)."""


# Signatures used to bind the arguments of traced functional calls and of modules' attributes.
def _sig_max_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    pass


def _sig_avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                  divisor_override=None):
    pass


def _sig_adaptive_pool(input, output_size):
    pass


def _sig_mean(input, dim=None, keepdim=False, dtype=None):
    pass


def _sig_flatten(input, start_dim=0, end_dim=-1):
    pass


def _sig_hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    pass


def _sig_softmax(input, dim=None, _stacklevel=3, dtype=None):
    pass


def _sig_pad(input, pad, mode="constant", value=None):
    pass


def _sig_add(input, other, alpha=1):
    pass


def _sig_cat(tensors, dim=0):
    pass


@dataclass
class _Op:
    """A traced node classified into one of the supported kinds."""

    kind: str  # "input", "output", "const" (x.size(0), x.shape[-1]...) or a key of _Builder.handlers
    where: str  # module path, for messages and the artifact
    label: str  # what the op is, for messages (``nn.Conv2d``, ``F.relu``...)
    line: str = ""  # ``file.py:12 `code``` of the user's source line, when torch.fx recorded it
    module: nn.Module | None = None
    detail: str = ""  # see _MODULES
    activation: Activation = "none"  # of clamp ops

    def error(self, why: str) -> UnsupportedOpError:
        """The one-line :class:`UnsupportedOpError` for this op."""
        return _unsupported(self.where, self.label, why, self.line)

    @property
    def spatial_dims(self) -> int:
        """1 for ops on ``(N, C, L)`` maps, 2 for ``(N, C, H, W)`` (pools, pads, convs)."""
        return int(self.detail)


def _bind(sig: Callable[..., None], node: fx.Node, op: _Op) -> dict[str, Any]:
    try:
        bound = inspect.signature(sig).bind(*node.args, **node.kwargs)
    except TypeError as exc:
        raise op.error(f"unsupported arguments ({exc})") from None
    bound.apply_defaults()
    return dict(bound.arguments)


def _args(sig: Callable[..., None], node: fx.Node, op: _Op) -> dict[str, Any]:
    """Arguments of a functional call, or the same-named attributes of a module (defaults from ``sig``)."""
    if op.module is None:
        return _bind(sig, node, op)
    params = inspect.signature(sig).parameters.values()
    return {p.name: getattr(op.module, p.name, p.default) for p in params if p.name not in ("input", "tensors")}


def _per_channel(big: tuple[int, ...], small: tuple[int, ...]) -> bool:
    """True when ``small`` is a per-channel operand (N, C, 1[, 1]) of the map ``big`` (N, C, L | H, W)."""
    return len(big) in (3, 4) and small == (*big[:2], *(1,) * (len(big) - 2))


def _ntuple(v: Any, n: int, op: _Op, what: str) -> tuple[int, ...]:
    """``v`` (an int or a sequence of ``n`` ints) as an ``n``-tuple; constants only."""
    values = (v,) * n if isinstance(v, int) else tuple(v) if isinstance(v, (tuple, list)) else ()
    if len(values) != n or not all(isinstance(i, int) and not isinstance(i, bool) for i in values):
        raise op.error(f"{what} must be a constant int or {n} ints, got {v!r}")
    return values


def _module_label(m: nn.Module) -> str:
    cls = type(m)
    return f"nn.{cls.__name__}" if cls.__module__.startswith("torch.nn") else f"{cls.__module__}.{cls.__qualname__}"


def _function_label(target: Any) -> str:
    try:
        name = _get_qualified_name(target)
    except Exception:  # builtins without a qualified name
        name = getattr(target, "__name__", repr(target))
    return name.replace("torch.nn.functional.", "F.").replace("_operator.", "operator.")


def _location(node: fx.Node) -> str:
    """Module path of a call_module node, else of the module whose forward made the call, else the node name."""
    if node.op == "call_module":
        return str(node.target)
    stack = node.meta.get("nn_module_stack")
    if stack:
        return str(next(reversed(stack.values()))[0])
    return node.name


def _source_line(node: fx.Node) -> str:
    """``file.py:LINE `code``` of the innermost user frame (outside torch) that created ``node``, or ``""``."""
    frames = [f for f in _FRAME.findall(node.stack_trace or "") if not f[0].startswith(_TORCH_DIR)]
    if not frames:
        return ""
    file, line, code = frames[-1]
    code = code.strip() if len(code.strip()) <= 80 else code.strip()[:77] + "..."
    return f"{os.path.basename(file)}:{line}" + (f" `{code}`" if code else "")


def _unsupported(where: str, label: str, why: str, line: str = "", todo: str = "") -> UnsupportedOpError:
    """``unsupported op at 'path' (op, file.py:12 `code`): why; what to do; where the supported ops are``."""
    at = f", {line}" if line else ""
    todo = todo or ("" if ":" in why or "pass " in why else _TODOS.get(label, _DEFAULT_TODO))
    return UnsupportedOpError(f"unsupported op at '{where}' ({label}{at}): {why}{'; ' + todo if todo else ''}; "
                              f"{SEE_README}")


def _is_shape(node: fx.Node) -> bool:
    """``x.size()`` or ``x.shape`` (a whole shape, indexed later)."""
    if node.op == "call_method" and node.target == "size":
        return len(node.args) == 1 and "dim" not in node.kwargs
    return node.op == "call_function" and node.target is getattr and node.args[1] == "shape"


def _is_batch_size(v: Any) -> bool:
    """``x.size(0)``, ``x.size()[0]`` or ``x.shape[0]``."""
    if not isinstance(v, fx.Node):
        return False
    if v.op == "call_method" and v.target == "size":
        dim = v.args[1] if len(v.args) > 1 else v.kwargs.get("dim")
        return dim == 0
    return (v.op == "call_function" and v.target is operator.getitem and v.args[1] == 0
            and isinstance(v.args[0], fx.Node) and _is_shape(v.args[0]))


def _clamp_activation(node: fx.Node, op: _Op) -> Activation:
    """``relu``, ``relu6`` (also Hardtanh(0, 6)) or a Hardtanh interval ``(lo, hi)``."""
    if op.detail in ("clamp", "clamp_min", "clamp_max"):
        return _clamp_bounds(node, op)
    if op.detail != "hardtanh":
        return op.detail
    args = _args(_sig_hardtanh, node, op)
    lo, hi = args["min_val"], args["max_val"]
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (lo, hi)) or lo > hi:
        raise op.error(f"hardtanh bounds must be finite constants with min_val <= max_val, got ({lo}, {hi})")
    return "relu6" if (lo, hi) == (0, 6) else (float(lo), float(hi))


def _is_mul(node: fx.Node) -> bool:
    """``a * b``, ``torch.mul(a, b)`` or ``a.mul(b)``."""
    return (node.op == "call_function" and node.target in (operator.mul, torch.mul)) or (
        node.op == "call_method" and node.target == "mul")


def _classify(node: fx.Node, modules: dict[str, nn.Module]) -> _Op:
    """Map one traced node to a supported kind, or raise :class:`UnsupportedOpError`."""
    where, line = _location(node), _source_line(node)
    if node.op in ("placeholder", "output"):
        return _Op("input" if node.op == "placeholder" else "output", where, node.op)
    if node.op == "get_attr":
        owner = modules.get(str(node.target).rpartition(".")[0])
        if node.users and all(_is_mul(u) for u in node.users):  # x * self.scale: the product with a constant
            return _Op("param", where, f"get_attr {node.target}", line)
        raise _unsupported(where, f"get_attr {node.target}", "a parameter or buffer is used directly in forward", line,
                           bn_subclass_hint(owner) or "wrap it in a layer (nn.Conv2d, nn.Linear...; a "
                           "per-channel factor or offset is a depthwise 1x1 nn.Conv2d(C, C, 1, groups=C))")
    if is_const_target(node) and not is_tensor(node) and not is_tensor_tuple(node):
        return _Op("const", where, node.name, line)
    if node.op == "call_function" and node.target is operator.getitem and (
            is_tensor(node.args[0]) or is_tensor_tuple(node.args[0])):
        return _Op("move", where, "Tensor.__getitem__", line)
    module = None
    if node.op == "call_module":
        module = modules[str(node.target)]
        label, entry = _module_label(module), _MODULES.get(type(module))
        why = "this layer type cannot be quantized"
    elif node.op == "call_function":
        label, entry = _function_label(node.target), _FUNCTIONS.get(node.target)
        why = "this function is not supported"
    elif node.op == "call_method":
        label, entry = f"Tensor.{node.target}", _METHODS.get(str(node.target))
        why = "this tensor method is not supported"
    else:
        raise _unsupported(where, str(node.op), "this graph node is not supported", line)
    if entry is None:
        raise _unsupported(where, label, why, line)
    op = _Op(entry[0], where, label, line, module, entry[1])
    if op.kind == "clamp":
        op.activation = _clamp_activation(node, op)
    return op


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


def _trace(model: nn.Module) -> fx.GraphModule:
    tracer = fx.Tracer()
    tracer.record_stack_traces = True
    try:
        graph = tracer.trace(model)
    except Exception as exc:
        where = next(reversed(tracer.module_stack.values()))[0] if tracer.module_stack else "(top level)"
        try:
            hint = bn_subclass_hint(model.get_submodule(where)) if tracer.module_stack else ""
        except AttributeError:
            hint = ""
        raise UnsupportedOpError(
            f"cannot trace the model at '{where}' with torch.fx ({_first_line(exc)}): "
            + (hint or "data-dependent control flow (an if or loop on tensor values) is out of scope; compute "
               "both branches, or move the decision out of the model")
            + f"; {SEE_README}"
        ) from None
    return fx.GraphModule(model, graph, type(model).__name__)


class _ShapeRecorder(fx.Interpreter):
    """Runs the traced model and records each tensor result's shape in ``node.meta['tinyqat_shape']``."""

    current: fx.Node | None = None

    def run_node(self, n: fx.Node) -> Any:
        self.current = n
        result = super().run_node(n)
        if isinstance(result, torch.Tensor):
            n.meta["tinyqat_shape"] = tuple(result.shape)
        elif isinstance(result, (tuple, list)) and result and all(isinstance(r, torch.Tensor) for r in result):
            n.meta["tinyqat_shapes"] = tuple(tuple(r.shape) for r in result)
        return result


def _shape_prop(gm: fx.GraphModule, example_inputs: tuple[torch.Tensor, ...]) -> None:
    """Record result shapes by running ``gm`` once in eval mode without gradients (no state changes)."""
    modes = {m: m.training for m in gm.modules()}
    gm.eval()
    recorder = _ShapeRecorder(gm)
    try:
        with torch.no_grad():
            recorder.run(*example_inputs)
    except Exception as exc:
        where = _location(recorder.current) if recorder.current is not None else "forward"
        raise PrepareError(f"the model fails on example_inputs at '{where}' ({_first_line(exc)})") from None
    finally:
        for m, mode in modes.items():
            m.train(mode)


def _shape(node: fx.Node) -> tuple[int, ...]:
    shape = node.meta.get("tinyqat_shape")
    if shape is None:
        raise _unsupported(_location(node), node.name, "its result is not a single tensor", _source_line(node))
    return shape


_MAP = {1: "(N, C, L)", 2: "(N, C, H, W)"}


class _Builder(PlumbingMixin):
    """Builds the QAT graph from the classified trace (one pass in execution order)."""

    def __init__(self, traced: fx.GraphModule, ops: dict[fx.Node, _Op], averaging_constant: float,
                 batch: int = 1, deploy_logits: bool = False) -> None:
        self._init_plumbing(batch)
        self.deploy_logits = deploy_logits
        self.traced = traced
        self.ops = ops
        self.c = averaging_constant
        self.graph = fx.Graph()
        self.modules: dict[str, nn.Module] = {}
        self.env: dict[fx.Node, fx.Node] = {}  # traced node -> new node carrying its value
        self.grid: dict[fx.Node, ActivationQuantizer] = {}  # new node -> quantizer of its int8 grid
        self.fused: set[fx.Node] = set()
        self.pads: dict[fx.Node, tuple[int, int, int, int]] = {}  # zero-pad node -> (top, left, bottom, right)
        self.names = {n.name for n in traced.graph.nodes if n.op == "placeholder"}
        self.handlers: dict[str, Callable[[fx.Node, _Op], None]] = {
            "remove": self._remove,
            "bn": self._lone_bn,
            "clamp": self._clamp,
            "conv": self._weighted,
            "linear": self._weighted,
            "maxpool": self._pool,
            "avgpool": self._pool,
            "adaptive": self._global_pool,
            "mean": self._global_pool,
            "pad": self._pad,
            "add": self._add,
            "cat": self._cat,
            "nonlinear": self._nonlinear,
            "pointwise": self._pointwise,
            "mul": self._arith,
            "sub": self._arith,
            "div": self._arith,
            "neg": self._arith,
            "prelu": self._prelu,
            "flatten": self._flatten,
            "view": self._flatten,
            "move": self._move,
            "resize": self._resize,
            "log_softmax": self._log_softmax,
        }

    def _unique(self, base: str) -> str:
        name, i = base, 1
        while name in self.names:
            name, i = f"{base}_{i}", i + 1
        self.names.add(name)
        return name

    def _emit(self, base: str, module: nn.Module, srcs: tuple[fx.Node, ...]) -> fx.Node:
        """Append ``module`` reading the new nodes ``srcs``; record the grid its result lies on."""
        name = self._unique(base)
        self.modules[name] = module
        new = self.graph.call_module(name, srcs)
        if isinstance(module, ActivationQuantizer):
            self.grid[new] = module
        elif isinstance(module, QuantOutput):
            self.grid[new] = module.output_quantizer
        else:
            self.grid[new] = self.grid[srcs[0]]
        return new

    def _single_user_of_kind(self, node: fx.Node, kinds: tuple[str, ...]) -> fx.Node | None:
        users = list(node.users)
        if len(users) == 1 and users[0] in self.ops and self.ops[users[0]].kind in kinds:
            return users[0]
        return None

    def _fused_activation(self, node: fx.Node) -> tuple[fx.Node | None, Activation]:
        """The activation node that is ``node``'s only user (now fused), and its activation."""
        act_node = self._single_user_of_kind(node, ("clamp",))
        if act_node is None:
            return None, "none"
        self.fused.add(act_node)
        return act_node, self.ops[act_node].activation

    def _operand(self, op: _Op, value: Any) -> fx.Node:
        """A traced node whose (quantized) value the new graph already computes (a lazy move's now)."""
        if isinstance(value, fx.Node) and value in self.virtual and value not in self.env:
            self._materialize(value)
        if not isinstance(value, fx.Node) or value not in self.env:
            raise op.error("its inputs must be tensors computed by supported ops (no constants or parameters)")
        return value

    def _source(self, node: fx.Node, op: _Op) -> tuple[fx.Node, fx.Node]:
        """``(traced input node, new node carrying its value)`` of a single-input op."""
        arg = node.args[0] if node.args else next(iter(node.kwargs.values()), None)
        src = self._operand(op, arg)
        return src, self.env[src]

    def build(self, example_inputs: tuple[torch.Tensor, ...]) -> fx.GraphModule:
        for node in self.traced.graph.nodes:
            op = self.ops[node]
            if node in self.fused or op.kind in ("const", "param"):
                continue
            if op.kind not in ("move", "view", "flatten", "resize", "log_softmax"):
                self._fold_constants(node, op)
            if op.kind == "input":
                x = self.graph.placeholder(node.name)
                shape = tuple(int(d) for d in example_inputs[0].shape[1:])
                self.env[node] = self._emit("input_quantizer", InputQuantizer(shape, self.c), (x,))
            elif op.kind == "output":
                self._output(node)
            else:
                self.handlers[op.kind](node, op)
        self.graph.lint()
        gm = fx.GraphModule(self.modules, self.graph, self.traced.__class__.__name__)
        gm.graph.eliminate_dead_code()
        gm.delete_all_unused_submodules()
        gm.recompile()
        return gm

    def _fold_constants(self, node: fx.Node, op: _Op) -> None:
        """Replace the shape constants among ``node``'s arguments by their values; refuse one that
        depends on the batch size (the layer would change with it)."""
        if not any(self.ops.get(n) is not None and self.ops[n].kind == "const" for n in node.all_input_nodes):
            return
        const = {n for n in node.all_input_nodes if self.ops[n].kind == "const"}
        args = fx.node.map_arg((node.args, node.kwargs), lambda n: self._value(n, self.index_batch - 1)
                               if n in const else n)
        other = fx.node.map_arg((node.args, node.kwargs), lambda n: self._value(n, self.index_batch)
                                if n in const else n)
        if repr(args) != repr(other):
            raise op.error("an argument depends on the batch size (x.size(0)); use constants or other dims")
        node.args, node.kwargs = args

    def _output(self, node: fx.Node) -> None:
        """The graph output: one tensor, or a flat tuple/list of distinct tensors (returned as a tuple)."""
        result = node.args[0]
        if isinstance(result, (tuple, list)) and result and all(isinstance(r, fx.Node) for r in result):
            results: tuple[fx.Node, ...] = tuple(result)
        elif isinstance(result, fx.Node):
            results = (result,)
        else:
            raise _unsupported("output", "output", "the model must return a tensor or a flat tuple of tensors",
                               todo="return e.g. `logits` or `(logits, features)`; put the parts of a nested "
                               "structure or dict in one flat tuple")
        news = [self.env[self._operand(self.ops[node], r)] for r in results]
        if any(isinstance(self.modules.get(str(new.target)), InputQuantizer) for new in news):
            raise _unsupported("output", "output", "the model computes nothing (its output is its input)"
                               if len(news) == 1 else "an output is the model input",
                               todo="return only computed tensors")
        deployed = {new.args[0] for new in news if isinstance(self.modules.get(str(new.target)), DeployedAsLogits)}
        if len(set(news)) != len(news) or deployed & set(news):
            raise _unsupported("output", "output", "the model returns the same tensor twice (a (log-)softmax "
                               "deployed as logits is its logits)" if deployed & set(news) else
                               "the model returns the same tensor twice",
                               todo="return each tensor once and copy it after the call")
        self.graph.output(news[0] if isinstance(result, fx.Node) else tuple(news))

    def _remove(self, node: fx.Node, op: _Op) -> None:
        self.env[node] = self._source(node, op)[1]

    def _lone_bn(self, node: fx.Node, op: _Op) -> None:
        raise op.error("BatchNorm must directly follow a Conv/Linear whose output has no other users")

    def _clamp(self, node: fx.Node, op: _Op) -> None:
        _, new_src = self._source(node, op)
        self.env[node] = self._emit(node.name, SharedQuantClamp(op.activation, self.grid[new_src], op.where),
                                    (new_src,))

    def _weighted(self, node: fx.Node, op: _Op) -> None:
        src, new_src = self._source(node, op)
        layer = op.module
        bn_node = self._single_user_of_kind(node, ("bn",))
        bn = None
        if bn_node is not None:
            bn_op = self.ops[bn_node]
            bn = bn_op.module
            want = nn.BatchNorm2d if isinstance(layer, nn.Conv2d) else nn.BatchNorm1d
            if type(bn) not in (want, nn.SyncBatchNorm):
                raise bn_op.error(f"expected {want.__name__} (or nn.SyncBatchNorm) here")
            if not bn.track_running_stats or bn.running_mean is None:
                raise bn_op.error("BatchNorm without running statistics cannot be folded")
            self.fused.add(bn_node)
        act_node, activation = self._fused_activation(bn_node or node)
        ndim = len(_shape(src))
        if isinstance(layer, nn.Linear):
            lead = _shape(src)[1:-1]  # (N, 1, ..., F): a Linear on the last dim of a vector, relabelled
            if ndim < 2 or any(d != 1 for d in lead) or (lead and bn is not None):
                raise op.error(f"input must be (N, F) or (N, 1, ..., F), got {_shape(src)} (flatten first)")
            new_src = self._relabel(new_src, (_shape(src)[-1],), op.where) if lead else new_src
            module: nn.Module = QuantLinear(layer, bn, activation, self.grid[new_src], self.c, op.where)
        else:
            assert isinstance(layer, nn.Conv1d | nn.Conv2d)
            if ndim != op.spatial_dims + 2:
                raise op.error(f"input must be {_MAP[op.spatial_dims]}, got {ndim} dims")
            padding = tuple(a + b for a, b in zip(self._conv_padding(layer, op), self.pads.get(src, (0, 0, 0, 0))))
            cls = QuantConv2d if op.spatial_dims == 2 else QuantConv1d
            module = cls(layer, bn, activation, padding, self.grid[new_src], self.c, op.where)
        new = self._emit(node.name, module, (new_src,))
        if isinstance(layer, nn.Linear) and ndim > 2:
            new = self._relabel(new, (*_shape(src)[1:-1], layer.out_features), op.where)
        for n in (node, bn_node, act_node):
            if n is not None:
                self.env[n] = new

    @staticmethod
    def _conv_padding(conv: nn.Conv1d | nn.Conv2d, op: _Op) -> tuple[int, int, int, int]:
        """The conv's own padding as ``(top, left, bottom, right)`` of its 2-D form."""
        if conv.groups not in (1, conv.in_channels):
            why = (f"grouped convolution (groups={conv.groups} of {conv.in_channels} input channels) is not "
                   "supported, only groups=1 and depthwise (groups=in_channels)")
            raise op.error(why)
        if any(d != 1 for d in conv.dilation):
            raise op.error(f"dilation {tuple(conv.dilation)} is not supported")
        if conv.padding_mode != "zeros":
            raise op.error(f"padding_mode {conv.padding_mode!r} is not supported")
        kh, kw = (1, *conv.kernel_size) if op.spatial_dims == 1 else conv.kernel_size
        if conv.padding == "valid":
            return (0, 0, 0, 0)
        if conv.padding == "same":  # PyTorch puts the odd pixel at the bottom/right
            return ((kh - 1) // 2, (kw - 1) // 2, kh - 1 - (kh - 1) // 2, kw - 1 - (kw - 1) // 2)
        ph, pw = (0, *conv.padding) if op.spatial_dims == 1 else conv.padding
        return (ph, pw, ph, pw)

    def _pad(self, node: fx.Node, op: _Op) -> None:
        src, new_src = self._source(node, op)
        ndim = len(_shape(src))
        if op.module is not None:
            pad, mode, value = op.module.padding, "constant", op.module.value
        else:
            args = _bind(_sig_pad, node, op)
            pad, mode, value = args["pad"], args["mode"], args["value"]
        if mode != "constant" or value not in (None, 0):
            raise op.error(f"only zero padding is supported, got mode={mode!r}, value={value!r}")
        conv = self._single_user_of_kind(node, ("conv",))
        if conv is None or self.ops[conv].spatial_dims + 2 != ndim:
            raise op.error("zero padding is only supported directly before a Conv2d / Conv1d (folded into its padding)")
        sides = tuple(pad) if isinstance(pad, (tuple, list)) else ()
        if len(sides) not in (2, 2 * (ndim - 2)) or not all(isinstance(v, int) and v >= 0 for v in sides):
            raise op.error(f"padding {pad!r} must be non-negative ints for the spatial dims only")
        left, right, top, bottom = (*sides, 0, 0)[:4]  # F.pad order: last dim first
        self.pads[node] = (top, left, bottom, right)
        self.env[node] = new_src

    def _pool(self, node: fx.Node, op: _Op) -> None:
        src, new_src = self._source(node, op)
        n = op.spatial_dims
        ndim = len(_shape(src))
        if ndim != n + 2:
            raise op.error(f"input must be {_MAP[n]}, got {ndim} dims")
        args = _args(_sig_max_pool if op.kind == "maxpool" else _sig_avg_pool, node, op)
        kernel = _ntuple(args["kernel_size"], n, op, "kernel_size")
        stride = kernel if args["stride"] in (None, [], ()) else _ntuple(args["stride"], n, op, "stride")
        padding = _ntuple(args["padding"], n, op, "padding")
        if not isinstance(args["ceil_mode"], bool):
            raise op.error("ceil_mode must be a constant")
        if n == 1:  # pooled as the (N, C, 1, L) map
            kernel, stride, padding = (1, *kernel), (1, *stride), (0, *padding)
        module: nn.Module
        if op.kind == "maxpool":
            if _ntuple(args["dilation"], n, op, "dilation") != (1,) * n:
                raise op.error(f"dilation {args['dilation']} is not supported")
            if args["return_indices"]:
                raise op.error("return_indices=True is not supported")
            module = QuantMaxPool2d(kernel, stride, padding, args["ceil_mode"], op.where)
        else:
            if args["divisor_override"] is not None:
                raise op.error("divisor_override is not supported")
            module = QuantAvgPool2d(kernel, stride, padding, args["ceil_mode"], bool(args["count_include_pad"]),
                                    self.grid[new_src], op.where)
        self.env[node] = self._emit(node.name, module, (new_src,))

    def _global_pool(self, node: fx.Node, op: _Op) -> None:
        """AdaptiveAvgPool(1) or ``mean`` over all spatial dims: one window over the whole map."""
        src, new_src = self._source(node, op)
        shape = _shape(src)
        if op.kind == "adaptive":
            if len(shape) != op.spatial_dims + 2:
                raise op.error(f"input must be {_MAP[op.spatial_dims]}, got {len(shape)} dims")
            size = _args(_sig_adaptive_pool, node, op)["output_size"]
            if _ntuple(size, op.spatial_dims, op, "output_size") != (1,) * op.spatial_dims:
                raise op.error(f"only global pooling (output_size=1) is supported, got {size!r}")
            keepdim = True
        else:
            args = _bind(_sig_mean, node, op)
            dims = args["dim"] if isinstance(args["dim"], (tuple, list)) else (args["dim"],)
            spatial = all(isinstance(d, int) for d in dims) and sorted(d % len(shape) for d in dims) == list(
                range(2, len(shape))
            )
            if len(shape) not in (3, 4) or not spatial or args["dtype"] is not None:
                raise op.error(f"only a mean over all spatial dims of an (N, C, H, W) or (N, C, L) map is supported, "
                               f"got dim={args['dim']} on {len(shape)} dims")
            keepdim = bool(args["keepdim"])
        kernel = (shape[2], shape[3]) if len(shape) == 4 else (1, shape[2])
        pooled = self._emit(node.name, QuantAvgPool2d(kernel, kernel, (0, 0), False, True, self.grid[new_src],
                                                      op.where), (new_src,))
        self.env[node] = pooled if keepdim else self._emit(f"{node.name}_flatten", QuantFlatten(op.where), (pooled,))

    def _add(self, node: fx.Node, op: _Op) -> None:
        args = _bind(_sig_add, node, op)
        if args["alpha"] != 1:
            raise op.error(f"add with alpha={args['alpha']} is not supported")
        if not (isinstance(args["input"], fx.Node) and isinstance(args["other"], fx.Node)):
            self._scalar_arith(node, op, "add", args["input"], args["other"])
            return
        self._add_tensors(node, op, self._operand(op, args["input"]), self._operand(op, args["other"]), False)

    def _add_tensors(self, node: fx.Node, op: _Op, a: fx.Node, b: fx.Node, subtract: bool) -> None:
        """``a + b`` (TFLite ADD) or ``a - b`` (SUB) of two tensors of one shape, or of a map and a per-channel
        operand (N, C, 1[, 1]) broadcast over it (an add puts the map first; ``g - x`` stays in its order:
        lowering makes it a SUB with reversed operands, :class:`tinyqat.ir.Add`)."""
        sa, sb = _shape(a), _shape(b)
        if sa != sb and _per_channel(sb, sa) and not subtract:
            a, b, sa, sb = b, a, sb, sa
        if sa != sb and not (_per_channel(sa, sb) or (subtract and _per_channel(sb, sa))):
            raise op.error(f"operands {sa} and {sb}: only same shapes, or a map and a per-channel (N, C, 1, 1) "
                           "operand are supported: pool or expand the other operand to one of those shapes")
        act_node, activation = self._fused_activation(node)
        grids = (self.grid[self.env[a]], self.grid[self.env[b]])
        module = QuantAdd(activation, grids, self.c, op.where, subtract=subtract)
        new = self._emit(node.name, module, (self.env[a], self.env[b]))
        for n in (node, act_node):
            if n is not None:
                self.env[n] = new

    # --- elementwise ops and pointwise functions ------------------------------------------------------

    def _pointwise(self, node: fx.Node, op: _Op) -> None:
        _, new_src = self._source(node, op)
        function, params = _pointwise_function(node, op)
        module = QuantPointwise(function, params, self.grid[new_src], self.c, op.where)
        self.env[node] = self._emit(node.name, module, (new_src,))

    def _arith(self, node: fx.Node, op: _Op) -> None:
        """``mul`` of two tensors (:meth:`_mul`), or ``mul`` / ``sub`` / ``div`` / ``neg`` with a constant."""
        if op.kind == "neg":
            self._scalar_arith(node, op, "neg", self._source(node, op)[0], None)
            return
        args = _bind(_sig_binary, node, op)
        if args["alpha"] != 1 or args["rounding_mode"] is not None:
            raise op.error("alpha and rounding_mode are not supported")
        a, b = args["input"], args["other"]
        if isinstance(a, fx.Node) and isinstance(b, fx.Node):
            params = [n for n in (a, b) if self.ops[n].kind == "param"]
            if op.kind == "sub":
                self._add_tensors(node, op, self._operand(op, a), self._operand(op, b), True)
            elif op.kind == "mul" and params:
                self._mul_const(node, op, b if params[0] is a else a, params[0])
            elif op.kind == "mul":
                self._mul(node, op, a, b)
            else:
                raise op.error(f"{op.kind} of two tensors is not supported (only of a tensor and a constant); "
                               "multiply them by a reciprocal computed in the model instead")
            return
        self._scalar_arith(node, op, op.kind, a, b)

    def _scalar_arith(self, node: fx.Node, op: _Op, kind: str, a: Any, b: Any) -> None:
        """``x + c``, ``x * c``, ``x - c``, ``c - x``, ``x / c``, ``-x`` (either operand order) as
        ``affine(x; scale, offset) = scale * x + offset``, a table at lowering."""
        tensor_first = isinstance(a, fx.Node)
        x, c = (a, b) if tensor_first else (b, a)
        src = self._operand(op, x)
        if kind != "neg" and not _number(c):
            raise op.error(f"the other operand must be a tensor or a finite number constant, got {c!r}")
        if kind == "div" and (not tensor_first or c == 0):
            raise op.error("only division of a tensor by a nonzero constant is supported")
        if kind == "neg":
            scale, offset = -1.0, 0.0
        elif kind == "sub":
            scale, offset = (1.0, -c) if tensor_first else (-1.0, c)
        else:
            scale, offset = {"add": (1.0, c), "mul": (c, 0.0), "div": (1.0 / c, 0.0)}[kind]
        module = QuantPointwise("affine", (float(scale), float(offset)), self.grid[self.env[src]], self.c, op.where)
        self.env[node] = self._emit(node.name, module, (self.env[src],))

    def _mul(self, node: fx.Node, op: _Op, a: fx.Node, b: fx.Node) -> None:
        """Product of two tensors of one shape, or of a map and its per-channel gate (N, C, 1[, 1])."""
        xa, xb = self._operand(op, a), self._operand(op, b)
        sa, sb = _shape(xa), _shape(xb)
        big, small = (sa, sb) if math.prod(sa) >= math.prod(sb) else (sb, sa)
        if sa != sb and not _per_channel(big, small):
            raise op.error(f"operands {sa} and {sb}: only same shapes, or a map times a per-channel gate "
                           "(N, C, 1, 1) are supported")
        grids = (self.grid[self.env[xa]], self.grid[self.env[xb]])
        self.env[node] = self._emit(node.name, QuantMul(grids, self.c, op.where), (self.env[xa], self.env[xb]))

    def _mul_const(self, node: fx.Node, op: _Op, x: fx.Node, param: fx.Node) -> None:
        """``x * c`` with a parameter or buffer ``c`` of one value or one per channel (``(C, 1, 1)``,
        ``(1, C, 1, 1)``, ``(C,)`` on ``(N, C)``...): :class:`QuantMulConst` (TFLite MUL with a constant)."""
        src = self._operand(op, x)
        value = functools.reduce(getattr, str(param.target).split("."), self.traced)  # parameter, buffer, constant
        if not isinstance(value, torch.Tensor):
            raise op.error(f"{param.target} is not a tensor: multiply by a tensor parameter or buffer")
        shape, c_shape = _shape(src), tuple(value.shape)
        padded = (1,) * (len(shape) - len(c_shape)) + c_shape
        per_channel = len(shape) >= 2 and padded == (1, shape[1], *(1,) * (len(shape) - 2))
        if len(padded) != len(shape) or not (value.numel() == 1 or per_channel) or not value.is_floating_point():
            raise op.error(f"a constant of shape {c_shape} times a {tuple(shape)} tensor: only a single value or one "
                           "per channel ((C, 1, 1), (1, C, 1, 1), (C,) on (N, C)) is supported; reshape the constant")
        module = QuantMulConst(value, self.grid[self.env[src]], self.c, op.where)
        self.env[node] = self._emit(node.name, module, (self.env[src],))

    def _prelu(self, node: fx.Node, op: _Op) -> None:
        src, new_src = self._source(node, op)
        shape = _shape(src)
        count = op.module.weight.numel()
        if len(shape) not in (2, 3, 4) or count not in (1, shape[1]):
            raise op.error(f"PReLU with {count} parameters on a {shape} input: one alpha, or one per channel "
                           "of an (N, C[, L | H, W]) input")
        module = QuantPReLU(op.module, self.grid[new_src], self.c, op.where)
        self.env[node] = self._emit(node.name, module, (new_src,))

    # --- end of the elementwise handlers ---------------------------------------------------------------

    def _cat(self, node: fx.Node, op: _Op) -> None:
        args = _bind(_sig_cat, node, op)
        tensors, dim = args["tensors"], args["dim"]
        if not isinstance(tensors, (tuple, list)) or len(tensors) < 2:
            raise op.error("cat needs a list of two or more tensors")
        xs = [self._operand(op, t) for t in tensors]
        ndim = len(_shape(xs[0]))
        if not isinstance(dim, int) or ndim < 2 or dim % ndim != 1:
            raise op.error(f"only concatenation along channels (dim=1) is supported, got dim={dim} on {ndim} dims")
        sources = tuple(self.env[x] for x in xs)
        self.env[node] = self._emit(node.name, QuantCat(tuple(self.grid[x] for x in sources), self.c, op.where),
                                    sources)

    def _log_softmax(self, node: fx.Node, op: _Op) -> None:
        """A final log_softmax with ``deploy_logits`` is left out of the int8 graph; otherwise TFLite's int8
        LOG_SOFTMAX computes it (:class:`QuantNonlinear`)."""
        if not self._final_softmax(node, op, "log_softmax"):
            self._nonlinear(node, replace(op, detail="log_softmax"))

    def _nonlinear(self, node: fx.Node, op: _Op) -> None:
        if op.detail == "softmax" and self._final_softmax(node, op, "softmax"):
            return
        src, new_src = self._source(node, op)
        shape, features = _shape(src), None
        if op.detail in ("softmax", "log_softmax"):
            args = _args(_sig_softmax, node, op)
            ndim, dim = len(shape), args["dim"]
            # over the last dim of (N, 1, ..., F) (torchaudio's M5: dim=2 on (N, 1, classes)): the same op on
            # the vector of F features, relabelled to it and back (no bytes move)
            if isinstance(dim, int) and ndim > 2 and dim % ndim == ndim - 1 and all(d == 1 for d in shape[1:-1]):
                features = (shape[-1],)
            elif not isinstance(dim, int) or ndim < 2 or dim % ndim != 1:
                hint = (", or pass prepare_qat(..., deploy_logits=True) to deploy the logits of a final one"
                        if op.detail == "log_softmax" else "")
                raise op.error(f"only {op.detail} over channels (dim=1) or over the features of (N, 1, F) is "
                               f"computed in int8, got dim={dim} on {tuple(shape)}: move that dim to dim 1 "
                               f"first{hint}")
            if args["dtype"] is not None:
                raise op.error(f"{op.detail} with dtype={args['dtype']} is not supported: drop the dtype argument")
        if features is not None:
            new_src = self._relabel(new_src, features, op.where)
        new = self._emit(node.name, QuantNonlinear(op.detail, self.grid[new_src], self.c, op.where), (new_src,))
        self.env[node] = self._relabel(new, tuple(shape[1:]), op.where) if features is not None else new

    def _flatten(self, node: fx.Node, op: _Op) -> None:
        """A flatten of all non-batch dims (:class:`QuantFlatten`); any other flatten / view / reshape is a move."""
        src = node.args[0] if node.args else next(iter(node.kwargs.values()), None)
        if not is_tensor(src):
            raise op.error("its input must be a tensor computed by supported ops")
        shape = _shape(src)
        if op.kind == "flatten":
            args = _args(_sig_flatten, node, op)
            flat = args["start_dim"] in (1, 1 - len(shape)) and args["end_dim"] in (-1, len(shape) - 1)
        else:
            dims = list(node.args[1:])
            if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
                dims = list(dims[0])
            features = math.prod(shape[1:])
            batch_ok = len(dims) == 2 and (dims[0] == -1 or _is_batch_size(dims[0]))
            last = self._value(dims[1], shape[0]) if len(dims) == 2 else None
            features_ok = isinstance(last, int) and last in (-1, features)
            flat = not node.kwargs and batch_ok and features_ok and _shape(node) == (shape[0], features)
        if not flat:
            self._move(node, op)
            return
        if self._flatten_lazily(node, op):
            return
        self.env[node] = self._emit(node.name, QuantFlatten(op.where), (self._source(node, op)[1],))


def _name_quantizers(gm: fx.GraphModule) -> None:
    """Give each activation quantizer the user's name of the layer it belongs to (errors name it): the
    owning module's ``source`` path when it has one, else its name in ``gm`` (``input`` for the input)."""
    modules = dict(gm.named_modules())
    for name, q in modules.items():
        if isinstance(q, ActivationQuantizer):
            owner = name.rpartition(".")[0]
            q.layer_name = "input" if isinstance(q, InputQuantizer) else (
                getattr(modules.get(owner), "source", "") or owner or name)


def prepare_qat(
    model: nn.Module,
    example_inputs: tuple[torch.Tensor, ...],
    *,
    averaging_constant: float = 0.01,
    weight_bits: int = 8,
    layer_bits: Mapping[str, int] | None = None,
    observer: str = "minmax",
    learn_scales: bool = False,
    deploy_logits: bool = False,
) -> fx.GraphModule:
    """Deep-copy ``model``, trace it and return the QAT ``GraphModule`` (see the module docstring).

    ``example_inputs`` is a 1-tuple holding an ``(N, C, H, W)``, ``(N, C, L)`` or ``(N, F)`` float tensor; it is
    used for shape checks only (the model runs once in eval mode, its state is unchanged).
    The returned model keeps the training mode of ``model`` and is on the device of its parameters.

    Quantization options:

    * ``weight_bits``: 8 (default) or 4, the weight width of every Conv/Linear; ``layer_bits``
      overrides it per layer, keyed by the module path of the Conv/Linear in ``model`` (as in
      ``model.named_modules()``, e.g. ``{"features.0": 4}``).  4-bit weights are symmetric per
      channel in ``[-7, 7]`` and are packed two per byte in the C code.
    * ``observer``: ``"minmax"`` (default), ``"percentile"`` or ``"mse"`` for every activation range
      (see :mod:`tinyqat.qat.observers`).
    * ``learn_scales``: activation scales become trainable parameters with LSQ's gradient,
      initialised from the observers (weight scales are always ``max|w| / qmax``).
    * ``deploy_logits``: a final ``log_softmax`` / ``softmax`` over channels stays in the training
      forward (float, after the last quantizer) and is left out of the deployed int8 graph, whose
      output is then the logits (same arg max).  Without it both are computed in int8 (``log_softmax``
      as TFLite's int8 LOG_SOFTMAX, output grid ``(16/256, 127)``).

    Modules that fuse BatchNorm with an activation (timm's ``BatchNormAct2d``) are unwrapped into
    BatchNorm + activation first (:func:`tinyqat.qat.prepare_plumbing.unwrap_norm_act`).
    """
    if not (isinstance(example_inputs, tuple) and len(example_inputs) == 1):
        raise PrepareError("example_inputs must be a 1-tuple (x,): tinyqat models take a single tensor input")
    x = example_inputs[0]
    if not (isinstance(x, torch.Tensor) and x.is_floating_point() and x.dim() in (2, 3, 4)):
        raise PrepareError("the example input must be a float tensor shaped (N, C, H, W), (N, C, L) or (N, F)")
    bits = _check_bits(weight_bits, "weight_bits")
    layer_bits = dict(layer_bits or {})
    for path, b in layer_bits.items():
        _check_bits(b, f"layer_bits[{path!r}]")
    if observer not in OBSERVERS:
        raise PrepareError(f"observer must be one of {OBSERVERS}, got {observer!r}")
    model = copy.deepcopy(model)
    unwrap_norm_act(model)
    traced = _trace(model)
    modules = {**dict(traced.named_modules()), **dict(model.named_modules())}  # the user's classes (hints)
    if sum(node.op == "placeholder" for node in traced.graph.nodes) != 1:
        raise _unsupported("forward", "forward", "the model must take exactly one tensor argument",
                           todo="take one tensor; build any other inputs inside the model")
    _shape_prop(traced, example_inputs)
    ops = {node: _classify(node, modules) for node in traced.graph.nodes}
    gm = _Builder(traced, ops, averaging_constant, int(x.shape[0]), deploy_logits).build(example_inputs)
    weighted = {m.source: m for m in _modules_of(gm, QuantWeighted)}
    unknown = sorted(set(layer_bits) - set(weighted))
    if unknown:
        raise PrepareError(f"layer_bits names {unknown[0]!r}, which is not a Conv/Linear of the model; "
                           f"the quantized layers are {sorted(weighted)}")
    for path, m in weighted.items():
        m.weight_quantizer.bits = layer_bits.get(path, bits)
    for q in _modules_of(gm, ActivationQuantizer):
        if not isinstance(q, FixedQuantizer):
            q.configure(observer, learn_scales)
    _name_quantizers(gm)
    live_bn = any(m.bn is not None for m in _modules_of(gm, QuantWeighted))
    for m in _modules_of(gm, (QuantOutput, SharedQuantClamp)):
        m.exact_in_training = not live_bn  # modules.exact_now: exact in training once BatchNorm is frozen
    gm.train(model.training)
    device = next((t.device for t in itertools.chain(model.parameters(), model.buffers())), None)
    return gm if device is None else gm.to(device)  # the new quantizers join the model's device


def _check_bits(bits: Any, what: str) -> int:
    if type(bits) is not int or bits not in WEIGHT_BITS:
        raise PrepareError(f"{what} must be one of {WEIGHT_BITS}, got {bits!r}")
    return int(bits)


def _modules_of(model: nn.Module, cls: type[nn.Module] | tuple[type[nn.Module], ...]) -> Iterator[Any]:
    return (m for m in model.modules() if isinstance(m, cls))


def freeze_bn_stats(model: nn.Module) -> nn.Module:
    """From now on folded layers use the running BatchNorm statistics in training too, and every layer
    computes the device's integers in training as in eval (:func:`tinyqat.qat.modules.exact_now`)."""
    for m in _modules_of(model, QuantWeighted):
        m.bn_frozen = True
    for m in _modules_of(model, (QuantOutput, SharedQuantClamp)):
        m.exact_in_training = True
    return model


def freeze_observers(model: nn.Module) -> nn.Module:
    """Stop all activation observers (ranges keep their current values; ``calibrate`` still updates them)."""
    for m in _modules_of(model, ActivationQuantizer):
        m.observer_enabled = False
    return model


def enable_fake_quant(model: nn.Module, enabled: bool) -> nn.Module:
    """Turn fake quant of activations, weights and biases on or off (observers are unaffected)."""
    for m in _modules_of(model, ActivationQuantizer):
        m.fake_quant_enabled = enabled
    for m in _modules_of(model, WeightQuantizer):
        m.fake_quant_enabled = enabled
    return model


@contextmanager
def _calibrating(model: nn.Module) -> Iterator[None]:
    quantizers = list(_modules_of(model, ActivationQuantizer))
    modes = {m: m.training for m in model.modules()}
    model.eval()
    for q in quantizers:
        q.calibrating = True
    try:
        yield
    finally:
        for q in quantizers:
            q.calibrating = False
        for m, mode in modes.items():
            m.train(mode)


def calibrate(model: nn.Module, batches: Iterable[torch.Tensor]) -> nn.Module:
    """Post-training calibration: run ``batches`` in eval mode without gradients, observers forced on.

    BatchNorm running statistics and parameters are untouched; the training mode is restored.
    """
    with _calibrating(model), torch.no_grad():
        for batch in batches:
            model(batch)
    return model
