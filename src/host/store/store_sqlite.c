/* store_sqlite.c - the SQLite backend of the store (store_backend.h): the
 * embedded default, one file STATE_DIR/tfaas.db in WAL mode. Holds the text
 * of every statement in SQLite's dialect, prepares each on its first use
 * per connection and keeps it for the connection's life.
 *
 * Durability: journal_mode=WAL with synchronous=NORMAL. A commit is written
 * to the WAL file before it returns, so it survives a kill -9 of the process
 * (the data sits in the kernel's page cache); only a power loss or kernel
 * crash may lose the last commits, since NORMAL fsyncs at checkpoints only.
 * The database stays consistent in every case. Other processes' commits
 * (`tfaas admin`) are noticed through PRAGMA data_version.
 *
 * Checkpoints: SQLite's automatic checkpoint runs inside the commit that
 * takes the WAL past its threshold, so that commit (and every blocking
 * answer waiting for it) would stall while thousands of pages are copied.
 * A writing connection turns it off: the store's writer thread copies the
 * bulk from a connection of its own (sq_maintain) once CHECKPOINT_FRAMES
 * have accumulated, and a commit copies the small rest (after_commit), or
 * waits and copies all when the WAL reaches twice that (the writer thread
 * starved on a busy CPU). The threshold is larger than SQLite's 1000: the
 * last page of every index is written again by each commit, and a longer
 * WAL copies each such page once for many commits. Each WAL, once started
 * over, has the writer's checkpoint due at CHECKPOINT_FRAMES again, and a
 * checkpoint held back (a reader, or the commits' own tail copy running)
 * is tried again before the bound: otherwise one such miss left every later
 * WAL to the commits' whole copies, a stall of 0.1-1 s each under load.
 * /metrics counts each kind (tfaas_store_checkpoints_total). */
#include "host/store/store_sqlite.h"
#include "host/metrics/metrics.h"
#include "host/util/file.h"
#include "host/util/stringify.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Another process holding the write lock (admin tool) is waited for this long. */
#define BUSY_TIMEOUT_MS 5000
/* WAL frames (pages of 4 KiB) after which the writer thread checkpoints:
 * the WAL grows to about 32 MiB between checkpoints. */
#define CHECKPOINT_FRAMES 8000
/* What a commit copies itself, at most, to end a checkpoint (after_commit). */
#define CHECKPOINT_TAIL 1000
/* What the writer thread's rounds leave for that commit, if they can: the
 * commit syncs the WAL and the database file for what it copies (a few ms
 * per few hundred pages on a cloud VM's disk, and every answer waiting for
 * that commit waits for the sync). */
#define CHECKPOINT_TAIL_AIM 64
/* The WAL's bound: past it a commit checkpoints whatever is left itself. */
#define CHECKPOINT_HARD (2 * CHECKPOINT_FRAMES)
/* Rounds one writer's checkpoint makes at most (sq_maintain). */
#define CHECKPOINT_ROUNDS 8
/* Columns a row callback can be given (the widest statement has 4). */
#define MAX_COLS 8

enum { TX_BEGIN, TX_COMMIT, TX_ROLLBACK, TX_DATA_VERSION, TX_COUNT };
static const char *const TX_SQL[TX_COUNT] = {
    [TX_BEGIN] = "BEGIN IMMEDIATE",
    [TX_COMMIT] = "COMMIT",
    [TX_ROLLBACK] = "ROLLBACK",
    [TX_DATA_VERSION] = "PRAGMA data_version",
};

/* Every field is guarded by the store's lock of this connection (db_lock or
 * rd_lock, store_internal.h): one thread at a time. */
struct store_conn {
    sqlite3 *db;
    sqlite3_stmt *st[Q_COUNT]; /* prepared on first use */
    sqlite3_stmt *tx[TX_COUNT];
    /* Checkpoints (see the top of the file): the counters are written by
     * after_commit (a committing thread) and sq_maintain (the store's
     * writer thread); ckpt belongs to sq_maintain, path is fixed at open. */
    atomic_int wal_frames; /* frames in the WAL after the latest commit */
    atomic_int backfilled; /* of those, copied into the database file (as last seen) */
    atomic_int due_at;     /* the writer's checkpoint is due from this many frames */
    atomic_bool copying;   /* the writer's checkpoint is going round (the tail waits) */
    sqlite3 *ckpt;         /* the checkpointing connection, opened on first use */
    char *path;
};

