"""The ``tinyqat`` command line (click).

Exit status: 0 success; 1 verification mismatch (and nothing else); 2 usage or input error,
one ``error: ...`` line on stderr (a traceback only with ``--debug``); 3 internal error (a bug:
one line saying so, the traceback with ``--debug``); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from tinyqat.errors import TinyQatError, VerificationError
from tinyqat.version import __version__

EXIT_MISMATCH, EXIT_USER, EXIT_INTERNAL, EXIT_INTERRUPTED = 1, 2, 3, 130


class _Group(click.Group):
    """Turns errors into one line and the exit statuses of the module docstring."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except TinyQatError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_MISMATCH if isinstance(exc, VerificationError) else EXIT_USER)
        except click.UsageError as exc:  # a subcommand's arguments: one line instead of click's usage block
            where = f"tinyqat {exc.ctx.command_path.split(' ', 1)[-1]} --help" if exc.ctx else "tinyqat --help"
            click.echo(f"error: {exc.format_message().splitlines()[0]} (see {where})", err=True)
            sys.exit(EXIT_USER)
        except (click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                traceback.print_exc()
            click.echo(f"error: internal error, please report: {type(exc).__name__}: "
                       f"{(str(exc).splitlines() or [''])[0]} (tinyqat {__version__}; --debug shows the traceback)",
                       err=True)
            sys.exit(EXIT_INTERNAL)


@click.group(cls=_Group)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="tinyqat")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """tinyqat: QAT in PyTorch to bit-exact int8 C for microcontrollers."""
    ctx.obj = {"debug": debug}


@main.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--board", default="cortex-m4", show_default=True,
              help="Board profile: a name (see `tinyqat boards`) or the path of your own .toml.")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path), help="Output directory.")
@click.option("--name", default="tinyqat_model", show_default=True, help="C symbol prefix of the model.")
@click.option("--force", is_flag=True, help="Replace an existing tinyqat output directory.")
@click.option("--optimize", type=click.Choice(["size", "speed"]), default="size", show_default=True,
              help="speed: the DSP conv kernel reads weights pre-extended to int16 (about 2x their flash).")
@click.option("--api", type=click.Choice(["invoke", "zero-copy"]), default="invoke", show_default=True,
              help="What the RAM check counts: invoke adds the caller's input and output buffers to the arena.")
@click.option("--with-startup", is_flag=True,
              help="Also write baremetal/ (startup file and linker script for the board) to start a firmware from.")
def build(model: Path, board: str, out_dir: Path, name: str, force: bool, optimize: str, api: str,
          with_startup: bool) -> None:
    """Lower MODEL (a tinyqat.save artifact) to a C package in OUTPUT."""
    from tinyqat.build import build as run_build

    result = run_build(model, out_dir, board=board, name=name, force=force, optimize=optimize, api=api,
                       with_startup=with_startup)
    m = result.memory
    click.echo(f"built {len(result.graph.ops)} layers for {result.board.name} into {result.out_dir}/ "
               f"(see {result.out_dir}/report.md)")
    click.echo(f"  arena   {m.arena_bytes} B RAM, input and output included (no in-place floor {m.floor_bytes} B)")
    graph = result.graph
    if len(graph.outputs) > 1:
        click.echo(f"  outputs {len(graph.outputs)} ({name}_output_ptr(i)): " + ", ".join(
            f"{i} {t} {graph.tensor(t).size} B" for i, t in enumerate(graph.outputs)))
    names = ", ".join(f"{t} {size} B" for t, _, size in m.peak_tensors)
    click.echo(f"  peak    layer {m.peak_step} ({m.peak_layer}): {m.peak_bytes} B live: {names}")
    click.echo(f"  flash   weights {m.weights_bytes} B + code {m.code_bytes} B (runtime {m.code_source})")
    if m.io_buffer_bytes:
        click.echo(f"  invoke  the caller's input and output buffers: {m.io_buffer_bytes} B RAM")
    if m.ram_headroom is not None:
        click.echo(f"  RAM headroom {m.ram_headroom} B of {m.ram_bytes} B ({m.api} API)")
    if m.flash_headroom is not None:
        click.echo(f"  flash headroom {m.flash_headroom} B of {m.flash_bytes} B")


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("-n", "--samples", "n_random", default=32, show_default=True, type=click.IntRange(0, 1 << 20),
              help="Random int8 inputs to test.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**64 - 1),
              help="Seed of the random inputs.")
@click.option("--inputs", type=click.Path(dir_okay=False, path_type=Path),
              help="A .npy of int8 inputs in PyTorch layout (N, C, H, W) or (N, F) instead of random ones.")
@click.option("--sanitize", is_flag=True, help="Run a standalone build under AddressSanitizer and UBSan.")
@click.option("--emulate", is_flag=True,
              help="Build bare metal for the package's board and run it under qemu-system-arm instead.")
def verify(out_dir: Path, n_random: int, seed: int, inputs: Path | None, sanitize: bool, emulate: bool) -> None:
    """Compile OUT_DIR with gcc and require bit-exact equality with the simulator."""
    from tinyqat.verify import check, load_inputs
    from tinyqat.verify import verify as run_verify

    samples = None if inputs is None else load_inputs(inputs)
    report = check(run_verify(out_dir, samples=samples, n_random=n_random, seed=seed, sanitize=sanitize,
                              emulate=emulate, progress=True))
    how = "bare metal under QEMU" if emulate else "gcc + ASan/UBSan harness" if sanitize else "gcc + cffi"
    outputs = f" and {report.outputs} outputs" if report.outputs > 1 else ""
    click.echo(f"OK: {report.samples} inputs x {report.layers} layers{outputs} bit-exact "
               f"({report.compared_bytes} bytes, {how})")


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
@click.option("--show", "show", metavar="BOARD", default=None,
              help="Print BOARD's profile (TOML), a start for your own (tinyqat build --board my.toml).")
def boards(show: str | None) -> None:
    """List the board profiles."""
    from tinyqat.boards import board_names, load_board, profile_text

    if show is not None:
        click.echo(profile_text(show), nl=False)
        return
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
