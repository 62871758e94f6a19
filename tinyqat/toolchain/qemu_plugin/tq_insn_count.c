/*
 * tq_insn_count.c - QEMU TCG plugin (plugin API v1, QEMU 7.2) counting the instructions that
 * a bare-metal tinyqat benchmark image executes in each layer. Part of tinyqat; built with the
 * host C compiler as a shared library by tinyqat.bench.
 *
 * Arguments (-plugin tq_insn_count.so,layer=A,harness_lo=B,harness_hi=C,layers=N,out=FILE):
 *   layer       entry address of <name>_run_layer (hexadecimal, with or without 0x)
 *   harness_lo  first address of the harness function that calls <name>_run_layer
 *   harness_hi  first address after that function
 *   layers      how many calls of <name>_run_layer to expect (the model's layer count)
 *   out         file written when the emulator exits
 *
 * Attribution: executing the entry of <name>_run_layer starts the next layer; executing any
 * instruction of the harness function ends it. Every translation block (TB) executed in
 * between counts for that layer, so a layer's count is exactly the instructions executed by
 * one <name>_run_layer call (its own, the kernels' and any library helpers'), none of the
 * harness, startup or C library. Per layer and per TB the plugin counts executions and
 * "jumps": executions after which the next TB did not start at the address following the
 * TB's last instruction (a taken branch, call or return).
 *
 * Output, one record per line, addresses hexadecimal:
 *   layers_run N                   calls of <name>_run_layer seen
 *   error TEXT                     attribution impossible (the run must be discarded)
 *   tb LAYER EXECS JUMPS PC...     a TB executed EXECS times in layer LAYER, JUMPS of them
 *                                  left it by a jump; PC... are its instruction addresses
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The few declarations of QEMU 7.2's qemu-plugin.h (API version 1) this plugin uses;
 * Debian ships no plugin header. */
typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t {
    const char *target_name;
    struct {
        int min;
        int cur;
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);

#define TQ_EXPORT __attribute__((visibility("default")))
TQ_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv);
TQ_EXPORT extern int qemu_plugin_version;
TQ_EXPORT int qemu_plugin_version = 1;

/* One translation of a TB: its instructions and, per layer, executions and jumps out. */
typedef struct tq_tb {
    struct tq_tb *next; /* list of every translation, for the report */
    uint64_t start;     /* address of the first instruction */
    uint64_t end;       /* address after the last instruction */
    bool starts_layer;  /* first instruction is the entry of <name>_run_layer */
    bool in_harness;    /* first instruction lies in the harness function */
    size_t n_insns;
    uint64_t *pcs;   /* [n_insns] */
    uint64_t *execs; /* [n_layers] */
    uint64_t *jumps; /* [n_layers] */
} tq_tb;

/* Configuration (set once in qemu_plugin_install). */
static uint64_t layer_entry;
static uint64_t harness_lo;
static uint64_t harness_hi;
static long n_layers;
static char *out_path; /* owned copy */

/* State. A Cortex-M machine has one vCPU, so the exec callback never runs concurrently;
 * translation runs on that same vCPU thread. */
static tq_tb *all_tbs;
static const tq_tb *previous;  /* TB executed last, NULL before the first */
static long previous_layer = -1; /* layer that TB counted for, -1 for none */
static long layer = -1;          /* layer now running, -1 outside <name>_run_layer */
static long layers_run;
static const char *error;

static bool in_harness(uint64_t pc)
{
    return pc >= harness_lo && pc < harness_hi;
}

static void *checked_calloc(size_t count, size_t size)
{
    void *p = calloc(count == 0 ? 1 : count, size);
    if (p == NULL) {
        fputs("tq_insn_count: out of memory\n", stderr);
        abort();
    }
    return p;
}

static void tb_exec(unsigned int vcpu_index, void *userdata)
{
    tq_tb *tb = userdata;
    (void)vcpu_index;
    if (previous != NULL && previous_layer >= 0 && tb->start != previous->end) {
        previous->jumps[previous_layer] += 1;
    }
    if (tb->starts_layer) {
        if (layers_run >= n_layers) {
            error = "<name>_run_layer was called more often than the model has layers";
            layer = -1;
        } else {
            layer = layers_run;
        }
        ++layers_run;
    } else if (tb->in_harness) {
        layer = -1;
    }
    if (layer >= 0) {
        tb->execs[layer] += 1;
    }
    previous = tb;
    previous_layer = layer;
}

