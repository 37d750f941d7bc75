/* webcrypto.c - digests, HMAC, HKDF, AES-GCM, ECDSA P-256 and Ed25519 over
 * OpenSSL 3 for the V8 enclave's Web Crypto; see webcrypto.h. P-256 key
 * handling and the ECDSA signature shape reuse src/common (p256.c, jws.c),
 * HKDF src/common/hkdf.c. */
#include "trusted/crypto/webcrypto.h"

#include "common/hkdf.h"
#include "common/jws.h"
#include "common/p256.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <string.h>

const char *wc_result_name(wc_result r) {
    switch (r) {
    case WC_OK: return "ok";
    case WC_ERR_HASH: return "unsupported hash";
    case WC_ERR_KEY: return "invalid key data";
    case WC_ERR_PARAM: return "invalid algorithm parameter";
    case WC_ERR_AUTH: return "authentication failed";
    case WC_ERR_CRYPTO: return "crypto failure";
    }
    return "unknown webcrypto result";
}

/* The digests offered, by OpenSSL name: an allow-list, so a function cannot
 * reach whatever else the provider happens to carry. */
static const EVP_MD *md_of(const char *hash) {
    static const struct { const char *name; const EVP_MD *(*md)(void); } mds[] = {
        {"SHA1", EVP_sha1}, {"SHA256", EVP_sha256}, {"SHA384", EVP_sha384},
        {"SHA512", EVP_sha512}, {"MD5", EVP_md5},
    };
    for (size_t i = 0; hash && i < sizeof mds / sizeof mds[0]; i++)
        if (strcmp(hash, mds[i].name) == 0) return mds[i].md();
    return NULL;
}

size_t wc_digest_len(const char *hash) {
    const EVP_MD *md = md_of(hash);
    return md ? (size_t)EVP_MD_get_size(md) : 0;
}

wc_result wc_digest(const char *hash, const uint8_t *in, size_t n, uint8_t *out) {
    const EVP_MD *md = md_of(hash);
    if (!md) return WC_ERR_HASH;
    unsigned int len = 0;
    return EVP_Digest(in, n, out, &len, md, NULL) == 1 ? WC_OK : WC_ERR_CRYPTO;
}

wc_result wc_hmac(const char *hash, const uint8_t *key, size_t key_len, const uint8_t *in, size_t n, uint8_t *out) {
    static const uint8_t empty[1];
    const EVP_MD *md = md_of(hash);
    if (!md) return WC_ERR_HASH;
    if (key_len > INT32_MAX) return WC_ERR_KEY;
    unsigned int len = 0;
    return HMAC(md, key_len ? key : empty, (int)key_len, in, n, out, &len) ? WC_OK : WC_ERR_CRYPTO;
}

wc_result wc_hkdf(const char *hash, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                  const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len) {
    /* MD5 is for the Node module's createHash only. */
    if (!md_of(hash) || strcmp(hash, "MD5") == 0) return WC_ERR_HASH;
    switch (hkdf_derive(hash, ikm, ikm_len, salt, salt_len, info, info_len, out, out_len)) {
    case HKDF_OK: return WC_OK;
    case HKDF_ERR_LENGTH: return WC_ERR_PARAM;
    case HKDF_ERR_CRYPTO: break;
    }
    return WC_ERR_CRYPTO;
}

wc_result wc_random(uint8_t *out, size_t n) {
    /* RAND_bytes takes an int; callers ask for at most 64 KiB at once anyway. */
    while (n > 0) {
        int chunk = n > (1u << 20) ? 1 << 20 : (int)n;
        if (RAND_bytes(out, chunk) != 1) return WC_ERR_CRYPTO;
        out += chunk;
        n -= (size_t)chunk;
    }
    return WC_OK;
}

static const EVP_CIPHER *gcm_of(size_t key_len) {
    switch (key_len) {
    case 16: return EVP_aes_128_gcm();
    case 24: return EVP_aes_192_gcm();
    case 32: return EVP_aes_256_gcm();
    }
    return NULL;
}

