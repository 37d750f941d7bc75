/* http_response.h - the one way the gateway answers with a JSON body, and
 * the one way it answers with an error ({"error": ..., "code": request id}).
 * Each queues the response on the connection and returns MHD's result. */
#ifndef TFAAS_HOST_GATEWAY_HTTP_RESPONSE_H
#define TFAAS_HOST_GATEWAY_HTTP_RESPONSE_H

#include <jansson.h>
#include <microhttpd.h>

/* Optional extra header, e.g. x-openwhisk-activation-id or Allow. */
typedef struct {
    const char *name, *value;
} http_header;

/* Serialises body (stolen; NULL answers 500) as application/json. */
enum MHD_Result http_reply_json(struct MHD_Connection *c, unsigned status, json_t *body, const http_header *extra);

/* Answers with data (malloc'd, stolen; NULL when len is 0) as content_type
 * (NULL: no Content-Type) and nextra extra headers: the confidential
 * endpoints' binary bodies (application/ohttp-keys, message/ohttp-res with
 * its receipt), web actions' answers. */
enum MHD_Result http_reply_bytes(struct MHD_Connection *c, unsigned status, const char *content_type, void *data,
                                 size_t len, const http_header *extra, size_t nextra);

/* http_error.c: {"error": message, "code": random request id}. The id is
 * also logged to stderr for 5xx answers so operators can match reports. */
enum MHD_Result http_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum MHD_Result http_error_hdr(struct MHD_Connection *c, unsigned status, const http_header *extra,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The body http_error sends (new reference), for tests and for callers
 * that must send it another way. */
json_t *http_error_body(const char *message);

#endif
