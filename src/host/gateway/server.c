/* server.c - the libmicrohttpd daemon: limits connections (per client
 * address, and how long a silent one is kept), refuses ambiguous framing
 * (framing.h), reads each request (body limits enforced while reading),
 * authenticates it, and dispatches it by route. */
#include "common/ohttp.h"
#include "host/gateway/gateway_internal.h"

#include "host/gateway/apimgmt.h"
#include "host/gateway/auth.h"
#include "host/gateway/conn_room.h"
#include "host/gateway/framing.h"
#include "host/gateway/query.h"

#include "common/json_depth.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *req_query(const http_req *r, const char *key) {
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

enum MHD_Result req_bad_query(http_req *r, const char *name, const char *expected) {
    return http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The query parameter '%s' is invalid: it must be %s", name,
                      expected);
}

int req_page(http_req *r, int64_t *limit, int64_t *skip, enum MHD_Result *sent) {
    if (query_int(req_query(r, "limit"), 0, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT, limit) < 0) {
        *sent = req_bad_query(r, "limit", "an integer in [0, 200]");
        return -1;
    }
    if (query_int(req_query(r, "skip"), 0, INT32_MAX, 0, skip) < 0) {
        *sent = req_bad_query(r, "skip", "a non-negative integer");
        return -1;
    }
    if (*limit == 0) *limit = LIST_LIMIT_MAX; /* OpenWhisk: 0 means as many as allowed */
    return 0;
}

enum MHD_Result req_store_error(http_req *r) {
    fprintf(stderr, "tfaas serve: store error: %s\n", store_last_error());
    return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The platform's store failed to serve the request");
}

json_t *req_body_json(http_req *r, int empty_ok, enum MHD_Result *sent) {
    if (!r->body || r->body_len == 0) {
        if (empty_ok) return json_object();
        *sent = http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The request content was malformed: the body is empty");
        return NULL;
    }
    /* Deeper nesting would pass jansson (2048) and then fail inside the
     * engine as an internal error; refuse it here, before parsing. */
    if (json_depth(r->body, r->body_len, JSON_MAX_DEPTH) > JSON_MAX_DEPTH) {
        *sent = http_error(r->conn, MHD_HTTP_BAD_REQUEST,
                           "The request content is nested too deeply: at most %d levels of arrays and objects",
                           JSON_MAX_DEPTH);
        return NULL;
    }
    json_error_t e;
    json_t *v = json_loadb(r->body, r->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v) *sent = http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The request content was malformed: %s", e.text);
    return v;
}

json_t *req_body_object(http_req *r, const char *what, enum MHD_Result *sent) {
    json_t *v = req_body_json(r, 1, sent);
    if (!v || json_is_object(v)) return v;
    json_decref(v);
    *sent = http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The request content was malformed: the %s must be a JSON object",
                       what);
    return NULL;
}

/* --- authentication ------------------------------------------------------ */

/* 0 when r->ns, r->ns_id and r->tenant hold the caller's namespace;
 * otherwise the 401 was queued. */
int req_authenticate(http_req *r, enum MHD_Result *sent) {
    char uuid[AUTH_MAX_PART + 1], key[AUTH_MAX_PART + 1];
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    auth_status st = auth_parse_basic(h, uuid, key);
    if (st == AUTH_MISSING) {
        *sent = http_error(r->conn, MHD_HTTP_UNAUTHORIZED,
                           "The resource requires authentication, which was not supplied with the request");
        return -1;
    }
    store_status ss = st == AUTH_OK ? store_authenticate(r->gw->store, uuid, key, r->ns, sizeof r->ns, r->ns_id)
                                    : STORE_NOT_FOUND;
    explicit_bzero(key, sizeof key); /* the secret does not outlive the check */
    if (ss == STORE_ERROR) { *sent = req_store_error(r); return -1; }
    if (ss != STORE_OK) {
        *sent = http_error(r->conn, MHD_HTTP_UNAUTHORIZED, "The supplied authentication is invalid");
        return -1;
    }
    snprintf(r->tenant, sizeof r->tenant, "%s#%s", r->ns, r->ns_id); /* fits: both sizes are bounded */
    return 0;
}

