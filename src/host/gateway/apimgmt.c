/* apimgmt.c - API routes: create, list and delete them as the openwhisk
 * client's `routes` calls and `wsk api` do (through OpenWhisk's apimgmt web
 * actions, here answered by the gateway itself with the caller's
 * credentials), and serve each at /apigw/{namespace}{basepath}{relpath}
 * by running its web action (web_serve). A route's definition is checked
 * by api_route.c; its action must exist and be web-exported when the route
 * is created, and is looked up again at every request. */
#include "host/gateway/apimgmt.h"

#include "host/gateway/api_route.h"
#include "host/gateway/webaction.h"

#include "host/util/clock.h"
#include "host/util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The base URL of a namespace's routes, from the request's Host header. */
static json_t *gw_url(http_req *r, const char *ns) {
    const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    return json_sprintf("http://%s%s%s", host ? host : "localhost", APIGW_PREFIX, ns);
}

/* The OpenWhisk API document of the routes (same basepath, in order) in
 * routes[from, to): {id, key, value: {namespace, gwApiActivated, tenantId,
 * gwApiUrl, apidoc (Swagger 2.0)}}. */
static json_t *api_entry(http_req *r, const json_t *routes, size_t from, size_t to) {
    const json_t *first = json_array_get(routes, from);
    const char *basepath = json_get_str(first, "basepath", "/");
    const char *title = json_get_str(first, "apiName", basepath);
    json_t *paths = json_object();
    for (size_t i = from; paths && i < to; i++) {
        const json_t *rt = json_array_get(routes, i);
        const char *rel = json_get_str(rt, "relpath", "/");
        char verb[8];
        snprintf(verb, sizeof verb, "%s", json_get_str(rt, "verb", "GET"));
        for (char *p = verb; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        json_t *ops = json_object_get(paths, rel);
        if (!ops) json_object_set_new(paths, rel, ops = json_object());
        json_object_set_new(
            ops, verb,
            json_pack("{s:o s:{s:s s:s s:s s:o} s:{s:{s:s}}}", "operationId",
                      json_sprintf("%s %s", verb, rel), "x-openwhisk", "namespace", r->ns, "package", "",
                      "action", json_get_str(rt, "action", ""), "url",
                      json_sprintf("/api/v1/web/%s/default/%s.%s", r->ns, json_get_str(rt, "action", ""),
                                   json_get_str(rt, "responsetype", "json")),
                      "responses", "default", "description", "Default response"));
    }
    return json_pack("{s:o s:s s:{s:s s:b s:s s:o s:{s:s s:{s:s s:s} s:s s:o}}}", "id",
                     json_sprintf("API:%s:%s", r->ns, basepath), "key", r->ns, "value", "namespace", r->ns,
                     "gwApiActivated", 1, "tenantId", r->ns, "gwApiUrl", gw_url(r, r->ns), "apidoc", "swagger", "2.0",
                     "info", "title", title, "version", "1.0.0", "basePath", basepath, "paths", paths);
}

/* {"apis": [...]}: the namespace's routes (of basepath when given),
 * filtered by relpath and operation when given, one entry per base path. */
static enum MHD_Result get_api(http_req *r) {
    const char *basepath = req_query(r, "basepath");
    const char *relpath = req_query(r, "relpath");
    const char *verb = req_query(r, "operation");
    json_t *all = NULL;
    if (store_route_list(r->gw->store, r->ns, basepath, &all) != STORE_OK) return req_store_error(r);
    json_t *routes = json_array();
    size_t i;
    json_t *rt;
    json_array_foreach(all, i, rt) {
        if (relpath && strcmp(relpath, json_get_str(rt, "relpath", "")) != 0) continue;
        if (verb && strcasecmp(verb, json_get_str(rt, "verb", "")) != 0) continue;
        json_array_append(routes, rt);
    }
    json_decref(all);
    json_t *apis = json_array();
    size_t n = json_array_size(routes);
    for (size_t from = 0; from < n;) {
        const char *bp = json_get_str(json_array_get(routes, from), "basepath", "");
        size_t to = from + 1;
        while (to < n && !strcmp(bp, json_get_str(json_array_get(routes, to), "basepath", ""))) to++;
        json_array_append_new(apis, api_entry(r, routes, from, to));
        from = to;
    }
    json_decref(routes);
    return http_reply_json(r->conn, MHD_HTTP_OK, json_pack("{s:o}", "apis", apis), NULL);
}

static enum MHD_Result create_api(http_req *r) {
    enum MHD_Result sent = MHD_NO;
    json_t *body = req_body_json(r, 0, &sent);
    if (!body) return sent;
    const json_t *doc = json_object_get(body, "apidoc");
    const json_t *action = json_object_get(doc, "action");
    char base[API_BASEPATH_MAX + 1], rel[API_RELPATH_MAX + 1], verb[8];
    web_ext ext;
    if (json_object_get(doc, "swagger")) {
        json_decref(body);
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST,
                          "Creating routes from a Swagger document is not supported: give basepath, relpath, "
                          "operation and action");
    }
    if (!json_is_object(doc)) {
        json_decref(body);
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST,
                          "The request content was malformed: it must be {\"apidoc\": {...}}");
    }
    api_route_result ar =
        api_route_check(json_get_str(doc, "gatewayBasePath", "/"), json_get_str(doc, "gatewayPath", NULL),
                        json_get_str(doc, "gatewayMethod", NULL), req_query(r, "responsetype"), base, rel, verb, &ext);
    const char *name = json_get_str(action, "name", NULL);
    const char *ns = json_get_str(action, "namespace", "_");
    if (ar != API_ROUTE_OK) {
        json_decref(body);
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST, "%s", api_route_result_name(ar));
    }
    if (strcmp(ns, "_") != 0 && strcmp(ns, r->ns) != 0) {
        enum MHD_Result ret = http_error(r->conn, MHD_HTTP_FORBIDDEN,
                                         "The supplied authentication is not authorized to access '%.256s'.", ns);
        json_decref(body); /* ns is body's */
        return ret;
    }
    if (!name || !action_name_valid(name)) {
        json_decref(body);
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST,
                          "The route's action must be the name of an action of this namespace (packages are not "
                          "supported yet)");
    }
    json_t *found = NULL;
    store_status st = store_action_peek(r->gw->store, r->ns, name, &found);
    int web = st == STORE_OK && json_is_true(json_kv_find(json_object_get(found, "annotations"), "web-export"));
    store_action_unpeek(r->gw->store, found);
    if (st == STORE_ERROR) { json_decref(body); return req_store_error(r); }
    if (!web) {
        enum MHD_Result ret = http_error(r->conn, MHD_HTTP_BAD_REQUEST,
                                         st == STORE_OK ? "The action '%.256s' is not a web action: create it with "
                                                          "the annotation web-export true"
                                                        : "The action '%.256s' does not exist.",
                                         name);
        json_decref(body);
        return ret;
    }
    const char *api_name = json_get_str(doc, "apiName", NULL);
    json_t *def = json_pack("{s:s s:s s:s s:s s:s s:s s:I}", "basepath", base, "relpath", rel, "verb", verb,
                            "action", name, "namespace", r->ns, "responsetype", web_ext_name(ext), "created",
                            (json_int_t)clock_wall_ms());
    if (def && api_name && json_object_set_new(def, "apiName", json_string(api_name)) < 0) {
        json_decref(def);
        def = NULL;
    }
    json_decref(body);
    if (!def) return http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The route's apiName must be UTF-8 text");
    st = store_route_put(r->gw->store, r->ns, def);
    if (st == STORE_CONFLICT) {
        json_decref(def);
        return http_error(r->conn, MHD_HTTP_CONFLICT, "A namespace has at most %d routes", STORE_ROUTES_MAX);
    }
    if (st != STORE_OK) { json_decref(def); return req_store_error(r); }
    json_t *one = json_pack("[o]", def);
    json_t *entry = one ? api_entry(r, one, 0, 1) : NULL;
    json_decref(one);
    return http_reply_json(r->conn, MHD_HTTP_OK, entry, NULL);
}

