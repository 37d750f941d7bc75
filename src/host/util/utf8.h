/* utf8.h - making outside text safe for JSON strings: bytes that are not
 * valid UTF-8 (a client's input quoted in an error, a function's logs or
 * result from its enclave) become '?', so jansson accepts the text. */
#ifndef TFAAS_HOST_UTIL_UTF8_H
#define TFAAS_HOST_UTIL_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid: a stray
 * continuation byte, an overlong form, a surrogate, a code point above
 * U+10FFFF, or a sequence cut short (also by the terminating NUL). */
size_t utf8_seq(const unsigned char *p);
/* Replaces every byte that does not start a valid sequence with '?', in
 * place: the length never changes. */
void utf8_sanitize(char *s);

#endif
