/* enclave.c - one running enclave: its io thread (launch, then the writer
 * that may block), its reader thread (RESULTs -> completions) and the inline
 * sends of other threads.
 *
 * Several threads write on the channel: the io thread, and any thread that
 * dispatches inline (an HTTP event thread submitting, a reader whose result
 * freed a worker). send_mu keeps each frame whole; it is taken before the
 * scheduler lock is dropped, so frames leave in the order they were chosen.
 * Only the io thread waits for a full socket: an inline sender uses
 * ipc_try_send and leaves a frame the socket takes none of, and frames above
 * INLINE_SEND_MAX, to the io thread (once part of a frame went out, the rest
 * is written blocking: at most INLINE_SEND_MAX). So a reader does not wait
 * on an enclave that is itself blocked on writing its results.
 * The locking contract is in sched_internal.h. */
#include "host/scheduler/sched_internal.h"

#include "host/scheduler/egress.h"
#include "host/scheduler/result_frame.h"

#include "host/util/clock.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- frames ----------------------------------------------------------- */

static frame *frame_new(void) {
    return calloc(1, sizeof(frame));
}

static void frame_free(frame *f) {
    if (!f) return;
    ipc_writer_free(&f->w);
    free(f);
}

frame *frame_drop(const char *prefix) {
    frame *f = frame_new();
    if (!f) return NULL;
    ipc_writer_begin(&f->w, IPC_DROP, 0);
    ipc_put_str(&f->w, prefix);
    if (ipc_writer_finish(&f->w) != IPC_OK) {
        frame_free(f);
        return NULL;
    }
    return f;
}

frame *frame_cancel(uint64_t ipc_id) {
    frame *f = frame_new();
    if (!f) return NULL;
    ipc_writer_begin(&f->w, IPC_CANCEL, ipc_id);
    if (ipc_writer_finish(&f->w) != IPC_OK) {
        frame_free(f);
        return NULL;
    }
    return f;
}

frame *frame_shutdown(void) {
    frame *f = frame_new();
    if (!f) return NULL;
    ipc_writer_begin(&f->w, IPC_SHUTDOWN, 0);
    if (ipc_writer_finish(&f->w) != IPC_OK) {
        frame_free(f);
        return NULL;
    }
    return f;
}

static ipc_status encode_invoke(ipc_writer *w, const activation *a, int with_code) {
    ipc_writer_begin(w, IPC_INVOKE, a->ipc_id);
    ipc_put_str(w, a->fn_key);
    ipc_put_bytes(w, a->code->bytes, with_code ? a->code->len : 0);
    ipc_put_str(w, a->main);
    ipc_put_bytes(w, a->params, a->params_len);
    ipc_put_str(w, a->activation_id);
    ipc_put_u64(w, a->timeout_ms);
    ipc_put_u64(w, a->memory_bytes);
    ipc_put_u64(w, a->max_result_bytes);
    ipc_put_u64(w, a->max_log_bytes);
    ipc_put_u64(w, a->concurrency);
    ipc_put_u64(w, (uint64_t)a->confidential);
    ipc_put_bytes(w, a->keys, a->keys ? a->keys_len : 0);
    ipc_put_str(w, a->action_json);
    ipc_put_str(w, a->egress);
    return ipc_writer_finish(w);
}

/* ---- enclave bookkeeping (lock held) ---------------------------------- */

enclave *enclave_new(scheduler *s, const char *unit, sched_engine engine, int confidential) {
    enclave *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->engine = engine;
    e->confidential = confidential;
    e->unit = strdup(unit);
    if (!e->unit) {
        free(e);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->wake, &ca);
    pthread_mutex_init(&e->send_mu, NULL);
    pthread_condattr_destroy(&ca);
    e->s = s;
    e->state = ENC_STARTING;
    e->current = 1;
    e->pid = -1;
    e->fd = -1;
    e->idle_since_us = clock_mono_us();
    return e;
}

void enclave_free(enclave *e) {
    if (!e) return;
    for (frame *f = e->urgent_head, *n; f; f = n) {
        n = f->next;
        frame_free(f);
    }
    for (unsigned b = 0; b < ENCLAVE_LOADED_BUCKETS; b++)
        for (loaded_key *k = e->loaded[b], *n; k; k = n) {
            n = k->next;
            free(k->key);
            free(k);
        }
    if (e->fd >= 0) close(e->fd);
    pthread_cond_destroy(&e->wake);
    pthread_mutex_destroy(&e->send_mu);
    free(e->launch_error);
    free(e->unit);
    free(e);
}

