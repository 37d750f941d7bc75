/* test_jws.c - base64url, P-256 keys and compact JWS ES256: round trips and
 * every refusal (tampering in each part, wrong key, other algorithms, crit,
 * non-canonical encodings, truncation at every byte), and invokers' request
 * signatures built on them. */
#include "check.h"
#include "scratch.h"

#include "common/b64url.h"
#include "common/invoker_sig.h"
#include "common/jws.h"
#include "common/labels.h"
#include "common/p256.h"

#include <stdlib.h>
#include <string.h>

static void test_b64url(void) {
    /* RFC 4648 §10 vectors, url-safe and unpadded. */
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char out[16];
        b64url_encode((const uint8_t *)plain[i], strlen(plain[i]), out);
        CHECK_STR(out, enc[i]);
        uint8_t back[16];
        long n = b64url_decode(enc[i], strlen(enc[i]), back, sizeof back);
        CHECK(n == (long)strlen(plain[i]) && memcmp(back, plain[i], (size_t)n) == 0);
    }
    uint8_t bytes[] = {0xfb, 0xff};
    char out[8];
    b64url_encode(bytes, 2, out);
    CHECK_STR(out, "-_8");
    uint8_t b[8];
    CHECK(b64url_decode("Zg==", 4, b, sizeof b) < 0);  /* padding */
    CHECK(b64url_decode("Zh", 2, b, sizeof b) < 0);    /* non-zero spare bits */
    CHECK(b64url_decode("Z", 1, b, sizeof b) < 0);     /* a lone character */
    CHECK(b64url_decode("Zm+v", 4, b, sizeof b) < 0);  /* standard alphabet */
    CHECK(b64url_decode("Zm9v", 4, b, 2) < 0);         /* too small */
}

static void test_keys(void) {
    EVP_PKEY *k = p256_generate();
    CHECK(k != NULL);
    uint8_t pt[P256_POINT_LEN];
    CHECK(p256_public_point(k, pt) == 0);
    EVP_PKEY *pub = p256_from_point(pt, sizeof pt);
    CHECK(pub && EVP_PKEY_eq(k, pub) == 1);
    uint8_t bad[P256_POINT_LEN];
    memcpy(bad, pt, sizeof bad);
    bad[40] ^= 1; /* off the curve */
    CHECK(p256_from_point(bad, sizeof bad) == NULL);
    CHECK(p256_from_point(pt, 64) == NULL);

    char *jwk = p256_public_jwk(k);
    CHECK(jwk && strncmp(jwk, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"", 31) == 0);
    char tp[P256_THUMBPRINT_LEN + 1], tp2[P256_THUMBPRINT_LEN + 1];
    CHECK(p256_thumbprint(k, tp) == 0 && p256_thumbprint(pub, tp2) == 0 && strcmp(tp, tp2) == 0);
    CHECK(strlen(tp) == P256_THUMBPRINT_LEN);
    /* The JWK reads back as the same key; hostile JWKs give NULL. */
    json_t *jo = jwk ? json_loads(jwk, 0, NULL) : NULL;
    EVP_PKEY *back = p256_from_jwk(jo);
    CHECK(back && EVP_PKEY_eq(back, k) == 1);
    EVP_PKEY_free(back);
    CHECK(p256_from_jwk(NULL) == NULL);
    json_t *bad_jwk = json_deep_copy(jo);
    json_object_set_new(bad_jwk, "y", json_string("AAAA"));
    CHECK(p256_from_jwk(bad_jwk) == NULL); /* short coordinate */
    json_object_set_new(bad_jwk, "y", json_integer(7));
    CHECK(p256_from_jwk(bad_jwk) == NULL); /* not a string */
    json_object_set(bad_jwk, "y", json_object_get(jo, "x"));
    CHECK(p256_from_jwk(bad_jwk) == NULL); /* (x, x) is not on the curve */
    json_decref(bad_jwk);
    json_decref(jo);
    free(jwk);

    size_t der_len = 0;
    uint8_t *der = p256_private_der(k, &der_len);
    CHECK(der != NULL);
    EVP_PKEY *k2 = der ? p256_from_private_der(der, der_len) : NULL;
    CHECK(k2 && EVP_PKEY_eq(k, k2) == 1);
    CHECK(der && p256_from_private_der(der, der_len - 1) == NULL);
    free(der);

    char *dir = scratch_dir("jws");
    char *priv = strdup(path_join(dir, "k.key")), *pubp = strdup(path_join(dir, "k.pem"));
    CHECK(p256_write_private_pem(k, priv) == 0 && p256_write_public_pem(k, pubp) == 0);
    EVP_PKEY *r1 = p256_read_private_pem(priv), *r2 = p256_read_public_pem(pubp);
    CHECK(r1 && r2 && EVP_PKEY_eq(k, r1) == 1 && EVP_PKEY_eq(k, r2) == 1);
    CHECK(p256_read_public_pem("/nonexistent/x.pem") == NULL);
    char *pem = p256_public_pem(k);
    EVP_PKEY *r3 = pem ? p256_public_from_pem(pem, strlen(pem)) : NULL;
    CHECK(r3 && EVP_PKEY_eq(k, r3) == 1);
    free(pem);
    free(priv);
    free(pubp);
    scratch_remove(dir);
    EVP_PKEY_free(r1);
    EVP_PKEY_free(r2);
    EVP_PKEY_free(r3);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(k);
}

