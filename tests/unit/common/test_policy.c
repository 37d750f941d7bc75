/* test_policy.c - release policies (parse refusals, canonical JSON, which
 * workers they accept) and the nonce-prefixed AEAD box. */
#include "check.h"

#include "common/aead_box.h"
#include "common/policy.h"

#include <stdlib.h>
#include <string.h>

static const char *M1 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static int parse(const char *text, policy *p) {
    json_t *j = json_loads(text, 0, NULL);
    char err[128];
    int rc = policy_parse(j, p, err, sizeof err);
    json_decref(j);
    return rc;
}

static void test_policy(void) {
    policy p;
    char text[512];
    snprintf(text, sizeof text, "{\"measurements\":[\"%s\"],\"engine\":\"duktape\"}", M1);
    CHECK(parse(text, &p) == 0 && p.nmeasurements == 1);
    evidence_claims c;
    memset(&c, 0, sizeof c);
    strcpy(c.tee, "sim");
    evidence_unhex(M1, c.measurement, 32);
    strcpy(c.engine, "duktape/2.7.0");
    CHECK(policy_accepts(&p, &c));
    strcpy(c.engine, "duktape");
    CHECK(policy_accepts(&p, &c));
    strcpy(c.engine, "duktapex/1");
    CHECK(!policy_accepts(&p, &c));
    strcpy(c.engine, "v8/12");
    CHECK(!policy_accepts(&p, &c));
    strcpy(c.engine, "duktape/2.7.0");
    c.measurement[31] ^= 1;
    CHECK(!policy_accepts(&p, &c));

    json_t *j = policy_json(&p);
    char *dump = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    snprintf(text, sizeof text, "{\"engine\":\"duktape\",\"measurements\":[\"%s\"]}", M1);
    CHECK_STR(dump, text);
    free(dump);
    json_decref(j);

    CHECK(parse("[]", &p) < 0);
    CHECK(parse("{\"measurements\":[],\"engine\":\"duktape\"}", &p) < 0);
    CHECK(parse("{\"measurements\":[\"zz\"],\"engine\":\"duktape\"}", &p) < 0);
    snprintf(text, sizeof text, "{\"measurements\":[\"%s\"]}", M1);
    CHECK(parse(text, &p) < 0);
    snprintf(text, sizeof text, "{\"measurements\":[\"%s\"],\"engine\":\"duktape/2\"}", M1);
    CHECK(parse(text, &p) < 0);
    snprintf(text, sizeof text, "{\"measurements\":[\"%s\"],\"engine\":\"duktape\",\"extra\":1}", M1);
    CHECK(parse(text, &p) < 0);
    char big[4096] = "{\"engine\":\"duktape\",\"measurements\":[";
    for (int i = 0; i < 17; i++) {
        strcat(big, i ? ",\"" : "\"");
        strcat(big, M1);
        strcat(big, "\"");
    }
    strcat(big, "]}");
    CHECK(parse(big, &p) < 0);

    /* Found by fuzz_policy: a NUL in a JSON string ended the C string, so
     * "duk\u0000tape" was the engine "duk" and a measurement could carry
     * anything after its 64 digits. Latent: jansson gives NULs only
     * with JSON_ALLOW_NUL, which the KMS and the CLI do not pass today. */
    j = json_loads("{\"measurements\":[\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"],"
                   "\"engine\":\"duk\\u0000tape\"}", JSON_ALLOW_NUL, NULL);
    char err[128];
    CHECK(j && policy_parse(j, &p, err, sizeof err) < 0);
    json_decref(j);
    j = json_loads("{\"measurements\":[\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\\u0000zz\"],"
                   "\"engine\":\"duktape\"}", JSON_ALLOW_NUL, NULL);
    CHECK(j && policy_parse(j, &p, err, sizeof err) < 0);
    json_decref(j);
}

/* Invoker keys: canonical JWKs in, the same JSON value out; anything but a
 * P-256 JWK of exactly crv, kty, x, y refused. */
