/* rules.c - rules: list, create/update (PUT), get, delete, and enable or
 * disable (POST {status}). A rule links a trigger of its own namespace to
 * an action the namespace may invoke (the trigger named through
 * entity_resolve, entity_doc.h; the action through resolve.h, as an invoke
 * names it, packages included); both must exist when the rule is written,
 * with OpenWhisk's statuses and messages otherwise. The status lives in
 * the rule's document; triggers.c reads it when the trigger fires. */
#include "host/gateway/action_doc.h"
#include "host/gateway/entity_doc.h"
#include "host/gateway/gateway_internal.h"
#include "host/gateway/query.h"
#include "host/gateway/resolve.h"

#include "host/store/store_entities.h"
#include "host/util/json.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    char ns[RESOLVE_PATH_MAX]; /* the document's "path": NS, or NS/PKG for an action in a package */
    char name[ENTITY_NAME_MAX];
} entity_ref;

/* A rule's action: any the namespace may invoke, resolved as an invoke
 * resolves it (resolve.h: its own, in its packages and bindings, or in
 * another namespace's published package). 0, or -1 with the answer queued. */
static int check_action(http_req *r, const char *given, entity_ref *out, enum MHD_Result *sent) {
    resolved_action ra;
    resolve_status rs = resolve_action_text(r->gw->store, r->ns, given, &ra);
    switch (rs) {
    case RESOLVE_OK: break;
    case RESOLVE_FORBIDDEN:
        *sent = http_error(r->conn, MHD_HTTP_FORBIDDEN,
                           "The supplied authentication is not authorized to access '%.256s'.", ra.denied);
        return -1;
    case RESOLVE_NOT_FOUND:
        /* fully qualified, as OpenWhisk says it: /NS/[PKG/]NAME */
        if (given[0] != '/' || !strncmp(given, "/_/", 3))
            *sent = http_error(r->conn, MHD_HTTP_BAD_REQUEST, "action /%.256s/%.300s does not exist", r->ns,
                               given[0] == '/' ? given + 3 : given);
        else
            *sent = http_error(r->conn, MHD_HTTP_BAD_REQUEST, "action %.600s does not exist", given);
        return -1;
    case RESOLVE_BAD_NAME:
        *sent = http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The action name '%.300s' is not valid", given);
        return -1;
    default: *sent = req_store_error(r); return -1;
    }
    /* Stored as OpenWhisk names it: path "NS[/PKG]" (a binding stays the
     * binding, so it is resolved again when the trigger fires) and name. */
    const char *last = strrchr(ra.path, '/');
    snprintf(out->name, sizeof out->name, "%s", ra.name);
    if (ra.binding[0]) snprintf(out->ns, sizeof out->ns, "%s", ra.binding);
    else snprintf(out->ns, sizeof out->ns, "%.*s", last ? (int)(last - ra.path) : 0, ra.path);
    resolved_clear(r->gw->store, &ra);
    return 0;
}

/* Resolves and checks a rule's trigger (is_action 0) or action: 0, or -1
 * with the answer queued. */
static int check_ref(http_req *r, const char *given, int is_action, entity_ref *out, enum MHD_Result *sent) {
    if (is_action) return check_action(r, given, out, sent);
    const char *what = "trigger";
    entity_ref_result res = entity_resolve(r->ns, given, out->ns, out->name);
    if (res != ENTITY_REF_OK) {
        *sent = http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The %s name '%.300s' is %s", what, given,
                           entity_ref_result_name(res));
        return -1;
    }
    /* A namespace's trigger is its own. */
    if (strcmp(out->ns, r->ns) != 0) {
        *sent = http_error(r->conn, MHD_HTTP_FORBIDDEN,
                           "The supplied authentication is not authorized to access '%.256s'.", out->ns);
        return -1;
    }
    json_t *doc = NULL;
    store_status st = store_entity_get(r->gw->store, STORE_ENTITY_TRIGGER, out->ns, out->name, &doc);
    json_decref(doc);
    if (st == STORE_NOT_FOUND) {
        *sent = http_error(r->conn, MHD_HTTP_BAD_REQUEST, "%s /%s/%s does not exist", what, out->ns, out->name);
        return -1;
    }
    if (st != STORE_OK) {
        *sent = req_store_error(r);
        return -1;
    }
    return 0;
}

