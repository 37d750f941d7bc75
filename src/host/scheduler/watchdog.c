/* watchdog.c - the scheduler's housekeeping thread: kills enclaves that
 * overrun an activation's deadline by more than the grace period, moves
 * enclaves running a long activation to background CPU priority while other
 * tenants have short work, and back,
 * stops idle enclaves (scale to zero) and reaps dead ones (threads joined,
 * process waited for, memory freed). */
#include "host/scheduler/cpu_priority.h"
#include "host/scheduler/sched_internal.h"

#include "host/util/clock.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

int sched_reapable(const enclave *e) {
    return e->state == ENC_DEAD && (!e->has_io || e->io_done) && (!e->has_reader || e->reader_done) &&
           e->senders == 0;
}

void sched_reap(scheduler *s, enclave *e) {
    (void)s;
    /* The process dies before the threads are joined: a writer blocked on a
     * full socket returns once the peer is gone. */
    int killed_by_us = e->killed;
    launcher_kill(e->pid);
    if (e->has_io) pthread_join(e->io_thread, NULL);
    if (e->has_reader) pthread_join(e->reader_thread, NULL);
    int status = launcher_reap(e->pid);
    /* An enclave that died on its own says why, for the operator: a signal
     * here is usually SIGSYS, a system call the sandbox does not allow. */
    if (WIFSIGNALED(status) && (WTERMSIG(status) != SIGKILL || !killed_by_us))
        fprintf(stderr, "tfaas: enclave %d (%s) was killed by signal %d (%s)\n", (int)e->pid, e->unit,
                WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        fprintf(stderr, "tfaas: enclave %d (%s) exited with status %d\n", (int)e->pid, e->unit,
                WEXITSTATUS(status));
    enclave_free(e);
}

/* An enclave counts as wanting the CPU for short work while it has
 * activations waiting for a worker, one running for less than the
 * background threshold, or finished one this recently: a neighbour between
 * two quick requests is still a neighbour. */
#define RECENT_WORK_US 100000u

static int live(const enclave *e) {
    return (e->state == ENC_READY || e->state == ENC_STOPPING) && !e->killed && e->pid > 0;
}

static int is_long(const activation *a, uint64_t now, uint64_t after_us) {
    return !a->pipelined && now > a->sent_us && now - a->sent_us >= after_us;
}

static int runs_long(const enclave *e, uint64_t now, uint64_t after_us) {
    for (const activation *a = e->inflight; a; a = a->next)
        if (is_long(a, now, after_us)) return 1;
    return 0;
}

static int has_short_work(const enclave *e, uint64_t now, uint64_t after_us) {
    if (e->pending_head) return 1;
    for (const activation *a = e->inflight; a; a = a->next)
        if (!is_long(a, now, after_us)) return 1;
    return e->running == 0 && now >= e->idle_since_us && now - e->idle_since_us < RECENT_WORK_US;
}

/* An enclave yields the CPU (background priority) while it runs a long
 * activation and another enclave of this server has short work; otherwise
 * it runs at normal priority. Yielding to other tenants only, not to
 * whatever else the machine runs, keeps a long activation at full speed when
 * it has the server to itself. Lock held; procfs is written only when an
 * enclave's state changes. */
static void update_priorities(scheduler *s, uint64_t now, uint64_t after_us) {
    unsigned short_work = 0;
    for (enclave *e = s->enclaves; e; e = e->next)
        if (live(e) && has_short_work(e, now, after_us)) short_work++;
    for (enclave *e = s->enclaves; e; e = e->next) {
        if (!live(e)) continue;
        unsigned others = short_work - (unsigned)has_short_work(e, now, after_us);
        int background = others > 0 && runs_long(e, now, after_us);
        if (background == e->background) continue;
        if (cpu_priority_set(e->pid, background) < 0)
            fprintf(stderr, "tfaas: cannot change the CPU priority of enclave %d (%s): %s\n", (int)e->pid,
                    e->unit, strerror(errno));
        else if (background)
            s->stats.backgrounded++;
        e->background = background; /* even on failure: one message per change, not per tick */
    }
}

/* One pass over the enclaves. Lock held. */
static void check_enclaves(scheduler *s, uint64_t now) {
    uint64_t grace_us = (uint64_t)s->cfg.kill_grace_ms * 1000u;
    uint64_t ttl_us = (uint64_t)s->cfg.idle_ttl_ms * 1000u;
    uint64_t background_us = (uint64_t)s->cfg.background_after_ms * 1000u;
    for (enclave *e = s->enclaves; e; e = e->next) {
        if (e->state == ENC_READY || e->state == ENC_STOPPING) {
            for (activation *a = e->inflight; a && !e->killed; a = a->next) {
                if (!a->pipelined && now > a->deadline_us + grace_us) {
                    fprintf(stderr, "tfaas: enclave %d (%s) overran activation %s by more than %u ms; killing it\n",
                            (int)e->pid, e->unit, a->activation_id, s->cfg.kill_grace_ms);
                    enclave_kill(e);
                }
            }
        }
        if (e->state == ENC_STOPPING && !e->killed && now >= e->stop_deadline_us) enclave_kill(e);
        if (ttl_us && enclave_idle(e) && now - e->idle_since_us >= ttl_us) enclave_stop(e, now);
    }
    if (background_us) update_priorities(s, now, background_us);
}

void *watchdog_main(void *arg) {
    scheduler *s = arg;
    pthread_setname_np(pthread_self(), "sched-watchdog");
    pthread_mutex_lock(&s->lock);
    while (!s->closing) {
        check_enclaves(s, clock_mono_us());
        /* Unlink the dead, then join and reap them without the lock. */
        enclave *dead = NULL;
        for (enclave **p = &s->enclaves; *p;) {
            if (sched_reapable(*p)) {
                enclave *e = *p;
                *p = e->next;
                e->next = dead;
                dead = e;
            } else {
                p = &(*p)->next;
            }
        }
        if (dead) {
            pthread_mutex_unlock(&s->lock);
            while (dead) {
                enclave *next = dead->next;
                sched_reap(s, dead);
                dead = next;
            }
            pthread_mutex_lock(&s->lock);
            continue;
        }
        struct timespec ts = clock_mono_deadline(SCHED_WATCHDOG_TICK_MS);
        pthread_cond_timedwait(&s->wd_wake, &s->lock, &ts);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}
