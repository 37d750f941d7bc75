/* invoke.c - POST /actions/{name}: run an activation and answer at once
 * (202) or, when blocking, once its record is durable.
 *
 * A blocking request does not hold a thread while it waits: its connection
 * is parked (park.h) and resumed by the commit of the record, or by the
 * sweeper when --max-blocking-wait runs out (then 202, as OpenWhisk does).
 *
 * Ownership: one `invocation` per activation, reference-counted. The HTTP
 * request holds one reference, the scheduler/store path the other; whichever
 * lets go last frees it. So a blocking request that gave up (202) and a late
 * completion never touch freed memory, and nothing leaks. */
#include "host/gateway/action_doc.h"
#include "host/gateway/activation_record.h"
#include "host/gateway/gateway_internal.h"
#include "host/gateway/invoke.h"
#include "host/gateway/query.h"
#include "host/gateway/resolve.h"

#include "common/b64url.h"
#include "host/util/clock.h"
#include "host/util/ids.h"
#include "host/util/json.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESULT_BYTES (1u << 20)

typedef struct {
    atomic_int refs;
    /* Under the gateway's park lock: */
    int done;            /* the record's commit finished (well or not) */
    store_status commit; /* its outcome; NOT_FOUND: the namespace was deleted meanwhile */
    int not_run;         /* the scheduler never ran it (sched_result.not_run) */
    json_t *record;      /* the activation record, kept for the blocking answer */
    parked park;         /* the blocking request's connection while it waits */
    /* Fixed at creation: */
    int result_only;
    int confidential;    /* an OHTTP invocation: answered with the sealed response */
    int is_public;       /* ... on a public route (no credentials): refusals leave no record */
    char *sealed;        /* its enclave result {ohttp_res}; set with record */
    gateway *gw;
    /* Set by on_done before the record is queued, read by on_committed: the
     * record's bytes held in the namespace's budget until it is durable. */
    uint64_t held;
    int holding;
    char *ns, *name, *version, *kind;
    char *tenant;        /* name#id: the key of the namespace's budget (scheduler.h) */
    char *cause;         /* the trigger activation that caused it (a rule), or NULL */
    char *path, *binding; /* the activation's 'path' and 'binding' annotations (NULL: defaults) */
    char ns_id[STORE_NSID_LEN + 1]; /* its record is kept only while this namespace exists */
    action_limits limits;
    char id[33];
} invocation;

static void inv_release(invocation *inv) {
    if (atomic_fetch_sub(&inv->refs, 1) != 1) return;
    json_decref(inv->record);
    free(inv->sealed);
    free(inv->ns); free(inv->name); free(inv->version); free(inv->kind); free(inv->tenant);
    free(inv->cause);
    free(inv->path); free(inv->binding);
    free(inv);
}

static invocation *inv_new(gateway *gw, const invoke_caller *c, const char *name, const char *version,
                           const char *kind, const action_limits *lim) {
    invocation *inv = calloc(1, sizeof *inv);
    if (!inv) return NULL;
    atomic_init(&inv->refs, 2); /* the HTTP request's and the scheduler's */
    inv->gw = gw;
    inv->limits = *lim;
    snprintf(inv->ns_id, sizeof inv->ns_id, "%s", c->ns_id);
    inv->ns = strdup(c->ns);
    inv->name = strdup(name);
    inv->version = strdup(version);
    inv->kind = strdup(kind);
    inv->tenant = strdup(c->tenant);
    if (!inv->ns || !inv->name || !inv->version || !inv->kind || !inv->tenant || ids_activation(inv->id) < 0) {
        atomic_store(&inv->refs, 1);
        inv_release(inv);
        return NULL;
    }
    return inv;
}

/* Store writer thread: the record is durable (or could not be made so). */
static void on_committed(void *ud, store_status st) {
    invocation *inv = ud;
    gateway *gw = inv->gw;
    park_lock(gw);
    inv->done = 1;
    inv->commit = st;
    struct MHD_Connection *waiting = park_take_locked(gw, &inv->park);
    park_unlock(gw);
    if (waiting) MHD_resume_connection(waiting); /* its handler answers from the record */
    if (st != STORE_OK && st != STORE_NOT_FOUND) /* NOT_FOUND: its namespace is gone, as intended */
        fprintf(stderr, "tfaas serve: activation %s could not be stored: %s\n", inv->id, store_last_error());
    if (inv->holding) budget_give(gw->budget, inv->tenant, 1, inv->held);
    inv_release(inv);
    gateway_inflight_done(gw);
}

