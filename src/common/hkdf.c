/* hkdf.c - HKDF-SHA256 Extract and Expand as separate steps, over OpenSSL's
 * HMAC (EVP_MAC); and one-shot HKDF with a named digest over OpenSSL's
 * EVP_KDF (WebCrypto's deriveBits, far off any hot path).
 *
 * Why not OpenSSL's own HKDF (EVP_KDF "HKDF")? In OpenSSL 3.0 each derive
 * looks SHA-256 up by name and runs HMAC through EVP_Q_mac, which fetches
 * the MAC and the digest again: provider locks and name lookups cost more
 * than the hashing for the dozen short HKDF steps of every HPKE message. So
 * HMAC-SHA256 is set up once (a template context, fetched once) and each step
 * duplicates it; the two steps are RFC 5869 §2.2 and §2.3 as written, checked
 * against the RFC's test vectors (tests/unit/common/test_hpke.c). */
#include "common/hkdf.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <pthread.h>
#include <string.h>

static const uint8_t zero_salt[HKDF_SHA256_LEN];

/* HMAC-SHA256 with no key yet; made once, read-only afterwards (each step
 * duplicates it), kept for the life of the process. */
static EVP_MAC_CTX *hmac_template;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_setup(void) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (ctx && EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    EVP_MAC_free(mac); /* the context keeps its own reference */
    hmac_template = ctx;
}

/* A fresh HMAC-SHA256 keyed with key, or NULL. An empty key is legal
 * (HMAC pads it with zeros); OpenSSL wants a non-NULL pointer for it. */
static EVP_MAC_CTX *hmac_begin(const uint8_t *key, size_t key_len) {
    static const uint8_t empty[1];
    if (pthread_once(&hmac_once, hmac_setup) != 0 || !hmac_template) return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(hmac_template);
    if (ctx && EVP_MAC_init(ctx, key_len ? key : empty, key_len, NULL) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static int hmac_final(EVP_MAC_CTX *ctx, uint8_t out[HKDF_SHA256_LEN]) {
    size_t len = 0;
    int ok = EVP_MAC_final(ctx, out, &len, HKDF_SHA256_LEN) == 1 && len == HKDF_SHA256_LEN;
    EVP_MAC_CTX_free(ctx);
    return ok;
}

hkdf_result hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                         uint8_t prk[HKDF_SHA256_LEN]) {
    if (!salt || salt_len == 0) {
        salt = zero_salt;
        salt_len = sizeof zero_salt;
    }
    EVP_MAC_CTX *ctx = hmac_begin(salt, salt_len);
    if (!ctx) return HKDF_ERR_CRYPTO;
    if (ikm_len && EVP_MAC_update(ctx, ikm, ikm_len) != 1) {
        EVP_MAC_CTX_free(ctx);
        return HKDF_ERR_CRYPTO;
    }
    return hmac_final(ctx, prk) ? HKDF_OK : HKDF_ERR_CRYPTO;
}

/* T(0) = empty; T(i) = HMAC(prk, T(i-1) || info || i); out = T(1) || T(2) ... */
hkdf_result hkdf_expand(const uint8_t prk[HKDF_SHA256_LEN], const uint8_t *info, size_t info_len,
                        uint8_t *out, size_t out_len) {
    if (out_len == 0 || out_len > HKDF_SHA256_MAX_EXPAND) return HKDF_ERR_LENGTH;
    uint8_t t[HKDF_SHA256_LEN];
    hkdf_result r = HKDF_OK;
    for (size_t done = 0, i = 1; done < out_len && r == HKDF_OK; i++) {
        uint8_t counter = (uint8_t)i;
        EVP_MAC_CTX *ctx = hmac_begin(prk, HKDF_SHA256_LEN);
        if (!ctx || (i > 1 && EVP_MAC_update(ctx, t, sizeof t) != 1) ||
            (info_len && EVP_MAC_update(ctx, info, info_len) != 1) || EVP_MAC_update(ctx, &counter, 1) != 1) {
            EVP_MAC_CTX_free(ctx);
            r = HKDF_ERR_CRYPTO;
            break;
        }
        if (!hmac_final(ctx, t)) {
            r = HKDF_ERR_CRYPTO;
            break;
        }
        size_t take = out_len - done < sizeof t ? out_len - done : sizeof t;
        memcpy(out + done, t, take);
        done += take;
    }
    OPENSSL_cleanse(t, sizeof t);
    if (r != HKDF_OK) OPENSSL_cleanse(out, out_len);
    return r;
}

hkdf_result hkdf_derive(const char *digest, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                        size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len) {
    EVP_MD *md = EVP_MD_fetch(NULL, digest, NULL);
    int md_len = md ? EVP_MD_get_size(md) : 0;
    EVP_MD_free(md);
    if (md_len <= 0) return HKDF_ERR_CRYPTO;
    if (out_len == 0 || out_len > 255u * (size_t)md_len) return HKDF_ERR_LENGTH;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf); /* the context keeps its own reference */
    if (!kctx) return HKDF_ERR_CRYPTO;
    /* RFC 5869 §2.2: an absent salt is HashLen zeros; HMAC pads a short key
     * with zeros anyway, so an empty salt gives the same PRK. OpenSSL wants
     * non-NULL pointers for empty octet strings. */
    static const uint8_t empty[1];
    int mode = EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(ikm_len ? ikm : empty), ikm_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)(salt && salt_len ? salt : empty), salt_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)(info && info_len ? info : empty), info_len),
        OSSL_PARAM_construct_end(),
    };
    int ok = EVP_KDF_derive(kctx, out, out_len, params);
    EVP_KDF_CTX_free(kctx);
    return ok == 1 ? HKDF_OK : HKDF_ERR_CRYPTO;
}
