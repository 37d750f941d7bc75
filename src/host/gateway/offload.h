/* offload.h - reads answered off the HTTP event threads (issue 10, item 4).
 *
 * A handler whose answer needs a store read of unbounded cost to others (a
 * page of activation records, one record of up to ~11 MiB) suspends its
 * connection and hands the work to one of the gateway's reader threads.
 * The reader prepares the whole answer (status and body bytes) and resumes
 * the connection; the event thread then only queues what was prepared. So
 * an event thread never waits for the store lock or copies a page while
 * the other connections it serves wait.
 *
 * One lock (offload_mu) guards the queue and the stopping flag. */
#ifndef TFAAS_HOST_GATEWAY_OFFLOAD_H
#define TFAAS_HOST_GATEWAY_OFFLOAD_H

#include <microhttpd.h>
#include <stddef.h>

typedef struct gateway gateway;
typedef struct http_req http_req;

/* What a reader prepared for its request. */
typedef struct {
    unsigned status;       /* 0: not prepared; 200 with body; else an error with msg */
    char *body;            /* JSON text, malloc'd; freed when the request ends */
    size_t len;
    const char *hdr_name;  /* one optional header (static name), or NULL */
    char hdr_value[32];
    const char *msg;       /* the error's message (static) */
    int store_failed;      /* a store error: logged and answered 500 */
} prepared;

/* Runs on a reader thread: fills *out for r (arg is the handler's, owned
 * by work from here on). */
typedef void (*offload_fn)(http_req *r, void *arg, prepared *out);

#define OFFLOAD_THREADS 2u

int offload_start(gateway *g);
/* Runs what is queued, refuses new work (offload_run then works inline) and
 * joins the readers; before the daemon stops, so nothing stays suspended. */
void offload_stop(gateway *g);

/* Hands work to a reader; the answer follows when MHD calls the handler
 * again (offload_answer). While stopping, runs it here and answers. */
enum MHD_Result offload_run(http_req *r, offload_fn work, void *arg);
/* Queues the prepared answer; for the resumed request's handler. */
enum MHD_Result offload_answer(http_req *r);
/* The request ends: frees what was prepared and not sent. */
void offload_request_done(http_req *r);

#endif
