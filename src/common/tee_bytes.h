/* tee_bytes.h - bounds-checked little-endian reads for the binary layouts of
 * hardware evidence (DCAP quotes, SEV-SNP reports). No library parses these
 * layouts, so dcap_quote.c and snp_report.c do it by hand; every read goes
 * through a cursor that refuses to step past its end instead of trusting a
 * length field. */
#ifndef TFAAS_COMMON_TEE_BYTES_H
#define TFAAS_COMMON_TEE_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    size_t left;
    int bad; /* set by the first read past the end; later reads return zeros */
} tee_cursor;

static inline const uint8_t *tee_take(tee_cursor *c, size_t n) {
    if (c->bad || n > c->left) {
        c->bad = 1;
        return NULL;
    }
    const uint8_t *p = c->p;
    c->p += n;
    c->left -= n;
    return p;
}

static inline uint16_t tee_u16(tee_cursor *c) {
    const uint8_t *p = tee_take(c, 2);
    return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

static inline uint32_t tee_u32(tee_cursor *c) {
    const uint8_t *p = tee_take(c, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

static inline uint16_t tee_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static inline uint32_t tee_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t tee_le64(const uint8_t *p) { return (uint64_t)tee_le32(p) | (uint64_t)tee_le32(p + 4) << 32; }

#endif
