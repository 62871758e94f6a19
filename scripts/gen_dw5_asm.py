"""Generate the Thumb-2 assembly of runtime_c/tq_depthwise_conv2d_s8_rows5.c's main blocks (dw5_main_s1,
dw5_main_s2): prints C macros to paste between the GENERATED markers of that file.

    python scripts/gen_dw5_asm.py > /tmp/asm5.inc

One call computes one column block of 6 outputs of one output row for every channel (5x5 window, stride 1 or
2, the full int8 output range). Registers: r0-r5 the six accumulators, r6-r9 the four doubled weight pairs of
the current window row (P01, P23, P12, P34: one LDM from the record, which r12 walks front to back: 20
pair words, bias, q, K, e, so after a channel r12 is at the next channel's record), r10 the input word, r11 the
window row's pointer (the block's channel-0 row from the frame + lr), lr the channel's byte offset in a ring
slot (c * W). Products per row as the C loops of that file: stride 1, words Wk at columns i + 2k (k < 5),
output j of the block reads Wm for 2m in [j - 1, j + 4]; stride 2, words Wk at columns 2i + 2k (k < 8),
output j reads Wj (P01), Wj+1 (P23) and Wj+2's low half (P34's high half).
Output stage (tq_requant.h, tq_requantize_s8_fused2 with act_min -128, act_max 127), per output: with the
record's K = tq_fused2_offset(e, zp) (every e <= 22) TQ_REQUANT_FUSED2_FOLDED_ASM's ADD t = K + (acc2 >> 31);
SMMLAR; ASR e; SSAT #8; on a channel with K = 0 (e > 22: a requant_fused 1 layer) ADD t = 2^(e-1) + (acc2 >> 31);
SMMLAR; ASR e; ADD zero point; SSAT #8; then STRB.
"""

from __future__ import annotations

ACC = ["r0", "r1", "r2", "r3", "r4", "r5"]
P01, P23, P12, P34 = "r6", "r7", "r8", "r9"
V, ROW, REC, OFF = "r10", "r11", "r12", "lr"
# dw5_job (words): x0 .. x4 (channel 0's window rows at the block's first column), W (bytes between two
# channels' rows), end (the record after the last channel's), out (channel 0's first output), ch, zp, rec
F_X, F_W, F_END, F_OUT, F_CH, F_ZP = 0, 20, 24, 28, 32, 36
REC_BIAS = 20  # the record's bias word (TQ_DW5_BIAS); the 20 pair words before it, q, K, e after it
FRAME = 40  # the first ten job words, copied; with the nine pushed registers sp stays 8-byte aligned
BLOCKS = (6, 3)  # outputs per block: the row's blocks of 6, then (the rest of 3 to 5 outputs) one of 3


def products(s: int, n: int) -> list[tuple[int, list[tuple[str, int, str]]]]:
    """Per input word k of a window row (columns 2k, 2k + 1 from the block's first input column): (k, [(op,
    output, pair)]), a block of n outputs. Stride 1: output j = 2m reads Wm (P01), Wm+1 (P23), Wm+2's low half
    (P34's high half); output j = 2m + 1 Wm's high half (P01's low half), Wm+1 (P12), Wm+2 (P34). Stride 2:
    output j reads Wj (P01), Wj+1 (P23), Wj+2's low half."""
    taps: dict[int, list[tuple[str, int, str]]] = {}
    for j in range(n):
        if s == 1:
            m = j // 2
            ops = ((m, "smlad", P01), (m + 1, "smlad", P23), (m + 2, "smlabt", P34)) if j % 2 == 0 else \
                ((m, "smlatb", P01), (m + 1, "smlad", P12), (m + 2, "smlad", P34))
        else:
            ops = ((j, "smlad", P01), (j + 1, "smlad", P23), (j + 2, "smlabt", P34))
        for k, op, p in ops:
            taps.setdefault(k, []).append((op, j, p))
    return sorted(taps.items())


