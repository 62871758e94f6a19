"""The cycle cost model: a core's timing table and the cycles of a straight-line block of Thumb code.

Item 4 of :mod:`tinyqat.bench`: every instruction is classified from its mnemonic and operands
(:func:`classify`) and costed from the core's table ``toolchain/timing/<core>.toml``
(:class:`TimingTable`); :func:`block_cycles` sums one pass through a block, jumps excluded.

Helium (MVE, Armv8.1-M: Cortex-M55) instructions, those with a ``q`` register operand, have classes
of their own by the pipeline that executes them (:func:`mve_unit`): ``mve_load`` (VLDRB/H/W,
VLD2x/VLD4x, also gathers), ``mve_store`` (VSTRx, VST2x/VST4x), ``mve_mul`` (multiplies,
multiply-accumulates and their reductions: VMUL, VQDMULH, VMLA, VMLADAV(A), VMLAV(A), VMLALDAV,
the vector floating-point operations, and, as Arm's Cortex-M55 scheduling model in LLVM
(``ARMScheduleM55.td``) places them, the add reductions VADDV(A)/VADDLV(A), the compares VCMP/VPT, VMOV
from a lane to core registers and VMOV of an immediate) and ``mve_alu`` (every other vector instruction:
VADD, VSHL, VDUP, VMAX, VMOVL, VMOVN, VMOV between q registers or into a lane, ...).  A table that
times them has the four ``mve_*`` keys and ``mve_overlapped``: on a core that executes a 128-bit
vector instruction in several beats, an MVE instruction right after an MVE instruction of another
pipeline (load/store, integer, multiply) overlaps it and costs ``mve_overlapped`` instead.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tinyqat.errors import TinyQatError

TIMING_DIR = Path(__file__).resolve().parents[1] / "toolchain" / "timing"
_CONDITIONS = frozenset({"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le",
                         "al"})


@dataclass(frozen=True)
class TimingTable:
    """Cycles per instruction class of one core (``toolchain/timing/<core>.toml``, key ``[cycles]``).

    Classes: ``alu`` (data processing, moves, shifts, compares, extends, saturation, SIMD
    add/sub), ``it``, ``mul`` (MUL/MLA/MLS), ``mul_long`` (SMULL/UMLAL/...), ``mac`` (DSP
    multiply(-accumulate): SMLAD, SMLABB, ...), ``div`` (SDIV/UDIV), ``load`` and
    ``load_pipelined`` (single loads), ``store`` and ``store_register_offset`` (single stores
    with an immediate / a register offset), ``ldm_base`` + ``ldm_per_register`` and
    ``stm_base`` + ``stm_per_register`` (LDM/POP/LDRD, STM/PUSH/STRD), ``branch``, ``call``
    (BL), ``table_branch`` (TBB/TBH), ``refill`` (added per control transfer), ``fpu``,
    ``fpu_div`` (VDIV/VSQRT), ``barrier``; and ``address_dependency``, added to a load or store
    (single or multiple) whose address registers the instruction right before it, a data-processing
    instruction, wrote.  All in cycles.

    A load costs ``load_pipelined`` instead of ``load`` only when it directly follows a single load
    that has no base write-back and whose destination is not one of its address registers.

    Optional (all or none; only cores with Helium have them): ``mve_load``, ``mve_store``,
    ``mve_alu``, ``mve_mul`` (cycles of one vector instruction of that class) and
    ``mve_overlapped`` (an MVE instruction right after one of another pipeline; see the module
    docstring).  A block with an MVE instruction on a table without them is an error.
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
    store_register_offset: int
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
    address_dependency: int
    mve_load: int | None = None
    mve_store: int | None = None
    mve_alu: int | None = None
    mve_mul: int | None = None
    mve_overlapped: int | None = None


MVE_KEYS = ("mve_load", "mve_store", "mve_alu", "mve_mul", "mve_overlapped")


def load_timing(core: str) -> TimingTable:
    """The timing table ``toolchain/timing/<core>.toml``; :class:`TinyQatError` when absent or malformed."""
    path = TIMING_DIR / f"{core}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TinyQatError(f"no cycle timing table for core {core!r} ({exc})") from None
    cycles = data.get("cycles", {})
    keys = {f.name for f in dataclasses.fields(TimingTable)} - {"core"} - set(MVE_KEYS)
    if data.get("core") != core or set(cycles) not in (keys, keys | set(MVE_KEYS)) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in cycles.values()):
        raise TinyQatError(f"{path}: needs core = {core!r} and [cycles] with exactly {sorted(keys)} "
                           f"(and, for a core with Helium, {list(MVE_KEYS)}) as non-negative integers")
    return TimingTable(core=core, **cycles)


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
    **dict.fromkeys(("b", "bx", "blx", "cbz", "cbnz", "le", "letp", "wls", "wlstp"), "branch"),
    "bl": "call",
    **dict.fromkeys(("tbb", "tbh"), "table_branch"),
    **dict.fromkeys(("dmb", "dsb", "isb"), "barrier"),
}


_Q_REGISTER = re.compile(r"\bq[0-7]\b")
_MVE_MUL = re.compile(r"v(?:q?r?d?mul|r?mulh|mull|q?r?d?mla|mls|fm[as]|cmul|cmla|rmlal|rmlsl|addl?va?$|cmp$|pt[te]*$)")


