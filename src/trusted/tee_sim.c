/* tee_sim.c - the simulated TEE backend ("sim").
 *
 * Stands in for hardware so the whole protocol runs on any Linux machine:
 *  - measurement = SHA-256(executable bytes || 0x00 || engine identity);
 *  - the platform root is a per-installation ECDSA P-256 key that
 *    `tfaas serve` makes in its state directory; its public half is
 *    STATE/sim-platform.pem, the root a client verifies evidence against;
 *  - evidence is a JWS signed by that key (format in common/evidence.h);
 *  - the sealing key is HKDF(platform secret, measurement), so a blob opens
 *    only for the same executable and engine on the same installation: the
 *    key service (tfaas-kms) and a worker enclave measure differently.
 *
 * Two modes (tee.h): platform mode holds the private key (the key service
 * and the quoting service); quote-client mode (worker enclaves) holds only
 * the public root and gets its evidence from the quoting service, which
 * measures the calling process itself (quote_proto.h), as SGX's quoting
 * enclave vouches for its local callers. A worker therefore never holds a
 * key that signs evidence or opens sealed state.
 *
 * What it does NOT protect against: the platform private key is a file the
 * host owner can read. Whoever is root on the machine (or runs as the
 * server's user) can forge evidence, unseal every key and read enclave
 * memory. Sim mode protects tenants from each other and from a compromised
 * worker enclave, and shows the protocol end to end; only a hardware
 * backend protects against the operator. */
#include "trusted/tee.h"
#include "trusted/tee_sim.h"
#include "common/errmsg.h"

#include "common/b64url.h"
#include "common/hkdf.h"
#include "common/jws.h"
#include "common/p256.h"
#include "trusted/quote_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEAL_SALT "tfaas sim seal v1"

/* Set by sim_init, read-only afterwards (tee.h: calls after init are
 * thread-safe), except quote_fd, which only start-up code uses. */
static EVP_PKEY *platform_key;        /* platform mode: private; signs evidence */
static EVP_PKEY *root;                /* quote client: the platform's public key */
static int quote_fd = -1;             /* quote client: the channel to tfaas-qe */
static uint8_t measured[EVIDENCE_MEASUREMENT_LEN];
static uint8_t seal_prk[HKDF_SHA256_LEN];
static int have_seal;
static char engine_id[QUOTE_MAX_ENGINE + 1];

