#!/usr/bin/env python3
"""Generate the DSP depthwise row path's straight-line row copies, one runtime file per input width:
runtime_c/tq_depthwise_conv2d_s8_copy<n>.c (``python3 scripts/gen_dw_copy_asm.py`` rewrites them;
``--check`` exits 1 when a file differs from what this script generates; ``--print N`` prints copy<N>'s file).

A copy<n> does what tq_depthwise_conv2d_s8_dsp.c's dw_copy does for one input row of n pixels (NHWC, ch
channels) on a stride-2 3x3 layer with left padding 1 and ring rows of wp = n + 2 values (layouts.DW_COPY_WIDTHS,
the generator's condition); a copy<n>s1 the same on a stride-1 layer with left padding 1 and n outputs, ring rows
of wp = n + 4 values (layouts.DW_COPY_S1_WIDTHS): channel c's int16 row, at d + c W (W = 2 wp bytes), gets the
zero-point-subtracted pixels at columns 1 .. n and 0 at column 0 and, n even, n + 1 (the padding pairs; n odd: a
stride-1 row's column n + 1 is the right padding, which the assembly's skipping tail never reads). It differs in its
loop: one pass per group of four channels, the n pixels' words loaded four at a time from one source pointer
(offsets 0, ch, 2 ch, 3 ch; the pointer advances 4 ch between quads and comes back by s_adv at the group's end),
each pixel pair (PKHBT / PKHTB, then four SXTAB16) stored at fixed offsets i W + 4 s from one destination pointer
(W is a constant of the file), so a group costs its loads, 2 PKH + 4 SXTAB16 + 4 STR per pair, and five
instructions of loop.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

WIDTHS = (6, 8, 12, 16, 24, 48)  # layouts.DW_COPY_WIDTHS (stride 2: copy<n>)
S1_WIDTHS = (3, 4, 5, 6, 8, 12, 24)  # layouts.DW_COPY_S1_WIDTHS (stride 1: copy<n>s1)
TEMPS = ("r8", "r9", "r10", "r11", "r12", "lr")
ZPW, NZP2 = "r3", "r4"  # four zero-point bytes (a padding pixel); (-zp, -zp)


def wp(n: int, stride: int) -> int:
    """int16 values per channel row of the ring for input rows of n pixels (planner.dw_padded_width of n / 2
    outputs at stride 2, n + 2; of n outputs at stride 1, n + 3 rounded up to even)."""
    return n + 2 if stride == 2 else (n + 4) & ~1


def name(n: int, stride: int) -> str:
    """The copy's suffix: copy<n> (stride 2) or copy<n>s1."""
    return f"copy{n}" if stride == 2 else f"copy{n}s1"


def body(n: int, stride: int = 2) -> list[str]:
    """The instructions of copy<n> / copy<n>s1 (Thumb-2, unified syntax), registers: r0 source, r1 destination, r2
    ch, r3 zero-point word, r4 (-zp, -zp), r5 the source's end, r6 3 ch, r7 s_adv."""
    w = 2 * wp(n, stride)  # bytes between two channels' rows
    quads = (n + 3) // 4
    out = ["push {r4-r11, lr}",
           "sxtb r4, r3",
           "rsb r4, r4, #0",
           "pkhbt r4, r4, r4, lsl #16",
           "bic r5, r2, #3",
           "add r5, r5, r0",
           "add r6, r2, r2, lsl #1",
           f"mov r7, #{quads - 1}",
           "mul r7, r7, r2",
           "rsb r7, r7, #1",
           "lsl r7, r7, #2",
           "1:"]
    free = list(TEMPS)
    words: list[str] = [ZPW]  # the row's words in column order, as registers, from padding column 0
    pending = 0  # words of `words` not yet paired
    first_store = 4 * w < 256  # advance the destination on its first store (STR #imm8; the offsets after it fit)
    post = first_store

    def take() -> str:
        return free.pop(0)

    def step(pair: int) -> None:
        nonlocal first_store
        a, b = words[2 * pair], words[2 * pair + 1]
        t = take()
        out.append(f"pkhbt {t}, {a}, {b}, lsl #16")
        hi = take() if b == ZPW else b  # channels 2 and 3 of both pixels (the padding word stays)
        out.append(f"pkhtb {hi}, {b}, {a}, asr #16")
        b = hi
        if a != ZPW:
            free.insert(0, a)
        r = take()
        for lane, (src, ror) in enumerate(((t, ""), (t, ", ror #8"), (b, ""), (b, ", ror #8"))):
            out.append(f"sxtab16 {r}, {NZP2}, {src}{ror}")
            offset = lane * w + 4 * pair
            if first_store:  # channel 0's word 0: the destination advances to the next group here
                out.append(f"str {r}, [r1], #{4 * w}")
                first_store = False
            else:
                out.append(f"str {r}, [r1, #{offset - 4 * w if post else offset}]")
        free.insert(0, r)
        free.insert(0, t)
        free.insert(0, b)

    pairs_done = 0
    for q in range(quads):
        count = min(4, n - 4 * q)
        offsets = ("", ", r2", ", r2, lsl #1", ", r6")
        for k in range(count):
            reg = take()
            out.append(f"ldr {reg}, [r0{offsets[k]}]")
            words.append(reg)
        if q < quads - 1:
            out.append("add r0, r0, r2, lsl #2")
        pending = len(words) - 2 * pairs_done
        while pending >= 2:
            step(pairs_done)
            pairs_done += 1
            pending -= 2
    if n % 2 == 0:  # the last pixel with the padding column n + 1
        words.append(ZPW)
        step(pairs_done)
    if not post:
        out.append(f"add r1, r1, #{4 * w}")
    out += ["add r0, r0, r7",
            "cmp r0, r5",
            "bne 1b",
            "pop {r4-r11, pc}"]
    return out


