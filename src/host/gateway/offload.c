/* offload.c - the gateway's reader threads and their queue; see offload.h.
 * Requests wait in arrival order; each reader takes the oldest. */
#include "host/gateway/offload.h"
#include "host/gateway/gateway_internal.h"

#include <stdlib.h>
#include <string.h>

static void *reader_main(void *arg) {
    gateway *g = arg;
    pthread_setname_np(pthread_self(), "gw-reader");
    pthread_mutex_lock(&g->offload_mu);
    for (;;) {
        while (!g->offload_head && !g->offload_stopping) pthread_cond_wait(&g->offload_cv, &g->offload_mu);
        http_req *r = g->offload_head;
        if (!r) break; /* stopping and drained */
        g->offload_head = r->offload_next;
        if (!g->offload_head) g->offload_tail = NULL;
        pthread_mutex_unlock(&g->offload_mu);
        r->offload_work(r, r->offload_arg, &r->out);
        r->offload_arg = NULL;
        MHD_resume_connection(r->conn); /* its handler answers from r->out */
        pthread_mutex_lock(&g->offload_mu);
    }
    pthread_mutex_unlock(&g->offload_mu);
    return NULL;
}

int offload_start(gateway *g) {
    pthread_mutex_init(&g->offload_mu, NULL);
    pthread_cond_init(&g->offload_cv, NULL);
    g->offload_head = g->offload_tail = NULL;
    g->offload_stopping = 0;
    g->offload_threads = 0;
    for (unsigned i = 0; i < OFFLOAD_THREADS; i++) {
        if (pthread_create(&g->offload_thread[i], NULL, reader_main, g) != 0) {
            offload_stop(g);
            return -1;
        }
        g->offload_threads++;
    }
    return 0;
}

void offload_stop(gateway *g) {
    pthread_mutex_lock(&g->offload_mu);
    g->offload_stopping = 1;
    pthread_cond_broadcast(&g->offload_cv);
    pthread_mutex_unlock(&g->offload_mu);
    for (unsigned i = 0; i < g->offload_threads; i++) pthread_join(g->offload_thread[i], NULL);
    g->offload_threads = 0;
    pthread_cond_destroy(&g->offload_cv);
    pthread_mutex_destroy(&g->offload_mu);
}

enum MHD_Result offload_run(http_req *r, offload_fn work, void *arg) {
    gateway *g = r->gw;
    r->offload_work = work;
    r->offload_arg = arg;
    r->offloaded = 1;
    pthread_mutex_lock(&g->offload_mu);
    int queued = !g->offload_stopping;
    if (queued) {
        MHD_suspend_connection(r->conn);
        r->offload_next = NULL;
        if (g->offload_tail) g->offload_tail->offload_next = r;
        else g->offload_head = r;
        g->offload_tail = r;
        pthread_cond_signal(&g->offload_cv);
    }
    pthread_mutex_unlock(&g->offload_mu);
    if (queued) return MHD_YES;
    work(r, arg, &r->out); /* stopping: nobody else would */
    r->offload_arg = NULL;
    return offload_answer(r);
}

enum MHD_Result offload_answer(http_req *r) {
    prepared *p = &r->out;
    if (p->store_failed) return req_store_error(r);
    if (p->status != MHD_HTTP_OK || !p->body)
        return http_error(r->conn, p->status ? p->status : MHD_HTTP_INTERNAL_SERVER_ERROR, "%s",
                          p->msg ? p->msg : "The server ran out of memory");
    http_header h = {p->hdr_name, p->hdr_value};
    char *body = p->body;
    p->body = NULL; /* http_reply_bytes owns it now */
    return http_reply_bytes(r->conn, MHD_HTTP_OK, "application/json", body, p->len, &h, p->hdr_name ? 1 : 0);
}

void offload_request_done(http_req *r) {
    free(r->out.body);
    r->out.body = NULL;
}
