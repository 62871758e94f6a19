"""Run a generated package in a standalone program on the build machine, optionally under sanitizers.

:func:`run_harness` builds ``templates/harness.c.j2`` (plain C99 stdio, so it can also run bare
metal under semihosting, :mod:`tinyqat.toolchain.qemu`) with the package, optionally under
AddressSanitizer and UndefinedBehaviorSanitizer, and returns every layer's output for every
input sample.  :func:`harness_inputs` and :func:`split_layers` write the harness's input and
read its output; the emulated run shares them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from tinyqat.codegen.templates import render
from tinyqat.errors import ToolchainError
from tinyqat.target import STRICT_CFLAGS
from tinyqat.toolchain.compiler import ERROR_LINES, package_sources, run_compiler
from tinyqat.toolchain.manifest import model_outputs, read_manifest

SANITIZE_CFLAGS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g")
HARNESS_TIMEOUT_S = 120


def run_harness(out_dir: Path, build_dir: Path, inputs: np.ndarray, sanitize: bool) -> list[list[np.ndarray]]:
    """Run every layer of package ``out_dir`` on each sample of ``inputs`` in a standalone program.

    ``inputs`` is int8 of shape ``(N, *input_shape)``.  The harness reads the N samples
    concatenated from a file and writes, for each sample, every layer's output in layer
    order, then each model output after the last layer; the result is ``[sample][k]`` arrays (:func:`split_layers`).
    With ``sanitize`` it is built with ``-fsanitize=address,undefined -fno-sanitize-recover=all
    -g``, so any memory or UB error makes it exit non-zero (:class:`ToolchainError`).
    """
    manifest = read_manifest(out_dir)
    x = harness_inputs(manifest, inputs)
    build_dir.mkdir(parents=True, exist_ok=True)
    harness = build_dir / "harness.c"
    harness.write_text(harness_source(manifest), encoding="utf-8")
    exe = build_dir / ("harness_sanitized" if sanitize else "harness")
    flags = [*STRICT_CFLAGS, "-O1", *(SANITIZE_CFLAGS if sanitize else ())]
    run_compiler("gcc", [*flags, f"-I{out_dir}", *package_sources(out_dir), str(harness), "-o", str(exe)])
    in_path, out_path = build_dir / "harness_in.bin", build_dir / "harness_out.bin"
    in_path.write_bytes(x.tobytes())
    try:
        proc = subprocess.run([str(exe), str(in_path), str(out_path)], capture_output=True, text=True,
                              timeout=HARNESS_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"harness timed out after {HARNESS_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        head = "\n".join(proc.stderr.splitlines()[:ERROR_LINES])
        raise ToolchainError(f"harness exited with status {proc.returncode}:\n{head}")
    return split_layers(manifest, out_path.read_bytes(), x.shape[0], "harness")


def harness_source(manifest: dict) -> str:
    """``harness.c`` for the package of ``manifest`` (its name and number of outputs)."""
    name = manifest["name"]
    return render("harness.c.j2", name=name, NAME=name.upper(), num_outputs=len(model_outputs(manifest)))


def harness_inputs(manifest: dict, inputs: np.ndarray) -> np.ndarray:
    """``inputs`` as contiguous int8 ``(N, ...)``; ``ValueError`` unless each sample has the input's size."""
    x = np.ascontiguousarray(inputs, dtype=np.int8)
    per_sample = int(np.prod(manifest["input_shape"]))
    if x.ndim == 0 or x.size != x.shape[0] * per_sample:
        raise ValueError(f"inputs must be (N, {per_sample} values per sample), got shape {x.shape}")
    return x


def split_layers(manifest: dict, data: bytes, samples: int, program: str) -> list[list[np.ndarray]]:
    """Cut a harness output file (per sample, every layer's output in order, then each model output as
    it is after the last layer) into ``[sample][layer or len(layers) + output index]`` arrays shaped like
    those tensors; :class:`ToolchainError` naming ``program`` when its size is wrong."""
    shapes = {t["name"]: tuple(t["shape"]) for t in manifest["tensors"]}
    layer_shapes = [shapes[t] for t in [*(layer["output"] for layer in manifest["layers"]), *model_outputs(manifest)]]
    values = np.frombuffer(data, dtype=np.int8)
    sizes = [int(np.prod(s)) for s in layer_shapes]
    if values.size != samples * sum(sizes):
        raise ToolchainError(f"{program} wrote {values.size} bytes, expected {samples * sum(sizes)}")
    bounds = np.cumsum([0, *sizes])
    return [[sample[bounds[k]:bounds[k + 1]].reshape(s).copy() for k, s in enumerate(layer_shapes)]
            for sample in values.reshape(samples, -1)]
