/* jws.c - compact JWS with ES256 on OpenSSL libcrypto; see jws.h. */
#include "common/jws.h"

#include "common/b64url.h"
#include "common/json_text.h"
#include "common/p256.h"
#include "common/sha256.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <stdlib.h>
#include <string.h>

const char *jws_result_name(jws_result r) {
    switch (r) {
    case JWS_OK: return "ok";
    case JWS_ERR_MALFORMED: return "malformed JWS";
    case JWS_ERR_TOO_LARGE: return "JWS too large";
    case JWS_ERR_ALG: return "JWS algorithm is not ES256";
    case JWS_ERR_SIGNATURE: return "JWS signature does not verify";
    case JWS_ERR_KEY: return "not a P-256 key";
    case JWS_ERR_CRYPTO: return "crypto failure";
    }
    return "unknown JWS result";
}

int jws_sig_der_to_raw(const uint8_t *der, size_t len, uint8_t raw[JWS_SIG_LEN]) {
    const uint8_t *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (!sig) return -1;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    int ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok ? 0 : -1;
}

uint8_t *jws_sig_raw_to_der(const uint8_t raw[JWS_SIG_LEN], size_t *len) {
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 32, NULL), *s = BN_bin2bn(raw + 32, 32, NULL);
    uint8_t *der = NULL;
    if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return NULL;
    }
    int n = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (n <= 0) return NULL;
    *len = (size_t)n;
    return der;
}

struct jws_signer {
    EVP_MD_CTX *ready; /* EVP_DigestSignInit done with the key; only read (copied) */
};

jws_signer *jws_signer_new(EVP_PKEY *key) {
    jws_signer *s = calloc(1, sizeof *s);
    if (!s || !p256_is_key(key) || !(s->ready = EVP_MD_CTX_new()) || !sha256_md() ||
        EVP_DigestSignInit(s->ready, NULL, sha256_md(), NULL, key) != 1) {
        jws_signer_free(s);
        return NULL;
    }
    return s;
}

void jws_signer_free(jws_signer *s) {
    if (!s) return;
    EVP_MD_CTX_free(s->ready);
    free(s);
}

/* The JWS of payload signed with md, a DigestSign context ready for one
 * signature (the caller frees it). */
static jws_result sign_with(EVP_MD_CTX *md, const char *typ, const char *kid, const uint8_t *payload,
                            size_t payload_len, char **out) {
    /* The header written as text, members in sorted order (a receipt is
     * signed per request; a JSON tree for three strings cost more than the
     * rest of this function but the signature). */
    size_t tl = typ ? strlen(typ) : 0, kl = kid ? strlen(kid) : 0;
    if (tl > JWS_MAX_LEN || kl > JWS_MAX_LEN) return JWS_ERR_TOO_LARGE;
    /* {"alg":"ES256","kid":"","typ":""} and its NUL are 34 bytes; the escaped
     * strings come on top (JSON_TEXT_ESCAPED_MAX counts a NUL each). */
    char *hdr_text = malloc(48 + JSON_TEXT_ESCAPED_MAX(tl) + JSON_TEXT_ESCAPED_MAX(kl));
    if (!hdr_text) return JWS_ERR_CRYPTO;
    char *h = hdr_text + sprintf(hdr_text, "{\"alg\":\"ES256\"");
    if (kid) {
        h += sprintf(h, ",\"kid\":\"");
        h += json_text_escape(h, kid, kl);
        *h++ = '"';
    }
    if (typ) {
        h += sprintf(h, ",\"typ\":\"");
        h += json_text_escape(h, typ, tl);
        *h++ = '"';
    }
    strcpy(h, "}");

    size_t hlen = b64url_encoded_len(strlen(hdr_text)), plen = b64url_encoded_len(payload_len);
    size_t total = hlen + 1 + plen + 1 + b64url_encoded_len(JWS_SIG_LEN);
    char *buf = malloc(total + 1);
    jws_result r = JWS_ERR_CRYPTO;
    uint8_t *der = NULL;
    size_t der_len = 0;
    if (!buf) goto out;
    b64url_encode((const uint8_t *)hdr_text, strlen(hdr_text), buf);
    buf[hlen] = '.';
    b64url_encode(payload, payload_len, buf + hlen + 1);
    size_t signing_len = hlen + 1 + plen;
    if (EVP_DigestSign(md, NULL, &der_len, (const uint8_t *)buf, signing_len) != 1 ||
        !(der = OPENSSL_malloc(der_len)) ||
        EVP_DigestSign(md, der, &der_len, (const uint8_t *)buf, signing_len) != 1)
        goto out;
    uint8_t raw[JWS_SIG_LEN];
    if (jws_sig_der_to_raw(der, der_len, raw) < 0) goto out;
    buf[signing_len] = '.';
    b64url_encode(raw, sizeof raw, buf + signing_len + 1);
    *out = buf;
    buf = NULL;
    r = JWS_OK;
out:
    OPENSSL_free(der);
    free(buf);
    free(hdr_text);
    return r;
}