/* Builds "b64(header).b64(payload).b64(sig)" from parts, for hostile cases. */
static char *assemble(const char *header, const char *payload, const uint8_t *sig, size_t sig_len) {
    char *h = b64url_encode_alloc((const uint8_t *)header, strlen(header));
    char *p = b64url_encode_alloc((const uint8_t *)payload, strlen(payload));
    char *s = b64url_encode_alloc(sig, sig_len);
    char *out = NULL;
    if (asprintf(&out, "%s.%s.%s", h, p, s) < 0) out = NULL;
    free(h);
    free(p);
    free(s);
    return out;
}

static void test_jws(void) {
    EVP_PKEY *k = p256_generate(), *other = p256_generate();
    const char *payload = "{\"hello\":\"world\"}";
    char *jws = NULL;
    CHECK(jws_sign(k, "test+jwt", "kid1", (const uint8_t *)payload, strlen(payload), &jws) == JWS_OK);
    jws_parts p;
    CHECK(jws_open(jws, strlen(jws), "test+jwt", k, &p) == JWS_OK);
    CHECK_STR(p.typ, "test+jwt");
    CHECK_STR(p.kid, "kid1");
    CHECK_STR((const char *)p.payload, payload);
    jws_parts_free(&p);
    CHECK(jws_open(jws, strlen(jws), "other+jwt", k, &p) == JWS_ERR_MALFORMED);
    CHECK(jws_open(jws, strlen(jws), NULL, other, &p) == JWS_ERR_SIGNATURE);

    /* Flip every character in turn: nothing may verify. */
    size_t len = strlen(jws);
    char *copy = strdup(jws);
    int accepted = 0;
    for (size_t i = 0; i < len; i++) {
        char c = copy[i];
        copy[i] = c == 'A' ? 'B' : 'A';
        if (copy[i] != c && jws_open(copy, len, NULL, k, &p) == JWS_OK) {
            /* A changed last character can decode to the same bytes only if
             * spare bits were ignored, which b64url refuses. */
            accepted++;
            jws_parts_free(&p);
        }
        copy[i] = c;
    }
    CHECK(accepted == 0);
    /* Truncation at every length. */
    for (size_t n = 0; n < len; n++) CHECK(jws_open(jws, n, NULL, k, &p) != JWS_OK);
    free(copy);

    /* Hostile headers. */
    uint8_t sig[64];
    memset(sig, 1, sizeof sig);
    char *t = assemble("{\"alg\":\"none\"}", payload, sig, 64);
    CHECK(jws_decode(t, strlen(t), &p) == JWS_ERR_ALG);
    free(t);
    t = assemble("{\"alg\":\"ES256\",\"crit\":[\"x\"]}", payload, sig, 64);
    CHECK(jws_decode(t, strlen(t), &p) == JWS_ERR_ALG);
    free(t);
    t = assemble("[1]", payload, sig, 64);
    CHECK(jws_decode(t, strlen(t), &p) == JWS_ERR_MALFORMED);
    free(t);
    t = assemble("{\"alg\":\"ES256\",\"alg\":\"ES256\"}", payload, sig, 64);
    CHECK(jws_decode(t, strlen(t), &p) == JWS_ERR_MALFORMED);
    free(t);
    t = assemble("{\"alg\":\"ES256\",\"typ\":7}", payload, sig, 64);
    CHECK(jws_decode(t, strlen(t), &p) == JWS_ERR_MALFORMED);
    free(t);
    t = assemble("{\"alg\":\"ES256\"}", payload, sig, 63);
    CHECK(jws_decode(t, strlen(t), &p) == JWS_ERR_MALFORMED);
    free(t);
    /* r = s = 0 is not a signature (and must not crash the DER encoder path). */
    memset(sig, 0, sizeof sig);
    t = assemble("{\"alg\":\"ES256\"}", payload, sig, 64);
    CHECK(jws_decode(t, strlen(t), &p) == JWS_OK);
    CHECK(jws_verify(&p, k) == JWS_ERR_SIGNATURE);
    jws_parts_free(&p);
    free(t);
    CHECK(jws_decode("a.b", 3, &p) == JWS_ERR_MALFORMED);
    CHECK(jws_decode("a.b.c.d", 7, &p) == JWS_ERR_MALFORMED);
    CHECK(jws_decode(".b.c", 4, &p) == JWS_ERR_MALFORMED);
    CHECK(jws_decode(jws, JWS_MAX_LEN + 1, &p) == JWS_ERR_TOO_LARGE);
    CHECK(jws_verify(&p, NULL) == JWS_ERR_KEY);

    free(jws);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
}

