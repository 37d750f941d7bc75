/* test_tee_hw.c - the hardware TEE backends (configfs-tsm "tsm", Gramine-SGX
 * "gramine") against fakes of their file interfaces (fake_tee_files.h)
 * serving genuine quotes and reports from ../shared/hw-evidence
 * (TFAAS_HW_EVIDENCE; skipped, saying why, when absent):
 *  - a replayed genuine quote (its report data not ours) is refused at
 *    init, by the backend and by the real tfaas-enclave binary;
 *  - our report data spliced into a genuine quote passes the backend's own
 *    check, and the verifier then refuses it (signature), with the pinned
 *    roots and the sample's collateral at its verification time;
 *  - a concurrent writer of the configfs entry (generation) is detected;
 *  - unknown provider, provider/evidence mismatch, attestation type;
 *  - SEV-SNP's auxblob: its VCEK goes with the evidence, and the key
 *    service's check (tee_verify_endorsed) refuses spliced and replayed
 *    reports against the pinned AMD roots as of now;
 *  - Gramine: MRENCLAVE from the quote, sealing from the MRENCLAVE key;
 *  - no quote after tee_quoting_done. */
#include "check.h"
#include "fake_tee_files.h"
#include "hw_samples.h"
#include "scratch.h"

#include "common/b64url.h"
#include "common/dcap_quote.h"
#include "trusted/tee.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

static const char *samples;

static uint8_t *slurp(const char *rel, size_t *len) { return hw_sample_read(samples, rel, len); }

static int64_t at(const char *rfc3339) {
    struct tm tm = {0};
    strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return (int64_t)timegm(&tm);
}

static int init_tee(const char *backend, const char *root, char **err) {
    tee_config cfg = {.backend = backend, .root_path = root};
    *err = NULL;
    return tee_init(&cfg, err);
}

/* tee_init with the fake serving; the refusal's text in *err. */
static int run_init(const fake_tee *t, const char *backend, const char *root, char **err) {
    pid_t fake = fake_tee_start(t);
    int rc = init_tee(backend, root, err);
    fake_tee_stop(fake);
    return rc;
}

static evidence_result verify_text(const char *text, const evidence_trust *tr, const uint8_t *rd) {
    size_t n = 0;
    uint8_t *raw = b64url_decode_alloc(text, strlen(text), &n);
    char why[256] = "";
    evidence_result r = raw ? evidence_check(raw, n, tr, NULL, rd, NULL, why, sizeof why) : EVIDENCE_MALFORMED;
    free(raw);
    return r;
}

/* A quote over report data of byte b from the active backend (a fake that
 * splices it into a genuine quote): the verifier refuses its signature. */
static void check_spliced(uint8_t b, const evidence_trust *tr) {
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN];
    memset(rd, b, sizeof rd);
    char *ev = NULL;
    size_t ev_len = 0;
    CHECK(tee_quote(rd, &ev, &ev_len) == 0 && ev && !strchr(ev, '.'));
    if (ev) CHECK(verify_text(ev, tr, rd) == EVIDENCE_BAD_SIGNATURE);
    free(ev);
}

