/*
 * tq_kernels.h - tinyqat portable int8 kernels: parameter structs and prototypes.
 *
 * Layouts: activations are NHWC with N = 1 (channels last, contiguous int8), conv weights
 * [out_c][kernel_h][kernel_w][in_c], depthwise weights [kernel_h][kernel_w][out_c],
 * fully-connected weights [out_features][in_features].
 * A quantized value q stands for scale * (q - zero_point); zero points are in [-128, 127].
 * Accumulators are int32, as in TensorFlow Lite's reference kernels: a layer must keep
 * |bias| + 255 * 127 * (taps per output) below 2^31 (it does for any realistic layer).
 * Requantization goes through tq_requant.h only. Kernels never allocate and keep no state.
 *
 * The runtime files are identical for a given tinyqat version: a program linking several
 * generated models compiles one copy of each tq_*.c file.
 *
 * In-place contract (the memory planner, tinyqat/memory/planner.py, relies on it):
 * - Window kernels (tq_conv2d_s8 including its 1x1 fast path, tq_depthwise_conv2d_s8,
 *   tq_max_pool2d_s8, tq_avg_pool2d_s8) compute output pixels p = oy * out_w + ox in raster
 *   order, in blocks [s, e) of at most 2 consecutive pixels starting at even s (PIXEL_BLOCK
 *   in planner.py; the portable kernels go pixel by pixel). While computing a block they
 *   read only the input windows of the block's pixels and write only the block's output
 *   pixels (all their channels), never bytes of later blocks. Output pixel p occupies bytes
 *   [p * C_out, (p + 1) * C_out). So the output may start d bytes after the input
 *   (output = input + d, d negative or positive) when, for every block [s, e),
 *   d + e * C_out <= the lowest input byte read by any pixel q >= s, which is
 *   (max(0, oy_q * stride_h - pad_top) * in_w + max(0, ox_q * stride_w - pad_left)) * in_c.
 *   A kernel may also read input earlier than this order says (reading early is always safe) as
 *   long as every byte it reads after writing block [s, e) lies in the window of a pixel q >= s:
 *   the DSP depthwise row path copies the input rows of output row oy's windows (all channels)
 *   before writing row oy, then computes the row channel by channel.
 * - Elementwise kernels (clamp, lookup, add, softmax, log_softmax, mul, prelu) read element i before writing it:
 *   output == input (an add may write over either input, a mul over input1, and over input2 when
 *   it is not broadcast) is allowed, partial overlap is not.
 * - Fully connected and concat need input and output disjoint.
 * - Data movement: tq_reshape_s8 copies element i after reading it and returns at once when
 *   output == input (partial overlap is not allowed); tq_gather_s8 writes output byte
 *   p * out_c + j right after reading input byte p * in_c + index[j], pixel by pixel, so with a
 *   strictly increasing index it may write at output = input + d for any d <= 0;
 *   tq_resize_nearest_s8 needs input and output disjoint.
 * Scratch: the DSP and Armv6-M convs and depthwise convs use scratch memory, a buffer in the arena
 * that the caller passes in the params' scratch field (the memory planner reserves it for that
 * layer's step only, disjoint from every live tensor, for boards whose kernels use it: the board's
 * `kernels`); its size is tq_conv2d_s8_get_buffer_size (TQ_CONV2D_S8_BUFFER_SIZE, the same for DSP
 * and Armv6-M) or tq_depthwise_conv2d_s8_get_buffer_size (TQ_DEPTHWISE_CONV2D_S8_DSP_BUFFER_SIZE or
 * TQ_DEPTHWISE_CONV2D_S8_V6M_BUFFER_SIZE, for the kernels compiled), whose Python twin is
 * tinyqat/memory/planner.py's scratch_bytes. Other kernels use none.
 *
 * Cores with the DSP extension (__ARM_FEATURE_DSP: Cortex-M4, M7, M33) compile
 * tq_conv2d_s8_dsp.c, tq_depthwise_conv2d_s8_dsp.c, tq_fully_connected_s8_dsp.c and tq_add_s8_dsp.c
 * instead of the portable files (one whole-file guard each, #if TQ_USE_DSP / #if !TQ_USE_DSP;
 * -DTQ_PORTABLE keeps the portable ones): the same functions and bit-identical results (SXTB16 /
 * SMLAD, two MACs per instruction). The portable loops of those four kernels live once, in
 * tq_portable.h, which the DSP files call for the cases they leave out. They keep the in-place
 * contract above (the DSP conv computes blocks of 2 pixels, the DSP depthwise row by row or pixel by
 * pixel); the DSP conv builds two int16 im2col columns of K = kernel_h * kernel_w * in_c <=
 * TQ_CONV_DSP_COLUMN_MAX values in params->scratch (larger K, hence scratch NULL, use the portable loop,
 * in tq_conv2d_s8_window.c: params->dsp_path)
 * and reads its weights in an int8 DSP layout (or the int16 speed layout) that the generator ships
 * under TQ_USE_DSP;
 * the DSP depthwise keeps kernel_h (3 or 5) zero-point-padded int16 input rows per channel in
 * params->scratch (TQ_DW_DSP_OK layers; others, or scratch NULL, use its pixel loop).
 *
 * Helium cores (TQ_USE_MVE: Cortex-M55, M85) compile tq_conv2d_s8_mve.c, tq_depthwise_conv2d_s8_mve.c,
 * tq_fully_connected_s8_mve.c, tq_add_s8_mve.c, tq_max_pool2d_s8_mve.c and tq_avg_pool2d_s8_mve.c instead
 * of the portable files (#if TQ_USE_MVE / #if ... !TQ_USE_MVE): the same functions and bit-identical results, each file's comment giving its
 * method; the conv uses the scratch above (two int8 columns and per-channel sums, within
 * TQ_CONV2D_S8_BUFFER_SIZE), the others none; the pools compute blocks of one pixel, the depthwise of one (two
 * adjacent pixels of an 8-channel layer at stride 1, from an even pixel index).
 *
 * Armv6-M cores (TQ_USE_V6M: Cortex-M0 / M0+) compile tq_conv2d_s8_v6m.c instead of tq_conv2d_s8.c
 * (#if TQ_USE_V6M / #if !TQ_USE_DSP && !TQ_USE_V6M): the same function and bit-identical results from
 * an int32 im2col column in params->scratch (4 * K bytes, within the buffer size above) and
 * weights_v6m, four output channels per Thumb-1 assembly block, pixel by pixel (the in-place contract
 * above); likewise tq_depthwise_conv2d_s8_v6m.c, channel by channel from a uint8 plane in
 * params->scratch (its file comment shows why that keeps every in-place placement the contract
 * allows exact, and when it runs the portable loop instead), tq_fully_connected_s8_v6m.c (four rows per
 * pass over the input, from its own weight layout) and tq_add_s8_v6m.c. Every Armv6-M output stage is tq_requantize_s8_v6m (no 64-bit multiply).
 */
#ifndef TQ_KERNELS_H
#define TQ_KERNELS_H

#include <stdint.h>

/* Version of these runtime files (major * 10000 + minor * 100 + patch of the tinyqat that wrote
 * them; tinyqat/target.py RUNTIME_VERSION): every generated <name>.c checks it with #error. A generated
 * package's copy of this file also defines TQ_RUNTIME_ID after it, the fingerprint of the runtime files
 * (tinyqat/codegen/emit.py runtime_id), which <name>.c checks too: two builds of one version may differ. */
