/* engine_duktape.c - engine.h on Duktape.
 *
 * Limits are enforced inside the engine:
 *  - memory: every heap allocation goes through a counting allocator that
 *    refuses to grow past the heap's limit; Duktape then throws, and the call
 *    reports "exhausted its memory" and asks for the heap to be discarded;
 *  - time: Duktape's executor calls tfaas_duk_exec_timeout_check (wired in by
 *    scripts/duk-config.sh) every 256 instructions, and the built-ins that can
 *    run long inside one instruction call it too, after about 2^20 units of
 *    work (bytes compared, elements visited) counted across calls
 *    (scripts/duk-source.sh); past the deadline it keeps returning true, so
 *    no catch block can resume the code;
 *  - stack: Duktape's own call-stack and C recursion limits turn unbounded
 *    recursion into a RangeError (worker threads get a large enough stack).
 * Every touch of the heap happens inside duk_safe_call, so an error (including
 * allocation failure) never reaches Duktape's fatal handler. */
#include "trusted/engine.h"
#include "trusted/duktape/fetch.h"
#include "trusted/log_buffer.h"

#include "duktape.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Size header in front of every block, kept max-aligned for the payload. */
#define HDR_SIZE ((sizeof(size_t) + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t))

struct engine_heap {
    duk_context *ctx;
    size_t limit;          /* bytes the heap may hold */
    size_t used, peak;     /* accounted bytes, including our headers */
    unsigned refused;      /* allocations refused since the current load/call began */
    uint64_t deadline_ns;  /* deadline_clock_ns(); 0 while no code runs */
    unsigned alloc_ticks;  /* allocations, to look at the clock every 16th */
    uint64_t timeout_ms;   /* budget, for the timeout message */
    int timed_out;         /* sticky until the load/call returns */
    struct fetch_activation *fetch; /* the running call's network access (duktape/fetch.h) */
    log_buffer logs;
};

const char *engine_identity(void) {
    static char id[32];
    if (!id[0])
        snprintf(id, sizeof id, "duktape/%ld.%ld.%ld", (long)(DUK_VERSION / 10000),
                 (long)(DUK_VERSION / 100 % 100), (long)(DUK_VERSION % 100));
    return id;
}

/* Duktape interprets bytecode: no executable memory. */
int engine_needs_exec_memory(void) { return 0; }

/* The clock of deadlines. CLOCK_MONOTONIC_COARSE reads the kernel's last
 * tick (a few ns, no TSC read), so it can be asked very often: every 256
 * bytecode instructions (duk-source.sh), every 65536 regexp steps and every
 * 16th allocation. Its resolution, one tick (1-10 ms), is far below any
 * timeout. */
static uint64_t deadline_clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One tick of that clock, asked once: the resolution does not change. */
static uint64_t deadline_clock_tick_ns(void) {
    static _Atomic uint64_t tick; /* 0 until known; a race only asks twice */
    uint64_t t = tick;
    if (!t) {
        struct timespec res;
        t = clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0
                ? (uint64_t)res.tv_sec * 1000000000u + (uint64_t)res.tv_nsec
                : 10000000u; /* 10 ms: a slow tick */
        tick = t;
    }
    return t;
}

/* Sticky once true, until the load/call ends, as Duktape requires. */
static int past_deadline(engine_heap *h) {
    if (!h->deadline_ns) return 0;
    if (!h->timed_out && deadline_clock_ns() >= h->deadline_ns) h->timed_out = 1;
    return h->timed_out;
}

/* A built-in that allocates as it goes (join, repeat, concat of a huge
 * array) runs inside one bytecode instruction: past the deadline its
 * allocations fail, so it ends with an error the timeout message replaces.
 * The clock is read every 16th allocation, and at every large one: the
 * copying and hashing that follows one (a string concatenation, slice) is
 * as long as it is, so sixteen of them could outlast the host's grace. */
#define LARGE_ALLOCATION (64u << 10)
static int allocation_past_deadline(engine_heap *h, size_t size) {
    return h->timed_out || (((++h->alloc_ticks & 15u) == 0 || size >= LARGE_ALLOCATION) && past_deadline(h));
}

/* ---- allocator: accounts every byte against the heap's limit ----------- */

