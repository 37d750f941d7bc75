/* store_packages.c - package and binding documents (store_packages.h). A
 * package's actions are rows of `actions` named "pkg/action": they sort
 * between "pkg/" and "pkg0" ('0' follows '/'), so one index range finds
 * them. The invoke path reads packages only for packaged actions. */
#include "host/store/store_internal.h"
#include "host/store/store_packages.h"

#include "host/util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The range of action names of package pkg: lo = "pkg/", hi = "pkg0"
 * (malloc'd, freed by the caller). 0, or -1 out of memory. */
static int name_range(const char *pkg, char **lo, char **hi) {
    size_t n = strlen(pkg);
    *lo = malloc(n + 2);
    *hi = malloc(n + 2);
    if (!*lo || !*hi) { free(*lo); free(*hi); return -1; }
    memcpy(*lo, pkg, n); (*lo)[n] = '/'; (*lo)[n + 1] = '\0';
    memcpy(*hi, pkg, n); (*hi)[n] = '0'; (*hi)[n + 1] = '\0';
    return 0;
}

/* Actions of package pkg (lock held): their count, or -1. */
static long count_actions_locked(store *s, const char *ns, const char *pkg) {
    char *lo, *hi;
    if (name_range(pkg, &lo, &hi) < 0) {
        store_fail("out of memory");
        return -1;
    }
    store_val args[] = {SV_TEXT_(ns), SV_TEXT_(lo), SV_TEXT_(hi)};
    int64_t n = -1;
    if (store_run(s, Q_PKG_COUNT_ACTIONS, args, 3, store_row_int, &n, NULL) != SB_OK) n = -1;
    if (n < 0) store_fail_db(s, "count package actions");
    free(lo);
    free(hi);
    return (long)n;
}

int store_package_holds_actions_locked(store *s, const char *ns, const char *pkg) {
    store_val args[] = {SV_TEXT_(ns), SV_TEXT_(pkg)};
    int64_t is_binding = -1;
    if (store_run(s, Q_PKG_KIND, args, 2, store_row_int, &is_binding, NULL) != SB_OK) return -1;
    return is_binding == 0; /* -1: no such package */
}

/* A package row: document, version, and is_binding in column 2. */
typedef struct {
    store_doc_row row;
    int *is_binding;
} pkg_row;

static int read_pkg_row(void *ud, const store_val *cols, int ncols) {
    pkg_row *r = ud;
    if (ncols < 3) return 1;
    if (r->is_binding) *r->is_binding = cols[2].type == SV_INT && cols[2].i != 0;
    return store_row_doc(&r->row, cols, ncols);
}

/* One package row (lock held): 1 found (doc, version, is_binding set), 0
 * not, -1 error. */
static int read_locked(store *s, const char *ns, const char *name, json_t **doc, char version[64], int *is_binding) {
    store_val args[] = {SV_TEXT_(ns), SV_TEXT_(name)};
    pkg_row r = {{s, doc, version, 0}, is_binding};
    if (store_run(s, Q_PKG_GET, args, 2, read_pkg_row, &r, NULL) != SB_OK) {
        store_fail_db(s, "read package");
        return -1;
    }
    return r.row.found;
}

store_status store_package_put(store *s, const char *ns, const char *name, json_t *in, int is_binding,
                               int overwrite, json_t **stored) {
    if (stored) *stored = NULL;
    if (!s || !ns || !name || !json_is_object(in)) return store_fail("package_put: missing argument");
    pthread_mutex_lock(&s->db_lock);
    store_status out = store_begin_ns(s, ns);
    char prev[64], version[64];
    int was_binding = 0;
    json_t *doc = NULL;
    char *text = NULL;
    if (out == STORE_OK) {
        int found = read_locked(s, ns, name, NULL, prev, &was_binding);
        if (found < 0) out = STORE_ERROR;
        else if (found && (!overwrite || was_binding != is_binding))
            out = STORE_CONFLICT, store_fail(overwrite ? "a package cannot become a binding nor the reverse"
                                                       : "package exists already");
        else store_next_version(found ? prev : NULL, version);
    }
    if (out == STORE_OK) {
        json_t *own = json_pack("{s:s, s:s, s:s, s:I}", "namespace", ns, "name", name, "version", version, "updated",
                                (json_int_t)clock_wall_ms());
        doc = own ? json_deep_copy(in) : NULL;
        if (!doc || json_object_update(doc, own) != 0) { json_decref(doc); doc = NULL; }
        json_decref(own);
        text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        if (!text) out = store_fail("cannot build the package document (name not UTF-8, or out of memory)");
    }
    if (out == STORE_OK) {
        store_val args[] = {SV_TEXT_(ns), SV_TEXT_(name), SV_INT_(json_is_true(json_object_get(doc, "publish"))),
                            SV_INT_(is_binding != 0), SV_TEXT_(version),
                            SV_INT_(json_integer_value(json_object_get(doc, "updated"))), SV_TEXT_(text)};
        store_rc rc = store_run(s, Q_PKG_PUT, args, 7, NULL, NULL, NULL);
        if (rc == SB_FOREIGN_KEY) out = STORE_NOT_FOUND, store_fail("namespace does not exist");
        else if (rc != SB_OK) out = store_fail_db(s, "write package");
    }
    if (out == STORE_OK) out = store_commit(s);
    else store_rollback(s);
    pthread_mutex_unlock(&s->db_lock);
    free(text);
    if (out == STORE_OK && stored) *stored = doc;
    else json_decref(doc);
    return out;
}

store_status store_package_get(store *s, const char *ns, const char *name, json_t **out) {
    *out = NULL;
    if (!s || !ns || !name) return store_fail("package_get: missing argument");
    pthread_mutex_lock(&s->db_lock);
    int found = read_locked(s, ns, name, out, NULL, NULL);
    pthread_mutex_unlock(&s->db_lock);
    return found > 0 ? STORE_OK : found == 0 ? STORE_NOT_FOUND : STORE_ERROR;
}

store_status store_package_list(store *s, const char *ns, int published_only, int limit, int skip, json_t **out) {
    *out = NULL;
    if (!s || !ns) return store_fail("package_list: missing argument");
    store_val args[] = {SV_TEXT_(ns), SV_INT_(published_only != 0), SV_INT_(limit > 0 ? limit : -1),
                        SV_INT_(skip > 0 ? skip : 0)};
    pthread_mutex_lock(&s->db_lock);
    store_status res = store_collect_docs(s, Q_PKG_LIST, args, 4, 0, "list packages", out);
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

store_status store_package_delete(store *s, const char *ns, const char *name, json_t **deleted, size_t *held) {
    if (deleted) *deleted = NULL;
    if (held) *held = 0;
    if (!s || !ns || !name) return store_fail("package_delete: missing argument");
    pthread_mutex_lock(&s->db_lock);
    json_t *doc = NULL;
    store_status res = store_begin_ns(s, ns);
    if (res == STORE_OK) {
        int found = read_locked(s, ns, name, &doc, NULL, NULL);
        res = found > 0 ? STORE_OK : found == 0 ? STORE_NOT_FOUND : STORE_ERROR;
    }
    if (res == STORE_OK) { /* a binding holds no actions: none can be stored under it */
        long n = count_actions_locked(s, ns, name);
        if (n < 0) res = STORE_ERROR;
        else if (n > 0) {
            if (held) *held = (size_t)n;
            res = STORE_CONFLICT;
            store_fail("package holds actions");
        }
    }
    if (res == STORE_OK) {
        store_val args[] = {SV_TEXT_(ns), SV_TEXT_(name)};
        if (store_run(s, Q_PKG_DELETE, args, 2, NULL, NULL, NULL) != SB_OK) res = store_fail_db(s, "delete package");
    }
    if (res == STORE_OK) res = store_commit(s);
    else store_rollback(s);
    pthread_mutex_unlock(&s->db_lock);
    if (res == STORE_OK && deleted) *deleted = doc;
    else json_decref(doc);
    return res;
}

store_status store_package_actions(store *s, const char *ns, const char *pkg, int limit, int skip, json_t **out) {
    *out = NULL;
    if (!s || !ns || !pkg) return store_fail("package_actions: missing argument");
    char *lo, *hi;
    if (name_range(pkg, &lo, &hi) < 0) return store_fail("out of memory");
    store_val args[] = {SV_TEXT_(ns), SV_TEXT_(lo), SV_TEXT_(hi), SV_INT_(limit > 0 ? limit : -1),
                        SV_INT_(skip > 0 ? skip : 0)};
    pthread_mutex_lock(&s->db_lock);
    store_status res = store_collect_docs(s, Q_PKG_ACTIONS, args, 5, 1, "list package actions", out);
    pthread_mutex_unlock(&s->db_lock);
    free(lo);
    free(hi);
    return res;
}
