/* webcrypto.h - the native primitives under the V8 enclave's crypto.subtle
 * and Node `crypto` subset (src/trusted/v8/webapi.cc binds them): digests,
 * HMAC, HKDF, AES-GCM, ECDSA P-256 and Ed25519 on OpenSSL, over raw byte
 * strings. Keys travel as raw bytes: a P-256 private key is its scalar d and
 * its public point, a public key the uncompressed point (0x04 || x || y); an
 * Ed25519 private key is its 32-byte seed, a public key 32 bytes. The
 * WebCrypto shapes (CryptoKey, JWK, usages, error names) are JavaScript's
 * (src/trusted/v8/webapi/); this module only says which way a primitive
 * failed, named so the caller can pick the WebCrypto error. Pure functions,
 * no state: safe from any thread. */
#ifndef TFAAS_TRUSTED_CRYPTO_WEBCRYPTO_H
#define TFAAS_TRUSTED_CRYPTO_WEBCRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define WC_MAX_DIGEST 64u     /* SHA-512 */
#define WC_P256_SCALAR 32u
#define WC_P256_POINT 65u     /* uncompressed SEC1 */
#define WC_P256_SIG 64u       /* r || s */
#define WC_P256_SPKI 91u      /* SubjectPublicKeyInfo DER of a P-256 key */
#define WC_ED25519_KEY 32u
#define WC_ED25519_SIG 64u
#define WC_GCM_MAX_TAG 16u

typedef enum {
    WC_OK = 0,
    WC_ERR_HASH,      /* no such digest (or not allowed here) */
    WC_ERR_KEY,       /* key bytes of the wrong length, or not a key of the curve */
    WC_ERR_PARAM,     /* an IV, tag length or output length outside what the algorithm allows */
    WC_ERR_AUTH,      /* AES-GCM: the tag does not authenticate the data */
    WC_ERR_CRYPTO,    /* OpenSSL or memory failure */
} wc_result;

const char *wc_result_name(wc_result r);

/* The length of the digest named (OpenSSL names: "SHA1", "SHA256",
 * "SHA384", "SHA512", and "MD5" for the Node module only); 0 for any other. */
size_t wc_digest_len(const char *hash);

/* out (wc_digest_len(hash) bytes) = hash(in). */
wc_result wc_digest(const char *hash, const uint8_t *in, size_t n, uint8_t *out);
/* out (wc_digest_len(hash) bytes) = HMAC-hash(key, in). */
wc_result wc_hmac(const char *hash, const uint8_t *key, size_t key_len, const uint8_t *in, size_t n, uint8_t *out);
/* HKDF (RFC 5869) with hash; WC_ERR_PARAM for an out_len of 0 or past 255 * HashLen. */
wc_result wc_hkdf(const char *hash, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                  const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/* Cryptographically strong random bytes (OpenSSL's DRBG). */
wc_result wc_random(uint8_t *out, size_t n);

/* AES-GCM with a 16, 24 or 32-byte key, an IV of 1 byte or more and a tag
 * of tag_len bytes (4, 8 or 12 to 16). Encrypting writes n + tag_len bytes
 * (ciphertext || tag); decrypting takes ciphertext || tag (n >= tag_len)
 * and writes n - tag_len bytes, or fails with WC_ERR_AUTH. *out_len is set
 * on success. */
wc_result wc_aes_gcm(int encrypt, const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
                     const uint8_t *aad, size_t aad_len, size_t tag_len, const uint8_t *in, size_t n,
                     uint8_t *out, size_t *out_len);

/* P-256. */
wc_result wc_p256_generate(uint8_t d[WC_P256_SCALAR], uint8_t pub[WC_P256_POINT]);
/* WC_OK when pub (pub_len bytes) is an uncompressed point on the curve. */
wc_result wc_p256_check_public(const uint8_t *pub, size_t pub_len);
/* WC_OK when d is a valid scalar whose public point is pub. */
wc_result wc_p256_check_pair(const uint8_t d[WC_P256_SCALAR], const uint8_t pub[WC_P256_POINT]);
wc_result wc_ecdsa_sign(const char *hash, const uint8_t d[WC_P256_SCALAR], const uint8_t pub[WC_P256_POINT],
                        const uint8_t *in, size_t n, uint8_t sig[WC_P256_SIG]);
/* *valid = 1 when sig (sig_len bytes, r || s) signs in; a sig of another
 * length is simply not valid (WebCrypto: verify resolves false). */
wc_result wc_ecdsa_verify(const char *hash, const uint8_t pub[WC_P256_POINT], const uint8_t *sig, size_t sig_len,
                          const uint8_t *in, size_t n, int *valid);
/* SubjectPublicKeyInfo DER of pub, and back (any other key: WC_ERR_KEY). */
wc_result wc_p256_spki(const uint8_t pub[WC_P256_POINT], uint8_t out[WC_P256_SPKI]);
wc_result wc_p256_from_spki(const uint8_t *der, size_t len, uint8_t pub[WC_P256_POINT]);

/* Ed25519 (RFC 8032). */
wc_result wc_ed25519_generate(uint8_t seed[WC_ED25519_KEY], uint8_t pub[WC_ED25519_KEY]);
wc_result wc_ed25519_public(const uint8_t seed[WC_ED25519_KEY], uint8_t pub[WC_ED25519_KEY]);
wc_result wc_ed25519_sign(const uint8_t seed[WC_ED25519_KEY], const uint8_t *in, size_t n,
                          uint8_t sig[WC_ED25519_SIG]);
wc_result wc_ed25519_verify(const uint8_t pub[WC_ED25519_KEY], const uint8_t *sig, size_t sig_len,
                            const uint8_t *in, size_t n, int *valid);

#endif
