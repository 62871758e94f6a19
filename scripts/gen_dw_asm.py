"""Generate the Thumb-2 assembly of runtime_c/tq_depthwise_conv2d_s8_dsp.c's row blocks (dw_rows_s1,
dw_rows_s2): prints C string literals to paste between the GENERATED markers of that file.

    python scripts/gen_dw_asm.py > /tmp/asm.inc
"""

from __future__ import annotations

ACC = ["r4", "r5", "r6", "r7", "r8"]
WREGS = ["r9", "r10", "r11"]  # rotating input words
W01, W12 = "r12", "lr"
REC_BIAS, REC_Q, REC_K, REC_E = 24, 28, 32, 36
# frame = dw_job's first 8 words (out, ch, rec, adv, outadv, nmain, tail, rec_end), then the loop count
F_OUT, F_CH, F_WC, F_ADV, F_OUTADV, F_NMAIN, F_TAIL, F_NCH, F_CNT, F_TARGET = 0, 4, 8, 12, 16, 20, 24, 28, 32, 36
FRAME = 40


def macs(s: int, k: int) -> list[tuple[int, int, str, str]]:
    """(output, word, op, weight) of one row: words are (x[2m], x[2m+1]) of the block's columns."""
    ops = []
    for o in range(k):
        if s == 1:
            m, par = divmod(o, 2)
            ops += [(o, m, "smlad" if par == 0 else "smlatb", W01), (o, m + 1, "smlabt" if par == 0 else "smlad", W12)]
        else:
            ops += [(o, o, "smlad", W01), (o, o + 1, "smlabt", W12)]
    return ops


def row(s: int, k: int, r: int) -> list[str]:
    ptr = f"r{r}"
    ops = macs(s, k)
    words = sorted({w for _, w, _, _ in ops})
    out = [f"ldr {W01}, [r3, #{8 * r}]", f"ldr {W12}, [r3, #{8 * r + 4}]"]
    reg_of: dict[int, str] = {}
    free = list(WREGS)
    pending = list(ops)
    first_done: set[int] = set()
    next_word = 0
    bias = ACC[k - 1]
    while pending:
        # load as many upcoming words as registers allow (loads stay together: pipelined)
        while next_word < len(words) and free:
            w = words[next_word]
            reg = free.pop(0)
            reg_of[w] = reg
            out.append(f"ldr {reg}, [{ptr}, #{4 * w}]")
            next_word += 1
        ready = [op for op in pending if op[1] in reg_of]
        # issue in order; the bias register's own first MAC waits for every other first MAC
        progressed = False
        for op in ready:
            o, w, name, wt = op
            acc = ACC[o]
            if r == 0 and o not in first_done:
                if acc == bias and len(first_done) < k - 1:
                    continue
                addend = bias
                first_done.add(o)
            else:
                addend = acc
            out.append(f"{name} {acc}, {reg_of[w]}, {wt}, {addend}")
            pending.remove(op)
            progressed = True
        assert progressed
        for w in list(reg_of):
            if not any(op[1] == w for op in pending):
                free.append(reg_of.pop(w))
    return out


REQUANT = "TQ_REQUANT_FUSED2_FOLDED_ASM"  # tq_requantize_s8_fused2_folded as assembly text (tq_requant.h)


def block(s: int, k: int) -> list[str]:
    out = [f"ldr {ACC[k - 1]}, [r3, #{REC_BIAS}]"]
    for r in range(3):
        out += row(s, k, r)
    out += [f"adds r0, r0, #{4 * s * k // 2}", f"adds r1, r1, #{4 * s * k // 2}", f"adds r2, r2, #{4 * s * k // 2}"]
    out += [f"ldr r9, [r3, #{REC_Q}]", f"ldr r10, [r3, #{REC_K}]", f"ldr r11, [r3, #{REC_E}]",
            f"ldrd r3, lr, [sp, #{F_OUT}]"]
    for o in range(k):
        a = ACC[o]
        out.append(f'{REQUANT}("{a}", "r9", "r10", "r11", "r12")')  # tq_requant.h's output stage
        if o % 2 == 0:
            out.append(f"strb {a}, [r3]")
        else:
            out += [f"strb {a}, [r3, lr]", "add r3, r3, lr, lsl #1"]
    if k % 2:
        out.append("add r3, r3, lr")
    out += [f"str r3, [sp, #{F_OUT}]", f"ldr r3, [sp, #{F_WC}]"]
    return out


