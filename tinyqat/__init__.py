"""tinyqat: quantization-aware training in PyTorch to bit-exact int8 C for microcontrollers."""

__version__ = "0.1.0"
