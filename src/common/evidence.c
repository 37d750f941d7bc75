/* evidence.c - evidence verification: the sim format, recognising the
 * format of any evidence and handing hardware evidence to its verifier
 * (dcap_verify.c, snp_verify.c); see evidence.h. */
#include "common/evidence.h"

#include "common/b64url.h"
#include "common/dcap_quote.h"
#include "common/evidence_hw.h"
#include "common/snp_report.h"
#include "common/jws.h"
#include "common/p256.h"
#include "common/sha256.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

const char *evidence_result_name(evidence_result r) {
    switch (r) {
    case EVIDENCE_OK: return "ok";
    case EVIDENCE_MALFORMED: return "malformed evidence";
    case EVIDENCE_TOO_LARGE: return "evidence too large";
    case EVIDENCE_UNKNOWN_ROOT: return "evidence not signed by the trusted platform root";
    case EVIDENCE_WRONG_MEASUREMENT: return "evidence is of an enclave with another measurement";
    case EVIDENCE_WRONG_REPORT_DATA: return "evidence binds other report data";
    case EVIDENCE_NO_COLLATERAL: return "evidence needs collateral or a key certificate that was not given";
    case EVIDENCE_BAD_COLLATERAL: return "collateral malformed, badly signed or not for this platform";
    case EVIDENCE_COLLATERAL_EXPIRED: return "collateral not valid at the verification time";
    case EVIDENCE_BAD_CHAIN: return "certificate chain does not verify to a trusted root";
    case EVIDENCE_BAD_SIGNATURE: return "evidence signature does not verify";
    case EVIDENCE_QE_MISMATCH: return "quoting enclave report does not match";
    case EVIDENCE_TCB_UNSUPPORTED: return "TCB level not supported";
    case EVIDENCE_TCB_REVOKED: return "TCB level revoked";
    case EVIDENCE_TCB_MISMATCH: return "key certificate is for another TCB or chip";
    case EVIDENCE_DEBUG: return "debug enclave, TD or guest";
    }
    return "unknown evidence result";
}