void enclave_push_urgent(enclave *e, frame *f) {
    f->next = NULL;
    if (e->urgent_tail) e->urgent_tail->next = f;
    else e->urgent_head = f;
    e->urgent_tail = f;
    pthread_cond_signal(&e->wake);
}

void enclave_kill(enclave *e) {
    if (e->pid > 0 && !e->killed) {
        launcher_kill(e->pid);
        e->killed = 1;
    }
}

int enclave_idle(const enclave *e) {
    return e->current && e->state == ENC_READY && e->running == 0 && e->pipelined == 0 && !e->pending_head &&
           !e->keys_head && !e->urgent_head;
}

void enclave_stop(enclave *e, uint64_t now_us) {
    frame *f = frame_shutdown();
    e->current = 0; /* new work for this unit starts a fresh enclave */
    e->state = ENC_STOPPING;
    e->stop_deadline_us = now_us + (uint64_t)SCHED_STOP_GRACE_MS * 1000u;
    e->s->stats.enclaves_stopped++;
    if (f) enclave_push_urgent(e, f);
    else enclave_kill(e);
}

static void violation(enclave *e, const char *what) {
    fprintf(stderr, "tfaas: enclave %d (%s): %s; killing it\n", (int)e->pid, e->unit, what);
    enclave_kill(e);
}

static loaded_key **key_bucket(enclave *e, const char *key) {
    return &e->loaded[sched_key_hash(key, strlen(key)) % ENCLAVE_LOADED_BUCKETS];
}

static int key_loaded(enclave *e, const char *key) {
    for (loaded_key *k = *key_bucket(e, key); k; k = k->next)
        if (strcmp(k->key, key) == 0) return 1;
    return 0;
}

static void key_add(enclave *e, const char *key) {
    loaded_key *k = malloc(sizeof *k);
    if (!k) return; /* only costs a NEED_CODE round trip later */
    if (!(k->key = strdup(key))) {
        free(k);
        return;
    }
    loaded_key **bucket = key_bucket(e, key);
    k->next = *bucket;
    *bucket = k;
}

static void key_forget(enclave *e, const char *key) {
    for (loaded_key **p = key_bucket(e, key); *p; p = &(*p)->next) {
        if (strcmp((*p)->key, key) == 0) {
            loaded_key *k = *p;
            *p = k->next;
            free(k->key);
            free(k);
            return;
        }
    }
}

static activation *inflight_find(const enclave *e, uint64_t id) {
    for (activation *a = e->inflight; a; a = a->next)
        if (a->ipc_id == id) return a;
    return NULL;
}

static activation *inflight_take(enclave *e, uint64_t id) {
    for (activation **p = &e->inflight; *p; p = &(*p)->next) {
        if ((*p)->ipc_id == id) {
            activation *a = *p;
            *p = a->next;
            a->next = NULL;
            if (a->pipelined) e->pipelined--;
            else e->running--;
            if (e->running + e->pipelined == 0) e->idle_since_us = clock_mono_us();
            return a;
        }
    }
    return NULL;
}

static void inflight_put(enclave *e, activation *a) {
    a->next = e->inflight;
    e->inflight = a;
    if (a->pipelined) e->pipelined++;
    else e->running++;
}

/* The enclave's lane of fn_key, as the host mirrors it: how many of its
 * activations run there (hold a worker) and how many wait in the lane. */
static void lane_count(const enclave *e, const char *fn_key, unsigned *running, unsigned *waiting) {
    *running = *waiting = 0;
    for (const activation *a = e->inflight; a; a = a->next)
        if (!strcmp(a->fn_key, fn_key)) ++*(a->pipelined ? waiting : running);
}

/* One of fn_key's activations left the enclave's lane (finished, or asked
 * for its code): the enclave's worker goes on with the oldest one waiting
 * there, so that one starts now and its deadline runs from now. The lane is
 * FIFO in the order frames were sent, which is ipc_id order. Returns it, or
 * NULL when none waits. */
static activation *lane_advance(enclave *e, const char *fn_key, uint64_t now) {
    activation *next = NULL;
    for (activation *a = e->inflight; a; a = a->next)
        if (a->pipelined && !strcmp(a->fn_key, fn_key) && (!next || a->ipc_id < next->ipc_id)) next = a;
    if (!next) return NULL;
    next->pipelined = 0;
    e->pipelined--;
    e->running++;
    next->sent_us = now;
    next->deadline_us = now + (uint64_t)next->timeout_ms * 1000u;
    return next;
}

/* The enclave is gone (EOF, error, kill, failed launch): finish what it was
 * running, hand what it had not started to a fresh enclave. Lock held. */
