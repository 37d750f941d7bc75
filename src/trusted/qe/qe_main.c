/* qe_main.c - tfaas-qe: the quoting service's command line, then qe_run.
 *
 *   tfaas-qe --fd N [--workers 1] --platform-key FILE
 *
 * A binary of its own, engine-free like tfaas-kms, so that the platform key
 * lives only in these two small processes and never in a worker enclave
 * that runs tenant code (tee.h: quote-client mode). */
#include "common/p256.h"
#include "trusted/main_common.h"
#include "trusted/qe/qe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

static void usage(FILE *out) {
    fputs("usage: tfaas-qe --fd N [--workers 1] [--tee sim] --platform-key FILE\n"
          "       tfaas-qe --help\n"
          "The quoting service of tfaas's sim TEE: holds the platform private key and\n"
          "signs evidence for worker enclaves, for the measurement it takes of each\n"
          "calling process itself (docs/protocol.md §5.2). The host hands it one end\n"
          "of each worker's quoting channel over the socket on fd N.\n"
          "  --fd N              the control channel (an AF_UNIX stream socket), N >= 3\n"
          "  --workers 1         accepted for the host's launcher\n"
          "  --tee sim           the only backend\n"
          "  --platform-key FILE the installation's platform private key (PEM)\n",
          out);
}

/* The launcher's --workers (the service has one thread). */
static int own_option(void *ctx, int argc, char **argv, int i) {
    (void)ctx;
    return strcmp(argv[i], "--workers") == 0 && i + 1 < argc && strcmp(argv[i + 1], "1") == 0 ? 2 : 0;
}

int main(int argc, char **argv) {
    main_opts o = {.fd = -1};
    int status = main_parse("tfaas-qe", argc, argv, &o, usage, own_option, NULL);
    if (status >= 0) return status;
    if (o.print_measurement || (o.tee.backend && strcmp(o.tee.backend, "sim") != 0) || !o.tee.platform_key_path) {
        fprintf(stderr, "tfaas-qe: --platform-key is required, the TEE is sim, and it has no --measurement\n");
        usage(stderr);
        return 2;
    }
    if ((status = main_ready("tfaas-qe", &o, usage)) >= 0) return status;
    EVP_PKEY *key = p256_read_private_pem(o.tee.platform_key_path);
    if (!key) {
        fprintf(stderr, "tfaas-qe: %s holds no P-256 private key\n", o.tee.platform_key_path);
        return 1;
    }
    /* No core dumps, no ptrace by the host's user, no privileges gained.
     * No seccomp filter: measuring a caller opens /proc/PID/exe. */
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        perror("tfaas-qe: hardening");
        EVP_PKEY_free(key);
        return 1;
    }
    status = qe_run((int)o.fd, key);
    EVP_PKEY_free(key);
    return status;
}
