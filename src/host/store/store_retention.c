/* store_retention.c - how long activation records are kept (issue 10,
 * item 4): per namespace at most a count and a number of bytes (the oldest
 * go first, the newest always stays), and nothing older than an age, like
 * OpenWhisk's activation store TTL. Without it one tenant's logs grew the
 * state directory without bound.
 *
 * Totals in memory (issue 14): each namespace's stored record count and
 * bytes are kept here, added to by every commit and taken from by every
 * delete, so deciding whether a namespace is over its quota costs a hash
 * lookup, not a sum over its index (70 ms at 880,000 records). A total is
 * summed from the store (Q_ACTV_TOTALS) when it cannot be trusted: on first
 * use, after the age sweep (which deletes across namespaces), after the
 * quotas change, and when another process has written to a SQLite file
 * (PRAGMA data_version, e.g. `tfaas admin`). On PostgreSQL other nodes write
 * the same tables, so a node's total is only an estimate of what it wrote:
 * it decides when to look, and the namespace is summed again from the
 * database before anything of it is deleted (two nodes that sum it at the
 * same moment may each delete what it was over: it then ends that much
 * under its quota, once).
 *
 * No trim on the answers' path: a commit only updates the totals and, once
 * a namespace is 1/STORE_TRIM_SLACK of a quota over it, marks it queued and
 * wakes the store's writer thread, which deletes its oldest records in
 * small transactions (at most STORE_TRIM_CHUNK_ROWS records or about
 * STORE_TRIM_CHUNK_BYTES each, so a reader's commit waits for one such
 * transaction at most) until the namespace is back at its quota. That is
 * the hysteresis: at rest a namespace holds less than its quota plus one
 * slack (1/64 of it), and each trim takes away at least one slack.
 *
 * Concurrency: the totals table, the quotas (s->retention) and the queued
 * marks belong to db_lock, the lock every write to the activations table
 * already holds (commits, trims, the age sweep, a namespace's deletion): a
 * total changes in the same hold of the lock as the rows it counts, so in
 * one process it is exact. The writer is woken through s->trim_due under
 * q_lock, after db_lock is let go (the locks never nest). */
#include "host/store/store_internal.h"

#include "host/util/clock.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct store_ns_total {
    struct store_ns_total *next; /* in its slot's chain */
    uint64_t count, bytes;       /* what the store holds, when known */
    bool known;                  /* false: to be summed from the store */
    bool queued;                 /* the writer has a trim of it to do */
    char ns[];
};

static unsigned slot_of(const char *ns) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *ns; ns++) h = (h ^ (uint8_t)*ns) * 16777619u;
    return h % STORE_TOTAL_SLOTS;
}

/* Namespace ns's entry, made (unknown) if it has none; NULL out of memory.
 * db_lock held. */
static store_ns_total *total_of(store *s, const char *ns) {
    store_ns_total **head = &s->totals[slot_of(ns)];
    for (store_ns_total *t = *head; t; t = t->next)
        if (!strcmp(t->ns, ns)) return t;
    size_t len = strlen(ns);
    store_ns_total *t = calloc(1, sizeof *t + len + 1);
    if (!t) return NULL;
    memcpy(t->ns, ns, len + 1);
    t->next = *head;
    *head = t;
    return t;
}

/* Every total is to be summed again; entries with no trim queued are let
 * go (the namespace's next commit makes a new one). db_lock held. */
static void forget_all(store *s) {
    for (unsigned k = 0; k < STORE_TOTAL_SLOTS; k++)
        for (store_ns_total **p = &s->totals[k]; *p;) {
            store_ns_total *t = *p;
            t->known = false;
            if (t->queued) {
                p = &t->next;
            } else {
                *p = t->next;
                free(t);
            }
        }
}

void store_retention_free(store *s) {
    for (unsigned k = 0; k < STORE_TOTAL_SLOTS; k++)
        while (s->totals[k]) {
            store_ns_total *t = s->totals[k];
            s->totals[k] = t->next;
            free(t);
        }
}

void store_set_retention(store *s, const store_retention *r) {
    if (!s || !r) return;
    pthread_mutex_lock(&s->db_lock);
    s->retention = *r;
    forget_all(s); /* which namespaces are over is looked at again from their next commit */
    pthread_mutex_unlock(&s->db_lock);
}

/* How far over its quota a total must be to be trimmed: 1/STORE_TRIM_SLACK
 * of the quota, at least one record or byte. */
