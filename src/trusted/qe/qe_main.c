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

#include <limits.h>
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

int main(int argc, char **argv) {
    long fd = -1;
    const char *key_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--fd") == 0 && v && (fd = main_parse_num(v, 3, INT_MAX)) >= 0) {
            i++;
        } else if ((strcmp(a, "--workers") == 0 && v && strcmp(v, "1") == 0) ||
                   (strcmp(a, "--tee") == 0 && v && strcmp(v, "sim") == 0)) {
            i++;
        } else if (strcmp(a, "--platform-key") == 0 && v) {
            key_path = v;
            i++;
        } else {
            fprintf(stderr, "tfaas-qe: unknown, incomplete or invalid argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (fd < 0 || !key_path) {
        fprintf(stderr, "tfaas-qe: --fd and --platform-key are required\n");
        usage(stderr);
        return 2;
    }
    if (main_check_channel("tfaas-qe", fd) < 0) return 2;
    EVP_PKEY *key = p256_read_private_pem(key_path);
    if (!key) {
        fprintf(stderr, "tfaas-qe: %s holds no P-256 private key\n", key_path);
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
    int status = qe_run((int)fd, key);
    EVP_PKEY_free(key);
    return status;
}
