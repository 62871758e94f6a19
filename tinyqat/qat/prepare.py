"""``prepare_qat``: trace a float model with torch.fx and rewrite it into a fake-quant QAT graph.

Rewrites (fusion requires every intermediate result to have a single user):

* the input placeholder -> :class:`InputQuantizer`;
* Conv2d [+ BatchNorm2d] [+ ReLU | ReLU6] -> :class:`QuantConv2d`;
* Linear [+ BatchNorm1d] [+ ReLU | ReLU6] -> :class:`QuantLinear`;
* any other ReLU/ReLU6 -> :class:`SharedQuantClamp` (re-quantizes on its input's grid);
* MaxPool2d -> :class:`QuantMaxPool2d`, Flatten(start_dim=1) -> :class:`QuantFlatten`;
* Identity and Dropout are removed.

ReLU forms: ``nn.ReLU``, ``F.relu``, ``torch.relu``, ``Tensor.relu``; ReLU6 forms: ``nn.ReLU6``,
``nn.Hardtanh(0, 6)``, ``F.relu6``, ``F.hardtanh(x, 0, 6)``. Everything else raises
:class:`tinyqat.errors.UnsupportedOpError` with a one-line message naming the module path.
"""

from __future__ import annotations

import copy
import inspect
import operator
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.fx.node import _get_qualified_name

from tinyqat.errors import TinyQatError, UnsupportedOpError
from tinyqat.qat.fake_quant import ActivationQuantizer, InputQuantizer, WeightQuantizer
from tinyqat.qat.modules import (
    QuantConv2d,
    QuantFlatten,
    QuantLinear,
    QuantMaxPool2d,
    QuantWeighted,
    SharedQuantClamp,
)

SUPPORTED = (
    "tinyqat supports Conv2d, Linear, BatchNorm2d/1d after them, ReLU, ReLU6, MaxPool2d, Flatten, Identity, Dropout"
)

_DROPOUT_MODULES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d)
_DROPOUT_FUNCTIONS = (F.dropout, F.dropout1d, F.dropout2d)
_RELU_FUNCTIONS = (F.relu, torch.relu)
_RELU6_FUNCTIONS = (F.relu6,)
_FLATTEN_FUNCTIONS = (torch.flatten,)


class PrepareError(TinyQatError):
    """``prepare_qat`` cannot run the model on ``example_inputs`` (message is one line)."""


# Signatures used to bind the arguments of traced functional calls.
def _sig_max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    pass


def _sig_flatten(input, start_dim=0, end_dim=-1):
    pass


def _sig_hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    pass