#define TQ_RUNTIME_VERSION 100

/* 1 where the tq_*_s8_dsp.c kernels are compiled (DSP extension, no Helium, no -DTQ_PORTABLE), else 0: the
 * one definition of that choice; every runtime file tests it (#if TQ_USE_DSP / #if !TQ_USE_DSP), and
 * generated weight files select the weight layouts they need with it. */
#if defined(__ARM_FEATURE_DSP) && !defined(__ARM_FEATURE_MVE) && !defined(TQ_PORTABLE)
#define TQ_USE_DSP 1
#else
#define TQ_USE_DSP 0
#endif

/* 1 where the tq_*_s8_mve.c kernels are compiled (Helium, the M-profile vector extension, integer
 * part: Armv8.1-M Cortex-M55, M85; and no -DTQ_PORTABLE), else 0; used like TQ_USE_DSP. Such cores
 * also have the DSP extension, but TQ_USE_DSP is 0 there: each kernel with an _mve file runs it,
 * every other kernel its portable file (no DSP weight layouts are shipped for them). */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(TQ_PORTABLE)
#define TQ_USE_MVE 1
#else
#define TQ_USE_MVE 0
#endif

/* 1 where the tq_*_s8_v6m.c kernels are compiled (Armv6-M, i.e. Thumb-1 only: Cortex-M0, M0+, M1, and the
 * Thumb-1-only Armv8-M Baseline (Cortex-M23), whose instructions they use; and no -DTQ_PORTABLE), else 0: the one definition of that choice, used like TQ_USE_DSP (never both 1).
 * Those cores have MULS (32 x 32 -> 32) and no 64-bit multiply: where TQ_USE_V6M is 1 every output
 * stage is tq_requantize_s8_v6m / tq_mbqm_v6m (tq_requant.h), no __aeabi_lmul call. */
#if (defined(__ARM_ARCH_6M__) || (defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB == 1 && !defined(__ARM_ARCH_ISA_ARM))) && !defined(TQ_PORTABLE)
#define TQ_USE_V6M 1
#else
#define TQ_USE_V6M 0
#endif
#if TQ_USE_DSP + TQ_USE_V6M + TQ_USE_MVE > 1
#error "TQ_USE_DSP, TQ_USE_V6M and TQ_USE_MVE are exclusive: one optimized kernel family per core"
#endif
/* The DSP and Armv6-M kernels and their weight layouts read int8 data a word at a time, little-endian
 * (the portable kernels go byte by byte and work on any byte order). */
#if (TQ_USE_DSP || TQ_USE_V6M || TQ_USE_MVE) && (defined(__ARM_BIG_ENDIAN) || (defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__))
#error "tinyqat's Cortex-M kernels need a little-endian target; compile with -DTQ_PORTABLE for a big-endian one"
#endif

/* Largest K = kernel_h * kernel_w * in_c of the DSP conv's fast path (3 x 3 x 64, ResNet-8's widest
 * conv); tinyqat/codegen/layouts.py's CONV_DSP_COLUMN_MAX is the same number. */
#define TQ_CONV_DSP_COLUMN_MAX 576

/*
 * Scratch bytes of tq_conv2d_s8 (int8 weights) for a kernel_h x kernel_w x in_c window, the same
 * on every core (the planned arena does not depend on the core the package is compiled for):
 * K = kernel_h * kernel_w * in_c; 0 when K > TQ_CONV_DSP_COLUMN_MAX (no fast path), else
 * 2 * (TQ_CONV_DSP_COLUMN_MAX + K4), K4 = K rounded up to a multiple of 4: the DSP conv's two int16
 * columns, pixel 1's at the fixed offset TQ_CONV_DSP_COLUMN_MAX values (an immediate of its assembly
 * blocks), each K values plus K4 - K zeros. A multiple of 4; the buffer must be 4-byte aligned.
 * Portable builds ignore the buffer. Python twin: tinyqat/memory/planner.py, scratch_bytes.
 */
/* K = kh * kw * c; one-line macros (tests read this header's declarations line by line). */
#define TQ_CONV_DSP_K(kh, kw, c) ((int32_t)(kh) * (int32_t)(kw) * (int32_t)(c))
/* K rounded up to a multiple of 4: a DSP conv column's values (zeros after K); its SMLAD pairs are half. */
#define TQ_CONV_DSP_K4(k) (((k) + 3) & ~3)
#define TQ_CONV2D_S8_BUFFER_SIZE(kh, kw, c) (TQ_CONV_DSP_K(kh, kw, c) > TQ_CONV_DSP_COLUMN_MAX ? 0 : 2 * (TQ_CONV_DSP_COLUMN_MAX + TQ_CONV_DSP_K4(TQ_CONV_DSP_K(kh, kw, c))))

/*
 * The DSP conv's pw8 path (tq_conv2d_s8_pw8.c: 1 x 1 windows on 8 channels, strides 1, no padding, out_c a multiple
 * of 4, requant_fused 2; the generator's choice, tinyqat/codegen/layouts.py conv_dsp_path) needs its out_c channel
 * records of TQ_CONV_PW8_WORDS int32 words and one chunk of TQ_CONV_PW8_CHUNK pixels as SXTB16 pairs (16 bytes
 * each): TQ_CONV_PW8_BUFFER_SIZE(out_c) = 32 out_c + 512 bytes, more than the columns' rule (1168 bytes for K = 8)
 * from 21 channels on. The DSP scratch of a conv, TQ_CONV2D_S8_DSP_BUFFER_SIZE, is the larger of the two for every
 * window of K = 8 values with requant_fused 2 (the pw8 layers among them: a rule of two fields keeps
 * tq_conv2d_s8_get_buffer_size, which every package with a conv ships, small; the other such layers, strided or
 * padded 8-channel pointwise and 2 x 2 x 2 or 1 x 2 x 4 windows, leave the extra bytes unused), the columns' rule
 * for the others. Python twin: tinyqat/memory/planner.py, scratch_bytes (pw8_scratch_bytes).
 */
#define TQ_CONV_PW8_WORDS 8
#define TQ_CONV_PW8_CHUNK 32
#define TQ_CONV_PW8_BUFFER_SIZE(out_c) (4 * TQ_CONV_PW8_WORDS * (int32_t)(out_c) + 16 * TQ_CONV_PW8_CHUNK)
#define TQ_CONV2D_S8_DSP_BUFFER_SIZE(kh, kw, c, out_c, fused) (TQ_CONV_DSP_K(kh, kw, c) == 8 && (fused) == 2 && TQ_CONV_PW8_BUFFER_SIZE(out_c) > TQ_CONV2D_S8_BUFFER_SIZE(1, 1, 8) ? TQ_CONV_PW8_BUFFER_SIZE(out_c) : TQ_CONV2D_S8_BUFFER_SIZE(kh, kw, c))

/*
 * Scratch bytes of the DSP tq_depthwise_conv2d_s8: nonzero only for its
 * row path (tq_depthwise_conv2d_s8_dsp.c), a 3x3 or 5x5 (out_w >= 6) window with depth multiplier 1, strides in {1, 2},
 * pad_top and pad_left <= kernel - 1 and requant_fused != 0: a ring of kernel_h int16 rows of TQ_DW_DSP_WP
 * values per channel (the padded input row, even length): 2 * kernel_h * WP * in_c bytes, a multiple of 4.
 * The row path's per-channel records (TQ_DW_DSP_CHANNEL_WORDS (10) words for 3x3, TQ_DW_DSP5_CHANNEL_WORDS
 * (24) for 5x5: paired weights and output-stage constants) are built at build time and read from flash
 * (params->records).
 * Python twin: tinyqat/memory/planner.py, scratch_bytes.
 */
