/* cli_cmd.h - what the client subcommands share: the per-run context
 * (parsed arguments, connection), the API call helper that turns transport
 * failures into clear messages, and the subcommand handlers. Exit statuses:
 * 0 success, 1 failure (server error, connection, bad file), 2 usage. */
#ifndef TFAAS_HOST_CLI_CMD_H
#define TFAAS_HOST_CLI_CMD_H
#include "host/cli/cli_args.h"
#include "host/cli/cli_config.h"
#include "host/cli/cli_http.h"

#include <jansson.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

struct cli_ctx {
    struct cli_args args;
    struct cli_conn conn;
    const char *ns; /* the namespace cli_api addresses; NULL: `_`, the caller's */
};

/* One API reply: HTTP status, raw body, and the body parsed as JSON (NULL
 * when it is not JSON). Release with cli_reply_free. */
struct cli_reply {
    long status;
    struct cli_http_response raw;
    json_t *json;
};

/* Calls the API: method on apihost + path built by cli_url_build, with body
 * serialised when non-NULL. Returns 0 when an HTTP response arrived (any
 * status), or CLI_EXIT_FAIL after printing why it did not (naming the apihost). */
int cli_api(struct cli_ctx *c, const char *method, const char *collection,
            const char *name, const char *suffix, const char *query, json_t *body,
            long timeout_s, struct cli_reply *r);
/* The same for a whole URL (apihost and path), for paths outside
 * /api/v1/namespaces/_/ (the API route management). */
int cli_api_url(struct cli_ctx *c, const char *method, const char *url, json_t *body, long timeout_s,
                struct cli_reply *r);
void cli_reply_free(struct cli_reply *r);

/* Appends "&key=value" (or "key=value" first) to q for the paging values
 * --limit and --skip set (cli_action.c). */
void cli_page_query(const struct cli_args *a, char *q, size_t qlen);

/* Prints a failed reply's `error` and `code` (or its status) to stderr.
 * Returns CLI_EXIT_FAIL. */
int cli_report_error(const struct cli_reply *r);

/* Appends "&key=value" (or "key=value" first) to q for the paging values
 * --limit and --skip set (cli_action.c). */
void cli_page_query(const struct cli_args *a, char *q, size_t qlen);

/* Subcommand handlers; c->args is parsed, c->conn resolved. */
int cli_action_create(struct cli_ctx *c);
int cli_action_update(struct cli_ctx *c);
int cli_action_get(struct cli_ctx *c);
int cli_action_list(struct cli_ctx *c);
int cli_action_delete(struct cli_ctx *c);
int cli_action_invoke(struct cli_ctx *c);
int cli_activation_list(struct cli_ctx *c);
/* cli_confidential.c: --confidential create, update and invoke */
int cli_confidential_create(struct cli_ctx *c);
int cli_confidential_update(struct cli_ctx *c);
int cli_confidential_invoke(struct cli_ctx *c);
/* cli_package.c: tfaas package create|update|get|list|delete|bind */
int cli_package_create(struct cli_ctx *c);
int cli_package_update(struct cli_ctx *c);
int cli_package_get(struct cli_ctx *c);
int cli_package_list(struct cli_ctx *c);
int cli_package_delete(struct cli_ctx *c);
int cli_package_bind(struct cli_ctx *c);
int cli_activation_get(struct cli_ctx *c);
/* cli_trigger.c: triggers (with --feed) and cli_rule.c: rules */
int cli_trigger_create(struct cli_ctx *c);
int cli_trigger_update(struct cli_ctx *c);
int cli_trigger_get(struct cli_ctx *c);
int cli_trigger_list(struct cli_ctx *c);
int cli_trigger_delete(struct cli_ctx *c);
int cli_trigger_fire(struct cli_ctx *c);
int cli_rule_create(struct cli_ctx *c);
int cli_rule_update(struct cli_ctx *c);
int cli_rule_get(struct cli_ctx *c);
int cli_rule_list(struct cli_ctx *c);
int cli_rule_delete(struct cli_ctx *c);
int cli_rule_enable(struct cli_ctx *c);
int cli_rule_disable(struct cli_ctx *c);
/* cli.c: PUT (200 or 201) and DELETE of the action, trigger or rule the
 * first positional word names, printing "ok: VERB WHAT NAME" (or the JSON;
 * nothing for a DELETE with what NULL). */
int cli_put_entity(struct cli_ctx *c, const char *collection, const char *what, json_t *doc, bool overwrite,
                   const char *verb);
int cli_delete_entity(struct cli_ctx *c, const char *collection, const char *what);
/* cli.c: GET of the trigger or rule the first positional word names, printed */
int cli_get_entity(struct cli_ctx *c, const char *collection, const char *what);
/* cli_rule.c: the listing triggers and rules share */
int cli_list_entities(struct cli_ctx *c, const char *collection);
int cli_activation_result(struct cli_ctx *c);
int cli_activation_logs(struct cli_ctx *c);
/* cli_api.c: `tfaas api create|list|delete` (API routes) */
int cli_api_create(struct cli_ctx *c);
int cli_api_list(struct cli_ctx *c);
int cli_api_delete(struct cli_ctx *c);
#endif