/* Invokers' request signatures (invoker_sig.c): what the CLI signs the
 * enclave accepts, for that target, Date and content and one of its keys
 * only. */
static void test_invoker_sig(void) {
    EVP_PKEY *alice = p256_generate(), *bob = p256_generate();
    uint8_t a[P256_POINT_LEN], b[P256_POINT_LEN];
    invoker_keys both = {0}, bob_only = {0};
    CHECK(alice && bob && p256_public_point(bob, b) == 0 && p256_public_point(alice, a) == 0);
    CHECK(invoker_keys_add(&both, b) == 0 && invoker_keys_add(&both, a) == 0 && invoker_keys_add(&bob_only, b) == 0);
    const char *date = "Mon, 07 Dec 2026 03:00:00 GMT", *body = "{\"a\":1}";
    char *sig = invoker_sig_sign(alice, "guest/f", date, (const uint8_t *)body, strlen(body));
    CHECK(sig != NULL);
    size_t n = sig ? strlen(sig) : 0;
    CHECK(invoker_sig_verify(sig, n, &both, "guest/f", date,
                             (const uint8_t *)body, strlen(body)) == INVOKER_SIG_OK);
    /* only bob listed: alice's kid names no key */
    CHECK(invoker_sig_verify(sig, n, &bob_only, "guest/f", date,
                             (const uint8_t *)body, strlen(body)) == INVOKER_SIG_UNKNOWN_KEY);
    CHECK(invoker_sig_verify(sig, n, &both, "guest/g", date,
                             (const uint8_t *)body, strlen(body)) == INVOKER_SIG_OTHER_REQUEST);
    CHECK(invoker_sig_verify(sig, n, &both, "guest/f",
                             "Mon, 07 Dec 2026 03:00:01 GMT", (const uint8_t *)body, strlen(body)) ==
          INVOKER_SIG_OTHER_REQUEST);
    CHECK(invoker_sig_verify(sig, n, &both, "guest/f", date,
                             (const uint8_t *)"{}", 2) == INVOKER_SIG_OTHER_REQUEST);
    CHECK(invoker_sig_verify(NULL, 0, &both, "guest/f", date,
                             (const uint8_t *)body, strlen(body)) == INVOKER_SIG_MISSING);
    CHECK(invoker_sig_verify("x.y.z", 5, &both, "guest/f", date,
                             (const uint8_t *)body, strlen(body)) == INVOKER_SIG_MALFORMED);
    /* bob's signature under alice's kid: alice's key is tried, and refuses */
    char akid[P256_THUMBPRINT_LEN + 1], *forged = NULL, claims[512];
    snprintf(claims, sizeof claims, "{\"content_sha256\":\"x\",\"date\":\"%s\",\"target\":\"guest/f\"}", date);
    CHECK(p256_thumbprint(alice, akid) == 0 &&
          jws_sign(bob, JWS_TYP_INVOKE, akid, (const uint8_t *)claims, strlen(claims), &forged) == JWS_OK);
    CHECK(invoker_sig_verify(forged, strlen(forged), &both, "guest/f", date, (const uint8_t *)body, strlen(body)) ==
          INVOKER_SIG_UNKNOWN_KEY);
    free(forged);
    /* at most POLICY_MAX_INVOKERS keys */
    invoker_keys full = {0};
    for (unsigned i = 0; i < POLICY_MAX_INVOKERS; i++) CHECK(invoker_keys_add(&full, a) == 0);
    CHECK(invoker_keys_add(&full, a) < 0);
    /* another typ: a receipt or certificate is not a request signature */
    char *other = NULL;
    CHECK(jws_sign(alice, "tfaas-receipt+jwt", NULL, (const uint8_t *)"{}", 2, &other) == JWS_OK);
    CHECK(invoker_sig_verify(other, strlen(other), &both, "guest/f", date,
                             (const uint8_t *)body, strlen(body)) == INVOKER_SIG_MALFORMED);
    CHECK_STR(invoker_sig_result_name(INVOKER_SIG_OTHER_REQUEST), "signed for another function, Date or content");
    free(other);
    free(sig);
    EVP_PKEY_free(alice);
    EVP_PKEY_free(bob);
}

