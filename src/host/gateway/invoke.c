/* invoke.c - starting activations (invoke.h: the one internal entry point)
 * and POST /actions/{name}: run an activation and answer at once (202) or,
 * when blocking, once its record is durable.
 *
 * A blocking request does not hold a thread while it waits: its connection
 * is parked (park.h) and resumed by the commit of the record, or by the
 * sweeper when --max-blocking-wait runs out (then 202, as OpenWhisk does).
 *
 * Ownership: one `invocation` per activation, reference-counted. The caller
 * of invoke_start (an HTTP request, a sequence) holds one reference, the
 * scheduler/store path the other; whichever lets go last frees it. So a
 * blocking request that gave up (202) and a late completion never touch
 * freed memory, and nothing leaks. */
#include "host/gateway/egress_config.h"
#include "host/gateway/invoke.h"

#include "host/gateway/activation_record.h"
#include "host/gateway/auth.h"
#include "host/gateway/query.h"
#include "host/metrics/metrics.h"

#include "common/b64url.h"
#include "host/util/clock.h"
#include "host/util/ids.h"
#include "host/util/json.h"
#include "host/util/json_scan.h"
#include "host/util/json_writer.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESULT_BYTES (1u << 20)

struct invocation {
    atomic_int refs;
    /* Under the gateway's park lock: */
    int done;            /* the record's commit finished (well or not) */
    store_status commit; /* its outcome; NOT_FOUND: the namespace was deleted meanwhile */
    int not_run;         /* the scheduler never ran it (sched_result.not_run) */
    activation_text record; /* the activation record's text, kept for the blocking answer */
    parked park;         /* the blocking request's connection while it waits */
    /* Fixed at creation: */
    int result_only;
    int confidential;    /* an OHTTP invocation: answered with the sealed response */
    int is_public;       /* ... on a public route (no credentials): refusals leave no record */
    int sequence;        /* a sequence's own activation (sequence.c finishes it) */
    int answers_committed; /* invoke_who's: no accepted row until a 202 gives its id away */
    uint8_t *sealed;     /* the OHTTP response of a confidential call that ran; set with record */
    size_t sealed_len;
    char *refusal;       /* a confidential call's refusal {error, status}, when it did not run */
    gateway *gw;
    /* Set by on_done before the record is queued, read by on_committed: the
     * record's bytes held in the namespace's budget until it is durable. */
    uint64_t held;
    int holding;
    char *ns, *name, *version, *kind;
    char *tenant;        /* name#id: the key of the namespace's budget (scheduler.h) */
    char *cause;         /* the activation that caused it (an enclosing sequence's, a trigger's), or NULL */
    int by_sequence;     /* cause is an enclosing sequence */
    char *path, *binding; /* the activation's 'path' and 'binding' annotations (NULL: defaults) */
    invoke_then_fn then; /* invoke_who's, called once by on_done */
    void *then_ud;
    char ns_id[STORE_NSID_LEN + 1]; /* its record is kept only while this namespace exists */
    action_limits limits;
    char id[33];
};

static void inv_release(invocation *inv) {
    if (atomic_fetch_sub(&inv->refs, 1) != 1) return;
    activation_text_free(&inv->record);
    free(inv->sealed);
    free(inv->refusal);
    free(inv->ns); free(inv->name); free(inv->version); free(inv->kind); free(inv->tenant); free(inv->cause);
    free(inv->path); free(inv->binding);
    free(inv);
}

void invoke_release(invocation *inv) { inv_release(inv); }

const char *invoke_id(const invocation *inv) { return inv->id; }

void invoke_state_get(gateway *gw, invocation *inv, invoke_state *out) {
    park_lock(gw);
    out->done = inv->done;
    out->not_run = inv->not_run;
    out->commit = inv->commit;
    out->record = inv->record.text ? &inv->record : NULL;
    park_unlock(gw);
}