/* A public confidential route names its namespace (no credentials, so no
 * `_`): r->ns, ns_id and tenant are that namespace's, as authenticate()
 * sets them; whether the function may be invoked so is confidential.c's
 * check. 0, or -1 with *sent (404 for a namespace that does not exist). */
static int public_namespace(http_req *r, enum MHD_Result *sent) {
    store_status ss = strlen(r->rt.ns) < sizeof r->ns ? store_namespace_id(r->gw->store, r->rt.ns, r->ns_id)
                                                        : STORE_NOT_FOUND;
    if (ss == STORE_ERROR) { *sent = req_store_error(r); return -1; }
    if (ss != STORE_OK) {
        *sent = http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
        return -1;
    }
    snprintf(r->ns, sizeof r->ns, "%s", r->rt.ns);
    snprintf(r->tenant, sizeof r->tenant, "%s#%s", r->ns, r->ns_id);
    return 0;
}

/* --- dispatch -------------------------------------------------------------- */

static enum MHD_Result dispatch(http_req *r) {
    route_kind kind = r->rt.kind;
    if (kind == ROUTE_NONE) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    /* every method; credentials only if the action asks */
    if (kind == ROUTE_WEB) return webaction_handle(r);
    if (kind == ROUTE_APIGW) return apigw_handle(r);
    if (!(route_allowed(kind) & route_method_bit(r->method))) {
        http_header allow = {MHD_HTTP_HEADER_ALLOW, route_allow_header(kind)};
        return http_error_hdr(r->conn, MHD_HTTP_METHOD_NOT_ALLOWED, &allow,
                              "The method %.32s is not allowed on this resource", r->method);
    }
    if (kind == ROUTE_INFO) return info_handle(r);
    if (kind == ROUTE_ATTESTATION) return attestation_handle(r); /* public, like /api/v1 */
    if (kind == ROUTE_KMS_TRANSFER) return kms_transfer_handle(r); /* public: the two KMSes attest each other */
    if (kind == ROUTE_METRICS) return metrics_handle(r);         /* --metrics-access decides */
    if (kind == ROUTE_HEALTH) return health_handle(r);           /* public: says only up or stopping */
    if (kind == ROUTE_CONSOLE) return console_handle(r);         /* static files; the page signs in */

    enum MHD_Result sent = MHD_NO;
    if (r->rt.is_public) return public_namespace(r, &sent) < 0 ? sent : confidential_handle(r);
    if (req_authenticate(r, &sent) < 0) return sent;
    if (kind == ROUTE_NAMESPACES) return namespaces_handle(r);
    /* whisk.system/alarms/{alarm,once,interval}: served by tfaas (feeds.c) */
    if (feeds_route(r)) return feeds_handle(r);

    /* "_" is OpenWhisk's alias for the caller's own namespace. Another
     * namespace's packages, and the actions in them, may be read (and
     * invoked) where published: resolve.h decides; nothing else of it. */
    int method = route_method_bit(r->method);
    int shared_read = (kind == ROUTE_PACKAGES || kind == ROUTE_PACKAGE || (kind == ROUTE_ACTIONS && r->rt.pkg) ||
                       kind == ROUTE_ACTION) && (method == ROUTE_GET || (kind == ROUTE_ACTION && method == ROUTE_POST));
    if (strcmp(r->rt.ns, "_") != 0 && strcmp(r->rt.ns, r->ns) != 0 && !shared_read)
        return http_error(r->conn, MHD_HTTP_FORBIDDEN,
                          "The supplied authentication is not authorized to access '%.256s'.", r->rt.ns);
    switch (kind) {
    case ROUTE_PACKAGES:
    case ROUTE_PACKAGE: return packages_handle(r);
    case ROUTE_ACTIONS: return actions_handle(r);
    case ROUTE_ACTION:
        return route_method_bit(r->method) == ROUTE_POST ? invoke_handle(r) : actions_handle(r);
    case ROUTE_CONF_ACTION:
    case ROUTE_CONF_KEYS:
    case ROUTE_CONF_CERT:
    case ROUTE_CONF_OHTTP: return confidential_handle(r);
    case ROUTE_TRIGGERS:
    case ROUTE_TRIGGER: return triggers_handle(r);
    case ROUTE_RULES:
    case ROUTE_RULE: return rules_handle(r);
    default: return activations_handle(r);
    }
}

