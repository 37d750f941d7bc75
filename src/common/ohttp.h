/* ohttp.h - Oblivious HTTP (RFC 9458): key configurations
 * (application/ohttp-keys) and the encapsulation of requests
 * (message/ohttp-req) and responses (message/ohttp-res) with HPKE (hpke.h).
 *
 * The only KEM is DHKEM(X25519, HKDF-SHA256) and the only KDF HKDF-SHA256;
 * the AEAD is AES-128-GCM or ChaCha20-Poly1305. Outputs of the
 * encapsulate/decapsulate functions are malloc'd and owned by the caller;
 * ohttp_ctx_wipe erases the secrets a context keeps between a request and its
 * response; a request function that fails leaves the context wiped. */
#ifndef TFAAS_COMMON_OHTTP_H
#define TFAAS_COMMON_OHTTP_H

#include "common/hpke.h"

#include <stddef.h>
#include <stdint.h>

#define OHTTP_HEADER_LEN 7u             /* key_id(1) kem_id(2) kdf_id(2) aead_id(2) */
#define OHTTP_MAX_SUITES 16u            /* symmetric suites kept from one key config */
#define OHTTP_MAX_MESSAGE (16u << 20)   /* cap on an encapsulated message, bytes */
#define OHTTP_RESPONSE_NONCE_MAX 32u    /* max(Nn, Nk) of the supported AEADs */
#define OHTTP_REQUEST_LABEL "message/bhttp request"
#define OHTTP_RESPONSE_LABEL "message/bhttp response"

typedef enum {
    OHTTP_OK = 0,
    OHTTP_ERR_TRUNCATED,   /* input ends before a field it announces */
    OHTTP_ERR_MALFORMED,   /* lengths that contradict each other, trailing bytes */
    OHTTP_ERR_KEY_ID,      /* the request names a key id we do not hold */
    OHTTP_ERR_SUITE,       /* kem, kdf or aead not supported */
    OHTTP_ERR_TOO_LARGE,   /* past OHTTP_MAX_MESSAGE or an output buffer */
    OHTTP_ERR_OPEN,        /* authentication failed: tampered or wrong key */
    OHTTP_ERR_KEY,         /* unusable public key or enc */
    OHTTP_ERR_CRYPTO,      /* OpenSSL or memory failure */
} ohttp_result;

typedef struct {
    uint16_t kdf_id, aead_id;
} ohttp_suite;

/* One key configuration (RFC 9458 §3.1). */
typedef struct {
    uint8_t key_id;
    uint16_t kem_id;
    uint8_t pk[HPKE_NPK];
    size_t nsuites;
    ohttp_suite suites[OHTTP_MAX_SUITES];
} ohttp_key_config;

/* What a request leaves behind for its response: the HPKE context (for the
 * export) and enc (for the salt). */
typedef struct {
    uint16_t aead_id;
    hpke_ctx hpke;
    uint8_t enc[HPKE_NENC];
} ohttp_ctx;

const char *ohttp_result_name(ohttp_result r);

/* Encodes one key configuration (without the 2-byte length that
 * application/ohttp-keys puts in front of each). */
ohttp_result ohttp_key_config_encode(const ohttp_key_config *cfg, uint8_t *out, size_t cap,
                                     size_t *len);
/* Parses exactly one key configuration of len bytes. */
ohttp_result ohttp_key_config_parse(ohttp_key_config *cfg, const uint8_t *in, size_t len);
/* application/ohttp-keys: configurations each preceded by a 2-byte length. */
ohttp_result ohttp_keys_encode(const ohttp_key_config *cfgs, size_t n, uint8_t *out, size_t cap,
                               size_t *len);
/* Parses application/ohttp-keys into up to max configurations; those with a
 * KEM other than X25519 are skipped (their length prefix makes that safe). */
ohttp_result ohttp_keys_parse(const uint8_t *in, size_t len, ohttp_key_config *cfgs, size_t max,
                              size_t *n);

/* Client: encapsulates request to cfg with (HKDF-SHA256, aead_id); eph is the
 * ephemeral key pair for deterministic tests, NULL for a fresh one. */
ohttp_result ohttp_request_encapsulate(ohttp_ctx *ctx, const ohttp_key_config *cfg, uint16_t aead_id,
                                       const uint8_t *req, size_t req_len, const hpke_keypair *eph,
                                       uint8_t **out, size_t *out_len);
/* Gateway: decapsulates with the key pair named key_id. */
ohttp_result ohttp_request_decapsulate(ohttp_ctx *ctx, uint8_t key_id, const hpke_keypair *kp,
                                       const uint8_t *msg, size_t msg_len, uint8_t **req,
                                       size_t *req_len);
/* The same with kp's key object made once (hpke_keypair_pkey; NULL: made
 * for this call). */
ohttp_result ohttp_request_decapsulate_key(ohttp_ctx *ctx, uint8_t key_id, const hpke_keypair *kp, EVP_PKEY *key,
                                           const uint8_t *msg, size_t msg_len, uint8_t **req, size_t *req_len);
/* Gateway: encapsulates the response; nonce (max(Nn, Nk) bytes) for tests, NULL for random. */
ohttp_result ohttp_response_encapsulate(const ohttp_ctx *ctx, const uint8_t *resp, size_t resp_len,
                                        const uint8_t *nonce, uint8_t **out, size_t *out_len);
/* Client: decapsulates the response to the request ctx made. */
ohttp_result ohttp_response_decapsulate(const ohttp_ctx *ctx, const uint8_t *msg, size_t msg_len,
                                        uint8_t **resp, size_t *resp_len);
void ohttp_ctx_wipe(ohttp_ctx *ctx);

#endif
