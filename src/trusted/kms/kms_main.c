/* kms_main.c - tfaas-kms: the key service enclave's command line, TEE and
 * sandbox, then kms_run's IPC loop.
 *
 *   tfaas-kms --fd N --tee sim --platform-key FILE
 *   tfaas-kms --measurement [--tee sim]
 *
 * A binary of its own so that its measurement, and with it its sealing key,
 * is its own: a worker enclave (tfaas-enclave, tfaas-enclave-v8) measures
 * differently and cannot unseal the KMS's keys. It links no JavaScript
 * engine (CMake's kms/no-engine test checks the symbols), so a bug in an
 * engine reachable from tenant code is not in this TCB. Worker binaries
 * carry this binary's measurement (CMake writes it into kms_expected.h) to
 * recognise the key service without trusting the host. */
#include "trusted/kms/kms.h"
#include "trusted/main_common.h"
#include "trusted/sandbox.h"
#include "trusted/tee.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The "engine" of the key service's evidence: it runs none. */
#define KMS_IDENTITY "kms"

static void usage(FILE *out) {
    fputs("usage: tfaas-kms --fd N [--workers 1] --tee sim --platform-key FILE\n"
          "       tfaas-kms --measurement [--tee sim]\n"
          "       tfaas-kms --help | --version\n"
          "The key service enclave of tfaas (no JavaScript engine): keeps the KMS keys\n"
          "sealed to its own measurement, certifies confidential functions and releases\n"
          "their keys to attested worker enclaves, for a tfaas host over fd N.\n"
          "  --fd N              the IPC channel (an AF_UNIX stream socket), N >= 3\n"
          "  --workers 1         accepted for the host's launcher: one request at a time\n"
          "  --tee sim           the TEE backend (only sim: simulated, NOT protected\n"
          "                      against a root operator; see docs/protocol.md)\n"
          "  --platform-key FILE sim: the installation's platform private key (PEM)\n"
          "  --measurement       print this binary's measurement (hex) and exit; worker\n"
          "                      enclaves accept key releases only from it\n",
          out);
}

int main(int argc, char **argv) {
    long fd = -1;
    int print_measurement = 0;
    tee_config tee = {.backend = NULL, .engine_identity = KMS_IDENTITY};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("tfaas-kms %s\n", KMS_IDENTITY);
            return 0;
        } else if (strcmp(a, "--fd") == 0 && v) {
            if ((fd = main_parse_num(v, 3, INT_MAX)) < 0) {
                fprintf(stderr, "tfaas-kms: --fd wants a descriptor number >= 3, not '%s'\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--workers") == 0 && v) {
            /* The launcher names a thread count; the key service has one. */
            if (strcmp(v, "1") != 0) {
                fprintf(stderr, "tfaas-kms: --workers: the key service serves one request at a time (1), not '%s'\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--tee") == 0 && v) {
            tee.backend = v;
            i++;
        } else if (strcmp(a, "--platform-key") == 0 && v) {
            tee.platform_key_path = v;
            i++;
        } else if (strcmp(a, "--measurement") == 0) {
            print_measurement = 1;
        } else {
            fprintf(stderr, "tfaas-kms: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (print_measurement) return main_print_measurement("tfaas-kms", &tee);
    if (fd < 0) {
        fprintf(stderr, "tfaas-kms: --fd is required\n");
        usage(stderr);
        return 2;
    }
    if (main_check_channel("tfaas-kms", fd) < 0) return 2;
    /* The TEE reads the executable and the platform key now: after the
     * sandbox the key service opens no file. */
    char *err = NULL;
    if (tee_init(&tee, &err) < 0) {
        fprintf(stderr, "tfaas-kms: %s\n", err ? err : "TEE initialisation failed");
        free(err);
        return 1;
    }
    if (sandbox_prepare((int)fd) < 0 || sandbox_lock(0) < 0) return 1;
    int status = kms_run((int)fd);
    tee_shutdown();
    return status;
}
