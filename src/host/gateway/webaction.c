/* webaction.c - OpenWhisk web actions: /api/v1/web/{ns}/{pkg|default}/
 * {action}[.ext][/extra], for actions annotated web-export true.
 *
 * No credentials unless the action's require-whisk-auth asks: true means
 * the Basic credentials of the action's own namespace, a string (or
 * number) that the X-Require-Whisk-Auth header equals it. The request
 * becomes parameters (web_request.h), the action runs through invoke_start
 * as any blocking invoke (so the same admission, budget and records), and
 * its result becomes the answer (web_response.h). OPTIONS answers the CORS
 * preflight itself unless web-custom-options, and every answer carries the
 * CORS headers unless web-custom-options (then they are the action's).
 *
 * Errors are OpenWhisk's: 404 for an action that does not exist or is not
 * web-exported (the same answer, so neither is told apart), 401, 400 for
 * a result that does not fit the extension; a failed activation never
 * shows its error text beyond what the function returned as `error`. */
#include "host/gateway/apimgmt.h"
#include "host/gateway/conn_room.h"
#include "host/gateway/invoke.h"
#include "host/gateway/web_response.h"
#include "host/gateway/webaction.h"

#include "host/util/json.h"
#include "host/util/utf8.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MSG_WEB_ERROR "There was an error processing your request."

/* What the answer needs once the activation is done (r->web). */
typedef struct {
    web_ext ext;
    char *path;   /* the extra path: projection of non-.http extensions */
    int cors;     /* add the CORS headers (no web-custom-options) */
} web_ctx;

static const http_header CORS[] = {
    {"Access-Control-Allow-Origin", "*"},
    {"Access-Control-Allow-Methods", "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH"},
    {"Access-Control-Allow-Headers", "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent"},
};
#define NCORS (sizeof CORS / sizeof *CORS)

void webaction_request_done(http_req *r) {
    web_ctx *w = r->web;
    if (!w) return;
    free(w->path);
    free(w);
    r->web = NULL;
}

/* --- reading the request --------------------------------------------------- */

typedef struct {
    json_t *obj;
    int failed;
} collect;

/* Header callback: lower-case names, repeats joined with ", ", invalid
 * UTF-8 as '?', credentials left out. */
static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    collect *c = cls;
    if (!key || !strcasecmp(key, "authorization") || !strcasecmp(key, "x-require-whisk-auth")) return MHD_YES;
    char name[256];
    size_t n = 0;
    for (; key[n] && n + 1 < sizeof name; n++)
        name[n] = (char)((key[n] >= 'A' && key[n] <= 'Z') ? key[n] + 32 : key[n]);
    name[n] = '\0';
    utf8_sanitize(name);
    const char *old = json_string_value(json_object_get(c->obj, name));
    size_t len = (old ? strlen(old) + 2 : 0) + strlen(value ? value : "") + 1;
    char *v = malloc(len);
    if (!v) { c->failed = 1; return MHD_NO; }
    snprintf(v, len, "%s%s%s", old ? old : "", old ? ", " : "", value ? value : "");
    utf8_sanitize(v);
    if (json_object_set_new(c->obj, name, json_string(v)) < 0) c->failed = 1;
    free(v);
    return c->failed ? MHD_NO : MHD_YES;
}

/* Query callback: decoded values into obj, and re-encoded into the raw
 * string (obj "raw" member is kept aside in c->raw). */
typedef struct {
    json_t *obj;
    FILE *raw;
    int failed;
} query_collect;

static void encode(FILE *f, const char *s) {
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("-_.~", ch))
            fputc(ch, f);
        else
            fprintf(f, "%%%02X", ch);
    }
}

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    query_collect *q = cls;
    if (!key) return MHD_YES;
    if (q->raw) {
        if (ftell(q->raw) > 0) fputc('&', q->raw);
        encode(q->raw, key);
        if (value) { fputc('=', q->raw); encode(q->raw, value); }
    }
    char *k = strdup(key), *v = strdup(value ? value : "");
    if (!k || !v) { free(k); free(v); q->failed = 1; return MHD_NO; }
    utf8_sanitize(k);
    utf8_sanitize(v);
    if (json_object_set_new(q->obj, k, json_string(v)) < 0) q->failed = 1;
    free(k);
    free(v);
    return q->failed ? MHD_NO : MHD_YES;
}

