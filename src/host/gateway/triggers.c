/* triggers.c - triggers: list, create/update (PUT), get, delete, and fire
 * (POST): every active rule of the trigger runs its action through the
 * gateway's one internal invoke entry point (invoke.h), and the trigger's
 * own activation records which rules ran with which activation ids, as
 * OpenWhisk's does. */
#include "host/gateway/action_doc.h"
#include "host/gateway/entity_doc.h"
#include "host/gateway/gateway_internal.h"
#include "host/gateway/query.h"
#include "host/gateway/triggers.h"

#include "host/store/store_entities.h"
#include "host/util/clock.h"
#include "host/util/ids.h"
#include "host/util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One rule's line in the trigger activation's logs, as OpenWhisk writes it:
 * the JSON text of {statusCode, success, activationId | error, rule, action}. */
static json_t *rule_log(const char *ns, const json_t *rule, gateway *gw, const invoke_caller *c, const json_t *args,
                        const char *trigger_id) {
    const json_t *action = json_object_get(rule, "action");
    const char *rule_name = json_get_str(rule, "name", "");
    const char *action_ns = json_get_str(action, "path", ""), *action_name = json_get_str(action, "name", "");
    char rule_fqn[2 * ENTITY_NAME_MAX], rule_action_fqn[4 * ENTITY_NAME_MAX];
    snprintf(rule_fqn, sizeof rule_fqn, "%s/%s", ns, rule_name);
    snprintf(rule_action_fqn, sizeof rule_action_fqn, "%s/%s", action_ns, action_name);
    char id[33], msg[2400];
    int status = 0;
    if (strcmp(json_get_str(rule, "status", "active"), "active") != 0) {
        snprintf(msg, sizeof msg, "Rule '%s' is inactive, action '%s' was not activated.", rule_fqn, rule_action_fqn);
        status = 1; /* OpenWhisk: an application error */
    } else {
        /* "NS[/PKG]/NAME" resolved again now (resolve.h): a package that
         * was unpublished or deleted since the rule was made refuses it. */
        char qualified[4 * ENTITY_NAME_MAX + 2];
        snprintf(qualified, sizeof qualified, "/%s", rule_action_fqn);
        invoke_status st = gateway_invoke_async(gw, c, qualified, args, trigger_id, id, msg, sizeof msg);
        /* As OpenWhisk: what a 5xx would say is a whisk error, the rest the application's */
        if (st != INVOKE_OK)
            status = st == INVOKE_NOT_FOUND || st == INVOKE_FORBIDDEN || st == INVOKE_BAD_NAME ||
                             st == INVOKE_CONFIDENTIAL || st == INVOKE_REFUSED
                         ? 1 : 3;
    }
    json_t *line = json_pack("{s:i, s:b, s:s, s:s}", "statusCode", status, "success", status == 0, "rule", rule_fqn,
                             "action", rule_action_fqn);
    if (line) json_object_set_new(line, status == 0 ? "activationId" : "error", json_string(status == 0 ? id : msg));
    /* OpenWhisk's logs are strings: each line is the object's JSON text */
    char *text = line ? json_dump_compact(line) : NULL;
    json_decref(line);
    json_t *out = text ? json_string(text) : NULL;
    free(text);
    return out;
}

fire_status trigger_fire(gateway *gw, const invoke_caller *c, const char *name, const json_t *payload,
                         const json_t *annotations, char id_out[33]) {
    json_t *trigger = NULL, *rules = NULL;
    store_status st = store_entity_get(gw->store, STORE_ENTITY_TRIGGER, c->ns, name, &trigger);
    if (st != STORE_OK) return st == STORE_NOT_FOUND ? FIRE_NOT_FOUND : FIRE_ERROR;
    if (store_entity_by_ref(gw->store, STORE_ENTITY_RULE, c->ns, name, &rules) != STORE_OK) {
        json_decref(trigger);
        return FIRE_ERROR;
    }
    size_t i;
    json_t *rule;
    int active = 0;
    json_array_foreach(rules, i, rule) active |= !strcmp(json_get_str(rule, "status", "active"), "active");
    if (!active) {
        json_decref(trigger);
        json_decref(rules);
        return FIRE_NO_ACTIVE_RULE;
    }
    json_t *args = json_kv_to_object(json_object_get(trigger, "parameters"));
    json_t *logs = json_array();
    int64_t start = clock_wall_ms();
    fire_status out = args && logs && json_object_update(args, (json_t *)payload) == 0 && ids_activation(id_out) == 0
                          ? FIRE_OK : FIRE_ERROR;
    /* Every rule gets a line, the inactive ones too (OpenWhisk's record). */
    json_array_foreach(rules, i, rule) {
        if (out != FIRE_OK) break;
        if (json_array_append_new(logs, rule_log(c->ns, rule, gw, c, args, id_out)) < 0) out = FIRE_ERROR;
    }
    json_t *rec = out == FIRE_OK
                      ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:{s:s, s:i, s:b, s:o}, s:o, s:o, s:b}",
                                  "namespace", c->ns, "name", name, "version",
                                  json_get_str(trigger, "version", "0.0.1"), "subject", c->ns, "activationId", id_out,
                                  "start", (json_int_t)start, "end", (json_int_t)start, "duration", 0, "response",
                                  "status", "success", "statusCode", 0, "success", 1, "result",
                                  json_deep_copy(payload), "logs", json_incref(logs), "annotations",
                                  annotations ? json_deep_copy(annotations) : json_array(), "publish", 0)
                      : NULL;
    if (out == FIRE_OK && !rec) out = FIRE_ERROR;
    /* rec shares nothing this thread still holds (its result is a copy of
     * the payload, whose values args shares; our logs reference goes
     * first): the store writer frees it when it pleases, and jansson's
     * counts would not order that free after our last use (TSan). */
    json_decref(logs);
    /* Queued as any activation record; it is readable once committed. */
    if (rec) store_activation_put(gw->store, rec, c->ns_id, NULL, NULL);
    json_decref(args);
    json_decref(trigger);
    json_decref(rules);
    return out;
}

