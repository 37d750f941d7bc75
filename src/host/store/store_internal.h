/* store_internal.h - what the store's domain files share: the store struct,
 * error, statement and transaction helpers over the backend seam
 * (store_backend.h). Not for other modules (the gateway uses store.h only);
 * the unit tests use the test hook at the end.
 *
 * Concurrency: one backend connection for writes and the small reads, every
 * use of it under `db_lock`. The activation writer thread takes the same
 * lock for each group commit, so a connection never sees two threads (and
 * SQLite never returns SQLITE_BUSY to ourselves; another process, e.g.
 * `tfaas admin`, is covered by its busy_timeout). Activation reads, which
 * can copy megabytes, go through a second, read-only connection under
 * `rd_lock`: its reads and the writer's commits do not wait for each other
 * (SQLite's WAL, PostgreSQL's MVCC), so a tenant paging through large
 * records never delays another's commit (issue 10, item 4).
 *
 * Four locks, never nested (each is let go before the next is taken):
 * db_lock (db, st[], and retention's quotas and per-namespace totals, which
 * change with the rows they count), rd_lock (rdb, rst[]), q_lock (the
 * activation queue, and trim_due that wakes the writer for a trim) and
 * cache_mu (the read cache). The writer thread takes them one at a time
 * and calls `committed` callbacks with none held; a producer blocked on a
 * full queue waits on q_nonfull holding nothing else. */
#ifndef TFAAS_HOST_STORE_INTERNAL_H
#define TFAAS_HOST_STORE_INTERNAL_H

#include "host/store/store.h"
#include "host/store/store_backend.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
/* A writer blocks in store_activation_put once this many records wait. */
#define STORE_QUEUE_CAP 65536
/* Records per transaction: bounds how long one commit holds db_lock (and so
 * delays readers) while still amortising the commit over many records. */
#define STORE_BATCH_MAX 1024
/* Records one thread's commit section collects before it commits them
 * (store_activation_section_begin): a thread-local array of this many. */
#define STORE_SECTION_MAX 128
/* Read cache (store_cache.c): slots per table, and how often changes by
 * another process are looked for (the staleness bound for them). */
#define STORE_CACHE_SLOTS 1024
#define STORE_CACHE_CHECK_MS 50

/* Retention (store_retention.c): the age sweep's period and rows per
 * transaction; how far over a quota a namespace goes before it is trimmed
 * (1/STORE_TRIM_SLACK of it), what one trim transaction deletes at most
 * (so a reader's commit waits that long for db_lock at most), and the
 * slots of the per-namespace totals. */
#define STORE_EXPIRE_EVERY_MS 60000u
#define STORE_EXPIRE_BATCH 256
#define STORE_TRIM_SLACK 64u
#define STORE_TRIM_CHUNK_ROWS 256
#define STORE_TRIM_CHUNK_BYTES (1u << 20)
#define STORE_TOTAL_SLOTS 256u

/* One namespace's activation totals (store_retention.c). */
typedef struct store_ns_total store_ns_total;

typedef struct {
    json_t *record;           /* one of record and text, owned */
    store_record_text *text;
    char *ns_id;  /* malloc'd; NULL: stored without the namespace check */
    store_committed_fn committed;
    void *ud;
} store_pending;

/* One cached lookup: credentials (k1 uuid, hash, ns, k2 its ns_id) or an
 * action (k1 ns, k2 name, doc). */
typedef struct {
    char *k1, *k2, *ns;
    unsigned char hash[32];
    json_t *doc;
} store_cache_slot;

struct store {
    const store_backend *be;    /* fixed at open */
    store_conn *db;             /* under db_lock */
    pthread_mutex_t db_lock;
    /* The read-only connection, under rd_lock; NULL when it could not be
     * opened (then activation reads use db under db_lock). */
    store_conn *rdb;
    pthread_mutex_t rd_lock;

