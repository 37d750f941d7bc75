/* tee_hw_probe.c - the hardware test of the tsm and gramine TEE backends,
 * for an operator on a TDX or SEV-SNP guest or in Gramine-SGX
 * (scripts/hw-tee-test.sh runs it; docs/architecture.md):
 *
 *   tee_hw_probe tsm|gramine [--tee-root DIR] [--cert PEM] [--collateral JSON]
 *
 * initialises the backend on its real files, quotes 64 random bytes, prints
 * the evidence (base64url) on stdout and verifies it as the key service
 * would (tee_verify_endorsed: pinned Intel and AMD roots, now) with the
 * SNP key certificate (--cert, else the one from auxblob) or the DCAP
 * collateral (--collateral, from Intel's PCS). Prints the claims (JSON) and
 * exits 0 only when the evidence is valid, not debug, and binds those
 * bytes; else 1 with the reason on stderr (2: usage or start-up). */
#include "common/evidence.h"
#include "trusted/tee.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp_text(const char *path) {
    FILE *f = fopen(path, "rb");
    char *buf = f ? calloc(1, (1 << 20) + 1) : NULL;
    size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    if (f) fclose(f);
    if (!n || strlen(buf) != n) {
        fprintf(stderr, "tee_hw_probe: %s is not a text file of at most 1 MiB\n", path);
        exit(2);
    }
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc % 2 || (strcmp(argv[1], "tsm") != 0 && strcmp(argv[1], "gramine") != 0)) {
        fprintf(stderr, "usage: tee_hw_probe tsm|gramine [--tee-root DIR] [--cert PEM] [--collateral JSON]\n");
        return 2;
    }
    tee_config cfg = {.backend = argv[1]};
    char *cert = NULL, *collateral = NULL, *err = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--tee-root")) cfg.root_path = argv[i + 1];
        else if (!strcmp(argv[i], "--cert")) cert = slurp_text(argv[i + 1]);
        else if (!strcmp(argv[i], "--collateral")) collateral = slurp_text(argv[i + 1]);
        else {
            fprintf(stderr, "tee_hw_probe: unknown option %s\n", argv[i]);
            free(cert);
            free(collateral);
            return 2;
        }
    }
    if (tee_init(&cfg, &err) < 0) {
        fprintf(stderr, "tee_hw_probe: %s\n", err ? err : "TEE initialisation failed");
        free(err);
        free(cert);
        free(collateral);
        return 2;
    }
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN];
    char *ev = NULL, why[256] = "";
    size_t len = 0;
    if (RAND_bytes(rd, sizeof rd) != 1 || tee_quote(rd, &ev, &len) < 0) {
        fprintf(stderr, "tee_hw_probe: cannot quote\n");
        free(cert);
        free(collateral);
        tee_shutdown();
        return 2;
    }
    printf("%s\n", ev);
    fflush(stdout); /* kept even if what follows fails */
    evidence_claims claims;
    evidence_result r = tee_verify_endorsed(ev, len, cert ? cert : tee_key_cert(), collateral, NULL, rd, &claims,
                                            why, sizeof why);
    if (r != EVIDENCE_OK) {
        fprintf(stderr, "tee_hw_probe: %s evidence refused: %s%s%s\n", argv[1], evidence_result_name(r),
                *why ? ": " : "", why);
    } else {
        json_t *j = evidence_claims_json(&claims);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(j);
    }
    free(ev);
    free(cert);
    free(collateral);
    tee_shutdown();
    return r == EVIDENCE_OK ? 0 : 1;
}
