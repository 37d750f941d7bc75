/* cli_output.h - how the client prints: pretty JSON, raw bodies for --json,
 * timestamps, and the status word of an activation. */
#ifndef TFAAS_HOST_CLI_OUTPUT_H
#define TFAAS_HOST_CLI_OUTPUT_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Pretty-prints v (any JSON value) with a 2-space indent and a newline. */
void cli_print_json(FILE *f, const json_t *v);
/* Writes a body as received, adding a final newline if it lacks one. */
void cli_print_raw(FILE *f, const char *body, size_t len);
/* Formats epoch milliseconds as local "YYYY-MM-DD HH:MM:SS" ("-" if <= 0). */
void cli_format_time(int64_t ms, char *out, size_t outlen);
/* "success", "application error", "developer error", "internal error" from
 * an activation's response.status or its statusCode; "-" when unknown. */
const char *cli_activation_status(const json_t *activation);
/* Reads an integer member, or def when it is absent or not an integer. */
int64_t cli_json_int(const json_t *obj, const char *key, int64_t def);
/* Reads a string member, or def. */
const char *cli_json_str(const json_t *obj, const char *key, const char *def);
#endif
