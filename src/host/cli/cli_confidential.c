/* cli_confidential.c - `tfaas action create|invoke --confidential`: the
 * client half of docs/protocol.md §6. Everything secret is made and opened
 * here or in an attested enclave; the host sees ciphertext only. */
#include "common/aead_box.h"
#include "common/b64url.h"
#include "common/evidence.h"
#include "common/labels.h"
#include "common/policy.h"
#include "host/cli/cli_cert.h"
#include "host/cli/cli_cmd.h"
#include "host/cli/cli_file.h"
#include "host/cli/cli_kms.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The pinned KMS, or an error telling the user to attest first. */
static int load_pin(struct cli_kms *kms) {
    char err[512];
    char *path = cli_kms_pin_path();
    int rc = path ? cli_kms_pin_load(path, kms, NULL, err, sizeof err) : 1;
    if (rc == 1)
        fprintf(stderr, "error: no attested key service is pinned (%s): run `tfaas attest` first\n",
                path ? path : "set HOME or TFAAS_KMS_PIN");
    else if (rc < 0)
        fprintf(stderr, "error: %s\n", err);
    free(path);
    return rc == 0 ? 0 : -1;
}

/* --policy (a JSON object, or a file with one) or the default: workers with
 * the attested KMS measurement (the same enclave binary) and the engine of
 * the kind. Canonical JSON (policy_json), new reference. */
static json_t *build_policy(const struct cli_args *a, const struct cli_kms *kms) {
    policy p;
    char err[256];
    if (a->policy) {
        json_t *j = json_loads(a->policy, JSON_REJECT_DUPLICATES, NULL);
        if (!j) {
            char *text = NULL, ferr[512];
            size_t len = 0;
            if (cli_file_read(a->policy, 1 << 20, &text, &len, ferr, sizeof ferr) < 0) {
                fprintf(stderr, "error: --policy is neither JSON nor a readable file: %s\n", ferr);
                return NULL;
            }
            j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
            free(text);
        }
        int rc = policy_parse(j, &p, err, sizeof err);
        json_decref(j);
        if (rc < 0) {
            fprintf(stderr, "error: --policy: %s\n", err);
            return NULL;
        }
    } else {
        memset(&p, 0, sizeof p);
        memcpy(p.measurements[0], kms->claims.measurement, EVIDENCE_MEASUREMENT_LEN);
        p.nmeasurements = 1;
        strcpy(p.engine, a->kind && !strcmp(a->kind, "js:v8") ? "v8" : "duktape");
    }
    return policy_json(&p);
}

/* enc || HPKE-Seal(KMS key, info "tfaas deploy v1", package JSON), base64url. */
static char *seal_package(const struct cli_kms *kms, json_t *pkg) {
    char *text = json_dumps(pkg, JSON_COMPACT);
    if (!text) return NULL;
    size_t len = strlen(text);
    uint8_t *buf = malloc(HPKE_NENC + len + HPKE_NT);
    hpke_ctx ctx;
    size_t ct_len = 0;
    char *out = NULL;
    if (buf && hpke_setup_sender(&ctx, HPKE_AEAD_CHACHA20_POLY1305, kms->hpke_pk, HPKE_NPK,
                                 (const uint8_t *)LABEL_DEPLOY_INFO, strlen(LABEL_DEPLOY_INFO), NULL, buf) == HPKE_OK &&
        hpke_seal(&ctx, NULL, 0, (const uint8_t *)text, len, buf + HPKE_NENC, len + HPKE_NT, &ct_len) == HPKE_OK)
        out = b64url_encode_alloc(buf, HPKE_NENC + ct_len);
    hpke_ctx_wipe(&ctx);
    OPENSSL_cleanse(text, len);
    free(text);
    free(buf);
    return out;
}