wc_result wc_aes_gcm(int encrypt, const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
                     const uint8_t *aad, size_t aad_len, size_t tag_len, const uint8_t *in, size_t n,
                     uint8_t *out, size_t *out_len) {
    const EVP_CIPHER *c = gcm_of(key_len);
    if (!c) return WC_ERR_KEY;
    /* WebCrypto's tag lengths (32, 64, 96..128 bits); IVs up to 2^31 bytes. */
    if (!(tag_len == 4 || tag_len == 8 || (tag_len >= 12 && tag_len <= WC_GCM_MAX_TAG)) || iv_len == 0 ||
        iv_len > INT32_MAX || aad_len > INT32_MAX || n > INT32_MAX - WC_GCM_MAX_TAG)
        return WC_ERR_PARAM;
    if (!encrypt && n < tag_len) return WC_ERR_AUTH;
    size_t body = encrypt ? n : n - tag_len;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    wc_result r = WC_ERR_CRYPTO;
    if (!ctx || EVP_CipherInit_ex(ctx, c, NULL, NULL, NULL, encrypt) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)iv_len, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, encrypt) != 1)
        goto out;
    if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)tag_len, (void *)(in + body)) != 1) goto out;
    if (aad_len && EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aad_len) != 1) goto out;
    if (body && EVP_CipherUpdate(ctx, out, &len, in, (int)body) != 1) goto out;
    if (EVP_CipherFinal_ex(ctx, out + len, &fin) != 1) {
        r = encrypt ? WC_ERR_CRYPTO : WC_ERR_AUTH;
        OPENSSL_cleanse(out, body);
        goto out;
    }
    if (encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)tag_len, out + body) != 1) goto out;
    *out_len = encrypt ? n + tag_len : body;
    r = WC_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return r;
}

/* ---- P-256 ---------------------------------------------------------------- */

wc_result wc_p256_generate(uint8_t d[WC_P256_SCALAR], uint8_t pub[WC_P256_POINT]) {
    EVP_PKEY *key = p256_generate();
    wc_result r = key && p256_private_scalar(key, d) == 0 && p256_public_point(key, pub) == 0 ? WC_OK : WC_ERR_CRYPTO;
    EVP_PKEY_free(key);
    return r;
}

wc_result wc_p256_check_public(const uint8_t *pub, size_t pub_len) {
    EVP_PKEY *key = p256_from_point(pub, pub_len);
    EVP_PKEY_free(key);
    return key ? WC_OK : WC_ERR_KEY;
}

wc_result wc_p256_check_pair(const uint8_t d[WC_P256_SCALAR], const uint8_t pub[WC_P256_POINT]) {
    EVP_PKEY *key = p256_from_private_scalar(d, pub);
    EVP_PKEY_free(key);
    return key ? WC_OK : WC_ERR_KEY;
}

wc_result wc_ecdsa_sign(const char *hash, const uint8_t d[WC_P256_SCALAR], const uint8_t pub[WC_P256_POINT],
                        const uint8_t *in, size_t n, uint8_t sig[WC_P256_SIG]) {
    const EVP_MD *md = md_of(hash);
    if (!md || strcmp(hash, "MD5") == 0) return WC_ERR_HASH;
    EVP_PKEY *key = p256_from_private_scalar(d, pub);
    if (!key) return WC_ERR_KEY;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t der_len = sizeof der;
    wc_result r = ctx && EVP_DigestSignInit(ctx, NULL, md, NULL, key) == 1 &&
                          EVP_DigestSign(ctx, der, &der_len, in, n) == 1 && jws_sig_der_to_raw(der, der_len, sig) == 0
                      ? WC_OK
                      : WC_ERR_CRYPTO;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return r;
}

