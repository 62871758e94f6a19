/*
 * tq_conv2d_s8_pwk.c - the DSP conv's paths for pointwise layers with 16 or 32 input channels (below), published as
 * tq_conv2d_s8_pw16 and tq_conv2d_s8_pw32. The generator ships this file, and sets params->dsp_path to one of them
 * under TQ_USE_DSP, only for default (size) builds with such a layer (tinyqat/codegen/layouts.py, conv_dsp_path,
 * states the conditions), so other builds do not link it. Cores without the DSP extension compile nothing here.
 */
#include "tq_conv_dsp.h"

#if TQ_USE_DSP
#include "tq_dsp.h"

/*
 * Pointwise convs with in_c = K = 16 or 32 (MobileNet's narrow 1 x 1 layers), the paths' layers (the generator's
 * choice): a 1 x 1 window, strides 1, no padding, out_h = in_h, out_w = in_w, requant_fused == 2, out_c a multiple
 * of 4 whose output-stage table (tq_conv_table_fill with bias_scale 2, TQ_CONV_TABLE_GROUP_WORDS words per channel
 * group) fits the scratch. The int8 weight layout of tq_conv2d_s8_dsp.c (K4 = K, P = K / 2 column pairs).
 *
 * Per pixel pair (raster order; the last pixel alone computed twice and written twice at the same place), one call
 * of the path's block, a naked function fully unrolled for its P: the two columns on its own stack, doubled
 * (2 (x - input_zero_point), in column order: SXTAB16 / SXTAB16 ROR #8 of each input word, then SADD16 with itself;
 * |2 (x - zp)| <= 510 fits int16), so every SMLAD sum is 2 acc from the doubled table biases, exactly the input of
 * TQ_REQUANT_FUSED2_FOLDED_ASM (no doubling shift per accumulator). Then per channel group of 4: its biases to
 * r5, r7, r9, r11 and the first pair's SMLADs accumulate onto them (no moves), the P pairs with the columns read
 * sp-relative (immediate offsets, no column pointer: two weight words per pair, all four loads of a pair pipelined,
 * 17 estimated cycles per 16 MACs against the general block's 18), the output stage from the table and the 4 bytes
 * of each pixel stored. The sums equal the general block's doubled (the same integers, see tq_conv2d_s8_dsp.c on
 * the accumulation order; |2 acc| < 2^31 is what requant_fused == 2 guarantees).
 * In-place contract (tq_kernels.h): a pair's input bytes are all read (the columns) before any of its outputs is
 * written, pairs in raster order, as in tq_conv2d_s8_dsp.c's pointwise loop.
 */

/* The block's work (read by the assembly at the byte offsets in the comments; not written). */
typedef struct {
    const int8_t *weights; /*  0: the int8-layout weights */
    const int32_t *table;  /*  4: the output-stage table, doubled biases */
    const int32_t *end;    /*  8: the table's end (out_c / 4 groups) */
    int8_t *out0;          /* 12: pixel 0's first output byte */
    int8_t *out1;          /* 16: pixel 1's (equal to out0 for a last pixel alone) */
} pwk_job;

typedef char tq_pwk_job_out1_at_16[offsetof(pwk_job, out1) == 16 ? 1 : -1];

/* Stack locals of the block below the saved registers: [sp] the table pointer after the group's biases, [sp, #4]
 * out0, [sp, #8] out1 (both advanced by 4 per group), [sp, #12] the table's end; the columns from TQ_PWK_C0 (pixel 0)
 * and TQ_PWK_C0 + 2 K (pixel 1). */
#define TQ_PWK_C0 16

/*
 * Column pair J (an assembler expression) of a group: weights at r1 + 8 J + 4 (r1 = 4 bytes before the group's
 * weights), columns at sp + C0 + 4 J (pixel 0) and sp + C1 + 4 J (pixel 1); S0, S2, S4, S6: the registers the
 * pixel-0 SMLADs accumulate onto (r4, r6, r8, r10; the group's first pair: the biases r5, r7, r9, r11); WB: "!" on
 * the group's last pair (the last load advances r1 to 4 bytes before the next group's weights), else "".
 */
#define TQ_PWK_PAIR(J, C1, S0, S2, S4, S6, WB)                                                     \
    "ldr.w r3, [sp, #(" C1 " + 4 * (" J "))]\n\t"                                                 \
    "ldr.w r2, [sp, #(" TQ_STR(TQ_PWK_C0) " + 4 * (" J "))]\n\t"                                  \
    "ldr.w r0, [r1, #(8 * (" J ") + 4)]\n\t"                                                      \
    "ldr.w lr, [r1, #(8 * (" J ") + 8)]" WB "\n\t"                                                \
    "sxtb16 r12, r0\n\t"                                                                          \
    "smlad r4, r2, r12, " S0 "\n\t"                                                               \
    "smlad r5, r3, r12, r5\n\t"                                                                   \
    "sxtb16 r0, r0, ror #8\n\t"                                                                   \
    "smlad r6, r2, r0, " S2 "\n\t"                                                                \
    "smlad r7, r3, r0, r7\n\t"                                                                    \
    "sxtb16 r12, lr\n\t"                                                                          \
    "smlad r8, r2, r12, " S4 "\n\t"                                                               \
    "smlad r9, r3, r12, r9\n\t"                                                                   \
    "sxtb16 lr, lr, ror #8\n\t"                                                                   \
    "smlad r10, r2, lr, " S6 "\n\t"                                                               \
    "smlad r11, r3, lr, r11\n\t"
