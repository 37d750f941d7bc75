/* store.c - opening and closing the store over the backend its target
 * names (store_backend.h), and the helpers the domain files share: errors,
 * statements, transactions, documents. */
#include "host/store/store_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each thread sees the message of its own latest failure. */
static _Thread_local char last_error[512];

const char *store_last_error(void) { return last_error; }

store_status store_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return STORE_ERROR;
}

store_status store_fail_conn(store *s, store_conn *c, const char *what) {
    return store_fail("%s: %s", what, s && c ? s->be->errmsg(c) : "no database");
}

store_status store_fail_db(store *s, const char *what) { return store_fail_conn(s, s ? s->db : NULL, what); }

store_rc store_run(store *s, store_query q, const store_val *args, int n, store_row_fn rows, void *ud,
                   int64_t *changes) {
    return s->be->run(s->db, q, args, n, rows, ud, changes);
}

int store_row_int(void *ud, const store_val *cols, int ncols) {
    if (ncols > 0 && cols[0].type == SV_INT) *(int64_t *)ud = cols[0].i;
    return 1;
}

int store_row_text64(void *ud, const store_val *cols, int ncols) {
    char *out = ud;
    if (ncols > 0 && cols[0].type == SV_TEXT) snprintf(out, 64, "%.*s", (int)(cols[0].n < 63 ? cols[0].n : 63), cols[0].p);
    else out[0] = '\0';
    return 1;
}

int store_row_doc(void *ud, const store_val *cols, int ncols) {
    store_doc_row *r = ud;
    r->found = 1;
    if (r->version) store_row_text64(r->version, cols + 1, ncols - 1);
    if (r->doc && !(*r->doc = ncols > 0 ? store_doc_decode(r->s, cols[0].p, cols[0].n) : NULL)) r->found = -1;
    return 1;
}

store_status store_begin(store *s) {
    if (s->be->begin(s->db) != SB_OK) return store_fail_db(s, "begin transaction");
    return STORE_OK;
}

store_status store_begin_ns(store *s, const char *ns) {
    store_status st = store_begin(s);
    store_val arg = SV_TEXT_(ns);
    if (st == STORE_OK && store_run(s, Q_NS_WRITE_LOCK, &arg, 1, NULL, NULL, NULL) != SB_OK) {
        st = store_fail_db(s, "lock namespace");
        store_rollback(s);
    }
    return st;
}

store_status store_commit(store *s) {
    if (s->be->commit(s->db) != SB_OK) return store_fail_db(s, "commit"); /* rolled back */
    return STORE_OK;
}

void store_rollback(store *s) { s->be->rollback(s->db); }

store_conn *store_read_conn(store *s, pthread_mutex_t **lock) {
    *lock = s->rdb ? &s->rd_lock : &s->db_lock;
    return s->rdb ? s->rdb : s->db;
}

json_t *store_doc_decode(store *s, const char *text, size_t len) {
    (void)s;
    if (!text) {
        store_fail("stored document is missing");
        return NULL;
    }
    json_error_t jerr;
    /* JSON_ALLOW_NUL: a "\u0000" the gateway accepted must read back as written. */
    json_t *doc = json_loadb(text, len, JSON_ALLOW_NUL, &jerr);
    if (!doc) store_fail("stored document is not valid JSON: %s", jerr.text);
    return doc;
}

typedef struct {
    store *s;
    json_t *arr;
    int strip_code;
    store_status res;
} collect;

static int collect_row(void *ud, const store_val *cols, int ncols) {
    collect *c = ud;
    json_t *doc = ncols > 0 ? store_doc_decode(c->s, cols[0].p, cols[0].n) : NULL;
    if (doc && c->strip_code) json_object_del(json_object_get(doc, "exec"), "code");
    if (!doc || json_array_append_new(c->arr, doc) != 0) {
        c->res = STORE_ERROR;
        return 1;
    }
    return 0;
}

store_status store_collect_docs(store *s, store_query q, const store_val *args, int n, int strip_code,
                                const char *what, json_t **out) {
    collect c = {s, json_array(), strip_code, STORE_OK};
    if (!c.arr) c.res = store_fail("out of memory");
    if (c.res == STORE_OK && store_run(s, q, args, n, collect_row, &c, NULL) != SB_OK) c.res = store_fail_db(s, what);
    if (c.res != STORE_OK) {
        json_decref(c.arr);
        c.arr = NULL;
    }
    *out = c.arr;
    return c.res;
}

const store_backend *store_backend_for(const char *target) {
    static const store_backend *const BACKENDS[] = {&store_pg_backend, &store_sqlite_backend};
    for (size_t i = 0; i < sizeof BACKENDS / sizeof BACKENDS[0]; i++)
        if (BACKENDS[i]->claims(target)) return BACKENDS[i];
    return NULL;
}

store_status store_open(const char *target, store **out, char **err) {
    if (err) *err = NULL;
    *out = NULL;
    if (!target) target = "";
    const store_backend *be = store_backend_for(target);
    store *s = be ? calloc(1, sizeof *s) : NULL;
    char *local_err = NULL;
    if (!s) {
        local_err = strdup(be ? "out of memory" : "no store backend serves this target");
        goto fail;
    }
    s->be = be;
    pthread_mutex_init(&s->db_lock, NULL);
    pthread_mutex_init(&s->rd_lock, NULL);
    pthread_mutex_init(&s->q_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the writer's linger is a monotonic wait */
    pthread_cond_init(&s->q_nonempty, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&s->q_nonfull, NULL);
    if (store_cache_init(s) != 0) {
        local_err = strdup("out of memory for the read cache");
        goto fail;
    }
    if (!(s->db = be->open(target, 0, &local_err))) goto fail;
    /* Activation reads get their own connection when it can be had; without
     * it they share the main one (slower under load, still correct). */
    char *reader_err = NULL;
    s->rdb = be->open(target, 1, &reader_err);
    free(reader_err);
    s->ring = calloc(STORE_QUEUE_CAP, sizeof *s->ring);
    if (!s->ring) {
        local_err = strdup("out of memory for the activation queue");
        goto fail;
    }
    if (store_writer_start(s) != 0) {
        local_err = strdup("cannot start the activation writer thread");
        goto fail;
    }
    *out = s;
    return STORE_OK;

fail:
    if (!local_err) local_err = strdup("out of memory");
    store_fail("%s", local_err ? local_err : "out of memory");
    store_close(s);
    if (err) *err = local_err;
    else free(local_err);
    return STORE_ERROR;
}

void store_close(store *s) {
    if (!s) return;
    store_writer_stop(s); /* drains the queue: every queued record gets its callback */
    if (s->rdb) s->be->close(s->rdb);
    if (s->db) s->be->close(s->db);
    free(s->ring);
    store_cache_free(s);
    store_retention_free(s);
    pthread_cond_destroy(&s->q_nonfull);
    pthread_cond_destroy(&s->q_nonempty);
    pthread_mutex_destroy(&s->q_lock);
    pthread_mutex_destroy(&s->db_lock);
    pthread_mutex_destroy(&s->rd_lock);
    free(s);
}

int store_test_set_query_only(store *s, int on) {
    pthread_mutex_lock(&s->db_lock);
    int rc = s->be->test_read_only(s->db, on);
    pthread_mutex_unlock(&s->db_lock);
    return rc;
}
