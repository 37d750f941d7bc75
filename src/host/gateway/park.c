/* park.c - the parked-connection list and its deadline sweeper; see park.h.
 * Every parked request has the same wait budget, so appending at the tail
 * keeps the list ordered by deadline and the sweeper only looks at the head.
 * The sweeper is woken only for a deadline earlier than the one it sleeps
 * until: with an empty list it sleeps one wait budget at a time, so a lone
 * blocking invoke (whose deadline comes later) parks without a wake-up of
 * the sweeper, a thread switch that cost it ~10 us on a cloud VM. */
#include "host/gateway/park.h"
#include "host/gateway/gateway_internal.h"

#include "host/util/clock.h"

#include <errno.h>

void park_lock(gateway *g) { pthread_mutex_lock(&g->park_mu); }
void park_unlock(gateway *g) { pthread_mutex_unlock(&g->park_mu); }

int park_add_locked(gateway *g, parked *p, struct MHD_Connection *conn, unsigned wait_ms) {
    if (g->park_stopping) return -1; /* nobody would resume it */
    MHD_suspend_connection(conn);
    p->conn = conn;
    p->deadline_us = clock_mono_us() + (uint64_t)wait_ms * 1000u;
    p->next = NULL;
    p->prev = g->park_tail;
    if (g->park_tail) g->park_tail->next = p;
    else g->park_head = p;
    g->park_tail = p;
    if (p->deadline_us < g->park_wake_us) pthread_cond_signal(&g->park_cv); /* it would sleep past this one */
    return 0;
}

struct MHD_Connection *park_take_locked(gateway *g, parked *p) {
    struct MHD_Connection *conn = p->conn;
    if (!conn) return NULL;
    if (p->prev) p->prev->next = p->next;
    else g->park_head = p->next;
    if (p->next) p->next->prev = p->prev;
    else g->park_tail = p->prev;
    p->conn = NULL;
    p->prev = p->next = NULL;
    return conn;
}

static void *sweeper_main(void *arg) {
    gateway *g = arg;
    pthread_setname_np(pthread_self(), "gw-sweeper");
    pthread_mutex_lock(&g->park_mu);
    for (;;) {
        parked *head = g->park_head;
        if (head && (g->park_stopping || clock_mono_us() >= head->deadline_us)) {
            struct MHD_Connection *conn = park_take_locked(g, head);
            pthread_mutex_unlock(&g->park_mu);
            MHD_resume_connection(conn);
            pthread_mutex_lock(&g->park_mu);
            continue;
        }
        if (g->park_stopping) break;
        /* Until the head's deadline, or with none, for one wait budget (a
         * request parked meanwhile has a later deadline than that), at
         * least a second: a budget of 0 would have it poll. The wake-up
         * time is a millisecond past it, as the wait's is. */
        uint64_t now_us = clock_mono_us();
        uint64_t budget_ms = g->max_blocking_wait_ms > 1000u ? g->max_blocking_wait_ms : 1000u;
        uint64_t left_us = !head ? budget_ms * 1000u : head->deadline_us > now_us ? head->deadline_us - now_us : 0;
        struct timespec ts = clock_mono_deadline(left_us / 1000u + 1);
        g->park_wake_us = now_us + (left_us / 1000u + 1) * 1000u;
        pthread_cond_timedwait(&g->park_cv, &g->park_mu, &ts);
    }
    pthread_mutex_unlock(&g->park_mu);
    return NULL;
}

int park_start(gateway *g) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->park_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&g->park_mu, NULL);
    g->park_head = g->park_tail = NULL;
    g->park_stopping = 0;
    g->park_wake_us = 0; /* not asleep yet: it reads the list before it first sleeps */
    if (pthread_create(&g->park_thread, NULL, sweeper_main, g) != 0) {
        pthread_cond_destroy(&g->park_cv);
        pthread_mutex_destroy(&g->park_mu);
        return -1;
    }
    return 0;
}

void park_stop(gateway *g) {
    pthread_mutex_lock(&g->park_mu);
    g->park_stopping = 1;
    pthread_cond_signal(&g->park_cv);
    pthread_mutex_unlock(&g->park_mu);
    pthread_join(g->park_thread, NULL);
}

void park_fini(gateway *g) {
    pthread_cond_destroy(&g->park_cv);
    pthread_mutex_destroy(&g->park_mu);
}
