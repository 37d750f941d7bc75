/* store_cache.c - a small read cache in front of the two lookups every
 * invocation makes: credentials (store_authenticate) and the action document
 * (store_action_peek). Without it each invoke paid two database queries, a
 * SHA-256 and the parse of the whole action document, code included.
 *
 * Staleness: every write this store makes empties what it changed from the
 * cache after its commit (a namespace write all of it, an action write that
 * action's document: credentials and other actions stay, so creating an
 * action does not cost every tenant's next request a credential check and
 * a document read), so the API sees its own changes at once. Writes
 * by another process (`tfaas admin` on the same state directory, another
 * node on the same PostgreSQL) are noticed through the backend's
 * data_version (SQLite's PRAGMA data_version, PostgreSQL's NOTIFY), checked
 * at most every
 * STORE_CACHE_CHECK_MS: a revoked credential stops working within that bound.
 * A credential that is not cached checks at once (store_cache_check_now):
 * a namespace deleted and created again by `tfaas admin` under the same name
 * must not find the old one's action documents here. The namespace epoch
 * (store_namespace_epoch), which the server polls to notice deleted
 * namespaces and stop what they left running, moves with this store's
 * namespace writes and with every commit of another process (which may be
 * `tfaas admin namespace delete`); not with action writes, which cannot
 * end a namespace.
 *
 * Races: a lookup that read the database before a write committed must not
 * put the old value in after the write emptied the cache; entries carry the
 * cache generation seen before the read and are only stored if it is still
 * current. */
#include "host/store/store_internal.h"

