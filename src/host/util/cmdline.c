/* cmdline.c - option values shared by `tfaas serve` and `tfaas runtime`
 * (cmdline.h). */
#include "host/util/cmdline.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmdline_uint(const char *s, unsigned long min, unsigned long max, unsigned *out) {
    if (!s || *s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max) return -1;
    *out = (unsigned)v;
    return 0;
}

int cmdline_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len, char *host, size_t host_size) {
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || !colon[1]) return -1;
    size_t hlen = (size_t)(colon - spec);
    const char *h = spec;
    if (spec[0] == '[') {
        if (hlen < 3 || spec[hlen - 1] != ']') return -1;
        h++;
        hlen -= 2;
    }
    if (hlen >= host_size) return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    unsigned port;
    if (cmdline_uint(colon + 1, 0, 65535, &port) < 0) return -1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0) return -1;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int cmdline_listen_opt(const char *cmd, const char *spec, struct sockaddr_storage *ss, socklen_t *len, char *host,
                       size_t host_size) {
    if (cmdline_listen(spec, ss, len, host, host_size) == 0) return 0;
    fprintf(stderr, "tfaas %s: --listen '%s' is not ADDR:PORT with a numeric address\n", cmd, spec);
    return -1;
}

char *cmdline_beside_self(const char *name) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) return NULL;
    self[n] = '\0';
    char *dir = dirname(self), *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0) return NULL;
    return p;
}

void cmdline_stop_signals(sigset_t *sigs) {
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(sigs);
    sigaddset(sigs, SIGINT);
    sigaddset(sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, sigs, NULL);
}
