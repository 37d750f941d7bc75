/* kms.c - the key service (tfaas-kms): its keys, deploys and key releases; see kms.h. */
#include "trusted/kms/kms.h"

#include "common/aead_box.h"
#include "common/b64url.h"
#include "common/evidence.h"
#include "common/hkdf.h"
#include "common/hpke.h"
#include "common/ipc.h"
#include "common/json_depth.h"
#include "common/jws.h"
#include "common/labels.h"
#include "common/ohttp.h"
#include "common/p256.h"
#include "common/policy.h"
#include "trusted/kms/kms_transfer.h"
#include "trusted/main_common.h"
#include "trusted/tee.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_VERSION 1
#define STATE_VERSION 1
/* Functions whose latest deploy version the KMS remembers; a deploy of a
 * function beyond them is refused (docs/api.md, limits). Sized so that the
 * sealed state fits TEE_MAX_SEALED (16 MiB) in the worst case: a version
 * entry (about 533 bytes with a 256-character namespace and name) and a
 * lease entry (about 590) per function. */
#define KMS_MAX_FUNCTIONS 14336u
/* A function record sealed under the record key (record_seal), which every
 * KMS holding the same keys derives, rather than tee_seal's key of this
 * platform: a record stored through one node opens on the others. */
#define RECORD_MAGIC "TFR1"
#define RECORD_MAGIC_LEN 4u
#define SHARED_MAGIC "TFK1" /* the shared state (state_share) */

typedef struct {
    EVP_PKEY *signing;   /* ES256 */
    hpke_keypair hpke;   /* X25519 */
    int ready;
    char *evidence;      /* quote over both public keys, made once per start */
    size_t evidence_len;
    char *signing_jwk;
    char kid[P256_THUMBPRINT_LEN + 1]; /* thumbprint of the signing key */
    /* "ns/name" -> latest deploy version accepted (JSON integer). Sealed
     * after every deploy and handed back by the host at init, so a replayed
     * or older package is refused across KMS restarts too. */
    json_t *versions;
    /* "ns/name" -> the function's latest replay lease {"from", "until"
     * (Dates, seconds), "holder" (the worker's X25519 key, b64url)}: a
     * release to another worker starts after `until`. Sealed with the
     * versions after every release. */
    json_t *leases;
    uint8_t record_key[32]; /* HKDF of the X25519 private key (record_seal, state_share) */
    /* The shared state (docs/architecture.md, "The key service on several
     * nodes"): generation counts the state's changes; floor is the highest
     * generation this KMS synced (IPC_KMS_SYNC) or shared (state_share),
     * below which no shared blob is taken again while it runs (a host
     * rolling the store back). */
    json_int_t generation, floor;
    kms_join join;          /* a joining KMS between its hello and the answer */
} kms_state;

static void state_free(kms_state *s) {
    EVP_PKEY_free(s->signing);
    hpke_keypair_wipe(&s->hpke);
    free(s->evidence);
    free(s->signing_jwk);
    json_decref(s->versions);
    json_decref(s->leases);
    kms_join_wipe(&s->join);
    OPENSSL_cleanse(s->record_key, sizeof s->record_key);
    memset(s, 0, sizeof *s);
}

/* Sealed-blob plaintext: u8 version || u16le der_len || PKCS#8 DER of the
 * signing key || X25519 private key (32). */
static int keys_serialize(const kms_state *s, uint8_t **out, size_t *len) {
    size_t der_len = 0;
    uint8_t *der = p256_private_der(s->signing, &der_len);
    if (!der || der_len > 0xffff) {
        free(der);
        return -1;
    }
    size_t n = 3 + der_len + HPKE_NSK;
    uint8_t *buf = malloc(n);
    if (buf) {
        buf[0] = KEYS_VERSION;
        buf[1] = (uint8_t)der_len;
        buf[2] = (uint8_t)(der_len >> 8);
        memcpy(buf + 3, der, der_len);
        memcpy(buf + 3 + der_len, s->hpke.sk, HPKE_NSK);
        *out = buf;
        *len = n;
    }
    OPENSSL_cleanse(der, der_len);
    free(der);
    return buf ? 0 : -1;
}

static int keys_parse(kms_state *s, const uint8_t *p, size_t len) {
    if (len < 3 || p[0] != KEYS_VERSION) return -1;
    size_t der_len = (size_t)p[1] | (size_t)p[2] << 8;
    if (len != 3 + der_len + HPKE_NSK) return -1;
    s->signing = p256_from_private_der(p + 3, der_len);
    if (!s->signing) return -1;
    return hpke_keypair_from_private(&s->hpke, p + 3 + der_len) == HPKE_OK ? 0 : -1;
}

/* Sealed state plaintext: {"v": STATE_VERSION, "generation": G (absent
 * before states were shared: 0), "versions": {"ns/name": N}, "leases":
 * {"ns/name": {"from", "until", "holder"}}}. Replaces s's versions and
 * leases. */
static int state_parse(kms_state *s, const uint8_t *p, size_t len) {
    json_t *j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *v = json_object_get(j, "versions"), *l = json_object_get(j, "leases"), *g = json_object_get(j, "generation");
    if (json_integer_value(json_object_get(j, "v")) != STATE_VERSION || !json_is_object(v) || !json_is_object(l) ||
        (g && (!json_is_integer(g) || json_integer_value(g) < 0))) {
        json_decref(j);
        return -1;
    }
    json_decref(s->versions);
    json_decref(s->leases);
    s->versions = json_incref(v);
    s->leases = json_incref(l);
    s->generation = json_integer_value(g);
    json_decref(j);
    return 0;
}

/* The state's plaintext (malloc'd), as sealed, shared and transferred. */
static char *state_text(const kms_state *s) {
    json_t *j = json_pack("{s:i, s:I, s:O, s:O}", "v", STATE_VERSION, "generation", s->generation, "versions",
                          s->versions, "leases", s->leases);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    return text;
}