#define TQ_DW_DSP_CHANNEL_WORDS 10
#define TQ_DW_DSP5_CHANNEL_WORDS 24
/* Padded row length (int16 values): the last window's columns plus one, rounded up to even. */
#define TQ_DW_DSP_WP(out_w, sw, kw) (((((int32_t)(out_w) - 1) * (int32_t)(sw) + (int32_t)(kw) + 1) + 1) & ~1)
/* 5x5 windows take the row path from this output width on. Narrower rows run the pixel loop: its int8 weights take
 * 37 bytes a channel (weights, bias, multiplier, shift) where the row path's records take 96, and the row path would
 * take ~3 % off MobileNetV3-small's cycles (its 3- and 6-wide rows) for 42 KB more flash (measured, helper s9-dw5). */
#define TQ_DW_DSP5_MIN_OUT_W 6
#define TQ_DW_DSP_OK(kh, kw, m, sh, sw, pt, pl, fused, out_w) ((kh) == (kw) && ((kh) == 3 || ((kh) == 5 && (out_w) >= TQ_DW_DSP5_MIN_OUT_W)) && (m) == 1 && ((sh) == 1 || (sh) == 2) && ((sw) == 1 || (sw) == 2) && (pt) < (kh) && (pl) < (kw) && (fused) != 0)
#define TQ_DEPTHWISE_CONV2D_S8_DSP_BUFFER_SIZE(kh, kw, m, sh, sw, pt, pl, fused, in_c, out_w) (TQ_DW_DSP_OK(kh, kw, m, sh, sw, pt, pl, fused, out_w) ? 2 * (int32_t)(kh) * TQ_DW_DSP_WP(out_w, sw, kw) * (int32_t)(in_c) : 0)

/*
 * Scratch bytes of the Armv6-M tq_depthwise_conv2d_s8 (int8 weights): its plane of one channel,
 * plane_h * plane_w bytes with plane_h = (out_h - 1) * stride_h + kernel_h and plane_w likewise,
 * rounded up to a multiple of 4; 0 (no fast path) when the plane exceeds TQ_DEPTHWISE_V6M_PLANE_MAX
 * bytes. The planner reserves it only for Armv6-M boards. Python twin:
 * tinyqat/memory/planner.py, scratch_bytes.
 */
#define TQ_DEPTHWISE_V6M_PLANE_MAX 8192
#define TQ_DEPTHWISE_V6M_PLANE(oh, ow, kh, kw, sh, sw) ((((int32_t)(oh) - 1) * (int32_t)(sh) + (int32_t)(kh)) * (((int32_t)(ow) - 1) * (int32_t)(sw) + (int32_t)(kw)))
#define TQ_DEPTHWISE_CONV2D_S8_V6M_BUFFER_SIZE(oh, ow, kh, kw, sh, sw) (TQ_DEPTHWISE_V6M_PLANE(oh, ow, kh, kw, sh, sw) > TQ_DEPTHWISE_V6M_PLANE_MAX ? 0 : (TQ_DEPTHWISE_V6M_PLANE(oh, ow, kh, kw, sh, sw) + 3) & ~3)

/* The DSP conv's int16 speed-layout blocks (opaque here; runtime_c/tq_conv_dsp.h), defined as
 * tq_conv2d_s8_speed in tq_conv2d_s8_speed.c on cores with the DSP extension. */
typedef struct tq_conv2d_s8_speed_blocks tq_conv2d_s8_speed_blocks;
extern const tq_conv2d_s8_speed_blocks tq_conv2d_s8_speed;
/* The same with the doubled int16 layout (tinyqat/codegen/layouts.py, speed_doubled). */
extern const tq_conv2d_s8_speed_blocks tq_conv2d_s8_speed_x2;

/* The DSP conv's paths that live in runtime files of their own (opaque here; runtime_c/tq_conv_dsp.h), on cores
 * with the DSP extension: tq_conv2d_s8_window (tq_conv2d_s8_window.c), tq_conv2d_s8_pw8 (tq_conv2d_s8_pw8.c),
 * tq_conv2d_s8_fused1 and tq_conv2d_s8_fast (tq_conv2d_s8_stages.c), tq_conv2d_s8_first (tq_conv2d_s8_first.c) and
 * tq_conv2d_s8_first16 (tq_conv2d_s8_first16.c), tq_conv2d_s8_pw16, tq_conv2d_s8_pw32 and tq_conv2d_s8_pw64
 * (tq_conv2d_s8_pw16.c, tq_conv2d_s8_pw32.c, tq_conv2d_s8_pw64.c), tq_conv2d_s8_pws16, _pws32, _pws64 and _pws128
 * (tq_conv2d_s8_pws16.c, ..., speed builds). */
typedef struct tq_conv2d_s8_dsp_path tq_conv2d_s8_dsp_path;
extern const tq_conv2d_s8_dsp_path tq_conv2d_s8_window, tq_conv2d_s8_pw8, tq_conv2d_s8_fused1, tq_conv2d_s8_fast;
extern const tq_conv2d_s8_dsp_path tq_conv2d_s8_first, tq_conv2d_s8_first16, tq_conv2d_s8_pw16, tq_conv2d_s8_pw32;
extern const tq_conv2d_s8_dsp_path tq_conv2d_s8_pw64;
extern const tq_conv2d_s8_dsp_path tq_conv2d_s8_pws16, tq_conv2d_s8_pws32, tq_conv2d_s8_pws64, tq_conv2d_s8_pws128;
/* The DSP depthwise's path in a runtime file of its own (tq_dsp.h; tq_depthwise_conv2d_s8_rows5.c): 5x5 windows;
 * tq_depthwise_conv2d_s8_copy<n>.c: the row copy of a stride-2 3x3 layer with input rows of n pixels. */
typedef struct tq_depthwise_conv2d_s8_dsp_path tq_depthwise_conv2d_s8_dsp_path;
extern const tq_depthwise_conv2d_s8_dsp_path tq_depthwise_conv2d_s8_rows5, tq_depthwise_conv2d_s8_copy6;
extern const tq_depthwise_conv2d_s8_dsp_path tq_depthwise_conv2d_s8_copy8, tq_depthwise_conv2d_s8_copy12;
extern const tq_depthwise_conv2d_s8_dsp_path tq_depthwise_conv2d_s8_copy16, tq_depthwise_conv2d_s8_copy24;
extern const tq_depthwise_conv2d_s8_dsp_path tq_depthwise_conv2d_s8_copy48;
extern const tq_depthwise_conv2d_s8_dsp_path tq_depthwise_conv2d_s8_copy3s1, tq_depthwise_conv2d_s8_copy5s1;
extern const tq_depthwise_conv2d_s8_dsp_path tq_depthwise_conv2d_s8_copy4s1, tq_depthwise_conv2d_s8_copy6s1;
extern const tq_depthwise_conv2d_s8_dsp_path tq_depthwise_conv2d_s8_copy8s1, tq_depthwise_conv2d_s8_copy12s1;
extern const tq_depthwise_conv2d_s8_dsp_path tq_depthwise_conv2d_s8_copy24s1;

