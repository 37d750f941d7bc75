/* store_entities.h - triggers, rules and alarm schedules (issue 13 part B) in
 * the state database, beside store.h's namespaces, actions and activations.
 * Every function is thread-safe and every write is one committed transaction
 * before it returns (store.h's durability). Deleting a namespace deletes its
 * triggers, rules and alarms (foreign keys: store_sqlite_schema.c, store_pg_sql.c). */
#ifndef TFAAS_HOST_STORE_ENTITIES_H
#define TFAAS_HOST_STORE_ENTITIES_H

#include "host/store/store.h"

/* The kinds of namespace entity kept in the entities table; a table of
 * kinds, so packages or others could join without new functions. */
typedef enum {
    STORE_ENTITY_TRIGGER = 0,
    STORE_ENTITY_RULE,
    STORE_ENTITY_KINDS
} store_entity_kind;

/* Stores doc (an object, borrowed) as entity `name` of `kind` with
 * namespace, name, version ("0.0.1", its patch number increased by each
 * update) and updated (ms since the epoch) set. ref: what the entity refers
 * to, kept in its own column to be looked up by (a rule's trigger name);
 * NULL for none. STORE_CONFLICT when it exists and overwrite is 0;
 * STORE_NOT_FOUND when the namespace does not exist, or for a rule when its
 * trigger (ref) does not, checked in the write's transaction. *stored (may
 * be NULL): new reference to the stored document. */
store_status store_entity_put(store *s, store_entity_kind kind, const char *ns, const char *name, json_t *doc,
                              const char *ref, int overwrite, json_t **stored);
/* A namespace has at most this many entities of each kind (docs/api.md). */
#define STORE_ENTITIES_MAX 1000
/* store_entity_put that also refuses a new name when ns holds
 * STORE_ENTITIES_MAX entities of kind already: STORE_CONFLICT with *held
 * set to that count (0 for the other refusals). The count and the insert
 * run under the namespace's write lock, so the bound is exact across
 * processes and nodes. */
store_status store_entity_put_bounded(store *s, store_entity_kind kind, const char *ns, const char *name, json_t *doc,
                                      const char *ref, int overwrite, int64_t *held, json_t **stored);
store_status store_entity_get(store *s, store_entity_kind kind, const char *ns, const char *name, json_t **out);
/* Newest update first, like OpenWhisk's lists. */
store_status store_entity_list(store *s, store_entity_kind kind, const char *ns, int limit, int skip, json_t **out);
/* Deleting a trigger deletes its alarm schedule too and makes its rules
 * inactive, in the same transaction. *deleted (may be NULL): new reference to the removed document. */
store_status store_entity_delete(store *s, store_entity_kind kind, const char *ns, const char *name, json_t **deleted);
/* How many entities of `kind` the namespace has. */
store_status store_entity_count(store *s, store_entity_kind kind, const char *ns, int64_t *out);
/* The entities of `kind` whose ref is `ref` (a trigger's rules), by name. */
store_status store_entity_by_ref(store *s, store_entity_kind kind, const char *ns, const char *ref, json_t **out);

/* Alarm schedules: one per trigger. next_fire is the next firing time (ms
 * since the epoch); STORE_ALARM_NONE when it will not fire again (a `once`
 * that fired, a paused alarm). */
#define STORE_ALARM_NONE INT64_MIN
/* Creates (create_only) or replaces the schedule of ns/trigger. doc is
 * borrowed. STORE_CONFLICT: create_only and one exists; STORE_NOT_FOUND: the
 * trigger does not exist, or (replacing) it has no schedule: a schedule
 * deleted (through any node) after the caller read it stays deleted. */
store_status store_alarm_put(store *s, const char *ns, const char *trigger, json_t *doc, int64_t next_fire,
                             int create_only);
store_status store_alarm_get(store *s, const char *ns, const char *trigger, json_t **doc, int64_t *next_fire);
store_status store_alarm_delete(store *s, const char *ns, const char *trigger);
/* Up to max schedules due at `now`, earliest first: [{namespace, trigger,
 * next_fire, doc}]. */
store_status store_alarm_due(store *s, int64_t now, int max, json_t **out);
/* The earliest next_fire of any schedule, or STORE_ALARM_NONE. */
store_status store_alarm_earliest(store *s, int64_t *out);
/* Moves ns/trigger's schedule from `expected` to `next` if it still is at
 * `expected` (so a firing is claimed once, whoever else looks):
 * STORE_NOT_FOUND when it moved or went meanwhile. */
store_status store_alarm_advance(store *s, const char *ns, const char *trigger, int64_t expected, int64_t next);

#endif
