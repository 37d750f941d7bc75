/* test_store_helpers.h - small record builders and checks shared by the store
 * and admin unit tests; their scratch state directories come from scratch.h,
 * and test_store_target turns one into the store to open: the directory
 * (SQLite), or a PostgreSQL schema of its own when the test runs under
 * scripts/pg-test.sh. */
#ifndef TFAAS_TEST_STORE_HELPERS_H
#define TFAAS_TEST_STORE_HELPERS_H

#include "scratch.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Whether the tests run against PostgreSQL (TFAAS_TEST_PG, set by
 * scripts/pg-test.sh); tests of SQLite's files are skipped then. */
static inline int test_store_pg(void) {
    const char *pg = getenv("TFAAS_TEST_PG");
    return pg && *pg;
}

/* The --store target for a scratch directory: the directory itself, or
 * under PostgreSQL a URL whose search_path is a schema named after the
 * directory (created here), so each scratch directory starts empty and a
 * reopen finds what was written. Static storage, a few at a time. */
static inline const char *test_store_target(const char *dir) {
    if (!test_store_pg()) return dir;
    const char *pg = getenv("TFAAS_TEST_PG");
    static char urls[4][1024];
    static unsigned next;
    char *url = urls[next++ % 4];
    uint64_t h = 1469598103934665603ull; /* FNV-1a of the directory */
    for (const char *p = dir; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    char schema[32], sql[96];
    snprintf(schema, sizeof schema, "t_%016llx", (unsigned long long)h);
    snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS %s", schema);
    PGconn *c = PQconnectdb(pg);
    PQclear(PQexec(c, "SET client_min_messages = warning")); /* no notice when it exists */
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "test_store_target: %s\n", PQerrorMessage(c));
        exit(2);
    }
    PQclear(r);
    PQfinish(c);
    snprintf(url, sizeof urls[0], "%s%coptions=-csearch_path%%3D%s", pg, strchr(pg, '?') ? '&' : '?', schema);
    return url;
}

/* An OpenWhisk-shaped activation record. */
static inline json_t *make_activation(const char *ns, const char *name, const char *id, long long start,
                                      const char *status) {
    int code = !strcmp(status, "success") ? 0 : !strcmp(status, "application error") ? 1 : 2;
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:{s:s, s:I, s:b, s:{s:s}}, s:[s], s:[{s:s, s:s}], s:b}",
                     "namespace", ns, "name", name, "activationId", id, "version", "0.0.1",
                     "start", (json_int_t)start, "end", (json_int_t)(start + 5), "duration", (json_int_t)5,
                     "response", "status", status, "statusCode", (json_int_t)code, "success", code == 0,
                     "result", "payload", "big result",
                     "logs", "2024-01-01T00:00:00Z stdout: hello",
                     "annotations", "key", "kind", "value", "js:duktape",
                     "publish", 0);
}

/* PRAGMA integrity_check through a separate connection: "ok" or the problem.
 * PostgreSQL checks its own pages; there it is always true. */
static inline int db_integrity_ok(const char *state_dir) {
    if (test_store_pg()) return 1;
    char path[1024];
    snprintf(path, sizeof path, "%s/tfaas.db", state_dir);
    sqlite3 *db = NULL;
    int ok = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW) {
                const char *r = (const char *)sqlite3_column_text(st, 0);
                ok = r && !strcmp(r, "ok");
                if (!ok) fprintf(stderr, "integrity_check: %s\n", r ? r : "(null)");
            }
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(db);
    return ok;
}

#endif
