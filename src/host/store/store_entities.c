/* store_entities.c - triggers and rules (the entities table, by kind) and
 * alarm schedules; see store_entities.h. All of it runs under db_lock on
 * the main connection, like the actions. */
#include "host/store/store_entities.h"
#include "host/store/store_internal.h"
#include "host/util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An alarm row: its document, and its next fire time in column 1. */
typedef struct {
    store_doc_row row;
    int64_t next_fire;
} alarm_row;

static int read_alarm_row(void *ud, const store_val *cols, int ncols) {
    alarm_row *r = ud;
    r->next_fire = ncols > 1 && cols[1].type == SV_INT ? cols[1].i : STORE_ALARM_NONE;
    return store_row_doc(&r->row, cols, 1);
}

/* Reads one entity (lock held): 1 found (*doc, *version set; version may be
 * NULL), 0 not, -1 error. */
static int entity_read(store *s, store_entity_kind kind, const char *ns, const char *name, json_t **doc,
                       char version[64]) {
    store_val args[] = {SV_TEXT_(ns), SV_INT_(kind), SV_TEXT_(name)};
    store_doc_row r = {s, doc, version, 0};
    if (store_run(s, Q_ENT_GET, args, 3, store_row_doc, &r, NULL) != SB_OK) {
        store_fail_db(s, "read entity");
        return -1;
    }
    return r.found;
}

/* Whether ns has room for one more entity of kind (lock held, namespace
 * locked): 1, or 0 with *held the count, or -1 (error set). */
static int entity_room_locked(store *s, store_entity_kind kind, const char *ns, int64_t *held) {
    store_val args[] = {SV_TEXT_(ns), SV_INT_(kind)};
    int64_t n = 0;
    if (store_run(s, Q_ENT_COUNT, args, 2, store_row_int, &n, NULL) != SB_OK) {
        store_fail_db(s, "count entities");
        return -1;
    }
    if (n < STORE_ENTITIES_MAX) return 1;
    *held = n;
    store_fail("the namespace holds the most entities of this kind it may");
    return 0;
}

store_status store_entity_put(store *s, store_entity_kind kind, const char *ns, const char *name, json_t *in,
                              const char *ref, int overwrite, json_t **stored) {
    return store_entity_put_bounded(s, kind, ns, name, in, ref, overwrite, NULL, stored);
}

