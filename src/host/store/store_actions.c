/* store_actions.c - action documents: create/update with OpenWhisk's
 * semantic version bump, get, list (newest update first, without code) and
 * delete. Each write is one committed transaction before the call returns. */
#include "host/store/store_internal.h"
#include "host/util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "a.b.c" -> "a.b.(c+1)". A version that does not parse (it is our own data,
 * so only a hand-edited database) starts over at 0.0.1 instead of failing. */
void store_next_version(const char *prev, char out[64]) {
    unsigned long a, b, c;
    char tail;
    if (!prev || sscanf(prev, "%lu.%lu.%lu%c", &a, &b, &c, &tail) != 3 || c >= 999999999UL) {
        snprintf(out, 64, "0.0.1");
        return;
    }
    snprintf(out, 64, "%lu.%lu.%lu", a, b, c + 1);
}

/* Looks up one action (lock held): 1 found (*doc, version set when not
 * NULL), 0 not, -1 error (last error set). */
static int read_action(store *s, const char *ns, const char *name, json_t **doc, char version[64]) {
    store_val args[] = {SV_TEXT_(ns), SV_TEXT_(name)};
    store_doc_row r = {s, doc, version, 0};
    if (store_run(s, Q_ACT_GET, args, 2, store_row_doc, &r, NULL) != SB_OK) {
        store_fail_db(s, "read action");
        return -1;
    }
    return r.found;
}

/* The next version of a write (lock held, transaction open); an action in a
 * package ("pkg/name") also needs that package, not a binding, to exist in
 * the same transaction, so it cannot land in one deleted meanwhile
 * (STORE_NOT_FOUND). */
static void next_version_checked(store *s, const char *ns, const char *name, const char *prev, char version[64],
                                 store_status *out) {
    const char *slash = strchr(name, '/');
    if (slash) {
        char *pkg = strndup(name, (size_t)(slash - name));
        int held = pkg ? store_package_holds_actions_locked(s, ns, pkg) : -1;
        free(pkg);
        if (held < 0) { *out = store_fail_db(s, "read package"); return; }
        if (!held) { *out = STORE_NOT_FOUND; store_fail("package does not exist"); return; }
    }
    store_next_version(prev, version);
}

/* The stored document: the caller's fields (exec, parameters, annotations,
 * limits, and anything else it chose to keep) plus the store's own. An
 * action in a package, stored as "pkg/name", is OpenWhisk's document of
 * name "name" in namespace "ns/pkg". */
static json_t *build_doc(const char *ns, const char *name, json_t *in, const char *version, int64_t updated) {
    const char *slash = strchr(name, '/');
    char *path = slash ? malloc(strlen(ns) + 1 + (size_t)(slash - name) + 1) : NULL;
    if (slash && !path) return NULL;
    if (path) sprintf(path, "%s/%.*s", ns, (int)(slash - name), name);
    /* json_pack refuses text that is not UTF-8: such names cannot be stored. */
    json_t *own = json_pack("{s:s, s:s, s:s, s:b, s:I}", "namespace", path ? path : ns, "name",
                            slash ? slash + 1 : name, "version", version, "publish", 0, "updated",
                            (json_int_t)updated);
    free(path);
    json_t *doc = own ? json_deep_copy(in) : NULL;
    if (!doc || json_object_update(doc, own) != 0) {
        json_decref(doc);
        doc = NULL;
    }
    json_decref(own);
    return doc;
}

