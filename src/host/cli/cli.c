/* cli.c - entry point of the wsk-like client (`tfaas action ...`,
 * `tfaas activation ...`, `tfaas trigger ...`, `tfaas rule ...`, `tfaas api
 * ...`): the subcommand table, help and usage text, connection set-up, and
 * the shared API call, entity PUT/GET/DELETE and error reporting. */
#include "host/cli/cli_cmd.h"
#include "host/cli/cli_output.h"
#include "host/commands.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct subcmd {
    const char *group, *name;
    unsigned opts;
    int min_pos, max_pos;
    const char *args;    /* positional part of the usage line */
    const char *summary; /* one line for the group's help */
    int (*run)(struct cli_ctx *);
};

#define ACTION_DEF_OPTS (CLI_OPT_COMMON | CLI_OPT_KIND | CLI_OPT_MAIN | CLI_OPT_PARAM | \
                         CLI_OPT_ANNOTATION | CLI_OPT_LIMITS)

static const struct subcmd SUBCMDS[] = {
    {"action", "create", ACTION_DEF_OPTS | CLI_OPT_CONFIDENTIAL | CLI_OPT_POLICY | CLI_OPT_WEB, 1, 2, "NAME [FILE]", "create an action from a code file (\"-\": stdin; a zip archive makes a zip action, nodejs:default unless --kind), or a sequence (--sequence, no FILE)", cli_action_create},
    {"action", "update", ACTION_DEF_OPTS | CLI_OPT_CONFIDENTIAL | CLI_OPT_POLICY | CLI_OPT_WEB, 1, 2, "NAME [FILE]", "update an action (created when missing)", cli_action_update},
    {"action", "get", CLI_OPT_COMMON | CLI_OPT_CODE, 1, 1, "NAME", "show an action", cli_action_get},
    {"action", "list", CLI_OPT_COMMON | CLI_OPT_PAGE, 0, 0, "", "list actions", cli_action_list},
    {"action", "delete", CLI_OPT_COMMON, 1, 1, "NAME", "delete an action", cli_action_delete},
    {"action", "invoke", CLI_OPT_COMMON | CLI_OPT_PARAM | CLI_OPT_BLOCKING | CLI_OPT_CONFIDENTIAL | CLI_OPT_EXPECT, 1, 1, "NAME", "invoke an action", cli_action_invoke},
    {"package", "create", CLI_OPT_COMMON | CLI_OPT_PARAM | CLI_OPT_ANNOTATION | CLI_OPT_SHARED, 1, 1, "NAME", "create a package", cli_package_create},
    {"package", "update", CLI_OPT_COMMON | CLI_OPT_PARAM | CLI_OPT_ANNOTATION | CLI_OPT_SHARED, 1, 1, "NAME", "update a package (created when missing)", cli_package_update},
    {"package", "get", CLI_OPT_COMMON, 1, 1, "NAME", "show a package (/NS/NAME: another namespace's shared one) and its actions", cli_package_get},
    {"package", "list", CLI_OPT_COMMON | CLI_OPT_PAGE, 0, 1, "[/NS]", "list packages (another namespace's: its shared ones)", cli_package_list},
    {"package", "delete", CLI_OPT_COMMON, 1, 1, "NAME", "delete a package (it must hold no actions)", cli_package_delete},
    {"package", "bind", CLI_OPT_COMMON | CLI_OPT_PARAM | CLI_OPT_ANNOTATION, 2, 2, "/NS/PACKAGE NAME", "bind a shared package under NAME with its own parameters", cli_package_bind},
    {"activation", "list", CLI_OPT_COMMON | CLI_OPT_PAGE, 0, 1, "[ACTION]", "list activations, newest first", cli_activation_list},
    {"activation", "get", CLI_OPT_COMMON, 1, 1, "ID", "show an activation record", cli_activation_get},
    {"activation", "result", CLI_OPT_COMMON, 1, 1, "ID", "show the result of an activation", cli_activation_result},
    {"activation", "logs", CLI_OPT_COMMON, 1, 1, "ID", "show the logs of an activation", cli_activation_logs},
    {"trigger", "create", CLI_OPT_COMMON | CLI_OPT_PARAM | CLI_OPT_ANNOTATION | CLI_OPT_FEED, 1, 1, "NAME", "create a trigger (with --feed, the feed's schedule)", cli_trigger_create},
    {"trigger", "update", CLI_OPT_COMMON | CLI_OPT_PARAM | CLI_OPT_ANNOTATION, 1, 1, "NAME", "update a trigger (created when missing)", cli_trigger_update},
    {"trigger", "get", CLI_OPT_COMMON, 1, 1, "NAME", "show a trigger and its rules", cli_trigger_get},
    {"trigger", "list", CLI_OPT_COMMON | CLI_OPT_PAGE, 0, 0, "", "list triggers", cli_trigger_list},
    {"trigger", "delete", CLI_OPT_COMMON, 1, 1, "NAME", "delete a trigger (and its feed's schedule)", cli_trigger_delete},
    {"trigger", "fire", CLI_OPT_COMMON | CLI_OPT_PARAM, 1, 1, "NAME", "fire a trigger with the parameters as payload", cli_trigger_fire},
    {"rule", "create", CLI_OPT_COMMON, 3, 3, "NAME TRIGGER ACTION", "create a rule: TRIGGER fires ACTION", cli_rule_create},
    {"rule", "update", CLI_OPT_COMMON, 3, 3, "NAME TRIGGER ACTION", "update a rule (created when missing)", cli_rule_update},
    {"rule", "get", CLI_OPT_COMMON, 1, 1, "NAME", "show a rule", cli_rule_get},
    {"rule", "list", CLI_OPT_COMMON | CLI_OPT_PAGE, 0, 0, "", "list rules", cli_rule_list},
    {"rule", "delete", CLI_OPT_COMMON, 1, 1, "NAME", "delete a rule", cli_rule_delete},
    {"rule", "enable", CLI_OPT_COMMON, 1, 1, "NAME", "enable a rule", cli_rule_enable},
    {"rule", "disable", CLI_OPT_COMMON, 1, 1, "NAME", "disable a rule", cli_rule_disable},
    {"api", "create", CLI_OPT_COMMON | CLI_OPT_RESPONSE_TYPE, 4, 4, "BASEPATH RELPATH VERB ACTION", "serve a web action at /apigw/{namespace}BASEPATH RELPATH", cli_api_create},
    {"api", "list", CLI_OPT_COMMON, 0, 1, "[BASEPATH]", "list API routes", cli_api_list},
    {"api", "delete", CLI_OPT_COMMON, 1, 3, "BASEPATH [RELPATH [VERB]]", "delete API routes", cli_api_delete},
};
#define NSUBCMDS (sizeof SUBCMDS / sizeof SUBCMDS[0])

