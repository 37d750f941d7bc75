/* store.c - opening and closing the state database, the connection settings
 * that make it durable, and the helpers the other store files share.
 *
 * Durability: journal_mode=WAL with synchronous=NORMAL. A commit is written
 * to the WAL file before it returns, so it survives a kill -9 of the process
 * (the data sits in the kernel's page cache); only a power loss or kernel
 * crash may lose the last commits, since NORMAL fsyncs at checkpoints only.
 * The database stays consistent in every case. */
#include "host/store/store_internal.h"
#include "host/util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

store_status store_fail_db(store *s, const char *what) {
    return store_fail("%s: %s", what, s && s->db ? sqlite3_errmsg(s->db) : "no database");
}

int store_step_done(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    /* A statement that yields a row here is a programming error; treat it as done. */
    if (rc == SQLITE_ROW) rc = SQLITE_DONE;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

store_status store_begin(store *s) {
    if (store_step_done(s->st[ST_BEGIN]) != SQLITE_DONE) return store_fail_db(s, "begin transaction");
    return STORE_OK;
}

store_status store_commit(store *s) {
    if (store_step_done(s->st[ST_COMMIT]) != SQLITE_DONE) {
        store_status st = store_fail_db(s, "commit");
        store_rollback(s); /* a failed COMMIT may leave the transaction open */
        return st;
    }
    return STORE_OK;
}

void store_rollback(store *s) {
    if (!sqlite3_get_autocommit(s->db)) store_step_done(s->st[ST_ROLLBACK]);
}

json_t *store_doc_decode(store *s, const unsigned char *text, int len) {
    (void)s;
    if (!text || len < 0) {
        store_fail("stored document is missing");
        return NULL;
    }
    json_error_t jerr;
    /* JSON_ALLOW_NUL: a "\u0000" the gateway accepted must read back as written. */
    json_t *doc = json_loadb((const char *)text, (size_t)len, JSON_ALLOW_NUL, &jerr);
    if (!doc) store_fail("stored document is not valid JSON: %s", jerr.text);
    return doc;
}

store_status store_collect_docs(store *s, sqlite3_stmt *st, const char *what, json_t **out) {
    json_t *arr = json_array();
    store_status res = arr ? STORE_OK : store_fail("out of memory");
    int rc = SQLITE_DONE;
    while (res == STORE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *doc = store_doc_decode(s, sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0));
        if (!doc || json_array_append_new(arr, doc) != 0) res = STORE_ERROR;
    }
    if (res == STORE_OK && rc != SQLITE_DONE) res = store_fail_db(s, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (res != STORE_OK) {
        json_decref(arr);
        arr = NULL;
    }
    *out = arr;
    return res;
}

static const char *const STMT_SQL[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_NS_INSERT] = "INSERT INTO namespaces(name, uuid, key_hash, created, ns_id) "
                     "VALUES(?1, ?2, ?3, ?4, lower(hex(randomblob(8))))",
    [ST_NS_SET_CRED] = "UPDATE namespaces SET uuid = ?2, key_hash = ?3 WHERE name = ?1",
    [ST_NS_DELETE] = "DELETE FROM namespaces WHERE name = ?1",
    [ST_NS_DELETE_ACTIVATIONS] = "DELETE FROM activations WHERE namespace = ?1",
    [ST_NS_LIST] = "SELECT name, uuid FROM namespaces ORDER BY name",
    [ST_NS_BY_UUID] = "SELECT name, key_hash, ns_id FROM namespaces WHERE uuid = ?1",
    [ST_NS_ID] = "SELECT ns_id FROM namespaces WHERE name = ?1",
    [ST_ACT_GET] = "SELECT doc, version FROM actions WHERE namespace = ?1 AND name = ?2",
    /* REPLACE gives the row a fresh rowid: the tie-breaker for equal `updated`. */
    [ST_ACT_PUT] = "INSERT OR REPLACE INTO actions(namespace, name, version, updated, doc) "
                   "VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_ACT_LIST] = "SELECT json_remove(doc, '$.exec.code') FROM actions WHERE namespace = ?1 "
                    "ORDER BY updated DESC, rowid DESC LIMIT ?2 OFFSET ?3",
    [ST_ACT_DELETE] = "DELETE FROM actions WHERE namespace = ?1 AND name = ?2",
    [ST_DATA_VERSION] = "PRAGMA data_version",
    /* Only while the namespace that ran it exists (?8 its ns_id): a record
     * finished after its namespace was deleted is not kept (no row). */
    [ST_ACTV_INSERT] = "INSERT INTO activations(activation_id, namespace, name, \"start\", \"end\", "
                       "status_code, bytes, summary, doc) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 "
                       "WHERE ?10 IS NULL OR EXISTS (SELECT 1 FROM namespaces WHERE name = ?2 AND ns_id = ?10)",
    /* Everything of namespace ?1 past the newest ?2 records or past ?3
     * bytes (counted from the newest; the newest always stays), from the
     * covering index alone. */
    [ST_ACTV_TRIM] = "DELETE FROM activations WHERE rowid IN (SELECT r FROM ("
                     "SELECT rowid AS r, ROW_NUMBER() OVER w AS n, SUM(bytes) OVER w AS total "
                     "FROM activations WHERE namespace = ?1 "
                     "WINDOW w AS (ORDER BY \"start\" DESC, rowid DESC)) "
                     "WHERE n > 1 AND (n > ?2 OR total > ?3))",
    /* The cheap forms a trim tries first, each an index-only walk with no
     * sort: everything of namespace ?1 past its newest ?2 records, and the
     * bytes it holds (ST_ACTV_TRIM runs only when those are over quota). */
    [ST_ACTV_TRIM_COUNT] = "DELETE FROM activations WHERE rowid IN (SELECT rowid FROM activations "
                           "WHERE namespace = ?1 ORDER BY \"start\" DESC LIMIT -1 OFFSET ?2)",
    [ST_ACTV_BYTES] = "SELECT coalesce(sum(bytes), 0) FROM activations WHERE namespace = ?1",
    [ST_ACTV_EXPIRE] = "DELETE FROM activations WHERE rowid IN ("
                       "SELECT rowid FROM activations WHERE \"start\" < ?1 LIMIT ?2)",
};

