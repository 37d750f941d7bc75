/* store_namespaces.c - namespaces and their credential uuid:key. The key is
 * kept only as its SHA-256: generated keys carry 64 random alphanumerics
 * (~380 bits), so a fast hash is enough; a leaked database does not reveal
 * them. Checks compare hashes in constant time. */
#include "host/store/store_internal.h"
#include "host/util/clock.h"
#include "host/util/ids.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define KEY_HASH_LEN 32

static int hash_key(const char *key, unsigned char out[KEY_HASH_LEN]) {
    unsigned int n = 0;
    if (EVP_Digest(key, strlen(key), out, &n, EVP_sha256(), NULL) != 1 || n != KEY_HASH_LEN) return -1;
    return 0;
}

/* The credential shape the gateway's basic-auth parser can handle: the uuid
 * has no ':' (the separator) and both fit the documented buffers. */
static store_status check_credential(const char *uuid, const char *key) {
    size_t ul = strlen(uuid), kl = strlen(key);
    if (ul == 0 || ul > STORE_UUID_LEN || strchr(uuid, ':'))
        return store_fail("credential uuid must be 1..%d characters without ':'", STORE_UUID_LEN);
    if (kl == 0 || kl > STORE_KEY_LEN) return store_fail("credential key must be 1..%d characters", STORE_KEY_LEN);
    return STORE_OK;
}

store_status store_namespace_create(store *s, const char *name, const char *uuid, const char *key,
                                    char uuid_out[STORE_UUID_LEN + 1], char key_out[STORE_KEY_LEN + 1]) {
    if (!s || !name) return store_fail("namespace_create: missing argument");
    char gen_uuid[STORE_UUID_LEN + 1], gen_key[STORE_KEY_LEN + 1];
    if (!uuid) {
        if (ids_uuid(gen_uuid) != 0) return store_fail("cannot draw a random uuid");
        uuid = gen_uuid;
    }
    if (!key) {
        if (ids_secret(gen_key, STORE_KEY_LEN) != 0) return store_fail("cannot draw a random key");
        key = gen_key;
    }
    if (check_credential(uuid, key) != STORE_OK) return STORE_ERROR;
    unsigned char hash[KEY_HASH_LEN];
    if (hash_key(key, hash) != 0) return store_fail("SHA-256 failed");

    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = s->st[ST_NS_INSERT];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, hash, KEY_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, clock_wall_ms());
    int rc = store_step_done(st);
    store_status out = STORE_OK;
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        /* Name taken, or (astronomically unlikely unless given) uuid taken. */
        out = STORE_CONFLICT;
        store_fail(rc == SQLITE_CONSTRAINT_PRIMARYKEY ? "namespace exists already" : "uuid is in use already");
    } else if (rc != SQLITE_DONE) {
        out = store_fail_db(s, "create namespace");
    }
    pthread_mutex_unlock(&s->db_lock);
    store_cache_flush_namespaces(s); /* after the commit: see store_cache.c */
    if (out == STORE_OK) {
        if (uuid_out) memcpy(uuid_out, uuid, strlen(uuid) + 1);
        if (key_out) memcpy(key_out, key, strlen(key) + 1);
    }
    OPENSSL_cleanse(gen_key, sizeof gen_key);
    return out;
}

store_status store_namespace_set_credential(store *s, const char *name, const char *uuid, const char *key) {
    if (!s || !name || !uuid || !key) return store_fail("namespace_set_credential: missing argument");
    if (check_credential(uuid, key) != STORE_OK) return STORE_ERROR;
    unsigned char hash[KEY_HASH_LEN];
    if (hash_key(key, hash) != 0) return store_fail("SHA-256 failed");

    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = s->st[ST_NS_SET_CRED];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, hash, KEY_HASH_LEN, SQLITE_STATIC);
    int rc = store_step_done(st);
    store_status out = STORE_OK;
    if (rc == SQLITE_CONSTRAINT_UNIQUE) out = STORE_CONFLICT, store_fail("uuid is in use by another namespace");
    else if (rc != SQLITE_DONE) out = store_fail_db(s, "set credential");
    else if (sqlite3_changes(s->db) == 0) out = STORE_NOT_FOUND;
    pthread_mutex_unlock(&s->db_lock);
    store_cache_flush_namespaces(s); /* after the commit: see store_cache.c */
    return out;
}

store_status store_namespace_delete(store *s, const char *name) {
    if (!s || !name) return store_fail("namespace_delete: missing argument");
    pthread_mutex_lock(&s->db_lock);
    store_status out = store_begin(s);
    if (out == STORE_OK) {
        sqlite3_stmt *st = s->st[ST_NS_DELETE_ACTIVATIONS];
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (store_step_done(st) != SQLITE_DONE) out = store_fail_db(s, "delete activations");
    }
    if (out == STORE_OK) {
        /* Actions go with the namespace through their ON DELETE CASCADE key. */
        sqlite3_stmt *st = s->st[ST_NS_DELETE];
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (store_step_done(st) != SQLITE_DONE) out = store_fail_db(s, "delete namespace");
        else if (sqlite3_changes(s->db) == 0) out = STORE_NOT_FOUND;
    }
    if (out == STORE_OK) out = store_commit(s);
    else store_rollback(s);
    pthread_mutex_unlock(&s->db_lock);
    store_cache_flush_namespaces(s); /* after the commit: see store_cache.c */
    return out;
}

