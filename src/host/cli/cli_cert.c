/* cli_cert.c - function certificate checks; see cli_cert.h. */
#include "host/cli/cli_cert.h"

#include "common/jws.h"
#include "common/labels.h"
#include "common/p256.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define CLOCK_SKEW_S 300 /* a certificate issued a little "in the future" is fine */

int cli_function_cert_verify(const char *cert, const struct cli_kms *kms, const char *name,
                             const char *expect_code_hash, const json_t *expect_policy, json_t **claims,
                             char *err, size_t errlen) {
    *claims = NULL;
    if (!cert) return snprintf(err, errlen, "no function certificate"), -1;
    jws_parts p;
    jws_result r = jws_open(cert, strlen(cert), JWS_TYP_FUNCTION_CERT, kms->signing_key, &p);
    if (r == JWS_ERR_SIGNATURE)
        return snprintf(err, errlen, "the function certificate is not signed by the pinned KMS (foreign certificate)"), -1;
    if (r != JWS_OK) return snprintf(err, errlen, "the function certificate is malformed: %s", jws_result_name(r)), -1;
    json_t *c = json_loadb((const char *)p.payload, p.payload_len, JSON_REJECT_DUPLICATES, NULL);
    jws_parts_free(&p);
    const char *cname = json_string_value(json_object_get(c, "name"));
    const char *hash = json_string_value(json_object_get(c, "code_hash"));
    json_t *iat = json_object_get(c, "iat"), *exp = json_object_get(c, "exp");
    time_t now = time(NULL);
    int rc = -1;
    if (!json_is_object(c) || !cname || !hash || !json_is_integer(iat) || !json_is_integer(exp) ||
        !json_is_string(json_object_get(c, "ohttp_keys")))
        snprintf(err, errlen, "the function certificate lacks claims");
    else if (strcmp(cname, name) != 0)
        snprintf(err, errlen, "the certificate is for function '%.256s', not '%.256s' (foreign certificate)", cname, name);
    else if (json_integer_value(exp) <= now)
        snprintf(err, errlen, "the function certificate expired");
    else if (json_integer_value(iat) > now + CLOCK_SKEW_S)
        snprintf(err, errlen, "the function certificate is not valid yet");
    else if (expect_code_hash && strcmp(hash, expect_code_hash) != 0)
        snprintf(err, errlen, "the certificate names other code (hash %.64s)", hash);
    else if (expect_policy && !json_equal(json_object_get(c, "policy"), (json_t *)expect_policy))
        snprintf(err, errlen, "the certificate states another policy than the one sealed");
    else
        rc = 0;
    if (rc == 0) *claims = c;
    else json_decref(c);
    return rc;
}
