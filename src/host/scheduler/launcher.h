/* launcher.h - starts one tfaas-enclave process (or tfaas-kms, tfaas-qe) and
 * completes its handshake.
 *
 * The enclave gets one end of an AF_UNIX stream socketpair as fd 3 (and
 * optionally further channels as fds 4 and 5), /dev/null
 * as stdin/stdout, the host's stderr, no other descriptors and an empty
 * environment, in a session of its own (setsid: its own autogroup, see
 * cpu_priority.h). It dies with the thread that launched it (PR_SET_PDEATHSIG), so
 * that thread must outlive the enclave. launcher_start returns only after the
 * enclave's IPC_HELLO has arrived and names our protocol version. */
#ifndef TFAAS_HOST_SCHEDULER_LAUNCHER_H
#define TFAAS_HOST_SCHEDULER_LAUNCHER_H

#include <sys/types.h>

#define LAUNCHER_HELLO_TIMEOUT_MS 5000u /* enclave start-up budget */
#define LAUNCHER_MAX_WORKERS 1024u /* same bound as tfaas serve --workers */

typedef struct {
    pid_t pid;        /* the enclave process; reap it with launcher_reap */
    int fd;           /* host end of the channel, blocking, CLOEXEC */
    unsigned workers; /* worker threads the enclave reported */
    char engine[32];  /* engine name the enclave reported, NUL-terminated */
} launched_enclave;

/* 0 on success. On failure -1, *err is a malloc'd message, no process or
 * descriptor is left behind and out->pid and out->fd are -1. */
int launcher_start(const char *enclave_path, unsigned workers, unsigned hello_timeout_ms,
                   launched_enclave *out, char **err);
/* The same with further arguments for the enclave (e.g. "--tee", "sim",
 * ...); extra_args is NULL-terminated, at most
 * LAUNCHER_MAX_EXTRA_ARGS entries. */
#define LAUNCHER_MAX_EXTRA_ARGS 16u
int launcher_start_args(const char *enclave_path, unsigned workers, const char *const *extra_args,
                        unsigned hello_timeout_ms, launched_enclave *out, char **err);
/* The same, and extra_fd (>= 0) becomes the enclave's fd 4: a second
 * channel, e.g. a confidential worker's quoting channel (--quote-fd 4). The
 * caller keeps and closes its own extra_fd. */
int launcher_start_fd(const char *enclave_path, unsigned workers, const char *const *extra_args, int extra_fd,
                      unsigned hello_timeout_ms, launched_enclave *out, char **err);
/* The same with two further channels: extra_fds[0] becomes fd 4 and
 * extra_fds[1] fd 5 (each -1: none), e.g. the quoting channel and the
 * egress channel (--egress-fd 5, scheduler/egress.h). The caller keeps and
 * closes its own. */
int launcher_start_fds(const char *enclave_path, unsigned workers, const char *const *extra_args,
                       const int extra_fds[2], unsigned hello_timeout_ms, launched_enclave *out, char **err);
/* SIGKILL; harmless on a process that already exited but was not reaped. */
void launcher_kill(pid_t pid);
/* Waits for the process to exit (call after it was killed or told to stop);
 * returns its wait status (0 when there was nothing to wait for). */
int launcher_reap(pid_t pid);

#endif