/* Scheduler thread: the activation finished. */
static void on_done(void *ud, sched_result *res) {
    invocation *inv = ud;
    char *sealed = inv->confidential ? strdup(res->result_json ? res->result_json : "{}") : NULL;
    /* Until it is durable the record stays in the namespace's budget. */
    inv->held = sizeof *inv + strlen(res->result_json ? res->result_json : "") + strlen(res->logs ? res->logs : "");
    inv->holding = inv->gw->budget && budget_add(inv->gw->budget, inv->tenant, 1, inv->held) == 0;
    activation_info info = {inv->ns,      inv->name,         inv->version, inv->kind,  inv->id,
                            &inv->limits, inv->confidential, inv->path,    inv->binding};
    const char *malformed;
    json_t *rec = activation_record_build(&info, res, clock_wall_ms(), &malformed);
    if (malformed) fprintf(stderr, "tfaas serve: activation %s: result is not a JSON object: %s\n", inv->id, malformed);
    /* OpenWhisk's record of an action a rule ran names the trigger activation */
    if (rec && inv->cause) json_object_set_new(rec, "cause", json_string(inv->cause));
    int not_run = res->not_run;
    sched_result_free(res);
    /* The store and the blocking answer share the record: neither changes
     * it, and jansson's reference counts are atomic. */
    json_t *copy = json_incref(rec);
    if (!copy) {
        fprintf(stderr, "tfaas serve: out of memory building activation %s\n", inv->id);
        json_decref(rec);
        free(sealed);
        on_committed(inv, STORE_ERROR);
        return;
    }
    park_lock(inv->gw);
    inv->record = rec;
    inv->sealed = sealed;
    inv->not_run = not_run;
    park_unlock(inv->gw);
    /* A refusal on a public route (an unsigned or wrongly signed request,
     * from anyone) is answered but not stored: strangers must not fill the
     * namespace's activations. A call that ran is recorded as any other. */
    if (inv->is_public && json_get_int(json_object_get(rec, "response"), "statusCode", TFAAS_STATUS_INTERNAL_ERR) !=
                              TFAAS_STATUS_SUCCESS) {
        json_decref(copy);
        on_committed(inv, STORE_OK);
        return;
    }
    /* Recorded also when it never ran (shutdown): the caller holds its id. */
    store_activation_put(inv->gw->store, copy, inv->ns_id, on_committed, inv);
}

/* The blocking answer: the record once it is durable, else 202 (the wait
 * budget ran out or the server is stopping). */
static enum MHD_Result answer_blocking(http_req *r, invocation *inv) {
    http_header hdr = {"x-openwhisk-activation-id", inv->id};
    park_lock(r->gw);
    int done = inv->done;
    park_unlock(r->gw);
    if (!done) return http_reply_json(r->conn, MHD_HTTP_ACCEPTED, json_pack("{ss}", "activationId", inv->id), &hdr);
    /* done is final: record and commit no longer change */
    if (inv->not_run)
        return http_error_hdr(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, &hdr, "%s",
                              json_get_str(json_object_get(json_object_get(inv->record, "response"), "result"),
                                           "error", "The activation did not run"));
    if (inv->commit == STORE_NOT_FOUND)
        return http_error_hdr(r->conn, MHD_HTTP_NOT_FOUND, &hdr, "The namespace was deleted while the activation ran");
    if (inv->commit != STORE_OK || !inv->record)
        return http_error_hdr(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, &hdr,
                              "The activation ran but its record could not be stored");
    json_t *response = json_object_get(inv->record, "response");
    int code = (int)json_get_int(response, "statusCode", TFAAS_STATUS_INTERNAL_ERR);
    unsigned http = code == TFAAS_STATUS_SUCCESS ? MHD_HTTP_OK
                    : code == TFAAS_STATUS_INTERNAL_ERR ? MHD_HTTP_INTERNAL_SERVER_ERROR
                                                        : MHD_HTTP_BAD_GATEWAY;
    json_t *body = inv->result_only ? json_object_get(response, "result") : inv->record;
    return http_reply_json(r->conn, http, json_incref(body), &hdr);
}

/* The answer to an OHTTP invocation: the sealed response (the receipt and
 * the worker certificate are inside it), or the refusal the enclave or KMS
 * gave. */