    /* Activation queue: a ring of STORE_QUEUE_CAP entries; everything up to
     * writer_done under q_lock. writer and writer_started belong to
     * store_open and store_close. */
    pthread_mutex_t q_lock;
    pthread_cond_t q_nonempty; /* the writer waits for work */
    pthread_cond_t q_nonfull;  /* producers wait for room */
    store_pending *ring;
    size_t head, count;
    bool stopping;     /* store_close asked the writer to drain and exit */
    size_t wake_at;    /* producers signal q_nonempty when count reaches this (0: never) */
    bool writer_done;  /* the writer has exited: nothing queued will be written */
    pthread_t writer;
    bool writer_started;
    bool maint_due;    /* the backend has work for the writer (store_backend.h, maintain) */
    bool trim_due;     /* a commit queued a trim (store_retention.c) */
    bool trims_paused; /* test hook: the writer leaves queued trims (store_test_pause_trims) */

    /* Activation retention (store_retention.c), under db_lock: the quotas,
     * each namespace's totals (a chained table by name hash) and how many
     * of them have a trim queued; totals_version is SQLite's data_version
     * when the totals were last checked against other processes. */
    store_retention retention;
    store_ns_total *totals[STORE_TOTAL_SLOTS];
    size_t trims_queued;
    int64_t totals_version;
    uint64_t expired_at_us;    /* writer thread only: last age sweep */

    /* Read cache (store_cache.c), under cache_mu. */
    pthread_mutex_t cache_mu;
    store_cache_slot *auth_cache, *action_cache;
    uint64_t cache_gen;        /* bumped by every flush and forget */
    uint64_t ns_epoch;         /* bumped when namespaces may have changed (store_namespace_epoch) */
    uint64_t cache_checked_us; /* last look at the backend's data_version */
    int64_t data_version;
};

/* Record a message as this thread's last error (see store_last_error) and
 * return STORE_ERROR, so callers can `return store_fail(...)`. store_fail_db
 * appends the main connection's current backend message to `what`,
 * store_fail_conn that of connection c. */
store_status store_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
store_status store_fail_db(store *s, const char *what);
store_status store_fail_conn(store *s, store_conn *c, const char *what);

/* Runs statement q on the main connection (db_lock held); see
 * store_backend.h's run. */
store_rc store_run(store *s, store_query q, const store_val *args, int n, store_row_fn rows, void *ud,
                   int64_t *changes);
/* store_namespace_id with db_lock held (inside a transaction: what it
 * reads cannot change before the transaction ends, under SQLite). */
store_status store_namespace_id_locked(store *s, const char *name, char id_out[STORE_NSID_LEN + 1]);
/* store_namespace_alive with db_lock held. */
store_status store_namespace_alive_locked(store *s, const char *name, const char *ns_id);
/* Row callbacks for store_run: the first column as an int64 (ud: int64_t *,
 * a NULL column leaves it), or as text copied into a char[64] (ud). */
int store_row_int(void *ud, const store_val *cols, int ncols);
int store_row_text64(void *ud, const store_val *cols, int ncols);
/* A row whose column 0 is a JSON document and column 1 its version: doc
 * (when not NULL) gets the parsed document, version (when not NULL, a
 * char[64]) the version; found becomes 1, or -1 when the document did not
 * parse (last error set). */
typedef struct {
    store *s;
    json_t **doc;
    char *version;
    int found;
} store_doc_row;
int store_row_doc(void *ud, const store_val *cols, int ncols);
/* Begin a write transaction / COMMIT / ROLLBACK on the main connection (lock held). */
store_status store_begin(store *s);
/* store_begin, then namespace ns's write lock (Q_NS_WRITE_LOCK), held to
 * the commit or rollback: the writes of one namespace that read before they
 * write (a version bump, "exists already", a package's actions, a count
 * bound) are serialised across processes and nodes, not only by db_lock
 * within this one. Every such write takes it first, so none deadlocks. */
store_status store_begin_ns(store *s, const char *ns);
store_status store_commit(store *s);
void store_rollback(store *s);

