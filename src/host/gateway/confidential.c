/* confidential.c - the /tfaas/v1 routes of confidential functions
 * (docs/protocol.md §6): deploy (PUT), the function's OHTTP key
 * configuration and certificate (GET). The host only relays: code arrives
 * encrypted, the deploy package is opened by the KMS enclave, and what is
 * stored is ciphertext, a certificate and a record sealed by the KMS. */
#include "common/b64url.h"
#include "common/jws.h"
#include "common/ohttp.h"
#include "host/gateway/action_doc.h"
#include "host/gateway/gateway_internal.h"
#include "host/metrics/metrics.h"
#include "host/util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SEALED_PACKAGE (1u << 16)

static enum MHD_Result kms_down(http_req *r) {
    return http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, MSG_KMS_DOWN);
}

/* PUT: {"code": b64url(code box), "sealed_key": b64url(package), "kind"?,
 * "main"?, "limits"?} -> the KMS certifies -> stored like any action, with
 * the "confidential" annotation {certificate, record, ohttp_keys}. */
static enum MHD_Result deploy(http_req *r) {
    enum MHD_Result sent = MHD_NO;
    if (action_route_check(r, &sent) < 0) return sent;
    if (!r->gw->kms) return kms_down(r);
    json_t *body = req_body_json(r, 0, &sent);
    if (!body) return sent;
    const char *code = json_get_str(body, "code", NULL);
    const char *sealed_b64 = json_get_str(body, "sealed_key", NULL);
    size_t sealed_len = 0;
    uint8_t *sealed = sealed_b64 && strlen(sealed_b64) <= 2 * MAX_SEALED_PACKAGE
                          ? b64url_decode_alloc(sealed_b64, strlen(sealed_b64), &sealed_len) : NULL;
    if (!code || !*code || !sealed) {
        free(sealed);
        json_decref(body);
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST,
                          "A confidential deploy needs \"code\" (the encrypted code, base64url) and "
                          "\"sealed_key\" (the package sealed to the KMS, base64url)");
    }
    /* Checked before the KMS does any work (action_put_body checks it again). */
    const char *kind = json_get_str(body, "kind", "js:duktape");
    if (!action_kind_supported(kind)) {
        free(sealed);
        enum MHD_Result ret = http_error(r->conn, MHD_HTTP_BAD_REQUEST,
                                         "The action kind '%.64s' is not supported: use js:duktape, js:v8 or nodejs:*",
                                         kind);
        json_decref(body);
        return ret;
    }
    kms_deployed d;
    kms_status ks;
    char *err = NULL;
    int rc = kms_service_deploy(r->gw->kms, r->ns, r->rt.name, sealed, sealed_len, &d, &ks, &err);
    free(sealed);
    if (rc < 0) {
        json_decref(body);
        if (ks == KMS_ERR_INTERNAL) {
            fprintf(stderr, "tfaas serve: confidential deploy: %s\n", err ? err : "key service unavailable");
            free(err);
            return kms_down(r);
        }
        /* A stale version is a conflict with the function's state (409);
         * every other refusal is the package's fault (400). */
        enum MHD_Result ret = http_error(r->conn, ks == KMS_ERR_STALE ? MHD_HTTP_CONFLICT : MHD_HTTP_BAD_REQUEST,
                                         "The key service refused the deploy: %s", err ? err : "refused");
        free(err);
        return ret;
    }
    char *record = b64url_encode_alloc(d.record, d.record_len);
    char *keys = b64url_encode_alloc(d.ohttp_keys, d.ohttp_keys_len);
    json_t *conf = record && keys ? json_pack("{s:s, s:s, s:s}", "certificate", d.certificate, "record", record,
                                              "ohttp_keys", keys) : NULL;
    free(record);
    free(keys);
    kms_deployed_free(&d);
    /* binary false: the code is ciphertext in base64url, which may look like
     * base64 (OpenWhisk's test for a zip) by chance; a confidential zip is
     * recognised by the enclave once decrypted (docs/api.md). */
    json_t *exec = json_pack("{s:s, s:s, s:s, s:b}", "kind", kind, "code", code,
                             "main", json_get_str(body, "main", "main"), "binary", 0);
    json_t *doc = exec && conf ? json_pack("{s:o, s:[o]}", "exec", exec, "annotations",
                                           json_kv("confidential", conf)) : NULL;
    json_t *limits = json_object_get(body, "limits");
    if (doc && limits) json_object_set(doc, "limits", limits);
    json_decref(body);
    if (!doc) return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The server ran out of memory");
    return action_put_body(r, r->rt.name, doc, 1);
}

/* Does the stored certificate's policy name invoker keys? The host reads
 * its own storage here (no signature check): this only decides whether the
 * public route serves the function; the enclave enforces the signatures. */