static enum MHD_Result delete_api(http_req *r) {
    const char *basepath = req_query(r, "basepath");
    if (!basepath) return req_bad_query(r, "basepath", "the base path of the routes to delete");
    const char *verb = req_query(r, "operation");
    char up[8] = "";
    for (size_t i = 0; verb && verb[i] && i + 1 < sizeof up; i++)
        up[i] = (char)(verb[i] >= 'a' && verb[i] <= 'z' ? verb[i] - 32 : verb[i]);
    int deleted = 0;
    if (store_route_delete(r->gw->store, r->ns, basepath, req_query(r, "relpath"), verb ? up : NULL, &deleted) !=
        STORE_OK)
        return req_store_error(r);
    if (!deleted) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    return http_reply_json(r->conn, MHD_HTTP_OK, json_object(), NULL);
}

enum MHD_Result apimgmt_handle(http_req *r, const char *op) {
    /* Which operation answers which method, as OpenWhisk's apimgmt actions. */
    static const struct {
        const char *op, *method;
        enum MHD_Result (*fn)(http_req *);
    } OPS[] = {{"createApi", "POST", create_api}, {"getApi", "GET", get_api}, {"deleteApi", "DELETE", delete_api}};
    for (size_t i = 0; i < sizeof OPS / sizeof *OPS; i++) {
        if (strcmp(op, OPS[i].op) != 0) continue;
        if (strcmp(r->method, OPS[i].method) != 0) {
            http_header allow = {MHD_HTTP_HEADER_ALLOW, OPS[i].method};
            return http_error_hdr(r->conn, MHD_HTTP_METHOD_NOT_ALLOWED, &allow,
                                  "The method %.32s is not allowed on this resource", r->method);
        }
        enum MHD_Result sent = MHD_NO;
        if (req_authenticate(r, &sent) < 0) return sent;
        return OPS[i].fn(r);
    }
    return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
}

