/* endpoint.c - reader loop, lanes, invocation queue and worker threads
 * (endpoint.h).
 *
 * Frames are validated completely on the reader thread, so a worker only ever
 * sees a well-formed INVOKE. Replies from several workers are serialised by
 * one send mutex: a frame is always written whole.
 *
 * Threads: the main thread reads the channel (endpoint_run) and is the only
 * one that enqueues, cancels or applies a DROP; `workers` worker threads take
 * jobs, send results and go on with the next job of the same lane (keeping
 * confidential answers meanwhile to sign their receipts in one batch,
 * confidential.h; the spare heap's maker is a thread of spare_heap.c's, at
 * idle priority). Locks:
 * qlock guards the job queue and the lanes, send_lock the channel's write
 * side (the main thread's HELLO goes out before any job exists, so without
 * it). Order: send_lock before qlock, taken so only by cancel (its NOT_RUN
 * must leave before the RESULT of the job ahead, see there); a worker lets
 * go of qlock before it sends.
 * The warm heaps are fn_table's, under its own lock (function.c); the blank
 * spare heap locks itself (spare_heap.c), as does conf_state (confidential.c). */
#include "trusted/endpoint.h"

#include "trusted/confidential.h"

#include "common/ipc.h"
#include "trusted/fetch/fetch.h"
#include "trusted/host_frame.h"
#include "trusted/run_spec.h"
#include "trusted/spare_heap.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct lane lane;

typedef struct job {
    ipc_msg msg; /* a validated IPC_INVOKE, owned */
    lane *lane;  /* its function's */
    struct job *next;
    /* The worker's own, set as it answers (send_result): the lane has moved
     * on, and `after` is the job of the lane it runs next (NULL: none). */
    int advanced;
    struct job *after;
    /* The worker's receipts not yet signed (confidential.h), answered
     * before anything else this worker sends: the host takes RESULTs of a
     * lane in the order the lane moved. */
    conf_batch *batch;
} job;

/* A function revision's lane: at most its concurrency of its jobs are
 * queued for a worker or running (`active`); the host may send more (it
 * pipelines them), and those wait here in arrival order. The worker that
 * finishes one of its jobs goes on with the next waiting one itself: no
 * hand-over, and the same warm heap. The host mirrors this exactly
 * (scheduler/enclave.c, lane_advance) to know when a waiting job starts. */
struct lane {
    lane *next; /* hash chain */
    unsigned active;
    job *whead, *wtail; /* waiting */
    size_t key_len;
    char key[];
};

#define LANE_BUCKETS 256u

struct endpoint {
    /* Set before the workers start, then read-only: */
    int fd;
    unsigned workers;
    fn_table *fns;
    spare_heap *spare; /* the blank heap a function's first lease takes */
    conf_state *conf; /* NULL without a TEE: confidential functions are refused */
    /* The main thread's only (it starts and joins the workers): */
    pthread_t *threads;
    unsigned started;
    pthread_mutex_t send_lock; /* writes on fd: one whole frame at a time */
    pthread_mutex_t qlock;     /* guards the fields below */
    pthread_cond_t qcond;      /* a job was queued, or closing */
    job *head, *tail;          /* jobs for a worker (their lane had room) */
    size_t queued;             /* jobs in the queue and waiting in lanes */
    lane *lanes[LANE_BUCKETS];
    int closing; /* no more jobs will come: workers exit once the queue is empty */
};


