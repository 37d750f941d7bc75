/* http_error.c - every error the gateway sends goes through here, so all
 * have OpenWhisk's shape {"error": message, "code": request id}. */
#include "host/gateway/http_response.h"

#include "host/util/ids.h"

#include <stdarg.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p) {
    if (p[0] < 0x80) return 1;
    size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : 0;
    if (n == 0 || (n == 3 && p[0] > 0xef)) return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f))) return 0; /* overlong, surrogate */
    if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))) return 0;
    return n;
}

/* Messages quote client input (names, kinds, namespaces) that may not be
 * UTF-8, and truncation may split a character; JSON strings must be valid
 * UTF-8, so every invalid byte becomes '?'. In place: never grows. */
static void utf8_sanitize(char *s) {
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq(p);
        if (n == 0) *p++ = '?';
        else p += n;
    }
}

json_t *http_error_body(const char *message) {
    char id[33], msg[1024];
    if (ids_hex(id, 16) < 0) snprintf(id, sizeof id, "0");
    snprintf(msg, sizeof msg, "%s", message);
    utf8_sanitize(msg);
    return json_pack("{ss ss}", "error", msg, "code", id);
}

__attribute__((format(printf, 4, 0)))
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const http_header *extra,
                                  const char *fmt, va_list ap) {
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    json_t *body = http_error_body(msg);
    if (body && status >= 500)
        fprintf(stderr, "tfaas serve: %u %s (code %s)\n", status, msg,
                json_string_value(json_object_get(body, "code")));
    return http_reply_json(c, status, body, extra);
}

enum MHD_Result http_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result r = send_error(c, status, NULL, fmt, ap);
    va_end(ap);
    return r;
}

enum MHD_Result http_error_hdr(struct MHD_Connection *c, unsigned status, const http_header *extra,
                               const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result r = send_error(c, status, extra, fmt, ap);
    va_end(ap);
    return r;
}
