/* feeds.c - POST /namespaces/whisk.system/actions/alarms/{alarm,once,interval}:
 * the alarms feed actions, served by tfaas itself (host-side, no
 * JavaScript). They speak OpenWhisk's feed protocol: the body carries
 * lifecycleEvent (CREATE, READ, UPDATE, DELETE, PAUSE, UNPAUSE), triggerName
 * (/NS/NAME, the caller's own trigger), authKey (unused: the request's own
 * credentials are the caller's) and the feed's parameters. The answer is an
 * activation of the feed action, blocking or not, stored like any other;
 * a refused event is an application error (502 when blocking), as a feed
 * action's failure is in OpenWhisk. */
#include "host/gateway/alarms.h"
#include "host/gateway/entity_doc.h"
#include "host/gateway/gateway_internal.h"
#include "host/gateway/query.h"

#include "host/store/store_entities.h"
#include "host/util/clock.h"
#include "host/util/ids.h"
#include "host/util/json.h"

#include <stdio.h>
#include <string.h>

#define FEED_NAMESPACE "whisk.system"
#define FEED_PACKAGE "alarms"

int feeds_route(const http_req *r) {
    return r->rt.kind == ROUTE_ACTION && r->rt.pkg && !strcmp(r->rt.ns, FEED_NAMESPACE) &&
           !strcmp(r->rt.pkg, FEED_PACKAGE) && alarm_feed_known(r->rt.name);
}

/* One lifecycle event on the schedule of ns/trigger. Each handler returns
 * the store's status and, on STORE_OK, the event's result in *res; a
 * refusal of the parameters is STORE_ERROR with its message already in err
 * (*refused set). */
typedef struct {
    http_req *r;
    const char *feed, *ns, *trigger;
    const json_t *params;
    int64_t now;
    char *err;
    size_t errsize;
    int refused;
} feed_event;

static store_status ev_create(feed_event *e, json_t **res) {
    json_t *doc = alarm_schedule_build(e->feed, e->params, e->now, e->err, e->errsize);
    if (!doc) return e->refused = 1, STORE_ERROR;
    store_status ss = store_alarm_put(e->r->gw->store, e->ns, e->trigger, doc, alarm_schedule_next(doc, e->now), 1);
    json_decref(doc);
    *res = json_object();
    return ss;
}

static store_status ev_delete(feed_event *e, json_t **res) {
    *res = json_object();
    return store_alarm_delete(e->r->gw->store, e->ns, e->trigger);
}

static store_status ev_read(feed_event *e, json_t **res) {
    json_t *old = NULL;
    int64_t next = STORE_ALARM_NONE;
    store_status ss = store_alarm_get(e->r->gw->store, e->ns, e->trigger, &old, &next);
    if (ss == STORE_OK) {
        json_object_del(old, "origin");
        *res = json_pack("{s:o, s:{s:b, s:o}}", "config", old, "status", "active", next != STORE_ALARM_NONE,
                         "nextFire", next != STORE_ALARM_NONE ? json_integer(next) : json_null());
    }
    return ss;
}

/* The stored schedule with `change` applied, stored again: UPDATE builds it
 * anew from the given parameters over the kept ones (the feed stays the
 * same); PAUSE and UNPAUSE set or clear `paused`. A DELETE that lands
 * between the read and the write (another request, another node) wins: the
 * write only replaces a schedule that is still there. */
static store_status ev_change(feed_event *e, json_t **res, int pause) {
    store *st = e->r->gw->store;
    json_t *old = NULL;
    store_status ss = store_alarm_get(st, e->ns, e->trigger, &old, NULL);
    if (ss != STORE_OK) return ss;
    json_t *doc = NULL;
    if (pause < 0) {
        json_t *merged = json_deep_copy(old);
        if (merged) {
            json_object_set(merged, "trigger_payload", json_object_get(old, "payload"));
            json_object_update(merged, (json_t *)e->params);
        }
        doc = merged ? alarm_schedule_build(json_get_str(old, "feed", ""), merged, e->now, e->err, e->errsize) : NULL;
        json_decref(merged);
        if (!doc) {
            json_decref(old);
            return e->refused = 1, STORE_ERROR;
        }
        if (json_object_get(old, "paused")) json_object_set_new(doc, "paused", json_true());
    } else {
        doc = json_incref(old);
        if (pause) json_object_set_new(doc, "paused", json_true());
        else json_object_del(doc, "paused");
    }
    int64_t next = json_object_get(doc, "paused") ? STORE_ALARM_NONE : alarm_schedule_next(doc, e->now);
    ss = store_alarm_put(st, e->ns, e->trigger, doc, next, 0);
    json_decref(doc);
    json_decref(old);
    *res = json_object();
    return ss;
}

static store_status ev_update(feed_event *e, json_t **res) { return ev_change(e, res, -1); }
static store_status ev_pause(feed_event *e, json_t **res) { return ev_change(e, res, 1); }
static store_status ev_unpause(feed_event *e, json_t **res) { return ev_change(e, res, 0); }

static const struct {
    const char *name;
    store_status (*run)(feed_event *e, json_t **res);
} EVENTS[] = {
    {"CREATE", ev_create}, {"READ", ev_read}, {"UPDATE", ev_update},
    {"DELETE", ev_delete}, {"PAUSE", ev_pause}, {"UNPAUSE", ev_unpause},
};

