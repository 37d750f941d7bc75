/* tee_hw.h - what the hardware TEE backends that talk to the platform
 * through files (configfs-tsm: tee_tsm.c, Gramine-SGX: tee_gramine.c)
 * share: reading and writing those files with explicit bounds, the text
 * form of raw evidence, the check of a freshly made quote or report, and
 * verifying other enclaves' evidence.
 *
 * Both backends do every file operation inside tee_init and the quotes
 * made before tee_quoting_done, i.e. before the sandbox closes the file
 * system (trusted/sandbox.h): the seccomp allow-list needs nothing for
 * them, and a compromised engine can neither ask for evidence nor read a
 * sealing key file. */
#ifndef TFAAS_TRUSTED_TEE_HW_H
#define TFAAS_TRUSTED_TEE_HW_H

#include "common/evidence.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* The whole of path (at most max bytes; more is an error), malloc'd with
 * one spare NUL byte. 0, or -1 with *err. */
int tee_hw_read(const char *path, size_t max, uint8_t **out, size_t *len, char **err);
/* Writes data to an existing file (no create, no truncate: configfs and
 * Gramine's pseudo-files take one write of the whole value). 0 or -1 with *err. */
int tee_hw_write(const char *path, const uint8_t *data, size_t len, char **err);

/* Checks raw evidence the platform just made for this enclave: it is of
 * the kind the backend expects (tee: "sgx", "tdx", "sev-snp"), parses, and
 * carries report_data exactly. No signature is checked (that needs
 * collateral; the verifier does it); this catches a stale, replayed or
 * foreign quote, or another writer's. When measurement is not NULL it gets
 * the 32-byte measurement (SGX MRENCLAVE; zero for tdx and sev-snp, whose
 * 48-byte measurement is no tee.h measurement). 0 or -1 with *err. */
int tee_hw_check_own(const char *tee, const uint8_t *raw, size_t len,
                     const uint8_t report_data[EVIDENCE_REPORT_DATA_LEN],
                     uint8_t measurement[EVIDENCE_MEASUREMENT_LEN], char **err);

/* Evidence text of raw hardware evidence: base64url, unpadded
 * (docs/protocol.md §5.5; never contains the dots of a sim JWS). 0 or -1. */
int tee_hw_evidence_text(const uint8_t *raw, size_t len, char **text, size_t *text_len);

/* Verifies another enclave's evidence for a hardware backend: sim evidence
 * (the key service in a mixed deployment) against sim_root when one was
 * given (--platform-root), hardware evidence against the pinned Intel and
 * AMD roots as of now, with no collateral (so a DCAP quote or SNP report
 * without its collateral is EVIDENCE_NO_COLLATERAL). */
evidence_result tee_hw_verify(EVP_PKEY *sim_root, const char *evidence, size_t len,
                              const uint8_t *expected_measurement, const uint8_t *expected_report_data,
                              evidence_claims *out);

#endif