static void enclave_died(enclave *e, done_list *dl) {
    scheduler *s = e->s;
    int was_stopping = e->state == ENC_STOPPING;
    e->state = ENC_DEAD;
    e->current = 0;
    uint64_t now = clock_mono_us();
    activation *a;
    while ((a = e->inflight)) {
        e->inflight = a->next;
        if (a->pipelined && !s->closing) {
            /* It waited in its lane and never ran: it runs elsewhere, unless
             * its namespace is gone. */
            a->next = NULL;
            if (e->retired) a->retired = 1;
            if (!lanes_end_retired(s, a, dl)) {
                a->pipelined = 0;
                sched_assign(s, a, dl);
            }
            continue;
        }
        /* The enclave never reported a duration: the host's clock is the
         * honest one (a killed timeout ran at least its whole budget). */
        if (a->sent_us) a->res.duration_us = now - a->sent_us;
        if (s->closing) {
            sched_finish_msg(s, a, dl, TFAAS_STATUS_INTERNAL_ERR, MSG_SHUTDOWN);
        } else if (now >= a->deadline_us) {
            char msg[128];
            snprintf(msg, sizeof msg, MSG_TIMEOUT, a->timeout_ms);
            sched_finish_msg(s, a, dl, TFAAS_STATUS_DEVELOPER_ERR, msg);
        } else {
            sched_finish_msg(s, a, dl, TFAAS_STATUS_DEVELOPER_ERR, MSG_DIED);
        }
        sched_release_slot(s, a, dl);
    }
    e->running = e->pipelined = 0;
    /* Those waiting for keys never ran here either: pending again. */
    if (e->keys_head) {
        e->keys_tail->next = e->pending_head;
        if (!e->pending_head) e->pending_tail = e->keys_tail;
        e->pending_head = e->keys_head;
        e->keys_head = e->keys_tail = NULL;
    }
    activation *pend = e->pending_head;
    e->pending_head = e->pending_tail = NULL;
    while ((a = pend)) {
        pend = a->next;
        if (e->launch_failed) {
            sched_finish_msg(s, a, dl, TFAAS_STATUS_INTERNAL_ERR,
                             e->launch_error ? e->launch_error : "Could not start an enclave for this action.");
            sched_release_slot(s, a, dl);
        } else {
            sched_assign(s, a, dl); /* to the unit's next enclave */
        }
    }
    if (!was_stopping && !s->closing && !e->launch_failed) s->stats.enclaves_died++;
    pthread_cond_signal(&e->wake);
    pthread_cond_broadcast(&s->wd_wake);
    pthread_cond_broadcast(&s->all_dead);
}

/* ---- reader thread ---------------------------------------------------- */

/* A NEED_KEYS answer, handled by the reader once it has let go of the lock
 * (asking the KMS may block). Copies, so the activation may finish meanwhile. */
typedef struct {
    uint64_t ipc_id;
    uint8_t *record;
    size_t record_len;
    char *worker;
    size_t worker_len;
} key_request;

