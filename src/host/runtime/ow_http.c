/* ow_http.c - the runtime's two routes on libmicrohttpd (ow_http.h). */
#include "host/runtime/ow_http.h"

#include "host/gateway/framing.h"
#include "host/gateway/gateway.h" /* GATEWAY_MAX_DISCARD */
#include "host/gateway/http_response.h"
#include "host/runtime/ow_proto.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ow_http {
    struct MHD_Daemon *daemon;
    ow_runtime *rt;
    unsigned port;
};

typedef ow_reply (*ow_handler)(ow_runtime *rt, const char *body, size_t len);

/* What the runtime serves: OpenWhisk's action interface, POST only. */
static const struct ow_route {
    const char *path;
    size_t body_limit;
    ow_handler handle;
} ROUTES[] = {
    {"/init", OW_MAX_INIT_BODY, ow_runtime_init},
    {"/run", OW_MAX_RUN_BODY, ow_runtime_run},
};

typedef struct {
    const struct ow_route *route; /* NULL: no such path */
    char *body;
    size_t len, cap;
    uint64_t received; /* body bytes, kept or not */
    int too_large;     /* past the route's limit: the rest is dropped, then 413 */
    int answered;      /* an answer was queued before the body ended */
} ow_req;

static enum MHD_Result reply(struct MHD_Connection *c, ow_reply r, const http_header *extra) {
    return http_reply_json(c, r.status, r.body, extra);
}

static enum MHD_Result refuse(ow_req *q, struct MHD_Connection *c, unsigned status, const http_header *extra,
                              json_t *body) {
    q->answered = 1;
    return reply(c, (ow_reply){status, body}, extra);
}

static enum MHD_Result too_large(ow_req *q, struct MHD_Connection *c) {
    return refuse(q, c, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                  ow_error_body("The request content is too large: the limit is %zu bytes", q->route->body_limit));
}

static enum MHD_Result add_framing_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    framing_add(cls, key, value);
    return MHD_YES;
}

/* First call of a request: its head only. Decides everything that does not
 * need the body, so an unwanted or oversized body is never read. */
static enum MHD_Result on_head(ow_req *q, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version) {
    framing fr = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_framing_header, &fr);
    framing_result fres = framing_check(&fr, version && !strcmp(version, MHD_HTTP_VERSION_1_0));
    if (fres != FRAMING_OK) {
        http_header close = {MHD_HTTP_HEADER_CONNECTION, "close"};
        return refuse(q, c, framing_status(fres), &close,
                      ow_error_body("The request framing is refused: %s", framing_name(fres)));
    }
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++)
        if (!strcmp(url, ROUTES[i].path)) q->route = &ROUTES[i];
    if (!q->route) return refuse(q, c, MHD_HTTP_NOT_FOUND, NULL, ow_error_body("The runtime serves POST /init and POST /run only"));
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
        http_header allow = {MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_POST};
        return refuse(q, c, MHD_HTTP_METHOD_NOT_ALLOWED, &allow,
                      ow_error_body("The method %.32s is not allowed on %s", method, q->route->path));
    }
    /* As the gateway does: a moderate excess is read and dropped so that a
     * client writing its whole body before reading sees the 413; a larger
     * one is answered at once (and the connection closed). */
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long announced = cl ? strtoull(cl, NULL, 10) : 0; /* framing_check made it one number */
    if (announced > q->route->body_limit) {
        q->too_large = 1;
        if (announced - q->route->body_limit > GATEWAY_MAX_DISCARD) return too_large(q, c);
    }
    return MHD_YES;
}

/* Appends a piece of the body; past the limit keeps nothing more, and past
 * the discard allowance too answers 413 at once. */
static enum MHD_Result on_body(ow_req *q, struct MHD_Connection *c, const char *data, size_t n) {
    q->received += n;
    if (q->too_large || q->received > q->route->body_limit) {
        if (!q->too_large) {
            q->too_large = 1;
            free(q->body);
            q->body = NULL;
            q->len = q->cap = 0;
        }
        if (q->received > (uint64_t)q->route->body_limit + GATEWAY_MAX_DISCARD) return too_large(q, c);
        return MHD_YES;
    }
    if (q->len + n > q->cap) {
        size_t cap = q->cap ? q->cap : 4096;
        while (cap < q->len + n) cap *= 2;
        if (cap > q->route->body_limit) cap = q->route->body_limit;
        char *nb = realloc(q->body, cap);
        if (!nb) return MHD_NO;
        q->body = nb;
        q->cap = cap;
    }
    memcpy(q->body + q->len, data, n);
    q->len += n;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    ow_http *h = cls;
    ow_req *q = *con_cls;
    if (!q) {
        if (!(q = calloc(1, sizeof *q))) return MHD_NO;
        *con_cls = q;
        return on_head(q, c, url, method, version);
    }
    if (q->answered) { /* refused early: the rest of the body is dropped */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        return on_body(q, c, upload, n);
    }
    if (q->too_large) return too_large(q, c);
    /* This thread is the connection's own: it may wait for the activation. */
    return reply(c, q->route->handle(h->rt, q->body, q->len), NULL);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode code) {
    (void)cls; (void)c; (void)code;
    ow_req *q = *con_cls;
    if (!q) return;
    free(q->body);
    free(q);
    *con_cls = NULL;
}

ow_http *ow_http_start(ow_runtime *rt, const struct sockaddr *addr, unsigned max_connections, char **err) {
    ow_http *h = calloc(1, sizeof *h);
    if (!h) {
        *err = strdup("out of memory");
        return NULL;
    }
    h->rt = rt;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    if (addr->sa_family == AF_INET6) flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, addr,
                                 MHD_OPTION_CONNECTION_LIMIT, max_connections,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)OW_HTTP_IDLE_TIMEOUT_S,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
    if (!h->daemon) {
        const char *why = strerror(errno ? errno : EADDRNOTAVAIL);
        size_t n = strlen(why) + 96;
        if ((*err = malloc(n)))
            snprintf(*err, n, "cannot listen (address in use, or not an address of this machine?): %s", why);
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : 0;
    return h;
}

unsigned ow_http_port(const ow_http *h) { return h->port; }

void ow_http_stop(ow_http *h) {
    if (!h) return;
    MHD_stop_daemon(h->daemon);
    free(h);
}