void evidence_hex(const uint8_t *bytes, size_t len, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

static int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int evidence_unhex(const char *hex, uint8_t *out, size_t len) {
    if (!hex || strlen(hex) != 2 * len) return -1;
    for (size_t i = 0; i < len; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void evidence_bind(const char *label, const uint8_t *data, size_t len,
                   uint8_t out[EVIDENCE_REPORT_DATA_LEN]) {
    /* Cannot fail short of memory exhaustion; zeros then make every check fail. */
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned n = 0;
    if (!c || EVP_DigestInit_ex(c, EVP_sha512(), NULL) != 1 ||
        EVP_DigestUpdate(c, label, strlen(label) + 1) != 1 || /* the NUL is the 0x00 separator */
        (len && EVP_DigestUpdate(c, data, len) != 1) || EVP_DigestFinal_ex(c, out, &n) != 1)
        memset(out, 0, EVIDENCE_REPORT_DATA_LEN);
    EVP_MD_CTX_free(c);
}

int evidence_bind_keys(const char *label, EVP_PKEY *es256, const uint8_t x25519_pk[HPKE_NPK],
                       uint8_t out[EVIDENCE_REPORT_DATA_LEN]) {
    uint8_t data[P256_POINT_LEN + HPKE_NPK];
    if (p256_public_point(es256, data) < 0) {
        memset(out, 0, EVIDENCE_REPORT_DATA_LEN);
        return -1;
    }
    memcpy(data + P256_POINT_LEN, x25519_pk, HPKE_NPK);
    evidence_bind(label, data, sizeof data, out);
    return 0;
}

void evidence_sha256_hex(const void *data, size_t len, char out[65]) {
    uint8_t digest[SHA256_DIGEST_LENGTH];
    sha256(data, len, digest);
    evidence_hex(digest, sizeof digest, out);
}

int evidence_signer(EVP_PKEY *root, uint8_t out[32]) {
    uint8_t point[P256_POINT_LEN];
    if (p256_public_point(root, point) < 0) return -1;
    SHA256(point, sizeof point, out);
    return 0;
}

/* The sim format's claims from a verified payload. */
static evidence_result sim_claims(const uint8_t *payload, size_t len, evidence_claims *c) {
    json_t *j = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES, NULL);
    evidence_result r = EVIDENCE_MALFORMED;
    const char *tee = json_string_value(json_object_get(j, "tee"));
    const char *m = json_string_value(json_object_get(j, "measurement"));
    const char *s = json_string_value(json_object_get(j, "signer"));
    const char *rd = json_string_value(json_object_get(j, "report_data"));
    const char *engine = json_string_value(json_object_get(j, "engine"));
    json_t *iat = json_object_get(j, "iat");
    if (!json_is_object(j) || !tee || strcmp(tee, "sim") != 0 || !m || !s || !rd || !engine ||
        !json_is_integer(iat) || strlen(engine) >= sizeof c->engine)
        goto out;
    if (evidence_unhex(m, c->measurement, sizeof c->measurement) < 0 ||
        evidence_unhex(s, c->signer, sizeof c->signer) < 0 ||
        b64url_decode(rd, strlen(rd), c->report_data, sizeof c->report_data) != EVIDENCE_REPORT_DATA_LEN)
        goto out;
    strcpy(c->tee, "sim");
    strcpy(c->engine, engine);
    c->issued_at = json_integer_value(iat);
    r = EVIDENCE_OK;
out:
    json_decref(j);
    return r;
}

evidence_result evidence_verify(const char *evidence, size_t len, EVP_PKEY *root,
                                const uint8_t *expected_measurement,
                                const uint8_t *expected_report_data, evidence_claims *out) {
    evidence_claims c;
    memset(&c, 0, sizeof c);
    if (len > EVIDENCE_MAX_LEN) return EVIDENCE_TOO_LARGE;
    jws_parts p;
    jws_result jr = jws_open(evidence, len, EVIDENCE_SIM_TYP, root, &p);
    /* Not sim evidence in form, or not signed by this root. */
    if (jr == JWS_ERR_MALFORMED || jr == JWS_ERR_TOO_LARGE || jr == JWS_ERR_ALG) return EVIDENCE_MALFORMED;
    if (jr != JWS_OK) return EVIDENCE_UNKNOWN_ROOT;
    evidence_result r;
    if ((r = sim_claims(p.payload, p.payload_len, &c)) != EVIDENCE_OK) goto out;
    /* The signer claim must name the root that signed: a platform key never
     * vouches for evidence that says another one made it. */
    uint8_t signer[32];
    if (evidence_signer(root, signer) < 0) {
        r = EVIDENCE_UNKNOWN_ROOT;
        goto out;
    }
    if (CRYPTO_memcmp(signer, c.signer, sizeof signer) != 0) {
        r = EVIDENCE_UNKNOWN_ROOT;
        goto out;
    }
    if (expected_measurement && CRYPTO_memcmp(expected_measurement, c.measurement, sizeof c.measurement)) {
        r = EVIDENCE_WRONG_MEASUREMENT;
        goto out;
    }
    if (expected_report_data && CRYPTO_memcmp(expected_report_data, c.report_data, sizeof c.report_data)) {
        r = EVIDENCE_WRONG_REPORT_DATA;
        goto out;
    }
    if (out) *out = c;
    r = EVIDENCE_OK;
out:
    jws_parts_free(&p);
    return r;
}

evidence_result evidence_refuse(char *why, size_t whylen, evidence_result r, const char *fmt, ...) {
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return r;
}

int evidence_field_add(evidence_claims *c, const char *name, const uint8_t *value, size_t len) {
    if (c->nfields >= EVIDENCE_MAX_FIELDS || len > EVIDENCE_FIELD_MAX || strlen(name) >= sizeof c->fields[0].name)
        return -1;
    evidence_field *f = &c->fields[c->nfields++];
    strcpy(f->name, name);
    memcpy(f->value, value, len);
    f->len = len;
    return 0;
}

const evidence_field *evidence_field_get(const evidence_claims *c, const char *name) {
    for (size_t i = 0; i < c->nfields; i++)
        if (!strcmp(c->fields[i].name, name)) return &c->fields[i];
    return NULL;
}

int evidence_advisories_add(evidence_claims *c, const json_t *ids) {
    size_t i;
    const json_t *id;
    if (ids && !json_is_array(ids)) return -1;
    json_array_foreach(ids, i, id) {
        const char *s = json_string_value(id);
        if (!s || strlen(s) >= EVIDENCE_ADVISORY_LEN) return -1;
        int seen = 0;
        for (size_t k = 0; k < c->nadvisory_ids && !seen; k++) seen = !strcmp(c->advisory_ids[k], s);
        if (seen) continue;
        if (c->nadvisory_ids >= EVIDENCE_MAX_ADVISORIES) return -1;
        strcpy(c->advisory_ids[c->nadvisory_ids++], s);
    }
    return 0;
}

const uint8_t *evidence_claims_measurement(const evidence_claims *c, size_t *len) {
    *len = EVIDENCE_MEASUREMENT_LEN;
    if (!strcmp(c->tee, "sim") || !strcmp(c->tee, "sgx")) return c->measurement;
    const evidence_field *f = evidence_field_get(c, !strcmp(c->tee, "tdx") ? "mr_td"
                                                    : !strcmp(c->tee, "sev-snp") ? "measurement" : "");
    if (f) *len = f->len;
    return f ? f->value : NULL;
}

static int set_hex(json_t *o, const char *key, const uint8_t *v, size_t len) {
    char hex[2 * EVIDENCE_REPORT_DATA_LEN + 1];
    if (len > EVIDENCE_REPORT_DATA_LEN) return -1;
    evidence_hex(v, len, hex);
    return json_object_set_new(o, key, json_string(hex));
}

json_t *evidence_claims_json(const evidence_claims *c) {
    json_t *o = json_object(), *ids = json_array();
    int rc = !o || !ids ? -1 : 0;
    rc |= json_object_set_new(o, "tee", json_string(c->tee));
    rc |= set_hex(o, "report_data", c->report_data, sizeof c->report_data);
    if (!strcmp(c->tee, "sim")) {
        rc |= set_hex(o, "measurement", c->measurement, sizeof c->measurement);
        rc |= set_hex(o, "signer", c->signer, sizeof c->signer);
        rc |= json_object_set_new(o, "engine", json_string(c->engine));
        json_decref(ids);
        return rc ? (json_decref(o), NULL) : o;
    }
    rc |= json_object_set_new(o, "debug", json_boolean(c->debug));
    rc |= json_object_set_new(o, "tcb_status", json_string(c->tcb_status));
    for (size_t i = 0; i < c->nadvisory_ids; i++) rc |= json_array_append_new(ids, json_string(c->advisory_ids[i]));
    rc |= json_object_set(o, "advisory_ids", ids);
    for (size_t i = 0; i < c->nfields; i++) rc |= set_hex(o, c->fields[i].name, c->fields[i].value, c->fields[i].len);
    json_decref(ids);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

evidence_result evidence_check(const uint8_t *evidence, size_t len, const evidence_trust *trust,
                               const uint8_t *expected_measurement, const uint8_t *expected_report_data,
                               evidence_claims *out, char *why, size_t whylen) {
    if (why && whylen) why[0] = '\0';
    if (len > EVIDENCE_MAX_LEN) return evidence_refuse(why, whylen, EVIDENCE_TOO_LARGE, "larger than %u bytes",
                                                       EVIDENCE_MAX_LEN);
    evidence_claims *c = calloc(1, sizeof *c);
    if (!c) return evidence_refuse(why, whylen, EVIDENCE_MALFORMED, "out of memory");
    evidence_result r;
    if (dcap_quote_sniff(evidence, len)) {
        r = dcap_verify(evidence, len, trust, c, why, whylen);
    } else if (snp_report_sniff(evidence, len)) {
        r = snp_verify(evidence, len, trust, c, why, whylen);
    } else if (trust->sim_root) {
        /* Expectations are checked below for every format alike. */
        r = evidence_verify((const char *)evidence, len, trust->sim_root, NULL, NULL, c);
    } else {
        r = evidence_refuse(why, whylen, EVIDENCE_MALFORMED, "not a DCAP quote nor an SEV-SNP report");
    }
    /* A 32-byte expectation only names sim or SGX evidence. */
    int has_measurement = !strcmp(c->tee, "sim") || !strcmp(c->tee, "sgx");
    if (r == EVIDENCE_OK && expected_measurement &&
        (!has_measurement || CRYPTO_memcmp(expected_measurement, c->measurement, sizeof c->measurement)))
        r = evidence_refuse(why, whylen, EVIDENCE_WRONG_MEASUREMENT, "%s evidence of another measurement", c->tee);
    if (r == EVIDENCE_OK && expected_report_data &&
        CRYPTO_memcmp(expected_report_data, c->report_data, sizeof c->report_data))
        r = evidence_refuse(why, whylen, EVIDENCE_WRONG_REPORT_DATA, "%s evidence binds other report data", c->tee);
    if (r == EVIDENCE_OK && out) *out = *c;
    if (r != EVIDENCE_OK && why && whylen && !why[0]) snprintf(why, whylen, "%s", evidence_result_name(r));
    free(c);
    return r;
}
