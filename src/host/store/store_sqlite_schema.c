/* store_sqlite_schema.c - the SQLite backend's tables and the migration
 * steps between schema versions (PRAGMA user_version). All pending steps run in one
 * transaction, so an interrupted upgrade leaves the previous version intact.
 *
 * Activations have no foreign key on purpose: a group commit must never fail
 * as a whole because one record names a namespace deleted in the meantime;
 * store_namespace_delete removes them explicitly. Actions, packages,
 * triggers, rules and alarm schedules cascade. */
#include "host/store/store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>

/* Version 0 -> 1: the initial schema. */
static const char SCHEMA_V1[] =
    "CREATE TABLE namespaces ("
    "  name TEXT PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  key_hash BLOB NOT NULL,"       /* SHA-256 of the key; the key itself is never stored */
    "  created INTEGER NOT NULL"      /* ms since the epoch */
    ");"
    "CREATE TABLE actions ("
    "  namespace TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  version TEXT NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  doc TEXT NOT NULL,"            /* the OpenWhisk action document, JSON */
    "  PRIMARY KEY (namespace, name)"
    ");"
    "CREATE INDEX actions_by_updated ON actions(namespace, updated DESC);"
    "CREATE TABLE activations ("
    "  activation_id TEXT PRIMARY KEY,"
    "  namespace TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  \"start\" INTEGER NOT NULL,"
    "  \"end\" INTEGER NOT NULL,"
    "  status_code INTEGER,"          /* OpenWhisk's 0..3, NULL when the record had none */
    "  doc TEXT NOT NULL"             /* the OpenWhisk activation record, JSON */
    ");"
    "CREATE INDEX activations_by_start ON activations(namespace, \"start\" DESC);"
    "CREATE INDEX activations_by_name ON activations(namespace, name, \"start\" DESC);";

/* Version 2 -> 3 (issue 10, item 4): each activation row carries its size
 * (what the per-namespace storage quota counts) and its list entry
 * (docs=false) ready-made, both ahead of the document: a list or a retention
 * scan then never parses a document, nor reads the pages of a large one.
 * SQLite cannot insert columns, so the table is rebuilt. The list-by-start
 * index covers `bytes`, so the quota is summed from the index alone. */
static const char SCHEMA_V3[] =
    "CREATE TABLE activations_v2 ("
    "  activation_id TEXT PRIMARY KEY,"
    "  namespace TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  \"start\" INTEGER NOT NULL,"
    "  \"end\" INTEGER NOT NULL,"
    "  status_code INTEGER,"
    "  bytes INTEGER NOT NULL,"       /* length of doc in bytes */
    "  summary TEXT NOT NULL,"        /* the list entry: doc without response and logs, with statusCode */
    "  doc TEXT NOT NULL"
    ");"
    "INSERT INTO activations_v2 SELECT activation_id, namespace, name, \"start\", \"end\", status_code,"
    "  length(CAST(doc AS BLOB)),"
    "  CASE WHEN status_code IS NULL THEN json_remove(doc, '$.response', '$.logs')"
    "  ELSE json_set(json_remove(doc, '$.response', '$.logs'), '$.statusCode', status_code) END,"
    "  doc FROM activations;"
    "DROP TABLE activations;"
    "ALTER TABLE activations_v2 RENAME TO activations;"
    "CREATE INDEX activations_by_start ON activations(namespace, \"start\" DESC, bytes);"
    "CREATE INDEX activations_by_name ON activations(namespace, name, \"start\" DESC);"
    "CREATE INDEX activations_by_age ON activations(\"start\");";

typedef struct {
    int to;          /* user_version after this step */
    const char *sql; /* statements run in one transaction */
} migration;

/* Version 1 -> 2: a namespace's identity beyond its name (ns_id, random,
 * fixed at creation): a namespace deleted and created again under the same
 * name is another namespace (the scheduler's keys and the activation
 * writer's check use it, see store_authenticate). */
static const char SCHEMA_V2[] =
    "ALTER TABLE namespaces ADD COLUMN ns_id TEXT;"
    "UPDATE namespaces SET ns_id = lower(hex(randomblob(8)));";

/* Version 3 -> 4 (issue 13): packages and bindings. A package's actions
 * stay in `actions`, named "pkg/action" (a plain name has no '/'), so they
 * cascade with the namespace and share the action cache. is_binding is
 * fixed at creation (OpenWhisk refuses turning one kind into the other); an
 * action may only be stored under a package with is_binding 0. */
static const char SCHEMA_V4[] =
    "CREATE TABLE packages ("
    "  namespace TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  publish INTEGER NOT NULL,"     /* 1: readable (and bindable) by every namespace */
    "  is_binding INTEGER NOT NULL,"
    "  version TEXT NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  doc TEXT NOT NULL,"            /* the OpenWhisk package document, JSON */
    "  PRIMARY KEY (namespace, name)"
    ");"
    "CREATE INDEX packages_by_updated ON packages(namespace, updated DESC);";

/* Version 4 -> 5 (issue 13): triggers and rules (one table, by kind;
 * `ref` is a rule's trigger, looked up when the trigger fires) and alarm
 * schedules, one per trigger, going with their namespace. next_fire NULL:
 * the schedule will not fire again. IF NOT EXISTS: a database that went
 * back to an older user_version by hand upgrades again. */
