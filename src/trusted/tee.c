/* tee.c - picks the TEE backend and implements sealing on top of its
 * sealing key (one AEAD format for every backend); see tee.h. */
#include "trusted/tee.h"

#include "common/aead_box.h"
#include "common/errmsg.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const tee_backend *const BACKENDS[] = {&tee_sim_backend, &tee_tsm_backend, &tee_gramine_backend};
static const tee_backend *active;
static uint8_t measurement[EVIDENCE_MEASUREMENT_LEN];

static const tee_backend *find_backend(const tee_config *cfg, char **err) {
    *err = NULL;
    const char *name = cfg->backend ? cfg->backend : "sim";
    for (size_t i = 0; i < sizeof BACKENDS / sizeof BACKENDS[0]; i++)
        if (strcmp(BACKENDS[i]->name, name) == 0) return BACKENDS[i];
    errmsg(err, "TEE backend '%s' is not supported (sim, tsm, gramine)", name);
    return NULL;
}

/* One quote checked by tee_verify, and one sealing round trip: run by
 * tee_init before the sandbox closes the file system, so OpenSSL has loaded
 * its configuration and providers while it still can. 0 or -1. */
static int warm_up_quote(void) {
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN] = {0};
    char *ev = NULL;
    size_t len = 0;
    if (tee_quote(rd, &ev, &len) < 0) return -1;
    int rc = tee_verify(ev, len, measurement, rd, NULL) == EVIDENCE_OK ? 0 : -1;
    free(ev);
    return rc;
}

static int warm_up_seal(void) {
    uint8_t *blob = NULL, *pt = NULL;
    size_t blob_len = 0, pt_len = 0;
    int ok = tee_seal("warm-up", (const uint8_t *)"x", 1, &blob, &blob_len) == 0 &&
             tee_unseal("warm-up", blob, blob_len, &pt, &pt_len) == TEE_UNSEAL_OK;
    free(blob);
    free(pt);
    return ok ? 0 : -1;
}

int tee_init(const tee_config *cfg, char **err) {
    const tee_backend *b = find_backend(cfg, err);
    if (!b || b->init(cfg, measurement, err) < 0) return -1;
    active = b;
    if (!b->hardware && warm_up_quote() < 0) {
        tee_shutdown();
        return errmsg(err, "%s TEE: the platform key cannot sign evidence", b->name);
    }
    if (b->can_seal() && warm_up_seal() < 0) {
        tee_shutdown();
        return errmsg(err, "TEE backend '%s' cannot seal", b->name);
    }
    return 0;
}

int tee_measure(const tee_config *cfg, uint8_t out[EVIDENCE_MEASUREMENT_LEN], char **err) {
    const tee_backend *b = find_backend(cfg, err);
    return b ? b->measure(cfg, out, err) : -1;
}

void tee_shutdown(void) {
    if (active) active->shutdown();
    active = NULL;
}

void tee_quoting_done(void) {
    if (active) active->quoting_done();
}

int tee_can_seal(void) { return active && active->can_seal(); }

const char *tee_key_cert(void) { return active && active->key_cert ? active->key_cert() : NULL; }

const char *tee_backend_name(void) { return active ? active->name : "none"; }
const uint8_t *tee_measurement(void) { return measurement; }

int tee_quote(const uint8_t report_data[EVIDENCE_REPORT_DATA_LEN], char **evidence, size_t *len) {
    *evidence = NULL;
    return active ? active->quote(report_data, evidence, len) : -1;
}

evidence_result tee_verify(const char *evidence, size_t len, const uint8_t *expected_measurement,
                           const uint8_t *expected_report_data, evidence_claims *out) {
    if (!active) return EVIDENCE_UNKNOWN_ROOT;
    return active->verify(evidence, len, expected_measurement, expected_report_data, out);
}

const char *tee_unseal_result_name(tee_unseal_result r) {
    switch (r) {
    case TEE_UNSEAL_OK: return "ok";
    case TEE_UNSEAL_MALFORMED: return "not a sealed blob";
    case TEE_UNSEAL_REFUSED: return "sealed by another enclave, for another purpose, or tampered";
    case TEE_UNSEAL_NOMEM: return "out of memory";
    }
    return "unknown unseal result";
}

/* blob = TEE_SEAL_MAGIC || aead box (nonce || ChaCha20-Poly1305), aad = purpose. */
int tee_seal(const char *purpose, const uint8_t *pt, size_t len, uint8_t **blob, size_t *blob_len) {
    *blob = NULL;
    if (!active || len > TEE_MAX_SEALED - TEE_SEAL_OVERHEAD) return -1;
    uint8_t key[32], *box = NULL;
    size_t box_len = 0;
    int rc = -1;
    if (active->seal_key(key) == 0 &&
        aead_box_seal(HPKE_AEAD_CHACHA20_POLY1305, key, (const uint8_t *)purpose, strlen(purpose), pt, len,
                      &box, &box_len) == HPKE_OK &&
        (*blob = malloc(4 + box_len))) {
        memcpy(*blob, TEE_SEAL_MAGIC, 4);
        memcpy(*blob + 4, box, box_len);
        *blob_len = 4 + box_len;
        rc = 0;
    }
    OPENSSL_cleanse(key, sizeof key);
    free(box);
    return rc;
}

tee_unseal_result tee_unseal(const char *purpose, const uint8_t *blob, size_t len, uint8_t **pt,
                             size_t *pt_len) {
    *pt = NULL;
    if (len < TEE_SEAL_OVERHEAD || len > TEE_MAX_SEALED || memcmp(blob, TEE_SEAL_MAGIC, 4) != 0)
        return TEE_UNSEAL_MALFORMED;
    uint8_t key[32];
    if (!active || active->seal_key(key) != 0) return TEE_UNSEAL_REFUSED;
    hpke_result r = aead_box_open(HPKE_AEAD_CHACHA20_POLY1305, key, (const uint8_t *)purpose, strlen(purpose),
                                  blob + 4, len - 4, pt, pt_len);
    OPENSSL_cleanse(key, sizeof key);
    return r == HPKE_OK ? TEE_UNSEAL_OK : r == HPKE_ERR_CRYPTO ? TEE_UNSEAL_NOMEM : TEE_UNSEAL_REFUSED;
}
