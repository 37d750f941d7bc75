/* cli_args.c - option parsing for the client commands: a table of options,
 * options and positional words in any order (as wsk allows), `--opt=value`,
 * `--` to end options, and wsk's JSON-or-string parameter values. */
#include "host/cli/cli_args.h"
#include "host/cli/cli_file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_id {
    ID_APIHOST, ID_AUTH, ID_JSON, ID_HELP, ID_KIND, ID_MAIN, ID_PARAM, ID_PARAM_FILE,
    ID_ANNOTATION, ID_TIMEOUT, ID_MEMORY, ID_LOGSIZE, ID_CONCURRENCY, ID_CODE,
    ID_LIMIT, ID_SKIP, ID_BLOCKING, ID_RESULT, ID_CONFIDENTIAL, ID_POLICY,
    ID_EXPECT_NS, ID_EXPECT_HASH, ID_EXPECT_VERSION, ID_INVOKER_KEY, ID_SIGN_WITH, ID_SHARED, ID_FEED,
    ID_WEB, ID_SEQUENCE, ID_RESPONSE_TYPE,
};

struct opt_def {
    const char *name; /* long name without "--" */
    char short_name;  /* 0 if none */
    int nargs;        /* words taken after the option: 0, 1 or 2 */
    unsigned group;   /* the enum cli_opt bit that enables it */
    enum opt_id id;
};

static const struct opt_def OPTS[] = {
    {"apihost", 0, 1, CLI_OPT_APIHOST, ID_APIHOST},
    {"auth", 'u', 1, CLI_OPT_AUTH, ID_AUTH},
    {"json", 0, 0, CLI_OPT_JSON, ID_JSON},
    {"help", 'h', 0, CLI_OPT_HELP, ID_HELP},
    {"kind", 0, 1, CLI_OPT_KIND, ID_KIND},
    {"main", 0, 1, CLI_OPT_MAIN, ID_MAIN},
    {"param", 'p', 2, CLI_OPT_PARAM, ID_PARAM},
    {"param-file", 'P', 1, CLI_OPT_PARAM, ID_PARAM_FILE},
    {"annotation", 'a', 2, CLI_OPT_ANNOTATION, ID_ANNOTATION},
    {"timeout", 't', 1, CLI_OPT_LIMITS, ID_TIMEOUT},
    {"memory", 'm', 1, CLI_OPT_LIMITS, ID_MEMORY},
    {"logsize", 'l', 1, CLI_OPT_LIMITS, ID_LOGSIZE},
    {"concurrency", 'c', 1, CLI_OPT_LIMITS, ID_CONCURRENCY},
    {"code", 0, 0, CLI_OPT_CODE, ID_CODE},
    {"limit", 0, 1, CLI_OPT_PAGE, ID_LIMIT},
    {"skip", 0, 1, CLI_OPT_PAGE, ID_SKIP},
    {"blocking", 'b', 0, CLI_OPT_BLOCKING, ID_BLOCKING},
    {"result", 'r', 0, CLI_OPT_BLOCKING, ID_RESULT},
    {"confidential", 0, 0, CLI_OPT_CONFIDENTIAL, ID_CONFIDENTIAL},
    {"policy", 0, 1, CLI_OPT_POLICY, ID_POLICY},
    {"expect-namespace", 0, 1, CLI_OPT_EXPECT, ID_EXPECT_NS},
    {"expect-code-hash", 0, 1, CLI_OPT_EXPECT, ID_EXPECT_HASH},
    {"expect-version", 0, 1, CLI_OPT_EXPECT, ID_EXPECT_VERSION},
    {"invoker-key", 0, 1, CLI_OPT_POLICY, ID_INVOKER_KEY},
    {"sign-with", 0, 1, CLI_OPT_EXPECT, ID_SIGN_WITH},
    {"shared", 0, 1, CLI_OPT_SHARED, ID_SHARED},
    {"feed", 'f', 1, CLI_OPT_FEED, ID_FEED},
    {"web", 0, 1, CLI_OPT_WEB, ID_WEB},
    {"sequence", 0, 1, CLI_OPT_WEB, ID_SEQUENCE},
    {"response-type", 0, 1, CLI_OPT_RESPONSE_TYPE, ID_RESPONSE_TYPE},
};

int cli_parse_count(const char *text, long *out) {
    if (!text || *text < '0' || *text > '9') return -1;
    errno = 0;
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (errno || *end != '\0' || v < 0) return -1;
    *out = v;
    return 0;
}

json_t *cli_param_value(const char *text) {
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (v) return v;
    return json_string(text); /* NULL when not UTF-8 */
}

