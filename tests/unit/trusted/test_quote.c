/* test_quote.c - the key service's and the workers' identities under the
 * sim TEE: the real tfaas-kms and tfaas-enclave binaries derive different
 * sealing keys, and a worker in quote-client mode (tee.h) gets evidence
 * from the real tfaas-qe for the measurement tfaas-qe takes of the calling
 * process, can verify evidence, cannot seal or unseal, and cannot quote
 * once it said it is done. */
#include "check.h"
#include "scratch.h"

#include "common/fdpass.h"
#include "common/ipc.h"
#include "common/p256.h"
#include "trusted/quote_proto.h"
#include "trusted/tee.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char bin_path[1024];

static const char *bin(const char *name) {
    const char *dir = getenv("TFAAS_BIN");
    snprintf(bin_path, sizeof bin_path, "%s/%s", dir && *dir ? dir : "build/bin", name);
    return bin_path;
}

/* tfaas-qe with its control channel on *ctl, after its hello. */
static pid_t start_qe(const char *key, int *ctl) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return -1;
    const char *path = bin("tfaas-qe");
    pid_t pid = fork();
    if (pid == 0) {
        if (dup2(sv[1], 3) < 0) _exit(126);
        close_range(4, ~0u, 0);
        execl(path, "tfaas-qe", "--fd", "3", "--platform-key", key, (char *)NULL);
        _exit(127);
    }
    close(sv[1]);
    ipc_msg m;
    if (pid < 0 || ipc_recv(sv[0], &m) != IPC_OK) return -1;
    int hello = m.type == IPC_HELLO;
    ipc_msg_free(&m);
    *ctl = sv[0];
    return hello ? pid : -1;
}

/* A new quoting channel: one end to tfaas-qe, the other returned. */
static int channel(int ctl) {
    int sv[2];
    const int on = 1; /* as quote_service.c does before the worker can send */
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0)
        return -1;
    int ok = fdpass_send(ctl, sv[1]) == 0;
    close(sv[1]);
    if (!ok) close(sv[0]);
    return ok ? sv[0] : -1;
}

static int init(const tee_config *cfg) {
    char *err = NULL;
    int rc = tee_init(cfg, &err);
    if (rc < 0) fprintf(stderr, "tee_init: %s\n", err ? err : "?");
    free(err);
    return rc;
}

int main(void) {
    char *dir = scratch_dir("quote");
    char *key = strdup(path_join(dir, "platform.key")), *pub = strdup(path_join(dir, "platform.pem"));
    EVP_PKEY *p = p256_generate(), *other = p256_generate();
    CHECK(p256_write_private_pem(p, key) == 0 && p256_write_public_pem(p, pub) == 0);
    char kms_bin[1024], worker_bin[1024];
    snprintf(kms_bin, sizeof kms_bin, "%s", bin("tfaas-kms"));
    snprintf(worker_bin, sizeof worker_bin, "%s", bin("tfaas-enclave"));

    /* What the KMS seals does not unseal in a worker on the same platform:
     * another binary, another measurement, another sealing key. */
    tee_config kms = {.backend = "sim", .engine_identity = "kms", .platform_key_path = key, .executable_path = kms_bin};
    tee_config worker = {.backend = "sim", .engine_identity = "duktape/2.7.0", .platform_key_path = key,
                         .executable_path = worker_bin};
    uint8_t *blob = NULL, *pt = NULL, kms_m[EVIDENCE_MEASUREMENT_LEN];
    size_t blob_len = 0, pt_len = 0;
    CHECK(init(&kms) == 0);
    memcpy(kms_m, tee_measurement(), sizeof kms_m);
    CHECK(tee_can_seal());
    CHECK(tee_seal("kms-keys", (const uint8_t *)"sk", 2, &blob, &blob_len) == 0);
    CHECK(init(&worker) == 0);
    CHECK(memcmp(tee_measurement(), kms_m, sizeof kms_m) != 0);
    CHECK(tee_unseal("kms-keys", blob, blob_len, &pt, &pt_len) == TEE_UNSEAL_REFUSED);
    CHECK(init(&kms) == 0); /* the KMS itself, restarted, still opens it */
    CHECK(tee_unseal("kms-keys", blob, blob_len, &pt, &pt_len) == TEE_UNSEAL_OK && pt_len == 2);
    free(pt);
    tee_shutdown();

    /* A quote client: the platform's public key and a channel to tfaas-qe. */
    int ctl = -1;
    pid_t qe = start_qe(key, &ctl);
    CHECK(qe > 0);
    int q = channel(ctl);
    CHECK(q >= 3);
    tee_config client = {.backend = "sim", .engine_identity = "kms", .platform_root_path = pub, .quote_fd = q};
    CHECK(init(&client) == 0); /* its warm-up quote verified against its own measurement */
    CHECK(!tee_can_seal());
    uint8_t *b2 = NULL;
    size_t b2_len = 0;
    CHECK(tee_seal("kms-keys", (const uint8_t *)"sk", 2, &b2, &b2_len) < 0 && !b2);
    CHECK(tee_unseal("kms-keys", blob, blob_len, &pt, &pt_len) == TEE_UNSEAL_REFUSED);
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN];
    evidence_bind("test", (const uint8_t *)"abc", 3, rd);
    char *ev = NULL;
    size_t ev_len = 0;
    evidence_claims c;
    CHECK(tee_quote(rd, &ev, &ev_len) == 0);
    CHECK(ev && evidence_verify(ev, ev_len, p, tee_measurement(), rd, &c) == EVIDENCE_OK);
    CHECK(ev && evidence_verify(ev, ev_len, other, NULL, NULL, &c) == EVIDENCE_UNKNOWN_ROOT);
    /* It claimed the KMS's engine identity, but tfaas-qe measured this test
     * binary: the evidence does not show the KMS's measurement. */
    CHECK(ev && tee_verify(ev, ev_len, kms_m, rd, &c) == EVIDENCE_WRONG_MEASUREMENT);
    free(ev);
    ev = NULL;
    tee_quoting_done();
    CHECK(tee_quote(rd, &ev, &ev_len) < 0 && !ev);
    tee_shutdown();

    /* tfaas-qe refuses a malformed request and closes that channel only. */
    int bad = channel(ctl);
    uint8_t junk[QUOTE_REQUEST_LEN], head[5];
    memset(junk, 'x', sizeof junk);
    CHECK(quote_send_all(bad, junk, sizeof junk) == 0);
    CHECK(quote_recv_all(bad, head, sizeof head) == 0 && head[0] == QUOTE_REFUSED);
    close(bad);
    int again = channel(ctl);
    tee_config c2 = client;
    c2.quote_fd = again;
    CHECK(init(&c2) == 0);
    tee_shutdown();

    /* Without the host, tfaas-qe ends. */
    close(ctl);
    int status = 0;
    CHECK(waitpid(qe, &status, 0) == qe && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    free(blob);
    EVP_PKEY_free(p);
    EVP_PKEY_free(other);
    free(key);
    free(pub);
    scratch_remove(dir);
    return CHECK_DONE();
}