/* A protocol violation or an unusable channel: say why, stop at once. */
static _Noreturn void die(const char *what, const char *detail) {
    fprintf(stderr, "tfaas-enclave: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    _exit(1);
}

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- replies ------------------------------------------------------------ */

static job *lane_next(endpoint *e, lane *l);

/* A RESULT frame for id into w (which the caller frees); sealed is the
 * OHTTP response of a confidential call (NULL otherwise). */
static ipc_status encode_result(ipc_writer *w, uint64_t id, const engine_outcome *o, uint64_t duration_us,
                                uint64_t init_us, const uint8_t *sealed, size_t sealed_len) {
    ipc_writer_begin(w, IPC_RESULT, id);
    ipc_put_u64(w, (uint64_t)o->status);
    ipc_put_str(w, o->result ? o->result : "{}");
    ipc_put_str(w, o->logs ? o->logs : "");
    ipc_put_u64(w, duration_us);
    ipc_put_u64(w, init_us);
    ipc_put_u64(w, o->peak_memory);
    ipc_put_bytes(w, sealed, sealed ? sealed_len : 0);
    ipc_status st = ipc_writer_finish(w);
    if (st != IPC_OK) {
        /* Logs can make a reply too large for a frame: answer without them. */
        ipc_writer_begin(w, IPC_RESULT, id);
        ipc_put_u64(w, TFAAS_STATUS_INTERNAL_ERR);
        ipc_put_str(w, "{\"error\":\"The enclave could not encode the activation result.\"}");
        ipc_put_str(w, "");
        ipc_put_u64(w, duration_us);
        ipc_put_u64(w, init_us);
        ipc_put_u64(w, o->peak_memory);
        ipc_put_bytes(w, NULL, 0);
        st = ipc_writer_finish(w);
    }
    return st;
}

/* Writes an encoded RESULT (st: how its encoding went); send_lock held. */
static void send_frame(endpoint *e, ipc_writer *w, ipc_status st) {
    if (st == IPC_OK) st = ipc_send(e->fd, w);
    /* A failed send means the host is gone; the reader sees EOF and ends. */
    if (st != IPC_OK) fprintf(stderr, "tfaas-enclave: cannot send a result: %s\n", ipc_status_str(st));
}

static void batch_flush(endpoint *e, conf_batch *b);

/* A worker's answer for its job j (sealed: see encode_result). */
static void send_result_sealed(endpoint *e, job *j, const engine_outcome *o, uint64_t duration_us,
                               uint64_t init_us, const uint8_t *sealed, size_t sealed_len) {
    if (j->batch) batch_flush(e, j->batch);
    ipc_writer w = {0};
    ipc_status st = encode_result(&w, j->msg.id, o, duration_us, init_us, sealed, sealed_len);
    /* The host counts the next job of j's lane as started once it reads this
     * (lane_advance there), so the lane moves before it leaves: a CANCEL
     * read meanwhile no longer finds that job waiting. Moved after, the
     * CANCEL could take that job out and its NOT_RUN follow this RESULT,
     * which the host treats as a violation (it kills the enclave). */
    if (!j->advanced) {
        pthread_mutex_lock(&e->qlock);
        j->after = lane_next(e, j->lane);
        j->advanced = 1;
        pthread_mutex_unlock(&e->qlock);
    }
    /* Sent at once (after the answers this worker kept for a batch of
     * receipts, which went out above): the host learns that a lane moved on
     * before anything else of that lane happens. Only confidential answers
     * wait, in the worker's batch (send_outcome, worker_main), and those
     * leave in the order their lane moved. */
    pthread_mutex_lock(&e->send_lock);
    send_frame(e, &w, st);
    pthread_mutex_unlock(&e->send_lock);
    ipc_writer_free(&w);
}

static void send_result(endpoint *e, job *j, const engine_outcome *o, uint64_t duration_us, uint64_t init_us) {
    send_result_sealed(e, j, o, duration_us, init_us, NULL, 0);
}

static void send_error(endpoint *e, job *j, tfaas_status status, const char *message) {
    engine_outcome o = {0};
    engine_outcome_error(&o, status, message);
    o.logs = NULL;
    send_result(e, j, &o, 0, 0);
    engine_outcome_free(&o);
}

/* ---- one invocation, on a worker --------------------------------------- */

/* One sealed answer of a signed batch (conf_sent_fn): its lane moved on
 * when it was added (send_outcome), so it only goes out. */
static void batch_sent(void *arg, uint64_t id, const uint8_t *sealed, size_t sealed_len, const char *logs) {
    endpoint *e = arg;
    engine_outcome ran = {.status = TFAAS_STATUS_SUCCESS, .result = NULL, .logs = (char *)logs};
    if (!sealed)
        ran = (engine_outcome){.status = TFAAS_STATUS_INTERNAL_ERR,
                               .result = "{\"error\":\"The enclave could not seal the response.\"}", .logs = ""};
    ipc_writer w = {0};
    ipc_status st = encode_result(&w, id, &ran, 0, 0, sealed, sealed_len);
    pthread_mutex_lock(&e->send_lock);
    send_frame(e, &w, st);
    pthread_mutex_unlock(&e->send_lock);
    ipc_writer_free(&w);
}

/* Signs and sends the receipts a worker holds (none: nothing to do). */
static void batch_flush(endpoint *e, conf_batch *b) {
    if (b->n) conf_batch_flush(e->conf, b, batch_sent, e);
}

/* The outcome as the host gets it: as is, or for a confidential function
 * sealed (response with the receipt inside, logs) so that the host learns
 * nothing of it, with no duration or memory figure. A confidential outcome
 * joins the worker's batch of receipts and the lane moves on at once, so
 * the worker can go on with the lane's next call; worker_main decides when
 * the batch is signed and sent. */
static void send_outcome(endpoint *e, job *j, conf_call *call, engine_outcome *o, uint64_t duration_us,
                         uint64_t init_us, uint64_t cpu_us) {
    const ipc_msg *m = &j->msg;
    if (!call) {
        send_result(e, j, o, duration_us, init_us);
        return;
    }
    /* No figure of the run in the clear: status, memory and times are in
     * the encrypted receipt only (the host still times the round trip). */
    char *aid = ipc_get_str(m, INV_ACTIVATION_ID);
    if (!aid || conf_batch_add(e->conf, j->batch, m->id, call, o, aid, cpu_us) < 0) {
        free(aid);
        send_error(e, j, TFAAS_STATUS_INTERNAL_ERR, "The enclave could not seal the response.");
        return;
    }
    free(aid);
    if (j->batch->n == 1) j->batch->first_us = now_us();
    pthread_mutex_lock(&e->qlock);
    j->after = lane_next(e, j->lane);
    j->advanced = 1;
    pthread_mutex_unlock(&e->qlock);
}

static uint64_t field_u64(const ipc_msg *m, unsigned idx) {
    uint64_t v = 0;
    ipc_get_u64(m, idx, &v); /* validated on arrival */
    return v;
}

/* The thread's CPU time is a system call (no vDSO for it): read only for a
 * confidential call, whose receipt carries it (0 otherwise). */
static uint64_t thread_cpu_us(int confidential) {
    if (!confidential) return 0;
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A confidential step that did not reach READY: NEED_KEYS with the
 * identity, or a refusal. */
static void send_conf_reply(endpoint *e, job *j, conf_step step, char *reply) {
    engine_outcome o = {.status = step == CONF_NEED_KEYS ? TFAAS_STATUS_NEED_KEYS : TFAAS_STATUS_APPLICATION_ERR,
                        .result = reply ? reply : "{\"error\":\"" ENGINE_MSG_ENCLAVE_OOM "\",\"status\":503}",
                        .logs = ""};
    send_result(e, j, &o, 0, 0);
    free(reply);
}

static void run_invoke(endpoint *e, job *j, run_spec_cache *cache) {
    const ipc_msg *m = &j->msg;
    char *key = ipc_get_str(m, INV_FN_KEY), *main = ipc_get_str(m, INV_MAIN);
    conf_call call;
    memset(&call, 0, sizeof call);
    run_spec spec = {0};
    uint8_t *zip = NULL;
    if (!key || !main) {
        send_error(e, j, TFAAS_STATUS_INTERNAL_ERR, ENGINE_MSG_ENCLAVE_OOM);
        goto out;
    }
    engine_limits lim = {
        .timeout_ms = field_u64(m, INV_TIMEOUT_MS),
        .max_result_bytes = (size_t)field_u64(m, INV_MAX_RESULT_BYTES),
        .max_log_bytes = (size_t)field_u64(m, INV_MAX_LOG_BYTES),
    };
    uint64_t concurrency = field_u64(m, INV_CONCURRENCY);
    int confidential = field_u64(m, INV_CONFIDENTIAL) == 1;
    const char *code = (const char *)m->fields[INV_CODE].ptr, *params = (const char *)m->fields[INV_PARAMS].ptr;
    size_t code_len = m->fields[INV_CODE].len, params_len = m->fields[INV_PARAMS].len;
    {
        char *aid = ipc_get_str(m, INV_ACTIVATION_ID), *why = NULL;
        int rc = run_spec_read(&spec, cache, (const char *)m->fields[INV_ACTION].ptr, m->fields[INV_ACTION].len, aid,
                               lim.timeout_ms, &why);
        free(aid);
        if (rc < 0) {
            send_error(e, j, TFAAS_STATUS_INTERNAL_ERR, why ? why : ENGINE_MSG_ENCLAVE_OOM);
            free(why);
            goto out;
        }
        lim.env = &spec.env;
    }
    /* A zip action's base64, decoded once when its code arrives (the
     * function table keeps the zip; engines unzip it). A confidential zip
     * is decrypted raw and needs no decoding. */
    if (spec.binary && !confidential && code_len) {
        char *why = NULL;
        if (!(zip = run_spec_zip_code(code, code_len, &code_len, &why))) {
            engine_outcome o = {0};
            engine_outcome_error(&o, TFAAS_STATUS_DEVELOPER_ERR, why ? why : ENGINE_MSG_ENCLAVE_OOM);
            free(why);
            send_result(e, j, &o, 0, 0);
            engine_outcome_free(&o);
            goto out;
        }
        code = (const char *)zip;
    }
    if (confidential) {
        /* Keys first, then the code decrypted; the request is opened only
         * once the function is loadable (a resend is not a replay). */
        char *reply = NULL;
        conf_step step = conf_begin(e->conf, key, &m->fields[INV_CODE], &m->fields[INV_KEYS], &call, &reply);
        if (step != CONF_READY) {
            send_conf_reply(e, j, step, reply);
            goto out;
        }
        code = call.code;
        code_len = call.code ? call.code_len : 0;
    }
    fn_lease lease;
    fn_acquire_status st = fn_table_acquire(e->fns, key, code, code_len, main,
                                            (size_t)field_u64(m, INV_MEMORY_BYTES),
                                            concurrency > UINT32_MAX ? UINT32_MAX : (unsigned)concurrency, &lease);
    if (st == FN_NEED_CODE) {
        engine_outcome o = {.status = TFAAS_STATUS_NEED_CODE, .result = "{}", .logs = ""};
        send_result(e, j, &o, 0, 0);
        goto out;
    }
    if (st != FN_LEASED) {
        send_error(e, j, TFAAS_STATUS_INTERNAL_ERR,
                   st == FN_FULL ? "The enclave holds too many running functions." : ENGINE_MSG_ENCLAVE_OOM);
        goto out;
    }
    if (confidential) {
        char *reply = NULL;
        conf_step step = conf_open(e->conf, &call, &m->fields[INV_PARAMS], &reply);
        if (step != CONF_READY) {
            fn_table_release(e->fns, &lease, lease.heap, 0);
            send_conf_reply(e, j, step, reply);
            goto out;
        }
        params = call.params;
        params_len = call.params_len;
    }
    engine_outcome o = {0};
    uint64_t init_us = 0, t0 = now_us(), cpu0 = thread_cpu_us(confidential);
    engine_heap *heap = lease.heap;
    if (!heap) {
        heap = spare_heap_take(e->spare, lease.memory_bytes);
        if (!heap) heap = engine_heap_create(lease.memory_bytes);
        if (!heap) {
            /* The engine could not even start within the memory limit. */
            engine_outcome_limit(&o, 0, 0);
            init_us = now_us() - t0;
            fn_table_release(e->fns, &lease, NULL, 1);
            goto reply;
        }
        /* The function key is "ns/name@version": the namespace, whatever
         * identifies it, is everything before the first '/'. */
        char *tenant = strndup(key, strcspn(key, "/"));
        int rc = -1;
        if (tenant)
            rc = engine_heap_load(heap, lease.code, lease.code_len, lease.main, tenant, &lim, &o);
        else
            engine_outcome_error(&o, TFAAS_STATUS_INTERNAL_ERR, ENGINE_MSG_ENCLAVE_OOM);
        free(tenant);
        init_us = now_us() - t0;
        if (rc != 0) {
            fn_table_release(e->fns, &lease, heap, 1);
            goto reply;
        }
    }
    uint64_t t1 = now_us();
    lim.spent_ms = init_us / 1000u; /* a load's time comes out of the call's */
    /* The call's network access: the host's policy, counted and bounded by
     * the call's own deadline (trusted/fetch/fetch.h). */
    fetch_activation fa;
    fetch_activation_begin(&fa, (const char *)m->fields[INV_EGRESS].ptr, m->fields[INV_EGRESS].len, confidential,
                           t1 * 1000u + engine_budget_ns(&lim));
    lim.fetch = &fa;
    engine_heap_call(heap, params, params_len, &lim, &o);
    fetch_activation_end(&fa);
    uint64_t duration_us = now_us() - t1;
    /* Give the heap back before replying, so the host's next INVOKE finds it warm. */
    fn_table_release(e->fns, &lease, heap, o.discard);
    send_outcome(e, j, confidential ? &call : NULL, &o, duration_us, init_us, thread_cpu_us(confidential) - cpu0);
    engine_outcome_free(&o);
    goto out;
reply:
    send_outcome(e, j, confidential ? &call : NULL, &o, 0, init_us, thread_cpu_us(confidential) - cpu0);
    engine_outcome_free(&o);
out:
    spare_heap_answered(e->spare); /* no spare is made while the host handles this answer */
    conf_call_free(&call);
    run_spec_free(&spec);
    free(zip);
    free(key);
    free(main);
}

static unsigned lane_hash(const uint8_t *key, size_t len) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ key[i]) * 16777619u;
    return h % LANE_BUCKETS;
}

