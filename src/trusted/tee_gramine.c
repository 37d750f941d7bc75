/* tee_gramine.c - the Gramine-SGX TEE backend ("gramine"): the enclave
 * runs inside Gramine (deploy/gramine/), whose LibOS offers SGX through
 * pseudo-files (ROOT: --tee-root, default /dev/attestation):
 *
 *   ROOT/attestation_type       "dcap" (EPID and "none" are refused)
 *   ROOT/user_report_data       write: the 64 bytes of report data
 *   ROOT/quote                  read: an SGX DCAP quote over them
 *   ROOT/keys/_sgx_mrenclave    read: the 16-byte sealing key of this
 *                               enclave's MRENCLAVE on this CPU
 *
 * The measurement is MRENCLAVE, read from a quote made at init (Gramine's
 * MRENCLAVE covers its manifest and every trusted file, so it names the
 * binary, the engine and the configuration together). Sealing uses the
 * MRENCLAVE key, not _sgx_mrsigner: a sealed blob then opens only for the
 * same build, as sim sealing is bound to the measurement; an upgrade
 * re-provisions (docs/architecture.md). The 32-byte sealing key tee.c uses
 * is HKDF-SHA256(salt "tfaas gramine seal v1", that key, "seal key").
 *
 * Every file operation happens in tee_init and the quotes made before
 * tee_quoting_done (tee_hw.h). Untested on real SGX (no hardware here);
 * tested against a fake directory (tests/unit/trusted/test_tee_hw.c). */
#include "trusted/tee.h"
#include "trusted/tee_hw.h"

#include "common/errmsg.h"
#include "common/hkdf.h"
#include "common/p256.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRAMINE_DEFAULT_ROOT "/dev/attestation"
#define GRAMINE_SEAL_SALT "tfaas gramine seal v1"
#define GRAMINE_KEY_LEN 16u

/* Set by gramine_init, read-only afterwards; quoting stops at quoting_done. */
static char root[4096];
static EVP_PKEY *sim_root;
static uint8_t seal_prk[HKDF_SHA256_LEN];
static int have_seal, quoting;

static int root_file(char *out, size_t cap, const char *name) {
    return snprintf(out, cap, "%s/%s", root, name) < (int)cap ? 0 : -1;
}

static void gramine_shutdown(void) {
    EVP_PKEY_free(sim_root);
    sim_root = NULL;
    OPENSSL_cleanse(seal_prk, sizeof seal_prk);
    have_seal = quoting = 0;
}

static int quote_checked(const uint8_t rd[EVIDENCE_REPORT_DATA_LEN], char **evidence, size_t *len,
                         uint8_t measurement[EVIDENCE_MEASUREMENT_LEN], char **err) {
    if (!quoting) return errmsg(err, "gramine: quoting is over for this process");
    char p[sizeof root + 32], *e = NULL;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    int rc = root_file(p, sizeof p, "user_report_data") == 0 && tee_hw_write(p, rd, EVIDENCE_REPORT_DATA_LEN, &e) == 0 &&
             root_file(p, sizeof p, "quote") == 0 && tee_hw_read(p, EVIDENCE_MAX_LEN, &raw, &raw_len, &e) == 0 &&
             tee_hw_check_own("sgx", raw, raw_len, rd, measurement, &e) == 0 &&
             tee_hw_evidence_text(raw, raw_len, evidence, len) == 0 ? 0 : -1;
    if (rc < 0) {
        errmsg(err, "gramine: %s", e ? e : "cannot quote");
        free(e);
    }
    free(raw);
    return rc;
}

static int read_seal_key(char **err) {
    char p[sizeof root + 32], *e = NULL;
    uint8_t *key = NULL;
    size_t n = 0;
    if (root_file(p, sizeof p, "keys/_sgx_mrenclave") < 0 || tee_hw_read(p, 64, &key, &n, &e) < 0) {
        errmsg(err, "gramine: no sealing key: %s", e ? e : "path too long");
        free(e);
        return -1;
    }
    int rc = n == GRAMINE_KEY_LEN &&
             hkdf_extract((const uint8_t *)GRAMINE_SEAL_SALT, strlen(GRAMINE_SEAL_SALT), key, n, seal_prk) == HKDF_OK
                 ? 0 : errmsg(err, "gramine: %s is not a %u-byte key", p, GRAMINE_KEY_LEN);
    OPENSSL_cleanse(key, n);
    free(key);
    have_seal = rc == 0;
    return rc;
}

