/* cli_attest.c - `tfaas attest`: fetch the key service's attestation,
 * verify it (sim: against the platform root; SGX, TDX, SEV-SNP: against the
 * pinned Intel/AMD roots or --ca) and the expected KMS measurement,
 * check the worker measurements it lists against the expected ones, and pin
 * the result for later confidential commands (cli_kms.h). */
#include "common/p256.h"
#include "host/cli/cli_config.h"
#include "host/cli/cli_file.h"
#include "host/cli/cli_http.h"
#include "host/cli/cli_kms.h"
#include "host/commands.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ATTEST_PATH "/tfaas/v1/attestation"

static void usage(FILE *f) {
    fputs("usage: tfaas attest [--root FILE] [--ca FILE] [--measurement HEX]\n"
          "                    [--worker-measurement ENGINE=HEX]... [--apihost URL]\n"
          "\n"
          "Fetches the key service's attestation (GET " ATTEST_PATH "), verifies it\n"
          "and pins the KMS keys for `tfaas action create/invoke --confidential`.\n"
          "\n"
          "options:\n"
          "  --root FILE        the platform root public key (PEM); for the sim TEE\n"
          "                     this is STATE/sim-platform.pem of the server. Without\n"
          "                     it the key the server sends is trusted on first use.\n"
          "  --ca FILE          for a KMS presenting hardware evidence (SGX, TDX or\n"
          "                     SEV-SNP, docs/protocol.md §5.5): PEM roots to trust\n"
          "                     instead of the pinned Intel SGX Root CA and AMD ARKs\n"
          "  --measurement HEX  the KMS enclave measurement to expect (64 hex digits;\n"
          "                     `tfaas-kms --measurement` prints it; 96 for a TDX MRTD\n"
          "                     or SNP MEASUREMENT). Without it the pinned one is\n"
          "                     expected, or any on first use.\n"
          "  --worker-measurement ENGINE=HEX\n"
          "                     the worker enclave measurement to expect for ENGINE\n"
          "                     (duktape: `tfaas-enclave --measurement`, v8:\n"
          "                     `tfaas-enclave-v8 --measurement`); repeatable. The\n"
          "                     default policy of a confidential deploy names the pinned\n"
          "                     worker measurement of its engine; one not given here is\n"
          "                     taken from the server as it is (with a warning).\n"
          "  --apihost URL      API host (env TFAAS_APIHOST, APIHOST= in the config file)\n"
          "  -h, --help         show this help\n"
          "\n"
          "The pin is $TFAAS_KMS_PIN, else kms-pin.json beside the config file\n"
          "(~/.tfaas/kms-pin.json).\n", f);
}

static int fetch(const char *apihost, json_t **doc) {
    char *url = NULL;
    if (asprintf(&url, "%s%s", apihost, ATTEST_PATH) < 0) return -1;
    struct cli_http_response resp;
    char err[CURL_ERROR_SIZE + 64];
    int rc = cli_http_request("GET", url, NULL, NULL, CLI_HTTP_TIMEOUT_S, &resp, err, sizeof err);
    free(url);
    if (rc) {
        fprintf(stderr, "error: cannot reach the tfaas API at %s: %s\n", apihost, err);
        return -1;
    }
    *doc = json_loadb(resp.body, resp.len, 0, NULL);
    if (resp.status != 200 || !json_is_object(*doc)) {
        const char *msg = json_string_value(json_object_get(*doc, "error"));
        fprintf(stderr, "error: the server answered HTTP %ld to %s%s%s\n", resp.status, ATTEST_PATH,
                msg ? ": " : "", msg ? msg : "");
        json_decref(*doc);
        *doc = NULL;
        rc = -1;
    }
    cli_http_response_free(&resp);
    return rc;
}

#define MAX_WORKER_FLAGS 8

/* Compares the document's worker measurements ("workers": {engine: hex})
 * with the expected ENGINE=HEX flags: 0, or -1 after saying which differs.
 * Warns about each listed one that no flag vouched for. */
