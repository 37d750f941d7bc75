/* run_spec.h - how the enclave runs one activation beyond its code and
 * parameters: INVOKE's ACTION field (common/ipc.h) read, and the
 * activation's environment made from it (OpenWhisk's __OW_* values, with
 * the activation id and deadline the enclave adds itself).
 *
 * The host writes ACTION and is not trusted: what it says only picks how
 * the code is read (a zip's base64 or not) and which surface the function
 * sees; the environment's strings are the host's word (docs/api.md). */
#ifndef TFAAS_TRUSTED_RUN_SPEC_H
#define TFAAS_TRUSTED_RUN_SPEC_H

#include "trusted/engine.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int binary;       /* CODE is a zip action's base64 text */
    engine_env env;   /* env.env_json malloc'd (run_spec_free) */
} run_spec;

/* What one worker thread read last: the host sends the same ACTION with
 * every activation of a function, and a worker runs one function again and
 * again, so the text is compared instead of parsed again (reading it with
 * jansson and writing the environment was a fifth of a warm hello's enclave
 * CPU). Zeroed by its owner before first use; run_spec_cache_free at the end. */
typedef struct {
    char *action;   /* the ACTION text, malloc'd (NULL: nothing read yet) */
    size_t len;
    int binary, node;
    char *head;     /* its environment's JSON text without the closing brace */
    size_t head_len;
} run_spec_cache;

/* Reads ACTION (len bytes of JSON text, empty for {}) and completes the
 * environment with the activation id and a deadline timeout_ms from now.
 * 0, or -1 with a message in *err (malformed field, no memory). */
int run_spec_read(run_spec *rs, run_spec_cache *cache, const char *action, size_t len, const char *activation_id,
                  uint64_t timeout_ms, char **err);
void run_spec_free(run_spec *rs);
void run_spec_cache_free(run_spec_cache *cache);

/* A zip action's base64 code decoded (a fresh buffer, *out_len bytes), or
 * NULL with the developer's message in *err. */
uint8_t *run_spec_zip_code(const char *code, size_t code_len, size_t *out_len, char **err);

#endif
