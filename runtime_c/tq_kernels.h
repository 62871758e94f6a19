/*
 * tq_kernels.h - tinyqat portable int8 kernels: parameter structs and prototypes.
 *
 * Layouts: activations are NHWC with N = 1 (channels last, contiguous int8), conv weights
 * [out_c][kernel_h][kernel_w][in_c], fully-connected weights [out_features][in_features].
 * A quantized value q stands for scale * (q - zero_point); zero points are in [-128, 127].
 * Accumulators are int32, as in TensorFlow Lite's reference kernels: a layer must keep
 * |bias| + 255 * 127 * (taps per output) below 2^31 (it does for any realistic layer).
 * Requantization goes through tq_requant.h only. Kernels never allocate and keep no state.
 *
 * The runtime files are identical for a given tinyqat version: a program linking several
 * generated models compiles one copy of each tq_*.c file.
 */
#ifndef TQ_KERNELS_H
#define TQ_KERNELS_H

#include <stdint.h>

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
    const int8_t *weights;             /* [out_c][kernel_h][kernel_w][in_c], values in [-127, 127] */
    const int32_t *bias;               /* [out_c], scale input_scale * weight_scale[c] */
    const int32_t *multiplier;         /* [out_c], in [0, 2^31 - 1] */
    const int32_t *shift;              /* [out_c], in [-31, 30] */
} tq_conv2d_s8_params;

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
    const int8_t *weights;             /* [out_features][in_features], values in [-127, 127] */
    const int32_t *bias;               /* [out_features] */
    const int32_t *multiplier;         /* [out_features], in [0, 2^31 - 1] */
    const int32_t *shift;              /* [out_features], in [-31, 30] */
} tq_fully_connected_s8_params;

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

/* input and output must not overlap. */
void tq_conv2d_s8(const tq_conv2d_s8_params *params, const int8_t *input, int8_t *output);

/* input and output must not overlap. */
void tq_fully_connected_s8(const tq_fully_connected_s8_params *params, const int8_t *input, int8_t *output);

/* input and output must not overlap. */
void tq_max_pool2d_s8(const tq_max_pool2d_s8_params *params, const int8_t *input, int8_t *output);

/* input == output is allowed (in place); partial overlap is not. */
void tq_clamp_s8(const tq_clamp_s8_params *params, const int8_t *input, int8_t *output);

#endif /* TQ_KERNELS_H */
