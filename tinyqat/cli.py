"""The ``tinyqat`` command line (click).

Exit status: 0 success, 1 verification mismatch, 2 usage or input error (one line on
stderr, no traceback unless ``--debug``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import numpy as np

from tinyqat.errors import TinyQatError, VerificationError
from tinyqat.version import __version__


class _Group(click.Group):
    """Turns :class:`TinyQatError` into a one-line message and exit status 1 or 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except TinyQatError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(1 if isinstance(exc, VerificationError) else 2)


@click.group(cls=_Group)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="tinyqat")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """tinyqat: QAT in PyTorch to bit-exact int8 C for microcontrollers."""
    ctx.obj = {"debug": debug}


@main.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--board", default="cortex-m4", show_default=True, help="Board profile (see `tinyqat boards`).")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path), help="Output directory.")
@click.option("--name", default="tinyqat_model", show_default=True, help="C symbol prefix of the model.")
@click.option("--force", is_flag=True, help="Replace an existing tinyqat output directory.")
@click.option("--optimize", type=click.Choice(["size", "speed"]), default="size", show_default=True,
              help="speed: the DSP conv kernel reads weights pre-extended to int16 (about 2x their flash).")
def build(model: Path, board: str, out_dir: Path, name: str, force: bool, optimize: str) -> None:
    """Lower MODEL (a tinyqat.save artifact) to a C package in OUTPUT."""
    from tinyqat.build import build as run_build

    result = run_build(model, out_dir, board=board, name=name, force=force, optimize=optimize)
    m = result.memory
    click.echo(f"built {len(result.graph.ops)} layers for {result.board.name} into {result.out_dir}/ "
               f"(see {result.out_dir}/report.md)")
    click.echo(f"  arena   {m.arena_bytes} B RAM, input and output included (no in-place floor {m.floor_bytes} B)")
    names = ", ".join(f"{t} {size} B" for t, _, size in m.peak_tensors)
    click.echo(f"  peak    layer {m.peak_step} ({m.peak_layer}): {m.peak_bytes} B live: {names}")
    click.echo(f"  flash   weights {m.weights_bytes} B + code ~{m.code_bytes} B (estimate)")
    if m.ram_headroom is not None:
        click.echo(f"  RAM headroom {m.ram_headroom} B of {m.ram_bytes} B")
    if m.flash_headroom is not None:
        click.echo(f"  flash headroom {m.flash_headroom} B of {m.flash_bytes} B")


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("-n", "--samples", "n_random", default=32, show_default=True, help="Random int8 inputs to test.")
@click.option("--seed", default=0, show_default=True, help="Seed of the random inputs.")
@click.option("--inputs", type=click.Path(dir_okay=False, path_type=Path),
              help="A .npy of int8 inputs in PyTorch layout (N, C, H, W) or (N, F) instead of random ones.")
@click.option("--sanitize", is_flag=True, help="Run a standalone build under AddressSanitizer and UBSan.")
@click.option("--emulate", is_flag=True,
              help="Build bare metal for the package's board and run it under qemu-system-arm instead.")
def verify(out_dir: Path, n_random: int, seed: int, inputs: Path | None, sanitize: bool, emulate: bool) -> None:
    """Compile OUT_DIR with gcc and require bit-exact equality with the simulator."""
    from tinyqat.verify import check
    from tinyqat.verify import verify as run_verify

    samples = None
    if inputs is not None:
        try:
            with inputs.open("rb") as f:
                if f.read(6) != b"\x93NUMPY":
                    raise TinyQatError(f"{inputs}: not a .npy file (save the inputs with numpy.save)")
            samples = np.load(inputs, allow_pickle=False)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
            raise TinyQatError(f"{inputs}: not a readable .npy array ({reason})") from None
    report = check(run_verify(out_dir, samples=samples, n_random=n_random, seed=seed, sanitize=sanitize,
                              emulate=emulate, progress=True))
    how = "bare metal under QEMU" if emulate else "gcc + ASan/UBSan harness" if sanitize else "gcc + cffi"
    click.echo(f"OK: {report.samples} inputs x {report.layers} layers bit-exact ({report.compared_bytes} bytes, {how})")


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--board", default=None, help="Board profile to compile for [default: the package's, from model.json].")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def bench(out_dir: Path, board: str | None, as_json: bool) -> None:
    """Run OUT_DIR bare metal under QEMU: exact instructions, estimated cycles and cycles/MAC per layer, sizes."""
    import json

    from tinyqat.bench import bench as run_bench
    from tinyqat.bench import format_report

    report = run_bench(out_dir, board=board)
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else format_report(report))


@main.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out_path", required=True, type=click.Path(path_type=Path),
              help="The .tflite file to write.")
@click.option("--force", is_flag=True, help="Replace an existing file.")
def export(model: Path, out_path: Path, force: bool) -> None:
    """Write MODEL's integer graph as a TFLite flatbuffer (TFLite Micro, LiteRT, Vela), bit-exact."""
    from tinyqat.export import export_tflite

    path = export_tflite(model, out_path, force=force)
    click.echo(f"wrote {path} ({path.stat().st_size} B): int8 TFLite model, the simulator's integers")


@main.command()
def boards() -> None:
    """List the board profiles."""
    from tinyqat.boards import board_names, load_board

    names = board_names()
    width = max(len(name) for name in names)
    for name in names:
        b = load_board(name)
        flash = f"{b.flash_bytes // 1024} KiB" if b.flash_bytes else "-"
        ram = f"{b.ram_bytes // 1024} KiB" if b.ram_bytes else "-"
        click.echo(f"{name:{width}} flash {flash:>9}  RAM {ram:>8}  dsp {'yes' if b.dsp else 'no ':3}  "
                   f"kernels {b.kernels:8}  {b.description}")


@main.command()
@click.option("-o", "--output", "out_dir", default=Path("demo_out"), show_default=True, type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing demo output directory.")
@click.option("--epochs", default=10, show_default=True, help="FP32 training epochs (QAT fine-tuning adds 3).")
def demo(out_dir: Path, force: bool, epochs: int) -> None:
    """Train a small CNN on the bundled MNIST subset, QAT it, build for cortex-m4 and verify."""
    from tinyqat.demo import run_demo

    run_demo(out_dir, force=force, fp32_epochs=epochs, echo=click.echo)