/* A prepared signer (one DigestSign context copied per signature) signs
 * what jws_sign signs: each JWS verifies with the key, twice in a row (the
 * prepared context is not used up), and only with that key. */
static void test_signer(void) {
    EVP_PKEY *k = p256_generate(), *other = p256_generate();
    jws_signer *s = jws_signer_new(k);
    CHECK(s != NULL);
    CHECK(jws_signer_new(NULL) == NULL);
    for (int i = 0; s && i < 3; i++) {
        char *out = NULL;
        CHECK(jws_signer_sign(s, "tfaas-receipt-root+jwt", "kid1", (const uint8_t *)"{\"n\":1}", 7, &out) == JWS_OK);
        jws_parts p;
        CHECK(out && jws_open(out, strlen(out), "tfaas-receipt-root+jwt", k, &p) == JWS_OK);
        if (out) CHECK(p.payload_len == 7 && memcmp(p.payload, "{\"n\":1}", 7) == 0 && strcmp(p.kid, "kid1") == 0);
        jws_parts_free(&p);
        CHECK(out && jws_open(out, strlen(out), NULL, other, &p) == JWS_ERR_SIGNATURE);
        free(out);
    }
    jws_signer_free(s);
    jws_signer_free(NULL);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
}

int main(void) {
    test_b64url();
    test_signer();
    test_keys();
    test_jws();
    test_invoker_sig();
    return CHECK_DONE();
}
