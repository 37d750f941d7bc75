/* store_pg.c - the PostgreSQL backend of the store (store_backend.h), over
 * libpq: `tfaas serve --store postgresql://...`. Several tfaas processes (or
 * nodes) may share one database: the schema is created under an advisory
 * lock, and every commit to a cached table is announced with NOTIFY (a
 * trigger, store_pg_sql.c) so the others' read caches empty themselves
 * (data_version counts the announcements of other sessions).
 *
 * Durability: a COMMIT returns once PostgreSQL has made it durable (its WAL
 * flushed, with the server's default synchronous_commit=on), so acknowledged
 * writes survive a kill -9 of tfaas and of PostgreSQL.
 *
 * A lost connection (server restart, a killed backend) is reset on its next
 * use outside a transaction: a BEGIN or a read that meets the loss is tried
 * once more on the fresh connection, a write outside a transaction fails
 * (it may have been done), and data_version reports "unknown" once, since
 * announcements may have been missed. */
#include "host/store/store_pg.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns a row callback can be given (the widest statement has 4). */
#define MAX_COLS 8
#define MAX_ARGS 12
/* Fixed type OIDs of PostgreSQL's catalog (pg_type.dat). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
/* Serialises schema creation across processes (pg_advisory_xact_lock). */
#define MIGRATE_LOCK_KEY 0x7466616173LL

/* Every field is guarded by the store's lock of this connection (db_lock or
 * rd_lock, store_internal.h): one thread at a time. */
struct store_conn {
    PGconn *pg;
    int read_only;
    int in_tx;
    int lost;          /* the connection was reset: announcements may be lost */
    int64_t announced; /* other sessions' announcements seen so far */
    char err[512];
};

static void set_err(store_conn *c, const char *msg) {
    snprintf(c->err, sizeof c->err, "%s", msg ? msg : "unknown PostgreSQL error");
    size_t n = strlen(c->err);
    while (n && (c->err[n - 1] == '\n' || c->err[n - 1] == ' ')) c->err[--n] = '\0';
}

/* What a failed result was, by SQLSTATE class 23 (integrity constraints). */
static store_rc rc_of(store_conn *c, PGresult *res) {
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return SB_OK;
    set_err(c, res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg));
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state || strncmp(state, "23", 2) != 0) return SB_ERROR;
    if (!strcmp(state, "23503")) return SB_FOREIGN_KEY;
    if (!strcmp(state, "23505")) {
        const char *name = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
        size_t n = name ? strlen(name) : 0;
        return n > 5 && !strcmp(name + n - 5, "_pkey") ? SB_PRIMARY_KEY : SB_UNIQUE;
    }
    return SB_CONSTRAINT;
}

/* Runs a statement without parameters or rows. */
static store_rc exec_simple(store_conn *c, const char *sql) {
    PGresult *res = PQexec(c->pg, sql);
    store_rc rc = rc_of(c, res);
    PQclear(res);
    return rc;
}

static int migrate(store_conn *c, char **err) {
    if (exec_simple(c, "BEGIN") != SB_OK) goto fail;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%lld)", MIGRATE_LOCK_KEY);
    if (exec_simple(c, sql) != SB_OK ||
        exec_simple(c, "CREATE TABLE IF NOT EXISTS tfaas_schema (version integer NOT NULL)") != SB_OK)
        goto fail;
    PGresult *res = PQexec(c->pg, "SELECT version FROM tfaas_schema");
    if (rc_of(c, res) != SB_OK) {
        PQclear(res);
        goto fail;
    }
    int version = PQntuples(res) > 0 ? atoi(PQgetvalue(res, 0, 0)) : 0, had_row = PQntuples(res) > 0;
    PQclear(res);
    int newest = STORE_PG_MIGRATIONS[STORE_PG_MIGRATION_COUNT - 1].to;
    if (version > newest) {
        exec_simple(c, "ROLLBACK");
        if (asprintf(err, "schema version %d is newer than this tfaas understands (%d)", version, newest) < 0)
            *err = NULL;
        return -1;
    }
    for (size_t i = 0; i < STORE_PG_MIGRATION_COUNT; i++) {
        if (STORE_PG_MIGRATIONS[i].to <= version) continue;
        if (exec_simple(c, STORE_PG_MIGRATIONS[i].sql) != SB_OK) goto fail;
        version = STORE_PG_MIGRATIONS[i].to;
    }
    snprintf(sql, sizeof sql, had_row ? "UPDATE tfaas_schema SET version = %d" : "INSERT INTO tfaas_schema VALUES (%d)",
             version);
    if (exec_simple(c, sql) != SB_OK || exec_simple(c, "COMMIT") != SB_OK) goto fail;
    return 0;
