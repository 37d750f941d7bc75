/* sched_internal.h - the scheduler's shared state, private to this folder.
 *
 * Where an activation lives, exactly one place at a time:
 *   fn_state.queue   waiting for a concurrency slot of its function
 *   enclave.pending  holds a slot, waiting for the enclave to start or for
 *                    one of its workers to be free
 *   enclave.keys_wait confidential, answered NEED_KEYS: out of the enclave
 *                    until the KMS's key release comes, then back to pending
 *   enclave.inflight sent to the enclave: running (deadline running), or
 *                    `pipelined`: waiting in its function's lane in the
 *                    enclave (no deadline until the one ahead of it ends;
 *                    cancelled to make room for another namespace, back
 *                    to pending: lane_share.c)
 *   done_list        finished, callback about to run
 *
 * Threads: per enclave an io thread (launches the process, then sends what
 * the others leave to it: control frames, big frames, frames a full socket
 * would not take) and a reader thread (reads RESULTs, a burst at a time, and
 * delivers their completions between cfg.burst_begin/end); one watchdog thread
 * per scheduler (timeouts, idle eviction, CPU priority, reaping). Other
 * threads (HTTP event threads in scheduler_submit, a reader finishing an
 * activation) send the next pending INVOKE themselves, inline (enclave.c).
 *
 * Locks, in this order (a thread holding send_mu never waits for the lock):
 *   scheduler.lock  guards every scheduler and fn_state field and every
 *                   enclave and activation field, except those the structs
 *                   below mark otherwise.
 *   enclave.send_mu one frame at a time on the enclave's fd. Taken with the
 *                   lock held, so frames go out in the order they were
 *                   chosen; then the lock is dropped for the write itself.
 *   budget's own lock (budget.h) is taken last, with or without the lock,
 *                   and nothing is taken while holding it.
 * Completion callbacks are never called under either: code that finishes
 * activations collects them on a done_list and calls done_list_deliver after
 * unlocking.
 *
 * What keeps an enclave alive: it is freed only by sched_reap, after the
 * watchdog (or scheduler_destroy) unlinked it from scheduler.enclaves, which
 * they do only once it is DEAD, its io and reader threads have left their
 * loops (io_done, reader_done) and no other thread pins it (senders == 0).
 * So under the lock any enclave in the list may be used; a thread that drops
 * the lock and still needs e afterwards pins it with e->senders++ first, and
 * after retaking the lock unpins it and wakes the watchdog if e died
 * meanwhile. An enclave's own io and reader threads need no pin.
 *
 * "Lock held" functions that drop and retake the lock (anything read before
 * them may have changed): enclave_dispatch, enclave_inline_end (both send),
 * and dispatch_one and writer_loop inside enclave.c. Every other "lock held"
 * function keeps it; enclave_kick inside an inline section only notes the
 * enclave, which enclave_inline_end then dispatches. */
#ifndef TFAAS_HOST_SCHEDULER_INTERNAL_H
#define TFAAS_HOST_SCHEDULER_INTERNAL_H

#include "common/ipc.h"
#include "host/scheduler/launcher.h"
#include "host/scheduler/scheduler.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#define SCHED_FN_BUCKETS 256u

/* FNV-1a of n bytes of k: the bucket of a function key in the scheduler's
 * and an enclave's tables (both have 256 buckets). */
static inline unsigned sched_key_hash(const char *k, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)k[i]) * 16777619u;
    return h % SCHED_FN_BUCKETS;
}
#define SCHED_STOP_GRACE_MS 1000u   /* SHUTDOWN -> SIGKILL for idle enclaves */
#define SCHED_WATCHDOG_TICK_MS 20u
#define SCHED_MAX_KEY 1024u         /* longest fn_key / namespace accepted */
/* Activations of one function (not confidential) that may be sent to its
 * enclave beyond its concurrency, to wait there in the function's lane
 * (endpoint.h): when one finishes, the enclave's worker goes on with the next
 * without a round trip through the host, and a burst of requests costs a
 * burst of frames per wake-up instead of two wake-ups each. */
#define SCHED_PIPELINE_MAX 32u
#define SCHED_MAX_UNIT ISOLATION_UNIT_MAX(SCHED_MAX_KEY)