static enum MHD_Result answer_ohttp(http_req *r, invocation *inv) {
    park_lock(r->gw);
    int done = inv->done;
    park_unlock(r->gw);
    http_header id = {"x-openwhisk-activation-id", inv->id};
    if (!done)
        return http_error_hdr(r->conn, MHD_HTTP_GATEWAY_TIMEOUT, &id,
                              "The confidential activation did not finish within the wait budget");
    if (inv->not_run) return http_error_hdr(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, &id, "The platform is shutting down");
    /* done is final: record and sealed no longer change */
    json_t *j = inv->sealed ? json_loads(inv->sealed, 0, NULL) : NULL;
    json_t *response = json_object_get(inv->record, "response");
    int code = (int)json_get_int(response, "statusCode", TFAAS_STATUS_INTERNAL_ERR);
    const char *res_b64 = json_get_str(j, "ohttp_res", NULL);
    enum MHD_Result ret;
    if (code == TFAAS_STATUS_SUCCESS && res_b64) {
        size_t len = 0;
        uint8_t *bytes = b64url_decode_alloc(res_b64, strlen(res_b64), &len);
        ret = bytes ? http_reply_bytes(r->conn, MHD_HTTP_OK, "message/ohttp-res", bytes, len, &id, 1)
                    : http_error_hdr(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, &id, "Malformed sealed response");
    } else {
        /* Refused before anything was decrypted, or the platform failed. */
        json_t *status = json_object_get(j, "status");
        unsigned http = json_is_integer(status) && json_integer_value(status) >= 400 &&
                                json_integer_value(status) <= 599
                            ? (unsigned)json_integer_value(status) : MHD_HTTP_INTERNAL_SERVER_ERROR;
        ret = http_error_hdr(r->conn, http, &id, "%s",
                             json_get_str(j, "error", "The confidential activation failed"));
    }
    json_decref(j);
    return ret;
}

enum MHD_Result invoke_resumed(http_req *r) {
    invocation *inv = r->invocation;
    return inv->confidential ? answer_ohttp(r, inv) : answer_blocking(r, inv);
}

void invoke_request_done(http_req *r) {
    if (r->invocation) inv_release(r->invocation);
    r->invocation = NULL;
}

/* The scheduler job for one activation of `action`, plain or confidential:
 * everything but the code and the parameters. fn_key names the revision
 * (its buffer must outlive the submission). */
static sched_job job_for(const char *tenant, const json_t *action, const char *fn_key, const action_limits *lim,
                         const invocation *inv) {
    const json_t *exec = json_object_get(action, "exec");
    isolation_mode isolation; /* validated when stored; a bad one cannot get here */
    char ignored[8];
    if (action_isolation_request(json_object_get(action, "annotations"), &isolation, ignored, sizeof ignored) < 0)
        isolation = ISOLATION_UNSET;
    return (sched_job){
        .ns = tenant,
        .engine = action_kind_engine(json_get_str(exec, "kind", "js:duktape")),
        .fn_key = fn_key,
        .main = json_get_str(exec, "main", "main"),
        .activation_id = inv->id,
        .timeout_ms = (uint32_t)lim->timeout_ms,
        .memory_bytes = (uint64_t)lim->memory_mb << 20,
        .max_result_bytes = MAX_RESULT_BYTES,
        .max_log_bytes = (uint64_t)lim->logs_mb << 20,
        .concurrency = (uint32_t)lim->concurrency,
        .isolation = isolation,
    };
}

/* Why scheduler_submit refused an activation with errno err, and the HTTP
 * status that says so (429 or 503), for a REST answer or a rule's entry in a
 * trigger activation. The namespace's budget (--tenant-max-activations,
 * --tenant-max-memory) answers with OpenWhisk's concurrency throttle message
 * (docs/api.md). */
static unsigned refusal(gateway *gw, const char *tenant, int err, char *msg, size_t size) {
    if (err == EAGAIN) {
        snprintf(msg, size, "Too many requests in flight for this action");
        return MHD_HTTP_TOO_MANY_REQUESTS;
    }
    if (err == EDQUOT) {
        snprintf(msg, size, "Every enclave this namespace may have is busy: a namespace gets a fair share of this "
                            "server's enclaves (--max-enclaves, --max-enclaves-per-namespace); try again later");
        return MHD_HTTP_TOO_MANY_REQUESTS;
    }
    if (err == EUSERS || err == ENOBUFS) {
        budget_usage u = budget_get(gw->budget, tenant);
        if (err == EUSERS)
            snprintf(msg, size, "Too many concurrent requests in flight (count: %u, allowed: %u).", u.count,
                     budget_max_count(gw->budget));
        else
            snprintf(msg, size, "Too many concurrent requests in flight (bytes: %llu, allowed: %llu).",
                     (unsigned long long)u.bytes, (unsigned long long)budget_max_bytes(gw->budget));
        return MHD_HTTP_TOO_MANY_REQUESTS;
    }
    if (err == ESHUTDOWN) snprintf(msg, size, "The platform is shutting down");
    else if (err == EBUSY)
        snprintf(msg, size, "Every enclave is busy: this server runs at most its --max-enclaves enclave "
                            "processes at once; try again later");
    else snprintf(msg, size, "The activation could not be scheduled: %s", strerror(err));
    return MHD_HTTP_SERVICE_UNAVAILABLE;
}