/* --- authentication -------------------------------------------------------- */

/* require-whisk-auth: 0 when the request may run the action (user set to
 * the authenticated namespace, or NULL), else -1 with the 401 queued. */
static int check_auth(http_req *r, const json_t *annotations, const char *action_ns, const char **user,
                      enum MHD_Result *sent) {
    *user = NULL;
    const json_t *req = json_kv_find(annotations, "require-whisk-auth");
    if (!req || json_is_false(req) || json_is_null(req)) return 0;
    if (json_is_true(req)) {
        /* the action's own namespace's credentials, nobody else's */
        if (req_authenticate(r, sent) < 0) return -1;
        if (strcmp(r->ns, action_ns) != 0) {
            *sent = http_error(r->conn, MHD_HTTP_UNAUTHORIZED, "The supplied authentication is invalid");
            return -1;
        }
        *user = r->ns;
        return 0;
    }
    char want[64];
    if (json_is_string(req) && json_string_length(req) > 0 && json_string_length(req) < sizeof want &&
        strlen(json_string_value(req)) == json_string_length(req))
        snprintf(want, sizeof want, "%s", json_string_value(req));
    else if (json_is_integer(req))
        snprintf(want, sizeof want, "%lld", (long long)json_integer_value(req));
    else
        want[0] = '\0'; /* any other value: nothing matches, the action stays closed */
    const char *got = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Require-Whisk-Auth");
    size_t wl = strlen(want);
    int ok = wl > 0 && got && strlen(got) == wl && CRYPTO_memcmp(got, want, wl) == 0;
    if (!ok) {
        *sent = http_error(r->conn, MHD_HTTP_UNAUTHORIZED,
                           got ? "The supplied authentication is invalid"
                               : "The resource requires authentication, which was not supplied with the request");
        return -1;
    }
    return 0;
}

/* --- the handler ----------------------------------------------------------- */

/* The answer to OPTIONS without web-custom-options: the CORS preflight. */
static enum MHD_Result preflight(http_req *r) {
    return http_reply_bytes(r->conn, MHD_HTTP_OK, NULL, NULL, 0, CORS, NCORS);
}

enum MHD_Result webaction_handle(http_req *r) {
    web_path wp;
    web_path_result pr = web_path_parse(r->rt.name, &wp);
    /* The API route management the openwhisk client calls (apimgmt.c). */
    if (pr == WEB_PATH_OK && !strcmp(wp.ns, APIMGMT_NAMESPACE) && !strcmp(wp.pkg, APIMGMT_PACKAGE))
        return apimgmt_handle(r, wp.name);
    if (pr != WEB_PATH_OK) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    return web_serve(r, wp.ns, wp.pkg, wp.name, wp.ext, wp.extra, NULL);
}

