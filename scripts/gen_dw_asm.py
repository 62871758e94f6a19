"""Generate the Thumb-2 assembly of runtime_c/tq_depthwise_conv2d_s8_dsp.c's row path (dw_rows_s1,
dw_rows_s2): prints C string literals to paste between the GENERATED markers of that file.

    python scripts/gen_dw_asm.py > /tmp/asm.inc

One call computes one output row of every channel. The row is cut into column blocks (``nmain``
blocks of 6 outputs, then one block of ``tail`` outputs, 0 to 5); for each column block the
inner loop runs over the channels, so the per-channel work is the block itself plus a few adds (no
per-channel dispatch): rows += W (bytes between two channels' rows), record += 40 (the e word's load,
pre-indexed with write-back: r3 runs 4 bytes before the current record, REC_AT), output += 1. After a
main block's channel loop, the next column block's bases are the rows + dw_job.dx and the output + 5 ch.
W and the end of the channel loop come with the record's e word (REC_E: e in bits 0-7, the only bits
ASR by a register reads; bit 8 set on the last channel's record; W in bits 16-31), which stays in lr
from the output stage to the loop's end.
"""

from __future__ import annotations

ACC = ["r4", "r5", "r6", "r7", "r8", "r9"]  # accumulators of outputs 0 .. k - 1
W01, W12 = "r12", "lr"
REC_BIAS, REC_Q, REC_K, REC_E = 24, 28, 32, 36
REC_BYTES = 40
REC_AT = 4  # r3 = the current record - REC_AT: the e word's load [r3, #REC_E + REC_AT]! steps to the next one
assert REC_E + REC_AT == REC_BYTES
REC_LAST = 256  # the e word's last-channel bit
# dw_job: x0, x1, x2, rec, then (J_OUT) out, ch, nmain, tail, dx, then wrow (two-row functions)
J_OUT, J_WROW = 16, 36
# frame: dw_job's out .. dx, then rec - REC_AT and (two-row functions) the weight pointer. OUT is the current
# channel's output; DX the bytes from a row pointer after the channel loop to the next column block's channel-0
# row (2 MAIN s - ch W)
F_OUT, F_CH, F_NMAIN, F_TAIL, F_DX, F_REC, F_X2 = 0, 4, 8, 12, 16, 20, 24
FRAME = 28  # with the nine pushed registers: 64 bytes, sp stays 8-byte aligned
TAILS = (1, 2, 3, 4, 5)
MAIN = 6
# Stride-1 tails of odd length whose last output's third tap is right padding (the row path's
# ``dw_job.tail`` = k + SKIP): that tap (the word's low half, 0 in the padding) is left out, so the
# block neither loads that word nor needs the padding column written.
SKIP_TAILS = (1, 3, 5)
SKIP = 8


def wregs(k: int) -> list[str]:
    """The rotating input-word registers of a block of k outputs: those the accumulators leave (r7 too
    when k <= 3: r8 holds the output pointer when k <= 4)."""
    return ["r7", "r9", "r10", "r11"] if k <= 3 else ["r9", "r10", "r11"][max(k - 5, 0):]


def macs(s: int, k: int, skip: bool = False) -> list[tuple[int, int, str, str]]:
    """(output, word, op, weight) of one row: words are (x[2m], x[2m+1]) of the block's columns;
    ``skip`` (stride 1, k odd): the last output's third tap (a padding column) is left out."""
    ops = []
    for o in range(k):
        if s == 1:
            m, par = divmod(o, 2)
            ops += [(o, m, "smlad" if par == 0 else "smlatb", W01), (o, m + 1, "smlabt" if par == 0 else "smlad", W12)]
        else:
            ops += [(o, o, "smlad", W01), (o, o + 1, "smlabt", W12)]
    if skip:
        assert s == 1 and k % 2 == 1 and ops[-1][2] == "smlabt"
        ops.pop()
    return ops


def row(s: int, k: int, r: int, skip: bool = False, rows: int = 3) -> list[str]:
    """Window row r's products of the block (input row in r{r}); its paired weights at [r3, #8 r] of the
    record (rows = 3) or, in the two-row functions (rows = 2), at [r2, #8 r] (r2: the record + the weight
    offset of the call's first row, dw_job.wrow)."""
    ptr = f"r{r}"
    ops = macs(s, k, skip)
    words = sorted({w for _, w, _, _ in ops})
    wp = "r3" if rows == 3 else "r2"
    out = [f"ldr {W01}, [{wp}, #{8 * r + REC_AT}]", f"ldr {W12}, [{wp}, #{8 * r + 4 + REC_AT}]"]
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