/*
 * 2-D convolution, groups = 1, dilation 1 (TFLite reference_integer_ops::ConvPerChannel).
 * For output pixel (oy, ox) and channel c:
 *   acc = bias[c] + sum over in-bounds taps (iy, ix) of
 *         weights[c][ky][kx][i] * (input[iy][ix][i] - input_zero_point),
 *   iy = oy * stride_h - pad_top + ky, ix = ox * stride_w - pad_left + kx;
 *   output = clamp(mbqm(acc, multiplier[c], shift[c]) + output_zero_point, act_min, act_max).
 * Skipping out-of-bounds taps equals padding the input with its zero point. The bottom and
 * right padding only set the output size: out_h = (in_h + pad_top + pad_bottom - kernel_h)
 * / stride_h + 1 (same for the width), so they are implied by out_h / out_w.
 * Pointwise fast path: a 1x1 kernel with stride 1 and no padding runs a tight per-channel
 * dot product, acc = bias[c] + sum_i w[c][i] * x[i] - input_zero_point * sum_i w[c][i]
 * (the same integer, hence the same output; selected inside tq_conv2d_s8).
 */
typedef struct {
    int32_t in_h, in_w, in_c;          /* input (in_h, in_w, in_c), all >= 1 */
    int32_t out_h, out_w, out_c;       /* output (out_h, out_w, out_c), all >= 1 */
    int32_t kernel_h, kernel_w;        /* window in input pixels, >= 1 */
    int32_t stride_h, stride_w;        /* >= 1 */
    int32_t pad_top, pad_left;         /* zero-point padding in input pixels, >= 0 */
    int32_t input_zero_point;          /* [-128, 127] */
    int32_t output_zero_point;         /* [-128, 127] */
    int32_t act_min, act_max;          /* -128 <= act_min <= act_max <= 127 */
    /* 1 when the optimized kernels may use a fused output stage (tq_requantize_s8_fused on DSP cores,
     * tq_requantize_s8_v6m_fused on Armv6-M; tq_requant.h) for every channel: every shift[c] in
     * [-31, -1] and |bias[c]| <= 2^30 - 1 - 32385 * taps (taps: products per output), so every
     * accumulator lies in [-2^30, 2^30 - 1]. Decided by the generator (tinyqat/fixedpoint.py,
     * fused_requant_ok); 0 is always correct. 2: the same, the output range is the full int8 range
     * (act_min = -128, act_max = 127; the DSP conv clamps with one SSAT) and every right shift -shift[c] is
     * at most TQ_FUSED2_OFFSET_E_MAX (22; its folded output stage). Portable kernels ignore it. */
    int32_t requant_fused;
    /* [out_c][kernel_h][kernel_w][in_c], values in [-127, 127]; with the DSP kernels and scratch, the
     * int8 layout of tinyqat/codegen/layouts.py (conv_weights_dsp) instead (the generator chooses). */
    const int8_t *weights;
    const int32_t *bias;               /* [out_c], scale input_scale * weight_scale[c] */
    const int32_t *multiplier;         /* [out_c], in [0, 2^31 - 1] */
    const int32_t *shift;              /* [out_c], in [-31, 30] */
    /* NULL, or (DSP kernel, tinyqat build --optimize speed) the weights pre-extended to int16 in
     * the DSP conv's column order, read instead of weights (layout: tq_conv2d_s8_dsp.c; Python
     * twin: tinyqat/codegen/layouts.py). Portable kernels ignore it. */
    const int16_t *weights_s16;
    /* NULL, or tq_conv2d_s8_get_buffer_size(params) bytes, 4-byte aligned, that the kernel may
     * overwrite during the call (the DSP conv's columns; never overlapping input or output).
     * Portable kernels ignore it; the DSP conv with NULL runs its portable loop (params->dsp_path). */
    void *scratch;
    /* NULL, or (Armv6-M kernel, packages planned for an Armv6-M board) the weights in the Armv6-M
     * layout, w + 128 as uint8 interleaved by groups of four channels (layout: tq_conv2d_s8_v6m.c;
     * Python twin: tinyqat/codegen/layouts.py), read instead of weights; set only together with
     * scratch. Other kernels ignore it. */
    const uint8_t *weights_v6m;
    /* NULL, or (DSP kernel, set together with weights_s16, and required with it unless dsp_path names a path
     * that runs the whole call: those read weights_s16 themselves) &tq_conv2d_s8_speed (or
     * &tq_conv2d_s8_speed_x2 when weights_s16 holds the doubled layout): the
     * blocks that read the int16 speed layout, in tq_conv2d_s8_speed.c, which only packages with such layers
     * ship (a default build links none of that code, nor a speed build whose speed layers all have such a
     * path). Other kernels ignore it. */
    const tq_conv2d_s8_speed_blocks *speed_blocks;
    /* The DSP conv's path in a runtime file of its own, set by the generator under TQ_USE_DSP (other kernels
     * ignore it) and required where the layer needs one (tinyqat/codegen/layouts.py, conv_dsp_path):
     * &tq_conv2d_s8_window when scratch is NULL (the portable window loop), &tq_conv2d_s8_pw8 for the 8-channel
     * pointwise path (tq_conv2d_s8_dsp.c), &tq_conv2d_s8_pw16 / pw32 / pw64 for 16 / 32 / 64-channel
     * pointwise layers in default builds (tq_conv2d_s8_pw16.c ...), &tq_conv2d_s8_first / &tq_conv2d_s8_first16 (with weights_s16)
     * for 3 x 3 x 3 windows with requant_fused 2,
     * &tq_conv2d_s8_fused1 / &tq_conv2d_s8_fast for requant_fused 1 / 0 with scratch; NULL otherwise (requant_fused 2
     * with scratch). A default build links only the paths its
     * layers use. */
    const tq_conv2d_s8_dsp_path *dsp_path;
} tq_conv2d_s8_params;

/*
 * Depthwise convolution with depth multiplier m, dilation 1 (TFLite
 * reference_integer_ops::DepthwiseConvPerChannel). out_c = in_c * m; output channel c reads
 * input channel c / m. For output pixel (oy, ox) and channel c:
 *   acc = bias[c] + sum over in-bounds taps (iy, ix) of
 *         weights[ky][kx][c] * (input[iy][ix][c / m] - input_zero_point),
 *   iy = oy * stride_h - pad_top + ky, ix = ox * stride_w - pad_left + kx;
 *   output = clamp(mbqm(acc, multiplier[c], shift[c]) + output_zero_point, act_min, act_max).
 * Padding as for tq_conv2d_s8 (bottom / right implied by out_h / out_w).
 */
