/* api_route.h - API routes (what `wsk api create` makes): the checks of a
 * route definition (base path, relative path with {param} segments, verb,
 * response type) and the match of a request path against a route. Pure
 * (no I/O): unit-tested and fuzzed (tests/fuzz/fuzz_api_route.c).
 *
 * A route serves its web action at /apigw/{namespace}{basepath}{relpath}
 * (docs/api.md, "API routes"). */
#ifndef TFAAS_HOST_GATEWAY_API_ROUTE_H
#define TFAAS_HOST_GATEWAY_API_ROUTE_H

#include "host/gateway/web_request.h"

#include <jansson.h>

#define API_BASEPATH_MAX 256
#define API_RELPATH_MAX 512
#define API_PATH_SEGMENTS 32 /* of basepath and relpath together */

typedef enum {
    API_ROUTE_OK = 0,
    API_ROUTE_BAD_BASEPATH,  /* not "/" followed by segments of letters, digits, "-._~" */
    API_ROUTE_BAD_RELPATH,   /* same, or {name} segments (letters, digits, '_'), each name once */
    API_ROUTE_BAD_VERB,      /* not one of GET POST PUT DELETE PATCH HEAD OPTIONS */
    API_ROUTE_BAD_TYPE,      /* response type not http, json, html, svg or text */
} api_route_result;

const char *api_route_result_name(api_route_result r);

/* Checks and normalises a definition: *basepath and *relpath without a
 * trailing '/' (a lone "/" stays), the verb upper-case, the response type
 * (NULL: json, as wsk's default) as a web_ext. Writes into the buffers. */
api_route_result api_route_check(const char *basepath, const char *relpath, const char *verb, const char *type,
                                 char base_out[API_BASEPATH_MAX + 1], char rel_out[API_RELPATH_MAX + 1],
                                 char verb_out[8], web_ext *ext);

/* Whether path (a request path below /apigw/{ns}, starting with '/')
 * matches basepath + relpath; when it does and params is not NULL, each
 * {name} segment's text is set in params (an object) as a string. */
int api_route_match(const char *basepath, const char *relpath, const char *path, json_t *params);

#endif
