/* test_cli_cert.c - the client's checks of function certificates and of the
 * receipt chain, with certificates signed here: expired, not yet valid,
 * foreign (another KMS), for another namespace or function, other code,
 * another deploy version (older: a rollback; newer) or policy, a worker
 * outside the policy, and receipts or worker certificates that do not
 * match the certificate's function, version, code, request or result; and
 * receipts signed in batches (a Merkle root and a proof, docs/protocol.md
 * §6.5) whose proof, index, size, claims or root key are wrong or whose
 * parts are not what they must be. */
#include "check.h"

#include "common/b64url.h"
#include "common/jws.h"
#include "common/labels.h"
#include "common/merkle.h"
#include "common/p256.h"
#include "host/cli/cli_cert.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *M = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char *H = "aa112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static char *sign(EVP_PKEY *k, const char *typ, json_t *claims) {
    char *text = json_dumps(claims, JSON_COMPACT), *jws = NULL;
    jws_sign(k, typ, NULL, (const uint8_t *)text, strlen(text), &jws);
    free(text);
    json_decref(claims);
    return jws;
}

static json_t *fn_claims(const char *ns, const char *name, json_int_t version, json_int_t iat, json_int_t exp) {
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:{s:[s], s:s}, s:s, s:I, s:I}", "namespace", ns, "name", name, "sub",
                     "guest/f", "version", version, "code_hash", H, "policy", "measurements", M, "engine", "duktape",
                     "ohttp_keys", "AA", "iat", iat, "exp", exp);
}

static json_t *b64(const uint8_t *b, size_t n) {
    char *t = b64url_encode_alloc(b, n);
    json_t *j = json_string(t);
    free(t);
    return j;
}

/* The receipt object of leaf `at` of a batch of n calls signed by key, the
 * other leaves' claims made up; the signed root states `size`. */
static json_t *batch(EVP_PKEY *key, json_t *claims, size_t n, size_t at, json_int_t size) {
    uint8_t leaves[8][MERKLE_HASH_LEN], root[MERKLE_HASH_LEN], path[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
    char *text = json_dumps(claims, JSON_COMPACT);
    json_decref(claims);
    for (size_t i = 0; i < n; i++) {
        char other[32];
        snprintf(other, sizeof other, "{\"other\":%zu}", i);
        if (i == at) merkle_leaf((const uint8_t *)text, strlen(text), leaves[i]);
        else merkle_leaf((const uint8_t *)other, strlen(other), leaves[i]);
    }
    merkle_root((const uint8_t (*)[MERKLE_HASH_LEN])leaves, n, root);
    int np = merkle_path((const uint8_t (*)[MERKLE_HASH_LEN])leaves, n, at, path);
    json_t *proof = json_array();
    for (int i = 0; i < np; i++) json_array_append_new(proof, b64(path[i], MERKLE_HASH_LEN));
    json_t *rc = json_pack("{s:o, s:I, s:o, s:s}", "claims", b64((const uint8_t *)text, strlen(text)), "index",
                           (json_int_t)at, "proof", proof, "root", "");
    free(text);
    char root_b64[48];
    b64url_encode(root, sizeof root, root_b64);
    char *jws = sign(key, JWS_TYP_RECEIPT_ROOT,
                     json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", "w", "measurement", M, "root", root_b64, "size",
                               size, "iat", (json_int_t)time(NULL)));
    json_object_set_new(rc, "root", json_string(jws));
    free(jws);
    return rc;
}

static char *dump(json_t *j) {
    char *t = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return t;
}

static json_t *receipt_claims(const char *ns, json_int_t version, const char *hash, const char *rq, const char *rs,
                              json_int_t now) {
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:s}", "activation_id", "a1", "namespace",
                     ns, "name", "f", "version", version, "code_hash", hash, "measurement", M, "request_sha256", rq,
                     "result_sha256", rs, "iss", "w", "status", 200, "iat", now, "nonce", "AAAAAAAAAAAAAAAAAAAAAA");
}

/* A receipt by `key` with the given function fields and hashes: the fourth
 * of a batch of five. */