/* The lane of key, made if it has none. qlock held; NULL: no memory. */
static lane *lane_get(endpoint *e, const uint8_t *key, size_t len) {
    lane **b = &e->lanes[lane_hash(key, len)];
    for (lane *l = *b; l; l = l->next)
        if (l->key_len == len && memcmp(l->key, key, len) == 0) return l;
    lane *l = calloc(1, sizeof *l + len);
    if (!l) return NULL;
    memcpy(l->key, key, len);
    l->key_len = len;
    l->next = *b;
    *b = l;
    return l;
}

/* One of l's jobs ended: the next one waiting in it, which the caller runs,
 * or NULL (and l is freed once nothing is left in it). qlock held. */
static job *lane_next(endpoint *e, lane *l) {
    job *j = l->whead;
    if (j) {
        l->whead = j->next;
        if (!l->whead) l->wtail = NULL;
        e->queued--;
        return j;
    }
    if (--l->active == 0) {
        for (lane **p = &e->lanes[lane_hash((const uint8_t *)l->key, l->key_len)]; *p; p = &(*p)->next)
            if (*p == l) {
                *p = l->next;
                break;
            }
        free(l);
    }
    return NULL;
}

/* Whether a worker holding batch b goes on with the next call `next` of the
 * lane before signing (confidential.h: CONF_BATCH_MAX and
 * CONF_BATCH_WINDOW_US, the last call's run `last_us` taken as the next's).
 * With nothing waiting the batch is signed at once: a call alone is not
 * delayed. */
