/* fake_tee_files.h - a fake of the hardware TEEs' file interfaces
 * (configfs-tsm's report entry, Gramine's /dev/attestation) for the unit
 * tests: a real directory whose evidence file is a FIFO served by a forked
 * process, so that, as in the kernel, writing the request file and then
 * reading the evidence file yields evidence made after that write.
 *
 * Each time a reader opens the evidence FIFO the fake reads the request
 * file, adds `bump` to the generation file (when there is one: the kernel
 * adds 1 per write; 2 plays a concurrent writer), and writes `evidence`,
 * either as it is (a replayed genuine quote: its report data is not ours)
 * or with the request spliced in at splice_at (our report data in a
 * genuine quote, whose signature then no longer verifies). Each answer
 * is on a FIFO of its own (see fake_serve), so one read sees one answer. */
#ifndef TFAAS_TESTS_FAKE_TEE_FILES_H
#define TFAAS_TESTS_FAKE_TEE_FILES_H

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    const char *request;    /* file the backend writes (inblob, user_report_data) */
    const char *evidence;   /* FIFO the backend reads (outblob, quote) */
    const char *generation; /* file the backend reads around it, or NULL */
    unsigned bump;
    const uint8_t *ev;
    size_t ev_len;
    long splice_at; /* offset of the 64 report-data bytes, -1: as it is */
} fake_tee;

static inline void fake_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

static inline void fake_serve(const fake_tee *t) {
    for (;;) {
        int out = open(t->evidence, O_WRONLY); /* blocks until the backend opens it */
        if (out < 0) _exit(1);
        uint8_t req[64] = {0};
        FILE *f = fopen(t->request, "rb");
        size_t n = f ? fread(req, 1, sizeof req, f) : 0;
        if (f) fclose(f);
        if (t->generation) {
            unsigned long long g = 0;
            f = fopen(t->generation, "r");
            if (!f || fscanf(f, "%llu", &g) != 1) _exit(1);
            fclose(f);
            char text[32];
            int len = snprintf(text, sizeof text, "%llu\n", g + t->bump);
            fake_write_file(t->generation, text, (size_t)len);
        }
        uint8_t *copy = malloc(t->ev_len);
        if (!copy) _exit(1);
        memcpy(copy, t->ev, t->ev_len);
        if (t->splice_at >= 0 && n == sizeof req && (size_t)t->splice_at + sizeof req <= t->ev_len)
            memcpy(copy + t->splice_at, req, sizeof req);
        size_t done = 0;
        while (done < t->ev_len) {
            ssize_t w = write(out, copy + done, t->ev_len - done);
            if (w <= 0) break;
            done += (size_t)w;
        }
        free(copy);
        /* A fresh FIFO in its place before the close: the reader gets EOF
         * on this one, and the next open (the next quote) cannot meet this
         * writer again while the reader still holds the old one. */
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.next", t->evidence);
        if (mkfifo(tmp, 0600) < 0 || rename(tmp, t->evidence) < 0) _exit(1);
        close(out);
    }
}

/* Makes the evidence FIFO (in place of whatever was there). */
static inline void fake_tee_fifo(const fake_tee *t) {
    unlink(t->evidence);
    if (mkfifo(t->evidence, 0600) < 0) {
        perror("mkfifo");
        exit(2);
    }
}

/* Makes the evidence FIFO and starts serving it; returns the fake's pid. */
static inline pid_t fake_tee_start(const fake_tee *t) {
    fake_tee_fifo(t);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        fake_serve(t);
    }
    return pid;
}

static inline void fake_tee_stop(pid_t pid) {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* A configfs-tsm report directory: ROOT/tfaas with its attributes. */
static inline fake_tee fake_tsm_tree(const char *root, const char *provider, const uint8_t *ev, size_t len, long splice,
                         unsigned bump) {
    static char entry[1024], in[1100], out[1100], gen[1100];
    snprintf(entry, sizeof entry, "%s/tfaas", root);
    mkdir(entry, 0700);
    snprintf(in, sizeof in, "%s/inblob", entry);
    snprintf(out, sizeof out, "%s/outblob", entry);
    snprintf(gen, sizeof gen, "%s/generation", entry);
    char p[1100];
    snprintf(p, sizeof p, "%s/provider", entry);
    fake_write_file(p, provider, strlen(provider));
    fake_write_file(gen, "0\n", 2);
    fake_write_file(in, "", 0);
    fake_tee t = {.request = in, .evidence = out, .generation = gen, .bump = bump, .ev = ev, .ev_len = len,
                  .splice_at = splice};
    return t;
}

/* A Gramine /dev/attestation: attestation_type, user_report_data, quote, keys. */
static inline fake_tee fake_gramine_tree(const char *root, const char *type, const uint8_t *ev, size_t len, long splice,
                             const char *key16) {
    static char in[1100], out[1100];
    char p[1100];
    snprintf(p, sizeof p, "%s/attestation_type", root);
    fake_write_file(p, type, strlen(type));
    snprintf(p, sizeof p, "%s/keys", root);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/keys/_sgx_mrenclave", root);
    fake_write_file(p, key16, 16);
    snprintf(in, sizeof in, "%s/user_report_data", root);
    snprintf(out, sizeof out, "%s/quote", root);
    fake_write_file(in, "", 0);
    fake_tee t = {.request = in, .evidence = out, .ev = ev, .ev_len = len, .splice_at = splice};
    return t;
}

/* SEV-SNP's certificate table (snp_cert_table.h) holding one VCEK: what a
 * host puts in auxblob. malloc'd, *len its size. */
static inline uint8_t *fake_cert_table(const uint8_t *der, size_t der_len, size_t *len) {
    static const uint8_t vcek[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                     0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
    *len = 48 + der_len;
    uint8_t *t = calloc(1, *len);
    if (!t) exit(2);
    memcpy(t, vcek, 16);
    uint32_t off = 48, n = (uint32_t)der_len;
    for (int i = 0; i < 4; i++) {
        t[16 + i] = (uint8_t)(off >> (8 * i));
        t[20 + i] = (uint8_t)(n >> (8 * i));
    }
    memcpy(t + 48, der, der_len);
    return t;
}

#endif
