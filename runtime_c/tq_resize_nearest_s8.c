/* tq_resize_nearest_s8.c - nearest-neighbour upsampling by integer factors (see tq_kernels.h).
 * Each input row is expanded once (every pixel repeated scale_w times), then that output row is
 * copied scale_h - 1 times: no division. */
#include "tq_kernels.h"

void tq_resize_nearest_s8(const tq_resize_nearest_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_resize_nearest_s8_params *p = params;
    const int32_t row_bytes = p->in_w * p->scale_w * p->channels; /* one output row */
    int32_t iy, ix, r, c, i;
    for (iy = 0; iy < p->in_h; ++iy) {
        const int8_t *src = input + iy * p->in_w * p->channels;
        int8_t *row = output + iy * p->scale_h * row_bytes;
        int8_t *dst = row;
        for (ix = 0; ix < p->in_w; ++ix, src += p->channels) {
            for (r = 0; r < p->scale_w; ++r) {
                for (c = 0; c < p->channels; ++c) {
                    *dst++ = src[c];
                }
            }
        }
        for (r = 1; r < p->scale_h; ++r) {
            for (i = 0; i < row_bytes; ++i) {
                row[r * row_bytes + i] = row[i];
            }
        }
    }
}
