/* cli_confidential.c - `tfaas action create|invoke --confidential`: the
 * client half of docs/protocol.md §6. Everything secret is made and opened
 * here or in an attested enclave; the host sees ciphertext only. */
#include "common/aead_box.h"
#include "common/bhttp.h"
#include "common/ohttp.h"
#include "common/b64url.h"
#include "common/evidence.h"
#include "common/invoker_sig.h"
#include "common/labels.h"
#include "common/policy.h"
#include "host/cli/cli_cert.h"
#include "host/cli/cli_cmd.h"
#include "host/cli/cli_file.h"
#include "host/cli/cli_kms.h"
#include "host/cli/cli_output.h"
#include "host/cli/cli_pin.h"
#include "host/commands.h"
#include "host/util/json.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The pinned KMS (and the pin itself when pin is not NULL), or an error
 * telling the user to attest first. */
static int load_pin(struct cli_kms *kms, json_t **pin) {
    char err[512];
    char *path = cli_kms_pin_path();
    int rc = path ? cli_kms_pin_load(path, kms, pin, err, sizeof err) : 1;
    if (rc == 1)
        fprintf(stderr, "error: no attested key service is pinned (%s): run `tfaas attest` first\n",
                path ? path : "set HOME or TFAAS_KMS_PIN");
    else if (rc < 0)
        fprintf(stderr, "error: %s\n", err);
    free(path);
    return rc == 0 ? 0 : -1;
}

/* --policy (a JSON object, or a file with one) or the default: the engine
 * of the kind, and the worker measurement of that engine pinned by `tfaas
 * attest` (the KMS is another binary: its measurement names no worker).
 * Canonical JSON (policy_json), new reference. */
static json_t *build_policy(const struct cli_args *a, const json_t *pin) {
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
        p.min_tcb = -1;
        /* js:duktape runs on Duktape, every other kind on V8 (docs/api.md). */
        strcpy(p.engine, !a->kind || !strcmp(a->kind, "js:duktape") ? "duktape" : "v8");
        const char *m = json_string_value(
            json_object_get(json_object_get(json_object_get(pin, "attestation"), "workers"), p.engine));
        if (evidence_unhex(m, p.measurements[0], EVIDENCE_MEASUREMENT_LEN) < 0) {
            fprintf(stderr, "error: the pinned attestation names no %s worker measurement: run `tfaas attest` "
                            "again, or give --policy\n", p.engine);
            return NULL;
        }
        p.measurement_lens[0] = EVIDENCE_MEASUREMENT_LEN;
        p.nmeasurements = 1;
    }
    /* --invoker-key: only requests signed by one of these run (§6.7); they
     * add to those a --policy names. */
    for (size_t i = 0; i < a->ninvoker_keys; i++) {
        if (p.ninvokers == POLICY_MAX_INVOKERS) {
            fprintf(stderr, "error: a policy names at most %u invoker keys\n", POLICY_MAX_INVOKERS);
            return NULL;
        }
        EVP_PKEY *k = p256_read_public_pem(a->invoker_keys[i]);
        int ok = k && p256_public_point(k, p.invokers[p.ninvokers]) == 0;
        EVP_PKEY_free(k);
        if (!ok) {
            fprintf(stderr, "error: --invoker-key %s: not a P-256 public key in PEM (SubjectPublicKeyInfo)\n",
                    a->invoker_keys[i]);
            return NULL;
        }
        p.ninvokers++;
    }
    return policy_json(&p);
}

/* enc || HPKE-Seal(KMS key, info "tfaas deploy v1", package JSON), base64url. */
static char *seal_package(const struct cli_kms *kms, json_t *pkg) {
    char *text = json_dumps(pkg, JSON_COMPACT);
    if (!text) return NULL;
    size_t len = strlen(text);
    uint8_t *buf = NULL;
    size_t buf_len = 0;
    char *out = NULL;
    if (hpke_seal_base(HPKE_AEAD_CHACHA20_POLY1305, kms->hpke_pk, LABEL_DEPLOY_INFO, (const uint8_t *)text, len, &buf,
                       &buf_len) == HPKE_OK)
        out = b64url_encode_alloc(buf, buf_len);
    OPENSSL_cleanse(text, len);
    free(text);
    free(buf);
    return out;
}

/* GET a URL with Accept `accept`: 0 with *resp (any status; the caller
 * frees it), or -1 after printing why nothing came back. */
