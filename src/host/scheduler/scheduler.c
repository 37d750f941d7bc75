/* scheduler.c - admission, per-function concurrency and queues, completion.
 *
 * Public entry points of scheduler.h. Enclave processes and their threads are
 * in enclave.c, timeouts/idle eviction/reaping in watchdog.c; the shared state
 * and its locking rules are described in sched_internal.h. */
#include "host/scheduler/sched_internal.h"

#include "host/util/clock.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_WORKERS_MAX 64u

/* ---- completion ------------------------------------------------------- */

static void done_push(done_list *dl, activation *a) {
    a->next = NULL;
    if (dl->tail) dl->tail->next = a;
    else dl->head = a;
    dl->tail = a;
}

/* Everything an activation holds is released under the lock (its budget,
 * its code reference) by activation_unbudget; this frees the rest. */
static void activation_free(activation *a) {
    free(a->ns);
    free(a->unit);
    free(a->fn_key);
    free(a->main);
    free(a->params);
    free(a->activation_id);
    free(a->action_json);
    free(a->egress);
    free(a->record);
    free(a->keys);
    sched_result_free(&a->res); /* only set if never delivered */
    free(a);
}

/* Hands every finished activation to its callback; called with no lock held.
 * The callback receives the strings; the activation itself is freed here. */
void done_list_deliver(done_list *dl) {
    activation *a = dl->head;
    dl->head = dl->tail = NULL;
    while (a) {
        activation *next = a->next;
        sched_result r = a->res;
        a->res.result_json = NULL;
        a->res.logs = NULL;
        a->res.sealed = NULL;
        a->done(a->ud, &r);
        activation_free(a);
        a = next;
    }
}

/* Lock held: gives back what the activation holds in its namespace's budget
 * and its reference to the code, which a finished activation no longer needs. */
static void activation_unbudget(scheduler *s, activation *a) {
    if (a->budgeted && s->budget) budget_give(s->budget, a->ns, 1, a->charged);
    a->budgeted = 0;
    sched_code_unref(s, a->code);
    a->code = NULL;
}

/* Sets the outcome (result_json is copied). The "{}" and "" allocated at
 * submission stay in place if a copy cannot be made, so the callback never
 * sees NULL strings. */
void sched_finish(scheduler *s, activation *a, done_list *dl, tfaas_status st, const char *result_json) {
    a->res.status = st;
    if (result_json) {
        char *copy = strdup(result_json);
        if (copy) {
            free(a->res.result_json);
            a->res.result_json = copy;
        }
    }
    if (a->sent_us) a->res.wait_us = a->sent_us - a->submit_us;
    else a->res.wait_us = clock_mono_us() - a->submit_us;
    s->stats.completed++;
    activation_unbudget(s, a);
    done_push(dl, a);
}

/* Finishes with OpenWhisk's failure shape {"error": msg}. */
void sched_finish_msg(scheduler *s, activation *a, done_list *dl, tfaas_status st, const char *msg) {
    json_t *o = json_pack("{s:s}", "error", msg);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    sched_finish(s, a, dl, st, text);
    free(text);
}

/* ---- per-function state ----------------------------------------------- */

static fn_state *fn_get(scheduler *s, const char *fn_key, int create) {
    size_t n = isolation_fn_name_len(fn_key);
    unsigned b = sched_key_hash(fn_key, n);
    for (fn_state *f = s->fns[b]; f; f = f->next)
        if (strlen(f->key) == n && memcmp(f->key, fn_key, n) == 0) return f;
    if (!create) return NULL;
    fn_state *f = calloc(1, sizeof *f);
    if (!f || !(f->key = strndup(fn_key, n))) {
        free(f);
        return NULL;
    }
    f->next = s->fns[b];
    s->fns[b] = f;
    return f;
}

/* Forgets a function with nothing running or waiting, so the table only
 * holds busy functions. */
static void fn_maybe_free(scheduler *s, fn_state *f) {
    if (f->in_flight || f->queued) return;
    sched_code_unref(s, f->code);
    unsigned b = sched_key_hash(f->key, strlen(f->key));
    for (fn_state **p = &s->fns[b]; *p; p = &(*p)->next) {
        if (*p == f) {
            *p = f->next;
            break;
        }
    }
    free(f->key);
    free(f);
}

/* ---- dispatch --------------------------------------------------------- */