#define MSG_TIMEOUT "The action exceeded its time limits of %u milliseconds."
#define MSG_DIED "The action did not produce a valid response and exited unexpectedly."
#define MSG_SHUTDOWN "The scheduler is shutting down."
#define MSG_NOT_RUN "The server is shutting down; the activation did not run."
#define MSG_NS_GONE "The namespace was deleted."

typedef struct fn_state fn_state;
typedef struct enclave enclave;

/* Why a pipelined activation was cancelled, which decides what its NOT_RUN
 * answer does (lane_share.c). A later reason replaces an earlier one when it
 * is stronger (the frame is out already): RETIRE > QUIESCE > YIELD. */
typedef enum {
    CANCEL_NONE,
    CANCEL_YIELD,   /* made room for another namespace's activation: sent again later */
    CANCEL_QUIESCE, /* the server is shutting down: ends unrun */
    CANCEL_RETIRE,  /* its namespace was deleted: ends unrun */
} lane_cancel;

/* A function revision's code, shared by reference: every activation of the
 * revision that the scheduler holds at once points to one copy, however many
 * are queued (shared_code.c). The copy's bytes are charged once, to the
 * budget of the namespace that made it, until the last reference goes.
 * refs is under scheduler.lock; the rest is fixed at creation. */
typedef struct sched_code {
    unsigned refs;
    int charged;      /* len is held in the budget of ns */
    char *ns;
    char *fn_key;     /* the revision: "ns/name@version" */
    size_t len;
    char bytes[];     /* len bytes and a NUL */
} sched_code;

/* Under scheduler.lock while it is queued, pending or in flight; its
 * copied-in job fields (ns .. max_log_bytes, done, ud) are set at
 * submission and read-only after. On a done_list it belongs to the thread
 * that delivers the list. */
typedef struct activation {
    struct activation *next;
    char *ns, *fn_key, *main, *params, *activation_id, *action_json;
    char *egress;           /* the egress policies (JSON array), NULL: no fetch */
    sched_code *code;       /* a reference; dropped when it finishes */
    sched_engine engine;
    char *unit;             /* isolation_unit_key: the enclave it runs in */
    size_t params_len;
    uint64_t charged;       /* bytes held in its namespace's budget, with one activation */
    int budgeted;           /* charged is held (so finishing gives it back) */
    uint32_t timeout_ms, concurrency;
    uint64_t memory_bytes, max_result_bytes, max_log_bytes;
    sched_done_fn done;
    void *ud;
    fn_state *fn;
    uint64_t ipc_id;
    uint64_t submit_us, sent_us, deadline_us; /* deadline = sent + timeout; sent = started when pipelined */
    int pipelined;          /* in flight, waiting in its lane in the enclave (SCHED_PIPELINE_MAX) */
    int may_pipeline;       /* its function's pipeline is on (fn_state.pipeline) */
    lane_cancel cancel;     /* pipelined, and an IPC_CANCEL for it went out: why (lane_share.c) */
    int retired;            /* its namespace was retired while it was in flight: never sent again */
    int sent_with_code;
    int confidential, sent_with_keys;
    uint8_t *record;  /* confidential: the sealed function record */
    size_t record_len;
    char *keys;       /* confidential: the key release, once the KMS made it */
    size_t keys_len;
    sched_result res; /* filled when finished */
} activation;

/* Finished activations waiting for their callbacks (outside the lock). */
typedef struct {
    activation *head, *tail;
} done_list;

struct fn_state {
    fn_state *next; /* hash chain */
    char *key;      /* "ns/name" */
    unsigned in_flight; /* activations holding a slot (pending or sent) */
    unsigned concurrency; /* slots: the newest submission's limit */
    unsigned pipeline;    /* slots beyond it, sent to wait in the enclave: SCHED_PIPELINE_MAX in
                           * every mode (lane_share.c keeps a shared enclave's lanes fair and
                           * empties a retired namespace's) */
    unsigned queued;
    activation *qhead, *qtail;
    sched_code *code; /* the latest revision's code that new submissions share; a reference */
};

/* A pre-encoded control frame (DROP, SHUTDOWN, an INVOKE resent with code). */
typedef struct frame {
    struct frame *next;
    ipc_writer w;
} frame;