typedef struct {
    int32_t in_h, in_w, in_c;          /* input (in_h, in_w, in_c), all >= 1 */
    int32_t out_h, out_w;              /* output (out_h, out_w, in_c * depth_multiplier), >= 1 */
    int32_t depth_multiplier;          /* m >= 1 */
    int32_t kernel_h, kernel_w;        /* window in input pixels, >= 1 */
    int32_t stride_h, stride_w;        /* >= 1 */
    int32_t pad_top, pad_left;         /* zero-point padding in input pixels, >= 0 */
    int32_t input_zero_point;          /* [-128, 127] */
    int32_t output_zero_point;         /* [-128, 127] */
    int32_t act_min, act_max;          /* -128 <= act_min <= act_max <= 127 */
    /* As tq_conv2d_s8_params.requant_fused with taps = kernel_h * kernel_w (1: the fused output stages
     * apply; 0 is always correct), and 2 only when, besides, the output range is the full int8 range
     * and every right shift -shift[c] is at most TQ_FUSED2_OFFSET_E_MAX (22): the DSP row path's
     * assembly output stage (tq_requantize_s8_fused2_folded). Decided by the generator. */
    int32_t requant_fused;
    const int8_t *weights;             /* [kernel_h][kernel_w][in_c * m], values in [-127, 127] */
    const int32_t *bias;               /* [in_c * m], scale input_scale * weight_scale[c] */
    const int32_t *multiplier;         /* [in_c * m], in [0, 2^31 - 1] */
    const int32_t *shift;              /* [in_c * m], in [-31, 30] */
    /* NULL, or tq_depthwise_conv2d_s8_get_buffer_size(params) bytes, 4-byte aligned, that the kernel
     * may overwrite during the call (the DSP kernel's int16 rows, the Armv6-M kernel's channel plane;
     * never overlapping input or output). Portable kernels ignore it; the DSP kernel with NULL runs its
     * per-pixel loop, the Armv6-M kernel its portable loop. */
    void *scratch;
    /* NULL, or (DSP kernel, layers with scratch; the generator ships it under TQ_USE_DSP instead of
     * weights, bias, multiplier and shift) the row path's channel records, TQ_DW_DSP_CHANNEL_WORDS
     * (3x3) or TQ_DW_DSP5_CHANNEL_WORDS (5x5) words per channel (layout: tq_depthwise_conv2d_s8_dsp.c; Python twin: tinyqat/codegen/layouts.py,
     * dw_records). The DSP kernel runs its row path only with scratch and records. Or (Helium kernel, depth
     * multiplier 1, 8-bit; the generator ships it under TQ_USE_MVE instead of those four arrays) the channel-group
     * records of tq_depthwise_conv2d_s8_mve.c (layouts.py, dw_records_mve); NULL there: the portable loop. Other
     * kernels ignore it. */
    const int32_t *records;
    /* NULL, or (DSP kernel, set by the generator under TQ_USE_DSP and required for a 5x5 layer with records)
     * &tq_depthwise_conv2d_s8_rows5, the row path's 5x5 functions in a runtime file of their own, which only
     * packages with such a layer ship (tinyqat/codegen/layouts.py, dw_dsp_path); or (3x3 stride-2 layers of the
     * input widths n of layouts.DW_COPY_WIDTHS, optional) &tq_depthwise_conv2d_s8_copy<n>, the row copy for
     * that width, likewise; (3x3 stride-1 layers of layouts.DW_COPY_S1_WIDTHS) &tq_depthwise_conv2d_s8_copy<n>s1.
     * Other kernels ignore it. */
    const tq_depthwise_conv2d_s8_dsp_path *dsp_path;
} tq_depthwise_conv2d_s8_params;

/*
 * Fully connected, per output channel (TFLite reference_integer_ops::FullyConnected):
 *   acc = bias[c] + sum_i weights[c][i] * (input[i] - input_zero_point);
 *   output[c] = clamp(mbqm(acc, multiplier[c], shift[c]) + output_zero_point, act_min, act_max).
 */
typedef struct {
    int32_t in_features;               /* >= 1 (input flattened channels last) */
    int32_t out_features;              /* >= 1 */
    int32_t input_zero_point;          /* [-128, 127] */
    int32_t output_zero_point;         /* [-128, 127] */
    int32_t act_min, act_max;          /* -128 <= act_min <= act_max <= 127 */
    /* 1 when the DSP kernel may use the fused output stage (tq_requantize_s8_fused, tq_requant.h) for
     * every channel: every shift[c] in [-31, -1] and |bias[c]| <= 2^30 - 1 - 32385 * in_features, so
     * every accumulator lies in [-2^30, 2^30 - 1]. Decided by the generator (tinyqat/fixedpoint.py,
     * fused_requant_ok, taps = in_features); 0 is always correct. Portable kernels ignore it. */
    int32_t requant_fused;
    const int8_t *weights;             /* [out_features][in_features], values in [-127, 127] */
    const int32_t *bias;               /* [out_features] */
    const int32_t *multiplier;         /* [out_features], in [0, 2^31 - 1] */
    const int32_t *shift;              /* [out_features], in [-31, 30] */
    /* NULL, or (DSP kernel, set together with dsp_path = &tq_fully_connected_s8_general) the weights in its
     * row-pair layout (in_features * out_features bytes; tq_fully_connected_s8_general.c, Python
     * twin tinyqat/codegen/layouts.py) and bias_dsp[c] = bias[c] - input_zero_point * sum_i
     * weights[c][i], read instead of weights and bias. Other kernels ignore them. */
    const int8_t *weights_dsp;
    const int32_t *bias_dsp;           /* [out_features] */
    /* NULL, or (DSP kernel, set together with weights_dsp) the pairs (multiplier[c], -shift[c] - 1),
     * [2 * out_features], read instead of multiplier and shift. Portable kernels ignore it. */
    const int32_t *requant_dsp;
    /* NULL, or (Armv6-M kernel, packages planned for an Armv6-M board; set together) the weights + 128 as
     * uint8 in row groups of four (the conv's Armv6-M layout with K = in_features) and bias_v6m[c] = bias[c] -
     * input_zero_point * sum_i weights[c][i], read instead of weights and bias (tq_fully_connected_s8_v6m.c;
     * Python twins tinyqat/codegen/layouts.py, v6m_weights and fc_bias_dsp). Other kernels ignore them. */
    const uint8_t *weights_v6m;
    const int32_t *bias_v6m;           /* [out_features] */
    /* NULL, or (DSP kernel, set together with dsp_path; weights_dsp, bias_dsp and requant_dsp are NULL then) the
     * records that dsp_path reads (tq_fully_connected_s8_rows8.c, _k8.c, _pairs.c, _rows8p.c, _rows8q.c; Python twins
     * tinyqat/codegen/layouts.py, fc_rows8_records, fc_k8_records, fc_pairs_records, fc_rows8p_records and
     * fc_rows8q_records). Other kernels ignore it. */
    const int32_t *records;
    /* NULL (the DSP kernel runs the portable loop), or (DSP kernel; the generator sets it under TQ_USE_DSP for every
     * 8-bit layer, tinyqat/codegen/layouts.py fc_dsp_path) &tq_fully_connected_s8_general (any layer, with
     * weights_dsp, bias_dsp and requant_dsp), or &tq_fully_connected_s8_rows8, &tq_fully_connected_s8_k8,
     * &tq_fully_connected_s8_pairs, &tq_fully_connected_s8_rows8p or &tq_fully_connected_s8_rows8q (short layers with
     * the full int8 output range, with records), each in a runtime file of its own (tq_fully_connected_s8_general.c,
     * _rows8.c, _k8.c, _pairs.c, _rows8p.c, _rows8q.c), which a package ships only with such a layer.
     * Other kernels ignore it. */
    const struct tq_fully_connected_s8_dsp_path *dsp_path;
} tq_fully_connected_s8_params;

/* The DSP FC's path in a runtime file of its own (params->dsp_path): run computes tq_fully_connected_s8's result. */
struct tq_fully_connected_s8_dsp_path {
    void (*run)(const tq_fully_connected_s8_params *params, const int8_t *input, int8_t *output);
};
extern const struct tq_fully_connected_s8_dsp_path tq_fully_connected_s8_general, tq_fully_connected_s8_rows8,
    tq_fully_connected_s8_k8, tq_fully_connected_s8_pairs, tq_fully_connected_s8_rows8p, tq_fully_connected_s8_rows8q;