#define TQ_PWK_MID(J, C1) TQ_PWK_PAIR(J, C1, "r4", "r6", "r8", "r10", "")
#define TQ_PWK_MID2(J, C1) TQ_PWK_MID(J, C1) TQ_PWK_MID(J "+1", C1)
#define TQ_PWK_MID6(J, C1) TQ_PWK_MID2(J, C1) TQ_PWK_MID2(J "+2", C1) TQ_PWK_MID2(J "+4", C1)
#define TQ_PWK_MID8(J, C1) TQ_PWK_MID2(J, C1) TQ_PWK_MID6(J "+2", C1)

/* 16 input bytes at SRC (advanced) converted and doubled (2 (x - zp), r2 = (-zp, -zp)) to sp + OFF .. OFF + 31. */
#define TQ_PWK_COLUMN16(SRC, OFF)                                                                  \
    TQ_PAIR_CONVERT16_AT(SRC)                                                                     \
    "sadd16 r4, r4, r4\n\t"                                                                       \
    "sadd16 r5, r5, r5\n\t"                                                                       \
    "sadd16 r6, r6, r6\n\t"                                                                       \
    "sadd16 r7, r7, r7\n\t"                                                                       \
    "sadd16 r8, r8, r8\n\t"                                                                       \
    "sadd16 r9, r9, r9\n\t"                                                                       \
    "sadd16 r10, r10, r10\n\t"                                                                    \
    "sadd16 r11, r11, r11\n\t"                                                                    \
    "str r4, [sp, #(" OFF ")]\n\t"                                                                \
    "str r5, [sp, #(" OFF " + 4)]\n\t"                                                            \
    "str r6, [sp, #(" OFF " + 8)]\n\t"                                                            \
    "str r7, [sp, #(" OFF " + 12)]\n\t"                                                           \
    "str r8, [sp, #(" OFF " + 16)]\n\t"                                                           \
    "str r9, [sp, #(" OFF " + 20)]\n\t"                                                           \
    "str r10, [sp, #(" OFF " + 24)]\n\t"                                                          \
    "str r11, [sp, #(" OFF " + 28)]\n\t"

/* One channel's accumulators A, B (2 acc of pixels 0, 1): (q, K, e) from the table at r0 (advanced). */
#define TQ_PWK_OUT_CHANNEL(A, B)                                                                  \
    "ldm r0!, {r2, r3, r12}\n"                                                                    \
    TQ_REQUANT_FUSED2_FOLDED_ASM(A, "r2", "r3", "r12", "lr")                                      \
    TQ_REQUANT_FUSED2_FOLDED_ASM(B, "r2", "r3", "r12", "lr") "\t"

/*
 * The block body for P column pairs (K = 2 P values per column), FRAME = TQ_PWK_C0 + 4 K stack bytes, C1 = the
 * string of pixel 1's column offset, COLUMNS: both columns built (pixel 1's, then pixel 0's), PAIRS: the group's
 * pairs. AAPCS: r0 = pixel 0's input, r1 = pixel 1's, r2 = (-zp, -zp), r3 = the job (pwk_job).
 */
