/* packages.c - packages and bindings as documents: list, create/update
 * (PUT, ?overwrite), get (with the package's actions; a binding shows the
 * bound package's actions and parameters merged), delete (refused while
 * the package holds actions). Reads of another namespace's packages go
 * through resolve.h (published packages only); writes are the owner's. */
#include "host/gateway/gateway_internal.h"
#include "host/gateway/package_doc.h"
#include "host/gateway/query.h"
#include "host/store/store_packages.h"
#include "host/util/json.h"

#include <stdio.h>
#include <string.h>

#define LIST_LIMIT_DEFAULT 30
#define LIST_LIMIT_MAX 200
#define MSG_NOT_AUTHORIZED "The supplied authentication is not authorized to access '%.256s/%.256s'."

static int own_namespace(const http_req *r) { return !strcmp(r->rt.ns, "_") || !strcmp(r->rt.ns, r->ns); }
static const char *route_ns(const http_req *r) { return own_namespace(r) ? r->ns : r->rt.ns; }

static enum MHD_Result list(http_req *r) {
    int64_t limit, skip;
    int want_count;
    if (query_bool(req_query(r, "count"), 0, &want_count) < 0) return req_bad_query(r, "count", "true or false");
    if (query_int(req_query(r, "limit"), 0, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT, &limit) < 0)
        return req_bad_query(r, "limit", "an integer in [0, 200]");
    if (query_int(req_query(r, "skip"), 0, INT32_MAX, 0, &skip) < 0)
        return req_bad_query(r, "skip", "a non-negative integer");
    if (limit == 0 || want_count) limit = want_count ? 0 : LIST_LIMIT_MAX;
    /* Another namespace's list holds its published packages only. */
    json_t *out = NULL;
    if (store_package_list(r->gw->store, route_ns(r), !own_namespace(r), (int)limit, want_count ? 0 : (int)skip,
                           &out) != STORE_OK)
        return req_store_error(r);
    if (!want_count) return http_reply_json(r->conn, MHD_HTTP_OK, out, NULL);
    size_t n = json_array_size(out);
    json_decref(out);
    return http_reply_json(r->conn, MHD_HTTP_OK, json_pack("{sI}", "packages", (json_int_t)n), NULL);
}

/* The "actions" member of a package's GET: {name, version, annotations} of
 * each action it holds. */
static json_t *action_entries(store *st, const char *ns, const char *pkg) {
    json_t *docs = NULL;
    if (store_package_actions(st, ns, pkg, 0, 0, &docs) != STORE_OK) return NULL;
    json_t *out = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d) {
        json_t *annotations = json_object_get(d, "annotations");
        json_array_append_new(out, json_pack("{ss ss sO}", "name", json_get_str(d, "name", ""), "version",
                                             json_get_str(d, "version", "0.0.1"), "annotations",
                                             annotations ? annotations : json_array()));
    }
    json_decref(docs);
    return out;
}

static enum MHD_Result get(http_req *r) {
    json_t *doc = NULL, *provider = NULL;
    resolve_status rs = resolve_package(r->gw->store, r->ns, r->rt.ns, r->rt.name, &doc);
    const json_t *b = json_object_get(doc, "binding");
    if (rs == RESOLVE_OK && package_doc_is_binding(doc)) {
        rs = resolve_package(r->gw->store, r->ns, json_get_str(b, "namespace", "_"), json_get_str(b, "name", ""),
                             &provider);
        if (rs == RESOLVE_FORBIDDEN) { /* its package was made private since */
            enum MHD_Result ret = http_error(r->conn, MHD_HTTP_FORBIDDEN, MSG_NOT_AUTHORIZED,
                                             json_get_str(b, "namespace", ""), json_get_str(b, "name", ""));
            json_decref(doc);
            return ret;
        }
    }
    if (rs != RESOLVE_OK) {
        json_decref(doc);
        if (rs == RESOLVE_FORBIDDEN)
            return http_error(r->conn, MHD_HTTP_FORBIDDEN, MSG_NOT_AUTHORIZED, r->rt.ns, r->rt.name);
        if (rs == RESOLVE_NOT_FOUND) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
        if (rs == RESOLVE_BAD_NAME) return http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The name of the entity contains illegal characters.");
        return req_store_error(r);
    }
    const json_t *holder = provider ? provider : doc;
    if (provider) { /* the bound package's parameters under the binding's */
        json_t *merged = json_kv_to_object(json_object_get(provider, "parameters"));
        json_t *own = json_kv_to_object(json_object_get(doc, "parameters"));
        json_t *list = json_array();
        const char *k;
        json_t *v;
        if (merged && own && list && json_object_update(merged, own) == 0)
            json_object_foreach(merged, k, v) json_array_append_new(list, json_kv(k, json_incref(v)));
        json_object_set_new(doc, "parameters", list);
        json_decref(merged);
        json_decref(own);
    }
    json_t *actions = action_entries(r->gw->store, json_get_str(holder, "namespace", ""),
                                     json_get_str(holder, "name", ""));
    json_decref(provider);
    if (!actions) {
        json_decref(doc);
        return req_store_error(r);
    }
    json_object_set_new(doc, "actions", actions);
    json_object_set_new(doc, "feeds", json_array());
    return http_reply_json(r->conn, MHD_HTTP_OK, doc, NULL);
}

