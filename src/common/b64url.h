/* b64url.h - base64url without padding (RFC 4648 §5), as JOSE (RFC 7515 §2)
 * writes every binary value. Decoding is strict: no padding, no white space,
 * no characters outside the url-safe alphabet, and no non-zero bits left over
 * in the last character (so every byte string has exactly one encoding). */
#ifndef TFAAS_COMMON_B64URL_H
#define TFAAS_COMMON_B64URL_H

#include <stddef.h>
#include <stdint.h>

/* Characters b64url_encode writes for n bytes (without the terminator). */
size_t b64url_encoded_len(size_t n);

/* Writes the encoding and a NUL into out, which has b64url_encoded_len(n) + 1
 * bytes. Returns the length written. */
size_t b64url_encode(const uint8_t *in, size_t n, char *out);

/* Encodes into a fresh NUL-terminated string; NULL when out of memory. */
char *b64url_encode_alloc(const uint8_t *in, size_t n);

/* Decodes len characters into out (capacity cap). Returns the decoded length,
 * or -1 when the text is not canonical base64url or out is too small. */
long b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap);

/* Decodes into a fresh buffer (one spare byte, set to NUL, so text payloads
 * can be used as strings); NULL on bad input or no memory. */
uint8_t *b64url_decode_alloc(const char *in, size_t len, size_t *out_len);

#endif
