/* snp_cert_table.h - the certificate table an SEV-SNP host hands its guests
 * with an extended report (AMD's GHCB specification, "SNP extended guest
 * request"; Linux's configfs-tsm gives it as a report entry's auxblob):
 * entries of GUID (16 bytes, in the order the GUID is written) || offset
 * (32 bits LE, from the table's start) || length (32 bits LE), ended by an
 * all-zero entry, then the certificates (DER). The guest passes the VCEK or
 * VLEK on so that a verifier needs no AMD KDS lookup; the certificate is
 * still checked against the pinned AMD roots like any other. */
#ifndef TFAAS_COMMON_SNP_CERT_TABLE_H
#define TFAAS_COMMON_SNP_CERT_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define SNP_CERT_TABLE_MAX_ENTRIES 64u

typedef enum {
    SNP_CERTS_OK = 0,
    SNP_CERTS_NONE,      /* a well-formed table without a VCEK or VLEK (or an empty blob) */
    SNP_CERTS_MALFORMED, /* no terminating entry, or an entry pointing outside the blob */
} snp_cert_table_result;

const char *snp_cert_table_result_name(snp_cert_table_result r);

/* The VCEK's certificate, else the VLEK's, in blob (pointing into it). */
snp_cert_table_result snp_cert_table_key_cert(const uint8_t *blob, size_t len, const uint8_t **der,
                                              size_t *der_len);

#endif
