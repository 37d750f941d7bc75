/* cli_package.c - `tfaas package create|update|get|list|delete|bind`, as
 * wsk has them: -p/-P are the package's parameters, -a its annotations,
 * --shared yes|no its publish flag; bind makes a binding of another
 * namespace's shared package (/NS/PACKAGE) with its own parameters. */
#include "host/cli/cli_cmd.h"
#include "host/cli/cli_output.h"

#include <stdio.h>
#include <string.h>

/* Prints the reply as wsk does ("ok: VERB package NAME", --json: as sent). */
static int finish(struct cli_ctx *c, struct cli_reply *r, int rc, const char *verb, const char *name) {
    if (rc) return rc;
    if (r->status != 200) rc = cli_report_error(r);
    else if (c->args.json) cli_print_raw(stdout, r->raw.body, r->raw.len);
    else printf("ok: %s package %s\n", verb, name);
    cli_reply_free(r);
    return rc;
}

/* The PUT body from the flags: only what they set, so an update keeps the
 * rest (the server merges, as OpenWhisk does). */
static json_t *package_body(const struct cli_args *a, json_t *binding) {
    json_t *body = json_object();
    if (!body) { json_decref(binding); return NULL; }
    if (a->params_given) json_object_set_new(body, "parameters", cli_keyvalue_array(a->params));
    if (a->annotations_given) json_object_set_new(body, "annotations", cli_keyvalue_array(a->annotations));
    if (a->shared >= 0) json_object_set_new(body, "publish", json_boolean(a->shared));
    if (binding) json_object_set_new(body, "binding", binding);
    return body;
}

static int put(struct cli_ctx *c, const char *name, json_t *body, int overwrite, const char *verb) {
    if (!body) {
        fprintf(stderr, "error: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    struct cli_reply r;
    int rc = cli_api(c, "PUT", "packages", name, NULL, overwrite ? "overwrite=true" : NULL, body, CLI_HTTP_TIMEOUT_S,
                     &r);
    json_decref(body);
    return finish(c, &r, rc, verb, name);
}

int cli_package_create(struct cli_ctx *c) {
    return put(c, c->args.pos[0], package_body(&c->args, NULL), 0, "created");
}

int cli_package_update(struct cli_ctx *c) {
    return put(c, c->args.pos[0], package_body(&c->args, NULL), 1, "updated");
}

int cli_package_bind(struct cli_ctx *c) {
    /* /NS/PACKAGE, or PACKAGE of the caller's own namespace */
    const char *target = c->args.pos[0], *slash = target[0] == '/' ? strchr(target + 1, '/') : NULL;
    if (target[0] == '/' && (!slash || strchr(slash + 1, '/'))) {
        fprintf(stderr, "error: the package to bind is /NAMESPACE/PACKAGE or PACKAGE\n");
        return CLI_EXIT_USAGE;
    }
    json_t *binding = slash ? json_pack("{s:s%, s:s}", "namespace", target + 1, (size_t)(slash - target - 1), "name",
                                        slash + 1)
                            : json_pack("{s:s, s:s}", "namespace", "_", "name", target);
    if (!binding) {
        fprintf(stderr, "error: the package name is not valid UTF-8\n");
        return CLI_EXIT_USAGE;
    }
    return put(c, c->args.pos[1], package_body(&c->args, binding), 0, "created binding");
}

int cli_package_get(struct cli_ctx *c) {
    struct cli_reply r;
    const char *name = c->args.pos[0];
    int rc = cli_api(c, "GET", "packages", name, NULL, NULL, NULL, CLI_HTTP_TIMEOUT_S, &r);
    if (rc) return rc;
    if (r.status != 200 || !json_is_object(r.json)) rc = cli_report_error(&r);
    else if (c->args.json) cli_print_raw(stdout, r.raw.body, r.raw.len);
    else {
        printf("ok: got package %s\n", name);
        cli_print_json(stdout, r.json);
    }
    cli_reply_free(&r);
    return rc;
}

int cli_package_list(struct cli_ctx *c) {
    char query[96] = "";
    cli_page_query(&c->args, query, sizeof query);
    /* "/NS": another namespace's shared packages; cli_url_build reads "/NS/" */
    char ns[300] = "";
    if (c->args.npos > 0) {
        const char *n = c->args.pos[0];
        if (n[0] != '/' || strchr(n + 1, '/') || !n[1] || snprintf(ns, sizeof ns, "%s/", n) >= (int)sizeof ns) {
            fprintf(stderr, "error: the namespace to list is /NAMESPACE\n");
            return CLI_EXIT_USAGE;
        }
    }
    struct cli_reply r;
    /* "/NS/" + "" would leave an empty name: ask for the collection itself */
    int rc = *ns ? cli_api(c, "GET", "packages", ns, NULL, *query ? query : NULL, NULL, CLI_HTTP_TIMEOUT_S, &r)
                 : cli_api(c, "GET", "packages", NULL, NULL, *query ? query : NULL, NULL, CLI_HTTP_TIMEOUT_S, &r);
    if (rc) return rc;
    if (r.status != 200 || !json_is_array(r.json)) rc = cli_report_error(&r);
    else if (c->args.json) cli_print_raw(stdout, r.raw.body, r.raw.len);
    else {
        printf("%-50s %s\n", "PACKAGE", "SHARED");
        size_t i;
        json_t *p;
        json_array_foreach(r.json, i, p) {
            char full[600];
            snprintf(full, sizeof full, "/%s/%s", cli_json_str(p, "namespace", "?"), cli_json_str(p, "name", "?"));
            printf("%-50s %s\n", full, json_is_true(json_object_get(p, "publish")) ? "shared" : "private");
        }
    }
    cli_reply_free(&r);
    return rc;
}

int cli_package_delete(struct cli_ctx *c) {
    struct cli_reply r;
    int rc = cli_api(c, "DELETE", "packages", c->args.pos[0], NULL, NULL, NULL, CLI_HTTP_TIMEOUT_S, &r);
    return finish(c, &r, rc, "deleted", c->args.pos[0]);
}
