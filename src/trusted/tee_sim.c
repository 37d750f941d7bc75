/* tee_sim.c - the simulated TEE backend ("sim").
 *
 * Stands in for hardware so the whole protocol runs on any Linux machine:
 *  - measurement = SHA-256(executable bytes || 0x00 || engine identity);
 *  - the platform root is a per-installation ECDSA P-256 key that
 *    `tfaas serve` makes in its state directory; its public half is
 *    STATE/sim-platform.pem, the root a client verifies evidence against;
 *  - evidence is a JWS signed by that key (format in common/evidence.h);
 *  - the sealing key is HKDF(platform secret, measurement), so a blob opens
 *    only for the same executable and engine on the same installation.
 *
 * What it does NOT protect against: the enclave reads the platform private
 * key from a file the host owner can read. Whoever is root on the machine can
 * forge evidence, unseal every key and read enclave memory. Sim mode protects
 * tenants from each other and from the host daemon's code paths, and shows
 * the protocol end to end; only a hardware backend protects against the
 * operator. */
#include "trusted/tee.h"
#include "common/errmsg.h"

#include "common/b64url.h"
#include "common/hkdf.h"
#include "common/jws.h"
#include "common/p256.h"

#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEAL_SALT "tfaas sim seal v1"

static EVP_PKEY *platform_key;        /* private; signs evidence */
static uint8_t signer[32];            /* SHA-256 of the platform key's point */
static uint8_t measured[EVIDENCE_MEASUREMENT_LEN];
static uint8_t seal_prk[HKDF_SHA256_LEN];
static char engine_id[64];

/* SHA-256 over the file, then the 0x00 separator and the engine identity. */
static int measure(const char *path, const char *engine, uint8_t out[EVIDENCE_MEASUREMENT_LEN], char **err) {
    FILE *f = fopen(path, "rbe");
    if (!f) return errmsg(err, "sim TEE: cannot read %s to measure it: %s", path, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    uint8_t buf[1 << 16];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0) ok = EVP_DigestUpdate(md, buf, n) == 1;
    if (ferror(f)) ok = 0;
    fclose(f);
    unsigned len = 0;
    ok = ok && EVP_DigestUpdate(md, "", 1) == 1 && EVP_DigestUpdate(md, engine, strlen(engine)) == 1 &&
         EVP_DigestFinal_ex(md, out, &len) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : errmsg(err, "sim TEE: measuring %s failed", path);
}

static void sim_shutdown(void) {
    EVP_PKEY_free(platform_key);
    platform_key = NULL;
    OPENSSL_cleanse(seal_prk, sizeof seal_prk);
}

static int sim_measure(const tee_config *cfg, uint8_t out[EVIDENCE_MEASUREMENT_LEN], char **err) {
    const char *engine = cfg->engine_identity ? cfg->engine_identity : "";
    if (strlen(engine) >= sizeof engine_id) return errmsg(err, "sim TEE: engine identity too long");
    return measure(cfg->executable_path ? cfg->executable_path : "/proc/self/exe", engine, out, err);
}

static int sim_init(const tee_config *cfg, uint8_t measurement[EVIDENCE_MEASUREMENT_LEN], char **err) {
    const char *engine = cfg->engine_identity ? cfg->engine_identity : "";
    if (!cfg->platform_key_path) return errmsg(err, "sim TEE: no platform key given (--platform-key)");
    if (sim_measure(cfg, measured, err) < 0) return -1;
    sim_shutdown();
    platform_key = p256_read_private_pem(cfg->platform_key_path);
    if (!platform_key)
        return errmsg(err, "sim TEE: %s holds no P-256 private key", cfg->platform_key_path);
    uint8_t scalar[P256_COORD_LEN];
    if (evidence_signer(platform_key, signer) < 0 || p256_private_scalar(platform_key, scalar) < 0) {
        sim_shutdown();
        return errmsg(err, "sim TEE: cannot use the platform key");
    }
    int rc = hkdf_extract((const uint8_t *)SEAL_SALT, strlen(SEAL_SALT), scalar, sizeof scalar, seal_prk);
    OPENSSL_cleanse(scalar, sizeof scalar);
    if (rc != HKDF_OK) {
        sim_shutdown();
        return errmsg(err, "sim TEE: key derivation failed");
    }
    strcpy(engine_id, engine);
    memcpy(measurement, measured, sizeof measured);
    return 0;
}

static int sim_quote(const uint8_t report_data[EVIDENCE_REPORT_DATA_LEN], char **evidence, size_t *len) {
    char m[2 * EVIDENCE_MEASUREMENT_LEN + 1], s[2 * sizeof signer + 1];
    char rd[b64url_encoded_len(EVIDENCE_REPORT_DATA_LEN) + 1];
    evidence_hex(measured, sizeof measured, m);
    evidence_hex(signer, sizeof signer, s);
    b64url_encode(report_data, EVIDENCE_REPORT_DATA_LEN, rd);
    json_t *claims = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "tee", "sim", "measurement", m, "signer", s,
                               "report_data", rd, "engine", engine_id, "iat", (json_int_t)time(NULL));
    char *text = claims ? json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(claims);
    if (!text) return -1;
    char kid[P256_THUMBPRINT_LEN + 1];
    int rc = -1;
    if (p256_thumbprint(platform_key, kid) == 0 &&
        jws_sign(platform_key, EVIDENCE_SIM_TYP, kid, (const uint8_t *)text, strlen(text), evidence) == JWS_OK) {
        *len = strlen(*evidence);
        rc = 0;
    }
    free(text);
    return rc;
}

static evidence_result sim_verify(const char *evidence, size_t len, const uint8_t *expected_measurement,
                                  const uint8_t *expected_report_data, evidence_claims *out) {
    /* The root is this installation's platform key (its public half). */
    return evidence_verify(evidence, len, platform_key, expected_measurement, expected_report_data, out);
}

static int sim_seal_key(uint8_t key[32]) {
    uint8_t info[9 + EVIDENCE_MEASUREMENT_LEN];
    memcpy(info, "seal key", 9); /* with its NUL as a separator */
    memcpy(info + 9, measured, sizeof measured);
    return hkdf_expand(seal_prk, info, sizeof info, key, 32) == HKDF_OK ? 0 : -1;
}

const tee_backend tee_sim_backend = {
    .name = "sim",
    .init = sim_init,
    .measure = sim_measure,
    .shutdown = sim_shutdown,
    .quote = sim_quote,
    .verify = sim_verify,
    .seal_key = sim_seal_key,
};
