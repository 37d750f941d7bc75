/* main_common.c - command-line steps both enclave binaries share; see
 * main_common.h. */
#include "trusted/main_common.h"

#include "common/ipc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

long main_parse_num(const char *s, long min, long max) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    return v;
}

int main_print_measurement(const char *prog, const tee_config *tee) {
    uint8_t m[EVIDENCE_MEASUREMENT_LEN];
    char hex[2 * EVIDENCE_MEASUREMENT_LEN + 1], *err = NULL;
    if (tee_measure(tee, m, &err) < 0) {
        fprintf(stderr, "%s: %s\n", prog, err ? err : "cannot measure");
        free(err);
        return 1;
    }
    evidence_hex(m, sizeof m, hex);
    printf("%s\n", hex);
    return 0;
}

int main_check_channel(const char *prog, long fd) {
    struct stat st;
    if (fstat((int)fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        fprintf(stderr, "%s: fd %ld is not an open socket\n", prog, fd);
        return -1;
    }
    return 0;
}

int main_send_hello(int fd, const char *name) {
    ipc_writer w = {0};
    ipc_writer_begin(&w, IPC_HELLO, 0);
    ipc_put_u64(&w, IPC_VERSION);
    ipc_put_str(&w, name);
    ipc_put_u64(&w, 1);
    int rc = ipc_writer_finish(&w) == IPC_OK && ipc_send(fd, &w) == IPC_OK ? 0 : -1;
    ipc_writer_free(&w);
    return rc;
}