/* One frame from the enclave. Lock held. */
static void handle_msg(enclave *e, ipc_msg *m, done_list *dl, key_request *kr) {
    scheduler *s = e->s;
    if (m->type != IPC_RESULT) {
        violation(e, "unexpected message type");
        return;
    }
    activation *a = inflight_find(e, m->id);
    if (!a) {
        /* destroy already finished it; otherwise the enclave invented an id */
        if (!s->closing) violation(e, "result for an unknown activation");
        return;
    }
    result_frame_limits lim = {a->max_result_bytes, a->max_log_bytes, a->confidential};
    result_frame rf;
    result_frame_kind kind = result_frame_read(m, &lim, &rf);
    if (kind == RESULT_FRAME_MALFORMED) {
        violation(e, rf.problem);
        return;
    }
    if (kind == RESULT_FRAME_NEED_KEYS) {
        if (!a->confidential || a->sent_with_keys) {
            violation(e, a->confidential ? "asked for keys it was sent" : "asked for keys of a plain function");
            result_frame_free(&rf);
            return;
        }
        /* It leaves the enclave (its lane moved on) until the release
         * comes; one request to the KMS serves every activation of the
         * function that asks meanwhile. */
        int asked = 0;
        for (activation *w = e->keys_head; w; w = w->next) asked |= !strcmp(w->fn_key, a->fn_key);
        a = inflight_take(e, m->id);
        lane_advance(e, a->fn_key, clock_mono_us());
        if (lanes_end_retired(s, a, dl)) { /* not sent again */
            result_frame_free(&rf);
            return;
        }
        key_forget(e, a->fn_key); /* the resend carries the code: the enclave may not hold it */
        if (e->keys_tail) e->keys_tail->next = a;
        else e->keys_head = a;
        e->keys_tail = a;
        if (asked) {
            result_frame_free(&rf);
            return;
        }
        kr->ipc_id = a->ipc_id;
        kr->worker_len = rf.result_len;
        kr->worker = rf.result; /* the key request owns it now */
        kr->record = malloc(a->record_len + 1);
        if (kr->record) memcpy(kr->record, a->record, a->record_len);
        kr->record_len = a->record_len;
        return;
    }
    if (kind == RESULT_FRAME_NEED_CODE) {
        if (a->sent_with_code) {
            violation(e, "asked for code it was sent");
            return;
        }
        key_forget(e, a->fn_key);
        if (a->pipelined) { /* the enclave ran what the host thought waiting: mirror it */
            a->pipelined = 0;
            e->pipelined--;
            e->running++;
        }
        if (a->retired) { /* its namespace is gone: its lane moves on, it is not sent again */
            a = inflight_take(e, m->id);
            lane_advance(e, a->fn_key, clock_mono_us());
            lanes_end_retired(s, a, dl);
            return;
        }
        /* Its lane moved on without it: the resend waits at the lane's end
         * when another took its place, and is then the newest there. */
        if (lane_advance(e, a->fn_key, clock_mono_us())) {
            a->pipelined = 1;
            e->running--;
            e->pipelined++;
        } else {
            a->sent_us = clock_mono_us();
            a->deadline_us = a->sent_us + (uint64_t)a->timeout_ms * 1000u;
        }
        a->ipc_id = s->next_ipc_id++;
        a->cancel = CANCEL_NONE; /* a CANCEL of its old id finds nothing: the resend is not cancelled */
        frame *f = frame_new();
        if (!f || encode_invoke(&f->w, a, 1) != IPC_OK) {
            frame_free(f);
            a = inflight_take(e, m->id);
            sched_finish_msg(s, a, dl, TFAAS_STATUS_INTERNAL_ERR, "Could not resend the action code to its enclave.");
            sched_release_slot(s, a, dl);
            pthread_cond_signal(&e->wake);
            return;
        }
        a->sent_with_code = 1;
        key_add(e, a->fn_key);
        s->stats.code_resends++;
        enclave_push_urgent(e, f);
        return;
    }
    if (kind == RESULT_FRAME_NOT_RUN) { /* cancelled while it waited in its lane: the lane did not move */
        if (!a->pipelined || a->cancel == CANCEL_NONE) {
            violation(e, a->pipelined ? "did not run an activation it was not asked to cancel"
                                      : "did not run an activation it had started");
            return;
        }
        a = inflight_take(e, m->id);
        if (a->sent_with_code) key_forget(e, a->fn_key); /* it never loaded the code it carried */
        lanes_not_run(s, a, dl); /* ends it, or (a yield) sends it again later */
        enclave_kick(e);
        return;
    }
    a = inflight_take(e, m->id);
    lane_advance(e, a->fn_key, clock_mono_us()); /* the next one of its lane runs now */
    if (kind == RESULT_FRAME_NOMEM) { /* keep the placeholders */
        sched_finish_msg(s, a, dl, TFAAS_STATUS_INTERNAL_ERR, "Out of memory receiving the result.");
    } else {
        a->res.duration_us = rf.duration_us;
        a->res.init_us = rf.init_us;
        a->res.peak_memory = rf.peak_memory;
        free(a->res.logs);
        a->res.logs = rf.logs;
        free(a->res.result_json);
        a->res.result_json = rf.result;
        free(a->res.sealed);
        a->res.sealed = rf.sealed;
        a->res.sealed_len = rf.sealed_len;
        sched_finish(s, a, dl, rf.status, NULL);
    }
    sched_release_slot(s, a, dl);
    enclave_kick(e); /* a worker is free */
}

/* Asks the KMS for a key release (no lock held), then resends the INVOKE
 * with the keys and the code, or finishes the activation with the refusal. */
