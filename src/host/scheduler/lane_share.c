/* lane_share.c - activations waiting in an enclave's lanes when the enclave
 * serves several namespaces (shared-enclave mode): taking them back out with
 * CANCEL so another namespace gets a worker (fairness) or a deleted
 * namespace's work never starts (retirement), and what their NOT_RUN answer
 * does. The contract is in sched_internal.h; the enclave's side of CANCEL in
 * src/trusted/endpoint.c (cancel). Every function here runs with
 * scheduler.lock held and keeps it. */
#include "host/scheduler/sched_internal.h"

#include <stdlib.h>
#include <string.h>

static int by_ipc_id(const void *x, const void *y) {
    const activation *a = *(const activation *const *)x, *b = *(const activation *const *)y;
    return a->ipc_id < b->ipc_id ? -1 : a->ipc_id > b->ipc_id;
}

unsigned lanes_cancel(enclave *e, int (*match)(const activation *a, const void *arg), const void *arg,
                      lane_cancel why) {
    if (e->state != ENC_READY || !e->pipelined) return 0;
    /* inflight is newest first; CANCELs go out oldest first, so the
     * NOT_RUNs of a yielded lane come back, and are sent again, in order. */
    activation **v = malloc(e->pipelined * sizeof *v);
    if (!v) return 0; /* they run, as running work does */
    unsigned n = 0, marked = 0;
    for (activation *a = e->inflight; a && n < e->pipelined; a = a->next)
        if (a->pipelined && match(a, arg)) v[n++] = a;
    qsort(v, n, sizeof *v, by_ipc_id);
    for (unsigned i = 0; i < n; i++) {
        activation *a = v[i];
        if (a->cancel != CANCEL_NONE) { /* its CANCEL is out: only the reason changes */
            if (why > a->cancel) a->cancel = why;
            marked++;
            continue;
        }
        frame *f = frame_cancel(a->ipc_id);
        if (!f) break; /* no memory: the rest run */
        a->cancel = why;
        enclave_push_urgent(e, f);
        marked++;
    }
    free(v);
    return marked;
}

static int other_ns(const activation *a, const void *ns) {
    return a->cancel == CANCEL_NONE && strcmp(a->ns, ns) != 0;
}

unsigned lanes_yield(enclave *e, const char *ns) {
    unsigned n = lanes_cancel(e, other_ns, ns, CANCEL_YIELD);
    if (n) e->s->stats.lane_yields++;
    return n;
}

static int has_prefix(const activation *a, const void *prefix) {
    return strncmp(a->fn_key, prefix, strlen(prefix)) == 0;
}

unsigned lanes_retire(enclave *e, const char *prefix) {
    for (activation *a = e->inflight; a; a = a->next)
        if (has_prefix(a, prefix)) a->retired = 1;
    return lanes_cancel(e, has_prefix, prefix, CANCEL_RETIRE);
}

static void end_unrun(scheduler *s, activation *a, done_list *dl, const char *msg) {
    a->res.not_run = 1;
    sched_finish_msg(s, a, dl, TFAAS_STATUS_INTERNAL_ERR, msg);
    sched_release_slot(s, a, dl);
}

int lanes_end_retired(scheduler *s, activation *a, done_list *dl) {
    if (!a->retired) return 0;
    end_unrun(s, a, dl, MSG_NS_GONE);
    return 1;
}

void lanes_not_run(scheduler *s, activation *a, done_list *dl) {
    if (lanes_end_retired(s, a, dl)) return;
    if (a->cancel == CANCEL_YIELD && !s->quiesced && !s->closing) {
        /* Back to the end of its enclave's pending list, behind the
         * activation it made room for; it keeps its slot. */
        a->pipelined = 0;
        a->cancel = CANCEL_NONE;
        sched_assign(s, a, dl);
        return;
    }
    end_unrun(s, a, dl, MSG_NOT_RUN);
}