/* Duktape answers a refusal with a garbage collection and a retry. A program
 * living at its limit would crawl from one full collection to the next until
 * its timeout; after this many refusals in one call every allocation fails,
 * which ends it within a few collections. */
#define REFUSALS_FATAL 64

static void *heap_alloc(void *ud, duk_size_t size) {
    engine_heap *h = ud;
    if (h->refused >= REFUSALS_FATAL || size > h->limit || h->used + HDR_SIZE + size > h->limit ||
        allocation_past_deadline(h, size)) {
        h->refused++;
        return NULL;
    }
    unsigned char *p = malloc(HDR_SIZE + size);
    if (!p) { h->refused++; return NULL; }
    memcpy(p, &size, sizeof size);
    h->used += HDR_SIZE + size;
    if (h->used > h->peak) h->peak = h->used;
    return p + HDR_SIZE;
}

static void heap_free(void *ud, void *ptr) {
    engine_heap *h = ud;
    if (!ptr) return;
    unsigned char *p = (unsigned char *)ptr - HDR_SIZE;
    size_t size;
    memcpy(&size, p, sizeof size);
    h->used -= HDR_SIZE + size;
    free(p);
}

static void *heap_realloc(void *ud, void *ptr, duk_size_t size) {
    engine_heap *h = ud;
    if (!ptr) return heap_alloc(ud, size);
    if (size == 0) { heap_free(ud, ptr); return NULL; }
    unsigned char *p = (unsigned char *)ptr - HDR_SIZE;
    size_t old;
    memcpy(&old, p, sizeof old);
    if (size > old && (h->refused >= REFUSALS_FATAL || size > h->limit || h->used - old + size > h->limit ||
                       allocation_past_deadline(h, size - old))) {
        h->refused++;
        return NULL;
    }
    unsigned char *q = realloc(p, HDR_SIZE + size);
    if (!q) { h->refused++; return NULL; }
    memcpy(q, &size, sizeof size);
    h->used = h->used - old + size;
    if (h->used > h->peak) h->peak = h->used;
    return q + HDR_SIZE;
}

/* Reached only on an error outside any protected call, which this file never
 * makes: a bug, so stop the enclave rather than continue in a broken state. */
static void heap_fatal(void *ud, const char *msg) {
    (void)ud;
    static const char head[] = "tfaas-enclave: duktape fatal error: ";
    if (write(2, head, sizeof head - 1) < 0 || write(2, msg, strlen(msg)) < 0 || write(2, "\n", 1) < 0) {
        /* nothing more to do */
    }
    _exit(70);
}

/* Work units the patched built-ins did on this thread since the last look
 * at the clock (TFAAS_DUK_WORK in duk-config.sh). Per thread because a heap
 * runs on one thread at a time; a count left by another heap only brings
 * the next look forward. */
_Thread_local unsigned long tfaas_duk_work;

/* Called by Duktape's executor, regexp matcher and the built-ins
 * duk-source.sh patches. */
int tfaas_duk_exec_timeout_check(void *udata) {
    engine_heap *h = udata;
    return h && past_deadline(h);
}

/* Date.now() and new Date() (wired in by duk-config.sh): wall-clock time
 * rounded down to ENGINE_CLOCK_QUANTUM_MS. */
double tfaas_duk_date_now(void *ctx) {
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    return (double)(ms - ms % ENGINE_CLOCK_QUANTUM_MS);
}

/* ---- console ----------------------------------------------------------- */

static engine_heap *heap_of(duk_context *ctx) {
    duk_memory_functions mf;
    duk_get_memory_functions(ctx, &mf);
    return mf.udata;
}

static duk_ret_t json_encode_safe(duk_context *ctx, void *ud) {
    (void)ud;
    duk_json_encode(ctx, -1);
    return 1;
}

/* console.log & co: arguments joined by spaces, strings as they are, objects
 * as JSON (String() when JSON fails or has nothing to say). */