static enum MHD_Result submit_refused(http_req *r, int err) {
    char msg[320];
    unsigned status = refusal(r->gw, r->tenant, err, msg, sizeof msg);
    return http_error(r->conn, status, "%s", msg);
}

/* Hands the job to the scheduler: 0, or -1 with errno and both references
 * of inv dropped. */
static int submit(gateway *gw, invocation *inv, const sched_job *job) {
    gateway_inflight_add(gw);
    if (scheduler_submit(gw->scheduler, job, on_done, inv) < 0) {
        int err = errno;
        gateway_inflight_done(gw);
        inv_release(inv); /* the scheduler's reference, never taken */
        inv_release(inv);
        errno = err;
        return -1;
    }
    return 0;
}

/* The answer once the scheduler took the activation: 202 for a
 * non-blocking invocation, else the parked request (answered once the
 * activation is done, invoke_resumed) or the answer right away. */
static enum MHD_Result answer_submitted(http_req *r, invocation *inv, int blocking) {
    gateway *gw = r->gw;
    if (!blocking) {
        http_header hdr = {"x-openwhisk-activation-id", inv->id};
        enum MHD_Result ret = http_reply_json(r->conn, MHD_HTTP_ACCEPTED, json_pack("{ss}", "activationId", inv->id), &hdr);
        inv_release(inv);
        return ret;
    }
    /* The request keeps its reference until it ends (invoke_request_done). */
    r->invocation = inv;
    park_lock(gw);
    int parked_now = !inv->done && park_add_locked(gw, &inv->park, r->conn, gw->max_blocking_wait_ms) == 0;
    park_unlock(gw);
    return parked_now ? MHD_YES : invoke_resumed(r);
}

/* Submits and answers: the refusal, or answer_submitted's answer. */
static enum MHD_Result submit_and_answer(http_req *r, invocation *inv, const sched_job *job, int blocking) {
    if (submit(r->gw, inv, job) < 0) return submit_refused(r, errno);
    return answer_submitted(r, inv, blocking);
}

/* The one way an activation of a stored action starts, for the REST invoke
 * and for internal callers (a rule's action, gateway_invoke_async): takes
 * the action as resolve.h found it (the caller keeps and clears it), merges
 * package, action and `given` parameters, and submits it. On INVOKE_OK *out
 * holds the caller's reference to the invocation (the scheduler holds the
 * other); on INVOKE_REFUSED *err is the errno. */