static int fetch(struct cli_ctx *c, const char *url, const char *accept, struct cli_http_response *resp) {
    struct cli_http_opts o = {.accept = accept};
    char err[CURL_ERROR_SIZE + 64];
    if (!url || cli_http_request_ex("GET", url, c->conn.auth, &o, CLI_HTTP_TIMEOUT_S, resp, err, sizeof err) < 0) {
        fprintf(stderr, "error: cannot reach the tfaas API at %s: %s\n", c->conn.apihost, url ? err : "out of memory");
        return -1;
    }
    return 0;
}

/* GET a URL with Accept `accept`; the body (malloc'd) or NULL after printing why. */
static char *fetch_text(struct cli_ctx *c, const char *url, const char *accept) {
    struct cli_http_response resp = {0};
    if (fetch(c, url, accept, &resp) < 0) return NULL;
    if (resp.status != 200) {
        struct cli_reply reply = {.status = resp.status, .raw = resp, .json = json_loadb(resp.body, resp.len, 0, NULL)};
        cli_report_error(&reply);
        cli_reply_free(&reply);
        return NULL;
    }
    char *body = resp.body;
    resp.body = NULL;
    cli_http_response_free(&resp);
    return body;
}

/* The namespace the credentials own, as the server names it (the package
 * is sealed for it; the KMS refuses it anywhere else). Malloc'd or NULL. */
static char *own_namespace(struct cli_ctx *c) {
    char *url = NULL, *ns = NULL;
    if (asprintf(&url, "%s/api/v1/namespaces", c->conn.apihost) < 0) url = NULL;
    char *text = fetch_text(c, url, "application/json");
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    const char *first = json_string_value(json_array_get(j, 0));
    if (text && !(first && *first && (ns = strdup(first))))
        fprintf(stderr, "error: the server did not name the credentials' namespace\n");
    json_decref(j);
    free(text);
    free(url);
    return ns;
}

/* The deploy version of name's current certificate (0 when there is none
 * or it is not a valid certificate of ns/name from the pinned KMS): the
 * next deploy must be above it, even from a client without a pin. */
static json_int_t served_version(struct cli_ctx *c, const struct cli_kms *kms, const char *ns, const char *name) {
    char *url = cli_tfaas_url(c->conn.apihost, name, "certificate", NULL), err[512];
    struct cli_http_response resp = {0};
    json_int_t v = 0;
    json_t *claims = NULL;
    struct cli_fn_expect e = {.ns = (char *)ns, .name = (char *)name};
    if (fetch(c, url, "application/jwt", &resp) == 0 && resp.status == 200 &&
        cli_function_cert_verify(resp.body, kms, &e, NULL, &claims, err, sizeof err) == 0)
        v = json_integer_value(json_object_get(claims, "version"));
    json_decref(claims);
    cli_http_response_free(&resp);
    free(url);
    return v;
}

/* Deploys c->args.pos[1] as a new version of pos[0]: a create, or with
 * update an overwrite of the deployed one (which the KMS accepts only for
 * a higher version, so the pin moves forward and the old certificate is
 * refused from then on). -p/-P become the sealed default parameters. */
