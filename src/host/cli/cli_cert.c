/* cli_cert.c - function certificate checks; see cli_cert.h. */
#include "host/cli/cli_cert.h"

#include "common/b64url.h"
#include "common/jws.h"
#include "common/labels.h"
#include "common/merkle.h"
#include "common/p256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLOCK_SKEW_S 300 /* a certificate issued a little "in the future" is fine */

/* Whether claims c (parsed, or NULL) are an object with an integer iat not
 * in the future, and an exp (if any) not past: c, or NULL with err (and c
 * released). `what` names it in messages. */
static json_t *check_times(json_t *c, const char *what, char *err, size_t errlen) {
    json_t *iat = json_object_get(c, "iat"), *exp = json_object_get(c, "exp");
    time_t now = time(NULL);
    if (!json_is_object(c) || !json_is_integer(iat) || (exp && !json_is_integer(exp)))
        snprintf(err, errlen, "the %s lacks claims", what);
    else if (exp && json_integer_value(exp) <= now)
        snprintf(err, errlen, "the %s expired", what);
    else if (json_integer_value(iat) > now + CLOCK_SKEW_S)
        snprintf(err, errlen, "the %s is not valid yet", what);
    else
        return c;
    json_decref(c);
    return NULL;
}

/* The claims of a JWS of type typ signed by key, with iat/exp checked.
 * NULL with err. `what` names it in messages. */
static json_t *open_claims(const char *jws, const char *typ, EVP_PKEY *key, const char *what, const char *foreign,
                           char *err, size_t errlen) {
    if (!jws || !*jws) return snprintf(err, errlen, "no %s", what), NULL;
    jws_parts p;
    jws_result r = jws_open(jws, strlen(jws), typ, key, &p);
    if (r == JWS_ERR_SIGNATURE) return snprintf(err, errlen, "the %s is not signed by %s", what, foreign), NULL;
    if (r != JWS_OK) return snprintf(err, errlen, "the %s is malformed: %s", what, jws_result_name(r)), NULL;
    json_t *c = json_loadb((const char *)p.payload, p.payload_len, JSON_REJECT_DUPLICATES, NULL);
    jws_parts_free(&p);
    return check_times(c, what, err, errlen);
}

int cli_function_cert_verify(const char *cert, const struct cli_kms *kms, const struct cli_fn_expect *expect,
                             const json_t *expect_policy, json_t **claims, char *err, size_t errlen) {
    *claims = NULL;
    json_t *c = open_claims(cert, JWS_TYP_FUNCTION_CERT, kms->signing_key, "function certificate",
                            "the pinned KMS (foreign certificate)", err, errlen);
    if (!c) return -1;
    const char *cns = json_string_value(json_object_get(c, "namespace"));
    const char *cname = json_string_value(json_object_get(c, "name"));
    const char *hash = json_string_value(json_object_get(c, "code_hash"));
    json_int_t version = json_integer_value(json_object_get(c, "version"));
    int rc = -1;
    if (!cns || !cname || !hash || version < 1 || !json_is_integer(json_object_get(c, "exp")) ||
        !json_is_string(json_object_get(c, "ohttp_keys")))
        snprintf(err, errlen, "the function certificate lacks claims");
    else if (expect && ((expect->ns && strcmp(cns, expect->ns) != 0) || strcmp(cname, expect->name) != 0))
        snprintf(err, errlen, "the certificate is for function %.256s/%.256s, not %.256s/%.256s (foreign certificate)",
                 cns, cname, expect->ns ? expect->ns : "_", expect->name);
    else if (expect && expect->code_hash && strcmp(hash, expect->code_hash) != 0)
        snprintf(err, errlen, "the certificate names other code (hash %.64s, expected %.64s)", hash, expect->code_hash);
    else if (expect && expect->version && version != expect->version)
        snprintf(err, errlen, "the certificate is for deploy version %" JSON_INTEGER_FORMAT ", expected %"
                 JSON_INTEGER_FORMAT " (%s)", version, expect->version,
                 version < expect->version ? "a rollback to an older deploy" : "a newer deploy than the one expected");
    else if (expect_policy && !json_equal(json_object_get(c, "policy"), (json_t *)expect_policy))
        snprintf(err, errlen, "the certificate states another policy than the one sealed");
    else
        rc = 0;
    if (rc == 0) *claims = c;
    else json_decref(c);
    return rc;
}

/* Do claims c name the same function, deploy version and code as the
 * function certificate's claims fn? */
static int same_function(const json_t *c, const json_t *fn) {
    static const char *const keys[] = {"namespace", "name", "version", "code_hash"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *a = json_object_get(c, keys[i]);
        if (!a || !json_equal(a, json_object_get(fn, keys[i]))) return 0;
    }
    return 1;
}

/* A base64url string member of o decoding to exactly len bytes into out: 0, or -1. */
static int b64_member(const json_t *v, uint8_t *out, size_t len) {
    const char *t = json_string_value(v);
    return t && b64url_decode(t, strlen(t), out, len) == (long)len ? 0 : -1;
}