/* --- MHD callbacks --------------------------------------------------------- */

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static enum MHD_Result add_framing_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    framing_add(cls, key, value);
    return MHD_YES;
}

/* 413, once per request. Queued before the body is complete, MHD sends it
 * and closes the connection; if it refuses (MHD_NO) the connection is
 * closed without an answer, which is still bounded work. */
static enum MHD_Result reply_too_large(http_req *r) {
    if (r->answered) return MHD_YES;
    r->answered = 1;
    return http_error(r->conn, MHD_HTTP_CONTENT_TOO_LARGE, "The request content is too large: the limit is %zu bytes",
                      r->body_limit);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    http_req *r = *con_cls;
    if (!r) {
        /* First call: headers only. Decide the body limit now, so an
         * announced oversized body is refused before it is sent. */
        /* Every field before the buffers zeroed; the strings empty. */
        r = malloc(sizeof *r);
        if (!r) return MHD_NO;
        memset(r, 0, offsetof(http_req, rt));
        r->ns[0] = r->ns_id[0] = r->tenant[0] = '\0';
        r->gw = cls;
        r->conn = conn;
        r->method = method;
        pthread_mutex_lock(&r->gw->mu);
        r->gw->active++;
        pthread_mutex_unlock(&r->gw->mu);
        route_match(url, &r->rt);
        /* An OHTTP request may be as large as RFC 9458 messages tfaas
         * accepts (docs/protocol.md §3.2), not just GATEWAY_MAX_BODY. */
        r->body_limit = ((r->rt.kind == ROUTE_ACTION || r->rt.kind == ROUTE_CONF_ACTION) && !strcmp(method, "PUT"))
                            ? GATEWAY_MAX_BODY_ACTION
                        : r->rt.kind == ROUTE_CONF_OHTTP ? OHTTP_MAX_MESSAGE : GATEWAY_MAX_BODY;
        *con_cls = r;
        /* A whole request head arrived: from now on the connection's
         * silences may be longer (gateway.h). Set once per connection. */
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_TIMEOUT);
        if (!ci || ci->connection_timeout != r->gw->idle_timeout_s)
            MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, r->gw->idle_timeout_s);
        /* A body whose end is ambiguous (request smuggling, framing.h) is
         * refused and, as RFC 9112 §6.1 demands, the connection closed: the
         * bytes after the headers are never read as another request. */
        framing fr = {0};
        MHD_get_connection_values(conn, MHD_HEADER_KIND, add_framing_header, &fr);
        framing_result fres = framing_check(&fr, version && !strcmp(version, MHD_HTTP_VERSION_1_0));
        if (fres != FRAMING_OK) {
            r->answered = 1;
            http_header close = {MHD_HTTP_HEADER_CONNECTION, "close"};
            return http_error_hdr(conn, framing_status(fres), &close, "The request framing is refused: %s",
                                  framing_name(fres));
        }
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t announced = 0;
        if (cl && query_int(cl, 0, INT64_MAX, 0, &announced) == 0 && (uint64_t)announced > r->body_limit) {
            r->too_large = 1;
            /* A moderate excess is read and thrown away so that clients which
             * write the whole body before reading (fetch, needle) see the
             * 413; beyond that the answer comes at once and MHD closes. */
            if ((uint64_t)announced - r->body_limit > GATEWAY_MAX_DISCARD) return reply_too_large(r);
        }
        return MHD_YES;
    }
    if (r->invocation) return invoke_resumed(r); /* a parked blocking invoke woke up */
    if (r->offloaded) return offload_answer(r);  /* a reader prepared the answer */
    if (r->answered) { /* answered early (413, 400): the rest is ignored */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        r->received += n;
        if (r->too_large || r->received > r->body_limit) {
            /* Keep nothing past the limit; stop reading (answer and close)
             * once the discard allowance is spent too. */
            if (!r->too_large) {
                r->too_large = 1;
                free(r->body);
                r->body = NULL;
                r->body_len = r->body_cap = 0;
            }
            if (r->received > (uint64_t)r->body_limit + GATEWAY_MAX_DISCARD) return reply_too_large(r);
            return MHD_YES;
        }
        if (r->body_len + n + 1 > r->body_cap) {
            size_t cap = r->body_cap ? r->body_cap : 4096;
            while (cap < r->body_len + n + 1) cap *= 2;
            if (cap > r->body_limit + 1) cap = r->body_limit + 1;
            char *nb = realloc(r->body, cap);
            if (!nb) return MHD_NO;
            r->body = nb;
            r->body_cap = cap;
        }
        memcpy(r->body + r->body_len, upload, n);
        r->body_len += n;
        r->body[r->body_len] = '\0';
        return MHD_YES;
    }
    if (r->too_large) return reply_too_large(r);
    return dispatch(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code) {
    (void)conn; (void)code;
    gateway *g = cls;
    http_req *r = *con_cls;
    if (!r) return;
    pthread_mutex_lock(&g->mu);
    if (--g->active == 0 && g->inflight == 0) pthread_cond_broadcast(&g->idle);
    pthread_mutex_unlock(&g->mu);
    invoke_request_done(r);
    webaction_request_done(r);
    offload_request_done(r);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

/* Percent-decoding of the path and query values. MHD's own decoder turns
 * %00 into a NUL that silently truncates the string ("a%00b" would name
 * action "a"), so %00 and malformed escapes are left as they are: the text
 * then fails validation (a name cannot contain '%') instead of changing
 * meaning. Decodes in place; returns the new length. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s) {
    (void)cls; (void)conn;
    char *w = s;
    for (const char *p = s; *p; p++) {
        int hi, lo;
        if (p[0] == '%' && (hi = hex_value(p[1])) >= 0 && (lo = hex_value(p[2])) >= 0 && (hi | lo) != 0) {
            *w++ = (char)(hi << 4 | lo);
            p += 2;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* --- lifecycle -------------------------------------------------------------- */

gateway *gateway_start(const gateway_config *cfg, char **err) {
    gateway *g = calloc(1, sizeof *g);
    if (!g) { *err = strdup("out of memory"); return NULL; }
    g->store = cfg->store;
    g->scheduler = cfg->scheduler;
    g->budget = cfg->budget;
    g->kms = cfg->kms;
    g->egress = cfg->egress;
    g->max_blocking_wait_ms = cfg->max_blocking_wait_ms;
    g->metrics_access = cfg->metrics_access;
    g->cluster = cfg->cluster;
    if (cfg->metrics_token && !(g->metrics_token = strdup(cfg->metrics_token))) {
        free(g);
        *err = strdup("out of memory");
        return NULL;
    }
    g->idle_timeout_s = cfg->head_timeout_s == 0 || cfg->head_timeout_s > GATEWAY_IDLE_TIMEOUT_S
                            ? cfg->head_timeout_s : GATEWAY_IDLE_TIMEOUT_S;
    atomic_init(&g->stopping, 0);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->idle, NULL);

    if (park_start(g) < 0) {
        *err = strdup("cannot start the gateway's sweeper thread");
        goto err_park;
    }
    if (offload_start(g) < 0) {
        *err = strdup("cannot start the gateway's reader threads");
        goto err_offload;
    }
    /* Before the daemon, so its event threads only ever see it set; it fires
     * triggers through the invoke path, which needs nothing set below. */
    if (!(g->alarms = alarms_start(g))) {
        *err = strdup("cannot start the alarm feed's thread");
        goto err_alarms;
    }
    /* Event-driven: a few polling threads serve every connection; blocking
     * invokes are suspended (park.h) rather than holding a thread. */
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
    if (cfg->addr->sa_family == AF_INET6) flags |= MHD_USE_IPv6;
    g->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, g,
                                 MHD_OPTION_SOCK_ADDR, cfg->addr,
                                 MHD_OPTION_THREAD_POOL_SIZE, cfg->http_threads ? cfg->http_threads : 1u,
                                 MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
                                 /* Past it, MHD closes the new connection at
                                  * once, before reading anything. */
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_client,
                                 /* Inactivity (no byte received or sent) of a
                                  * new connection; on_request lengthens it once
                                  * a request head is complete. A suspended
                                  * (parked) invoke is not subject to it. */
                                 MHD_OPTION_CONNECTION_TIMEOUT, cfg->head_timeout_s,
                                 MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                                 /* the request's head and the answer's share
                                  * it: conn_room.h */
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, GATEWAY_CONN_MEMORY,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, g,
                                 MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                                 MHD_OPTION_END);
    if (!g->daemon) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot listen (address in use, or not an address of this machine?): %s",
                 strerror(errno ? errno : EADDRNOTAVAIL));
        *err = strdup(msg);
        goto err_daemon;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(g->daemon, MHD_DAEMON_INFO_BIND_PORT);
    g->port = info ? info->port : 0;
    return g;

