/* store_activations.c - activation records: a bounded queue that a
 * background writer thread drains in group commits (many records, one
 * transaction, one WAL append), and per-namespace reads.
 *
 * Why a writer thread: invocations finish on many threads at a high rate;
 * committing each record alone would make the WAL append the bottleneck.
 * Callers learn that their record is durable through the `committed`
 * callback, which runs on the writer thread after COMMIT returned (so
 * store_last_error() inside the callback explains a STORE_ERROR).
 *
 * A thread that finishes a burst of activations can commit them itself
 * (store_activation_section_begin/end): the same group commit, on the
 * caller's thread, so the writer is not woken for them. Both committers
 * take db_lock per transaction. Group commit is the domain's: a backend
 * only sees one transaction of many inserts.
 *
 * The writer also does the backend's maintenance (SQLite's WAL checkpoint)
 * when a commit says it is due, and the retention trims that commits queue
 * (store_retention.c), one small transaction at a time between its batches,
 * so that no commit, and no blocking answer waiting for one, pays for
 * them. */
#include "host/store/store_internal.h"

#include "host/metrics/metrics.h"
#include "host/util/clock.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The columns a record must carry; `why` is NULL when it is usable. */
typedef struct {
    const char *id, *ns, *name, *ns_id;
    json_int_t start, end;
    int has_status;
    int status_code;
    char *text;    /* the record serialised, malloc'd */
    size_t text_len;
    char *summary; /* its list entry (docs=false) serialised, malloc'd */
    /* What the doc column keeps: the whole text (rest_at -1), or only what
     * the summary lacks, which goes back in at summary offset rest_at. */
    const char *doc;
    size_t doc_len;
    int64_t rest_at;
    const char *why;
    store_status result;
    int alive; /* its namespace exists (ns_alive): 1, 0, or -1 not known yet */
} row;

/* OpenWhisk's activation status codes, from the record's response. */
static int status_code_of(json_t *record, int *code) {
    json_t *resp = json_object_get(record, "response");
    json_t *sc = json_object_get(resp, "statusCode");
    if (json_is_integer(sc)) {
        *code = (int)json_integer_value(sc);
        return 1;
    }
    const char *status = json_string_value(json_object_get(resp, "status"));
    if (!status) return 0;
    static const char *const names[] = {"success", "application error", "action developer error",
                                        "whisk internal error"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(status, names[i])) {
            *code = i;
            return 1;
        }
    return 0;
}

/* A record its producer wrote as text: the row takes its text and summary
 * and borrows the rest (rec outlives the row in commit_batch). */
static void prepare_text_row(row *r, store_record_text *rec, const char *ns_id) {
    memset(r, 0, sizeof *r);
    r->ns_id = ns_id;
    r->result = STORE_ERROR;
    r->alive = -1;
    r->id = rec->id;
    r->ns = rec->ns;
    r->name = rec->name;
    r->start = rec->start;
    r->end = rec->end;
    r->has_status = 1;
    r->status_code = rec->status_code;
    r->text = rec->text;
    r->text_len = rec->text_len;
    r->summary = rec->summary;
    rec->text = rec->summary = NULL;
    if (!r->id || !r->ns || !r->name || !r->text || !r->summary) {
        r->why = "activation record text is incomplete";
        return;
    }
    r->doc = r->text;
    r->doc_len = r->text_len;
    r->rest_at = -1;
    /* Each byte stored once: the summary is the text with one region cut
     * out, so the doc column keeps that region alone. Checked, not trusted:
     * a summary that is not exactly that leaves the text whole. */
    size_t at = rec->cut_at, cut = rec->cut_len, tail = r->text_len - at - cut;
    if (cut && at <= r->text_len && cut <= r->text_len - at && strlen(r->summary) == at + tail &&
        !memcmp(r->summary, r->text, at) && !memcmp(r->summary + at, r->text + at + cut, tail)) {
        r->doc = r->text + at;
        r->doc_len = cut;
        r->rest_at = (int64_t)at;
        /* A C string too (PostgreSQL reads text parameters up to the NUL):
         * the whole text is not read again, summary and doc make it. */
        r->text[at + cut] = '\0';
    }
}

