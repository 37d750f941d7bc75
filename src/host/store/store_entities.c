/* store_entities.c - triggers and rules (the entities table, by kind) and
 * alarm schedules; see store_entities.h. These are rare writes and small
 * reads, so each call prepares its statement rather than adding to the
 * shared statement table (store_internal.h) that the hot paths use. All of
 * it runs under db_lock, like the actions. */
#include "host/store/store_entities.h"
#include "host/store/store_internal.h"
#include "host/util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sqlite3_stmt *prepare(store *s, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        store_fail_db(s, "prepare");
        return NULL;
    }
    return st;
}

/* Reads one entity (lock held): 1 found (*doc, *version set; version may be
 * NULL), 0 not, -1 error. */
static int entity_read(store *s, store_entity_kind kind, const char *ns, const char *name, json_t **doc,
                       char version[64]) {
    sqlite3_stmt *st = prepare(s, "SELECT doc, version FROM entities WHERE namespace = ?1 AND kind = ?2 AND name = ?3");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)kind);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        if (version) snprintf(version, 64, "%s", (const char *)sqlite3_column_text(st, 1));
        found = 1;
        if (doc && !(*doc = store_doc_decode(s, sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0)))) found = -1;
    } else if (rc != SQLITE_DONE) {
        store_fail_db(s, "read entity");
        found = -1;
    }
    sqlite3_finalize(st);
    return found;
}

store_status store_entity_put(store *s, store_entity_kind kind, const char *ns, const char *name, json_t *in,
                              const char *ref, int overwrite, json_t **stored) {
    if (stored) *stored = NULL;
    if (!s || !ns || !name || !json_is_object(in) || kind >= STORE_ENTITY_KINDS)
        return store_fail("entity_put: missing argument or doc is not an object");
    pthread_mutex_lock(&s->db_lock);
    store_status out = store_begin(s);
    char prev[64], version[64];
    json_t *doc = NULL;
    char *text = NULL;
    if (out == STORE_OK) {
        int found = entity_read(s, kind, ns, name, NULL, prev);
        if (found < 0) out = STORE_ERROR;
        else if (found && !overwrite) out = STORE_CONFLICT, store_fail("entity exists already");
        else store_next_version(found ? prev : NULL, version);
    }
    if (out == STORE_OK) {
        int64_t now = clock_wall_ms();
        doc = json_deep_copy(in);
        /* json_pack-free: a name that is not UTF-8 fails json_string */
        if (!doc || json_object_set_new(doc, "namespace", json_string(ns)) < 0 ||
            json_object_set_new(doc, "name", json_string(name)) < 0 ||
            json_object_set_new(doc, "version", json_string(version)) < 0 ||
            json_object_set_new(doc, "updated", json_integer(now)) < 0 ||
            !(text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY)))
            out = store_fail("cannot build the document (name not UTF-8, or out of memory)");
    }
    if (out == STORE_OK) {
        sqlite3_stmt *st = prepare(s, "INSERT OR REPLACE INTO entities(namespace, kind, name, version, updated, ref, doc)"
                                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        if (!st) out = STORE_ERROR;
        else {
            sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 2, (int)kind);
            sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, version, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 5, json_integer_value(json_object_get(doc, "updated")));
            if (ref) sqlite3_bind_text(st, 6, ref, -1, SQLITE_STATIC);
            else sqlite3_bind_null(st, 6);
            sqlite3_bind_text(st, 7, text, -1, SQLITE_STATIC);
            int rc = sqlite3_step(st);
            if ((rc & 0xff) == SQLITE_CONSTRAINT) /* the primary key is replaced: the namespace's key */
                out = STORE_NOT_FOUND, store_fail("namespace does not exist");
            else if (rc != SQLITE_DONE) out = store_fail_db(s, "write entity");
            sqlite3_finalize(st);
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

store_status store_entity_get(store *s, store_entity_kind kind, const char *ns, const char *name, json_t **out) {
    *out = NULL;
    if (!s || !ns || !name) return store_fail("entity_get: missing argument");
    pthread_mutex_lock(&s->db_lock);
    int found = entity_read(s, kind, ns, name, out, NULL);
    pthread_mutex_unlock(&s->db_lock);
    return found < 0 ? STORE_ERROR : found ? STORE_OK : STORE_NOT_FOUND;
}

store_status store_entity_list(store *s, store_entity_kind kind, const char *ns, int limit, int skip, json_t **out) {
    *out = NULL;
    if (!s || !ns) return store_fail("entity_list: missing argument");
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = prepare(s, "SELECT doc FROM entities WHERE namespace = ?1 AND kind = ?2 "
                                  "ORDER BY updated DESC, name LIMIT ?3 OFFSET ?4");
    store_status res = STORE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)kind);
        sqlite3_bind_int(st, 3, limit > 0 ? limit : -1); /* SQLite: a negative LIMIT is no limit */
        sqlite3_bind_int(st, 4, skip > 0 ? skip : 0);
        res = store_collect_docs(s, st, "list entities", out);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

