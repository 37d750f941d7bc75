/* main.c - the `tfaas` command: the platform daemon, its admin tool and the
 * wsk-like client share one binary; this file only dispatches. */
#include "host/commands.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: tfaas COMMAND [ARGS]\n"
          "\n"
          "platform:\n"
          "  serve       run the platform (HTTP gateway, scheduler, enclaves)\n"
          "  admin       manage namespaces and credentials in a state directory\n"
          "  runtime     serve one action over OpenWhisk's action-runtime protocol\n"
          "              (/init, /run): a tfaas enclave as an OpenWhisk action container\n"
          "\n"
          "client (like OpenWhisk's wsk):\n"
          "  action      create, update, get, list, delete and invoke actions\n"
          "  activation  list, get, result and logs of activations\n"
          "  package     create, update, get, list, delete and bind packages\n"
          "  trigger     create (--feed), update, get, list, delete and fire triggers\n"
          "  rule        create, update, get, list, delete, enable and disable rules\n"
          "  api         create, list and delete API routes to web actions\n"
          "  attest      verify the key service's attestation and pin its keys\n"
          "  receipt     verify a confidential response's receipt chain offline\n"
          "  evidence    verify an SGX/TDX quote or SEV-SNP report offline\n"
          "\n"
          "`tfaas COMMAND --help` describes each command.\n", f);
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) { usage(stdout); return 0; }
    if (!strcmp(cmd, "serve")) return serve_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "admin")) return admin_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "runtime")) return runtime_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "attest")) return attest_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "receipt")) return receipt_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "evidence")) return evidence_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "action") || !strcmp(cmd, "activation") || !strcmp(cmd, "package") || !strcmp(cmd, "trigger") ||
        !strcmp(cmd, "rule") || !strcmp(cmd, "api"))
        return cli_main(argc - 1, argv + 1);
    fprintf(stderr, "tfaas: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
