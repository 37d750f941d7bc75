/* gateway_internal.h - what the gateway's files share: the gateway itself,
 * one request being served, and the resource handlers server.c dispatches to.
 * Not for use outside src/host/gateway/.
 *
 * Threads: libmicrohttpd's event threads (--http-threads) run the handlers;
 * an http_req belongs to the event thread of its connection. Completions come
 * from other threads: on_done from whichever thread finished the activation
 * (an enclave's reader or io thread, an event thread, the main thread at
 * retirement or shutdown), on_committed from the store's writer thread; the sweeper thread (park.c) resumes parked requests
 * whose wait ran out. Locks, never nested: `mu` (inflight, active), park_mu
 * (the parked list, park_stopping and each invocation's done state,
 * invoke.c). No gateway lock is held while calling the scheduler or the
 * store, or while resuming a connection. */
#ifndef TFAAS_HOST_GATEWAY_INTERNAL_H
#define TFAAS_HOST_GATEWAY_INTERNAL_H

#include "host/gateway/alarms.h"
#include "host/gateway/cluster.h"
#include "host/gateway/gateway.h"
#include "host/gateway/http_response.h"
#include "host/gateway/offload.h"
#include "host/gateway/park.h"
#include "host/gateway/resolve.h"
#include "host/gateway/route.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#define GATEWAY_NS_MAX 257 /* namespace name buffer */
#define MSG_NOT_FOUND "The requested resource does not exist."
/* 503 of every route that needs the key service (docs/protocol.md §5.4) */
#define MSG_KMS_DOWN "The key service is not available."

struct gateway {
    struct MHD_Daemon *daemon;
    store *store;
    scheduler *scheduler;
    budget *budget; /* may be NULL: no per-namespace limits */
    kms_service *kms;
    json_t *egress; /* the operator's egress policies (egress_config.h), NULL: defaults; read-only */
    unsigned max_blocking_wait_ms;
    unsigned idle_timeout_s; /* a connection's, once past its first request head (gateway.h);
                              * like the fields above, set before the daemon starts, then read-only */
    unsigned port;
    gateway_metrics_access metrics_access; /* set before the daemon starts, then read-only */
    char *metrics_token;                   /* the same; NULL: no token asked */
    atomic_int stopping;  /* gateway_quiesce: no new invocations (read by every thread) */
    /* For shutdown: activations accepted by the scheduler whose record is
     * not yet durable, and requests not yet fully answered. */
    pthread_mutex_t mu;
    pthread_cond_t idle; /* broadcast when both reach 0 */
    unsigned inflight;
    unsigned active;
    /* Parked blocking invokes (park.c); park_mu guards the four fields
     * after park_thread. */
    pthread_mutex_t park_mu;
    pthread_cond_t park_cv;
    pthread_t park_thread;
    parked *park_head, *park_tail;
    int park_stopping;
    uint64_t park_wake_us; /* when the sleeping sweeper wakes at the latest */
    /* Reads answered off the event threads (offload.c), under offload_mu. */
    pthread_mutex_t offload_mu;
    pthread_cond_t offload_cv;
    http_req *offload_head, *offload_tail;
    int offload_stopping;
    pthread_t offload_thread[OFFLOAD_THREADS];
    unsigned offload_threads; /* started; fixed after gateway_start */
    alarms *alarms; /* the alarm feed's firing thread (alarms.h); set before the
                     * daemon starts, its thread stopped by gateway_quiesce,
                     * freed by gateway_stop after the daemon (feeds.c wakes it) */
    cluster_node *cluster; /* serve --node's lease (cluster.h), borrowed; NULL: a lone node; read-only */
};

/* One HTTP request; lives from its first header callback until MHD reports
 * it completed. Its buffers come last: a new request zeroes the fields
 * before them (on_request, server.c) and empties the strings, not 4.7 KiB. */
struct http_req {
    gateway *gw;
    struct MHD_Connection *conn;
    const char *method;
    char *body;              /* request body, NUL-terminated; NULL when empty */
    size_t body_len, body_cap, body_limit;
    int too_large;           /* body exceeded body_limit: it is discarded, answer 413 */
    uint64_t received;       /* body bytes read so far, kept or not */
    int answered;            /* the 413 has been queued */
    void *invocation;        /* a parked blocking invoke (invoke.c), owned */
    void *web;               /* a web action's answer context (webaction.c), owned */
    /* A read handed to a reader thread (offload.c): */
    int offloaded;           /* the next call of the handler answers from out */
    offload_fn offload_work;
    void *offload_arg;
    http_req *offload_next;  /* the readers' queue, under offload_mu */
    prepared out;            /* written by the reader before it resumes the connection */
    route rt;                /* route_match fills it */
    char ns[GATEWAY_NS_MAX]; /* authenticated namespace: its name, for the store */
    char ns_id[STORE_NSID_LEN + 1]; /* and its id (store_authenticate) */
    /* "name#id": the namespace as the scheduler and the enclaves know it, so
     * one deleted and created again under its name shares nothing with the
     * old one (its fn_keys are "name#id/action@version"). */
    char tenant[GATEWAY_NS_MAX + 1 + STORE_NSID_LEN];
};

/* Query-string value or NULL. */
const char *req_query(const http_req *r, const char *key);
/* Parses the body as JSON. Empty body gives a new {} when empty_ok, else
 * 400. On failure the 400 has been queued and *sent holds MHD's result. */