enum MHD_Result apigw_handle(http_req *r) {
    /* {ns}{basepath}{relpath} */
    const char *rest = r->rt.name;
    size_t nl = strcspn(rest, "/");
    char ns[ACTION_MAX_NAME + 1];
    if (nl == 0 || nl > ACTION_MAX_NAME) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    memcpy(ns, rest, nl);
    ns[nl] = '\0';
    const char *path = rest[nl] ? rest + nl : "/";
    json_t *routes = NULL;
    if (!action_name_valid(ns)) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    if (store_route_list(r->gw->store, ns, NULL, &routes) != STORE_OK) return req_store_error(r);
    size_t i;
    json_t *rt;
    json_t *params = json_object();
    const json_t *match = NULL;
    json_array_foreach(routes, i, rt) {
        /* OPTIONS finds any route of the path: its web action answers the
         * CORS preflight (or runs, with web-custom-options). */
        if (strcmp(r->method, "OPTIONS") != 0 && strcmp(r->method, json_get_str(rt, "verb", "")) != 0) continue;
        json_object_clear(params);
        if (api_route_match(json_get_str(rt, "basepath", ""), json_get_str(rt, "relpath", ""), path, params)) {
            match = rt;
            break;
        }
    }
    enum MHD_Result ret;
    if (!match) {
        ret = http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    } else {
        web_ext ext = WEB_EXT_JSON;
        char b[API_BASEPATH_MAX + 1], rel[API_RELPATH_MAX + 1], verb[8];
        api_route_check("/", "/", "GET", json_get_str(match, "responsetype", "json"), b, rel, verb, &ext);
        ret = web_serve(r, ns, NULL, json_get_str(match, "action", ""), ext, "", params);
    }
    json_decref(params);
    json_decref(routes);
    return ret;
}
