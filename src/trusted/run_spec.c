/* run_spec.c - INVOKE's ACTION field read, and the activation's
 * environment completed (run_spec.h). */
#include "trusted/run_spec.h"

#include "common/base64.h"
#include "common/code_archive.h"
#include "common/errmsg.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Wall-clock milliseconds, rounded down as the clock functions see is
 * (ENGINE_CLOCK_QUANTUM_MS): the deadline must not be a finer clock. */
static uint64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    return ms - ms % ENGINE_CLOCK_QUANTUM_MS;
}

int run_spec_read(run_spec *rs, const char *action, size_t len, const char *activation_id, uint64_t timeout_ms,
                  char **err) {
    memset(rs, 0, sizeof *rs);
    json_error_t jerr;
    json_t *d = len ? json_loadb(action, len, JSON_REJECT_DUPLICATES, &jerr) : json_object();
    const json_t *env = d ? json_object_get(d, "env") : NULL;
    if (!json_is_object(d) || (env && !json_is_object(env))) {
        json_decref(d);
        return errmsg(err, "INVOKE with a malformed action description");
    }
    rs->binary = json_is_true(json_object_get(d, "binary"));
    rs->env.node = json_is_true(json_object_get(d, "node"));
    /* Only strings the host named __OW_*, then the enclave's own two. */
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)env, k, v) {
        if (out && !strncmp(k, "__OW_", 5) && json_is_string(v)) json_object_set(out, k, v);
    }
    char deadline[24];
    snprintf(deadline, sizeof deadline, "%llu", (unsigned long long)(wall_ms() + timeout_ms));
    if (out && (json_object_set_new(out, "__OW_ACTIVATION_ID", json_string(activation_id ? activation_id : "")) < 0 ||
                json_object_set_new(out, "__OW_DEADLINE", json_string(deadline)) < 0)) {
        json_decref(out);
        out = NULL;
    }
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);
    json_decref(d);
    if (!text) return errmsg(err, "%s", ENGINE_MSG_ENCLAVE_OOM);
    rs->env.env_json = text;
    rs->env.env_len = strlen(text);
    return 0;
}

void run_spec_free(run_spec *rs) {
    free((char *)rs->env.env_json);
    rs->env.env_json = NULL;
}

uint8_t *run_spec_zip_code(const char *code, size_t code_len, size_t *out_len, char **err) {
    uint8_t *zip = base64_decode_alloc(code, code_len, out_len);
    if (!zip) errmsg(err, "Initialization has failed due to: %s", "the zip action's code is not base64");
    return zip;
}
