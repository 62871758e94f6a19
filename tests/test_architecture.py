"""Architecture rules that the code must keep (docs/architecture.md, "Layers").

* Imports run one way: a tinyqat module may import modules of its own layer or of an earlier
  one, never of a later one.  Every import statement counts, also those inside functions.
* Every module belongs to a layer, so a new module has to be placed before it can land.
* Constants with a C twin are equal to it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import tinyqat
from tinyqat import fixedpoint, target
from tinyqat.codegen import layouts
from tinyqat.memory import planner
from tinyqat.resources import resource_dir

# The pipeline, earliest first.  A key is a module or a subpackage (``qat`` covers ``qat.*``).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("version", "errors", "resources", "fixedpoint", "target", "boards", "files"),  # foundation
    ("quant", "requant", "movement"),
    ("qat",),
    ("capture", "artifact", "models"),
    ("ir",),
    ("passes", "lower"),
    ("sim", "api"),
    ("memory",),
    ("codegen", "export"),
    ("toolchain",),
    ("build", "verify", "bench"),
    ("demo", "cli", "__main__"),
)
# tinyqat/__init__.py (the package root) re-exports the public API: it stands in the last layer, beside
# the CLI and the demo, which use the API as a user would; it may import anything.
FACADE = "__init__"

PACKAGE_DIR = Path(tinyqat.__file__).resolve().parent


def _module_name(path: Path) -> str:
    """``tinyqat/qat/prepare.py`` -> ``qat.prepare``; ``tinyqat/sim/__init__.py`` -> ``sim``."""
    parts = list(path.relative_to(PACKAGE_DIR).with_suffix("").parts)
    if len(parts) > 1 and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> int:
    if module in ("", FACADE):
        return len(LAYERS) - 1
    for index, keys in enumerate(LAYERS):
        for key in keys:
            if module == key or module.startswith(key + "."):
                return index
    raise KeyError(module)


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """tinyqat modules imported anywhere in ``tree`` (relative to the package; ``""`` = the root)."""
    known = {_module_name(p) for p in PACKAGE_DIR.rglob("*.py")}
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against this module's package
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                absolute = ".".join(["tinyqat", *base, *([node.module] if node.module else [])])
            else:
                absolute = node.module or ""
            # "from tinyqat.codegen import clit" imports tinyqat.codegen.clit; a plain name is the package
            names = [f"{absolute}.{a.name}" if f"{absolute}.{a.name}".removeprefix("tinyqat.") in known else absolute
                     for a in node.names]
        else:
            continue
        for name in names:
            if name == "tinyqat":
                found.add("")
            elif name.startswith("tinyqat."):
                found.add(name.removeprefix("tinyqat."))
    return found


def _edges() -> list[tuple[str, str]]:
    edges = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges += [(module, target_) for target_ in sorted(_imported(tree, module, path.name == "__init__.py"))]
    return edges


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in sorted({_module_name(p) for p in PACKAGE_DIR.rglob("*.py")})
                if m != FACADE and not any(m == k or m.startswith(k + ".") for keys in LAYERS for k in keys)]
    assert not unplaced, f"modules without a layer in tests/test_architecture.py LAYERS: {unplaced}"


def test_imports_run_one_way() -> None:
    backwards = []
    for source, imported in _edges():
        if _layer(imported) > _layer(source):
            backwards.append(f"{source} (layer {_layer(source)}) imports {imported} (layer {_layer(imported)})")
    assert not backwards, "imports that run back up the pipeline:\n" + "\n".join(backwards)


def test_the_rule_can_fail() -> None:
    """The checker sees imports inside functions, ``from package import module`` and relative imports."""
    tree = ast.parse("def f():\n    from tinyqat.codegen import clit\n    import tinyqat.cli\n"
                     "from .. import demo\nfrom ..toolchain.compiler import x\n")
    found = _imported(tree, "memory.planner", is_package=False)
    assert {"codegen.clit", "cli", "demo", "toolchain.compiler"} <= found
    assert _layer("codegen.clit") > _layer("memory.planner")


def _c_define(header: str, macro: str) -> int:
    text = (resource_dir("runtime_c") / header).read_text(encoding="utf-8")
    match = re.search(rf"^#define {macro} (\d+)\s*$", text, re.MULTILINE)
    assert match, f"{header} has no #define {macro} <number>"
    return int(match.group(1))


@pytest.mark.parametrize(("python_value", "header", "macro"), [
    (target.CONV_DSP_COLUMN_MAX, "tq_kernels.h", "TQ_CONV_DSP_COLUMN_MAX"),
    (layouts.DW_RECORD_WORDS, "tq_kernels.h", "TQ_DW_DSP_CHANNEL_WORDS"),
    (layouts.DW5_RECORD_WORDS, "tq_kernels.h", "TQ_DW_DSP5_CHANNEL_WORDS"),
    (planner.DW5_MIN_OUT_W, "tq_kernels.h", "TQ_DW_DSP5_MIN_OUT_W"),
    (layouts.DW_RECORD_WORDS * 4, "tq_depthwise_conv2d_s8_dsp.c", "TQ_DW_DSP_RECORD_BYTES"),
    (target.DEPTHWISE_V6M_PLANE_MAX, "tq_kernels.h", "TQ_DEPTHWISE_V6M_PLANE_MAX"),
    (fixedpoint.FUSED2_OFFSET_E_MAX, "tq_requant.h", "TQ_FUSED2_OFFSET_E_MAX"),
    (target.RUNTIME_VERSION, "tq_kernels.h", "TQ_RUNTIME_VERSION"),
])
def test_c_twins_equal(python_value: int, header: str, macro: str) -> None:
    assert python_value == _c_define(header, macro)


def test_no_merge_conflict_markers_in_the_tree() -> None:
    """No file of the repository (sources, C runtime, templates, docs, tests, scripts) holds a git conflict
    marker: a docstring or comment can hide one from every other check."""
    root = Path(__file__).resolve().parent.parent
    markers = ("<" * 7 + " ", "=" * 7 + "\n", ">" * 7 + " ")
    found = []
    for folder in ("tinyqat", "runtime_c", "templates", "boards", "tests", "benchmarks", "docs", "scripts", "examples"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".c", ".h", ".j2", ".md", ".toml", ".sh", ".txt", ".ld", ".S"}:
                lines = path.read_text(errors="replace").splitlines(keepends=True)
                found += [f"{path.relative_to(root)}:{n + 1}" for n, line in enumerate(lines)
                          if line.startswith(markers)]
    found += [f"README.md:{n + 1}" for n, line in enumerate((root / "README.md").read_text().splitlines(keepends=True))
              if line.startswith(markers)]
    assert not found, f"conflict markers at {found[:10]}"
def test_runtime_version_follows_the_package_version() -> None:
    """TQ_RUNTIME_VERSION is major * 10000 + minor * 100 + patch of tinyqat's version."""
    from tinyqat.version import __version__

    major, minor, patch = (int(part) for part in __version__.split(".")[:3])
    assert 0 <= minor < 100 and 0 <= patch < 100
    assert major * 10000 + minor * 100 + patch == target.RUNTIME_VERSION