static uint64_t slack_of(uint64_t quota) {
    return quota / STORE_TRIM_SLACK ? quota / STORE_TRIM_SLACK : 1;
}

static bool due(const store_ns_total *t, const store_retention *r) {
    uint64_t max_bytes = r->max_bytes > 0 ? (uint64_t)r->max_bytes : 0;
    return (r->max_count && t->count >= r->max_count + slack_of(r->max_count)) ||
           (max_bytes && t->bytes >= max_bytes + slack_of(max_bytes));
}

bool store_retention_committed(store *s, const char *const *ns, const size_t *bytes, size_t n) {
    const store_retention *r = &s->retention;
    if (!r->max_count && r->max_bytes <= 0) return false;
    bool wake = false;
    for (size_t i = 0; i < n; i++) {
        store_ns_total *t = total_of(s, ns[i]);
        if (!t) continue; /* out of memory: the namespace is trimmed when a later commit can count it */
        if (t->known) {
            t->count++;
            t->bytes += bytes[i];
        }
        if (t->queued || (t->known && !due(t, r))) continue;
        t->queued = true; /* unknown: the writer sums it, then trims it if it is over */
        if (s->be->shared) t->known = false; /* other nodes write too: sum before deleting */
        s->trims_queued++;
        wake = true;
    }
    return wake;
}

void store_retention_forget(store *s, const char *ns) {
    store_ns_total **p = &s->totals[slot_of(ns)];
    for (; *p; p = &(*p)->next)
        if (!strcmp((*p)->ns, ns)) {
            store_ns_total *t = *p;
            if (t->queued) {
                t->known = false; /* the writer finds nothing to trim once it has summed */
            } else {
                *p = t->next;
                free(t);
            }
            return;
        }
}

/* A queued entry (db_lock held), or NULL. */
static store_ns_total *next_queued(store *s) {
    if (!s->trims_queued) return NULL;
    for (unsigned k = 0; k < STORE_TOTAL_SLOTS; k++)
        for (store_ns_total *t = s->totals[k]; t; t = t->next)
            if (t->queued) return t;
    return NULL;
}

static void dequeue(store *s, store_ns_total *t) {
    t->queued = false;
    s->trims_queued--;
}

/* Sums t's records from the store (db_lock held); false if it cannot. */
static int totals_row(void *ud, const store_val *cols, int ncols) {
    store_ns_total *t = ud;
    if (ncols < 2 || cols[0].type != SV_INT || cols[0].i < 0) return 1;
    t->count = (uint64_t)cols[0].i;
    t->bytes = cols[1].type == SV_INT && cols[1].i > 0 ? (uint64_t)cols[1].i : 0;
    t->known = true;
    return 0;
}

static bool sum(store *s, store_ns_total *t) {
    store_val args[] = {SV_TEXT_(t->ns)};
    if (store_run(s, Q_ACTV_TOTALS, args, 1, totals_row, t, NULL) != SB_OK || !t->known) {
        store_fail_db(s, "sum a namespace's activations");
        fprintf(stderr, "tfaas store: %s\n", store_last_error());
        return false;
    }
    return true;
}

/* The rows one trim transaction deleted, from the statement's RETURNING. */
typedef struct {
    uint64_t count, bytes;
} trimmed;

static int deleted_row(void *ud, const store_val *cols, int ncols) {
    trimmed *d = ud;
    d->count++;
    if (ncols >= 1 && cols[0].type == SV_INT && cols[0].i > 0) d->bytes += (uint64_t)cols[0].i;
    return 0;
}

/* Deletes t's oldest records in one transaction: until over_bytes are gone,
 * at most max_rows, never the newest. db_lock held. false: the store failed. */
static bool delete_oldest(store *s, store_ns_total *t, uint64_t over_bytes, uint64_t max_rows, trimmed *d) {
    if (store_begin(s) != STORE_OK) return false;
    store_val args[] = {SV_TEXT_(t->ns), SV_INT_(over_bytes > INT64_MAX ? INT64_MAX : (int64_t)over_bytes),
                        SV_INT_(max_rows)};
    if (store_run(s, Q_ACTV_TRIM, args, 3, deleted_row, d, NULL) != SB_OK) {
        store_fail_db(s, "trim activations to the namespace's quota");
        store_rollback(s);
        return false;
    }
    return store_commit(s) == STORE_OK;
}

