/* scheduler.h - runs activations on enclave processes.
 *
 * Which activations share an enclave process is the isolation mode's
 * choice (isolation.h: one process per function, per namespace or for all);
 * each such "unit" has at most one current enclave, started on first use
 * and stopped after it has been idle for idle_ttl_ms (scale to zero). At
 * most max_enclaves units have a process at once: a new one stops the least
 * recently used idle enclave, or is refused (EBUSY) when none is idle.
 * Each namespace has a fair share of enclaves (ns_share in scheduler.c): one that
 * holds its share may only replace an idle enclave of its own, else it is
 * refused (EDQUOT), so one tenant cannot take every enclave from the others.
 * A namespace here is the caller's tenant key (`ns`, also the part of every
 * fn_key before its first '/'): the gateway makes it name#id, so a namespace
 * deleted and created again under the same name shares nothing with its
 * predecessor (scheduler_retire stops what the old one left behind).
 * Inside an enclave each function has up to `concurrency` warm heaps;
 * activations beyond that wait in a per-function FIFO of at most max_queue
 * entries (back-pressure: scheduler_submit fails with EAGAIN).
 * With a budget (budget.h), each accepted activation takes its namespace's
 * share (one activation, its bytes) until it finishes, and a submission past
 * the namespace's limits is refused (EUSERS, ENOBUFS): what one tenant makes
 * the host keep is bounded. The code of a function revision is held once,
 * shared by reference by all its activations, and counted once.
 * An enclave that dies or overruns an activation's timeout by more than the
 * grace period is killed; its in-flight activations fail and the next
 * submission starts a fresh enclave. */
#ifndef TFAAS_HOST_SCHEDULER_H
#define TFAAS_HOST_SCHEDULER_H

#include "common/ipc.h"
#include "host/scheduler/budget.h"
#include "host/scheduler/isolation.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct scheduler scheduler;

/* The engine an activation needs: each has its own enclave binary. */
typedef enum {
    SCHED_ENGINE_DUKTAPE = 0, /* tfaas-enclave */
    SCHED_ENGINE_V8,          /* tfaas-enclave-v8 */
    SCHED_ENGINES
} sched_engine;
/* Confidential functions (docs/protocol.md §6.4): asks the key service to
 * release a function's keys (its sealed record) to the worker enclave whose
 * identity (evidence and keys, JSON text) came with a NEED_KEYS answer.
 * Called by an enclave's reader thread without the scheduler lock; may
 * block. 0 with *bundle (malloc'd) for the enclave; -1 with *err (malloc'd)
 * and *refused set when the KMS refused (rather than failed). */
typedef int (*sched_release_fn)(void *ud, const uint8_t *record, size_t record_len, const char *worker,
                                size_t worker_len, char **bundle, size_t *bundle_len, int *refused, char **err);

/* The sim TEE's quoting channel for a confidential worker about to start
 * (quote_service.h): 0 with *fd (the caller closes it once the worker has
 * it), or -1 with *err (malloc'd). */
typedef int (*sched_quote_fn)(void *ud, int *fd, char **err);

typedef struct {
    const char *enclave_path; /* path of the tfaas-enclave executable */
    const char *enclave_v8_path; /* tfaas-enclave-v8; NULL: V8 jobs fail to start */
    unsigned workers;         /* worker threads per enclave */
    unsigned idle_ttl_ms;     /* stop an enclave idle this long; 0 = never */
    unsigned max_queue;       /* queued activations per function before EAGAIN */
    unsigned kill_grace_ms;   /* past timeout_ms before the enclave is killed */
    isolation_mode isolation; /* the server's mode; UNSET means enclave-per-tenant */
    unsigned max_enclaves;    /* enclave processes serving at once; 0 = no limit */
    unsigned max_enclaves_per_ns; /* of those, one namespace's at most; 0 = no limit of its
                                   * own (the max_enclaves share still applies) */
    unsigned background_after_ms; /* an enclave running an activation this long runs at
                                   * background CPU priority (cpu_priority.h); 0 = never */
    const char *const *enclave_args; /* further tfaas-enclave arguments (the TEE), NULL-terminated */
    sched_release_fn release; /* key releases for confidential functions; NULL refuses them */
    void *release_ud;
    sched_quote_fn quote;     /* confidential workers get this channel as fd 4 (the enclave
                               * arguments say --quote-fd 4); NULL: none */
    void *quote_ud;
    budget *budget;           /* per-namespace admission, borrowed (outlives the scheduler); NULL = none */
    /* Optional brackets around a burst of completions that an enclave's
     * reader delivers in a row (results that arrived together): called on
     * that thread, before the first and after the last callback, so that
     * what the callbacks hand on (records to store) can go as one batch. */
    void (*burst_begin)(void *ud);
    void (*burst_end)(void *ud);
    void *burst_ud;
} scheduler_config;