struct opt_help {
    unsigned group;
    const char *text;
};

static const struct opt_help OPT_HELP[] = {
    {CLI_OPT_KIND, "  --kind KIND            runtime kind (default js:duktape; also js:v8, nodejs:*)"},
    {CLI_OPT_MAIN, "  --main NAME            the function to call (default main)"},
    {CLI_OPT_PARAM, "  -p, --param KEY VALUE  a parameter; VALUE is JSON when it parses, else a string"},
    {CLI_OPT_PARAM, "  -P, --param-file FILE  parameters from a JSON object in FILE"},
    {CLI_OPT_ANNOTATION, "  -a, --annotation KEY VALUE  an annotation (VALUE as for -p)"},
    {CLI_OPT_LIMITS, "  -t, --timeout MS       time limit per invocation in milliseconds"},
    {CLI_OPT_LIMITS, "  -m, --memory MB        memory limit in megabytes"},
    {CLI_OPT_LIMITS, "  -l, --logsize MB       log size limit in megabytes"},
    {CLI_OPT_LIMITS, "  -c, --concurrency N    activations one instance may run at once"},
    {CLI_OPT_CODE, "  --code                 include the action's code"},
    {CLI_OPT_SHARED, "  --shared yes|no        publish the package to every namespace (default no)"},
    {CLI_OPT_PAGE, "  --limit N              at most N entries"},
    {CLI_OPT_PAGE, "  --skip N               skip the first N entries"},
    {CLI_OPT_BLOCKING, "  -b, --blocking         wait for the activation to finish"},
    {CLI_OPT_BLOCKING, "  -r, --result           wait and print only the result (implies --blocking)"},
    {CLI_OPT_WEB, "  --web true|false|raw   a web action (annotation web-export; raw: raw-http too),\n"
                  "                         served without credentials at\n"
                  "                         /api/v1/web/NAMESPACE/default/NAME[.json|.html|.http|...]\n"
                  "  --sequence A,B,...     a sequence of these actions (no FILE): each result is the\n"
                  "                         next one's parameters"},
    {CLI_OPT_RESPONSE_TYPE, "  --response-type TYPE   what the route answers: json (default), http, html, svg, text"},
    {CLI_OPT_CONFIDENTIAL, "  --confidential         end-to-end encrypted: code and data only reach attested\n"
                           "                         enclaves (run `tfaas attest` first; docs/protocol.md).\n"
                           "                         With create/update, -p/-P are secrets sealed to the key\n"
                           "                         service with the code; update needs FILE and redeploys\n"
                           "                         with a new version (secrets: only those given)"},
    {CLI_OPT_POLICY, "  --policy FILE|JSON     with --confidential: {\"measurements\": [HEX, ...],\n"
                     "                         \"engine\": \"duktape\"|\"v8\"} of workers allowed the keys\n"
                     "                         (default: the worker measurement `tfaas attest` pinned\n"
                     "                         for the kind's engine, and that engine)"},
    {CLI_OPT_POLICY, "  --invoker-key FILE.pem with --confidential: only requests signed by this P-256\n"
                     "                         key (SubjectPublicKeyInfo PEM; up to 16 of them) run, and\n"
                     "                         the function is also served on the public route"},
    {CLI_OPT_EXPECT, "  --expect-namespace NS  with --confidential: the function's namespace, code\n"
                     "  --expect-code-hash HEX hash (SHA-256) and deploy version its owner published;\n"
                     "  --expect-version N     they replace what `action create --confidential` pinned\n"
                     "                         here. Without a pin, namespace and code hash are needed"},
    {CLI_OPT_EXPECT, "  --sign-with KEY.pem    with --confidential: sign the request (inside the encryption)\n"
                     "                         with this invoker key (P-256 PEM), for functions whose\n"
                     "                         policy names invoker keys; without credentials the call\n"
                     "                         goes to the public route of the expected namespace"},
    {CLI_OPT_FEED, "  -f, --feed /NS/PKG/NAME  the feed that fires the trigger, e.g.\n"
                   "                         /whisk.system/alarms/alarm (-p cron '*/5 * * * *'),\n"
                   "                         .../once (-p date ISO-8601) or .../interval (-p minutes N);\n"
                   "                         the parameters go to the feed, not the trigger"},
    {CLI_OPT_APIHOST, "  --apihost URL          API host (env TFAAS_APIHOST, APIHOST= in the config file)"},
    {CLI_OPT_AUTH, "  -u, --auth UUID:KEY    credentials (env TFAAS_AUTH, AUTH= in the config file)"},
    {CLI_OPT_JSON, "  --json                 print the server's JSON as it is"},
    {CLI_OPT_HELP, "  -h, --help             show this help"},
};