static void test_policy_invokers(void) {
    EVP_PKEY *k = p256_generate();
    char *jwk = k ? p256_public_jwk(k) : NULL;
    CHECK(jwk != NULL);
    char text[2048];
    policy p;
    snprintf(text, sizeof text, "{\"measurements\":[\"%s\"],\"engine\":\"v8\",\"invokers\":[%s]}", M1, jwk);
    CHECK(parse(text, &p) == 0 && p.ninvokers == 1);
    json_t *in = json_loads(text, 0, NULL), *out = policy_json(&p);
    CHECK(in && out && json_equal(in, out));
    json_decref(in);
    json_decref(out);
    uint8_t point[P256_POINT_LEN];
    CHECK(p256_public_point(k, point) == 0 && memcmp(point, p.invokers[0], sizeof point) == 0);
    /* no invokers: the canonical form has no member for them */
    snprintf(text, sizeof text, "{\"measurements\":[\"%s\"],\"engine\":\"v8\"}", M1);
    CHECK(parse(text, &p) == 0 && p.ninvokers == 0);
    out = policy_json(&p);
    CHECK(out && !json_object_get(out, "invokers"));
    json_decref(out);
    /* refused: empty list, an extra member, another curve name, not a point */
    const char *bad[] = {"[]", "[1]", NULL, NULL, "[{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"AA\",\"y\":\"AA\"}]"};
    char extra[1024], other[1024];
    snprintf(extra, sizeof extra, "[{\"kid\":\"k\",%s]", jwk + 1);
    snprintf(other, sizeof other, "[%s]", jwk);
    char *crv = strstr(other, "P-256");
    if (crv) crv[4] = '7';
    bad[2] = extra;
    bad[3] = other;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "{\"measurements\":[\"%s\"],\"engine\":\"v8\",\"invokers\":%s}", M1, bad[i]);
        CHECK(parse(text, &p) < 0);
    }
    free(jwk);
    EVP_PKEY_free(k);
}

/* TEE kinds, 96-hex measurements (TDX MRTD, SNP MEASUREMENT) and a
 * minimum TCB status: parsed, canonical as given, and judged. */
static void test_policy_hardware(void) {
    static const char *M96 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                             "00112233445566778899aabbccddeeff";
    char text[1024];
    policy p;
    snprintf(text, sizeof text, "{\"measurements\":[\"%s\",\"%s\"],\"engine\":\"duktape\",\"tee\":[\"tdx\",\"sgx\"],"
             "\"min_tcb_status\":\"SWHardeningNeeded\"}", M96, M1);
    CHECK(parse(text, &p) == 0 && p.nmeasurements == 2 && p.ntees == 2 && p.min_tcb == 1);
    json_t *in = json_loads(text, 0, NULL), *out = policy_json(&p);
    CHECK(in && out && json_equal(in, out));
    json_decref(in);
    json_decref(out);

    evidence_claims c;
    memset(&c, 0, sizeof c);
    strcpy(c.engine, "duktape/2.7.0");
    strcpy(c.tee, "sgx");
    evidence_unhex(M1, c.measurement, 32);
    strcpy(c.tcb_status, "UpToDate");
    CHECK(policy_accepts(&p, &c));
    strcpy(c.tcb_status, "SWHardeningNeeded");
    CHECK(policy_accepts(&p, &c));
    strcpy(c.tcb_status, "ConfigurationNeeded"); /* worse than the minimum */
    CHECK(!policy_accepts(&p, &c));
    strcpy(c.tcb_status, "Revoked");
    CHECK(!policy_accepts(&p, &c));
    strcpy(c.tcb_status, ""); /* no status (sim, SNP) meets a minimum */
    CHECK(!policy_accepts(&p, &c));
    strcpy(c.tcb_status, "UpToDate");
    strcpy(c.tee, "sim"); /* a kind the policy does not list */
    CHECK(!policy_accepts(&p, &c));
    /* TDX: the 96-hex measurement is MRTD; a 64-hex one never matches it. */
    strcpy(c.tee, "tdx");
    memset(c.measurement, 0, sizeof c.measurement);
    strcpy(c.fields[0].name, "mr_td");
    c.fields[0].len = 48;
    evidence_unhex(M96, c.fields[0].value, 48);
    c.nfields = 1;
    CHECK(policy_accepts(&p, &c));
    c.fields[0].value[47] ^= 1;
    CHECK(!policy_accepts(&p, &c));
    c.fields[0].value[47] ^= 1;
    strcpy(c.fields[0].name, "rtmr0"); /* the same bytes under another name */
    CHECK(!policy_accepts(&p, &c));
    strcpy(c.fields[0].name, "mr_td");
    c.engine[0] = '\0'; /* hardware evidence states no engine yet */
    CHECK(!policy_accepts(&p, &c));
    /* SNP: MEASUREMENT, when the policy lists the kind (or any). */
    snprintf(text, sizeof text, "{\"measurements\":[\"%s\"],\"engine\":\"v8\"}", M96);
    CHECK(parse(text, &p) == 0 && p.ntees == 0 && p.min_tcb == -1);
    out = policy_json(&p);
    CHECK(out && !json_object_get(out, "tee") && !json_object_get(out, "min_tcb_status"));
    json_decref(out);
    strcpy(c.engine, "v8");
    strcpy(c.tee, "sev-snp");
    strcpy(c.fields[0].name, "measurement");
    CHECK(policy_accepts(&p, &c));
    strcpy(c.tee, "sgx"); /* 48 bytes only name TDX and SNP */
    CHECK(!policy_accepts(&p, &c));

    /* max_vmpl: SNP reports made at that VMPL or a more privileged one;
     * canonical as given; evidence without a VMPL refused. */
    snprintf(text, sizeof text, "{\"measurements\":[\"%s\"],\"engine\":\"v8\",\"max_vmpl\":1}", M96);
    CHECK(parse(text, &p) == 0 && p.vmpl_bound == 2);
    in = json_loads(text, 0, NULL);
    out = policy_json(&p);
    CHECK(in && out && json_equal(in, out));
    json_decref(in);
    json_decref(out);
    CHECK(!policy_accepts(&p, &c)); /* no vmpl claim */
    strcpy(c.tee, "sev-snp");
    strcpy(c.fields[1].name, "vmpl");
    c.fields[1].len = 1;
    c.nfields = 2;
    for (uint8_t v = 0; v < 4; v++) {
        c.fields[1].value[0] = v;
        CHECK(policy_accepts(&p, &c) == (v <= 1));
    }
    policy zeroed;
    memset(&zeroed, 0, sizeof zeroed); /* a policy built by hand: no VMPL bound */
    CHECK(zeroed.vmpl_bound == 0);

    /* refused: unknown or repeated kinds, an empty list, an unknown status, odd lengths */
    const char *bad[] = {"\"tee\":[\"sev\"]", "\"tee\":[\"sgx\",\"sgx\"]", "\"tee\":[]", "\"tee\":\"sgx\"",
                         "\"min_tcb_status\":\"Revoked\"", "\"min_tcb_status\":\"uptodate\"", "\"min_tcb_status\":1",
                         "\"max_vmpl\":4", "\"max_vmpl\":-1", "\"max_vmpl\":\"0\"", "\"max_vmpl\":0.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "{\"measurements\":[\"%s\"],\"engine\":\"v8\",%s}", M1, bad[i]);
        CHECK(parse(text, &p) < 0);
    }
    snprintf(text, sizeof text, "{\"measurements\":[\"%s00\"],\"engine\":\"v8\"}", M1);
    CHECK(parse(text, &p) < 0);
}

