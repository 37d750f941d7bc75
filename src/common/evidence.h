/* evidence.h - attestation evidence: what a TEE says about an enclave, and
 * how anyone (the CLI, the KMS enclave, a third party) checks it.
 *
 * The enclave side makes evidence through src/trusted/tee.h; checking lives
 * here because the host-side CLI verifies the KMS's evidence too and must not
 * include trusted code. One verifier per evidence format; the format is
 * recognised from the evidence itself, so callers never name a backend.
 *
 * Format "sim" (docs/protocol.md §5): a compact JWS
 * (ES256) signed by the installation's simulated platform key, header typ
 * "tfaas-sim-evidence+jwt", payload
 *   {"tee":"sim","measurement":hex32,"signer":hex32,"report_data":b64url64,
 *    "engine":text,"iat":seconds}
 * where signer is the SHA-256 of the platform key's uncompressed point.
 *
 * Hardware formats (docs/protocol.md §5.5), checked against vendor roots
 * and collateral given in an evidence_trust: Intel DCAP quotes v3/v4/v5 of
 * SGX enclaves and TDX guests ("sgx", "tdx"; dcap_verify.c) and AMD SEV-SNP
 * reports ("sev-snp"; snp_verify.c). The tsm and gramine TEE backends
 * (src/trusted/tee_tsm.c, tee_gramine.c) produce them; none has run on
 * real hardware yet. */
#ifndef TFAAS_COMMON_EVIDENCE_H
#define TFAAS_COMMON_EVIDENCE_H

#include "common/hpke.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define EVIDENCE_MEASUREMENT_LEN 32u
#define EVIDENCE_REPORT_DATA_LEN 64u
#define EVIDENCE_SIM_TYP "tfaas-sim-evidence+jwt"
#define EVIDENCE_MAX_LEN (64u << 10)
#define EVIDENCE_MAX_FIELDS 16u
#define EVIDENCE_FIELD_MAX 64u
#define EVIDENCE_MAX_ADVISORIES 64u
#define EVIDENCE_ADVISORY_LEN 24u

typedef enum {
    EVIDENCE_OK = 0,
    EVIDENCE_MALFORMED,          /* not evidence of any known format, or claims missing/wrong type */
    EVIDENCE_TOO_LARGE,
    EVIDENCE_UNKNOWN_ROOT,       /* not signed by the platform root given */
    EVIDENCE_WRONG_MEASUREMENT,  /* a valid quote of another enclave than expected */
    EVIDENCE_WRONG_REPORT_DATA,  /* a valid quote that binds other data than expected */
    /* hardware evidence */
    EVIDENCE_NO_COLLATERAL,      /* the collateral or key certificate it needs was not given */
    EVIDENCE_BAD_COLLATERAL,     /* collateral malformed, badly signed, or not for this platform */
    EVIDENCE_COLLATERAL_EXPIRED, /* verification time outside the collateral's issueDate..nextUpdate */
    EVIDENCE_BAD_CHAIN,          /* a certificate chain does not verify to a trusted root at that time, or is revoked */
    EVIDENCE_BAD_SIGNATURE,      /* the quote's or report's own signature is wrong */
    EVIDENCE_QE_MISMATCH,        /* the QE report does not bind the attestation key, or is not Intel's QE */
    EVIDENCE_TCB_UNSUPPORTED,    /* no TCB level of the collateral matches the platform */
    EVIDENCE_TCB_REVOKED,        /* the platform's TCB level is Revoked */
    EVIDENCE_TCB_MISMATCH,       /* SNP: the VCEK/VLEK is for another TCB or chip than the report */
    EVIDENCE_DEBUG,              /* a debug enclave, TD or guest, refused unless allowed */
} evidence_result;

/* One named measurement of hardware evidence ("mr_enclave", "mr_td",
 * "rtmr0", "measurement", "host_data" ...), raw bytes. */
typedef struct {
    char name[20];
    uint8_t value[EVIDENCE_FIELD_MAX];
    size_t len;
} evidence_field;

typedef struct {
    char tee[16];                                     /* "sim", "sgx", "tdx", "sev-snp" */
    uint8_t measurement[EVIDENCE_MEASUREMENT_LEN];    /* sim, sgx: MRENCLAVE; zero for tdx, sev-snp (48-byte fields) */
    uint8_t signer[32];                               /* sim, sgx: MRSIGNER */
    uint8_t report_data[EVIDENCE_REPORT_DATA_LEN];
    char engine[64];                                  /* sim only */
    int64_t issued_at;                                /* sim only: seconds since the epoch */
    /* hardware evidence */
    int debug;                                        /* debug enclave/TD/guest (only when trust allows) */
    char tcb_status[48];                              /* Intel's status ("UpToDate" ...); "" for sim, sev-snp */
    char advisory_ids[EVIDENCE_MAX_ADVISORIES][EVIDENCE_ADVISORY_LEN];
    size_t nadvisory_ids;
    evidence_field fields[EVIDENCE_MAX_FIELDS];       /* every measurement, in the TEE's own names */
    size_t nfields;
} evidence_claims;

/* What evidence is checked against. sim needs sim_root; DCAP quotes need
 * collateral; SNP reports need key_cert. Roots: ca_pem when given (its
 * self-signed certificates are the roots, the others intermediates), else
 * the pinned Intel and AMD roots (tee_x509.h). */
typedef struct {
    EVP_PKEY *sim_root;          /* sim platform key; NULL refuses sim evidence */
    const char *collateral;      /* DCAP collateral JSON (docs/protocol.md §5.5) */
    size_t collateral_len;
    const uint8_t *key_cert;     /* SNP VCEK or VLEK, PEM or DER */
    size_t key_cert_len;
    const char *ca_pem;          /* roots to trust instead of the pinned ones */
    size_t ca_pem_len;
    int64_t at;                  /* verification time, seconds since the epoch */
    int allow_debug;             /* accept debug enclaves/TDs/guests (claims.debug says so) */
} evidence_trust;

const char *evidence_result_name(evidence_result r);

/* Checks evidence of any known format, recognised from its bytes, against
 * trust. expected_* as for evidence_verify (a 32-byte expected measurement
 * never matches tdx or sev-snp evidence). Claims are filled only on
 * EVIDENCE_OK; why (may be NULL) gets the detail of a refusal. */
evidence_result evidence_check(const uint8_t *evidence, size_t len, const evidence_trust *trust,
                               const uint8_t *expected_measurement, const uint8_t *expected_report_data,
                               evidence_claims *out, char *why, size_t whylen);
/* The claims as JSON (new reference, NULL when memory is short): tee,
 * debug, tcb_status and advisory_ids (hardware), report_data and every
 * measurement field in lower-case hex under its own name (sim: measurement,
 * signer, engine). */
json_t *evidence_claims_json(const evidence_claims *c);
/* The measurement that names the enclave or guest: sim and SGX the 32-byte
 * measurement (MRENCLAVE), TDX MRTD, SNP MEASUREMENT (48 bytes); NULL for
 * claims of no known TEE. *len gets its length. */
const uint8_t *evidence_claims_measurement(const evidence_claims *c, size_t *len);
/* A claims field by name, or NULL. */
const evidence_field *evidence_field_get(const evidence_claims *c, const char *name);

/* Checks sim evidence against a platform root (the platform public key).
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