static int batch_goes_on(const conf_batch *b, const job *next, uint64_t last_us) {
    return next && b->n < CONF_BATCH_MAX && now_us() - b->first_us + last_us < CONF_BATCH_WINDOW_US;
}

static void *worker_main(void *arg) {
    endpoint *e = arg;
    run_spec_cache cache = {0}; /* this worker's last ACTION (run_spec.h) */
    conf_batch *batch = calloc(1, sizeof *batch); /* this worker's receipts not yet signed */
    if (!batch) die("out of memory starting a worker", NULL);
    for (;;) {
        pthread_mutex_lock(&e->qlock);
        while (!e->head && !e->closing) pthread_cond_wait(&e->qcond, &e->qlock);
        job *j = e->head;
        if (j) {
            e->head = j->next;
            if (!e->head) e->tail = NULL;
            e->queued--;
        }
        pthread_mutex_unlock(&e->qlock);
        if (!j) { /* closing and drained */
            run_spec_cache_free(&cache);
            free(batch);
            return NULL;
        }
        while (j) { /* the job, then the ones waiting in its lane */
            uint64_t t0 = now_us();
            j->batch = batch;
            run_invoke(e, j, &cache); /* its answer moves the lane on (send_result, send_outcome) */
            if (!j->advanced) { /* every path answers; this only keeps the lane right */
                pthread_mutex_lock(&e->qlock);
                j->after = lane_next(e, j->lane);
                pthread_mutex_unlock(&e->qlock);
            }
            job *next = j->after;
            if (batch->n && !batch_goes_on(batch, next, now_us() - t0)) batch_flush(e, batch);
            ipc_msg_free(&j->msg);
            free(j);
            j = next;
        }
    }
}

