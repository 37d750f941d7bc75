/* fuzz_tee_evidence.c - libFuzzer target for the hand-written binary
 * parsers of hardware evidence: DCAP quotes (src/common/dcap_quote.c),
 * SEV-SNP reports (src/common/snp_report.c) and SEV-SNP certificate tables
 * (src/common/snp_cert_table.c, configfs-tsm's auxblob), and
 * evidence_check's format recognition in front of them.
 *
 * Invariants: a parsed quote's parts all lie inside the input, in layout
 * order, with the fixed sizes of their types; a parsed report is exactly
 * one report long, of VMPL 0..3; a key certificate found in a table lies
 * inside the input; evidence_check without collateral, certificate or sim
 * root refuses everything, and a quote or report that parses is refused
 * only for want of its collateral. */
#include "fuzz.h"

#include "common/dcap_quote.h"
#include "common/evidence.h"
#include "common/snp_cert_table.h"
#include "common/snp_report.h"

static int inside(const uint8_t *data, size_t size, const void *p, size_t n) {
    const uint8_t *b = p;
    return b >= data && n <= size && b - data <= (ptrdiff_t)(size - n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dcap_quote q;
    int quote_ok = dcap_quote_parse(data, size, &q) == DCAP_OK;
    if (quote_ok) {
        FUZZ_CHECK(q.version >= 3 && q.version <= 5);
        FUZZ_CHECK(q.tee_type == DCAP_TEE_SGX || q.tee_type == DCAP_TEE_TDX);
        FUZZ_CHECK(q.body_len == (q.tee_type == DCAP_TEE_SGX ? DCAP_SGX_BODY_LEN
                                  : q.body_type == 3 ? DCAP_TD15_BODY_LEN : DCAP_TD10_BODY_LEN));
        FUZZ_CHECK(q.signed_part == data && q.signed_len == (size_t)(q.body - data) + q.body_len);
        FUZZ_CHECK(inside(data, size, q.body, q.body_len));
        FUZZ_CHECK(inside(data, size, q.signature, 64) && q.signature >= q.body + q.body_len);
        FUZZ_CHECK(inside(data, size, q.attest_key, 64) && q.attest_key == q.signature + 64);
        FUZZ_CHECK(inside(data, size, q.qe_report, DCAP_SGX_BODY_LEN) && q.qe_report >= q.attest_key + 64);
        FUZZ_CHECK(inside(data, size, q.qe_report_sig, 64) && q.qe_report_sig == q.qe_report + DCAP_SGX_BODY_LEN);
        FUZZ_CHECK(inside(data, size, q.qe_auth, q.qe_auth_len));
        FUZZ_CHECK(q.pck_chain_len > 0 && inside(data, size, q.pck_chain, q.pck_chain_len));
    }
    snp_report r;
    int report_ok = snp_report_parse(data, size, &r) == SNP_OK;
    if (report_ok) {
        FUZZ_CHECK(size == SNP_REPORT_LEN && r.raw == data);
        FUZZ_CHECK(r.sig_algo == SNP_SIG_ALGO_ECDSA_P384_SHA384);
        FUZZ_CHECK(r.vmpl <= SNP_MAX_VMPL);
    }
    const uint8_t *der = NULL;
    size_t der_len = 0;
    snp_cert_table_result ct = snp_cert_table_key_cert(data, size, &der, &der_len);
    if (ct == SNP_CERTS_OK) FUZZ_CHECK(der_len > 0 && inside(data, size, der, der_len));
    else FUZZ_CHECK(!der && !der_len);
    FUZZ_CHECK(!(quote_ok && report_ok));
    evidence_trust none = {0};
    evidence_result e = evidence_check(data, size, &none, NULL, NULL, NULL, NULL, 0);
    FUZZ_CHECK(e != EVIDENCE_OK);
    if (quote_ok || report_ok) FUZZ_CHECK(e == EVIDENCE_NO_COLLATERAL);
    return 0;
}