store_status store_entity_put_bounded(store *s, store_entity_kind kind, const char *ns, const char *name, json_t *in,
                                      const char *ref, int overwrite, int64_t *held, json_t **stored) {
    if (stored) *stored = NULL;
    if (held) *held = 0;
    if (!s || !ns || !name || !json_is_object(in) || kind >= STORE_ENTITY_KINDS)
        return store_fail("entity_put: missing argument or doc is not an object");
    pthread_mutex_lock(&s->db_lock);
    store_status out = store_begin_ns(s, ns);
    char prev[64], version[64];
    json_t *doc = NULL;
    char *text = NULL;
    if (out == STORE_OK) {
        int found = entity_read(s, kind, ns, name, NULL, prev);
        if (found < 0) out = STORE_ERROR;
        else if (found && !overwrite) out = STORE_CONFLICT, store_fail("entity exists already");
        else {
            int room = found || !held ? 1 : entity_room_locked(s, kind, ns, held);
            if (room < 0) out = STORE_ERROR;
            else if (!room) out = STORE_CONFLICT;
            else store_next_version(found ? prev : NULL, version);
        }
    }
    /* A rule's trigger must exist now, under the lock a trigger's delete
     * takes too: a rule written while its trigger is deleted elsewhere would
     * stay active (the delete makes only the rules it sees inactive). */
    if (out == STORE_OK && kind == STORE_ENTITY_RULE && ref) {
        int has = entity_read(s, STORE_ENTITY_TRIGGER, ns, ref, NULL, NULL);
        if (has < 0) out = STORE_ERROR;
        else if (!has) out = STORE_NOT_FOUND, store_fail("the rule's trigger does not exist");
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
        store_val args[] = {SV_TEXT_(ns), SV_INT_(kind), SV_TEXT_(name), SV_TEXT_(version),
                            SV_INT_(json_integer_value(json_object_get(doc, "updated"))), SV_TEXT_(ref),
                            SV_TEXT_(text)};
        store_rc rc = store_run(s, Q_ENT_PUT, args, 7, NULL, NULL, NULL);
        if (SB_IS_CONSTRAINT(rc)) /* the primary key is replaced: the namespace's key */
            out = STORE_NOT_FOUND, store_fail("namespace does not exist");
        else if (rc != SB_OK) out = store_fail_db(s, "write entity");
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
    store_val args[] = {SV_TEXT_(ns), SV_INT_(kind), SV_INT_(limit > 0 ? limit : -1), SV_INT_(skip > 0 ? skip : 0)};
    pthread_mutex_lock(&s->db_lock);
    store_status res = store_collect_docs(s, Q_ENT_LIST, args, 4, 0, "list entities", out);
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

store_status store_entity_count(store *s, store_entity_kind kind, const char *ns, int64_t *out) {
    *out = 0;
    if (!s || !ns) return store_fail("entity_count: missing argument");
    store_val args[] = {SV_TEXT_(ns), SV_INT_(kind)};
    pthread_mutex_lock(&s->db_lock);
    store_status res = store_run(s, Q_ENT_COUNT, args, 2, store_row_int, out, NULL) == SB_OK
                           ? STORE_OK : store_fail_db(s, "count entities");
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

store_status store_entity_by_ref(store *s, store_entity_kind kind, const char *ns, const char *ref, json_t **out) {
    *out = NULL;
    if (!s || !ns || !ref) return store_fail("entity_by_ref: missing argument");
    store_val args[] = {SV_TEXT_(ns), SV_INT_(kind), SV_TEXT_(ref)};
    pthread_mutex_lock(&s->db_lock);
    store_status res = store_collect_docs(s, Q_ENT_BY_REF, args, 3, 0, "entities by reference", out);
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

/* Runs q with ?1 ns, ?2 name and ?3 a kind when kind >= 0 (lock held); 0,
 * or -1 with the error set. */
static int exec_ns_name(store *s, store_query q, const char *ns, const char *name, int kind, int64_t *changes) {
    store_val args[] = {SV_TEXT_(ns), SV_TEXT_(name), SV_INT_(kind)};
    if (store_run(s, q, args, kind >= 0 ? 3 : 2, NULL, NULL, changes) != SB_OK) {
        store_fail_db(s, "delete");
        return -1;
    }
    return 0;
}

store_status store_entity_delete(store *s, store_entity_kind kind, const char *ns, const char *name,
                                 json_t **deleted) {
    if (deleted) *deleted = NULL;
    if (!s || !ns || !name || kind >= STORE_ENTITY_KINDS) return store_fail("entity_delete: missing argument");
    pthread_mutex_lock(&s->db_lock);
    json_t *doc = NULL;
    store_status res = store_begin_ns(s, ns);
    if (res == STORE_OK) {
        int found = entity_read(s, kind, ns, name, &doc, NULL);
        res = found < 0 ? STORE_ERROR : found ? STORE_OK : STORE_NOT_FOUND;
    }
    if (res == STORE_OK && exec_ns_name(s, Q_ENT_DELETE, ns, name, (int)kind, NULL) < 0) res = STORE_ERROR;
    /* A deleted trigger's schedule must not fire a trigger of the same name
     * created later. */
    if (res == STORE_OK && kind == STORE_ENTITY_TRIGGER && exec_ns_name(s, Q_ALARM_DELETE, ns, name, -1, NULL) < 0)
        res = STORE_ERROR;
    /* Its rules become inactive: a trigger created again under the name
     * does not run them until they are enabled (OpenWhisk's links go with
     * the trigger document). */
    if (res == STORE_OK && kind == STORE_ENTITY_TRIGGER &&
        exec_ns_name(s, Q_RULES_DEACTIVATE, ns, name, STORE_ENTITY_RULE, NULL) < 0)
        res = STORE_ERROR;
    if (res == STORE_OK) res = store_commit(s);
    else store_rollback(s);
    pthread_mutex_unlock(&s->db_lock);
    if (res == STORE_OK && deleted) *deleted = doc;
    else json_decref(doc);
    return res;
}

/* --- alarms ---------------------------------------------------------------- */

static store_val next_val(int64_t next) {
    return next == STORE_ALARM_NONE ? (store_val){.type = SV_NULL} : SV_INT_(next);
}

store_status store_alarm_put(store *s, const char *ns, const char *trigger, json_t *doc, int64_t next_fire,
                             int create_only) {
    if (!s || !ns || !trigger || !json_is_object(doc)) return store_fail("alarm_put: missing argument");
    char *text = json_dumps(doc, JSON_COMPACT);
    if (!text) return store_fail("out of memory");
    pthread_mutex_lock(&s->db_lock);
    store_status res = store_begin_ns(s, ns);
    if (res == STORE_OK) {
        int found = entity_read(s, STORE_ENTITY_TRIGGER, ns, trigger, NULL, NULL);
        if (found < 0) res = STORE_ERROR;
        else if (!found) res = STORE_NOT_FOUND, store_fail("trigger does not exist");
    }
    if (res == STORE_OK) {
        store_val args[] = {SV_TEXT_(ns), SV_TEXT_(trigger), next_val(next_fire), SV_TEXT_(text)};
        int64_t changes = 0;
        store_rc rc = store_run(s, create_only ? Q_ALARM_INSERT : Q_ALARM_REPLACE, args, 4, NULL, NULL, &changes);
        if (SB_IS_CONSTRAINT(rc)) res = STORE_CONFLICT, store_fail("the trigger has a schedule already");
        else if (rc != SB_OK) res = store_fail_db(s, "write alarm");
        else if (!changes) res = STORE_NOT_FOUND, store_fail("the trigger has no schedule");
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
    alarm_row r = {{s, doc, NULL, 0}, STORE_ALARM_NONE};
    store_val args[] = {SV_TEXT_(ns), SV_TEXT_(trigger)};
    pthread_mutex_lock(&s->db_lock);
    store_status res = store_run(s, Q_ALARM_GET, args, 2, read_alarm_row, &r, NULL) != SB_OK
                           ? store_fail_db(s, "read alarm")
                           : r.row.found > 0 ? STORE_OK : r.row.found == 0 ? STORE_NOT_FOUND : STORE_ERROR;
    pthread_mutex_unlock(&s->db_lock);
    if (res == STORE_OK && next_fire) *next_fire = r.next_fire;
    return res;
}

store_status store_alarm_delete(store *s, const char *ns, const char *trigger) {
    if (!s || !ns || !trigger) return store_fail("alarm_delete: missing argument");
    pthread_mutex_lock(&s->db_lock);
    int64_t changes = 0;
    int rc = exec_ns_name(s, Q_ALARM_DELETE, ns, trigger, -1, &changes);
    pthread_mutex_unlock(&s->db_lock);
    return rc < 0 ? STORE_ERROR : changes ? STORE_OK : STORE_NOT_FOUND;
}

store_status store_alarm_due(store *s, int64_t now, int max, json_t **out) {
    *out = NULL;
    if (!s) return store_fail("alarm_due: missing argument");
    store_val args[] = {SV_INT_(now), SV_INT_(max)};
    pthread_mutex_lock(&s->db_lock);
    store_status res = store_collect_docs(s, Q_ALARM_DUE, args, 2, 0, "due alarms", out);
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

store_status store_alarm_earliest(store *s, int64_t *out) {
    *out = STORE_ALARM_NONE;
    if (!s) return store_fail("alarm_earliest: missing argument");
    pthread_mutex_lock(&s->db_lock);
    store_status res = store_run(s, Q_ALARM_EARLIEST, NULL, 0, store_row_int, out, NULL) == SB_OK
                           ? STORE_OK : store_fail_db(s, "earliest alarm");
    pthread_mutex_unlock(&s->db_lock);
    return res;
}

store_status store_alarm_advance(store *s, const char *ns, const char *trigger, int64_t expected, int64_t next) {
    if (!s || !ns || !trigger) return store_fail("alarm_advance: missing argument");
    store_val args[] = {SV_TEXT_(ns), SV_TEXT_(trigger), next_val(next), SV_INT_(expected)};
    int64_t changes = 0;
    pthread_mutex_lock(&s->db_lock);
    /* one statement: its own committed transaction */
    store_status res = store_run(s, Q_ALARM_ADVANCE, args, 4, NULL, NULL, &changes) != SB_OK
                           ? store_fail_db(s, "advance alarm")
                           : changes ? STORE_OK : STORE_NOT_FOUND;
    pthread_mutex_unlock(&s->db_lock);
    return res;
}