static duk_ret_t console_write(duk_context *ctx) {
    engine_heap *h = heap_of(ctx);
    if (h->logs.truncated) return 0;
    duk_idx_t n = duk_get_top(ctx);
    for (duk_idx_t i = 0; i < n; i++) {
        if (duk_is_string(ctx, i)) continue;
        if (duk_is_object(ctx, i) && !duk_is_function(ctx, i)) {
            duk_dup(ctx, i);
            if (duk_safe_call(ctx, json_encode_safe, NULL, 1, 1) == DUK_EXEC_SUCCESS && duk_is_string(ctx, -1)) {
                duk_replace(ctx, i);
                continue;
            }
            duk_pop(ctx);
        }
        duk_safe_to_string(ctx, i);
    }
    duk_push_string(ctx, " ");
    duk_insert(ctx, 0);
    duk_join(ctx, n);
    duk_size_t len;
    const char *s = duk_get_lstring(ctx, -1, &len);
    if (s) log_buffer_write(&h->logs, duk_get_current_magic(ctx), s, len);
    return 0;
}

static void put_console_fn(duk_context *ctx, const char *name, int is_stderr) {
    duk_push_c_function(ctx, console_write, DUK_VARARGS);
    duk_set_magic(ctx, -1, is_stderr);
    duk_put_prop_string(ctx, -2, name);
}

/* Globals every action sees: console, and CommonJS-style exports/module.
 * Two of Duktape's own are removed: `Duktape` (finalizers that would run
 * when the heap is destroyed, call-stack inspection, forced collections) and
 * `performance` (a sub-millisecond clock; see ENGINE_CLOCK_QUANTUM_MS). */
static duk_ret_t setup_globals(duk_context *ctx, void *ud) {
    (void)ud;
    duk_push_global_object(ctx);
    duk_del_prop_string(ctx, -1, "Duktape");
    duk_del_prop_string(ctx, -1, "performance");
    duk_push_object(ctx);
    put_console_fn(ctx, "log", 0);
    put_console_fn(ctx, "info", 0);
    put_console_fn(ctx, "debug", 0);
    put_console_fn(ctx, "error", 1);
    put_console_fn(ctx, "warn", 1);
    duk_put_prop_string(ctx, -2, "console");
    duk_push_object(ctx);              /* exports */
    duk_push_object(ctx);              /* module */
    duk_dup(ctx, -2);
    duk_put_prop_string(ctx, -2, "exports");
    duk_put_prop_string(ctx, -3, "module");
    duk_put_prop_string(ctx, -2, "exports");
    duk_pop(ctx);
    duk_fetch_install(ctx); /* fetch(), synchronous */
    return 0;
}

struct fetch_activation *duk_heap_fetch(duk_context *ctx) { return heap_of(ctx)->fetch; }

engine_heap *engine_heap_create(size_t memory_limit) {
    engine_heap *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->limit = memory_limit;
    h->ctx = duk_create_heap(heap_alloc, heap_realloc, heap_free, h, heap_fatal);
    if (!h->ctx || duk_safe_call(h->ctx, setup_globals, NULL, 0, 1) != DUK_EXEC_SUCCESS) {
        engine_heap_destroy(h);
        return NULL;
    }
    duk_pop(h->ctx);
    return h;
}

void engine_heap_destroy(engine_heap *h) {
    if (!h) return;
    /* Destruction runs pending finalizers: with the deadline already passed
     * any JavaScript they hold stops at its first interrupt check instead of
     * holding this thread (finalizers are not reachable from actions, see
     * setup_globals, but a heap must never outlive its budget). */
    h->deadline_ns = 1;
    h->timed_out = 1;
    if (h->ctx) duk_destroy_heap(h->ctx);
    log_buffer_free(&h->logs);
    free(h);
}

/* ---- load and call ----------------------------------------------------- */

static void begin(engine_heap *h, const engine_limits *lim) {
    h->logs.max = lim->max_log_bytes;
    h->refused = 0;
    h->timed_out = 0;
    h->peak = h->used;
    h->timeout_ms = lim->timeout_ms;
    h->fetch = lim->fetch;
    /* The coarse clock lags real time by up to one tick: add a tick, so a
     * function never gets less than its timeout. */
    h->deadline_ns = deadline_clock_ns() + engine_budget_ns(lim) + deadline_clock_tick_ns();
}

static void finish(engine_heap *h, engine_outcome *out) {
    h->deadline_ns = 0;
    h->fetch = NULL;
    out->peak_memory = h->peak;
    out->logs = log_buffer_take(&h->logs);
}