/*
 * Max pooling over in-bounds taps (padding never wins, as PyTorch's -inf padding):
 *   output[oy][ox][c] = max input[iy][ix][c], iy in [oy * stride_h - pad_top, + kernel_h),
 *   ix in [ox * stride_w - pad_left, + kernel_w), clipped to the input.
 * out_h / out_w are given (PyTorch ceil_mode sizes allowed); every window must hold at
 * least one in-bounds tap. Output keeps the input's quantization.
 */
typedef struct {
    int32_t in_h, in_w, channels;      /* input (in_h, in_w, channels), all >= 1 */
    int32_t out_h, out_w;              /* output (out_h, out_w, channels), all >= 1 */
    int32_t kernel_h, kernel_w;        /* >= 1 */
    int32_t stride_h, stride_w;        /* >= 1 */
    int32_t pad_top, pad_left;         /* symmetric padding, <= kernel / 2 */
} tq_max_pool2d_s8_params;

/* Elementwise clamp: output[i] = min(max(input[i], lo), hi); may run in place. */
typedef struct {
    int32_t size;                      /* number of int8 elements, >= 1 */
    int32_t lo, hi;                    /* -128 <= lo <= hi <= 127 */
} tq_clamp_s8_params;

/*
 * Average pooling as PyTorch's AvgPool2d (no zero-point subtraction; output keeps the
 * input's quantization). Window rows [y0, y0 + kernel_h), y0 = oy * stride_h - pad_top;
 * columns likewise. A tap is counted when it lies in the input, or, with
 * count_include_pad, in the declared padding (rows [-pad_top, in_h + pad_top), columns
 * [-pad_left, in_w + pad_left)); ceil-mode overhang past that never counts. Counted padded
 * taps stand for real 0, i.e. the zero point:
 *   acc = sum of in-bounds input + zero_point * (counted padded taps), n = counted taps,
 *   output = clamp(acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n, -128, 127)
 * (C division: rounding half away from zero, as TFLite's int8 average pool). Without
 * count_include_pad this is TFLite's rule (n = in-bounds taps); with it, PyTorch's default.
 * Every window holds at least one in-bounds tap (PyTorch's output size rule).
 */
typedef struct {
    int32_t in_h, in_w, channels;      /* input (in_h, in_w, channels), all >= 1 */
    int32_t out_h, out_w;              /* output (out_h, out_w, channels), all >= 1 */
    int32_t kernel_h, kernel_w;        /* >= 1 */
    int32_t stride_h, stride_w;        /* >= 1 */
    int32_t pad_top, pad_left;         /* symmetric padding, <= kernel / 2 */
    int32_t count_include_pad;         /* 1: padded taps count (PyTorch default), 0: they do not */
    int32_t zero_point;                /* [-128, 127], input and output */
} tq_avg_pool2d_s8_params;

/*
 * Elementwise add (TFLite int8 ADD) or subtract (subtract = 1: TFLite int8 SUB, input1 - input2; subtract = 2:
 * input2 - input1, TFLite's SUB(input2, input1) for g - x with the broadcast g as input2) of
 * input1 (size elements: positions x channels) and input2, which is either the same shape
 * (broadcast = 0) or one row of channels read at every position (broadcast = 1: input2[c]);
 * L = left_shift (20), element i at channel c = i % channels:
 *   a = mbqm((input1[i] - input1_zero_point) * 2^L, multiplier1, shift1),
 *   b = mbqm((input2[broadcast ? c : i] - input2_zero_point) * 2^L, multiplier2, shift2),
 *   output[i] = clamp(mbqm(sat32(subtract == 2 ? b - a : subtract ? a - b : a + b), output_multiplier, output_shift)
 *                     + output_zero_point, act_min, act_max).
 */
typedef struct {
    int32_t size;                      /* elements per input and output, >= 1 */
    int32_t left_shift;                /* L in [0, 22] so (x - zp) * 2^L fits int32 */
    int32_t input1_zero_point;         /* [-128, 127] */
    int32_t input2_zero_point;         /* [-128, 127] */
    int32_t output_zero_point;         /* [-128, 127] */
    int32_t multiplier1, shift1;       /* QM(s1 / t), t = 2 * max(s1, s2); multipliers in [0, 2^31 - 1] */
    int32_t multiplier2, shift2;       /* QM(s2 / t); shifts in [-31, 30] */
    int32_t output_multiplier, output_shift; /* QM(t / (2^L * s_out)) */
    int32_t act_min, act_max;          /* -128 <= act_min <= act_max <= 127 */
    int32_t channels;                  /* elements per position, >= 1, dividing size */
    int32_t broadcast;                 /* 0: input2 like input1; 1: input2 is [channels] */
    int32_t subtract;                  /* 0: a + b (ADD); 1: a - b (SUB); 2: b - a (SUB, operands swapped) */
    /* 1 when left_shift = 20, subtract = 0, (multiplier1, shift1) = (2^30, 0) (so a = (x1 - zp1) * 2^19 exactly)
     * and shift2, output_shift lie in [-31, -1]: the Helium kernel's fast path (tq_add_s8_mve.c); 0 is always
     * correct. Decided by the generator (tinyqat/codegen/layouts.py, add_exact1). Other kernels ignore it. */
    int32_t exact1;
    /* NULL, or (DSP and Armv6-M kernels; the generator ships it, tinyqat/codegen/layouts.py add_table) input 2's
     * rescaled values doubled less input 1's zero-point term, table[k] = 2 * b - input1_zero_point * 2^20 for
     * input2[i] = (int8_t)k, k = 0..255 (indexed by the byte as uint8_t), for a layer with left_shift = 20,
     * (multiplier1, shift1) = (2^30, 0) (so a = (x1 - zp1) * 2^19 exactly) and output_shift in [-31, -1]: then
     * 2 * (a + b) = input1[i] * 2^20 + table[k], requantized with one fused output stage. Portable kernels
     * ignore it. */
    const int32_t *table;
    /* Under TQ_USE_DSP, required when table is NULL (tinyqat/codegen/layouts.py, add_dsp_path: the generator
     * sets it): &tq_add_s8_general, the DSP add without a table, in a runtime file of its own
     * (tq_add_s8_general.c) that a package ships only with such a layer, so a package whose adds all have
     * tables links none of it. Other kernels ignore it. */
    const struct tq_add_s8_dsp_path *dsp_path;
} tq_add_s8_params;

/* The DSP add's path without a table (params->dsp_path): run computes tq_add_s8's result. */
struct tq_add_s8_dsp_path {
    void (*run)(const tq_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output);
};
extern const struct tq_add_s8_dsp_path tq_add_s8_general;

/*
 * Concatenation along channels (the last axis) of num_inputs tensors (positions, channels[k]):
 * output pixel p holds input 0's channels[0] values, then input 1's, ... (out_c = sum of
 * channels). Each input k is requantized to the output's quantization:
 *   y = clamp(mbqm(x - zero_point[k], multiplier[k], shift[k]) + output_zero_point, -128, 127).
 * An input with multiplier 2^30, shift 1 (ratio 1.0) and the output's zero point is copied
 * (the formula is the identity there).
 */
typedef struct {
    int32_t num_inputs;                /* >= 2 */
    int32_t positions;                 /* pixels per tensor (H * W, or 1 for vectors), >= 1 */
    int32_t out_c;                     /* sum of channels[k] */
    int32_t output_zero_point;         /* [-128, 127] */
    const int32_t *channels;           /* [num_inputs], each >= 1 */
    const int32_t *zero_point;         /* [num_inputs], input zero points in [-128, 127] */
    const int32_t *multiplier;         /* [num_inputs], QM(s_k / s_out), in [0, 2^31 - 1] */
    const int32_t *shift;              /* [num_inputs], in [-31, 30] */
} tq_concat_s8_params;

