/* egress_conn.c - the enclave's side of a connection request; see
 * egress_conn.h (the host's side is src/host/scheduler/egress.c). */
#include "trusted/fetch/egress_conn.h"

#include "common/errmsg.h"
#include "common/fdpass.h"
#include "common/ipc.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Workers hand their pair's end to the host one at a time: an SCM_RIGHTS
 * message is one byte, and two writers must not interleave theirs. */
static pthread_mutex_t chan_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t egress_ms_left(uint64_t deadline_ns) {
    uint64_t now = mono_ns();
    return deadline_ns > now ? (deadline_ns - now) / 1000000u : 0;
}

/* Waits until fd is readable, at most until the deadline. 0 or -1. */
static int wait_readable(int fd, uint64_t deadline_ns) {
    for (;;) {
        uint64_t ms = egress_ms_left(deadline_ns);
        if (ms == 0) return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, ms > 60000 ? 60000 : (int)ms);
        if (n > 0) return 0;
        if (n < 0 && errno != EINTR) return -1;
    }
}

int egress_connect(int chan, const char *host, int port, int https, const char *policy, size_t policy_len,
                   uint64_t deadline_ns, int *sock, char **err) {
    *sock = -1;
    if (chan < 0) return errmsg(err, "fetch: this enclave has no network channel");
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
        return errmsg(err, "fetch: cannot ask the host for a connection (%s)", strerror(errno));
    pthread_mutex_lock(&chan_lock);
    int rc = fdpass_send(chan, sp[1]);
    pthread_mutex_unlock(&chan_lock);
    close(sp[1]);
    ipc_writer w = {0};
    ipc_writer_begin(&w, IPC_EGRESS_CONNECT, 0);
    ipc_put_str(&w, host);
    ipc_put_u64(&w, (uint64_t)port);
    ipc_put_u64(&w, (uint64_t)(https != 0));
    ipc_put_bytes(&w, policy, policy_len);
    ipc_put_u64(&w, egress_ms_left(deadline_ns));
    if (rc == 0 && (ipc_writer_finish(&w) != IPC_OK || ipc_send(sp[0], &w) != IPC_OK)) rc = -1;
    ipc_writer_free(&w);
    if (rc < 0) {
        close(sp[0]);
        return errmsg(err, "fetch: the host's network channel is closed");
    }
    ipc_msg m;
    memset(&m, 0, sizeof m);
    uint64_t status = EGRESS_REPLY_FAILED;
    if (wait_readable(sp[0], deadline_ns) < 0) {
        close(sp[0]);
        return errmsg(err, "fetch: connecting to %s:%d took longer than the activation's time limit", host, port);
    }
    if (ipc_recv(sp[0], &m) != IPC_OK || m.type != IPC_EGRESS_REPLY || m.nfields != EGR_NFIELDS ||
        ipc_get_u64(&m, EGR_STATUS, &status) < 0) {
        ipc_msg_free(&m);
        close(sp[0]);
        return errmsg(err, "fetch: the host sent a malformed connection reply");
    }
    if (status != EGRESS_REPLY_OK) {
        errmsg(err, "%.*s", (int)(m.fields[EGR_ERROR].len > 1000 ? 1000 : m.fields[EGR_ERROR].len),
               (const char *)m.fields[EGR_ERROR].ptr);
        ipc_msg_free(&m);
        close(sp[0]);
        return -1;
    }
    ipc_msg_free(&m);
    int fd = -1;
    if (wait_readable(sp[0], deadline_ns) < 0 || fdpass_recv(sp[0], &fd) < 0 || fd < 0) {
        close(sp[0]);
        return errmsg(err, "fetch: the host did not pass the connection");
    }
    close(sp[0]);
    *sock = fd;
    return 0;
}