static invoke_status invoke_start(gateway *gw, const invoke_caller *c, const resolved_action *ra, const json_t *given,
                                  const char *cause, int result_only, invocation **out, int *err) {
    *out = NULL;
    if (atomic_load(&gw->stopping)) return INVOKE_STOPPING;
    const json_t *action = ra->action;
    /* Its code is ciphertext: only an attested worker can run it, and only
     * for a request sealed to the function's OHTTP key. */
    if (action_confidential(action)) return INVOKE_CONFIDENTIAL;
    json_t *merged = resolved_params(ra, given);
    char *params = merged ? json_dump_compact(merged) : NULL; /* NULs come out escaped as \u0000 */
    json_decref(merged);

    const json_t *exec = json_object_get(action, "exec");
    const json_t *codev = json_object_get(exec, "code");
    const char *code = json_is_string(codev) ? json_string_value(codev) : "";
    /* by length: JSON strings may hold NUL bytes */
    size_t code_len = json_is_string(codev) ? json_string_length(codev) : 0;
    const char *kind = json_get_str(exec, "kind", "js:duktape");
    const char *version = json_get_str(action, "version", "0.0.1");
    action_limits lim;
    action_limits_get(action, &lim);
    invocation *inv = params ? inv_new(gw, c, ra->name, version, kind, &lim) : NULL;
    if (inv && ((cause && !(inv->cause = strdup(cause))) || !(inv->path = strdup(ra->path)) ||
                (ra->binding[0] && !(inv->binding = strdup(ra->binding))))) {
        atomic_store(&inv->refs, 1);
        inv_release(inv);
        inv = NULL;
    }
    if (!inv) {
        free(params);
        return INVOKE_NO_MEMORY;
    }

    /* Own actions keep "tenant/NAME@version" (scheduler_drop's key after an
     * update); another namespace's shared action is keyed by its owner's id
     * and update time too, since its owner's updates cannot drop the warm
     * heaps other tenants hold of it. '@' cannot start an entity name. */
    char fn_key[2 * GATEWAY_NS_MAX + RESOLVE_PATH_MAX + 128];
    if (ra->foreign)
        snprintf(fn_key, sizeof fn_key, "%s/@%s#%s/%s@%s.%lld", c->tenant, ra->ns, ra->ns_id, ra->store_name, version,
                 (long long)json_get_int(action, "updated", 0));
    else
        snprintf(fn_key, sizeof fn_key, "%s/%s@%s", c->tenant, ra->store_name, version);
    sched_job job = job_for(c->tenant, action, fn_key, &lim, inv);
    job.code = code;
    job.code_len = code_len;
    job.params_json = params;
    job.params_len = strlen(params);
    inv->result_only = result_only;
    invoke_status res = INVOKE_OK;
    if (submit(gw, inv, &job) < 0) {
        *err = errno;
        res = INVOKE_REFUSED;
    } else {
        *out = inv;
    }
    free(params); /* the scheduler copied what it keeps */
    return res;
}

/* The invoke_status of a name resolve_action could not give. */
static invoke_status unresolved(resolve_status rs) {
    switch (rs) {
    case RESOLVE_FORBIDDEN: return INVOKE_FORBIDDEN;
    case RESOLVE_NOT_FOUND: return INVOKE_NOT_FOUND;
    case RESOLVE_BAD_NAME: return INVOKE_BAD_NAME;
    default: return INVOKE_STORE_ERROR;
    }
}

invoke_status gateway_invoke_async(gateway *gw, const invoke_caller *c, const char *name, const json_t *given,
                                   const char *cause, char id_out[33], char *msg, size_t msg_size) {
    invocation *inv = NULL;
    int err = 0;
    resolved_action ra;
    resolve_status rs = resolve_action_text(gw->store, c->ns, name, &ra);
    invoke_status st = rs == RESOLVE_OK ? invoke_start(gw, c, &ra, given, cause, 0, &inv, &err) : unresolved(rs);
    if (rs == RESOLVE_OK) resolved_clear(gw->store, &ra);
    msg[0] = '\0';
    switch (st) {
    case INVOKE_OK:
        memcpy(id_out, inv->id, 33);
        inv_release(inv); /* its record is written when it is done, as for a non-blocking invoke */
        break;
    case INVOKE_NOT_FOUND: snprintf(msg, msg_size, "%s", MSG_NOT_FOUND); break;
    case INVOKE_FORBIDDEN:
        snprintf(msg, msg_size, "The supplied authentication is not authorized to access '%.256s'.", ra.denied);
        break;
    case INVOKE_BAD_NAME: snprintf(msg, msg_size, "The name of the entity contains illegal characters."); break;
    case INVOKE_CONFIDENTIAL:
        snprintf(msg, msg_size, "The action '%.256s' is confidential: only an OHTTP request can invoke it", name);
        break;
    case INVOKE_NO_MEMORY: snprintf(msg, msg_size, "The server ran out of memory"); break;
    case INVOKE_STORE_ERROR: snprintf(msg, msg_size, "The platform's store failed to serve the request"); break;
    case INVOKE_STOPPING: snprintf(msg, msg_size, "The platform is shutting down"); break;
    case INVOKE_REFUSED: refusal(gw, c->tenant, err, msg, msg_size); break;
    }
    return st;
}

/* The answer to a resolve_action that did not find an action the caller
 * may invoke (or read): OpenWhisk's status and message. */
enum MHD_Result resolve_refused(http_req *r, resolve_status rs, const resolved_action *ra) {
    switch (rs) {
    case RESOLVE_FORBIDDEN:
        return http_error(r->conn, MHD_HTTP_FORBIDDEN, "The supplied authentication is not authorized to access '%s'.",
                          ra->denied);
    case RESOLVE_NOT_FOUND: return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    case RESOLVE_BAD_NAME:
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The name of the entity contains illegal characters.");
    default: return req_store_error(r);
    }
}