enum MHD_Result web_serve(http_req *r, const char *ns, const char *pkg, const char *name, web_ext ext,
                          const char *extra, const json_t *path_params) {
    gateway *gw = r->gw;
    web_path wp = {.ext = ext, .extra = extra};
    snprintf(wp.ns, sizeof wp.ns, "%s", ns);
    snprintf(wp.name, sizeof wp.name, "%s", name);
    store_status st = store_namespace_id(gw->store, wp.ns, r->ns_id);
    if (st == STORE_ERROR) return req_store_error(r);
    if (st != STORE_OK) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    /* Resolved as the namespace itself would name it (resolve.h): its
     * packages and bindings (a binding's package parameters too); what is
     * missing, not exported or not the namespace's to serve is one 404. */
    resolved_action ra;
    resolve_status rs = resolve_action(gw->store, wp.ns, wp.ns, pkg && *pkg ? pkg : NULL, wp.name, &ra);
    if (rs == RESOLVE_ERROR) return req_store_error(r);
    if (rs != RESOLVE_OK) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    const json_t *action = ra.action;
    const json_t *anns = json_object_get(action, "annotations");
    if (!json_is_true(json_kv_find(anns, "web-export"))) {
        resolved_clear(gw->store, &ra);
        return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    }
    enum MHD_Result sent = MHD_NO;
    int custom_options = json_is_true(json_kv_find(anns, "web-custom-options"));
    const char *user = NULL;
    if (!custom_options && !strcmp(r->method, "OPTIONS")) {
        resolved_clear(gw->store, &ra);
        return preflight(r);
    }
    if (check_auth(r, anns, wp.ns, &user, &sent) < 0) {
        resolved_clear(gw->store, &ra);
        return sent;
    }
    /* The activation is the action's namespace's, whoever called. */
    snprintf(r->ns, sizeof r->ns, "%s", wp.ns);
    snprintf(r->tenant, sizeof r->tenant, "%s#%s", r->ns, r->ns_id);
    if (atomic_load(&gw->stopping)) {
        resolved_clear(gw->store, &ra);
        return http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "The platform is shutting down");
    }

    collect hc = {json_object(), 0};
    query_collect qc = {json_object(), NULL, 0};
    char *raw = NULL;
    size_t raw_len = 0;
    qc.raw = open_memstream(&raw, &raw_len);
    if (hc.obj) MHD_get_connection_values(r->conn, MHD_HEADER_KIND, add_header, &hc);
    if (qc.obj) MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_query, &qc);
    /* A route's path parameters count as query parameters (the body wins). */
    if (qc.obj && path_params && json_object_update(qc.obj, (json_t *)path_params) < 0) qc.failed = 1;
    if (qc.raw) fclose(qc.raw);
    char *path = strdup(wp.extra);
    if (path) utf8_sanitize(path);
    web_request q = {
        .method = r->method,
        .headers = hc.obj,
        .query = qc.obj,
        .query_raw = raw ? raw : "",
        .content_type = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .body = r->body,
        .body_len = r->body_len,
        .path = path,
        .user = user,
        .raw = json_is_true(json_kv_find(anns, "raw-http")),
    };
    json_t *action_params = resolved_params(&ra, NULL); /* package's, then the action's (`final` guards both) */
    json_t *given = NULL;
    web_params_result wr = !hc.obj || !qc.obj || hc.failed || qc.failed || !raw || !path || !action_params
                               ? WEB_PARAMS_NOMEM
                               : web_params_build(&q, action_params, json_is_true(json_kv_find(anns, "final")), &given);
    json_decref(hc.obj);
    json_decref(qc.obj);
    json_decref(action_params);
    free(raw);
    if (wr != WEB_PARAMS_OK) {
        free(path);
        resolved_clear(gw->store, &ra);
        return http_error(r->conn, wr == WEB_PARAMS_NOMEM ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_BAD_REQUEST,
                          "%s", web_params_result_name(wr));
    }
    web_ctx *w = calloc(1, sizeof *w);
    invoke_who who = {.ns = r->ns, .ns_id = r->ns_id, .tenant = r->tenant, .name = ra.name};
    int err = ENOMEM;
    invocation *inv = w ? invoke_run(gw, &who, &ra, given, &err) : NULL;
    json_decref(given);
    resolved_clear(gw->store, &ra);
    if (!inv) {
        free(w);
        free(path);
        char msg[768];
        unsigned status = invoke_refusal(gw, r->tenant, wp.name, err, msg, sizeof msg);
        return http_error(r->conn, status, "%s", msg);
    }
    w->ext = wp.ext;
    w->path = path;
    w->cors = !custom_options;
    r->web = w;
    return invoke_wait(r, inv);
}

static enum MHD_Result answer_result(http_req *r, const web_ctx *w, const http_header *idh, int code,
                                     const json_t *result);

enum MHD_Result webaction_answer(http_req *r) {
    web_ctx *w = r->web;
    invocation *inv = r->invocation;
    invoke_state s;
    invoke_state_get(r->gw, inv, &s);
    http_header id = {"x-openwhisk-activation-id", invoke_id(inv)};
    if (!s.done) /* past --max-blocking-wait, as a blocking invoke */
        return http_reply_json(r->conn, MHD_HTTP_ACCEPTED, json_pack("{ss}", "activationId", invoke_id(inv)), &id);
    if (s.not_run) return http_error_hdr(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, &id, "The platform is shutting down");
    if (s.commit == STORE_NOT_FOUND) return http_error_hdr(r->conn, MHD_HTTP_NOT_FOUND, &id, MSG_NOT_FOUND);
    if (s.commit != STORE_OK || !s.record)
        return http_error_hdr(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, &id,
                              "The activation ran but its record could not be stored");
    json_t *tree = activation_text_result(s.record);
    if (!tree) return http_error_hdr(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, &id, "The server ran out of memory");
    enum MHD_Result ret = answer_result(r, w, &id, s.record->status_code, tree);
    json_decref(tree);
    return ret;
}