#define TQ_PWK_BLOCK(FRAME, COLUMNS, PAIRS)                                                       \
    "push {r4-r11, lr}\n\t"                                                                       \
    "sub sp, sp, #" FRAME "\n\t"                                                                  \
    COLUMNS                                                                                       \
    "ldr r1, [r3, #0]\n\t"                                                                        \
    "ldr r0, [r3, #4]\n\t"                                                                        \
    "ldr r12, [r3, #8]\n\t"                                                                       \
    "ldr r2, [r3, #12]\n\t"                                                                       \
    "ldr lr, [r3, #16]\n\t"                                                                       \
    "sub r1, r1, #4\n\t"                                                                          \
    "str r12, [sp, #12]\n\t"                                                                      \
    "str r2, [sp, #4]\n\t"                                                                        \
    "str lr, [sp, #8]\n"                                                                          \
    "0:\n\t"                                                                                      \
    "ldm r0!, {r5, r7, r9, r11}\n\t"                                                              \
    "str r0, [sp]\n\t"                                                                            \
    PAIRS                                                                                         \
    "ldr r0, [sp]\n\t"                                                                            \
    TQ_PWK_OUT_CHANNEL("r4", "r5") TQ_PWK_OUT_CHANNEL("r6", "r7")                                 \
    TQ_PWK_OUT_CHANNEL("r8", "r9") TQ_PWK_OUT_CHANNEL("r10", "r11")                               \
    "ldr r2, [sp, #4]\n\t"                                                                        \
    "ldr r3, [sp, #8]\n\t"                                                                        \
    "strb r6, [r2, #1]\n\t"                                                                       \
    "strb r8, [r2, #2]\n\t"                                                                       \
    "strb r10, [r2, #3]\n\t"                                                                      \
    "strb r4, [r2], #4\n\t"                                                                       \
    "strb r7, [r3, #1]\n\t"                                                                       \
    "strb r9, [r3, #2]\n\t"                                                                       \
    "strb r11, [r3, #3]\n\t"                                                                      \
    "strb r5, [r3], #4\n\t"                                                                       \
    "str r2, [sp, #4]\n\t"                                                                        \
    "str r3, [sp, #8]\n\t"                                                                        \
    "ldr r2, [sp, #12]\n\t"                                                                       \
    "cmp r0, r2\n\t"                                                                              \
    "bne 0b\n\t"                                                                                  \
    "add sp, sp, #" FRAME "\n\t"                                                                  \
    "pop {r4-r11, pc}\n\t"

typedef void pwk_block_fn(const int8_t *src0, const int8_t *src1, int32_t nzp2, const pwk_job *job);

/* K = 16 (P = 8): columns at sp + 16 and sp + 48, frame 80 bytes. */
#define TQ_PWK16_C1 "48"
__attribute__((naked, noinline)) static void pwk_block16(TQ_ASM_ARG const int8_t *src0, TQ_ASM_ARG const int8_t *src1,
                                                         TQ_ASM_ARG int32_t nzp2, TQ_ASM_ARG const pwk_job *job)
{
    __asm__ volatile(TQ_PWK_BLOCK(
        "80",
        TQ_PWK_COLUMN16("r1", TQ_PWK16_C1) TQ_PWK_COLUMN16("r0", "16"),
        TQ_PWK_PAIR("0", TQ_PWK16_C1, "r5", "r7", "r9", "r11", "")
        TQ_PWK_MID6("1", TQ_PWK16_C1)
        TQ_PWK_PAIR("7", TQ_PWK16_C1, "r4", "r6", "r8", "r10", "!")));
}

/* K = 32 (P = 16): columns at sp + 16 and sp + 80, frame 144 bytes. */
#define TQ_PWK32_C1 "80"
__attribute__((naked, noinline)) static void pwk_block32(TQ_ASM_ARG const int8_t *src0, TQ_ASM_ARG const int8_t *src1,
                                                         TQ_ASM_ARG int32_t nzp2, TQ_ASM_ARG const pwk_job *job)
{
    __asm__ volatile(TQ_PWK_BLOCK(
        "144",
        TQ_PWK_COLUMN16("r1", TQ_PWK32_C1) TQ_PWK_COLUMN16("r1", TQ_PWK32_C1 " + 32")
        TQ_PWK_COLUMN16("r0", "16") TQ_PWK_COLUMN16("r0", "48"),
        TQ_PWK_PAIR("0", TQ_PWK32_C1, "r5", "r7", "r9", "r11", "")
        TQ_PWK_MID6("1", TQ_PWK32_C1) TQ_PWK_MID8("7", TQ_PWK32_C1)
        TQ_PWK_PAIR("15", TQ_PWK32_C1, "r4", "r6", "r8", "r10", "!")));
}

/* The whole call with `block` (in_c = 2 * its P): the table at the start of the scratch, then a block call per
 * pixel pair. */
static void pwk_run(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output, pwk_block_fn *block)
{
    const int32_t in_c = p->in_c, out_c = p->out_c, pixels = p->out_h * p->out_w;
    const int32_t nzp2 = tq_dup_s16(-p->input_zero_point);
    int32_t *const table = (int32_t *)p->scratch;
    int32_t px;
    pwk_job job;
    tq_conv_table_fill(p, out_c >> 2, 2, table);
    job.weights = p->weights;
    job.table = table;
    job.end = table + TQ_CONV_TABLE_GROUP_WORDS * (out_c >> 2);
    for (px = 0; px < pixels; px += 2) {
        const int8_t *const s0 = input + px * in_c;
        const int32_t two = px + 1 < pixels;
        job.out0 = output + px * out_c;
        job.out1 = two ? job.out0 + out_c : job.out0;
        block(s0, two ? s0 + in_c : s0, nzp2, &job);
    }
}

static void pw16(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    pwk_run(p, input, output, pwk_block16);
}

static void pw32(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    pwk_run(p, input, output, pwk_block32);
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_pw16 = {pw16, NULL};
const tq_conv2d_s8_dsp_path tq_conv2d_s8_pw32 = {pw32, NULL};

#endif /* TQ_USE_DSP */