static void test_box(void) {
    uint8_t key[32] = {1, 2, 3}, *box = NULL, *pt = NULL;
    size_t box_len = 0, pt_len = 0;
    const char *msg = "confidential code";
    for (int a = 0; a < 2; a++) {
        uint16_t id = a ? HPKE_AEAD_AES_128_GCM : HPKE_AEAD_CHACHA20_POLY1305;
        CHECK(aead_box_seal(id, key, (const uint8_t *)"aad", 3, (const uint8_t *)msg, strlen(msg), &box, &box_len) == HPKE_OK);
        CHECK(box_len == strlen(msg) + AEAD_BOX_OVERHEAD);
        CHECK(aead_box_open(id, key, (const uint8_t *)"aad", 3, box, box_len, &pt, &pt_len) == HPKE_OK);
        CHECK(pt && pt_len == strlen(msg) && memcmp(pt, msg, pt_len) == 0 && pt[pt_len] == 0);
        free(pt);
        CHECK(aead_box_open(id, key, (const uint8_t *)"aaX", 3, box, box_len, &pt, &pt_len) == HPKE_ERR_OPEN);
        box[5] ^= 1;
        CHECK(aead_box_open(id, key, (const uint8_t *)"aad", 3, box, box_len, &pt, &pt_len) == HPKE_ERR_OPEN);
        CHECK(pt == NULL);
        CHECK(aead_box_open(id, key, NULL, 0, box, AEAD_BOX_OVERHEAD - 1, &pt, &pt_len) == HPKE_ERR_LENGTH);
        free(box);
    }
    CHECK(aead_box_seal(0x0002, key, NULL, 0, (const uint8_t *)msg, 1, &box, &box_len) == HPKE_ERR_SUITE);
    CHECK(box == NULL);
}

int main(void) {
    test_policy();
    test_policy_invokers();
    test_policy_hardware();
    test_box();
    return CHECK_DONE();
}