static void release_keys(enclave *e, key_request *kr) {
    scheduler *s = e->s;
    char *bundle = NULL, *err = NULL;
    size_t bundle_len = 0;
    int refused = 0, rc = -1;
    if (!kr->worker || !kr->record) err = strdup("out of memory");
    else if (!s->cfg.release) err = strdup("this server has no key service");
    else rc = s->cfg.release(s->cfg.release_ud, kr->record, kr->record_len, kr->worker, kr->worker_len,
                             &bundle, &bundle_len, &refused, &err);
    done_list dl = {0};
    pthread_mutex_lock(&s->lock);
    /* The activation that asked, and those of the same function that asked
     * meanwhile, in order; none if the enclave died (they were re-run). */
    activation *first = NULL, *ready = NULL, *last = NULL;
    for (activation *w = e->keys_head; w; w = w->next)
        if (w->ipc_id == kr->ipc_id) first = w;
    for (activation **p = &e->keys_head, *prev = NULL; first && *p;) {
        activation *w = *p;
        if (strcmp(w->fn_key, first->fn_key) != 0) {
            prev = w;
            p = &w->next;
            continue;
        }
        *p = w->next;
        if (e->keys_tail == w) e->keys_tail = prev;
        w->next = NULL;
        if (last) last->next = w;
        else ready = w;
        last = w;
    }
    if (ready && rc == 0) {
        /* The first goes with the keys; the others find them installed (or
         * ask again, if they reach a worker first). Back at the front of
         * the pending list, in order: dispatch sends them as it sends any. */
        first->keys = bundle;
        first->keys_len = bundle_len;
        bundle = NULL;
        last->next = e->pending_head;
        if (!e->pending_head) e->pending_tail = last;
        e->pending_head = ready;
        enclave_dispatch(e);
    } else {
        for (activation *a = ready, *next; a; a = next) {
            next = a->next;
            a->next = NULL;
            json_t *j = json_pack("{s:s, s:i}", "error", err ? err : "the key release failed", "status",
                                  refused ? 403 : 503);
            char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
            json_decref(j);
            sched_finish(s, a, &dl, TFAAS_STATUS_APPLICATION_ERR, text ? text : "{\"error\":\"key release failed\"}");
            free(text);
            sched_release_slot(s, a, &dl);
        }
        enclave_kick(e);
    }
    pthread_mutex_unlock(&s->lock);
    done_list_deliver(&dl);
    free(bundle);
    free(err);
}

/* How long the reader keeps a commit section open for more results of an
 * enclave that still runs activations, and how many results one section
 * takes at most. Results that trickle in one at a time (a confidential
 * call's crypto spaces them out by a few hundred microseconds) would
 * otherwise each cost a commit, a WAL write and an HTTP thread wake-up of
 * their own; lingering this long lets several share them. It is the
 * whole latency this adds, and it never applies to the last result of a
 * busy period: an enclave with nothing in flight ends the section at once. */
#define COMMIT_LINGER_US 300u
#define COMMIT_LINGER_RESULTS 32u

static unsigned done_count(const done_list *dl) {
    unsigned n = 0;
    for (const activation *a = dl->head; a; a = a->next) n++;
    return n;
}

/* Whether the open section should wait for more (see COMMIT_LINGER_US):
 * the enclave still runs something, the section is young and small, and
 * the channel becomes readable before the linger ends. */
static int linger_for_more(enclave *e, uint64_t opened_us, unsigned held) {
    scheduler *s = e->s;
    pthread_mutex_lock(&s->lock);
    unsigned busy = e->running + e->pipelined;
    pthread_mutex_unlock(&s->lock);
    uint64_t now = clock_mono_us();
    if (!busy || held >= COMMIT_LINGER_RESULTS || now - opened_us >= COMMIT_LINGER_US) return 0;
    uint64_t left = opened_us + COMMIT_LINGER_US - now;
    struct pollfd p = {.fd = e->fd, .events = POLLIN};
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(left * 1000u)};
    return ppoll(&p, 1, &ts, NULL) > 0;
}

/* Results that arrive together are handled as one burst: read with one
 * read() (ipc_inbuf), finished under one hold of the lock, delivered in a
 * row inside the config's burst brackets (the gateway commits their
 * records in one transaction on this thread). The section stays open a
 * little for results that follow (linger_for_more). A NEED_KEYS result
 * ends a section, since its key release runs outside the lock and may
 * wait for the key service. */
