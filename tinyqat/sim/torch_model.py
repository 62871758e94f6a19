"""The integer model in PyTorch: the same integers as the simulator, batched, on any device.

:class:`IntegerModel` runs a lowered :class:`~tinyqat.ir.Graph` with torch tensor operations on the
device it is moved to (CPU or CUDA), with no numpy round trip, so a training loop can measure the
accuracy of exactly what the device will compute (``on_epoch`` of :func:`tinyqat.qat_finetune`, or
any evaluation loop).  Every op implements the formula of its class in :mod:`tinyqat.ir`, as
:mod:`tinyqat.sim.kernels` does; tests require the two to be equal on every op.

Exactness: accumulators ``sum w * (x - zp)`` are formed by float64 convolutions and matrix
products of integer-valued tensors, exact while ``|acc| < 2**53`` (lowering keeps them in int32);
requantization runs in int64 tensor arithmetic (:func:`tinyqat.requant.mbqm`, the torch twin of
:mod:`tinyqat.fixedpoint`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tinyqat import ir, quant
from tinyqat.requant import log_softmax_int8, mbqm, softmax_int8


class IntegerModel(nn.Module):
    """A lowered integer graph as a module: int8 batch in the model's PyTorch layout in, int8 out.

    The graph's constants are buffers, so ``.to(device)`` moves them; ``forward`` runs where they are.
    """

    def __init__(self, graph: ir.Graph) -> None:
        super().__init__()
        if not graph.is_integer:
            raise ValueError("graph is not lowered to integer ops yet")
        self.graph = graph
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)  # the device of the model
        self._consts: list[dict[str, str]] = []
        for i, op in enumerate(graph.ops):
            names = {}
            for field in ("weights", "bias", "multiplier", "shift", "table", "exp_table", "alpha", "constant"):
                value = getattr(op, field, None)
                if isinstance(value, np.ndarray):  # Mul's multiplier / shift are scalars
                    names[field] = f"c{i}_{field}"
                    self.register_buffer(names[field], torch.as_tensor(value.astype("int64")), persistent=False)
            self._consts.append(names)

    @property
    def device(self) -> torch.device:
        """The device the model's constants are on, where its forward runs."""
        return self._anchor.device

    def _const(self, index: int, field: str) -> torch.Tensor:
        return getattr(self, self._consts[index][field])

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """int8 ``(N, *graph.torch_input_shape)`` -> int8 ``(N, *graph.torch_output_shape)``; for a graph
        with several outputs, the tuple of them in order (``(N, *shape)`` for each of ``torch_output_shapes``)."""
        graph = self.graph
        if x.dtype != torch.int8 or tuple(x.shape[1:]) != tuple(graph.torch_input_shape):
            raise ValueError(f"input must be int8 of shape (N, {', '.join(map(str, graph.torch_input_shape))}); "
                             f"got {x.dtype} {tuple(x.shape)}")
        if len(graph.torch_input_shape) >= 2:
            x = torch.movedim(x, 1, -1)
        values = self.run_layers(x.reshape(x.shape[0], *graph.tensor(graph.input).shape))
        ys = tuple(_to_torch_layout(values[name], shape)
                   for name, shape in zip(graph.outputs, graph.torch_output_shapes, strict=True))
        return ys if len(ys) > 1 else ys[0]

    def run_layers(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every tensor of the graph by name (int8, channels-last) for a channels-last int8 input batch,
        as :func:`tinyqat.sim.interpreter.run_layers` returns them."""
        graph = self.graph
        values = {graph.input: x.to(self.device).long()}
        for i, op in enumerate(graph.ops):
            ins = [graph.tensor(name) for name in op.inputs]
            values[op.output] = _KERNELS[type(op)](self, i, op, [values[n] for n in op.inputs], ins,
                                                    graph.tensor(op.output))
        return {name: v.to(torch.int8) for name, v in values.items()}


def _to_torch_layout(y: torch.Tensor, torch_shape: tuple[int, ...]) -> torch.Tensor:
    """A channels-last ``(N, ...)`` batch in PyTorch layout ``(N, *torch_shape)`` (channels back to axis 1)."""
    if len(torch_shape) >= 2:
        y = torch.movedim(y.reshape(y.shape[0], *torch_shape[1:], torch_shape[0]), -1, 1)
    return y.reshape(y.shape[0], *torch_shape).contiguous()


# Kernels: (model, op index, op, int64 channels-last inputs, input tensors, output tensor) -> int64 output.
Kernel = Callable[[IntegerModel, int, ir.IntOp, list[torch.Tensor], list[ir.Tensor], ir.Tensor], torch.Tensor]


def _requantize(m: IntegerModel, i: int, op: ir.Conv2d | ir.DepthwiseConv2d | ir.FullyConnected, acc: torch.Tensor,
                zp_out: int) -> torch.Tensor:
    """``clamp(mbqm(acc + bias, multiplier[c], shift[c]) + zp_out, act_min, act_max)``, channels last."""
    y = mbqm(acc + m._const(i, "bias"), m._const(i, "multiplier"), m._const(i, "shift")) + zp_out
    return y.clamp(op.act_min, op.act_max)


def _nchw_centered(x: torch.Tensor, zp: int, padding: tuple[int, int, int, int]) -> torch.Tensor:
    """``x - zp`` as float64 NCHW, zero-padded (padded taps contribute nothing)."""
    top, left, bottom, right = padding
    return F.pad(torch.movedim(x - zp, -1, 1).double(), (left, right, top, bottom))


def _exact(acc: torch.Tensor) -> torch.Tensor:
    """A float64 tensor of exact integers as int64, channels last."""
    return torch.movedim(torch.round(acc), 1, -1).long()


def _conv2d(m: IntegerModel, i: int, op: ir.Conv2d, xs: list[torch.Tensor], ins: list[ir.Tensor],
            out: ir.Tensor) -> torch.Tensor:
    w = m._const(i, "weights").permute(0, 3, 1, 2).double()  # [oc][kh][kw][ic] -> [oc][ic][kh][kw]
    acc = F.conv2d(_nchw_centered(xs[0], ins[0].qparams.zero_point, op.padding), w, stride=op.stride)
    return _requantize(m, i, op, _exact(acc), out.qparams.zero_point)


def _depthwise_conv2d(m: IntegerModel, i: int, op: ir.DepthwiseConv2d, xs: list[torch.Tensor],
                      ins: list[ir.Tensor], out: ir.Tensor) -> torch.Tensor:
    w = m._const(i, "weights").permute(2, 0, 1).unsqueeze(1).double()  # [kh][kw][oc] -> [oc][1][kh][kw]
    acc = F.conv2d(_nchw_centered(xs[0], ins[0].qparams.zero_point, op.padding), w, stride=op.stride,
                   groups=ins[0].shape[2])  # output channel c reads input channel c // m
    return _requantize(m, i, op, _exact(acc), out.qparams.zero_point)


def _fully_connected(m: IntegerModel, i: int, op: ir.FullyConnected, xs: list[torch.Tensor], ins: list[ir.Tensor],
                     out: ir.Tensor) -> torch.Tensor:
    x = xs[0].reshape(xs[0].shape[0], -1).double() - ins[0].qparams.zero_point
    acc = torch.round(x @ m._const(i, "weights").double().T).long()
    return _requantize(m, i, op, acc, out.qparams.zero_point)


def _pool_padding(op: ir.MaxPool2d | ir.AvgPool2d, x_t: ir.Tensor, out: ir.Tensor) -> tuple[int, int, int, int]:
    """``(left, right, top, bottom)`` so every (ceil-mode) window lies inside the padded map."""
    pt, pl, _, _ = op.padding
    (h, w, _), (oh, ow, _) = x_t.shape, out.shape
    bottom = max(0, (oh - 1) * op.stride[0] + op.kernel[0] - h - pt)
    right = max(0, (ow - 1) * op.stride[1] + op.kernel[1] - w - pl)
    return pl, right, pt, bottom


def _window_sum(x: torch.Tensor, op: ir.AvgPool2d, out: ir.Tensor) -> torch.Tensor:
    """Sum over each window of a padded float64 NCHW map, the first ``out`` windows, channels last."""
    total = F.avg_pool2d(x, op.kernel, op.stride, divisor_override=1)
    return torch.movedim(total[:, :, : out.shape[0], : out.shape[1]], 1, -1)


def _max_pool2d(m: IntegerModel, i: int, op: ir.MaxPool2d, xs: list[torch.Tensor], ins: list[ir.Tensor],
                out: ir.Tensor) -> torch.Tensor:
    """Max over in-bounds taps: out-of-bounds taps are -129, below every int8 value.  In float32 (exact for
    these integers) on a contiguous NCHW map: CUDA's float64 max pool fails on the channels-last strides
    that ``movedim`` leaves (torch 2.11, "misaligned address")."""
    x = F.pad(torch.movedim(xs[0], -1, 1).float().contiguous(), _pool_padding(op, ins[0], out), value=-129.0)
    y = F.max_pool2d(x, op.kernel, op.stride)[:, :, : out.shape[0], : out.shape[1]]
    return torch.movedim(y, 1, -1).long()


def _avg_pool2d(m: IntegerModel, i: int, op: ir.AvgPool2d, xs: list[torch.Tensor], ins: list[ir.Tensor],
                out: ir.Tensor) -> torch.Tensor:
    """PyTorch's divisor: taps inside the declared padding count (as the zero point) when
    ``count_include_pad``, taps past it never; :func:`tinyqat.quant.round_div` halves away from zero."""
    left, right, top, bottom = _pool_padding(op, ins[0], out)
    h, w, _ = ins[0].shape
    counted = torch.zeros(top + h + bottom, left + w + right, dtype=torch.float64, device=xs[0].device)
    ptop, pleft, pbot, pright = op.padding
    if op.count_include_pad:
        counted[top - ptop : top + h + pbot, left - pleft : left + w + pright] = 1
    counted[top : top + h, left : left + w] = 1
    zp = ins[0].qparams.zero_point
    values = F.pad(torch.movedim(xs[0], -1, 1).double(), (left, right, top, bottom), value=float(zp)) * counted
    y = quant.round_div(_window_sum(values, op, out), _window_sum(counted[None, None], op, out))  # float64: exact
    return y.long().clamp(ir.INT8_MIN, ir.INT8_MAX)


def _clamp(m: IntegerModel, i: int, op: ir.Clamp, xs: list[torch.Tensor], ins: list[ir.Tensor],
           out: ir.Tensor) -> torch.Tensor:
    return xs[0].clamp(op.lo, op.hi)


def _add(m: IntegerModel, i: int, op: ir.Add, xs: list[torch.Tensor], ins: list[ir.Tensor],
         out: ir.Tensor) -> torch.Tensor:
    def scalar(v: int) -> torch.Tensor:
        return torch.tensor(v, dtype=torch.int64, device=xs[0].device)

    scaled = [mbqm((x - t.qparams.zero_point) << ir.Add.LEFT_SHIFT, scalar(q), scalar(e))
              for x, t, q, e in zip(xs, ins, (op.multiplier1, op.multiplier2), (op.shift1, op.shift2))]
    total = scaled[0] + scaled[1] if not op.subtract else (scaled[1] - scaled[0] if op.reverse
                                                           else scaled[0] - scaled[1])  # (1, 1, C) broadcasts
    y = mbqm(total, scalar(op.output_multiplier), scalar(op.output_shift))
    return (y + out.qparams.zero_point).clamp(op.act_min, op.act_max)


def _concat(m: IntegerModel, i: int, op: ir.Concat, xs: list[torch.Tensor], ins: list[ir.Tensor],
            out: ir.Tensor) -> torch.Tensor:
    q, e = m._const(i, "multiplier"), m._const(i, "shift")
    parts = [mbqm(x - t.qparams.zero_point, q[k], e[k]) + out.qparams.zero_point
             for k, (x, t) in enumerate(zip(xs, ins))]
    return torch.cat(parts, dim=-1).clamp(ir.INT8_MIN, ir.INT8_MAX)


def _lookup(m: IntegerModel, i: int, op: ir.Lookup, xs: list[torch.Tensor], ins: list[ir.Tensor],
            out: ir.Tensor) -> torch.Tensor:
    return m._const(i, "table")[xs[0] + 128]


def _softmax(m: IntegerModel, i: int, op: ir.Softmax, xs: list[torch.Tensor], ins: list[ir.Tensor],
             out: ir.Tensor) -> torch.Tensor:
    return softmax_int8(xs[0], m._const(i, "exp_table"))


def _log_softmax(m: IntegerModel, i: int, op: ir.LogSoftmax, xs: list[torch.Tensor], ins: list[ir.Tensor],
                 out: ir.Tensor) -> torch.Tensor:
    params = (op.input_multiplier, op.input_shift, op.reverse_multiplier, op.reverse_shift, op.diff_min)
    return log_softmax_int8(xs[0], m._const(i, "exp_table"), params)


# --- elementwise ops with two operands or per-channel constants (MUL, PRELU) ---------------------


def _scalar(v: int, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(v, dtype=torch.int64, device=like.device)


def _mul(m: IntegerModel, i: int, op: ir.Mul, xs: list[torch.Tensor], ins: list[ir.Tensor],
         out: ir.Tensor) -> torch.Tensor:
    """:class:`tinyqat.ir.Mul`; the ``(1, 1, C)`` operand broadcasts as in numpy."""
    product = (xs[0] - ins[0].qparams.zero_point) * (xs[1] - ins[1].qparams.zero_point)
    y = mbqm(product, _scalar(op.multiplier, product), _scalar(op.shift, product)) + out.qparams.zero_point
    return y.clamp(op.act_min, op.act_max)


def _mul_const(m: IntegerModel, i: int, op: ir.MulConst, xs: list[torch.Tensor], ins: list[ir.Tensor],
               out: ir.Tensor) -> torch.Tensor:
    """:class:`tinyqat.ir.MulConst`, the constant along the last (channel) axis."""
    product = (xs[0] - ins[0].qparams.zero_point) * m._const(i, "constant")
    y = mbqm(product, _scalar(op.multiplier, product), _scalar(op.shift, product)) + out.qparams.zero_point
    return y.clamp(op.act_min, op.act_max)


def _prelu(m: IntegerModel, i: int, op: ir.PRelu, xs: list[torch.Tensor], ins: list[ir.Tensor],
           out: ir.Tensor) -> torch.Tensor:
    """:class:`tinyqat.ir.PRelu`, alpha along the last (channel) axis."""
    x_c = xs[0] - ins[0].qparams.zero_point
    positive = mbqm(x_c, _scalar(op.multiplier_pos, x_c), _scalar(op.shift_pos, x_c))
    negative = mbqm(x_c * m._const(i, "alpha"), _scalar(op.multiplier_neg, x_c), _scalar(op.shift_neg, x_c))
    return (torch.where(x_c >= 0, positive, negative) + out.qparams.zero_point).clamp(ir.INT8_MIN, ir.INT8_MAX)


# --- end of the elementwise block -----------------------------------------------------------------

def _reshape(m: IntegerModel, i: int, op: ir.Reshape, xs: list[torch.Tensor], ins: list[ir.Tensor],
             out: ir.Tensor) -> torch.Tensor:
    return xs[0].reshape(xs[0].shape[0], *out.shape)


def _gather(m: IntegerModel, i: int, op: ir.Gather, xs: list[torch.Tensor], ins: list[ir.Tensor],
            out: ir.Tensor) -> torch.Tensor:
    x = xs[0]
    index = torch.as_tensor(op.index, dtype=torch.int64, device=x.device)
    return x.reshape(x.shape[0], -1, ins[0].shape[-1])[:, :, index].reshape(x.shape[0], *out.shape)


def _resize_nearest(m: IntegerModel, i: int, op: ir.ResizeNearest, xs: list[torch.Tensor], ins: list[ir.Tensor],
                    out: ir.Tensor) -> torch.Tensor:
    return xs[0].repeat_interleave(op.scale[0], dim=1).repeat_interleave(op.scale[1], dim=2)


_KERNELS: dict[type, Kernel] = {
    ir.Conv2d: _conv2d,
    ir.DepthwiseConv2d: _depthwise_conv2d,
    ir.FullyConnected: _fully_connected,
    ir.MaxPool2d: _max_pool2d,
    ir.AvgPool2d: _avg_pool2d,
    ir.Clamp: _clamp,
    ir.Add: _add,
    ir.Concat: _concat,
    ir.Lookup: _lookup,
    ir.Softmax: _softmax,
    ir.LogSoftmax: _log_softmax,
    ir.Mul: _mul,
    ir.PRelu: _prelu,
    ir.MulConst: _mul_const,
    ir.Reshape: _reshape,
    ir.Gather: _gather,
    ir.ResizeNearest: _resize_nearest,
}