/* A binding's package must exist and be bindable by the caller (OpenWhisk's
 * messages). 0, or -1 with the answer queued in *sent. */
static int check_binding(http_req *r, const json_t *doc, enum MHD_Result *sent) {
    const json_t *b = json_object_get(doc, "binding");
    const char *bns = json_get_str(b, "namespace", ""), *bname = json_get_str(b, "name", "");
    json_t *target = NULL;
    resolve_status rs = resolve_package(r->gw->store, r->ns, bns, bname, &target);
    int target_binding = package_doc_is_binding(target);
    json_decref(target);
    if (rs == RESOLVE_OK && target_binding) rs = RESOLVE_BAD_NAME;
    switch (rs) {
    case RESOLVE_OK: return 0;
    case RESOLVE_FORBIDDEN: *sent = http_error(r->conn, MHD_HTTP_FORBIDDEN, MSG_NOT_AUTHORIZED, bns, bname); break;
    case RESOLVE_NOT_FOUND:
        *sent = http_error(r->conn, MHD_HTTP_BAD_REQUEST, "Binding references a package that does not exist.");
        break;
    case RESOLVE_BAD_NAME:
        *sent = http_error(r->conn, MHD_HTTP_BAD_REQUEST, "Cannot bind to another package binding.");
        break;
    default: *sent = req_store_error(r);
    }
    return -1;
}

static enum MHD_Result put(http_req *r) {
    int overwrite;
    if (query_bool(req_query(r, "overwrite"), 0, &overwrite) < 0) return req_bad_query(r, "overwrite", "true or false");
    enum MHD_Result sent = MHD_NO;
    json_t *body = req_body_json(r, 1, &sent);
    if (!body) return sent;
    json_t *old = NULL;
    if (overwrite && store_package_get(r->gw->store, r->ns, r->rt.name, &old) == STORE_ERROR) {
        json_decref(body);
        return req_store_error(r);
    }
    char err[512];
    json_t *doc = NULL;
    package_doc_result pr = package_doc_build(body, old, r->rt.name, r->ns, &doc, err, sizeof err);
    json_decref(body);
    json_decref(old);
    if (pr != PACKAGE_DOC_OK)
        return http_error(r->conn, pr == PACKAGE_DOC_BECOME_BINDING ? MHD_HTTP_CONFLICT : MHD_HTTP_BAD_REQUEST, "%s", err);
    int binding = package_doc_is_binding(doc);
    if (binding && check_binding(r, doc, &sent) < 0) {
        json_decref(doc);
        return sent;
    }
    json_t *stored = NULL;
    store_status st = store_package_put(r->gw->store, r->ns, r->rt.name, doc, binding, overwrite, &stored);
    json_decref(doc);
    if (st == STORE_CONFLICT)
        return http_error(r->conn, MHD_HTTP_CONFLICT, "%s",
                          overwrite ? "Resource is a package and cannot be converted into a binding."
                                    : "resource already exists");
    if (st != STORE_OK) return req_store_error(r);
    return http_reply_json(r->conn, MHD_HTTP_OK, stored, NULL);
}

static enum MHD_Result del(http_req *r) {
    json_t *doc = NULL;
    size_t held = 0;
    store_status st = store_package_delete(r->gw->store, r->ns, r->rt.name, &doc, &held);
    if (st == STORE_NOT_FOUND) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    if (st == STORE_CONFLICT)
        return http_error(r->conn, MHD_HTTP_CONFLICT, "Package not empty (contains %zu %s)", held,
                          held == 1 ? "entity" : "entities");
    if (st != STORE_OK) return req_store_error(r);
    return http_reply_json(r->conn, MHD_HTTP_OK, doc, NULL);
}

enum MHD_Result packages_handle(http_req *r) {
    if (r->rt.kind == ROUTE_PACKAGES) return list(r);
    int method = route_method_bit(r->method);
    if (method != ROUTE_GET && !action_name_valid(r->rt.name))
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST,
                          "The package name '%.300s' is not valid: use 1 to 256 characters of letters, digits, '_', "
                          "'@', ' ', '.', '-', starting with a letter, digit or '_' and not ending with a space",
                          r->rt.name);
    switch (method) {
    case ROUTE_PUT: return put(r);
    case ROUTE_DELETE: return del(r);
    default: return get(r);
    }
}
