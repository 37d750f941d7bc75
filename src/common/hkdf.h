/* hkdf.h - HKDF-SHA256 (RFC 5869) Extract and Expand over OpenSSL's HMAC.
 *
 * HPKE (RFC 9180) and OHTTP responses (RFC 9458 §4.4) build on these two
 * steps; callers compose their own labels. */
#ifndef TFAAS_COMMON_HKDF_H
#define TFAAS_COMMON_HKDF_H

#include <stddef.h>
#include <stdint.h>

#define HKDF_SHA256_LEN 32u               /* Nh: the size of a PRK */
#define HKDF_SHA256_MAX_EXPAND (255u * 32u) /* RFC 5869's limit on L */

typedef enum {
    HKDF_OK = 0,
    HKDF_ERR_LENGTH,  /* L is 0 or past HKDF_SHA256_MAX_EXPAND */
    HKDF_ERR_CRYPTO,  /* OpenSSL refused */
} hkdf_result;

/* prk (HKDF_SHA256_LEN bytes) = HMAC-SHA256(salt, ikm); an empty salt is Nh zeros. */
hkdf_result hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                         uint8_t prk[HKDF_SHA256_LEN]);

/* out (out_len bytes) = HKDF-Expand(prk, info, out_len). */
hkdf_result hkdf_expand(const uint8_t prk[HKDF_SHA256_LEN], const uint8_t *info, size_t info_len,
                        uint8_t *out, size_t out_len);

/* out (out_len bytes) = HKDF(salt, ikm, info, out_len) with digest (an
 * OpenSSL name: "SHA1", "SHA256", "SHA384", "SHA512"), extract and expand
 * in one (WebCrypto's HKDF deriveBits). HKDF_ERR_LENGTH when out_len is 0
 * or past 255 times the digest's length. */
hkdf_result hkdf_derive(const char *digest, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                        size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

#endif