def mve_unit(base: str, operands: str = "") -> str:
    """The MVE class of a vector instruction's base mnemonic (no data-type suffix) and its operands:
    ``mve_load``, ``mve_store``, ``mve_mul`` or ``mve_alu`` (module docstring; a ``vmov`` whose first
    operand is a core register or whose source is an immediate is ``mve_mul``)."""
    if base.startswith(("vldr", "vld2", "vld4")):
        return "mve_load"
    if base.startswith(("vstr", "vst2", "vst4")):
        return "mve_store"
    if base == "vmov":
        return "mve_mul" if operands.lstrip().startswith("r") or "#" in operands else "mve_alu"
    return "mve_mul" if _MVE_MUL.match(base) else "mve_alu"


def classify(mnemonic: str, operands: str) -> tuple[str, int]:
    """Timing class of a Thumb instruction (a :class:`TimingTable` field, or ``ldm``/``stm``) and,
    for those two, its register count in words (LDRD/STRD: 2); 0 otherwise.

    The mnemonic may carry a width (``.w``/``.n``), a condition (``addne``, inside IT blocks)
    and a flag-setting ``s`` (``muls``).  Anything not listed is single-cycle data processing (``alu``).
    An instruction with a ``q`` register operand is Helium (MVE): :func:`mve_unit`; a vector
    floating-point data type (``.f16``/``.f32`` on ``q`` registers) runs in the multiply pipeline.
    """
    base = mnemonic.split(".")[0]
    if base.startswith("v") and _Q_REGISTER.search(operands):  # Helium (MVE)
        kind = mve_unit(base, operands)
        return ("mve_mul" if kind == "mve_alu" and ".f" in mnemonic else kind), 0
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


_WRITES_NO_REGISTER = frozenset({"cmp", "cmn", "tst", "teq"})
_REGISTER = re.compile(r"\b(?:r1[0-5]|r[0-9]|sb|sl|fp|ip|sp|lr|pc)\b")
_DATA_PROCESSING = frozenset({"alu", "mul", "mul_long", "mac", "div"})


def _address_registers(operands: str) -> list[str]:
    """Registers inside the ``[...]`` of a load/store (base, then any offset register), or the base of
    LDM/STM (``sp`` for PUSH/POP)."""
    if "[" in operands:
        return _REGISTER.findall(operands[operands.index("["):operands.index("]") + 1])
    if "{" in operands:
        return _REGISTER.findall(operands[:operands.index("{")]) or ["sp"]
    return []


def _written_registers(mnemonic: str, cls: str, operands: str) -> set[str]:
    """Registers a data-processing instruction or a single load writes: the first operand (both
    destinations of a long multiply); none for compares, tests and IT."""
    if cls == "it" or mnemonic[:3] in _WRITES_NO_REGISTER:
        return set()
    fields = [f.strip() for f in operands.split(",")]
    return {f for f in fields[:2 if cls == "mul_long" else 1] if _REGISTER.fullmatch(f)}


def _writes_back(operands: str) -> bool:
    """A load/store with base update: pre-indexed ``[rn, #i]!`` or post-indexed ``[rn], #i`` / ``[rn], rm``."""
    return "!" in operands or bool(re.search(r"\],\s*\S", operands))


def block_cycles(insns: Sequence[tuple[str, str]], timing: TimingTable) -> int:
    """Cycles of one pass through a straight-line block of ``(mnemonic, operands)``, jumps excluded.

    The instruction before the block's first one is unknown (a block may be entered by a jump), so
    the first instruction is neither pipelined nor stalled by it.  MVE loads and stores take no part
    in the scalar pairing rules (neither pipelined nor stalled); an MVE instruction costs
    ``mve_overlapped`` right after an MVE instruction of another pipeline (load and store share one).
    """
    total = 0
    previous, previous_writes, previous_write_back = "", set(), False
    for mnemonic, operands in insns:
        cls, words = classify(mnemonic, operands)
        if cls.startswith("mve_"):
            cost = getattr(timing, cls)
            if cost is None:
                raise TinyQatError(f"timing/{timing.core}.toml has no Helium (MVE) entries for {mnemonic} {operands}")
            unit, previous_unit = cls.replace("store", "load"), previous.replace("store", "load")
            overlapped = previous_unit.startswith("mve_") and previous_unit != unit
            total += timing.mve_overlapped if overlapped else cost
            previous, previous_writes, previous_write_back = cls, set(), False
            continue
        memory = cls in ("load", "store", "ldm", "stm")
        address = _address_registers(operands) if memory else []
        if cls == "ldm":
            total += timing.ldm_base + words * timing.ldm_per_register
        elif cls == "stm":
            total += timing.stm_base + words * timing.stm_per_register
        elif cls == "load":
            pipelined = previous == "load" and not previous_write_back and not previous_writes.intersection(address)
            total += timing.load_pipelined if pipelined else timing.load
        elif cls == "store":
            total += timing.store_register_offset if len(address) > 1 else timing.store
        else:
            total += getattr(timing, cls)
        if memory and previous in _DATA_PROCESSING and previous_writes.intersection(address):
            total += timing.address_dependency
        previous_writes = _written_registers(mnemonic, cls, operands) if cls in (*_DATA_PROCESSING, "load") else set()
        previous_write_back = memory and _writes_back(operands)
        previous = cls
    return total
