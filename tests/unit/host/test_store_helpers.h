/* test_store_helpers.h - small record builders and checks shared by the store
 * and admin unit tests; their scratch state directories come from scratch.h. */
#ifndef TFAAS_TEST_STORE_HELPERS_H
#define TFAAS_TEST_STORE_HELPERS_H

#include "scratch.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

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

/* PRAGMA integrity_check through a separate connection: "ok" or the problem. */
static inline int db_integrity_ok(const char *state_dir) {
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
