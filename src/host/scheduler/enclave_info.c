/* enclave_info.c - a snapshot of the enclave processes for GET /metrics:
 * engine, the isolation mode of the unit each serves, whether it is a
 * confidential worker, and its pid (the gateway reads its memory from /proc,
 * outside the scheduler lock). */
#include "host/scheduler/sched_internal.h"

#include <stdio.h>
#include <string.h>

const char *sched_engine_name(sched_engine e) { return e == SCHED_ENGINE_V8 ? "v8" : "duktape"; }

/* The mode a unit key (isolation_unit_key) was made for. */
static isolation_mode unit_mode(const char *unit) {
    if (!strncmp(unit, "function:", 9)) return ISOLATION_FUNCTION;
    if (!strncmp(unit, "tenant:", 7)) return ISOLATION_TENANT;
    return ISOLATION_SHARED;
}

size_t scheduler_enclaves(scheduler *s, sched_enclave_info *out, size_t max) {
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    for (enclave *e = s->enclaves; e; e = e->next) {
        if (e->state != ENC_STARTING && e->state != ENC_READY) continue;
        if (n < max) {
            sched_enclave_info *o = &out[n];
            o->pid = e->pid > 0 ? e->pid : 0;
            o->engine = e->engine;
            o->mode = unit_mode(e->unit);
            o->confidential = e->confidential;
            size_t len = 0;
            const char *ns = isolation_unit_ns(e->unit, &len);
            /* the tenant is "name#id" (gateway_internal.h): the name only */
            const char *hash = ns ? memchr(ns, '#', len) : NULL;
            if (hash) len = (size_t)(hash - ns);
            snprintf(o->ns, sizeof o->ns, "%.*s", ns ? (int)len : 0, ns ? ns : "");
        }
        n++;
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}