/* SHA-256 over the file, then the 0x00 separator and the engine identity. */
int tee_sim_measure_path(const char *path, const char *engine, uint8_t out[EVIDENCE_MEASUREMENT_LEN], char **err) {
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

static void sim_quoting_done(void) {
    if (quote_fd >= 0) close(quote_fd);
    quote_fd = -1;
}

static void sim_shutdown(void) {
    EVP_PKEY_free(platform_key);
    platform_key = NULL;
    EVP_PKEY_free(root);
    root = NULL;
    sim_quoting_done();
    OPENSSL_cleanse(seal_prk, sizeof seal_prk);
    have_seal = 0;
}

static int sim_measure(const tee_config *cfg, uint8_t out[EVIDENCE_MEASUREMENT_LEN], char **err) {
    const char *engine = cfg->engine_identity ? cfg->engine_identity : "";
    if (strlen(engine) >= sizeof engine_id) return errmsg(err, "sim TEE: engine identity too long");
    return tee_sim_measure_path(cfg->executable_path ? cfg->executable_path : "/proc/self/exe", engine, out, err);
}

/* Platform mode: the private key, and the sealing secret derived from it. */
static int init_platform(const char *path, char **err) {
    platform_key = p256_read_private_pem(path);
    if (!platform_key) return errmsg(err, "sim TEE: %s holds no P-256 private key", path);
    uint8_t scalar[P256_COORD_LEN];
    if (p256_private_scalar(platform_key, scalar) < 0) return errmsg(err, "sim TEE: cannot use the platform key");
    int rc = hkdf_extract((const uint8_t *)SEAL_SALT, strlen(SEAL_SALT), scalar, sizeof scalar, seal_prk);
    OPENSSL_cleanse(scalar, sizeof scalar);
    if (rc != HKDF_OK) return errmsg(err, "sim TEE: key derivation failed");
    have_seal = 1;
    return 0;
}

static int sim_init(const tee_config *cfg, uint8_t measurement[EVIDENCE_MEASUREMENT_LEN], char **err) {
    const char *engine = cfg->engine_identity ? cfg->engine_identity : "";
    if (!cfg->platform_key_path && (cfg->quote_fd < 3 || !cfg->platform_root_path))
        return errmsg(err, "sim TEE: give --platform-key, or --quote-fd with --platform-root");
    if (sim_measure(cfg, measured, err) < 0) return -1;
    sim_shutdown();
    if (cfg->platform_key_path) {
        if (init_platform(cfg->platform_key_path, err) < 0) {
            sim_shutdown();
            return -1;
        }
    } else if (!(root = p256_read_public_pem(cfg->platform_root_path))) {
        return errmsg(err, "sim TEE: %s holds no P-256 public key", cfg->platform_root_path);
    } else {
        quote_fd = cfg->quote_fd;
    }
    strcpy(engine_id, engine);
    memcpy(measurement, measured, sizeof measured);
    return 0;
}

int tee_sim_evidence(EVP_PKEY *key, const uint8_t measurement[EVIDENCE_MEASUREMENT_LEN], const char *engine,
                     const uint8_t report_data[EVIDENCE_REPORT_DATA_LEN], char **evidence, size_t *len) {
    char m[2 * EVIDENCE_MEASUREMENT_LEN + 1], s[2 * 32 + 1];
    char rd[b64url_encoded_len(EVIDENCE_REPORT_DATA_LEN) + 1];
    uint8_t signer[32];
    if (evidence_signer(key, signer) < 0) return -1;
    evidence_hex(measurement, EVIDENCE_MEASUREMENT_LEN, m);
    evidence_hex(signer, sizeof signer, s);
    b64url_encode(report_data, EVIDENCE_REPORT_DATA_LEN, rd);
    json_t *claims = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "tee", "sim", "measurement", m, "signer", s,
                               "report_data", rd, "engine", engine, "iat", (json_int_t)time(NULL));
    char *text = claims ? json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(claims);
    if (!text) return -1;
    char kid[P256_THUMBPRINT_LEN + 1];
    int rc = -1;
    if (p256_thumbprint(key, kid) == 0 &&
        jws_sign(key, EVIDENCE_SIM_TYP, kid, (const uint8_t *)text, strlen(text), evidence) == JWS_OK) {
        *len = strlen(*evidence);
        rc = 0;
    }
    free(text);
    return rc;
}

/* Quote client: one request to the quoting service, its reply. */
static int quote_remote(const uint8_t report_data[EVIDENCE_REPORT_DATA_LEN], char **evidence, size_t *len) {
    uint8_t req[QUOTE_REQUEST_LEN], head[5];
    if (quote_fd < 0 || quote_request_encode(engine_id, report_data, req) < 0 ||
        quote_send_all(quote_fd, req, sizeof req) < 0 || quote_recv_all(quote_fd, head, sizeof head) < 0)
        return -1;
    size_t n = (size_t)head[1] | (size_t)head[2] << 8 | (size_t)head[3] << 16 | (size_t)head[4] << 24;
    char *body = n <= QUOTE_MAX_REPLY ? malloc(n + 1) : NULL;
    if (!body || quote_recv_all(quote_fd, body, n) < 0) {
        free(body);
        return -1;
    }
    body[n] = 0;
    if (head[0] != QUOTE_OK) {
        fprintf(stderr, "sim TEE: the quoting service refused: %s\n", body);
        free(body);
        return -1;
    }
    *evidence = body;
    *len = n;
    return 0;
}

static int sim_quote(const uint8_t report_data[EVIDENCE_REPORT_DATA_LEN], char **evidence, size_t *len) {
    if (platform_key) return tee_sim_evidence(platform_key, measured, engine_id, report_data, evidence, len);
    return quote_remote(report_data, evidence, len);
}

static evidence_result sim_verify(const char *evidence, size_t len, const uint8_t *expected_measurement,
                                  const uint8_t *expected_report_data, evidence_claims *out) {
    /* The root is this installation's platform key (its public half). */
    return evidence_verify(evidence, len, platform_key ? platform_key : root, expected_measurement,
                           expected_report_data, out);
}

static int sim_can_seal(void) { return have_seal; }

static int sim_seal_key(uint8_t key[32]) {
    if (!have_seal) return -1;
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
    .can_seal = sim_can_seal,
    .quoting_done = sim_quoting_done,
};