static const char *const SQL[Q_COUNT] = {
    [Q_NS_INSERT] = "INSERT INTO namespaces(name, uuid, key_hash, created, ns_id) VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_NS_SET_CRED] = "UPDATE namespaces SET uuid = ?2, key_hash = ?3 WHERE name = ?1",
    [Q_NS_DELETE] = "DELETE FROM namespaces WHERE name = ?1",
    [Q_NS_DELETE_ACTIVATIONS] = "DELETE FROM activations WHERE namespace = ?1",
    [Q_NS_LIST] = "SELECT name, uuid FROM namespaces ORDER BY name",
    [Q_NS_BY_UUID] = "SELECT name, key_hash, ns_id FROM namespaces WHERE uuid = ?1",
    [Q_NS_ID] = "SELECT ns_id FROM namespaces WHERE name = ?1",
    [Q_ACT_GET] = "SELECT doc, version FROM actions WHERE namespace = ?1 AND name = ?2",
    /* REPLACE gives the row a fresh rowid: the tie-breaker for equal `updated`. */
    [Q_ACT_PUT] = "INSERT OR REPLACE INTO actions(namespace, name, version, updated, doc) "
                  "VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_ACT_LIST] = "SELECT json_remove(doc, '$.exec.code') FROM actions WHERE namespace = ?1 "
                   "ORDER BY updated DESC, rowid DESC LIMIT ?2 OFFSET ?3",
    [Q_ACT_DELETE] = "DELETE FROM actions WHERE namespace = ?1 AND name = ?2",
    /* One row of VALUES, not INSERT ... SELECT: SQLite keeps a statement
     * journal (a copy of every page the statement changes) for a statement
     * that may write several rows (a tenth of a record's instructions). The
     * namespace that ran it (?10 its ns_id) is checked before, in the same
     * transaction (store_activations.c, ns_alive). */
    [Q_ACTV_INSERT] = "INSERT INTO activations(activation_id, namespace, name, \"start\", \"end\", "
                      "status_code, bytes, summary, doc, rest_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11)",
    /* The oldest records of namespace ?1 until those deleted hold at least
     * ?2 bytes, among its oldest ?3 and never its newest, with the size of
     * each deleted (store_retention.c keeps the totals): a walk of the
     * deleted records only, from the old end of activations_by_start. One
     * transaction of the writer's trim, a few hundred records at most. */
    [Q_ACTV_TRIM] = "DELETE FROM activations WHERE rowid IN (SELECT r FROM ("
                    "SELECT r, SUM(b) OVER (ORDER BY s, r ROWS UNBOUNDED PRECEDING) - b AS before FROM ("
                    "SELECT rowid AS r, \"start\" AS s, bytes AS b FROM activations WHERE namespace = ?1 "
                    "AND rowid <> (SELECT rowid FROM activations WHERE namespace = ?1 "
                    "ORDER BY \"start\" DESC, rowid DESC LIMIT 1) "
                    "ORDER BY \"start\", rowid LIMIT ?3)) WHERE before < ?2) RETURNING bytes",
    /* What namespace ?1 holds (records, bytes): an index-only walk, done
     * when its total in memory cannot be trusted. */
    [Q_ACTV_TOTALS] = "SELECT count(*), coalesce(sum(bytes), 0) FROM activations WHERE namespace = ?1",
    /* Up to ?2 records that started before ?1, namespace by namespace in
     * activations_by_start: the namespaces that hold records are found by
     * one index seek each (the recursive ns), and each one's old records
     * are the end of its range. An index on start alone would serve this
     * once a minute and cost every insert (schema version 9 dropped it). */
    [Q_ACTV_EXPIRE] = "DELETE FROM activations WHERE rowid IN (WITH RECURSIVE ns(n) AS ("
                      "SELECT min(namespace) FROM activations UNION ALL "
                      "SELECT (SELECT min(namespace) FROM activations WHERE namespace > n) FROM ns WHERE n IS NOT NULL) "
                      "SELECT a.rowid FROM ns JOIN activations a ON a.namespace = ns.n "
                      "WHERE a.\"start\" < ?1 LIMIT ?2)",
    /* A document kept split (rest_at not NULL) is summary with doc put in
     * at byte rest_at; the domain layer splices it (store_activations.c). */
    [Q_ACTV_GET] = "SELECT doc, rest_at, CASE WHEN rest_at IS NOT NULL THEN summary END FROM activations "
                   "WHERE namespace = ?1 AND activation_id = ?2",
/* The list entry (docs=0) is stored ready-made (summary): large responses
 * and logs are never read. Column 0 is the size of the document (docs=1),
 * so a page can stop before reading one that does not fit; columns 1-3 as
 * Q_ACTV_GET's. A negative LIMIT is none. */
#define ACTV_LIST_COLS                                                                                         \
    "CASE WHEN ?6 THEN bytes ELSE 0 END, CASE WHEN ?6 THEN doc ELSE summary END, CASE WHEN ?6 THEN rest_at END, " \
    "CASE WHEN ?6 AND rest_at IS NOT NULL THEN summary END"
    [Q_ACTV_LIST] = "SELECT " ACTV_LIST_COLS " FROM activations "
                    "WHERE namespace = ?1 AND \"start\" >= ?2 AND \"start\" <= ?3 "
                    "ORDER BY \"start\" DESC, rowid DESC LIMIT ?4 OFFSET ?5",
    [Q_ACTV_LIST_NAME] = "SELECT " ACTV_LIST_COLS " FROM activations "
                         "WHERE namespace = ?1 AND \"start\" >= ?2 AND \"start\" <= ?3 AND name = ?7 "
                         "ORDER BY \"start\" DESC, rowid DESC LIMIT ?4 OFFSET ?5",
#undef ACTV_LIST_COLS
    /* The bound is checked in the same statement as the insert: a route
     * that replaces one of the same key is always allowed. */
    [Q_ROUTE_PUT] = "INSERT OR REPLACE INTO api_routes(namespace, basepath, relpath, verb, doc) "
                    "SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT count(*) FROM api_routes WHERE namespace = ?1) < "
                    STR(STORE_ROUTES_MAX) " OR EXISTS (SELECT 1 FROM api_routes WHERE namespace = ?1 "
                    "AND basepath = ?2 AND relpath = ?3 AND verb = ?4)",
    [Q_ROUTE_LIST] = "SELECT doc FROM api_routes WHERE namespace = ?1 ORDER BY basepath, relpath, verb",
    [Q_ROUTE_LIST_BASE] = "SELECT doc FROM api_routes WHERE namespace = ?1 AND basepath = ?2 "
                          "ORDER BY basepath, relpath, verb",
    [Q_KMS_STATE_GET] = "SELECT generation, blob FROM kms_state WHERE id = 1",
    [Q_KMS_STATE_INSERT] = "INSERT OR IGNORE INTO kms_state(id, generation, blob) VALUES (1, ?1, ?2)",
    [Q_KMS_STATE_CAS] = "UPDATE kms_state SET generation = ?2, blob = ?3 WHERE id = 1 AND generation = ?1",
    [Q_ROUTE_DELETE] = "DELETE FROM api_routes WHERE namespace = ?1 AND basepath = ?2 AND (?3 = '' OR relpath = ?3) "
                       "AND (?4 = '' OR verb = ?4)",
    [Q_ENT_GET] = "SELECT doc, version FROM entities WHERE namespace = ?1 AND kind = ?2 AND name = ?3",
    [Q_ENT_PUT] = "INSERT OR REPLACE INTO entities(namespace, kind, name, version, updated, ref, doc)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_ENT_LIST] = "SELECT doc FROM entities WHERE namespace = ?1 AND kind = ?2 "
                   "ORDER BY updated DESC, name LIMIT ?3 OFFSET ?4",
    [Q_ENT_COUNT] = "SELECT count(*) FROM entities WHERE namespace = ?1 AND kind = ?2",
    [Q_ENT_BY_REF] = "SELECT doc FROM entities WHERE namespace = ?1 AND kind = ?2 AND ref = ?3 ORDER BY name",
    [Q_ENT_DELETE] = "DELETE FROM entities WHERE namespace = ?1 AND name = ?2 AND kind = ?3",
    /* ?3: the rule kind (store_entity_kind) */
    [Q_RULES_DEACTIVATE] = "UPDATE entities SET doc = json_set(doc, '$.status', 'inactive') "
                           "WHERE namespace = ?1 AND ref = ?2 AND kind = ?3",
    [Q_ALARM_INSERT] = "INSERT INTO alarms(namespace, trigger, next_fire, doc) VALUES (?1, ?2, ?3, ?4)",
    [Q_ALARM_REPLACE] = "UPDATE alarms SET next_fire = ?3, doc = ?4 WHERE namespace = ?1 AND trigger = ?2",
    [Q_ALARM_GET] = "SELECT doc, next_fire FROM alarms WHERE namespace = ?1 AND trigger = ?2",
    [Q_ALARM_DELETE] = "DELETE FROM alarms WHERE namespace = ?1 AND trigger = ?2",
    [Q_ALARM_DUE] = "SELECT json_object('namespace', namespace, 'trigger', trigger, 'next_fire', next_fire,"
                    " 'doc', json(doc)) FROM alarms WHERE next_fire IS NOT NULL AND next_fire <= ?1"
                    " ORDER BY next_fire LIMIT ?2",
    [Q_ALARM_EARLIEST] = "SELECT min(next_fire) FROM alarms WHERE next_fire IS NOT NULL",
    [Q_ALARM_ADVANCE] = "UPDATE alarms SET next_fire = ?3 WHERE namespace = ?1 AND trigger = ?2 AND next_fire = ?4",
    [Q_PKG_KIND] = "SELECT is_binding FROM packages WHERE namespace = ?1 AND name = ?2",
    [Q_PKG_GET] = "SELECT doc, version, is_binding FROM packages WHERE namespace = ?1 AND name = ?2",
    [Q_PKG_PUT] = "INSERT OR REPLACE INTO packages(namespace, name, publish, is_binding, version, "
                  "updated, doc) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_PKG_LIST] = "SELECT doc FROM packages WHERE namespace = ?1 AND (?2 = 0 OR publish = 1) "
                   "ORDER BY updated DESC, rowid DESC LIMIT ?3 OFFSET ?4",
    [Q_PKG_DELETE] = "DELETE FROM packages WHERE namespace = ?1 AND name = ?2",
    [Q_PKG_COUNT_ACTIONS] = "SELECT count(*) FROM actions WHERE namespace = ?1 AND name >= ?2 AND name < ?3",
    [Q_PKG_ACTIONS] = "SELECT json_remove(doc, '$.exec.code') FROM actions WHERE namespace = ?1 AND "
                      "name >= ?2 AND name < ?3 ORDER BY updated DESC, rowid DESC LIMIT ?4 OFFSET ?5",
    /* Nothing to do: BEGIN IMMEDIATE took the database's write lock, which
     * serialises every writer of every namespace, in any process. */
    [Q_NS_WRITE_LOCK] = "SELECT ?1",
};

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