fail:
    if (asprintf(err, "PostgreSQL schema: %s", c->err) < 0) *err = NULL;
    exec_simple(c, "ROLLBACK");
    return -1;
}

/* Session settings of a fresh or reset connection. */
static int setup(store_conn *c) {
    if (c->read_only) return exec_simple(c, "SET default_transaction_read_only = on") == SB_OK ? 0 : -1;
    return exec_simple(c, "LISTEN " STORE_PG_CHANNEL) == SB_OK ? 0 : -1;
}

/* The server's notices ("already exists, skipping") are not errors: not
 * printed on stderr, which is the operator's. */
static void quiet(void *arg, const char *message) { (void)arg, (void)message; }

static void pg_close(store_conn *c) {
    if (!c) return;
    PQfinish(c->pg);
    free(c);
}

static store_conn *pg_open(const char *target, int read_only, char **err) {
    *err = NULL;
    store_conn *c = calloc(1, sizeof *c);
    if (!c) {
        *err = strdup("out of memory");
        return NULL;
    }
    c->read_only = read_only;
    c->pg = PQconnectdb(target);
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        set_err(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
        /* the URL is not repeated: it may carry a password */
        if (asprintf(err, "PostgreSQL: cannot connect: %s", c->err) < 0) *err = NULL;
        pg_close(c);
        return NULL;
    }
    PQsetNoticeProcessor(c->pg, quiet, NULL);
    if ((!read_only && migrate(c, err) < 0) || setup(c) < 0) {
        if (!*err && asprintf(err, "PostgreSQL: %s", c->err) < 0) *err = NULL;
        pg_close(c);
        return NULL;
    }
    return c;
}

/* A connection the server dropped is reset between transactions. */
static void revive(store_conn *c) {
    if (PQstatus(c->pg) == CONNECTION_OK || c->in_tx) return;
    PQreset(c->pg);
    if (PQstatus(c->pg) == CONNECTION_OK && setup(c) == 0) c->lost = 1;
}

/* Whether a failure was the connection's loss, met on the first use after
 * the server dropped it (restart, pg_terminate_backend, idle timeout). */
static int lost_now(store_conn *c, store_rc rc) { return rc != SB_OK && PQstatus(c->pg) == CONNECTION_BAD; }

static store_rc pg_begin(store_conn *c) {
    revive(c);
    store_rc rc = exec_simple(c, "BEGIN");
    if (lost_now(c, rc)) { /* nothing was done yet: safe to try once more */
        revive(c);
        rc = exec_simple(c, "BEGIN");
    }
    c->in_tx = rc == SB_OK;
    return rc;
}

static void pg_rollback(store_conn *c) {
    if (!c->in_tx) return;
    exec_simple(c, "ROLLBACK");
    c->in_tx = 0;
}

static store_rc pg_commit(store_conn *c) {
    PGresult *res = PQexec(c->pg, "COMMIT");
    store_rc rc = rc_of(c, res);
    /* COMMIT of a transaction that failed answers ROLLBACK, not an error. */
    if (rc == SB_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        set_err(c, "the transaction was rolled back");
        rc = SB_ERROR;
    }
    PQclear(res);
    c->in_tx = 0;
    return rc;
}

static int deliver_rows(PGresult *res, store_row_fn rows, void *ud) {
    int nrows = PQntuples(res), ncols = PQnfields(res);
    if (ncols > MAX_COLS) ncols = MAX_COLS;
    for (int r = 0; r < nrows; r++) {
        store_val cols[MAX_COLS];
        unsigned char *freeme[MAX_COLS] = {0};
        for (int i = 0; i < ncols; i++) {
            if (PQgetisnull(res, r, i)) {
                cols[i] = (store_val){.type = SV_NULL};
                continue;
            }
            const char *v = PQgetvalue(res, r, i);
            switch (PQftype(res, i)) {
            case OID_INT8: case OID_INT4: case OID_INT2: cols[i] = SV_INT_(strtoll(v, NULL, 10)); break;
            case OID_BOOL: cols[i] = SV_INT_(v[0] == 't'); break;
            case OID_BYTEA: {
                size_t n = 0;
                freeme[i] = PQunescapeBytea((const unsigned char *)v, &n);
                cols[i] = freeme[i] ? SV_BLOB_(freeme[i], n) : (store_val){.type = SV_NULL};
                break;
            }
            default: cols[i] = SV_TEXTN_(v, (size_t)PQgetlength(res, r, i)); break;
            }
        }
        int stop = rows(ud, cols, ncols);
        for (int i = 0; i < ncols; i++) PQfreemem(freeme[i]);
        if (stop) break;
    }
    return 0;
}

