/* evidence.h - attestation evidence: what a TEE says about an enclave, and
 * how anyone (the CLI, the KMS enclave, a third party) checks it.
 *
 * The enclave side makes evidence through src/trusted/tee.h; checking lives
 * here because the host-side CLI verifies the KMS's evidence too and must not
 * include trusted code. One verifier per evidence format; the format is
 * recognised from the evidence itself, so callers never name a backend.
 *
 * Format "sim" (the only one so far; docs/protocol.md §5): a compact JWS
 * (ES256) signed by the installation's simulated platform key, header typ
 * "tfaas-sim-evidence+jwt", payload
 *   {"tee":"sim","measurement":hex32,"signer":hex32,"report_data":b64url64,
 *    "engine":text,"iat":seconds}
 * where signer is the SHA-256 of the platform key's uncompressed point. */
#ifndef TFAAS_COMMON_EVIDENCE_H
#define TFAAS_COMMON_EVIDENCE_H

#include "common/hpke.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define EVIDENCE_MEASUREMENT_LEN 32u
#define EVIDENCE_REPORT_DATA_LEN 64u
#define EVIDENCE_SIM_TYP "tfaas-sim-evidence+jwt"
#define EVIDENCE_MAX_LEN (64u << 10)

typedef enum {
    EVIDENCE_OK = 0,
    EVIDENCE_MALFORMED,          /* not evidence of any known format, or claims missing/wrong type */
    EVIDENCE_TOO_LARGE,
    EVIDENCE_UNKNOWN_ROOT,       /* not signed by the platform root given */
    EVIDENCE_WRONG_MEASUREMENT,  /* a valid quote of another enclave than expected */
    EVIDENCE_WRONG_REPORT_DATA,  /* a valid quote that binds other data than expected */
} evidence_result;

typedef struct {
    char tee[16];                                     /* "sim" */
    uint8_t measurement[EVIDENCE_MEASUREMENT_LEN];    /* MRENCLAVE-like */
    uint8_t signer[32];                               /* MRSIGNER-like */
    uint8_t report_data[EVIDENCE_REPORT_DATA_LEN];
    char engine[64];
    int64_t issued_at;                                /* seconds since the epoch */
} evidence_claims;

const char *evidence_result_name(evidence_result r);

/* Checks evidence against a platform root (sim: the platform public key).
 * When expected_measurement / expected_report_data are not NULL they must
 * match. Claims are filled only on EVIDENCE_OK. */
evidence_result evidence_verify(const char *evidence, size_t len, EVP_PKEY *root,
                                const uint8_t *expected_measurement,
                                const uint8_t *expected_report_data, evidence_claims *out);

/* The signer claim of a platform key: SHA-256 of its uncompressed point.
 * 0, or -1 when the key is not a P-256 key. The sim backend writes it and
 * evidence_verify compares it, so both go through here. */
int evidence_signer(EVP_PKEY *root, uint8_t out[32]);

/* report_data that binds data to a purpose: SHA-512(label || 0x00 || data).
 * Every user of report_data goes through this, so two purposes never share
 * a value. */
void evidence_bind(const char *label, const uint8_t *data, size_t len,
                   uint8_t out[EVIDENCE_REPORT_DATA_LEN]);

/* The report_data of an enclave's two public keys, as every quote of them
 * binds them: evidence_bind(label, P-256 point (65 bytes) || X25519 key).
 * 0, or -1 (out zeroed) when es256 is not a P-256 key. */
int evidence_bind_keys(const char *label, EVP_PKEY *es256, const uint8_t x25519_pk[HPKE_NPK],
                       uint8_t out[EVIDENCE_REPORT_DATA_LEN]);

/* Lower-case hex of a measurement (65 bytes with NUL) and back (0 or -1). */
void evidence_hex(const uint8_t *bytes, size_t len, char *out);
/* Lower-case hex of SHA-256(data): the form of every hash in certificates,
 * receipts and packages. */
void evidence_sha256_hex(const void *data, size_t len, char out[65]);
int evidence_unhex(const char *hex, uint8_t *out, size_t len);

#endif