static int check_workers(const json_t *doc, char *const *want, size_t nwant) {
    const json_t *workers = json_object_get(doc, "workers");
    for (size_t i = 0; i < nwant; i++) {
        char *eq = strchr(want[i], '=');
        *eq = 0;
        const char *have = json_string_value(json_object_get(workers, want[i]));
        int same = have && strcmp(have, eq + 1) == 0;
        if (!same)
            fprintf(stderr, "error: KMS attestation REFUSED: the server's %s worker measurement is %s, not %s\n",
                    want[i], have ? have : "missing", eq + 1);
        *eq = '=';
        if (!same) return -1;
    }
    const char *engine;
    const json_t *v;
    json_object_foreach((json_t *)workers, engine, v) {
        size_t n = strlen(engine), given = 0;
        for (size_t i = 0; i < nwant; i++) given |= strncmp(want[i], engine, n) == 0 && want[i][n] == '=';
        if (!given)
            fprintf(stderr, "warning: the %s worker measurement below is the server's word; compare it with "
                            "the binary you trust and pass --worker-measurement %s=HEX\n", engine, engine);
    }
    return 0;
}

int attest_main(int argc, char **argv) {
    const char *root_path = NULL, *ca_path = NULL, *meas_hex = NULL, *apihost_flag = NULL;
    char *worker_flags[MAX_WORKER_FLAGS];
    size_t nworker_flags = 0;
    uint8_t scratch[EVIDENCE_MEASUREMENT_LEN];
    static const struct option opts[] = {{"root", required_argument, 0, 'r'},
                                         {"ca", required_argument, 0, 'c'},
                                         {"measurement", required_argument, 0, 'm'},
                                         {"worker-measurement", required_argument, 0, 'w'},
                                         {"apihost", required_argument, 0, 'a'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': root_path = optarg; break;
        case 'c': ca_path = optarg; break;
        case 'm': meas_hex = optarg; break;
        case 'w': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || evidence_unhex(eq + 1, scratch, sizeof scratch) < 0 ||
                nworker_flags == MAX_WORKER_FLAGS) {
                fprintf(stderr, "tfaas attest: --worker-measurement wants ENGINE=HEX (64 hex digits), at most %d\n",
                        MAX_WORKER_FLAGS);
                return 2;
            }
            worker_flags[nworker_flags++] = optarg;
            break;
        }
        case 'a': apihost_flag = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "tfaas attest: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    uint8_t want[EVIDENCE_FIELD_MAX];
    size_t want_len = meas_hex ? strlen(meas_hex) / 2 : 0;
    if (meas_hex && ((want_len != 32 && want_len != 48) || evidence_unhex(meas_hex, want, want_len) < 0)) {
        fprintf(stderr, "tfaas attest: --measurement wants 64 hex digits (96 for TDX or SEV-SNP)\n");
        return 2;
    }

    char err[512];
    struct cli_conn conn = {0};
    char *config = cli_config_default_path();
    int rc = cli_conn_resolve(apihost_flag, NULL, getenv("TFAAS_APIHOST"), NULL, config, &conn, err, sizeof err);
    free(config);
    if (rc) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    char *pin_path = cli_kms_pin_path();
    struct cli_kms pinned = {0}, got = {0};
    json_t *doc = NULL, *pin = NULL;
    EVP_PKEY *root = NULL;
    char *ca_pem = NULL;
    size_t ca_len = 0;
    int status = 1;
    if (!pin_path) {
        fprintf(stderr, "error: no place for the KMS pin: set HOME, TFAAS_CONFIG or TFAAS_KMS_PIN\n");
        goto out;
    }
    int have_pin = cli_kms_pin_load(pin_path, &pinned, &pin, err, sizeof err);
    if (have_pin < 0) {
        fprintf(stderr, "warning: ignoring the old pin: %s\n", err);
        have_pin = 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = fetch(conn.apihost, &doc);
    curl_global_cleanup();
    if (rc < 0) goto out;

    int tofu = 0, hardware = cli_kms_is_hardware(doc);
    if (ca_path && cli_file_read(ca_path, 1 << 20, &ca_pem, &ca_len, err, sizeof err) < 0) {
        fprintf(stderr, "error: --ca: %s\n", err);
        goto out;
    }
    if (hardware) {
        /* Vendor roots, pinned or --ca: nothing of the server's is trusted. */
    } else if (root_path) {
        if (!(root = p256_read_public_pem(root_path))) {
            fprintf(stderr, "error: %s holds no P-256 public key (PEM)\n", root_path);
            goto out;
        }
    } else {
        const char *pem = json_string_value(json_object_get(doc, "platform_key"));
        if (!pem || !(root = p256_public_from_pem(pem, strlen(pem)))) {
            fprintf(stderr, "error: no --root given and the server sent no platform key\n");
            goto out;
        }
        if (have_pin == 0 && EVP_PKEY_eq(root, pinned.platform_key) != 1) {
            fprintf(stderr, "error: the server's platform key differs from the one pinned in %s.\n"
                            "Someone may be impersonating the platform. If the platform really was\n"
                            "reinstalled, verify its new key out of band and run `tfaas attest --root FILE`.\n",
                    pin_path);
            goto out;
        }
        tofu = have_pin != 0 || json_is_true(json_object_get(pin, "trust_on_first_use"));
    }
    size_t expect_len = want_len;
    const uint8_t *expect = meas_hex ? want : have_pin == 0 ? evidence_claims_measurement(&pinned.claims, &expect_len)
                                                            : NULL;
    if (cli_kms_verify(doc, root, ca_pem, (int64_t)time(NULL), expect, expect_len, &got, err, sizeof err) < 0) {
        fprintf(stderr, "error: KMS attestation REFUSED: %s\n", err);
        goto out;
    }
    if (check_workers(doc, worker_flags, nworker_flags) < 0) goto out;
    if (cli_kms_pin_save(pin_path, conn.apihost, doc, &got, tofu, err, sizeof err) < 0) {
        fprintf(stderr, "error: %s\n", err);
        goto out;
    }
    if (tofu)
        fprintf(stderr,
                "WARNING: TRUST ON FIRST USE. No --root was given, so the platform key the server\n"
                "WARNING: sent was trusted as it is. Whoever controls the server or the network\n"
                "WARNING: could have sent a forged one. Compare it with the server's\n"
                "WARNING: STATE/sim-platform.pem and run `tfaas attest --root FILE`.\n");
    if (!expect)
        fprintf(stderr, "warning: no --measurement given: any KMS measurement was accepted; "
                        "check the one below against `tfaas-kms --measurement`.\n");
    char mhex[2 * EVIDENCE_FIELD_MAX + 1] = "", tp[P256_THUMBPRINT_LEN + 1];
    size_t mlen = 0;
    const uint8_t *m = evidence_claims_measurement(&got.claims, &mlen);
    if (m) evidence_hex(m, mlen, mhex);
    p256_thumbprint(got.signing_key, tp);
    if (have_pin == 0 && EVP_PKEY_eq(got.signing_key, pinned.signing_key) != 1)
        fprintf(stderr, "note: the KMS keys changed since the last pin (its sealed keys were replaced)\n");
    printf("KMS attested (%s TEE%s%s%s)\n  measurement  %s\n  signing key  %s (JWK thumbprint)\n  engine       %s\n"
           "  pinned in    %s\n",
           got.claims.tee, strcmp(got.claims.tee, "sim") == 0 ? ": simulated, not protected against the operator" : "",
           got.claims.tcb_status[0] ? ", TCB " : "", got.claims.tcb_status, mhex, tp, got.claims.engine, pin_path);
    const char *engine;
    const json_t *v;
    json_object_foreach(json_object_get(doc, "workers"), engine, v)
        printf("  worker       %s %s\n", engine, json_string_value(v) ? json_string_value(v) : "?");
    status = 0;
out:
    EVP_PKEY_free(root);
    free(ca_pem);
    cli_kms_free(&pinned);
    cli_kms_free(&got);
    json_decref(doc);
    json_decref(pin);
    free(pin_path);
    cli_conn_free(&conn);
    return status;
}