/* 256-entry table: output[i] = table[input[i] + 128] (sigmoid, tanh, hardswish, ...). */
typedef struct {
    int32_t size;                      /* number of int8 elements, >= 1 */
    const int8_t *table;               /* [256], indexed by input + 128 */
} tq_lookup_s8_params;

/*
 * Softmax over rows of row_size contiguous elements (the last axis); output scale 1/256,
 * zero point -128. Per row: m = max(x), e_i = exp_table[m - x_i] (m - x_i in 0..255),
 * sum = sum_i e_i, output_i = clamp((e_i * 256 + sum / 2) / sum - 128, -128, 127)
 * (integer division of non-negative values: rounding half up).
 * exp_table[d] = round(2^16 * exp(-input_scale * d)), so exp_table[0] = 2^16 >= e_i >= 0,
 * sum >= 2^16 and, with row_size < 2^15, sum < 2^31 and e_i * 256 + sum / 2 < 2^31.
 */
typedef struct {
    int32_t rows;                      /* number of rows (H * W, or 1 for a vector), >= 1 */
    int32_t row_size;                  /* elements per row, in [1, 2^15 - 1] */
    const int32_t *exp_table;          /* [256], values in [0, 2^16], exp_table[0] = 2^16 */
} tq_softmax_s8_params;

/*
 * Log-softmax over rows of row_size contiguous elements: TFLite's int8 LOG_SOFTMAX, output scale
 * 16/256, zero point 127 (formula: tinyqat.ir.LogSoftmax). Per row: d_i = x_i - max(x);
 * sum = sum_i exp_table[-d_i] (Q12); log_sum = log(sum) in Q5 (gemmlowp's fixed-point log);
 * cut = max(diff_min - 1, mbqm(log_sum - 2^31, reverse_multiplier, reverse_shift));
 * output_i = d_i > cut ? clamp(rdbpot(sat32(mbqm(d_i, input_multiplier, input_shift) - log_sum), 22)
 *                              + 127, -128, 127) : -128.
 */
typedef struct {
    int32_t rows;                      /* number of rows (H * W, or 1 for a vector), >= 1 */
    int32_t row_size;                  /* elements per row, in [1, 4095] */
    int32_t input_multiplier;          /* QM(input_scale * 2^26), in [2^30, 2^31 - 1] */
    int32_t input_shift;               /* its left shift, in [2, 30] */
    int32_t reverse_multiplier;        /* QM(2^(31 - input_shift) / input_multiplier), in [2^30, 2^31 - 1] */
    int32_t reverse_shift;             /* in [-31, 0] */
    int32_t diff_min;                  /* -floor(31 * 2^26 / 2^input_shift) */
    const int32_t *exp_table;          /* [256], Q12 exps in [0, 2^19], exp_table[0] = 2^19 */
} tq_log_softmax_s8_params;

/*
 * Elementwise multiply (TFLite int8 MUL) of input1 (positions x channels) by input2, which is
 * either the same shape (broadcast = 0) or one row of channels repeated at every position
 * (broadcast = 1: a per-channel gate, input2[c]):
 *   output[p][c] = clamp(mbqm((input1[p][c] - input1_zero_point) * (input2[.][c] - input2_zero_point),
 *                             multiplier, shift) + output_zero_point, act_min, act_max).
 * |product| <= 255 * 255 fits int32.
 * tq_mul_const_s8 (TFLite MUL with a constant operand) is tq_mul_s8 with input2 = constant (broadcast = 1,
 * input2_zero_point = 0: the constant is symmetric int8 in [-127, 127], one value per channel).
 */
typedef struct {
    int32_t positions;                 /* pixels (H * W, or 1 for a vector), >= 1 */
    int32_t channels;                  /* elements per position, >= 1 */
    int32_t broadcast;                 /* 0: input2 like input1; 1: input2 is [channels] */
    int32_t input1_zero_point;         /* [-128, 127] */
    int32_t input2_zero_point;         /* [-128, 127] */
    int32_t output_zero_point;         /* [-128, 127] */
    int32_t multiplier, shift;         /* QM(s1 * s2 / s_out): [0, 2^31 - 1], [-31, 30] */
    int32_t act_min, act_max;          /* -128 <= act_min <= act_max <= 127 */
    const int8_t *constant;            /* tq_mul_const_s8: the constant [channels]; NULL for tq_mul_s8 */
} tq_mul_s8_params;
typedef tq_mul_s8_params tq_mul_const_s8_params;

/*
 * PReLU with one int8 alpha per channel (TFLite int8 PRELU), x_c = input[p][c] - input_zero_point:
 *   output[p][c] = clamp(output_zero_point + (x_c >= 0 ? mbqm(x_c, multiplier_pos, shift_pos)
 *                        : mbqm(x_c * alpha[c], multiplier_neg, shift_neg)), -128, 127).
 */
typedef struct {
    int32_t positions;                 /* pixels (H * W, or 1 for a vector), >= 1 */
    int32_t channels;                  /* elements per position, >= 1 */
    int32_t input_zero_point;          /* [-128, 127] */
    int32_t output_zero_point;         /* [-128, 127] */
    int32_t multiplier_pos, shift_pos; /* QM(s_in / s_out) */
    int32_t multiplier_neg, shift_neg; /* QM(s_in * s_alpha / s_out) */
    const int8_t *alpha;               /* [channels], in [-127, 127], zero point 0 */
} tq_prelu_s8_params;

/* Window kernel: input and output may overlap as the in-place contract above allows. */
void tq_conv2d_s8(const tq_conv2d_s8_params *params, const int8_t *input, int8_t *output);

/* Scratch bytes tq_conv2d_s8 wants in params->scratch for the kernels this build compiles:
 * TQ_CONV2D_S8_BUFFER_SIZE of the window on Armv6-M and Helium cores, TQ_CONV2D_S8_DSP_BUFFER_SIZE elsewhere
 * (the same value in portable and DSP builds; portable kernels ignore the buffer). */
int32_t tq_conv2d_s8_get_buffer_size(const tq_conv2d_s8_params *params);

/* input and output must not overlap. */
void tq_fully_connected_s8(const tq_fully_connected_s8_params *params, const int8_t *input, int8_t *output);

/* Window kernel: input and output may overlap as the in-place contract above allows. */
void tq_max_pool2d_s8(const tq_max_pool2d_s8_params *params, const int8_t *input, int8_t *output);

/* input == output is allowed (in place); partial overlap is not. */
void tq_clamp_s8(const tq_clamp_s8_params *params, const int8_t *input, int8_t *output);

/* Window kernel: input and output may overlap as the in-place contract above allows. */
void tq_depthwise_conv2d_s8(const tq_depthwise_conv2d_s8_params *params, const int8_t *input, int8_t *output);

/* Scratch bytes tq_depthwise_conv2d_s8 wants in params->scratch for the kernels this build compiles:
 * TQ_DEPTHWISE_CONV2D_S8_V6M_BUFFER_SIZE on Armv6-M, TQ_DEPTHWISE_CONV2D_S8_DSP_BUFFER_SIZE elsewhere
 * (portable kernels ignore the buffer); each rule is also available on its own below. */
