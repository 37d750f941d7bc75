/* test_evidence_hw.c - verification of genuine hardware evidence
 * (src/common/dcap_*.c, snp_*.c through evidence_check) on the samples of
 * ../shared/hw-evidence (TFAAS_HW_EVIDENCE, set by CMake; skipped, saying
 * so, when absent): every sample at its verify_at with the manifest's
 * verdict, TCB status, debug flag and a measurement read at the layout's
 * offset independently of the parser; each refused outside its validity
 * window; and tampered variants of each part refused with the reason that
 * part's check gives. */
#include "check.h"
#include "hw_samples.h"

#include "common/evidence.h"
#include "common/tee_x509.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;

static uint8_t *slurp(const char *rel, size_t *len) { return hw_sample_read(dir, rel, len); }

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


/* Verifies a copy of the evidence with one byte XORed; the result. */
static evidence_result with_flip(const sample *s, const evidence_trust *t, size_t off, uint8_t mask) {
    uint8_t *copy = malloc(s->ev_len);
    memcpy(copy, s->ev, s->ev_len);
    copy[off] ^= mask;
    evidence_claims c;
    evidence_result r = check(copy, s->ev_len, t, &c);
    free(copy);
    return r;
}

/* Changes one base64 character of the signature at the end of the n-th
 * PEM certificate in text (a valid character, so the DER still parses);
 * 0, or -1 when there is no n-th certificate. */
static int flip_pem_cert(char *text, size_t len, int n) {
    char *p = text, *end = text + len;
    for (int i = 0; i <= n; i++) {
        p = memmem(p, (size_t)(end - p), "-----END CERTIFICATE-----", 25);
        if (!p) return -1;
        if (i < n) p += 25;
    }
    char *q = p - 1;
    while (q > text && (*q == '\n' || *q == '\r' || *q == '=' || *q == '\\' || *q == 'n')) q--;
    q -= 8; /* inside the signature's last bytes, clear of the padding */
    *q = *q == 'A' ? 'B' : 'A';
    return 0;
}

/* Offsets of a quote's parts, from the layout (dcap_quote.h), without the parser. */
typedef struct {
    size_t body, sig, key, qe_report, qe_sig, qe_auth_len, qe_auth, chain;
    size_t qe_auth_n;
} quote_map;

static quote_map map_quote(const uint8_t *q) {
    quote_map m;
    int v5 = q[0] == 5, sgx = q[4] == 0;
    m.body = v5 ? 54 : 48;
    size_t body_len = sgx ? 384 : v5 && q[48] == 3 ? 648 : 584;
    m.sig = m.body + body_len + 4;
    m.key = m.sig + 64;
    m.qe_report = m.key + 64 + (q[0] == 3 ? 0 : 6);
    m.qe_sig = m.qe_report + 384;
    m.qe_auth_len = m.qe_sig + 64;
    m.qe_auth_n = (size_t)(q[m.qe_auth_len] | q[m.qe_auth_len + 1] << 8);
    m.qe_auth = m.qe_auth_len + 2;
    m.chain = m.qe_auth + m.qe_auth_n + 6;
    return m;
}

/* Verifies with one collateral member changed by edit; the result. */
static evidence_result with_collateral(const sample *s, const char *key, void (*edit)(char *, size_t, int), int n) {
    json_t *doc = json_loadb((const char *)s->col, s->col_len, 0, NULL);
    char *text = strdup(json_string_value(json_object_get(doc, key)));
    edit(text, strlen(text), n);
    json_object_set_new(doc, key, json_string(text));
    char *dump = json_dumps(doc, JSON_COMPACT);
    evidence_trust t = trust_of(s, 1);
    t.collateral = dump;
    t.collateral_len = strlen(dump);
    evidence_claims c;
    evidence_result r = check(s->ev, s->ev_len, &t, &c);
    free(dump);
    free(text);
    json_decref(doc);
    return r;
}

static void edit_hex(char *text, size_t len, int n) {
    (void)n;
    char *q = text + len - 3; /* the end of a signature or CRL signature */
    *q = *q == '0' ? '1' : '0';
}

static void edit_json(char *text, size_t len, int n) {
    (void)len, (void)n;
    char *q = strstr(text, "tcbEvaluationDataNumber\":") + 25;
    *q = *q == '1' ? '2' : '1';
}

static int pem_edit_ok;
static void edit_pem(char *text, size_t len, int n) { pem_edit_ok = flip_pem_cert(text, len, n) == 0; }

