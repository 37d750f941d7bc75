/* console.c - GET /console[/{asset}]: the web console's files, compiled in
 * (console_assets.h). Public like /api/v1: they hold no data; the page signs
 * in with a namespace's credentials and calls the REST API itself.
 *
 * Every answer carries the headers that keep a hostile tenant's strings
 * inert and the page unframeable: a CSP with no inline script or style and
 * only this origin to talk to, frame-ancestors 'none' and X-Frame-Options
 * (clickjacking), nosniff, no referrer, no caching of the page. */
#include "host/gateway/console_assets.h"
#include "host/gateway/gateway_internal.h"

#include <stdlib.h>
#include <string.h>

#define CONSOLE_CSP                                                                                                  \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "                \
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static const http_header HEADERS[] = {
    {"Content-Security-Policy", CONSOLE_CSP},
    {"X-Frame-Options", "DENY"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-store"},
};

/* The content type of a console file, by its extension. */
static const struct {
    const char *ext, *type;
} TYPES[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
};

static const char *content_type(const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
        size_t e = strlen(TYPES[i].ext);
        if (n > e && !strcmp(name + n - e, TYPES[i].ext)) return TYPES[i].type;
    }
    return "application/octet-stream"; /* with nosniff: never run as a script or page */
}

enum MHD_Result console_handle(http_req *r) {
    const char *name = r->rt.name && *r->rt.name ? r->rt.name : "index.html";
    for (size_t i = 0; i < console_assets_count; i++) {
        const embedded_file *a = &console_assets[i];
        if (strcmp(a->name, name) != 0) continue;
        void *copy = malloc(a->len ? a->len : 1); /* http_reply_bytes frees what it sends */
        if (!copy) return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The server ran out of memory");
        memcpy(copy, a->data, a->len);
        return http_reply_bytes(r->conn, MHD_HTTP_OK, content_type(a->name), copy, a->len, HEADERS,
                                sizeof HEADERS / sizeof HEADERS[0]);
    }
    return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
}
