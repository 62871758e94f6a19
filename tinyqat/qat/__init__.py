"""Quantization-aware training: range observers, fake quant with STE, fused QAT modules, and ``prepare_qat``."""

from tinyqat.qat.elementwise import QuantMul, QuantPointwise, QuantPReLU
from tinyqat.qat.fake_quant import ActivationQuantizer, FixedQuantizer, InputQuantizer, WeightQuantizer
from tinyqat.qat.modules import (
    QuantAdd,
    QuantAvgPool2d,
    QuantCat,
    QuantConv1d,
    QuantConv2d,
    QuantFlatten,
    QuantLinear,
    QuantMaxPool2d,
    QuantNonlinear,
    SharedQuantClamp,
)
from tinyqat.qat.observers import (
    OBSERVERS,
    FixedRangeObserver,
    MinMaxObserver,
    MSEObserver,
    Observer,
    PercentileObserver,
)
from tinyqat.qat.prepare import (
    PrepareError,
    calibrate,
    enable_fake_quant,
    freeze_bn_stats,
    freeze_observers,
    prepare_qat,
)
from tinyqat.qat.recipe import qat_finetune

__all__ = [
    "OBSERVERS",
    "ActivationQuantizer",
    "FixedQuantizer",
    "FixedRangeObserver",
    "InputQuantizer",
    "MSEObserver",
    "MinMaxObserver",
    "Observer",
    "PercentileObserver",
    "PrepareError",
    "QuantAdd",
    "QuantAvgPool2d",
    "QuantCat",
    "QuantConv1d",
    "QuantConv2d",
    "QuantFlatten",
    "QuantLinear",
    "QuantMaxPool2d",
    "QuantMul",
    "QuantNonlinear",
    "QuantPReLU",
    "QuantPointwise",
    "SharedQuantClamp",
    "WeightQuantizer",
    "calibrate",
    "enable_fake_quant",
    "freeze_bn_stats",
    "freeze_observers",
    "prepare_qat",
    "qat_finetune",
]