def row0_s2(k: int, rows: int = 3) -> list[str]:
    """Stride 2, window row 0 (input row in r0) from 2 bias: one run of loads (2 bias, the row's paired
    weights, the k + 1 words), then the products. Word o lies in ACC[o] (word k and 2 bias in the first two
    registers of wregs(k)): output o's SMLAD overwrites word o once output o - 1's SMLABT has read its low
    half, so no word needs a register of its own and the loads need not wait for free ones."""
    last, bias = wregs(k)[:2]
    wp = "r3" if rows == 3 else "r2"
    words = [*ACC[:k], last]
    out = [f"ldr {bias}, [r3, #{REC_BIAS + REC_AT}]", f"ldr {W01}, [{wp}, #{REC_AT}]",
           f"ldr {W12}, [{wp}, #{4 + REC_AT}]", *(f"ldr {reg}, [r0, #{4 * w}]" for w, reg in enumerate(words))]
    for o in range(k):
        out += [f"smlad {ACC[o]}, {ACC[o]}, {W01}, {bias}", f"smlabt {ACC[o]}, {words[o + 1]}, {W12}, {ACC[o]}"]
    return out


REQUANT = "TQ_REQUANT_FUSED2_FOLDED_ASM"  # tq_requantize_s8_fused2_folded as assembly text (tq_requant.h)