int cli_params_merge_file(json_t *obj, const char *path, char *err, size_t errlen) {
    char *data = NULL;
    size_t len = 0;
    if (cli_file_read(path, CLI_FILE_MAX, &data, &len, err, errlen)) return -1;
    json_error_t jerr;
    json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    free(data);
    if (!v) {
        snprintf(err, errlen, "%s: not valid JSON (line %d: %s)", path, jerr.line, jerr.text);
        return -1;
    }
    if (!json_is_object(v)) {
        snprintf(err, errlen, "%s: expected a JSON object of parameters", path);
        json_decref(v);
        return -1;
    }
    int rc = json_object_update(obj, v);
    json_decref(v);
    if (rc) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

json_t *cli_keyvalue_array(json_t *obj) {
    json_t *arr = json_array();
    if (!arr) return NULL;
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        json_t *kv = json_pack("{s:s, s:O}", "key", key, "value", value);
        if (!kv || json_array_append_new(arr, kv)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static const struct opt_def *find_long(const char *name, size_t n) {
    for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++)
        if (strlen(OPTS[i].name) == n && strncmp(OPTS[i].name, name, n) == 0) return &OPTS[i];
    return NULL;
}

static const struct opt_def *find_short(char c) {
    for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++)
        if (OPTS[i].short_name && OPTS[i].short_name == c) return &OPTS[i];
    return NULL;
}

static int set_count(const char *opt, const char *text, long *out, char *err, size_t errlen) {
    if (cli_parse_count(text, out)) {
        snprintf(err, errlen, "%s expects a non-negative integer, got '%s'", opt, text);
        return -1;
    }
    return 0;
}

static int add_keyvalue(json_t *obj, const char *opt, const char *key, const char *text,
                        char *err, size_t errlen) {
    if (!*key) {
        snprintf(err, errlen, "%s: the key must not be empty", opt);
        return -1;
    }
    json_t *v = cli_param_value(text);
    if (!v) {
        snprintf(err, errlen, "%s %s: the value is not valid UTF-8", opt, key);
        return -1;
    }
    if (json_object_set_new(obj, key, v)) {
        snprintf(err, errlen, "%s: the key '%s' is not valid UTF-8", opt, key);
        return -1;
    }
    return 0;
}

/* Applies one recognised option with its argument words. */
static int apply(const struct opt_def *o, const char *shown, const char **vals,
                 struct cli_args *a, char *err, size_t errlen) {
    switch (o->id) {
    case ID_APIHOST: a->apihost = vals[0]; return 0;
    case ID_AUTH: a->auth = vals[0]; return 0;
    case ID_JSON: a->json = true; return 0;
    case ID_HELP: a->help = true; return 0;
    case ID_KIND: a->kind = vals[0]; return 0;
    case ID_MAIN: a->main_name = vals[0]; return 0;
    case ID_CODE: a->code = true; return 0;
    case ID_BLOCKING: a->blocking = true; return 0;
    case ID_RESULT: a->result = true; return 0;
    case ID_CONFIDENTIAL: a->confidential = true; return 0;
    case ID_POLICY: a->policy = vals[0]; return 0;
    case ID_EXPECT_NS: a->expect_ns = vals[0]; return 0;
    case ID_EXPECT_HASH: a->expect_code_hash = vals[0]; return 0;
    case ID_INVOKER_KEY:
        if (a->ninvoker_keys == CLI_MAX_INVOKER_KEYS) {
            snprintf(err, errlen, "%s: at most %d invoker keys", shown, CLI_MAX_INVOKER_KEYS);
            return -1;
        }
        a->invoker_keys[a->ninvoker_keys++] = vals[0];
        return 0;
    case ID_SIGN_WITH: a->sign_with = vals[0]; return 0;
    case ID_SHARED: /* wsk's words */
        if (strcmp(vals[0], "yes") && strcmp(vals[0], "no")) {
            snprintf(err, errlen, "%s takes yes or no", shown);
            return -1;
        }
        a->shared = !strcmp(vals[0], "yes");
        return 0;
    case ID_FEED: a->feed = vals[0]; return 0;
    case ID_WEB:
        if (strcmp(vals[0], "true") != 0 && strcmp(vals[0], "false") != 0 && strcmp(vals[0], "raw") != 0) {
            snprintf(err, errlen, "%s must be true, false or raw", shown);
            return -1;
        }
        a->web = vals[0];
        return 0;
    case ID_SEQUENCE: a->sequence = vals[0]; return 0;
    case ID_RESPONSE_TYPE: a->response_type = vals[0]; return 0;
    case ID_EXPECT_VERSION:
        if (set_count(shown, vals[0], &a->expect_version, err, errlen) < 0) return -1;
        if (a->expect_version < 1) {
            snprintf(err, errlen, "%s needs a deploy version of 1 or more", shown);
            return -1;
        }
        return 0;
    case ID_PARAM:
        a->params_given = true;
        return add_keyvalue(a->params, shown, vals[0], vals[1], err, errlen);
    case ID_ANNOTATION:
        a->annotations_given = true;
        return add_keyvalue(a->annotations, shown, vals[0], vals[1], err, errlen);
    case ID_PARAM_FILE:
        a->params_given = true;
        return cli_params_merge_file(a->params, vals[0], err, errlen);
    case ID_TIMEOUT: return set_count(shown, vals[0], &a->timeout_ms, err, errlen);
    case ID_MEMORY: return set_count(shown, vals[0], &a->memory_mb, err, errlen);
    case ID_LOGSIZE: return set_count(shown, vals[0], &a->logsize_mb, err, errlen);
    case ID_CONCURRENCY: return set_count(shown, vals[0], &a->concurrency, err, errlen);
    case ID_LIMIT: return set_count(shown, vals[0], &a->limit, err, errlen);
    case ID_SKIP: return set_count(shown, vals[0], &a->skip, err, errlen);
    }
    snprintf(err, errlen, "internal error: unhandled option %s", shown);
    return -1;
}

static int add_positional(struct cli_args *a, const char *word, int max_pos,
                          char *err, size_t errlen) {
    if (a->npos >= max_pos || a->npos >= CLI_MAX_POSITIONAL) {
        snprintf(err, errlen, "unexpected argument '%s'", word);
        return -1;
    }
    a->pos[a->npos++] = word;
    return 0;
}

static int parse_words(int argc, char **argv, unsigned allowed, int max_pos,
                       struct cli_args *a, char *err, size_t errlen) {
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (options_done || w[0] != '-' || w[1] == '\0') { /* "-" is a word (stdin) */
            if (add_positional(a, w, max_pos, err, errlen)) return -1;
            continue;
        }
        if (strcmp(w, "--") == 0) {
            options_done = true;
            continue;
        }
        const struct opt_def *o;
        const char *inline_val = NULL;
        if (w[1] == '-') {
            const char *name = w + 2, *eq = strchr(name, '=');
            size_t n = eq ? (size_t)(eq - name) : strlen(name);
            o = find_long(name, n);
            if (eq) inline_val = eq + 1;
        } else {
            o = w[2] == '\0' ? find_short(w[1]) : NULL;
        }
        if (!o || !(o->group & allowed)) {
            size_t n = strcspn(w, "=");
            snprintf(err, errlen, "unknown option '%.*s'", (int)(n > 64 ? 64 : n), w);
            return -1;
        }
        const char *vals[2] = {NULL, NULL};
        int need = o->nargs, have = 0;
        if (inline_val) {
            if (need != 1) {
                snprintf(err, errlen, "option --%s does not take '=value'", o->name);
                return -1;
            }
            vals[have++] = inline_val;
        }
        while (have < need) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "option %s needs %s", w,
                         need == 2 ? "KEY and VALUE" : "a value");
                return -1;
            }
            vals[have++] = argv[++i];
        }
        char shown[80];
        if (o->short_name && w[1] != '-') snprintf(shown, sizeof shown, "-%c", o->short_name);
        else snprintf(shown, sizeof shown, "--%s", o->name);
        if (apply(o, shown, vals, a, err, errlen)) return -1;
    }
    return 0;
}