store_status store_action_put(store *s, const char *ns, const char *name, json_t *in, int overwrite,
                              json_t **stored) {
    if (stored) *stored = NULL;
    if (!s || !ns || !name || !json_is_object(in)) return store_fail("action_put: missing argument or doc is not an object");

    pthread_mutex_lock(&s->db_lock);
    store_status out = store_begin_ns(s, ns);
    json_t *doc = NULL;
    char *text = NULL;
    char prev[64], version[64];
    if (out == STORE_OK) {
        int found = read_action(s, ns, name, NULL, prev);
        if (found < 0) out = STORE_ERROR;
        else if (found && !overwrite) out = STORE_CONFLICT, store_fail("action exists already");
        else next_version_checked(s, ns, name, found ? prev : NULL, version, &out);
    }
    if (out == STORE_OK) {
        doc = build_doc(ns, name, in, version, clock_wall_ms());
        text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        if (!text) out = store_fail("cannot build the action document (name not UTF-8, or out of memory)");
    }
    if (out == STORE_OK) {
        store_val args[] = {SV_TEXT_(ns), SV_TEXT_(name), SV_TEXT_(version),
                            SV_INT_(json_integer_value(json_object_get(doc, "updated"))), SV_TEXT_(text)};
        store_rc rc = store_run(s, Q_ACT_PUT, args, 5, NULL, NULL, NULL);
        if (rc == SB_FOREIGN_KEY) out = STORE_NOT_FOUND, store_fail("namespace does not exist");
        else if (rc != SB_OK) out = store_fail_db(s, "write action");
    }
    if (out == STORE_OK) out = store_commit(s);
    else store_rollback(s);
    pthread_mutex_unlock(&s->db_lock);
    store_cache_forget_action(s, ns, name); /* after the commit: see store_cache.c */
    free(text);
    if (out == STORE_OK && stored) *stored = doc;
    else json_decref(doc);
    return out;
}

/* Reads one action document (lock held). */
static store_status get_locked(store *s, const char *ns, const char *name, json_t **out) {
    int found = read_action(s, ns, name, out, NULL);
    return found > 0 ? STORE_OK : found == 0 ? STORE_NOT_FOUND : STORE_ERROR;
}

store_status store_action_get(store *s, const char *ns, const char *name, json_t **out) {
    *out = NULL;
    if (!s || !ns || !name) return store_fail("action_get: missing argument");
    pthread_mutex_lock(&s->db_lock);
    store_status res = get_locked(s, ns, name, out);
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

store_status store_action_peek(store *s, const char *ns, const char *name, json_t **out) {
    *out = NULL;
    if (!s || !ns || !name) return store_fail("action_peek: missing argument");
    uint64_t gen = store_cache_begin(s);
    if ((*out = store_cache_action_get(s, ns, name))) return STORE_OK;
    pthread_mutex_lock(&s->db_lock);
    store_status res = get_locked(s, ns, name, out);
    pthread_mutex_unlock(&s->db_lock);
    if (res == STORE_OK) store_cache_action_put(s, gen, ns, name, *out);
    return res;
}

store_status store_action_list(store *s, const char *ns, int limit, int skip, json_t **out) {
    *out = NULL;
    if (!s || !ns) return store_fail("action_list: missing argument");
    pthread_mutex_lock(&s->db_lock);
    /* A negative limit is none, in every backend's statement. */
    store_val args[] = {SV_TEXT_(ns), SV_INT_(limit > 0 ? limit : -1), SV_INT_(skip > 0 ? skip : 0)};
    store_status res = store_collect_docs(s, Q_ACT_LIST, args, 3, 1, "list actions", out);
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

store_status store_action_delete(store *s, const char *ns, const char *name, json_t **deleted) {
    if (deleted) *deleted = NULL;
    if (!s || !ns || !name) return store_fail("action_delete: missing argument");
    pthread_mutex_lock(&s->db_lock);
    json_t *doc = NULL;
    store_status res = store_begin(s);
    if (res == STORE_OK) res = get_locked(s, ns, name, &doc);
    if (res == STORE_OK) {
        store_val args[] = {SV_TEXT_(ns), SV_TEXT_(name)};
        if (store_run(s, Q_ACT_DELETE, args, 2, NULL, NULL, NULL) != SB_OK) res = store_fail_db(s, "delete action");
    }
    if (res == STORE_OK) res = store_commit(s);
    else store_rollback(s);
    pthread_mutex_unlock(&s->db_lock);
    store_cache_forget_action(s, ns, name); /* after the commit: see store_cache.c */
    if (res == STORE_OK && deleted) *deleted = doc;
    else json_decref(doc);
    return res;
}
