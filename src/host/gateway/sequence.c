/* sequence.c - OpenWhisk sequences: an action whose exec is {kind
 * "sequence", components: ["/ns/name", ...]}.
 *
 * At create (sequence_resolve): every component is named fully
 * ("/namespace/name"), exists, is not confidential, and the sequence,
 * nested ones flattened, runs at most ACTION_SEQUENCE_MAX actions and never
 * itself (OpenWhisk's checks and messages).
 *
 * At invocation (sequence_start, invoke_start's branch): the sequence gets
 * its own activation (invoke_pending) and runs its components one after the
 * other through invoke_start, each result the next one's parameters (the
 * first gets the sequence's parameters merged over its own, as any action).
 * The first component that does not succeed stops it; its result and
 * status become the sequence's. Each component is looked up when its turn
 * comes (as in OpenWhisk), on the thread that finished the previous one.
 * The sequence's record lists its components' activation ids as its logs.
 *
 * Threads: a run is touched by one thread at a time: the caller of
 * sequence_start until the first component is submitted, then whichever
 * thread finishes each component (its `then` callback), handed over through
 * the scheduler's locks. No lock of its own. */
#include "host/gateway/invoke.h"

#include "host/util/clock.h"
#include "host/util/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    gateway *gw;
    invocation *self;   /* the sequence's own activation; invoke_finish ends it */
    json_t *components; /* the stored names, "/ns/name" */
    size_t next;        /* the component to run next */
    json_t *params;     /* its parameters */
    json_t *ids;        /* activation ids of the components run so far */
    char *ns, *ns_id, *tenant;
    int depth;          /* this sequence's own depth (1 for a topmost one) */
    int64_t start_ms;
} seq_run;

static void run_free(seq_run *run) {
    json_decref(run->components);
    json_decref(run->params);
    json_decref(run->ids);
    free(run->ns); free(run->ns_id); free(run->tenant);
    free(run);
}

/* Ends the sequence with status and result (stolen): its record is built
 * and stored as the scheduler's completion would be. */
static void finish(seq_run *run, tfaas_status status, json_t *result) {
    char *logs = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&logs, &len);
    size_t i;
    json_t *id;
    if (f) {
        json_array_foreach(run->ids, i, id) fprintf(f, "%s%s", i ? "\n" : "", json_string_value(id));
        fclose(f);
    }
    char *text = result ? json_dump_compact(result) : NULL;
    json_decref(result);
    int64_t ms = clock_wall_ms() - run->start_ms;
    sched_result res = {
        .status = text ? status : TFAAS_STATUS_INTERNAL_ERR,
        .result_json = text ? text : strdup("{\"error\": \"The server ran out of memory\"}"),
        .logs = logs ? logs : strdup(""),
        .duration_us = ms > 0 ? (uint64_t)ms * 1000u : 0,
    };
    invocation *self = run->self;
    run_free(run);
    invoke_finish(self, &res); /* may run the enclosing sequence's next component */
}

static void finish_error(seq_run *run, tfaas_status status, const char *msg) {
    finish(run, status, json_pack("{ss}", "error", msg));
}

static void on_component(void *ud, const json_t *record);

