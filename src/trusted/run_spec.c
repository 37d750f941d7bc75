/* run_spec.c - INVOKE's ACTION field read, and the activation's
 * environment completed (run_spec.h). */
#include "trusted/run_spec.h"

#include "common/base64.h"
#include "common/code_archive.h"
#include "common/errmsg.h"
#include "common/json_text.h"

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

void run_spec_cache_free(run_spec_cache *c) {
    free(c->action);
    free(c->head);
    memset(c, 0, sizeof *c);
}

/* The enclave's own two fields: the host's word never replaces them. */
static int enclave_field(const char *k) { return !strcmp(k, "__OW_ACTIVATION_ID") || !strcmp(k, "__OW_DEADLINE"); }

/* Parses ACTION into the cache: its flags, and the environment's text up
 * to its closing brace (only strings the host named __OW_*). */
static int cache_action(run_spec_cache *c, const char *action, size_t len, char **err) {
    run_spec_cache_free(c);
    json_error_t jerr;
    json_t *d = len ? json_loadb(action, len, JSON_REJECT_DUPLICATES, &jerr) : json_object();
    const json_t *env = d ? json_object_get(d, "env") : NULL;
    if (!json_is_object(d) || (env && !json_is_object(env))) {
        json_decref(d);
        return errmsg(err, "INVOKE with a malformed action description");
    }
    int binary = json_is_true(json_object_get(d, "binary")), node = json_is_true(json_object_get(d, "node"));
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)env, k, v) {
        if (out && !strncmp(k, "__OW_", 5) && !enclave_field(k) && json_is_string(v)) json_object_set(out, k, v);
    }
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);
    json_decref(d);
    c->action = malloc(len ? len : 1);
    if (!text || !c->action) {
        free(text);
        run_spec_cache_free(c);
        return errmsg(err, "%s", ENGINE_MSG_ENCLAVE_OOM);
    }
    memcpy(c->action, action, len);
    c->len = len;
    c->binary = binary;
    c->node = node;
    c->head = text;
    c->head_len = strlen(text) - 1; /* the closing brace cut */
    return 0;
}

int run_spec_read(run_spec *rs, run_spec_cache *cache, const char *action, size_t len, const char *activation_id,
                  uint64_t timeout_ms, char **err) {
    memset(rs, 0, sizeof *rs);
    if ((!cache->action || cache->len != len || memcmp(cache->action, action, len)) &&
        cache_action(cache, action, len, err) < 0)
        return -1;
    rs->binary = cache->binary;
    rs->env.node = cache->node;
    const char *id = activation_id ? activation_id : "";
    size_t id_len = strlen(id);
    char deadline[24];
    int dl = snprintf(deadline, sizeof deadline, "%llu", (unsigned long long)(wall_ms() + timeout_ms));
    static const char ID_KEY[] = "\"__OW_ACTIVATION_ID\":\"", DL_KEY[] = "\",\"__OW_DEADLINE\":\"";
    size_t cap = cache->head_len + 1 + sizeof ID_KEY + JSON_TEXT_ESCAPED_MAX(id_len) + sizeof DL_KEY + (size_t)dl + 3;
    char *text = malloc(cap), *p = text;
    if (!text) return errmsg(err, "%s", ENGINE_MSG_ENCLAVE_OOM);
    memcpy(p, cache->head, cache->head_len);
    p += cache->head_len;
    if (cache->head_len > 1) *p++ = ','; /* after the host's fields */
    memcpy(p, ID_KEY, sizeof ID_KEY - 1);
    p += sizeof ID_KEY - 1;
    p += json_text_escape(p, id, id_len);
    memcpy(p, DL_KEY, sizeof DL_KEY - 1);
    p += sizeof DL_KEY - 1;
    memcpy(p, deadline, (size_t)dl);
    p += dl;
    memcpy(p, "\"}", 3);
    rs->env.env_json = text;
    rs->env.env_len = (size_t)(p + 2 - text);
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
