/* http_response.h - one HTTP/1.1 response read from an untrusted server's
 * bytes: status line, headers, then a Content-Length, chunked or
 * close-delimited body. Pure over a read function, so the enclave reads it
 * from a TLS connection (fetch.c) and fuzz_enclave_http from memory. */
#ifndef TFAAS_TRUSTED_FETCH_HTTP_RESPONSE_H
#define TFAAS_TRUSTED_FETCH_HTTP_RESPONSE_H

#include "trusted/fetch/fetch.h"

#include <stddef.h>
#include <sys/types.h>

/* Up to len bytes into buf: n > 0, 0 at the end of the stream, -1 with *err. */
typedef ssize_t (*http_read_fn)(void *src, void *buf, size_t len, char **err);
/* Charges n bytes just read against a budget: 0, or -1 with *err (stop). */
typedef int (*http_charge_fn)(void *ctx, size_t n, char **err);

/* A growable NUL-terminated byte string (common/bytebuf.h). */
typedef struct {
    char *data;
    size_t len, cap;
} http_buf;
int http_buf_add(http_buf *b, const void *p, size_t n);

/* 1 for the bytes of an HTTP token (RFC 9110 tchar). */
int http_token_char(int c);

/* Reads one response into *res (zeroed by the caller; interim 1xx answers
 * skipped; no body when head_only, or for 204 and 304). 0, or -1 with *err
 * ("fetch: ..."); *res then holds whatever was read, for
 * fetch_response_free. */
int http_response_read(http_read_fn rd, void *src, http_charge_fn charge, void *charge_ctx, int head_only,
                       fetch_response *res, char **err);

/* The value of the first header `name` (lower case), or NULL. */
const char *fetch_response_header(const fetch_response *res, const char *name);

#endif
