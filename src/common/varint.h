/* varint.h - QUIC variable-length integers (RFC 9000 §16), the length
 * prefixes of Binary HTTP: the two top bits of the first byte give the size
 * (1, 2, 4 or 8 bytes), the rest is the value, big-endian, up to 2^62 - 1.
 * Non-minimal encodings are valid (RFC 9000 §16 does not require the
 * shortest form). */
#ifndef TFAAS_COMMON_VARINT_H
#define TFAAS_COMMON_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX ((UINT64_C(1) << 62) - 1)

/* Reads one varint from in[0..len); returns the bytes used, 0 if truncated. */
size_t varint_decode(const uint8_t *in, size_t len, uint64_t *value);
/* Bytes the shortest encoding of v takes (v <= VARINT_MAX), 0 if too large. */
size_t varint_size(uint64_t v);
/* Writes the shortest encoding of v to out (varint_size(v) bytes); returns that size. */
size_t varint_encode(uint64_t v, uint8_t *out);

#endif