static void sq_close(store_conn *c) {
    if (!c) return;
    for (int i = 0; i < Q_COUNT; i++) sqlite3_finalize(c->st[i]);
    for (int i = 0; i < TX_COUNT; i++) sqlite3_finalize(c->tx[i]);
    /* Closing the last connection checkpoints the WAL into the main file. */
    sqlite3_close(c->ckpt);
    sqlite3_close(c->db);
    free(c->path);
    free(c);
}

static store_conn *open_fail(store_conn *c, char **err, const char *path, const char *what) {
    if (asprintf(err, "state database %s: %s: %s", path, what,
                 c->db ? sqlite3_errmsg(c->db) : "cannot allocate connection") < 0)
        *err = NULL;
    sq_close(c);
    return NULL;
}

/* Runs a checkpoint on db. SQLITE_CHECKPOINT_PASSIVE copies into the
 * database file what no reader still needs, never waiting for a reader nor
 * blocking a writer; FULL first waits (busy timeout) for a writer and for
 * readers of older snapshots, and copies everything. Neither waits for
 * another connection's checkpoint: that is SQLITE_BUSY at once.
 * Returns the frames the WAL has copied in all (and in *whole whether that
 * is all of it), or -1. */
static int checkpoint(sqlite3 *db, int mode, int *whole) {
    int frames = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(db, NULL, mode, &frames, &copied);
    if (rc != SQLITE_OK || copied < 0) return -1;
    if (whole) *whole = copied == frames;
    return copied;
}