store_status store_entity_count(store *s, store_entity_kind kind, const char *ns, int64_t *out) {
    *out = 0;
    if (!s || !ns) return store_fail("entity_count: missing argument");
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = prepare(s, "SELECT count(*) FROM entities WHERE namespace = ?1 AND kind = ?2");
    store_status res = STORE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)kind);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            res = STORE_OK;
        } else {
            store_fail_db(s, "count entities");
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

store_status store_entity_by_ref(store *s, store_entity_kind kind, const char *ns, const char *ref, json_t **out) {
    *out = NULL;
    if (!s || !ns || !ref) return store_fail("entity_by_ref: missing argument");
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = prepare(s, "SELECT doc FROM entities WHERE namespace = ?1 AND kind = ?2 AND ref = ?3 ORDER BY name");
    store_status res = STORE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)kind);
        sqlite3_bind_text(st, 3, ref, -1, SQLITE_STATIC);
        res = store_collect_docs(s, st, "entities by reference", out);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

/* Runs sql with ?1 ns, ?2 name (lock held); 0, or -1 with the error set. */
static int exec_ns_name(store *s, const char *sql, const char *ns, const char *name, int *changes) {
    sqlite3_stmt *st = prepare(s, sql);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        store_fail_db(s, "delete");
        return -1;
    }
    if (changes) *changes = sqlite3_changes(s->db);
    return 0;
}

store_status store_entity_delete(store *s, store_entity_kind kind, const char *ns, const char *name,
                                 json_t **deleted) {
    if (deleted) *deleted = NULL;
    if (!s || !ns || !name || kind >= STORE_ENTITY_KINDS) return store_fail("entity_delete: missing argument");
    static const char *const DELETE_SQL[STORE_ENTITY_KINDS] = {
        [STORE_ENTITY_TRIGGER] = "DELETE FROM entities WHERE namespace = ?1 AND kind = 0 AND name = ?2",
        [STORE_ENTITY_RULE] = "DELETE FROM entities WHERE namespace = ?1 AND kind = 1 AND name = ?2",
    };
    pthread_mutex_lock(&s->db_lock);
    json_t *doc = NULL;
    store_status res = store_begin(s);
    if (res == STORE_OK) {
        int found = entity_read(s, kind, ns, name, &doc, NULL);
        res = found < 0 ? STORE_ERROR : found ? STORE_OK : STORE_NOT_FOUND;
    }
    if (res == STORE_OK && exec_ns_name(s, DELETE_SQL[kind], ns, name, NULL) < 0) res = STORE_ERROR;
    /* A deleted trigger's schedule must not fire a trigger of the same name
     * created later. */
    if (res == STORE_OK && kind == STORE_ENTITY_TRIGGER &&
        exec_ns_name(s, "DELETE FROM alarms WHERE namespace = ?1 AND trigger = ?2", ns, name, NULL) < 0)
        res = STORE_ERROR;
    /* Its rules become inactive: a trigger created again under the name
     * does not run them until they are enabled (OpenWhisk's links go with
     * the trigger document). */
    if (res == STORE_OK && kind == STORE_ENTITY_TRIGGER &&
        exec_ns_name(s, "UPDATE entities SET doc = json_set(doc, '$.status', 'inactive') "
                        "WHERE namespace = ?1 AND kind = 1 AND ref = ?2", ns, name, NULL) < 0)
        res = STORE_ERROR;
    if (res == STORE_OK) res = store_commit(s);
    else store_rollback(s);
    pthread_mutex_unlock(&s->db_lock);
    if (res == STORE_OK && deleted) *deleted = doc;
    else json_decref(doc);
    return res;
}

/* --- alarms ---------------------------------------------------------------- */

static void bind_next(sqlite3_stmt *st, int i, int64_t next) {
    if (next == STORE_ALARM_NONE) sqlite3_bind_null(st, i);
    else sqlite3_bind_int64(st, i, next);
}