static void test_dcap_tampered(const sample *s) {
    evidence_trust t = trust_of(s, 1);
    quote_map m = map_quote(s->ev);
    printf("tampered variants of %s\n", s->id);
    CHECK(with_flip(s, &t, 12, 1) == EVIDENCE_QE_MISMATCH);                     /* header: QE vendor id */
    CHECK(with_flip(s, &t, 30, 1) == EVIDENCE_BAD_SIGNATURE);                   /* header: user data */
    CHECK(with_flip(s, &t, m.body + 64, 1) == EVIDENCE_BAD_SIGNATURE);          /* body: a measurement */
    CHECK(with_flip(s, &t, m.sig - 5, 1) == EVIDENCE_BAD_SIGNATURE);            /* body: report data */
    CHECK(with_flip(s, &t, m.sig + 3, 1) == EVIDENCE_BAD_SIGNATURE);            /* quote signature */
    CHECK(with_flip(s, &t, m.key + 7, 1) == EVIDENCE_QE_MISMATCH);              /* attestation key */
    CHECK(with_flip(s, &t, m.qe_report + 64, 1) == EVIDENCE_BAD_SIGNATURE);     /* QE report */
    CHECK(with_flip(s, &t, m.qe_sig + 40, 1) == EVIDENCE_BAD_SIGNATURE);        /* QE report signature */
    if (m.qe_auth_n) CHECK(with_flip(s, &t, m.qe_auth, 1) == EVIDENCE_QE_MISMATCH); /* QE auth data */
    /* Each certificate of the quote's PCK chain: leaf, CA, root copy. */
    for (int n = 0; n < 3; n++) {
        uint8_t *copy = malloc(s->ev_len);
        memcpy(copy, s->ev, s->ev_len);
        CHECK(flip_pem_cert((char *)copy + m.chain, s->ev_len - m.chain, n) == 0);
        evidence_claims c;
        CHECK(check(copy, s->ev_len, &t, &c) == EVIDENCE_BAD_CHAIN);
        free(copy);
    }
    /* The collateral: signed JSON, signatures, CRLs and every issuer chain's certificates. */
    CHECK(with_collateral(s, "tcb_info", edit_json, 0) == EVIDENCE_BAD_COLLATERAL);
    CHECK(with_collateral(s, "qe_identity", edit_json, 0) == EVIDENCE_BAD_COLLATERAL);
    CHECK(with_collateral(s, "tcb_info_signature", edit_hex, 0) == EVIDENCE_BAD_COLLATERAL);
    CHECK(with_collateral(s, "qe_identity_signature", edit_hex, 0) == EVIDENCE_BAD_COLLATERAL);
    CHECK(with_collateral(s, "pck_crl", edit_hex, 0) == EVIDENCE_BAD_COLLATERAL);
    CHECK(with_collateral(s, "root_ca_crl", edit_hex, 0) == EVIDENCE_BAD_CHAIN);
    static const char *chains[] = {"tcb_info_issuer_chain", "qe_identity_issuer_chain", "pck_crl_issuer_chain"};
    for (size_t k = 0; k < 3; k++)
        for (int n = 0; n < 2; n++) {
            pem_edit_ok = 0;
            CHECK(with_collateral(s, chains[k], edit_pem, n) == EVIDENCE_BAD_CHAIN);
            CHECK(pem_edit_ok);
        }
    /* Collateral of another platform, and none. */
    t.collateral = NULL;
    evidence_claims c;
    CHECK(check(s->ev, s->ev_len, &t, &c) == EVIDENCE_NO_COLLATERAL);
}