/* Runs lifecycle event `event` on ns/trigger: the result object, or NULL
 * with the error message in err. */
static json_t *lifecycle(http_req *r, const char *event, const char *ns, const char *trigger, const json_t *params,
                         char *err, size_t errsize) {
    feed_event e = {r, r->rt.name, ns, trigger, params, clock_wall_ms(), err, errsize, 0};
    size_t i = 0;
    while (i < sizeof EVENTS / sizeof EVENTS[0] && strcmp(EVENTS[i].name, event) != 0) i++;
    if (i == sizeof EVENTS / sizeof EVENTS[0]) {
        snprintf(err, errsize, "lifecycleEvent must be one of CREATE, READ, UPDATE, DELETE, PAUSE, UNPAUSE");
        return NULL;
    }
    json_t *res = NULL;
    store_status ss = EVENTS[i].run(&e, &res);
    if (ss == STORE_OK && res) {
        alarms_wake(r->gw->alarms);
        return res;
    }
    json_decref(res);
    if (e.refused) return NULL; /* err says why */
    if (ss == STORE_OK) snprintf(err, errsize, "The server ran out of memory");
    else if (ss == STORE_CONFLICT) snprintf(err, errsize, "trigger /%.200s/%.200s has an alarm already", ns, trigger);
    else if (ss == STORE_NOT_FOUND && !strcmp(event, "CREATE"))
        snprintf(err, errsize, "trigger /%.200s/%.200s does not exist", ns, trigger);
    else if (ss == STORE_NOT_FOUND) snprintf(err, errsize, "trigger /%.200s/%.200s has no alarm", ns, trigger);
    else snprintf(err, errsize, "The platform's store failed to serve the request");
    return NULL;
}

enum MHD_Result feeds_handle(http_req *r) {
    if (route_method_bit(r->method) != ROUTE_POST)
        return http_error(r->conn, MHD_HTTP_FORBIDDEN, "The feed actions of whisk.system/alarms can only be invoked");
    int blocking, result_only;
    if (query_bool(req_query(r, "blocking"), 0, &blocking) < 0) return req_bad_query(r, "blocking", "true or false");
    if (query_bool(req_query(r, "result"), 0, &result_only) < 0) return req_bad_query(r, "result", "true or false");
    enum MHD_Result sent = MHD_NO;
    json_t *params = req_body_object(r, "parameters", &sent);
    if (!params) return sent;
    char err[512] = "", ns[ENTITY_NS_MAX], trigger[ENTITY_NAME_MAX];
    const char *event = json_get_str(params, "lifecycleEvent", NULL), *given = json_get_str(params, "triggerName", NULL);
    json_t *result = NULL;
    entity_ref_result rr = ENTITY_REF_BAD_NAME;
    if (!event || !given)
        snprintf(err, sizeof err, "the feed requires the parameters lifecycleEvent and triggerName");
    else if ((rr = entity_resolve(r->ns, given, ns, trigger)) != ENTITY_REF_OK)
        snprintf(err, sizeof err, "triggerName '%.300s' is %s", given, entity_ref_result_name(rr));
    else if (strcmp(ns, r->ns) != 0) /* a feed only ever serves the caller's own triggers */
        snprintf(err, sizeof err, "The supplied authentication is not authorized to access '%.256s'.", ns);
    else
        result = lifecycle(r, event, ns, trigger, params, err, sizeof err);
    json_decref(params);

    /* The feed action's activation, stored like any other. */
    char id[33], path[64];
    int64_t now = clock_wall_ms();
    snprintf(path, sizeof path, "%s/%s/%s", FEED_NAMESPACE, FEED_PACKAGE, r->rt.name);
    int ok = result != NULL;
    if (!ok) result = json_pack("{s:s}", "error", err);
    json_t *rec = ids_activation(id) == 0 && result
                      ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:{s:s, s:i, s:b, s:O}, s:[], "
                                  "s:[{s:s, s:s}], s:b}",
                                  "namespace", r->ns, "name", r->rt.name, "version", "0.0.1", "subject", r->ns,
                                  "activationId", id, "start", (json_int_t)now, "end", (json_int_t)now, "duration", 0,
                                  "response", "status", ok ? "success" : "application error", "statusCode", ok ? 0 : 1,
                                  "success", ok, "result", result, "logs", "annotations", "key", "path", "value", path,
                                  "publish", 0)
                      : NULL;
    json_decref(result);
    if (!rec) return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The server ran out of memory");
    /* The answer is a copy: the store writer frees the record it is given
     * when it pleases, and jansson's reference counts would not order that
     * free after this thread's reads of a shared one (TSan saw it). */
    json_t *answer = !blocking ? json_pack("{ss}", "activationId", id)
                     : result_only ? json_deep_copy(json_object_get(json_object_get(rec, "response"), "result"))
                                   : json_deep_copy(rec);
    store_activation_put(r->gw->store, rec, r->ns_id, NULL, NULL);
    http_header hdr = {"x-openwhisk-activation-id", id};
    return http_reply_json(r->conn, !blocking ? MHD_HTTP_ACCEPTED : ok ? MHD_HTTP_OK : MHD_HTTP_BAD_GATEWAY, answer, &hdr);
}