static void test_tsm_snp(const char *dir) {
    size_t rlen = 0, clen = 0;
    uint8_t *report = slurp("snp/virtee-milan.report", &rlen), *vcek = slurp("snp/virtee-milan.vcek.der", &clen);
    CHECK(report && vcek && rlen == 1184);
    char *root = strdup(path_join(dir, "tsm-snp")), *err = NULL;
    mkdir(root, 0700);

    /* A replayed genuine report: refused at init, saying why. */
    fake_tee t = fake_tsm_tree(root, "sev_guest\n", report, rlen, -1, 1);
    CHECK(run_init(&t, "tsm", root, &err) < 0 && err && strstr(err, "does not carry the report data written"));
    free(err);

    /* A concurrent writer: generation moves by 2 around each write. */
    t = fake_tsm_tree(root, "sev_guest\n", report, rlen, 0x50, 2);
    CHECK(run_init(&t, "tsm", root, &err) < 0 && err && strstr(err, "another process kept writing"));
    free(err);

    /* Our report data in a genuine report: the backend accepts it (it
     * cannot check the signature), the verifier refuses it with the pinned
     * AMD roots and the VCEK at the sample's time. */
    t = fake_tsm_tree(root, "sev_guest\n", report, rlen, 0x50, 1);
    pid_t fake = fake_tee_start(&t);
    CHECK(init_tee("tsm", root, &err) == 0);
    if (err) fprintf(stderr, "tsm init: %s\n", err);
    free(err);
    CHECK_STR(tee_backend_name(), "tsm");
    CHECK(!tee_can_seal());
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN];
    for (size_t i = 0; i < sizeof rd; i++) rd[i] = (uint8_t)(i * 7 + 1);
    char *ev = NULL;
    size_t ev_len = 0;
    CHECK(tee_quote(rd, &ev, &ev_len) == 0 && ev && !strchr(ev, '.'));
    evidence_trust tr = {.key_cert = vcek, .key_cert_len = clen, .at = at("2025-06-01T00:00:00Z")};
    if (ev) CHECK(verify_text(ev, &tr, rd) == EVIDENCE_BAD_SIGNATURE);
    /* The genuine report checked for our report data: the refusal a key
     * service gives a replayed report. */
    CHECK(evidence_check(report, rlen, &tr, NULL, rd, NULL, NULL, 0) == EVIDENCE_WRONG_REPORT_DATA);
    CHECK(evidence_check(report, rlen, &tr, NULL, report + 0x50, NULL, NULL, 0) == EVIDENCE_OK);
    /* tee_verify in the enclave: no key certificate at hand. */
    CHECK(tee_verify(ev, ev_len, NULL, rd, NULL) == EVIDENCE_NO_COLLATERAL);
    free(ev);
    tee_quoting_done();
    ev = NULL;
    CHECK(tee_quote(rd, &ev, &ev_len) < 0 && !ev);
    tee_shutdown();
    fake_tee_stop(fake);

    /* The host's certificate table in auxblob: the VCEK goes with the
     * evidence, and the key service's check (tee_verify_endorsed: pinned
     * AMD roots, now) refuses the spliced report and a replayed one. */
    size_t tlen = 0;
    uint8_t *table = fake_cert_table(vcek, clen, &tlen);
    char aux[1100];
    snprintf(aux, sizeof aux, "%s/tfaas/auxblob", root);
    fake_write_file(aux, table, tlen);
    fake = fake_tee_start(&t);
    CHECK(init_tee("tsm", root, &err) == 0);
    free(err);
    const char *pem = tee_key_cert();
    CHECK(pem && strstr(pem, "-----BEGIN CERTIFICATE-----"));
    ev = NULL;
    CHECK(tee_quote(rd, &ev, &ev_len) == 0);
    char why[160] = "";
    if (ev) CHECK(tee_verify_endorsed(ev, ev_len, pem, NULL, NULL, rd, NULL, why, sizeof why) == EVIDENCE_BAD_SIGNATURE);
    CHECK(*why);
    if (ev) CHECK(tee_verify_endorsed(ev, ev_len, NULL, NULL, NULL, rd, NULL, NULL, 0) == EVIDENCE_NO_COLLATERAL);
    free(ev);
    char *genuine = b64url_encode_alloc(report, rlen);
    evidence_claims claims;
    CHECK(tee_verify_endorsed(genuine, strlen(genuine), pem, NULL, NULL, rd, NULL, NULL, 0) ==
          EVIDENCE_WRONG_REPORT_DATA);
    CHECK(tee_verify_endorsed(genuine, strlen(genuine), pem, NULL, NULL, report + 0x50, &claims, NULL, 0) ==
          EVIDENCE_OK && !strcmp(claims.tee, "sev-snp"));
    free(genuine);
    tee_shutdown();
    fake_tee_stop(fake);
    /* A table pointing past its end stops the backend, saying so. */
    table[20] = 0xff;
    fake_write_file(aux, table, tlen);
    CHECK(run_init(&t, "tsm", root, &err) < 0 && err && strstr(err, "malformed SEV-SNP certificate table"));
    free(err);
    unlink(aux);
    free(table);

    /* The provider decides the kind: a TDX quote from sev_guest is refused. */
    size_t qlen = 0;
    uint8_t *quote = slurp("tdx/phala-tdx-v4.quote", &qlen);
    t = fake_tsm_tree(root, "sev_guest\n", quote, qlen, -1, 1);
    CHECK(run_init(&t, "tsm", root, &err) < 0 && err && strstr(err, "no SEV-SNP report"));
    free(err);
    t = fake_tsm_tree(root, "arm_cca_guest\n", report, rlen, -1, 1);
    CHECK(run_init(&t, "tsm", root, &err) < 0 && err && strstr(err, "provider 'arm_cca_guest' is not supported"));
    free(err);
    CHECK(init_tee("tsm", "/nonexistent/tsm", &err) < 0 && err && strstr(err, "cannot make the report entry"));
    free(err);
    free(quote);
    free(report);
    free(vcek);
    free(root);
}