/* Fills `out` for a load or call that ended with the error value on top of
 * the stack (popped here): the time or memory message when a limit was hit,
 * otherwise prefix + String(error). */
static void fail_with_error(engine_heap *h, engine_outcome *out, const char *prefix) {
    if (h->timed_out || h->refused) {
        duk_pop(h->ctx);
        engine_outcome_limit(out, h->timed_out, h->timeout_ms);
        return;
    }
    /* The deadline still applies: a hostile toString() cannot run forever. */
    const char *e = duk_safe_to_string(h->ctx, -1);
    if (h->timed_out) {
        fail_with_error(h, out, prefix);
        return;
    }
    char msg[1024];
    snprintf(msg, sizeof msg, "%s%s", prefix, e ? e : "unknown error");
    duk_pop(h->ctx);
    engine_outcome_error(out, TFAAS_STATUS_DEVELOPER_ERR, msg);
}

typedef struct {
    const char *code;
    size_t code_len;
    const char *main_name;
    int no_main; /* set when the code ran but defines no entry point */
} load_args;

/* Runs the program, then stores the entry point in the heap stash as "main". */
static duk_ret_t load_safe(duk_context *ctx, void *ud) {
    load_args *a = ud;
    duk_push_string(ctx, "action.js");
    duk_compile_lstring_filename(ctx, 0, a->code, a->code_len);
    duk_call(ctx, 0);
    duk_pop(ctx);
    duk_idx_t stash = duk_get_top(ctx);
    duk_push_heap_stash(ctx);
    duk_get_global_string(ctx, "module");
    if (duk_is_object(ctx, -1)) duk_get_prop_string(ctx, -1, "exports");
    else duk_push_undefined(ctx);
    /* module.exports = function, then module.exports[main], then global main. */
    if (!duk_is_function(ctx, -1)) {
        if (duk_is_object(ctx, -1)) duk_get_prop_string(ctx, -1, a->main_name);
        else duk_push_undefined(ctx);
        if (!duk_is_function(ctx, -1)) {
            duk_pop(ctx);
            duk_get_global_string(ctx, a->main_name);
        }
    }
    if (!duk_is_function(ctx, -1)) {
        a->no_main = 1;
        return 0;
    }
    duk_put_prop_string(ctx, stash, "main");
    return 0;
}

int engine_heap_load(engine_heap *h, const char *code, size_t code_len, const char *main_name,
                     const char *tenant, const engine_limits *lim, engine_outcome *out) {
    (void)tenant; /* Duktape keeps nothing across heaps */
    memset(out, 0, sizeof *out);
    if (code_len >= 4 && !memcmp(code, "PK\3\4", 4)) {
        /* a zip (engine.h): the gateway refuses one of a Duktape kind, but
         * it cannot see inside a confidential deploy */
        engine_outcome_error(out, TFAAS_STATUS_DEVELOPER_ERR,
                             "Initialization has failed due to: zip actions run on the V8 kinds (nodejs:*, js:v8)");
        out->discard = 1;
        finish(h, out);
        return -1;
    }
    load_args a = {code, code_len, main_name && *main_name ? main_name : "main", 0};
    begin(h, lim);
    duk_idx_t top = duk_get_top(h->ctx);
    int rc = duk_safe_call(h->ctx, load_safe, &a, 0, 1);
    if (rc != DUK_EXEC_SUCCESS) {
        fail_with_error(h, out, "Initialization has failed due to: ");
        finish(h, out);
        return -1;
    }
    duk_set_top(h->ctx, top);
    if (h->timed_out || h->refused) { /* caught its own limit error: still a failure */
        duk_push_undefined(h->ctx);
        fail_with_error(h, out, "");
        finish(h, out);
        return -1;
    }
    if (a.no_main) {
        engine_outcome_no_main(out, a.main_name);
        finish(h, out);
        return -1;
    }
    h->deadline_ns = 0;
    return 0;
}

typedef struct {
    const char *params;
    size_t params_len;
    int bad_params; /* the params text is not a JSON object */
    const engine_env *env; /* the activation's environment, or NULL */
} call_args;

/* main(JSON.parse(params), env); leaves JSON.stringify(result) when the
 * result is an object, undefined otherwise. env, the activation's __OW_*
 * values as an object, is how js:* kinds get them (nodejs:* kinds, on V8
 * only, read process.env; docs/api.md). */