static void *reader_main(void *arg) {
    enclave *e = arg;
    pthread_setname_np(pthread_self(), "enclave-reader");
    scheduler *s = e->s;
    ipc_inbuf *in = malloc(sizeof *in);
    ipc_status st = in ? IPC_OK : IPC_ERR_NOMEM;
    if (in) ipc_inbuf_init(in, e->fd);
    int sections = s->cfg.burst_begin && s->cfg.burst_end;
    int open = 0;        /* a commit section is open */
    uint64_t opened_us = 0;
    unsigned held = 0;   /* results delivered into it */
    while (st == IPC_OK) {
        if (open && !ipc_inbuf_ready(in) && !linger_for_more(e, opened_us, held)) {
            s->cfg.burst_end(s->cfg.burst_ud);
            open = 0;
        }
        ipc_msg m;
        st = ipc_inbuf_recv(in, &m); /* blocks until something comes */
        if (st != IPC_OK) break;
        done_list dl = {0};
        key_request kr = {0};
        pthread_mutex_lock(&s->lock);
        enclave_inline_begin(); /* the next pending activation goes out from here */
        for (;;) {
            handle_msg(e, &m, &dl, &kr);
            ipc_msg_free(&m);
            if (kr.ipc_id || !ipc_inbuf_ready(in)) break;
            st = ipc_inbuf_recv(in, &m); /* whole frame buffered: does not block */
            if (st != IPC_OK) break;
        }
        enclave_inline_end();
        pthread_mutex_unlock(&s->lock);
        if (sections && dl.head && !open) {
            s->cfg.burst_begin(s->cfg.burst_ud);
            open = 1;
            opened_us = clock_mono_us();
            held = 0;
        }
        held += done_count(&dl);
        done_list_deliver(&dl);
        if (open && kr.ipc_id) {
            s->cfg.burst_end(s->cfg.burst_ud);
            open = 0;
        }
        if (kr.ipc_id) release_keys(e, &kr);
        free(kr.record);
        free(kr.worker);
    }
    if (open) s->cfg.burst_end(s->cfg.burst_ud);
    free(in);
    /* EOF and I/O errors (ECONNRESET) are how a dead process looks;
     * anything else is a broken frame and worth a word. */
    if (st != IPC_ERR_EOF && st != IPC_ERR_IO) {
        pthread_mutex_lock(&s->lock);
        if (!e->killed && e->state != ENC_STOPPING) {
            char what[96];
            snprintf(what, sizeof what, "channel: %s", ipc_status_str(st));
            violation(e, what);
        }
        pthread_mutex_unlock(&s->lock);
    }
    done_list dl = {0};
    pthread_mutex_lock(&s->lock);
    enclave_kill(e); /* EOF may come from a closed fd in a live process */
    enclave_died(e, &dl);
    e->reader_done = 1;
    pthread_cond_broadcast(&s->wd_wake);
    pthread_cond_broadcast(&s->all_dead);
    pthread_mutex_unlock(&s->lock);
    done_list_deliver(&dl);
    return NULL;
}

/* ---- sending activations ----------------------------------------------- */

/* Inline senders (an HTTP event thread, a reader) must not wait on a slow
 * enclave: frames above this size, or that the socket cannot take now, go to
 * the io thread instead. */
#define INLINE_SEND_MAX (64u << 10)

/* How far dispatch looks down the pending list for an activation that can
 * go (one whose function's lane is full must not hold up the others). */
#define DISPATCH_LOOKAHEAD 64u

/* Lock held. The first pending activation that can be sent: to a free
 * worker if its lane has room (*pipelined 0), else to wait in its lane
 * (*pipelined 1, SCHED_PIPELINE_MAX at most). Unlinked; NULL if none.
 * *starved: the first one seen that needs a worker and finds none; no
 * activation of another namespace is sent to wait in a lane past it
 * (fairness in a shared enclave, lane_share.c). */
static activation *take_sendable(enclave *e, int *pipelined, activation **starved) {
    activation *prev = NULL, *a = e->pending_head;
    *starved = NULL;
    for (unsigned seen = 0; a && seen < DISPATCH_LOOKAHEAD; prev = a, a = a->next, seen++) {
        unsigned running, waiting;
        lane_count(e, a->fn_key, &running, &waiting);
        if (running < a->concurrency) {
            if (e->running >= e->workers) {
                if (!*starved) *starved = a;
                continue;
            }
            *pipelined = 0;
        } else if (a->may_pipeline && waiting < SCHED_PIPELINE_MAX &&
                   (!*starved || strcmp((*starved)->ns, a->ns) == 0)) {
            *pipelined = 1;
        } else {
            continue;
        }
        if (prev) prev->next = a->next;
        else e->pending_head = a->next;
        if (e->pending_tail == a) e->pending_tail = prev;
        a->next = NULL;
        return a;
    }
    return NULL;
}

/* Lock held. Sends e's first pending activation that can go (take_sendable),
 * or cancels other namespaces' lane-waiting activations for one that needs
 * a worker (lanes_yield); 1 when it did something (the lock may have been
 * dropped meanwhile), 0 when nothing could go. `from_io` says the caller is
 * e's own io thread. */
