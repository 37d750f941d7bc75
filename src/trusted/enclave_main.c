/* enclave_main.c - tfaas-enclave: command line, sandbox, then the IPC endpoint.
 *
 *   tfaas-enclave --fd N [--workers N] [--role worker]
 *
 * The host starts it with an empty environment and its end of a socketpair
 * on fd N. Order matters: confine the process, start the worker threads,
 * install the seccomp filter (thread creation is forbidden after it), and
 * only then say hello and accept tenant code. */
#include "trusted/endpoint.h"
#include "trusted/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_WORKERS 2

#if defined(TFAAS_SANITIZE)
/* LeakSanitizer's exit-time scan needs ptrace and a new thread, both of which
 * the seccomp filter forbids; leaks are checked by the in-process unit tests. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }
#endif

static void usage(FILE *out) {
    fprintf(out,
            "usage: tfaas-enclave --fd N [--workers N] [--role worker]\n"
            "       tfaas-enclave --help | --version\n"
            "Runs tenant functions for a tfaas host over the socket on fd N.\n"
            "  --fd N        the IPC channel (an AF_UNIX stream socket), N >= 3\n"
            "  --workers N   worker threads, 1..%u (default %u)\n"
            "  --role worker the enclave's role (only worker exists so far)\n",
            ENDPOINT_MAX_WORKERS, DEFAULT_WORKERS);
}

/* Parses a decimal in [min, max]; -1 when it is not one. */
static long parse_num(const char *s, long min, long max) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    return v;
}

int main(int argc, char **argv) {
    long fd = -1, workers = DEFAULT_WORKERS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("tfaas-enclave %s\n", engine_identity());
            return 0;
        } else if (strcmp(a, "--fd") == 0 && v) {
            if ((fd = parse_num(v, 3, INT_MAX)) < 0) {
                fprintf(stderr, "tfaas-enclave: --fd wants a descriptor number >= 3, not '%s'\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--workers") == 0 && v) {
            if ((workers = parse_num(v, 1, ENDPOINT_MAX_WORKERS)) < 0) {
                fprintf(stderr, "tfaas-enclave: --workers wants 1..%u, not '%s'\n", ENDPOINT_MAX_WORKERS, v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--role") == 0 && v) {
            if (strcmp(v, "worker") != 0) {
                fprintf(stderr, "tfaas-enclave: role '%s' is not supported (only 'worker')\n", v);
                return 2;
            }
            i++;
        } else {
            fprintf(stderr, "tfaas-enclave: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (fd < 0) {
        fprintf(stderr, "tfaas-enclave: --fd is required\n");
        usage(stderr);
        return 2;
    }
    struct stat st;
    if (fstat((int)fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        fprintf(stderr, "tfaas-enclave: fd %ld is not an open socket\n", fd);
        return 2;
    }
    if (sandbox_prepare((int)fd) < 0) return 1;
    /* Without interrupts an endless loop holds a worker until the host kills
     * the enclave (timeout + grace): degraded, not unsafe, so say it and go on. */
    if (engine_self_test() < 0)
        fprintf(stderr, "tfaas-enclave: warning: %s cannot interrupt running code; "
                "timeouts rely on the host killing the enclave\n", engine_identity());
    fn_table_config cfg = {.max_functions = 4096, .max_idle_heaps = 1024, .idle_ttl_ms = 10 * 60 * 1000};
    endpoint *e = endpoint_start((int)fd, (unsigned)workers, &cfg);
    if (!e) return 1;
    if (sandbox_lock() < 0) return 1;
    return endpoint_run(e);
}