static int confidential_deploy(struct cli_ctx *c, bool update) {
    const char *name = c->args.pos[0];
    struct cli_kms kms;
    json_t *pin = NULL;
    if (load_pin(&kms, &pin) < 0) return CLI_EXIT_FAIL;
    struct cli_fn_expect prev = {0}, mine = {0};
    char *code = NULL, *code_b64 = NULL, *sealed = NULL, *pins = cli_fn_pins_path(), err[512];
    size_t code_len = 0;
    uint8_t key[32], *box = NULL;
    size_t box_len = 0;
    json_t *pol = NULL, *pkg = NULL, *body = NULL, *claims = NULL;
    int rc = CLI_EXIT_FAIL;
    if (c->args.npos < 2) {
        /* The client keeps no copy of the code, and the server cannot give
         * it back in the clear: a redeploy needs it again. */
        fprintf(stderr, "error: action update --confidential needs the code FILE (the code is sealed; a new "
                        "version is deployed with it)\n");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (cli_file_read(c->args.pos[1], CLI_FILE_MAX, &code, &code_len, err, sizeof err) < 0) {
        fprintf(stderr, "error: %s\n", err);
        goto out;
    }
    if (!(pol = build_policy(&c->args, pin))) goto out;
    /* Who and which deploy: the package names the namespace, and a version
     * above every earlier deploy this client pinned or the server shows,
     * so the KMS can refuse it replayed elsewhere or later (rollback). */
    if (!pins) {
        fprintf(stderr, "error: no place for the function pins: set HOME or TFAAS_FUNCTION_PINS\n");
        goto out;
    }
    if (cli_fn_pin_load(pins, name, &prev, err, sizeof err) < 0) {
        fprintf(stderr, "error: %s\n", err);
        goto out;
    }
    if (!(mine.ns = own_namespace(c))) goto out;
    json_int_t served = served_version(c, &kms, mine.ns, name);
    mine.version = (prev.version > served ? prev.version : served) + 1;
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
    evidence_sha256_hex(code, code_len, hash_hex);
    b64url_encode(key, sizeof key, key_b64);
    pkg = json_pack("{s:s, s:s, s:I, s:s, s:s, s:O}", "namespace", mine.ns, "name", name, "version", mine.version,
                    "code_key", key_b64, "code_hash", hash_hex, "policy", pol);
    OPENSSL_cleanse(key_b64, sizeof key_b64);
    /* Secrets travel only inside the sealed package, never in the body. */
    if (pkg && c->args.params_given && json_object_set(pkg, "params", c->args.params) < 0) {
        json_decref(pkg);
        pkg = NULL;
    }
    if (!pkg || !(sealed = seal_package(&kms, pkg))) {
        fprintf(stderr, "error: cannot seal the code key to the key service\n");
        goto out;
    }
    body = json_pack("{s:s, s:s, s:s}", "kind", c->args.kind ? c->args.kind : "js:duktape", "code", code_b64,
                     "sealed_key", sealed);
    if (body && c->args.main_name) json_object_set_new(body, "main", json_string(c->args.main_name));
    json_t *limits = cli_limits_json(&c->args, NULL);
    if (body && json_object_size(limits)) json_object_set(body, "limits", limits);
    json_decref(limits);

    char *url = cli_tfaas_url(c->conn.apihost, name, NULL, update ? "overwrite=true" : NULL);
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
    json_t *conf = json_kv_find(json_object_get(reply.json, "annotations"), "confidential");
    const char *cert = json_string_value(json_object_get(conf, "certificate"));
    if (!(mine.name = strdup(name)) || !(mine.code_hash = strdup(hash_hex))) {
        cli_reply_free(&reply);
        goto out;
    }
    if (cli_function_cert_verify(cert, &kms, &mine, pol, &claims, err, sizeof err) < 0) {
        fprintf(stderr, "error: the deploy is NOT trustworthy: %s\n", err);
        cli_reply_free(&reply);
        goto out;
    }
    /* From now on this client accepts this deploy of name, and only it. */
    if (cli_fn_pin_save(pins, name, &mine, err, sizeof err) < 0) {
        fprintf(stderr, "error: deployed, but the pin was not saved (invoking will refuse): %s\n", err);
        cli_reply_free(&reply);
        goto out;
    }
    if (c->args.json) printf("%s\n", cert);
    else printf("ok: %s confidential action %s/%s version %" JSON_INTEGER_FORMAT " (certificate verified: code "
                "sha256 %s, engine %s)\n", update ? "updated" : "created", mine.ns, name, mine.version, hash_hex,
                json_string_value(json_object_get(claims, "engine")));
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
    json_decref(pin);
    cli_fn_expect_free(&prev);
    cli_fn_expect_free(&mine);
    free(pins);
    cli_kms_free(&kms);
    return rc;
}

int cli_confidential_create(struct cli_ctx *c) { return confidential_deploy(c, false); }
int cli_confidential_update(struct cli_ctx *c) { return confidential_deploy(c, true); }

/* What the invoker expects of name: the pin of its deploy, or the
 * --expect-* flags in its place. 0 with *e (namespace and code hash
 * known), or -1 after printing why. */
static int expectation(struct cli_ctx *c, const char *name, struct cli_fn_expect *e) {
    char *pins = cli_fn_pins_path(), err[512];
    int rc = pins ? cli_fn_pin_load(pins, name, e, err, sizeof err) : 1;
    if (rc < 0) fprintf(stderr, "error: %s\n", err);
    free(pins);
    if (rc < 0) return -1;
    const struct cli_args *a = &c->args;
    if (a->expect_ns || a->expect_code_hash) {
        /* The flags describe a deploy of their own: nothing of the pin is kept. */
        cli_fn_expect_free(e);
        e->ns = a->expect_ns ? strdup(a->expect_ns) : NULL;
        e->code_hash = a->expect_code_hash ? strdup(a->expect_code_hash) : NULL;
    }
    if (a->expect_version != CLI_UNSET) e->version = a->expect_version;
    free(e->name);
    e->name = strdup(name);
    if (!e->ns || !e->code_hash || !e->name) {
        fprintf(stderr, "error: refusing to send anything: no deploy of '%s' is pinned on this client; pass "
                        "--expect-namespace NS and --expect-code-hash HEX (and --expect-version N) as the "
                        "function's owner published them\n", name);
        return -1;
    }
    return 0;
}

/* Encapsulates one fresh request for `name` (Binary HTTP with the current
 * Date, params as content) to cfg and POSTs it. 0 with *ctx, *enc_req and
 * *resp (any status), or -1 after printing why. */
static int send_request(struct cli_ctx *c, const char *name, const char *public_ns, EVP_PKEY *signer,
                        const char *target, const ohttp_key_config *cfg, uint16_t aead, const char *params,
                        ohttp_ctx *ctx, uint8_t **enc_req, size_t *enc_len, struct cli_http_response *resp) {
    char date[64], path[600];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
    snprintf(path, sizeof path, "/%s", name);
    bhttp_message req;
    memset(&req, 0, sizeof req);
    req.method = bhttp_str("POST");
    req.scheme = bhttp_str("https");
    req.authority = bhttp_str("tfaas");
    req.path = bhttp_str(path);
    req.nheaders = 2;
    req.fields[0].name = bhttp_str("content-type");
    req.fields[0].value = bhttp_str("application/json");
    req.fields[1].name = bhttp_str("date");
    req.fields[1].value = bhttp_str(date);
    req.content = bhttp_str(params);
    /* The invoker's signature over this function, Date and content: inside
     * the encapsulation, where the host cannot read or make one (§6.7). */
    char *sig = signer ? invoker_sig_sign(signer, target, date, req.content.ptr, req.content.len) : NULL;
    if (signer && !sig) {
        fprintf(stderr, "error: cannot sign the request with --sign-with\n");
        return -1;
    }
    if (sig) {
        req.fields[req.nheaders].name = bhttp_str(INVOKER_SIG_FIELD);
        req.fields[req.nheaders++].value = bhttp_str(sig);
    }
    uint8_t *bin = NULL;
    size_t bin_len = 0;
    int ok = bhttp_request_encode(&req, &bin, &bin_len) == BHTTP_OK &&
             ohttp_request_encapsulate(ctx, cfg, aead, bin, bin_len, NULL, enc_req, enc_len) == OHTTP_OK;
    if (bin) OPENSSL_cleanse(bin, bin_len);
    free(bin);
    free(sig);
    if (!ok) {
        fprintf(stderr, "error: cannot encapsulate the request\n");
        return -1;
    }
    char *url = cli_tfaas_public_url(c->conn.apihost, public_ns, name, "ohttp", NULL), herr[CURL_ERROR_SIZE + 64];
    struct cli_http_opts o = {.content_type = "message/ohttp-req", .accept = "message/ohttp-res",
                              .body = *enc_req, .body_len = *enc_len,
                              .capture = {"x-openwhisk-activation-id"}};
    int rc = url ? cli_http_request_ex("POST", url, c->conn.auth, &o, CLI_HTTP_BLOCKING_TIMEOUT_S, resp, herr,
                                       sizeof herr) : -1;
    if (rc < 0)
        fprintf(stderr, "error: cannot reach the tfaas API at %s: %s\n", c->conn.apihost, url ? herr : "out of memory");
    free(url);
    return rc;
}

int cli_confidential_invoke(struct cli_ctx *c) {
    const char *name = c->args.pos[0];
    struct cli_kms kms;
    if (load_pin(&kms, NULL) < 0) return CLI_EXIT_FAIL;
    struct cli_fn_expect expect = {0};
    int rc = CLI_EXIT_FAIL;
    char *url = NULL, *cert = NULL, *params = NULL, *receipt = NULL, *wcert = NULL, err[512];
    json_t *fn = NULL, *rclaims = NULL, *out = NULL;
    uint8_t *keys = NULL, *enc_req = NULL, *plain = NULL;
    size_t keys_len = 0, enc_len = 0, plain_len = 0;
    ohttp_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    struct cli_http_response resp = {0};
    EVP_PKEY *signer = NULL;
    /* 1. The function's certificate, checked against the pinned KMS and
     * what this client expects (namespace, name, code, deploy version). */
    if (expectation(c, name, &expect) < 0) goto out;
    /* Without credentials (only with --sign-with): the public route of the
     * namespace expected, which serves functions that require signatures. */
    const char *public_ns = c->conn.auth ? NULL : expect.ns;
    if (c->args.sign_with && !(signer = p256_read_private_pem(c->args.sign_with))) {
        fprintf(stderr, "error: --sign-with %s: not a P-256 private key in PEM\n", c->args.sign_with);
        goto out;
    }
    if (!(url = cli_tfaas_public_url(c->conn.apihost, public_ns, name, "certificate", NULL)) ||
        !(cert = fetch_text(c, url, "application/jwt")))
        goto out;
    if (cli_function_cert_verify(cert, &kms, &expect, NULL, &fn, err, sizeof err) < 0) {
        fprintf(stderr, "error: refusing to send anything: %s\n", err);
        goto out;
    }
    /* 2. The request, sealed to the certified OHTTP key. */
    const char *kb = json_string_value(json_object_get(fn, "ohttp_keys"));
    ohttp_key_config cfg[4];
    size_t ncfg = 0;
    if (!(keys = b64url_decode_alloc(kb, strlen(kb), &keys_len)) ||
        ohttp_keys_parse(keys, keys_len, cfg, 4, &ncfg) != OHTTP_OK) {
        fprintf(stderr, "error: the certified OHTTP key configuration is unusable\n");
        goto out;
    }
    uint16_t aead = cfg[0].suites[0].aead_id;
    for (size_t i = 0; i < cfg[0].nsuites; i++)
        if (cfg[0].suites[i].aead_id == HPKE_AEAD_CHACHA20_POLY1305) aead = HPKE_AEAD_CHACHA20_POLY1305;
    params = json_dumps(c->args.params, JSON_COMPACT);
    if (!params) goto out;
    /* 3. Relayed by the host, answered by an attested worker. Never resent
     * on the client's own: a refusal in the clear may be the host's lie
     * after the function ran, and a resend would run it twice. */
    if (send_request(c, name, public_ns, signer, json_string_value(json_object_get(fn, "sub")), &cfg[0], aead, params,
                     &ctx, &enc_req, &enc_len, &resp) < 0)
        goto out;
    if (resp.status != 200) {
        struct cli_reply reply = {.status = resp.status, .raw = resp, .json = json_loadb(resp.body, resp.len, 0, NULL)};
        memset(&resp, 0, sizeof resp);
        cli_report_error(&reply);
        cli_reply_free(&reply);
        goto out;
    }
    /* 4. The response, opened here, and its receipt chain. */
    bhttp_message res;
    if (ohttp_response_decapsulate(&ctx, (const uint8_t *)resp.body, resp.len, &plain, &plain_len) != OHTTP_OK ||
        bhttp_response_decode(&res, plain, plain_len) != BHTTP_OK) {
        fprintf(stderr, "error: the response does not open: it was tampered with or is not for this request\n");
        goto out;
    }
    /* The receipt and worker certificate came inside the sealed response. */
    char req_hex[65], res_hex[65];
    const bhttp_field *rf = bhttp_header(&res, RECEIPT_FIELD), *wf = bhttp_header(&res, WORKER_CERT_FIELD);
    evidence_sha256_hex(enc_req, enc_len, req_hex);
    evidence_sha256_hex(res.content.ptr, res.content.len, res_hex);
    if (rf) receipt = strndup((const char *)rf->value.ptr, rf->value.len);
    if (wf) wcert = strndup((const char *)wf->value.ptr, wf->value.len);
    if (cli_receipt_verify(receipt, wcert, &kms, fn, req_hex, res_hex, &rclaims, err, sizeof err) < 0) {
        fprintf(stderr, "error: the receipt does NOT verify: %s\n", err);
        goto out;
    }
    json_t *result = json_loadb((const char *)res.content.ptr, res.content.len, 0, NULL);
    if (!result) result = json_stringn((const char *)res.content.ptr, res.content.len);
    if (c->args.json) {
        out = json_pack("{s:I, s:o, s:s?, s:s, s:s, s:s, s:s, s:s, s:O}", "status", (json_int_t)res.status,
                        "result", result ? result : json_null(), "activation_id", resp.captured[0],
                        "function_certificate", cert, "worker_certificate", wcert, "receipt", receipt,
                        "request_sha256", req_hex, "result_sha256", res_hex, "receipt_claims", rclaims);
        char *text = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
        if (text) puts(text);
        free(text);
    } else {
        char *text = result ? json_dumps(result, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
        if (text) puts(text);
        free(text);
        json_decref(result);
        fprintf(stderr, "receipt verified: %s/%s version %" JSON_INTEGER_FORMAT ", activation %s, worker %.16s..., "
                        "cpu %" JSON_INTEGER_FORMAT " us, peak memory %" JSON_INTEGER_FORMAT " bytes\n",
                expect.ns, expect.name, json_integer_value(json_object_get(rclaims, "version")),
                json_string_value(json_object_get(rclaims, "activation_id")),
                json_string_value(json_object_get(rclaims, "measurement")),
                json_integer_value(json_object_get(rclaims, "cpu_time_us")),
                json_integer_value(json_object_get(rclaims, "peak_memory")));
    }
    rc = res.status == 200 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
    free(receipt);
    free(wcert);
    cli_fn_expect_free(&expect);
    ohttp_ctx_wipe(&ctx);
    cli_http_response_free(&resp);
    if (plain) OPENSSL_cleanse(plain, plain_len);
    free(plain);
    free(enc_req);
    free(keys);
    free(params);
    free(cert);
    free(url);
    json_decref(fn);
    json_decref(rclaims);
    json_decref(out);
    EVP_PKEY_free(signer);
    cli_kms_free(&kms);
    return rc;
}

/* `tfaas receipt verify FILE`: the JSON `tfaas action invoke --confidential
 * --json` prints, checked again offline against the pinned KMS. */
int receipt_main(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        puts("usage: tfaas receipt verify FILE\n\n"
             "Verifies offline, against the pinned key service (`tfaas attest`), the receipt chain\n"
             "in FILE (the JSON `tfaas action invoke NAME --confidential --json` prints, \"-\": stdin):\n"
             "function certificate <- KMS, worker certificate <- KMS, receipt <- worker (a Merkle\n"
             "root the worker signed for a batch of calls, and the proof that this call's claims\n"
             "are one of its leaves), all for the same namespace, name, deploy version and code,\n"
             "and the receipt's request and result hashes.");
        return CLI_EXIT_OK;
    }
    if (argc != 3 || strcmp(argv[1], "verify") != 0) {
        fprintf(stderr, "usage: tfaas receipt verify FILE\n");
        return CLI_EXIT_USAGE;
    }
    struct cli_kms kms;
    if (load_pin(&kms, NULL) < 0) return CLI_EXIT_FAIL;
    char *text = NULL, err[512];
    size_t len = 0;
    json_t *j = NULL, *fn = NULL, *claims = NULL;
    int rc = CLI_EXIT_FAIL;
    if (cli_file_read(argv[2], 1 << 20, &text, &len, err, sizeof err) < 0) {
        fprintf(stderr, "error: %s\n", err);
        goto out;
    }
    j = json_loadb(text, len, 0, NULL);
    /* The receipt is checked against whichever function the certificate
     * names (cli_receipt_verify reads it from the verified claims). */
    const char *fc = json_string_value(json_object_get(j, "function_certificate"));
    if (!fc || cli_function_cert_verify(fc, &kms, NULL, NULL, &fn, err, sizeof err) < 0) {
        fprintf(stderr, "error: receipt REFUSED: %s\n", fc ? err : "FILE has no function certificate");
        goto out;
    }
    if (cli_receipt_verify(json_string_value(json_object_get(j, "receipt")),
                           json_string_value(json_object_get(j, "worker_certificate")), &kms, fn,
                           cli_json_str(j, "request_sha256", ""), cli_json_str(j, "result_sha256", ""), &claims, err,
                           sizeof err) < 0) {
        fprintf(stderr, "error: receipt REFUSED: %s\n", err);
        goto out;
    }
    printf("ok: receipt verified: activation %s of %s/%s version %" JSON_INTEGER_FORMAT ", code sha256 %s, "
           "worker measurement %s\n",
           json_string_value(json_object_get(claims, "activation_id")),
           json_string_value(json_object_get(claims, "namespace")), json_string_value(json_object_get(claims, "name")),
           json_integer_value(json_object_get(claims, "version")),
           json_string_value(json_object_get(claims, "code_hash")),
           json_string_value(json_object_get(claims, "measurement")));
    rc = CLI_EXIT_OK;
out:
    free(text);
    json_decref(j);
    json_decref(fn);
    json_decref(claims);
    cli_kms_free(&kms);
    return rc;
}