static store_rc pg_run(store_conn *c, store_query q, const store_val *args, int n, store_row_fn rows, void *ud,
                       int64_t *changes) {
    if (n > MAX_ARGS) return SB_ERROR;
    revive(c);
    const char *values[MAX_ARGS];
    int lengths[MAX_ARGS], formats[MAX_ARGS];
    char ints[MAX_ARGS][24];
    for (int i = 0; i < n; i++) {
        lengths[i] = 0;
        formats[i] = 0;
        switch (args[i].type) {
        case SV_NULL: values[i] = NULL; break;
        case SV_INT:
            snprintf(ints[i], sizeof ints[i], "%" PRId64, args[i].i);
            values[i] = ints[i];
            break;
        case SV_TEXT: values[i] = args[i].p; break; /* NUL-terminated: the domain passes C strings */
        case SV_BLOB:
            values[i] = args[i].p;
            lengths[i] = (int)args[i].n;
            formats[i] = 1;
            break;
        }
    }
    PGresult *res = PQexecParams(c->pg, STORE_PG_SQL[q], n, NULL, values, lengths, formats, 0);
    store_rc rc = rc_of(c, res);
    /* A read outside a transaction is tried once more on a fresh
     * connection; a write is not (it may have been done before the loss). */
    if (lost_now(c, rc) && !c->in_tx && !strncmp(STORE_PG_SQL[q], "SELECT", 6)) {
        PQclear(res);
        revive(c);
        res = PQexecParams(c->pg, STORE_PG_SQL[q], n, NULL, values, lengths, formats, 0);
        rc = rc_of(c, res);
    }
    int64_t changed = 0;
    if (rc == SB_OK) {
        if (rows && PQresultStatus(res) == PGRES_TUPLES_OK) deliver_rows(res, rows, ud);
        changed = strtoll(PQcmdTuples(res), NULL, 10);
    }
    PQclear(res);
    if (rc == SB_OK && changed == 0 && STORE_PG_CONFLICT_PROBE[q] && n > 0) {
        res = PQexecParams(c->pg, STORE_PG_CONFLICT_PROBE[q], 1, NULL, values, lengths, formats, 0);
        rc = rc_of(c, res);
        if (rc == SB_OK && PQntuples(res) > 0) {
            set_err(c, "duplicate key");
            rc = SB_PRIMARY_KEY;
        }
        PQclear(res);
    }
    if (rc == SB_OK && changes) *changes = changed;
    return rc;
}

static int64_t pg_data_version(store_conn *c) {
    revive(c);
    if (PQstatus(c->pg) != CONNECTION_OK || !PQconsumeInput(c->pg)) return -1;
    int self = PQbackendPID(c->pg);
    PGnotify *note;
    while ((note = PQnotifies(c->pg))) {
        if (note->be_pid != self) c->announced++; /* our own commits empty our cache already */
        PQfreemem(note);
    }
    if (c->lost) { /* announcements made while it was down are gone */
        c->lost = 0;
        return -1;
    }
    return c->announced;
}

static const char *pg_errmsg(store_conn *c) { return c->err[0] ? c->err : "no error"; }

static int pg_test_read_only(store_conn *c, int on) {
    return exec_simple(c, on ? "SET default_transaction_read_only = on" : "SET default_transaction_read_only = off") ==
                   SB_OK
               ? 0
               : -1;
}

static int pg_claims(const char *target) {
    return target && (!strncmp(target, "postgresql://", 13) || !strncmp(target, "postgres://", 11));
}

const store_backend store_pg_backend = {
    .name = "postgresql",
    .shared = 1,
    .claims = pg_claims,
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .run = pg_run,
    .data_version = pg_data_version,
    .errmsg = pg_errmsg,
    .test_read_only = pg_test_read_only,
};
