"""Generate the Thumb-2 assembly of runtime_c/tq_depthwise_conv2d_s8_dsp.c's row path (dw_rows_s1,
dw_rows_s2): prints C string literals to paste between the GENERATED markers of that file.

    python scripts/gen_dw_asm.py > /tmp/asm.inc

One call computes one output row of every channel. The row is cut into column blocks (``nmain``
blocks of 6 outputs, then one block of ``tail`` outputs, 0 to 5); for each column block the
inner loop runs over the channels, so the per-channel work is the block itself plus a few adds (no
per-channel dispatch): rows += W (bytes between two channels' rows), record += 40, output += 1.
"""

from __future__ import annotations

ACC = ["r4", "r5", "r6", "r7", "r8", "r9"]  # accumulators of outputs 0 .. k - 1
W01, W12 = "r12", "lr"
REC_BIAS, REC_Q, REC_K, REC_E = 24, 28, 32, 36
REC_BYTES = 40
# frame = dw_job (out, ch, w, rec_end, rec, x0, x1, x2, nmain, tail), then the column block's output base:
# OUT is the current channel's output, BOUT / BX0-2 the column block's channel-0 output / rows
F_OUT, F_CH, F_W, F_RECEND, F_REC, F_BX0, F_NMAIN, F_TAIL, F_BOUT = 0, 4, 8, 12, 16, 20, 32, 36, 40
FRAME = 44
TAILS = (1, 2, 3, 4, 5)
MAIN = 6


def wregs(k: int) -> list[str]:
    """The rotating input-word registers of a block of k outputs: those the accumulators leave."""
    return ["r9", "r10", "r11"][max(k - 5, 0):]


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
    free = wregs(k)
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


