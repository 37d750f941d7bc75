/* store_packages.c - package and binding documents (store_packages.h). A
 * package's actions are rows of `actions` named "pkg/action": they sort
 * between "pkg/" and "pkg0" ('0' follows '/'), so one index range finds
 * them. Statements are prepared per call: packages are written and listed
 * rarely, and the invoke path reads them only for packaged actions. */
#include "host/store/store_internal.h"
#include "host/store/store_packages.h"

#include "host/util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prepares sql on the shared connection (db_lock held); NULL on failure
 * with the store's last error set. */
static sqlite3_stmt *prepare(store *s, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        store_fail_db(s, "prepare package statement");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Binds the range of action names of package pkg: ?lo = "pkg/", ?hi = "pkg0". */
static int bind_range(sqlite3_stmt *st, int lo, int hi, const char *pkg) {
    size_t n = strlen(pkg);
    char *a = malloc(n + 2), *b = malloc(n + 2);
    if (!a || !b) { free(a); free(b); return -1; }
    memcpy(a, pkg, n); a[n] = '/'; a[n + 1] = '\0';
    memcpy(b, pkg, n); b[n] = '0'; b[n + 1] = '\0';
    sqlite3_bind_text(st, lo, a, -1, free);
    sqlite3_bind_text(st, hi, b, -1, free);
    return 0;
}

/* Actions of package pkg (lock held): their count, or -1. */
static long count_actions_locked(store *s, const char *ns, const char *pkg) {
    sqlite3_stmt *st = prepare(s, "SELECT count(*) FROM actions WHERE namespace = ?1 AND name >= ?2 AND name < ?3");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    long n = -1;
    if (bind_range(st, 2, 3, pkg) == 0 && sqlite3_step(st) == SQLITE_ROW) n = (long)sqlite3_column_int64(st, 0);
    if (n < 0) store_fail_db(s, "count package actions");
    sqlite3_finalize(st);
    return n;
}

int store_package_holds_actions_locked(store *s, const char *ns, const char *pkg) {
    sqlite3_stmt *st = prepare(s, "SELECT is_binding FROM packages WHERE namespace = ?1 AND name = ?2");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pkg, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) == 0 : rc == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return out;
}

/* One package row (lock held): 1 found (doc, version, is_binding set), 0
 * not, -1 error. */
static int read_locked(store *s, const char *ns, const char *name, json_t **doc, char version[64], int *is_binding) {
    sqlite3_stmt *st = prepare(s, "SELECT doc, version, is_binding FROM packages WHERE namespace = ?1 AND name = ?2");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        if (version) snprintf(version, 64, "%s", (const char *)sqlite3_column_text(st, 1));
        if (is_binding) *is_binding = sqlite3_column_int(st, 2);
        found = 1;
        if (doc && !(*doc = store_doc_decode(s, sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0)))) found = -1;
    } else if (rc != SQLITE_DONE) {
        store_fail_db(s, "read package");
        found = -1;
    }
    sqlite3_finalize(st);
    return found;
}

store_status store_package_put(store *s, const char *ns, const char *name, json_t *in, int is_binding,
                               int overwrite, json_t **stored) {
    if (stored) *stored = NULL;
    if (!s || !ns || !name || !json_is_object(in)) return store_fail("package_put: missing argument");
    pthread_mutex_lock(&s->db_lock);
    store_status out = store_begin(s);
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
        sqlite3_stmt *st = prepare(s, "INSERT OR REPLACE INTO packages(namespace, name, publish, is_binding, version, "
                                      "updated, doc) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        if (!st) out = STORE_ERROR;
        else {
            sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 3, json_is_true(json_object_get(doc, "publish")));
            sqlite3_bind_int(st, 4, is_binding != 0);
            sqlite3_bind_text(st, 5, version, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 6, json_integer_value(json_object_get(doc, "updated")));
            sqlite3_bind_text(st, 7, text, -1, SQLITE_STATIC);
            int rc = sqlite3_step(st);
            sqlite3_finalize(st);
            if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) out = STORE_NOT_FOUND, store_fail("namespace does not exist");
            else if (rc != SQLITE_DONE) out = store_fail_db(s, "write package");
        }
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
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = prepare(s, "SELECT doc FROM packages WHERE namespace = ?1 AND (?2 = 0 OR publish = 1) "
                                  "ORDER BY updated DESC, rowid DESC LIMIT ?3 OFFSET ?4");
    store_status res = STORE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, published_only != 0);
        sqlite3_bind_int(st, 3, limit > 0 ? limit : -1);
        sqlite3_bind_int(st, 4, skip > 0 ? skip : 0);
        res = store_collect_docs(s, st, "list packages", out);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

store_status store_package_delete(store *s, const char *ns, const char *name, json_t **deleted, size_t *held) {
    if (deleted) *deleted = NULL;
    if (held) *held = 0;
    if (!s || !ns || !name) return store_fail("package_delete: missing argument");
    pthread_mutex_lock(&s->db_lock);
    json_t *doc = NULL;
    store_status res = store_begin(s);
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
        sqlite3_stmt *st = prepare(s, "DELETE FROM packages WHERE namespace = ?1 AND name = ?2");
        if (!st) res = STORE_ERROR;
        else {
            sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) res = store_fail_db(s, "delete package");
            sqlite3_finalize(st);
        }
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
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = prepare(s, "SELECT json_remove(doc, '$.exec.code') FROM actions WHERE namespace = ?1 AND "
                                  "name >= ?2 AND name < ?3 ORDER BY updated DESC, rowid DESC LIMIT ?4 OFFSET ?5");
    store_status res = STORE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, limit > 0 ? limit : -1);
        sqlite3_bind_int(st, 5, skip > 0 ? skip : 0);
        res = bind_range(st, 2, 3, pkg) == 0 ? store_collect_docs(s, st, "list package actions", out)
                                             : store_fail("out of memory");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->db_lock);
    return res;
}
