/* json_text.h - writing JSON text without building a tree: the one string
 * escaper. The enclave uses it for the error objects it reports and an
 * activation's environment, the gateway to write an activation record once,
 * as text, instead of building a tree and serialising it twice. */
#ifndef TFAAS_COMMON_JSON_TEXT_H
#define TFAAS_COMMON_JSON_TEXT_H

#include <stddef.h>

/* The most bytes json_text_escape writes for len input bytes, NUL included. */
#define JSON_TEXT_ESCAPED_MAX(len) (6 * (len) + 1)

/* Writes the len bytes of s as the body of a JSON string (no quotes) into
 * dst, which must hold JSON_TEXT_ESCAPED_MAX(len) bytes, NUL-terminates it
 * and returns its length. '"', '\\' and control bytes are escaped; bytes
 * from 0x80 pass through, so s must be UTF-8 for the result to be JSON. */
size_t json_text_escape(char *dst, const char *s, size_t len);

#endif
