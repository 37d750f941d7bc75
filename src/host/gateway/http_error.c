/* http_error.c - every error the gateway sends goes through here, so all
 * have OpenWhisk's shape {"error": message, "code": request id}. */
#include "host/gateway/http_response.h"

#include "host/util/ids.h"
#include "host/util/utf8.h"

#include <stdarg.h>
#include <stdio.h>

json_t *http_error_body(const char *message) {
    char id[33], msg[1024];
    if (ids_hex(id, 16) < 0) snprintf(id, sizeof id, "0");
    snprintf(msg, sizeof msg, "%s", message);
    utf8_sanitize(msg); /* messages quote client input; truncation may split a character */
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
