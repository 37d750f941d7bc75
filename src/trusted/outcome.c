/* outcome.c - engine_outcome helpers shared by every engine: freeing, the
 * {"error": "..."} object every failure carries (escaped by common/json_text,
 * so that no JSON library is needed in the enclave), the failure messages
 * both engines report in the same words, and the interrupt probe of the
 * engines' self-tests. */
#include "trusted/engine.h"

#include "common/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void engine_outcome_free(engine_outcome *o) {
    if (!o) return;
    free(o->result);
    free(o->logs);
    o->result = o->logs = NULL;
}

int engine_outcome_error(engine_outcome *out, tfaas_status status, const char *message) {
    static const char prefix[] = "{\"error\":\"", suffix[] = "\"}";
    static const char fallback[] = "{\"error\":\"out of memory in the enclave\"}";
    free(out->result);
    out->status = status;
    size_t mlen = strlen(message);
    out->result = malloc(sizeof prefix + JSON_TEXT_ESCAPED_MAX(mlen) + sizeof suffix);
    if (!out->result) {
        out->status = TFAAS_STATUS_INTERNAL_ERR;
        out->result = strdup(fallback);
        return -1;
    }
    memcpy(out->result, prefix, sizeof prefix - 1);
    size_t n = sizeof prefix - 1;
    n += json_text_escape(out->result + n, message, mlen);
    memcpy(out->result + n, suffix, sizeof suffix);
    return 0;
}

void engine_outcome_limit(engine_outcome *out, int timed_out, uint64_t timeout_ms) {
    char msg[96];
    if (timed_out)
        snprintf(msg, sizeof msg, "The action exceeded its time limits of %llu milliseconds.",
                 (unsigned long long)timeout_ms);
    else
        snprintf(msg, sizeof msg, "The action exhausted its memory and was aborted.");
    engine_outcome_error(out, TFAAS_STATUS_DEVELOPER_ERR, msg);
    out->discard = 1;
}

void engine_outcome_no_main(engine_outcome *out, const char *main_name) {
    char msg[512];
    snprintf(msg, sizeof msg, "Initialization has failed due to: the action defines no function '%.100s' "
             "(a global function, exports.%.100s or module.exports).", main_name, main_name);
    engine_outcome_error(out, TFAAS_STATUS_DEVELOPER_ERR, msg);
    out->discard = 1;
}

void engine_outcome_too_long(engine_outcome *out, size_t len, size_t max_len) {
    char msg[160];
    snprintf(msg, sizeof msg, "The action produced a response that exceeded the allowed length: %zu > %zu bytes.",
             len, max_len);
    engine_outcome_error(out, TFAAS_STATUS_DEVELOPER_ERR, msg);
}

int engine_probe_interrupts(const char *probe, size_t probe_len, size_t memory_limit) {
    engine_limits lim = {.timeout_ms = 0, .max_result_bytes = 1024, .max_log_bytes = 1024};
    engine_heap *h = engine_heap_create(memory_limit);
    if (!h) return -1;
    engine_outcome o = {0};
    int rc = engine_heap_load(h, probe, probe_len, "main", "", &lim, &o);
    /* The exact outcome a load stopped at its deadline must have. */
    engine_outcome expected = {0};
    engine_outcome_limit(&expected, 1, lim.timeout_ms);
    int ok = rc != 0 && o.status == TFAAS_STATUS_DEVELOPER_ERR && o.result && expected.result &&
             strcmp(o.result, expected.result) == 0;
    engine_outcome_free(&expected);
    engine_outcome_free(&o);
    engine_heap_destroy(h);
    return ok ? 0 : -1;
}