/* The function keys an enclave has the code of (sent with an INVOKE and not
 * dropped since): hashed into ENCLAVE_LOADED_BUCKETS chains, since a
 * dispatch asks for one among possibly thousands (one tenant's functions). */
#define ENCLAVE_LOADED_BUCKETS 256u
typedef struct loaded_key {
    struct loaded_key *next; /* in its bucket */
    char *key;
} loaded_key;

typedef enum { ENC_STARTING, ENC_READY, ENC_STOPPING, ENC_DEAD } enclave_state;

/* Every field under scheduler.lock unless marked. */
struct enclave {
    enclave *next;          /* scheduler.enclaves: every enclave not yet reaped */
    /* Set by enclave_new, then read-only (read without the lock): */
    scheduler *s;
    char *unit;             /* isolation_unit_key of what it runs */
    sched_engine engine;    /* which enclave binary runs here */
    int confidential;       /* launched with the TEE; runs confidential functions only */
    enclave_state state;
    int current;            /* the enclave new work for its unit goes to */
    /* pid, fd, workers: written once by the io thread under the lock before
     * the state becomes READY, then read-only; the reader thread and senders
     * (pinned, state READY when they chose to send) read fd without the lock. */
    pid_t pid;              /* -1 until launched */
    int fd;                 /* -1 until launched */
    pthread_mutex_t send_mu; /* one frame at a time on fd, whichever thread sends */
    unsigned senders;       /* pins: threads that dropped the lock and still use e */
    int sending;            /* a dispatch_one is writing an INVOKE with the lock dropped: no other
                             * INVOKE goes out until it knows where that frame went (order) */
    unsigned workers;
    /* Written under the lock by the thread that creates each thread, read by
     * sched_reap once e is unlinked. */
    pthread_t io_thread, reader_thread;
    int has_io, has_reader;
    int io_done, reader_done; /* thread has left its loop */
    pthread_cond_t wake;    /* io thread: work to send or death */
    activation *pending_head, *pending_tail;
    activation *keys_head, *keys_tail; /* keys_wait: awaiting a key release */
    activation *inflight;
    unsigned running;       /* activations in inflight that run (hold a worker) */
    unsigned pipelined;     /* ... and that wait in their lane (see activation.pipelined) */
    int retired;            /* killed because its namespace was deleted: nothing in it is re-run */
    frame *urgent_head, *urgent_tail;
    loaded_key *loaded[ENCLAVE_LOADED_BUCKETS];
    uint64_t idle_since_us;
    uint64_t stop_deadline_us; /* STOPPING: SIGKILL after this */
    int killed;             /* SIGKILL sent */
    int background;         /* at background CPU priority (cpu_priority.h) */
    int launch_failed;
    char *launch_error;     /* why, for the failed activations; may be NULL */
};

/* Every field under lock, except cfg, enclave_path and enclave_v8_path
 * (set at create, then read-only) and watchdog (create and destroy only). */
struct scheduler {
    pthread_mutex_t lock;
    pthread_cond_t wd_wake;   /* watchdog: something to reap, or closing */
    pthread_cond_t all_dead;  /* destroy: an enclave finished */
    scheduler_config cfg;
    char *enclave_path;
    char *enclave_v8_path;  /* NULL when V8 is not available */
    int closing;
    int quiesced;             /* scheduler_quiesce: no new enclave, nothing new starts */
    pthread_t watchdog;
    enclave *enclaves;
    fn_state *fns[SCHED_FN_BUCKETS];
    budget *budget;           /* cfg.budget: per namespace, activations held and their bytes; may be NULL */
    uint64_t next_ipc_id;
    sched_stats stats;
};

/* scheduler.c */
void sched_finish(scheduler *s, activation *a, done_list *dl, tfaas_status st, const char *result_json);
void sched_finish_msg(scheduler *s, activation *a, done_list *dl, tfaas_status st, const char *msg);
void sched_release_slot(scheduler *s, activation *a, done_list *dl);
void sched_assign(scheduler *s, activation *a, done_list *dl);
void done_list_deliver(done_list *dl);

/* shared_code.c (lock held where it says so) */
/* A new, unshared, uncharged copy of code (refs 1); no lock needed. */
sched_code *sched_code_new(const char *ns, const char *fn_key, const char *bytes, size_t len);
/* Lock held: f's code if it is the revision fn_key of length len, with a new
 * reference; else NULL. */