static void sleep_ms(long ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* The WAL hook, after each commit of a writing connection. SQLite starts
 * the WAL over at a commit only when a checkpoint had copied all of it
 * before that commit began, which a checkpoint running beside a steady
 * stream of commits never achieves. So once the writer thread has copied
 * the bulk (sq_maintain) and stopped going round, the committing thread
 * copies the last few frames itself (CHECKPOINT_TAIL at most, SQLite's
 * usual amount; usually about CHECKPOINT_TAIL_AIM), and the next commit
 * starts the WAL over. */
static int after_commit(void *arg, sqlite3 *db, const char *name, int frames) {
    (void)name;
    store_conn *c = arg;
    if (frames < atomic_exchange(&c->wal_frames, frames)) { /* started over */
        atomic_store(&c->backfilled, 0);
        atomic_store(&c->due_at, CHECKPOINT_FRAMES);
    }
    int copied = atomic_load(&c->backfilled);
    int now = -1;
    metrics_checkpoint_kind kind = METRICS_CHECKPOINT_TAIL;
    if (frames >= CHECKPOINT_HARD) {
        /* The writer thread fell far behind (starved on a busy CPU): this
         * commit waits for its checkpoint and copies the rest, so commits
         * slow down instead of the WAL growing without bound. SQLite does
         * not wait for another connection's checkpoint (SQLITE_BUSY at
         * once), hence the polling, bounded by the busy timeout. */
        kind = METRICS_CHECKPOINT_BLOCKING;
        for (int waited = 0; (now = checkpoint(db, SQLITE_CHECKPOINT_FULL, NULL)) < 0 &&
                             sqlite3_errcode(db) == SQLITE_BUSY && waited < BUSY_TIMEOUT_MS;
             waited++)
            sleep_ms(1);
    } else if (copied > 0 && frames - copied <= CHECKPOINT_TAIL && !atomic_load(&c->copying)) {
        now = checkpoint(db, SQLITE_CHECKPOINT_PASSIVE, NULL);
    }
    if (now >= 0) {
        atomic_store(&c->backfilled, now);
        metrics_store_checkpoint(kind);
    }
    return SQLITE_OK;
}

static int sq_maintenance_due(store_conn *c) {
    int frames = atomic_load(&c->wal_frames);
    return c->path && frames >= atomic_load(&c->due_at) && frames - atomic_load(&c->backfilled) > CHECKPOINT_TAIL;
}

/* The writer thread's checkpoint, from a connection of its own. Commits go
 * on meanwhile, so it goes round again while they added more than
 * CHECKPOINT_TAIL_AIM (each round is shorter). When it could not copy everything (a reader held
 * it back, or a commit's tail copy held the checkpoint lock), the next try
 * is due CHECKPOINT_FRAMES later, so a long read does not make it run after
 * every commit, but never later than a tail before the bound at which
 * commits must copy the whole WAL themselves. */
static void sq_maintain(store_conn *c) {
    if (!c->ckpt) {
        /* The journal mode pragma also makes the new connection open the
         * WAL, which a checkpoint needs (without it SQLite reports -1). */
        if (sqlite3_open_v2(c->path, &c->ckpt, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                            NULL) != SQLITE_OK ||
            sqlite3_busy_timeout(c->ckpt, BUSY_TIMEOUT_MS) != SQLITE_OK ||
            pragma(c->ckpt, "PRAGMA journal_mode=WAL", "wal") < 0) {
            fprintf(stderr, "tfaas: state database %s: cannot open a connection to checkpoint: %s\n", c->path,
                    c->ckpt ? sqlite3_errmsg(c->ckpt) : "out of memory");
            sqlite3_close(c->ckpt);
            c->ckpt = NULL;
        }
    }
    int copied = -1, whole = 0, frames = atomic_load(&c->wal_frames), copied_any = 0;
    atomic_store(&c->copying, true);
    for (int round = 0; c->ckpt && round < CHECKPOINT_ROUNDS; round++) {
        copied = checkpoint(c->ckpt, SQLITE_CHECKPOINT_PASSIVE, &whole);
        if (copied >= 0) copied_any = 1;
        frames = atomic_load(&c->wal_frames);
        /* A commit may have started the WAL over meanwhile: then the count
         * is of the old WAL and says nothing of the new one. */
        if (copied >= 0 && copied <= frames) atomic_store(&c->backfilled, copied);
        if (copied < 0 || !whole || frames - copied <= CHECKPOINT_TAIL_AIM) break;
    }
    atomic_store(&c->copying, false);
    if (copied_any) metrics_store_checkpoint(METRICS_CHECKPOINT_BACKGROUND);
    int next = CHECKPOINT_FRAMES;
    if (copied < 0 || !whole) {
        next = frames + CHECKPOINT_FRAMES;
        if (next > CHECKPOINT_HARD - CHECKPOINT_TAIL) next = CHECKPOINT_HARD - CHECKPOINT_TAIL;
    }
    atomic_store(&c->due_at, next);
}

/* SQLite's process-wide settings, before its first use. Memory statistics
 * off: with them on, every allocation SQLite makes takes a global mutex to
 * count it (5% of a record insert's instructions), for figures nothing here
 * reads (sqlite3_memory_used). Too late (SQLite already initialised, as by
 * a test that opened a database itself) is harmless: they stay on. */
static void configure_sqlite(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

static store_conn *sq_open(const char *state_dir, int read_only, char **err) {
    *err = NULL;
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    pthread_once(&configured, configure_sqlite);
    if (!read_only && make_dirs(state_dir, err) < 0) return NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/tfaas.db", state_dir);
    if (!read_only && precreate_db(path, err) < 0) return NULL;
    store_conn *c = calloc(1, sizeof *c);
    if (!c) {
        *err = strdup("out of memory");
        return NULL;
    }
    /* NOMUTEX: the store's locks already serialise every use of a connection.
     * NOFOLLOW: a link at tfaas.db is refused, not opened through. */
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) return open_fail(c, err, path, "open");
    sqlite3_extended_result_codes(c->db, 1);
    if (sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS) != SQLITE_OK) return open_fail(c, err, path, "busy_timeout");
    if (read_only) return c; /* WAL: its reads and the writer's commits do not wait for each other */
    if (pragma(c->db, "PRAGMA journal_mode=WAL", "wal") < 0)
        return open_fail(c, err, path, "cannot switch to WAL journal (is the directory writable?)");
    if (pragma(c->db, "PRAGMA synchronous=NORMAL", NULL) < 0 || pragma(c->db, "PRAGMA foreign_keys=ON", NULL) < 0)
        return open_fail(c, err, path, "pragma");
    atomic_init(&c->due_at, CHECKPOINT_FRAMES);
    atomic_init(&c->copying, false);
    if (!(c->path = strdup(path))) return open_fail(c, err, path, "out of memory");
    sqlite3_wal_hook(c->db, after_commit, c); /* replaces the automatic checkpoint */
    char *why = NULL;
    if (store_sqlite_migrate(c->db, &why) < 0) {
        if (asprintf(err, "state database %s: %s", path, why ? why : "out of memory") < 0) *err = NULL;
        free(why);
        sq_close(c);
        return NULL;
    }
    return c;
}

