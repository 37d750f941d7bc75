/* actions.c - actions as documents: list, create/update (PUT), get, delete.
 * Invocation (POST) lives in invoke.c. */
#include "host/gateway/action_doc.h"
#include "host/gateway/gateway_internal.h"
#include "host/gateway/invoke.h"
#include "host/gateway/query.h"
#include "host/gateway/resolve.h"
#include "host/store/store_packages.h"
#include "host/util/json.h"

#include <stdio.h>
#include <string.h>

/* ?count=true: {"actions": N}. The store pages at most 200 at a time. */
static enum MHD_Result count(http_req *r) {
    size_t total = 0;
    for (int skip = 0;; skip += LIST_LIMIT_MAX) {
        json_t *page = NULL;
        if (store_action_list(r->gw->store, r->ns, LIST_LIMIT_MAX, skip, &page) != STORE_OK)
            return req_store_error(r);
        size_t n = json_array_size(page);
        json_decref(page);
        total += n;
        if (n < LIST_LIMIT_MAX) break;
    }
    return http_reply_json(r->conn, MHD_HTTP_OK, json_pack("{sI}", "actions", (json_int_t)total), NULL);
}

/* The actions of package r->rt.pkg (of another namespace too, if published;
 * of a binding: the bound package's). */
static enum MHD_Result list_package(http_req *r, int limit, int skip) {
    json_t *pkg = NULL, *provider = NULL;
    resolve_status rs = resolve_package(r->gw->store, r->ns, r->rt.ns, r->rt.pkg, &pkg);
    const json_t *b = json_object_get(pkg, "binding");
    if (rs == RESOLVE_OK && json_get_str(b, "name", NULL)) {
        rs = resolve_package(r->gw->store, r->ns, json_get_str(b, "namespace", "_"), json_get_str(b, "name", ""),
                             &provider);
    }
    const json_t *holder = provider ? provider : pkg;
    json_t *out = NULL;
    store_status st = rs == RESOLVE_OK ? store_package_actions(r->gw->store, json_get_str(holder, "namespace", ""),
                                                               json_get_str(holder, "name", ""), limit, skip, &out)
                                       : STORE_OK;
    json_decref(pkg);
    json_decref(provider);
    if (rs == RESOLVE_FORBIDDEN)
        return http_error(r->conn, MHD_HTTP_FORBIDDEN, "The supplied authentication is not authorized to access '%s/%s'.",
                          r->rt.ns, r->rt.pkg);
    if (rs == RESOLVE_NOT_FOUND) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    if (rs == RESOLVE_BAD_NAME) {
        enum MHD_Result sent = MHD_NO;
        r->rt.name = r->rt.pkg; /* says which name is wrong */
        action_route_check(r, &sent);
        return sent;
    }
    if (rs != RESOLVE_OK || st != STORE_OK) return req_store_error(r);
    return http_reply_json(r->conn, MHD_HTTP_OK, out, NULL);
}

static enum MHD_Result list(http_req *r) {
    int64_t limit, skip;
    int want_count;
    if (query_bool(req_query(r, "count"), 0, &want_count) < 0) return req_bad_query(r, "count", "true or false");
    if (want_count) return count(r);
    enum MHD_Result sent = MHD_NO;
    if (req_page(r, &limit, &skip, &sent) < 0) return sent;
    if (r->rt.pkg) return list_package(r, (int)limit, (int)skip);
    json_t *out = NULL;
    store_status st = store_action_list(r->gw->store, r->ns, (int)limit, (int)skip, &out);
    if (st != STORE_OK) return req_store_error(r);
    return http_reply_json(r->conn, MHD_HTTP_OK, out, NULL);
}

/* The store key of the route's action: "NAME", or "PKG/NAME" in a package. */
static void store_name(const http_req *r, char out[2 * ACTION_MAX_NAME + 2]) {
    snprintf(out, 2 * ACTION_MAX_NAME + 2, "%s%s%s", r->rt.pkg ? r->rt.pkg : "", r->rt.pkg ? "/" : "", r->rt.name);
}

static enum MHD_Result put(http_req *r) {
    enum MHD_Result sent = MHD_NO;
    if (r->rt.pkg) { /* the package must be the caller's and not a binding (store.c checks it again) */
        json_t *pkg = NULL;
        store_status st = store_package_get(r->gw->store, r->ns, r->rt.pkg, &pkg);
        int binding = json_get_str(json_object_get(pkg, "binding"), "name", NULL) != NULL;
        json_decref(pkg);
        if (st == STORE_NOT_FOUND) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
        if (st != STORE_OK) return req_store_error(r);
        if (binding) return http_error(r->conn, MHD_HTTP_BAD_REQUEST, "Operation not permitted on package binding.");
    }
    json_t *body = req_body_json(r, 0, &sent);
    if (!body) return sent;
    char name[2 * ACTION_MAX_NAME + 2];
    store_name(r, name);
    return action_put_body(r, name, body, 0);
}

json_t *action_confidential(const json_t *doc) {
    json_t *v = json_kv_find(json_object_get(doc, "annotations"), "confidential");
    return json_is_object(v) ? v : NULL;
}

enum MHD_Result action_put_body(http_req *r, const char *name, json_t *body, int confidential) {
    int overwrite;
    if (query_bool(req_query(r, "overwrite"), 0, &overwrite) < 0) {
        json_decref(body);
        return req_bad_query(r, "overwrite", "true or false");
    }

