/* fake_tee_tool.c - the fakes of tests/unit/trusted/fake_tee_files.h as a
 * process, for the node suites:
 *
 *   fake_tee_tool tsm ROOT PROVIDER EVIDENCE_FILE SPLICE_AT [KEY_CERT_DER]
 *   fake_tee_tool gramine ROOT EVIDENCE_FILE SPLICE_AT
 *
 * makes a configfs-tsm report directory ROOT/tfaas (provider PROVIDER; with
 * KEY_CERT_DER an auxblob certificate table holding it as the VCEK) or a
 * Gramine /dev/attestation at ROOT (type dcap, a fixed sealing key), whose
 * evidence FIFO serves EVIDENCE_FILE with the report data written spliced
 * in at SPLICE_AT (or as it is with -1), prints "ready" and serves until
 * killed. */
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

static int usage(void) {
    fprintf(stderr, "usage: fake_tee_tool tsm ROOT PROVIDER EVIDENCE_FILE SPLICE_AT [KEY_CERT_DER]\n"
                    "       fake_tee_tool gramine ROOT EVIDENCE_FILE SPLICE_AT\n");
    return 2;
}

int main(int argc, char **argv) {
    int tsm = argc >= 2 && !strcmp(argv[1], "tsm"), gramine = argc >= 2 && !strcmp(argv[1], "gramine");
    if (!(tsm && (argc == 6 || argc == 7)) && !(gramine && argc == 5)) return usage();
    size_t len = 0;
    uint8_t *ev = slurp(argv[tsm ? 4 : 3], &len);
    long splice = strtol(argv[tsm ? 5 : 4], NULL, 10);
    fake_tee t;
    if (gramine) {
        t = fake_gramine_tree(argv[2], "dcap\n", ev, len, splice, "0123456789abcdef");
    } else {
        char provider[64];
        snprintf(provider, sizeof provider, "%s\n", argv[3]);
        t = fake_tsm_tree(argv[2], provider, ev, len, splice, 1);
    }
    if (tsm && argc == 7) {
        size_t der_len = 0, tlen = 0;
        uint8_t *der = slurp(argv[6], &der_len), *table = fake_cert_table(der, der_len, &tlen);
        char aux[4200];
        snprintf(aux, sizeof aux, "%s/tfaas/auxblob", argv[2]);
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
