/* enclave_main.c - tfaas-enclave (and tfaas-enclave-v8): command line, TEE,
 * sandbox, then the endpoint's IPC loop that runs tenant functions. The key
 * service is another binary (tfaas-kms, src/trusted/kms/).
 *
 *   tfaas-enclave --fd N [--workers N] [--egress-fd E] [--no-spare-heap]
 *                 [--tee sim --quote-fd M --platform-root FILE | --platform-key FILE]
 *   tfaas-enclave --measurement [--tee sim]
 *
 * The host starts it with an empty environment and its end of a socketpair
 * on fd N. Order matters: confine the process, start the worker threads
 * (and the spare heap's maker, at idle priority), install the seccomp filter
 * (thread creation and scheduling changes are forbidden after it), and
 * only then say hello and accept tenant code. */
#include "trusted/endpoint.h"
#include "trusted/fetch/fetch.h"
#include "trusted/main_common.h"
#include "trusted/sandbox.h"
#include "trusted/tee.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_WORKERS 2

typedef struct {
    main_opts o;
    long workers; /* --workers */
    long egress_fd; /* --egress-fd, -1: no fetch */
    int spare;      /* keep a blank heap ready (spare_heap.h); --no-spare-heap: 0 */
} enclave_opts;

#if defined(TFAAS_SANITIZE)
/* LeakSanitizer's exit-time scan needs ptrace and a new thread, both of which
 * the seccomp filter forbids; leaks are checked by the in-process unit tests. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }
#endif

static void usage(FILE *out) {
    fprintf(out,
            "usage: tfaas-enclave --fd N [--workers N] [--egress-fd E] [--no-spare-heap]\n"
            "                     [--tee sim --quote-fd M --platform-root FILE | --platform-key FILE]\n"
            "                     [--tee tsm|gramine [--tee-root DIR] [--platform-root FILE]]\n"
            "       tfaas-enclave --measurement [--tee sim|gramine [--tee-root DIR]]\n"
            "       tfaas-enclave --help | --version\n"
            "Runs tenant functions for a tfaas host over the socket on fd N (the key\n"
            "service is tfaas-kms, a separate enclave).\n"
            "  --fd N              the IPC channel (an AF_UNIX stream socket), N >= 3\n"
            "  --workers N         worker threads, 1..%u (default %u)\n"
            "  --egress-fd E       the host's egress channel (fetch): the host opens the TCP\n"
            "                      connections functions may make, the enclave runs TLS\n"
            "                      over them; without it fetch() is refused\n"
            "  --no-spare-heap     keep no blank heap ready for the next new function (by\n"
            "                      default one is, made at idle priority: its making leaves\n"
            "                      a first invocation's path); for an enclave that will\n"
            "                      only ever run one function\n"
            "  --tee NAME          the TEE backend: sim (simulated, NOT protected against\n"
            "                      a root operator; see docs/protocol.md), tsm (a TDX or\n"
            "                      SEV-SNP guest's configfs-tsm reports) or gramine\n"
            "                      (Gramine-SGX's /dev/attestation); tsm and gramine have\n"
            "                      not run on real hardware yet (docs/architecture.md)\n"
            "  --tee-root DIR      tsm: the configfs-tsm report directory (default\n"
            "                      /sys/kernel/config/tsm/report; the entry tfaas in it is\n"
            "                      used); gramine: the attestation files (default\n"
            "                      /dev/attestation). Read only while starting\n"
            "  --quote-fd M        sim: the channel to the quoting service (tfaas-qe), which\n"
            "                      measures this process and signs its evidence; used only\n"
            "                      while starting, then closed\n"
            "  --platform-root FILE sim: the platform's public key (PEM), to verify the\n"
            "                      key service's evidence (also with tsm and gramine,\n"
            "                      whose key service runs on sim)\n"
            "  --platform-key FILE sim: the platform's private key instead of the two above\n"
            "                      (tests only: tfaas serve never gives it to a worker)\n"
            "  --measurement       print this binary's measurement (hex) and exit\n",
            ENDPOINT_MAX_WORKERS, DEFAULT_WORKERS);
}

/* tfaas-enclave's own options. */
static int own_option(void *ctx, int argc, char **argv, int i) {
    enclave_opts *eo = ctx;
    main_opts *o = &eo->o;
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--version") == 0) {
        printf("tfaas-enclave %s\n", engine_identity());
        return MAIN_ARG_DONE;
    }
    if (strcmp(a, "--no-spare-heap") == 0) {
        eo->spare = 0;
        return 1;
    }
    if (!v) return 0;
    if (strcmp(a, "--workers") == 0) {
        if ((eo->workers = main_parse_num(v, 1, ENDPOINT_MAX_WORKERS)) < 0) {
            fprintf(stderr, "tfaas-enclave: --workers wants 1..%u, not '%s'\n", ENDPOINT_MAX_WORKERS, v);
            return MAIN_ARG_INVALID;
        }
    } else if (strcmp(a, "--egress-fd") == 0) {
        if ((eo->egress_fd = main_parse_num(v, 3, INT_MAX)) < 0) {
            fprintf(stderr, "tfaas-enclave: --egress-fd wants a descriptor number >= 3, not '%s'\n", v);
            return MAIN_ARG_INVALID;
        }
    } else if (strcmp(a, "--platform-root") == 0) {
        o->tee.platform_root_path = v;
    } else if (strcmp(a, "--quote-fd") == 0) {
        long q = main_parse_num(v, 3, INT_MAX);
        if (q < 0) {
            fprintf(stderr, "tfaas-enclave: --quote-fd wants a descriptor number >= 3, not '%s'\n", v);
            return MAIN_ARG_INVALID;
        }
        o->tee.quote_fd = (int)q;
    } else {
        return 0;
    }
    return 2;
}

