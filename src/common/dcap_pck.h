/* dcap_pck.h - what an Intel PCK certificate says about its platform: the
 * SGX extension (OID 1.2.840.113741.1.13.1) with the FMSPC, PCE-ID and the
 * TCB the certificate was issued for (16 CPU SVN components and the PCE
 * SVN). Parsed with OpenSSL's generic ASN.1 (a SEQUENCE of {OID, value}
 * pairs, the TCB one nesting the same shape). */
#ifndef TFAAS_COMMON_DCAP_PCK_H
#define TFAAS_COMMON_DCAP_PCK_H

#include <openssl/x509.h>
#include <stdint.h>

typedef struct {
    uint8_t fmspc[6];
    uint8_t pce_id[2];
    uint8_t cpu_svn[16];  /* components 1..16 */
    uint32_t pce_svn;
} dcap_pck_info;

/* 0, or -1 when the certificate has no well-formed SGX extension. */
int dcap_pck_info_get(X509 *pck, dcap_pck_info *out);

#endif