static int dispatch_one(enclave *e, int from_io) {
    scheduler *s = e->s;
    /* Another thread is writing a frame with the lock dropped: if the socket
     * refuses it, it goes to the io thread, and a frame sent meanwhile would
     * overtake it (lanes need ipc_id order). That thread dispatches what is
     * pending once its frame is out (its callers loop). */
    if (!e->pending_head || e->state != ENC_READY || e->sending) return 0;
    if (!from_io && e->urgent_head) {
        /* control frames (drops) must reach the enclave first: the io thread
         * sends them, then this */
        pthread_cond_signal(&e->wake);
        return 0;
    }
    int pipelined = 0;
    activation *starved;
    activation *a = take_sendable(e, &pipelined, &starved);
    if (!a) {
        /* Other namespaces' lanes must not keep every worker: what waits
         * in them makes room (a no-op when they are all starved's own).
         * Their CANCELs are urgent frames: 1, so the io thread sends them
         * before it sleeps. */
        return starved && lanes_yield(e, starved->ns) > 0;
    }
    int with_code = !key_loaded(e, a->fn_key);
    a->ipc_id = s->next_ipc_id++;
    ipc_writer w = {0};
    if (encode_invoke(&w, a, with_code) != IPC_OK) {
        ipc_writer_free(&w);
        done_list dl = {0};
        sched_finish_msg(s, a, &dl, TFAAS_STATUS_DEVELOPER_ERR, "The action's code and parameters are too large to run.");
        sched_release_slot(s, a, &dl);
        e->senders++; /* e stays while the lock is dropped */
        pthread_mutex_unlock(&s->lock);
        done_list_deliver(&dl);
        pthread_mutex_lock(&s->lock);
        e->senders--;
        if (e->state == ENC_DEAD) pthread_cond_broadcast(&s->wd_wake);
        return 1;
    }
    if (with_code) key_add(e, a->fn_key);
    a->sent_with_code = with_code;
    a->sent_with_keys = a->keys != NULL;
    a->sent_us = clock_mono_us();
    a->pipelined = pipelined; /* no deadline until it starts (lane_advance) */
    a->cancel = CANCEL_NONE;  /* a new frame, not cancelled yet */
    a->deadline_us = a->sent_us + (uint64_t)a->timeout_ms * 1000u;
    inflight_put(e, a); /* before sending, so the result always finds it */
    frame *f = NULL;
    /* Inline, a big frame or a busy channel is left to the io thread. The
     * channel is taken before the lock goes, so nothing overtakes. */
    int channel = from_io ? pthread_mutex_lock(&e->send_mu) == 0
                          : w.len <= INLINE_SEND_MAX && pthread_mutex_trylock(&e->send_mu) == 0;
    if (!channel) {
        if ((f = frame_new())) {
            f->w = w;
            enclave_push_urgent(e, f);
            return 1;
        }
        pthread_mutex_lock(&e->send_mu); /* no memory to hand it over: wait our turn */
    }
    e->senders++;       /* keeps e and its fd alive while the lock is dropped */
    e->sending = 1;
    pthread_mutex_unlock(&s->lock);
    ipc_status st = from_io ? ipc_send(e->fd, &w) : ipc_try_send(e->fd, &w);
    pthread_mutex_unlock(&e->send_mu);
    pthread_mutex_lock(&s->lock);
    e->sending = 0;
    e->senders--;
    if (st == IPC_ERR_AGAIN && (f = frame_new())) {
        f->w = w; /* the socket is full: the io thread waits for room */
        enclave_push_urgent(e, f);
        return 1;
    }
    ipc_writer_free(&w);
    if (st != IPC_OK && e->state != ENC_DEAD) violation(e, "cannot write to it");
    if (e->state == ENC_DEAD) pthread_cond_broadcast(&s->wd_wake); /* may be reapable now */
    return 1;
}

void enclave_dispatch(enclave *e) {
    while (dispatch_one(e, 0)) {}
}

/* Per thread: the one enclave an inline section will dispatch for. */
static _Thread_local struct {
    int active;
    enclave *e;
} inline_kick;

void enclave_inline_begin(void) {
    inline_kick.active = 1;
    inline_kick.e = NULL;
}

void enclave_kick(enclave *e) {
    if (inline_kick.active && (!inline_kick.e || inline_kick.e == e)) {
        inline_kick.e = e;
        return;
    }
    /* Outside a section, or a second enclave: dispatching it here could
     * outlive it while the lock is dropped for the first; its thread does it. */
    pthread_cond_signal(&e->wake);
}

void enclave_inline_end(void) {
    enclave *e = inline_kick.e;
    inline_kick.active = 0;
    inline_kick.e = NULL;
    if (e) enclave_dispatch(e);
}

/* ---- io thread -------------------------------------------------------- */

