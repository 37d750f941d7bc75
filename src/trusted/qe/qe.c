/* qe.c - the quoting service's loop; see qe.h. */
#include "trusted/qe/qe.h"

#include "common/fdpass.h"
#include "trusted/main_common.h"
#include "trusted/quote_proto.h"
#include "trusted/tee_sim.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* Measurements already taken, by file identity: a worker quotes twice at
 * start and many workers run the same binary; hashing megabytes each time
 * would slow every confidential enclave start. A file replaced or changed
 * in place gets a new inode, size or mtime, so a stale entry cannot match. */
#define CACHE_SLOTS 16u
typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    char engine[QUOTE_MAX_ENGINE + 1];
    uint8_t m[EVIDENCE_MEASUREMENT_LEN];
    int used;
} cache_slot;

static cache_slot cache[CACHE_SLOTS];
static unsigned cache_next;

static int same_file(const cache_slot *c, const struct stat *st, const char *engine) {
    return c->used && c->dev == st->st_dev && c->ino == st->st_ino && c->size == st->st_size &&
           c->mtime.tv_sec == st->st_mtim.tv_sec && c->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           c->ctime.tv_sec == st->st_ctim.tv_sec && c->ctime.tv_nsec == st->st_ctim.tv_nsec &&
           strcmp(c->engine, engine) == 0;
}

/* The measurement of process pid's executable with engine. 0, or -1 with *err. */
static int measure_pid(pid_t pid, const char *engine, uint8_t m[EVIDENCE_MEASUREMENT_LEN], char **err) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    struct stat st;
    if (stat(path, &st) < 0) {
        if (asprintf(err, "cannot see the caller's executable (%s): %s", path, strerror(errno)) < 0) *err = NULL;
        return -1;
    }
    for (unsigned i = 0; i < CACHE_SLOTS; i++)
        if (same_file(&cache[i], &st, engine)) {
            memcpy(m, cache[i].m, EVIDENCE_MEASUREMENT_LEN);
            return 0;
        }
    struct stat after;
    if (tee_sim_measure_path(path, engine, m, err) < 0) return -1;
    /* Cached only when the file did not change while it was read. */
    if (stat(path, &after) == 0 && after.st_ino == st.st_ino && after.st_mtim.tv_nsec == st.st_mtim.tv_nsec &&
        after.st_mtim.tv_sec == st.st_mtim.tv_sec && after.st_size == st.st_size) {
        cache_slot *c = &cache[cache_next++ % CACHE_SLOTS];
        *c = (cache_slot){.dev = st.st_dev, .ino = st.st_ino, .size = st.st_size, .mtime = st.st_mtim,
                          .ctime = st.st_ctim, .used = 1};
        strcpy(c->engine, engine);
        memcpy(c->m, m, EVIDENCE_MEASUREMENT_LEN);
    }
    return 0;
}

/* One request from a channel and its answer. -1 when the channel is done
 * (closed, broken, too slow or malformed: it is then closed). */
static int serve_one(int fd, EVP_PKEY *key) {
    uint8_t req[QUOTE_REQUEST_LEN];
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(struct ucred))];
    } ctl;
    struct iovec iov = {req, sizeof req};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    ssize_t n;
    do n = recvmsg(fd, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n <= 0) return -1;
    const struct ucred *cred = NULL;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
            c->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
            cred = (const struct ucred *)CMSG_DATA(c);
    char engine[QUOTE_MAX_ENGINE + 1], *why = NULL;
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN], m[EVIDENCE_MEASUREMENT_LEN];
    if ((size_t)n != sizeof req || quote_request_decode(req, engine, rd) < 0) {
        quote_reply_send(fd, QUOTE_REFUSED, "malformed quote request", 23);
        return -1;
    }
    if (!cred || cred->pid <= 0) {
        quote_reply_send(fd, QUOTE_REFUSED, "the caller's process is unknown", 31);
        return -1;
    }
    char *ev = NULL;
    size_t ev_len = 0;
    int rc;
    if (measure_pid(cred->pid, engine, m, &why) < 0) {
        const char *msg = why ? why : "cannot measure the caller";
        rc = quote_reply_send(fd, QUOTE_REFUSED, msg, strlen(msg));
    } else if (tee_sim_evidence(key, m, engine, rd, &ev, &ev_len) < 0) {
        rc = quote_reply_send(fd, QUOTE_REFUSED, "cannot sign evidence", 20);
    } else {
        rc = quote_reply_send(fd, QUOTE_OK, ev, ev_len);
    }
    free(why);
    free(ev);
    return rc;
}

int qe_run(int ctl, EVP_PKEY *key) {
    if (main_send_hello(ctl, "qe") < 0) {
        fprintf(stderr, "tfaas-qe: cannot say hello\n");
        return 1;
    }
    struct pollfd *p = calloc(QE_MAX_CLIENTS + 1, sizeof *p);
    if (!p) return 1;
    size_t n = 1;
    p[0] = (struct pollfd){.fd = ctl, .events = POLLIN};
    int status = 0;
    for (;;) {
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR) continue;
            status = 1;
            break;
        }
        if (p[0].revents) {
            int client = -1;
            if (fdpass_recv(ctl, &client) < 0) break; /* the host is gone */
            const int on = 1;
            struct timeval tv = {QE_REQUEST_TIMEOUT_MS / 1000, (QE_REQUEST_TIMEOUT_MS % 1000) * 1000};
            if (client >= 0 && (n > QE_MAX_CLIENTS || setsockopt(client, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0 ||
                                setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)) {
                close(client);
                client = -1;
            }
            if (client >= 0) p[n++] = (struct pollfd){.fd = client, .events = POLLIN};
        }
        for (size_t i = 1; i < n; i++) {
            if (!p[i].revents) continue;
            if (serve_one(p[i].fd, key) < 0) {
                close(p[i].fd);
                p[i--] = p[--n];
            } else {
                p[i].revents = 0;
            }
        }
    }
    for (size_t i = 1; i < n; i++) close(p[i].fd);
    free(p);
    return status;
}
