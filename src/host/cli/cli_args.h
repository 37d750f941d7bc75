/* cli_args.h - command-line parsing for the wsk-like client commands
 * (`tfaas action|activation|trigger|rule ...`): the option table, the parsed
 * result, and wsk's parameter rules (-p KEY VALUE: JSON when it parses,
 * otherwise a string; -P FILE: a JSON object of parameters). */
#ifndef TFAAS_HOST_CLI_ARGS_H
#define TFAAS_HOST_CLI_ARGS_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* One bit per option; a subcommand says which ones it accepts. */
enum cli_opt {
    CLI_OPT_APIHOST = 1u << 0,
    CLI_OPT_AUTH = 1u << 1,
    CLI_OPT_JSON = 1u << 2,
    CLI_OPT_HELP = 1u << 3,
    CLI_OPT_KIND = 1u << 4,
    CLI_OPT_MAIN = 1u << 5,
    CLI_OPT_PARAM = 1u << 6,       /* -p KEY VALUE and -P FILE */
    CLI_OPT_ANNOTATION = 1u << 7,  /* -a KEY VALUE */
    CLI_OPT_LIMITS = 1u << 8,      /* --timeout --memory --logsize --concurrency */
    CLI_OPT_CODE = 1u << 9,
    CLI_OPT_PAGE = 1u << 10,       /* --limit --skip */
    CLI_OPT_BLOCKING = 1u << 11,   /* --blocking --result */
    CLI_OPT_CONFIDENTIAL = 1u << 12, /* --confidential */
    CLI_OPT_POLICY = 1u << 13,     /* --policy FILE|JSON --invoker-key FILE.pem */
    CLI_OPT_EXPECT = 1u << 14,     /* --expect-namespace --expect-code-hash --expect-version --sign-with */
    CLI_OPT_SHARED = 1u << 15,     /* --shared yes|no (packages) */
    CLI_OPT_FEED = 1u << 16,       /* --feed /NS/PKG/NAME */
    CLI_OPT_WEB = 1u << 17,        /* --web true|false|raw, --sequence A,B,... */
    CLI_OPT_RESPONSE_TYPE = 1u << 18, /* --response-type http|json|html|svg|text (api create) */
};
/* Options every subcommand takes. */
#define CLI_OPT_COMMON (CLI_OPT_APIHOST | CLI_OPT_AUTH | CLI_OPT_JSON | CLI_OPT_HELP)

#define CLI_MAX_POSITIONAL 4
#define CLI_MAX_INVOKER_KEYS 16 /* POLICY_MAX_INVOKERS */
#define CLI_UNSET (-1L)

/* The parsed command line. Strings point into argv (not owned);
 * params and annotations are owned JSON objects (always non-NULL after a
 * successful parse) released by cli_args_free. */
struct cli_args {
    const char *apihost, *auth;
    bool json, help, code, blocking, result, confidential;
    const char *policy; /* --policy: a JSON object text, or a file holding one */
    /* --expect-*: the confidential function an invoker was told to expect
     * (NULL / CLI_UNSET if absent) */
    const char *expect_ns, *expect_code_hash;
    long expect_version;
    /* --invoker-key: PEM files of the invoker keys a policy names;
     * --sign-with: the invoker's private key PEM that signs a request */
    const char *invoker_keys[CLI_MAX_INVOKER_KEYS];
    size_t ninvoker_keys;
    const char *sign_with;
    const char *kind, *main_name;
    const char *feed; /* --feed: the feed action of a trigger */
    const char *web;            /* --web: "true", "false" or "raw"; NULL if absent */
    const char *sequence;       /* --sequence: comma-separated action names; NULL if absent */
    const char *response_type;  /* --response-type; NULL if absent */
    long timeout_ms, memory_mb, logsize_mb, concurrency; /* CLI_UNSET if absent */
    long limit, skip;                                    /* CLI_UNSET if absent */
    int shared;                                          /* --shared: 1 yes, 0 no, -1 absent */
    json_t *params, *annotations;
    bool params_given, annotations_given;
    const char *pos[CLI_MAX_POSITIONAL];
    int npos;
};

/* Parses argv[0..argc) (the words after the subcommand) accepting only the
 * options in `allowed` and at most max_pos positional words. Returns 0, or -1
 * with a one-line reason in err (a usage error). On -1, *a is freed. */
int cli_args_parse(int argc, char **argv, unsigned allowed, int max_pos,
                   struct cli_args *a, char *err, size_t errlen);
void cli_args_free(struct cli_args *a);

/* wsk's value rule: the JSON value text denotes, or the text as a string when it
 * is not JSON. Returns a new reference, or NULL if the text is not valid UTF-8. */
json_t *cli_param_value(const char *text);

/* Merges the JSON object in file `path` ("-" for stdin) into obj (its keys
 * win over earlier ones). Returns 0, or -1 with the reason in err. */
int cli_params_merge_file(json_t *obj, const char *path, char *err, size_t errlen);

/* Turns {"k": v, ...} into OpenWhisk's [{"key": "k", "value": v}, ...]. New ref. */
json_t *cli_keyvalue_array(json_t *obj);

/* The action limits the flags set (--timeout, --memory, --logsize,
 * --concurrency) on top of base (which may be NULL). New ref, NULL on OOM. */
json_t *cli_limits_json(const struct cli_args *a, json_t *base);

/* Parses a non-negative decimal integer that fits a long. 0 or -1. */
int cli_parse_count(const char *text, long *out);
#endif
