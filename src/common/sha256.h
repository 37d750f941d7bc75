/* sha256.h - SHA-256 with the digest fetched from OpenSSL's provider once.
 * SHA256() and EVP_sha256() look the implementation up again on every call
 * (a lock and a table search in OpenSSL 3), which a confidential call paid
 * several times: the request's and the result's hashes, the receipt's
 * signature and its Merkle tree. */
#ifndef TFAAS_COMMON_SHA256_H
#define TFAAS_COMMON_SHA256_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* The fetched digest (never freed: it lives as long as the process); NULL
 * only when OpenSSL has no SHA-256, which its default provider always has. */
const EVP_MD *sha256_md(void);

/* out = SHA-256(data); all zero if OpenSSL failed (out of memory). */
void sha256(const void *data, size_t len, uint8_t out[32]);

#endif
