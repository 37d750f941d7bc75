/* snp_cert_table.c - finds the VCEK or VLEK in an SEV-SNP certificate
 * table; see snp_cert_table.h. */
#include "common/snp_cert_table.h"

#include "common/tee_bytes.h"

#include <string.h>

/* 63da758d-e664-4564-adc5-f4b93be8accd and a8074bc2-a25a-483e-aae6-39c045a0b8a1. */
static const uint8_t VCEK_GUID[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t VLEK_GUID[16] = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                      0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};

const char *snp_cert_table_result_name(snp_cert_table_result r) {
    switch (r) {
    case SNP_CERTS_OK: return "ok";
    case SNP_CERTS_NONE: return "no VCEK or VLEK in the certificate table";
    case SNP_CERTS_MALFORMED: return "malformed SEV-SNP certificate table";
    }
    return "unknown certificate table result";
}

snp_cert_table_result snp_cert_table_key_cert(const uint8_t *blob, size_t len, const uint8_t **der,
                                              size_t *der_len) {
    static const uint8_t zero[24] = {0};
    *der = NULL;
    *der_len = 0;
    if (len == 0) return SNP_CERTS_NONE;
    /* Outputs are set only once the whole table is known to be well formed. */
    tee_cursor c = {.p = blob, .left = len};
    const uint8_t *vcek = NULL, *vlek = NULL;
    size_t vcek_len = 0, vlek_len = 0;
    for (unsigned i = 0; i <= SNP_CERT_TABLE_MAX_ENTRIES; i++) {
        const uint8_t *e = tee_take(&c, 24);
        if (!e) return SNP_CERTS_MALFORMED;
        if (!memcmp(e, zero, sizeof zero)) {
            if (!vcek && !vlek) return SNP_CERTS_NONE;
            *der = vcek ? vcek : vlek;
            *der_len = vcek ? vcek_len : vlek_len;
            return SNP_CERTS_OK;
        }
        uint32_t off = tee_le32(e + 16), n = tee_le32(e + 20);
        if (off > len || n > len - off) return SNP_CERTS_MALFORMED;
        if (n == 0) continue; /* a slot the host left empty */
        if (!memcmp(e, VCEK_GUID, 16) && !vcek) {
            vcek = blob + off;
            vcek_len = n;
        } else if (!memcmp(e, VLEK_GUID, 16) && !vlek) {
            vlek = blob + off;
            vlek_len = n;
        }
    }
    return SNP_CERTS_MALFORMED; /* more entries than any platform has */
}