jws_result jws_sign(EVP_PKEY *key, const char *typ, const char *kid, const uint8_t *payload,
                    size_t payload_len, char **out) {
    *out = NULL;
    if (!p256_is_key(key)) return JWS_ERR_KEY;
    if (payload_len > JWS_MAX_LEN) return JWS_ERR_TOO_LARGE;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    jws_result r = JWS_ERR_CRYPTO;
    if (md && sha256_md() && EVP_DigestSignInit(md, NULL, sha256_md(), NULL, key) == 1)
        r = sign_with(md, typ, kid, payload, payload_len, out);
    EVP_MD_CTX_free(md);
    return r;
}

jws_result jws_signer_sign(const jws_signer *s, const char *typ, const char *kid, const uint8_t *payload,
                           size_t payload_len, char **out) {
    *out = NULL;
    if (payload_len > JWS_MAX_LEN) return JWS_ERR_TOO_LARGE;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    jws_result r = JWS_ERR_CRYPTO;
    if (md && EVP_MD_CTX_copy_ex(md, s->ready) == 1) r = sign_with(md, typ, kid, payload, payload_len, out);
    EVP_MD_CTX_free(md);
    return r;
}

void jws_parts_free(jws_parts *p) {
    free(p->payload);
    free(p->signing_input);
    memset(p, 0, sizeof *p);
}

/* Copies an optional string member of the header; -1 if present but not a
 * string or too long. */
static int header_string(json_t *hdr, const char *name, char out[JWS_MAX_HEADER_FIELD + 1]) {
    out[0] = '\0';
    json_t *v = json_object_get(hdr, name);
    if (!v) return 0;
    if (!json_is_string(v) || json_string_length(v) > JWS_MAX_HEADER_FIELD) return -1;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return (int)strlen(out) == (int)json_string_length(v) ? 0 : -1; /* no NUL inside */
}

jws_result jws_decode(const char *jws, size_t len, jws_parts *out) {
    memset(out, 0, sizeof *out);
    if (!jws) return JWS_ERR_MALFORMED;
    if (len > JWS_MAX_LEN) return JWS_ERR_TOO_LARGE;
    const char *d1 = memchr(jws, '.', len);
    if (!d1) return JWS_ERR_MALFORMED;
    const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jws));
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jws))) return JWS_ERR_MALFORMED;
    size_t hlen = (size_t)(d1 - jws), plen = (size_t)(d2 - d1 - 1), slen = len - (size_t)(d2 + 1 - jws);
    if (hlen == 0) return JWS_ERR_MALFORMED;

    size_t htext_len = 0;
    uint8_t *htext = b64url_decode_alloc(jws, hlen, &htext_len);
    if (!htext) return JWS_ERR_MALFORMED;
    json_t *hdr = json_loadb((const char *)htext, htext_len, JSON_REJECT_DUPLICATES, NULL);
    free(htext);
    jws_result r = JWS_ERR_MALFORMED;
    if (!json_is_object(hdr)) goto out;
    json_t *alg = json_object_get(hdr, "alg");
    if (!json_is_string(alg)) goto out;
    if (strcmp(json_string_value(alg), "ES256") != 0 || json_object_get(hdr, "crit")) {
        r = JWS_ERR_ALG;
        goto out;
    }
    if (header_string(hdr, "typ", out->typ) < 0 || header_string(hdr, "kid", out->kid) < 0) goto out;
    if (b64url_decode(d2 + 1, slen, out->sig, sizeof out->sig) != JWS_SIG_LEN) goto out;
    if (!(out->payload = b64url_decode_alloc(d1 + 1, plen, &out->payload_len))) goto out;
    r = JWS_ERR_CRYPTO;
    if (!(out->signing_input = malloc(hlen + 1 + plen + 1))) goto out;
    memcpy(out->signing_input, jws, hlen + 1 + plen);
    out->signing_input[hlen + 1 + plen] = '\0';
    out->signing_input_len = hlen + 1 + plen;
    r = JWS_OK;
out:
    json_decref(hdr);
    if (r != JWS_OK) jws_parts_free(out);
    return r;
}

jws_result jws_verify(const jws_parts *p, EVP_PKEY *pub) {
    if (!p256_is_key(pub)) return JWS_ERR_KEY;
    if (!p->signing_input) return JWS_ERR_MALFORMED;
    size_t der_len = 0;
    uint8_t *der = jws_sig_raw_to_der(p->sig, &der_len);
    if (!der) return JWS_ERR_SIGNATURE; /* r or s of zero cannot be encoded: not a signature */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    jws_result r = JWS_ERR_CRYPTO;
    if (md && EVP_DigestVerifyInit(md, NULL, sha256_md(), NULL, pub) == 1)
        r = EVP_DigestVerify(md, der, der_len, (const uint8_t *)p->signing_input, p->signing_input_len) == 1
                ? JWS_OK : JWS_ERR_SIGNATURE;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    return r;
}

jws_result jws_open(const char *jws, size_t len, const char *expected_typ, EVP_PKEY *pub, jws_parts *out) {
    jws_result r = jws_decode(jws, len, out);
    if (r != JWS_OK) return r;
    if (expected_typ && strcmp(out->typ, expected_typ) != 0) r = JWS_ERR_MALFORMED;
    else r = jws_verify(out, pub);
    if (r != JWS_OK) jws_parts_free(out);
    return r;
}
