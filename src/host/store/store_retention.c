/* store_retention.c - how long activation records are kept (issue 10,
 * item 4): per namespace at most a count and a number of bytes (the oldest
 * go first, the newest always stays), and nothing older than an age, like
 * OpenWhisk's activation store TTL. Without it one tenant's logs grew the
 * state directory without bound.
 *
 * Runs after group commits (on the writer thread, or on a thread that
 * committed its own section), in transactions of its own, so an invoke's record is never delayed by it; each delete is
 * bounded (a trim removes about what was written since the last one, the
 * age sweep STORE_EXPIRE_BATCH rows per transaction), so readers wait at
 * most one such transaction for db_lock.
 *
 * Cost: a trim looks at every record of the namespace (in the covering
 * index), so it runs only once the namespace has written 1/STORE_TRIM_SLACK
 * of its count or byte quota since its last trim: a namespace can be that
 * much over its quota between trims. Per record written that is still about
 * STORE_TRIM_SLACK index entries walked at a full count quota: with a count
 * quota of 10,000 the warm hello lost a third of its throughput to the
 * window query and a sixth to these cheaper walks, so the count quota is
 * off by default (serve's --activation-max-count 0) and the byte quota
 * (about 1/64 of it written per walk, so a few entries per record) and the
 * age bound the state directory. Exact per-namespace totals kept in memory,
 * deleting from the oldest, would make the count quota cheap too. */
#include "host/store/store_internal.h"

#include "host/util/clock.h"

#include <stdint.h>
#include <stdio.h>

void store_set_retention(store *s, const store_retention *r) {
    if (!s || !r) return;
    pthread_mutex_lock(&s->q_lock);
    s->retention = *r;
    pthread_mutex_unlock(&s->q_lock);
}

static store_retention retention_of(store *s) {
    pthread_mutex_lock(&s->q_lock);
    store_retention r = s->retention;
    pthread_mutex_unlock(&s->q_lock);
    return r;
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

/* How many bytes namespace ns holds over max_bytes (0: none, or unknown);
 * db_lock held. */
static uint64_t bytes_over(store *s, const char *ns, uint64_t max_bytes) {
    store_val args[] = {SV_TEXT_(ns)};
    int64_t bytes = 0;
    if (store_run(s, Q_ACTV_BYTES, args, 1, store_row_int, &bytes, NULL) != SB_OK || bytes < 0) return 0;
    return (uint64_t)bytes > max_bytes ? (uint64_t)bytes - max_bytes : 0;
}

static unsigned slot_of(const char *ns) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *ns; ns++) h = (h ^ (uint8_t)*ns) * 16777619u;
    return h % STORE_TRIM_SLOTS;
}

/* Whether slot k has written enough since its last trim to trim again. */
static int due(const store *s, unsigned k, const store_retention *r) {
    uint64_t count_step = r->max_count / STORE_TRIM_SLACK, bytes_step = (uint64_t)r->max_bytes / STORE_TRIM_SLACK;
    return (r->max_count && s->written[k].count >= (count_step ? count_step : 1)) ||
           (r->max_bytes && s->written[k].bytes >= (bytes_step ? bytes_step : 1));
}

void store_retention_trim(store *s, const char *const *ns, const size_t *bytes, size_t n) {
    store_retention r = retention_of(s);
    if (!r.max_count && !r.max_bytes) return;
    /* The counters are shared by every committer (the writer and threads
     * with a commit section): decide under q_lock which slots are due and
     * reset them, so each fill is trimmed by one thread only. */
    unsigned char go[STORE_TRIM_SLOTS] = {0};
    pthread_mutex_lock(&s->q_lock);
    for (size_t i = 0; i < n; i++) {
        unsigned k = slot_of(ns[i]);
        s->written[k].count++;
        s->written[k].bytes += bytes[i];
    }
    for (size_t i = 0; i < n; i++) {
        unsigned k = slot_of(ns[i]);
        if (!go[k] && due(s, k, &r)) {
            go[k] = 1;
            s->written[k].count = s->written[k].bytes = 0;
        }
    }
    pthread_mutex_unlock(&s->q_lock);
    for (size_t i = 0; i < n; i++) { /* one transaction each: others get the lock in between */
        unsigned k = slot_of(ns[i]);
        if (!go[k]) continue;
        go[k] = 0; /* once per batch */
        pthread_mutex_lock(&s->db_lock);
        /* The count first: an index walk past the newest max_count; then
         * the bytes it holds (one index-only sum, 70 ms at 880,000
         * records), and only if those are over (512 MiB by default) the
         * oldest records until what is over is gone (at most
         * STORE_TRIM_MAX_ROWS; the next trim goes on). The combined window
         * query every time cost a 10,000-record namespace a third of the
         * warm hello's throughput; the bytes' window over every record,
         * 1.2 s at 880,000 (make bench's echo, p99 1.3 s). */
        if (r.max_count) {
            store_val args[] = {SV_TEXT_(ns[i]), SV_INT_(r.max_count)};
            run_delete(s, Q_ACTV_TRIM_COUNT, args, 2, "trim activations to the namespace's count");
        }
        uint64_t over = r.max_bytes ? bytes_over(s, ns[i], r.max_bytes) : 0;
        if (over) {
            store_val args[] = {SV_TEXT_(ns[i]), SV_INT_(over > INT64_MAX ? INT64_MAX : (int64_t)over),
                                SV_INT_(STORE_TRIM_MAX_ROWS)};
            run_delete(s, Q_ACTV_TRIM, args, 3, "trim activations to the namespace's bytes");
        }
        pthread_mutex_unlock(&s->db_lock);
    }
}

void store_retention_expire(store *s) {
    store_retention r = retention_of(s);
    uint64_t now = clock_mono_us();
    if (!r.max_age_ms || (s->expired_at_us && now - s->expired_at_us < (uint64_t)STORE_EXPIRE_EVERY_MS * 1000u))
        return;
    s->expired_at_us = now;
    int64_t cutoff = (int64_t)clock_wall_ms() - r.max_age_ms;
    for (int round = 0; round < 64; round++) { /* bounded: the rest waits for the next sweep */
        store_val args[] = {SV_INT_(cutoff), SV_INT_(STORE_EXPIRE_BATCH)};
        pthread_mutex_lock(&s->db_lock);
        int deleted = run_delete(s, Q_ACTV_EXPIRE, args, 2, "delete expired activations");
        pthread_mutex_unlock(&s->db_lock);
        if (deleted < STORE_EXPIRE_BATCH) break;
    }
}