int main(int argc, char **argv) {
    enclave_opts eo = {.o = {.fd = -1, .tee = {.engine_identity = engine_identity()}}, .workers = DEFAULT_WORKERS,
                     .egress_fd = -1, .spare = 1};
    int status = main_parse("tfaas-enclave", argc, argv, &eo.o, usage, own_option, &eo);
    main_opts o = eo.o;
    if (status >= 0) return status;
    if ((status = main_ready("tfaas-enclave", &o, usage)) >= 0) return status;
    int fd = (int)o.fd;
    char *err = NULL;
    /* The TEE reads the executable and its key files now: after the sandbox
     * the enclave opens no file. The confidential state quotes once, and the
     * quoting channel closes before any tenant code can reach it. */
    conf_state *conf = NULL;
    if (o.tee.backend || o.tee.platform_key_path || o.tee.quote_fd) {
        if (tee_init(&o.tee, &err) < 0 || !(conf = conf_create(&err))) {
            fprintf(stderr, "tfaas-enclave: %s\n", err ? err : "TEE initialisation failed");
            free(err);
            return 1;
        }
        tee_quoting_done();
    }
    /* fetch's CA set is parsed now, while OpenSSL may still read its files. */
    if (eo.egress_fd >= 0 && fetch_init() < 0) {
        fprintf(stderr, "tfaas-enclave: cannot load the CA set for fetch\n");
        return 1;
    }
    if (sandbox_prepare(fd, (int)eo.egress_fd) < 0) return 1;
    fetch_set_channel((int)eo.egress_fd);
    /* Without interrupts an endless loop holds a worker until the host kills
     * the enclave (timeout + grace): degraded, not unsafe, so say it and go on. */
    if (engine_self_test() < 0)
        fprintf(stderr, "tfaas-enclave: warning: %s cannot interrupt running code; "
                "timeouts rely on the host killing the enclave\n", engine_identity());
    fn_table_config cfg = {.max_functions = 4096, .max_idle_heaps = 1024, .idle_ttl_ms = 10 * 60 * 1000};
    endpoint *e = endpoint_start(fd, (unsigned)eo.workers, &cfg, eo.spare, conf);
    if (!e) return 1;
    if (sandbox_lock(engine_needs_exec_memory(), eo.egress_fd >= 0) < 0) return 1;
    return endpoint_run(e);
}
