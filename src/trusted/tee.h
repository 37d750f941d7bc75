/* tee.h - the trusted execution environment as the enclave sees it:
 * who am I (measurement), prove it (quote), check another enclave (verify),
 * and keep secrets across restarts (seal/unseal, bound to the measurement).
 *
 * Backends, picked by name in tee_init (--tee): "sim" (tee_sim.c), "tsm"
 * (tee_tsm.c: Linux's configfs-tsm report interface of TDX and SEV-SNP
 * guests) and "gramine" (tee_gramine.c: Gramine-SGX's /dev/attestation
 * files). Callers use only the functions below, which is what lets a
 * backend come without changing them.
 *
 * tee_init runs once before the sandbox closes the file system (it may read
 * the executable and backend files); everything after it is file-free and
 * safe to call from any thread. */
#ifndef TFAAS_TRUSTED_TEE_H
#define TFAAS_TRUSTED_TEE_H

#include "common/evidence.h"

#include <stddef.h>
#include <stdint.h>

#define TEE_SEAL_MAGIC "TFS1"
#define TEE_SEAL_OVERHEAD (4u + 12u + 16u) /* magic, nonce, tag */
#define TEE_MAX_SEALED (16u << 20)

/* The sim backend runs in one of two modes:
 *  - platform: it holds the platform private key (platform_key_path): it
 *    signs its own evidence and derives sealing keys. Only the key service
 *    (tfaas-kms) and the quoting service (tfaas-qe) run so;
 *  - quote client: it holds the platform's public key only
 *    (platform_root_path) and asks the quoting service over quote_fd for
 *    evidence, which that service makes for the measurement it takes of the
 *    calling process itself (docs/protocol.md §5.2). No sealing. Tenant-
 *    facing worker enclaves run so: an engine bug cannot leak the root. */
typedef struct {
    const char *backend;            /* "sim" (default), "tsm", "gramine" */
    const char *engine_identity;    /* part of the measurement, e.g. "duktape/2.7.0" */
    const char *platform_key_path;  /* sim platform mode: PEM private key of the simulated platform */
    const char *platform_root_path; /* sim quote client: PEM public key of the platform */
    int quote_fd;                   /* sim quote client: channel to tfaas-qe, >= 3 (0: none) */
    const char *executable_path;    /* what is measured; NULL means /proc/self/exe */
    const char *root_path;          /* tsm, gramine: the platform's file interface (--tee-root); NULL: the
                                     * default (/sys/kernel/config/tsm/report, /dev/attestation) */
} tee_config;

typedef enum {
    TEE_UNSEAL_OK = 0,
    TEE_UNSEAL_MALFORMED, /* not a sealed blob (magic, length) */
    TEE_UNSEAL_REFUSED,   /* sealed by another enclave or platform, for another purpose, or tampered */
    TEE_UNSEAL_NOMEM,
} tee_unseal_result;

/* 0, or -1 with *err a malloc'd message. Ends with one quote, verify and
 * (where the backend can seal) sealing round trip through the backend, so
 * no backend warms OpenSSL up itself; a hardware backend's init makes its
 * checked quote itself (tee_backend.hardware) and only sealing is tried. */
int tee_init(const tee_config *cfg, char **err);
/* No more quotes from this process: a quote client closes its channel to
 * the quoting service (a worker does so before it accepts tenant code, so a
 * compromised engine cannot ask for evidence). Later tee_quote calls fail. */
void tee_quoting_done(void);
/* Can this enclave seal (tee_seal, tee_unseal)? Not a quote client. */
int tee_can_seal(void);
/* The measurement the backend would report for cfg, without initialising it
 * (each enclave binary's --measurement prints it for policies and `tfaas
 * attest`). */
int tee_measure(const tee_config *cfg, uint8_t out[EVIDENCE_MEASUREMENT_LEN], char **err);
void tee_shutdown(void);

const char *tee_backend_name(void);
const uint8_t *tee_measurement(void); /* EVIDENCE_MEASUREMENT_LEN bytes */

/* Evidence binding report_data, malloc'd text (a JWS in sim). 0 or -1. */
int tee_quote(const uint8_t report_data[EVIDENCE_REPORT_DATA_LEN], char **evidence, size_t *len);

/* Checks another enclave's evidence against this platform's root. */
evidence_result tee_verify(const char *evidence, size_t len, const uint8_t *expected_measurement,
                           const uint8_t *expected_report_data, evidence_claims *out);

/* The PEM certificate of the key that signs this enclave's evidence, when
 * the platform hands it over (tsm on SEV-SNP: the VCEK or VLEK from the
 * report entry's auxblob, the host's certificate table), else NULL. The
 * worker identity carries it as key_cert (docs/protocol.md §5.5). */
const char *tee_key_cert(void);

/* Checks a worker's evidence as the key service does: sim evidence (a JWS)
 * with tee_verify; hardware evidence (base64url of a DCAP quote or SNP
 * report) with evidence_check against the pinned Intel and AMD roots as of
 * now, with the key certificate (SNP, PEM) or collateral (DCAP, JSON text)
 * that came with it (either may be NULL). why (may be NULL) gets the detail
 * of a refusal. */
evidence_result tee_verify_endorsed(const char *evidence, size_t len, const char *key_cert_pem,
                                    const char *collateral_json, const uint8_t *expected_measurement,
                                    const uint8_t *expected_report_data, evidence_claims *out, char *why,
                                    size_t whylen);

/* Seals pt for this measurement on this platform; `purpose` is authenticated
 * too, so a blob sealed for one purpose does not unseal for another. */
int tee_seal(const char *purpose, const uint8_t *pt, size_t len, uint8_t **blob, size_t *blob_len);
tee_unseal_result tee_unseal(const char *purpose, const uint8_t *blob, size_t len, uint8_t **pt,
                             size_t *pt_len);
const char *tee_unseal_result_name(tee_unseal_result r);

/* What a backend provides; tee.c dispatches to the one tee_init chose. */
typedef struct {
    const char *name;
    int (*init)(const tee_config *cfg, uint8_t measurement[EVIDENCE_MEASUREMENT_LEN], char **err);
    int (*measure)(const tee_config *cfg, uint8_t measurement[EVIDENCE_MEASUREMENT_LEN], char **err);
    void (*shutdown)(void);
    int (*quote)(const uint8_t report_data[EVIDENCE_REPORT_DATA_LEN], char **evidence, size_t *len);
    evidence_result (*verify)(const char *evidence, size_t len, const uint8_t *expected_measurement,
                              const uint8_t *expected_report_data, evidence_claims *out);
    /* The 32-byte sealing key of this measurement; 0 or -1. */
    int (*seal_key)(uint8_t key[32]);
    int (*can_seal)(void);
    void (*quoting_done)(void);
    /* Hardware backends (tee_hw.h): init itself ends with a quote checked
     * against the report data written (its failure says why), and verify
     * needs collateral the enclave does not hold, so tee_init warms up with
     * sealing only. Also, platform_root_path (optional) verifies a sim key
     * service's evidence. */
    int hardware;
    /* tee_key_cert's certificate, or NULL (optional: NULL member). */
    const char *(*key_cert)(void);
} tee_backend;

extern const tee_backend tee_sim_backend, tee_tsm_backend, tee_gramine_backend;

#endif
