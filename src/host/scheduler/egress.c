/* egress.c - connection requests from worker enclaves; see egress.h.
 *
 * One thread per enclave reads its egress channel: each message is the
 * enclave's end of a private socketpair carrying one IPC_EGRESS_CONNECT.
 * A detached thread per request (at most EGRESS_MAX_PENDING at once)
 * resolves the name (getaddrinfo blocks, so no shared thread waits on it),
 * checks the URL and every address against the policies the request
 * carries, connects to the first address allowed with a bounded timeout,
 * and replies; the requests share nothing but the pending count. */
#include "host/scheduler/egress.h"

#include "common/egress_policy.h"
#include "common/errmsg.h"
#include "common/fdpass.h"
#include "common/ipc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_uint pending;

static void reply(int fd, egress_reply_status st, const char *msg, int sock) {
    ipc_writer w = {0};
    ipc_writer_begin(&w, IPC_EGRESS_REPLY, 0);
    ipc_put_u64(&w, st);
    ipc_put_str(&w, msg ? msg : "");
    if (ipc_writer_finish(&w) == IPC_OK && ipc_send(fd, &w) == IPC_OK && st == EGRESS_REPLY_OK)
        fdpass_send(fd, sock);
    ipc_writer_free(&w);
}

/* A non-blocking connect to one address within timeout_ms: the socket
 * (non-blocking, as the enclave wants it) or -1 with errno. */
static int connect_one(const struct addrinfo *ai, unsigned timeout_ms) {
    int s = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0) return s;
    if (errno != EINPROGRESS) goto fail;
    struct pollfd p = {.fd = s, .events = POLLOUT};
    int n;
    do n = poll(&p, 1, (int)timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n == 0) {
        errno = ETIMEDOUT;
        goto fail;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (n < 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) goto fail;
    if (soerr) {
        errno = soerr;
        goto fail;
    }
    return s;
fail:;
    int e = errno;
    close(s);
    errno = e;
    return -1;
}

static void serve(int fd) {
    struct timeval tv = {5, 0}; /* the enclave writes its request at once */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ipc_msg m;
    memset(&m, 0, sizeof m);
    uint64_t port = 0, https = 0, timeout_ms = 0;
    char *host = NULL, msg[512];
    egress_policies pol = {0};
    char *perr = NULL;
    if (ipc_recv(fd, &m) != IPC_OK || m.type != IPC_EGRESS_CONNECT || m.nfields != EGC_NFIELDS ||
        ipc_get_u64(&m, EGC_PORT, &port) < 0 || ipc_get_u64(&m, EGC_HTTPS, &https) < 0 ||
        ipc_get_u64(&m, EGC_TIMEOUT_MS, &timeout_ms) < 0 || port < 1 || port > 65535 ||
        !(host = ipc_get_str(&m, EGC_HOST)) || !*host) {
        reply(fd, EGRESS_REPLY_FAILED, "fetch: malformed connection request", -1);
        goto out;
    }
    if (egress_policies_parse((const char *)m.fields[EGC_POLICY].ptr, m.fields[EGC_POLICY].len, &pol, &perr) < 0) {
        snprintf(msg, sizeof msg, "fetch: %s", perr ? perr : "no egress policy");
        reply(fd, EGRESS_REPLY_REFUSED, msg, -1);
        goto out;
    }
    /* The enclave checked the URL; checking again here costs nothing. */
    if (egress_check_url(&pol, https ? "https" : "http", host, (int)port) != EGRESS_OK) {
        snprintf(msg, sizeof msg, "fetch: %.253s:%d is not allowed by the egress policy", host, (int)port);
        reply(fd, EGRESS_REPLY_REFUSED, msg, -1);
        goto out;
    }
    char ports[8];
    snprintf(ports, sizeof ports, "%u", (unsigned)port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *res = NULL;
    int gr = getaddrinfo(host, ports, &hints, &res);
    if (gr != 0) {
        snprintf(msg, sizeof msg, "fetch: cannot resolve %.253s: %s", host, gai_strerror(gr));
        reply(fd, EGRESS_REPLY_FAILED, msg, -1);
        goto out;
    }
    unsigned tmo = timeout_ms < EGRESS_CONNECT_TIMEOUT_MS ? (unsigned)timeout_ms : EGRESS_CONNECT_TIMEOUT_MS;
    int sock = -1, refused = 0, last_errno = 0;
    char refused_addr[INET6_ADDRSTRLEN] = "";
    for (struct addrinfo *ai = res; ai && sock < 0; ai = ai->ai_next) {
        /* Every address is checked: a name that resolves (or is rebound)
         * to a private or loopback address is refused unless listed. */
        if (egress_check_addr(&pol, ai->ai_addr, (int)port, https != 0) != EGRESS_OK) {
            if (!refused++) {
                const void *a = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                                         : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
                inet_ntop(ai->ai_family, a, refused_addr, sizeof refused_addr);
            }
            continue;
        }
        if ((sock = connect_one(ai, tmo ? tmo : 1)) < 0) last_errno = errno;
    }
    freeaddrinfo(res);
    if (sock >= 0) {
        reply(fd, EGRESS_REPLY_OK, NULL, sock);
        close(sock);
    } else if (refused && !last_errno) {
        snprintf(msg, sizeof msg,
                 "fetch: %.253s resolves to %s, a loopback, private or link-local address the egress policy does "
                 "not allow", host, refused_addr);
        reply(fd, EGRESS_REPLY_REFUSED, msg, -1);
    } else {
        snprintf(msg, sizeof msg, "fetch: cannot connect to %.253s:%u: %s", host, (unsigned)port,
                 strerror(last_errno ? last_errno : EHOSTUNREACH));
        reply(fd, EGRESS_REPLY_FAILED, msg, -1);
    }
out:
    free(perr);
    egress_policies_free(&pol);
    free(host);
    ipc_msg_free(&m);
}

static void *request_main(void *arg) {
    int fd = (int)(intptr_t)arg;
    serve(fd);
    close(fd);
    atomic_fetch_sub(&pending, 1);
    return NULL;
}

static void *channel_main(void *arg) {
    int chan = (int)(intptr_t)arg;
    pthread_setname_np(pthread_self(), "enclave-egress");
    for (;;) {
        int fd = -1;
        if (fdpass_recv(chan, &fd) < 0) break; /* the enclave is gone */
        if (fd < 0) continue;
        pthread_t t;
        pthread_attr_t at;
        if (atomic_fetch_add(&pending, 1) >= EGRESS_MAX_PENDING) {
            atomic_fetch_sub(&pending, 1);
            reply(fd, EGRESS_REPLY_FAILED, "fetch: the platform has too many connections in progress", -1);
            close(fd);
            continue;
        }
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, 256u << 10);
        if (pthread_create(&t, &at, request_main, (void *)(intptr_t)fd) != 0) {
            atomic_fetch_sub(&pending, 1);
            reply(fd, EGRESS_REPLY_FAILED, "fetch: the platform cannot take the request now", -1);
            close(fd);
        }
        pthread_attr_destroy(&at);
    }
    close(chan);
    return NULL;
}

int egress_channel_open(int *enclave_end, char **err) {
    int sv[2];
    *enclave_end = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return errmsg(err, "egress socketpair: %s", strerror(errno));
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256u << 10);
    int rc = pthread_create(&t, &at, channel_main, (void *)(intptr_t)sv[0]);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        close(sv[0]);
        close(sv[1]);
        return errmsg(err, "cannot start the egress thread: %s", strerror(rc));
    }
    *enclave_end = sv[1];
    return 0;
}
