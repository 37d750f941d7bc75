/* cli_http.h - the client's side of the OpenWhisk REST API: URL building
 * (/api/v1/namespaces/_/...) with names percent-encoded, and one request via
 * libcurl with basic auth, a JSON body, timeouts and a response size cap. */
#ifndef TFAAS_HOST_CLI_HTTP_H
#define TFAAS_HOST_CLI_HTTP_H
#include <stddef.h>

#define CLI_HTTP_CONNECT_TIMEOUT_S 5L
#define CLI_HTTP_TIMEOUT_S 30L          /* ordinary requests */
#define CLI_HTTP_BLOCKING_TIMEOUT_S 70L /* blocking invokes (server waits 60 s) */
#define CLI_HTTP_RESPONSE_MAX ((size_t)64 << 20)

/* Percent-encodes every byte except the RFC 3986 unreserved characters, so a
 * name is exactly one path segment. A name made only of dots ("." or "..")
 * is fully encoded so no URL normalisation can treat it as a dot segment.
 * Returns malloc'd text or NULL (out of memory). */
char *cli_url_escape(const char *s);

/* apihost + "/api/v1/namespaces/_/" + collection (a name "/NS/REST" puts
 * the escaped NS in place of "_" and REST is the name), then "/" + escaped name and
 * "/" + suffix when given (name may be NULL; suffix is a fixed word like
 * "result"), then "?" + query when given (query is already encoded).
 * Returns malloc'd text or NULL (out of memory). */
char *cli_url_build(const char *apihost, const char *collection, const char *name,
                    const char *suffix, const char *query);
/* The same in namespace ns (escaped) instead of `_`: another namespace's
 * resources, such as the whisk.system/alarms feed actions. */
char *cli_url_build_ns(const char *apihost, const char *ns, const char *collection, const char *name,
                       const char *suffix, const char *query);

/* apihost + "/tfaas/v1/namespaces/_/actions/" + escaped name [+ "/" + suffix]
 * [+ "?" + query]: the confidential routes. Malloc'd, NULL when out of memory. */
char *cli_tfaas_url(const char *apihost, const char *name, const char *suffix, const char *query);
/* The same with ns given: apihost + "/tfaas/v1/public/namespaces/" + escaped
 * ns + "/actions/" ..., the routes that need no credentials (protocol.md
 * §6.7); ns NULL is cli_tfaas_url. */
char *cli_tfaas_public_url(const char *apihost, const char *ns, const char *name, const char *suffix,
                           const char *query);

#define CLI_HTTP_MAX_CAPTURE 3

struct cli_http_response {
    long status; /* HTTP status; 0 when no response arrived */
    char *body;  /* NUL-terminated, malloc'd (may be empty) */
    size_t len;
    char *captured[CLI_HTTP_MAX_CAPTURE]; /* values of opts.capture, malloc'd, NULL if absent */
};

/* A request with another body type (e.g. message/ohttp-req) and response
 * headers to keep (e.g. the receipt). NULL members mean JSON. */
struct cli_http_opts {
    const char *content_type, *accept;
    const void *body;
    size_t body_len;
    const char *capture[CLI_HTTP_MAX_CAPTURE]; /* header names, NULL-padded */
};

/* Sends method url with auth ("uuid:key", or NULL for none) and body (JSON
 * text, or NULL). Returns 0 with *resp filled (any HTTP status), or -1 with a
 * message in err when no HTTP response was obtained (connection refused,
 * timeout, oversized response). resp->body is owned by the caller on 0. */
int cli_http_request(const char *method, const char *url, const char *auth,
                     const char *body, long timeout_s, struct cli_http_response *resp,
                     char *err, size_t errlen);
int cli_http_request_ex(const char *method, const char *url, const char *auth, const struct cli_http_opts *o,
                        long timeout_s, struct cli_http_response *resp, char *err, size_t errlen);
void cli_http_response_free(struct cli_http_response *resp);
#endif