def stores(k: int, ch: str, base: str, ptr: str, ch_loaded: bool = False) -> list[str]:
    """Output o of the block at OUT + o * ch (register ``ch``, loaded here when k > 1 unless ``ch_loaded``): OUT
    in r8 when the accumulators leave it (k <= 4, the tail blocks: r8 holds OUT through the channel loop), else loaded
    into ``base`` and stored back; ``ptr`` walks the outputs 2 j (j >= 1), 2 j + 1 at [ptr, ch]. OUT += 1
    (the next channel). A store never follows the add that wrote its pointer (no address stall)."""
    out = [f"ldr {ch}, [sp, #{F_CH}]"] if k > 1 and not ch_loaded else []
    if k > 4:
        out.append(f"ldr {base}, [sp, #{F_OUT}]")
    if k > 1:
        out.append(f"strb {ACC[1]}, [{base}, {ch}]")
    for j in range(1, (k + 1) // 2):
        out.append(f"add {ptr}, {base if j == 1 else ptr}, {ch}, lsl #1")
        if j == 1:  # output 0 between the add and the store that reads its pointer
            out.append(f"strb {ACC[0]}, [{base}], #1")
        else:  # OUT back to the frame there (k > 4)
            out.append(f"str {base}, [sp, #{F_OUT}]")
        out.append(f"strb {ACC[2 * j]}, [{ptr}]")
        if 2 * j + 1 < k:
            out.append(f"strb {ACC[2 * j + 1]}, [{ptr}, {ch}]")
    if k <= 2:
        out.append(f"strb {ACC[0]}, [{base}], #1")
    return out


def block(s: int, k: int, skip: bool = False, rows: int = 3, ch_held: bool = False) -> list[str]:
    """One channel's k outputs: MACs from 2 bias (rows window rows), the output stage (q, K, t in the
    registers the accumulators leave, the e word in lr: it stays there for the channel loop's end), the
    stores; ``ch_held`` (k = 2): the channel stride is in CH_HELD for the whole channel loop, not loaded per channel."""
    out = (row0_s2(k, rows) if s == 2
           else [f"ldr {ACC[k - 1]}, [r3, #{REC_BIAS + REC_AT}]", *row(s, k, 0, skip, rows)])
    for r in range(1, rows):
        out += row(s, k, r, skip, rows)
    free = [*wregs(k), "r12"]  # after the MACs: the word and weight registers
    q, kk, t = free[:3]
    early = k > 1 and len(free) > 3 and not ch_held  # a fourth free register (k < 6): the channel stride loads
    out += [f"ldr {q}, [r3, #{REC_Q + REC_AT}]", f"ldr {kk}, [r3, #{REC_K + REC_AT}]",  # with q, K, e
            *([f"ldr {free[3]}, [sp, #{F_CH}]"] if early else []),
            f"ldr lr, [r3, #{REC_E + REC_AT}]!"]  # r3 += REC_BYTES: the next record - REC_AT
    out += [f'{REQUANT}("{ACC[o]}", "{q}", "{kk}", "lr", "{t}")' for o in range(k)]  # tq_requant.h's output stage
    base = "r8" if k <= 4 else free[1]
    ch, ptr = (CH_HELD, q) if ch_held else (free[3], q) if early else [r for r in free if r != base][:2]
    return out + stores(k, ch, base, ptr, early or ch_held)


def channel_loop(s: int, k: int, label: str, head: str | None, skip: bool = False, rows: int = 3) -> list[str]:
    """Block k for every channel (rows += W; with two rows, the weight pointer r2 += REC_BYTES); then
    (main blocks, ``head`` given: the tail dispatch) the next column block: OUT (channel ch's output after
    the loop) += (k - 1) ch, the rows += DX, the record (and with two rows the weight pointer) reloaded as it
    was, and the next main block while any is left, else a jump to ``head``; or (the tail block, last) the
    return."""
    loop = f"{label}c" if k <= 4 else label  # k <= 4: the entry loads OUT into r8 once (stores())
    held = k == 2  # and the channel stride into CH_HELD (block's ch_held)
    out = ([f"{label}:", f"ldr r8, [sp, #{F_OUT}]", *([f"ldr {CH_HELD}, [sp, #{F_CH}]"] if held else []), f"{loop}:"]
           if k <= 4 else [f"{label}:"])
    out += [*block(s, k, skip, rows, held), *(f"add r{i}, r{i}, lr, lsr #16" for i in range(rows)),
            *([f"add r2, r2, #{REC_BYTES}"] if rows == 2 else []), f"tst lr, #{REC_LAST}", f"beq {loop}"]
    if head is None:
        return [*out, f"add sp, sp, #{FRAME}", "pop {r4-r11, pc}"]
    assert k == MAIN
    out += [f"ldr r4, [sp, #{F_OUT}]", f"ldr r5, [sp, #{F_CH}]", f"ldr r6, [sp, #{F_DX}]", f"ldr r3, [sp, #{F_REC}]",
            f"ldr r7, [sp, #{F_NMAIN}]", *([f"ldr r2, [sp, #{F_X2}]"] if rows == 2 else []), "add r4, r4, r5, lsl #2",
            "add r4, r4, r5", *(f"add r{i}, r{i}, r6" for i in range(rows)),
            f"str r4, [sp, #{F_OUT}]", "subs r7, r7, #1",
            f"str r7, [sp, #{F_NMAIN}]", f"bpl {label}", f"b {head}"]
    return out


def tail_dispatch(s: int, L: str, skips: tuple[int, ...]) -> list[str]:
    """The jump to the tail block of dw_job.tail (r4: k, or k + SKIP for a skipping tail), or (tail 0) the return:
    one TBH over a table of halfword offsets indexed by the tail (0 to the largest value; values no tail takes go
    to the return), 6 cycles whatever the tail."""
    ret = [f"add sp, sp, #{FRAME}", "pop {r4-r11, pc}"]
    targets = {k: f"{L}t{k}" for k in TAILS} | {k + SKIP: f"{L}t{k}s" for k in skips}
    table = [f".hword ({targets.get(i, f'{L}ret')} - {L}tbl) / 2" for i in range(max(targets) + 1)]
    return ["tbh [pc, r4, lsl #1]", f"{L}tbl:", *table, ".balign 2", f"{L}ret:", *ret]


CH_HELD = "r6"  # a register no block of 2 outputs writes (ACC[2]; wregs(2) and row0_s2 leave it)


def function(s: int, rows: int = 3) -> list[str]:
    """One call: every channel's output row, column block by column block (module docstring). The main
    blocks come first, so every block's words are 4-byte aligned (rows start aligned; 6 outputs = 12 s
    bytes of columns). rows = 2: the window's other row is padding (its products 0): the call's two rows
    come in x0, x1, and r2 (the frame's x2) holds the record pointer + dw_job.wrow (the first row's weights)."""
    L = f"tq_dw{s}_" if rows == 3 else f"tq_dw{s}p_"
    out = ["push {r4-r11, lr}", f"add r12, r0, #{J_OUT}", f"sub sp, sp, #{FRAME}", "ldm r12, {r4-r8}",
           *([f"ldr r9, [r0, #{J_WROW}]"] if rows == 2 else []), "stm sp, {r4-r8}", "ldm r0, {r0-r3}",
           f"sub r3, r3, #{REC_AT}", f"str r3, [sp, #{F_REC}]",
           *(["add r2, r3, r9", f"str r2, [sp, #{F_X2}]"] if rows == 2 else []),
           "subs r4, r6, #1", f"bpl {L}go", f"{L}td:", f"ldr r4, [sp, #{F_TAIL}]"]
    skips = SKIP_TAILS if s == 1 else ()
    out += [*tail_dispatch(s, L, skips), f"{L}go:", f"str r4, [sp, #{F_NMAIN}]"]
    out += channel_loop(s, MAIN, f"{L}main", f"{L}td", rows=rows)
    for k in TAILS:
        out += channel_loop(s, k, f"{L}t{k}", None, rows=rows)
    for k in skips:
        out += channel_loop(s, k, f"{L}t{k}s", None, skip=True, rows=rows)
    return out


# copy frame: pixel quads per group, source advance after a group, destination advance after a group,
# the source's end (the first group's pixel 0 + 4 groups: where the advances stop), four zero-point bytes
C_QUADS, C_SADV, C_DADV, C_SEND, C_ZPW = 0, 4, 8, 12, 16
C_FRAME = 24  # 8-byte aligned
# dw_copy's variant tests in order (variant 0 last, the fall-through): the most used first, 1 (odd widths with
# a left padding of 1: KWS DS-CNN's 5-wide rows) and 7 (even widths with a padding of 1 on both sides: every
# MobileNet 3x3 layer of a map 12 or more wide)
DISPATCH = (1, 7, 3, 5, 4, 2, 6)
# variants whose quad loop is unrolled twice (copy_variant): 7, MobileNet's wide rows (a pass costs 2 cycles
# more per group, the branch saved 4 per two quads: a gain from 2 quads up, about 0.1 cycle per element on
# rows of 48 pixels); the others keep one quad per pass (narrow rows, and less code)
PAIRED = (7,)


def extend(lo: str, hi: str, tmp: str) -> list[str]:
    """Words ``lo`` (pixel a) and ``hi`` (pixel b) of 4 channels -> each channel's int16 pair
    (a - zp, b - zp), stored at channel rows 0-3 (r3-r6, post-incremented): PKHBT / PKHTB put
    (a0, a1, b0, b1) and (a2, a3, b2, b3) in one word each (``tmp``, then ``hi``), SXTAB16 (ROR #8)
    extends the even (odd) bytes and adds (-zp, -zp) (r2); ``lo`` takes the stored words."""
    out = [f"pkhbt {tmp}, {lo}, {hi}, lsl #16", f"pkhtb {hi}, {hi}, {lo}, asr #16"]
    for row, (word, ror) in zip(("r3", "r4", "r5", "r6"), ((tmp, ""), (tmp, ", ror #8"), (hi, ""), (hi, ", ror #8"))):
        out += [f"sxtab16 {lo}, r2, {word}{ror}", f"str {lo}, [{row}], #4"]
    return out


def pixels(kinds: str) -> list[str]:
    """Two or four adjacent columns, each "p" (the next pixel of the source, r0 + j ch) or "z" (a padding
    column: four zero-point bytes, 0 after the subtraction), extended and stored as pairs; the loads
    come first (pipelined), then r0 advances past the pixels read (r1 = ch, r8 = 3 ch)."""
    regs = ["r9", "r10", "r11", "r12"][:len(kinds)]
    out, j = [], 0
    for reg, kind in zip(regs, kinds):
        if kind == "z":
            out.append(f"ldr {reg}, [sp, #{C_ZPW}]")
            continue
        out.append(f"ldr {reg}, [r0]" if j == 0 else f"ldr {reg}, [r0, r1]" if j == 1 else
                   f"ldr {reg}, [r0, r1, lsl #1]" if j == 2 else f"ldr {reg}, [r0, r8]")
        j += 1
    out.append({1: "add r0, r0, r1", 2: "add r0, r0, r1, lsl #1", 3: "add r0, r0, r8", 4: "add r0, r0, r1, lsl #2"}[j])
    out += extend("r9", "r10", "lr")
    return out + extend("r11", "r12", "lr") if len(kinds) == 4 else out


def copy_variant(v: int) -> list[str]:
    """One group of variant v = lead + 2 last + 4 odd (lead: a padding column before pixel 0; last: one
    after pixel n - 1; odd: an odd count of pixel pairs between them): the odd pair joins the lead pair
    (a quad z p p p), else the last pair (p p p z), else comes first alone; then the quads (r7 of them),
    then the last pair when it stands alone; then the advance to the next group (the next group's quad
    count loaded with the advances). Variants in PAIRED take the quads two per loop pass (one branch per
    two quads): r7 / 2 passes, entered at the second quad when the count is odd."""
    lead, last, odd = v & 1, (v >> 1) & 1, v >> 2
    head = "zppp" if lead and odd else "zp" if lead else "pp" if odd and not last else ""
    tail = "pppz" if odd and last and not lead else "pz" if last else ""
    if v in PAIRED:
        quads = ["lsrs r7, r7, #1", f"bcs tq_dwc_m{v}", "subs r7, r7, #1", f"bmi tq_dwc_e{v}", f"tq_dwc_q{v}:",
                 *pixels("pppp"), f"tq_dwc_m{v}:", *pixels("pppp"), "subs r7, r7, #1", f"bpl tq_dwc_q{v}"]
    else:
        quads = [f"cbz r7, tq_dwc_e{v}", f"tq_dwc_q{v}:", *pixels("pppp"), "subs r7, r7, #1", f"bne tq_dwc_q{v}"]
    out = [f"tq_dwc_v{v}:", *(pixels(head) if head else []), *quads, f"tq_dwc_e{v}:", *(pixels(tail) if tail else [])]
    return [*out, f"ldr r9, [sp, #{C_SADV}]", f"ldr r10, [sp, #{C_DADV}]", f"ldr r11, [sp, #{C_SEND}]",
            f"ldr r7, [sp, #{C_QUADS}]", "add r0, r0, r9", "add r3, r3, r10", "add r4, r4, r10", "add r5, r5, r10",
            "add r6, r6, r10", "cmp r0, r11", f"bne tq_dwc_v{v}", f"add sp, sp, #{C_FRAME}", "pop {r4-r11, pc}"]


def copy_function() -> list[str]:
    """dw_copy: a row's pixels minus the zero point into each channel's int16 row, four channels per
    group (the C caller does the in_c mod 4 last ones), four pixels (two pairs) per step. Per group: the
    lead pair (zero-point padding, pixel 0) when the padded row's first copied column is odd (so every
    word store is aligned), the pixel pairs, and the odd last pixel paired with zero-point padding (a
    column the windows read as padding or never read); one loop per variant (copy_variant), chosen once."""
    out = ["push {r4-r11, lr}", f"sub sp, sp, #{C_FRAME}", "ldm r0, {r1-r11}",
           # r1 src, r2 ch, r3 nzp2, r4 d0, r5 w, r6 d_adv, r7 s_adv, r8 groups, r9 pairs, r10 zpw, r11 variant
           f"str r7, [sp, #{C_SADV}]", f"str r6, [sp, #{C_DADV}]", "add r12, r1, r8, lsl #2",
           f"str r12, [sp, #{C_SEND}]",
           f"str r10, [sp, #{C_ZPW}]", "lsr r7, r9, #1", f"str r7, [sp, #{C_QUADS}]", "and r12, r9, #1",
           "add r11, r11, r12, lsl #2", "mov r0, r1", "mov r1, r2", "mov r2, r3", "mov r3, r4",
           "add r8, r1, r1, lsl #1", "add r4, r3, r5", "add r6, r4, r5, lsl #1", "add r5, r4, r5"]
    for v in DISPATCH:
        out += [f"cmp r11, #{v}", f"beq tq_dwc_v{v}"]
    for v in range(8):
        out += copy_variant(v)
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
    for s in (1, 2):
        print(f"/* dw_rows2_s{s}: generated by scripts/gen_dw_asm.py */")
        print_macro(f"TQ_DW_ROWS2_S{s}_ASM", function(s, rows=2))
    print("/* dw_copy: generated by scripts/gen_dw_asm.py */")
    print_macro("TQ_DW_COPY_ASM", copy_function())