int cli_confidential_create(struct cli_ctx *c) {
    const char *name = c->args.pos[0];
    struct cli_kms kms;
    if (load_pin(&kms) < 0) return CLI_EXIT_FAIL;
    char *code = NULL, *code_b64 = NULL, *sealed = NULL, err[512];
    size_t code_len = 0;
    uint8_t key[32], hash[32], *box = NULL;
    size_t box_len = 0;
    json_t *pol = NULL, *pkg = NULL, *body = NULL, *claims = NULL;
    int rc = CLI_EXIT_FAIL;
    if (cli_file_read(c->args.pos[1], CLI_FILE_MAX, &code, &code_len, err, sizeof err) < 0) {
        fprintf(stderr, "error: %s\n", err);
        goto out;
    }
    if (!(pol = build_policy(&c->args, &kms))) goto out;
    /* A fresh code key per deploy; the code is sealed under it, the key and
     * the policy to the KMS. */
    char key_b64[64], hash_hex[65];
    if (RAND_bytes(key, sizeof key) != 1 ||
        aead_box_seal(HPKE_AEAD_CHACHA20_POLY1305, key, (const uint8_t *)LABEL_CODE_AAD, strlen(LABEL_CODE_AAD),
                      (const uint8_t *)code, code_len, &box, &box_len) != HPKE_OK ||
        !(code_b64 = b64url_encode_alloc(box, box_len))) {
        fprintf(stderr, "error: cannot encrypt the code\n");
        goto out;
    }
    SHA256((const uint8_t *)code, code_len, hash);
    evidence_hex(hash, sizeof hash, hash_hex);
    b64url_encode(key, sizeof key, key_b64);
    pkg = json_pack("{s:s, s:s, s:s, s:O}", "name", name, "code_key", key_b64, "code_hash", hash_hex, "policy", pol);
    OPENSSL_cleanse(key_b64, sizeof key_b64);
    if (!pkg || !(sealed = seal_package(&kms, pkg))) {
        fprintf(stderr, "error: cannot seal the code key to the key service\n");
        goto out;
    }
    body = json_pack("{s:s, s:s, s:s}", "kind", c->args.kind ? c->args.kind : "js:duktape", "code", code_b64,
                     "sealed_key", sealed);
    if (body && c->args.main_name) json_object_set_new(body, "main", json_string(c->args.main_name));
    long lim[] = {c->args.timeout_ms, c->args.memory_mb, c->args.logsize_mb, c->args.concurrency};
    const char *lim_names[] = {"timeout", "memory", "logs", "concurrency"};
    json_t *limits = json_object();
    for (size_t i = 0; limits && i < 4; i++)
        if (lim[i] != CLI_UNSET) json_object_set_new(limits, lim_names[i], json_integer(lim[i]));
    if (body && json_object_size(limits)) json_object_set(body, "limits", limits);
    json_decref(limits);

    char *url = cli_tfaas_url(c->conn.apihost, name, NULL, NULL);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct cli_http_response resp = {0};
    int hr = url && text ? cli_http_request("PUT", url, c->conn.auth, text, CLI_HTTP_TIMEOUT_S, &resp, err, sizeof err) : -1;
    free(url);
    free(text);
    if (hr < 0) {
        fprintf(stderr, "error: cannot reach the tfaas API at %s: %s\n", c->conn.apihost, err);
        goto out;
    }
    struct cli_reply reply = {.status = resp.status, .raw = resp,
                              .json = json_loadb(resp.body, resp.len, 0, NULL)};
    if (resp.status != 200) {
        cli_report_error(&reply);
        cli_reply_free(&reply);
        goto out;
    }
    /* The certificate the KMS issued must say what was sealed. */
    json_t *anns = json_object_get(reply.json, "annotations"), *conf = NULL, *a;
    size_t i;
    json_array_foreach(anns, i, a) {
        const char *k = json_string_value(json_object_get(a, "key"));
        if (k && !strcmp(k, "confidential")) conf = json_object_get(a, "value");
    }
    const char *cert = json_string_value(json_object_get(conf, "certificate"));
    if (cli_function_cert_verify(cert, &kms, name, hash_hex, pol, &claims, err, sizeof err) < 0) {
        fprintf(stderr, "error: the deploy is NOT trustworthy: %s\n", err);
        cli_reply_free(&reply);
        goto out;
    }
    if (c->args.json) printf("%s\n", cert);
    else printf("ok: created confidential action %s (certificate verified: code sha256 %s, engine %s)\n", name,
                hash_hex, json_string_value(json_object_get(claims, "engine")));
    cli_reply_free(&reply);
    rc = CLI_EXIT_OK;
out:
    OPENSSL_cleanse(key, sizeof key);
    if (code) OPENSSL_cleanse(code, code_len);
    free(code);
    free(box);
    free(code_b64);
    free(sealed);
    json_decref(pol);
    json_decref(pkg);
    json_decref(body);
    json_decref(claims);
    cli_kms_free(&kms);
    return rc;
}

int cli_confidential_invoke(struct cli_ctx *c) {
    (void)c;
    fprintf(stderr, "error: confidential invocation is not available yet\n");
    return CLI_EXIT_FAIL;
}