/* The stored {path, name} of a rule's trigger or action as a name to resolve. */
static void ref_text(const json_t *ref, char *out, size_t size) {
    snprintf(out, size, "/%s/%s", json_get_str(ref, "path", ""), json_get_str(ref, "name", ""));
}

static enum MHD_Result put(http_req *r) {
    int overwrite;
    if (query_bool(req_query(r, "overwrite"), 0, &overwrite) < 0) return req_bad_query(r, "overwrite", "true or false");
    enum MHD_Result sent = MHD_NO;
    json_t *body = req_body_json(r, 0, &sent);
    if (!body) return sent;
    json_t *old = NULL;
    if (overwrite && store_entity_get(r->gw->store, STORE_ENTITY_RULE, r->ns, r->rt.name, &old) == STORE_ERROR) {
        json_decref(body);
        return req_store_error(r);
    }
    /* The trigger and the action: the body's, else (update) the stored ones. */
    char old_trigger[ENTITY_NS_MAX + ENTITY_NAME_MAX + 2], old_action[ENTITY_NS_MAX + ENTITY_NAME_MAX + 2];
    ref_text(json_object_get(old, "trigger"), old_trigger, sizeof old_trigger);
    ref_text(json_object_get(old, "action"), old_action, sizeof old_action);
    const json_t *tv = json_object_get(body, "trigger"), *av = json_object_get(body, "action");
    const char *trigger = json_is_string(tv) ? json_string_value(tv) : old && !tv ? old_trigger : NULL;
    const char *action = json_is_string(av) ? json_string_value(av) : old && !av ? old_action : NULL;
    char err[256];
    json_t *doc = json_is_object(body) ? entity_rule_build(body, old, err, sizeof err) : NULL;
    if (!json_is_object(body)) snprintf(err, sizeof err, "The request content was malformed: the rule must be a JSON object");
    else if (doc && (!trigger || !action)) {
        snprintf(err, sizeof err, "rule requires a valid trigger and a valid action");
        json_decref(doc);
        doc = NULL;
    }
    entity_ref t, a;
    int refs_ok = doc && check_ref(r, trigger, 0, &t, &sent) == 0 && check_ref(r, action, 1, &a, &sent) == 0;
    const char *status = json_get_str(old, "status", "active"); /* an update keeps it */
    if (refs_ok && (json_object_set_new(doc, "trigger", json_pack("{s:s, s:s}", "path", t.ns, "name", t.name)) < 0 ||
                    json_object_set_new(doc, "action", json_pack("{s:s, s:s}", "path", a.ns, "name", a.name)) < 0 ||
                    json_object_set_new(doc, "status", json_string(status)) < 0)) {
        refs_ok = 0;
        sent = http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The server ran out of memory");
    }
    json_decref(body);
    json_decref(old);
    if (!doc) return http_error(r->conn, MHD_HTTP_BAD_REQUEST, "%s", err);
    if (!refs_ok) {
        json_decref(doc);
        return sent;
    }
    json_t *stored = NULL;
    int64_t held = 0;
    store_status st = store_entity_put_bounded(r->gw->store, STORE_ENTITY_RULE, r->ns, r->rt.name, doc, t.name,
                                               overwrite, &held, &stored);
    json_decref(doc);
    if (st == STORE_CONFLICT) return entity_put_refused(r, held, "rules");
    if (st == STORE_NOT_FOUND) /* deleted since check_ref looked (through another node) */
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST, "trigger /%s/%s does not exist", t.ns, t.name);
    if (st != STORE_OK) return req_store_error(r);
    return http_reply_json(r->conn, MHD_HTTP_OK, stored, NULL);
}

