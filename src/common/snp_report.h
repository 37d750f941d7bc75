/* snp_report.h - the binary layout of an AMD SEV-SNP attestation report
 * (SEV-SNP firmware ABI specification, MSG_REPORT_RSP's report: 1184
 * bytes, versions 2, 3 and 5). Parsing only; snp_verify.c checks the
 * signature and the VCEK/VLEK. Hand-written because no library parses the
 * layout; the size is fixed, so every field is at a fixed offset. */
#ifndef TFAAS_COMMON_SNP_REPORT_H
#define TFAAS_COMMON_SNP_REPORT_H

#include <stddef.h>
#include <stdint.h>

#define SNP_REPORT_LEN 1184u
#define SNP_SIGNED_LEN 0x2A0u            /* the signature covers bytes 0 .. 0x29F */
#define SNP_SIG_ALGO_ECDSA_P384_SHA384 1u
#define SNP_POLICY_DEBUG (1ull << 19)
#define SNP_SIGNING_KEY_VCEK 0u
#define SNP_SIGNING_KEY_VLEK 1u
#define SNP_MAX_VMPL 3u                  /* VMPLs are 0 (most privileged) .. 3 */

typedef enum {
    SNP_OK = 0,
    SNP_NOT_A_REPORT,    /* wrong size or version */
    SNP_BAD_ALGORITHM,   /* not ECDSA P-384 with SHA-384 */
    SNP_BAD_SIGNING_KEY, /* neither VCEK nor VLEK signed it */
    SNP_BAD_VMPL,        /* a VMPL outside 0..3 */
} snp_parse_result;

typedef struct {
    uint32_t version, guest_svn, vmpl, sig_algo;
    uint64_t policy;
    uint32_t signing_key;          /* SNP_SIGNING_KEY_VCEK or _VLEK (flags bits 2..4) */
    uint64_t reported_tcb;         /* the TCB the VCEK/VLEK is derived for */
    const uint8_t *family_id, *image_id;     /* 16 bytes each */
    const uint8_t *report_data;              /* 64 */
    const uint8_t *measurement;              /* 48 */
    const uint8_t *host_data;                /* 32 */
    const uint8_t *id_key_digest, *author_key_digest; /* 48 each */
    const uint8_t *chip_id;                  /* 64 */
    const uint8_t *sig_r, *sig_s;            /* 72 bytes each, little-endian */
    const uint8_t *raw;                      /* the whole report; SNP_SIGNED_LEN of it signed */
} snp_report;

const char *snp_parse_result_name(snp_parse_result r);
snp_parse_result snp_report_parse(const uint8_t *buf, size_t len, snp_report *r);
/* Does buf look like an SNP report (size and version)? For format recognition. */
int snp_report_sniff(const uint8_t *buf, size_t len);

#endif