static void prepare_row(row *r, json_t *record, const char *ns_id) {
    memset(r, 0, sizeof *r);
    r->ns_id = ns_id;
    r->result = STORE_ERROR;
    r->alive = -1;
    if (!json_is_object(record)) {
        r->why = "activation record is not a JSON object";
        return;
    }
    r->id = json_string_value(json_object_get(record, "activationId"));
    r->ns = json_string_value(json_object_get(record, "namespace"));
    r->name = json_string_value(json_object_get(record, "name"));
    json_t *start = json_object_get(record, "start"), *end = json_object_get(record, "end");
    if (!r->id || !r->ns || !r->name || !json_is_integer(start) || !json_is_integer(end)) {
        r->why = "activation record lacks activationId, namespace, name, start or end";
        return;
    }
    r->start = json_integer_value(start);
    r->end = json_integer_value(end);
    r->has_status = status_code_of(record, &r->status_code);
    r->text = json_dumps(record, JSON_COMPACT);
    r->text_len = r->text ? strlen(r->text) : 0;
    r->doc = r->text; /* a tree's summary is serialised apart: the text stays whole */
    r->doc_len = r->text_len;
    r->rest_at = -1;
    /* OpenWhisk's list entries carry no response or logs but a statusCode. */
    json_t *entry = json_copy(record); /* shallow: shares the values */
    if (entry) {
        json_object_del(entry, "response");
        json_object_del(entry, "logs");
        if (r->has_status) json_object_set_new(entry, "statusCode", json_integer(r->status_code));
        r->summary = json_dumps(entry, JSON_COMPACT);
        json_decref(entry);
    }
    if (!r->text || !r->summary) r->why = "cannot serialise the activation record (out of memory)";
}

/* Whether the namespace that ran row i (its name and ns_id) still exists,
 * read once per namespace and batch: an earlier row of the batch with the
 * same pair answers for the rest (a batch is mostly one namespace's). Asked
 * inside the batch's transaction: under SQLite, BEGIN IMMEDIATE shuts out
 * every other writer, so the answer holds until COMMIT, and the insert
 * needs no check of its own (an INSERT ... SELECT that checked made SQLite
 * keep a statement journal, a copy of each page the statement touched);
 * PostgreSQL's insert checks again, in its statement. 1 yes, 0 no, -1 the
 * read failed (last error set). */
static int ns_alive(store *s, const row *rows, size_t i) {
    const row *r = &rows[i];
    if (!r->ns_id) return 1; /* stored under the name, unchecked (store_activation_put) */
    for (size_t j = 0; j < i; j++)
        if (rows[j].alive >= 0 && rows[j].ns_id && !strcmp(rows[j].ns, r->ns) && !strcmp(rows[j].ns_id, r->ns_id))
            return rows[j].alive;
    store_status st = store_namespace_alive_locked(s, r->ns, r->ns_id);
    return st == STORE_ERROR ? -1 : st == STORE_OK;
}

#define NS_GONE "the namespace that ran this activation was deleted"

/* Inserts one row (lock and transaction held). 0 inserted or rejected alone
 * (r->result says which), -1 the transaction is lost (disk full, I/O...). */
static int insert_row(store *s, row *r) {
    /* bytes: the whole document's length, whichever way it is kept */
    store_val args[] = {SV_TEXT_(r->id), SV_TEXT_(r->ns), SV_TEXT_(r->name), SV_INT_(r->start), SV_INT_(r->end),
                        r->has_status ? SV_INT_(r->status_code) : (store_val){.type = SV_NULL},
                        SV_INT_(r->text_len), SV_TEXT_(r->summary), SV_TEXTN_(r->doc, r->doc_len),
                        SV_TEXT_(r->ns_id), r->rest_at >= 0 ? SV_INT_(r->rest_at) : (store_val){.type = SV_NULL}};
    int64_t changes = 0;
    store_rc rc = store_run(s, Q_ACTV_INSERT, args, 11, NULL, NULL, &changes);
    if (rc == SB_OK && changes == 0) { /* PostgreSQL's own check (ns_alive) */
        r->result = STORE_NOT_FOUND;
        r->why = NS_GONE;
        return 0;
    }
    if (rc == SB_OK) {
        r->result = STORE_OK;
        return 0;
    }
    /* A duplicate id concerns this record only; the rest of the batch goes on. */
    if (SB_IS_CONSTRAINT(rc)) {
        r->why = "an activation with this id exists already";
        return 0;
    }
    return -1;
}