static void test_tsm_tdx(const char *dir) {
    size_t qlen = 0, clen = 0;
    uint8_t *quote = slurp("tdx/phala-tdx-v4.quote", &qlen);
    uint8_t *col = slurp("tdx/phala-2506-tdx-b0c06f000000.collateral.json", &clen);
    CHECK(quote && col);
    char *root = strdup(path_join(dir, "tsm-tdx")), *err = NULL;
    mkdir(root, 0700);
    long rd_at = DCAP_HEADER_LEN + TD_RB_REPORTDATA;
    fake_tee t = fake_tsm_tree(root, "tdx_guest\n", quote, qlen, -1, 1);
    CHECK(run_init(&t, "tsm", root, &err) < 0 && err && strstr(err, "does not carry the report data written"));
    free(err);
    t = fake_tsm_tree(root, "tdx_guest\n", quote, qlen, rd_at, 1);
    pid_t fake = fake_tee_start(&t);
    CHECK(init_tee("tsm", root, &err) == 0);
    free(err);
    evidence_trust tr = {.collateral = (const char *)col, .collateral_len = clen, .at = at("2025-07-01T00:00:00Z")};
    check_spliced(0x5a, &tr);
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN];
    memset(rd, 0x5a, sizeof rd);
    CHECK(evidence_check(quote, qlen, &tr, NULL, rd, NULL, NULL, 0) == EVIDENCE_WRONG_REPORT_DATA);
    tee_shutdown();
    fake_tee_stop(fake);
    free(quote);
    free(col);
    free(root);
}

static void test_gramine(const char *dir) {
    size_t qlen = 0, clen = 0;
    uint8_t *quote = slurp("sgx/phala-sgx-v3.quote", &qlen);
    uint8_t *col = slurp("sgx/phala-2506-sgx-00a067110000.collateral.json", &clen);
    CHECK(quote && col);
    char *root = strdup(path_join(dir, "gramine")), *err = NULL;
    mkdir(root, 0700);
    long rd_at = DCAP_HEADER_LEN + SGX_RB_REPORTDATA;
    const char *key_a = "0123456789abcdef", *key_b = "fedcba9876543210";

    fake_tee t = fake_gramine_tree(root, "dcap\n", quote, qlen, -1, key_a);
    CHECK(run_init(&t, "gramine", root, &err) < 0 && err && strstr(err, "does not carry the report data written"));
    free(err);
    t = fake_gramine_tree(root, "epid\n", quote, qlen, rd_at, key_a);
    CHECK(run_init(&t, "gramine", root, &err) < 0 && err && strstr(err, "not dcap"));
    free(err);

    t = fake_gramine_tree(root, "dcap\n", quote, qlen, rd_at, key_a);
    pid_t fake = fake_tee_start(&t);
    CHECK(init_tee("gramine", root, &err) == 0);
    if (err) fprintf(stderr, "gramine init: %s\n", err);
    free(err);
    CHECK_STR(tee_backend_name(), "gramine");
    CHECK(memcmp(tee_measurement(), quote + DCAP_HEADER_LEN + SGX_RB_MRENCLAVE, 32) == 0);
    CHECK(tee_can_seal());
    uint8_t *blob = NULL, *pt = NULL;
    size_t blob_len = 0, pt_len = 0;
    CHECK(tee_seal("test", (const uint8_t *)"secret", 6, &blob, &blob_len) == 0);
    CHECK(tee_unseal("test", blob, blob_len, &pt, &pt_len) == TEE_UNSEAL_OK && pt_len == 6);
    free(pt);
    evidence_trust tr = {.collateral = (const char *)col, .collateral_len = clen, .at = at("2025-07-01T00:00:00Z")};
    check_spliced(0xa5, &tr);
    tee_shutdown();
    fake_tee_stop(fake);

    /* Another CPU's (or enclave's) sealing key does not open the blob. */
    t = fake_gramine_tree(root, "dcap\n", quote, qlen, rd_at, key_b);
    fake = fake_tee_start(&t);
    CHECK(init_tee("gramine", root, &err) == 0);
    free(err);
    pt = NULL;
    CHECK(tee_unseal("test", blob, blob_len, &pt, &pt_len) == TEE_UNSEAL_REFUSED && !pt);
    tee_shutdown();
    fake_tee_stop(fake);
    free(blob);

    /* --measurement: MRENCLAVE from a quote. */
    t = fake_gramine_tree(root, "dcap\n", quote, qlen, rd_at, key_a);
    fake = fake_tee_start(&t);
    tee_config cfg = {.backend = "gramine", .root_path = root};
    uint8_t m[32];
    CHECK(tee_measure(&cfg, m, &err) == 0 && memcmp(m, quote + DCAP_HEADER_LEN + SGX_RB_MRENCLAVE, 32) == 0);
    free(err);
    fake_tee_stop(fake);
    tee_config tsm = {.backend = "tsm"};
    err = NULL;
    CHECK(tee_measure(&tsm, m, &err) < 0 && err && strstr(err, "48 bytes"));
    free(err);
    free(quote);
    free(col);
    free(root);
}

