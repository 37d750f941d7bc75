/* park.h - blocking invokes waiting for their activation without holding a
 * thread. The request's connection is suspended (libmicrohttpd
 * suspend/resume) and listed here with a deadline; the completion path or,
 * once the deadline passes, the sweeper thread takes it off the list and
 * resumes it, and the request handler runs again to answer.
 *
 * One lock (park_lock) guards the list and whatever "done" state the caller
 * keeps beside it, so "finish, then find the parked connection" and "check
 * done, then park" cannot interleave badly. */
#ifndef TFAAS_HOST_GATEWAY_PARK_H
#define TFAAS_HOST_GATEWAY_PARK_H

#include <microhttpd.h>
#include <stdint.h>

typedef struct gateway gateway;

typedef struct parked {
    struct MHD_Connection *conn; /* non-NULL while listed (suspended) */
    uint64_t deadline_us;        /* CLOCK_MONOTONIC */
    struct parked *prev, *next;
} parked;

/* The sweeper thread; 0 or -1. park_stop resumes every parked connection
 * (their handlers then answer 202), refuses new ones and joins the thread;
 * park_fini frees the lock once no completion can come any more. */
int park_start(gateway *g);
void park_stop(gateway *g);
void park_fini(gateway *g);

void park_lock(gateway *g);
void park_unlock(gateway *g);
/* With the lock held: suspends conn and lists p until now + wait_ms; 0.
 * -1 (nothing done) once park_stop has begun. Call from the request's handler. */
int park_add_locked(gateway *g, parked *p, struct MHD_Connection *conn, unsigned wait_ms);
/* With the lock held: unlists p; returns its connection for the caller to
 * resume (after unlocking), or NULL when p was not parked. */
struct MHD_Connection *park_take_locked(gateway *g, parked *p);

#endif
