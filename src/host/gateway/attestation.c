/* attestation.c - GET /tfaas/v1/attestation: the key service's evidence and
 * public keys (docs/protocol.md §5). Public, like /api/v1: it holds nothing
 * secret, and a client must be able to verify the KMS before it trusts the
 * host with anything. */
#include "host/gateway/gateway_internal.h"

#include <stdio.h>
#include <stdlib.h>

enum MHD_Result attestation_handle(http_req *r) {
    if (!r->gw->kms)
        return http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, MSG_KMS_DOWN);
    char *err = NULL;
    json_t *doc = kms_service_attestation(r->gw->kms, &err);
    if (!doc) {
        fprintf(stderr, "tfaas serve: attestation: %s\n", err ? err : "key service unavailable");
        free(err);
        return http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, MSG_KMS_DOWN);
    }
    return http_reply_json(r->conn, MHD_HTTP_OK, doc, NULL);
}
