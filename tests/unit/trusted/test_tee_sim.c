/* test_tee_sim.c - the sim TEE: measurement, quotes checked against the
 * platform root, every evidence refusal, and sealing bound to measurement,
 * platform and purpose. */
#include "check.h"
#include "scratch.h"

#include "common/b64url.h"
#include "common/jws.h"
#include "common/p256.h"
#include "trusted/tee.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void write_file(const char *p, const char *text) {
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

static int init(const char *exe, const char *key, const char *engine) {
    char *err = NULL;
    tee_config cfg = {.backend = "sim", .engine_identity = engine, .platform_key_path = key,
                      .executable_path = exe};
    int rc = tee_init(&cfg, &err);
    if (rc < 0) fprintf(stderr, "tee_init: %s\n", err ? err : "?");
    free(err);
    return rc;
}

int main(void) {
    char *dir = scratch_dir("tee");
    char *exe_a = strdup(path_join(dir, "enclave-a")), *exe_b = strdup(path_join(dir, "enclave-b"));
    char *key1 = strdup(path_join(dir, "platform1.key")), *key2 = strdup(path_join(dir, "platform2.key"));
    write_file(exe_a, "binary A");
    write_file(exe_b, "binary B");
    EVP_PKEY *p1 = p256_generate(), *p2 = p256_generate();
    CHECK(p256_write_private_pem(p1, key1) == 0 && p256_write_private_pem(p2, key2) == 0);

    /* Refusals at init. */
    char *err = NULL;
    tee_config none = {.backend = "sgx"};
    CHECK(tee_init(&none, &err) < 0 && err && strstr(err, "not supported"));
    free(err);
    CHECK(init(exe_a, "/nonexistent", "duktape/x") < 0);
    CHECK(init("/nonexistent", key1, "duktape/x") < 0);

    /* Measurement = SHA-256(file || 0x00 || engine). */
    CHECK(init(exe_a, key1, "duktape/x") == 0);
    CHECK_STR(tee_backend_name(), "sim");
    uint8_t expect[32];
    const char m_in[] = "binary A\0duktape/x";
    SHA256((const uint8_t *)m_in, sizeof m_in - 1, expect);
    CHECK(memcmp(tee_measurement(), expect, 32) == 0);
    uint8_t meas_a[32];
    memcpy(meas_a, tee_measurement(), 32);

    /* Quote and verify. */
    uint8_t rd[64], rd2[64];
    evidence_bind("test", (const uint8_t *)"abc", 3, rd);
    evidence_bind("test", (const uint8_t *)"abd", 3, rd2);
    char *ev = NULL;
    size_t ev_len = 0;
    CHECK(tee_quote(rd, &ev, &ev_len) == 0 && ev && ev_len == strlen(ev));
    evidence_claims c;
    CHECK(tee_verify(ev, ev_len, meas_a, rd, &c) == EVIDENCE_OK);
    CHECK_STR(c.tee, "sim");
    CHECK_STR(c.engine, "duktape/x");
    CHECK(memcmp(c.report_data, rd, 64) == 0 && memcmp(c.measurement, meas_a, 32) == 0);
    CHECK(evidence_verify(ev, ev_len, p1, NULL, NULL, &c) == EVIDENCE_OK);
    /* Wrong root, wrong measurement, wrong report data, tampering, truncation. */
    CHECK(evidence_verify(ev, ev_len, p2, NULL, NULL, &c) == EVIDENCE_UNKNOWN_ROOT);
    uint8_t other[32] = {1};
    CHECK(tee_verify(ev, ev_len, other, NULL, &c) == EVIDENCE_WRONG_MEASUREMENT);
    CHECK(tee_verify(ev, ev_len, NULL, rd2, &c) == EVIDENCE_WRONG_REPORT_DATA);
    for (size_t n = 0; n < ev_len; n += 7) CHECK(tee_verify(ev, n, NULL, NULL, &c) != EVIDENCE_OK);
    ev[ev_len / 2] = ev[ev_len / 2] == 'A' ? 'B' : 'A';
    CHECK(tee_verify(ev, ev_len, NULL, NULL, &c) != EVIDENCE_OK);
    CHECK(tee_verify("x", 1, NULL, NULL, &c) == EVIDENCE_MALFORMED);
    free(ev);

    /* A JWS by the platform key with another typ is not evidence. */
    char *jws = NULL;
    CHECK(jws_sign(p1, "other+jwt", NULL, (const uint8_t *)"{}", 2, &jws) == JWS_OK);
    CHECK(evidence_verify(jws, strlen(jws), p1, NULL, NULL, &c) == EVIDENCE_MALFORMED);
    free(jws);
    /* Evidence with the right typ and key but whose signer claim names
     * another platform is refused. */
    char signer_hex[65];
    uint8_t pt[P256_POINT_LEN], sh[32];
    p256_public_point(p2, pt);
    SHA256(pt, sizeof pt, sh);
    evidence_hex(sh, 32, signer_hex);
    char rd_b64[90], m_hex[65], *forged = NULL;
    b64url_encode(rd, 64, rd_b64);
    evidence_hex(meas_a, 32, m_hex);
    char payload[512];
    snprintf(payload, sizeof payload,
             "{\"engine\":\"e\",\"iat\":1,\"measurement\":\"%s\",\"report_data\":\"%s\",\"signer\":\"%s\",\"tee\":\"sim\"}",
             m_hex, rd_b64, signer_hex);
    CHECK(jws_sign(p1, EVIDENCE_SIM_TYP, NULL, (const uint8_t *)payload, strlen(payload), &forged) == JWS_OK);
    CHECK(evidence_verify(forged, strlen(forged), p1, NULL, NULL, &c) == EVIDENCE_UNKNOWN_ROOT);
    free(forged);
    snprintf(payload, sizeof payload, "{\"tee\":\"sgx\"}");
    CHECK(jws_sign(p1, EVIDENCE_SIM_TYP, NULL, (const uint8_t *)payload, strlen(payload), &forged) == JWS_OK);
    CHECK(evidence_verify(forged, strlen(forged), p1, NULL, NULL, &c) == EVIDENCE_MALFORMED);
    free(forged);

    /* Sealing: round trip, purpose, tampering, another measurement or platform. */
    const char *secret = "the KMS signing key";
    uint8_t *blob = NULL, *pt_out = NULL;
    size_t blob_len = 0, pt_len = 0;
    CHECK(tee_seal("kms-keys", (const uint8_t *)secret, strlen(secret), &blob, &blob_len) == 0);
    CHECK(blob_len == strlen(secret) + TEE_SEAL_OVERHEAD);
    CHECK(memmem(blob, blob_len, secret, strlen(secret)) == NULL);
    CHECK(tee_unseal("kms-keys", blob, blob_len, &pt_out, &pt_len) == TEE_UNSEAL_OK);
    CHECK(pt_out && pt_len == strlen(secret) && memcmp(pt_out, secret, pt_len) == 0);
    free(pt_out);
    CHECK(tee_unseal("function", blob, blob_len, &pt_out, &pt_len) == TEE_UNSEAL_REFUSED);
    CHECK(tee_unseal("kms-keys", blob, 10, &pt_out, &pt_len) == TEE_UNSEAL_MALFORMED);
    blob[blob_len - 1] ^= 1;
    CHECK(tee_unseal("kms-keys", blob, blob_len, &pt_out, &pt_len) == TEE_UNSEAL_REFUSED);
    blob[blob_len - 1] ^= 1;
    uint8_t *empty = NULL;
    size_t empty_len = 0;
    CHECK(tee_seal("x", NULL, 0, &empty, &empty_len) == 0);
    CHECK(tee_unseal("x", empty, empty_len, &pt_out, &pt_len) == TEE_UNSEAL_OK && pt_len == 0);
    free(pt_out);
    free(empty);

    CHECK(init(exe_b, key1, "duktape/x") == 0); /* another executable */
    CHECK(memcmp(tee_measurement(), meas_a, 32) != 0);
    CHECK(tee_unseal("kms-keys", blob, blob_len, &pt_out, &pt_len) == TEE_UNSEAL_REFUSED);
    CHECK(init(exe_a, key1, "duktape/y") == 0); /* another engine */
    CHECK(tee_unseal("kms-keys", blob, blob_len, &pt_out, &pt_len) == TEE_UNSEAL_REFUSED);
    CHECK(init(exe_a, key2, "duktape/x") == 0); /* another platform */
    CHECK(tee_unseal("kms-keys", blob, blob_len, &pt_out, &pt_len) == TEE_UNSEAL_REFUSED);
    CHECK(init(exe_a, key1, "duktape/x") == 0); /* the same again: a restart */
    CHECK(tee_unseal("kms-keys", blob, blob_len, &pt_out, &pt_len) == TEE_UNSEAL_OK);
    free(pt_out);
    free(blob);
    tee_shutdown();

    EVP_PKEY_free(p1);
    EVP_PKEY_free(p2);
    free(exe_a);
    free(exe_b);
    free(key1);
    free(key2);
    scratch_remove(dir);
    return CHECK_DONE();
}