/* The enclave new work of a unit (isolation_unit_key) for this engine goes
 * to: each engine is its own enclave binary, so a unit has one per engine;
 * and confidential functions never share a process with plaintext ones, so
 * a unit has one of each kind too (docs/architecture.md). */
static enclave *current_enclave(scheduler *s, const char *unit, sched_engine engine, int confidential) {
    for (enclave *e = s->enclaves; e; e = e->next)
        if (e->current && e->engine == engine && e->confidential == confidential && strcmp(e->unit, unit) == 0)
            return e;
    return NULL;
}

/* ---- fair shares of enclaves ------------------------------------------ */

/* Whether a current enclave's unit belongs to namespace ns (n bytes). */
static int unit_of_ns(const enclave *e, const char *ns, size_t n) {
    size_t len;
    const char *u = isolation_unit_ns(e->unit, &len);
    return u && len == n && memcmp(u, ns, n) == 0;
}

/* Namespaces holding a current enclave, ns counted whether it holds one or
 * not. Quadratic in the enclaves, which max_enclaves keeps few. Lock held. */
static unsigned ns_holders(scheduler *s, const char *ns, size_t nslen) {
    unsigned h = 1;
    for (enclave *e = s->enclaves; e; e = e->next) {
        size_t len;
        const char *u = e->current ? isolation_unit_ns(e->unit, &len) : NULL;
        if (!u || (len == nslen && memcmp(u, ns, len) == 0)) continue;
        int first = 1; /* each namespace counts at its first enclave in the list */
        for (enclave *p = s->enclaves; p != e && first; p = p->next)
            if (p->current && unit_of_ns(p, u, len)) first = 0;
        h += (unsigned)first;
    }
    return h;
}

/* The most enclaves namespace ns may hold now, 0 for no limit:
 * max_enclaves_per_ns, and with max_enclaves M also M / (H + 1) but at
 * least 1, H the namespaces holding enclaves (ns included). The "+ 1" keeps
 * a share free for a namespace that has none yet, so a tenant alone on the
 * server cannot take every enclave before the next one arrives. */
static unsigned ns_share(scheduler *s, const char *ns, size_t nslen) {
    unsigned cap = s->cfg.max_enclaves_per_ns;
    if (s->cfg.max_enclaves) {
        unsigned share = s->cfg.max_enclaves / (ns_holders(s, ns, nslen) + 1);
        if (share < 1) share = 1;
        if (!cap || share < cap) cap = share;
    }
    return cap;
}

/* Room for one more current enclave for `unit`. A namespace at its share
 * may only replace its own least recently used idle enclave; otherwise,
 * under max_enclaves, the least recently used idle one of anybody is
 * stopped when the limit is reached. 0, or EDQUOT (the namespace's share is
 * all busy) or EBUSY (every enclave is busy). A shared unit belongs to no
 * namespace and has no share. Lock held. */
static int make_room(scheduler *s, const char *unit, const char *ns) {
    size_t nslen = strlen(ns), ulen;
    int owned = isolation_unit_ns(unit, &ulen) != NULL;
    unsigned cap = owned ? ns_share(s, ns, nslen) : 0;
    unsigned n = 0, mine = 0;
    enclave *lru = NULL, *my_lru = NULL;
    for (enclave *e = s->enclaves; e; e = e->next) {
        if (!e->current) continue; /* stopping or dead: leaving by itself */
        n++;
        int own = owned && unit_of_ns(e, ns, nslen);
        mine += (unsigned)own;
        if (!enclave_idle(e)) continue;
        if (!lru || e->idle_since_us < lru->idle_since_us) lru = e;
        if (own && (!my_lru || e->idle_since_us < my_lru->idle_since_us)) my_lru = e;
    }
    enclave *stop = NULL;
    if (cap && mine >= cap) {
        if (!my_lru) return EDQUOT;
        stop = my_lru; /* a replacement: neither count grows */
    } else if (s->cfg.max_enclaves && n >= s->cfg.max_enclaves) {
        if (!lru) return EBUSY;
        stop = lru;
    }
    if (stop) {
        enclave_stop(stop, clock_mono_us());
        s->stats.enclaves_evicted++;
    }
    return 0;
}

/* Gives an activation that holds a slot to its unit's enclave, starting one
 * if there is none. 0, or an errno (nothing changed): EDQUOT or EBUSY from
 * make_room, ESHUTDOWN, ENOMEM when no enclave can be made. */
