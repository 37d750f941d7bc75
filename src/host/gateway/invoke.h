/* invoke.h - the one internal entry point that starts an activation of an
 * action: the REST invoke (POST /actions/{name}), web actions
 * (webaction.c), sequence components (sequence.c) and a rule's action when
 * a trigger fires (triggers.c, gateway_invoke_async) all go through
 * invoke_run, so admission (the scheduler's queue and the namespace's
 * budget), activation ids and record writing exist once. Not for use
 * outside src/host/gateway/.
 *
 * An invocation is reference-counted: invoke_start hands one reference to
 * its caller (invoke_release), the scheduler/store path holds the other.
 * Its state (done, commit, record) is guarded by the gateway's park lock;
 * invoke_state copies it out under that lock. */
#ifndef TFAAS_HOST_GATEWAY_INVOKE_H
#define TFAAS_HOST_GATEWAY_INVOKE_H

#include "host/gateway/action_doc.h"
#include "host/gateway/activation_record.h"
#include "host/gateway/gateway_internal.h"
#include "host/gateway/resolve.h"

#include <jansson.h>

typedef struct invocation invocation;

/* Called once, with the finished activation's record (borrowed, not yet
 * durable; NULL when it could not be built), on the thread that finished it (a scheduler thread, or the
 * thread that finished a sequence's last component), no gateway lock held.
 * May start further activations. */
typedef void (*invoke_then_fn)(void *ud, const json_t *record);

/* Who runs what: the namespace (name, id, and "name#id" as the scheduler
 * knows it), the action's name, and for a component of a sequence the
 * sequence's activation id (recorded as the component's cause). */
typedef struct {
    const char *ns, *ns_id, *tenant;
    const char *name;
    const char *cause;     /* the activation that caused this one (recorded as its "cause"), or NULL */
    int by_sequence;       /* ... and it is an enclosing sequence (annotation causedBy "sequence") */
    int depth;             /* sequences enclosing it (sequence.c bounds it) */
    invoke_then_fn then;   /* optional */
    void *then_ud;
    /* A REST invoke's caller: "uuid:key" and the URL it reached, given as
     * __OW_API_KEY and __OW_API_HOST to an action annotated provide-api-key
     * (docs/api.md); NULL on every other path. */
    const char *api_key, *api_host;
    /* The caller answers only once the record is committed (a blocking
     * REST invoke): with serve --node no accepted row is written up front,
     * only if its wait runs out and a 202 gives its id away (cluster.h). */
    int answers_committed;
    /* `given` as the client sent it (a REST invoke's body, which is that
     * object: parsed, or vouched for by json_scan_object, in which case
     * `given` is NULL), or NULL: when no package or action parameter is merged
     * into it, the enclave gets these bytes as they are, and `given` is not
     * serialised again (a sixth of the HTTP thread's CPU for a 230-byte echo). */
    const char *given_text;
    size_t given_len;
} invoke_who;

/* Why invoke_start refused, beyond the scheduler's errnos (submit_refused). */
#define INVOKE_ERR_BINARY (-1000)       /* a zip action of a Duktape kind (stored before create refused it) */
#define INVOKE_ERR_CONFIDENTIAL (-1001) /* only the OHTTP route runs it */
#define INVOKE_ERR_SEQUENCE (-1002)     /* a sequence nested past ACTION_SEQUENCE_MAX */

/* Starts an activation of the action resolve.h found (`ra`, read during the
 * call only) with `given` (a JSON object, borrowed; NULL when it is
 * who->given_text, parsed here only if a tree is needed) over its package's and
 * its own parameters; a sequence runs its components in turn (sequence.c).
 * The record names it ra->name with ra's path and binding. The caller must
 * have checked the gateway is not stopping. Returns the invocation holding
 * one reference for the caller, or NULL with *err: an errno of
 * scheduler_submit, ENOMEM, or an INVOKE_ERR_*. */
invocation *invoke_run(gateway *gw, const invoke_who *who, const resolved_action *ra, const json_t *given, int *err);
/* The same for `action` (a stored document), an action of who's own
 * namespace outside any package named who->name. */
