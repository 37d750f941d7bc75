/* quote_service.c - launching tfaas-qe and handing it quoting channels;
 * see quote_service.h. */
#include "host/kms/quote_service.h"

#include "common/errmsg.h"
#include "common/fdpass.h"
#include "host/scheduler/launcher.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* mu guards enc; the paths are read-only after start. */
struct quote_service {
    pthread_mutex_t mu;
    char *path, *platform_key;
    launched_enclave enc; /* pid -1 when not running */
};

static void stop_qe(quote_service *q) {
    if (q->enc.fd >= 0) close(q->enc.fd); /* it exits on EOF */
    if (q->enc.pid > 0) {
        launcher_kill(q->enc.pid);
        launcher_reap(q->enc.pid);
    }
    q->enc.pid = -1;
    q->enc.fd = -1;
}

/* Lock held. A dead tfaas-qe shows as a hang-up on its control socket. */
static int ensure_running(quote_service *q, char **err) {
    char b;
    if (q->enc.pid > 0 && recv(q->enc.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0) stop_qe(q);
    if (q->enc.pid > 0) return 0;
    const char *args[] = {"--tee", "sim", "--platform-key", q->platform_key, NULL};
    /* on failure q->enc is left at pid -1, fd -1 */
    return launcher_start_args(q->path, 1, args, LAUNCHER_HELLO_TIMEOUT_MS, &q->enc, err);
}

quote_service *quote_service_start(const char *qe_path, const char *platform_key, char **err) {
    *err = NULL;
    quote_service *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    pthread_mutex_init(&q->mu, NULL);
    q->enc.pid = -1;
    q->enc.fd = -1;
    q->path = strdup(qe_path);
    q->platform_key = strdup(platform_key);
    if (!q->path || !q->platform_key || ensure_running(q, err) < 0) {
        if (!*err) errmsg(err, "out of memory");
        quote_service_stop(q);
        return NULL;
    }
    return q;
}

void quote_service_stop(quote_service *q) {
    if (!q) return;
    stop_qe(q);
    pthread_mutex_destroy(&q->mu);
    free(q->path);
    free(q->platform_key);
    free(q);
}

int quote_service_channel(void *ud, int *worker_fd, char **err) {
    quote_service *q = ud;
    *err = NULL;
    *worker_fd = -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return errmsg(err, "quoting channel: socketpair: %s", strerror(errno));
    /* The kernel names the sender in each message only if the receiving end
     * asked before the message was sent: set here, before the worker can
     * send (tfaas-qe sets it too, and refuses a request without it). */
    const int on = 1;
    if (setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0) {
        close(sv[0]);
        close(sv[1]);
        return errmsg(err, "quoting channel: SO_PASSCRED: %s", strerror(errno));
    }
    pthread_mutex_lock(&q->mu);
    int rc = ensure_running(q, err);
    if (rc == 0 && fdpass_send(q->enc.fd, sv[1]) < 0) {
        /* Died since the check: one restart, then give up. */
        stop_qe(q);
        rc = ensure_running(q, err);
        if (rc == 0 && fdpass_send(q->enc.fd, sv[1]) < 0) rc = errmsg(err, "the quoting service does not take channels");
    }
    pthread_mutex_unlock(&q->mu);
    close(sv[1]);
    if (rc < 0) {
        close(sv[0]);
        return -1;
    }
    *worker_fd = sv[0];
    return 0;
}
