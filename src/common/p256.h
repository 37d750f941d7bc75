/* p256.h - ECDSA P-256 keys for ES256 (RFC 7518 §3.4): the simulated platform
 * key, the KMS signing key and worker keys. Thin helpers over OpenSSL 3
 * EVP_PKEY so that key handling (generation, raw points, JWK, PEM, DER for
 * sealing) is written once for the host, the CLI and the enclave.
 *
 * Ownership: every EVP_PKEY returned is the caller's (EVP_PKEY_free). */
#ifndef TFAAS_COMMON_P256_H
#define TFAAS_COMMON_P256_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define P256_POINT_LEN 65u  /* uncompressed SEC1 point: 0x04 || x || y */
#define P256_COORD_LEN 32u
#define P256_THUMBPRINT_LEN 43u /* base64url of a SHA-256 */

/* A fresh key pair; NULL when OpenSSL fails. */
/* 1 when key is an EC key on P-256 (NULL is not), else 0. */
int p256_is_key(EVP_PKEY *key);
EVP_PKEY *p256_generate(void);

/* The public key as an uncompressed point. 0, or -1 if it is not a P-256 key. */
int p256_public_point(EVP_PKEY *key, uint8_t out[P256_POINT_LEN]);
/* A public key from an uncompressed point; NULL when the bytes are not a
 * point on the curve. */
EVP_PKEY *p256_from_point(const uint8_t *point, size_t len);

/* A private key from its scalar d (big-endian) and its public point; NULL
 * unless the point is on the curve and d is the scalar of that point. */
EVP_PKEY *p256_from_private_scalar(const uint8_t d[P256_COORD_LEN], const uint8_t point[P256_POINT_LEN]);

/* JWK (RFC 7517) of the public part: {"kty":"EC","crv":"P-256","x":..,"y":..}
 * as a malloc'd JSON text with the members in RFC 7638's order. */
char *p256_public_jwk(EVP_PKEY *key);
/* A public key from the x and y members of a JWK object (base64url, 32
 * bytes each; other members are not looked at); NULL when jwk is not an
 * object with both, they are malformed, or not a point on the curve. */
EVP_PKEY *p256_from_jwk(const json_t *jwk);
/* RFC 7638 JWK thumbprint (SHA-256, base64url), NUL-terminated; 0 or -1. */
int p256_thumbprint(EVP_PKEY *key, char out[P256_THUMBPRINT_LEN + 1]);

/* The private key as PKCS#8 DER, malloc'd (for sealing); NULL on failure.
 * The caller wipes and frees it. */
uint8_t *p256_private_der(EVP_PKEY *key, size_t *len);
EVP_PKEY *p256_from_private_der(const uint8_t *der, size_t len);
/* The private scalar, big-endian and zero-padded; 0 or -1. */
int p256_private_scalar(EVP_PKEY *key, uint8_t out[P256_COORD_LEN]);

/* PEM files: SubjectPublicKeyInfo for public keys, PKCS#8 for private keys
 * (written with mode 0600; a link at path is not followed: -1, ELOOP).
 * 0, or -1 with errno or an OpenSSL error. */
int p256_write_public_pem(EVP_PKEY *key, const char *path);
int p256_write_private_pem(EVP_PKEY *key, const char *path);
/* NULL when the file cannot be read or holds no P-256 key. */
EVP_PKEY *p256_read_public_pem(const char *path);
EVP_PKEY *p256_read_private_pem(const char *path);
/* Keys from PEM text in memory. */
EVP_PKEY *p256_public_from_pem(const char *pem, size_t len);
EVP_PKEY *p256_private_from_pem(const char *pem, size_t len);
/* The public key as PEM text, malloc'd. */
char *p256_public_pem(EVP_PKEY *key);
/* The private key as PKCS#8 PEM text, malloc'd (the caller cleanses it),
 * its length in *len when len is not NULL. */
char *p256_private_pem(EVP_PKEY *key, size_t *len);

#endif
