/* store_routes.c - API routes (the api_routes table, schema step 4): put,
 * list and delete the route documents of a namespace. Few and rarely
 * written, so each call prepares its statement under db_lock rather than
 * holding one prepared at open. */
#include "host/store/store_internal.h"

#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

/* Runs sql with text parameters args[0..n) under db_lock; for a SELECT each
 * row's first column (a JSON document) is appended to rows. Changes made
 * are counted into *changes when not NULL. */
static store_status run(store *s, const char *sql, const char *const *args, int n, json_t *rows, int *changes) {
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = NULL;
    store_status out = STORE_OK;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        out = store_fail_db(s, "prepare a route statement");
    } else {
        for (int i = 0; i < n; i++) sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *text = (const char *)sqlite3_column_text(st, 0);
            json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
            if (rows && doc && json_array_append_new(rows, doc) < 0) rc = SQLITE_NOMEM;
            else if (!rows) json_decref(doc);
            if (rc == SQLITE_NOMEM) break;
        }
        if (rc != SQLITE_DONE) out = store_fail_db(s, "run a route statement");
        else if (changes) *changes = sqlite3_changes(s->db);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->db_lock);
    return out;
}

store_status store_route_put(store *s, const char *ns, const json_t *doc) {
    const char *basepath = json_string_value(json_object_get(doc, "basepath"));
    const char *relpath = json_string_value(json_object_get(doc, "relpath"));
    const char *verb = json_string_value(json_object_get(doc, "verb"));
    if (!s || !ns || !basepath || !relpath || !verb) return store_fail("route_put: missing argument");
    char *text = json_dumps(doc, JSON_COMPACT);
    if (!text) return store_fail("route_put: cannot serialise the route");
    /* The bound is checked in the same statement as the insert: a route
     * that replaces one of the same key is always allowed. */
    const char *args[] = {ns, basepath, relpath, verb, text};
    int changes = 0;
    store_status st = run(s,
                          "INSERT OR REPLACE INTO api_routes(namespace, basepath, relpath, verb, doc) "
                          "SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT count(*) FROM api_routes WHERE namespace = ?1) < "
                          STR(STORE_ROUTES_MAX) " OR EXISTS (SELECT 1 FROM api_routes WHERE namespace = ?1 "
                          "AND basepath = ?2 AND relpath = ?3 AND verb = ?4)",
                          args, 5, NULL, &changes);
    free(text);
    if (st == STORE_OK && changes == 0) return STORE_CONFLICT;
    return st;
}

store_status store_route_list(store *s, const char *ns, const char *basepath, json_t **out) {
    *out = json_array();
    if (!*out) return store_fail("out of memory");
    const char *args[] = {ns, basepath};
    store_status st = run(s,
                          basepath ? "SELECT doc FROM api_routes WHERE namespace = ?1 AND basepath = ?2 "
                                     "ORDER BY basepath, relpath, verb"
                                   : "SELECT doc FROM api_routes WHERE namespace = ?1 ORDER BY basepath, relpath, verb",
                          args, basepath ? 2 : 1, *out, NULL);
    if (st != STORE_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return st;
}

store_status store_route_delete(store *s, const char *ns, const char *basepath, const char *relpath, const char *verb,
                                int *deleted) {
    const char *args[] = {ns, basepath, relpath ? relpath : "", verb ? verb : ""};
    *deleted = 0;
    return run(s,
               "DELETE FROM api_routes WHERE namespace = ?1 AND basepath = ?2 AND (?3 = '' OR relpath = ?3) "
               "AND (?4 = '' OR verb = ?4)",
               args, 4, NULL, deleted);
}