static int names_invokers(const char *cert) {
    jws_parts p;
    if (jws_decode(cert, strlen(cert), &p) != JWS_OK) return 0;
    json_t *claims = json_loadb((const char *)p.payload, p.payload_len, 0, NULL);
    int yes = json_array_size(json_object_get(json_object_get(claims, "policy"), "invokers")) > 0;
    json_decref(claims);
    jws_parts_free(&p);
    return yes;
}

/* The stored action's confidential annotation, or the 404 / 400 answered
 * (on a public route also 404 when its policy names no invoker keys). */
static json_t *load(http_req *r, json_t **doc, enum MHD_Result *sent) {
    if (action_route_check(r, sent) < 0) return NULL;
    store_status st = store_action_peek(r->gw->store, r->ns, r->rt.name, doc);
    if (st != STORE_OK) {
        *sent = st == STORE_NOT_FOUND ? http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND) : req_store_error(r);
        return NULL;
    }
    json_t *conf = action_confidential(*doc);
    if (!conf) {
        store_action_unpeek(r->gw->store, *doc);
        *sent = r->rt.is_public ? http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND)
                                : http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The action '%.256s' is not confidential",
                                             r->rt.name);
    } else if (r->rt.is_public && !names_invokers(json_get_str(conf, "certificate", ""))) {
        /* Without invoker keys the enclave runs any request: only the
         * tenant's credentials stand between the function and the world.
         * Answered as if it did not exist, to the unauthenticated. */
        store_action_unpeek(r->gw->store, *doc);
        conf = NULL;
        *sent = http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    }
    return conf;
}

static enum MHD_Result ohttp_keys(http_req *r) {
    enum MHD_Result sent = MHD_NO;
    json_t *doc = NULL, *conf = load(r, &doc, &sent);
    if (!conf) return sent;
    const char *keys = json_get_str(conf, "ohttp_keys", "");
    size_t len = 0;
    uint8_t *bytes = b64url_decode_alloc(keys, strlen(keys), &len);
    store_action_unpeek(r->gw->store, doc);
    if (!bytes) return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The stored key configuration is damaged");
    return http_reply_bytes(r->conn, MHD_HTTP_OK, "application/ohttp-keys", bytes, len, NULL, 0);
}

static enum MHD_Result certificate(http_req *r) {
    enum MHD_Result sent = MHD_NO;
    json_t *doc = NULL, *conf = load(r, &doc, &sent);
    if (!conf) return sent;
    char *cert = strdup(json_get_str(conf, "certificate", ""));
    store_action_unpeek(r->gw->store, doc);
    if (!cert) return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The server ran out of memory");
    return http_reply_bytes(r->conn, MHD_HTTP_OK, "application/jwt", cert, strlen(cert), NULL, 0);
}

/* POST .../ohttp: message/ohttp-req in; the gateway checks only the form. */
static enum MHD_Result ohttp_invoke(http_req *r) {
    enum MHD_Result sent = MHD_NO;
    const char *ctype = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ctype || strncasecmp(ctype, "message/ohttp-req", 17) != 0)
        return http_error(r->conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                          "A confidential invocation takes a message/ohttp-req body (RFC 9458)");
    if (!r->body || r->body_len < OHTTP_HEADER_LEN + HPKE_NENC + HPKE_NT) /* header, enc, one tag */
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST, "The OHTTP request is truncated");
    json_t *doc = NULL, *conf = load(r, &doc, &sent);
    if (!conf) return sent;
    return invoke_ohttp_handle(r, doc, conf);
}

int confidential_release(void *ud, const uint8_t *record, size_t record_len, const char *worker, size_t worker_len,
                         char **bundle, size_t *bundle_len, int *refused, char **err) {
    kms_status st = KMS_ERR_INTERNAL;
    int rc = ud ? kms_service_release(ud, record, record_len, worker, worker_len, bundle, bundle_len, &st, err)
                : (*err = strdup("the key service did not start"), -1);
    *refused = rc < 0 && st != KMS_ERR_INTERNAL;
    metrics_key_release(rc == 0 ? KMS_OK : (int)st);
    if (rc < 0 && !*refused) {
        /* The operator reads why; the client gets §5.4's one message. */
        fprintf(stderr, "tfaas serve: key release: %s\n", *err ? *err : "key service unavailable");
        free(*err);
        *err = strdup(MSG_KMS_DOWN);
    }
    return rc;
}

enum MHD_Result confidential_handle(http_req *r) {
    switch (r->rt.kind) {
    case ROUTE_CONF_ACTION: return deploy(r);
    case ROUTE_CONF_KEYS: return ohttp_keys(r);
    case ROUTE_CONF_CERT: return certificate(r);
    default: return ohttp_invoke(r);
    }
}
