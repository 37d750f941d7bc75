/* fake_tee_tool.c - the fake configfs-tsm report directory of
 * tests/unit/trusted/fake_tee_files.h as a process, for the node suites:
 *
 *   fake_tee_tool ROOT PROVIDER EVIDENCE_FILE SPLICE_AT [KEY_CERT_DER]
 *
 * makes ROOT/tfaas (provider PROVIDER, the evidence FIFO serving
 * EVIDENCE_FILE with the report data written spliced in at SPLICE_AT, or
 * as it is with -1; with KEY_CERT_DER an auxblob certificate table holding
 * it as the VCEK), prints "ready" and serves until killed. */
#include "trusted/fake_tee_files.h"

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf = f ? malloc(1 << 20) : NULL;
    *len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    if (f) fclose(f);
    if (!buf || !*len) {
        fprintf(stderr, "fake_tee_tool: cannot read %s\n", path);
        exit(2);
    }
    return buf;
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: fake_tee_tool ROOT PROVIDER EVIDENCE_FILE SPLICE_AT [KEY_CERT_DER]\n");
        return 2;
    }
    size_t len = 0;
    uint8_t *ev = slurp(argv[3], &len);
    char provider[64];
    snprintf(provider, sizeof provider, "%s\n", argv[2]);
    fake_tee t = fake_tsm_tree(argv[1], provider, ev, len, strtol(argv[4], NULL, 10), 1);
    if (argc == 6) {
        size_t der_len = 0, tlen = 0;
        uint8_t *der = slurp(argv[5], &der_len), *table = fake_cert_table(der, der_len, &tlen);
        char aux[4200];
        snprintf(aux, sizeof aux, "%s/tfaas/auxblob", argv[1]);
        fake_write_file(aux, table, tlen);
        free(table);
        free(der);
    }
    fake_tee_fifo(&t);
    signal(SIGPIPE, SIG_IGN);
    printf("ready\n");
    fflush(stdout);
    fake_serve(&t); /* until killed */
    return 0;
}