def _bind(sig: Callable[..., None], node: fx.Node) -> dict[str, Any]:
    bound = inspect.signature(sig).bind(*node.args, **node.kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


@dataclass
class _Op:
    """A traced node classified into one of the supported kinds."""

    kind: str  # input conv linear bn relu relu6 maxpool flatten remove output
    where: str  # module path, for messages and the artifact
    label: str  # what the op is, for messages (``nn.Conv2d``, ``F.relu``...)
    module: nn.Module | None = None


def _pair(v: int | tuple[int, ...] | list[int]) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    return (int(v[0]), int(v[1]))


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


def _unsupported(where: str, label: str, why: str) -> UnsupportedOpError:
    return UnsupportedOpError(f"unsupported op at '{where}' ({label}): {why}; {SUPPORTED}")


def _classify(node: fx.Node, modules: dict[str, nn.Module]) -> _Op:
    """Map one traced node to a supported kind, or raise :class:`UnsupportedOpError`."""
    where = _location(node)
    if node.op == "placeholder":
        return _Op("input", where, "input")
    if node.op == "output":
        return _Op("output", where, "output")
    if node.op == "get_attr":
        raise _unsupported(where, f"get_attr {node.target}", "a parameter or buffer is used directly in forward")
    if node.op == "call_module":
        m = modules[str(node.target)]
        label = _module_label(m)
        cls = type(m)
        kinds: dict[type, str] = {
            nn.Conv2d: "conv",
            nn.Linear: "linear",
            nn.BatchNorm2d: "bn",
            nn.BatchNorm1d: "bn",
            nn.ReLU: "relu",
            nn.ReLU6: "relu6",
            nn.MaxPool2d: "maxpool",
            nn.Flatten: "flatten",
            nn.Identity: "remove",
        }
        if cls in _DROPOUT_MODULES:
            return _Op("remove", where, label, m)
        if cls is nn.Hardtanh:
            if (m.min_val, m.max_val) == (0.0, 6.0):
                return _Op("relu6", where, label, m)
            raise _unsupported(where, label, f"Hardtanh({m.min_val}, {m.max_val}) is not ReLU6")
        if cls not in kinds:
            raise _unsupported(where, label, "this layer type cannot be quantized")
        return _Op(kinds[cls], where, label, m)
    label = _function_label(node.target) if node.op == "call_function" else f"Tensor.{node.target}"
    target = node.target
    if node.op == "call_function":
        if target in _RELU_FUNCTIONS:
            return _Op("relu", where, label)
        if target in _RELU6_FUNCTIONS:
            return _Op("relu6", where, label)
        if target is F.hardtanh:
            args = _bind(_sig_hardtanh, node)
            if (args["min_val"], args["max_val"]) == (0, 6):
                return _Op("relu6", where, label)
            raise _unsupported(where, label, f"hardtanh({args['min_val']}, {args['max_val']}) is not ReLU6")
        if target is F.max_pool2d:
            return _Op("maxpool", where, label)
        if target in _FLATTEN_FUNCTIONS:
            return _Op("flatten", where, label)
        if target in _DROPOUT_FUNCTIONS:
            return _Op("remove", where, label)
        why = "tuple results are not supported" if target is operator.getitem else "this function is not supported"
        raise _unsupported(where, label, why)
    if node.op == "call_method":
        if target in ("relu", "relu_"):
            return _Op("relu", where, label)
        if target == "flatten":
            return _Op("flatten", where, label)
        if target in ("size", "view", "reshape"):
            raise _unsupported(where, label, "shape-dependent code is not supported (use torch.flatten(x, 1))")
        raise _unsupported(where, label, "this tensor method is not supported")
    raise _unsupported(where, str(node.op), "this graph node is not supported")


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


def _trace(model: nn.Module) -> fx.GraphModule:
    tracer = fx.Tracer()
    try:
        graph = tracer.trace(model)
    except Exception as exc:
        where = next(reversed(tracer.module_stack.values()))[0] if tracer.module_stack else "(top level)"
        raise UnsupportedOpError(
            f"cannot trace the model at '{where}' with torch.fx ({_first_line(exc)}); "
            "tinyqat needs a forward without data-dependent control flow"
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
        raise _unsupported(_location(node), node.name, "its result is not a single tensor")
    return shape


class _Builder:
    """Builds the QAT graph from the classified trace (one pass in execution order)."""

    def __init__(self, traced: fx.GraphModule, ops: dict[fx.Node, _Op], averaging_constant: float) -> None:
        self.traced = traced
        self.ops = ops
        self.c = averaging_constant
        self.graph = fx.Graph()
        self.modules: dict[str, nn.Module] = {}
        self.env: dict[fx.Node, fx.Node] = {}  # traced node -> new node carrying its value
        self.grid: dict[fx.Node, ActivationQuantizer] = {}  # new node -> quantizer of its int8 grid
        self.fused: set[fx.Node] = set()
        self.names = {n.name for n in traced.graph.nodes if n.op == "placeholder"}

    def _unique(self, base: str) -> str:
        name, i = base, 1
        while name in self.names:
            name, i = f"{base}_{i}", i + 1
        self.names.add(name)
        return name

    def _add(self, base: str, module: nn.Module, src: fx.Node) -> fx.Node:
        name = self._unique(base)
        self.modules[name] = module
        new = self.graph.call_module(name, (src,))
        if isinstance(module, ActivationQuantizer):
            self.grid[new] = module
        elif isinstance(module, QuantWeighted):
            self.grid[new] = module.output_quantizer
        else:
            self.grid[new] = self.grid[src]
        return new

    def _single_user_of_kind(self, node: fx.Node, kinds: tuple[str, ...]) -> fx.Node | None:
        users = list(node.users)
        if len(users) == 1 and users[0] in self.ops and self.ops[users[0]].kind in kinds:
            return users[0]
        return None

    def _input_node(self, node: fx.Node) -> fx.Node:
        arg = node.args[0] if node.args else next(iter(node.kwargs.values()), None)
        if not isinstance(arg, fx.Node) or arg not in self.env:
            op = self.ops[node]
            raise _unsupported(op.where, op.label, "its input is not a tensor computed by a supported op")
        return arg

    def build(self, example_inputs: tuple[torch.Tensor, ...]) -> fx.GraphModule:
        for node in self.traced.graph.nodes:
            if node in self.fused:
                continue
            op = self.ops[node]
            if op.kind == "input":
                x = self.graph.placeholder(node.name)
                shape = tuple(int(d) for d in example_inputs[0].shape[1:])
                self.env[node] = self._add("input_quantizer", InputQuantizer(shape, self.c), x)
            elif op.kind == "output":
                self._output(node)
            else:
                self._rewrite(node, op)
        self.graph.lint()
        gm = fx.GraphModule(self.modules, self.graph, self.traced.__class__.__name__)
        gm.graph.eliminate_dead_code()
        gm.delete_all_unused_submodules()
        gm.recompile()
        return gm

    def _output(self, node: fx.Node) -> None:
        result = node.args[0]
        if not isinstance(result, fx.Node):
            raise _unsupported("output", "output", "the model must return a single tensor")
        new = self.env[result]
        if isinstance(self.modules.get(str(new.target)), InputQuantizer):
            raise _unsupported("output", "output", "the model computes nothing (its output is its input)")
        self.graph.output(new)

    def _rewrite(self, node: fx.Node, op: _Op) -> None:
        src = self._input_node(node)
        new_src = self.env[src]
        if op.kind == "remove":
            self.env[node] = new_src
        elif op.kind == "bn":
            raise _unsupported(
                op.where, op.label, "BatchNorm must directly follow a Conv2d/Linear whose output has no other users"
            )
        elif op.kind in ("relu", "relu6"):
            self.env[node] = self._add(node.name, SharedQuantClamp(op.kind, self.grid[new_src], op.where), new_src)
        elif op.kind in ("conv", "linear"):
            self._weighted(node, op, src, new_src)
        elif op.kind == "maxpool":
            self.env[node] = self._add(node.name, self._maxpool(node, op, len(_shape(src))), new_src)
        else:  # flatten
            self._check_flatten(node, op, len(_shape(src)))
            self.env[node] = self._add(node.name, QuantFlatten(op.where), new_src)

    def _weighted(self, node: fx.Node, op: _Op, src: fx.Node, new_src: fx.Node) -> None:
        layer = op.module
        last = node
        bn_node = self._single_user_of_kind(node, ("bn",))
        bn = None
        if bn_node is not None:
            bn = self.ops[bn_node].module
            want = nn.BatchNorm2d if op.kind == "conv" else nn.BatchNorm1d
            if type(bn) is not want:
                raise _unsupported(self.ops[bn_node].where, self.ops[bn_node].label, f"expected {want.__name__} here")
            if not bn.track_running_stats or bn.running_mean is None:
                bn_op = self.ops[bn_node]
                raise _unsupported(bn_op.where, bn_op.label, "BatchNorm without running statistics cannot be folded")
            self.fused.add(bn_node)
            last = bn_node
        act_node = self._single_user_of_kind(last, ("relu", "relu6"))
        activation = "none"
        if act_node is not None:
            activation = self.ops[act_node].kind
            self.fused.add(act_node)
            last = act_node
        shape = _shape(src)
        if op.kind == "conv":
            assert isinstance(layer, nn.Conv2d)
            if len(shape) != 4:
                raise _unsupported(op.where, op.label, f"input must be (N, C, H, W), got {len(shape)} dims")
            module: nn.Module = QuantConv2d(
                layer, bn, activation, self._conv_padding(layer, op), self.grid[new_src], self.c, op.where
            )
        else:
            if len(shape) != 2:
                raise _unsupported(op.where, op.label, f"input must be (N, F), got {len(shape)} dims (flatten first)")
            module = QuantLinear(layer, bn, activation, self.grid[new_src], self.c, op.where)
        new = self._add(node.name, module, new_src)
        for n in (node, bn_node, act_node):
            if n is not None:
                self.env[n] = new

    @staticmethod
    def _conv_padding(conv: nn.Conv2d, op: _Op) -> tuple[int, int, int, int]:
        if conv.groups != 1:
            why = f"grouped/depthwise convolution (groups={conv.groups}) is not supported"
            raise _unsupported(op.where, op.label, why)
        if tuple(conv.dilation) != (1, 1):
            raise _unsupported(op.where, op.label, f"dilation {tuple(conv.dilation)} is not supported")
        if conv.padding_mode != "zeros":
            raise _unsupported(op.where, op.label, f"padding_mode {conv.padding_mode!r} is not supported")
        if conv.padding == "valid":
            return (0, 0, 0, 0)
        if conv.padding == "same":  # PyTorch puts the odd pixel at the bottom/right
            kh, kw = conv.kernel_size
            return ((kh - 1) // 2, (kw - 1) // 2, kh - 1 - (kh - 1) // 2, kw - 1 - (kw - 1) // 2)
        ph, pw = _pair(conv.padding)
        return (ph, pw, ph, pw)

    @staticmethod
    def _maxpool(node: fx.Node, op: _Op, ndim: int) -> QuantMaxPool2d:
        if op.module is not None:
            m = op.module
            assert isinstance(m, nn.MaxPool2d)
            args = {
                "kernel_size": m.kernel_size,
                "stride": m.stride,
                "padding": m.padding,
                "dilation": m.dilation,
                "ceil_mode": m.ceil_mode,
                "return_indices": m.return_indices,
            }
        else:
            args = _bind(_sig_max_pool2d, node)
        for key in ("kernel_size", "stride", "padding", "dilation"):
            if isinstance(args[key], fx.Node):
                raise _unsupported(op.where, op.label, f"{key} must be a constant")
        if _pair(args["dilation"]) != (1, 1):
            raise _unsupported(op.where, op.label, f"dilation {args['dilation']} is not supported")
        if args["return_indices"]:
            raise _unsupported(op.where, op.label, "return_indices=True is not supported")
        kernel = _pair(args["kernel_size"])
        stride = _pair(args["stride"]) if args["stride"] not in (None, [], ()) else kernel
        if ndim != 4:
            raise _unsupported(op.where, op.label, "input must be (N, C, H, W)")
        return QuantMaxPool2d(kernel, stride, _pair(args["padding"]), bool(args["ceil_mode"]), op.where)

    @staticmethod
    def _check_flatten(node: fx.Node, op: _Op, ndim: int) -> None:
        if op.module is not None:
            assert isinstance(op.module, nn.Flatten)
            start, end = op.module.start_dim, op.module.end_dim
        else:
            args = _bind(_sig_flatten, node)
            start, end = args["start_dim"], args["end_dim"]
        if start not in (1, 1 - ndim) or end not in (-1, ndim - 1):
            raise _unsupported(op.where, op.label, f"only flatten(start_dim=1) is supported, got ({start}, {end})")


def prepare_qat(
    model: nn.Module, example_inputs: tuple[torch.Tensor, ...], *, averaging_constant: float = 0.01
) -> fx.GraphModule:
    """Deep-copy ``model``, trace it and return the QAT ``GraphModule`` (see the module docstring).

    ``example_inputs`` is a 1-tuple holding an ``(N, C, H, W)`` or ``(N, F)`` float tensor; it is
    used for shape checks only (the model runs once in eval mode, its state is unchanged).
    The returned model keeps the training mode of ``model``.
    """
    if not (isinstance(example_inputs, tuple) and len(example_inputs) == 1):
        raise PrepareError("example_inputs must be a 1-tuple (x,): tinyqat models take a single tensor input")
    x = example_inputs[0]
    if not (isinstance(x, torch.Tensor) and x.is_floating_point() and x.dim() in (2, 4)):
        raise PrepareError("the example input must be a float tensor shaped (N, C, H, W) or (N, F)")
    traced = _trace(copy.deepcopy(model))
    modules = dict(traced.named_modules())
    ops = {node: _classify(node, modules) for node in traced.graph.nodes}
    if sum(op.kind == "input" for op in ops.values()) != 1:
        raise _unsupported("forward", "forward", "the model must take exactly one tensor argument")
    _shape_prop(traced, example_inputs)
    gm = _Builder(traced, ops, averaging_constant).build(example_inputs)
    gm.train(model.training)
    return gm


def _modules_of(model: nn.Module, cls: type[nn.Module]) -> Iterator[Any]:
    return (m for m in model.modules() if isinstance(m, cls))


def freeze_bn_stats(model: nn.Module) -> nn.Module:
    """From now on folded layers use the running BatchNorm statistics in training too (exact forward)."""
    for m in _modules_of(model, QuantWeighted):
        m.bn_frozen = True
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
