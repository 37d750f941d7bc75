/* tee.h - the trusted execution environment as the enclave sees it:
 * who am I (measurement), prove it (quote), check another enclave (verify),
 * and keep secrets across restarts (seal/unseal, bound to the measurement).
 *
 * Backends: "sim" (tee_sim.c) now; Gramine-SGX (the /dev/attestation files) and
 * configfs-tsm (TDX, SEV-SNP) would be further tee_backend tables picked by
 * name in tee_init. Callers use only the functions below, which is what lets
 * a backend come without changing them.
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

typedef struct {
    const char *backend;            /* "sim" */
    const char *engine_identity;    /* part of the measurement, e.g. "duktape/2.7.0" */
    const char *platform_key_path;  /* sim: PEM private key of the simulated platform */
    const char *executable_path;    /* what is measured; NULL means /proc/self/exe */
} tee_config;

typedef enum {
    TEE_UNSEAL_OK = 0,
    TEE_UNSEAL_MALFORMED, /* not a sealed blob (magic, length) */
    TEE_UNSEAL_REFUSED,   /* sealed by another enclave or platform, for another purpose, or tampered */
    TEE_UNSEAL_NOMEM,
} tee_unseal_result;

/* 0, or -1 with *err a malloc'd message. Ends with one quote, verify and
 * sealing round trip through the backend, so no backend warms OpenSSL up
 * itself. */
int tee_init(const tee_config *cfg, char **err);
/* The measurement the backend would report for cfg, without initialising it
 * (tfaas-enclave --measurement prints it for policies and `tfaas attest`). */
int tee_measure(const tee_config *cfg, uint8_t out[EVIDENCE_MEASUREMENT_LEN], char **err);
void tee_shutdown(void);

const char *tee_backend_name(void);
const uint8_t *tee_measurement(void); /* EVIDENCE_MEASUREMENT_LEN bytes */

/* Evidence binding report_data, malloc'd text (a JWS in sim). 0 or -1. */
int tee_quote(const uint8_t report_data[EVIDENCE_REPORT_DATA_LEN], char **evidence, size_t *len);

/* Checks another enclave's evidence against this platform's root. */
evidence_result tee_verify(const char *evidence, size_t len, const uint8_t *expected_measurement,
                           const uint8_t *expected_report_data, evidence_claims *out);

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
} tee_backend;

extern const tee_backend tee_sim_backend;

#endif