/* ---- reader ------------------------------------------------------------- */

/* Queues a validated INVOKE for a worker if its lane has room, else at the
 * end of its lane. */
static void enqueue(endpoint *e, ipc_msg *m) {
    job *j = malloc(sizeof *j);
    if (!j) die("out of memory queueing an invocation", NULL);
    j->msg = *m;
    j->next = NULL;
    j->advanced = 0;
    j->after = NULL;
    j->batch = NULL;
    memset(m, 0, sizeof *m);
    uint64_t concurrency = field_u64(&j->msg, INV_CONCURRENCY);
    pthread_mutex_lock(&e->qlock);
    if (e->queued >= ENDPOINT_MAX_QUEUE) die("protocol violation", "more invocations queued than allowed");
    lane *l = lane_get(e, j->msg.fields[INV_FN_KEY].ptr, j->msg.fields[INV_FN_KEY].len);
    if (!l) die("out of memory queueing an invocation", NULL);
    j->lane = l;
    e->queued++;
    if (l->active < (concurrency ? concurrency : 1)) {
        l->active++;
        if (e->tail) e->tail->next = j; else e->head = j;
        e->tail = j;
        pthread_cond_signal(&e->qcond);
    } else {
        if (l->wtail) l->wtail->next = j; else l->whead = j;
        l->wtail = j;
    }
    pthread_mutex_unlock(&e->qlock);
}

