/* test_cli_cert.c - the client's checks of function certificates and of the
 * receipt chain, with certificates signed here: expired, not yet valid,
 * foreign (another KMS), for another function, other code or policy, a
 * worker outside the policy, and receipts that do not match. */
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

static json_t *fn_claims(const char *name, json_int_t iat, json_int_t exp) {
    return json_pack("{s:s, s:s, s:s, s:{s:[s], s:s}, s:s, s:I, s:I}", "name", name, "sub", "guest/f", "code_hash", H,
                     "policy", "measurements", M, "engine", "duktape", "ohttp_keys", "AA", "iat", iat, "exp", exp);
}

int main(void) {
    struct cli_kms kms = {0}, other = {0};
    kms.signing_key = p256_generate();
    other.signing_key = p256_generate();
    json_int_t now = (json_int_t)time(NULL);
    char err[256];
    json_t *claims = NULL;

    char *good = sign(kms.signing_key, JWS_TYP_FUNCTION_CERT, fn_claims("f", now, now + 100));
    CHECK(cli_function_cert_verify(good, &kms, "f", H, NULL, &claims, err, sizeof err) == 0);
    json_t *fn = claims;
    CHECK(cli_function_cert_verify(good, &other, "f", NULL, NULL, &claims, err, sizeof err) < 0 && strstr(err, "foreign"));
    CHECK(cli_function_cert_verify(good, &kms, "g", NULL, NULL, &claims, err, sizeof err) < 0 && strstr(err, "foreign"));
    CHECK(cli_function_cert_verify(good, &kms, "f", M, NULL, &claims, err, sizeof err) < 0 && strstr(err, "other code"));
    json_t *pol = json_pack("{s:[s], s:s}", "measurements", H, "engine", "duktape");
    CHECK(cli_function_cert_verify(good, &kms, "f", NULL, pol, &claims, err, sizeof err) < 0 && strstr(err, "policy"));
    json_decref(pol);
    char *expired = sign(kms.signing_key, JWS_TYP_FUNCTION_CERT, fn_claims("f", now - 200, now - 100));
    CHECK(cli_function_cert_verify(expired, &kms, "f", NULL, NULL, &claims, err, sizeof err) < 0 && strstr(err, "expired"));
    char *future = sign(kms.signing_key, JWS_TYP_FUNCTION_CERT, fn_claims("f", now + 3600, now + 7200));
    CHECK(cli_function_cert_verify(future, &kms, "f", NULL, NULL, &claims, err, sizeof err) < 0 && strstr(err, "not valid yet"));
    char *wrong_typ = sign(kms.signing_key, JWS_TYP_RECEIPT, fn_claims("f", now, now + 100));
    CHECK(cli_function_cert_verify(wrong_typ, &kms, "f", NULL, NULL, &claims, err, sizeof err) < 0);
    CHECK(cli_function_cert_verify(NULL, &kms, "f", NULL, NULL, &claims, err, sizeof err) < 0);

    /* The receipt chain. */
    EVP_PKEY *worker = p256_generate();
    char *jwk_text = p256_public_jwk(worker);
    json_t *jwk = json_loads(jwk_text, 0, NULL);
    free(jwk_text);
    const char *rq = "1111111111111111111111111111111111111111111111111111111111111111";
    const char *rs = "2222222222222222222222222222222222222222222222222222222222222222";
    char *wcert = sign(kms.signing_key, JWS_TYP_WORKER_CERT,
                       json_pack("{s:s, s:s, s:O, s:I, s:I}", "sub", "guest/f", "measurement", M, "worker_key", jwk,
                                 "iat", now, "exp", now + 100));
    char *rcpt = sign(worker, JWS_TYP_RECEIPT,
                      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "activation_id", "a1", "function", "guest/f",
                                "code_hash", H, "measurement", M, "request_sha256", rq, "response_sha256", rs, "iat", now));
    CHECK(cli_receipt_verify(rcpt, wcert, &kms, fn, rq, rs, &claims, err, sizeof err) == 0);
    json_decref(claims);
    CHECK(cli_receipt_verify(rcpt, wcert, &kms, fn, rq, rq, &claims, err, sizeof err) < 0 && strstr(err, "does not match"));
    CHECK(cli_receipt_verify(rcpt, wcert, &other, fn, rq, rs, &claims, err, sizeof err) < 0);
    CHECK(cli_receipt_verify(rcpt, good, &kms, fn, rq, rs, &claims, err, sizeof err) < 0);
    /* a worker outside the policy */
    char *wcert_out = sign(kms.signing_key, JWS_TYP_WORKER_CERT,
                           json_pack("{s:s, s:s, s:O, s:I, s:I}", "sub", "guest/f", "measurement", H, "worker_key", jwk,
                                     "iat", now, "exp", now + 100));
    CHECK(cli_receipt_verify(rcpt, wcert_out, &kms, fn, rq, rs, &claims, err, sizeof err) < 0 && strstr(err, "policy"));
    /* a receipt signed by another key than the certified worker's */
    char *rcpt_other = sign(other.signing_key, JWS_TYP_RECEIPT,
                            json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "function", "guest/f", "code_hash", H,
                                      "measurement", M, "request_sha256", rq, "response_sha256", rs, "iat", now));
    CHECK(cli_receipt_verify(rcpt_other, wcert, &kms, fn, rq, rs, &claims, err, sizeof err) < 0 && strstr(err, "worker"));
    /* a receipt for other code */
    char *rcpt_code = sign(worker, JWS_TYP_RECEIPT,
                           json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "function", "guest/f", "code_hash", M,
                                     "measurement", M, "request_sha256", rq, "response_sha256", rs, "iat", now));
    CHECK(cli_receipt_verify(rcpt_code, wcert, &kms, fn, rq, rs, &claims, err, sizeof err) < 0 && strstr(err, "other code"));

    free(good); free(expired); free(future); free(wrong_typ); free(wcert); free(rcpt); free(wcert_out);
    free(rcpt_other); free(rcpt_code);
    json_decref(jwk);
    json_decref(fn);
    EVP_PKEY_free(worker);
    cli_kms_free(&kms);
    cli_kms_free(&other);
    return CHECK_DONE();
}
