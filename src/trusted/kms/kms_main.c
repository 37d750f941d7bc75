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
          "                      against a root operator; see docs/protocol.md); the\n"
          "                      workers' tsm and gramine are refused here, since the\n"
          "                      key service quotes after its sandbox closes files\n"
          "  --platform-key FILE sim: the installation's platform private key (PEM)\n"
          "  --measurement       print this binary's measurement (hex) and exit; worker\n"
          "                      enclaves accept key releases only from it\n",
          out);
}

/* --version, and the launcher's --workers (the key service has one thread). */
static int own_option(void *ctx, int argc, char **argv, int i) {
    (void)ctx;
    if (strcmp(argv[i], "--version") == 0) {
        printf("tfaas-kms %s\n", KMS_IDENTITY);
        return MAIN_ARG_DONE;
    }
    return strcmp(argv[i], "--workers") == 0 && i + 1 < argc && strcmp(argv[i + 1], "1") == 0 ? 2 : 0;
}

int main(int argc, char **argv) {
    main_opts o = {.fd = -1, .tee = {.engine_identity = KMS_IDENTITY}};
    int status = main_parse("tfaas-kms", argc, argv, &o, usage, own_option, NULL);
    if (status >= 0) return status;
    if ((status = main_ready("tfaas-kms", &o, usage)) >= 0) return status;
    /* The key service quotes when the host hands it its sealed state, after
     * the sandbox has closed the file system: a hardware backend, which
     * quotes through files, could not (docs/architecture.md). */
    if (o.tee.backend && strcmp(o.tee.backend, "sim") != 0) {
        fprintf(stderr, "tfaas-kms: --tee %s: the key service runs on sim only (it quotes after its sandbox "
                "closes the file system, which a file-based hardware backend cannot)\n", o.tee.backend);
        return 2;
    }
    /* The TEE reads the executable and the platform key now: after the
     * sandbox the key service opens no file. */
    char *err = NULL;
    if (tee_init(&o.tee, &err) < 0) {
        fprintf(stderr, "tfaas-kms: %s\n", err ? err : "TEE initialisation failed");
        free(err);
        return 1;
    }
    if (sandbox_prepare((int)o.fd, -1) < 0 || sandbox_lock(0, 0) < 0) return 1;
    status = kms_run((int)o.fd);
    tee_shutdown();
    return status;
}