static void test_snp_tampered(const sample *s) {
    evidence_trust t = trust_of(s, 1);
    printf("tampered variants of %s\n", s->id);
    CHECK(with_flip(s, &t, 0x90, 1) == EVIDENCE_BAD_SIGNATURE);       /* MEASUREMENT */
    CHECK(with_flip(s, &t, 0x50, 1) == EVIDENCE_BAD_SIGNATURE);       /* REPORT_DATA */
    CHECK(with_flip(s, &t, 0xC0, 1) == EVIDENCE_BAD_SIGNATURE);       /* HOST_DATA */
    CHECK(with_flip(s, &t, 0x0A, 0x08) == EVIDENCE_BAD_SIGNATURE);    /* POLICY's DEBUG bit (19) */
    CHECK(with_flip(s, &t, 0x2A0 + 5, 1) == EVIDENCE_BAD_SIGNATURE);  /* signature r */
    CHECK(with_flip(s, &t, 0x2A0 + 72 + 5, 1) == EVIDENCE_BAD_SIGNATURE); /* signature s */
    CHECK(with_flip(s, &t, 0x180 + 7, 1) == EVIDENCE_TCB_MISMATCH);   /* REPORTED_TCB (microcode) */
    CHECK(with_flip(s, &t, 0x48, 0x04) == EVIDENCE_BAD_CHAIN);        /* signed by the other key kind */
    CHECK(with_flip(s, &t, 0x30, 0x01) == EVIDENCE_BAD_SIGNATURE);    /* VMPL, to another valid one */
    CHECK(with_flip(s, &t, 0x30, 0x04) == EVIDENCE_MALFORMED);        /* VMPL past 3 */
    {
        evidence_claims vc;
        const evidence_field *v = check(s->ev, s->ev_len, &t, &vc) == EVIDENCE_OK ? evidence_field_get(&vc, "vmpl") : NULL;
        CHECK(v && v->len == 1 && v->value[0] == s->ev[0x30]); /* the claim is the report's VMPL */
    }
    /* The key certificate (PEM or DER: its signature's last bytes). */
    uint8_t *key = malloc(s->key_len + 1);
    memcpy(key, s->key, s->key_len + 1);
    if (memmem(key, s->key_len, "-----BEGIN", 10)) CHECK(flip_pem_cert((char *)key, s->key_len, 0) == 0);
    else key[s->key_len - 3] ^= 1;
    evidence_trust tk = t;
    tk.key_cert = key;
    evidence_claims c;
    CHECK(check(s->ev, s->ev_len, &tk, &c) == EVIDENCE_BAD_CHAIN);
    free(key);
    /* Each certificate of the CA chain (ASK or ASVK, ARK). */
    for (int n = 0; n < 2; n++) {
        char *ca = malloc(s->ca_len + 1);
        memcpy(ca, s->ca, s->ca_len + 1);
        CHECK(flip_pem_cert(ca, s->ca_len, n) == 0);
        evidence_trust tc = t;
        tc.ca_pem = ca;
        CHECK(check(s->ev, s->ev_len, &tc, &c) == EVIDENCE_BAD_CHAIN);
        free(ca);
    }
    /* The pinned AMD roots by default; no key certificate. */
    t.ca_pem = NULL;
    CHECK(check(s->ev, s->ev_len, &t, &c) == EVIDENCE_OK);
    t.key_cert = NULL;
    CHECK(check(s->ev, s->ev_len, &t, &c) == EVIDENCE_NO_COLLATERAL);
}

/* Every truncation of a quote short of its signature data's end is
 * malformed (the parser checks each length); a report of any other size
 * is no evidence at all. No collateral is given: a quote that parsed would
 * say NO_COLLATERAL instead. */
static void test_truncated(const sample *s) {
    evidence_trust t = {0};
    size_t end = !strcmp(s->kind, "snp") ? s->ev_len : map_quote(s->ev).chain;
    if (strcmp(s->kind, "snp") != 0) {
        size_t chain_len = (size_t)(s->ev[end - 4] | s->ev[end - 3] << 8 | s->ev[end - 2] << 16);
        end += chain_len;
    }
    int all = 1;
    for (size_t n = 0; n < end; n++)
        all &= evidence_check(s->ev, n, &t, NULL, NULL, NULL, NULL, 0) == EVIDENCE_MALFORMED;
    CHECK(all);
    if (strcmp(s->kind, "snp") != 0) CHECK(evidence_check(s->ev, end, &t, NULL, NULL, NULL, NULL, 0) == EVIDENCE_NO_COLLATERAL);
}

/* A quote with another platform's collateral is refused. */
static void test_wrong_collateral(const sample *quote, const sample *other) {
    evidence_trust t = trust_of(quote, 1);
    t.collateral = (const char *)other->col;
    t.collateral_len = other->col_len;
    evidence_claims c;
    evidence_result r = check(quote->ev, quote->ev_len, &t, &c);
    CHECK(r == EVIDENCE_BAD_COLLATERAL || r == EVIDENCE_BAD_CHAIN || r == EVIDENCE_COLLATERAL_EXPIRED);
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
    json_t *j, *samples = json_object_get(manifest, "samples");
    for (i = 1; i < json_array_size(samples); i++) {
        sample a, b;
        sample_load(json_array_get(samples, i - 1), &a);
        sample_load(json_array_get(samples, i), &b);
        if (a.col && b.col && strcmp((const char *)a.col, (const char *)b.col) != 0) test_wrong_collateral(&a, &b);
        sample_free(&a);
        sample_free(&b);
    }
    json_array_foreach(samples, i, j) {
        sample s;
        sample_load(j, &s);
        if (i == 0 || i == 3 || i == 7 || i == 11) test_truncated(&s); /* SGX v3, TDX v4, TDX v5, SNP */
        test_sample_at_verify_time(&s);
        if (!strcmp(json_string_value(json_object_get(s.expect, "verdict")), "valid")) {
            if (!strcmp(s.kind, "snp")) test_snp_tampered(&s);
            else test_dcap_tampered(&s);
        }
        sample_free(&s);
    }
    json_decref(manifest);
    return CHECK_DONE();
}