/* IPC_CANCEL: drops the job with this id if it still waits in a lane and
 * says so (NOT_RUN); one that runs or ran already is answered as usual. */
static void cancel(endpoint *e, uint64_t id) {
    job *found = NULL;
    engine_outcome o = {.status = TFAAS_STATUS_NOT_RUN, .result = "{}", .logs = ""};
    ipc_writer w = {0};
    ipc_status st = encode_result(&w, id, &o, 0, 0, NULL, 0);
    /* The channel first: a job taken out here has its NOT_RUN written before
     * the RESULT of the job ahead of it in its lane, whose worker moves the
     * lane under qlock (after us, or it would have taken this job) and then
     * waits for send_lock (send_result). */
    pthread_mutex_lock(&e->send_lock);
    pthread_mutex_lock(&e->qlock);
    for (unsigned b = 0; b < LANE_BUCKETS && !found; b++)
        for (lane *l = e->lanes[b]; l && !found; l = l->next)
            for (job **p = &l->whead, *prev = NULL; *p; prev = *p, p = &(*p)->next)
                if ((*p)->msg.id == id) {
                    found = *p;
                    *p = found->next;
                    if (l->wtail == found) l->wtail = prev;
                    e->queued--;
                    break;
                }
    pthread_mutex_unlock(&e->qlock);
    if (found) send_frame(e, &w, st);
    pthread_mutex_unlock(&e->send_lock);
    ipc_writer_free(&w);
    if (!found) return;
    ipc_msg_free(&found->msg);
    free(found);
}

static void stop_workers(endpoint *e) {
    pthread_mutex_lock(&e->qlock);
    e->closing = 1;
    pthread_cond_broadcast(&e->qcond);
    pthread_mutex_unlock(&e->qlock);
    for (unsigned i = 0; i < e->started; i++) pthread_join(e->threads[i], NULL);
    e->started = 0;
}

static void endpoint_free(endpoint *e) {
    spare_heap_destroy(e->spare);
    fn_table_destroy(e->fns);
    conf_destroy(e->conf);
    pthread_cond_destroy(&e->qcond);
    pthread_mutex_destroy(&e->qlock);
    pthread_mutex_destroy(&e->send_lock);
    free(e->threads);
    free(e);
}