/* Wakes the writer when the backend has maintenance due (no lock held). */
static void maintenance_check(store *s) {
    if (!s->be->maintenance_due || !s->be->maintenance_due(s->db)) return;
    pthread_mutex_lock(&s->q_lock);
    if (!s->maint_due) {
        s->maint_due = true;
        pthread_cond_signal(&s->q_nonempty);
    }
    pthread_mutex_unlock(&s->q_lock);
}

static void commit_batch(store *s, store_pending *batch, size_t n) {
    row rows[STORE_BATCH_MAX];
    for (size_t i = 0; i < n; i++) {
        if (batch[i].text) prepare_text_row(&rows[i], batch[i].text, batch[i].ns_id);
        else prepare_row(&rows[i], batch[i].record, batch[i].ns_id);
    }

    char batch_err[512] = "";
    pthread_mutex_lock(&s->db_lock);
    uint64_t began_us = clock_mono_us();
    int ok = store_begin(s) == STORE_OK;
    for (size_t i = 0; ok && i < n; i++) {
        if (rows[i].why) continue;
        if ((rows[i].alive = ns_alive(s, rows, i)) < 0) ok = 0;
        else if (!rows[i].alive) rows[i].result = STORE_NOT_FOUND, rows[i].why = NS_GONE;
        else if (insert_row(s, &rows[i]) < 0) ok = 0, store_fail_db(s, "write activations");
    }
    if (ok) ok = store_commit(s) == STORE_OK;
    else store_rollback(s);
    bool trim = false;
    if (!ok) {
        snprintf(batch_err, sizeof batch_err, "%s", store_last_error());
    } else {
        metrics_store_commit(clock_mono_us() - began_us, n);
        /* The namespaces' totals, in the same hold of db_lock as the rows;
         * a trim they call for is the writer's (store_retention.c). */
        const char *written[STORE_BATCH_MAX];
        size_t sizes[STORE_BATCH_MAX], nwritten = 0;
        for (size_t i = 0; i < n; i++)
            if (rows[i].result == STORE_OK) written[nwritten] = rows[i].ns, sizes[nwritten++] = rows[i].text_len;
        trim = store_retention_committed(s, written, sizes, nwritten);
    }
    pthread_mutex_unlock(&s->db_lock);
    if (trim) {
        pthread_mutex_lock(&s->q_lock);
        s->trim_due = true;
        pthread_cond_signal(&s->q_nonempty);
        pthread_mutex_unlock(&s->q_lock);
    }

    for (size_t i = 0; i < n; i++) {
        store_status st = ok ? rows[i].result : STORE_ERROR;
        if (st != STORE_OK) store_fail("%s", ok ? rows[i].why : batch_err);
        free(rows[i].text);
        free(rows[i].summary);
        free(batch[i].ns_id);
        /* Let go of the record before announcing the commit: the caller may
         * share it (a blocking answer reads it once told), and jansson's
         * decrement is a release without an acquire, so a last reference
         * dropped here after the announcement would free it unordered with
         * the caller's reads. Dropped before, the caller's side always
         * frees it, after its reads. */
        json_decref(batch[i].record);
        store_record_text_free(batch[i].text);
        if (batch[i].committed) batch[i].committed(batch[i].ud, st);
    }
    if (ok) maintenance_check(s);
}

/* Under load, waiting a moment before a commit lets more records join it:
 * every commit appends each page it touched to the WAL, so commits of one or
 * two records cost several times more per record than commits of dozens.
 * The writer lingers only while the previous batch showed load, so a lone
 * activation is never delayed. */
#define LINGER_US 300
#define LINGER_ENOUGH 32

