/* web_request.h - what a web action request means, OpenWhisk's way (its
 * docs/webactions.md): the path /api/v1/web/{ns}/{pkg|default}/{action}
 * [.ext][/extra] and the parameters the action gets from the request
 * (query, body, and the __ow_* context). Pure (no I/O): unit-tested and
 * fuzzed (tests/fuzz/fuzz_web_request.c) on hostile input. */
#ifndef TFAAS_HOST_GATEWAY_WEB_REQUEST_H
#define TFAAS_HOST_GATEWAY_WEB_REQUEST_H

#include "host/gateway/action_doc.h"

#include <jansson.h>
#include <stddef.h>

/* The content extension of the action segment; none means .http. */
typedef enum { WEB_EXT_HTTP = 0, WEB_EXT_JSON, WEB_EXT_HTML, WEB_EXT_SVG, WEB_EXT_TEXT } web_ext;

typedef enum {
    WEB_PATH_OK = 0,
    WEB_PATH_SHORT,          /* fewer than namespace/package/action */
    WEB_PATH_BAD_NAMESPACE,  /* not a valid entity name */
    WEB_PATH_BAD_PACKAGE,
    WEB_PATH_BAD_NAME,
} web_path_result;

typedef struct {
    char ns[ACTION_MAX_NAME + 1];
    /* "" for the segment `default` (no package); the packages work fills
     * in the lookup of a named one. */
    char pkg[ACTION_MAX_NAME + 1];
    char name[ACTION_MAX_NAME + 1];
    web_ext ext;
    const char *extra; /* the rest after the action segment ("" or "/..."),
                        * into the parsed text: __ow_path, and the
                        * projection of .json/.html/.svg/.text */
} web_path;

/* Parses the path after "/api/v1/web/" (percent-decoded, no query). A
 * known extension is stripped from the action segment only when what
 * precedes it is a valid name ("a.b" without a known extension is the
 * action "a.b", served as .http). */
web_path_result web_path_parse(const char *rest, web_path *out);
const char *web_path_result_name(web_path_result r);
/* "http", "json", ... */
const char *web_ext_name(web_ext e);

/* One request, as the gateway read it. headers: object of lower-case
 * names to strings (repeated headers joined with ", "), without
 * Authorization and X-Require-Whisk-Auth; query: object of names to
 * (decoded) strings. */
typedef struct {
    const char *method;       /* as sent, e.g. "GET"; __ow_method is its lower case */
    const json_t *headers;
    const json_t *query;
    const char *query_raw;    /* the query string re-encoded, for raw-http's __ow_query */
    const char *content_type; /* NULL when none */
    const char *body;         /* may hold NULs; NULL when empty */
    size_t body_len;
    const char *path;         /* __ow_path */
    const char *user;         /* __ow_user: the namespace that authenticated, or NULL */
    int raw;                  /* annotation raw-http: the body and query are passed unparsed */
} web_request;

typedef enum {
    WEB_PARAMS_OK = 0,
    WEB_PARAMS_RESERVED,  /* the request sets a __ow_ parameter */
    WEB_PARAMS_FINAL,     /* ... or one of the action's own under `final` */
    WEB_PARAMS_BAD_JSON,  /* a JSON content type whose body does not parse */
    WEB_PARAMS_TOO_DEEP,  /* ... or is nested deeper than JSON_MAX_DEPTH */
    WEB_PARAMS_BAD_FORM,  /* a form body with a malformed escape */
    WEB_PARAMS_NOMEM,
} web_params_result;

/* The parameters the request gives (to be merged over the action's own by
 * invoke_start): query parameters, then the body's (JSON object or form
 * fields; any other body as __ow_body: text as is, binary as base64),
 * then __ow_method, __ow_headers, __ow_path and __ow_user. With raw set,
 * only __ow_body (the body's text, base64 when binary) and __ow_query.
 * action_params (an object, borrowed) are the action's own: with `final`
 * the request may not name any of them. *out is a new reference. */
web_params_result web_params_build(const web_request *q, const json_t *action_params, int final, json_t **out);
const char *web_params_result_name(web_params_result r);

/* Whether a content type's body is text (passed as a string) rather than
 * binary (base64): text/ types, JSON, XML, JavaScript and form types. */
int web_content_is_text(const char *content_type);

#endif