static int assign(scheduler *s, activation *a) {
    if (s->closing || s->quiesced) return ESHUTDOWN;
    enclave *e = current_enclave(s, a->unit, a->engine, a->confidential);
    if (!e) {
        int full = make_room(s, a->unit, a->ns);
        if (full) {
            if (full == EDQUOT) s->stats.share_refused++;
            else s->stats.enclaves_refused++;
            return full;
        }
        e = enclave_new(s, a->unit, a->engine, a->confidential);
        if (!e) return ENOMEM;
        if (enclave_spawn(e) < 0) {
            enclave_free(e);
            return ENOMEM;
        }
        e->next = s->enclaves;
        s->enclaves = e;
    }
    a->next = NULL;
    if (e->pending_tail) e->pending_tail->next = a;
    else e->pending_head = a;
    e->pending_tail = a;
    enclave_kick(e);
    return 0;
}

#define MSG_NO_ENCLAVE "Could not start an enclave for this action."
#define MSG_ALL_BUSY "Every enclave is busy (the server's --max-enclaves limit); try again later."
#define MSG_SHARE_BUSY "Every enclave this namespace may have is busy (its share of the server's enclaves); " \
                       "try again later."

static const char *assign_error(int err) {
    return err == ESHUTDOWN ? MSG_SHUTDOWN
           : err == EBUSY   ? MSG_ALL_BUSY
           : err == EDQUOT  ? MSG_SHARE_BUSY
                            : MSG_NO_ENCLAVE;
}

void sched_assign(scheduler *s, activation *a, done_list *dl) {
    int err = assign(s, a);
    if (err == 0) return;
    sched_finish_msg(s, a, dl, TFAAS_STATUS_INTERNAL_ERR, assign_error(err));
    sched_release_slot(s, a, dl);
}

/* The activation gave up its concurrency slot: start queued work of the same
 * function. Iterative so a run of failures cannot recurse deeply. */
void sched_release_slot(scheduler *s, activation *a, done_list *dl) {
    fn_state *f = a->fn;
    a->fn = NULL;
    if (!f) return;
    f->in_flight--;
    while (f->qhead && f->in_flight < f->concurrency + f->pipeline && !s->closing && !s->quiesced) {
        activation *q = f->qhead;
        f->qhead = q->next;
        if (!f->qhead) f->qtail = NULL;
        f->queued--;
        f->in_flight++;
        int err = assign(s, q);
        if (err) {
            q->fn = NULL;
            f->in_flight--;
            sched_finish_msg(s, q, dl, TFAAS_STATUS_INTERNAL_ERR, assign_error(err));
        }
    }
    fn_maybe_free(s, f);
}

/* ---- public API ------------------------------------------------------- */

static char *dup_or_empty(const char *p, size_t n) {
    char *c = malloc(n + 1);
    if (!c) return NULL;
    if (n) memcpy(c, p, n);
    c[n] = '\0';
    return c;
}

static activation *activation_new(const sched_job *job, const char *unit, sched_done_fn done, void *ud) {
    activation *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    const char *params = job->params_json ? job->params_json : "{}";
    size_t params_len = job->params_json ? job->params_len : 2;
    a->ns = strdup(job->ns);
    a->engine = job->engine < SCHED_ENGINES ? job->engine : SCHED_ENGINE_DUKTAPE;
    a->unit = strdup(unit);
    a->fn_key = strdup(job->fn_key);
    a->main = strdup(job->main && *job->main ? job->main : "main");
    a->params = dup_or_empty(params, params_len);
    a->params_len = params_len;
    a->activation_id = strdup(job->activation_id ? job->activation_id : "");
    a->action_json = strdup(job->action_json ? job->action_json : "{}");
    a->res.result_json = strdup("{}");
    a->res.logs = strdup("");
    a->egress = job->egress ? strdup(job->egress) : NULL;
    if ((job->egress && !a->egress) || !a->ns || !a->unit || !a->fn_key || !a->main || !a->params || !a->activation_id ||
        !a->action_json ||
        !a->res.result_json || !a->res.logs) {
        activation_free(a);
        return NULL;
    }
    a->timeout_ms = job->timeout_ms;
    a->memory_bytes = job->memory_bytes;
    a->max_result_bytes = job->max_result_bytes;
    a->max_log_bytes = job->max_log_bytes;
    a->concurrency = job->concurrency ? job->concurrency : 1;
    a->confidential = job->confidential;
    if (job->confidential) {
        a->record = (uint8_t *)dup_or_empty((const char *)job->record, job->record_len);
        a->record_len = job->record_len;
        if (!a->record) {
            activation_free(a);
            return NULL;
        }
    }
    a->done = done;
    a->ud = ud;
    a->submit_us = clock_mono_us();
    /* What it holds in the host besides the shared code (charged once). */
    a->charged = sizeof *a + a->params_len + a->record_len + strlen(a->ns) + strlen(a->unit) +
                 strlen(a->fn_key) + strlen(a->main) + strlen(a->activation_id) + strlen(a->action_json) + 6;
    return a;
}

