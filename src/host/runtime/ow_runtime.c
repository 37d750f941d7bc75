/* ow_runtime.c - init once, run many: the OpenWhisk action-runtime state
 * machine over the scheduler (ow_runtime.h). */
#include "host/runtime/ow_runtime.h"

#include "host/gateway/action_doc.h"
#include "host/runtime/ow_proto.h"
#include "host/util/clock.h"
#include "host/util/ids.h"
#include "host/util/utf8.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The one function's names in the scheduler: its own tenant and revision. */
#define OW_TENANT "owruntime"
#define OW_FN_KEY "owruntime/action@1"

typedef enum {
    ST_EMPTY = 0,     /* no /init yet (or only malformed ones) */
    ST_INITIALIZING,  /* one /init is loading the code */
    ST_READY,         /* initialized: /run runs */
    ST_FAILED,        /* the code did not load: nothing runs */
} ow_state;

struct ow_runtime {
    ow_runtime_config cfg;     /* api_host points to api_host below */
    char *api_host;
    pthread_mutex_t mu;        /* guards the fields below it up to log_mu */
    ow_state state;
    char *code;                /* wrapped code (ow_proto_wrap), or a zip's base64, from ST_READY on */
    size_t code_len;
    char *main;                /* a zip action's entry point, from ST_READY on (NULL: not a zip) */
    json_t *base_env;          /* init env + __OW_API_HOST, from ST_READY on */
    unsigned running;          /* /run calls past the state check */
    unsigned inflight;         /* activations submitted and not yet finished */
    int stopping;              /* ow_runtime_shutdown: nothing more is submitted */
    pthread_cond_t idle;       /* inflight dropped to 0 (CLOCK_MONOTONIC) */
    pthread_mutex_t log_mu;    /* guards writes to cfg.out and cfg.err */
};

json_t *ow_error_body(const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    utf8_sanitize(msg); /* messages may quote the function's or the caller's text */
    return json_pack("{ss}", "error", msg);
}

ow_runtime *ow_runtime_new(const ow_runtime_config *cfg, char **err) {
    ow_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) goto err_alloc;
    rt->cfg = *cfg;
    if (cfg->api_host && !(rt->api_host = strdup(cfg->api_host))) goto err_host;
    rt->cfg.api_host = rt->api_host;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rt->idle, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&rt->mu, NULL);
    pthread_mutex_init(&rt->log_mu, NULL);
    return rt;

err_host:
    free(rt);
err_alloc:
    *err = strdup("out of memory");
    return NULL;
}

void ow_runtime_free(ow_runtime *rt) {
    if (!rt) return;
    pthread_mutex_destroy(&rt->mu);
    pthread_mutex_destroy(&rt->log_mu);
    pthread_cond_destroy(&rt->idle);
    free(rt->code);
    free(rt->main);
    json_decref(rt->base_env);
    free(rt->api_host);
    free(rt);
}

/* --- one activation in the scheduler ------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;         /* set once, by the scheduler's callback */
    sched_result res; /* its strings (the struct itself is the scheduler's) */
} waiter;