def stores(k: int, free: list[str]) -> list[str]:
    """Output o of the block at OUT + o * ch (lr = ch): OUT in r8 when the accumulators leave it (k <= 4,
    the tail blocks: r8 holds OUT through the channel loop), else loaded into free[0] and stored back;
    the other free registers hold the pointers of outputs 2 j. OUT += 1 (the next channel), last."""
    base = "r8" if k <= 4 else free[0]
    out = [] if k <= 4 else [f"ldr {base}, [sp, #{F_OUT}]"]
    ptrs = [base, *[r for r in free if r != base]][:3]  # output 2 j at ptrs[j], 2 j + 1 at [ptrs[j], lr]
    out += [f"add {ptrs[j]}, {ptrs[j - 1]}, lr, lsl #1" for j in range(1, (k + 1) // 2)]
    for o in range(1, k):
        j, odd = divmod(o, 2)
        out.append(f"strb {ACC[o]}, [{ptrs[j]}, lr]" if odd else f"strb {ACC[o]}, [{ptrs[j]}]")
    out.append(f"strb {ACC[0]}, [{base}], #1")
    return out if k <= 4 else [*out, f"str {base}, [sp, #{F_OUT}]"]


def block(s: int, k: int) -> list[str]:
    """One channel's k outputs: MACs from 2 bias, the output stage (q, K, e, t in the registers the
    accumulators leave), the stores."""
    out = [f"ldr {ACC[k - 1]}, [r3, #{REC_BIAS}]"]
    for r in range(3):
        out += row(s, k, r)
    q, kk, e, t = [*wregs(k), "r12", "lr"][:4]
    out += [f"ldr {q}, [r3, #{REC_Q}]", f"ldr {kk}, [r3, #{REC_K}]", f"ldr {e}, [r3, #{REC_E}]"]
    if t != "lr":
        out.append(f"ldr lr, [sp, #{F_CH}]")
    out += [f'{REQUANT}("{ACC[o]}", "{q}", "{kk}", "{e}", "{t}")' for o in range(k)]  # tq_requant.h's output stage
    if t == "lr":
        out.append(f"ldr lr, [sp, #{F_CH}]")
    free = ["r12", *[r for r in wregs(k) if r != "r12"]]
    return out + stores(k, free)


def channel_loop(s: int, k: int, label: str, head: str | None) -> list[str]:
    """Block k for every channel; then (main blocks, ``head`` given) the column block's bases advanced by
    k outputs and a jump to ``head``, or (the tail block, last) the return."""
    loop = f"{label}c" if k <= 4 else label  # k <= 4: the entry loads OUT into r8 once (stores())
    out = [f"{label}:", f"ldr r8, [sp, #{F_OUT}]", f"{loop}:"] if k <= 4 else [f"{label}:"]
    out += [*block(s, k),
            f"ldr r9, [sp, #{F_W}]", f"ldr r10, [sp, #{F_RECEND}]", "add r0, r0, r9", "add r1, r1, r9",
            "add r2, r2, r9", f"adds r3, r3, #{REC_BYTES}", "cmp r3, r10", f"bne {loop}"]
    if head is None:
        return [*out, f"add sp, sp, #{FRAME}", "pop {r4-r11, pc}"]
    out += [f"ldr r4, [sp, #{F_BOUT}]", f"ldr r5, [sp, #{F_CH}]", "add r4, r4, r5, lsl #2", "add r4, r4, r5, lsl #1",
            f"str r4, [sp, #{F_BOUT}]", f"str r4, [sp, #{F_OUT}]", f"add r6, sp, #{F_BX0}", "ldm r6, {r0-r2}",
            *(f"add r{i}, r{i}, #{2 * s * k}" for i in range(3)), "stm r6, {r0-r2}", f"ldr r3, [sp, #{F_REC}]",
            f"b {head}"]
    return out


def function(s: int) -> list[str]:
    """One call: every channel's output row, column block by column block (module docstring). The main
    blocks come first, so every block's words are 4-byte aligned (rows start aligned; 6 outputs = 12 s
    bytes of columns)."""
    L = f"tq_dw{s}_"
    out = ["push {r4-r11, lr}", f"sub sp, sp, #{FRAME}", "ldm r0, {r1-r10}", "stm sp, {r1-r10}",
           f"str r1, [sp, #{F_BOUT}]", "mov r3, r5", "mov r0, r6", "mov r1, r7", "mov r2, r8",
           f"{L}mh:", f"ldr r4, [sp, #{F_NMAIN}]", "subs r4, r4, #1", f"bpl {L}go",
           f"ldr r4, [sp, #{F_TAIL}]"]
    for k in TAILS:
        out += [f"cmp r4, #{k}", f"beq {L}t{k}"]
    out += [f"add sp, sp, #{FRAME}", "pop {r4-r11, pc}", f"{L}go:", f"str r4, [sp, #{F_NMAIN}]"]
    out += channel_loop(s, MAIN, f"{L}main", f"{L}mh")
    for k in TAILS:
        out += channel_loop(s, k, f"{L}t{k}", None)
    return out


# copy frame: pixel quads per group, whether a single pair follows them, source advance after a group,
# destination advance after a group, groups left, four zero-point bytes
C_QUADS, C_ODD, C_SADV, C_DADV, C_GROUPS, C_ZPW = 0, 4, 8, 12, 16, 20
C_FRAME = 24
C_STORES = ("r3", "r4", "r5", "r6")  # channel rows 0-3 of the group (post-incremented word stores)


def extend(lo: str, hi: str, tmp: str) -> list[str]:
    """Words ``lo`` (pixel a) and ``hi`` (pixel b) of 4 channels -> each channel's int16 pair
    (a - zp, b - zp), stored at channel rows 0-3: PKHBT / PKHTB put (a0, a1, b0, b1) and (a2, a3, b2, b3)
    in one word each (``tmp``, then ``hi``), SXTAB16 (ROR #8) extends the even (odd) bytes and adds
    (-zp, -zp) (r2); ``lo`` is free after the first SXTAB16 and takes the stored words."""
    return [f"pkhbt {tmp}, {lo}, {hi}, lsl #16", f"pkhtb {hi}, {hi}, {lo}, asr #16",
            f"sxtab16 {lo}, r2, {tmp}", f"str {lo}, [r3], #4", f"sxtab16 {lo}, r2, {tmp}, ror #8", f"str {lo}, [r4], #4",
            f"sxtab16 {lo}, r2, {hi}", f"str {lo}, [r5], #4", f"sxtab16 {lo}, r2, {hi}, ror #8", f"str {lo}, [r6], #4"]


def pair(a: str, b: str) -> list[str]:
    """Two adjacent pixels (r0, r0 + ch) -> each channel's pair; a pixel given as "zp" is four zero-point
    bytes (a column of padding: 0 after the subtraction), so a single pixel is stored as a pair too."""
    if a == "zp":
        out = [f"ldr r9, [sp, #{C_ZPW}]", "ldr r10, [r0]", "add r0, r0, r1"]
    elif b == "zp":
        out = ["ldr r9, [r0]", f"ldr r10, [sp, #{C_ZPW}]", "add r0, r0, r1"]
    else:
        out = ["ldr r9, [r0]", "ldr r10, [r0, r1]", "add r0, r0, r1, lsl #1"]
    return [*out, *extend("r9", "r10", "r11")]


def quad() -> list[str]:
    """Four adjacent pixels (r0, r0 + ch, r0 + 2 ch, r0 + 3 ch: r8 = 3 ch): the four loads together
    (pipelined), then two pairs."""
    return ["ldr r9, [r0]", "ldr r10, [r0, r1]", "ldr r11, [r0, r1, lsl #1]", "ldr r12, [r0, r8]",
            "add r0, r0, r1, lsl #2", *extend("r9", "r10", "lr"), *extend("r11", "r12", "lr")]


def copy_function() -> list[str]:
    """dw_copy: a row's pixels minus the zero point into each channel's int16 row, four channels per
    group (the C caller does the in_c mod 4 last ones). Per group: the lead pair (zero-point padding,
    pixel 0) when the padded row's first copied column is odd (so every word store is aligned), the
    pixel quads (two pairs per step), one more pair when the pairs are odd, and the odd last pixel
    paired with zero-point padding (a column the windows read as padding or never read); one loop per
    (lead, odd last pixel) variant."""
    out = ["push {r4-r11, lr}", f"sub sp, sp, #{C_FRAME}", "ldm r0, {r1-r11}",
           # r1 src, r2 ch, r3 nzp2, r4 d0, r5 w, r6 d_adv, r7 s_adv, r8 groups, r9 pairs, r10 zpw, r11 variant
           "lsr r12, r9, #1", f"str r12, [sp, #{C_QUADS}]", "and r12, r9, #1", f"str r12, [sp, #{C_ODD}]",
           f"str r7, [sp, #{C_SADV}]", f"str r6, [sp, #{C_DADV}]", f"str r8, [sp, #{C_GROUPS}]",
           f"str r10, [sp, #{C_ZPW}]", "mov r0, r1", "mov r1, r2", "mov r2, r3", "mov r3, r4",
           "add r8, r1, r1, lsl #1", "add r4, r3, r5", "add r6, r4, r5, lsl #1", "add r5, r4, r5"]
    out += ["cmp r11, #1", "beq tq_dwc_v1", "cmp r11, #2", "beq tq_dwc_v2", "cmp r11, #3", "beq tq_dwc_v3"]
    for v in range(4):
        lead, odd = v & 1, v >> 1
        out += [f"tq_dwc_v{v}:"]
        if lead:
            out += pair("zp", "x")
        out += [f"ldr r7, [sp, #{C_QUADS}]", f"cbz r7, tq_dwc_e{v}", f"tq_dwc_q{v}:", *quad(),
                "subs r7, r7, #1", f"bne tq_dwc_q{v}", f"tq_dwc_e{v}:", f"ldr r7, [sp, #{C_ODD}]",
                f"cbz r7, tq_dwc_o{v}", *pair("x", "x"), f"tq_dwc_o{v}:"]
        if odd:
            out += pair("x", "zp")
        out += [f"ldr r9, [sp, #{C_SADV}]", f"ldr r10, [sp, #{C_DADV}]", "add r0, r0, r9", "add r3, r3, r10",
                "add r4, r4, r10", "add r5, r5, r10", "add r6, r6, r10", f"ldr r9, [sp, #{C_GROUPS}]",
                "subs r9, r9, #1", f"str r9, [sp, #{C_GROUPS}]", f"bne tq_dwc_v{v}", f"add sp, sp, #{C_FRAME}",
                "pop {r4-r11, pc}"]
    return out


def print_macro(name: str, lines: list[str]) -> None:
    print(f"#define {name} \\")
    for i, line in enumerate(lines):
        end = " \\" if i < len(lines) - 1 else ""
        if line.startswith(REQUANT):
            print(f"    {line}{end}")
            continue
        text = line if line.endswith(":") else "\\t" + line
        print(f'    "{text}\\n"{end}')
    print()


if __name__ == "__main__":
    for s in (1, 2):
        print(f"/* dw_rows_s{s}: generated by scripts/gen_dw_asm.py */")
        print_macro(f"TQ_DW_ROWS_S{s}_ASM", function(s))
    print("/* dw_copy: generated by scripts/gen_dw_asm.py */")
    print_macro("TQ_DW_COPY_ASM", copy_function())