err_daemon:
    alarms_free(g->alarms);
err_alarms:
    offload_stop(g);
err_offload:
    park_stop(g);
    park_fini(g);
err_park:
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->idle);
    free(g->metrics_token);
    free(g);
    return NULL;
}

unsigned gateway_port(const gateway *g) { return g->port; }

void gateway_quiesce(gateway *g) {
    atomic_store(&g->stopping, 1);
    alarms_stop(g->alarms); /* no firing from now on: it would only get 503s */
    MHD_socket s = MHD_quiesce_daemon(g->daemon);
    if (s != MHD_INVALID_SOCKET) close(s);
}

void gateway_inflight_add(gateway *g) {
    pthread_mutex_lock(&g->mu);
    g->inflight++;
    pthread_mutex_unlock(&g->mu);
}

void gateway_inflight_done(gateway *g) {
    pthread_mutex_lock(&g->mu);
    if (--g->inflight == 0 && g->active == 0) pthread_cond_broadcast(&g->idle);
    pthread_mutex_unlock(&g->mu);
}

unsigned gateway_drain(gateway *g, unsigned timeout_ms) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) { dl.tv_sec++; dl.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&g->mu);
    while (g->inflight > 0 || g->active > 0)
        if (pthread_cond_timedwait(&g->idle, &g->mu, &dl) == ETIMEDOUT) break;
    unsigned left = g->inflight + g->active;
    pthread_mutex_unlock(&g->mu);
    return left;
}

void gateway_stop(gateway *g) {
    if (!g) return;
    alarms_stop(g->alarms); /* when gateway_quiesce did not */
    park_stop(g); /* parked requests answer 202 as the daemon closes */
    offload_stop(g); /* every offloaded read is prepared and resumed */
    MHD_stop_daemon(g->daemon);
    alarms_free(g->alarms); /* no event thread is left to wake it */
    park_fini(g);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->idle);
    free(g->metrics_token);
    free(g);
}