static void on_done(void *ud, sched_result *res) {
    waiter *w = ud;
    pthread_mutex_lock(&w->mu);
    w->res = *res;
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Runs params through the function: 0 with *out (free its strings with
 * sched_result_free), or -1 with *refusal (an errno of scheduler_submit)
 * when it was not accepted. main and action: a zip action's entry point
 * and INVOKE's ACTION description (ow_run_zip); NULL for wrapped code. */
static int run_job(ow_runtime *rt, const char *code, size_t code_len, const char *main, const char *action,
                   const char *params, const char *activation_id, uint32_t timeout_ms, sched_result *out,
                   int *refusal) {
    sched_job job = {.ns = OW_TENANT,
                     .engine = rt->cfg.engine,
                     .fn_key = OW_FN_KEY,
                     .code = code,
                     .code_len = code_len,
                     /* wrapped code: the wrapper is module.exports, which the engines take first */
                     .main = main ? main : "main",
                     .action_json = action,
                     .params_json = params,
                     .params_len = strlen(params),
                     .activation_id = activation_id,
                     .timeout_ms = timeout_ms,
                     .memory_bytes = rt->cfg.memory_bytes,
                     .max_result_bytes = OW_MAX_RESULT,
                     .max_log_bytes = rt->cfg.max_log_bytes,
                     .concurrency = rt->cfg.allow_concurrent ? rt->cfg.concurrency : 1,
                     .isolation = ISOLATION_UNSET};
    waiter w = {.done = 0};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    /* Submitted under mu, so that once ow_runtime_shutdown has returned no
     * thread is inside scheduler_submit and the scheduler may go. (on_done
     * never takes mu.) */
    pthread_mutex_lock(&rt->mu);
    int rc = rt->stopping ? (errno = ESHUTDOWN, -1) : scheduler_submit(rt->cfg.sched, &job, on_done, &w);
    if (rc == 0) rt->inflight++;
    else *refusal = errno ? errno : EIO;
    pthread_mutex_unlock(&rt->mu);
    if (rc == 0) {
        /* The scheduler calls back exactly once per accepted submission,
         * within the timeout plus its kill grace, or at its shutdown. */
        pthread_mutex_lock(&w.mu);
        while (!w.done) pthread_cond_wait(&w.cv, &w.mu);
        *out = w.res;
        pthread_mutex_unlock(&w.mu);
        pthread_mutex_lock(&rt->mu);
        if (--rt->inflight == 0) pthread_cond_broadcast(&rt->idle);
        pthread_mutex_unlock(&rt->mu);
    }
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    return rc;
}

/* The activation's log lines, each to the stream it was written on, then
 * (sentinel) OpenWhisk's end-of-activation line on both. */
static void write_logs(ow_runtime *rt, const char *logs, int sentinel) {
    pthread_mutex_lock(&rt->log_mu);
    int on_err = 0;
    for (const char *p = logs ? logs : ""; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p), off;
        on_err = ow_log_line(p, len, on_err, &off);
        FILE *f = on_err ? rt->cfg.err : rt->cfg.out;
        if (ow_log_forges_sentinel(p + off, len - off)) fputs(OW_LOG_FORGED_PREFIX, f);
        fwrite(p + off, 1, len - off, f);
        fputc('\n', f);
        p += len + (nl ? 1 : 0);
    }
    if (sentinel) {
        fputs(OW_LOG_SENTINEL "\n", rt->cfg.out);
        fputs(OW_LOG_SENTINEL "\n", rt->cfg.err);
    }
    fflush(rt->cfg.out);
    fflush(rt->cfg.err);
    pthread_mutex_unlock(&rt->log_mu);
}

/* The function's answer as a JSON object (the enclave's result text). */
static json_t *result_body(const sched_result *res) {
    json_t *v = json_loads(res->result_json ? res->result_json : "", 0, NULL);
    if (json_is_object(v)) return v;
    json_decref(v);
    return ow_error_body("The action did not return a dictionary.");
}

/* The 400 body for a body ow_proto refused (with jansson's reason for bad JSON). */
static json_t *malformed(ow_status ps, const char *jerr) {
    if (ps == OW_BAD_JSON && jerr[0]) return ow_error_body("%s: %s", ow_status_name(ps), jerr);
    return ow_error_body("%s", ow_status_name(ps));
}

static ow_reply refused(int err) {
    if (err == EAGAIN)
        return (ow_reply){429, ow_error_body("Too many concurrent activations: the runtime's queue is full")};
    if (err == ESHUTDOWN) return (ow_reply){503, ow_error_body("The runtime is shutting down")};
    return (ow_reply){503, ow_error_body("The runtime could not start the activation: %s", strerror(err))};
}

/* --- /init ----------------------------------------------------------------- */

static void set_state(ow_runtime *rt, ow_state st) {
    pthread_mutex_lock(&rt->mu);
    rt->state = st;
    pthread_mutex_unlock(&rt->mu);
}

/* The environment every activation starts from: __OW_API_HOST of this
 * process, then the init's env over it. New reference or NULL. */