json_t *req_body_json(http_req *r, int empty_ok, enum MHD_Result *sent);
/* The same for a body that must be an object (an empty one is {}): a 400
 * "the WHAT must be a JSON object" otherwise. */
json_t *req_body_object(http_req *r, const char *what, enum MHD_Result *sent);
/* 400 naming a bad query parameter. */
enum MHD_Result req_bad_query(http_req *r, const char *name, const char *expected);
/* A list's page from ?limit= (0..200, 0 meaning 200, default 30, as
 * OpenWhisk) and ?skip=: 0, or -1 with the 400 queued in *sent. */
#define LIST_LIMIT_DEFAULT 30
#define LIST_LIMIT_MAX 200
int req_page(http_req *r, int64_t *limit, int64_t *skip, enum MHD_Result *sent);
/* 500 for a STORE_ERROR, with the store's message logged (not sent). */
enum MHD_Result req_store_error(http_req *r);

/* Handlers, one per resource family. The route and auth are already checked. */
enum MHD_Result info_handle(http_req *r);        /* GET /api/v1 */
enum MHD_Result namespaces_handle(http_req *r);  /* GET /api/v1/namespaces */
enum MHD_Result actions_handle(http_req *r);     /* actions, action: GET PUT DELETE */
enum MHD_Result invoke_handle(http_req *r);      /* POST action */
/* A parked blocking invoke was resumed: answer it. And: the request ends,
 * drop its invocation (invoke.c). */
enum MHD_Result invoke_resumed(http_req *r);
void invoke_request_done(http_req *r);
/* POST .../ohttp of a confidential action (its stored document and its
 * confidential annotation; action, a store_action_peek reference, is
 * stolen). invoke.c */
enum MHD_Result invoke_ohttp_handle(http_req *r, json_t *action, json_t *conf);
enum MHD_Result activations_handle(http_req *r); /* activations, /result, /logs */
/* /api/v1/web/...: any method, its own authentication (webaction.c); the
 * answer once its activation is done; and: the request ends. */
enum MHD_Result webaction_handle(http_req *r);
enum MHD_Result webaction_answer(http_req *r);
void webaction_request_done(http_req *r);
/* Checks r's Basic credentials: 0 with r->ns, ns_id and tenant the
 * caller's namespace, or -1 with the 401 queued (server.c). */
int req_authenticate(http_req *r, enum MHD_Result *sent);
enum MHD_Result attestation_handle(http_req *r); /* GET /tfaas/v1/attestation */
enum MHD_Result kms_transfer_handle(http_req *r); /* POST /tfaas/v1/kms/transfer */
enum MHD_Result metrics_handle(http_req *r);     /* GET /metrics (metrics_route.c) */
enum MHD_Result health_handle(http_req *r);      /* GET /health (health.c) */
enum MHD_Result console_handle(http_req *r);     /* GET /console[/{asset}] (console.c) */
enum MHD_Result confidential_handle(http_req *r); /* /tfaas/v1/namespaces/{ns}/actions/{name}[/...] */
enum MHD_Result triggers_handle(http_req *r);    /* triggers, trigger: GET PUT DELETE, POST fires */
enum MHD_Result rules_handle(http_req *r);       /* rules, rule: GET PUT DELETE, POST status */
/* entity_list.c: GET of a trigger or rule collection with OpenWhisk's
 * limit, skip and count (count answers {collection: N}). */
enum MHD_Result entity_list_handle(http_req *r, int kind, const char *collection);
/* The answer to a put that store_entity_put_bounded refused (STORE_CONFLICT):
 * 403 when the namespace holds `held` (nonzero) entities of that kind, the
 * most it may (STORE_ENTITIES_MAX, docs/api.md), else 409 (the name exists). */
enum MHD_Result entity_put_refused(http_req *r, int64_t held, const char *what);
/* feeds.c: whether the route is one of the feed actions tfaas serves
 * (/whisk.system/alarms/...), and its answer to them. */
int feeds_route(const http_req *r);
enum MHD_Result feeds_handle(http_req *r);
/* actions.c: stores an action from a PUT body (stolen) as PUT does, honouring
 * ?overwrite; answers with the stored document. Only the confidential
 * deploy (confidential = 1) may carry the "confidential" annotation. */
enum MHD_Result action_put_body(http_req *r, const char *name, json_t *body, int confidential);
/* The confidential annotation of a stored action document ({certificate,
 * record, ohttp_keys}), borrowed; NULL for ordinary actions. */
json_t *action_confidential(const json_t *doc);

/* actions.c: 0 when the route names a valid action name (and package
 * name); otherwise the 400 was queued and *sent holds MHD's result. */
int action_route_check(http_req *r, enum MHD_Result *sent);
/* invoke.c: OpenWhisk's answer when resolve_action (resolve.h) found no
 * action the caller may use: 403 naming what was refused, 404, 400, 500. */
enum MHD_Result resolve_refused(http_req *r, resolve_status rs, const resolved_action *ra);
enum MHD_Result packages_handle(http_req *r);    /* packages, package: GET PUT DELETE (packages.c) */

/* In-flight accounting for graceful shutdown (invoke.c). */
void gateway_inflight_add(gateway *g);
void gateway_inflight_done(gateway *g);

#endif