static void *writer_main(void *arg) {
    store *s = arg;
    pthread_setname_np(pthread_self(), "store-writer");
    store_pending batch[STORE_BATCH_MAX]; /* 24 KiB of the thread stack */
    size_t last_batch = 0;
    bool trim_turn = false; /* a batch was committed since the last trim transaction */
    for (;;) {
        pthread_mutex_lock(&s->q_lock);
        s->wake_at = 1;
        while (s->count == 0 && !s->stopping && !s->maint_due && !(s->trim_due && !s->trims_paused)) {
            /* Idle: the age sweep still runs, at most every STORE_EXPIRE_EVERY_MS,
             * and maintenance that other writes (metadata) made due. */
            struct timespec until = clock_mono_deadline(STORE_EXPIRE_EVERY_MS);
            if (pthread_cond_timedwait(&s->q_nonempty, &s->q_lock, &until) != 0 && s->count == 0) {
                pthread_mutex_unlock(&s->q_lock);
                store_retention_expire(s);
                maintenance_check(s);
                pthread_mutex_lock(&s->q_lock);
            }
        }
        if (s->maint_due) { /* before the batch: it was due first */
            s->maint_due = false;
            pthread_mutex_unlock(&s->q_lock);
            s->be->maintain(s->db);
            continue;
        }
        if (s->trim_due && !s->trims_paused && (s->count == 0 || trim_turn)) {
            /* One transaction of a trim, then the queue again: records
             * queued meanwhile wait one trim transaction at most, and a
             * queue that never empties still lets every other transaction
             * be a trim's. Before the writer exits too, so a closed store
             * is within its quotas. */
            s->trim_due = false;
            trim_turn = false;
            pthread_mutex_unlock(&s->q_lock);
            if (store_retention_step(s)) {
                pthread_mutex_lock(&s->q_lock);
                s->trim_due = true;
                pthread_mutex_unlock(&s->q_lock);
            }
            continue;
        }
        if (last_batch > 1 && s->count < LINGER_ENOUGH && !s->stopping) {
            /* producers leave us alone until the batch is worth it */
            s->wake_at = LINGER_ENOUGH;
            struct timespec until = clock_mono_deadline_us(LINGER_US);
            while (s->count < LINGER_ENOUGH && !s->stopping &&
                   pthread_cond_timedwait(&s->q_nonempty, &s->q_lock, &until) == 0) {}
        }
        s->wake_at = 0; /* busy: nobody needs to wake us */
        if (s->count == 0) { /* stopping and drained */
            s->writer_done = true;
            pthread_mutex_unlock(&s->q_lock);
            return NULL;
        }
        size_t n = s->count < STORE_BATCH_MAX ? s->count : STORE_BATCH_MAX;
        for (size_t i = 0; i < n; i++) batch[i] = s->ring[(s->head + i) % STORE_QUEUE_CAP];
        s->head = (s->head + n) % STORE_QUEUE_CAP;
        s->count -= n;
        pthread_cond_broadcast(&s->q_nonfull);
        pthread_mutex_unlock(&s->q_lock);
        commit_batch(s, batch, n);
        store_retention_expire(s); /* does nothing until it is due */
        last_batch = n;
        trim_turn = true;
    }
}

int store_writer_start(store *s) {
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) return -1;
    s->writer_started = true;
    return 0;
}

void store_writer_stop(store *s) {
    if (!s->writer_started) return;
    pthread_mutex_lock(&s->q_lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->q_nonempty);
    pthread_cond_broadcast(&s->q_nonfull);
    pthread_mutex_unlock(&s->q_lock);
    pthread_join(s->writer, NULL);
    s->writer_started = false;
}

void store_test_pause_trims(store *s, int on) {
    pthread_mutex_lock(&s->q_lock);
    s->trims_paused = on;
    pthread_cond_signal(&s->q_nonempty);
    pthread_mutex_unlock(&s->q_lock);
}

/* This thread's commit section (store_activation_section_begin). */
static _Thread_local struct {
    store *s; /* NULL outside a section */
    size_t n;
    store_pending items[STORE_SECTION_MAX];
} section;

void store_activation_section_begin(store *s) {
    section.s = s;
    section.n = 0;
}

void store_activation_section_end(store *s) {
    if (section.s != s) return;
    size_t n = section.n;
    section.s = NULL;
    section.n = 0;
    if (n) commit_batch(s, section.items, n);
}