store_status store_namespace_list(store *s, json_t **out) {
    *out = NULL;
    if (!s) return store_fail("namespace_list: missing argument");
    json_t *arr = json_array();
    if (!arr) return store_fail("out of memory");
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = s->st[ST_NS_LIST];
    store_status res = STORE_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *name = json_stringn((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        json_t *uuid = json_stringn((const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1));
        /* A name that is not UTF-8 cannot be a JSON string; it is listed as null
         * rather than hiding the row (admin can still delete it by name). */
        json_t *entry = json_pack("{s:o?, s:o?}", "name", name, "uuid", uuid);
        if (!entry || json_array_append_new(arr, entry) != 0) {
            res = store_fail("out of memory");
            break;
        }
    }
    if (res == STORE_OK && rc != SQLITE_DONE) res = store_fail_db(s, "list namespaces");
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->db_lock);
    if (res != STORE_OK) {
        json_decref(arr);
        return res;
    }
    *out = arr;
    return STORE_OK;
}

store_status store_authenticate(store *s, const char *uuid, const char *key, char *ns_out, size_t ns_size,
                                char id_out[STORE_NSID_LEN + 1]) {
    if (!s || !uuid || !key) return STORE_NOT_FOUND;
    unsigned char hash[KEY_HASH_LEN];
    if (hash_key(key, hash) != 0) return store_fail("SHA-256 failed");
    (void)store_cache_begin(s); /* the periodic look for other processes' changes */
    char id[STORE_NSID_LEN + 1];
    if (ns_out && store_cache_auth_get(s, uuid, hash, ns_out, ns_size, id)) {
        if (id_out) memcpy(id_out, id, sizeof id);
        return STORE_OK;
    }
    /* A credential the cache does not know may be a namespace another
     * process has just created in place of a deleted one: empty the cache of
     * the old one's documents before this one reads any. */
    store_cache_check_now(s);
    uint64_t gen = store_cache_begin(s);

    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = s->st[ST_NS_BY_UUID];
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    store_status out = STORE_NOT_FOUND;
    int cache = 0;
    if (rc == SQLITE_ROW) {
        const void *stored = sqlite3_column_blob(st, 1);
        int stored_len = sqlite3_column_bytes(st, 1);
        if (stored && stored_len == KEY_HASH_LEN && CRYPTO_memcmp(stored, hash, KEY_HASH_LEN) == 0) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            size_t len = (size_t)sqlite3_column_bytes(st, 0);
            const char *nsid = (const char *)sqlite3_column_text(st, 2);
            if (!name || !ns_out || len + 1 > ns_size) {
                out = store_fail("namespace name does not fit the caller's buffer");
            } else if (!nsid || (size_t)sqlite3_column_bytes(st, 2) != STORE_NSID_LEN) {
                out = store_fail("namespace has no id");
            } else {
                memcpy(ns_out, name, len + 1);
                memcpy(id, nsid, STORE_NSID_LEN + 1);
                if (id_out) memcpy(id_out, id, sizeof id);
                out = STORE_OK;
                cache = 1;
            }
        }
    } else if (rc != SQLITE_DONE) {
        out = store_fail_db(s, "authenticate");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&s->db_lock);
    if (cache) store_cache_auth_put(s, gen, uuid, hash, ns_out, id); /* only successes are kept */
    return out;
}

store_status store_namespace_id(store *s, const char *name, char id_out[STORE_NSID_LEN + 1]) {
    if (!s || !name || !id_out) return store_fail("namespace_id: missing argument");
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = s->st[ST_NS_ID];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    const unsigned char *id = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    store_status out = rc == SQLITE_ROW && id && strlen((const char *)id) <= STORE_NSID_LEN ? STORE_OK
                       : rc == SQLITE_DONE                                                   ? STORE_NOT_FOUND
                                           : store_fail_db(s, "look up a namespace");
    if (out == STORE_OK) strcpy(id_out, (const char *)id);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&s->db_lock);
    return out;
}

store_status store_namespace_alive(store *s, const char *name, const char *ns_id) {
    if (!s || !name || !ns_id) return store_fail("namespace_alive: missing argument");
    char id[STORE_NSID_LEN + 1];
    store_status st = store_namespace_id(s, name, id);
    return st == STORE_OK && strcmp(id, ns_id) != 0 ? STORE_NOT_FOUND : st;
}

uint64_t store_namespace_epoch(store *s) {
    (void)store_cache_begin(s); /* looks for other processes' commits when due */
    pthread_mutex_lock(&s->cache_mu);
    uint64_t epoch = s->ns_epoch;
    pthread_mutex_unlock(&s->cache_mu);
    return epoch;
}