static void tb_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *qtb)
{
    size_t n = qemu_plugin_tb_n_insns(qtb);
    size_t i;
    tq_tb *tb = checked_calloc(1, sizeof *tb);
    (void)id;
    tb->n_insns = n;
    tb->pcs = checked_calloc(n, sizeof *tb->pcs);
    tb->execs = checked_calloc((size_t)n_layers, sizeof *tb->execs);
    tb->jumps = checked_calloc((size_t)n_layers, sizeof *tb->jumps);
    tb->start = qemu_plugin_tb_vaddr(qtb);
    tb->end = tb->start;
    for (i = 0; i < n; ++i) {
        const struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(qtb, i);
        tb->pcs[i] = qemu_plugin_insn_vaddr(insn);
        tb->end = tb->pcs[i] + qemu_plugin_insn_size(insn);
        if (i > 0 && (tb->pcs[i] == layer_entry || in_harness(tb->pcs[i]) != in_harness(tb->start))) {
            error = "a translation block crosses the entry of <name>_run_layer or the harness boundary";
        }
    }
    tb->starts_layer = tb->start == layer_entry;
    tb->in_harness = in_harness(tb->start);
    tb->next = all_tbs;
    all_tbs = tb;
    qemu_plugin_register_vcpu_tb_exec_cb(qtb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, tb);
}

static void write_report(qemu_plugin_id_t id, void *userdata)
{
    FILE *out = fopen(out_path, "w");
    const tq_tb *tb;
    (void)id;
    (void)userdata;
    if (out == NULL) {
        perror(out_path);
        return;
    }
    fprintf(out, "layers_run %ld\n", layers_run);
    if (error != NULL) {
        fprintf(out, "error %s\n", error);
    }
    for (tb = all_tbs; tb != NULL; tb = tb->next) {
        long k;
        for (k = 0; k < n_layers; ++k) {
            size_t i;
            if (tb->execs[k] == 0) {
                continue;
            }
            fprintf(out, "tb %ld %" PRIu64 " %" PRIu64, k, tb->execs[k], tb->jumps[k]);
            for (i = 0; i < tb->n_insns; ++i) {
                fprintf(out, " %" PRIx64, tb->pcs[i]);
            }
            fputc('\n', out);
        }
    }
    if (fclose(out) != 0) {
        perror(out_path);
    }
}

/* Parse "key=value" into *address (hexadecimal) when argument starts with key=. */
static bool parse_hex(const char *arg, const char *key, uint64_t *address)
{
    size_t n = strlen(key);
    char *end;
    if (strncmp(arg, key, n) != 0 || arg[n] != '=') {
        return false;
    }
    *address = strtoull(arg + n + 1, &end, 16);
    return end != arg + n + 1 && *end == '\0';
}

int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    int i;
    bool have_layer = false;
    bool have_lo = false;
    bool have_hi = false;
    (void)info;
    for (i = 0; i < argc; ++i) {
        if (parse_hex(argv[i], "layer", &layer_entry)) {
            have_layer = true;
        } else if (parse_hex(argv[i], "harness_lo", &harness_lo)) {
            have_lo = true;
        } else if (parse_hex(argv[i], "harness_hi", &harness_hi)) {
            have_hi = true;
        } else if (strncmp(argv[i], "layers=", 7) == 0) {
            n_layers = strtol(argv[i] + 7, NULL, 10);
        } else if (strncmp(argv[i], "out=", 4) == 0) {
            size_t n = strlen(argv[i] + 4) + 1;
            free(out_path);
            out_path = checked_calloc(n, 1);
            memcpy(out_path, argv[i] + 4, n);
        } else {
            fprintf(stderr, "tq_insn_count: unknown argument %s\n", argv[i]);
            return -1;
        }
    }
    if (!have_layer || !have_lo || !have_hi || n_layers <= 0 || out_path == NULL || harness_lo >= harness_hi) {
        fputs("tq_insn_count: needs layer=, harness_lo=, harness_hi=, layers= (> 0) and out=\n", stderr);
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_translate);
    qemu_plugin_register_atexit_cb(id, write_report, NULL);
    return 0;
}
