/* varint.c - QUIC variable-length integer encode and decode (see varint.h). */
#include "common/varint.h"

size_t varint_decode(const uint8_t *in, size_t len, uint64_t *value) {
    if (len == 0) return 0;
    size_t n = (size_t)1 << (in[0] >> 6);
    if (len < n) return 0;
    uint64_t v = in[0] & 0x3fu;
    for (size_t i = 1; i < n; i++) v = (v << 8) | in[i];
    *value = v;
    return n;
}

size_t varint_size(uint64_t v) {
    return v < 64u ? 1u : v < 16384u ? 2u : v < (UINT64_C(1) << 30) ? 4u : v <= VARINT_MAX ? 8u : 0u;
}

size_t varint_encode(uint64_t v, uint8_t *out) {
    size_t n = varint_size(v);
    static const uint8_t prefix[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
    for (size_t i = 0; i < n; i++) out[n - 1 - i] = (uint8_t)(v >> (8 * i));
    if (n) out[0] |= prefix[n];
    return n;
}