sched_code *sched_code_find(fn_state *f, const char *fn_key, size_t len);
/* Lock held: drops a reference; the last one gives back its charge and frees it. */
void sched_code_unref(scheduler *s, sched_code *c);
/* Lock held: makes c the code f's next submissions share (f takes a reference). */
void sched_code_publish(scheduler *s, fn_state *f, sched_code *c);

/* enclave.c */
enclave *enclave_new(scheduler *s, const char *unit, sched_engine engine, int confidential);
int enclave_spawn(enclave *e); /* starts the io thread; -1 on failure */
void enclave_push_urgent(enclave *e, frame *f);
/* New pending work for e (lock held). Inside an inline section the calling
 * thread sends it itself at enclave_inline_end; otherwise e's io thread is
 * woken. Sending from the thread that has the work saves two thread
 * switches per activation on a busy core. */
void enclave_kick(enclave *e);
void enclave_inline_begin(void);
void enclave_inline_end(void); /* lock held; drops and retakes it to send */
/* Lock held: sends e's pending activations while it has free workers, from
 * the calling thread (the lock is dropped around each send). */
void enclave_dispatch(enclave *e);
void enclave_kill(enclave *e);
/* Lock held: asks an idle current enclave to exit (SHUTDOWN, SIGKILL after
 * SCHED_STOP_GRACE_MS); new work for its unit starts a fresh one. */
void enclave_stop(enclave *e, uint64_t now_us);
/* Idle: current, ready, nothing running, pending or about to be sent. */
int enclave_idle(const enclave *e);
void enclave_free(enclave *e); /* after both threads are joined and it is reaped */
frame *frame_drop(const char *prefix);
frame *frame_shutdown(void);
frame *frame_cancel(uint64_t ipc_id); /* IPC_CANCEL of a pipelined activation */

/* lane_share.c: what waits in an enclave's lanes when the enclave serves
 * several namespaces (shared-enclave mode), all lock held.
 * Contract: (1) fairness: an activation of namespace A is not sent to wait
 * in a lane while an activation of another namespace B waits on the host
 * for a worker (take_sendable), and when one does, A's activations already
 * waiting in lanes are cancelled (lanes_yield) and go back to the end of
 * the enclave's pending list, so B waits for at most the activations that
 * run, as it did before the shared enclave pipelined; (2) retirement:
 * scheduler_retire cancels the retired namespace's waiting activations
 * before the DROP of its heaps (lanes_retire), and each ends unrun (NOT_RUN,
 * "The namespace was deleted.") unless the enclave started it before the
 * CANCEL arrived; then it runs as one running at the retire does, and its
 * record is refused by the store. A retired activation is never sent again
 * (NEED_CODE, NEED_KEYS, the enclave's death). */
/* Cancels (why) every activation of e waiting in a lane for which match
 * says yes, oldest first, so a lane's yielded activations go back in
 * order. Already cancelled ones only take the stronger reason. Returns how
 * many it marked. */
unsigned lanes_cancel(enclave *e, int (*match)(const activation *a, const void *arg), const void *arg,
                      lane_cancel why);
/* ns's activation waits for a worker: other namespaces' waiting ones yield.
 * Returns how many CANCELs went out. */
unsigned lanes_yield(enclave *e, const char *ns);
/* The namespace whose fn_keys start with prefix is retired: its waiting
 * activations are cancelled, its running ones marked. Returns how many
 * waited. */
unsigned lanes_retire(enclave *e, const char *prefix);
/* The enclave answered NOT_RUN for a (taken out of inflight): ends it or
 * sends it again, by its cancel reason. */
void lanes_not_run(scheduler *s, activation *a, done_list *dl);
/* a asked to be sent again (NEED_CODE, NEED_KEYS, its enclave died before it
 * ran): 1 when its namespace was retired meanwhile and it ended unrun
 * instead (a is out of every list; its slot released). */
int lanes_end_retired(scheduler *s, activation *a, done_list *dl);

/* watchdog.c */
void *watchdog_main(void *arg);
/* Lock held: e is dead, its threads have left their loops and nothing pins
 * it, so it may be unlinked and reaped. */
int sched_reapable(const enclave *e);
void sched_reap(scheduler *s, enclave *e); /* joins, kills, reaps, frees; no lock held */

#endif
