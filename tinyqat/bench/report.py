"""What :func:`tinyqat.bench.bench` returns (:class:`BenchReport`) and the table ``tinyqat bench`` prints."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from tinyqat.bench.cost import TimingTable


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
    """Bytes of the package on the target (see :mod:`tinyqat.bench`, item 5)."""

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
        """Plain JSON-ready dict: every field and derived total (``cycles_per_mac`` may be None; the timing
        table without the Helium entries of a core that has none)."""
        sizes = {**dataclasses.asdict(self.sizes), "flash_bytes": self.sizes.flash_bytes,
                 "static_ram_bytes": self.sizes.static_ram_bytes, "ram_bytes": self.sizes.ram_bytes}
        return {
            "name": self.name, "board": self.board, "qemu_machine": self.qemu_machine,
            "timing": {k: v for k, v in dataclasses.asdict(self.timing).items() if v is not None},
            "layers": [{**dataclasses.asdict(layer), "cycles_per_mac": layer.cycles_per_mac} for layer in self.layers],
            "instructions": self.instructions, "cycles": self.cycles, "macs": self.macs,
            "cycles_per_mac": self.cycles_per_mac, "sizes": sizes,
        }


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