/* Versions and leases sealed to this KMS (LABEL_SEAL_KMS_STATE). */
static int state_seal(const kms_state *s, uint8_t **blob, size_t *blob_len) {
    char *text = state_text(s);
    int rc = text && tee_seal(LABEL_SEAL_KMS_STATE, (const uint8_t *)text, strlen(text), blob, blob_len) == 0 ? 0 : -1;
    free(text);
    return rc;
}

/* Sets table[key] = value (a new reference, taken; table is s->versions
 * or s->leases) and seals the whole state for the host; on failure puts the
 * earlier entry back. */
static int state_record(kms_state *s, json_t *table, const char *key, json_t *value, uint8_t **blob,
                        size_t *blob_len) {
    json_t *previous = json_incref(json_object_get(table, key));
    s->generation++; /* every change is a new generation of the shared state */
    int rc = value && json_object_set_new(table, key, value) == 0 && state_seal(s, blob, blob_len) == 0 ? 0 : -1;
    if (rc < 0) s->generation--;
    if (rc < 0 && previous) json_object_set(table, key, previous);
    else if (rc < 0) json_object_del(table, key);
    json_decref(previous);
    return rc;
}

/* Function records: "TFR1" || aead_box(ChaCha20-Poly1305, record key, aad
 * LABEL_SEAL_FUNCTION, record JSON). The key is
 * HKDF-SHA256(salt LABEL_RECORD_KEY, ikm the X25519 private key, info ""),
 * so every KMS that holds (or was given, §5.6) these keys opens them. */
static int record_seal(const kms_state *s, const char *text, uint8_t **out, size_t *out_len) {
    uint8_t *box = NULL;
    size_t box_len = 0;
    if (aead_box_seal(HPKE_AEAD_CHACHA20_POLY1305, s->record_key, (const uint8_t *)LABEL_SEAL_FUNCTION,
                      strlen(LABEL_SEAL_FUNCTION), (const uint8_t *)text, strlen(text), &box, &box_len) != HPKE_OK)
        return -1;
    *out = malloc(RECORD_MAGIC_LEN + box_len);
    if (*out) {
        memcpy(*out, RECORD_MAGIC, RECORD_MAGIC_LEN);
        memcpy(*out + RECORD_MAGIC_LEN, box, box_len);
        *out_len = RECORD_MAGIC_LEN + box_len;
    }
    free(box);
    return *out ? 0 : -1;
}

/* Opens a record of record_seal, or one tee_seal made before records were
 * portable (it opens only on the node that sealed it). 0 or -1. */
static int record_open(const kms_state *s, const uint8_t *p, size_t len, uint8_t **pt, size_t *pt_len) {
    if (len >= RECORD_MAGIC_LEN && memcmp(p, RECORD_MAGIC, RECORD_MAGIC_LEN) == 0)
        return aead_box_open(HPKE_AEAD_CHACHA20_POLY1305, s->record_key, (const uint8_t *)LABEL_SEAL_FUNCTION,
                             strlen(LABEL_SEAL_FUNCTION), p + RECORD_MAGIC_LEN, len - RECORD_MAGIC_LEN, pt,
                             pt_len) == HPKE_OK ? 0 : -1;
    return tee_unseal(LABEL_SEAL_FUNCTION, p, len, pt, pt_len) == TEE_UNSEAL_OK ? 0 : -1;
}

/* The shared state blob for the host to store beside every node's
 * (compare-and-swap on the generation): "TFK1" || aead_box(ChaCha20-
 * Poly1305, record key, aad LABEL_KMS_SHARED_STATE, state plaintext).
 * The floor rises to its generation: whether the host's swap succeeds or
 * another node's write of the same generation won, the store never holds
 * an older one again unless rolled back (a failed write makes the host
 * restart the KMS, which starts with floor 0). */
static int state_share(kms_state *s, uint8_t **out, size_t *out_len) {
    char *text = state_text(s);
    uint8_t *box = NULL;
    size_t box_len = 0;
    *out = NULL;
    if (text && aead_box_seal(HPKE_AEAD_CHACHA20_POLY1305, s->record_key, (const uint8_t *)LABEL_KMS_SHARED_STATE,
                              strlen(LABEL_KMS_SHARED_STATE), (const uint8_t *)text, strlen(text), &box,
                              &box_len) == HPKE_OK &&
        (*out = malloc(RECORD_MAGIC_LEN + box_len))) {
        memcpy(*out, SHARED_MAGIC, RECORD_MAGIC_LEN);
        memcpy(*out + RECORD_MAGIC_LEN, box, box_len);
        *out_len = RECORD_MAGIC_LEN + box_len;
    }
    free(text);
    free(box);
    if (*out && s->floor < s->generation) s->floor = s->generation;
    return *out ? 0 : -1;
}

/* Once the keys are set: the record key, the evidence over both public
 * keys and the JWK the host publishes. */
static int make_evidence(kms_state *s) {
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN];
    if (hkdf_derive("SHA256", s->hpke.sk, HPKE_NSK, (const uint8_t *)LABEL_RECORD_KEY, strlen(LABEL_RECORD_KEY),
                    (const uint8_t *)"", 0, s->record_key, sizeof s->record_key) != HKDF_OK)
        return -1;
    if (evidence_bind_keys(LABEL_KMS_REPORT, s->signing, s->hpke.pk, rd) < 0) return -1;
    if (tee_quote(rd, &s->evidence, &s->evidence_len) < 0) return -1;
    s->signing_jwk = p256_public_jwk(s->signing);
    return s->signing_jwk && p256_thumbprint(s->signing, s->kid) == 0 ? 0 : -1;
}

static void reply_begin(ipc_writer *w, uint64_t id, kms_status st, const char *error) {
    ipc_writer_begin(w, IPC_KMS_REPLY, id);
    ipc_put_u64(w, st);
    ipc_put_str(w, error);
}