def groups(s: int, n: int) -> list[list[tuple[int, str]]]:
    """The words of a window row as groups loaded back to back (a load right after a load pipelines), each word
    with its register from the free ones (accumulators the block leaves, r10, and at stride 2 r8: P12, which no
    stride-2 product reads), the last word in the row pointer's own register (its last read)."""
    pool = ACC[n:] + [V] + ([P12] if s == 2 else [])
    words = [k for k, _ in products(s, n)]
    out, chunk = [], []
    for k in words[:-1]:
        chunk.append((k, pool[len(chunk)]))
        if len(chunk) == len(pool):
            out.append(chunk)
            chunk = []
    out.append([*chunk, (words[-1], ROW)])
    return out


def stage(folded: bool, n: int) -> list[str]:
    """The n outputs' stage, q in r7, e in r9; folded: K (with the zero point) in r8, else 2^(e-1) in r8 and
    the zero point in r6; scratch r10."""
    out = []
    for a in ACC[:n]:
        out += [f"add r10, r8, {a}, asr #31", f"smmlar {a}, {a}, r7, r10", f"asr {a}, {a}, r9"]
        out += [f"ssat {a}, #8, {a}"] if folded else [f"add {a}, {a}, r6", f"ssat {a}, #8, {a}"]
    return out


def body(s: int, n: int) -> list[str]:
    """The function's instructions (stride s, blocks of n outputs)."""
    lab = f"tq_dw5_{s}_{n}"
    out = [
        "push {r4-r11, lr}",
        f"sub sp, sp, #{FRAME}",
        "ldm r0!, {r1-r10}",
        "stm sp, {r1-r10}",
        f"ldr {REC}, [r0]",
        f"mov {OFF}, #0",
        f"{lab}_ch:",
        f"ldr {ACC[0]}, [{REC}, #{4 * REC_BIAS}]",
    ]
    out += [f"mov {a}, {ACC[0]}" for a in ACC[1:n]]
    ops = dict(products(s, n))
    for r in range(5):
        out += [f"ldr {ROW}, [sp, #{F_X + 4 * r}]", f"add {ROW}, {ROW}, {OFF}", f"ldm {REC}!, {{r6-r9}}"]
        for group in groups(s, n):
            out += [f"ldr {reg}, [{ROW}, #{4 * k}]" for k, reg in group]
            out += [f"{op} {ACC[j]}, {reg}, {p}, {ACC[j]}" for k, reg in group for op, j, p in ops[k]]
    # output stage: the record's last words bias (r6, read above), q r7, K r8, e r9. K = 0 (e > 22, which a
    # full-range layer of requant_fused 1 may have) takes the unfolded stage: 2^(e-1) in r8, the zero point in r6
    out += [f"ldm {REC}!, {{r6-r9}}", "cmp r8, #0", f"beq {lab}_e"]
    out += stage(True, n)
    # output j at out + j ch: r11 (j 0, 1), r9 (2, 3), r8 (4, 5), the odd ones with + ch (r10)
    bases = ["r11", "r11", "r9", "r9", "r8", "r8"]
    out += [f"{lab}_st:", f"ldrd r11, r10, [sp, #{F_OUT}]"]
    out += [f"add {bases[j]}, r11, r10, lsl #{j // 2}" for j in (2, 4) if j < n]
    out += [f"strb {ACC[j]}, [{bases[j]}, r10]" if j % 2 else f"strb {ACC[j]}, [{bases[j]}]" for j in range(n)]
    out += ["add r11, r11, #1",
            f"ldrd r9, r10, [sp, #{F_W}]", f"str r11, [sp, #{F_OUT}]", f"add {OFF}, {OFF}, r9",
            f"cmp {REC}, r10", f"bne {lab}_ch",
            f"add sp, sp, #{FRAME}", "pop {r4-r11, pc}",
            f"{lab}_e:", "mov r8, #1", "lsl r8, r8, r9", "lsr r8, r8, #1", f"ldr r6, [sp, #{F_ZP}]"]
    out += stage(False, n)
    out += [f"b {lab}_st"]
    return out


def macro(s: int, n: int) -> str:
    lines = [f'    "{ins}\\n"' if ins.endswith(":") else f'    "\\t{ins}\\n"' for ins in body(s, n)]
    return f"#define TQ_DW5_MAIN{n}_S{s}_ASM \\\n" + " \\\n".join(lines) + "\n"


if __name__ == "__main__":
    print("/* GENERATED by scripts/gen_dw5_asm.py */")
    for n in BLOCKS:
        for s in (1, 2):
            print(macro(s, n))
    print("/* END GENERATED */")