#include "host/util/clock.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a, enough to spread keys over a direct-mapped table. */
static size_t slot_of(const char *a, const char *b) {
    uint64_t h = 1469598103934665603ull;
    for (const char *p = a; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ '/') * 1099511628211ull;
    for (const char *p = b ? b : ""; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (size_t)(h % STORE_CACHE_SLOTS);
}

static void slot_clear(store_cache_slot *c) {
    free(c->k1);
    free(c->k2);
    free(c->ns);
    json_decref(c->doc);
    memset(c, 0, sizeof *c);
}

/* cache_mu held. */
static void flush_locked(store *s) {
    s->cache_gen++;
    for (size_t i = 0; i < STORE_CACHE_SLOTS; i++) {
        if (s->auth_cache[i].k1) slot_clear(&s->auth_cache[i]);
        if (s->action_cache[i].k1) slot_clear(&s->action_cache[i]);
    }
}

void store_cache_forget_action(store *s, const char *ns, const char *name) {
    pthread_mutex_lock(&s->cache_mu);
    s->cache_gen++; /* a read of the old document, still running, keeps it to itself */
    store_cache_slot *c = &s->action_cache[slot_of(ns, name)];
    if (c->k1 && strcmp(c->k1, ns) == 0 && strcmp(c->k2, name) == 0) slot_clear(c);
    pthread_mutex_unlock(&s->cache_mu);
}

void store_cache_flush_namespaces(store *s) {
    pthread_mutex_lock(&s->cache_mu);
    flush_locked(s);
    s->ns_epoch++;
    pthread_mutex_unlock(&s->cache_mu);
}

/* Empties the cache if another process has committed since the last look. */
void store_cache_check_now(store *s) {
    pthread_mutex_lock(&s->db_lock);
    int64_t version = s->be->data_version(s->db);
    pthread_mutex_unlock(&s->db_lock);
    pthread_mutex_lock(&s->cache_mu);
    if (version < 0 || version != s->data_version) { /* unknown: assume changed */
        flush_locked(s);
        s->ns_epoch++;
    }
    s->data_version = version;
    pthread_mutex_unlock(&s->cache_mu);
}

/* Empties the cache when another process has committed since the last look,
 * looking at most every STORE_CACHE_CHECK_MS. Returns the generation a
 * lookup should remember. */
uint64_t store_cache_begin(store *s) {
    uint64_t now = clock_mono_us();
    pthread_mutex_lock(&s->cache_mu);
    int due = now - s->cache_checked_us >= (uint64_t)STORE_CACHE_CHECK_MS * 1000u;
    if (due) s->cache_checked_us = now;
    pthread_mutex_unlock(&s->cache_mu);
    if (due) store_cache_check_now(s);
    pthread_mutex_lock(&s->cache_mu);
    uint64_t gen = s->cache_gen;
    pthread_mutex_unlock(&s->cache_mu);
    return gen;
}

int store_cache_auth_get(store *s, const char *uuid, const unsigned char hash[32], char *ns_out, size_t ns_size,
                         char id_out[STORE_NSID_LEN + 1]) {
    store_cache_slot *c = &s->auth_cache[slot_of(uuid, NULL)];
    int hit = 0;
    pthread_mutex_lock(&s->cache_mu);
    if (c->k1 && strcmp(c->k1, uuid) == 0 && CRYPTO_memcmp(c->hash, hash, 32) == 0 && strlen(c->ns) < ns_size) {
        memcpy(ns_out, c->ns, strlen(c->ns) + 1);
        memcpy(id_out, c->k2, STORE_NSID_LEN + 1);
        hit = 1;
    }
    pthread_mutex_unlock(&s->cache_mu);
    return hit;
}

void store_cache_auth_put(store *s, uint64_t gen, const char *uuid, const unsigned char hash[32], const char *ns,
                          const char *ns_id) {
    char *k = strdup(uuid), *n = strdup(ns), *id = strdup(ns_id);
    if (!k || !n || !id) { free(k); free(n); free(id); return; }
    pthread_mutex_lock(&s->cache_mu);
    if (gen == s->cache_gen) {
        store_cache_slot *c = &s->auth_cache[slot_of(uuid, NULL)];
        slot_clear(c);
        c->k1 = k;
        c->k2 = id;
        c->ns = n;
        memcpy(c->hash, hash, 32);
        k = n = id = NULL;
    }
    pthread_mutex_unlock(&s->cache_mu);
    free(k);
    free(n);
    free(id);
}

json_t *store_cache_action_get(store *s, const char *ns, const char *name) {
    store_cache_slot *c = &s->action_cache[slot_of(ns, name)];
    json_t *doc = NULL;
    pthread_mutex_lock(&s->cache_mu);
    if (c->k1 && strcmp(c->k1, ns) == 0 && strcmp(c->k2, name) == 0) doc = json_incref(c->doc);
    pthread_mutex_unlock(&s->cache_mu);
    return doc;
}

void store_action_unpeek(store *s, json_t *doc) {
    if (!doc) return;
    if (!s) {
        json_decref(doc);
        return;
    }
    pthread_mutex_lock(&s->cache_mu);
    json_decref(doc);
    pthread_mutex_unlock(&s->cache_mu);
}

void store_cache_action_put(store *s, uint64_t gen, const char *ns, const char *name, json_t *doc) {
    char *k1 = strdup(ns), *k2 = strdup(name);
    if (!k1 || !k2) { free(k1); free(k2); return; }
    pthread_mutex_lock(&s->cache_mu);
    if (gen == s->cache_gen) {
        store_cache_slot *c = &s->action_cache[slot_of(ns, name)];
        slot_clear(c);
        c->k1 = k1;
        c->k2 = k2;
        c->doc = json_incref(doc);
        k1 = k2 = NULL;
    }
    pthread_mutex_unlock(&s->cache_mu);
    free(k1);
    free(k2);
}

int store_cache_init(store *s) {
    pthread_mutex_init(&s->cache_mu, NULL);
    s->auth_cache = calloc(STORE_CACHE_SLOTS, sizeof *s->auth_cache);
    s->action_cache = calloc(STORE_CACHE_SLOTS, sizeof *s->action_cache);
    s->data_version = -1;
    return s->auth_cache && s->action_cache ? 0 : -1;
}

void store_cache_free(store *s) {
    if (s->auth_cache && s->action_cache) flush_locked(s);
    free(s->auth_cache);
    free(s->action_cache);
    pthread_mutex_destroy(&s->cache_mu);
}