/* The IPC_KMS_INIT reply of a KMS that is ready: the sealed keys for the
 * host to keep, the evidence, the JWK, the X25519 key, the measurement. */
static void ready_reply(const kms_state *s, uint64_t id, ipc_writer *w, const uint8_t *sealed, size_t sealed_len) {
    reply_begin(w, id, KMS_OK, NULL);
    ipc_put_bytes(w, sealed, sealed_len);
    ipc_put_bytes(w, s->evidence, s->evidence_len);
    ipc_put_str(w, s->signing_jwk);
    ipc_put_bytes(w, s->hpke.pk, HPKE_NPK);
    ipc_put_bytes(w, tee_measurement(), EVIDENCE_MEASUREMENT_LEN);
}

/* IPC_KMS_INIT: unseal the keys the host kept, or make and seal new ones. */
static void handle_init(kms_state *s, const ipc_msg *m, ipc_writer *w) {
    if (s->ready) {
        reply_begin(w, m->id, KMS_ERR_STATE, "the key service is already initialised");
        return;
    }
    if (m->nfields != KINIT_NFIELDS) {
        reply_begin(w, m->id, KMS_ERR_REQUEST, "malformed init request");
        return;
    }
    const ipc_field *sealed = &m->fields[KINIT_SEALED];
    uint8_t *blob = NULL, *plain = NULL;
    size_t blob_len = 0, plain_len = 0;
    if (sealed->len) {
        tee_unseal_result ur = tee_unseal(LABEL_SEAL_KMS_KEYS, sealed->ptr, sealed->len, &plain, &plain_len);
        if (ur != TEE_UNSEAL_OK || keys_parse(s, plain, plain_len) < 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "the stored KMS keys do not unseal in this enclave: %s",
                     ur != TEE_UNSEAL_OK ? tee_unseal_result_name(ur) : "bad key blob");
            state_free(s);
            if (plain) OPENSSL_cleanse(plain, plain_len);
            free(plain);
            reply_begin(w, m->id, ur == TEE_UNSEAL_NOMEM ? KMS_ERR_INTERNAL : KMS_ERR_UNSEAL, msg);
            return;
        }
        OPENSSL_cleanse(plain, plain_len);
        free(plain);
    } else {
        s->signing = p256_generate();
        if (!s->signing || hpke_keypair_generate(&s->hpke) != HPKE_OK || keys_serialize(s, &plain, &plain_len) < 0 ||
            tee_seal(LABEL_SEAL_KMS_KEYS, plain, plain_len, &blob, &blob_len) < 0) {
            if (plain) OPENSSL_cleanse(plain, plain_len);
            free(plain);
            state_free(s);
            reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot make the KMS keys");
            return;
        }
        OPENSSL_cleanse(plain, plain_len);
        free(plain);
    }
    const ipc_field *state = &m->fields[KINIT_STATE];
    if (state->len) {
        tee_unseal_result ur = tee_unseal(LABEL_SEAL_KMS_STATE, state->ptr, state->len, &plain, &plain_len);
        int ok = ur == TEE_UNSEAL_OK && state_parse(s, plain, plain_len) == 0;
        free(plain);
        if (!ok) {
            char msg[160];
            snprintf(msg, sizeof msg, "the stored KMS state does not unseal in this enclave: %s",
                     ur != TEE_UNSEAL_OK ? tee_unseal_result_name(ur) : "bad state blob");
            free(blob);
            state_free(s);
            reply_begin(w, m->id, ur == TEE_UNSEAL_NOMEM ? KMS_ERR_INTERNAL : KMS_ERR_UNSEAL, msg);
            return;
        }
    } else if (!(s->versions = json_object()) || !(s->leases = json_object())) {
        free(blob);
        state_free(s);
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot make the KMS state");
        return;
    }
    if (make_evidence(s) < 0) {
        free(blob);
        state_free(s);
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot quote the KMS keys");
        return;
    }
    s->ready = 1;
    if (blob) ready_reply(s, m->id, w, blob, blob_len);
    else ready_reply(s, m->id, w, sealed->ptr, sealed->len);
    free(blob);
}

/* Opens a tenant's deploy package: enc (32) || HPKE ciphertext, sealed to
 * the KMS key with info LABEL_DEPLOY_INFO and ChaCha20-Poly1305. */
static json_t *open_package(kms_state *s, const ipc_field *f) {
    if (f->len < HPKE_NENC + HPKE_NT || f->len > (1u << 16)) return NULL;
    uint8_t *pt = NULL;
    size_t pt_len = 0;
    json_t *j = NULL;
    if (hpke_open_base(HPKE_AEAD_CHACHA20_POLY1305, &s->hpke, LABEL_DEPLOY_INFO, f->ptr, f->len, &pt, &pt_len) ==
        HPKE_OK)
        j = json_loadb((const char *)pt, pt_len, JSON_REJECT_DUPLICATES, NULL);
    if (pt) OPENSSL_cleanse(pt, pt_len);
    free(pt);
    if (!j) j = json_null(); /* opened nothing: json_null marks "did not open" */
    return j;
}

/* IPC_KMS_DEPLOY: check the tenant's package, make the function's OHTTP key
 * pair, certify it, and seal everything the KMS will need later into a
 * record only it can open. */
