/* store.h - the host's durable state: namespaces with their credentials,
 * actions, activations, in SQLite (WAL, the default) or PostgreSQL, behind
 * the backend table of store_backend.h. Every function is thread-safe.
 *
 * Documents are jansson objects in OpenWhisk's JSON shapes, so the gateway
 * can return them as they are. Acknowledged writes survive a kill -9 of the
 * process: action writes are committed before the call returns; activation
 * writes are group-committed by a background writer and the caller is told
 * (callback) once its record is durable. The store never interprets code. */
#ifndef TFAAS_HOST_STORE_H
#define TFAAS_HOST_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store;

typedef enum {
    STORE_OK = 0,
    STORE_NOT_FOUND,
    STORE_CONFLICT,  /* exists already and no overwrite was asked for */
    STORE_ERROR,     /* the database failed (disk full, read-only, corrupt, gone): see store_last_error */
} store_status;

#define STORE_UUID_LEN 36 /* canonical 8-4-4-4-12 text */
#define STORE_KEY_LEN  64 /* 64 characters [A-Za-z0-9] */
#define STORE_NSID_LEN 16 /* a namespace's id: 16 lowercase hex digits */

/* Opens the store of target: a postgresql:// or postgres:// URL (libpq's
 * syntax; the schema is created on first use), or a state directory whose
 * DIR/tfaas.db (SQLite) is created if needed. On failure returns
 * STORE_ERROR and a malloc'd message in *err (never the URL, which may carry
 * a password). */
store_status store_open(const char *target, store **out, char **err);
/* Flushes queued activation writes, then closes. NULL is a no-op. */
void store_close(store *s);
/* Message of the last STORE_ERROR on this thread's latest call (static storage). */
const char *store_last_error(void);

/* Namespaces. A namespace has exactly one credential uuid:key; the key is kept
 * only as a SHA-256 hash. uuid/key NULL: generate them (from the OS CSPRNG)
 * and write them to uuid_out/key_out (buffers of LEN + 1). */
store_status store_namespace_create(store *s, const char *name, const char *uuid, const char *key,
                                    char uuid_out[STORE_UUID_LEN + 1], char key_out[STORE_KEY_LEN + 1]);
/* Replaces the credential of an existing namespace (tfaas serve --guest-auth). */
store_status store_namespace_set_credential(store *s, const char *name, const char *uuid, const char *key);
/* Deleting a namespace deletes its actions and activations (and its
 * triggers, rules and alarm schedules, store_entities.h). */
store_status store_namespace_delete(store *s, const char *name);
/* out: new reference to [{"name":..., "uuid":...}, ...] sorted by name. */
store_status store_namespace_list(store *s, json_t **out);
/* STORE_OK and the namespace name in ns_out when uuid:key is a valid
 * credential; STORE_NOT_FOUND otherwise. Compares in constant time. id_out
 * (may be NULL) gets the namespace's id: random, fixed when it was created,
 * never the same for a namespace deleted and created again under its name.
 * Answers from the read cache when it can: changes another process makes
 * are seen within STORE_CACHE_CHECK_MS (50 ms), this store's own at once; a
 * credential not in the cache looks for such changes first, so the first
 * request of a namespace created by another process never meets cached
 * documents of a deleted namespace of the same name. */
store_status store_authenticate(store *s, const char *uuid, const char *key, char *ns_out, size_t ns_size,
                                char id_out[STORE_NSID_LEN + 1]);
/* STORE_OK and its id in id_out when namespace `name` exists (reads the
 * database, not the cache; the public confidential route names namespaces
 * without credentials), STORE_NOT_FOUND when it does not. */
store_status store_namespace_id(store *s, const char *name, char id_out[STORE_NSID_LEN + 1]);
/* STORE_OK when namespace `name` exists with id `ns_id` (reads the
 * database, not the cache), STORE_NOT_FOUND when it does not (deleted, or
 * created again: a new id). */
store_status store_namespace_alive(store *s, const char *name, const char *ns_id);
/* A number that changes whenever namespaces may have changed: with every
 * write of this store to namespaces, and when another process (`tfaas
 * admin`) has committed, noticed within STORE_CACHE_CHECK_MS of the calls.
 * Cheap: poll it, and look closer when it moves. */
uint64_t store_namespace_epoch(store *s);

/* Actions. store_action_put takes {exec, parameters, annotations, limits}
 * already validated by the caller and stores it with namespace, name,
 * version ("0.0.1", the patch number increased by each update), publish
 * false and updated (ms since epoch). *stored (may be NULL): new reference to
 * the stored document. Writes of one namespace are serialised across
 * processes and nodes too (store_begin_ns): each gets its own version, and
 * of concurrent creates without overwrite one wins (the others
 * STORE_CONFLICT). */
store_status store_action_put(store *s, const char *ns, const char *name, json_t *doc, int overwrite,
                              json_t **stored);
store_status store_action_get(store *s, const char *ns, const char *name, json_t **out);
/* Newest-updated first, like OpenWhisk; entries omit exec.code. */
/* Like store_action_get, but *out is shared and must not be changed (it may
 * come from the read cache, see store_cache.c); for the invoke path. Release
 * it with store_action_unpeek, not json_decref. */
store_status store_action_peek(store *s, const char *ns, const char *name, json_t **out);
/* Drops a store_action_peek reference (NULL is fine) under the cache's lock:
 * a cache flush may drop the last one, and jansson's decrement alone would
 * not order that free after this thread's reads. */