static sqlite3_stmt *stmt(store_conn *c, sqlite3_stmt **slot, const char *sql) {
    if (!*slot && sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        sqlite3_finalize(*slot);
        *slot = NULL;
    }
    return *slot;
}

static store_rc rc_of(int rc) {
    switch (rc) {
    case SQLITE_DONE: case SQLITE_ROW: return SB_OK;
    case SQLITE_CONSTRAINT_PRIMARYKEY: return SB_PRIMARY_KEY;
    case SQLITE_CONSTRAINT_UNIQUE: return SB_UNIQUE;
    case SQLITE_CONSTRAINT_FOREIGNKEY: return SB_FOREIGN_KEY;
    default: return (rc & 0xff) == SQLITE_CONSTRAINT ? SB_CONSTRAINT : SB_ERROR;
    }
}

/* Steps a statement that yields no row. */
static store_rc step_done(sqlite3_stmt *st) {
    if (!st) return SB_ERROR;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc_of(rc);
}

static store_rc sq_begin(store_conn *c) { return step_done(stmt(c, &c->tx[TX_BEGIN], TX_SQL[TX_BEGIN])); }

static void sq_rollback(store_conn *c) {
    if (!sqlite3_get_autocommit(c->db)) step_done(stmt(c, &c->tx[TX_ROLLBACK], TX_SQL[TX_ROLLBACK]));
}