static void handle_deploy(kms_state *s, const ipc_msg *m, ipc_writer *w) {
    if (!s->ready) {
        reply_begin(w, m->id, KMS_ERR_STATE, "the key service is not initialised");
        return;
    }
    char *ns = m->nfields == KDEP_NFIELDS ? ipc_get_str(m, KDEP_NS) : NULL;
    char *name = m->nfields == KDEP_NFIELDS ? ipc_get_str(m, KDEP_NAME) : NULL;
    json_t *pkg = NULL, *cert_claims = NULL, *record = NULL;
    char *cert = NULL, *cert_text = NULL, *record_text = NULL, *keys_b64 = NULL;
    uint8_t *sealed = NULL, *state_blob = NULL, *shared = NULL, code_key[32], code_hash[32], keys[64];
    size_t sealed_len = 0, state_len = 0, keys_len = 0, shared_len = 0;
    hpke_keypair okp;
    memset(&okp, 0, sizeof okp);
    policy pol;
    char perr[128];
    if (!ns || !name || !*ns || !*name) {
        reply_begin(w, m->id, KMS_ERR_REQUEST, "malformed deploy request");
        goto out;
    }
    pkg = open_package(s, &m->fields[KDEP_SEALED]);
    if (!json_is_object(pkg)) {
        reply_begin(w, m->id, pkg && json_is_null(pkg) ? KMS_ERR_OPEN : KMS_ERR_REQUEST,
                    pkg && json_is_null(pkg)
                        ? "the deploy package does not open with this KMS's key (tampered, or sealed to another KMS: run tfaas attest)"
                        : "the deploy package is not a JSON object");
        goto out;
    }
    const char *pns = json_string_value(json_object_get(pkg, "namespace"));
    const char *pname = json_string_value(json_object_get(pkg, "name"));
    const char *key_b64 = json_string_value(json_object_get(pkg, "code_key"));
    json_t *pver = json_object_get(pkg, "version");
    json_int_t version = json_integer_value(pver);
    if (!pns || !pname || !key_b64 || !json_is_integer(pver) || version < 1 || version > DEPLOY_VERSION_MAX ||
        b64url_decode(key_b64, strlen(key_b64), code_key, sizeof code_key) != 32 ||
        evidence_unhex(json_string_value(json_object_get(pkg, "code_hash")), code_hash, 32) < 0) {
        reply_begin(w, m->id, KMS_ERR_REQUEST, "the deploy package needs namespace, name, version (an integer "
                    "1..2^53-1), code_key (32 bytes, base64url) and code_hash (64 hex digits)");
        goto out;
    }
    /* The package names the function it is for: a package replayed to
     * another namespace or name is refused, not certified for it. */
    if (strcmp(pns, ns) != 0 || strcmp(pname, name) != 0) {
        char msg[640];
        snprintf(msg, sizeof msg, "the deploy package was sealed for %.256s/%.256s, not for this function "
                 "(a package replayed to another namespace or name)", pns, pname);
        reply_begin(w, m->id, KMS_ERR_POLICY, msg);
        goto out;
    }
    char fkey[1024];
    snprintf(fkey, sizeof fkey, "%s/%s", ns, name);
    json_int_t latest = json_integer_value(json_object_get(s->versions, fkey));
    if (version <= latest) {
        char msg[256];
        snprintf(msg, sizeof msg, "the deploy package's version %" JSON_INTEGER_FORMAT " is not above %"
                 JSON_INTEGER_FORMAT ", the latest version of this function the key service accepted "
                 "(a replayed or older package: rollback refused)", version, latest);
        reply_begin(w, m->id, KMS_ERR_STALE, msg);
        goto out;
    }
    if (!latest && json_object_size(s->versions) >= KMS_MAX_FUNCTIONS) {
        reply_begin(w, m->id, KMS_ERR_POLICY, "the key service already tracks the versions of its maximum of "
                    "14336 confidential functions");
        goto out;
    }
    if (policy_parse(json_object_get(pkg, "policy"), &pol, perr, sizeof perr) < 0) {
        reply_begin(w, m->id, KMS_ERR_REQUEST, perr);
        goto out;
    }
    /* Confidential default parameters (secrets): kept only in the sealed
     * record and the release wrapped to an accepted worker, which merges
     * them under the request's parameters. */
    json_t *params = json_object_get(pkg, "params");
    char *params_text = params ? json_dumps(params, JSON_COMPACT) : NULL;
    size_t params_depth = params_text ? json_depth(params_text, strlen(params_text), JSON_MAX_DEPTH) : 0;
    if (params_text) OPENSSL_cleanse(params_text, strlen(params_text));
    free(params_text);
    if (params && (!json_is_object(params) || params_depth > JSON_MAX_DEPTH)) {
        reply_begin(w, m->id, KMS_ERR_REQUEST, "the deploy package's params must be a JSON object nested at most "
                    JSON_MAX_DEPTH_TEXT " levels deep");
        goto out;
    }
    /* The function's OHTTP key pair: the private key leaves only sealed. */
    ohttp_key_config cfg = {.kem_id = HPKE_KEM_X25519_SHA256, .nsuites = 2,
                            .suites = {{HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_128_GCM},
                                       {HPKE_KDF_HKDF_SHA256, HPKE_AEAD_CHACHA20_POLY1305}}};
    if (hpke_keypair_generate(&okp) != HPKE_OK || RAND_bytes(&cfg.key_id, 1) != 1) {
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot make the OHTTP key pair");
        goto out;
    }
    memcpy(cfg.pk, okp.pk, HPKE_NPK);
    if (ohttp_keys_encode(&cfg, 1, keys, sizeof keys, &keys_len) != OHTTP_OK ||
        !(keys_b64 = b64url_encode_alloc(keys, keys_len))) {
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot encode the OHTTP key configuration");
        goto out;
    }
    char hash_hex[65];
    evidence_hex(code_hash, 32, hash_hex);
    json_int_t now = (json_int_t)time(NULL);
    cert_claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:s, s:I, s:I}", "iss", s->kid, "sub", fkey,
                            "namespace", ns, "name", name, "version", version, "code_hash", hash_hex, "engine",
                            pol.engine, "policy", policy_json(&pol), "ohttp_keys", keys_b64, "iat", now,
                            "exp", now + FUNCTION_CERT_LIFETIME_S);
    cert_text = cert_claims ? json_dumps(cert_claims, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *okp_b64 = b64url_encode_alloc(okp.sk, HPKE_NSK);
    record = okp_b64 ? json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:s, s:i, s:s, s:o}", "namespace", ns, "name", name,
                                 "version", version, "code_key", key_b64, "code_hash", hash_hex, "policy",
                                 policy_json(&pol), "ohttp_sk", okp_b64, "key_id", (int)cfg.key_id, "ohttp_keys",
                                 keys_b64, "params", params ? json_incref(params) : json_object())
                     : NULL;
    if (okp_b64) {
        OPENSSL_cleanse(okp_b64, strlen(okp_b64));
        free(okp_b64);
    }
    record_text = record ? json_dumps(record, JSON_COMPACT) : NULL;
    if (!cert_text || !record_text ||
        jws_sign(s->signing, JWS_TYP_FUNCTION_CERT, s->kid, (const uint8_t *)cert_text, strlen(cert_text), &cert) != JWS_OK ||
        record_seal(s, record_text, &sealed, &sealed_len) < 0) {
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot certify the function");
        goto out;
    }
    /* Accepted: the version is remembered before anything leaves, and the
     * table goes to the host sealed (it stores it before the action). */
    if (state_record(s, s->versions, fkey, json_integer(version), &state_blob, &state_len) < 0) {
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot seal the key service's state");
        goto out;
    }
    if (state_share(s, &shared, &shared_len) < 0) {
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot seal the key service's shared state");
        goto out;
    }
    reply_begin(w, m->id, KMS_OK, NULL);
    ipc_put_str(w, cert);
    ipc_put_bytes(w, sealed, sealed_len);
    ipc_put_bytes(w, keys, keys_len);
    ipc_put_bytes(w, state_blob, state_len);
    ipc_put_bytes(w, shared, shared_len);
