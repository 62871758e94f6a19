"""``prepare_qat`` support for tensor plumbing: shape queries, data movement, upsampling, a final
(log-)softmax, and library modules that fuse BatchNorm with an activation.

* **Shape queries** (``x.size()``, ``x.shape[-1]``, ``x.ndim``, ``x.dim()``, ``x.numel()`` and
  arithmetic on them, ``torch._assert`` on them) are *constants*: their values come from the one
  run on ``example_inputs`` (:func:`const_value` recomputes them for any batch size from the recorded
  shapes, on ``meta`` tensors).  An argument of a layer that depends on the batch size is refused.
* **Data movement** (``view``/``reshape`` other than a flatten, ``squeeze``/``unsqueeze``,
  ``permute``/``transpose``/``movedim``, ``flatten``/``unflatten``, ``contiguous``, slicing
  ``x[:, a:b]``, ``narrow``, ``chunk``/``split`` and their parts) is followed *lazily*: the user's own
  ops run on an int64 index tensor (every element holds its own flat index, batch ``N + 1``), so
  any chain, e.g. the channel shuffle ``view -> transpose -> view``, reduces to one map from the
  last tensor a layer computed.  When a layer reads the result, :func:`tinyqat.movement.classify`
  turns the map into an alias or a per-pixel channel gather (:class:`~tinyqat.qat.plumbing.QuantMove`),
  or refuses it with the reason.
* **Upsampling** (``nn.Upsample``, ``F.interpolate``, ``nn.UpsamplingNearest2d``): the user's call is
  run on a float64 index map and must equal nearest-neighbour repetition by the integer factors the
  shapes give (:class:`~tinyqat.qat.plumbing.QuantResizeNearest`), which rules out other modes.
* **BatchNorm + activation modules** (timm's ``BatchNormAct2d`` and its kind: a subclass of
  ``BatchNorm1d/2d`` with ``act`` and ``drop`` sub-modules, whose traced forward fails on an
  ``x.ndim`` assert) are unwrapped before tracing into ``nn.Sequential(BatchNorm, drop, act)``
  with the same statistics (:func:`unwrap_norm_act`); other BatchNorm subclasses are named with a hint.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from tinyqat.movement import Move, classify
from tinyqat.qat.plumbing import DeployedAsLogits, QuantMove, QuantResizeNearest

SHAPE_ATTRS = ("shape", "ndim")  # getattr of a tensor that is a constant
SHAPE_METHODS = ("size", "dim", "numel", "ndimension")  # Tensor methods that are constants
MOVE_METHODS = ("view", "reshape", "squeeze", "unsqueeze", "permute", "transpose", "movedim", "contiguous",
                "flatten", "unflatten", "chunk", "split", "narrow", "t")
MOVE_FUNCTIONS: tuple[Any, ...] = (torch.squeeze, torch.unsqueeze, torch.permute, torch.transpose, torch.movedim,
                                   torch.reshape, torch.flatten, torch.chunk, torch.split, torch.narrow, torch.t)
MOVE_MODULES: tuple[type, ...] = (nn.Flatten, nn.Unflatten)
RESIZE_FUNCTIONS: tuple[Any, ...] = (F.interpolate, F.upsample, F.upsample_nearest)
RESIZE_MODULES: tuple[type, ...] = (nn.Upsample, nn.UpsamplingNearest2d)
LOG_SOFTMAX_FUNCTIONS: tuple[Any, ...] = (F.log_softmax, torch.log_softmax)
_BN = (nn.BatchNorm1d, nn.BatchNorm2d)


def is_const_target(node: fx.Node) -> bool:
    """A node that can only compute a constant from shapes: a shape query of a tensor, or Python
    arithmetic / indexing / an assert on such values (its tensor inputs must be shape-queried only)."""
    if node.op == "call_function" and node.target is getattr:
        return node.args[1] in SHAPE_ATTRS
    if node.op == "call_method" and node.target in SHAPE_METHODS:
        return True
    if node.op == "call_function":
        module = getattr(node.target, "__module__", "") or ""
        return node.target is torch._assert or module in ("_operator", "operator", "math")
    return False


def is_tensor(node: Any) -> bool:
    """A traced node whose recorded result is one tensor."""
    return isinstance(node, fx.Node) and "tinyqat_shape" in node.meta


def is_tensor_tuple(node: Any) -> bool:
    """A traced node whose recorded result is a tuple of tensors (``chunk``, ``split``)."""
    return isinstance(node, fx.Node) and "tinyqat_shapes" in node.meta


def const_value(node: fx.Node, batch: int, cache: dict[tuple[fx.Node, int], Any]) -> Any:
    """The value of a constant node when the batch size is ``batch`` (tensors become ``meta``
    tensors of their recorded shape with that batch)."""
    key = (node, batch)
    if key not in cache:
        def arg(a: fx.Node) -> Any:
            if is_tensor(a):
                return torch.empty((batch, *a.meta["tinyqat_shape"][1:]), device="meta")
            return const_value(a, batch, cache)
        args, kwargs = fx.node.map_arg((node.args, node.kwargs), arg)
        if node.op == "call_method":
            cache[key] = getattr(args[0], str(node.target))(*args[1:], **kwargs)
        else:
            target: Callable[..., Any] = node.target  # type: ignore[assignment]
            cache[key] = target(*args, **kwargs)
    return cache[key]


def _index_tensor(shape: tuple[int, ...], batch: int) -> torch.Tensor:
    """``(batch, *shape)`` int64 tensor whose elements hold their own flat index."""
    return torch.arange(batch * math.prod(shape), dtype=torch.int64).reshape(batch, *shape)


class PlumbingMixin:
    """The builder's handlers for the ops of this module (mixed into ``prepare._Builder``)."""

    ops: dict[fx.Node, Any]
    env: dict[fx.Node, fx.Node]
    deploy_logits: bool
    _emit: Callable[..., fx.Node]

    def _init_plumbing(self, batch: int) -> None:
        self.index_batch = batch + 1  # differs from the example's: a literal batch size shows up
        self.virtual: dict[fx.Node, tuple[fx.Node, Any]] = {}  # node -> (computed base node, index tensor(s))
        self.const_cache: dict[tuple[fx.Node, int], Any] = {}

    def _value(self, v: Any, batch: int) -> Any:
        """``v`` with every constant node replaced by its value for ``batch``."""
        return fx.node.map_arg(v, lambda n: const_value(n, batch, self.const_cache))

    def _index_of(self, node: fx.Node) -> tuple[fx.Node, Any]:
        """``(base, index)`` of a tensor (or tuple) node: a lazy move's, or the node's own ramp."""
        if node in self.virtual:
            return self.virtual[node]
        if not is_tensor(node) or node not in self.env:
            raise self.ops[node].error("its inputs must be tensors computed by supported ops")
        return node, _index_tensor(node.meta["tinyqat_shape"][1:], self.index_batch)

    def _move(self, node: fx.Node, op: Any) -> None:
        """Follow a data-movement op on the index tensor of its input (module docstring)."""
        bases = []

        def arg(a: fx.Node) -> Any:
            if is_tensor(a) or is_tensor_tuple(a):
                base, index = self._index_of(a)
                bases.append(base)
                return index
            return const_value(a, self.index_batch, self.const_cache)

        args, kwargs = fx.node.map_arg((node.args, node.kwargs), arg)
        if len(set(bases)) != 1:
            raise op.error("a reshape must read exactly one tensor")
        try:
            if node.op == "call_method":
                result = getattr(args[0], str(node.target))(*args[1:], **kwargs)
            elif node.op == "call_module":
                result = op.module(*args, **kwargs)
            else:
                result = node.target(*args, **kwargs)
        except Exception as exc:  # the op cannot run on an index tensor of batch N + 1
            raise op.error(f"cannot follow this reshape for other batch sizes ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0][:120]}); keep the batch dim first, sized x.size(0) or -1"
                           ) from None
        if not (isinstance(result, torch.Tensor) or (isinstance(result, tuple) and result
                                                    and all(isinstance(r, torch.Tensor) for r in result))):
            raise op.error("its result is not a tensor or a tuple of tensors")
        self.virtual[node] = (bases[0], result)

    def _resolve(self, node: fx.Node) -> tuple[fx.Node, torch.Tensor, tuple[int, ...], Move | str]:
        """``(base, per-sample index, output shape, move or the reason there is none)`` of a lazy move."""
        op = self.ops[node]
        base, index = self.virtual[node]
        if not isinstance(index, torch.Tensor):
            raise op.error("a tuple of tensors (chunk / split) must be indexed before a layer reads it")
        b = self.index_batch
        in_shape = tuple(base.meta["tinyqat_shape"][1:])
        size = math.prod(in_shape)
        batch_error = "it mixes samples of the batch: keep the batch dim first and whole, sized x.size(0) or -1"
        if index.dim() < 2 or index.shape[0] != b:
            raise op.error(batch_error)
        local = index.reshape(b, -1) - torch.arange(b, dtype=torch.int64)[:, None] * size
        per_sample = local[0]
        if not torch.equal(local, per_sample.expand_as(local)) or int(per_sample.min()) < 0 or (
                int(per_sample.max()) >= size):
            raise op.error(batch_error)
        out_shape = tuple(int(d) for d in index.shape[1:])
        return base, per_sample, out_shape, classify(in_shape, out_shape, per_sample.numpy())

    def _materialize(self, node: fx.Node) -> None:
        """Emit the :class:`QuantMove` computing a lazy move's value from its base (or nothing)."""
        base, per_sample, out_shape, move = self._resolve(node)
        if isinstance(move, str):
            raise self.ops[node].error(move)
        if move == Move("alias") and out_shape == tuple(base.meta["tinyqat_shape"][1:]):
            self.env[node] = self.env[base]
            return
        self.env[node] = self._emit(node.name, QuantMove(per_sample, out_shape, move, self.ops[node].where),
                                    (self.env[base],))

    def _flatten_lazily(self, node: fx.Node, op: Any) -> bool:
        """A flatten of a lazy move's result, followed as one more move when the whole chain is still a
        relabel or a channel gather (else False: the caller materializes the source and flattens it)."""
        src = node.args[0] if node.args else next(iter(node.kwargs.values()), None)
        if src not in self.virtual or src in self.env:
            return False
        self._move(node, op)
        if isinstance(self._resolve(node)[3], str):
            del self.virtual[node]
            return False
        return True

    def _relabel(self, new: fx.Node, shape: tuple[int, ...], where: str) -> fx.Node:
        """``new`` (a node of the new graph) relabelled to the per-sample ``shape`` of the same size
        and channels-last bytes (a Linear on ``(N, 1, F)`` reads and writes vectors)."""
        index = torch.arange(math.prod(shape), dtype=torch.int64)
        return self._emit(f"{new.name}_relabel", QuantMove(index, shape, Move("alias"), where), (new,))

    def _resize(self, node: fx.Node, op: Any) -> None:
        """Nearest-neighbour upsampling by integer factors (module docstring)."""
        src = node.args[0] if node.args else next(iter(node.kwargs.values()))
        if not is_tensor(src) or not is_tensor(node):
            raise op.error("its input must be a tensor computed by supported ops")
        new_src = self.env[self._operand(op, src)]  # type: ignore[attr-defined]
        in_shape, out_shape = src.meta["tinyqat_shape"], node.meta["tinyqat_shape"]
        if len(in_shape) not in (3, 4) or len(out_shape) != len(in_shape) or out_shape[:2] != in_shape[:2]:
            raise op.error(f"only (N, C, L) and (N, C, H, W) maps can be upsampled, got {tuple(in_shape)}")
        factors = [o // i for i, o in zip(in_shape[2:], out_shape[2:])]
        if any(o != i * f for i, o, f in zip(in_shape[2:], out_shape[2:], factors)) or min(factors) < 1:
            raise op.error(f"only integer upsampling factors are supported, got {tuple(in_shape[2:])} -> "
                           f"{tuple(out_shape[2:])}")
        scale = (1, factors[0]) if len(factors) == 1 else (factors[0], factors[1])
        module = QuantResizeNearest(scale, op.where)
        ramp = _index_tensor(tuple(in_shape[1:]), 1).to(torch.float64)
        args, kwargs = fx.node.map_arg((node.args[1:], node.kwargs),
                                       lambda n: const_value(n, in_shape[0], self.const_cache))
        user = op.module(ramp) if op.module is not None else node.target(ramp, *args, **kwargs)
        if not torch.equal(user, module(ramp)):
            raise op.error("only nearest-neighbour upsampling (mode 'nearest' or 'nearest-exact') is supported")
        self.env[node] = self._emit(node.name, module, (new_src,))

    def _final_softmax(self, node: fx.Node, op: Any, function: str) -> bool:
        """Handle a (log-)softmax over channels as :class:`DeployedAsLogits` when it is the model's
        output and ``deploy_logits`` is set; False (not handled: computed in int8) otherwise."""
        users = list(node.users)
        result = users[0].args[0] if len(users) == 1 and users[0].op == "output" else None
        final = result is node or (isinstance(result, (tuple, list)) and node in result)  # or one of a tuple
        if not (self.deploy_logits and final):
            return False
        src = node.args[0] if node.args else node.kwargs.get("input")
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", getattr(op.module, "dim", None))
        shape = node.meta["tinyqat_shape"]
        ndim = len(shape)
        # over channels, or over the last dim of (N, 1, ..., F) (torchaudio's tutorial: dim=2 on (N, 1, classes))
        if not isinstance(dim, int) or ndim < 2 or not (dim % ndim == 1 or (
                dim % ndim == ndim - 1 and all(d == 1 for d in shape[1:-1]))):
            raise op.error(f"only a {function} over channels (dim=1) or the features of (N, 1, F) is supported, "
                           f"got dim={dim} on {tuple(shape)}")
        new_src = self.env[self._operand(op, src)]  # type: ignore[attr-defined]
        self.env[node] = self._emit(node.name, DeployedAsLogits(function, dim % ndim, op.where), (new_src,))
        return True


def unwrap_norm_act(model: nn.Module) -> None:
    """Replace every BatchNorm+activation module (a subclass of BatchNorm1d/2d with ``act`` and
    ``drop`` sub-modules, as timm's ``BatchNormAct2d``) by ``nn.Sequential(bn, drop, act)`` in place."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if (isinstance(child, _BN) and type(child) not in _BN and isinstance(getattr(child, "act", None), nn.Module)
                    and isinstance(getattr(child, "drop", None), nn.Module)):
                plain_cls = nn.BatchNorm2d if isinstance(child, nn.BatchNorm2d) else nn.BatchNorm1d
                bn = plain_cls(child.num_features, child.eps, child.momentum, child.affine, child.track_running_stats)
                bn.load_state_dict({k: v for k, v in child.state_dict().items() if "." not in k})
                bn.train(child.training)
                setattr(parent, name, nn.Sequential(bn, child.drop, child.act))


def bn_subclass_hint(module: nn.Module | None) -> str:
    """A hint for a BatchNorm subclass tinyqat does not unwrap, else ``""``."""
    if isinstance(module, _BN) and type(module) not in _BN:
        return (f"{type(module).__name__} is a BatchNorm subclass without 'act' and 'drop' sub-modules, which "
                "tinyqat does not unwrap: use nn.BatchNorm2d followed by the activation")
    return ""