invocation *invoke_start(gateway *gw, const invoke_who *who, const json_t *action, const json_t *given, int *err);
void invoke_release(invocation *inv);
const char *invoke_id(const invocation *inv);

/* The HTTP status and message (into msg) for a refusal of invoke_start,
 * as the REST invoke answers it; counts an admission refusal in /metrics
 * (call it once per refusal). */
unsigned invoke_refusal(gateway *gw, const char *tenant, const char *name, int err, char *msg, size_t msgsize);

/* Outcome of an invocation, copied under the park lock: done is final, and
 * once it is set record and commit no longer change (record is borrowed
 * from inv). */
typedef struct {
    int done;            /* its record's commit finished (well or not) */
    int not_run;         /* the scheduler never ran it (shutdown) */
    store_status commit; /* NOT_FOUND: the namespace was deleted meanwhile */
    const activation_text *record; /* NULL: none (out of memory) */
} invoke_state;
void invoke_state_get(gateway *gw, invocation *inv, invoke_state *out);

/* The request waits for inv (it takes over the caller's reference): the
 * connection is parked until the record is durable or --max-blocking-wait
 * runs out, then answered by invoke_resumed. */
enum MHD_Result invoke_wait(http_req *r, invocation *inv);

/* For sequence.c: a sequence's own activation, which the scheduler never
 * sees. invoke_pending makes it (two references: the caller's and the one
 * invoke_finish gives up) and counts it in flight; invoke_finish ends it
 * as the scheduler's completion would (builds, hands to `then`, stores). */
invocation *invoke_pending(gateway *gw, const invoke_who *who, const char *version, const char *kind,
                           const action_limits *lim, int *err);
void invoke_finish(invocation *inv, sched_result *res);

/* sequence.c: runs the components of a sequence action (invoke_start's
 * branch for exec.kind "sequence"); same contract as invoke_start. */
invocation *sequence_start(gateway *gw, const invoke_who *who, const json_t *action, const json_t *given, int *err);

/* sequence.c: the create-time checks of a sequence document (built by
 * action_doc_build) named `name` in r's namespace: each component rewritten
 * to "/ns/name", existing, not confidential, no cycle, at most
 * ACTION_SEQUENCE_MAX actions flattened. 0, or -1 with the HTTP status and
 * OpenWhisk's message in err. */
int sequence_resolve(http_req *r, const char *name, json_t *doc, unsigned *status, char *err, size_t errsize);

/* For a caller without an HTTP request (a trigger's rule): who invokes,
 * and the outcome as a status and, unless INVOKE_OK, a message. */
typedef struct {
    const char *ns, *ns_id, *tenant;
} invoke_caller;

typedef enum {
    INVOKE_OK = 0,
    INVOKE_NOT_FOUND,    /* no such action */
    INVOKE_FORBIDDEN,    /* another namespace's action the caller may not run (resolve.h) */
    INVOKE_BAD_NAME,     /* not "[/NS/][PKG/]NAME" */
    INVOKE_CONFIDENTIAL, /* only an OHTTP request may invoke it */
    INVOKE_NO_MEMORY,
    INVOKE_STORE_ERROR,
    INVOKE_REFUSED,      /* the scheduler or the namespace's budget refused it, or it cannot run (a Duktape zip) */
    INVOKE_STOPPING,     /* the server is shutting down */
} invoke_status;

/* Starts action `name` ("[/NS/][PKG/]NAME", resolved for c's namespace by
 * resolve.h) with `given` (borrowed) over its parameters; cause (may be
 * NULL) goes into its record as "cause". On INVOKE_OK id_out holds its
 * activation id; otherwise msg says why, as the REST invoke would. It runs
 * as a non-blocking invoke would. */
invoke_status gateway_invoke_async(gateway *gw, const invoke_caller *c, const char *name, const json_t *given,
                                   const char *cause, char id_out[33], char *msg, size_t msg_size);

#endif
