/* dcap_quote.h - the binary layout of Intel DCAP ECDSA quotes, versions 3
 * (SGX), 4 (SGX or TDX 1.0) and 5 (SGX, TDX 1.0 or TDX 1.5), as Intel's
 * "ECDSA Quote Library API" documents them. Parsing only: the result points
 * into the caller's buffer and nothing here checks a signature
 * (dcap_verify.c does). Hand-written because no library parses the layout;
 * every offset is checked against the buffer (tee_bytes.h). */
#ifndef TFAAS_COMMON_DCAP_QUOTE_H
#define TFAAS_COMMON_DCAP_QUOTE_H

#include <stddef.h>
#include <stdint.h>

#define DCAP_HEADER_LEN 48u
#define DCAP_SGX_BODY_LEN 384u   /* an SGX enclave report body, also the QE report */
#define DCAP_TD10_BODY_LEN 584u
#define DCAP_TD15_BODY_LEN 648u
#define DCAP_TEE_SGX 0x00000000u
#define DCAP_TEE_TDX 0x00000081u
#define DCAP_ATT_KEY_ECDSA_P256 2u
#define DCAP_CERT_PCK_CHAIN 5u   /* certification data: PEM PCK leaf, its CA, root */
#define DCAP_CERT_QE_REPORT 6u   /* certification data: QE report + its own certification data */
#define DCAP_QE_VENDOR_OFFSET 12u /* 16 bytes in the header: Intel's QE is 939A7233-F79C-4CA9-940A-0DB3957F0607 */

/* Offsets inside an SGX report body (enclave or QE). */
#define SGX_RB_CPUSVN 0u
#define SGX_RB_MISCSELECT 16u
#define SGX_RB_ATTRIBUTES 48u
#define SGX_RB_MRENCLAVE 64u
#define SGX_RB_MRSIGNER 128u
#define SGX_RB_ISVPRODID 256u
#define SGX_RB_ISVSVN 258u
#define SGX_RB_REPORTDATA 320u
#define SGX_ATTR_DEBUG 0x02u      /* in attributes[0] */

/* Offsets inside a TD report body (1.0; 1.5 appends TEE_TCB_SVN2 and MRSERVICETD). */
#define TD_RB_TEE_TCB_SVN 0u
#define TD_RB_MRSEAM 16u
#define TD_RB_MRSIGNERSEAM 64u
#define TD_RB_SEAM_ATTRIBUTES 112u
#define TD_RB_TD_ATTRIBUTES 120u
#define TD_RB_XFAM 128u
#define TD_RB_MRTD 136u
#define TD_RB_MRCONFIGID 184u
#define TD_RB_MROWNER 232u
#define TD_RB_MROWNERCONFIG 280u
#define TD_RB_RTMR0 328u
#define TD_RB_REPORTDATA 520u
#define TD_RB_TEE_TCB_SVN2 584u
#define TD_RB_MRSERVICETD 600u
#define TD_ATTR_DEBUG 0x01u       /* in td_attributes[0] */

typedef enum {
    DCAP_OK = 0,
    DCAP_NOT_A_QUOTE,      /* header is not a v3/v4/v5 ECDSA-P256 quote of SGX or TDX */
    DCAP_TRUNCATED,        /* a length field points past the end */
    DCAP_BAD_BODY,         /* body type or size does not fit the TEE */
    DCAP_BAD_CERT_DATA,    /* certification data of an unsupported type or shape */
} dcap_parse_result;

typedef struct {
    uint16_t version;
    const uint8_t *qe_vendor_id;   /* 16 bytes of the header */
    uint32_t tee_type;             /* DCAP_TEE_SGX or DCAP_TEE_TDX */
    uint16_t body_type;            /* 1 SGX, 2 TD 1.0, 3 TD 1.5 (v3/v4: implied) */
    const uint8_t *body;           /* the report body */
    size_t body_len;
    const uint8_t *signed_part;    /* header (and v5 body descriptor) and body: what the attestation key signs */
    size_t signed_len;
    const uint8_t *signature;      /* 64 bytes r || s, big-endian */
    const uint8_t *attest_key;     /* 64 bytes x || y of the P-256 attestation key */
    const uint8_t *qe_report;      /* DCAP_SGX_BODY_LEN bytes */
    const uint8_t *qe_report_sig;  /* 64 bytes r || s */
    const uint8_t *qe_auth;        /* QE authentication data */
    size_t qe_auth_len;
    const char *pck_chain;         /* PEM: PCK certificate, its CA, the root (not NUL-terminated) */
    size_t pck_chain_len;
} dcap_quote;

const char *dcap_parse_result_name(dcap_parse_result r);

/* Parses a quote; trailing bytes after the signature data are allowed (some
 * producers pad quotes) but nothing in them is read. */
dcap_parse_result dcap_quote_parse(const uint8_t *buf, size_t len, dcap_quote *q);

/* Does buf look like a DCAP quote (header fields only)? For format recognition. */
int dcap_quote_sniff(const uint8_t *buf, size_t len);

#endif