out:
    free(shared);
    free(state_blob);
    if (record_text) OPENSSL_cleanse(record_text, strlen(record_text));
    free(record_text);
    json_decref(record); /* holds key copies; jansson frees them unwiped, a known limit */
    free(cert_text);
    json_decref(cert_claims);
    json_decref(pkg);
    free(cert);
    free(sealed);
    free(keys_b64);
    free(ns);
    free(name);
    OPENSSL_cleanse(code_key, sizeof code_key);
    hpke_keypair_wipe(&okp);
}

/* A JSON object from the worker's identity: {"evidence", "signing_key" (JWK),
 * "hpke_key" (b64url)} and, with hardware evidence, "key_cert" (SNP: PEM)
 * or "collateral" (DCAP: the JSON object of docs/protocol.md §5.5); fills
 * the keys and verifies the evidence binds them (tee_verify_endorsed: the
 * pinned vendor roots as of now). Returns the evidence result
 * (EVIDENCE_MALFORMED for bad keys), the detail of a refusal in why. */
static evidence_result worker_identity(const json_t *wj, EVP_PKEY **wkey, uint8_t wpk[HPKE_NPK],
                                       evidence_claims *claims, char *why, size_t whylen) {
    json_t *jwk = json_object_get(wj, "signing_key");
    const char *hk = json_string_value(json_object_get(wj, "hpke_key"));
    const char *ev = json_string_value(json_object_get(wj, "evidence"));
    const json_t *kc = json_object_get(wj, "key_cert"), *col = json_object_get(wj, "collateral");
    *wkey = p256_from_jwk(jwk);
    if (!*wkey || !ev || !hk || b64url_decode(hk, strlen(hk), wpk, HPKE_NPK) != HPKE_NPK ||
        (kc && !json_is_string(kc)) || (col && !json_is_object(col)))
        return EVIDENCE_MALFORMED;
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN];
    if (evidence_bind_keys(LABEL_WORKER_REPORT, *wkey, wpk, rd) < 0) return EVIDENCE_MALFORMED;
    char *col_text = col ? json_dumps(col, JSON_COMPACT) : NULL;
    if (col && !col_text) return EVIDENCE_MALFORMED;
    evidence_result r = tee_verify_endorsed(ev, strlen(ev), json_string_value(kc), col_text, NULL, rd, claims, why,
                                            whylen);
    free(col_text);
    return r;
}

/* enc || HPKE-Seal(worker X25519 key, info LABEL_RELEASE_INFO, text). */
static uint8_t *wrap_to(const uint8_t pk[HPKE_NPK], const char *text, size_t *out_len) {
    uint8_t *out = NULL;
    if (hpke_seal_base(HPKE_AEAD_CHACHA20_POLY1305, pk, LABEL_RELEASE_INFO, (const uint8_t *)text, strlen(text), &out,
                       out_len) != HPKE_OK)
        return NULL;
    return out;
}

/* IPC_KMS_RELEASE: the attested key release. The function's keys go to the
 * worker only wrapped to its attested X25519 key, and only if its
 * measurement and engine satisfy the function's policy. */
