/* store_routes.c - API routes (the api_routes table, schema step 4): put,
 * list and delete the route documents of a namespace. The bound of
 * STORE_ROUTES_MAX per namespace is checked in the backend's insert
 * statement itself, under the namespace's write lock (store_begin_ns): two
 * nodes adding the last route at once would otherwise both count one
 * below the bound. */
#include "host/store/store_internal.h"

#include <stdlib.h>
#include <string.h>

/* Runs q with text parameters args[0..n) under db_lock; for a SELECT each
 * row's first column (a JSON document) is appended to rows. Changes made
 * are counted into *changes when not NULL. */
static store_status run(store *s, store_query q, const char *const *args, int n, json_t *rows, int *changes) {
    store_val vals[5];
    for (int i = 0; i < n && i < 5; i++) vals[i] = SV_TEXT_(args[i]);
    pthread_mutex_lock(&s->db_lock);
    store_status out = STORE_OK;
    int64_t changed = 0;
    if (rows) {
        json_t *got = NULL;
        out = store_collect_docs(s, q, vals, n, 0, "run a route statement", &got);
        if (out == STORE_OK) json_array_extend(rows, got);
        json_decref(got);
    } else if (store_run(s, q, vals, n, NULL, NULL, &changed) != SB_OK) {
        out = store_fail_db(s, "run a route statement");
    }
    if (out == STORE_OK && changes) *changes = (int)changed;
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
    store_val args[] = {SV_TEXT_(ns), SV_TEXT_(basepath), SV_TEXT_(relpath), SV_TEXT_(verb), SV_TEXT_(text)};
    int64_t changes = 0;
    pthread_mutex_lock(&s->db_lock);
    store_status st = store_begin_ns(s, ns);
    if (st == STORE_OK && store_run(s, Q_ROUTE_PUT, args, 5, NULL, NULL, &changes) != SB_OK)
        st = store_fail_db(s, "run a route statement");
    if (st == STORE_OK) st = store_commit(s);
    else store_rollback(s);
    pthread_mutex_unlock(&s->db_lock);
    free(text);
    if (st == STORE_OK && changes == 0) return STORE_CONFLICT;
    return st;
}

store_status store_route_list(store *s, const char *ns, const char *basepath, json_t **out) {
    *out = json_array();
    if (!*out) return store_fail("out of memory");
    const char *args[] = {ns, basepath};
    store_status st = run(s, basepath ? Q_ROUTE_LIST_BASE : Q_ROUTE_LIST, args, basepath ? 2 : 1, *out, NULL);
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
    return run(s, Q_ROUTE_DELETE, args, 4, NULL, deleted);
}