static json_t *base_env(const ow_runtime *rt, const json_t *init_env) {
    json_t *env = json_object();
    if (!env) return NULL;
    if (rt->cfg.api_host && json_object_set_new(env, "__OW_API_HOST", json_string(rt->cfg.api_host)) < 0) {
        json_decref(env);
        return NULL;
    }
    if (json_object_update(env, (json_t *)init_env) < 0) {
        json_decref(env);
        return NULL;
    }
    return env;
}

/* /init of a zip action: its archive checked as the gateway checks one at
 * create, then installed as it is (the enclave unzips and checks it again
 * at every load); nothing runs until the first /run (ow_runtime.h). */
static ow_reply init_zip(ow_runtime *rt, ow_init *in) {
    char why[512]; /* code_archive_message cuts the entry to 256 bytes */
    if (action_zip_check(rt->cfg.kind, in->code, in->code_len, why, sizeof why) < 0) {
        ow_init_clear(in);
        set_state(rt, ST_EMPTY); /* nothing was installed: a correct /init may follow */
        return (ow_reply){400, ow_error_body("%s", why)};
    }
    json_t *env = base_env(rt, in->env);
    if (!env) {
        ow_init_clear(in);
        set_state(rt, ST_EMPTY);
        return (ow_reply){500, ow_error_body("The runtime ran out of memory")};
    }
    pthread_mutex_lock(&rt->mu);
    rt->code = in->code; /* taken from in */
    rt->code_len = in->code_len;
    rt->main = in->main;
    rt->base_env = env;
    rt->state = ST_READY;
    pthread_mutex_unlock(&rt->mu);
    in->code = in->main = NULL;
    ow_init_clear(in);
    return (ow_reply){200, json_pack("{sb}", "OK", 1)};
}

ow_reply ow_runtime_init(ow_runtime *rt, const char *body, size_t len) {
    pthread_mutex_lock(&rt->mu);
    ow_state st = rt->state;
    if (st == ST_EMPTY) rt->state = ST_INITIALIZING;
    pthread_mutex_unlock(&rt->mu);
    if (st != ST_EMPTY) return (ow_reply){403, ow_error_body("Cannot initialize the action more than once.")};

    ow_init in;
    char jerr[160];
    ow_status ps = ow_init_parse(body, len, &in, jerr, sizeof jerr);
    if (ps != OW_OK) {
        set_state(rt, ST_EMPTY); /* nothing was installed: a correct /init may follow */
        return (ow_reply){400, malformed(ps, jerr)};
    }
    if (in.binary) return init_zip(rt, &in);
    size_t code_len = 0;
    char *code = ow_proto_wrap(in.code, in.code_len, in.main, &code_len);
    json_t *env = base_env(rt, in.env);
    char *params = env ? ow_init_params(env) : NULL;
    ow_init_clear(&in);
    char id[33];
    if (!code || !params || ids_activation(id) < 0) {
        free(code);
        free(params);
        json_decref(env);
        set_state(rt, ST_EMPTY);
        return (ow_reply){500, ow_error_body("The runtime ran out of memory")};
    }
    /* Loading the code is the probe's whole work: the wrapper returns {}
     * without calling the entry point. */
    int refusal = 0;
    sched_result done, *res = &done;
    int rc = run_job(rt, code, code_len, NULL, NULL, params, id, rt->cfg.timeout_ms, res, &refusal);
    free(params);
    ow_reply r;
    if (rc < 0) {
        r = refused(refusal);
        set_state(rt, ST_EMPTY);
        free(code);
        json_decref(env);
        return r;
    }
    int ok = res->status == TFAAS_STATUS_SUCCESS && !res->not_run;
    /* As OpenWhisk's runtimes: what loading printed belongs to the first
     * activation's logs; a failed init ends its logs here. */
    write_logs(rt, res->logs, !ok);
    if (ok) {
        r = (ow_reply){200, json_pack("{sb}", "OK", 1)};
        pthread_mutex_lock(&rt->mu);
        rt->code = code;
        rt->code_len = code_len;
        rt->base_env = env;
        rt->state = ST_READY;
        pthread_mutex_unlock(&rt->mu);
    } else {
        json_t *why = result_body(res);
        r = (ow_reply){res->not_run ? 503 : 502, why};
        free(code);
        json_decref(env);
        set_state(rt, res->not_run ? ST_EMPTY : ST_FAILED);
    }
    sched_result_free(res);
    return r;
}