json_t *cli_receipt_open(const char *receipt, EVP_PKEY *wkey, char *err, size_t errlen) {
    if (!receipt || !*receipt) return snprintf(err, errlen, "no receipt"), NULL;
    json_t *r = json_loads(receipt, JSON_REJECT_DUPLICATES, NULL), *root = NULL, *claims = NULL;
    json_t *proof = json_object_get(r, "proof"), *index = json_object_get(r, "index");
    const char *ctext = json_string_value(json_object_get(r, "claims"));
    uint8_t *cbytes = NULL, (*path)[MERKLE_HASH_LEN] = NULL, root_hash[MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN];
    size_t clen = 0, np = json_array_size(proof);
    if (!json_is_object(r) || json_object_size(r) != 4 || !ctext || !json_is_array(proof) || !json_is_integer(index) ||
        !json_is_string(json_object_get(r, "root"))) {
        snprintf(err, errlen, "the receipt is malformed: not a JSON object of claims, index, proof and root");
        goto out;
    }
    if (!(cbytes = b64url_decode_alloc(ctext, strlen(ctext), &clen))) {
        snprintf(err, errlen, "the receipt's claims are not base64url");
        goto out;
    }
    if (np > MERKLE_MAX_PATH) {
        snprintf(err, errlen, "the receipt's proof is too long (%zu hashes, at most %u)", np, MERKLE_MAX_PATH);
        goto out;
    }
    if (!(path = malloc((np ? np : 1) * sizeof *path))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < np; i++)
        if (b64_member(json_array_get(proof, i), path[i], MERKLE_HASH_LEN) < 0) {
            snprintf(err, errlen, "the receipt's proof holds something other than base64url SHA-256 hashes");
            goto out;
        }
    if (!(root = open_claims(json_string_value(json_object_get(r, "root")), JWS_TYP_RECEIPT_ROOT, wkey,
                             "receipt's signed root", "the certified worker", err, errlen)))
        goto out;
    json_t *size = json_object_get(root, "size");
    if (!json_is_integer(size) || b64_member(json_object_get(root, "root"), root_hash, sizeof root_hash) < 0 ||
        !json_is_string(json_object_get(root, "iss")) || !json_is_string(json_object_get(root, "measurement"))) {
        snprintf(err, errlen, "the receipt's signed root lacks claims");
        goto out;
    }
    if (json_integer_value(index) < 0 || json_integer_value(size) < 0) {
        snprintf(err, errlen, "the receipt's proof does not verify: a negative leaf index or tree size");
        goto out;
    }
    merkle_leaf(cbytes, clen, leaf);
    merkle_result mr = merkle_verify(leaf, (uint64_t)json_integer_value(index), (uint64_t)json_integer_value(size),
                                     (const uint8_t (*)[MERKLE_HASH_LEN])path, np, root_hash);
    if (mr != MERKLE_OK) {
        snprintf(err, errlen, "the receipt's proof does not verify: %s", merkle_result_name(mr));
        goto out;
    }
    if (!(claims = check_times(json_loadb((const char *)cbytes, clen, JSON_REJECT_DUPLICATES, NULL), "receipt", err,
                               errlen)))
        goto out;
    if (!json_equal(json_object_get(claims, "iss"), json_object_get(root, "iss")) ||
        !json_equal(json_object_get(claims, "measurement"), json_object_get(root, "measurement"))) {
        snprintf(err, errlen, "the receipt's claims name another worker than its signed root");
        json_decref(claims);
        claims = NULL;
    }
out:
    free(cbytes);
    free(path);
    json_decref(root);
    json_decref(r);
    return claims;
}

int cli_receipt_verify(const char *receipt, const char *worker_cert, const struct cli_kms *kms,
                       const json_t *fn_claims, const char *request_sha256, const char *result_sha256,
                       json_t **claims, char *err, size_t errlen) {
    *claims = NULL;
    json_t *wc = open_claims(worker_cert, JWS_TYP_WORKER_CERT, kms->signing_key, "worker certificate",
                             "the pinned KMS", err, errlen);
    if (!wc) return -1;
    json_t *rc_claims = NULL;
    int rc = -1;
    const char *wmeas = json_string_value(json_object_get(wc, "measurement"));
    json_t *jwk = json_object_get(wc, "worker_key");
    EVP_PKEY *wkey = p256_from_jwk(jwk);
    json_t *accepted = json_object_get(json_object_get(fn_claims, "policy"), "measurements"), *m;
    size_t i;
    int in_policy = 0;
    json_array_foreach(accepted, i, m) in_policy |= wmeas && json_is_string(m) && !strcmp(json_string_value(m), wmeas);
    if (!wkey || !wmeas) {
        snprintf(err, errlen, "the worker certificate lacks the worker's key or measurement");
        goto out;
    }
    if (!same_function(wc, fn_claims) || !in_policy) {
        snprintf(err, errlen, "the worker certificate is for another function, deploy version or code, or a worker "
                 "outside the policy");
        goto out;
    }
    if (!(rc_claims = cli_receipt_open(receipt, wkey, err, errlen))) goto out;
    const char *rm = json_string_value(json_object_get(rc_claims, "measurement"));
    const char *rq = json_string_value(json_object_get(rc_claims, "request_sha256"));
    const char *rs = json_string_value(json_object_get(rc_claims, "result_sha256"));
    if (!same_function(rc_claims, fn_claims) || !rm || strcmp(rm, wmeas))
        snprintf(err, errlen, "the receipt is for another function, deploy version, code or worker");
    else if (!rq || !rs || strcmp(rq, request_sha256) || strcmp(rs, result_sha256))
        snprintf(err, errlen, "the receipt does not match the request and the result");
    else if (!json_is_integer(json_object_get(rc_claims, "status")))
        snprintf(err, errlen, "the receipt lacks claims");
    else
        rc = 0;
out:
    EVP_PKEY_free(wkey);
    json_decref(wc);
    if (rc == 0) *claims = rc_claims;
    else json_decref(rc_claims);
    return rc;
}
