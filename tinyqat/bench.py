"""``tinyqat bench``: exact executed instructions, estimated cycles and memory of a package on its board.

How it measures (Cortex-M boards with a ``qemu_machine`` only):

1. The package's ``*.c``, ``templates/bench_harness.c.j2`` and the bare-metal startup are
   compiled one by one for the board (``-O2``, the flags of :func:`tinyqat.toolchain.qemu.build_image`,
   plus ``-fstack-usage -fcallgraph-info=su``) and linked into ``bench.elf``.  The harness
   fills the input with a fixed pseudo-random pattern and calls ``<name>_run_layer(i)`` for
   every layer from a function ``tq_bench_layers`` that does nothing else.
2. ``qemu-system-arm`` runs it with the TCG plugin ``toolchain/qemu_plugin/tq_insn_count.c``
   (built with the host ``gcc`` for each run).  Layer
   ``i`` is everything executed from the ``i``-th entry of ``<name>_run_layer`` up to the next
   instruction of ``tq_bench_layers``: the layer's dispatch, kernel and library helpers, none
   of the harness, startup or C library.  The plugin reports, per layer, every executed
   translation block (straight-line run of instructions), how often it ran and how often it
   was left by a jump.  QEMU executes the image deterministically, so the counts are exact
   and identical on every run of the same package.
3. Instructions of a layer = ``sum over its blocks of executions * instructions in the block``.
4. Cycles (an estimate; QEMU is not cycle accurate) from the core's timing table
   ``toolchain/timing/<cpu>.toml`` (:class:`TimingTable`; sources and assumptions are in
   each file): every instruction is classified from the ELF's disassembly (``objdump``) and

   ``cycles = sum_blocks execs * sum_insns cost(insn) + jumps * refill``

   where ``cost`` is the class's cycles (``load_pipelined`` instead of ``load`` for a load
   right after a load in the same block; ``ldm_base + N * ldm_per_register`` for a load
   multiple of N registers, likewise stores) and every jump (taken branch, call, return, PC
   write) adds the pipeline refill.  Cycles per MAC = cycles / MACs (:mod:`tinyqat.codegen.stats`).
5. Sizes come from the package's object files (section sizes, so the harness, startup and C
   library are excluded): flash = code (``.text``) + constants (``.rodata``: weights, biases,
   requantization tables and layer parameters) + ``.data``; static RAM = ``.data`` + ``.bss``
   (the arena).  Library helpers the compiler calls (``memcpy``, ``__aeabi_idiv`` on Armv6-M)
   are not counted in flash.  Stack = the deepest call chain from ``<name>_invoke`` in GCC's
   call graph (``-fcallgraph-info=su``), summing each function's frame (``-fstack-usage``);
   functions without stack information (library helpers) count 0 and are listed.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tinyqat.boards import Board, load_board
from tinyqat.codegen.templates import render
from tinyqat.errors import TinyQatError, ToolchainError
from tinyqat.target import STRICT_CFLAGS
from tinyqat.toolchain.compiler import package_sources, run_compiler
from tinyqat.toolchain.manifest import read_manifest
from tinyqat.toolchain.qemu import IMAGE_FLAGS, baremetal_support, find_qemu, run_image

_TOOLCHAIN = Path(__file__).resolve().parent / "toolchain"
PLUGIN_SOURCE = _TOOLCHAIN / "qemu_plugin" / "tq_insn_count.c"
PLUGIN_CFLAGS = ("-shared", "-fPIC", "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror")
TIMING_DIR = _TOOLCHAIN / "timing"
HARNESS_LOOP = "tq_bench_layers"
_CONDITIONS = frozenset({"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le",
                         "al"})


@dataclass(frozen=True)
class TimingTable:
    """Cycles per instruction class of one core (``toolchain/timing/<core>.toml``, key ``[cycles]``).

    Classes: ``alu`` (data processing, moves, shifts, compares, extends, saturation, SIMD
    add/sub), ``it``, ``mul`` (MUL/MLA/MLS), ``mul_long`` (SMULL/UMLAL/...), ``mac`` (DSP
    multiply(-accumulate): SMLAD, SMLABB, ...), ``div`` (SDIV/UDIV), ``load`` and
    ``load_pipelined`` (single loads), ``store`` (single stores), ``ldm_base`` +
    ``ldm_per_register`` and ``stm_base`` + ``stm_per_register`` (LDM/POP/LDRD, STM/PUSH/STRD),
    ``branch``, ``call`` (BL), ``table_branch`` (TBB/TBH), ``refill`` (added per control
    transfer), ``fpu``, ``fpu_div`` (VDIV/VSQRT), ``barrier``.  All in cycles.
    """

    core: str
    alu: int
    it: int
    mul: int
    mul_long: int
    mac: int
    div: int
    load: int
    load_pipelined: int
    store: int
    ldm_base: int
    ldm_per_register: int
    stm_base: int
    stm_per_register: int
    branch: int
    call: int
    table_branch: int
    refill: int
    fpu: int
    fpu_div: int
    barrier: int


@dataclass(frozen=True)
class LayerBench:
    """One layer: MACs (per sample), executed instructions (exact) and estimated cycles."""

    index: int
    name: str
    op: str
    macs: int
    instructions: int
    cycles: int

    @property
    def cycles_per_mac(self) -> float | None:
        """``cycles / macs``; None for layers without MACs (pooling, clamps)."""
        return self.cycles / self.macs if self.macs else None


@dataclass(frozen=True)
class Sizes:
    """Bytes of the package on the target (see module docstring, item 5)."""

    code_bytes: int
    const_bytes: int
    data_bytes: int
    bss_bytes: int
    arena_bytes: int
    stack_bytes: int
    stack_path: tuple[str, ...]
    stack_unknown: tuple[str, ...]
    stack_bounded: bool

    @property
    def flash_bytes(self) -> int:
        """Flash: ``code + const + data`` (the initial values of ``.data`` live in flash)."""
        return self.code_bytes + self.const_bytes + self.data_bytes

    @property
    def static_ram_bytes(self) -> int:
        """Static RAM: ``data + bss`` (the arena is in ``.bss``)."""
        return self.data_bytes + self.bss_bytes

    @property
    def ram_bytes(self) -> int:
        """RAM: static RAM + the stack estimate."""
        return self.static_ram_bytes + self.stack_bytes


@dataclass(frozen=True)
class BenchReport:
    """Result of :func:`bench`: per-layer counts, totals and sizes of one package on one board."""

    name: str
    board: str
    qemu_machine: str
    timing: TimingTable
    layers: tuple[LayerBench, ...]
    sizes: Sizes

    @property
    def instructions(self) -> int:
        """Executed instructions of all layers (one inference)."""
        return sum(layer.instructions for layer in self.layers)

    @property
    def cycles(self) -> int:
        """Estimated cycles of all layers (one inference)."""
        return sum(layer.cycles for layer in self.layers)

    @property
    def macs(self) -> int:
        """MACs of all layers (one inference)."""
        return sum(layer.macs for layer in self.layers)

    @property
    def cycles_per_mac(self) -> float | None:
        """``cycles / macs`` over the whole model; None without MACs."""
        return self.cycles / self.macs if self.macs else None

    def to_dict(self) -> dict:
        """Plain JSON-ready dict: every field and derived total (``cycles_per_mac`` may be None)."""
        sizes = {**dataclasses.asdict(self.sizes), "flash_bytes": self.sizes.flash_bytes,
                 "static_ram_bytes": self.sizes.static_ram_bytes, "ram_bytes": self.sizes.ram_bytes}
        return {
            "name": self.name, "board": self.board, "qemu_machine": self.qemu_machine,
            "timing": dataclasses.asdict(self.timing),
            "layers": [{**dataclasses.asdict(layer), "cycles_per_mac": layer.cycles_per_mac} for layer in self.layers],
            "instructions": self.instructions, "cycles": self.cycles, "macs": self.macs,
            "cycles_per_mac": self.cycles_per_mac, "sizes": sizes,
        }


@dataclass(frozen=True)
class Block:
    """A translation block the plugin saw executed in one layer."""

    layer: int
    execs: int
    jumps: int
    pcs: tuple[int, ...]


def load_timing(core: str) -> TimingTable:
    """The timing table ``toolchain/timing/<core>.toml``; :class:`TinyQatError` when absent or malformed."""
    path = TIMING_DIR / f"{core}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TinyQatError(f"no cycle timing table for core {core!r} ({exc})") from None
    cycles = data.get("cycles", {})
    keys = {f.name for f in dataclasses.fields(TimingTable)} - {"core"}
    if data.get("core") != core or set(cycles) != keys or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in cycles.values()):
        raise TinyQatError(f"{path}: needs core = {core!r} and [cycles] with exactly {sorted(keys)} "
                           f"as non-negative integers")
    return TimingTable(core=core, **cycles)


def plugin_library(build_dir: Path) -> Path:
    """Compile the instruction-counting plugin with host ``gcc`` into ``build_dir`` (about 0.1 s; built
    per run in the bench's private directory, never loaded from a shared location)."""
    library = build_dir / "tq_insn_count.so"
    run_compiler("gcc", [*PLUGIN_CFLAGS, str(PLUGIN_SOURCE), "-o", str(library)], "gcc")
    return library


def _tool(board: Board, name: str) -> str:
    """The binutils program ``name`` (objdump, size) next to ``board.cc`` (``arm-none-eabi-gcc``)."""
    return board.cc.removesuffix("gcc") + name


def _output(command: Sequence[str], apt_package: str) -> str:
    """Stdout of ``command``; :class:`ToolchainError` when it is missing or fails."""
    try:
        proc = subprocess.run(list(command), capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ToolchainError(f"{command[0]!r} not found; install it with: apt-get install {apt_package}") from None
    if proc.returncode != 0:
        raise ToolchainError(f"{command[0]} failed with status {proc.returncode}: {proc.stderr.strip()[:500]}")
    return proc.stdout


def _compile(board: Board, out_dir: Path, build_dir: Path) -> tuple[Path, list[Path]]:
    """Compile the package (into ``build_dir/package``) and the harness, link ``bench.elf``;
    returns the ELF and the package's object files."""
    name = read_manifest(out_dir)["name"]
    support = {"bench_harness.c": render("bench_harness.c.j2", name=name, NAME=name.upper()),
               **baremetal_support(board)}
    for fname, text in support.items():
        (build_dir / fname).write_text(text, encoding="utf-8")
    (build_dir / "package").mkdir(exist_ok=True)
    flags = [*board.cflags, *IMAGE_FLAGS, *STRICT_CFLAGS, "-fstack-usage", "-fcallgraph-info=su", f"-I{out_dir}", "-c"]
    package_objects = []
    objects = []
    for source in [*map(Path, package_sources(out_dir)), build_dir / "bench_harness.c",
                   build_dir / "baremetal_startup.c"]:
        obj = (build_dir / "package" if source.parent == out_dir else build_dir) / f"{source.stem}.o"
        run_compiler(board.cc, [*flags, str(source), "-o", str(obj)], board.apt_package)
        objects.append(obj)
        if source.parent == out_dir:
            package_objects.append(obj)
    elf = build_dir / "bench.elf"
    run_compiler(board.cc, [*board.cflags, *IMAGE_FLAGS, *map(str, objects), f"-T{build_dir / 'baremetal.ld'}",
                            "-o", str(elf)], board.apt_package)
    return elf, package_objects


def _symbols(board: Board, elf: Path) -> dict[str, tuple[int, int]]:
    """Defined function symbols of ``elf``: name -> (address without the Thumb bit, size in bytes)."""
    symbols = {}
    for line in _output([_tool(board, "nm"), "-S", "--defined-only", str(elf)], board.apt_package).splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "Tt":
            symbols[parts[3]] = (int(parts[0], 16) & ~1, int(parts[1], 16))
    return symbols


def _disassembly(board: Board, elf: Path) -> dict[int, tuple[str, str]]:
    """Every instruction of ``elf``'s code: address -> (mnemonic, operands)."""
    listing = _output([_tool(board, "objdump"), "-d", "--no-show-raw-insn", str(elf)], board.apt_package)
    insns = {}
    for match in re.finditer(r"^\s*([0-9a-f]+):\t(\S+)[ \t]*([^\n@;]*)", listing, re.MULTILINE):
        insns[int(match[1], 16)] = (match[2].lower(), match[3].strip())
    return insns


def _register_count(operands: str) -> int:
    """Registers in a ``{...}`` list (``{r4, r5, lr}``, ``{r4-r7}``), in 32-bit words (``d`` registers count 2)."""
    inside = operands[operands.index("{") + 1:operands.index("}")]
    words = 0
    for item in (i.strip() for i in inside.split(",")):
        lo, _, hi = item.partition("-")
        count = int(hi[1:]) - int(lo[1:]) + 1 if hi else 1
        words += count * (2 if lo.startswith("d") else 1)
    return words


_CLASS_OF = {
    **dict.fromkeys(("mul", "mla", "mls"), "mul"),
    **dict.fromkeys(("smull", "umull", "smlal", "umlal", "umaal", "smlald", "smlaldx", "smlsld", "smlsldx",
                     "smlalbb", "smlalbt", "smlaltb", "smlaltt"), "mul_long"),
    **dict.fromkeys(("smlad", "smladx", "smlsd", "smlsdx", "smuad", "smuadx", "smusd", "smusdx", "smlabb", "smlabt",
                     "smlatb", "smlatt", "smulbb", "smulbt", "smultb", "smultt", "smlawb", "smlawt", "smulwb",
                     "smulwt", "smmul", "smmulr", "smmla", "smmlar", "smmls", "smmlsr", "usad8", "usada8"), "mac"),
    **dict.fromkeys(("sdiv", "udiv"), "div"),
    **dict.fromkeys(("ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrex", "ldrexb", "ldrexh", "ldrt", "ldrbt", "ldrht",
                     "ldrsbt", "ldrsht", "lda", "ldab", "ldah", "ldaex", "ldaexb", "ldaexh"), "load"),
    **dict.fromkeys(("str", "strb", "strh", "strex", "strexb", "strexh", "strt", "strbt", "strht", "stl", "stlb",
                     "stlh", "stlex", "stlexb", "stlexh"), "store"),
    **dict.fromkeys(("ldm", "ldmia", "ldmfd", "ldmdb", "ldmea", "pop"), "ldm"),
    **dict.fromkeys(("stm", "stmia", "stmea", "stmdb", "stmfd", "push"), "stm"),
    **dict.fromkeys(("ldrd", "ldaexd", "ldrexd"), "ldrd"),
    **dict.fromkeys(("strd", "stlexd", "strexd"), "strd"),
    **dict.fromkeys(("b", "bx", "blx", "cbz", "cbnz"), "branch"),
    "bl": "call",
    **dict.fromkeys(("tbb", "tbh"), "table_branch"),
    **dict.fromkeys(("dmb", "dsb", "isb"), "barrier"),
}


def classify(mnemonic: str, operands: str) -> tuple[str, int]:
    """Timing class of a Thumb instruction (a :class:`TimingTable` field, or ``ldm``/``stm``) and,
    for those two, its register count in words (LDRD/STRD: 2); 0 otherwise.

    The mnemonic may carry a width (``.w``/``.n``), a condition (``addne``, inside IT blocks)
    and a flag-setting ``s`` (``muls``).  Anything not listed is single-cycle data processing (``alu``).
    """
    base = mnemonic.split(".")[0]
    if base.startswith("v"):  # floating point (FPv4/FPv5)
        if base in ("vldr", "vstr"):
            return ("load" if base == "vldr" else "store"), 0
        if base.startswith(("vldm", "vpop", "vstm", "vpush")):
            return ("ldm" if base.startswith(("vldm", "vpop")) else "stm"), _register_count(operands)
        return ("fpu_div" if base in ("vdiv", "vsqrt") else "fpu"), 0
    if re.fullmatch(r"it[te]{0,3}", base):
        return "it", 0
    candidates = [base, base[:-2]] if base[-2:] in _CONDITIONS else [base]
    for candidate in candidates + [c[:-1] for c in candidates if c.endswith("s")]:
        cls = _CLASS_OF.get(candidate)
        if cls in ("ldm", "stm"):
            return cls, _register_count(operands)
        if cls in ("ldrd", "strd"):
            return ("ldm" if cls == "ldrd" else "stm"), 2
        if cls is not None:
            return cls, 0
    return "alu", 0


def block_cycles(insns: Sequence[tuple[str, str]], timing: TimingTable) -> int:
    """Cycles of one pass through a straight-line block of ``(mnemonic, operands)``, jumps excluded."""
    total = 0
    previous = ""
    for mnemonic, operands in insns:
        cls, words = classify(mnemonic, operands)
        if cls == "ldm":
            total += timing.ldm_base + words * timing.ldm_per_register
        elif cls == "stm":
            total += timing.stm_base + words * timing.stm_per_register
        elif cls == "load" and previous == "load":
            total += timing.load_pipelined
        else:
            total += getattr(timing, cls)
        previous = cls
    return total


def parse_plugin_report(text: str, layers: int) -> list[Block]:
    """Blocks of a plugin report (format in ``tq_insn_count.c``); :class:`ToolchainError` when the
    run is unusable (plugin error, wrong number of layers)."""
    blocks = []
    layers_run = None
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "error":
            raise ToolchainError(f"instruction counting failed: {rest}")
        if kind == "layers_run":
            layers_run = int(rest)
        elif kind == "tb":
            layer, execs, jumps, *pcs = rest.split()
            blocks.append(Block(int(layer), int(execs), int(jumps), tuple(int(pc, 16) for pc in pcs)))
    if layers_run != layers:
        raise ToolchainError(f"the benchmark ran {layers_run} layers, the model has {layers}")
    return blocks


def _count(qemu: str, board: Board, elf: Path, name: str, layers: int, timeout_s: float) -> list[Block]:
    """Run ``elf`` in emulator ``qemu`` with the counting plugin; the executed blocks of every layer."""
    symbols = _symbols(board, elf)
    entry, _ = symbols[f"{name}_run_layer"]
    loop, loop_size = symbols[HARNESS_LOOP]
    report = elf.parent / "insn_count.txt"
    library = plugin_library(elf.parent)
    # "./name": relative to the emulator's working directory (elf.parent), so no path needs quoting
    plugin = (f"./{library.name},layer={entry:x},harness_lo={loop:x},harness_hi={loop + loop_size:x},"
              f"layers={layers},out={report.name}")
    run_image(qemu, elf, board, (elf.name,), ("-plugin", plugin), timeout_s=timeout_s)
    if not report.is_file():
        raise ToolchainError(f"{qemu} ran the benchmark but its plugin wrote no report: does this QEMU support "
                             f"TCG plugins (-plugin, built with --enable-plugins)?")
    return parse_plugin_report(report.read_text(encoding="utf-8"), layers)


def _section_sizes(board: Board, objects: Iterable[Path]) -> dict[str, int]:
    """Summed section sizes of ``objects`` by kind: ``text``, ``rodata``, ``data``, ``bss``."""
    sizes = dict.fromkeys(("text", "rodata", "data", "bss"), 0)
    for obj in objects:
        for line in _output([_tool(board, "size"), "-A", str(obj)], board.apt_package).splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0].startswith("."):
                kind = parts[0][1:].split(".")[0]
                if kind in sizes:
                    sizes[kind] += int(parts[1])
    return sizes


def stack_usage(callgraph_files: Iterable[Path], root: str) -> tuple[int, tuple[str, ...], tuple[str, ...], bool]:
    """Deepest stack from ``root`` over GCC ``-fcallgraph-info=su`` graphs (``*.ci``).

    Returns (bytes, the deepest call chain, callees without stack information, whether every
    reachable frame is static or bounded).  Recursion raises :class:`ToolchainError`.
    """
    frames: dict[str, int] = {}
    qualifiers: dict[str, str] = {}
    calls: dict[str, list[str]] = {}
    for path in callgraph_files:
        text = path.read_text(encoding="utf-8")
        for title, label in re.findall(r'node: \{ title: "([^"]+)" label: "([^"]*)"', text):
            match = re.search(r"(\d+) bytes \(([^)]*)\)", label)
            if match:  # static functions of the same name in two files: keep the larger frame
                if int(match[1]) >= frames.get(title, 0):
                    qualifiers[title] = match[2]
                frames[title] = max(frames.get(title, 0), int(match[1]))
        for source, target in re.findall(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
            calls.setdefault(source, []).append(target)

    def deepest(function: str, chain: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
        if function in chain:
            raise ToolchainError(f"recursive call {' -> '.join((*chain, function))}: the stack is unbounded")
        below = [deepest(callee, (*chain, function)) for callee in sorted(set(calls.get(function, ())))]
        depth, path = max(below, default=(0, ()))
        return frames.get(function, 0) + depth, (function, *path)

    if root not in frames:
        raise ToolchainError(f"no stack usage for {root} in the call graph")
    total, chain = deepest(root, ())
    reachable, todo = set(), [root]
    while todo:
        function = todo.pop()
        if function not in reachable:
            reachable.add(function)
            todo.extend(calls.get(function, ()))
    unknown = tuple(sorted(f for f in reachable if f not in frames))
    bounded = all(q == "static" or "bounded" in q for f, q in qualifiers.items() if f in reachable)
    return total, chain, unknown, bounded


def bench(out_dir: str | Path, board: str | None = None, timeout_s: float = 120.0,
          extra_cflags: Sequence[str] = ()) -> BenchReport:
    """Benchmark package ``out_dir`` under QEMU on ``board`` (default: ``board`` of its ``model.json``).

    ``extra_cflags`` are appended to the board's flags (``("-DTQ_PORTABLE",)`` measures the
    portable kernels on a core with the DSP extension).

    See the module docstring for the method and formulas.  Raises :class:`TinyQatError` for a
    board without an emulated machine (``host``) or without a timing table, and
    :class:`ToolchainError` for missing tools (cross compiler, host ``gcc``, QEMU), QEMU
    without plugin support, a run longer than ``timeout_s`` seconds or a failing image.
    """
    out_dir = Path(out_dir).resolve()
    manifest = read_manifest(out_dir)
    target = load_board(board or manifest["board"])
    if extra_cflags:
        target = dataclasses.replace(target, cflags=(*target.cflags, *extra_cflags))
    if target.qemu_machine is None:
        raise TinyQatError(f"board {target.name!r} runs on the build machine, not in an emulator: benchmark a "
                           f"Cortex-M build (tinyqat build --board cortex-m4, or tinyqat bench --board cortex-m4)")
    timing = load_timing(target.cpu)
    qemu = find_qemu()
    name = manifest["name"]
    meta = manifest["layers"]
    with tempfile.TemporaryDirectory(prefix="tinyqat-bench-") as tmp:
        build_dir = Path(tmp)
        elf, package_objects = _compile(target, out_dir, build_dir)
        blocks = _count(qemu, target, elf, name, len(meta), timeout_s)
        insns = _disassembly(target, elf)
        sections = _section_sizes(target, package_objects)
        stack, chain, unknown, bounded = stack_usage(
            [obj.with_suffix(".ci") for obj in package_objects], f"{name}_invoke")
    instructions = [0] * len(meta)
    cycles = [0] * len(meta)
    for block in blocks:
        missing = [pc for pc in block.pcs if pc not in insns]
        if missing:
            raise ToolchainError(f"executed address {missing[0]:#x} is not in the disassembly of {elf.name}")
        instructions[block.layer] += block.execs * len(block.pcs)
        cycles[block.layer] += (block.execs * block_cycles([insns[pc] for pc in block.pcs], timing)
                                + block.jumps * timing.refill)
    layers = tuple(LayerBench(i, m["name"], m["op"], int(m.get("macs", 0)), instructions[i], cycles[i])
                   for i, m in enumerate(meta))
    sizes = Sizes(code_bytes=sections["text"], const_bytes=sections["rodata"], data_bytes=sections["data"],
                  bss_bytes=sections["bss"], arena_bytes=int(manifest["arena_bytes"]), stack_bytes=stack,
                  stack_path=chain, stack_unknown=unknown, stack_bounded=bounded)
    return BenchReport(name, target.name, str(target.qemu_machine), timing, layers, sizes)


def format_report(report: BenchReport) -> str:
    """The human-readable table printed by ``tinyqat bench``."""
    t = report.timing
    lines = [f"{report.name} on {report.board} (QEMU {report.qemu_machine}; instructions exact, cycles estimated "
             f"from timing/{t.core}.toml: zero wait states, refill {t.refill})",
             f"{'layer':>5}  {'name':<16} {'op':<16} {'MACs':>10} {'instructions':>13} {'est. cycles':>12} "
             f"{'cycles/MAC':>10}"]

    def row(label: str, name: str, op: str, macs: int, insns: int, cycles: int, per_mac: float | None) -> str:
        ratio = f"{per_mac:.2f}" if per_mac is not None else "-"
        return f"{label:>5}  {name:<16} {op:<16} {macs:>10} {insns:>13} {cycles:>12} {ratio:>10}"

    for layer in report.layers:
        lines.append(row(str(layer.index), layer.name, layer.op, layer.macs, layer.instructions, layer.cycles,
                         layer.cycles_per_mac))
    lines.append(row("total", "", "", report.macs, report.instructions, report.cycles, report.cycles_per_mac))
    s = report.sizes
    unknown = f"; not counted: {', '.join(s.stack_unknown)}" if s.stack_unknown else ""
    lines += [
        f"flash: {s.flash_bytes} B = code {s.code_bytes} B + weights/constants {s.const_bytes} B "
        f"+ data {s.data_bytes} B",
        f"RAM:   {s.ram_bytes} B = static {s.static_ram_bytes} B (arena {s.arena_bytes} B) "
        f"+ stack {'' if s.stack_bounded else '>= '}{s.stack_bytes} B ({' -> '.join(s.stack_path)}{unknown})",
    ]
    return "\n".join(lines)
