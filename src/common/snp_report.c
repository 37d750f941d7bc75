/* snp_report.c - SEV-SNP report parsing; see snp_report.h. Offsets are the
 * firmware ABI's table of ATTESTATION_REPORT. */
#include "common/snp_report.h"

#include "common/tee_bytes.h"

const char *snp_parse_result_name(snp_parse_result r) {
    switch (r) {
    case SNP_OK: return "ok";
    case SNP_NOT_A_REPORT: return "not an SEV-SNP attestation report (1184 bytes, version 2, 3 or 5)";
    case SNP_BAD_ALGORITHM: return "SEV-SNP report not signed with ECDSA P-384/SHA-384";
    case SNP_BAD_SIGNING_KEY: return "SEV-SNP report signed by neither a VCEK nor a VLEK";
    case SNP_BAD_VMPL: return "SEV-SNP report of a VMPL outside 0..3";
    }
    return "unknown report parse result";
}

int snp_report_sniff(const uint8_t *buf, size_t len) {
    if (len != SNP_REPORT_LEN) return 0;
    uint32_t v = tee_le32(buf);
    return v == 2 || v == 3 || v == 5;
}

snp_parse_result snp_report_parse(const uint8_t *b, size_t len, snp_report *r) {
    memset(r, 0, sizeof *r);
    if (!snp_report_sniff(b, len)) return SNP_NOT_A_REPORT;
    r->raw = b;
    r->version = tee_le32(b + 0x00);
    r->guest_svn = tee_le32(b + 0x04);
    r->policy = tee_le64(b + 0x08);
    r->family_id = b + 0x10;
    r->image_id = b + 0x20;
    r->vmpl = tee_le32(b + 0x30);
    r->sig_algo = tee_le32(b + 0x34);
    r->signing_key = (tee_le32(b + 0x48) >> 2) & 7u;
    r->report_data = b + 0x50;
    r->measurement = b + 0x90;
    r->host_data = b + 0xC0;
    r->id_key_digest = b + 0xE0;
    r->author_key_digest = b + 0x110;
    r->reported_tcb = tee_le64(b + 0x180);
    r->chip_id = b + 0x1A0;
    r->sig_r = b + 0x2A0;
    r->sig_s = b + 0x2A0 + 72;
    if (r->sig_algo != SNP_SIG_ALGO_ECDSA_P384_SHA384) return SNP_BAD_ALGORITHM;
    if (r->signing_key != SNP_SIGNING_KEY_VCEK && r->signing_key != SNP_SIGNING_KEY_VLEK) return SNP_BAD_SIGNING_KEY;
    if (r->vmpl > SNP_MAX_VMPL) return SNP_BAD_VMPL;
    return SNP_OK;
}
