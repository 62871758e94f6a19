"""tinyqat: quantization-aware training in PyTorch to bit-exact int8 C for microcontrollers.

Typical use::

    qat = tinyqat.prepare_qat(model, example_inputs=(torch.randn(1, 1, 28, 28),))
    ...train qat...
    tinyqat.save(qat, "model.pt")
    y = tinyqat.simulate("model.pt", x_int8)
"""

from tinyqat.api import (
    dequantize_output,
    integer_accuracy,
    integer_model,
    load,
    quantize_input,
    quantize_input_torch,
    simulate,
)
from tinyqat.build import build
from tinyqat.capture import save
from tinyqat.errors import (
    DoesNotFitError,
    ExportError,
    LoweringError,
    TinyQatError,
    ToolchainError,
    UnsupportedOpError,
    VerificationError,
)
from tinyqat.export import export_tflite
from tinyqat.qat.prepare import calibrate, enable_fake_quant, freeze_bn_stats, freeze_observers, prepare_qat
from tinyqat.qat.recipe import qat_finetune
from tinyqat.verify import verify
from tinyqat.version import __version__

__all__ = [
    "DoesNotFitError",
    "ExportError",
    "LoweringError",
    "TinyQatError",
    "ToolchainError",
    "UnsupportedOpError",
    "VerificationError",
    "__version__",
    "build",
    "calibrate",
    "dequantize_output",
    "enable_fake_quant",
    "export_tflite",
    "freeze_bn_stats",
    "freeze_observers",
    "integer_accuracy",
    "integer_model",
    "load",
    "prepare_qat",
    "qat_finetune",
    "quantize_input",
    "quantize_input_torch",
    "save",
    "simulate",
    "verify",
]