/* Starts component run->next, or finishes when none is left. */
static void step(seq_run *run) {
    if (run->next == json_array_size(run->components)) {
        json_t *result = run->params;
        run->params = NULL;
        finish(run, TFAAS_STATUS_SUCCESS, result);
        return;
    }
    const char *component = json_string_value(json_array_get(run->components, run->next));
    if (atomic_load(&run->gw->stopping)) {
        finish_error(run, TFAAS_STATUS_INTERNAL_ERR, "The platform is shutting down");
        return;
    }
    /* "/NS/[PKG/]NAME" as sequence_resolve stored it, resolved now (resolve.h):
     * a package unpublished since refuses it as an invoke would. */
    resolved_action ra;
    resolve_status rs = resolve_action_text(run->gw->store, run->ns, component ? component : "", &ra);
    if (rs != RESOLVE_OK) {
        finish_error(run, rs == RESOLVE_ERROR ? TFAAS_STATUS_INTERNAL_ERR : TFAAS_STATUS_APPLICATION_ERR,
                     rs == RESOLVE_ERROR ? "The platform's store failed to serve the request"
                                         : "Sequence component does not exist.");
        return;
    }
    /* Copies: invoke_start may still read them after the component has
     * finished and the run is gone. */
    char ns[GATEWAY_NS_MAX], ns_id[STORE_NSID_LEN + 1], tenant[GATEWAY_NS_MAX + 1 + STORE_NSID_LEN], cause[33];
    snprintf(ns, sizeof ns, "%s", run->ns);
    snprintf(ns_id, sizeof ns_id, "%s", run->ns_id);
    snprintf(tenant, sizeof tenant, "%s", run->tenant);
    snprintf(cause, sizeof cause, "%s", invoke_id(run->self));
    invoke_who who = {.ns = ns,
                      .ns_id = ns_id,
                      .tenant = tenant,
                      .name = ra.name,
                      .cause = cause,
                      .by_sequence = 1,
                      .depth = run->depth,
                      .then = on_component,
                      .then_ud = run};
    int err = 0;
    /* Once invoke_start succeeds the run belongs to on_component, which may
     * already be running (and have freed it) on another thread when it
     * returns: nothing here reads run then. */
    gateway *gw = run->gw;
    json_t *params = run->params;
    run->params = NULL;
    invocation *inv = invoke_run(gw, &who, &ra, params, &err);
    json_decref(params);
    char name[sizeof ra.name];
    snprintf(name, sizeof name, "%s", ra.name);
    resolved_clear(gw->store, &ra);
    if (inv) {
        invoke_release(inv); /* its record comes to on_component */
        return;
    }
    char msg[768]; /* refused: the run is still ours */
    unsigned http = invoke_refusal(gw, tenant, name, err, msg, sizeof msg);
    finish_error(run, http >= 500 ? TFAAS_STATUS_INTERNAL_ERR : TFAAS_STATUS_APPLICATION_ERR, msg);
}

/* A component finished (record NULL: it could not be recorded). */
static void on_component(void *ud, const json_t *record) {
    seq_run *run = ud;
    if (!record) {
        finish_error(run, TFAAS_STATUS_INTERNAL_ERR, "The server ran out of memory");
        return;
    }
    json_array_append_new(run->ids, json_string(json_get_str(record, "activationId", "")));
    const json_t *response = json_object_get(record, "response");
    tfaas_status status = (tfaas_status)json_get_int(response, "statusCode", TFAAS_STATUS_INTERNAL_ERR);
    json_t *result = json_deep_copy(json_object_get(response, "result"));
    if (!json_is_object(result)) {
        json_decref(result);
        finish_error(run, TFAAS_STATUS_INTERNAL_ERR, "The server ran out of memory");
        return;
    }
    if (status != TFAAS_STATUS_SUCCESS) {
        finish(run, status, result); /* the first error stops the sequence */
        return;
    }
    run->params = result;
    run->next++;
    step(run);
}

invocation *sequence_start(gateway *gw, const invoke_who *who, const json_t *action, const json_t *given, int *err) {
    /* A cycle cannot be stored (sequence_resolve), but a component updated
     * after the fact could make one: the depth is bounded at run time too. */
    if (who->depth >= ACTION_SEQUENCE_MAX) { *err = INVOKE_ERR_SEQUENCE; return NULL; }
    const json_t *exec = json_object_get(action, "exec");
    action_limits lim;
    action_limits_get(action, &lim);
    seq_run *run = calloc(1, sizeof *run);
    json_t *params = json_kv_to_object(json_object_get(action, "parameters"));
    if (!run || !params || json_object_update(params, (json_t *)given) < 0) {
        free(run);
        json_decref(params);
        *err = ENOMEM;
        return NULL;
    }
    run->gw = gw;
    run->params = params;
    run->components = json_deep_copy(json_object_get(exec, "components"));
    run->ids = json_array();
    run->ns = strdup(who->ns);
    run->ns_id = strdup(who->ns_id);
    run->tenant = strdup(who->tenant);
    run->depth = who->depth + 1;
    run->start_ms = clock_wall_ms();
    if (!json_is_array(run->components) || !run->ids || !run->ns || !run->ns_id || !run->tenant) {
        run_free(run);
        *err = ENOMEM;
        return NULL;
    }
    run->self = invoke_pending(gw, who, json_get_str(action, "version", "0.0.1"), ACTION_KIND_SEQUENCE, &lim, err);
    if (!run->self) {
        run_free(run);
        return NULL;
    }
    invocation *self = run->self; /* the caller's reference; the run may end before step returns */
    step(run);
    return self;
}

/* --- create-time checks ------------------------------------------------- */

