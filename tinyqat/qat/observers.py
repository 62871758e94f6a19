"""Activation range observers: the statistics behind an activation quantizer's grid, kept apart from fake quant.

An observer turns each batch ``x`` into a range ``[lo, hi]`` (:meth:`Observer.batch_range`, the only
thing that differs between kinds) and keeps a moving average of it (:meth:`Observer.update`): the first
observed batch sets ``min_val, max_val``; later batches do ``avg = avg + c * (batch - avg)`` with
``c = averaging_constant``.  :meth:`Observer.range` reports ``(min_val, max_val)``; the quantizer
(:class:`tinyqat.qat.fake_quant.ActivationQuantizer`) turns it into
``(s, zp) = quant.activation_qparams(min_val, max_val)``.  The statistics are registered buffers
(``min_val``, ``max_val``: float32 scalars; ``observed``: bool scalar, set by the first batch), so they
are saved in ``state_dict``, moved by ``.to()`` and broadcast by DDP.

Kinds (:data:`OBSERVERS`, the ``observer=`` names of :func:`tinyqat.prepare_qat`; :data:`OBSERVER_CLASSES`
maps them to classes):

- ``"minmax"`` (:class:`MinMaxObserver`, the default): the batch minimum and maximum.
- ``"percentile"`` (:class:`PercentileObserver`): the ``1 - p`` and ``p`` quantiles of the batch values
  (``p = 0.9999``, so the 0.01 % most extreme values at each end are clipped), by ``torch.kthvalue`` on at
  most :data:`OBSERVER_SAMPLE` values (an even stride through the batch when it is larger).
- ``"mse"`` (:class:`MSEObserver`): the clipping range minimising quantization error: for the batch
  min/max ``[lo, hi]`` and each fraction ``a`` of :data:`MSE_GRID` (0.30, 0.32, ..., 1.00), the range
  ``[a lo, a hi]`` is quantized with :func:`tinyqat.quant.activation_qparams`; the ``a`` with the least
  mean squared error ``(fq(x) - x)^2`` over (a stride subsample of at most :data:`OBSERVER_SAMPLE`) batch
  values wins (ties: the wider range).

:class:`FixedRangeObserver` holds the real range of a fixed grid (sigmoid, tanh and softmax outputs) and
ignores the data; it has no user-facing name.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.distributed as dist
from torch import nn

from tinyqat import quant
from tinyqat.errors import TinyQatError
from tinyqat.quant import round_float32

PERCENTILE = 0.9999
OBSERVER_SAMPLE = 1 << 16
MSE_GRID = tuple(round(0.30 + 0.02 * k, 2) for k in range(36))


def distributed() -> bool:
    """Whether this process is one of several in an initialised ``torch.distributed`` group."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class NonFiniteError(TinyQatError):
    """NaN or Inf reached an observed activation during QAT (the message names the layer)."""