bool store_retention_step(store *s) {
    pthread_mutex_lock(&s->db_lock);
    store_ns_total *t = next_queued(s);
    if (!t) {
        pthread_mutex_unlock(&s->db_lock);
        return false;
    }
    if (!s->be->shared) { /* another process (tfaas admin) may have deleted records */
        int64_t version = s->be->data_version(s->db);
        if (version < 0 || version != s->totals_version) forget_all(s);
        s->totals_version = version;
    }
    const store_retention *r = &s->retention;
    uint64_t max_bytes = r->max_bytes > 0 ? (uint64_t)r->max_bytes : 0;
    if (!t->known && !sum(s, t)) {
        dequeue(s, t); /* logged; its next commit queues it again */
        pthread_mutex_unlock(&s->db_lock);
        return true;
    }
    uint64_t over_count = r->max_count && t->count > r->max_count ? t->count - r->max_count : 0;
    uint64_t over_bytes = max_bytes && t->bytes > max_bytes ? t->bytes - max_bytes : 0;
    /* A trim that begins takes the namespace back to its quota (not only
     * under quota plus slack): the next one is a slack of writes away. A
     * namespace just summed but not due was queued for the sum only. */
    trimmed d = {0, 0};
    bool ok = true;
    if (over_bytes) {
        ok = delete_oldest(s, t, over_bytes < STORE_TRIM_CHUNK_BYTES ? over_bytes : STORE_TRIM_CHUNK_BYTES,
                           STORE_TRIM_CHUNK_ROWS, &d);
    } else if (over_count) {
        ok = delete_oldest(s, t, UINT64_MAX, over_count < STORE_TRIM_CHUNK_ROWS ? over_count : STORE_TRIM_CHUNK_ROWS,
                           &d);
    }
    if (!ok) {
        fprintf(stderr, "tfaas store: %s\n", store_last_error());
        t->known = false;
    } else {
        t->count = d.count < t->count ? t->count - d.count : 0;
        t->bytes = d.bytes < t->bytes ? t->bytes - d.bytes : 0;
    }
    /* Done when under quota, or when only the newest record is left (it
     * always stays, however large), or when the store failed. */
    bool more = ok && d.count > 0 && ((r->max_count && t->count > r->max_count) || (max_bytes && t->bytes > max_bytes));
    if (!more) dequeue(s, t);
    pthread_mutex_unlock(&s->db_lock);
    return true;
}

/* Runs one delete in its own transaction; db_lock held. Returns the rows
 * deleted. */
static int run_delete(store *s, store_query q, const store_val *args, int n, const char *what) {
    if (store_begin(s) != STORE_OK) {
        fprintf(stderr, "tfaas store: %s: %s\n", what, store_last_error());
        return 0;
    }
    int64_t changes = 0;
    if (store_run(s, q, args, n, NULL, NULL, &changes) != SB_OK) {
        store_fail_db(s, what);
        fprintf(stderr, "tfaas store: %s\n", store_last_error());
        store_rollback(s);
        return 0;
    }
    if (store_commit(s) != STORE_OK) {
        fprintf(stderr, "tfaas store: %s: %s\n", what, store_last_error());
        return 0;
    }
    return (int)changes;
}

void store_retention_expire(store *s) {
    pthread_mutex_lock(&s->db_lock);
    int64_t max_age_ms = s->retention.max_age_ms;
    pthread_mutex_unlock(&s->db_lock);
    uint64_t now = clock_mono_us();
    if (!max_age_ms || (s->expired_at_us && now - s->expired_at_us < (uint64_t)STORE_EXPIRE_EVERY_MS * 1000u))
        return;
    s->expired_at_us = now;
    int64_t cutoff = (int64_t)clock_wall_ms() - max_age_ms;
    for (int round = 0; round < 64; round++) { /* bounded: the rest waits for the next sweep */
        store_val args[] = {SV_INT_(cutoff), SV_INT_(STORE_EXPIRE_BATCH)};
        pthread_mutex_lock(&s->db_lock);
        int deleted = run_delete(s, Q_ACTV_EXPIRE, args, 2, "delete expired activations");
        /* The sweep deletes across namespaces without counting per
         * namespace: every total is summed again on its next use. Also the
         * periodic look of a PostgreSQL node at what other nodes wrote. */
        if (deleted > 0 || s->be->shared) forget_all(s);
        pthread_mutex_unlock(&s->db_lock);
        if (deleted < STORE_EXPIRE_BATCH) break;
    }
}

size_t store_test_trims_queued(store *s) {
    pthread_mutex_lock(&s->db_lock);
    size_t n = s->trims_queued;
    pthread_mutex_unlock(&s->db_lock);
    return n;
}
