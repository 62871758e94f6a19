"""Print tinyqat/codegen/stats.py's KERNEL_CODE_BYTES table: every runtime file compiled with
arm-none-eabi-gcc at -O2 for each kernel family (tinyqat.bench.codesize), the fallback of
``tinyqat build``'s flash check when the board's compiler is not installed.

    .venv/bin/python scripts/measure_kernel_code.py
"""

from __future__ import annotations

from tinyqat.bench.codesize import kernel_code_bytes
from tinyqat.boards import load_board
from tinyqat.resources import resource_dir

FAMILIES = {"dsp": ("cortex-m4", ()), "v6m": ("cortex-m0plus", ()), "mve": ("cortex-m55", ()),
            "portable": ("cortex-m4", ("-DTQ_PORTABLE",))}


def measure() -> dict[str, dict[str, int]]:
    """``{family: {file: bytes}}`` for every ``tq_*.c`` of the runtime."""
    files = sorted(p.name for p in resource_dir("runtime_c").glob("tq_*.c"))
    table = {}
    for family, (board, extra) in FAMILIES.items():
        sizes = kernel_code_bytes(load_board(board), files, extra)
        if sizes is None:
            raise SystemExit("arm-none-eabi-gcc not found; install it with: apt-get install gcc-arm-none-eabi")
        table[family] = sizes
    return table


def main() -> None:
    print("KERNEL_CODE_BYTES: dict[str, dict[str, int]] = {")
    for family, sizes in measure().items():
        print(f'    "{family}": {{')
        for fname, size in sizes.items():
            print(f'        "{fname}": {size},')
        print("    },")
    print("}")


if __name__ == "__main__":
    main()
