/* fuzz_evidence.c - libFuzzer target for evidence verification
 * (src/common/evidence.c), which the KMS enclave runs on evidence a worker
 * presents and the CLI on what the host relays, against a fixed root.
 *
 * Invariants: accepted evidence says tee "sim" and checks again with its own
 * measurement and report data as the expected values; with any other
 * expected measurement it is refused as WRONG_MEASUREMENT. */
#include "fuzz.h"
#include "fuzz_key.h"

#include "common/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    EVP_PKEY *root = fuzz_key();
    FUZZ_CHECK(root != NULL);
    const char *text = (const char *)data;
    evidence_claims c;
    if (evidence_verify(text, size, root, NULL, NULL, &c) != EVIDENCE_OK) return 0;
    FUZZ_CHECK(strcmp(c.tee, "sim") == 0);
    evidence_claims again;
    FUZZ_CHECK(evidence_verify(text, size, root, c.measurement, c.report_data, &again) == EVIDENCE_OK);
    uint8_t other[EVIDENCE_MEASUREMENT_LEN];
    memcpy(other, c.measurement, sizeof other);
    other[0] ^= 1;
    FUZZ_CHECK(evidence_verify(text, size, root, other, NULL, &again) == EVIDENCE_WRONG_MEASUREMENT);
    return 0;
}
