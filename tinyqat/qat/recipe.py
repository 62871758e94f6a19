"""``qat_finetune``: the QAT recipe with sensible defaults, for a model already trained in float32.

1. :func:`tinyqat.prepare_qat` (weight bits, observer, learned scales and deploy_logits as given).
2. Calibrate: run ``calibration_batches`` training batches through the model with observers on
   and no training (PTQ ranges), so fake quant starts from the float model's real ranges instead
   of the first batch's (and learned scales start from them).
3. Fine-tune ``epochs`` epochs with Adam at ``lr`` (default ``1e-4``, about a tenth or less of a
   float training rate); learned scales (if any) use ``scale_lr`` (``None``, the default: ``lr``).
   When the batches have a ``len``, every group's rate is cosine-annealed towards 0 per step
   (``torch.optim.lr_scheduler.LambdaLR``): step ``k = 0, 1, ...`` runs at
   ``base * 0.5 * (1 + cos(pi * k / total))`` with ``total = max(1, epochs * len(batches))`` and
   ``base`` the group's ``lr`` or ``scale_lr``; otherwise the rates stay constant.
4. From epoch ``freeze_bn_epoch`` (default ``epochs // 2``) BatchNorm uses its running statistics
   (the exact folded forward lowering reproduces); from epoch ``freeze_observers_epoch`` (default
   ``epochs - 1``, the last) the activation ranges stop moving.  Epochs count from 0.

Every default can be overridden; the same steps written out by hand are in ``README.md``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import fx, nn

from tinyqat.qat.fake_quant import ActivationQuantizer
from tinyqat.qat.prepare import PrepareError, calibrate, freeze_bn_stats, freeze_observers, prepare_qat

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]] | Callable[[int], Iterable[tuple[torch.Tensor, torch.Tensor]]]


def _epoch_batches(batches: Batches, epoch: int) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
    return batches(epoch) if callable(batches) else batches


def qat_finetune(
    model: nn.Module,
    train_batches: Batches,
    *,
    epochs: int = 3,
    lr: float = 1e-4,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = nn.functional.cross_entropy,
    weight_bits: int = 8,
    layer_bits: Mapping[str, int] | None = None,
    observer: str = "minmax",
    learn_scales: bool = False,
    deploy_logits: bool = False,
    scale_lr: float | None = None,
    calibration_batches: int = 16,
    freeze_bn_epoch: int | None = None,
    freeze_observers_epoch: int | None = None,
    weight_decay: float = 0.0,
    on_epoch: Callable[[int, float, fx.GraphModule], Any] | None = None,
) -> fx.GraphModule:
    """Quantization-aware fine-tuning of a trained float ``model`` (module docstring); returns the QAT model.

    ``train_batches`` yields ``(x, y)`` pairs: a re-iterable (list, ``DataLoader``) or a function
    ``epoch -> iterable`` (to reshuffle each epoch).  ``loss_fn(model(x), y)`` is minimised.
    ``on_epoch(epoch, mean_loss, qat_model)`` is called after each epoch (e.g. to measure the device's
    accuracy with :func:`tinyqat.integer_accuracy`).  The model is returned in training mode; call
    ``.eval()`` to evaluate, :func:`tinyqat.save` to export.
    """
    if epochs < 0:
        raise PrepareError(f"epochs must be >= 0, got {epochs}")
    first = next(iter(_epoch_batches(train_batches, 0)), None)
    if first is None:
        raise PrepareError("train_batches is empty")
    qat = prepare_qat(model, (first[0][:1],), weight_bits=weight_bits, layer_bits=layer_bits, observer=observer,
                      learn_scales=learn_scales, deploy_logits=deploy_logits)
    calibrate(qat, (x for x, _ in itertools.islice(_epoch_batches(train_batches, 0), calibration_batches)))
    qat.train()
    scales = [q.scale for q in qat.modules() if isinstance(q, ActivationQuantizer) and q.learn_scale]
    scale_ids = {id(p) for p in scales}
    params = [p for p in qat.parameters() if id(p) not in scale_ids]
    groups: list[dict[str, Any]] = [{"params": params}]
    if scales:
        groups.append({"params": scales, "lr": lr if scale_lr is None else scale_lr, "weight_decay": 0.0})
    opt = torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay)
    first_epoch = _epoch_batches(train_batches, 0)
    schedule = None
    if hasattr(first_epoch, "__len__"):  # cosine annealing of every group's rate, one step per batch
        total = max(1, epochs * len(first_epoch))  # type: ignore[arg-type]
        schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.5 * (1.0 + math.cos(math.pi * k / total)))
    freeze_bn_at = epochs // 2 if freeze_bn_epoch is None else freeze_bn_epoch
    freeze_obs_at = max(epochs - 1, 0) if freeze_observers_epoch is None else freeze_observers_epoch
    for epoch in range(epochs):
        if epoch >= freeze_bn_at:
            freeze_bn_stats(qat)
        if epoch >= freeze_obs_at:
            freeze_observers(qat)
        losses = []
        for x, y in _epoch_batches(train_batches, epoch):
            opt.zero_grad()
            loss = loss_fn(qat(x), y)
            loss.backward()
            opt.step()
            if schedule is not None:
                schedule.step()
            losses.append(float(loss.detach()))
        if on_epoch is not None:
            on_epoch(epoch, sum(losses) / max(len(losses), 1), qat)
    if epochs == 0 or freeze_obs_at >= epochs:
        freeze_observers(qat)
    if epochs == 0 or freeze_bn_at >= epochs:
        freeze_bn_stats(qat)
    return qat