/* Lock held: takes the activation (and its code, if this is the copy's
 * first holder) from its namespace's budget. 0, or EUSERS (too many
 * activations), ENOBUFS (too many bytes), ENOMEM. */
static int admit(scheduler *s, activation *a) {
    if (!s->budget) return 0;
    uint64_t bytes = a->charged + (a->code->charged ? 0 : a->code->len);
    budget_result r = budget_take(s->budget, a->ns, 1, bytes, NULL);
    if (r != BUDGET_OK) return r == BUDGET_COUNT ? EUSERS : r == BUDGET_BYTES ? ENOBUFS : ENOMEM;
    a->budgeted = 1;
    /* The copy's bytes stay in the budget until its last reference goes
     * (sched_code_unref), however many activations share it. */
    a->code->charged = 1;
    return 0;
}

scheduler *scheduler_create(const scheduler_config *cfg, char **err) {
    if (err) *err = NULL;
    const char *why = NULL;
    if (!cfg || !cfg->enclave_path || !*cfg->enclave_path) why = "scheduler: no enclave path";
    else if (access(cfg->enclave_path, X_OK) < 0) why = "scheduler: enclave executable not found or not executable";
    else if (cfg->workers > LAUNCHER_MAX_WORKERS) why = "scheduler: too many workers per enclave";
    if (why) {
        if (err) {
            if (cfg && cfg->enclave_path && asprintf(err, "%s: %s", why, cfg->enclave_path) < 0) *err = NULL;
            else if (!cfg || !cfg->enclave_path) *err = strdup(why);
        }
        return NULL;
    }
    scheduler *s = calloc(1, sizeof *s);
    if (!s || !(s->enclave_path = strdup(cfg->enclave_path)) ||
        (cfg->enclave_v8_path && !(s->enclave_v8_path = strdup(cfg->enclave_v8_path)))) {
        if (s) {
            free(s->enclave_path);
            free(s->enclave_v8_path);
        }
        free(s);
        if (err) *err = strdup("scheduler: out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->cfg.enclave_path = s->enclave_path;
    s->cfg.enclave_v8_path = s->enclave_v8_path;
    s->budget = cfg->budget;
    if (s->cfg.isolation == ISOLATION_UNSET) s->cfg.isolation = ISOLATION_TENANT;
    if (s->cfg.workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->cfg.workers = n < 1 ? 1u : n > (long)DEFAULT_WORKERS_MAX ? DEFAULT_WORKERS_MAX : (unsigned)n;
    }
    s->next_ipc_id = 1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wd_wake, &ca);
    pthread_cond_init(&s->all_dead, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&s->watchdog, NULL, watchdog_main, s);
    if (rc != 0) {
        if (err && asprintf(err, "scheduler: watchdog thread: %s", strerror(rc)) < 0) *err = NULL;
        pthread_cond_destroy(&s->wd_wake);
        pthread_cond_destroy(&s->all_dead);
        pthread_mutex_destroy(&s->lock);
        free(s->enclave_path);
        free(s->enclave_v8_path);
        free(s);
        return NULL;
    }
    return s;
}

/* The weakest isolation each engine runs in. V8 cannot be stopped inside one
 * call of a built-in (indexOf or sort over a sparse array of length 2^32-1
 * runs for minutes; V8 checks for termination only between calls, and it
 * comes prebuilt), so the host's kill of its enclave is what ends such a
 * call, and in an enclave shared by tenants that kill would fail the other
 * tenants' activations too. So V8 never shares an enclave between tenants:
 * under shared-enclave its unit is the tenant (docs/architecture.md).
 * Duktape stops inside its built-ins and may share. */
static const isolation_mode ENGINE_MIN_ISOLATION[SCHED_ENGINES] = {
    [SCHED_ENGINE_DUKTAPE] = ISOLATION_SHARED,
    [SCHED_ENGINE_V8] = ISOLATION_TENANT,
};

int scheduler_submit(scheduler *s, const sched_job *job, sched_done_fn done, void *ud) {
    if (!s || !job || !done || !job->ns || !*job->ns || !job->fn_key || !*job->fn_key ||
        strlen(job->ns) > SCHED_MAX_KEY || strlen(job->fn_key) > SCHED_MAX_KEY ||
        (!job->code && job->code_len) || (unsigned)job->engine >= SCHED_ENGINES) {
        errno = EINVAL;
        return -1;
    }
    char unit[SCHED_MAX_UNIT];
    isolation_mode mode = isolation_effective(isolation_effective(s->cfg.isolation, job->isolation),
                                              ENGINE_MIN_ISOLATION[job->engine]);
    if (isolation_unit_key(mode, job->ns, job->fn_key, unit, sizeof unit) < 0) {
        errno = EINVAL;
        return -1;
    }
    activation *a = activation_new(job, unit, done, ud);
    if (!a) {
        errno = ENOMEM;
        return -1;
    }
    /* The revision's code: the copy its queued or running activations share,
     * else a new copy, made outside the lock (it may be megabytes). */
    const char *code = job->code ? job->code : "";
    size_t code_len = job->code ? job->code_len : 0;
    pthread_mutex_lock(&s->lock);
    a->code = sched_code_find(fn_get(s, a->fn_key, 0), a->fn_key, code_len);
    pthread_mutex_unlock(&s->lock);
    if (!a->code && !(a->code = sched_code_new(a->ns, a->fn_key, code, code_len))) {
        activation_free(a);
        errno = ENOMEM;
        return -1;
    }
    int rc = 0, saved = 0;
    pthread_mutex_lock(&s->lock);
    enclave_inline_begin(); /* `a` may finish during the send: not touched after */
    int stopping = s->closing || s->quiesced;
    fn_state *f = stopping ? NULL : fn_get(s, a->fn_key, 1);
    if (!f) {
        saved = stopping ? ESHUTDOWN : ENOMEM;
        rc = -1;
    } else if ((saved = admit(s, a)) != 0) {
        rc = -1; /* the namespace holds as much as it may */
        fn_maybe_free(s, f);
    } else {
        f->concurrency = a->concurrency; /* the newest revision's limit applies */
        f->pipeline = SCHED_PIPELINE_MAX; /* also shared: lane_share.c keeps its lanes fair */
        a->may_pipeline = f->pipeline > 0;
        a->fn = f;
        /* Waiting: queued here, or sent beyond the concurrency to wait in the
         * enclave; max_queue bounds both together. */
        unsigned waiting = f->queued + (f->in_flight > f->concurrency ? f->in_flight - f->concurrency : 0);
        if (f->in_flight < f->concurrency ||
            (f->in_flight < f->concurrency + f->pipeline && waiting < s->cfg.max_queue)) {
            f->in_flight++;
            saved = assign(s, a); /* no room, no memory or no thread for a new enclave */
            if (saved) {
                f->in_flight--;
                rc = -1;
            }
        } else if (waiting < s->cfg.max_queue) {
            a->next = NULL;
            if (f->qtail) f->qtail->next = a;
            else f->qhead = a;
            f->qtail = a;
            f->queued++;
        } else {
            saved = EAGAIN;
            rc = -1;
        }
        if (rc == 0) sched_code_publish(s, f, a->code); /* later submissions share it */
        if (rc < 0) fn_maybe_free(s, f);
    }
    if (rc < 0) activation_unbudget(s, a);
    enclave_inline_end();
    pthread_mutex_unlock(&s->lock);
    if (rc < 0) {
        activation_free(a);
        errno = saved;
    }
    return rc;
}

/* Ends the activations of an enclave's list (pending, or waiting for keys)
 * whose fn_key starts with prefix (all for NULL) as never run with msg;
 * keeps the others in order. Returns how many ended. Lock held. */
static unsigned fail_list(scheduler *s, done_list *dl, activation **head, activation **tailp, const char *prefix,
                          const char *msg) {
    size_t plen = prefix ? strlen(prefix) : 0;
    unsigned failed = 0;
    activation *keep = NULL, **tail = &keep, *a = *head;
    *head = *tailp = NULL;
    while (a) {
        activation *next = a->next;
        a->next = NULL;
        if (!prefix || strncmp(a->fn_key, prefix, plen) == 0) {
            a->res.not_run = 1;
            sched_finish_msg(s, a, dl, TFAAS_STATUS_INTERNAL_ERR, msg);
            sched_release_slot(s, a, dl);
            failed++;
        } else {
            *tail = a;
            tail = &a->next;
            *tailp = a;
        }
        a = next;
    }
    *head = keep;
    return failed;
}

/* Makes a current enclave forget every heap whose key starts with prefix.
 * Returns whether it had any. Lock held. */
static int forget_prefix(enclave *e, const char *prefix) {
    size_t plen = strlen(prefix);
    int had = 0;
    for (unsigned b = 0; b < ENCLAVE_LOADED_BUCKETS; b++) {
        for (loaded_key **p = &e->loaded[b]; *p;) {
            if (strncmp((*p)->key, prefix, plen) == 0) {
                loaded_key *k = *p;
                *p = k->next;
                free(k->key);
                free(k);
                had = 1;
            } else {
                p = &(*p)->next;
            }
        }
    }
    /* Heaps exist only for keys sent with code, so nothing else to tell. */
    if (had) {
        frame *f = frame_drop(prefix);
        if (f) enclave_push_urgent(e, f);
        else enclave_kill(e); /* cannot tell it to forget: start afresh */
    }
    return had;
}

void scheduler_drop(scheduler *s, const char *ns, const char *name) {
    if (!s || !ns || !name) return;
    char *prefix = NULL;
    if (asprintf(&prefix, "%s/%s@", ns, name) < 0) return;
    pthread_mutex_lock(&s->lock);
    /* New submissions must not share the old revision's code (its queued
     * activations keep their references). */
    fn_state *fn = fn_get(s, prefix, 0);
    if (fn) {
        sched_code_unref(s, fn->code);
        fn->code = NULL;
    }
    /* Any unit may hold it: the action's isolation annotation, and so its
     * unit, may have changed with this very update. */
    for (enclave *e = s->enclaves; e; e = e->next)
        if (e->current) forget_prefix(e, prefix);
    pthread_mutex_unlock(&s->lock);
    free(prefix);
}

/* Finishes every activation that waits (queued for a slot, or pending on an
 * enclave) whose fn_key starts with prefix, or all of them for NULL, as
 * never run with msg. Returns how many. Lock held. */
static unsigned fail_waiting(scheduler *s, done_list *dl, const char *prefix, const char *msg) {
    size_t plen = prefix ? strlen(prefix) : 0;
    unsigned failed = 0;
    for (unsigned b = 0; b < SCHED_FN_BUCKETS; b++) {
        for (fn_state *f = s->fns[b], *next; f; f = next) {
            next = f->next;
            if (prefix && strncmp(f->key, prefix, plen) != 0) continue;
            while (f->qhead) {
                activation *a = f->qhead;
                f->qhead = a->next;
                a->fn = NULL;
                a->res.not_run = 1;
                sched_finish_msg(s, a, dl, TFAAS_STATUS_INTERNAL_ERR, msg);
                failed++;
            }
            f->qtail = NULL;
            f->queued = 0;
            fn_maybe_free(s, f);
        }
    }
    for (enclave *e = s->enclaves; e; e = e->next) {
        failed += fail_list(s, dl, &e->pending_head, &e->pending_tail, prefix, msg);
        failed += fail_list(s, dl, &e->keys_head, &e->keys_tail, prefix, msg); /* they never ran either */
    }
    return failed;
}

unsigned scheduler_retire(scheduler *s, const char *ns) {
    if (!s || !ns || !*ns) return 0;
    char *prefix = NULL;
    if (asprintf(&prefix, "%s/", ns) < 0) return 0;
    size_t nslen = strlen(ns);
    done_list dl = {0};
    pthread_mutex_lock(&s->lock);
    unsigned ended = fail_waiting(s, &dl, prefix, MSG_NS_GONE);
    for (enclave *e = s->enclaves; e; e = e->next) {
        if (!e->current) continue;
        if (unit_of_ns(e, ns, nslen)) {
            /* Its own process: what runs there fails as the process dies,
             * and no new work for the old namespace goes to it (one still
             * starting is stopped once launched, see io_main). */
            e->current = 0;
            e->retired = 1; /* what waits in its lanes ends unrun, not re-run elsewhere */
            enclave_kill(e);
            ended += 1 + e->pipelined;
        } else {
            /* A shared enclave keeps serving the others: the namespace's
             * waiting activations leave its lanes (their CANCELs go out
             * before the DROP, so none starts on a dropped heap), then its
             * heaps go. */
            ended += lanes_retire(e, prefix);
            ended += (unsigned)forget_prefix(e, prefix);
        }
    }
    if (ended) s->stats.retired++;
    pthread_mutex_unlock(&s->lock);
    done_list_deliver(&dl);
    free(prefix);
    return ended;
}

/* Appends the n-byte namespace ns to the set (*list, *count) unless it is
 * there. -1 on no memory. */
static int ns_set_add(char ***list, size_t *count, const char *ns, size_t n) {
    for (size_t i = 0; i < *count; i++)
        if (strlen((*list)[i]) == n && memcmp((*list)[i], ns, n) == 0) return 0;
    char **grown = realloc(*list, (*count + 1) * sizeof **list);
    if (!grown) return -1;
    *list = grown;
    if (!(grown[*count] = strndup(ns, n))) return -1;
    (*count)++;
    return 0;
}

char **scheduler_namespaces(scheduler *s, size_t *n) {
    char **list = NULL;
    size_t count = 0;
    int failed = 0;
    pthread_mutex_lock(&s->lock);
    for (unsigned b = 0; b < SCHED_FN_BUCKETS && !failed; b++)
        for (fn_state *f = s->fns[b]; f && !failed; f = f->next)
            failed = ns_set_add(&list, &count, f->key, isolation_fn_ns_len(f->key)) < 0;
    for (enclave *e = s->enclaves; e && !failed; e = e->next) {
        if (!e->current) continue; /* leaving by itself, and no work goes to it */
        size_t len;
        const char *u = isolation_unit_ns(e->unit, &len);
        if (u) failed = ns_set_add(&list, &count, u, len) < 0;
        for (unsigned b = 0; b < ENCLAVE_LOADED_BUCKETS && !failed; b++)
            for (loaded_key *k = e->loaded[b]; k && !failed; k = k->next)
                failed = ns_set_add(&list, &count, k->key, isolation_fn_ns_len(k->key)) < 0;
    }
    pthread_mutex_unlock(&s->lock);
    if (failed) {
        for (size_t i = 0; i < count; i++) free(list[i]);
        free(list);
        list = NULL;
        count = 0;
    }
    *n = count;
    return list;
}

static int any_activation(const activation *a, const void *arg) {
    (void)a;
    (void)arg;
    return 1;
}

void scheduler_quiesce(scheduler *s) {
    if (!s) return;
    done_list dl = {0};
    pthread_mutex_lock(&s->lock);
    s->quiesced = 1;
    fail_waiting(s, &dl, NULL, MSG_NOT_RUN);
    /* What waits in the enclaves' lanes is cancelled there: each ends unrun
     * (NOT_RUN) unless it started meanwhile, then it finishes as usual. */
    for (enclave *e = s->enclaves; e; e = e->next) lanes_cancel(e, any_activation, NULL, CANCEL_QUIESCE);
    pthread_mutex_unlock(&s->lock);
    done_list_deliver(&dl);
}

/* A unit's first ready current enclave: engines in order, plaintext before
 * confidential; NULL when it has none. Lock held. For the debug calls. */
static enclave *ready_enclave(scheduler *s, const char *unit) {
    for (int i = 0; i < 2 * SCHED_ENGINES; i++) {
        enclave *e = current_enclave(s, unit, (sched_engine)(i % SCHED_ENGINES), i / SCHED_ENGINES);
        if (e && e->state == ENC_READY) return e;
    }
    return NULL;
}

int scheduler_debug_evict(scheduler *s, const char *unit, const char *fn_key_prefix) {
    if (!s || !unit || !fn_key_prefix) return -1;
    int rc = -1;
    pthread_mutex_lock(&s->lock);
    enclave *e = ready_enclave(s, unit);
    frame *f = e ? frame_drop(fn_key_prefix) : NULL;
    if (f) {
        enclave_push_urgent(e, f);
        rc = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void scheduler_stats(scheduler *s, sched_stats *out) {
    memset(out, 0, sizeof *out);
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    out->enclaves = out->running = out->pending = out->queued = 0; /* counted below */
    for (enclave *e = s->enclaves; e; e = e->next) {
        out->enclaves++; /* a dead one still has a process until it is reaped */
        out->running += e->running;
        out->queued += e->pipelined; /* they wait, in the enclave */
        for (activation *a = e->pending_head; a; a = a->next) out->pending++;
        for (activation *a = e->keys_head; a; a = a->next) out->pending++;
    }
    for (unsigned b = 0; b < SCHED_FN_BUCKETS; b++)
        for (fn_state *f = s->fns[b]; f; f = f->next) out->queued += f->queued;
    pthread_mutex_unlock(&s->lock);
}

isolation_mode scheduler_isolation(const scheduler *s) {
    return s->cfg.isolation; /* set once at create */
}

unsigned scheduler_background_after_ms(const scheduler *s) {
    return s->cfg.background_after_ms; /* set once at create */
}

pid_t scheduler_enclave_pid(scheduler *s, const char *unit) {
    if (!s || !unit) return 0;
    pthread_mutex_lock(&s->lock);
    enclave *e = ready_enclave(s, unit);
    pid_t pid = e ? e->pid : 0;
    pthread_mutex_unlock(&s->lock);
    return pid;
}

/* Every enclave can be reaped; an event thread that began an inline send
 * before closing was set may still pin one that died. Lock held. */
static int all_finished(scheduler *s) {
    for (enclave *e = s->enclaves; e; e = e->next)
        if (!sched_reapable(e)) return 0;
    return 1;
}

void scheduler_destroy(scheduler *s) {
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    s->closing = 1;
    pthread_cond_broadcast(&s->wd_wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->watchdog, NULL);

    /* Everything waiting or running ends now as an internal error; the
     * enclaves are asked to exit and killed if they do not within the grace. */
    done_list dl = {0};
    pthread_mutex_lock(&s->lock);
    fail_waiting(s, &dl, NULL, MSG_NOT_RUN); /* closing: nothing queued moves up */
    for (enclave *e = s->enclaves; e; e = e->next) {
        activation *a = e->inflight, *next;
        e->inflight = NULL;
        e->running = e->pipelined = 0;
        for (; a; a = next) {
            next = a->next;
            a->fn = NULL;
            sched_finish_msg(s, a, &dl, TFAAS_STATUS_INTERNAL_ERR, MSG_SHUTDOWN);
        }
        e->current = 0;
        if (e->state == ENC_READY) {
            frame *f = frame_shutdown();
            if (f) enclave_push_urgent(e, f);
            else enclave_kill(e);
            e->state = ENC_STOPPING;
        }
    }
    pthread_mutex_unlock(&s->lock);
    done_list_deliver(&dl);

    uint64_t kill_at = clock_mono_us() + (uint64_t)SCHED_STOP_GRACE_MS * 1000u;
    pthread_mutex_lock(&s->lock);
    while (!all_finished(s)) {
        if (clock_mono_us() >= kill_at)
            for (enclave *e = s->enclaves; e; e = e->next) enclave_kill(e);
        struct timespec ts = clock_mono_deadline(SCHED_WATCHDOG_TICK_MS);
        pthread_cond_timedwait(&s->all_dead, &s->lock, &ts);
    }
    enclave *list = s->enclaves;
    s->enclaves = NULL;
    pthread_mutex_unlock(&s->lock);
    while (list) {
        enclave *next = list->next;
        sched_reap(s, list);
        list = next;
    }
    for (unsigned b = 0; b < SCHED_FN_BUCKETS; b++) {
        for (fn_state *f = s->fns[b], *next; f; f = next) {
            next = f->next;
            sched_code_unref(s, f->code);
            free(f->key);
            free(f);
        }
    }
    pthread_cond_destroy(&s->wd_wake);
    pthread_cond_destroy(&s->all_dead);
    pthread_mutex_destroy(&s->lock);
    free(s->enclave_path);
    free(s->enclave_v8_path);
    free(s);
}

void sched_result_free(sched_result *r) {
    if (!r) return;
    free(r->result_json);
    free(r->logs);
    free(r->sealed);
    r->result_json = NULL;
    r->logs = NULL;
    r->sealed = NULL;
    r->sealed_len = 0;
}