static invocation *inv_new(gateway *gw, const invoke_who *who, const char *version, const char *kind,
                           const action_limits *lim) {
    invocation *inv = calloc(1, sizeof *inv);
    if (!inv) return NULL;
    atomic_init(&inv->refs, 2); /* the caller's and the scheduler's */
    inv->gw = gw;
    inv->limits = *lim;
    snprintf(inv->ns_id, sizeof inv->ns_id, "%s", who->ns_id);
    inv->ns = strdup(who->ns);
    inv->name = strdup(who->name);
    inv->version = strdup(version);
    inv->kind = strdup(kind);
    inv->tenant = strdup(who->tenant);
    inv->cause = who->cause ? strdup(who->cause) : NULL;
    inv->by_sequence = who->by_sequence;
    inv->answers_committed = who->answers_committed;
    inv->then = who->then;
    inv->then_ud = who->then_ud;
    if (!inv->ns || !inv->name || !inv->version || !inv->kind || !inv->tenant || (who->cause && !inv->cause) ||
        ids_activation(inv->id) < 0) {
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

/* Who ran, for its record. */
static activation_info info_of(const invocation *inv) {
    return (activation_info){.ns = inv->ns,
                             .name = inv->name,
                             .version = inv->version,
                             .kind = inv->kind,
                             .id = inv->id,
                             .limits = &inv->limits,
                             .confidential = inv->confidential,
                             .path = inv->path,
                             .binding = inv->binding,
                             .sequence = inv->sequence,
                             .cause = inv->cause,
                             .by_sequence = inv->by_sequence};
}

/* Scheduler thread (or sequence.c for a sequence): the activation finished. */
static void on_done(void *ud, sched_result *res) {
    invocation *inv = ud;
    /* A confidential answer: the sealed bytes (taken, not copied), or the
     * refusal's text. */
    uint8_t *sealed = inv->confidential ? res->sealed : NULL;
    size_t sealed_len = sealed ? res->sealed_len : 0;
    char *refusal = inv->confidential && !sealed ? strdup(res->result_json ? res->result_json : "{}") : NULL;
    if (sealed) res->sealed = NULL;
    /* Until it is durable the record stays in the namespace's budget. */
    inv->held = sizeof *inv + strlen(res->result_json ? res->result_json : "") + strlen(res->logs ? res->logs : "") +
                res->sealed_len;
    inv->holding = inv->gw->budget && budget_add(inv->gw->budget, inv->tenant, 1, inv->held) == 0;
    activation_info info = info_of(inv);
    const char *malformed;
    activation_text rec;
    int built = activation_record_write(&info, res, clock_wall_ms(), &rec, &malformed) == 0;
    if (malformed) fprintf(stderr, "tfaas serve: activation %s: result is not a JSON object: %s\n", inv->id, malformed);
    int not_run = res->not_run;
    /* A confidential call's status and durations are the client's: only
     * that it came (metrics.h). A sequence's own activation is counted; its
     * time is its components', which the histograms have already. */
    if (inv->confidential) metrics_confidential(inv->ns, inv->name);
    else metrics_activation(inv->ns, inv->name, built ? rec.status_code : TFAAS_STATUS_INTERNAL_ERR,
                            !not_run && !inv->sequence, res->wait_us, res->init_us, res->duration_us);
    sched_result_free(res);
    /* The store gets its own copy of the text (it frees it once committed);
     * the invocation keeps the record for the blocking answer. */
    store_record_text *stored = built ? calloc(1, sizeof *stored) : NULL;
    if (stored) {
        stored->text = malloc(rec.len + 1);
        stored->summary = rec.summary;
        rec.summary = NULL;
        stored->text_len = rec.len;
        stored->cut_at = rec.cut_at;
        stored->cut_len = rec.cut_len;
        stored->id = strdup(inv->id);
        stored->ns = strdup(inv->ns);
        stored->name = strdup(inv->name);
        stored->start = rec.start;
        stored->end = rec.end;
        stored->status_code = rec.status_code;
        if (stored->text) memcpy(stored->text, rec.text, rec.len + 1);
    }
    /* A sequence waiting for it reads the record's fields. */
    json_t *tree = built && inv->then ? json_loadb(rec.text, rec.len, JSON_ALLOW_NUL, NULL) : NULL;
    if (!stored || !stored->text || !stored->id || !stored->ns || !stored->name || (inv->then && !tree)) {
        fprintf(stderr, "tfaas serve: out of memory building activation %s\n", inv->id);
        if (built) activation_text_free(&rec);
        store_record_text_free(stored);
        json_decref(tree);
        free(sealed);
        free(refusal);
        if (inv->then) inv->then(inv->then_ud, NULL); /* a sequence waiting for it stops */
        on_committed(inv, STORE_ERROR);
        return;
    }
    int status_code = rec.status_code;
    park_lock(inv->gw);
    inv->record = rec;
    inv->sealed = sealed;
    inv->sealed_len = sealed_len;
    inv->refusal = refusal;
    inv->not_run = not_run;
    park_unlock(inv->gw);
    if (inv->then) inv->then(inv->then_ud, tree); /* e.g. the next component of a sequence */
    json_decref(tree);
    /* A refusal on a public route (an unsigned or wrongly signed request,
     * from anyone) is answered but not stored: strangers must not fill the
     * namespace's activations. A call that ran is recorded as any other. */
    if (inv->is_public && status_code != TFAAS_STATUS_SUCCESS) {
        store_record_text_free(stored);
        on_committed(inv, STORE_OK);
        return;
    }
    /* Recorded also when it never ran (shutdown): the caller holds its id. */
    store_activation_put_text(inv->gw->store, stored, inv->ns_id, on_committed, inv);
}

/* Answers with a slice of the record's text as application/json. */
static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text, size_t len,
                                  const http_header *hdr) {
    char *copy = malloc(len ? len : 1); /* MHD frees it */
    if (!copy) return http_error_hdr(c, MHD_HTTP_SERVICE_UNAVAILABLE, hdr, "The server ran out of memory");
    memcpy(copy, text, len);
    return http_reply_bytes(c, status, "application/json", copy, len, hdr, 1);
}

/* With serve --node: the accepted row, committed before its id leaves in a
 * 202 (or a record naming it), holding the record a peer stores if this
 * node dies first (cluster.h); 0, or -1 (ENOLINK). */
static int accept_durably(gateway *gw, const invocation *inv) {
    if (!gw->cluster) return 0;
    activation_info info = info_of(inv);
    char result[sizeof CLUSTER_LOST_MESSAGE + 16];
    snprintf(result, sizeof result, "{\"error\":\"%s\"}", CLUSTER_LOST_MESSAGE);
    sched_result lost = {.status = TFAAS_STATUS_INTERNAL_ERR, .result_json = result, .logs = ""};
    const char *malformed;
    json_t *rec = activation_record_build(&info, &lost, clock_wall_ms(), &malformed);
    int rc = rec ? cluster_accept(gw->cluster, inv->id, inv->ns_id, rec) : -1;
    if (rc < 0)
        fprintf(stderr, "tfaas serve: activation %s: no accepted row (a lost node's record): %s\n", inv->id,
                rec ? store_last_error() : "out of memory");
    json_decref(rec);
    if (rc < 0) errno = ENOLINK;
    return rc;
}

/* The blocking answer: the record once it is durable, else 202 (the wait
 * budget ran out or the server is stopping). */
static enum MHD_Result answer_blocking(http_req *r, invocation *inv) {
    http_header hdr = {"x-openwhisk-activation-id", inv->id};
    park_lock(r->gw);
    int done = inv->done;
    park_unlock(r->gw);
    /* The wait ran out: its id leaves now, so with --node it needs its
     * accepted row first. Without one (the store unreachable) the 202 still
     * tells the truth, the activation runs; only this node's death before
     * its record would then leave the id without one (logged). */
    if (!done && inv->answers_committed) accept_durably(r->gw, inv);
    if (!done) return http_reply_json(r->conn, MHD_HTTP_ACCEPTED, json_pack("{ss}", "activationId", inv->id), &hdr);
    /* done is final: record and commit no longer change */
    const activation_text *rec = inv->record.text ? &inv->record : NULL;
    if (inv->not_run) {
        json_t *result = rec ? activation_text_result(rec) : NULL;
        enum MHD_Result ret = http_error_hdr(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, &hdr, "%s",
                                             json_get_str(result, "error", "The activation did not run"));
        json_decref(result);
        return ret;
    }
    if (inv->commit == STORE_NOT_FOUND)
        return http_error_hdr(r->conn, MHD_HTTP_NOT_FOUND, &hdr, "The namespace was deleted while the activation ran");
    if (inv->commit != STORE_OK || !rec)
        return http_error_hdr(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, &hdr,
                              "The activation ran but its record could not be stored");
    int code = rec->status_code;
    unsigned http = code == TFAAS_STATUS_SUCCESS ? MHD_HTTP_OK
                    : code == TFAAS_STATUS_INTERNAL_ERR ? MHD_HTTP_INTERNAL_SERVER_ERROR
                                                        : MHD_HTTP_BAD_GATEWAY;
    return inv->result_only ? reply_text(r->conn, http, rec->text + rec->result_off, rec->result_len, &hdr)
                            : reply_text(r->conn, http, rec->text, rec->len, &hdr);
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
    /* done is final: record, sealed and refusal no longer change */
    int code = inv->record.text ? inv->record.status_code : TFAAS_STATUS_INTERNAL_ERR;
    if (code == TFAAS_STATUS_SUCCESS && inv->sealed) {
        uint8_t *bytes = malloc(inv->sealed_len); /* MHD frees it */
        if (!bytes) return http_error_hdr(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, &id, "The server ran out of memory");
        memcpy(bytes, inv->sealed, inv->sealed_len);
        return http_reply_bytes(r->conn, MHD_HTTP_OK, "message/ohttp-res", bytes, inv->sealed_len, &id, 1);
    }
    /* Refused before anything was decrypted, or the platform failed. */
    json_t *j = inv->refusal ? json_loads(inv->refusal, 0, NULL) : NULL;
    json_t *status = json_object_get(j, "status");
    unsigned http = json_is_integer(status) && json_integer_value(status) >= 400 && json_integer_value(status) <= 599
                        ? (unsigned)json_integer_value(status) : MHD_HTTP_INTERNAL_SERVER_ERROR;
    enum MHD_Result ret = http_error_hdr(r->conn, http, &id, "%s",
                                         json_get_str(j, "error", "The confidential activation failed"));
    json_decref(j);
    return ret;
}

enum MHD_Result invoke_resumed(http_req *r) {
    invocation *inv = r->invocation;
    if (r->web) return webaction_answer(r);
    return inv->confidential ? answer_ohttp(r, inv) : answer_blocking(r, inv);
}

void invoke_request_done(http_req *r) {
    if (r->invocation) inv_release(r->invocation);
    r->invocation = NULL;
}

/* The scheduler job for one activation of `action`, plain or confidential:
 * everything but the code and the parameters. fn_key names the revision
 * (its buffer must outlive the submission); the job's egress policies (of
 * namespace ns, egress_config.h) are malloc'd: the caller frees them after
 * the submission, which copies them. */
static sched_job job_for(const json_t *gw_egress, const char *ns, const char *tenant, const json_t *action,
                         const char *fn_key, const action_limits *lim, const invocation *inv) {
    const json_t *exec = json_object_get(action, "exec");
    isolation_mode isolation; /* validated when stored; a bad one cannot get here */
    char ignored[8];
    if (action_isolation_request(json_object_get(action, "annotations"), &isolation, ignored, sizeof ignored) < 0)
        isolation = ISOLATION_UNSET;
    char *egress = egress_config_for(gw_egress, ns, json_object_get(action, "annotations"));
    return (sched_job){
        .egress = egress,
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

/* INVOKE's ACTION field (ipc.h): how the enclave runs the action, and
 * OpenWhisk's __OW_* values the host knows (docs/api.md, "The activation's
 * environment"): the action's fully qualified name, the invoking namespace
 * and the version, and with OpenWhisk's provide-api-key annotation the
 * caller's key and API host. The enclave adds the activation id and the
 * deadline. */
static char *run_description(const invoke_who *who, const char *path, const json_t *action, const char *kind,
                             const char *version) {
    /* Written as text: a tree built only to be serialised cost 3% of a
     * hello's server CPU. */
    json_writer w = {0};
    jw_lit(&w, action_is_binary(action) ? "{\"binary\":true" : "{\"binary\":false");
    jw_lit(&w, !strncmp(kind, "nodejs:", 7) ? ",\"node\":true" : ",\"node\":false");
    jw_lit(&w, ",\"env\":{\"__OW_ACTION_NAME\":\"/");
    jw_escaped(&w, path, strlen(path));
    jw_lit(&w, "\",\"__OW_NAMESPACE\":");
    jw_string(&w, who->ns);
    jw_lit(&w, ",\"__OW_ACTION_VERSION\":");
    jw_string(&w, version);
    if (who->api_key && who->api_host &&
        json_is_true(json_kv_find(json_object_get(action, "annotations"), "provide-api-key"))) {
        jw_lit(&w, ",\"__OW_API_KEY\":");
        jw_string(&w, who->api_key);
        jw_lit(&w, ",\"__OW_API_HOST\":");
        jw_string(&w, who->api_host);
    }
    jw_lit(&w, "}}");
    if (w.oom) {
        free(w.data);
        return NULL;
    }
    return w.data;
}

unsigned invoke_refusal(gateway *gw, const char *tenant, const char *name, int err, char *msg, size_t msgsize) {
    /* The namespace's budget (--tenant-max-activations, --tenant-max-memory)
     * answers with OpenWhisk's concurrency throttle message (docs/api.md). */
    budget_usage u = {0};
    if (err == EUSERS || err == ENOBUFS) u = budget_get(gw->budget, tenant);
    /* The scheduler's admission refusals, for /metrics (metrics.h). */
    static const struct { int err; metrics_refusal_reason why; } REFUSALS[] = {
        {EAGAIN, METRICS_REFUSED_QUEUE},        {EUSERS, METRICS_REFUSED_NS_ACTIVATIONS},
        {ENOBUFS, METRICS_REFUSED_NS_MEMORY},   {EDQUOT, METRICS_REFUSED_NS_ENCLAVES},
        {EBUSY, METRICS_REFUSED_ENCLAVES},      {ESHUTDOWN, METRICS_REFUSED_SHUTDOWN},
    };
    int known = err == INVOKE_ERR_BINARY || err == INVOKE_ERR_CONFIDENTIAL || err == INVOKE_ERR_SEQUENCE;
    for (size_t i = 0; !known && i < sizeof REFUSALS / sizeof REFUSALS[0]; i++)
        if (REFUSALS[i].err == err) metrics_refusal(REFUSALS[i].why), known = 1;
    if (!known) metrics_refusal(METRICS_REFUSED_OTHER);
    switch (err) {
    case INVOKE_ERR_BINARY:
        snprintf(msg, msgsize,
                 "The action '%.256s' is a zip (binary) action of a Duktape kind: zip actions run on the V8 kinds "
                 "(nodejs:*, js:v8); update its kind",
                 name);
        return MHD_HTTP_BAD_REQUEST;
    case INVOKE_ERR_CONFIDENTIAL:
        snprintf(msg, msgsize,
                 "The action '%.256s' is confidential: invoke it with an OHTTP request to "
                 "POST /tfaas/v1/namespaces/_/actions/%.256s/ohttp (not through a sequence or a web action)",
                 name, name);
        return MHD_HTTP_BAD_REQUEST;
    case INVOKE_ERR_SEQUENCE:
        snprintf(msg, msgsize, "The sequence '%.256s' runs more than %d actions (nested sequences included)", name,
                 ACTION_SEQUENCE_MAX);
        return MHD_HTTP_BAD_REQUEST;
    case EAGAIN:
        snprintf(msg, msgsize, "Too many requests in flight for this action");
        return MHD_HTTP_TOO_MANY_REQUESTS;
    case EDQUOT:
        snprintf(msg, msgsize,
                 "Every enclave this namespace may have is busy: a namespace gets a fair share of this server's "
                 "enclaves (--max-enclaves, --max-enclaves-per-namespace); try again later");
        return MHD_HTTP_TOO_MANY_REQUESTS;
    case EUSERS:
        snprintf(msg, msgsize, "Too many concurrent requests in flight (count: %u, allowed: %u).", u.count,
                 budget_max_count(gw->budget));
        return MHD_HTTP_TOO_MANY_REQUESTS;
    case ENOBUFS:
        snprintf(msg, msgsize, "Too many concurrent requests in flight (bytes: %llu, allowed: %llu).",
                 (unsigned long long)u.bytes, (unsigned long long)budget_max_bytes(gw->budget));
        return MHD_HTTP_TOO_MANY_REQUESTS;
    case ESHUTDOWN: snprintf(msg, msgsize, "The platform is shutting down"); return MHD_HTTP_SERVICE_UNAVAILABLE;
    case EBUSY:
        snprintf(msg, msgsize,
                 "Every enclave is busy: this server runs at most its --max-enclaves enclave processes at once; try "
                 "again later");
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    case ENOMEM: snprintf(msg, msgsize, "The server ran out of memory"); return MHD_HTTP_INTERNAL_SERVER_ERROR;
    case ENOLINK: /* serve --node: the accepted row (cluster.h) could not be written */
        snprintf(msg, msgsize, "The platform's store could not record the activation as accepted; it did not run");
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    default:
        snprintf(msg, msgsize, "The activation could not be scheduled: %s", strerror(err));
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    }
}

/* The answer when invoke_start refused an activation with err. */
static enum MHD_Result submit_refused(http_req *r, const char *name, int err) {
    char msg[768];
    unsigned status = invoke_refusal(r->gw, r->tenant, name, err, msg, sizeof msg);
    return http_error(r->conn, status, "%s", msg);
}

/* Hands the job to the scheduler: 0, or -1 with *err (errno) when refused;
 * then both references are gone. */
static int submit(gateway *gw, invocation *inv, const sched_job *job, int *err) {
    gateway_inflight_add(gw);
    /* Before it can run: refused, nothing ran. A blocking REST invoke is
     * answered after its record's commit and skips it (answer_blocking). */
    int accept = gw->cluster && !inv->answers_committed;
    int refused = accept && accept_durably(gw, inv) < 0;
    if (!refused && scheduler_submit(gw->scheduler, job, on_done, inv) < 0) {
        refused = 1;
        int e = errno;
        if (accept) cluster_unaccept(gw->cluster, inv->id); /* its id is never given away */
        errno = e;
    }
    if (refused) {
        *err = errno;
        gateway_inflight_done(gw);
        inv_release(inv); /* the scheduler's reference, never taken */
        inv_release(inv);
        return -1;
    }
    return 0;
}

enum MHD_Result invoke_wait(http_req *r, invocation *inv) {
    gateway *gw = r->gw;
    /* The request keeps the reference until it ends (invoke_request_done). */
    r->invocation = inv;
    park_lock(gw);
    int parked_now = !inv->done && park_add_locked(gw, &inv->park, r->conn, gw->max_blocking_wait_ms) == 0;
    park_unlock(gw);
    return parked_now ? MHD_YES : invoke_resumed(r);
}

invocation *invoke_pending(gateway *gw, const invoke_who *who, const char *version, const char *kind,
                           const action_limits *lim, int *err) {
    invocation *inv = inv_new(gw, who, version, kind, lim);
    if (!inv) { *err = ENOMEM; return NULL; }
    inv->sequence = 1;
    gateway_inflight_add(gw); /* given back by on_committed, as for a submitted one */
    return inv;
}

void invoke_finish(invocation *inv, sched_result *res) { on_done(inv, res); }

/* Whether JSON text has an escape in U+D800..U+DFFF (or what looks like
 * one). Duktape reads an escaped surrogate pair as two lone surrogates, and
 * its result then carries bytes that are not UTF-8; jansson joins the pair,
 * and writes the character as UTF-8, which Duktape reads right. So such
 * parameters take the written-again path. */
static int surrogate_escape(const char *text, size_t len) {
    for (const char *p = text, *end = text + len; (p = memchr(p, '\\', (size_t)(end - p))); p++)
        if (end - p >= 4 && p[1] == 'u' && (p[2] == 'd' || p[2] == 'D') && strchr("89abcdefABCDEF", p[3]) && p[3])
            return 1;
    return 0;
}

/* `given` as a tree: invoke_handle leaves it NULL when the client's text
 * passed json_scan_object, and only a sequence or merged parameters need
 * it parsed (into *parsed, the caller's to release). -1 when out of memory. */
static int given_tree(const invoke_who *who, const json_t **given, json_t **parsed, int *err) {
    if (*given || !who->given_text) return 0;
    if (!(*parsed = json_loadb(who->given_text, who->given_len, JSON_ALLOW_NUL, NULL))) {
        *err = ENOMEM;
        return -1;
    }
    *given = *parsed;
    return 0;
}

invocation *invoke_run(gateway *gw, const invoke_who *who, const resolved_action *ra, const json_t *given, int *err) {
    const json_t *action = ra->action;
    json_t *parsed = NULL;
    if (action_confidential(action)) { *err = INVOKE_ERR_CONFIDENTIAL; return NULL; }
    if (action_is_sequence(action)) {
        if (given_tree(who, &given, &parsed, err) < 0) return NULL;
        invocation *seq = sequence_start(gw, who, action, given, err);
        json_decref(parsed);
        return seq;
    }
    const json_t *exec = json_object_get(action, "exec");
    const char *kind = json_get_str(exec, "kind", "js:duktape");
    /* created before zip actions ran (create refuses a Duktape one now) */
    if (action_is_binary(action) && action_kind_engine(kind) != SCHED_ENGINE_V8) {
        *err = INVOKE_ERR_BINARY;
        return NULL;
    }
    /* package, then the action's defaults, then the invocation's (resolve.h);
     * with neither, the invocation's as the client wrote them (invoke_who) */
    char *params = NULL;
    if (who->given_text && !surrogate_escape(who->given_text, who->given_len) && !json_object_size(ra->params) &&
        !json_array_size(json_object_get(action, "parameters"))) {
        if ((params = malloc(who->given_len + 1))) {
            memcpy(params, who->given_text, who->given_len);
            params[who->given_len] = '\0';
        }
    } else {
        json_t *merged = given_tree(who, &given, &parsed, err) == 0 ? resolved_params(ra, given) : NULL;
        json_decref(parsed);
        params = merged ? json_dump_compact(merged) : NULL; /* NULs come out escaped as \u0000 */
        json_decref(merged);
    }
    const json_t *codev = json_object_get(exec, "code");
    const char *code = json_is_string(codev) ? json_string_value(codev) : "";
    /* by length: JSON strings may hold NUL bytes */
    size_t code_len = json_is_string(codev) ? json_string_length(codev) : 0;
    const char *version = json_get_str(action, "version", "0.0.1");
    action_limits lim;
    action_limits_get(action, &lim);
    invoke_who named = *who;
    named.name = ra->name; /* the record names the action simply */
    char *action_json = params ? run_description(who, ra->path, action, kind, version) : NULL;
    invocation *inv = action_json ? inv_new(gw, &named, version, kind, &lim) : NULL;
    if (inv && (!(inv->path = strdup(ra->path)) || (ra->binding[0] && !(inv->binding = strdup(ra->binding))))) {
        atomic_store(&inv->refs, 1);
        inv_release(inv);
        inv = NULL;
    }
    if (!inv) {
        free(params);
        free(action_json);
        *err = ENOMEM;
        return NULL;
    }
    /* Own actions keep "tenant/NAME@version" (scheduler_drop's key after an
     * update); another namespace's shared action is keyed by its owner's id
     * and update time too, since its owner's updates cannot drop the warm
     * heaps other tenants hold of it. '@' cannot start an entity name. */
    char fn_key[2 * GATEWAY_NS_MAX + RESOLVE_PATH_MAX + 128];
    if (ra->foreign)
        snprintf(fn_key, sizeof fn_key, "%s/@%s#%s/%s@%s.%lld", who->tenant, ra->ns, ra->ns_id, ra->store_name,
                 version, (long long)json_get_int(action, "updated", 0));
    else
        snprintf(fn_key, sizeof fn_key, "%s/%s@%s", who->tenant, ra->store_name, version);
    sched_job job = job_for(gw->egress, who->ns, who->tenant, action, fn_key, &lim, inv);
    job.action_json = action_json;
    job.code = code;
    job.code_len = code_len;
    job.params_json = params;
    job.params_len = strlen(params);
    int refused = submit(gw, inv, &job, err);
    free(params); /* the scheduler copied what it keeps */
    free(action_json);
    free((char *)job.egress);
    return refused ? NULL : inv;
}

invocation *invoke_start(gateway *gw, const invoke_who *who, const json_t *action, const json_t *given, int *err) {
    /* the caller's own action who->name, outside packages */
    resolved_action ra;
    memset(&ra, 0, sizeof ra);
    snprintf(ra.ns, sizeof ra.ns, "%s", who->ns);
    snprintf(ra.store_name, sizeof ra.store_name, "%s", who->name);
    snprintf(ra.name, sizeof ra.name, "%s", who->name);
    snprintf(ra.path, sizeof ra.path, "%s/%s", who->ns, who->name);
    ra.params = json_object();
    ra.action = (json_t *)action;
    invocation *inv = ra.params ? invoke_run(gw, who, &ra, given, err) : NULL;
    if (!ra.params) *err = ENOMEM;
    json_decref(ra.params);
    return inv;
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
    msg[0] = '\0';
    if (atomic_load(&gw->stopping)) {
        snprintf(msg, msg_size, "The platform is shutting down");
        return INVOKE_STOPPING;
    }
    resolved_action ra;
    resolve_status rs = resolve_action_text(gw->store, c->ns, name, &ra);
    switch (rs) {
    case RESOLVE_OK: break;
    case RESOLVE_NOT_FOUND: snprintf(msg, msg_size, "%s", MSG_NOT_FOUND); return INVOKE_NOT_FOUND;
    case RESOLVE_FORBIDDEN:
        snprintf(msg, msg_size, "The supplied authentication is not authorized to access '%.256s'.", ra.denied);
        return INVOKE_FORBIDDEN;
    case RESOLVE_BAD_NAME:
        snprintf(msg, msg_size, "The name of the entity contains illegal characters.");
        return INVOKE_BAD_NAME;
    default:
        snprintf(msg, msg_size, "The platform's store failed to serve the request");
        return unresolved(rs);
    }
    invoke_who who = {.ns = c->ns, .ns_id = c->ns_id, .tenant = c->tenant, .name = ra.name, .cause = cause};
    int err = 0;
    invocation *inv = invoke_run(gw, &who, &ra, given, &err);
    resolved_clear(gw->store, &ra);
    if (!inv) {
        invoke_refusal(gw, c->tenant, name, err, msg, msg_size);
        return err == INVOKE_ERR_CONFIDENTIAL ? INVOKE_CONFIDENTIAL : err == ENOMEM ? INVOKE_NO_MEMORY : INVOKE_REFUSED;
    }
    memcpy(id_out, inv->id, 33);
    inv_release(inv); /* its record is written when it is done, as for a non-blocking invoke */
    return INVOKE_OK;
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
    gateway *gw = r->gw;
    enum MHD_Result sent = MHD_NO;
    if (action_route_check(r, &sent) < 0) return sent;
    int blocking, result_only;
    if (query_bool(req_query(r, "blocking"), 0, &blocking) < 0) return req_bad_query(r, "blocking", "true or false");
    if (query_bool(req_query(r, "result"), 0, &result_only) < 0) return req_bad_query(r, "result", "true or false");
    if (atomic_load(&gw->stopping))
        return http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "The platform is shutting down");

    /* Parameters that are certainly one JSON object (json_scan.h; the text
     * ends at its first NUL, hence the length check) go to the function as
     * they are, unparsed unless invoke_run needs them as a tree; anything
     * else is parsed here, and jansson says what is wrong with it. */
    json_t *given = NULL;
    int scanned = r->body_len && strlen(r->body) == r->body_len && json_scan_object(r->body);
    if (!scanned && !(given = req_body_json(r, 1, &sent))) return sent;
    if (!scanned && !json_is_object(given)) {
        json_decref(given);
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST,
                          "The request content was malformed: the parameters must be a JSON object");
    }
    resolved_action ra;
    resolve_status rs = resolve_action(gw->store, r->ns, r->rt.ns, r->rt.pkg, r->rt.name, &ra); /* read-only */
    if (rs != RESOLVE_OK) {
        json_decref(given);
        return resolve_refused(r, rs, &ra);
    }
    /* A confidential action's code is ciphertext: only an attested worker
     * can run it, and only for a request sealed to the function's OHTTP key
     * (invoke_run refuses it, invoke_refusal says where to send it). */
    invoke_who who = {.ns = r->ns, .ns_id = r->ns_id, .tenant = r->tenant, .name = ra.name,
                      .answers_committed = blocking, .given_text = r->body_len ? r->body : NULL,
                      .given_len = r->body_len};
    /* The caller's credential (authenticated already) and the URL it used,
     * for an action that asks for them (provide-api-key). */
    char uuid[AUTH_MAX_PART + 1], key[AUTH_MAX_PART + 1], api_key[2 * AUTH_MAX_PART + 2], api_host[300];
    const char *authz = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (authz && host && strlen(host) < sizeof api_host - 8 && auth_parse_basic(authz, uuid, key) == AUTH_OK) {
        snprintf(api_key, sizeof api_key, "%s:%s", uuid, key);
        snprintf(api_host, sizeof api_host, "http://%s", host);
        who.api_key = api_key;
        who.api_host = api_host;
    }
    int err = 0;
    invocation *inv = invoke_run(gw, &who, &ra, given, &err);
    json_decref(given);
    resolved_clear(gw->store, &ra);
    if (!inv) return submit_refused(r, r->rt.name, err);
    inv->result_only = result_only;
    if (blocking) return invoke_wait(r, inv);
    http_header hdr = {"x-openwhisk-activation-id", inv->id};
    enum MHD_Result ret = http_reply_json(r->conn, MHD_HTTP_ACCEPTED, json_pack("{ss}", "activationId", inv->id), &hdr);
    inv_release(inv);
    return ret;
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
    invoke_who who = {.ns = r->ns, .ns_id = r->ns_id, .tenant = r->tenant, .name = r->rt.name};
    const char *kind = json_get_str(exec, "kind", "js:duktape");
    char path[RESOLVE_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", r->ns, r->rt.name);
    /* the Node surface for a nodejs:* kind; the code's ciphertext is never
     * base64 the enclave should decode (binary is false when stored) */
    char *action_json = record ? run_description(&who, path, action, kind, version) : NULL;
    invocation *inv = action_json ? inv_new(gw, &who, version, kind, &lim) : NULL;
    if (!inv) {
        free(action_json);
        free(record);
        store_action_unpeek(gw->store, action);
        return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The server ran out of memory");
    }
    inv->confidential = 1;
    inv->is_public = r->rt.is_public;
    char fn_key[2 * GATEWAY_NS_MAX + 300];
    snprintf(fn_key, sizeof fn_key, "%s/%s@%s", r->tenant, r->rt.name, version);
    sched_job job = job_for(gw->egress, r->ns, r->tenant, action, fn_key, &lim, inv);
    job.code = code;
    job.code_len = strlen(code);
    job.params_json = r->body ? r->body : "";
    job.params_len = r->body ? r->body_len : 0;
    job.confidential = 1;
    job.record = record;
    job.record_len = record_len;
    job.action_json = action_json;
    int err = 0;
    /* always answered when done */
    enum MHD_Result ret = submit(gw, inv, &job, &err) < 0 ? submit_refused(r, r->rt.name, err) : invoke_wait(r, inv);
    free(action_json);
    free((char *)job.egress);
    free(record);
    store_action_unpeek(gw->store, action);
    return ret;
}