def source(n: int, stride: int = 2) -> str:
    """The text of runtime_c/tq_depthwise_conv2d_s8_<name(n, stride)>.c."""
    asm = "".join(f'    "\\t{i}\\n"\n' if not i.endswith(":") else f'    "{i}\\n"\n' for i in body(n, stride))
    c = name(n, stride)
    layer = (f"3x3 stride-{stride}\n * row-path layer whose input rows have {n} pixels, left padding 1 and "
             f"{n // stride} outputs")
    w = wp(n, stride)
    pads = f"columns 0 and {n + 1}" if n % 2 == 0 else "column 0"
    return f"""/*
 * tq_depthwise_conv2d_s8_{c}.c - the DSP depthwise row path's row copy for input rows of {n} pixels
 * (tq_depthwise_conv2d_s8_dsp.c, copy_row), published as tq_depthwise_conv2d_s8_{c}. Generated by
 * scripts/gen_dw_copy_asm.py (its docstring: what it computes, and how). The generator ships this file, and sets
 * params->dsp_path = &tq_depthwise_conv2d_s8_{c} under TQ_USE_DSP, only for packages with a {layer}
 * (tinyqat/codegen/layouts.py, dw_dsp_path), so other packages do not link it. Cores without the DSP extension
 * compile nothing here.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"

/* Pixels 0 .. {n - 1} of one input row src (NHWC, channels 4 g .. 4 g + 3 for every g < ch / 4) minus the zero point
 * zp (zpw: four bytes zp) as int16 at columns 1 .. {n} of channel c's row d + c {w}, 0 at {pads}
 * (d 4-byte aligned). */
__attribute__((naked, noinline)) static void {c}(__attribute__((unused)) const int8_t *src,
                                               __attribute__((unused)) int16_t *d,
                                               __attribute__((unused)) int32_t ch,
                                               __attribute__((unused)) int32_t zpw)
{{
    __asm__ volatile(
{asm}    );
}}

const tq_depthwise_conv2d_s8_dsp_path tq_depthwise_conv2d_s8_{c} = {{NULL, NULL, {c}}};

#endif /* TQ_USE_DSP */
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a file differs from the generated text")
    parser.add_argument("--print", metavar="NAME",
                        help="print copy<N>'s (or copy<N>s1's) file instead of writing the files")
    args = parser.parse_args()
    copies = {name(n, s): (n, s) for s, widths in ((2, WIDTHS), (1, S1_WIDTHS)) for n in widths}
    if args.print is not None:
        key = args.print if args.print.startswith("copy") else f"copy{args.print}"
        if key not in copies:
            print(f"no copy {args.print}; copies: {', '.join(copies)}", file=sys.stderr)
            return 2
        sys.stdout.write(source(*copies[key]))
        return 0
    root = Path(__file__).resolve().parents[1] / "runtime_c"
    stale = []
    for c, (n, s) in copies.items():
        path = root / f"tq_depthwise_conv2d_s8_{c}.c"
        text = source(n, s)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    if stale:
        print(f"differs from scripts/gen_dw_copy_asm.py: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
