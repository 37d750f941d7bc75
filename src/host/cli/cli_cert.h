/* cli_cert.h - the client's checks of a confidential function's certificate
 * (docs/protocol.md §6.2): signed by the pinned KMS key, for the function
 * the client means, not expired, and (after a deploy) stating the code hash
 * and policy the client sealed. */
#ifndef TFAAS_HOST_CLI_CERT_H
#define TFAAS_HOST_CLI_CERT_H

#include "host/cli/cli_kms.h"

#include <jansson.h>

/* Verifies cert; expect_code_hash (hex) and expect_policy may be NULL. On
 * success 0 and *claims (new reference) holds the certificate's claims;
 * otherwise -1 with the reason in err. */
int cli_function_cert_verify(const char *cert, const struct cli_kms *kms, const char *name,
                             const char *expect_code_hash, const json_t *expect_policy, json_t **claims,
                             char *err, size_t errlen);

#endif
