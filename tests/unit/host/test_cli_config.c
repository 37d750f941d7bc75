/* test_cli_config.c - the client's connection settings: precedence of
 * flags > environment > config file > default, and config files that are
 * missing, malformed or hostile (long lines, no '=', NUL bytes, huge). */
#include "check.h"
#include "host/cli/cli_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char err[512];

/* Writes content to a fresh temp file; the path is in a static buffer. */
static const char *config_file(const char *content, size_t len) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/tfaas-test-config-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    if (write(fd, content, len) != (ssize_t)len) { close(fd); return NULL; }
    close(fd);
    return path;
}

static void test_load(void) {
    const char *text = "# tfaas client\n\n  APIHOST = http://example.test:9000/ \r\n"
                       "NAMESPACE=guest\nAUTH=abc:def=ghi\n";
    const char *path = config_file(text, strlen(text));
    struct cli_config cfg;
    CHECK(cli_config_load(path, &cfg, err, sizeof err) == 0);
    CHECK_STR(cfg.apihost, "http://example.test:9000/");
    CHECK_STR(cfg.auth, "abc:def=ghi"); /* only the first '=' splits */
    cli_config_free(&cfg);
    unlink(path);

    CHECK(cli_config_load("/nonexistent/tfaas/config", &cfg, err, sizeof err) == 1);
    CHECK(cfg.apihost == NULL && cfg.auth == NULL);
}

static void test_hostile(void) {
    struct cli_config cfg;
    const char *no_eq = "APIHOST=http://a\njust some words\n";
    const char *path = config_file(no_eq, strlen(no_eq));
    CHECK(cli_config_load(path, &cfg, err, sizeof err) == -1);
    CHECK(strstr(err, ":2: expected KEY=VALUE") != NULL);
    CHECK(cfg.apihost == NULL); /* nothing half-loaded */
    unlink(path);

    size_t n = CLI_CONFIG_LINE_MAX + 100;
    char *longline = malloc(n);
    memcpy(longline, "AUTH=", 5);
    memset(longline + 5, 'x', n - 6);
    longline[n - 1] = '\n';
    path = config_file(longline, n);
    CHECK(cli_config_load(path, &cfg, err, sizeof err) == -1);
    CHECK(strstr(err, ":1: line longer than") != NULL);
    unlink(path);
    free(longline);

    /* A line of exactly the maximum is fine, with or without its newline. */
    char *maxline = malloc(CLI_CONFIG_LINE_MAX + 1);
    memcpy(maxline, "AUTH=", 5);
    memset(maxline + 5, 'k', CLI_CONFIG_LINE_MAX - 5);
    maxline[5 + 3] = ':';
    maxline[CLI_CONFIG_LINE_MAX] = '\n';
    path = config_file(maxline, CLI_CONFIG_LINE_MAX + 1);
    CHECK(cli_config_load(path, &cfg, err, sizeof err) == 0);
    CHECK(cfg.auth && strlen(cfg.auth) == CLI_CONFIG_LINE_MAX - 5);
    cli_config_free(&cfg);
    unlink(path);
    path = config_file(maxline, CLI_CONFIG_LINE_MAX);
    CHECK(cli_config_load(path, &cfg, err, sizeof err) == 0);
    cli_config_free(&cfg);
    unlink(path);
    free(maxline);

    const char nul[] = "AUTH=a:b\0c\n";
    path = config_file(nul, sizeof nul - 1);
    CHECK(cli_config_load(path, &cfg, err, sizeof err) == -1);
    CHECK(strstr(err, "NUL") != NULL);
    unlink(path);

    /* Many short lines adding up past the size cap. */
    size_t big = CLI_CONFIG_SIZE_MAX + 10;
    char *comments = malloc(big);
    memset(comments, '#', big);
    for (size_t i = 80; i < big; i += 80) comments[i] = '\n';
    path = config_file(comments, big);
    CHECK(cli_config_load(path, &cfg, err, sizeof err) == -1);
    CHECK(strstr(err, "larger than") != NULL);
    unlink(path);
    free(comments);

    CHECK(cli_config_load("/tmp", &cfg, err, sizeof err) == -1); /* a directory */
    CHECK(cli_config_load("/dev/zero", &cfg, err, sizeof err) == -1);
}