wc_result wc_ecdsa_verify(const char *hash, const uint8_t pub[WC_P256_POINT], const uint8_t *sig, size_t sig_len,
                          const uint8_t *in, size_t n, int *valid) {
    *valid = 0;
    const EVP_MD *md = md_of(hash);
    if (!md || strcmp(hash, "MD5") == 0) return WC_ERR_HASH;
    if (sig_len != WC_P256_SIG) return WC_OK;
    EVP_PKEY *key = p256_from_point(pub, WC_P256_POINT);
    if (!key) return WC_ERR_KEY;
    size_t der_len = 0;
    uint8_t *der = jws_sig_raw_to_der(sig, &der_len);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    wc_result r = WC_ERR_CRYPTO;
    if (der && ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1) {
        /* 1 valid, 0 invalid, below 0 an error (a malformed signature is
         * just not valid) */
        *valid = EVP_DigestVerify(ctx, der, der_len, in, n) == 1;
        r = WC_OK;
    }
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    EVP_PKEY_free(key);
    return r;
}

wc_result wc_p256_spki(const uint8_t pub[WC_P256_POINT], uint8_t out[WC_P256_SPKI]) {
    EVP_PKEY *key = p256_from_point(pub, WC_P256_POINT);
    if (!key) return WC_ERR_KEY;
    uint8_t *p = out;
    int n = i2d_PUBKEY(key, NULL) == (int)WC_P256_SPKI ? i2d_PUBKEY(key, &p) : -1;
    EVP_PKEY_free(key);
    return n == (int)WC_P256_SPKI ? WC_OK : WC_ERR_CRYPTO;
}

wc_result wc_p256_from_spki(const uint8_t *der, size_t len, uint8_t pub[WC_P256_POINT]) {
    const uint8_t *p = der;
    if (len > INT32_MAX) return WC_ERR_KEY;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)len);
    /* the whole input, one P-256 key, on the curve */
    wc_result r = key && p == der + len && p256_public_point(key, pub) == 0 &&
                          wc_p256_check_public(pub, WC_P256_POINT) == WC_OK
                      ? WC_OK
                      : WC_ERR_KEY;
    EVP_PKEY_free(key);
    return r;
}

/* ---- Ed25519 -------------------------------------------------------------- */

wc_result wc_ed25519_generate(uint8_t seed[WC_ED25519_KEY], uint8_t pub[WC_ED25519_KEY]) {
    if (wc_random(seed, WC_ED25519_KEY) != WC_OK) return WC_ERR_CRYPTO;
    return wc_ed25519_public(seed, pub);
}

wc_result wc_ed25519_public(const uint8_t seed[WC_ED25519_KEY], uint8_t pub[WC_ED25519_KEY]) {
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, WC_ED25519_KEY);
    size_t len = WC_ED25519_KEY;
    wc_result r = key && EVP_PKEY_get_raw_public_key(key, pub, &len) == 1 && len == WC_ED25519_KEY ? WC_OK
                                                                                                   : WC_ERR_CRYPTO;
    EVP_PKEY_free(key);
    return r;
}

wc_result wc_ed25519_sign(const uint8_t seed[WC_ED25519_KEY], const uint8_t *in, size_t n,
                          uint8_t sig[WC_ED25519_SIG]) {
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, WC_ED25519_KEY);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = WC_ED25519_SIG;
    wc_result r = key && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
                          EVP_DigestSign(ctx, sig, &len, in, n) == 1 && len == WC_ED25519_SIG
                      ? WC_OK
                      : WC_ERR_CRYPTO;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return r;
}

wc_result wc_ed25519_verify(const uint8_t pub[WC_ED25519_KEY], const uint8_t *sig, size_t sig_len,
                            const uint8_t *in, size_t n, int *valid) {
    *valid = 0;
    if (sig_len != WC_ED25519_SIG) return WC_OK;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, WC_ED25519_KEY);
    if (!key) return WC_ERR_KEY;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    wc_result r = WC_ERR_CRYPTO;
    if (ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1) {
        *valid = EVP_DigestVerify(ctx, sig, sig_len, in, n) == 1;
        r = WC_OK;
    }
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return r;
}