static void handle_release(kms_state *s, const ipc_msg *m, ipc_writer *w) {
    if (!s->ready || m->nfields != KREL_NFIELDS) {
        reply_begin(w, m->id, s->ready ? KMS_ERR_REQUEST : KMS_ERR_STATE, "malformed release request");
        return;
    }
    uint8_t *plain = NULL, *wrapped = NULL, *state_blob = NULL, *shared = NULL, wpk[HPKE_NPK];
    size_t plain_len = 0, wrapped_len = 0, state_len = 0, shared_len = 0;
    json_t *rec = NULL, *wj = NULL, *secrets = NULL, *claims_j = NULL, *bundle = NULL;
    char *secrets_text = NULL, *claims_text = NULL, *cert = NULL, *bundle_text = NULL, *wrapped_b64 = NULL;
    char *kms_pk_b64 = NULL;
    EVP_PKEY *wkey = NULL;
    evidence_claims claims;
    policy pol;
    char msg[256];
    const ipc_field *rf = &m->fields[KREL_RECORD], *wf = &m->fields[KREL_WORKER];
    if (record_open(s, rf->ptr, rf->len, &plain, &plain_len) < 0 ||
        !(rec = json_loadb((const char *)plain, plain_len, 0, NULL))) {
        reply_begin(w, m->id, KMS_ERR_REQUEST, "the function record does not unseal in this KMS");
        goto out;
    }
    if (policy_parse(json_object_get(rec, "policy"), &pol, msg, sizeof msg) < 0) {
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "the function record holds a bad policy");
        goto out;
    }
    wj = json_loadb((const char *)wf->ptr, wf->len, JSON_REJECT_DUPLICATES, NULL);
    char why[160] = "";
    evidence_result er = worker_identity(wj, &wkey, wpk, &claims, why, sizeof why);
    if (er != EVIDENCE_OK) {
        snprintf(msg, sizeof msg, "the worker enclave's evidence does not verify: %s%s%.160s",
                 evidence_result_name(er), *why ? ": " : "", why);
        reply_begin(w, m->id, KMS_ERR_POLICY, msg);
        goto out;
    }
    /* The measurement the policy compares: 32 bytes (sim, SGX) or 48 (TDX, SNP). */
    char mhex[2 * POLICY_MEASUREMENT_MAX + 1] = "";
    size_t mlen = 0;
    const uint8_t *mval = evidence_claims_measurement(&claims, &mlen);
    if (mval && mlen <= POLICY_MEASUREMENT_MAX) evidence_hex(mval, mlen, mhex);
    if (!policy_accepts(&pol, &claims)) {
        snprintf(msg, sizeof msg, "the worker enclave (%.16s, measurement %s, engine %.32s) is not accepted by the "
                 "function's policy", claims.tee, mhex, *claims.engine ? claims.engine : "not attested");
        reply_begin(w, m->id, KMS_ERR_POLICY, msg);
        goto out;
    }
    const char *ns = json_string_value(json_object_get(rec, "namespace"));
    const char *name = json_string_value(json_object_get(rec, "name"));
    const char *hash = json_string_value(json_object_get(rec, "code_hash"));
    json_t *ver = json_object_get(rec, "version");
    if (!json_is_integer(ver)) {
        reply_begin(w, m->id, KMS_ERR_POLICY, "the function record has no deploy version (it predates them): "
                    "deploy the function again");
        goto out;
    }
    if (!ns || !name || !hash) {
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "the function record lacks its namespace, name or code hash");
        goto out;
    }
    /* The replay lease: Dates no release of this function to another
     * worker was given, reaching back over the window (the request that
     * made the worker ask) and REPLAY_LEASE_S ahead of now. The holder of
     * the latest lease renews it: same start, end moved to now + lease (not
     * past its old end plus a lease, so concurrent renewals do not push it
     * ever further ahead). */
    char fkey[1024];
    snprintf(fkey, sizeof fkey, "%s/%s", ns, name);
    json_t *prev = json_object_get(s->leases, fkey);
    const char *holder = json_string_value(json_object_get(wj, "hpke_key"));
    const char *prev_holder = json_string_value(json_object_get(prev, "holder"));
    json_int_t now = (json_int_t)time(NULL), prev_from = json_integer_value(json_object_get(prev, "from")),
               prev_until = json_integer_value(json_object_get(prev, "until")), from, until;
    if (prev_holder && holder && strcmp(prev_holder, holder) == 0) {
        from = prev_from;
        until = prev_until > now + REPLAY_LEASE_S ? prev_until : now + REPLAY_LEASE_S;
    } else {
        from = now - REPLAY_WINDOW_S > prev_until + 1 ? now - REPLAY_WINDOW_S : prev_until + 1;
        until = (from > now ? from : now) + REPLAY_LEASE_S;
    }
    json_t *params = json_object_get(rec, "params"); /* absent in records made before secrets */
    json_t *invokers = json_object_get(json_object_get(rec, "policy"), "invokers"); /* canonical, or absent */
    secrets = json_pack("{s:O, s:O, s:O, s:I, s:I, s:O, s:O, s:O, s:O, s:o, s:o}", "namespace", json_object_get(rec, "namespace"),
                        "name", json_object_get(rec, "name"), "version", ver, "accept_from", from, "accept_until",
                        until, "code_key", json_object_get(rec, "code_key"),
                        "code_hash", json_object_get(rec, "code_hash"), "ohttp_sk", json_object_get(rec, "ohttp_sk"),
                        "key_id", json_object_get(rec, "key_id"), "params",
                        json_is_object(params) ? json_incref(params) : json_object(), "invokers",
                        json_is_array(invokers) ? json_incref(invokers) : json_array());
    secrets_text = secrets ? json_dumps(secrets, JSON_COMPACT) : NULL;
    if (!secrets_text || !(wrapped = wrap_to(wpk, secrets_text, &wrapped_len)) ||
        !(wrapped_b64 = b64url_encode_alloc(wrapped, wrapped_len))) {
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot wrap the keys to the worker");
        goto out;
    }
    char dhex[65];
    evidence_sha256_hex(wrapped, wrapped_len, dhex);
    claims_j = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:s, s:O, s:s, s:I, s:I, s:I, s:I}", "iss", s->kid,
                         "sub", fkey, "namespace", ns, "name", name, "version", ver, "code_hash", hash, "measurement",
                         mhex, "engine", claims.engine, "worker_key", json_object_get(wj, "signing_key"),
                         "release_sha256", dhex, "accept_from", from, "accept_until", until, "iat", now,
                         "exp", now + WORKER_CERT_LIFETIME_S);
    claims_text = claims_j ? json_dumps(claims_j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    kms_pk_b64 = b64url_encode_alloc(s->hpke.pk, HPKE_NPK);
    if (!claims_text || !kms_pk_b64 ||
        jws_sign(s->signing, JWS_TYP_WORKER_CERT, s->kid, (const uint8_t *)claims_text, strlen(claims_text), &cert) != JWS_OK ||
        !(bundle = json_pack("{s:s, s:s, s:s, s:o, s:s}", "wrapped", wrapped_b64, "worker_certificate", cert,
                             "kms_evidence", s->evidence, "kms_signing_key", json_loads(s->signing_jwk, 0, NULL),
                             "kms_hpke_key", kms_pk_b64)) ||
        !(bundle_text = json_dumps(bundle, JSON_COMPACT))) {
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot certify the worker");
        goto out;
    }
    /* The lease is remembered, and sealed for the host to keep, before the
     * worker can use it. */
    if (state_record(s, s->leases, fkey, json_pack("{s:I, s:I, s:s}", "from", from, "until", until, "holder", holder),
                     &state_blob, &state_len) < 0) {
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot seal the key service's state");
        goto out;
    }
    if (state_share(s, &shared, &shared_len) < 0) {
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot seal the key service's shared state");
        goto out;
    }
    reply_begin(w, m->id, KMS_OK, NULL);
    ipc_put_str(w, bundle_text);
    ipc_put_bytes(w, state_blob, state_len);
    ipc_put_bytes(w, shared, shared_len);
out:
    free(shared);
    free(state_blob);
    if (plain) OPENSSL_cleanse(plain, plain_len);
    free(plain);
    if (secrets_text) OPENSSL_cleanse(secrets_text, strlen(secrets_text));
    free(secrets_text);
    json_decref(secrets);
    json_decref(rec);
    json_decref(wj);
    json_decref(claims_j);
    json_decref(bundle);
    free(claims_text);
    free(cert);
    free(bundle_text);
    free(wrapped);
    free(wrapped_b64);
    free(kms_pk_b64);
    EVP_PKEY_free(wkey);
}

