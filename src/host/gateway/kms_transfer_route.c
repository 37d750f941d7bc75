/* kms_transfer_route.c - POST /tfaas/v1/kms/transfer: a joining node's key
 * service asks this node's for its keys (docs/protocol.md §5.6). The host
 * relays: the hello goes to the KMS as it came, the answer back as the KMS
 * made it. No credentials: the KMS hands its keys only wrapped to a key
 * service of its own measurement (and with evidence of its own that binds
 * the hello), so the route is public like the attestation document. */
#include "host/gateway/gateway_internal.h"

#include "common/b64url.h"
#include "common/hpke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_TRANSFER_BODY "A key transfer needs \"evidence\" (the joining key service's evidence) and " \
                          "\"transfer_key\" (its X25519 key, 32 bytes base64url)"

enum MHD_Result kms_transfer_handle(http_req *r) {
    if (!r->gw->kms) return http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, MSG_KMS_DOWN);
    enum MHD_Result sent;
    json_t *body = req_body_object(r, "key transfer hello", &sent);
    if (!body) return sent;
    const char *ev = json_string_value(json_object_get(body, "evidence"));
    const char *key_b64 = json_string_value(json_object_get(body, "transfer_key"));
    uint8_t key[HPKE_NPK];
    if (!ev || !*ev || !key_b64 || b64url_decode(key_b64, strlen(key_b64), key, sizeof key) != HPKE_NPK) {
        json_decref(body);
        return http_error(r->conn, MHD_HTTP_BAD_REQUEST, MSG_TRANSFER_BODY);
    }
    char *evidence = NULL, *err = NULL, *wrapped_b64 = NULL;
    uint8_t *wrapped = NULL;
    size_t evidence_len = 0, wrapped_len = 0;
    kms_status st;
    int rc = kms_service_give(r->gw->kms, ev, strlen(ev), key, sizeof key, &evidence, &evidence_len, &wrapped,
                              &wrapped_len, &st, &err);
    json_decref(body);
    enum MHD_Result ret;
    if (rc < 0) {
        fprintf(stderr, "tfaas serve: key transfer refused: %s\n", err ? err : "key service unavailable");
        if (st == KMS_ERR_INTERNAL)
            ret = http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, MSG_KMS_DOWN);
        else
            ret = http_error(r->conn, st == KMS_ERR_POLICY ? MHD_HTTP_FORBIDDEN : MHD_HTTP_BAD_REQUEST, "%s",
                             err ? err : "the key service refused the transfer");
    } else if (!(wrapped_b64 = b64url_encode_alloc(wrapped, wrapped_len))) {
        ret = http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    } else {
        json_t *doc = json_pack("{s:s%, s:s}", "evidence", evidence, evidence_len, "wrapped", wrapped_b64);
        ret = doc ? http_reply_json(r->conn, MHD_HTTP_OK, doc, NULL)
                  : http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    free(err);
    free(evidence);
    free(wrapped);
    free(wrapped_b64);
    return ret;
}