typedef struct {
    gateway *gw;
    const char *ns, *self;
    unsigned atomic; /* actions the flattened sequence runs */
} resolve_ctx;

typedef enum { SEQ_OK, SEQ_MISSING, SEQ_CYCLE, SEQ_TOO_LONG, SEQ_CONFIDENTIAL, SEQ_FOREIGN, SEQ_STORE } seq_check;

/* Walks component `text` ("[/NS/][PKG/]NAME", resolved for ctx->ns as an
 * invoke is, resolve.h) and what it nests. */
static seq_check walk(resolve_ctx *c, const char *text, int depth) {
    if (depth > ACTION_SEQUENCE_MAX) return SEQ_TOO_LONG;
    action_fqn fqn; /* the sequence itself, which a create has not stored yet */
    if (action_fqn_parse(text, c->ns, &fqn) == ACTION_FQN_OK && !fqn.pkg[0] && !strcmp(fqn.ns, c->ns) &&
        !strcmp(fqn.name, c->self))
        return SEQ_CYCLE;
    resolved_action ra;
    resolve_status rs = resolve_action_text(c->gw->store, c->ns, text, &ra);
    if (rs != RESOLVE_OK)
        return rs == RESOLVE_FORBIDDEN ? SEQ_FOREIGN : rs == RESOLVE_ERROR ? SEQ_STORE : SEQ_MISSING;
    if (!ra.foreign && !strcmp(ra.store_name, c->self)) {
        resolved_clear(c->gw->store, &ra);
        return SEQ_CYCLE;
    }
    const json_t *doc = ra.action;
    seq_check out = SEQ_OK;
    if (action_confidential(doc)) {
        out = SEQ_CONFIDENTIAL;
    } else if (!action_is_sequence(doc)) {
        out = ++c->atomic > ACTION_SEQUENCE_MAX ? SEQ_TOO_LONG : SEQ_OK;
    } else {
        size_t i;
        json_t *comp;
        json_array_foreach(json_object_get(json_object_get(doc, "exec"), "components"), i, comp) {
            const char *t = json_string_value(comp);
            if (!t || (out = walk(c, t, depth + 1)) != SEQ_OK) {
                if (!t) out = SEQ_MISSING;
                break;
            }
        }
    }
    resolved_clear(c->gw->store, &ra);
    return out;
}

int sequence_resolve(http_req *r, const char *name, json_t *doc, unsigned *status, char *err, size_t errsize) {
    json_t *comps = json_object_get(json_object_get(doc, "exec"), "components");
    resolve_ctx c = {r->gw, r->ns, name, 0};
    size_t i;
    json_t *comp;
    *status = MHD_HTTP_BAD_REQUEST;
    json_array_foreach(comps, i, comp) {
        action_fqn fqn;
        action_fqn_result pr = action_fqn_parse(json_string_value(comp), r->ns, &fqn);
        if (pr != ACTION_FQN_OK) {
            snprintf(err, errsize, "The sequence component '%.300s' is not a valid action name: %s",
                     json_string_value(comp), action_fqn_name(pr));
            return -1;
        }
        char full[ACTION_COMPONENT_MAX + 1];
        snprintf(full, sizeof full, "/%s/%s%s%s", fqn.ns, fqn.pkg, fqn.pkg[0] ? "/" : "", fqn.name);
        seq_check k = walk(&c, full, 1);
        if (k == SEQ_FOREIGN) {
            *status = MHD_HTTP_FORBIDDEN;
            snprintf(err, errsize, "The supplied authentication is not authorized to access '%.300s'.",
                     json_string_value(comp));
            return -1;
        }
        const char *msg = k == SEQ_MISSING        ? "Sequence component does not exist."
                          : k == SEQ_CYCLE        ? "Sequence may not refer to itself."
                          : k == SEQ_TOO_LONG     ? "Too many actions in the sequence."
                          : k == SEQ_CONFIDENTIAL ? "A confidential action cannot be a sequence component: its "
                                                    "parameters and result would pass through the host in the clear."
                                                  : NULL;
        if (k == SEQ_STORE) {
            *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            msg = "The platform's store failed to serve the request";
        }
        if (msg) {
            snprintf(err, errsize, "%s", msg);
            return -1;
        }
        if (json_array_set_new(comps, i, json_string(full)) < 0) {
            *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            snprintf(err, errsize, "out of memory");
            return -1;
        }
    }
    return 0;
}