static duk_ret_t call_safe(duk_context *ctx, void *ud) {
    call_args *a = ud;
    duk_push_heap_stash(ctx);
    duk_get_prop_string(ctx, -1, "main");
    a->bad_params = 1; /* until the text parses as an object */
    duk_push_lstring(ctx, a->params, a->params_len);
    duk_json_decode(ctx, -1);
    if (!duk_is_object(ctx, -1) || duk_is_array(ctx, -1) || duk_is_function(ctx, -1)) return 0;
    a->bad_params = 0;
    duk_idx_t nargs = 1;
    if (a->env && a->env->env_json) {
        duk_push_lstring(ctx, a->env->env_json, a->env->env_len);
        duk_json_decode(ctx, -1);
        nargs = 2;
    }
    duk_call(ctx, nargs);
    if (duk_is_object(ctx, -1) && !duk_is_array(ctx, -1) && !duk_is_function(ctx, -1))
        duk_json_encode(ctx, -1);
    else
        duk_push_undefined(ctx);
    return 1;
}

/* Whether the JSON object text has a top-level "error" member: an own
 * property, so an "error" the function put on Object.prototype does not turn
 * its success into an application error. */
static duk_ret_t has_error_safe(duk_context *ctx, void *ud) {
    int *has = ud;
    duk_json_decode(ctx, -1);
    duk_push_string(ctx, "error");
    duk_get_prop_desc(ctx, -2, 0); /* Object.getOwnPropertyDescriptor */
    *has = !duk_is_undefined(ctx, -1);
    return 0;
}

void engine_heap_call(engine_heap *h, const char *params, size_t params_len,
                      const engine_limits *lim, engine_outcome *out) {
    memset(out, 0, sizeof *out);
    call_args a = {params, params_len, 0, lim->env};
    begin(h, lim);
    duk_context *ctx = h->ctx;
    duk_idx_t top = duk_get_top(ctx);
    int rc = duk_safe_call(ctx, call_safe, &a, 0, 1);
    if (a.bad_params && !h->timed_out && !h->refused) {
        /* The host checks params; reaching here means it let a bad one through. */
        engine_outcome_error(out, TFAAS_STATUS_INTERNAL_ERR, "The action parameters are not a JSON object.");
        goto done;
    }
    if (rc != DUK_EXEC_SUCCESS) {
        fail_with_error(h, out, "An error has occurred: ");
        goto done;
    }
    if (h->timed_out || h->refused) { /* caught its own limit error: still a failure */
        fail_with_error(h, out, "");
        goto done;
    }
    duk_size_t len;
    const char *json = duk_get_lstring(ctx, -1, &len);
    if (!json || json[0] != '{') {
        engine_outcome_error(out, TFAAS_STATUS_DEVELOPER_ERR, ENGINE_MSG_NOT_DICT);
        goto done;
    }
    if (len > lim->max_result_bytes) {
        engine_outcome_too_long(out, (size_t)len, lim->max_result_bytes);
        goto done;
    }
    out->result = malloc(len + 1);
    if (!out->result) {
        engine_outcome_error(out, TFAAS_STATUS_INTERNAL_ERR, ENGINE_MSG_ENCLAVE_OOM);
        goto done;
    }
    memcpy(out->result, json, len + 1);
    out->status = TFAAS_STATUS_SUCCESS;
    /* Cheap test first; the parse settles a quoted "error" inside a value. */
    if (strstr(out->result, "\"error\"")) {
        int has = 0;
        duk_dup(ctx, -1);
        if (duk_safe_call(ctx, has_error_safe, &has, 1, 1) == DUK_EXEC_SUCCESS && has)
            out->status = TFAAS_STATUS_APPLICATION_ERR;
        duk_pop(ctx);
    }
done:
    duk_set_top(ctx, top);
    /* A heap that brushed its memory limit is kept no further. */
    if (h->refused) out->discard = 1;
    finish(h, out);
}

int engine_self_test(void) {
    /* With an already expired deadline the first interrupt must stop this
     * loop; an engine without the check runs it to the end and loads fine. */
    static const char probe[] = "for (var i = 0; i < 2000000; i++) {}";
    return engine_probe_interrupts(probe, sizeof probe - 1, 8u << 20);
}
