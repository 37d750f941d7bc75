/* jws.h - compact JWS (RFC 7515) with ES256 (RFC 7518 §3.4) only: evidence,
 * function and worker certificates and receipts are all of this one shape.
 *
 * Why not cjose or libjwt (DESIGN §7 names them): both wrap the same OpenSSL
 * that the enclave links already, cjose 0.6.2 drags a second JSON model into
 * the TCB and libjwt 1.10 only speaks JWT claims with its own key formats.
 * ES256 over a compact serialization is base64url, one SHA-256 and one ECDSA
 * with a raw r || s signature, so it is written here on libcrypto directly and
 * kept small enough to audit; `jose` (npm) checks it in tests/compat.
 *
 * Checks on decode: exactly three base64url parts (canonical, unpadded), a
 * header that is a JSON object with "alg":"ES256" and no "crit" (we
 * understand no extensions, RFC 7515 §4.1.11), a 64-byte signature, and a
 * total length of at most JWS_MAX_LEN. The payload is returned as bytes;
 * callers parse their own claims. */
#ifndef TFAAS_COMMON_JWS_H
#define TFAAS_COMMON_JWS_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define JWS_MAX_LEN (1u << 20)
#define JWS_SIG_LEN 64u
#define JWS_MAX_HEADER_FIELD 128u /* typ and kid */

typedef enum {
    JWS_OK = 0,
    JWS_ERR_MALFORMED, /* not three canonical base64url parts, or the header is not a JSON object */
    JWS_ERR_TOO_LARGE, /* longer than JWS_MAX_LEN */
    JWS_ERR_ALG,       /* alg is not ES256, or the header has crit */
    JWS_ERR_SIGNATURE, /* the signature does not verify with the key given */
    JWS_ERR_KEY,       /* the key is not a P-256 key */
    JWS_ERR_CRYPTO,    /* OpenSSL or memory failure */
} jws_result;

/* A decoded but not yet verified JWS. Owns its buffers (jws_parts_free). */
typedef struct {
    char typ[JWS_MAX_HEADER_FIELD + 1]; /* "" when absent */
    char kid[JWS_MAX_HEADER_FIELD + 1]; /* "" when absent */
    uint8_t *payload;                   /* NUL-terminated copy */
    size_t payload_len;
    uint8_t sig[JWS_SIG_LEN];
    char *signing_input;                /* "header.payload" as received */
    size_t signing_input_len;
} jws_parts;

const char *jws_result_name(jws_result r);

/* DER ECDSA-Sig-Value <-> raw r || s (RFC 7518 §3.4; WebCrypto's ECDSA
 * signatures have the same raw shape). der_to_raw: 0, or -1 when der is not
 * one P-256 signature; raw_to_der: a malloc'd (OPENSSL_free) DER, its length
 * in *len, or NULL. */
int jws_sig_der_to_raw(const uint8_t *der, size_t len, uint8_t raw[JWS_SIG_LEN]);
uint8_t *jws_sig_raw_to_der(const uint8_t raw[JWS_SIG_LEN], size_t *len);

/* Signs payload with key: header {"alg":"ES256","typ":typ,"kid":kid} (typ and
 * kid left out when NULL). *out is a malloc'd NUL-terminated compact JWS. */
jws_result jws_sign(EVP_PKEY *key, const char *typ, const char *kid, const uint8_t *payload,
                    size_t payload_len, char **out);

/* A signer for one key that signs often (a worker's receipts): the
 * DigestSign context is initialised once and copied for each signature
 * (EVP_DigestSignInit costs a few µs a time; a copy a tenth of that). Several
 * threads may sign with one signer at once: the prepared context is only
 * read. NULL when key is not a P-256 private key or memory ran out. */
typedef struct jws_signer jws_signer;
jws_signer *jws_signer_new(EVP_PKEY *key);
void jws_signer_free(jws_signer *s);
/* jws_sign with s's key. */
jws_result jws_signer_sign(const jws_signer *s, const char *typ, const char *kid, const uint8_t *payload,
                           size_t payload_len, char **out);

/* Splits and checks the form of a compact JWS without verifying it (the
 * caller may need typ, kid or the payload to pick the key). */
jws_result jws_decode(const char *jws, size_t len, jws_parts *out);
/* Verifies the signature of decoded parts with a public key. */
jws_result jws_verify(const jws_parts *p, EVP_PKEY *pub);
void jws_parts_free(jws_parts *p);

/* Decode, check typ (when expected_typ is not NULL) and verify in one step.
 * JWS_ERR_MALFORMED when typ differs. */
jws_result jws_open(const char *jws, size_t len, const char *expected_typ, EVP_PKEY *pub, jws_parts *out);

#endif
