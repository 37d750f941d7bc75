/* cli_evidence.c - `tfaas evidence verify`: checks one piece of hardware
 * (or sim) evidence offline with src/common/evidence.h, for operators and
 * auditors, and prints what it says or why it is refused. */
#include "common/evidence.h"
#include "common/tee_x509.h"
#include "host/cli/cli_cmd.h"
#include "host/cli/cli_file.h"
#include "host/commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Evidence, collateral and certificates are small; a bigger file is a wrong path. */
#define EVIDENCE_FILE_MAX ((size_t)1 << 20)

static void usage(FILE *f) {
    fputs("usage: tfaas evidence verify FILE [--collateral FILE] [--cert FILE] [--ca FILE]\n"
          "                               [--at RFC3339-TIME] [--json]\n"
          "\n"
          "Verifies one attestation offline: an Intel DCAP quote (SGX v3, TDX v4/v5)\n"
          "or an AMD SEV-SNP report (the format is recognised from FILE, \"-\": stdin).\n"
          "Exits 0 only when it is valid and not of a debug enclave, TD or guest;\n"
          "prints the TEE, TCB status, advisory ids, debug flag, measurements and\n"
          "report data (hex), or the reason for refusal.\n"
          "\n"
          "options:\n"
          "  --collateral FILE  DCAP collateral (JSON: TCB info, QE identity, CRLs and\n"
          "                     their signing chains; docs/protocol.md §5.5)\n"
          "  --cert FILE        the SNP report's VCEK or VLEK certificate (PEM or DER)\n"
          "  --ca FILE          PEM roots (and intermediates, e.g. ASK/ARK or ASVK/ARK)\n"
          "                     to trust instead of the pinned Intel SGX Root CA and\n"
          "                     AMD ARKs (Milan, Genoa, Turin)\n"
          "  --at TIME          verify as of TIME (e.g. 2025-07-01T00:00:00Z; default now):\n"
          "                     certificates, CRLs and collateral must be valid then\n"
          "  --json             print the result as JSON\n"
          "  -h, --help         show this help\n"
          "\n"
          "exit status: 0 valid, 1 refused (or a file cannot be read), 2 usage\n", f);
}

static int read_opt(const char *path, const char *what, char **text, size_t *len) {
    char err[512];
    if (!path) return 0;
    if (cli_file_read(path, EVIDENCE_FILE_MAX, text, len, err, sizeof err) < 0) {
        fprintf(stderr, "error: %s: %s\n", what, err);
        return -1;
    }
    return 0;
}

static void print_refusal(int as_json, evidence_result r, const char *why) {
    if (!as_json) {
        printf("REFUSED: %s\n", why);
        return;
    }
    json_t *o = json_pack("{s:s, s:s, s:s}", "verdict", "refused", "error", evidence_result_name(r), "reason", why);
    char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    if (s) puts(s);
    free(s);
    json_decref(o);
}

static void print_claims(int as_json, const evidence_claims *c) {
    json_t *o = evidence_claims_json(c);
    if (as_json) {
        json_object_set_new(o, "verdict", json_string("valid"));
        char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        if (s) puts(s);
        free(s);
    } else {
        printf("ok: valid %s evidence%s%s\n", c->tee, c->tcb_status[0] ? ", TCB " : "", c->tcb_status);
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v) {
            if (json_is_string(v) && strcmp(k, "tee") != 0 && strcmp(k, "tcb_status") != 0)
                printf("  %-18s %s\n", k, json_string_value(v));
        }
        for (size_t i = 0; i < c->nadvisory_ids; i++) printf("  advisory           %s\n", c->advisory_ids[i]);
    }
    json_decref(o);
}

int evidence_main(int argc, char **argv) {
    static const struct option LONG[] = {
        {"collateral", required_argument, NULL, 'c'}, {"cert", required_argument, NULL, 'k'},
        {"ca", required_argument, NULL, 'a'},         {"at", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},             {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *col_path = NULL, *cert_path = NULL, *ca_path = NULL, *at_text = NULL;
    int as_json = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", LONG, NULL)) != -1) {
        switch (opt) {
        case 'c': col_path = optarg; break;
        case 'k': cert_path = optarg; break;
        case 'a': ca_path = optarg; break;
        case 't': at_text = optarg; break;
        case 'j': as_json = 1; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind != 2 || strcmp(argv[optind], "verify") != 0) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    evidence_trust t = {0};
    t.at = (int64_t)time(NULL);
    if (at_text && tee_time_parse(at_text, &t.at) < 0) {
        fprintf(stderr, "error: --at %s is not an RFC 3339 UTC time like 2025-07-01T00:00:00Z\n", at_text);
        return CLI_EXIT_USAGE;
    }
    char *ev = NULL, *col = NULL, *cert = NULL, *ca = NULL;
    size_t ev_len = 0, col_len = 0, cert_len = 0, ca_len = 0;
    int rc = CLI_EXIT_FAIL;
    if (read_opt(argv[optind + 1], "evidence", &ev, &ev_len) < 0 || read_opt(col_path, "--collateral", &col, &col_len) < 0 ||
        read_opt(cert_path, "--cert", &cert, &cert_len) < 0 || read_opt(ca_path, "--ca", &ca, &ca_len) < 0)
        goto out;
    t.collateral = col;
    t.collateral_len = col_len;
    t.key_cert = (const uint8_t *)cert;
    t.key_cert_len = cert_len;
    t.ca_pem = ca;
    t.ca_pem_len = ca_len;
    /* Debug evidence is verified in full so that its claims can be shown,
     * then refused here. */
    t.allow_debug = 1;
    evidence_claims *c = calloc(1, sizeof *c);
    char why[512];
    evidence_result r = c ? evidence_check((const uint8_t *)ev, ev_len, &t, NULL, NULL, c, why, sizeof why)
                          : EVIDENCE_MALFORMED;
    if (!c) snprintf(why, sizeof why, "out of memory");
    if (r == EVIDENCE_OK && c->debug) {
        r = EVIDENCE_DEBUG;
        snprintf(why, sizeof why, "a debug %s is refused",
                 !strcmp(c->tee, "sgx") ? "enclave" : !strcmp(c->tee, "tdx") ? "TD" : "guest");
        if (as_json) {
            json_t *o = evidence_claims_json(c);
            json_object_set_new(o, "verdict", json_string("refused"));
            json_object_set_new(o, "error", json_string(evidence_result_name(r)));
            json_object_set_new(o, "reason", json_string(why));
            char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
            if (s) puts(s);
            free(s);
            json_decref(o);
        } else {
            print_claims(0, c);
            printf("REFUSED: %s\n", why);
        }
    } else if (r == EVIDENCE_OK) {
        print_claims(as_json, c);
        rc = CLI_EXIT_OK;
    } else {
        print_refusal(as_json, r, why);
    }
    free(c);
out:
    free(ev);
    free(col);
    free(cert);
    free(ca);
    return rc;
}
