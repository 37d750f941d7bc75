/* launcher.c - fork/exec of one enclave process and its IPC_HELLO handshake. */
#include "host/scheduler/launcher.h"
#include "common/errmsg.h"

#include "common/ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child between fork and execve: only async-signal-safe calls. On any
 * failure it reports errno through the CLOEXEC pipe and exits. */
static void child_exec(const char *path, int sock, const int extra[2], int devnull, int errpipe,
                       pid_t parent, char *const argv[]) {
    char *const envp[] = {NULL};
    int e;
    /* Die with the launching thread; the getppid check closes the window in
     * which the parent could have exited before the prctl took effect. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) goto out;
    /* A session of its own: its own autogroup, so the kernel shares the CPU
     * between enclaves as wholes (cpu_priority.h), and the terminal's ^C
     * reaches the host alone, which then stops its enclaves in order. */
    if (setsid() < 0) goto out;
    /* A blocked mask and ignored dispositions survive execve; the enclave
     * starts from the defaults rather than whatever the host thread had. */
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) goto out;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    if (sigaction(SIGPIPE, &dfl, NULL) < 0) goto out;
    /* fd 3 is the channel. dup2 onto itself would keep CLOEXEC, hence the branch. */
    if (sock == 3) {
        if (fcntl(3, F_SETFD, 0) < 0) goto out;
    } else {
        /* fds 0..2 are open, so the pipe and /dev/null sit above 3 unless the
         * host was started with them closed; refuse that rather than clobber. */
        if (errpipe <= 3 || devnull == 3) { errno = EBADF; goto out; }
        if (dup2(sock, 3) < 0) goto out;
    }
    if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0) goto out;
    /* The optional further channels become fds 4 and 5 (dup2 clears
     * CLOEXEC); the pipe and /dev/null must not sit there. Each is first
     * moved above 5 (F_DUPFD, CLOEXEC, gone at execve), so that placing
     * one never overwrites the other. */
    int first_closed = 4, moved[2] = {-1, -1};
    for (int i = 0; i < 2; i++) {
        if (extra[i] < 0) continue;
        if (extra[i] <= 3 || errpipe == 4 + i || devnull == 4 + i) { errno = EBADF; goto out; }
        if ((moved[i] = fcntl(extra[i], F_DUPFD_CLOEXEC, 6)) < 0) goto out;
    }
    for (int i = 0; i < 2; i++) {
        if (moved[i] < 0) continue;
        if (dup2(moved[i], 4 + i) < 0) goto out;
        first_closed = 5 + i;
    }
    /* a gap at 4 (fd 5 given alone) holds nothing of the host's */
    if (moved[0] < 0 && moved[1] >= 0 && errpipe != 4 && devnull != 4) close(4);
    /* Everything above that except the error pipe goes; the pipe is CLOEXEC. */
    if (errpipe > first_closed && close_range((unsigned)first_closed, (unsigned)errpipe - 1, 0) < 0) goto out;
    if (close_range((unsigned)errpipe + 1, ~0u, 0) < 0) goto out;
    execve(path, argv, envp);
out:
    e = errno;
    if (write(errpipe, &e, sizeof e) < 0) { /* nothing more can be done */ }
    _exit(127);
}

void launcher_kill(pid_t pid) {
    if (pid > 0) kill(pid, SIGKILL);
}

int launcher_reap(pid_t pid) {
    int status = 0;
    if (pid <= 0) return 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return 0;
    }
    return status;
}