/* Read cache (store_cache.c). A lookup calls store_cache_begin first and
 * passes its generation to the *_put after reading the database; writers
 * call store_cache_forget_action or store_cache_flush_namespaces after
 * they commit. */
int store_cache_init(store *s);
void store_cache_free(store *s);
/* After a write to action ns/name: that document leaves the cache, and no
 * lookup begun before the write stores what it read. */
void store_cache_forget_action(store *s, const char *ns, const char *name);
/* After a write to namespaces: the whole cache, and the namespace epoch moves. */
void store_cache_flush_namespaces(store *s);
uint64_t store_cache_begin(store *s);
int store_cache_auth_get(store *s, const char *uuid, const unsigned char hash[32], char *ns_out, size_t ns_size,
                         char id_out[STORE_NSID_LEN + 1]);
/* Empties the cache now if another process has committed since the last
 * look, whatever STORE_CACHE_CHECK_MS says. */
void store_cache_check_now(store *s);
void store_cache_auth_put(store *s, uint64_t gen, const char *uuid, const unsigned char hash[32], const char *ns,
                          const char *ns_id);
json_t *store_cache_action_get(store *s, const char *ns, const char *name); /* shared reference or NULL */
void store_cache_action_put(store *s, uint64_t gen, const char *ns, const char *name, json_t *doc);

/* "a.b.c" -> "a.b.(c+1)", NULL or unparsable -> "0.0.1": the version of
 * an updated document (OpenWhisk's patch bump; store_actions.c, used for
 * packages, triggers and rules too). */
void store_next_version(const char *prev, char out[64]);
/* Whether namespace ns holds package pkg that is not a binding (lock held,
 * inside the writer's transaction): 1 yes, 0 no, -1 the backend failed.
 * store_packages.c */
int store_package_holds_actions_locked(store *s, const char *ns, const char *pkg);

/* The connection for activation reads and the lock to hold while using it:
 * the read-only connection's, or the main one's if there is none. */
store_conn *store_read_conn(store *s, pthread_mutex_t **lock);

/* Parses a JSON document column; NULL (and last error set) if it is not one. */
json_t *store_doc_decode(store *s, const char *text, size_t len);
/* Runs q (db_lock held) whose first column is a JSON document and collects
 * the documents into a new array. strip_code: removes exec.code from each
 * (a listing), where the backend's statement has not already. */
store_status store_collect_docs(store *s, store_query q, const store_val *args, int n, int strip_code,
                                const char *what, json_t **out);

/* Retention (store_retention.c). store_retention_committed: a commit wrote
 * records of namespaces ns[i], bytes[i] each (db_lock held, right after the
 * commit); true when it queued a trim, and the caller then wakes the
 * writer (trim_due, after letting db_lock go). store_retention_step: the
 * writer's share, with no lock held: one transaction of a queued trim (or
 * the sum of a namespace's totals); false when none is queued.
 * store_retention_forget: namespace ns's records are all gone (db_lock
 * held). store_retention_expire: on the writer, at most every
 * STORE_EXPIRE_EVERY_MS, deletes records past their age (no lock held).
 * store_retention_free: at close, the writer stopped. */
bool store_retention_committed(store *s, const char *const *ns, const size_t *bytes, size_t n);
bool store_retention_step(store *s);
void store_retention_forget(store *s, const char *ns);
void store_retention_expire(store *s);
void store_retention_free(store *s);

/* Activation writer (store_activations.c). */
int store_writer_start(store *s);
void store_writer_stop(store *s);

/* Test hook: makes the connection refuse writes (SQLite: PRAGMA query_only),
 * the way a read-only file would, also when the tests run as root. 0 on
 * success. */
int store_test_set_query_only(store *s, int on);
/* Test hook: the writer leaves queued trims alone (1) or takes them up again
 * (0), so a test can see that a commit does none itself. */
void store_test_pause_trims(store *s, int on);
/* Test hook: how many namespaces have a trim queued or under way. */
size_t store_test_trims_queued(store *s);

#endif
