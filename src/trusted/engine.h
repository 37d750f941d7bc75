/* engine.h - the engine-neutral interface of a JavaScript heap.
 *
 * One engine_heap is one isolated JavaScript world with its own memory limit,
 * holding one function's code. Every engine implements exactly these calls:
 * engine_duktape.c (tfaas-enclave) and engine_v8.cc (tfaas-enclave-v8, a C++
 * shim over V8). A heap is used by one thread at a time;
 * different heaps may run on different threads at once.
 *
 * Outcomes follow OpenWhisk: status is the activation's statusCode and result
 * is always a JSON object text ({"error": "..."} for failures). When
 * `discard` is set the heap is in an unknown state (timed out, out of memory)
 * and must be destroyed rather than reused. */
#ifndef TFAAS_TRUSTED_ENGINE_H
#define TFAAS_TRUSTED_ENGINE_H

#include "common/ipc.h" /* tfaas_status */

#include <stddef.h>
#include <stdint.h>

typedef struct engine_heap engine_heap;

/* Stack every thread that runs a heap must have: Duktape's C recursion limit
 * (DUK_USE_NATIVE_CALL_RECLIMIT, compiler and JSON limits) must end deep
 * recursion before the thread's stack does. Sanitizers grow every frame. */
#if defined(TFAAS_SANITIZE)
#define ENGINE_STACK_BYTES (64u << 20)
#else
#define ENGINE_STACK_BYTES (16u << 20)
#endif

/* Granularity of the wall clock a function sees (Date.now(), new Date()):
 * times are rounded down to a multiple of this many milliseconds, and no
 * finer clock (performance.now) is exposed, so a function cannot time its
 * neighbours' work or cache effects to the microsecond (docs/architecture.md). */
#define ENGINE_CLOCK_QUANTUM_MS 10

/* Messages more than one part of the enclave reports in the same words. */
#define ENGINE_MSG_NOT_DICT "The action did not return a dictionary."
#define ENGINE_MSG_ENCLAVE_OOM "The enclave ran out of memory."

struct fetch_activation; /* trusted/fetch/fetch.h */

/* What OpenWhisk's runtime gives an activation besides its parameters
 * (docs/api.md, "The activation's environment"). */
typedef struct {
    int node;             /* a nodejs:* kind: process, Buffer, require of the Node built-ins */
    const char *env_json; /* a JSON object of strings (__OW_ACTION_NAME, ...); NULL: none */
    size_t env_len;
} engine_env;

/* Limits of one load or call, and the environment it runs in. */
typedef struct {
    uint64_t timeout_ms;      /* the activation's time limit, named by the timeout message */
    uint64_t spent_ms;        /* of it, already used by this activation (the load before a call) */
    size_t max_result_bytes;  /* longest accepted JSON result */
    size_t max_log_bytes;     /* log text kept before the truncation line */
    const engine_env *env;    /* NULL: a js:* kind with no environment (tests, probes) */
    struct fetch_activation *fetch; /* the call's network access (fetch()); NULL: none */
} engine_limits;

/* What is left of timeout_ms after spent_ms, in nanoseconds, capped so that
 * adding it to a clock reading in nanoseconds cannot overflow: the deadline
 * of a load or call in every engine. Load and call share one budget, as the
 * host's watchdog counts it from the INVOKE it sent. */
static inline uint64_t engine_budget_ns(const engine_limits *lim) {
    uint64_t left = lim->timeout_ms - (lim->spent_ms < lim->timeout_ms ? lim->spent_ms : lim->timeout_ms);
    return left > UINT64_MAX / 2000000u ? UINT64_MAX / 2 : left * 1000000u;
}

typedef struct {
    tfaas_status status;
    char *result;         /* JSON object text, malloc'd, never NULL after a call */
    char *logs;           /* '\n'-joined log lines, malloc'd, never NULL */
    uint64_t peak_memory; /* heap bytes at the high-water mark of this call */
    int discard;          /* the heap must be destroyed, not reused */
} engine_outcome;

/* "duktape/2.7.0", "v8/10.2.154.26-node.18.20.4": names the engine build, part of the enclave's identity. */
const char *engine_identity(void);

/* 1 when the engine writes machine code at run time (V8's JIT compilers): the
 * sandbox then lets memory be mapped executable; 0 for an interpreter. */
int engine_needs_exec_memory(void);

/* 0 when the engine really interrupts running code at its deadline, -1 when
 * it does not (e.g. Duktape compiled without tfaas's duk_config.h). Costs a
 * millisecond or so; the enclave runs it once at start-up, before the sandbox
 * forbids new threads (V8 starts its watchdog thread here). */
int engine_self_test(void);

/* A fresh heap that refuses to grow beyond memory_limit bytes. NULL when the
 * limit is too small for the engine itself or memory is short. */
engine_heap *engine_heap_create(size_t memory_limit);

/* Runs the function's code once and finds its entry point `main_name`
 * (global function, exports.main, module.exports.main or module.exports).
 * code may also be a zip archive ("PK\3\4..."): an engine that runs zip
 * actions unzips it (common/code_archive.h) and loads its main module; a
 * zip is never valid JavaScript, so the two cannot be confused.
 * `tenant` names whose code this is (the namespace of the function's key):
 * anything an engine keeps across heaps (V8's code cache) is kept per
 * tenant, so that no tenant can learn, by timing its own loads, which code
 * another tenant runs in the same enclave.
 * Returns 0 when the heap is ready. On failure returns -1 and fills `out`
 * with an "Initialization has failed due to: ..." developer error (or the
 * time/memory message); the heap must then be destroyed. Logs written while
 * loading are kept and reported by the next call. */
int engine_heap_load(engine_heap *h, const char *code, size_t code_len, const char *main_name,
                     const char *tenant, const engine_limits *lim, engine_outcome *out);

/* Calls the entry point with the JSON object text `params`. Always fills `out`. */
void engine_heap_call(engine_heap *h, const char *params, size_t params_len,
                      const engine_limits *lim, engine_outcome *out);

void engine_heap_destroy(engine_heap *h);

/* Frees the strings of an outcome; the struct itself is the caller's. */
void engine_outcome_free(engine_outcome *o);

/* For an engine's engine_self_test: loads `probe` (a loop that runs long
 * enough) into a fresh heap with an already expired deadline; 0 when the load
 * fails with the time-limit message, -1 otherwise. */
int engine_probe_interrupts(const char *probe, size_t probe_len, size_t memory_limit);

/* Builds {"error": message} as a failed outcome with the given status; used by
 * engines and by the enclave for failures outside any engine. 0, or -1 when out
 * of memory (out->result then holds a fixed fallback text). */
int engine_outcome_error(engine_outcome *out, tfaas_status status, const char *message);

/* Failures every engine reports in the same words (OpenWhisk's), as
 * developer errors built with engine_outcome_error (whose fallback text
 * stands when memory is short).
 * A limit stopped the code: the time-limit message when timed_out, else the
 * out-of-memory one; sets discard. */
void engine_outcome_limit(engine_outcome *out, int timed_out, uint64_t timeout_ms);
/* The code loaded but defines no entry point `main_name`; sets discard. */
void engine_outcome_no_main(engine_outcome *out, const char *main_name);
/* The JSON result is len bytes, more than max_len. */
void engine_outcome_too_long(engine_outcome *out, size_t len, size_t max_len);

#endif