/* Activation reads, on the read-only connection (store_internal.h). */
static const char *const READ_SQL[RST_COUNT] = {
    [RST_ACTV_GET] = "SELECT doc FROM activations WHERE namespace = ?1 AND activation_id = ?2",
/* The list entry (docs=0) is stored ready-made (summary): large responses
 * and logs are never read. Column 0 is the size of what column 1 will be
 * when that is a document, so a page can stop before reading one that does
 * not fit. */
#define ACTV_LIST_COLS "CASE WHEN ?6 THEN bytes ELSE 0 END, CASE WHEN ?6 THEN doc ELSE summary END"
    [RST_ACTV_LIST] = "SELECT " ACTV_LIST_COLS " FROM activations "
                     "WHERE namespace = ?1 AND \"start\" >= ?2 AND \"start\" <= ?3 "
                     "ORDER BY \"start\" DESC, rowid DESC LIMIT ?4 OFFSET ?5",
    [RST_ACTV_LIST_NAME] = "SELECT " ACTV_LIST_COLS " FROM activations "
                          "WHERE namespace = ?1 AND \"start\" >= ?2 AND \"start\" <= ?3 AND name = ?7 "
                          "ORDER BY \"start\" DESC, rowid DESC LIMIT ?4 OFFSET ?5",
#undef ACTV_LIST_COLS
};

sqlite3_stmt *store_read_stmt(store *s, enum store_read_stmt which, pthread_mutex_t **lock) {
    *lock = s->rdb ? &s->rd_lock : &s->db_lock;
    return s->rst[which];
}

/* Opens the read-only connection for activation reads; on any failure the
 * reads fall back to the main connection (statements prepared there). */
static int open_reader(store *s, const char *path) {
    int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
    if (sqlite3_open_v2(path, &s->rdb, flags, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(s->rdb, STORE_BUSY_TIMEOUT_MS) == SQLITE_OK) {
        int ok = 1;
        for (int i = 0; ok && i < RST_COUNT; i++)
            ok = sqlite3_prepare_v3(s->rdb, READ_SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &s->rst[i], NULL) == SQLITE_OK;
        if (ok) return 0;
    }
    for (int i = 0; i < RST_COUNT; i++) {
        sqlite3_finalize(s->rst[i]);
        s->rst[i] = NULL;
    }
    sqlite3_close(s->rdb);
    s->rdb = NULL;
    for (int i = 0; i < RST_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, READ_SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &s->rst[i], NULL) != SQLITE_OK)
            return -1;
    return 0;
}

/* mkdir -p with mode 0700 for every directory it creates: the state holds
 * tenants' data and credential hashes, so only the owner may enter it. */
static int make_dirs(const char *dir, char **err) {
    size_t n = strlen(dir);
    if (n == 0 || n > 4000) {
        if (asprintf(err, "state directory path is empty or too long") < 0) *err = NULL;
        return -1;
    }
    char *p = strdup(dir);
    if (!p) {
        *err = strdup("out of memory");
        return -1;
    }
    for (char *c = p + 1;; c++) {
        if (*c != '/' && *c != '\0') continue;
        char saved = *c;
        *c = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            if (asprintf(err, "cannot create state directory %s: %s", p, strerror(errno)) < 0) *err = NULL;
            free(p);
            return -1;
        }
        *c = saved;
        if (saved == '\0') break;
    }
    free(p);
    /* Before any file is created in it: a directory others can write to (or
     * that another user owns) lets them plant links at our file names. */
    return file_check_private_dir(dir, err);
}

/* Creates the database file with mode 0600 before SQLite does (SQLite would
 * use 0644 under the usual umask); its -wal and -shm files copy this mode. */
