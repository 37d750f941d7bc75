/* ow_proto.h - OpenWhisk's action-runtime protocol (apache/openwhisk
 * docs/actions-new.md), the pure part: what the bodies of POST /init and
 * POST /run may hold, how an activation's context becomes the function's
 * `process.env`, how the function is wrapped so that it gets it, and how
 * log lines go back to stdout and stderr. No I/O here; unit-tested
 * (tests/unit/host/test_runtime_proto.c).
 *
 * How the context reaches the function without an engine change: the code
 * from /init gets a suffix (ow_proto_wrap) that, after the user's code has
 * run, takes the entry point by the engine's own rule (a function
 * module.exports, then module.exports[main], then the top-level binding
 * main) and puts a wrapper in module.exports, which the engine then calls.
 * Each activation's parameters are {"env": {...}, "value": <the run's
 * value>}: the wrapper sets process.env to env and calls the entry point
 * with value; {"env": ..., "init": true} only loads the code (POST /init
 * reports a syntax error or a missing entry point at once, as OpenWhisk's
 * runtimes do, and leaves a warm heap for the first run).
 *
 * A zip action (/init with "binary": true, the code a base64 zip) cannot be
 * given a suffix: the enclave loads its main module and takes the entry
 * point itself (docs/api.md, "nodejs:default and zip actions"). Its /run
 * parameters are the run's value alone, and its environment goes in
 * INVOKE's ACTION description, of which the enclave keeps the __OW_* names
 * only (the host may not set anything else there): an init env naming
 * anything else is refused (OW_ZIP_ENV) rather than dropped. */
#ifndef TFAAS_HOST_RUNTIME_OW_PROTO_H
#define TFAAS_HOST_RUNTIME_OW_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Request bodies (docs/api.md, "OpenWhisk runtime mode"). /init carries the
 * code: OpenWhisk's 48 MB action size. /run carries one activation's
 * parameters: its result may be as large. Both stay well inside one IPC
 * frame (64 MiB) together. */
#define OW_MAX_INIT_BODY (48u << 20)
#define OW_MAX_RUN_BODY  (8u << 20)
#define OW_MAX_RESULT    (8u << 20)
#define OW_MAX_MAIN      128 /* characters of an entry point's name */

/* The line OpenWhisk's invoker reads as the end of one activation's logs,
 * on stdout and on stderr. */
#define OW_LOG_SENTINEL "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

typedef enum {
    OW_OK = 0,
    OW_BAD_JSON,       /* not JSON, or nested deeper than JSON_MAX_DEPTH */
    OW_NOT_OBJECT,     /* the body is not a JSON object */
    OW_BAD_VALUE,      /* "value" is not an object */
    OW_NO_CODE,        /* /init: value.code missing, not a string, or empty */
    OW_BAD_MAIN,       /* /init: value.main not a string naming a JavaScript identifier */
    OW_BAD_NAME,       /* /init: value.name not a string */
    OW_BAD_ENV,        /* /init: value.env not an object */
    OW_ZIP_ENV,        /* /init of a zip action: value.env names other than __OW_* */
    OW_BAD_DEADLINE,   /* /run: deadline not a non-negative integer (or its digits as a string) */
} ow_status;
/* The error message OpenWhisk's caller sees for s ("" for OW_OK). */
const char *ow_status_name(ow_status s);

/* What /init accepted. Strings are malloc'd; env is a new reference (an
 * object of strings, {} when none was given). */
typedef struct {
    char *name, *main, *code;
    size_t code_len;
    int binary;        /* a zip action: code is the zip's base64, not yet checked */
    json_t *env;
} ow_init;

/* Parses and checks a /init body. OW_OK fills *out (free with
 * ow_init_clear); any other status leaves it empty. OW_OK with out->code NULL
 * never happens; on OOM: OW_BAD_JSON. jerr, if non-NULL, receives jansson's
 * reason for OW_BAD_JSON. */
ow_status ow_init_parse(const char *body, size_t len, ow_init *out, char *jerr, size_t jerr_size);
void ow_init_clear(ow_init *in);

/* The code the enclave gets: the user's code and the wrapper suffix for
 * entry point `main` (already checked by ow_init_parse). malloc'd, its
 * length in *len; NULL on OOM. */
char *ow_proto_wrap(const char *code, size_t code_len, const char *main, size_t *len);

/* Parses and checks a /run body and builds the activation's parameters text
 * for the wrapped function: {"env": E, "value": V}, E being base_env (the
 * init's env and __OW_API_HOST, borrowed) overlaid with __OW_<KEY> for every
 * other top-level member of the body (strings as they are, other values as
 * JSON text; keys of other than letters, digits and '_' skipped), V the
 * body's "value" ({} when absent). *deadline_ms is the body's deadline
 * (epoch milliseconds) or 0 without one; *activation_id its activation_id
 * (borrowed from nothing: copied into a buffer of 33 bytes, "" when absent
 * or not 1..32 of [0-9a-zA-Z]). OW_OK with *params (malloc'd). */
ow_status ow_run_params(const char *body, size_t len, const json_t *base_env, char **params, int64_t *deadline_ms,
                        char activation_id[33], char *jerr, size_t jerr_size);

/* ow_run_params for a zip action: the same checks, but *params is the
 * body's "value" alone ({} when absent), and the environment E goes into
 * *action, INVOKE's ACTION description {"binary": true, "node": node,
 * "env": E} (malloc'd). */
ow_status ow_run_zip(const char *body, size_t len, const json_t *base_env, int node, char **params, char **action,
                     int64_t *deadline_ms, char activation_id[33], char *jerr, size_t jerr_size);

/* The parameters of the init probe: {"env": base_env, "init": true}. malloc'd or NULL. */
char *ow_init_params(const json_t *base_env);

/* One line of an activation's logs ("<24-char UTC stamp> stdout: text" or
 * "... stderr: text"): whether it goes to stderr, and where its text
 * starts. A line not in that shape goes whole to the stream of the line
 * before it (prev_stderr). Returns 1 for stderr, 0 for stdout. */
int ow_log_line(const char *line, size_t len, int prev_stderr, size_t *text_off);
/* Whether a log line's text (from text_off on) would read as the
 * end-of-activation sentinel to OpenWhisk's log reader (which trims it): a
 * function writing it would end its activation's logs early and push the
 * rest into the next one's. Such a line is written with OW_LOG_FORGED_PREFIX
 * before it. */
#define OW_LOG_FORGED_PREFIX "(written by the action) "
int ow_log_forges_sentinel(const char *text, size_t len);

#endif