enum MHD_Result invoke_handle(http_req *r) {
    enum MHD_Result sent = MHD_NO;
    if (action_route_check(r, &sent) < 0) return sent;
    int blocking, result_only;
    if (query_bool(req_query(r, "blocking"), 0, &blocking) < 0) return req_bad_query(r, "blocking", "true or false");
    if (query_bool(req_query(r, "result"), 0, &result_only) < 0) return req_bad_query(r, "result", "true or false");
    if (atomic_load(&r->gw->stopping))
        return http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "The platform is shutting down");

    json_t *given = req_body_object(r, "parameters", &sent);
    if (!given) return sent;
    invoke_caller caller = {r->ns, r->ns_id, r->tenant};
    invocation *inv = NULL;
    int err = 0;
    resolved_action ra;
    resolve_status rs = resolve_action(r->gw->store, r->ns, r->rt.ns, r->rt.pkg, r->rt.name, &ra); /* read-only */
    if (rs != RESOLVE_OK) {
        json_decref(given);
        return resolve_refused(r, rs, &ra);
    }
    invoke_status st = invoke_start(r->gw, &caller, &ra, given, NULL, result_only, &inv, &err);
    resolved_clear(r->gw->store, &ra);
    json_decref(given);
    switch (st) {
    case INVOKE_OK: break;
    case INVOKE_NOT_FOUND: /* resolve_refused answered these */
    case INVOKE_FORBIDDEN:
    case INVOKE_BAD_NAME: return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    case INVOKE_STORE_ERROR: return req_store_error(r);
    case INVOKE_CONFIDENTIAL:
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST,
                          "The action '%.256s' is confidential: invoke it with an OHTTP request to "
                          "POST /tfaas/v1/namespaces/_/actions/%.256s/ohttp",
                          r->rt.name, r->rt.name);
    case INVOKE_NO_MEMORY: return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The server ran out of memory");
    case INVOKE_STOPPING: return http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "The platform is shutting down");
    case INVOKE_REFUSED: return submit_refused(r, err);
    }
    return answer_submitted(r, inv, blocking);
}

/* POST /tfaas/v1/namespaces/{ns}/actions/{name}/ohttp: an OHTTP request
 * (message/ohttp-req) relayed, unread, to a worker enclave holding the
 * function's keys; always answered when the activation is done. */
enum MHD_Result invoke_ohttp_handle(http_req *r, json_t *action, json_t *conf) {
    gateway *gw = r->gw;
    if (atomic_load(&gw->stopping)) {
        store_action_unpeek(gw->store, action);
        return http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "The platform is shutting down");
    }
    /* Without the key service no worker can get the function's keys (and
     * without tfaas-qe, which starts and stops with it, none can quote). */
    if (!gw->kms) {
        store_action_unpeek(gw->store, action);
        return http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, MSG_KMS_DOWN);
    }
    const char *record_b64 = json_get_str(conf, "record", "");
    size_t record_len = 0;
    uint8_t *record = b64url_decode_alloc(record_b64, strlen(record_b64), &record_len);
    const json_t *exec = json_object_get(action, "exec");
    const char *code = json_get_str(exec, "code", "");
    const char *version = json_get_str(action, "version", "0.0.1");
    action_limits lim;
    action_limits_get(action, &lim);
    invoke_caller caller = {r->ns, r->ns_id, r->tenant};
    invocation *inv = record ? inv_new(gw, &caller, r->rt.name, version, json_get_str(exec, "kind", "js:duktape"), &lim)
                             : NULL;
    if (!inv) {
        free(record);
        store_action_unpeek(gw->store, action);
        return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The server ran out of memory");
    }
    inv->confidential = 1;
    inv->is_public = r->rt.is_public;
    char fn_key[2 * GATEWAY_NS_MAX + 300];
    snprintf(fn_key, sizeof fn_key, "%s/%s@%s", r->tenant, r->rt.name, version);
    sched_job job = job_for(r->tenant, action, fn_key, &lim, inv);
    job.code = code;
    job.code_len = strlen(code);
    job.params_json = r->body ? r->body : "";
    job.params_len = r->body ? r->body_len : 0;
    job.confidential = 1;
    job.record = record;
    job.record_len = record_len;
    enum MHD_Result ret = submit_and_answer(r, inv, &job, 1); /* always answered when done */
    free(record);
    store_action_unpeek(gw->store, action);
    return ret;
}
