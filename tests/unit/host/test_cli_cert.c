/* test_cli_cert.c - the client's checks of function certificates and of the
 * receipt chain, with certificates signed here: expired, not yet valid,
 * foreign (another KMS), for another namespace or function, other code,
 * another deploy version (older: a rollback; newer) or policy, a worker
 * outside the policy, and receipts or worker certificates that do not
 * match the certificate's function, version, code, request or result. */
#include "check.h"

#include "common/jws.h"
#include "common/labels.h"
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

/* A receipt by `key` with the given function fields and hashes. */
static char *receipt(EVP_PKEY *key, const char *ns, json_int_t version, const char *hash, const char *rq,
                     const char *rs, json_int_t now) {
    return sign(key, JWS_TYP_RECEIPT,
                json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:i, s:I}", "activation_id", "a1", "namespace", ns,
                          "name", "f", "version", version, "code_hash", hash, "measurement", M, "request_sha256", rq,
                          "result_sha256", rs, "status", 200, "iat", now));
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
    char *wrong_typ = sign(kms.signing_key, JWS_TYP_RECEIPT, fn_claims("guest", "f", 3, now, now + 100));
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

    free(good); free(unversioned); free(expired); free(future); free(wrong_typ); free(wcert); free(rcpt);
    free(wcert_out); free(wcert_old); free(rcpt_other); free(rcpt_code); free(rcpt_ns); free(rcpt_ver);
    json_decref(jwk);
    json_decref(fn);
    EVP_PKEY_free(worker);
    cli_kms_free(&kms);
    cli_kms_free(&other);
    return CHECK_DONE();
}