/* --- /run ------------------------------------------------------------------ */

/* *logged: the activation ran and its logs and sentinels were written. */
static ow_reply run_ready(ow_runtime *rt, const char *body, size_t len, int *logged) {
    char *params = NULL, *action = NULL, id[33], jerr[160];
    int64_t deadline = 0;
    ow_status ps = rt->main ? ow_run_zip(body, len, rt->base_env, !strncmp(rt->cfg.kind, "nodejs:", 7), &params,
                                         &action, &deadline, id, jerr, sizeof jerr)
                            : ow_run_params(body, len, rt->base_env, &params, &deadline, id, jerr, sizeof jerr);
    if (ps != OW_OK)
        return (ow_reply){400, malformed(ps, jerr)};
    /* OpenWhisk's deadline (epoch ms) is when the invoker gives up: the
     * activation gets no more than what is left of it. */
    uint32_t timeout = rt->cfg.timeout_ms;
    if (deadline) {
        int64_t left = deadline - clock_wall_ms();
        if (left <= 0) {
            free(params);
            free(action);
            return (ow_reply){502, ow_error_body("The activation's deadline had passed; the action did not run.")};
        }
        if (left < (int64_t)timeout) timeout = (uint32_t)left;
    }
    if (!id[0] && ids_activation(id) < 0) snprintf(id, sizeof id, "0");
    int refusal = 0;
    sched_result done, *res = &done;
    int rc = run_job(rt, rt->code, rt->code_len, rt->main, action, params, id, timeout, res, &refusal);
    free(params);
    free(action);
    if (rc < 0) return refused(refusal);
    write_logs(rt, res->logs, 1);
    *logged = 1;
    ow_reply r;
    if (res->not_run) r = (ow_reply){503, result_body(res)};
    else if (res->status == TFAAS_STATUS_SUCCESS || res->status == TFAAS_STATUS_APPLICATION_ERR)
        r = (ow_reply){200, result_body(res)};
    else r = (ow_reply){res->status == TFAAS_STATUS_DEVELOPER_ERR ? 502 : 500, result_body(res)};
    sched_result_free(res);
    return r;
}

ow_reply ow_runtime_run(ow_runtime *rt, const char *body, size_t len) {
    pthread_mutex_lock(&rt->mu);
    ow_state st = rt->state;
    int busy = st == ST_READY && !rt->cfg.allow_concurrent && rt->running > 0;
    if (st == ST_READY && !busy) rt->running++;
    pthread_mutex_unlock(&rt->mu);
    if (st == ST_FAILED)
        return (ow_reply){409, ow_error_body("The action failed to initialize; it cannot run.")};
    if (st != ST_READY)
        return (ow_reply){409, ow_error_body("The action is not initialized: POST /init first.")};
    if (busy)
        return (ow_reply){503, ow_error_body("Another activation is running and concurrent activations are not "
                                             "allowed (start the runtime with __OW_ALLOW_CONCURRENT=true)")};
    /* code, main and base_env never change once ST_READY: read without mu. */
    int logged = 0;
    ow_reply r = run_ready(rt, body, len, &logged);
    if (!logged) write_logs(rt, NULL, 1); /* the invoker waits for the sentinels of every /run */
    pthread_mutex_lock(&rt->mu);
    rt->running--;
    pthread_mutex_unlock(&rt->mu);
    return r;
}

/* --- shutdown ---------------------------------------------------------------- */

void ow_runtime_shutdown(ow_runtime *rt) {
    pthread_mutex_lock(&rt->mu);
    rt->stopping = 1;
    pthread_mutex_unlock(&rt->mu);
}

unsigned ow_runtime_drain(ow_runtime *rt, unsigned timeout_ms) {
    struct timespec dl = clock_mono_deadline(timeout_ms);
    pthread_mutex_lock(&rt->mu);
    while (rt->inflight > 0)
        if (pthread_cond_timedwait(&rt->idle, &rt->mu, &dl) == ETIMEDOUT) break;
    unsigned left = rt->inflight;
    pthread_mutex_unlock(&rt->mu);
    return left;
}