static int precreate_db(const char *path, char **err) {
    if (access(path, F_OK) == 0) return 0;
    if (errno != ENOENT) { /* it may exist, but the directory does not let us see it */
        if (asprintf(err, "cannot reach state database %s: %s", path, strerror(errno)) < 0) *err = NULL;
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
        if (asprintf(err, "cannot create state database %s: %s", path, strerror(errno)) < 0) *err = NULL;
        return -1;
    }
    if (fd >= 0) close(fd);
    return 0;
}

static store_status open_fail(store *s, char **err, const char *path, const char *what) {
    if (err && asprintf(err, "state database %s: %s: %s", path, what,
                        s->db ? sqlite3_errmsg(s->db) : "cannot allocate connection") < 0)
        *err = NULL;
    store_close(s);
    return STORE_ERROR;
}

/* Runs a pragma and checks the single text value it answers (NULL: don't check). */
static int pragma(sqlite3 *db, const char *sql, const char *expect) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int rc = sqlite3_step(st);
    int ok = rc == SQLITE_DONE || rc == SQLITE_ROW;
    if (ok && expect)
        ok = rc == SQLITE_ROW && sqlite3_column_text(st, 0) &&
             strcmp((const char *)sqlite3_column_text(st, 0), expect) == 0;
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

store_status store_open(const char *state_dir, store **out, char **err) {
    if (err) *err = NULL;
    *out = NULL;
    char *local_err = NULL;
    if (!state_dir) state_dir = "";
    if (make_dirs(state_dir, &local_err) < 0) goto fail_early;
    char path[4200];
    snprintf(path, sizeof path, "%s/tfaas.db", state_dir);
    if (precreate_db(path, &local_err) < 0) goto fail_early;

    store *s = calloc(1, sizeof *s);
    if (!s) {
        local_err = strdup("out of memory");
        goto fail_early;
    }
    pthread_mutex_init(&s->db_lock, NULL);
    pthread_mutex_init(&s->rd_lock, NULL);
    pthread_mutex_init(&s->q_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the writer's linger is a monotonic wait */
    pthread_cond_init(&s->q_nonempty, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&s->q_nonfull, NULL);

    /* NOMUTEX: our db_lock already serialises every use of the connection. */
    /* NOFOLLOW: a link at tfaas.db is refused, not opened through. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) return open_fail(s, err, path, "open");
    sqlite3_extended_result_codes(s->db, 1);
    if (sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK)
        return open_fail(s, err, path, "busy_timeout");
    if (pragma(s->db, "PRAGMA journal_mode=WAL", "wal") < 0)
        return open_fail(s, err, path, "cannot switch to WAL journal (is the directory writable?)");
    if (pragma(s->db, "PRAGMA synchronous=NORMAL", NULL) < 0 ||
        pragma(s->db, "PRAGMA foreign_keys=ON", NULL) < 0)
        return open_fail(s, err, path, "pragma");
    if (store_schema_migrate(s) != STORE_OK) {
        if (err && asprintf(err, "state database %s: %s", path, store_last_error()) < 0) *err = NULL;
        store_close(s);
        return STORE_ERROR;
    }
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, STMT_SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK)
            return open_fail(s, err, path, "prepare");
    if (open_reader(s, path) < 0) return open_fail(s, err, path, "prepare reads");
    if (store_cache_init(s) != 0) return open_fail(s, err, path, "out of memory for the read cache");
    s->ring = calloc(STORE_QUEUE_CAP, sizeof *s->ring);
    if (!s->ring) return open_fail(s, err, path, "out of memory for the activation queue");
    if (store_writer_start(s) != 0) return open_fail(s, err, path, "cannot start the activation writer thread");
    *out = s;
    return STORE_OK;

fail_early:
    if (!local_err) local_err = strdup("out of memory");
    store_fail("%s", local_err ? local_err : "out of memory");
    if (err) *err = local_err;
    else free(local_err);
    return STORE_ERROR;
}

void store_close(store *s) {
    if (!s) return;
    store_writer_stop(s); /* drains the queue: every queued record gets its callback */
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->st[i]);
    for (int i = 0; i < RST_COUNT; i++) sqlite3_finalize(s->rst[i]);
    if (s->rdb) sqlite3_close(s->rdb);
    /* Closing the last connection checkpoints the WAL into the main file. */
    if (s->db) sqlite3_close(s->db);
    free(s->ring);
    store_cache_free(s);
    pthread_cond_destroy(&s->q_nonfull);
    pthread_cond_destroy(&s->q_nonempty);
    pthread_mutex_destroy(&s->q_lock);
    pthread_mutex_destroy(&s->db_lock);
    pthread_mutex_destroy(&s->rd_lock);
    free(s);
}

int store_test_set_query_only(store *s, int on) {
    pthread_mutex_lock(&s->db_lock);
    int rc = pragma(s->db, on ? "PRAGMA query_only=ON" : "PRAGMA query_only=OFF", NULL);
    pthread_mutex_unlock(&s->db_lock);
    return rc;
}
