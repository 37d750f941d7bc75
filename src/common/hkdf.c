/* hkdf.c - HKDF-SHA256 Extract and Expand as separate steps, and one-shot
 * HKDF with a named digest (OpenSSL 3 EVP_KDF). */
#include "common/hkdf.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <pthread.h>

static const uint8_t zero_salt[HKDF_SHA256_LEN];

/* The HKDF implementation, fetched once: a fetch takes OpenSSL's provider
 * locks and lookups, and HPKE runs a dozen HKDF steps per message. Kept for
 * the life of the process (OpenSSL frees it at exit). */
static EVP_KDF *hkdf_impl;
static pthread_once_t hkdf_once = PTHREAD_ONCE_INIT;
static void hkdf_fetch(void) { hkdf_impl = EVP_KDF_fetch(NULL, "HKDF", NULL); }

/* One HKDF step in the given mode with the named digest. */
static hkdf_result hkdf_run(const char *digest, int mode, const uint8_t *key, size_t key_len, const uint8_t *salt,
                            size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out,
                            size_t out_len) {
    static const uint8_t empty[1];
    if (pthread_once(&hkdf_once, hkdf_fetch) != 0 || !hkdf_impl) return HKDF_ERR_CRYPTO;
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(hkdf_impl);
    if (!kctx) return HKDF_ERR_CRYPTO;
    OSSL_PARAM params[6], *p = params;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
    *p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(key_len ? key : empty),
                                             key_len);
    if (salt) *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    if (info) *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                       (void *)(info_len ? info : empty), info_len);
    *p = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(kctx, out, out_len, params);
    EVP_KDF_CTX_free(kctx);
    return ok == 1 ? HKDF_OK : HKDF_ERR_CRYPTO;
}

hkdf_result hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                         uint8_t prk[HKDF_SHA256_LEN]) {
    if (!salt || salt_len == 0) {
        salt = zero_salt;
        salt_len = sizeof zero_salt;
    }
    return hkdf_run("SHA256", EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ikm, ikm_len, salt, salt_len, NULL, 0, prk,
                    HKDF_SHA256_LEN);
}

hkdf_result hkdf_expand(const uint8_t prk[HKDF_SHA256_LEN], const uint8_t *info, size_t info_len,
                        uint8_t *out, size_t out_len) {
    if (out_len == 0 || out_len > HKDF_SHA256_MAX_EXPAND) return HKDF_ERR_LENGTH;
    static const uint8_t empty[1];
    return hkdf_run("SHA256", EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, HKDF_SHA256_LEN, NULL, 0,
                    info ? info : empty, info_len, out, out_len);
}

hkdf_result hkdf_derive(const char *digest, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                        size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len) {
    EVP_MD *md = EVP_MD_fetch(NULL, digest, NULL);
    int md_len = md ? EVP_MD_get_size(md) : 0;
    EVP_MD_free(md);
    if (md_len <= 0) return HKDF_ERR_CRYPTO;
    if (out_len == 0 || out_len > 255u * (size_t)md_len) return HKDF_ERR_LENGTH;
    static const uint8_t empty[1];
    /* RFC 5869 §2.2: an absent salt is HashLen zeros; HMAC pads a short key
     * with zeros anyway, so an empty salt gives the same PRK. */
    return hkdf_run(digest, EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, ikm, ikm_len, salt ? salt : empty, salt_len,
                    info ? info : empty, info_len, out, out_len);
}
