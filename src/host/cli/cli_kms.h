/* cli_kms.h - the client's trust in a tfaas key service: checking an
 * attestation document (GET /tfaas/v1/attestation, docs/protocol.md §5)
 * against a platform root and an expected measurement, and the pin that
 * `tfaas attest` keeps so later commands (confidential deploy and invoke)
 * use the KMS keys it verified, not whatever a host sends later.
 *
 * The pin is a JSON file beside the client config: $TFAAS_KMS_PIN, else
 * the config file's directory + "/kms-pin.json" (~/.tfaas/kms-pin.json). */
#ifndef TFAAS_HOST_CLI_KMS_H
#define TFAAS_HOST_CLI_KMS_H

#include "common/evidence.h"
#include "common/hpke.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* What a verified attestation says. Keys are owned (cli_kms_free). */
struct cli_kms {
    evidence_claims claims;
    EVP_PKEY *signing_key;          /* KMS ES256 public key */
    uint8_t hpke_pk[HPKE_NPK];      /* KMS X25519 public key */
    EVP_PKEY *platform_key;         /* sim: the root the evidence verified against; NULL for hardware */
    char *ca_pem;                   /* hardware: the roots trusted instead of the pinned ones, or NULL */
};

/* Is the document's evidence hardware evidence (base64url of a DCAP quote
 * or SNP report, docs/protocol.md §5.5) rather than a sim JWS? */
int cli_kms_is_hardware(const json_t *doc);

/* Checks doc: its evidence (sim: signed by root, a P-256 public key;
 * hardware: against the pinned Intel/AMD roots or ca_pem, with the
 * document's collateral or key certificate, at time at), report_data
 * binding exactly the document's signing and HPKE keys, and the measurement
 * (evidence_claims_measurement) equal to expected when given (len bytes).
 * 0 with *out filled, or -1 with the reason in err. */
int cli_kms_verify(const json_t *doc, EVP_PKEY *root, const char *ca_pem, int64_t at, const uint8_t *expected,
                   size_t expected_len, struct cli_kms *out, char *err, size_t errlen);
void cli_kms_free(struct cli_kms *k);

/* The pin file path (malloc'd), or NULL without HOME and TFAAS_CONFIG. */
char *cli_kms_pin_path(void);
/* Writes the pin (apihost, measurement, keys, root or CA, whether it was
 * trust on first use). 0 or -1 with err. */
int cli_kms_pin_save(const char *path, const char *apihost, const json_t *doc, const struct cli_kms *k,
                     int tofu, char *err, size_t errlen);
/* Loads a pin and re-checks the attestation document stored in it against
 * its root (hardware: its CA, as of the time it was pinned, since
 * collateral expires); 0 with *out, 1 when there is no pin, -1 with err. */
int cli_kms_pin_load(const char *path, struct cli_kms *out, json_t **pin, char *err, size_t errlen);

#endif