/* The trigger as GET answers it: with its rules, {"NS/RULE": {action,
 * status}}, as OpenWhisk's trigger document carries them. */
static json_t *with_rules(http_req *r, json_t *trigger) {
    json_t *rules = NULL, *map = json_object();
    if (!map || store_entity_by_ref(r->gw->store, STORE_ENTITY_RULE, r->ns, json_get_str(trigger, "name", ""), &rules) !=
                    STORE_OK) {
        json_decref(map);
        return trigger;
    }
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule) {
        char key[2 * ENTITY_NAME_MAX];
        snprintf(key, sizeof key, "%s/%s", r->ns, json_get_str(rule, "name", ""));
        json_object_set_new(map, key, json_pack("{s:O, s:s}", "action", json_object_get(rule, "action"), "status",
                                                json_get_str(rule, "status", "active")));
    }
    if (json_object_size(map)) json_object_set(trigger, "rules", map);
    json_decref(map);
    json_decref(rules);
    return trigger;
}

static enum MHD_Result put(http_req *r) {
    int overwrite;
    if (query_bool(req_query(r, "overwrite"), 0, &overwrite) < 0) return req_bad_query(r, "overwrite", "true or false");
    enum MHD_Result sent = MHD_NO;
    json_t *body = req_body_json(r, 1, &sent);
    if (!body) return sent;
    json_t *old = NULL;
    if (overwrite && store_entity_get(r->gw->store, STORE_ENTITY_TRIGGER, r->ns, r->rt.name, &old) == STORE_ERROR) {
        json_decref(body);
        return req_store_error(r);
    }
    char err[256];
    json_t *doc = entity_trigger_build(body, old, err, sizeof err);
    json_decref(body);
    json_decref(old);
    if (!doc) return http_error(r->conn, MHD_HTTP_BAD_REQUEST, "%s", err);
    json_t *stored = NULL;
    int64_t held = 0;
    store_status st = store_entity_put_bounded(r->gw->store, STORE_ENTITY_TRIGGER, r->ns, r->rt.name, doc, NULL,
                                               overwrite, &held, &stored);
    json_decref(doc);
    if (st == STORE_CONFLICT) return entity_put_refused(r, held, "triggers");
    if (st != STORE_OK) return req_store_error(r);
    return http_reply_json(r->conn, MHD_HTTP_OK, stored, NULL);
}

static enum MHD_Result fire(http_req *r) {
    if (atomic_load(&r->gw->stopping))
        return http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "The platform is shutting down");
    enum MHD_Result sent = MHD_NO;
    json_t *payload = req_body_object(r, "payload", &sent);
    if (!payload) return sent;
    invoke_caller caller = {r->ns, r->ns_id, r->tenant};
    char id[33];
    fire_status st = trigger_fire(r->gw, &caller, r->rt.name, payload, NULL, id);
    json_decref(payload);
    switch (st) {
    case FIRE_OK: {
        http_header hdr = {"x-openwhisk-activation-id", id};
        return http_reply_json(r->conn, MHD_HTTP_ACCEPTED, json_pack("{ss}", "activationId", id), &hdr);
    }
    case FIRE_NO_ACTIVE_RULE: /* OpenWhisk: 204, and no trigger activation */
        return http_reply_bytes(r->conn, MHD_HTTP_NO_CONTENT, "application/json", NULL, 0, NULL, 0);
    case FIRE_NOT_FOUND: return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    case FIRE_ERROR: break;
    }
    return req_store_error(r);
}

static enum MHD_Result get(http_req *r) {
    json_t *doc = NULL;
    store_status st = store_entity_get(r->gw->store, STORE_ENTITY_TRIGGER, r->ns, r->rt.name, &doc);
    if (st == STORE_NOT_FOUND) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    if (st != STORE_OK) return req_store_error(r);
    return http_reply_json(r->conn, MHD_HTTP_OK, with_rules(r, doc), NULL);
}

static enum MHD_Result del(http_req *r) {
    json_t *doc = NULL;
    /* its alarm schedule goes with it and its rules become inactive
     * (store_entity_delete), as OpenWhisk's links go with the trigger */
    store_status st = store_entity_delete(r->gw->store, STORE_ENTITY_TRIGGER, r->ns, r->rt.name, &doc);
    if (st == STORE_NOT_FOUND) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    if (st != STORE_OK) return req_store_error(r);
    return http_reply_json(r->conn, MHD_HTTP_OK, doc, NULL);
}

enum MHD_Result triggers_handle(http_req *r) {
    if (r->rt.kind == ROUTE_TRIGGERS) return entity_list_handle(r, STORE_ENTITY_TRIGGER, "triggers");
    if (!action_name_valid(r->rt.name))
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The trigger name '%.300s' is not valid", r->rt.name);
    switch (route_method_bit(r->method)) {
    case ROUTE_PUT: return put(r);
    case ROUTE_POST: return fire(r);
    case ROUTE_DELETE: return del(r);
    default: return get(r);
    }
}
