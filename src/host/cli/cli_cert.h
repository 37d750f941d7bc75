/* cli_cert.h - the client's checks of a confidential function's certificate
 * (docs/protocol.md §6.3): signed by the pinned KMS key, for exactly the
 * function the client expects (namespace, name, code hash, deploy
 * version), not expired, and (after a deploy) stating the policy the client
 * sealed; and of the receipt chain of a response. */
#ifndef TFAAS_HOST_CLI_CERT_H
#define TFAAS_HOST_CLI_CERT_H

#include "host/cli/cli_kms.h"
#include "host/cli/cli_pin.h"

#include <jansson.h>

/* Verifies cert: signed by the pinned KMS, not expired, and when `expect`
 * is given for exactly its function: namespace (when expect->ns is set),
 * name, code hash (when set) and deploy version (when not 0); NULL:
 * whichever function it names. expect_policy may be NULL. On success 0
 * and *claims (new reference) holds the certificate's claims; otherwise -1
 * with the reason in err. */
int cli_function_cert_verify(const char *cert, const struct cli_kms *kms, const struct cli_fn_expect *expect,
                             const json_t *expect_policy, json_t **claims, char *err, size_t errlen);

/* The receipt chain of one confidential response: the worker certificate
 * signed by the pinned KMS for the certificate's function (namespace, name,
 * deploy version, code hash) and a worker the certified policy accepts; the
 * receipt (docs/protocol.md §6.5: claims, their leaf index and audit path,
 * and a Merkle root signed by that worker's key) for the same function, that worker's
 * measurement, exactly the request (hex SHA-256 of the encapsulated bytes)
 * and the result (hex SHA-256 of the inner response's content). fn_claims
 * are the verified function certificate's claims. 0 with *claims (the
 * receipt's), or -1 with err. */
/* One call's receipt, the `tfaas-receipt` field's text (docs/protocol.md
 * §6.5): the root JWS signed by wkey (typ tfaas-receipt-root+jwt), the
 * call's claims proven a leaf of that root by the proof, and the claims'
 * iat, iss and measurement (the root's). The claims (new reference), or
 * NULL with err. */
json_t *cli_receipt_open(const char *receipt, EVP_PKEY *wkey, char *err, size_t errlen);

int cli_receipt_verify(const char *receipt, const char *worker_cert, const struct cli_kms *kms,
                       const json_t *fn_claims, const char *request_sha256, const char *result_sha256,
                       json_t **claims, char *err, size_t errlen);

#endif