/* IPC_KMS_SYNC: the shared state as the store holds it now (the host
 * sends it before each deploy and release, and stores the new one after
 * with a compare-and-swap on the generation). Taken when it opens with
 * this KMS's record key and its generation is not below the floor. */
static void handle_sync(kms_state *s, const ipc_msg *m, ipc_writer *w) {
    if (!s->ready || m->nfields != KSYNC_NFIELDS) {
        reply_begin(w, m->id, s->ready ? KMS_ERR_REQUEST : KMS_ERR_STATE, "malformed sync request");
        return;
    }
    const ipc_field *f = &m->fields[KSYNC_SHARED];
    uint8_t *pt = NULL;
    size_t pt_len = 0;
    kms_state next = {0};
    if (f->len < RECORD_MAGIC_LEN || memcmp(f->ptr, SHARED_MAGIC, RECORD_MAGIC_LEN) != 0 ||
        aead_box_open(HPKE_AEAD_CHACHA20_POLY1305, s->record_key, (const uint8_t *)LABEL_KMS_SHARED_STATE,
                      strlen(LABEL_KMS_SHARED_STATE), f->ptr + RECORD_MAGIC_LEN, f->len - RECORD_MAGIC_LEN, &pt,
                      &pt_len) != HPKE_OK ||
        state_parse(&next, pt, pt_len) < 0) {
        reply_begin(w, m->id, KMS_ERR_UNSEAL, "the shared key service state does not open with this KMS's keys "
                    "(altered, or written by a key service with other keys)");
    } else if (next.generation < s->floor) {
        char msg[200];
        snprintf(msg, sizeof msg, "the shared key service state is generation %" JSON_INTEGER_FORMAT ", older than "
                 "generation %" JSON_INTEGER_FORMAT " this KMS already took (rolled back: refused)", next.generation,
                 s->floor);
        reply_begin(w, m->id, KMS_ERR_STALE, msg);
    } else {
        json_decref(s->versions);
        json_decref(s->leases);
        s->versions = json_incref(next.versions);
        s->leases = json_incref(next.leases);
        s->generation = s->floor = next.generation;
        reply_begin(w, m->id, KMS_OK, NULL);
    }
    json_decref(next.versions);
    json_decref(next.leases);
    free(pt);
}

/* --- KMS-to-KMS key transfer (kms_transfer.h, docs/protocol.md §5.6) ---
 * The payload: u32le keys_len || the key blob's plaintext (keys_serialize)
 * || the state's plaintext (the JSON state_seal seals). */

/* IPC_KMS_JOIN: a KMS without keys makes the hello of a transfer. */
static void handle_join(kms_state *s, const ipc_msg *m, ipc_writer *w) {
    if (s->ready) {
        reply_begin(w, m->id, KMS_ERR_STATE, "the key service already has keys: it does not join another");
        return;
    }
    if (kms_join_hello(&s->join) != KT_OK) {
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot make the transfer hello");
        return;
    }
    reply_begin(w, m->id, KMS_OK, NULL);
    ipc_put_bytes(w, s->join.evidence, s->join.evidence_len);
    ipc_put_bytes(w, s->join.key.pk, HPKE_NPK);
}

static void transfer_refused(ipc_writer *w, uint64_t id, kt_result r, evidence_result er, const char *who) {
    char msg[256];
    if (r == KT_EVIDENCE)
        snprintf(msg, sizeof msg, "the %s key service's evidence is refused: %s (a key service of another "
                 "measurement, or a transfer the relaying host altered)", who, evidence_result_name(er));
    else
        snprintf(msg, sizeof msg, "key transfer: %s", kt_result_name(r));
    reply_begin(w, id, r == KT_INTERNAL ? KMS_ERR_INTERNAL : r == KT_MALFORMED ? KMS_ERR_REQUEST : KMS_ERR_POLICY,
                msg);
}

