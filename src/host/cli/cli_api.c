/* cli_api.c - `tfaas api create|list|delete`: API routes to web actions,
 * through the management calls OpenWhisk's clients use
 * (/api/v1/web/whisk.system/apimgmt/{createApi,getApi,deleteApi}.http). */
#include "host/cli/cli_cmd.h"
#include "host/cli/cli_http.h"
#include "host/cli/cli_output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The management URL of op with query (already escaped), or NULL. */
static char *mgmt_url(const struct cli_ctx *c, const char *op, const char *query) {
    char *url = NULL;
    if (asprintf(&url, "%s/api/v1/web/whisk.system/apimgmt/%s.http%s%s", c->conn.apihost, op, query ? "?" : "",
                 query ? query : "") < 0)
        return NULL;
    return url;
}

/* "k=v&k=v" of the pairs whose value is not NULL, values escaped. */
static char *query_of(const char *const *kv, size_t n) {
    char *out = strdup("");
    for (size_t i = 0; out && i + 1 < n; i += 2) {
        if (!kv[i + 1]) continue;
        char *v = cli_url_escape(kv[i + 1]), *next = NULL;
        if (!v || asprintf(&next, "%s%s%s=%s", out, *out ? "&" : "", kv[i], v) < 0) next = NULL;
        free(v);
        free(out);
        out = next;
    }
    return out;
}

/* Sends one management call and prints the outcome. */
static int call(struct cli_ctx *c, const char *method, const char *op, const char *query, json_t *body,
                void (*print)(const json_t *)) {
    char *url = mgmt_url(c, op, query);
    if (!url) {
        fprintf(stderr, "error: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    struct cli_reply r;
    int rc = cli_api_url(c, method, url, body, CLI_HTTP_TIMEOUT_S, &r);
    free(url);
    if (rc) return rc;
    if (r.status != 200) rc = cli_report_error(&r);
    else if (c->args.json || !print) cli_print_raw(stdout, r.raw.body, r.raw.len);
    else print(r.json);
    cli_reply_free(&r);
    return rc;
}

static void print_created(const json_t *entry) {
    const json_t *v = json_object_get(entry, "value");
    printf("ok: created API %s\n", cli_json_str(v, "gwApiUrl", "?"));
}

/* One line per route: VERB URL ACTION. */
static void print_list(const json_t *reply) {
    size_t i;
    json_t *api;
    json_array_foreach(json_object_get(reply, "apis"), i, api) {
        const json_t *v = json_object_get(api, "value");
        const json_t *doc = json_object_get(v, "apidoc");
        const char *base = cli_json_str(doc, "basePath", "");
        const char *rel;
        json_t *ops;
        json_object_foreach(json_object_get(doc, "paths"), rel, ops) {
            const char *verb;
            json_t *op;
            json_object_foreach(ops, verb, op) {
                printf("%-7s %s%s%s  %s\n", verb, cli_json_str(v, "gwApiUrl", ""), strcmp(base, "/") ? base : "", rel,
                       cli_json_str(json_object_get(op, "x-openwhisk"), "action", "?"));
            }
        }
    }
}

static void print_deleted(const json_t *reply) {
    (void)reply;
    printf("ok: deleted\n");
}

int cli_api_create(struct cli_ctx *c) {
    const struct cli_args *a = &c->args;
    json_t *body = json_pack("{s:{s:s s:s s:s s:s s:{s:s s:s}}}", "apidoc", "namespace", "_", "gatewayBasePath",
                             a->pos[0], "gatewayPath", a->pos[1], "gatewayMethod", a->pos[2], "action", "name",
                             a->pos[3], "namespace", "_");
    if (!body) {
        fprintf(stderr, "error: the arguments must be UTF-8 text\n");
        return CLI_EXIT_USAGE;
    }
    const char *kv[] = {"responsetype", a->response_type};
    char *query = query_of(kv, 2);
    int rc = query ? call(c, "POST", "createApi", *query ? query : NULL, body, print_created) : CLI_EXIT_FAIL;
    free(query);
    json_decref(body);
    return rc;
}

int cli_api_list(struct cli_ctx *c) {
    const char *kv[] = {"basepath", c->args.npos > 0 ? c->args.pos[0] : NULL};
    char *query = query_of(kv, 2);
    int rc = query ? call(c, "GET", "getApi", *query ? query : NULL, NULL, print_list) : CLI_EXIT_FAIL;
    free(query);
    return rc;
}

int cli_api_delete(struct cli_ctx *c) {
    const struct cli_args *a = &c->args;
    const char *kv[] = {"basepath", a->pos[0], "relpath", a->npos > 1 ? a->pos[1] : NULL, "operation",
                        a->npos > 2 ? a->pos[2] : NULL, "force", "true"};
    char *query = query_of(kv, 8);
    int rc = query ? call(c, "DELETE", "deleteApi", query, NULL, print_deleted) : CLI_EXIT_FAIL;
    free(query);
    return rc;
}