    json_t *old = NULL;
    if (overwrite) {
        store_status st = store_action_get(r->gw->store, r->ns, name, &old);
        if (st == STORE_ERROR) { json_decref(body); return req_store_error(r); }
    }
    if (!confidential) {
        /* Only the confidential deploy sets this annotation; plain code
         * replacing a confidential action drops it. */
        if (json_kv_find(json_object_get(body, "annotations"), "confidential")) {
            json_decref(body);
            json_decref(old);
            return http_error(r->conn, MHD_HTTP_BAD_REQUEST,
                              "The annotation 'confidential' is reserved: deploy confidential actions with "
                              "PUT /tfaas/v1/namespaces/_/actions/{name}");
        }
        json_t *anns = json_object_get(old, "annotations");
        for (size_t i = json_array_size(anns); i-- > 0;)
            if (!strcmp(json_get_str(json_array_get(anns, i), "key", ""), "confidential")) json_array_remove(anns, i);
    }
    char err[512];
    json_t *doc = action_doc_build(body, old, err, sizeof err);
    /* Only a mode this request asks for must pass the server's policy: one
     * kept from the stored revision applies no weaker than the server's
     * mode at invocation anyway (isolation_effective). */
    isolation_mode requested;
    if (doc && (action_isolation_request(json_object_get(body, "annotations"), &requested, err, sizeof err) < 0 ||
                isolation_check_request(scheduler_isolation(r->gw->scheduler), requested, err, sizeof err) < 0)) {
        json_decref(doc);
        doc = NULL;
    }
    json_decref(body);
    json_decref(old);
    if (!doc) return http_error(r->conn, MHD_HTTP_BAD_REQUEST, "%s", err);
    /* A confidential deploy carries no annotations of the client's (so no
     * web-export) and no sequence; invoke_start refuses confidential
     * actions on every path but OHTTP. */
    unsigned status = MHD_HTTP_BAD_REQUEST;
    if (action_is_sequence(doc) &&
        (confidential || sequence_resolve(r, name, doc, &status, err, sizeof err) < 0)) {
        json_decref(doc);
        return http_error(r->conn, status, "%s", confidential ? "A sequence cannot be confidential" : err);
    }

    json_t *stored = NULL;
    store_status st = store_action_put(r->gw->store, r->ns, name, doc, overwrite, &stored);
    json_decref(doc);
    if (st == STORE_CONFLICT) return http_error(r->conn, MHD_HTTP_CONFLICT, "resource already exists");
    /* a package deleted since put() looked */
    if (st == STORE_NOT_FOUND) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    if (st != STORE_OK) return req_store_error(r);
    /* Warm heaps hold the previous revision's code. */
    if (overwrite) scheduler_drop(r->gw->scheduler, r->tenant, name);
    return http_reply_json(r->conn, MHD_HTTP_OK, stored, NULL);
}

/* Reads through resolve_action: own actions, those of own packages and
 * bindings, and those of other namespaces' published packages. */
static enum MHD_Result get(http_req *r) {
    int code;
    if (query_bool(req_query(r, "code"), 1, &code) < 0) return req_bad_query(r, "code", "true or false");
    resolved_action ra;
    resolve_status rs = resolve_action(r->gw->store, r->ns, r->rt.ns, r->rt.pkg, r->rt.name, &ra);
    if (rs != RESOLVE_OK) return resolve_refused(r, rs, &ra);
    json_t *doc = json_deep_copy(ra.action); /* the peeked one is shared */
    resolved_clear(r->gw->store, &ra);
    if (!doc) return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The server ran out of memory");
    if (!code) json_object_del(json_object_get(doc, "exec"), "code");
    return http_reply_json(r->conn, MHD_HTTP_OK, doc, NULL);
}

static enum MHD_Result del(http_req *r) {
    char name[2 * ACTION_MAX_NAME + 2];
    store_name(r, name);
    json_t *doc = NULL;
    store_status st = store_action_delete(r->gw->store, r->ns, name, &doc);
    if (st == STORE_NOT_FOUND) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    if (st != STORE_OK) return req_store_error(r);
    scheduler_drop(r->gw->scheduler, r->tenant, name);
    return http_reply_json(r->conn, MHD_HTTP_OK, doc, NULL);
}

#define NAME_RULE                                                                                                   \
    "use 1 to 256 characters of letters, digits, '_', '@', ' ', '.', '-', starting with a letter, digit or '_' and " \
    "not ending with a space"

/* 0 when the route names a valid action name (and package name, if any);
 * otherwise the 400 is queued. */
int action_route_check(http_req *r, enum MHD_Result *sent) {
    if (r->rt.pkg && !action_name_valid(r->rt.pkg)) {
        *sent = http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The package name '%.300s' is not valid: " NAME_RULE,
                           r->rt.pkg);
        return -1;
    }
    if (!action_name_valid(r->rt.name)) {
        *sent = http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The action name '%.300s' is not valid: " NAME_RULE,
                           r->rt.name);
        return -1;
    }
    return 0;
}

enum MHD_Result actions_handle(http_req *r) {
    if (r->rt.kind == ROUTE_ACTIONS) return list(r);
    enum MHD_Result sent = MHD_NO;
    if (action_route_check(r, &sent) < 0) return sent;
    switch (route_method_bit(r->method)) {
    case ROUTE_PUT: return put(r);
    case ROUTE_DELETE: return del(r);
    default: return get(r);
    }
}
