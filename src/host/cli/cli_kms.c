/* cli_kms.c - attestation checks and the KMS pin; see cli_kms.h. */
#include "host/cli/cli_kms.h"

#include "common/b64url.h"
#include "common/labels.h"
#include "common/p256.h"
#include "host/cli/cli_config.h"
#include "host/cli/cli_file.h"
#include "host/util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

void cli_kms_free(struct cli_kms *k) {
    EVP_PKEY_free(k->signing_key);
    EVP_PKEY_free(k->platform_key);
    free(k->ca_pem);
    memset(k, 0, sizeof *k);
}

/* The evidence as bytes when it is base64url (hardware); NULL for a JWS,
 * whose dots are no base64url. */
static uint8_t *hardware_bytes(const char *ev, size_t *len) {
    uint8_t *bin = ev ? b64url_decode_alloc(ev, strlen(ev), len) : NULL;
    if (bin && *len == 0) {
        free(bin);
        bin = NULL;
    }
    return bin;
}

int cli_kms_is_hardware(const json_t *doc) {
    size_t len;
    uint8_t *bin = hardware_bytes(json_string_value(json_object_get(doc, "evidence")), &len);
    free(bin);
    return bin != NULL;
}

/* Hardware evidence of doc against the pinned roots or ca_pem at `at`. */
static evidence_result check_hardware(const json_t *doc, const uint8_t *bin, size_t len, const char *ca_pem,
                                      int64_t at, const uint8_t *rd, evidence_claims *claims, char *why,
                                      size_t whylen) {
    evidence_trust t = {0};
    char *collateral = NULL;
    const json_t *col = json_object_get(doc, "collateral");
    if (json_is_object(col)) collateral = json_dumps(col, JSON_COMPACT);
    t.collateral = collateral;
    t.collateral_len = collateral ? strlen(collateral) : 0;
    const char *cert = json_string_value(json_object_get(doc, "key_cert"));
    t.key_cert = (const uint8_t *)cert;
    t.key_cert_len = cert ? strlen(cert) : 0;
    t.ca_pem = ca_pem;
    t.ca_pem_len = ca_pem ? strlen(ca_pem) : 0;
    t.at = at;
    evidence_result r = evidence_check(bin, len, &t, NULL, rd, claims, why, whylen);
    free(collateral);
    return r;
}

int cli_kms_verify(const json_t *doc, EVP_PKEY *root, const char *ca_pem, int64_t at, const uint8_t *expected,
                   size_t expected_len, struct cli_kms *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *ev = json_string_value(json_object_get(doc, "evidence"));
    json_t *kms = json_object_get(doc, "kms");
    json_t *jwk = json_object_get(kms, "signing_key");
    json_t *hk = json_object_get(kms, "hpke_key");
    const char *hpk = json_string_value(json_object_get(hk, "public_key"));
    if (!ev || !json_is_object(jwk) || !hpk)
        return fail(err, errlen, "the attestation document lacks evidence or KMS keys");
    if (json_integer_value(json_object_get(hk, "kem_id")) != HPKE_KEM_X25519_SHA256)
        return fail(err, errlen, "the KMS HPKE key is not DHKEM(X25519, HKDF-SHA256)");
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (!kty || !crv || strcmp(kty, "EC") || strcmp(crv, "P-256"))
        return fail(err, errlen, "the KMS signing key is not a P-256 JWK");
    out->signing_key = p256_from_jwk(jwk);
    if (!out->signing_key) return fail(err, errlen, "the KMS signing key is not a point on P-256");
    if (b64url_decode(hpk, strlen(hpk), out->hpke_pk, sizeof out->hpke_pk) != HPKE_NPK) {
        cli_kms_free(out);
        return fail(err, errlen, "the KMS HPKE key is not 32 bytes of base64url");
    }
    /* report_data must bind exactly these two keys. */
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN];
    if (evidence_bind_keys(LABEL_KMS_REPORT, out->signing_key, out->hpke_pk, rd) < 0) {
        cli_kms_free(out);
        return fail(err, errlen, "the KMS signing key is not a point on P-256");
    }
    size_t bin_len = 0;
    uint8_t *bin = hardware_bytes(ev, &bin_len);
    char why[512] = "";
    evidence_result r;
    if (bin)
        r = check_hardware(doc, bin, bin_len, ca_pem, at, rd, &out->claims, why, sizeof why);
    else if (root)
        r = evidence_verify(ev, strlen(ev), root, NULL, rd, &out->claims);
    else {
        r = EVIDENCE_UNKNOWN_ROOT;
        snprintf(why, sizeof why, "sim evidence needs the platform root");
    }
    free(bin);
    size_t mlen = 0;
    const uint8_t *m = r == EVIDENCE_OK ? evidence_claims_measurement(&out->claims, &mlen) : NULL;
    if (r == EVIDENCE_OK && expected && (!m || mlen != expected_len || CRYPTO_memcmp(m, expected, mlen)))
        r = EVIDENCE_WRONG_MEASUREMENT;
    if (r != EVIDENCE_OK) {
        cli_kms_free(out);
        if (r == EVIDENCE_WRONG_REPORT_DATA)
            return fail(err, errlen, "the evidence does not bind the KMS keys the server sent%s%s%s", why[0] ? " (" : "",
                        why, why[0] ? ")" : "");
        return fail(err, errlen, "%s%s%s", evidence_result_name(r), why[0] ? ": " : "", why);
    }
    if (!bin) {
        if (!EVP_PKEY_up_ref(root)) {
            cli_kms_free(out);
            return fail(err, errlen, "out of memory");
        }
        out->platform_key = root;
    } else if (ca_pem && !(out->ca_pem = strdup(ca_pem))) {
        cli_kms_free(out);
        return fail(err, errlen, "out of memory");
    }
    return 0;
}