/* Reads the HELLO under a receive timeout so a silent enclave cannot hang us. */
static int read_hello(int fd, unsigned timeout_ms, launched_enclave *out, char **err) {
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        return errmsg(err, "enclave channel: setsockopt: %s", strerror(errno));
    ipc_msg m;
    ipc_status st = ipc_recv(fd, &m);
    if (st != IPC_OK) {
        if (st == IPC_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
            return errmsg(err, "enclave did not say hello within %u ms", timeout_ms);
        if (st == IPC_ERR_EOF) return errmsg(err, "enclave exited before its hello");
        return errmsg(err, "enclave hello: %s", ipc_status_str(st));
    }
    uint64_t proto = 0, workers = 0;
    int rc = 0;
    if (m.type != IPC_HELLO) {
        rc = errmsg(err, "enclave sent message type %u instead of hello", m.type);
    } else if (ipc_get_u64(&m, HELLO_PROTOCOL, &proto) < 0 || proto != IPC_VERSION) {
        rc = errmsg(err, "enclave speaks protocol %llu, host speaks %u",
                  (unsigned long long)proto, IPC_VERSION);
    } else {
        if (ipc_get_u64(&m, HELLO_WORKERS, &workers) < 0 || workers == 0) workers = 1;
        out->workers = workers > LAUNCHER_MAX_WORKERS ? LAUNCHER_MAX_WORKERS : (unsigned)workers;
        out->engine[0] = '\0';
        if (m.nfields > HELLO_ENGINE) {
            size_t n = m.fields[HELLO_ENGINE].len;
            if (n >= sizeof out->engine) n = sizeof out->engine - 1;
            memcpy(out->engine, m.fields[HELLO_ENGINE].ptr, n);
            out->engine[n] = '\0';
        }
    }
    ipc_msg_free(&m);
    tv.tv_sec = 0;
    tv.tv_usec = 0; /* back to fully blocking reads for the reader thread */
    if (rc == 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        return errmsg(err, "enclave channel: setsockopt: %s", strerror(errno));
    return rc;
}

int launcher_start(const char *enclave_path, unsigned workers, unsigned hello_timeout_ms,
                   launched_enclave *out, char **err) {
    return launcher_start_args(enclave_path, workers, NULL, hello_timeout_ms, out, err);
}

int launcher_start_args(const char *enclave_path, unsigned workers, const char *const *extra_args,
                        unsigned hello_timeout_ms, launched_enclave *out, char **err) {
    return launcher_start_fd(enclave_path, workers, extra_args, -1, hello_timeout_ms, out, err);
}

int launcher_start_fd(const char *enclave_path, unsigned workers, const char *const *extra_args, int extra_fd,
                      unsigned hello_timeout_ms, launched_enclave *out, char **err) {
    const int extra[2] = {extra_fd, -1};
    return launcher_start_fds(enclave_path, workers, extra_args, extra, hello_timeout_ms, out, err);
}

int launcher_start_fds(const char *enclave_path, unsigned workers, const char *const *extra_args,
                       const int extra_fds[2], unsigned hello_timeout_ms, launched_enclave *out, char **err) {
    if (err) *err = NULL;
    memset(out, 0, sizeof *out);
    out->pid = -1;
    out->fd = -1;
    if (!enclave_path || !*enclave_path) return errmsg(err, "no enclave path configured");
    if (workers == 0 || workers > LAUNCHER_MAX_WORKERS)
        return errmsg(err, "enclave worker count %u out of range 1..%u", workers, LAUNCHER_MAX_WORKERS);

    char wbuf[16];
    snprintf(wbuf, sizeof wbuf, "%u", workers);
    /* argv is built before fork: the child may only make async-signal-safe calls. */
    char *argv[6 + LAUNCHER_MAX_EXTRA_ARGS] = {"tfaas-enclave", "--fd", "3", "--workers", wbuf};
    size_t argc = 5;
    for (size_t i = 0; extra_args && extra_args[i]; i++) {
        if (i == LAUNCHER_MAX_EXTRA_ARGS) return errmsg(err, "too many enclave arguments");
        argv[argc++] = (char *)extra_args[i];
    }
    argv[argc] = NULL;

    int sv[2] = {-1, -1}, ep[2] = {-1, -1}, devnull = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return errmsg(err, "socketpair: %s", strerror(errno));
    if (pipe2(ep, O_CLOEXEC) < 0) {
        errmsg(err, "pipe: %s", strerror(errno));
        goto fail_fds;
    }
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        errmsg(err, "/dev/null: %s", strerror(errno));
        goto fail_fds;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        errmsg(err, "fork: %s", strerror(errno));
        goto fail_fds;
    }
    if (pid == 0) child_exec(enclave_path, sv[1], extra_fds, devnull, ep[1], parent, argv);

    close(sv[1]);
    close(ep[1]);
    close(devnull);
    /* The pipe closes at execve (success) or carries errno (failure). */
    int child_errno = 0;
    ssize_t k;
    do k = read(ep[0], &child_errno, sizeof child_errno);
    while (k < 0 && errno == EINTR);
    close(ep[0]);
    if (k == (ssize_t)sizeof child_errno) {
        errmsg(err, "cannot start enclave %s: %s", enclave_path, strerror(child_errno));
        goto fail_child;
    }
    out->pid = pid;
    out->fd = sv[0];
    if (read_hello(sv[0], hello_timeout_ms, out, err) < 0) goto fail_child;
    return 0;

fail_child:
    close(sv[0]);
    launcher_kill(pid);
    launcher_reap(pid);
    out->pid = -1;
    out->fd = -1;
    return -1;
fail_fds:
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0) close(sv[i]);
        if (ep[i] >= 0) close(ep[i]);
    }
    if (devnull >= 0) close(devnull);
    return -1;
}