static void test_precedence(void) {
    const char *text = "APIHOST=file.test:1\nAUTH=file:key\n";
    const char *p = config_file(text, strlen(text));
    char path[64];
    snprintf(path, sizeof path, "%s", p);
    struct cli_conn c;

    CHECK(cli_conn_resolve("flag.test:3", "flag:key", "http://env.test:2", "env:key", path, &c,
                           err, sizeof err) == 0);
    CHECK_STR(c.apihost, "http://flag.test:3");
    CHECK_STR(c.auth, "flag:key");
    cli_conn_free(&c);

    CHECK(cli_conn_resolve(NULL, NULL, "http://env.test:2", "env:key", path, &c, err, sizeof err) == 0);
    CHECK_STR(c.apihost, "http://env.test:2");
    CHECK_STR(c.auth, "env:key");
    cli_conn_free(&c);

    /* Each setting falls back on its own; empty values count as unset. */
    CHECK(cli_conn_resolve(NULL, "", "", "env:key", path, &c, err, sizeof err) == 0);
    CHECK_STR(c.apihost, "http://file.test:1");
    CHECK_STR(c.auth, "env:key");
    cli_conn_free(&c);

    CHECK(cli_conn_resolve(NULL, NULL, NULL, NULL, path, &c, err, sizeof err) == 0);
    CHECK_STR(c.apihost, "http://file.test:1");
    CHECK_STR(c.auth, "file:key");
    cli_conn_free(&c);

    CHECK(cli_conn_resolve(NULL, NULL, NULL, NULL, "/nonexistent/cfg", &c, err, sizeof err) == 0);
    CHECK_STR(c.apihost, CLI_DEFAULT_APIHOST);
    CHECK(c.auth == NULL);
    cli_conn_free(&c);
    unlink(path);

    /* A broken config file does not matter when flags and env cover everything. */
    const char *bad = "garbage\n";
    p = config_file(bad, strlen(bad));
    snprintf(path, sizeof path, "%s", p);
    CHECK(cli_conn_resolve("h:1", "a:b", NULL, NULL, path, &c, err, sizeof err) == 0);
    cli_conn_free(&c);
    CHECK(cli_conn_resolve("h:1", NULL, NULL, NULL, path, &c, err, sizeof err) == -1);
    CHECK(strstr(err, "expected KEY=VALUE") != NULL);
    unlink(path);

    CHECK(cli_conn_resolve("h:1", "no-colon", NULL, NULL, NULL, &c, err, sizeof err) == -1);
    CHECK(strstr(err, "UUID:KEY") != NULL);
    CHECK(cli_conn_resolve("http://a b", "a:b", NULL, NULL, NULL, &c, err, sizeof err) == -1);
    CHECK(strstr(err, "invalid apihost") != NULL);
}

static void test_normalise(void) {
    char *s = cli_apihost_normalise("localhost:3233");
    CHECK_STR(s, "http://localhost:3233");
    free(s);
    s = cli_apihost_normalise("https://faas.example///");
    CHECK_STR(s, "https://faas.example");
    free(s);
    CHECK(cli_apihost_normalise("") == NULL);
    CHECK(cli_apihost_normalise("///") == NULL);
    CHECK(cli_apihost_normalise("http://x\n") == NULL);
    /* found by fuzz_cli_config: a scheme with no host became "l:" */
    CHECK(cli_apihost_normalise("l://") == NULL);
    CHECK(cli_apihost_normalise("https:///") == NULL);
    CHECK(cli_apihost_normalise("://host") == NULL);
}

static void test_default_path(void) {
    setenv("TFAAS_CONFIG", "/etc/custom-tfaas", 1);
    char *p = cli_config_default_path();
    CHECK_STR(p, "/etc/custom-tfaas");
    free(p);
    unsetenv("TFAAS_CONFIG");
    setenv("HOME", "/home/someone", 1);
    p = cli_config_default_path();
    CHECK_STR(p, "/home/someone/.tfaas/config");
    free(p);
    unsetenv("HOME");
    CHECK(cli_config_default_path() == NULL);
}

int main(void) {
    test_load();
    test_hostile();
    test_precedence();
    test_normalise();
    test_default_path();
    return CHECK_DONE();
}