/* The real tfaas-enclave binary with --tee tsm: a replayed report stops it
 * at start with the reason on stderr; our report data lets it start. */
static int run_enclave(const char *root, char *out, size_t cap) {
    const char *bin = getenv("TFAAS_BIN");
    char path[4096];
    snprintf(path, sizeof path, "%s/tfaas-enclave", bin ? bin : ".");
    int sv[2], errp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(errp, O_CLOEXEC) < 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        if (dup2(sv[1], 3) < 0 || dup2(errp[1], 2) < 0) _exit(127);
        char *argv[] = {"tfaas-enclave", "--fd", "3", "--tee", "tsm", "--tee-root", (char *)root, NULL};
        char *envp[] = {NULL};
        execve(path, argv, envp);
        _exit(127);
    }
    close(sv[1]);
    close(errp[1]);
    /* Started: it sends its hello (IPC_HELLO) and waits; refused: it exits. */
    struct pollfd pf = {.fd = sv[0], .events = POLLIN};
    int ready = poll(&pf, 1, 60000);
    char b[1];
    int hello = ready > 0 && recv(sv[0], b, 1, MSG_PEEK) == 1;
    close(sv[0]); /* EOF: a started enclave ends */
    int status = 0;
    waitpid(pid, &status, 0);
    ssize_t n = read(errp[0], out, cap - 1);
    out[n > 0 ? n : 0] = 0;
    close(errp[0]);
    return hello ? 0 : WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void test_enclave_binary(const char *dir) {
    size_t rlen = 0;
    uint8_t *report = slurp("snp/virtee-milan.report", &rlen);
    char *root = strdup(path_join(dir, "tsm-bin")), out[4096];
    mkdir(root, 0700);
    fake_tee t = fake_tsm_tree(root, "sev_guest\n", report, rlen, -1, 1);
    pid_t fake = fake_tee_start(&t);
    CHECK(run_enclave(root, out, sizeof out) == 1 && strstr(out, "does not carry the report data written"));
    fake_tee_stop(fake);
    t = fake_tsm_tree(root, "sev_guest\n", report, rlen, 0x50, 2);
    fake = fake_tee_start(&t);
    CHECK(run_enclave(root, out, sizeof out) == 1 && strstr(out, "another process kept writing"));
    fake_tee_stop(fake);
    t = fake_tsm_tree(root, "sev_guest\n", report, rlen, 0x50, 1);
    fake = fake_tee_start(&t);
    int rc = run_enclave(root, out, sizeof out);
    CHECK(rc == 0);
    if (rc != 0) fprintf(stderr, "enclave: %d %s\n", rc, out);
    fake_tee_stop(fake);
    free(report);
    free(root);
}

int main(void) {
    samples = getenv("TFAAS_HW_EVIDENCE");
    if (!samples || !*samples) {
        printf("SKIP: no hardware evidence samples (TFAAS_HW_EVIDENCE unset: ../shared/hw-evidence absent)\n");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    char *dir = scratch_dir("tee-hw");
    test_tsm_snp(dir);
    test_tsm_tdx(dir);
    test_gramine(dir);
    test_enclave_binary(dir);
    scratch_remove(dir);
    return CHECK_DONE();
}