/* The web answer from the activation's result (borrowed) and status code. */
static enum MHD_Result answer_result(http_req *r, const web_ctx *w, const http_header *idh, int code,
                                     const json_t *result) {
    http_header id = *idh;
    /* An application error answers its `error` the extension's way (so
     * {error: {statusCode: 400}} works with .http); a developer or
     * platform error says only that it failed: the record has the rest. */
    if (code == TFAAS_STATUS_APPLICATION_ERR) result = json_object_get(result, "error");
    else if (code != TFAAS_STATUS_SUCCESS)
        return http_error_hdr(r->conn,
                              code == TFAAS_STATUS_INTERNAL_ERR ? MHD_HTTP_INTERNAL_SERVER_ERROR
                                                                : MHD_HTTP_BAD_REQUEST,
                              &id, MSG_WEB_ERROR);
    web_answer a;
    web_result wr = result ? web_response_build(result, w->ext, code == TFAAS_STATUS_SUCCESS ? w->path : "", &a)
                           : WEB_RESULT_NO_PROPERTY;
    /* A result the server cannot send is the gateway's 502 (an upstream's
     * invalid answer), not OpenWhisk's 400 for a result of the wrong shape. */
    if (wr != WEB_RESULT_OK)
        return http_error_hdr(r->conn,
                              wr == WEB_RESULT_NOMEM               ? MHD_HTTP_INTERNAL_SERVER_ERROR
                              : wr == WEB_RESULT_HEADERS_TOO_LARGE ? MHD_HTTP_BAD_GATEWAY
                                                                   : MHD_HTTP_BAD_REQUEST,
                              &id, "%s", web_result_name(wr));
    size_t nh = json_array_size(a.headers);
    http_header *hdrs = calloc(nh + NCORS + 1, sizeof *hdrs);
    if (!hdrs) {
        web_answer_free(&a);
        return http_error_hdr(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, &id, "The server ran out of memory");
    }
    size_t n = 0;
    hdrs[n++] = id;
    for (size_t i = 0; w->cors && i < NCORS; i++) {
        int own = 0; /* the action's own value of a CORS header wins */
        for (size_t j = 0; j < nh && !own; j++)
            own = !strcasecmp(json_string_value(json_array_get(json_array_get(a.headers, j), 0)), CORS[i].name);
        if (!own) hdrs[n++] = CORS[i];
    }
    for (size_t i = 0; i < nh; i++) {
        const json_t *pair = json_array_get(a.headers, i);
        hdrs[n++] = (http_header){json_string_value(json_array_get(pair, 0)),
                                  json_string_value(json_array_get(pair, 1))};
    }
    /* Within the limit, the head may still not fit beside a request with
     * large headers (cookies): MHD would accept it and then close the
     * connection without an answer (conn_room.h); a small error fits. */
    size_t head = conn_room_head(a.content_type, hdrs, n);
    if (!conn_room_fits(r->conn, head)) {
        size_t req = conn_room_request(r->conn);
        free(hdrs);
        web_answer_free(&a);
        return http_error_hdr(r->conn, MHD_HTTP_BAD_GATEWAY, &id,
                              "The action's response headers (%zu bytes) do not fit beside this request's headers "
                              "(%zu bytes): the two share %zu bytes",
                              head, req, GATEWAY_CONN_MEMORY);
    }
    char *body = a.body;
    a.body = NULL; /* stolen by the reply */
    enum MHD_Result ret = http_reply_bytes(r->conn, a.status, a.content_type, body, a.len, hdrs, n);
    free(hdrs);
    web_answer_free(&a);
    return ret;
}