/* IPC_KMS_GIVE: a running KMS hands its keys and state to an attested peer. */
static void handle_give(kms_state *s, const ipc_msg *m, ipc_writer *w) {
    if (!s->ready || m->nfields != KGIVE_NFIELDS) {
        reply_begin(w, m->id, s->ready ? KMS_ERR_REQUEST : KMS_ERR_STATE, "malformed give request");
        return;
    }
    uint8_t *keys = NULL, *payload = NULL, *wrapped = NULL;
    size_t keys_len = 0, wrapped_len = 0, payload_len = 0;
    char *state, *ev = NULL;
    size_t ev_len = 0;
    if ((state = state_text(s)) && keys_serialize(s, &keys, &keys_len) == 0 && keys_len <= 0xffff) {
        payload_len = 4 + keys_len + strlen(state);
        if ((payload = malloc(payload_len))) {
            payload[0] = (uint8_t)keys_len;
            payload[1] = (uint8_t)(keys_len >> 8);
            payload[2] = payload[3] = 0;
            memcpy(payload + 4, keys, keys_len);
            memcpy(payload + 4 + keys_len, state, strlen(state));
        }
    }
    if (!payload) {
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot gather the keys to transfer");
    } else {
        evidence_result er;
        const ipc_field *fe = &m->fields[KGIVE_EVIDENCE], *fk = &m->fields[KGIVE_KEY];
        kt_result r = kms_transfer_give(fe->ptr, fe->len, fk->ptr, fk->len, payload, payload_len, &ev, &ev_len,
                                        &wrapped, &wrapped_len, &er);
        if (r != KT_OK) {
            transfer_refused(w, m->id, r, er, "joining");
        } else {
            reply_begin(w, m->id, KMS_OK, NULL);
            ipc_put_bytes(w, ev, ev_len);
            ipc_put_bytes(w, wrapped, wrapped_len);
        }
    }
    if (keys) OPENSSL_cleanse(keys, keys_len);
    if (payload) OPENSSL_cleanse(payload, payload_len);
    free(keys);
    free(payload);
    free(state);
    free(ev);
    free(wrapped);
}

/* IPC_KMS_ADOPT: the joining KMS checks the answer to its hello and takes
 * the keys and state as if it had unsealed them; the host stores both,
 * sealed here, as after IPC_KMS_INIT. */
static void handle_adopt(kms_state *s, const ipc_msg *m, ipc_writer *w) {
    if (s->ready || !s->join.pending || m->nfields != KADOPT_NFIELDS) {
        reply_begin(w, m->id, m->nfields != KADOPT_NFIELDS ? KMS_ERR_REQUEST : KMS_ERR_STATE,
                    "adopt needs a key service without keys that made a hello");
        return;
    }
    uint8_t *payload = NULL, *blob = NULL, *state_blob = NULL;
    size_t payload_len = 0, blob_len = 0, state_len = 0;
    evidence_result er;
    const ipc_field *fe = &m->fields[KADOPT_EVIDENCE], *fw = &m->fields[KADOPT_WRAPPED];
    kt_result r = kms_transfer_adopt(&s->join, fe->ptr, fe->len, fw->ptr, fw->len, &payload, &payload_len, &er);
    kms_join_wipe(&s->join); /* one answer per hello, whatever it was */
    if (r != KT_OK) {
        transfer_refused(w, m->id, r, er, "giving");
        goto out;
    }
    size_t keys_len = payload_len >= 4 ? (size_t)payload[0] | (size_t)payload[1] << 8 : 0;
    if (payload_len < 4 + keys_len || payload[2] || payload[3] || keys_parse(s, payload + 4, keys_len) < 0 ||
        state_parse(s, payload + 4 + keys_len, payload_len - 4 - keys_len) < 0) {
        state_free(s);
        reply_begin(w, m->id, KMS_ERR_REQUEST, "key transfer: the giving key service sent a payload of another layout");
        goto out;
    }
    if (tee_seal(LABEL_SEAL_KMS_KEYS, payload + 4, keys_len, &blob, &blob_len) < 0 ||
        state_seal(s, &state_blob, &state_len) < 0 || make_evidence(s) < 0) {
        state_free(s);
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot seal the transferred keys");
        goto out;
    }
    s->ready = 1;
    ready_reply(s, m->id, w, blob, blob_len);
    ipc_put_bytes(w, state_blob, state_len);
out:
    if (payload) OPENSSL_cleanse(payload, payload_len);
    free(payload);
    free(blob);
    free(state_blob);
}

/* Every request the host may send, and who answers it. */
static const struct {
    ipc_type type;
    void (*handle)(kms_state *s, const ipc_msg *m, ipc_writer *w);
} HANDLERS[] = {
    {IPC_KMS_INIT, handle_init},   {IPC_KMS_DEPLOY, handle_deploy}, {IPC_KMS_RELEASE, handle_release},
    {IPC_KMS_SYNC, handle_sync},   {IPC_KMS_JOIN, handle_join},     {IPC_KMS_GIVE, handle_give},
    {IPC_KMS_ADOPT, handle_adopt},
};

int kms_run(int fd) {
    if (main_send_hello(fd, "kms") < 0) {
        fprintf(stderr, "tfaas-kms: cannot say hello\n");
        return 1;
    }
    kms_state s;
    memset(&s, 0, sizeof s);
    int status = 0;
    for (;;) {
        ipc_msg m;
        ipc_status st = ipc_recv(fd, &m);
        if (st == IPC_ERR_EOF) break;
        if (st != IPC_OK) {
            fprintf(stderr, "tfaas-kms: channel: %s\n", ipc_status_str(st));
            status = 1;
            break;
        }
        if (m.type == IPC_SHUTDOWN) {
            ipc_msg_free(&m);
            break;
        }
        ipc_writer w = {0};
        size_t h = 0;
        while (h < sizeof HANDLERS / sizeof HANDLERS[0] && HANDLERS[h].type != m.type) h++;
        if (h < sizeof HANDLERS / sizeof HANDLERS[0]) {
            HANDLERS[h].handle(&s, &m, &w);
        } else {
            fprintf(stderr, "tfaas-kms: protocol violation: message type %u\n", m.type);
            ipc_msg_free(&m);
            status = 1;
            break;
        }
        ipc_msg_free(&m);
        int ok = ipc_writer_finish(&w) == IPC_OK && ipc_send(fd, &w) == IPC_OK;
        ipc_writer_free(&w);
        if (!ok) {
            fprintf(stderr, "tfaas-kms: cannot answer the host\n");
            status = 1;
            break;
        }
    }
    state_free(&s);
    return status;
}