static void usage_line(FILE *f, const struct subcmd *s) {
    fprintf(f, "usage: tfaas %s %s%s%s [options]\n", s->group, s->name, *s->args ? " " : "", s->args);
}

static void subcmd_help(const struct subcmd *s) {
    usage_line(stdout, s);
    printf("\n%c%s.\n\noptions:\n", s->summary[0] - 'a' + 'A', s->summary + 1);
    for (size_t i = 0; i < sizeof OPT_HELP / sizeof OPT_HELP[0]; i++)
        if (OPT_HELP[i].group & s->opts) puts(OPT_HELP[i].text);
    puts("\nConfig file: $TFAAS_CONFIG or ~/.tfaas/config, lines APIHOST=... and AUTH=...");
}

static void group_help(FILE *f, const char *group) {
    fprintf(f, "usage: tfaas %s SUBCOMMAND [ARGS] [options]\n\nsubcommands:\n", group);
    for (size_t i = 0; i < NSUBCMDS; i++)
        if (!strcmp(SUBCMDS[i].group, group))
            fprintf(f, "  %-8s %-16s %s\n", SUBCMDS[i].name, SUBCMDS[i].args, SUBCMDS[i].summary);
    if (!strcmp(group, "action"))
        fputs("\nNAME is NAME, PKG/NAME (an action in a package or binding) or /NS/PKG/NAME\n"
              "(another namespace's shared package, e.g. /whisk.system/utils/echo).\n", f);
    fprintf(f, "\n`tfaas %s SUBCOMMAND --help` describes each one.\n", group);
}