def _sample(x: torch.Tensor) -> torch.Tensor:
    """At most :data:`OBSERVER_SAMPLE` values of ``x`` (flattened; an even stride when larger)."""
    flat = x.detach().reshape(-1).float()
    step = -(-flat.numel() // OBSERVER_SAMPLE)
    return flat[::step] if step > 1 else flat


def percentile_range(x: torch.Tensor, p: float = PERCENTILE) -> tuple[torch.Tensor, torch.Tensor]:
    """``(lo, hi)``: the ``1 - p`` and ``p`` quantiles of the values of ``x`` (see the module docstring)."""
    flat = _sample(x)
    n = flat.numel()
    k = min(n, max(1, math.ceil((1.0 - p) * n)))
    return flat.kthvalue(k).values, flat.kthvalue(n - k + 1).values


def mse_range(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(a lo, a hi)`` with ``a`` in :data:`MSE_GRID` minimising the int8 quantization MSE of ``x``."""
    flat = _sample(x)
    lo, hi = torch.aminmax(flat)
    fractions = torch.tensor(MSE_GRID, dtype=torch.float32, device=flat.device)
    scale, zp = quant.activation_qparams(fractions * lo, fractions * hi)  # one candidate per fraction
    scale, zp = scale[:, None], zp[:, None].float()
    err = (quant.dequantize(quant.quantize(flat[None], scale, zp, quant.ACT_QMIN, quant.ACT_QMAX), scale, zp)
           - flat[None]).square().mean(dim=1)
    best = int(torch.nonzero(err <= err.min()).max())  # the widest range among the minima
    return fractions[best] * lo, fractions[best] * hi


class Observer(nn.Module):
    """Moving average of a per-batch range (module docstring); subclasses define :meth:`batch_range`.

    Interface: :meth:`update` (observe one batch), :meth:`update_range` (observe one batch's ``(lo, hi)``
    computed elsewhere), :meth:`range` (the current ``(min_val, max_val)``) and the buffer ``observed``.
    Calling the module updates it and returns ``x`` unchanged; the quantizer calls :meth:`update` directly.
    """

    name: ClassVar[str] = ""
    min_val: torch.Tensor
    max_val: torch.Tensor
    observed: torch.Tensor

    def __init__(self, averaging_constant: float = 0.01) -> None:
        super().__init__()
        if not 0.0 < averaging_constant <= 1.0:
            raise ValueError(f"averaging_constant must be in (0, 1], got {averaging_constant}")
        self.averaging_constant = averaging_constant
        self.register_buffer("min_val", torch.zeros((), dtype=torch.float32))
        self.register_buffer("max_val", torch.zeros((), dtype=torch.float32))
        self.register_buffer("observed", torch.zeros((), dtype=torch.bool))

    def extra_repr(self) -> str:
        """Show the averaging constant and the observed range."""
        lo, hi = self.min_val.item(), self.max_val.item()
        return f"averaging_constant={self.averaging_constant}, range=[{lo:.4g}, {hi:.4g}]"

    def batch_range(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """This observer's ``(lo, hi)`` of one batch (float32 scalars)."""
        raise NotImplementedError

    @torch.no_grad()
    def update(self, x: torch.Tensor, where: str = "this activation") -> None:
        """Update the range: first batch ``min/max = batch``; then ``avg = avg + c * (batch - avg)``.

        A batch whose range is not finite (NaN or Inf in ``x``) raises :class:`NonFiniteError` naming
        ``where`` and leaves the statistics unchanged (the range is read on the host once per call).  Under
        ``torch.distributed`` with several processes the batch range is first all-reduced (the lowest
        ``lo`` and highest ``hi`` of all ranks), so every rank keeps the same statistics and trains on the
        same grid (DDP's buffer broadcast then changes nothing); every rank must observe the same number
        of batches, as DDP training does.
        """
        self.update_range(*self.batch_range(x), where)

    @torch.no_grad()
    def update_range(self, lo: torch.Tensor | float, hi: torch.Tensor | float, where: str = "this activation") -> None:
        """:meth:`update` with the batch's ``(lo, hi)`` (float32 scalars, or their values as host floats) already
        computed.

        With float32 buffers and a float32 range the moving average runs on the host: ``avg + c * (batch - avg)``
        with each operation rounded to float32 (:func:`round_float32`; ``c`` as float32, as PyTorch takes a Python
        scalar into float32 arithmetic), written back with ``fill_``: the values of the tensor expression, in two
        dispatches instead of six.  Otherwise (other dtypes, or a float32 subnormal on the way) the tensor expression
        itself.
        """
        if distributed():  # every rank observes the union of the ranks' batch ranges
            device = self.min_val.device
            lo, hi = (v if isinstance(v, torch.Tensor) else torch.tensor(v, device=device) for v in (lo, hi))
            both = torch.stack([-lo, hi])
            dist.all_reduce(both, op=dist.ReduceOp.MAX)
            lo, hi = -both[0], both[1]
        lo_f, hi_f = float(lo), float(hi)
        if not (math.isfinite(lo_f) and math.isfinite(hi_f)):
            raise NonFiniteError(f"{where}: NaN or Inf in the QAT forward (range [{lo_f}, {hi_f}]); "
                                 "check the input data, the learning rate and the layers before it")
        if not self.is_observed():
            self._write("min_val", lo_f)
            self._write("max_val", hi_f)
            self.observed.fill_(True)
            return
        averages = self._host_averages(lo, hi, lo_f, hi_f)
        for name, v, avg in zip(("min_val", "max_val"), (lo, hi), averages or (None, None), strict=True):
            if avg is None:  # the tensor expression (a float32 scalar where the range came as host values)
                buf = getattr(self, name)
                v = v if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=torch.float32)
                buf.add_(self.averaging_constant * (v - buf))
            else:
                self._write(name, avg)

    def _write(self, name: str, value: float) -> None:
        """Fill the buffer ``name`` with ``value`` and remember the value (:meth:`host_range`)."""
        buf = getattr(self, name)
        buf.fill_(value)
        value = round_float32(value)  # the float32 buffer's value
        remembered = value if buf.dtype == torch.float32 and quant.normal_float32(value) else None
        self.__dict__[f"_host_{name}"] = (buf, buf._version, remembered)

    def _remembered(self, name: str) -> float | None:
        """The value this observer last wrote to the float32 buffer ``name`` while the buffer is the same tensor at the
        same in-place version, else ``None`` (always under ``torch.distributed``, whose collectives write buffers
        without bumping their versions)."""
        buf = getattr(self, name)
        memo = self.__dict__.get(f"_host_{name}")
        if memo is None or memo[0] is not buf or memo[1] != buf._version or distributed():
            return None
        return memo[2]

    def host_range(self) -> tuple[float, float] | None:
        """``(min_val, max_val)`` as host floats where both are values this observer wrote and still current
        (:meth:`_remembered`), else ``None``."""
        lo, hi = self._remembered("min_val"), self._remembered("max_val")
        return None if lo is None or hi is None else (lo, hi)

    def _host_averages(self, lo: torch.Tensor | float, hi: torch.Tensor | float, lo_f: float,
                       hi_f: float) -> tuple[float, float] | None:
        """The new ``(min_val, max_val)`` of :meth:`update_range` computed on the host, or ``None`` where that would not
        be the float32 tensor arithmetic's result (buffers or range not float32, or a subnormal on the way)."""
        if not (self.min_val.dtype == self.max_val.dtype == torch.float32 and all(
                not isinstance(v, torch.Tensor) or v.dtype == torch.float32 for v in (lo, hi))):
            return None
        c = round_float32(self.averaging_constant)
        averages = []
        for name, v in (("min_val", lo_f), ("max_val", hi_f)):
            avg = self._remembered(name)
            avg = float(getattr(self, name)) if avg is None else avg
            d = round_float32(v - avg)
            p = round_float32(c * d)
            new = round_float32(avg + p)
            if not quant.normal_float32(c, v, avg, d, p, new):
                return None
            averages.append(new)
        return averages[0], averages[1]

    def is_observed(self) -> bool:
        """``bool(observed)``, remembered while the buffer is the same tensor at the same in-place version (read again
        under ``torch.distributed``)."""
        buf = self.observed
        memo = self.__dict__.get("_observed_memo")
        if memo is None or memo[0] is not buf or memo[1] != buf._version or distributed():
            memo = (buf, buf._version, bool(buf))
            self.__dict__["_observed_memo"] = memo
        return memo[2]

    def range(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(min_val, max_val)``: the buffers themselves (meaningful once ``observed`` is set)."""
        return self.min_val, self.max_val

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Observe ``x`` and return it unchanged."""
        self.update(x)
        return x

    def converted(self, cls: type[Observer]) -> Observer:
        """A ``cls`` observer with this one's averaging constant and statistics (same device)."""
        new = cls(self.averaging_constant).to(self.min_val.device)
        for buf in ("min_val", "max_val", "observed"):
            getattr(new, buf).copy_(getattr(self, buf))
        return new


class MinMaxObserver(Observer):
    """``"minmax"``: the range of a batch is its minimum and maximum."""

    name = "minmax"

    def batch_range(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch's minimum and maximum, as float32 (``amin`` and ``amax``: two reductions, faster on the CPU than
        one ``torch.aminmax``)."""
        x = x.detach()
        lo, hi = x.amin(), x.amax()
        return lo.float(), hi.float()


class PercentileObserver(Observer):
    """``"percentile"``: the ``1 - p`` and ``p`` quantiles of a batch (:func:`percentile_range`, ``p = PERCENTILE``)."""

    name = "percentile"

    def batch_range(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:func:`percentile_range` of the batch."""
        return percentile_range(x)


class MSEObserver(Observer):
    """``"mse"``: the fraction of a batch's min/max range with the least quantization MSE (:func:`mse_range`)."""

    name = "mse"

    def batch_range(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:func:`mse_range` of the batch."""
        return mse_range(x)


class FixedRangeObserver(Observer):
    """The real range ``[lo, hi]`` of a fixed grid: set from the start (``observed``), never updated."""

    name = "fixed"

    def __init__(self, lo: float, hi: float) -> None:
        super().__init__()
        self.min_val.fill_(lo)
        self.max_val.fill_(hi)
        self.observed.fill_(True)

    def update(self, x: torch.Tensor, where: str = "") -> None:
        """A fixed range ignores the data."""

    def update_range(self, lo: torch.Tensor, hi: torch.Tensor, where: str = "") -> None:
        """A fixed range ignores the data."""


OBSERVER_CLASSES: dict[str, type[Observer]] = {
    cls.name: cls for cls in (MinMaxObserver, PercentileObserver, MSEObserver)
}
OBSERVERS = tuple(OBSERVER_CLASSES)


def observer_class(name: str) -> type[Observer]:
    """The observer class of a user-facing name in :data:`OBSERVERS`; ``ValueError`` for any other."""
    cls = OBSERVER_CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"observer must be one of {OBSERVERS}, got {name!r}")
    return cls
