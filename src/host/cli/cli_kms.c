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
    memset(k, 0, sizeof *k);
}

int cli_kms_verify(const json_t *doc, EVP_PKEY *root, const uint8_t *expected_measurement,
                   struct cli_kms *out, char *err, size_t errlen) {
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
    evidence_result r = evidence_verify(ev, strlen(ev), root, expected_measurement, rd, &out->claims);
    if (r != EVIDENCE_OK) {
        cli_kms_free(out);
        if (r == EVIDENCE_WRONG_REPORT_DATA)
            return fail(err, errlen, "the evidence does not bind the KMS keys the server sent");
        return fail(err, errlen, "%s", evidence_result_name(r));
    }
    if (!EVP_PKEY_up_ref(root)) {
        cli_kms_free(out);
        return fail(err, errlen, "out of memory");
    }
    out->platform_key = root;
    return 0;
}

char *cli_kms_pin_path(void) {
    return cli_file_beside_config("TFAAS_KMS_PIN", "kms-pin.json");
}

int cli_kms_pin_save(const char *path, const char *apihost, const json_t *doc, const struct cli_kms *k,
                     int tofu, char *err, size_t errlen) {
    char mhex[2 * EVIDENCE_MEASUREMENT_LEN + 1];
    evidence_hex(k->claims.measurement, sizeof k->claims.measurement, mhex);
    char *root_pem = p256_public_pem(k->platform_key);
    if (!root_pem) return fail(err, errlen, "out of memory");
    json_t *pin = json_pack("{s:s, s:s, s:s, s:b, s:I, s:O}", "apihost", apihost, "measurement", mhex,
                            "platform_key", root_pem, "trust_on_first_use", tofu,
                            "pinned_at", (json_int_t)time(NULL), "attestation", doc);
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
    uint8_t m[EVIDENCE_MEASUREMENT_LEN];
    EVP_PKEY *root = root_pem ? p256_public_from_pem(root_pem, strlen(root_pem)) : NULL;
    int rc = -1;
    if (!root || evidence_unhex(mhex, m, sizeof m) < 0) {
        fail(err, errlen, "%s is not a KMS pin; run `tfaas attest` again", path);
    } else if (cli_kms_verify(json_object_get(pin, "attestation"), root, m, out, err, errlen) == 0) {
        rc = 0;
    }
    EVP_PKEY_free(root);
    if (rc == 0 && pin_out) *pin_out = pin;
    else json_decref(pin);
    return rc;
}