static void writer_loop(enclave *e) {
    scheduler *s = e->s;
    pthread_mutex_lock(&s->lock);
    while (e->state != ENC_DEAD) {
        frame *f = e->urgent_head;
        if (f) {
            e->urgent_head = f->next;
            if (!e->urgent_head) e->urgent_tail = NULL;
            pthread_mutex_lock(&e->send_mu); /* before the lock goes: nothing overtakes it */
            pthread_mutex_unlock(&s->lock);
            ipc_status st = ipc_send(e->fd, &f->w);
            pthread_mutex_unlock(&e->send_mu);
            frame_free(f);
            pthread_mutex_lock(&s->lock);
            if (st != IPC_OK && e->state != ENC_DEAD) violation(e, "cannot write to it");
            continue;
        }
        if (dispatch_one(e, 1)) continue;
        pthread_cond_wait(&e->wake, &s->lock);
    }
    e->io_done = 1;
    pthread_cond_broadcast(&s->wd_wake);
    pthread_cond_broadcast(&s->all_dead);
    pthread_mutex_unlock(&s->lock);
}

static void *io_main(void *arg) {
    enclave *e = arg;
    pthread_setname_np(pthread_self(), "enclave-writer");
    scheduler *s = e->s;
    launched_enclave le;
    char *err = NULL;
    const char *path = e->engine == SCHED_ENGINE_V8 ? s->enclave_v8_path : s->enclave_path;
    /* Only enclaves for confidential functions get the TEE (and so set up
     * their keys and quote at start, through their quoting channel): the
     * others pay nothing for it. */
    int qfd = -1, efd = -1, rc = 0;
    if (e->confidential && s->cfg.quote) rc = s->cfg.quote(s->cfg.quote_ud, &qfd, &err);
    /* Every worker enclave gets an egress channel (fetch, egress.h) as fd 5. */
    if (rc == 0) rc = egress_channel_open(&efd, &err);
    const char *args[LAUNCHER_MAX_EXTRA_ARGS + 1];
    size_t na = 0;
    for (const char *const *a = e->confidential ? s->cfg.enclave_args : NULL; a && *a && na < LAUNCHER_MAX_EXTRA_ARGS - 3;
         a++)
        args[na++] = *a;
    args[na++] = "--egress-fd";
    args[na++] = "5";
    /* An enclave of one function needs a new heap only for a concurrent
     * call or after a discard: a blank one kept for it would mostly idle
     * (a V8 isolate is megabytes), so it keeps none. */
    if (isolation_unit_mode(e->unit) == ISOLATION_FUNCTION) args[na++] = "--no-spare-heap";
    args[na] = NULL;
    const int fds[2] = {qfd, efd};
    if (rc == 0) rc = launcher_start_fds(path, s->cfg.workers, args, fds, LAUNCHER_HELLO_TIMEOUT_MS, &le, &err);
    if (qfd >= 0) close(qfd);
    if (efd >= 0) close(efd);

    pthread_mutex_lock(&s->lock);
    /* Closing, or retired while it started (scheduler_retire: nothing of
     * its unit may run here any more, and nothing would stop it later). */
    if (rc == 0 && (s->closing || !e->current)) {
        close(le.fd);
        launcher_kill(le.pid);
        launcher_reap(le.pid);
        rc = -1;
        free(err);
        err = strdup(s->closing ? "the scheduler is shutting down" : "its namespace was deleted");
    }
    if (rc == 0) {
        e->pid = le.pid;
        e->fd = le.fd;
        e->workers = le.workers;
        int trc = pthread_create(&e->reader_thread, NULL, reader_main, e);
        if (trc == 0) {
            e->has_reader = 1;
            e->state = ENC_READY;
            e->idle_since_us = clock_mono_us();
            s->stats.enclaves_started++;
            pthread_mutex_unlock(&s->lock);
            writer_loop(e);
            return NULL;
        }
        /* no reader: undo the launch; the reaper kills and reaps the pid */
        free(err);
        err = NULL;
        if (asprintf(&err, "cannot create the enclave reader thread: %s", strerror(trc)) < 0) err = NULL;
    }
    fprintf(stderr, "tfaas: enclave for %s: %s\n", e->unit, err ? err : "launch failed");
    e->launch_failed = 1;
    if (err && asprintf(&e->launch_error, "Could not start an enclave for this action: %s.", err) < 0)
        e->launch_error = NULL;
    free(err);
    done_list dl = {0};
    enclave_died(e, &dl);
    e->io_done = 1;
    pthread_mutex_unlock(&s->lock);
    done_list_deliver(&dl);
    return NULL;
}

int enclave_spawn(enclave *e) {
    if (pthread_create(&e->io_thread, NULL, io_main, e) != 0) return -1;
    e->has_io = 1;
    return 0;
}