int cli_args_parse(int argc, char **argv, unsigned allowed, int max_pos,
                   struct cli_args *a, char *err, size_t errlen) {
    memset(a, 0, sizeof *a);
    a->timeout_ms = a->memory_mb = a->logsize_mb = a->concurrency = CLI_UNSET;
    a->limit = a->skip = a->expect_version = CLI_UNSET;
    a->shared = -1;
    a->params = json_object();
    a->annotations = json_object();
    if (!a->params || !a->annotations) {
        snprintf(err, errlen, "out of memory");
        cli_args_free(a);
        return -1;
    }
    if (parse_words(argc, argv, allowed, max_pos, a, err, errlen)) {
        cli_args_free(a);
        return -1;
    }
    return 0;
}

void cli_args_free(struct cli_args *a) {
    json_decref(a->params);
    json_decref(a->annotations);
    a->params = a->annotations = NULL;
}

/* cli_args.h */
json_t *cli_limits_json(const struct cli_args *a, json_t *base) {
    json_t *limits = base ? json_deep_copy(base) : json_object();
    if (!limits) return NULL;
    const struct { const char *key; long value; } set[] = {
        {"timeout", a->timeout_ms}, {"memory", a->memory_mb},
        {"logs", a->logsize_mb}, {"concurrency", a->concurrency},
    };
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        if (set[i].value != CLI_UNSET &&
            json_object_set_new(limits, set[i].key, json_integer(set[i].value))) {
            json_decref(limits);
            return NULL;
        }
    return limits;
}
