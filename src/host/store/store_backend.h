/* store_backend.h - the seam between the store's domain layer (versions,
 * credential checks, group commit, read cache, retention: store_*.c) and the
 * database engine that keeps the rows (store_sqlite*.c, store_pg*.c).
 *
 * A backend is a table of operations, as SQLite's sqlite3_io_methods or
 * Redis's ConnectionType are: the domain layer names each statement it runs
 * by a store_query and passes its parameters by position; the backend holds
 * the statement's text in its own dialect (INSERT OR REPLACE or ON CONFLICT,
 * json_set or jsonb_set), and tells the domain how others' commits are
 * noticed (PRAGMA data_version, LISTEN/NOTIFY). A parameter ?N (SQLite) or
 * $N (PostgreSQL) is args[N-1] in both.
 *
 * A connection is used by one thread at a time: the domain layer's locks
 * (store_internal.h) serialise every use. */
#ifndef TFAAS_HOST_STORE_BACKEND_H
#define TFAAS_HOST_STORE_BACKEND_H

#include "host/store/store.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One parameter or column value. Text and blobs point into the caller's
 * memory (parameters) or the backend's (columns: valid during the row
 * callback only). */
typedef enum { SV_NULL, SV_INT, SV_TEXT, SV_BLOB } store_val_type;
typedef struct {
    store_val_type type;
    int64_t i;
    const char *p;
    size_t n;
} store_val;

#define SV_INT_(x) ((store_val){.type = SV_INT, .i = (int64_t)(x)})
/* Text, or NULL as SQL NULL. */
static inline store_val store_val_text(const char *x) {
    return (store_val){.type = x ? SV_TEXT : SV_NULL, .p = x, .n = x ? strlen(x) : 0};
}
#define SV_TEXT_(x) store_val_text(x)
#define SV_TEXTN_(x, len) ((store_val){.type = SV_TEXT, .p = (x), .n = (len)})
#define SV_BLOB_(x, len) ((store_val){.type = SV_BLOB, .p = (const char *)(x), .n = (len)})

/* What a statement did. The constraint kinds let the domain layer tell
 * "exists already" from "its namespace is gone" without knowing the engine's
 * error codes; SB_CONSTRAINT and above are all constraint violations. */
typedef enum {
    SB_OK = 0,
    SB_ERROR,       /* anything else: the connection's errmsg says what */
    SB_CONSTRAINT,  /* a constraint of another kind (NOT NULL, CHECK) */
    SB_PRIMARY_KEY,
    SB_UNIQUE,
    SB_FOREIGN_KEY,
} store_rc;
#define SB_IS_CONSTRAINT(rc) ((rc) >= SB_CONSTRAINT)

/* Every statement the domain layer runs; each backend has the text of each. */
typedef enum {
    Q_NS_INSERT, Q_NS_SET_CRED, Q_NS_DELETE, Q_NS_DELETE_ACTIVATIONS, Q_NS_LIST, Q_NS_BY_UUID, Q_NS_ID,
    Q_ACT_GET, Q_ACT_PUT, Q_ACT_LIST, Q_ACT_DELETE,
    Q_ACTV_INSERT, Q_ACTV_TRIM, Q_ACTV_TOTALS, Q_ACTV_EXPIRE,
    Q_ACTV_GET, Q_ACTV_LIST, Q_ACTV_LIST_NAME,
    Q_ROUTE_PUT, Q_ROUTE_LIST, Q_ROUTE_LIST_BASE, Q_ROUTE_DELETE,
    Q_ENT_GET, Q_ENT_PUT, Q_ENT_LIST, Q_ENT_COUNT, Q_ENT_BY_REF, Q_ENT_DELETE, Q_RULES_DEACTIVATE,
    Q_ALARM_INSERT, Q_ALARM_REPLACE, Q_ALARM_GET, Q_ALARM_DELETE, Q_ALARM_DUE, Q_ALARM_EARLIEST, Q_ALARM_ADVANCE,
    Q_PKG_KIND, Q_PKG_GET, Q_PKG_PUT, Q_PKG_LIST, Q_PKG_DELETE, Q_PKG_COUNT_ACTIONS, Q_PKG_ACTIONS,
    /* store_cluster.c: node leases and accepted activations (PostgreSQL only) */
    Q_CL_NODES_TABLE, Q_CL_INFLIGHT_TABLE, Q_CL_LEASE, Q_CL_ACCEPT, Q_CL_UNACCEPT, Q_CL_ORPHANS, Q_CL_CLEAN, Q_CL_EXPIRE,
    Q_KMS_STATE_GET, Q_KMS_STATE_INSERT, Q_KMS_STATE_CAS,
    /* Inside a transaction: waits until no other transaction, in any
     * process, holds namespace ?1's write lock, and holds it until this one
     * ends (store_begin_ns). */
    Q_NS_WRITE_LOCK,
    Q_COUNT
} store_query;

/* Called for each row a statement yields; nonzero stops the statement
 * early (the result is still SB_OK). */
typedef int (*store_row_fn)(void *ud, const store_val *cols, int ncols);

typedef struct store_conn store_conn;

typedef struct store_backend {
    const char *name;
    /* Other nodes write the same tables (PostgreSQL): what one process
     * counts of them is an estimate (store_retention.c sums again before
     * it deletes). */
    int shared;
    /* Whether this backend serves a --store target (a URL or a directory). */
    int (*claims)(const char *target);
    /* A connection to target, its schema created or upgraded (read_only:
     * for activation reads only, never migrates). NULL and a malloc'd
     * message in *err when it cannot be had. */
    store_conn *(*open)(const char *target, int read_only, char **err);
    void (*close)(store_conn *c);
    store_rc (*begin)(store_conn *c);
    store_rc (*commit)(store_conn *c);
    /* A no-op outside a transaction. */
    void (*rollback)(store_conn *c);
    /* Runs q with args[0..n); rows (may be NULL) sees each row; *changes
     * (may be NULL) gets the rows a write changed. A failed statement inside
     * a transaction leaves the transaction usable (the group commit goes on
     * past a duplicate activation id). */
    store_rc (*run)(store_conn *c, store_query q, const store_val *args, int n, store_row_fn rows, void *ud,
                    int64_t *changes);
    /* A number that changes when another process (or node) has committed a
     * change to what the read cache holds since the last call; -1 when it
     * cannot tell (then the cache assumes a change). */
    int64_t (*data_version)(store_conn *c);
    /* The message of the connection's latest failure. */
    const char *(*errmsg)(store_conn *c);
    /* Work a backend keeps off the commit path (SQLite: checkpointing the
     * WAL into the database file), done by the store's writer thread
     * instead, so no commit waits for it. maintenance_due may be asked from
     * any thread, without the connection's lock; maintain runs on the
     * writer thread only, also without it, and touches nothing a user of
     * the connection does. Both NULL: nothing to keep off the path. */
    int (*maintenance_due)(store_conn *c);
    void (*maintain)(store_conn *c);
    /* Test hook: makes every write fail (1) or work again (0); -1 if the
     * backend cannot. */
    int (*test_read_only)(store_conn *c, int on);
} store_backend;

extern const store_backend store_sqlite_backend;
extern const store_backend store_pg_backend;

/* The backend that serves target (PostgreSQL for a postgresql:// or
 * postgres:// URL, SQLite for anything else: a state directory). */
const store_backend *store_backend_for(const char *target);

#endif
