/* shared_code.c - function code held once per revision (sched_code in
 * sched_internal.h), not once per queued activation.
 *
 * Why: an action's code may be tens of megabytes and a function's queue
 * holds up to --max-queue activations; copying the code into each made the
 * host's memory grow with the queue (issue 10, item 1). Now a submission
 * looks up the revision's copy in its function's state and takes a
 * reference; only the first submission of a revision copies (outside the
 * lock, so a large copy stalls nobody). The revision name "ns/name@version"
 * identifies the code, as it does for the enclaves' warm heaps; an update or
 * delete changes or drops it (scheduler_drop forgets the shared copy too). */
#include "host/scheduler/sched_internal.h"

#include <stdlib.h>
#include <string.h>

sched_code *sched_code_new(const char *ns, const char *fn_key, const char *bytes, size_t len) {
    sched_code *c = malloc(sizeof *c + len + 1);
    if (!c) return NULL;
    c->refs = 1;
    c->charged = 0;
    c->len = len;
    if (len) memcpy(c->bytes, bytes, len);
    c->bytes[len] = '\0';
    c->ns = strdup(ns);
    c->fn_key = strdup(fn_key);
    if (!c->ns || !c->fn_key) {
        free(c->ns);
        free(c->fn_key);
        free(c);
        return NULL;
    }
    return c;
}

sched_code *sched_code_find(fn_state *f, const char *fn_key, size_t len) {
    sched_code *c = f ? f->code : NULL;
    if (!c || c->len != len || strcmp(c->fn_key, fn_key) != 0) return NULL;
    c->refs++;
    return c;
}

void sched_code_unref(scheduler *s, sched_code *c) {
    if (!c || --c->refs > 0) return;
    if (c->charged && s->budget) budget_give(s->budget, c->ns, 0, c->len);
    free(c->ns);
    free(c->fn_key);
    free(c);
}

void sched_code_publish(scheduler *s, fn_state *f, sched_code *c) {
    if (f->code == c) return;
    c->refs++;
    sched_code_unref(s, f->code);
    f->code = c;
}
