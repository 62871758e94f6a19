"""Quantization-aware training: fake quant with STE, fused QAT modules, and ``prepare_qat``."""

from tinyqat.qat.fake_quant import ActivationQuantizer, InputQuantizer, WeightQuantizer
from tinyqat.qat.modules import QuantConv2d, QuantFlatten, QuantLinear, QuantMaxPool2d, SharedQuantClamp
from tinyqat.qat.prepare import (
    PrepareError,
    calibrate,
    enable_fake_quant,
    freeze_bn_stats,
    freeze_observers,
    prepare_qat,
)

__all__ = [
    "ActivationQuantizer",
    "InputQuantizer",
    "PrepareError",
    "QuantConv2d",
    "QuantFlatten",
    "QuantLinear",
    "QuantMaxPool2d",
    "SharedQuantClamp",
    "WeightQuantizer",
    "calibrate",
    "enable_fake_quant",
    "freeze_bn_stats",
    "freeze_observers",
    "prepare_qat",
]