static int connect_ctx(struct cli_ctx *c) {
    char *config = cli_config_default_path();
    char err[512];
    int rc = cli_conn_resolve(c->args.apihost, c->args.auth, getenv("TFAAS_APIHOST"),
                              getenv("TFAAS_AUTH"), config, &c->conn, err, sizeof err);
    free(config);
    if (rc) {
        fprintf(stderr, "error: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    /* A signed confidential invocation may go without credentials, to the
     * public route (protocol.md §6.7). */
    if (!c->conn.auth && !(c->args.confidential && c->args.sign_with)) {
        fprintf(stderr, "error: no credentials: use --auth UUID:KEY, set TFAAS_AUTH, "
                        "or put AUTH=UUID:KEY in ~/.tfaas/config\n");
        cli_conn_free(&c->conn);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static int run_subcmd(const struct subcmd *s, int argc, char **argv) {
    struct cli_ctx c;
    memset(&c, 0, sizeof c);
    char err[512];
    if (cli_args_parse(argc, argv, s->opts, s->max_pos, &c.args, err, sizeof err)) {
        fprintf(stderr, "tfaas %s %s: %s\n", s->group, s->name, err);
        usage_line(stderr, s);
        return CLI_EXIT_USAGE;
    }
    int rc;
    if (c.args.help) {
        subcmd_help(s);
        rc = CLI_EXIT_OK;
    } else if (c.args.npos < s->min_pos) {
        fprintf(stderr, "tfaas %s %s: missing %s\n", s->group, s->name, s->args);
        usage_line(stderr, s);
        rc = CLI_EXIT_USAGE;
    } else if ((rc = connect_ctx(&c)) == 0) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = s->run(&c);
        cli_conn_free(&c.conn);
        curl_global_cleanup();
    }
    cli_args_free(&c.args);
    return rc;
}

int cli_main(int argc, char **argv) {
    const char *group = argv[0];
    if (argc < 2) {
        group_help(stderr, group);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
        group_help(stdout, group);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < NSUBCMDS; i++)
        if (!strcmp(SUBCMDS[i].group, group) && !strcmp(SUBCMDS[i].name, name))
            return run_subcmd(&SUBCMDS[i], argc - 2, argv + 2);
    fprintf(stderr, "tfaas %s: unknown subcommand '%s'\n", group, name);
    group_help(stderr, group);
    return CLI_EXIT_USAGE;
}

int cli_api(struct cli_ctx *c, const char *method, const char *collection,
            const char *name, const char *suffix, const char *query, json_t *body,
            long timeout_s, struct cli_reply *r) {
    memset(r, 0, sizeof *r);
    /* c->ns (a feed's whisk.system) wins; else a name "/NS/REST" picks the namespace */
    char *url = c->ns ? cli_url_build_ns(c->conn.apihost, c->ns, collection, name, suffix, query)
                      : cli_url_build(c->conn.apihost, collection, name, suffix, query);
    if (!url) {
        fprintf(stderr, "error: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    int rc = cli_api_url(c, method, url, body, timeout_s, r);
    free(url);
    return rc;
}

int cli_api_url(struct cli_ctx *c, const char *method, const char *url, json_t *body, long timeout_s,
                struct cli_reply *r) {
    memset(r, 0, sizeof *r);
    char *text = NULL;
    if (body && !(text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY))) {
        fprintf(stderr, "error: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    char err[CURL_ERROR_SIZE + 64];
    int rc = cli_http_request(method, url, c->conn.auth, text, timeout_s, &r->raw, err, sizeof err);
    free(text);
    if (rc) {
        fprintf(stderr, "error: cannot reach the tfaas API at %s: %s\n"
                        "(is `tfaas serve` running there? see --apihost / TFAAS_APIHOST)\n",
                c->conn.apihost, err);
        return CLI_EXIT_FAIL;
    }
    r->status = r->raw.status;
    json_error_t jerr;
    r->json = json_loadb(r->raw.body, r->raw.len, JSON_DECODE_ANY, &jerr);
    return 0;
}

int cli_put_entity(struct cli_ctx *c, const char *collection, const char *what, json_t *doc, bool overwrite,
                   const char *verb) {
    const char *name = c->args.pos[0];
    struct cli_reply r;
    int rc = cli_api(c, "PUT", collection, name, NULL, overwrite ? "overwrite=true" : NULL, doc, CLI_HTTP_TIMEOUT_S, &r);
    if (rc) return rc;
    if (r.status != 200 && r.status != 201) rc = cli_report_error(&r);
    else if (c->args.json) cli_print_raw(stdout, r.raw.body, r.raw.len);
    else printf("ok: %s %s %s\n", verb, what, name);
    cli_reply_free(&r);
    return rc;
}

int cli_get_entity(struct cli_ctx *c, const char *collection, const char *what) {
    struct cli_reply r;
    int rc = cli_api(c, "GET", collection, c->args.pos[0], NULL, NULL, NULL, CLI_HTTP_TIMEOUT_S, &r);
    if (rc) return rc;
    if (r.status != 200 || !json_is_object(r.json)) rc = cli_report_error(&r);
    else if (c->args.json) cli_print_raw(stdout, r.raw.body, r.raw.len);
    else {
        printf("ok: got %s %s\n", what, c->args.pos[0]);
        cli_print_json(stdout, r.json);
    }
    cli_reply_free(&r);
    return rc;
}

int cli_delete_entity(struct cli_ctx *c, const char *collection, const char *what) {
    struct cli_reply r;
    int rc = cli_api(c, "DELETE", collection, c->args.pos[0], NULL, NULL, NULL, CLI_HTTP_TIMEOUT_S, &r);
    if (rc) return rc;
    if (r.status != 200) rc = cli_report_error(&r);
    else if (!what) ; /* quiet: an undo */
    else if (c->args.json) cli_print_raw(stdout, r.raw.body, r.raw.len);
    else printf("ok: deleted %s %s\n", what, c->args.pos[0]);
    cli_reply_free(&r);
    return rc;
}

void cli_reply_free(struct cli_reply *r) {
    json_decref(r->json);
    r->json = NULL;
    cli_http_response_free(&r->raw);
}

int cli_report_error(const struct cli_reply *r) {
    const char *msg = cli_json_str(r->json, "error", NULL);
    json_t *code = json_object_get(r->json, "code");
    if (msg && json_is_string(code))
        fprintf(stderr, "error: %s (code: %s)\n", msg, json_string_value(code));
    else if (msg && json_is_integer(code))
        fprintf(stderr, "error: %s (code: %" JSON_INTEGER_FORMAT ")\n", msg, json_integer_value(code));
    else if (msg)
        fprintf(stderr, "error: %s (HTTP %ld)\n", msg, r->status);
    else
        fprintf(stderr, "error: the server answered HTTP %ld%s%.200s\n", r->status,
                r->raw.len ? ": " : "", r->raw.len ? r->raw.body : "");
    return CLI_EXIT_FAIL;
}