void store_record_text_free(store_record_text *rec) {
    if (!rec) return;
    free(rec->text);
    free(rec->summary);
    free(rec->id);
    free(rec->ns);
    free(rec->name);
    free(rec);
}

/* Either kind of record (record or text, owned) into the caller's commit
 * section or the writer's queue. */
static void put_pending(store *s, json_t *record, store_record_text *text, const char *ns_id,
                        store_committed_fn committed, void *ud) {
    char *id = ns_id ? strdup(ns_id) : NULL;
    store_pending p = {.record = record, .text = text, .ns_id = id, .committed = committed, .ud = ud};
    if (!s || (ns_id && !id)) {
        json_decref(p.record);
        store_record_text_free(p.text);
        store_fail(s ? "activation_put: out of memory" : "activation_put: no store");
        if (committed) committed(ud, STORE_ERROR);
        return;
    }
    if (section.s == s) {
        if (section.n == STORE_SECTION_MAX) { /* a long burst: commit what it has so far */
            commit_batch(s, section.items, section.n);
            section.n = 0;
        }
        section.items[section.n++] = p;
        return;
    }
    pthread_mutex_lock(&s->q_lock);
    /* Back-pressure: a full queue makes producers wait; records are never dropped. */
    while (s->count == STORE_QUEUE_CAP && !s->writer_done) pthread_cond_wait(&s->q_nonfull, &s->q_lock);
    if (s->writer_done) {
        /* Only a put racing store_close gets here: nobody would write it. */
        pthread_mutex_unlock(&s->q_lock);
        json_decref(p.record);
        store_record_text_free(p.text);
        free(id);
        store_fail("activation_put: the store is closed");
        if (committed) committed(ud, STORE_ERROR);
        return;
    }
    s->ring[(s->head + s->count) % STORE_QUEUE_CAP] = p;
    s->count++;
    if (s->count == s->wake_at) pthread_cond_signal(&s->q_nonempty);
    pthread_mutex_unlock(&s->q_lock);
}

void store_activation_put(store *s, json_t *record, const char *ns_id, store_committed_fn committed, void *ud) {
    put_pending(s, record, NULL, ns_id, committed, ud);
}

void store_activation_put_text(store *s, store_record_text *rec, const char *ns_id, store_committed_fn committed,
                               void *ud) {
    put_pending(s, NULL, rec, ns_id, committed, ud);
}

void store_page_free(store_page *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) free(p->docs[i]);
    free(p->docs);
    free(p->lens);
    memset(p, 0, sizeof *p);
}

/* Appends one document to the page, the concatenation of three pieces
 * (b and c may be empty; its arrays grow by doubling). 0, or -1 out of
 * memory. */
static int page_add(store_page *p, const char *a, size_t alen, const char *b, size_t blen, const char *c,
                    size_t clen) {
    if (!a) return -1;
    size_t len = alen + blen + clen;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        char **docs = realloc(p->docs, cap * sizeof *docs);
        if (docs) p->docs = docs;
        size_t *lens = docs ? realloc(p->lens, cap * sizeof *lens) : NULL;
        if (!lens) return -1;
        p->lens = lens;
        p->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, a, alen);
    if (blen) memcpy(copy + alen, b, blen);
    if (clen) memcpy(copy + alen + blen, c, clen);
    copy[len] = '\0';
    p->docs[p->n] = copy;
    p->lens[p->n++] = len;
    p->bytes += len;
    return 0;
}

/* Rows of an activation read: (size, text, rest_at, summary) for a page,
 * (text, rest_at, summary) for a get. rest_at NULL: text is the whole
 * document (a list entry, or a record kept whole); else text goes into
 * summary at byte offset rest_at (prepare_text_row). */
typedef struct {
    store_page *page;
    size_t max_bytes;
    int sized;        /* column 0 is the size of the document */
    store_status res;
} page_rows;