static char *receipt(EVP_PKEY *key, const char *ns, json_int_t version, const char *hash, const char *rq,
                     const char *rs, json_int_t now) {
    return dump(batch(key, receipt_claims(ns, version, hash, rq, rs, now), 5, 3, 5));
}

static char *worker_cert(EVP_PKEY *kms, const char *meas, json_int_t version, json_t *jwk, json_int_t now) {
    return sign(kms, JWS_TYP_WORKER_CERT,
                json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:O, s:I, s:I}", "sub", "guest/f", "namespace", "guest",
                          "name", "f", "version", version, "code_hash", H, "measurement", meas, "worker_key", jwk,
                          "iat", now, "exp", now + 100));
}

int main(void) {
    struct cli_kms kms = {0}, other = {0};
    kms.signing_key = p256_generate();
    other.signing_key = p256_generate();
    json_int_t now = (json_int_t)time(NULL);
    char err[256];
    json_t *claims = NULL;
    struct cli_fn_expect e = {.ns = "guest", .name = "f", .code_hash = (char *)H, .version = 3};

    char *good = sign(kms.signing_key, JWS_TYP_FUNCTION_CERT, fn_claims("guest", "f", 3, now, now + 100));
    CHECK(cli_function_cert_verify(good, &kms, &e, NULL, &claims, err, sizeof err) == 0);
    json_t *fn = claims;
    CHECK(cli_function_cert_verify(good, &kms, NULL, NULL, &claims, err, sizeof err) == 0);
    json_decref(claims);
    CHECK(cli_function_cert_verify(good, &other, &e, NULL, &claims, err, sizeof err) < 0 && strstr(err, "foreign"));
    struct cli_fn_expect g = e;
    g.name = "g";
    CHECK(cli_function_cert_verify(good, &kms, &g, NULL, &claims, err, sizeof err) < 0 && strstr(err, "foreign"));
    /* another tenant's function of the same name (the redirect of issue 11) */
    struct cli_fn_expect o = e;
    o.ns = "other";
    CHECK(cli_function_cert_verify(good, &kms, &o, NULL, &claims, err, sizeof err) < 0 && strstr(err, "foreign"));
    struct cli_fn_expect c = e;
    c.code_hash = (char *)M;
    CHECK(cli_function_cert_verify(good, &kms, &c, NULL, &claims, err, sizeof err) < 0 && strstr(err, "other code"));
    struct cli_fn_expect v = e;
    v.version = 4;
    CHECK(cli_function_cert_verify(good, &kms, &v, NULL, &claims, err, sizeof err) < 0 && strstr(err, "rollback"));
    v.version = 2;
    CHECK(cli_function_cert_verify(good, &kms, &v, NULL, &claims, err, sizeof err) < 0 && strstr(err, "newer"));
    v.version = 0; /* any version */
    CHECK(cli_function_cert_verify(good, &kms, &v, NULL, &claims, err, sizeof err) == 0);
    json_decref(claims);
    json_t *pol = json_pack("{s:[s], s:s}", "measurements", H, "engine", "duktape");
    CHECK(cli_function_cert_verify(good, &kms, &e, pol, &claims, err, sizeof err) < 0 && strstr(err, "policy"));
    json_decref(pol);
    char *unversioned = sign(kms.signing_key, JWS_TYP_FUNCTION_CERT,
                             json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "namespace", "guest", "name", "f", "code_hash",
                                       H, "ohttp_keys", "AA", "iat", now, "exp", now + 100));
    CHECK(cli_function_cert_verify(unversioned, &kms, NULL, NULL, &claims, err, sizeof err) < 0 && strstr(err, "lacks"));
    char *expired = sign(kms.signing_key, JWS_TYP_FUNCTION_CERT, fn_claims("guest", "f", 3, now - 200, now - 100));
    CHECK(cli_function_cert_verify(expired, &kms, &e, NULL, &claims, err, sizeof err) < 0 && strstr(err, "expired"));
    char *future = sign(kms.signing_key, JWS_TYP_FUNCTION_CERT, fn_claims("guest", "f", 3, now + 3600, now + 7200));
    CHECK(cli_function_cert_verify(future, &kms, &e, NULL, &claims, err, sizeof err) < 0 && strstr(err, "not valid yet"));
    char *wrong_typ = sign(kms.signing_key, JWS_TYP_RECEIPT_ROOT, fn_claims("guest", "f", 3, now, now + 100));
    CHECK(cli_function_cert_verify(wrong_typ, &kms, &e, NULL, &claims, err, sizeof err) < 0);
    CHECK(cli_function_cert_verify(NULL, &kms, &e, NULL, &claims, err, sizeof err) < 0);

    /* The receipt chain. */
    EVP_PKEY *worker = p256_generate();
    char *jwk_text = p256_public_jwk(worker);
    json_t *jwk = json_loads(jwk_text, 0, NULL);
    free(jwk_text);
    const char *rq = "1111111111111111111111111111111111111111111111111111111111111111";
    const char *rs = "2222222222222222222222222222222222222222222222222222222222222222";
    char *wcert = worker_cert(kms.signing_key, M, 3, jwk, now);
    char *rcpt = receipt(worker, "guest", 3, H, rq, rs, now);
    CHECK(cli_receipt_verify(rcpt, wcert, &kms, fn, rq, rs, &claims, err, sizeof err) == 0);
    json_decref(claims);
    CHECK(cli_receipt_verify(rcpt, wcert, &kms, fn, rq, rq, &claims, err, sizeof err) < 0 && strstr(err, "does not match"));
    CHECK(cli_receipt_verify(rcpt, wcert, &other, fn, rq, rs, &claims, err, sizeof err) < 0);
    CHECK(cli_receipt_verify(rcpt, good, &kms, fn, rq, rs, &claims, err, sizeof err) < 0);
    CHECK(cli_receipt_verify(NULL, wcert, &kms, fn, rq, rs, &claims, err, sizeof err) < 0 && strstr(err, "no receipt"));
    /* a worker outside the policy, or certified for an older deploy */
    char *wcert_out = worker_cert(kms.signing_key, H, 3, jwk, now);
    CHECK(cli_receipt_verify(rcpt, wcert_out, &kms, fn, rq, rs, &claims, err, sizeof err) < 0 && strstr(err, "policy"));
    char *wcert_old = worker_cert(kms.signing_key, M, 2, jwk, now);
    CHECK(cli_receipt_verify(rcpt, wcert_old, &kms, fn, rq, rs, &claims, err, sizeof err) < 0 && strstr(err, "version"));
    /* a receipt signed by another key than the certified worker's */
    char *rcpt_other = receipt(other.signing_key, "guest", 3, H, rq, rs, now);
    CHECK(cli_receipt_verify(rcpt_other, wcert, &kms, fn, rq, rs, &claims, err, sizeof err) < 0 && strstr(err, "worker"));
    /* receipts for other code, another namespace, another deploy version */
    char *rcpt_code = receipt(worker, "guest", 3, M, rq, rs, now);
    CHECK(cli_receipt_verify(rcpt_code, wcert, &kms, fn, rq, rs, &claims, err, sizeof err) < 0 && strstr(err, "other function"));
    char *rcpt_ns = receipt(worker, "other", 3, H, rq, rs, now);
    CHECK(cli_receipt_verify(rcpt_ns, wcert, &kms, fn, rq, rs, &claims, err, sizeof err) < 0 && strstr(err, "other function"));
    char *rcpt_ver = receipt(worker, "guest", 2, H, rq, rs, now);
    CHECK(cli_receipt_verify(rcpt_ver, wcert, &kms, fn, rq, rs, &claims, err, sizeof err) < 0 && strstr(err, "version"));

    /* Batches: one call alone (an empty proof), and each way a proof can be wrong. */
    char *alone = dump(batch(worker, receipt_claims("guest", 3, H, rq, rs, now), 1, 0, 1));
    CHECK(cli_receipt_verify(alone, wcert, &kms, fn, rq, rs, &claims, err, sizeof err) == 0);
    json_decref(claims);
    for (size_t n = 1; n <= 8; n++)
        for (size_t at = 0; at < n; at++) {
            char *t = dump(batch(worker, receipt_claims("guest", 3, H, rq, rs, now), n, at, (json_int_t)n));
            CHECK(cli_receipt_verify(t, wcert, &kms, fn, rq, rs, &claims, err, sizeof err) == 0);
            json_decref(claims);
            free(t);
        }
    struct {
        const char *what, *expect;
    } bad[] = {
        {"wrong index", "does not verify"},      {"index >= size", "not below the tree size"},
        {"proof too long", "too long"},          {"proof one too long", "length does not fit"},
        {"wrong sibling", "signed root"},        {"claims changed", "signed root"},
        {"other worker key", "not signed by the certified worker"},
        {"size 0", "tree size is 0"},            {"claims not base64url", "not base64url"},
        {"sibling not base64url", "base64url SHA-256"}, {"sibling short", "base64url SHA-256"},
        {"negative index", "negative"},          {"not JSON", "malformed"},
        {"a member more", "malformed"},          {"size lied", "does not verify"},
    };
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        const char *w = bad[b].what;
        json_t *r = batch(strcmp(w, "other worker key") ? worker : other.signing_key,
                          receipt_claims("guest", 3, H, rq, rs, now), 5, 2,
                          !strcmp(w, "size 0") ? 0 : !strcmp(w, "size lied") ? 9 : 5);
        json_t *proof = json_object_get(r, "proof");
        uint8_t junk[MERKLE_HASH_LEN];
        memset(junk, 0x5a, sizeof junk);
        if (!strcmp(w, "wrong index")) json_object_set_new(r, "index", json_integer(3));
        if (!strcmp(w, "index >= size")) json_object_set_new(r, "index", json_integer(5));
        if (!strcmp(w, "negative index")) json_object_set_new(r, "index", json_integer(-1));
        if (!strcmp(w, "proof too long"))
            for (int i = 0; i < 64; i++) json_array_append_new(proof, b64(junk, sizeof junk));
        if (!strcmp(w, "proof one too long")) json_array_append_new(proof, b64(junk, sizeof junk));
        if (!strcmp(w, "wrong sibling")) json_array_set_new(proof, 1, b64(junk, sizeof junk));
        if (!strcmp(w, "sibling not base64url")) json_array_set_new(proof, 0, json_string("AA+/AA"));
        if (!strcmp(w, "sibling short")) json_array_set_new(proof, 0, b64(junk, 31));
        if (!strcmp(w, "claims changed")) {
            char *t = dump(receipt_claims("guest", 3, H, rq, rs, now + 1));
            json_object_set_new(r, "claims", b64((const uint8_t *)t, strlen(t)));
            free(t);
        }
        if (!strcmp(w, "claims not base64url")) json_object_set_new(r, "claims", json_string("eyJ9=="));
        if (!strcmp(w, "a member more")) json_object_set_new(r, "extra", json_true());
        char *t = !strcmp(w, "not JSON") ? strdup("eyJhbGciOiJFUzI1NiJ9.e30.AAAA") : dump(json_incref(r));
        int rc = cli_receipt_verify(t, wcert, &kms, fn, rq, rs, &claims, err, sizeof err);
        CHECK(rc < 0 && strstr(err, bad[b].expect));
        if (rc == 0 || !strstr(err, bad[b].expect)) fprintf(stderr, "  %s: %s\n", w, rc == 0 ? "accepted" : err);
        if (rc == 0) json_decref(claims);
        free(t);
        json_decref(r);
    }
    /* claims naming another worker than the root's iss */
    json_t *foreign_iss = receipt_claims("guest", 3, H, rq, rs, now);
    json_object_set_new(foreign_iss, "iss", json_string("v"));
    char *t_iss = dump(batch(worker, foreign_iss, 2, 1, 2));
    CHECK(cli_receipt_verify(t_iss, wcert, &kms, fn, rq, rs, &claims, err, sizeof err) < 0 && strstr(err, "another worker"));
    free(t_iss);
    free(alone);

    free(good); free(unversioned); free(expired); free(future); free(wrong_typ); free(wcert); free(rcpt);
    free(wcert_out); free(wcert_old); free(rcpt_other); free(rcpt_code); free(rcpt_ns); free(rcpt_ver);
    json_decref(jwk);
    json_decref(fn);
    EVP_PKEY_free(worker);
    cli_kms_free(&kms);
    cli_kms_free(&other);
    return CHECK_DONE();
}