char *cli_kms_pin_path(void) {
    return cli_file_beside_config("TFAAS_KMS_PIN", "kms-pin.json");
}

int cli_kms_pin_save(const char *path, const char *apihost, const json_t *doc, const struct cli_kms *k,
                     int tofu, char *err, size_t errlen) {
    size_t mlen = 0;
    const uint8_t *m = evidence_claims_measurement(&k->claims, &mlen);
    char mhex[2 * EVIDENCE_FIELD_MAX + 1];
    if (!m || mlen > EVIDENCE_FIELD_MAX) return fail(err, errlen, "the attested KMS has no measurement");
    evidence_hex(m, mlen, mhex);
    char *root_pem = k->platform_key ? p256_public_pem(k->platform_key) : NULL;
    if (k->platform_key && !root_pem) return fail(err, errlen, "out of memory");
    json_t *pin = json_pack("{s:s, s:s, s:s, s:b, s:I, s:O}", "apihost", apihost, "measurement", mhex, "tee",
                            k->claims.tee, "trust_on_first_use", tofu, "pinned_at", (json_int_t)time(NULL),
                            "attestation", doc);
    /* sim: the platform key; hardware: the CA given instead of the pinned roots, if any */
    if (pin && ((root_pem && json_object_set_new(pin, "platform_key", json_string(root_pem)) < 0) ||
                (k->ca_pem && json_object_set_new(pin, "ca", json_string(k->ca_pem)) < 0))) {
        json_decref(pin);
        pin = NULL;
    }
    free(root_pem);
    if (!pin) return fail(err, errlen, "out of memory");
    int rc = cli_file_write_json(path, pin, "KMS pin", err, errlen);
    json_decref(pin);
    return rc;
}

int cli_kms_pin_load(const char *path, struct cli_kms *out, json_t **pin_out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (pin_out) *pin_out = NULL;
    if (access(path, F_OK) != 0) return 1;
    char *text = NULL;
    size_t len = 0;
    char ferr[512];
    if (cli_file_read(path, 1 << 20, &text, &len, ferr, sizeof ferr) < 0)
        return fail(err, errlen, "%s", ferr);
    json_t *pin = json_loadb(text, len, 0, NULL);
    free(text);
    const char *root_pem = json_string_value(json_object_get(pin, "platform_key"));
    const char *mhex = json_string_value(json_object_get(pin, "measurement"));
    const json_t *doc = json_object_get(pin, "attestation");
    uint8_t m[EVIDENCE_FIELD_MAX];
    size_t mlen = mhex ? strlen(mhex) / 2 : 0;
    int hardware = cli_kms_is_hardware(doc);
    EVP_PKEY *root = root_pem ? p256_public_from_pem(root_pem, strlen(root_pem)) : NULL;
    int rc = -1;
    if ((!hardware && !root) || mlen > sizeof m || evidence_unhex(mhex, m, mlen) < 0) {
        fail(err, errlen, "%s is not a KMS pin; run `tfaas attest` again", path);
    } else if (cli_kms_verify(doc, hardware ? NULL : root, json_string_value(json_object_get(pin, "ca")),
                              json_integer_value(json_object_get(pin, "pinned_at")), m, mlen, out, err,
                              errlen) == 0) {
        rc = 0;
    }
    EVP_PKEY_free(root);
    if (rc == 0 && pin_out) *pin_out = pin;
    else json_decref(pin);
    return rc;
}
