/* cli_config.c - the client's connection settings: config file parsing with
 * hard limits, and precedence between flags, environment and file. */
#include "host/cli/cli_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

void cli_config_free(struct cli_config *c) {
    free(c->apihost);
    free(c->auth);
    c->apihost = c->auth = NULL;
}

/* Handles one line (already without its newline). 0 or -1 (err set). */
static int config_line(char *line, const char *path, int lineno, struct cli_config *out,
                       char *err, size_t errlen) {
    char *s = trim(line);
    if (*s == '\0' || *s == '#') return 0;
    char *eq = strchr(s, '=');
    if (!eq) {
        snprintf(err, errlen, "%s:%d: expected KEY=VALUE", path, lineno);
        return -1;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    char **slot = NULL;
    if (strcmp(key, "APIHOST") == 0) slot = &out->apihost;
    else if (strcmp(key, "AUTH") == 0) slot = &out->auth;
    else return 0; /* other keys (e.g. from a shared .wskprops) are not ours */
    char *copy = strdup(value);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

int cli_config_read(FILE *f, const char *path, struct cli_config *out, char *err, size_t errlen) {
    out->apihost = out->auth = NULL;
    char line[CLI_CONFIG_LINE_MAX + 2]; /* the line, its newline, the NUL */
    size_t total = 0;
    int lineno = 0, rc = 0;
    while (rc == 0) {
        /* fgets cannot report NUL bytes, so read the line by hand. */
        size_t n = 0;
        int c = EOF;
        while (n < sizeof line - 1 && (c = fgetc(f)) != EOF) {
            if (c == '\0') break;
            line[n++] = (char)c;
            if (c == '\n') break;
        }
        if (n == 0 && c == EOF) break;
        lineno++;
        total += n;
        line[n] = '\0';
        if (c == '\0') {
            snprintf(err, errlen, "%s:%d: contains a NUL byte", path, lineno);
            rc = -1;
        } else if (total > CLI_CONFIG_SIZE_MAX) {
            snprintf(err, errlen, "%s: larger than %d KiB", path, CLI_CONFIG_SIZE_MAX / 1024);
            rc = -1;
        } else if (n == sizeof line - 1 && line[n - 1] != '\n') {
            snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, lineno,
                     CLI_CONFIG_LINE_MAX);
            rc = -1;
        } else {
            rc = config_line(line, path, lineno, out, err, errlen);
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc) cli_config_free(out);
    return rc;
}

int cli_config_load(const char *path, struct cli_config *out, char *err, size_t errlen) {
    out->apihost = out->auth = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return 1;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = cli_config_read(f, path, out, err, errlen);
    fclose(f);
    return rc;
}

char *cli_apihost_normalise(const char *apihost) {
    if (!apihost) return NULL;
    for (const unsigned char *p = (const unsigned char *)apihost; *p; p++)
        if (*p <= ' ' || *p == 0x7f) return NULL;
    size_t n = strlen(apihost);
    while (n && apihost[n - 1] == '/') n--;
    if (n == 0) return NULL;
    /* "http://" or "://host" would lose or lack the scheme once normalised */
    const char *sep = strstr(apihost, "://");
    if (sep && (sep == apihost || (size_t)(sep - apihost) + 3 >= n)) return NULL;
    const char *scheme = sep ? "" : "http://";
    size_t total = strlen(scheme) + n + 1;
    char *out = malloc(total);
    if (!out) return NULL;
    snprintf(out, total, "%s%.*s", scheme, (int)n, apihost);
    return out;
}

static const char *pick(const char *a, const char *b) {
    return a && *a ? a : b && *b ? b : NULL;
}

int cli_conn_resolve(const char *flag_apihost, const char *flag_auth,
                     const char *env_apihost, const char *env_auth,
                     const char *config_path, struct cli_conn *out,
                     char *err, size_t errlen) {
    out->apihost = out->auth = NULL;
    const char *apihost = pick(flag_apihost, env_apihost);
    const char *auth = pick(flag_auth, env_auth);
    struct cli_config cfg = {NULL, NULL};
    if ((!apihost || !auth) && config_path) {
        if (cli_config_load(config_path, &cfg, err, errlen) < 0) return -1;
        if (!apihost) apihost = pick(cfg.apihost, NULL);
        if (!auth) auth = pick(cfg.auth, NULL);
    }
    if (!apihost) apihost = CLI_DEFAULT_APIHOST;
    int rc = 0;
    out->apihost = cli_apihost_normalise(apihost);
    if (!out->apihost) {
        snprintf(err, errlen, "invalid apihost '%.200s'", apihost);
        rc = -1;
    } else if (auth && !strchr(auth, ':')) {
        snprintf(err, errlen, "invalid auth key: expected UUID:KEY");
        rc = -1;
    } else if (auth && !(out->auth = strdup(auth))) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    cli_config_free(&cfg);
    if (rc) cli_conn_free(out);
    return rc;
}

void cli_conn_free(struct cli_conn *c) {
    free(c->apihost);
    free(c->auth);
    c->apihost = c->auth = NULL;
}

char *cli_config_default_path(void) {
    const char *p = getenv("TFAAS_CONFIG");
    if (p && *p) return strdup(p);
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    size_t n = strlen(home) + sizeof "/.tfaas/config";
    char *out = malloc(n);
    if (out) snprintf(out, n, "%s/.tfaas/config", home);
    return out;
}
