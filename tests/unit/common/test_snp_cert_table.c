/* test_snp_cert_table.c - finding the VCEK or VLEK in an SEV-SNP
 * certificate table: the VCEK first, the VLEK otherwise, empty slots
 * skipped, and every malformed table (no terminator, an entry past the
 * end, too many entries) refused. */
#include "check.h"

#include "common/snp_cert_table.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t VCEK[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t VLEK[16] = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
static const uint8_t ASK[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};

static void entry(uint8_t *at, const uint8_t guid[16], uint32_t off, uint32_t len) {
    memcpy(at, guid, 16);
    for (int i = 0; i < 4; i++) {
        at[16 + i] = (uint8_t)(off >> (8 * i));
        at[20 + i] = (uint8_t)(len >> (8 * i));
    }
}

int main(void) {
    uint8_t t[256] = {0};
    const uint8_t *der;
    size_t n;
    CHECK(snp_cert_table_key_cert(t, 0, &der, &n) == SNP_CERTS_NONE && !der);
    CHECK(snp_cert_table_key_cert(t, 24, &der, &n) == SNP_CERTS_NONE);
    CHECK(snp_cert_table_key_cert(t, 23, &der, &n) == SNP_CERTS_MALFORMED);

    /* ASK, VLEK, VCEK: the VCEK wins; certificates after the terminator. */
    entry(t, ASK, 96, 10);
    entry(t + 24, VLEK, 106, 20);
    entry(t + 48, VCEK, 126, 30);
    memset(t + 96, 'a', 10);
    memset(t + 106, 'l', 20);
    memset(t + 126, 'c', 30);
    CHECK(snp_cert_table_key_cert(t, 156, &der, &n) == SNP_CERTS_OK && der == t + 126 && n == 30);
    /* Without the VCEK, the VLEK; without either, none. */
    memset(t + 48, 0, 24);
    CHECK(snp_cert_table_key_cert(t, 156, &der, &n) == SNP_CERTS_OK && der == t + 106 && n == 20);
    memset(t + 24, 0, 24);
    CHECK(snp_cert_table_key_cert(t, 156, &der, &n) == SNP_CERTS_NONE && !der);
    /* An empty slot (length 0) is skipped. */
    entry(t, VCEK, 0, 0);
    entry(t + 24, VLEK, 106, 20);
    CHECK(snp_cert_table_key_cert(t, 156, &der, &n) == SNP_CERTS_OK && der == t + 106);

    /* A good VCEK entry, then one past the end: refused, and nothing handed out. */
    entry(t, VCEK, 96, 10);
    entry(t + 24, ASK, 150, 10);
    CHECK(snp_cert_table_key_cert(t, 156, &der, &n) == SNP_CERTS_MALFORMED && !der && !n);

    /* Past the end, by offset or by length; no terminator. */
    entry(t, VCEK, 150, 10);
    CHECK(snp_cert_table_key_cert(t, 156, &der, &n) == SNP_CERTS_MALFORMED && !der);
    entry(t, VCEK, 0xfffffff0u, 0x20);
    CHECK(snp_cert_table_key_cert(t, 156, &der, &n) == SNP_CERTS_MALFORMED);
    entry(t, VCEK, 96, 10);
    CHECK(snp_cert_table_key_cert(t, 48, &der, &n) == SNP_CERTS_MALFORMED);

    /* More entries than the limit, all well formed: refused. */
    size_t big_len = (SNP_CERT_TABLE_MAX_ENTRIES + 2) * 24 + 1;
    uint8_t *big = calloc(1, big_len);
    for (unsigned i = 0; big && i <= SNP_CERT_TABLE_MAX_ENTRIES; i++) entry(big + 24 * i, ASK, (uint32_t)big_len - 1, 1);
    CHECK(big && snp_cert_table_key_cert(big, big_len, &der, &n) == SNP_CERTS_MALFORMED);
    free(big);
    CHECK_STR(snp_cert_table_result_name(SNP_CERTS_MALFORMED), "malformed SEV-SNP certificate table");
    return CHECK_DONE();
}
