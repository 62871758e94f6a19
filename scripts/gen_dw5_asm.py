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
N = 6


def products(s: int) -> list[tuple[int, list[tuple[str, int, str]]]]:
    """Per input word k of a window row: (k, [(op, output, pair)]) in load order."""
    if s == 1:
        return [
            (0, [("smlad", 0, P01), ("smlatb", 1, P01)]),
            (1, [("smlad", 2, P01), ("smlatb", 3, P01), ("smlad", 0, P23), ("smlad", 1, P12)]),
            (2, [("smlad", 4, P01), ("smlatb", 5, P01), ("smlad", 2, P23), ("smlad", 3, P12),
                 ("smlabt", 0, P34), ("smlad", 1, P34)]),
            (3, [("smlad", 4, P23), ("smlad", 5, P12), ("smlabt", 2, P34), ("smlad", 3, P34)]),
            (4, [("smlabt", 4, P34), ("smlad", 5, P34)]),
        ]
    words = []
    for k in range(N + 2):
        ops = []
        if k < N:
            ops.append(("smlad", k, P01))
        if 0 <= k - 1 < N:
            ops.append(("smlad", k - 1, P23))
        if 0 <= k - 2 < N:
            ops.append(("smlabt", k - 2, P34))
        words.append((k, ops))
    return words


def groups(s: int) -> list[list[tuple[int, str]]]:
    """The words of a window row as groups loaded back to back (a load right after a load pipelines), each word
    with its register: the last word goes to the row pointer's own register (read last, by its own load), and
    at stride 2 r8 (P12, which no stride-2 product reads) takes every other word."""
    if s == 1:
        return [[(0, V)], [(1, V)], [(2, V)], [(3, V), (4, ROW)]]
    return [[(0, V), (1, P12)], [(2, V), (3, P12)], [(4, V), (5, P12)], [(6, V), (7, ROW)]]


def stage(folded: bool) -> list[str]:
    """The six outputs' stage, q in r7, e in r9; folded: K (with the zero point) in r8, else 2^(e-1) in r8 and
    the zero point in r6; scratch r10."""
    out = []
    for a in ACC:
        out += [f"add r10, r8, {a}, asr #31", f"smmlar {a}, {a}, r7, r10", f"asr {a}, {a}, r9"]
        out += [f"ssat {a}, #8, {a}"] if folded else [f"add {a}, {a}, r6", f"ssat {a}, #8, {a}"]
    return out


def body(s: int) -> list[str]:
    """The function's instructions (stride s)."""
    lab = f"tq_dw5_{s}"
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
    out += [f"mov {a}, {ACC[0]}" for a in ACC[1:]]
    ops = dict(products(s))
    for r in range(5):
        out += [f"ldr {ROW}, [sp, #{F_X + 4 * r}]", f"add {ROW}, {ROW}, {OFF}", f"ldm {REC}!, {{r6-r9}}"]
        for group in groups(s):
            out += [f"ldr {reg}, [{ROW}, #{4 * k}]" for k, reg in group]
            out += [f"{op} {ACC[j]}, {reg}, {p}, {ACC[j]}" for k, reg in group for op, j, p in ops[k]]
    # output stage: the record's last words bias (r6, read above), q r7, K r8, e r9. K = 0 (e > 22, which a
    # full-range layer of requant_fused 1 may have) takes the unfolded stage: 2^(e-1) in r8, the zero point in r6
    out += [f"ldm {REC}!, {{r6-r9}}", "cmp r8, #0", f"beq {lab}_e"]
    out += stage(True)
    out += [f"{lab}_st:", f"ldrd r11, r10, [sp, #{F_OUT}]", "add r9, r11, r10, lsl #1",
            "add r8, r11, r10, lsl #2", "strb r0, [r11]", "strb r1, [r11, r10]", "strb r2, [r9]",
            "strb r3, [r9, r10]", "strb r4, [r8]", "strb r5, [r8, r10]", "add r11, r11, #1",
            f"ldrd r9, r10, [sp, #{F_W}]", f"str r11, [sp, #{F_OUT}]", f"add {OFF}, {OFF}, r9",
            f"cmp {REC}, r10", f"bne {lab}_ch",
            f"add sp, sp, #{FRAME}", "pop {r4-r11, pc}",
            f"{lab}_e:", "mov r8, #1", "lsl r8, r8, r9", "lsr r8, r8, #1", f"ldr r6, [sp, #{F_ZP}]"]
    out += stage(False)
    out += [f"b {lab}_st"]
    return out


def macro(s: int) -> str:
    lines = [f'    "{ins}\\n"' if ins.endswith(":") else f'    "\\t{ins}\\n"' for ins in body(s)]
    return f"#define TQ_DW5_MAIN_S{s}_ASM \\\n" + " \\\n".join(lines) + "\n"


if __name__ == "__main__":
    print("/* GENERATED by scripts/gen_dw5_asm.py */")
    print(macro(1))
    print(macro(2))
    print("/* END GENERATED */")