void store_action_unpeek(store *s, json_t *doc);
store_status store_action_list(store *s, const char *ns, int limit, int skip, json_t **out);
/* *deleted (may be NULL): new reference to the document that was removed. */
store_status store_action_delete(store *s, const char *ns, const char *name, json_t **deleted);

/* API routes (store_routes.c): a route document {basepath, relpath, verb,
 * action, responsetype, ...} under its namespace. route_put replaces the
 * one with the same basepath, relpath and verb; route_list gives every
 * route of ns (only those of basepath when not NULL), ordered by basepath,
 * relpath, verb; route_delete removes those of basepath (only relpath's,
 * only verb's, when given) and says how many in *deleted. */
#define STORE_ROUTES_MAX 1000 /* per namespace: route_put answers STORE_CONFLICT past it */
/* The key service's shared state (store_kms.c): one blob only key services
 * open, and its generation. get: *blob malloc'd and *generation, or
 * STORE_NOT_FOUND (none stored yet). put: stores blob as generation
 * `generation` if the store still holds `expect` (0: none), else
 * STORE_CONFLICT (another node's write came first). */
store_status store_kms_state_get(store *s, int64_t *generation, uint8_t **blob, size_t *len);
store_status store_kms_state_put(store *s, int64_t expect, int64_t generation, const uint8_t *blob, size_t len);

store_status store_route_put(store *s, const char *ns, const json_t *doc);
store_status store_route_list(store *s, const char *ns, const char *basepath, json_t **out);
store_status store_route_delete(store *s, const char *ns, const char *basepath, const char *relpath, const char *verb,
                                int *deleted);

/* Activations. The record is an OpenWhisk activation document that carries
 * at least "namespace", "name", "activationId", "start" and "end".
 * store_activation_put steals the reference, queues the record for the next
 * group commit and returns at once; `committed` (may be NULL) is then called
 * once, from the writer thread (or at the end of the caller's commit
 * section, below), with STORE_OK, STORE_NOT_FOUND (ns_id given
 * and the namespace that ran it no longer exists: nothing was stored) or
 * STORE_ERROR. ns_id NULL stores it under the namespace's name, unchecked. */
typedef void (*store_committed_fn)(void *ud, store_status st);
void store_activation_put(store *s, json_t *record, const char *ns_id, store_committed_fn committed, void *ud);
/* The same record already written as text by its producer (the gateway
 * writes each record once: activation_record.h), kept as it is: `text` the
 * whole document, `summary` its list entry (docs=false: no response or
 * logs: text[cut_at .. cut_at + cut_len) cut out, cut_len 0 when it is not
 * known where), and the columns the store indexes. The producer vouches that
 * they agree with the text. store_activation_put_text takes ownership of
 * rec (freed with store_record_text_free) and behaves as
 * store_activation_put. */
typedef struct {
    char *text, *summary;
    size_t text_len;
    size_t cut_at, cut_len;
    char *id, *ns, *name;
    int64_t start, end;
    int status_code; /* OpenWhisk's 0-3 */
} store_record_text;
void store_activation_put_text(store *s, store_record_text *rec, const char *ns_id, store_committed_fn committed,
                               void *ud);
void store_record_text_free(store_record_text *rec);
/* A commit section of the calling thread: between begin and end, this
 * thread's store_activation_put calls for s are collected, and end commits
 * them itself in one transaction and calls their `committed` callbacks (on
 * this thread). For a thread that finishes a burst of activations at once
 * (the scheduler's reader of an enclave): the records are durable without
 * waking the writer thread, a wake-up per burst less. Sections do not nest;
 * more than STORE_SECTION_MAX records are committed as they come. */
void store_activation_section_begin(store *s);
void store_activation_section_end(store *s);
store_status store_activation_get(store *s, const char *ns, const char *id, json_t **out);
/* Retention of activation records, applied by the writer thread: a
 * namespace keeps at most max_count records and max_bytes bytes of them
 * (the oldest go first; the newest record is always kept), trimmed back to
 * them once a commit takes it 1/64 of either over (store_retention.c), and
 * about once a minute records that started more than max_age_ms ago are
 * deleted. 0 in a field: no limit of that kind. */
typedef struct {
    int64_t max_age_ms;
    uint64_t max_count;
    int64_t max_bytes;
} store_retention;
void store_set_retention(store *s, const store_retention *r);
/* One page of a listing as the stored JSON texts, never parsed: n documents
 * (docs[i], lens[i] bytes each, malloc'd). The page ends at `limit`
 * documents, or before the document that would take it past max_bytes
 * (truncated set then); it holds at least one document if any matches. */
typedef struct {
    char **docs;
    size_t *lens;
    size_t n, bytes;
    size_t cap; /* room in docs and lens */
    int truncated;
} store_page;
store_status store_activation_page(store *s, const char *ns, const char *name, int limit, int skip, int64_t since,
                                   int64_t upto, int docs, size_t max_bytes, store_page *out);
void store_page_free(store_page *p);
/* Newest first. name may be NULL (all); since/upto are ms bounds on start, 0
 * for none. docs=0 leaves out response, logs and annotations' large parts. */
store_status store_activation_list(store *s, const char *ns, const char *name, int limit, int skip,
                                   int64_t since, int64_t upto, int docs, json_t **out);

#endif
