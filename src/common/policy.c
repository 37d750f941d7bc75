/* policy.c - release policies of confidential functions; see policy.h. */
#include "common/policy.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int policy_parse(const json_t *j, policy *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!json_is_object(j)) return snprintf(err, errlen, "the policy is not a JSON object"), -1;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) {
        if (strcmp(key, "measurements") && strcmp(key, "engine") && strcmp(key, "invokers"))
            return snprintf(err, errlen, "the policy has an unknown member '%.64s'", key), -1;
    }
    json_t *ms = json_object_get(j, "measurements");
    if (!json_is_array(ms) || json_array_size(ms) == 0 || json_array_size(ms) > POLICY_MAX_MEASUREMENTS)
        return snprintf(err, errlen, "the policy needs 1..%u measurements", POLICY_MAX_MEASUREMENTS), -1;
    size_t i;
    /* By length: a JSON string may hold a NUL, which would end the C string
     * early and leave what follows it unchecked. */
    json_array_foreach(ms, i, v) {
        if (json_string_length(v) != 2 * EVIDENCE_MEASUREMENT_LEN ||
            evidence_unhex(json_string_value(v), out->measurements[i], EVIDENCE_MEASUREMENT_LEN) < 0)
            return snprintf(err, errlen, "policy measurement %zu is not 64 hex digits", i), -1;
    }
    out->nmeasurements = json_array_size(ms);
    const json_t *ev = json_object_get(j, "engine");
    const char *engine = json_string_value(ev);
    if (!engine || !*engine || strlen(engine) != json_string_length(ev) || strlen(engine) > POLICY_MAX_ENGINE ||
        strchr(engine, '/'))
        return snprintf(err, errlen, "the policy needs an engine name such as \"duktape\""), -1;
    strcpy(out->engine, engine);
    /* Invoker keys: exactly the JWK members a canonical key has, so the
     * canonical policy equals the one given as a JSON value. */
    const json_t *inv = json_object_get(j, "invokers");
    if (!inv) return 0;
    if (!json_is_array(inv) || json_array_size(inv) == 0 || json_array_size(inv) > POLICY_MAX_INVOKERS)
        return snprintf(err, errlen, "the policy's invokers must be 1..%u keys", POLICY_MAX_INVOKERS), -1;
    json_array_foreach(inv, i, v) {
        /* By length, as for measurements: a NUL must not cut a member short
         * (43 characters: 32 bytes, base64url unpadded). */
        const json_t *crv = json_object_get(v, "crv"), *kty = json_object_get(v, "kty"), *x = json_object_get(v, "x"),
                     *y = json_object_get(v, "y");
        int form = json_object_size(v) == 4 && json_string_length(crv) == 5 && json_string_length(kty) == 2 &&
                   !strcmp(json_string_value(crv), "P-256") && !strcmp(json_string_value(kty), "EC") &&
                   json_string_length(x) == 43 && strlen(json_string_value(x)) == 43 &&
                   json_string_length(y) == 43 && strlen(json_string_value(y)) == 43;
        EVP_PKEY *k = form ? p256_from_jwk(v) : NULL;
        int ok = k && p256_public_point(k, out->invokers[i]) == 0;
        EVP_PKEY_free(k);
        if (!ok)
            return snprintf(err, errlen, "policy invoker %zu is not a P-256 public key as a JWK of exactly crv, "
                            "kty, x and y", i), -1;
    }
    out->ninvokers = json_array_size(inv);
    return 0;
}

json_t *policy_json(const policy *p) {
    json_t *ms = json_array();
    for (size_t i = 0; ms && i < p->nmeasurements; i++) {
        char hex[2 * EVIDENCE_MEASUREMENT_LEN + 1];
        evidence_hex(p->measurements[i], EVIDENCE_MEASUREMENT_LEN, hex);
        json_array_append_new(ms, json_string(hex));
    }
    json_t *j = ms ? json_pack("{s:o, s:s}", "measurements", ms, "engine", p->engine) : NULL;
    if (!j || !p->ninvokers) return j;
    json_t *inv = json_array();
    for (size_t i = 0; inv && i < p->ninvokers; i++) {
        EVP_PKEY *k = p256_from_point(p->invokers[i], P256_POINT_LEN);
        char *jwk = k ? p256_public_jwk(k) : NULL;
        json_t *v = jwk ? json_loads(jwk, 0, NULL) : NULL;
        EVP_PKEY_free(k);
        free(jwk);
        if (!v || json_array_append_new(inv, v) < 0) {
            json_decref(inv);
            inv = NULL;
        }
    }
    if (!inv || json_object_set_new(j, "invokers", inv) < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int policy_accepts(const policy *p, const evidence_claims *c) {
    size_t n = strlen(p->engine);
    if (strncmp(c->engine, p->engine, n) != 0 || (c->engine[n] != '\0' && c->engine[n] != '/')) return 0;
    for (size_t i = 0; i < p->nmeasurements; i++)
        if (CRYPTO_memcmp(p->measurements[i], c->measurement, EVIDENCE_MEASUREMENT_LEN) == 0) return 1;
    return 0;
}