int32_t tq_depthwise_conv2d_s8_get_buffer_size(const tq_depthwise_conv2d_s8_params *params);
/* TQ_DEPTHWISE_CONV2D_S8_DSP_BUFFER_SIZE of the layer, in every build. */
int32_t tq_depthwise_conv2d_s8_dsp_buffer_size(const tq_depthwise_conv2d_s8_params *params);
/* TQ_DEPTHWISE_CONV2D_S8_V6M_BUFFER_SIZE of the layer, in every build. */
int32_t tq_depthwise_conv2d_s8_v6m_buffer_size(const tq_depthwise_conv2d_s8_params *params);

/* Window kernel: input and output may overlap as the in-place contract above allows. */
void tq_avg_pool2d_s8(const tq_avg_pool2d_s8_params *params, const int8_t *input, int8_t *output);

/* input1 may equal input2; either may equal output (in place; input2 only when broadcast = 0); partial overlap
 * is not allowed. */
void tq_add_s8(const tq_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output);

/* inputs[k] (k < num_inputs) must not overlap output. */
void tq_concat_s8(const tq_concat_s8_params *params, const int8_t *const *inputs, int8_t *output);

/* input == output is allowed (in place); partial overlap is not. */
void tq_lookup_s8(const tq_lookup_s8_params *params, const int8_t *input, int8_t *output);

/* input == output is allowed (in place: each row is read before it is written); partial overlap is not. */
void tq_softmax_s8(const tq_softmax_s8_params *params, const int8_t *input, int8_t *output);

/* input == output is allowed (in place: each row is read before it is written); partial overlap is not. */
void tq_log_softmax_s8(const tq_log_softmax_s8_params *params, const int8_t *input, int8_t *output);

/* output == input1 is allowed (in place), and output == input2 when broadcast = 0; partial overlap is not. */
void tq_mul_s8(const tq_mul_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output);

/* input == output is allowed (in place); partial overlap is not. */
void tq_mul_const_s8(const tq_mul_const_s8_params *params, const int8_t *input, int8_t *output);

/* input == output is allowed (in place); partial overlap is not. */
void tq_prelu_s8(const tq_prelu_s8_params *params, const int8_t *input, int8_t *output);

/*
 * 4-bit weights: tq_conv2d_s4_s8, tq_depthwise_conv2d_s4_s8 and tq_fully_connected_s4_s8 compute
 * exactly the formulas of tq_conv2d_s8, tq_depthwise_conv2d_s8 and tq_fully_connected_s8, with the
 * same parameters and layouts, except that the weights are 4-bit values in [-7, 7] packed two per
 * byte in the layout's flat (C) order: element 2i in the low nibble of byte i, element 2i + 1 in
 * its high nibble, each a 4-bit two's complement (an odd count leaves the last high nibble 0);
 * TQ_S4_WEIGHT(packed, k) sign-extends element k. Python twin: tinyqat/codegen/pack.py. They are portable C
 * used on every core (no DSP companions) and keep the in-place contract above (pixel by pixel,
 * raster order). Flash for the weights is ceil(count / 2) bytes instead of count.
 */
/* Element k (>= 0) of packed 4-bit weights (const uint8_t *), sign-extended, as int32_t. */
#define TQ_S4_WEIGHT(packed, k) ((int32_t)(((((k) & 1) != 0 ? (packed)[(k) >> 1] >> 4 : (packed)[(k) >> 1] & 0x0F) ^ 8) - 8))

typedef struct {
    int32_t in_h, in_w, in_c;          /* as tq_conv2d_s8_params */
    int32_t out_h, out_w, out_c;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t act_min, act_max;
    const uint8_t *weights;            /* [out_c][kernel_h][kernel_w][in_c] 4-bit in [-7, 7], packed */
    const int32_t *bias;               /* [out_c] */
    const int32_t *multiplier;         /* [out_c] */
    const int32_t *shift;              /* [out_c] */
} tq_conv2d_s4_s8_params;

typedef struct {
    int32_t in_h, in_w, in_c;          /* as tq_depthwise_conv2d_s8_params */
    int32_t out_h, out_w;
    int32_t depth_multiplier;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t act_min, act_max;
    const uint8_t *weights;            /* [kernel_h][kernel_w][in_c * m] 4-bit in [-7, 7], packed */
    const int32_t *bias;               /* [in_c * m] */
    const int32_t *multiplier;         /* [in_c * m] */
    const int32_t *shift;              /* [in_c * m] */
} tq_depthwise_conv2d_s4_s8_params;

typedef struct {
    int32_t in_features;               /* as tq_fully_connected_s8_params */
    int32_t out_features;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t act_min, act_max;
    const uint8_t *weights;            /* [out_features][in_features] 4-bit in [-7, 7], packed */
    const int32_t *bias;               /* [out_features] */
    const int32_t *multiplier;         /* [out_features] */
    const int32_t *shift;              /* [out_features] */
} tq_fully_connected_s4_s8_params;

/* Window kernel: input and output may overlap as the in-place contract above allows. */
void tq_conv2d_s4_s8(const tq_conv2d_s4_s8_params *params, const int8_t *input, int8_t *output);

/* Window kernel: input and output may overlap as the in-place contract above allows. */
void tq_depthwise_conv2d_s4_s8(const tq_depthwise_conv2d_s4_s8_params *params, const int8_t *input,
                               int8_t *output);

/* input and output must not overlap. */
void tq_fully_connected_s4_s8(const tq_fully_connected_s4_s8_params *params, const int8_t *input,
                              int8_t *output);

/* ---- Data movement (tensor plumbing): bytes are copied or kept, never requantized. ---- */

/* Reshape: output[i] = input[i] for i < size (the same bytes under another shape); returns at once
 * when output == input, where the planner puts it (it then moves nothing). */
typedef struct {
    int32_t size;                      /* number of int8 elements, >= 1 */
} tq_reshape_s8_params;

/*
 * Per-pixel channel gather (TFLite GATHER on the last axis: channel slices, split parts, channel
 * shuffles): output[p * out_c + j] = input[p * in_c + index[j]] for p < positions, j < out_c.
 */
typedef struct {
    int32_t positions;                 /* pixels (H * W, or 1 for a vector), >= 1 */
    int32_t in_c;                      /* input channels per pixel, >= 1 */
    int32_t out_c;                     /* output channels per pixel, >= 1 */
    const int32_t *index;              /* [out_c], each in [0, in_c) */
} tq_gather_s8_params;

/*
 * Nearest-neighbour upsampling by integer factors (TFLite RESIZE_NEAREST_NEIGHBOR without
 * align_corners / half_pixel_centers): output[oy][ox][c] = input[oy / scale_h][ox / scale_w][c],
 * output (in_h * scale_h) x (in_w * scale_w) x channels.
 */
typedef struct {
    int32_t in_h, in_w, channels;      /* input map, each >= 1 */
    int32_t scale_h, scale_w;          /* integer factors, >= 1 */
} tq_resize_nearest_s8_params;

/* output == input is allowed (then nothing moves); partial overlap is not. */
void tq_reshape_s8(const tq_reshape_s8_params *params, const int8_t *input, int8_t *output);

/* output = input + d with d <= 0 is allowed when index is strictly increasing; otherwise disjoint. */
void tq_gather_s8(const tq_gather_s8_params *params, const int8_t *input, int8_t *output);

/* input and output must not overlap. */
void tq_resize_nearest_s8(const tq_resize_nearest_s8_params *params, const int8_t *input, int8_t *output);

#endif /* TQ_KERNELS_H */