static int gramine_start(const tee_config *cfg, uint8_t measurement[EVIDENCE_MEASUREMENT_LEN], char **err) {
    gramine_shutdown();
    const char *r = cfg->root_path ? cfg->root_path : GRAMINE_DEFAULT_ROOT;
    if (snprintf(root, sizeof root, "%s", r) >= (int)sizeof root) return errmsg(err, "gramine: --tee-root too long");
    char p[sizeof root + 32], *e = NULL;
    uint8_t *type = NULL;
    size_t n = 0;
    if (root_file(p, sizeof p, "attestation_type") < 0 || tee_hw_read(p, 32, &type, &n, &e) < 0) {
        errmsg(err, "gramine: %s (is this process running in Gramine-SGX with remote attestation?)",
               e ? e : "path too long");
        free(e);
        return -1;
    }
    while (n && type[n - 1] == '\n') n--;
    int dcap = n == 4 && !memcmp(type, "dcap", 4);
    free(type);
    if (!dcap) return errmsg(err, "gramine: attestation type is not dcap (set sgx.remote_attestation = \"dcap\")");
    quoting = 1;
    uint8_t zero[EVIDENCE_REPORT_DATA_LEN] = {0};
    char *ev = NULL;
    size_t len = 0;
    int rc = quote_checked(zero, &ev, &len, measurement, err);
    free(ev);
    return rc;
}

static int gramine_init(const tee_config *cfg, uint8_t measurement[EVIDENCE_MEASUREMENT_LEN], char **err) {
    if (gramine_start(cfg, measurement, err) < 0 || read_seal_key(err) < 0 ||
        (cfg->platform_root_path && !(sim_root = p256_read_public_pem(cfg->platform_root_path)) &&
         errmsg(err, "gramine: %s holds no P-256 public key", cfg->platform_root_path) < 0)) {
        gramine_shutdown();
        return -1;
    }
    return 0;
}

/* --measurement: MRENCLAVE from a quote (the platform's word for it). */
static int gramine_measure(const tee_config *cfg, uint8_t out[EVIDENCE_MEASUREMENT_LEN], char **err) {
    int rc = gramine_start(cfg, out, err);
    gramine_shutdown();
    return rc;
}

static int gramine_quote(const uint8_t report_data[EVIDENCE_REPORT_DATA_LEN], char **evidence, size_t *len) {
    char *err = NULL;
    int rc = quote_checked(report_data, evidence, len, NULL, &err);
    if (rc < 0) fprintf(stderr, "%s\n", err ? err : "gramine: cannot quote");
    free(err);
    return rc;
}

static evidence_result gramine_verify(const char *evidence, size_t len, const uint8_t *expected_measurement,
                                      const uint8_t *expected_report_data, evidence_claims *out) {
    return tee_hw_verify(sim_root, evidence, len, expected_measurement, expected_report_data, out);
}

static int gramine_seal_key(uint8_t key[32]) {
    static const uint8_t info[] = "seal key"; /* with its NUL, as sim's */
    return have_seal && hkdf_expand(seal_prk, info, sizeof info, key, 32) == HKDF_OK ? 0 : -1;
}

static int gramine_can_seal(void) { return have_seal; }

static void gramine_quoting_done(void) { quoting = 0; }

const tee_backend tee_gramine_backend = {
    .name = "gramine",
    .init = gramine_init,
    .measure = gramine_measure,
    .shutdown = gramine_shutdown,
    .quote = gramine_quote,
    .verify = gramine_verify,
    .seal_key = gramine_seal_key,
    .can_seal = gramine_can_seal,
    .quoting_done = gramine_quoting_done,
    .hardware = 1,
};
