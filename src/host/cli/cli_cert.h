/* cli_cert.h - the client's checks of a confidential function's certificate
 * (docs/protocol.md §6.3): signed by the pinned KMS key, for the function
 * the client means, not expired, and (after a deploy) stating the code hash
 * and policy the client sealed; and of the receipt chain of a response. */
#ifndef TFAAS_HOST_CLI_CERT_H
#define TFAAS_HOST_CLI_CERT_H

#include "host/cli/cli_kms.h"

#include <jansson.h>

/* Verifies cert for function `name` (NULL: whichever it names);
 * expect_code_hash (hex) and expect_policy may be NULL. On
 * success 0 and *claims (new reference) holds the certificate's claims;
 * otherwise -1 with the reason in err. */
int cli_function_cert_verify(const char *cert, const struct cli_kms *kms, const char *name,
                             const char *expect_code_hash, const json_t *expect_policy, json_t **claims,
                             char *err, size_t errlen);

/* The receipt chain of one confidential response: the worker certificate
 * signed by the pinned KMS for this function and a worker the certified
 * policy accepts; the receipt signed by that worker's key for the
 * function's code, that worker's measurement, and exactly the request and
 * response (hex SHA-256 of the encapsulated bytes). fn_claims are the
 * verified function certificate's claims. 0 with *claims (the receipt's),
 * or -1 with err. */
int cli_receipt_verify(const char *receipt, const char *worker_cert, const struct cli_kms *kms,
                       const json_t *fn_claims, const char *request_sha256, const char *response_sha256,
                       json_t **claims, char *err, size_t errlen);

#endif
