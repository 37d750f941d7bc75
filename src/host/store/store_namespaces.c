/* store_namespaces.c - namespaces and their credential uuid:key. The key is
 * kept only as its SHA-256: generated keys carry 64 random alphanumerics
 * (~380 bits), so a fast hash is enough; a leaked database does not reveal
 * them. Checks compare hashes in constant time. */
#include "host/store/store_internal.h"
#include "common/sha256.h"
#include "host/util/clock.h"
#include "host/util/ids.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define KEY_HASH_LEN 32

/* The digest is fetched once (common/sha256.h): EVP_sha256() looks the
 * implementation up again on every digest, which was half the cost of
 * checking a request's credentials. */
static int hash_key(const char *key, unsigned char out[KEY_HASH_LEN]) {
    const EVP_MD *md = sha256_md();
    unsigned int n = 0;
    if (!md || EVP_Digest(key, strlen(key), out, &n, md, NULL) != 1 || n != KEY_HASH_LEN) return -1;
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

    /* The namespace's id: random, so one created again under a deleted
     * one's name is another namespace. */
    char ns_id[STORE_NSID_LEN + 1];
    if (ids_hex(ns_id, STORE_NSID_LEN / 2) != 0) return store_fail("cannot draw a random namespace id");

    pthread_mutex_lock(&s->db_lock);
    store_val args[] = {SV_TEXT_(name), SV_TEXT_(uuid), SV_BLOB_(hash, KEY_HASH_LEN), SV_INT_(clock_wall_ms()),
                        SV_TEXT_(ns_id)};
    store_rc rc = store_run(s, Q_NS_INSERT, args, 5, NULL, NULL, NULL);
    store_status out = STORE_OK;
    if (rc == SB_PRIMARY_KEY || rc == SB_UNIQUE) {
        /* Name taken, or (astronomically unlikely unless given) uuid taken. */
        out = STORE_CONFLICT;
        store_fail(rc == SB_PRIMARY_KEY ? "namespace exists already" : "uuid is in use already");
    } else if (rc != SB_OK) {
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
    store_val args[] = {SV_TEXT_(name), SV_TEXT_(uuid), SV_BLOB_(hash, KEY_HASH_LEN)};
    int64_t changes = 0;
    store_rc rc = store_run(s, Q_NS_SET_CRED, args, 3, NULL, NULL, &changes);
    store_status out = STORE_OK;
    if (rc == SB_UNIQUE) out = STORE_CONFLICT, store_fail("uuid is in use by another namespace");
    else if (rc != SB_OK) out = store_fail_db(s, "set credential");
    else if (changes == 0) out = STORE_NOT_FOUND;
    pthread_mutex_unlock(&s->db_lock);
    store_cache_flush_namespaces(s); /* after the commit: see store_cache.c */
    return out;
}

store_status store_namespace_delete(store *s, const char *name) {
    if (!s || !name) return store_fail("namespace_delete: missing argument");
    pthread_mutex_lock(&s->db_lock);
    store_status out = store_begin(s);
    if (out == STORE_OK) {
        store_val args[] = {SV_TEXT_(name)};
        if (store_run(s, Q_NS_DELETE_ACTIVATIONS, args, 1, NULL, NULL, NULL) != SB_OK)
            out = store_fail_db(s, "delete activations");
        else store_retention_forget(s, name); /* summed again if the commit fails or a record follows */
    }
    if (out == STORE_OK) {
        /* Actions go with the namespace through their ON DELETE CASCADE key. */
        store_val args[] = {SV_TEXT_(name)};
        int64_t changes = 0;
        if (store_run(s, Q_NS_DELETE, args, 1, NULL, NULL, &changes) != SB_OK) out = store_fail_db(s, "delete namespace");
        else if (changes == 0) out = STORE_NOT_FOUND;
    }
    if (out == STORE_OK) out = store_commit(s);
    else store_rollback(s);
    pthread_mutex_unlock(&s->db_lock);
    store_cache_flush_namespaces(s); /* after the commit: see store_cache.c */
    return out;
}

typedef struct {
    json_t *arr;
    store_status res;
} ns_rows;

static int list_row(void *ud, const store_val *cols, int ncols) {
    ns_rows *r = ud;
    if (ncols < 2) return 1;
    json_t *name = cols[0].p ? json_stringn(cols[0].p, cols[0].n) : NULL;
    json_t *uuid = cols[1].p ? json_stringn(cols[1].p, cols[1].n) : NULL;
    /* A name that is not UTF-8 cannot be a JSON string; it is listed as null
     * rather than hiding the row (admin can still delete it by name). */
    json_t *entry = json_pack("{s:o?, s:o?}", "name", name, "uuid", uuid);
    if (!entry || json_array_append_new(r->arr, entry) != 0) {
        r->res = store_fail("out of memory");
        return 1;
    }
    return 0;
}

store_status store_namespace_list(store *s, json_t **out) {
    *out = NULL;
    if (!s) return store_fail("namespace_list: missing argument");
    ns_rows r = {json_array(), STORE_OK};
    if (!r.arr) return store_fail("out of memory");
    pthread_mutex_lock(&s->db_lock);
    if (store_run(s, Q_NS_LIST, NULL, 0, list_row, &r, NULL) != SB_OK && r.res == STORE_OK)
        r.res = store_fail_db(s, "list namespaces");
    pthread_mutex_unlock(&s->db_lock);
    if (r.res != STORE_OK) {
        json_decref(r.arr);
        return r.res;
    }
    *out = r.arr;
    return STORE_OK;
}

/* The row of a credential's uuid, checked against the key's hash. */
typedef struct {
    const unsigned char *hash;
    char *ns_out;
    size_t ns_size;
    char *id;
    store_status out;
} auth_row;

static int auth_read(void *ud, const store_val *cols, int ncols) {
    auth_row *r = ud;
    if (ncols < 3) return 1;
    const store_val *name = &cols[0], *stored = &cols[1], *nsid = &cols[2];
    if (stored->type != SV_BLOB || stored->n != KEY_HASH_LEN || CRYPTO_memcmp(stored->p, r->hash, KEY_HASH_LEN) != 0)
        return 1; /* STORE_NOT_FOUND */
    if (!name->p || !r->ns_out || name->n + 1 > r->ns_size) {
        r->out = store_fail("namespace name does not fit the caller's buffer");
    } else if (!nsid->p || nsid->n != STORE_NSID_LEN) {
        r->out = store_fail("namespace has no id");
    } else {
        memcpy(r->ns_out, name->p, name->n);
        r->ns_out[name->n] = '\0';
        memcpy(r->id, nsid->p, STORE_NSID_LEN);
        r->id[STORE_NSID_LEN] = '\0';
        r->out = STORE_OK;
    }
    return 1;
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
    store_val args[] = {SV_TEXT_(uuid)};
    auth_row r = {hash, ns_out, ns_size, id, STORE_NOT_FOUND};
    if (store_run(s, Q_NS_BY_UUID, args, 1, auth_read, &r, NULL) != SB_OK) r.out = store_fail_db(s, "authenticate");
    pthread_mutex_unlock(&s->db_lock);
    store_status out = r.out;
    int cache = out == STORE_OK;
    if (cache && id_out) memcpy(id_out, id, sizeof id);
    if (cache) store_cache_auth_put(s, gen, uuid, hash, ns_out, id); /* only successes are kept */
    return out;
}

store_status store_namespace_id_locked(store *s, const char *name, char id_out[STORE_NSID_LEN + 1]) {
    char id[64] = "";
    store_val args[] = {SV_TEXT_(name)};
    store_rc rc = store_run(s, Q_NS_ID, args, 1, store_row_text64, id, NULL);
    store_status out = rc != SB_OK ? store_fail_db(s, "look up a namespace")
                       : !id[0] ? STORE_NOT_FOUND
                       : strlen(id) <= STORE_NSID_LEN ? STORE_OK
                                                      : store_fail("namespace has a malformed id");
    if (out == STORE_OK) strcpy(id_out, id);
    return out;
}

store_status store_namespace_id(store *s, const char *name, char id_out[STORE_NSID_LEN + 1]) {
    if (!s || !name || !id_out) return store_fail("namespace_id: missing argument");
    pthread_mutex_lock(&s->db_lock);
    store_status out = store_namespace_id_locked(s, name, id_out);
    pthread_mutex_unlock(&s->db_lock);
    return out;
}

store_status store_namespace_alive_locked(store *s, const char *name, const char *ns_id) {
    char id[STORE_NSID_LEN + 1];
    store_status st = store_namespace_id_locked(s, name, id);
    return st == STORE_OK && strcmp(id, ns_id) != 0 ? STORE_NOT_FOUND : st;
}

store_status store_namespace_alive(store *s, const char *name, const char *ns_id) {
    if (!s || !name || !ns_id) return store_fail("namespace_alive: missing argument");
    pthread_mutex_lock(&s->db_lock);
    store_status st = store_namespace_alive_locked(s, name, ns_id);
    pthread_mutex_unlock(&s->db_lock);
    return st;
}

uint64_t store_namespace_epoch(store *s) {
    (void)store_cache_begin(s); /* looks for other processes' commits when due */
    pthread_mutex_lock(&s->cache_mu);
    uint64_t epoch = s->ns_epoch;
    pthread_mutex_unlock(&s->cache_mu);
    return epoch;
}