static store_rc sq_commit(store_conn *c) {
    store_rc rc = step_done(stmt(c, &c->tx[TX_COMMIT], TX_SQL[TX_COMMIT]));
    if (rc != SB_OK) sq_rollback(c); /* a failed COMMIT may leave the transaction open */
    return rc;
}

static store_rc sq_run(store_conn *c, store_query q, const store_val *args, int n, store_row_fn rows, void *ud,
                       int64_t *changes) {
    sqlite3_stmt *st = stmt(c, &c->st[q], SQL[q]);
    if (!st) return SB_ERROR;
    for (int i = 0; i < n; i++) {
        const store_val *v = &args[i];
        switch (v->type) {
        case SV_NULL: sqlite3_bind_null(st, i + 1); break;
        case SV_INT: sqlite3_bind_int64(st, i + 1, v->i); break;
        case SV_TEXT: sqlite3_bind_text64(st, i + 1, v->p, v->n, SQLITE_STATIC, SQLITE_UTF8); break;
        case SV_BLOB: sqlite3_bind_blob64(st, i + 1, v->p, v->n, SQLITE_STATIC); break;
        }
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!rows) continue;
        store_val cols[MAX_COLS];
        int ncols = sqlite3_column_count(st);
        if (ncols > MAX_COLS) ncols = MAX_COLS;
        for (int i = 0; i < ncols; i++) {
            int t = sqlite3_column_type(st, i);
            if (t == SQLITE_NULL) cols[i] = (store_val){.type = SV_NULL};
            else if (t == SQLITE_INTEGER) cols[i] = SV_INT_(sqlite3_column_int64(st, i));
            else if (t == SQLITE_BLOB) {
                const void *p = sqlite3_column_blob(st, i);
                cols[i] = SV_BLOB_(p, (size_t)sqlite3_column_bytes(st, i));
            } else {
                const char *p = (const char *)sqlite3_column_text(st, i);
                cols[i] = (store_val){.type = p ? SV_TEXT : SV_NULL, .p = p, .n = (size_t)sqlite3_column_bytes(st, i)};
            }
        }
        if (rows(ud, cols, ncols)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_rc out = rc_of(rc);
    if (out == SB_OK && changes) *changes = sqlite3_changes(c->db);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return out;
}

static int64_t sq_data_version(store_conn *c) {
    sqlite3_stmt *st = stmt(c, &c->tx[TX_DATA_VERSION], TX_SQL[TX_DATA_VERSION]);
    int64_t version = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    if (st) sqlite3_reset(st);
    return version;
}

static const char *sq_errmsg(store_conn *c) { return c && c->db ? sqlite3_errmsg(c->db) : "no database"; }

static int sq_test_read_only(store_conn *c, int on) {
    return pragma(c->db, on ? "PRAGMA query_only=ON" : "PRAGMA query_only=OFF", NULL);
}

static int sq_claims(const char *target) { return target != NULL; }

const store_backend store_sqlite_backend = {
    .name = "sqlite",
    .shared = 0,
    .claims = sq_claims,
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .run = sq_run,
    .data_version = sq_data_version,
    .errmsg = sq_errmsg,
    .maintenance_due = sq_maintenance_due,
    .maintain = sq_maintain,
    .test_read_only = sq_test_read_only,
};
