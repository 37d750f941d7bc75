/* base64.h - standard, padded base64 (RFC 4648 §4) as OpenWhisk carries
 * binary data in JSON: a zip action's code, a web action's binary body.
 * (JOSE's unpadded base64url is b64url.h.) */
#ifndef TFAAS_COMMON_BASE64_H
#define TFAAS_COMMON_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Decodes len characters, skipping spaces, tabs, CR and LF (clients wrap
 * long lines); '=' only as padding at the end. A fresh buffer with a NUL
 * after the *out_len bytes, or NULL when the text is empty, not base64, or
 * memory is short. */
uint8_t *base64_decode_alloc(const char *text, size_t len, size_t *out_len);

#endif