/* One activation to run. The scheduler copies everything it keeps (the
 * code once per revision: see shared_code.c). */
typedef struct {
    const char *ns;            /* tenant */
    sched_engine engine;       /* with the isolation unit, selects the enclave */
    const char *fn_key;        /* "ns/name@version": one revision of one function */
    const char *code;          /* function source */
    size_t code_len;
    const char *main;          /* entry point name, "main" by default */
    const char *params_json;   /* JSON object text */
    size_t params_len;
    const char *activation_id;
    uint32_t timeout_ms;
    uint64_t memory_bytes;
    uint64_t max_result_bytes;
    uint64_t max_log_bytes;
    uint32_t concurrency;      /* max heaps of this function running at once */
    isolation_mode isolation;  /* the action's request (annotation), or UNSET */
    int confidential;          /* code is encrypted, params an OHTTP request */
    const uint8_t *record;     /* confidential: the KMS's sealed function record */
    size_t record_len;
    const char *action_json;   /* INVOKE's ACTION field (ipc.h): binary, node, env; NULL: {} */
    const char *egress;        /* egress policies, a JSON array (common/egress_policy.h); NULL: no fetch */
} sched_job;

/* Outcome handed to the completion callback. The callback owns the strings
 * and frees them with sched_result_free. */
typedef struct {
    tfaas_status status;       /* SUCCESS .. INTERNAL_ERR */
    char *result_json;         /* JSON object text, never NULL */
    char *logs;                /* '\n'-joined log lines, never NULL */
    uint8_t *sealed;           /* a confidential call that ran: its OHTTP response (result_json
                                * is then "{}"); NULL otherwise */
    size_t sealed_len;
    uint64_t duration_us;      /* time the function ran */
    uint64_t init_us;          /* heap creation + code load, 0 when warm */
    uint64_t wait_us;          /* submission until an enclave took it */
    uint64_t peak_memory;      /* bytes */
    int not_run;               /* never ran: the server is stopping (scheduler_quiesce) or its
                                * namespace was retired, while it waited on the host or in its
                                * enclave's lane */
} sched_result;

/* Called exactly once per accepted submission, from a scheduler thread. */
typedef void (*sched_done_fn)(void *ud, sched_result *res);

scheduler *scheduler_create(const scheduler_config *cfg, char **err);
/* 0 when accepted; -1 with errno EAGAIN when the function's queue is full
 * (HTTP 429), EUSERS when the namespace holds its budget's count already,
 * ENOBUFS when it would hold more than its budget's bytes (both 429),
 * EDQUOT when its unit has no enclave and its namespace holds its share of
 * enclaves, all busy (HTTP 429), EBUSY when its unit has no enclave and
 * max_enclaves are all busy (HTTP 503), ESHUTDOWN once quiesced, or another
 * errno on failure to accept. */
int scheduler_submit(scheduler *s, const sched_job *job, sched_done_fn done, void *ud);
/* Forget every warm heap of ns/name (all revisions), in whichever enclaves
 * hold them: after update or delete. */
void scheduler_drop(scheduler *s, const char *ns, const char *name);
/* Namespace ns is gone for good: its queued and waiting activations finish
 * at once (not_run, "The namespace was deleted."), the enclaves of its units
 * are killed (what they ran fails), and shared enclaves forget its heaps
 * (an activation of it running there finishes; its record is the caller's
 * to refuse). Returns how many activations, enclaves and shared enclaves
 * that was: 0 when nothing of it was left to stop. */