/* POST {status: "active" | "inactive"}: 200 once the rule is in that state. */
static enum MHD_Result set_status(http_req *r) {
    enum MHD_Result sent = MHD_NO;
    json_t *body = req_body_json(r, 0, &sent);
    if (!body) return sent;
    const char *want = json_get_str(body, "status", "");
    if (strcmp(want, "active") != 0 && strcmp(want, "inactive") != 0) {
        json_decref(body);
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST,
                          "The request content was malformed: status must be \"active\" or \"inactive\"");
    }
    json_t *rule = NULL, *trigger = NULL;
    store_status st = store_entity_get(r->gw->store, STORE_ENTITY_RULE, r->ns, r->rt.name, &rule);
    if (st == STORE_OK)
        st = store_entity_get(r->gw->store, STORE_ENTITY_TRIGGER, r->ns,
                              json_get_str(json_object_get(rule, "trigger"), "name", ""), &trigger);
    json_decref(trigger);
    enum MHD_Result ret;
    if (st == STORE_NOT_FOUND && !rule) ret = http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    else if (st == STORE_NOT_FOUND) /* OpenWhisk's words */
        ret = http_error(r->conn, MHD_HTTP_NOT_FOUND, "Only rules with existing triggers can be activated");
    else if (st != STORE_OK) ret = req_store_error(r);
    else if (!strcmp(json_get_str(rule, "status", "active"), want)) ret = http_reply_json(r->conn, MHD_HTTP_OK, json_object(), NULL);
    else {
        json_object_set_new(rule, "status", json_string(want));
        const char *ref = json_get_str(json_object_get(rule, "trigger"), "name", "");
        st = store_entity_put(r->gw->store, STORE_ENTITY_RULE, r->ns, r->rt.name, rule, ref, 1, NULL);
        if (st == STORE_NOT_FOUND) /* the trigger went since it was read */
            ret = http_error(r->conn, MHD_HTTP_NOT_FOUND, "Only rules with existing triggers can be activated");
        else ret = st == STORE_OK ? http_reply_json(r->conn, MHD_HTTP_OK, json_object(), NULL) : req_store_error(r);
    }
    json_decref(rule);
    json_decref(body);
    return ret;
}

static enum MHD_Result get(http_req *r) {
    json_t *doc = NULL, *trigger = NULL;
    store_status st = store_entity_get(r->gw->store, STORE_ENTITY_RULE, r->ns, r->rt.name, &doc);
    if (st == STORE_NOT_FOUND) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    if (st != STORE_OK) return req_store_error(r);
    /* OpenWhisk: a rule whose trigger is gone is inactive */
    st = store_entity_get(r->gw->store, STORE_ENTITY_TRIGGER, r->ns,
                          json_get_str(json_object_get(doc, "trigger"), "name", ""), &trigger);
    json_decref(trigger);
    if (st == STORE_NOT_FOUND) json_object_set_new(doc, "status", json_string("inactive"));
    return http_reply_json(r->conn, MHD_HTTP_OK, doc, NULL);
}

static enum MHD_Result del(http_req *r) {
    json_t *doc = NULL;
    store_status st = store_entity_delete(r->gw->store, STORE_ENTITY_RULE, r->ns, r->rt.name, &doc);
    if (st == STORE_NOT_FOUND) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    if (st != STORE_OK) return req_store_error(r);
    json_object_set_new(doc, "status", json_string("inactive")); /* as OpenWhisk answers a delete */
    return http_reply_json(r->conn, MHD_HTTP_OK, doc, NULL);
}

enum MHD_Result rules_handle(http_req *r) {
    if (r->rt.kind == ROUTE_RULES) return entity_list_handle(r, STORE_ENTITY_RULE, "rules");
    if (!action_name_valid(r->rt.name))
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The rule name '%.300s' is not valid", r->rt.name);
    switch (route_method_bit(r->method)) {
    case ROUTE_PUT: return put(r);
    case ROUTE_POST: return set_status(r);
    case ROUTE_DELETE: return del(r);
    default: return get(r);
    }
}