static int page_row(void *ud, const store_val *cols, int ncols) {
    page_rows *r = ud;
    int base = r->sized ? 1 : 0;
    if (ncols < base + 3) return 1;
    const store_val *text = &cols[base], *at = &cols[base + 1], *summary = &cols[base + 2];
    /* Column 0 is the document's size before it is read (docs=1). */
    size_t next = r->sized && cols[0].type == SV_INT ? (size_t)cols[0].i : 0;
    if (r->page->n && r->max_bytes && r->page->bytes + next > r->max_bytes) {
        r->page->truncated = 1;
        return 1;
    }
    int added;
    if (at->type == SV_NULL) {
        added = page_add(r->page, text->p, text->n, NULL, 0, NULL, 0);
    } else if (at->type != SV_INT || summary->type != SV_TEXT || at->i < 0 || (uint64_t)at->i > summary->n) {
        r->res = store_fail("read activations: a stored record is damaged (its response lies outside its entry)");
        return 1;
    } else {
        size_t cut = (size_t)at->i;
        added = page_add(r->page, summary->p, cut, text->p, text->n, summary->p + cut, summary->n - cut);
    }
    if (added < 0) {
        r->res = store_fail("read activations: out of memory");
        return 1;
    }
    return 0;
}

store_status store_activation_get(store *s, const char *ns, const char *id, json_t **out) {
    *out = NULL;
    if (!s || !ns || !id) return store_fail("activation_get: missing argument");
    pthread_mutex_t *lock;
    store_conn *c = store_read_conn(s, &lock);
    store_page text = {0}; /* copied under the lock, parsed after it */
    page_rows r = {&text, 0, 0, STORE_OK};
    store_val args[] = {SV_TEXT_(ns), SV_TEXT_(id)};
    pthread_mutex_lock(lock);
    if (s->be->run(c, Q_ACTV_GET, args, 2, page_row, &r, NULL) != SB_OK && r.res == STORE_OK)
        r.res = store_fail_conn(s, c, "read activation");
    pthread_mutex_unlock(lock);
    store_status res = r.res;
    if (res == STORE_OK && text.n == 0) res = STORE_NOT_FOUND; /* also when it belongs to another namespace */
    if (res == STORE_OK) {
        *out = store_doc_decode(s, text.docs[0], text.lens[0]);
        res = *out ? STORE_OK : STORE_ERROR;
    }
    store_page_free(&text);
    return res;
}

store_status store_activation_page(store *s, const char *ns, const char *name, int limit, int skip, int64_t since,
                                   int64_t upto, int docs, size_t max_bytes, store_page *out) {
    memset(out, 0, sizeof *out);
    if (!s || !ns) return store_fail("activation_page: missing argument");
    pthread_mutex_t *lock;
    store_conn *c = store_read_conn(s, &lock);
    store_val args[] = {SV_TEXT_(ns), SV_INT_(since > 0 ? since : INT64_MIN), SV_INT_(upto > 0 ? upto : INT64_MAX),
                        SV_INT_(limit > 0 ? limit : -1) /* negative: no limit */, SV_INT_(skip > 0 ? skip : 0),
                        SV_INT_(docs ? 1 : 0), SV_TEXT_(name)};
    page_rows r = {out, max_bytes, 1, STORE_OK};
    pthread_mutex_lock(lock);
    if (s->be->run(c, name ? Q_ACTV_LIST_NAME : Q_ACTV_LIST, args, name ? 7 : 6, page_row, &r, NULL) != SB_OK &&
        r.res == STORE_OK)
        r.res = store_fail_conn(s, c, "list activations");
    pthread_mutex_unlock(lock);
    if (r.res != STORE_OK) store_page_free(out);
    return r.res;
}

/* The documents are parsed after the lock is released: a large page delays
 * no other reader or the writer. */
store_status store_activation_list(store *s, const char *ns, const char *name, int limit, int skip,
                                   int64_t since, int64_t upto, int docs, json_t **out) {
    *out = NULL;
    store_page page;
    store_status res = store_activation_page(s, ns, name, limit, skip, since, upto, docs, 0, &page);
    if (res != STORE_OK) return res;
    json_t *arr = json_array();
    if (!arr) res = store_fail("out of memory");
    for (size_t i = 0; res == STORE_OK && i < page.n; i++) {
        json_t *doc = store_doc_decode(s, page.docs[i], page.lens[i]);
        if (!doc || json_array_append_new(arr, doc) != 0) res = STORE_ERROR;
    }
    store_page_free(&page);
    if (res != STORE_OK) json_decref(arr);
    else *out = arr;
    return res;
}