unsigned scheduler_retire(scheduler *s, const char *ns);
/* Every namespace the scheduler holds anything of (queued or running work,
 * current enclaves, their warm heaps): a malloc'd array of *n malloc'd strings (free
 * each and the array); NULL with *n = 0 when there is none or no memory. */
char **scheduler_namespaces(scheduler *s, size_t *n);
/* Shutdown, first step: nothing new is accepted or started (no enclave is
 * started or replaced any more); queued and waiting activations finish at
 * once (not_run, "The server is shutting down; the activation did not
 * run."); running ones go on until they end or scheduler_destroy. */
void scheduler_quiesce(scheduler *s);
/* Stops every enclave; in-flight activations complete as internal errors. */
void scheduler_destroy(scheduler *s);
void sched_result_free(sched_result *r);

/* Counters for /health-style reporting and tests; a consistent snapshot. */
typedef struct {
    unsigned enclaves;          /* enclave processes not yet reaped (any state) */
    unsigned running;           /* activations inside enclaves now */
    unsigned pending;           /* holding a slot, waiting for an enclave worker */
    unsigned queued;            /* waiting for a function concurrency slot */
    uint64_t enclaves_started;  /* successful launches since create */
    uint64_t enclaves_died;     /* enclaves lost other than by idle stop/destroy */
    uint64_t enclaves_stopped;  /* idle enclaves stopped (scale to zero or max_enclaves) */
    uint64_t enclaves_evicted;  /* of those, stopped early to make room (max_enclaves) */
    uint64_t enclaves_refused;  /* submissions refused: max_enclaves all busy */
    uint64_t share_refused;     /* submissions refused: the namespace's share all busy */
    uint64_t retired;           /* scheduler_retire calls that stopped something */
    uint64_t completed;         /* callbacks delivered */
    uint64_t code_resends;      /* INVOKEs repeated with code after NEED_CODE */
    uint64_t backgrounded;      /* enclaves moved to background CPU priority */
    uint64_t lane_yields;       /* times a namespace's lane-waiting activations were cancelled to
                                 * give another namespace a worker (shared enclave, lane_share.c) */
} sched_stats;
void scheduler_stats(scheduler *s, sched_stats *out);
/* One enclave process, as GET /metrics shows it (enclave_info.c). */
typedef struct {
    pid_t pid;             /* 0 while it is still starting */
    sched_engine engine;
    isolation_mode mode;   /* the mode of its unit (isolation_unit_key) */
    int confidential;      /* launched with the TEE, for confidential functions */
    char ns[257];          /* its unit's namespace name (without "#id"); "" for a shared enclave */
} sched_enclave_info;
/* Fills out[0..max) with the enclaves that are starting or serving (not
 * stopping), under the lock; returns how many there are (may exceed max;
 * out may be NULL when max is 0, to count them). */
size_t scheduler_enclaves(scheduler *s, sched_enclave_info *out, size_t max);
/* "duktape" or "v8". */
const char *sched_engine_name(sched_engine e);
/* The server's isolation mode (never UNSET). */
isolation_mode scheduler_isolation(const scheduler *s);
/* cfg.background_after_ms: 0 when enclaves keep their priority. */
unsigned scheduler_background_after_ms(const scheduler *s);
/* pid of the current enclave of a unit (isolation_unit_key) once it has
 * started, else 0 (the first engine's that has one). For tests and fault
 * injection. */
pid_t scheduler_enclave_pid(scheduler *s, const char *unit);
/* Sends IPC_DROP for fn_key_prefix to the unit's enclave but, unlike
 * scheduler_drop, keeps believing the enclave has the code: the situation of
 * an enclave that evicted a heap on its own. The next INVOKE goes without
 * code and takes the NEED_CODE path. For tests. 0, or -1 if no enclave is up. */
int scheduler_debug_evict(scheduler *s, const char *unit, const char *fn_key_prefix);

#endif
