/* main_common.c - command-line steps both enclave binaries share; see
 * main_common.h. */
#include "trusted/main_common.h"

#include "common/ipc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

long main_parse_num(const char *s, long min, long max) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    return v;
}

/* --measurement: prints the measurement tee would report, in hex. Returns
 * the exit status (0, or 1 with the reason on stderr). */
static int print_measurement(const char *prog, const tee_config *tee) {
    uint8_t m[EVIDENCE_MEASUREMENT_LEN];
    char hex[2 * EVIDENCE_MEASUREMENT_LEN + 1], *err = NULL;
    if (tee_measure(tee, m, &err) < 0) {
        fprintf(stderr, "%s: %s\n", prog, err ? err : "cannot measure");
        free(err);
        return 1;
    }
    evidence_hex(m, sizeof m, hex);
    printf("%s\n", hex);
    return 0;
}

/* One option of main_opts: entries used, 0 when not one, -1 when invalid. */
static int common_option(const char *prog, int argc, char **argv, int i, main_opts *o) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--measurement") == 0) {
        o->print_measurement = 1;
        return 1;
    }
    if (!v) return 0;
    if (strcmp(a, "--fd") == 0) {
        if ((o->fd = main_parse_num(v, 3, INT_MAX)) < 0) {
            fprintf(stderr, "%s: --fd wants a descriptor number >= 3, not '%s'\n", prog, v);
            return -1;
        }
    } else if (strcmp(a, "--tee") == 0) {
        o->tee.backend = v;
    } else if (strcmp(a, "--platform-key") == 0) {
        o->tee.platform_key_path = v;
    } else if (strcmp(a, "--tee-root") == 0) {
        o->tee.root_path = v;
    } else {
        return 0;
    }
    return 2;
}

int main_parse(const char *prog, int argc, char **argv, main_opts *o, void (*usage)(FILE *), main_own_option own,
               void *ctx) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        int used = common_option(prog, argc, argv, i, o);
        if (used == 0) used = own(ctx, argc, argv, i);
        if (used == MAIN_ARG_DONE) return 0;
        if (used == MAIN_ARG_INVALID) return 2;
        if (used == 0) {
            fprintf(stderr, "%s: unknown or incomplete argument '%s'\n", prog, argv[i]);
            usage(stderr);
            return 2;
        }
        i += used - 1;
    }
    return -1;
}

int main_ready(const char *prog, const main_opts *o, void (*usage)(FILE *)) {
    if (o->print_measurement) return print_measurement(prog, &o->tee);
    if (o->fd < 0) {
        fprintf(stderr, "%s: --fd is required\n", prog);
        usage(stderr);
        return 2;
    }
    struct stat st;
    if (fstat((int)o->fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        fprintf(stderr, "%s: fd %ld is not an open socket\n", prog, o->fd);
        return 2;
    }
    return -1;
}

int main_send_hello(int fd, const char *name) {
    ipc_writer w = {0};
    ipc_writer_begin(&w, IPC_HELLO, 0);
    ipc_put_u64(&w, IPC_VERSION);
    ipc_put_str(&w, name);
    ipc_put_u64(&w, 1);
    int rc = ipc_writer_finish(&w) == IPC_OK && ipc_send(fd, &w) == IPC_OK ? 0 : -1;
    ipc_writer_free(&w);
    return rc;
}
