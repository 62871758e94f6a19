"""TFLite's requantization parameters from float scales, and the weight scales that give tinyqat's.

A TFLite interpreter never reads multipliers from the file: it derives them from the float32
scales of the tensors when it prepares each operator.  An export is exact only if every derived
``(multiplier, shift)`` equals the one in tinyqat's integer graph, so this module computes what the
interpreters compute (the same :func:`tinyqat.fixedpoint.quantize_multiplier`) and searches the
float32 weight scale of each output channel that reproduces the graph's pair.

Effective scales, as TFLite's kernels prepare them (``s_*`` float32, arithmetic in double):

* CONV_2D, DEPTHWISE_CONV_2D (per-channel, also with one channel) and per-channel
  FULLY_CONNECTED: ``M[c] = (double)s_in * (double)s_w[c] / (double)s_out``;
* per-tensor FULLY_CONNECTED (one weight scale): ``M = (double)(float)(s_in * s_w) / (double)s_out``,
  the product rounded to float32 first.

tinyqat lowers with the same rules (:func:`tinyqat.passes.quantize.effective_scales`), so for a
graph lowered from a model the original weight scale is found: ``q * 2**(shift - 31)`` is within
``2**-31`` relative of ``M``, hence the estimate ``M * s_out / s_in`` lies within one float32 step
of ``s_w`` and the search over :data:`SEARCH_ULPS` neighbours reaches it.  A pair no float32
scale produces (graphs built by hand with arbitrary multipliers) has no exact TFLite form.
"""

from __future__ import annotations

import numpy as np

from tinyqat.fixedpoint import quantize_multiplier

SEARCH_ULPS = 4  # float32 neighbours tried on each side of the estimate
FLUSH_RATIO = 2.0**-40  # a ratio QuantizeMultiplier flushes to (0, 0)


def tflite_multiplier(s_in: float, s_w: float, s_out: float, *, per_tensor_product: bool) -> tuple[int, int]:
    """``quantize_multiplier(M)`` with ``M`` as TFLite's kernels compute it (module docstring)."""
    f_in, f_w, f_out = np.float32(s_in), np.float32(s_w), np.float32(s_out)
    product = float(f_in * f_w) if per_tensor_product else float(f_in) * float(f_w)
    return quantize_multiplier(product / float(f_out))


def weight_scale(s_in: float, s_out: float, pair: tuple[int, int], *, per_tensor_product: bool) -> float | None:
    """A positive float32 weight scale for which TFLite derives ``pair = (multiplier, shift)``, or None."""
    q, shift = pair
    target = FLUSH_RATIO if q == 0 else q * 2.0 ** (shift - 31)
    estimate = np.float32(target * float(np.float32(s_out)) / float(np.float32(s_in)))
    if not (np.isfinite(estimate) and estimate > 0):
        return None
    candidates = [estimate]
    up = down = estimate
    for _ in range(SEARCH_ULPS):
        up, down = np.nextafter(up, np.float32(np.inf)), np.nextafter(down, np.float32(0))
        candidates += [down, up]
    for s_w in candidates:
        if s_w > 0 and tflite_multiplier(s_in, float(s_w), s_out, per_tensor_product=per_tensor_product) == pair:
            return float(s_w)
    return None