endpoint *endpoint_start(int fd, unsigned workers, const fn_table_config *cfg, int spare, conf_state *conf) {
    if (workers == 0 || workers > ENDPOINT_MAX_WORKERS) {
        fprintf(stderr, "tfaas-enclave: worker count %u out of range 1..%u\n", workers, ENDPOINT_MAX_WORKERS);
        conf_destroy(conf);
        return NULL;
    }
    endpoint *e = calloc(1, sizeof *e);
    if (!e) {
        conf_destroy(conf);
        return NULL;
    }
    e->conf = conf;
    e->fd = fd;
    e->workers = workers;
    e->threads = calloc(workers, sizeof *e->threads);
    e->fns = fn_table_create(cfg);
    e->spare = spare_heap_create(spare);
    pthread_mutex_init(&e->send_lock, NULL);
    pthread_mutex_init(&e->qlock, NULL);
    pthread_cond_init(&e->qcond, NULL);
    if (!e->threads || !e->fns || !e->spare) {
        fprintf(stderr, "tfaas-enclave: out of memory at start-up\n");
        endpoint_free(e);
        return NULL;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    int rc = pthread_attr_setstacksize(&attr, ENGINE_STACK_BYTES);
    for (unsigned i = 0; rc == 0 && i < workers; i++) {
        rc = pthread_create(&e->threads[i], &attr, worker_main, e);
        if (rc == 0) e->started++;
    }
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        fprintf(stderr, "tfaas-enclave: cannot start worker threads: %s\n", strerror(rc));
        stop_workers(e);
        endpoint_free(e);
        return NULL;
    }
    return e;
}

static void send_hello(endpoint *e) {
    ipc_writer w = {0};
    ipc_writer_begin(&w, IPC_HELLO, 0);
    ipc_put_u64(&w, IPC_VERSION);
    ipc_put_str(&w, engine_identity());
    ipc_put_u64(&w, e->workers);
    ipc_status st = ipc_writer_finish(&w);
    if (st == IPC_OK) st = ipc_send(e->fd, &w);
    ipc_writer_free(&w);
    if (st != IPC_OK) die("cannot send hello", ipc_status_str(st));
}

int endpoint_run(endpoint *e) {
    send_hello(e);
    uint64_t last_sweep = now_us();
    /* Frames that came together are read at once (one read for a burst). */
    ipc_inbuf *in = malloc(sizeof *in);
    if (!in) die("out of memory at start-up", NULL);
    ipc_inbuf_init(in, e->fd);
    for (;;) {
        /* Wake up now and then to let idle heaps expire even when no work
         * comes; bytes already read need no poll. */
        int n = 1;
        if (!ipc_inbuf_pending(in)) {
            struct pollfd p = {.fd = e->fd, .events = POLLIN};
            n = poll(&p, 1, ENDPOINT_SWEEP_MS);
            if (n < 0 && errno != EINTR) die("poll on the channel failed", strerror(errno));
        }
        if (now_us() - last_sweep >= ENDPOINT_SWEEP_MS * 1000u) {
            fn_table_sweep(e->fns);
            last_sweep = now_us();
        }
        if (n <= 0) continue;
        ipc_msg m;
        ipc_status st = ipc_inbuf_recv(in, &m);
        if (st == IPC_ERR_EOF) break;
        if (st != IPC_OK) die("malformed frame from the host", ipc_status_str(st));
        const char *problem = host_frame_problem(&m);
        if (problem) {
            char detail[80];
            snprintf(detail, sizeof detail, "%s (type %u)", problem, m.type);
            die("protocol violation", detail);
        }
        if (m.type == IPC_INVOKE) {
            enqueue(e, &m);
        } else if (m.type == IPC_CANCEL) {
            cancel(e, m.id);
            ipc_msg_free(&m);
        } else if (m.type == IPC_DROP) {
            char *key = ipc_get_str(&m, DROP_FN_KEY);
            if (!key) die("out of memory handling DROP", NULL);
            fn_table_drop(e->fns, key);
            free(key);
            ipc_msg_free(&m);
        } else { /* IPC_SHUTDOWN */
            ipc_msg_free(&m);
            break;
        }
    }
    free(in);
    stop_workers(e);
    endpoint_free(e);
    return 0;
}
