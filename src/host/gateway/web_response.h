/* web_response.h - the HTTP answer a web action's result becomes, as
 * OpenWhisk's web actions make it: .http takes {statusCode, headers, body}
 * (a base64 body for binary content types), .json/.html/.svg/.text project
 * a property (the extra path, or html/svg/text) and answer it with their
 * media type. Pure (no I/O): unit-tested and fuzzed on hostile results. */
#ifndef TFAAS_HOST_GATEWAY_WEB_RESPONSE_H
#define TFAAS_HOST_GATEWAY_WEB_RESPONSE_H

#include "host/gateway/web_request.h"

#include <jansson.h>
#include <stddef.h>

typedef enum {
    WEB_RESULT_OK = 0,
    WEB_RESULT_NO_PROPERTY,   /* the projected property is missing */
    WEB_RESULT_BAD_MEDIA,     /* the value does not fit the extension's media type */
    WEB_RESULT_BAD_STATUS,    /* statusCode is not an integer in 100..599 */
    WEB_RESULT_BAD_HEADERS,   /* headers is not an object of valid names and single-line values */
    WEB_RESULT_BAD_BODY,      /* a binary content type with a body that is not base64 */
    WEB_RESULT_HEADERS_TOO_LARGE, /* headers past WEB_MAX_HEADER_BYTES (a 502, not a 400) */
    WEB_RESULT_NOMEM,
} web_result;

/* A .http result's headers, each counted as "name: value" and CRLF, take
 * at most this many bytes in all (the server's own, CORS and
 * x-openwhisk-activation-id among them, come on top). The answer's head
 * shares the connection's 32 KiB with the request's head (conn_room.h):
 * past this limit it could not be sent at all, and within it it is sent
 * unless the request's own headers take more than about 15 KiB. */
#define WEB_MAX_HEADER_BYTES 16384

/* The message for each: OpenWhisk's for its 400s, ours for the 502 of
 * WEB_RESULT_HEADERS_TOO_LARGE. */
const char *web_result_name(web_result r);

typedef struct {
    unsigned status;
    json_t *headers;  /* array of [name, value] string pairs, the action's own */
    char *content_type; /* malloc'd */
    char *body;       /* malloc'd (may hold NULs), len bytes; NULL when empty */
    size_t len;
} web_answer;

/* Turns value (the result, or for an application error its `error`
 * property) into the answer for ext; path is the extra path (projection of
 * the non-.http extensions). On success *out holds what the caller frees
 * with web_answer_free. */
web_result web_response_build(const json_t *value, web_ext ext, const char *path, web_answer *out);
void web_answer_free(web_answer *a);

#endif