static const char SCHEMA_V5[] =
    "CREATE TABLE IF NOT EXISTS entities ("
    "  namespace TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,"
    "  kind INTEGER NOT NULL,"        /* store_entity_kind */
    "  name TEXT NOT NULL,"
    "  version TEXT NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  ref TEXT,"
    "  doc TEXT NOT NULL,"
    "  PRIMARY KEY (namespace, kind, name)"
    ");"
    "CREATE INDEX IF NOT EXISTS entities_by_updated ON entities(namespace, kind, updated DESC);"
    "CREATE INDEX IF NOT EXISTS entities_by_ref ON entities(namespace, kind, ref);"
    "CREATE TABLE IF NOT EXISTS alarms ("
    "  namespace TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,"
    "  trigger TEXT NOT NULL,"
    "  next_fire INTEGER,"            /* ms since the epoch */
    "  doc TEXT NOT NULL,"            /* the feed's parameters and state, JSON */
    "  PRIMARY KEY (namespace, trigger)"
    ");"
    "CREATE INDEX IF NOT EXISTS alarms_by_next ON alarms(next_fire);";

/* Version 5 -> 6: API routes (store_routes.c): one row per base path,
 * relative path and verb of a namespace, its definition as JSON. IF NOT
 * EXISTS: a database whose user_version was set back (as test_store does)
 * already has it. */
static const char SCHEMA_V6[] =
    "CREATE TABLE IF NOT EXISTS api_routes ("
    "  namespace TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,"
    "  basepath TEXT NOT NULL,"
    "  relpath TEXT NOT NULL,"
    "  verb TEXT NOT NULL,"
    "  doc TEXT NOT NULL,"
    "  PRIMARY KEY (namespace, basepath, relpath, verb)"
    ");";

/* Version 6 -> 7: the key service's state shared by every node on this
 * store (store_kms.c), one row. */
static const char SCHEMA_V7[] =
    "CREATE TABLE IF NOT EXISTS kms_state ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  generation INTEGER NOT NULL,"
    "  blob BLOB NOT NULL"
    ");";

/* Version 7 -> 8 (issue 14): each record's bytes stored once. A record
 * written as text keeps in `doc` only its response and logs, the part its
 * list entry (`summary`) lacks, and in rest_at the byte offset in summary
 * where that part goes; rest_at NULL (every row written before, and
 * records that came as JSON trees) means doc is the whole document. A
 * column added, nothing rewritten: instant on a large database. */
static const char SCHEMA_V8[] = "ALTER TABLE activations ADD COLUMN rest_at INTEGER;";

/* Version 8 -> 9 (issue 14): no index on start alone. It served only the
 * age sweep, which walks activations_by_start namespace by namespace
 * instead (store_sqlite.c, Q_ACTV_EXPIRE), and it cost every record an
 * insert into a fourth b-tree: a tenth of the instructions of a hello's
 * record and a sixth of the bytes its commits wrote. */
static const char SCHEMA_V9[] = "DROP INDEX IF EXISTS activations_by_age;";

static const migration MIGRATIONS[] = {
    {1, SCHEMA_V1},
    {2, SCHEMA_V2},
    {3, SCHEMA_V3},
    {4, SCHEMA_V4},
    {5, SCHEMA_V5},
    {6, SCHEMA_V6},
    {7, SCHEMA_V7},
    {8, SCHEMA_V8},
    {9, SCHEMA_V9},
};

static int user_version(sqlite3 *db, int *out) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Fails with "what: SQLite's message" in *err; rolls back when asked. */
static int fail(sqlite3 *db, const char *what, int rollback, char **err) {
    if (asprintf(err, "%s: %s", what, sqlite3_errmsg(db)) < 0) *err = NULL;
    if (rollback) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int store_sqlite_migrate(sqlite3 *db, char **err) {
    int version = 0;
    if (user_version(db, &version) < 0) return fail(db, "cannot read schema version", 0, err);
    /* Up to date: no write needed, so a read-only database still opens. */
    if (version == STORE_SQLITE_SCHEMA_VERSION) return 0;
    /* Read the version again inside a write transaction so two processes
     * opening a fresh file at once (serve and admin) cannot both migrate. */
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, "cannot lock the database to create or upgrade its schema", 0, err);
    if (user_version(db, &version) < 0) return fail(db, "cannot read schema version", 1, err);
    if (version > STORE_SQLITE_SCHEMA_VERSION) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        if (asprintf(err, "schema version %d is newer than this tfaas understands (%d)", version,
                     STORE_SQLITE_SCHEMA_VERSION) < 0)
            *err = NULL;
        return -1;
    }
    for (size_t i = 0; i < sizeof MIGRATIONS / sizeof MIGRATIONS[0]; i++) {
        if (MIGRATIONS[i].to <= version) continue;
        char set_version[64];
        snprintf(set_version, sizeof set_version, "PRAGMA user_version=%d", MIGRATIONS[i].to);
        if (sqlite3_exec(db, MIGRATIONS[i].sql, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, set_version, NULL, NULL, NULL) != SQLITE_OK)
            return fail(db, "schema migration failed", 1, err);
        version = MIGRATIONS[i].to;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) return fail(db, "cannot commit the schema", 1, err);
    return 0;
}