def function(s: int) -> list[str]:
    """One call: every channel's output row. The channel loop returns to the address in the frame's
    last word: the main loop's head, or (no block of 4) directly the tail block (MOV PC)."""
    L = f"tq_dw{s}_"
    out = ["push {r4-r11, lr}", f"sub sp, sp, #{FRAME}", "ldm r0, {r1-r8}", "stm sp, {r1-r8}",
           "ldr r1, [r0, #36]", "ldr r2, [r0, #40]", "ldr r0, [r0, #32]", f"ldr r3, [sp, #{F_WC}]",
           f"adr r12, {L}ch", "cmp r6, #0", f"bne {L}go", "cmp r7, #1", f"bne {L}n1", f"adr r12, {L}t1",
           f"{L}n1:", "cmp r7, #2", f"bne {L}n2", f"adr r12, {L}t2", f"{L}n2:", "cmp r7, #3", f"bne {L}n3",
           f"adr r12, {L}t3", f"{L}n3:", "cmp r7, #5", f"bne {L}go", f"adr r12, {L}t5",
           f"{L}go:", f"str r12, [sp, #{F_TARGET}]", "mov pc, r12",
           f"{L}ch:", f"ldr lr, [sp, #{F_NMAIN}]", f"str lr, [sp, #{F_CNT}]", f"{L}main:"]
    out += block(s, 4)
    out += [f"ldr lr, [sp, #{F_CNT}]", "subs lr, lr, #1", f"str lr, [sp, #{F_CNT}]", f"bne {L}main",
            f"ldr lr, [sp, #{F_TAIL}]", "tbh [pc, lr, lsl #1]", f"{L}tbl:"]
    targets = ["next", "t1", "t2", "t3", "next", "t5"]
    out += [f".hword ({L}{t} - {L}tbl) / 2" for t in targets]
    for k in (1, 2, 3):
        out += [f"{L}t{k}:", *block(s, k), f"b {L}next"]
    out += [f"{L}t5:", *block(s, 5)]
    # next channel: rows += adv, out += outadv (1 - n * ch), record += 40 until the end record
    out += [f"{L}next:", f"ldrd r12, r4, [sp, #{F_ADV}]", "add r0, r0, r12", "add r1, r1, r12", "add r2, r2, r12",
            f"ldr r5, [sp, #{F_OUT}]", "add r5, r5, r4", f"str r5, [sp, #{F_OUT}]",
            "add r3, r3, #40", f"str r3, [sp, #{F_WC}]", f"ldr r5, [sp, #{F_NCH}]", "cmp r3, r5",
            "itt ne", f"ldrne r12, [sp, #{F_TARGET}]", "movne pc, r12",
            f"add sp, sp, #{FRAME}", "pop {r4-r11, pc}"]
    return out


if __name__ == "__main__":
    for s in (1, 2):
        print(f"/* dw_rows_s{s}: generated by scripts/gen_dw_asm.py */")
        print(f"#define TQ_DW_ROWS_S{s}_ASM \\")
        lines = function(s)
        for i, line in enumerate(lines):
            end = " \\" if i < len(lines) - 1 else ""
            if line.startswith(REQUANT):
                print(f"    {line}{end}")
                continue
            text = line if line.endswith(":") else "\\t" + line
            print(f'    "{text}\\n"{end}')
        print()
