/* cli_pin.h - what the client expects of a confidential function: the
 * namespace, name, code hash and deploy version it deployed (pinned in a
 * file when `tfaas action create --confidential` succeeds) or that an
 * invoker was told to expect (--expect-* flags). Certificates and receipts
 * for anything else are refused (docs/protocol.md §6.3).
 *
 * The pins are one JSON file beside the client config: $TFAAS_FUNCTION_PINS,
 * else ~/.tfaas/function-pins.json; {"functions": {NAME: {"namespace",
 * "name", "code_hash", "version", "pinned_at"}}}, NAME as the client
 * addresses the action (in its own namespace, "_"). */
#ifndef TFAAS_HOST_CLI_PIN_H
#define TFAAS_HOST_CLI_PIN_H

#include <jansson.h>
#include <stddef.h>

struct cli_fn_expect {
    char *ns, *name, *code_hash; /* owned; NULL: not known */
    json_int_t version;          /* 0: any */
};
void cli_fn_expect_free(struct cli_fn_expect *e);

/* The pin file path (malloc'd), or NULL without HOME and TFAAS_CONFIG. */
char *cli_fn_pins_path(void);
/* The pin of `name`: 0 with *out, 1 when none, -1 with err (unreadable or
 * malformed file). */
int cli_fn_pin_load(const char *path, const char *name, struct cli_fn_expect *out, char *err, size_t errlen);
/* Records (replaces) the pin of `name`. 0 or -1 with err. */
int cli_fn_pin_save(const char *path, const char *name, const struct cli_fn_expect *e, char *err, size_t errlen);

#endif