store_status store_alarm_put(store *s, const char *ns, const char *trigger, json_t *doc, int64_t next_fire,
                             int create_only) {
    if (!s || !ns || !trigger || !json_is_object(doc)) return store_fail("alarm_put: missing argument");
    char *text = json_dumps(doc, JSON_COMPACT);
    if (!text) return store_fail("out of memory");
    pthread_mutex_lock(&s->db_lock);
    store_status res = store_begin(s);
    if (res == STORE_OK) {
        int found = entity_read(s, STORE_ENTITY_TRIGGER, ns, trigger, NULL, NULL);
        if (found < 0) res = STORE_ERROR;
        else if (!found) res = STORE_NOT_FOUND, store_fail("trigger does not exist");
    }
    sqlite3_stmt *st = NULL;
    if (res == STORE_OK)
        st = prepare(s, create_only ? "INSERT INTO alarms(namespace, trigger, next_fire, doc) VALUES (?1, ?2, ?3, ?4)"
                                    : "INSERT OR REPLACE INTO alarms(namespace, trigger, next_fire, doc) "
                                      "VALUES (?1, ?2, ?3, ?4)");
    if (res == STORE_OK && !st) res = STORE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, trigger, -1, SQLITE_STATIC);
        bind_next(st, 3, next_fire);
        sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if ((rc & 0xff) == SQLITE_CONSTRAINT) res = STORE_CONFLICT, store_fail("the trigger has a schedule already");
        else if (rc != SQLITE_DONE) res = store_fail_db(s, "write alarm");
        sqlite3_finalize(st);
    }
    if (res == STORE_OK) res = store_commit(s);
    else store_rollback(s);
    pthread_mutex_unlock(&s->db_lock);
    free(text);
    return res;
}

store_status store_alarm_get(store *s, const char *ns, const char *trigger, json_t **doc, int64_t *next_fire) {
    *doc = NULL;
    if (!s || !ns || !trigger) return store_fail("alarm_get: missing argument");
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = prepare(s, "SELECT doc, next_fire FROM alarms WHERE namespace = ?1 AND trigger = ?2");
    store_status res = STORE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, trigger, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *doc = store_doc_decode(s, sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0));
            if (next_fire)
                *next_fire = sqlite3_column_type(st, 1) == SQLITE_NULL ? STORE_ALARM_NONE : sqlite3_column_int64(st, 1);
            res = *doc ? STORE_OK : STORE_ERROR;
        } else if (rc == SQLITE_DONE) {
            res = STORE_NOT_FOUND;
        } else {
            store_fail_db(s, "read alarm");
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

store_status store_alarm_delete(store *s, const char *ns, const char *trigger) {
    if (!s || !ns || !trigger) return store_fail("alarm_delete: missing argument");
    pthread_mutex_lock(&s->db_lock);
    int changes = 0;
    int rc = exec_ns_name(s, "DELETE FROM alarms WHERE namespace = ?1 AND trigger = ?2", ns, trigger, &changes);
    pthread_mutex_unlock(&s->db_lock);
    return rc < 0 ? STORE_ERROR : changes ? STORE_OK : STORE_NOT_FOUND;
}

store_status store_alarm_due(store *s, int64_t now, int max, json_t **out) {
    *out = NULL;
    if (!s) return store_fail("alarm_due: missing argument");
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = prepare(s, "SELECT json_object('namespace', namespace, 'trigger', trigger, 'next_fire', next_fire,"
                                  " 'doc', json(doc)) FROM alarms WHERE next_fire IS NOT NULL AND next_fire <= ?1"
                                  " ORDER BY next_fire LIMIT ?2");
    store_status res = STORE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int(st, 2, max);
        res = store_collect_docs(s, st, "due alarms", out);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

store_status store_alarm_earliest(store *s, int64_t *out) {
    *out = STORE_ALARM_NONE;
    if (!s) return store_fail("alarm_earliest: missing argument");
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = prepare(s, "SELECT min(next_fire) FROM alarms WHERE next_fire IS NOT NULL");
    store_status res = STORE_ERROR;
    if (st) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            if (sqlite3_column_type(st, 0) != SQLITE_NULL) *out = sqlite3_column_int64(st, 0);
            res = STORE_OK;
        } else {
            store_fail_db(s, "earliest alarm");
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

store_status store_alarm_advance(store *s, const char *ns, const char *trigger, int64_t expected, int64_t next) {
    if (!s || !ns || !trigger) return store_fail("alarm_advance: missing argument");
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = prepare(s, "UPDATE alarms SET next_fire = ?3 WHERE namespace = ?1 AND trigger = ?2 "
                                  "AND next_fire = ?4");
    store_status res = STORE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, trigger, -1, SQLITE_STATIC);
        bind_next(st, 3, next);
        sqlite3_bind_int64(st, 4, expected);
        int rc = sqlite3_step(st); /* one statement: its own committed transaction */
        if (rc != SQLITE_DONE) store_fail_db(s, "advance alarm");
        else res = sqlite3_changes(s->db) ? STORE_OK : STORE_NOT_FOUND;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->db_lock);
    return res;
}
