/* ow_runtime.h - one OpenWhisk action container's worth of state: the
 * function /init installed once, and the /run activations of it, each run
 * in a tfaas enclave through the scheduler (the same machinery as `tfaas
 * serve`: the function's code and parameters go to the enclave, never to an
 * engine in this process). Answers are {status, JSON body} for the HTTP
 * layer (ow_http.c); the activation's logs go to the log streams, each
 * activation's followed by OpenWhisk's end-of-activation sentinel on both
 * (a line of the function's that would read as one is marked, see
 * ow_log_forges_sentinel).
 *
 * Protocol decisions (docs/api.md, "OpenWhisk runtime mode"):
 *   /init once: 200 {"OK": true}; a second /init (also one racing the
 *   first) 403; a body that is not a valid init 400 (and /init may be tried
 *   again), so is a zip (binary) action whose archive the gateway would
 *   refuse (action_zip_check: not base64, a hostile archive, a Duktape
 *   kind); code that does not load (syntax error, top-level throw, no such
 *   entry point) 502, and the runtime stays failed. A zip action's code is
 *   not loaded by /init (its entry point cannot be taken without calling
 *   it, ow_proto.h): whatever keeps it from loading is the first /run's
 *   502.
 *   /run: 200 with the function's result (also {"error": ...} results,
 *   OpenWhisk's "application error"); 502 {"error": ...} when the function
 *   threw, timed out, ran out of memory or returned no object; 500 for an
 *   internal error; 409 before a successful /init; 400 for a malformed body;
 *   503 when another activation runs and concurrency was not allowed, or
 *   the runtime is stopping; 429 when concurrent activations are allowed
 *   and the queue is full.
 *
 * Concurrency: ow_runtime_init and ow_runtime_run may be called from any
 * number of threads at once. `mu` guards state, the installed function
 * (code, base_env, written once before state becomes ready and only read
 * after), running, inflight and stopping, and is held across
 * scheduler_submit; `log_mu` guards writes to the log streams
 * (one activation's lines and sentinels are written together). mu is never
 * held while waiting for an activation, nor together with log_mu. */
#ifndef TFAAS_HOST_RUNTIME_OW_RUNTIME_H
#define TFAAS_HOST_RUNTIME_OW_RUNTIME_H

#include "host/scheduler/scheduler.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ow_runtime ow_runtime;

typedef struct {
    scheduler *sched;          /* borrowed; outlives the runtime */
    const char *kind;          /* the action's kind (borrowed; outlives the runtime) */
    sched_engine engine;       /* the kind's engine */
    uint32_t timeout_ms;       /* an activation's limit; a run's deadline may shorten it */
    uint64_t memory_bytes;     /* an activation's heap limit */
    uint64_t max_log_bytes;    /* an activation's log limit */
    unsigned concurrency;      /* heaps running at once when allow_concurrent */
    int allow_concurrent;      /* OpenWhisk's __OW_ALLOW_CONCURRENT */
    const char *api_host;      /* __OW_API_HOST for process.env, or NULL; copied */
    FILE *out, *err;           /* the log streams: stdout and stderr */
} ow_runtime_config;

/* An answer: HTTP status and its JSON body (owned by the caller). */
typedef struct {
    unsigned status;
    json_t *body;
} ow_reply;

ow_runtime *ow_runtime_new(const ow_runtime_config *cfg, char **err);
/* After the scheduler has stopped (no callback left to come). */
void ow_runtime_free(ow_runtime *rt);

/* POST /init and POST /run with their bodies (not NUL-terminated). Block
 * until the answer is known. */
ow_reply ow_runtime_init(ow_runtime *rt, const char *body, size_t len);
ow_reply ow_runtime_run(ow_runtime *rt, const char *body, size_t len);

/* Shutdown, first step: from its return on, no call submits anything to the
 * scheduler (they answer 503), so the scheduler may be quiesced and
 * destroyed while requests still arrive. */
void ow_runtime_shutdown(ow_runtime *rt);
/* Waits up to timeout_ms for the submitted activations to finish; returns
 * how many are left. */
unsigned ow_runtime_drain(ow_runtime *rt, unsigned timeout_ms);

/* {"error": message}: the runtime protocol's one error shape (OpenWhisk
 * reads the single field "error"; the REST API's "code" has no place here). */
json_t *ow_error_body(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
