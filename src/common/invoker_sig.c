/* invoker_sig.c - invokers' request signatures; see invoker_sig.h. */
#include "common/invoker_sig.h"

#include "common/evidence.h"
#include "common/jws.h"
#include "common/labels.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const char *invoker_sig_result_name(invoker_sig_result r) {
    switch (r) {
    case INVOKER_SIG_OK: return "ok";
    case INVOKER_SIG_MISSING: return "no signature";
    case INVOKER_SIG_MALFORMED: return "malformed signature";
    case INVOKER_SIG_UNKNOWN_KEY: return "not signed by an invoker key of the function";
    case INVOKER_SIG_OTHER_REQUEST: return "signed for another function, Date or content";
    case INVOKER_SIG_ERROR: return "internal error";
    }
    return "unknown";
}

char *invoker_sig_sign(EVP_PKEY *key, const char *target, const char *date, const uint8_t *content,
                       size_t content_len) {
    char hash[65], kid[P256_THUMBPRINT_LEN + 1], *text = NULL, *jws = NULL;
    evidence_sha256_hex(content, content_len, hash);
    if (p256_thumbprint(key, kid) < 0) return NULL;
    json_t *claims = json_pack("{s:s, s:s, s:s}", "target", target, "date", date, "content_sha256", hash);
    text = claims ? json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(claims);
    if (text && jws_sign(key, JWS_TYP_INVOKE, kid, (const uint8_t *)text, strlen(text), &jws) != JWS_OK) jws = NULL;
    free(text);
    return jws;
}

/* A JSON string equal to s, NUL bytes included (jansson allows them). */
static int same(const json_t *j, const char *s) {
    return json_is_string(j) && json_string_length(j) == strlen(s) && memcmp(json_string_value(j), s, strlen(s)) == 0;
}

int invoker_keys_add(invoker_keys *ks, const uint8_t point[P256_POINT_LEN]) {
    if (ks->n == sizeof ks->points / sizeof ks->points[0]) return -1;
    EVP_PKEY *k = p256_from_point(point, P256_POINT_LEN);
    int ok = k && p256_thumbprint(k, ks->kids[ks->n]) == 0;
    EVP_PKEY_free(k);
    if (!ok) return -1;
    memcpy(ks->points[ks->n++], point, P256_POINT_LEN);
    return 0;
}

invoker_sig_result invoker_sig_verify(const char *sig, size_t sig_len, const invoker_keys *ks, const char *target,
                                      const char *date, const uint8_t *content, size_t content_len) {
    if (!sig) return INVOKER_SIG_MISSING;
    jws_parts p;
    if (jws_decode(sig, sig_len, &p) != JWS_OK) return INVOKER_SIG_MALFORMED;
    invoker_sig_result r = INVOKER_SIG_MALFORMED;
    json_t *claims = NULL;
    if (strcmp(p.typ, JWS_TYP_INVOKE) != 0 || !p.kid[0]) goto out;
    /* kid names the key: only the listed key with that thumbprint is tried,
     * so a request costs one ECDSA verification at most, not one per key
     * (the public routes take requests from anyone). */
    r = INVOKER_SIG_UNKNOWN_KEY;
    for (size_t i = 0; i < ks->n; i++) {
        if (strcmp(ks->kids[i], p.kid) != 0) continue;
        EVP_PKEY *k = p256_from_point(ks->points[i], P256_POINT_LEN);
        r = !k ? INVOKER_SIG_ERROR : jws_verify(&p, k) == JWS_OK ? INVOKER_SIG_OK : INVOKER_SIG_UNKNOWN_KEY;
        EVP_PKEY_free(k);
        break; /* different keys have different thumbprints: no other key is named */
    }
    if (r != INVOKER_SIG_OK) goto out;
    claims = json_loadb((const char *)p.payload, p.payload_len, JSON_REJECT_DUPLICATES, NULL);
    json_t *t = json_object_get(claims, "target"), *d = json_object_get(claims, "date"),
           *h = json_object_get(claims, "content_sha256");
    if (!json_is_string(t) || !json_is_string(d) || !json_is_string(h)) {
        r = INVOKER_SIG_MALFORMED;
        goto out;
    }
    char hash[65];
    evidence_sha256_hex(content, content_len, hash);
    if (!same(t, target) || !same(d, date) || !same(h, hash)) r = INVOKER_SIG_OTHER_REQUEST;
out:
    json_decref(claims);
    jws_parts_free(&p);
    return r;
}
