/* resolve.c - name resolution with bindings and permissions; see resolve.h. */
#include "host/gateway/resolve.h"

#include "host/store/store_packages.h"
#include "host/util/json.h"

#include <stdio.h>
#include <string.h>

const char *resolve_status_name(resolve_status st) {
    switch (st) {
    case RESOLVE_OK: return "ok";
    case RESOLVE_BAD_NAME: return "bad name";
    case RESOLVE_NOT_FOUND: return "not found";
    case RESOLVE_FORBIDDEN: return "forbidden";
    case RESOLVE_ERROR: return "store error";
    }
    return "unknown";
}

static resolve_status from_store(store_status st) {
    return st == STORE_OK ? RESOLVE_OK : st == STORE_NOT_FOUND ? RESOLVE_NOT_FOUND : RESOLVE_ERROR;
}

static int is_binding(const json_t *pkg) {
    return json_get_str(json_object_get(pkg, "binding"), "name", NULL) != NULL;
}

resolve_status resolve_package(store *s, const char *caller, const char *ns, const char *name, json_t **doc) {
    *doc = NULL;
    if (!ns || !*ns || !strcmp(ns, "_")) ns = caller;
    int own = !strcmp(ns, caller);
    if (!action_name_valid(ns) || !action_name_valid(name)) return own ? RESOLVE_BAD_NAME : RESOLVE_FORBIDDEN;
    json_t *d = NULL;
    store_status st = store_package_get(s, ns, name, &d);
    if (st == STORE_ERROR) return RESOLVE_ERROR;
    if (own) {
        *doc = d;
        return from_store(st);
    }
    /* Another namespace: only its published packages exist for the caller. */
    if (st != STORE_OK || is_binding(d) || !json_is_true(json_object_get(d, "publish"))) {
        json_decref(d);
        return RESOLVE_FORBIDDEN;
    }
    *doc = d;
    return RESOLVE_OK;
}

/* denied = "a/b[/c]" for the 403 message. */
static resolve_status forbid(resolved_action *out, const char *a, const char *b, const char *c) {
    snprintf(out->denied, sizeof out->denied, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "");
    return RESOLVE_FORBIDDEN;
}

/* Follows pkg of ns for the caller: the namespace and package holding the
 * actions, and the package parameters. */
static resolve_status follow_package(store *s, const char *caller, const char *ns, const char *pkg,
                                     const char *name, resolved_action *out, const char **owner, const char **owner_pkg,
                                     json_t **pkg_doc, json_t **provider_doc) {
    resolve_status rs = resolve_package(s, caller, ns, pkg, pkg_doc);
    if (rs == RESOLVE_FORBIDDEN) return forbid(out, ns, pkg, name);
    if (rs != RESOLVE_OK) return rs;
    const json_t *b = json_object_get(*pkg_doc, "binding");
    const char *bname = json_get_str(b, "name", NULL);
    json_t *params = json_kv_to_object(json_object_get(*pkg_doc, "parameters"));
    if (!params) return RESOLVE_ERROR;
    *owner = ns;
    *owner_pkg = pkg;
    if (bname) { /* own binding (resolve_package refuses others'): the bound package */
        const char *bns = json_get_str(b, "namespace", caller);
        rs = resolve_package(s, caller, bns, bname, provider_doc);
        if (rs == RESOLVE_OK && is_binding(*provider_doc)) rs = RESOLVE_NOT_FOUND; /* never stored so */
        if (rs == RESOLVE_FORBIDDEN) forbid(out, bns, bname, NULL);
        if (rs != RESOLVE_OK) { json_decref(params); return rs; }
        json_t *base = json_kv_to_object(json_object_get(*provider_doc, "parameters"));
        if (!base || json_object_update(base, params) < 0) { json_decref(base); json_decref(params); return RESOLVE_ERROR; }
        json_decref(params);
        params = base;
        snprintf(out->binding, sizeof out->binding, "%s/%s", ns, pkg);
        *owner = json_get_str(*provider_doc, "namespace", bns);
        *owner_pkg = bname;
    }
    out->params = params;
    return RESOLVE_OK;
}

resolve_status resolve_action(store *s, const char *caller, const char *ns, const char *pkg, const char *name,
                              resolved_action *out) {
    memset(out, 0, sizeof *out);
    if (!ns || !*ns || !strcmp(ns, "_")) ns = caller;
    if (pkg && !*pkg) pkg = NULL;
    int own = !strcmp(ns, caller);
    if (!action_name_valid(name) || (pkg && !action_name_valid(pkg)) || (!own && !action_name_valid(ns)))
        return own ? RESOLVE_BAD_NAME : forbid(out, ns, pkg ? pkg : name, pkg ? name : NULL);
    json_t *pkg_doc = NULL, *provider_doc = NULL;
    const char *owner = ns, *owner_pkg = NULL;
    resolve_status rs = RESOLVE_OK;
    if (pkg) {
        rs = follow_package(s, caller, ns, pkg, name, out, &owner, &owner_pkg, &pkg_doc, &provider_doc);
    } else if (!own) {
        rs = forbid(out, ns, name, NULL); /* outside packages everything is private */
    } else if (!(out->params = json_object())) {
        rs = RESOLVE_ERROR;
    }
    if (rs == RESOLVE_OK) {
        snprintf(out->ns, sizeof out->ns, "%s", owner);
        snprintf(out->name, sizeof out->name, "%s", name);
        if (owner_pkg) snprintf(out->store_name, sizeof out->store_name, "%s/%s", owner_pkg, name);
        else snprintf(out->store_name, sizeof out->store_name, "%s", name);
        snprintf(out->path, sizeof out->path, "%s/%s", out->ns, out->store_name);
        out->foreign = strcmp(out->ns, caller) != 0;
        rs = from_store(store_action_peek(s, out->ns, out->store_name, &out->action));
        if (rs == RESOLVE_OK && out->foreign) rs = from_store(store_namespace_id(s, out->ns, out->ns_id));
    }
    json_decref(pkg_doc);
    json_decref(provider_doc);
    if (rs != RESOLVE_OK) {
        char denied[sizeof out->denied];
        memcpy(denied, out->denied, sizeof denied);
        resolved_clear(s, out);
        memcpy(out->denied, denied, sizeof denied);
    }
    return rs;
}

resolve_status resolve_action_text(store *s, const char *caller, const char *text, resolved_action *out) {
    entity_name en;
    memset(out, 0, sizeof *out);
    if (entity_name_parse(text, &en) != ENTITY_NAME_OK) return RESOLVE_BAD_NAME;
    return resolve_action(s, caller, en.ns, en.pkg, en.name, out);
}

void resolved_clear(store *s, resolved_action *r) {
    json_decref(r->params);
    store_action_unpeek(s, r->action);
    memset(r, 0, sizeof *r);
}

json_t *resolved_params(const resolved_action *r, const json_t *given) {
    json_t *params = json_deep_copy(r->params);
    json_t *defaults = json_kv_to_object(json_object_get(r->action, "parameters"));
    if (!params || !defaults || json_object_update(params, defaults) < 0 ||
        (given && json_object_update(params, (json_t *)given) < 0)) {
        json_decref(params);
        params = NULL;
    }
    json_decref(defaults);
    return params;
}
