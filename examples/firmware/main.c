/*
 * main.c - a minimal bare-metal firmware running a tinyqat model (examples/firmware, see README.md).
 *
 * Makes a float input (value i of the input's NHWC order: ((i * 37) mod 256 - 128) * 0.01), quantizes
 * it with tinyqat_model_quantize_input, runs tinyqat_model_invoke, dequantizes the output and prints,
 * over semihosting (printf), three lines:
 *   input: q0 q1 ...          the int8 input
 *   output: y0 y1 ...         the int8 output
 *   values: h0 h1 ...         the dequantized output, each float's bits in hexadecimal
 * Exit status: 0 ok, 1 arena refused, 2 the model did not run.
 *
 * With -DEXAMPLE_CALLER_ARENA the model runs on memory this file owns (tinyqat_model_set_arena), placed
 * in the linker script's .tinyqat_arena section (compile the package with -DTINYQAT_MODEL_NO_STATIC_ARENA
 * then, so that it has no arena of its own); several models can share such a buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tinyqat_model.h"

#ifdef EXAMPLE_CALLER_ARENA
static int32_t firmware_arena[(TINYQAT_MODEL_ARENA_SIZE + 3) / 4] __attribute__((section(".tinyqat_arena")));
#endif

static float x[TINYQAT_MODEL_INPUT_SIZE];
static int8_t input[TINYQAT_MODEL_INPUT_SIZE];
static int8_t output[TINYQAT_MODEL_OUTPUT_SIZE];
static float values[TINYQAT_MODEL_OUTPUT_SIZE];

int main(void)
{
    int32_t i;
#ifdef EXAMPLE_CALLER_ARENA
    if (tinyqat_model_set_arena(firmware_arena, sizeof firmware_arena) != 0) {
        return 1;
    }
#endif
    for (i = 0; i < TINYQAT_MODEL_INPUT_SIZE; ++i) {
        x[i] = (float)((i * 37) % 256 - 128) * 0.01f;
    }
    tinyqat_model_quantize_input(x, input);
    if (tinyqat_model_invoke(input, output) != 0) {
        return 2;
    }
    tinyqat_model_dequantize_output(output, values);
    printf("input:");
    for (i = 0; i < TINYQAT_MODEL_INPUT_SIZE; ++i) {
        printf(" %d", (int)input[i]);
    }
    printf("\noutput:");
    for (i = 0; i < TINYQAT_MODEL_OUTPUT_SIZE; ++i) {
        printf(" %d", (int)output[i]);
    }
    printf("\nvalues:");
    for (i = 0; i < TINYQAT_MODEL_OUTPUT_SIZE; ++i) {
        uint32_t bits;
        memcpy(&bits, &values[i], sizeof bits);
        printf(" %08lx", (unsigned long)bits);
    }
    printf("\n");
    return 0;
}
